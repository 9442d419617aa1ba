//! The embedding API: load a program, look up entrypoints, evaluate inputs.

use std::sync::Arc;

use pol_ir::bundle::{self, BundleError, Manifest, SignatureStatus, Trust};
use pol_ir::ir::{self, Program};

use crate::cost::{CostBound, InputSizes, Steps};
use crate::decision::Decision;
use crate::decode::{DecodeError, Limits, decode_json, decode_json_sized};
use crate::dispatch::{CompiledBuiltins, StdBuiltins};
use crate::interp::{
    Builtins, Interpreter, compute_params, compute_params_overriding, constant_lets,
};
use crate::value::Value;

/// Why a program could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadError {
    /// The program is malformed (see [`ir::verify`]).
    Invalid(ir::VerifyError),
    /// A param's value could not be computed, or a host override does not
    /// fit the param's type.
    Param(String),
    /// The JIT was asked for and cannot run: this machine is not
    /// supported, or the runtime was built without the `jit` feature.
    Jit(String),
    /// A bundle was refused (see [`BundleError`] for the causes).
    Bundle(BundleError),
    /// A bundle file could not be read.
    Io(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Invalid(e) => write!(f, "invalid program: {e}"),
            LoadError::Param(e) => write!(f, "{e}"),
            LoadError::Jit(e) => write!(f, "the JIT is not available: {e}"),
            LoadError::Bundle(e) => write!(f, "{e}"),
            LoadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// Which engine evaluates policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EngineKind {
    /// Native code compiled by Cranelift: the default.
    Jit,
    /// The interpreter: the reference semantics, and the fallback where
    /// the JIT cannot run.
    Interpreter,
}

/// A policy's cost bound, and the JSON length up to which no input can be
/// over the budget (so the bound need not be evaluated).
#[derive(Debug, Clone)]
struct EntryCost {
    bound: CostBound,
    /// `None` when even an empty input is over the budget.
    free_below: Option<u64>,
}

impl EntryCost {
    fn new(bound: CostBound, limits: &Limits) -> EntryCost {
        let free_below = bound.free_below(limits.max_cost, limits.max_bytes as u64);
        EntryCost { bound, free_below }
    }

    /// Whether an input of this many bytes needs its bound evaluated.
    fn needs_check(&self, bytes: usize) -> bool {
        self.free_below.is_none_or(|free| bytes as u64 > free)
    }
}

/// A request decoded (and, on the JIT, laid out) once by
/// [`Engine::prepare_json`], to evaluate with [`Engine::evaluate_prepared`].
#[derive(Debug)]
pub struct PreparedInput {
    entry: Entrypoint,
    /// The program of the engine that prepared it (kept alive, so no
    /// other engine's program can take its address).
    program: Arc<Program>,
    value: Value,
    /// Its sizes, for the cost budget in force at each evaluation.
    sizes: InputSizes,
    #[cfg(feature = "jit")]
    native: Option<crate::native::NativeInput>,
}

impl PreparedInput {
    /// The entrypoint it was prepared for.
    pub fn entrypoint(&self) -> Entrypoint {
        self.entry
    }
}

/// A policy that can be evaluated: a handle from [`Engine::entrypoint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Entrypoint(u32);

