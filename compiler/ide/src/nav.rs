//! Go to definition, find references and rename.

use pol_sema::{CheckedProject, Def, Target};
use pol_syntax::Span;
use pol_syntax::ast;

use crate::Analysis;

/// A place in a file: its path and a byte span.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NavTarget {
    /// The file's path.
    pub path: String,
    /// The span (a defined name, a use).
    pub span: Span,
}

/// Replace `span` with `new_text`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TextEdit {
    /// What is replaced.
    pub span: Span,
    /// The replacement.
    pub new_text: String,
}

/// The edits of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEdits {
    /// The file's path.
    pub path: String,
    /// Non-overlapping edits, in order.
    pub edits: Vec<TextEdit>,
}

/// Why a rename cannot be done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenameError(pub String);

impl std::fmt::Display for RenameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a name at a position is: its definition (file index and span) and,
/// when known, what kind of thing it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) file: usize,
    pub(crate) span: Span,
    pub(crate) target: Option<Target>,
}

impl<'db> Analysis<'db> {
    /// What the name at `offset` of `path` refers to (a use or a
    /// definition).
    pub(crate) fn resolve_at(&self, path: &str, offset: u32) -> Option<Resolved> {
        let (checked, file) = self.file(path)?;
        resolve_in(checked, file, offset)
    }

    /// Where what the name at `offset` names is defined.
    pub fn definition(&self, path: &str, offset: u32) -> Option<NavTarget> {
        let (checked, file) = self.file(path)?;
        if let Some(resolved) = resolve_in(checked, file, offset) {
            let target = checked.program.files.get(resolved.file)?;
            return Some(NavTarget {
                path: target.path.clone(),
                span: resolved.span,
            });
        }
        // An import's path: the imported package's `package` line.
        let (start, item) = crate::item_at(checked, file, offset)?;
        if let ast::ItemKind::Import(import) = &item.kind
            && import.path.span.shifted(start).contains(offset)
        {
            let package = checked.program.packages.get(&import.path.dotted())?;
            let target_file = *package.files.first()?;
            let info = checked.program.files.get(target_file)?;
            let span = info
                .syntax
                .items
                .iter()
                .find_map(|(o, item)| match &item.kind {
                    ast::ItemKind::Package(p) => Some(p.span.shifted(*o)),
                    _ => None,
                })
                .unwrap_or_default();
            return Some(NavTarget {
                path: info.path.clone(),
                span,
            });
        }
        None
    }

    /// Every use of what the name at `offset` names, across the workspace,
    /// with its definition first when `include_declaration`.
    pub fn references(&self, path: &str, offset: u32, include_declaration: bool) -> Vec<NavTarget> {
        let Some((checked, file)) = self.file(path) else {
            return Vec::new();
        };
        let Some(resolved) = resolve_in(checked, file, offset) else {
            return package_references(checked, file, offset, include_declaration);
        };
        let mut out = Vec::new();
        if include_declaration && let Some(info) = checked.program.files.get(resolved.file) {
            out.push(NavTarget {
                path: info.path.clone(),
                span: resolved.span,
            });
        }
        for (index, refs) in checked.references.iter().enumerate() {
            for r in refs
                .iter()
                .filter(|r| r.definition_file == resolved.file && r.definition == resolved.span)
            {
                out.push(NavTarget {
                    path: checked.program.files[index].path.clone(),
                    span: r.used,
                });
            }
        }
        out
    }

    /// The span of the name at `offset` if it can be renamed, and its text.
    pub fn prepare_rename(&self, path: &str, offset: u32) -> Result<(Span, String), RenameError> {
        let (checked, file) = self
            .file(path)
            .ok_or_else(|| RenameError("the file is not part of the workspace".into()))?;
        let resolved = resolve_in(checked, file, offset)
            .ok_or_else(|| RenameError("no name to rename here".into()))?;
        renamable(checked, &resolved)?;
        let text = self.text(path).unwrap_or_default();
        let span = checked
            .references
            .get(file)
            .and_then(|refs| {
                refs.iter()
                    .find(|r| r.used.contains(offset))
                    .map(|r| r.used)
            })
            .unwrap_or(resolved.span);
        let name = text.get(span.range()).unwrap_or_default().to_string();
        Ok((span, name))
    }

