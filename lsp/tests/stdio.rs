//! Drives the real `pol-lsp` binary over stdio with JSON-RPC, as an editor
//! would, against a temporary workspace: a copy of the standard library's
//! `std.tools` package (with its tests), an app package that imports it,
//! and a badly formatted file. Results are snapshotted with insta, with
//! temporary paths replaced by `<ws>` and `<std>`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long any one answer may take before the test fails.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A JSON-RPC client over the server's stdin and stdout.
struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: mpsc::Receiver<Value>,
    next_id: i64,
    /// Notifications received while waiting for something else.
    notifications: Vec<Value>,
    /// Requests the server sent, in order.
    server_requests: Vec<Value>,
    /// What to answer the server's requests with, by method (`null` for
    /// the others).
    answers: std::collections::HashMap<String, Value>,
    /// Replaced in snapshots.
    root: String,
}

impl Client {
    fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pol-lsp"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start pol-lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            loop {
                // Content-Length framing.
                let mut length = None;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(value) = line.strip_prefix("Content-Length:") {
                        length = value.trim().parse::<usize>().ok();
                    }
                }
                let Some(length) = length else { return };
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    return;
                }
                let Ok(message) = serde_json::from_slice(&body) else {
                    return;
                };
                if tx.send(message).is_err() {
                    return;
                }
            }
        });
        Client {
            child,
            stdin,
            incoming,
            next_id: 0,
            notifications: Vec::new(),
            server_requests: Vec::new(),
            answers: std::collections::HashMap::new(),
            root: root.to_string_lossy().into_owned(),
        }
    }

    fn send(&mut self, message: &Value) {
        let body = serde_json::to_vec(message).expect("json");
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("write header");
        self.stdin.write_all(&body).expect("write body");
        self.stdin.flush().expect("flush");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    fn receive(&mut self, deadline: Instant) -> Value {
        let left = deadline.saturating_duration_since(Instant::now());
        self.incoming
            .recv_timeout(left)
            .expect("the server answered in time")
    }

    /// Sends a request and waits for its response (the whole response:
    /// `result` or `error`).
    fn request_raw(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.receive(deadline);
            if message.get("id") == Some(&json!(id)) && message.get("method").is_none() {
                return message;
            }
            if self.answer_server_request(&message) {
                continue;
            }
            self.notifications.push(message);
        }
    }

    /// Answers a request from the server (with `answers`, else `null`)
    /// and records it; false when `message` is not a server request.
    fn answer_server_request(&mut self, message: &Value) -> bool {
        let Some(method) = message.get("method").and_then(Value::as_str) else {
            return false;
        };
        if message.get("id").is_none() {
            return false;
        }
        let result = self.answers.get(method).cloned().unwrap_or(Value::Null);
        let reply = json!({ "jsonrpc": "2.0", "id": message["id"], "result": result });
        self.send(&reply);
        self.server_requests.push(message.clone());
        true
    }

    /// Waits for a notification `method` whose params satisfy `accept`
    /// (one received earlier counts), and removes it.
    fn notification(&mut self, method: &str, accept: impl Fn(&Value) -> bool) -> Value {
        let matches = |m: &Value| m["method"] == method && accept(&m["params"]);
        if let Some(i) = self.notifications.iter().position(matches) {
            return self.notifications.remove(i)["params"].clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let message = self.receive(deadline);
            if self.answer_server_request(&message) {
                continue;
            }
            if matches(&message) {
                return message["params"].clone();
            }
            self.notifications.push(message);
        }
    }

    /// Waits for the server to send a request `method` (one received
    /// earlier counts), and forgets it.
    fn server_request(&mut self, method: &str) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(i) = self
                .server_requests
                .iter()
                .position(|r| r["method"] == method)
            {
                return self.server_requests.remove(i);
            }
            let message = self.receive(deadline);
            if !self.answer_server_request(&message) {
                self.notifications.push(message);
            }
        }
    }

    /// Sends a request and returns its result, failing on an error.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// Waits for diagnostics of `uri` that satisfy `accept`.
    fn diagnostics(&mut self, uri: &str, accept: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + TIMEOUT;
        let matches = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && accept(&m["params"])
        };
        if let Some(i) = self.notifications.iter().rposition(matches) {
            let found = self.notifications.remove(i);
            self.notifications.retain(|m| {
                m["method"] != "textDocument/publishDiagnostics" || m["params"]["uri"] != uri
            });
            return found["params"].clone();
        }
        loop {
            let message = self.receive(deadline);
            if self.answer_server_request(&message) {
                continue;
            }
            if matches(&message) {
                return message["params"].clone();
            }
            self.notifications.push(message);
        }
    }

    /// `value` as pretty JSON with temporary paths replaced.
    fn normalize(&self, value: &Value) -> String {
        let text = serde_json::to_string_pretty(value).expect("json");
        let std_dir = std::env::temp_dir()
            .join(format!("pol-lsp-std-{}", env!("CARGO_PKG_VERSION")))
            .to_string_lossy()
            .into_owned();
        text.replace(&format!("file://{}", self.root), "file://<ws>")
            .replace(&format!("file://{std_dir}"), "file://<std>")
            .replace(&self.root, "<ws>")
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh folder with a copy of `std.tools` (and its tests), the app
/// package and the messy file.
fn workspace() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let root = std::env::temp_dir().join(format!("pol-lsp-test-{}-{nanos}", std::process::id()));
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let stdlib = here.join("../stdlib-policies");
    std::fs::create_dir_all(root.join("std")).expect("mkdir");
    std::fs::create_dir_all(root.join("app")).expect("mkdir");
    for name in ["tools.pol", "tools_test.pol"] {
        std::fs::copy(stdlib.join(name), root.join("std").join(name)).expect("copy");
    }
    let fixtures = here.join("tests/fixtures");
    std::fs::copy(fixtures.join("app/agent.pol"), root.join("app/agent.pol")).expect("copy");
    std::fs::copy(fixtures.join("messy.pol"), root.join("messy.pol")).expect("copy");
    root.canonicalize().expect("canonical")
}

