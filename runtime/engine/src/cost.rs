//! The cost bound at run time: the measures of actual values (for the
//! interpreter's step counting and for inputs the host builds), the sizes
//! of param values (plugged into the bounds at load), and each
//! entrypoint's bound (see [`pol_ir::cost`]).

use pol_ir::cost::{Measures, Size};
use pol_ir::ir::Program;

pub use pol_ir::cost::{CostBound, InputSizes, VARIABLES};

use crate::value::Value;

/// The weight of a value (the table in [`pol_ir::cost`]'s `size` module):
/// 0 for `none`, 1 for a scalar, 1 + length for a string, 1 + the parts
/// for a compound value.
pub fn weight(value: &Value, program: &Program) -> u64 {
    match value {
        Value::None => 0,
        Value::Bool(_)
        | Value::Int(_)
        | Value::Float(_)
        | Value::Duration(_)
        | Value::Timestamp(_)
        | Value::Variant(_) => 1,
        Value::String(s) => 1 + s.len() as u64,
        Value::List(items) | Value::Set(items) | Value::Record(items) => items
            .iter()
            .fold(1u64, |acc, v| acc.saturating_add(weight(v, program))),
        Value::Map(map) => map.iter().fold(1u64, |acc, (k, v)| {
            acc.saturating_add(1 + k.len() as u64)
                .saturating_add(weight(v, program))
        }),
        Value::Finding(f) => 3 + f.kind.len() as u64 + f.text.len() as u64,
        Value::Decision(d) => {
            let findings = d
                .redactions
                .iter()
                .flat_map(|(_, fs)| fs)
                .fold(1u64, |acc, f| {
                    acc.saturating_add(3 + f.kind.len() as u64 + f.text.len() as u64)
                });
            1u64.saturating_add(pol_ir::cost::work::decision_cost_of(program, d.policy))
                .saturating_add(findings)
                .saturating_add(d.error.as_ref().map_or(0, |e| e.len() as u64))
                .saturating_add(d.value.as_ref().map_or(0, |v| weight(v, program)))
        }
    }
}

/// The measures the step formulas read, of an actual value.
pub(crate) fn measures(value: &Value, program: &Program) -> Measures<u64> {
    let w = |v: &Value| weight(v, program);
    match value {
        Value::String(s) => Measures::string(s.len() as u64),
        Value::List(items) | Value::Set(items) => {
            let total = items.iter().fold(0u64, |acc, v| acc.saturating_add(w(v)));
            Measures {
                len: items.len() as u64,
                total,
                item: items.iter().map(w).max().unwrap_or(0),
                weight: total.saturating_add(1),
            }
        }
        Value::Map(map) => {
            let entry =
                |(k, v): (&std::sync::Arc<str>, &Value)| (1 + k.len() as u64).saturating_add(w(v));
            let total = map.iter().map(entry).fold(0u64, u64::saturating_add);
            Measures {
                len: map.len() as u64,
                total,
                item: map.iter().map(entry).max().unwrap_or(0),
                weight: total.saturating_add(1),
            }
        }
        other => Measures {
            len: 0,
            total: 0,
            item: 0,
            weight: w(other),
        },
    }
}

/// The sizes of an input value the host built: its longest collection, its
/// longest string or map key, and its weight in place of a byte length
/// (never more than the length of the same value as JSON text).
pub fn input_sizes(value: &Value, program: &Program) -> InputSizes {
    let mut sizes = InputSizes {
        longest_collection: 0,
        longest_string: 0,
        bytes: weight(value, program),
    };
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        match v {
            Value::String(s) => sizes.longest_string = sizes.longest_string.max(s.len() as u64),
            Value::List(items) | Value::Set(items) => {
                sizes.longest_collection = sizes.longest_collection.max(items.len() as u64);
                stack.extend(items.iter());
            }
            Value::Record(items) => stack.extend(items.iter()),
            Value::Map(map) => {
                sizes.longest_collection = sizes.longest_collection.max(map.len() as u64);
                for (k, v) in map.iter() {
                    sizes.longest_string = sizes.longest_string.max(k.len() as u64);
                    stack.push(v);
                }
            }
            Value::Finding(f) => {
                sizes.longest_string = sizes
                    .longest_string
                    .max(f.kind.len() as u64)
                    .max(f.text.len() as u64);
            }
            _ => {}
        }
    }
    sizes
}

/// The size of a value known at load (a param's, a let's): exact
/// constants.
pub fn size_of(value: &Value, program: &Program) -> Size {
    use pol_ir::cost::Poly;
    let c = Poly::constant;
    match value {
        Value::Int(n) => Size::IntAtLeast(*n),
        Value::None
        | Value::Bool(_)
        | Value::Float(_)
        | Value::Duration(_)
        | Value::Timestamp(_)
        | Value::Variant(_) => Size::Scalar,
        Value::String(s) => Size::exact_str(s.len() as u64),
        Value::List(items) | Value::Set(items) => {
            let elem = items.iter().fold(Size::Bottom, |acc, v| {
                acc.join(&size_of(v, program), program)
            });
            let m = measures(value, program);
            Size::seq(c(m.len), elem, c(m.total))
        }
        Value::Map(map) => {
            let value_size = map.values().fold(Size::Bottom, |acc, v| {
                acc.join(&size_of(v, program), program)
            });
            let key = map.keys().map(|k| k.len() as u64).max().unwrap_or(0);
            let m = measures(value, program);
            Size::map(c(m.len), c(key), value_size, c(m.total))
        }
        Value::Record(fields) => Size::Record(fields.iter().map(|f| size_of(f, program)).collect()),
        Value::Finding(f) => Size::finding(c(f.kind.len() as u64), c(f.text.len() as u64)),
        Value::Decision(_) => Size::Unknown,
    }
}

/// The bound of every policy of a verified program (by index), with its
/// computed params and the lets known at load.
pub fn bounds(program: &Program, params: &[Value], lets: &[Option<Value>]) -> Vec<CostBound> {
    let params: Vec<Size> = params.iter().map(|v| size_of(v, program)).collect();
    let lets: Vec<Option<Size>> = lets
        .iter()
        .map(|v| v.as_ref().map(|v| size_of(v, program)))
        .collect();
    pol_ir::cost::bounds(program, &params, &lets)
}

/// Counts an interpreter's steps (see [`pol_ir::cost`] for what a step
/// is): `Interpreter::with_steps`.
#[derive(Debug, Default)]
pub struct Steps(std::sync::atomic::AtomicU64);

impl Steps {
    /// A counter at 0.
    pub fn new() -> Steps {
        Steps::default()
    }

    /// The steps counted.
    pub fn get(&self) -> u64 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}
