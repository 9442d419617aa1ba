//! The language reference is the authority a policy author reads: these
//! tests keep it in step with the implementation.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn reference() -> String {
    std::fs::read_to_string(root().join("docs/reference.md")).expect("read docs/reference.md")
}

#[test]
fn the_reference_reproduces_the_grammar_verbatim() {
    let grammar = std::fs::read_to_string(root().join("compiler/syntax/src/pol.pest"))
        .expect("read pol.pest");
    let reference = reference();
    let section = reference
        .split("## 12 Grammar")
        .nth(1)
        .expect("a grammar section");
    let block = section
        .split("```text\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("a text block");
    assert_eq!(
        block.trim_end(),
        grammar.trim_end(),
        "docs/reference.md section 12 differs from pol.pest"
    );
}

#[test]
fn every_diagnostic_code_is_documented() {
    let reference = reference();
    let mut missing = Vec::new();
    let mut found = 0;
    for dir in ["compiler/syntax/src", "compiler/sema/src"] {
        for entry in std::fs::read_dir(root().join(dir))
            .expect("read source dir")
            .flatten()
        {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "rs") || path.ends_with("tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read source");
            for piece in text.split("\"pol::").skip(1) {
                let Some(code) = piece.split('"').next() else {
                    continue;
                };
                let Some((_, name)) = code.split_once("::") else {
                    continue;
                };
                found += 1;
                if !reference.contains(&format!("| `{name}` |")) {
                    missing.push(format!("pol::{code} ({})", path.display()));
                }
            }
        }
    }
    assert!(found > 50, "only {found} codes found: is the scan broken?");
    missing.sort();
    missing.dedup();
    assert!(
        missing.is_empty(),
        "codes missing from docs/reference.md section 10.2: {missing:#?}"
    );
}
