//! Bounded fuzzing: each fuzz target's body (`pol_gen::fuzz`, the same
//! functions `fuzz/` runs under libFuzzer) over a fixed set of inputs, so
//! a regression fails `cargo test` without a fuzzing engine:
//!
//! * the repository's own policies and inputs (the seeds of the corpora);
//! * inputs expanded from seeds with `pol_gen::seed_bytes`, the same on
//!   every run;
//! * the regressions the fuzzers found, one file per finding in
//!   `fuzz/regressions/<target>/`.
//!
//! Each target also checks that its inputs reach what it tests (programs
//! that check, bundles that load, inputs that allow), so a change that
//! made every input bounce off the first check would fail too.
//!
//! A failing input is named by its seed or file; with
//! `POL_FUZZ_DUMP=DIR` the test also writes it to `DIR/<target>/<name>`,
//! ready for `cargo fuzz run <target> DIR/<target>/<name>` (see
//! `fuzz/README.md`).

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use pol_gen::fuzz::differential::panic_message;
use pol_gen::fuzz::{
    BundleLoadTarget, CheckTarget, EvalJsonTarget, JitVsInterpTarget, parse_never_panics,
};
use pol_gen::seed_bytes;

/// One input: its name in reports, its bytes.
type Input = (String, Vec<u8>);

/// The repository's root folder.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository root")
        .to_path_buf()
}

/// Every file with this extension under the folders, sorted by path.
fn files_with(extension: &str, folders: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = folders.iter().map(|f| root().join(f)).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == extension) {
                let name = path
                    .strip_prefix(root())
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                out.push((name, std::fs::read(&path).expect("read a file")));
            }
        }
    }
    out.sort();
    out
}

/// The repository's policies.
fn policies() -> Vec<Input> {
    files_with(
        "pol",
        &[
            "stdlib-policies",
            "tests/ui",
            "tests/conformance",
            "examples",
            "compiler/polc/tests/fixtures",
        ],
    )
}

/// The findings of the fuzzers for `target`, kept as regressions.
fn regressions(target: &str) -> Vec<Input> {
    let dir = root().join("fuzz").join("regressions").join(target);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_file() {
            let name = format!("regression {}", path.display());
            out.push((name, std::fs::read(&path).expect("read a regression")));
        }
    }
    out.sort();
    out
}

/// `count` generator streams of `len` bytes from seeds `first..`, each
/// behind `prefix`.
fn streams(first: u64, count: u64, len: usize, prefix: &[u8]) -> Vec<Input> {
    (first..first + count)
        .map(|seed| {
            let mut bytes = prefix.to_vec();
            bytes.extend_from_slice(&seed_bytes(seed, len));
            (format!("seed {seed}"), bytes)
        })
        .collect()
}

/// Runs `run` on every input with the state `new` makes (made again
/// after a failure); fails with every failing input. Returns how often
/// each outcome occurred.
fn bounded<T, O: ToString>(
    target: &str,
    inputs: &[Input],
    mut new: impl FnMut() -> T,
    mut run: impl FnMut(&mut T, &[u8]) -> O,
) -> BTreeMap<String, usize> {
    let started = Instant::now();
    let mut state = new();
    let mut outcomes = BTreeMap::new();
    let mut failures = Vec::new();
    for (name, bytes) in inputs {
        match catch_unwind(AssertUnwindSafe(|| run(&mut state, bytes))) {
            Ok(outcome) => *outcomes.entry(outcome.to_string()).or_insert(0) += 1,
            Err(payload) => {
                failures.push(format!("{name}: {}", panic_message(&*payload)));
                dump(target, name, bytes);
                state = new();
            }
        }
    }
    eprintln!(
        "{target}: {} inputs in {:.1?}: {outcomes:?}",
        inputs.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{target}: {} of {} inputs fail (POL_FUZZ_DUMP=DIR writes them out):\n{}",
        failures.len(),
        inputs.len(),
        failures.join("\n\n")
    );
    outcomes
}

/// Writes a failing input under `$POL_FUZZ_DUMP/<target>/`.
fn dump(target: &str, name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("POL_FUZZ_DUMP") {
        let dir = PathBuf::from(dir).join(target);
        let file: String = name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        if std::fs::create_dir_all(&dir).is_ok() {
            let _ = std::fs::write(dir.join(file), bytes);
        }
    }
}

fn count(outcomes: &BTreeMap<String, usize>, key: &str) -> usize {
    outcomes.get(key).copied().unwrap_or(0)
}

