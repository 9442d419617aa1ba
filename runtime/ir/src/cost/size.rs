//! Sizes: what the analysis knows of a value, as polynomial bounds.
//!
//! A [`Size`] follows the value's type: a string has a length, a list or set
//! a number of elements, the size of each element and the total weight of
//! all of them, a record the size of each field. Every number is an upper
//! bound ([`Poly`]) over the input's size variables and, inside a loop's
//! body, the loop's element variable.
//!
//! The *weight* of a value is the measure that structural operations
//! (equality, membership) and the totals use; the interpreter computes the
//! same measure on actual values (`pol_runtime`'s step counting):
//!
//! | value | weight |
//! |---|---|
//! | `none` | 0 |
//! | bool, int, float, duration, timestamp, enum variant | 1 |
//! | string | 1 + its length in bytes |
//! | list, set | 1 + the weights of the elements |
//! | map | 1 + for each entry 1 + the key's length + the value's weight |
//! | record | 1 + the weights of the fields |
//! | finding | 3 + the lengths of its kind and text |
//! | decision | 1 + its policy's [`super::decision_cost`] + 1 + the weights of its redaction findings + the error's length + the value's weight |
//!
//! A value decoded from JSON text weighs at most as many bytes as the text
//! (every JSON value takes at least one byte, a string at least two more
//! than its length, an entry at least three more than its key), which is
//! what lets the input's parts be bounded by `b`.

use crate::ir::{Program, Type};

use super::poly::{Poly, Var};

/// A bound on a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StrSize {
    /// The most bytes.
    pub max: Poly,
    /// The fewest bytes (known for constants; 0 otherwise).
    pub min: u64,
}

/// A bound on a list or set.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CollSize {
    /// The most elements.
    pub len: Poly,
    /// Each element.
    pub elem: Size,
    /// The sum of the elements' weights.
    pub total: Poly,
}

/// A bound on a map.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MapSize {
    /// The most entries.
    pub len: Poly,
    /// The longest key, in bytes.
    pub key: Poly,
    /// Each value.
    pub value: Size,
    /// The sum over entries of 1 + the key's length + the value's weight.
    pub total: Poly,
}

/// A bound on a finding.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FindingSize {
    /// The kind's length.
    pub kind: Poly,
    /// The text's length.
    pub text: Poly,
}

/// A bound on a policy's decision, as a value a calling policy reads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DecisionSize {
    /// The policy's [`super::decision_cost`].
    pub rules: u64,
    /// The findings of its fired `redact` rules, as one list.
    pub redactions: CollSize,
    /// The error message's length.
    pub error: Poly,
    /// The value of a value or filter policy.
    pub value: Size,
}

/// A part of the entrypoint's input of type `ty`: every collection in it has
/// at most `n` elements, every string at most `s` bytes, and it weighs at
/// most `b`; with a cap, every one of these is also at most the cap.
///
/// Kept by type rather than unfolded because schemas may be recursive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InputSize {
    /// Its type.
    pub ty: Type,
    /// A bound on every measure of it, when inside a loop over it.
    pub cap: Option<Poly>,
}

/// What the analysis knows of a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Size {
    /// No value (an unbound slot while the analysis settles): joining
    /// with it changes nothing.
    Bottom,
    /// A value of a fixed size: bool, int, float, duration, timestamp,
    /// enum variant, `none`.
    Scalar,
    /// An int known to be at least this (a constant, a param's value):
    /// a scalar whose value some builtins' bounds read (the minimum token
    /// length of `secrets.high_entropy`).
    IntAtLeast(i64),
    /// A string.
    Str(StrSize),
    /// A list or set.
    Seq(Box<CollSize>),
    /// A map.
    Map(Box<MapSize>),
    /// A record: each field in schema order.
    Record(Vec<Size>),
    /// A finding.
    Finding(Box<FindingSize>),
    /// A decision.
    Decision(Box<DecisionSize>),
    /// A part of the input.
    Input(Box<InputSize>),
    /// Nothing is known: every bound is infinite.
    Unknown,
}

impl Size {
    /// A string of exactly `len` bytes.
    pub fn exact_str(len: u64) -> Size {
        Size::Str(StrSize {
            max: Poly::constant(len),
            min: len,
        })
    }

    /// A string of at most `max` bytes.
    pub fn str(max: Poly) -> Size {
        Size::Str(StrSize { max, min: 0 })
    }

