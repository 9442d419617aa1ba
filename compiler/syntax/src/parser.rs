//! pest parses one item's text; this module turns the pest tree into the
//! AST and pest's errors into diagnostics.

use pest::Parser as _;
use pest::iterators::Pair;

use crate::ast::*;
use crate::lexer::{Token, TokenKind, check_nesting, lex, lex_diagnostics};
use crate::{Diagnostic, Span};

#[derive(pest_derive::Parser)]
#[grammar = "pol.pest"]
struct PolParser;

/// The result of parsing one item's text.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedItem {
    /// The AST, or `None` when the item has a syntax error.
    pub item: Option<std::sync::Arc<Item>>,
    /// For a broken item, the name it would have defined (so that uses of
    /// the name elsewhere do not cascade into "unknown name" errors).
    pub broken_name: Option<String>,
    /// Diagnostics with spans relative to the item's text.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one item (as produced by [`crate::split_items`]). Never panics;
/// a broken item yields one syntax diagnostic.
pub fn parse_item(text: &str) -> ParsedItem {
    let tokens = lex(text);
    let mut diagnostics = lex_diagnostics(text, &tokens);
    if let Some(too_deep) = check_nesting(text, &tokens) {
        diagnostics.push(too_deep);
    }
    if !diagnostics.is_empty() {
        return ParsedItem {
            item: None,
            broken_name: name_hint(text, &tokens),
            diagnostics,
        };
    }
    let (normalized, map) = OffsetMap::normalize(text, &tokens);
    match PolParser::parse(Rule::item, &normalized) {
        Ok(mut pairs) => {
            let mut builder = Builder {
                text,
                tokens: &tokens,
                trim: map,
                diagnostics: Vec::new(),
                child_depth: 0,
                pending_min: Vec::new(),
                reported_depth: false,
            };
            let item = pairs
                .next()
                .and_then(|item| item.into_inner().next())
                .map(|pair| std::sync::Arc::new(builder.item(pair)));
            for span in std::mem::take(&mut builder.pending_min) {
                builder.diagnostics.push(
                    Diagnostic::error("pol::parse::int_too_large", "integer literal out of range")
                        .with_label(span, "does not fit in a 64-bit signed integer")
                        .with_help(format!("integers range from {} to {}", i64::MIN, i64::MAX)),
                );
            }
            // An expression cut off at the depth limit holds placeholders:
            // treat the item as broken so they cause no further errors.
            if builder.reported_depth {
                return ParsedItem {
                    item: None,
                    broken_name: name_hint(text, &tokens),
                    diagnostics: builder.diagnostics,
                };
            }
            ParsedItem {
                item,
                broken_name: None,
                diagnostics: builder.diagnostics,
            }
        }
        Err(error) => {
            let error = detailed_error(&normalized).unwrap_or(error);
            ParsedItem {
                item: None,
                broken_name: name_hint(text, &tokens),
                diagnostics: vec![syntax_error(text, &tokens, &map, &error)],
            }
        }
    }
}

/// Parses a broken item again with pest's error detail (the tokens each
/// alternative expected), which makes parsing several times slower and so
/// is off for the first attempt. The switch is global in pest: a lock keeps
/// detailed re-parses from turning it off under each other; a concurrent
/// first attempt elsewhere merely runs slower for that moment.
fn detailed_error(text: &str) -> Option<pest::error::Error<Rule>> {
    static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = DETAIL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    pest::set_error_detail(true);
    let result = PolParser::parse(Rule::item, text);
    pest::set_error_detail(false);
    result.err()
}

/// The name a broken item meant to define: the identifier after its keyword.
fn name_hint(text: &str, tokens: &[Token]) -> Option<String> {
    let mut code = tokens.iter().filter(|t| !t.kind.is_comment());
    let keyword = code.next()?;
    let defines = matches!(
        keyword.kind,
        TokenKind::KwSchema
            | TokenKind::KwEnum
            | TokenKind::KwLet
            | TokenKind::KwParam
            | TokenKind::KwPolicy
    );
    let name = code.next()?;
    (defines && name.kind == TokenKind::Ident).then(|| text[name.span.range()].to_string())
}

