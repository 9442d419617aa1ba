//! The abstract syntax tree. Every node has a span relative to the start of
//! its item.

use crate::Span;

/// A name as written, with its span.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A dotted path such as `std.guards.input`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    /// The segments, at least one.
    pub segments: Vec<Ident>,
    /// The whole path.
    pub span: Span,
}

impl Path {
    /// The segments joined with `.`.
    pub fn dotted(&self) -> String {
        let names: Vec<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
        names.join(".")
    }
}

/// A string literal with its decoded value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StrLit {
    /// The value after escapes are processed.
    pub value: String,
    /// The literal, quotes included.
    pub span: Span,
}

/// One top-level item.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// What the item is.
    pub kind: ItemKind,
    /// The doc comment before it (`///` lines, markers stripped).
    pub doc: Option<String>,
    /// The item from its keyword to its end (doc comments excluded).
    pub span: Span,
}

/// The kinds of item.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// `package a.b.c`
    Package(Path),
    /// `import a.b.c [as x]`
    Import(Import),
    /// `schema Name { field: T, ... }`
    Schema(Schema),
    /// `enum Name { a, b, c }`
    Enum(Enum),
    /// `let name[: T] = expr`
    Let(Binding),
    /// `param name: T = expr`
    Param(Binding),
    /// `param alias.name = expr`: a value for an imported package's param.
    ParamOverride(ParamOverride),
    /// `policy name(input: T) -> R { ... }`
    Policy(Policy),
    /// `test "name" { ... }`
    Test(Test),
}

impl Item {
    /// The name this item defines, if it defines one.
    pub fn name(&self) -> Option<&Ident> {
        match &self.kind {
            ItemKind::Package(_)
            | ItemKind::Import(_)
            | ItemKind::Test(_)
            | ItemKind::ParamOverride(_) => None,
            ItemKind::Schema(s) => Some(&s.name),
            ItemKind::Enum(e) => Some(&e.name),
            ItemKind::Let(b) | ItemKind::Param(b) => Some(&b.name),
            ItemKind::Policy(p) => Some(&p.name),
        }
    }
}

/// `import path [as alias]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    /// The imported package.
    pub path: Path,
    /// The local name, when given with `as`.
    pub alias: Option<Ident>,
}

impl Import {
    /// The name the import binds: the alias, or the last path segment.
    pub fn local_name(&self) -> &Ident {
        self.alias.as_ref().unwrap_or_else(|| {
            // A path always has at least one segment (the grammar requires it).
            &self.path.segments[self.path.segments.len() - 1]
        })
    }
}

/// `param alias.name = value` in an importing package.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamOverride {
    /// The param: an import's local name, then the param's name.
    pub target: Path,
    /// The value that replaces the param's default.
    pub value: Expr,
}

/// A schema declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// Its name.
    pub name: Ident,
    /// Its fields in declaration order.
    pub fields: Vec<Field>,
}

/// A schema field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Its name.
    pub name: Ident,
    /// Its type (`T?` for optional fields).
    pub ty: TypeExpr,
    /// Its doc comment.
    pub doc: Option<String>,
    /// The whole field.
    pub span: Span,
}

/// An enum declaration; variants are ordered by declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enum {
    /// Its name.
    pub name: Ident,
    /// Its variants, in order.
    pub variants: Vec<Variant>,
}

/// An enum variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// Its name.
    pub name: Ident,
    /// Its doc comment.
    pub doc: Option<String>,
}

/// `let` or `param`: a name, an optional type, a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The name bound.
    pub name: Ident,
    /// The declared type (required for `param`).
    pub ty: Option<TypeExpr>,
    /// The value (the default, for a param).
    pub value: Expr,
    /// The whole binding.
    pub span: Span,
    /// Its doc comment (for locals inside bodies).
    pub doc: Option<String>,
}

/// A type as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeExpr {
    /// What it is.
    pub kind: TypeExprKind,
    /// Where.
    pub span: Span,
}

/// The kinds of written type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TypeExprKind {
    /// A named type: a primitive, `Decision`, a schema or an enum,
    /// possibly qualified by an imported package.
    Named(Path),
    /// `list<T>`
    List(Box<TypeExpr>),
    /// `set<T>`
    Set(Box<TypeExpr>),
    /// `map<K, V>` (the checker requires `K` to be `string`)
    Map(Box<TypeExpr>, Box<TypeExpr>),
    /// `T?`
    Optional(Box<TypeExpr>),
}

