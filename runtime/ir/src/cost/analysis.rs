//! The analysis: bounds the size of every node's value and the steps of
//! every node's evaluation, body by body, in node order (operands come
//! first), and assembles a policy's steps from its rules.
//!
//! **Loops.** The elements of a collection differ in size, and bounding
//! each by the largest would turn a pass over the findings of a text (each
//! as long as the text, in the worst case) into a quadratic bound. So the
//! element of each loop gets a variable `e` of its own: the slot holding it
//! is bounded by `e` (besides its element type's bounds), the body is
//! bounded as a polynomial in `e`, and the loop sums the body over the
//! elements with what is known of them: at most `C` of them, each of weight
//! at most `E`, weighing `T` in all. A body term `q·e^k` sums to at most
//! `q·E^(k-1)·T` (and a term free of `e` to `q·C`).
//!
//! **Slots** are bound by their binders (the input, local lets, `?.`, loop
//! elements); a binder may read slots bound by others, so slot sizes are
//! found by repeating the size pass until nothing changes.
//!
//! **Policy calls** are not memoized by the engines, so a call's steps are
//! counted where it is called, with the callee bounded for the size of the
//! input it is given (memoized per policy and input size).
//!
//! **Lets** are computed at most once per evaluation (or at load): their
//! steps are added once to each entrypoint that reaches them.

use std::collections::HashMap;
use std::rc::Rc;

use crate::builtins::Builtin;
use crate::ir::{
    Action, BinaryOp, Body, CollectionKind, Const, DecisionMember, FindingField, NodeId, Op,
    PolicyKind, Program, QuantKind,
};

use super::poly::{Poly, Var};
use super::size::{CollSize, DecisionSize, Size};
use super::work::{Measures, binary_work, builtin_work, decision_cost, set_literal_work};

/// How many times a body's size pass may repeat before its slots are
/// given up as unknown.
const MAX_PASSES: usize = 12;

/// The most nodes the analysis visits for one program, counting repeats,
/// besides [`WORK_PER_NODE`] per node of the program; beyond this
/// everything left is unbounded (a refusal, never a wrong bound). This
/// bounds the time a hostile bundle can make loading take. The whole
/// standard library takes about 20,000.
const MAX_WORK: u64 = 1_000_000;

/// Visits allowed per node of the program, on top of [`MAX_WORK`].
const WORK_PER_NODE: u64 = 64;

/// The deepest chain of policy calls analyzed; deeper is unbounded.
const MAX_CALL_DEPTH: usize = 200;

/// An evaluation error's message is at most this many bytes plus the
/// policies' names and four times the longest regex or glob pattern (a
/// pattern error quotes the pattern).
const ERROR_BASE: u64 = 4096;

/// Where a slot's value comes from.
#[derive(Debug, Clone)]
enum Source {
    /// A given size (the policy's input).
    Fixed(Size),
    /// A node's value (a local let, the value of `?.`).
    Node(NodeId),
    /// A part of each element of a collection, bounded by the loop's
    /// variable.
    Part {
        collection: NodeId,
        over: CollectionKind,
        part: Part,
        var: Var,
    },
}

#[derive(Debug, Clone, Copy)]
enum Part {
    /// A list's or set's element.
    Elem,
    /// A list's index.
    Index,
    /// A map's key.
    MapKey,
    /// A map's value.
    MapValue,
}

/// What is known of a let.
#[derive(Debug, Clone)]
enum LetState {
    /// Not analyzed yet.
    Pending,
    /// Being analyzed (a cycle, which a verified program does not have).
    InProgress,
    /// Known before evaluations start: its value's size; no steps.
    Known(Size),
    /// Computed during an evaluation.
    Computed { size: Size, cost: Poly },
}

/// A policy bounded for one input size.
#[derive(Debug)]
pub(super) struct PolicyResult {
    /// Steps of one evaluation (its lets excluded).
    pub(super) cost: Poly,
    /// The decision a caller sees.
    pub(super) decision: DecisionSize,
}

/// One body's sizes and steps, per node.
struct BodyResult {
    sizes: Vec<Size>,
    costs: Vec<Poly>,
}

/// The analysis of one program.
pub(super) struct Analyzer<'p> {
    program: &'p Program,
    params: Vec<Size>,
    lets: Vec<LetState>,
    memo: HashMap<(u32, Size), Rc<PolicyResult>>,
    /// The largest pattern length seen in the lets (their errors surface
    /// in whichever policy reads them).
    let_patterns: Poly,
    /// Every loop variable made, with the bound of its element's weight.
    var_bounds: HashMap<Var, Poly>,
    next_var: u32,
    work: u64,
    /// The most `work` allowed for this program.
    max_work: u64,
    depth: usize,
    /// The bytes of every policy's name (each call nesting prefixes one to
    /// an error).
    names: u64,
    /// For each definition (lets, then policies), the lets computed per
    /// evaluation it may compute (see [`reach_table`]), once needed.
    reach: Option<Vec<Vec<u64>>>,
}

