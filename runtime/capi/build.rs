//! Writes the C header, `pol.h`, into `OUT_DIR` from the declarations in
//! `src/` and `cbindgen.toml`. The committed copy is
//! `include/pol.h`; `tests/header.rs` fails when the two differ.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    println!("cargo::rerun-if-changed=src");
    println!("cargo::rerun-if-changed=cbindgen.toml");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    // `with_src` parses `src/lib.rs` and the modules it declares, without
    // running `cargo metadata` (which would contend for the workspace's
    // lock from inside a build).
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(crate_dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates pol.h");
    bindings.write_to_file(out_dir.join("pol.h"));
}
