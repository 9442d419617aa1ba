//! Name resolution and type checking over the whole project.
//!
//! The checker runs in phases: collect the definitions of every package,
//! resolve imports (and find import cycles), resolve the types in schemas
//! and signatures, then check every body. Each phase reports what it finds
//! and carries on, giving erroneous parts the type [`Ty::Error`], which is
//! compatible with everything, so one mistake is reported once.

use std::collections::{BTreeMap, HashMap};

use pol_ir::Builtin;
use pol_ir::builtins::{self, BuiltinSig, Receiver, TypePattern};
use pol_syntax::ast::{
    self, BinaryOp, Expr, ExprKind, Ident, QuantKind, RuleKind, TypeExpr, TypeExprKind, UnaryOp,
};
use pol_syntax::{Diagnostic, Span};

use crate::program::*;
use crate::suggest::{did_you_mean, unknown_name_help};
use crate::ty::{EnumId, SchemaId, Ty};
use crate::{CheckedProject, ExprTypes, Reference, Target};

pub(crate) fn check(files: Vec<InputFile>) -> CheckedProject {
    let mut checker = signatures(files);
    // Imported packages first, as each package's own check sees them: an
    // imported `let` is then typed by its own package's check, whose
    // diagnostics (a cycle, say) are the ones reported.
    for package in checker.package_order() {
        checker.check_bodies(&package);
    }
    checker.check_overrides();
    checker.check_policy_recursion();
    checker.finish_files(0..checker.program.files.len());
    checker.into_checked()
}

/// The checker once every name and signature is resolved, before any body
/// is checked: what each package's body check starts from.
pub(crate) fn signatures(files: Vec<InputFile>) -> Checker {
    let mut checker = Checker::new(files);
    checker.collect();
    checker.resolve_imports();
    checker.resolve_signatures();
    checker
}

/// What checking the bodies of one package found, for its own files only:
/// the part of a whole check that [`assemble`] puts together.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PackageBodies {
    /// The package's files, by index in [`Program::files`].
    files: Vec<usize>,
    /// Body diagnostics, one list per entry of `files`.
    diagnostics: Vec<Vec<Diagnostic>>,
    /// Expression types, one per entry of `files` (finished).
    types: Vec<ExprTypes>,
    /// Resolved names, one list per entry of `files` (sorted, deduplicated).
    references: Vec<Vec<Reference>>,
    /// The types of the package's top-level lets.
    lets: Vec<(u32, Ty)>,
    /// The dependency-graph edges out of the package's policies and lets.
    deps: Vec<(Node, Edges)>,
}

/// A whole check from the signatures and every package's bodies: then the
/// checks that span packages (param overrides, recursion between
/// policies). Equal to [`check`] but for the order of diagnostics that
/// start at the same byte, and for a `let` cycle through packages that
/// import each other (an import cycle, reported either way), which each
/// package's check sees only from its side and does not report.
pub(crate) fn assemble<'a>(
    signatures: &Checker,
    bodies: impl IntoIterator<Item = &'a PackageBodies>,
) -> CheckedProject {
    let mut checker = signatures.clone();
    for package in bodies {
        for (k, &file) in package.files.iter().enumerate() {
            checker.diagnostics[file].extend_from_slice(&package.diagnostics[k]);
            checker.types[file] = package.types[k].clone();
            checker.references[file].extend_from_slice(&package.references[k]);
        }
        for (id, ty) in &package.lets {
            checker.program.lets[*id as usize].ty = ty.clone();
            checker.let_state[*id as usize] = LetState::Done;
        }
        for (node, edges) in &package.deps {
            checker.deps.insert(*node, edges.clone());
        }
    }
    checker.check_overrides();
    checker.check_policy_recursion();
    checker.finish_files(0..checker.program.files.len());
    checker.into_checked()
}

/// Resolves the whole project's names and signatures but checks only the
/// body of the item of `file` that starts at byte `offset` (and the
/// top-level lets it reads): what an editor needs to type the expressions
/// of the item being edited, at a fraction of a whole check. Diagnostics
/// of other bodies are missing from the result.
pub(crate) fn check_item(files: Vec<InputFile>, file: usize, offset: u32) -> CheckedProject {
    let mut checker = Checker::new(files);
    checker.collect();
    checker.resolve_imports();
    checker.resolve_signatures();
    checker.check_one_body(file, offset);
    for types in &mut checker.types {
        types.finish();
    }
    checker.into_checked()
}

/// Resolves the whole project's names and signatures but checks only the
/// bodies of the items of `file` (and the top-level lets they read): the
/// diagnostics of one file, at a fraction of a whole check, for an editor
/// to show right after an edit. They equal the whole check's diagnostics of
/// that file, except that a recursion between policies that runs through
/// another file's bodies is found only by the whole check.
pub(crate) fn check_file(files: Vec<InputFile>, file: usize) -> CheckedProject {
    let mut checker = Checker::new(files);
    checker.collect();
    checker.resolve_imports();
    checker.resolve_signatures();
    let offsets: Vec<u32> = checker
        .program
        .files
        .get(file)
        .map(|f| f.syntax.items.iter().map(|(o, _)| *o).collect())
        .unwrap_or_default();
    for offset in offsets {
        checker.check_one_body(file, offset);
    }
    checker.check_overrides();
    checker.check_policy_recursion();
    for types in &mut checker.types {
        types.finish();
    }
    checker.into_checked()
}

const PRIMITIVES: &[&str] = &["bool", "int", "float", "string", "duration", "timestamp"];

/// Members of a decision, for tests and composed policies.
const DECISION_MEMBERS: &[&str] = &[
    "allowed",
    "denied",
    "reasons",
    "fired",
    "requires_approval",
    "redactions",
    "alerted",
    "error",
    "value",
];

const FINDING_FIELDS: &[(&str, Ty)] = &[
    ("kind", Ty::String),
    ("start", Ty::Int),
    ("end", Ty::Int),
    ("text", Ty::String),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LetState {
    Pending,
    InProgress,
    Done,
}

/// A name bound inside a body.
#[derive(Debug)]
struct Local {
    name: String,
    ty: Ty,
    span: Span,
    used: bool,
    /// Whether an unused binding is worth a warning (lets are; quantifier
    /// variables and policy inputs are not).
    warn_unused: bool,
}

/// A node of the dependency graph used to find recursion: a policy, or a
/// top-level `let` (a let may call a policy, and a policy may read a let).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Node {
    Policy(u32),
    Let(u32),
}

/// The uses out of one node of the dependency graph: the node used, the
/// file and the absolute span of the use.
type Edges = Vec<(Node, usize, Span)>;

/// Where an expression is being checked.
#[derive(Debug)]
struct Cx {
    file: usize,
    offset: u32,
    package: String,
    locals: Vec<Local>,
    /// The policy or top-level let whose body this is, for the dependency
    /// graph.
    owner: Option<Node>,
    /// Whether this is a param's default, where `now` is not available.
    in_param: bool,
}

impl Cx {
    fn abs(&self, span: Span) -> Span {
        span.shifted(self.offset)
    }
}

