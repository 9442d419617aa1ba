//! The standard policy library's own suite, run as a user runs it:
//! `polc test stdlib-policies --fail-under 100` (coverage, on the
//! interpreter) and `polc test stdlib-policies --engine jit`. Every test
//! passes on both engines and every rule outcome of the library is
//! exercised.

use std::path::Path;
use std::process::Command;

fn polc_test(extra: &[&str]) -> (Option<i32>, String, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let output = Command::new(env!("CARGO_BIN_EXE_polc"))
        .args(["test", "stdlib-policies"])
        .args(extra)
        .current_dir(&root)
        .env("NO_COLOR", "1")
        .output()
        .expect("run polc");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    // Shown by `cargo test -- --nocapture`, and whenever the test fails.
    print!("{stdout}");
    eprint!("{stderr}");
    (output.status.code(), stdout, stderr)
}

fn passed(stdout: &str) -> usize {
    let last = stdout.lines().last().unwrap_or_default();
    last.strip_suffix(" passed, 0 failed")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected summary line {last:?}"))
}

#[test]
fn the_standard_library_suite_passes_with_full_rule_coverage() {
    let (code, stdout, stderr) = polc_test(&["--fail-under", "100"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    let passed = passed(&stdout);
    assert!(passed >= 150, "only {passed} stdlib tests");
    assert!(
        stdout.contains("coverage: 100.0%"),
        "coverage not complete:\n{stdout}"
    );
}

#[test]
fn the_standard_library_suite_passes_on_the_jit() {
    let (code, stdout, stderr) = polc_test(&["--engine", "jit"]);
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(passed(&stdout) >= 150, "{stdout}");
}
