//! The Pol JIT: compiles a verified [`Program`] with Cranelift into one
//! native function per policy (and per top-level let), over the frame
//! layout of [`frame`].
//!
//! Generated code does the control flow, boolean logic, comparisons,
//! arithmetic (with explicit checks for overflow and division by zero),
//! field loads at fixed offsets, enum tests, optional checks, loops for
//! quantifiers and comprehensions, the fired-rule bitset and the combining
//! of effects. What needs a library goes through a fixed table of
//! `extern "C"` shims ([`shims`]): builtins (through the host's
//! [`Host`], so tests can substitute them), structural equality and
//! membership of compound values, string concatenation and ordering, map
//! lookups, allocation in the evaluation's arena.
//!
//! **Invariant:** generated code never traps the host: every failure is a
//! status returned to the caller, which turns it into an evaluation error
//! (a deny that carries it), with the interpreter's exact message. Every
//! shim catches panics.
//!
//! **Invariant:** layouts come from the program's verified types, never
//! from anywhere else.

pub mod frame;
pub mod json;

mod codegen;
mod shims;

use std::cell::RefCell;
use std::sync::Arc;

use pol_ir::Builtin;
use pol_ir::ir::{Effect, Program, Type};

pub use frame::{
    Arena, Entries, Fields, Seq, Shape, ShapeMismatch, Slot, Source, Val, View, encode,
};
pub use pol_ir::cost::InputSizes;
pub use pol_ir::limits::Limits;

/// Decides, from an input's sizes, whether to evaluate it: `Err` carries
/// the reason for refusing it (an evaluation error, so a deny).
pub type Admit<'a> = &'a dyn Fn(&InputSizes) -> Result<(), String>;

/// Why a program could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JitError {
    /// Cranelift does not support this machine; use the interpreter.
    UnsupportedHost(String),
    /// Code generation failed (a bug in the JIT, reported rather than
    /// panicking).
    Codegen(String),
}

impl std::fmt::Display for JitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JitError::UnsupportedHost(why) => {
                write!(f, "the JIT does not support this machine: {why}")
            }
            JitError::Codegen(why) => write!(f, "JIT compilation failed: {why}"),
        }
    }
}

impl std::error::Error for JitError {}

/// What the host provides to compiled code: the builtins.
pub trait Host: Send + Sync {
    /// Calls builtin `id` on `args` (for a method, the receiver first) and
    /// writes its result, of type `ret`, with `out`. An error message
    /// becomes the evaluation's error.
    fn builtin<'a>(
        &self,
        id: Builtin,
        args: &[Val<'a>],
        ret: &'a Type,
        out: &Writer<'a>,
    ) -> Result<Val<'a>, String>;

    /// Whether `contains`, `starts_with`, `ends_with` and `intersects` are
    /// the standard ones, so native code may run them itself on strings
    /// (the default: no, every call goes through [`Host::builtin`]).
    fn standard_string_tests(&self) -> bool {
        false
    }
}

/// Writes values into the evaluation's arena (see [`frame::encode`]).
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    program: &'a Program,
    arena: &'a Arena,
}

impl<'a> Writer<'a> {
    /// Lays out `value` as `ty`, checking its shape.
    pub fn encode(&self, ty: &'a Type, value: &dyn Source) -> Result<Val<'a>, ShapeMismatch> {
        frame::encode(self.program, self.arena, ty, value)
    }
}

/// A builtin call site: what the shim needs to view the arguments.
#[derive(Debug)]
struct Site {
    id: Builtin,
    args: Vec<Type>,
    ret: Type,
}

/// A compiled policy: `fn(ctx, input slot, decision block) -> status`.
type PolicyFn = unsafe extern "C" fn(*mut Ctx, *const Slot, *mut DecisionBlock) -> u64;

/// A compiled top-level let: computes the let into the context's cache
/// (once per evaluation) and returns a status.
type LetFn = unsafe extern "C" fn(*mut Ctx) -> u64;

/// A program compiled to native code. Immutable and shared by threads;
/// its code is freed when it drops.
pub struct JitProgram {
    program: Arc<Program>,
    module: Option<cranelift_jit::JITModule>,
    policies: Vec<PolicyFn>,
    lets: Vec<LetFn>,
    sites: Vec<Site>,
    types: Vec<Type>,
    /// Bytes of string constants; generated code embeds their addresses,
    /// so they live as long as the code.
    #[expect(dead_code, reason = "owns the bytes generated code points to")]
    strings: Vec<Box<[u8]>>,
    /// How many words of fired bits each policy's decision needs.
    fired_words: Vec<usize>,
    /// How many `redact` rules each policy has.
    redact_rules: Vec<usize>,
    /// For each filter policy, the index in `types` of its `list<T>`.
    filter_types: Vec<Option<u32>>,
}

impl std::fmt::Debug for JitProgram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitProgram")
            .field("policies", &self.policies.len())
            .field("lets", &self.lets.len())
            .field("builtin_sites", &self.sites.len())
            .finish_non_exhaustive()
    }
}

