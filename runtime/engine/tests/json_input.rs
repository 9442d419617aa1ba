//! The JIT decodes JSON text straight into its frame; the interpreter goes
//! through the reference decoder. Both must accept exactly the same inputs
//! and see the same values: every case here is evaluated by both engines,
//! through a policy that returns its whole input, and the decisions (the
//! echoed value, or the refusal and its message) must be identical.

use pol_runtime::{Engine, EngineKind, Limits};
use serde_json::{Value, json};

const POLICY: &str = r#"package t

enum Role { guest, admin }

schema Inner { n: int, tags: set<string>, note: string? }

schema In {
  s: string,
  i: int,
  f: float,
  b: bool,
  d: duration,
  t: timestamp,
  r: Role,
  o: string?,
  oi: int?,
  l: list<int>,
  st: set<int>,
  si: set<Inner>,
  m: map<string, int>,
  mm: map<string, map<string, string>>,
  nested: Inner?,
  items: list<Inner>,
  fs: list<Finding>,
}

policy echo(x: In) -> In {
  default x "echo"
}
"#;

fn engines(limits: Limits) -> (Engine, Engine) {
    let program = pol_sema::compile([("t.pol".to_string(), POLICY.to_string())]).expect("compiles");
    let mut jit = Engine::new(program.clone())
        .and_then(|e| e.with_kind(EngineKind::Jit))
        .expect("the JIT runs here");
    let mut interp = Engine::new(program)
        .and_then(|e| e.with_kind(EngineKind::Interpreter))
        .expect("loads");
    jit.set_limits(limits);
    interp.set_limits(limits);
    (jit, interp)
}

fn base() -> Value {
    json!({
        "s": "text with \"escapes\" and \u{e9}",
        "i": -42,
        "f": 1.5,
        "b": true,
        "d": "1h30m",
        "t": "2026-01-01T00:00:00Z",
        "r": "admin",
        "l": [3, 1, 2],
        "st": [2, 2, 1, 2],
        "si": [{"n": 1, "tags": ["a"]}, {"n": 1, "tags": ["a"]}, {"n": 1, "tags": ["b", "a"]}],
        "m": {"zeta": 1, "alpha": 2, "Beta": 3, "": 4},
        "mm": {"x": {"k": "v"}, "a": {}},
        "items": [{"n": 7, "tags": [], "note": "hi", "extra": [1, 2, {"deep": null}]}],
        "fs": [{"kind": "email", "start": 0, "end": 5, "text": "a@b.c"}, {"kind": "x", "start": 1, "end": 2}],
        "unknown": {"ignored": [true, false]}
    })
}

/// Every case: a name and JSON text.
fn cases() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = Vec::new();
    let text = |v: &Value| serde_json::to_vec(v).unwrap();
    out.push(("the base input".into(), text(&base())));
    let set = |field: &str, value: Value| {
        let mut v = base();
        v[field] = value;
        v
    };
    let remove = |field: &str| {
        let mut v = base();
        v.as_object_mut().unwrap().remove(field);
        v
    };
    let variants: Vec<(&str, Value)> = vec![
        ("an int for a float widens", set("f", json!(3))),
        ("a huge unsigned for a float", set("f", json!(u64::MAX))),
        ("a float for an int", set("i", json!(1.0))),
        ("an unsigned beyond i64", set("i", json!(u64::MAX))),
        ("i64::MIN", set("i", json!(i64::MIN))),
        ("a string for an int", set("i", json!("1"))),
        ("null for a required field", set("s", Value::Null)),
        ("null for an optional field", set("o", Value::Null)),
        ("an optional present", set("oi", json!(5))),
        ("an optional of the wrong type", set("oi", json!("5"))),
        ("an unknown variant", set("r", json!("root"))),
        ("a variant of the wrong case", set("r", json!("Admin"))),
        ("a bad duration", set("d", json!("90 minutes"))),
        ("a bad timestamp", set("t", json!("yesterday"))),
        (
            "a timestamp with an offset",
            set("t", json!("2026-01-01T02:00:00+02:00")),
        ),
        ("a missing required field", remove("b")),
        ("a missing optional field", remove("o")),
        ("an empty list", set("l", json!([]))),
        (
            "a list element of the wrong type",
            set("l", json!([1, "2"])),
        ),
        ("an object for a list", set("l", json!({"0": 1}))),
        ("an array for a record", set("nested", json!([1]))),
        (
            "a nested record",
            set("nested", json!({"n": 1, "tags": ["x", "x"]})),
        ),
        (
            "a nested record missing a field",
            set("nested", json!({"n": 1})),
        ),
        (
            "a finding without text",
            set("fs", json!([{"kind": "k", "start": 1, "end": 2}])),
        ),
        (
            "a finding without end",
            set("fs", json!([{"kind": "k", "start": 1}])),
        ),
        (
            "a finding with a string start",
            set("fs", json!([{"kind": "k", "start": "1", "end": 2}])),
        ),
        ("a map value of the wrong type", set("m", json!({"a": "1"}))),
        (
            "a map of maps with a bad inner value",
            set("mm", json!({"a": {"b": 1}})),
        ),
        ("a bool for a string", set("s", json!(false))),
        ("a number for a bool", set("b", json!(1))),
        ("the empty string", set("s", json!(""))),
        (
            "escapes in map keys",
            set("m", json!({"a\"b": 1, "a\\b": 2, "\u{1F600}": 3})),
        ),
    ];
    for (name, value) in variants {
        out.push((name.into(), text(&value)));
    }
    let raw = String::from_utf8(text(&base())).unwrap();
    let replace_first = |from: &str, to: &str| raw.replacen(from, to, 1).into_bytes();
    out.push((
        "a duplicate record key".into(),
        replace_first("{\"s\":", "{\"s\":\"first\",\"s\":"),
    ));
    out.push((
        "a duplicate optional key after null".into(),
        replace_first("{\"s\":", "{\"o\":null,\"o\":\"x\",\"s\":"),
    ));
    out.push((
        "a duplicate unknown key is ignored".into(),
        replace_first("{\"s\":", "{\"zz\":1,\"zz\":2,\"s\":"),
    ));
    out.push((
        "a duplicate map key".into(),
        replace_first("\"zeta\":1", "\"zeta\":1,\"zeta\":9"),
    ));
    out.push((
        "a duplicate finding key".into(),
        replace_first(
            "\"kind\":\"email\"",
            "\"kind\":\"email\",\"kind\":\"phone\"",
        ),
    ));
    out.push(("trailing text".into(), format!("{raw} 1").into_bytes()));
    out.push((
        "trailing whitespace".into(),
        format!("{raw} \n").into_bytes(),
    ));
    out.push(("truncated".into(), raw.as_bytes()[..raw.len() / 2].to_vec()));
    let mut invalid = raw.clone().into_bytes();
    let at = invalid.iter().position(|b| *b == b'h').unwrap();
    invalid[at] = 0xff;
    out.push(("invalid UTF-8".into(), invalid));
    out.push(("not an object".into(), b"[1, 2]".to_vec()));
    out.push(("empty".into(), Vec::new()));
    out.push(("null".into(), b"null".to_vec()));
    out
}