fn syntax_error(
    text: &str,
    tokens: &[Token],
    map: &OffsetMap,
    error: &pest::error::Error<Rule>,
) -> Diagnostic {
    let mut position = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    // The furthest point any alternative reached says more than where the
    // outermost alternative gave up.
    let mut moved = false;
    if let Some(attempts) = error.parse_attempts()
        && attempts.max_position > position
    {
        position = attempts.max_position;
        moved = true;
    }
    let position = map.original(position);
    let found = tokens
        .iter()
        .find(|t| t.span.start as usize >= position && !t.kind.is_comment())
        .filter(|t| {
            t.span.start as usize == position
                || text[position..t.span.start as usize].trim().is_empty()
        });
    let (message, span) = match found {
        Some(token) => {
            let snippet = &text[token.span.range()];
            let shown: String = snippet.chars().take(30).collect();
            (format!("unexpected `{shown}`"), token.span)
        }
        None => {
            let end = text.trim_end().len();
            ("unexpected end of item".to_string(), Span::new(end, end))
        }
    };
    let expected = expected_list(error, moved);
    let label = if expected.is_empty() {
        "unexpected here".to_string()
    } else {
        format!("expected {expected}")
    };
    let mut diagnostic = Diagnostic::error("pol::parse::syntax", message).with_label(span, label);
    let name_expected = expected.contains("a name");
    let help = found
        .and_then(|t| help_for(text, t, name_expected))
        .or_else(|| {
            // A misspelled keyword: `alow "admins" when ...`.
            let token = found.filter(|t| t.kind == TokenKind::Ident)?;
            let word = &text[token.span.range()];
            let keywords = expected
                .split(['`', ',', ' '])
                .filter(|w| KEYWORDS.contains(w));
            keywords
                .map(|k| (strsim::damerau_levenshtein(word, k), k))
                .filter(|(distance, k)| *distance <= 2 && *distance < k.len() / 2 + 1)
                .min()
                .map(|(_, k)| format!("did you mean `{k}`?"))
        });
    if let Some(help) = help {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}

/// Human names for what the parser expected, from pest's parse attempts.
fn expected_list(error: &pest::error::Error<Rule>, only_attempts: bool) -> String {
    let mut names: Vec<String> = Vec::new();
    fn push_unique(names: &mut Vec<String>, name: String) {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if let (pest::error::ErrorVariant::ParsingError { positives, .. }, false) =
        (&error.variant, only_attempts)
    {
        for rule in positives {
            if let Some(name) = rule_name(*rule) {
                push_unique(&mut names, name.to_string());
            }
        }
    }
    if let Some(attempts) = error.parse_attempts() {
        let mut punctuation = Vec::new();
        let mut keywords = Vec::new();
        for token in attempts.expected_tokens() {
            // `ParsingToken` is not exported; its `Display` shows the literal.
            let token = token.to_string();
            if token.is_empty() || token.starts_with("//") || token.contains('"') || token == "_" {
                continue;
            }
            if token.chars().all(|c| c.is_ascii_punctuation()) {
                punctuation.push(format!("`{token}`"));
            } else if KEYWORDS.contains(&token.as_str())
                || ["of", "limit", "list", "set", "map"].contains(&token.as_str())
            {
                keywords.push(format!("`{token}`"));
            }
        }
        // Closing brackets say most about what is missing, then keywords;
        // the many operators that could continue an expression are one entry.
        const OPERATORS: &[&str] = &[
            "`==`", "`!=`", "`<`", "`<=`", "`>`", "`>=`", "`??`", "`+`", "`-`", "`*`", "`/`",
            "`%`", "`.`", "`?.`", "`[`", "`?[`", "`(`", "`?`", "`and`", "`or`", "`in`", "`not`",
        ];
        let operator = punctuation
            .iter()
            .chain(&keywords)
            .any(|t| OPERATORS.contains(&t.as_str()));
        punctuation.retain(|t| !OPERATORS.contains(&t.as_str()));
        keywords.retain(|t| !OPERATORS.contains(&t.as_str()));
        punctuation.sort_by_key(|t| !matches!(t.as_str(), "`}`" | "`]`" | "`)`"));
        let (closers, others): (Vec<String>, Vec<String>) = punctuation
            .into_iter()
            .partition(|t| matches!(t.as_str(), "`}`" | "`]`" | "`)`"));
        let structural = std::mem::take(&mut names);
        let operator = operator.then(|| "an operator".to_string());
        for name in closers
            .into_iter()
            .chain(keywords)
            .chain(others)
            .chain(operator)
            .chain(structural)
        {
            push_unique(&mut names, name);
        }
    }
    // Keep the list readable: structural expectations first, at most eight.
    names.truncate(10);
    match names.len() {
        0 => String::new(),
        1 => names.remove(0),
        n => {
            let last = names.remove(n - 1);
            format!("{} or {last}", names.join(", "))
        }
    }
}

fn rule_name(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::ident | Rule::word => "a name",
        Rule::field_name => "a field name",
        Rule::path => "a package path",
        Rule::expr | Rule::arith_expr | Rule::prefix_op => "an expression",
        Rule::type_expr => "a type",
        Rule::string | Rule::raw_string => "a string",
        Rule::field => "a field",
        Rule::variant => "a variant",
        Rule::rule_stmt | Rule::local_let | Rule::default_rule => "a rule",
        Rule::when_clause => "`when`",
        Rule::block => "a block `{ ... }`",
        Rule::expect_stmt | Rule::for_stmt | Rule::with_stmt => "a test statement",
        Rule::infix_op | Rule::arith_op => "an operator",
        Rule::call_args => "arguments",
        Rule::kw_of => "`of`",
        Rule::EOI => "the end of the item",
        _ => return None,
    })
}

/// A specific hint for common slips.
fn help_for(text: &str, token: &Token, name_expected: bool) -> Option<String> {
    let snippet = &text[token.span.range()];
    match (token.kind, snippet) {
        (TokenKind::Eq, _) => Some("to compare, write `==`".to_string()),
        (TokenKind::Ident, "elif" | "elsif") => Some("write `else if`".to_string()),
        (TokenKind::Ident, "function" | "fn" | "def") => {
            Some("Pol has no functions: write a `let` or a `policy`".to_string())
        }
        (TokenKind::Ident, "true" | "True" | "False" | "TRUE") => {
            Some("booleans are written `true` and `false`".to_string())
        }
        (kind, _) if kind.is_keyword() && name_expected => Some(format!(
            "`{snippet}` is a keyword; it cannot be used as a name here"
        )),
        _ => None,
    }
}

/// Builds the AST from pest pairs; collects literal errors (an integer too
/// large, an unknown escape) that do not break the item.
struct Builder<'t> {
    text: &'t str,
    tokens: &'t [Token],
    trim: OffsetMap,
    diagnostics: Vec<Diagnostic>,
    /// The deepest child built since the enclosing node started.
    child_depth: u32,
    /// Literals `9223372036854775808` not (yet) negated.
    pending_min: Vec<Span>,
    reported_depth: bool,
}

