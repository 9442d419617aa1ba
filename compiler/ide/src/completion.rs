//! Completion: members after `.` and `?.` (typed), names in scope,
//! packages after `import`, builtins with signatures, keywords and
//! snippets.

use pol_sema::{CheckedProject, Def, ImportTarget, Ty};
use pol_syntax::lexer::TokenKind;
use pol_syntax::{Span, ast};

use crate::Analysis;

/// One completion proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    /// What the list shows (and what is inserted when `insert` is `None`).
    pub label: String,
    /// What it is.
    pub kind: CompletionKind,
    /// A type or signature shown beside the label.
    pub detail: Option<String>,
    /// Markdown documentation.
    pub documentation: Option<String>,
    /// Text inserted instead of the label; a snippet (`$1`, `$0`) when
    /// `is_snippet`.
    pub insert: Option<String>,
    /// Whether `insert` is a snippet.
    pub is_snippet: bool,
    /// The span the inserted text replaces (the word typed so far).
    pub replace: Span,
}

/// The kinds of completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CompletionKind {
    /// A schema field or a `Finding` field.
    Field,
    /// A method (of a builtin type or a decision).
    Method,
    /// A native module's function.
    Function,
    /// An enum variant.
    Variant,
    /// A local binding.
    Local,
    /// A top-level `let`.
    Let,
    /// A `param`.
    Param,
    /// A policy.
    Policy,
    /// A schema.
    Schema,
    /// An enum.
    Enum,
    /// An imported package or module, or a package to import.
    Module,
    /// A builtin type.
    Type,
    /// A keyword.
    Keyword,
    /// A snippet (a whole `policy`, `test`, rule).
    Snippet,
}

/// Inserted where the cursor is when the text there does not parse, so a
/// half-typed `call.` reads as `call.<placeholder>`.
const PLACEHOLDER: &str = "__pol_complete";

const EXPR_KEYWORDS: &[&str] = &[
    "and", "or", "not", "in", "if", "then", "else", "true", "false", "none", "now",
];
const QUANTIFIERS: &[&str] = &["any", "all", "count", "filter", "map"];
const PRIMITIVE_TYPES: &[&str] = &[
    "bool",
    "int",
    "float",
    "string",
    "duration",
    "timestamp",
    "Decision",
    "Finding",
];

/// Item snippets offered at the start of a line in column 0.
const ITEM_SNIPPETS: &[(&str, &str)] = &[
    (
        "policy",
        "policy ${1:name}(${2:input}: ${3:Input}) -> Decision {\n  default deny \"${4:not allowed}\"\n  allow \"${5:reason}\" when ${0:true}\n}",
    ),
    ("test", "test \"${1:name}\" {\n  ${0}\n}"),
    (
        "schema",
        "schema ${1:Name} {\n  ${2:field}: ${3:string},\n}",
    ),
    ("enum", "enum ${1:Name} { ${2:low}, ${3:high} }"),
    ("import", "import ${0}"),
    ("let", "let ${1:name} = ${0}"),
    ("param", "param ${1:name}: ${2:int} = ${0}"),
    ("package", "package ${0}"),
];

/// Rule snippets offered at the start of a line inside a policy.
const RULE_SNIPPETS: &[(&str, &str)] = &[
    ("allow", "allow \"${1:reason}\" when ${0}"),
    ("deny", "deny \"${1:reason}\" when ${0}"),
    (
        "require_approval",
        "require_approval \"${1:reason}\" when ${0}",
    ),
    ("redact", "redact \"${1:reason}\" of ${0}"),
    (
        "alert",
        "alert ${1|info,low,medium,high,critical|} \"${2:reason}\" when ${0}",
    ),
    ("return", "return ${1:value} \"${2:reason}\" when ${0}"),
    ("keep", "keep ${1:x} in ${2:xs} \"${3:reason}\" when ${0}"),
    ("default", "default ${1|allow,deny|} \"${0:reason}\""),
    ("let", "let ${1:name} = ${0}"),
];

/// Statement snippets offered at the start of a line inside a test.
const TEST_SNIPPETS: &[(&str, &str)] = &[
    ("expect", "expect ${0}"),
    ("let", "let ${1:d} = ${0}"),
    ("for", "for ${1:case} in [${2}] {\n  ${0}\n}"),
    ("with", "with ${1:name} = ${2:value} {\n  ${0}\n}"),
];

