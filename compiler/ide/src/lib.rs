//! `pol-ide`: editor features over the front end's salsa database, as plain
//! Rust: hover, go to definition, references, completion, rename, semantic
//! tokens, symbols, folding, signature help, runnable tests and policy
//! evaluation.
//!
//! Nothing here speaks LSP. Positions are byte offsets into a file named by
//! its path (the path the file has in the [`pol_sema::Workspace`]); the
//! language server converts them to lines and columns.
//!
//! An [`Analysis`] borrows a database (in the server, a cloned snapshot)
//! and a [`Project`]. Every query may be cancelled by salsa when the
//! database is edited; callers run them inside `salsa::Cancelled::catch`.
//!
//! **Invariant:** no input makes a feature panic: half-typed files, offsets
//! past the end or inside a multi-byte character, unknown paths. Features
//! answer with less (or nothing) instead.

mod completion;
mod evaluate;
mod hover;
mod nav;
mod runnables;
mod signature;
mod symbols;
mod tokens;

use pol_sema::{CheckedProject, Project, SourceFile, Ty};
use pol_syntax::lexer::{Token, TokenKind};
use pol_syntax::{Diagnostic, ast};

pub use completion::{CompletionItem, CompletionKind};
pub use evaluate::{Evaluation, PreparedEvaluation};
pub use hover::HoverResult;
pub use nav::{FileEdits, NavTarget, RenameError, TextEdit};
pub use runnables::{Lens, LensKind, PreparedLens, RunResult};
pub use signature::SignatureInfo;
pub use symbols::{Fold, FoldKind, Symbol, SymbolKind};
pub use tokens::{SemanticToken, TokenModifier, TokenType};

/// Editor features over one snapshot of the database.
#[derive(Clone, Copy)]
pub struct Analysis<'db> {
    db: &'db dyn salsa::Database,
    project: Project,
}

impl std::fmt::Debug for Analysis<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analysis").finish_non_exhaustive()
    }
}

impl<'db> Analysis<'db> {
    /// Features over `project` in `db`.
    pub fn new(db: &'db dyn salsa::Database, project: Project) -> Analysis<'db> {
        Analysis { db, project }
    }

    /// The checked project (memoized by salsa).
    pub fn checked(&self) -> &'db CheckedProject {
        pol_sema::check_project(self.db, self.project)
    }

    /// The source file with this path: a project file or an embedded
    /// standard-library file.
    pub fn source(&self, path: &str) -> Option<SourceFile> {
        self.project
            .files(self.db)
            .iter()
            .chain(self.project.stdlib(self.db).iter())
            .copied()
            .find(|f| f.path(self.db) == path)
    }

    /// The text of the file with this path.
    pub fn text(&self, path: &str) -> Option<&'db str> {
        self.source(path).map(|f| f.text(self.db).as_str())
    }

    /// The paths of the project's own files.
    pub fn project_paths(&self) -> Vec<String> {
        self.project
            .files(self.db)
            .iter()
            .map(|f| f.path(self.db).clone())
            .collect()
    }

    /// Every diagnostic of the file (syntax, resolution, types), sorted by
    /// position.
    pub fn diagnostics(&self, path: &str) -> Vec<Diagnostic> {
        let checked = self.checked();
        let Some(index) = file_index(checked, path) else {
            // A file replaced by the project (an embedded package the
            // project defines itself) or unknown: its syntax only.
            return self
                .source(path)
                .map(|f| pol_sema::file_syntax(self.db, f).diagnostics.clone())
                .unwrap_or_default();
        };
        let mut out = checked.program.files[index].syntax.diagnostics.clone();
        out.extend(checked.diagnostics.get(index).cloned().unwrap_or_default());
        out.sort_by_key(|d| (d.primary_span().map(|s| s.start), d.severity));
        out
    }

    /// The diagnostics of one project file from a check of the whole
    /// project's signatures and of this file's bodies only: the same as
    /// [`Analysis::diagnostics`] (but for a policy recursion through other
    /// files), several times faster on a large workspace. The server
    /// publishes these for the edited files first.
    pub fn file_diagnostics(&self, path: &str) -> Vec<Diagnostic> {
        match self
            .project
            .files(self.db)
            .iter()
            .find(|f| f.path(self.db) == path)
        {
            Some(file) => pol_sema::file_diagnostics(self.db, self.project, *file),
            None => self.diagnostics(path),
        }
    }

    /// Every project file's diagnostics, by path.
    pub fn all_diagnostics(&self) -> Vec<(String, Vec<Diagnostic>)> {
        self.project_paths()
            .into_iter()
            .map(|path| {
                let diagnostics = self.diagnostics(&path);
                (path, diagnostics)
            })
            .collect()
    }

    /// The file's index in the checked program and the checked project.
    fn file(&self, path: &str) -> Option<(&'db CheckedProject, usize)> {
        let checked = self.checked();
        Some((checked, file_index(checked, path)?))
    }
}

