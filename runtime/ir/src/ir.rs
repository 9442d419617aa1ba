//! The typed intermediate representation: what the front end lowers a
//! checked program to, what bundles carry, and what the interpreter and the
//! JIT execute.
//!
//! **Invariant:** the IR is flat. Each body is an arena of nodes, and a
//! node's operands are nodes that come *before* it in the same arena, so
//! decoding never recurses and a body can be checked in one forward pass.
//! Evaluation starts from a root (a rule's condition, a let's value) and
//! walks operands on demand; its depth is bounded by the front end's
//! expression-depth limit.
//!
//! **Invariant:** the IR is explicitly typed. Every node carries its result
//! type, and operations are specific to their operand types (`AddInt`,
//! `AddFloat`, ...): the evaluator never inspects a value to decide what an
//! operation means. Int-to-float widening is an explicit [`Op::IntToFloat`].
//!
//! An optional value is represented by the value itself or by `none`; there
//! is no wrapper.

use serde::{Deserialize, Serialize};

use crate::AlertSeverity;
use crate::builtins::Builtin;

/// The IR format version. A runtime refuses programs of a newer version.
pub const FORMAT_VERSION: u32 = 1;

/// A whole program: every package of the project, flattened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// [`FORMAT_VERSION`] when it was written.
    pub format_version: u32,
    /// Schemas, by [`SchemaId`].
    pub schemas: Vec<Schema>,
    /// Enums, by [`EnumId`].
    pub enums: Vec<Enum>,
    /// Params, by index: their types and default values.
    pub params: Vec<Param>,
    /// Top-level lets, by index.
    pub lets: Vec<Let>,
    /// Policies, by index.
    pub policies: Vec<Policy>,
    /// Source file paths, for [`Loc::file`].
    pub sources: Vec<String>,
    /// The revision the program was built as (a bundle's `--revision`);
    /// decisions carry it. `None` for programs compiled in memory.
    #[serde(default)]
    pub revision: Option<String>,
}

/// Index of a schema in [`Program::schemas`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SchemaId(pub u32);

/// Index of an enum in [`Program::enums`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EnumId(pub u32);

/// Index of a node in its [`Body`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct NodeId(pub u32);

/// Index of a local slot (a policy input, a `let` local, a loop variable)
/// in its [`Body`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Slot(pub u32);

/// A type. Schemas and enums are by id.
///
/// Types are the IR's only recursive data; deserializing one refuses
/// nesting deeper than [`MAX_TYPE_DEPTH`], so a hostile bundle cannot
/// overflow the stack of the decoder or of anything that walks types.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum Type {
    /// `bool`
    Bool,
    /// `int` (64-bit; overflow is an evaluation error)
    Int,
    /// `float` (64-bit)
    Float,
    /// `string` (UTF-8)
    String,
    /// `duration` (signed nanoseconds)
    Duration,
    /// `timestamp` (signed nanoseconds since the Unix epoch)
    Timestamp,
    /// A declared enum: a variant index, ordered by declaration.
    Enum(EnumId),
    /// A declared schema: a record.
    Schema(SchemaId),
    /// The builtin record of a detector's finding.
    Finding,
    /// `list<T>`
    List(Box<Type>),
    /// `set<T>`
    Set(Box<Type>),
    /// `map<string, T>`
    Map(Box<Type>),
    /// `T?`
    Optional(Box<Type>),
    /// The decision of a decision policy.
    Decision,
    /// The decision of a value or filter policy, carrying a `T`.
    ValueDecision(Box<Type>),
    /// The type of the `none` literal where no optional type was known.
    None,
}

/// The deepest nesting of a [`Type`] a program may contain.
pub const MAX_TYPE_DEPTH: u32 = 128;

/// The most definitions of each kind, nodes or slots of one body, or
/// elements of one literal a program may have (so every offset native code
/// computes fits its 32-bit immediates).
pub const MAX_ITEMS: usize = 1 << 20;

/// The most fields of one schema.
pub const MAX_FIELDS: usize = 1 << 16;

