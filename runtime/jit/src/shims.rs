//! The `extern "C"` functions generated code calls: allocation, failures,
//! structural equality and membership, strings, maps, builtins, decisions.
//!
//! Every shim takes the evaluation's [`Ctx`] first, catches panics (a
//! panic becomes an evaluation error, never an unwind into generated
//! code), and reports failure by returning a nonzero status after storing
//! the message in the run.

use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use pol_ir::ir::{Action, Effect, PolicyKind, Program, Type};

use crate::frame::{Slot, Val, View, str_of};
use crate::{Ctx, DecisionBlock, JitProgram, Outcome, Run, Writer};

/// The messages of failures detected in generated code, by code; they are
/// the interpreter's messages word for word.
pub(crate) const FAILURES: &[&str] = &[
    "division by zero",
    "integer overflow",
    "duration overflow",
    "timestamp overflow",
    "integer overflow in `-`",
    "duration overflow in `-`",
];

pub(crate) const FAIL_DIV_ZERO: u32 = 0;
pub(crate) const FAIL_INT: u32 = 1;
pub(crate) const FAIL_DURATION: u32 = 2;
pub(crate) const FAIL_TIMESTAMP: u32 = 3;
pub(crate) const FAIL_NEG_INT: u32 = 4;
pub(crate) const FAIL_NEG_DURATION: u32 = 5;

/// The run behind a context.
///
/// # Safety
///
/// `ctx` must be the context of an evaluation in progress (made by
/// `JitProgram::evaluate`, which keeps the run alive for the call).
unsafe fn run<'a>(ctx: *mut Ctx) -> &'a Run<'a> {
    // SAFETY: by the contract, `ctx` and its `run` are alive.
    unsafe { &*(*ctx).run.cast::<Run<'a>>() }
}

fn fail(run: &Run<'_>, message: impl Into<String>) -> u32 {
    *run.error.borrow_mut() = Some(message.into());
    1
}

/// Runs a shim body, turning a panic into an evaluation error.
fn guarded(run: &Run<'_>, what: &str, body: impl FnOnce() -> u32) -> u32 {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(status) => status,
        Err(_) => fail(run, format!("internal error in {what}")),
    }
}

fn val<'a>(jit: &'a JitProgram, slot: Slot, ty: &'a Type) -> Val<'a> {
    Val {
        slot,
        ty,
        program: &jit.program,
        _arena: PhantomData,
    }
}

/// A fresh decision block for `policy` in `arena`.
pub(crate) fn new_block(jit: &JitProgram, arena: &crate::Arena, policy: u32) -> *mut DecisionBlock {
    let words = std::mem::size_of::<DecisionBlock>() / 8;
    let fired_words = jit.fired_words.get(policy as usize).copied().unwrap_or(0);
    let redacts = jit.redact_rules.get(policy as usize).copied().unwrap_or(0);
    // One allocation: the block, then its fired bits, then its redactions.
    let memory = arena.alloc(words + fired_words + redacts * 4);
    let block = memory.cast::<DecisionBlock>();
    // SAFETY: both offsets lie within the allocation just made.
    let (fired, redactions) = unsafe {
        (
            memory.add(words) as u64,
            memory.add(words + fired_words) as u64,
        )
    };
    // SAFETY: `block` is a fresh, zeroed, 8-aligned allocation of the
    // block's size.
    unsafe {
        (*block).policy = policy;
        (*block).fired = fired;
        (*block).redactions = redactions;
    }
    block
}

