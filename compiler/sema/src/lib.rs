//! `pol-sema`: the salsa database of the Pol front end, name resolution and
//! type checking.
//!
//! Source files are salsa inputs. Splitting a file into items and parsing
//! each item are tracked queries; an item's parse is keyed by its text, so
//! an edit elsewhere (even above it in the same file) reuses it. Resolution
//! and checking run over the whole project and return their diagnostics
//! with their results (no accumulators).
//!
//! **Invariant:** the core does no IO. Files arrive as text through
//! [`Workspace::set_files`]; `polc` and `pol-lsp` read the disk.

mod check;
pub mod lower;
mod program;
mod suggest;
pub mod ty;

use std::sync::{Arc, Mutex};

use pol_syntax::{Diagnostic, Span, ast};

pub use program::{
    Def, EnumDef, FieldDef, FileInfo, FileScope, ImportTarget, LetDef, Origin, PackageInfo,
    ParamDef, ParamOverrideDef, PolicyDef, PolicyKind, Program, SchemaDef, TestDef,
};
pub use ty::{EnumId, SchemaId, Ty};

/// One source file: its path (as shown in diagnostics) and its text.
#[salsa::input(debug)]
pub struct SourceFile {
    /// Path, relative to where `polc` was pointed or as the editor names it.
    #[returns(ref)]
    pub path: String,
    /// The whole text.
    #[returns(ref)]
    pub text: String,
}

/// The set of files checked together.
#[salsa::input(debug)]
pub struct Project {
    /// The project's own files.
    #[returns(ref)]
    pub files: Vec<SourceFile>,
    /// The embedded standard library; a package the project defines itself
    /// replaces the embedded one.
    #[returns(ref)]
    pub stdlib: Vec<SourceFile>,
}

/// One item's text, interned so that equal text parses once.
#[salsa::interned(debug)]
struct ItemText<'db> {
    #[returns(ref)]
    text: String,
}

/// An item that failed to parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenItem {
    /// The keyword it starts with (`enum`, `policy`, ...).
    pub keyword: pol_syntax::lexer::TokenKind,
    /// Its byte offset in the file.
    pub offset: u32,
    /// The name it would have defined, if one could be read.
    pub name: Option<String>,
}

/// A file split into items and each item parsed. Spans inside items are
/// item-relative; `items` records each item's offset.
#[derive(Debug, Clone, PartialEq)]
pub struct FileSyntax {
    /// Parsed items with their byte offsets in the file.
    pub items: Vec<(u32, Arc<ast::Item>)>,
    /// Items that failed to parse: their keyword, offset and the name they
    /// would have defined.
    pub broken: Vec<BrokenItem>,
    /// Lexical and syntax diagnostics, spans absolute in the file.
    pub diagnostics: Vec<Diagnostic>,
    /// The byte offset of each line's start (for line and column numbers).
    pub line_starts: Vec<u32>,
}

impl FileSyntax {
    /// The `package` declaration, if the file has one (the first).
    pub fn package(&self) -> Option<&ast::Path> {
        self.items.iter().find_map(|(_, item)| match &item.kind {
            ast::ItemKind::Package(path) => Some(path),
            _ => None,
        })
    }
}

#[salsa::tracked(returns(ref))]
fn parse_item_text<'db>(
    db: &'db dyn salsa::Database,
    item: ItemText<'db>,
) -> Arc<pol_syntax::ParsedItem> {
    Arc::new(pol_syntax::parse_item(item.text(db)))
}

/// The syntax of one file. Re-runs when the file's text changes; each
/// item's parse is reused when the item's text is unchanged.
#[salsa::tracked(returns(ref))]
pub fn file_syntax(db: &dyn salsa::Database, file: SourceFile) -> Arc<FileSyntax> {
    Arc::new(file_syntax_of_text(db, file.text(db)))
}

/// The type of every checked expression and binding of one file, by
/// absolute `(start, end)` span. Recorded in a vector during checking and
/// sorted once at the end: cheaper than a map on the checker's hot path.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExprTypes {
    entries: Vec<((u32, u32), Ty)>,
}

