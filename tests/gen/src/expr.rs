//! Expressions generated for a wanted type.
//!
//! Every expression is generated *for* a type, in one of two modes:
//!
//! * **exact**: the expression's static type must be exactly the wanted
//!   type, and the context supplies no expected type (the left side of a
//!   comparison, a method receiver, an operand, an unannotated `let`). Forms
//!   that need an expected type (`none`, empty collections, record literals,
//!   ambiguous bare variants) are not used, and `int` does not stand for
//!   `float`.
//! * **flex** (`flex == true`): the context supplies the wanted type as the
//!   expected type and only needs the value to fit it (an annotated `let`, a
//!   record field, an argument, a `return` value, the right side of `==`).
//!   `none`, `[]`, `{}`, record literals and `int` for `float` are allowed.
//!
//! Compound expressions are printed in parentheses, so precedence never
//! decides anything; a generated expression is always an atom (a name, a
//! path, a literal, a call) or parenthesized, and may take a postfix.

use std::rc::Rc;

use pol_ir::builtins::{BUILTINS, Builtin, BuiltinSig, Receiver, TypePattern};

use crate::Gen;
use crate::model::{Cx, Kind, Local, Path, Ty};
use crate::pools;

/// The expression forms, named as counted in the coverage statistics.
pub const EXPR_FORMS: &[&str] = &[
    "lit_bool",
    "lit_int",
    "lit_int_extreme",
    "lit_int_underscore",
    "lit_float",
    "float_nan_inf",
    "lit_string",
    "lit_raw_string",
    "lit_duration",
    "lit_timestamp",
    "now",
    "none",
    "widen_int_float",
    "enum_qualified",
    "enum_bare",
    "enum_imported",
    "list_literal",
    "set_literal",
    "map_literal",
    "empty_collection",
    "record_literal",
    "finding_literal",
    "var_input",
    "var_local",
    "var_quant",
    "var_keep",
    "var_param",
    "var_let",
    "var_imported",
    "field_access",
    "opt_chain",
    "decision_member_path",
    "if_then_else",
    "coalesce",
    "index_list",
    "index_map",
    "opt_index",
    "opt_field",
    "opt_method",
    "arith_int",
    "arith_float",
    "arith_mixed",
    "div_mod",
    "neg",
    "concat_string",
    "concat_list",
    "duration_arith",
    "timestamp_arith",
    "timestamp_diff",
    "cmp_eq",
    "cmp_ord",
    "cmp_none",
    "and",
    "or",
    "not",
    "in_list",
    "in_set",
    "in_map",
    "in_string",
    "not_in",
    "any",
    "all",
    "count",
    "filter",
    "map",
    "quant_two_vars",
    "opt_on_non_optional",
    "shadowing_local",
    "redundant_parens",
    "bare_operand",
    "line_break",
    "neg_literal_folded",
    "builtin_method",
    "builtin_module",
    "regex_literal",
    "regex_dynamic",
    "policy_call",
    "policy_call_imported",
    "decision_allowed",
    "decision_denied",
    "decision_requires_approval",
    "decision_alerted",
    "decision_reasons",
    "decision_redactions",
    "decision_error",
    "decision_value",
    "decision_fired",
];

/// Binding levels, loosest first: a prefix form (`if`, a quantifier)
/// extends as far right as it can, so it is bare only where the context
/// ends it (an argument, an element, a condition).
pub(crate) const PREFIX: u8 = 0;
const OR: u8 = 1;
const AND: u8 = 2;
const NOT: u8 = 3;
const CMP: u8 = 4;
/// `??`; also the least a quantifier's or `keep`'s collection may be.
pub(crate) const COALESCE: u8 = 5;
const ADD: u8 = 6;
const MUL: u8 = 7;
const NEG: u8 = 8;
/// Names, literals, calls, postfix chains, parenthesized expressions.
pub(crate) const ATOM: u8 = 9;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Leaf,
    If,
    Coalesce,
    Index,
    OptMember,
    Builtin,
    Call,
    Arith,
    Neg,
    Concat,
    ListConcat,
    DurArith,
    TsArith,
    Cmp,
    Logic,
    Not,
    In,
    Any,
    All,
    Count,
    Filter,
    MapQ,
    Fired,
}

impl Gen<'_, '_> {
    // ------------------------------------------------------------ scope

    /// Every value reachable in `cx` by name and field access (a few hops).
    pub(crate) fn paths(&self, cx: &mut Cx) -> Rc<Vec<Path>> {
        if let Some(p) = &cx.paths {
            return p.clone();
        }
        let mut roots = Vec::new();
        if !cx.literal_only {
            for l in &cx.locals {
                roots.push(Path {
                    src: l.name.clone(),
                    ty: l.ty.clone(),
                    walk: l.ty.clone(),
                    origin: l.origin,
                    root: l.role,
                    imported: false,
                    chained: false,
                    hops: 0,
                    decision_member: false,
                });
            }
            if cx.params {
                for p in &self.m.params {
                    if self.m.visible(p.pkg, cx.pkg) && !cx.shadows(p.pkg, &p.name) {
                        roots.push(Path {
                            src: format!("{}{}", self.m.prefix(p.pkg, cx.file), p.name),
                            ty: p.ty.clone(),
                            walk: p.ty.clone(),
                            origin: None,
                            root: "param",
                            imported: p.pkg != cx.pkg,
                            chained: false,
                            hops: 0,
                            decision_member: false,
                        });
                    }
                }
            }
            for l in self.m.lets.iter().take(cx.lets_before) {
                if self.m.visible(l.pkg, cx.pkg) && !cx.shadows(l.pkg, &l.name) {
                    roots.push(Path {
                        src: format!("{}{}", self.m.prefix(l.pkg, cx.file), l.name),
                        ty: l.ty.clone(),
                        walk: l.ty.clone(),
                        origin: None,
                        root: "let",
                        imported: l.pkg != cx.pkg,
                        chained: false,
                        hops: 0,
                        decision_member: false,
                    });
                }
            }
        }
        let mut out = Vec::new();
        let mut frontier = roots;
        for hop in 0..3 {
            let mut next = Vec::new();
            for p in frontier {
                if hop < 2 && out.len() < 600 {
                    let chained = p.chained || p.walk.is_opt();
                    let sep = if p.walk.is_opt() { "?." } else { "." };
                    for (name, fty) in self.m.members(p.walk.strip()) {
                        let ty = if chained {
                            fty.clone().opt()
                        } else {
                            fty.clone()
                        };
                        next.push(Path {
                            src: format!("{}{sep}{name}", p.src),
                            ty,
                            walk: fty,
                            origin: None,
                            root: p.root,
                            imported: p.imported,
                            chained,
                            hops: p.hops + 1,
                            decision_member: p.walk.strip().is_decision(),
                        });
                    }
                }
                out.push(p);
            }
            frontier = next;
        }
        let out = Rc::new(out);
        cx.paths = Some(out.clone());
        out
    }

    fn sources(&self, cx: &mut Cx, want: &Ty) -> Vec<Path> {
        self.paths(cx)
            .iter()
            .filter(|p| &p.ty == want)
            .cloned()
            .collect()
    }

