//! `parse`: any bytes as source; the parser never panics, its spans lie in
//! the text, and a text that parses formats idempotently
//! (`pol_gen::fuzz::parse_never_panics`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    pol_gen::fuzz::parse_never_panics(data);
});
