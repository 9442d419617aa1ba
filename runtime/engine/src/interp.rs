//! The interpreter: the reference semantics of the IR. Every later engine
//! (the JIT) must produce the same decisions.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::Arc;

use pol_ir::Builtin;
use pol_ir::ir::{
    Action, BinaryOp, Body, CollectionKind, Const, DecisionMember, Effect, FindingField, NodeId,
    Op, Ordered, PolicyKind, Program, QuantKind, UnaryOp,
};

use crate::cost::{Steps, measures};
use crate::decision::Decision;
use crate::value::{FindingValue, Value};

/// An evaluation error: the decision becomes a deny carrying it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError(pub String);

impl std::fmt::Display for EvalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EvalError {}

type Result<T> = std::result::Result<T, EvalError>;

fn error<T>(message: impl Into<String>) -> Result<T> {
    Err(EvalError(message.into()))
}

/// The builtin functions, passed to the evaluator so that tests can
/// substitute them (a mocked detector, a failing builtin).
pub trait Builtins: Send + Sync {
    /// Calls builtin `id`; for a method the receiver is `args[0]`.
    fn call(&self, id: Builtin, args: &[Value]) -> Result<Value>;

    /// Whether the string tests (`contains`, `starts_with`, `ends_with`)
    /// are the standard ones, so that native code may run them on the
    /// text where it lies instead of building values to call
    /// [`Builtins::call`]. Hosts that substitute builtins keep the default.
    fn standard_string_tests(&self) -> bool {
        false
    }

    /// `text.contains_any(set)` or `text.matches_any(set)` (`id`) on a text
    /// native code lends, when these builtins compiled `set` at load:
    /// `Some(answer)`, the one pass for a phrase set and a pattern set
    /// applied to the same text shared through `scans` (one evaluation's).
    /// `None` sends the call through [`Builtins::call`]; hosts that
    /// substitute builtins keep this default.
    fn set_test(
        &self,
        id: Builtin,
        text: &str,
        set: &Value,
        scans: &crate::dispatch::ScanCache,
    ) -> Option<bool> {
        let _ = (id, text, set, scans);
        None
    }
}

/// Evaluates the policies of one program.
pub struct Interpreter<'p, B: Builtins + ?Sized> {
    program: &'p Program,
    builtins: &'p B,
    params: std::borrow::Cow<'p, [Value]>,
    coverage: Option<&'p Coverage>,
    /// Where policy calls go instead of this interpreter (a test running
    /// on the JIT evaluates its own statements here and its policies
    /// there).
    calls: Option<&'p dyn PolicyCalls>,
    /// Lets whose values are known before any evaluation (see
    /// [`constant_lets`]), by index.
    known_lets: Option<&'p [Option<Value>]>,
    /// Where to count steps, when counting (see [`pol_ir::cost`]).
    steps: Option<&'p Steps>,
}

/// Evaluates policy calls for an [`Interpreter`] (see
/// `Interpreter::with_policy_calls`).
pub(crate) trait PolicyCalls {
    /// Evaluates `policy` on `input` at `now`.
    fn call(&self, policy: u32, input: Value, now: i64) -> Decision;
}

impl<B: Builtins + ?Sized> std::fmt::Debug for Interpreter<'_, B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Interpreter")
            .field("policies", &self.program.policies.len())
            .finish_non_exhaustive()
    }
}

/// What one evaluation shares: the request time and the lets computed so
/// far (each at most once per evaluation).
pub(crate) struct Context {
    pub(crate) now: i64,
    pub(crate) lets: RefCell<Vec<Option<Value>>>,
    /// Lets whose computation failed in this evaluation, with the error:
    /// a let is computed at most once per evaluation, failed or not (a
    /// policy called in a loop that reads a failing let fails each time
    /// without computing it again).
    pub(crate) failed_lets: RefCell<Vec<(u32, EvalError)>>,
}

impl Context {
    /// A context at `now` with `lets` already known (a test's overrides).
    pub(crate) fn new(program: &Program, now: i64, lets: &[(u32, Value)]) -> Context {
        let mut known = vec![None; program.lets.len()];
        for (index, value) in lets {
            if let Some(slot) = known.get_mut(*index as usize) {
                *slot = Some(value.clone());
            }
        }
        Context {
            now,
            lets: RefCell::new(known),
            failed_lets: RefCell::new(Vec::new()),
        }
    }
}

/// Which outcomes each rule of a program has had: fired, and evaluated to
/// false. Shared by evaluations on several threads (`polc test` runs tests
/// in parallel), so the flags are atomic.
#[derive(Debug)]
pub struct Coverage {
    /// Per policy, per rule, then one entry for the policy's default.
    flags: Vec<Vec<std::sync::atomic::AtomicU8>>,
}

impl Coverage {
    /// The rule fired (for a default: the default applied).
    pub const FIRED: u8 = 1;
    /// The rule's condition was evaluated and false (for a `redact`: it
    /// also counts when there was nothing to redact).
    pub const FALSE: u8 = 2;

    /// Empty coverage for `program`.
    pub fn new(program: &Program) -> Coverage {
        Coverage {
            flags: program
                .policies
                .iter()
                .map(|p| {
                    (0..=p.rules.len())
                        .map(|_| std::sync::atomic::AtomicU8::new(0))
                        .collect()
                })
                .collect(),
        }
    }