// SAFETY: after `finalize_definitions` the module's code and data are never
// written again; the function pointers and constant bytes it holds are read
// by any number of threads, and evaluation state lives in each caller's
// `Scratch`. The module is only touched again in `Drop`, which has `&mut`.
unsafe impl Send for JitProgram {}
// SAFETY: see `Send`.
unsafe impl Sync for JitProgram {}

impl Drop for JitProgram {
    fn drop(&mut self) {
        if let Some(module) = self.module.take() {
            // SAFETY: the function pointers into this module are owned by
            // `self` and die with it; no evaluation can be running, since
            // evaluations borrow `self`.
            unsafe { module.free_memory() };
        }
    }
}

/// Params laid out for native code: computed once (by the runtime's
/// interpreter, at load time) and shared by every evaluation; with them,
/// the lets known before any evaluation (the same in every one).
pub struct ParamFrame {
    slots: Vec<Slot>,
    /// One slot per let: its value when known in advance, else `none`.
    let_slots: Vec<Slot>,
    /// 1 for each let known in advance (the let caches' "computed" mark).
    let_known: Vec<u8>,
    arena: Arena,
}

impl std::fmt::Debug for ParamFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParamFrame")
            .field("params", &self.slots.len())
            .finish_non_exhaustive()
    }
}

// SAFETY: the arena is written only while `ParamFrame::new` runs; after
// that nothing mutates it (no method takes `&mut self`, and the arena is
// private), so sharing the frozen bytes between threads is sound.
unsafe impl Send for ParamFrame {}
// SAFETY: see `Send`.
unsafe impl Sync for ParamFrame {}

impl ParamFrame {
    /// Lays out the params' values (`values[i]` for param `i`).
    pub fn new(program: &Program, values: &[&dyn Source]) -> Result<ParamFrame, ShapeMismatch> {
        ParamFrame::with_lets(program, values, &[])
    }

    /// Lays out the params' values and the values of lets known in advance
    /// (`lets[i]` for let `i`, `None` when it is computed per evaluation).
    pub fn with_lets(
        program: &Program,
        values: &[&dyn Source],
        lets: &[Option<&dyn Source>],
    ) -> Result<ParamFrame, ShapeMismatch> {
        let arena = Arena::new();
        let mut slots = Vec::with_capacity(values.len());
        for (param, value) in program.params.iter().zip(values) {
            slots.push(frame::encode(program, &arena, &param.ty, *value)?.slot);
        }
        if slots.len() != program.params.len() {
            return Err(ShapeMismatch(format!(
                "{} param values for {} params",
                slots.len(),
                program.params.len()
            )));
        }
        let mut let_slots = vec![Slot::NONE; program.lets.len()];
        let mut let_known = vec![0u8; program.lets.len()];
        for (index, (item, value)) in program.lets.iter().zip(lets).enumerate() {
            if let Some(value) = value {
                let_slots[index] = frame::encode(program, &arena, &item.ty, *value)?.slot;
                let_known[index] = 1;
            }
        }
        Ok(ParamFrame {
            slots,
            let_slots,
            let_known,
            arena,
        })
    }

    /// The identity (see [`Val::identity`]) of let `index`'s value when it
    /// is laid out in this frame; 0 for scalars and lets not known.
    pub fn let_identity(&self, program: &Program, index: usize) -> u64 {
        match (self.let_slots.get(index), program.lets.get(index)) {
            (Some(slot), Some(item)) if self.let_known.get(index) == Some(&1) => Val {
                slot: *slot,
                ty: &item.ty,
                program,
                _arena: std::marker::PhantomData,
            }
            .identity(),
            _ => 0,
        }
    }

    /// The identity (see [`Val::identity`]) of param `index`'s value, laid
    /// out in this frame; 0 for scalars.
    pub fn identity(&self, program: &Program, index: usize) -> u64 {
        match (self.slots.get(index), program.params.get(index)) {
            (Some(slot), Some(param)) => Val {
                slot: *slot,
                ty: &param.ty,
                program,
                _arena: std::marker::PhantomData,
            }
            .identity(),
            _ => 0,
        }
    }