/// Reserved words: never names of bindings, definitions or variables.
/// (Field names may be keywords: `d.allowed`.)
pub(crate) const KEYWORDS: &[&str] = &[
    "package",
    "import",
    "as",
    "schema",
    "enum",
    "let",
    "param",
    "policy",
    "test",
    "default",
    "allow",
    "deny",
    "require_approval",
    "redact",
    "alert",
    "keep",
    "return",
    "when",
    "and",
    "or",
    "not",
    "in",
    "true",
    "false",
    "none",
    "now",
    "if",
    "then",
    "else",
    "for",
    "with",
    "expect",
];

/// The deepest expression tree the parser builds. Every operator in a chain
/// counts as a level (`a + b + c` is two deep), so later phases, which
/// recurse over expressions, stay within a small stack.
pub(crate) const MAX_EXPR_DEPTH: u32 = 256;

/// The pair's span without the whitespace and comments pest lets trail
/// inside it (implicit whitespace before an optional part that then
/// matched nothing).
fn span_of(map: &OffsetMap, pair: &Pair<'_, Rule>) -> Span {
    let (start, end) = (pair.as_span().start(), pair.as_span().end());
    let start = map.original(start);
    Span::new(start, map.original_end(end).max(start))
}

/// pest parses a normalized copy of the item: its tokens, comments left
/// out, separated by one space where the source had any whitespace. With no
/// comments or runs of whitespace to skip between tokens, pest does a third
/// less work. This map takes positions in the copy back to the source.
#[derive(Debug)]
struct OffsetMap {
    /// For each token, its start in the copy and in the source, and its length.
    tokens: Vec<(u32, u32, u32)>,
}

impl OffsetMap {
    fn normalize(text: &str, tokens: &[Token]) -> (String, OffsetMap) {
        let mut out = String::with_capacity(text.len());
        let mut map = Vec::with_capacity(tokens.len());
        let mut previous_end = None;
        for token in tokens.iter().filter(|t| !t.kind.is_comment()) {
            if previous_end.is_some_and(|end| end != token.span.start) {
                out.push(' ');
            }
            map.push((out.len() as u32, token.span.start, token.span.len()));
            out.push_str(&text[token.span.range()]);
            previous_end = Some(token.span.end);
        }
        (out, OffsetMap { tokens: map })
    }

    /// The source position of a start position in the copy.
    fn original(&self, position: usize) -> usize {
        let position = u32::try_from(position).unwrap_or(u32::MAX);
        self.map(
            position,
            self.tokens
                .partition_point(|(copy, _, _)| *copy <= position),
        )
    }

    /// The source position of an end position in the copy: a position in
    /// the space after a token, or at the start of the next one, maps to the
    /// token's end, so spans end after their last token and not after the
    /// whitespace pest lets trail into them.
    fn original_end(&self, position: usize) -> usize {
        let position = u32::try_from(position).unwrap_or(u32::MAX);
        self.map(
            position,
            self.tokens.partition_point(|(copy, _, _)| *copy < position),
        )
    }

    /// Maps `position` within or after the token before `index`.
    fn map(&self, position: u32, index: usize) -> usize {
        match index.checked_sub(1).and_then(|i| self.tokens.get(i)) {
            Some((copy, source, len)) => (source + (position - copy).min(*len)) as usize,
            None => self
                .tokens
                .first()
                .map_or(0, |(_, source, _)| *source as usize),
        }
    }
}