/// Reads a filled decision block.
///
/// # Safety
///
/// `block` must be a block of `policy` filled by its compiled code, in an
/// arena alive for `'a`.
pub(crate) unsafe fn outcome<'a>(
    jit: &'a JitProgram,
    block: *const DecisionBlock,
    policy: u32,
) -> Outcome<'a> {
    // SAFETY: by the contract.
    let block = unsafe { &*block };
    let words = jit.fired_words.get(policy as usize).copied().unwrap_or(0);
    // SAFETY: the block's fired bits are `words` words in the arena.
    let fired = unsafe { std::slice::from_raw_parts(block.fired as *const u64, words) };
    let count = block.redaction_count as usize;
    // SAFETY: `count` (rule index, findings) slot pairs were written.
    let pairs = unsafe { std::slice::from_raw_parts(block.redactions as *const Slot, count * 2) };
    let findings_ty = &jit.types[jit.findings_list_type()];
    let redactions = pairs
        .chunks_exact(2)
        .map(|p| (p[0].a as u32, val(jit, p[1], findings_ty)))
        .collect();
    let value = jit.value_type(policy).map(|ty| val(jit, block.value, ty));
    Outcome {
        policy,
        effect: if block.effect == 1 {
            Effect::Allow
        } else {
            Effect::Deny
        },
        by_default: block.by_default != 0,
        fired,
        redactions,
        value,
        error: None,
    }
}

impl JitProgram {
    /// The index in `types` of `list<Finding>` (always interned first).
    pub(crate) fn findings_list_type(&self) -> usize {
        0
    }

    /// The type of a value or filter policy's value.
    pub(crate) fn value_type(&self, policy: u32) -> Option<&Type> {
        match &self.program.policies.get(policy as usize)?.kind {
            PolicyKind::Value { ty, .. } => Some(ty),
            PolicyKind::Filter { .. } => self
                .filter_types
                .get(policy as usize)
                .copied()
                .flatten()
                .and_then(|i| self.types.get(i as usize)),
            PolicyKind::Decision { .. } => None,
        }
    }
}

// ------------------------------------------------------------ allocation

pub(crate) extern "C" fn alloc(ctx: *mut Ctx, words: u64) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    run.arena.alloc(words as usize) as u64
}

pub(crate) extern "C" fn fail_code(ctx: *mut Ctx, code: u64) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    u64::from(fail(
        run,
        FAILURES
            .get(code as usize)
            .copied()
            .unwrap_or("evaluation failed"),
    ))
}

/// Makes room for `additional` more slots in a growable buffer
/// `[ptr, len, cap]` (filter policies' kept elements).
pub(crate) extern "C" fn grow(ctx: *mut Ctx, buffer: *mut u64, additional: u64) -> u64 {
    // SAFETY: generated code passes its own context and a 3-word buffer
    // on its stack.
    let run = unsafe { run(ctx) };
    u64::from(guarded(run, "a kept list", || {
        // SAFETY: see above.
        let (ptr, len, cap) = unsafe { (*buffer, *buffer.add(1), *buffer.add(2)) };
        let need = len.saturating_add(additional);
        if need <= cap {
            return 0;
        }
        let new_cap = need.max(cap.saturating_mul(2)).max(8);
        let fresh = run.arena.alloc(new_cap as usize * 2);
        // SAFETY: both regions are arena slots; `len` slots were written.
        unsafe {
            std::ptr::copy_nonoverlapping(ptr as *const u64, fresh, len as usize * 2);
            *buffer = fresh as u64;
            *buffer.add(2) = new_cap;
        }
        0
    }))
}

// ------------------------------------------------------------ equality