    /// The memory the params take.
    pub fn reserved_bytes(&self) -> usize {
        self.arena.reserved_bytes() + self.slots.len() * 16
    }
}

/// Per-thread evaluation state, reused between evaluations so a warmed-up
/// engine does not allocate.
#[derive(Debug, Default)]
pub struct Scratch {
    arena: Arena,
    lets: Vec<Slot>,
    let_state: Vec<u8>,
    stacks: json::Stacks,
}

/// Where an evaluation's input comes from.
enum Input<'i> {
    /// A host value, laid out with [`frame::encode`].
    Value(&'i dyn Source),
    /// JSON text, decoded straight into the frame, then admitted (or
    /// refused) on its sizes.
    Json(&'i [u8], &'i Limits, Option<Admit<'i>>),
    /// An input laid out in advance ([`Prepared`]).
    Slot(Slot),
}

/// An input laid out once in an arena of its own, to evaluate its policy
/// without laying it out again (see [`JitProgram::prepare`]).
pub struct Prepared {
    policy: u32,
    /// The program it was laid out for (kept alive, so no other program
    /// can take its address): a prepared input is refused by any other.
    program: Arc<Program>,
    slot: Slot,
    /// Owns the memory `slot` points into (its chunks never move).
    _arena: Arena,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// The input as laid out, for reading it back (it lives as long as the
    /// prepared input).
    pub fn input(&self) -> Val<'_> {
        let ty = &self.program.policies[self.policy as usize].input;
        Val {
            slot: self.slot,
            ty,
            program: &self.program,
            _arena: std::marker::PhantomData,
        }
    }
}

// SAFETY: the arena is written only while `JitProgram::prepare` runs;
// after that nothing mutates it (no method takes `&mut self`, and the
// arena is private), so sharing the frozen bytes between threads is sound.
unsafe impl Send for Prepared {}
// SAFETY: see `Send`.
unsafe impl Sync for Prepared {}

impl Scratch {
    /// Empty scratch space (it allocates when first used), also in a
    /// constant: a host's thread-local needs no lazy initialization.
    pub const fn new() -> Scratch {
        Scratch {
            arena: Arena::new(),
            lets: Vec::new(),
            let_state: Vec::new(),
            stacks: json::Stacks::new(),
        }
    }
}

/// The layout of a decision in the frame; generated code reads and writes
/// it at these offsets.
#[repr(C)]
#[derive(Debug)]
pub(crate) struct DecisionBlock {
    policy: u32,
    /// 0 deny, 1 allow.
    effect: u32,
    by_default: u32,
    _pad: u32,
    /// `none`, or the error message (a string slot).
    error: Slot,
    /// The value of a value or filter policy.
    value: Slot,
    /// Fired bits, `fired_words` words.
    fired: u64,
    /// (rule index, findings list) pairs of fired `redact` rules.
    redactions: u64,
    redaction_count: u64,
}

pub(crate) mod offsets {
    //! Byte offsets generated code uses.
    pub(crate) const BLOCK_EFFECT: i32 = 4;
    pub(crate) const BLOCK_BY_DEFAULT: i32 = 8;
    pub(crate) const BLOCK_VALUE: i32 = 32;
    pub(crate) const BLOCK_FIRED: i32 = 48;
    pub(crate) const BLOCK_REDACTIONS: i32 = 56;
    pub(crate) const BLOCK_REDACTION_COUNT: i32 = 64;
    pub(crate) const CTX_PARAMS: i32 = 0;
    pub(crate) const CTX_LETS: i32 = 8;
    pub(crate) const CTX_LET_STATE: i32 = 16;
    pub(crate) const CTX_NOW: i32 = 24;
}

/// What compiled code and shims see of one evaluation. The first fields
/// are read by generated code at fixed offsets ([`offsets`]).
#[repr(C)]
pub(crate) struct Ctx {
    params: *const Slot,
    lets: *mut Slot,
    let_state: *mut u8,
    now: i64,
    run: *const Run<'static>,
}

/// The Rust side of an evaluation, reached by shims through [`Ctx`].
pub(crate) struct Run<'a> {
    jit: &'a JitProgram,
    host: &'a dyn Host,
    arena: &'a Arena,
    error: RefCell<Option<String>>,
    /// [`Host::standard_string_tests`], asked once per evaluation.
    standard_string_tests: bool,
    /// The lets that failed in this evaluation, with their errors.
    failed_lets: RefCell<Vec<(u32, String)>>,
}

