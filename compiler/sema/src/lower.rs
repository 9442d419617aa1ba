//! Lowering a checked program to the typed IR (`pol_ir::ir`).
//!
//! Lowering trusts the checker: it runs only on a program without errors and
//! reads what the checker recorded (the type of every expression, what every
//! name resolved to), so no resolution or typing rule is written twice.
//! Where the checker accepted an `int` for a `float`, lowering inserts the
//! explicit widening the IR requires.

use std::collections::HashMap;

use pol_ir::builtins;
use pol_ir::ir::{self, Const, NodeId, Op, Slot};
use pol_ir::suite;
use pol_syntax::Span;
use pol_syntax::ast::{self, BinaryOp, Expr, ExprKind, QuantKind, RuleKind, UnaryOp};

use crate::check::{methods_of, slug};
use crate::program::{Def, ImportTarget, Origin, PolicyKind, TestDef};
use crate::ty::Ty;
use crate::{CheckedProject, Target};

/// Why a program could not be lowered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LowerError {
    /// The program has errors; lowering runs only on a clean program.
    HasErrors(usize),
    /// The checker left no record for an expression it should have typed:
    /// a bug in the front end, reported rather than panicking.
    Internal(String),
}

impl std::fmt::Display for LowerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LowerError::HasErrors(n) => {
                write!(f, "the program has {n} error(s); fix them before lowering")
            }
            LowerError::Internal(what) => write!(f, "internal error while lowering: {what}"),
        }
    }
}

impl std::error::Error for LowerError {}

type Result<T> = std::result::Result<T, LowerError>;

/// Lowers a checked program without errors to the IR: the project's
/// packages and the packages its files import, with what they use (the
/// embedded standard library's other packages are left out).
pub fn lower(checked: &CheckedProject) -> Result<ir::Program> {
    let (program, _) = lower_inner(checked, false)?;
    let mut entry_packages = std::collections::BTreeSet::new();
    for file in checked.program.files.iter().filter(|f| !f.embedded) {
        entry_packages.insert(file.package.as_str());
        for (target, _) in file.scope.imports.values() {
            if let ImportTarget::Package(package) = target {
                entry_packages.insert(package.as_str());
            }
        }
    }
    Ok(pol_ir::prune::retain_packages(&program, |package| {
        entry_packages.contains(package)
    }))
}

/// Lowers a checked program without errors to the IR, with the `test`
/// blocks of the project's own files (not the embedded library's), for
/// `polc test`.
pub fn lower_with_tests(checked: &CheckedProject) -> Result<(ir::Program, Vec<suite::Test>)> {
    lower_inner(checked, true)
}

fn lower_inner(
    checked: &CheckedProject,
    with_tests: bool,
) -> Result<(ir::Program, Vec<suite::Test>)> {
    let errors = checked
        .diagnostics
        .iter()
        .flatten()
        .filter(|d| d.is_error())
        .count()
        + checked
            .program
            .files
            .iter()
            .flat_map(|f| &f.syntax.diagnostics)
            .filter(|d| d.is_error())
            .count();
    if errors > 0 {
        return Err(LowerError::HasErrors(errors));
    }
    let program = &checked.program;
    let lowerer = Lowerer {
        checked,
        constants: std::cell::RefCell::new(Vec::new()),
    };
    let schemas = program
        .schemas
        .iter()
        .map(|s| ir::Schema {
            name: format!("{}.{}", s.origin.package, s.name),
            fields: s
                .fields
                .iter()
                .map(|f| ir::Field {
                    name: f.name.clone(),
                    ty: ir_type(&f.ty),
                })
                .collect(),
        })
        .collect();
    let enums = program
        .enums
        .iter()
        .map(|e| ir::Enum {
            name: format!("{}.{}", e.origin.package, e.name),
            variants: e.variants.iter().map(|(v, _)| v.clone()).collect(),
        })
        .collect();
    let mut params = Vec::with_capacity(program.params.len());
    for (index, param) in program.params.iter().enumerate() {
        // An importing package's setting replaces the default.
        let setting = program.overrides.iter().find(|o| o.param as usize == index);
        let value = match setting {
            Some(setting) => {
                let default = lowerer.value_body(
                    &param.origin,
                    |item| match &item.kind {
                        ast::ItemKind::Param(b) => Some(&b.value),
                        _ => None,
                    },
                    &param.ty,
                )?;
                let item = lowerer.item(&setting.origin)?;
                let ast::ItemKind::ParamOverride(o) = &item.kind else {
                    return Err(LowerError::Internal("a setting that is not one".into()));
                };
                let mut builder = lowerer.builder(&setting.origin);
                builder.default_of = Some((index as u32, default, None));
                let root = builder.expr_as(&o.value, &param.ty)?;
                builder.body.root = Some(root);
                builder.body
            }
            None => lowerer.value_body(
                &param.origin,
                |item| match &item.kind {
                    ast::ItemKind::Param(b) => Some(&b.value),
                    _ => None,
                },
                &param.ty,
            )?,
        };
        params.push(ir::Param {
            name: format!("{}.{}", param.origin.package, param.name),
            ty: ir_type(&param.ty),
            value,
        });
    }
    let mut lets = Vec::with_capacity(program.lets.len());
    for def in &program.lets {
        let value = lowerer.value_body(
            &def.origin,
            |item| match &item.kind {
                ast::ItemKind::Let(b) => Some(&b.value),
                _ => None,
            },
            &def.ty,
        )?;
        lets.push(ir::Let {
            name: format!("{}.{}", def.origin.package, def.name),
            ty: ir_type(&def.ty),
            value,
        });
    }
    let mut policies = Vec::with_capacity(program.policies.len());
    for index in 0..program.policies.len() {
        policies.push(lowerer.policy(index)?);
    }
    let mut tests = Vec::new();
    if with_tests {
        for def in &program.tests {
            if program
                .files
                .get(def.origin.file)
                .is_some_and(|f| !f.embedded)
            {
                tests.push(lowerer.test(def)?);
            }
        }
    }
    params.extend(lowerer.constants.into_inner());
    let program = ir::Program {
        format_version: ir::FORMAT_VERSION,
        schemas,
        enums,
        params,
        lets,
        policies,
        sources: program.files.iter().map(|f| f.path.clone()).collect(),
        revision: None,
    };
    Ok((program, tests))
}

