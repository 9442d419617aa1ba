//! The committed header, `include/pol.h`, is the one cbindgen generates
//! from `src/` (build.rs writes it to `OUT_DIR`), and it is clean C99.
//!
//! After changing a declaration or a doc comment in `src/`, refresh it:
//!
//! ```sh
//! POL_BLESS=1 cargo test -p pol-capi --test header
//! ```

use std::path::Path;
use std::process::Command;

const GENERATED: &str = include_str!(concat!(env!("OUT_DIR"), "/pol.h"));

fn committed_path() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/include/pol.h"))
}

#[test]
fn the_committed_header_is_current() {
    let path = committed_path();
    if std::env::var_os("POL_BLESS").is_some() {
        std::fs::write(path, GENERATED).expect("write include/pol.h");
        return;
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == GENERATED,
        "runtime/capi/include/pol.h is out of date with src/: refresh it with \
         `POL_BLESS=1 cargo test -p pol-capi --test header`"
    );
}

/// The system C compiler: `$CC`, else `cc`.
fn c_compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".to_string())
}

#[test]
fn the_header_is_strict_c99() {
    let include = Path::new(env!("OUT_DIR"));
    let source = include.join("header_check.c");
    // Including the header checks every declaration in it.
    std::fs::write(
        &source,
        "#include \"pol.h\"\nint main(void) { return pol_version() == 0; }\n",
    )
    .expect("write the check");
    let output = Command::new(c_compiler())
        .args([
            "-std=c99",
            "-pedantic",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
            "-I",
        ])
        .arg(include)
        .arg(&source)
        .output()
        .expect("run the C compiler");
    assert!(
        output.status.success(),
        "pol.h is not clean C99:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