    fn has_source(&self, cx: &mut Cx, want: &Ty) -> bool {
        self.paths(cx).iter().any(|p| &p.ty == want)
    }

    /// Whether an expression of type `want` can be generated in this mode.
    pub(crate) fn can_make(&self, cx: &mut Cx, want: &Ty, flex: bool) -> bool {
        match want {
            Ty::Bool
            | Ty::Int
            | Ty::Float
            | Ty::Str
            | Ty::Duration
            | Ty::Timestamp
            | Ty::Enum(_)
            | Ty::Finding => true,
            Ty::Schema(_) => flex || self.schema_exact(cx, want),
            Ty::Opt(t) => {
                flex || self.can_make(cx, t, false)
                    || self.has_source(cx, want)
                    || self.has_source(cx, &Ty::list((**t).clone()))
                    || self.has_source(cx, &Ty::map((**t).clone()))
            }
            Ty::List(t) | Ty::Set(t) | Ty::Map(t) => {
                flex || self.can_make(cx, t, false) || self.has_source(cx, want)
            }
            Ty::Decision | Ty::ValueDecision(_) => self.has_source(cx, want),
        }
    }

    fn schema_exact(&self, cx: &mut Cx, want: &Ty) -> bool {
        self.has_source(cx, want)
            || self.has_source(cx, &want.clone().opt())
            || self.has_source(cx, &Ty::list(want.clone()))
            || self.has_source(cx, &Ty::map(want.clone()))
    }

    /// A random type for an operand, often the type of a value in scope.
    pub(crate) fn pick_type(
        &mut self,
        cx: &mut Cx,
        pred: &dyn Fn(&Ty) -> bool,
        fallback: Ty,
    ) -> Ty {
        if self.chance(11, 20) {
            let paths = self.paths(cx);
            let candidates: Vec<&Path> = paths
                .iter()
                .filter(|p| !p.ty.has_decision() && pred(&p.ty))
                .collect();
            if !candidates.is_empty() {
                let i = self.below(candidates.len());
                return candidates[i].ty.clone();
            }
        }
        for _ in 0..4 {
            let t = self.menu_type(cx.pkg, 1);
            if pred(&t) && self.can_make(cx, &t, false) {
                return t;
            }
        }
        fallback
    }

    /// A random type visible from package `pkg`, `depth` levels of
    /// collections deep at most.
    pub(crate) fn menu_type(&mut self, pkg: usize, depth: u32) -> Ty {
        let enums: Vec<usize> = (0..self.m.enums.len())
            .filter(|&i| self.m.visible(self.m.enums[i].pkg, pkg))
            .collect();
        let schemas: Vec<usize> = (0..self.m.schemas.len())
            .filter(|&i| self.m.visible(self.m.schemas[i].pkg, pkg))
            .collect();
        let max = if depth == 0 { 9 } else { 14 };
        match self.below(max) {
            0 => Ty::Int,
            1 => Ty::Str,
            2 => Ty::Bool,
            3 => Ty::Float,
            4 => Ty::Duration,
            5 => Ty::Timestamp,
            6 if !enums.is_empty() => Ty::Enum(enums[self.below(enums.len())]),
            7 if !schemas.is_empty() => Ty::Schema(schemas[self.below(schemas.len())]),
            8 => Ty::Finding,
            9 => Ty::list(self.menu_type(pkg, depth - 1)),
            10 => Ty::set(self.menu_type(pkg, depth - 1)),
            11 => Ty::map(self.menu_type(pkg, depth - 1)),
            12 | 13 => self.menu_type(pkg, depth - 1).opt(),
            _ => Ty::Int,
        }
    }

    // ------------------------------------------------------------ entry

    /// An expression of type `want` (see the module documentation for
    /// `flex`). The caller makes sure that [`Gen::can_make`] holds.
    pub(crate) fn expr(&mut self, cx: &mut Cx, want: &Ty, flex: bool, depth: u32) -> String {
        self.expr_min(cx, want, flex, depth, ATOM)
    }

    /// An expression for a position that any expression may take (an
    /// argument, an element, a `let` value, a condition).
    pub(crate) fn expr_any(&mut self, cx: &mut Cx, want: &Ty, flex: bool, depth: u32) -> String {
        self.expr_min(cx, want, flex, depth, PREFIX)
    }

    /// An expression binding at least as tightly as `min` (parenthesized
    /// when it does not, and now and then when it does).
    pub(crate) fn expr_min(
        &mut self,
        cx: &mut Cx,
        want: &Ty,
        flex: bool,
        depth: u32,
        min: u8,
    ) -> String {
        let (s, level) = self.expr_p(cx, want, flex, depth);
        let needed = level < min || (level == PREFIX && min > PREFIX);
        if needed || (level < ATOM && self.chance(1, 8)) {
            if !needed {
                self.hit("redundant_parens");
            }
            format!("({s})")
        } else {
            if level < ATOM && min > PREFIX {
                self.hit("bare_operand");
            }
            s
        }
    }

    /// An expression and its binding level.
    fn expr_p(&mut self, cx: &mut Cx, want: &Ty, flex: bool, depth: u32) -> (String, u8) {
        self.pending = None;
        let s = self.expr_raw(cx, want, flex, depth);
        (s, self.pending.take().unwrap_or(ATOM))
    }

    /// Records the binding level of the expression a form is returning.
    fn level(&mut self, level: u8, s: String) -> Option<String> {
        self.pending = Some(level);
        Some(s)
    }

    /// ` op ` between operands, sometimes across a line break or after a
    /// comment (line breaks are insignificant).
    fn op(&mut self, op: &str) -> String {
        match self.below(24) {
            0 => {
                self.hit("line_break");
                format!("\n      {op} ")
            }
            1 => {
                self.hit("line_break");
                format!(" // note\n      {op} ")
            }
            _ => format!(" {op} "),
        }
    }

    fn expr_raw(&mut self, cx: &mut Cx, want: &Ty, flex: bool, depth: u32) -> String {
        if cx.literal_only
            && let Some(s) = self.literal(cx, want, flex, depth)
        {
            return s;
        }
        if (depth == 0 || self.chance(1, 5))
            && let Some(s) = self.leaf(cx, want, flex, depth)
        {
            return s;
        }
        let forms = self.forms(cx, want);
        let total: u32 = forms.iter().map(|(_, w)| w).sum();
        for _ in 0..4 {
            let mut r = self.range(0, total as usize - 1) as u32;
            let mut form = Form::Leaf;
            for (f, w) in &forms {
                if r < *w {
                    form = *f;
                    break;
                }
                r -= w;
            }
            if let Some(s) = self.form(cx, form, want, flex, depth) {
                return s;
            }
        }
        match self.leaf(cx, want, flex, depth) {
            Some(s) => s,
            // Unreachable when the caller checked `can_make`; the program
            // will not check, and the test says so.
            None => format!("<cannot make {want:?} flex={flex}>"),
        }
    }

