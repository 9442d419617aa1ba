//! `check`: generated programs (most with small mutations) and any text
//! through resolve and type-check, and the formatter's round trip
//! (`pol_gen::fuzz::CheckTarget`).

#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use pol_gen::fuzz::CheckTarget;

thread_local! {
    // The workspace parses the embedded standard library once.
    static TARGET: RefCell<CheckTarget> = RefCell::new(CheckTarget::new());
}

fuzz_target!(|data: &[u8]| {
    TARGET.with_borrow_mut(|target| target.run(data));
});
