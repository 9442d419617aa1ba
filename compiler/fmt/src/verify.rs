//! The checks that make formatting safe: the output has the source's
//! tokens and comments, parses, and gives the same syntax tree.

use pol_syntax::lexer::{Token, TokenKind};
use pol_syntax::{ParsedFile, parse_file, split_items};

/// Checks `output` against the source it was formatted from.
pub(crate) fn check(
    source: &str,
    tokens: &[Token],
    parsed: &ParsedFile,
    output: &str,
) -> Result<(), String> {
    let out_tokens = split_items(output).tokens;
    let before = significant(source, tokens);
    let after = significant(output, &out_tokens);
    if before != after {
        let at = before
            .iter()
            .zip(&after)
            .position(|(a, b)| a != b)
            .unwrap_or(before.len().min(after.len()));
        return Err(format!(
            "the output's tokens differ from the source's at token {at}: {:?} became {:?}",
            before.get(at).map(|t| t.1),
            after.get(at).map(|t| t.1)
        ));
    }
    let reparsed = parse_file(output);
    if let Some(diagnostic) = reparsed.diagnostics.iter().find(|d| d.is_error()) {
        return Err(format!(
            "the output does not parse: {} ({})",
            diagnostic.message, diagnostic.code
        ));
    }
    if !same_items(parsed, &reparsed) {
        return Err("the output parses to a different syntax tree".to_string());
    }
    Ok(())
}

/// The tokens that carry meaning, and the comments, with their text.
/// Commas are left out (the layout adds and removes trailing commas and
/// the optional commas between schema fields); comments are compared
/// without trailing whitespace, which the layout drops.
fn significant<'t>(text: &'t str, tokens: &[Token]) -> Vec<(TokenKind, &'t str)> {
    tokens
        .iter()
        .filter(|t| t.kind != TokenKind::Comma)
        .map(|t| {
            let slice = &text[t.span.range()];
            let slice = if t.kind.is_comment() {
                slice.trim_end()
            } else {
                slice
            };
            (t.kind, slice)
        })
        .collect()
}

/// Whether two sources give the same syntax tree, spans aside: the same
/// items, each with the same names, types, expressions, parentheses and
/// doc comments. Both must parse without errors.
///
/// This is the formatter's promise: `same_syntax_tree(source,
/// &format(source)?)` always holds.
pub fn same_syntax_tree(before: &str, after: &str) -> bool {
    let (a, b) = (parse_file(before), parse_file(after));
    let clean = |p: &ParsedFile| !p.diagnostics.iter().any(|d| d.is_error());
    clean(&a) && clean(&b) && same_items(&a, &b)
}

fn same_items(a: &ParsedFile, b: &ParsedFile) -> bool {
    a.items.len() == b.items.len()
        && a.broken_names == b.broken_names
        && a.items.iter().zip(&b.items).all(|((_, x), (_, y))| {
            without_spans(&format!("{x:?}")) == without_spans(&format!("{y:?}"))
        })
}

/// The `Debug` rendering of a tree with every `Span { start: N, end: M }`
/// replaced by `Span`: spans move when the layout changes, nothing else may.
fn without_spans(debug: &str) -> String {
    const OPEN: &str = "Span { start: ";
    let mut out = String::with_capacity(debug.len());
    let mut rest = debug;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let tail = &rest[at + OPEN.len()..];
        match span_numbers_len(tail) {
            Some(len) => {
                out.push_str("Span");
                rest = &tail[len..];
            }
            None => {
                out.push_str(OPEN);
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The length of `N, end: M }` at the start of `text`, if it is there.
fn span_numbers_len(text: &str) -> Option<usize> {
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let first = digits(text);
    let rest = text.get(first..)?.strip_prefix(", end: ")?;
    let second = digits(rest);
    let after = rest.get(second..)?.strip_prefix(" }")?;
    (first > 0 && second > 0).then(|| text.len() - after.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_are_erased_and_nothing_else() {
        assert_eq!(
            without_spans("Ident { name: \"a\", span: Span { start: 3, end: 14 } }"),
            "Ident { name: \"a\", span: Span }"
        );
        assert_eq!(without_spans("Span { start: x }"), "Span { start: x }");
    }

    #[test]
    fn layout_is_not_meaning_but_parentheses_are() {
        assert!(same_syntax_tree(
            "package a\nlet x = 1 + 2\n",
            "package a\n\nlet x =\n  1\n  + 2\n"
        ));
        assert!(!same_syntax_tree(
            "package a\nlet x = 1 + 2\n",
            "package a\nlet x = (1 + 2)\n"
        ));
        assert!(!same_syntax_tree("package a\n", "package a\nlet"));
    }
}
