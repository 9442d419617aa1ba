//! The IR's type verifier: what makes a program loaded from a file safe to
//! evaluate.
//!
//! The front end only ever writes well-typed IR, but a bundle is bytes from
//! a file: the runtime never trusts it. [`check`] proves, node by node, that
//! every value a node can produce fits its declared type, that every
//! operation gets operands of the shape it reads (a record where a field is
//! loaded, a list where a loop iterates), and that definitions neither
//! recurse nor nest deeper than the evaluators' stacks allow. The JIT lays
//! out frames from these types and loads fields at fixed offsets, so this
//! check is what stands between a tampered bundle and a wild read.
//!
//! **Invariant:** an optional `T?` has the representation of `T` plus
//! `none`, so a `T` may flow where a `T?` is expected, never the reverse.

use crate::builtins::{self, Receiver, TypePattern};
use crate::ir::{
    Action, BinaryOp, Body, CollectionKind, Const, DecisionMember, FindingField, NodeId, Op,
    Ordered, PolicyKind, Program, QuantKind, Type, UnaryOp,
};

/// The deepest chain of operands a body may have: every evaluator walks
/// operands recursively (and the JIT compiles them so), so this bounds
/// their stack use.
pub const MAX_NODE_DEPTH: usize = 512;

/// The deepest an evaluation may nest: operand chains added up along a
/// chain of definitions (a rule reading a let whose body calls a policy
/// ...). A few hundred bytes of stack per level keep this far inside a
/// 2 MiB thread stack.
pub const MAX_STACK_DEPTH: usize = 1024;

/// The most operations a body may stand for once shared operands are
/// counted at each use: evaluators evaluate (and the JIT compiles) an
/// operand once per use, so a body that shares operands can stand for
/// exponentially many.
pub const MAX_EXPANDED_SIZE: u64 = 1 << 20;

/// The most rules a policy may have (the fired-rule bitset's bound).
pub const MAX_RULES: usize = 1 << 16;

/// Checks the types of a structurally verified program (see
/// [`crate::ir::verify`], which calls this). Errors name the place and the
/// node.
pub(crate) fn check(program: &Program) -> Result<(), (String, String)> {
    let checker = Checker {
        program,
        depths: std::cell::RefCell::new(Vec::new()),
    };
    for schema in &program.schemas {
        let mut names: Vec<&str> = schema.fields.iter().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            return Err((
                format!("schema {}", schema.name),
                "two fields with one name".into(),
            ));
        }
    }
    // Definitions in the order `definition_order` numbers them: lets,
    // params, policies; `depths` records each body's deepest operand chain.
    for item in &program.lets {
        let place = || format!("let {}", item.name);
        checker.body(&item.value).map_err(|e| (place(), e))?;
        checker
            .root_fits(&item.value, &item.ty)
            .map_err(|e| (place(), e))?;
        scope::check_value(&item.value).map_err(|e| (place(), e))?;
    }
    for param in &program.params {
        let place = || format!("param {}", param.name);
        checker.body(&param.value).map_err(|e| (place(), e))?;
        checker
            .root_fits(&param.value, &param.ty)
            .map_err(|e| (place(), e))?;
        scope::check_value(&param.value).map_err(|e| (place(), e))?;
    }
    for policy in &program.policies {
        let place = || format!("policy {}", policy.name);
        checker.policy(policy).map_err(|e| (place(), e))?;
        scope::check_policy(policy).map_err(|e| (place(), e))?;
    }
    let depths = checker.depths.into_inner();
    definition_order(program, &depths).map_err(|e| ("program".to_string(), e))
}

struct Checker<'p> {
    program: &'p Program,
    /// The deepest operand chain of each body checked, in order.
    depths: std::cell::RefCell<Vec<usize>>,
}

/// Whether a value of type `have` may be used where `want` is expected.
///
/// `T??` is `T?` (one `none`), so optionals compare flattened.
fn fits(have: &Type, want: &Type) -> bool {
    match (have, want) {
        _ if have == want => true,
        (h, Type::Optional(w)) => *strip(h) == Type::None || fits(strip(h), strip(w)),
        (Type::List(h), Type::List(w)) | (Type::Set(h), Type::Set(w)) => fits(h, w),
        (Type::Map(h), Type::Map(w)) => fits(h, w),
        (Type::ValueDecision(h), Type::ValueDecision(w)) => fits(h, w),
        _ => false,
    }
}

/// The type without its outer optionals.
fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Optional(inner) => strip(inner),
        other => other,
    }
}