fn agree(jit: &Engine, interp: &Engine, name: &str, input: &[u8]) -> Value {
    let (a, b) = (
        jit.entrypoint("t.echo").unwrap(),
        interp.entrypoint("t.echo").unwrap(),
    );
    let native = jit.decision_json(&jit.evaluate_json(a, input, 0));
    let reference = interp.decision_json(&interp.evaluate_json(b, input, 0));
    assert_eq!(native, reference, "{name}");
    reference
}

#[test]
fn both_engines_decode_every_input_alike() {
    let (jit, interp) = engines(Limits::default());
    let mut accepted = 0;
    let cases = cases();
    for (name, input) in &cases {
        let decision = agree(&jit, &interp, name, input);
        if decision["error"].is_null() {
            accepted += 1;
        }
    }
    // Both kinds are exercised: values echoed and inputs refused.
    assert!(
        accepted >= 12,
        "only {accepted} of {} accepted",
        cases.len()
    );
    assert!(cases.len() - accepted >= 20);
    // Sets keep their first occurrences, maps their keys sorted.
    let echoed = agree(&jit, &interp, "base", &serde_json::to_vec(&base()).unwrap());
    assert_eq!(echoed["value"]["st"], json!([2, 1]));
    assert_eq!(echoed["value"]["si"].as_array().unwrap().len(), 2);
}

#[test]
fn both_engines_apply_the_same_limits() {
    let limits = Limits {
        max_bytes: 2_000,
        max_depth: 3,
        max_collection: 3,
        max_string: 24,
        ..Limits::default()
    };
    let (jit, interp) = engines(limits);
    let small = || {
        json!({
            "s": "short", "i": 1, "f": 1.0, "b": true, "d": "1s", "t": "2026-01-01T00:00:00Z",
            "r": "guest", "l": [], "st": [], "si": [], "m": {}, "mm": {}, "items": [], "fs": []
        })
    };
    let mut inputs: Vec<(String, Value)> = vec![("fits".into(), small())];
    for (field, value) in [
        ("l", json!([1, 2, 3])),
        ("l", json!([1, 2, 3, 4])),
        ("m", json!({"a": 1, "b": 2, "c": 3})),
        ("m", json!({"a": 1, "b": 2, "c": 3, "d": 4})),
        ("st", json!([1, 1, 1, 1])),
        ("s", json!("x".repeat(24))),
        ("s", json!("x".repeat(25))),
        ("mm", json!({"a": {"b": "c"}})),
        ("items", json!([{"n": 1, "tags": ["x"]}])),
        ("nested", json!({"n": 1, "tags": []})),
        // Map keys are strings under the same limit.
        ("m", json!({"k".repeat(24): 1})),
        ("m", json!({"k".repeat(25): 1})),
        ("mm", json!({"a": {"k".repeat(25): "v"}})),
    ] {
        let mut v = small();
        v[field] = value.clone();
        inputs.push((format!("{field} = {value}"), v));
    }
    let mut results = Vec::new();
    for (name, value) in &inputs {
        let decision = agree(&jit, &interp, name, &serde_json::to_vec(value).unwrap());
        results.push((name.clone(), decision["error"].is_null()));
    }
    let mut big = small();
    big["s"] = json!("x".repeat(4_000));
    agree(
        &jit,
        &interp,
        "over max_bytes",
        &serde_json::to_vec(&big).unwrap(),
    );
    // The limits bite on both sides of each bound.
    let accepted: Vec<bool> = results.iter().map(|(_, ok)| *ok).collect();
    assert_eq!(
        accepted,
        [
            true, true, false, true, false, false, true, false, true, false, true, true, false,
            false
        ],
        "{results:?}"
    );
}