impl ExprTypes {
    pub(crate) fn insert(&mut self, span: (u32, u32), ty: Ty) {
        self.entries.push((span, ty));
    }

    /// Sorts by span; a span recorded twice keeps its last type.
    pub(crate) fn finish(&mut self) {
        self.entries.reverse();
        self.entries.sort_by_key(|(span, _)| *span);
        self.entries.dedup_by_key(|(span, _)| *span);
    }

    /// The type recorded for exactly this span.
    pub fn get(&self, span: &(u32, u32)) -> Option<&Ty> {
        self.entries
            .binary_search_by_key(span, |(s, _)| *s)
            .ok()
            .map(|i| &self.entries[i].1)
    }

    /// The shortest recorded span containing `offset`, with its type.
    pub fn innermost_at(&self, offset: u32) -> Option<((u32, u32), &Ty)> {
        let end = self
            .entries
            .partition_point(|((start, _), _)| *start <= offset);
        self.entries[..end]
            .iter()
            .filter(|((start, end), _)| *start <= offset && offset <= *end)
            .min_by_key(|((start, end), _)| end - start)
            .map(|(span, ty)| (*span, ty))
    }
}

/// A resolved use of a name: where it is used and where what it names is
/// defined (for go to definition, find references, rename).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    /// The use, absolute in its file.
    pub used: Span,
    /// The file of the definition, by index in [`Program::files`].
    pub definition_file: usize,
    /// The defined name, absolute in its file.
    pub definition: Span,
    /// What the name resolved to.
    pub target: Target,
}

/// What a name resolves to, for lowering and the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A local: the policy input, a `let` local, a quantifier, `for` or
    /// `keep` variable (the definition is its binding).
    Local,
    /// An import's local name.
    Import,
    /// A package-level definition.
    Def(Def),
    /// An enum variant: the enum and the variant's index (its order).
    Variant(EnumId, u32),
    /// A schema field: the schema and the field's index.
    Field(SchemaId, u32),
}

/// The resolved and checked project: the program model, every resolution
/// and type diagnostic, the type of every expression and every resolved
/// name, by file.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedProject {
    /// Packages, definitions and their types.
    pub program: Program,
    /// Diagnostics per file, in the order of [`Program::files`].
    pub diagnostics: Vec<Vec<Diagnostic>>,
    /// Expression types per file.
    pub types: Vec<ExprTypes>,
    /// Resolved names per file.
    pub references: Vec<Vec<Reference>>,
}

/// A package's name, as a query key.
#[salsa::interned(debug)]
struct PackageName<'db> {
    #[returns(ref)]
    name: String,
}

/// The checker's input files: the project's, then the embedded library's
/// packages the project does not define itself.
fn project_inputs(db: &dyn salsa::Database, project: Project) -> Vec<program::InputFile> {
    let mut inputs: Vec<program::InputFile> = project
        .files(db)
        .iter()
        .map(|f| program::InputFile {
            path: f.path(db).clone(),
            syntax: file_syntax(db, *f).clone(),
            embedded: false,
        })
        .collect();
    add_stdlib(db, project, &mut inputs);
    inputs
}

/// Appends the embedded library's files whose package the project does
/// not define itself.
fn add_stdlib(db: &dyn salsa::Database, project: Project, inputs: &mut Vec<program::InputFile>) {
    let own_packages: std::collections::HashSet<String> = inputs
        .iter()
        .filter_map(|f| f.syntax.package().map(ast::Path::dotted))
        .collect();
    for file in project.stdlib(db) {
        let syntax = file_syntax(db, *file).clone();
        let replaced = syntax
            .package()
            .is_some_and(|p| own_packages.contains(&p.dotted()));
        if !replaced {
            inputs.push(program::InputFile {
                path: file.path(db).clone(),
                syntax,
                embedded: true,
            });
        }
    }
}

/// Every name and signature of the project resolved, no body checked.
/// Re-runs on every edit (an edit moves the positions it records), so its
/// result is not compared with the previous one.
#[salsa::tracked(returns(ref), no_eq)]
fn signatures(db: &dyn salsa::Database, project: Project) -> Arc<check::Checker> {
    Arc::new(check::signatures(project_inputs(db, project)))
}