/// A loaded program, ready to evaluate from many threads at once.
///
/// The engine is `Send + Sync` and immutable once configured: evaluations
/// share it without locks.
///
/// ```
/// let program = pol_sema::compile([(
///     "tools.pol".to_string(),
///     r#"package demo
/// schema Call { tool: string, risk: int }
/// policy call(c: Call) -> Decision {
///   default deny "tool not permitted"
///   allow "read-only tool" when c.tool == "search"
///   require_approval "risky" when c.risk >= 4
/// }
/// "#
///     .to_string(),
/// )])
/// .expect("compiles");
/// let engine = pol_runtime::Engine::new(program).expect("loads");
/// let entry = engine.entrypoint("demo.call").expect("entrypoint");
/// let decision = engine.evaluate_json(entry, br#"{"tool": "search", "risk": 5}"#, 0);
/// assert!(decision.is_allowed());
/// assert_eq!(engine.reasons(&decision), vec!["read-only tool", "risky"]);
/// assert!(decision.requires_approval(engine.program()));
/// ```
pub struct Engine {
    program: Arc<Program>,
    builtins: Arc<dyn Builtins>,
    /// Whether `builtins` are the standard ones, compiled for the params
    /// (rebuilt when the params change).
    standard: bool,
    params: Vec<Value>,
    /// The host's param overrides so far, by index (params computed from
    /// them are recomputed with them).
    overrides: Vec<(u32, Value)>,
    /// The lets known before any evaluation (see
    /// [`crate::interp::constant_lets`]), by index.
    lets: Vec<Option<Value>>,
    limits: Limits,
    /// Each policy's cost bound (by index), for the params in effect.
    costs: Vec<EntryCost>,
    /// The compiled program, when the JIT evaluates.
    #[cfg(feature = "jit")]
    native: Option<crate::native::Native>,
    /// Why the JIT is not used, when it was wanted and could not run.
    jit_unavailable: Option<String>,
    /// The bundle's manifest and signature, when loaded from a bundle.
    bundle: Option<Arc<(Manifest, SignatureStatus)>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("policies", &self.program.policies.len())
            .field("kind", &self.kind())
            .field("limits", &self.limits)
            .finish()
    }
}

impl Engine {
    /// Verifies a program and computes its params, with the standard
    /// builtins (the phrase sets and regex lists of its params compiled
    /// once, now) and default limits, and compiles it with the JIT (where
    /// the JIT cannot run, the interpreter evaluates instead, and
    /// [`Engine::jit_unavailable`] says why).
    pub fn new(program: Program) -> Result<Engine, LoadError> {
        ir::verify(&program).map_err(LoadError::Invalid)?;
        Engine::new_verified(program)
    }

    /// [`Engine::new`] for a program that passed [`ir::verify`] already
    /// (a bundle's, which `bundle::read` verified).
    fn new_verified(program: Program) -> Result<Engine, LoadError> {
        let mut engine = Engine::load(program, Arc::new(StdBuiltins))?;
        engine.standard = true;
        #[cfg(feature = "jit")]
        {
            // Compiling the params' regexes and phrase sets and compiling
            // the native code are independent, and each about half of a
            // load: side by side, on another thread when one can start.
            let (builtins, native) = std::thread::scope(|scope| {
                let jit = || {
                    crate::native::Native::new(engine.program.clone(), &engine.params, &engine.lets)
                };
                match std::thread::Builder::new().spawn_scoped(scope, jit) {
                    Ok(handle) => {
                        let builtins = engine.compiled_builtins();
                        let native = handle
                            .join()
                            .unwrap_or_else(|_| Err("the JIT compiler panicked".into()));
                        (builtins, native)
                    }
                    Err(_) => (engine.compiled_builtins(), jit()),
                }
            });
            engine.builtins = Arc::new(builtins);
            engine.use_native(native);
        }
        #[cfg(not(feature = "jit"))]
        {
            engine.builtins = Arc::new(engine.compiled_builtins());
            engine.start_jit();
        }
        Ok(engine)
    }

    /// Like [`Engine::new`] with other builtins (tests substitute detectors).
    pub fn with_builtins(
        program: Program,
        builtins: Arc<dyn Builtins>,
    ) -> Result<Engine, LoadError> {
        ir::verify(&program).map_err(LoadError::Invalid)?;
        let mut engine = Engine::load(program, builtins)?;
        engine.start_jit();
        Ok(engine)
    }

