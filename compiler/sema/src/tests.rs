use super::*;

fn workspace(files: &[(&str, &str)]) -> Workspace {
    let mut workspace = Workspace::new();
    workspace.set_files(
        files
            .iter()
            .map(|(p, t)| ((*p).to_string(), (*t).to_string())),
    );
    workspace
}

/// Every diagnostic code, by file, in order.
fn codes(workspace: &Workspace) -> Vec<(String, &'static str)> {
    workspace
        .diagnostics()
        .into_iter()
        .flat_map(|(path, ds)| ds.into_iter().map(move |d| (path.clone(), d.code)))
        .collect()
}

const A: &str = "package app\nimport lib\n\npolicy p(x: lib.Input) -> Decision {\n  allow \"ok\" when lib.limit > x.n\n}\n";
const B: &str = "package lib\n\nschema Input { n: int }\n\nlet limit = 10\n";

#[test]
fn a_clean_project_has_no_diagnostics() {
    let ws = workspace(&[("a.pol", A), ("b.pol", B)]);
    assert_eq!(codes(&ws), vec![]);
    let program = &ws.checked().program;
    assert!(program.policy_by_name("app.p").is_some());
    assert_eq!(program.lets[0].ty, Ty::Int);
}

#[test]
fn editing_one_file_does_not_reparse_the_other() {
    let mut ws = workspace(&[("a.pol", A), ("b.pol", B)]);
    let _ = ws.checked();
    let files = ws.files().to_vec();
    ws.db().take_executed();

    ws.set_file("a.pol", A.replace("allow \"ok\"", "allow \"fine\""));
    let _ = ws.checked();
    let executed = ws.db().take_executed();
    let file_b = format!("file_syntax({:?})", salsa::plumbing::AsId::as_id(&files[1]));
    let file_a = format!("file_syntax({:?})", salsa::plumbing::AsId::as_id(&files[0]));
    assert!(executed.contains(&file_a), "{executed:?}");
    assert!(!executed.contains(&file_b), "{executed:?}");
    // Only the edited item of `a.pol` is parsed again: its package and
    // import lines are unchanged.
    let item_parses = executed
        .iter()
        .filter(|q| q.starts_with("parse_item_text"))
        .count();
    assert_eq!(item_parses, 1, "{executed:?}");
}

#[test]
fn an_edit_above_an_item_reuses_its_parse() {
    let mut ws = workspace(&[("b.pol", B)]);
    let _ = ws.checked();
    ws.db().take_executed();
    // Insert a new item above `schema Input`: the schema's text is unchanged.
    ws.set_file(
        "b.pol",
        B.replace("package lib\n", "package lib\n\nlet other = 1\n"),
    );
    let _ = ws.checked();
    let executed = ws.db().take_executed();
    let item_parses = executed
        .iter()
        .filter(|q| q.starts_with("parse_item_text"))
        .count();
    assert_eq!(item_parses, 1, "only the new item is parsed: {executed:?}");
}

#[test]
fn an_unchanged_project_runs_nothing() {
    let mut ws = workspace(&[("a.pol", A), ("b.pol", B)]);
    let _ = ws.checked();
    ws.db().take_executed();
    ws.set_file("b.pol", B.to_string());
    let _ = ws.checked();
    assert_eq!(ws.db().take_executed(), Vec::<String>::new());
}

/// How many packages' bodies the last check re-checked.
fn bodies_checked(executed: &[String]) -> usize {
    executed
        .iter()
        .filter(|q| q.starts_with("package_bodies("))
        .count()
}

const C: &str = "package other\n\nschema Req { n: int }\n\npolicy q(r: Req) -> Decision {\n  deny \"big\" when r.n > 3\n}\n";

