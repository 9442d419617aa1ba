//! `polc fmt` as a user runs it: rewriting files, `--check`, standard
//! input, files with syntax errors; and, over every `.pol` file of the
//! repository, that formatting never changes the compiled program.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `polc` in `dir` with `stdin` as standard input.
fn polc_in(dir: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_polc"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run polc");
    if let Some(mut input) = child.stdin.take() {
        input.write_all(stdin.as_bytes()).expect("write stdin");
    }
    let output = child.wait_with_output().expect("wait for polc");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A fresh temporary directory with these files.
fn temp_tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("polc-fmt-{name}-{}", std::process::id()));
    std::fs::remove_dir_all(&dir).ok();
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("temp dir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

const MESSY: &str = "package demo\npolicy p(x:int)->Decision{\n    allow \"small\" when x<10 // tiny\n  deny\"big\"when x>100\n}\n";
const TIDY: &str = "package demo\npolicy p(x: int) -> Decision {\n  allow \"small\" when x < 10 // tiny\n  deny \"big\" when x > 100\n}\n";
const BROKEN: &str =
    "package demo\n\npolicy p(x: int) -> Decision {\n  allow \"ok\" when x = 1\n}\n";

#[test]
fn rewrites_unformatted_files_and_only_those() {
    let dir = temp_tree("rewrite", &[("a/messy.pol", MESSY), ("a/tidy.pol", TIDY)]);
    let tidy_modified = std::fs::metadata(dir.join("a/tidy.pol"))
        .and_then(|m| m.modified())
        .expect("mtime");
    let (code, stdout, stderr) = polc_in(&dir, &["fmt", "a"], "");
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(stdout, "formatted a/messy.pol\n");
    assert_eq!(
        std::fs::read_to_string(dir.join("a/messy.pol")).expect("read"),
        TIDY
    );
    // The formatted file was not written again.
    let after = std::fs::metadata(dir.join("a/tidy.pol"))
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(tidy_modified, after);
    // A second run has nothing to do.
    let (code, stdout, _) = polc_in(&dir, &["fmt", "a/messy.pol", "a/tidy.pol"], "");
    assert_eq!((code, stdout.as_str()), (0, ""));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn check_lists_unformatted_files_and_exits_one() {
    let dir = temp_tree(
        "check",
        &[
            ("t/messy.pol", MESSY),
            ("t/tidy.pol", TIDY),
            ("t/x/also.pol", MESSY),
        ],
    );
    let (code, stdout, stderr) = polc_in(&dir, &["fmt", "--check", "t"], "");
    assert_eq!(code, 1);
    insta::assert_snapshot!(format!("stdout:\n{stdout}\nstderr:\n{stderr}"));
    // Nothing was rewritten.
    assert_eq!(
        std::fs::read_to_string(dir.join("t/messy.pol")).expect("read"),
        MESSY
    );
    let (code, stdout, stderr) = polc_in(&dir, &["fmt", "--check", "t/tidy.pol"], "");
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_standard_library_is_formatted() {
    let (code, stdout, stderr) = polc_in(
        &repository_root(),
        &["fmt", "--check", "stdlib-policies"],
        "",
    );
    assert_eq!(code, 0, "run `polc fmt stdlib-policies`:\n{stdout}{stderr}");
}

#[test]
fn clean_fixtures_are_formatted() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let (code, stdout, stderr) = polc_in(&tests, &["fmt", "--check", "fixtures/clean"], "");
    assert_eq!(code, 0, "{stdout}{stderr}");
}

#[test]
fn standard_input_is_formatted_to_standard_output() {
    let dir = std::env::temp_dir();
    let (code, stdout, stderr) = polc_in(&dir, &["fmt", "-"], MESSY);
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert_eq!(stdout, TIDY);
    let (code, stdout, _) = polc_in(&dir, &["fmt", "-"], TIDY);
    assert_eq!((code, stdout.as_str()), (0, TIDY));
    let (code, stdout, stderr) = polc_in(&dir, &["fmt", "--check", "-"], MESSY);
    assert_eq!(code, 1);
    assert_eq!(stdout, "<stdin>\n");
    assert_eq!(
        stderr,
        "<stdin> is not formatted (first change at line 2)\n"
    );
    let (code, stdout, _) = polc_in(&dir, &["fmt", "--check", "-"], TIDY);
    assert_eq!((code, stdout.as_str()), (0, ""));
}

#[test]
fn syntax_errors_are_reported_and_the_file_is_left_alone() {
    let dir = temp_tree(
        "broken",
        &[("b/broken.pol", BROKEN), ("b/messy.pol", MESSY)],
    );
    let (code, stdout, stderr) = polc_in(&dir, &["fmt", "b"], "");
    assert_eq!(code, 1);
    // The other file is still formatted.
    assert_eq!(
        std::fs::read_to_string(dir.join("b/messy.pol")).expect("read"),
        TIDY
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("b/broken.pol")).expect("read"),
        BROKEN
    );
    insta::assert_snapshot!(format!("stdout:\n{stdout}\nstderr:\n{stderr}"));
    // From standard input the diagnostics go to standard error.
    let (code, stdout, stderr) = polc_in(&dir, &["fmt", "-"], BROKEN);
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(stderr.contains("pol::parse::syntax"), "{stderr}");
    assert!(stderr.contains("<stdin>:4:"), "{stderr}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn usage_errors_exit_two() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let (code, _, stderr) = polc_in(&tests, &["fmt", "no/such/path"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read `no/such/path`"), "{stderr}");
    let (code, _, stderr) = polc_in(&tests, &["fmt", "-", "fixtures/clean"], "");
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot be combined"), "{stderr}");
    let (code, _, _) = polc_in(&tests, &["fmt"], "");
    assert_eq!(code, 2);
}