    fn forms(&mut self, cx: &Cx, want: &Ty) -> Vec<(Form, u32)> {
        let mut f = vec![(Form::Leaf, 4)];
        if cx.literal_only {
            return f;
        }
        if !want.is_decision() {
            f.push((Form::If, 1));
            f.push((Form::Coalesce, 1));
            f.push((Form::Builtin, 3));
            if cx.policies_before > 0 {
                f.push((Form::Call, 1));
            }
        }
        match want {
            Ty::Opt(_) => {
                f.push((Form::Index, 2));
                f.push((Form::OptMember, 2));
            }
            Ty::Bool => {
                f.extend([
                    (Form::Cmp, 5),
                    (Form::Logic, 2),
                    (Form::Not, 1),
                    (Form::In, 2),
                    (Form::Any, 1),
                    (Form::All, 1),
                    (Form::Fired, 1),
                ]);
            }
            Ty::Int => f.extend([(Form::Arith, 3), (Form::Neg, 1), (Form::Count, 1)]),
            Ty::Float => f.extend([(Form::Arith, 2), (Form::Neg, 1)]),
            Ty::Str => f.push((Form::Concat, 1)),
            Ty::Duration => f.extend([(Form::DurArith, 2), (Form::Neg, 1)]),
            Ty::Timestamp => f.push((Form::TsArith, 2)),
            Ty::List(_) => f.extend([(Form::ListConcat, 1), (Form::Filter, 1), (Form::MapQ, 2)]),
            Ty::Set(_) | Ty::Map(_) => f.push((Form::Filter, 1)),
            _ => {}
        }
        f
    }

    fn form(
        &mut self,
        cx: &mut Cx,
        form: Form,
        want: &Ty,
        flex: bool,
        depth: u32,
    ) -> Option<String> {
        let d = depth.saturating_sub(1);
        match form {
            Form::Leaf => self.leaf(cx, want, flex, depth),
            Form::If => {
                let c = self.expr_any(cx, &Ty::Bool, false, d);
                let a = self.expr_any(cx, want, flex, d);
                let b = self.expr_any(cx, want, flex, d);
                self.hit("if_then_else");
                self.level(PREFIX, format!("if {c} then {a} else {b}"))
            }
            Form::Coalesce => {
                let (lhs_ty, rhs_flex) = if want.is_opt() {
                    (want.clone(), flex)
                } else {
                    (want.clone().opt(), true)
                };
                if !self.can_make(cx, &lhs_ty, false) {
                    return None;
                }
                let a = self.expr_min(cx, &lhs_ty, false, d, ADD);
                let b = self.expr_min(cx, want, rhs_flex, d, COALESCE);
                self.hit("coalesce");
                let op = self.op("??");
                self.level(COALESCE, format!("{a}{op}{b}"))
            }
            Form::Index => self.index(cx, want, d),
            Form::OptMember => self.opt_member(cx, want, d),
            Form::Builtin => self.builtin(cx, want, d, false),
            Form::Call => self.call_member(cx, want, d),
            Form::Arith => self.arith(cx, want, d),
            Form::Neg => {
                let a = self.expr_min(cx, want, false, d, NEG);
                self.hit("neg");
                self.level(NEG, format!("-{a}"))
            }
            Form::Concat => {
                let a = self.expr_min(cx, &Ty::Str, false, d, ADD);
                let b = self.expr_min(cx, &Ty::Str, false, d, MUL);
                self.hit("concat_string");
                let op = self.op("+");
                self.level(ADD, format!("{a}{op}{b}"))
            }
            Form::ListConcat => {
                if !self.can_make(cx, want, false) {
                    return None;
                }
                let a = self.expr_min(cx, want, false, d, ADD);
                let b = self.expr_min(cx, want, false, d, MUL);
                self.hit("concat_list");
                let op = self.op("+");
                self.level(ADD, format!("{a}{op}{b}"))
            }
            Form::DurArith => self.duration_arith(cx, d),
            Form::TsArith => self.timestamp_arith(cx, d),
            Form::Cmp => self.compare(cx, d),
            Form::Logic => {
                let (op, level) = if self.chance(1, 2) {
                    ("and", AND)
                } else {
                    ("or", OR)
                };
                let a = self.expr_min(cx, &Ty::Bool, false, d, level);
                let b = self.expr_min(cx, &Ty::Bool, false, d, level + 1);
                self.hit(op);
                let op = self.op(op);
                self.level(level, format!("{a}{op}{b}"))
            }
            Form::Not => {
                let a = self.expr_min(cx, &Ty::Bool, false, d, NOT);
                self.hit("not");
                self.level(NOT, format!("not {a}"))
            }
            Form::In => self.membership(cx, d),
            Form::Any => self.quantifier(cx, "any", want, d),
            Form::All => self.quantifier(cx, "all", want, d),
            Form::Count => self.quantifier(cx, "count", want, d),
            Form::Filter => self.quantifier(cx, "filter", want, d),
            Form::MapQ => self.quantifier(cx, "map", want, d),
            Form::Fired => self.fired(cx, d),
        }
    }

    // ------------------------------------------------------------ leaves

    /// A value in scope or a literal.
    fn leaf(&mut self, cx: &mut Cx, want: &Ty, flex: bool, depth: u32) -> Option<String> {
        let sources = self.sources(cx, want);
        if !sources.is_empty() && self.chance(3, 5) {
            return Some(self.use_path(&sources));
        }
        if let Some(l) = self.literal(cx, want, flex, depth) {
            return Some(l);
        }
        if !sources.is_empty() {
            return Some(self.use_path(&sources));
        }
        None
    }

    fn use_path(&mut self, sources: &[Path]) -> String {
        let p = &sources[self.below(sources.len())];
        let root = p.root;
        self.hit(&format!("var_{root}"));
        if p.imported {
            self.hit("var_imported");
        }
        if p.chained {
            self.hit("opt_chain");
        }
        if p.hops > 0 {
            self.hit("field_access");
        }
        if p.decision_member {
            self.hit("decision_member_path");
        }
        p.src.clone()
    }