    /// The edits that rename what the name at `offset` names to
    /// `new_name`, in every file that mentions it.
    pub fn rename(
        &self,
        path: &str,
        offset: u32,
        new_name: &str,
    ) -> Result<Vec<FileEdits>, RenameError> {
        let (checked, file) = self
            .file(path)
            .ok_or_else(|| RenameError("the file is not part of the workspace".into()))?;
        let resolved = resolve_in(checked, file, offset)
            .ok_or_else(|| RenameError("no name to rename here".into()))?;
        renamable(checked, &resolved)?;
        if !is_identifier(new_name) {
            return Err(RenameError(format!("`{new_name}` is not a valid name")));
        }
        let mut by_file: std::collections::BTreeMap<String, Vec<TextEdit>> =
            std::collections::BTreeMap::new();
        for target in self.references(path, offset, true) {
            let edits = by_file.entry(target.path).or_default();
            let edit = TextEdit {
                span: target.span,
                new_text: new_name.to_string(),
            };
            if !edits.contains(&edit) {
                edits.push(edit);
            }
        }
        Ok(by_file
            .into_iter()
            .map(|(path, mut edits)| {
                edits.sort();
                FileEdits { path, edits }
            })
            .collect())
    }
}

/// When `offset` is on a package path (a `package` line or an import's
/// path): every import of that package, and with `include_declaration`
/// every `package` line declaring it.
fn package_references(
    checked: &CheckedProject,
    file: usize,
    offset: u32,
    include_declaration: bool,
) -> Vec<NavTarget> {
    let Some((start, item)) = crate::item_at(checked, file, offset) else {
        return Vec::new();
    };
    let path = match &item.kind {
        ast::ItemKind::Package(p) => p,
        ast::ItemKind::Import(i) => &i.path,
        _ => return Vec::new(),
    };
    if !path.span.shifted(start).contains(offset) {
        return Vec::new();
    }
    let package = path.dotted();
    let mut out = Vec::new();
    for info in &checked.program.files {
        for (o, item) in info.syntax.items.iter() {
            let found = match &item.kind {
                ast::ItemKind::Package(p) if include_declaration => Some(p),
                ast::ItemKind::Import(i) => Some(&i.path),
                _ => None,
            };
            if let Some(p) = found.filter(|p| p.dotted() == package) {
                out.push(NavTarget {
                    path: info.path.clone(),
                    span: p.span.shifted(*o),
                });
            }
        }
    }
    out
}

/// Whether the resolved name may be renamed: a definition of the project
/// (not of the embedded library, not an import).
fn renamable(checked: &CheckedProject, resolved: &Resolved) -> Result<(), RenameError> {
    let info = checked
        .program
        .files
        .get(resolved.file)
        .ok_or_else(|| RenameError("no name to rename here".into()))?;
    if info.embedded {
        return Err(RenameError(
            "this is defined in the embedded standard library, which cannot be edited".into(),
        ));
    }
    match resolved.target {
        Some(Target::Import) => Err(RenameError(
            "imports cannot be renamed; add `as <name>` to the import instead".into(),
        )),
        _ => Ok(()),
    }
}

/// Whether `name` is an identifier and not a reserved keyword.
pub(crate) fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !(first.is_ascii_alphabetic() || first == '_') {
        return false;
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return false;
    }
    let tokens = pol_syntax::lexer::lex(name);
    !matches!(tokens.as_slice(), [t] if t.kind.is_keyword())
}

/// Resolves the name at `offset` of file `file`: a recorded use, or a
/// definition site.
pub(crate) fn resolve_in(checked: &CheckedProject, file: usize, offset: u32) -> Option<Resolved> {
    let refs = checked.references.get(file)?;
    // A use: prefer one the offset is strictly inside, then one it ends.
    let used = refs
        .iter()
        .filter(|r| r.used.start <= offset && offset < r.used.end)
        .min_by_key(|r| r.used.len())
        .or_else(|| refs.iter().find(|r| r.used.contains(offset)));
    if let Some(r) = used {
        return Some(Resolved {
            file: r.definition_file,
            span: r.definition,
            target: Some(r.target),
        });
    }
    definition_site(checked, file, offset)
}