impl<'p> Analyzer<'p> {
    /// An analyzer with the params' sizes and the sizes of the lets known
    /// before evaluation (`None` for a let computed per evaluation).
    pub(super) fn new(program: &'p Program, params: &[Size], lets: &[Option<Size>]) -> Self {
        let nodes = program
            .lets
            .iter()
            .map(|l| &l.value)
            .chain(program.policies.iter().map(|p| &p.body))
            .fold(0u64, |acc, b| acc.saturating_add(b.nodes.len() as u64));
        let names = program.policies.iter().fold(0u64, |acc, p| {
            acc.saturating_add(p.name.len() as u64).saturating_add(2)
        });
        let mut analyzer = Analyzer {
            program,
            params: (0..program.params.len())
                .map(|i| params.get(i).cloned().unwrap_or(Size::Unknown))
                .collect(),
            lets: (0..program.lets.len())
                .map(|i| match lets.get(i) {
                    Some(Some(size)) => LetState::Known(size.clone()),
                    _ => LetState::Pending,
                })
                .collect(),
            memo: HashMap::new(),
            let_patterns: Poly::zero(),
            var_bounds: HashMap::new(),
            next_var: 3,
            work: 0,
            max_work: MAX_WORK.saturating_add(nodes.saturating_mul(WORK_PER_NODE)),
            depth: 0,
            names,
            reach: None,
        };
        // Every let first, so the bound on error messages (which may come
        // from any let) is known before any policy is analyzed.
        for index in 0..program.lets.len() {
            analyzer.let_result(index as u32);
        }
        analyzer
    }

    /// The steps of one evaluation of entrypoint `policy` on an input of
    /// its type, its lets included, over the input's variables only.
    pub(super) fn entry(&mut self, policy: u32) -> Poly {
        let Some(p) = self.program.policies.get(policy as usize) else {
            return Poly::infinite();
        };
        let result = self.policy_result(policy, &Size::input(&p.input));
        let mut cost = result.cost.clone();
        for index in self.reachable_lets(policy) {
            if let LetState::Computed { cost: c, .. } = &self.lets[index] {
                cost = cost.add(c);
            }
        }
        self.close(&cost)
    }

    fn fresh_var(&mut self) -> Var {
        let v = Var(self.next_var);
        self.next_var = self.next_var.saturating_add(1);
        v
    }

    /// `p` with every loop variable replaced by the bound of its element
    /// (left over only where a value escapes its loop, which a verified
    /// program does not let happen; an unknown variable is unbounded).
    fn close(&self, p: &Poly) -> Poly {
        let mut p = p.clone();
        for _ in 0..64 {
            let locals: Vec<Var> = p.vars().into_iter().filter(|v| !v.is_input()).collect();
            let Some(&v) = locals.last() else {
                return p;
            };
            p = match self.var_bounds.get(&v) {
                Some(bound) => p.subst(v, bound),
                None => return Poly::infinite(),
            };
        }
        Poly::infinite()
    }

    /// The lets an evaluation of `policy` may compute (those not known at
    /// load): read by it, by the policies it calls, or by those lets,
    /// transitively. Found once for every definition, as bitsets over the
    /// lets computed per evaluation (usually none).
    fn reachable_lets(&mut self, policy: u32) -> Vec<usize> {
        let program = self.program;
        let computed: Vec<usize> = (0..program.lets.len())
            .filter(|i| matches!(self.lets[*i], LetState::Computed { .. }))
            .collect();
        if computed.is_empty() {
            return Vec::new();
        }
        if self.reach.is_none() {
            self.reach = Some(reach_table(program, &computed));
        }
        let Some(reach) = &self.reach else {
            return Vec::new();
        };
        let Some(bits) = reach.get(program.lets.len() + policy as usize) else {
            return Vec::new();
        };
        computed
            .iter()
            .enumerate()
            .filter(|(bit, _)| bits[bit / 64] & (1 << (bit % 64)) != 0)
            .map(|(_, index)| *index)
            .collect()
    }

