//! Every engine gives the same decision as Pol's interpreter on every
//! benchmark input (and on the extra cases of `inputs::all_inputs`), both
//! from prepared inputs (what the eval-only benchmarks time) and from JSON
//! text (what the JSON benchmarks time).

use std::collections::BTreeSet;

use pol_bench::cedar::CedarPeer;
use pol_bench::cel::CelPeer;
use pol_bench::inputs::{all_inputs, bench_inputs, benign_prompt, malicious_prompt};
use pol_bench::pol::{self, PolEngine, PolInterpreter};
use pol_bench::rego::{self, RegoInterpreter, RegoRvm};
use pol_bench::{Input, NOW_NANOS, Outcome, ToolVerdict, Workload, with_pol_engines};

/// The reference: Pol's interpreter, from JSON text.
fn reference(workload: Workload, inputs: &[Input]) -> Vec<Outcome> {
    let engine = PolInterpreter::load(pol::compile(workload));
    let entry = engine.entry(workload.pol_entry());
    inputs
        .iter()
        .map(|input| {
            let decision = engine.eval_json(&mut (), entry, &input.json, NOW_NANOS);
            pol::outcome(workload, &engine.report(&decision))
        })
        .collect()
}

fn check(
    engine: &str,
    workload: Workload,
    inputs: &[Input],
    expected: &[Outcome],
    got: &[Outcome],
) {
    for ((input, want), have) in inputs.iter().zip(expected).zip(got) {
        assert_eq!(
            have,
            want,
            "{engine} disagrees with pol-interp on {} input `{}`",
            workload.key(),
            input.name
        );
    }
}

fn check_pol<E: PolEngine>(workload: Workload, inputs: &[Input], expected: &[Outcome]) {
    let engine = E::load(pol::compile(workload));
    let entry = engine.entry(workload.pol_entry());
    let mut scratch = engine.scratch();
    let mut from_json = Vec::new();
    let mut prepared = Vec::new();
    for input in inputs {
        {
            let decision = engine.eval_json(&mut scratch, entry, &input.json, NOW_NANOS);
            from_json.push(pol::outcome(workload, &engine.report(&decision)));
        }
        let decoded = engine.decode(entry, &input.json);
        let decision = engine.eval(&mut scratch, entry, &decoded, NOW_NANOS);
        prepared.push(pol::outcome(workload, &engine.report(&decision)));
    }
    check(
        &format!("{} (JSON)", E::NAME),
        workload,
        inputs,
        expected,
        &from_json,
    );
    check(
        &format!("{} (eval)", E::NAME),
        workload,
        inputs,
        expected,
        &prepared,
    );
}

fn check_peers(workload: Workload) {
    let inputs = all_inputs(workload);
    let expected = reference(workload, &inputs);

    with_pol_engines!(check_pol(workload, &inputs, &expected));

    let cedar = CedarPeer::new(workload);
    let got: Vec<Outcome> = inputs
        .iter()
        .map(|i| {
            let prepared = cedar.prepare(&i.json);
            let from_prepared = cedar.outcome(&prepared, &cedar.eval(&prepared));
            let from_json = cedar.outcome(&prepared, &cedar.eval_json(&i.json));
            assert_eq!(
                from_prepared, from_json,
                "cedar: eval and JSON paths differ on `{}`",
                i.name
            );
            from_prepared
        })
        .collect();
    check("cedar", workload, &inputs, &expected, &got);

    let mut interp = RegoInterpreter::new(workload);
    let mut rvm = RegoRvm::new(workload);
    let mut got_interp = Vec::new();
    let mut got_rvm = Vec::new();
    for input in &inputs {
        got_interp.push(rego::outcome(workload, &interp.eval_json(&input.json)));
        interp.set_input(rego::parse(&input.json));
        assert_eq!(
            rego::outcome(workload, &interp.eval()),
            got_interp[got_interp.len() - 1]
        );
        got_rvm.push(rego::outcome(workload, &rvm.eval_json(&input.json)));
        rvm.set_input(rego::parse(&input.json));
        assert_eq!(
            rego::outcome(workload, &rvm.eval()),
            got_rvm[got_rvm.len() - 1]
        );
    }
    check("rego-interp", workload, &inputs, &expected, &got_interp);
    check("rego-rvm", workload, &inputs, &expected, &got_rvm);

    for (name, cel) in [
        ("cel", CelPeer::new(workload)),
        ("cel-stock-matches", CelPeer::new_stock(workload)),
    ] {
        let got: Vec<Outcome> = inputs
            .iter()
            .map(|i| {
                let from_json = cel.outcome(&cel.eval_json(&i.json));
                let scope = cel.bind(CelPeer::parse(&i.json));
                assert_eq!(
                    cel.outcome(&cel.eval(&scope)),
                    from_json,
                    "{name}: paths differ on `{}`",
                    i.name
                );
                from_json
            })
            .collect();
        check(name, workload, &inputs, &expected, &got);
    }
}

