//! The JSON shape of a decision, for hosts and `polc eval --format json`:
//!
//! ```json
//! {
//!   "policy": "llm.tools.tool_call",
//!   "effect": "deny",
//!   "rules": [{"id": "llm.tools.tool_call.too-risky", "reason": "too risky",
//!              "kind": "deny", "file": "tools.pol", "line": 12, "column": 3}],
//!   "default": null,
//!   "obligations": [{"kind": "require_approval", "rule": "llm.tools.tool_call.high-risk-tool"},
//!                   {"kind": "alert", "rule": "...", "severity": "high"},
//!                   {"kind": "redact", "rule": "...", "spans": [{"kind": "email", "start": 4, "end": 17}]}],
//!   "value": null,
//!   "error": null,
//!   "revision": "2026-11-25.1"
//! }
//! ```
//!
//! Obligations list approvals and alerts in rule order, then redactions in
//! rule order. `default` is the id and reason of the policy's `default` when it decided
//! the effect. Values are rendered as JSON with enum variants by name,
//! records as objects, durations as `"1h30m"` and timestamps as RFC 3339.

use pol_ir::ir::{Effect, PolicyKind, Program, Type};
use serde_json::{Map, Value as Json, json};

use crate::decision::Decision;
use crate::value::Value;

/// A decision as JSON (see the module documentation for the shape).
pub fn decision_json(program: &Program, decision: &Decision) -> Json {
    let policy = program.policies.get(decision.policy as usize);
    let rules: Vec<Json> = decision
        .fired_rules(program)
        .into_iter()
        .map(|rule| {
            json!({
                "id": rule.id,
                "reason": rule.reason,
                "kind": rule.kind,
                "file": program.sources.get(rule.loc.file as usize),
                "line": rule.loc.line,
                "column": rule.loc.column,
            })
        })
        .collect();
    let mut obligations = Vec::new();
    for rule in decision.fired_rules(program) {
        match rule.kind {
            "require_approval" => {
                obligations.push(json!({"kind": "require_approval", "rule": rule.id}))
            }
            "alert" => obligations.push(json!({
                "kind": "alert",
                "rule": rule.id,
                "severity": rule.severity.map(|s| s.name()),
            })),
            _ => {}
        }
    }
    if let Some(policy) = policy {
        for (index, findings) in &decision.redactions {
            let Some(rule) = policy.rules.get(*index as usize) else {
                continue;
            };
            let spans: Vec<Json> = findings
                .iter()
                .map(|f| json!({"kind": &*f.kind, "start": f.start, "end": f.end}))
                .collect();
            obligations.push(json!({"kind": "redact", "rule": rule.id, "spans": spans}));
        }
    }
    let default = match (policy, decision.by_default) {
        (Some(policy), true) => match &policy.kind {
            PolicyKind::Decision { default: Some(d) } | PolicyKind::Value { default: d, .. } => {
                json!({"id": d.id, "reason": d.reason})
            }
            _ => Json::Null,
        },
        _ => Json::Null,
    };
    let value_ty = policy.and_then(|p| match &p.kind {
        PolicyKind::Value { ty, .. } => Some(ty.clone()),
        PolicyKind::Filter { elem } => Some(Type::List(Box::new(elem.clone()))),
        PolicyKind::Decision { .. } => None,
    });
    let value = match (&decision.value, value_ty) {
        (Some(value), Some(ty)) => value_json(program, &ty, value),
        _ => Json::Null,
    };
    json!({
        "policy": policy.map(|p| p.name.as_str()),
        "effect": match decision.effect { Effect::Allow => "allow", Effect::Deny => "deny" },
        "rules": rules,
        "default": default,
        "obligations": obligations,
        "value": value,
        "error": decision.error,
        "revision": program.revision,
    })
}

/// A value as JSON, guided by its type (enum variants by name, records as
/// objects with their field names).
pub fn value_json(program: &Program, ty: &Type, value: &Value) -> Json {
    match (ty, value) {
        (_, Value::None) => Json::Null,
        (Type::Optional(inner), v) => value_json(program, inner, v),
        (_, Value::Bool(b)) => Json::Bool(*b),
        (_, Value::Int(n)) => json!(n),
        (_, Value::Float(f)) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        (_, Value::String(s)) => Json::String(s.to_string()),
        (_, Value::Duration(n)) => Json::String(pol_ir::time::format_duration(*n)),
        (_, Value::Timestamp(n)) => Json::String(pol_ir::time::format_timestamp(*n)),
        (Type::Enum(id), Value::Variant(i)) => program
            .enums
            .get(id.0 as usize)
            .and_then(|e| e.variants.get(*i as usize))
            .map_or(json!(i), |name| Json::String(name.clone())),
        (_, Value::Variant(i)) => json!(i),
        (Type::List(elem) | Type::Set(elem), Value::List(items) | Value::Set(items)) => {
            Json::Array(items.iter().map(|v| value_json(program, elem, v)).collect())
        }
        (Type::Map(elem), Value::Map(map)) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.to_string(), value_json(program, elem, v)))
                .collect(),
        ),
        (Type::Schema(id), Value::Record(fields)) => {
            let mut object = Map::new();
            if let Some(schema) = program.schemas.get(id.0 as usize) {
                for (field, value) in schema.fields.iter().zip(fields.iter()) {
                    if !value.is_none() {
                        object.insert(field.name.clone(), value_json(program, &field.ty, value));
                    }
                }
            }
            Json::Object(object)
        }
        (_, Value::Finding(f)) => {
            json!({"kind": &*f.kind, "start": f.start, "end": f.end, "text": &*f.text})
        }
        (_, Value::Decision(d)) => decision_json(program, d),
        (_, Value::List(items) | Value::Set(items) | Value::Record(items)) => Json::Array(
            items
                .iter()
                .map(|v| value_json(program, &Type::None, v))
                .collect(),
        ),
        (_, Value::Map(map)) => Json::Object(
            map.iter()
                .map(|(k, v)| (k.to_string(), value_json(program, &Type::None, v)))
                .collect(),
        ),
    }
}
