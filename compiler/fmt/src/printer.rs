//! The printer: walks the AST of each item and writes its tokens, taken
//! from the source in order, with the canonical spacing, line breaks and
//! indentation. Comments are written when the walk reaches them: a comment
//! that shared a line with the token before it stays at the end of that
//! line, any other comment goes on its own line at the indentation of what
//! follows it.
//!
//! The AST says how the tokens are grouped; the token stream says what is
//! written. A token's text always comes from the source (so literals keep
//! their spelling: `1_000`, `1h30m`, escapes, raw strings), and each token
//! is consumed exactly once, in order. Only commas are the printer's own:
//! it writes the separators and trailing commas of the layout and drops the
//! source's.
//!
//! Line breaks: the source's line breaks are kept at the places where a
//! line may break and dropped everywhere else. A bracketed group (a list,
//! set, map, record, argument list, parameter list, schema or enum) is
//! either flat, `[a, b]`, or broken: the opening bracket ends its line,
//! the elements follow one level deeper (in the rows the author grouped
//! them, each row ending with a comma), and the closing bracket starts a
//! line of its own. It is broken when the source has a line break right
//! inside its brackets or between two of its elements. A continuation
//! line (a line break before a binary operator, `.name`, `then`, `else`,
//! `when`, ...) is indented one level deeper than the line its statement
//! or element starts on.

use pol_syntax::ast::{
    BinaryOp, Binding, Expr, ExprKind, Item, ItemKind, Path, PolicyStmt, Rule, RuleKind, TestStmt,
    TypeExpr, TypeExprKind, UnaryOp,
};
use pol_syntax::lexer::{Token, TokenKind};
use pol_syntax::{ParsedFile, Span};

/// Spaces per indentation level.
const INDENT: usize = 2;

/// The printer's result: `Err` means the AST and the tokens disagree (a
/// bug), and the caller refuses to format rather than guess.
type Printed = Result<(), String>;

/// Prints a whole parsed file in the canonical layout.
pub(crate) fn print_file(
    source: &str,
    tokens: &[Token],
    parsed: &ParsedFile,
) -> Result<String, String> {
    let mut printer = Printer::new(source, tokens);
    for (offset, item) in &parsed.items {
        printer.offset = *offset;
        printer.item(item)?;
    }
    printer.flush_comments(0, true);
    if let Some(token) = printer.tokens.get(printer.next) {
        return Err(format!(
            "token {:?} at byte {} was not printed",
            token.kind, token.span.start
        ));
    }
    Ok(printer.finish())
}

/// How the elements of a broken group are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// Elements stay in the rows the author wrote them in.
    Kept,
    /// One element per line (schema fields and enum variants, which carry
    /// doc comments).
    OnePerLine,
}

/// How a group's brackets are written when it is flat.
#[derive(Debug, Clone, Copy)]
struct Brackets {
    open: TokenKind,
    close: TokenKind,
    /// `{ a, b }` rather than `{a, b}`.
    padded: bool,
}

const PARENS: Brackets = Brackets {
    open: TokenKind::LParen,
    close: TokenKind::RParen,
    padded: false,
};
const SQUARE: Brackets = Brackets {
    open: TokenKind::LBracket,
    close: TokenKind::RBracket,
    padded: false,
};
const BRACES: Brackets = Brackets {
    open: TokenKind::LBrace,
    close: TokenKind::RBrace,
    padded: true,
};

struct Printer<'s> {
    src: &'s str,
    /// Every token of the file, comments included.
    tokens: &'s [Token],
    /// Commas the printer replaced with its own.
    skipped: Vec<bool>,
    /// The next token to print.
    next: usize,
    /// Where the last printed code token ends in the source.
    last_code_end: usize,
    out: String,
    /// The indentation of the current output line.
    indent: usize,
    /// Nothing is written on the current line yet.
    line_empty: bool,
    /// A space is due before the next text on this line.
    space: bool,
    /// A line comment ended the line: the next token starts a new one.
    must_break: bool,
    /// Right after an opening bracket or the start of the file, where a
    /// blank line is never kept.
    fresh: bool,
    /// The indentation of continuation lines of the expression being printed.
    cont: usize,
    /// The current item's offset in the file (its AST spans are relative).
    offset: u32,
}