#[test]
fn parse_never_panics_on_bounded_inputs() {
    let mut inputs = policies();
    inputs.extend(regressions("parse"));
    // Every policy with small mutations (tokens inserted, lines dropped),
    // generated programs' files, and random bytes.
    let sources: Vec<Vec<u8>> = policies().into_iter().map(|(_, b)| b).collect();
    for seed in 0..800u64 {
        let stream = seed_bytes(seed, 64);
        let mut u = arbitrary::Unstructured::new(&stream);
        let source = String::from_utf8_lossy(&sources[seed as usize % sources.len()]);
        let mutated = pol_gen::fuzz::mutate_text(&source, &mut u);
        inputs.push((format!("mutated seed {seed}"), mutated.into_bytes()));
    }
    for seed in 0..60u64 {
        for (path, text) in pol_gen::generate_from_seed(20_000 + seed).files {
            inputs.push((format!("generated seed {seed} {path}"), text.into_bytes()));
        }
    }
    inputs.extend(streams(30_000, 300, 256, b""));
    let outcomes = bounded("parse", &inputs, || (), |(), data| parse_never_panics(data));
    assert!(count(&outcomes, "parses") > 300, "{outcomes:?}");
    assert!(count(&outcomes, "syntax errors") > 300, "{outcomes:?}");
}

#[test]
fn check_never_panics_and_the_formatter_round_trips_on_bounded_inputs() {
    let mut inputs = policies();
    inputs.extend(regressions("check"));
    // Generated programs, three in four with mutations.
    inputs.extend(streams(40_000, 80, 4096, &[0]));
    let outcomes = bounded("check", &inputs, CheckTarget::new, CheckTarget::run);
    assert!(count(&outcomes, "checks") > 50, "{outcomes:?}");
    assert!(count(&outcomes, "errors") > 50, "{outcomes:?}");
    assert!(count(&outcomes, "syntax errors") > 30, "{outcomes:?}");
}

#[test]
fn bundle_load_refuses_cleanly_on_bounded_inputs() {
    let target = BundleLoadTarget::new();
    let mut inputs: Vec<Input> = target
        .bases()
        .iter()
        .enumerate()
        .flat_map(|(i, base)| {
            // Each valid bundle, and cut short at a few places.
            [base.len(), base.len() - 1, 60, 52, 20, 7]
                .into_iter()
                .map(move |n| (format!("base {i} cut at {n}"), base[..n].to_vec()))
        })
        .collect();
    inputs.extend(regressions("bundle_load"));
    // Raw bytes, byte mutations, and mutated payloads resealed (or
    // decoded and written again).
    for mode in 0..4u8 {
        inputs.extend(streams(50_000 + u64::from(mode) * 1000, 400, 256, &[mode]));
    }
    let mut target = Some(target);
    let outcomes = bounded(
        "bundle_load",
        &inputs,
        || target.take().unwrap_or_default(),
        BundleLoadTarget::run,
    );
    assert!(count(&outcomes, "loaded") > 200, "{outcomes:?}");
    for refusal in [
        "Bundle(BadMagic)",
        "Bundle(Truncated)",
        "Bundle(BadHash)",
        "Bundle(Payload)",
        "Bundle(Invalid)",
        "Bundle(ManifestMismatch)",
    ] {
        assert!(count(&outcomes, refusal) > 0, "no {refusal}: {outcomes:?}");
    }
}

#[test]
fn eval_json_always_decides_on_bounded_inputs() {
    // The conformance suite's inputs (for other policies: arbitrary JSON
    // here), then valid inputs for each entrypoint, some mutated.
    let mut inputs: Vec<Input> = files_with("json", &["tests/conformance"])
        .into_iter()
        .flat_map(|(path, bytes)| {
            let cases: Vec<serde_json::Value> = serde_json::from_slice(&bytes).expect("cases.json");
            cases.into_iter().enumerate().map(move |(i, case)| {
                let json = match case["input_text"].as_str() {
                    Some(text) => text.to_string(),
                    None => case["input"].to_string(),
                };
                (format!("{path} case {i}"), json.into_bytes())
            })
        })
        .collect();
    inputs.extend(regressions("eval_json"));
    inputs.extend(streams(60_000, 3000, 512, &[0]));
    let outcomes = bounded(
        "eval_json",
        &inputs,
        EvalJsonTarget::new,
        EvalJsonTarget::run,
    );
    assert!(count(&outcomes, "allow") > 20, "{outcomes:?}");
    assert!(count(&outcomes, "deny") > 100, "{outcomes:?}");
    assert!(count(&outcomes, "refused") > 100, "{outcomes:?}");
}

#[test]
fn jit_matches_interp_on_bounded_inputs() {
    let mut inputs = regressions("jit_vs_interp");
    // Other seeds than `generated.rs`, shorter streams: smaller programs.
    inputs.extend(streams(70_000, 60, 4096, b""));
    let outcomes = bounded(
        "jit_vs_interp",
        &inputs,
        JitVsInterpTarget::new,
        JitVsInterpTarget::run,
    );
    let cases: usize = outcomes
        .iter()
        .map(|(cases, n)| cases.parse::<usize>().unwrap_or(0) * n)
        .sum();
    assert!(cases > 300, "only {cases} cases: {outcomes:?}");
}