    /// A literal of type `want` (collections of literals may hold other
    /// expressions), or `None` when there is none in this mode.
    pub(crate) fn literal(
        &mut self,
        cx: &mut Cx,
        want: &Ty,
        flex: bool,
        depth: u32,
    ) -> Option<String> {
        let d = depth.saturating_sub(1);
        Some(match want {
            Ty::Bool => {
                self.hit("lit_bool");
                if self.chance(1, 2) { "true" } else { "false" }.into()
            }
            Ty::Int => self.int_literal(),
            Ty::Float => {
                if flex && self.chance(1, 5) {
                    self.hit("widen_int_float");
                    self.int_literal()
                } else if self.chance(1, 24) {
                    // NaN and the infinities (float division by zero is no
                    // error); decision JSON renders them as `null`.
                    self.hit("float_nan_inf");
                    self.pick(&[
                        "(0.0 / 0.0)",
                        "(1.0 / 0.0)",
                        "(-1.0 / 0.0)",
                        "(1e300 * 1e300)",
                    ])
                    .to_string()
                } else {
                    self.float_literal()
                }
            }
            Ty::Str => {
                let s = self.pick(pools::STRINGS);
                self.string_literal(s)
            }
            Ty::Duration => {
                self.hit("lit_duration");
                let lit = self.pick(pools::DURATIONS);
                if self.chance(1, 6) {
                    format!("(-{lit})")
                } else {
                    lit.to_string()
                }
            }
            Ty::Timestamp => {
                if cx.now && self.chance(1, 3) {
                    self.hit("now");
                    "now".into()
                } else {
                    self.hit("lit_timestamp");
                    format!("t\"{}\"", self.pick(pools::TIMESTAMPS))
                }
            }
            Ty::Enum(e) => self.variant(cx, *e, flex),
            Ty::Finding => {
                if flex {
                    self.finding_literal(cx, d)
                } else {
                    let text = self.expr(cx, &Ty::Str, false, d);
                    let pattern = self.regex_literal();
                    let rec = self.finding_literal(cx, d);
                    self.hit("coalesce");
                    format!("({text}.find_all({pattern}).first() ?? {rec})")
                }
            }
            Ty::Schema(s) => {
                if flex {
                    self.record_literal(cx, *s, d)
                } else {
                    return self.schema_exact_expr(cx, want, d);
                }
            }
            Ty::Opt(t) => {
                if flex {
                    if depth == 0 || self.chance(1, 3) {
                        self.hit("none");
                        "none".into()
                    } else {
                        self.expr(cx, t, true, d)
                    }
                } else if self.can_make(cx, t, false) {
                    let x = self.expr(cx, t, false, d);
                    match self.below(3) {
                        0 => {
                            self.hit("builtin:ListFirst");
                            format!("[{x}].first()")
                        }
                        1 => {
                            self.hit("index_map");
                            format!("{{\"k\": {x}}}[\"k\"]")
                        }
                        _ => {
                            self.hit("index_list");
                            format!("[{x}][{}]", self.pick(&[0, 1, -1]))
                        }
                    }
                } else {
                    let lists = self.sources(cx, &Ty::list((**t).clone()));
                    let maps = self.sources(cx, &Ty::map((**t).clone()));
                    if !lists.is_empty() && (maps.is_empty() || self.chance(1, 2)) {
                        let l = self.use_path(&lists);
                        self.hit("builtin:ListLast");
                        format!("{l}.last()")
                    } else if !maps.is_empty() {
                        let m = self.use_path(&maps);
                        let k = self.key_literal();
                        self.hit("index_map");
                        format!("{m}[{k}]")
                    } else {
                        return None;
                    }
                }
            }
            Ty::List(t) | Ty::Set(t) => {
                let set = matches!(want, Ty::Set(_));
                let n = if flex {
                    if depth == 0 || self.chance(1, 4) {
                        0
                    } else {
                        self.range(1, 3)
                    }
                } else {
                    if !self.can_make(cx, t, false) {
                        return None;
                    }
                    self.range(1, 3)
                };
                let mut items = Vec::new();
                for i in 0..n {
                    items.push(self.expr_any(cx, t, flex || i > 0, d));
                }
                if n == 0 {
                    self.hit("empty_collection");
                }
                self.hit(if set { "set_literal" } else { "list_literal" });
                let trailing = if n > 0 && self.chance(1, 8) { "," } else { "" };
                if set {
                    if n == 0 {
                        "{}".into()
                    } else {
                        format!("{{{}{trailing}}}", items.join(", "))
                    }
                } else {
                    format!("[{}{trailing}]", items.join(", "))
                }
            }
            Ty::Map(t) => {
                let n = if flex {
                    if depth == 0 || self.chance(1, 4) {
                        0
                    } else {
                        self.range(1, 3)
                    }
                } else {
                    if !self.can_make(cx, t, false) {
                        return None;
                    }
                    self.range(1, 3)
                };
                let mut keys: Vec<&str> = Vec::new();
                let mut entries = Vec::new();
                for i in 0..n {
                    let k = self.pick(pools::KEYS);
                    if keys.contains(&k) {
                        continue;
                    }
                    keys.push(k);
                    let v = self.expr_any(cx, t, flex || i > 0, d);
                    entries.push(format!("{}: {v}", self.string_literal(k)));
                }
                self.hit("map_literal");
                if entries.is_empty() {
                    self.hit("empty_collection");
                    "{}".into()
                } else {
                    format!("{{{}}}", entries.join(", "))
                }
            }
            Ty::Decision | Ty::ValueDecision(_) => return None,
        })
    }

    /// A schema value in exact mode: a value in scope, or a record literal
    /// behind `??` (whose right side takes the left side's type).
    fn schema_exact_expr(&mut self, cx: &mut Cx, want: &Ty, d: u32) -> Option<String> {
        let Ty::Schema(s) = want else { return None };
        let direct = self.sources(cx, want);
        let opts = self.sources(cx, &want.clone().opt());
        let lists = self.sources(cx, &Ty::list(want.clone()));
        let maps = self.sources(cx, &Ty::map(want.clone()));
        let mut choices = Vec::new();
        if !direct.is_empty() {
            choices.push(0);
        }
        if !opts.is_empty() {
            choices.push(1);
        }
        if !lists.is_empty() {
            choices.push(2);
        }
        if !maps.is_empty() {
            choices.push(3);
        }
        if choices.is_empty() {
            return None;
        }
        let lhs = match self.pick(&choices) {
            0 => return Some(self.use_path(&direct)),
            1 => self.use_path(&opts),
            2 => {
                let l = self.use_path(&lists);
                self.hit("builtin:ListFirst");
                format!("{l}.first()")
            }
            _ => {
                let m = self.use_path(&maps);
                let k = self.key_literal();
                self.hit("index_map");
                format!("{m}[{k}]")
            }
        };
        let rec = self.record_literal(cx, *s, d);
        self.hit("coalesce");
        Some(format!("({lhs} ?? {rec})"))
    }

    fn record_literal(&mut self, cx: &mut Cx, s: usize, d: u32) -> String {
        let fields = self.m.schemas[s].fields.clone();
        let mut entries = Vec::new();
        for f in &fields {
            if f.ty.is_opt() && self.chance(1, 3) {
                continue;
            }
            let v = self.expr_any(cx, &f.ty, true, d);
            entries.push(format!("{}: {v}", f.name));
        }
        self.hit("record_literal");
        if entries.is_empty() {
            "{}".into()
        } else {
            format!("{{ {} }}", entries.join(", "))
        }
    }

    fn finding_literal(&mut self, cx: &mut Cx, d: u32) -> String {
        let kind = self.expr_any(cx, &Ty::Str, true, d);
        let start = self.expr_any(cx, &Ty::Int, true, d);
        let end = self.expr_any(cx, &Ty::Int, true, d);
        let text = self.expr_any(cx, &Ty::Str, true, d);
        self.hit("finding_literal");
        format!("{{ kind: {kind}, start: {start}, end: {end}, text: {text} }}")
    }

    fn variant(&mut self, cx: &Cx, e: usize, flex: bool) -> String {
        let def = self.m.enums[e].clone();
        let v = self.pick(&def.variants).clone();
        // Bare when the expected type decides, or when only one enum in
        // scope has the name.
        let unique = self
            .m
            .enums_in_scope(cx.file)
            .filter(|o| o.variants.contains(&v))
            .count()
            == 1;
        if (flex || unique) && self.chance(1, 2) {
            self.hit("enum_bare");
            return v;
        }
        self.hit("enum_qualified");
        if def.pkg != cx.pkg {
            self.hit("enum_imported");
        }
        format!("{}{}.{v}", self.m.prefix(def.pkg, cx.file), def.name)
    }