#[test]
fn a_body_edit_rechecks_only_its_package_and_its_importers() {
    let mut ws = workspace(&[("a.pol", A), ("b.pol", B), ("c.pol", C)]);
    let _ = ws.checked();
    ws.db().take_executed();

    // `other` imports nothing and nothing imports it: its bodies alone.
    ws.set_file("c.pol", C.replace("r.n > 3", "r.n > 30"));
    let _ = ws.checked();
    let executed = ws.db().take_executed();
    assert_eq!(bodies_checked(&executed), 1, "{executed:?}");

    // `lib` is imported by `app`: both, and no embedded package.
    ws.set_file("b.pol", B.replace("= 10", "= 11"));
    let _ = ws.checked();
    let executed = ws.db().take_executed();
    assert_eq!(bodies_checked(&executed), 2, "{executed:?}");

    // `app` imports `lib`, nothing imports `app`.
    ws.set_file("a.pol", A.replace("\"ok\"", "\"fine\""));
    let _ = ws.checked();
    let executed = ws.db().take_executed();
    assert_eq!(bodies_checked(&executed), 1, "{executed:?}");
}

/// A checked project with each file's diagnostics in a total order (a
/// memoized check may order diagnostics that start at the same byte
/// differently from a fresh one).
fn normalized(checked: &CheckedProject) -> CheckedProject {
    let mut checked = checked.clone();
    for diagnostics in &mut checked.diagnostics {
        diagnostics.sort_by_cached_key(|d| format!("{d:?}"));
    }
    checked
}

#[test]
fn a_memoized_check_after_edits_equals_a_fresh_check() {
    let base = "package base\n\nlet n = 9\n";
    let lib = "package lib\nimport base\n\n/// The input.\nschema Input { n: int, name: string, tags: list<string> }\nenum Level { low, high }\n\nlet limit = base.n + 1\nparam words: set<string> = { \"a\", \"b\" }\n\npolicy inner(x: Input) -> Decision {\n  allow \"small\" when x.n < limit\n}\n";
    let app = "package app\nimport lib\n\nlet twice = lib.limit * 2\n\npolicy p(x: lib.Input) -> Decision {\n  let d = lib.inner(x)\n  allow \"ok\" when d.allowed and x.n < twice\n  deny \"word\" when x.name in lib.words\n}\n\ntest \"p\" {\n  expect p({ n: 1, name: \"c\", tags: [] }).allowed\n}\n";
    let other = C;
    // Each step edits one file; the memoized check after each must equal a
    // fresh workspace's check of the same texts.
    let steps: Vec<(&str, String)> = vec![
        ("a.pol", app.replace("x.n < twice", "x.n < twice + 1")),
        ("d.pol", base.replace("let n = 9", "let n = \"nine\"")),
        (
            "b.pol",
            lib.replace(
                "let limit = base.n + 1",
                "let limit = base.n + 1\nlet extra = 2",
            ),
        ),
        ("d.pol", base.to_string()),
        (
            "b.pol",
            lib.replace("schema Input {", "schema Other { m: int }\nschema Input {"),
        ),
        (
            "a.pol",
            app.replace("x.name in lib.words", "x.nam in lib.word"),
        ),
        (
            "a.pol",
            app.replace("deny \"word\" when", "deny \"word\" when ("),
        ),
        ("c.pol", other.replace("r.n > 3", "r.m > 3")),
        (
            "c.pol",
            other.replace("package other", "package other\nimport app"),
        ),
        (
            "a.pol",
            app.replace(
                "package app\nimport lib",
                "package app\nimport lib\nimport other",
            ),
        ),
        (
            "b.pol",
            lib.replace("tags: list<string>", "tags: list<Level>"),
        ),
        ("a.pol", app.replace("lib.inner(x)", "p(x)")),
        // A cycle of lets in `lib`, entered from `app` (which comes first).
        (
            "b.pol",
            lib.replace(
                "let limit = base.n + 1",
                "let limit = cyc_b + 1\nlet cyc_a = cyc_b + 1\nlet cyc_b = cyc_a + 1",
            ),
        ),
        (
            "a.pol",
            app.replace("let twice = lib.limit * 2", "let twice = lib.cyc_a * 2"),
        ),
        ("b.pol", lib.to_string()),
        ("a.pol", app.to_string()),
        ("c.pol", other.to_string()),
    ];
    let mut ws = workspace(&[
        ("a.pol", app),
        ("b.pol", lib),
        ("c.pol", other),
        ("d.pol", base),
    ]);
    let mut texts: Vec<(String, String)> = vec![
        ("a.pol".into(), app.into()),
        ("b.pol".into(), lib.into()),
        ("c.pol".into(), other.into()),
        ("d.pol".into(), base.into()),
    ];
    let _ = ws.checked();
    for (step, (path, text)) in steps.into_iter().enumerate() {
        ws.set_file(path, text.clone());
        if let Some(entry) = texts.iter_mut().find(|(p, _)| p == path) {
            entry.1 = text;
        }
        let fresh = Workspace::new();
        let mut fresh = fresh;
        fresh.set_files(texts.clone());
        let memoized = normalized(&ws.checked());
        let expected = normalized(&fresh.checked());
        assert!(
            memoized == expected,
            "step {step} ({path}): the memoized check differs from a fresh one\nmemoized: {:#?}\nfresh: {:#?}",
            memoized.diagnostics,
            expected.diagnostics
        );
        // And the non-memoized whole check agrees too.
        let direct = check::check(project_inputs(ws.db(), ws.project()));
        assert!(
            normalized(&direct) == memoized,
            "step {step}: direct check differs"
        );
    }
}