impl Builder<'_> {
    /// The `///` comment directly before `start`, markers stripped.
    fn doc_before(&self, start: u32) -> Option<String> {
        let index = self.tokens.partition_point(|t| t.span.start < start);
        let mut first = index;
        while first > 0 && self.tokens[first - 1].kind == TokenKind::DocComment {
            first -= 1;
        }
        if first == index {
            return None;
        }
        let lines: Vec<&str> = self.tokens[first..index]
            .iter()
            .map(|t| {
                let line = &self.text[t.span.range()][3..];
                line.strip_prefix(' ').unwrap_or(line).trim_end()
            })
            .collect();
        Some(lines.join("\n"))
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Item {
        let span = span_of(&self.trim, &pair);
        let doc = self.doc_before(span.start);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let kind = match rule {
            Rule::package_decl => ItemKind::Package(self.path(inner.next())),
            Rule::import_decl => {
                let path = self.path(inner.next());
                let alias = inner.next().map(|p| self.ident(p));
                ItemKind::Import(Import { path, alias })
            }
            Rule::schema_decl => {
                let name = self.ident_opt(inner.next());
                let fields = inner.map(|f| self.field(f)).collect();
                ItemKind::Schema(Schema { name, fields })
            }
            Rule::enum_decl => {
                let name = self.ident_opt(inner.next());
                let variants = inner
                    .map(|v| {
                        let span = span_of(&self.trim, &v);
                        let name = self.ident_opt(v.into_inner().next());
                        Variant {
                            name,
                            doc: self.doc_before(span.start),
                        }
                    })
                    .collect();
                ItemKind::Enum(Enum { name, variants })
            }
            Rule::let_decl => ItemKind::Let(self.binding(span, inner)),
            Rule::param_decl => ItemKind::Param(self.binding(span, inner)),
            Rule::param_override => {
                let target = self.path(inner.next());
                let value = inner.next().map_or(
                    Expr {
                        kind: ExprKind::None,
                        span,
                    },
                    |e| self.expr(e),
                );
                ItemKind::ParamOverride(ParamOverride { target, value })
            }
            Rule::policy_decl => ItemKind::Policy(self.policy(inner)),
            Rule::test_decl => {
                let name = self.str_lit_opt(inner.next());
                let body = inner.next().map(|b| self.block(b)).unwrap_or_default();
                ItemKind::Test(Test { name, body })
            }
            _ => ItemKind::Package(Path {
                segments: Vec::new(),
                span,
            }),
        };
        Item { kind, doc, span }
    }

    fn ident(&mut self, pair: Pair<'_, Rule>) -> Ident {
        let span = span_of(&self.trim, &pair);
        let name = self.text[span.range()].to_string();
        if pair.as_rule() == Rule::ident && KEYWORDS.contains(&name.as_str()) {
            self.diagnostics.push(
                Diagnostic::error(
                    "pol::parse::keyword_as_name",
                    format!("`{name}` is a keyword, not a name"),
                )
                .with_label(span, "keyword used as a name")
                .with_help(format!("choose another name, such as `{name}_`")),
            );
        }
        Ident { name, span }
    }

    fn ident_opt(&mut self, pair: Option<Pair<'_, Rule>>) -> Ident {
        pair.map(|p| self.ident(p)).unwrap_or_else(|| Ident {
            name: String::new(),
            span: Span::default(),
        })
    }

    fn path(&mut self, pair: Option<Pair<'_, Rule>>) -> Path {
        let Some(pair) = pair else {
            return Path {
                segments: Vec::new(),
                span: Span::default(),
            };
        };
        let span = span_of(&self.trim, &pair);
        let segments = pair.into_inner().map(|p| self.ident(p)).collect();
        Path { segments, span }
    }

    fn field(&mut self, pair: Pair<'_, Rule>) -> Field {
        let span = span_of(&self.trim, &pair);
        let mut inner = pair.into_inner();
        let name = self.ident_opt(inner.next());
        let ty = self.type_expr(inner.next());
        Field {
            name,
            ty,
            doc: self.doc_before(span.start),
            span,
        }
    }

    fn binding(&mut self, span: Span, mut inner: pest::iterators::Pairs<'_, Rule>) -> Binding {
        let name = self.ident_opt(inner.next());
        let mut ty = None;
        let mut value = None;
        for pair in inner {
            match pair.as_rule() {
                Rule::type_expr => ty = Some(self.type_expr(Some(pair))),
                _ => value = Some(self.expr(pair)),
            }
        }
        let value = value.unwrap_or(Expr {
            kind: ExprKind::None,
            span,
        });
        Binding {
            name,
            ty,
            value,
            span,
            doc: self.doc_before(span.start),
        }
    }

    fn type_expr(&mut self, pair: Option<Pair<'_, Rule>>) -> TypeExpr {
        let Some(pair) = pair else {
            return TypeExpr {
                kind: TypeExprKind::Named(Path {
                    segments: Vec::new(),
                    span: Span::default(),
                }),
                span: Span::default(),
            };
        };
        let span = span_of(&self.trim, &pair);
        let mut inner = pair.into_inner();
        let base = inner.next();
        let optional = inner.next().is_some();
        let base_ty = match base {
            Some(base) => {
                let base_span = span_of(&self.trim, &base);
                let rule = base.as_rule();
                let mut parts = base.into_inner();
                let kind = match rule {
                    Rule::list_type => TypeExprKind::List(Box::new(self.type_expr(parts.next()))),
                    Rule::set_type => TypeExprKind::Set(Box::new(self.type_expr(parts.next()))),
                    Rule::map_type => {
                        let key = self.type_expr(parts.next());
                        let value = self.type_expr(parts.next());
                        TypeExprKind::Map(Box::new(key), Box::new(value))
                    }
                    _ => TypeExprKind::Named(self.path(parts.next())),
                };
                TypeExpr {
                    kind,
                    span: base_span,
                }
            }
            None => TypeExpr {
                kind: TypeExprKind::Named(Path {
                    segments: Vec::new(),
                    span,
                }),
                span,
            },
        };
        if optional {
            TypeExpr {
                kind: TypeExprKind::Optional(Box::new(base_ty)),
                span,
            }
        } else {
            base_ty
        }
    }

    fn policy(&mut self, mut inner: pest::iterators::Pairs<'_, Rule>) -> Policy {
        let name = self.ident_opt(inner.next());
        let params = inner
            .next()
            .map(|ps| {
                ps.into_inner()
                    .map(|p| {
                        let mut parts = p.into_inner();
                        let name = self.ident_opt(parts.next());
                        let ty = self.type_expr(parts.next());
                        PolicyParam { name, ty }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let ret = self.type_expr(inner.next());
        let body = inner.map(|stmt| self.policy_stmt(stmt)).collect();
        Policy {
            name,
            params,
            ret,
            body,
        }
    }

    fn policy_stmt(&mut self, pair: Pair<'_, Rule>) -> PolicyStmt {
        let span = span_of(&self.trim, &pair);
        match pair.as_rule() {
            Rule::local_let => PolicyStmt::Let(self.binding(span, pair.into_inner())),
            Rule::default_rule => {
                let mut inner = pair.into_inner();
                let keyword_span =
                    Span::new(span.start as usize, span.start as usize + "default".len());
                let what = inner.next();
                let kind = match what {
                    Some(p) if p.as_rule() == Rule::default_effect => {
                        if p.as_str().starts_with("allow") {
                            RuleKind::DefaultEffect(Effect::Allow)
                        } else {
                            RuleKind::DefaultEffect(Effect::Deny)
                        }
                    }
                    Some(p) => RuleKind::DefaultValue(self.expr(p)),
                    None => RuleKind::DefaultEffect(Effect::Deny),
                };
                let reason = self.str_lit_opt(inner.next());
                PolicyStmt::Rule(crate::ast::Rule {
                    kind,
                    reason,
                    when: None,
                    id: None,
                    unknown_attributes: Vec::new(),
                    doc: self.doc_before(span.start),
                    keyword_span,
                    span,
                })
            }
            _ => PolicyStmt::Rule(self.rule(pair)),
        }
    }

    fn rule(&mut self, pair: Pair<'_, Rule>) -> crate::ast::Rule {
        let span = span_of(&self.trim, &pair);
        let mut id = None;
        let mut unknown_attributes = Vec::new();
        let mut body = None;
        for part in pair.into_inner() {
            if part.as_rule() == Rule::attribute {
                let mut attr = part.into_inner();
                let name = self.ident_opt(attr.next());
                let value = self.str_lit_opt(attr.next());
                if name.name == "id" {
                    if let Some(first) = &id {
                        let first: &StrLit = first;
                        self.diagnostics.push(
                            Diagnostic::error(
                                "pol::parse::duplicate_attribute",
                                "a rule has at most one `@id`",
                            )
                            .with_label(value.span, "second `@id`")
                            .with_label(first.span, "first `@id`")
                            .with_help("keep the id that other systems already refer to"),
                        );
                    }
                    id = Some(value);
                } else {
                    unknown_attributes.push(name);
                }
            } else {
                body = Some(part);
            }
        }
        let Some(body) = body else {
            return crate::ast::Rule {
                kind: RuleKind::Allow,
                reason: StrLit {
                    value: String::new(),
                    span,
                },
                when: None,
                id,
                unknown_attributes,
                doc: None,
                keyword_span: span,
                span,
            };
        };
        let body_span = span_of(&self.trim, &body);
        let doc = self.doc_before(span.start);
        let rule = body.as_rule();
        let keyword_len = body
            .as_str()
            .find(|c: char| !(c.is_ascii_alphabetic() || c == '_'))
            .unwrap_or(0);
        let keyword_span = Span::new(
            body_span.start as usize,
            body_span.start as usize + keyword_len,
        );
        let parts = body.into_inner().peekable();
        let mut reason = None;
        let mut when = None;
        let mut limit = None;
        let mut exprs = Vec::new();
        let mut names = Vec::new();
        for part in parts {
            match part.as_rule() {
                Rule::string | Rule::raw_string => reason = Some(self.str_lit(part)),
                Rule::when_clause => when = part.into_inner().next().map(|e| self.expr(e)),
                Rule::limit_clause => {
                    limit = part.into_inner().nth(1).map(|e| self.expr(e));
                }
                Rule::ident => names.push(self.ident(part)),
                Rule::kw_of | Rule::kw_in => {}
                _ => exprs.push(self.expr(part)),
            }
        }
        let reason = reason.unwrap_or(StrLit {
            value: String::new(),
            span: body_span,
        });
        let placeholder = Expr {
            kind: ExprKind::None,
            span: body_span,
        };
        let mut exprs = exprs.into_iter();
        let mut names = names.into_iter();
        let kind = match rule {
            Rule::deny_rule => RuleKind::Deny,
            Rule::approval_rule => RuleKind::RequireApproval,
            Rule::redact_rule => RuleKind::Redact {
                target: exprs.next().unwrap_or(placeholder),
            },
            Rule::alert_rule => RuleKind::Alert {
                severity: names.next().unwrap_or(Ident {
                    name: String::new(),
                    span: body_span,
                }),
            },
            Rule::return_rule => RuleKind::Return {
                value: exprs.next().unwrap_or(placeholder),
            },
            Rule::keep_rule => RuleKind::Keep {
                var: names.next().unwrap_or(Ident {
                    name: String::new(),
                    span: body_span,
                }),
                collection: exprs.next().unwrap_or(placeholder),
                limit,
            },
            _ => RuleKind::Allow,
        };
        crate::ast::Rule {
            kind,
            reason,
            when,
            id,
            unknown_attributes,
            doc,
            keyword_span,
            span,
        }
    }

    fn block(&mut self, pair: Pair<'_, Rule>) -> Vec<TestStmt> {
        pair.into_inner().map(|stmt| self.test_stmt(stmt)).collect()
    }

    fn test_stmt(&mut self, pair: Pair<'_, Rule>) -> TestStmt {
        let span = span_of(&self.trim, &pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        match rule {
            Rule::local_let => TestStmt::Let(self.binding(span, inner)),
            Rule::for_stmt => {
                let var = self.ident_opt(inner.next());
                let cases = inner.next().map_or(
                    Expr {
                        kind: ExprKind::None,
                        span,
                    },
                    |e| self.expr(e),
                );
                let body = inner.next().map(|b| self.block(b)).unwrap_or_default();
                TestStmt::For {
                    var,
                    cases,
                    body,
                    span,
                }
            }
            Rule::with_stmt => {
                let mut bindings = Vec::new();
                let mut body = Vec::new();
                for part in inner {
                    if part.as_rule() == Rule::with_binding {
                        let mut b = part.into_inner();
                        let path = self.path(b.next());
                        let value = b.next().map_or(
                            Expr {
                                kind: ExprKind::None,
                                span,
                            },
                            |e| self.expr(e),
                        );
                        bindings.push((path, value));
                    } else {
                        body = self.block(part);
                    }
                }
                TestStmt::With {
                    bindings,
                    body,
                    span,
                }
            }
            _ => TestStmt::Expect(inner.next().map_or(
                Expr {
                    kind: ExprKind::None,
                    span,
                },
                |e| self.expr(e),
            )),
        }
    }

    fn str_lit_opt(&mut self, pair: Option<Pair<'_, Rule>>) -> StrLit {
        match pair {
            Some(p) => self.str_lit(p),
            None => StrLit {
                value: String::new(),
                span: Span::default(),
            },
        }
    }

    fn str_lit(&mut self, pair: Pair<'_, Rule>) -> StrLit {
        let span = span_of(&self.trim, &pair);
        let value = match pair.as_rule() {
            Rule::raw_string => pair
                .into_inner()
                .next()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default(),
            _ => {
                let inner = pair.into_inner().next();
                match inner {
                    Some(inner) => {
                        let start = self.trim.original(inner.as_span().start());
                        self.unescape(inner.as_str(), start)
                    }
                    None => String::new(),
                }
            }
        };
        StrLit { value, span }
    }

    /// Processes escapes; `offset` is where `raw` starts, for error spans.
    fn unescape(&mut self, raw: &str, offset: usize) -> String {
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let Some((j, escaped)) = chars.next() else {
                break;
            };
            match escaped {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                'u' => {
                    // \u{X} to \u{XXXXXX}: a Unicode scalar value in hex.
                    let rest = &raw[j + 1..];
                    let body = rest.strip_prefix('{').and_then(|r| r.split_once('}')).map(|(hex, _)| hex);
                    let consumed = body.map_or(0, |hex| hex.len() + 2);
                    let decoded = body
                        .filter(|hex| (1..=6).contains(&hex.len()) && hex.chars().all(|c| c.is_ascii_hexdigit()))
                        .and_then(|hex| u32::from_str_radix(hex, 16).ok());
                    for _ in 0..consumed {
                        chars.next();
                    }
                    let span = Span::new(offset + i, offset + j + 1 + consumed);
                    match decoded.map(|code| (code, char::from_u32(code))) {
                        Some((_, Some(ch))) => out.push(ch),
                        Some((code, None)) => self.diagnostics.push(
                            Diagnostic::error("pol::parse::invalid_escape", format!("`\\u{{{code:X}}}` is not a Unicode scalar value"))
                                .with_label(span, "out of range or a surrogate")
                                .with_help("code points go up to `10FFFF`, excluding `D800` to `DFFF`"),
                        ),
                        None => self.diagnostics.push(
                            Diagnostic::error("pol::parse::invalid_escape", "invalid unicode escape")
                                .with_label(span, "expected `\\u{...}` with 1 to 6 hex digits")
                                .with_help("write a code point such as `\\u{1F600}`"),
                        ),
                    }
                }
                other => self.diagnostics.push(
                    Diagnostic::error("pol::parse::invalid_escape", format!("unknown escape `\\{other}`"))
                        .with_label(Span::new(offset + i, offset + j + other.len_utf8()), "not a valid escape")
                        .with_help("valid escapes are `\\n`, `\\t`, `\\r`, `\\0`, `\\\\`, `\\\"` and `\\u{...}`; for regexes use a raw string `r\"...\"`"),
                ),
            }
        }
        out
    }

    /// Builds a child expression, recording its depth for the parent.
    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let (expr, depth) = self.expr_d(pair);
        self.child_depth = self.child_depth.max(depth);
        expr
    }

    /// Builds an expression and returns it with the depth of its tree.
    fn expr_d(&mut self, pair: Pair<'_, Rule>) -> (Expr, u32) {
        match pair.as_rule() {
            Rule::expr | Rule::arith_expr => self.fold(pair),
            _ => self.primary(pair),
        }
    }

    /// A node `depth` levels deep, or (reported) a placeholder when that is
    /// deeper than [`MAX_EXPR_DEPTH`]; no tree deeper than the limit is
    /// ever built, so later phases recurse within a small stack.
    fn bounded(&mut self, expr: Expr, depth: u32) -> (Expr, u32) {
        if depth > MAX_EXPR_DEPTH {
            let span = expr.span;
            self.report_too_deep(span);
            return (
                Expr {
                    kind: ExprKind::None,
                    span,
                },
                1,
            );
        }
        (expr, depth)
    }

    fn report_too_deep(&mut self, span: Span) {
        if self.reported_depth {
            return;
        }
        self.reported_depth = true;
        self.diagnostics.push(
            Diagnostic::error(
                "pol::parse::too_deep",
                format!("expression nests more than {MAX_EXPR_DEPTH} levels deep"),
            )
            .with_label(span, "nesting exceeds the limit here")
            .with_help(
                "each operator in a chain counts as a level; split the expression with `let` \
                 bindings, or test membership with `in { ... }` instead of a long `or` chain",
            ),
        );
    }

    fn binary_op(pair: &Pair<'_, Rule>) -> BinaryOp {
        let text = pair.as_str().trim();
        match text {
            "or" => BinaryOp::Or,
            "and" => BinaryOp::And,
            "in" => BinaryOp::In,
            "==" => BinaryOp::Eq,
            "!=" => BinaryOp::Ne,
            "<" => BinaryOp::Lt,
            "<=" => BinaryOp::Le,
            ">" => BinaryOp::Gt,
            ">=" => BinaryOp::Ge,
            "??" => BinaryOp::Coalesce,
            "+" => BinaryOp::Add,
            "-" => BinaryOp::Sub,
            "*" => BinaryOp::Mul,
            "/" => BinaryOp::Div,
            "%" => BinaryOp::Rem,
            _ => BinaryOp::NotIn,
        }
    }

    /// Binding power and right-associativity of a binary operator.
    fn precedence(op: BinaryOp) -> (u8, bool) {
        match op {
            BinaryOp::Or => (1, false),
            BinaryOp::And => (2, false),
            BinaryOp::Coalesce => (5, true),
            BinaryOp::Add | BinaryOp::Sub => (6, false),
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => (7, false),
            // The comparisons.
            _ => (4, false),
        }
    }

    /// Folds a flat `prefix* operand (infix prefix* operand)*` sequence into
    /// a tree by operator precedence, with explicit stacks (no recursion).
    fn fold(&mut self, pair: Pair<'_, Rule>) -> (Expr, u32) {
        let span = span_of(&self.trim, &pair);
        let mut operands: Vec<(Expr, u32)> = Vec::new();
        let mut operators: Vec<(FoldOp, u8)> = Vec::new();
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::prefix_op | Rule::neg_op => {
                    let op_span = span_of(&self.trim, &part);
                    let (op, power) = if part.as_str().starts_with("not") {
                        (UnaryOp::Not, 3)
                    } else {
                        (UnaryOp::Neg, 8)
                    };
                    operators.push((FoldOp::Prefix(op, op_span), power));
                }
                Rule::infix_op | Rule::arith_op => {
                    let op_span = span_of(&self.trim, &part);
                    let op = Self::binary_op(&part);
                    let (power, right) = Self::precedence(op);
                    while let Some((_, top)) = operators.last() {
                        if *top > power || (*top == power && !right) {
                            if let Some((top_op, _)) = operators.pop() {
                                self.reduce(&mut operands, top_op);
                            }
                        } else {
                            break;
                        }
                    }
                    operators.push((FoldOp::Infix(op, op_span), power));
                }
                // Postfix operators bind tightest: apply them to the operand
                // just built, before any prefix operator on the stack.
                Rule::field_access
                | Rule::opt_field
                | Rule::index
                | Rule::opt_index
                | Rule::call_args => {
                    if let Some(operand) = operands.pop() {
                        let applied = self.apply_postfix(operand, part);
                        operands.push(applied);
                    }
                }
                _ => {
                    let operand = self.expr_d(part);
                    operands.push(operand);
                }
            }
        }
        while let Some((op, _)) = operators.pop() {
            self.reduce(&mut operands, op);
        }
        operands.pop().unwrap_or((
            Expr {
                kind: ExprKind::None,
                span,
            },
            1,
        ))
    }

    fn reduce(&mut self, operands: &mut Vec<(Expr, u32)>, op: FoldOp) {
        match op {
            FoldOp::Prefix(op, op_span) => {
                let Some((operand, depth)) = operands.pop() else {
                    return;
                };
                // Fold `-<literal>` so `-9223372036854775808` is representable.
                if op == UnaryOp::Neg
                    && let ExprKind::Int(n) = operand.kind
                    && (n >= 0 || n == i64::MIN)
                {
                    self.pending_min.retain(|s| *s != operand.span);
                    let span = op_span.cover(operand.span);
                    operands.push((
                        Expr {
                            kind: ExprKind::Int(n.wrapping_neg()),
                            span,
                        },
                        depth,
                    ));
                    return;
                }
                let span = op_span.cover(operand.span);
                let node = Expr {
                    kind: ExprKind::Unary {
                        op,
                        op_span,
                        operand: Box::new(operand),
                    },
                    span,
                };
                let bounded = self.bounded(node, depth + 1);
                operands.push(bounded);
            }
            FoldOp::Infix(op, op_span) => {
                let (Some((rhs, rd)), Some((lhs, ld))) = (operands.pop(), operands.pop()) else {
                    return;
                };
                if op.is_comparison()
                    && let ExprKind::Binary {
                        op: inner,
                        op_span: inner_span,
                        ..
                    } = &lhs.kind
                    && inner.is_comparison()
                {
                    self.diagnostics.push(
                                Diagnostic::error("pol::parse::chained_comparison", "comparison operators do not chain")
                                    .with_label(op_span, "second comparison")
                                    .with_label(*inner_span, "first comparison")
                                    .with_help("write each comparison separately and join them with `and`: `a < b and b < c`"),
                            );
                }
                let span = lhs.span.cover(rhs.span);
                let node = Expr {
                    kind: ExprKind::Binary {
                        op,
                        op_span,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    span,
                };
                let bounded = self.bounded(node, ld.max(rd) + 1);
                operands.push(bounded);
            }
        }
    }

    /// Applies a field access, index or call to the operand before it.
    fn apply_postfix(&mut self, (base, depth): (Expr, u32), part: Pair<'_, Rule>) -> (Expr, u32) {
        let part_span = span_of(&self.trim, &part);
        let span = base.span.cover(part_span);
        let rule = part.as_rule();
        let mut parts = part.into_inner();
        let saved = std::mem::replace(&mut self.child_depth, 0);
        let kind = match rule {
            Rule::field_access | Rule::opt_field => {
                let name = self.ident_opt(parts.next());
                ExprKind::Field {
                    base: Box::new(base),
                    name,
                    optional: rule == Rule::opt_field,
                }
            }
            Rule::index | Rule::opt_index => {
                let index = parts.next().map_or(
                    Expr {
                        kind: ExprKind::None,
                        span: part_span,
                    },
                    |e| self.expr(e),
                );
                ExprKind::Index {
                    base: Box::new(base),
                    index: Box::new(index),
                    optional: rule == Rule::opt_index,
                }
            }
            _ => {
                let args = parts.map(|a| self.expr(a)).collect();
                ExprKind::Call {
                    callee: Box::new(base),
                    args,
                }
            }
        };
        let children = std::mem::replace(&mut self.child_depth, saved);
        self.bounded(Expr { kind, span }, depth.max(children) + 1)
    }

    /// A primary expression with the depth of its tree.
    fn primary(&mut self, pair: Pair<'_, Rule>) -> (Expr, u32) {
        let saved = std::mem::replace(&mut self.child_depth, 0);
        let expr = self.primary_node(pair);
        let children = std::mem::replace(&mut self.child_depth, saved);
        self.bounded(expr, children + 1)
    }

    fn primary_node(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&self.trim, &pair);
        let text = pair.as_str();
        let kind = match pair.as_rule() {
            Rule::ident => match pair.as_str() {
                "true" => ExprKind::Bool(true),
                "false" => ExprKind::Bool(false),
                "none" => ExprKind::None,
                "now" => ExprKind::Now,
                _ => ExprKind::Name(self.ident(pair)),
            },
            Rule::int => {
                let digits: String = text.chars().filter(|c| *c != '_').collect();
                match digits.parse::<i64>() {
                    Ok(n) => ExprKind::Int(n),
                    // `9223372036854775808` is only valid negated; the prefix fold handles it.
                    Err(_) if digits == "9223372036854775808" => {
                        // Valid only negated; the fold of `-` takes it off this list.
                        self.pending_min.push(span);
                        ExprKind::Int(i64::MIN)
                    }
                    Err(_) => {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "pol::parse::int_too_large",
                                "integer literal out of range",
                            )
                            .with_label(span, "does not fit in a 64-bit signed integer")
                            .with_help(format!(
                                "integers range from {} to {}",
                                i64::MIN,
                                i64::MAX
                            )),
                        );
                        ExprKind::Int(0)
                    }
                }
            }
            Rule::float => {
                let digits: String = text.chars().filter(|c| *c != '_').collect();
                match digits.parse::<f64>() {
                    Ok(f) if f.is_finite() => ExprKind::Float(FloatLit(f)),
                    _ => {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "pol::parse::float_out_of_range",
                                "float literal out of range",
                            )
                            .with_label(span, "this is not a finite 64-bit float"),
                        );
                        ExprKind::Float(FloatLit(0.0))
                    }
                }
            }
            Rule::duration => match pol_ir::time::parse_duration_literal(text) {
                Some(nanos) => ExprKind::Duration(nanos),
                None => {
                    self.diagnostics.push(
                        Diagnostic::error(
                            "pol::parse::duration_out_of_range",
                            "duration literal out of range",
                        )
                        .with_label(span, "longer than about 292 years")
                        .with_help("durations are stored as signed 64-bit nanoseconds"),
                    );
                    ExprKind::Duration(0)
                }
            },
            Rule::timestamp => {
                let inner = pair.into_inner().next();
                let raw = inner.as_ref().map_or("", |p| p.as_str());
                match pol_ir::time::parse_timestamp(raw) {
                    Ok(nanos) => ExprKind::Timestamp(nanos),
                    Err(problem) => {
                        self.diagnostics.push(
                            Diagnostic::error(
                                "pol::parse::invalid_timestamp",
                                format!("invalid timestamp `{raw}`"),
                            )
                            .with_label(span, problem)
                            .with_help(
                                "write an RFC 3339 timestamp such as `t\"2026-01-31T09:30:00Z\"`",
                            ),
                        );
                        ExprKind::Timestamp(0)
                    }
                }
            }
            Rule::string | Rule::raw_string => ExprKind::Str(self.str_lit(pair).value),
            Rule::paren => {
                let inner = pair.into_inner().next().map_or(
                    Expr {
                        kind: ExprKind::None,
                        span,
                    },
                    |e| self.expr(e),
                );
                ExprKind::Paren(Box::new(inner))
            }
            Rule::if_expr => {
                let mut parts = pair.into_inner().map(|p| self.expr(p));
                let none = || Expr {
                    kind: ExprKind::None,
                    span,
                };
                let cond = parts.next().unwrap_or_else(none);
                let then = parts.next().unwrap_or_else(none);
                let otherwise = parts.next().unwrap_or_else(none);
                ExprKind::If {
                    cond: Box::new(cond),
                    then: Box::new(then),
                    otherwise: Box::new(otherwise),
                }
            }
            Rule::quantifier => {
                let mut kind = QuantKind::Any;
                let mut vars = Vec::new();
                let mut exprs = Vec::new();
                for part in pair.into_inner() {
                    match part.as_rule() {
                        Rule::quant_kw => {
                            kind = match part.as_str() {
                                "all" => QuantKind::All,
                                "count" => QuantKind::Count,
                                "filter" => QuantKind::Filter,
                                "map" => QuantKind::Map,
                                _ => QuantKind::Any,
                            }
                        }
                        Rule::ident => vars.push(self.ident(part)),
                        Rule::kw_in => {}
                        _ => exprs.push(self.expr(part)),
                    }
                }
                let mut exprs = exprs.into_iter();
                let none = || Expr {
                    kind: ExprKind::None,
                    span,
                };
                let collection = exprs.next().unwrap_or_else(none);
                let body = exprs.next().unwrap_or_else(none);
                ExprKind::Quant {
                    kind,
                    vars,
                    collection: Box::new(collection),
                    body: Box::new(body),
                }
            }
            Rule::list_lit => ExprKind::List(pair.into_inner().map(|p| self.expr(p)).collect()),
            Rule::set_lit => ExprKind::Set(pair.into_inner().map(|p| self.expr(p)).collect()),
            Rule::empty_braces => ExprKind::EmptyBraces,
            Rule::record_lit => ExprKind::Record(
                pair.into_inner()
                    .map(|entry| {
                        let mut parts = entry.into_inner();
                        let name = self.ident_opt(parts.next());
                        let value = parts.next().map_or(
                            Expr {
                                kind: ExprKind::None,
                                span,
                            },
                            |e| self.expr(e),
                        );
                        (name, value)
                    })
                    .collect(),
            ),
            Rule::map_lit => ExprKind::Map(
                pair.into_inner()
                    .map(|entry| {
                        let mut parts = entry.into_inner();
                        let key = self.str_lit_opt(parts.next());
                        let value = parts.next().map_or(
                            Expr {
                                kind: ExprKind::None,
                                span,
                            },
                            |e| self.expr(e),
                        );
                        (key, value)
                    })
                    .collect(),
            ),
            _ => ExprKind::None,
        };
        Expr { kind, span }
    }
}

/// An operator waiting on the fold's stack.
#[derive(Debug, Clone, Copy)]
enum FoldOp {
    Prefix(UnaryOp, Span),
    Infix(BinaryOp, Span),
}

#[cfg(test)]
mod tests;
