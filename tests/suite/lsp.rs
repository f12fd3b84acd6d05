//! The real `flowc lsp` binary, spoken to over stdio with JSON-RPC: the
//! answers are snapshot-tested (file URLs replaced by `file:///…/NAME`).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next_id: i64,
    /// Notifications received while waiting for responses.
    notifications: Vec<Value>,
}

impl Client {
    fn start() -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start flowc lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Client { child, stdin, stdout, next_id: 1, notifications: Vec::new() }
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn receive(&mut self) -> Value {
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            self.stdout.read_line(&mut line).expect("read header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length: ") {
                length = value.parse().expect("length");
            }
        }
        let mut body = vec![0; length];
        self.stdout.read_exact(&mut body).expect("read body");
        serde_json::from_slice(&body).expect("json")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.receive();
            if message.get("id") == Some(&json!(id)) {
                return message;
            }
            self.notifications.push(message);
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next `publishDiagnostics` for `uri`.
    fn diagnostics_for(&mut self, uri: &str) -> Value {
        loop {
            if let Some(position) = self.notifications.iter().position(|message| {
                message["method"] == "textDocument/publishDiagnostics" && message["params"]["uri"] == uri
            }) {
                return self.notifications.remove(position)["params"].clone();
            }
            let message = self.receive();
            self.notifications.push(message);
        }
    }
}

/// A document symbol tree as indented lines: `name — detail`.
fn outline(symbols: &Value, depth: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for symbol in symbols.as_array().into_iter().flatten() {
        let detail = symbol["detail"].as_str().map(|detail| format!(" — {detail}")).unwrap_or_default();
        lines.push(format!("{}{}{detail}", "  ".repeat(depth), symbol["name"].as_str().unwrap_or("?")));
        lines.extend(outline(&symbol["children"], depth + 1));
    }
    lines
}

/// Replaces machine-specific file URLs by `file:///…/NAME`.
fn stable(value: &Value) -> String {
    let text = serde_json::to_string_pretty(value).expect("json");
    let root = url_of(&super::repo_root().to_string_lossy());
    text.replace(&root, "file:///…")
}

fn url_of(path: &str) -> String {
    let canonical = std::fs::canonicalize(path).expect("path");
    format!("file://{}", canonical.display())
}

/// Position (0-based line, UTF-16 column) of the `nth` occurrence of `needle`.
fn position_of(text: &str, needle: &str, nth: usize) -> Value {
    let offset = text.match_indices(needle).nth(nth).map(|(index, _)| index).expect("needle in text");
    let line = text[..offset].matches('\n').count();
    let line_start = text[..offset].rfind('\n').map_or(0, |index| index + 1);
    let character = text[line_start..offset].encode_utf16().count();
    json!({ "line": line, "character": character })
}

