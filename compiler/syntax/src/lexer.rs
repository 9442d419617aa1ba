//! The logos lexer: every token with its byte span.
//!
//! The lexer runs before anything recursive. It is the place that measures
//! nesting depth (so a hostile file of 100,000 parentheses is a diagnostic,
//! not a stack overflow) and that splits a file into top-level items at
//! keywords in column 0. The same tokens feed the formatter and the language
//! server's semantic tokens.

use logos::Logos;

use crate::{Diagnostic, Span};

/// The kinds of token in Pol source.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[logos(skip r"[ \t\r\n\f\u{FEFF}]+")]
pub enum TokenKind {
    /// `/// text`: a doc comment, kept for hover and the formatter.
    #[regex(r"///[^\r\n]*", allow_greedy = true)]
    DocComment,
    /// `// text`: an ordinary comment, kept for the formatter.
    #[regex(r"//[^\r\n]*", allow_greedy = true, priority = 1)]
    LineComment,

    #[token("package")]
    KwPackage,
    #[token("import")]
    KwImport,
    #[token("as")]
    KwAs,
    #[token("schema")]
    KwSchema,
    #[token("enum")]
    KwEnum,
    #[token("let")]
    KwLet,
    #[token("param")]
    KwParam,
    #[token("policy")]
    KwPolicy,
    #[token("test")]
    KwTest,
    #[token("default")]
    KwDefault,
    #[token("allow")]
    KwAllow,
    #[token("deny")]
    KwDeny,
    #[token("require_approval")]
    KwRequireApproval,
    #[token("redact")]
    KwRedact,
    #[token("alert")]
    KwAlert,
    #[token("keep")]
    KwKeep,
    #[token("return")]
    KwReturn,
    #[token("when")]
    KwWhen,
    #[token("and")]
    KwAnd,
    #[token("or")]
    KwOr,
    #[token("not")]
    KwNot,
    #[token("in")]
    KwIn,
    #[token("true")]
    KwTrue,
    #[token("false")]
    KwFalse,
    #[token("none")]
    KwNone,
    #[token("now")]
    KwNow,
    #[token("if")]
    KwIf,
    #[token("then")]
    KwThen,
    #[token("else")]
    KwElse,
    #[token("for")]
    KwFor,
    #[token("with")]
    KwWith,
    #[token("expect")]
    KwExpect,

    /// A name. `any`, `all`, `count`, `filter`, `map`, `limit` and `of` are
    /// contextual: they lex as identifiers.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    /// `5m`, `1h30m`, `250ms`.
    #[regex(r"([0-9]+(ns|us|ms|s|m|h|d))+")]
    Duration,
    /// `3.14`, `1e-3`.
    #[regex(r"[0-9][0-9_]*\.[0-9][0-9_]*([eE][+-]?[0-9]+)?|[0-9][0-9_]*[eE][+-]?[0-9]+")]
    Float,
    /// `42`, `1_000`.
    #[regex(r"[0-9][0-9_]*")]
    Int,
    /// `"text"` with escapes.
    #[regex(r#""([^"\\\n]|\\[^\n])*""#)]
    String,
    /// `r"raw"` or `r#"raw with "quotes""#`.
    #[regex(r#"r"[^"\n]*""#)]
    #[regex(r##"r#"([^"\n]|"+[^"#\n])*"+#"##)]
    RawString,
    /// `t"2026-01-01T00:00:00Z"`.
    #[regex(r#"t"[^"\n]*""#)]
    Timestamp,

    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("?.")]
    QuestionDot,
    #[token("?[")]
    QuestionBracket,
    #[token("??")]
    QuestionQuestion,
    #[token("?")]
    Question,
    #[token("=")]
    Eq,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    LtEq,
    #[token(">")]
    Gt,
    #[token(">=")]
    GtEq,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("->")]
    Arrow,
    #[token("@")]
    At,

    /// A character that starts no token, or an unterminated string.
    Error,
}

impl TokenKind {
    /// Whether this token starts a top-level item when it stands in column 0.
    pub fn starts_item(self) -> bool {
        matches!(
            self,
            TokenKind::KwPackage
                | TokenKind::KwImport
                | TokenKind::KwSchema
                | TokenKind::KwEnum
                | TokenKind::KwLet
                | TokenKind::KwParam
                | TokenKind::KwPolicy
                | TokenKind::KwTest
        )
    }

