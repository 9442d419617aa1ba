//! Prepared inputs: decoded (and laid out) once, evaluated many times,
//! with the decisions of `evaluate_json` on both engines.

use pol_runtime::{Engine, EngineKind};

fn engines(source: &str) -> Vec<Engine> {
    let program = pol_sema::compile([("p.pol".to_string(), source.to_string())]).expect("compiles");
    [EngineKind::Jit, EngineKind::Interpreter]
        .into_iter()
        .map(|kind| {
            Engine::new(program.clone())
                .and_then(|e| e.with_kind(kind))
                .expect("loads")
        })
        .collect()
}

const W1: &str = include_str!("../../bench/policies/w1.pol");
const W2: &str = include_str!("../../bench/policies/w2.pol");

#[test]
fn a_prepared_input_decides_as_its_json() {
    let inputs = [
        r#"{"principal": {"id": "u1", "role": "engineer", "tenant": "t1"}, "tool": {"name": "fs.read", "risk": 1}, "args": {"path": "/workspace/src/main.rs"}}"#,
        r#"{"principal": {"id": "u1", "role": "guest", "tenant": "t1"}, "tool": {"name": "fs.write", "risk": 5}, "args": {"path": "/etc/../passwd"}}"#,
        r#"{"principal": {"id": "u1", "role": "admin", "tenant": "t1"}, "tool": {"name": "shell.exec", "risk": 5}, "args": {}}"#,
    ];
    for engine in engines(W1) {
        let entry = engine.entrypoint("bench.w1.tool_call").expect("entry");
        for json in inputs {
            let prepared = engine
                .prepare_json(entry, json.as_bytes())
                .expect("decodes");
            assert_eq!(prepared.entrypoint(), entry);
            let expected = engine.decision_json(&engine.evaluate_json(entry, json.as_bytes(), 0));
            // Several times: the prepared input is not consumed or changed.
            for _ in 0..3 {
                let got = engine.decision_json(&engine.evaluate_prepared(&prepared, 0));
                assert_eq!(got, expected, "{:?} on {json}", engine.kind());
            }
        }
    }
}

#[test]
fn collections_and_time_are_read_from_the_prepared_frame() {
    let docs: Vec<String> = (0..50)
        .map(|i| {
            format!(
                r#"{{"id": "d{i}", "tenant": "{}", "classification": "{}", "acl": ["g{}"], "source": "wiki", "updated_at": {}}}"#,
                if i % 3 == 0 { "t1" } else { "t2" },
                ["public", "internal", "confidential", "restricted"][i % 4],
                i % 5,
                1_700_000_000 + i * 1000
            )
        })
        .collect();
    let json = format!(
        r#"{{"user": {{"id": "u", "tenant": "t1", "clearance": "confidential", "groups": ["g0", "g1", "g2"]}}, "docs": [{}]}}"#,
        docs.join(", ")
    );
    for engine in engines(W2) {
        let entry = engine
            .entrypoints()
            .next()
            .map(str::to_string)
            .expect("an entrypoint");
        let entry = engine.entrypoint(&entry).expect("entry");
        let now = 1_700_040_000 * 1_000_000_000;
        let expected = engine.evaluate_json(entry, json.as_bytes(), now);
        assert!(expected.error.is_none(), "{:?}", expected.error);
        let kept = |d: &pol_runtime::Decision| {
            engine.decision_json(d)["value"]
                .as_array()
                .map_or(0, Vec::len)
        };
        assert!(
            kept(&expected) > 0 && kept(&expected) < 50,
            "{}",
            kept(&expected)
        );
        let prepared = engine
            .prepare_json(entry, json.as_bytes())
            .expect("decodes");
        let got = engine.evaluate_prepared(&prepared, now);
        assert_eq!(engine.decision_json(&got), engine.decision_json(&expected));
        // `now` is the evaluation's, not the preparation's.
        let later = engine.evaluate_prepared(&prepared, now + 400 * 86_400 * 1_000_000_000);
        let later_json =
            engine.evaluate_json(entry, json.as_bytes(), now + 400 * 86_400 * 1_000_000_000);
        assert_eq!(
            engine.decision_json(&later),
            engine.decision_json(&later_json)
        );
    }
}

