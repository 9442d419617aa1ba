//! Editor latency on a generated 5,000-line workspace (several files):
//! fresh diagnostics after a one-line edit, and completion after `.`,
//! both on a line that parses and on a half-typed one.
//!
//! `cargo bench -p pol-lsp --bench ide`

use criterion::{Criterion, criterion_group, criterion_main};
use pol_ide::Analysis;
use pol_sema::Workspace;

// The same generated project as the front end's benchmark.
#[path = "../../compiler/sema/benches/support/generated.rs"]
mod generated;

use generated::project;

fn bench_ide(c: &mut Criterion) {
    let files = project(5_000);
    let lines: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    let mut ws = Workspace::new();
    ws.set_files(files.clone());
    {
        let analysis = Analysis::new(ws.db(), ws.project());
        let problems: Vec<_> = analysis
            .all_diagnostics()
            .into_iter()
            .filter(|(_, d)| !d.is_empty())
            .collect();
        assert!(
            problems.is_empty(),
            "generated workspace has diagnostics: {problems:#?}"
        );
    }
    let mut group = c.benchmark_group(format!("ide_{lines}_lines_{}_files", files.len()));
    group.sample_size(20);

    // A one-line edit in one file, then every file's diagnostics (what
    // the server publishes after an edit).
    let (path, text) = files[files.len() / 2].clone();
    let edited = text.replace("\"not permitted\"", "\"not allowed\"");
    let mut flip = false;
    group.bench_function("diagnostics_after_one_line_edit", |b| {
        b.iter(|| {
            flip = !flip;
            ws.set_file(&path, if flip { edited.clone() } else { text.clone() });
            Analysis::new(ws.db(), ws.project()).all_diagnostics()
        });
    });

    // The same edit, then the edited file's diagnostics from a check of
    // its bodies only (what the server publishes first).
    group.bench_function("edited_file_diagnostics_after_one_line_edit", |b| {
        b.iter(|| {
            flip = !flip;
            ws.set_file(&path, if flip { edited.clone() } else { text.clone() });
            Analysis::new(ws.db(), ws.project()).file_diagnostics(&path)
        });
    });

    // The same edit, the check alone (no diagnostics gathered).
    group.bench_function("check_after_one_line_edit", |b| {
        b.iter(|| {
            flip = !flip;
            ws.set_file(&path, if flip { edited.clone() } else { text.clone() });
            pol_sema::check_project(ws.db(), ws.project())
                .diagnostics
                .len()
        });
    });

    // The check alone, outside salsa (no memo, no comparison with the
    // previous result), and the check of one item's body.
    let source = *ws
        .files()
        .iter()
        .find(|f| f.path(ws.db()) == &path)
        .expect("the edited file");
    group.bench_function("check_without_salsa", |b| {
        b.iter(|| {
            pol_sema::check_project_with_text(ws.db(), ws.project(), source, &edited)
                .diagnostics
                .len()
        });
    });
    let in_policy = (text.find("deny \"too long\"").expect("generated text")) as u32;
    group.bench_function("check_one_item", |b| {
        b.iter(|| {
            pol_sema::check_item_with_text(ws.db(), ws.project(), source, &edited, in_policy)
                .diagnostics
                .len()
        });
    });

    // Completion after `r.user.` in a line that parses.
    ws.set_file(&path, text.clone());
    let at = (text.find("r.user.role").expect("generated text") + "r.user.".len()) as u32;
    let _ = Analysis::new(ws.db(), ws.project()).all_diagnostics();
    group.bench_function("completion_after_dot", |b| {
        b.iter(|| {
            let items = Analysis::new(ws.db(), ws.project()).completions(&path, at);
            assert_eq!(items.len(), 5);
            items
        });
    });

    // Completion after `r.user.` on a half-typed line (the item does not
    // parse: completion checks the text with a placeholder member).
    // The last line of a policy, so the item cannot parse as it is.
    let line_end = text
        .find("deny \"too long\"")
        .and_then(|at| text[at..].find('\n').map(|end| at + end + 1))
        .expect("generated text");
    let typed = format!(
        "{}  deny \"x\" when r.user.\n{}",
        &text[..line_end],
        &text[line_end..]
    );
    let at = (typed.find("when r.user.\n").expect("typed text") + "when r.user.".len()) as u32;
    ws.set_file(&path, typed);
    let _ = Analysis::new(ws.db(), ws.project()).all_diagnostics();
    group.bench_function("completion_after_dot_half_typed", |b| {
        b.iter(|| {
            let items = Analysis::new(ws.db(), ws.project()).completions(&path, at);
            assert_eq!(items.len(), 5);
            items
        });
    });
    group.finish();
}

criterion_group!(benches, bench_ide);
criterion_main!(benches);