#[test]
fn broken_items_cause_no_cascade() {
    let text = "package app\n\nschema Broken { n int }\n\npolicy p(x: Broken) -> Decision {\n  allow \"ok\" when x.n > helper\n}\n\nlet helper = (1 +\n";
    let ws = workspace(&[("a.pol", text)]);
    let codes = codes(&ws);
    assert_eq!(
        codes,
        vec![
            ("a.pol".to_string(), "pol::parse::syntax"),
            ("a.pol".to_string(), "pol::parse::syntax")
        ]
    );
}

#[test]
fn duplicate_definitions_across_files_point_at_both() {
    let ws = workspace(&[
        ("a.pol", "package app\nlet x = 1\n"),
        ("b.pol", "package app\nlet x = 2\n"),
    ]);
    let diagnostics = ws.diagnostics();
    let (path, ds) = &diagnostics[1];
    assert_eq!(path, "b.pol");
    assert_eq!(ds[0].code, "pol::resolve::duplicate_definition");
    assert_eq!(ds[0].labels[1].file.as_deref(), Some("a.pol"));
}

#[test]
fn import_cycles_are_reported() {
    let ws = workspace(&[
        ("a.pol", "package a\nimport b\nlet x = 1\n"),
        ("b.pol", "package b\nimport a\nlet y = 1\n"),
    ]);
    let codes = codes(&ws);
    assert!(
        codes
            .iter()
            .any(|(_, c)| *c == "pol::resolve::import_cycle"),
        "{codes:?}"
    );
}

#[test]
fn a_project_package_replaces_the_embedded_one() {
    // A project that defines `std.guards.input` itself (here: the library's
    // file plus a let) does not clash with the embedded copy.
    let (_, library) = pol_stdlib::FILES
        .iter()
        .find(|(path, _)| *path == "guards/input.pol")
        .expect("the input guard is embedded");
    let own = format!("{library}\nlet marker = 1\n");
    let ws = workspace(&[
        ("input.pol", own.as_str()),
        (
            "use.pol",
            "package app\nimport std.guards.input\nlet m = input.marker\n",
        ),
    ]);
    assert_eq!(codes(&ws), vec![]);
}

#[test]
fn the_embedded_stdlib_checks_clean() {
    let ws = workspace(&[(
        "use.pol",
        "package app\nimport std.guards.input\n\nlet _p = input.jailbreak_threshold\n",
    )]);
    assert_eq!(codes(&ws), vec![]);
}

#[test]
fn let_types_are_inferred_across_lets() {
    let ws = workspace(&[(
        "a.pol",
        "package app\nlet a = b + 1.5\nlet b = 2\nlet c = [a]\n",
    )]);
    assert_eq!(codes(&ws), vec![]);
    let lets = &ws.checked().program.lets;
    assert_eq!(lets[0].ty, Ty::Float);
    assert_eq!(lets[2].ty, Ty::List(Box::new(Ty::Float)));
}

