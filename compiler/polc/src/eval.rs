//! `polc eval`: compile a policy tree, evaluate one entrypoint on one input
//! and print the decision.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use pol_ir::ir::{Effect, Program};
use pol_runtime::{Interpreter, Limits, StdBuiltins, Value};

use crate::{ColorChoice, EXIT_OK, EXIT_USAGE, Format, collect_sources, render, use_color};

#[derive(Debug, clap::Args)]
pub(crate) struct EvalArgs {
    /// Files or directories holding the policies.
    #[arg(required_unless_present = "bundle")]
    paths: Vec<PathBuf>,
    /// Evaluate a compiled bundle (from `polc build`) instead of sources.
    #[arg(long, value_name = "FILE", conflicts_with = "paths")]
    bundle: Option<PathBuf>,
    /// With `--bundle`: require a signature by this public key (`NAME.pub`);
    /// repeat to trust several.
    #[arg(long, value_name = "PUBFILE", requires = "bundle")]
    key: Vec<PathBuf>,
    /// The policy to evaluate, by its qualified name `package.policy`.
    #[arg(long)]
    entry: String,
    /// The input: a JSON file, or `-` to read standard input.
    #[arg(long)]
    input: String,
    /// The request time as RFC 3339 (`now` in policies); the current time
    /// when absent.
    #[arg(long)]
    now: Option<String>,
    /// Param values: a JSON file with an object of `package.param` to value.
    #[arg(long)]
    params: Option<PathBuf>,
    /// The engine: native code (`jit`, the default) or the interpreter.
    #[arg(long, value_enum, default_value_t = crate::runner::EngineChoice::Jit)]
    engine: crate::runner::EngineChoice,
    /// How to print the decision.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Colors in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// A usage problem: printed, exit code 2.
fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

pub(crate) fn eval(args: &EvalArgs) -> ExitCode {
    if let Some(path) = &args.bundle {
        return eval_bundle(args, path);
    }
    let files = match collect_sources(&args.paths) {
        Ok(files) => files,
        Err(message) => return usage(message),
    };
    let mut workspace = pol_sema::Workspace::new();
    workspace.set_files(files);
    let report = render::Report::new(&workspace);
    if report.error_count() > 0 {
        eprint!("{}", report.human(use_color(args.color)));
        return usage("the policies have errors; nothing was evaluated");
    }
    let program = match pol_sema::lower::lower(&workspace.checked()) {
        Ok(program) => program,
        Err(e) => return usage(e),
    };
    let Some(entry) = program.policies.iter().position(|p| p.name == args.entry) else {
        let names: Vec<&str> = program
            .policies
            .iter()
            .map(|p| p.name.as_str())
            .filter(|n| !n.starts_with("std."))
            .collect();
        return usage(format!(
            "no policy `{}`; the entrypoints are {}",
            args.entry,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ));
    };
    let now = match &args.now {
        Some(text) => match pol_ir::time::parse_timestamp(text) {
            Ok(nanos) => nanos,
            Err(problem) => return usage(format!("--now `{text}`: {problem}")),
        },
        None => now_nanos(),
    };
    let mut interpreter = match Interpreter::new(&program, &StdBuiltins) {
        Ok(interpreter) => interpreter,
        Err(e) => return usage(format!("the program's params could not be computed: {e}")),
    };
    if let Some(path) = &args.params
        && let Err(message) = apply_params(&program, &mut interpreter, path)
    {
        return usage(message);
    }
    let input = match read_input(&args.input) {
        Ok(bytes) => bytes,
        Err(message) => return usage(message),
    };
    let policy = &program.policies[entry];
    // A malformed input is a deny that says why: the engine fails closed.
    // Both engines run through the embedding API, so they apply the same
    // limits and cost budget and recompute params set from the file.
    let kind = match args.engine {
        crate::runner::EngineChoice::Interp => pol_runtime::EngineKind::Interpreter,
        crate::runner::EngineChoice::Jit => pol_runtime::EngineKind::Jit,
    };
    // The params file was checked above, on the interpreter.
    let engine = pol_runtime::Engine::new(program.clone())
        .and_then(|e| e.with_kind(kind))
        .and_then(|mut e| {
            if let Some(path) = &args.params {
                let text = std::fs::read(path).unwrap_or_default();
                e.set_params_json(&text)?;
            }
            Ok(e)
        });
    let engine = match engine {
        Ok(engine) => engine,
        Err(e) => return usage(e),
    };
    let Some(handle) = engine.entrypoint(&policy.name) else {
        return usage(format!("no policy `{}`", policy.name));
    };
    let decision = engine.evaluate_json(handle, &input, now);
    let output = match args.format {
        Format::Json => {
            let json = pol_runtime::report::decision_json(&program, &decision);
            format!(
                "{}\n",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            )
        }
        Format::Human => human(&program, &decision),
    };
    print!("{output}");
    ExitCode::from(EXIT_OK)
}

/// `polc eval --bundle`: the runtime alone, as a production host runs it.
fn eval_bundle(args: &EvalArgs, path: &std::path::Path) -> ExitCode {
    let keys = match crate::bundle::read_keys(&args.key) {
        Ok(keys) => keys,
        Err(message) => return usage(message),
    };
    let trust = crate::bundle::trust_of(keys);
    let kind = match args.engine {
        crate::runner::EngineChoice::Interp => pol_runtime::EngineKind::Interpreter,
        crate::runner::EngineChoice::Jit => pol_runtime::EngineKind::Jit,
    };
    let engine = pol_runtime::Engine::from_bundle_file(path, &trust)
        .map_err(|e| format!("`{}` refused: {e}", path.display()))
        .and_then(|e| e.with_kind(kind).map_err(|e| e.to_string()))
        .and_then(|mut e| {
            if let Some(params) = &args.params {
                let text = std::fs::read(params)
                    .map_err(|e| format!("cannot read `{}`: {e}", params.display()))?;
                e.set_params_json(&text).map_err(|e| e.to_string())?;
            }
            Ok(e)
        });
    let engine = match engine {
        Ok(engine) => engine,
        Err(message) => return usage(message),
    };
    let Some(entry) = engine.entrypoint(&args.entry) else {
        let names: Vec<&str> = engine.entrypoints().collect();
        return usage(format!(
            "no policy `{}` in the bundle; its entrypoints are {}",
            args.entry,
            names.join(", ")
        ));
    };
    let now = match &args.now {
        Some(text) => match pol_ir::time::parse_timestamp(text) {
            Ok(nanos) => nanos,
            Err(problem) => return usage(format!("--now `{text}`: {problem}")),
        },
        None => now_nanos(),
    };
    let input = match read_input(&args.input) {
        Ok(bytes) => bytes,
        Err(message) => return usage(message),
    };
    let decision = engine.evaluate_json(entry, &input, now);
    let output = match args.format {
        Format::Json => format!(
            "{}\n",
            serde_json::to_string_pretty(&engine.decision_json(&decision)).unwrap_or_default()
        ),
        Format::Human => human(engine.program(), &decision),
    };
    print!("{output}");
    ExitCode::from(EXIT_OK)
}

fn now_nanos() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_nanos()).ok())
        .unwrap_or(0)
}

