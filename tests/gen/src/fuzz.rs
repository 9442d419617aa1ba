//! The bodies of the fuzz targets, written once: the cargo-fuzz crate
//! (`fuzz/`) calls them on the fuzzer's bytes, and the bounded fuzzing of
//! the test suite (`tests/tests/fuzz_bounded.rs`) calls them on a fixed,
//! seeded set of inputs. Each body panics when the property it checks
//! fails, with a message that says what and on which input; a fuzzer
//! reports the panic as a crash, the bounded test catches it as a failure.
//!
//! | target | body | property |
//! |---|---|---|
//! | `parse` | [`parse_never_panics`] | any text parses to items and diagnostics with spans inside it; a text without errors formats, and formatting is idempotent |
//! | `check` | [`CheckTarget`] | generated programs (most with a few mutations) and any text resolve and type-check without a panic; a generated program without mutations checks clean; a checked program lowers to IR that verifies; the formatter round-trips: formatting twice is formatting once, and the formatted files check to the same diagnostics and the same program |
//! | `bundle_load` | [`BundleLoadTarget`] | any bytes, and valid bundles with bytes changed (resealed or not), load or are refused with an error; nothing loads under a trusted key; a loaded bundle compiles on the JIT, whose decision on each entrypoint (up to 8) is well-formed and the reference interpreter's |
//! | `eval_json` | [`EvalJsonTarget`] | any JSON text, and mutations of valid inputs, give every standard-library entrypoint a well-formed decision, the same on both engines; an input the decoder refuses is a deny carrying an error |
//! | `jit_vs_interp` | [`JitVsInterpTarget`] | generated programs check clean, and every case gets the same decision from the interpreter, the interpreter with compiled builtins, and the engine on the interpreter and on the JIT ([`differential::evaluate_cases`]) |
//!
//! Targets with state (a workspace whose standard library is parsed once,
//! loaded engines) are structs: build one with `new` and call `run` for
//! each input. After a panic, build a new one.
//!
//! # Input formats
//!
//! Every target accepts any bytes. Besides, so that the repository's files
//! seed the corpora as they are:
//!
//! * `check`: a first byte `0` means the rest drives the generator (and the
//!   mutations); any other text is checked as source, split into files at
//!   `//--- name.pol` lines like the diagnostics corpus.
//! * `eval_json`: a first byte `0` means the rest drives the generator of
//!   inputs (and the mutations); otherwise the first line names the
//!   entrypoint (`std.tools.call`) and the rest is the JSON text.
//! * `bundle_load`: bytes starting with the bundle magic are a bundle;
//!   otherwise the first byte chooses the mode (raw bytes, a valid bundle
//!   with bytes changed, the same with the hashes recomputed, or with the
//!   program decoded and written again) and the rest drives it.

pub mod differential;
mod ir_input;
mod mutate;

use std::borrow::Cow;

use arbitrary::Unstructured;
use pol_ir::bundle::{self, BuildInfo, Manifest, PublicKey, SecretKey, Trust};
use pol_ir::ir::{self, Loc, PolicyKind, Program};
use pol_runtime::{
    Decision, Engine, EngineKind, Interpreter, Limits, LoadError, StdBuiltins, compute_params,
};
use pol_sema::Workspace;
use pol_syntax::Diagnostic;
use sha2::{Digest as _, Sha256};

pub use ir_input::InputPool;
use mutate::Plan;

use crate::Generated;

/// Request times: the epoch, 2026-01-01, just before the epoch, and the
/// ends of the range.
const NOWS: &[i64] = &[
    0,
    1_767_225_600_000_000_000,
    -1,
    i64::MIN,
    i64::MAX,
    1_769_851_800_250_000_000,
];

/// The most entrypoints of a loaded bundle evaluated per input.
const MAX_ENTRIES: usize = 8;

/// The most virtual files of one text for `check`.
const MAX_FILES: usize = 8;

fn pick_now(u: &mut Unstructured<'_>) -> i64 {
    NOWS[u.choose_index(NOWS.len()).unwrap_or(0)]
}

