//! Rego through `regorus`, in both of its modes: the tree-walking
//! interpreter (`regorus::Engine::eval_rule`) and the RVM, its compiled
//! mode (the policy compiled to bytecode for a register VM,
//! `regorus::rvm::RegoVM`). Policies: `peers/wN.rego`.
//!
//! Eval-only starts from the input already parsed into a `regorus::Value`;
//! the JSON path parses the JSON text with `Value::from_json_str` first.

use std::collections::BTreeSet;
use std::sync::Arc;

use regorus::languages::rego::compiler::Compiler;
use regorus::rvm::RegoVM;
use regorus::rvm::program::Program;
use regorus::{Engine, Value};

use crate::{Outcome, ToolVerdict, Workload};

/// A workload's Rego source and the rule the host evaluates.
pub fn source(workload: Workload) -> (&'static str, &'static str) {
    match workload {
        Workload::W1 => (include_str!("../peers/w1.rego"), "data.bench.w1.decision"),
        Workload::W2 => (include_str!("../peers/w2.rego"), "data.bench.w2.visible"),
        Workload::W3 => (include_str!("../peers/w3.rego"), "data.bench.w3.result"),
        Workload::W4 => (include_str!("../peers/w4.rego"), "data.bench.w4.result"),
    }
}

/// Parses JSON text the way a regorus host does.
pub fn parse(json: &[u8]) -> Value {
    Value::from_json_str(std::str::from_utf8(json).expect("UTF-8")).expect("JSON input")
}

/// The regorus interpreter with one workload's policy loaded.
#[derive(Clone)]
pub struct RegoInterpreter {
    engine: Engine,
    rule: String,
}

impl std::fmt::Debug for RegoInterpreter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoInterpreter")
            .field("rule", &self.rule)
            .finish()
    }
}

impl RegoInterpreter {
    /// Loads `peers/wN.rego`.
    pub fn new(workload: Workload) -> RegoInterpreter {
        let (text, rule) = source(workload);
        let mut engine = Engine::new();
        engine
            .add_policy(format!("{}.rego", workload.key()), text.to_string())
            .unwrap_or_else(|e| panic!("{}.rego: {e}", workload.key()));
        RegoInterpreter {
            engine,
            rule: rule.to_string(),
        }
    }

    /// Sets a parsed input (the eval-only benchmarks set it once).
    pub fn set_input(&mut self, input: Value) {
        self.engine.set_input(input);
    }

    /// Evaluates the rule on the current input.
    pub fn eval(&mut self) -> Value {
        self.engine
            .eval_rule(self.rule.clone())
            .unwrap_or_else(|e| panic!("{}: {e}", self.rule))
    }

    /// JSON text to decision.
    pub fn eval_json(&mut self, json: &[u8]) -> Value {
        self.engine.set_input(parse(json));
        self.eval()
    }
}

/// The RVM with one workload's policy compiled.
pub struct RegoRvm {
    program: Arc<Program>,
    vm: RegoVM,
}

impl std::fmt::Debug for RegoRvm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoRvm").finish_non_exhaustive()
    }
}

impl RegoRvm {
    /// Compiles `peers/wN.rego` to an RVM program and loads it.
    pub fn new(workload: Workload) -> RegoRvm {
        let (text, rule) = source(workload);
        let mut engine = Engine::new();
        engine
            .add_policy(format!("{}.rego", workload.key()), text.to_string())
            .unwrap_or_else(|e| panic!("{}.rego: {e}", workload.key()));
        let compiled = engine
            .compile_with_entrypoint(&rule.into())
            .unwrap_or_else(|e| panic!("{rule}: {e}"));
        let program = Compiler::compile_from_policy(&compiled, &[rule])
            .unwrap_or_else(|e| panic!("{rule}: RVM compile: {e}"));
        let mut vm = RegoVM::new();
        vm.load_program(program.clone());
        // The default budget (25,000 instructions) is too small for W2's
        // 50 documents and W3's phrase loop.
        vm.set_max_instructions(10_000_000);
        RegoRvm { program, vm }
    }

    /// Sets a parsed input.
    pub fn set_input(&mut self, input: Value) {
        self.vm.set_input(input);
    }

    /// Runs the program on the current input.
    pub fn eval(&mut self) -> Value {
        self.vm.execute().unwrap_or_else(|e| panic!("RVM: {e}"))
    }

    /// JSON text to decision.
    pub fn eval_json(&mut self, json: &[u8]) -> Value {
        self.vm.set_input(parse(json));
        self.eval()
    }

    /// The compiled program's instruction count, for the record.
    pub fn instructions(&self) -> usize {
        self.program.instructions.len()
    }
}

fn strings(value: &Value) -> BTreeSet<String> {
    match value {
        Value::Set(items) => items
            .iter()
            .map(|v| v.as_string().expect("string").to_string())
            .collect(),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_string().expect("string").to_string())
            .collect(),
        other => panic!("expected a set or an array of strings, got {other}"),
    }
}

/// The normalized outcome of a Rego result (either mode).
pub fn outcome(workload: Workload, value: &Value) -> Outcome {
    match workload {
        Workload::W1 => Outcome::Tool(match value.as_string().expect("a string").as_ref() {
            "deny" => ToolVerdict::Deny,
            "allow" => ToolVerdict::Allow,
            "allow_with_approval" => ToolVerdict::AllowWithApproval,
            other => panic!("W1: unexpected decision {other}"),
        }),
        Workload::W2 => Outcome::Docs(match value {
            Value::Array(items) => items
                .iter()
                .map(|v| v.as_string().expect("an id").to_string())
                .collect(),
            other => panic!("W2: expected an array, got {other}"),
        }),
        Workload::W3 => Outcome::Guard {
            allowed: value["allowed"] == Value::from(true),
            fired: strings(&value["fired"]),
        },
        Workload::W4 => Outcome::Alerts {
            allowed: value["allowed"] == Value::from(true),
            alerts: strings(&value["alerts"]),
        },
    }
}
