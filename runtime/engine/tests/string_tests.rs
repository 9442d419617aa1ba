//! The JIT runs the string tests and `intersects` over strings on the
//! values where they lie; the interpreter calls the builtins. Both must
//! decide alike on every shape: present and absent optionals, empty
//! strings and collections, lists of optional strings, a custom builtin
//! table (which never takes the borrowed path).

use pol_runtime::{Engine, EngineKind};

const POLICY: &str = r#"package t
schema In { s: string, t: string?, xs: list<string>, ys: set<string>, zs: list<string?> }
policy p(i: In) -> Decision {
  default deny "no"
  allow "contains" when i.s.contains(i.t ?? "")
  deny "starts" when i.t?.starts_with(i.s) ?? false
  deny "ends" when i.s.ends_with("z")
  allow "meets" when i.xs.intersects(i.ys)
  deny "meets optional" when i.zs.intersects(["a", "b"])
}
"#;

#[test]
fn both_engines_decide_string_tests_alike() {
    let program = pol_sema::compile([("t.pol".to_string(), POLICY.to_string())]).expect("compiles");
    let jit = Engine::new(program.clone())
        .and_then(|e| e.with_kind(EngineKind::Jit))
        .expect("jit");
    let interp = Engine::new(program)
        .and_then(|e| e.with_kind(EngineKind::Interpreter))
        .expect("interp");
    let entry = jit.entrypoint("t.p").expect("entry");
    let strings = ["", "a", "ab", "abz", "b"];
    let mut cases = 0;
    let mut outcomes = std::collections::BTreeSet::new();
    for s in strings {
        for t in [None, Some(""), Some("a"), Some("abzz"), Some("zz")] {
            for (xs, ys) in [
                ("[]", "[]"),
                ("[\"a\"]", "[]"),
                ("[\"a\", \"b\"]", "[\"b\"]"),
                ("[\"c\"]", "[\"a\", \"b\"]"),
            ] {
                for zs in ["[]", "[null]", "[null, \"b\"]", "[\"c\", null]", "[\"a\"]"] {
                    let t = t.map_or("null".to_string(), |t| format!("\"{t}\""));
                    let json =
                        format!(r#"{{"s": "{s}", "t": {t}, "xs": {xs}, "ys": {ys}, "zs": {zs}}}"#);
                    let a = jit.decision_json(&jit.evaluate_json(entry, json.as_bytes(), 0));
                    let b = interp.decision_json(&interp.evaluate_json(entry, json.as_bytes(), 0));
                    assert_eq!(a, b, "{json}");
                    assert!(a["error"].is_null(), "{json}: {a}");
                    outcomes.insert(a["rules"].to_string());
                    cases += 1;
                }
            }
        }
    }
    assert_eq!(cases, 500);
    // Every rule fires somewhere, and not all cases look alike.
    for reason in ["contains", "starts", "ends", "meets", "meets optional"] {
        assert!(
            outcomes
                .iter()
                .any(|o| o.contains(&format!("\"reason\":\"{reason}\""))),
            "{reason} never fired"
        );
    }
}