/// Structural equality with the interpreter's semantics (`Value`'s
/// `PartialEq`): IEEE floats, order-insensitive sets.
pub(crate) fn equal(a: Val<'_>, b: Val<'_>) -> bool {
    if matches!(a.ty, Type::Decision | Type::ValueDecision(_))
        || matches!(b.ty, Type::Decision | Type::ValueDecision(_))
    {
        return a.slot == b.slot;
    }
    match (a.view(), b.view()) {
        (View::None, View::None) => true,
        (View::Bool(x), View::Bool(y)) => x == y,
        (View::Int(x), View::Int(y))
        | (View::Duration(x), View::Duration(y))
        | (View::Timestamp(x), View::Timestamp(y)) => x == y,
        (View::Float(x), View::Float(y)) => x == y,
        (View::Str(x), View::Str(y)) => x == y,
        (View::Variant(x), View::Variant(y)) => x == y,
        (View::List(x), View::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| equal(p, q))
        }
        (View::Record(x), View::Record(y)) => x.iter().zip(y.iter()).all(|(p, q)| equal(p, q)),
        (View::Set(x), View::Set(y)) => {
            x.len() == y.len() && x.iter().all(|p| y.iter().any(|q| equal(p, q)))
        }
        (View::Map(x), View::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y.iter())
                    .all(|((k1, v1), (k2, v2))| k1 == k2 && equal(v1, v2))
        }
        (
            View::Finding {
                kind: k1,
                start: s1,
                end: e1,
                text: t1,
            },
            View::Finding {
                kind: k2,
                start: s2,
                end: e2,
                text: t2,
            },
        ) => k1 == k2 && s1 == s2 && e1 == e2 && t1 == t2,
        _ => false,
    }
}

pub(crate) extern "C" fn eq(ctx: *mut Ctx, ty: u64, a1: u64, b1: u64, a2: u64, b2: u64) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    let jit = run.jit;
    let Some(ty) = jit.types.get(ty as usize) else {
        return 0;
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        equal(
            val(jit, Slot { a: a1, b: b1 }, ty),
            val(jit, Slot { a: a2, b: b2 }, ty),
        )
    }));
    u64::from(result.unwrap_or(false))
}

/// Equality of two strings or optional strings: 1 or 0 (`none`, the zero
/// slot, equals only `none`).
pub(crate) extern "C" fn str_eq(a1: u64, b1: u64, a2: u64, b2: u64) -> u64 {
    if a1 == 0 || a2 == 0 {
        return u64::from(a1 == a2 && b1 == b2);
    }
    if b1 != b2 {
        return 0;
    }
    // SAFETY: generated code passes string slots of live values (a present
    // string's pointer is never null).
    let (x, y) = unsafe { (str_of(Slot { a: a1, b: b1 }), str_of(Slot { a: a2, b: b2 })) };
    u64::from(x == y)
}

/// Byte order of two strings: -1, 0 or 1.
pub(crate) extern "C" fn str_cmp(a1: u64, b1: u64, a2: u64, b2: u64) -> i64 {
    // SAFETY: generated code passes string slots of live values.
    let (x, y) = unsafe { (str_of(Slot { a: a1, b: b1 }), str_of(Slot { a: a2, b: b2 })) };
    match x.cmp(y) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

/// Membership: `kind` 0 is an element of a list or set (`ty` the
/// collection's type), 1 a key of a map, 2 a substring. Returns 0 or 1, or 2 after an
/// error.
pub(crate) extern "C" fn contains(
    ctx: *mut Ctx,
    kind: u64,
    ty: u64,
    a1: u64,
    b1: u64,
    a2: u64,
    b2: u64,
) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    let jit = run.jit;
    let needle = Slot { a: a1, b: b1 };
    let hay = Slot { a: a2, b: b2 };
    let result = catch_unwind(AssertUnwindSafe(|| -> Result<bool, String> {
        match kind {
            0 => {
                if hay.is_none() {
                    return Ok(false);
                }
                // `ty` is the collection's type; the needle has its
                // element type (an optional element is compared as is).
                let coll_ty = jit.types.get(ty as usize).ok_or("no type")?;
                let elem = match coll_ty {
                    Type::List(e) | Type::Set(e) => &**e,
                    Type::Optional(inner) => match &**inner {
                        Type::List(e) | Type::Set(e) => &**e,
                        _ => return Ok(false),
                    },
                    _ => return Ok(false),
                };
                let needle = val(jit, needle, elem);
                Ok(match val(jit, hay, coll_ty).view() {
                    View::List(items) | View::Set(items) => {
                        items.iter().any(|item| equal(item, needle))
                    }
                    _ => false,
                })
            }
            _ if needle.is_none() => Ok(false),
            _ if hay.is_none() => Err(format!(
                "`{}` of string and none",
                if kind == 1 { "InMapKeys" } else { "InString" }
            )),
            1 => {
                // SAFETY: a present key is a string slot.
                let key = unsafe { str_of(needle) };
                Ok(map_find(hay, key).is_some())
            }
            _ => {
                // SAFETY: both are present string slots.
                let (needle, hay) = unsafe { (str_of(needle), str_of(hay)) };
                Ok(hay.contains(needle))
            }
        }
    }));
    match result {
        Ok(Ok(found)) => u64::from(found),
        Ok(Err(message)) => {
            fail(run, message);
            2
        }
        Err(_) => {
            fail(run, "internal error in `in`");
            2
        }
    }
}