impl<'db> Analysis<'db> {
    /// Completions at `offset` of `path`.
    pub fn completions(&self, path: &str, offset: u32) -> Vec<CompletionItem> {
        let Some(source) = self.source(path) else {
            return Vec::new();
        };
        let text = source.text(self.db).as_str();
        let offset = clamp_to_boundary(text, offset);
        let bytes = text.as_bytes();
        let mut word_start = offset as usize;
        while word_start > 0 && is_word_byte(bytes[word_start - 1]) {
            word_start -= 1;
        }
        let replace = Span::new(word_start, offset as usize);
        let tokens = crate::lex(text);
        // Nothing inside comments and strings.
        if tokens.iter().any(|t| {
            t.span.start < offset
                && offset <= t.span.end
                && (t.kind.is_comment()
                    || (matches!(
                        t.kind,
                        TokenKind::String | TokenKind::RawString | TokenKind::Timestamp
                    ) && offset < t.span.end))
        }) {
            return Vec::new();
        }

        let line_start = text[..word_start].rfind('\n').map_or(0, |i| i + 1);
        let line_before = &text[line_start..word_start];
        if let Some(path) = line_before.strip_prefix("import ") {
            // The whole dotted path typed so far is replaced.
            let path_start = line_start + "import ".len() + (path.len() - path.trim_start().len());
            if path
                .trim_start()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                return self.import_completions(Span::new(path_start, offset as usize));
            }
        }
        let mut before = word_start;
        while before > 0 && matches!(bytes[before - 1], b' ' | b'\t') {
            before -= 1;
        }
        if before > 0 && bytes[before - 1] == b'.' && !(before >= 2 && bytes[before - 2] == b'.') {
            let dot = before - 1;
            let receiver_end = if dot > 0 && bytes[dot - 1] == b'?' {
                dot - 1
            } else {
                dot
            };
            return self.member_completions(source, text, offset, receiver_end as u32, replace);
        }

