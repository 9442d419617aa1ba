//! Pol's side: compiling the workload policies, the engines that run them,
//! reading their decisions, and the generated 10,000-line policy set.
//!
//! An engine is anything that implements [`PolEngine`]: it is built from a
//! compiled [`pol_ir::ir::Program`], decodes JSON into its own input
//! representation ahead of time (the eval-only benchmarks) or on the way
//! (the JSON benchmarks), and renders its decision as the runtime's
//! documented decision JSON (for the agreement test). Today there is one,
//! [`PolInterpreter`]; the JIT is added by
//! implementing the trait and adding one line to [`with_pol_engines!`].

use std::collections::BTreeSet;

use pol_ir::ir::{Program, Type};
use pol_runtime::{
    CompiledBuiltins, Decision, Interpreter, Limits, StdBuiltins, Value, compute_params,
    decode_json,
};

use crate::{Outcome, ToolVerdict, W4_PAGING_ALERTS, Workload};

/// Calls `$f::<E>($args)` for every Pol engine `E`, in order. The benches
/// and the agreement test go through this list, so adding an engine here
/// benchmarks and checks it everywhere.
///
/// ```ignore
/// with_pol_engines!(bench_pol(c, workload));
/// ```
#[macro_export]
macro_rules! with_pol_engines {
    ($f:ident ( $($arg:expr),* $(,)? )) => {{
        $f::<$crate::pol::PolInterpreter>($($arg),*);
        $f::<$crate::pol::PolJit>($($arg),*);
    }};
}

/// A way of running compiled Pol programs.
pub trait PolEngine: Sized {
    /// The engine's name in benchmark ids and reports (`pol-interp`).
    const NAME: &'static str;
    /// A policy to evaluate, looked up once.
    type Entry: Copy;
    /// An input decoded ahead of time (the eval-only benchmarks).
    type Input;
    /// Per-thread evaluation state reused between evaluations.
    type Scratch;
    /// What one evaluation returns; it may borrow the scratch space.
    type Output<'a>
    where
        Self: 'a;

    /// Loads a compiled program (verifies it, computes its params, compiles
    /// what the engine compiles).
    fn load(program: Program) -> Self;
    /// The policy with this qualified name.
    fn entry(&self, name: &str) -> Self::Entry;
    /// Fresh scratch space.
    fn scratch(&self) -> Self::Scratch;
    /// Decodes JSON text into an input for `entry` (panics on bad input:
    /// benchmark inputs are known good).
    fn decode(&self, entry: Self::Entry, json: &[u8]) -> Self::Input;
    /// Evaluates a decoded input at `now` (nanoseconds since the epoch).
    fn eval<'a>(
        &'a self,
        scratch: &'a mut Self::Scratch,
        entry: Self::Entry,
        input: &'a Self::Input,
        now: i64,
    ) -> Self::Output<'a>;
    /// Decodes and evaluates JSON text: what a host does per request.
    fn eval_json<'a>(
        &'a self,
        scratch: &'a mut Self::Scratch,
        entry: Self::Entry,
        json: &'a [u8],
        now: i64,
    ) -> Self::Output<'a>;
    /// The decision as the runtime's decision JSON
    /// (`pol_runtime::report`), for comparing engines.
    fn report(&self, output: &Self::Output<'_>) -> serde_json::Value;
}

/// The reference interpreter (`pol_runtime::Interpreter`), set up as
/// `pol_runtime::Engine` sets it up: the program verified, its params
/// computed once and their phrase sets and regex lists compiled once
/// (`CompiledBuiltins`), default input limits.
///
/// It drives the `Interpreter` directly rather than through `Engine`
/// because `Engine::new` is about to choose the JIT by default; this keeps
/// the `pol-interp` rows the interpreter's whatever the default.
#[derive(Debug)]
pub struct PolInterpreter {
    program: Program,
    params: Vec<Value>,
    builtins: CompiledBuiltins,
    limits: Limits,
}

impl PolEngine for PolInterpreter {
    const NAME: &'static str = "pol-interp";
    type Entry = u32;
    type Input = Value;
    type Scratch = ();
    type Output<'a> = Decision;

    fn load(program: Program) -> Self {
        pol_ir::ir::verify(&program).expect("the workload programs verify");
        let params = compute_params(&program, &StdBuiltins).expect("params compute");
        // The compiled matchers are keyed by the params' storage: build
        // them from the very values the interpreter will read.
        let builtins = CompiledBuiltins::for_params(&params);
        PolInterpreter {
            program,
            params,
            builtins,
            limits: Limits::default(),
        }
    }

    fn entry(&self, name: &str) -> u32 {
        self.program
            .policies
            .iter()
            .position(|p| p.name == name)
            .unwrap_or_else(|| panic!("no entrypoint {name}")) as u32
    }

    fn scratch(&self) {}

    fn decode(&self, entry: u32, json: &[u8]) -> Value {
        let ty: &Type = &self.program.policies[entry as usize].input;
        decode_json(&self.program, ty, json, &self.limits)
            .unwrap_or_else(|e| panic!("benchmark input does not decode: {e}"))
    }

    fn eval<'a>(&'a self, _: &'a mut (), entry: u32, input: &'a Value, now: i64) -> Decision {
        // `evaluate` takes the input by value: a clone is a reference-count
        // increment.
        Interpreter::with_params(&self.program, &self.builtins, &self.params).evaluate(
            entry,
            input.clone(),
            now,
        )
    }

    fn eval_json<'a>(&'a self, _: &'a mut (), entry: u32, json: &'a [u8], now: i64) -> Decision {
        // What `Engine::evaluate_json` does on the interpreter.
        let ty: &Type = &self.program.policies[entry as usize].input;
        match decode_json(&self.program, ty, json, &self.limits) {
            Ok(input) => Interpreter::with_params(&self.program, &self.builtins, &self.params)
                .evaluate(entry, input, now),
            Err(e) => Decision::error(entry, e.to_string()),
        }
    }

    fn report(&self, output: &Decision) -> serde_json::Value {
        pol_runtime::report::decision_json(&self.program, output)
    }
}

