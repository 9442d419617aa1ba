//! `polc test`: run the `test` blocks of a policy tree, report failures
//! with the decisions behind them, and measure rule coverage.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};

use pol_ir::ir::{Loc, Program};
use pol_ir::suite::Test;
use pol_runtime::Coverage;
use pol_runtime::testing::{CaseOutcome, TestRunner};

use crate::{ColorChoice, EXIT_OK, EXIT_USAGE, collect_sources, render, use_color};

/// Exit code: a test failed (or coverage is under `--fail-under`).
const EXIT_FAILED: u8 = 1;

/// The request time tests run at unless `--now` says otherwise.
pub(crate) const DEFAULT_NOW: &str = "2026-01-01T00:00:00Z";

#[derive(Debug, clap::Args)]
pub(crate) struct TestArgs {
    /// Files or directories (searched recursively for `.pol` files); the
    /// current directory when none are given.
    paths: Vec<PathBuf>,
    /// Run only the tests whose name or package contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// The engine that evaluates the policies: the JIT, unless coverage is
    /// measured (on the interpreter).
    #[arg(long, value_enum)]
    engine: Option<EngineChoice>,
    /// How to print results.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
    /// Also write the results as JUnit XML to this file.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Report which rules no test made fire, and which were never false.
    #[arg(long)]
    coverage: bool,
    /// Fail (exit 1) when rule coverage is under this percentage; implies
    /// `--coverage`.
    #[arg(long, value_name = "PCT")]
    fail_under: Option<f64>,
    /// The request time (`now`) tests run at, as RFC 3339.
    #[arg(long, default_value = DEFAULT_NOW)]
    now: String,
    /// List every case, passed or not.
    #[arg(long, short)]
    verbose: bool,
    /// Colors in human output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// Engines `polc test` can run policies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum EngineChoice {
    /// Native code compiled by Cranelift.
    Jit,
    /// The interpreter: the reference semantics.
    Interp,
}

/// Output formats of `polc test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum TestFormat {
    /// Failures with the decisions behind them, then a summary line.
    Human,
    /// One JSON object with every case, for tools.
    Json,
}

/// One reported case: a test's main case or one `for` element.
struct Reported<'a> {
    test: &'a Test,
    outcome: CaseOutcome,
}

fn usage(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(EXIT_USAGE)
}

