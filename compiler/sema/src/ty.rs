//! Semantic types.

use std::fmt;

/// Index of a schema in [`crate::Program::schemas`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SchemaId(pub u32);

/// Index of an enum in [`crate::Program::enums`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnumId(pub u32);

/// A type of Pol.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    /// The type of an expression that already has an error: compatible with
    /// everything, so one mistake is reported once.
    Error,
    /// `bool`
    Bool,
    /// `int`
    Int,
    /// `float`
    Float,
    /// `string`
    String,
    /// `duration`
    Duration,
    /// `timestamp`
    Timestamp,
    /// The type of the `none` literal: fits any optional.
    None,
    /// A declared enum.
    Enum(EnumId),
    /// A declared schema.
    Schema(SchemaId),
    /// The builtin record `Finding { kind, start, end, text }`.
    Finding,
    /// `list<T>`
    List(Box<Ty>),
    /// `set<T>`
    Set(Box<Ty>),
    /// `map<string, T>`
    Map(Box<Ty>),
    /// `T?`
    Optional(Box<Ty>),
    /// The result of a decision policy.
    Decision,
    /// The result of a value or filter policy: a decision carrying a `T`.
    ValueDecision(Box<Ty>),
}

impl Ty {
    /// `T?`, without doubling an optional.
    pub fn optional(self) -> Ty {
        match self {
            Ty::Optional(_) | Ty::Error | Ty::None => self,
            other => Ty::Optional(Box::new(other)),
        }
    }

    /// The type inside an optional, or the type itself.
    pub fn unwrap_optional(&self) -> &Ty {
        match self {
            Ty::Optional(inner) => inner,
            other => other,
        }
    }

    /// Whether it is `T?`.
    pub fn is_optional(&self) -> bool {
        matches!(self, Ty::Optional(_))
    }

    /// Whether it is the error type.
    pub fn is_error(&self) -> bool {
        matches!(self, Ty::Error)
    }

    /// Whether values of this type are ordered (`<`, `<=`, ...).
    pub fn is_ordered(&self) -> bool {
        matches!(
            self,
            Ty::Int
                | Ty::Float
                | Ty::String
                | Ty::Duration
                | Ty::Timestamp
                | Ty::Enum(_)
                | Ty::Error
        )
    }

    /// Whether it is `int` or `float`.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Float)
    }

    /// The element type of a list or set (or a map's value type).
    pub fn element(&self) -> Option<&Ty> {
        match self {
            Ty::List(t) | Ty::Set(t) | Ty::Map(t) => Some(t),
            _ => None,
        }
    }
}

/// Displays a type with the names of its schemas and enums.
pub struct TyDisplay<'a> {
    pub(crate) ty: &'a Ty,
    pub(crate) names: &'a dyn Fn(&Ty) -> Option<String>,
}

impl fmt::Debug for TyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TyDisplay({:?})", self.ty)
    }
}

impl fmt::Display for TyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sub = |ty| TyDisplay {
            ty,
            names: self.names,
        };
        match self.ty {
            // Only shown inside a larger type whose other parts are known.
            Ty::Error => write!(f, "_"),
            Ty::Bool => write!(f, "bool"),
            Ty::Int => write!(f, "int"),
            Ty::Float => write!(f, "float"),
            Ty::String => write!(f, "string"),
            Ty::Duration => write!(f, "duration"),
            Ty::Timestamp => write!(f, "timestamp"),
            Ty::None => write!(f, "none"),
            Ty::Finding => write!(f, "Finding"),
            Ty::Decision => write!(f, "Decision"),
            Ty::Enum(_) | Ty::Schema(_) => {
                write!(f, "{}", (self.names)(self.ty).unwrap_or_else(|| "?".into()))
            }
            Ty::List(t) => write!(f, "list<{}>", sub(t)),
            Ty::Set(t) => write!(f, "set<{}>", sub(t)),
            Ty::Map(t) => write!(f, "map<string, {}>", sub(t)),
            Ty::Optional(t) => write!(f, "{}?", sub(t)),
            Ty::ValueDecision(t) => write!(f, "Decision<{}>", sub(t)),
        }
    }
}
