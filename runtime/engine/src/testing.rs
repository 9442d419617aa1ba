//! Running lowered `test` blocks ([`pol_ir::suite`]): what `polc test` and
//! the language server's code lenses call.
//!
//! A test runs its statements in order. Every `for` case runs on its own
//! copy of the test's locals and is reported as its own [`CaseOutcome`];
//! the statements outside any `for` form the test's main case, reported
//! when it has an `expect` or fails. A `with` block runs with its overrides:
//! a param is replaced (and params computed from it are recomputed, and
//! their phrase sets and regexes recompiled), a let is fixed, a builtin
//! returns the given value.
//!
//! A failed `expect` does not stop its case: every failure is reported. An
//! evaluation error in a test statement (not in a policy, whose errors are
//! denies) stops the case.

use pol_ir::Builtin;
use pol_ir::ir::{BinaryOp, DecisionMember, Effect, Loc, NodeId, Op, Program, Type, UnaryOp};
use pol_ir::suite::{OverrideTarget, Test, TestStmt};

use crate::decision::Decision;
use crate::dispatch::{CompiledBuiltins, StdBuiltins};
use crate::interp::{
    Builtins, Context, Coverage, EvalError, Interpreter, compute_params, compute_params_overriding,
};
use crate::report::value_json;
use crate::value::Value;

/// Runs the tests of one program.
#[derive(Debug)]
pub struct TestRunner<'p> {
    program: &'p Program,
    params: Vec<Value>,
    builtins: CompiledBuiltins,
    now: i64,
    /// The program compiled, when policies run on the JIT.
    #[cfg(feature = "jit")]
    native: Option<crate::native::Native>,
}

/// The result of one case of a test: the test's main case (statements
/// outside any `for`) or one element of a `for`.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseOutcome {
    /// The case's label: `None` for the main case, otherwise the labels of
    /// the enclosing `for` elements, outermost first.
    pub case: Option<String>,
    /// How many `expect`s ran.
    pub expects: usize,
    /// The failed `expect`s.
    pub failures: Vec<Failure>,
    /// An evaluation error that stopped the case.
    pub error: Option<CaseError>,
}

impl CaseOutcome {
    /// Whether every `expect` held and nothing failed.
    pub fn passed(&self) -> bool {
        self.failures.is_empty() && self.error.is_none()
    }
}

/// An evaluation error in a test statement.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseError {
    /// The statement's location (the test's, when unknown).
    pub loc: Loc,
    /// What went wrong.
    pub message: String,
}

/// A failed `expect`, explained.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Where the condition is.
    pub loc: Loc,
    /// What the condition needed, e.g. `deny`, `rule "x" fired`, `== 3`.
    pub expected: String,
    /// What there was instead.
    pub actual: String,
    /// The decisions the condition looked at, as they came out.
    pub decisions: Vec<Decision>,
}

/// The state of one case as it runs.
struct Case {
    slots: Vec<Value>,
    outcome: CaseOutcome,
}

/// What is in effect in a (possibly nested) `with` block.
struct Scope<'s> {
    /// Every param's value.
    params: &'s [Value],
    /// The builtins with `params`' collections compiled.
    builtins: &'s CompiledBuiltins,
    /// The params replaced by `with`s so far.
    given: &'s [(u32, Value)],
    /// The lets replaced.
    lets: &'s [(u32, Value)],
    /// The builtins replaced.
    mocks: &'s [(Builtin, Value)],
    /// `params` laid out for native code (on the JIT; `None` means the
    /// runner's own layout).
    #[cfg(feature = "jit")]
    native: Option<&'s crate::native::NativeParams>,
}

/// Policy calls of a test's statements, sent to native code with the
/// scope's params, mocked builtins and fixed lets.
#[cfg(feature = "jit")]
struct NativeCalls<'s> {
    native: &'s crate::native::Native,
    params: Option<&'s crate::native::NativeParams>,
    builtins: &'s Mocked<'s>,
    lets: &'s [(u32, Value)],
}

#[cfg(feature = "jit")]
impl crate::interp::PolicyCalls for NativeCalls<'_> {
    fn call(&self, policy: u32, input: Value, now: i64) -> Decision {
        match self.params {
            Some(params) => {
                self.native
                    .evaluate_with(params, self.builtins, policy, &input, now, self.lets)
            }
            None => self
                .native
                .evaluate_lets(self.builtins, policy, &input, now, self.lets),
        }
    }
}

/// Builtins with some of them replaced by fixed results (the last
/// replacement of a builtin wins).
struct Mocked<'s> {
    inner: &'s CompiledBuiltins,
    mocks: &'s [(Builtin, Value)],
}

