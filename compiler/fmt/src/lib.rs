//! The formatter of Pol: one canonical layout for Pol source.
//!
//! [`format()`] takes the text of a file and returns it in the canonical
//! layout described in `docs/style.md`: two-space indentation, single spaces
//! around operators, `{ a, b }` but `[a, b]`, trailing commas in multi-line
//! collections, one blank line at most between items and statements, every
//! comment and doc comment kept where it was written.
//!
//! The layout keeps the line breaks an author chose at the places where a
//! line may break (between the elements of a collection, before a binary
//! operator, before `when`, ...) and normalizes everything else, the way
//! `gofmt` and `opa fmt` do: there is no line width to fight over, and a
//! file that is already tidy is left as written.
//!
//! **Invariant:** formatting never changes a program. The printer walks the
//! AST but takes every token's text from the source, in order, so no token
//! can be lost, duplicated or rewritten (commas aside, which the layout
//! adds or removes). Before returning, [`format()`] checks this: the output
//! must have the same tokens and comments as the input, parse without
//! errors, and give the same syntax tree up to spans. When any check fails
//! the source is refused with [`FormatError::Internal`] rather than changed.
//!
//! A source with syntax errors is refused with its diagnostics: half-parsed
//! code is never formatted, so no text can be lost.
//!
//! The formatter is a pure function of the text: the command line
//! (`polc fmt`) and the language server call the same [`format()`].
//!
//! ```
//! let messy = "package demo\npolicy p(x:int)->Decision{\nallow \"small\" when x<10\n}\n";
//! let tidy = pol_fmt::format(messy, &pol_fmt::FormatConfig::default()).unwrap();
//! assert_eq!(
//!     tidy,
//!     "package demo\npolicy p(x: int) -> Decision {\n  allow \"small\" when x < 10\n}\n"
//! );
//! ```

mod printer;
mod verify;

use pol_syntax::{Diagnostic, Severity, Span};

pub use verify::same_syntax_tree;

/// Options of the formatter.
///
/// The canonical layout has no options today: every Pol file is formatted
/// the same way. The struct exists so that callers (`polc fmt`, the language
/// server) already pass one, and an option added later does not change the
/// signature of [`format()`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FormatConfig {}

/// Why a source was not formatted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The source does not parse. The diagnostics are the parser's, with
    /// spans in the source; render them like `polc check` does.
    #[error("{}", syntax_summary(.diagnostics))]
    Syntax {
        /// The parse errors.
        diagnostics: Vec<Diagnostic>,
    },
    /// The formatter could not lay the source out without changing it (a
    /// bug in the formatter). The source is left unchanged.
    #[error("internal formatter error: {message}")]
    Internal {
        /// What went wrong.
        message: String,
    },
}

fn syntax_summary(diagnostics: &[Diagnostic]) -> String {
    match diagnostics.len() {
        1 => "the source has a syntax error".to_string(),
        n => format!("the source has {n} syntax errors"),
    }
}

/// Formats a whole Pol file into the canonical layout.
///
/// Returns the new text (equal to `source` when it is already formatted).
/// The output ends with one line break, unless it is empty.
///
/// # Errors
///
/// [`FormatError::Syntax`] when the source has syntax errors (nothing is
/// formatted), [`FormatError::Internal`] when the formatter's own checks
/// find that its output would differ from the source in anything but
/// layout.
pub fn format(source: &str, config: &FormatConfig) -> Result<String, FormatError> {
    let FormatConfig {} = config;
    let parsed = pol_syntax::parse_file(source);
    let errors: Vec<Diagnostic> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .cloned()
        .collect();
    if !errors.is_empty() {
        return Err(FormatError::Syntax {
            diagnostics: errors,
        });
    }
    let tokens = pol_syntax::split_items(source).tokens;
    let output = printer::print_file(source, &tokens, &parsed)
        .map_err(|message| FormatError::Internal { message })?;
    verify::check(source, &tokens, &parsed, &output)
        .map_err(|message| FormatError::Internal { message })?;
    Ok(output)
}

/// Whether `source` is already in the canonical layout.
///
/// # Errors
///
/// As [`format()`].
pub fn is_formatted(source: &str, config: &FormatConfig) -> Result<bool, FormatError> {
    Ok(format(source, config)? == source)
}

/// One replacement that turns a document into its formatted text: the
/// bytes `span` of the original are replaced by `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatEdit {
    /// The replaced bytes of the original document.
    pub span: Span,
    /// What replaces them.
    pub text: String,
}