/// The value slot of `key` in a map slot (entries sorted by key bytes).
fn map_find(map: Slot, key: &str) -> Option<Slot> {
    // SAFETY: a present map slot points to `b` key/value slot pairs.
    let entries = unsafe { std::slice::from_raw_parts(map.a as *const Slot, map.b as usize * 2) };
    // A few keys: compared in turn, lengths first (most differ).
    if entries.len() <= 16 {
        return entries
            .chunks_exact(2)
            // SAFETY: keys are string slots.
            .find(|pair| pair[0].b as usize == key.len() && unsafe { str_of(pair[0]) } == key)
            .map(|pair| pair[1]);
    }
    // Keys are sorted by their bytes: a binary search over the pairs, in
    // place (nothing allocated).
    let (mut low, mut high) = (0, entries.len() / 2);
    while low < high {
        let mid = low + (high - low) / 2;
        // SAFETY: keys are string slots.
        match unsafe { str_of(entries[2 * mid]) }
            .as_bytes()
            .cmp(key.as_bytes())
        {
            std::cmp::Ordering::Less => low = mid + 1,
            std::cmp::Ordering::Greater => high = mid,
            std::cmp::Ordering::Equal => return Some(entries[2 * mid + 1]),
        }
    }
    None
}

/// `map[key]`: the value, or `none`.
pub(crate) extern "C" fn map_get(
    _ctx: *mut Ctx,
    map_a: u64,
    map_b: u64,
    key_a: u64,
    key_b: u64,
    out: *mut Slot,
) -> u64 {
    let map = Slot { a: map_a, b: map_b };
    let key = Slot { a: key_a, b: key_b };
    let found = if map.is_none() || key.is_none() {
        None
    } else {
        // SAFETY: a present key is a string slot.
        map_find(map, unsafe { str_of(key) })
    };
    // SAFETY: `out` is a slot on the caller's stack.
    unsafe { *out = found.unwrap_or(Slot::NONE) };
    0
}

// ------------------------------------------------------------ building

/// `a + b` on strings.
pub(crate) extern "C" fn concat(
    ctx: *mut Ctx,
    a1: u64,
    b1: u64,
    a2: u64,
    b2: u64,
    out: *mut Slot,
) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    u64::from(guarded(run, "string concatenation", || {
        // SAFETY: both are string slots of live values.
        let (x, y) = unsafe { (str_of(Slot { a: a1, b: b1 }), str_of(Slot { a: a2, b: b2 })) };
        let joined = [x, y].concat();
        // SAFETY: `out` is a slot on the caller's stack.
        unsafe { *out = run.arena.string(&joined) };
        0
    }))
}

/// `a + b` on lists.
pub(crate) extern "C" fn concat_lists(
    ctx: *mut Ctx,
    a1: u64,
    b1: u64,
    a2: u64,
    b2: u64,
    out: *mut Slot,
) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    u64::from(guarded(run, "list concatenation", || {
        // SAFETY: both are list slots of live values.
        let (x, y) = unsafe {
            (
                std::slice::from_raw_parts(a1 as *const Slot, b1 as usize),
                std::slice::from_raw_parts(a2 as *const Slot, b2 as usize),
            )
        };
        let joined = [x, y].concat();
        // SAFETY: `out` is a slot on the caller's stack.
        unsafe {
            *out = Slot {
                a: run.arena.slots(&joined),
                b: joined.len() as u64,
            }
        };
        0
    }))
}

