//! `polc keygen`, `build`, `verify`, `inspect` and `eval --bundle` as a
//! user runs them, end to end.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs polc from `compiler/polc/tests` (so sources are named
/// `fixtures/...` on every machine) with extra environment variables.
fn polc_env(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut command = Command::new(env!("CARGO_BIN_EXE_polc"));
    command
        .args(args)
        .current_dir(tests)
        .env("NO_COLOR", "1")
        .env_remove("SOURCE_DATE_EPOCH");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run polc");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn polc(args: &[&str]) -> (i32, String, String) {
    polc_env(args, &[])
}

/// A fresh temporary folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polc-bundle-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Output with what changes between machines and compiler versions
/// replaced by placeholders: the temporary folder, key ids (16 hex
/// digits), hashes (64), and byte counts.
fn stable(text: &str, dir: &Path) -> String {
    let text = text.replace(path(dir), "<tmp>");
    let mut out = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        if !c.is_ascii_alphanumeric() {
            out.push(c);
            continue;
        }
        let mut end = start + c.len_utf8();
        while let Some(&(at, next)) = chars.peek() {
            if !next.is_ascii_alphanumeric() {
                break;
            }
            end = at + next.len_utf8();
            chars.next();
        }
        let word = &text[start..end];
        let hex = word.chars().all(|c| c.is_ascii_hexdigit());
        let after = &text[end..];
        out.push_str(match word.len() {
            16 if hex => "<id>",
            64 if hex => "<hash>",
            _ if word.chars().all(|c| c.is_ascii_digit())
                && (after.starts_with(" bytes") || text[..start].ends_with("declares ")) =>
            {
                "N"
            }
            _ => word,
        });
    }
    out
}