    /// A list or set.
    pub fn seq(len: Poly, elem: Size, total: Poly) -> Size {
        Size::Seq(Box::new(CollSize { len, elem, total }))
    }

    /// A map.
    pub fn map(len: Poly, key: Poly, value: Size, total: Poly) -> Size {
        Size::Map(Box::new(MapSize {
            len,
            key,
            value,
            total,
        }))
    }

    /// A finding.
    pub fn finding(kind: Poly, text: Poly) -> Size {
        Size::Finding(Box::new(FindingSize { kind, text }))
    }

    /// The entrypoint's whole input, of type `ty`.
    pub fn input(ty: &Type) -> Size {
        Size::Input(Box::new(InputSize {
            ty: ty.clone(),
            cap: None,
        }))
    }

    /// An input part one level unfolded: its strings, collections and
    /// fields as sizes of their own (the parts inside still input parts).
    fn unfold(input: &InputSize, program: &Program) -> Size {
        let capped = |p: Poly| match &input.cap {
            Some(cap) => p.min(cap),
            None => p,
        };
        let part = |ty: &Type| {
            Size::Input(Box::new(InputSize {
                ty: strip(ty).clone(),
                cap: input.cap.clone(),
            }))
        };
        match strip(&input.ty) {
            Type::Bool
            | Type::Int
            | Type::Float
            | Type::Duration
            | Type::Timestamp
            | Type::Enum(_)
            | Type::None => Size::Scalar,
            Type::String => Size::str(capped(Poly::var(Var::S))),
            Type::List(t) | Type::Set(t) => Size::seq(
                capped(Poly::var(Var::N)),
                part(t),
                capped(Poly::var(Var::B)),
            ),
            Type::Map(t) => Size::map(
                capped(Poly::var(Var::N)),
                capped(Poly::var(Var::S)),
                part(t),
                capped(Poly::var(Var::B)),
            ),
            Type::Schema(id) => match program.schemas.get(id.0 as usize) {
                Some(schema) => Size::Record(schema.fields.iter().map(|f| part(&f.ty)).collect()),
                None => Size::Unknown,
            },
            Type::Finding => Size::finding(capped(Poly::var(Var::S)), capped(Poly::var(Var::S))),
            Type::Optional(_) | Type::Decision | Type::ValueDecision(_) => Size::Unknown,
        }
    }

    /// The weight (see the module documentation).
    pub fn weight(&self) -> Poly {
        match self {
            Size::Bottom => Poly::zero(),
            Size::Scalar | Size::IntAtLeast(_) => Poly::constant(1),
            Size::Str(s) => s.max.add_const(1),
            Size::Seq(c) => c.total.add_const(1),
            Size::Map(m) => m.total.add_const(1),
            Size::Record(fields) => fields
                .iter()
                .fold(Poly::constant(1), |acc, f| acc.add(&f.weight())),
            Size::Finding(f) => f.kind.add(&f.text).add_const(3),
            Size::Decision(d) => Poly::constant(d.rules.saturating_add(2))
                .add(&d.redactions.total)
                .add(&d.error)
                .add(&d.value.weight()),
            Size::Input(input) => {
                let capped = |p: Poly| match &input.cap {
                    Some(cap) => p.min(cap),
                    None => p,
                };
                match strip(&input.ty) {
                    Type::String => capped(Poly::var(Var::S)).add_const(1),
                    Type::List(_)
                    | Type::Set(_)
                    | Type::Map(_)
                    | Type::Schema(_)
                    | Type::Finding => capped(Poly::var(Var::B)),
                    _ => Poly::constant(1),
                }
            }
            Size::Unknown => Poly::infinite(),
        }
    }

    /// As a string. The accessors read a size as the type the program
    /// gives its value; a scalar where a compound value is expected can
    /// only be `none`, which has no parts.
    pub fn as_str(&self, program: &Program) -> StrSize {
        match self {
            Size::Str(s) => s.clone(),
            // A scalar read as a string is a `none` (it weighs nothing).
            Size::Bottom | Size::Scalar | Size::IntAtLeast(_) => StrSize {
                max: Poly::zero(),
                min: 0,
            },
            Size::Input(input) => Size::unfold(input, program).as_str(program),
            _ => StrSize {
                max: Poly::infinite(),
                min: 0,
            },
        }
    }

