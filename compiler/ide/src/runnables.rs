//! Code lenses: run a `test` block, or run the tests of a policy's package
//! and report how many of its rules they exercised. Both go through the
//! runtime's test runner (the interpreter), as `polc test` does.

use pol_runtime::interp::Coverage;
use pol_runtime::testing::TestRunner;
use pol_syntax::{Span, ast};

use crate::Analysis;

/// `2026-01-01T00:00:00Z`, the request time tests run at (as in `polc
/// test`), in nanoseconds since the epoch.
pub(crate) const TEST_NOW: i64 = 1_767_225_600 * 1_000_000_000;

/// A code lens: where it goes and what it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lens {
    /// The test's or policy's name.
    pub span: Span,
    /// What it runs.
    pub kind: LensKind,
}

/// What a lens runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LensKind {
    /// One test block.
    Test {
        /// Its package.
        package: String,
        /// Its name.
        name: String,
    },
    /// The tests of a policy's package, with the policy's rule coverage.
    Policy {
        /// `package.policy`.
        qualified: String,
    },
}

/// The outcome of running a lens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunResult {
    /// Whether everything passed.
    pub passed: bool,
    /// One line: `passed (3 cases)`, `failed: expected allow, got deny`.
    pub summary: String,
}

impl<'db> Analysis<'db> {
    /// The lenses of a file: one per test and one per policy.
    pub fn lenses(&self, path: &str) -> Vec<Lens> {
        let Some((checked, file)) = self.file(path) else {
            return Vec::new();
        };
        let info = &checked.program.files[file];
        let mut out = Vec::new();
        for (offset, item) in &info.syntax.items {
            match &item.kind {
                ast::ItemKind::Test(t) => out.push(Lens {
                    span: t.name.span.shifted(*offset),
                    kind: LensKind::Test {
                        package: info.package.clone(),
                        name: t.name.value.clone(),
                    },
                }),
                ast::ItemKind::Policy(p) => out.push(Lens {
                    span: p.name.span.shifted(*offset),
                    kind: LensKind::Policy {
                        qualified: format!("{}.{}", info.package, p.name.name),
                    },
                }),
                _ => {}
            }
        }
        out
    }

    /// Runs what a lens names.
    pub fn run_lens(&self, kind: &LensKind) -> RunResult {
        match self.prepare_lens(kind.clone()) {
            Ok(prepared) => prepared.run(),
            Err(result) => result,
        }
    }

    /// Lowers what a lens runs. The result needs no database, so a server
    /// runs it after dropping its snapshot: edits never wait for a test run.
    pub fn prepare_lens(&self, kind: LensKind) -> Result<PreparedLens, RunResult> {
        match pol_sema::lower::lower_with_tests(self.checked()) {
            Ok((program, tests)) => Ok(PreparedLens {
                kind,
                program,
                tests,
            }),
            Err(_) => Err(RunResult {
                passed: false,
                summary: "cannot run: the workspace has errors".into(),
            }),
        }
    }
}

/// A lens's tests, lowered (see [`Analysis::prepare_lens`]).
#[derive(Debug)]
pub struct PreparedLens {
    kind: LensKind,
    program: pol_ir::ir::Program,
    tests: Vec<pol_ir::suite::Test>,
}

impl PreparedLens {
    /// Runs the tests through the runtime.
    pub fn run(self) -> RunResult {
        let PreparedLens {
            kind,
            program,
            tests,
        } = self;
        let kind = &kind;
        let runner = match TestRunner::new(&program, TEST_NOW) {
            Ok(runner) => runner,
            Err(e) => {
                return RunResult {
                    passed: false,
                    summary: format!("cannot run: {e}"),
                };
            }
        };
        match kind {
            LensKind::Test { package, name } => {
                let Some(test) = tests
                    .iter()
                    .find(|t| t.package == *package && t.name == *name)
                else {
                    return RunResult {
                        passed: false,
                        summary: format!("no test named {name:?} in `{package}`"),
                    };
                };
                let outcomes = runner.run(test, None);
                let failed: Vec<_> = outcomes.iter().filter(|o| !o.passed()).collect();
                let cases = outcomes.len();
                let case_word = if cases == 1 { "case" } else { "cases" };
                match failed.first() {
                    None => RunResult {
                        passed: true,
                        summary: format!("passed ({cases} {case_word})"),
                    },
                    Some(first) => {
                        let why = first
                            .error
                            .as_ref()
                            .map(|e| e.message.clone())
                            .or_else(|| {
                                first
                                    .failures
                                    .first()
                                    .map(|f| format!("expected {}, got {}", f.expected, f.actual))
                            })
                            .unwrap_or_default();
                        let case = first
                            .case
                            .as_ref()
                            .map(|c| format!(" (case {c})"))
                            .unwrap_or_default();
                        RunResult {
                            passed: false,
                            summary: format!(
                                "failed {} of {cases} {case_word}{case}: {why}",
                                failed.len()
                            ),
                        }
                    }
                }
            }
            LensKind::Policy { qualified } => {
                let Some(index) = program.policies.iter().position(|p| p.name == *qualified) else {
                    return RunResult {
                        passed: false,
                        summary: format!("no policy `{qualified}`"),
                    };
                };
                let package = qualified
                    .rsplit_once('.')
                    .map_or("", |(package, _)| package);
                let coverage = Coverage::new(&program);
                let mut passed = 0;
                let mut failed = 0;
                for test in tests.iter().filter(|t| t.package == package) {
                    for outcome in runner.run(test, Some(&coverage)) {
                        if outcome.passed() {
                            passed += 1;
                        } else {
                            failed += 1;
                        }
                    }
                }
                let rules = program.policies[index].rules.len();
                let fired = (0..rules)
                    .filter(|r| coverage.outcomes(index, *r) & Coverage::FIRED != 0)
                    .count();
                RunResult {
                    passed: failed == 0,
                    summary: format!(
                        "{passed} passed, {failed} failed; {fired} of {rules} rules fired in the package's tests"
                    ),
                }
            }
        }
    }
}