/// The IR type of a checked type.
fn ir_type(ty: &Ty) -> ir::Type {
    match ty {
        Ty::Bool => ir::Type::Bool,
        Ty::Int => ir::Type::Int,
        Ty::Float => ir::Type::Float,
        Ty::String => ir::Type::String,
        Ty::Duration => ir::Type::Duration,
        Ty::Timestamp => ir::Type::Timestamp,
        Ty::Enum(id) => ir::Type::Enum(ir::EnumId(id.0)),
        Ty::Schema(id) => ir::Type::Schema(ir::SchemaId(id.0)),
        Ty::Finding => ir::Type::Finding,
        Ty::List(t) => ir::Type::List(Box::new(ir_type(t))),
        Ty::Set(t) => ir::Type::Set(Box::new(ir_type(t))),
        Ty::Map(t) => ir::Type::Map(Box::new(ir_type(t))),
        Ty::Optional(t) => ir::Type::Optional(Box::new(ir_type(t))),
        Ty::Decision => ir::Type::Decision,
        Ty::ValueDecision(t) => ir::Type::ValueDecision(Box::new(ir_type(t))),
        // A clean program has no error types; `none` alone keeps its own type.
        Ty::None | Ty::Error => ir::Type::None,
    }
}

struct Lowerer<'a> {
    checked: &'a CheckedProject,
    /// Constant string collections passed to matchers (`contains_any`,
    /// `matches_any`, ...), hoisted into params named `<const>.N` so that
    /// the runtime compiles them once, at load time, like params' sets.
    constants: std::cell::RefCell<Vec<ir::Param>>,
}

/// One body being built: its nodes and slots, and the slot of each local
/// binding (by the binding's absolute span).
struct BodyBuilder<'a> {
    checked: &'a CheckedProject,
    constants: &'a std::cell::RefCell<Vec<ir::Param>>,
    file: usize,
    offset: u32,
    body: ir::Body,
    locals: HashMap<(u32, u32), Slot>,
    references: HashMap<(u32, u32), Target>,
    /// While lowering an importing package's setting of param `.0`: the
    /// param's default body, which references to the param itself read
    /// (`param lib.xs = lib.xs + ["b"]` extends the default). The default
    /// becomes a hidden param on first use; `.2` is its index.
    default_of: Option<(u32, ir::Body, Option<u32>)>,
}

impl Lowerer<'_> {
    fn item(&self, origin: &Origin) -> Result<std::sync::Arc<ast::Item>> {
        self.checked
            .program
            .files
            .get(origin.file)
            .and_then(|f| f.syntax.items.get(origin.item))
            .map(|(_, item)| item.clone())
            .ok_or_else(|| LowerError::Internal(format!("missing item for `{}`", origin.package)))
    }

    fn builder(&self, origin: &Origin) -> BodyBuilder<'_> {
        let references = self
            .checked
            .references
            .get(origin.file)
            .map(|refs| {
                refs.iter()
                    .map(|r| ((r.used.start, r.used.end), r.target))
                    .collect()
            })
            .unwrap_or_default();
        BodyBuilder {
            checked: self.checked,
            constants: &self.constants,
            file: origin.file,
            offset: origin.offset,
            body: ir::Body::default(),
            locals: HashMap::new(),
            references,
            default_of: None,
        }
    }

    /// A body computing one value (a let or a param).
    fn value_body(
        &self,
        origin: &Origin,
        value_of: impl Fn(&ast::Item) -> Option<&Expr>,
        ty: &Ty,
    ) -> Result<ir::Body> {
        let item = self.item(origin)?;
        let value = value_of(&item)
            .ok_or_else(|| LowerError::Internal("a let or param without a value".into()))?;
        let mut builder = self.builder(origin);
        let root = builder.expr_as(value, ty)?;
        builder.body.root = Some(root);
        Ok(builder.body)
    }

    fn policy(&self, index: usize) -> Result<ir::Policy> {
        let program = &self.checked.program;
        let def = &program.policies[index];
        let item = self.item(&def.origin)?;
        let ast::ItemKind::Policy(policy) = &item.kind else {
            return Err(LowerError::Internal(format!(
                "`{}` is not a policy",
                def.name
            )));
        };
        let qualified = format!("{}.{}", def.origin.package, def.name);
        let mut b = self.builder(&def.origin);
        // Slot 0 holds the input.
        if let Some(param) = policy.params.first() {
            b.bind(param.name.span, &def.input);
        }
        let mut locals = Vec::new();
        let mut rules = Vec::new();
        let mut default_rule = None;
        let mut default_value = None;
        for stmt in &policy.body {
            let rule = match stmt {
                ast::PolicyStmt::Let(binding) => {
                    let declared = b.binding_type(binding.name.span)?;
                    let value = b.expr_as(&binding.value, &declared)?;
                    let slot = b.bind(binding.name.span, &declared);
                    locals.push(ir::LocalLet { slot, value });
                    continue;
                }
                ast::PolicyStmt::Rule(rule) => rule,
            };
            let loc = b.loc(rule.span);
            let id = format!(
                "{qualified}.{}",
                rule.id
                    .as_ref()
                    .map_or_else(|| slug(&rule.reason.value), |id| id.value.clone())
            );
            let action = match &rule.kind {
                RuleKind::Allow => ir::Action::Allow,
                RuleKind::Deny => ir::Action::Deny,
                RuleKind::RequireApproval => ir::Action::RequireApproval,
                RuleKind::Redact { target } => ir::Action::Redact {
                    findings: b.expr(target)?,
                },
                RuleKind::Alert { severity } => ir::Action::Alert {
                    severity: pol_ir::AlertSeverity::from_name(&severity.name).ok_or_else(
                        || LowerError::Internal(format!("severity `{}`", severity.name)),
                    )?,
                },
                RuleKind::Return { value } => {
                    let ty = match &def.kind {
                        PolicyKind::Value(t) => t.clone(),
                        _ => b.type_of(value)?,
                    };
                    ir::Action::Return {
                        value: b.expr_as(value, &ty)?,
                    }
                }
                RuleKind::Keep {
                    var,
                    collection,
                    limit,
                } => {
                    let collection_node = b.expr(collection)?;
                    let elem = match b.type_of(collection)? {
                        Ty::List(t) | Ty::Set(t) => *t,
                        other => return Err(LowerError::Internal(format!("keep over {other:?}"))),
                    };
                    let elem_slot = b.bind(var.span, &elem);
                    let limit = limit.as_ref().map(|l| b.expr(l)).transpose()?;
                    ir::Action::Keep {
                        collection: collection_node,
                        elem: elem_slot,
                        limit,
                    }
                }
                RuleKind::DefaultEffect(effect) => {
                    default_rule = Some(ir::DefaultRule {
                        effect: match effect {
                            ast::Effect::Allow => ir::Effect::Allow,
                            ast::Effect::Deny => ir::Effect::Deny,
                        },
                        id,
                        reason: rule.reason.value.clone(),
                        loc,
                    });
                    continue;
                }
                RuleKind::DefaultValue(value) => {
                    let ty = match &def.kind {
                        PolicyKind::Value(t) => t.clone(),
                        _ => b.type_of(value)?,
                    };
                    default_value = Some(b.expr_as(value, &ty)?);
                    default_rule = Some(ir::DefaultRule {
                        effect: ir::Effect::Allow,
                        id,
                        reason: rule.reason.value.clone(),
                        loc,
                    });
                    continue;
                }
            };
            let when = rule.when.as_ref().map(|w| b.expr(w)).transpose()?;
            rules.push(ir::Rule {
                id,
                reason: rule.reason.value.clone(),
                action,
                when,
                loc,
            });
        }
        let kind = match &def.kind {
            PolicyKind::Decision => ir::PolicyKind::Decision {
                default: default_rule,
            },
            PolicyKind::Value(ty) => ir::PolicyKind::Value {
                ty: ir_type(ty),
                default: default_rule
                    .ok_or_else(|| LowerError::Internal("value policy without default".into()))?,
                value: default_value
                    .ok_or_else(|| LowerError::Internal("value policy without default".into()))?,
            },
            PolicyKind::Filter(ty) => ir::PolicyKind::Filter {
                elem: match ty {
                    Ty::List(t) => ir_type(t),
                    other => ir_type(other),
                },
            },
        };
        let loc = b.loc(item.span);
        Ok(ir::Policy {
            name: qualified,
            input: ir_type(&def.input),
            body: b.body,
            locals,
            rules,
            kind,
            loc,
        })
    }
}