// ---------------------------------------------------------------- parse

/// `parse`: any bytes, as text (invalid UTF-8 replaced), lex, split and
/// parse without a panic; every diagnostic's labels lie inside the text on
/// character boundaries; a text without syntax errors formats, and
/// formatting it again changes nothing. Returns the outcome, for
/// statistics: `parses` or `syntax errors`.
pub fn parse_never_panics(data: &[u8]) -> &'static str {
    let text = String::from_utf8_lossy(data);
    let parsed = pol_syntax::parse_file(&text);
    for d in &parsed.diagnostics {
        if let Some(problem) = label_problem(d, |_| Some(text.to_string())) {
            panic!("{problem}\nin the text {text:?}");
        }
    }
    let errors = parsed.diagnostics.iter().any(Diagnostic::is_error);
    let formatted = formatted(&text);
    assert_eq!(
        formatted.is_some(),
        !errors,
        "the formatter {} a text the parser {}: {text:?}",
        if formatted.is_some() {
            "formats"
        } else {
            "refuses"
        },
        if errors { "refuses" } else { "accepts" },
    );
    if errors { "syntax errors" } else { "parses" }
}

/// The text formatted, or `None` when it has syntax errors. Panics when
/// the formatter fails otherwise (its own checks found that it would
/// change the program) or is not idempotent.
fn formatted(text: &str) -> Option<String> {
    let config = pol_fmt::FormatConfig::default();
    match pol_fmt::format(text, &config) {
        Ok(once) => {
            match pol_fmt::format(&once, &config) {
                Ok(twice) => assert!(
                    twice == once,
                    "formatting is not idempotent:\n--- source\n{text}\n--- once\n{once}\n--- twice\n{twice}"
                ),
                Err(e) => panic!(
                    "the formatter refuses its own output: {e}\n--- source\n{text}\n--- once\n{once}"
                ),
            }
            Some(once)
        }
        Err(pol_fmt::FormatError::Syntax { .. }) => None,
        Err(pol_fmt::FormatError::Internal { message }) => {
            panic!("the formatter fails on a text that parses: {message}\n--- source\n{text}")
        }
    }
}

/// What is wrong with a diagnostic's labels: a span outside its file's
/// text, reversed, or not on character boundaries (an editor would slice
/// the text there), or a label in a file `text_of` does not know.
fn label_problem(
    d: &Diagnostic,
    text_of: impl Fn(Option<&str>) -> Option<String>,
) -> Option<String> {
    for label in &d.labels {
        let Some(text) = text_of(label.file.as_deref()) else {
            return Some(format!(
                "`{}` has a label in an unknown file {:?}",
                d.code, label.file
            ));
        };
        let (start, end) = (label.span.start as usize, label.span.end as usize);
        if start > end
            || end > text.len()
            || !text.is_char_boundary(start)
            || !text.is_char_boundary(end)
        {
            return Some(format!(
                "`{}` ({}) has the span {start}..{end} in a text of {} bytes, or not on character boundaries",
                d.code,
                d.message,
                text.len()
            ));
        }
    }
    None
}

// ---------------------------------------------------------------- check

/// `check`: programs through resolve and type-check, and the formatter
/// round-trip (see the module documentation).
#[derive(Debug)]
pub struct CheckTarget {
    workspace: Workspace,
}

