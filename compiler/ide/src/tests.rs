//! Feature tests over inline fixtures: `$0` marks the cursor.

use pol_sema::Workspace;

use crate::Analysis;

const LIB: &str = "\
package acme.lib

/// Who is calling.
enum Role { guest, analyst, admin }

/// A tool call.
schema Call {
  /// The caller's role.
  role: Role,
  /// The tool's name.
  tool: string,
  note: string?,
  owner: Owner?,
}

schema Owner { name: string, tenant: string }

let limit = 4
";

/// A workspace with `lib.pol` (above) and `app.pol` (`app`, whose `$0`
/// marks the cursor); calls `f` with the analysis and the cursor offset.
fn with_fixture<R>(app: &str, f: impl FnOnce(Analysis<'_>, u32) -> R) -> R {
    let cursor = app.find("$0").expect("fixture has a `$0` cursor");
    let text = app.replacen("$0", "", 1);
    let mut workspace = Workspace::new();
    workspace.set_file("lib.pol", LIB.to_string());
    workspace.set_file("app.pol", text);
    let analysis = Analysis::new(workspace.db(), workspace.project());
    f(analysis, cursor as u32)
}

fn labels(items: &[crate::CompletionItem]) -> Vec<String> {
    items.iter().map(|i| i.label.clone()).collect()
}

const APP_HEAD: &str = "package acme.lib\n\n";

fn app(body: &str) -> String {
    format!("{APP_HEAD}{body}")
}

#[test]
fn hover_shows_field_type_and_doc() {
    let src = app("policy p(c: Call) -> Decision {\n  deny \"admin\" when c.ro$0le == admin\n}\n");
    let hover = with_fixture(&src, |a, at| a.hover("app.pol", at)).expect("a hover");
    assert!(
        hover.markdown.contains("Call.role: Role"),
        "{}",
        hover.markdown
    );
    assert!(
        hover.markdown.contains("The caller's role."),
        "{}",
        hover.markdown
    );
}

#[test]
fn hover_shows_schema_doc_and_rule_reason() {
    let src = app("policy p(c: Ca$0ll) -> Decision {\n  deny \"admin\" when c.role == admin\n}\n");
    let hover = with_fixture(&src, |a, at| a.hover("app.pol", at)).expect("a hover");
    assert!(hover.markdown.contains("schema Call"), "{}", hover.markdown);
    assert!(
        hover.markdown.contains("A tool call."),
        "{}",
        hover.markdown
    );
    let src =
        app("policy p(c: Call) -> Decision {\n  de$0ny \"Admin only!\" when c.role == admin\n}\n");
    let hover = with_fixture(&src, |a, at| a.hover("app.pol", at)).expect("a hover");
    assert!(
        hover.markdown.contains("acme.lib.p.admin-only"),
        "{}",
        hover.markdown
    );
}

#[test]
fn hover_shows_expression_types_and_builtins() {
    let src =
        app("policy p(c: Call) -> Decision {\n  deny \"long\" when c.tool.l$0en() > limit\n}\n");
    let hover = with_fixture(&src, |a, at| a.hover("app.pol", at)).expect("a hover");
    assert!(
        hover.markdown.contains("string.len() -> int"),
        "{}",
        hover.markdown
    );
    let src =
        app("policy p(c: Call) -> Decision {\n  deny \"long\" when c.tool.len() > li$0mit\n}\n");
    let hover = with_fixture(&src, |a, at| a.hover("app.pol", at)).expect("a hover");
    assert!(
        hover.markdown.contains("let limit: int"),
        "{}",
        hover.markdown
    );
}

#[test]
fn definition_and_references_of_a_schema() {
    let src = app("policy p(c: Ca$0ll) -> Decision {\n  deny \"x\" when c.role == admin\n}\n");
    with_fixture(&src, |a, at| {
        let def = a.definition("app.pol", at).expect("a definition");
        assert_eq!(def.path, "lib.pol");
        assert_eq!(&LIB[def.span.range()], "Call");
        let refs = a.references("app.pol", at, true);
        assert_eq!(refs.len(), 2, "{refs:?}");
    });
}

#[test]
fn definition_of_a_field_and_a_variant() {
    let src = app("policy p(c: Call) -> Decision {\n  deny \"x\" when c.role == adm$0in\n}\n");
    with_fixture(&src, |a, at| {
        let def = a.definition("app.pol", at).expect("a definition");
        assert_eq!(&LIB[def.span.range()], "admin");
    });
    let src = app("policy p(c: Call) -> Decision {\n  deny \"x\" when c.to$0ol == \"\"\n}\n");
    with_fixture(&src, |a, at| {
        let def = a.definition("app.pol", at).expect("a definition");
        assert_eq!(&LIB[def.span.range()], "tool");
    });
}

#[test]
fn completion_after_dot_lists_fields_even_half_typed() {
    let src = app("policy p(c: Call) -> Decision {\n  deny \"x\" when c.$0\n}\n");
    let items = with_fixture(&src, |a, at| a.completions("app.pol", at));
    assert_eq!(labels(&items), ["role", "tool", "note", "owner"]);
    assert_eq!(items[0].detail.as_deref(), Some("Role"));
}

#[test]
fn completion_through_optional_chaining() {
    let src = app("policy p(c: Call) -> Decision {\n  deny \"x\" when c.owner?.$0\n}\n");
    let items = with_fixture(&src, |a, at| a.completions("app.pol", at));
    assert_eq!(labels(&items), ["name", "tenant"]);
    let src = app("policy p(c: Call) -> Decision {\n  deny \"x\" when c.note?.$0\n}\n");
    let items = with_fixture(&src, |a, at| a.completions("app.pol", at));
    assert!(
        labels(&items).contains(&"contains".to_string()),
        "{items:?}"
    );
}

#[test]
fn completion_of_variants_modules_and_names() {
    let src = app("policy p(c: Call) -> Decision {\n  deny \"x\" when c.role == Role.$0\n}\n");
    let items = with_fixture(&src, |a, at| a.completions("app.pol", at));
    assert_eq!(labels(&items), ["guest", "analyst", "admin"]);
    let src = "package acme.app\nimport std.pii\n\nlet x = pii.$0\n";
    let items = with_fixture(src, |a, at| a.completions("app.pol", at));
    assert!(labels(&items).contains(&"scan".to_string()), "{items:?}");
    assert!(items[0].detail.as_deref().unwrap_or("").contains("->"));
    let src =
        app("policy p(input: Call) -> Decision {\n  let size = 3\n  deny \"x\" when in$0\n}\n");
    let items = with_fixture(&src, |a, at| a.completions("app.pol", at));
    let names = labels(&items);
    for expected in ["input", "size", "limit", "Call", "admin", "not"] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} in {names:?}"
        );
    }
}

