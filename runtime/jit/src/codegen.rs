//! IR to Cranelift: one function per policy and per top-level let.
//!
//! Every IR value is a pair of `i64`s, the two words of its [`Slot`]. A
//! node is compiled where it is used, as the interpreter evaluates it on
//! demand: `and`/`or`, `if`, `??`, `?.` and quantifiers branch, so only
//! what the interpreter evaluates runs. Every fallible operation branches
//! to the function's error exit, which returns status 1 with the message
//! stored by a shim.

use std::collections::HashMap;
use std::sync::Arc;

use cranelift_codegen::ir::condcodes::{FloatCC, IntCC};
use cranelift_codegen::ir::types::{F64, I64};
use cranelift_codegen::ir::{
    AbiParam, Block, BlockArg, InstBuilder, MemFlagsData, SigRef, Signature, StackSlotData,
    StackSlotKind, Value as CValue,
};
use cranelift_codegen::settings::{self, Configurable};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{FuncId, Linkage, Module, default_libcall_names};
use pol_ir::Builtin;
use pol_ir::ir::{
    Action, BinaryOp, Body, CollectionKind, Const, DecisionMember, Effect, FindingField, NodeId,
    Op, Ordered, PolicyKind, Program, QuantKind, Type, UnaryOp,
};

use crate::offsets::*;
use crate::shims::{
    self, FAIL_DIV_ZERO, FAIL_DURATION, FAIL_INT, FAIL_NEG_DURATION, FAIL_NEG_INT, FAIL_TIMESTAMP,
};
use crate::{JitError, JitProgram, LetFn, PolicyFn, Site};

type Result<T> = std::result::Result<T, JitError>;

fn codegen_error(what: impl Into<String>) -> JitError {
    JitError::Codegen(what.into())
}

/// What generated functions share while being built: the tables shims
/// read at run time.
struct Tables {
    types: Vec<Type>,
    /// Each type's index in `types`, so interning stays linear.
    type_ids: std::collections::HashMap<Type, u32>,
    sites: Vec<Site>,
    strings: Vec<Box<[u8]>>,
}

impl Tables {
    fn type_id(&mut self, ty: &Type) -> u32 {
        if let Some(&id) = self.type_ids.get(ty) {
            return id;
        }
        let id = self.types.len() as u32;
        self.types.push(ty.clone());
        self.type_ids.insert(ty.clone(), id);
        id
    }

    /// The address and length of a constant string's bytes.
    fn string(&mut self, text: &str) -> (u64, u64) {
        if text.is_empty() {
            return (std::ptr::NonNull::<u64>::dangling().as_ptr() as u64, 0);
        }
        let bytes: Box<[u8]> = text.as_bytes().into();
        let ptr = bytes.as_ptr() as u64;
        self.strings.push(bytes);
        (ptr, text.len() as u64)
    }
}

/// One function's machine code, ready to be placed in the module.
struct Compiled {
    id: FuncId,
    what: String,
    alignment: u64,
    bytes: Vec<u8>,
    relocs: Vec<cranelift_module::ModuleReloc>,
}

/// Compiles functions to machine code, on up to 4 threads when there are
/// enough of them to be worth it. The code comes back in function order;
/// on failure, the error of the first function that failed.
fn compile_all(
    isa: &dyn cranelift_codegen::isa::TargetIsa,
    functions: Vec<(FuncId, String, cranelift_codegen::ir::Function)>,
) -> Result<Vec<Compiled>> {
    let compile_one = |(id, what, func): (FuncId, String, cranelift_codegen::ir::Function)| {
        let mut context = cranelift_codegen::Context::for_function(func);
        let mut control = cranelift_codegen::control::ControlPlane::default();
        let alignment = context
            .compile(isa, &mut control)
            .map_err(|e| codegen_error(format!("{what}: {:?}", e.inner)))?
            .buffer
            .alignment as u64;
        let code = context
            .compiled_code()
            .ok_or_else(|| codegen_error(format!("{what}: no code")))?;
        let relocs = (code.buffer.relocs().iter())
            .map(|r| cranelift_module::ModuleReloc::from_mach_reloc(r, &context.func, id))
            .collect();
        Ok(Compiled {
            id,
            alignment,
            bytes: code.code_buffer().to_vec(),
            relocs,
            what,
        })
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(4);
    // Below this, a thread costs more than it saves.
    const PER_THREAD: usize = 16;
    if threads < 2 || functions.len() < 2 * PER_THREAD {
        return functions.into_iter().map(compile_one).collect();
    }
    let mut parts: Vec<Vec<_>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, function) in functions.into_iter().enumerate() {
        parts[i % threads].push((i, function));
    }
    let compile_one = &compile_one;
    // Each part is taken by the thread that compiles it, or here when no
    // thread could be started.
    let parts: Vec<std::sync::Mutex<Option<Vec<_>>>> = parts
        .into_iter()
        .map(|part| std::sync::Mutex::new(Some(part)))
        .collect();
    let work = |part: &std::sync::Mutex<Option<Vec<_>>>| -> Vec<(usize, Result<Compiled>)> {
        let taken = part
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .unwrap_or_default();
        taken
            .into_iter()
            .map(|(i, f)| (i, compile_one(f)))
            .collect()
    };
    let mut all: Vec<(usize, Result<Compiled>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (parts.iter())
            .map(|part| {
                std::thread::Builder::new()
                    .spawn_scoped(scope, || work(part))
                    .ok()
            })
            .collect();
        (handles.into_iter().zip(&parts))
            .flat_map(|(handle, part)| match handle {
                Some(handle) => handle.join().unwrap_or_else(|_| {
                    vec![(usize::MAX, Err(codegen_error("a compile thread panicked")))]
                }),
                None => work(part),
            })
            .collect()
    });
    // In function order; the first function that failed names the error.
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, c)| c).collect()
}

