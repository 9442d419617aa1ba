//! Evaluating one policy on an input, for the `▶ evaluate` code lens: the
//! runtime's interpreter at the request time tests run at, with the
//! decision reported as the runtime's documented JSON
//! ([`pol_runtime::report`]) and a one-line summary.
//!
//! Reading the input (a file the editor names) is the caller's business:
//! this module takes JSON bytes and, when there is no input yet, builds a
//! skeleton of one from the policy's input type.

use pol_ir::ir::{Program, Type};
use pol_runtime::{Interpreter, Limits, StdBuiltins};
use serde_json::{Value as Json, json};

use crate::Analysis;
use crate::runnables::TEST_NOW;

/// A policy lowered for evaluation (see [`Analysis::prepare_evaluation`]).
/// It needs no database, so a server evaluates after dropping its snapshot.
#[derive(Debug)]
pub struct PreparedEvaluation {
    program: Program,
    /// The policy's index in `program.policies`.
    entry: u32,
}

/// The outcome of evaluating a policy on an input.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Whether the policy was evaluated: the input decoded and the
    /// evaluation raised no error (a deny is evaluated too).
    pub evaluated: bool,
    /// One line: `deny; fired deny "no shell" [acme.gate.no-shell]`, or why
    /// nothing was evaluated.
    pub summary: String,
    /// The decision as the runtime's JSON (`policy`, `effect`, `rules`,
    /// `default`, `obligations`, `value`, `error`), when the input decoded.
    pub decision: Option<Json>,
    /// Why the input was refused or the evaluation failed.
    pub error: Option<String>,
}

impl Analysis<'_> {
    /// Lowers the workspace to evaluate the policy `qualified`
    /// (`package.policy`). Fails with a message when the workspace has
    /// errors or has no such policy.
    pub fn prepare_evaluation(&self, qualified: &str) -> Result<PreparedEvaluation, String> {
        let program = pol_sema::lower::lower(self.checked())
            .map_err(|_| "cannot evaluate: the workspace has errors".to_string())?;
        let entry = program
            .policies
            .iter()
            .position(|p| p.name == qualified)
            .ok_or_else(|| format!("no policy `{qualified}`"))?;
        Ok(PreparedEvaluation {
            program,
            entry: entry as u32,
        })
    }
}

impl PreparedEvaluation {
    /// The policy's qualified name.
    pub fn policy(&self) -> &str {
        self.program
            .policies
            .get(self.entry as usize)
            .map_or("", |p| p.name.as_str())
    }

    /// A minimal input the decoder accepts: every required field with a
    /// zero or empty value (`false`, `0`, `""`, `[]`, `{}`, the duration
    /// `"0s"`, the test time as a timestamp), the first variant of an
    /// enum; optional fields are left out. Built from the policy's input
    /// type, the type the bundle manifest's `input_schema` describes.
    pub fn skeleton(&self) -> Json {
        match self.program.policies.get(self.entry as usize) {
            Some(policy) => skeleton_of(&self.program, &policy.input, &mut Vec::new()),
            None => Json::Null,
        }
    }

    /// Evaluates the policy on JSON text on the interpreter, with `now` at
    /// `2026-01-01T00:00:00Z` as in tests. A malformed input is refused
    /// with the decoder's reason; nothing here panics on input.
    pub fn evaluate(&self, input: &[u8]) -> Evaluation {
        let refused = |error: String| Evaluation {
            evaluated: false,
            summary: format!("not evaluated: {error}"),
            decision: None,
            error: Some(error),
        };
        let Some(policy) = self.program.policies.get(self.entry as usize) else {
            return refused(format!("no policy #{}", self.entry));
        };
        let interpreter = match Interpreter::new(&self.program, &StdBuiltins) {
            Ok(interpreter) => interpreter,
            Err(e) => return refused(format!("the program's params could not be computed: {e}")),
        };
        let value =
            match pol_runtime::decode_json(&self.program, &policy.input, input, &Limits::default())
            {
                Ok(value) => value,
                Err(e) => return refused(e.to_string()),
            };
        let decision = interpreter.evaluate(self.entry, value, TEST_NOW);
        let json = pol_runtime::report::decision_json(&self.program, &decision);
        Evaluation {
            evaluated: decision.error.is_none(),
            summary: summary(&json),
            error: decision.error.clone(),
            decision: Some(json),
        }
    }
}