/// Formats a document and returns the change as one edit, or `None` when
/// the document is already formatted. The edit covers the smallest range
/// that differs (the common prefix and suffix are left out), so an editor
/// that applies it keeps the cursor and folds outside that range.
///
/// # Errors
///
/// As [`format()`].
pub fn format_edit(source: &str, config: &FormatConfig) -> Result<Option<FormatEdit>, FormatError> {
    let formatted = format(source, config)?;
    if formatted == source {
        return Ok(None);
    }
    let mut prefix = source
        .bytes()
        .zip(formatted.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !source.is_char_boundary(prefix) || !formatted.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = source.len().min(formatted.len()) - prefix;
    let mut suffix = source
        .bytes()
        .rev()
        .zip(formatted.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !source.is_char_boundary(source.len() - suffix)
        || !formatted.is_char_boundary(formatted.len() - suffix)
    {
        suffix -= 1;
    }
    Ok(Some(FormatEdit {
        span: Span::new(prefix, source.len() - suffix),
        text: formatted[prefix..formatted.len() - suffix].to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(source: &str) -> String {
        match format(source, &FormatConfig::default()) {
            Ok(text) => text,
            Err(error) => panic!("{error}: {error:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_refused_with_diagnostics() {
        let error = format("package a\npolicy p( -> {\n", &FormatConfig::default())
            .expect_err("broken source");
        match error {
            FormatError::Syntax { diagnostics } => {
                assert_eq!(diagnostics[0].code, "pol::parse::syntax");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn empty_and_comment_only_files() {
        assert_eq!(fmt(""), "");
        assert_eq!(fmt("\n\n  \n"), "");
        assert_eq!(
            fmt("// just a note  \n\n\n// another\n"),
            "// just a note\n\n// another\n"
        );
    }

    #[test]
    fn the_edit_covers_only_what_changed() {
        let source = "package a\n\nlet x   =   1\n\nlet y = 2\n";
        let edit = format_edit(source, &FormatConfig::default())
            .expect("formats")
            .expect("changes");
        assert_eq!(&source[edit.span.range()], "  =  ");
        assert_eq!(edit.text, "=");
        assert_eq!(
            format_edit("package a\n", &FormatConfig::default()),
            Ok(None)
        );
    }

    #[test]
    fn is_formatted_says_whether_anything_changes() {
        assert_eq!(
            is_formatted("package a\n", &FormatConfig::default()),
            Ok(true)
        );
        assert_eq!(
            is_formatted("package  a\n", &FormatConfig::default()),
            Ok(false)
        );
    }

    /// Comments in places no layout rule mentions are kept, and the result
    /// is stable.
    #[test]
    fn comments_anywhere_survive() {
        let sources = [
            "package a\nlet x = - // minus\n  5\n",
            "package a\nlet x: list< // element\n  int> = []\n",
            "package a\nlet x = [1][ // index\n  0]\n",
            "package a\nlet x = ( // open\n  1 + 2 // inside\n)\n",
            "package a\nlet x = 1 not // split\n  in [1]\n",
            "package a\nlet x = foo // callee\n  (1)\n",
            "package a\nlet x = // after equals\n  1\n",
            "package a\npolicy p( // params\n  x: int) -> Decision {}\n",
            "package a\npolicy p(x: int) -> Decision { allow \"a\" // reason\n when true }\n",
            "package a\nlet x = any k, // key\n v in {}: true\n",
            "package a\nlet x = if true // cond\n then 1 else 2\n",
            "package a\nlet x = [\n  1, // one\n\n\n  // two\n  2 // last\n]\n",
            "package a\nlet x = {} // empty\nlet y = { // inside\n}\n",
            "package a\nlet y = 1\n  /// indented, so not the doc of `z`\nlet z = 1\n",
            "package a\n/// doc of `z`, after a note\n// note\nlet z = 1\n",
            "package a\ntest \"t\" {\n  with x = 1, // one\n    y = 2 {\n  }\n}\n",
        ];
        for source in sources {
            let once = fmt(source);
            assert_eq!(fmt(&once), once, "not idempotent for {source:?}");
        }
    }

    #[test]
    fn deep_and_long_expressions_format() {
        let deep = format!("package a\nlet x = {}1{}\n", "(".repeat(60), ")".repeat(60));
        assert_eq!(fmt(&deep), deep);
        let long = format!("package a\nlet x = {}true\n", "true or ".repeat(250));
        assert_eq!(fmt(&long), long);
        let lists = format!("package a\nlet x = {}{}\n", "[".repeat(60), "]".repeat(60));
        assert_eq!(fmt(&lists), lists);
    }
}