#[test]
fn completion_of_snippets_and_imports() {
    let items = with_fixture("package a\n\n$0", |a, at| a.completions("app.pol", at));
    assert!(labels(&items).contains(&"policy".to_string()));
    let items = with_fixture("package a\nimport std.$0\n", |a, at| {
        a.completions("app.pol", at)
    });
    assert!(
        labels(&items).contains(&"std.guards.input".to_string()),
        "{items:?}"
    );
    let src = app("policy p(c: Call) -> Decision {\n  $0\n}\n");
    let items = with_fixture(&src, |a, at| a.completions("app.pol", at));
    assert!(labels(&items).contains(&"deny".to_string()));
}

#[test]
fn rename_a_schema_across_files() {
    let src = app("policy p(c: Ca$0ll) -> Decision {\n  deny \"x\" when c.role == admin\n}\n");
    let edits = with_fixture(&src, |a, at| a.rename("app.pol", at, "ToolCall")).expect("edits");
    let files: Vec<&str> = edits.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(files, ["app.pol", "lib.pol"]);
    let bad = with_fixture(&src, |a, at| a.rename("app.pol", at, "policy"));
    assert!(bad.is_err());
}

#[test]
fn rename_refuses_the_standard_library() {
    let src = "package acme.app\nimport std.guards.input\n\nlet x = input.Pro$0mpt\n";
    let result = with_fixture(src, |a, at| a.rename("app.pol", at, "Other"));
    assert!(result.is_err());
}

#[test]
fn signature_help_for_builtins_and_policies() {
    let src = "package acme.app\nimport std.secrets\n\nlet x = secrets.high_entropy(\"a\", 3$0\n";
    let sig = with_fixture(src, |a, at| a.signature_help("app.pol", at)).expect("a signature");
    assert!(
        sig.label.starts_with("secrets.high_entropy("),
        "{}",
        sig.label
    );
    assert_eq!(sig.active, 1);
    assert_eq!(sig.params.len(), 3);
    let src = app(
        "policy p(c: Call) -> Decision {\n  default deny \"x\"\n}\ntest \"t\" {\n  expect p($0).denied\n}\n",
    );
    let sig = with_fixture(&src, |a, at| a.signature_help("app.pol", at)).expect("a signature");
    assert_eq!(sig.label, "policy p(c: Call) -> Decision");
    assert_eq!(sig.params, [(9, 16)]);
}