fn uri_of(path: &Path) -> String {
    format!("file://{}", path.to_string_lossy())
}

/// The (line, character) of the `nth` occurrence of `needle` in `text`,
/// plus `delta` characters (ASCII text).
fn position(text: &str, needle: &str, nth: usize, delta: usize) -> Value {
    let at = text
        .match_indices(needle)
        .nth(nth)
        .unwrap_or_else(|| panic!("`{needle}` occurs {} times", nth + 1))
        .0
        + delta;
    let line = text[..at].matches('\n').count();
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": column })
}

fn doc_position(uri: &str, position: Value) -> Value {
    json!({ "textDocument": { "uri": uri }, "position": position })
}

/// Just the labels of a completion answer.
fn completion_labels(result: &Value) -> Vec<String> {
    let items = result
        .as_array()
        .cloned()
        .or_else(|| result["items"].as_array().cloned())
        .unwrap_or_default();
    items
        .iter()
        .map(|i| {
            format!(
                "{} : {}",
                i["label"].as_str().unwrap_or(""),
                i["detail"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Applies LSP text edits (single line-column ranges, ASCII) to `text`.
fn apply_edits(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| {
        let line = p["line"].as_u64().unwrap_or(0) as usize;
        let character = p["character"].as_u64().unwrap_or(0) as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        (start + character).min(text.len())
    };
    let mut edits: Vec<&Value> = edits.iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(offset(&e["range"]["start"])));
    let mut out = text.to_string();
    for e in edits {
        let (start, end) = (offset(&e["range"]["start"]), offset(&e["range"]["end"]));
        out.replace_range(start..end, e["newText"].as_str().unwrap_or(""));
    }
    out
}

/// Semantic tokens decoded into `line:col len type` lines.
fn decode_tokens(data: &[Value], legend: &[Value]) -> Vec<String> {
    let numbers: Vec<u64> = data.iter().filter_map(Value::as_u64).collect();
    let (mut line, mut col) = (0, 0);
    let mut out = Vec::new();
    for chunk in numbers.chunks(5) {
        let [dl, ds, len, ty, mods] = chunk else {
            break;
        };
        if *dl > 0 {
            line += dl;
            col = *ds;
        } else {
            col += ds;
        }
        let name = legend
            .get(*ty as usize)
            .and_then(Value::as_str)
            .unwrap_or("?");
        out.push(format!("{line}:{col} len {len} {name} mods {mods}"));
    }
    out
}

#[test]
fn an_editing_session_over_stdio() {
    let root = workspace();
    let agent_path = root.join("app/agent.pol");
    let agent_uri = uri_of(&agent_path);
    let agent = std::fs::read_to_string(&agent_path).expect("read");
    let tools_uri = uri_of(&root.join("std/tools.pol"));
    let mut client = Client::start(&root);

    // initialize: the capabilities.
    let init = client.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": uri_of(&root),
            "capabilities": { "general": { "positionEncodings": ["utf-16"] } },
            "workspaceFolders": [{ "uri": uri_of(&root), "name": "ws" }],
        }),
    );
    let legend = init["capabilities"]["semanticTokensProvider"]["legend"]["tokenTypes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    insta::assert_snapshot!("initialize", client.normalize(&init));
    client.notify("initialized", json!({}));

    // open: no diagnostics.
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": agent_uri, "languageId": "pol", "version": 1, "text": agent } }),
    );
    let clean = client.diagnostics(&agent_uri, |p| p["version"] == 1);
    assert_eq!(clean["diagnostics"], json!([]), "{clean}");

    // Misspell a field: a diagnostic with its code and a did-you-mean.
    let tool = position(&agent, "c.tool ==", 0, 2);
    let end =
        json!({ "line": tool["line"], "character": tool["character"].as_u64().unwrap_or(0) + 4 });
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": agent_uri, "version": 2 },
            "contentChanges": [{ "range": { "start": tool, "end": end }, "text": "tol" }],
        }),
    );
    let broken = client.diagnostics(&agent_uri, |p| p["version"] == 2);
    insta::assert_snapshot!("misspelled_field", client.normalize(&broken));
    let end =
        json!({ "line": tool["line"], "character": tool["character"].as_u64().unwrap_or(0) + 3 });
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": agent_uri, "version": 3 },
            "contentChanges": [{ "range": { "start": tool, "end": end }, "text": "tool" }],
        }),
    );
    let fixed = client.diagnostics(&agent_uri, |p| p["version"] == 3);
    assert_eq!(fixed["diagnostics"], json!([]), "{fixed}");

    // Hover a field, a schema, a rule.
    let hover_field = client.request(
        "textDocument/hover",
        doc_position(&agent_uri, position(&agent, "c.tenant", 0, 3)),
    );
    insta::assert_snapshot!("hover_field", client.normalize(&hover_field));
    let hover_schema = client.request(
        "textDocument/hover",
        doc_position(&agent_uri, position(&agent, "ToolCall", 0, 1)),
    );
    insta::assert_snapshot!("hover_schema", client.normalize(&hover_schema));
    let hover_rule = client.request(
        "textDocument/hover",
        doc_position(&agent_uri, position(&agent, "deny", 1, 1)),
    );
    insta::assert_snapshot!("hover_rule", client.normalize(&hover_rule));

    // Jump to the schema, find its references.
    let definition = client.request(
        "textDocument/definition",
        doc_position(&agent_uri, position(&agent, "ToolCall", 0, 2)),
    );
    insta::assert_snapshot!("definition", client.normalize(&definition));
    let mut params = doc_position(&agent_uri, position(&agent, "ToolCall", 0, 2));
    params["context"] = json!({ "includeDeclaration": true });
    let references = client.request("textDocument/references", params);
    insta::assert_snapshot!("references", client.normalize(&references));

    // Completion after `.` and `?.` on a half-typed line.
    let typed = agent.replace("  default allow", "  deny \"x\" when c.\n  default allow");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": agent_uri, "version": 4 }, "contentChanges": [{ "text": typed }] }),
    );
    let at = position(&typed, "when c.\n", 0, 7);
    let fields = client.request("textDocument/completion", doc_position(&agent_uri, at));
    let typed = agent.replace(
        "  default allow",
        "  deny \"x\" when c.sandbox?.\n  default allow",
    );
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": agent_uri, "version": 5 }, "contentChanges": [{ "text": typed }] }),
    );
    let at = position(&typed, "sandbox?.", 0, 9);
    let optional = client.request("textDocument/completion", doc_position(&agent_uri, at));
    insta::assert_snapshot!(
        "completion",
        format!(
            "after `c.`:\n{}\n\nafter `c.sandbox?.`:\n{}",
            completion_labels(&fields).join("\n"),
            completion_labels(&optional).join("\n")
        )
    );
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": agent_uri, "version": 6 }, "contentChanges": [{ "text": agent }] }),
    );
    let fixed = client.diagnostics(&agent_uri, |p| p["version"] == 6);
    assert_eq!(fixed["diagnostics"], json!([]), "{fixed}");

    // Signature help inside a policy call and a builtin call.
    let signature = client.request(
        "textDocument/signatureHelp",
        doc_position(&agent_uri, position(&agent, "tools.call(c)", 0, 11)),
    );
    insta::assert_snapshot!("signature_help", client.normalize(&signature));

    // Rename the schema: edits in the library copy and the app.
    let mut params = doc_position(&agent_uri, position(&agent, "ToolCall", 0, 2));
    let prepared = client.request("textDocument/prepareRename", params.clone());
    assert_eq!(prepared["placeholder"], "ToolCall", "{prepared}");
    params["newName"] = json!("AgentCall");
    let rename = client.request("textDocument/rename", params);
    insta::assert_snapshot!("rename", client.normalize(&rename));
    assert!(rename["changes"].get(&tools_uri).is_some(), "{rename}");
    let mut params = doc_position(&agent_uri, position(&agent, "ToolCall", 0, 2));
    params["newName"] = json!("not valid");
    let refused = client.request_raw("textDocument/rename", params);
    assert!(refused.get("error").is_some(), "{refused}");
    // Names taken where the renamed thing lives are refused, naming the
    // conflict: a local in scope, an import of the package.
    let refusal = |client: &mut Client, needle: &str, new_name: &str| {
        let mut params = doc_position(&agent_uri, position(&agent, needle, 0, 0));
        params["newName"] = json!(new_name);
        let refused = client.request_raw("textDocument/rename", params);
        client.normalize(&refused["error"]["message"])
    };
    assert_eq!(
        refusal(&mut client, "d = tools", "c"),
        "\"cannot rename to `c`: the local `c` on line 7 is in scope here, and locals cannot shadow each other\""
    );
    assert_eq!(
        refusal(&mut client, "gate(c", "tools"),
        "\"cannot rename to `tools`: `tools` is an import in <ws>/app/agent.pol (package `acme.agent`), and a name cannot be both an import and a definition\""
    );

    // Formatting a messy file: the same code as `polc fmt`.
    let messy_path = root.join("messy.pol");
    let messy_uri = uri_of(&messy_path);
    let messy = std::fs::read_to_string(&messy_path).expect("read");
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": messy_uri, "languageId": "pol", "version": 1, "text": messy } }),
    );
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": messy_uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    let formatted = apply_edits(&messy, edits.as_array().map(Vec::as_slice).unwrap_or(&[]));
    assert_eq!(
        Ok(formatted.clone()),
        pol_fmt_format(&messy),
        "the server formats like `polc fmt`"
    );
    insta::assert_snapshot!("formatting", formatted);

    // Semantic tokens and symbols of the app file.
    let tokens = client.request(
        "textDocument/semanticTokens/full",
        json!({ "textDocument": { "uri": agent_uri } }),
    );
    let decoded = decode_tokens(
        tokens["data"].as_array().map(Vec::as_slice).unwrap_or(&[]),
        &legend,
    );
    insta::assert_snapshot!("semantic_tokens", decoded.join("\n"));
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": agent_uri } }),
    );
    insta::assert_snapshot!("document_symbols", client.normalize(&symbols));
    let folds = client.request(
        "textDocument/foldingRange",
        json!({ "textDocument": { "uri": agent_uri } }),
    );
    insta::assert_snapshot!("folding", client.normalize(&folds));
    let found = client.request("workspace/symbol", json!({ "query": "toolcall" }));
    insta::assert_snapshot!("workspace_symbols", client.normalize(&found));

    // Code lenses, and running the test through the runtime.
    let lenses = client.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": agent_uri } }),
    );
    insta::assert_snapshot!("code_lens", client.normalize(&lenses));
    let test_lens = lenses
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|l| l["command"]["arguments"][0].get("test").is_some())
        })
        .cloned()
        .expect("a test lens");
    let ran = client.request(
        "workspace/executeCommand",
        json!({ "command": test_lens["command"]["command"], "arguments": test_lens["command"]["arguments"] }),
    );
    assert_eq!(ran, json!({ "passed": true, "summary": "passed (1 case)" }));
    let policy_lens = lenses
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|l| l["command"]["arguments"][0].get("policy").is_some())
        })
        .cloned()
        .expect("a policy lens");
    let ran = client.request(
        "workspace/executeCommand",
        json!({ "command": policy_lens["command"]["command"], "arguments": policy_lens["command"]["arguments"] }),
    );
    insta::assert_snapshot!("policy_lens", client.normalize(&ran));

    // Shut down cleanly.
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = std::fs::remove_dir_all(&root);
}

