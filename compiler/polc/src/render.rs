//! Rendering diagnostics: with miette for people, as JSON for machines.

use std::collections::BTreeMap;
use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceCode};
use pol_syntax::{Diagnostic, Severity};
use serde::Serialize;

/// Every diagnostic of a checked workspace, ready to print.
#[derive(Debug)]
pub struct Report {
    files: Vec<ReportFile>,
    /// The text of every file a label points into, by path, including
    /// files that have no diagnostics of their own (a duplicate's first
    /// definition, for example).
    sources: BTreeMap<String, String>,
}

#[derive(Debug)]
struct ReportFile {
    path: String,
    text: String,
    diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Collects the diagnostics of every file that has any.
    pub fn new(workspace: &pol_sema::Workspace) -> Report {
        let files: Vec<ReportFile> = workspace
            .diagnostics()
            .into_iter()
            .filter(|(_, diagnostics)| !diagnostics.is_empty())
            .map(|(path, diagnostics)| {
                let text = workspace.text_of(&path).unwrap_or_default();
                ReportFile {
                    path,
                    text,
                    diagnostics,
                }
            })
            .collect();
        let mut sources = BTreeMap::new();
        for file in &files {
            sources.insert(file.path.clone(), file.text.clone());
        }
        let others: Vec<String> = files
            .iter()
            .flat_map(|f| &f.diagnostics)
            .flat_map(|d| &d.labels)
            .filter_map(|l| l.file.clone())
            .collect();
        for path in others {
            if let std::collections::btree_map::Entry::Vacant(entry) = sources.entry(path) {
                let text = workspace.text_of(entry.key()).unwrap_or_default();
                entry.insert(text);
            }
        }
        Report { files, sources }
    }

    /// A report over one file's text and diagnostics (for tests and tools).
    pub fn single(path: &str, text: &str, diagnostics: Vec<Diagnostic>) -> Report {
        Report {
            files: vec![ReportFile {
                path: path.to_string(),
                text: text.to_string(),
                diagnostics,
            }],
            sources: BTreeMap::from([(path.to_string(), text.to_string())]),
        }
    }

    /// The text of the file with this path, if the report knows it.
    fn source(&self, path: &str) -> &str {
        self.sources.get(path).map_or("", String::as_str)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.files
            .iter()
            .flat_map(|f| &f.diagnostics)
            .filter(|d| d.is_error())
            .count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.files
            .iter()
            .flat_map(|f| &f.diagnostics)
            .filter(|d| !d.is_error())
            .count()
    }

    /// The human rendering: each diagnostic with its source snippet, then a
    /// summary line.
    pub fn human(&self, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
        let mut out = String::new();
        for file in &self.files {
            for diagnostic in &file.diagnostics {
                let help = help_with_notes(diagnostic, self);
                let shown = Shown {
                    diagnostic,
                    path: &file.path,
                    text: &file.text,
                    help,
                };
                if handler.render_report(&mut out, &shown).is_err() {
                    out.push_str(&format!("{}: {}\n", diagnostic.code, diagnostic.message));
                }
                out.push('\n');
            }
        }
        let (errors, warnings) = (self.error_count(), self.warning_count());
        if errors + warnings == 0 {
            out.push_str("no problems found\n");
        } else {
            out.push_str(&format!(
                "{} error{}, {} warning{}\n",
                errors,
                if errors == 1 { "" } else { "s" },
                warnings,
                if warnings == 1 { "" } else { "s" }
            ));
        }
        out
    }

    /// The JSON rendering: an array of diagnostic objects.
    pub fn json(&self) -> String {
        let mut all = Vec::new();
        for file in &self.files {
            for diagnostic in &file.diagnostics {
                all.push(JsonDiagnostic::new(diagnostic, file, self));
            }
        }
        let mut text = serde_json::to_string_pretty(&all).unwrap_or_else(|_| "[]".to_string());
        text.push('\n');
        text
    }
}

/// A position in a file: byte offset, 1-based line and column (in chars).
#[derive(Debug, Serialize)]
struct Position {
    offset: u32,
    line: usize,
    column: usize,
}

fn position(text: &str, offset: u32) -> Position {
    let offset_usize = (offset as usize).min(text.len());
    let before = text.get(..offset_usize).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    Position {
        offset,
        line,
        column,
    }
}

