//! The diagnostics corpus: every `.pol` file under `tests/ui/` is checked;
//! its rendered diagnostics are pinned with an insta snapshot (source and
//! output side by side) and must match the file's inline `//~`
//! expectations. Files under `tests/ui/ok/` must check clean.

use std::path::Path;

#[test]
fn ui() {
    insta::glob!("../ui", "**/*.pol", |path| {
        let text = std::fs::read_to_string(path).expect("read corpus file");
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("main.pol");
        let files = pol_tests::split_virtual_files(name, &text);
        let workspace = pol_tests::check(&files);
        let rendered = pol_tests::render(&workspace);

        let expected = pol_tests::expectations(&files);
        let actual = pol_tests::actual(&workspace);
        let clean = path.components().any(|c| c.as_os_str() == "ok");
        if clean {
            assert!(
                actual.is_empty(),
                "{} should check clean:\n{rendered}",
                path.display()
            );
        } else {
            assert!(
                !expected.is_empty(),
                "{} has no `//~` expectations",
                path.display()
            );
        }
        assert_eq!(
            actual,
            expected,
            "diagnostics of {} differ from its `//~` expectations (left: actual, right: expected)\n{rendered}",
            path.display()
        );
        insta::assert_snapshot!(format!("{text}\n-----\n{rendered}"));
    });
}

#[test]
fn corpus_is_large_enough() {
    let mut count = 0;
    count_pol_files(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ui").as_path(),
        &mut count,
    );
    assert!(count >= 40, "only {count} diagnostic cases");
}

fn count_pol_files(dir: &Path, count: &mut usize) {
    for entry in std::fs::read_dir(dir).expect("read ui dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            count_pol_files(&path, count);
        } else if path.extension().is_some_and(|e| e == "pol") {
            *count += 1;
        }
    }
}
