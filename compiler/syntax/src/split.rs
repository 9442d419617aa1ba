//! Splitting a file into top-level items at keywords in column 0.

use crate::lexer::{Token, TokenKind, lex};
use crate::{Diagnostic, Span};

/// One top-level item's slice of the file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemSlice {
    /// From the item's first doc comment (or keyword) to the next item.
    pub span: Span,
    /// The keyword that starts the item.
    pub keyword: TokenKind,
}

/// A file split into items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitFile {
    /// The items in file order.
    pub items: Vec<ItemSlice>,
    /// Problems outside any item (text before the first item).
    pub diagnostics: Vec<Diagnostic>,
    /// Every token of the file, comments included.
    pub tokens: Vec<Token>,
}

/// Splits `text` into top-level items. An item starts at an item keyword
/// (`package`, `import`, `schema`, `enum`, `let`, `param`, `policy`, `test`)
/// in column 0, together with the doc comments directly above it, and runs
/// to the start of the next item.
pub fn split_items(text: &str) -> SplitFile {
    let tokens = lex(text);
    let bytes = text.as_bytes();
    // `\n`, `\r\n` and a lone `\r` all end a line.
    let at_column_zero = |t: &Token| {
        t.span.start == 0 || matches!(bytes.get(t.span.start as usize - 1), Some(b'\n' | b'\r'))
    };

    let mut starts: Vec<(usize, TokenKind)> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.kind.starts_item() && at_column_zero(token) {
            // Take in the doc comments directly above, each in column 0.
            let mut first = i;
            while first > 0
                && tokens[first - 1].kind == TokenKind::DocComment
                && at_column_zero(&tokens[first - 1])
            {
                first -= 1;
            }
            starts.push((first, token.kind));
        }
    }

    let mut diagnostics = Vec::new();
    let first_item_token = starts.first().map_or(tokens.len(), |(i, _)| *i);
    let stray: Vec<&Token> = tokens[..first_item_token]
        .iter()
        .filter(|t| !t.kind.is_comment())
        .collect();
    if let (Some(first), Some(last)) = (stray.first(), stray.last()) {
        diagnostics.push(
            Diagnostic::error("pol::parse::expected_item", "expected an item")
                .with_label(first.span.cover(last.span), "this is not part of any item")
                .with_help(
                    "a file holds items that start in column 0: `package`, `import`, `schema`, \
                     `enum`, `let`, `param`, `policy` or `test`",
                ),
        );
    }

    let mut items = Vec::with_capacity(starts.len());
    for (n, (first, keyword)) in starts.iter().enumerate() {
        let start = tokens[*first].span.start as usize;
        let end = starts
            .get(n + 1)
            .map_or(text.len(), |(next, _)| tokens[*next].span.start as usize);
        items.push(ItemSlice {
            span: Span::new(start, end),
            keyword: *keyword,
        });
    }
    SplitFile {
        items,
        diagnostics,
        tokens,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_start_at_column_zero_keywords_with_their_docs() {
        let text = "package a\n\n/// A role.\nenum Role { a }\npolicy p(x: int) -> Decision {\n  let y = 1\n}\n";
        let split = split_items(text);
        let slices: Vec<&str> = split.items.iter().map(|s| &text[s.span.range()]).collect();
        assert_eq!(
            slices,
            vec![
                "package a\n\n",
                "/// A role.\nenum Role { a }\n",
                "policy p(x: int) -> Decision {\n  let y = 1\n}\n",
            ]
        );
        assert!(split.diagnostics.is_empty());
    }

    #[test]
    fn text_before_the_first_item_is_reported_once() {
        let split = split_items("// header\nfoo bar\npackage a\n");
        assert_eq!(split.diagnostics.len(), 1);
        assert_eq!(split.diagnostics[0].primary_span(), Some(Span::new(10, 17)));
    }
}