/// Whether two values can be compared for equality: the same type once
/// optionals are erased, where `none` compares with anything optional.
///
/// Inside collections the element types must agree exactly (up to
/// optionals): engines compare elements by one side's type.
fn comparable(a: &Type, b: &Type) -> bool {
    match (strip(a), strip(b)) {
        (Type::None, _) | (_, Type::None) => true,
        (x, y) => same_shape(x, y),
    }
}

fn same_shape(a: &Type, b: &Type) -> bool {
    match (strip(a), strip(b)) {
        (Type::List(x), Type::List(y))
        | (Type::Set(x), Type::Set(y))
        | (Type::Map(x), Type::Map(y))
        | (Type::ValueDecision(x), Type::ValueDecision(y)) => same_shape(x, y),
        (x, y) => x == y,
    }
}

fn show(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::Int => "int".into(),
        Type::Float => "float".into(),
        Type::String => "string".into(),
        Type::Duration => "duration".into(),
        Type::Timestamp => "timestamp".into(),
        Type::Enum(id) => format!("enum#{}", id.0),
        Type::Schema(id) => format!("schema#{}", id.0),
        Type::Finding => "Finding".into(),
        Type::List(t) => format!("list<{}>", show(t)),
        Type::Set(t) => format!("set<{}>", show(t)),
        Type::Map(t) => format!("map<string, {}>", show(t)),
        Type::Optional(t) => format!("{}?", show(t)),
        Type::Decision => "Decision".into(),
        Type::ValueDecision(t) => format!("Decision<{}>", show(t)),
        Type::None => "none".into(),
    }
}

/// The type of each node of one body, with the body's slot types.
struct Typed<'b> {
    body: &'b Body,
}

impl Typed<'_> {
    fn ty(&self, node: NodeId) -> &Type {
        // Operands are verified to precede their users, so this is in range.
        &self.body.nodes[node.0 as usize].ty
    }

    fn slot(&self, slot: crate::ir::Slot) -> &Type {
        &self.body.slots[slot.0 as usize]
    }

    /// `node` must produce a value usable as `want`.
    fn expect(&self, node: NodeId, want: &Type, what: &str) -> Result<(), String> {
        let have = self.ty(node);
        if fits(have, want) {
            Ok(())
        } else {
            Err(format!(
                "{what} (node {}) is {}, expected {}",
                node.0,
                show(have),
                show(want)
            ))
        }
    }
}

