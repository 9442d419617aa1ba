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