#[test]
fn keygen_build_verify_inspect_and_eval_end_to_end() {
    let dir = scratch("e2e");
    let name = dir.join("release");
    let (code, stdout, stderr) = polc(&["keygen", "-o", path(&name)]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("release.key") && stdout.contains("release.pub"));
    let secret = std::fs::read_to_string(dir.join("release.key")).unwrap();
    assert!(secret.contains("pol-ed25519-secret-key "));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.join("release.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the secret key is readable by others");
    }
    // Keygen never overwrites a key by accident.
    let (code, _, stderr) = polc(&["keygen", "-o", path(&name)]);
    assert_eq!(code, 2);
    assert!(stderr.contains("pass --force"), "{stderr}");
    // With --force, a replaced secret key is private even if the old file
    // was not.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let other = dir.join("other");
        assert_eq!(polc(&["keygen", "-o", path(&other)]).0, 0);
        let file = dir.join("other.key");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(polc(&["keygen", "-o", path(&other), "--force"]).0, 0);
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let bundle = dir.join("tools.polb");
    let key = dir.join("release.key");
    let public = dir.join("release.pub");
    let (code, stdout, stderr) = polc(&[
        "build",
        "fixtures/eval",
        "-o",
        path(&bundle),
        "--revision",
        "2026-11-26.1",
        "--sign",
        path(&key),
        "--reproducible",
    ]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("build", stable(&stdout, &dir));

    let (code, stdout, _) = polc(&["verify", path(&bundle), "--key", path(&public)]);
    assert_eq!(code, 0, "{stdout}");
    insta::assert_snapshot!("verify", stable(&stdout, &dir));

    let (code, stdout, _) = polc(&["inspect", path(&bundle), "--key", path(&public)]);
    assert_eq!(code, 0);
    let inspected = stable(&stdout, &dir);
    // Only the project's package: the embedded standard library's are
    // left out unless imported.
    insta::assert_snapshot!("inspect", inspected);

    let (code, stdout, _) = polc(&["inspect", path(&bundle), "--format", "json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(json["revision"], "2026-11-26.1");
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["signature"]["signed"], true);
    assert!(
        json.get("built_at").is_none(),
        "reproducible: no build time"
    );
    let entry = json["entrypoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "llm.tools.tool_call")
        .expect("the project's entrypoint");
    assert_eq!(entry["kind"], "decision");
    let schema = &entry["input_schema"];
    assert_eq!(schema["$ref"], "#/$defs/llm.tools.ToolCall");
    assert_eq!(
        schema["$defs"]["llm.tools.Principal"]["properties"]["role"]["enum"],
        serde_json::json!(["guest", "analyst", "engineer", "admin"])
    );
    assert_eq!(
        schema["$defs"]["llm.tools.ToolCall"]["properties"]["args"]["additionalProperties"]["type"],
        "string"
    );

    // The runtime alone evaluates it, and agrees with evaluating the sources.
    for input in ["fixtures/eval/allowed.json", "fixtures/eval/traversal.json"] {
        let from_bundle = polc(&[
            "eval",
            "--bundle",
            path(&bundle),
            "--key",
            path(&public),
            "--entry",
            "llm.tools.tool_call",
            "--input",
            input,
            "--now",
            "2026-01-01T00:00:00Z",
            "--format",
            "json",
        ]);
        let from_source = polc(&[
            "eval",
            "fixtures/eval",
            "--entry",
            "llm.tools.tool_call",
            "--input",
            input,
            "--now",
            "2026-01-01T00:00:00Z",
            "--format",
            "json",
        ]);
        assert_eq!(from_bundle.0, 0, "{}", from_bundle.2);
        let mut bundled: serde_json::Value = serde_json::from_str(&from_bundle.1).unwrap();
        let source: serde_json::Value = serde_json::from_str(&from_source.1).unwrap();
        assert_eq!(bundled["revision"], "2026-11-26.1");
        bundled["revision"] = serde_json::Value::Null;
        assert_eq!(bundled, source, "{input}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn verify_refuses_with_the_reason() {
    let dir = scratch("refuse");
    let (a, b) = (dir.join("a"), dir.join("b"));
    assert_eq!(polc(&["keygen", "-o", path(&a)]).0, 0);
    assert_eq!(polc(&["keygen", "-o", path(&b)]).0, 0);
    let signed = dir.join("signed.polb");
    let unsigned = dir.join("unsigned.polb");
    let a_key = format!("{}.key", path(&a));
    let build = |out: &Path, sign: Option<&str>| {
        let mut args = vec!["build", "fixtures/eval", "-o", path(out), "--reproducible"];
        if let Some(key) = sign {
            args.extend(["--sign", key]);
        }
        let (code, _, stderr) = polc(&args);
        assert_eq!(code, 0, "{stderr}");
    };
    build(&signed, Some(&a_key));
    build(&unsigned, None);
    let b_pub = format!("{}.pub", path(&b));
    let a_pub = format!("{}.pub", path(&a));

    let truncated = dir.join("truncated.polb");
    let bytes = std::fs::read(&signed).unwrap();
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let tampered = dir.join("tampered.polb");
    let mut changed = bytes.clone();
    let at = changed.len() - 100;
    changed[at] ^= 1;
    std::fs::write(&tampered, &changed).unwrap();
    let not_a_bundle = dir.join("notes.txt");
    std::fs::write(&not_a_bundle, "policy notes").unwrap();

    let mut transcript = String::new();
    for (file, key) in [
        (&signed, Some(&b_pub)),
        (&unsigned, Some(&a_pub)),
        (&truncated, Some(&a_pub)),
        (&tampered, Some(&a_pub)),
        (&tampered, None),
        (&not_a_bundle, None),
    ] {
        let mut args = vec!["verify", path(file)];
        if let Some(key) = key {
            args.extend(["--key", key.as_str()]);
        }
        let (code, stdout, _) = polc(&args);
        assert_eq!(code, 1, "{stdout}");
        transcript.push_str(&format!("$ polc {}\n{stdout}", args.join(" ")));
    }
    // Without --key a signed bundle is valid but not vouched for.
    let (code, stdout, _) = polc(&["verify", path(&signed)]);
    assert_eq!(code, 0);
    transcript.push_str(&format!("$ polc verify <tmp>/signed.polb\n{stdout}"));
    // A key file of the wrong kind is a usage error.
    let (code, _, stderr) = polc(&["verify", path(&signed), "--key", &a_key]);
    assert_eq!(code, 2);
    transcript.push_str(&format!(
        "$ polc verify <tmp>/signed.polb --key <tmp>/a.key\n{stderr}"
    ));
    insta::assert_snapshot!(stable(&transcript, &dir));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn builds_are_reproducible() {
    let dir = scratch("repro");
    let build = |out: &str, extra: &[&str], env: &[(&str, &str)]| -> Vec<u8> {
        let file = dir.join(out);
        let mut args = vec!["build", "fixtures/eval", "-o", path(&file)];
        args.extend(extra);
        let (code, _, stderr) = polc_env(&args, env);
        assert_eq!(code, 0, "{stderr}");
        std::fs::read(file).unwrap()
    };
    let r1 = ["--reproducible", "--revision", "r1"];
    assert_eq!(build("a.polb", &r1, &[]), build("b.polb", &r1, &[]));
    let epoch = [("SOURCE_DATE_EPOCH", "1700000000")];
    let c = build("c.polb", &["--revision", "r1"], &epoch);
    assert_eq!(c, build("d.polb", &["--revision", "r1"], &epoch));
    let (_, stdout, _) = polc(&["inspect", path(&dir.join("c.polb"))]);
    assert!(
        stdout.contains("built     2023-11-14T22:13:20Z"),
        "{stdout}"
    );
    // Otherwise the build time is now, and the revision is part of the bytes.
    let (_, stdout, _) = polc(&["inspect", path(&dir.join("a.polb"))]);
    assert!(stdout.contains("(no build time: reproducible)"), "{stdout}");
    assert_ne!(
        build("e.polb", &r1, &[]),
        build("f.polb", &["--reproducible", "--revision", "r2"], &[])
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_tree_with_errors_builds_nothing() {
    let dir = scratch("errors");
    let out = dir.join("x.polb");
    let (code, _, stderr) = polc(&["build", "fixtures/errors", "-o", path(&out)]);
    assert_eq!(code, 1);
    assert!(stderr.contains("no bundle was written"), "{stderr}");
    assert!(stderr.contains("unknown field"), "{stderr}");
    assert!(!out.exists());
    std::fs::remove_dir_all(&dir).ok();
}
