//! `bundle_load`: any bytes, and valid bundles with bytes changed, into
//! `Engine::from_bundle`; what loads runs on the JIT and the interpreter
//! (`pol_gen::fuzz::BundleLoadTarget`).

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pol_gen::fuzz::BundleLoadTarget;

thread_local! {
    // The valid bundles that mutations start from, built once.
    static TARGET: RefCell<BundleLoadTarget> = RefCell::new(BundleLoadTarget::new());
}

fuzz_target!(|data: &[u8]| {
    TARGET.with_borrow_mut(|target| target.run(data));
});
