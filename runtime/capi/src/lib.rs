//! `pol-capi`: the C ABI of the Pol runtime.
//!
//! A C host (or any language with a C FFI) loads a bundle written by
//! `polc build`, looks up entrypoints, and evaluates JSON requests into
//! decisions. The declarations are in `include/pol.h`, generated from this
//! crate by cbindgen (`build.rs`); `tests/header.rs` checks that the
//! committed header is current. `examples/c/main.c` is a complete host.
//!
//! The contract every function keeps:
//!
//! - **No panic crosses the boundary.** Each body runs under
//!   `catch_unwind`; a panic (a bug) becomes `POL_STATUS_PANIC` with a
//!   message, or a neutral result (deny, NULL, 0) for accessors.
//! - **Every pointer is checked for NULL** before use; a NULL where one is
//!   required is `POL_STATUS_INVALID_ARGUMENT`.
//! - **Errors are a status plus a message** (`PolError`), and a malformed
//!   request is not an error: it is a deny decision that says why.
//! - **Ownership is explicit**: what a `pol_*_load`/`pol_evaluate` call
//!   creates, the caller frees with the matching `pol_*_free`; strings
//!   returned by accessors belong to the object they were read from.
//! - **Engines are thread-safe**, hot swap included; a decision holds the
//!   revision that made it, so it stays valid across a swap.
//!
//! This crate and `pol-jit` are the only ones allowed `unsafe`: here, to
//! read the pointers C passes. Each `unsafe` block says what makes it
//! sound; most rest on the `# Safety` contract of the function they are
//! in, which the header repeats for C callers.

// cbindgen writes the header's functions in the order it reads them: the
// items of this file, then these modules in this order (kept apart so
// rustfmt does not sort them).
mod error;

mod engine;

mod decision;

mod args;

use std::ffi::c_char;

pub use decision::{
    PolDecision, PolEffect, pol_decision_effect, pol_decision_error, pol_decision_free,
    pol_decision_json, pol_decision_reason, pol_decision_reason_count,
    pol_decision_requires_approval, pol_decision_revision, pol_evaluate,
};
pub use engine::{
    PolEngine, PolLimits, PolLoadOptions, pol_engine_free, pol_engine_load, pol_engine_load_bundle,
    pol_engine_load_bundle_file, pol_engine_load_file, pol_engine_load_with, pol_engine_revision,
    pol_entrypoint, pol_limits_default,
};
pub use error::{PolError, PolStatus, pol_error_code, pol_error_free, pol_error_message};

// The header promises that an engine may be shared by threads and that
// decisions and errors may be read from any thread: checked here.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<PolEngine>();
    shared::<PolDecision>();
    shared::<PolError>();
};

const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The version of the Pol runtime this library was built from, such as
/// `0.1.0`. A static string: never free it.
#[unsafe(no_mangle)]
pub extern "C" fn pol_version() -> *const c_char {
    // No `catch_unwind` here: returning a static's address cannot panic.
    VERSION.as_ptr().cast()
}