fn read_input(source: &str) -> Result<Vec<u8>, String> {
    if source == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        return Ok(bytes);
    }
    std::fs::read(source).map_err(|e| format!("cannot read `{source}`: {e}"))
}

/// Applies `--params`: a JSON object of qualified param names to values,
/// each checked against the param's declared type.
fn apply_params<B: pol_runtime::Builtins>(
    program: &Program,
    interpreter: &mut Interpreter<'_, B>,
    path: &PathBuf,
) -> Result<(), String> {
    let text = std::fs::read(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let object: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&text)
        .map_err(|e| format!("`{}` is not a JSON object: {e}", path.display()))?;
    for (name, value) in object {
        // `<const>.N` params are the compiler's hoisted constants.
        let Some(index) = program
            .params
            .iter()
            .position(|p| p.name == name && !p.name.starts_with('<'))
        else {
            let known: Vec<&str> = program
                .params
                .iter()
                .map(|p| p.name.as_str())
                .filter(|n| !n.starts_with('<'))
                .collect();
            return Err(format!(
                "no param `{name}`; the params are {}",
                known.join(", ")
            ));
        };
        let json = serde_json::to_vec(&value).map_err(|e| e.to_string())?;
        let decoded = pol_runtime::decode_json(
            program,
            &program.params[index].ty,
            &json,
            &Limits::default(),
        )
        .map_err(|e| format!("param `{name}`: {}", e.problem))?;
        interpreter.set_param(index, decoded);
    }
    Ok(())
}