/// A policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    /// Its name.
    pub name: Ident,
    /// Its parameters (the checker requires exactly one: the input).
    pub params: Vec<PolicyParam>,
    /// The return type: `Decision`, a value type, or `list<T>` for filters.
    pub ret: TypeExpr,
    /// Local lets and rules, in order.
    pub body: Vec<PolicyStmt>,
}

/// `name: Type` in a policy's parameter list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyParam {
    /// The parameter's name.
    pub name: Ident,
    /// Its type.
    pub ty: TypeExpr,
}

/// A statement in a policy body.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyStmt {
    /// A local `let`.
    Let(Binding),
    /// A rule.
    Rule(Rule),
}

/// A rule: `kind "reason" [when cond]` with its attributes.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// What kind of rule and its kind-specific parts.
    pub kind: RuleKind,
    /// The reason text; with the policy name it forms the rule's stable id.
    pub reason: StrLit,
    /// The condition; `None` means the rule always fires.
    pub when: Option<Expr>,
    /// An explicit `@id("...")`.
    pub id: Option<StrLit>,
    /// Other attributes, reported by the checker as unknown.
    pub unknown_attributes: Vec<Ident>,
    /// Its doc comment.
    pub doc: Option<String>,
    /// The span of the rule's keyword.
    pub keyword_span: Span,
    /// The whole rule.
    pub span: Span,
}

/// The effect a `default` gives, or a decision rule has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// `allow`
    Allow,
    /// `deny`
    Deny,
}

/// The kinds of rule.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleKind {
    /// `allow "reason" when ...`
    Allow,
    /// `deny "reason" when ...`
    Deny,
    /// `require_approval "reason" when ...`
    RequireApproval,
    /// `redact "reason" of findings when ...`
    Redact {
        /// The findings whose spans are to be redacted.
        target: Expr,
    },
    /// `alert severity "reason" when ...`
    Alert {
        /// One of `info`, `low`, `medium`, `high`, `critical`.
        severity: Ident,
    },
    /// `return value "reason" when ...` in a value policy.
    Return {
        /// The value chosen when the rule matches.
        value: Expr,
    },
    /// `keep x in xs "reason" when ... [limit n]` in a filter policy.
    Keep {
        /// The element variable.
        var: Ident,
        /// The collection filtered.
        collection: Expr,
        /// The maximum number of elements kept.
        limit: Option<Expr>,
    },
    /// `default allow|deny "reason"` in a decision policy.
    DefaultEffect(Effect),
    /// `default value "reason"` in a value policy.
    DefaultValue(Expr),
}

impl RuleKind {
    /// The keyword that introduces the rule, as written.
    pub fn keyword(&self) -> &'static str {
        match self {
            RuleKind::Allow => "allow",
            RuleKind::Deny => "deny",
            RuleKind::RequireApproval => "require_approval",
            RuleKind::Redact { .. } => "redact",
            RuleKind::Alert { .. } => "alert",
            RuleKind::Return { .. } => "return",
            RuleKind::Keep { .. } => "keep",
            RuleKind::DefaultEffect(_) | RuleKind::DefaultValue(_) => "default",
        }
    }
}

/// A test block.
#[derive(Debug, Clone, PartialEq)]
pub struct Test {
    /// Its name.
    pub name: StrLit,
    /// Its statements.
    pub body: Vec<TestStmt>,
}

/// A statement in a test.
#[derive(Debug, Clone, PartialEq)]
pub enum TestStmt {
    /// `let x = ...`
    Let(Binding),
    /// `expect cond`
    Expect(Expr),
    /// `for case in cases { ... }`: each element is reported as its own case.
    For {
        /// The case variable.
        var: Ident,
        /// The cases.
        cases: Expr,
        /// The statements run for each case.
        body: Vec<TestStmt>,
        /// The whole loop.
        span: Span,
    },
    /// `with name = value, ... { ... }`: overrides for the block.
    With {
        /// What is overridden (a param, a let, or a builtin) and its value.
        bindings: Vec<(Path, Expr)>,
        /// The statements run with the overrides.
        body: Vec<TestStmt>,
        /// The whole block.
        span: Span,
    },
}