#[test]
fn symbols_tokens_and_folds() {
    let src = app("policy p(c: Call) -> Decision {\n  deny \"x\" when c.role == admin\n}\n$0");
    with_fixture(&src, |a, _| {
        let symbols = a.document_symbols("app.pol");
        assert_eq!(symbols.len(), 2);
        assert_eq!(symbols[1].children.len(), 1);
        let tokens = a.semantic_tokens("app.pol");
        assert!(tokens.iter().any(|t| t.ty == crate::TokenType::Property));
        assert!(tokens.iter().any(|t| t.ty == crate::TokenType::EnumMember));
        assert!(!a.folding_ranges("app.pol").is_empty());
        assert!(a.workspace_symbols("call").iter().any(|s| s.name == "Call"));
    });
}

#[test]
fn lenses_run_tests() {
    let src = app(
        "policy p(c: Call) -> Decision {\n  deny \"admin\" when c.role == admin\n  default allow \"ok\"\n}\n\ntest \"guests pass\" {\n  expect p({ role: guest, tool: \"x\" }).allowed\n}\n\ntest \"fails\" {\n  expect p({ role: admin, tool: \"x\" }).allowed\n}\n$0",
    );
    with_fixture(&src, |a, _| {
        let lenses = a.lenses("app.pol");
        assert_eq!(lenses.len(), 3);
        let results: Vec<_> = lenses.iter().map(|l| a.run_lens(&l.kind)).collect();
        assert!(results[1].passed, "{results:?}");
        assert!(!results[2].passed, "{results:?}");
        assert!(
            results[0].summary.contains("1 of 1 rules fired"),
            "{results:?}"
        );
    });
}

#[test]
fn half_typed_prefixes_never_panic() {
    let full = app(
        "import std.pii\n\npolicy p(c: Call) -> Decision {\n  let n = c.tool.len()\n  deny \"x\" when c.owner?.name == \"a\" and any f in pii.scan(c.tool): f.kind == \"email\"\n  default allow \"ok\"\n}\ntest \"t\" {\n  for r in [guest, admin] {\n    expect p({ role: r, tool: \"é\" }).allowed\n  }\n}\n",
    );
    for end in (0..=full.len()).filter(|i| full.is_char_boundary(*i) && i % 3 == 0) {
        let prefix = &full[..end];
        let mut workspace = Workspace::new();
        workspace.set_file("lib.pol", LIB.to_string());
        workspace.set_file("app.pol", prefix.to_string());
        let a = Analysis::new(workspace.db(), workspace.project());
        for at in [0, end as u32 / 2, end as u32, end as u32 + 5] {
            let _ = a.hover("app.pol", at);
            let _ = a.completions("app.pol", at);
            let _ = a.definition("app.pol", at);
            let _ = a.references("app.pol", at, true);
            let _ = a.signature_help("app.pol", at);
            let _ = a.prepare_rename("app.pol", at);
            // Renames to names in use: the conflict checks walk scopes.
            for name in ["n", "c", "limit", "pii"] {
                let _ = a.rename("app.pol", at, name);
            }
        }
        let _ = a.semantic_tokens("app.pol");
        let _ = a.document_symbols("app.pol");
        let _ = a.folding_ranges("app.pol");
        let _ = a.diagnostics("app.pol");
    }
}

#[test]
fn references_of_a_package_are_its_imports() {
    let src = "package acme.app\nimport ac$0me.lib\n\nlet x = lib.limit\n";
    let refs = with_fixture(src, |a, at| a.references("app.pol", at, true));
    let paths: Vec<&str> = refs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["lib.pol", "app.pol"], "{refs:?}");
}