pub(crate) fn test(args: &TestArgs) -> ExitCode {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    if let Some(pct) = args.fail_under
        && !(0.0..=100.0).contains(&pct)
    {
        return usage(format!(
            "--fail-under {pct}: give a percentage from 0 to 100"
        ));
    }
    let now = match pol_ir::time::parse_timestamp(&args.now) {
        Ok(nanos) => nanos,
        Err(problem) => return usage(format!("--now `{}`: {problem}", args.now)),
    };
    let files = match collect_sources(&paths) {
        Ok(files) => files,
        Err(message) => return usage(message),
    };
    let texts: std::collections::HashMap<String, String> = files.iter().cloned().collect();
    let mut workspace = pol_sema::Workspace::new();
    workspace.set_files(files);
    let color = use_color(args.color);
    let report = render::Report::new(&workspace);
    if report.error_count() > 0 {
        eprint!("{}", report.human(color));
        return usage("the policies have errors; no test was run");
    }
    let (program, tests) = match pol_sema::lower::lower_with_tests(&workspace.checked()) {
        Ok(lowered) => lowered,
        Err(e) => return usage(e),
    };
    let want_coverage = args.coverage || args.fail_under.is_some();
    let engine = match (args.engine, want_coverage) {
        (Some(EngineChoice::Jit), true) => {
            return usage(
                "coverage is measured on the interpreter: drop `--engine jit` or use `--engine interp`",
            );
        }
        (Some(EngineChoice::Interp), _) | (None, true) => pol_runtime::EngineKind::Interpreter,
        (Some(EngineChoice::Jit), false) | (None, false) => pol_runtime::EngineKind::Jit,
    };
    let runner = match TestRunner::with_engine(&program, now, engine) {
        Ok(runner) => runner,
        Err(e) => return usage(format!("cannot run the tests: {e}")),
    };
    let (selected, skipped): (Vec<&Test>, Vec<&Test>) = tests.iter().partition(|t| {
        args.filter
            .as_deref()
            .is_none_or(|f| t.name.contains(f) || t.package.contains(f))
    });
    let coverage = want_coverage.then(|| Coverage::new(&program));
    let results = run_parallel(&runner, &selected, coverage.as_ref());
    let reported: Vec<Reported<'_>> = selected
        .iter()
        .zip(results)
        .flat_map(|(test, outcomes)| {
            outcomes
                .into_iter()
                .map(move |outcome| Reported { test, outcome })
        })
        .collect();
    let passed = reported.iter().filter(|r| r.outcome.passed()).count();
    let failed = reported.len() - passed;
    let summary = if skipped.is_empty() {
        format!("{passed} passed, {failed} failed")
    } else {
        format!(
            "{passed} passed, {failed} failed, {} skipped",
            skipped.len()
        )
    };
    let cover = coverage
        .as_ref()
        .map(|c| CoverageReport::new(&program, c, &selected));
    let sources = Sources {
        program: &program,
        texts: &texts,
    };
    if let Some(path) = &args.junit {
        let xml = junit(&sources, &reported, skipped.len());
        if let Err(e) = std::fs::write(path, xml) {
            return usage(format!("cannot write `{}`: {e}", path.display()));
        }
    }
    match args.format {
        TestFormat::Human => {
            let mut out = String::new();
            for r in &reported {
                if r.outcome.passed() {
                    if args.verbose {
                        let _ = writeln!(out, "ok    {}", case_name(r));
                    }
                } else {
                    human_failure(&mut out, &sources, r, color);
                }
            }
            if selected.is_empty() {
                out.push_str("no tests found\n");
            }
            if let Some(cover) = &cover {
                cover.human(&mut out, &sources);
            }
            out.push_str(&summary);
            out.push('\n');
            print!("{out}");
        }
        TestFormat::Json => {
            let json = json_report(
                &sources,
                &reported,
                passed,
                failed,
                skipped.len(),
                cover.as_ref(),
            );
            println!(
                "{}",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            );
        }
    }
    let under = match (&cover, args.fail_under) {
        (Some(cover), Some(min)) if cover.percent() < min => {
            eprintln!(
                "error: rule coverage {:.1}% is under --fail-under {min}%",
                cover.percent()
            );
            true
        }
        _ => false,
    };
    ExitCode::from(if failed > 0 || under {
        EXIT_FAILED
    } else {
        EXIT_OK
    })
}

/// Runs the tests on all cores; results in the order of `tests`.
fn run_parallel(
    runner: &TestRunner<'_>,
    tests: &[&Test],
    coverage: Option<&Coverage>,
) -> Vec<Vec<CaseOutcome>> {
    let workers = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(tests.len().max(1));
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<Vec<CaseOutcome>>> = vec![None; tests.len()];
    let done: Vec<Vec<(usize, Vec<CaseOutcome>)>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(test) = tests.get(i) else { break };
                        mine.push((i, runner.run(test, coverage)));
                    }
                    mine
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for (i, outcomes) in done.into_iter().flatten() {
        results[i] = Some(outcomes);
    }
    results
        .into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                vec![CaseOutcome {
                    case: None,
                    expects: 0,
                    failures: Vec::new(),
                    error: Some(pol_runtime::testing::CaseError {
                        loc: Loc {
                            file: 0,
                            start: 0,
                            end: 0,
                            line: 0,
                            column: 0,
                        },
                        message: "the test runner stopped unexpectedly".into(),
                    }),
                }]
            })
        })
        .collect()
}

/// Source paths and texts, to quote conditions and name locations.
struct Sources<'a> {
    program: &'a Program,
    texts: &'a std::collections::HashMap<String, String>,
}