    fn let_result(&mut self, index: u32) -> (Size, Poly) {
        let Some(state) = self.lets.get(index as usize) else {
            return (Size::Unknown, Poly::infinite());
        };
        match state {
            LetState::Known(size) => return (size.clone(), Poly::zero()),
            LetState::Computed { size, cost } => return (size.clone(), cost.clone()),
            LetState::InProgress => return (Size::Unknown, Poly::infinite()),
            LetState::Pending => {}
        }
        self.lets[index as usize] = LetState::InProgress;
        let body = &self.program.lets[index as usize].value;
        let (size, cost) = match body.root {
            Some(root) => {
                let mut patterns = Vec::new();
                let result = self.body(body, Vec::new(), &mut patterns);
                for p in patterns {
                    let p = self.close(&p);
                    self.let_patterns = self.let_patterns.max(&p);
                }
                let size = result.sizes[root.0 as usize].clone();
                let cost = self.close(&result.costs[root.0 as usize]);
                (size, cost)
            }
            None => (Size::Unknown, Poly::infinite()),
        };
        self.lets[index as usize] = LetState::Computed {
            size: size.clone(),
            cost: cost.clone(),
        };
        (size, cost)
    }

    /// Policy `index` evaluated on an input of size `input`.
    pub(super) fn policy_result(&mut self, index: u32, input: &Size) -> Rc<PolicyResult> {
        let key = (index, input.clone());
        if let Some(result) = self.memo.get(&key) {
            return result.clone();
        }
        let result = Rc::new(
            if self.depth >= MAX_CALL_DEPTH || self.work > self.max_work {
                unbounded_policy()
            } else {
                self.depth += 1;
                let result = self.policy_uncached(index, input);
                self.depth -= 1;
                result
            },
        );
        self.memo.insert(key, result.clone());
        result
    }

    fn policy_uncached(&mut self, index: u32, input: &Size) -> PolicyResult {
        let program = self.program;
        let Some(policy) = program.policies.get(index as usize) else {
            return unbounded_policy();
        };
        let mut binders = vec![(0u32, Source::Fixed(input.clone()))];
        for local in &policy.locals {
            binders.push((local.slot.0, Source::Node(local.value)));
        }
        let mut keep_vars = Vec::new();
        for rule in &policy.rules {
            if let Action::Keep {
                collection, elem, ..
            } = &rule.action
            {
                let var = self.fresh_var();
                keep_vars.push(var);
                binders.push((
                    elem.0,
                    Source::Part {
                        collection: *collection,
                        over: CollectionKind::List,
                        part: Part::Elem,
                        var,
                    },
                ));
            }
        }
        let mut patterns = Vec::new();
        let r = self.body(&policy.body, binders, &mut patterns);
        let cost_of = |n: &NodeId| {
            r.costs
                .get(n.0 as usize)
                .cloned()
                .unwrap_or(Poly::infinite())
        };
        let size_of = |n: &NodeId| r.sizes.get(n.0 as usize).cloned().unwrap_or(Size::Unknown);
        let mut cost = Poly::constant(1);
        for local in &policy.locals {
            cost = cost.add(&cost_of(&local.value));
        }
        let mut redactions = CollSize {
            len: Poly::zero(),
            elem: Size::Bottom,
            total: Poly::zero(),
        };
        let mut value = Size::Scalar;
        let mut kept = CollSize {
            len: Poly::zero(),
            elem: Size::Bottom,
            total: Poly::zero(),
        };
        let mut keep_vars = keep_vars.into_iter();
        for rule in &policy.rules {
            let when = rule.when.as_ref().map_or(Poly::zero(), cost_of);
            match &rule.action {
                Action::Keep {
                    collection, limit, ..
                } => {
                    let Some(var) = keep_vars.next() else {
                        return unbounded_policy();
                    };
                    let (count, each, total) =
                        self.loop_bounds(&size_of(collection), CollectionKind::List);
                    self.var_bounds.insert(var, each.clone());
                    let per_element = when.add_const(1);
                    cost = cost
                        .add_const(1)
                        .add(&cost_of(collection))
                        .add(&limit.as_ref().map_or(Poly::zero(), cost_of))
                        .add(&sum_over(&per_element, var, &count, &each, &total));
                    let c = size_of(collection).as_coll(program);
                    kept = CollSize {
                        len: kept.len.add(&c.len),
                        elem: kept.elem.join(&c.elem, program),
                        total: kept.total.add(&c.total),
                    };
                }
                Action::Redact { findings } => {
                    let f = size_of(findings).as_coll(program);
                    cost = cost
                        .add_const(1)
                        .add(&when)
                        .add(&cost_of(findings))
                        .add(&f.len);
                    redactions = CollSize {
                        len: redactions.len.add(&f.len),
                        elem: redactions.elem.join(&f.elem, program),
                        total: redactions.total.add(&f.total),
                    };
                }
                Action::Return { value: v } => {
                    cost = cost.add_const(1).add(&when).add(&cost_of(v));
                    value = value.join(&size_of(v), program);
                }
                Action::Allow | Action::Deny | Action::RequireApproval | Action::Alert { .. } => {
                    cost = cost.add_const(1).add(&when);
                }
            }
        }
        match &policy.kind {
            PolicyKind::Value { value: v, .. } => {
                cost = cost.add(&cost_of(v));
                value = value.join(&size_of(v), program);
            }
            PolicyKind::Filter { .. } => {
                value = Size::Seq(Box::new(kept));
            }
            PolicyKind::Decision { .. } => {}
        }
        let mut pattern = self.let_patterns.clone();
        for p in patterns {
            pattern = pattern.max(&p);
        }
        let error = Poly::constant(ERROR_BASE.saturating_add(self.names)).add(&pattern.scale(4));
        PolicyResult {
            cost,
            decision: DecisionSize {
                rules: decision_cost(policy),
                redactions,
                error,
                value,
            },
        }
    }