impl Checker<'_> {
    fn root_fits(&self, body: &Body, ty: &Type) -> Result<(), String> {
        let root = body.root.ok_or("no result node")?;
        Typed { body }.expect(root, ty, "the result")
    }

    fn policy(&self, policy: &crate::ir::Policy) -> Result<(), String> {
        let body = &policy.body;
        self.body(body)?;
        let typed = Typed { body };
        if body.slots.first() != Some(&policy.input) {
            return Err("slot 0 does not have the input's type".into());
        }
        if policy.rules.len() > MAX_RULES {
            return Err(format!("more than {MAX_RULES} rules"));
        }
        for local in &policy.locals {
            typed.expect(local.value, typed.slot(local.slot), "a local let")?;
        }
        for rule in &policy.rules {
            if let Some(when) = rule.when {
                typed.expect(when, &Type::Bool, "a rule's condition")?;
            }
            let allowed = match (&rule.action, &policy.kind) {
                (
                    Action::Allow
                    | Action::Deny
                    | Action::RequireApproval
                    | Action::Redact { .. }
                    | Action::Alert { .. },
                    PolicyKind::Decision { .. },
                ) => true,
                (Action::Return { value }, PolicyKind::Value { ty, .. }) => {
                    typed.expect(*value, ty, "a returned value")?;
                    true
                }
                (
                    Action::Keep {
                        collection,
                        elem,
                        limit,
                    },
                    PolicyKind::Filter { elem: elem_ty },
                ) => {
                    match strip(typed.ty(*collection)) {
                        Type::List(t) | Type::Set(t) if !is_optional(typed.ty(*collection)) => {
                            if !fits(t, elem_ty) || !fits(t, typed.slot(*elem)) {
                                return Err("the kept elements do not fit the filter".into());
                            }
                        }
                        _ => return Err("a filter keeps elements of a non-collection".into()),
                    }
                    if let Some(limit) = limit {
                        typed.expect(*limit, &Type::Int, "a keep limit")?;
                    }
                    true
                }
                _ => false,
            };
            if !allowed {
                return Err(format!(
                    "rule `{}` does not belong in this kind of policy",
                    rule.id
                ));
            }
            if let Action::Redact { findings } = &rule.action {
                typed.expect(
                    *findings,
                    &Type::List(Box::new(Type::Finding)),
                    "redacted findings",
                )?;
            }
        }
        if let PolicyKind::Value { ty, value, .. } = &policy.kind {
            typed.expect(*value, ty, "the default value")?;
        }
        Ok(())
    }

    /// Checks every node of a body, the depth of its operand chains and
    /// its size with shared operands counted at each use.
    fn body(&self, body: &Body) -> Result<(), String> {
        let typed = Typed { body };
        let mut depth = vec![0usize; body.nodes.len()];
        let mut size = vec![0u64; body.nodes.len()];
        for (index, node) in body.nodes.iter().enumerate() {
            let produced = self
                .node(&typed, &node.op, &node.ty)
                .map_err(|e| format!("node {index}: {e}"))?;
            if let Some(produced) = produced
                && !fits(&produced, &node.ty)
            {
                return Err(format!(
                    "node {index} produces {} but is declared {}",
                    show(&produced),
                    show(&node.ty)
                ));
            }
            let deepest = node
                .op
                .operands()
                .iter()
                .map(|o| depth[o.0 as usize])
                .max()
                .unwrap_or(0);
            depth[index] = deepest + 1;
            if depth[index] > MAX_NODE_DEPTH {
                return Err(format!(
                    "node {index} nests deeper than {MAX_NODE_DEPTH} operations"
                ));
            }
            size[index] = node
                .op
                .operands()
                .iter()
                .fold(1u64, |total, o| total.saturating_add(size[o.0 as usize]));
            if size[index] > MAX_EXPANDED_SIZE {
                return Err(format!(
                    "node {index} stands for more than {MAX_EXPANDED_SIZE} operations \
                     (operands shared too often)"
                ));
            }
        }
        self.depths
            .borrow_mut()
            .push(depth.iter().copied().max().unwrap_or(0));
        Ok(())
    }

    /// Checks one operation's operands; returns the type it produces, or
    /// `None` when the operation produces exactly its declared type (after
    /// checking that the declared type is one it can produce).
    fn node(&self, t: &Typed<'_>, op: &Op, declared: &Type) -> Result<Option<Type>, String> {
        let program = self.program;
        let bool_ty = Type::Bool;
        Ok(Some(match op {
            Op::Const(c) => match c {
                Const::Bool(_) => Type::Bool,
                Const::Int(_) => Type::Int,
                Const::Float(_) => Type::Float,
                Const::String(_) => Type::String,
                Const::Duration(_) => Type::Duration,
                Const::Timestamp(_) => Type::Timestamp,
                Const::Variant(index) => match strip(declared) {
                    Type::Enum(id) => {
                        let variants = program.enums[id.0 as usize].variants.len();
                        if *index as usize >= variants {
                            return Err(format!("variant {index} out of range"));
                        }
                        Type::Enum(*id)
                    }
                    _ => return Err("a variant of a non-enum type".into()),
                },
                Const::None => Type::None,
            },
            Op::Local(slot) => t.slot(*slot).clone(),
            Op::Let(i) => program.lets[*i as usize].ty.clone(),
            Op::Param(i) => program.params[*i as usize].ty.clone(),
            Op::Now => Type::Timestamp,
            Op::Field { base, index } => match t.ty(*base) {
                Type::Schema(id) => {
                    let fields = &program.schemas[id.0 as usize].fields;
                    fields
                        .get(*index as usize)
                        .ok_or_else(|| format!("field {index} out of range"))?
                        .ty
                        .clone()
                }
                other => return Err(format!("a field of {}", show(other))),
            },
            Op::FindingField { base, field } => {
                t.expect(*base, &Type::Finding, "a finding")?;
                if is_optional(t.ty(*base)) {
                    return Err("a field of an optional finding".into());
                }
                match field {
                    FindingField::Kind | FindingField::Text => Type::String,
                    FindingField::Start | FindingField::End => Type::Int,
                }
            }
            Op::DecisionMember { base, member } => {
                let value = match t.ty(*base) {
                    Type::Decision => None,
                    Type::ValueDecision(v) => Some(v),
                    other => return Err(format!("a decision member of {}", show(other))),
                };
                match member {
                    DecisionMember::Allowed
                    | DecisionMember::Denied
                    | DecisionMember::RequiresApproval
                    | DecisionMember::Alerted => Type::Bool,
                    DecisionMember::Reasons => Type::List(Box::new(Type::String)),
                    DecisionMember::Redactions => Type::List(Box::new(Type::Finding)),
                    DecisionMember::Error => Type::Optional(Box::new(Type::String)),
                    DecisionMember::Value => match value {
                        Some(v) => (**v).clone(),
                        None => return Err("the value of a decision policy".into()),
                    },
                }
            }
            Op::Fired { base, reason } => {
                if !matches!(t.ty(*base), Type::Decision | Type::ValueDecision(_)) {
                    return Err(format!("`fired` on {}", show(t.ty(*base))));
                }
                t.expect(*reason, &Type::String, "a reason")?;
                not_optional(t, *reason)?;
                Type::Bool
            }
            Op::IfPresent { value, slot, then } => {
                let present = strip(t.ty(*value));
                if *present != Type::None && !fits(present, t.slot(*slot)) {
                    return Err("the present value does not fit its slot".into());
                }
                Type::Optional(Box::new(strip(t.ty(*then)).clone()))
            }
            Op::Index { base, index, on } => {
                let elem = match (on, t.ty(*base)) {
                    (CollectionKind::List, Type::List(e)) => {
                        t.expect(*index, &Type::Int, "a list index")?;
                        e
                    }
                    (CollectionKind::Map, Type::Map(e)) => {
                        t.expect(*index, &Type::String, "a map key")?;
                        e
                    }
                    (_, other) => return Err(format!("an index into {}", show(other))),
                };
                not_optional(t, *index)?;
                Type::Optional(elem.clone())
            }
            Op::Coalesce { value, default } => {
                let present = strip(t.ty(*value));
                if *present != Type::None && !fits(present, declared) {
                    return Err("the value of `??` does not fit its type".into());
                }
                t.expect(*default, declared, "the default of `??`")?;
                return Ok(None);
            }
            Op::Unary { op, operand } => {
                let ty = match op {
                    UnaryOp::Not => Type::Bool,
                    UnaryOp::NegInt => Type::Int,
                    UnaryOp::NegFloat => Type::Float,
                    UnaryOp::NegDuration => Type::Duration,
                };
                exact(t, *operand, &ty)?;
                ty
            }
            Op::IntToFloat(operand) => {
                exact(t, *operand, &Type::Int)?;
                Type::Float
            }
            Op::Binary { op, lhs, rhs } => self.binary(t, *op, *lhs, *rhs, declared)?,
            Op::If {
                cond,
                then,
                otherwise,
            } => {
                exact(t, *cond, &bool_ty)?;
                t.expect(*then, declared, "a branch")?;
                t.expect(*otherwise, declared, "a branch")?;
                return Ok(None);
            }
            Op::Quant {
                kind,
                over,
                collection,
                key,
                elem,
                body,
            } => {
                let coll = t.ty(*collection);
                let (key_ty, elem_ty) = match (over, coll) {
                    (CollectionKind::List, Type::List(e)) | (CollectionKind::Set, Type::Set(e)) => {
                        (Type::Int, (**e).clone())
                    }
                    (CollectionKind::Map, Type::Map(e)) => match key {
                        Some(_) => (Type::String, (**e).clone()),
                        None => (Type::String, Type::String),
                    },
                    (_, other) => return Err(format!("a loop over {}", show(other))),
                };
                if let Some(key) = key
                    && !fits(&key_ty, t.slot(*key))
                {
                    return Err("the loop's key does not fit its slot".into());
                }
                if !fits(&elem_ty, t.slot(*elem)) {
                    return Err("the loop's element does not fit its slot".into());
                }
                match kind {
                    QuantKind::Any | QuantKind::All | QuantKind::Count | QuantKind::Filter => {
                        exact(t, *body, &bool_ty)?;
                    }
                    QuantKind::Map => {}
                }
                match kind {
                    QuantKind::Any | QuantKind::All => Type::Bool,
                    QuantKind::Count => Type::Int,
                    QuantKind::Filter => coll.clone(),
                    QuantKind::Map => Type::List(Box::new(t.ty(*body).clone())),
                }
            }
            Op::List(items) | Op::Set(items) if items.len() > crate::ir::MAX_ITEMS => {
                return Err("a literal with too many elements".into());
            }
            Op::Map(entries) if entries.len() > crate::ir::MAX_ITEMS => {
                return Err("a literal with too many entries".into());
            }
            Op::List(items) | Op::Set(items) => {
                let elem = match (op, strip(declared)) {
                    (Op::List(_), Type::List(e)) | (Op::Set(_), Type::Set(e)) => e,
                    _ => return Err(format!("a collection literal declared {}", show(declared))),
                };
                for item in items {
                    t.expect(*item, elem, "an element")?;
                }
                return Ok(None);
            }
            Op::Map(entries) => {
                let Type::Map(elem) = strip(declared) else {
                    return Err(format!("a map literal declared {}", show(declared)));
                };
                let mut keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_str()).collect();
                keys.sort_unstable();
                if keys.windows(2).any(|w| w[0] == w[1]) {
                    return Err("a map literal with a key twice".into());
                }
                for (_, value) in entries {
                    t.expect(*value, elem, "a map value")?;
                }
                return Ok(None);
            }
            Op::Record { schema, fields } => {
                let declared_fields = &program.schemas[schema.0 as usize].fields;
                if declared_fields.len() != fields.len() {
                    return Err("a record with the wrong number of fields".into());
                }
                for (field, value) in declared_fields.iter().zip(fields) {
                    match value {
                        Some(value) => t.expect(*value, &field.ty, "a record field")?,
                        None if is_optional(&field.ty) => {}
                        None => return Err(format!("required field `{}` missing", field.name)),
                    }
                }
                Type::Schema(*schema)
            }
            Op::Finding {
                kind,
                start,
                end,
                text,
            } => {
                exact(t, *kind, &Type::String)?;
                exact(t, *start, &Type::Int)?;
                exact(t, *end, &Type::Int)?;
                if let Some(text) = text {
                    exact(t, *text, &Type::String)?;
                }
                Type::Finding
            }
            Op::Builtin { id, args } => builtin(t, *id, args)?,
            Op::CallPolicy { policy, input } => {
                let callee = &program.policies[*policy as usize];
                t.expect(*input, &callee.input, "a policy's input")?;
                match &callee.kind {
                    PolicyKind::Decision { .. } => Type::Decision,
                    PolicyKind::Value { ty, .. } => Type::ValueDecision(Box::new(ty.clone())),
                    PolicyKind::Filter { elem } => {
                        // The kept elements, as the declared collection.
                        match declared {
                            Type::ValueDecision(inner) if matches!(&**inner, Type::List(e) if fits(elem, e)) =>
                            {
                                return Ok(None);
                            }
                            _ => return Err("a filter policy's result is not a list".into()),
                        }
                    }
                }
            }
        }))
    }

    fn binary(
        &self,
        t: &Typed<'_>,
        op: BinaryOp,
        lhs: NodeId,
        rhs: NodeId,
        declared: &Type,
    ) -> Result<Type, String> {
        let both = |ty: Type| -> Result<Type, String> {
            exact(t, lhs, &ty)?;
            exact(t, rhs, &ty)?;
            Ok(ty)
        };
        let pair = |l: Type, r: Type, out: Type| -> Result<Type, String> {
            exact(t, lhs, &l)?;
            exact(t, rhs, &r)?;
            Ok(out)
        };
        match op {
            BinaryOp::And | BinaryOp::Or => both(Type::Bool),
            BinaryOp::Eq | BinaryOp::Ne => {
                if comparable(t.ty(lhs), t.ty(rhs)) {
                    Ok(Type::Bool)
                } else {
                    Err(format!(
                        "`==` between {} and {}",
                        show(t.ty(lhs)),
                        show(t.ty(rhs))
                    ))
                }
            }
            BinaryOp::Lt(ordered)
            | BinaryOp::Le(ordered)
            | BinaryOp::Gt(ordered)
            | BinaryOp::Ge(ordered) => {
                let ty = match ordered {
                    Ordered::Int => Type::Int,
                    Ordered::Float => Type::Float,
                    Ordered::String => Type::String,
                    Ordered::Duration => Type::Duration,
                    Ordered::Timestamp => Type::Timestamp,
                    Ordered::Enum => match t.ty(lhs) {
                        Type::Enum(id) => Type::Enum(*id),
                        other => return Err(format!("an enum comparison of {}", show(other))),
                    },
                };
                both(ty).map(|_| Type::Bool)
            }
            BinaryOp::InCollection => match t.ty(rhs) {
                Type::List(e) | Type::Set(e)
                    if *strip(e) != Type::None && comparable(t.ty(lhs), e) =>
                {
                    Ok(Type::Bool)
                }
                other => Err(format!("`in` {}", show(other))),
            },
            BinaryOp::InMapKeys => match t.ty(rhs) {
                Type::Map(_) => {
                    exact(t, lhs, &Type::String)?;
                    Ok(Type::Bool)
                }
                other => Err(format!("`in` the keys of {}", show(other))),
            },
            BinaryOp::InString => both(Type::String).map(|_| Type::Bool),
            BinaryOp::AddInt
            | BinaryOp::SubInt
            | BinaryOp::MulInt
            | BinaryOp::DivInt
            | BinaryOp::RemInt => both(Type::Int),
            BinaryOp::AddFloat | BinaryOp::SubFloat | BinaryOp::MulFloat | BinaryOp::DivFloat => {
                both(Type::Float)
            }
            BinaryOp::Concat => both(Type::String),
            BinaryOp::ConcatLists => {
                let Type::List(_) = strip(declared) else {
                    return Err("list concatenation declared a non-list".into());
                };
                for side in [lhs, rhs] {
                    not_optional(t, side)?;
                    t.expect(side, strip(declared), "a concatenated list")?;
                }
                Ok(strip(declared).clone())
            }
            BinaryOp::AddTimestampDuration | BinaryOp::SubTimestampDuration => {
                pair(Type::Timestamp, Type::Duration, Type::Timestamp)
            }
            BinaryOp::SubTimestamps => pair(Type::Timestamp, Type::Timestamp, Type::Duration),
            BinaryOp::AddDurations | BinaryOp::SubDurations => both(Type::Duration),
            BinaryOp::MulDurationInt | BinaryOp::DivDurationInt => {
                pair(Type::Duration, Type::Int, Type::Duration)
            }
        }
    }
}