/// The `.pol` files of a folder (not recursive), by name.
fn pol_files(dir: &std::path::Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "pol"))
                .filter_map(|p| {
                    let text = std::fs::read_to_string(&p).ok()?;
                    Some((p.file_name()?.to_string_lossy().into_owned(), text))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn one_file_diagnostics_equal_the_whole_check() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut projects: Vec<Vec<(String, String)>> = Vec::new();
    // The standard library checked as a project, then with a typo.
    let mut stdlib = pol_files(&root.join("stdlib-policies"));
    stdlib.extend(pol_files(&root.join("stdlib-policies/guards")));
    projects.push(stdlib.clone());
    for (_, text) in stdlib.iter_mut() {
        *text = text
            .replacen(".tool", ".tol", 1)
            .replacen("default", "defualt", 1);
    }
    projects.push(stdlib);
    // Each single-file case of the diagnostics corpus.
    for folder in ["resolve", "type", "check", "parse"] {
        for file in pol_files(&root.join("tests/ui").join(folder)) {
            if !file.1.contains("//---") {
                projects.push(vec![file]);
            }
        }
    }
    assert!(projects.len() > 20, "found the corpus");
    for files in projects {
        let mut workspace = Workspace::new();
        workspace.set_files(files.clone());
        let analysis = Analysis::new(workspace.db(), workspace.project());
        for (path, _) in &files {
            assert_eq!(
                analysis.file_diagnostics(path),
                analysis.diagnostics(path),
                "{path}"
            );
        }
    }
}

#[test]
fn hover_on_imports_shows_packages_and_modules() {
    let src = "package acme.app\nimport acme.l$0ib\nimport std.pii\n";
    let hover = with_fixture(src, |a, at| a.hover("app.pol", at)).expect("a hover");
    assert!(
        hover.markdown.contains("package acme.lib"),
        "{}",
        hover.markdown
    );
    let src = "package acme.app\nimport std.p$0ii\n";
    let hover = with_fixture(src, |a, at| a.hover("app.pol", at)).expect("a hover");
    assert!(
        hover
            .markdown
            .contains("scan(text: string) -> list<Finding>"),
        "{}",
        hover.markdown
    );
}

#[test]
fn rename_fields_variants_lets_and_policies() {
    let src = app(
        "policy p(c: Call) -> Decision {\n  deny \"x\" when c.role == admin and c.tool.len() > limit\n  default allow \"ok\"\n}\ntest \"t\" {\n  expect p({ role: guest, tool: \"x\" }).allowed\n}\n",
    );
    let count = |edits: &[crate::FileEdits]| -> Vec<(String, usize)> {
        edits
            .iter()
            .map(|e| (e.path.clone(), e.edits.len()))
            .collect()
    };
    let at = |needle: &str| src.find(needle).expect("needle") as u32 + 1;
    with_fixture(&format!("{src}$0"), |a, _| {
        // The field: its declaration, a use and a record literal's field.
        let edits = a.rename("app.pol", at("role =="), "level").expect("edits");
        assert_eq!(
            count(&edits),
            [("app.pol".into(), 2), ("lib.pol".into(), 1)]
        );
        // The variant: its declaration and two uses.
        let edits = a.rename("app.pol", at("guest"), "visitor").expect("edits");
        assert_eq!(
            count(&edits),
            [("app.pol".into(), 1), ("lib.pol".into(), 1)]
        );
        let edits = a
            .rename("app.pol", at("limit\n"), "max_len")
            .expect("edits");
        assert_eq!(
            count(&edits),
            [("app.pol".into(), 1), ("lib.pol".into(), 1)]
        );
        let edits = a.rename("app.pol", at("p({"), "gate").expect("edits");
        assert_eq!(count(&edits), [("app.pol".into(), 2)]);
        let edits = a.rename("app.pol", at("c.tool"), "call").expect("edits");
        assert_eq!(count(&edits), [("app.pol".into(), 3)]);
    });
}

#[test]
fn rename_refuses_names_taken_in_the_same_scope() {
    let src = app(
        "import std.pii\n\npolicy p(c: Call) -> Decision {\n  let n = c.tool.len()\n  let m = 2\n  deny \"x\" when n > limit and all r in [admin]: r == c.role\n  deny \"y\" when (any a in [1]: a > m) or (all b in [2]: b > m)\n  default allow \"ok\"\n}\n",
    );
    let at = |needle: &str| src.find(needle).expect("needle") as u32 + 1;
    let refused = |a: &Analysis<'_>, needle: &str, name: &str| -> String {
        match a.rename("app.pol", at(needle), name) {
            Err(e) => e.0,
            Ok(edits) => panic!("renaming `{needle}` to `{name}` was allowed: {edits:?}"),
        }
    };
    with_fixture(&format!("{src}$0"), |a, _| {
        // Definitions of the package, fields of a schema, variants of an enum.
        assert_eq!(
            refused(&a, "Call)", "Owner"),
            "cannot rename to `Owner`: package `acme.lib` already defines a schema `Owner`"
        );
        assert_eq!(
            refused(&a, "limit and", "p"),
            "cannot rename to `p`: package `acme.lib` already defines a policy `p`"
        );
        assert_eq!(
            refused(&a, "limit and", "pii"),
            "cannot rename to `pii`: `pii` is an import in app.pol (package `acme.lib`), and a name cannot be both an import and a definition"
        );
        assert_eq!(
            refused(&a, "role\n", "tool"),
            "cannot rename to `tool`: schema `Call` already has a field `tool`"
        );
        assert_eq!(
            refused(&a, "admin]", "guest"),
            "cannot rename to `guest`: enum `Role` already has a variant `guest`"
        );
        // Locals: another local in scope either way, a name the local
        // would hide, a local that would hide the renamed definition.
        assert_eq!(
            refused(&a, "n = ", "m"),
            "cannot rename to `m`: the local `m` on line 7 is in scope here, and locals cannot shadow each other"
        );
        assert_eq!(
            refused(&a, "m = ", "n"),
            "cannot rename to `n`: the local `n` on line 6 is in scope here, and locals cannot shadow each other"
        );
        assert_eq!(
            refused(&a, "r in", "c"),
            "cannot rename to `c`: the local `c` on line 5 is in scope here, and locals cannot shadow each other"
        );
        assert_eq!(
            refused(&a, "n = ", "limit"),
            "cannot rename to `limit`: it would hide the definition `limit` used on line 8"
        );
        assert_eq!(
            refused(&a, "limit and", "n"),
            "cannot rename to `n`: the local `n` would hide the use on line 8 of app.pol"
        );
        // Names free where the renamed thing lives are allowed: sibling
        // quantifiers do not see each other, a schema is not a value.
        assert!(a.rename("app.pol", at("b in"), "a").is_ok());
        assert!(a.rename("app.pol", at("a in"), "b").is_ok());
        assert!(a.rename("app.pol", at("r in"), "z").is_ok());
        assert!(a.rename("app.pol", at("Call)"), "c").is_ok());
        assert!(a.rename("app.pol", at("n = "), "n").is_ok());
    });
}

