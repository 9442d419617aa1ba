//! `polc check` as a user runs it: exit codes, human and JSON output.

use std::path::Path;
use std::process::Command;

fn polc(args: &[&str]) -> (i32, String, String) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let output = Command::new(env!("CARGO_BIN_EXE_polc"))
        .args(args)
        .current_dir(fixtures)
        .env("NO_COLOR", "1")
        .output()
        .expect("run polc");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn clean_tree_exits_zero() {
    let (code, stdout, _) = polc(&["check", "fixtures/clean"]);
    assert_eq!(code, 0);
    assert_eq!(stdout, "no problems found\n");
}

#[test]
fn errors_exit_one_with_every_diagnostic() {
    let (code, stdout, _) = polc(&["check", "fixtures/errors"]);
    assert_eq!(code, 1);
    insta::assert_snapshot!(stdout);
}

#[test]
fn json_format_lists_diagnostics_with_positions() {
    let (code, stdout, _) = polc(&["check", "--format", "json", "fixtures/errors"]);
    assert_eq!(code, 1);
    let parsed: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    let first = &parsed[0];
    assert_eq!(first["file"], "fixtures/errors/types.pol");
    assert_eq!(first["code"], "pol::type::unknown_field");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["start"]["line"], 6);
    assert_eq!(first["start"]["column"], 31);
    insta::assert_snapshot!(stdout);
}