#[test]
fn a_session_on_the_expense_example() {
    let path = "examples/expense/expense.flow";
    let text = std::fs::read_to_string(path).expect("example");
    let uri = url_of(path);
    let document = json!({ "uri": uri });
    let mut client = Client::start();

    let initialized = client.request("initialize", json!({ "capabilities": {} }));
    let capabilities = &initialized["result"]["capabilities"];
    for capability in [
        "hoverProvider",
        "definitionProvider",
        "referencesProvider",
        "renameProvider",
        "completionProvider",
        "documentFormattingProvider",
        "semanticTokensProvider",
        "foldingRangeProvider",
        "documentSymbolProvider",
        "codeActionProvider",
    ] {
        assert!(!capabilities[capability].is_null(), "missing {capability}");
    }
    client.notify("initialized", json!({}));

    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "flow", "version": 1, "text": text } }),
    );
    let opened = client.diagnostics_for(&uri);
    assert_eq!(opened["diagnostics"], json!([]), "the example checks clean");

    let mut answers = serde_json::Map::new();
    let at =
        |needle: &str, nth: usize| json!({ "textDocument": document, "position": position_of(&text, needle, nth) });

    // Hover on a field used in a validate rule, on a node, on a built-in and on a member.
    answers
        .insert("hover field 合计".into(), client.request("textDocument/hover", at("合计 > 0", 0))["result"].clone());
    answers.insert(
        "hover node 财务审核".into(),
        client.request("textDocument/hover", at("财务审核 \"财务审核\"", 0))["result"].clone(),
    );
    answers.insert("hover builtin sum".into(), client.request("textDocument/hover", at("sum(", 0))["result"].clone());
    answers.insert(
        "hover member manager".into(),
        client.request("textDocument/hover", at("manager when", 0))["result"].clone(),
    );

    answers.insert(
        "definition of exit target 财务审核".into(),
        client.request(
            "textDocument/definition",
            at("-> 财务审核", 0)
                .as_object()
                .map(|object| {
                    let mut object = object.clone();
                    let mut position = position_of(&text, "-> 财务审核", 0);
                    position["character"] = json!(position["character"].as_u64().unwrap_or(0) + 3);
                    object.insert("position".into(), position);
                    Value::Object(object)
                })
                .expect("params"),
        )["result"]
            .clone(),
    );

    let mut references = at("合计: money", 0);
    references["context"] = json!({ "includeDeclaration": true });
    let found = client.request("textDocument/references", references)["result"].clone();
    assert!(found.as_array().is_some_and(|list| list.len() >= 4), "合计 is used several times: {found}");
    answers.insert("references of 合计".into(), found);

    let mut rename = at("部门审批 \"", 0);
    rename["newName"] = json!("部门经理审批");
    let edit = client.request("textDocument/rename", rename)["result"].clone();
    let edits = edit["changes"][&uri].as_array().map_or(0, Vec::len);
    assert!(edits >= 2, "a node is renamed at its declaration and every exit to it: {edit}");
    answers.insert("rename 部门审批".into(), edit);

    let mut bad_rename = at("部门审批 \"", 0);
    bad_rename["newName"] = json!("exit");
    assert!(client.request("textDocument/rename", bad_rename)["error"].is_object(), "a reserved word is refused");

    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": document }))["result"].clone();
    answers.insert("document symbols (outline)".into(), json!(outline(&symbols, 0)));
    answers.insert(
        "formatting".into(),
        client.request(
            "textDocument/formatting",
            json!({ "textDocument": document, "options": { "tabSize": 2, "insertSpaces": true } }),
        )["result"]
            .clone(),
    );

    // Break an exit target: the diagnostic arrives with its code, its docs
    // link and a quick fix.
    let broken = text.replacen("exit 同意 -> 财务审核", "exit 同意 -> 财务审", 1);
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": broken }] }),
    );
    let diagnostics = client.diagnostics_for(&uri);
    let listed = diagnostics["diagnostics"].as_array().cloned().unwrap_or_default();
    assert_eq!(listed.len(), 1, "one mistake, one diagnostic: {diagnostics}");
    let first = listed[0].clone();
    assert_eq!(first["code"], "E0105", "{diagnostics}");
    assert!(first["codeDescription"]["href"].as_str().is_some_and(|href| href.ends_with("docs/diagnostics/E0105.md")));
    let fixes = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": document, "range": first["range"], "context": { "diagnostics": [first] } }),
    )["result"]
        .clone();
    assert_eq!(fixes[0]["edit"]["changes"][&uri][0]["newText"], "财务审核", "{fixes}");
    answers.insert("diagnostics after breaking an exit target".into(), diagnostics);
    answers.insert("quick fix".into(), fixes);

    // Completion: node names after `->` (typed into the broken line).
    let completing = broken.replacen("exit 同意 -> 财务审", "exit 同意 -> ", 1);
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 3 }, "contentChanges": [{ "text": completing }] }),
    );
    let _ = client.diagnostics_for(&uri);
    let position = position_of(&completing, "exit 同意 -> ", 0);
    let cursor = json!({ "line": position["line"], "character": position["character"].as_u64().unwrap_or(0) + "exit 同意 -> ".encode_utf16().count() as u64 });
    let completion = client.request("textDocument/completion", json!({ "textDocument": document, "position": cursor }))
        ["result"]
        .clone();
    let labels: Vec<String> = completion
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["label"].as_str().unwrap_or("").to_string())
        .collect();
    assert!(labels.contains(&"财务审核".to_string()) && labels.contains(&"归档".to_string()), "{labels:?}");
    answers.insert("completion after ->".into(), json!(labels));

    // Fixed again: diagnostics are cleared.
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 4 }, "contentChanges": [{ "text": text }] }),
    );
    assert_eq!(client.diagnostics_for(&uri)["diagnostics"], json!([]));

    // A request on a position far outside the file answers something sensible.
    let outside = client.request(
        "textDocument/hover",
        json!({ "textDocument": document, "position": { "line": 99999, "character": 5 } }),
    );
    assert!(outside.get("error").is_none(), "{outside}");

    let shutdown = client.request("shutdown", Value::Null);
    assert!(shutdown.get("error").is_none());
    client.notify("exit", Value::Null);
    let status = client.child.wait().expect("exit");
    assert!(status.success());

    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("lsp_session_expense", stable(&Value::Object(answers)));
    });
}
