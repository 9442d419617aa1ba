//! The static cost bound on handwritten policies: its shape (a loop is
//! linear, a nested loop quadratic, a chain of policy calls multiplies),
//! how close it is to the steps the interpreter counts on worst-case
//! inputs, params plugged in at load, and the budget it is held to. The
//! property over generated programs is `tests/tests/cost_bound.rs`.

use pol_runtime::{Engine, EngineKind, Entrypoint, InputSizes, Limits, LiveEngine, Trust};
use serde_json::json;

fn engine(source: &str) -> Engine {
    let program = pol_sema::compile([("t.pol".to_string(), source.to_string())]).expect("compiles");
    Engine::new(program).expect("loads")
}

/// Counts the steps of `entry` on `input` and checks them against the
/// bound; returns (steps, bound at the input's sizes, sizes).
fn measure(engine: &Engine, entry: &str, input: &serde_json::Value) -> (u64, u64, InputSizes) {
    let entry: Entrypoint = engine.entrypoint(entry).expect("entrypoint");
    let text = serde_json::to_vec(input).unwrap();
    let (decision, steps, sizes) = engine.count_steps(entry, &text, 0).expect("decodes");
    assert!(decision.error.is_none(), "{decision:?}");
    let bound = engine.cost_bound(entry).unwrap();
    let at = bound.at(&sizes);
    assert!(
        steps <= at,
        "{steps} steps over the bound {bound} = {at} at {sizes}"
    );
    (steps, at, sizes)
}

const LOOPS: &str = r#"package t

schema In { xs: list<int>, ys: list<int> }

policy linear(i: In) -> Decision {
  default allow "no negative"
  deny "negative" when any x in i.xs: x < 0
}

policy nested(i: In) -> Decision {
  default allow "disjoint"
  deny "shared" when any x in i.xs: any y in i.ys: x == y
}

policy counted(i: In) -> int {
  default count x in i.xs: x > 0 "positives"
}
"#;

#[test]
fn a_loop_is_linear_and_a_nested_loop_quadratic() {
    let engine = engine(LOOPS);
    let degree = |name: &str| {
        let entry = engine.entrypoint(name).unwrap();
        engine.cost_bound(entry).unwrap().poly().degree()
    };
    assert_eq!(degree("t.linear"), 1);
    assert_eq!(degree("t.counted"), 1);
    assert_eq!(degree("t.nested"), 2);
    let bound = |name: &str| {
        let entry = engine.entrypoint(name).unwrap();
        engine.cost_bound(entry).unwrap().to_string()
    };
    assert_eq!(bound("t.linear"), "5 + 5·n");
    assert_eq!(bound("t.nested"), "5 + 4·n + 5·n²");
    // Worst cases (no early exit): the count stays within a small factor
    // of the bound as the input grows.
    for n in [1usize, 10, 100, 400] {
        let xs: Vec<i64> = (0..n as i64).collect();
        let ys: Vec<i64> = (0..n as i64).map(|y| -1 - y).collect();
        let input = json!({ "xs": xs, "ys": ys });
        for name in ["t.linear", "t.nested", "t.counted"] {
            let (steps, at, _) = measure(&engine, name, &input);
            assert!(
                at <= 2 * steps,
                "{name} at n = {n}: {steps} steps, bound {at}: not tight"
            );
        }
    }
}

/// `p0` does a little; each `pK` calls `pK-1` twice.
fn chain(levels: usize) -> String {
    let mut source = String::from(
        "package t\nschema In { x: int }\npolicy p0(i: In) -> Decision {\n  allow \"small\" when i.x < 10\n}\n",
    );
    for k in 1..=levels {
        source.push_str(&format!(
            "policy p{k}(i: In) -> Decision {{\n  allow \"both\" when p{0}(i).allowed and p{0}({{ x: i.x + 1 }}).allowed\n}}\n",
            k - 1
        ));
    }
    source
}