/// The deserialized form of [`Type`]: the same variants, read through
/// [`Type`]'s depth-counting `Deserialize`.
#[derive(Deserialize)]
#[serde(rename = "Type")]
enum TypeRepr {
    Bool,
    Int,
    Float,
    String,
    Duration,
    Timestamp,
    Enum(EnumId),
    Schema(SchemaId),
    Finding,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Optional(Box<Type>),
    Decision,
    ValueDecision(Box<Type>),
    None,
}

thread_local! {
    static TYPE_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
    /// Set when a type was refused for its depth: some formats (postcard)
    /// drop a custom error's message, so the bundle reader asks here.
    static TYPE_TOO_DEEP: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a type was refused for its depth on this thread since the last
/// call (which clears it).
pub(crate) fn take_type_too_deep() -> bool {
    TYPE_TOO_DEEP.with(|flag| flag.replace(false))
}

/// Counts one level of type nesting while it is alive.
struct TypeDepth;

impl TypeDepth {
    fn enter() -> Option<TypeDepth> {
        TYPE_DEPTH.with(|depth| {
            if depth.get() >= MAX_TYPE_DEPTH {
                TYPE_TOO_DEEP.with(|flag| flag.set(true));
                return None;
            }
            depth.set(depth.get() + 1);
            Some(TypeDepth)
        })
    }
}

impl Drop for TypeDepth {
    fn drop(&mut self) {
        TYPE_DEPTH.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

impl<'de> Deserialize<'de> for Type {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Type, D::Error> {
        let Some(_level) = TypeDepth::enter() else {
            return Err(serde::de::Error::custom(format!(
                "a type nested deeper than {MAX_TYPE_DEPTH} levels"
            )));
        };
        Ok(match TypeRepr::deserialize(deserializer)? {
            TypeRepr::Bool => Type::Bool,
            TypeRepr::Int => Type::Int,
            TypeRepr::Float => Type::Float,
            TypeRepr::String => Type::String,
            TypeRepr::Duration => Type::Duration,
            TypeRepr::Timestamp => Type::Timestamp,
            TypeRepr::Enum(id) => Type::Enum(id),
            TypeRepr::Schema(id) => Type::Schema(id),
            TypeRepr::Finding => Type::Finding,
            TypeRepr::List(t) => Type::List(t),
            TypeRepr::Set(t) => Type::Set(t),
            TypeRepr::Map(t) => Type::Map(t),
            TypeRepr::Optional(t) => Type::Optional(t),
            TypeRepr::Decision => Type::Decision,
            TypeRepr::ValueDecision(t) => Type::ValueDecision(t),
            TypeRepr::None => Type::None,
        })
    }
}

/// A schema: named, typed fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// The qualified name, `package.Name`.
    pub name: String,
    /// Fields in declaration order; [`Op::Field`] indexes them.
    pub fields: Vec<Field>,
}

/// A schema field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The name, as the input's JSON key.
    pub name: String,
    /// The type; `Optional` for fields that may be absent.
    pub ty: Type,
}

/// An enum: variants in declaration order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Enum {
    /// The qualified name.
    pub name: String,
    /// Variant names; a value is an index into this list.
    pub variants: Vec<String>,
}

/// A param: overridable data with a default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Param {
    /// The qualified name, `package.name`: the key host overrides use.
    pub name: String,
    /// The declared type; overrides are checked against it.
    pub ty: Type,
    /// Computes the value: the default, or an importing package's setting.
    pub value: Body,
}

/// A top-level `let`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Let {
    /// The qualified name.
    pub name: String,
    /// Its type.
    pub ty: Type,
    /// Computes the value.
    pub value: Body,
}

/// A policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Policy {
    /// The qualified name, `package.policy`: the entrypoint's name.
    pub name: String,
    /// The input's type (slot 0 of the body holds the input).
    pub input: Type,
    /// Every expression of the policy.
    pub body: Body,
    /// Local lets, evaluated in order into their slots before the rules.
    pub locals: Vec<LocalLet>,
    /// The rules, in source order.
    pub rules: Vec<Rule>,
    /// What the policy produces and its default.
    pub kind: PolicyKind,
    /// Where the policy is declared.
    pub loc: Loc,
}