/// The index of the file with this path in [`pol_sema::Program::files`].
fn file_index(checked: &CheckedProject, path: &str) -> Option<usize> {
    checked.program.files.iter().position(|f| f.path == path)
}

/// The item whose slice holds `offset`: the last item starting at or
/// before it, with its offset.
fn item_at(checked: &CheckedProject, file: usize, offset: u32) -> Option<(u32, &ast::Item)> {
    let items = &checked.program.files.get(file)?.syntax.items;
    let index = items.partition_point(|(start, _)| *start <= offset);
    let (start, item) = items.get(index.checked_sub(1)?)?;
    Some((*start, item.as_ref()))
}

/// Whether an item of the file starting at or before `offset` failed to
/// parse after the last item that parsed (the cursor is in a broken item).
fn in_broken_item(checked: &CheckedProject, file: usize, offset: u32) -> bool {
    let Some(info) = checked.program.files.get(file) else {
        return false;
    };
    let last_good = info
        .syntax
        .items
        .iter()
        .map(|(o, _)| *o)
        .filter(|o| *o <= offset)
        .max();
    let last_broken = info
        .syntax
        .broken
        .iter()
        .map(|b| b.offset)
        .filter(|o| *o <= offset)
        .max();
    match (last_good, last_broken) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(good), Some(broken)) => broken > good,
    }
}

/// The tokens of `text`, comments included.
fn lex(text: &str) -> Vec<Token> {
    pol_syntax::lexer::lex(text)
}

/// The index of the last token that starts before `offset`.
fn token_before(tokens: &[Token], offset: u32) -> Option<usize> {
    tokens
        .partition_point(|t| t.span.start < offset)
        .checked_sub(1)
}

/// The identifier (or keyword) token touching `offset`, preferring the one
/// that starts at it.
fn word_at(tokens: &[Token], offset: u32) -> Option<Token> {
    let is_word = |t: &Token| t.kind == TokenKind::Ident || t.kind.is_keyword();
    let mut best = None;
    for t in tokens
        .iter()
        .filter(|t| t.span.contains(offset) && is_word(t))
    {
        if t.span.start == offset || best.is_none() {
            best = Some(*t);
        }
    }
    best
}

/// Calls `f` on `e` and every expression inside it, outermost first.
fn walk_expr<'a>(e: &'a ast::Expr, f: &mut dyn FnMut(&'a ast::Expr)) {
    f(e);
    use ast::ExprKind as K;
    match &e.kind {
        K::List(xs) | K::Set(xs) => xs.iter().for_each(|x| walk_expr(x, f)),
        K::Map(entries) => entries.iter().for_each(|(_, x)| walk_expr(x, f)),
        K::Record(fields) => fields.iter().for_each(|(_, x)| walk_expr(x, f)),
        K::Field { base, .. } => walk_expr(base, f),
        K::Index { base, index, .. } => {
            walk_expr(base, f);
            walk_expr(index, f);
        }
        K::Call { callee, args } => {
            walk_expr(callee, f);
            args.iter().for_each(|x| walk_expr(x, f));
        }
        K::Unary { operand, .. } => walk_expr(operand, f),
        K::Binary { lhs, rhs, .. } => {
            walk_expr(lhs, f);
            walk_expr(rhs, f);
        }
        K::If {
            cond,
            then,
            otherwise,
        } => {
            walk_expr(cond, f);
            walk_expr(then, f);
            walk_expr(otherwise, f);
        }
        K::Quant {
            collection, body, ..
        } => {
            walk_expr(collection, f);
            walk_expr(body, f);
        }
        K::Paren(x) => walk_expr(x, f),
        K::Bool(_)
        | K::Int(_)
        | K::Float(_)
        | K::Str(_)
        | K::Duration(_)
        | K::Timestamp(_)
        | K::None
        | K::Now
        | K::Name(_)
        | K::EmptyBraces => {}
    }
}