/// An expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// A float literal, compared by bits so the AST is `Eq`.
#[derive(Debug, Clone, Copy)]
pub struct FloatLit(pub f64);

impl PartialEq for FloatLit {
    fn eq(&self, other: &FloatLit) -> bool {
        self.0.to_bits() == other.0.to_bits()
    }
}

/// Binary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `??`
    Coalesce,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinaryOp {
    /// Whether it compares (`==`, `!=`, `<`, `<=`, `>`, `>=`, `in`, `not in`):
    /// these share one precedence level and do not chain.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq
                | BinaryOp::Ne
                | BinaryOp::Lt
                | BinaryOp::Le
                | BinaryOp::Gt
                | BinaryOp::Ge
                | BinaryOp::In
                | BinaryOp::NotIn
        )
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
            BinaryOp::Coalesce => "??",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}

/// Unary operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// `not`
    Not,
    /// `-`
    Neg,
}

/// Quantifiers and comprehensions over a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuantKind {
    /// `any x in xs: cond` — true when some element satisfies `cond`.
    Any,
    /// `all x in xs: cond` — true when every element satisfies `cond`.
    All,
    /// `count x in xs: cond` — how many elements satisfy `cond`.
    Count,
    /// `filter x in xs: cond` — the elements that satisfy `cond`, in order.
    Filter,
    /// `map x in xs: expr` — `expr` for each element, in order.
    Map,
}

impl QuantKind {
    /// The keyword as written.
    pub fn keyword(self) -> &'static str {
        match self {
            QuantKind::Any => "any",
            QuantKind::All => "all",
            QuantKind::Count => "count",
            QuantKind::Filter => "filter",
            QuantKind::Map => "map",
        }
    }
}

/// The kinds of expression.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// `true`, `false`
    Bool(bool),
    /// `42`
    Int(i64),
    /// `0.5`
    Float(FloatLit),
    /// `"text"`, `r"raw"`
    Str(String),
    /// `5m`, in nanoseconds
    Duration(i64),
    /// `t"2026-01-01T00:00:00Z"`, in nanoseconds since the Unix epoch
    Timestamp(i64),
    /// `none`
    None,
    /// `now`: the request time from the evaluation context
    Now,
    /// A name: a local, let, param, policy, enum variant, or imported package.
    Name(Ident),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{a, b}`
    Set(Vec<Expr>),
    /// `{"k": v}`
    Map(Vec<(StrLit, Expr)>),
    /// `{field: v}`: a record whose schema comes from the expected type
    Record(Vec<(Ident, Expr)>),
    /// `{}`: an empty set, map or record, by the expected type
    EmptyBraces,
    /// `base.name` or `base?.name`
    Field {
        /// The record (or package, or enum) accessed.
        base: Box<Expr>,
        /// The field name.
        name: Ident,
        /// `?.`: `none` when `base` is `none`.
        optional: bool,
    },
    /// `base[index]` or `base?[index]`
    Index {
        /// The collection.
        base: Box<Expr>,
        /// The key or position.
        index: Box<Expr>,
        /// `?[`: `none` when `base` is `none`.
        optional: bool,
    },
    /// `callee(args)`: a policy, a builtin, or (with a field callee) a method.
    Call {
        /// What is called.
        callee: Box<Expr>,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `not x`, `-x`
    Unary {
        /// The operator.
        op: UnaryOp,
        /// Its span.
        op_span: Span,
        /// The operand.
        operand: Box<Expr>,
    },
    /// `a op b`
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Its span.
        op_span: Span,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `if c then a else b`
    If {
        /// The condition.
        cond: Box<Expr>,
        /// The value when true.
        then: Box<Expr>,
        /// The value when false.
        otherwise: Box<Expr>,
    },
    /// `any x in xs: body` and the other quantifiers; two variables iterate
    /// a map's keys and values.
    Quant {
        /// Which quantifier.
        kind: QuantKind,
        /// One variable, or two (key, value) over a map.
        vars: Vec<Ident>,
        /// The collection.
        collection: Box<Expr>,
        /// The condition or mapped expression.
        body: Box<Expr>,
    },
    /// `(expr)`, kept so spans and the formatter see the parentheses.
    Paren(Box<Expr>),
}