impl Sources<'_> {
    fn path(&self, loc: &Loc) -> &str {
        self.program
            .sources
            .get(loc.file as usize)
            .map_or("?", String::as_str)
    }

    fn at(&self, loc: &Loc) -> String {
        format!("{}:{}:{}", self.path(loc), loc.line, loc.column)
    }

    /// The source text at `loc`, on one line.
    fn quote(&self, loc: &Loc) -> String {
        let text = self
            .texts
            .get(self.path(loc))
            .and_then(|t| t.get(loc.start as usize..loc.end as usize))
            .unwrap_or("?");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

/// `package › test name [case]`.
fn case_name(r: &Reported<'_>) -> String {
    match &r.outcome.case {
        Some(case) => format!("{} › {} [{case}]", r.test.package, r.test.name),
        None => format!("{} › {}", r.test.package, r.test.name),
    }
}

fn human_failure(out: &mut String, sources: &Sources<'_>, r: &Reported<'_>, color: bool) {
    let (red, bold, dim, reset) = if color {
        ("\x1b[31m", "\x1b[1m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    for failure in &r.outcome.failures {
        let _ = writeln!(
            out,
            "{red}{bold}FAIL{reset} {}  {}: expect {}",
            sources.at(&failure.loc),
            case_name(r),
            sources.quote(&failure.loc)
        );
        let _ = writeln!(out, "     expected: {}", failure.expected);
        let _ = writeln!(out, "     actual:   {}", failure.actual);
        for decision in &failure.decisions {
            let shown = crate::eval::human(sources.program, decision);
            for (i, line) in shown.lines().enumerate() {
                let lead = if i == 0 {
                    "     decision: "
                } else {
                    "               "
                };
                let _ = writeln!(out, "{dim}{lead}{line}{reset}");
            }
        }
    }
    if let Some(error) = &r.outcome.error {
        let _ = writeln!(
            out,
            "{red}{bold}ERROR{reset} {}  {}: {}",
            sources.at(&error.loc),
            case_name(r),
            error.message
        );
    }
}

fn json_report(
    sources: &Sources<'_>,
    reported: &[Reported<'_>],
    passed: usize,
    failed: usize,
    skipped: usize,
    cover: Option<&CoverageReport>,
) -> serde_json::Value {
    let loc_json = |loc: &Loc| serde_json::json!({ "file": sources.path(loc), "line": loc.line, "column": loc.column });
    let cases: Vec<serde_json::Value> = reported
        .iter()
        .map(|r| {
            let failures: Vec<serde_json::Value> = r
                .outcome
                .failures
                .iter()
                .map(|f| {
                    serde_json::json!({
                        "location": loc_json(&f.loc),
                        "expect": sources.quote(&f.loc),
                        "expected": f.expected,
                        "actual": f.actual,
                        "decisions": f.decisions.iter()
                            .map(|d| pol_runtime::report::decision_json(sources.program, d))
                            .collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::json!({
                "package": r.test.package,
                "test": r.test.name,
                "case": r.outcome.case,
                "location": loc_json(&r.test.loc),
                "status": if r.outcome.passed() { "passed" } else { "failed" },
                "expects": r.outcome.expects,
                "failures": failures,
                "error": r.outcome.error.as_ref().map(|e| serde_json::json!({
                    "location": loc_json(&e.loc),
                    "message": e.message,
                })),
            })
        })
        .collect();
    let mut json = serde_json::json!({
        "cases": cases,
        "passed": passed,
        "failed": failed,
        "skipped": skipped,
    });
    if let Some(cover) = cover {
        json["coverage"] = cover.json(sources);
    }
    json
}

/// JUnit XML: one `testsuite` per package, one `testcase` per case.
fn junit(sources: &Sources<'_>, reported: &[Reported<'_>], skipped: usize) -> String {
    let mut packages: std::collections::BTreeMap<&str, Vec<&Reported<'_>>> = Default::default();
    for r in reported {
        packages.entry(r.test.package.as_str()).or_default().push(r);
    }
    let failures = reported.iter().filter(|r| !r.outcome.passed()).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"polc test\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        reported.len()
    );
    for (package, cases) in packages {
        let failed = cases.iter().filter(|r| !r.outcome.passed()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\">",
            xml(package),
            cases.len()
        );
        for r in cases {
            let name = match &r.outcome.case {
                Some(case) => format!("{} [{case}]", r.test.name),
                None => r.test.name.clone(),
            };
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" line=\"{}\"",
                xml(package),
                xml(&name),
                xml(sources.path(&r.test.loc)),
                r.test.loc.line
            );
            if r.outcome.passed() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            for f in &r.outcome.failures {
                let message = format!(
                    "expect {}: expected {}, actual {}",
                    sources.quote(&f.loc),
                    f.expected,
                    f.actual
                );
                let mut detail = format!("at {}\n", sources.at(&f.loc));
                for d in &f.decisions {
                    detail.push_str(&crate::eval::human(sources.program, d));
                }
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\" type=\"expect\">{}</failure>",
                    xml(&message),
                    xml(&detail)
                );
            }
            if let Some(e) = &r.outcome.error {
                let _ = writeln!(
                    out,
                    "      <error message=\"{}\" type=\"evaluation\">at {}</error>",
                    xml(&e.message),
                    xml(&sources.at(&e.loc))
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for XML attributes and content.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot carry at all.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// One rule outcome no test produced.
struct Gap {
    loc: Loc,
    policy: String,
    rule: String,
    missing: &'static str,
}

/// Rule coverage of the project's own policies.
struct CoverageReport {
    covered: usize,
    total: usize,
    gaps: Vec<Gap>,
}

impl CoverageReport {
    /// Each rule must fire, and each rule with a condition must also be
    /// false in some test; a policy's written `default` must apply. Only
    /// policies of the files given (not the embedded library) count, and
    /// only those of packages that have tests when `--filter` selected
    /// some.
    fn new(program: &Program, coverage: &Coverage, tests: &[&Test]) -> CoverageReport {
        let packages: std::collections::HashSet<&str> =
            tests.iter().map(|t| t.package.as_str()).collect();
        let mut report = CoverageReport {
            covered: 0,
            total: 0,
            gaps: Vec::new(),
        };
        for (p, policy) in program.policies.iter().enumerate() {
            let embedded = program
                .sources
                .get(policy.loc.file as usize)
                .is_none_or(|s| s.starts_with("<std>/"));
            let package = policy.name.rsplit_once('.').map_or("", |(pkg, _)| pkg);
            if embedded || !packages.contains(package) {
                continue;
            }
            let mut check = |loc: Loc, index: usize, rule: &str, outcome: u8, missing| {
                report.total += 1;
                if coverage.outcomes(p, index) & outcome != 0 {
                    report.covered += 1;
                } else {
                    report.gaps.push(Gap {
                        loc,
                        policy: policy.name.clone(),
                        rule: rule.to_string(),
                        missing,
                    });
                }
            };
            for (i, rule) in policy.rules.iter().enumerate() {
                check(rule.loc, i, &rule.id, Coverage::FIRED, "never fired");
                if rule.when.is_some() {
                    check(rule.loc, i, &rule.id, Coverage::FALSE, "never false");
                }
            }
            if let Some(default) = policy.default_rule() {
                let index = policy.rules.len();
                check(
                    default.loc,
                    index,
                    &default.id,
                    Coverage::FIRED,
                    "never applied",
                );
            }
        }
        report.gaps.sort_by_key(|g| (g.loc.file, g.loc.start));
        report
    }

    fn percent(&self) -> f64 {
        if self.total == 0 {
            100.0
        } else {
            self.covered as f64 * 100.0 / self.total as f64
        }
    }

    fn human(&self, out: &mut String, sources: &Sources<'_>) {
        let mut last_file = None;
        for gap in &self.gaps {
            if last_file != Some(gap.loc.file) {
                let _ = writeln!(out, "coverage gaps in {}:", sources.path(&gap.loc));
                last_file = Some(gap.loc.file);
            }
            let _ = writeln!(
                out,
                "  {}:{}  {}  {}: {}",
                gap.loc.line,
                gap.loc.column,
                gap.policy,
                rule_label(&gap.policy, &gap.rule),
                gap.missing
            );
        }
        let _ = writeln!(
            out,
            "coverage: {:.1}% ({} of {} rule outcomes)",
            self.percent(),
            self.covered,
            self.total
        );
    }

    fn json(&self, sources: &Sources<'_>) -> serde_json::Value {
        serde_json::json!({
            "percent": (self.percent() * 10.0).round() / 10.0,
            "covered": self.covered,
            "total": self.total,
            "gaps": self.gaps.iter().map(|g| serde_json::json!({
                "file": sources.path(&g.loc),
                "line": g.loc.line,
                "column": g.loc.column,
                "policy": g.policy,
                "rule": g.rule,
                "missing": g.missing,
            })).collect::<Vec<_>>(),
        })
    }
}

/// A rule's id without its policy's prefix.
fn rule_label(policy: &str, id: &str) -> String {
    let short = id
        .strip_prefix(policy)
        .and_then(|s| s.strip_prefix('.'))
        .unwrap_or(id);
    format!("rule `{short}`")
}
