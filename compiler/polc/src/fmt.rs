//! `polc fmt`: rewrites `.pol` files in the canonical layout (`pol-fmt`),
//! or with `--check` lists the files that are not in it.
//!
//! Exit codes: 0 when every file is formatted (or was rewritten); 1 when
//! `--check` finds a file that is not formatted, or a file has syntax
//! errors (its diagnostics are printed and it is never rewritten); 2 for a
//! usage or file-system error.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use pol_fmt::{FormatConfig, FormatError};

use crate::{ColorChoice, EXIT_OK, EXIT_USAGE, collect_sources, render, use_color};

/// Exit code: a file is not formatted (`--check`), or does not parse.
const EXIT_UNFORMATTED: u8 = 1;

/// The name shown for standard input.
const STDIN: &str = "<stdin>";

#[derive(Debug, clap::Args)]
pub(crate) struct FmtArgs {
    /// Files or directories (searched recursively for `.pol` files); `-`
    /// reads standard input and writes the result to standard output.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Change nothing: list the files that are not formatted and exit 1
    /// if there are any.
    #[arg(long)]
    check: bool,
    /// Colors in diagnostics: auto (when stdout is a terminal), always, never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// What became of one file.
enum Outcome {
    /// Already in the canonical layout.
    Formatted,
    /// Not in the canonical layout; the formatted text, and the first line
    /// that changes.
    Changed { text: String, line: usize },
    /// Not formatted: syntax errors, or an internal error (printed).
    Refused,
}

pub(crate) fn fmt(args: &FmtArgs) -> ExitCode {
    let color = use_color(args.color);
    if args.paths.iter().any(|p| p.as_os_str() == "-") {
        if args.paths.len() > 1 {
            eprintln!("error: `-` (standard input) cannot be combined with other paths");
            return ExitCode::from(EXIT_USAGE);
        }
        return fmt_stdin(args.check, color);
    }
    let files = match collect_sources(&args.paths) {
        Ok(files) => files,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let mut unformatted = Vec::new();
    let mut refused = 0usize;
    let mut stdout = String::new();
    for (path, text) in &files {
        match format_one(path, text, color, &mut stdout) {
            Outcome::Formatted => {}
            Outcome::Refused => refused += 1,
            Outcome::Changed {
                text: formatted,
                line,
            } => {
                if args.check {
                    stdout.push_str(&format!("{path}\n"));
                    unformatted.push((path.as_str(), line));
                } else if let Err(error) = std::fs::write(path, formatted) {
                    print!("{stdout}");
                    eprintln!("error: cannot write `{path}`: {error}");
                    return ExitCode::from(EXIT_USAGE);
                } else {
                    stdout.push_str(&format!("formatted {path}\n"));
                }
            }
        }
    }
    print!("{stdout}");
    if !unformatted.is_empty() {
        let changes: Vec<String> = unformatted
            .iter()
            .map(|(path, line)| format!("{path}:{line}"))
            .collect();
        eprintln!(
            "{} of {} file{} need{} formatting (first change at {}); run `polc fmt` without `--check` to rewrite {}",
            unformatted.len(),
            files.len(),
            if files.len() == 1 { "" } else { "s" },
            if unformatted.len() == 1 { "s" } else { "" },
            changes.join(", "),
            if unformatted.len() == 1 { "it" } else { "them" },
        );
    }
    if refused > 0 {
        eprintln!(
            "{refused} file{} left unformatted because of errors",
            if refused == 1 { "" } else { "s" }
        );
    }
    ExitCode::from(if unformatted.is_empty() && refused == 0 {
        EXIT_OK
    } else {
        EXIT_UNFORMATTED
    })
}

/// Formats one file's text; diagnostics of a file that does not parse are
/// appended to `report`.
fn format_one(path: &str, text: &str, color: bool, report: &mut String) -> Outcome {
    match pol_fmt::format(text, &FormatConfig::default()) {
        Ok(formatted) if formatted == text => Outcome::Formatted,
        Ok(formatted) => {
            let line = first_changed_line(text, &formatted);
            Outcome::Changed {
                text: formatted,
                line,
            }
        }
        Err(FormatError::Syntax { diagnostics }) => {
            report.push_str(&render::Report::single(path, text, diagnostics).human(color));
            Outcome::Refused
        }
        Err(error @ FormatError::Internal { .. }) => {
            eprintln!("error: `{path}`: {error}; the file is left unchanged");
            Outcome::Refused
        }
    }
}

/// `polc fmt -`: standard input to standard output. With `--check`,
/// nothing but the verdict is printed.
fn fmt_stdin(check: bool, color: bool) -> ExitCode {
    let mut text = String::new();
    if let Err(error) = std::io::stdin().read_to_string(&mut text) {
        eprintln!("error: cannot read standard input: {error}");
        return ExitCode::from(EXIT_USAGE);
    }
    let mut report = String::new();
    match format_one(STDIN, &text, color, &mut report) {
        Outcome::Formatted if check => ExitCode::from(EXIT_OK),
        Outcome::Changed { line, .. } if check => {
            println!("{STDIN}");
            eprintln!("{STDIN} is not formatted (first change at line {line})");
            ExitCode::from(EXIT_UNFORMATTED)
        }
        Outcome::Formatted => write_stdout(&text),
        Outcome::Changed { text, .. } => write_stdout(&text),
        Outcome::Refused => {
            // Standard output is for the formatted text; the diagnostics
            // go to standard error.
            eprint!("{report}");
            ExitCode::from(EXIT_UNFORMATTED)
        }
    }
}

fn write_stdout(text: &str) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(error) => {
            eprintln!("error: cannot write standard output: {error}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The 1-based number of the first line that formatting changes.
fn first_changed_line(before: &str, after: &str) -> usize {
    let mut a = before.split_inclusive('\n');
    let mut b = after.split_inclusive('\n');
    let mut line = 1;
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            _ => return line,
        }
    }
}