    /// As a list or set.
    pub fn as_coll(&self, program: &Program) -> CollSize {
        match self {
            Size::Seq(c) => (**c).clone(),
            Size::Bottom | Size::Scalar | Size::IntAtLeast(_) => CollSize {
                len: Poly::zero(),
                elem: Size::Bottom,
                total: Poly::zero(),
            },
            Size::Input(input) => Size::unfold(input, program).as_coll(program),
            _ => CollSize {
                len: Poly::infinite(),
                elem: Size::Unknown,
                total: Poly::infinite(),
            },
        }
    }

    /// As a map.
    pub fn as_map(&self, program: &Program) -> MapSize {
        match self {
            Size::Map(m) => (**m).clone(),
            Size::Bottom | Size::Scalar | Size::IntAtLeast(_) => MapSize {
                len: Poly::zero(),
                key: Poly::zero(),
                value: Size::Bottom,
                total: Poly::zero(),
            },
            Size::Input(input) => Size::unfold(input, program).as_map(program),
            _ => MapSize {
                len: Poly::infinite(),
                key: Poly::infinite(),
                value: Size::Unknown,
                total: Poly::infinite(),
            },
        }
    }

    /// As a finding.
    pub fn as_finding(&self, program: &Program) -> FindingSize {
        match self {
            Size::Finding(f) => (**f).clone(),
            Size::Bottom | Size::Scalar | Size::IntAtLeast(_) => FindingSize {
                kind: Poly::zero(),
                text: Poly::zero(),
            },
            Size::Input(input) => Size::unfold(input, program).as_finding(program),
            _ => FindingSize {
                kind: Poly::infinite(),
                text: Poly::infinite(),
            },
        }
    }

    /// As a decision.
    pub fn as_decision(&self) -> DecisionSize {
        match self {
            Size::Decision(d) => (**d).clone(),
            Size::Bottom | Size::Scalar | Size::IntAtLeast(_) => DecisionSize {
                rules: 0,
                redactions: CollSize {
                    len: Poly::zero(),
                    elem: Size::Bottom,
                    total: Poly::zero(),
                },
                error: Poly::zero(),
                value: Size::Bottom,
            },
            _ => DecisionSize {
                rules: u64::MAX,
                redactions: CollSize {
                    len: Poly::infinite(),
                    elem: Size::Unknown,
                    total: Poly::infinite(),
                },
                error: Poly::infinite(),
                value: Size::Unknown,
            },
        }
    }

    /// Field `index` of a record.
    pub fn field(&self, index: u32, program: &Program) -> Size {
        match self {
            Size::Record(fields) => fields.get(index as usize).cloned().unwrap_or(Size::Unknown),
            // A field of `none` is never read.
            Size::Bottom | Size::Scalar | Size::IntAtLeast(_) => Size::Bottom,
            Size::Input(input) => Size::unfold(input, program).field(index, program),
            _ => Size::Unknown,
        }
    }

