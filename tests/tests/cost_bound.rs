//! The static cost bound is a bound: on generated well-typed programs and
//! inputs (`pol-gen`, the generator of `generated.rs`), the steps the
//! reference interpreter counts never exceed the entrypoint's bound
//! evaluated at the input's sizes. Handwritten cases for the shape of
//! bounds (a nested loop is quadratic, a chain of calls multiplies) are in
//! `runtime/engine/tests/cost.rs`.

use std::collections::BTreeMap;

use pol_ir::ir::Program;
use pol_runtime::{Engine, EngineKind};
use pol_sema::Workspace;

/// The seeds checked (each has several cases).
const SEEDS: std::ops::Range<u64> = 0..300;

#[derive(Default)]
struct Tally {
    cases: usize,
    /// Cases the interpreter evaluated without an error.
    clean: usize,
    unbounded: usize,
    /// The largest steps / bound seen, and where.
    tightest: (f64, String),
    /// How many bounds have each degree.
    degrees: BTreeMap<u32, usize>,
    failures: Vec<String>,
}

/// Compiles in a workspace kept from seed to seed (the embedded standard
/// library is parsed once), as `generated.rs` does; `None` when the
/// program has errors (`generated.rs` reports those).
fn compile(workspace: &mut Workspace, files: &[(String, String)]) -> Option<Program> {
    let paths: Vec<String> = workspace
        .files()
        .iter()
        .map(|f| f.path(workspace.db()).clone())
        .collect();
    for path in paths {
        workspace.remove_file(&path);
    }
    workspace.set_files(files.iter().cloned());
    let clean = workspace
        .diagnostics()
        .iter()
        .all(|(_, ds)| ds.iter().all(|d| !d.is_error()));
    clean
        .then(|| pol_sema::lower::lower(&workspace.checked()).ok())
        .flatten()
}

fn check_seed(seed: u64, workspace: &mut Workspace, tally: &mut Tally) {
    let generated = pol_gen::generate_from_seed(seed);
    let Some(program) = compile(workspace, &generated.files) else {
        return;
    };
    let Ok(engine) = Engine::new(program).and_then(|e| e.with_kind(EngineKind::Interpreter)) else {
        return;
    };
    let mut engine = engine;
    if let Some(params) = &generated.params
        && engine.set_params_json(params.as_bytes()).is_err()
    {
        return;
    }
    for (name, json) in &generated.cases {
        let Some(entry) = engine.entrypoint(name) else {
            continue;
        };
        let Ok((decision, steps, sizes)) =
            engine.count_steps(entry, json.as_bytes(), generated.now)
        else {
            continue;
        };
        let bound = engine.cost_bound(entry).expect("every policy has a bound");
        tally.cases += 1;
        if decision.error.is_none() {
            tally.clean += 1;
        }
        if bound.is_unbounded() {
            tally.unbounded += 1;
            // `COST_DEBUG=1` lists them, to reproduce with `pol-gen`'s
            // `dump` example.
            if std::env::var_os("COST_DEBUG").is_some() {
                eprintln!("unbounded: seed {seed} `{name}`");
            }
            continue;
        }
        *tally.degrees.entry(bound.poly().degree()).or_default() += 1;
        let at = bound.at(&sizes);
        if steps > at {
            tally.failures.push(format!(
                "seed {seed}, `{name}` on {json}: {steps} steps counted, over the bound \
                 {bound} = {at} at {sizes}"
            ));
        }
        let ratio = steps as f64 / at.max(1) as f64;
        if ratio > tally.tightest.0 {
            tally.tightest = (
                ratio,
                format!("seed {seed}, `{name}`: {steps} of {at} ({bound})"),
            );
        }
    }
}

#[test]
fn counted_steps_never_exceed_the_bound() {
    let mut tally = Tally::default();
    let mut workspace = Workspace::new();
    for seed in SEEDS {
        check_seed(seed, &mut workspace, &mut tally);
    }
    eprintln!(
        "{} cases ({} without an error), {} unbounded; bound degrees {:?}; tightest {:.3}: {}",
        tally.cases,
        tally.clean,
        tally.unbounded,
        tally.degrees,
        tally.tightest.0,
        tally.tightest.1
    );
    assert!(
        tally.failures.is_empty(),
        "{} of {} cases over their bound:\n{}",
        tally.failures.len(),
        tally.cases,
        tally.failures.join("\n")
    );
    // The property is exercised: hundreds of cases, most evaluated to the
    // end, and bounds that are not all infinite.
    assert!(tally.cases >= 500, "only {} cases", tally.cases);
    assert!(tally.clean * 2 >= tally.cases, "{} clean", tally.clean);
    assert!(
        tally.unbounded * 20 <= tally.cases,
        "{} unbounded",
        tally.unbounded
    );
}
