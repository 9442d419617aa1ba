//! Snapshot tests: each file in `tests/fixtures` is formatted, and the
//! snapshot shows the input and the output (or the diagnostics of a file
//! the formatter refuses). Every fixture is also checked to format to
//! itself, to keep its tokens, and to parse to the same tree.

use pol_fmt::{FormatConfig, FormatError, format, same_syntax_tree};
use pol_syntax::lexer::{TokenKind, lex};

/// The tokens of a text with layout and the layout's commas left out:
/// what formatting must never change.
fn tokens_without_layout(text: &str) -> Vec<(TokenKind, String)> {
    lex(text)
        .into_iter()
        .filter(|t| t.kind != TokenKind::Comma)
        .map(|t| {
            let slice = &text[t.span.range()];
            let slice = if t.kind.is_comment() {
                slice.trim_end()
            } else {
                slice
            };
            (t.kind, slice.to_string())
        })
        .collect()
}

#[test]
fn fixtures() {
    insta::glob!("fixtures/*.pol", |path| {
        let input = std::fs::read_to_string(path).expect("read fixture");
        let config = FormatConfig::default();
        let shown = match format(&input, &config) {
            Ok(output) => {
                assert_eq!(
                    format(&output, &config).as_deref(),
                    Ok(output.as_str()),
                    "formatting is idempotent"
                );
                assert_eq!(
                    tokens_without_layout(&input),
                    tokens_without_layout(&output),
                    "formatting keeps every token and comment"
                );
                assert!(same_syntax_tree(&input, &output), "same syntax tree");
                output
            }
            Err(FormatError::Syntax { diagnostics }) => {
                let mut text = String::from("refused, with the parser's diagnostics:\n");
                for d in diagnostics {
                    text.push_str(&format!(
                        "{} at {:?}: {}\n",
                        d.code,
                        d.primary_span(),
                        d.message
                    ));
                }
                text
            }
            Err(error) => panic!("{error}"),
        };
        let snapshot = format!(
            "---------------------------------------- input\n{}\n---------------------------------------- output\n{}",
            input.replace('\r', "␍"),
            shown
        );
        insta::with_settings!({ omit_expression => true }, {
            insta::assert_snapshot!(snapshot);
        });
    });
}

/// Range formatting: formatting the items of a fixture one at a time
/// changes only that item, and formatting the rest afterwards gives the
/// whole file's layout.
#[test]
fn each_item_formats_alone() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let path = entry.expect("entry").path();
        let input = std::fs::read_to_string(&path).expect("read fixture");
        let config = FormatConfig::default();
        let Ok(whole) = format(&input, &config) else {
            continue;
        };
        for (index, item) in pol_syntax::split_items(&input).items.iter().enumerate() {
            let middle = (item.span.start + item.span.end) / 2;
            let range = pol_syntax::Span {
                start: middle,
                end: middle,
            };
            let edit = pol_fmt::format_range_edit(&input, range, &config).expect("formats");
            let Some(edit) = edit else {
                continue;
            };
            // Text before the first item belongs to it.
            let first = if index == 0 { 0 } else { item.span.start };
            assert!(
                edit.span.start >= first && edit.span.end <= item.span.end,
                "{}: the edit {:?} leaves the item {:?}",
                path.display(),
                edit.span,
                item.span
            );
            let mut text = input.clone();
            text.replace_range(edit.span.range(), &edit.text);
            assert_eq!(
                format(&text, &config).as_deref(),
                Ok(whole.as_str()),
                "{}: formatting the rest after the item at {:?}",
                path.display(),
                item.span
            );
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} items changed");
}