    /// The number of elements, the largest element weight and the total
    /// weight of a collection iterated `over`.
    fn loop_bounds(&self, collection: &Size, over: CollectionKind) -> (Poly, Poly, Poly) {
        let program = self.program;
        match over {
            CollectionKind::List | CollectionKind::Set => {
                let c = collection.as_coll(program);
                (c.len, c.elem.weight(), c.total)
            }
            CollectionKind::Map => {
                let m = collection.as_map(program);
                let each = m.key.add(&m.value.weight()).add_const(1);
                (m.len, each, m.total)
            }
        }
    }

    /// Sizes and steps of every node of `body`, with its slots bound by
    /// `binders` (besides those its own nodes bind). Pattern lengths of
    /// the builtins it calls are added to `patterns`.
    fn body(
        &mut self,
        body: &Body,
        mut binders: Vec<(u32, Source)>,
        patterns: &mut Vec<Poly>,
    ) -> BodyResult {
        // Each loop's element gets a variable of its own, newer for inner
        // loops: a loop's body precedes it, so they are made from the last
        // node back (bounds prefer the newest variable, which the innermost
        // loop sums away first).
        let mut vars: HashMap<usize, Var> = HashMap::new();
        for (index, node) in body.nodes.iter().enumerate().rev() {
            match &node.op {
                Op::Quant {
                    over,
                    collection,
                    key,
                    elem,
                    ..
                } => {
                    let var = self.fresh_var();
                    vars.insert(index, var);
                    let part = |part| Source::Part {
                        collection: *collection,
                        over: *over,
                        part,
                        var,
                    };
                    match (over, key) {
                        (CollectionKind::Map, Some(k)) => {
                            binders.push((k.0, part(Part::MapKey)));
                            binders.push((elem.0, part(Part::MapValue)));
                        }
                        (CollectionKind::Map, None) => binders.push((elem.0, part(Part::MapKey))),
                        (_, key) => {
                            if let Some(k) = key {
                                binders.push((k.0, part(Part::Index)));
                            }
                            binders.push((elem.0, part(Part::Elem)));
                        }
                    }
                }
                Op::IfPresent { value, slot, .. } => binders.push((slot.0, Source::Node(*value))),
                _ => {}
            }
        }
        let mut slots = vec![Size::Bottom; body.slots.len()];
        let mut sizes = self.sizes(body, &slots, &vars);
        let mut settled = false;
        for _ in 0..MAX_PASSES {
            let bound = self.bind(&binders, &sizes, slots.len());
            if bound == slots {
                settled = true;
                break;
            }
            slots = bound;
            sizes = self.sizes(body, &slots, &vars);
        }
        if !settled {
            // Give up on every slot a node binds; the input stays.
            for (slot, source) in &binders {
                if !matches!(source, Source::Fixed(_))
                    && let Some(s) = slots.get_mut(*slot as usize)
                {
                    *s = Size::Unknown;
                }
            }
            sizes = self.sizes(body, &slots, &vars);
        }
        let costs = self.costs(body, &sizes, &vars, patterns);
        BodyResult { sizes, costs }
    }

    /// Slot sizes from their binders, given the nodes' sizes.
    fn bind(&self, binders: &[(u32, Source)], sizes: &[Size], slots: usize) -> Vec<Size> {
        let program = self.program;
        let mut out = vec![Size::Bottom; slots];
        let node = |n: &NodeId| sizes.get(n.0 as usize).cloned().unwrap_or(Size::Unknown);
        for (slot, source) in binders {
            let size = match source {
                Source::Fixed(size) => size.clone(),
                Source::Node(n) => node(n),
                Source::Part {
                    collection,
                    over,
                    part,
                    var,
                } => {
                    let cap = Poly::var(*var);
                    let c = node(collection);
                    match (over, part) {
                        (CollectionKind::Map, Part::MapKey) => {
                            Size::str(c.as_map(program).key.min(&cap))
                        }
                        (CollectionKind::Map, _) => c.as_map(program).value.cap(&cap),
                        (_, Part::Index) => Size::Scalar,
                        (_, _) => c.as_coll(program).elem.cap(&cap),
                    }
                }
            };
            if let Some(s) = out.get_mut(*slot as usize) {
                *s = s.join(&size, program);
            }
        }
        out
    }

