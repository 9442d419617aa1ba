//! The engines' differential comparison: a generated program's cases run
//! on every way the runtime evaluates, and every decision must be the
//! reference interpreter's. Shared by the generated test
//! (`tests/tests/generated.rs`), the `jit_vs_interp` fuzz target and the
//! checks of single decisions in the other targets.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pol_ir::ir::{PolicyKind, Program, Type};
use pol_runtime::{
    CompiledBuiltins, Decision, Engine, EngineKind, Interpreter, Limits, StdBuiltins, Value,
    compute_params,
};
use pol_sema::Workspace;
use pol_syntax::Diagnostic;

use crate::Generated;

/// The warnings a generated program may get: unused lets, and rules after
/// an unconditional `return`. Any other warning means the checker typed
/// something otherwise than the generator did.
pub const EXPECTED_WARNINGS: &[&str] = &["pol::check::unused_let", "pol::check::unreachable_rule"];

/// The message of a caught panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_string()
    }
}

/// `pol_sema::compile` on a workspace that is kept from program to
/// program, so the embedded standard library is parsed once: the files of
/// the previous program are removed, the new ones set, and the errors and
/// lowering are those of `compile`. The codes of warnings are appended to
/// `warnings`.
pub fn compile_in(
    workspace: &mut Workspace,
    files: &[(String, String)],
    warnings: &mut Vec<String>,
) -> Result<Program, Vec<(String, Diagnostic)>> {
    let diagnostics = set_files(workspace, files);
    warnings.extend(
        diagnostics
            .iter()
            .flat_map(|(_, ds)| ds.iter())
            .filter(|d| !d.is_error())
            .map(|d| d.code.to_string()),
    );
    let errors: Vec<(String, Diagnostic)> = diagnostics
        .into_iter()
        .flat_map(|(path, diagnostics)| {
            diagnostics
                .into_iter()
                .filter(|d| d.is_error())
                .map(move |d| (path.clone(), d))
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    pol_sema::lower::lower(&workspace.checked()).map_err(|e| {
        vec![(
            String::new(),
            Diagnostic::error("pol::lower::internal", e.to_string()),
        )]
    })
}

/// Makes `files` the workspace's files, in this order, and returns every
/// diagnostic by path (`Workspace::diagnostics`).
pub fn set_files(
    workspace: &mut Workspace,
    files: &[(String, String)],
) -> Vec<(String, Vec<Diagnostic>)> {
    // Keep the files in the given order (the flattened program follows
    // it): when the paths differ, start from no files. (`set_files` only
    // adds and updates.)
    let paths: Vec<String> = workspace
        .files()
        .iter()
        .map(|f| f.path(workspace.db()).clone())
        .collect();
    if !paths.iter().eq(files.iter().map(|(p, _)| p)) {
        for path in paths {
            workspace.remove_file(&path);
        }
    }
    workspace.set_files(files.iter().cloned());
    workspace.diagnostics()
}

/// Evaluates every case of `generated` on `program` (compiled from it) on
/// every engine and reports each disagreement or malformed decision to
/// `fail`, and the reference interpreter's outcome (`allow`, `deny` or the
/// error's kind) with an example to `record`:
///
/// * the reference [`Interpreter`] over the plain [`StdBuiltins`];
/// * the interpreter over [`CompiledBuiltins`] (phrase sets and regex lists
///   of params and hoisted constants compiled once, as the engine does);
/// * the embedding [`Engine`] on the interpreter and on the JIT (JSON in,
///   decision out, host params through `set_params_json`).
///
/// The two interpreters refuse the inputs the engine's cost budget
/// refuses (`Engine::check_cost`), as the engine does.
///
/// A panic of any engine is caught and reported as a failure.
pub fn evaluate_cases(
    program: &Program,
    generated: &Generated,
    fail: &mut dyn FnMut(String),
    record: &mut dyn FnMut(String, String),
) {
    let mut params = match compute_params(program, &StdBuiltins) {
        Ok(p) => p,
        Err(e) => return fail(format!("the params do not compute: {e}")),
    };
    // The host's param values, decoded as `Engine::set_params_json` does.
    if let Some(json) = &generated.params {
        let object: serde_json::Map<String, serde_json::Value> = match serde_json::from_str(json) {
            Ok(object) => object,
            Err(e) => return fail(format!("the generated params are not an object: {e}")),
        };
        for (name, value) in object {
            let Some(i) = program.params.iter().position(|p| p.name == name) else {
                return fail(format!("no param `{name}`"));
            };
            let bytes = value.to_string().into_bytes();
            match pol_runtime::decode_json(
                program,
                &program.params[i].ty,
                &bytes,
                &Limits::default(),
            ) {
                Ok(v) => params[i] = v,
                Err(e) => return fail(format!("param `{name}` = {value}: {e}")),
            }
        }
    }
    // Precompile the program's own string collections (the standard
    // library's are the same in every program and slow to compile
    // unoptimized; the engines below compile them too).
    let own: Vec<Value> = params
        .iter()
        .zip(&program.params)
        .map(|(v, p)| {
            if p.name.starts_with("std.") {
                Value::None
            } else {
                v.clone()
            }
        })
        .collect();
    let compiled = CompiledBuiltins::for_params(&own);
    let plain = Interpreter::with_params(program, &StdBuiltins, &params);
    let fast = Interpreter::with_params(program, &compiled, &params);
    let mut engines = Vec::new();
    for kind in [EngineKind::Interpreter, EngineKind::Jit] {
        let mut engine = match Engine::new(program.clone()).and_then(|e| e.with_kind(kind)) {
            Ok(e) => e,
            Err(e) => return fail(format!("the program does not load on the {kind:?}: {e}")),
        };
        if let Some(json) = &generated.params
            && let Err(e) = engine.set_params_json(json.as_bytes())
        {
            return fail(format!(
                "the {kind:?} engine refuses the params {json}: {e}"
            ));
        }
        engines.push((kind, engine));
    }
    for (entry, json) in &generated.cases {
        let Some(index) = program.policies.iter().position(|p| &p.name == entry) else {
            fail(format!("no entrypoint `{entry}`"));
            continue;
        };
        let index = index as u32;
        let decode = || {
            pol_runtime::decode_json(
                program,
                &program.policies[index as usize].input,
                json.as_bytes(),
                &Limits::default(),
            )
        };
        // The reference path is the engine's: decode, refuse an input over
        // the cost budget (as the engine does, with its message), evaluate.
        let reference_engine = &engines[0].1;
        let admit = |value: &Value| match reference_engine.entrypoint(entry) {
            Some(ep) => reference_engine.check_cost(ep, value),
            None => Err("the engine has no such entrypoint".into()),
        };
        let run = |interpreter: &dyn Fn(Value) -> Decision| match decode() {
            Ok(value) => match admit(&value) {
                Ok(()) => interpreter(value),
                Err(reason) => Decision::error(index, reason),
            },
            Err(e) => Decision::error(index, e.to_string()),
        };
        let mut decisions: Vec<(String, Result<Decision, String>)> = Vec::new();
        let mut attempt = |name: String, f: &dyn Fn() -> Decision| {
            let d = catch_unwind(AssertUnwindSafe(f)).map_err(|p| panic_message(&*p));
            decisions.push((name, d));
        };
        attempt("interpreter".into(), &|| {
            run(&|v| plain.evaluate(index, v, generated.now))
        });
        attempt("compiled builtins".into(), &|| {
            run(&|v| fast.evaluate(index, v, generated.now))
        });
        for (kind, engine) in &engines {
            attempt(
                format!("{kind:?} engine"),
                &|| match engine.entrypoint(entry) {
                    Some(ep) => engine.evaluate_json(ep, json.as_bytes(), generated.now),
                    None => Decision::error(index, "the engine has no such entrypoint".into()),
                },
            );
        }
        let mut reference: Option<serde_json::Value> = None;
        for (name, d) in decisions {
            let decision = match d {
                Ok(d) => d,
                Err(message) => {
                    fail(format!(
                        "`{entry}` on {json}: the {name} panicked: {message}"
                    ));
                    continue;
                }
            };
            if let Some(problem) = decision_problem(program, index, &decision) {
                fail(format!(
                    "`{entry}` on {json}: the {name}'s decision: {problem}"
                ));
            }
            let rendered = pol_runtime::report::decision_json(program, &decision);
            match &reference {
                None => {
                    record(
                        outcome_kind(&decision),
                        format!("{entry}: {:?}", decision.error),
                    );
                    reference = Some(rendered);
                }
                Some(first) => {
                    if let Some(problem) = compare(first, &rendered) {
                        fail(format!(
                            "`{entry}` on {json}: the {name} disagrees with the interpreter: {problem}\n  interpreter: {first}\n  {name}: {rendered}"
                        ));
                    }
                }
            }
        }
    }
}

/// A decision's outcome for statistics: `allow`, `deny`, or `error: ` and
/// the error without the policy name and details.
pub fn outcome_kind(decision: &Decision) -> String {
    match &decision.error {
        Some(e) => {
            let e = e.split_once(": ").map_or(e.as_str(), |(_, m)| m);
            let e: String = e
                .chars()
                .take_while(|c| !c.is_ascii_digit() && *c != '`' && *c != '"')
                .collect();
            format!("error: {}", e.trim())
        }
        None if decision.is_allowed() => "allow".to_string(),
        None => "deny".to_string(),
    }
}

/// What is wrong with a decision of policy `policy`, if anything:
///
/// * a decision with an error must be a bare deny: no rule fired, no
///   redaction, no value (evaluation fails closed);
/// * a decision policy has no value; a value or filter policy without an
///   error has a value of the declared type (`none` only where the type is
///   optional).
pub fn decision_problem(program: &Program, policy: u32, decision: &Decision) -> Option<String> {
    if decision.policy != policy {
        return Some(format!(
            "it is the decision of policy {}, not {policy}",
            decision.policy
        ));
    }
    if decision.error.is_some()
        && (decision.is_allowed()
            || !decision.fired.iter().all(|w| *w == 0)
            || !decision.redactions.is_empty())
    {
        return Some(format!("an error that is not a bare deny: {decision:?}"));
    }
    if decision.error.as_deref() == Some("") {
        return Some("an error without a message".to_string());
    }
    let expected = match &program.policies.get(policy as usize)?.kind {
        PolicyKind::Decision { .. } => None,
        PolicyKind::Value { ty, .. } => Some(ty.clone()),
        PolicyKind::Filter { elem } => Some(Type::List(Box::new(elem.clone()))),
    };
    match (expected, &decision.value, &decision.error) {
        (_, None, Some(_)) | (None, None, None) => None,
        (_, Some(v), Some(_)) => Some(format!("a value ({v:?}) next to an error")),
        (None, Some(v), None) => Some(format!("a decision policy with a value ({v:?})")),
        (Some(_), None, None) => Some("no value and no error".to_string()),
        (Some(ty), Some(v), None) => {
            if fits(program, &ty, v, false) {
                None
            } else if fits(program, &ty, v, true) {
                Some(format!(
                    "the value {v:?} has `none` where its type {ty:?} has no room for it"
                ))
            } else {
                Some(format!(
                    "the value {v:?} does not have the declared type {ty:?}"
                ))
            }
        }
    }
}

/// Whether `value` has type `ty` (with `none_anywhere`, `none` fits every
/// type).
pub fn fits(program: &Program, ty: &Type, value: &Value, none_anywhere: bool) -> bool {
    match (ty, value) {
        (Type::Optional(_), Value::None) => true,
        (_, Value::None) if none_anywhere => true,
        (Type::Optional(t), v) => fits(program, t, v, none_anywhere),
        (Type::Bool, Value::Bool(_))
        | (Type::Int, Value::Int(_))
        | (Type::Float, Value::Float(_))
        | (Type::String, Value::String(_))
        | (Type::Duration, Value::Duration(_))
        | (Type::Timestamp, Value::Timestamp(_))
        | (Type::Finding, Value::Finding(_)) => true,
        (Type::Enum(id), Value::Variant(i)) => program
            .enums
            .get(id.0 as usize)
            .is_some_and(|e| (*i as usize) < e.variants.len()),
        (Type::Schema(id), Value::Record(fields)) => {
            program.schemas.get(id.0 as usize).is_some_and(|s| {
                s.fields.len() == fields.len()
                    && s.fields
                        .iter()
                        .zip(fields.iter())
                        .all(|(f, v)| fits(program, &f.ty, v, none_anywhere))
            })
        }
        (Type::List(t), Value::List(items)) | (Type::Set(t), Value::Set(items)) => {
            items.iter().all(|v| fits(program, t, v, none_anywhere))
        }
        (Type::Map(t), Value::Map(entries)) => {
            entries.values().all(|v| fits(program, t, v, none_anywhere))
        }
        _ => false,
    }
}

/// Compares two engines' decisions, rendered as the JSON hosts receive.
///
/// Every decision is rendered with `pol_runtime::report::decision_json` and
/// must equal the reference interpreter's (`==` on the JSON, error messages
/// included: the JIT reproduces the interpreter's exact messages). One
/// caveat: the JSON renders NaN and both infinities as `null`, so a float
/// that is NaN in one engine and infinite in the other compares equal (the
/// generator computes both).
pub fn compare(a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    if a == b {
        return None;
    }
    let keys: Vec<&String> = a
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| a.get(k.as_str()) != b.get(k.as_str()))
        .collect();
    Some(format!("they differ in {keys:?}"))
}