impl Lowerer<'_> {
    fn test(&self, def: &TestDef) -> Result<suite::Test> {
        let item = self.item(&def.origin)?;
        let ast::ItemKind::Test(test) = &item.kind else {
            return Err(LowerError::Internal(format!(
                "`{}` is not a test",
                def.name
            )));
        };
        let mut b = self.builder(&def.origin);
        let stmts = b.test_stmts(&test.body)?;
        let loc = b.loc(item.span);
        Ok(suite::Test {
            name: def.name.clone(),
            package: def.origin.package.clone(),
            loc,
            body: b.body,
            stmts,
        })
    }
}

impl BodyBuilder<'_> {
    fn test_stmts(&mut self, stmts: &[ast::TestStmt]) -> Result<Vec<suite::TestStmt>> {
        let mut out = Vec::with_capacity(stmts.len());
        for stmt in stmts {
            out.push(match stmt {
                ast::TestStmt::Let(binding) => {
                    let declared = self.binding_type(binding.name.span)?;
                    let value = self.expr_as(&binding.value, &declared)?;
                    let slot = self.bind(binding.name.span, &declared);
                    suite::TestStmt::Let { slot, value }
                }
                ast::TestStmt::Expect(cond) => suite::TestStmt::Expect {
                    cond: self.expr(cond)?,
                    loc: self.loc(cond.span),
                },
                ast::TestStmt::For {
                    var,
                    cases,
                    body,
                    span,
                } => {
                    let cases_node = self.expr(cases)?;
                    let elem = match self.type_of(cases)? {
                        Ty::List(t) | Ty::Set(t) => *t,
                        Ty::Map(_) => Ty::String,
                        other => {
                            return Err(LowerError::Internal(format!("`for` over {other:?}")));
                        }
                    };
                    let var = self.bind(var.span, &elem);
                    suite::TestStmt::For {
                        var,
                        cases: cases_node,
                        body: self.test_stmts(body)?,
                        loc: self.loc(*span),
                    }
                }
                ast::TestStmt::With { bindings, body, .. } => {
                    let mut overrides = Vec::with_capacity(bindings.len());
                    for (path, value) in bindings {
                        let (target, ty) = self.override_target(path)?;
                        overrides.push(suite::Override {
                            target,
                            value: self.expr_as(value, &ty)?,
                        });
                    }
                    suite::TestStmt::With {
                        overrides,
                        body: self.test_stmts(body)?,
                    }
                }
            });
        }
        Ok(out)
    }

    /// What a `with` replaces, and the type its value must have.
    fn override_target(&self, path: &ast::Path) -> Result<(suite::OverrideTarget, Ty)> {
        let program = &self.checked.program;
        let last = path
            .segments
            .last()
            .ok_or_else(|| LowerError::Internal("an empty `with` path".into()))?;
        match self.target(last.span) {
            Some(Target::Def(Def::Param(i))) => {
                let ty = program.params.get(i as usize).map(|p| p.ty.clone());
                return Ok((suite::OverrideTarget::Param(i), ty.unwrap_or(Ty::Error)));
            }
            Some(Target::Def(Def::Let(i))) => {
                let ty = program.lets.get(i as usize).map(|l| l.ty.clone());
                return Ok((suite::OverrideTarget::Let(i), ty.unwrap_or(Ty::Error)));
            }
            _ => {}
        }
        // A native module's function: `alias.function`.
        if let [alias, function] = path.segments.as_slice() {
            let scope = &program.files[self.file].scope;
            if let Some((ImportTarget::Native(module), _)) = scope.imports.get(&alias.name) {
                let sig = builtins::module_functions(module)
                    .find(|b| b.name == function.name)
                    .ok_or_else(|| LowerError::Internal(format!("`{module}.{}`", function.name)))?;
                let ty = crate::check::pattern_ty(&sig.ret, None);
                return Ok((suite::OverrideTarget::Builtin(sig.id), ty));
            }
        }
        Err(LowerError::Internal(format!(
            "`with {}` resolved to nothing",
            path.dotted()
        )))
    }

    fn abs(&self, span: Span) -> (u32, u32) {
        let span = span.shifted(self.offset);
        (span.start, span.end)
    }

    fn loc(&self, span: Span) -> ir::Loc {
        let span = span.shifted(self.offset);
        let line_starts = self
            .checked
            .program
            .files
            .get(self.file)
            .map(|f| f.syntax.line_starts.as_slice())
            .unwrap_or(&[]);
        let line = line_starts.partition_point(|start| *start <= span.start);
        let line_start = line
            .checked_sub(1)
            .and_then(|l| line_starts.get(l))
            .copied()
            .unwrap_or(0);
        ir::Loc {
            file: self.file as u32,
            start: span.start,
            end: span.end,
            line: line.max(1) as u32,
            column: span.start - line_start + 1,
        }
    }

    /// The param index a reference to param `i` reads: `i`, except inside
    /// a setting of `i`, where it reads `i`'s default (hoisted into a
    /// hidden param the first time).
    fn param_read(&mut self, i: u32) -> u32 {
        let Some((param, default, hidden)) = &mut self.default_of else {
            return i;
        };
        if *param != i {
            return i;
        }
        if let Some(index) = hidden {
            return *index;
        }
        let mut constants = self.constants.borrow_mut();
        let index = (self.checked.program.params.len() + constants.len()) as u32;
        let name = self
            .checked
            .program
            .params
            .get(i as usize)
            .map_or_else(String::new, |p| format!("{}.{}", p.origin.package, p.name));
        constants.push(ir::Param {
            name: format!("<default>.{name}"),
            ty: ir_type(
                &self
                    .checked
                    .program
                    .params
                    .get(i as usize)
                    .map_or(Ty::Error, |p| p.ty.clone()),
            ),
            value: std::mem::take(default),
        });
        *hidden = Some(index);
        index
    }

    /// Allocates a slot for a binding whose name is at `name` (item-relative).
    fn bind(&mut self, name: Span, ty: &Ty) -> Slot {
        let slot = Slot(self.body.slots.len() as u32);
        self.body.slots.push(ir_type(ty));
        self.locals.insert(self.abs(name), slot);
        slot
    }

    /// A fresh slot that no name refers to (optional chaining's temporary).
    fn temp(&mut self, ty: &Ty) -> Slot {
        let slot = Slot(self.body.slots.len() as u32);
        self.body.slots.push(ir_type(ty));
        slot
    }

    /// The type the checker gave the binding whose name is at `name`.
    fn binding_type(&self, name: Span) -> Result<Ty> {
        let key = self.abs(name);
        self.checked
            .types
            .get(self.file)
            .and_then(|types| types.get(&key))
            .cloned()
            .ok_or_else(|| {
                LowerError::Internal(format!("no type recorded for the binding at {key:?}"))
            })
    }

    fn push(&mut self, ty: &Ty, op: Op) -> NodeId {
        let id = NodeId(self.body.nodes.len() as u32);
        self.body.nodes.push(ir::Node {
            ty: ir_type(ty),
            op,
        });
        id
    }

    fn type_of(&self, e: &Expr) -> Result<Ty> {
        let key = self.abs(e.span);
        self.checked
            .types
            .get(self.file)
            .and_then(|types| types.get(&key))
            .cloned()
            .ok_or_else(|| LowerError::Internal(format!("no type recorded at {key:?}")))
    }

    fn target(&self, span: Span) -> Option<Target> {
        self.references.get(&self.abs(span)).copied()
    }

    /// Lowers `e`, widening an `int` to a `float` where `want` needs one.
    fn expr_as(&mut self, e: &Expr, want: &Ty) -> Result<NodeId> {
        let node = self.expr(e)?;
        let have = self.type_of(e)?;
        Ok(self.coerce(node, &have, want))
    }

    fn coerce(&mut self, node: NodeId, have: &Ty, want: &Ty) -> NodeId {
        match (have.unwrap_optional(), want.unwrap_optional()) {
            (Ty::Int, Ty::Float) => self.push(want, Op::IntToFloat(node)),
            _ => node,
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<NodeId> {
        let ty = self.type_of(e)?;
        let op = match &e.kind {
            ExprKind::Bool(b) => Op::Const(Const::Bool(*b)),
            ExprKind::Int(n) => Op::Const(Const::Int(*n)),
            ExprKind::Float(f) => Op::Const(Const::Float(f.0.to_bits())),
            ExprKind::Str(s) => Op::Const(Const::String(s.clone())),
            ExprKind::Duration(n) => Op::Const(Const::Duration(*n)),
            ExprKind::Timestamp(n) => Op::Const(Const::Timestamp(*n)),
            ExprKind::None => Op::Const(Const::None),
            ExprKind::Now => Op::Now,
            ExprKind::Paren(inner) => return self.expr(inner),
            ExprKind::Name(ident) => self.name(ident.span, &ident.name)?,
            ExprKind::List(items) => {
                let elem = ty.element().cloned().unwrap_or(Ty::Error);
                Op::List(self.elements(items, &elem)?)
            }
            ExprKind::Set(items) => {
                let elem = ty.element().cloned().unwrap_or(Ty::Error);
                Op::Set(self.elements(items, &elem)?)
            }
            ExprKind::Map(entries) => {
                let elem = ty.element().cloned().unwrap_or(Ty::Error);
                let mut out = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    out.push((key.value.clone(), self.expr_as(value, &elem)?));
                }
                Op::Map(out)
            }
            ExprKind::Record(fields) => self.record(&ty, fields)?,
            ExprKind::EmptyBraces => match ty.unwrap_optional() {
                Ty::Set(_) => Op::Set(Vec::new()),
                Ty::Map(_) => Op::Map(Vec::new()),
                _ => self.record(&ty, &[])?,
            },
            ExprKind::Field { base, name, .. } => return self.field(&ty, base, name),
            ExprKind::Index { base, index, .. } => return self.index(&ty, base, index),
            ExprKind::Call { callee, args } => return self.call(&ty, callee, args),
            ExprKind::Unary { op, operand, .. } => {
                let node = self.expr(operand)?;
                let op = match (op, self.type_of(operand)?) {
                    (UnaryOp::Not, _) => ir::UnaryOp::Not,
                    (UnaryOp::Neg, Ty::Float) => ir::UnaryOp::NegFloat,
                    (UnaryOp::Neg, Ty::Duration) => ir::UnaryOp::NegDuration,
                    (UnaryOp::Neg, _) => ir::UnaryOp::NegInt,
                };
                Op::Unary { op, operand: node }
            }
            ExprKind::Binary { op, lhs, rhs, .. } => return self.binary(&ty, *op, lhs, rhs),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => Op::If {
                cond: self.expr(cond)?,
                then: self.expr_as(then, &ty)?,
                otherwise: self.expr_as(otherwise, &ty)?,
            },
            ExprKind::Quant {
                kind,
                vars,
                collection,
                body,
            } => {
                let collection_ty = self.type_of(collection)?;
                let collection_node = self.expr(collection)?;
                let (over, elem_ty) = match &collection_ty {
                    Ty::List(t) => (ir::CollectionKind::List, (**t).clone()),
                    Ty::Set(t) => (ir::CollectionKind::Set, (**t).clone()),
                    Ty::Map(t) => (ir::CollectionKind::Map, (**t).clone()),
                    other => {
                        return Err(LowerError::Internal(format!("quantifier over {other:?}")));
                    }
                };
                let (key, elem) = match (vars.as_slice(), over) {
                    ([k, v], ir::CollectionKind::Map) => (
                        Some(self.bind(k.span, &Ty::String)),
                        self.bind(v.span, &elem_ty),
                    ),
                    ([i, x], _) => (
                        Some(self.bind(i.span, &Ty::Int)),
                        self.bind(x.span, &elem_ty),
                    ),
                    ([var], ir::CollectionKind::Map) => (None, self.bind(var.span, &Ty::String)),
                    ([var], _) => (None, self.bind(var.span, &elem_ty)),
                    _ => return Err(LowerError::Internal("quantifier variables".into())),
                };
                let body = match kind {
                    QuantKind::Map => {
                        let want = ty.element().cloned().unwrap_or(Ty::Error);
                        self.expr_as(body, &want)?
                    }
                    _ => self.expr(body)?,
                };
                let kind = match kind {
                    QuantKind::Any => ir::QuantKind::Any,
                    QuantKind::All => ir::QuantKind::All,
                    QuantKind::Count => ir::QuantKind::Count,
                    QuantKind::Filter => ir::QuantKind::Filter,
                    QuantKind::Map => ir::QuantKind::Map,
                };
                Op::Quant {
                    kind,
                    over,
                    collection: collection_node,
                    key,
                    elem,
                    body,
                }
            }
        };
        Ok(self.push(&ty, op))
    }

    fn elements(&mut self, items: &[Expr], elem: &Ty) -> Result<Vec<NodeId>> {
        items.iter().map(|item| self.expr_as(item, elem)).collect()
    }

    fn record(&mut self, ty: &Ty, fields: &[(ast::Ident, Expr)]) -> Result<Op> {
        match ty.unwrap_optional() {
            Ty::Schema(id) => {
                let schema = self
                    .checked
                    .program
                    .schemas
                    .get(id.0 as usize)
                    .ok_or_else(|| LowerError::Internal("schema id".into()))?
                    .clone();
                let mut values = vec![None; schema.fields.len()];
                for (name, value) in fields {
                    let Some(index) = schema.fields.iter().position(|f| f.name == name.name) else {
                        return Err(LowerError::Internal(format!("field `{}`", name.name)));
                    };
                    values[index] = Some(self.expr_as(value, &schema.fields[index].ty)?);
                }
                Ok(Op::Record {
                    schema: ir::SchemaId(id.0),
                    fields: values,
                })
            }
            Ty::Finding => {
                let mut get = |wanted: &str, ty: &Ty| -> Result<Option<NodeId>> {
                    fields
                        .iter()
                        .find(|(n, _)| n.name == wanted)
                        .map(|(_, v)| self.expr_as(v, ty))
                        .transpose()
                };
                let kind = get("kind", &Ty::String)?;
                let start = get("start", &Ty::Int)?;
                let end = get("end", &Ty::Int)?;
                let text = get("text", &Ty::String)?;
                match (kind, start, end) {
                    (Some(kind), Some(start), Some(end)) => Ok(Op::Finding {
                        kind,
                        start,
                        end,
                        text,
                    }),
                    _ => Err(LowerError::Internal(
                        "finding literal without kind, start and end".into(),
                    )),
                }
            }
            other => Err(LowerError::Internal(format!(
                "record literal of type {other:?}"
            ))),
        }
    }

    /// A name: a local, a let, a param, or an enum variant.
    fn name(&mut self, span: Span, name: &str) -> Result<Op> {
        match self.target(span) {
            Some(Target::Local) => {
                let definition = self
                    .checked
                    .references
                    .get(self.file)
                    .and_then(|refs| {
                        refs.iter()
                            .find(|r| (r.used.start, r.used.end) == self.abs(span))
                    })
                    .map(|r| (r.definition.start, r.definition.end));
                let slot = definition
                    .and_then(|d| self.locals.get(&d).copied())
                    .ok_or_else(|| LowerError::Internal(format!("no slot for local `{name}`")))?;
                Ok(Op::Local(slot))
            }
            Some(Target::Def(Def::Let(i))) => Ok(Op::Let(i)),
            Some(Target::Def(Def::Param(i))) => Ok(Op::Param(self.param_read(i))),
            Some(Target::Variant(_, index)) => Ok(Op::Const(Const::Variant(index))),
            other => Err(LowerError::Internal(format!(
                "`{name}` resolved to {other:?}"
            ))),
        }
    }

    /// Applies `access` to `base`, through an optional: `none` stays `none`.
    fn through_optional(
        &mut self,
        result: &Ty,
        base: NodeId,
        base_ty: &Ty,
        access: impl FnOnce(&mut Self, NodeId, &Ty) -> Result<Op>,
    ) -> Result<NodeId> {
        match base_ty {
            Ty::Optional(inner) => {
                let slot = self.temp(inner);
                let present = self.push(inner, Op::Local(slot));
                // The access itself may give `none` (an optional field, a
                // map lookup, a method returning `T?`), so its node keeps
                // the optional type; `IfPresent` flattens `T??` to `T?`.
                let inner_result = result.clone();
                let op = access(self, present, inner)?;
                let then = self.push(&inner_result, op);
                Ok(self.push(
                    result,
                    Op::IfPresent {
                        value: base,
                        slot,
                        then,
                    },
                ))
            }
            _ => {
                let op = access(self, base, base_ty)?;
                Ok(self.push(result, op))
            }
        }
    }

    fn field(&mut self, ty: &Ty, base: &Expr, name: &ast::Ident) -> Result<NodeId> {
        // A path to a definition or a variant (`pkg.limit`, `Role.admin`).
        match self.target(name.span) {
            Some(Target::Def(Def::Let(i))) => return Ok(self.push(ty, Op::Let(i))),
            Some(Target::Def(Def::Param(i))) => {
                let read = self.param_read(i);
                return Ok(self.push(ty, Op::Param(read)));
            }
            Some(Target::Variant(_, index)) => {
                return Ok(self.push(ty, Op::Const(Const::Variant(index))));
            }
            _ => {}
        }
        let base_ty = self.type_of(base)?;
        let base_node = self.expr(base)?;
        let field_name = name.name.clone();
        // A shared reference with the lowering's lifetime: the closure
        // below reads the schemas while `self` is borrowed mutably.
        let checked = self.checked;
        self.through_optional(
            ty,
            base_node,
            &base_ty,
            move |_, base, receiver| match receiver {
                Ty::Schema(id) => {
                    let index = checked
                        .program
                        .schemas
                        .get(id.0 as usize)
                        .and_then(|schema| schema.fields.iter().position(|f| f.name == field_name))
                        .ok_or_else(|| LowerError::Internal(format!("field `{field_name}`")))?;
                    Ok(Op::Field {
                        base,
                        index: index as u32,
                    })
                }
                Ty::Finding => {
                    let field = match field_name.as_str() {
                        "kind" => ir::FindingField::Kind,
                        "start" => ir::FindingField::Start,
                        "end" => ir::FindingField::End,
                        _ => ir::FindingField::Text,
                    };
                    Ok(Op::FindingField { base, field })
                }
                Ty::Decision | Ty::ValueDecision(_) => {
                    let member = match field_name.as_str() {
                        "allowed" => ir::DecisionMember::Allowed,
                        "denied" => ir::DecisionMember::Denied,
                        "reasons" => ir::DecisionMember::Reasons,
                        "requires_approval" => ir::DecisionMember::RequiresApproval,
                        "redactions" => ir::DecisionMember::Redactions,
                        "alerted" => ir::DecisionMember::Alerted,
                        "error" => ir::DecisionMember::Error,
                        _ => ir::DecisionMember::Value,
                    };
                    Ok(Op::DecisionMember { base, member })
                }
                other => Err(LowerError::Internal(format!(
                    "field `{field_name}` of {other:?}"
                ))),
            },
        )
    }

    fn index(&mut self, ty: &Ty, base: &Expr, index: &Expr) -> Result<NodeId> {
        let base_ty = self.type_of(base)?;
        let base_node = self.expr(base)?;
        let index_node = self.expr(index)?;
        self.through_optional(ty, base_node, &base_ty, move |_, base, receiver| {
            let on = match receiver {
                Ty::Map(_) => ir::CollectionKind::Map,
                _ => ir::CollectionKind::List,
            };
            Ok(Op::Index {
                base,
                index: index_node,
                on,
            })
        })
    }

    fn call(&mut self, ty: &Ty, callee: &Expr, args: &[Expr]) -> Result<NodeId> {
        // The name called: the callee itself, or the last part of a path.
        let name_span = match &callee.kind {
            ExprKind::Name(ident) => ident.span,
            ExprKind::Field { name, .. } => name.span,
            _ => callee.span,
        };
        if let Some(Target::Def(Def::Policy(policy))) = self.target(name_span) {
            let input_ty = self
                .checked
                .program
                .policies
                .get(policy as usize)
                .map(|p| p.input.clone())
                .ok_or_else(|| LowerError::Internal("policy id".into()))?;
            let arg = args
                .first()
                .ok_or_else(|| LowerError::Internal("policy call without input".into()))?;
            let input = self.expr_as(arg, &input_ty)?;
            return Ok(self.push(ty, Op::CallPolicy { policy, input }));
        }
        let ExprKind::Field { base, name, .. } = &callee.kind else {
            return Err(LowerError::Internal("call of a non-path".into()));
        };
        // A native module's function: `alias.function(...)`.
        if let ExprKind::Name(alias) = &base.kind
            && let Some(Target::Import) = self.target(alias.span)
        {
            let scope = &self.checked.program.files[self.file].scope;
            if let Some((ImportTarget::Native(module), _)) = scope.imports.get(&alias.name) {
                let sig = builtins::module_functions(module)
                    .find(|b| b.name == name.name)
                    .ok_or_else(|| LowerError::Internal(format!("`{module}.{}`", name.name)))?;
                let mut nodes = Vec::with_capacity(args.len());
                for (arg, (_, pattern)) in args.iter().zip(sig.params) {
                    nodes.push(self.argument(arg, pattern, None, false)?);
                }
                return Ok(self.push(
                    ty,
                    Op::Builtin {
                        id: sig.id,
                        args: nodes,
                    },
                ));
            }
        }
        // A method of the receiver's type.
        let receiver_ty = self.type_of(base)?;
        let receiver = self.expr(base)?;
        let method = name.name.clone();
        let mut arg_nodes = Vec::with_capacity(args.len());
        let inner = receiver_ty.unwrap_optional().clone();
        if matches!(inner, Ty::Decision | Ty::ValueDecision(_)) && method == "fired" {
            let reason = args
                .first()
                .ok_or_else(|| LowerError::Internal("fired()".into()))?;
            let reason = self.expr(reason)?;
            return self.through_optional(ty, receiver, &receiver_ty, move |_, base, _| {
                Ok(Op::Fired { base, reason })
            });
        }
        let sig = methods_of(&inner)
            .into_iter()
            .find(|s| s.name == method)
            .ok_or_else(|| LowerError::Internal(format!("method `{method}`")))?;
        let elem = inner.element().cloned();
        // A regex literal becomes a constant param, compiled once at load.
        let regex = matches!(
            sig.id,
            builtins::Builtin::StrMatches | builtins::Builtin::StrFindAll
        );
        for (arg, (_, pattern)) in args.iter().zip(sig.params) {
            arg_nodes.push(self.argument(arg, pattern, elem.as_ref(), regex)?);
        }
        let id = sig.id;
        self.through_optional(ty, receiver, &receiver_ty, move |_, base, _| {
            let mut all = Vec::with_capacity(arg_nodes.len() + 1);
            all.push(base);
            all.extend(arg_nodes);
            Ok(Op::Builtin { id, args: all })
        })
    }

    /// A builtin's argument, widened where its parameter is a float; a
    /// literal regex (`regex`) or literal phrase or regex list is hoisted
    /// into a constant param.
    fn argument(
        &mut self,
        arg: &Expr,
        pattern: &builtins::TypePattern,
        elem: Option<&Ty>,
        regex: bool,
    ) -> Result<NodeId> {
        match pattern {
            builtins::TypePattern::String if regex => match self.constant_string(arg) {
                Some(index) => Ok(self.push(&Ty::String, Op::Param(index))),
                None => self.expr(arg),
            },
            builtins::TypePattern::Float => self.expr_as(arg, &Ty::Float),
            builtins::TypePattern::Elem => match elem {
                Some(elem) => {
                    let elem = elem.clone();
                    self.expr_as(arg, &elem)
                }
                None => self.expr(arg),
            },
            builtins::TypePattern::Collection(builtins::TypePattern::String) => {
                match self.constant_strings(arg) {
                    Some(index) => {
                        let ty = self.type_of(arg)?;
                        Ok(self.push(&ty, Op::Param(index)))
                    }
                    None => self.expr(arg),
                }
            }
            _ => self.expr(arg),
        }
    }

    /// A string literal, hoisted into a constant param (see
    /// [`Lowerer::constants`]); its param index.
    fn constant_string(&self, arg: &Expr) -> Option<u32> {
        let mut arg = arg;
        while let ExprKind::Paren(inner) = &arg.kind {
            arg = inner;
        }
        let ExprKind::Str(text) = &arg.kind else {
            return None;
        };
        let body = ir::Body {
            nodes: vec![ir::Node {
                ty: ir::Type::String,
                op: Op::Const(Const::String(text.clone())),
            }],
            slots: Vec::new(),
            root: Some(NodeId(0)),
        };
        let mut constants = self.constants.borrow_mut();
        let index = self.checked.program.params.len() + constants.len();
        let name = format!("<const>.{}", constants.len());
        constants.push(ir::Param {
            name,
            ty: ir::Type::String,
            value: body,
        });
        u32::try_from(index).ok()
    }

    /// A list or set literal of string literals, hoisted into a constant
    /// param (see [`Lowerer::constants`]); its param index.
    fn constant_strings(&self, arg: &Expr) -> Option<u32> {
        let mut arg = arg;
        while let ExprKind::Paren(inner) = &arg.kind {
            arg = inner;
        }
        let (items, set) = match &arg.kind {
            ExprKind::List(items) => (items, false),
            ExprKind::Set(items) => (items, true),
            _ => return None,
        };
        let strings: Option<Vec<&str>> = items
            .iter()
            .map(|i| match &i.kind {
                ExprKind::Str(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        let strings = strings?;
        let mut body = ir::Body::default();
        let mut ids = Vec::with_capacity(strings.len());
        for s in strings {
            ids.push(NodeId(body.nodes.len() as u32));
            body.nodes.push(ir::Node {
                ty: ir::Type::String,
                op: Op::Const(Const::String(s.to_string())),
            });
        }
        let ty = if set {
            ir::Type::Set(Box::new(ir::Type::String))
        } else {
            ir::Type::List(Box::new(ir::Type::String))
        };
        body.root = Some(NodeId(body.nodes.len() as u32));
        body.nodes.push(ir::Node {
            ty: ty.clone(),
            op: if set { Op::Set(ids) } else { Op::List(ids) },
        });
        let mut constants = self.constants.borrow_mut();
        let index = self.checked.program.params.len() + constants.len();
        let name = format!("<const>.{}", constants.len());
        constants.push(ir::Param {
            name,
            ty,
            value: body,
        });
        u32::try_from(index).ok()
    }

    fn binary(&mut self, ty: &Ty, op: BinaryOp, lhs: &Expr, rhs: &Expr) -> Result<NodeId> {
        let (lt, rt) = (self.type_of(lhs)?, self.type_of(rhs)?);
        // Mixed int and float operands widen the int.
        let numeric = |t: &Ty| matches!(t.unwrap_optional(), Ty::Int | Ty::Float);
        let widen = numeric(&lt)
            && numeric(&rt)
            && (lt.unwrap_optional() == &Ty::Float || rt.unwrap_optional() == &Ty::Float);
        let operand_ty = |t: &Ty| {
            if widen {
                Ty::Float
            } else {
                t.unwrap_optional().clone()
            }
        };
        let l = self.expr(lhs)?;
        let l = if widen {
            self.coerce(l, &lt, &Ty::Float)
        } else {
            l
        };
        let op = match op {
            BinaryOp::Coalesce => {
                let default = self.expr_as(rhs, ty)?;
                let value = self.coerce(l, &lt, ty);
                return Ok(self.push(ty, Op::Coalesce { value, default }));
            }
            BinaryOp::In | BinaryOp::NotIn => {
                let r = self.expr(rhs)?;
                let (membership, l) = match &rt {
                    Ty::List(elem) | Ty::Set(elem) => {
                        let elem = (**elem).clone();
                        (ir::BinaryOp::InCollection, self.coerce(l, &lt, &elem))
                    }
                    Ty::Map(_) => (ir::BinaryOp::InMapKeys, l),
                    _ => (ir::BinaryOp::InString, l),
                };
                let test = self.push(
                    &Ty::Bool,
                    Op::Binary {
                        op: membership,
                        lhs: l,
                        rhs: r,
                    },
                );
                if op == BinaryOp::NotIn {
                    return Ok(self.push(
                        ty,
                        Op::Unary {
                            op: ir::UnaryOp::Not,
                            operand: test,
                        },
                    ));
                }
                return Ok(test);
            }
            _ => op,
        };
        let r = self.expr(rhs)?;
        let r = if widen {
            self.coerce(r, &rt, &Ty::Float)
        } else {
            r
        };
        let ordered = |t: &Ty| match t {
            Ty::Float => ir::Ordered::Float,
            Ty::String => ir::Ordered::String,
            Ty::Duration => ir::Ordered::Duration,
            Ty::Timestamp => ir::Ordered::Timestamp,
            Ty::Enum(_) => ir::Ordered::Enum,
            _ => ir::Ordered::Int,
        };
        let (lk, rk) = (operand_ty(&lt), operand_ty(&rt));
        let ir_op = match op {
            BinaryOp::And => ir::BinaryOp::And,
            BinaryOp::Or => ir::BinaryOp::Or,
            BinaryOp::Eq => ir::BinaryOp::Eq,
            BinaryOp::Ne => ir::BinaryOp::Ne,
            BinaryOp::Lt => ir::BinaryOp::Lt(ordered(&lk)),
            BinaryOp::Le => ir::BinaryOp::Le(ordered(&lk)),
            BinaryOp::Gt => ir::BinaryOp::Gt(ordered(&lk)),
            BinaryOp::Ge => ir::BinaryOp::Ge(ordered(&lk)),
            BinaryOp::Add => match (&lk, &rk) {
                (Ty::Int, Ty::Int) => ir::BinaryOp::AddInt,
                (Ty::Float, _) => ir::BinaryOp::AddFloat,
                (Ty::String, _) => ir::BinaryOp::Concat,
                (Ty::List(_), _) => ir::BinaryOp::ConcatLists,
                (Ty::Timestamp, _) => ir::BinaryOp::AddTimestampDuration,
                (Ty::Duration, Ty::Timestamp) => {
                    // `duration + timestamp`: the same sum, operands swapped.
                    return Ok(self.push(
                        ty,
                        Op::Binary {
                            op: ir::BinaryOp::AddTimestampDuration,
                            lhs: r,
                            rhs: l,
                        },
                    ));
                }
                _ => ir::BinaryOp::AddDurations,
            },
            BinaryOp::Sub => match (&lk, &rk) {
                (Ty::Int, Ty::Int) => ir::BinaryOp::SubInt,
                (Ty::Float, _) => ir::BinaryOp::SubFloat,
                (Ty::Timestamp, Ty::Timestamp) => ir::BinaryOp::SubTimestamps,
                (Ty::Timestamp, _) => ir::BinaryOp::SubTimestampDuration,
                _ => ir::BinaryOp::SubDurations,
            },
            BinaryOp::Mul => match (&lk, &rk) {
                (Ty::Int, Ty::Int) => ir::BinaryOp::MulInt,
                (Ty::Float, _) => ir::BinaryOp::MulFloat,
                (Ty::Duration, _) => ir::BinaryOp::MulDurationInt,
                _ => {
                    // `int * duration`: operands swapped.
                    return Ok(self.push(
                        ty,
                        Op::Binary {
                            op: ir::BinaryOp::MulDurationInt,
                            lhs: r,
                            rhs: l,
                        },
                    ));
                }
            },
            BinaryOp::Div => match (&lk, &rk) {
                (Ty::Int, Ty::Int) => ir::BinaryOp::DivInt,
                (Ty::Duration, _) => ir::BinaryOp::DivDurationInt,
                _ => ir::BinaryOp::DivFloat,
            },
            BinaryOp::Rem => ir::BinaryOp::RemInt,
            BinaryOp::In | BinaryOp::NotIn | BinaryOp::Coalesce => {
                return Err(LowerError::Internal("membership handled above".into()));
            }
        };
        Ok(self.push(
            ty,
            Op::Binary {
                op: ir_op,
                lhs: l,
                rhs: r,
            },
        ))
    }
}