#[test]
fn a_policy_evaluates_on_an_input() {
    let src = app(
        "policy p(c: Call) -> Decision {\n  deny \"admin\" when c.role == admin\n  require_approval \"analysts ask\" when c.role == analyst\n  default allow \"ok\"\n}\n$0",
    );
    with_fixture(&src, |a, _| {
        let prepared = a.prepare_evaluation("acme.lib.p").expect("prepared");
        assert_eq!(prepared.policy(), "acme.lib.p");
        let skeleton = prepared.skeleton();
        assert_eq!(
            skeleton.to_string(),
            r#"{"role":"guest","tool":""}"#,
            "required fields only, the first variant"
        );
        let allowed = prepared.evaluate(skeleton.to_string().as_bytes());
        assert!(allowed.evaluated, "{allowed:?}");
        assert_eq!(allowed.summary, "allow by default (\"ok\"); no rule fired");
        let denied = prepared.evaluate(br#"{"role": "admin", "tool": "x"}"#);
        assert_eq!(
            denied.summary,
            "deny; fired deny \"admin\" [acme.lib.p.admin]"
        );
        let decision = denied.decision.expect("a decision");
        assert_eq!(decision["rules"][0]["id"], "acme.lib.p.admin");
        let asked = prepared.evaluate(br#"{"role": "analyst", "tool": "x"}"#);
        assert!(
            asked
                .summary
                .ends_with("obligations: require_approval [acme.lib.p.analysts-ask]"),
            "{}",
            asked.summary
        );
        // Malformed inputs are refused with the decoder's reason.
        let wrong = prepared.evaluate(br#"{"role": "boss", "tool": "x"}"#);
        assert!(!wrong.evaluated && wrong.decision.is_none(), "{wrong:?}");
        assert!(
            wrong.summary.starts_with("not evaluated: input $.role: "),
            "{}",
            wrong.summary
        );
        let truncated = prepared.evaluate(br#"{"role": "#);
        assert!(!truncated.evaluated, "{truncated:?}");
        let empty = prepared.evaluate(b"");
        assert!(!empty.evaluated, "{empty:?}");
        assert!(a.prepare_evaluation("acme.lib.nope").is_err());
    });
}

#[test]
fn every_standard_policy_accepts_its_skeleton_input() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = pol_files(&root.join("stdlib-policies"));
    files.extend(pol_files(&root.join("stdlib-policies/guards")));
    let mut workspace = Workspace::new();
    workspace.set_files(files);
    let analysis = Analysis::new(workspace.db(), workspace.project());
    let policies: Vec<String> = analysis
        .checked()
        .program
        .policies
        .iter()
        .map(|p| format!("{}.{}", p.origin.package, p.name))
        .collect();
    assert!(policies.len() > 10, "{policies:?}");
    for policy in policies {
        let prepared = analysis.prepare_evaluation(&policy).expect("prepared");
        let skeleton = prepared.skeleton().to_string();
        let evaluation = prepared.evaluate(skeleton.as_bytes());
        assert!(
            evaluation.decision.is_some(),
            "{policy}: the skeleton {skeleton} was refused: {evaluation:?}"
        );
    }
}