/// The formatter's output, as `polc fmt` writes it (the same crate).
fn pol_fmt_format(text: &str) -> Result<String, String> {
    pol_fmt::format(text, &pol_fmt::FormatConfig::default()).map_err(|e| e.to_string())
}

#[test]
fn half_typed_files_never_crash_the_server() {
    let root = workspace();
    let agent_path = root.join("app/agent.pol");
    let agent_uri = uri_of(&agent_path);
    let agent = std::fs::read_to_string(&agent_path).expect("read");
    let mut client = Client::start(&root);
    // A client that offers UTF-8 positions gets them.
    let init = client.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": uri_of(&root),
            "capabilities": { "general": { "positionEncodings": ["utf-8", "utf-16"] } },
        }),
    );
    assert_eq!(init["capabilities"]["positionEncoding"], "utf-8");
    client.notify("initialized", json!({}));
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": agent_uri, "languageId": "pol", "version": 1, "text": "" } }),
    );
    // Every prefix of a real file, as whole-document edits, with requests
    // at the end of each.
    let mut version = 1;
    for end in (0..=agent.len()).step_by(7).chain([agent.len()]) {
        version += 1;
        let prefix = &agent[..end];
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": agent_uri, "version": version }, "contentChanges": [{ "text": prefix }] }),
        );
        let line = prefix.matches('\n').count();
        let character = prefix.len() - prefix.rfind('\n').map_or(0, |i| i + 1);
        let at = doc_position(&agent_uri, json!({ "line": line, "character": character }));
        for method in [
            "textDocument/completion",
            "textDocument/hover",
            "textDocument/signatureHelp",
            "textDocument/definition",
        ] {
            let response = client.request_raw(method, at.clone());
            // Answered: a result, or cancelled by the next edit.
            assert!(
                response.get("result").is_some() || response["error"]["code"] == json!(-32801),
                "{method} at {end}: {response}"
            );
        }
        let range = json!({ "start": { "line": line.saturating_sub(2), "character": 0 }, "end": { "line": line, "character": character } });
        for (method, params) in [
            (
                "textDocument/semanticTokens/range",
                json!({ "textDocument": { "uri": agent_uri }, "range": range }),
            ),
            (
                "textDocument/rangeFormatting",
                json!({ "textDocument": { "uri": agent_uri }, "range": range, "options": { "tabSize": 2, "insertSpaces": true } }),
            ),
        ] {
            let response = client.request_raw(method, params);
            assert!(
                response.get("result").is_some() || response["error"]["code"] == json!(-32801),
                "{method} at {end}: {response}"
            );
        }
    }
    let diagnostics = client.diagnostics(&agent_uri, |p| p["version"] == version);
    assert_eq!(diagnostics["diagnostics"], json!([]), "{diagnostics}");
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": agent_uri } }),
    );
    assert!(
        symbols.as_array().is_some_and(|s| s.len() == 4),
        "{symbols}"
    );

    // Go to definition into the embedded library: the server wrote its
    // files to disk, and opening one does not add it to the workspace.
    let extra_uri = uri_of(&root.join("extra.pol"));
    let extra = "package acme.extra\nimport std.rag\n";
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": extra_uri, "languageId": "pol", "version": 1, "text": extra } }),
    );
    let target = client.request(
        "textDocument/definition",
        doc_position(&extra_uri, json!({ "line": 1, "character": 12 })),
    );
    let std_uri = target["uri"].as_str().unwrap_or_default().to_string();
    assert!(std_uri.ends_with("/rag.pol"), "{target}");
    let std_file = std_uri.trim_start_matches("file://").to_string();
    let std_text = std::fs::read_to_string(&std_file).expect("the embedded file is on disk");
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": std_uri, "languageId": "pol", "version": 1, "text": std_text } }),
    );
    let schema = position(&std_text, "schema ", 0, 8);
    let hover = client.request("textDocument/hover", doc_position(&std_uri, schema));
    assert!(
        hover["contents"]["value"]
            .as_str()
            .is_some_and(|v| v.contains("schema ")),
        "{hover}"
    );
    let _ = std::fs::remove_dir_all(&root);
}

