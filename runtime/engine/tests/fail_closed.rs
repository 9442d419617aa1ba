//! Fail closed: every failure during an evaluation — a builtin that
//! errors or panics, an input at or over a limit or over the cost budget,
//! text that is not UTF-8, an arithmetic error — is a deny that carries
//! the reason, never a panic and never an allow. Every case runs on both
//! engines, which must give the same decision word for word.

use std::sync::Arc;

use pol_ir::Builtin;
use pol_runtime::{
    Builtins, Engine, EngineKind, EvalError, InputSizes, Limits, StdBuiltins, Value,
};
use serde_json::json;

/// The standard builtins, except that one fails: with an error, or with a
/// panic.
struct Faulty {
    broken: Builtin,
    panics: bool,
}

impl Builtins for Faulty {
    fn call(&self, id: Builtin, args: &[Value]) -> Result<Value, EvalError> {
        if id != self.broken {
            return StdBuiltins.call(id, args);
        }
        if self.panics {
            panic!("the detector crashed");
        }
        Err(EvalError("detector unavailable".into()))
    }
}

/// The interpreter and the JIT, loaded from `source` with these builtins
/// (the standard ones when `None`) and limits.
fn engines(source: &str, builtins: Option<Faulty>, limits: Limits) -> [Engine; 2] {
    let program = pol_sema::compile([("t.pol".to_string(), source.to_string())]).expect("compiles");
    let load = |kind: EngineKind| {
        let engine = match &builtins {
            None => Engine::new(program.clone()),
            Some(f) => Engine::with_builtins(
                program.clone(),
                Arc::new(Faulty {
                    broken: f.broken,
                    panics: f.panics,
                }),
            ),
        };
        engine
            .and_then(|e| e.with_kind(kind))
            .expect("loads")
            .with_limits(limits)
    };
    [load(EngineKind::Interpreter), load(EngineKind::Jit)]
}

/// The decision of both engines on `input` (they must agree), as JSON.
fn decide(engines: &[Engine; 2], entry: &str, input: &[u8]) -> serde_json::Value {
    let [interp, jit] = engines;
    let a =
        interp.decision_json(&interp.evaluate_json(interp.entrypoint(entry).unwrap(), input, 0));
    let b = jit.decision_json(&jit.evaluate_json(jit.entrypoint(entry).unwrap(), input, 0));
    assert_eq!(
        a,
        b,
        "the engines disagree on {}",
        String::from_utf8_lossy(input)
    );
    a
}

/// Asserts a deny that carries an error containing `reason`, with no rule
/// fired and no obligation.
fn assert_denied_with(decision: &serde_json::Value, reason: &str) {
    assert_eq!(decision["effect"], "deny", "{decision}");
    let error = decision["error"].as_str().unwrap_or_default();
    assert!(error.contains(reason), "`{error}` does not say `{reason}`");
    assert_eq!(decision["rules"], json!([]), "{decision}");
    assert_eq!(decision["obligations"], json!([]), "{decision}");
}

fn assert_allowed(decision: &serde_json::Value) {
    assert_eq!(decision["effect"], "allow", "{decision}");
    assert!(decision["error"].is_null(), "{decision}");
}

const GUARD: &str = r#"package t
import std.pii

schema Prompt { text: string }

policy guard(p: Prompt) -> Decision {
  default allow "nothing found"
  deny "personal data" when not pii.scan(p.text).is_empty()
}

/// Allows what `guard` allows: a failure inside it must not turn into an
/// allow here.
policy outer(p: Prompt) -> Decision {
  default deny "not allowed"
  allow "the guard allows" when guard(p).allowed
}
"#;