impl Policy {
    /// The written `default` rule: a decision policy's (when written) or a
    /// value policy's.
    pub fn default_rule(&self) -> Option<&DefaultRule> {
        match &self.kind {
            PolicyKind::Decision { default } => default.as_ref(),
            PolicyKind::Value { default, .. } => Some(default),
            PolicyKind::Filter { .. } => None,
        }
    }
}

/// A local `let` of a policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalLet {
    /// Where its value goes.
    pub slot: Slot,
    /// Its value.
    pub value: NodeId,
}

/// What a policy produces.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PolicyKind {
    /// Rules combine into an effect; `default` applies when no allow or
    /// deny fired.
    Decision {
        /// The written `default`, or deny when none was written.
        default: Option<DefaultRule>,
    },
    /// The first matching `return` rule chooses the value.
    Value {
        /// The value's type.
        ty: Type,
        /// The required `default` and its value.
        default: DefaultRule,
        /// The default's value.
        value: NodeId,
    },
    /// The elements of a collection kept by the `keep` rule.
    Filter {
        /// The element type.
        elem: Type,
    },
}

/// A policy's `default`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DefaultRule {
    /// For a decision policy, the default effect.
    pub effect: Effect,
    /// The stable id.
    pub id: String,
    /// The reason.
    pub reason: String,
    /// Where it is written.
    pub loc: Loc,
}

/// Allow or deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Effect {
    /// The action may proceed.
    Allow,
    /// The action must not proceed.
    Deny,
}

/// A rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The stable id: `package.policy.slug-of-reason`, or the explicit `@id`.
    pub id: String,
    /// The reason, shown to operators.
    pub reason: String,
    /// What the rule does when it fires.
    pub action: Action,
    /// The condition; `None` always fires.
    pub when: Option<NodeId>,
    /// Where it is written.
    pub loc: Loc,
}

/// What a fired rule does.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Action {
    /// Votes allow.
    Allow,
    /// Votes deny (deny overrides allow).
    Deny,
    /// Obliges the host to get approval before acting on an allow.
    RequireApproval,
    /// Obliges the host to redact these findings' spans; fires only when
    /// the list is not empty.
    Redact {
        /// A `list<Finding>`.
        findings: NodeId,
    },
    /// Obliges the host to raise an alert.
    Alert {
        /// Its severity.
        severity: AlertSeverity,
    },
    /// In a value policy: chooses this value.
    Return {
        /// The value.
        value: NodeId,
    },
    /// In a filter policy: keeps the elements of `collection` for which the
    /// condition holds (evaluated with the element in `elem`), in order, at
    /// most `limit` of them.
    Keep {
        /// A `list<T>` or `set<T>`.
        collection: NodeId,
        /// The slot holding the element.
        elem: Slot,
        /// An `int` maximum.
        limit: Option<NodeId>,
    },
}

/// A source location.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Loc {
    /// Index into [`Program::sources`].
    pub file: u32,
    /// Byte offsets.
    pub start: u32,
    /// One past the last byte.
    pub end: u32,
    /// 1-based line of `start`.
    pub line: u32,
    /// 1-based column (in bytes) of `start`.
    pub column: u32,
}

/// An arena of typed nodes with its local slots.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Body {
    /// The nodes; operands precede their users.
    pub nodes: Vec<Node>,
    /// The types of the local slots.
    pub slots: Vec<Type>,
    /// The body's result, for bodies that compute one value (lets, params).
    pub root: Option<NodeId>,
}

/// One operation and its result type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The result type.
    pub ty: Type,
    /// The operation.
    pub op: Op,
}

/// A constant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Const {
    /// `true`, `false`
    Bool(bool),
    /// An int.
    Int(i64),
    /// A float, by its bits (so the IR is `Eq`-comparable).
    Float(u64),
    /// A string.
    String(String),
    /// A duration, in nanoseconds.
    Duration(i64),
    /// A timestamp, in nanoseconds since the epoch.
    Timestamp(i64),
    /// An enum variant, by index.
    Variant(u32),
    /// `none`.
    None,
}