    /// Whether this is a reserved keyword (never usable as a plain name).
    pub fn is_keyword(self) -> bool {
        let d = self as u8;
        (TokenKind::KwPackage as u8..=TokenKind::KwExpect as u8).contains(&d)
    }

    /// Whether this is a comment (doc or ordinary).
    pub fn is_comment(self) -> bool {
        matches!(self, TokenKind::DocComment | TokenKind::LineComment)
    }

    /// Tokens that start a statement inside a policy or test body; nesting
    /// that was opened by a prefix form (`if`, `any x in ...`) ends there.
    fn starts_statement(self) -> bool {
        matches!(
            self,
            TokenKind::KwLet
                | TokenKind::KwDefault
                | TokenKind::KwAllow
                | TokenKind::KwDeny
                | TokenKind::KwRequireApproval
                | TokenKind::KwRedact
                | TokenKind::KwAlert
                | TokenKind::KwKeep
                | TokenKind::KwReturn
                | TokenKind::KwExpect
                | TokenKind::KwFor
                | TokenKind::KwWith
                | TokenKind::At
        )
    }
}

/// One token: its kind and its byte span in the text that was lexed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

/// The deepest nesting of brackets and prefix forms (`if`, quantifiers) the
/// parser accepts. Real policies stay far below it; it bounds the recursion of
/// every later phase.
pub const MAX_NESTING: usize = 64;

/// Lexes `text` into tokens, comments included. Unknown characters become
/// [`TokenKind::Error`] tokens; [`lex_diagnostics`] reports them.
pub fn lex(text: &str) -> Vec<Token> {
    let mut lexer = TokenKind::lexer(text);
    let mut tokens = Vec::new();
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let kind = result.unwrap_or(TokenKind::Error);
        tokens.push(Token {
            kind,
            span: Span::new(range.start, range.end),
        });
    }
    tokens
}

/// The diagnostics of the lexical layer: invalid characters and
/// unterminated strings.
pub fn lex_diagnostics(text: &str, tokens: &[Token]) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut index = 0;
    while index < tokens.len() {
        let token = tokens[index];
        index += 1;
        if token.kind != TokenKind::Error {
            continue;
        }
        let snippet = &text[token.span.range()];
        if snippet.starts_with('"')
            || snippet.starts_with("r\"")
            || snippet.starts_with("r#")
            || snippet.starts_with("t\"")
        {
            diagnostics.push(
                Diagnostic::error(
                    "pol::parse::unterminated_string",
                    "unterminated string literal",
                )
                .with_label(token.span, "this string is never closed")
                .with_help("close it with `\"` on the same line; use `\\n` for a line break"),
            );
            continue;
        }
        // A run of adjacent invalid characters (`&&`, `||`) is one mistake.
        let mut span = token.span;
        while let Some(next) = tokens
            .get(index)
            .filter(|t| t.kind == TokenKind::Error && t.span.start == span.end)
        {
            if text[next.span.range()].starts_with('"') {
                break;
            }
            span = span.cover(next.span);
            index += 1;
        }
        let run = &text[span.range()];
        let shown: String = run
            .chars()
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect();
        let help = match run {
            "&&" | "&" => Some("write `and`"),
            "||" | "|" => Some("write `or`"),
            "!" => Some("write `not`, or `!=` to compare"),
            ";" => Some("rules and statements end at the end of the line; remove the `;`"),
            "'" => Some("strings are written with double quotes: `\"text\"`"),
            "#" => Some("comments start with `//`"),
            "$" | "`" | "~" | "^" | "\\" => None,
            _ if run.starts_with('\'') => {
                Some("strings are written with double quotes: `\"text\"`")
            }
            _ => None,
        };
        let mut diagnostic = Diagnostic::error(
            "pol::parse::invalid_character",
            if run.chars().count() == 1 {
                format!("invalid character `{shown}`")
            } else {
                format!("invalid characters `{shown}`")
            },
        )
        .with_label(span, "not part of any token");
        if let Some(help) = help {
            diagnostic = diagnostic.with_help(help);
        }
        diagnostics.push(diagnostic);
    }
    diagnostics
}