        self.scope_completions(source, text, offset, replace, line_before)
    }

    /// Members of the receiver that ends at `receiver_end` (before `.`).
    fn member_completions(
        &self,
        source: pol_sema::SourceFile,
        text: &str,
        offset: u32,
        receiver_end: u32,
        replace: Span,
    ) -> Vec<CompletionItem> {
        let path = source.path(self.db).as_str();
        let checked = self.checked();
        let Some(file) = crate::file_index(checked, path) else {
            return Vec::new();
        };
        // A path of names: a package, a module, an enum.
        if let Some(items) = path_members(checked, file, text, receiver_end, replace) {
            return items;
        }
        // A value: its type, from the current check when the item parsed,
        // otherwise from a check of the text with a placeholder member.
        let current = (!crate::in_broken_item(checked, file, offset))
            .then(|| receiver_type(checked, file, receiver_end))
            .flatten();
        let ty = match current {
            Some(ty) => ty,
            None => {
                let mut patched = String::with_capacity(text.len() + PLACEHOLDER.len());
                patched.push_str(&text[..replace.start as usize]);
                patched.push_str(PLACEHOLDER);
                patched.push_str(&text[offset as usize..]);
                // Only the edited item's body is checked: completion stays
                // fast however large the workspace.
                let patched_check =
                    pol_sema::check_item_with_text(self.db, self.project, source, &patched, offset);
                match receiver_type(&patched_check, file, receiver_end) {
                    Some(ty) => return members_of(&patched_check, &ty, replace),
                    None => return Vec::new(),
                }
            }
        };
        members_of(checked, &ty, replace)
    }

    /// Packages and native modules, after `import`.
    fn import_completions(&self, replace: Span) -> Vec<CompletionItem> {
        let checked = self.checked();
        let mut out: Vec<CompletionItem> = checked
            .program
            .packages
            .keys()
            .filter(|p| !p.starts_with('<'))
            .map(|p| item(p, CompletionKind::Module, Some("package".into()), replace))
            .collect();
        out.extend(pol_ir::builtins::NATIVE_MODULES.iter().map(|m| {
            item(
                m,
                CompletionKind::Module,
                Some("native module".into()),
                replace,
            )
        }));
        out
    }

    /// Names in scope, keywords and snippets.
    fn scope_completions(
        &self,
        source: pol_sema::SourceFile,
        text: &str,
        offset: u32,
        replace: Span,
        line_before: &str,
    ) -> Vec<CompletionItem> {
        let path = source.path(self.db).as_str();
        let checked = self.checked();
        let mut out = Vec::new();
        let at_line_start = line_before.trim().is_empty();
        if at_line_start && line_before.is_empty() {
            for (label, snippet) in ITEM_SNIPPETS {
                out.push(snippet_item(label, snippet, replace));
            }
            return out;
        }
        let Some(file) = crate::file_index(checked, path) else {
            return out;
        };
        // The enclosing item, parsed from the current text with a
        // placeholder at the cursor (a half-typed line parses then).
        let item_start = text[..replace.start as usize]
            .match_indices('\n')
            .map(|(i, _)| i + 1)
            .chain(std::iter::once(0))
            .filter(|start| starts_item(text, *start))
            .max()
            .unwrap_or(0);
        let item_end = text[offset as usize..]
            .match_indices('\n')
            .map(|(i, _)| offset as usize + i + 1)
            .find(|start| starts_item(text, *start))
            .unwrap_or(text.len());
        let mut item_text = String::new();
        item_text.push_str(&text[item_start..replace.start as usize]);
        item_text.push_str(PLACEHOLDER);
        item_text.push_str(&text[offset as usize..item_end]);
        let parsed = pol_syntax::parse_item(&item_text);
        let rel = (replace.start as usize - item_start) as u32;
        let keyword = text[item_start..]
            .split_whitespace()
            .find(|w| !w.starts_with("//"))
            .unwrap_or("");

        // Types, after `:` in a signature or field, `->` or `<`.
        let prev = text[..replace.start as usize].trim_end();
        let in_type = prev.ends_with("->")
            || prev.ends_with('<')
            || (prev.ends_with(':')
                && type_colon(keyword, &text[item_start..replace.start as usize]));
        if in_type {
            for t in PRIMITIVE_TYPES {
                out.push(item(t, CompletionKind::Type, None, replace));
            }
            for (label, snippet) in [
                ("list", "list<${0}>"),
                ("set", "set<${0}>"),
                ("map", "map<string, ${0}>"),
            ] {
                let mut it = snippet_item(label, snippet, replace);
                it.kind = CompletionKind::Type;
                out.push(it);
            }
            self.package_defs(checked, file, replace, &mut out, true);
            return out;
        }

        if at_line_start {
            let snippets: &[(&str, &str)] = match keyword {
                "policy" => RULE_SNIPPETS,
                "test" => TEST_SNIPPETS,
                _ => &[],
            };
            for (label, snippet) in snippets {
                out.push(snippet_item(label, snippet, replace));
            }
            if !snippets.is_empty() {
                return out;
            }
        }

        // Locals.
        if let Some(parsed_item) = &parsed.item {
            for (name, span) in locals_at(parsed_item, rel) {
                let ty = checked.types.get(file).and_then(|types| {
                    let abs = span.shifted(item_start as u32);
                    types.get(&(abs.start, abs.end))
                });
                let detail = ty.and_then(|t| crate::shown_ty(checked, t));
                out.push(item(&name, CompletionKind::Local, detail, replace));
            }
        }
        self.package_defs(checked, file, replace, &mut out, false);
        // Imports, and each native function as `alias.function`.
        if let Some(info) = checked.program.files.get(file) {
            for (local, (target, _)) in &info.scope.imports {
                match target {
                    ImportTarget::Package(p) => {
                        out.push(item(
                            local,
                            CompletionKind::Module,
                            Some(p.clone()),
                            replace,
                        ));
                    }
                    ImportTarget::Native(module) => {
                        out.push(item(
                            local,
                            CompletionKind::Module,
                            Some((*module).to_string()),
                            replace,
                        ));
                        for sig in pol_ir::builtins::module_functions(module) {
                            out.push(function_item(
                                &format!("{local}.{}", sig.name),
                                sig,
                                CompletionKind::Function,
                                replace,
                            ));
                        }
                    }
                }
            }
            // Variants of the enums this file sees, bare.
            let mut visible = vec![info.package.clone()];
            visible.extend(info.scope.imports.values().filter_map(|(t, _)| match t {
                ImportTarget::Package(p) => Some(p.clone()),
                ImportTarget::Native(_) => None,
            }));
            for e in &checked.program.enums {
                if visible.contains(&e.origin.package) {
                    for (v, _) in &e.variants {
                        out.push(item(
                            v,
                            CompletionKind::Variant,
                            Some(e.name.clone()),
                            replace,
                        ));
                    }
                }
            }
        }
        for k in EXPR_KEYWORDS {
            out.push(item(k, CompletionKind::Keyword, None, replace));
        }
        for q in QUANTIFIERS {
            let snippet = format!("{q} ${{1:x}} in ${{2:xs}}: ${{0}}");
            out.push(snippet_item(q, &snippet, replace));
        }
        dedup(out)
    }

    /// The definitions of the file's package (only types when `types`).
    fn package_defs(
        &self,
        checked: &CheckedProject,
        file: usize,
        replace: Span,
        out: &mut Vec<CompletionItem>,
        types: bool,
    ) {
        let Some(info) = checked.program.files.get(file) else {
            return;
        };
        let Some(package) = checked.program.packages.get(&info.package) else {
            return;
        };
        for (name, def) in &package.defs {
            if types && !matches!(def, Def::Schema(_) | Def::Enum(_)) {
                continue;
            }
            out.push(def_item(checked, name, *def, replace));
        }
        if types {
            for (local, (target, _)) in &info.scope.imports {
                if let ImportTarget::Package(p) = target
                    && let Some(imported) = checked.program.packages.get(p)
                {
                    for (name, def) in &imported.defs {
                        if matches!(def, Def::Schema(_) | Def::Enum(_)) {
                            let mut it = def_item(checked, name, *def, replace);
                            it.label = format!("{local}.{name}");
                            out.push(it);
                        }
                    }
                }
            }
        }
    }
}