    /// The size of every node's value, given the slots'.
    fn sizes(&mut self, body: &Body, slots: &[Size], vars: &HashMap<usize, Var>) -> Vec<Size> {
        let mut sizes: Vec<Size> = Vec::with_capacity(body.nodes.len());
        for index in 0..body.nodes.len() {
            self.work = self.work.saturating_add(1);
            let size = if self.work > self.max_work {
                Size::Unknown
            } else {
                self.node_size(body, index, &sizes, slots, vars)
            };
            sizes.push(size);
        }
        sizes
    }

    fn node_size(
        &mut self,
        body: &Body,
        index: usize,
        sizes: &[Size],
        slots: &[Size],
        vars: &HashMap<usize, Var>,
    ) -> Size {
        let program = self.program;
        let get = |n: &NodeId| sizes.get(n.0 as usize).cloned().unwrap_or(Size::Unknown);
        match &body.nodes[index].op {
            Op::Const(Const::String(s)) => Size::exact_str(s.len() as u64),
            Op::Const(Const::Int(n)) => Size::IntAtLeast(*n),
            Op::Const(_) | Op::Now | Op::Unary { .. } | Op::IntToFloat(_) | Op::Fired { .. } => {
                Size::Scalar
            }
            Op::Local(slot) => slots.get(slot.0 as usize).cloned().unwrap_or(Size::Unknown),
            Op::Let(i) => self.let_result(*i).0,
            Op::Param(i) => self
                .params
                .get(*i as usize)
                .cloned()
                .unwrap_or(Size::Unknown),
            Op::Field { base, index } => get(base).field(*index, program),
            Op::FindingField { base, field } => {
                let f = get(base).as_finding(program);
                match field {
                    FindingField::Kind => Size::str(f.kind),
                    FindingField::Text => Size::str(f.text),
                    FindingField::Start | FindingField::End => Size::Scalar,
                }
            }
            Op::DecisionMember { base, member } => {
                let d = get(base).as_decision();
                let rules = Poly::constant(d.rules);
                match member {
                    DecisionMember::Allowed
                    | DecisionMember::Denied
                    | DecisionMember::RequiresApproval
                    | DecisionMember::Alerted => Size::Scalar,
                    DecisionMember::Reasons => {
                        Size::seq(rules.clone(), Size::str(rules.clone()), rules)
                    }
                    DecisionMember::Redactions => Size::Seq(Box::new(d.redactions)),
                    DecisionMember::Error => Size::str(d.error),
                    DecisionMember::Value => d.value,
                }
            }
            Op::IfPresent { then, .. } => get(then),
            Op::Index { base, on, .. } => match on {
                CollectionKind::Map => get(base).as_map(program).value,
                _ => get(base).as_coll(program).elem,
            },
            Op::Coalesce { value, default } => get(value).join(&get(default), program),
            Op::Binary { op, lhs, rhs } => match op {
                BinaryOp::Concat => {
                    let (a, b) = (get(lhs).as_str(program), get(rhs).as_str(program));
                    Size::Str(super::size::StrSize {
                        max: a.max.add(&b.max),
                        min: a.min.saturating_add(b.min),
                    })
                }
                BinaryOp::ConcatLists => {
                    let (a, b) = (get(lhs).as_coll(program), get(rhs).as_coll(program));
                    Size::seq(
                        a.len.add(&b.len),
                        a.elem.join(&b.elem, program),
                        a.total.add(&b.total),
                    )
                }
                _ => Size::Scalar,
            },
            Op::If {
                then, otherwise, ..
            } => get(then).join(&get(otherwise), program),
            Op::Quant {
                kind,
                over,
                collection,
                body: each,
                ..
            } => match kind {
                QuantKind::Any | QuantKind::All | QuantKind::Count => Size::Scalar,
                QuantKind::Filter => get(collection),
                QuantKind::Map => {
                    let Some(&var) = vars.get(&index) else {
                        return Size::Unknown;
                    };
                    let (count, each_weight, total) = self.loop_bounds(&get(collection), *over);
                    let result = get(each);
                    let weights = sum_over(&result.weight(), var, &count, &each_weight, &total);
                    Size::seq(count, result.subst(var, &each_weight), weights)
                }
            },
            Op::List(items) | Op::Set(items) => {
                let mut elem = Size::Bottom;
                let mut total = Poly::zero();
                for item in items {
                    let s = get(item);
                    total = total.add(&s.weight());
                    elem = elem.join(&s, program);
                }
                Size::seq(Poly::constant(items.len() as u64), elem, total)
            }
            Op::Map(entries) => {
                let mut value = Size::Bottom;
                let mut total = Poly::zero();
                let mut key = 0u64;
                for (k, v) in entries {
                    let s = get(v);
                    key = key.max(k.len() as u64);
                    total = total.add(&s.weight()).add_const(1 + k.len() as u64);
                    value = value.join(&s, program);
                }
                Size::map(
                    Poly::constant(entries.len() as u64),
                    Poly::constant(key),
                    value,
                    total,
                )
            }
            Op::Record { fields, .. } => Size::Record(
                fields
                    .iter()
                    .map(|f| f.as_ref().map_or(Size::Scalar, get))
                    .collect(),
            ),
            Op::Finding { kind, text, .. } => Size::finding(
                get(kind).as_str(program).max,
                text.as_ref()
                    .map_or(Poly::zero(), |t| get(t).as_str(program).max),
            ),
            Op::Builtin { id, args } => {
                let args: Vec<Size> = args.iter().map(get).collect();
                self.builtin_result(*id, &args)
            }
            Op::CallPolicy { policy, input } => Size::Decision(Box::new(
                self.policy_result(*policy, &get(input)).decision.clone(),
            )),
        }
    }