impl<'s> Printer<'s> {
    fn new(src: &'s str, tokens: &'s [Token]) -> Printer<'s> {
        Printer {
            src,
            tokens,
            skipped: vec![false; tokens.len()],
            next: 0,
            last_code_end: 0,
            out: String::with_capacity(src.len() + src.len() / 8),
            indent: 0,
            line_empty: true,
            space: false,
            must_break: false,
            fresh: true,
            cont: INDENT,
            offset: 0,
        }
    }

    fn finish(mut self) -> String {
        if !self.line_empty {
            self.out.push('\n');
        }
        self.out
    }

    // ------------------------------------------------------------ positions

    /// A position of the current item's AST as a position in the file.
    fn abs(&self, position: u32) -> usize {
        position.saturating_add(self.offset) as usize
    }

    /// The number of line breaks in the source between two positions.
    fn newlines(&self, from: usize, to: usize) -> usize {
        self.src
            .get(from..to)
            .map_or(0, |gap| gap.bytes().filter(|b| *b == b'\n').count())
    }

    fn has_newline(&self, from: usize, to: usize) -> bool {
        self.newlines(from, to) > 0
    }

    /// The index of the next code token still to print.
    fn next_code(&self) -> Option<usize> {
        (self.next..self.tokens.len())
            .find(|&i| !self.skipped[i] && !self.tokens[i].kind.is_comment())
    }

    fn peek_kind(&self) -> Option<TokenKind> {
        self.next_code().map(|i| self.tokens[i].kind)
    }

    /// Whether the source breaks the line between the last printed token
    /// and the next one.
    fn newline_before_next(&self) -> bool {
        self.next_code().is_some_and(|i| {
            self.has_newline(self.last_code_end, self.tokens[i].span.start as usize)
        })
    }

    /// The closing bracket that matches the opening one at `open`.
    fn matching(&self, open: usize) -> Option<usize> {
        let mut depth = 0usize;
        for (i, token) in self.tokens.iter().enumerate().skip(open) {
            match token.kind {
                TokenKind::LParen
                | TokenKind::LBracket
                | TokenKind::LBrace
                | TokenKind::QuestionBracket => depth += 1,
                TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => {
                    depth = depth.checked_sub(1)?;
                    if depth == 0 {
                        return Some(i);
                    }
                }
                _ => {}
            }
        }
        None
    }

    // ------------------------------------------------------------ output

    /// Writes text on the current line, after its indentation or a space.
    fn write(&mut self, text: &str) {
        if self.must_break {
            self.newline(self.cont, false);
        }
        if self.line_empty {
            self.out.extend(std::iter::repeat_n(' ', self.indent));
            self.line_empty = false;
        } else if self.space {
            self.out.push(' ');
        }
        self.space = false;
        self.fresh = false;
        self.out.push_str(text);
    }

    /// Ends the current line (if anything is on it) and starts one at
    /// `indent`, after one blank line when `blank` asks for it.
    fn newline(&mut self, indent: usize, blank: bool) {
        if !self.line_empty {
            self.out.push('\n');
            self.line_empty = true;
        }
        if blank && !self.fresh && !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
        self.indent = indent;
        self.space = false;
        self.must_break = false;
    }

    /// The column (in characters) where the current line's text ends.
    fn column(&self) -> usize {
        if self.line_empty {
            return self.indent;
        }
        let start = self.out.rfind('\n').map_or(0, |i| i + 1);
        self.out[start..].chars().count()
    }

    fn space(&mut self) {
        self.space = true;
    }

    /// Writes the comments before the next code token. One that followed a
    /// token on its line stays at the end of the current line; the others
    /// go on lines of their own at `indent`, after a blank line where the
    /// source had one (when `blank_ok`).
    fn flush_comments(&mut self, indent: usize, blank_ok: bool) {
        while let Some(&token) = self.tokens.get(self.next) {
            if self.skipped[self.next] {
                self.next += 1;
                continue;
            }
            if !token.kind.is_comment() {
                break;
            }
            let breaks = match self.next.checked_sub(1).and_then(|i| self.tokens.get(i)) {
                Some(previous) => {
                    self.newlines(previous.span.end as usize, token.span.start as usize)
                }
                None => 1,
            };
            let text = self
                .src
                .get(token.span.range())
                .unwrap_or_default()
                .trim_end();
            if breaks == 0 && !self.line_empty {
                self.space = true;
            } else {
                // A doc comment belongs to the item below only when it
                // stands in column 0; one that did not stays indented, so
                // formatting attaches no doc comment that was not attached.
                let start = token.span.start as usize;
                let column_zero = start == 0 || self.src.as_bytes().get(start - 1) == Some(&b'\n');
                let indent = if indent == 0 && token.kind == TokenKind::DocComment && !column_zero {
                    INDENT
                } else {
                    indent
                };
                self.newline(indent, blank_ok && breaks >= 2);
            }
            self.write(text);
            self.must_break = true;
            self.next += 1;
        }
    }

    /// Starts a new line at `indent` for the next code token, after the
    /// comments before it; keeps one blank line where the source had any
    /// (when `blank_ok`).
    fn line(&mut self, indent: usize, blank_ok: bool) {
        self.flush_comments(indent, blank_ok);
        let blank = blank_ok
            && match (self.next.checked_sub(1), self.tokens.get(self.next)) {
                (Some(previous), Some(next)) => {
                    self.newlines(
                        self.tokens[previous].span.end as usize,
                        next.span.start as usize,
                    ) >= 2
                }
                _ => false,
            };
        self.newline(indent, blank);
    }

    /// A place where a line may break: a continuation line where the
    /// source breaks, else a space.
    fn soft(&mut self) {
        if self.newline_before_next() {
            self.line(self.cont, false);
        } else {
            self.space();
        }
    }

    /// Like [`Printer::soft`], with nothing between the tokens when the
    /// line does not break (before `.name`).
    fn soft_tight(&mut self) {
        if self.newline_before_next() {
            self.line(self.cont, false);
        }
    }

    // ------------------------------------------------------------ tokens

    /// Prints the next token, which must satisfy `expected`.
    fn take(&mut self, expected: impl Fn(TokenKind) -> bool, what: &str) -> Printed {
        self.flush_comments(self.cont, false);
        let Some(&token) = self.tokens.get(self.next) else {
            return Err(format!("expected {what}, found the end of the file"));
        };
        if !expected(token.kind) {
            return Err(format!(
                "expected {what}, found {:?} at byte {}",
                token.kind, token.span.start
            ));
        }
        let text = self
            .src
            .get(token.span.range())
            .ok_or_else(|| "a token lies outside the source".to_string())?;
        self.write(text);
        self.next += 1;
        self.last_code_end = token.span.end as usize;
        Ok(())
    }

    fn kw(&mut self, kind: TokenKind) -> Printed {
        self.take(|k| k == kind, &format!("{kind:?}"))
    }

    /// A name; field names and some positions accept keywords too.
    fn name(&mut self) -> Printed {
        self.take(|k| k == TokenKind::Ident || k.is_keyword(), "a name")
    }

    fn string(&mut self) -> Printed {
        self.take(
            |k| matches!(k, TokenKind::String | TokenKind::RawString),
            "a string",
        )
    }

    /// Prints every token of a literal (`-5` is two tokens).
    fn leaf(&mut self, span: Span) -> Printed {
        let end = self.abs(span.end);
        let mut printed = false;
        while let Some(i) = self.next_code() {
            if self.tokens[i].span.start as usize >= end {
                break;
            }
            self.take(|_| true, "a literal")?;
            printed = true;
        }
        if printed {
            Ok(())
        } else {
            Err(format!("no token for the literal at byte {}", span.start))
        }
    }

    /// Drops the source's comma before the next code token, if it has one.
    fn skip_comma(&mut self) {
        if let Some(i) = self.next_code()
            && self.tokens[i].kind == TokenKind::Comma
        {
            self.skipped[i] = true;
        }
    }

    /// Writes the layout's comma right after the element just printed, in
    /// place of the source's (which may have stood after a comment).
    fn comma(&mut self) {
        self.skip_comma();
        self.space = false;
        self.write(",");
    }

    // ------------------------------------------------------------ structure

    /// A bracketed, comma-separated group; `range` gives an element's first
    /// and last byte (relative to the item).
    fn group<T>(
        &mut self,
        brackets: Brackets,
        rows: Rows,
        elements: &[T],
        range: impl Fn(&T) -> (u32, u32),
        mut print: impl FnMut(&mut Self, &T) -> Printed,
    ) -> Printed {
        let open = self
            .next_code()
            .ok_or_else(|| "expected an opening bracket".to_string())?;
        let close = self.matching(open).ok_or_else(|| {
            format!(
                "unbalanced bracket at byte {}",
                self.tokens[open].span.start
            )
        })?;
        let open_end = self.tokens[open].span.end as usize;
        let close_start = self.tokens[close].span.start as usize;
        let bounds: Vec<(usize, usize)> = elements
            .iter()
            .map(|e| {
                let (start, end) = range(e);
                (self.abs(start), self.abs(end))
            })
            .collect();
        let mut new_row = vec![false; bounds.len()];
        let opened = match (bounds.first(), bounds.last()) {
            (Some(first), Some(last)) => {
                self.has_newline(open_end, first.0) || self.has_newline(last.1, close_start)
            }
            // An empty group stays `{}` unless comments stand inside it.
            _ => self.tokens[open + 1..close]
                .iter()
                .any(|t| t.kind.is_comment()),
        };
        let mut rows_broken = false;
        for i in 1..bounds.len() {
            new_row[i] = self.has_newline(bounds[i - 1].1, bounds[i].0);
            rows_broken |= new_row[i];
        }
        // Rows with the brackets hugging the first and last element hang:
        // the later rows line up with the first element.
        let hanging = !opened && rows_broken && rows == Rows::Kept;
        let broken = opened || rows_broken;

        self.kw(brackets.open)?;
        if !broken || hanging {
            let padded = brackets.padded && !elements.is_empty();
            if padded {
                self.space();
            }
            let column = self.column() + usize::from(self.space);
            let saved = self.cont;
            for (i, element) in elements.iter().enumerate() {
                if i > 0 {
                    self.comma();
                    if new_row[i] {
                        self.line(column, true);
                    } else {
                        self.space();
                    }
                }
                if hanging {
                    self.cont = column + INDENT;
                }
                print(self, element)?;
            }
            self.cont = saved;
            self.skip_comma();
            if padded {
                self.space();
            }
            return self.kw(brackets.close);
        }

        let base = self.indent;
        let inner = base + INDENT;
        let saved = self.cont;
        self.fresh = true;
        for (i, element) in elements.iter().enumerate() {
            if i == 0 || new_row[i] || rows == Rows::OnePerLine {
                self.line(inner, true);
            } else {
                self.space();
            }
            self.cont = inner + INDENT;
            print(self, element)?;
            self.comma();
        }
        self.cont = saved;
        self.flush_comments(inner, true);
        self.newline(base, false);
        self.kw(brackets.close)
    }

    /// A `{ ... }` block of statements, one per line.
    /// `base` is the indentation of the statement or item that owns it.
    fn block<T>(
        &mut self,
        base: usize,
        statements: &[T],
        mut print: impl FnMut(&mut Self, &T) -> Printed,
    ) -> Printed {
        self.kw(TokenKind::LBrace)?;
        let commented = self.next_code() != Some(self.next);
        if statements.is_empty() && !commented {
            return self.kw(TokenKind::RBrace);
        }
        let saved = self.cont;
        self.fresh = true;
        for statement in statements {
            self.line(base + INDENT, true);
            self.cont = base + 2 * INDENT;
            print(self, statement)?;
        }
        self.cont = saved;
        self.flush_comments(base + INDENT, true);
        self.newline(base, false);
        self.kw(TokenKind::RBrace)
    }

    // ------------------------------------------------------------ items

    fn item(&mut self, item: &Item) -> Printed {
        self.line(0, true);
        self.cont = INDENT;
        match &item.kind {
            ItemKind::Package(path) => {
                self.kw(TokenKind::KwPackage)?;
                self.space();
                self.path(path)
            }
            ItemKind::Import(import) => {
                self.kw(TokenKind::KwImport)?;
                self.space();
                self.path(&import.path)?;
                if import.alias.is_some() {
                    self.space();
                    self.kw(TokenKind::KwAs)?;
                    self.space();
                    self.name()?;
                }
                Ok(())
            }
            ItemKind::Schema(schema) => {
                self.kw(TokenKind::KwSchema)?;
                self.space();
                self.name()?;
                self.space();
                self.group(
                    BRACES,
                    Rows::OnePerLine,
                    &schema.fields,
                    |f| (f.span.start, f.span.end),
                    |p, f| {
                        p.name()?;
                        p.kw(TokenKind::Colon)?;
                        p.space();
                        p.ty(&f.ty)
                    },
                )
            }
            ItemKind::Enum(enumeration) => {
                self.kw(TokenKind::KwEnum)?;
                self.space();
                self.name()?;
                self.space();
                self.group(
                    BRACES,
                    Rows::OnePerLine,
                    &enumeration.variants,
                    |v| (v.name.span.start, v.name.span.end),
                    |p, _| p.name(),
                )
            }
            ItemKind::Let(binding) => self.binding(TokenKind::KwLet, binding),
            ItemKind::Param(binding) => self.binding(TokenKind::KwParam, binding),
            ItemKind::ParamOverride(set) => {
                self.kw(TokenKind::KwParam)?;
                self.space();
                self.path(&set.target)?;
                self.space();
                self.kw(TokenKind::Eq)?;
                self.soft();
                self.expr(&set.value)
            }
            ItemKind::Policy(policy) => {
                self.kw(TokenKind::KwPolicy)?;
                self.space();
                self.name()?;
                self.group(
                    PARENS,
                    Rows::Kept,
                    &policy.params,
                    |p| (p.name.span.start, p.ty.span.end),
                    |p, param| {
                        p.name()?;
                        p.kw(TokenKind::Colon)?;
                        p.space();
                        p.ty(&param.ty)
                    },
                )?;
                self.space();
                self.kw(TokenKind::Arrow)?;
                self.space();
                self.ty(&policy.ret)?;
                self.space();
                self.block(0, &policy.body, |p, statement| match statement {
                    PolicyStmt::Let(binding) => p.binding(TokenKind::KwLet, binding),
                    PolicyStmt::Rule(rule) => p.rule(rule),
                })
            }
            ItemKind::Test(test) => {
                self.kw(TokenKind::KwTest)?;
                self.space();
                self.string()?;
                self.space();
                self.block(0, &test.body, Printer::test_stmt)
            }
        }
    }

    fn path(&mut self, path: &Path) -> Printed {
        for i in 0..path.segments.len() {
            if i > 0 {
                self.kw(TokenKind::Dot)?;
            }
            self.name()?;
        }
        Ok(())
    }

    fn ty(&mut self, ty: &TypeExpr) -> Printed {
        match &ty.kind {
            TypeExprKind::Named(path) => self.path(path),
            TypeExprKind::List(inner) | TypeExprKind::Set(inner) => {
                self.name()?;
                self.kw(TokenKind::Lt)?;
                self.ty(inner)?;
                self.kw(TokenKind::Gt)
            }
            TypeExprKind::Map(key, value) => {
                self.name()?;
                self.kw(TokenKind::Lt)?;
                self.ty(key)?;
                self.kw(TokenKind::Comma)?;
                self.space();
                self.ty(value)?;
                self.kw(TokenKind::Gt)
            }
            TypeExprKind::Optional(inner) => {
                self.ty(inner)?;
                self.kw(TokenKind::Question)
            }
        }
    }

    /// `let` or `param`: `keyword name[: T] = value`.
    fn binding(&mut self, keyword: TokenKind, binding: &Binding) -> Printed {
        self.kw(keyword)?;
        self.space();
        self.name()?;
        if let Some(ty) = &binding.ty {
            self.kw(TokenKind::Colon)?;
            self.space();
            self.ty(ty)?;
        }
        self.space();
        self.kw(TokenKind::Eq)?;
        self.soft();
        self.expr(&binding.value)
    }

    fn rule(&mut self, rule: &Rule) -> Printed {
        let indent = self.indent;
        // Attributes, above the rule or before it on its line, as written.
        while self.peek_kind() == Some(TokenKind::At) {
            self.kw(TokenKind::At)?;
            self.name()?;
            self.kw(TokenKind::LParen)?;
            self.string()?;
            self.kw(TokenKind::RParen)?;
            if self.newline_before_next() {
                self.line(indent, false);
            } else {
                self.space();
            }
        }
        match &rule.kind {
            RuleKind::Allow | RuleKind::Deny | RuleKind::RequireApproval => {
                self.name()?;
                self.space();
                self.string()?;
            }
            RuleKind::Redact { target } => {
                self.kw(TokenKind::KwRedact)?;
                self.space();
                self.string()?;
                self.soft();
                self.name()?;
                self.space();
                self.expr(target)?;
            }
            RuleKind::Alert { .. } => {
                self.kw(TokenKind::KwAlert)?;
                self.space();
                self.name()?;
                self.space();
                self.string()?;
            }
            RuleKind::Return { value } => {
                self.kw(TokenKind::KwReturn)?;
                self.space();
                self.expr(value)?;
                self.soft();
                self.string()?;
            }
            RuleKind::Keep { collection, .. } => {
                self.kw(TokenKind::KwKeep)?;
                self.space();
                self.name()?;
                self.space();
                self.kw(TokenKind::KwIn)?;
                self.space();
                self.expr(collection)?;
                self.soft();
                self.string()?;
            }
            RuleKind::DefaultEffect(_) => {
                self.kw(TokenKind::KwDefault)?;
                self.space();
                self.name()?;
                self.space();
                self.string()?;
            }
            RuleKind::DefaultValue(value) => {
                self.kw(TokenKind::KwDefault)?;
                self.space();
                self.expr(value)?;
                self.soft();
                self.string()?;
            }
        }
        if let Some(condition) = &rule.when {
            let saved = self.cont;
            // `when` on a line of its own is a continuation of the rule; the
            // condition's own continuations go one level deeper.
            if self.newline_before_next() {
                self.line(indent + INDENT, false);
                self.cont = indent + 2 * INDENT;
            } else {
                self.space();
            }
            self.kw(TokenKind::KwWhen)?;
            self.space();
            self.expr(condition)?;
            self.cont = saved;
        }
        if let RuleKind::Keep {
            limit: Some(limit), ..
        } = &rule.kind
        {
            self.soft();
            self.name()?;
            self.space();
            self.expr(limit)?;
        }
        Ok(())
    }

    fn test_stmt(&mut self, statement: &TestStmt) -> Printed {
        let indent = self.indent;
        match statement {
            TestStmt::Let(binding) => self.binding(TokenKind::KwLet, binding),
            TestStmt::Expect(condition) => {
                self.kw(TokenKind::KwExpect)?;
                self.space();
                self.expr(condition)
            }
            TestStmt::For { cases, body, .. } => {
                self.kw(TokenKind::KwFor)?;
                self.space();
                self.name()?;
                self.space();
                self.kw(TokenKind::KwIn)?;
                self.space();
                self.expr(cases)?;
                self.space();
                self.block(indent, body, Printer::test_stmt)
            }
            TestStmt::With { bindings, body, .. } => {
                self.kw(TokenKind::KwWith)?;
                self.space();
                // Bindings on several lines line up with the first one.
                let column = self.column() + 1;
                let saved = self.cont;
                for (i, (path, value)) in bindings.iter().enumerate() {
                    if i > 0 {
                        self.kw(TokenKind::Comma)?;
                        if self.newline_before_next() {
                            self.line(column, false);
                        } else {
                            self.space();
                        }
                    }
                    self.cont = column + INDENT;
                    self.path(path)?;
                    self.space();
                    self.kw(TokenKind::Eq)?;
                    self.soft();
                    self.expr(value)?;
                }
                self.cont = saved;
                self.space();
                self.block(indent, body, Printer::test_stmt)
            }
        }
    }

    // ------------------------------------------------------------ expressions

    fn expr(&mut self, expr: &Expr) -> Printed {
        match &expr.kind {
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Float(_)
            | ExprKind::Str(_)
            | ExprKind::Duration(_)
            | ExprKind::Timestamp(_)
            | ExprKind::None
            | ExprKind::Now
            | ExprKind::Name(_) => self.leaf(expr.span),
            ExprKind::List(elements) => self.group(
                SQUARE,
                Rows::Kept,
                elements,
                |e| (e.span.start, e.span.end),
                Printer::expr,
            ),
            ExprKind::Set(elements) => self.group(
                BRACES,
                Rows::Kept,
                elements,
                |e| (e.span.start, e.span.end),
                Printer::expr,
            ),
            ExprKind::Map(entries) => self.group(
                BRACES,
                Rows::Kept,
                entries,
                |(key, value)| (key.span.start, value.span.end),
                |p, (_, value)| {
                    p.string()?;
                    p.kw(TokenKind::Colon)?;
                    p.space();
                    p.expr(value)
                },
            ),
            ExprKind::Record(entries) => self.group(
                BRACES,
                Rows::Kept,
                entries,
                |(name, value)| (name.span.start, value.span.end),
                |p, (_, value)| {
                    p.name()?;
                    p.kw(TokenKind::Colon)?;
                    p.space();
                    p.expr(value)
                },
            ),
            ExprKind::EmptyBraces => self.group(
                BRACES,
                Rows::Kept,
                &[] as &[Expr],
                |e| (e.span.start, e.span.end),
                Printer::expr,
            ),
            ExprKind::Field { base, .. } => {
                self.expr(base)?;
                self.soft_tight();
                self.take(
                    |k| matches!(k, TokenKind::Dot | TokenKind::QuestionDot),
                    "`.` or `?.`",
                )?;
                self.name()
            }
            ExprKind::Index { base, index, .. } => {
                self.expr(base)?;
                self.take(
                    |k| matches!(k, TokenKind::LBracket | TokenKind::QuestionBracket),
                    "`[` or `?[`",
                )?;
                self.expr(index)?;
                self.kw(TokenKind::RBracket)
            }
            ExprKind::Call { callee, args } => {
                self.expr(callee)?;
                self.group(
                    PARENS,
                    Rows::Kept,
                    args,
                    |e| (e.span.start, e.span.end),
                    Printer::expr,
                )
            }
            ExprKind::Unary { op, operand, .. } => {
                match op {
                    UnaryOp::Not => {
                        self.kw(TokenKind::KwNot)?;
                        self.space();
                    }
                    UnaryOp::Neg => self.kw(TokenKind::Minus)?,
                }
                self.expr(operand)
            }
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => {
                self.expr(lhs)?;
                // A line break on either side of the operator puts the
                // operator at the start of a continuation line.
                let before = self.has_newline(self.abs(lhs.span.end), self.abs(op_span.start));
                let after = self.has_newline(self.abs(op_span.end), self.abs(rhs.span.start));
                if before || after {
                    self.line(self.cont, false);
                } else {
                    self.space();
                }
                match op {
                    BinaryOp::NotIn => {
                        self.kw(TokenKind::KwNot)?;
                        self.space();
                        self.kw(TokenKind::KwIn)?;
                    }
                    _ => self.kw(operator_token(*op))?,
                }
                self.space();
                self.expr(rhs)
            }
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.kw(TokenKind::KwIf)?;
                self.space();
                self.expr(cond)?;
                self.soft();
                self.kw(TokenKind::KwThen)?;
                self.space();
                self.expr(then)?;
                self.soft();
                self.kw(TokenKind::KwElse)?;
                self.space();
                self.expr(otherwise)
            }
            ExprKind::Quant {
                vars,
                collection,
                body,
                ..
            } => {
                self.name()?;
                self.space();
                for i in 0..vars.len() {
                    if i > 0 {
                        self.kw(TokenKind::Comma)?;
                        self.space();
                    }
                    self.name()?;
                }
                self.space();
                self.kw(TokenKind::KwIn)?;
                self.soft();
                self.expr(collection)?;
                self.soft_tight();
                self.kw(TokenKind::Colon)?;
                self.soft();
                self.expr(body)
            }
            ExprKind::Paren(inner) => {
                self.kw(TokenKind::LParen)?;
                self.expr(inner)?;
                self.kw(TokenKind::RParen)
            }
        }
    }
}

/// The token of a one-token binary operator.
fn operator_token(op: BinaryOp) -> TokenKind {
    match op {
        BinaryOp::Or => TokenKind::KwOr,
        BinaryOp::And => TokenKind::KwAnd,
        BinaryOp::Eq => TokenKind::EqEq,
        BinaryOp::Ne => TokenKind::NotEq,
        BinaryOp::Lt => TokenKind::Lt,
        BinaryOp::Le => TokenKind::LtEq,
        BinaryOp::Gt => TokenKind::Gt,
        BinaryOp::Ge => TokenKind::GtEq,
        BinaryOp::In | BinaryOp::NotIn => TokenKind::KwIn,
        BinaryOp::Coalesce => TokenKind::QuestionQuestion,
        BinaryOp::Add => TokenKind::Plus,
        BinaryOp::Sub => TokenKind::Minus,
        BinaryOp::Mul => TokenKind::Star,
        BinaryOp::Div => TokenKind::Slash,
        BinaryOp::Rem => TokenKind::Percent,
    }
}
