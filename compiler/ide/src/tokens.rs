//! Semantic tokens: the lexer's tokens, with names classified by what the
//! checker resolved them to.

use std::collections::{HashMap, HashSet};

use pol_sema::{Def, Target};
use pol_syntax::Span;
use pol_syntax::lexer::TokenKind;

use crate::Analysis;

/// The kinds of semantic token (the server's legend lists them in this
/// order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenType {
    /// A keyword.
    Keyword,
    /// A builtin type (`int`, `Decision`, ...).
    Type,
    /// A schema.
    Struct,
    /// An enum.
    Enum,
    /// An enum variant.
    EnumMember,
    /// A schema field or record member.
    Property,
    /// A policy or builtin function.
    Function,
    /// A method.
    Method,
    /// A let, param or local.
    Variable,
    /// A policy's input.
    Parameter,
    /// An imported package or module.
    Namespace,
    /// A string literal.
    String,
    /// A number, duration or timestamp literal.
    Number,
    /// A comment.
    Comment,
    /// An operator.
    Operator,
    /// An attribute (`@id`).
    Decorator,
}

impl TokenType {
    /// Every type, in legend order.
    pub const ALL: [TokenType; 16] = [
        TokenType::Keyword,
        TokenType::Type,
        TokenType::Struct,
        TokenType::Enum,
        TokenType::EnumMember,
        TokenType::Property,
        TokenType::Function,
        TokenType::Method,
        TokenType::Variable,
        TokenType::Parameter,
        TokenType::Namespace,
        TokenType::String,
        TokenType::Number,
        TokenType::Comment,
        TokenType::Operator,
        TokenType::Decorator,
    ];
}

/// Modifiers of a semantic token (bit positions in legend order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenModifier {
    /// Where the name is defined.
    Declaration = 0,
    /// A doc comment.
    Documentation = 1,
    /// A `let` (constant) or a param.
    Readonly = 2,
    /// Defined by the embedded standard library or a builtin.
    DefaultLibrary = 3,
}

impl TokenModifier {
    /// Every modifier, in legend order.
    pub const ALL: [TokenModifier; 4] = [
        TokenModifier::Declaration,
        TokenModifier::Documentation,
        TokenModifier::Readonly,
        TokenModifier::DefaultLibrary,
    ];
}

/// One classified token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemanticToken {
    /// Where (one line: comments and strings never span lines).
    pub span: Span,
    /// What it is.
    pub ty: TokenType,
    /// A bit set of [`TokenModifier`]s.
    pub modifiers: u32,
}

const PRIMITIVES: &[&str] = &[
    "bool",
    "int",
    "float",
    "string",
    "duration",
    "timestamp",
    "Decision",
    "Finding",
    "list",
    "set",
    "map",
];

