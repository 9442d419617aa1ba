//! The generator's model of the program being built: types, definitions,
//! files and scopes.

/// A Pol type, as the generator tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ty {
    Bool,
    Int,
    Float,
    Str,
    Duration,
    Timestamp,
    Finding,
    /// An enum, by index in [`Model::enums`].
    Enum(usize),
    /// A schema, by index in [`Model::schemas`].
    Schema(usize),
    List(Box<Ty>),
    Set(Box<Ty>),
    Map(Box<Ty>),
    Opt(Box<Ty>),
    /// The result of calling a decision policy.
    Decision,
    /// The result of calling a value or filter policy returning the type.
    ValueDecision(Box<Ty>),
}

impl Ty {
    /// `T?`, without nesting (`T??` does not exist).
    pub(crate) fn opt(self) -> Ty {
        match self {
            Ty::Opt(_) => self,
            t => Ty::Opt(Box::new(t)),
        }
    }

    pub(crate) fn list(t: Ty) -> Ty {
        Ty::List(Box::new(t))
    }

    pub(crate) fn set(t: Ty) -> Ty {
        Ty::Set(Box::new(t))
    }

    pub(crate) fn map(t: Ty) -> Ty {
        Ty::Map(Box::new(t))
    }

    /// The type without its `?`.
    pub(crate) fn strip(&self) -> &Ty {
        match self {
            Ty::Opt(t) => t,
            t => t,
        }
    }

    pub(crate) fn is_opt(&self) -> bool {
        matches!(self, Ty::Opt(_))
    }

    pub(crate) fn is_decision(&self) -> bool {
        matches!(self, Ty::Decision | Ty::ValueDecision(_))
    }

    /// Whether the type mentions a decision anywhere (such values are not
    /// compared, stored in collections or used as inputs).
    pub(crate) fn has_decision(&self) -> bool {
        match self {
            Ty::Decision | Ty::ValueDecision(_) => true,
            Ty::List(t) | Ty::Set(t) | Ty::Map(t) | Ty::Opt(t) => t.has_decision(),
            _ => false,
        }
    }

    /// Types with an order (`<`, `<=`, `>`, `>=`).
    pub(crate) fn is_ordered(&self) -> bool {
        matches!(
            self,
            Ty::Int | Ty::Float | Ty::Str | Ty::Duration | Ty::Timestamp | Ty::Enum(_)
        )
    }