/// The messages of every diagnostic with this code, in order.
fn messages(workspace: &Workspace, code: &str) -> Vec<String> {
    workspace
        .diagnostics()
        .into_iter()
        .flat_map(|(_, ds)| ds)
        .filter(|d| d.code == code)
        .map(|d| d.message)
        .collect()
}

#[test]
fn a_broken_let_does_not_silence_unknown_names() {
    // Only a broken item that may be an enum (a capitalized name) can hide
    // variants; a broken `let` cannot.
    let text = "package app\n\nlet helper = (1 +\n\npolicy p(x: int) -> Decision {\n  allow \"ok\" when x > limt\n}\n";
    let ws = workspace(&[("a.pol", text)]);
    assert_eq!(
        codes(&ws),
        vec![
            ("a.pol".to_string(), "pol::parse::syntax"),
            ("a.pol".to_string(), "pol::resolve::unknown_name"),
        ]
    );
}

#[test]
fn recursion_through_several_lets_is_found_once() {
    let text = "package app\n\nschema S { n: int }\n\nlet a = b\nlet b = p({ n: 1 }).allowed\n\npolicy p(s: S) -> Decision {\n  allow \"a\" when a\n}\n\npolicy q(s: S) -> Decision {\n  allow \"b\" when b and p(s).allowed\n}\n";
    let ws = workspace(&[("a.pol", text)]);
    assert_eq!(
        codes(&ws),
        vec![("a.pol".to_string(), "pol::resolve::recursive_policy")]
    );
    assert_eq!(
        messages(&ws, "pol::resolve::recursive_policy"),
        vec!["policy `p` calls itself: `p` -> `a` -> `b` -> `p`".to_string()]
    );
}

#[test]
fn lets_and_policies_without_a_cycle_are_not_recursion() {
    let text = "package app\n\nschema S { n: int }\n\nlet probe = p({ n: 1 }).allowed\nlet other = probe\n\npolicy p(s: S) -> Decision {\n  allow \"a\" when s.n > 0\n}\n\npolicy q(s: S) -> Decision {\n  allow \"b\" when other and p(s).allowed\n}\n";
    let ws = workspace(&[("a.pol", text)]);
    assert_eq!(codes(&ws), vec![]);
}

#[test]
fn a_cycle_of_lets_alone_is_a_let_cycle() {
    let ws = workspace(&[("a.pol", "package app\nlet a = b\nlet b = a\n")]);
    let codes = codes(&ws);
    assert!(
        codes.iter().all(|(_, c)| *c == "pol::resolve::let_cycle"),
        "{codes:?}"
    );
}

#[test]
fn keep_over_an_optional_list_is_an_optional_error() {
    let text = "package app\n\nschema R { docs: list<string>? }\n\npolicy f(r: R) -> list<string> {\n  keep d in r.docs \"kept\" when d != \"\"\n}\n";
    let ws = workspace(&[("a.pol", text)]);
    assert_eq!(
        codes(&ws),
        vec![("a.pol".to_string(), "pol::type::optional")]
    );
    let help = ws.diagnostics()[0].1[0].help.clone().unwrap_or_default();
    assert!(help.contains("?? []"), "{help}");
}

#[test]
fn for_variables_do_not_shadow() {
    let text = "package app\n\ntest \"t\" {\n  for x in [1, 2] {\n    for x in [3] {\n      expect x > 0\n    }\n  }\n}\n";
    let ws = workspace(&[("a.pol", text)]);
    assert_eq!(
        codes(&ws),
        vec![("a.pol".to_string(), "pol::resolve::duplicate_local")]
    );
}

