//! End to end from C: builds signed and unsigned bundles of the standard
//! policy library, compiles `examples/c/main.c` with the system C compiler
//! (`$CC`, else `cc`) against `include/pol.h` and the `pol_capi` shared
//! library cargo built next to this test, runs it, and reads its output.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::{other_key, public_text, stdlib_bundle, trusted_key};

/// Strict C99, every warning an error; `-O2` enables the warnings that
/// need data-flow analysis (uninitialized values).
const C_FLAGS: [&str; 6] = [
    "-std=c99",
    "-pedantic",
    "-Wall",
    "-Wextra",
    "-Werror",
    "-O2",
];

/// The directory holding `libpol_capi.so` (`.dylib` on macOS): cargo puts
/// the test at `target/<profile>/deps/c_example-<hash>` and the library
/// at `target/<profile>/` and in `deps/`.
fn library_dir() -> PathBuf {
    let name = format!(
        "{}pol_capi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let exe = std::env::current_exe().expect("the test's path");
    let deps = exe.parent().expect("deps");
    [deps.parent().expect("profile directory"), deps]
        .into_iter()
        .find(|dir| dir.join(&name).is_file())
        .unwrap_or_else(|| panic!("no {name} next to {}", exe.display()))
        .to_path_buf()
}

fn workdir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pol-capi-c-example");
    std::fs::create_dir_all(&dir).expect("create the work directory");
    dir
}

/// Compiles the example once per run.
fn example() -> &'static Path {
    static EXAMPLE: OnceLock<PathBuf> = OnceLock::new();
    EXAMPLE.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let libs = library_dir();
        let exe = workdir().join(if cfg!(windows) {
            "pol-example.exe"
        } else {
            "pol-example"
        });
        let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".to_string());
        let output = Command::new(&compiler)
            .args(C_FLAGS)
            .arg("-o")
            .arg(&exe)
            .arg("-I")
            .arg(root.join("include"))
            .arg(root.join("../../examples/c/main.c"))
            .arg("-L")
            .arg(&libs)
            .arg("-lpol_capi")
            .arg(format!("-Wl,-rpath,{}", libs.display()))
            .output()
            .unwrap_or_else(|e| panic!("run the C compiler `{compiler}`: {e}"));
        assert!(
            output.status.success(),
            "examples/c/main.c does not compile:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        exe
    })
}

/// Writes the test's bundles and keys, once: the tests run in parallel and
/// must not read a file while another rewrites it.
fn write_files() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(write_files_now)
}

fn write_files_now() -> PathBuf {
    let dir = workdir();
    let key = trusted_key();
    let files: [(&str, Vec<u8>); 4] = [
        ("signed.polb", stdlib_bundle("c-example.1", Some(&key))),
        ("unsigned.polb", stdlib_bundle("c-example.1", None)),
        ("dev.pub", public_text(&key).into_bytes()),
        ("other.pub", public_text(&other_key()).into_bytes()),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).expect("write a test file");
    }
    dir
}

fn run(args: &[&str]) -> (Output, String, String) {
    let dir = write_files();
    let output = Command::new(example())
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run the example");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// The block the example printed for the request titled `title`.
fn section<'a>(stdout: &'a str, title: &str) -> &'a str {
    let start = stdout
        .find(&format!("== {title}\n"))
        .unwrap_or_else(|| panic!("no section `{title}` in:\n{stdout}"));
    let rest = &stdout[start..];
    let end = rest[3..].find("\n== ").map_or(rest.len(), |i| i + 3);
    &rest[..end]
}

/// The values of the `label: value` lines of a section.
fn values<'a>(section: &'a str, label: &str) -> Vec<&'a str> {
    let prefix = format!("{label}: ");
    section
        .lines()
        .filter_map(|line| line.strip_prefix(&prefix))
        .collect()
}

/// The decision JSON of a section.
fn json(section: &str) -> serde_json::Value {
    let line = values(section, "json");
    assert_eq!(line.len(), 1, "{section}");
    serde_json::from_str(line[0]).expect("the decision JSON parses")
}