/// The outcome of evaluating a policy natively: the runtime turns it into
/// its `Decision`.
#[derive(Debug)]
pub struct Outcome<'a> {
    /// The policy.
    pub policy: u32,
    /// The effect (deny after an error).
    pub effect: Effect,
    /// Whether the default decided.
    pub by_default: bool,
    /// Fired rules, as a bitset over the policy's rules (empty after an
    /// error).
    pub fired: &'a [u64],
    /// The findings of each fired `redact` rule, by rule index.
    pub redactions: Vec<(u32, Val<'a>)>,
    /// The value of a value or filter policy.
    pub value: Option<Val<'a>>,
    /// The evaluation error, prefixed with the policy's name as the
    /// interpreter does.
    pub error: Option<String>,
}

impl JitProgram {
    /// Compiles `program` (which must have passed `pol_ir::ir::verify`).
    pub fn compile(program: Arc<Program>) -> Result<JitProgram, JitError> {
        codegen::compile(program)
    }

    /// The program compiled.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Evaluates policy `policy` on `input` at `now`, with `params` laid
    /// out for this program and `host`'s builtins. The scratch space is
    /// reset first; the outcome borrows it.
    #[expect(
        clippy::too_many_arguments,
        reason = "what an evaluation needs, each distinct"
    )]
    pub fn evaluate<'a>(
        &'a self,
        scratch: &'a mut Scratch,
        params: &'a ParamFrame,
        host: &'a dyn Host,
        policy: u32,
        input: &dyn Source,
        now: i64,
        preset_lets: &[(u32, &dyn Source)],
    ) -> Outcome<'a> {
        match self.run(
            scratch,
            params,
            host,
            policy,
            Input::Value(input),
            now,
            preset_lets,
        ) {
            Ok(outcome) => outcome,
            // A host value is never refused: encoding reports a mismatch
            // as the outcome's error.
            Err(json::Refused) => Outcome::failed(policy, "input refused".into()),
        }
    }

    /// Lays out `input` for `policy` once, in an arena of its own (see
    /// [`JitProgram::evaluate_prepared`]).
    pub fn prepare(&self, policy: u32, input: &dyn Source) -> Result<Prepared, String> {
        let program: &Program = &self.program;
        let Some(item) = program.policies.get(policy as usize) else {
            return Err(format!("no policy {policy}"));
        };
        let arena = Arena::new();
        let slot = frame::encode(program, &arena, &item.input, input)
            .map_err(|e| format!("{}: {e}", item.name))?
            .slot;
        Ok(Prepared {
            policy,
            program: self.program.clone(),
            slot,
            _arena: arena,
        })
    }

    /// Evaluates the policy of a prepared input: what [`Self::evaluate`]
    /// does after laying the input out. An input prepared by another
    /// program is refused (the outcome's error says so).
    pub fn evaluate_prepared<'a>(
        &'a self,
        scratch: &'a mut Scratch,
        params: &'a ParamFrame,
        host: &'a dyn Host,
        prepared: &'a Prepared,
        now: i64,
    ) -> Outcome<'a> {
        let policy = prepared.policy;
        if !Arc::ptr_eq(&prepared.program, &self.program) {
            return Outcome::failed(policy, "input prepared for another program".into());
        }
        match self.run(
            scratch,
            params,
            host,
            policy,
            Input::Slot(prepared.slot),
            now,
            &[],
        ) {
            Ok(outcome) => outcome,
            Err(json::Refused) => Outcome::failed(policy, "input refused".into()),
        }
    }

    /// Evaluates policy `policy` on JSON text, decoded straight into the
    /// frame (see [`json`]): the fast input path. `None` when the decoder
    /// refuses the input; the caller then asks its reference decoder why
    /// (it refuses exactly the same inputs). When the text decodes,
    /// `admit` (if any) sees its sizes first, and an `Err` from it is the
    /// outcome's error.
    #[expect(
        clippy::too_many_arguments,
        reason = "what an evaluation needs, each distinct"
    )]
    pub fn evaluate_json<'a>(
        &'a self,
        scratch: &'a mut Scratch,
        params: &'a ParamFrame,
        host: &'a dyn Host,
        policy: u32,
        json: &[u8],
        limits: &Limits,
        admit: Option<Admit<'_>>,
        now: i64,
    ) -> Option<Outcome<'a>> {
        self.run(
            scratch,
            params,
            host,
            policy,
            Input::Json(json, limits, admit),
            now,
            &[],
        )
        .ok()
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the two entry points above name them"
    )]
    fn run<'a>(
        &'a self,
        scratch: &'a mut Scratch,
        params: &'a ParamFrame,
        host: &'a dyn Host,
        policy: u32,
        input: Input<'_>,
        now: i64,
        preset_lets: &[(u32, &dyn Source)],
    ) -> Result<Outcome<'a>, json::Refused> {
        let program: &Program = &self.program;
        let failed = |message: String| Ok(Outcome::failed(policy, message));
        let Some(function) = self.policies.get(policy as usize) else {
            return failed(format!("no policy {policy}"));
        };
        let name = &program.policies[policy as usize].name;
        if params.slots.len() != program.params.len() {
            return failed(format!("{name}: params laid out for another program"));
        }
        let Scratch {
            arena,
            lets,
            let_state,
            stacks,
        } = scratch;
        arena.reset();
        lets.clear();
        let_state.clear();
        if params.let_slots.len() == program.lets.len() {
            // Lets known in advance start computed.
            lets.extend_from_slice(&params.let_slots);
            let_state.extend_from_slice(&params.let_known);
        } else {
            lets.resize(program.lets.len(), Slot::NONE);
            let_state.resize(program.lets.len(), 0);
        }
        let (lets, let_state) = (lets.as_mut_ptr(), let_state.as_mut_ptr());
        let arena: &'a Arena = arena;
        let input_ty = &program.policies[policy as usize].input;
        let input = match input {
            Input::Value(value) => match frame::encode(program, arena, input_ty, value) {
                Ok(val) => val.slot,
                Err(e) => return failed(format!("{name}: {e}")),
            },
            Input::Slot(slot) => slot,
            Input::Json(text, limits, admit) => {
                let (slot, sizes) = json::decode(program, arena, stacks, input_ty, text, limits)?;
                if let Some(admit) = admit
                    && let Err(reason) = admit(&sizes)
                {
                    return Ok(Outcome::failed(policy, reason));
                }
                slot
            }
        };
        // Lets given in advance (a test's `with`) count as computed.
        for (index, value) in preset_lets {
            let Some(item) = program.lets.get(*index as usize) else {
                continue;
            };
            match frame::encode(program, arena, &item.ty, *value) {
                // SAFETY: `index` is within the let caches, sized above.
                Ok(val) => unsafe {
                    *lets.add(*index as usize) = val.slot;
                    *let_state.add(*index as usize) = 1;
                },
                Err(e) => return failed(format!("{name}: let `{}`: {e}", item.name)),
            }
        }
        let block = shims::new_block(self, arena, policy);
        let run = Run {
            jit: self,
            host,
            arena,
            error: RefCell::new(None),
            standard_string_tests: host.standard_string_tests(),
            failed_lets: RefCell::new(Vec::new()),
        };
        let mut ctx = Ctx {
            params: params.slots.as_ptr(),
            lets,
            let_state,
            now,
            run: (&raw const run).cast(),
        };
        // SAFETY: `function` was compiled from `program` for exactly this
        // signature; `ctx` points to live params, let caches sized for the
        // program, and `run`; `input` is laid out as the policy's input
        // type in `arena`; `block` is a fresh decision block for `policy`.
        // The let caches are only written through `ctx` during this call.
        let status = unsafe { function(&mut ctx, &input, block) };
        let error = run.error.borrow_mut().take();
        if status != 0 {
            return failed(format!(
                "{name}: {}",
                error.unwrap_or_else(|| "evaluation failed".into())
            ));
        }
        // SAFETY: the block was filled by the policy's code, which lays it
        // out as `DecisionBlock` in `arena`, alive for `'a`.
        Ok(unsafe { shims::outcome(self, block, policy) })
    }
}

impl Outcome<'_> {
    /// A deny carrying `message`.
    fn failed(policy: u32, message: String) -> Self {
        Outcome {
            policy,
            effect: Effect::Deny,
            by_default: false,
            fired: &[],
            redactions: Vec::new(),
            value: None,
            error: Some(message),
        }
    }
}

/// Whether the JIT can run here: Cranelift supports the host's ISA.
pub fn host_supported() -> Result<(), JitError> {
    cranelift_native::builder()
        .map(|_| ())
        .map_err(|e| JitError::UnsupportedHost(e.to_string()))
}