    /// The element type of a collection (a map's value type).
    pub(crate) fn elem(&self) -> Option<&Ty> {
        match self {
            Ty::List(t) | Ty::Set(t) | Ty::Map(t) => Some(t),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct EnumDef {
    pub(crate) name: String,
    pub(crate) pkg: usize,
    pub(crate) variants: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub(crate) name: String,
    pub(crate) ty: Ty,
}

#[derive(Debug, Clone)]
pub(crate) struct SchemaDef {
    pub(crate) name: String,
    pub(crate) pkg: usize,
    pub(crate) fields: Vec<Field>,
}

/// What the strings of a string-collection param are safe to be used as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strings {
    /// Anything (phrases).
    Any,
    /// Valid regular expressions.
    Regexes,
    /// Valid globs.
    Globs,
    /// Host entries.
    Hosts,
}

#[derive(Debug, Clone)]
pub(crate) struct ParamDef {
    pub(crate) name: String,
    pub(crate) pkg: usize,
    pub(crate) ty: Ty,
    pub(crate) strings: Strings,
}

#[derive(Debug, Clone)]
pub(crate) struct LetDef {
    pub(crate) name: String,
    pub(crate) pkg: usize,
    pub(crate) ty: Ty,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Decision,
    /// A value policy returning the type.
    Value(Ty),
    /// A filter policy returning `list<T>` (the type is `T`).
    Filter(Ty),
}

#[derive(Debug, Clone)]
pub(crate) struct PolicyDef {
    pub(crate) name: String,
    pub(crate) pkg: usize,
    pub(crate) input: Ty,
    pub(crate) kind: Kind,
    /// Every reason, the default's included.
    pub(crate) reasons: Vec<String>,
}

impl PolicyDef {
    /// The type of a call of this policy.
    pub(crate) fn call_ty(&self) -> Ty {
        match &self.kind {
            Kind::Decision => Ty::Decision,
            Kind::Value(t) => Ty::ValueDecision(Box::new(t.clone())),
            Kind::Filter(t) => Ty::ValueDecision(Box::new(Ty::list(t.clone()))),
        }
    }
}

/// One source file: its package, the names its imports bind, its items.
#[derive(Debug, Clone)]
pub(crate) struct FileInfo {
    pub(crate) name: String,
    pub(crate) pkg: usize,
    /// `(module, local name, written with as)`, for the six native modules.
    pub(crate) modules: Vec<(&'static str, String, bool)>,
    /// The local name of the library package, in the application's files.
    pub(crate) lib_alias: Option<(String, bool)>,
    pub(crate) items: Vec<String>,
}

impl FileInfo {
    pub(crate) fn module(&self, module: &str) -> &str {
        self.modules
            .iter()
            .find(|(m, _, _)| *m == module)
            .map_or("?", |(_, alias, _)| alias.as_str())
    }
}

/// The program built so far.
#[derive(Debug, Clone, Default)]
pub(crate) struct Model {
    /// Package paths; package 0 is the library, package 1 (if present) the
    /// application, which imports the library.
    pub(crate) packages: Vec<String>,
    pub(crate) files: Vec<FileInfo>,
    pub(crate) enums: Vec<EnumDef>,
    pub(crate) schemas: Vec<SchemaDef>,
    pub(crate) params: Vec<ParamDef>,
    pub(crate) lets: Vec<LetDef>,
    pub(crate) policies: Vec<PolicyDef>,
}

impl Model {
    /// Whether a definition of package `def` is visible from package `from`.
    pub(crate) fn visible(&self, def: usize, from: usize) -> bool {
        def == from || (def == 0 && from == 1)
    }

    /// The prefix naming a definition of package `def` from file `file`:
    /// empty in the same package, `alias.` across.
    pub(crate) fn prefix(&self, def: usize, file: usize) -> String {
        let f = &self.files[file];
        if def == f.pkg {
            String::new()
        } else {
            let alias = f.lib_alias.as_ref().map_or("lib", |(a, _)| a.as_str());
            format!("{alias}.")
        }
    }

    /// A type as written in file `file`.
    pub(crate) fn ty_src(&self, ty: &Ty, file: usize) -> String {
        match ty {
            Ty::Bool => "bool".into(),
            Ty::Int => "int".into(),
            Ty::Float => "float".into(),
            Ty::Str => "string".into(),
            Ty::Duration => "duration".into(),
            Ty::Timestamp => "timestamp".into(),
            Ty::Finding => "Finding".into(),
            Ty::Enum(i) => {
                let e = &self.enums[*i];
                format!("{}{}", self.prefix(e.pkg, file), e.name)
            }
            Ty::Schema(i) => {
                let s = &self.schemas[*i];
                format!("{}{}", self.prefix(s.pkg, file), s.name)
            }
            Ty::List(t) => format!("list<{}>", self.ty_src(t, file)),
            Ty::Set(t) => format!("set<{}>", self.ty_src(t, file)),
            Ty::Map(t) => format!("map<string, {}>", self.ty_src(t, file)),
            Ty::Opt(t) => format!("{}?", self.ty_src(t, file)),
            Ty::Decision => "Decision".into(),
            // Cannot be written; never asked for.
            Ty::ValueDecision(_) => "Decision".into(),
        }
    }

    /// The fields (or members) reachable with `.` on a value of this type.
    pub(crate) fn members(&self, ty: &Ty) -> Vec<(String, Ty)> {
        match ty {
            Ty::Schema(i) => self.schemas[*i]
                .fields
                .iter()
                .map(|f| (f.name.clone(), f.ty.clone()))
                .collect(),
            Ty::Finding => vec![
                ("kind".into(), Ty::Str),
                ("start".into(), Ty::Int),
                ("end".into(), Ty::Int),
                ("text".into(), Ty::Str),
            ],
            Ty::Decision | Ty::ValueDecision(_) => {
                let mut m = vec![
                    ("allowed".into(), Ty::Bool),
                    ("denied".into(), Ty::Bool),
                    ("requires_approval".into(), Ty::Bool),
                    ("alerted".into(), Ty::Bool),
                    ("reasons".into(), Ty::list(Ty::Str)),
                    ("redactions".into(), Ty::list(Ty::Finding)),
                    ("error".into(), Ty::Str.opt()),
                ];
                if let Ty::ValueDecision(t) = ty {
                    m.push(("value".into(), (**t).clone()));
                }
                m
            }
            _ => Vec::new(),
        }
    }

    /// The enums whose variants may be written bare in file `file` (those
    /// of its package and of the packages it imports).
    pub(crate) fn enums_in_scope(&self, file: usize) -> impl Iterator<Item = &EnumDef> {
        let pkg = self.files[file].pkg;
        self.enums.iter().filter(move |e| self.visible(e.pkg, pkg))
    }
}

/// A local in scope: the policy input, a `let` local, a quantifier or
/// `keep` variable.
#[derive(Debug, Clone)]
pub(crate) struct Local {
    pub(crate) name: String,
    pub(crate) ty: Ty,
    /// For a local holding a policy's decision: that policy.
    pub(crate) origin: Option<usize>,
    /// What it is, for coverage: `input`, `local`, `quant`, `keep`.
    pub(crate) role: &'static str,
}

/// Where an expression is being generated.
#[derive(Debug, Clone)]
pub(crate) struct Cx {
    pub(crate) file: usize,
    pub(crate) pkg: usize,
    pub(crate) locals: Vec<Local>,
    /// Whether `now` may be used (not in params).
    pub(crate) now: bool,
    /// Lets with an index below this may be used.
    pub(crate) lets_before: usize,
    /// Whether params may be used.
    pub(crate) params: bool,
    /// Policies with an index below this may be called.
    pub(crate) policies_before: usize,
    /// Only literals (param defaults: load-time data that cannot fail).
    pub(crate) literal_only: bool,
    /// Cached value paths, cleared when the locals change.
    pub(crate) paths: Option<std::rc::Rc<Vec<Path>>>,
}

/// A value reachable by name and field access, with its type.
#[derive(Debug, Clone)]
pub(crate) struct Path {
    pub(crate) src: String,
    /// The type of the whole path (optional when it goes through `?.`).
    pub(crate) ty: Ty,
    /// The type of the last member itself (what further access sees).
    pub(crate) walk: Ty,
    /// For a decision: the policy that produced it.
    pub(crate) origin: Option<usize>,
    /// What the root is (for coverage): `local`, `input`, `param`, `let`.
    pub(crate) root: &'static str,
    /// Whether the root is in another package.
    pub(crate) imported: bool,
    /// Whether the path goes through `?.`.
    pub(crate) chained: bool,
    /// How many members were accessed from the root.
    pub(crate) hops: usize,
    /// Whether the last member is a member of a decision.
    pub(crate) decision_member: bool,
}

impl Cx {
    pub(crate) fn push(&mut self, local: Local) {
        self.locals.push(local);
        self.paths = None;
    }

    /// Whether a local hides the definition `name` of package `pkg` (a
    /// definition of another package is reached through its alias).
    pub(crate) fn shadows(&self, pkg: usize, name: &str) -> bool {
        pkg == self.pkg && self.locals.iter().any(|l| l.name == name)
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        if self.locals.len() != len {
            self.locals.truncate(len);
            self.paths = None;
        }
    }
}