/// Drops duplicate elements of a fresh set in place (the first occurrence
/// stays, as in the interpreter); returns the new length.
pub(crate) extern "C" fn set_dedup(ctx: *mut Ctx, ty: u64, ptr: u64, len: u64) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    let jit = run.jit;
    let Some(elem) = jit.types.get(ty as usize) else {
        return len;
    };
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `ptr` points to `len` slots the caller just wrote.
        let slots = unsafe { std::slice::from_raw_parts_mut(ptr as *mut Slot, len as usize) };
        let mut kept = 0;
        for i in 0..slots.len() {
            let candidate = slots[i];
            let seen = slots[..kept]
                .iter()
                .any(|s| equal(val(jit, *s, elem), val(jit, candidate, elem)));
            if !seen {
                slots[kept] = candidate;
                kept += 1;
            }
        }
        kept as u64
    }));
    result.unwrap_or(len)
}

// ------------------------------------------------------------ builtins

/// Calls the builtin of call site `site` with the host.
pub(crate) extern "C" fn builtin(
    ctx: *mut Ctx,
    site: u64,
    args: *const Slot,
    out: *mut Slot,
) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    let jit = run.jit;
    let Some(site) = jit.sites.get(site as usize) else {
        return u64::from(fail(run, format!("no builtin call site {site}")));
    };
    u64::from(guarded(run, "a builtin", || {
        // SAFETY: generated code wrote one slot per argument.
        let slots = unsafe { std::slice::from_raw_parts(args, site.args.len()) };
        // On the stack for the usual few arguments: a call allocates only
        // what the builtin itself needs.
        static NONE: Type = Type::None;
        let mut inline = [val(jit, Slot::NONE, &NONE); 4];
        let spilled: Vec<Val<'_>>;
        let args: &[Val<'_>] = if slots.len() <= inline.len() {
            for ((out, slot), ty) in inline.iter_mut().zip(slots).zip(&site.args) {
                *out = val(jit, *slot, ty);
            }
            &inline[..slots.len()]
        } else {
            spilled = slots
                .iter()
                .zip(&site.args)
                .map(|(slot, ty)| val(jit, *slot, ty))
                .collect();
            &spilled
        };
        let writer = Writer {
            program: &jit.program,
            arena: run.arena,
        };
        match run.host.builtin(site.id, args, &site.ret, &writer) {
            Ok(result) => {
                // SAFETY: `out` is a slot on the caller's stack.
                unsafe { *out = result.slot };
                0
            }
            Err(message) => fail(run, message),
        }
    }))
}

// ------------------------------------------------------------ decisions

/// A fresh decision block for a call of `policy`.
pub(crate) extern "C" fn block(ctx: *mut Ctx, policy: u64) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    new_block(run.jit, run.arena, policy as u32) as u64
}

/// What [`string_test`] returns when the host substituted its own
/// builtins: the call goes through the host.
pub(crate) const THROUGH_HOST: u64 = 2;

/// `s.contains(t)`, `s.starts_with(t)`, `s.ends_with(t)` (codes 0 to 2, on
/// two strings) and `xs.intersects(ys)` (code 3, on two collections of
/// strings), on the values where they lie: 1 or 0, or [`THROUGH_HOST`]
/// when the host's builtins are not the standard ones.
pub(crate) extern "C" fn string_test(
    ctx: *mut Ctx,
    code: u64,
    a1: u64,
    b1: u64,
    a2: u64,
    b2: u64,
) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    if !run.standard_string_tests {
        return THROUGH_HOST;
    }
    let (x, y) = (Slot { a: a1, b: b1 }, Slot { a: a2, b: b2 });
    let found = match code {
        // SAFETY: codegen passes string slots for codes 0 to 2 and slots of
        // collections of strings (`b` elements at `a`) for code 3.
        0 => unsafe { str_of(x).contains(str_of(y)) },
        1 => unsafe { str_of(x).starts_with(str_of(y)) },
        2 => unsafe { str_of(x).ends_with(str_of(y)) },
        _ => unsafe {
            let xs = slots(x);
            let ys = slots(y);
            xs.iter()
                .any(|p| ys.iter().any(|q| p.b == q.b && str_of(*p) == str_of(*q)))
        },
    };
    u64::from(found)
}