    /// Computes params and known lets of a verified program.
    fn load(program: Program, builtins: Arc<dyn Builtins>) -> Result<Engine, LoadError> {
        let params =
            compute_params(&program, builtins.as_ref()).map_err(|e| LoadError::Param(e.0))?;
        let lets = constant_lets(&program, builtins.as_ref(), &params);
        let limits = Limits::default();
        let costs = entry_costs(&program, &params, &lets, &limits);
        Ok(Engine {
            program: Arc::new(program),
            builtins,
            standard: false,
            params,
            overrides: Vec::new(),
            lets,
            limits,
            costs,
            #[cfg(feature = "jit")]
            native: None,
            jit_unavailable: None,
            bundle: None,
        })
    }

    /// Loads a bundle (see [`pol_ir::bundle`]): checks its integrity and,
    /// when `trust` holds keys, its signature, before anything is decoded;
    /// then decodes and verifies the program and compiles it like
    /// [`Engine::new`]. A refused bundle is a [`LoadError::Bundle`] naming
    /// the cause.
    ///
    /// ```
    /// use pol_runtime::{Engine, Trust};
    /// # let program = pol_sema::compile([("a.pol".to_string(),
    /// #     "package demo\nschema Call { tool: string }\npolicy call(c: Call) -> Decision {\n  allow \"search\" when c.tool == \"search\"\n}\n".to_string())]).unwrap();
    /// # let info = pol_ir::bundle::BuildInfo { revision: "r1".into(), ..Default::default() };
    /// # let bytes = pol_ir::bundle::write(&program, &info, None).unwrap();
    /// // `bytes` is a bundle written by `polc build`.
    /// let engine = Engine::from_bundle(&bytes, &Trust::any()).expect("loads");
    /// assert_eq!(engine.manifest().map(|m| m.revision.as_str()), Some("r1"));
    /// let entry = engine.entrypoint("demo.call").expect("entrypoint");
    /// assert!(engine.evaluate_json(entry, br#"{"tool": "search"}"#, 0).is_allowed());
    /// ```
    pub fn from_bundle(bytes: &[u8], trust: &Trust) -> Result<Engine, LoadError> {
        let loaded = bundle::read(bytes, trust).map_err(LoadError::Bundle)?;
        let mut engine = Engine::new_verified(loaded.program)?;
        engine.bundle = Some(Arc::new((loaded.manifest, loaded.signature)));
        Ok(engine)
    }