/// The decision for people: effect, fired rules with locations,
/// obligations, value, error.
pub(crate) fn human(program: &Program, decision: &pol_runtime::Decision) -> String {
    let policy = &program.policies[decision.policy as usize];
    let mut out = String::new();
    let effect = match decision.effect {
        Effect::Allow => "allow",
        Effect::Deny => "deny",
    };
    out.push_str(&format!("{effect}  {}\n", policy.name));
    if let Some(error) = &decision.error {
        out.push_str(&format!("error: {error}\n"));
        return out;
    }
    let fired = decision.fired_rules(program);
    if fired.is_empty() {
        out.push_str("no rule fired\n");
    } else {
        out.push_str("fired rules:\n");
        for rule in &fired {
            let file = program
                .sources
                .get(rule.loc.file as usize)
                .map_or("?", String::as_str);
            out.push_str(&format!(
                "  {:<16} {:?}  [{}]  {}:{}:{}\n",
                rule.kind, rule.reason, rule.id, file, rule.loc.line, rule.loc.column
            ));
        }
    }
    if decision.by_default {
        let default = match &policy.kind {
            pol_ir::ir::PolicyKind::Decision { default: Some(d) }
            | pol_ir::ir::PolicyKind::Value { default: d, .. } => Some(&d.reason),
            _ => None,
        };
        match default {
            Some(reason) => out.push_str(&format!("default: {reason:?}\n")),
            None => out.push_str("default: deny (no `default` written)\n"),
        }
    }
    let mut obligations = Vec::new();
    for rule in &fired {
        match (rule.kind, rule.severity) {
            ("require_approval", _) => {
                obligations.push(format!("require approval: {}", rule.reason))
            }
            ("alert", Some(severity)) => {
                obligations.push(format!("alert {}: {}", severity.name(), rule.reason))
            }
            _ => {}
        }
    }
    for (index, findings) in &decision.redactions {
        let reason = policy
            .rules
            .get(*index as usize)
            .map_or("", |r| r.reason.as_str());
        let spans: Vec<String> = findings
            .iter()
            .map(|f| format!("{} {}..{}", f.kind, f.start, f.end))
            .collect();
        obligations.push(format!("redact {}: {reason}", spans.join(", ")));
    }
    if !obligations.is_empty() {
        out.push_str("obligations:\n");
        for obligation in obligations {
            out.push_str(&format!("  {obligation}\n"));
        }
    }
    if let Some(value) = &decision.value {
        let ty = match &policy.kind {
            pol_ir::ir::PolicyKind::Value { ty, .. } => ty.clone(),
            pol_ir::ir::PolicyKind::Filter { elem } => {
                pol_ir::ir::Type::List(Box::new(elem.clone()))
            }
            pol_ir::ir::PolicyKind::Decision { .. } => pol_ir::ir::Type::None,
        };
        if !matches!(value, Value::None) || !matches!(ty, pol_ir::ir::Type::None) {
            let json = pol_runtime::report::value_json(program, &ty, value);
            out.push_str(&format!("value: {json}\n"));
        }
    }
    out
}