/// Calls `f` on every expression of an item (item-relative spans).
fn item_exprs<'a>(item: &'a ast::Item, f: &mut dyn FnMut(&'a ast::Expr)) {
    match &item.kind {
        ast::ItemKind::Let(b) | ast::ItemKind::Param(b) => walk_expr(&b.value, f),
        ast::ItemKind::ParamOverride(o) => walk_expr(&o.value, f),
        ast::ItemKind::Policy(p) => {
            for stmt in &p.body {
                match stmt {
                    ast::PolicyStmt::Let(b) => walk_expr(&b.value, f),
                    ast::PolicyStmt::Rule(r) => rule_exprs(r, f),
                }
            }
        }
        ast::ItemKind::Test(t) => test_exprs(&t.body, f),
        ast::ItemKind::Package(_)
        | ast::ItemKind::Import(_)
        | ast::ItemKind::Schema(_)
        | ast::ItemKind::Enum(_) => {}
    }
}

fn rule_exprs<'a>(r: &'a ast::Rule, f: &mut dyn FnMut(&'a ast::Expr)) {
    match &r.kind {
        ast::RuleKind::Redact { target } => walk_expr(target, f),
        ast::RuleKind::Return { value } | ast::RuleKind::DefaultValue(value) => walk_expr(value, f),
        ast::RuleKind::Keep {
            collection, limit, ..
        } => {
            walk_expr(collection, f);
            if let Some(limit) = limit {
                walk_expr(limit, f);
            }
        }
        ast::RuleKind::Allow
        | ast::RuleKind::Deny
        | ast::RuleKind::RequireApproval
        | ast::RuleKind::Alert { .. }
        | ast::RuleKind::DefaultEffect(_) => {}
    }
    if let Some(when) = &r.when {
        walk_expr(when, f);
    }
}

fn test_exprs<'a>(stmts: &'a [ast::TestStmt], f: &mut dyn FnMut(&'a ast::Expr)) {
    for stmt in stmts {
        match stmt {
            ast::TestStmt::Let(b) => walk_expr(&b.value, f),
            ast::TestStmt::Expect(e) => walk_expr(e, f),
            ast::TestStmt::For { cases, body, .. } => {
                walk_expr(cases, f);
                test_exprs(body, f);
            }
            ast::TestStmt::With { bindings, body, .. } => {
                for (_, value) in bindings {
                    walk_expr(value, f);
                }
                test_exprs(body, f);
            }
        }
    }
}

/// A builtin's signature as shown to users: `name(a: string) -> bool`.
fn builtin_signature(sig: &pol_ir::builtins::BuiltinSig) -> String {
    let params: Vec<String> = sig
        .params
        .iter()
        .map(|(name, ty)| format!("{name}: {}", pol_sema::pattern_name(ty)))
        .collect();
    format!(
        "{}({}) -> {}",
        sig.name,
        params.join(", "),
        pol_sema::pattern_name(&sig.ret)
    )
}

/// A policy's signature: `policy name(input: T) -> R`.
fn policy_signature(checked: &CheckedProject, policy: &pol_sema::PolicyDef) -> String {
    let program = &checked.program;
    let input_name = program
        .item(&policy.origin)
        .and_then(|item| match &item.kind {
            ast::ItemKind::Policy(p) => p.params.first().map(|p| p.name.name.clone()),
            _ => None,
        })
        .unwrap_or_else(|| "input".to_string());
    let ret = match &policy.kind {
        pol_sema::PolicyKind::Decision => "Decision".to_string(),
        pol_sema::PolicyKind::Value(t) | pol_sema::PolicyKind::Filter(t) => program.display_ty(t),
    };
    format!(
        "policy {}({input_name}: {}) -> {ret}",
        policy.name,
        program.display_ty(&policy.input)
    )
}

/// The type's name, or `None` for the error type (nothing useful to show).
fn shown_ty(checked: &CheckedProject, ty: &Ty) -> Option<String> {
    (!ty.is_error()).then(|| checked.program.display_ty(ty))
}

#[cfg(test)]
mod tests;
