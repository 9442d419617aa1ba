//! Schema-directed input decoding: JSON text to a [`Value`] in one pass.
//!
//! The decoder is a serde `DeserializeSeed` driven by the input's IR type,
//! so JSON is read straight into runtime values: no intermediate
//! `serde_json::Value`, no second pass. Unknown fields are skipped; a
//! duplicate key, a missing required field, a value of the wrong type, a
//! string that is not a valid timestamp or duration, nesting or sizes beyond
//! the limits are errors that name the field path.
//!
//! While it reads, the decoder measures the input's sizes (its longest
//! collection and longest string, [`InputSizes`]): the engine evaluates
//! the entrypoint's cost bound on them.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use pol_ir::cost::InputSizes;
use pol_ir::ir::{Program, Type};
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use crate::value::{FindingValue, Value};

pub use pol_ir::limits::Limits;

/// Why an input was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Where: a path such as `$.principal.role` (`$` alone for the root).
    pub path: String,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "input {}: {}", self.path, self.problem)
    }
}

impl std::error::Error for DecodeError {}

/// Decodes JSON text against `ty` (a type of `program`).
pub fn decode_json(
    program: &Program,
    ty: &Type,
    json: &[u8],
    limits: &Limits,
) -> Result<Value, DecodeError> {
    decode_json_sized(program, ty, json, limits).map(|(value, _)| value)
}

/// [`decode_json`], also returning the input's sizes: its longest
/// collection (elements of an array before a set drops duplicates, or
/// entries of an object read as a map), its longest string or map key
/// (every JSON string read, whatever it decodes to), and its length in
/// bytes.
pub fn decode_json_sized(
    program: &Program,
    ty: &Type,
    json: &[u8],
    limits: &Limits,
) -> Result<(Value, InputSizes), DecodeError> {
    if json.len() > limits.max_bytes {
        return Err(DecodeError {
            path: "$".into(),
            problem: format!(
                "input is {} bytes, more than the limit of {}",
                json.len(),
                limits.max_bytes
            ),
        });
    }
    let text = std::str::from_utf8(json).map_err(|e| DecodeError {
        path: "$".into(),
        problem: format!("input is not valid UTF-8 (at byte {})", e.valid_up_to()),
    })?;
    let state = State {
        program,
        limits,
        error: std::cell::RefCell::new(None),
        longest_collection: std::cell::Cell::new(0),
        longest_string: std::cell::Cell::new(0),
    };
    // serde_json stops at 128 levels on its own; `max_depth` is lower.
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let seed = Seed {
        state: &state,
        ty,
        path: Path::Root,
        depth: 0,
    };
    let result = seed
        .deserialize(&mut deserializer)
        .and_then(|v| deserializer.end().map(|()| v));
    match result {
        Ok(value) => Ok((
            value,
            InputSizes {
                longest_collection: state.longest_collection.get() as u64,
                longest_string: state.longest_string.get() as u64,
                bytes: json.len() as u64,
            },
        )),
        Err(e) => Err(state.error.into_inner().unwrap_or_else(|| DecodeError {
            path: "$".into(),
            problem: e.to_string(),
        })),
    }
}

struct State<'a> {
    program: &'a Program,
    limits: &'a Limits,
    /// The first error, with its path (serde's own error type cannot carry
    /// one, so it is kept here).
    error: std::cell::RefCell<Option<DecodeError>>,
    /// The most elements of a collection read so far.
    longest_collection: std::cell::Cell<usize>,
    /// The most bytes of a string or map key read so far.
    longest_string: std::cell::Cell<usize>,
}

impl State<'_> {
    fn saw_collection(&self, len: usize) {
        if len > self.longest_collection.get() {
            self.longest_collection.set(len);
        }
    }

    fn saw_string(&self, len: usize) {
        if len > self.longest_string.get() {
            self.longest_string.set(len);
        }
    }
}

/// A field path, built only when an error needs it.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Field(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => f.write_str("$"),
            Path::Field(parent, name) => write!(f, "{parent}.{name}"),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

struct Seed<'a> {
    state: &'a State<'a>,
    ty: &'a Type,
    path: Path<'a>,
    depth: usize,
}

impl Seed<'_> {
    fn fail<E: de::Error>(&self, problem: impl Into<String>) -> E {
        let problem = problem.into();
        let mut slot = self.state.error.borrow_mut();
        if slot.is_none() {
            *slot = Some(DecodeError {
                path: self.path.to_string(),
                problem: problem.clone(),
            });
        }
        E::custom(problem)
    }

    fn expected(&self) -> String {
        type_name(self.state.program, self.ty)
    }
}