    /// A size at least `self` and at least `other`.
    pub fn join(&self, other: &Size, program: &Program) -> Size {
        match (self, other) {
            (Size::Bottom, x) | (x, Size::Bottom) => x.clone(),
            (Size::Unknown, _) | (_, Size::Unknown) => Size::Unknown,
            (Size::IntAtLeast(a), Size::IntAtLeast(b)) => Size::IntAtLeast((*a).min(*b)),
            // An int of unknown value (or `none`).
            (Size::IntAtLeast(_), Size::Scalar) | (Size::Scalar, Size::IntAtLeast(_)) => {
                Size::Scalar
            }
            // `none` weighs nothing, so a scalar adds nothing to a size
            // of any other shape.
            (Size::Scalar, x) | (x, Size::Scalar) => x.clone(),
            (Size::Input(a), Size::Input(b)) if strip(&a.ty) == strip(&b.ty) => {
                let cap = match (&a.cap, &b.cap) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    _ => None,
                };
                Size::Input(Box::new(InputSize {
                    ty: strip(&a.ty).clone(),
                    cap,
                }))
            }
            (Size::Input(a), x) => Size::unfold(a, program).join(x, program),
            (x, Size::Input(b)) => x.join(&Size::unfold(b, program), program),
            (Size::Str(a), Size::Str(b)) => Size::Str(StrSize {
                max: a.max.max(&b.max),
                min: a.min.min(b.min),
            }),
            (Size::Seq(a), Size::Seq(b)) => Size::Seq(Box::new(a.join(b, program))),
            (Size::Map(a), Size::Map(b)) => Size::map(
                a.len.max(&b.len),
                a.key.max(&b.key),
                a.value.join(&b.value, program),
                a.total.max(&b.total),
            ),
            (Size::Record(a), Size::Record(b)) if a.len() == b.len() => {
                Size::Record(a.iter().zip(b).map(|(x, y)| x.join(y, program)).collect())
            }
            (Size::Finding(a), Size::Finding(b)) => {
                Size::finding(a.kind.max(&b.kind), a.text.max(&b.text))
            }
            (Size::Decision(a), Size::Decision(b)) => Size::Decision(Box::new(DecisionSize {
                rules: a.rules.max(b.rules),
                redactions: a.redactions.join(&b.redactions, program),
                error: a.error.max(&b.error),
                value: a.value.join(&b.value, program),
            })),
            _ => Size::Unknown,
        }
    }

    /// `self`, with every measure also bounded by `cap`.
    pub fn cap(&self, cap: &Poly) -> Size {
        let c = |p: &Poly| p.min(cap);
        match self {
            Size::Bottom | Size::Scalar | Size::IntAtLeast(_) => self.clone(),
            Size::Str(s) => Size::Str(StrSize {
                max: c(&s.max),
                min: s.min,
            }),
            Size::Seq(coll) => Size::Seq(Box::new(coll.cap(cap))),
            Size::Map(m) => Size::map(c(&m.len), c(&m.key), m.value.cap(cap), c(&m.total)),
            Size::Record(fields) => Size::Record(fields.iter().map(|f| f.cap(cap)).collect()),
            Size::Finding(f) => Size::finding(c(&f.kind), c(&f.text)),
            Size::Decision(d) => Size::Decision(Box::new(DecisionSize {
                rules: d.rules,
                redactions: d.redactions.cap(cap),
                error: c(&d.error),
                value: d.value.cap(cap),
            })),
            Size::Input(input) => Size::Input(Box::new(InputSize {
                ty: input.ty.clone(),
                cap: Some(match &input.cap {
                    Some(old) => old.min(cap),
                    None => cap.clone(),
                }),
            })),
            Size::Unknown => Size::Unknown,
        }
    }

    /// `self` with variable `v` replaced by `by` in every bound.
    pub fn subst(&self, v: Var, by: &Poly) -> Size {
        let s = |p: &Poly| p.subst(v, by);
        match self {
            Size::Bottom | Size::Scalar | Size::IntAtLeast(_) | Size::Unknown => self.clone(),
            Size::Str(x) => Size::Str(StrSize {
                max: s(&x.max),
                min: x.min,
            }),
            Size::Seq(coll) => Size::Seq(Box::new(coll.subst(v, by))),
            Size::Map(m) => Size::map(s(&m.len), s(&m.key), m.value.subst(v, by), s(&m.total)),
            Size::Record(fields) => Size::Record(fields.iter().map(|f| f.subst(v, by)).collect()),
            Size::Finding(f) => Size::finding(s(&f.kind), s(&f.text)),
            Size::Decision(d) => Size::Decision(Box::new(DecisionSize {
                rules: d.rules,
                redactions: d.redactions.subst(v, by),
                error: s(&d.error),
                value: d.value.subst(v, by),
            })),
            Size::Input(input) => Size::Input(Box::new(InputSize {
                ty: input.ty.clone(),
                cap: input.cap.as_ref().map(s),
            })),
        }
    }
}

impl CollSize {
    fn join(&self, other: &CollSize, program: &Program) -> CollSize {
        CollSize {
            len: self.len.max(&other.len),
            elem: self.elem.join(&other.elem, program),
            total: self.total.max(&other.total),
        }
    }

    fn cap(&self, cap: &Poly) -> CollSize {
        CollSize {
            len: self.len.min(cap),
            elem: self.elem.cap(cap),
            total: self.total.min(cap),
        }
    }

    fn subst(&self, v: Var, by: &Poly) -> CollSize {
        CollSize {
            len: self.len.subst(v, by),
            elem: self.elem.subst(v, by),
            total: self.total.subst(v, by),
        }
    }
}

/// The type without its optional.
fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Optional(inner) => strip(inner),
        other => other,
    }
}

/// What kind of measures an input part has, by its type.
pub(crate) fn strip_input(input: &InputSize) -> Option<super::Unfolded> {
    Some(match strip(&input.ty) {
        Type::String => super::Unfolded::Str,
        Type::List(_) | Type::Set(_) => super::Unfolded::Seq,
        Type::Map(_) => super::Unfolded::Map,
        Type::Decision | Type::ValueDecision(_) => return None,
        _ => super::Unfolded::Other,
    })
}