/// The definition whose name is at `offset` of `file`.
fn definition_site(checked: &CheckedProject, file: usize, offset: u32) -> Option<Resolved> {
    let program = &checked.program;
    let at = |span: pol_syntax::Span| span.contains(offset);
    let mut found: Option<(Span, Target)> = None;
    for (i, s) in program.schemas.iter().enumerate() {
        let id = pol_sema::SchemaId(i as u32);
        if s.origin.file == file && at(s.origin.name_span) {
            found = Some((s.origin.name_span, Target::Def(Def::Schema(id))));
        }
        if s.origin.file == file {
            for (index, field) in s.fields.iter().enumerate() {
                if at(field.span) {
                    found = Some((field.span, Target::Field(id, index as u32)));
                }
            }
        }
    }
    for (i, e) in program.enums.iter().enumerate() {
        let id = pol_sema::EnumId(i as u32);
        if e.origin.file == file && at(e.origin.name_span) {
            found = Some((e.origin.name_span, Target::Def(Def::Enum(id))));
        }
        if e.origin.file == file {
            for (index, (_, span)) in e.variants.iter().enumerate() {
                if at(*span) {
                    found = Some((*span, Target::Variant(id, index as u32)));
                }
            }
        }
    }
    for (i, l) in program.lets.iter().enumerate() {
        if l.origin.file == file && at(l.origin.name_span) {
            found = Some((l.origin.name_span, Target::Def(Def::Let(i as u32))));
        }
    }
    for (i, p) in program.params.iter().enumerate() {
        if p.origin.file == file && at(p.origin.name_span) {
            found = Some((p.origin.name_span, Target::Def(Def::Param(i as u32))));
        }
    }
    for (i, p) in program.policies.iter().enumerate() {
        if p.origin.file == file && at(p.origin.name_span) {
            found = Some((p.origin.name_span, Target::Def(Def::Policy(i as u32))));
        }
    }
    if let Some((span, target)) = found {
        return Some(Resolved {
            file,
            span,
            target: Some(target),
        });
    }
    // A local's binding, or an import's local name: known from its uses.
    let refs = checked.references.iter().flatten();
    if let Some(r) = refs
        .filter(|r| r.definition_file == file && r.definition.contains(offset))
        .min_by_key(|r| r.definition.len())
    {
        return Some(Resolved {
            file,
            span: r.definition,
            target: Some(r.target),
        });
    }
    // A local nobody uses yet: its binding still has a recorded type.
    let types = checked.types.get(file)?;
    let ((start, end), _) = types.innermost_at(offset)?;
    let (item_start, item) = crate::item_at(checked, file, offset)?;
    let span = Span { start, end };
    binding_names(item)
        .into_iter()
        .any(|s| s.shifted(item_start) == span)
        .then_some(Resolved {
            file,
            span,
            target: Some(Target::Local),
        })
}

/// The spans (item-relative) of every local binding's name in an item.
pub(crate) fn binding_names(item: &ast::Item) -> Vec<Span> {
    let mut out = Vec::new();
    match &item.kind {
        ast::ItemKind::Policy(p) => {
            out.extend(p.params.iter().map(|param| param.name.span));
            for stmt in &p.body {
                match stmt {
                    ast::PolicyStmt::Let(b) => out.push(b.name.span),
                    ast::PolicyStmt::Rule(r) => {
                        if let ast::RuleKind::Keep { var, .. } = &r.kind {
                            out.push(var.span);
                        }
                    }
                }
            }
        }
        ast::ItemKind::Test(t) => test_bindings(&t.body, &mut out),
        _ => {}
    }
    crate::item_exprs(item, &mut |e| {
        if let ast::ExprKind::Quant { vars, .. } = &e.kind {
            out.extend(vars.iter().map(|v| v.span));
        }
    });
    out
}

fn test_bindings(stmts: &[ast::TestStmt], out: &mut Vec<Span>) {
    for stmt in stmts {
        match stmt {
            ast::TestStmt::Let(b) => out.push(b.name.span),
            ast::TestStmt::For { var, body, .. } => {
                out.push(var.span);
                test_bindings(body, out);
            }
            ast::TestStmt::With { body, .. } => test_bindings(body, out),
            ast::TestStmt::Expect(_) => {}
        }
    }
}