    /// The steps of evaluating each node once (its operands included).
    fn costs(
        &mut self,
        body: &Body,
        sizes: &[Size],
        vars: &HashMap<usize, Var>,
        patterns: &mut Vec<Poly>,
    ) -> Vec<Poly> {
        let program = self.program;
        let mut costs: Vec<Poly> = Vec::with_capacity(body.nodes.len());
        for (index, node) in body.nodes.iter().enumerate() {
            self.work = self.work.saturating_add(1);
            if self.work > self.max_work {
                costs.push(Poly::infinite());
                continue;
            }
            let size = |n: &NodeId| sizes.get(n.0 as usize).cloned().unwrap_or(Size::Unknown);
            let cost = |n: &NodeId| costs.get(n.0 as usize).cloned().unwrap_or(Poly::infinite());
            let measures = |n: &NodeId| super::measures(&size(n), program);
            let operands = || {
                node.op
                    .operands()
                    .iter()
                    .fold(Poly::zero(), |acc, o| acc.add(&cost(o)))
            };
            let step = Poly::constant(1);
            let total = match &node.op {
                Op::If {
                    cond,
                    then,
                    otherwise,
                } => step.add(&cost(cond)).add(&cost(then).max(&cost(otherwise))),
                Op::Quant {
                    kind,
                    over,
                    collection,
                    body: each,
                    ..
                } => {
                    let Some(&var) = vars.get(&index) else {
                        costs.push(Poly::infinite());
                        continue;
                    };
                    let (count, each_weight, all) = self.loop_bounds(&size(collection), *over);
                    self.var_bounds.insert(var, each_weight.clone());
                    let per_element = cost(each).add_const(1);
                    let mut c = step.add(&cost(collection)).add(&sum_over(
                        &per_element,
                        var,
                        &count,
                        &each_weight,
                        &all,
                    ));
                    if *kind == QuantKind::Filter && *over == CollectionKind::Map {
                        // Kept entries are inserted by key.
                        c = c.add(&all);
                    }
                    c
                }
                Op::DecisionMember { base, member } => {
                    let d = size(base).as_decision();
                    let work = match member {
                        DecisionMember::Reasons
                        | DecisionMember::RequiresApproval
                        | DecisionMember::Alerted => Poly::constant(d.rules),
                        DecisionMember::Redactions => d.redactions.len,
                        DecisionMember::Error => d.error,
                        DecisionMember::Allowed
                        | DecisionMember::Denied
                        | DecisionMember::Value => Poly::zero(),
                    };
                    step.add(&operands()).add(&work)
                }
                Op::Fired { base, .. } => {
                    let d = size(base).as_decision();
                    step.add(&operands())
                        .add(&Poly::constant(d.rules.saturating_mul(2)))
                }
                Op::Index { index: key, on, .. } => {
                    let work = match on {
                        CollectionKind::Map => measures(key).len,
                        _ => Poly::zero(),
                    };
                    step.add(&operands()).add(&work)
                }
                Op::Binary { op, lhs, rhs } => {
                    step.add(&operands())
                        .add(&binary_work(*op, &measures(lhs), &measures(rhs)))
                }
                Op::List(items) => step
                    .add(&operands())
                    .add(&Poly::constant(items.len() as u64)),
                Op::Set(items) => {
                    let weights: Vec<Poly> = items.iter().map(|i| measures(i).weight).collect();
                    step.add(&operands()).add(&set_literal_work(&weights))
                }
                Op::Map(entries) => {
                    let keys = entries
                        .iter()
                        .fold(0u64, |acc, (k, _)| acc.saturating_add(1 + k.len() as u64));
                    step.add(&operands()).add(&Poly::constant(keys))
                }
                Op::Record { fields, .. } => step
                    .add(&operands())
                    .add(&Poly::constant(fields.len() as u64)),
                Op::Builtin { id, args } => {
                    let arg_measures: Vec<Measures<Poly>> = args.iter().map(measures).collect();
                    let result = super::measures(&sizes[index], program);
                    if let Some(pattern) = pattern_arg(*id, &arg_measures) {
                        patterns.push(pattern);
                    }
                    step.add(&operands())
                        .add(&builtin_work(*id, &arg_measures, &result))
                }
                Op::CallPolicy { policy, input } => {
                    let callee = self.policy_result(*policy, &size(input));
                    step.add(&operands()).add(&callee.cost)
                }
                Op::Const(_)
                | Op::Local(_)
                | Op::Let(_)
                | Op::Param(_)
                | Op::Now
                | Op::Field { .. }
                | Op::FindingField { .. }
                | Op::IfPresent { .. }
                | Op::Coalesce { .. }
                | Op::Unary { .. }
                | Op::IntToFloat(_)
                | Op::Finding { .. } => step.add(&operands()),
            };
            costs.push(total);
        }
        costs
    }