pub(crate) fn compile(program: Arc<Program>) -> Result<JitProgram> {
    let mut flags = settings::builder();
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| codegen_error(format!("setting {name}: {e}")))
    };
    set(&mut flags, "opt_level", "speed")?;
    // Cranelift's IR verifier checks the code this module generates: on in
    // debug builds (every test runs it), off in release, where it would be
    // about a third of the compile time of a bundle load.
    let verify = if cfg!(debug_assertions) {
        "true"
    } else {
        "false"
    };
    set(&mut flags, "enable_verifier", verify)?;
    set(&mut flags, "is_pic", "false")?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    let isa = cranelift_native::builder()
        .map_err(|e| JitError::UnsupportedHost(e.to_string()))?
        .finish(settings::Flags::new(flags))
        .map_err(|e| JitError::UnsupportedHost(e.to_string()))?;
    if isa.pointer_type() != I64 {
        return Err(JitError::UnsupportedHost(
            "the JIT needs 64-bit pointers".into(),
        ));
    }
    let mut module = JITModule::new(JITBuilder::with_isa(isa, default_libcall_names()));
    let mut tables = Tables {
        types: Vec::new(),
        type_ids: std::collections::HashMap::new(),
        sites: Vec::new(),
        strings: Vec::new(),
    };
    // `list<Finding>` first: `JitProgram::findings_list_type`.
    tables.type_id(&Type::List(Box::new(Type::Finding)));
    let filter_types: Vec<Option<u32>> = program
        .policies
        .iter()
        .map(|p| match &p.kind {
            PolicyKind::Filter { elem } => {
                Some(tables.type_id(&Type::List(Box::new(elem.clone()))))
            }
            _ => None,
        })
        .collect();

    let mut policy_sig = module.make_signature();
    policy_sig.params.extend([AbiParam::new(I64); 3]);
    policy_sig.returns.push(AbiParam::new(I64));
    let mut let_sig = module.make_signature();
    let_sig.params.push(AbiParam::new(I64));
    let_sig.returns.push(AbiParam::new(I64));
    let declare = |module: &mut JITModule, name: String, sig: &Signature| {
        module
            .declare_function(&name, Linkage::Local, sig)
            .map_err(|e| codegen_error(e.to_string()))
    };
    let policy_ids: Vec<FuncId> = (0..program.policies.len())
        .map(|i| declare(&mut module, format!("policy{i}"), &policy_sig))
        .collect::<Result<_>>()?;
    let let_ids: Vec<FuncId> = (0..program.lets.len())
        .map(|i| declare(&mut module, format!("let{i}"), &let_sig))
        .collect::<Result<_>>()?;
    let ids = Ids {
        policies: policy_ids.clone(),
        lets: let_ids.clone(),
    };

    // Build every function's IR (cheap, and it declares what it calls in
    // the module), then let Cranelift compile them on every core (most of a
    // bundle load), then place the code in the module.
    let mut builder_context = FunctionBuilderContext::new();
    let mut functions: Vec<(FuncId, String, cranelift_codegen::ir::Function)> = Vec::new();
    for (index, id) in policy_ids.iter().enumerate() {
        let mut func = cranelift_codegen::ir::Function::with_name_signature(
            cranelift_codegen::ir::UserFuncName::user(0, id.as_u32()),
            policy_sig.clone(),
        );
        {
            let b = FunctionBuilder::new(&mut func, &mut builder_context);
            let policy = &program.policies[index];
            let g = FnGen::new(b, &mut module, &program, &policy.body, &mut tables, &ids);
            g.policy(index as u32)?;
        }
        functions.push((*id, format!("policy {index}"), func));
    }
    for (index, id) in let_ids.iter().enumerate() {
        let mut func = cranelift_codegen::ir::Function::with_name_signature(
            cranelift_codegen::ir::UserFuncName::user(0, id.as_u32()),
            let_sig.clone(),
        );
        {
            let b = FunctionBuilder::new(&mut func, &mut builder_context);
            let body = &program.lets[index].value;
            let g = FnGen::new(b, &mut module, &program, body, &mut tables, &ids);
            g.let_function(index as u32)?;
        }
        functions.push((*id, format!("let {index}"), func));
    }
    for code in compile_all(module.isa(), functions)? {
        module
            .define_function_bytes(code.id, code.alignment, &code.bytes, &code.relocs)
            .map_err(|e| codegen_error(format!("{}: {e:?}", code.what)))?;
    }
    module
        .finalize_definitions()
        .map_err(|e| codegen_error(e.to_string()))?;
    // SAFETY: each pointer is a finalized function compiled with exactly
    // the signature of the Rust type it becomes.
    let policies: Vec<PolicyFn> = policy_ids
        .iter()
        .map(|id| unsafe {
            std::mem::transmute::<*const u8, PolicyFn>(module.get_finalized_function(*id))
        })
        .collect();
    // SAFETY: as above.
    let lets: Vec<LetFn> = let_ids
        .iter()
        .map(|id| unsafe {
            std::mem::transmute::<*const u8, LetFn>(module.get_finalized_function(*id))
        })
        .collect();
    let fired_words = program
        .policies
        .iter()
        .map(|p| p.rules.len().div_ceil(64).max(1))
        .collect();
    let redact_rules = program
        .policies
        .iter()
        .map(|p| {
            p.rules
                .iter()
                .filter(|r| matches!(r.action, Action::Redact { .. }))
                .count()
        })
        .collect();
    Ok(JitProgram {
        program,
        module: Some(module),
        policies,
        lets,
        sites: tables.sites,
        types: tables.types,
        strings: tables.strings,
        fired_words,
        redact_rules,
        filter_types,
    })
}

struct Ids {
    policies: Vec<FuncId>,
    lets: Vec<FuncId>,
}

/// A value being computed: the two words of its slot.
#[derive(Debug, Clone, Copy)]
struct V {
    a: CValue,
    b: CValue,
}

/// The deepest expression compiled (the front end bounds expression
/// depth; this guards hand-made programs).
const MAX_DEPTH: usize = 512;

/// The string tests native code runs without going through the host (see
/// [`shims::string_test`]); the discriminant is the shim's code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StringTest {
    Contains = 0,
    StartsWith = 1,
    EndsWith = 2,
    Intersects = 3,
}

impl StringTest {
    /// The test for a call of `id` with arguments of `types`: strings, or
    /// collections of strings for `intersects` (no optional anywhere).
    fn of(id: Builtin, types: &[Type]) -> Option<StringTest> {
        let strings = |t: &Type| match t {
            Type::List(e) | Type::Set(e) => **e == Type::String,
            _ => false,
        };
        match (id, types) {
            (Builtin::StrContains, [Type::String, Type::String]) => Some(StringTest::Contains),
            (Builtin::StrStartsWith, [Type::String, Type::String]) => Some(StringTest::StartsWith),
            (Builtin::StrEndsWith, [Type::String, Type::String]) => Some(StringTest::EndsWith),
            (Builtin::CollIntersects, [x, y]) if strings(x) && strings(y) => {
                Some(StringTest::Intersects)
            }
            _ => None,
        }
    }
}

/// The element type of a list or set type, or of an optional one.
fn element_type(coll: &Type) -> Option<&Type> {
    match coll {
        Type::List(e) | Type::Set(e) => Some(e),
        Type::Optional(inner) => match &**inner {
            Type::List(e) | Type::Set(e) => Some(e),
            _ => None,
        },
        _ => None,
    }
}

/// Whether two values of type `ty` are equal exactly when both words of
/// their slots are (scalars other than floats, `none`, and their
/// optionals).
fn scalar_words(ty: &Type) -> bool {
    let inner = match ty {
        Type::Optional(t) => &**t,
        t => t,
    };
    matches!(
        inner,
        Type::Bool | Type::Int | Type::Duration | Type::Timestamp | Type::Enum(_) | Type::None
    )
}

/// A let's state byte once its computation failed (see `let_function`).
pub(crate) const LET_FAILED: i64 = 2;

struct FnGen<'a, 'f> {
    b: FunctionBuilder<'f>,
    module: &'a mut JITModule,
    program: &'a Program,
    body: &'a Body,
    tables: &'a mut Tables,
    ids: &'a Ids,
    ctx: CValue,
    vars: Vec<(Variable, Variable)>,
    error: Block,
    sigs: HashMap<usize, SigRef>,
    depth: usize,
}

fn flags() -> MemFlagsData {
    MemFlagsData::trusted()
}

impl<'a, 'f> FnGen<'a, 'f> {
    fn new(
        mut b: FunctionBuilder<'f>,
        module: &'a mut JITModule,
        program: &'a Program,
        body: &'a Body,
        tables: &'a mut Tables,
        ids: &'a Ids,
    ) -> FnGen<'a, 'f> {
        let entry = b.create_block();
        b.append_block_params_for_function_params(entry);
        b.switch_to_block(entry);
        let ctx = b.block_params(entry)[0];
        let zero = b.ins().iconst(I64, 0);
        let mut vars = Vec::with_capacity(body.slots.len());
        for _ in &body.slots {
            let a = b.declare_var(I64);
            let bv = b.declare_var(I64);
            b.def_var(a, zero);
            b.def_var(bv, zero);
            vars.push((a, bv));
        }
        let error = b.create_block();
        FnGen {
            b,
            module,
            program,
            body,
            tables,
            ids,
            ctx,
            vars,
            error,
            sigs: HashMap::new(),
            depth: 0,
        }
    }

    // ---------------------------------------------------------- helpers

    fn iconst(&mut self, n: i64) -> CValue {
        self.b.ins().iconst(I64, n)
    }

    fn scalar(&mut self, a: CValue) -> V {
        let one = self.iconst(1);
        V { a, b: one }
    }

    /// A bool from a comparison result (an `i8`).
    fn boolean(&mut self, c: CValue) -> V {
        let a = self.b.ins().uextend(I64, c);
        self.scalar(a)
    }

    fn none(&mut self) -> V {
        let zero = self.iconst(0);
        V { a: zero, b: zero }
    }

    /// Whether `v` is `none` (an `i8`).
    fn is_none(&mut self, v: V) -> CValue {
        let any = self.b.ins().bor(v.a, v.b);
        self.b.ins().icmp_imm_s(IntCC::Equal, any, 0)
    }

    /// Calls a shim at `address` with `args` (all `i64`), returning its
    /// `i64` result.
    fn call(&mut self, address: usize, args: &[CValue]) -> CValue {
        let sig = match self.sigs.get(&args.len()) {
            Some(sig) => *sig,
            None => {
                let mut signature = self.module.make_signature();
                signature
                    .params
                    .extend(std::iter::repeat_n(AbiParam::new(I64), args.len()));
                signature.returns.push(AbiParam::new(I64));
                let sig = self.b.import_signature(signature);
                self.sigs.insert(args.len(), sig);
                sig
            }
        };
        let callee = self.iconst(address as i64);
        let call = self.b.ins().call_indirect(sig, callee, args);
        self.b.inst_results(call)[0]
    }

