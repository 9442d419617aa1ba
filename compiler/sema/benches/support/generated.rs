//! The generated policy project the front end's and the language server's
//! benchmarks share: files of about 100 lines, each a package with schemas,
//! an enum, params, lets, decision, value and filter policies and a test.

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

/// Generated files of about 100 lines each, `lines` in all.
pub(crate) fn project(lines: usize) -> Vec<(String, String)> {
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
