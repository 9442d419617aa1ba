//! Document symbols, workspace symbols and folding ranges.

use pol_syntax::lexer::TokenKind;
use pol_syntax::{Span, ast};

use crate::Analysis;

/// The kinds of symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SymbolKind {
    /// The `package` line.
    Package,
    /// An import.
    Module,
    /// A schema.
    Struct,
    /// A schema field.
    Field,
    /// An enum.
    Enum,
    /// An enum variant.
    EnumMember,
    /// A top-level `let`.
    Constant,
    /// A `param`.
    Variable,
    /// A policy.
    Function,
    /// A rule of a policy.
    Event,
    /// A test.
    Method,
}

/// A named thing in a file, with what it contains.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    /// Its name.
    pub name: String,
    /// A type or signature.
    pub detail: Option<String>,
    /// What it is.
    pub kind: SymbolKind,
    /// The file it is in.
    pub path: String,
    /// The whole item (or field, variant, rule).
    pub span: Span,
    /// Its name.
    pub selection: Span,
    /// Fields, variants, rules.
    pub children: Vec<Symbol>,
    /// The package it belongs to (for workspace symbols).
    pub container: Option<String>,
}

/// What a folding range folds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldKind {
    /// An item's body.
    Region,
    /// A run of comments.
    Comment,
    /// A run of imports.
    Imports,
}

/// A foldable range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fold {
    /// From the first to the last byte folded.
    pub span: Span,
    /// What it is.
    pub kind: FoldKind,
}

impl<'db> Analysis<'db> {
    /// The file's items as a tree: schemas with fields, enums with
    /// variants, policies with rules.
    pub fn document_symbols(&self, path: &str) -> Vec<Symbol> {
        let Some(source) = self.source(path) else {
            return Vec::new();
        };
        let syntax = pol_sema::file_syntax(self.db, source);
        let package = syntax.package().map(ast::Path::dotted);
        let mut out = Vec::new();
        for (offset, item) in &syntax.items {
            let span = item.span.shifted(*offset);
            let mk = |name: String, kind, selection: Span, detail: Option<String>| Symbol {
                name,
                detail,
                kind,
                path: path.to_string(),
                span,
                selection: selection.shifted(*offset),
                children: Vec::new(),
                container: package.clone(),
            };
            let symbol = match &item.kind {
                ast::ItemKind::Package(p) => mk(p.dotted(), SymbolKind::Package, p.span, None),
                ast::ItemKind::Import(i) => {
                    mk(i.path.dotted(), SymbolKind::Module, i.path.span, None)
                }
                ast::ItemKind::Schema(s) => {
                    let mut sym = mk(s.name.name.clone(), SymbolKind::Struct, s.name.span, None);
                    sym.children = s
                        .fields
                        .iter()
                        .map(|f| Symbol {
                            name: f.name.name.clone(),
                            detail: Some(type_text(&f.ty)),
                            kind: SymbolKind::Field,
                            path: path.to_string(),
                            span: f.span.shifted(*offset),
                            selection: f.name.span.shifted(*offset),
                            children: Vec::new(),
                            container: Some(s.name.name.clone()),
                        })
                        .collect();
                    sym
                }
                ast::ItemKind::Enum(e) => {
                    let mut sym = mk(e.name.name.clone(), SymbolKind::Enum, e.name.span, None);
                    sym.children = e
                        .variants
                        .iter()
                        .map(|v| Symbol {
                            name: v.name.name.clone(),
                            detail: None,
                            kind: SymbolKind::EnumMember,
                            path: path.to_string(),
                            span: v.name.span.shifted(*offset),
                            selection: v.name.span.shifted(*offset),
                            children: Vec::new(),
                            container: Some(e.name.name.clone()),
                        })
                        .collect();
                    sym
                }
                ast::ItemKind::Let(b) => mk(
                    b.name.name.clone(),
                    SymbolKind::Constant,
                    b.name.span,
                    b.ty.as_ref().map(type_text),
                ),
                ast::ItemKind::Param(b) => mk(
                    b.name.name.clone(),
                    SymbolKind::Variable,
                    b.name.span,
                    b.ty.as_ref().map(type_text),
                ),
                ast::ItemKind::ParamOverride(o) => {
                    mk(o.target.dotted(), SymbolKind::Variable, o.target.span, None)
                }
                ast::ItemKind::Policy(p) => {
                    let input = p
                        .params
                        .first()
                        .map(|param| format!("{}: {}", param.name.name, type_text(&param.ty)))
                        .unwrap_or_default();
                    let mut sym = mk(
                        p.name.name.clone(),
                        SymbolKind::Function,
                        p.name.span,
                        Some(format!("({input}) -> {}", type_text(&p.ret))),
                    );
                    sym.children = p
                        .body
                        .iter()
                        .filter_map(|stmt| match stmt {
                            ast::PolicyStmt::Rule(r) => Some(Symbol {
                                name: format!("{} {:?}", rule_keyword(&r.kind), r.reason.value),
                                detail: None,
                                kind: SymbolKind::Event,
                                path: path.to_string(),
                                span: r.span.shifted(*offset),
                                selection: r.keyword_span.shifted(*offset),
                                children: Vec::new(),
                                container: Some(p.name.name.clone()),
                            }),
                            ast::PolicyStmt::Let(_) => None,
                        })
                        .collect();
                    sym
                }
                ast::ItemKind::Test(t) => mk(
                    format!("test {:?}", t.name.value),
                    SymbolKind::Method,
                    t.name.span,
                    None,
                ),
            };
            out.push(symbol);
        }
        out
    }