/// `needle in items` over strings: whether some element equals `needle`.
pub(crate) extern "C" fn contains_string(items: u64, len: u64, a: u64, b: u64) -> u64 {
    // SAFETY: codegen passes a collection of strings (`len` string slots at
    // `items`) and a string slot.
    let found = unsafe {
        let needle = str_of(Slot { a, b });
        slots(Slot { a: items, b: len })
            .iter()
            .any(|item| item.b == b && str_of(*item) == needle)
    };
    u64::from(found)
}

/// The element slots of a present list or set slot.
///
/// # Safety
///
/// `coll` must be a list or set slot of live values (`b` slots at `a`), or
/// have `b == 0`.
unsafe fn slots<'a>(coll: Slot) -> &'a [Slot] {
    if coll.b == 0 {
        return &[];
    }
    // SAFETY: by the contract.
    unsafe { std::slice::from_raw_parts(coll.a as *const Slot, coll.b as usize) }
}

/// A let's computation failed: keeps its error for later readers and marks
/// the let failed. Returns 0; the let's code then fails.
pub(crate) extern "C" fn let_failed(ctx: *mut Ctx, index: u64) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    let status = guarded(run, "a failing let", || {
        let message = run.error.borrow().clone().unwrap_or_default();
        run.failed_lets.borrow_mut().push((index as u32, message));
        // SAFETY: generated code passes the index of one of the program's
        // lets, and the state bytes are sized for them.
        unsafe { *(*ctx).let_state.add(index as usize) = crate::codegen::LET_FAILED as u8 };
        0
    });
    u64::from(status)
}

/// A let read after it failed in this evaluation: its error again.
pub(crate) extern "C" fn let_failed_before(ctx: *mut Ctx, index: u64) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    let message = run
        .failed_lets
        .borrow()
        .iter()
        .find(|(i, _)| u64::from(*i) == index)
        .map(|(_, message)| message.clone());
    u64::from(fail(
        run,
        message.unwrap_or_else(|| "evaluation failed".into()),
    ))
}

/// After a called policy failed: its decision becomes a deny carrying the
/// error (as the interpreter's `Decision::error`), and the caller goes on.
pub(crate) extern "C" fn callee_failed(
    ctx: *mut Ctx,
    block: *mut DecisionBlock,
    policy: u64,
) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    let jit = run.jit;
    let message = run
        .error
        .borrow_mut()
        .take()
        .unwrap_or_else(|| "evaluation failed".into());
    let name = jit
        .program
        .policies
        .get(policy as usize)
        .map_or("?", |p| p.name.as_str());
    let error = run.arena.string(&format!("{name}: {message}"));
    let words = jit.fired_words.get(policy as usize).copied().unwrap_or(0);
    // SAFETY: `block` is the callee's block, in the arena.
    unsafe {
        let block = &mut *block;
        block.effect = 0;
        block.by_default = 0;
        block.error = error;
        block.value = Slot::NONE;
        block.redaction_count = 0;
        std::ptr::write_bytes(block.fired as *mut u64, 0, words);
    }
    0
}