/// The signatures as the bodies of one package see them (what it imports,
/// transitively). Equal to the previous view when an edit touched only
/// packages it cannot reach, which keeps [`package_bodies`] memoized.
#[salsa::tracked(returns(ref))]
fn package_view<'db>(
    db: &'db dyn salsa::Database,
    project: Project,
    package: PackageName<'db>,
) -> Arc<check::Checker> {
    Arc::new(signatures(db, project).view(package.name(db)))
}

/// The checked bodies of one package: re-run only when its view changed.
#[salsa::tracked(returns(ref))]
fn package_bodies<'db>(
    db: &'db dyn salsa::Database,
    project: Project,
    package: PackageName<'db>,
) -> Arc<check::PackageBodies> {
    let view = package_view(db, project, package).as_ref().clone();
    Arc::new(view.check_package(package.name(db)))
}

/// Resolves and type-checks the whole project: the signatures, each
/// package's bodies (memoized per package, on what the package imports),
/// then the checks that span packages. An edit re-checks the bodies of the
/// edited package and of the packages that import it, not the rest.
#[salsa::tracked(returns(ref), no_eq)]
pub fn check_project(db: &dyn salsa::Database, project: Project) -> Arc<CheckedProject> {
    let signatures = signatures(db, project);
    let bodies: Vec<&Arc<check::PackageBodies>> = signatures
        .packages()
        .map(|package| package_bodies(db, project, PackageName::new(db, package.to_string())))
        .collect();
    Arc::new(check::assemble(
        signatures,
        bodies.into_iter().map(Arc::as_ref),
    ))
}

/// Resolves and type-checks the project as if `file` had the text `text`,
/// without changing the database (for editor features that need the
/// types of a half-typed line, such as completion after `.`). Items whose
/// text is unchanged reuse their memoized parse; the check itself is not
/// memoized.
pub fn check_project_with_text(
    db: &dyn salsa::Database,
    project: Project,
    file: SourceFile,
    text: &str,
) -> CheckedProject {
    check::check(inputs_with_text(db, project, file, text))
}

/// Like [`check_project_with_text`], but checks only the body of the item
/// of `file` that holds byte `offset` of `text` (every signature is still
/// resolved): the types of the item being edited, much faster than a
/// whole check. Diagnostics of other bodies are missing from the result.
pub fn check_item_with_text(
    db: &dyn salsa::Database,
    project: Project,
    file: SourceFile,
    text: &str,
    offset: u32,
) -> CheckedProject {
    let inputs = inputs_with_text(db, project, file, text);
    let Some(index) = project.files(db).iter().position(|f| *f == file) else {
        return check::check(inputs);
    };
    let item_offset = inputs
        .get(index)
        .and_then(|input| {
            input
                .syntax
                .items
                .iter()
                .map(|(o, _)| *o)
                .filter(|o| *o <= offset)
                .max()
        })
        .unwrap_or(0);
    check::check_item(inputs, index, item_offset)
}

/// The diagnostics of one project file from a check of the whole
/// project's signatures and of that file's bodies only (not memoized):
/// what an editor shows for the file being edited before the whole check
/// is done. Syntax diagnostics included, sorted like
/// [`Workspace::diagnostics`]. Equal to the whole check's, except that a
/// recursion between policies through another file's bodies is missed.
pub fn file_diagnostics(
    db: &dyn salsa::Database,
    project: Project,
    file: SourceFile,
) -> Vec<Diagnostic> {
    let Some(index) = project.files(db).iter().position(|f| *f == file) else {
        return file_syntax(db, file).diagnostics.clone();
    };
    let inputs = project_inputs(db, project);
    let mut diagnostics = inputs[index].syntax.diagnostics.clone();
    let checked = check::check_file(inputs, index);
    diagnostics.extend(checked.diagnostics.get(index).cloned().unwrap_or_default());
    diagnostics.sort_by_key(|d| (d.primary_span().map(|s| s.start), d.severity));
    diagnostics
}