    /// Continues when `status` is zero; otherwise leaves by the error exit.
    fn check(&mut self, status: CValue) {
        let ok = self.b.create_block();
        self.b.ins().brif(status, self.error, &[], ok, &[]);
        self.b.switch_to_block(ok);
        self.b.seal_block(ok);
    }

    /// Leaves by the error exit with failure `code` when `cond` holds.
    fn fail_if(&mut self, cond: CValue, code: u32) {
        let failed = self.b.create_block();
        let ok = self.b.create_block();
        self.b.ins().brif(cond, failed, &[], ok, &[]);
        self.b.switch_to_block(failed);
        self.b.seal_block(failed);
        let code = self.iconst(i64::from(code));
        let ctx = self.ctx;
        self.call(shims::fail_code as *const () as usize, &[ctx, code]);
        self.b.ins().jump(self.error, &[]);
        self.b.switch_to_block(ok);
        self.b.seal_block(ok);
    }

    /// A stack area of `slots` slots; its address.
    fn stack(&mut self, slots: u32) -> CValue {
        let ss = self.b.create_sized_stack_slot(StackSlotData::new(
            StackSlotKind::ExplicitSlot,
            slots.max(1) * 16,
            3,
        ));
        self.b.ins().stack_addr(I64, ss, 0)
    }

    fn load_slot(&mut self, ptr: CValue, offset: i32) -> V {
        let a = self.b.ins().load(I64, flags(), ptr, offset);
        let b = self.b.ins().load(I64, flags(), ptr, offset + 8);
        V { a, b }
    }

    fn store_slot(&mut self, v: V, ptr: CValue, offset: i32) {
        self.b.ins().store(flags(), v.a, ptr, offset);
        self.b.ins().store(flags(), v.b, ptr, offset + 8);
    }

    /// `words` words of arena memory.
    fn alloc(&mut self, words: CValue) -> CValue {
        let ctx = self.ctx;
        self.call(shims::alloc as *const () as usize, &[ctx, words])
    }

    fn var(&mut self, slot: u32) -> Result<(Variable, Variable)> {
        self.vars
            .get(slot as usize)
            .copied()
            .ok_or_else(|| codegen_error(format!("no slot {slot}")))
    }

    fn set_var(&mut self, slot: u32, v: V) -> Result<()> {
        let (a, b) = self.var(slot)?;
        self.b.def_var(a, v.a);
        self.b.def_var(b, v.b);
        Ok(())
    }

    fn get_var(&mut self, slot: u32) -> Result<V> {
        let (a, b) = self.var(slot)?;
        Ok(V {
            a: self.b.use_var(a),
            b: self.b.use_var(b),
        })
    }

    /// A join block taking a value.
    fn join_block(&mut self) -> Block {
        let join = self.b.create_block();
        self.b.append_block_param(join, I64);
        self.b.append_block_param(join, I64);
        join
    }

    fn jump_with(&mut self, block: Block, v: V) {
        self.b
            .ins()
            .jump(block, &[BlockArg::Value(v.a), BlockArg::Value(v.b)]);
    }

    fn joined(&mut self, join: Block) -> V {
        self.b.switch_to_block(join);
        self.b.seal_block(join);
        let params = self.b.block_params(join);
        V {
            a: params[0],
            b: params[1],
        }
    }