#[test]
fn literals_under_unknown_types_are_quiet() {
    // A param of an unknown type and an override of an unknown target:
    // one error each, none for the literals nested in their values.
    let text = "package app\n\nparam limits: Limts = { a: {}, b: [], c: [{ x: 1 }] }\n\ntest \"t\" {\n  with nothing = { a: [] } {\n    expect true\n  }\n}\n";
    let ws = workspace(&[("a.pol", text)]);
    assert_eq!(
        codes(&ws),
        vec![
            ("a.pol".to_string(), "pol::resolve::unknown_type"),
            ("a.pol".to_string(), "pol::type::bad_override"),
        ]
    );
}

#[test]
fn arity_labels_never_show_an_unknown_type() {
    let text = "package app\n\npolicy p(x: Nope) -> Decision {\n  allow \"a\"\n}\n\nlet d = p()\n";
    let ws = workspace(&[("a.pol", text)]);
    for (_, ds) in ws.diagnostics() {
        for d in ds {
            for label in &d.labels {
                assert!(!label.message.contains("{unknown}"), "{d:?}");
            }
            assert!(!d.message.contains("{unknown}"), "{d:?}");
        }
    }
}

#[test]
fn multiple_id_attributes_are_reported_and_the_last_counts() {
    // The parser reports the second `@id`; the rule keeps the last one, so
    // the id clash with the next rule is found too.
    let text = "package app\n\npolicy p(x: int) -> Decision {\n  @id(\"a\")\n  @id(\"b\")\n  allow \"one\"\n  @id(\"b\")\n  allow \"two\"\n}\n";
    let ws = workspace(&[("a.pol", text)]);
    assert_eq!(
        codes(&ws),
        vec![
            ("a.pol".to_string(), "pol::parse::duplicate_attribute"),
            ("a.pol".to_string(), "pol::resolve::duplicate_rule_id")
        ]
    );
}

#[test]
fn a_package_used_by_its_name_after_an_alias_import_names_the_alias() {
    let ws = workspace(&[
        ("lib.pol", "package demo.lib\nschema Input { n: int }\n"),
        (
            "app.pol",
            "package app\nimport demo.lib as l\n\npolicy p(x: lib.Input) -> Decision {\n  allow \"ok\" when x.n > 0\n}\n",
        ),
    ]);
    let diagnostics = ws.diagnostics();
    let (_, ds) = &diagnostics[1];
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0].code, "pol::resolve::unknown_name");
    assert_eq!(
        ds[0].help.as_deref(),
        Some("`demo.lib` is imported as `l`: write `l.Input`")
    );
}

#[test]
fn rule_kinds_do_not_show_an_unknown_return_type() {
    let text = "package app\n\npolicy p(x: int) -> Nope {\n  return 1 \"one\" when x > 0\n  allow \"two\"\n  default 0 \"zero\"\n}\n";
    let ws = workspace(&[("a.pol", text)]);
    assert_eq!(
        messages(&ws, "pol::type::rule_not_allowed"),
        vec!["`allow` rules are not allowed in a value policy".to_string()]
    );
}

/// The byte offset of the `n`th occurrence of `needle` in `text`.
fn offset_of(text: &str, needle: &str, n: usize) -> u32 {
    text.match_indices(needle)
        .nth(n)
        .map(|(i, _)| i as u32)
        .expect("needle present")
}

const NAV: &str = "package app\n\nenum Role { guest, admin }\nschema Req { role: Role, n: int? }\nlet limit = 3\n\npolicy p(r: Req) -> Decision {\n  let k = r.n ?? 0\n  allow \"admin\" when r.role == admin and k < limit\n}\n";

#[test]
fn the_type_of_any_expression_is_known() {
    let ws = workspace(&[("a.pol", NAV)]);
    assert_eq!(codes(&ws), vec![]);
    let at = |needle: &str, n: usize| {
        ws.type_at("a.pol", offset_of(NAV, needle, n) + 1)
            .map(|(_, t)| t)
    };
    assert_eq!(at("r.role", 0).as_deref(), Some("Req"));
    assert_eq!(at("role ==", 0).as_deref(), Some("Role"));
    assert_eq!(at("r.n", 0).as_deref(), Some("Req"));
    assert_eq!(at("n ??", 0).as_deref(), Some("int?"));
    assert_eq!(at("?? 0", 0).as_deref(), Some("int"));
    assert_eq!(at("limit\n}", 0).as_deref(), Some("int"));
    assert_eq!(ws.type_at("a.pol", 0), None);
}

