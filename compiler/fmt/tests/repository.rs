//! Formats every `.pol` file in the repository: the result must format to
//! itself and parse to the same syntax tree (spans aside). Files that do
//! not parse (the parse-error corpus) are skipped, and counted.

use std::path::{Path, PathBuf};

use pol_fmt::{FormatConfig, FormatError, format, same_syntax_tree};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn pol_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                pol_files(&path, out);
            }
        } else if name.ends_with(".pol") {
            out.push(path);
        }
    }
}

/// Every `.pol` file of the repository, relative paths for messages.
fn repository_files() -> Vec<(String, String)> {
    let root = repository_root();
    let mut paths = Vec::new();
    pol_files(&root, &mut paths);
    paths
        .into_iter()
        .filter_map(|path| {
            let text = std::fs::read_to_string(&path).ok()?;
            let shown = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .display()
                .to_string();
            Some((shown, text))
        })
        .collect()
}

#[test]
fn every_repository_file_formats_idempotently_to_the_same_tree() {
    let files = repository_files();
    let config = FormatConfig::default();
    let mut formatted = 0;
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for (path, text) in &files {
        let once = match format(text, &config) {
            Ok(once) => once,
            Err(FormatError::Syntax { .. }) => {
                skipped.push(path.clone());
                continue;
            }
            Err(error) => {
                failures.push(format!("{path}: {error}"));
                continue;
            }
        };
        formatted += 1;
        if !same_syntax_tree(text, &once) {
            failures.push(format!("{path}: the formatted file parses differently"));
        }
        match format(&once, &config) {
            Ok(twice) if twice == once => {}
            Ok(twice) => failures.push(format!(
                "{path}: formatting is not idempotent; first difference at line {}",
                first_difference(&once, &twice)
            )),
            Err(error) => failures.push(format!("{path}: the formatted file fails: {error}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Only the parse-error corpus (`tests/ui/parse`) and the odd file that
    // is broken on purpose may be skipped.
    assert!(
        formatted >= 150 && skipped.len() * 5 < files.len(),
        "formatted {formatted}, skipped {}: {skipped:?}",
        skipped.len()
    );
    eprintln!(
        "formatted {formatted} files, skipped {} with syntax errors",
        skipped.len()
    );
}

fn first_difference(a: &str, b: &str) -> usize {
    a.lines()
        .zip(b.lines())
        .position(|(x, y)| x != y)
        .unwrap_or(a.lines().count().min(b.lines().count()))
        + 1
}

/// The formatter must return `Ok` or `Err` on any text, never panic: every
/// prefix of a real policy file and of the comment fixture (cut at each
/// character) is formatted, and the prefixes that parse format to a text
/// that formats to itself.
#[test]
fn every_prefix_of_a_policy_formats_or_is_refused_without_panicking() {
    let root = repository_root();
    let config = FormatConfig::default();
    for file in [
        "tests/conformance/quantifiers/policy.pol",
        "compiler/fmt/tests/fixtures/comments.pol",
    ] {
        let text = std::fs::read_to_string(root.join(file)).expect("read");
        let mut ok = 0;
        for (end, _) in text.char_indices() {
            if let Ok(once) = format(&text[..end], &config) {
                ok += 1;
                assert_eq!(
                    format(&once, &config).as_deref(),
                    Ok(once.as_str()),
                    "{file}[..{end}]"
                );
            }
        }
        assert!(ok > 10, "{file}: only {ok} prefixes parse");
    }
}

/// The worked example of `docs/style.md` is what the formatter does.
#[test]
fn the_style_guide_example_is_accurate() {
    let guide = std::fs::read_to_string(repository_root().join("docs/style.md")).expect("read");
    let block_after = |marker: &str| -> String {
        let start = guide.find(marker).expect("marker in style.md") + marker.len();
        let rest = &guide[start..];
        let open = rest.find("```pol\n").expect("a pol block") + "```pol\n".len();
        let close = rest[open..].find("```").expect("block end");
        rest[open..open + close].to_string()
    };
    let before = block_after("Before:");
    let after = block_after("After `polc fmt`:");
    assert_eq!(
        format(&before, &FormatConfig::default()).as_deref(),
        Ok(after.as_str())
    );
}

/// The layout depends on the tokens and on where lines break, never on how
/// the source was indented: every repository file, re-indented at random
/// (lines that do not start in column 0 get another indentation, lines get
/// trailing spaces), formats to the same text.
#[test]
fn indentation_and_trailing_spaces_do_not_matter() {
    let config = FormatConfig::default();
    let mut checked = 0;
    for (path, text) in repository_files() {
        let Ok(expected) = format(&text, &config) else {
            continue;
        };
        let mut seed = text.len();
        let scrambled: String = text
            .split_inclusive('\n')
            .map(|line| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let trimmed = line.trim_start_matches([' ', '\t']);
                let indent = if trimmed.len() == line.len() {
                    ""
                } else {
                    ["\t", " ", "         ", "  \t "][(seed >> 33) % 4]
                };
                let body = trimmed.trim_end_matches(['\n', '\r']);
                let end = &trimmed[body.len()..];
                let trailing = if (seed >> 40) % 3 == 0 { "  " } else { "" };
                format!("{indent}{body}{trailing}{end}")
            })
            .collect();
        assert_eq!(
            format(&scrambled, &config).as_deref(),
            Ok(expected.as_str()),
            "{path}"
        );
        checked += 1;
    }
    assert!(checked >= 150, "only {checked} files");
}
