//! Lets computed from params and constants are computed once, at load and
//! whenever the host changes params; lets that read the clock are not.
//! Both engines must see the same values either way.

use pol_runtime::{Engine, EngineKind};

const POLICY: &str = r#"package t

schema Prompt { text: string }

param words: list<string> = ["alpha", "beta"]
param more: list<string> = words + ["gamma"]
let folded: list<string> = map w in more: w.upper()
let after_launch: bool = now >= t"2026-06-01T00:00:00Z"

policy prompt(p: Prompt) -> Decision {
  default allow "fine"
  deny "a listed word" when p.text.contains_any(folded)
  alert info "after launch" when after_launch
}
"#;

fn engines() -> Vec<Engine> {
    let program = pol_sema::compile([("t.pol".to_string(), POLICY.to_string())]).expect("compiles");
    [EngineKind::Jit, EngineKind::Interpreter]
        .into_iter()
        .map(|kind| {
            Engine::new(program.clone())
                .and_then(|e| e.with_kind(kind))
                .expect("loads")
        })
        .collect()
}

fn reasons(engine: &Engine, text: &str, now: &str) -> Vec<String> {
    let entry = engine.entrypoint("t.prompt").expect("entry");
    let now = pol_ir::time::parse_timestamp(now).expect("time");
    let json = format!(r#"{{"text": "{text}"}}"#);
    let decision = engine.evaluate_json(entry, json.as_bytes(), now);
    decision.reasons(engine.program())
}

#[test]
fn lets_of_params_follow_the_params_and_lets_of_the_clock_follow_the_clock() {
    for mut engine in engines() {
        let kind = engine.kind();
        assert_eq!(
            reasons(&engine, "say Gamma", "2026-01-01T00:00:00Z"),
            ["a listed word"],
            "{kind:?}"
        );
        assert_eq!(
            reasons(&engine, "nothing here", "2026-01-01T00:00:00Z"),
            ["fine"],
            "{kind:?}"
        );
        // The clock is read per evaluation.
        assert_eq!(
            reasons(&engine, "nothing here", "2026-07-01T00:00:00Z"),
            ["after launch", "fine"],
            "{kind:?}"
        );
        // A host override reaches the param built from it and the let
        // built from that.
        engine
            .set_params_json(br#"{"t.words": ["delta"]}"#)
            .expect("params");
        assert_eq!(
            reasons(&engine, "alpha", "2026-01-01T00:00:00Z"),
            ["fine"],
            "{kind:?}"
        );
        assert_eq!(
            reasons(&engine, "DELTA and more", "2026-01-01T00:00:00Z"),
            ["a listed word"],
            "{kind:?}"
        );
        assert_eq!(
            reasons(&engine, "gamma", "2026-01-01T00:00:00Z"),
            ["a listed word"],
            "{kind:?}"
        );
    }
}