#[test]
fn names_lead_to_their_definitions() {
    let ws = workspace(&[("a.pol", NAV)]);
    let definition = |needle: &str, n: usize| {
        ws.definition_at("a.pol", offset_of(NAV, needle, n))
            .map(|(path, span)| (path, &NAV[span.range()], span.start))
    };
    // A field, a bare variant, a top-level let, a local, a type, the input.
    assert_eq!(
        definition("role ==", 0),
        Some(("a.pol".to_string(), "role", offset_of(NAV, "role:", 0)))
    );
    assert_eq!(
        definition("admin and", 0),
        Some(("a.pol".to_string(), "admin", offset_of(NAV, "admin }", 0)))
    );
    assert_eq!(
        definition("limit\n}", 0),
        Some(("a.pol".to_string(), "limit", offset_of(NAV, "limit =", 0)))
    );
    assert_eq!(
        definition("k <", 0),
        Some(("a.pol".to_string(), "k", offset_of(NAV, "k =", 0)))
    );
    assert_eq!(
        definition("Req)", 0),
        Some(("a.pol".to_string(), "Req", offset_of(NAV, "Req {", 0)))
    );
    assert_eq!(
        definition("r.role", 0),
        Some(("a.pol".to_string(), "r", offset_of(NAV, "r: Req", 0)))
    );
}

#[test]
fn references_are_found_from_a_use_or_the_definition() {
    let (lib, app) = (
        "package lib\n\nlet limit = 3\n",
        "package app\nimport lib\n\nlet a = lib.limit + 1\nlet b = lib.limit * 2\n",
    );
    let ws = workspace(&[("lib.pol", lib), ("a.pol", app)]);
    assert_eq!(codes(&ws), vec![]);
    let from_use = ws.references_to("a.pol", offset_of(app, "limit", 1));
    let from_definition = ws.references_to("lib.pol", offset_of(lib, "limit", 0));
    assert_eq!(from_use.len(), 2, "{from_use:?}");
    assert_eq!(from_use, from_definition);
    assert!(from_use.iter().all(|(path, _)| path == "a.pol"));
}

mod lowering {
    use super::*;
    use pol_ir::ir;

    fn lowered(files: &[(&str, &str)]) -> ir::Program {
        let ws = workspace(files);
        assert_eq!(codes(&ws), vec![]);
        let program = crate::lower::lower(&ws.checked()).expect("lowers");
        ir::verify(&program).expect("verifies");
        program
    }

