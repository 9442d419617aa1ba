//! Hover: the type of an expression or name, doc comments, builtin
//! signatures, and a rule's reason and stable id.

use pol_sema::{CheckedProject, Def, ImportTarget, Target, Ty};
use pol_syntax::{Span, ast};

use crate::Analysis;
use crate::nav::Resolved;

/// What hover shows: Markdown, and the span it describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoverResult {
    /// The range hovered (a name, an expression, a rule keyword).
    pub span: Span,
    /// Markdown: a `pol` code block with the signature or type, then docs.
    pub markdown: String,
}

fn code(text: &str) -> String {
    format!("```pol\n{text}\n```")
}

fn with_doc(signature: String, doc: Option<&str>) -> String {
    match doc.filter(|d| !d.trim().is_empty()) {
        Some(doc) => format!("{}\n\n---\n\n{doc}", code(&signature)),
        None => code(&signature),
    }
}

impl<'db> Analysis<'db> {
    /// Hover at `offset` of `path`.
    pub fn hover(&self, path: &str, offset: u32) -> Option<HoverResult> {
        let (checked, file) = self.file(path)?;
        let text = self.text(path)?;
        let tokens = crate::lex(text);
        let word = crate::word_at(&tokens, offset);

        if let Some(resolved) = self.resolve_at(path, offset) {
            let span = word.map_or(resolved.span, |w| w.span);
            if let Some(markdown) = describe(checked, &resolved) {
                return Some(HoverResult { span, markdown });
            }
        }
        let (item_start, item) = crate::item_at(checked, file, offset)?;
        let rel = offset.checked_sub(item_start)?;

        // A package path: the package's doc and files, or a native module.
        let path = match &item.kind {
            ast::ItemKind::Package(p) => Some(p),
            ast::ItemKind::Import(i) => Some(&i.path),
            _ => None,
        };
        if let Some(path) = path.filter(|p| p.span.contains(rel)) {
            let name = path.dotted();
            let span = path.span.shifted(item_start);
            if let Some(module) = pol_ir::builtins::NATIVE_MODULES
                .iter()
                .find(|m| **m == name)
            {
                let functions: Vec<String> = pol_ir::builtins::module_functions(module)
                    .map(|sig| format!("- `{}`: {}", crate::builtin_signature(sig), sig.doc))
                    .collect();
                return Some(HoverResult {
                    span,
                    markdown: format!(
                        "{}\n\nnative module\n\n{}",
                        code(&format!("import {module}")),
                        functions.join("\n")
                    ),
                });
            }
            let info = checked.program.packages.get(&name)?;
            let files = info.files.len();
            let mut markdown = format!(
                "{}\n\n{files} file{}, {} definitions",
                code(&format!("package {name}")),
                if files == 1 { "" } else { "s" },
                info.defs.len()
            );
            if let Some(doc) = package_doc(checked, &name) {
                markdown.push_str(&format!("\n\n---\n\n{doc}"));
            }
            return Some(HoverResult { span, markdown });
        }

        // A rule's keyword: its reason, stable id and doc.
        if let ast::ItemKind::Policy(policy) = &item.kind {
            for stmt in &policy.body {
                if let ast::PolicyStmt::Rule(rule) = stmt
                    && (rule.keyword_span.contains(rel) || rule.reason.span.contains(rel))
                {
                    let id = rule.id.as_ref().map_or_else(
                        || pol_sema::rule_slug(&rule.reason.value),
                        |id| id.value.clone(),
                    );
                    let package = &checked.program.files[file].package;
                    let signature = format!("{} {:?}", rule.kind.keyword(), rule.reason.value);
                    let mut markdown = format!(
                        "{}\n\nrule `{package}.{}.{id}`",
                        code(&signature),
                        policy.name.name
                    );
                    if let Some(doc) = &rule.doc {
                        markdown.push_str(&format!("\n\n---\n\n{doc}"));
                    }
                    let span = if rule.keyword_span.contains(rel) {
                        rule.keyword_span
                    } else {
                        rule.reason.span
                    };
                    return Some(HoverResult {
                        span: span.shifted(item_start),
                        markdown,
                    });
                }
            }
        }

        // A builtin: a method name or a native module's function.
        let mut builtin: Option<(Span, String)> = None;
        crate::item_exprs(item, &mut |e| {
            let ast::ExprKind::Field { base, name, .. } = &e.kind else {
                return;
            };
            if !name.span.contains(rel) {
                return;
            }
            let span = name.span.shifted(item_start);
            if let ast::ExprKind::Name(alias) = &base.kind
                && let Some((ImportTarget::Native(module), _)) =
                    checked.program.files[file].scope.imports.get(&alias.name)
                && let Some(sig) =
                    pol_ir::builtins::module_functions(module).find(|b| b.name == name.name)
            {
                let short = module.rsplit('.').next().unwrap_or(module);
                builtin = Some((
                    span,
                    with_doc(
                        format!("{short}.{}", crate::builtin_signature(sig)),
                        Some(sig.doc),
                    ),
                ));
                return;
            }
            let base_span = base.span.shifted(item_start);
            let Some(base_ty) = checked
                .types
                .get(file)
                .and_then(|t| t.get(&(base_span.start, base_span.end)))
            else {
                return;
            };
            let receiver = base_ty.unwrap_optional();
            if let Some(sig) = pol_sema::methods_of(receiver)
                .into_iter()
                .find(|m| m.name == name.name)
            {
                let on = checked.program.display_ty(receiver);
                builtin = Some((
                    span,
                    with_doc(
                        format!("{on}.{}", crate::builtin_signature(sig)),
                        Some(sig.doc),
                    ),
                ));
            } else if matches!(receiver, Ty::Decision | Ty::ValueDecision(_)) {
                let member = pol_sema::decision_members(receiver)
                    .into_iter()
                    .find(|(m, _)| *m == name.name);
                if let Some((m, ty)) = member {
                    let sig = if m == "fired" {
                        "Decision.fired(reason: string) -> bool".to_string()
                    } else {
                        format!("Decision.{m}: {}", checked.program.display_ty(&ty))
                    };
                    builtin = Some((span, code(&sig)));
                }
            } else if matches!(receiver, Ty::Finding)
                && let Some((f, ty)) = pol_sema::finding_fields()
                    .into_iter()
                    .find(|(f, _)| *f == name.name)
            {
                builtin = Some((
                    span,
                    code(&format!("Finding.{f}: {}", checked.program.display_ty(&ty))),
                ));
            }
        });
        if let Some((span, markdown)) = builtin {
            return Some(HoverResult { span, markdown });
        }

        // Otherwise the innermost expression's type.
        let types = checked.types.get(file)?;
        let ((start, end), ty) = types.innermost_at(offset)?;
        let shown = crate::shown_ty(checked, ty)?;
        Some(HoverResult {
            span: Span { start, end },
            markdown: code(&shown),
        })
    }
}