// ---------------------------------------------------------------- meaning

fn pol_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                pol_files(&path, out);
            }
        } else if name.ends_with(".pol") {
            out.push(path);
        }
    }
}

/// A compiled program as JSON, source locations left out (they move when
/// the layout changes; nothing else may).
fn without_locations(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let is_loc = ["file", "start", "end", "line", "column"]
                .iter()
                .all(|k| map.contains_key(*k))
                && map.len() == 5;
            if is_loc {
                *value = serde_json::Value::Null;
            } else {
                map.values_mut().for_each(without_locations);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(without_locations),
        _ => {}
    }
}

/// What the checker makes of a set of files: every diagnostic's file,
/// code and severity (warnings included), and the program with its
/// locations erased, or the codes of its errors.
type Compiled = (
    Vec<(String, &'static str, bool)>,
    Result<serde_json::Value, Vec<&'static str>>,
);

fn compiled(files: Vec<(String, String)>) -> Compiled {
    let mut workspace = pol_sema::Workspace::new();
    workspace.set_files(files.clone());
    let diagnostics = workspace
        .diagnostics()
        .into_iter()
        .flat_map(|(path, list)| {
            list.into_iter()
                .map(move |d| (path.clone(), d.code, d.is_error()))
        })
        .collect();
    let program = match pol_sema::compile(files) {
        Ok(program) => {
            let mut json = serde_json::to_value(&program).expect("program serializes");
            without_locations(&mut json);
            Ok(json)
        }
        Err(errors) => Err(errors.into_iter().map(|(_, d)| d.code).collect()),
    };
    (diagnostics, program)
}

/// Every directory of `.pol` files in the repository is compiled as one
/// project, as written and formatted: the diagnostics must be the same
/// (file, code, severity), and the programs the same.
#[test]
fn formatting_the_repository_does_not_change_any_program() {
    let root = repository_root();
    let mut paths = Vec::new();
    pol_files(&root, &mut paths);
    let mut by_dir: std::collections::BTreeMap<PathBuf, Vec<PathBuf>> = Default::default();
    for path in paths {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        by_dir.entry(dir).or_default().push(path);
    }
    let config = pol_fmt::FormatConfig::default();
    let (mut projects, mut changed_files) = (0, 0);
    for (dir, paths) in by_dir {
        let mut original = Vec::new();
        let mut formatted = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).expect("read");
            let shown = path.display().to_string();
            // Files that do not parse are the parse-error corpus: they keep
            // their text on both sides.
            let new = pol_fmt::format(&text, &config).unwrap_or_else(|_| text.clone());
            changed_files += usize::from(new != text);
            original.push((shown.clone(), text));
            formatted.push((shown, new));
        }
        projects += 1;
        assert!(
            compiled(original) == compiled(formatted),
            "formatting changed what `{}` compiles to",
            dir.display()
        );
    }
    assert!(projects >= 20, "only {projects} directories of policies");
    eprintln!("{projects} projects compiled the same; {changed_files} files changed layout");
}