    fn policy<'a>(program: &'a ir::Program, name: &str) -> &'a ir::Policy {
        program
            .policies
            .iter()
            .find(|p| p.name == name)
            .expect("policy")
    }

    #[test]
    fn every_clean_corpus_program_and_the_stdlib_lower_and_verify() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui/ok");
        let mut count = 0;
        for entry in std::fs::read_dir(root).expect("corpus").flatten() {
            let text = std::fs::read_to_string(entry.path()).expect("read");
            let program = lowered(&[("ok.pol", &text)]);
            // The embedded standard library's packages are in a program
            // when its files import them.
            assert_eq!(
                program
                    .policies
                    .iter()
                    .any(|p| p.name == "std.guards.input.prompt"),
                text.contains("import std.guards.input"),
                "{}",
                entry.path().display()
            );
            // Programs survive serialization unchanged (bundles carry them).
            let json = serde_json::to_string(&program).expect("serialize");
            let back: ir::Program = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, program);
            count += 1;
        }
        assert!(count >= 4);
    }

    #[test]
    fn regex_literals_become_constant_params() {
        let text = "package app\n\nschema M { text: string }\n\npolicy p(m: M) -> Decision {\n  deny \"digits\" when m.text.matches(r\"[0-9]+\")\n  deny \"words\" when m.text.find_all(r\"\\w+\").len() > 3\n  deny \"computed\" when m.text.matches(m.text)\n}\n";
        let program = lowered(&[("a.pol", text)]);
        let constants: Vec<&ir::Param> = program
            .params
            .iter()
            .filter(|p| p.name.starts_with("<const>."))
            .collect();
        // The two literals, not the computed pattern.
        assert_eq!(constants.len(), 2);
        assert!(constants.iter().all(|p| p.ty == ir::Type::String));
    }

    #[test]
    fn lowering_keeps_the_project_and_the_packages_it_imports() {
        let program = lowered(&[(
            "a.pol",
            "package app\nimport std.guards.output\n\nlet limit = 3\n",
        )]);
        ir::verify(&program).expect("the pruned program verifies");
        let names = |items: Vec<&str>| items.into_iter().map(str::to_string).collect::<Vec<_>>();
        let policies = names(program.policies.iter().map(|p| p.name.as_str()).collect());
        assert_eq!(policies, ["std.guards.output.response"]);
        assert!(program.lets.iter().any(|l| l.name == "app.limit"));
        assert!(
            program
                .schemas
                .iter()
                .any(|s| s.name == "std.guards.output.Response")
        );
        // What the imported package uses of another comes along (its role
        // enum); the other package's policies do not.
        assert!(
            program
                .enums
                .iter()
                .any(|e| e.name == "std.guards.input.Role")
        );
        assert!(
            !program
                .schemas
                .iter()
                .any(|s| s.name.starts_with("std.tools."))
        );
        // Nothing imported: only the project.
        let alone = lowered(&[("a.pol", "package app\nlet limit = 3\n")]);
        assert!(alone.policies.is_empty());
        assert_eq!(alone.lets.len(), 1);
    }

    #[test]
    fn rules_carry_qualified_ids_reasons_and_locations() {
        let text = "package app\n\nschema Req { n: int }\n\npolicy p(r: Req) -> Decision {\n  default deny \"no\"\n  @id(\"small-n\")\n  allow \"n is small\" when r.n < 3\n  deny \"n is negative\" when r.n < 0\n}\n";
        let program = lowered(&[("a.pol", text)]);
        let p = policy(&program, "app.p");
        let ids: Vec<&str> = p.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, vec!["app.p.small-n", "app.p.n-is-negative"]);
        assert_eq!((p.rules[1].loc.line, p.rules[1].loc.column), (9, 3));
        let ir::PolicyKind::Decision {
            default: Some(default),
        } = &p.kind
        else {
            panic!("decision")
        };
        assert_eq!(
            (default.effect, default.id.as_str()),
            (ir::Effect::Deny, "app.p.no")
        );
    }

    #[test]
    fn ints_widen_to_floats_explicitly_and_operations_are_typed() {
        let text = "package app\n\nschema M { rate: float, n: int }\n\npolicy p(m: M) -> Decision {\n  allow \"low\" when m.rate < 1 and m.n + 1 > 2\n}\n";
        let program = lowered(&[("a.pol", text)]);
        let body = &policy(&program, "app.p").body;
        let ops: Vec<&ir::Op> = body.nodes.iter().map(|n| &n.op).collect();
        assert!(
            ops.iter().any(|op| matches!(op, ir::Op::IntToFloat(_))),
            "{ops:#?}"
        );
        assert!(ops.iter().any(|op| matches!(
            op,
            ir::Op::Binary {
                op: ir::BinaryOp::Lt(ir::Ordered::Float),
                ..
            }
        )));
        assert!(ops.iter().any(|op| matches!(
            op,
            ir::Op::Binary {
                op: ir::BinaryOp::AddInt,
                ..
            }
        )));
        assert!(ops.iter().any(|op| matches!(
            op,
            ir::Op::Binary {
                op: ir::BinaryOp::Gt(ir::Ordered::Int),
                ..
            }
        )));
    }

    #[test]
    fn optional_chaining_membership_and_variants() {
        let text = "package app\n\nenum Role { guest, admin }\nschema Req { role: Role, note: string?, tags: map<string, string> }\n\npolicy p(r: Req) -> Decision {\n  deny \"a\" when r.note?.contains(\"x\") ?? false\n  deny \"b\" when r.role not in {admin}\n  deny \"c\" when \"k\" in r.tags\n}\n";
        let program = lowered(&[("a.pol", text)]);
        let body = &policy(&program, "app.p").body;
        let ops: Vec<&ir::Op> = body.nodes.iter().map(|n| &n.op).collect();
        assert!(ops.iter().any(|op| matches!(op, ir::Op::IfPresent { .. })));
        assert!(ops.iter().any(|op| matches!(op, ir::Op::Coalesce { .. })));
        assert!(ops.iter().any(|op| matches!(
            op,
            ir::Op::Builtin {
                id: pol_ir::Builtin::StrContains,
                ..
            }
        )));
        assert!(
            ops.iter()
                .any(|op| matches!(op, ir::Op::Const(ir::Const::Variant(1))))
        );
        assert!(ops.iter().any(|op| matches!(
            op,
            ir::Op::Unary {
                op: ir::UnaryOp::Not,
                ..
            }
        )));
        assert!(ops.iter().any(|op| matches!(
            op,
            ir::Op::Binary {
                op: ir::BinaryOp::InMapKeys,
                ..
            }
        )));
    }

    #[test]
    fn an_importing_packages_setting_replaces_a_param_default() {
        let lib = "package lib\n\nparam limit: float = 0.5\n";
        let app = "package app\nimport lib\n\nparam lib.limit = 2\n";
        let program = lowered(&[("lib.pol", lib), ("app.pol", app)]);
        let param = program
            .params
            .iter()
            .find(|p| p.name == "lib.limit")
            .expect("param");
        let root = param.value.root.expect("root");
        // The setting `2` is widened to the param's float type.
        assert!(matches!(
            param.value.nodes[root.0 as usize].op,
            ir::Op::IntToFloat(_)
        ));
    }

    #[test]
    fn programs_with_errors_are_not_lowered() {
        let ws = workspace(&[("a.pol", "package app\nlet x: int = \"no\"\n")]);
        assert!(matches!(
            crate::lower::lower(&ws.checked()),
            Err(crate::lower::LowerError::HasErrors(1))
        ));
    }

    #[test]
    fn verify_refuses_forward_references_and_newer_versions() {
        let mut program = lowered(&[("a.pol", "package app\nlet x = 1 + 2\n")]);
        let mut bad = program.clone();
        let body = &mut bad.lets[0].value;
        body.nodes[0].op = ir::Op::IntToFloat(ir::NodeId(5));
        assert!(ir::verify(&bad).is_err());
        program.format_version = ir::FORMAT_VERSION + 1;
        assert!(ir::verify(&program).is_err());
    }
}