    /// Definitions of every project file and the embedded library whose
    /// name contains `query` (ignoring case; every one for an empty query).
    pub fn workspace_symbols(&self, query: &str) -> Vec<Symbol> {
        let checked = self.checked();
        let query = query.to_lowercase();
        let mut out = Vec::new();
        let p = &checked.program;
        let mut push = |name: &str, kind: SymbolKind, origin: &pol_sema::Origin| {
            if !query.is_empty() && !name.to_lowercase().contains(&query) {
                return;
            }
            let Some(info) = p.files.get(origin.file) else {
                return;
            };
            let span = p
                .item(origin)
                .map_or(origin.name_span, |i| i.span.shifted(origin.offset));
            out.push(Symbol {
                name: name.to_string(),
                detail: None,
                kind,
                path: info.path.clone(),
                span,
                selection: origin.name_span,
                children: Vec::new(),
                container: Some(origin.package.clone()),
            });
        };
        for s in &p.schemas {
            push(&s.name, SymbolKind::Struct, &s.origin);
        }
        for e in &p.enums {
            push(&e.name, SymbolKind::Enum, &e.origin);
        }
        for l in &p.lets {
            push(&l.name, SymbolKind::Constant, &l.origin);
        }
        for l in &p.params {
            push(&l.name, SymbolKind::Variable, &l.origin);
        }
        for l in &p.policies {
            push(&l.name, SymbolKind::Function, &l.origin);
        }
        for t in &p.tests {
            push(&t.name, SymbolKind::Method, &t.origin);
        }
        out.sort_by(|a, b| (&a.name, &a.path).cmp(&(&b.name, &b.path)));
        out
    }

    /// Foldable ranges: items over several lines, runs of comments and of
    /// imports.
    pub fn folding_ranges(&self, path: &str) -> Vec<Fold> {
        let Some(source) = self.source(path) else {
            return Vec::new();
        };
        let text = source.text(self.db);
        let syntax = pol_sema::file_syntax(self.db, source);
        let multi_line = |span: Span| text.get(span.range()).is_some_and(|s| s.contains('\n'));
        let mut out = Vec::new();
        let mut imports: Option<Span> = None;
        for (offset, item) in &syntax.items {
            let span = item.span.shifted(*offset);
            if let ast::ItemKind::Import(_) = item.kind {
                imports = Some(imports.map_or(span, |s| s.cover(span)));
                continue;
            }
            if let Some(run) = imports.take().filter(|s| multi_line(*s)) {
                out.push(Fold {
                    span: run,
                    kind: FoldKind::Imports,
                });
            }
            if multi_line(span) {
                out.push(Fold {
                    span,
                    kind: FoldKind::Region,
                });
            }
        }
        if let Some(run) = imports.filter(|s| multi_line(*s)) {
            out.push(Fold {
                span: run,
                kind: FoldKind::Imports,
            });
        }
        // Runs of comments on consecutive lines.
        let mut run: Option<Span> = None;
        for t in crate::lex(text) {
            let is_comment = matches!(t.kind, TokenKind::DocComment | TokenKind::LineComment);
            match (&mut run, is_comment) {
                (Some(r), true)
                    if text
                        .get(r.end as usize..t.span.start as usize)
                        .is_some_and(|gap| {
                            gap.trim().is_empty() && gap.matches('\n').count() == 1
                        }) =>
                {
                    *r = r.cover(t.span);
                }
                (_, true) => {
                    if let Some(done) = run.take().filter(|s| multi_line(*s)) {
                        out.push(Fold {
                            span: done,
                            kind: FoldKind::Comment,
                        });
                    }
                    run = Some(t.span);
                }
                (_, false) => {
                    if let Some(done) = run.take().filter(|s| multi_line(*s)) {
                        out.push(Fold {
                            span: done,
                            kind: FoldKind::Comment,
                        });
                    }
                }
            }
        }
        if let Some(done) = run.filter(|s| multi_line(*s)) {
            out.push(Fold {
                span: done,
                kind: FoldKind::Comment,
            });
        }
        out.sort_by_key(|f| (f.span.start, f.span.end));
        out
    }
}

/// A written type as text (`list<Role>?`).
fn type_text(ty: &ast::TypeExpr) -> String {
    match &ty.kind {
        ast::TypeExprKind::Named(p) => p.dotted(),
        ast::TypeExprKind::List(t) => format!("list<{}>", type_text(t)),
        ast::TypeExprKind::Set(t) => format!("set<{}>", type_text(t)),
        ast::TypeExprKind::Map(k, v) => format!("map<{}, {}>", type_text(k), type_text(v)),
        ast::TypeExprKind::Optional(t) => format!("{}?", type_text(t)),
    }
}

/// A rule's keywords as written: `default allow` rather than `default`.
fn rule_keyword(kind: &ast::RuleKind) -> &'static str {
    match kind {
        ast::RuleKind::DefaultEffect(ast::Effect::Allow) => "default allow",
        ast::RuleKind::DefaultEffect(ast::Effect::Deny) => "default deny",
        other => other.keyword(),
    }
}
