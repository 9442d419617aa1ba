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
    // A project that defines `std.guards.input` itself does not clash with
    // the embedded copy.
    let own = "package std.guards.input\n\nlet marker = 1\n";
    let ws = workspace(&[
        ("input.pol", own),
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