/// What checking a set of files gave.
#[derive(Debug)]
struct Checked {
    /// Per file, the sorted (is error, code) of its diagnostics.
    codes: Vec<(String, Vec<(bool, &'static str)>)>,
    /// The lowered program, when there is no error.
    program: Option<Program>,
}

impl Default for CheckTarget {
    fn default() -> CheckTarget {
        CheckTarget::new()
    }
}

impl CheckTarget {
    /// A target with a fresh workspace.
    pub fn new() -> CheckTarget {
        CheckTarget {
            workspace: Workspace::new(),
        }
    }

    /// Runs one input. Returns the outcome, for statistics: `checks`,
    /// `errors` (resolution or types) or `syntax errors`.
    pub fn run(&mut self, data: &[u8]) -> &'static str {
        match data.split_first() {
            Some((0, rest)) => {
                let mut u = Unstructured::new(rest);
                let plan = Plan::read(&mut u, 3);
                let target: u8 = u.arbitrary().unwrap_or(0);
                let Ok(generated) = crate::generate(&mut u) else {
                    return "no program";
                };
                let mut files = generated.files.clone();
                if !plan.is_empty() && !files.is_empty() {
                    let i = target as usize % files.len();
                    files[i].1 = plan.apply_text(&files[i].1);
                }
                let clean = plan.is_empty().then_some(&generated);
                self.check_files(&files, clean)
            }
            _ => {
                let text = String::from_utf8_lossy(data);
                self.check_files(&source_files(&text), None)
            }
        }
    }

    /// Checks the files, formats each, and checks the formatted files.
    /// `clean` is the generated program when the files are its own, which
    /// must check without errors.
    fn check_files(
        &mut self,
        files: &[(String, String)],
        clean: Option<&Generated>,
    ) -> &'static str {
        let first = self.check(files);
        if let Some(generated) = clean {
            assert!(
                first.program.is_some(),
                "a generated program does not check: {:?}\n{}",
                first.codes,
                show(&generated.files)
            );
        }
        let mut formatted_files = Vec::new();
        for (path, text) in files {
            match formatted(text) {
                Some(f) => formatted_files.push((path.clone(), f)),
                None => {
                    let has_error = first
                        .codes
                        .iter()
                        .any(|(p, codes)| p == path && codes.iter().any(|(error, _)| *error));
                    assert!(
                        has_error,
                        "the formatter finds syntax errors in `{path}` but the checker reports none:\n{text}"
                    );
                    return "syntax errors";
                }
            }
        }
        let outcome = if first.program.is_some() {
            "checks"
        } else {
            "errors"
        };
        if formatted_files == files {
            // Already in the canonical layout: nothing to compare.
            return outcome;
        }
        let second = self.check(&formatted_files);
        assert!(
            first.codes == second.codes,
            "formatting changes the diagnostics: {:?} became {:?}\n--- source\n{}\n--- formatted\n{}",
            first.codes,
            second.codes,
            show(files),
            show(&formatted_files)
        );
        match (&first.program, &second.program) {
            (Some(a), Some(b)) => assert!(
                without_locations(a) == without_locations(b),
                "formatting changes the lowered program\n--- source\n{}\n--- formatted\n{}",
                show(files),
                show(&formatted_files)
            ),
            (None, None) => {}
            _ => panic!("formatting changes whether the program lowers"),
        }
        outcome
    }