    /// The size of builtin `id`'s result on arguments of these sizes.
    fn builtin_result(&self, id: Builtin, args: &[Size]) -> Size {
        use Builtin as B;
        let program = self.program;
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Size::Unknown);
        let text = || arg(0).as_str(program).max;
        // Detectors find disjoint spans of at least `min_finding_len`
        // bytes; a regex may match the empty string once per position, and
        // once at the end.
        let findings = |kind: u64| {
            let len = text();
            let min = match (id, args.get(1)) {
                (B::SecretsHighEntropy, Some(Size::IntAtLeast(n))) => (*n).max(1) as u64,
                _ => super::work::min_finding_len(id),
            };
            let count = if min == 0 {
                len.add_const(1)
            } else {
                len.div(min)
            };
            Size::seq(
                count.clone(),
                Size::finding(Poly::constant(kind), len.clone()),
                count.scale(3 + kind).add(&len),
            )
        };
        match id {
            // Unicode case mapping grows a character's UTF-8 to at most
            // three times its length.
            B::StrLower | B::StrUpper | B::TextNormalize => Size::str(text().scale(3)),
            B::StrTrim | B::UrlScheme | B::UrlPath => Size::str(text()),
            // Lowercased, and a numeric IPv4 or IPv6 host written out in
            // full.
            B::UrlHost => Size::str(text().scale(3).add_const(45)),
            B::StrFindAll => findings("match".len() as u64),
            B::PiiScan
            | B::PiiEmails
            | B::PiiPhones
            | B::PiiSsns
            | B::PiiIbans
            | B::PiiCards
            | B::PiiIps => findings(5),
            B::SecretsScan => findings("aws_access_key".len() as u64),
            B::SecretsHighEntropy => findings("high_entropy".len() as u64),
            B::StrSplit => {
                let len = text();
                Size::seq(
                    len.add_const(1),
                    Size::str(len.clone()),
                    len.scale(2).add_const(1),
                )
            }
            B::StrReplace => {
                let len = text();
                let (from, to) = (arg(1).as_str(program), arg(2).as_str(program));
                // At most `len / |from|` occurrences, each growing by at
                // most `|to|` (an empty `from` changes nothing).
                let grows = match to.max.as_constant() {
                    Some(t) if t <= from.min as f64 => Poly::zero(),
                    _ => len.mul(&to.max).div(from.min.max(1)),
                };
                Size::str(len.add(&grows))
            }
            B::ListFirst | B::ListLast => arg(0).as_coll(program).elem,
            B::MapKeys => {
                let m = arg(0).as_map(program);
                Size::seq(m.len, Size::str(m.key), m.total)
            }
            B::MapValues => {
                let m = arg(0).as_map(program);
                Size::seq(m.len, m.value, m.total)
            }
            B::TextJoin => {
                let parts = arg(0).as_coll(program);
                let separator = arg(1).as_str(program).max;
                Size::str(parts.total.add(&parts.len.mul(&separator)))
            }
            B::TextRedact => {
                let findings = arg(1).as_coll(program);
                Size::str(
                    text()
                        .add(&findings.len.scale("[REDACTED:]".len() as u64))
                        .add(&findings.total),
                )
            }
            B::StrLen
            | B::StrCharCount
            | B::StrContains
            | B::StrStartsWith
            | B::StrEndsWith
            | B::StrContainsAny
            | B::StrMatches
            | B::StrMatchesAny
            | B::StrWordCount
            | B::StrTokenCount
            | B::CollLen
            | B::CollIsEmpty
            | B::CollContains
            | B::CollIntersects
            | B::CollIsSubset
            | B::CollSum
            | B::CollMin
            | B::CollMax
            | B::MapLen
            | B::MapIsEmpty
            | B::MapContainsKey
            | B::IntAbs
            | B::IntToFloat
            | B::FloatAbs
            | B::FloatFloor
            | B::FloatCeil
            | B::FloatRound
            | B::DurationSeconds
            | B::DurationMillis
            | B::TimestampUnixSeconds
            | B::TextEntropy
            | B::UrlIsValid
            | B::UrlPort
            | B::UrlHostMatches
            | B::GlobMatches
            | B::GlobMatchesAny
            | B::TimeParse
            | B::TimeParseDuration => Size::Scalar,
        }
    }
}

