//! Inputs for any compiled program: JSON for an IR [`Type`], for the
//! entrypoints of the standard library and of loaded bundles (the
//! generator's own inputs follow its model instead, `input.rs`).
//!
//! Strings come from the program's own string constants half of the time,
//! so inputs meet the comparisons, phrase sets and map keys the policies
//! test; otherwise from the generator's pools of edge values.

use arbitrary::Unstructured;
use pol_ir::ir::{Body, Const, Op, Program, Type};

use crate::input::json_string;
use crate::pools;

/// Past this depth, collections are empty and optionals `null`, so a
/// recursive schema still gives a finite value (and one the decoder's
/// depth limit accepts).
const MAX_DEPTH: u32 = 6;

/// Past this many bytes of JSON, collections are empty and the fields of
/// schemas `null`: a schema with many fields of its own type (which only
/// a crafted bundle has) must not make the input exponential.
const MAX_BYTES: usize = 64 * 1024;

/// What inputs for one program are made from.
#[derive(Debug, Clone, Default)]
pub struct InputPool {
    /// The program's string constants, deduplicated.
    strings: Vec<String>,
}

impl InputPool {
    /// The string constants of every body of `program`.
    pub fn new(program: &Program) -> InputPool {
        let bodies = program
            .params
            .iter()
            .map(|p| &p.value)
            .chain(program.lets.iter().map(|l| &l.value))
            .chain(program.policies.iter().map(|p| &p.body));
        let mut strings: Vec<String> = bodies.flat_map(string_constants).collect();
        strings.sort();
        strings.dedup();
        InputPool { strings }
    }

    /// JSON text for a value of `ty` in `program`: valid except where a
    /// type has no values (a schema that contains itself without an
    /// optional or a collection between) or the stream asks for a broken
    /// value now and then.
    pub fn json(&self, program: &Program, ty: &Type, u: &mut Unstructured<'_>) -> String {
        let mut out = String::new();
        self.value(program, ty, u, 0, &mut out);
        out
    }

    fn string(&self, u: &mut Unstructured<'_>) -> String {
        let mut s = self.word(u);
        // Now and then a longer text made of several.
        for _ in 0..3 {
            if !chance(u, 8) {
                break;
            }
            s.push(' ');
            s.push_str(&self.word(u));
        }
        s
    }

    /// One of the program's strings or of the pools.
    fn word(&self, u: &mut Unstructured<'_>) -> String {
        if !self.strings.is_empty() && chance(u, 2) {
            let i = u.choose_index(self.strings.len()).unwrap_or(0);
            return self.strings[i].clone();
        }
        let pool = match u.int_in_range(0..=5u8).unwrap_or(5) {
            0 => pools::URLS,
            1 => pools::KEYS,
            2 => pools::PHRASES,
            _ => pools::STRINGS,
        };
        pool[u.choose_index(pool.len()).unwrap_or(0)].to_string()
    }

    fn value(
        &self,
        program: &Program,
        ty: &Type,
        u: &mut Unstructured<'_>,
        depth: u32,
        out: &mut String,
    ) {
        let pick = |u: &mut Unstructured<'_>, n: usize| u.choose_index(n).unwrap_or(0);
        match ty {
            Type::Bool => out.push_str(if u.arbitrary().unwrap_or(false) {
                "true"
            } else {
                "false"
            }),
            Type::Int => {
                let n = if u.arbitrary().unwrap_or(false) {
                    i64::from(u.int_in_range(-100i8..=100).unwrap_or(0))
                } else {
                    pools::INTS[pick(u, pools::INTS.len())]
                };
                out.push_str(&n.to_string());
            }
            Type::Float => {
                let x = pools::FLOATS[pick(u, pools::FLOATS.len())];
                out.push_str(&format!("{x:?}"));
            }
            Type::String => out.push_str(&json_string(&self.string(u))),
            Type::Duration => {
                let d = pools::DURATIONS[pick(u, pools::DURATIONS.len())];
                out.push_str(&json_string(d));
            }
            Type::Timestamp => {
                let t = pools::TIMESTAMPS[pick(u, pools::TIMESTAMPS.len())];
                out.push_str(&json_string(t));
            }
            Type::Enum(id) => match program.enums.get(id.0 as usize) {
                Some(e) if !e.variants.is_empty() => {
                    out.push_str(&json_string(&e.variants[pick(u, e.variants.len())]));
                }
                _ => out.push_str("\"\""),
            },
            Type::Finding => {
                let kind = self.string(u);
                let text = self.string(u);
                let start = pools::INTS[pick(u, pools::INTS.len())];
                let end = pools::INTS[pick(u, pools::INTS.len())];
                out.push_str(&format!(
                    "{{\"kind\": {}, \"start\": {start}, \"end\": {end}, \"text\": {}}}",
                    json_string(&kind),
                    json_string(&text)
                ));
            }
            Type::Schema(id) => {
                let Some(schema) = program.schemas.get(id.0 as usize) else {
                    out.push_str("{}");
                    return;
                };
                out.push('{');
                let mut first = true;
                for field in &schema.fields {
                    let optional = matches!(field.ty, Type::Optional(_));
                    if optional && (depth >= MAX_DEPTH || chance(u, 4)) {
                        continue;
                    }
                    if !first {
                        out.push_str(", ");
                    }
                    first = false;
                    out.push_str(&json_string(&field.name));
                    out.push_str(": ");
                    if depth >= 2 * MAX_DEPTH || out.len() > MAX_BYTES {
                        // A schema that contains itself: no finite value.
                        out.push_str("null");
                    } else {
                        self.value(program, &field.ty, u, depth + 1, out);
                    }
                }
                out.push('}');
            }
            Type::List(t) | Type::Set(t) => {
                let n = if depth >= MAX_DEPTH || out.len() > MAX_BYTES {
                    0
                } else {
                    u.int_in_range(0..=4u8).unwrap_or(0)
                };
                out.push('[');
                for i in 0..n {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    self.value(program, t, u, depth + 1, out);
                }
                out.push(']');
            }
            Type::Map(t) => {
                let n = if depth >= MAX_DEPTH || out.len() > MAX_BYTES {
                    0
                } else {
                    u.int_in_range(0..=3u8).unwrap_or(0)
                };
                out.push('{');
                let mut keys = Vec::new();
                for _ in 0..n {
                    let key = self.string(u);
                    if keys.contains(&key) {
                        continue;
                    }
                    if !keys.is_empty() {
                        out.push_str(", ");
                    }
                    out.push_str(&json_string(&key));
                    out.push_str(": ");
                    keys.push(key);
                    self.value(program, t, u, depth + 1, out);
                }
                out.push('}');
            }
            Type::Optional(t) => {
                if depth >= MAX_DEPTH || chance(u, 3) {
                    out.push_str("null");
                } else {
                    self.value(program, t, u, depth, out);
                }
            }
            // Never an input's type in a program that checks.
            Type::Decision | Type::ValueDecision(_) | Type::None => out.push_str("null"),
        }
    }
}

/// True with probability `1 / den`; false when the stream is exhausted
/// (`Unstructured::ratio` is then true, which would make every string
/// grow without end).
fn chance(u: &mut Unstructured<'_>, den: u8) -> bool {
    u.int_in_range(1..=den).unwrap_or(1) == den
}

fn string_constants(body: &Body) -> impl Iterator<Item = String> + '_ {
    body.nodes.iter().filter_map(|node| match &node.op {
        Op::Const(Const::String(s)) if s.len() <= 200 => Some(s.clone()),
        _ => None,
    })
}
