//! CEL through `cel-interpreter`: one expression per workload
//! (`peers/wN.cel`), its constant data (Pol's params) bound once in a root
//! context, the input bound per evaluation in an inner scope.
//!
//! Eval-only starts from the input already converted to a CEL value and
//! bound; the JSON path parses the JSON text with serde_json and converts it
//! (what a CEL host does: cel-interpreter has no JSON reader of its own).
//!
//! cel-interpreter's `matches` compiles its regex on every call; the host
//! replaces it with [`cached_matches`], which keeps compiled regexes per
//! thread. [`CelPeer::new_stock`] keeps the stock `matches`, to show the
//! difference on W3.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use cel_interpreter::extractors::This;
use cel_interpreter::objects::{Key, Map};
use cel_interpreter::{Context, ExecutionError, FunctionContext, Program, Value};

use crate::inputs::{W3_PATTERNS, W3_PHRASES};
use crate::{Outcome, ToolVerdict, W4_PAGING_ALERTS, Workload};

/// One workload's expression with its data bound.
pub struct CelPeer {
    workload: Workload,
    program: Program,
    root: Context<'static>,
}

impl std::fmt::Debug for CelPeer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CelPeer")
            .field("workload", &self.workload)
            .finish()
    }
}

thread_local! {
    static REGEXES: RefCell<HashMap<String, regex::Regex>> = RefCell::new(HashMap::new());
}

/// `s.matches(re)` with the compiled regex cached per thread.
pub fn cached_matches(
    ftx: &FunctionContext,
    This(this): This<Arc<String>>,
    pattern: Arc<String>,
) -> Result<bool, ExecutionError> {
    REGEXES.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(re) = cache.get(pattern.as_str()) {
            return Ok(re.is_match(&this));
        }
        match regex::Regex::new(&pattern) {
            Ok(re) => {
                let matched = re.is_match(&this);
                cache.insert(pattern.to_string(), re);
                Ok(matched)
            }
            Err(e) => Err(ftx.error(format!("'{pattern}' is not a valid regex: {e}"))),
        }
    })
}

/// The variable the input is bound to in each workload's expression.
fn input_name(workload: Workload) -> &'static str {
    match workload {
        Workload::W1 => "call",
        Workload::W2 => "r",
        Workload::W3 => "p",
        Workload::W4 => "m",
    }
}

fn string(s: &str) -> Value {
    Value::String(Arc::new(s.to_string()))
}

fn list(items: impl IntoIterator<Item = Value>) -> Value {
    Value::List(Arc::new(items.into_iter().collect()))
}

fn map(entries: impl IntoIterator<Item = (&'static str, Value)>) -> Value {
    Value::Map(Map {
        map: Arc::new(
            entries
                .into_iter()
                .map(|(k, v)| (Key::String(Arc::new(k.to_string())), v))
                .collect(),
        ),
    })
}

/// Converts parsed JSON into a CEL value (integers as `int`).
pub fn from_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => string(s),
        serde_json::Value::Array(items) => list(items.iter().map(from_json)),
        serde_json::Value::Object(entries) => Value::Map(Map {
            map: Arc::new(
                entries
                    .iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), from_json(v)))
                    .collect(),
            ),
        }),
    }
}

