//! Runtime values.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::decision::Decision;

/// A value of a Pol program at run time. An optional value is the value
/// itself or [`Value::None`].
///
/// Equality is by value: sets are equal when they hold the same elements, in
/// any order; floats compare as IEEE numbers (NaN equals nothing).
#[derive(Debug, Clone)]
pub enum Value {
    /// `none`
    None,
    /// `bool`
    Bool(bool),
    /// `int`
    Int(i64),
    /// `float`
    Float(f64),
    /// `string`
    String(Arc<str>),
    /// `duration`, in nanoseconds
    Duration(i64),
    /// `timestamp`, in nanoseconds since the epoch
    Timestamp(i64),
    /// An enum variant, by declaration index.
    Variant(u32),
    /// `list<T>`
    List(Arc<[Value]>),
    /// `set<T>`: distinct elements, in first-insertion order.
    Set(Arc<[Value]>),
    /// `map<string, T>`, by ascending key.
    Map(Arc<BTreeMap<Arc<str>, Value>>),
    /// A schema record: one value per field in schema order, `None` for an
    /// absent optional field.
    Record(Arc<[Value]>),
    /// A detector's finding.
    Finding(Arc<FindingValue>),
    /// The decision of a policy called from a policy or a test.
    Decision(Arc<Decision>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::None, Value::None) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b))
            | (Value::Duration(a), Value::Duration(b))
            | (Value::Timestamp(a), Value::Timestamp(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::Variant(a), Value::Variant(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Record(a), Value::Record(b)) => a == b,
            // Elements of a set are distinct, so equal lengths and inclusion
            // one way mean equality.
            (Value::Set(a), Value::Set(b)) => a.len() == b.len() && a.iter().all(|x| b.contains(x)),
            (Value::Map(a), Value::Map(b)) => a == b,
            (Value::Finding(a), Value::Finding(b)) => a == b,
            (Value::Decision(a), Value::Decision(b)) => a == b,
            _ => false,
        }
    }
}

/// A finding as a Pol value: `{ kind, start, end, text }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingValue {
    /// What was found.
    pub kind: Arc<str>,
    /// Byte offset of the start.
    pub start: i64,
    /// Byte offset one past the end.
    pub end: i64,
    /// The matched text.
    pub text: Arc<str>,
}

impl Value {
    /// A string value.
    pub fn string(s: &str) -> Value {
        Value::String(Arc::from(s))
    }

    /// A set from elements, dropping duplicates (the first occurrence
    /// stays).
    pub fn set(elements: Vec<Value>) -> Value {
        let mut distinct: Vec<Value> = Vec::with_capacity(elements.len());
        for element in elements {
            if !distinct.contains(&element) {
                distinct.push(element);
            }
        }
        Value::Set(distinct.into())
    }

    /// Whether this is `none`.
    pub fn is_none(&self) -> bool {
        matches!(self, Value::None)
    }

    /// The elements of a list or set.
    pub fn elements(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Set(items) => Some(items),
            _ => None,
        }
    }
}
