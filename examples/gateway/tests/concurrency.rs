//! Eight threads evaluate the gateway's traffic on one live engine while
//! the bundle is swapped under them: every decision equals the decision a
//! single thread gets from the revision that made it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use pol_gateway::traffic::{self, NOW_NANOS, Request};
use pol_gateway::{POLICIES, compile_bundle, compile_embedded, entrypoints};
use pol_runtime::{Engine, Entrypoint, LiveEngine, Trust};

const THREADS: usize = 8;

/// Requests in the replayed mix.
const MIX: usize = 240;

/// Revision `b`: Acme's policies with stricter settings, so that many
/// requests get another decision than under revision `a`.
fn stricter() -> String {
    let (_, text) = POLICIES[0];
    let replaced = [
        ("param rag.max_docs = 5", "param rag.max_docs = 2"),
        (
            "param rag.max_total_tokens = 6000",
            "param rag.max_total_tokens = 300",
        ),
        (
            "param tools.max_calls_per_session = { \"guest\": 5, \"user\": 50, \"staff\": 200, \"admin\": 500 }",
            "param tools.max_calls_per_session = { \"guest\": 1, \"user\": 2, \"staff\": 3, \"admin\": 4 }",
        ),
        (
            "param input.jailbreak_threshold = 0.9",
            "param input.jailbreak_threshold = 0.1",
        ),
        (
            "param monitoring.min_traffic = 50",
            "param monitoring.min_traffic = 5",
        ),
        (
            "param input.blocked_topics = { \"weapons\", \"self-harm\" }",
            "param input.blocked_topics = { \"weapons\", \"self-harm\", \"invoice\", \"summary\", \"code\" }",
        ),
        (
            "param tools.high_risk_tools = { \"fs.write\", \"fs.delete\", \"shell.run\", \"code.run\", \"email.send\" }",
            "param tools.high_risk_tools = { \"fs.write\", \"fs.delete\", \"shell.run\", \"code.run\", \"email.send\", \"search\", \"fs.read\" }",
        ),
    ];
    let mut out = text.to_string();
    for (from, to) in replaced {
        assert!(out.contains(from), "gateway.pol no longer has `{from}`");
        out = out.replace(from, to);
    }
    out
}

/// Every request's decision (as the host sees it, in JSON) on one thread.
fn decisions(engine: &Engine, entries: &[Entrypoint], mix: &[Request]) -> Vec<String> {
    mix.iter().map(|r| decide(engine, entries, r)).collect()
}

fn decide(engine: &Engine, entries: &[Entrypoint], request: &Request) -> String {
    let entry = entries[traffic::kind_index(request.kind)];
    let decision = engine.evaluate_json(entry, &request.json, NOW_NANOS);
    engine.decision_json(&decision).to_string()
}

#[test]
fn eight_threads_and_a_swap_decide_as_one_thread() {
    let a = compile_embedded("a").expect("revision a compiles");
    let b_text = stricter();
    let b = compile_bundle(&[(POLICIES[0].0, b_text.as_str())], "b").expect("revision b compiles");
    let engine_a = Engine::from_bundle(&a, &Trust::any()).expect("a loads");
    let engine_b = Engine::from_bundle(&b, &Trust::any()).expect("b loads");
    let entries = entrypoints(&engine_a).expect("entrypoints");
    assert_eq!(entries, entrypoints(&engine_b).expect("entrypoints"));

    let mix = traffic::mix(7, MIX);
    let expected_a = decisions(&engine_a, &entries, &mix);
    let expected_b = decisions(&engine_b, &entries, &mix);
    // Decisions carry their revision: compare what was decided.
    let decided = |json: &str| {
        let mut value: serde_json::Value = serde_json::from_str(json).expect("decision JSON");
        value.as_object_mut().map(|o| o.remove("revision"));
        value
    };
    let differing = (expected_a.iter().zip(&expected_b))
        .filter(|(x, y)| decided(x) != decided(y))
        .count();
    assert!(
        differing >= MIX / 8,
        "the revisions differ on only {differing} of {MIX} requests"
    );

    let live = Arc::new(LiveEngine::new(engine_a));
    let evaluated = Arc::new(AtomicUsize::new(0));
    let swapped = Arc::new(AtomicBool::new(false));
    let (mix, entries) = (Arc::new(mix), Arc::new(entries));
    let expected = Arc::new([expected_a, expected_b]);
    let workers: Vec<_> = (0..THREADS)
        .map(|t| {
            let (live, evaluated, swapped) = (live.clone(), evaluated.clone(), swapped.clone());
            let (mix, entries, expected) = (mix.clone(), entries.clone(), expected.clone());
            std::thread::spawn(move || {
                // Evaluations per revision, and mismatches.
                let mut seen = [0usize; 2];
                let mut wrong = Vec::new();
                let mut after_swap = 0;
                let mut i = t * MIX / THREADS;
                // Until a whole pass over the mix ran on revision `b`.
                while after_swap < MIX {
                    let is_swapped = swapped.load(Ordering::Acquire);
                    let engine = live.current();
                    let revision = match engine.revision() {
                        Some("a") => 0,
                        Some("b") => 1,
                        other => panic!("unexpected revision {other:?}"),
                    };
                    if is_swapped {
                        // The swap happened before this `current()`: never
                        // the old engine again.
                        assert_eq!(revision, 1, "revision a after the swap");
                        after_swap += 1;
                    }
                    let request = &mix[i % MIX];
                    let got = decide(&engine, &entries, request);
                    if got != expected[revision][i % MIX] {
                        wrong.push((revision, i % MIX, got));
                    }
                    seen[revision] += 1;
                    i += 1;
                    evaluated.fetch_add(1, Ordering::Relaxed);
                }
                (seen, wrong)
            })
        })
        .collect();
    // Swap once the threads are well into the mix.
    while evaluated.load(Ordering::Relaxed) < THREADS * MIX / 2 {
        std::thread::yield_now();
    }
    live.load_bundle(&b, &Trust::any()).expect("b loads");
    swapped.store(true, Ordering::Release);

    let mut seen = [0usize; 2];
    for worker in workers {
        let (counts, wrong) = worker.join().expect("no worker panicked");
        assert!(
            wrong.is_empty(),
            "{} decisions differ from one thread's, first: {:?}",
            wrong.len(),
            wrong[0]
        );
        seen[0] += counts[0];
        seen[1] += counts[1];
    }
    assert!(
        seen[0] >= THREADS * MIX / 2,
        "revision a evaluated {}",
        seen[0]
    );
    assert!(seen[1] >= THREADS * MIX, "revision b evaluated {}", seen[1]);
}
