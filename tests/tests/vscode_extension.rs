//! The VS Code extension in `editors/vscode` is built with npm. These tests
//! run its own suites (grammar assertions, grammar snapshots, unit tests) and
//! package it, so `cargo test --workspace` covers the editor support too.
//!
//! They need Node.js 20 and npm on `PATH`. Without them they fail with a
//! message saying so: a skipped test would let a broken grammar through.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

/// `npm ci` must finish before any other npm command runs, and only once.
static INSTALL: Mutex<bool> = Mutex::new(false);

fn extension_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../editors/vscode")
}

fn npm_program() -> &'static str {
    if cfg!(windows) { "npm.cmd" } else { "npm" }
}

/// Runs `npm <args>` in the extension directory and returns its output.
fn npm(args: &[&str]) -> Output {
    let dir = extension_dir();
    match Command::new(npm_program())
        .args(args)
        .current_dir(&dir)
        .env("NPM_CONFIG_UPDATE_NOTIFIER", "false")
        .env("NO_COLOR", "1")
        .output()
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`npm` was not found on PATH: the VS Code extension tests (editors/vscode) need \
             Node.js 20 and npm; install them from https://nodejs.org and run the tests again"
        ),
        Err(e) => panic!(
            "cannot run `npm {}` in {}: {e}",
            args.join(" "),
            dir.display()
        ),
    }
}

/// Runs npm and fails the test with npm's output when it does not succeed.
fn npm_ok(args: &[&str]) -> String {
    let output = npm(args);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "`npm {}` failed in editors/vscode ({})\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        args.join(" "),
        output.status,
    );
    stdout
}

/// Installs the extension's dependencies when `node_modules` is missing or
/// older than `package-lock.json`. npm writes `node_modules/.package-lock.json`
/// on every install, so its age tells whether the install is current.
fn ensure_installed() {
    let mut done = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if *done {
        return;
    }
    check_node_version();
    let dir = extension_dir();
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let lock = modified(&dir.join("package-lock.json"));
    assert!(
        lock.is_some(),
        "editors/vscode/package-lock.json is missing"
    );
    let installed = modified(&dir.join("node_modules/.package-lock.json"));
    if installed.is_none_or(|installed| Some(installed) < lock) {
        npm_ok(&["ci", "--no-audit", "--no-fund"]);
    }
    *done = true;
}

/// The toolchain (`@vscode/vsce`, `glob`) needs Node.js 20 or later; an older
/// one fails deep inside npm, so say it plainly first.
fn check_node_version() {
    let output = Command::new("node").arg("--version").output();
    let version = match output {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).trim().to_string()
        }
        _ => panic!(
            "`node` was not found on PATH: the VS Code extension tests (editors/vscode) need \
             Node.js 20 and npm; install them from https://nodejs.org and run the tests again"
        ),
    };
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    assert!(
        major >= 20,
        "the VS Code extension tests need Node.js 20 or later, found {version}"
    );
}

#[test]
fn grammar_snippets_and_manifest_tests_pass() {
    ensure_installed();
    let stdout = npm_ok(&["test"]);
    // Each suite reports what it ran; an empty glob would pass silently.
    // ("successfuly" is vscode-tmgrammar-test's spelling; it is pinned.)
    for file in [
        "declarations.test.pol",
        "literals.test.pol",
        "rules.test.pol",
        "tests.test.pol",
    ] {
        assert!(
            stdout.contains(&format!("test/{file} run successfuly")),
            "grammar assertions in {file} did not run:\n{stdout}"
        );
    }
    for file in ["input.pol", "monitoring.pol", "monitoring_test.pol"] {
        assert!(
            stdout.contains(&format!("test/snap/{file} run successfully")),
            "grammar snapshot {file} did not run:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("# fail 0") && !stdout.contains("# pass 0"),
        "the unit tests did not all run and pass:\n{stdout}"
    );
}

#[test]
fn the_extension_packages_into_a_vsix() {
    ensure_installed();
    let out_dir = std::env::temp_dir().join(format!("pol-vsix-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).expect("create a temporary directory");
    let vsix = out_dir.join("pol.vsix");
    // A file left by an earlier run must not stand in for this one's.
    let _ = std::fs::remove_file(&vsix);
    let vsix_arg = vsix.to_str().expect("a UTF-8 temporary path");
    let result = std::panic::catch_unwind(|| {
        npm_ok(&["run", "package", "--", "--out", vsix_arg]);
        let bytes = std::fs::read(&vsix).expect("npm run package wrote the .vsix");
        zip_entry_names(&bytes)
    });
    let _ = std::fs::remove_dir_all(&out_dir);
    let names = match result {
        Ok(names) => names,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    for required in [
        "extension.vsixmanifest",
        "extension/package.json",
        "extension/dist/extension.js",
        "extension/syntaxes/pol.tmLanguage.json",
        "extension/language-configuration.json",
        "extension/snippets/pol.json",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "the .vsix lacks {required}; it holds {names:?}"
        );
    }
    // The bundle carries the dependencies; sources and tests stay out.
    for name in &names {
        assert!(
            !name.starts_with("extension/node_modules/")
                && !name.starts_with("extension/src/")
                && !name.starts_with("extension/test/"),
            "the .vsix should not ship {name}"
        );
    }
}

/// The names of the entries of a zip archive, read from its central
/// directory (a `.vsix` is a zip file).
fn zip_entry_names(bytes: &[u8]) -> Vec<String> {
    const END_OF_DIRECTORY: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    const DIRECTORY_ENTRY: [u8; 4] = [0x50, 0x4b, 0x01, 0x02];
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let u32_at = |at: usize| {
        u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
    };
    assert!(bytes.len() >= 22, "the .vsix is not a zip file: too short");
    // The end-of-central-directory record is the last 22 bytes plus a
    // comment of at most 64 KiB.
    let end = (0..=bytes.len() - 22)
        .rev()
        .take(22 + 0xffff)
        .find(|&at| bytes[at..at + 4] == END_OF_DIRECTORY)
        .expect("the .vsix is not a zip file: no end-of-central-directory record");
    let count = u16_at(end + 10);
    let mut at = u32_at(end + 16);
    let mut names = Vec::with_capacity(count);
    for _ in 0..count {
        assert!(
            at + 46 <= bytes.len() && bytes[at..at + 4] == DIRECTORY_ENTRY,
            "the .vsix has a corrupt central directory"
        );
        let name_len = u16_at(at + 28);
        let extra_len = u16_at(at + 30);
        let comment_len = u16_at(at + 32);
        let name = &bytes[at + 46..at + 46 + name_len];
        names.push(String::from_utf8_lossy(name).into_owned());
        at += 46 + name_len + extra_len + comment_len;
    }
    assert!(!names.is_empty(), "the .vsix is an empty zip file");
    names
}