    /// Reads a bundle file and loads it with [`Engine::from_bundle`].
    pub fn from_bundle_file(
        path: impl AsRef<std::path::Path>,
        trust: &Trust,
    ) -> Result<Engine, LoadError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path)
            .map_err(|e| LoadError::Io(format!("cannot read {}: {e}", path.display())))?;
        Engine::from_bundle(&bytes, trust)
    }

    /// The manifest of the bundle this engine was loaded from.
    pub fn manifest(&self) -> Option<&Manifest> {
        self.bundle.as_deref().map(|(manifest, _)| manifest)
    }

    /// Whether the bundle this engine was loaded from was signed, and by
    /// which trusted key.
    pub fn signature(&self) -> Option<&SignatureStatus> {
        self.bundle.as_deref().map(|(_, signature)| signature)
    }

    /// The program's revision (a bundle's `--revision`), if it has one.
    pub fn revision(&self) -> Option<&str> {
        self.program.revision.as_deref()
    }

    /// Compiles with the JIT; on failure, remembers why and stays on the
    /// interpreter.
    fn start_jit(&mut self) {
        #[cfg(feature = "jit")]
        self.use_native(crate::native::Native::new(
            self.program.clone(),
            &self.params,
            &self.lets,
        ));
        #[cfg(not(feature = "jit"))]
        {
            self.jit_unavailable = Some("the runtime was built without the `jit` feature".into());
        }
    }

    /// Evaluates on native code, or remembers why the JIT could not compile.
    #[cfg(feature = "jit")]
    fn use_native(&mut self, native: Result<crate::native::Native, String>) {
        match native {
            Ok(native) => self.native = Some(native),
            Err(why) => self.jit_unavailable = Some(why),
        }
    }

    /// Chooses the engine: [`EngineKind::Interpreter`] always works;
    /// [`EngineKind::Jit`] fails with [`LoadError::Jit`] where the JIT
    /// cannot run.
    pub fn with_kind(mut self, kind: EngineKind) -> Result<Engine, LoadError> {
        match kind {
            EngineKind::Interpreter => {
                #[cfg(feature = "jit")]
                {
                    self.native = None;
                }
                Ok(self)
            }
            EngineKind::Jit => {
                if self.kind() != EngineKind::Jit {
                    self.jit_unavailable = None;
                    self.start_jit();
                }
                match self.jit_unavailable.take() {
                    Some(why) => Err(LoadError::Jit(why)),
                    None => Ok(self),
                }
            }
        }
    }

    /// The engine that evaluates.
    pub fn kind(&self) -> EngineKind {
        #[cfg(feature = "jit")]
        if self.native.is_some() {
            return EngineKind::Jit;
        }
        EngineKind::Interpreter
    }

    /// Why the JIT is not evaluating although it was wanted (an
    /// unsupported machine, or a runtime built without the `jit` feature).
    pub fn jit_unavailable(&self) -> Option<&str> {
        self.jit_unavailable.as_deref()
    }

    /// Replaces param values from a JSON object of `package.param` to value,
    /// each checked against the param's declared type.
    pub fn set_params_json(&mut self, json: &[u8]) -> Result<(), LoadError> {
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(json)
            .map_err(|e| LoadError::Param(format!("params are not a JSON object: {e}")))?;
        for (name, value) in object {
            // `<const>.N` params are the compiler's hoisted constants.
            let index = self
                .program
                .params
                .iter()
                .position(|p| p.name == name && !p.name.starts_with('<'));
            let Some(index) = index else {
                return Err(LoadError::Param(format!("no param `{name}`")));
            };
            let bytes = serde_json::to_vec(&value).map_err(|e| LoadError::Param(e.to_string()))?;
            let decoded = decode_json(
                &self.program,
                &self.program.params[index].ty,
                &bytes,
                &self.limits,
            )
            .map_err(|e| LoadError::Param(format!("param `{name}`: {}", e.problem)))?;
            self.overrides.retain(|(i, _)| *i as usize != index);
            self.overrides.push((index as u32, decoded));
        }
        // Params computed from an overridden one (a setting extending its
        // default, a list built from another) and the lets known in
        // advance follow the new values.
        self.params =
            compute_params_overriding(&self.program, self.builtins.as_ref(), &self.overrides)
                .map_err(|e| LoadError::Param(e.0))?;
        self.lets = constant_lets(&self.program, self.builtins.as_ref(), &self.params);
        // The bounds read the params' sizes.
        self.costs = entry_costs(&self.program, &self.params, &self.lets, &self.limits);
        if self.standard {
            self.builtins = Arc::new(self.compiled_builtins());
        }
        #[cfg(feature = "jit")]
        if let Some(native) = &mut self.native {
            native
                .set_params(&self.params, &self.lets)
                .map_err(LoadError::Param)?;
        }
        Ok(())
    }

    /// The standard builtins with the phrase sets and regex lists of the
    /// params and of the lets known in advance compiled, and the pairs of
    /// them applied to the same text scanned in one pass.
    fn compiled_builtins(&self) -> CompiledBuiltins {
        let values: Vec<Value> = self
            .params
            .iter()
            .cloned()
            .chain(self.lets.iter().flatten().cloned())
            .collect();
        let mut compiled = CompiledBuiltins::for_params(&values);
        compiled.fuse(crate::dispatch::fusable_pairs(
            &self.program,
            &self.params,
            &self.lets,
        ));
        compiled
    }

    /// Sets the limits on inputs and the cost budget (see [`Limits`]; the
    /// engine starts with [`Limits::default`]).
    ///
    /// ```
    /// # let program = pol_sema::compile([("a.pol".to_string(),
    /// #     "package demo\nschema Call { tool: string }\npolicy call(c: Call) -> Decision {\n  allow \"search\" when c.tool == \"search\"\n}\n".to_string())]).unwrap();
    /// use pol_runtime::{Engine, Limits};
    /// let mut engine = Engine::new(program)?;
    /// engine.set_limits(Limits { max_string: 16, ..Limits::default() });
    /// let entry = engine.entrypoint("demo.call").unwrap();
    /// let decision = engine.evaluate_json(entry, br#"{"tool": "a string far over sixteen bytes"}"#, 0);
    /// assert!(decision.is_denied());
    /// assert_eq!(decision.error.as_deref(), Some("input $.tool: string of 31 bytes, more than the limit of 16"));
    /// # Ok::<(), pol_runtime::LoadError>(())
    /// ```
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
        for cost in &mut self.costs {
            *cost = EntryCost::new(cost.bound.clone(), &limits);
        }
    }

    /// [`Engine::set_limits`], as a builder.
    pub fn with_limits(mut self, limits: Limits) -> Engine {
        self.set_limits(limits);
        self
    }

    /// The limits in effect.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The static bound on the steps of one evaluation of `entry`, as a
    /// polynomial in the input's sizes (see [`pol_ir::cost`]), for the
    /// params in effect.
    pub fn cost_bound(&self, entry: Entrypoint) -> Option<&CostBound> {
        self.costs.get(entry.0 as usize).map(|c| &c.bound)
    }

    /// Whether an input of these sizes is within the budget for `entry`;
    /// `Err` says why not (the message a refused evaluation carries).
    pub fn admit(&self, entry: Entrypoint, sizes: &InputSizes) -> Result<(), String> {
        let (Some(cost), Some(policy)) = (
            self.costs.get(entry.0 as usize),
            self.program.policies.get(entry.0 as usize),
        ) else {
            return Err("no such entrypoint".into());
        };
        let steps = cost.bound.at(sizes);
        if steps <= self.limits.max_cost {
            return Ok(());
        }
        let budget = pol_ir::cost::grouped(self.limits.max_cost);
        if cost.bound.is_unbounded() {
            return Err(format!(
                "input refused: `{}` has no cost bound (the analysis gave up on it), \
                 so no input is within the budget of {budget} steps",
                policy.name
            ));
        }
        Err(format!(
            "input too costly: `{}` may take up to {} steps on this input ({sizes}), \
             over the budget of {budget}; its bound is {} steps",
            policy.name,
            pol_ir::cost::grouped(steps),
            cost.bound
        ))
    }

    /// [`Engine::admit`] for an input value the host built:
    /// [`Engine::evaluate_value`] does not check the budget (the value did
    /// not come through the decoder that measures it); a host that builds
    /// values from untrusted data calls this first.
    pub fn check_cost(&self, entry: Entrypoint, input: &Value) -> Result<(), String> {
        self.admit(entry, &crate::cost::input_sizes(input, &self.program))
    }

    /// Evaluates `entry` on JSON text on the interpreter (whatever this
    /// engine's kind), counting its steps (see [`pol_ir::cost`]), without
    /// the budget check: for tests and tools that compare the count with
    /// [`Engine::cost_bound`] at the returned sizes.
    pub fn count_steps(
        &self,
        entry: Entrypoint,
        json: &[u8],
        now: i64,
    ) -> Result<(Decision, u64, InputSizes), DecodeError> {
        let Some(policy) = self.program.policies.get(entry.0 as usize) else {
            return Err(DecodeError {
                path: "$".into(),
                problem: "no such entrypoint".into(),
            });
        };
        let (input, sizes) = decode_json_sized(&self.program, &policy.input, json, &self.limits)?;
        let steps = Steps::new();
        let decision =
            Interpreter::with_params(&self.program, self.builtins.as_ref(), &self.params)
                .with_lets(&self.lets)
                .with_steps(&steps)
                .evaluate(entry.0, input, now);
        Ok((decision, steps.get(), sizes))
    }

    /// The program.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// The policy with this qualified name (`package.policy`).
    pub fn entrypoint(&self, name: &str) -> Option<Entrypoint> {
        self.program
            .policies
            .iter()
            .position(|p| p.name == name)
            .map(|i| Entrypoint(i as u32))
    }

    /// The policy index of an entrypoint (its position in
    /// [`Program::policies`]), for hosts that read the program.
    pub fn entrypoint_index(&self, entry: Entrypoint) -> Option<u32> {
        ((entry.0 as usize) < self.program.policies.len()).then_some(entry.0)
    }

    /// The qualified names of every policy.
    pub fn entrypoints(&self) -> impl Iterator<Item = &str> {
        self.program.policies.iter().map(|p| p.name.as_str())
    }

    /// Evaluates an entrypoint on JSON text at request time `now`
    /// (nanoseconds since the epoch). A malformed input, an input over a
    /// limit, or one whose cost bound is over the budget (see [`Limits`])
    /// is a deny that says why; this never fails.
    pub fn evaluate_json(&self, entry: Entrypoint, json: &[u8], now: i64) -> Decision {
        let (Some(policy), Some(cost)) = (
            self.program.policies.get(entry.0 as usize),
            self.costs.get(entry.0 as usize),
        ) else {
            return Decision::error(entry.0, "no such entrypoint".into());
        };
        // Below some length no input can be over the budget; above it the
        // bound is evaluated on the sizes the decoder measured.
        let check = cost.needs_check(json.len());
        // The JIT decodes the text straight into its frame; a refusal goes
        // through the reference decoder, which refuses the same inputs and
        // says why.
        #[cfg(feature = "jit")]
        if let Some(native) = &self.native {
            let admit = |sizes: &InputSizes| self.admit(entry, sizes);
            let admit: Option<pol_jit::Admit<'_>> = if check { Some(&admit) } else { None };
            if let Some(decision) = native.evaluate_json(
                self.builtins.as_ref(),
                entry.0,
                json,
                &self.limits,
                admit,
                now,
            ) {
                return decision;
            }
        }
        match decode_json_sized(&self.program, &policy.input, json, &self.limits) {
            Ok((input, sizes)) => {
                #[cfg(feature = "jit")]
                debug_assert!(
                    self.native.is_none(),
                    "the frame decoder refused an input the reference decoder accepts"
                );
                if check && let Err(reason) = self.admit(entry, &sizes) {
                    return Decision::error(entry.0, reason);
                }
                self.evaluate_value(entry, input, now)
            }
            Err(e) => Decision::error(entry.0, e.to_string()),
        }
    }

    /// Evaluates an entrypoint on any serializable input (it goes through
    /// the same schema-directed decoder as JSON text).
    pub fn evaluate<T: serde::Serialize + ?Sized>(
        &self,
        entry: Entrypoint,
        input: &T,
        now: i64,
    ) -> Decision {
        match serde_json::to_vec(input) {
            Ok(json) => self.evaluate_json(entry, &json, now),
            Err(e) => Decision::error(entry.0, format!("input could not be serialized: {e}")),
        }
    }

    /// Evaluates an entrypoint on an already decoded input value. The
    /// limits and the budget are not checked: they guard the decoding of
    /// untrusted text (use [`Engine::check_cost`] for a value built from
    /// untrusted data).
    pub fn evaluate_value(&self, entry: Entrypoint, input: Value, now: i64) -> Decision {
        #[cfg(feature = "jit")]
        if let Some(native) = &self.native {
            return native.evaluate(self.builtins.as_ref(), entry.0, &input, now);
        }
        Interpreter::with_params(&self.program, self.builtins.as_ref(), &self.params)
            .with_lets(&self.lets)
            .evaluate(entry.0, input, now)
    }

    /// Decodes JSON text for `entry` once (limits and cost budget
    /// checked as [`Engine::evaluate_json`] does) and, on the JIT, lays it
    /// out for native code, so that [`Engine::evaluate_prepared`] evaluates
    /// it without decoding it again (the cost budget in force then is
    /// checked again on the input's sizes; the decoding limits were checked
    /// here): for a host that decides one request
    /// several times (at several times `now`, or again after a swap of
    /// params), and for measuring evaluation alone. A refused input is the
    /// deny [`Engine::evaluate_json`] would return.
    ///
    /// ```
    /// # let program = pol_sema::compile([("a.pol".to_string(),
    /// #     "package demo\nschema Call { tool: string }\npolicy call(c: Call) -> Decision {\n  allow \"search\" when c.tool == \"search\"\n}\n".to_string())]).unwrap();
    /// use pol_runtime::Engine;
    /// let engine = Engine::new(program)?;
    /// let entry = engine.entrypoint("demo.call").unwrap();
    /// let prepared = engine.prepare_json(entry, br#"{"tool": "search"}"#).expect("decodes");
    /// assert!(engine.evaluate_prepared(&prepared, 0).is_allowed());
    /// assert!(engine.prepare_json(entry, br#"{"tool": 7}"#).unwrap_err().is_denied());
    /// # Ok::<(), pol_runtime::LoadError>(())
    /// ```
    #[expect(
        clippy::result_large_err,
        reason = "a refusal is the decision evaluate_json would return, on the cold path"
    )]
    pub fn prepare_json(&self, entry: Entrypoint, json: &[u8]) -> Result<PreparedInput, Decision> {
        let Some(policy) = self.program.policies.get(entry.0 as usize) else {
            return Err(Decision::error(entry.0, "no such entrypoint".into()));
        };
        let (value, sizes) = decode_json_sized(&self.program, &policy.input, json, &self.limits)
            .map_err(|e| Decision::error(entry.0, e.to_string()))?;
        self.admit(entry, &sizes)
            .map_err(|reason| Decision::error(entry.0, reason))?;
        #[cfg(feature = "jit")]
        let native = match &self.native {
            Some(native) => Some(
                native
                    .prepare(entry.0, &value)
                    .map_err(|e| Decision::error(entry.0, e))?,
            ),
            None => None,
        };
        Ok(PreparedInput {
            entry,
            program: self.program.clone(),
            value,
            sizes,
            #[cfg(feature = "jit")]
            native,
        })
    }

    /// Evaluates a prepared input ([`Engine::prepare_json`]) on this
    /// engine, which must be the one that prepared it (another engine's is
    /// refused: a deny saying so).
    pub fn evaluate_prepared(&self, input: &PreparedInput, now: i64) -> Decision {
        let entry = input.entry;
        if !Arc::ptr_eq(&input.program, &self.program) {
            return Decision::error(entry.0, "input prepared by another engine".into());
        }
        // The budget and the params (so the bound) may have changed since.
        if self
            .costs
            .get(entry.0 as usize)
            .is_some_and(|cost| cost.needs_check(input.sizes.bytes as usize))
            && let Err(reason) = self.admit(entry, &input.sizes)
        {
            return Decision::error(entry.0, reason);
        }
        #[cfg(feature = "jit")]
        if let (Some(native), Some(prepared)) = (&self.native, &input.native) {
            return native.evaluate_prepared(self.builtins.as_ref(), prepared, entry.0, now);
        }
        Interpreter::with_params(&self.program, self.builtins.as_ref(), &self.params)
            .with_lets(&self.lets)
            .evaluate(entry.0, input.value.clone(), now)
    }

    /// The reasons of the rules that fired, in rule order.
    pub fn reasons(&self, decision: &Decision) -> Vec<String> {
        decision
            .fired_rules(&self.program)
            .into_iter()
            .map(|r| r.reason)
            .collect()
    }

    /// The decision as the documented JSON (see [`crate::report`]).
    pub fn decision_json(&self, decision: &Decision) -> serde_json::Value {
        crate::report::decision_json(&self.program, decision)
    }
}

/// The cost bound of every policy, with the JSON length under which each is
/// within the budget.
fn entry_costs(
    program: &Program,
    params: &[Value],
    lets: &[Option<Value>],
    limits: &Limits,
) -> Vec<EntryCost> {
    crate::cost::bounds(program, params, lets)
        .into_iter()
        .map(|bound| EntryCost::new(bound, limits))
        .collect()
}
