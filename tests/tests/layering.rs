//! **Invariant:** no crate under `runtime/` depends on a crate under
//! `compiler/` (or on the language server), directly or through another
//! workspace crate: a production host links the runtime alone. This test
//! reads `cargo metadata` and fails otherwise.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

#[test]
fn runtime_crates_do_not_depend_on_compiler_crates() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo metadata");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("metadata is JSON");
    let root = metadata["workspace_root"]
        .as_str()
        .expect("workspace_root")
        .to_string();

    // Workspace crates by name: their folder and their non-dev path dependencies.
    let mut folder_of: BTreeMap<String, String> = BTreeMap::new();
    let mut deps_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let name = package["name"].as_str().unwrap_or_default().to_string();
        let manifest = package["manifest_path"].as_str().unwrap_or_default();
        let folder = manifest
            .strip_prefix(&root)
            .unwrap_or(manifest)
            .trim_start_matches('/')
            .to_string();
        folder_of.insert(name.clone(), folder);
        let deps = package["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].as_str() != Some("dev") && d["path"].is_string())
            .filter_map(|d| d["name"].as_str().map(str::to_string))
            .collect();
        deps_of.insert(name, deps);
    }
    let in_folder = |name: &str, prefixes: &[&str]| {
        folder_of
            .get(name)
            .is_some_and(|f| prefixes.iter().any(|p| f.starts_with(p)))
    };
    let runtime: Vec<&String> = folder_of
        .keys()
        .filter(|n| in_folder(n, &["runtime/"]))
        .collect();
    assert!(!runtime.is_empty(), "no runtime crates found");

    let mut violations = Vec::new();
    for start in runtime {
        let mut seen = BTreeSet::new();
        let mut stack = vec![start.clone()];
        while let Some(name) = stack.pop() {
            for dep in deps_of.get(&name).into_iter().flatten() {
                if seen.insert(dep.clone()) {
                    if in_folder(dep, &["compiler/", "lsp/"]) {
                        violations.push(format!("{start} -> {dep}"));
                    }
                    stack.push(dep.clone());
                }
            }
        }
    }
    assert!(
        violations.is_empty(),
        "runtime crates depend on front-end crates: {violations:?}"
    );
}