    fn node_type(&self, id: NodeId) -> Result<&'a Type> {
        self.body
            .nodes
            .get(id.0 as usize)
            .map(|n| &n.ty)
            .ok_or_else(|| codegen_error(format!("no node {}", id.0)))
    }

    fn finish(self) {
        self.finish_with(None);
    }

    /// Fills the error exit and finalizes the function; a let's error exit
    /// (`failing_let`) records the failure before leaving.
    fn finish_with(mut self, failing_let: Option<u32>) {
        self.b.switch_to_block(self.error);
        self.b.seal_block(self.error);
        if let Some(index) = failing_let {
            let ctx = self.ctx;
            let which = self.iconst(i64::from(index));
            self.call(shims::let_failed as *const () as usize, &[ctx, which]);
        }
        let one = self.iconst(1);
        self.b.ins().return_(&[one]);
        self.b.seal_all_blocks();
        let config = self.module.isa().frontend_config();
        self.b.finalize(config);
    }

    // ---------------------------------------------------------- functions

    fn let_function(mut self, index: u32) -> Result<()> {
        // Computed at most once per evaluation, failed or not: the state
        // byte is 0 before, 1 once computed, 2 once failed (the error kept
        // by the run, given again to every later reader, as the
        // interpreter does).
        let ctx = self.ctx;
        let state_base = self.b.ins().load(I64, flags(), ctx, CTX_LET_STATE);
        let state = self.b.ins().uload8(I64, flags(), state_base, index as i32);
        let compute = self.b.create_block();
        let known = self.b.create_block();
        let refail = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(state, known, &[], compute, &[]);
        self.b.switch_to_block(known);
        self.b.seal_block(known);
        let failed = self.b.ins().icmp_imm_s(IntCC::Equal, state, LET_FAILED);
        self.b.ins().brif(failed, refail, &[], done, &[]);
        self.b.switch_to_block(refail);
        self.b.seal_block(refail);
        let which = self.iconst(i64::from(index));
        self.call(
            shims::let_failed_before as *const () as usize,
            &[ctx, which],
        );
        let one = self.iconst(1);
        self.b.ins().return_(&[one]);
        self.b.switch_to_block(compute);
        self.b.seal_block(compute);
        let root = self
            .body
            .root
            .ok_or_else(|| codegen_error("a let without a value"))?;
        let v = self.expr(root)?;
        let lets = self.b.ins().load(I64, flags(), ctx, CTX_LETS);
        self.store_slot(v, lets, index as i32 * 16);
        let one = self.iconst(1);
        self.b.ins().istore8(flags(), one, state_base, index as i32);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        let zero = self.iconst(0);
        self.b.ins().return_(&[zero]);
        self.finish_with(Some(index));
        Ok(())
    }

    fn policy(mut self, index: u32) -> Result<()> {
        let program = self.program;
        let policy = &program.policies[index as usize];
        let entry = self
            .b
            .current_block()
            .ok_or_else(|| codegen_error("no entry"))?;
        let (input_ptr, block) = {
            let params = self.b.block_params(entry);
            (params[1], params[2])
        };
        let input = self.load_slot(input_ptr, 0);
        if !policy.body.slots.is_empty() {
            self.set_var(0, input)?;
        }
        for local in &policy.locals {
            let v = self.expr(local.value)?;
            self.set_var(local.slot.0, v)?;
        }
        match &policy.kind {
            PolicyKind::Decision { default } => {
                self.decision_rules(policy, block, default.as_ref().map(|d| d.effect))?;
            }
            PolicyKind::Value { value, .. } => self.value_rules(policy, block, *value)?,
            PolicyKind::Filter { .. } => self.filter_rules(policy, block)?,
        }
        let zero = self.iconst(0);
        self.b.ins().return_(&[zero]);
        self.finish();
        Ok(())
    }

    /// Sets bit `rule` of the block's fired bits.
    fn fire(&mut self, block: CValue, rule: usize) {
        let fired = self.b.ins().load(I64, flags(), block, BLOCK_FIRED);
        let offset = (rule / 64 * 8) as i32;
        let word = self.b.ins().load(I64, flags(), fired, offset);
        let bit = self.iconst(1i64 << (rule % 64));
        let word = self.b.ins().bor(word, bit);
        self.b.ins().store(flags(), word, fired, offset);
    }

    fn store_u32(&mut self, value: u32, block: CValue, offset: i32) {
        let v = self
            .b
            .ins()
            .iconst(cranelift_codegen::ir::types::I32, i64::from(value));
        self.b.ins().store(flags(), v, block, offset);
    }

    /// The rule's condition: an `i64` 0 or 1 (1 without a `when`).
    fn condition(&mut self, when: Option<NodeId>) -> Result<CValue> {
        match when {
            Some(node) => Ok(self.expr(node)?.a),
            None => Ok(self.iconst(1)),
        }
    }

    fn decision_rules(
        &mut self,
        policy: &pol_ir::ir::Policy,
        block: CValue,
        default: Option<Effect>,
    ) -> Result<()> {
        let allow = self.b.declare_var(I64);
        let deny = self.b.declare_var(I64);
        let redactions = self.b.declare_var(I64);
        let zero = self.iconst(0);
        self.b.def_var(allow, zero);
        self.b.def_var(deny, zero);
        self.b.def_var(redactions, zero);
        for (i, rule) in policy.rules.iter().enumerate() {
            let holds = self.condition(rule.when)?;
            let fire = self.b.create_block();
            let next = self.b.create_block();
            self.b.ins().brif(holds, fire, &[], next, &[]);
            self.b.switch_to_block(fire);
            self.b.seal_block(fire);
            match &rule.action {
                Action::Allow => {
                    let one = self.iconst(1);
                    self.b.def_var(allow, one);
                }
                Action::Deny => {
                    let one = self.iconst(1);
                    self.b.def_var(deny, one);
                }
                Action::Redact { findings } => {
                    let list = self.expr(*findings)?;
                    // A redaction with nothing to redact does not fire.
                    let empty = self.b.ins().icmp_imm_s(IntCC::Equal, list.b, 0);
                    let record = self.b.create_block();
                    self.b.ins().brif(empty, next, &[], record, &[]);
                    self.b.switch_to_block(record);
                    self.b.seal_block(record);
                    let count = self.b.use_var(redactions);
                    let base = self.b.ins().load(I64, flags(), block, BLOCK_REDACTIONS);
                    let offset = self.b.ins().imul_imm_s(count, 32);
                    let at = self.b.ins().iadd(base, offset);
                    let rule_index = self.iconst(i as i64);
                    let index_slot = self.scalar(rule_index);
                    self.store_slot(index_slot, at, 0);
                    self.store_slot(list, at, 16);
                    let count = self.b.ins().iadd_imm_s(count, 1);
                    self.b.def_var(redactions, count);
                    self.b
                        .ins()
                        .store(flags(), count, block, BLOCK_REDACTION_COUNT);
                }
                Action::RequireApproval | Action::Alert { .. } => {}
                Action::Return { .. } | Action::Keep { .. } => {
                    return Err(codegen_error("a value or filter rule in a decision policy"));
                }
            }
            self.fire(block, i);
            self.b.ins().jump(next, &[]);
            self.b.switch_to_block(next);
            self.b.seal_block(next);
        }
        // Deny overrides allow; without either, the default (deny when
        // none is written).
        let allow = self.b.use_var(allow);
        let deny = self.b.use_var(deny);
        let default = i64::from(matches!(default, Some(Effect::Allow)));
        let default = self.iconst(default);
        let one = self.iconst(1);
        let zero = self.iconst(0);
        let allowed_or_default = self.b.ins().select(allow, one, default);
        let effect = self.b.ins().select(deny, zero, allowed_or_default);
        let either = self.b.ins().bor(allow, deny);
        let by_default = self.b.ins().icmp_imm_s(IntCC::Equal, either, 0);
        let effect32 = self
            .b
            .ins()
            .ireduce(cranelift_codegen::ir::types::I32, effect);
        self.b.ins().store(flags(), effect32, block, BLOCK_EFFECT);
        let by_default = self
            .b
            .ins()
            .uextend(cranelift_codegen::ir::types::I32, by_default);
        self.b
            .ins()
            .store(flags(), by_default, block, BLOCK_BY_DEFAULT);
        Ok(())
    }

    fn value_rules(
        &mut self,
        policy: &pol_ir::ir::Policy,
        block: CValue,
        default: NodeId,
    ) -> Result<()> {
        self.store_u32(1, block, BLOCK_EFFECT);
        let done = self.b.create_block();
        for (i, rule) in policy.rules.iter().enumerate() {
            let Action::Return { value } = &rule.action else {
                continue;
            };
            let holds = self.condition(rule.when)?;
            let chosen = self.b.create_block();
            let next = self.b.create_block();
            self.b.ins().brif(holds, chosen, &[], next, &[]);
            self.b.switch_to_block(chosen);
            self.b.seal_block(chosen);
            let v = self.expr(*value)?;
            self.store_slot(v, block, BLOCK_VALUE);
            self.fire(block, i);
            self.b.ins().jump(done, &[]);
            self.b.switch_to_block(next);
            self.b.seal_block(next);
        }
        self.store_u32(1, block, BLOCK_BY_DEFAULT);
        let v = self.expr(default)?;
        self.store_slot(v, block, BLOCK_VALUE);
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        Ok(())
    }

    fn filter_rules(&mut self, policy: &pol_ir::ir::Policy, block: CValue) -> Result<()> {
        self.store_u32(1, block, BLOCK_EFFECT);
        // The kept elements: a growable buffer [ptr, len, cap] on the stack.
        let kept = self.stack(2);
        let zero = self.iconst(0);
        let empty = self.alloc(zero);
        self.b.ins().store(flags(), empty, kept, 0);
        self.b.ins().store(flags(), zero, kept, 8);
        self.b.ins().store(flags(), zero, kept, 16);
        for (i, rule) in policy.rules.iter().enumerate() {
            let Action::Keep {
                collection,
                elem,
                limit,
            } = &rule.action
            else {
                continue;
            };
            let limit = match limit {
                Some(limit) => {
                    let n = self.expr(*limit)?.a;
                    // A negative limit keeps nothing.
                    let negative = self.b.ins().icmp_imm_s(IntCC::SignedLessThan, n, 0);
                    self.b.ins().select(negative, zero, n)
                }
                None => self.iconst(i64::MAX),
            };
            let coll = self.expr(*collection)?;
            let ctx = self.ctx;
            let status = self.call(shims::grow as *const () as usize, &[ctx, kept, coll.b]);
            self.check(status);
            // for each element while len < limit
            let header = self.b.create_block();
            self.b.append_block_param(header, I64);
            let body = self.b.create_block();
            let exit = self.b.create_block();
            let start = self.iconst(0);
            self.b.ins().jump(header, &[BlockArg::Value(start)]);
            self.b.switch_to_block(header);
            let index = self.b.block_params(header)[0];
            let in_range = self.b.ins().icmp(IntCC::UnsignedLessThan, index, coll.b);
            let len = self.b.ins().load(I64, flags(), kept, 8);
            let room = self.b.ins().icmp(IntCC::SignedLessThan, len, limit);
            let go = self.b.ins().band(in_range, room);
            self.b.ins().brif(go, body, &[], exit, &[]);
            self.b.switch_to_block(body);
            self.b.seal_block(body);
            let offset = self.b.ins().imul_imm_s(index, 16);
            let at = self.b.ins().iadd(coll.a, offset);
            let element = self.load_slot(at, 0);
            self.set_var(elem.0, element)?;
            let holds = self.condition(rule.when)?;
            let keep = self.b.create_block();
            let next = self.b.create_block();
            self.b.ins().brif(holds, keep, &[], next, &[]);
            self.b.switch_to_block(keep);
            self.b.seal_block(keep);
            let buffer = self.b.ins().load(I64, flags(), kept, 0);
            let len = self.b.ins().load(I64, flags(), kept, 8);
            let offset = self.b.ins().imul_imm_s(len, 16);
            let to = self.b.ins().iadd(buffer, offset);
            self.store_slot(element, to, 0);
            let len = self.b.ins().iadd_imm_s(len, 1);
            self.b.ins().store(flags(), len, kept, 8);
            self.b.ins().jump(next, &[]);
            self.b.switch_to_block(next);
            self.b.seal_block(next);
            let index = self.b.ins().iadd_imm_s(index, 1);
            self.b.ins().jump(header, &[BlockArg::Value(index)]);
            self.b.seal_block(header);
            self.b.switch_to_block(exit);
            self.b.seal_block(exit);
            // The rule fires when anything is kept so far.
            let len = self.b.ins().load(I64, flags(), kept, 8);
            let fire = self.b.create_block();
            let after = self.b.create_block();
            self.b.ins().brif(len, fire, &[], after, &[]);
            self.b.switch_to_block(fire);
            self.b.seal_block(fire);
            self.fire(block, i);
            self.b.ins().jump(after, &[]);
            self.b.switch_to_block(after);
            self.b.seal_block(after);
        }
        let buffer = self.b.ins().load(I64, flags(), kept, 0);
        let len = self.b.ins().load(I64, flags(), kept, 8);
        self.store_slot(V { a: buffer, b: len }, block, BLOCK_VALUE);
        Ok(())
    }

    // ---------------------------------------------------------- expressions

    fn expr(&mut self, id: NodeId) -> Result<V> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(codegen_error("expression nested too deeply"));
        }
        let result = self.expr_inner(id);
        self.depth -= 1;
        result
    }

    fn expr_inner(&mut self, id: NodeId) -> Result<V> {
        let node = self
            .body
            .nodes
            .get(id.0 as usize)
            .ok_or_else(|| codegen_error(format!("no node {}", id.0)))?;
        let ty = &node.ty;
        match &node.op {
            Op::Const(c) => Ok(self.constant(c)),
            Op::Local(slot) => self.get_var(slot.0),
            Op::Let(i) => {
                let func = *self
                    .ids
                    .lets
                    .get(*i as usize)
                    .ok_or_else(|| codegen_error(format!("no let {i}")))?;
                let fref = self.module.declare_func_in_func(func, self.b.func);
                let ctx = self.ctx;
                let call = self.b.ins().call(fref, &[ctx]);
                let status = self.b.inst_results(call)[0];
                self.check(status);
                let lets = self.b.ins().load(I64, flags(), ctx, CTX_LETS);
                Ok(self.load_slot(lets, *i as i32 * 16))
            }
            Op::Param(i) => {
                let ctx = self.ctx;
                let params = self.b.ins().load(I64, flags(), ctx, CTX_PARAMS);
                Ok(self.load_slot(params, *i as i32 * 16))
            }
            Op::Now => {
                let ctx = self.ctx;
                let now = self.b.ins().load(I64, flags(), ctx, CTX_NOW);
                Ok(self.scalar(now))
            }
            Op::Field { base, index } => {
                let record = self.expr(*base)?;
                Ok(self.load_slot(record.a, *index as i32 * 16))
            }
            Op::FindingField { base, field } => {
                let finding = self.expr(*base)?;
                let slot = match field {
                    FindingField::Kind => 0,
                    FindingField::Start => 1,
                    FindingField::End => 2,
                    FindingField::Text => 3,
                };
                Ok(self.load_slot(finding.a, slot * 16))
            }
            Op::DecisionMember { base, member } => {
                let decision = self.expr(*base)?;
                match member {
                    DecisionMember::Allowed | DecisionMember::Denied => {
                        let effect = self.b.ins().uload32(flags(), decision.a, BLOCK_EFFECT);
                        let want = i64::from(*member == DecisionMember::Allowed);
                        let c = self.b.ins().icmp_imm_s(IntCC::Equal, effect, want);
                        Ok(self.boolean(c))
                    }
                    other => {
                        let code = match other {
                            DecisionMember::Reasons => 2,
                            DecisionMember::RequiresApproval => 3,
                            DecisionMember::Redactions => 4,
                            DecisionMember::Alerted => 5,
                            DecisionMember::Error => 6,
                            _ => 7,
                        };
                        let out = self.stack(1);
                        let code = self.iconst(code);
                        let ctx = self.ctx;
                        let status = self.call(
                            shims::member as *const () as usize,
                            &[ctx, decision.a, code, out],
                        );
                        self.check(status);
                        Ok(self.load_slot(out, 0))
                    }
                }
            }
            Op::Fired { base, reason } => {
                let decision = self.expr(*base)?;
                let reason = self.expr(*reason)?;
                let ctx = self.ctx;
                let found = self.call(
                    shims::fired_reason as *const () as usize,
                    &[ctx, decision.a, reason.a, reason.b],
                );
                Ok(self.scalar(found))
            }
            Op::IfPresent { value, slot, then } => {
                let v = self.expr(*value)?;
                let absent = self.is_none(v);
                let present = self.b.create_block();
                let join = self.join_block();
                let none = self.none();
                self.b.ins().brif(
                    absent,
                    join,
                    &[BlockArg::Value(none.a), BlockArg::Value(none.b)],
                    present,
                    &[],
                );
                self.b.switch_to_block(present);
                self.b.seal_block(present);
                self.set_var(slot.0, v)?;
                let t = self.expr(*then)?;
                self.jump_with(join, t);
                Ok(self.joined(join))
            }
            Op::Index { base, index, on } => {
                let coll = self.expr(*base)?;
                let key = self.expr(*index)?;
                match on {
                    CollectionKind::Map => {
                        let out = self.stack(1);
                        let ctx = self.ctx;
                        let status = self.call(
                            shims::map_get as *const () as usize,
                            &[ctx, coll.a, coll.b, key.a, key.b, out],
                        );
                        self.check(status);
                        Ok(self.load_slot(out, 0))
                    }
                    _ => {
                        // In range (unsigned: negatives are out) reads the
                        // element; otherwise `none`.
                        let inside = self.b.ins().icmp(IntCC::UnsignedLessThan, key.a, coll.b);
                        let read = self.b.create_block();
                        let join = self.join_block();
                        let none = self.none();
                        self.b.ins().brif(
                            inside,
                            read,
                            &[],
                            join,
                            &[BlockArg::Value(none.a), BlockArg::Value(none.b)],
                        );
                        self.b.switch_to_block(read);
                        self.b.seal_block(read);
                        let offset = self.b.ins().imul_imm_s(key.a, 16);
                        let at = self.b.ins().iadd(coll.a, offset);
                        let element = self.load_slot(at, 0);
                        self.jump_with(join, element);
                        Ok(self.joined(join))
                    }
                }
            }
            Op::Coalesce { value, default } => {
                let v = self.expr(*value)?;
                let absent = self.is_none(v);
                let fallback = self.b.create_block();
                let join = self.join_block();
                self.b.ins().brif(
                    absent,
                    fallback,
                    &[],
                    join,
                    &[BlockArg::Value(v.a), BlockArg::Value(v.b)],
                );
                self.b.switch_to_block(fallback);
                self.b.seal_block(fallback);
                let d = self.expr(*default)?;
                self.jump_with(join, d);
                Ok(self.joined(join))
            }
            Op::Unary { op, operand } => {
                let v = self.expr(*operand)?;
                match op {
                    UnaryOp::Not => {
                        let a = self.b.ins().bxor_imm_s(v.a, 1);
                        Ok(self.scalar(a))
                    }
                    UnaryOp::NegInt | UnaryOp::NegDuration => {
                        let overflow = self.b.ins().icmp_imm_s(IntCC::Equal, v.a, i64::MIN);
                        let code = if *op == UnaryOp::NegInt {
                            FAIL_NEG_INT
                        } else {
                            FAIL_NEG_DURATION
                        };
                        self.fail_if(overflow, code);
                        let a = self.b.ins().ineg(v.a);
                        Ok(self.scalar(a))
                    }
                    UnaryOp::NegFloat => {
                        let f = self.b.ins().bitcast(F64, MemFlagsData::new(), v.a);
                        let n = self.b.ins().fneg(f);
                        let a = self.b.ins().bitcast(I64, MemFlagsData::new(), n);
                        Ok(self.scalar(a))
                    }
                }
            }
            Op::IntToFloat(operand) => {
                let v = self.expr(*operand)?;
                // An optional int stays `none`.
                let f = self.b.ins().fcvt_from_sint(F64, v.a);
                let bits = self.b.ins().bitcast(I64, MemFlagsData::new(), f);
                let present = self.b.ins().icmp_imm_s(IntCC::NotEqual, v.b, 0);
                let zero = self.iconst(0);
                let a = self.b.ins().select(present, bits, zero);
                Ok(V { a, b: v.b })
            }
            Op::Binary { op, lhs, rhs } => self.binary(*op, *lhs, *rhs),
            Op::If {
                cond,
                then,
                otherwise,
            } => {
                let c = self.expr(*cond)?;
                let yes = self.b.create_block();
                let no = self.b.create_block();
                let join = self.join_block();
                self.b.ins().brif(c.a, yes, &[], no, &[]);
                self.b.switch_to_block(yes);
                self.b.seal_block(yes);
                let t = self.expr(*then)?;
                self.jump_with(join, t);
                self.b.switch_to_block(no);
                self.b.seal_block(no);
                let e = self.expr(*otherwise)?;
                self.jump_with(join, e);
                Ok(self.joined(join))
            }
            Op::Quant {
                kind,
                over,
                collection,
                key,
                elem,
                body,
            } => self.quant(*kind, *over, *collection, key.map(|k| k.0), elem.0, *body),
            Op::List(items) | Op::Set(items) => {
                let values = items
                    .iter()
                    .map(|item| self.expr(*item))
                    .collect::<Result<Vec<V>>>()?;
                let words = self.iconst(values.len() as i64 * 2);
                let ptr = self.alloc(words);
                for (i, v) in values.iter().enumerate() {
                    self.store_slot(*v, ptr, i as i32 * 16);
                }
                let mut len = self.iconst(values.len() as i64);
                if matches!(node.op, Op::Set(_)) && values.len() > 1 {
                    // A literal may be declared `set<T>?`: its elements are `T`.
                    let mut set = ty;
                    while let Type::Optional(inner) = set {
                        set = inner;
                    }
                    let elem = match set {
                        Type::Set(e) => (**e).clone(),
                        _ => Type::None,
                    };
                    let elem = i64::from(self.tables.type_id(&elem));
                    let elem = self.iconst(elem);
                    let ctx = self.ctx;
                    len = self.call(
                        shims::set_dedup as *const () as usize,
                        &[ctx, elem, ptr, len],
                    );
                }
                Ok(V { a: ptr, b: len })
            }
            Op::Map(entries) => {
                // Values are evaluated in written order, stored by key.
                let mut values = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    values.push((key.as_str(), self.expr(*value)?));
                }
                values.sort_by(|x, y| x.0.as_bytes().cmp(y.0.as_bytes()));
                values.dedup_by(|later, earlier| {
                    // A repeated key keeps its last value, as a map insert.
                    if later.0 == earlier.0 {
                        earlier.1 = later.1;
                        true
                    } else {
                        false
                    }
                });
                let words = self.iconst(values.len() as i64 * 4);
                let ptr = self.alloc(words);
                for (i, (key, v)) in values.iter().enumerate() {
                    let key = self.string_const(key);
                    self.store_slot(key, ptr, i as i32 * 32);
                    self.store_slot(*v, ptr, i as i32 * 32 + 16);
                }
                let len = self.iconst(values.len() as i64);
                Ok(V { a: ptr, b: len })
            }
            Op::Record { fields, .. } => {
                let mut values = Vec::with_capacity(fields.len());
                for field in fields {
                    values.push(match field {
                        Some(node) => self.expr(*node)?,
                        None => self.none(),
                    });
                }
                let words = self.iconst(values.len() as i64 * 2);
                let ptr = self.alloc(words);
                for (i, v) in values.iter().enumerate() {
                    self.store_slot(*v, ptr, i as i32 * 16);
                }
                Ok(self.scalar(ptr))
            }
            Op::Finding {
                kind,
                start,
                end,
                text,
            } => {
                let kind = self.expr(*kind)?;
                let start = self.expr(*start)?;
                let end = self.expr(*end)?;
                let text = match text {
                    Some(node) => self.expr(*node)?,
                    None => self.string_const(""),
                };
                let words = self.iconst(8);
                let ptr = self.alloc(words);
                for (i, v) in [kind, start, end, text].iter().enumerate() {
                    self.store_slot(*v, ptr, i as i32 * 16);
                }
                Ok(self.scalar(ptr))
            }
            Op::Builtin { id, args } => {
                let mut values = Vec::with_capacity(args.len());
                let mut types = Vec::with_capacity(args.len());
                for arg in args {
                    values.push(self.expr(*arg)?);
                    types.push(self.node_type(*arg)?.clone());
                }
                if let Some(test) = StringTest::of(*id, &types) {
                    return self.string_test(test, *id, &values, types, ty);
                }
                self.builtin_call(*id, &values, types, ty)
            }
            Op::CallPolicy { policy, input } => self.call_policy(*policy, *input),
        }
    }

    /// A call of builtin `id` through the host (see [`shims::builtin`]).
    fn builtin_call(
        &mut self,
        id: Builtin,
        values: &[V],
        types: Vec<Type>,
        ty: &Type,
    ) -> Result<V> {
        let site = self.tables.sites.len() as i64;
        self.tables.sites.push(Site {
            id,
            args: types,
            ret: ty.clone(),
        });
        let area = self.stack(values.len() as u32);
        for (i, v) in values.iter().enumerate() {
            self.store_slot(*v, area, i as i32 * 16);
        }
        let out = self.stack(1);
        let site = self.iconst(site);
        let ctx = self.ctx;
        let status = self.call(
            shims::builtin as *const () as usize,
            &[ctx, site, area, out],
        );
        self.check(status);
        Ok(self.load_slot(out, 0))
    }
    /// `s.contains(t)` and its kin on the values where they lie (see
    /// [`shims::string_test`]); when the host substituted its own builtins,
    /// the shim says so and the call goes through the host after all.
    fn string_test(
        &mut self,
        test: StringTest,
        id: Builtin,
        values: &[V],
        types: Vec<Type>,
        ty: &Type,
    ) -> Result<V> {
        let (x, y) = (values[0], values[1]);
        let ctx = self.ctx;
        let code = self.iconst(test as i64);
        let r = self.call(
            shims::string_test as *const () as usize,
            &[ctx, code, x.a, x.b, y.a, y.b],
        );
        let general = self.b.create_block();
        let join = self.join_block();
        let one = self.iconst(1);
        let through_host = self
            .b
            .ins()
            .icmp_imm_s(IntCC::Equal, r, shims::THROUGH_HOST as i64);
        self.b.ins().brif(
            through_host,
            general,
            &[],
            join,
            &[BlockArg::Value(r), BlockArg::Value(one)],
        );
        self.b.switch_to_block(general);
        self.b.seal_block(general);
        let v = self.builtin_call(id, values, types, ty)?;
        self.jump_with(join, v);
        Ok(self.joined(join))
    }

    fn call_policy(&mut self, policy: u32, input: NodeId) -> Result<V> {
        let arg = self.expr(input)?;
        let func = *self
            .ids
            .policies
            .get(policy as usize)
            .ok_or_else(|| codegen_error(format!("no policy {policy}")))?;
        let area = self.stack(1);
        self.store_slot(arg, area, 0);
        let ctx = self.ctx;
        let index = self.iconst(i64::from(policy));
        let block = self.call(shims::block as *const () as usize, &[ctx, index]);
        let fref = self.module.declare_func_in_func(func, self.b.func);
        let call = self.b.ins().call(fref, &[ctx, area, block]);
        let status = self.b.inst_results(call)[0];
        // A failing callee does not fail the caller: its decision
        // carries the error.
        let failed = self.b.create_block();
        let done = self.b.create_block();
        self.b.ins().brif(status, failed, &[], done, &[]);
        self.b.switch_to_block(failed);
        self.b.seal_block(failed);
        self.call(
            shims::callee_failed as *const () as usize,
            &[ctx, block, index],
        );
        self.b.ins().jump(done, &[]);
        self.b.switch_to_block(done);
        self.b.seal_block(done);
        Ok(self.scalar(block))
    }

    fn string_const(&mut self, text: &str) -> V {
        let (ptr, len) = self.tables.string(text);
        let a = self.iconst(ptr as i64);
        let b = self.iconst(len as i64);
        V { a, b }
    }

    fn constant(&mut self, c: &Const) -> V {
        match c {
            Const::Bool(v) => {
                let a = self.iconst(i64::from(*v));
                self.scalar(a)
            }
            Const::Int(n) | Const::Duration(n) | Const::Timestamp(n) => {
                let a = self.iconst(*n);
                self.scalar(a)
            }
            Const::Float(bits) => {
                let a = self.iconst(*bits as i64);
                self.scalar(a)
            }
            Const::String(s) => self.string_const(s),
            Const::Variant(i) => {
                let a = self.iconst(i64::from(*i));
                self.scalar(a)
            }
            Const::None => self.none(),
        }
    }

    fn float(&mut self, v: CValue) -> CValue {
        self.b.ins().bitcast(F64, MemFlagsData::new(), v)
    }

    fn float_result(&mut self, f: CValue) -> V {
        let a = self.b.ins().bitcast(I64, MemFlagsData::new(), f);
        self.scalar(a)
    }

    fn binary(&mut self, op: BinaryOp, lhs: NodeId, rhs: NodeId) -> Result<V> {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                let l = self.expr(lhs)?;
                let right = self.b.create_block();
                let join = self.join_block();
                let one = self.iconst(1);
                let short = if op == BinaryOp::And {
                    self.iconst(0)
                } else {
                    self.iconst(1)
                };
                let short_args = [BlockArg::Value(short), BlockArg::Value(one)];
                if op == BinaryOp::And {
                    self.b.ins().brif(l.a, right, &[], join, &short_args);
                } else {
                    self.b.ins().brif(l.a, join, &short_args, right, &[]);
                }
                self.b.switch_to_block(right);
                self.b.seal_block(right);
                let r = self.expr(rhs)?;
                let r = V { a: r.a, b: one };
                self.jump_with(join, r);
                return Ok(self.joined(join));
            }
            _ => {}
        }
        let l = self.expr(lhs)?;
        let r = self.expr(rhs)?;
        let lty = self.node_type(lhs)?;
        match op {
            BinaryOp::Eq | BinaryOp::Ne => {
                let same = self.equal(lty, l, r);
                let same = if op == BinaryOp::Ne {
                    self.b.ins().bxor_imm_s(same, 1)
                } else {
                    same
                };
                Ok(self.scalar(same))
            }
            BinaryOp::Lt(kind) | BinaryOp::Le(kind) | BinaryOp::Gt(kind) | BinaryOp::Ge(kind) => {
                let c = self.order(op, kind, l, r);
                Ok(self.boolean(c))
            }
            BinaryOp::InCollection if self.native_membership(lty, self.node_type(rhs)?) => {
                let coll_ty = self.node_type(rhs)?;
                Ok(self.membership(lty, coll_ty, l, r))
            }
            BinaryOp::InCollection | BinaryOp::InMapKeys | BinaryOp::InString => {
                let (kind, ty) = match op {
                    BinaryOp::InCollection => {
                        let coll = self.node_type(rhs)?.clone();
                        (0, self.tables.type_id(&coll))
                    }
                    BinaryOp::InMapKeys => (1, 0),
                    _ => (2, 0),
                };
                let kind = self.iconst(kind);
                let ty = self.iconst(i64::from(ty));
                let ctx = self.ctx;
                let found = self.call(
                    shims::contains as *const () as usize,
                    &[ctx, kind, ty, l.a, l.b, r.a, r.b],
                );
                let failed = self.b.ins().icmp_imm_s(IntCC::Equal, found, 2);
                let ok = self.b.create_block();
                self.b.ins().brif(failed, self.error, &[], ok, &[]);
                self.b.switch_to_block(ok);
                self.b.seal_block(ok);
                Ok(self.scalar(found))
            }
            BinaryOp::AddInt | BinaryOp::SubInt | BinaryOp::MulInt => {
                let (v, overflow) = match op {
                    BinaryOp::AddInt => self.b.ins().sadd_overflow(l.a, r.a),
                    BinaryOp::SubInt => self.b.ins().ssub_overflow(l.a, r.a),
                    _ => self.b.ins().smul_overflow(l.a, r.a),
                };
                self.fail_if(overflow, FAIL_INT);
                Ok(self.scalar(v))
            }
            BinaryOp::AddTimestampDuration
            | BinaryOp::SubTimestampDuration
            | BinaryOp::SubTimestamps
            | BinaryOp::AddDurations
            | BinaryOp::SubDurations
            | BinaryOp::MulDurationInt => {
                let (v, overflow) = match op {
                    BinaryOp::AddTimestampDuration | BinaryOp::AddDurations => {
                        self.b.ins().sadd_overflow(l.a, r.a)
                    }
                    BinaryOp::MulDurationInt => self.b.ins().smul_overflow(l.a, r.a),
                    _ => self.b.ins().ssub_overflow(l.a, r.a),
                };
                let code = match op {
                    BinaryOp::AddTimestampDuration | BinaryOp::SubTimestampDuration => {
                        FAIL_TIMESTAMP
                    }
                    _ => FAIL_DURATION,
                };
                self.fail_if(overflow, code);
                Ok(self.scalar(v))
            }
            BinaryOp::DivInt | BinaryOp::RemInt | BinaryOp::DivDurationInt => {
                let zero = self.b.ins().icmp_imm_s(IntCC::Equal, r.a, 0);
                self.fail_if(zero, FAIL_DIV_ZERO);
                let min = self.b.ins().icmp_imm_s(IntCC::Equal, l.a, i64::MIN);
                let minus_one = self.b.ins().icmp_imm_s(IntCC::Equal, r.a, -1);
                let overflow = self.b.ins().band(min, minus_one);
                let code = if op == BinaryOp::DivDurationInt {
                    FAIL_DURATION
                } else {
                    FAIL_INT
                };
                self.fail_if(overflow, code);
                let v = if op == BinaryOp::RemInt {
                    self.b.ins().srem(l.a, r.a)
                } else {
                    self.b.ins().sdiv(l.a, r.a)
                };
                Ok(self.scalar(v))
            }
            BinaryOp::AddFloat | BinaryOp::SubFloat | BinaryOp::MulFloat | BinaryOp::DivFloat => {
                let x = self.float(l.a);
                let y = self.float(r.a);
                let f = match op {
                    BinaryOp::AddFloat => self.b.ins().fadd(x, y),
                    BinaryOp::SubFloat => self.b.ins().fsub(x, y),
                    BinaryOp::MulFloat => self.b.ins().fmul(x, y),
                    _ => self.b.ins().fdiv(x, y),
                };
                Ok(self.float_result(f))
            }
            BinaryOp::Concat | BinaryOp::ConcatLists => {
                let out = self.stack(1);
                let shim = if op == BinaryOp::Concat {
                    shims::concat as *const () as usize
                } else {
                    shims::concat_lists as *const () as usize
                };
                let ctx = self.ctx;
                let status = self.call(shim, &[ctx, l.a, l.b, r.a, r.b, out]);
                self.check(status);
                Ok(self.load_slot(out, 0))
            }
            BinaryOp::And | BinaryOp::Or => Err(codegen_error("unreachable: and/or")),
        }
    }

    /// `l == r` for values of type `ty`: an `i64` 0 or 1.
    fn equal(&mut self, ty: &Type, l: V, r: V) -> CValue {
        let inner = match ty {
            Type::Optional(t) => &**t,
            t => t,
        };
        match inner {
            Type::Bool
            | Type::Int
            | Type::Duration
            | Type::Timestamp
            | Type::Enum(_)
            | Type::None => {
                // Scalars (and `none`, the zero slot) are equal when both
                // words are.
                let ea = self.b.ins().icmp(IntCC::Equal, l.a, r.a);
                let eb = self.b.ins().icmp(IntCC::Equal, l.b, r.b);
                let both = self.b.ins().band(ea, eb);
                self.b.ins().uextend(I64, both)
            }
            Type::Float => {
                // IEEE equality when both are present; two `none`s are
                // equal, a `none` and a float are not.
                let present = self.b.ins().band(l.b, r.b);
                let x = self.float(l.a);
                let y = self.float(r.a);
                let feq = self.b.ins().fcmp(FloatCC::Equal, x, y);
                let feq = self.b.ins().uextend(I64, feq);
                let same_presence = self.b.ins().icmp(IntCC::Equal, l.b, r.b);
                let same_presence = self.b.ins().uextend(I64, same_presence);
                let absent_both = self.b.ins().bxor_imm_s(present, 1);
                let absent_both = self.b.ins().band(absent_both, same_presence);
                self.b.ins().select(present, feq, absent_both)
            }
            Type::String => self.call(shims::str_eq as *const () as usize, &[l.a, l.b, r.a, r.b]),
            _ => {
                let id = self.tables.type_id(ty);
                let id = self.iconst(i64::from(id));
                let ctx = self.ctx;
                self.call(
                    shims::eq as *const () as usize,
                    &[ctx, id, l.a, l.b, r.a, r.b],
                )
            }
        }
    }

    /// Whether `needle in coll` runs natively: elements compared word by
    /// word (scalars, and `none`), or strings.
    fn native_membership(&self, needle: &Type, coll: &Type) -> bool {
        let Some(elem) = element_type(coll) else {
            return false;
        };
        scalar_words(elem) && scalar_words(needle)
            || (*elem == Type::String && *needle == Type::String)
    }

    /// `needle in coll` (see [`Self::native_membership`]): a bool.
    fn membership(&mut self, needle_ty: &Type, coll_ty: &Type, needle: V, coll: V) -> V {
        if !scalar_words(needle_ty) {
            // Strings: a shim compares lengths, then bytes.
            let found = self.call(
                shims::contains_string as *const () as usize,
                &[coll.a, coll.b, needle.a, needle.b],
            );
            return self.scalar(found);
        }
        debug_assert!(element_type(coll_ty).is_some_and(scalar_words));
        // A loop over the elements (a `none` collection has none), each
        // equal when both words are.
        let header = self.b.create_block();
        self.b.append_block_param(header, I64);
        let body = self.b.create_block();
        let next = self.b.create_block();
        let exit = self.b.create_block();
        self.b.append_block_param(exit, I64);
        let zero = self.iconst(0);
        let one = self.iconst(1);
        self.b.ins().jump(header, &[BlockArg::Value(zero)]);
        self.b.switch_to_block(header);
        let index = self.b.block_params(header)[0];
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, index, coll.b);
        self.b
            .ins()
            .brif(more, body, &[], exit, &[BlockArg::Value(zero)]);
        self.b.switch_to_block(body);
        self.b.seal_block(body);
        let offset = self.b.ins().imul_imm_s(index, 16);
        let at = self.b.ins().iadd(coll.a, offset);
        let item = self.load_slot(at, 0);
        let ea = self.b.ins().icmp(IntCC::Equal, item.a, needle.a);
        let eb = self.b.ins().icmp(IntCC::Equal, item.b, needle.b);
        let same = self.b.ins().band(ea, eb);
        self.b
            .ins()
            .brif(same, exit, &[BlockArg::Value(one)], next, &[]);
        self.b.switch_to_block(next);
        self.b.seal_block(next);
        let following = self.b.ins().iadd_imm_s(index, 1);
        self.b.ins().jump(header, &[BlockArg::Value(following)]);
        self.b.seal_block(header);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        let found = self.b.block_params(exit)[0];
        self.scalar(found)
    }

    /// An ordering comparison: an `i8`.
    fn order(&mut self, op: BinaryOp, kind: Ordered, l: V, r: V) -> CValue {
        let (icc, fcc) = match op {
            BinaryOp::Lt(_) => (IntCC::SignedLessThan, FloatCC::LessThan),
            BinaryOp::Le(_) => (IntCC::SignedLessThanOrEqual, FloatCC::LessThanOrEqual),
            BinaryOp::Gt(_) => (IntCC::SignedGreaterThan, FloatCC::GreaterThan),
            _ => (IntCC::SignedGreaterThanOrEqual, FloatCC::GreaterThanOrEqual),
        };
        match kind {
            Ordered::Float => {
                let x = self.float(l.a);
                let y = self.float(r.a);
                self.b.ins().fcmp(fcc, x, y)
            }
            Ordered::String => {
                let c = self.call(shims::str_cmp as *const () as usize, &[l.a, l.b, r.a, r.b]);
                self.b.ins().icmp_imm_s(icc, c, 0)
            }
            Ordered::Int | Ordered::Duration | Ordered::Timestamp | Ordered::Enum => {
                self.b.ins().icmp(icc, l.a, r.a)
            }
        }
    }

    fn quant(
        &mut self,
        kind: QuantKind,
        over: CollectionKind,
        collection: NodeId,
        key: Option<u32>,
        elem: u32,
        body: NodeId,
    ) -> Result<V> {
        let coll = self.expr(collection)?;
        let is_map = over == CollectionKind::Map;
        let stride: i64 = if is_map { 32 } else { 16 };
        // Results: `any` starts false, `all` true, `count` 0; `filter` and
        // `map` write into a buffer of the collection's size.
        let acc = self.b.declare_var(I64);
        let init = self.iconst(i64::from(kind == QuantKind::All));
        self.b.def_var(acc, init);
        let buffer = match kind {
            QuantKind::Filter | QuantKind::Map => {
                let words = self.b.ins().imul_imm_s(coll.b, stride / 8);
                Some(self.alloc(words))
            }
            _ => None,
        };
        let header = self.b.create_block();
        self.b.append_block_param(header, I64);
        let body_block = self.b.create_block();
        let exit = self.b.create_block();
        let start = self.iconst(0);
        self.b.ins().jump(header, &[BlockArg::Value(start)]);
        self.b.switch_to_block(header);
        let index = self.b.block_params(header)[0];
        let more = self.b.ins().icmp(IntCC::UnsignedLessThan, index, coll.b);
        self.b.ins().brif(more, body_block, &[], exit, &[]);
        self.b.switch_to_block(body_block);
        self.b.seal_block(body_block);
        let offset = self.b.ins().imul_imm_s(index, stride);
        let at = self.b.ins().iadd(coll.a, offset);
        let first = self.load_slot(at, 0);
        let element = if is_map {
            let value = self.load_slot(at, 16);
            match key {
                Some(k) => {
                    self.set_var(k, first)?;
                    value
                }
                // Over a map with one variable, the variable is the key.
                None => first,
            }
        } else {
            if let Some(k) = key {
                let i = self.scalar(index);
                self.set_var(k, i)?;
            }
            first
        };
        self.set_var(elem, element)?;
        let result = self.expr(body)?;
        let next = self.b.create_block();
        match kind {
            QuantKind::Any | QuantKind::All => {
                // Decided at the first true (`any`) or false (`all`).
                let decided = if kind == QuantKind::Any {
                    result.a
                } else {
                    self.b.ins().bxor_imm_s(result.a, 1)
                };
                let stop = self.b.create_block();
                self.b.ins().brif(decided, stop, &[], next, &[]);
                self.b.switch_to_block(stop);
                self.b.seal_block(stop);
                let v = self.iconst(i64::from(kind == QuantKind::Any));
                self.b.def_var(acc, v);
                self.b.ins().jump(exit, &[]);
            }
            QuantKind::Count => {
                let count = self.b.use_var(acc);
                let count = self.b.ins().iadd(count, result.a);
                self.b.def_var(acc, count);
                self.b.ins().jump(next, &[]);
            }
            QuantKind::Filter => {
                let keep = self.b.create_block();
                self.b.ins().brif(result.a, keep, &[], next, &[]);
                self.b.switch_to_block(keep);
                self.b.seal_block(keep);
                let buffer = buffer.ok_or_else(|| codegen_error("filter buffer"))?;
                let kept = self.b.use_var(acc);
                let offset = self.b.ins().imul_imm_s(kept, stride);
                let to = self.b.ins().iadd(buffer, offset);
                self.store_slot(first, to, 0);
                if is_map {
                    let value = self.load_slot(at, 16);
                    self.store_slot(value, to, 16);
                }
                let kept = self.b.ins().iadd_imm_s(kept, 1);
                self.b.def_var(acc, kept);
                self.b.ins().jump(next, &[]);
            }
            QuantKind::Map => {
                let buffer = buffer.ok_or_else(|| codegen_error("map buffer"))?;
                let offset = self.b.ins().imul_imm_s(index, 16);
                let to = self.b.ins().iadd(buffer, offset);
                self.store_slot(result, to, 0);
                self.b.ins().jump(next, &[]);
            }
        }
        self.b.switch_to_block(next);
        self.b.seal_block(next);
        let index = self.b.ins().iadd_imm_s(index, 1);
        self.b.ins().jump(header, &[BlockArg::Value(index)]);
        self.b.seal_block(header);
        self.b.switch_to_block(exit);
        self.b.seal_block(exit);
        let acc = self.b.use_var(acc);
        Ok(match kind {
            QuantKind::Any | QuantKind::All | QuantKind::Count => self.scalar(acc),
            QuantKind::Filter => V {
                a: buffer.ok_or_else(|| codegen_error("filter buffer"))?,
                b: acc,
            },
            QuantKind::Map => V {
                a: buffer.ok_or_else(|| codegen_error("map buffer"))?,
                b: coll.b,
            },
        })
    }
}
