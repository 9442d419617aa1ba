//! Helpers shared by the integration suites: one function per layer, so a
//! change of API touches one place.
//!
//! A corpus file may hold several virtual files, each starting with a line
//! `//--- name.pol`; without such lines the whole file is one file named
//! after it. Expected diagnostics are written inline, at the end of the line
//! where the diagnostic's primary span starts:
//!
//! ```text
//! allow "x" when call.principal.rol == admin  //~ error: pol::type::unknown_field
//! ```
//!
//! `//~^` points at the line above instead (for diagnostics on lines that
//! cannot hold a comment).

use std::collections::BTreeMap;

/// The virtual files of a corpus text, as (name, text).
pub fn split_virtual_files(default_name: &str, text: &str) -> Vec<(String, String)> {
    if !text.lines().any(|l| l.starts_with("//--- ")) {
        return vec![(default_name.to_string(), text.to_string())];
    }
    let mut files: Vec<(String, String)> = Vec::new();
    for line in text.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("//--- ") {
            files.push((name.trim().to_string(), String::new()));
        } else if let Some((_, body)) = files.last_mut() {
            body.push_str(line);
        }
    }
    files
}

/// Checks the files in a fresh workspace (embedded standard library
/// included).
pub fn check(files: &[(String, String)]) -> pol_sema::Workspace {
    let mut workspace = pol_sema::Workspace::new();
    workspace.set_files(files.iter().cloned());
    workspace
}

/// Renders every diagnostic of the workspace as `polc check` does, without
/// colors.
pub fn render(workspace: &pol_sema::Workspace) -> String {
    polc::render::Report::new(workspace).human(false)
}

/// An expected or actual diagnostic: file, 1-based line, severity, code.
pub type Expectation = (String, usize, String, String);

/// The inline expectations of the virtual files.
pub fn expectations(files: &[(String, String)]) -> Vec<Expectation> {
    let mut out = Vec::new();
    for (name, text) in files {
        for (index, line) in text.lines().enumerate() {
            let Some(at) = line.find("//~") else { continue };
            let rest = &line[at + 3..];
            let (rest, line_no) = match rest.strip_prefix('^') {
                Some(rest) => (rest, index),
                None => (rest, index + 1),
            };
            for expectation in rest.split("//~").map(str::trim) {
                let expectation = expectation.trim_start_matches('^').trim();
                if let Some((severity, code)) = expectation.split_once(':') {
                    out.push((
                        name.clone(),
                        line_no,
                        severity.trim().to_string(),
                        code.trim().to_string(),
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

/// The diagnostics the workspace actually reports, in the same form.
pub fn actual(workspace: &pol_sema::Workspace) -> Vec<Expectation> {
    let mut out = Vec::new();
    let texts: BTreeMap<String, String> = workspace
        .diagnostics()
        .iter()
        .filter_map(|(path, _)| Some((path.clone(), workspace.text_of(path)?)))
        .collect();
    for (path, diagnostics) in workspace.diagnostics() {
        let text = texts.get(&path).map_or("", String::as_str);
        for diagnostic in diagnostics {
            let start = diagnostic
                .primary_span()
                .map_or(0, |s| s.start as usize)
                .min(text.len());
            let line = text[..start].matches('\n').count() + 1;
            let severity = if diagnostic.is_error() {
                "error"
            } else {
                "warning"
            };
            out.push((
                path.clone(),
                line,
                severity.to_string(),
                diagnostic.code.to_string(),
            ));
        }
    }
    out.sort();
    out
}
