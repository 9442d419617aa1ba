//! Checking a generated 10,000-line policy set: a cold check (parse,
//! resolve, type-check everything) and an incremental re-check after a
//! one-line edit.

use criterion::{Criterion, criterion_group, criterion_main};
use pol_sema::Workspace;

/// One generated file of about 100 lines: schemas, an enum, params, lets,
/// a decision policy, a value policy, a filter policy and a test.
fn generated_file(n: usize) -> String {
    let mut s = format!(
        "/// Generated package {n}.\npackage bench.p{n}\n\nimport std.text\nimport std.url\n\n\
         /// Who is asking.\nenum Role{n} {{ guest, user, staff, admin }}\n\n\
         /// A request.\nschema Request{n} {{\n  user: User{n},\n  tool: string,\n  args: map<string, string>,\n  \
         prompt: string,\n  docs: list<Doc{n}>,\n  score: float?,\n}}\n\n\
         schema User{n} {{ id: string, role: Role{n}, tenant: string, clearance: int, groups: set<string> }}\n\
         schema Doc{n} {{ id: string, tenant: string, level: int, acl: set<string>, tokens: int }}\n\n\
         param tools{n}: map<string, set<Role{n}>> = {{ \"fs.read\": {{user, staff, admin}}, \"shell\": {{admin}} }}\n\
         param hosts{n}: set<string> = {{ \"docs.internal\", \"api.github.com\" }}\n\
         param phrases{n}: set<string> = {{ \"ignore previous instructions\", \"reveal your system prompt\" }}\n\
         let limit{n} = 4000\n\n"
    );
    s.push_str(&format!("/// Tool permission.\npolicy tool{n}(r: Request{n}) -> Decision {{\n  let role = r.user.role\n  default deny \"not permitted\"\n"));
    for i in 0..25 {
        s.push_str(&format!(
            "  deny \"rule {i}\" when r.args[\"k{i}\"]?.contains(\"..\") ?? false and r.user.clearance < {i} and role != admin\n"
        ));
    }
    s.push_str(&format!(
        "  allow \"role may use tool\" when role in (tools{n}[r.tool] ?? {{}})\n  \
         deny \"host\" when url.host(r.args[\"url\"] ?? \"\") not in hosts{n}\n  \
         deny \"injection\" when r.prompt.contains_any(phrases{n})\n  \
         deny \"too long\" when r.prompt.len() > limit{n}\n  \
         require_approval \"shell\" when r.tool == \"shell\"\n}}\n\n"
    ));
    s.push_str(&format!(
        "/// Severity.\npolicy severity{n}(r: Request{n}) -> int {{\n"
    ));
    for i in 0..20 {
        s.push_str(&format!(
            "  return {i} \"score band {i}\" when (r.score ?? 0.0) > {}.0 / 20.0\n",
            20 - i
        ));
    }
    s.push_str("  default 0 \"nominal\"\n}\n\n");
    s.push_str(&format!(
        "/// Retrieval scope.\npolicy docs{n}(r: Request{n}) -> list<Doc{n}> {{\n  \
         keep d in r.docs \"visible\" when d.tenant == r.user.tenant and d.level <= r.user.clearance \
         and d.acl.intersects(r.user.groups) limit 10\n}}\n\n"
    ));
    s.push_str(&format!(
        "test \"tool {n}\" {{\n  let d = tool{n}({{ user: {{ id: \"u\", role: user, tenant: \"t\", clearance: 3, groups: {{}} }},\n    \
         tool: \"fs.read\", args: {{}}, prompt: \"hi\", docs: [] }})\n  expect d.allowed\n  \
         expect not d.fired(\"host\")\n}}\n"
    ));
    s
}

fn project(lines: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut total = 0;
    let mut n = 0;
    while total < lines {
        let text = generated_file(n);
        total += text.lines().count();
        files.push((format!("p{n}.pol"), text));
        n += 1;
    }
    files
}

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