/// Starts the server on a fresh workspace and initializes it with these
/// client capabilities and `initializationOptions`.
fn started(capabilities: Value, options: Value) -> (PathBuf, Client) {
    let root = workspace();
    let mut client = Client::start(&root);
    client.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": uri_of(&root),
            "capabilities": capabilities,
            "workspaceFolders": [{ "uri": uri_of(&root), "name": "ws" }],
            "initializationOptions": options,
        }),
    );
    client.notify("initialized", json!({}));
    (root, client)
}

fn open(client: &mut Client, uri: &str, text: &str) {
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "pol", "version": 1, "text": text } }),
    );
}

/// The lenses of a document as `title <- argument` lines.
fn lens_lines(client: &mut Client, uri: &str) -> Vec<String> {
    let lenses = client.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": uri } }),
    );
    lenses
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let argument = client.normalize(&l["command"]["arguments"][0]);
            let argument: String = argument.split_whitespace().collect::<Vec<_>>().join(" ");
            format!(
                "{} <- {argument}",
                l["command"]["title"].as_str().unwrap_or("")
            )
        })
        .collect()
}

/// Runs the evaluate lens of the document's first policy.
fn run_evaluate_lens(client: &mut Client, uri: &str) -> Value {
    let lenses = client.request(
        "textDocument/codeLens",
        json!({ "textDocument": { "uri": uri } }),
    );
    let lens = lenses
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|l| l["command"]["arguments"][0].get("evaluate").is_some())
        })
        .cloned()
        .expect("an evaluate lens");
    client.request(
        "workspace/executeCommand",
        json!({ "command": lens["command"]["command"], "arguments": lens["command"]["arguments"] }),
    )
}

