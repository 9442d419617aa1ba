//! The `polc` command line: `check`, `eval` and `test`; `build`, `fmt` and
//! `inspect` arrive with bundles and the formatter.
//!
//! The binary's `main` only calls [`run`]. Files are read here, at the
//! edge; the front end (`pol-sema`) sees text.

pub mod bundle;
mod cost;
mod eval;
mod fmt;
pub mod render;
mod runner;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Exit code: everything checked clean (warnings allowed).
pub(crate) const EXIT_OK: u8 = 0;
/// Exit code: the policies have errors.
pub(crate) const EXIT_ERRORS: u8 = 1;
/// Exit code: the command line or the file system is wrong.
pub(crate) const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "polc",
    version,
    about = "The Pol policy compiler",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse, resolve and type-check `.pol` files; print every diagnostic.
    Check(CheckArgs),
    /// Evaluate a policy on an input and print the decision.
    Eval(eval::EvalArgs),
    /// Run the `test` blocks of `.pol` files and report failures and coverage.
    Test(runner::TestArgs),
    /// Rewrite `.pol` files in the canonical layout (`--check`: only list them).
    Fmt(fmt::FmtArgs),
    /// Compile policies into a bundle file, optionally signed.
    Build(bundle::BuildArgs),
    /// Write an ed25519 key pair for signing bundles: NAME.key and NAME.pub.
    Keygen(bundle::KeygenArgs),
    /// Check a bundle: integrity, signature, program (exit 0 valid, 1 refused).
    Verify(bundle::VerifyArgs),
    /// Print a bundle's manifest, entrypoints and input schemas.
    Inspect(bundle::InspectArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Files or directories (searched recursively for `.pol` files).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Colors in human output: auto (when stdout is a terminal), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Also print each entrypoint's static cost bound: the most steps one
    /// evaluation takes, as a polynomial in the input's sizes.
    #[arg(long)]
    cost: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Source snippets with labels, for people.
    Human,
    /// A JSON array of diagnostics, for CI annotations and editors.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// Runs `polc` with these arguments (the first is the program name).
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Check(args) => check(&args),
        Command::Eval(args) => eval::eval(&args),
        Command::Test(args) => runner::test(&args),
        Command::Fmt(args) => fmt::fmt(&args),
        Command::Build(args) => bundle::build(&args),
        Command::Keygen(args) => bundle::keygen(&args),
        Command::Verify(args) => bundle::verify(&args),
        Command::Inspect(args) => bundle::inspect(&args),
    }
}

/// Whether to color human output.
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::IsTerminal::is_terminal(&std::io::stdout())
                && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

fn check(args: &CheckArgs) -> ExitCode {
    let files = match collect_sources(&args.paths) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let paths: Vec<String> = files.iter().map(|(path, _)| path.clone()).collect();
    let mut workspace = pol_sema::Workspace::new();
    workspace.set_files(files);
    let color = use_color(args.color);
    let report = render::Report::new(&workspace);
    let errors = report.error_count() > 0;
    // The bounds need a program, so only a clean check has them.
    let costs = match (args.cost, errors) {
        (true, false) => match pol_sema::lower::lower(&workspace.checked())
            .map_err(|e| e.to_string())
            .and_then(|program| cost::bounds(&program, &paths))
        {
            Ok(costs) => Some(costs),
            Err(message) => {
                print!("{}", report.human(color));
                eprintln!("error: {message}");
                return ExitCode::from(EXIT_ERRORS);
            }
        },
        _ => None,
    };
    let output = match (args.format, &costs) {
        (Format::Human, None) => report.human(color),
        (Format::Human, Some(costs)) => format!("{}\n{}", report.human(color), cost::human(costs)),
        (Format::Json, None) => report.json(),
        (Format::Json, Some(costs)) => {
            // With `--cost`, one object: the diagnostics and the bounds.
            let diagnostics: serde_json::Value =
                serde_json::from_str(&report.json()).unwrap_or(serde_json::Value::Null);
            let value = serde_json::json!({ "diagnostics": diagnostics, "cost": costs });
            let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
            text.push('\n');
            text
        }
    };
    print!("{output}");
    ExitCode::from(if errors { EXIT_ERRORS } else { EXIT_OK })
}

/// Reads every `.pol` file under the given paths, in a stable order.
/// Paths are shown as given (a directory's files relative to it, joined).
pub(crate) fn collect_sources(paths: &[PathBuf]) -> Result<Vec<(String, String)>, String> {
    let mut found = Vec::new();
    for path in paths {
        let metadata = std::fs::metadata(path)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        if metadata.is_dir() {
            walk(path, &mut found).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        } else {
            found.push(path.clone());
        }
    }
    found.sort();
    found.dedup();
    if found.is_empty() {
        return Err(format!(
            "no `.pol` files in {}",
            paths
                .iter()
                .map(|p| format!("`{}`", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let mut files = Vec::with_capacity(found.len());
    for path in found {
        let bytes =
            std::fs::read(&path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| format!("`{}` is not valid UTF-8", path.display()))?;
        files.push((path.display().to_string(), text));
    }
    Ok(files)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let path = entry.path();
        let name = entry.file_name();
        let hidden = name.to_string_lossy().starts_with('.');
        if entry.file_type()?.is_dir() {
            if !hidden && name != "target" && name != "node_modules" {
                walk(&path, out)?;
            }
        } else if path.extension().is_some_and(|e| e == "pol") {
            out.push(path);
        }
    }
    Ok(())
}
