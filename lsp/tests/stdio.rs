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
            if message.get("method").is_some() && message.get("id").is_some() {
                // A request from the server (none expected): answer null.
                let reply = json!({ "jsonrpc": "2.0", "id": message["id"], "result": null });
                self.send(&reply);
                continue;
            }
            self.notifications.push(message);
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
