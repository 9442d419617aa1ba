//! The standard policy library's own suite, run as a user runs it:
//! `polc test stdlib-policies --fail-under 100`. Every test passes and every
//! rule outcome of the library is exercised.

use std::path::Path;
use std::process::Command;

#[test]
fn the_standard_library_suite_passes_with_full_rule_coverage() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(env!("CARGO_BIN_EXE_polc"))
        .args(["test", "stdlib-policies", "--fail-under", "100"])
        .current_dir(&root)
        .env("NO_COLOR", "1")
        .output()
        .expect("run polc");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Shown by `cargo test -- --nocapture`, and whenever the test fails.
    print!("{stdout}");
    eprint!("{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    let passed: usize = last
        .strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected summary line {last:?}"));
    assert!(passed >= 150, "only {passed} stdlib tests");
    assert!(
        stdout.contains("coverage: 100.0%"),
        "coverage not complete:\n{stdout}"
    );
}
