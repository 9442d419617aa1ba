//! Heap allocations per evaluation on the JIT, counted by
//! `allocation-counter`'s global allocator (in this test binary only), for
//! the W1 and W4 benchmark workloads: JSON text in, decision out, on a
//! warmed-up thread.

use pol_runtime::{Engine, EngineKind};

/// Allocations per evaluation of `entry` on `json`, averaged over 100
/// evaluations after 100 to warm up: from the JSON text, and of the input
/// prepared in advance (evaluation only).
fn allocations(source: &str, entry: &str, json: &str) -> (f64, f64, bool) {
    let program = pol_sema::compile([("w.pol".to_string(), source.to_string())]).expect("compiles");
    let engine = Engine::new(program)
        .and_then(|e| e.with_kind(EngineKind::Jit))
        .expect("the JIT runs here");
    let entry = engine.entrypoint(entry).expect("entry");
    let mut denied = false;
    for _ in 0..100 {
        denied = engine.evaluate_json(entry, json.as_bytes(), 0).is_denied();
    }
    let info = allocation_counter::measure(|| {
        for _ in 0..100 {
            std::hint::black_box(engine.evaluate_json(entry, json.as_bytes(), 0));
        }
    });
    let prepared = engine
        .prepare_json(entry, json.as_bytes())
        .expect("decodes");
    for _ in 0..100 {
        std::hint::black_box(engine.evaluate_prepared(&prepared, 0));
    }
    let eval_only = allocation_counter::measure(|| {
        for _ in 0..100 {
            std::hint::black_box(engine.evaluate_prepared(&prepared, 0));
        }
    });
    (
        info.count_total as f64 / 100.0,
        eval_only.count_total as f64 / 100.0,
        denied,
    )
}

#[test]
fn evaluations_allocate_nothing() {
    let w1 = allocations(
        include_str!("../../bench/policies/w1.pol"),
        "bench.w1.tool_call",
        r#"{"principal": {"id": "u1", "role": "engineer", "tenant": "t1"},
            "tool": {"name": "fs.read", "risk": 1},
            "args": {"path": "/workspace/src/main.rs"}}"#,
    );
    let w4 = allocations(
        include_str!("../../bench/policies/w4.pol"),
        "bench.w4.alerts",
        r#"{"service": "chat", "window_s": 60, "requests": 1000, "errors": 30,
            "blocked": 10, "p95_latency_ms": 900, "tokens_spent": 10, "token_budget": 100}"#,
    );
    eprintln!("allocations per evaluation: W1 {w1:?}, W4 {w4:?}");
    // The input frame, the let caches and every intermediate value live in
    // the thread's reused arena; map lookups search in place; the string
    // tests run on the text where it lies; the decision's fired-rule set
    // is inline. Nothing is left to allocate.
    assert_eq!(w4.0, 0.0, "W4 allocates {} times per evaluation", w4.0);
    assert_eq!(w1.0, 0.0, "W1 allocates {} times per evaluation", w1.0);
    assert_eq!(w4.1, 0.0, "W4 eval-only allocates {} times", w4.1);
    assert_eq!(w1.1, 0.0, "W1 eval-only allocates {} times", w1.1);
}
