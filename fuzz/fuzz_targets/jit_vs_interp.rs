//! `jit_vs_interp`: generated well-typed programs and inputs; every engine
//! gives the reference interpreter's decision
//! (`pol_gen::fuzz::JitVsInterpTarget`).

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pol_gen::fuzz::JitVsInterpTarget;

thread_local! {
    // The workspace parses the embedded standard library once.
    static TARGET: RefCell<JitVsInterpTarget> = RefCell::new(JitVsInterpTarget::new());
}

fuzz_target!(|data: &[u8]| {
    TARGET.with_borrow_mut(|target| target.run(data));
});