fn is_optional(ty: &Type) -> bool {
    matches!(ty, Type::Optional(_) | Type::None)
}

/// `node` must be exactly `ty`: not optional, no widening.
fn exact(t: &Typed<'_>, node: NodeId, ty: &Type) -> Result<(), String> {
    if t.ty(node) == ty {
        Ok(())
    } else {
        Err(format!(
            "node {} is {}, expected {}",
            node.0,
            show(t.ty(node)),
            show(ty)
        ))
    }
}

fn not_optional(t: &Typed<'_>, node: NodeId) -> Result<(), String> {
    if is_optional(t.ty(node)) {
        Err(format!("node {} may be none here", node.0))
    } else {
        Ok(())
    }
}

/// Checks a builtin call against the builtin table; returns its result type.
fn builtin(t: &Typed<'_>, id: builtins::Builtin, args: &[NodeId]) -> Result<Type, String> {
    let sig = builtins::signature(id);
    let (receiver, rest) = match sig.receiver {
        Receiver::Module(_) => (None, args),
        _ => match args.split_first() {
            Some((first, rest)) => (Some(*first), rest),
            None => return Err(format!("`{}` without a receiver", sig.name)),
        },
    };
    if rest.len() != sig.params.len() {
        return Err(format!(
            "`{}` takes {} arguments, got {}",
            sig.name,
            sig.params.len(),
            rest.len()
        ));
    }
    let mut elem: Option<Type> = None;
    if let Some(receiver) = receiver {
        let ty = t.ty(receiver);
        let ok = match (sig.receiver, ty) {
            (Receiver::String, Type::String)
            | (Receiver::Int, Type::Int)
            | (Receiver::Float, Type::Float)
            | (Receiver::Duration, Type::Duration)
            | (Receiver::Timestamp, Type::Timestamp) => true,
            (Receiver::Collection, Type::List(e) | Type::Set(e))
            | (Receiver::List, Type::List(e))
            | (Receiver::Map, Type::Map(e)) => {
                elem = Some((**e).clone());
                true
            }
            (Receiver::NumericCollection, Type::List(e) | Type::Set(e))
                if matches!(**e, Type::Int | Type::Float | Type::Duration) =>
            {
                elem = Some((**e).clone());
                true
            }
            _ => false,
        };
        if !ok {
            return Err(format!("`{}` called on {}", sig.name, show(ty)));
        }
    }
    for ((name, pattern), arg) in sig.params.iter().zip(rest) {
        if !matches_pattern(t.ty(*arg), pattern, elem.as_ref()) {
            return Err(format!(
                "argument `{name}` of `{}` is {}",
                sig.name,
                show(t.ty(*arg))
            ));
        }
    }
    produce(&sig.ret, elem.as_ref()).ok_or_else(|| format!("`{}` has no element type", sig.name))
}