#[test]
fn cost_prints_each_entrypoints_bound() {
    let (code, stdout, _) = polc(&["check", "--cost", "fixtures/cost"]);
    assert_eq!(code, 0, "{stdout}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn cost_in_json_has_the_diagnostics_and_the_bounds() {
    let (code, stdout, _) = polc(&["check", "--cost", "--format", "json", "fixtures/cost"]);
    assert_eq!(code, 0, "{stdout}");
    let parsed: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(parsed["diagnostics"], serde_json::json!([]));
    let tool_call = &parsed["cost"][2];
    assert_eq!(tool_call["entrypoint"], "llm.tools.tool_call");
    assert_eq!(tool_call["bound"], "43 + 2·s");
    assert_eq!(tool_call["unbounded"], false);
    assert_eq!(tool_call["within_budget_up_to"], 1 << 20);
}

#[test]
fn cost_is_not_computed_when_there_are_errors() {
    let (code, stdout, _) = polc(&["check", "--cost", "fixtures/errors"]);
    assert_eq!(code, 1);
    assert!(!stdout.contains("cost ≤"), "{stdout}");
    assert!(
        stdout.ends_with("warnings\n") || stdout.ends_with("warning\n"),
        "{stdout}"
    );
}

#[test]
fn warnings_alone_exit_zero() {
    let dir = std::env::temp_dir().join(format!("polc-warn-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("w.pol"),
        "package w\n\npolicy p(x: int) -> Decision {\n  let unused = 1\n  allow \"ok\"\n}\n",
    )
    .expect("write");
    let (code, stdout, _) = polc(&["check", dir.to_str().expect("utf-8 path")]);
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.ends_with("0 errors, 1 warning\n"), "{stdout}");
}

#[test]
fn usage_errors_exit_two() {
    let (code, _, stderr) = polc(&["check", "no/such/path"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read `no/such/path`"), "{stderr}");
    let (code, _, _) = polc(&["check"]);
    assert_eq!(code, 2);
    let (code, _, _) = polc(&["frobnicate"]);
    assert_eq!(code, 2);
    let (code, _, stderr) = polc(&["check", "fixtures/clean/../../fixtures/clean/none.txt"]);
    assert_eq!(code, 2, "{stderr}");
}

fn eval(input: &str, extra: &[&str]) -> (i32, String, String) {
    let mut args = vec![
        "eval",
        "fixtures/eval",
        "--entry",
        "llm.tools.tool_call",
        "--input",
        input,
        "--now",
        "2026-01-01T00:00:00Z",
    ];
    args.extend_from_slice(extra);
    polc(&args)
}

#[test]
fn eval_prints_the_decision_with_fired_rules_and_locations() {
    let (code, stdout, _) = eval("fixtures/eval/allowed.json", &[]);
    assert_eq!(code, 0);
    let (code, denied, _) = eval("fixtures/eval/traversal.json", &[]);
    assert_eq!(code, 0, "a deny is a decision, not a failure");
    insta::assert_snapshot!(format!("{stdout}---\n{denied}"));
}

#[test]
fn eval_json_is_the_documented_decision_shape() {
    let (code, stdout, _) = eval("fixtures/eval/traversal.json", &["--format", "json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["effect"], "deny");
    assert_eq!(
        json["rules"][1]["id"],
        "llm.tools.tool_call.path-escapes-the-workspace"
    );
    assert_eq!(json["rules"][1]["line"], 17);
    insta::assert_snapshot!(stdout);
}

#[test]
fn eval_denies_a_malformed_input_with_the_reason() {
    let (code, stdout, _) = eval("fixtures/eval/malformed.json", &[]);
    assert_eq!(code, 0);
    assert_eq!(
        stdout,
        "deny  llm.tools.tool_call\nerror: input $.principal.role: \"analist\" is not one of \"guest\", \"analyst\", \"engineer\", \"admin\"\n"
    );
}

#[test]
fn eval_takes_params_from_the_host() {
    // The host narrows `fs.read` to admins: the analyst's read is refused.
    let (code, stdout, _) = eval(
        "fixtures/eval/allowed.json",
        &["--params", "fixtures/eval/params.json"],
    );
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with(
            "deny  llm.tools.tool_call\nno rule fired\ndefault: \"tool not permitted\""
        ),
        "{stdout}"
    );
}

#[test]
fn eval_usage_errors_exit_two() {
    let (code, _, stderr) = polc(&[
        "eval",
        "fixtures/eval",
        "--entry",
        "llm.tools.nope",
        "--input",
        "fixtures/eval/allowed.json",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no policy `llm.tools.nope`"), "{stderr}");
    let (code, _, stderr) = eval("fixtures/eval/missing.json", &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot read `fixtures/eval/missing.json`"),
        "{stderr}"
    );
    let (code, _, stderr) = polc(&[
        "eval",
        "fixtures/errors",
        "--entry",
        "demo.errors.limit",
        "--input",
        "-",
    ]);
    assert_eq!(code, 2);
    assert!(stderr.contains("the policies have errors"), "{stderr}");
}

#[test]
fn eval_value_and_filter_policies_print_their_value() {
    let run = |entry: &str, input: &str| {
        let (code, stdout, stderr) = polc(&[
            "eval",
            "fixtures/eval-ops",
            "--entry",
            entry,
            "--input",
            input,
        ]);
        assert_eq!(code, 0, "{stderr}");
        stdout
    };
    let errors = run("ops.severity", "fixtures/eval-ops/errors.json");
    let slow = run("ops.severity", "fixtures/eval-ops/slow.json");
    let idle = run("ops.severity", "fixtures/eval-ops/idle.json");
    let docs = run("ops.visible", "fixtures/eval-ops/docs.json");
    insta::assert_snapshot!(format!("{errors}---\n{slow}---\n{idle}---\n{docs}"));
}

// ------------------------------------------------------------- polc test

#[test]
fn test_passing_suite_exits_zero_with_the_summary_line() {
    let (code, stdout, stderr) = polc(&["test", "fixtures/tests-pass"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(stdout, "14 passed, 0 failed\n");
}

#[test]
fn test_verbose_lists_every_case_by_name() {
    let (code, stdout, _) = polc(&["test", "-v", "fixtures/tests-pass"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
}

#[test]
fn test_failures_show_expected_and_actual_with_the_decision() {
    let (code, stdout, _) = polc(&["test", "fixtures/tests-fail"]);
    assert_eq!(code, 1);
    assert!(stdout.ends_with("\n3 passed, 6 failed\n"), "{stdout}");
    insta::assert_snapshot!(stdout);
}

#[test]
fn test_filter_counts_skipped_tests() {
    let (code, stdout, _) = polc(&["test", "--filter", "case", "fixtures/tests-fail"]);
    assert_eq!(code, 1);
    assert!(
        stdout.ends_with("\n2 passed, 1 failed, 6 skipped\n"),
        "{stdout}"
    );
    let (code, stdout, _) = polc(&["test", "--filter", "passing", "fixtures/tests-fail"]);
    assert_eq!(code, 0);
    assert_eq!(stdout, "1 passed, 0 failed, 6 skipped\n");
}

#[test]
fn test_json_lists_every_case_with_failures() {
    let (code, stdout, _) = polc(&["test", "--format", "json", "fixtures/tests-fail"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert_eq!(
        (json["passed"].as_u64(), json["failed"].as_u64()),
        (Some(3), Some(6))
    );
    let cases = json["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 9);
    let wrong = cases
        .iter()
        .find(|c| c["test"] == "a wrong effect")
        .expect("the failing test");
    assert_eq!(wrong["status"], "failed");
    let failure = &wrong["failures"][0];
    assert_eq!(failure["expect"], "d.allowed");
    assert_eq!(failure["expected"], "allow");
    assert_eq!(failure["location"]["line"], 7);
    assert_eq!(failure["decisions"][0]["effect"], "deny");
    assert_eq!(
        failure["decisions"][0]["default"]["reason"],
        "tool not allowed for role"
    );
    let case = cases
        .iter()
        .find(|c| c["case"] == "guest shell")
        .expect("the failing case, by its name");
    assert_eq!(case["status"], "failed");
    let error = cases
        .iter()
        .find(|c| c["test"] == "an error in the test itself")
        .expect("the erroring test");
    assert_eq!(error["error"]["message"], "division by zero");
}

#[test]
fn test_junit_report_is_written() {
    let path = std::env::temp_dir().join(format!("polc-junit-{}.xml", std::process::id()));
    let path_text = path.to_str().expect("utf-8 path");
    let (code, _, _) = polc(&["test", "--junit", path_text, "fixtures/tests-fail"]);
    assert_eq!(code, 1);
    let xml = std::fs::read_to_string(&path).expect("junit written");
    std::fs::remove_file(&path).ok();
    insta::assert_snapshot!(xml);
}

#[test]
fn test_coverage_lists_rules_no_test_exercised() {
    let (code, stdout, _) = polc(&[
        "test",
        "--coverage",
        "--filter",
        "budgets",
        "fixtures/tests-pass",
    ]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(stdout);
    let (code, stdout, _) = polc(&["test", "--coverage", "fixtures/tests-pass"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("coverage: 100.0% (13 of 13 rule outcomes)"),
        "{stdout}"
    );
}

#[test]
fn test_fail_under_fails_on_low_coverage() {
    let args = ["test", "--filter", "budgets", "fixtures/tests-pass"];
    let (code, _, stderr) = polc(&[&args[..], &["--fail-under", "90"]].concat());
    assert_eq!(code, 1);
    assert!(stderr.contains("is under --fail-under 90%"), "{stderr}");
    let (code, _, _) = polc(&[&args[..], &["--fail-under", "20"]].concat());
    assert_eq!(code, 0);
    let (code, _, stderr) = polc(&[&args[..], &["--fail-under", "120"]].concat());
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn test_compile_errors_exit_two_with_diagnostics() {
    let (code, stdout, stderr) = polc(&["test", "fixtures/errors"]);
    assert_eq!(code, 2);
    assert_eq!(stdout, "");
    assert!(stderr.contains("pol::type::unknown_field"), "{stderr}");
    assert!(
        stderr.ends_with("error: the policies have errors; no test was run\n"),
        "{stderr}"
    );
}

#[test]
fn test_without_tests_says_so() {
    let (code, stdout, _) = polc(&["test", "fixtures/clean"]);
    assert_eq!(code, 0);
    assert_eq!(stdout, "no tests found\n0 passed, 0 failed\n");
    let (code, _, stderr) = polc(&["test", "--now", "yesterday", "fixtures/clean"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--now `yesterday`"), "{stderr}");
}

#[test]
fn test_engines_report_the_same_failures() {
    let (code, jit, _) = polc(&["test", "--engine", "jit", "fixtures/tests-fail"]);
    assert_eq!(code, 1);
    let (_, interp, _) = polc(&["test", "--engine", "interp", "fixtures/tests-fail"]);
    assert_eq!(jit, interp);
    let (code, _, stderr) = polc(&[
        "test",
        "--engine",
        "jit",
        "--coverage",
        "fixtures/tests-pass",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("coverage is measured on the interpreter"),
        "{stderr}"
    );
}

#[test]
fn eval_engines_print_the_same_decision() {
    for input in [
        "fixtures/eval/traversal.json",
        "fixtures/eval/allowed.json",
        "fixtures/eval/malformed.json",
    ] {
        let (_, jit, _) = eval(input, &["--format", "json", "--engine", "jit"]);
        let (_, interp, _) = eval(input, &["--format", "json", "--engine", "interp"]);
        assert_eq!(jit, interp, "{input}");
        let params = ["--params", "fixtures/eval/params.json", "--format", "json"];
        let (_, jit, _) = eval(input, &[&params[..], &["--engine", "jit"]].concat());
        let (_, interp, _) = eval(input, &[&params[..], &["--engine", "interp"]].concat());
        assert_eq!(jit, interp, "{input} with params");
    }
}