fn type_name(program: &Program, ty: &Type) -> String {
    match ty {
        Type::Bool => "a boolean".into(),
        Type::Int => "an integer".into(),
        Type::Float => "a number".into(),
        Type::String => "a string".into(),
        Type::Duration => "a duration string such as \"5m\"".into(),
        Type::Timestamp => "an RFC 3339 timestamp string".into(),
        Type::Enum(id) => match program.enums.get(id.0 as usize) {
            Some(e) => format!(
                "one of {}",
                e.variants
                    .iter()
                    .map(|v| format!("\"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            None => "an enum variant".into(),
        },
        Type::Schema(id) => match program.schemas.get(id.0 as usize) {
            Some(s) => format!("an object ({})", s.name),
            None => "an object".into(),
        },
        Type::Finding => "a finding object".into(),
        Type::List(_) | Type::Set(_) => "an array".into(),
        Type::Map(_) => "an object".into(),
        Type::Optional(inner) => format!("{} or null", type_name(program, inner)),
        Type::Decision | Type::ValueDecision(_) | Type::None => {
            "nothing (not an input type)".into()
        }
    }
}

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        if self.depth > self.state.limits.max_depth {
            return Err(self.fail(format!(
                "nested deeper than the limit of {}",
                self.state.limits.max_depth
            )));
        }
        // `deserialize_any` lets the JSON say what it holds, so a mismatch
        // reaches the visitor, which names the path and both types.
        match self.ty {
            Type::Optional(_) => deserializer.deserialize_option(self),
            Type::Decision | Type::ValueDecision(_) | Type::None => {
                Err(self.fail("this type cannot be an input"))
            }
            _ => deserializer.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expected())
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        match self.ty {
            Type::Bool => Ok(Value::Bool(b)),
            _ => Err(self.fail(format!("expected {}, found a boolean", self.expected()))),
        }
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        match self.ty {
            Type::Int => Ok(Value::Int(n)),
            Type::Float => Ok(Value::Float(n as f64)),
            _ => Err(self.fail(format!("expected {}, found a number", self.expected()))),
        }
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        match (self.ty, i64::try_from(n)) {
            (Type::Int, Ok(n)) => Ok(Value::Int(n)),
            (Type::Int, Err(_)) => Err(self.fail(format!("{n} does not fit in a 64-bit integer"))),
            (Type::Float, _) => Ok(Value::Float(n as f64)),
            _ => Err(self.fail(format!("expected {}, found a number", self.expected()))),
        }
    }

    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Value, E> {
        match self.ty {
            Type::Float => Ok(Value::Float(f)),
            Type::Int => Err(self.fail(format!("expected an integer, found {f}"))),
            _ => Err(self.fail(format!("expected {}, found a number", self.expected()))),
        }
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        if s.len() > self.state.limits.max_string {
            return Err(self.fail(format!(
                "string of {} bytes, more than the limit of {}",
                s.len(),
                self.state.limits.max_string
            )));
        }
        self.state.saw_string(s.len());
        match self.ty {
            Type::String => Ok(Value::string(s)),
            Type::Duration => pol_ir::time::parse_duration_literal(s)
                .map(Value::Duration)
                .ok_or_else(|| {
                    self.fail(format!(
                        "\"{s}\" is not a duration such as \"90s\" or \"1h30m\""
                    ))
                }),
            Type::Timestamp => pol_ir::time::parse_timestamp(s)
                .map(Value::Timestamp)
                .map_err(|problem| {
                    self.fail(format!("\"{s}\" is not an RFC 3339 timestamp: {problem}"))
                }),
            Type::Enum(id) => {
                let variants = self
                    .state
                    .program
                    .enums
                    .get(id.0 as usize)
                    .map(|e| e.variants.as_slice())
                    .unwrap_or(&[]);
                match variants.iter().position(|v| v == s) {
                    Some(index) => Ok(Value::Variant(index as u32)),
                    None => Err(self.fail(format!("\"{s}\" is not {}", self.expected()))),
                }
            }
            _ => Err(self.fail(format!("expected {}, found a string", self.expected()))),
        }
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        match self.ty {
            Type::Optional(_) => Ok(Value::None),
            _ => Err(self.fail(format!("expected {}, found null", self.expected()))),
        }
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.visit_none()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        match self.ty {
            Type::Optional(inner) => Seed {
                state: self.state,
                ty: inner,
                path: self.path,
                depth: self.depth,
            }
            .deserialize(deserializer),
            _ => Err(self.fail("unexpected value")),
        }
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let elem = match self.ty {
            Type::List(t) | Type::Set(t) => &**t,
            _ => return Err(self.fail(format!("expected {}, found an array", self.expected()))),
        };
        let mut items = Vec::new();
        loop {
            let path = Path::Index(&self.path, items.len());
            let seed = Seed {
                state: self.state,
                ty: elem,
                path,
                depth: self.depth + 1,
            };
            match seq.next_element_seed(seed)? {
                Some(item) => items.push(item),
                None => break,
            }
            if items.len() > self.state.limits.max_collection {
                return Err(self.fail(format!(
                    "more than {} elements",
                    self.state.limits.max_collection
                )));
            }
        }
        self.state.saw_collection(items.len());
        Ok(match self.ty {
            Type::Set(_) => Value::set(items),
            _ => Value::List(items.into()),
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        match self.ty {
            Type::Map(value_ty) => {
                let mut entries = BTreeMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    if entries.len() >= self.state.limits.max_collection {
                        return Err(self.fail(format!(
                            "more than {} entries",
                            self.state.limits.max_collection
                        )));
                    }
                    if key.len() > self.state.limits.max_string {
                        return Err(self.fail(format!(
                            "a key of {} bytes, more than the limit of {}",
                            key.len(),
                            self.state.limits.max_string
                        )));
                    }
                    self.state.saw_string(key.len());
                    if entries.contains_key(key.as_str()) {
                        return Err(self.fail(format!("duplicate key \"{key}\"")));
                    }
                    let path = Path::Field(&self.path, &key);
                    let value = map.next_value_seed(Seed {
                        state: self.state,
                        ty: value_ty,
                        path,
                        depth: self.depth + 1,
                    })?;
                    entries.insert(Arc::from(key.as_str()), value);
                }
                self.state.saw_collection(entries.len());
                Ok(Value::Map(Arc::new(entries)))
            }
            Type::Schema(id) => {
                let Some(schema) = self.state.program.schemas.get(id.0 as usize) else {
                    return Err(self.fail("unknown schema"));
                };
                let mut values: Vec<Option<Value>> = vec![None; schema.fields.len()];
                while let Some(key) = map.next_key::<String>()? {
                    match schema.fields.iter().position(|f| f.name == key) {
                        Some(index) => {
                            if values[index].is_some() {
                                return Err(self.fail(format!("duplicate key \"{key}\"")));
                            }
                            let path = Path::Field(&self.path, &key);
                            let ty = &schema.fields[index].ty;
                            let seed = Seed {
                                state: self.state,
                                ty,
                                path,
                                depth: self.depth + 1,
                            };
                            values[index] = Some(map.next_value_seed(seed)?);
                        }
                        // Fields the schema does not declare are ignored.
                        None => {
                            map.next_value::<de::IgnoredAny>()?;
                        }
                    }
                }
                let mut fields = Vec::with_capacity(values.len());
                for (value, field) in values.into_iter().zip(&schema.fields) {
                    match (value, &field.ty) {
                        (Some(v), _) => fields.push(v),
                        (None, Type::Optional(_)) => fields.push(Value::None),
                        (None, _) => {
                            let path = Path::Field(&self.path, &field.name);
                            let seed = Seed {
                                state: self.state,
                                ty: &field.ty,
                                path,
                                depth: self.depth + 1,
                            };
                            return Err(
                                seed.fail(format!("missing required field `{}`", field.name))
                            );
                        }
                    }
                }
                Ok(Value::Record(fields.into()))
            }
            Type::Finding => {
                let (mut kind, mut start, mut end, mut text) = (None, None, None, None);
                while let Some(key) = map.next_key::<String>()? {
                    let path = Path::Field(&self.path, &key);
                    let ty = match key.as_str() {
                        "kind" | "text" => Type::String,
                        "start" | "end" => Type::Int,
                        _ => {
                            map.next_value::<de::IgnoredAny>()?;
                            continue;
                        }
                    };
                    let value = map.next_value_seed(Seed {
                        state: self.state,
                        ty: &ty,
                        path,
                        depth: self.depth + 1,
                    })?;
                    let target = match key.as_str() {
                        "kind" => &mut kind,
                        "text" => &mut text,
                        "start" => &mut start,
                        _ => &mut end,
                    };
                    if target.replace(value).is_some() {
                        return Err(self.fail(format!("duplicate key \"{key}\"")));
                    }
                }
                match (kind, start, end) {
                    (Some(Value::String(kind)), Some(Value::Int(start)), Some(Value::Int(end))) => {
                        let text = match text {
                            Some(Value::String(t)) => t,
                            _ => Arc::from(""),
                        };
                        Ok(Value::Finding(Arc::new(FindingValue {
                            kind,
                            start,
                            end,
                            text,
                        })))
                    }
                    _ => Err(self.fail("a finding needs `kind`, `start` and `end`")),
                }
            }
            _ => Err(self.fail(format!("expected {}, found an object", self.expected()))),
        }
    }
}

#[cfg(test)]
mod tests {
    use pol_ir::ir::{Enum, EnumId, Field, Program, Schema, SchemaId, Type};

    use super::*;

    /// `schema Call { role: Role, tags: list<string>, note: string?, limits: map<string, int>, at: timestamp }`
    fn program() -> Program {
        Program {
            format_version: pol_ir::ir::FORMAT_VERSION,
            schemas: vec![Schema {
                name: "t.Call".into(),
                fields: vec![
                    Field {
                        name: "role".into(),
                        ty: Type::Enum(EnumId(0)),
                    },
                    Field {
                        name: "tags".into(),
                        ty: Type::List(Box::new(Type::String)),
                    },
                    Field {
                        name: "note".into(),
                        ty: Type::Optional(Box::new(Type::String)),
                    },
                    Field {
                        name: "limits".into(),
                        ty: Type::Map(Box::new(Type::Int)),
                    },
                    Field {
                        name: "at".into(),
                        ty: Type::Timestamp,
                    },
                ],
            }],
            enums: vec![Enum {
                name: "t.Role".into(),
                variants: vec!["guest".into(), "admin".into()],
            }],
            params: Vec::new(),
            lets: Vec::new(),
            policies: Vec::new(),
            sources: Vec::new(),
            revision: None,
        }
    }

    fn decode(json: &str) -> Result<Value, DecodeError> {
        decode_json(
            &program(),
            &Type::Schema(SchemaId(0)),
            json.as_bytes(),
            &Limits::default(),
        )
    }

    fn problem(json: &str) -> (String, String) {
        let e = decode(json).expect_err("refused");
        (e.path, e.problem)
    }

    #[test]
    fn a_valid_input_decodes_in_field_order_and_ignores_unknown_fields() {
        let value = decode(r#"{"extra": {"deep": [1, 2]}, "at": "1970-01-01T00:00:01Z", "limits": {"a": 1}, "tags": ["x"], "role": "admin"}"#)
            .expect("decodes");
        let Value::Record(fields) = value else {
            panic!("record")
        };
        assert_eq!(fields[0], Value::Variant(1));
        assert_eq!(fields[1], Value::List(vec![Value::string("x")].into()));
        assert_eq!(fields[2], Value::None);
        assert_eq!(fields[4], Value::Timestamp(1_000_000_000));
    }

    #[test]
    fn errors_name_the_field_path_and_the_problem() {
        let base = r#""tags": [], "limits": {}, "at": "2026-01-01T00:00:00Z""#;
        assert_eq!(
            problem(&format!("{{{base}}}")),
            ("$.role".into(), "missing required field `role`".into())
        );
        assert_eq!(
            problem(&format!(r#"{{"role": "root", {base}}}"#)),
            (
                "$.role".into(),
                r#""root" is not one of "guest", "admin""#.into()
            )
        );
        assert_eq!(
            problem(
                r#"{"role": "admin", "tags": ["a", 3], "limits": {}, "at": "2026-01-01T00:00:00Z"}"#
            ),
            (
                "$.tags[1]".into(),
                "expected a string, found a number".into()
            )
        );
        assert_eq!(
            problem(
                r#"{"role": "admin", "role": "guest", "tags": [], "limits": {}, "at": "2026-01-01T00:00:00Z"}"#
            ),
            ("$".into(), r#"duplicate key "role""#.into())
        );
        assert_eq!(
            problem(
                r#"{"role": "admin", "tags": [], "limits": {"a": 1.5}, "at": "2026-01-01T00:00:00Z"}"#
            ),
            ("$.limits.a".into(), "expected an integer, found 1.5".into())
        );
        assert_eq!(
            problem(r#"{"role": "admin", "tags": [], "limits": {}, "at": "yesterday"}"#).0,
            "$.at".to_string()
        );
        assert_eq!(problem("[1, 2]").0, "$".to_string());
        assert_eq!(problem(r#"{"role": "admin""#).0, "$".to_string());
    }

    #[test]
    fn limits_and_encoding_are_enforced_without_panics() {
        let limits = Limits {
            max_depth: 4,
            ..Limits::default()
        };
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let ty = Type::List(Box::new(Type::List(Box::new(Type::Int))));
        assert!(decode_json(&program(), &ty, deep.as_bytes(), &limits).is_err());
        assert!(decode_json(&program(), &Type::String, b"\"\xff\"", &Limits::default()).is_err());
        let small = Limits {
            max_bytes: 4,
            ..Limits::default()
        };
        assert!(decode_json(&program(), &Type::String, b"\"hello\"", &small).is_err());
        let set = decode_json(
            &program(),
            &Type::Set(Box::new(Type::Int)),
            b"[1, 2, 1]",
            &Limits::default(),
        );
        assert_eq!(
            set,
            Ok(Value::Set(vec![Value::Int(1), Value::Int(2)].into()))
        );
    }
}