/// For every definition (lets by index, then policies), a bitset over
/// `computed` (lets computed per evaluation): those it reads, directly or
/// through the lets it reads and the policies it calls. One iterative
/// depth-first pass; definitions form no cycle (the verifier checks), and
/// a cycle in a hand-made program only loses the edge that closes it.
fn reach_table(program: &Program, computed: &[usize]) -> Vec<Vec<u64>> {
    let lets = program.lets.len();
    let total = lets + program.policies.len();
    let words = computed.len().div_ceil(64);
    let bit_of: HashMap<usize, usize> = computed.iter().enumerate().map(|(b, i)| (*i, b)).collect();
    let body = |d: usize| -> &Body {
        if d < lets {
            &program.lets[d].value
        } else {
            &program.policies[d - lets].body
        }
    };
    let edges = |d: usize| -> Vec<usize> {
        let mut out: Vec<usize> = body(d)
            .nodes
            .iter()
            .filter_map(|n| match n.op {
                Op::Let(i) if (i as usize) < lets => Some(i as usize),
                Op::CallPolicy { policy, .. } if (policy as usize) < program.policies.len() => {
                    Some(lets + policy as usize)
                }
                _ => None,
            })
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    };
    let mut reach = vec![vec![0u64; words]; total];
    // 0 unvisited, 1 on the stack, 2 done.
    let mut state = vec![0u8; total];
    for start in 0..total {
        if state[start] != 0 {
            continue;
        }
        let mut stack = vec![(start, edges(start), 0usize)];
        state[start] = 1;
        while let Some((d, out, next)) = stack.last_mut() {
            if let Some(&to) = out.get(*next) {
                *next += 1;
                if state[to] == 0 {
                    state[to] = 1;
                    let e = edges(to);
                    stack.push((to, e, 0));
                }
                continue;
            }
            let d = *d;
            let mut bits = vec![0u64; words];
            if let Some(b) = bit_of.get(&d) {
                bits[b / 64] |= 1 << (b % 64);
            }
            for &to in out.iter() {
                if state[to] == 2 {
                    for (w, x) in bits.iter_mut().zip(&reach[to]) {
                        *w |= x;
                    }
                }
            }
            reach[d] = bits;
            state[d] = 2;
            stack.pop();
        }
    }
    reach
}

/// The bound of a policy that could not be analyzed.
fn unbounded_policy() -> PolicyResult {
    PolicyResult {
        cost: Poly::infinite(),
        decision: Size::Unknown.as_decision(),
    }
}

/// `Σ per(e_i)` over at most `count` elements, each of weight at most
/// `each`, weighing `total` in all, where `per` is a polynomial in the
/// element's variable `v` (see the module documentation).
fn sum_over(per: &Poly, v: Var, count: &Poly, each: &Poly, total: &Poly) -> Poly {
    if per.is_infinite() {
        return Poly::infinite();
    }
    let mut out = Poly::zero();
    for (k, q) in per.powers_of(v) {
        let term = if k == 0 {
            q.mul(count)
        } else {
            q.mul(&each.pow(k - 1)).mul(total)
        };
        out = out.add(&term);
    }
    out
}

/// The length of the regex or glob pattern a builtin compiles, if any (a
/// bad pattern's error message quotes it).
fn pattern_arg(id: Builtin, args: &[Measures<Poly>]) -> Option<Poly> {
    use Builtin as B;
    let arg = |i: usize| args.get(i);
    match id {
        B::StrMatches | B::StrFindAll => arg(1).map(|m| m.len.clone()),
        B::StrMatchesAny => arg(1).map(|m| m.item.clone()),
        B::GlobMatches => arg(0).map(|m| m.len.clone()),
        B::GlobMatchesAny => arg(0).map(|m| m.item.clone()),
        _ => None,
    }
}
