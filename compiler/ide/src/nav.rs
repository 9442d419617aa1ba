//! Go to definition, find references and rename.

use pol_sema::{CheckedProject, Def, Target};
use pol_syntax::Span;
use pol_syntax::ast;

use crate::Analysis;
use crate::completion::locals_at;

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
        self.rename_conflict(checked, &resolved, new_name)?;
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

impl Analysis<'_> {
    /// Refuses a rename whose new name is taken where the renamed thing
    /// lives: another definition of the package (or an import of one of
    /// its files), another field of the schema, another variant of the
    /// enum, another local in scope (locals never shadow each other), or a
    /// name the renamed thing would hide (a local over a definition or an
    /// import used in its scope, a definition under a local that is in
    /// scope at one of its uses).
    fn rename_conflict(
        &self,
        checked: &CheckedProject,
        resolved: &Resolved,
        new_name: &str,
    ) -> Result<(), RenameError> {
        let program = &checked.program;
        let taken = |what: String| {
            Err(RenameError(format!(
                "cannot rename to `{new_name}`: {what}"
            )))
        };
        match resolved.target {
            Some(Target::Def(def)) => {
                let Some(origin) = def_origin(checked, def) else {
                    return Ok(());
                };
                let package = &origin.package;
                let info = program.packages.get(package);
                if let Some(other) = info.and_then(|p| p.defs.get(new_name))
                    && *other != def
                {
                    return taken(format!(
                        "package `{package}` already defines {} `{new_name}`",
                        def_kind(*other)
                    ));
                }
                for file in info.map(|p| p.files.as_slice()).unwrap_or_default() {
                    let Some(file_info) = program.files.get(*file) else {
                        continue;
                    };
                    if file_info.scope.imports.contains_key(new_name) {
                        return taken(format!(
                            "`{new_name}` is an import in {} (package `{package}`), and a name cannot be both an import and a definition",
                            file_info.path
                        ));
                    }
                }
                // A local of the new name in scope at an unqualified use
                // (a use in the package itself) would take the use over.
                // Types are not values: a local never hides a schema or an
                // enum in a type.
                if matches!(def, Def::Let(_) | Def::Param(_) | Def::Policy(_)) {
                    for (file, refs) in checked.references.iter().enumerate() {
                        let Some(file_info) = program.files.get(file) else {
                            continue;
                        };
                        if file_info.package != *package {
                            continue;
                        }
                        for r in refs.iter().filter(|r| {
                            r.definition_file == resolved.file && r.definition == resolved.span
                        }) {
                            let Some((start, item)) = crate::item_at(checked, file, r.used.start)
                            else {
                                continue;
                            };
                            let rel = r.used.start - start;
                            if locals_at(item, rel)
                                .iter()
                                .any(|(name, _)| name == new_name)
                            {
                                return taken(format!(
                                    "the local `{new_name}` would hide the use on line {} of {}",
                                    self.line_of(&file_info.path, r.used.start),
                                    file_info.path
                                ));
                            }
                        }
                    }
                }
                Ok(())
            }
            Some(Target::Field(schema, index)) => {
                let Some(def) = program.schemas.get(schema.0 as usize) else {
                    return Ok(());
                };
                let clash = def
                    .fields
                    .iter()
                    .enumerate()
                    .any(|(i, f)| i != index as usize && f.name == new_name);
                if clash {
                    return taken(format!(
                        "schema `{}` already has a field `{new_name}`",
                        def.name
                    ));
                }
                Ok(())
            }
            Some(Target::Variant(id, index)) => {
                let Some(def) = program.enums.get(id.0 as usize) else {
                    return Ok(());
                };
                let clash = def
                    .variants
                    .iter()
                    .enumerate()
                    .any(|(i, (name, _))| i != index as usize && name == new_name);
                if clash {
                    return taken(format!(
                        "enum `{}` already has a variant `{new_name}`",
                        def.name
                    ));
                }
                Ok(())
            }
            Some(Target::Local) => self.local_conflict(checked, resolved, new_name),
            Some(Target::Import) | None => Ok(()),
        }
    }

    /// [`Analysis::rename_conflict`] for a local.
    fn local_conflict(
        &self,
        checked: &CheckedProject,
        resolved: &Resolved,
        new_name: &str,
    ) -> Result<(), RenameError> {
        let file = resolved.file;
        let Some(info) = checked.program.files.get(file) else {
            return Ok(());
        };
        let Some(text) = self.text(&info.path) else {
            return Ok(());
        };
        let Some((start, item)) = crate::item_at(checked, file, resolved.span.start) else {
            return Ok(());
        };
        let binding = Span {
            start: resolved.span.start - start,
            end: resolved.span.end - start,
        };
        let named = |span: Span| text.get(span.shifted(start).range()) == Some(new_name);
        let visible = |at: u32, span: Span| locals_at(item, at).iter().any(|(_, s)| *s == span);
        let taken = |what: String| {
            Err(RenameError(format!(
                "cannot rename to `{new_name}`: {what}"
            )))
        };
        // Another binding of the name where either is in scope at the other.
        for other in binding_names(item)
            .into_iter()
            .filter(|s| *s != binding && named(*s))
        {
            if visible(other.start, binding) || visible(binding.start, other) {
                return taken(format!(
                    "the local `{new_name}` on line {} is in scope here, and locals cannot shadow each other",
                    self.line_of(&info.path, other.start + start)
                ));
            }
        }
        // Another name used where the renamed local is in scope: the local
        // would hide it.
        let refs = checked
            .references
            .get(file)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for r in refs {
            let same = r.target == Target::Local && r.definition == resolved.span;
            if same || text.get(r.used.range()) != Some(new_name) {
                continue;
            }
            if crate::item_at(checked, file, r.used.start).map(|(s, _)| s) != Some(start) {
                continue;
            }
            if visible(r.used.start - start, binding) {
                let what = match r.target {
                    Target::Import => "the import",
                    Target::Local => "the local",
                    Target::Def(_) => "the definition",
                    Target::Field(..) => "the field",
                    Target::Variant(..) => "the variant",
                };
                return taken(format!(
                    "it would hide {what} `{new_name}` used on line {}",
                    self.line_of(&info.path, r.used.start)
                ));
            }
        }
        Ok(())
    }

    /// The 1-based line of `offset` in the file `path`.
    fn line_of(&self, path: &str, offset: u32) -> usize {
        let text = self.text(path).unwrap_or_default();
        let before = text
            .as_bytes()
            .get(..offset as usize)
            .unwrap_or(text.as_bytes());
        before.iter().filter(|b| **b == b'\n').count() + 1
    }
}

/// Where a definition is written.
fn def_origin(checked: &CheckedProject, def: Def) -> Option<&pol_sema::Origin> {
    let program = &checked.program;
    Some(match def {
        Def::Schema(id) => &program.schemas.get(id.0 as usize)?.origin,
        Def::Enum(id) => &program.enums.get(id.0 as usize)?.origin,
        Def::Let(i) => &program.lets.get(i as usize)?.origin,
        Def::Param(i) => &program.params.get(i as usize)?.origin,
        Def::Policy(i) => &program.policies.get(i as usize)?.origin,
    })
}

/// `a schema`, `an enum`, ...: what a definition is, for messages.
fn def_kind(def: Def) -> &'static str {
    match def {
        Def::Schema(_) => "a schema",
        Def::Enum(_) => "an enum",
        Def::Let(_) => "a let",
        Def::Param(_) => "a param",
        Def::Policy(_) => "a policy",
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