impl<'db> Analysis<'db> {
    /// Every token of the file worth colouring, in order.
    pub fn semantic_tokens(&self, path: &str) -> Vec<SemanticToken> {
        let Some(text) = self.text(path) else {
            return Vec::new();
        };
        let checked = self.checked();
        let file = crate::file_index(checked, path);
        // What each name resolved to, and which names are definitions.
        let mut names: HashMap<(u32, u32), (TokenType, u32)> = HashMap::new();
        if let Some(file) = file {
            let std_bit = |def_file: usize| {
                if checked
                    .program
                    .files
                    .get(def_file)
                    .is_some_and(|f| f.embedded)
                {
                    1 << TokenModifier::DefaultLibrary as u32
                } else {
                    0
                }
            };
            let mut inputs = HashSet::new();
            for (offset, item) in &checked.program.files[file].syntax.items {
                if let pol_syntax::ast::ItemKind::Policy(policy) = &item.kind {
                    for param in &policy.params {
                        let span = param.name.span.shifted(*offset);
                        inputs.insert((span.start, span.end));
                    }
                }
            }
            for r in checked.references.get(file).into_iter().flatten() {
                let (ty, mods) = classify(r.target, &inputs, r.definition);
                names.insert(
                    (r.used.start, r.used.end),
                    (ty, mods | std_bit(r.definition_file)),
                );
            }
            let decl = 1 << TokenModifier::Declaration as u32;
            let p = &checked.program;
            let mut declare = |span: Span, ty: TokenType, mods: u32| {
                names.insert((span.start, span.end), (ty, mods | decl));
            };
            for s in p.schemas.iter().filter(|s| s.origin.file == file) {
                declare(s.origin.name_span, TokenType::Struct, 0);
                for f in &s.fields {
                    declare(f.span, TokenType::Property, 0);
                }
            }
            for e in p.enums.iter().filter(|e| e.origin.file == file) {
                declare(e.origin.name_span, TokenType::Enum, 0);
                for (_, span) in &e.variants {
                    declare(*span, TokenType::EnumMember, 0);
                }
            }
            let readonly = 1 << TokenModifier::Readonly as u32;
            for l in p.lets.iter().filter(|l| l.origin.file == file) {
                declare(l.origin.name_span, TokenType::Variable, readonly);
            }
            for l in p.params.iter().filter(|l| l.origin.file == file) {
                declare(l.origin.name_span, TokenType::Variable, readonly);
            }
            for l in p.policies.iter().filter(|l| l.origin.file == file) {
                declare(l.origin.name_span, TokenType::Function, 0);
            }
            for (offset, item) in &p.files[file].syntax.items {
                for span in crate::nav::binding_names(item) {
                    let span = span.shifted(*offset);
                    let ty = if inputs.contains(&(span.start, span.end)) {
                        TokenType::Parameter
                    } else {
                        TokenType::Variable
                    };
                    names.entry((span.start, span.end)).or_insert((ty, decl));
                }
            }
        }
        let imports: HashSet<&str> = file
            .and_then(|f| checked.program.files.get(f))
            .map(|f| f.scope.imports.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let tokens = crate::lex(text);
        let mut out = Vec::with_capacity(tokens.len());
        // The keyword of the item being read: in `package` and `import`
        // lines every name is part of a package path.
        let mut item_keyword = TokenKind::Error;
        for (i, t) in tokens.iter().enumerate() {
            if t.kind.starts_item()
                && (t.span.start == 0
                    || text.as_bytes().get(t.span.start as usize - 1) == Some(&b'\n'))
            {
                item_keyword = t.kind;
            }
            let prev = i.checked_sub(1).and_then(|p| tokens.get(p)).map(|t| t.kind);
            let next = tokens.get(i + 1).map(|t| t.kind);
            let (ty, modifiers) = match t.kind {
                TokenKind::DocComment => {
                    (TokenType::Comment, 1 << TokenModifier::Documentation as u32)
                }
                TokenKind::LineComment => (TokenType::Comment, 0),
                TokenKind::String | TokenKind::RawString => (TokenType::String, 0),
                TokenKind::Int | TokenKind::Float | TokenKind::Duration | TokenKind::Timestamp => {
                    (TokenType::Number, 0)
                }
                TokenKind::At => (TokenType::Decorator, 0),
                k if k.is_keyword() => (TokenType::Keyword, 0),
                TokenKind::Ident => {
                    if let Some(found) = names.get(&(t.span.start, t.span.end)) {
                        *found
                    } else {
                        let word = text.get(t.span.range()).unwrap_or("");
                        if matches!(item_keyword, TokenKind::KwPackage | TokenKind::KwImport)
                            || (imports.contains(word) && next == Some(TokenKind::Dot))
                        {
                            (TokenType::Namespace, 0)
                        } else if prev == Some(TokenKind::At) {
                            (TokenType::Decorator, 0)
                        } else if PRIMITIVES.contains(&word)
                            && matches!(
                                prev,
                                Some(
                                    TokenKind::Colon
                                        | TokenKind::Arrow
                                        | TokenKind::Lt
                                        | TokenKind::Comma
                                )
                            )
                            && word != "map"
                            || (matches!(word, "list" | "set" | "map")
                                && next == Some(TokenKind::Lt))
                            || (matches!(word, "Decision" | "Finding")
                                && prev == Some(TokenKind::Arrow))
                        {
                            (TokenType::Type, 0)
                        } else if matches!(prev, Some(TokenKind::Dot | TokenKind::QuestionDot))
                            && next == Some(TokenKind::LParen)
                        {
                            (TokenType::Method, 1 << TokenModifier::DefaultLibrary as u32)
                        } else if (matches!(word, "any" | "all" | "count" | "filter" | "map")
                            && next == Some(TokenKind::Ident))
                            || matches!(word, "of" | "limit")
                            || (prev == Some(TokenKind::KwAlert)
                                && matches!(word, "info" | "low" | "medium" | "high" | "critical"))
                        {
                            (TokenType::Keyword, 0)
                        } else if matches!(prev, Some(TokenKind::Dot | TokenKind::QuestionDot)) {
                            (TokenType::Property, 0)
                        } else {
                            continue;
                        }
                    }
                }
                TokenKind::EqEq
                | TokenKind::NotEq
                | TokenKind::Lt
                | TokenKind::LtEq
                | TokenKind::Gt
                | TokenKind::GtEq
                | TokenKind::Plus
                | TokenKind::Minus
                | TokenKind::Star
                | TokenKind::Slash
                | TokenKind::Percent
                | TokenKind::QuestionQuestion => (TokenType::Operator, 0),
                _ => continue,
            };
            out.push(SemanticToken {
                span: t.span,
                ty,
                modifiers,
            });
        }
        out
    }
}

/// The token type of a resolved name; `inputs` holds the policy inputs'
/// binding spans.
fn classify(target: Target, inputs: &HashSet<(u32, u32)>, definition: Span) -> (TokenType, u32) {
    let readonly = 1 << TokenModifier::Readonly as u32;
    match target {
        Target::Local if inputs.contains(&(definition.start, definition.end)) => {
            (TokenType::Parameter, 0)
        }
        Target::Local => (TokenType::Variable, 0),
        Target::Import => (TokenType::Namespace, 0),
        Target::Def(Def::Schema(_)) => (TokenType::Struct, 0),
        Target::Def(Def::Enum(_)) => (TokenType::Enum, 0),
        Target::Def(Def::Let(_) | Def::Param(_)) => (TokenType::Variable, readonly),
        Target::Def(Def::Policy(_)) => (TokenType::Function, 0),
        Target::Variant(..) => (TokenType::EnumMember, 0),
        Target::Field(..) => (TokenType::Property, 0),
    }
}
