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
    Ok(minimal_edit(source, &formatted, 0))
}

/// Formats the top-level items of a document that overlap `range` (byte
/// offsets; an empty range selects the item it is in) and returns the
/// change as one minimal edit, or `None` when those items are already
/// formatted. The text between items (blank lines, comments) belongs to
/// the item above it; text before the first item, to the first.
///
/// The whole document is formatted and must parse, so a range inside a
/// broken file is refused like [`format_edit`] refuses the file; the
/// formatted items then replace the same items of the source.
///
/// # Errors
///
/// As [`format()`].
pub fn format_range_edit(
    source: &str,
    range: Span,
    config: &FormatConfig,
) -> Result<Option<FormatEdit>, FormatError> {
    let formatted = format(source, config)?;
    let before = item_bounds(source);
    let after = item_bounds(&formatted);
    if before.len() != after.len() {
        // The formatter keeps every item, so this does not happen; were
        // it to, the whole document's edit is still a correct answer.
        return Ok(minimal_edit(source, &formatted, 0));
    }
    // Chunk `k` runs from bound `k` to bound `k + 1`.
    let last_chunk = before.len().saturating_sub(2);
    let from = (range.start as usize).min(source.len().saturating_sub(1));
    let to = (range.end as usize).max(from + 1);
    let overlapping = |k: usize| before[k] < to && before[k + 1] > from;
    let Some(first) = (0..=last_chunk).find(|k| overlapping(*k)) else {
        return Ok(None);
    };
    let last = (first..=last_chunk)
        .rev()
        .find(|k| overlapping(*k))
        .unwrap_or(first);
    let old = &source[before[first]..before[last + 1]];
    let new = &formatted[after[first]..after[last + 1]];
    Ok(minimal_edit(old, new, before[first]))
}

/// Where the top-level items of `text` start (the first item from 0), and
/// its length: `n + 1` bounds for `n` items, `[0, len]` for none.
fn item_bounds(text: &str) -> Vec<usize> {
    let items = pol_syntax::split_items(text).items;
    let mut bounds: Vec<usize> = std::iter::once(0)
        .chain(items.iter().skip(1).map(|i| i.span.start as usize))
        .collect();
    bounds.push(text.len());
    bounds
}

/// The one edit that turns `old` into `new`, leaving out their common
/// prefix and suffix; `None` when they are equal. Its span is shifted by
/// `base`, where `old` starts in the document.
fn minimal_edit(old: &str, new: &str, base: usize) -> Option<FormatEdit> {
    if old == new {
        return None;
    }
    let mut prefix = old
        .bytes()
        .zip(new.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = old.len().min(new.len()) - prefix;
    let mut suffix = old
        .bytes()
        .rev()
        .zip(new.bytes().rev())
        .take(max_suffix)
        .take_while(|(a, b)| a == b)
        .count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    Some(FormatEdit {
        span: Span::new(base + prefix, base + old.len() - suffix),
        text: new[prefix..new.len() - suffix].to_string(),
    })
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
    fn a_range_formats_the_items_it_overlaps() {
        let source = "package a\n\nlet x   =   1\n\nlet y =   2\n\nlet z   = 3\n";
        let config = FormatConfig::default();
        let at = |needle: &str| source.find(needle).expect("needle");
        let apply = |edit: Option<FormatEdit>| match edit {
            Some(edit) => {
                let mut text = source.to_string();
                text.replace_range(edit.span.range(), &edit.text);
                text
            }
            None => source.to_string(),
        };
        // Inside `y`'s line: only `y`.
        let y = at("y =");
        let edit = format_range_edit(source, Span::new(y, y), &config).expect("formats");
        assert_eq!(
            apply(edit),
            "package a\n\nlet x   =   1\n\nlet y = 2\n\nlet z   = 3\n"
        );
        // From `x` into `y`: both, not `z`.
        let edit = format_range_edit(source, Span::new(at("x"), y + 2), &config).expect("formats");
        assert_eq!(
            apply(edit),
            "package a\n\nlet x = 1\n\nlet y = 2\n\nlet z   = 3\n"
        );
        // The end of the file is in the last item; a tidy item needs nothing.
        let end = source.len();
        let edit = format_range_edit(source, Span::new(end, end), &config).expect("formats");
        assert_eq!(
            apply(edit),
            "package a\n\nlet x   =   1\n\nlet y =   2\n\nlet z = 3\n"
        );
        assert_eq!(
            format_range_edit(source, Span::new(0, 3), &config),
            Ok(None)
        );
        // The whole range is the whole edit; a broken file is refused.
        assert_eq!(
            format_range_edit(source, Span::new(0, end), &config),
            format_edit(source, &config)
        );
        assert!(format_range_edit("package a\nlet x = (\n", Span::new(0, 1), &config).is_err());
        assert_eq!(format_range_edit("", Span::new(0, 0), &config), Ok(None));
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