#[test]
fn lone_carriage_returns_end_lines_like_newlines() {
    // Comments end at the line end, items start in column 0 after it, and
    // line numbers count it: the same diagnostics at the same lines and
    // columns, whichever line ending the file uses.
    let text = "package app\n// a comment\n/// The input.\nschema In { n: int }\n\npolicy p(x: In) -> Decision {\n  allow \"ok\" when x.m > 1 // unknown field\n}\nlet y: int = \"no\"\n";
    let located = |text: &str| {
        let ws = workspace(&[("a.pol", text), ("b.pol", B)]);
        let checked = ws.checked();
        let lines = &checked.program.files[0].syntax.line_starts;
        let mut out: Vec<(&'static str, usize, u32)> = ws.diagnostics()[0]
            .1
            .iter()
            .map(|d| {
                let at = d.primary_span().map_or(0, |s| s.start);
                let line = lines.partition_point(|&start| start <= at);
                (d.code, line, at - lines[line - 1])
            })
            .collect();
        out.sort();
        (out, lines.len())
    };
    let unix = located(text);
    assert_eq!(unix.0.len(), 2, "{unix:?}");
    assert_eq!(located(&text.replace('\n', "\r")), unix);
    assert_eq!(located(&text.replace('\n', "\r\n")), unix);
}
