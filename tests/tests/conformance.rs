//! The conformance suite: every `tests/conformance/<suite>/cases.json` case
//! evaluated on its suite's policies, by the interpreter and by the JIT;
//! see `tests/conformance/README.md`. Both engines must meet each case's
//! expectation and give identical decisions.

use std::path::{Path, PathBuf};

use pol_runtime::{Engine, EngineKind};
use serde_json::Value as Json;

fn suites() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .expect("conformance folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("cases.json").exists())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn conformance() {
    let mut cases = 0;
    let mut failures = Vec::new();
    for suite in suites() {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&suite).expect("suite").flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "pol") {
                let name = path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("policy.pol")
                    .to_string();
                files.push((name, std::fs::read_to_string(&path).expect("read policy")));
            }
        }
        let workspace = pol_tests::check(&files);
        let problems: Vec<_> = workspace
            .diagnostics()
            .into_iter()
            .filter(|(_, d)| !d.is_empty())
            .collect();
        assert!(problems.is_empty(), "{}: {problems:#?}", suite.display());
        let program = pol_sema::lower::lower(&workspace.checked()).expect("lowers");
        let interpreter = Engine::new(program.clone())
            .and_then(|e| e.with_kind(EngineKind::Interpreter))
            .expect("loads");
        let jit = Engine::new(program.clone())
            .and_then(|e| e.with_kind(EngineKind::Jit))
            .unwrap_or_else(|e| panic!("{}: {e}", suite.display()));
        let text = std::fs::read_to_string(suite.join("cases.json")).expect("cases.json");
        let list: Vec<Json> =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", suite.display()));
        let mut entry = String::new();
        for case in list {
            cases += 1;
            let name = case["name"].as_str().unwrap_or("?").to_string();
            if let Some(e) = case["entry"].as_str() {
                entry = e.to_string();
            }
            if !program.policies.iter().any(|p| p.name == entry) {
                failures.push(format!("{} / {name}: no entry `{entry}`", suite.display()));
                continue;
            };
            let now = case["now"]
                .as_str()
                .map_or(0, |t| pol_ir::time::parse_timestamp(t).expect("now"));
            let input = match case["input_text"].as_str() {
                Some(text) => text.as_bytes().to_vec(),
                None => serde_json::to_vec(&case["input"]).expect("input"),
            };
            let entrypoint = interpreter.entrypoint(&entry).expect("entrypoint");
            let suite_name = suite.file_name().and_then(|n| n.to_str()).unwrap_or("?");
            let expected = interpreter.evaluate_json(entrypoint, &input, now);
            let expected = pol_runtime::report::decision_json(&program, &expected);
            let native = jit.evaluate_json(entrypoint, &input, now);
            let native = pol_runtime::report::decision_json(&program, &native);
            for (engine, actual) in [("interpreter", &expected), ("jit", &native)] {
                if let Some(problem) = compare(&case["expect"], actual) {
                    failures.push(format!(
                        "{suite_name} / {name} ({engine}): {problem}\n  expected: {}\n  actual:   {actual}",
                        case["expect"]
                    ));
                }
            }
            if expected != native {
                failures.push(format!(
                    "{suite_name} / {name}: the engines disagree\n  interpreter: {expected}\n  jit:         {native}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {cases} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(cases > 0, "no conformance cases found");
}

/// Compares the keys written in `expect` with the actual decision JSON.
fn compare(expect: &Json, actual: &Json) -> Option<String> {
    let Json::Object(expect) = expect else {
        return Some("`expect` is not an object".into());
    };
    for (key, wanted) in expect {
        let got = match key.as_str() {
            "rules" => Json::Array(
                actual["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|r| r["id"].clone())
                    .collect(),
            ),
            "default" => actual["default"]["reason"].clone(),
            _ => actual[key].clone(),
        };
        let same = match (key.as_str(), wanted, &got) {
            ("error", Json::String(part), Json::String(error)) => error.contains(part.as_str()),
            _ => *wanted == got,
        };
        if !same {
            return Some(format!("`{key}` differs: expected {wanted}, got {got}"));
        }
    }
    None
}