    pub(crate) fn int_literal(&mut self) -> String {
        let n = if self.chance(1, 8) {
            self.range(0, 2000) as i64 - 1000
        } else {
            self.pick(pools::INTS)
        };
        self.hit("lit_int");
        if n == i64::MAX || n == i64::MIN {
            self.hit("lit_int_extreme");
        }
        let digits = n.unsigned_abs().to_string();
        let digits = if digits.len() > 3 && self.chance(1, 4) {
            self.hit("lit_int_underscore");
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    out.push('_');
                }
                out.push(c);
            }
            out
        } else {
            digits
        };
        if n < 0 {
            if self.chance(1, 3) {
                // `-N` is folded into the literal; it binds as a negation.
                self.hit("neg_literal_folded");
                self.pending = Some(NEG);
                format!("-{digits}")
            } else {
                format!("(-{digits})")
            }
        } else {
            digits
        }
    }

    fn float_literal(&mut self) -> String {
        let f = self.pick(pools::FLOATS);
        self.hit("lit_float");
        let text = format!("{:?}", f.abs());
        if f.is_sign_negative() {
            format!("(-{text})")
        } else {
            text
        }
    }

    /// A string literal: escaped, or raw when the text allows it.
    pub(crate) fn string_literal(&mut self, s: &str) -> String {
        let raw_ok = !s.contains('"') && !s.contains('\n') && !s.contains('\r');
        if raw_ok && self.chance(1, 4) {
            self.hit("lit_raw_string");
            return format!("r\"{s}\"");
        }
        let hash_ok = !s.contains("\"#") && !s.contains('\n') && !s.contains('\r');
        if hash_ok && self.chance(1, 10) {
            self.hit("lit_raw_string");
            return format!("r#\"{s}\"#");
        }
        self.hit("lit_string");
        let escape_unicode = self.chance(1, 3);
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                '\0' => out.push_str("\\0"),
                c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                    out.push_str(&format!("\\u{{{:X}}}", c as u32));
                }
                c if !c.is_ascii() && escape_unicode => {
                    out.push_str(&format!("\\u{{{:x}}}", c as u32));
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    }

    fn key_literal(&mut self) -> String {
        let k = self.pick(pools::KEYS);
        self.string_literal(k)
    }

    fn regex_literal(&mut self) -> String {
        self.hit("regex_literal");
        let r = self.pick(pools::REGEXES);
        self.string_literal(r)
    }

    // ------------------------------------------------------------ forms

    fn index(&mut self, cx: &mut Cx, want: &Ty, d: u32) -> Option<String> {
        let Ty::Opt(u) = want else { return None };
        let elem = if self.chance(1, 5) {
            want.clone()
        } else {
            (**u).clone()
        };
        match self.below(3) {
            0 => {
                let coll = Ty::list(elem);
                if !self.can_make(cx, &coll, false) {
                    return None;
                }
                let xs = self.expr(cx, &coll, false, d);
                let i = self.index_int(cx, d);
                self.hit("index_list");
                let open = if !xs.contains('?') && self.chance(1, 10) {
                    self.hit("opt_on_non_optional");
                    "?["
                } else {
                    "["
                };
                Some(format!("{xs}{open}{i}]"))
            }
            1 => {
                let coll = Ty::map(elem);
                if !self.can_make(cx, &coll, false) {
                    return None;
                }
                let m = self.expr(cx, &coll, false, d);
                let k = if self.chance(1, 2) {
                    self.key_literal()
                } else {
                    self.expr(cx, &Ty::Str, false, d)
                };
                self.hit("index_map");
                Some(format!("{m}[{k}]"))
            }
            _ => {
                let map = self.chance(1, 3);
                let coll = if map { Ty::map(elem) } else { Ty::list(elem) }.opt();
                if !self.can_make(cx, &coll, false) {
                    return None;
                }
                let c = self.expr(cx, &coll, false, d);
                let i = if map {
                    self.key_literal()
                } else {
                    self.index_int(cx, d)
                };
                self.hit("opt_index");
                Some(format!("{c}?[{i}]"))
            }
        }
    }

    fn index_int(&mut self, cx: &mut Cx, d: u32) -> String {
        if self.chance(2, 3) {
            let i = self.pick(&[0i64, 1, 2, -1, 10, i64::MAX, i64::MIN]);
            if i < 0 {
                format!("(-{})", i.unsigned_abs())
            } else {
                i.to_string()
            }
        } else {
            self.expr_any(cx, &Ty::Int, false, d)
        }
    }

    /// `x?.field` or `x?.method(...)` on an optional receiver.
    fn opt_member(&mut self, cx: &mut Cx, want: &Ty, d: u32) -> Option<String> {
        if self.chance(1, 2) {
            return self.builtin(cx, want, d, true);
        }
        let inner = want.strip().clone();
        // Schemas (and findings) with a field of the wanted type.
        let mut candidates = Vec::new();
        for (i, s) in self.m.schemas.iter().enumerate() {
            if !self.m.visible(s.pkg, cx.pkg) {
                continue;
            }
            for f in &s.fields {
                if f.ty == inner || f.ty == *want {
                    candidates.push((Ty::Schema(i), f.name.clone()));
                }
            }
        }
        for (name, ty) in self.m.members(&Ty::Finding) {
            if ty == inner {
                candidates.push((Ty::Finding, name));
            }
        }
        if candidates.is_empty() {
            return None;
        }
        let (recv_ty, field) = candidates[self.below(candidates.len())].clone();
        let recv_ty = recv_ty.opt();
        if !self.can_make(cx, &recv_ty, false) {
            return None;
        }
        let recv = self.expr(cx, &recv_ty, false, d);
        self.hit("opt_field");
        Some(format!("{recv}?.{field}"))
    }

    fn arith(&mut self, cx: &mut Cx, want: &Ty, d: u32) -> Option<String> {
        match want {
            Ty::Int => {
                let op = self.pick(&["+", "-", "*", "/", "%"]);
                let level = if matches!(op, "+" | "-") { ADD } else { MUL };
                let a = self.expr_min(cx, &Ty::Int, false, d, level);
                let b = if matches!(op, "/" | "%") && self.chance(1, 3) {
                    self.pick(&["0", "(-1)", "2"]).to_string()
                } else {
                    self.expr_min(cx, &Ty::Int, false, d, level + 1)
                };
                self.hit("arith_int");
                if matches!(op, "/" | "%") {
                    self.hit("div_mod");
                }
                let op = self.op(op);
                self.level(level, format!("{a}{op}{b}"))
            }
            Ty::Float => {
                let op = self.pick(&["+", "-", "*", "/"]);
                let (ta, tb) = match self.below(3) {
                    0 => (Ty::Float, Ty::Float),
                    1 => (Ty::Int, Ty::Float),
                    _ => (Ty::Float, Ty::Int),
                };
                let level = if matches!(op, "+" | "-") { ADD } else { MUL };
                let a = self.expr_min(cx, &ta, false, d, level);
                let b = self.expr_min(cx, &tb, false, d, level + 1);
                self.hit(if ta == tb {
                    "arith_float"
                } else {
                    "arith_mixed"
                });
                let op = self.op(op);
                self.level(level, format!("{a}{op}{b}"))
            }
            _ => None,
        }
    }

    /// `a op b` with operands of types `ta` and `tb`, at `level`
    /// (left-associative: the right operand binds tighter).
    fn binary(
        &mut self,
        cx: &mut Cx,
        ta: &Ty,
        op: &str,
        tb: &Ty,
        level: u8,
        d: u32,
    ) -> Option<String> {
        let a = self.expr_min(cx, ta, false, d, level);
        let b = self.expr_min(cx, tb, false, d, level + 1);
        let op = self.op(op);
        self.level(level, format!("{a}{op}{b}"))
    }

    fn duration_arith(&mut self, cx: &mut Cx, d: u32) -> Option<String> {
        self.hit("duration_arith");
        let (dur, int, ts) = (Ty::Duration, Ty::Int, Ty::Timestamp);
        match self.below(6) {
            0 | 1 => {
                let op = self.pick(&["+", "-"]);
                self.binary(cx, &dur, op, &dur, ADD, d)
            }
            2 => self.binary(cx, &dur, "*", &int, MUL, d),
            3 => self.binary(cx, &int, "*", &dur, MUL, d),
            4 => {
                self.hit("div_mod");
                if self.chance(1, 3) {
                    let a = self.expr_min(cx, &dur, false, d, MUL);
                    self.level(MUL, format!("{a} / 0"))
                } else {
                    self.binary(cx, &dur, "/", &int, MUL, d)
                }
            }
            _ => {
                self.hit("timestamp_diff");
                self.binary(cx, &ts, "-", &ts, ADD, d)
            }
        }
    }

    fn timestamp_arith(&mut self, cx: &mut Cx, d: u32) -> Option<String> {
        self.hit("timestamp_arith");
        let (dur, ts) = (Ty::Duration, Ty::Timestamp);
        match self.below(3) {
            0 => self.binary(cx, &ts, "+", &dur, ADD, d),
            1 => self.binary(cx, &dur, "+", &ts, ADD, d),
            _ => self.binary(cx, &ts, "-", &dur, ADD, d),
        }
    }

    /// `a op b` at the level of comparisons (which do not chain: both
    /// operands bind tighter); the right side takes the left's type.
    fn comparison(&mut self, cx: &mut Cx, t: &Ty, op: &str, d: u32) -> Option<String> {
        let a = self.expr_min(cx, t, false, d, COALESCE);
        let b = self.expr_min(cx, t, true, d, COALESCE);
        let op = self.op(op);
        self.level(CMP, format!("{a}{op}{b}"))
    }

    fn compare(&mut self, cx: &mut Cx, d: u32) -> Option<String> {
        match self.below(5) {
            0 | 1 => {
                let t = self.pick_type(cx, &|t| t.is_ordered(), Ty::Int);
                let op = self.pick(&["<", "<=", ">", ">="]);
                self.hit("cmp_ord");
                self.comparison(cx, &t, op, d)
            }
            2 => {
                let t = self.pick_type(cx, &|t| t.is_opt(), Ty::Int.opt());
                if !self.can_make(cx, &t, false) {
                    return None;
                }
                let a = self.expr_min(cx, &t, false, d, COALESCE);
                let op = self.pick(&["==", "!="]);
                self.hit("cmp_none");
                let op = self.op(op);
                self.level(CMP, format!("{a}{op}none"))
            }
            _ => {
                let t = self.pick_type(cx, &|_| true, Ty::Str);
                let op = self.pick(&["==", "!="]);
                self.hit("cmp_eq");
                self.comparison(cx, &t, op, d)
            }
        }
    }

    fn membership(&mut self, cx: &mut Cx, d: u32) -> Option<String> {
        let op = if self.chance(1, 3) {
            self.hit("not_in");
            "not in"
        } else {
            "in"
        };
        let (a, b) = match self.below(6) {
            0 => {
                let a = self.expr_min(cx, &Ty::Str, false, d, COALESCE);
                let b = self.expr_min(cx, &Ty::Str, false, d, COALESCE);
                self.hit("in_string");
                (a, b)
            }
            1 => {
                let v = self.pick_type(cx, &|t| !t.has_decision(), Ty::Int);
                let m = Ty::map(v);
                if !self.can_make(cx, &m, false) {
                    return None;
                }
                let a = self.expr_min(cx, &Ty::Str, false, d, COALESCE);
                let b = self.expr_min(cx, &m, false, d, COALESCE);
                self.hit("in_map");
                (a, b)
            }
            _ => {
                let t = self.pick_type(cx, &|t| !t.has_decision(), Ty::Str);
                let set = self.chance(1, 2);
                let coll = if set {
                    Ty::set(t.clone())
                } else {
                    Ty::list(t.clone())
                };
                let a = self.expr_min(cx, &t, false, d, COALESCE);
                let b = if self.chance(1, 2) {
                    // A literal: its elements take the left side's type.
                    let n = self.range(if set { 1 } else { 0 }, 3);
                    let items: Vec<String> =
                        (0..n).map(|_| self.expr_any(cx, &t, true, d)).collect();
                    if set {
                        self.hit("set_literal");
                        format!("{{{}}}", items.join(", "))
                    } else {
                        self.hit("list_literal");
                        format!("[{}]", items.join(", "))
                    }
                } else {
                    if !self.can_make(cx, &coll, false) {
                        return None;
                    }
                    self.expr_min(cx, &coll, false, d, COALESCE)
                };
                self.hit(if set { "in_set" } else { "in_list" });
                (a, b)
            }
        };
        let op = self.op(op);
        self.level(CMP, format!("{a}{op}{b}"))
    }

    fn quantifier(&mut self, cx: &mut Cx, kw: &'static str, want: &Ty, d: u32) -> Option<String> {
        let coll = match kw {
            "filter" => want.clone(),
            _ => {
                let t = self.pick_type(cx, &|t| !t.has_decision(), Ty::Int);
                match self.below(3) {
                    0 => Ty::list(t),
                    1 => Ty::set(t),
                    _ => Ty::map(t),
                }
            }
        };
        let body_ty = match (kw, want) {
            ("map", Ty::List(u)) => (**u).clone(),
            ("map", _) => return None,
            _ => Ty::Bool,
        };
        if !self.can_make(cx, &coll, false) || !self.can_make(cx, &body_ty, false) {
            return None;
        }
        let elem = coll.elem()?.clone();
        let src = self.expr_min(cx, &coll, false, d, COALESCE);
        let mark = cx.locals.len();
        let two = self.chance(1, 3) && matches!(coll, Ty::List(_) | Ty::Map(_));
        let first = self.local_name(cx, "q");
        let vars = if two {
            let second = self.fresh("q");
            let first_ty = match coll {
                Ty::List(_) => Ty::Int,
                _ => Ty::Str,
            };
            cx.push(Local {
                name: first.clone(),
                ty: first_ty,
                origin: None,
                role: "quant",
            });
            cx.push(Local {
                name: second.clone(),
                ty: elem,
                origin: None,
                role: "quant",
            });
            self.hit("quant_two_vars");
            format!("{first}, {second}")
        } else {
            let ty = match coll {
                Ty::Map(_) => Ty::Str,
                _ => elem,
            };
            cx.push(Local {
                name: first.clone(),
                ty,
                origin: None,
                role: "quant",
            });
            first
        };
        // A variable that shadows a definition may hide the only value the
        // body could be made from.
        if !self.can_make(cx, &body_ty, false) {
            cx.truncate(mark);
            return None;
        }
        let body = self.expr_any(cx, &body_ty, false, d);
        cx.truncate(mark);
        self.hit(kw);
        self.level(PREFIX, format!("{kw} {vars} in {src}: {body}"))
    }

    /// `d.fired("reason")` on a decision in scope or a call.
    fn fired(&mut self, cx: &mut Cx, d: u32) -> Option<String> {
        let decisions: Vec<Path> = self
            .paths(cx)
            .iter()
            .filter(|p| p.ty.is_decision())
            .cloned()
            .collect();
        let (recv, origin) = if !decisions.is_empty() && self.chance(1, 2) {
            let p = decisions[self.below(decisions.len())].clone();
            (self.use_path(std::slice::from_ref(&p)), p.origin)
        } else {
            let j = self.callable(cx)?;
            (self.call(cx, j, d), Some(j))
        };
        let reason = match origin {
            Some(j) if self.chance(5, 6) && !self.m.policies[j].reasons.is_empty() => {
                let r = self.pick(&self.m.policies[j].reasons.clone());
                self.string_literal(&r)
            }
            _ => self.expr_any(cx, &Ty::Str, true, d),
        };
        self.hit("decision_fired");
        Some(format!("{recv}.fired({reason})"))
    }

    /// A name for a new local: fresh, or now and then the name of a let or
    /// param of this package, which the local then shadows.
    pub(crate) fn local_name(&mut self, cx: &Cx, prefix: &str) -> String {
        if self.chance(1, 12) {
            let defs: Vec<String> = self
                .m
                .lets
                .iter()
                .take(cx.lets_before)
                .filter(|l| l.pkg == cx.pkg)
                .map(|l| l.name.clone())
                .chain(
                    self.m
                        .params
                        .iter()
                        .filter(|p| p.pkg == cx.pkg)
                        .map(|p| p.name.clone()),
                )
                .filter(|n| !cx.locals.iter().any(|l| &l.name == n))
                .collect();
            if !defs.is_empty() {
                self.hit("shadowing_local");
                return self.pick(&defs);
            }
        }
        self.fresh(prefix)
    }

    /// A policy that may be called here, if any.
    fn callable(&mut self, cx: &Cx) -> Option<usize> {
        let list: Vec<usize> = (0..cx.policies_before.min(self.m.policies.len()))
            .filter(|&j| self.m.visible(self.m.policies[j].pkg, cx.pkg))
            .collect();
        if list.is_empty() {
            None
        } else {
            Some(list[self.below(list.len())])
        }
    }

    /// A call of policy `j` with an argument of its input type.
    pub(crate) fn call(&mut self, cx: &mut Cx, j: usize, d: u32) -> String {
        let p = self.m.policies[j].clone();
        let sources = self.sources(cx, &p.input);
        let arg = if !sources.is_empty() && self.chance(2, 3) {
            self.use_path(&sources)
        } else {
            self.expr_any(cx, &p.input, true, d)
        };
        self.hit("policy_call");
        if p.pkg != cx.pkg {
            self.hit("policy_call_imported");
        }
        format!("{}{}({arg})", self.m.prefix(p.pkg, cx.file), p.name)
    }

    /// A member of a policy call's decision, of the wanted type.
    fn call_member(&mut self, cx: &mut Cx, want: &Ty, d: u32) -> Option<String> {
        let mut options: Vec<(usize, &'static str)> = Vec::new();
        for j in 0..cx.policies_before.min(self.m.policies.len()) {
            let p = &self.m.policies[j];
            if !self.m.visible(p.pkg, cx.pkg) {
                continue;
            }
            let members: &[&'static str] = match want {
                Ty::Bool => &["allowed", "denied", "requires_approval", "alerted"],
                Ty::List(t) if **t == Ty::Str => &["reasons"],
                Ty::List(t) if **t == Ty::Finding => &["redactions"],
                Ty::Opt(t) if **t == Ty::Str => &["error"],
                _ => &[],
            };
            for m in members {
                options.push((j, m));
            }
            let value_ty = match &p.kind {
                Kind::Decision => None,
                Kind::Value(t) => Some(t.clone()),
                Kind::Filter(t) => Some(Ty::list(t.clone())),
            };
            if value_ty.as_ref() == Some(want) {
                options.push((j, "value"));
            }
        }
        if options.is_empty() {
            return None;
        }
        let (j, member) = options[self.below(options.len())];
        let call = self.call(cx, j, d);
        self.hit(&format!("decision_{member}"));
        Some(format!("{call}.{member}"))
    }

    // ------------------------------------------------------------ builtins

    /// A builtin call whose result is `want`; with `opt_recv`, a method
    /// called with `?.` on an optional receiver (the result is optional).
    fn builtin(&mut self, cx: &mut Cx, want: &Ty, d: u32, opt_recv: bool) -> Option<String> {
        if opt_recv && !want.is_opt() {
            return None;
        }
        let mut candidates: Vec<(&'static BuiltinSig, Option<Ty>)> = Vec::new();
        for sig in BUILTINS {
            if opt_recv && matches!(sig.receiver, Receiver::Module(_)) {
                continue;
            }
            let mut targets = vec![want.clone()];
            if opt_recv {
                targets = vec![want.strip().clone(), want.clone()];
            }
            for t in targets {
                if let Some(binding) = match_ret(&sig.ret, &t) {
                    if binding.as_ref().is_some_and(|b| !elem_ok(sig.receiver, b)) {
                        continue;
                    }
                    candidates.push((sig, binding));
                    break;
                }
            }
        }
        if candidates.is_empty() {
            return None;
        }
        let (sig, binding) = candidates[self.below(candidates.len())].clone();
        let elem = match binding {
            Some(t) => t,
            None => match sig.receiver {
                Receiver::NumericCollection => self.pick(&[Ty::Int, Ty::Float, Ty::Duration]),
                _ => self.pick_type(cx, &|t| !t.has_decision() && !t.is_opt(), Ty::Str),
            },
        };
        let recv_ty = match sig.receiver {
            Receiver::Module(_) => None,
            Receiver::String => Some(Ty::Str),
            Receiver::Collection | Receiver::NumericCollection => Some(if self.chance(1, 2) {
                Ty::list(elem.clone())
            } else {
                Ty::set(elem.clone())
            }),
            Receiver::List => Some(Ty::list(elem.clone())),
            Receiver::Map => Some(Ty::map(elem.clone())),
            Receiver::Int => Some(Ty::Int),
            Receiver::Float => Some(Ty::Float),
            Receiver::Duration => Some(Ty::Duration),
            Receiver::Timestamp => Some(Ty::Timestamp),
        };
        let recv_ty = recv_ty.map(|t| if opt_recv { t.opt() } else { t });
        if let Some(t) = &recv_ty
            && !self.can_make(cx, t, false)
        {
            return None;
        }
        let recv = recv_ty.map(|t| self.expr(cx, &t, false, d));
        let mut args = Vec::new();
        for (name, pat) in sig.params {
            let ty = self.instantiate(pat, &elem);
            // A "list or set" parameter reads a list literal as a list and
            // checks anything else as a set: a list is then a literal or
            // an exact expression.
            let flex = !(matches!(pat, TypePattern::Collection(_)) && matches!(ty, Ty::List(_)));
            args.push(self.builtin_arg(cx, sig.id, name, &ty, flex, d));
        }
        let args = args.join(", ");
        self.hit(&format!("builtin:{:?}", sig.id));
        Some(match (sig.receiver, recv) {
            (Receiver::Module(m), _) => {
                self.hit("builtin_module");
                let alias = self.m.files[cx.file].module(m).to_string();
                format!("{alias}.{}({args})", sig.name)
            }
            (_, Some(recv)) => {
                self.hit("builtin_method");
                if opt_recv {
                    self.hit("opt_method");
                    format!("{recv}?.{}({args})", sig.name)
                } else if !recv.contains('?') && self.chance(1, 16) {
                    // Accepted on a value that is not optional: like `.`.
                    // (Not after another `?.`: see `KNOWN_BUGS`.)
                    self.hit("opt_on_non_optional");
                    format!("{recv}?.{}({args})", sig.name)
                } else {
                    format!("{recv}.{}({args})", sig.name)
                }
            }
            (_, None) => return None,
        })
    }

    fn instantiate(&mut self, pat: &TypePattern, elem: &Ty) -> Ty {
        match pat {
            TypePattern::Bool => Ty::Bool,
            TypePattern::Int => Ty::Int,
            TypePattern::Float => Ty::Float,
            TypePattern::String => Ty::Str,
            TypePattern::Duration => Ty::Duration,
            TypePattern::Timestamp => Ty::Timestamp,
            TypePattern::Finding => Ty::Finding,
            TypePattern::Elem => elem.clone(),
            TypePattern::List(p) => Ty::list(self.instantiate(p, elem)),
            TypePattern::Set(p) => Ty::set(self.instantiate(p, elem)),
            TypePattern::Optional(p) => self.instantiate(p, elem).opt(),
            TypePattern::Collection(p) => {
                let t = self.instantiate(p, elem);
                if self.chance(1, 2) {
                    Ty::list(t)
                } else {
                    Ty::set(t)
                }
            }
        }
    }

    /// An argument: patterns and URLs are picked from valid ones mostly.
    fn builtin_arg(
        &mut self,
        cx: &mut Cx,
        id: Builtin,
        name: &str,
        ty: &Ty,
        flex: bool,
        d: u32,
    ) -> String {
        use crate::model::Strings;
        let special = match (id, name) {
            (Builtin::StrMatches | Builtin::StrFindAll, "pattern") => {
                Some((Strings::Regexes, pools::REGEXES))
            }
            (Builtin::StrMatchesAny, _) => Some((Strings::Regexes, pools::REGEXES)),
            (Builtin::GlobMatches, "pattern") | (Builtin::GlobMatchesAny, "patterns") => {
                Some((Strings::Globs, pools::GLOBS))
            }
            (Builtin::UrlHostMatches, "hosts") => Some((Strings::Hosts, pools::HOSTS)),
            (Builtin::StrContainsAny, _) => Some((Strings::Any, pools::PHRASES)),
            (_, "url") => Some((Strings::Any, pools::URLS)),
            _ => None,
        };
        let Some((kind, pool)) = special else {
            return self.arg_expr(cx, ty, flex, d);
        };
        let regex = kind == Strings::Regexes;
        let r = self.below(20);
        if r >= 18 || (r >= 15 && !regex) {
            // Anything of the type: a dynamic pattern may be invalid, which
            // is an evaluation error.
            if regex {
                self.hit("regex_dynamic");
            }
            return self.arg_expr(cx, ty, flex, d);
        }
        if r >= 14 {
            // A param holding suitable strings.
            let params: Vec<String> = self
                .m
                .params
                .iter()
                .filter(|p| {
                    self.m.visible(p.pkg, cx.pkg)
                        && !cx.shadows(p.pkg, &p.name)
                        && &p.ty == ty
                        && (p.strings == kind || kind == Strings::Any)
                })
                .map(|p| format!("{}{}", self.m.prefix(p.pkg, cx.file), p.name))
                .collect();
            if cx.params && !cx.literal_only && !params.is_empty() {
                self.hit("var_param");
                return params[self.below(params.len())].clone();
            }
        }
        if regex {
            self.hit("regex_literal");
        }
        match ty {
            Ty::Str => {
                let s = self.pick(pool);
                self.string_literal(s)
            }
            Ty::List(_) | Ty::Set(_) => {
                let set = matches!(ty, Ty::Set(_));
                let n = self.range(0, 3);
                let mut items: Vec<String> = Vec::new();
                for _ in 0..n {
                    let s = self.pick(pool);
                    items.push(self.string_literal(s));
                }
                if set {
                    if items.is_empty() {
                        "{}".into()
                    } else {
                        format!("{{{}}}", items.join(", "))
                    }
                } else {
                    format!("[{}]", items.join(", "))
                }
            }
            _ => self.arg_expr(cx, ty, flex, d),
        }
    }

    /// An argument; when not `flex`, a list literal or an exact expression.
    fn arg_expr(&mut self, cx: &mut Cx, ty: &Ty, flex: bool, d: u32) -> String {
        if flex {
            return self.expr_any(cx, ty, true, d);
        }
        if (self.chance(1, 2) || !self.can_make(cx, ty, false))
            && let Some(l) = self.literal(cx, ty, true, d)
        {
            return l;
        }
        self.expr_any(cx, ty, false, d)
    }
}

/// Whether a builtin's result pattern produces `ty`; the binding of its
/// element type when the pattern mentions it.
fn match_ret(pat: &TypePattern, ty: &Ty) -> Option<Option<Ty>> {
    let simple = |t: Ty| if &t == ty { Some(None) } else { None };
    match pat {
        TypePattern::Bool => simple(Ty::Bool),
        TypePattern::Int => simple(Ty::Int),
        TypePattern::Float => simple(Ty::Float),
        TypePattern::String => simple(Ty::Str),
        TypePattern::Duration => simple(Ty::Duration),
        TypePattern::Timestamp => simple(Ty::Timestamp),
        TypePattern::Finding => simple(Ty::Finding),
        TypePattern::Elem => Some(Some(ty.clone())),
        TypePattern::List(p) => match ty {
            Ty::List(t) => match_ret(p, t),
            _ => None,
        },
        TypePattern::Set(p) => match ty {
            Ty::Set(t) => match_ret(p, t),
            _ => None,
        },
        TypePattern::Optional(p) => match ty {
            Ty::Opt(t) => match_ret(p, t),
            _ => None,
        },
        TypePattern::Collection(_) => None,
    }
}

/// Whether `elem` may be the element type of the builtin's receiver.
fn elem_ok(receiver: Receiver, elem: &Ty) -> bool {
    if elem.has_decision() || elem.is_opt() {
        return false;
    }
    match receiver {
        Receiver::NumericCollection => matches!(elem, Ty::Int | Ty::Float | Ty::Duration),
        _ => true,
    }
}