/// The type of the expression that ends at `end` in `file` (the longest
/// one, so `a.b.` completes on `a.b`, not `b`).
fn receiver_type(checked: &CheckedProject, file: usize, end: u32) -> Option<Ty> {
    let types = checked.types.get(file)?;
    let mut best: Option<(u32, Ty)> = None;
    // `innermost_at` finds short spans; walk back over starts instead.
    let mut probe = end;
    loop {
        if let Some(ty) = types.get(&(probe, end))
            && best.as_ref().is_none_or(|(start, _)| probe < *start)
        {
            best = Some((probe, ty.clone()));
        }
        if probe == 0 || end - probe > 4096 {
            break;
        }
        probe -= 1;
    }
    best.map(|(_, ty)| ty)
}

/// Members of a value of type `ty`: fields, decision members, methods.
fn members_of(checked: &CheckedProject, ty: &Ty, replace: Span) -> Vec<CompletionItem> {
    let program = &checked.program;
    let ty = ty.unwrap_optional();
    let mut out = Vec::new();
    match ty {
        Ty::Schema(id) => {
            let Some(schema) = program.schemas.get(id.0 as usize) else {
                return out;
            };
            let decl = program.item(&schema.origin).and_then(|i| match &i.kind {
                ast::ItemKind::Schema(s) => Some(s),
                _ => None,
            });
            for field in &schema.fields {
                let doc = decl.and_then(|d| {
                    d.fields
                        .iter()
                        .find(|f| f.name.name == field.name)
                        .and_then(|f| f.doc.clone())
                });
                let mut it = item(
                    &field.name,
                    CompletionKind::Field,
                    Some(program.display_ty(&field.ty)),
                    replace,
                );
                it.documentation = doc;
                out.push(it);
            }
        }
        Ty::Finding => {
            for (name, t) in pol_sema::finding_fields() {
                out.push(item(
                    name,
                    CompletionKind::Field,
                    Some(program.display_ty(&t)),
                    replace,
                ));
            }
        }
        Ty::Decision | Ty::ValueDecision(_) => {
            for (name, t) in pol_sema::decision_members(ty) {
                if name == "fired" {
                    let mut it = snippet_item("fired", "fired(\"${1:reason}\")", replace);
                    it.kind = CompletionKind::Method;
                    it.detail = Some("fired(reason: string) -> bool".into());
                    out.push(it);
                } else {
                    out.push(item(
                        name,
                        CompletionKind::Field,
                        Some(program.display_ty(&t)),
                        replace,
                    ));
                }
            }
        }
        _ => {
            for sig in pol_sema::methods_of(ty) {
                out.push(function_item(
                    sig.name,
                    sig,
                    CompletionKind::Method,
                    replace,
                ));
            }
        }
    }
    out
}

