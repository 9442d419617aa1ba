//! `eval_json`: any JSON text, and mutations of valid inputs, against the
//! standard library's entrypoints on both engines: always a well-formed
//! decision, a refused input always a deny with an error
//! (`pol_gen::fuzz::EvalJsonTarget`).

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pol_gen::fuzz::EvalJsonTarget;

thread_local! {
    // The standard library, compiled and loaded on both engines once.
    static TARGET: RefCell<EvalJsonTarget> = RefCell::new(EvalJsonTarget::new());
}

fuzz_target!(|data: &[u8]| {
    TARGET.with_borrow_mut(|target| target.run(data));
});