impl Builtins for Mocked<'_> {
    fn call(&self, id: Builtin, args: &[Value]) -> Result<Value, EvalError> {
        match self.mocks.iter().rev().find(|(mocked, _)| *mocked == id) {
            Some((_, value)) => Ok(value.clone()),
            None => self.inner.call(id, args),
        }
    }
}

impl<'p> TestRunner<'p> {
    /// Prepares to run tests of `program` with `now` (nanoseconds since the
    /// epoch) as the request time. Fails when a param cannot be computed.
    pub fn new(program: &'p Program, now: i64) -> Result<TestRunner<'p>, EvalError> {
        let params = compute_params(program, &StdBuiltins)?;
        let builtins = CompiledBuiltins::for_params(&params);
        Ok(TestRunner {
            program,
            params,
            builtins,
            now,
            #[cfg(feature = "jit")]
            native: None,
        })
    }

    /// Prepares to run tests with policies evaluated by `kind`: the test's
    /// own statements always run on the interpreter; with
    /// [`EngineKind::Jit`](crate::EngineKind::Jit), every policy they call
    /// runs on native code (with the same overrides and mocks). Fails when
    /// a param cannot be computed or the JIT cannot run here.
    pub fn with_engine(
        program: &'p Program,
        now: i64,
        kind: crate::EngineKind,
    ) -> Result<TestRunner<'p>, EvalError> {
        let runner = TestRunner::new(program, now)?;
        match kind {
            crate::EngineKind::Interpreter => Ok(runner),
            #[cfg(feature = "jit")]
            crate::EngineKind::Jit => {
                // Lets are computed per evaluation here: a test's `with`
                // may change what they are computed from.
                let native = crate::native::Native::new(
                    std::sync::Arc::new(program.clone()),
                    &runner.params,
                    &[],
                )
                .map_err(|why| EvalError(format!("the JIT is not available: {why}")))?;
                Ok(TestRunner {
                    native: Some(native),
                    ..runner
                })
            }
            #[cfg(not(feature = "jit"))]
            crate::EngineKind::Jit => Err(EvalError(
                "the JIT is not available: the runtime was built without the `jit` feature".into(),
            )),
        }
    }

    /// The program the tests run against.
    pub fn program(&self) -> &'p Program {
        self.program
    }

    /// Runs one test; records rule outcomes into `coverage` when given.
    pub fn run(&self, test: &Test, coverage: Option<&Coverage>) -> Vec<CaseOutcome> {
        let scope = Scope {
            params: &self.params,
            builtins: &self.builtins,
            given: &[],
            lets: &[],
            mocks: &[],
            #[cfg(feature = "jit")]
            native: None,
        };
        let mut run = Run {
            #[cfg(feature = "jit")]
            native: self.native.as_ref(),
            program: self.program,
            test,
            now: self.now,
            coverage,
            outcomes: Vec::new(),
            labels: Vec::new(),
        };
        let mut main = Case {
            slots: vec![Value::None; test.body.slots.len()],
            outcome: CaseOutcome {
                case: None,
                expects: 0,
                failures: Vec::new(),
                error: None,
            },
        };
        run.stmts(&scope, &mut main, &test.stmts);
        // The main case is reported when it asserted something, failed, or
        // when the test has no cases at all (an empty test passes).
        if main.outcome.expects > 0 || !main.outcome.passed() || run.outcomes.is_empty() {
            run.outcomes.insert(0, main.outcome);
        }
        run.outcomes
    }
}

struct Run<'r> {
    #[cfg(feature = "jit")]
    native: Option<&'r crate::native::Native>,
    program: &'r Program,
    test: &'r Test,
    now: i64,
    coverage: Option<&'r Coverage>,
    outcomes: Vec<CaseOutcome>,
    /// Labels of the enclosing `for` elements.
    labels: Vec<String>,
}