/// What a name or dotted path refers to, before it is used as a value.
#[derive(Debug, Clone)]
enum PathRes {
    Package(String),
    Native(&'static str),
    Schema(SchemaId),
    Enum(EnumId),
    Variant(EnumId),
    Let(u32),
    Param(u32),
    Policy(u32),
    Builtin(&'static BuiltinSig),
    /// Already reported, or a broken item's name.
    Error,
}

/// The checker's state. Cloned (as a package's view) for memoized body
/// checks; see its `PartialEq`.
#[derive(Debug, Clone)]
pub(crate) struct Checker {
    program: Program,
    diagnostics: Vec<Vec<Diagnostic>>,
    let_state: Vec<LetState>,
    /// Dependency graph of policies and top-level lets: user -> (used,
    /// file, absolute span of the use).
    deps: BTreeMap<Node, Edges>,
    /// The declared input types of each policy, by policy index (one entry
    /// per written input, even when there are several).
    policy_inputs: Vec<Vec<Ty>>,
    /// The type of every expression checked, by file and absolute span.
    types: Vec<ExprTypes>,
    /// Every resolved use of a name, by file.
    references: Vec<Vec<Reference>>,
}

/// Whether two views are the same, for salsa to reuse a package's checked
/// bodies. Files' syntax trees compare by pointer: a file whose text did
/// not change keeps its memoized tree, and comparing trees deeply would
/// cost as much as checking them. (Two equal trees at different addresses
/// only re-check a package.)
impl PartialEq for Checker {
    fn eq(&self, other: &Checker) -> bool {
        let (a, b) = (&self.program, &other.program);
        let same_files = a.files.len() == b.files.len()
            && a.files.iter().zip(&b.files).all(|(x, y)| {
                std::sync::Arc::ptr_eq(&x.syntax, &y.syntax)
                    && x.path == y.path
                    && x.embedded == y.embedded
                    && x.package == y.package
                    && x.scope == y.scope
            });
        same_files
            && a.packages == b.packages
            && a.schemas == b.schemas
            && a.enums == b.enums
            && a.lets == b.lets
            && a.params == b.params
            && a.policies == b.policies
            && a.tests == b.tests
            && a.overrides == b.overrides
            && self.diagnostics == other.diagnostics
            && self.let_state == other.let_state
            && self.deps == other.deps
            && self.policy_inputs == other.policy_inputs
            && self.types == other.types
            && self.references == other.references
    }
}

impl Checker {
    fn new(files: Vec<InputFile>) -> Checker {
        let file_count = files.len();
        let diagnostics = vec![Vec::new(); files.len()];
        let files = files
            .into_iter()
            .map(|f| FileInfo {
                path: f.path,
                syntax: f.syntax,
                embedded: f.embedded,
                package: String::new(),
                scope: FileScope::default(),
            })
            .collect();
        Checker {
            program: Program {
                files,
                ..Program::default()
            },
            diagnostics,
            let_state: Vec::new(),
            deps: BTreeMap::new(),
            policy_inputs: Vec::new(),
            types: vec![ExprTypes::default(); file_count],
            references: vec![Vec::new(); file_count],
        }
    }

    /// Records that the name at `used` (absolute, in `file`) refers to
    /// `target`, defined at `definition` (absolute, in `definition_file`).
    fn refer(
        &mut self,
        file: usize,
        used: Span,
        (definition_file, definition): (usize, Span),
        target: Target,
    ) {
        if let Some(list) = self.references.get_mut(file) {
            list.push(Reference {
                used,
                definition_file,
                definition,
                target,
            });
        }
    }

    /// Records a use of an enum variant.
    fn refer_variant(&mut self, file: usize, used: Span, id: EnumId, name: &str) {
        let Some(def) = self.program.enums.get(id.0 as usize) else {
            return;
        };
        if let Some(index) = def.variants.iter().position(|(v, _)| v == name) {
            let at = (def.origin.file, def.variants[index].1);
            self.refer(file, used, at, Target::Variant(id, index as u32));
        }
    }

    /// Records a use of a schema field.
    fn refer_field(&mut self, file: usize, used: Span, id: SchemaId, name: &str) {
        let Some(schema) = self.program.schemas.get(id.0 as usize) else {
            return;
        };
        if let Some(index) = schema.fields.iter().position(|f| f.name == name) {
            let at = (schema.origin.file, schema.fields[index].span);
            self.refer(file, used, at, Target::Field(id, index as u32));
        }
    }

    /// Records a use of a definition.
    fn refer_def(&mut self, file: usize, used: Span, def: Def) {
        let origin = self.def_origin(def);
        let at = (origin.file, origin.name_span);
        self.refer(file, used, at, Target::Def(def));
    }

    fn report(&mut self, file: usize, diagnostic: Diagnostic) {
        if let Some(list) = self.diagnostics.get_mut(file) {
            list.push(diagnostic);
        }
    }

    fn ty_name(&self, ty: &Ty) -> String {
        self.program.display_ty(ty)
    }

    // ------------------------------------------------------------ collect

    fn collect(&mut self) {
        for file in 0..self.program.files.len() {
            let syntax = self.program.files[file].syntax.clone();
            let mut package: Option<&ast::Path> = None;
            for (index, (offset, item)) in syntax.items.iter().enumerate() {
                if let ast::ItemKind::Package(path) = &item.kind {
                    match package {
                        None => {
                            package = Some(path);
                            let broken_before = syntax.broken.iter().any(|b| b.offset < *offset);
                            if index > 0 || broken_before {
                                self.package_not_first(file, path, *offset);
                            }
                        }
                        Some(first) => {
                            let diagnostic = Diagnostic::error(
                                "pol::resolve::duplicate_package",
                                "a file declares its package once",
                            )
                            .with_label(path.span.shifted(*offset), "second `package` declaration")
                            .with_help(format!(
                                "this file already declared `package {}`",
                                first.dotted()
                            ));
                            self.report(file, diagnostic);
                        }
                    }
                }
            }
            let broken_package = syntax
                .broken
                .iter()
                .any(|b| b.keyword == pol_syntax::lexer::TokenKind::KwPackage);
            let name = match package {
                Some(path) => path.dotted(),
                // A `package` line with a syntax error is reported already.
                None if broken_package => format!("<{}>", self.program.files[file].path),
                None => {
                    let at = syntax
                        .items
                        .first()
                        .map_or(Span::default(), |(o, i)| i.span.shifted(*o));
                    let diagnostic = Diagnostic::error(
                        "pol::resolve::missing_package",
                        "file has no `package` declaration",
                    )
                    .with_label(
                        Span::new(at.start as usize, at.start as usize),
                        "expected `package a.b` first",
                    )
                    .with_help(
                        "start the file with `package <name>`, for example `package llm.tools`",
                    );
                    self.report(file, diagnostic);
                    format!("<{}>", self.program.files[file].path)
                }
            };
            self.program.files[file].package = name.clone();
            let info = self.program.packages.entry(name.clone()).or_default();
            info.files.push(file);
            info.broken
                .extend(syntax.broken.iter().filter_map(|b| b.name.clone()));
            info.has_broken_enum |= syntax
                .broken
                .iter()
                .any(|b| b.keyword == pol_syntax::lexer::TokenKind::KwEnum);

            for (index, (offset, item)) in syntax.items.iter().enumerate() {
                let Some(ident) = item.name() else {
                    if let ast::ItemKind::Test(test) = &item.kind {
                        let origin = self.origin(&name, file, index, *offset, test.name.span);
                        self.program.tests.push(TestDef {
                            name: test.name.value.clone(),
                            origin,
                        });
                    }
                    continue;
                };
                let origin = self.origin(&name, file, index, *offset, ident.span);
                let def = match &item.kind {
                    ast::ItemKind::Schema(_) => {
                        self.program.schemas.push(SchemaDef {
                            name: ident.name.clone(),
                            origin: origin.clone(),
                            fields: Vec::new(),
                        });
                        Def::Schema(SchemaId(self.program.schemas.len() as u32 - 1))
                    }
                    ast::ItemKind::Enum(_) => {
                        self.program.enums.push(EnumDef {
                            name: ident.name.clone(),
                            origin: origin.clone(),
                            variants: Vec::new(),
                        });
                        Def::Enum(EnumId(self.program.enums.len() as u32 - 1))
                    }
                    ast::ItemKind::Let(_) => {
                        self.program.lets.push(LetDef {
                            name: ident.name.clone(),
                            origin: origin.clone(),
                            ty: Ty::Error,
                        });
                        self.let_state.push(LetState::Pending);
                        Def::Let(self.program.lets.len() as u32 - 1)
                    }
                    ast::ItemKind::Param(_) => {
                        self.program.params.push(ParamDef {
                            name: ident.name.clone(),
                            origin: origin.clone(),
                            ty: Ty::Error,
                        });
                        Def::Param(self.program.params.len() as u32 - 1)
                    }
                    ast::ItemKind::Policy(_) => {
                        self.program.policies.push(PolicyDef {
                            name: ident.name.clone(),
                            origin: origin.clone(),
                            input: Ty::Error,
                            kind: PolicyKind::Decision,
                        });
                        Def::Policy(self.program.policies.len() as u32 - 1)
                    }
                    _ => continue,
                };
                self.define(&name, &ident.name, def, &origin);
            }
        }
        self.check_duplicate_tests();
    }

    /// Reports a file's `package` declaration that other items precede:
    /// readers (and tools) look for it at the top.
    fn package_not_first(&mut self, file: usize, path: &ast::Path, offset: u32) {
        let first = self.program.files[file].syntax.items.first().map(|(o, i)| {
            let start = i.span.shifted(*o).start as usize;
            Span::new(start, start)
        });
        let mut diagnostic = Diagnostic::error(
            "pol::resolve::package_not_first",
            "the `package` declaration must be the first item of the file",
        )
        .with_label(path.span.shifted(offset), "declared after other items");
        if let Some(first) = first {
            diagnostic = diagnostic.with_label(first, "the file starts here");
        }
        self.report(
            file,
            diagnostic.with_help(format!(
                "move `package {}` to the top of the file",
                path.dotted()
            )),
        );
    }

    fn origin(
        &self,
        package: &str,
        file: usize,
        item: usize,
        offset: u32,
        name_span: Span,
    ) -> Origin {
        Origin {
            package: package.to_string(),
            file,
            item,
            offset,
            name_span: name_span.shifted(offset),
        }
    }

    fn def_origin(&self, def: Def) -> &Origin {
        match def {
            Def::Schema(id) => &self.program.schemas[id.0 as usize].origin,
            Def::Enum(id) => &self.program.enums[id.0 as usize].origin,
            Def::Let(i) => &self.program.lets[i as usize].origin,
            Def::Param(i) => &self.program.params[i as usize].origin,
            Def::Policy(i) => &self.program.policies[i as usize].origin,
        }
    }

    fn define(&mut self, package: &str, name: &str, def: Def, origin: &Origin) {
        let existing = self
            .program
            .packages
            .get(package)
            .and_then(|p| p.defs.get(name).copied());
        match existing {
            None => {
                if let Some(info) = self.program.packages.get_mut(package) {
                    info.defs.insert(name.to_string(), def);
                }
            }
            Some(first) => {
                let first = self.def_origin(first).clone();
                let mut diagnostic = Diagnostic::error(
                    "pol::resolve::duplicate_definition",
                    format!("`{name}` is defined more than once in package `{package}`"),
                )
                .with_label(origin.name_span, "defined again here");
                diagnostic = if first.file == origin.file {
                    diagnostic.with_label(first.name_span, "first defined here")
                } else {
                    let path = self.program.files[first.file].path.clone();
                    diagnostic.with_label_in(path, first.name_span, "first defined here")
                };
                self.report(origin.file, diagnostic.with_help("rename one of them"));
            }
        }
    }

    fn check_duplicate_tests(&mut self) {
        let mut seen: HashMap<(String, String), Origin> = HashMap::new();
        let tests = self.program.tests.clone();
        for test in tests {
            let key = (test.origin.package.clone(), test.name.clone());
            if let Some(first) = seen.get(&key) {
                let mut diagnostic = Diagnostic::error(
                    "pol::resolve::duplicate_test",
                    format!(
                        "two tests are named \"{}\" in package `{}`",
                        test.name, test.origin.package
                    ),
                )
                .with_label(test.origin.name_span, "second test with this name");
                diagnostic = if first.file == test.origin.file {
                    diagnostic.with_label(first.name_span, "first test with this name")
                } else {
                    let path = self.program.files[first.file].path.clone();
                    diagnostic.with_label_in(path, first.name_span, "first test with this name")
                };
                self.report(
                    test.origin.file,
                    diagnostic
                        .with_help("test names identify results in reports; make them unique"),
                );
            } else {
                seen.insert(key, test.origin.clone());
            }
        }
    }

    // ------------------------------------------------------------ imports

    fn resolve_imports(&mut self) {
        // package -> imported packages with the import's file and span.
        let mut graph: BTreeMap<String, Vec<(String, usize, Span)>> = BTreeMap::new();
        for file in 0..self.program.files.len() {
            let syntax = self.program.files[file].syntax.clone();
            let package = self.program.files[file].package.clone();
            let mut scope = FileScope::default();
            for (offset, item) in &syntax.items {
                let ast::ItemKind::Import(import) = &item.kind else {
                    continue;
                };
                let target_name = import.path.dotted();
                let span = import.path.span.shifted(*offset);
                let target = if let Some(native) =
                    builtins::NATIVE_MODULES.iter().find(|m| **m == target_name)
                {
                    ImportTarget::Native(native)
                } else if self.program.packages.contains_key(&target_name)
                    && !target_name.starts_with('<')
                {
                    ImportTarget::Package(target_name.clone())
                } else {
                    let known: Vec<&str> = self
                        .program
                        .packages
                        .keys()
                        .map(String::as_str)
                        .filter(|p| !p.starts_with('<'))
                        .chain(builtins::NATIVE_MODULES.iter().copied())
                        .collect();
                    let mut diagnostic = Diagnostic::error(
                        "pol::resolve::unknown_import",
                        format!("unknown package `{target_name}`"),
                    )
                    .with_label(span, "no such package");
                    diagnostic = match did_you_mean(&target_name, known.iter().copied()) {
                        Some(s) => diagnostic.with_help(format!("did you mean `{s}`?")),
                        None => diagnostic.with_help(format!(
                            "packages come from `.pol` files in the checked paths, the embedded standard library, and the native modules {}",
                            builtins::NATIVE_MODULES.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                        )),
                    };
                    self.report(file, diagnostic);
                    continue;
                };
                if target == ImportTarget::Package(package.clone()) {
                    let diagnostic = Diagnostic::error(
                        "pol::resolve::import_cycle",
                        format!("package `{package}` imports itself"),
                    )
                    .with_label(span, "this is the current package")
                    .with_help("names of the current package are in scope without an import");
                    self.report(file, diagnostic);
                    continue;
                }
                let local = import.local_name();
                let local_span = local.span.shifted(*offset);
                if let Some((_, first)) = scope.imports.get(&local.name) {
                    let diagnostic = Diagnostic::error("pol::resolve::duplicate_import", format!("`{}` is imported twice", local.name))
                        .with_label(local_span, "imported again here")
                        .with_label(*first, "first imported here")
                        .with_help(format!("give one of them another name with `as`, e.g. `import {target_name} as other`"));
                    self.report(file, diagnostic);
                    continue;
                }
                if let Some(def) = self
                    .program
                    .packages
                    .get(&package)
                    .and_then(|p| p.defs.get(&local.name))
                    .copied()
                {
                    let origin = self.def_origin(def).clone();
                    let mut diagnostic = Diagnostic::error(
                        "pol::resolve::ambiguous_name",
                        format!(
                            "`{}` names both an import and a definition of this package",
                            local.name
                        ),
                    )
                    .with_label(local_span, "the import binds it here");
                    diagnostic = if origin.file == file {
                        diagnostic.with_label(origin.name_span, "the definition")
                    } else {
                        let path = self.program.files[origin.file].path.clone();
                        diagnostic.with_label_in(path, origin.name_span, "the definition")
                    };
                    self.report(
                        file,
                        diagnostic.with_help(format!(
                            "import it under another name: `import {target_name} as ...`"
                        )),
                    );
                    continue;
                }
                if let ImportTarget::Package(p) = &target {
                    graph
                        .entry(package.clone())
                        .or_default()
                        .push((p.clone(), file, span));
                }
                scope
                    .imports
                    .insert(local.name.clone(), (target, local_span));
            }
            self.program.files[file].scope = scope;
        }
        self.report_import_cycles(&graph);
    }

    fn report_import_cycles(&mut self, graph: &BTreeMap<String, Vec<(String, usize, Span)>>) {
        // Depth-first search with an explicit stack; each back edge is a cycle.
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Active,
            Done,
        }
        let mut marks: BTreeMap<&str, Mark> =
            graph.keys().map(|k| (k.as_str(), Mark::New)).collect();
        let roots: Vec<&str> = graph.keys().map(String::as_str).collect();
        for root in roots {
            if marks.get(root) != Some(&Mark::New) {
                continue;
            }
            let mut stack: Vec<(&str, usize)> = vec![(root, 0)];
            marks.insert(root, Mark::Active);
            while let Some((node, next)) = stack.last().copied() {
                let edges = graph.get(node).map(Vec::as_slice).unwrap_or(&[]);
                if let Some((target, file, span)) = edges.get(next) {
                    if let Some(top) = stack.last_mut() {
                        top.1 += 1;
                    }
                    match marks.get(target.as_str()).copied().unwrap_or(Mark::Done) {
                        Mark::New => {
                            marks.insert(target.as_str(), Mark::Active);
                            stack.push((target.as_str(), 0));
                        }
                        Mark::Active => {
                            let start = stack
                                .iter()
                                .position(|(n, _)| *n == target.as_str())
                                .unwrap_or(0);
                            let mut cycle: Vec<&str> =
                                stack[start..].iter().map(|(n, _)| *n).collect();
                            cycle.push(target.as_str());
                            let diagnostic = Diagnostic::error(
                                "pol::resolve::import_cycle",
                                format!("import cycle: {}", cycle.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(" -> ")),
                            )
                            .with_label(*span, "this import closes the cycle")
                            .with_help("packages must form a hierarchy; move the shared definitions into a package both can import");
                            self.report(*file, diagnostic);
                        }
                        Mark::Done => {}
                    }
                } else {
                    marks.insert(node, Mark::Done);
                    stack.pop();
                }
            }
        }
    }

    // ------------------------------------------------------------ signatures

    fn resolve_signatures(&mut self) {
        for id in 0..self.program.enums.len() {
            let origin = self.program.enums[id].origin.clone();
            let item = self.item_arc(&origin);
            let Some(ast::ItemKind::Enum(decl)) = item.as_deref().map(|i| &i.kind) else {
                continue;
            };
            let mut variants: Vec<(String, Span)> = Vec::new();
            for variant in &decl.variants {
                let span = variant.name.span.shifted(origin.offset);
                if let Some((_, first)) = variants.iter().find(|(n, _)| *n == variant.name.name) {
                    let diagnostic = Diagnostic::error(
                        "pol::resolve::duplicate_variant",
                        format!(
                            "variant `{}` appears twice in enum `{}`",
                            variant.name.name, decl.name.name
                        ),
                    )
                    .with_label(span, "again here")
                    .with_label(*first, "first here")
                    .with_help("variants are ordered by declaration; keep one");
                    self.report(origin.file, diagnostic);
                } else {
                    variants.push((variant.name.name.clone(), span));
                }
            }
            if variants.is_empty() {
                let diagnostic = Diagnostic::error(
                    "pol::type::empty_enum",
                    format!("enum `{}` has no variants", decl.name.name),
                )
                .with_label(origin.name_span, "declared here")
                .with_help("an enum needs at least one variant: `enum Level { low, high }`");
                self.report(origin.file, diagnostic);
            }
            self.program.enums[id].variants = variants;
        }
        for id in 0..self.program.schemas.len() {
            let origin = self.program.schemas[id].origin.clone();
            let item = self.item_arc(&origin);
            let Some(ast::ItemKind::Schema(decl)) = item.as_deref().map(|i| &i.kind) else {
                continue;
            };
            let mut fields: Vec<FieldDef> = Vec::new();
            for field in &decl.fields {
                let span = field.name.span.shifted(origin.offset);
                let ty = self.resolve_type(origin.file, origin.offset, &field.ty);
                if let Some(first) = fields.iter().find(|f| f.name == field.name.name) {
                    let diagnostic = Diagnostic::error(
                        "pol::resolve::duplicate_field",
                        format!(
                            "field `{}` appears twice in schema `{}`",
                            field.name.name, decl.name.name
                        ),
                    )
                    .with_label(span, "again here")
                    .with_label(first.span, "first here")
                    .with_help("remove or rename one of them");
                    self.report(origin.file, diagnostic);
                    continue;
                }
                fields.push(FieldDef {
                    name: field.name.name.clone(),
                    ty,
                    span,
                });
            }
            self.program.schemas[id].fields = fields;
        }
        for id in 0..self.program.params.len() {
            let origin = self.program.params[id].origin.clone();
            let item = self.item_arc(&origin);
            let Some(ast::ItemKind::Param(binding)) = item.as_deref().map(|i| &i.kind) else {
                continue;
            };
            if let Some(ty) = &binding.ty {
                self.program.params[id].ty = self.resolve_type(origin.file, origin.offset, ty);
            }
        }
        self.policy_inputs = vec![Vec::new(); self.program.policies.len()];
        for id in 0..self.program.policies.len() {
            let origin = self.program.policies[id].origin.clone();
            let item = self.item_arc(&origin);
            let Some(ast::ItemKind::Policy(policy)) = item.as_deref().map(|i| &i.kind) else {
                continue;
            };
            let inputs: Vec<Ty> = policy
                .params
                .iter()
                .map(|param| self.resolve_type(origin.file, origin.offset, &param.ty))
                .collect();
            let input = match inputs.as_slice() {
                [input] => input.clone(),
                _ => {
                    let params = policy.params.as_slice();
                    let span = match (params.first(), params.last()) {
                        (Some(a), Some(b)) => a.name.span.cover(b.ty.span).shifted(origin.offset),
                        _ => origin.name_span,
                    };
                    let diagnostic = Diagnostic::error(
                        "pol::type::policy_input",
                        format!("policy `{}` takes {} inputs; a policy takes exactly one", policy.name.name, params.len()),
                    )
                    .with_label(span, "expected one `name: Schema`")
                    .with_help("put what the policy needs into one schema: `policy p(req: Request) -> Decision`");
                    self.report(origin.file, diagnostic);
                    Ty::Error
                }
            };
            self.policy_inputs[id] = inputs;
            let ret = self.resolve_type(origin.file, origin.offset, &policy.ret);
            let has_keep = policy
                .body
                .iter()
                .any(|s| matches!(s, ast::PolicyStmt::Rule(r) if matches!(r.kind, RuleKind::Keep { .. })));
            let kind = match (&ret, has_keep) {
                (Ty::Decision, _) => PolicyKind::Decision,
                (Ty::List(_), true) => PolicyKind::Filter(ret.clone()),
                (Ty::Error, _) => {
                    // Guess the kind from the rules, so an unknown return
                    // type is reported once and not on every rule.
                    let values = policy.body.iter().any(|s| {
                        matches!(s, ast::PolicyStmt::Rule(r) if matches!(r.kind, RuleKind::Return { .. } | RuleKind::DefaultValue(_)))
                    });
                    if has_keep {
                        PolicyKind::Filter(Ty::Error)
                    } else if values {
                        PolicyKind::Value(Ty::Error)
                    } else {
                        PolicyKind::Decision
                    }
                }
                (_, true) => {
                    let diagnostic = Diagnostic::error(
                        "pol::type::filter_return",
                        format!(
                            "a filter policy returns a list, but `{}` returns `{}`",
                            policy.name.name,
                            self.ty_name(&ret)
                        ),
                    )
                    .with_label(policy.ret.span.shifted(origin.offset), "declared here")
                    .with_help("declare the result as `list<T>` where `T` is the element kept");
                    self.report(origin.file, diagnostic);
                    PolicyKind::Filter(Ty::Error)
                }
                _ => PolicyKind::Value(ret.clone()),
            };
            self.program.policies[id].input = input;
            self.program.policies[id].kind = kind;
        }
    }

    /// Resolves a written type in the scope of `file`.
    fn resolve_type(&mut self, file: usize, offset: u32, ty: &TypeExpr) -> Ty {
        match &ty.kind {
            TypeExprKind::List(inner) => Ty::List(Box::new(self.resolve_type(file, offset, inner))),
            TypeExprKind::Set(inner) => Ty::Set(Box::new(self.resolve_type(file, offset, inner))),
            TypeExprKind::Optional(inner) => self.resolve_type(file, offset, inner).optional(),
            TypeExprKind::Map(key, value) => {
                let key_ty = self.resolve_type(file, offset, key);
                if !matches!(key_ty, Ty::String | Ty::Error) {
                    let diagnostic = Diagnostic::error(
                        "pol::type::map_key",
                        format!("map keys must be `string`, not `{}`", self.ty_name(&key_ty)),
                    )
                    .with_label(key.span.shifted(offset), "key type")
                    .with_help("JSON object keys are strings; write `map<string, T>`");
                    self.report(file, diagnostic);
                }
                Ty::Map(Box::new(self.resolve_type(file, offset, value)))
            }
            TypeExprKind::Named(path) => self.resolve_named_type(file, offset, path),
        }
    }

    fn resolve_named_type(&mut self, file: usize, offset: u32, path: &ast::Path) -> Ty {
        let span = path.span.shifted(offset);
        let (package, name) = match path.segments.as_slice() {
            [single] => {
                let builtin = match single.name.as_str() {
                    "bool" => Some(Ty::Bool),
                    "int" => Some(Ty::Int),
                    "float" => Some(Ty::Float),
                    "string" => Some(Ty::String),
                    "duration" => Some(Ty::Duration),
                    "timestamp" => Some(Ty::Timestamp),
                    "Decision" => Some(Ty::Decision),
                    "Finding" => Some(Ty::Finding),
                    _ => None,
                };
                if let Some(ty) = builtin {
                    return ty;
                }
                (self.program.files[file].package.clone(), single)
            }
            [alias, name] => match self.program.files[file].scope.imports.get(&alias.name) {
                Some((ImportTarget::Package(p), _)) => (p.clone(), name),
                Some((ImportTarget::Native(m), _)) => {
                    let diagnostic = Diagnostic::error(
                        "pol::resolve::unknown_type",
                        format!("native module `{m}` defines no types"),
                    )
                    .with_label(span, "not a type")
                    .with_help("builtin findings have the type `Finding`");
                    self.report(file, diagnostic);
                    return Ty::Error;
                }
                None => {
                    if self.is_broken(&self.program.files[file].package.clone(), &alias.name) {
                        return Ty::Error;
                    }
                    let help = match self.imported_as(file, &alias.name) {
                        Some((target, local)) => format!(
                            "`{target}` is imported as `{local}`: write `{local}.{}`",
                            name.name
                        ),
                        None => format!(
                            "add `import <package>` naming `{}` at the top of the file",
                            alias.name
                        ),
                    };
                    let diagnostic = Diagnostic::error(
                        "pol::resolve::unknown_name",
                        format!("unknown package `{}`", alias.name),
                    )
                    .with_label(alias.span.shifted(offset), "not imported")
                    .with_help(help);
                    self.report(file, diagnostic);
                    return Ty::Error;
                }
            },
            _ => {
                let diagnostic = Diagnostic::error(
                    "pol::resolve::unknown_type",
                    format!("unknown type `{}`", path.dotted()),
                )
                .with_label(span, "not a type")
                .with_help("write `Name` or `package_alias.Name`");
                self.report(file, diagnostic);
                return Ty::Error;
            }
        };
        match self
            .program
            .packages
            .get(&package)
            .and_then(|p| p.defs.get(&name.name))
            .copied()
        {
            Some(def @ Def::Schema(id)) => {
                self.refer_def(file, name.span.shifted(offset), def);
                Ty::Schema(id)
            }
            Some(def @ Def::Enum(id)) => {
                self.refer_def(file, name.span.shifted(offset), def);
                Ty::Enum(id)
            }
            Some(_) => {
                let diagnostic = Diagnostic::error("pol::resolve::not_a_type", format!("`{}` is not a type", name.name))
                    .with_label(span, "a value, not a type")
                    .with_help("types are `bool`, `int`, `float`, `string`, `duration`, `timestamp`, schemas, enums and collections of them");
                self.report(file, diagnostic);
                Ty::Error
            }
            None if self.is_broken(&package, &name.name) => Ty::Error,
            None => {
                let mut candidates: Vec<String> =
                    PRIMITIVES.iter().map(|s| (*s).to_string()).collect();
                candidates.push("Decision".into());
                candidates.push("Finding".into());
                if let Some(info) = self.program.packages.get(&package) {
                    for (n, d) in &info.defs {
                        if matches!(d, Def::Schema(_) | Def::Enum(_)) {
                            candidates.push(n.clone());
                        }
                    }
                }
                let mut diagnostic = Diagnostic::error(
                    "pol::resolve::unknown_type",
                    format!("unknown type `{}`", path.dotted()),
                )
                .with_label(span, "not defined");
                let lower = name.name.to_lowercase();
                diagnostic = match did_you_mean(&name.name, candidates.iter().map(String::as_str)) {
                    Some(s) => diagnostic.with_help(format!("did you mean `{s}`?")),
                    None if ["str", "text"].contains(&lower.as_str()) => {
                        diagnostic.with_help("did you mean `string`?")
                    }
                    None if ["integer", "i64", "number"].contains(&lower.as_str()) => {
                        diagnostic.with_help("did you mean `int`?")
                    }
                    None if ["boolean"].contains(&lower.as_str()) => {
                        diagnostic.with_help("did you mean `bool`?")
                    }
                    None => diagnostic.with_help(
                        "declare it with `schema` or `enum`, or import the package that does",
                    ),
                };
                self.report(file, diagnostic);
                Ty::Error
            }
        }
    }

    /// The item a definition comes from, shared (not copied), so the
    /// checker can borrow it while it updates the program.
    fn item_arc(&self, origin: &Origin) -> Option<std::sync::Arc<ast::Item>> {
        self.program
            .files
            .get(origin.file)?
            .syntax
            .items
            .get(origin.item)
            .map(|(_, item)| item.clone())
    }

    /// Whether an `enum` of the package failed to parse (its variants are
    /// unknown).
    fn has_broken_type(&self, package: &str) -> bool {
        self.program
            .packages
            .get(package)
            .is_some_and(|p| p.has_broken_enum)
    }

    fn is_broken(&self, package: &str, name: &str) -> bool {
        self.program
            .packages
            .get(package)
            .is_some_and(|p| p.broken.iter().any(|b| b == name))
    }

    // ------------------------------------------------------------ bodies

    /// Checks the bodies of one package: lets, params, policies and tests.
    /// (Param overrides span packages: see [`Checker::check_overrides`].)
    fn check_bodies(&mut self, package: &str) {
        let ours = |origin: &Origin| origin.package == package;
        for id in 0..self.program.lets.len() {
            if ours(&self.program.lets[id].origin) {
                self.ensure_let(id as u32, None);
            }
        }
        for id in 0..self.program.params.len() {
            let origin = self.program.params[id].origin.clone();
            if !ours(&origin) {
                continue;
            }
            let item = self.item_arc(&origin);
            let Some(ast::ItemKind::Param(binding)) = item.as_deref().map(|i| &i.kind) else {
                continue;
            };
            let ty = self.program.params[id].ty.clone();
            let mut cx = self.cx_for(&origin, None);
            // Params are load-time data: their defaults cannot depend on the
            // request being evaluated.
            cx.in_param = true;
            self.expect(&mut cx, &binding.value, &ty);
        }
        for id in 0..self.program.policies.len() {
            if ours(&self.program.policies[id].origin) {
                self.check_policy(id as u32);
            }
        }
        for id in 0..self.program.tests.len() {
            let origin = self.program.tests[id].origin.clone();
            if !ours(&origin) {
                continue;
            }
            let item = self.item_arc(&origin);
            let Some(ast::ItemKind::Test(test)) = item.as_deref().map(|i| &i.kind) else {
                continue;
            };
            let mut cx = self.cx_for(&origin, None);
            self.test_stmts(&mut cx, &test.body);
            self.warn_unused(&mut cx, 0);
        }
    }

    /// The packages the bodies of `package` can reach: itself and what it
    /// imports, transitively (an imported untyped `let` is typed by checking
    /// its body, which may read its own imports).
    fn reachable(&self, package: &str) -> std::collections::BTreeSet<String> {
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![package.to_string()];
        while let Some(next) = todo.pop() {
            if !seen.insert(next.clone()) {
                continue;
            }
            for &file in self
                .program
                .packages
                .get(&next)
                .map_or(&[][..], |p| &p.files)
            {
                for (target, _) in self.program.files[file].scope.imports.values() {
                    if let ImportTarget::Package(p) = target {
                        todo.push(p.clone());
                    }
                }
            }
        }
        seen
    }

    /// The signatures as the bodies of `package` see them: the packages it
    /// cannot reach keep their definitions' ids (types refer to them by
    /// index) but lose their contents, syntax and positions. Two views are
    /// equal when nothing `package` reads changed, so an edit in one
    /// package does not re-check the bodies of packages that do not import
    /// it.
    pub(crate) fn view(&self, package: &str) -> Checker {
        let reach = self.reachable(package);
        let visible: Vec<bool> = (self.program.files.iter())
            .map(|f| reach.contains(&f.package))
            .collect();
        let seen = |origin: &Origin| visible.get(origin.file).copied().unwrap_or(false);
        // No package is named "" (a file without one gets `<path>`), so a
        // hidden definition is never taken for a visible package's.
        let hidden = |origin: &Origin| Origin {
            package: String::new(),
            file: origin.file,
            item: 0,
            offset: 0,
            name_span: Span::default(),
        };
        // One empty tree for every hidden file, so views compare equal.
        static EMPTY: std::sync::LazyLock<std::sync::Arc<crate::FileSyntax>> =
            std::sync::LazyLock::new(|| {
                std::sync::Arc::new(crate::FileSyntax {
                    items: Vec::new(),
                    broken: Vec::new(),
                    diagnostics: Vec::new(),
                    line_starts: vec![0],
                })
            });
        let empty = &*EMPTY;
        let program = &self.program;
        let files = program
            .files
            .iter()
            .zip(&visible)
            .map(|(f, &visible)| {
                if visible {
                    f.clone()
                } else {
                    FileInfo {
                        path: f.path.clone(),
                        syntax: empty.clone(),
                        embedded: f.embedded,
                        package: f.package.clone(),
                        scope: FileScope::default(),
                    }
                }
            })
            .collect();
        let packages = program
            .packages
            .iter()
            .map(|(name, info)| {
                let info = if reach.contains(name) {
                    info.clone()
                } else {
                    PackageInfo::default()
                };
                (name.clone(), info)
            })
            .collect();
        let view = Program {
            files,
            packages,
            schemas: (program.schemas.iter())
                .map(|d| match seen(&d.origin) {
                    true => d.clone(),
                    false => SchemaDef {
                        name: String::new(),
                        origin: hidden(&d.origin),
                        fields: Vec::new(),
                    },
                })
                .collect(),
            enums: (program.enums.iter())
                .map(|d| match seen(&d.origin) {
                    true => d.clone(),
                    false => EnumDef {
                        name: String::new(),
                        origin: hidden(&d.origin),
                        variants: Vec::new(),
                    },
                })
                .collect(),
            lets: (program.lets.iter())
                .map(|d| match seen(&d.origin) {
                    true => d.clone(),
                    false => LetDef {
                        name: String::new(),
                        origin: hidden(&d.origin),
                        ty: Ty::Error,
                    },
                })
                .collect(),
            params: (program.params.iter())
                .map(|d| match seen(&d.origin) {
                    true => d.clone(),
                    false => ParamDef {
                        name: String::new(),
                        origin: hidden(&d.origin),
                        ty: Ty::Error,
                    },
                })
                .collect(),
            policies: (program.policies.iter())
                .map(|d| match seen(&d.origin) {
                    true => d.clone(),
                    false => PolicyDef {
                        name: String::new(),
                        origin: hidden(&d.origin),
                        input: Ty::Error,
                        kind: PolicyKind::Decision,
                    },
                })
                .collect(),
            tests: (program.tests.iter())
                .map(|d| match seen(&d.origin) {
                    true => d.clone(),
                    false => TestDef {
                        name: String::new(),
                        origin: hidden(&d.origin),
                    },
                })
                .collect(),
            overrides: Vec::new(),
        };
        let policy_inputs = (self.policy_inputs.iter().zip(&program.policies))
            .map(|(inputs, def)| match seen(&def.origin) {
                true => inputs.clone(),
                false => Vec::new(),
            })
            .collect();
        let count = program.files.len();
        Checker {
            program: view,
            diagnostics: vec![Vec::new(); count],
            let_state: self.let_state.clone(),
            deps: BTreeMap::new(),
            policy_inputs,
            types: vec![ExprTypes::default(); count],
            references: vec![Vec::new(); count],
        }
    }

    /// Checks the bodies of `package` on its [`view`](Checker::view) and
    /// keeps what belongs to its own files.
    pub(crate) fn check_package(mut self, package: &str) -> PackageBodies {
        self.check_bodies(package);
        let files = self
            .program
            .packages
            .get(package)
            .map(|p| p.files.clone())
            .unwrap_or_default();
        self.finish_files(files.iter().copied());
        let ours = |origin: &Origin| origin.package == package;
        let lets = (self.program.lets.iter().enumerate())
            .filter(|(_, d)| ours(&d.origin))
            .map(|(id, d)| (id as u32, d.ty.clone()))
            .collect();
        let deps = std::mem::take(&mut self.deps)
            .into_iter()
            .filter(|(node, _)| match *node {
                Node::Policy(i) => ours(&self.program.policies[i as usize].origin),
                Node::Let(i) => ours(&self.program.lets[i as usize].origin),
            })
            .collect();
        PackageBodies {
            diagnostics: files
                .iter()
                .map(|&f| std::mem::take(&mut self.diagnostics[f]))
                .collect(),
            types: files
                .iter()
                .map(|&f| std::mem::take(&mut self.types[f]))
                .collect(),
            references: files
                .iter()
                .map(|&f| std::mem::take(&mut self.references[f]))
                .collect(),
            files,
            lets,
            deps,
        }
    }

    /// Sorts the recorded types and references of these files (a name is
    /// resolved each time an enclosing path is: one record is kept).
    fn finish_files(&mut self, files: impl IntoIterator<Item = usize>) {
        for file in files {
            if let Some(types) = self.types.get_mut(file) {
                types.finish();
            }
            if let Some(references) = self.references.get_mut(file) {
                references.sort_by_key(|r| {
                    (
                        r.used.start,
                        r.used.end,
                        r.definition_file,
                        r.definition.start,
                    )
                });
                references.dedup();
            }
        }
    }

    /// The project's packages, each after the packages it imports (in
    /// name order otherwise; a cycle of imports is broken anywhere).
    fn package_order(&self) -> Vec<String> {
        let mut order = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for root in self.program.packages.keys() {
            // Iterative depth-first search, emitting a package after its
            // imports.
            let mut stack = vec![(root.clone(), false)];
            while let Some((package, imports_done)) = stack.pop() {
                if imports_done {
                    order.push(package);
                    continue;
                }
                if !seen.insert(package.clone()) {
                    continue;
                }
                stack.push((package.clone(), true));
                let files = self
                    .program
                    .packages
                    .get(&package)
                    .map_or(&[][..], |p| &p.files);
                for &file in files {
                    for (target, _) in self.program.files[file].scope.imports.values() {
                        if let ImportTarget::Package(p) = target
                            && !seen.contains(p)
                        {
                            stack.push((p.clone(), false));
                        }
                    }
                }
            }
        }
        order
    }

    /// The names of the project's packages.
    pub(crate) fn packages(&self) -> impl Iterator<Item = &str> {
        self.program.packages.keys().map(String::as_str)
    }

    fn into_checked(self) -> CheckedProject {
        CheckedProject {
            program: self.program,
            diagnostics: self.diagnostics,
            types: self.types,
            references: self.references,
        }
    }

    /// Checks the body of one item (see [`check_item`]).
    fn check_one_body(&mut self, file: usize, offset: u32) {
        let at = |origin: &Origin| origin.file == file && origin.offset == offset;
        if let Some(id) = self.program.lets.iter().position(|l| at(&l.origin)) {
            self.ensure_let(id as u32, None);
            return;
        }
        if let Some(id) = self.program.policies.iter().position(|p| at(&p.origin)) {
            self.check_policy(id as u32);
            return;
        }
        if let Some(id) = self.program.params.iter().position(|p| at(&p.origin)) {
            let origin = self.program.params[id].origin.clone();
            let item = self.item_arc(&origin);
            if let Some(ast::ItemKind::Param(binding)) = item.as_deref().map(|i| &i.kind) {
                let ty = self.program.params[id].ty.clone();
                let mut cx = self.cx_for(&origin, None);
                cx.in_param = true;
                self.expect(&mut cx, &binding.value, &ty);
            }
            return;
        }
        if let Some(id) = self.program.tests.iter().position(|t| at(&t.origin)) {
            let origin = self.program.tests[id].origin.clone();
            let item = self.item_arc(&origin);
            if let Some(ast::ItemKind::Test(test)) = item.as_deref().map(|i| &i.kind) {
                let mut cx = self.cx_for(&origin, None);
                self.test_stmts(&mut cx, &test.body);
                self.warn_unused(&mut cx, 0);
            }
        }
    }

    /// `param alias.name = value`: the target must be a param of an
    /// imported package, the value of its type, and no param is set twice.
    fn check_overrides(&mut self) {
        let mut first_set: HashMap<u32, (usize, Span)> = HashMap::new();
        for file in 0..self.program.files.len() {
            let syntax = self.program.files[file].syntax.clone();
            for (index, (offset, item)) in syntax.items.iter().enumerate() {
                let ast::ItemKind::ParamOverride(target) = &item.kind else {
                    continue;
                };
                let package = self.program.files[file].package.clone();
                let origin = self.origin(&package, file, index, *offset, target.target.span);
                let mut cx = self.cx_for(&origin, None);
                cx.in_param = true;
                let path = path_expr(&target.target);
                let ty = match self.resolve_path(&mut cx, &path) {
                    Some(PathRes::Param(param)) => {
                        let declared = self.program.params[param as usize].clone();
                        // An import never names the importing package itself
                        // (that is an import cycle), so `declared` is foreign.
                        if let Some((first_file, first_span)) = first_set.get(&param).copied() {
                            let mut diagnostic = Diagnostic::error(
                                "pol::resolve::conflicting_override",
                                format!(
                                    "param `{}.{}` is set twice",
                                    declared.origin.package, declared.name
                                ),
                            )
                            .with_label(origin.name_span, "set again here");
                            diagnostic = if first_file == file {
                                diagnostic.with_label(first_span, "first set here")
                            } else {
                                let path = self.program.files[first_file].path.clone();
                                diagnostic.with_label_in(path, first_span, "first set here")
                            };
                            self.report(
                                file,
                                diagnostic.with_help(
                                    "a param takes one value per program: keep one of the settings",
                                ),
                            );
                        } else {
                            first_set.insert(param, (file, origin.name_span));
                            self.program.overrides.push(ParamOverrideDef {
                                param,
                                origin: origin.clone(),
                            });
                        }
                        declared.ty
                    }
                    Some(PathRes::Error) => Ty::Error,
                    _ => {
                        let diagnostic = Diagnostic::error(
                            "pol::type::bad_override",
                            format!("`{}` is not a param of an imported package", target.target.dotted()),
                        )
                        .with_label(origin.name_span, "not a param")
                        .with_help("write `param alias.name = value`, where `alias` is an import and `name` one of its params");
                        self.report(file, diagnostic);
                        Ty::Error
                    }
                };
                self.expect(&mut cx, &target.value, &ty);
            }
        }
    }

    fn cx_for(&self, origin: &Origin, owner: Option<Node>) -> Cx {
        Cx {
            file: origin.file,
            offset: origin.offset,
            package: origin.package.clone(),
            locals: Vec::new(),
            owner,
            in_param: false,
        }
    }

    /// Checks a top-level `let` (once) and returns its type. `used_at` is the
    /// file and span of a reference, for reporting a cycle there.
    fn ensure_let(&mut self, id: u32, used_at: Option<(usize, Span)>) -> Ty {
        let index = id as usize;
        match self.let_state.get(index).copied() {
            Some(LetState::Done) => return self.program.lets[index].ty.clone(),
            Some(LetState::InProgress) => {
                let name = self.program.lets[index].name.clone();
                let origin = self.program.lets[index].origin.clone();
                let (file, span) = used_at.unwrap_or((origin.file, origin.name_span));
                let diagnostic = Diagnostic::error(
                    "pol::resolve::let_cycle",
                    format!("`{name}` is defined in terms of itself"),
                )
                .with_label(span, "this use depends on the value being defined")
                .with_help("a `let` cannot refer to itself, directly or through other lets");
                self.report(file, diagnostic);
                return Ty::Error;
            }
            Some(LetState::Pending) => {}
            None => return Ty::Error,
        }
        self.let_state[index] = LetState::InProgress;
        let origin = self.program.lets[index].origin.clone();
        let item = self.item_arc(&origin);
        let ty = match item.as_deref().map(|i| &i.kind) {
            Some(ast::ItemKind::Let(binding)) => {
                let mut cx = self.cx_for(&origin, Some(Node::Let(id)));
                match &binding.ty {
                    Some(declared) => {
                        let declared = self.resolve_type(origin.file, origin.offset, declared);
                        self.expect(&mut cx, &binding.value, &declared);
                        declared
                    }
                    None => {
                        let ty = self.expr(&mut cx, &binding.value, None);
                        self.require_inferred(&cx, &binding.value, &ty)
                    }
                }
            }
            _ => Ty::Error,
        };
        self.program.lets[index].ty = ty.clone();
        self.let_state[index] = LetState::Done;
        ty
    }

    /// `none` alone gives a binding no usable type.
    fn require_inferred(&mut self, cx: &Cx, value: &Expr, ty: &Ty) -> Ty {
        if *ty == Ty::None {
            let diagnostic = Diagnostic::error(
                "pol::type::cannot_infer",
                "cannot infer a type from `none` alone",
            )
            .with_label(cx.abs(value.span), "type unknown")
            .with_help("annotate the binding: `let x: string? = none`");
            self.report(cx.file, diagnostic);
            return Ty::Error;
        }
        ty.clone()
    }

    fn bind_local(&mut self, cx: &mut Cx, binding: &ast::Binding) {
        let ty = match &binding.ty {
            Some(declared) => {
                let declared = self.resolve_type(cx.file, cx.offset, declared);
                self.expect(cx, &binding.value, &declared);
                declared
            }
            None => {
                let ty = self.expr(cx, &binding.value, None);
                self.require_inferred(cx, &binding.value, &ty)
            }
        };
        self.push_local(cx, &binding.name, ty, true);
    }

    /// Binds a local. The rule is the same for every kind of local (the
    /// policy's inputs, `let`s, quantifier, `for` and `keep` variables): a
    /// name already bound in the body and still in scope cannot be bound
    /// again, so locals never shadow each other and a name means one thing
    /// throughout its scope. Locals may still shadow definitions and imports.
    fn push_local(&mut self, cx: &mut Cx, name: &Ident, ty: Ty, warn_unused: bool) {
        if let Some(previous) = cx.locals.iter().find(|l| l.name == name.name) {
            let diagnostic = Diagnostic::error(
                "pol::resolve::duplicate_local",
                format!("`{}` is already bound here", name.name),
            )
            .with_label(cx.abs(name.span), "bound again")
            .with_label(previous.span, "first bound here")
            .with_help("bindings cannot be reassigned or shadowed; choose another name");
            self.report(cx.file, diagnostic);
        }
        // The binding's type is recorded at its name, for hover and lowering.
        let span = cx.abs(name.span);
        if let Some(types) = self.types.get_mut(cx.file) {
            types.insert((span.start, span.end), ty.clone());
        }
        cx.locals.push(Local {
            name: name.name.clone(),
            ty,
            span,
            used: false,
            warn_unused,
        });
    }

    /// Pops locals above `keep`, warning about unused lets.
    fn warn_unused(&mut self, cx: &mut Cx, keep: usize) {
        let popped: Vec<Local> = cx.locals.drain(keep.min(cx.locals.len())..).collect();
        for local in popped {
            if local.warn_unused && !local.used && !local.name.starts_with('_') {
                let diagnostic = Diagnostic::warning(
                    "pol::check::unused_let",
                    format!("`{}` is never used", local.name),
                )
                .with_label(local.span, "bound here")
                .with_help(format!(
                    "remove it, or name it `_{}` to keep it unused",
                    local.name
                ));
                self.report(cx.file, diagnostic);
            }
        }
    }

    fn check_policy(&mut self, id: u32) {
        let def = self.program.policies[id as usize].clone();
        let item = self.item_arc(&def.origin);
        let Some(ast::ItemKind::Policy(policy)) = item.as_deref().map(|i| &i.kind) else {
            return;
        };
        let mut cx = self.cx_for(&def.origin, Some(Node::Policy(id)));
        // Every written input is bound, even when there are several (already
        // reported as `policy_input`), so their uses are not unknown names.
        let inputs = self
            .policy_inputs
            .get(id as usize)
            .cloned()
            .unwrap_or_default();
        for (index, param) in policy.params.iter().enumerate() {
            let ty = inputs.get(index).cloned().unwrap_or(Ty::Error);
            self.push_local(&mut cx, &param.name, ty, false);
        }
        let mut rule_ids: HashMap<String, Span> = HashMap::new();
        let mut default_span: Option<Span> = None;
        let mut unconditional: Option<Span> = None;
        let mut reported_unreachable = false;
        let mut keep_rules = 0usize;
        let kind_name = match &def.kind {
            PolicyKind::Decision => "decision policy".to_string(),
            // An unknown return type (already reported) is not shown.
            PolicyKind::Value(Ty::Error) => "value policy".to_string(),
            PolicyKind::Filter(Ty::Error) => "filter policy".to_string(),
            PolicyKind::Value(t) => format!("value policy returning `{}`", self.ty_name(t)),
            PolicyKind::Filter(t) => format!("filter policy returning `{}`", self.ty_name(t)),
        };
        for stmt in &policy.body {
            let rule = match stmt {
                ast::PolicyStmt::Let(binding) => {
                    self.bind_local(&mut cx, binding);
                    continue;
                }
                ast::PolicyStmt::Rule(rule) => rule,
            };
            let rule_span = cx.abs(rule.span);
            if let (Some(first), false) = (unconditional, reported_unreachable) {
                // Once per policy: everything after the first unreachable
                // rule is unreachable for the same reason.
                reported_unreachable = true;
                let diagnostic = if matches!(rule.kind, RuleKind::DefaultValue(_)) {
                    // Removing the default is no fix (a value policy needs
                    // one): the unconditional `return` is the real default.
                    Diagnostic::warning(
                        "pol::check::unreachable_rule",
                        "the `default` can never apply",
                    )
                    .with_label(rule_span, "never chosen")
                    .with_label(first, "this rule always matches first")
                    .with_help("the `return` above always matches: make it the `default`")
                } else {
                    Diagnostic::warning("pol::check::unreachable_rule", "this rule can never apply")
                        .with_label(rule_span, "unreachable, like every rule after it")
                        .with_label(first, "this rule always matches first")
                        .with_help("rules of a value policy are tried in order; move this rule above, or give the earlier rule a `when`")
                };
                self.report(cx.file, diagnostic);
            }
            for attribute in &rule.unknown_attributes {
                let diagnostic = Diagnostic::error(
                    "pol::resolve::unknown_attribute",
                    format!("unknown attribute `@{}`", attribute.name),
                )
                .with_label(cx.abs(attribute.span), "not an attribute")
                .with_help("rules accept `@id(\"stable-id\")`");
                self.report(cx.file, diagnostic);
            }
            if rule.reason.value.trim().is_empty() {
                let diagnostic = Diagnostic::error("pol::check::empty_reason", "a rule's reason must not be empty")
                    .with_label(cx.abs(rule.reason.span), "empty reason")
                    .with_help("the reason is shown to operators and forms the rule's stable id; say why the rule exists");
                self.report(cx.file, diagnostic);
            }
            // Stable ids: an explicit @id, or a slug of the reason.
            let (id_text, id_span) = match &rule.id {
                Some(explicit) => (explicit.value.clone(), explicit.span),
                None => (slug(&rule.reason.value), rule.reason.span),
            };
            if id_text.trim().is_empty() {
                self.empty_rule_id(&cx, rule);
            } else if let Some(first) = rule_ids.get(&id_text) {
                let diagnostic = Diagnostic::error(
                    "pol::resolve::duplicate_rule_id",
                    format!("two rules of `{}` have the id `{}.{}.{}`", def.name, def.origin.package, def.name, id_text),
                )
                .with_label(cx.abs(id_span), "second rule with this id")
                .with_label(*first, "first rule with this id")
                .with_help("ids come from the reason text; reword one reason or give one rule `@id(\"...\")`");
                self.report(cx.file, diagnostic);
            } else {
                rule_ids.insert(id_text, cx.abs(id_span));
            }
            let allowed = matches!(
                (&def.kind, &rule.kind),
                (
                    PolicyKind::Decision,
                    RuleKind::Allow
                        | RuleKind::Deny
                        | RuleKind::RequireApproval
                        | RuleKind::Redact { .. }
                        | RuleKind::Alert { .. }
                        | RuleKind::DefaultEffect(_),
                ) | (
                    PolicyKind::Value(_),
                    RuleKind::Return { .. } | RuleKind::DefaultValue(_)
                ) | (PolicyKind::Filter(_), RuleKind::Keep { .. })
            );
            if !allowed {
                let help = match &def.kind {
                    PolicyKind::Decision => {
                        "decision policies use `allow`, `deny`, `require_approval`, `redact`, `alert` and `default allow|deny`"
                    }
                    PolicyKind::Value(_) => {
                        "a value policy chooses its value with `return <value> \"reason\" when ...` and `default <value> \"reason\"`"
                    }
                    PolicyKind::Filter(_) => {
                        "a filter policy has one `keep x in xs \"reason\" when ...` rule"
                    }
                };
                let what = match &rule.kind {
                    RuleKind::DefaultEffect(_) => "`default allow|deny`".to_string(),
                    RuleKind::DefaultValue(_) => "`default <value>`".to_string(),
                    other => format!("`{}`", other.keyword()),
                };
                let diagnostic = Diagnostic::error(
                    "pol::type::rule_not_allowed",
                    format!("{what} rules are not allowed in a {kind_name}"),
                )
                .with_label(cx.abs(rule.keyword_span), "not allowed here")
                .with_help(help);
                self.report(cx.file, diagnostic);
            }
            let locals_before = cx.locals.len();
            match &rule.kind {
                RuleKind::Redact { target } => {
                    let expected = Ty::List(Box::new(Ty::Finding));
                    let actual = self.expr(&mut cx, target, Some(&expected));
                    if !self.assignable(&actual, &expected) {
                        let mut diagnostic =
                            self.mismatch_diagnostic(&cx, target, &actual, &expected);
                        if actual == Ty::String {
                            diagnostic =
                                diagnostic.with_help("pass findings, e.g. `pii.scan(text)`");
                        }
                        self.report(cx.file, diagnostic);
                    }
                }
                RuleKind::Alert { severity } => {
                    if pol_ir::AlertSeverity::from_name(&severity.name).is_none() {
                        let names = pol_ir::AlertSeverity::ALL.map(|s| s.name());
                        let mut diagnostic = Diagnostic::error(
                            "pol::type::unknown_severity",
                            format!("unknown alert severity `{}`", severity.name),
                        )
                        .with_label(cx.abs(severity.span), "not a severity");
                        if let Some(help) =
                            unknown_name_help(&severity.name, &names, Some("severities are"))
                        {
                            diagnostic = diagnostic.with_help(help);
                        }
                        self.report(cx.file, diagnostic);
                    }
                }
                RuleKind::Return { value } | RuleKind::DefaultValue(value) => {
                    let expected = match &def.kind {
                        PolicyKind::Value(t) => t.clone(),
                        _ => Ty::Error,
                    };
                    self.expect(&mut cx, value, &expected);
                }
                RuleKind::Keep {
                    var,
                    collection,
                    limit,
                } => {
                    keep_rules += 1;
                    if keep_rules == 2 {
                        let diagnostic = Diagnostic::error(
                            "pol::type::multiple_keep",
                            "a filter policy has exactly one `keep` rule",
                        )
                        .with_label(cx.abs(rule.keyword_span), "second `keep`")
                        .with_help("combine the conditions with `and` in one rule");
                        self.report(cx.file, diagnostic);
                    }
                    let wanted = match &def.kind {
                        PolicyKind::Filter(Ty::List(elem)) => Some((**elem).clone()),
                        _ => None,
                    };
                    let collection_ty = self.expr(&mut cx, collection, None);
                    let elem = match &collection_ty {
                        Ty::List(t) | Ty::Set(t) => (**t).clone(),
                        Ty::Error => Ty::Error,
                        other => {
                            let diagnostic = if other.is_optional() {
                                self.optional_collection(&cx, collection, other, "`keep`")
                            } else {
                                Diagnostic::error(
                                    "pol::type::not_iterable",
                                    format!(
                                        "`keep` needs a list or set, found `{}`",
                                        self.ty_name(other)
                                    ),
                                )
                                .with_label(cx.abs(collection.span), "not a collection")
                                .with_help("filter a list or set of the elements to keep")
                            };
                            self.report(cx.file, diagnostic);
                            Ty::Error
                        }
                    };
                    if let Some(wanted) = &wanted
                        && !self.assignable(&elem, wanted)
                    {
                        let diagnostic = Diagnostic::error(
                            "pol::type::mismatch",
                            format!(
                                "the policy returns `list<{}>` but keeps elements of type `{}`",
                                self.ty_name(wanted),
                                self.ty_name(&elem)
                            ),
                        )
                        .with_label(
                            cx.abs(collection.span),
                            format!("elements are `{}`", self.ty_name(&elem)),
                        )
                        .with_help("the declared result must be a list of the kept elements");
                        self.report(cx.file, diagnostic);
                    }
                    // The limit is computed once, before any element: the
                    // keep variable is not in scope there.
                    if let Some(limit) = limit {
                        self.expect(&mut cx, limit, &Ty::Int);
                    }
                    self.push_local(&mut cx, var, elem, false);
                }
                RuleKind::DefaultEffect(_)
                | RuleKind::Allow
                | RuleKind::Deny
                | RuleKind::RequireApproval => {}
            }
            if matches!(
                rule.kind,
                RuleKind::DefaultEffect(_) | RuleKind::DefaultValue(_)
            ) {
                if let Some(first) = default_span {
                    let diagnostic = Diagnostic::error(
                        "pol::type::duplicate_default",
                        "a policy has at most one `default`",
                    )
                    .with_label(cx.abs(rule.keyword_span), "second `default`")
                    .with_label(first, "first `default`")
                    .with_help("keep one default");
                    self.report(cx.file, diagnostic);
                } else {
                    default_span = Some(cx.abs(rule.keyword_span));
                }
            }
            if let Some(when) = &rule.when {
                self.condition(&mut cx, when);
            }
            cx.locals.truncate(locals_before);
            let always = rule
                .when
                .as_ref()
                .is_none_or(|w| matches!(w.kind, ExprKind::Bool(true)));
            if always
                && matches!(def.kind, PolicyKind::Value(_))
                && matches!(rule.kind, RuleKind::Return { .. })
                && unconditional.is_none()
            {
                unconditional = Some(rule_span);
            }
        }
        match &def.kind {
            PolicyKind::Value(_) if default_span.is_none() => {
                let diagnostic = Diagnostic::error(
                    "pol::type::missing_default",
                    format!("value policy `{}` has no `default`", def.name),
                )
                .with_label(def.origin.name_span, "needs a default value")
                .with_help(
                    "add `default <value> \"reason\"`: the value chosen when no rule matches",
                );
                self.report(def.origin.file, diagnostic);
            }
            PolicyKind::Filter(_) if keep_rules == 0 => {}
            _ => {}
        }
        self.warn_unused(&mut cx, 0);
    }

    fn test_stmts(&mut self, cx: &mut Cx, stmts: &[ast::TestStmt]) {
        let keep = cx.locals.len();
        for stmt in stmts {
            match stmt {
                ast::TestStmt::Let(binding) => self.bind_local(cx, binding),
                ast::TestStmt::Expect(cond) => self.condition(cx, cond),
                ast::TestStmt::For {
                    var, cases, body, ..
                } => {
                    let ty = self.expr(cx, cases, None);
                    let elem = self.element_of(cx, cases, &ty, "`for`");
                    let before = cx.locals.len();
                    self.push_local(cx, var, elem, false);
                    self.test_stmts(cx, body);
                    cx.locals.truncate(before);
                }
                ast::TestStmt::With { bindings, body, .. } => {
                    for (path, value) in bindings {
                        let target = self.override_target(cx, path);
                        self.expect(cx, value, &target);
                    }
                    self.test_stmts(cx, body);
                }
            }
        }
        self.warn_unused(cx, keep);
    }

    /// The type a `with` override must have: a param's, a let's, or a
    /// builtin's result.
    fn override_target(&mut self, cx: &mut Cx, path: &ast::Path) -> Ty {
        let span = cx.abs(path.span);
        let expr = path_expr(path);
        match self.resolve_path(cx, &expr) {
            Some(PathRes::Param(i)) => self.program.params[i as usize].ty.clone(),
            Some(PathRes::Let(i)) => self.ensure_let(i, Some((cx.file, span))),
            Some(PathRes::Builtin(sig)) => pattern_ty(&sig.ret, None),
            Some(PathRes::Error) => Ty::Error,
            _ => {
                // `with pii.scan = ...` in a file that does not import
                // `std.pii`: say so rather than "cannot be overridden".
                let first = path.segments.first().map(|s| s.name.as_str()).unwrap_or("");
                let unimported_module = path.segments.len() == 2
                    && !self.program.files[cx.file]
                        .scope
                        .imports
                        .contains_key(first)
                    && builtins::NATIVE_MODULES
                        .iter()
                        .any(|m| m.rsplit('.').next() == Some(first));
                let diagnostic = if unimported_module {
                    Diagnostic::error(
                        "pol::type::bad_override",
                        format!(
                            "`{}` cannot be overridden: `{first}` is not imported in this file",
                            path.dotted()
                        ),
                    )
                    .with_label(span, "not imported here")
                    .with_help(format!(
                        "imports are per file: add `import std.{first}` to this file"
                    ))
                } else {
                    Diagnostic::error("pol::type::bad_override", format!("`{}` cannot be overridden", path.dotted()))
                        .with_label(span, "not a param, let or builtin")
                        .with_help("`with` replaces a `param`, a `let`, or a builtin function such as `pii.scan` for the block")
                };
                self.report(cx.file, diagnostic);
                Ty::Error
            }
        }
    }

    /// Reports a rule whose id would be empty: an `@id("")`, or a reason
    /// without letters or digits (a blank reason is `empty_reason`).
    fn empty_rule_id(&mut self, cx: &Cx, rule: &ast::Rule) {
        let diagnostic = match &rule.id {
            Some(explicit) => Diagnostic::error(
                "pol::check::invalid_rule_id",
                "`@id` gives an empty rule id",
            )
            .with_label(cx.abs(explicit.span), "empty id")
            .with_help("write an id with letters or digits, e.g. `@id(\"deny-long-prompts\")`"),
            None if rule.reason.value.trim().is_empty() => return,
            None => Diagnostic::error(
                "pol::check::invalid_rule_id",
                "reason gives an empty rule id",
            )
            .with_label(cx.abs(rule.reason.span), "no letters or digits")
            .with_help("ids are made of the reason's letters and digits: include letters or digits, or add `@id(\"...\")`"),
        };
        self.report(cx.file, diagnostic);
    }

    /// The name of a node of the dependency graph.
    fn node_name(&self, node: Node) -> &str {
        match node {
            Node::Policy(i) => self
                .program
                .policies
                .get(i as usize)
                .map_or("?", |p| p.name.as_str()),
            Node::Let(i) => self
                .program
                .lets
                .get(i as usize)
                .map_or("?", |l| l.name.as_str()),
        }
    }

    /// Records that the body being checked uses `target` (a policy call or
    /// a let reference), for finding recursion.
    fn record_dep(&mut self, cx: &Cx, target: Node, span: Span) {
        if let Some(owner) = cx.owner {
            self.deps
                .entry(owner)
                .or_default()
                .push((target, cx.file, span));
        }
    }

    /// Reports cycles of the dependency graph that pass through a policy:
    /// policies calling each other, directly or through top-level lets.
    /// (Cycles of lets alone are `let_cycle`, found while checking them.)
    fn check_policy_recursion(&mut self) {
        let mut reported = std::collections::HashSet::new();
        let starts: Vec<Node> = self
            .deps
            .keys()
            .copied()
            .filter(|n| matches!(n, Node::Policy(_)))
            .collect();
        for start in starts {
            // Iterative DFS from `start` looking for a path back to it.
            let mut stack: Vec<(Node, Vec<Node>)> = vec![(start, vec![start])];
            let mut seen = std::collections::HashSet::new();
            while let Some((node, path)) = stack.pop() {
                for (used, file, span) in self.deps.get(&node).cloned().unwrap_or_default() {
                    if used == start {
                        let mut cycle = path.clone();
                        cycle.sort_unstable();
                        if reported.insert(cycle) {
                            let names: Vec<String> = path
                                .iter()
                                .chain(std::iter::once(&start))
                                .map(|n| format!("`{}`", self.node_name(*n)))
                                .collect();
                            let through_let = path.iter().any(|n| matches!(n, Node::Let(_)));
                            let diagnostic = Diagnostic::error(
                                "pol::resolve::recursive_policy",
                                format!("policy `{}` calls itself: {}", self.node_name(start), names.join(" -> ")),
                            )
                            .with_label(span, "this call closes the cycle")
                            .with_help(if through_let {
                                "Pol is total: policies cannot recurse, not even through a `let`; compute the shared part without calling the policy"
                            } else {
                                "Pol is total: policies cannot recurse; compute the shared part in a `let` or a separate policy"
                            });
                            self.report(file, diagnostic);
                        }
                    } else if seen.insert(used) {
                        let mut next = path.clone();
                        next.push(used);
                        stack.push((used, next));
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------ expressions

    /// Whether a value of type `actual` can stand where `expected` is needed.
    fn assignable(&self, actual: &Ty, expected: &Ty) -> bool {
        match (actual, expected) {
            (Ty::Error, _) | (_, Ty::Error) => true,
            (a, b) if a == b => true,
            (Ty::None, Ty::Optional(_)) => true,
            (Ty::Int, Ty::Float) => true,
            (Ty::Optional(a), Ty::Optional(b)) => self.assignable(a, b),
            (a, Ty::Optional(b)) => self.assignable(a, b),
            (Ty::List(a), Ty::List(b)) | (Ty::Set(a), Ty::Set(b)) | (Ty::Map(a), Ty::Map(b)) => {
                self.assignable(a, b)
            }
            _ => false,
        }
    }

    /// Checks `e` against `expected`, reporting a mismatch.
    fn expect(&mut self, cx: &mut Cx, e: &Expr, expected: &Ty) -> Ty {
        let actual = self.expr(cx, e, Some(expected));
        if !self.assignable(&actual, expected) {
            self.mismatch(cx, e, &actual, expected);
        }
        actual
    }

    fn mismatch(&mut self, cx: &Cx, e: &Expr, actual: &Ty, expected: &Ty) {
        let diagnostic = self.mismatch_diagnostic(cx, e, actual, expected);
        self.report(cx.file, diagnostic);
    }

    /// The diagnostic for a value of type `actual` where `expected` is
    /// needed. Field and method access on an optional is reported by
    /// [`Checker::receiver`] (which suggests `?.`); here the value itself is
    /// needed, so the fix is a default.
    fn mismatch_diagnostic(&self, cx: &Cx, e: &Expr, actual: &Ty, expected: &Ty) -> Diagnostic {
        let (a, x) = (self.ty_name(actual), self.ty_name(expected));
        if let Ty::Optional(inner) = actual {
            if self.assignable(inner, expected) {
                return Diagnostic::error(
                    "pol::type::optional",
                    format!("expected `{x}`, found `{a}`"),
                )
                .with_label(cx.abs(e.span), "this may be `none`")
                .with_help("supply a value for `none` with `?? default`");
            }
            return Diagnostic::error(
                "pol::type::mismatch",
                format!("expected `{x}`, found `{a}`"),
            )
            .with_label(cx.abs(e.span), format!("this is `{a}`"));
        }
        let mut d = Diagnostic::error(
            "pol::type::mismatch",
            format!("expected `{x}`, found `{a}`"),
        )
        .with_label(cx.abs(e.span), format!("this is `{a}`"));
        if matches!((actual, expected), (Ty::Float, Ty::Int)) {
            d = d.with_help("convert with `.round()`, `.floor()` or `.ceil()`");
        } else if matches!((actual, expected), (Ty::List(_), Ty::Set(_))) {
            d = d.with_help("write a set literal with braces: `{a, b}`");
        } else if matches!((actual, expected), (Ty::Set(_), Ty::List(_))) {
            d = d.with_help("write a list literal with brackets: `[a, b]`");
        } else if matches!(expected, Ty::String) && matches!(actual, Ty::Enum(_)) {
            d = d.with_help("compare enum values with enum variants, not strings");
        }
        d
    }

    /// An optional collection where a collection is iterated: the same code
    /// and fix as an optional on the right of `in`.
    fn optional_collection(&self, cx: &Cx, e: &Expr, ty: &Ty, what: &str) -> Diagnostic {
        let name = self.ty_name(ty);
        Diagnostic::error(
            "pol::type::optional",
            format!("{what} needs a collection, found `{name}`"),
        )
        .with_label(
            cx.abs(e.span),
            format!("this is `{name}`: it may be `none`"),
        )
        .with_help("supply an empty collection for `none`: `xs ?? []`")
    }

    /// Checks a `when` or `expect` condition: it must be `bool`.
    fn condition(&mut self, cx: &mut Cx, e: &Expr) {
        let ty = self.expr(cx, e, Some(&Ty::Bool));
        match &ty {
            Ty::Bool | Ty::Error => {}
            Ty::Optional(inner) if **inner == Ty::Bool => {
                let diagnostic =
                    Diagnostic::error("pol::type::optional", "condition may be `none`")
                        .with_label(cx.abs(e.span), "this is `bool?`")
                        .with_help("decide what `none` means: append `?? false` (or `?? true`)");
                self.report(cx.file, diagnostic);
            }
            other => {
                let diagnostic = Diagnostic::error(
                    "pol::type::non_bool_condition",
                    format!("condition must be `bool`, found `{}`", self.ty_name(other)),
                )
                .with_label(cx.abs(e.span), format!("this is `{}`", self.ty_name(other)));
                // `count x in xs: c > 3` reads as a comparison of the count,
                // but the body runs to the end of the expression.
                let help = match &e.kind {
                    ExprKind::Quant { kind, .. } => format!(
                        "a `{}` body extends as far right as it can; to compare its result, put it in parentheses: `({} x in xs: ...) > 3`",
                        kind.keyword(),
                        kind.keyword()
                    ),
                    _ => "compare it to something, e.g. `x > 0` or `x != \"\"`".to_string(),
                };
                self.report(cx.file, diagnostic.with_help(help));
            }
        }
    }

    /// Checks an expression and records its type (for hover and lowering).
    fn expr(&mut self, cx: &mut Cx, e: &Expr, expected: Option<&Ty>) -> Ty {
        let ty = self.expr_kind(cx, e, expected);
        let span = cx.abs(e.span);
        if let Some(types) = self.types.get_mut(cx.file) {
            types.insert((span.start, span.end), ty.clone());
        }
        ty
    }

    fn expr_kind(&mut self, cx: &mut Cx, e: &Expr, expected: Option<&Ty>) -> Ty {
        match &e.kind {
            ExprKind::Bool(_) => Ty::Bool,
            ExprKind::Int(_) => Ty::Int,
            ExprKind::Float(_) => Ty::Float,
            ExprKind::Str(_) => Ty::String,
            ExprKind::Duration(_) => Ty::Duration,
            ExprKind::Timestamp(_) => Ty::Timestamp,
            ExprKind::Now => {
                if cx.in_param {
                    let diagnostic = Diagnostic::error(
                        "pol::type::now_in_param",
                        "`now` cannot be used in a param's default",
                    )
                    .with_label(cx.abs(e.span), "the time of the request")
                    .with_help("params are load-time data, fixed before any request; compute it in a `let` or in the policy");
                    self.report(cx.file, diagnostic);
                }
                Ty::Timestamp
            }
            ExprKind::None => match expected {
                Some(t @ Ty::Optional(_)) => t.clone(),
                _ => Ty::None,
            },
            ExprKind::Paren(inner) => self.expr(cx, inner, expected),
            ExprKind::Name(ident) => self.name(cx, e, ident, expected),
            // Where the expected type is unknown (an earlier error), the
            // elements are expected to be unknown too: literals inside are
            // checked quietly instead of being reported as uninferable.
            ExprKind::List(items) | ExprKind::Set(items) => {
                let is_set = matches!(e.kind, ExprKind::Set(_));
                let want = match (expected.map(Ty::unwrap_optional), is_set) {
                    (Some(Ty::List(t)), false) | (Some(Ty::Set(t)), true) => Some((**t).clone()),
                    (Some(Ty::Error), _) if items.is_empty() => return Ty::Error,
                    (Some(Ty::Error), _) => Some(Ty::Error),
                    _ => None,
                };
                let elem = self.elements(cx, e, items, want, if is_set { "set" } else { "list" });
                if is_set {
                    Ty::Set(Box::new(elem))
                } else {
                    Ty::List(Box::new(elem))
                }
            }
            ExprKind::Map(entries) => {
                let want = match expected.map(Ty::unwrap_optional) {
                    Some(Ty::Map(t)) => Some((**t).clone()),
                    Some(Ty::Error) => Some(Ty::Error),
                    _ => None,
                };
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for (key, _) in entries {
                    if let Some(first) = seen.insert(key.value.as_str(), key.span) {
                        let diagnostic = Diagnostic::error(
                            "pol::type::duplicate_key",
                            format!("key \"{}\" appears twice", key.value),
                        )
                        .with_label(cx.abs(key.span), "again here")
                        .with_label(cx.abs(first), "first here")
                        .with_help("a map holds one value per key");
                        self.report(cx.file, diagnostic);
                    }
                }
                let values: Vec<Expr> = entries.iter().map(|(_, v)| v.clone()).collect();
                let elem = self.elements(cx, e, &values, want, "map");
                Ty::Map(Box::new(elem))
            }
            ExprKind::Record(fields) => self.record(cx, e, fields, expected),
            ExprKind::EmptyBraces => match expected.map(Ty::unwrap_optional) {
                Some(t @ (Ty::Set(_) | Ty::Map(_))) => t.clone(),
                Some(Ty::Schema(id)) => {
                    let id = *id;
                    self.record(cx, e, &[], Some(&Ty::Schema(id)))
                }
                Some(Ty::Error) => Ty::Error,
                _ => {
                    let diagnostic = Diagnostic::error(
                        "pol::type::cannot_infer",
                        "cannot tell whether `{}` is a set, a map or a record",
                    )
                    .with_label(cx.abs(e.span), "type unknown")
                    .with_help("annotate the binding, e.g. `let empty: set<string> = {}`");
                    self.report(cx.file, diagnostic);
                    Ty::Error
                }
            },
            ExprKind::Field {
                base,
                name,
                optional,
            } => self.field(cx, e, base, name, *optional),
            ExprKind::Index {
                base,
                index,
                optional,
            } => self.index(cx, e, base, index, *optional),
            ExprKind::Call { callee, args } => self.call(cx, e, callee, args),
            ExprKind::Unary {
                op,
                op_span,
                operand,
            } => match op {
                UnaryOp::Not => {
                    self.condition(cx, operand);
                    Ty::Bool
                }
                UnaryOp::Neg => {
                    let ty = self.expr(cx, operand, None);
                    match ty {
                        Ty::Int | Ty::Float | Ty::Duration | Ty::Error => ty,
                        other => {
                            self.operator_error(cx, *op_span, "-", &[(&other, operand.span)]);
                            Ty::Error
                        }
                    }
                }
            },
            ExprKind::Binary {
                op,
                op_span,
                lhs,
                rhs,
            } => self.binary(cx, e, *op, *op_span, lhs, rhs, expected),
            ExprKind::If {
                cond,
                then,
                otherwise,
            } => {
                self.condition(cx, cond);
                let a = self.expr(cx, then, expected);
                let b = self.expr(cx, otherwise, expected.or(Some(&a)));
                self.join(cx, &a, &b, otherwise)
            }
            ExprKind::Quant {
                kind,
                vars,
                collection,
                body,
            } => {
                let coll_ty = self.expr(cx, collection, None);
                let what = format!("`{}`", kind.keyword());
                let before = cx.locals.len();
                match (vars.as_slice(), &coll_ty) {
                    ([k, v], Ty::Map(t)) => {
                        self.push_local(cx, k, Ty::String, false);
                        self.push_local(cx, v, (**t).clone(), false);
                    }
                    ([i, x], Ty::List(t)) => {
                        self.push_local(cx, i, Ty::Int, false);
                        self.push_local(cx, x, (**t).clone(), false);
                    }
                    ([var], Ty::Map(_)) => self.push_local(cx, var, Ty::String, false),
                    ([var], _) => {
                        let elem = self.element_of(cx, collection, &coll_ty, &what);
                        self.push_local(cx, var, elem, false);
                    }
                    (vars, Ty::Optional(_)) => {
                        self.element_of(cx, collection, &coll_ty, &what);
                        for var in vars {
                            self.push_local(cx, var, Ty::Error, false);
                        }
                    }
                    (vars, _) => {
                        if !coll_ty.is_error() {
                            let diagnostic = Diagnostic::error(
                                "pol::type::binding_count",
                                format!("two variables iterate a map (key, value) or a list (index, element), not `{}`", self.ty_name(&coll_ty)),
                            )
                            .with_label(cx.abs(e.span), "too many variables")
                            .with_help("use one variable for the elements");
                            self.report(cx.file, diagnostic);
                        }
                        for var in vars {
                            self.push_local(cx, var, Ty::Error, false);
                        }
                    }
                }
                let result = match kind {
                    QuantKind::Any | QuantKind::All => {
                        self.condition(cx, body);
                        Ty::Bool
                    }
                    QuantKind::Count => {
                        self.condition(cx, body);
                        Ty::Int
                    }
                    QuantKind::Filter => {
                        self.condition(cx, body);
                        match &coll_ty {
                            Ty::List(_) | Ty::Set(_) | Ty::Map(_) => coll_ty.clone(),
                            _ => Ty::Error,
                        }
                    }
                    QuantKind::Map => {
                        let want = match expected.map(Ty::unwrap_optional) {
                            Some(Ty::List(t)) => Some((**t).clone()),
                            Some(Ty::Error) => Some(Ty::Error),
                            _ => None,
                        };
                        let ty = self.expr(cx, body, want.as_ref());
                        Ty::List(Box::new(ty))
                    }
                };
                cx.locals.truncate(before);
                result
            }
        }
    }

    /// The element type of a collection being iterated, reporting a
    /// non-collection.
    fn element_of(&mut self, cx: &mut Cx, e: &Expr, ty: &Ty, what: &str) -> Ty {
        match ty {
            Ty::List(t) | Ty::Set(t) => (**t).clone(),
            Ty::Map(_) => Ty::String,
            Ty::Error => Ty::Error,
            other if other.is_optional() => {
                let diagnostic = self.optional_collection(cx, e, other, what);
                self.report(cx.file, diagnostic);
                Ty::Error
            }
            other => {
                let diagnostic = Diagnostic::error(
                    "pol::type::not_iterable",
                    format!("{what} needs a collection, found `{}`", self.ty_name(other)),
                )
                .with_label(cx.abs(e.span), "not a collection")
                .with_help("iterate a list, a set or a map");
                self.report(cx.file, diagnostic);
                Ty::Error
            }
        }
    }

    /// Checks the elements of a literal collection; returns the element type.
    fn elements(
        &mut self,
        cx: &mut Cx,
        whole: &Expr,
        items: &[Expr],
        want: Option<Ty>,
        what: &str,
    ) -> Ty {
        let mut elem = want.clone();
        for item in items {
            match &elem {
                Some(t) => {
                    let t = t.clone();
                    let actual = self.expr(cx, item, Some(&t));
                    if !self.assignable(&actual, &t) {
                        self.mismatch(cx, item, &actual, &t);
                    } else if want.is_none()
                        && (t == Ty::Int && actual == Ty::Float || t == Ty::None)
                    {
                        // Widen an inferred element type: [1, 2.5] is list<float>.
                        elem = Some(if t == Ty::None {
                            actual.optional()
                        } else {
                            actual
                        });
                    }
                }
                None => {
                    let actual = self.expr(cx, item, None);
                    elem = Some(actual);
                }
            }
        }
        match elem {
            Some(t) => t,
            None => {
                let diagnostic = Diagnostic::error(
                    "pol::type::cannot_infer",
                    format!("cannot infer the element type of an empty {what}"),
                )
                .with_label(cx.abs(whole.span), "element type unknown")
                .with_help(format!(
                    "annotate the binding, e.g. `let xs: {what}<string> = ...`"
                ));
                self.report(cx.file, diagnostic);
                Ty::Error
            }
        }
    }

    fn record(
        &mut self,
        cx: &mut Cx,
        e: &Expr,
        fields: &[(Ident, Expr)],
        expected: Option<&Ty>,
    ) -> Ty {
        let target = expected.map(Ty::unwrap_optional).cloned();
        let declared: Vec<(String, Ty, Span)> = match &target {
            Some(Ty::Schema(id)) => self.program.schemas[id.0 as usize]
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.ty.clone(), f.span))
                .collect(),
            Some(Ty::Finding) => FINDING_FIELDS
                .iter()
                .map(|(n, t)| ((*n).to_string(), t.clone(), Span::default()))
                .collect(),
            Some(Ty::Error) => {
                // The schema is unknown because of an earlier error: say
                // nothing about the literal, but check its values.
                self.quiet_exprs(cx, fields.iter().map(|(_, value)| value));
                return Ty::Error;
            }
            other => {
                // Reported once, here: records nested in the values have no
                // schema either, but saying so again adds nothing.
                self.quiet_exprs(cx, fields.iter().map(|(_, value)| value));
                let found = other
                    .as_ref()
                    .map(|t| format!(" (a `{}` is expected here)", self.ty_name(t)))
                    .unwrap_or_default();
                let diagnostic = Diagnostic::error("pol::type::cannot_infer", format!("cannot tell which schema this record is{found}"))
                    .with_label(cx.abs(e.span), "record of unknown schema")
                    .with_help("a record literal takes its schema from where it is used: pass it to a policy, or annotate `let x: Schema = { ... }`");
                self.report(cx.file, diagnostic);
                return Ty::Error;
            }
        };
        let target = target.unwrap_or(Ty::Error);
        let schema_name = self.ty_name(&target);
        let mut seen: HashMap<&str, Span> = HashMap::new();
        // Declared fields that an unknown field was probably meant to be:
        // reported as a typo, not also as missing.
        let mut suggested: Vec<String> = Vec::new();
        for (name, value) in fields {
            if let Some(first) = seen.insert(name.name.as_str(), name.span) {
                let diagnostic = Diagnostic::error(
                    "pol::type::duplicate_field",
                    format!("field `{}` is given twice", name.name),
                )
                .with_label(cx.abs(name.span), "again here")
                .with_label(cx.abs(first), "first here")
                .with_help("give each field once");
                self.report(cx.file, diagnostic);
            }
            match declared.iter().find(|(n, _, _)| *n == name.name) {
                Some((_, ty, _)) => {
                    let ty = ty.clone();
                    if let Ty::Schema(id) = &target {
                        self.refer_field(cx.file, cx.abs(name.span), *id, &name.name);
                    }
                    self.expect(cx, value, &ty);
                }
                None => {
                    self.expr(cx, value, Some(&Ty::Error));
                    let suggestion = self.unknown_field(
                        cx,
                        name,
                        &schema_name,
                        declared.iter().map(|(n, _, _)| n.as_str()),
                    );
                    suggested.extend(suggestion);
                }
            }
        }
        let missing: Vec<&str> = declared
            .iter()
            .filter(|(n, t, _)| {
                !t.is_optional() && !seen.contains_key(n.as_str()) && !suggested.contains(n)
            })
            .map(|(n, _, _)| n.as_str())
            .collect();
        if !missing.is_empty() {
            let list = missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ");
            let diagnostic = Diagnostic::error(
                "pol::type::missing_field",
                format!(
                    "missing field{} {list} in `{schema_name}`",
                    if missing.len() > 1 { "s" } else { "" }
                ),
            )
            .with_label(cx.abs(e.span), format!("`{schema_name}` needs {list}"))
            .with_help(
                "required fields must be given; mark a field optional in the schema with `T?`",
            );
            self.report(cx.file, diagnostic);
        }
        target
    }

    /// Reports an unknown field; returns the field suggested instead, if
    /// any.
    fn unknown_field<'a>(
        &mut self,
        cx: &Cx,
        name: &Ident,
        on: &str,
        candidates: impl Iterator<Item = &'a str>,
    ) -> Option<String> {
        let candidates: Vec<&str> = candidates.collect();
        let suggestion = did_you_mean(&name.name, candidates.iter().copied());
        let mut diagnostic = Diagnostic::error(
            "pol::type::unknown_field",
            format!("unknown field `{}` on `{on}`", name.name),
        )
        .with_label(cx.abs(name.span), "no such field");
        diagnostic = match suggestion {
            Some(s) => diagnostic.with_help(format!("did you mean `{s}`?")),
            None if candidates.is_empty() => diagnostic,
            None => diagnostic.with_help(format!(
                "`{on}` has {}",
                candidates
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        };
        self.report(cx.file, diagnostic);
        suggestion.map(str::to_string)
    }

    /// Checks expressions whose expected type is unknown because of an
    /// earlier error, without reporting literals that need one.
    fn quiet_exprs<'e>(&mut self, cx: &mut Cx, exprs: impl IntoIterator<Item = &'e Expr>) {
        for e in exprs {
            self.expr(cx, e, Some(&Ty::Error));
        }
    }

    fn join(&mut self, cx: &mut Cx, a: &Ty, b: &Ty, b_expr: &Expr) -> Ty {
        match (a, b) {
            (Ty::Error, t) | (t, Ty::Error) => t.clone(),
            _ if a == b => a.clone(),
            (Ty::None, t) | (t, Ty::None) => t.clone().optional(),
            (Ty::Int, Ty::Float) | (Ty::Float, Ty::Int) => Ty::Float,
            (Ty::Optional(x), y) | (y, Ty::Optional(x)) if self.assignable(y, x) => {
                Ty::Optional(x.clone())
            }
            _ if self.assignable(b, a) => a.clone(),
            _ if self.assignable(a, b) => b.clone(),
            _ => {
                self.mismatch(cx, b_expr, b, a);
                a.clone()
            }
        }
    }

    /// An operator applied to types it does not take: the operator and each
    /// operand labelled with its type (side by side, never nested, so every
    /// label is drawn under its own code).
    fn operator_error(&mut self, cx: &Cx, op_span: Span, op: &str, operands: &[(&Ty, Span)]) {
        let names: Vec<String> = operands
            .iter()
            .map(|(t, _)| format!("`{}`", self.ty_name(t)))
            .collect();
        let optional = operands.iter().any(|(t, _)| t.is_optional());
        let mut diagnostic = Diagnostic::error(
            if optional {
                "pol::type::optional"
            } else {
                "pol::type::operator"
            },
            format!("cannot apply `{op}` to {}", names.join(" and ")),
        )
        .with_label(cx.abs(op_span), "operator");
        for (ty, span) in operands {
            diagnostic = diagnostic.with_label(cx.abs(*span), format!("`{}`", self.ty_name(ty)));
        }
        let operands: Vec<&Ty> = operands.iter().map(|(t, _)| *t).collect();
        let diagnostic = if optional {
            diagnostic.with_help("an operand may be `none`: supply a default with `?? value` first")
        } else if op == "+" && operands.iter().any(|t| **t == Ty::String) {
            diagnostic
                .with_help("`+` joins two strings; convert the other operand, or compare instead")
        } else {
            diagnostic
        };
        self.report(cx.file, diagnostic);
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; the parts of a binary expression"
    )]
    fn binary(
        &mut self,
        cx: &mut Cx,
        e: &Expr,
        op: BinaryOp,
        op_span: Span,
        lhs: &Expr,
        rhs: &Expr,
        expected: Option<&Ty>,
    ) -> Ty {
        // `a < b < c` is already `pol::parse::chained_comparison`: the inner
        // comparison is a `bool`, and saying it cannot be ordered or
        // compared with `c` adds nothing.
        let chained = op.is_comparison() && (is_comparison_expr(lhs) || is_comparison_expr(rhs));
        match op {
            BinaryOp::And | BinaryOp::Or => {
                self.condition(cx, lhs);
                self.condition(cx, rhs);
                Ty::Bool
            }
            BinaryOp::Eq | BinaryOp::Ne => {
                let lt = self.expr(cx, lhs, None);
                // The left side's own type, not made optional: `none` on the
                // right takes a type only from an optional left side, so
                // `x == none` with `x: int` is reported like `none == x`.
                let hint = if lt == Ty::None {
                    None
                } else {
                    Some(lt.clone())
                };
                let rt = self.expr(cx, rhs, hint.as_ref());
                if chained {
                    return Ty::Bool;
                }
                if !self.comparable(&lt, &rt) {
                    self.incomparable(cx, e, op_span, &lt, &rt);
                }
                Ty::Bool
            }
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let lt = self.expr(cx, lhs, None);
                let rt = self.expr(cx, rhs, Some(&lt));
                if chained {
                    return Ty::Bool;
                }
                if lt.is_optional() || rt.is_optional() {
                    self.operator_error(
                        cx,
                        op_span,
                        op.symbol(),
                        &[(&lt, lhs.span), (&rt, rhs.span)],
                    );
                } else if !lt.is_ordered() || !rt.is_ordered() {
                    let unordered = if lt.is_ordered() { &rt } else { &lt };
                    let diagnostic = Diagnostic::error(
                        "pol::type::unordered",
                        format!("`{}` values have no order", self.ty_name(unordered)),
                    )
                    .with_label(cx.abs(op_span), format!("`{}` needs ordered operands", op.symbol()))
                    .with_help("order compares numbers, strings, durations, timestamps and enum variants (by declaration order)");
                    self.report(cx.file, diagnostic);
                } else if !self.comparable(&lt, &rt) {
                    self.incomparable(cx, e, op_span, &lt, &rt);
                }
                Ty::Bool
            }
            BinaryOp::In | BinaryOp::NotIn => {
                let lt = self.expr(cx, lhs, None);
                let hint = match &rhs.kind {
                    ExprKind::List(_) => Some(Ty::List(Box::new(lt.clone()))),
                    ExprKind::Set(_) | ExprKind::EmptyBraces => Some(Ty::Set(Box::new(lt.clone()))),
                    _ => None,
                };
                let rt = self.expr(cx, rhs, hint.as_ref());
                if chained {
                    return Ty::Bool;
                }
                let member = match &rt {
                    Ty::List(t) | Ty::Set(t) => Some((**t).clone()),
                    Ty::Map(_) | Ty::String => Some(Ty::String),
                    Ty::Error => None,
                    other => {
                        let optional = other.is_optional();
                        let diagnostic = Diagnostic::error(
                            if optional {
                                "pol::type::optional"
                            } else {
                                "pol::type::operator"
                            },
                            format!(
                                "`{}` needs a list, set, map or string on the right, found `{}`",
                                op.symbol(),
                                self.ty_name(other)
                            ),
                        )
                        .with_label(
                            cx.abs(rhs.span),
                            format!("this is `{}`", self.ty_name(other)),
                        )
                        .with_help(if optional {
                            "supply an empty collection for `none`: `(xs ?? [])`"
                        } else {
                            "test membership in a collection"
                        });
                        self.report(cx.file, diagnostic);
                        None
                    }
                };
                if let Some(member) = member {
                    if lt.is_optional() && !member.is_optional() {
                        self.mismatch(cx, lhs, &lt, &member);
                    } else if !self.comparable(&lt, &member) {
                        let diagnostic = Diagnostic::error(
                            "pol::type::incomparable",
                            format!(
                                "cannot look for `{}` in `{}`",
                                self.ty_name(&lt),
                                self.ty_name(&rt)
                            ),
                        )
                        .with_label(cx.abs(lhs.span), format!("this is `{}`", self.ty_name(&lt)))
                        .with_label(
                            cx.abs(rhs.span),
                            format!("this holds `{}`", self.ty_name(&member)),
                        );
                        self.report(cx.file, diagnostic);
                    }
                }
                Ty::Bool
            }
            BinaryOp::Coalesce => {
                let want = expected.map(|t| t.clone().optional());
                let lt = self.expr(cx, lhs, want.as_ref());
                if !lt.is_optional() && !lt.is_error() && lt != Ty::None {
                    let diagnostic = Diagnostic::warning(
                        "pol::type::unnecessary_coalesce",
                        "the left side of `??` is never `none`",
                    )
                    .with_label(
                        cx.abs(lhs.span),
                        format!("this is `{}`, not optional", self.ty_name(&lt)),
                    )
                    .with_help("remove `?? ...`");
                    self.report(cx.file, diagnostic);
                }
                let inner = lt.unwrap_optional().clone();
                let hint = if inner == Ty::None || inner.is_error() {
                    expected.cloned()
                } else {
                    Some(inner.clone())
                };
                let rt = self.expr(cx, rhs, hint.as_ref());
                if inner == Ty::None || inner.is_error() {
                    return rt;
                }
                if rt.is_optional() {
                    self.join(cx, &inner.optional(), &rt, rhs)
                } else {
                    self.join(cx, &inner, &rt, rhs)
                }
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => {
                let lt = self.expr(cx, lhs, None);
                let rt = self.expr(cx, rhs, None);
                use Ty::{Duration, Error, Float, Int, List, String, Timestamp};
                let result: Option<Ty> = match (op, &lt, &rt) {
                    (_, Error, _) | (_, _, Error) => Some(Error),
                    (_, Int, Int) => Some(Int),
                    (BinaryOp::Rem, _, _) => None,
                    (_, Int | Float, Int | Float) => Some(Float),
                    (BinaryOp::Add, String, String) => Some(String),
                    (BinaryOp::Add, Timestamp, Duration) | (BinaryOp::Add, Duration, Timestamp) => {
                        Some(Timestamp)
                    }
                    (BinaryOp::Sub, Timestamp, Duration) => Some(Timestamp),
                    (BinaryOp::Sub, Timestamp, Timestamp) => Some(Duration),
                    (BinaryOp::Add | BinaryOp::Sub, Duration, Duration) => Some(Duration),
                    (BinaryOp::Mul, Duration, Int) | (BinaryOp::Mul, Int, Duration) => {
                        Some(Duration)
                    }
                    (BinaryOp::Div, Duration, Int) => Some(Duration),
                    (BinaryOp::Add, List(a), List(b)) if a == b => Some(List(a.clone())),
                    _ => None,
                };
                match result {
                    Some(t) => t,
                    None => {
                        self.operator_error(
                            cx,
                            op_span,
                            op.symbol(),
                            &[(&lt, lhs.span), (&rt, rhs.span)],
                        );
                        Ty::Error
                    }
                }
            }
        }
    }

    fn comparable(&self, a: &Ty, b: &Ty) -> bool {
        match (a, b) {
            (Ty::Error, _) | (_, Ty::Error) => true,
            (Ty::None, Ty::Optional(_)) | (Ty::Optional(_), Ty::None) => true,
            (Ty::Optional(x), y) | (y, Ty::Optional(x)) => self.comparable(x, y),
            _ => self.assignable(a, b) || self.assignable(b, a),
        }
    }

    fn incomparable(&mut self, cx: &Cx, e: &Expr, op_span: Span, lt: &Ty, rt: &Ty) {
        let (l, r) = (self.ty_name(lt), self.ty_name(rt));
        let mut diagnostic = Diagnostic::error(
            "pol::type::incomparable",
            format!("cannot compare `{l}` with `{r}`"),
        )
        .with_label(cx.abs(op_span), "compared here");
        // Label each side with its type (side by side, never nested).
        diagnostic = match &e.kind {
            ExprKind::Binary { lhs, rhs, .. } => diagnostic
                .with_label(cx.abs(lhs.span), format!("`{l}`"))
                .with_label(cx.abs(rhs.span), format!("`{r}`")),
            _ => diagnostic.with_label(
                cx.abs(e.span),
                format!("`{l}` and `{r}` are unrelated types"),
            ),
        };
        if matches!(
            (lt, rt),
            (Ty::Int | Ty::Float, Ty::String) | (Ty::String, Ty::Int | Ty::Float)
        ) {
            diagnostic = diagnostic
                .with_help("a number never equals a string; compare numbers with numbers");
        } else if matches!((lt, rt), (Ty::None, _) | (_, Ty::None)) {
            diagnostic = diagnostic.with_help("only optional values (`T?`) can be `none`");
        } else if let (Ty::Enum(id), Ty::String) | (Ty::String, Ty::Enum(id)) = (lt, rt)
            && let Some(def) = self.program.enums.get(id.0 as usize)
        {
            diagnostic = match def.variants.first() {
                Some((variant, _)) => diagnostic.with_help(format!(
                    "compare with a variant of `{0}`, such as `{0}.{variant}`",
                    def.name
                )),
                None => diagnostic.with_help(format!(
                    "compare with a variant of `{}`, not a string",
                    def.name
                )),
            };
        }
        self.report(cx.file, diagnostic);
    }

    // ------------------------------------------------------------ names and paths

    /// Resolves a name or dotted path that does not start with a local:
    /// a definition, an import, an enum variant, a builtin function.
    /// `None` means "an ordinary value expression".
    fn resolve_path(&mut self, cx: &mut Cx, e: &Expr) -> Option<PathRes> {
        match &e.kind {
            ExprKind::Name(ident) => {
                if cx.locals.iter().any(|l| l.name == ident.name) {
                    return None;
                }
                let package = cx.package.clone();
                if let Some(def) = self
                    .program
                    .packages
                    .get(&package)
                    .and_then(|p| p.defs.get(&ident.name))
                    .copied()
                {
                    self.refer_def(cx.file, cx.abs(ident.span), def);
                    return Some(def_res(def));
                }
                let import = self.program.files[cx.file]
                    .scope
                    .imports
                    .get(&ident.name)
                    .cloned();
                if let Some((_, bound_at)) = &import {
                    self.refer(
                        cx.file,
                        cx.abs(ident.span),
                        (cx.file, *bound_at),
                        Target::Import,
                    );
                }
                match import {
                    Some((ImportTarget::Package(p), _)) => Some(PathRes::Package(p)),
                    Some((ImportTarget::Native(m), _)) => Some(PathRes::Native(m)),
                    None => None,
                }
            }
            ExprKind::Field {
                base,
                name,
                optional: false,
            } => {
                let base_res = self.resolve_path(cx, base)?;
                let span = cx.abs(name.span);
                match base_res {
                    PathRes::Package(package) => {
                        match self
                            .program
                            .packages
                            .get(&package)
                            .and_then(|p| p.defs.get(&name.name))
                            .copied()
                        {
                            Some(def) => {
                                self.refer_def(cx.file, span, def);
                                Some(def_res(def))
                            }
                            None if self.is_broken(&package, &name.name) => Some(PathRes::Error),
                            None => {
                                let candidates: Vec<String> = self
                                    .program
                                    .packages
                                    .get(&package)
                                    .map(|p| p.defs.keys().cloned().collect())
                                    .unwrap_or_default();
                                let mut diagnostic = Diagnostic::error(
                                    "pol::resolve::unknown_name",
                                    format!("package `{package}` has no `{}`", name.name),
                                )
                                .with_label(span, "not defined there");
                                if let Some(s) =
                                    did_you_mean(&name.name, candidates.iter().map(String::as_str))
                                {
                                    diagnostic =
                                        diagnostic.with_help(format!("did you mean `{s}`?"));
                                }
                                self.report(cx.file, diagnostic);
                                Some(PathRes::Error)
                            }
                        }
                    }
                    PathRes::Native(module) => {
                        match builtins::module_functions(module).find(|b| b.name == name.name) {
                            Some(sig) => Some(PathRes::Builtin(sig)),
                            None => {
                                let names: Vec<&str> =
                                    builtins::module_functions(module).map(|b| b.name).collect();
                                let mut diagnostic = Diagnostic::error(
                                    "pol::resolve::unknown_name",
                                    format!("`{module}` has no function `{}`", name.name),
                                )
                                .with_label(span, "not a builtin of this module");
                                if let Some(help) = unknown_name_help(
                                    &name.name,
                                    &names,
                                    Some(&format!("`{module}` provides")),
                                ) {
                                    diagnostic = diagnostic.with_help(help);
                                }
                                self.report(cx.file, diagnostic);
                                Some(PathRes::Error)
                            }
                        }
                    }
                    PathRes::Enum(id) => {
                        let def = &self.program.enums[id.0 as usize];
                        if def.variants.iter().any(|(v, _)| *v == name.name) {
                            self.refer_variant(cx.file, span, id, &name.name);
                            Some(PathRes::Variant(id))
                        } else {
                            let enum_name = def.name.clone();
                            let variants: Vec<String> =
                                def.variants.iter().map(|(v, _)| v.clone()).collect();
                            let mut diagnostic = Diagnostic::error(
                                "pol::resolve::unknown_variant",
                                format!("enum `{enum_name}` has no variant `{}`", name.name),
                            )
                            .with_label(span, "no such variant");
                            let variants: Vec<&str> = variants.iter().map(String::as_str).collect();
                            if let Some(help) = unknown_name_help(
                                &name.name,
                                &variants,
                                Some(&format!("`{enum_name}` has")),
                            ) {
                                diagnostic = diagnostic.with_help(help);
                            }
                            self.report(cx.file, diagnostic);
                            Some(PathRes::Error)
                        }
                    }
                    PathRes::Schema(id) => {
                        let diagnostic = Diagnostic::error(
                            "pol::type::not_a_value",
                            format!(
                                "schema `{}` has no members",
                                self.program.schemas[id.0 as usize].name
                            ),
                        )
                        .with_label(span, "schemas are types")
                        .with_help(
                            "fields belong to values of the schema, such as the policy's input",
                        );
                        self.report(cx.file, diagnostic);
                        Some(PathRes::Error)
                    }
                    PathRes::Error => Some(PathRes::Error),
                    PathRes::Let(_)
                    | PathRes::Param(_)
                    | PathRes::Policy(_)
                    | PathRes::Variant(_)
                    | PathRes::Builtin(_) => None,
                }
            }
            _ => None,
        }
    }

    /// The value of a resolved path used as an expression.
    fn path_value(&mut self, cx: &mut Cx, e: &Expr, res: PathRes) -> Ty {
        let span = cx.abs(e.span);
        let (message, help) = match res {
            PathRes::Let(i) => {
                self.record_dep(cx, Node::Let(i), span);
                return self.ensure_let(i, Some((cx.file, span)));
            }
            PathRes::Param(i) => return self.program.params[i as usize].ty.clone(),
            PathRes::Variant(id) => return Ty::Enum(id),
            PathRes::Error => return Ty::Error,
            PathRes::Policy(i) => (
                format!(
                    "policy `{}` must be called",
                    self.program.policies[i as usize].name
                ),
                "call it with its input: `policy_name(input)`".to_string(),
            ),
            PathRes::Builtin(sig) => (
                format!("builtin `{}` must be called", sig.name),
                format!(
                    "call it: `{}({})`",
                    sig.name,
                    sig.params
                        .iter()
                        .map(|(n, _)| *n)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
            PathRes::Schema(id) => (
                format!(
                    "`{}` is a schema, not a value",
                    self.program.schemas[id.0 as usize].name
                ),
                "write a record literal `{ field: value }` where a value of the schema is expected"
                    .to_string(),
            ),
            PathRes::Enum(id) => (
                format!(
                    "`{}` is an enum, not a value",
                    self.program.enums[id.0 as usize].name
                ),
                format!(
                    "name a variant: `{}.<variant>`",
                    self.program.enums[id.0 as usize].name
                ),
            ),
            PathRes::Package(p) => (
                format!("`{p}` is a package, not a value"),
                "name one of its definitions: `alias.name`".to_string(),
            ),
            PathRes::Native(m) => (
                format!("`{m}` is a module, not a value"),
                "call one of its functions: `alias.function(...)`".to_string(),
            ),
        };
        let diagnostic = Diagnostic::error("pol::type::not_a_value", message)
            .with_label(span, "used as a value")
            .with_help(help);
        self.report(cx.file, diagnostic);
        Ty::Error
    }

    fn name(&mut self, cx: &mut Cx, e: &Expr, ident: &Ident, expected: Option<&Ty>) -> Ty {
        if let Some(local) = cx.locals.iter_mut().rev().find(|l| l.name == ident.name) {
            local.used = true;
            let (ty, definition) = (local.ty.clone(), local.span);
            self.refer(
                cx.file,
                cx.abs(ident.span),
                (cx.file, definition),
                Target::Local,
            );
            return ty;
        }
        if let Some(res) = self.resolve_path(cx, e) {
            return self.path_value(cx, e, res);
        }
        // A bare enum variant: from the expected type, or unique among the
        // enums this file can see.
        if let Some(Ty::Enum(id)) = expected.map(Ty::unwrap_optional)
            && self.program.enums[id.0 as usize]
                .variants
                .iter()
                .any(|(v, _)| *v == ident.name)
        {
            let id = *id;
            self.refer_variant(cx.file, cx.abs(ident.span), id, &ident.name);
            return Ty::Enum(id);
        }
        let visible = self.visible_packages(cx.file);
        let owners: Vec<EnumId> = (0..self.program.enums.len())
            .map(|i| EnumId(i as u32))
            .filter(|id| {
                let def = &self.program.enums[id.0 as usize];
                visible.contains(&def.origin.package)
                    && def.variants.iter().any(|(v, _)| *v == ident.name)
            })
            .collect();
        match owners.as_slice() {
            [one] => {
                let id = *one;
                self.refer_variant(cx.file, cx.abs(ident.span), id, &ident.name);
                return Ty::Enum(id);
            }
            [_, _, ..] => {
                let names: Vec<String> = owners
                    .iter()
                    .map(|id| format!("`{}`", self.program.enums[id.0 as usize].name))
                    .collect();
                let first = &self.program.enums[owners[0].0 as usize].name;
                let diagnostic = Diagnostic::error(
                    "pol::resolve::ambiguous_variant",
                    format!("`{}` is a variant of {}", ident.name, names.join(" and ")),
                )
                .with_label(cx.abs(ident.span), "ambiguous")
                .with_help(format!("qualify it: `{first}.{}`", ident.name));
                self.report(cx.file, diagnostic);
                return Ty::Error;
            }
            [] => {}
        }
        if visible.iter().any(|p| self.is_broken(p, &ident.name)) {
            return Ty::Error;
        }
        // The variants of an enum that failed to parse are unknown, and the
        // name may be one of them: say nothing.
        if visible.iter().any(|p| self.has_broken_type(p)) {
            return Ty::Error;
        }
        let mut candidates: Vec<String> = cx.locals.iter().map(|l| l.name.clone()).collect();
        if let Some(info) = self.program.packages.get(&cx.package) {
            candidates.extend(info.defs.keys().cloned());
        }
        candidates.extend(self.program.files[cx.file].scope.imports.keys().cloned());
        for id in 0..self.program.enums.len() {
            let def = &self.program.enums[id];
            if visible.contains(&def.origin.package) {
                candidates.extend(def.variants.iter().map(|(v, _)| v.clone()));
            }
        }
        let mut diagnostic = Diagnostic::error(
            "pol::resolve::unknown_name",
            format!("unknown name `{}`", ident.name),
        )
        .with_label(cx.abs(ident.span), "not found in this scope");
        let imported_as = self.imported_as(cx.file, &ident.name);
        let suggestion = did_you_mean(&ident.name, candidates.iter().map(String::as_str));
        diagnostic = match (imported_as, suggestion) {
            (Some((target, local)), _) => diagnostic.with_help(format!(
                "`{target}` is imported as `{local}`: write `{local}` instead"
            )),
            (None, Some(s)) => diagnostic.with_help(format!("did you mean `{s}`?")),
            (None, None)
                if builtins::NATIVE_MODULES
                    .iter()
                    .any(|m| m.rsplit('.').next() == Some(ident.name.as_str())) =>
            {
                diagnostic.with_help(format!(
                    "import the module first: `import std.{}`",
                    ident.name
                ))
            }
            (None, None) => diagnostic,
        };
        self.report(cx.file, diagnostic);
        Ty::Error
    }

    /// The package or module that `name` would bind if imported without
    /// `as`, and the other name the file imports it under: for `import
    /// std.url as u`, `url` gives `("std.url", "u")`.
    fn imported_as(&self, file: usize, name: &str) -> Option<(String, String)> {
        self.program.files[file]
            .scope
            .imports
            .iter()
            .find_map(|(local, (target, _))| {
                let target = match target {
                    ImportTarget::Package(p) => p.as_str(),
                    ImportTarget::Native(m) => m,
                };
                (local != name && target.rsplit('.').next() == Some(name))
                    .then(|| (target.to_string(), local.clone()))
            })
    }

    /// The file's package and the packages it imports.
    fn visible_packages(&self, file: usize) -> Vec<String> {
        let info = &self.program.files[file];
        let mut out = vec![info.package.clone()];
        for (target, _) in info.scope.imports.values() {
            if let ImportTarget::Package(p) = target {
                out.push(p.clone());
            }
        }
        out
    }

    /// Whether `e` is (the continuation of) an optional chain: after `a?.b`,
    /// `.c` reaches into `b` only when `a` is present.
    fn in_optional_chain(e: &Expr) -> bool {
        match &e.kind {
            ExprKind::Field { optional: true, .. } | ExprKind::Index { optional: true, .. } => true,
            ExprKind::Field { base, .. } | ExprKind::Index { base, .. } => {
                Self::in_optional_chain(base)
            }
            ExprKind::Call { callee, .. } => Self::in_optional_chain(callee),
            _ => false,
        }
    }

    /// The receiver of `.x` or `?.x`: the base's type with an optional
    /// unwrapped where the syntax allows it, and whether the result becomes
    /// optional. `None` when the base is an optional used with `.`.
    fn receiver(
        &mut self,
        cx: &mut Cx,
        base: &Expr,
        optional: bool,
        member: &Ident,
    ) -> Option<(Ty, bool)> {
        let ty = self.expr(cx, base, None);
        match ty {
            Ty::Optional(inner) if optional || Self::in_optional_chain(base) => {
                Some((*inner, true))
            }
            Ty::Optional(inner) => {
                let diagnostic = Diagnostic::error(
                    "pol::type::optional",
                    format!(
                        "`{}` may be `none`",
                        self.ty_name(&Ty::Optional(inner.clone()))
                    ),
                )
                .with_label(
                    cx.abs(base.span),
                    format!("this is `{}?`", self.ty_name(&inner)),
                )
                .with_label(cx.abs(member.span), "accessed here")
                .with_help(format!(
                    "use `?.{}` to get `none` when it is `none`, or supply a default with `??`",
                    member.name
                ));
                self.report(cx.file, diagnostic);
                None
            }
            Ty::None if optional => Some((Ty::Error, true)),
            other => Some((other, Self::in_optional_chain(base) && optional)),
        }
    }

    fn field(&mut self, cx: &mut Cx, e: &Expr, base: &Expr, name: &Ident, optional: bool) -> Ty {
        if !optional && let Some(res) = self.resolve_path(cx, e) {
            return self.path_value(cx, e, res);
        }
        let Some((receiver, wrap)) = self.receiver(cx, base, optional, name) else {
            return Ty::Error;
        };
        let ty = match &receiver {
            Ty::Error => Ty::Error,
            Ty::Schema(id) => {
                let id = *id;
                let schema = &self.program.schemas[id.0 as usize];
                match schema.fields.iter().find(|f| f.name == name.name) {
                    Some(f) => {
                        let ty = f.ty.clone();
                        self.refer_field(cx.file, cx.abs(name.span), id, &name.name);
                        ty
                    }
                    None => {
                        let schema_name = schema.name.clone();
                        let fields: Vec<String> =
                            schema.fields.iter().map(|f| f.name.clone()).collect();
                        self.unknown_field(
                            cx,
                            name,
                            &schema_name,
                            fields.iter().map(String::as_str),
                        );
                        Ty::Error
                    }
                }
            }
            Ty::Finding => match FINDING_FIELDS.iter().find(|(n, _)| *n == name.name) {
                Some((_, t)) => t.clone(),
                None => {
                    self.unknown_field(cx, name, "Finding", FINDING_FIELDS.iter().map(|(n, _)| *n));
                    Ty::Error
                }
            },
            Ty::Decision | Ty::ValueDecision(_) => match (name.name.as_str(), &receiver) {
                ("allowed" | "denied" | "requires_approval" | "alerted", _) => Ty::Bool,
                ("reasons", _) => Ty::List(Box::new(Ty::String)),
                ("redactions", _) => Ty::List(Box::new(Ty::Finding)),
                ("error", _) => Ty::String.optional(),
                ("value", Ty::ValueDecision(t)) => (**t).clone(),
                ("fired", _) => {
                    let diagnostic = Diagnostic::error(
                        "pol::type::not_a_value",
                        "`fired` must be called with a rule's reason",
                    )
                    .with_label(cx.abs(name.span), "a method")
                    .with_help("write `d.fired(\"the rule's reason\")`");
                    self.report(cx.file, diagnostic);
                    Ty::Error
                }
                _ => {
                    let on = self.ty_name(&receiver);
                    let members: Vec<&str> = DECISION_MEMBERS
                        .iter()
                        .copied()
                        .filter(|m| *m != "value" || matches!(receiver, Ty::ValueDecision(_)))
                        .collect();
                    self.unknown_field(cx, name, &on, members.into_iter());
                    Ty::Error
                }
            },
            other => {
                let on = self.ty_name(other);
                let methods = methods_of(other);
                let mut diagnostic = Diagnostic::error(
                    "pol::type::unknown_field",
                    format!("`{on}` has no field `{}`", name.name),
                )
                .with_label(cx.abs(name.span), "no such field");
                if methods.iter().any(|m| m.name == name.name) {
                    diagnostic = diagnostic.with_help(format!(
                        "`{}` is a method: call it with `{}()`",
                        name.name, name.name
                    ));
                }
                self.report(cx.file, diagnostic);
                Ty::Error
            }
        };
        if wrap { ty.optional() } else { ty }
    }

    fn index(&mut self, cx: &mut Cx, e: &Expr, base: &Expr, index: &Expr, optional: bool) -> Ty {
        let ty = self.expr(cx, base, None);
        let (receiver, chained) = match ty {
            Ty::Optional(inner) if optional || Self::in_optional_chain(base) => (*inner, true),
            Ty::Optional(inner) => {
                self.expr(cx, index, Some(&Ty::Error));
                let diagnostic = Diagnostic::error(
                    "pol::type::optional",
                    format!("`{}?` may be `none`", self.ty_name(&inner)),
                )
                .with_label(cx.abs(base.span), "may be `none`")
                .with_help("index with `?[...]` to get `none` when it is `none`");
                self.report(cx.file, diagnostic);
                return Ty::Error;
            }
            other => (other, false),
        };
        let result = match &receiver {
            Ty::Map(v) => {
                self.expect(cx, index, &Ty::String);
                (**v).clone().optional()
            }
            Ty::List(t) => {
                self.expect(cx, index, &Ty::Int);
                (**t).clone().optional()
            }
            Ty::Error => {
                self.expr(cx, index, Some(&Ty::Error));
                Ty::Error
            }
            other => {
                self.expr(cx, index, Some(&Ty::Error));
                let help = if matches!(other, Ty::Set(_)) {
                    "test membership with `x in set`"
                } else {
                    "index a list with an int or a map with a string"
                };
                let diagnostic = Diagnostic::error(
                    "pol::type::not_indexable",
                    format!("`{}` cannot be indexed", self.ty_name(other)),
                )
                .with_label(cx.abs(e.span), "indexed here")
                .with_help(help);
                self.report(cx.file, diagnostic);
                Ty::Error
            }
        };
        if chained { result.optional() } else { result }
    }

    fn call(&mut self, cx: &mut Cx, e: &Expr, callee: &Expr, args: &[Expr]) -> Ty {
        if let Some(res) = self.resolve_path(cx, callee) {
            return match res {
                PathRes::Policy(id) => self.policy_call(cx, e, callee, id, args),
                PathRes::Builtin(sig) => self.builtin_call(cx, e, sig, None, args),
                PathRes::Error => {
                    self.quiet_exprs(cx, args);
                    Ty::Error
                }
                other => {
                    let ty = self.path_value(cx, callee, other);
                    self.quiet_exprs(cx, args);
                    if !ty.is_error() {
                        self.not_callable(cx, callee, &ty);
                    }
                    Ty::Error
                }
            };
        }
        if let ExprKind::Field {
            base,
            name,
            optional,
        } = &callee.kind
        {
            return self.method_call(cx, e, base, name, *optional, args);
        }
        let ty = self.expr(cx, callee, None);
        self.quiet_exprs(cx, args);
        if !ty.is_error() {
            self.not_callable(cx, callee, &ty);
        }
        Ty::Error
    }

    fn not_callable(&mut self, cx: &Cx, callee: &Expr, ty: &Ty) {
        let diagnostic = Diagnostic::error(
            "pol::type::not_callable",
            format!("`{}` is not callable", self.ty_name(ty)),
        )
        .with_label(cx.abs(callee.span), "called here")
        .with_help("policies, builtins and methods can be called");
        self.report(cx.file, diagnostic);
    }

    fn policy_call(&mut self, cx: &mut Cx, e: &Expr, callee: &Expr, id: u32, args: &[Expr]) -> Ty {
        let def = self.program.policies[id as usize].clone();
        let inputs = self
            .policy_inputs
            .get(id as usize)
            .cloned()
            .unwrap_or_default();
        match args {
            [arg] => {
                self.expect(cx, arg, &def.input);
            }
            // A policy declared with several inputs (`policy_input`, reported
            // there) called with as many: check each against its input.
            _ if inputs.len() != 1 && inputs.len() == args.len() => {
                for (arg, input) in args.iter().zip(&inputs) {
                    self.expect(cx, arg, input);
                }
            }
            _ => {
                self.quiet_exprs(cx, args);
                let label = if def.input.is_error() {
                    "expected one input".to_string()
                } else {
                    format!("expected one `{}`", self.ty_name(&def.input))
                };
                let diagnostic = Diagnostic::error(
                    "pol::type::arity",
                    format!(
                        "policy `{}` takes 1 argument, but {} {} given",
                        def.name,
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                )
                .with_label(cx.abs(e.span), label)
                .with_help("pass the policy's input as one record");
                self.report(cx.file, diagnostic);
            }
        }
        self.record_dep(cx, Node::Policy(id), cx.abs(callee.span));
        def.call_type()
    }

    fn method_call(
        &mut self,
        cx: &mut Cx,
        e: &Expr,
        base: &Expr,
        name: &Ident,
        optional: bool,
        args: &[Expr],
    ) -> Ty {
        let Some((receiver, wrap)) = self.receiver(cx, base, optional, name) else {
            self.quiet_exprs(cx, args);
            return Ty::Error;
        };
        if receiver.is_error() {
            self.quiet_exprs(cx, args);
            return Ty::Error;
        }
        if matches!(receiver, Ty::Decision | Ty::ValueDecision(_)) && name.name == "fired" {
            let ty = self.builtin_like_args(
                cx,
                e,
                "fired",
                &[("reason", TypePattern::String)],
                None,
                args,
            );
            let _ = ty;
            return if wrap { Ty::Bool.optional() } else { Ty::Bool };
        }
        let candidates = methods_of(&receiver);
        match candidates.iter().find(|sig| sig.name == name.name) {
            Some(sig) => {
                let elem = receiver.element().cloned();
                let ty = self.builtin_call(cx, e, sig, elem.as_ref(), args);
                if wrap { ty.optional() } else { ty }
            }
            None => {
                self.quiet_exprs(cx, args);
                let on = self.ty_name(&receiver);
                let mut diagnostic = Diagnostic::error(
                    "pol::type::unknown_method",
                    format!("no method `{}` on `{on}`", name.name),
                )
                .with_label(cx.abs(name.span), "unknown method");
                let names: Vec<&str> = candidates.iter().map(|s| s.name).collect();
                // Names other languages use for these methods.
                let alias = match name.name.as_str() {
                    "length" | "size" | "count" => Some("len"),
                    "contains_any" | "any_of" | "overlaps" => Some("intersects"),
                    "includes" | "has" => Some("contains"),
                    "lowercase" | "to_lower" | "to_lowercase" => Some("lower"),
                    "uppercase" | "to_upper" | "to_uppercase" => Some("upper"),
                    "strip" => Some("trim"),
                    "startswith" => Some("starts_with"),
                    "endswith" => Some("ends_with"),
                    _ => None,
                }
                .filter(|alias| names.contains(alias));
                diagnostic = match alias.map(|a| format!("did you mean `{a}`?")).or_else(|| {
                    unknown_name_help(&name.name, &names, Some(&format!("methods of `{on}`:")))
                }) {
                    Some(help) => diagnostic.with_help(help),
                    None => diagnostic.with_help(format!("`{on}` has no methods")),
                };
                self.report(cx.file, diagnostic);
                Ty::Error
            }
        }
    }

    fn builtin_call(
        &mut self,
        cx: &mut Cx,
        e: &Expr,
        sig: &'static BuiltinSig,
        elem: Option<&Ty>,
        args: &[Expr],
    ) -> Ty {
        self.builtin_like_args(cx, e, sig.name, sig.params, elem, args);
        if matches!(
            sig.id,
            Builtin::StrMatches | Builtin::StrFindAll | Builtin::StrMatchesAny
        ) {
            self.check_constant_patterns(cx, args.first());
        }
        pattern_ty(&sig.ret, elem)
    }

    /// Validates regexes written as literals where they are used, as the
    /// runtime will compile them, pointing into the literal at the problem.
    fn check_constant_patterns(&mut self, cx: &Cx, arg: Option<&Expr>) {
        let literals: Vec<&Expr> = match arg.map(|a| &a.kind) {
            Some(ExprKind::Str(_)) => arg.into_iter().collect(),
            Some(ExprKind::List(items) | ExprKind::Set(items)) => items
                .iter()
                .filter(|i| matches!(i.kind, ExprKind::Str(_)))
                .collect(),
            _ => Vec::new(),
        };
        for literal in literals {
            let ExprKind::Str(pattern) = &literal.kind else {
                continue;
            };
            // A literal with a bad escape is reported already; its value is
            // not what was meant.
            let at = cx.abs(literal.span);
            let broken = self.program.files[cx.file]
                .syntax
                .diagnostics
                .iter()
                .filter_map(Diagnostic::primary_span)
                .any(|s| at.start <= s.start && s.end <= at.end);
            if broken {
                continue;
            }
            if let Some((range, problem)) = regex_problem(pattern) {
                // Map the problem's range into the literal when the literal
                // spells the pattern verbatim (no escapes).
                let prefix = match literal.span.len() as usize
                    - pattern.len().min(literal.span.len() as usize)
                {
                    2 => Some(1),
                    3 => Some(2),
                    5 => Some(3),
                    _ => None,
                };
                let span = match (prefix, range) {
                    (Some(prefix), Some(range)) => Span::new(
                        literal.span.start as usize + prefix + range.start,
                        literal.span.start as usize
                            + prefix
                            + range.end.max(range.start + 1).min(pattern.len()),
                    ),
                    _ => literal.span,
                };
                let diagnostic = Diagnostic::error("pol::type::invalid_regex", format!("invalid regex: {problem}"))
                    .with_label(cx.abs(span), "here")
                    .with_help("patterns use the `regex` crate's syntax: linear time, no look-around or backreferences; write them as raw strings `r\"...\"`");
                self.report(cx.file, diagnostic);
            }
        }
    }

    /// Checks arguments against parameter patterns, reporting arity.
    fn builtin_like_args(
        &mut self,
        cx: &mut Cx,
        e: &Expr,
        name: &str,
        params: &[(&str, TypePattern)],
        elem: Option<&Ty>,
        args: &[Expr],
    ) -> Ty {
        if params.len() != args.len() {
            self.quiet_exprs(cx, args);
            let signature = params
                .iter()
                .map(|(n, p)| format!("{n}: {}", pattern_name(p)))
                .collect::<Vec<_>>()
                .join(", ");
            let diagnostic = Diagnostic::error(
                "pol::type::arity",
                format!(
                    "`{name}` takes {} argument{}, but {} {} given",
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
            )
            .with_label(cx.abs(e.span), "wrong number of arguments")
            .with_help(format!("the signature is `{name}({signature})`"));
            self.report(cx.file, diagnostic);
            return Ty::Error;
        }
        for ((_, pattern), arg) in params.iter().zip(args) {
            match pattern {
                TypePattern::Collection(inner) => {
                    let want = pattern_ty(inner, elem);
                    let hint = match &arg.kind {
                        ExprKind::List(_) => Some(Ty::List(Box::new(want.clone()))),
                        _ => Some(Ty::Set(Box::new(want.clone()))),
                    };
                    let actual = self.expr(cx, arg, hint.as_ref());
                    let ok = match &actual {
                        Ty::List(t) | Ty::Set(t) => self.assignable(t, &want),
                        Ty::Error => true,
                        _ => false,
                    };
                    if !ok {
                        let expected = Ty::Set(Box::new(want.clone()));
                        let (a, x) = (self.ty_name(&actual), self.ty_name(&expected));
                        let diagnostic = Diagnostic::error(
                            "pol::type::mismatch",
                            format!(
                                "expected a list or set of `{}`, found `{a}`",
                                self.ty_name(&want)
                            ),
                        )
                        .with_label(cx.abs(arg.span), format!("this is `{a}`"))
                        .with_help(format!("pass a `{x}` or a `list<{}>`", self.ty_name(&want)));
                        self.report(cx.file, diagnostic);
                    }
                }
                other => {
                    let want = pattern_ty(other, elem);
                    self.expect(cx, arg, &want);
                }
            }
        }
        Ty::Error
    }
}

/// Whether `e` is an unparenthesized comparison (comparisons do not chain).
fn is_comparison_expr(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Binary { op, .. } if op.is_comparison())
}

fn def_res(def: Def) -> PathRes {
    match def {
        Def::Schema(id) => PathRes::Schema(id),
        Def::Enum(id) => PathRes::Enum(id),
        Def::Let(i) => PathRes::Let(i),
        Def::Param(i) => PathRes::Param(i),
        Def::Policy(i) => PathRes::Policy(i),
    }
}

/// The methods callable on a value of type `ty`.
pub(crate) fn methods_of(ty: &Ty) -> Vec<&'static BuiltinSig> {
    let receivers: &[Receiver] = match ty {
        Ty::String => &[Receiver::String],
        Ty::List(t) if matches!(**t, Ty::Int | Ty::Float | Ty::Duration) => &[
            Receiver::Collection,
            Receiver::List,
            Receiver::NumericCollection,
        ],
        Ty::List(_) => &[Receiver::Collection, Receiver::List],
        Ty::Set(t) if matches!(**t, Ty::Int | Ty::Float | Ty::Duration) => {
            &[Receiver::Collection, Receiver::NumericCollection]
        }
        Ty::Set(_) => &[Receiver::Collection],
        Ty::Map(_) => &[Receiver::Map],
        Ty::Int => &[Receiver::Int],
        Ty::Float => &[Receiver::Float],
        Ty::Duration => &[Receiver::Duration],
        Ty::Timestamp => &[Receiver::Timestamp],
        _ => &[],
    };
    builtins::BUILTINS
        .iter()
        .filter(|b| receivers.contains(&b.receiver))
        .collect()
}

/// A builtin's type pattern as a type, with `Elem` bound to `elem`.
pub(crate) fn pattern_ty(pattern: &TypePattern, elem: Option<&Ty>) -> Ty {
    match pattern {
        TypePattern::Bool => Ty::Bool,
        TypePattern::Int => Ty::Int,
        TypePattern::Float => Ty::Float,
        TypePattern::String => Ty::String,
        TypePattern::Duration => Ty::Duration,
        TypePattern::Timestamp => Ty::Timestamp,
        TypePattern::Finding => Ty::Finding,
        TypePattern::Elem => elem.cloned().unwrap_or(Ty::Error),
        TypePattern::List(p) => Ty::List(Box::new(pattern_ty(p, elem))),
        TypePattern::Set(p) | TypePattern::Collection(p) => Ty::Set(Box::new(pattern_ty(p, elem))),
        TypePattern::Optional(p) => pattern_ty(p, elem).optional(),
    }
}

/// A pattern as shown in a signature.
pub(crate) fn pattern_name(pattern: &TypePattern) -> String {
    match pattern {
        TypePattern::Bool => "bool".into(),
        TypePattern::Int => "int".into(),
        TypePattern::Float => "float".into(),
        TypePattern::String => "string".into(),
        TypePattern::Duration => "duration".into(),
        TypePattern::Timestamp => "timestamp".into(),
        TypePattern::Finding => "Finding".into(),
        TypePattern::Elem => "T".into(),
        TypePattern::List(p) => format!("list<{}>", pattern_name(p)),
        TypePattern::Set(p) => format!("set<{}>", pattern_name(p)),
        TypePattern::Collection(p) => format!("list<{0}> | set<{0}>", pattern_name(p)),
        TypePattern::Optional(p) => format!("{}?", pattern_name(p)),
    }
}

/// A dotted path as a chain of field accesses, to resolve it like an
/// expression.
fn path_expr(path: &ast::Path) -> Expr {
    let mut segments = path.segments.iter();
    let first = segments.next().cloned().unwrap_or(Ident {
        name: String::new(),
        span: path.span,
    });
    let mut expr = Expr {
        span: first.span,
        kind: ExprKind::Name(first),
    };
    for segment in segments {
        let span = expr.span.cover(segment.span);
        expr = Expr {
            kind: ExprKind::Field {
                base: Box::new(expr),
                name: segment.clone(),
                optional: false,
            },
            span,
        };
    }
    expr
}

/// Why `pattern` would not compile at run time, with the byte range of the
/// problem in the pattern when the parser knows it.
fn regex_problem(pattern: &str) -> Option<(Option<std::ops::Range<usize>>, String)> {
    let parsed = regex_syntax::ast::parse::ParserBuilder::new()
        .nest_limit(pol_ir::builtins::REGEX_NEST_LIMIT)
        .build()
        .parse(pattern);
    if let Err(e) = parsed {
        let span = e.span();
        return Some((
            Some(span.start.offset..span.end.offset),
            e.kind().to_string(),
        ));
    }
    match regex::RegexBuilder::new(pattern)
        .size_limit(pol_ir::builtins::REGEX_SIZE_LIMIT)
        .dfa_size_limit(pol_ir::builtins::REGEX_DFA_SIZE_LIMIT)
        .nest_limit(pol_ir::builtins::REGEX_NEST_LIMIT)
        .build()
    {
        Ok(_) => None,
        Err(regex::Error::CompiledTooBig(limit)) => Some((
            None,
            format!("the compiled pattern exceeds {limit} bytes; use smaller bounded repetitions"),
        )),
        Err(e) => Some((None, e.to_string())),
    }
}

/// The id slug of a reason: lowercase letters and digits, other runs
/// collapsed to `-`.
pub(crate) fn slug(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    for c in reason.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}