    /// Checks the files: diagnostics with their labels inside the files,
    /// and, without errors, the lowered program, which must verify.
    fn check(&mut self, files: &[(String, String)]) -> Checked {
        let diagnostics = differential::set_files(&mut self.workspace, files);
        let mut codes = Vec::new();
        let mut errors = false;
        for (path, ds) in &diagnostics {
            for d in ds {
                // Labels in other files: project files or the embedded
                // standard library's.
                let text_of = |file: Option<&str>| self.workspace.text_of(file.unwrap_or(path));
                let problem = label_problem(d, text_of);
                if let Some(problem) = problem {
                    panic!("{problem}\nin `{path}` of\n{}", show(files));
                }
            }
            errors |= ds.iter().any(Diagnostic::is_error);
            let mut list: Vec<(bool, &'static str)> =
                ds.iter().map(|d| (d.is_error(), d.code)).collect();
            list.sort();
            if !list.is_empty() {
                codes.push((path.clone(), list));
            }
        }
        let program = if errors {
            None
        } else {
            let program = match pol_sema::lower::lower(&self.workspace.checked()) {
                Ok(p) => p,
                Err(e) => panic!("a program that checks does not lower: {e}\n{}", show(files)),
            };
            if let Err(e) = ir::verify(&program) {
                panic!("the lowered program does not verify: {e}\n{}", show(files));
            }
            Some(program)
        };
        Checked { codes, program }
    }
}

/// Files as one text, each behind a `//--- path` line, cut after 4000
/// bytes (the whole input is the fuzzer's artifact).
fn show(files: &[(String, String)]) -> String {
    let mut out: String = files
        .iter()
        .map(|(p, t)| format!("//--- {p}\n{t}"))
        .collect();
    if out.len() > 4000 {
        let mut end = 4000;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out.push_str("\n[...]");
    }
    out
}

/// A text's virtual files: split at `//--- name` lines, or one file.
fn source_files(text: &str) -> Vec<(String, String)> {
    if !text.lines().any(|l| l.starts_with("//--- ")) {
        return vec![("fuzz.pol".to_string(), text.to_string())];
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("//--- ") {
            if files.len() == MAX_FILES {
                break;
            }
            // Distinct paths: a repeated name would replace the file.
            files.push((format!("{}_{}", files.len(), name.trim()), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
        }
    }
    files
}

/// The program with every source location zeroed: what formatting may
/// change.
fn without_locations(program: &Program) -> Program {
    let mut program = program.clone();
    let zero = Loc {
        file: 0,
        start: 0,
        end: 0,
        line: 0,
        column: 0,
    };
    for policy in &mut program.policies {
        policy.loc = zero;
        for rule in &mut policy.rules {
            rule.loc = zero;
        }
        match &mut policy.kind {
            PolicyKind::Decision { default: Some(d) } | PolicyKind::Value { default: d, .. } => {
                d.loc = zero;
            }
            PolicyKind::Decision { default: None } | PolicyKind::Filter { .. } => {}
        }
    }
    program
}

// ---------------------------------------------------------------- eval_json

/// The embedded standard library, every package, compiled as a project of
/// its own (as `polc check stdlib-policies` does).
fn standard_library() -> Program {
    let files = pol_stdlib::FILES
        .iter()
        .map(|(path, text)| (path.to_string(), text.to_string()));
    pol_sema::compile(files).expect("the standard library compiles")
}

/// `eval_json`: inputs for the standard library's entrypoints on both
/// engines (see the module documentation).
#[derive(Debug)]
pub struct EvalJsonTarget {
    jit: Engine,
    interpreter: Engine,
    pool: InputPool,
}

impl Default for EvalJsonTarget {
    fn default() -> EvalJsonTarget {
        EvalJsonTarget::new()
    }
}

impl EvalJsonTarget {
    /// Compiles the embedded standard library and loads it on both
    /// engines.
    pub fn new() -> EvalJsonTarget {
        let program = standard_library();
        let jit = Engine::new(program.clone())
            .and_then(|e| e.with_kind(EngineKind::Jit))
            .expect("the standard library loads on the JIT");
        let interpreter = Engine::new(program)
            .and_then(|e| e.with_kind(EngineKind::Interpreter))
            .expect("the standard library loads");
        let pool = InputPool::new(jit.program());
        EvalJsonTarget {
            jit,
            interpreter,
            pool,
        }
    }

    /// The entrypoints' names, for seeds.
    pub fn entrypoints(&self) -> Vec<String> {
        self.jit.entrypoints().map(str::to_string).collect()
    }

    /// A valid input for the entrypoint `index`, from `u`.
    pub fn input(&self, index: usize, u: &mut Unstructured<'_>) -> String {
        let program = self.jit.program();
        self.pool.json(program, &program.policies[index].input, u)
    }

    /// Runs one input. Returns the outcome, for statistics: `refused`
    /// (by the decoder), `allow`, `deny` or `error: ` and the kind of
    /// evaluation error.
    pub fn run(&mut self, data: &[u8]) -> String {
        let program = self.jit.program();
        let count = program.policies.len();
        if count == 0 {
            return "no entrypoint".to_string();
        }
        let (index, json, now): (usize, Cow<'_, [u8]>, i64) = match data.split_first() {
            Some((0, rest)) => {
                let mut u = Unstructured::new(rest);
                let index = u.choose_index(count).unwrap_or(0);
                let plan = Plan::read(&mut u, 2);
                let now = pick_now(&mut u);
                let json = self.input(index, &mut u);
                (index, plan.apply_bytes(json.as_bytes(), 0).into(), now)
            }
            _ => {
                let (head, rest) = match data.iter().position(|b| *b == b'\n') {
                    Some(n) => (&data[..n], &data[n + 1..]),
                    None => (data, &[][..]),
                };
                let named = std::str::from_utf8(head)
                    .ok()
                    .and_then(|name| program.policies.iter().position(|p| p.name == name.trim()));
                match named {
                    Some(index) => (index, rest.into(), NOWS[1]),
                    None => {
                        let sum: usize = data.iter().map(|b| *b as usize).sum();
                        (sum % count, data.into(), NOWS[1])
                    }
                }
            }
        };
        let name = &program.policies[index].name;
        let jit_entry = self.jit.entrypoint(name).expect("an entrypoint of the JIT");
        let interpreter_entry = self
            .interpreter
            .entrypoint(name)
            .expect("an entrypoint of the interpreter");
        let decisions = [
            ("JIT", self.jit.evaluate_json(jit_entry, &json, now)),
            (
                "interpreter",
                self.interpreter
                    .evaluate_json(interpreter_entry, &json, now),
            ),
        ];
        let shown = String::from_utf8_lossy(&json);
        check_decisions(program, index as u32, &shown, &decisions);
        let refused = pol_runtime::decode_json(
            program,
            &program.policies[index].input,
            &json,
            &Limits::default(),
        )
        .is_err();
        if refused {
            for (engine, d) in &decisions {
                assert!(
                    d.is_denied() && d.error.is_some(),
                    "`{name}` on {shown}: the decoder refuses the input, but the {engine} gives {d:?}"
                );
            }
            return "refused".to_string();
        }
        differential::outcome_kind(&decisions[0].1)
    }
}

/// Panics unless every decision is well-formed ([`differential::decision_problem`])
/// and all are the same as the first.
fn check_decisions(program: &Program, policy: u32, input: &str, decisions: &[(&str, Decision)]) {
    let name = program
        .policies
        .get(policy as usize)
        .map_or("?", |p| p.name.as_str());
    let mut first: Option<(&str, serde_json::Value)> = None;
    for (engine, decision) in decisions {
        if let Some(problem) = differential::decision_problem(program, policy, decision) {
            panic!("`{name}` on {input}: the {engine}'s decision: {problem}");
        }
        let rendered = pol_runtime::report::decision_json(program, decision);
        match &first {
            None => first = Some((engine, rendered)),
            Some((reference, expected)) => {
                if let Some(problem) = differential::compare(expected, &rendered) {
                    panic!(
                        "`{name}` on {input}: the {engine} disagrees with the {reference}: {problem}\n  {reference}: {expected}\n  {engine}: {rendered}"
                    );
                }
            }
        }
    }
}

// ---------------------------------------------------------------- bundle_load

/// `bundle_load`: bytes into the bundle loader, and loaded bundles on the
/// JIT and the reference interpreter (see the module documentation).
#[derive(Debug)]
pub struct BundleLoadTarget {
    bases: Vec<Vec<u8>>,
    /// A key no input is signed with.
    trusted: PublicKey,
}

impl BundleLoadTarget {
    /// The valid bundles that mutations start from: parts of the standard
    /// library and a few generated programs.
    pub fn new() -> BundleLoadTarget {
        let mut programs = Vec::new();
        let stdlib = standard_library();
        for package in ["std.tools", "std.rag"] {
            programs.push(pol_ir::prune::retain_packages(&stdlib, |p| p == package));
        }
        // Small generated programs (short streams): a valid bundle is
        // compiled on the JIT, the bulk of the time of an input.
        let mut workspace = Workspace::new();
        for seed in 0..4 {
            let stream = crate::seed_bytes(seed, 1024);
            let generated = crate::generate(&mut Unstructured::new(&stream))
                .expect("the generator never fails");
            let program =
                differential::compile_in(&mut workspace, &generated.files, &mut Vec::new())
                    .expect("a generated program checks");
            programs.push(program);
        }
        let bases = programs
            .iter()
            .map(|p| bundle::write(p, &BuildInfo::default(), None).expect("a bundle"))
            .collect();
        BundleLoadTarget {
            bases,
            trusted: SecretKey::from_seed([7; 32]).public(),
        }
    }

    /// The valid bundles mutations start from, for seeds.
    pub fn bases(&self) -> &[Vec<u8>] {
        &self.bases
    }

    /// Runs one input. Returns the outcome, for statistics: `loaded`, or
    /// the kind of refusal (`Bundle(BadHash)`, ...).
    pub fn run(&mut self, data: &[u8]) -> String {
        if data.is_empty() || data.starts_with(&bundle::MAGIC) {
            return self.load(data, &mut Unstructured::new(data));
        }
        let mut u = Unstructured::new(&data[1..]);
        let base = &self.bases[u.choose_index(self.bases.len()).unwrap_or(0)];
        let plan = Plan::read(&mut u, 4);
        let bytes = match data[0] % 4 {
            0 => data[1..].to_vec(),
            1 => plan.apply_bytes(base, 0),
            2 => reseal(base, &plan, false),
            _ => reseal(base, &plan, true),
        };
        self.load(&bytes, &mut u)
    }

    fn load(&self, bytes: &[u8], u: &mut Unstructured<'_>) -> String {
        // Nothing the fuzzer makes is signed by this key.
        let signed_only = Trust::keys([self.trusted.clone()]);
        if let Ok(engine) = Engine::from_bundle(bytes, &signed_only) {
            panic!("a bundle loads under a key that did not sign it: {engine:?}");
        }
        let jit = match Engine::from_bundle(bytes, &Trust::any()) {
            Ok(engine) => engine,
            Err(e) => {
                assert!(!e.to_string().is_empty(), "a refusal without a reason");
                // The variant without its details: `Bundle(BadHash)`.
                let variant = |debug: String| {
                    debug
                        .split(['(', ' ', '{'])
                        .next()
                        .unwrap_or_default()
                        .to_string()
                };
                return match e {
                    LoadError::Bundle(b) => format!("Bundle({})", variant(format!("{b:?}"))),
                    e => variant(format!("{e:?}")),
                };
            }
        };
        if let Some(why) = jit.jit_unavailable() {
            panic!("a bundle that verifies does not compile on the JIT: {why}");
        }
        // The reference: the interpreter over the plain builtins, after the
        // decoder and the engine's cost budget (the engine's own path, as
        // `differential::evaluate_cases` has it). A second engine would
        // compile the program on the JIT again, the bulk of a load.
        let program = jit.program();
        let params = match compute_params(program, &StdBuiltins) {
            Ok(params) => params,
            Err(e) => panic!("the engine computes the params and the interpreter cannot: {e}"),
        };
        let interpreter = Interpreter::with_params(program, &StdBuiltins, &params);
        let pool = InputPool::new(program);
        for (index, policy) in program.policies.iter().enumerate().take(MAX_ENTRIES) {
            let json = pool.json(program, &policy.input, u);
            let now = pick_now(u);
            let entry = jit
                .entrypoint(&policy.name)
                .expect("an entrypoint of the program");
            let index = index as u32;
            let reference = match pol_runtime::decode_json(
                program,
                &policy.input,
                json.as_bytes(),
                &Limits::default(),
            ) {
                Ok(value) => match jit.check_cost(entry, &value) {
                    Ok(()) => interpreter.evaluate(index, value, now),
                    Err(reason) => Decision::error(index, reason),
                },
                Err(e) => Decision::error(index, e.to_string()),
            };
            let decisions = [
                ("interpreter", reference),
                ("JIT", jit.evaluate_json(entry, json.as_bytes(), now)),
            ];
            check_decisions(program, index, &json, &decisions);
        }
        "loaded".to_string()
    }
}

impl Default for BundleLoadTarget {
    fn default() -> BundleLoadTarget {
        BundleLoadTarget::new()
    }
}

/// `base` (a valid unsigned bundle) with its payload mutated by `plan` and
/// its hashes recomputed, so the loader gets past its integrity checks to
/// the decoder and the verifier. With `rewrite`, a payload that still
/// decodes to a program that verifies is written again with
/// `bundle::write`, which derives a matching manifest, so the program
/// reaches the engines.
fn reseal(base: &[u8], plan: &Plan, rewrite: bool) -> Vec<u8> {
    let len_at =
        |at: usize| u32::from_le_bytes([base[at], base[at + 1], base[at + 2], base[at + 3]]);
    let manifest_len = len_at(12) as usize;
    let manifest = &base[bundle::HEADER_LEN..bundle::HEADER_LEN + manifest_len];
    let payload = &base[bundle::HEADER_LEN + manifest_len..];
    let payload = plan.apply_bytes(payload, 0);
    if rewrite
        && let Ok(program) = postcard::from_bytes::<Program>(&payload)
        && ir::verify(&program).is_ok()
        && let Ok(bytes) = bundle::write(&program, &BuildInfo::default(), None)
    {
        return bytes;
    }
    let mut manifest: Manifest = serde_json::from_slice(manifest).expect("a valid manifest");
    manifest.content_hash = format!("sha256:{}", bundle::hex(&Sha256::digest(&payload)));
    let manifest = serde_json::to_vec_pretty(&manifest).expect("a manifest encodes");
    bundle::assemble(&manifest, &payload, None).expect("frames")
}

// ---------------------------------------------------------------- jit_vs_interp

/// `jit_vs_interp`: generated programs and cases on every engine (see the
/// module documentation).
#[derive(Debug)]
pub struct JitVsInterpTarget {
    workspace: Workspace,
}

impl Default for JitVsInterpTarget {
    fn default() -> JitVsInterpTarget {
        JitVsInterpTarget::new()
    }
}

impl JitVsInterpTarget {
    /// A target with a fresh workspace.
    pub fn new() -> JitVsInterpTarget {
        JitVsInterpTarget {
            workspace: Workspace::new(),
        }
    }

    /// Runs one input. Returns the number of cases evaluated.
    pub fn run(&mut self, data: &[u8]) -> usize {
        let mut u = Unstructured::new(data);
        let Ok(generated) = crate::generate(&mut u) else {
            return 0;
        };
        self.run_generated(&generated)
    }

    /// Runs one generated program. Returns the number of cases evaluated.
    pub fn run_generated(&mut self, generated: &Generated) -> usize {
        let mut warnings = Vec::new();
        let program =
            match differential::compile_in(&mut self.workspace, &generated.files, &mut warnings) {
                Ok(program) => program,
                Err(errors) => {
                    let list: Vec<String> = errors
                        .iter()
                        .map(|(path, d)| format!("{path}: {} {}", d.code, d.message))
                        .collect();
                    panic!(
                        "a generated program does not check: {}\n{}",
                        list.join("; "),
                        show(&generated.files)
                    );
                }
            };
        for w in &warnings {
            assert!(
                differential::EXPECTED_WARNINGS.contains(&w.as_str()),
                "a generated program gets the warning {w}\n{}",
                show(&generated.files)
            );
        }
        let mut failures = Vec::new();
        differential::evaluate_cases(
            &program,
            generated,
            &mut |failure| failures.push(failure),
            &mut |_, _| {},
        );
        assert!(
            failures.is_empty(),
            "{}\n{}",
            failures.join("\n"),
            show(&generated.files)
        );
        generated.cases.len()
    }
}

/// `text` with up to three small mutations read from `u` (a token
/// inserted, a line dropped, ...): mostly valid source, for the bounded
/// `parse` inputs.
pub fn mutate_text(text: &str, u: &mut Unstructured<'_>) -> String {
    Plan::read(u, 3).apply_text(text)
}