#[test]
fn a_builtin_that_fails_denies_with_its_error() {
    for panics in [false, true] {
        let engines = engines(
            GUARD,
            Some(Faulty {
                broken: Builtin::PiiScan,
                panics,
            }),
            Limits::default(),
        );
        let input = br#"{"text": "hello"}"#;
        let reason = if panics {
            "t.guard: internal error in a builtin"
        } else {
            "t.guard: detector unavailable"
        };
        assert_denied_with(&decide(&engines, "t.guard", input), reason);
        // The caller sees a denied decision; its own default denies.
        let outer = decide(&engines, "t.outer", input);
        assert_eq!(outer["effect"], "deny", "{outer}");
        assert!(outer["error"].is_null(), "{outer}");
    }
    // With working builtins the same input is allowed.
    let fine = engines(GUARD, None, Limits::default());
    assert_allowed(&decide(&fine, "t.guard", br#"{"text": "hello"}"#));
    assert_allowed(&decide(&fine, "t.outer", br#"{"text": "hello"}"#));
}

const ANY: &str = r#"package t

schema In { s: string, l: list<int>, m: map<string, int>, n: Inner? }
schema Inner { inner: Inner? }

policy any(i: In) -> Decision {
  default allow "anything goes"
}
"#;

/// A JSON input of `ANY` with the given fields.
fn any_input(s: &str, l: usize, m: &[String], depth: usize) -> Vec<u8> {
    let mut nested = json!(null);
    for _ in 0..depth {
        nested = json!({ "inner": nested });
    }
    let map: serde_json::Map<String, serde_json::Value> =
        m.iter().map(|k| (k.clone(), json!(1))).collect();
    serde_json::to_vec(&json!({ "s": s, "l": vec![7; l], "m": map, "n": nested })).unwrap()
}

#[test]
fn inputs_at_each_limit_pass_and_just_over_are_denied() {
    let limits = Limits {
        max_bytes: 400,
        max_depth: 4,
        max_collection: 5,
        max_string: 20,
        ..Limits::default()
    };
    let engines = engines(ANY, None, limits);
    let at = |s: usize, l: usize, m: usize, key: usize, depth: usize| {
        let keys: Vec<String> = (0..m).map(|i| format!("{i:0>key$}")).collect();
        any_input(&"x".repeat(s), l, &keys, depth)
    };
    // At every limit at once: accepted. `n` is at depth 1, so 3 levels of
    // `inner` below it reach depth 4.
    assert_allowed(&decide(&engines, "t.any", &at(20, 5, 5, 20, 3)));
    let over = [
        (
            at(21, 5, 5, 20, 3),
            "$.s: string of 21 bytes, more than the limit of 20",
        ),
        (at(20, 6, 5, 20, 3), "$.l: more than 5 elements"),
        (at(20, 5, 6, 20, 3), "$.m: more than 5 entries"),
        (
            at(20, 5, 5, 21, 3),
            "$.m: a key of 21 bytes, more than the limit of 20",
        ),
        (at(20, 5, 5, 20, 4), "nested deeper than the limit of 4"),
    ];
    for (input, reason) in &over {
        assert!(input.len() <= 400, "{} bytes", input.len());
        assert_denied_with(&decide(&engines, "t.any", input), reason);
    }
    // The byte limit: padding in a field the schema does not declare.
    let padded = |len: usize| {
        let base = at(0, 0, 0, 0, 0);
        let pad = len - base.len() - r#","pad":"""#.len();
        let mut text = String::from_utf8(base).unwrap();
        text.pop();
        text.push_str(&format!(r#","pad":"{}"}}"#, " ".repeat(pad)));
        assert_eq!(text.len(), len);
        text.into_bytes()
    };
    assert_allowed(&decide(&engines, "t.any", &padded(400)));
    assert_denied_with(
        &decide(&engines, "t.any", &padded(401)),
        "input is 401 bytes, more than the limit of 400",
    );
}

#[test]
fn text_that_is_not_json_or_not_utf8_is_denied() {
    let engines = engines(ANY, None, Limits::default());
    let good = any_input("héllo", 1, &[], 0);
    assert_allowed(&decide(&engines, "t.any", &good));
    // A broken UTF-8 sequence inside the string, and a lone continuation
    // byte at the start.
    let at = good.iter().position(|b| *b == 0xc3).unwrap();
    let mut truncated = good.clone();
    truncated[at + 1] = b'l';
    assert_denied_with(
        &decide(&engines, "t.any", &truncated),
        &format!("input is not valid UTF-8 (at byte {at})"),
    );
    let mut leading = good.clone();
    leading.insert(0, 0x80);
    assert_denied_with(
        &decide(&engines, "t.any", &leading),
        "input is not valid UTF-8 (at byte 0)",
    );
    for text in [&b""[..], b"{", b"null", b"[]", b"{\"s\": 1}", b"{} {}"] {
        let decision = decide(&engines, "t.any", text);
        assert_eq!(decision["effect"], "deny", "{decision}");
        assert!(decision["error"].is_string(), "{decision}");
    }
}

const ARITHMETIC: &str = r#"package t

schema In { a: int, b: int, f: float, d: duration }

policy sum(i: In) -> Decision {
  default allow "small enough"
  deny "too big" when i.a + i.b > 100
}

policy quotient(i: In) -> Decision {
  default allow "small enough"
  deny "too big" when i.a / i.b > 100 or i.a % i.b > 100
}

policy misc(i: In) -> Decision {
  default allow "small enough"
  deny "too big" when -i.a > 100 or i.a.abs() > 100 or i.f.round() > 100 or i.d * i.b > 1h
}

policy value(i: In) -> int {
  default i.a * i.b "the product"
}
"#;

#[test]
fn arithmetic_errors_deny_with_the_reason() {
    let engines = engines(ARITHMETIC, None, Limits::default());
    let input = |a: i64, b: i64, f: f64| {
        serde_json::to_vec(&json!({ "a": a, "b": b, "f": f, "d": "1s" })).unwrap()
    };
    for policy in ["t.sum", "t.quotient", "t.misc"] {
        assert_allowed(&decide(&engines, policy, &input(3, 4, 1.5)));
    }
    let cases = [
        ("t.sum", input(i64::MAX, 1, 0.0), "t.sum: integer overflow"),
        (
            "t.quotient",
            input(1, 0, 0.0),
            "t.quotient: division by zero",
        ),
        (
            "t.quotient",
            input(i64::MIN, -1, 0.0),
            "t.quotient: integer overflow",
        ),
        (
            "t.misc",
            input(i64::MIN, 1, 0.0),
            "t.misc: integer overflow in `-`",
        ),
        ("t.misc", input(1, 1, 1e300), "t.misc: builtin `round`"),
        (
            "t.misc",
            input(1, i64::MAX, 0.0),
            "t.misc: duration overflow",
        ),
        (
            "t.value",
            input(i64::MAX, 2, 0.0),
            "t.value: integer overflow",
        ),
    ];
    for (policy, text, reason) in &cases {
        let decision = decide(&engines, policy, text);
        assert_denied_with(&decision, reason);
        assert!(decision["value"].is_null(), "{decision}");
    }
}

const QUADRATIC: &str = r#"package t

schema In { xs: list<string>, ys: list<string> }

policy overlap(i: In) -> Decision {
  default allow "disjoint"
  deny "shared element" when any x in i.xs: any y in i.ys: x == y
}
"#;

#[test]
fn an_input_over_the_cost_budget_is_denied_naming_the_bound_and_the_budget() {
    let probe = engines(QUADRATIC, None, Limits::default());
    let entry = probe[0].entrypoint("t.overlap").unwrap();
    let bound = probe[0].cost_bound(entry).unwrap().clone();
    let input = |n: usize| {
        let list = |tag: &str| (0..n).map(|i| format!("{tag}{i}")).collect::<Vec<_>>();
        serde_json::to_vec(&json!({ "xs": list("x"), "ys": list("y") })).unwrap()
    };
    let sizes = |n: usize| {
        let (_, _, sizes) = probe[0].count_steps(entry, &input(n), 0).unwrap();
        sizes
    };
    // The budget is the bound at 30 elements: 30 pass, 31 are refused.
    let budget = bound.at(&sizes(30));
    assert!(bound.at(&sizes(31)) > budget);
    let engines = engines(
        QUADRATIC,
        None,
        Limits {
            max_cost: budget,
            ..Limits::default()
        },
    );
    assert_allowed(&decide(&engines, "t.overlap", &input(30)));
    let refused = decide(&engines, "t.overlap", &input(31));
    let over = bound.at(&sizes(31));
    assert_denied_with(
        &refused,
        &format!(
            "input too costly: `t.overlap` may take up to {} steps on this input ({}), \
             over the budget of {}; its bound is {bound} steps",
            pol_ir::cost::grouped(over),
            sizes(31),
            pol_ir::cost::grouped(budget)
        ),
    );
    // The same check is offered for values the host builds.
    let value: InputSizes = sizes(31);
    assert!(engines[1].admit(entry, &value).is_err());
}

/// The standard builtins, except that `pii.scan` fails, counting its calls.
struct CountingFailure(Arc<std::sync::atomic::AtomicUsize>);

impl Builtins for CountingFailure {
    fn call(&self, id: Builtin, args: &[Value]) -> Result<Value, EvalError> {
        if id != Builtin::PiiScan {
            return StdBuiltins.call(id, args);
        }
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Err(EvalError("detector unavailable".into()))
    }
}

#[test]
fn a_failing_let_is_computed_once_per_evaluation_on_both_engines() {
    // `one` reads the let, and `batch` calls `one` for each item: every
    // call fails with the let's error, but the let is computed once.
    let source = r#"package t
import std.pii

schema Item { text: string }
schema Batch { items: list<Item> }

let scanned = pii.scan("a fixed text")

policy one(i: Item) -> Decision {
  default allow "fine"
  deny "personal data" when not scanned.is_empty()
}

policy batch(b: Batch) -> Decision {
  default deny "some item is not allowed"
  allow "every item is allowed" when all i in b.items: one(i).allowed
  alert low "items not allowed" when (count i in b.items: not one(i).allowed) > 0
}
"#;
    let program = pol_sema::compile([("t.pol".to_string(), source.to_string())]).expect("compiles");
    let input = br#"{"items": [{"text": "a"}, {"text": "b"}, {"text": "c"}, {"text": "d"}]}"#;
    let mut decisions = Vec::new();
    for kind in [EngineKind::Interpreter, EngineKind::Jit] {
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let engine =
            Engine::with_builtins(program.clone(), Arc::new(CountingFailure(calls.clone())))
                .and_then(|e| e.with_kind(kind))
                .expect("loads");
        // Loading tries the let once (it reads no input), and keeps no value.
        let before = calls.load(std::sync::atomic::Ordering::Relaxed);
        let decision = engine.evaluate_json(engine.entrypoint("t.batch").unwrap(), input, 0);
        let during = calls.load(std::sync::atomic::Ordering::Relaxed) - before;
        assert_eq!(
            during, 1,
            "{kind:?} computed the failing let {during} times"
        );
        let decision = engine.decision_json(&decision);
        assert_eq!(decision["effect"], "deny", "{decision}");
        decisions.push(decision);
    }
    assert_eq!(decisions[0], decisions[1]);
}