/// The checker's input files, with `file`'s text replaced by `text`.
fn inputs_with_text(
    db: &dyn salsa::Database,
    project: Project,
    file: SourceFile,
    text: &str,
) -> Vec<program::InputFile> {
    let patched = Arc::new(file_syntax_of_text(db, text));
    let mut inputs: Vec<program::InputFile> = project
        .files(db)
        .iter()
        .map(|f| program::InputFile {
            path: f.path(db).clone(),
            syntax: if *f == file {
                patched.clone()
            } else {
                file_syntax(db, *f).clone()
            },
            embedded: false,
        })
        .collect();
    add_stdlib(db, project, &mut inputs);
    inputs
}

/// [`file_syntax`] of text that is not a database input: each item's
/// parse still goes through (and reuses) the memoized per-item parse.
fn file_syntax_of_text(db: &dyn salsa::Database, text: &str) -> FileSyntax {
    let split = pol_syntax::split_items(text);
    let mut diagnostics = split.diagnostics;
    let mut items = Vec::with_capacity(split.items.len());
    let mut broken = Vec::new();
    for slice in &split.items {
        let item_text = ItemText::new(db, text[slice.span.range()].to_string());
        let parsed = parse_item_text(db, item_text);
        diagnostics.extend(
            parsed
                .diagnostics
                .iter()
                .map(|d| d.shifted(slice.span.start)),
        );
        match &parsed.item {
            Some(item) => items.push((slice.span.start, item.clone())),
            None => broken.push(BrokenItem {
                keyword: slice.keyword,
                offset: slice.span.start,
                name: parsed.broken_name.clone(),
            }),
        }
    }
    // `\n`, `\r\n` and a lone `\r` all end a line.
    let bytes = text.as_bytes();
    let line_starts = std::iter::once(0)
        .chain(
            (bytes.iter().enumerate())
                .filter(|&(i, &b)| b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n')))
                .map(|(i, _)| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        )
        .collect();
    FileSyntax {
        line_starts,
        items,
        broken,
        diagnostics,
    }
}

/// The methods callable on a value of type `ty` (for completion and
/// signature help).
pub fn methods_of(ty: &Ty) -> Vec<&'static pol_ir::builtins::BuiltinSig> {
    check::methods_of(ty)
}

/// A builtin's parameter or result pattern as shown in a signature, such
/// as `list<T> | set<T>`.
pub fn pattern_name(pattern: &pol_ir::builtins::TypePattern) -> String {
    check::pattern_name(pattern)
}

/// The members of a decision (`d.allowed`, ...), with their types; `value`
/// only for a value or filter policy's decision.
pub fn decision_members(ty: &Ty) -> Vec<(&'static str, Ty)> {
    let mut out = vec![
        ("allowed", Ty::Bool),
        ("denied", Ty::Bool),
        ("reasons", Ty::List(Box::new(Ty::String))),
        ("fired", Ty::Bool),
        ("requires_approval", Ty::Bool),
        ("redactions", Ty::List(Box::new(Ty::Finding))),
        ("alerted", Ty::Bool),
        ("error", Ty::String.optional()),
    ];
    if let Ty::ValueDecision(t) = ty {
        out.push(("value", (**t).clone()));
    }
    out
}

/// The slug of a rule's reason, the last part of its stable id
/// (`"Error rate above 20%"` gives `error-rate-above-20`).
pub fn rule_slug(reason: &str) -> String {
    check::slug(reason)
}

/// The fields of the builtin `Finding` record, with their types.
pub fn finding_fields() -> Vec<(&'static str, Ty)> {
    vec![
        ("kind", Ty::String),
        ("start", Ty::Int),
        ("end", Ty::Int),
        ("text", Ty::String),
    ]
}

/// Compiles source files (path, text) into a program, or returns every
/// error diagnostic by path. The embedded standard library is included.
pub fn compile(
    files: impl IntoIterator<Item = (String, String)>,
) -> Result<pol_ir::ir::Program, Vec<(String, Diagnostic)>> {
    let mut workspace = Workspace::new();
    workspace.set_files(files);
    let errors: Vec<(String, Diagnostic)> = workspace
        .diagnostics()
        .into_iter()
        .flat_map(|(path, diagnostics)| {
            diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .map(move |d| (path.clone(), d))
        })
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    lower::lower(&workspace.checked()).map_err(|e| {
        vec![(
            String::new(),
            Diagnostic::error("pol::lower::internal", e.to_string()),
        )]
    })
}

/// The front end's database: salsa storage plus a log of executed queries
/// for tests that check incrementality.
#[salsa::db]
#[derive(Clone)]
pub struct Database {
    storage: salsa::Storage<Self>,
    executed: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").finish_non_exhaustive()
    }
}