#[test]
fn w1_every_engine_agrees() {
    check_peers(Workload::W1);
}

#[test]
fn w2_every_engine_agrees() {
    check_peers(Workload::W2);
}

#[test]
fn w3_every_engine_agrees() {
    check_peers(Workload::W3);
}

#[test]
fn w4_every_engine_agrees() {
    check_peers(Workload::W4);
}

/// The benchmark inputs exercise what they should: agreement on inputs
/// where nothing fires would prove little.
#[test]
fn benchmark_inputs_decide_as_intended() {
    let w1 = reference(Workload::W1, &bench_inputs(Workload::W1));
    assert_eq!(w1, vec![Outcome::Tool(ToolVerdict::AllowWithApproval)]);

    let w2 = reference(Workload::W2, &bench_inputs(Workload::W2));
    let Outcome::Docs(kept) = &w2[0] else {
        panic!("W2 keeps documents")
    };
    assert!(
        (3..=25).contains(&kept.len()),
        "W2 keeps {} of 50 documents",
        kept.len()
    );

    let w3 = reference(Workload::W3, &bench_inputs(Workload::W3));
    let both: BTreeSet<String> = ["injection phrase", "sensitive pattern"]
        .map(String::from)
        .into();
    assert_eq!(
        w3,
        vec![
            Outcome::Guard {
                allowed: true,
                fired: BTreeSet::new()
            },
            Outcome::Guard {
                allowed: false,
                fired: both
            },
        ]
    );
    for prompt in [benign_prompt(), malicious_prompt()] {
        assert!(
            (1900..=2048).contains(&prompt.len()),
            "a W3 prompt is {} bytes",
            prompt.len()
        );
    }

    let w4 = reference(Workload::W4, &bench_inputs(Workload::W4));
    let Outcome::Alerts { allowed, alerts } = &w4[0] else {
        panic!("W4 raises alerts")
    };
    assert!(allowed);
    assert_eq!(alerts.len(), 3);

    // Every W1 verdict and both W3 effects appear among the test cases.
    let all_w1 = reference(Workload::W1, &all_inputs(Workload::W1));
    for verdict in [
        ToolVerdict::Deny,
        ToolVerdict::Allow,
        ToolVerdict::AllowWithApproval,
    ] {
        assert!(all_w1.contains(&Outcome::Tool(verdict)));
    }
}

#[test]
fn generated_project_is_ten_thousand_lines_and_compiles() {
    let files = pol::generated_project(10_000);
    let lines: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    assert!(lines >= 10_000, "{lines} lines");
    // One file per workload per copy, one policy per file, every copy
    // kept (each is its own package).
    let copies = files.len() / 4;
    assert!(copies >= 40, "{copies} copies");
    let program = pol_sema::compile(files).expect("the generated project compiles");
    assert_eq!(program.policies.len(), 4 * copies);
}
