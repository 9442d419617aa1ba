//! Checking a generated 10,000-line policy set: a cold check (parse,
//! resolve, type-check everything) and an incremental re-check after a
//! one-line edit.

use criterion::{Criterion, criterion_group, criterion_main};
use pol_sema::Workspace;

#[path = "support/generated.rs"]
mod generated;

use generated::project;

fn bench_check(c: &mut Criterion) {
    let files = project(10_000);
    if let Some(dir) = std::env::var_os("POL_BENCH_DUMP") {
        // For instruction-count profiling outside criterion.
        for (path, text) in &files {
            std::fs::write(std::path::Path::new(&dir).join(path), text)
                .expect("dump generated file");
        }
    }
    let lines: usize = files.iter().map(|(_, t)| t.lines().count()).sum();
    {
        // Sanity: the generated project checks clean.
        let mut ws = Workspace::new();
        ws.set_files(files.clone());
        let problems: Vec<_> = ws
            .diagnostics()
            .into_iter()
            .filter(|(_, d)| !d.is_empty())
            .collect();
        assert!(
            problems.is_empty(),
            "generated project has diagnostics: {:#?}",
            &problems[..problems.len().min(1)]
        );
    }
    let mut group = c.benchmark_group(format!("check_{lines}_lines"));
    group.sample_size(10);
    group.bench_function("cold", |b| {
        b.iter(|| {
            let mut ws = Workspace::new();
            ws.set_files(files.clone());
            ws.diagnostics()
        });
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| {
            files
                .iter()
                .map(|(_, text)| pol_syntax::parse_file(text).items.len())
                .sum::<usize>()
        });
    });
    group.bench_function("one_line_edit", |b| {
        let mut ws = Workspace::new();
        ws.set_files(files.clone());
        let _ = ws.diagnostics();
        let mut flip = false;
        b.iter(|| {
            flip = !flip;
            let (path, text) = &files[0];
            let edited = if flip {
                text.replace("\"not permitted\"", "\"not allowed\"")
            } else {
                text.clone()
            };
            ws.set_file(path, edited);
            ws.diagnostics()
        });
    });
    group.finish();
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