/// The hover text of a resolved name.
fn describe(checked: &CheckedProject, resolved: &Resolved) -> Option<String> {
    let program = &checked.program;
    match resolved.target? {
        Target::Def(def) => Some(describe_def(checked, def)),
        Target::Field(id, index) => {
            let schema = program.schemas.get(id.0 as usize)?;
            let field = schema.fields.get(index as usize)?;
            let doc = schema_decl(checked, id.0).and_then(|decl| {
                decl.fields
                    .iter()
                    .find(|f| f.name.name == field.name)
                    .and_then(|f| f.doc.clone())
            });
            Some(with_doc(
                format!(
                    "{}.{}: {}",
                    schema.name,
                    field.name,
                    program.display_ty(&field.ty)
                ),
                doc.as_deref(),
            ))
        }
        Target::Variant(id, index) => {
            let def = program.enums.get(id.0 as usize)?;
            let (name, _) = def.variants.get(index as usize)?;
            let doc = program.item(&def.origin).and_then(|item| match &item.kind {
                ast::ItemKind::Enum(e) => e
                    .variants
                    .iter()
                    .find(|v| v.name.name == *name)
                    .and_then(|v| v.doc.clone()),
                _ => None,
            });
            Some(with_doc(
                format!(
                    "{}.{name}  // variant {} of {}",
                    def.name,
                    index + 1,
                    def.variants.len()
                ),
                doc.as_deref(),
            ))
        }
        Target::Local => {
            let ty = checked
                .types
                .get(resolved.file)?
                .get(&(resolved.span.start, resolved.span.end))?;
            let text = program.files.get(resolved.file)?;
            let name = local_name(checked, resolved).unwrap_or_default();
            let _ = text;
            Some(code(&format!("{name}: {}", program.display_ty(ty))))
        }
        Target::Import => {
            let info = program.files.get(resolved.file)?;
            let (local, (target, _)) = info
                .scope
                .imports
                .iter()
                .find(|(_, (_, span))| *span == resolved.span)?;
            Some(match target {
                ImportTarget::Native(module) => {
                    let functions: Vec<String> = pol_ir::builtins::module_functions(module)
                        .map(|sig| format!("- `{}`: {}", crate::builtin_signature(sig), sig.doc))
                        .collect();
                    format!(
                        "{}\n\nnative module\n\n{}",
                        code(&format!("import {module} as {local}")),
                        functions.join("\n")
                    )
                }
                ImportTarget::Package(package) => {
                    let doc = package_doc(checked, package);
                    with_doc(format!("import {package} as {local}"), doc.as_deref())
                }
            })
        }
    }
}