/// The expression text without its `//` comment lines.
fn expression(workload: Workload) -> String {
    let source = match workload {
        Workload::W1 => include_str!("../peers/w1.cel"),
        Workload::W2 => include_str!("../peers/w2.cel"),
        Workload::W3 => include_str!("../peers/w3.cel"),
        Workload::W4 => include_str!("../peers/w4.cel"),
    };
    source
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl CelPeer {
    /// Compiles `peers/wN.cel` and binds its data, with the cached
    /// `matches`.
    pub fn new(workload: Workload) -> CelPeer {
        let mut peer = CelPeer::new_stock(workload);
        peer.root.add_function("matches", cached_matches);
        peer
    }

    /// Like [`CelPeer::new`], with cel-interpreter's own `matches` (which
    /// compiles the regex on every call).
    pub fn new_stock(workload: Workload) -> CelPeer {
        let program = Program::compile(&expression(workload))
            .unwrap_or_else(|e| panic!("{}.cel: {e:?}", workload.key()));
        let mut root = Context::default();
        match workload {
            Workload::W1 => {
                let roles = |r: &[&str]| list(r.iter().map(|s| string(s)));
                root.add_variable_from_value(
                    "allowed_roles",
                    map([
                        ("search", roles(&["guest", "analyst", "engineer", "admin"])),
                        ("fs.read", roles(&["analyst", "engineer", "admin"])),
                        ("fs.write", roles(&["engineer", "admin"])),
                        ("http.fetch", roles(&["analyst", "engineer", "admin"])),
                        ("db.query", roles(&["engineer", "admin"])),
                        ("shell.exec", roles(&["admin"])),
                    ]),
                );
            }
            Workload::W2 => {
                root.add_variable_from_value(
                    "levels",
                    map([
                        ("public", Value::Int(0)),
                        ("internal", Value::Int(1)),
                        ("confidential", Value::Int(2)),
                        ("restricted", Value::Int(3)),
                    ]),
                );
                root.add_variable_from_value(
                    "allowed_sources",
                    list(["confluence", "gdrive", "sharepoint", "wiki"].map(string)),
                );
            }
            Workload::W3 => {
                root.add_variable_from_value("injection_phrases", list(W3_PHRASES.map(string)));
                root.add_variable_from_value("sensitive_patterns", list(W3_PATTERNS.map(string)));
            }
            Workload::W4 => {}
        }
        CelPeer {
            workload,
            program,
            root,
        }
    }

    /// Binds a converted input in a scope of its own (the eval-only
    /// benchmarks bind once).
    pub fn bind(&self, input: Value) -> Context<'_> {
        let mut scope = self.root.new_inner_scope();
        if self.workload == Workload::W3 {
            // cel-interpreter has no `lowerAscii`: the host lowercases once.
            let lower = match &input {
                Value::Map(m) => match m.map.get(&Key::String(Arc::new("text".into()))) {
                    Some(Value::String(s)) => s.to_lowercase(),
                    _ => panic!("W3 input has no text"),
                },
                _ => panic!("W3 input is not a map"),
            };
            scope.add_variable_from_value("lower", Value::String(Arc::new(lower)));
        }
        scope.add_variable_from_value(input_name(self.workload), input);
        scope
    }

    /// Parses JSON text and converts it to a CEL value.
    pub fn parse(json: &[u8]) -> Value {
        from_json(&serde_json::from_slice::<serde_json::Value>(json).expect("JSON input"))
    }

    /// Evaluates the expression in a scope made by [`CelPeer::bind`].
    pub fn eval(&self, scope: &Context<'_>) -> Value {
        self.program
            .execute(scope)
            .unwrap_or_else(|e| panic!("{}.cel: {e:?}", self.workload.key()))
    }

    /// JSON text to decision.
    pub fn eval_json(&self, json: &[u8]) -> Value {
        let scope = self.bind(CelPeer::parse(json));
        self.eval(&scope)
    }

    /// The normalized outcome of a result.
    pub fn outcome(&self, value: &Value) -> Outcome {
        let strings = |v: &Value| -> Vec<String> {
            match v {
                Value::List(items) => items
                    .iter()
                    .map(|i| match i {
                        Value::String(s) => s.to_string(),
                        other => panic!("expected a string, got {other:?}"),
                    })
                    .collect(),
                other => panic!("expected a list, got {other:?}"),
            }
        };
        match self.workload {
            Workload::W1 => Outcome::Tool(match value {
                Value::String(s) => match s.as_str() {
                    "deny" => ToolVerdict::Deny,
                    "allow" => ToolVerdict::Allow,
                    "allow_with_approval" => ToolVerdict::AllowWithApproval,
                    other => panic!("W1: unexpected decision {other}"),
                },
                other => panic!("W1: expected a string, got {other:?}"),
            }),
            Workload::W2 => Outcome::Docs(strings(value)),
            Workload::W3 => {
                let fired: BTreeSet<String> = strings(value).into_iter().collect();
                Outcome::Guard {
                    allowed: fired.is_empty(),
                    fired,
                }
            }
            Workload::W4 => {
                let alerts: BTreeSet<String> = strings(value).into_iter().collect();
                Outcome::Alerts {
                    allowed: !alerts
                        .iter()
                        .any(|a| W4_PAGING_ALERTS.contains(&a.as_str())),
                    alerts,
                }
            }
        }
    }
}