/// One line from a decision's JSON: the effect (or value), the default
/// when it decided, the fired rules and the obligations.
fn summary(decision: &Json) -> String {
    if let Some(error) = decision["error"].as_str() {
        return format!("deny (evaluation error: {error})");
    }
    let mut parts = Vec::new();
    let effect = decision["effect"].as_str().unwrap_or("deny");
    match &decision["value"] {
        Json::Null => parts.push(effect.to_string()),
        value => parts.push(format!("{effect}, value {value}")),
    }
    if let Some(reason) = decision["default"]["reason"].as_str() {
        parts[0].push_str(&format!(" by default ({reason:?})"));
    }
    let rules: Vec<String> = decision["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            format!(
                "{} {:?} [{}]",
                r["kind"].as_str().unwrap_or("rule"),
                r["reason"].as_str().unwrap_or(""),
                r["id"].as_str().unwrap_or("")
            )
        })
        .collect();
    parts.push(if rules.is_empty() {
        "no rule fired".to_string()
    } else {
        format!("fired {}", rules.join(", "))
    });
    let obligations: Vec<String> = decision["obligations"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            let kind = o["kind"].as_str().unwrap_or("obligation");
            let rule = o["rule"].as_str().unwrap_or("");
            match (o["severity"].as_str(), o["spans"].as_array()) {
                (Some(severity), _) => format!("{kind} ({severity}) [{rule}]"),
                (_, Some(spans)) => format!("{kind} ({} spans) [{rule}]", spans.len()),
                _ => format!("{kind} [{rule}]"),
            }
        })
        .collect();
    if !obligations.is_empty() {
        parts.push(format!("obligations: {}", obligations.join(", ")));
    }
    parts.join("; ")
}

/// The smallest value of `ty` the decoder accepts (see
/// [`PreparedEvaluation::skeleton`]). `visiting` holds the schemas being
/// built, so a schema that requires itself ends instead of recursing (no
/// finite input has such a field; the result is then `{}`).
fn skeleton_of(program: &Program, ty: &Type, visiting: &mut Vec<u32>) -> Json {
    match ty {
        Type::Bool => json!(false),
        Type::Int => json!(0),
        Type::Float => json!(0.0),
        Type::String => json!(""),
        Type::Duration => json!(pol_ir::time::format_duration(0)),
        Type::Timestamp => json!(pol_ir::time::format_timestamp(TEST_NOW)),
        Type::Enum(id) => program
            .enums
            .get(id.0 as usize)
            .and_then(|e| e.variants.first())
            .map_or(Json::Null, |v| json!(v)),
        Type::Schema(id) => {
            let Some(schema) = program.schemas.get(id.0 as usize) else {
                return json!({});
            };
            if visiting.contains(&id.0) {
                return json!({});
            }
            visiting.push(id.0);
            let object = schema
                .fields
                .iter()
                .filter(|f| !matches!(f.ty, Type::Optional(_)))
                .map(|f| (f.name.clone(), skeleton_of(program, &f.ty, visiting)))
                .collect();
            visiting.pop();
            Json::Object(object)
        }
        Type::Finding => json!({ "kind": "", "start": 0, "end": 0 }),
        Type::List(_) | Type::Set(_) => json!([]),
        Type::Map(_) => json!({}),
        Type::Optional(_) | Type::Decision | Type::ValueDecision(_) | Type::None => Json::Null,
    }
}