/// Members of a decision value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DecisionMember {
    /// `bool`: the effect is allow.
    Allowed,
    /// `bool`: the effect is deny.
    Denied,
    /// `list<string>`: the reasons of the fired rules.
    Reasons,
    /// `bool`: a `require_approval` rule fired.
    RequiresApproval,
    /// `list<Finding>`: the findings to redact.
    Redactions,
    /// `bool`: an `alert` rule fired.
    Alerted,
    /// `string?`: the evaluation error.
    Error,
    /// `T`: the value of a value or filter policy.
    Value,
}

/// Fields of a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FindingField {
    /// `string`
    Kind,
    /// `int`, a byte offset
    Start,
    /// `int`, a byte offset
    End,
    /// `string`, the matched text
    Text,
}

/// Unary operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnaryOp {
    /// `not`
    Not,
    /// `-` on an int (overflow is an error)
    NegInt,
    /// `-` on a float
    NegFloat,
    /// `-` on a duration (overflow is an error)
    NegDuration,
}

/// What kind of values a comparison compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Ordered {
    /// Ints.
    Int,
    /// Floats (IEEE comparison: NaN is unordered).
    Float,
    /// Strings, by bytes.
    String,
    /// Durations.
    Duration,
    /// Timestamps.
    Timestamp,
    /// Enum variants, by declaration order.
    Enum,
}

/// Binary operations, specific to their operand types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinaryOp {
    /// `and`: the right side is evaluated only when the left is true.
    And,
    /// `or`: the right side is evaluated only when the left is false.
    Or,
    /// `==` on values of the same type (`none` equals only `none`).
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt(Ordered),
    /// `<=`
    Le(Ordered),
    /// `>`
    Gt(Ordered),
    /// `>=`
    Ge(Ordered),
    /// Membership in a list or set.
    InCollection,
    /// A key of a map.
    InMapKeys,
    /// A substring.
    InString,
    /// `+`, `-`, `*`, `/`, `%` on ints: overflow, division by zero and
    /// `i64::MIN / -1` are evaluation errors.
    AddInt,
    /// See [`BinaryOp::AddInt`].
    SubInt,
    /// See [`BinaryOp::AddInt`].
    MulInt,
    /// See [`BinaryOp::AddInt`]; truncating division.
    DivInt,
    /// See [`BinaryOp::AddInt`]; the remainder has the sign of the dividend.
    RemInt,
    /// IEEE float arithmetic.
    AddFloat,
    /// See [`BinaryOp::AddFloat`].
    SubFloat,
    /// See [`BinaryOp::AddFloat`].
    MulFloat,
    /// See [`BinaryOp::AddFloat`].
    DivFloat,
    /// String concatenation.
    Concat,
    /// List concatenation.
    ConcatLists,
    /// `timestamp + duration` (overflow is an error).
    AddTimestampDuration,
    /// `timestamp - duration`.
    SubTimestampDuration,
    /// `timestamp - timestamp`, a duration.
    SubTimestamps,
    /// `duration + duration`.
    AddDurations,
    /// `duration - duration`.
    SubDurations,
    /// `duration * int`.
    MulDurationInt,
    /// `duration / int` (division by zero is an error).
    DivDurationInt,
}

/// Quantifiers and comprehensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuantKind {
    /// `any`: stops at the first true body.
    Any,
    /// `all`: stops at the first false body.
    All,
    /// `count`
    Count,
    /// `filter`: the elements (or entries) whose body is true.
    Filter,
    /// `map`: the body's value for each element, as a list.
    Map,
}

/// What a quantifier or index iterates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CollectionKind {
    /// A list, in order.
    List,
    /// A set, in its order (sets keep insertion order, duplicates dropped).
    Set,
    /// A map, by ascending key.
    Map,
}