/// The reasons of a decision: fired rules', then the default's when it
/// decided (as `Decision::reasons`).
fn reasons<'a>(program: &'a Program, block: &DecisionBlock) -> Vec<&'a str> {
    let Some(policy) = program.policies.get(block.policy as usize) else {
        return Vec::new();
    };
    let mut out: Vec<&str> = policy
        .rules
        .iter()
        .enumerate()
        .filter(|(i, _)| fired(block, *i))
        .map(|(_, r)| r.reason.as_str())
        .collect();
    if block.by_default != 0
        && block.error.is_none()
        && let Some(default) = policy.default_rule()
    {
        out.push(default.reason.as_str());
    }
    out
}

fn fired(block: &DecisionBlock, rule: usize) -> bool {
    // SAFETY: the block's fired bits cover every rule of its policy.
    let word = unsafe { *(block.fired as *const u64).add(rule / 64) };
    word & (1 << (rule % 64)) != 0
}

fn any_fired(program: &Program, block: &DecisionBlock, pick: impl Fn(&Action) -> bool) -> bool {
    program
        .policies
        .get(block.policy as usize)
        .is_some_and(|p| {
            p.rules
                .iter()
                .enumerate()
                .any(|(i, r)| pick(&r.action) && fired(block, i))
        })
}

/// Member `member` of a decision (`DecisionMember` order: 2 reasons,
/// 3 requires_approval, 4 redactions, 5 alerted, 6 error, 7 value).
pub(crate) extern "C" fn member(
    ctx: *mut Ctx,
    block: *const DecisionBlock,
    member: u64,
    out: *mut Slot,
) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    let jit = run.jit;
    u64::from(guarded(run, "a decision member", || {
        // SAFETY: `block` is a decision block in the arena.
        let block = unsafe { &*block };
        let program: &Program = &jit.program;
        let result = match member {
            2 => {
                let reasons = reasons(program, block);
                let slots: Vec<Slot> = reasons.iter().map(|r| run.arena.string(r)).collect();
                Slot {
                    a: run.arena.slots(&slots),
                    b: slots.len() as u64,
                }
            }
            3 => Slot::scalar(u64::from(any_fired(program, block, |a| {
                matches!(a, Action::RequireApproval)
            }))),
            4 => {
                // SAFETY: `redaction_count` pairs were written.
                let pairs = unsafe {
                    std::slice::from_raw_parts(
                        block.redactions as *const Slot,
                        block.redaction_count as usize * 2,
                    )
                };
                let mut all = Vec::new();
                for pair in pairs.chunks_exact(2) {
                    // SAFETY: the second slot of a pair is a findings list.
                    let findings = unsafe {
                        std::slice::from_raw_parts(pair[1].a as *const Slot, pair[1].b as usize)
                    };
                    all.extend_from_slice(findings);
                }
                Slot {
                    a: run.arena.slots(&all),
                    b: all.len() as u64,
                }
            }
            5 => Slot::scalar(u64::from(any_fired(program, block, |a| {
                matches!(a, Action::Alert { .. })
            }))),
            6 => block.error,
            _ if !block.error.is_none() => {
                // A failed policy has no value: reading it fails too.
                // SAFETY: a present error is a string slot.
                let failure = unsafe { str_of(block.error) };
                return fail(run, format!("the value of a failed decision: {failure}"));
            }
            _ => block.value,
        };
        // SAFETY: `out` is a slot on the caller's stack.
        unsafe { *out = result };
        0
    }))
}

/// `d.fired(reason)`: 0 or 1.
pub(crate) extern "C" fn fired_reason(
    ctx: *mut Ctx,
    block: *const DecisionBlock,
    reason_a: u64,
    reason_b: u64,
) -> u64 {
    // SAFETY: generated code passes its own context.
    let run = unsafe { run(ctx) };
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: `block` is a decision block; the reason a string slot.
        let (block, reason) = unsafe {
            (
                &*block,
                str_of(Slot {
                    a: reason_a,
                    b: reason_b,
                }),
            )
        };
        reasons(&run.jit.program, block).contains(&reason)
    }));
    u64::from(result.unwrap_or(false))
}