/// Compiles one workload's policy (`policies/wN.pol`).
pub fn compile(workload: Workload) -> Program {
    pol_sema::compile([(
        format!("{}.pol", workload.key()),
        workload.pol_source().to_string(),
    )])
    .unwrap_or_else(|errors| panic!("{} does not compile: {errors:?}", workload.key()))
}

/// Reads the normalized outcome from a decision JSON.
pub fn outcome(workload: Workload, report: &serde_json::Value) -> Outcome {
    if let Some(error) = report["error"].as_str() {
        panic!("{}: evaluation error: {error}", workload.key());
    }
    let allowed = report["effect"] == "allow";
    let obligations = report["obligations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let prefix = format!("{}.", workload.pol_entry());
    match workload {
        Workload::W1 => {
            let approval = obligations.iter().any(|o| o["kind"] == "require_approval");
            Outcome::Tool(match (allowed, approval) {
                (false, _) => ToolVerdict::Deny,
                (true, false) => ToolVerdict::Allow,
                (true, true) => ToolVerdict::AllowWithApproval,
            })
        }
        Workload::W2 => Outcome::Docs(
            report["value"]
                .as_array()
                .expect("a filter policy's value is a list")
                .iter()
                .map(|d| d["id"].as_str().expect("docs have ids").to_string())
                .collect(),
        ),
        Workload::W3 => Outcome::Guard {
            allowed,
            fired: report["rules"]
                .as_array()
                .expect("rules")
                .iter()
                .filter(|r| r["kind"] == "deny")
                .map(|r| r["reason"].as_str().expect("reason").to_string())
                .collect(),
        },
        Workload::W4 => {
            let alerts: BTreeSet<String> = obligations
                .iter()
                .filter(|o| o["kind"] == "alert")
                .map(|o| {
                    let id = o["rule"].as_str().expect("rule id");
                    id.strip_prefix(&prefix).unwrap_or(id).to_string()
                })
                .collect();
            debug_assert_eq!(
                allowed,
                !alerts
                    .iter()
                    .any(|a| W4_PAGING_ALERTS.contains(&a.as_str()))
            );
            Outcome::Alerts { allowed, alerts }
        }
    }
}

/// A generated Pol project of at least `lines` lines: copies of the four
/// workload policies, each copy in its own package (`gen.pN.wK`), with the
/// thresholds and lists varied so no two copies are identical.
pub fn generated_project(lines: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut total = 0;
    let mut n = 0usize;
    while total < lines {
        for workload in Workload::ALL {
            let key = workload.key();
            let text = workload
                .pol_source()
                .replace(
                    &format!("package bench.{key}"),
                    &format!("package gen.p{n}.{key}"),
                )
                .replace(
                    "approval_risk: int = 4",
                    &format!("approval_risk: int = {}", 1 + n % 5),
                )
                .replace(
                    "max_age_days: int = 90",
                    &format!("max_age_days: int = {}", 30 + n),
                )
                .replace("\"sudo mode\"", &format!("\"sudo mode {n}\""))
                .replace(
                    "latency_high_ms: int = 5000",
                    &format!("latency_high_ms: int = {}", 5000 + n),
                );
            total += text.lines().count();
            files.push((format!("p{n}/{key}.pol"), text));
        }
        n += 1;
    }
    files
}

/// The JIT, through the embedding API (`Engine` with `EngineKind::Jit`).
/// Its decoded input is a prepared input (`Engine::prepare_json`): decoded
/// and laid out as the native code's frame once, so eval-only times the
/// native evaluation alone, as the peers' eval-only rows time theirs.
#[derive(Debug)]
pub struct PolJit {
    engine: pol_runtime::Engine,
}

impl PolEngine for PolJit {
    const NAME: &'static str = "pol-jit";
    type Entry = pol_runtime::Entrypoint;
    type Input = pol_runtime::PreparedInput;
    type Scratch = ();
    type Output<'a> = Decision;

    fn load(program: Program) -> Self {
        let engine = pol_runtime::Engine::new(program)
            .and_then(|e| e.with_kind(pol_runtime::EngineKind::Jit))
            .expect("the workload programs load on the JIT");
        PolJit { engine }
    }

    fn entry(&self, name: &str) -> pol_runtime::Entrypoint {
        self.engine
            .entrypoint(name)
            .unwrap_or_else(|| panic!("no entrypoint {name}"))
    }

    fn scratch(&self) {}

    fn decode(&self, entry: pol_runtime::Entrypoint, json: &[u8]) -> pol_runtime::PreparedInput {
        self.engine
            .prepare_json(entry, json)
            .unwrap_or_else(|d| panic!("benchmark input does not decode: {:?}", d.error))
    }

    fn eval<'a>(
        &'a self,
        _: &'a mut (),
        _: pol_runtime::Entrypoint,
        input: &'a pol_runtime::PreparedInput,
        now: i64,
    ) -> Decision {
        self.engine.evaluate_prepared(input, now)
    }

    fn eval_json<'a>(
        &'a self,
        _: &'a mut (),
        entry: pol_runtime::Entrypoint,
        json: &'a [u8],
        now: i64,
    ) -> Decision {
        self.engine.evaluate_json(entry, json, now)
    }

    fn report(&self, output: &Decision) -> serde_json::Value {
        pol_runtime::report::decision_json(self.engine.program(), output)
    }
}