/// The name of a local from its definition span.
fn local_name(checked: &CheckedProject, resolved: &Resolved) -> Option<String> {
    let info = checked.program.files.get(resolved.file)?;
    let (start, item) = crate::item_at(checked, resolved.file, resolved.span.start)?;
    let _ = info;
    let mut found = None;
    let rel = resolved.span.start.checked_sub(start)?;
    let mut visit = |name: &ast::Ident| {
        if name.span.start == rel {
            found = Some(name.name.clone());
        }
    };
    match &item.kind {
        ast::ItemKind::Policy(p) => {
            p.params.iter().for_each(|param| visit(&param.name));
            for stmt in &p.body {
                match stmt {
                    ast::PolicyStmt::Let(b) => visit(&b.name),
                    ast::PolicyStmt::Rule(r) => {
                        if let ast::RuleKind::Keep { var, .. } = &r.kind {
                            visit(var);
                        }
                    }
                }
            }
        }
        ast::ItemKind::Test(t) => visit_test_names(&t.body, &mut visit),
        _ => {}
    }
    crate::item_exprs(item, &mut |e| {
        if let ast::ExprKind::Quant { vars, .. } = &e.kind {
            vars.iter().for_each(&mut visit);
        }
    });
    found
}

fn visit_test_names(stmts: &[ast::TestStmt], visit: &mut dyn FnMut(&ast::Ident)) {
    for stmt in stmts {
        match stmt {
            ast::TestStmt::Let(b) => visit(&b.name),
            ast::TestStmt::For { var, body, .. } => {
                visit(var);
                visit_test_names(body, visit);
            }
            ast::TestStmt::With { body, .. } => visit_test_names(body, visit),
            ast::TestStmt::Expect(_) => {}
        }
    }
}

fn schema_decl(checked: &CheckedProject, id: u32) -> Option<&ast::Schema> {
    let schema = checked.program.schemas.get(id as usize)?;
    match &checked.program.item(&schema.origin)?.kind {
        ast::ItemKind::Schema(s) => Some(s),
        _ => None,
    }
}

/// The doc comment on a package's `package` line, if any file has one.
fn package_doc(checked: &CheckedProject, package: &str) -> Option<String> {
    let info = checked.program.packages.get(package)?;
    info.files.iter().find_map(|f| {
        checked
            .program
            .files
            .get(*f)?
            .syntax
            .items
            .iter()
            .find_map(|(_, item)| match &item.kind {
                ast::ItemKind::Package(_) => item.doc.clone(),
                _ => None,
            })
    })
}

/// The hover text of a package-level definition.
pub(crate) fn describe_def(checked: &CheckedProject, def: Def) -> String {
    let program = &checked.program;
    let (signature, origin) = match def {
        Def::Schema(id) => {
            let Some(schema) = program.schemas.get(id.0 as usize) else {
                return String::new();
            };
            let fields: Vec<String> = schema
                .fields
                .iter()
                .map(|f| format!("  {}: {},", f.name, program.display_ty(&f.ty)))
                .collect();
            let body = if fields.is_empty() {
                " {}".to_string()
            } else {
                format!(" {{\n{}\n}}", fields.join("\n"))
            };
            (format!("schema {}{body}", schema.name), &schema.origin)
        }
        Def::Enum(id) => {
            let Some(e) = program.enums.get(id.0 as usize) else {
                return String::new();
            };
            let variants: Vec<&str> = e.variants.iter().map(|(v, _)| v.as_str()).collect();
            (
                format!("enum {} {{ {} }}", e.name, variants.join(", ")),
                &e.origin,
            )
        }
        Def::Let(i) => {
            let Some(l) = program.lets.get(i as usize) else {
                return String::new();
            };
            (
                format!("let {}: {}", l.name, program.display_ty(&l.ty)),
                &l.origin,
            )
        }
        Def::Param(i) => {
            let Some(p) = program.params.get(i as usize) else {
                return String::new();
            };
            (
                format!("param {}: {}", p.name, program.display_ty(&p.ty)),
                &p.origin,
            )
        }
        Def::Policy(i) => {
            let Some(p) = program.policies.get(i as usize) else {
                return String::new();
            };
            (crate::policy_signature(checked, p), &p.origin)
        }
    };
    let mut markdown = format!("{}\n\nin package `{}`", code(&signature), origin.package);
    if let Some(doc) = program
        .item(origin)
        .and_then(|item| item.doc.as_deref())
        .filter(|d| !d.trim().is_empty())
    {
        markdown.push_str(&format!("\n\n---\n\n{doc}"));
    }
    markdown
}