/// Members of a dotted path of names ending at `end`: a package alias, a
/// native module, an enum (`Role.`, `lib.Role.`). `None` when the text
/// there is not such a path.
fn path_members(
    checked: &CheckedProject,
    file: usize,
    text: &str,
    end: u32,
    replace: Span,
) -> Option<Vec<CompletionItem>> {
    let bytes = text.as_bytes();
    let mut start = end as usize;
    while start > 0 && (is_word_byte(bytes[start - 1]) || bytes[start - 1] == b'.') {
        start -= 1;
    }
    let segments: Vec<&str> = text.get(start..end as usize)?.split('.').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    let info = checked.program.files.get(file)?;
    let program = &checked.program;
    let enum_items = |id: u32| -> Vec<CompletionItem> {
        program
            .enums
            .get(id as usize)
            .map(|e| {
                e.variants
                    .iter()
                    .map(|(v, _)| item(v, CompletionKind::Variant, Some(e.name.clone()), replace))
                    .collect()
            })
            .unwrap_or_default()
    };
    let first = segments.first()?;
    // A local of the same name would be a value: leave it to the types.
    match (segments.as_slice(), info.scope.imports.get(*first)) {
        ([_], Some((ImportTarget::Native(module), _))) => Some(
            pol_ir::builtins::module_functions(module)
                .map(|sig| function_item(sig.name, sig, CompletionKind::Function, replace))
                .collect(),
        ),
        ([_], Some((ImportTarget::Package(p), _))) => {
            let package = program.packages.get(p)?;
            Some(
                package
                    .defs
                    .iter()
                    .map(|(name, def)| def_item(checked, name, *def, replace))
                    .collect(),
            )
        }
        ([_, name], Some((ImportTarget::Package(p), _))) => {
            match program.packages.get(p)?.defs.get(*name)? {
                Def::Enum(id) => Some(enum_items(id.0)),
                _ => None,
            }
        }
        ([name], None) => match program.packages.get(&info.package)?.defs.get(*name)? {
            Def::Enum(id) => Some(enum_items(id.0)),
            _ => None,
        },
        _ => None,
    }
}

/// The locals visible at `rel` (item-relative) in `item`: names and
/// binding spans, innermost last.
pub(crate) fn locals_at(item: &ast::Item, rel: u32) -> Vec<(String, Span)> {
    let mut out = Vec::new();
    match &item.kind {
        ast::ItemKind::Policy(p) => {
            for param in &p.params {
                out.push((param.name.name.clone(), param.name.span));
            }
            for stmt in &p.body {
                match stmt {
                    ast::PolicyStmt::Let(b) if b.span.end <= rel => {
                        out.push((b.name.name.clone(), b.name.span));
                    }
                    ast::PolicyStmt::Rule(r) if r.span.contains(rel) => {
                        if let ast::RuleKind::Keep { var, .. } = &r.kind {
                            out.push((var.name.clone(), var.span));
                        }
                    }
                    _ => {}
                }
            }
        }
        ast::ItemKind::Test(t) => test_locals(&t.body, rel, &mut out),
        _ => {}
    }
    crate::item_exprs(item, &mut |e| {
        if let ast::ExprKind::Quant { vars, body, .. } = &e.kind
            && body.span.contains(rel)
        {
            for v in vars {
                out.push((v.name.clone(), v.span));
            }
        }
    });
    out
}