#[test]
fn refused_inputs_and_other_engines_are_denies_with_their_reason() {
    let [jit, interp] = <[Engine; 2]>::try_from(engines(W1)).expect("two engines");
    let entry = jit.entrypoint("bench.w1.tool_call").expect("entry");
    let bad = br#"{"principal": 7}"#;
    let refused = jit.prepare_json(entry, bad).expect_err("refused");
    assert!(refused.is_denied());
    assert_eq!(refused.error, jit.evaluate_json(entry, bad, 0).error);

    let json = br#"{"principal": {"id": "u1", "role": "engineer", "tenant": "t1"}, "tool": {"name": "fs.read", "risk": 1}, "args": {}}"#;
    let prepared = jit.prepare_json(entry, json).expect("decodes");
    let elsewhere = interp.evaluate_prepared(&prepared, 0);
    assert!(elsewhere.is_denied());
    assert_eq!(
        elsewhere.error.as_deref(),
        Some("input prepared by another engine")
    );
    // The same program loaded again is another engine too.
    let again = engines(W1).remove(0);
    assert_eq!(
        again.evaluate_prepared(&prepared, 0).error.as_deref(),
        Some("input prepared by another engine")
    );
    assert!(jit.evaluate_prepared(&prepared, 0).is_allowed());
}

#[test]
fn the_budget_in_force_at_evaluation_applies() {
    for mut engine in engines(W2) {
        let entry = engine
            .entrypoints()
            .next()
            .map(str::to_string)
            .expect("entry");
        let entry = engine.entrypoint(&entry).expect("entry");
        let json = br#"{"user": {"id": "u", "tenant": "t1", "clearance": "internal", "groups": ["g"]}, "docs": []}"#;
        let prepared = engine.prepare_json(entry, json).expect("decodes");
        assert!(engine.evaluate_prepared(&prepared, 0).error.is_none());
        engine.set_limits(pol_runtime::Limits {
            max_cost: 1,
            ..pol_runtime::Limits::default()
        });
        let refused = engine.evaluate_prepared(&prepared, 0);
        assert!(refused.is_denied());
        assert_eq!(
            refused.error,
            engine.evaluate_json(entry, json, 0).error,
            "{:?}",
            engine.kind()
        );
        assert!(
            refused
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("input too costly")),
            "{:?}",
            refused.error
        );
    }
}

/// A decision's value made of parts of a prepared input (whole lists,
/// records, maps, strings, and elements kept by a filter) is the same value
/// as from the JSON path, on both engines, whichever parts it shares.
#[test]
fn values_sharing_parts_of_a_prepared_input_are_the_inputs_parts() {
    let source = r#"package p
schema Doc { id: string, tags: set<string>, meta: map<string, string> }
schema In { pick: int, name: string, docs: list<Doc>, labels: map<string, string>, n: int }

policy choose(i: In) -> list<Doc> {
  return i.docs "all" when i.pick == 0
  return [i.docs[0] ?? { id: "none", tags: {}, meta: {} }] "the first" when i.pick == 1
  return filter d in i.docs: d.id != "d1" "some" when i.pick == 2
  default [] "nothing"
}

policy first_tags(i: In) -> set<string> {
  return (i.docs[0] ?? { id: "", tags: {}, meta: {} }).tags "the first's tags" when i.pick != 3
  default {} "none"
}

policy name(i: In) -> string {
  return i.name "the name" when i.pick != 3
  default "" "none"
}

policy labels(i: In) -> map<string, string> {
  return i.labels "the labels" when i.pick != 3
  default {} "none"
}

policy kept(i: In) -> list<Doc> {
  keep d in i.docs "tagged" when d.tags.len() > 0 limit i.n
}
"#;
    let json = |pick: i64, n: i64| {
        format!(
            r#"{{"pick": {pick}, "n": {n}, "name": "ana", "labels": {{"a": "1", "b": "2"}},
               "docs": [{{"id": "d0", "tags": ["x", "y"], "meta": {{"k": "v"}}}},
                        {{"id": "d1", "tags": [], "meta": {{}}}},
                        {{"id": "d2", "tags": ["x"], "meta": {{"k": "w", "l": ""}}}}]}}"#
        )
    };
    for engine in engines(source) {
        for entry in ["p.choose", "p.first_tags", "p.name", "p.labels", "p.kept"] {
            let entry = engine.entrypoint(entry).expect("entry");
            for (pick, n) in [(0, 3), (1, 1), (2, 0), (3, 2), (0, -1)] {
                let text = json(pick, n);
                let expected =
                    engine.decision_json(&engine.evaluate_json(entry, text.as_bytes(), 0));
                assert!(expected["error"].is_null(), "{expected}");
                let prepared = engine
                    .prepare_json(entry, text.as_bytes())
                    .expect("decodes");
                for _ in 0..2 {
                    let got = engine.decision_json(&engine.evaluate_prepared(&prepared, 0));
                    assert_eq!(got, expected, "{:?} on {text}", engine.kind());
                }
            }
        }
    }
}