/// An operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Op {
    /// A constant.
    Const(Const),
    /// The value of a local slot.
    Local(Slot),
    /// A top-level let's value.
    Let(u32),
    /// A param's value.
    Param(u32),
    /// The request time.
    Now,
    /// A field of a record (of the node's schema type).
    Field {
        /// The record.
        base: NodeId,
        /// The field's index in its schema.
        index: u32,
    },
    /// A field of a finding.
    FindingField {
        /// The finding.
        base: NodeId,
        /// Which field.
        field: FindingField,
    },
    /// A member of a decision.
    DecisionMember {
        /// The decision.
        base: NodeId,
        /// Which member.
        member: DecisionMember,
    },
    /// Whether a rule with this reason fired in the decision.
    Fired {
        /// The decision.
        base: NodeId,
        /// A `string`: the reason looked for.
        reason: NodeId,
    },
    /// Optional chaining: `none` when `value` is `none`, otherwise `then`
    /// evaluated with the present value in `slot`.
    IfPresent {
        /// The optional value.
        value: NodeId,
        /// Where the present value goes.
        slot: Slot,
        /// What to compute from it.
        then: NodeId,
    },
    /// `base[index]`: a list element by position or a map value by key;
    /// `none` when absent (or out of range).
    Index {
        /// The list or map.
        base: NodeId,
        /// An `int` position or a `string` key.
        index: NodeId,
        /// List or map.
        on: CollectionKind,
    },
    /// `value ?? default`: `default` is evaluated only when `value` is `none`.
    Coalesce {
        /// The optional value.
        value: NodeId,
        /// The fallback.
        default: NodeId,
    },
    /// A unary operation.
    Unary {
        /// Which.
        op: UnaryOp,
        /// The operand.
        operand: NodeId,
    },
    /// An int widened to a float.
    IntToFloat(NodeId),
    /// A binary operation.
    Binary {
        /// Which.
        op: BinaryOp,
        /// Left operand.
        lhs: NodeId,
        /// Right operand.
        rhs: NodeId,
    },
    /// `if cond then a else b`: only the chosen branch is evaluated.
    If {
        /// A `bool`.
        cond: NodeId,
        /// When true.
        then: NodeId,
        /// When false.
        otherwise: NodeId,
    },
    /// A quantifier or comprehension.
    Quant {
        /// Which.
        kind: QuantKind,
        /// What it iterates.
        over: CollectionKind,
        /// The collection.
        collection: NodeId,
        /// For two variables: the key (map) or index (list).
        key: Option<Slot>,
        /// The element (or, over a map with one variable, the key).
        elem: Slot,
        /// The condition or mapped value.
        body: NodeId,
    },
    /// A list literal.
    List(Vec<NodeId>),
    /// A set literal (duplicates dropped, first occurrence kept).
    Set(Vec<NodeId>),
    /// A map literal.
    Map(Vec<(String, NodeId)>),
    /// A record literal: one entry per schema field, `None` for an absent
    /// optional field.
    Record {
        /// The schema.
        schema: SchemaId,
        /// Field values in schema order.
        fields: Vec<Option<NodeId>>,
    },
    /// A finding literal (in tests that mock a detector).
    Finding {
        /// `string`
        kind: NodeId,
        /// `int`
        start: NodeId,
        /// `int`
        end: NodeId,
        /// `string`
        text: Option<NodeId>,
    },
    /// A builtin; for a method the receiver is the first argument.
    Builtin {
        /// Which.
        id: Builtin,
        /// The arguments.
        args: Vec<NodeId>,
    },
    /// Evaluates another policy on an input.
    CallPolicy {
        /// The policy's index.
        policy: u32,
        /// Its input.
        input: NodeId,
    },
}

