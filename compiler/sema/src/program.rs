//! The program model: packages, their definitions and resolved types.

use std::collections::BTreeMap;
use std::sync::Arc;

use pol_syntax::{Span, ast};

use crate::FileSyntax;
use crate::ty::{EnumId, SchemaId, Ty, TyDisplay};

/// A file handed to the checker.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct InputFile {
    pub(crate) path: String,
    pub(crate) syntax: Arc<FileSyntax>,
    pub(crate) embedded: bool,
}

/// A checked file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    /// Its path.
    pub path: String,
    /// Its syntax.
    pub syntax: Arc<FileSyntax>,
    /// Whether it is an embedded standard-library file.
    pub embedded: bool,
    /// The package it belongs to (empty when it declares none).
    pub package: String,
    /// What its imports bind.
    pub scope: FileScope,
}

/// The names a file's imports bind.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FileScope {
    /// Local name to import target and the import's span.
    pub imports: BTreeMap<String, (ImportTarget, Span)>,
}

/// What an import refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportTarget {
    /// A package of Pol source (the project's or the embedded library's).
    Package(String),
    /// A native builtin module such as `std.pii`.
    Native(&'static str),
}

/// A package: the files that declare it and what they define.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PackageInfo {
    /// Files, by index in [`Program::files`].
    pub files: Vec<usize>,
    /// Named definitions.
    pub defs: BTreeMap<String, Def>,
    /// Names of items that failed to parse: uses of them are not reported.
    pub broken: Vec<String>,
    /// Whether an `enum` of the package failed to parse: bare names may be
    /// its variants, so unknown ones are not reported.
    pub has_broken_enum: bool,
}

/// A named definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Def {
    /// A schema.
    Schema(SchemaId),
    /// An enum.
    Enum(EnumId),
    /// A `let`, by index in [`Program::lets`].
    Let(u32),
    /// A `param`, by index in [`Program::params`].
    Param(u32),
    /// A policy, by index in [`Program::policies`].
    Policy(u32),
}

/// Where a definition lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Its package.
    pub package: String,
    /// Its file, by index.
    pub file: usize,
    /// Its item, by index in the file's syntax.
    pub item: usize,
    /// The item's byte offset in the file.
    pub offset: u32,
    /// The defined name's span, absolute in the file.
    pub name_span: Span,
}

/// A schema with resolved field types.
#[derive(Debug, Clone, PartialEq)]
pub struct SchemaDef {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub origin: Origin,
    /// Fields in order: name, type (`T?` for optional fields), absolute span.
    pub fields: Vec<FieldDef>,
}

/// A schema field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDef {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: Ty,
    /// Its name's span, absolute.
    pub span: Span,
}

/// An enum and its ordered variants.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDef {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub origin: Origin,
    /// Variant names in declaration order, with absolute spans.
    pub variants: Vec<(String, Span)>,
}

/// A top-level `let`.
#[derive(Debug, Clone, PartialEq)]
pub struct LetDef {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub origin: Origin,
    /// Its type (declared or inferred).
    pub ty: Ty,
}

/// A `param`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDef {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub origin: Origin,
    /// Its declared type.
    pub ty: Ty,
}

/// What a policy returns.
#[derive(Debug, Clone, PartialEq)]
pub enum PolicyKind {
    /// `-> Decision`: rules combine into an effect.
    Decision,
    /// `-> T`: the first matching `return` rule chooses the value.
    Value(Ty),
    /// `-> list<T>` with a `keep` rule: the elements kept.
    Filter(Ty),
}

/// A policy's signature.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDef {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub origin: Origin,
    /// The input's type.
    pub input: Ty,
    /// Decision, value or filter.
    pub kind: PolicyKind,
}

impl PolicyDef {
    /// The type a call of this policy has.
    pub fn call_type(&self) -> Ty {
        match &self.kind {
            PolicyKind::Decision => Ty::Decision,
            PolicyKind::Value(t) | PolicyKind::Filter(t) => Ty::ValueDecision(Box::new(t.clone())),
        }
    }
}

/// `param alias.name = value`: an importing package sets a param.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamOverrideDef {
    /// The param set, by index in [`Program::params`].
    pub param: u32,
    /// Where the setting is.
    pub origin: Origin,
}

/// A test block.
#[derive(Debug, Clone, PartialEq)]
pub struct TestDef {
    /// Its name.
    pub name: String,
    /// Where it is.
    pub origin: Origin,
}

/// Everything resolution and checking learned about the project.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Program {
    /// Every file checked: the project's, then the embedded library's.
    pub files: Vec<FileInfo>,
    /// Packages by dotted name.
    pub packages: BTreeMap<String, PackageInfo>,
    /// Schemas by id.
    pub schemas: Vec<SchemaDef>,
    /// Enums by id.
    pub enums: Vec<EnumDef>,
    /// Top-level lets.
    pub lets: Vec<LetDef>,
    /// Params.
    pub params: Vec<ParamDef>,
    /// Policies.
    pub policies: Vec<PolicyDef>,
    /// Tests.
    pub tests: Vec<TestDef>,
    /// Params set by importing packages.
    pub overrides: Vec<ParamOverrideDef>,
}

impl Program {
    /// The user-facing name of a type, such as `list<Role>?`.
    pub fn display_ty(&self, ty: &Ty) -> String {
        let names = |t: &Ty| match t {
            Ty::Schema(id) => self.schemas.get(id.0 as usize).map(|s| s.name.clone()),
            Ty::Enum(id) => self.enums.get(id.0 as usize).map(|e| e.name.clone()),
            _ => None,
        };
        TyDisplay { ty, names: &names }.to_string()
    }

    /// The item a definition comes from.
    pub fn item(&self, origin: &Origin) -> Option<&ast::Item> {
        self.files
            .get(origin.file)?
            .syntax
            .items
            .get(origin.item)
            .map(|(_, item)| item.as_ref())
    }

    /// The policy with this qualified name (`package.policy`).
    pub fn policy_by_name(&self, qualified: &str) -> Option<&PolicyDef> {
        let (package, name) = qualified.rsplit_once('.')?;
        match self.packages.get(package)?.defs.get(name)? {
            Def::Policy(i) => self.policies.get(*i as usize),
            _ => None,
        }
    }
}