fn test_locals(stmts: &[ast::TestStmt], rel: u32, out: &mut Vec<(String, Span)>) {
    for stmt in stmts {
        match stmt {
            ast::TestStmt::Let(b) if b.span.end <= rel => {
                out.push((b.name.name.clone(), b.name.span));
            }
            ast::TestStmt::For {
                var, body, span, ..
            } if span.contains(rel) => {
                out.push((var.name.clone(), var.span));
                test_locals(body, rel, out);
            }
            ast::TestStmt::With { body, span, .. } if span.contains(rel) => {
                test_locals(body, rel, out);
            }
            _ => {}
        }
    }
}

/// Whether a `:` just before the cursor, in an item starting with
/// `keyword` whose text up to the cursor is `head`, introduces a type.
fn type_colon(keyword: &str, head: &str) -> bool {
    match keyword {
        "schema" => true,
        "param" => !head.contains('='),
        "policy" => {
            !head.contains('{') || {
                // `let name:` inside a body.
                let line = head.rsplit('\n').next().unwrap_or("");
                line.trim_start().starts_with("let ")
            }
        }
        "let" => !head.contains('='),
        "test" => {
            let line = head.rsplit('\n').next().unwrap_or("");
            line.trim_start().starts_with("let ")
        }
        _ => false,
    }
}

/// Whether an item starts at byte `at` (an item keyword in column 0).
fn starts_item(text: &str, at: usize) -> bool {
    let rest = text.get(at..).unwrap_or("");
    [
        "package", "import", "schema", "enum", "let", "param", "policy", "test",
    ]
    .iter()
    .any(|k| {
        rest.starts_with(k)
            && !rest
                .as_bytes()
                .get(k.len())
                .is_some_and(|b| is_word_byte(*b))
    })
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `offset` moved back to a character boundary and into the text.
pub(crate) fn clamp_to_boundary(text: &str, offset: u32) -> u32 {
    let mut at = (offset as usize).min(text.len());
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at as u32
}

fn item(
    label: &str,
    kind: CompletionKind,
    detail: Option<String>,
    replace: Span,
) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind,
        detail,
        documentation: None,
        insert: None,
        is_snippet: false,
        replace,
    }
}

fn snippet_item(label: &str, snippet: &str, replace: Span) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: CompletionKind::Snippet,
        detail: None,
        documentation: None,
        insert: Some(snippet.to_string()),
        is_snippet: true,
        replace,
    }
}

fn function_item(
    label: &str,
    sig: &pol_ir::builtins::BuiltinSig,
    kind: CompletionKind,
    replace: Span,
) -> CompletionItem {
    let snippet = if sig.params.is_empty() {
        format!("{label}()")
    } else {
        format!("{label}(${{1}})")
    };
    CompletionItem {
        label: label.to_string(),
        kind,
        detail: Some(crate::builtin_signature(sig)),
        documentation: Some(sig.doc.to_string()),
        insert: Some(snippet),
        is_snippet: true,
        replace,
    }
}

fn def_item(checked: &CheckedProject, name: &str, def: Def, replace: Span) -> CompletionItem {
    let program = &checked.program;
    let (kind, detail) = match def {
        Def::Schema(_) => (CompletionKind::Schema, Some("schema".to_string())),
        Def::Enum(_) => (CompletionKind::Enum, Some("enum".to_string())),
        Def::Let(i) => (
            CompletionKind::Let,
            program
                .lets
                .get(i as usize)
                .and_then(|l| crate::shown_ty(checked, &l.ty)),
        ),
        Def::Param(i) => (
            CompletionKind::Param,
            program
                .params
                .get(i as usize)
                .and_then(|p| crate::shown_ty(checked, &p.ty)),
        ),
        Def::Policy(i) => (
            CompletionKind::Policy,
            program
                .policies
                .get(i as usize)
                .map(|p| crate::policy_signature(checked, p)),
        ),
    };
    let mut it = item(name, kind, detail, replace);
    if let Def::Policy(_) = def {
        it.insert = Some(format!("{name}(${{1}})"));
        it.is_snippet = true;
    }
    it
}

/// The items with duplicate labels (and kinds) removed, first kept.
fn dedup(items: Vec<CompletionItem>) -> Vec<CompletionItem> {
    let mut seen = std::collections::HashSet::new();
    items
        .into_iter()
        .filter(|i| seen.insert((i.label.clone(), i.kind)))
        .collect()
}