impl Op {
    /// Every node this operation reads.
    pub fn operands(&self) -> Vec<NodeId> {
        match self {
            Op::Const(_) | Op::Local(_) | Op::Let(_) | Op::Param(_) | Op::Now => Vec::new(),
            Op::Field { base, .. }
            | Op::FindingField { base, .. }
            | Op::DecisionMember { base, .. } => vec![*base],
            Op::Fired { base, reason } => vec![*base, *reason],
            Op::IfPresent { value, then, .. } => vec![*value, *then],
            Op::Index { base, index, .. } => vec![*base, *index],
            Op::Coalesce { value, default } => vec![*value, *default],
            Op::Unary { operand, .. } | Op::IntToFloat(operand) => vec![*operand],
            Op::Binary { lhs, rhs, .. } => vec![*lhs, *rhs],
            Op::If {
                cond,
                then,
                otherwise,
            } => vec![*cond, *then, *otherwise],
            Op::Quant {
                collection, body, ..
            } => vec![*collection, *body],
            Op::List(items) | Op::Set(items) => items.clone(),
            Op::Map(entries) => entries.iter().map(|(_, v)| *v).collect(),
            Op::Record { fields, .. } => fields.iter().flatten().copied().collect(),
            Op::Finding {
                kind,
                start,
                end,
                text,
            } => {
                let mut out = vec![*kind, *start, *end];
                out.extend(text);
                out
            }
            Op::Builtin { args, .. } => args.clone(),
            Op::CallPolicy { input, .. } => vec![*input],
        }
    }
}

/// Why a program failed verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    /// Where: `policy NAME`, `let NAME`, `param NAME`.
    pub place: String,
    /// What is wrong.
    pub problem: String,
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.problem)
    }
}

impl std::error::Error for VerifyError {}

/// Checks a program: its structure (every node's operands precede it,
/// every slot, schema, enum, let, param and policy reference is in range,
/// every root a rule or let names exists), then its types (see
/// [`crate::typeck`]: every node fits its declared type, definitions do not
/// recurse). A runtime runs this on every program it loads; it never
/// trusts a file to be well-formed.
pub fn verify(program: &Program) -> Result<(), VerifyError> {
    if program.format_version > FORMAT_VERSION {
        return Err(VerifyError {
            place: "program".into(),
            problem: format!(
                "format version {} is newer than {FORMAT_VERSION}",
                program.format_version
            ),
        });
    }
    let counts = Counts {
        schemas: program.schemas.len(),
        enums: program.enums.len(),
        lets: program.lets.len(),
        params: program.params.len(),
        policies: program.policies.len(),
    };
    for schema in &program.schemas {
        if schema.fields.len() > MAX_FIELDS {
            return Err(VerifyError {
                place: format!("schema {}", schema.name),
                problem: format!("more than {MAX_FIELDS} fields"),
            });
        }
        for field in &schema.fields {
            check_type(&field.ty, &counts).map_err(|problem| VerifyError {
                place: format!("schema {}", schema.name),
                problem,
            })?;
        }
    }
    let too_many = [
        ("schemas", program.schemas.len()),
        ("enums", program.enums.len()),
        ("params", program.params.len()),
        ("lets", program.lets.len()),
        ("policies", program.policies.len()),
    ]
    .into_iter()
    .find(|(_, n)| *n > MAX_ITEMS);
    if let Some((what, n)) = too_many {
        return Err(VerifyError {
            place: "program".into(),
            problem: format!("{n} {what}, more than {MAX_ITEMS}"),
        });
    }
    let declared = program
        .params
        .iter()
        .map(|p| (format!("param {}", p.name), &p.ty))
        .chain(
            program
                .lets
                .iter()
                .map(|l| (format!("let {}", l.name), &l.ty)),
        )
        .chain(program.policies.iter().flat_map(|p| {
            let mut types = vec![(format!("policy {}", p.name), &p.input)];
            match &p.kind {
                PolicyKind::Value { ty, .. } => types.push((format!("policy {}", p.name), ty)),
                PolicyKind::Filter { elem } => types.push((format!("policy {}", p.name), elem)),
                PolicyKind::Decision { .. } => {}
            }
            types
        }));
    for (place, ty) in declared {
        check_type(ty, &counts).map_err(|problem| VerifyError { place, problem })?;
    }
    for param in &program.params {
        verify_body(&param.value, &counts, &[]).map_err(|problem| VerifyError {
            place: format!("param {}", param.name),
            problem,
        })?;
    }
    for item in &program.lets {
        verify_body(&item.value, &counts, &[]).map_err(|problem| VerifyError {
            place: format!("let {}", item.name),
            problem,
        })?;
    }
    for policy in &program.policies {
        let place = || format!("policy {}", policy.name);
        let mut roots: Vec<NodeId> = policy.locals.iter().map(|l| l.value).collect();
        let mut slots: Vec<Slot> = policy.locals.iter().map(|l| l.slot).collect();
        for rule in &policy.rules {
            roots.extend(rule.when);
            match &rule.action {
                Action::Redact { findings } => roots.push(*findings),
                Action::Return { value } => roots.push(*value),
                Action::Keep {
                    collection,
                    elem,
                    limit,
                } => {
                    roots.push(*collection);
                    roots.extend(limit);
                    slots.push(*elem);
                }
                Action::Allow | Action::Deny | Action::RequireApproval | Action::Alert { .. } => {}
            }
        }
        if let PolicyKind::Value { value, .. } = &policy.kind {
            roots.push(*value);
        }
        if policy.body.slots.is_empty() {
            return Err(VerifyError {
                place: place(),
                problem: "no slot for the input".into(),
            });
        }
        verify_body(&policy.body, &counts, &roots).map_err(|problem| VerifyError {
            place: place(),
            problem,
        })?;
        if let Some(slot) = slots
            .iter()
            .find(|s| s.0 as usize >= policy.body.slots.len())
        {
            return Err(VerifyError {
                place: place(),
                problem: format!("slot {} out of range", slot.0),
            });
        }
    }
    crate::typeck::check(program).map_err(|(place, problem)| VerifyError { place, problem })
}