#[derive(Debug, Serialize)]
struct JsonLabel {
    file: String,
    message: String,
    start: Position,
    end: Position,
}

#[derive(Debug, Serialize)]
struct JsonDiagnostic {
    file: String,
    code: &'static str,
    severity: Severity,
    message: String,
    help: Option<String>,
    start: Position,
    end: Position,
    labels: Vec<JsonLabel>,
}

impl JsonDiagnostic {
    fn new(diagnostic: &Diagnostic, file: &ReportFile, report: &Report) -> JsonDiagnostic {
        let span = diagnostic.primary_span().unwrap_or_default();
        let labels = diagnostic
            .labels
            .iter()
            .map(|label| {
                let (path, text) = match &label.file {
                    Some(other) => (other.clone(), report.source(other)),
                    None => (file.path.clone(), file.text.as_str()),
                };
                JsonLabel {
                    file: path,
                    message: label.message.clone(),
                    start: position(text, label.span.start),
                    end: position(text, label.span.end),
                }
            })
            .collect();
        JsonDiagnostic {
            file: file.path.clone(),
            code: diagnostic.code,
            severity: diagnostic.severity,
            message: diagnostic.message.clone(),
            help: diagnostic.help.clone(),
            start: position(&file.text, span.start),
            end: position(&file.text, span.end),
            labels,
        }
    }
}

/// A diagnostic shown through miette, with its labels in its own file and
/// its labels in other files as related notes.
struct Shown<'a> {
    diagnostic: &'a Diagnostic,
    path: &'a str,
    text: &'a str,
    help: Option<String>,
}

impl fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shown")
            .field("code", &self.diagnostic.code)
            .finish()
    }
}

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.diagnostic.message)
    }
}

impl std::error::Error for Shown<'_> {}

impl miette::Diagnostic for Shown<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diagnostic.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let len = self.text.len();
        let labels = self
            .diagnostic
            .labels
            .iter()
            .enumerate()
            .filter(|(_, l)| l.file.is_none())
            .map(move |(i, label)| {
                let start = (label.span.start as usize).min(len);
                let end = (label.span.end as usize).clamp(start, len);
                let message = (!label.message.is_empty()).then(|| label.message.clone());
                if i == 0 {
                    LabeledSpan::new_primary_with_span(message, start..end)
                } else {
                    LabeledSpan::new_with_span(message, start..end)
                }
            });
        Some(Box::new(labels))
    }
}

impl SourceCode for Shown<'_> {
    fn read_span<'b>(
        &'b self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'b> + 'b>, miette::MietteError> {
        let contents = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.path.to_string(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

/// The help text, followed by the labels that point into other files
/// (miette shows one source per diagnostic).
fn help_with_notes(diagnostic: &Diagnostic, report: &Report) -> Option<String> {
    let notes: Vec<String> = diagnostic
        .labels
        .iter()
        .filter_map(|label| {
            let other = label.file.as_ref()?;
            let at = position(report.source(other), label.span.start);
            Some(format!(
                "note: {other}:{}:{}: {}",
                at.line, at.column, label.message
            ))
        })
        .collect();
    match (&diagnostic.help, notes.is_empty()) {
        (help, true) => help.clone(),
        (None, false) => Some(notes.join("\n")),
        (Some(help), false) => Some(format!("{help}\n{}", notes.join("\n"))),
    }
}

#[cfg(test)]
mod tests {
    use super::Report;

    /// A label into a file without diagnostics of its own still gets that
    /// file's line and column.
    #[test]
    fn notes_into_clean_files_have_positions() {
        let mut workspace = pol_sema::Workspace::new();
        workspace.set_files([
            (
                "a.pol".to_string(),
                "package app\n\n/// First.\nlet limit = 1\n".to_string(),
            ),
            (
                "b.pol".to_string(),
                "package app\nlet limit = 2\n".to_string(),
            ),
        ]);
        let report = Report::new(&workspace);
        let human = report.human(false);
        assert!(
            human.contains("note: a.pol:4:5: first defined here"),
            "{human}"
        );
        let json: serde_json::Value = serde_json::from_str(&report.json()).expect("valid JSON");
        let note = &json[0]["labels"][1];
        assert_eq!(note["file"], "a.pol");
        assert_eq!(note["start"]["line"], 4);
        assert_eq!(note["start"]["column"], 5);
    }
}