#[test]
fn the_c_example_evaluates_requests_with_a_signed_bundle() {
    let (output, stdout, stderr) = run(&["signed.polb", "dev.pub"]);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(
        stdout.starts_with(&format!(
            "pol {}: loaded signed.polb, revision c-example.1, signature verified\n",
            env!("CARGO_PKG_VERSION")
        )),
        "{stdout}"
    );

    let benign = section(&stdout, "benign prompt");
    assert_eq!(values(benign, "entrypoint"), ["std.guards.input.prompt"]);
    assert_eq!(values(benign, "effect"), ["allow"]);
    assert_eq!(values(benign, "reason"), ["prompt passed the input guards"]);
    assert_eq!(values(benign, "requires approval"), ["no"]);
    assert_eq!(json(benign)["revision"], "c-example.1");

    let injection = section(&stdout, "prompt injection");
    assert_eq!(values(injection, "effect"), ["deny"]);
    assert_eq!(
        values(injection, "reason"),
        ["prompt injection phrase", "injection attempt"]
    );
    assert_eq!(
        json(injection)["obligations"][0],
        serde_json::json!({"kind": "alert", "rule": "std.guards.input.prompt.injection-attempt", "severity": "medium"})
    );

    let pii = section(&stdout, "prompt with personal data");
    assert_eq!(values(pii, "effect"), ["allow"]);
    assert_eq!(
        values(pii, "reason"),
        ["personal data in prompt", "prompt passed the input guards"]
    );
    assert_eq!(
        json(pii)["obligations"][0]["spans"],
        serde_json::json!([{"kind": "email", "start": 12, "end": 32}])
    );

    let approval = section(&stdout, "tool call that needs approval");
    assert_eq!(values(approval, "entrypoint"), ["std.tools.call"]);
    assert_eq!(values(approval, "effect"), ["allow"]);
    assert_eq!(
        values(approval, "reason"),
        [
            "role allows the tool",
            "high-risk tool needs human approval"
        ]
    );
    assert_eq!(values(approval, "requires approval"), ["yes"]);

    let escape = section(&stdout, "shell command escaping the workspace");
    assert_eq!(values(escape, "effect"), ["deny"]);
    assert!(
        values(escape, "reason").contains(&"command argument escapes the workspace"),
        "{escape}"
    );

    let malformed = section(&stdout, "malformed request");
    assert_eq!(values(malformed, "effect"), ["deny"]);
    assert_eq!(values(malformed, "reason"), Vec::<&str>::new());
    assert_eq!(
        values(malformed, "error"),
        ["input $.text: expected a string, found a number"]
    );

    let unknown = section(&stdout, "unknown entrypoint");
    assert_eq!(values(unknown, "status"), ["POL_STATUS_NO_SUCH_ENTRYPOINT"]);
    assert_eq!(
        values(unknown, "message"),
        ["no entrypoint `std.tools.no_such_policy` in revision `c-example.1` of the bundle"]
    );
}

#[test]
fn the_c_example_refuses_an_unsigned_bundle_when_a_key_is_required() {
    let (output, stdout, stderr) = run(&["unsigned.polb", "dev.pub"]);
    assert_eq!(
        output.status.code(),
        Some(1),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert_eq!(stdout, "");
    assert_eq!(
        stderr,
        "error: cannot load the bundle: POL_STATUS_BUNDLE_REFUSED: the bundle is not signed, \
         and this runtime only loads bundles signed by a trusted key\n"
    );
}

#[test]
fn the_c_example_refuses_a_bundle_signed_by_another_key() {
    let (output, _, stderr) = run(&["signed.polb", "other.pub"]);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.starts_with("error: cannot load the bundle: POL_STATUS_BUNDLE_REFUSED: the bundle's signature does not verify with any trusted key"),
        "{stderr}"
    );
}

#[test]
fn the_c_example_loads_any_bundle_without_a_key() {
    let (output, stdout, stderr) = run(&["unsigned.polb"]);
    assert!(output.status.success(), "{stderr}");
    assert!(stdout.contains("signature not checked"), "{stdout}");
    assert_eq!(
        values(section(&stdout, "benign prompt"), "effect"),
        ["allow"]
    );
}

#[test]
fn the_c_example_reports_a_missing_file() {
    let (output, _, stderr) = run(&["missing.polb"]);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr
            .starts_with("error: cannot load the bundle: POL_STATUS_IO: cannot read missing.polb"),
        "{stderr}"
    );
}