/// Measures the nesting of one item's tokens without recursion and reports
/// the first place where it exceeds [`MAX_NESTING`]. Brackets nest; a prefix
/// form (`if`, `any x in ...`) nests until the next `,`, statement keyword or
/// closing bracket of its level, which over-approximates the depth the
/// parser will reach.
pub fn check_nesting(text: &str, tokens: &[Token]) -> Option<Diagnostic> {
    // Each open bracket is a frame that counts the prefix forms opened in it.
    let mut frames: Vec<usize> = vec![0];
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::LParen
            | TokenKind::LBracket
            | TokenKind::LBrace
            | TokenKind::QuestionBracket => {
                depth += 1;
                frames.push(0);
            }
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace if frames.len() > 1 => {
                let prefixes = frames.pop().unwrap_or(0);
                depth = depth.saturating_sub(prefixes + 1);
            }
            kind if kind == TokenKind::Comma || kind.starts_statement() => {
                if let Some(prefixes) = frames.last_mut() {
                    depth -= *prefixes;
                    *prefixes = 0;
                }
            }
            TokenKind::KwIf => {
                depth += 1;
                if let Some(prefixes) = frames.last_mut() {
                    *prefixes += 1;
                }
            }
            TokenKind::Ident
                if matches!(
                    &text[token.span.range()],
                    "any" | "all" | "count" | "filter" | "map"
                ) && tokens
                    .get(i + 1)
                    .is_some_and(|t| t.kind == TokenKind::Ident) =>
            {
                depth += 1;
                if let Some(prefixes) = frames.last_mut() {
                    *prefixes += 1;
                }
            }
            _ => {}
        }
        if depth > MAX_NESTING {
            return Some(
                Diagnostic::error(
                    "pol::parse::too_deep",
                    format!("expression nests more than {MAX_NESTING} levels deep"),
                )
                .with_label(token.span, "nesting exceeds the limit here")
                .with_help("split the expression with `let` bindings"),
            );
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        lex(text).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn keywords_and_names() {
        use TokenKind::*;
        assert_eq!(
            kinds("policy p allow_x count"),
            vec![KwPolicy, Ident, Ident, Ident]
        );
    }

    #[test]
    fn literals() {
        use TokenKind::*;
        assert_eq!(
            kinds(
                r###"42 1_000 3.5 1e3 5m 1h30m 250ms "a\"b" r"\d+" r#"say "hi""# t"2026-01-01T00:00:00Z""###
            ),
            vec![
                Int, Int, Float, Float, Duration, Duration, Duration, String, RawString, RawString,
                Timestamp
            ]
        );
    }

    #[test]
    fn comments_are_tokens() {
        use TokenKind::*;
        assert_eq!(
            kinds("/// doc\n// plain\nx"),
            vec![DocComment, LineComment, Ident]
        );
    }

    #[test]
    fn operators_prefer_the_longest() {
        use TokenKind::*;
        assert_eq!(
            kinds("?. ?[ ?? ? == = <= -> != >="),
            vec![
                QuestionDot,
                QuestionBracket,
                QuestionQuestion,
                Question,
                EqEq,
                Eq,
                LtEq,
                Arrow,
                NotEq,
                GtEq
            ]
        );
    }

    #[test]
    fn invalid_character_is_a_diagnostic() {
        let text = "let x = 1 $ 2";
        let tokens = lex(text);
        let diags = lex_diagnostics(text, &tokens);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, "pol::parse::invalid_character");
        assert_eq!(diags[0].labels[0].span, Span::new(10, 11));
    }

    #[test]
    fn deep_parentheses_are_refused_without_recursion() {
        let text = format!("let x = {}1{}", "(".repeat(100_000), ")".repeat(100_000));
        let tokens = lex(&text);
        let diag = check_nesting(&text, &tokens).expect("too deep");
        assert_eq!(diag.code, "pol::parse::too_deep");
        assert_eq!(diag.labels[0].span.start, 8 + MAX_NESTING as u32);
    }

    #[test]
    fn prefix_forms_count_towards_depth_until_a_comma() {
        let nested = format!(
            "let x = {}true",
            "if true then 1 else ".repeat(MAX_NESTING + 1)
        );
        assert!(check_nesting(&nested, &lex(&nested)).is_some());
        let flat = format!("let x = [{}]", "if a then b else c, ".repeat(1000));
        assert!(check_nesting(&flat, &lex(&flat)).is_none());
    }
}