fn matches_pattern(ty: &Type, pattern: &TypePattern, elem: Option<&Type>) -> bool {
    match (pattern, ty) {
        (TypePattern::Bool, Type::Bool)
        | (TypePattern::Int, Type::Int)
        | (TypePattern::Float, Type::Float)
        | (TypePattern::String, Type::String)
        | (TypePattern::Duration, Type::Duration)
        | (TypePattern::Timestamp, Type::Timestamp)
        | (TypePattern::Finding, Type::Finding) => true,
        // An optional only where the elements are optional themselves
        // (`zs.intersects(["a", "b"])` with `zs: list<string?>` widens the
        // literal's elements to `string?`).
        (TypePattern::Elem, ty) => elem.is_some_and(|e| {
            *strip(e) != Type::None && comparable(ty, e) && (!is_optional(ty) || is_optional(e))
        }),
        (TypePattern::List(p), Type::List(t)) | (TypePattern::Set(p), Type::Set(t)) => {
            matches_pattern(t, p, elem)
        }
        (TypePattern::Collection(p), Type::List(t) | Type::Set(t)) => matches_pattern(t, p, elem),
        (TypePattern::Optional(p), Type::Optional(t)) => matches_pattern(t, p, elem),
        (TypePattern::Optional(p), t) => matches_pattern(t, p, elem),
        _ => false,
    }
}