    fn record(&self, policy: u32, rule: usize, outcome: u8) {
        if let Some(flag) = self.flags.get(policy as usize).and_then(|p| p.get(rule)) {
            flag.fetch_or(outcome, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// The outcomes seen for rule `rule` of policy `policy` (an index equal
    /// to the policy's rule count is its default): a mask of
    /// [`Coverage::FIRED`] and [`Coverage::FALSE`].
    pub fn outcomes(&self, policy: usize, rule: usize) -> u8 {
        self.flags
            .get(policy)
            .and_then(|p| p.get(rule))
            .map_or(0, |f| f.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Computes a program's params (load-time data) with these builtins. A
/// param whose value fails to compute makes the program unusable.
pub fn compute_params<B: Builtins + ?Sized>(program: &Program, builtins: &B) -> Result<Vec<Value>> {
    compute_params_overriding(program, builtins, &[])
}

/// The values of the lets that are the same in every evaluation: those
/// computed from constants and params only (no `now`, no policy call, and
/// only other such lets). Computed once at load, a let like the standard
/// library's folded phrase list is not rebuilt (nor its matcher compiled)
/// on every request. A let whose computation fails stays unknown, so each
/// evaluation reports the error as before.
pub fn constant_lets<B: Builtins + ?Sized>(
    program: &Program,
    builtins: &B,
    params: &[Value],
) -> Vec<Option<Value>> {
    let count = program.lets.len();
    // Constant unless its body reads the clock, calls a policy or reads a
    // let that is not constant; lets form no cycle (the verifier checks),
    // so repeating until nothing changes settles.
    let mut constant = vec![true; count];
    loop {
        let mut changed = false;
        for (index, item) in program.lets.iter().enumerate() {
            if !constant[index] {
                continue;
            }
            let varies = item.value.nodes.iter().any(|node| match node.op {
                Op::Now | Op::CallPolicy { .. } => true,
                Op::Let(j) => !constant.get(j as usize).copied().unwrap_or(false),
                _ => false,
            });
            if varies {
                constant[index] = false;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let interpreter = Interpreter::with_params(program, builtins, params);
    let context = Context::new(program, 0, &[]);
    (0..count)
        .map(|index| {
            constant[index]
                .then(|| interpreter.let_value(&context, index as u32).ok())
                .flatten()
        })
        .collect()
}

/// Computes a program's params with some of them given (by index): those
/// are not computed, and params computed from them see the given values
/// (a test's `with`).
pub fn compute_params_overriding<B: Builtins + ?Sized>(
    program: &Program,
    builtins: &B,
    given: &[(u32, Value)],
) -> Result<Vec<Value>> {
    let context = Context::new(program, 0, &[]);
    let mut params: Vec<Value> = vec![Value::None; program.params.len()];
    let mut known = vec![false; program.params.len()];
    for (index, value) in given {
        if let Some(slot) = params.get_mut(*index as usize) {
            *slot = value.clone();
            known[*index as usize] = true;
        }
    }
    // Each param is computed after the params it reads (directly, or
    // through lets and policies it uses): a setting may read a hoisted
    // constant or the default it extends, which come later in the list.
    for index in param_order(program)? {
        if known[index] {
            continue;
        }
        let param = &program.params[index];
        let value = Interpreter {
            program,
            builtins,
            params: std::borrow::Cow::Borrowed(params.as_slice()),
            coverage: None,
            calls: None,
            known_lets: None,
            steps: None,
        }
        .root(&context, &param.value)
        .map_err(|e| EvalError(format!("param `{}`: {}", param.name, e.0)))?;
        params[index] = value;
    }
    Ok(params)
}

/// The params that param `index`'s value reads, directly or through the
/// lets and policies it uses.
fn param_dependencies(program: &Program, index: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut seen_lets = std::collections::HashSet::new();
    let mut seen_policies = std::collections::HashSet::new();
    let mut bodies: Vec<&Body> = program
        .params
        .get(index)
        .map(|p| &p.value)
        .into_iter()
        .collect();
    while let Some(body) = bodies.pop() {
        for node in &body.nodes {
            match &node.op {
                Op::Param(j) => out.push(*j as usize),
                Op::Let(k) => {
                    if seen_lets.insert(*k)
                        && let Some(l) = program.lets.get(*k as usize)
                    {
                        bodies.push(&l.value);
                    }
                }
                Op::CallPolicy { policy, .. } => {
                    if seen_policies.insert(*policy)
                        && let Some(p) = program.policies.get(*policy as usize)
                    {
                        bodies.push(&p.body);
                    }
                }
                _ => {}
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The params in an order where each comes after those it reads; an error
/// names a param that reads itself (the checker rules cycles out, so this
/// guards a hand-made or corrupted program).
fn param_order(program: &Program) -> Result<Vec<usize>> {
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let n = program.params.len();
    let mut state = vec![NEW; n];
    let mut order = Vec::with_capacity(n);
    for start in 0..n {
        if state[start] != NEW {
            continue;
        }
        // Iterative depth-first search: (param, its dependencies, next one).
        let mut stack = vec![(start, param_dependencies(program, start), 0usize)];
        state[start] = OPEN;
        while let Some((node, deps, next)) = stack.last_mut() {
            if let Some(&dep) = deps.get(*next) {
                *next += 1;
                match state.get(dep) {
                    Some(&NEW) => {
                        state[dep] = OPEN;
                        let deps = param_dependencies(program, dep);
                        stack.push((dep, deps, 0));
                    }
                    Some(&OPEN) => {
                        return error(format!(
                            "param `{}` depends on itself",
                            program.params[dep].name
                        ));
                    }
                    _ => {}
                }
            } else {
                state[*node] = DONE;
                order.push(*node);
                stack.pop();
            }
        }
    }
    Ok(order)
}

impl<'p, B: Builtins + ?Sized> Interpreter<'p, B> {
    /// Prepares a program: computes its params (load-time data). A param
    /// whose value fails to compute makes the program unusable.
    pub fn new(program: &'p Program, builtins: &'p B) -> Result<Interpreter<'p, B>> {
        let params = compute_params(program, builtins)?;
        Ok(Interpreter {
            program,
            builtins,
            params: std::borrow::Cow::Owned(params),
            coverage: None,
            calls: None,
            known_lets: None,
            steps: None,
        })
    }

    /// An interpreter over params computed before (see [`compute_params`]).
    pub fn with_params(
        program: &'p Program,
        builtins: &'p B,
        params: &'p [Value],
    ) -> Interpreter<'p, B> {
        Interpreter {
            program,
            builtins,
            params: std::borrow::Cow::Borrowed(params),
            coverage: None,
            calls: None,
            known_lets: None,
            steps: None,
        }
    }

    /// Starts every evaluation with these lets known (see
    /// [`constant_lets`]).
    pub(crate) fn with_lets(mut self, lets: &'p [Option<Value>]) -> Interpreter<'p, B> {
        self.known_lets = Some(lets);
        self
    }

    /// Sends policy calls to `calls` instead of evaluating them here.
    #[cfg_attr(
        not(feature = "jit"),
        expect(
            dead_code,
            reason = "only the test runner's JIT path sends calls elsewhere"
        )
    )]
    pub(crate) fn with_policy_calls(mut self, calls: &'p dyn PolicyCalls) -> Interpreter<'p, B> {
        self.calls = Some(calls);
        self
    }

    /// Counts the steps of every evaluation into `steps` (see
    /// [`pol_ir::cost`] for what a step is). Counting walks the operands of
    /// operations whose work depends on their size, so it is for tests and
    /// tools, not for serving.
    pub fn with_steps(mut self, steps: &'p Steps) -> Interpreter<'p, B> {
        self.steps = Some(steps);
        self
    }

    /// Records which rules fire and which conditions are false into
    /// `coverage` (`polc test --coverage`).
    pub fn with_coverage(mut self, coverage: &'p Coverage) -> Interpreter<'p, B> {
        self.coverage = Some(coverage);
        self
    }

    /// The program evaluated.
    pub fn program(&self) -> &'p Program {
        self.program
    }

    /// Replaces a param's value (a host override, a test's `with`).
    pub fn set_param(&mut self, index: usize, value: Value) {
        if let Some(slot) = self.params.to_mut().get_mut(index) {
            *slot = value;
        }
    }

    /// Evaluates policy `policy` on `input` at request time `now`
    /// (nanoseconds since the epoch). Never fails: an evaluation error is a
    /// deny that carries it.
    pub fn evaluate(&self, policy: u32, input: Value, now: i64) -> Decision {
        let lets = match self.known_lets {
            Some(known) if known.len() == self.program.lets.len() => known.to_vec(),
            _ => vec![None; self.program.lets.len()],
        };
        let context = Context {
            now,
            lets: RefCell::new(lets),
            failed_lets: RefCell::new(Vec::new()),
        };
        self.policy(&context, policy, input)
    }

    pub(crate) fn root(&self, context: &Context, body: &Body) -> Result<Value> {
        let root = body
            .root
            .ok_or_else(|| EvalError("a body without a result".into()))?;
        let mut slots = vec![Value::None; body.slots.len()];
        self.eval(context, body, &mut slots, root)
    }

    pub(crate) fn policy(&self, context: &Context, index: u32, input: Value) -> Decision {
        let Some(policy) = self.program.policies.get(index as usize) else {
            return Decision::error(index, format!("no policy {index}"));
        };
        match self.policy_inner(context, index, input) {
            Ok(decision) => decision,
            Err(e) => Decision::error(index, format!("{}: {}", policy.name, e.0)),
        }
    }

    fn policy_inner(&self, context: &Context, index: u32, input: Value) -> Result<Decision> {
        let policy = &self.program.policies[index as usize];
        self.count(|| 1);
        let body = &policy.body;
        let mut slots = vec![Value::None; body.slots.len()];
        if let Some(first) = slots.first_mut() {
            *first = input;
        }
        for local in &policy.locals {
            let value = self.eval(context, body, &mut slots, local.value)?;
            set_slot(&mut slots, local.slot.0, value)?;
        }
        let mut decision = Decision {
            policy: index,
            effect: Effect::Deny,
            fired: crate::decision::Fired::default(),
            by_default: false,
            redactions: Vec::new(),
            value: None,
            error: None,
        };
        let when = |this: &Self, slots: &mut Vec<Value>, rule: usize| -> Result<bool> {
            let holds = match policy.rules.get(rule).and_then(|r| r.when) {
                Some(node) => this.eval(context, body, slots, node)?.as_bool()?,
                None => true,
            };
            if !holds && let Some(coverage) = this.coverage {
                coverage.record(index, rule, Coverage::FALSE);
            }
            Ok(holds)
        };
        match &policy.kind {
            PolicyKind::Decision { default } => {
                let (mut allow, mut deny) = (false, false);
                for (i, rule) in policy.rules.iter().enumerate() {
                    self.count(|| 1);
                    if !when(self, &mut slots, i)? {
                        continue;
                    }
                    match &rule.action {
                        Action::Allow => allow = true,
                        Action::Deny => deny = true,
                        Action::Redact { findings } => {
                            let findings =
                                findings_of(&self.eval(context, body, &mut slots, *findings)?)?;
                            self.count(|| findings.len() as u64);
                            // A redaction with nothing to redact does not fire.
                            if findings.is_empty() {
                                self.cover(index, i, Coverage::FALSE);
                                continue;
                            }
                            decision.redactions.push((i as u32, findings));
                        }
                        Action::RequireApproval | Action::Alert { .. } => {}
                        Action::Return { .. } | Action::Keep { .. } => {
                            return error("a value or filter rule in a decision policy");
                        }
                    }
                    decision.fire(i);
                    self.cover(index, i, Coverage::FIRED);
                }
                decision.effect = if deny {
                    Effect::Deny
                } else if allow {
                    Effect::Allow
                } else {
                    decision.by_default = true;
                    self.cover(index, policy.rules.len(), Coverage::FIRED);
                    default.as_ref().map_or(Effect::Deny, |d| d.effect)
                };
            }
            PolicyKind::Value { value, .. } => {
                decision.effect = Effect::Allow;
                for (i, rule) in policy.rules.iter().enumerate() {
                    let Action::Return { value } = &rule.action else {
                        continue;
                    };
                    self.count(|| 1);
                    if when(self, &mut slots, i)? {
                        decision.value = Some(self.eval(context, body, &mut slots, *value)?);
                        decision.fire(i);
                        self.cover(index, i, Coverage::FIRED);
                        return Ok(decision);
                    }
                }
                decision.by_default = true;
                self.cover(index, policy.rules.len(), Coverage::FIRED);
                decision.value = Some(self.eval(context, body, &mut slots, *value)?);
            }
            PolicyKind::Filter { .. } => {
                decision.effect = Effect::Allow;
                let mut kept = Vec::new();
                for (i, rule) in policy.rules.iter().enumerate() {
                    let Action::Keep {
                        collection,
                        elem,
                        limit,
                    } = &rule.action
                    else {
                        continue;
                    };
                    self.count(|| 1);
                    let limit = match limit {
                        Some(limit) => {
                            let n = self.eval(context, body, &mut slots, *limit)?.as_int()?;
                            usize::try_from(n).unwrap_or(0)
                        }
                        None => usize::MAX,
                    };
                    let collection = self.eval(context, body, &mut slots, *collection)?;
                    for element in collection.elements().unwrap_or(&[]) {
                        if kept.len() >= limit {
                            break;
                        }
                        self.count(|| 1);
                        set_slot(&mut slots, elem.0, element.clone())?;
                        if when(self, &mut slots, i)? {
                            kept.push(element.clone());
                            self.cover(index, i, Coverage::FIRED);
                        }
                    }
                    if !kept.is_empty() {
                        decision.fire(i);
                    }
                }
                decision.value = Some(Value::List(kept.into()));
            }
        }
        Ok(decision)
    }

    /// Counts `n` steps, when counting.
    fn count(&self, n: impl FnOnce() -> u64) {
        if let Some(steps) = self.steps {
            steps.add(n());
        }
    }

    fn cover(&self, policy: u32, rule: usize, outcome: u8) {
        if let Some(coverage) = self.coverage {
            coverage.record(policy, rule, outcome);
        }
    }

    fn let_value(&self, context: &Context, index: u32) -> Result<Value> {
        if let Some(Some(value)) = context.lets.borrow().get(index as usize) {
            return Ok(value.clone());
        }
        if let Some((_, e)) = context
            .failed_lets
            .borrow()
            .iter()
            .find(|(i, _)| *i == index)
        {
            return Err(e.clone());
        }
        let item = self
            .program
            .lets
            .get(index as usize)
            .ok_or_else(|| EvalError(format!("no let {index}")))?;
        let value = match self.root(context, &item.value) {
            Ok(value) => value,
            Err(e) => {
                context.failed_lets.borrow_mut().push((index, e.clone()));
                return Err(e);
            }
        };
        if let Some(slot) = context.lets.borrow_mut().get_mut(index as usize) {
            *slot = Some(value.clone());
        }
        Ok(value)
    }

    pub(crate) fn eval(
        &self,
        context: &Context,
        body: &Body,
        slots: &mut Vec<Value>,
        node: NodeId,
    ) -> Result<Value> {
        let Some(current) = body.nodes.get(node.0 as usize) else {
            return error(format!("no node {}", node.0));
        };
        self.count(|| 1);
        match &current.op {
            Op::Const(c) => Ok(constant(c)),
            Op::Local(slot) => Ok(slots.get(slot.0 as usize).cloned().unwrap_or(Value::None)),
            Op::Let(i) => self.let_value(context, *i),
            Op::Param(i) => self
                .params
                .get(*i as usize)
                .cloned()
                .ok_or_else(|| EvalError(format!("no param {i}"))),
            Op::Now => Ok(Value::Timestamp(context.now)),
            Op::Field { base, index } => match self.eval(context, body, slots, *base)? {
                Value::Record(fields) => {
                    Ok(fields.get(*index as usize).cloned().unwrap_or(Value::None))
                }
                other => error(format!("a field of a non-record ({})", kind_name(&other))),
            },
            Op::FindingField { base, field } => match self.eval(context, body, slots, *base)? {
                Value::Finding(f) => Ok(match field {
                    FindingField::Kind => Value::String(f.kind.clone()),
                    FindingField::Start => Value::Int(f.start),
                    FindingField::End => Value::Int(f.end),
                    FindingField::Text => Value::String(f.text.clone()),
                }),
                other => error(format!("a finding field of {}", kind_name(&other))),
            },
            Op::DecisionMember { base, member } => {
                let Value::Decision(d) = self.eval(context, body, slots, *base)? else {
                    return error("a decision member of a non-decision");
                };
                self.count(|| match member {
                    DecisionMember::Reasons
                    | DecisionMember::RequiresApproval
                    | DecisionMember::Alerted => {
                        pol_ir::cost::work::decision_cost_of(self.program, d.policy)
                    }
                    DecisionMember::Redactions => {
                        d.redactions.iter().map(|(_, f)| f.len() as u64).sum()
                    }
                    DecisionMember::Error => d.error.as_ref().map_or(0, |e| e.len() as u64),
                    DecisionMember::Allowed | DecisionMember::Denied | DecisionMember::Value => 0,
                });
                if *member == DecisionMember::Value
                    && let Some(failure) = &d.error
                {
                    // A failed policy has no value: reading it fails too.
                    return error(format!("the value of a failed decision: {failure}"));
                }
                Ok(self.decision_member(&d, *member))
            }
            Op::Fired { base, reason } => {
                let Value::Decision(d) = self.eval(context, body, slots, *base)? else {
                    return error("`fired` of a non-decision");
                };
                self.count(|| {
                    pol_ir::cost::work::decision_cost_of(self.program, d.policy).saturating_mul(2)
                });
                let reason = self.eval(context, body, slots, *reason)?;
                let Value::String(reason) = reason else {
                    return error("`fired` takes a string");
                };
                Ok(Value::Bool(
                    d.reasons(self.program).iter().any(|r| **r == *reason),
                ))
            }
            Op::IfPresent { value, slot, then } => match self.eval(context, body, slots, *value)? {
                Value::None => Ok(Value::None),
                present => {
                    set_slot(slots, slot.0, present)?;
                    self.eval(context, body, slots, *then)
                }
            },
            Op::Index { base, index, on } => {
                let base = self.eval(context, body, slots, *base)?;
                let index = self.eval(context, body, slots, *index)?;
                if let (CollectionKind::Map, Value::String(key)) = (on, &index) {
                    self.count(|| key.len() as u64);
                }
                match (on, base, index) {
                    (CollectionKind::Map, Value::Map(map), Value::String(key)) => {
                        Ok(map.get(&key).cloned().unwrap_or(Value::None))
                    }
                    (_, Value::List(items), Value::Int(i)) => Ok(usize::try_from(i)
                        .ok()
                        .and_then(|i| items.get(i))
                        .cloned()
                        .unwrap_or(Value::None)),
                    (_, base, _) => error(format!("cannot index {}", kind_name(&base))),
                }
            }
            Op::Coalesce { value, default } => match self.eval(context, body, slots, *value)? {
                Value::None => self.eval(context, body, slots, *default),
                present => Ok(present),
            },
            Op::Unary { op, operand } => {
                let value = self.eval(context, body, slots, *operand)?;
                match (op, value) {
                    (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                    (UnaryOp::NegInt, Value::Int(n)) => n
                        .checked_neg()
                        .map(Value::Int)
                        .ok_or_else(|| EvalError("integer overflow in `-`".into())),
                    (UnaryOp::NegFloat, Value::Float(f)) => Ok(Value::Float(-f)),
                    (UnaryOp::NegDuration, Value::Duration(n)) => n
                        .checked_neg()
                        .map(Value::Duration)
                        .ok_or_else(|| EvalError("duration overflow in `-`".into())),
                    (op, value) => error(format!("`{op:?}` of {}", kind_name(&value))),
                }
            }
            Op::IntToFloat(operand) => match self.eval(context, body, slots, *operand)? {
                Value::Int(n) => Ok(Value::Float(n as f64)),
                Value::None => Ok(Value::None),
                other => error(format!("int-to-float of {}", kind_name(&other))),
            },
            Op::Binary { op, lhs, rhs } => self.binary(context, body, slots, *op, *lhs, *rhs),
            Op::If {
                cond,
                then,
                otherwise,
            } => {
                if self.eval(context, body, slots, *cond)?.as_bool()? {
                    self.eval(context, body, slots, *then)
                } else {
                    self.eval(context, body, slots, *otherwise)
                }
            }
            // The collection's value says how to iterate it; `over` is for
            // engines that compile the loop ahead of time.
            Op::Quant {
                kind,
                over: _,
                collection,
                key,
                elem,
                body: quant_body,
            } => {
                let collection = self.eval(context, body, slots, *collection)?;
                self.quant(
                    context,
                    body,
                    slots,
                    *kind,
                    collection,
                    (*key, *elem),
                    *quant_body,
                )
            }
            Op::List(items) => {
                self.count(|| items.len() as u64);
                Ok(Value::List(self.all(context, body, slots, items)?.into()))
            }
            Op::Set(items) => {
                let items = self.all(context, body, slots, items)?;
                self.count(|| {
                    let weights: Vec<u64> = items
                        .iter()
                        .map(|v| crate::cost::weight(v, self.program))
                        .collect();
                    pol_ir::cost::work::set_literal_work(&weights)
                });
                Ok(Value::set(items))
            }
            Op::Map(entries) => {
                self.count(|| entries.iter().map(|(k, _)| 1 + k.len() as u64).sum());
                let mut map = BTreeMap::new();
                for (key, value) in entries {
                    map.insert(
                        Arc::from(key.as_str()),
                        self.eval(context, body, slots, *value)?,
                    );
                }
                Ok(Value::Map(Arc::new(map)))
            }
            Op::Record { fields, .. } => {
                self.count(|| fields.len() as u64);
                let mut values = Vec::with_capacity(fields.len());
                for field in fields {
                    values.push(match field {
                        Some(node) => self.eval(context, body, slots, *node)?,
                        None => Value::None,
                    });
                }
                Ok(Value::Record(values.into()))
            }
            Op::Finding {
                kind,
                start,
                end,
                text,
            } => {
                let kind = self.eval(context, body, slots, *kind)?.as_string()?;
                let start = self.eval(context, body, slots, *start)?.as_int()?;
                let end = self.eval(context, body, slots, *end)?.as_int()?;
                let text = match text {
                    Some(node) => self.eval(context, body, slots, *node)?.as_string()?,
                    None => Arc::from(""),
                };
                Ok(Value::Finding(Arc::new(FindingValue {
                    kind,
                    start,
                    end,
                    text,
                })))
            }
            Op::Builtin { id, args } => {
                let args = self.all(context, body, slots, args)?;
                // A host's builtin must not take the evaluation down: a
                // panic is an evaluation error, worded as the JIT's shim
                // words it (the standard builtins catch their own).
                let value = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    self.builtins.call(*id, &args)
                }))
                .unwrap_or_else(|_| error("internal error in a builtin"))?;
                self.count(|| {
                    let args: Vec<_> = args.iter().map(|a| measures(a, self.program)).collect();
                    let result = measures(&value, self.program);
                    pol_ir::cost::work::builtin_work(*id, &args, &result)
                });
                Ok(conform_result(&current.ty, value))
            }
            Op::CallPolicy { policy, input } => {
                let input = self.eval(context, body, slots, *input)?;
                let decision = match self.calls {
                    Some(calls) => calls.call(*policy, input, context.now),
                    None => self.policy(context, *policy, input),
                };
                Ok(Value::Decision(Arc::new(decision)))
            }
        }
    }

    fn all(
        &self,
        context: &Context,
        body: &Body,
        slots: &mut Vec<Value>,
        nodes: &[NodeId],
    ) -> Result<Vec<Value>> {
        nodes
            .iter()
            .map(|n| self.eval(context, body, slots, *n))
            .collect()
    }

    fn decision_member(&self, d: &Decision, member: DecisionMember) -> Value {
        match member {
            DecisionMember::Allowed => Value::Bool(d.effect == Effect::Allow),
            DecisionMember::Denied => Value::Bool(d.effect == Effect::Deny),
            DecisionMember::Reasons => Value::List(
                d.reasons(self.program)
                    .iter()
                    .map(|r| Value::string(r))
                    .collect(),
            ),
            DecisionMember::RequiresApproval => Value::Bool(d.requires_approval(self.program)),
            DecisionMember::Redactions => Value::List(
                d.redactions
                    .iter()
                    .flat_map(|(_, findings)| {
                        findings
                            .iter()
                            .cloned()
                            .map(|f| Value::Finding(Arc::new(f)))
                    })
                    .collect(),
            ),
            DecisionMember::Alerted => Value::Bool(d.alerted(self.program)),
            DecisionMember::Error => d.error.as_deref().map_or(Value::None, Value::string),
            DecisionMember::Value => d.value.clone().unwrap_or(Value::None),
        }
    }

    #[expect(clippy::too_many_arguments, reason = "the parts of a quantifier node")]
    fn quant(
        &self,
        context: &Context,
        body: &Body,
        slots: &mut Vec<Value>,
        kind: QuantKind,
        collection: Value,
        (key, elem): (Option<pol_ir::ir::Slot>, pol_ir::ir::Slot),
        quant_body: NodeId,
    ) -> Result<Value> {
        // Binds the slots for one element and evaluates the body. Elements
        // are visited in place: nothing is copied up front, and `any`/`all`
        // stop at the first decisive element.
        let run = |slots: &mut Vec<Value>,
                   key_value: Option<Value>,
                   elem_value: Value|
         -> Result<Value> {
            self.count(|| 1);
            if let (Some(slot), Some(value)) = (key, key_value) {
                set_slot(slots, slot.0, value)?;
            }
            set_slot(slots, elem.0, elem_value)?;
            self.eval(context, body, slots, quant_body)
        };
        let mut count = 0i64;
        let mut kept_items = Vec::new();
        let mut kept_entries = BTreeMap::new();
        let mut mapped = Vec::new();
        match &collection {
            Value::Map(map) => {
                for (k, v) in map.iter() {
                    let key_value = Value::String(k.clone());
                    let result = match key {
                        Some(_) => run(slots, Some(key_value), v.clone())?,
                        None => run(slots, None, key_value)?,
                    };
                    match step(kind, &result)? {
                        Step::Done(b) => return Ok(Value::Bool(b)),
                        Step::Keep => match kind {
                            QuantKind::Count => count += 1,
                            QuantKind::Filter => {
                                self.count(|| k.len() as u64);
                                kept_entries.insert(k.clone(), v.clone());
                            }
                            _ => mapped.push(result),
                        },
                        Step::Skip => {}
                    }
                }
            }
            Value::List(items) | Value::Set(items) => {
                for (i, v) in items.iter().enumerate() {
                    let result = run(slots, key.map(|_| Value::Int(i as i64)), v.clone())?;
                    match step(kind, &result)? {
                        Step::Done(b) => return Ok(Value::Bool(b)),
                        Step::Keep => match kind {
                            QuantKind::Count => count += 1,
                            QuantKind::Filter => kept_items.push(v.clone()),
                            _ => mapped.push(result),
                        },
                        Step::Skip => {}
                    }
                }
            }
            other => return error(format!("cannot iterate {}", kind_name(other))),
        }
        Ok(match kind {
            QuantKind::Any => Value::Bool(false),
            QuantKind::All => Value::Bool(true),
            QuantKind::Count => Value::Int(count),
            QuantKind::Map => Value::List(mapped.into()),
            QuantKind::Filter => match collection {
                Value::Map(_) => Value::Map(Arc::new(kept_entries)),
                Value::Set(_) => Value::Set(kept_items.into()),
                _ => Value::List(kept_items.into()),
            },
        })
    }

    fn binary(
        &self,
        context: &Context,
        body: &Body,
        slots: &mut Vec<Value>,
        op: BinaryOp,
        lhs: NodeId,
        rhs: NodeId,
    ) -> Result<Value> {
        // `and` and `or` evaluate their right side only when needed.
        match op {
            BinaryOp::And => {
                return if self.eval(context, body, slots, lhs)?.as_bool()? {
                    Ok(Value::Bool(
                        self.eval(context, body, slots, rhs)?.as_bool()?,
                    ))
                } else {
                    Ok(Value::Bool(false))
                };
            }
            BinaryOp::Or => {
                return if self.eval(context, body, slots, lhs)?.as_bool()? {
                    Ok(Value::Bool(true))
                } else {
                    Ok(Value::Bool(
                        self.eval(context, body, slots, rhs)?.as_bool()?,
                    ))
                };
            }
            _ => {}
        }
        let l = self.eval(context, body, slots, lhs)?;
        let r = self.eval(context, body, slots, rhs)?;
        self.count(|| {
            pol_ir::cost::work::binary_work(
                op,
                &measures(&l, self.program),
                &measures(&r, self.program),
            )
        });
        let overflow = |what: &str| EvalError(format!("{what} overflow"));
        use Value::{Duration, Float, Int, Timestamp};
        Ok(match (op, l, r) {
            (BinaryOp::Eq, l, r) => Value::Bool(l == r),
            (BinaryOp::Ne, l, r) => Value::Bool(l != r),
            (BinaryOp::Lt(kind), l, r) => {
                Value::Bool(compare(kind, &l, &r)? == Some(Ordering::Less))
            }
            (BinaryOp::Le(kind), l, r) => Value::Bool(matches!(
                compare(kind, &l, &r)?,
                Some(Ordering::Less | Ordering::Equal)
            )),
            (BinaryOp::Gt(kind), l, r) => {
                Value::Bool(compare(kind, &l, &r)? == Some(Ordering::Greater))
            }
            (BinaryOp::Ge(kind), l, r) => Value::Bool(matches!(
                compare(kind, &l, &r)?,
                Some(Ordering::Greater | Ordering::Equal)
            )),
            (BinaryOp::InCollection, l, r) => {
                Value::Bool(r.elements().is_some_and(|items| items.contains(&l)))
            }
            (BinaryOp::InMapKeys, Value::String(k), Value::Map(m)) => {
                Value::Bool(m.contains_key(&k))
            }
            (BinaryOp::InString, Value::String(needle), Value::String(hay)) => {
                Value::Bool(hay.contains(&*needle))
            }
            (BinaryOp::InMapKeys | BinaryOp::InString, Value::None, _) => Value::Bool(false),
            (BinaryOp::AddInt, Int(a), Int(b)) => {
                Int(a.checked_add(b).ok_or_else(|| overflow("integer"))?)
            }
            (BinaryOp::SubInt, Int(a), Int(b)) => {
                Int(a.checked_sub(b).ok_or_else(|| overflow("integer"))?)
            }
            (BinaryOp::MulInt, Int(a), Int(b)) => {
                Int(a.checked_mul(b).ok_or_else(|| overflow("integer"))?)
            }
            (BinaryOp::DivInt | BinaryOp::RemInt, Int(_), Int(0)) => {
                return error("division by zero");
            }
            (BinaryOp::DivInt, Int(a), Int(b)) => {
                Int(a.checked_div(b).ok_or_else(|| overflow("integer"))?)
            }
            (BinaryOp::RemInt, Int(a), Int(b)) => {
                Int(a.checked_rem(b).ok_or_else(|| overflow("integer"))?)
            }
            (BinaryOp::AddFloat, Float(a), Float(b)) => Float(a + b),
            (BinaryOp::SubFloat, Float(a), Float(b)) => Float(a - b),
            (BinaryOp::MulFloat, Float(a), Float(b)) => Float(a * b),
            (BinaryOp::DivFloat, Float(a), Float(b)) => Float(a / b),
            (BinaryOp::Concat, Value::String(a), Value::String(b)) => {
                Value::String(Arc::from(format!("{a}{b}")))
            }
            (BinaryOp::ConcatLists, Value::List(a), Value::List(b)) => {
                Value::List(a.iter().chain(b.iter()).cloned().collect())
            }
            (BinaryOp::AddTimestampDuration, Timestamp(t), Duration(d)) => {
                Timestamp(t.checked_add(d).ok_or_else(|| overflow("timestamp"))?)
            }
            (BinaryOp::SubTimestampDuration, Timestamp(t), Duration(d)) => {
                Timestamp(t.checked_sub(d).ok_or_else(|| overflow("timestamp"))?)
            }
            (BinaryOp::SubTimestamps, Timestamp(a), Timestamp(b)) => {
                Duration(a.checked_sub(b).ok_or_else(|| overflow("duration"))?)
            }
            (BinaryOp::AddDurations, Duration(a), Duration(b)) => {
                Duration(a.checked_add(b).ok_or_else(|| overflow("duration"))?)
            }
            (BinaryOp::SubDurations, Duration(a), Duration(b)) => {
                Duration(a.checked_sub(b).ok_or_else(|| overflow("duration"))?)
            }
            (BinaryOp::MulDurationInt, Duration(a), Int(b)) => {
                Duration(a.checked_mul(b).ok_or_else(|| overflow("duration"))?)
            }
            (BinaryOp::DivDurationInt, Duration(_), Int(0)) => return error("division by zero"),
            (BinaryOp::DivDurationInt, Duration(a), Int(b)) => {
                Duration(a.checked_div(b).ok_or_else(|| overflow("duration"))?)
            }
            (op, l, r) => {
                return error(format!(
                    "`{op:?}` of {} and {}",
                    kind_name(&l),
                    kind_name(&r)
                ));
            }
        })
    }
}

/// What a quantifier does with one element's body result.
enum Step {
    /// `any`/`all` are decided.
    Done(bool),
    /// Count it, keep it (`filter`), or collect the result (`map`).
    Keep,
    /// Nothing.
    Skip,
}

fn step(kind: QuantKind, result: &Value) -> Result<Step> {
    Ok(match kind {
        QuantKind::Any if result.as_bool()? => Step::Done(true),
        QuantKind::All if !result.as_bool()? => Step::Done(false),
        QuantKind::Any | QuantKind::All => Step::Skip,
        QuantKind::Count | QuantKind::Filter if result.as_bool()? => Step::Keep,
        QuantKind::Count | QuantKind::Filter => Step::Skip,
        QuantKind::Map => Step::Keep,
    })
}

/// Compares two values of one ordered kind; `None` when unordered (NaN).
fn compare(kind: Ordered, l: &Value, r: &Value) -> Result<Option<Ordering>> {
    Ok(match (kind, l, r) {
        (Ordered::Int, Value::Int(a), Value::Int(b))
        | (Ordered::Duration, Value::Duration(a), Value::Duration(b))
        | (Ordered::Timestamp, Value::Timestamp(a), Value::Timestamp(b)) => Some(a.cmp(b)),
        (Ordered::Float, Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
        (Ordered::String, Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Ordered::Enum, Value::Variant(a), Value::Variant(b)) => Some(a.cmp(b)),
        _ => {
            return error(format!(
                "cannot order {} and {}",
                kind_name(l),
                kind_name(r)
            ));
        }
    })
}

/// A builtin's result as a value of its call's type: the sum of an empty
/// collection is the zero of its element type, which only the call's type
/// tells (builtins see values, not types). Both engines apply this.
pub(crate) fn conform_result(ty: &pol_ir::ir::Type, value: Value) -> Value {
    match (ty, value) {
        (pol_ir::ir::Type::Float, Value::Int(0)) => Value::Float(0.0),
        (pol_ir::ir::Type::Duration, Value::Int(0)) => Value::Duration(0),
        (_, value) => value,
    }
}

fn constant(c: &Const) -> Value {
    match c {
        Const::Bool(b) => Value::Bool(*b),
        Const::Int(n) => Value::Int(*n),
        Const::Float(bits) => Value::Float(f64::from_bits(*bits)),
        Const::String(s) => Value::string(s),
        Const::Duration(n) => Value::Duration(*n),
        Const::Timestamp(n) => Value::Timestamp(*n),
        Const::Variant(i) => Value::Variant(*i),
        Const::None => Value::None,
    }
}

fn set_slot(slots: &mut [Value], slot: u32, value: Value) -> Result<()> {
    match slots.get_mut(slot as usize) {
        Some(s) => {
            *s = value;
            Ok(())
        }
        None => error(format!("no slot {slot}")),
    }
}

fn findings_of(value: &Value) -> Result<Vec<FindingValue>> {
    let items = value
        .elements()
        .ok_or_else(|| EvalError("redact needs a list of findings".into()))?;
    items
        .iter()
        .map(|item| match item {
            Value::Finding(f) => Ok((**f).clone()),
            other => error(format!("redact needs findings, found {}", kind_name(other))),
        })
        .collect()
}

/// A short name of a value's kind, for error messages.
pub(crate) fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::None => "none",
        Value::Bool(_) => "a bool",
        Value::Int(_) => "an int",
        Value::Float(_) => "a float",
        Value::String(_) => "a string",
        Value::Duration(_) => "a duration",
        Value::Timestamp(_) => "a timestamp",
        Value::Variant(_) => "an enum variant",
        Value::List(_) => "a list",
        Value::Set(_) => "a set",
        Value::Map(_) => "a map",
        Value::Record(_) => "a record",
        Value::Finding(_) => "a finding",
        Value::Decision(_) => "a decision",
    }
}

impl Value {
    /// The bool inside, or an evaluation error.
    pub fn as_bool(&self) -> Result<bool> {
        match self {
            Value::Bool(b) => Ok(*b),
            other => error(format!("expected a bool, found {}", kind_name(other))),
        }
    }

    /// The int inside, or an evaluation error.
    pub fn as_int(&self) -> Result<i64> {
        match self {
            Value::Int(n) => Ok(*n),
            other => error(format!("expected an int, found {}", kind_name(other))),
        }
    }

    /// The string inside, or an evaluation error.
    pub fn as_string(&self) -> Result<Arc<str>> {
        match self {
            Value::String(s) => Ok(s.clone()),
            other => error(format!("expected a string, found {}", kind_name(other))),
        }
    }
}