#[test]
fn the_evaluate_lens_runs_a_policy_on_the_input_beside_it() {
    let capabilities = json!({ "workspace": { "codeLens": { "refreshSupport": true } } });
    let (root, mut client) = started(capabilities, Value::Null);
    let agent_path = root.join("app/agent.pol");
    let agent_uri = uri_of(&agent_path);
    let agent = std::fs::read_to_string(&agent_path).expect("read");
    open(&mut client, &agent_uri, &agent);

    // No input yet: the lens says so, and running it writes a skeleton of
    // the policy's input where the lens looks first.
    assert_eq!(
        lens_lines(&mut client, &agent_uri),
        [
            "▶ run the package's tests <- { \"policy\": \"acme.agent.gate\" }",
            "▶ evaluate (no input file) <- { \"evaluate\": \"acme.agent.gate\", \"uri\": \"file://<ws>/app/agent.pol\" }",
            "▶ run test <- { \"package\": \"acme.agent\", \"test\": \"reads pass\" }",
        ]
    );
    let created = run_evaluate_lens(&mut client, &agent_uri);
    insta::assert_snapshot!("evaluate_skeleton", client.normalize(&created));
    let own = root.join("app/agent.gate.input.json");
    let skeleton = std::fs::read_to_string(&own).expect("the skeleton was written");
    assert_eq!(
        serde_json::from_str::<Value>(&skeleton).expect("JSON"),
        created["skeleton"]
    );
    let shown = client.notification("window/showMessage", |_| true);
    assert_eq!(
        client.normalize(&shown["message"]),
        "\"no input file for `acme.agent.gate`: wrote a skeleton input to <ws>/app/agent.gate.input.json; fill it in and run ▶ evaluate again\""
    );
    // The client is asked to fetch the lenses again: the title changed.
    client.server_request("workspace/codeLens/refresh");
    assert!(
        lens_lines(&mut client, &agent_uri)[1]
            .starts_with("▶ evaluate (agent.gate.input.json) <- "),
    );

    // The skeleton evaluates as it is.
    let on_skeleton = run_evaluate_lens(&mut client, &agent_uri);
    assert_eq!(on_skeleton["evaluated"], true, "{on_skeleton}");

    // A filled-in input: the effect, the fired rules with ids and reasons.
    let shell = r#"{ "tool": "shell", "args": { "command": "ls" }, "role": "admin", "tenant": "prod", "session": { "id": "s1", "calls": 0 } }"#;
    std::fs::write(&own, shell).expect("write the input");
    let denied = run_evaluate_lens(&mut client, &agent_uri);
    insta::assert_snapshot!("evaluate_deny", client.normalize(&denied));
    let shown = client.notification("window/showMessage", |p| {
        p["message"]
            .as_str()
            .is_some_and(|m| m.contains("on agent.gate.input.json"))
    });
    assert_eq!(shown["type"], 3, "an info message: {shown}");

    // A malformed input: the decoder's reason, as an error message.
    std::fs::write(&own, r#"{ "tool": "shell.run", "args": {}, "role": 7 }"#).expect("write");
    let refused = run_evaluate_lens(&mut client, &agent_uri);
    assert_eq!(refused["evaluated"], false, "{refused}");
    assert_eq!(
        refused["summary"], "not evaluated: input $.role: expected a string, found a number",
        "{refused}"
    );
    std::fs::write(&own, "{ \"tool\": ").expect("write");
    let truncated = run_evaluate_lens(&mut client, &agent_uri);
    assert_eq!(truncated["evaluated"], false, "{truncated}");
    assert!(
        truncated["error"]
            .as_str()
            .is_some_and(|e| e.starts_with("input $: ")),
        "{truncated}"
    );
    let shown = client.notification("window/showMessage", |p| {
        p["message"]
            .as_str()
            .is_some_and(|m| m.contains("not evaluated"))
    });
    assert_eq!(shown["type"], 1, "an error message: {shown}");

    // Without its own input, a policy reads the folder's `input.json`; the
    // standard tools policy shows an obligation.
    std::fs::remove_file(&own).expect("remove");
    std::fs::write(root.join("app/input.json"), shell).expect("write");
    assert!(lens_lines(&mut client, &agent_uri)[1].starts_with("▶ evaluate (input.json) <- "));
    let tools_path = root.join("std/tools.pol");
    let tools_uri = uri_of(&tools_path);
    open(
        &mut client,
        &tools_uri,
        &std::fs::read_to_string(&tools_path).expect("read"),
    );
    std::fs::write(
        root.join("std/tools.call.input.json"),
        r#"{ "tool": "fs.write", "args": { "path": "notes/a.md" }, "role": "developer", "tenant": "t1", "session": { "id": "s1", "calls": 0 } }"#,
    )
    .expect("write");
    let approval = run_evaluate_lens(&mut client, &tools_uri);
    insta::assert_snapshot!("evaluate_obligation", client.normalize(&approval));

    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn settings_come_from_initialization_options_and_configuration_changes() {
    let capabilities = json!({
        "workspace": { "configuration": true, "codeLens": { "refreshSupport": true } },
    });
    let root = workspace();
    // A file with an error that is never opened.
    let broken_path = root.join("broken.pol");
    std::fs::write(
        &broken_path,
        "package acme.broken\n\nlet x: int = \"text\"\n",
    )
    .expect("write");
    let broken_uri = uri_of(&broken_path);
    let mut client = Client::start(&root);
    client.request(
        "initialize",
        json!({
            "processId": null,
            "rootUri": uri_of(&root),
            "capabilities": capabilities,
            "initializationOptions": { "lens": { "enable": false }, "inputDir": 7 },
        }),
    );
    client.notify("initialized", json!({}));
    let agent_path = root.join("app/agent.pol");
    let agent_uri = uri_of(&agent_path);
    open(
        &mut client,
        &agent_uri,
        &std::fs::read_to_string(&agent_path).expect("read"),
    );

    // `pol.lens.enable` off: no lenses. An ill-typed setting is logged.
    assert_eq!(lens_lines(&mut client, &agent_uri), Vec::<String>::new());
    client.notification("window/logMessage", |p| {
        p["message"] == "pol-lsp: setting `pol.inputDir` should be a folder path, not 7; inputs are read next to each policy"
    });
    // Workspace diagnostics by default: the unopened file's error.
    let published = client.diagnostics(&broken_uri, |p| p["diagnostics"] != json!([]));
    assert_eq!(
        published["diagnostics"][0]["code"], "pol::type::mismatch",
        "{published}"
    );

    // Pushed settings replace all of them: lenses on, diagnostics of open
    // files only (the unopened file's are cleared).
    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": { "pol": { "lens": { "enable": true }, "diagnostics": { "workspace": false } } } }),
    );
    let cleared = client.diagnostics(&broken_uri, |p| p["diagnostics"] == json!([]));
    assert_eq!(cleared["diagnostics"], json!([]));
    client.server_request("workspace/codeLens/refresh");
    assert_eq!(lens_lines(&mut client, &agent_uri).len(), 3);
    // Opening the file shows its diagnostics again.
    open(
        &mut client,
        &broken_uri,
        "package acme.broken\n\nlet x: int = \"text\"\n",
    );
    let reopened = client.diagnostics(&broken_uri, |p| {
        p["version"] == 1 && p["diagnostics"] != json!([])
    });
    assert_eq!(reopened["diagnostics"][0]["code"], "pol::type::mismatch");
    client.notify(
        "textDocument/didClose",
        json!({ "textDocument": { "uri": broken_uri } }),
    );
    client.diagnostics(&broken_uri, |p| p["diagnostics"] == json!([]));

    // No values in the notification: the server asks for the `pol`
    // section.
    client.answers.insert(
        "workspace/configuration".into(),
        json!([{ "lens": { "enable": false }, "diagnostics": { "workspace": true } }]),
    );
    client.notify(
        "workspace/didChangeConfiguration",
        json!({ "settings": null }),
    );
    let asked = client.server_request("workspace/configuration");
    assert_eq!(asked["params"]["items"], json!([{ "section": "pol" }]));
    let back = client.diagnostics(&broken_uri, |p| p["diagnostics"] != json!([]));
    assert_eq!(back["diagnostics"][0]["code"], "pol::type::mismatch");
    client.server_request("workspace/codeLens/refresh");
    assert_eq!(lens_lines(&mut client, &agent_uri), Vec::<String>::new());

    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn semantic_tokens_by_range_and_by_delta() {
    let (root, mut client) = started(json!({}), Value::Null);
    // The legend the editing-session test snapshots with `initialize`.
    let legend: Vec<Value> = [
        "keyword",
        "type",
        "struct",
        "enum",
        "enumMember",
        "property",
        "function",
        "method",
        "variable",
        "parameter",
        "namespace",
        "string",
        "number",
        "comment",
        "operator",
        "decorator",
    ]
    .map(|t| json!(t))
    .to_vec();
    let agent_path = root.join("app/agent.pol");
    let agent_uri = uri_of(&agent_path);
    let agent = std::fs::read_to_string(&agent_path).expect("read");
    open(&mut client, &agent_uri, &agent);
    let doc = json!({ "textDocument": { "uri": agent_uri } });
    let full = client.request("textDocument/semanticTokens/full", doc.clone());
    let data = |v: &Value| v["data"].as_array().cloned().unwrap_or_default();
    let all = decode_tokens(&data(&full), &legend);
    let first_id = full["resultId"].as_str().expect("a result id").to_string();

    // A range: the tokens of its lines, as the whole document has them.
    let mut params = doc.clone();
    params["range"] =
        json!({ "start": { "line": 7, "character": 0 }, "end": { "line": 9, "character": 0 } });
    let ranged = client.request("textDocument/semanticTokens/range", params);
    let expected: Vec<String> = all
        .iter()
        .filter(|t| t.starts_with("7:") || t.starts_with("8:"))
        .cloned()
        .collect();
    assert!(expected.len() > 5, "{all:?}");
    assert_eq!(decode_tokens(&data(&ranged), &legend), expected);

    // An edit, then a delta from the first result: applying its edits to
    // the first result's data gives the new tokens.
    let at = position(&agent, "d.denied", 0, 0);
    let end = json!({ "line": at["line"], "character": at["character"].as_u64().unwrap_or(0) + 1 });
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": agent_uri, "version": 2 },
            "contentChanges": [{ "range": { "start": at, "end": end }, "text": "c.tool == \"x\" or d" }],
        }),
    );
    // (Requests see the edits sent before them.)
    let mut params = doc.clone();
    params["previousResultId"] = json!(first_id);
    let delta = client.request("textDocument/semanticTokens/full/delta", params);
    let edits = delta["edits"].as_array().cloned().expect("edits");
    assert_eq!(edits.len(), 1, "{delta}");
    let mut numbers = data(&full);
    for edit in edits.iter().rev() {
        let start = edit["start"].as_u64().unwrap_or(0) as usize;
        let deleted = edit["deleteCount"].as_u64().unwrap_or(0) as usize;
        let inserted = edit["data"].as_array().cloned().unwrap_or_default();
        numbers.splice(start..start + deleted, inserted);
    }
    let fresh = client.request("textDocument/semanticTokens/full", doc.clone());
    assert_eq!(numbers, data(&fresh));
    assert!(
        (edits[0]["data"].as_array().map_or(0, Vec::len)) < data(&fresh).len() / 4,
        "the delta is small: {delta}"
    );
    // Nothing changed since the last result: no edits. An unknown
    // previous id: all the tokens.
    let mut params = doc.clone();
    params["previousResultId"] = fresh["resultId"].clone();
    let same = client.request("textDocument/semanticTokens/full/delta", params);
    assert_eq!(same["edits"], json!([]), "{same}");
    let mut params = doc;
    params["previousResultId"] = json!("no such result");
    let unknown = client.request("textDocument/semanticTokens/full/delta", params);
    assert_eq!(unknown["data"], fresh["data"]);

    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn range_formatting_formats_only_the_items_in_the_range() {
    let (root, mut client) = started(json!({}), Value::Null);
    let messy_path = root.join("messy.pol");
    let messy_uri = uri_of(&messy_path);
    let messy = std::fs::read_to_string(&messy_path).expect("read");
    open(&mut client, &messy_uri, &messy);
    let range_format = |client: &mut Client, start: u32, end: u32| {
        client.request(
            "textDocument/rangeFormatting",
            json!({
                "textDocument": { "uri": messy_uri },
                "range": { "start": { "line": start, "character": 0 }, "end": { "line": end, "character": 3 } },
                "options": { "tabSize": 2, "insertSpaces": true },
            }),
        )
    };
    // Lines 1-2 are the schema: it is formatted, the policy is left as is.
    let edits = range_format(&mut client, 1, 2);
    let formatted = apply_edits(&messy, edits.as_array().map(Vec::as_slice).unwrap_or(&[]));
    insta::assert_snapshot!("range_formatting", formatted);
    assert!(
        formatted.contains("policy   short( i:Input )->Decision{"),
        "{formatted}"
    );
    assert_eq!(
        pol_fmt_format(&formatted),
        pol_fmt_format(&messy),
        "formatting the rest gives the whole file's layout"
    );
    // A range over everything is the whole document's edit.
    let everything = range_format(&mut client, 0, 9);
    let whole = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": messy_uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(everything, whole);

    // A file that does not parse is left alone, with a warning.
    let broken = format!("{messy}\npolicy broken( -> {{\n");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": messy_uri, "version": 2 }, "contentChanges": [{ "text": broken }] }),
    );
    let refused = range_format(&mut client, 1, 2);
    assert_eq!(refused, Value::Null);
    let warning = client.notification("window/showMessage", |_| true);
    assert_eq!(warning["type"], 2, "{warning}");
    assert!(
        warning["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("cannot format: ")),
        "{warning}"
    );

    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn a_lone_carriage_return_ends_a_line() {
    let (root, mut client) = started(json!({}), Value::Null);
    // The policy's lines end with a lone `\r` (old Mac line ends); the
    // items are still split by `\n`.
    let text = "package acme.cr\n\nschema S { name: string }\n\npolicy p(s: S) -> Decision {\r  deny \"x\" when s.nme == \"a\"\r  default allow \"ok\"\r}\n";
    let uri = uri_of(&root.join("cr.pol"));
    open(&mut client, &uri, text);
    // The misspelled field is on line 5, not at a far column of line 4.
    let broken = client.diagnostics(&uri, |p| p["version"] == 1);
    assert_eq!(
        broken["diagnostics"][0]["range"],
        json!({ "start": { "line": 5, "character": 18 }, "end": { "line": 5, "character": 21 } }),
        "{broken}"
    );
    // Positions from the client: hover and an edit on line 5.
    let hover = client.request(
        "textDocument/hover",
        doc_position(&uri, json!({ "line": 5, "character": 16 })),
    );
    assert!(
        hover["contents"]["value"]
            .as_str()
            .is_some_and(|v| v.contains('S')),
        "{hover}"
    );
    assert_eq!(
        hover["range"]["start"],
        json!({ "line": 5, "character": 16 })
    );
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": uri, "version": 2 },
            "contentChanges": [{
                "range": { "start": { "line": 5, "character": 18 }, "end": { "line": 5, "character": 21 } },
                "text": "name",
            }],
        }),
    );
    let fixed = client.diagnostics(&uri, |p| p["version"] == 2);
    assert_eq!(fixed["diagnostics"], json!([]), "{fixed}");
    // The lines after the lone `\r`s keep their positions in symbols.
    let symbols = client.request(
        "textDocument/documentSymbol",
        json!({ "textDocument": { "uri": uri } }),
    );
    let policy = symbols
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == "p"))
        .cloned()
        .expect("the policy");
    assert_eq!(
        policy["range"]["end"],
        json!({ "line": 7, "character": 1 }),
        "{policy}"
    );

    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn an_edit_outside_the_document_desyncs_it_until_the_whole_text_comes() {
    let (root, mut client) = started(json!({}), Value::Null);
    let agent_path = root.join("app/agent.pol");
    let agent_uri = uri_of(&agent_path);
    let agent = std::fs::read_to_string(&agent_path).expect("read");
    open(&mut client, &agent_uri, &agent);
    client.diagnostics(&agent_uri, |p| p["version"] == 1);
    let policy_names = |client: &mut Client| -> Vec<String> {
        let symbols = client.request(
            "textDocument/documentSymbol",
            json!({ "textDocument": { "uri": agent_uri } }),
        );
        symbols
            .as_array()
            .into_iter()
            .flatten()
            .filter(|s| s["kind"] == 12)
            .filter_map(|s| s["name"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(policy_names(&mut client), ["gate"]);
    let gate = position(&agent, "gate(", 0, 0);
    let gate_end =
        json!({ "line": gate["line"], "character": gate["character"].as_u64().unwrap_or(0) + 4 });

    // A batch whose second change is on line 99 of a 17-line file: the
    // whole batch is refused (the first change too), with a warning.
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": agent_uri, "version": 2 },
            "contentChanges": [
                { "range": { "start": gate, "end": gate_end }, "text": "first" },
                { "range": { "start": { "line": 99, "character": 0 }, "end": { "line": 99, "character": 1 } }, "text": "x" },
            ],
        }),
    );
    let warning = client.notification("window/logMessage", |p| p["type"] == 2);
    assert_eq!(
        client.normalize(&warning["message"]),
        "\"pol-lsp: an edit of <ws>/app/agent.pol (version 2) was refused: the range 99:0-99:1 is outside the document (18 lines); the server kept the text of version 1 and ignores further incremental edits of this file until the editor sends its whole text (close and reopen the file)\""
    );
    assert_eq!(policy_names(&mut client), ["gate"]);
    // Later incremental edits are ignored: they were made against a text
    // the server does not have.
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": agent_uri, "version": 3 },
            "contentChanges": [{ "range": { "start": gate, "end": gate_end }, "text": "second" }],
        }),
    );
    let ignored = client.notification("window/logMessage", |p| p["type"] == 2);
    assert!(
        ignored["message"]
            .as_str()
            .is_some_and(|m| m.contains("ignored 1 incremental edit(s)")),
        "{ignored}"
    );
    assert_eq!(policy_names(&mut client), ["gate"]);
    // The whole text brings it back in sync.
    let renamed = agent.replace("gate", "resynced");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": agent_uri, "version": 4 }, "contentChanges": [{ "text": renamed }] }),
    );
    let info = client.notification("window/logMessage", |p| p["type"] == 3);
    assert_eq!(
        client.normalize(&info["message"]),
        "\"pol-lsp: <ws>/app/agent.pol is in sync again (version 4)\""
    );
    assert_eq!(policy_names(&mut client), ["resynced"]);
    // And incremental edits apply again.
    let at = position(&renamed, "resynced(", 0, 0);
    let at_end =
        json!({ "line": at["line"], "character": at["character"].as_u64().unwrap_or(0) + 8 });
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": { "uri": agent_uri, "version": 5 },
            "contentChanges": [{ "range": { "start": at, "end": at_end }, "text": "again" }],
        }),
    );
    assert_eq!(policy_names(&mut client), ["again"]);

    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = std::fs::remove_dir_all(&root);
}