struct Counts {
    schemas: usize,
    enums: usize,
    lets: usize,
    params: usize,
    policies: usize,
}

fn check_type(ty: &Type, counts: &Counts) -> Result<(), String> {
    match ty {
        // `T??` and `none?` have no values of their own; engines strip one
        // optional level, so they are refused rather than half-supported.
        Type::Optional(inner) if matches!(**inner, Type::Optional(_) | Type::None) => {
            Err("an optional of an optional".into())
        }
        Type::Schema(id) if id.0 as usize >= counts.schemas => {
            Err(format!("schema {} out of range", id.0))
        }
        Type::Enum(id) if id.0 as usize >= counts.enums => {
            Err(format!("enum {} out of range", id.0))
        }
        Type::List(t)
        | Type::Set(t)
        | Type::Map(t)
        | Type::Optional(t)
        | Type::ValueDecision(t) => check_type(t, counts),
        _ => Ok(()),
    }
}

fn verify_body(body: &Body, counts: &Counts, roots: &[NodeId]) -> Result<(), String> {
    let slots = body.slots.len();
    if body.nodes.len() > MAX_ITEMS || slots > MAX_ITEMS {
        return Err(format!("more than {MAX_ITEMS} nodes or slots"));
    }
    for ty in &body.slots {
        check_type(ty, counts)?;
    }
    for (index, node) in body.nodes.iter().enumerate() {
        check_type(&node.ty, counts)?;
        for operand in node.op.operands() {
            if operand.0 as usize >= index {
                return Err(format!(
                    "node {index} reads node {}, which does not precede it",
                    operand.0
                ));
            }
        }
        let slot = match &node.op {
            Op::Local(slot) | Op::IfPresent { slot, .. } => Some(*slot),
            Op::Quant { key, elem, .. } => key.filter(|k| k.0 as usize >= slots).or(Some(*elem)),
            _ => None,
        };
        if let Some(slot) = slot.filter(|s| s.0 as usize >= slots) {
            return Err(format!("node {index} uses slot {}, out of range", slot.0));
        }
        let out_of_range = match &node.op {
            Op::Let(i) => *i as usize >= counts.lets,
            Op::Param(i) => *i as usize >= counts.params,
            Op::CallPolicy { policy, .. } => *policy as usize >= counts.policies,
            Op::Record { schema, .. } => schema.0 as usize >= counts.schemas,
            _ => false,
        };
        if out_of_range {
            return Err(format!("node {index} refers to a definition out of range"));
        }
    }
    for root in roots.iter().chain(&body.root) {
        if root.0 as usize >= body.nodes.len() {
            return Err(format!("root node {} out of range", root.0));
        }
    }
    Ok(())
}
