//! Runs the gateway binary as a user would and checks what it prints: the
//! decisions of specific requests in the stream, the summary, and loading a
//! signed bundle built outside the binary.

use std::path::PathBuf;
use std::process::{Command, Output};

use pol_ir::bundle::{BuildInfo, SecretKey};

/// Runs `gateway` with `args`; returns its output.
fn gateway(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gateway"))
        .args(args)
        .output()
        .expect("the gateway binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The one decision line that contains `needle` (the redacted text printed
/// under a decision is not one).
fn line<'a>(out: &'a str, needle: &str) -> &'a str {
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(needle) && !l.trim_start().starts_with("redacted:"))
        .collect();
    assert_eq!(lines.len(), 1, "one line with {needle:?} in:\n{out}");
    lines[0]
}

/// The line after the one that contains `needle`.
fn line_after<'a>(out: &'a str, needle: &str) -> &'a str {
    let mut lines = out.lines().skip_while(|l| !l.contains(needle));
    lines.next();
    lines
        .next()
        .unwrap_or_else(|| panic!("a line after {needle:?} in:\n{out}"))
}

/// The effect column of a stream line.
fn effect(line: &str) -> &str {
    line.split_whitespace().nth(2).unwrap_or("")
}

#[test]
fn the_stream_shows_each_decision_with_its_reasons() {
    let output = gateway(&["--seconds", "0.2"]);
    let out = stdout(&output);
    assert!(
        output.status.success(),
        "exit {:?}\n{out}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("engine     Jit"), "{out}");
    assert!(out.contains("revision embedded"), "{out}");

    let benign = line(&out, "What is the capital of");
    assert_eq!(effect(benign), "allow", "{benign}");
    assert!(benign.contains("prompt passed the input guards (default)"));

    let injection = line(&out, "Ignore previous instructions");
    assert_eq!(effect(injection), "deny", "{injection}");
    assert!(injection.contains("prompt injection phrase"), "{injection}");
    assert!(injection.contains("alert medium: injection attempt"));

    let zero_width = line(&out, r"ig\u{200b}nore");
    assert_eq!(effect(zero_width), "deny", "{zero_width}");
    assert!(zero_width.contains("prompt injection phrase"));

    let disguised = line(&out, "I.G.N.O.R.E");
    assert!(
        disguised.contains(
            "injection phrase disguised with spacing, punctuation or look-alike characters"
        )
    );

    let secret = line(&out, "boto3 says AccessDenied");
    assert_eq!(effect(secret), "deny", "{secret}");
    assert!(secret.contains("secret in prompt"));

    let traversal = line(&out, r#"path="../../etc/passwd""#);
    assert_eq!(effect(traversal), "deny", "{traversal}");
    assert!(traversal.contains("path contains a parent-directory segment"));
    assert!(traversal.contains("alert high: tool arguments look like an attack"));

    let shell = line(&out, r#"command="grep -rn TODO src""#);
    assert_eq!(effect(shell), "allow", "{shell}");
    assert!(shell.contains("approval: high-risk tool needs human approval"));

    let contact = line(&out, "You can reach");
    assert_eq!(effect(contact), "allow", "{contact}");
    assert!(contact.contains("redact email"), "{contact}");
    let redacted = line_after(&out, "You can reach");
    assert!(
        redacted.contains("redacted:")
            && redacted.contains("[email]")
            && redacted.contains("[phone]"),
        "{redacted}"
    );

    // The same install command: refused for a user, reviewed for staff.
    let installs: Vec<&str> = out.lines().filter(|l| l.contains("To install")).collect();
    let (staff, user): (Vec<&str>, Vec<&str>) = installs.iter().partition(|l| l.contains("staff@"));
    assert_eq!((staff.len(), user.len()), (1, 1), "{out}");
    assert_eq!(effect(user[0]), "deny", "{}", user[0]);
    assert!(user[0].contains("download piped into a shell or interpreter"));
    assert_eq!(effect(staff[0]), "allow", "{}", staff[0]);
    assert!(staff[0].contains("approval: dangerous command needs review"));

    let cross_tenant = line(&out, "opens gl-kb-plan-2026");
    assert_eq!(effect(cross_tenant), "deny", "{cross_tenant}");
    assert!(cross_tenant.contains("alert high: document from another tenant was retrieved"));

    let outage = line(&out, "agent-api 5m: 900 req");
    assert_eq!(effect(outage), "deny", "{outage}");
    assert!(outage.contains("alert critical: error rate at the critical threshold"));

    assert!(out.contains("decisions/s"), "{out}");
    assert!(out.contains("p50 µs") && out.contains("p99 µs"), "{out}");
    for policy in [
        "std.guards.input.prompt",
        "std.tools.call",
        "std.rag.retrieve",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(policy)),
            "a latency row for {policy}:\n{out}"
        );
    }
}

#[test]
fn quiet_skips_the_stream() {
    let output = gateway(&["--quiet", "--seconds", "0.05"]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}");
    assert!(!out.contains("Ignore previous instructions"), "{out}");
    assert!(out.contains("decisions/s"), "{out}");
}

#[test]
fn a_signed_bundle_loads_with_its_key_and_an_unsigned_one_is_refused() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("gateway-bundles");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let policies = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/gateway.pol");
    let files = vec![(
        "gateway.pol".to_string(),
        std::fs::read_to_string(policies).expect("policy source"),
    )];
    let info = BuildInfo {
        revision: "test-signed".into(),
        compiler: "test".into(),
        built_at: None,
    };
    let key = SecretKey::from_seed([7; 32]);
    let signed = polc::bundle::compile_bundle(files.clone(), &info, Some(&key), false)
        .expect("the policies compile");
    let unsigned = polc::bundle::compile_bundle(files, &info, None, false).expect("compiles");
    let signed_path = dir.join("signed.polb");
    let unsigned_path = dir.join("unsigned.polb");
    let key_path = dir.join("release.pub");
    std::fs::write(&signed_path, signed).expect("write");
    std::fs::write(&unsigned_path, unsigned).expect("write");
    std::fs::write(&key_path, key.public().to_text()).expect("write");

    let path = |p: &PathBuf| p.display().to_string();
    let output = gateway(&[
        "--bundle",
        &path(&signed_path),
        "--key",
        &path(&key_path),
        "--quiet",
        "--seconds",
        "0.05",
    ]);
    let out = stdout(&output);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("revision test-signed"), "{out}");
    assert!(
        out.contains(&format!("signed, verified with key {}", key.public().id())),
        "{out}"
    );

    let refused = gateway(&[
        "--bundle",
        &path(&unsigned_path),
        "--key",
        &path(&key_path),
        "--quiet",
    ]);
    assert_eq!(refused.status.code(), Some(1));
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("not signed"), "{err}");
}

#[test]
fn a_bad_option_is_a_usage_error() {
    let output = gateway(&["--seconds", "soon"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--seconds soon"));
}