fn produce(pattern: &TypePattern, elem: Option<&Type>) -> Option<Type> {
    Some(match pattern {
        TypePattern::Bool => Type::Bool,
        TypePattern::Int => Type::Int,
        TypePattern::Float => Type::Float,
        TypePattern::String => Type::String,
        TypePattern::Duration => Type::Duration,
        TypePattern::Timestamp => Type::Timestamp,
        TypePattern::Finding => Type::Finding,
        TypePattern::Elem => elem?.clone(),
        TypePattern::List(p) => Type::List(Box::new(produce(p, elem)?)),
        TypePattern::Set(p) | TypePattern::Collection(p) => Type::Set(Box::new(produce(p, elem)?)),
        TypePattern::Optional(p) => Type::Optional(Box::new(produce(p, elem)?)),
    })
}

/// Orders definitions so each comes after what it reads, refusing cycles
/// (a let that reads itself, policies that call each other) and
/// evaluations nesting deeper than [`MAX_STACK_DEPTH`].
fn definition_order(program: &Program, depths: &[usize]) -> Result<(), String> {
    // Definitions are numbered: lets, then params, then policies.
    let lets = program.lets.len();
    let params = program.params.len();
    let total = lets + params + program.policies.len();
    let name = |d: usize| -> String {
        if d < lets {
            format!("let {}", program.lets[d].name)
        } else if d < lets + params {
            format!("param {}", program.params[d - lets].name)
        } else {
            format!("policy {}", program.policies[d - lets - params].name)
        }
    };
    let body = |d: usize| -> &Body {
        if d < lets {
            &program.lets[d].value
        } else if d < lets + params {
            &program.params[d - lets].value
        } else {
            &program.policies[d - lets - params].body
        }
    };
    let mut edges: Vec<Vec<usize>> = Vec::with_capacity(total);
    for d in 0..total {
        let mut out: Vec<usize> = body(d)
            .nodes
            .iter()
            .filter_map(|n| match n.op {
                Op::Let(i) => Some(i as usize),
                Op::Param(i) => Some(lets + i as usize),
                Op::CallPolicy { policy, .. } => Some(lets + params + policy as usize),
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        edges.push(out);
    }
    // Iterative depth-first search: 0 unvisited, 1 on the stack, 2 done.
    let mut state = vec![0u8; total];
    let mut height = vec![0usize; total];
    for start in 0..total {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (d, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[d].get(*next) {
                *next += 1;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => return Err(format!("{} depends on itself", name(to))),
                    _ => {}
                }
            } else {
                // The deepest nesting an evaluation of `d` reaches: its own
                // operand chains on top of the deepest definition it reads.
                height[d] = depths.get(d).copied().unwrap_or(0)
                    + edges[d].iter().map(|&e| height[e]).max().unwrap_or(0);
                if height[d] > MAX_STACK_DEPTH {
                    return Err(format!(
                        "{} nests deeper than {MAX_STACK_DEPTH} operations, counting what it reads",
                        name(d)
                    ));
                }
                state[d] = 2;
                stack.pop();
            }
        }
    }
    Ok(())
}

/// Scopes: no evaluation reads a slot before something writes it.
///
/// A slot holds a policy's input (slot 0, always written), a local let
/// (written before the later locals and the rules), an optional's present
/// value (only inside `IfPresent::then`), a loop's key and element (only
/// inside `Quant::body`) or a kept element (only inside its `keep` rule's
/// condition). Engines start slots as `none`, which for a record or a
/// string is no value at all, so a read outside these scopes is refused
/// here.
mod scope {
    use crate::ir::{Action, Body, NodeId, Op, Policy, PolicyKind, Slot};

    /// The most operations the walk visits in one body, counting shared
    /// operands at each use (each root is bounded by the expanded size
    /// check; this bounds their sum).
    const BUDGET: u64 = 1 << 22;

    enum Step {
        Visit(NodeId),
        Bind(Slot),
        Unbind(Slot),
    }

    struct Walk<'b> {
        body: &'b Body,
        /// How many enclosing scopes bind each slot.
        bound: Vec<u32>,
        budget: u64,
    }

    impl<'b> Walk<'b> {
        fn new(body: &'b Body) -> Walk<'b> {
            Walk {
                body,
                bound: vec![0; body.slots.len()],
                budget: BUDGET,
            }
        }

        fn bind(&mut self, slot: Slot) {
            self.bound[slot.0 as usize] += 1;
        }

        fn unbind(&mut self, slot: Slot) {
            self.bound[slot.0 as usize] -= 1;
        }

        /// Walks the tree under `root` (iteratively: bodies may be deep).
        fn visit(&mut self, root: NodeId) -> Result<(), String> {
            let mut steps = vec![Step::Visit(root)];
            while let Some(step) = steps.pop() {
                let node = match step {
                    Step::Bind(slot) => {
                        self.bind(slot);
                        continue;
                    }
                    Step::Unbind(slot) => {
                        self.unbind(slot);
                        continue;
                    }
                    Step::Visit(node) => node,
                };
                self.budget = self.budget.checked_sub(1).ok_or_else(|| {
                    format!("stands for more than {BUDGET} operations (operands shared too often)")
                })?;
                match &self.body.nodes[node.0 as usize].op {
                    Op::Local(slot) => {
                        if self.bound[slot.0 as usize] == 0 {
                            return Err(format!(
                                "node {} reads slot {} where nothing has written it",
                                node.0, slot.0
                            ));
                        }
                    }
                    Op::IfPresent { value, slot, then } => {
                        steps.push(Step::Unbind(*slot));
                        steps.push(Step::Visit(*then));
                        steps.push(Step::Bind(*slot));
                        steps.push(Step::Visit(*value));
                    }
                    Op::Quant {
                        collection,
                        key,
                        elem,
                        body,
                        ..
                    } => {
                        steps.push(Step::Unbind(*elem));
                        if let Some(key) = key {
                            steps.push(Step::Unbind(*key));
                        }
                        steps.push(Step::Visit(*body));
                        if let Some(key) = key {
                            steps.push(Step::Bind(*key));
                        }
                        steps.push(Step::Bind(*elem));
                        steps.push(Step::Visit(*collection));
                    }
                    op => steps.extend(op.operands().into_iter().map(Step::Visit)),
                }
            }
            Ok(())
        }
    }

    /// A let's or param's body: nothing is bound at its root.
    pub(super) fn check_value(body: &Body) -> Result<(), String> {
        match body.root {
            Some(root) => Walk::new(body).visit(root),
            None => Ok(()),
        }
    }

    /// A policy: the input, then each local in order, then the rules.
    pub(super) fn check_policy(policy: &Policy) -> Result<(), String> {
        let mut walk = Walk::new(&policy.body);
        walk.bind(Slot(0));
        for local in &policy.locals {
            walk.visit(local.value)?;
            walk.bind(local.slot);
        }
        for rule in &policy.rules {
            match &rule.action {
                Action::Keep {
                    collection,
                    elem,
                    limit,
                } => {
                    walk.visit(*collection)?;
                    if let Some(limit) = limit {
                        walk.visit(*limit)?;
                    }
                    walk.bind(*elem);
                    if let Some(when) = rule.when {
                        walk.visit(when)?;
                    }
                    walk.unbind(*elem);
                }
                action => {
                    if let Some(when) = rule.when {
                        walk.visit(when)?;
                    }
                    match action {
                        Action::Redact { findings } => walk.visit(*findings)?,
                        Action::Return { value } => walk.visit(*value)?,
                        _ => {}
                    }
                }
            }
        }
        if let PolicyKind::Value { value, .. } = &policy.kind {
            walk.visit(*value)?;
        }
        Ok(())
    }
}