impl Default for Database {
    fn default() -> Database {
        let executed: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = executed.clone();
        let storage = salsa::Storage::new(Some(Box::new(move |event: salsa::Event| {
            if let salsa::EventKind::WillExecute { database_key } = event.kind
                && let Ok(mut log) = log.lock()
            {
                log.push(format!("{database_key:?}"));
            }
        })));
        Database { storage, executed }
    }
}

#[salsa::db]
impl salsa::Database for Database {}

impl Database {
    /// The queries executed since the last call, as `query(Id(n))` strings.
    pub fn take_executed(&self) -> Vec<String> {
        self.executed
            .lock()
            .map(|mut log| std::mem::take(&mut *log))
            .unwrap_or_default()
    }
}

/// A project being checked: the database, the project input and its files
/// by path. `polc` builds one per run; `pol-lsp` keeps one and edits it.
#[derive(Debug)]
pub struct Workspace {
    db: Database,
    project: Project,
    files: Vec<SourceFile>,
}

impl Default for Workspace {
    fn default() -> Workspace {
        Workspace::new()
    }
}

impl Workspace {
    /// An empty workspace with the embedded standard library.
    pub fn new() -> Workspace {
        let db = Database::default();
        let stdlib = pol_stdlib::FILES
            .iter()
            .map(|(path, text)| {
                SourceFile::builder(format!("<std>/{path}"), (*text).to_string())
                    .path_durability(salsa::Durability::HIGH)
                    .text_durability(salsa::Durability::HIGH)
                    .new(&db)
            })
            .collect();
        let project = Project::new(&db, Vec::new(), stdlib);
        Workspace {
            db,
            project,
            files: Vec::new(),
        }
    }

    /// Adds a file, or replaces the text of the file with this path.
    pub fn set_file(&mut self, path: &str, text: String) -> SourceFile {
        use salsa::Setter as _;
        if let Some(file) = self
            .files
            .iter()
            .copied()
            .find(|f| f.path(&self.db) == path)
        {
            if file.text(&self.db) != &text {
                file.set_text(&mut self.db).to(text);
            }
            return file;
        }
        let file = SourceFile::new(&self.db, path.to_string(), text);
        self.files.push(file);
        self.project.set_files(&mut self.db).to(self.files.clone());
        file
    }

    /// Replaces the whole set of files.
    pub fn set_files(&mut self, files: impl IntoIterator<Item = (String, String)>) {
        for (path, text) in files {
            self.set_file(&path, text);
        }
    }

    /// Removes the file with this path, if present.
    pub fn remove_file(&mut self, path: &str) {
        use salsa::Setter as _;
        let before = self.files.len();
        let db = &self.db;
        self.files.retain(|f| f.path(db) != path);
        if self.files.len() != before {
            self.project.set_files(&mut self.db).to(self.files.clone());
        }
    }

    /// The database, for queries.
    pub fn db(&self) -> &Database {
        &self.db
    }

    /// The project input.
    pub fn project(&self) -> Project {
        self.project
    }

    /// The project's own files.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// The checked project.
    pub fn checked(&self) -> Arc<CheckedProject> {
        self.parse_in_parallel();
        check_project(&self.db, self.project).clone()
    }