#[test]
fn a_chain_of_policy_calls_multiplies_and_is_refused_over_the_budget() {
    // Ten levels: 2¹⁰ evaluations of `p0`, counted and bounded.
    let short = engine(&chain(10));
    let (steps, at, _) = measure(&short, "t.p10", &json!({ "x": -100 }));
    assert!(steps >= 1 << 10, "{steps}");
    assert!(at <= 2 * steps, "{steps} steps, bound {at}");
    let entry = short.entrypoint("t.p10").unwrap();
    assert_eq!(short.cost_bound(entry).unwrap().poly().degree(), 0);
    // Thirty levels: a constant bound in the billions, over the default
    // budget for every input, on both engines.
    let long = engine(&chain(30));
    let entry = long.entrypoint("t.p30").unwrap();
    let bound = long.cost_bound(entry).unwrap().clone();
    assert!(bound.at(&InputSizes::default()) > 1 << 32, "{bound}");
    assert_eq!(bound.free_below(Limits::default().max_cost, 1 << 20), None);
    let interp = engine(&chain(30))
        .with_kind(EngineKind::Interpreter)
        .unwrap();
    for engine in [&long, &interp] {
        let decision = engine.evaluate_json(entry, br#"{"x": 1}"#, 0);
        assert!(decision.is_denied());
        let error = decision.error.as_deref().unwrap_or_default();
        assert!(
            error.starts_with("input too costly: `t.p30` may take up to ")
                && error.contains("over the budget of 500,000,000"),
            "{error}"
        );
    }
    // The same chain ten levels deep is well within the budget.
    let entry = short.entrypoint("t.p10").unwrap();
    assert!(
        short
            .evaluate_json(entry, br#"{"x": -100}"#, 0)
            .is_allowed()
    );
}

const PARAMS: &str = r#"package t

schema In { text: string }

param markers: list<string> = ["a", "b"]

policy marked(i: In) -> Decision {
  default allow "unmarked"
  deny "marked" when any m in markers: i.text.contains(m)
}
"#;

#[test]
fn params_are_plugged_in_at_load_and_again_when_overridden() {
    let mut engine = engine(PARAMS);
    let entry = engine.entrypoint("t.marked").unwrap();
    let before = engine.cost_bound(entry).unwrap().clone();
    let input = json!({ "text": "zzzz".repeat(50) });
    measure(&engine, "t.marked", &input);
    let markers: Vec<String> = (0..100).map(|i| format!("marker-{i}")).collect();
    engine
        .set_params_json(
            serde_json::to_string(&json!({ "t.markers": markers }))
                .unwrap()
                .as_bytes(),
        )
        .unwrap();
    let after = engine.cost_bound(entry).unwrap().clone();
    let sizes = InputSizes {
        longest_collection: 0,
        longest_string: 200,
        bytes: 215,
    };
    // One scan of the text per marker: fifty times the markers, fifty
    // times the bound's text term.
    assert!(
        after.at(&sizes) > 40 * before.at(&sizes) / 2,
        "{before} then {after}"
    );
    measure(&engine, "t.marked", &input);
}

#[test]
fn the_standard_prompt_guard_stays_within_the_default_budget() {
    let program = pol_sema::compile([(
        "guards/input.pol".to_string(),
        include_str!("../../../stdlib-policies/guards/input.pol").to_string(),
    )])
    .expect("the stdlib compiles");
    let engine = Engine::new(program).expect("loads");
    let entry = engine.entrypoint("std.guards.input.prompt").unwrap();
    let bound = engine.cost_bound(entry).unwrap().clone();
    let sentence = "Please summarize the attached report, mail it to ops@example.com \
                    and ignore the previous meeting notes. Bearer abcdefgh12345678 ";
    for size in [100usize, 2_000, 16_000, 64_000] {
        let text: String = sentence.chars().cycle().take(size).collect();
        let input =
            json!({ "text": text, "role": "staff", "tenant": "t1", "topics": ["finance", "mail"] });
        let (steps, at, sizes) = measure(&engine, "std.guards.input.prompt", &input);
        eprintln!("{size} bytes: {steps} steps counted, bound {at} at {sizes}");
        assert!(
            at <= Limits::default().max_cost / 2,
            "a {size}-byte prompt is bounded by {at} steps ({bound} at {sizes})"
        );
        // The bound is loose for prose (it allows for the worst text of
        // that length) but not absurdly so.
        assert!(at <= 400 * steps, "{steps} steps, bound {at} at {sizes}");
    }
}

#[test]
fn a_hot_swap_keeps_the_hosts_limits() {
    let bundle = |reason: &str| {
        let source = format!(
            "package demo\nschema Call {{ tool: string }}\npolicy call(c: Call) -> Decision {{\n  allow \"{reason}\" when c.tool == \"search\"\n}}\n"
        );
        let program = pol_sema::compile([("a.pol".to_string(), source)]).unwrap();
        pol_ir::bundle::write(&program, &pol_ir::bundle::BuildInfo::default(), None).unwrap()
    };
    let limits = Limits {
        max_string: 8,
        ..Limits::default()
    };
    let first = Engine::from_bundle(&bundle("v1"), &Trust::any())
        .unwrap()
        .with_limits(limits);
    let live = LiveEngine::new(first);
    live.load_bundle(&bundle("v2"), &Trust::any()).unwrap();
    let engine = live.current();
    assert_eq!(*engine.limits(), limits);
    let entry = engine.entrypoint("demo.call").unwrap();
    let decision = engine.evaluate_json(entry, br#"{"tool": "a long tool name"}"#, 0);
    assert!(decision.error.unwrap().contains("more than the limit of 8"));
}

#[test]
fn values_built_by_the_host_are_checked_on_request() {
    let engine = engine(LOOPS);
    let entry = engine.entrypoint("t.nested").unwrap();
    let list = |n: i64| pol_runtime::Value::List((0..n).map(pol_runtime::Value::Int).collect());
    let input = pol_runtime::Value::Record(vec![list(20_000), list(20_000)].into());
    // Over the budget: 5·n² alone is two billion.
    let error = engine.check_cost(entry, &input).unwrap_err();
    assert!(error.contains("n = 20,000"), "{error}");
    let small = pol_runtime::Value::Record(vec![list(3), list(3)].into());
    assert_eq!(engine.check_cost(entry, &small), Ok(()));
}

#[test]
fn case_mapping_grows_text_at_most_threefold() {
    // The bound takes `lower()`, `upper()` and `normalize` to at most
    // three times their input's bytes.
    for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
        let s = c.to_string();
        for mapped in [s.to_lowercase(), s.to_uppercase()] {
            assert!(mapped.len() <= 3 * s.len(), "{c:?} maps to {mapped:?}");
        }
    }
}

const LETS: &str = r#"package t

schema In { xs: list<int> }

param items: list<int> = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]

/// Reads the clock: computed in each evaluation, once.
let stamp: int = (map i in items: i * now.unix_seconds()).sum()

/// Fails in each evaluation (a division by zero), once.
let broken: int = (map i in items: i / (now.unix_seconds() - now.unix_seconds())).sum()

policy inner(i: In) -> Decision {
  allow "broken is positive" when broken > 0
}

policy uses(i: In) -> Decision {
  default allow "fine"
  deny "late" when any x in i.xs: x > stamp
  deny "inner denied" when (count x in i.xs: inner(i).denied) > 0
}
"#;

#[test]
fn a_let_is_counted_once_per_evaluation_even_when_it_fails() {
    let engine = engine(LETS);
    for n in [0usize, 1, 50] {
        let xs: Vec<i64> = (0..n as i64).map(|x| -x).collect();
        let entry = engine.entrypoint("t.uses").unwrap();
        let text = serde_json::to_vec(&json!({ "xs": xs })).unwrap();
        let (decision, steps, sizes) = engine.count_steps(entry, &text, 0).unwrap();
        assert_eq!(decision.is_denied(), n > 0, "{decision:?}");
        let bound = engine.cost_bound(entry).unwrap();
        assert!(
            steps <= bound.at(&sizes),
            "{steps} steps, bound {bound} at {sizes}"
        );
    }
}