impl Run<'_> {
    fn eval(
        &self,
        scope: &Scope<'_>,
        slots: &mut Vec<Value>,
        node: NodeId,
    ) -> Result<Value, EvalError> {
        let context = Context::new(self.program, self.now, scope.lets);
        let builtins = Mocked {
            inner: scope.builtins,
            mocks: scope.mocks,
        };
        let interpreter = Interpreter::with_params(self.program, &builtins, scope.params);
        let interpreter = match self.coverage {
            Some(coverage) => interpreter.with_coverage(coverage),
            None => interpreter,
        };
        #[cfg(feature = "jit")]
        if let Some(native) = self.native {
            let calls = NativeCalls {
                native,
                params: scope.native,
                builtins: &builtins,
                lets: scope.lets,
            };
            return interpreter.with_policy_calls(&calls).eval(
                &context,
                &self.test.body,
                slots,
                node,
            );
        }
        interpreter.eval(&context, &self.test.body, slots, node)
    }

    /// Runs statements; returns false when an error stopped the case.
    fn stmts(&mut self, scope: &Scope<'_>, case: &mut Case, stmts: &[TestStmt]) -> bool {
        for stmt in stmts {
            match stmt {
                TestStmt::Let { slot, value } => match self.eval(scope, &mut case.slots, *value) {
                    Ok(v) => {
                        if let Some(s) = case.slots.get_mut(slot.0 as usize) {
                            *s = v;
                        }
                    }
                    Err(e) => return self.fail(case, self.test.loc, e),
                },
                TestStmt::Expect { cond, loc } => {
                    case.outcome.expects += 1;
                    match self.eval(scope, &mut case.slots, *cond) {
                        Ok(Value::Bool(true)) => {}
                        Ok(_) => {
                            let failure = self.explain(scope, &mut case.slots, *cond, *loc);
                            case.outcome.failures.push(failure);
                        }
                        Err(e) => return self.fail(case, *loc, e),
                    }
                }
                TestStmt::For {
                    var,
                    cases,
                    body,
                    loc,
                } => {
                    let elements = match self.eval(scope, &mut case.slots, *cases) {
                        Ok(Value::Map(map)) => {
                            map.keys().map(|k| Value::String(k.clone())).collect()
                        }
                        Ok(v) => v.elements().map(<[Value]>::to_vec).unwrap_or_default(),
                        Err(e) => return self.fail(case, *loc, e),
                    };
                    let ty = self.test.body.slots.get(var.0 as usize).cloned();
                    for (i, element) in elements.into_iter().enumerate() {
                        let label = self.label(ty.as_ref(), &element, i);
                        let mut slots = case.slots.clone();
                        if let Some(s) = slots.get_mut(var.0 as usize) {
                            *s = element;
                        }
                        self.labels.push(label);
                        let mut inner = Case {
                            slots,
                            outcome: CaseOutcome {
                                case: Some(self.labels.join(" / ")),
                                expects: 0,
                                failures: Vec::new(),
                                error: None,
                            },
                        };
                        self.stmts(scope, &mut inner, body);
                        self.labels.pop();
                        self.outcomes.push(inner.outcome);
                    }
                }
                TestStmt::With { overrides, body } => {
                    let mut given = scope.given.to_vec();
                    let mut lets = scope.lets.to_vec();
                    let mut mocks = scope.mocks.to_vec();
                    let params_before = given.len();
                    for o in overrides {
                        let value = match self.eval(scope, &mut case.slots, o.value) {
                            Ok(v) => v,
                            Err(e) => return self.fail(case, self.test.loc, e),
                        };
                        match o.target {
                            OverrideTarget::Param(i) => given.push((i, value)),
                            OverrideTarget::Let(i) => lets.push((i, value)),
                            OverrideTarget::Builtin(id) => mocks.push((id, value)),
                        }
                    }
                    // Replaced params are recomputed with every param given
                    // so far (the enclosing blocks' too), and their phrase
                    // sets and regexes recompiled.
                    let recomputed;
                    let compiled;
                    let (params, builtins) = if given.len() == params_before {
                        (scope.params, scope.builtins)
                    } else {
                        let mocked = Mocked {
                            inner: scope.builtins,
                            mocks: &mocks,
                        };
                        recomputed = match compute_params_overriding(self.program, &mocked, &given)
                        {
                            Ok(p) => p,
                            Err(e) => return self.fail(case, self.test.loc, e),
                        };
                        compiled = CompiledBuiltins::for_params(&recomputed);
                        (recomputed.as_slice(), &compiled)
                    };
                    #[cfg(feature = "jit")]
                    let laid_out;
                    #[cfg(feature = "jit")]
                    let native = match self.native {
                        Some(native) if given.len() != params_before => {
                            laid_out = match native.params_for(params) {
                                Ok(p) => p,
                                Err(e) => return self.fail(case, self.test.loc, EvalError(e)),
                            };
                            Some(&laid_out)
                        }
                        _ => scope.native,
                    };
                    let inner = Scope {
                        params,
                        builtins,
                        given: &given,
                        lets: &lets,
                        mocks: &mocks,
                        #[cfg(feature = "jit")]
                        native,
                    };
                    if !self.stmts(&inner, case, body) {
                        return false;
                    }
                }
            }
        }
        true
    }

    fn fail(&self, case: &mut Case, loc: Loc, error: EvalError) -> bool {
        case.outcome.error = Some(CaseError {
            loc,
            message: error.0,
        });
        false
    }

    /// A case's label: a record's `name` field when it has one, otherwise
    /// the element itself, shortened.
    fn label(&self, ty: Option<&Type>, element: &Value, index: usize) -> String {
        if let (Some(Type::Schema(id)), Value::Record(fields)) = (ty, element)
            && let Some(schema) = self.program.schemas.get(id.0 as usize)
            && let Some(i) = schema.fields.iter().position(|f| f.name == "name")
            && let Some(Value::String(name)) = fields.get(i)
        {
            return name.to_string();
        }
        let shown = match ty {
            Some(ty) => value_json(self.program, ty, element).to_string(),
            None => format!("case {}", index + 1),
        };
        shorten(&shown, 60)
    }

    /// Explains why `cond` was false: what it needed, what there was, and
    /// the decisions it looked at.
    fn explain(
        &self,
        scope: &Scope<'_>,
        slots: &mut Vec<Value>,
        cond: NodeId,
        loc: Loc,
    ) -> Failure {
        let (expected, actual) = self.expectation(scope, slots, cond, true);
        let mut decisions = Vec::new();
        let mut seen = Vec::new();
        self.decisions_in(scope, slots, cond, &mut seen, &mut decisions);
        Failure {
            loc,
            expected,
            actual,
            decisions,
        }
    }

    fn node(&self, id: NodeId) -> Option<&pol_ir::ir::Node> {
        self.test.body.nodes.get(id.0 as usize)
    }

    fn show(&self, scope: &Scope<'_>, slots: &mut Vec<Value>, id: NodeId) -> String {
        let ty = self.node(id).map(|n| n.ty.clone()).unwrap_or(Type::None);
        match self.eval(scope, slots, id) {
            Ok(value) => shorten(&value_json(self.program, &ty, &value).to_string(), 200),
            Err(e) => format!("(error: {e})"),
        }
    }

    fn decision(
        &self,
        scope: &Scope<'_>,
        slots: &mut Vec<Value>,
        id: NodeId,
    ) -> Option<std::sync::Arc<Decision>> {
        match self.eval(scope, slots, id) {
            Ok(Value::Decision(d)) => Some(d),
            _ => None,
        }
    }

    /// What `cond` needed to be `want`, and what there was.
    fn expectation(
        &self,
        scope: &Scope<'_>,
        slots: &mut Vec<Value>,
        cond: NodeId,
        want: bool,
    ) -> (String, String) {
        let not = if want { "" } else { "not " };
        let Some(node) = self.node(cond) else {
            return (want.to_string(), (!want).to_string());
        };
        match &node.op {
            Op::Unary {
                op: UnaryOp::Not,
                operand,
            } => self.expectation(scope, slots, *operand, !want),
            Op::DecisionMember { base, member } => {
                let Some(d) = self.decision(scope, slots, *base) else {
                    return (want.to_string(), (!want).to_string());
                };
                let program = self.program;
                let (needed, had) = match member {
                    DecisionMember::Allowed => ("allow".to_string(), effect_summary(program, &d)),
                    DecisionMember::Denied => ("deny".to_string(), effect_summary(program, &d)),
                    DecisionMember::RequiresApproval => (
                        "approval required".to_string(),
                        if d.requires_approval(program) {
                            "approval required".into()
                        } else {
                            "no require_approval rule fired".into()
                        },
                    ),
                    DecisionMember::Alerted => (
                        "an alert".to_string(),
                        if d.alerted(program) {
                            "an alert fired".into()
                        } else {
                            "no alert rule fired".into()
                        },
                    ),
                    _ => return (want.to_string(), (!want).to_string()),
                };
                (format!("{not}{needed}"), had)
            }
            Op::Fired { base, reason } => {
                let reason = self.show(scope, slots, *reason);
                let fired = self
                    .decision(scope, slots, *base)
                    .map(|d| fired_summary(self.program, &d))
                    .unwrap_or_default();
                (format!("{not}fired {reason}"), fired)
            }
            Op::Binary {
                op: op @ (BinaryOp::Eq | BinaryOp::Ne),
                lhs,
                rhs,
            } if self.is_decision_flag(*lhs) => {
                // `d.allowed == case.allowed`: say which effect was needed.
                match self.eval(scope, slots, *rhs) {
                    Ok(Value::Bool(b)) => {
                        let needed = (*op == BinaryOp::Eq) == (b == want);
                        self.expectation(scope, slots, *lhs, needed)
                    }
                    _ => (want.to_string(), (!want).to_string()),
                }
            }
            Op::Binary { op, lhs, rhs } => {
                let symbol = match (op, want) {
                    (BinaryOp::Eq, true) | (BinaryOp::Ne, false) => "==",
                    (BinaryOp::Ne, true) | (BinaryOp::Eq, false) => "!=",
                    (BinaryOp::Lt(_), true) | (BinaryOp::Ge(_), false) => "<",
                    (BinaryOp::Le(_), true) | (BinaryOp::Gt(_), false) => "<=",
                    (BinaryOp::Gt(_), true) | (BinaryOp::Le(_), false) => ">",
                    (BinaryOp::Ge(_), true) | (BinaryOp::Lt(_), false) => ">=",
                    (BinaryOp::InCollection | BinaryOp::InMapKeys | BinaryOp::InString, _) => {
                        let element = self.show(scope, slots, *lhs);
                        let collection = self.show(scope, slots, *rhs);
                        return (format!("{element} {not}in {collection}"), collection);
                    }
                    (BinaryOp::And, true) | (BinaryOp::Or, false) => {
                        // The first operand that is not what was needed.
                        let first_ok = matches!(self.eval(scope, slots, *lhs), Ok(Value::Bool(b)) if b == want);
                        let culprit = if first_ok { *rhs } else { *lhs };
                        return self.expectation(scope, slots, culprit, want);
                    }
                    _ => return (want.to_string(), (!want).to_string()),
                };
                let right = self.show(scope, slots, *rhs);
                let left = self.show(scope, slots, *lhs);
                (format!("{symbol} {right}"), left)
            }
            _ => (want.to_string(), (!want).to_string()),
        }
    }

    /// Whether `node` is `d.allowed`, `d.denied`, `d.requires_approval`
    /// or `d.alerted`.
    fn is_decision_flag(&self, node: NodeId) -> bool {
        matches!(
            self.node(node).map(|n| &n.op),
            Some(Op::DecisionMember {
                member: DecisionMember::Allowed
                    | DecisionMember::Denied
                    | DecisionMember::RequiresApproval
                    | DecisionMember::Alerted,
                ..
            })
        )
    }

    /// The decisions among `node` and its operands, evaluated. Quantifier
    /// and optional-chaining bodies are not entered (their variables are
    /// not set outside the evaluation).
    fn decisions_in(
        &self,
        scope: &Scope<'_>,
        slots: &mut Vec<Value>,
        node: NodeId,
        seen: &mut Vec<NodeId>,
        out: &mut Vec<Decision>,
    ) {
        let mut stack = vec![node];
        while let Some(id) = stack.pop() {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
            let Some(n) = self.node(id) else { continue };
            if matches!(n.ty, Type::Decision | Type::ValueDecision(_)) {
                if let Some(d) = self.decision(scope, slots, id)
                    && !out.contains(&d)
                {
                    out.push((*d).clone());
                }
                continue;
            }
            let operands = match &n.op {
                Op::Quant { collection, .. } => vec![*collection],
                Op::IfPresent { value, .. } => vec![*value],
                op => op.operands(),
            };
            // Operands in source order once popped.
            stack.extend(operands.into_iter().rev());
        }
    }
}

/// `allow` or `deny`, with how it came about.
pub fn effect_summary(program: &Program, decision: &Decision) -> String {
    let effect = match decision.effect {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
    };
    if let Some(error) = &decision.error {
        return format!("deny (evaluation error: {error})");
    }
    if decision.by_default {
        let default = program
            .policies
            .get(decision.policy as usize)
            .and_then(|p| p.default_rule());
        return match default {
            Some(d) => format!("{effect} (by default: {:?})", d.reason),
            None => format!("{effect} (no rule fired; no default)"),
        };
    }
    let fired = fired_summary(program, decision);
    format!("{effect} ({fired})")
}

/// The reasons of a decision (fired rules, then the default when it
/// decided), or that there are none.
pub fn fired_summary(program: &Program, decision: &Decision) -> String {
    let reasons: Vec<String> = decision
        .reasons(program)
        .iter()
        .map(|r| format!("{r:?}"))
        .collect();
    match (&decision.error, reasons.is_empty()) {
        (Some(error), _) => format!("evaluation error: {error}"),
        (None, true) => "no rule fired".into(),
        (None, false) => format!("fired {}", reasons.join(", ")),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}