    /// Parses files not parsed yet on all cores, each thread on a clone of
    /// the database; salsa shares the results with the original, so the
    /// check that follows finds them memoized. Parsing dominates a cold
    /// check, and files are independent.
    fn parse_in_parallel(&self) {
        let files: Vec<SourceFile> = self
            .files
            .iter()
            .chain(self.project.stdlib(&self.db).iter())
            .copied()
            .collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .min(8);
        if threads < 2 || files.len() < 2 {
            return;
        }
        let chunk = files.len().div_ceil(threads);
        std::thread::scope(|scope| {
            for part in files.chunks(chunk) {
                let db = self.db.clone();
                scope.spawn(move || {
                    // Nothing writes while `&self` is borrowed, so no
                    // cancellation can occur; catch it anyway rather than
                    // unwind across the scope.
                    let _ = salsa::Cancelled::catch(std::panic::AssertUnwindSafe(|| {
                        for file in part {
                            file_syntax(&db, *file);
                        }
                    }));
                });
            }
        });
    }

    /// Every diagnostic of every file (syntax, resolution, types), by path,
    /// in file order; embedded standard-library files included when they
    /// have any.
    pub fn diagnostics(&self) -> Vec<(String, Vec<Diagnostic>)> {
        let checked = self.checked();
        let mut out = Vec::new();
        for (index, file) in checked.program.files.iter().enumerate() {
            let mut diagnostics = file.syntax.diagnostics.clone();
            diagnostics.extend(checked.diagnostics.get(index).cloned().unwrap_or_default());
            diagnostics.sort_by_key(|d| (d.primary_span().map(|s| s.start), d.severity));
            out.push((file.path.clone(), diagnostics));
        }
        out
    }

    /// The innermost expression at byte `offset` of the file `path`: its
    /// span and its type as shown to users (for hover).
    pub fn type_at(&self, path: &str, offset: u32) -> Option<(Span, String)> {
        let checked = self.checked();
        let file = checked.program.files.iter().position(|f| f.path == path)?;
        let types = checked.types.get(file)?;
        let ((start, end), ty) = types.innermost_at(offset)?;
        Some((Span { start, end }, checked.program.display_ty(ty)))
    }

    /// Where the name at byte `offset` of the file `path` is defined: the
    /// defining file's path and the defined name's span (go to definition).
    pub fn definition_at(&self, path: &str, offset: u32) -> Option<(String, Span)> {
        let checked = self.checked();
        let file = checked.program.files.iter().position(|f| f.path == path)?;
        let reference = checked
            .references
            .get(file)?
            .iter()
            .find(|r| r.used.contains(offset))?;
        let target = checked.program.files.get(reference.definition_file)?;
        Some((target.path.clone(), reference.definition))
    }

    /// Every use of the definition whose name is at byte `offset` of `path`
    /// (or of what the name at `offset` refers to): (path, span) pairs,
    /// the definition itself excluded (find references).
    pub fn references_to(&self, path: &str, offset: u32) -> Vec<(String, Span)> {
        let checked = self.checked();
        let Some(file) = checked.program.files.iter().position(|f| f.path == path) else {
            return Vec::new();
        };
        let (target_file, target) = checked
            .references
            .get(file)
            .and_then(|refs| refs.iter().find(|r| r.used.contains(offset)))
            .map_or((file, None), |r| (r.definition_file, Some(r.definition)));
        // Offset on the definition itself: find the name whose span holds it.
        let target = target.or_else(|| {
            checked
                .references
                .iter()
                .flatten()
                .find(|r| r.definition_file == file && r.definition.contains(offset))
                .map(|r| r.definition)
        });
        let Some(target) = target else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (index, refs) in checked.references.iter().enumerate() {
            for r in refs
                .iter()
                .filter(|r| r.definition_file == target_file && r.definition == target)
            {
                out.push((checked.program.files[index].path.clone(), r.used));
            }
        }
        out
    }

    /// The text of the file with this path (project or embedded).
    pub fn text_of(&self, path: &str) -> Option<String> {
        self.files
            .iter()
            .chain(self.project.stdlib(&self.db).iter())
            .find(|f| f.path(&self.db) == path)
            .map(|f| f.text(&self.db).clone())
    }
}

#[cfg(test)]
mod tests;
