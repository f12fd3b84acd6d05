//! Language server latency on a 5,000-line workflow (issue: diagnostics
//! after a one-character edit under 50 ms median, completion under 20 ms),
//! and on a 4,000-line file with an error on every line (a keystroke under
//! 50 ms). In process, through the same entry points the stdio loop uses.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod generate;

use std::sync::Mutex;

use divan::Bencher;
use lsp_server::{Notification, Request};
use serde_json::json;

fn main() {
    divan::main();
}

struct Session {
    server: flowc::lsp::Server,
    uri: lsp_types::Url,
    text: String,
}

/// A server with the generated file open and analysed.
fn session() -> &'static Mutex<Session> {
    static SESSION: std::sync::OnceLock<Mutex<Session>> = std::sync::OnceLock::new();
    SESSION.get_or_init(|| {
        let session = open("flowc-lsp-bench.flow", generate::flow(generate::Size::scale(0.081)));
        assert!(session.1.iter().all(|entry| entry.diagnostics.is_empty()), "the generated file checks clean");
        Mutex::new(session.0)
    })
}

/// A server with a 4,000-line file open whose every line is an unknown
/// name (so every line is a diagnostic with a did-you-mean).
fn broken_session() -> &'static Mutex<Session> {
    static SESSION: std::sync::OnceLock<Mutex<Session>> = std::sync::OnceLock::new();
    SESSION.get_or_init(|| {
        let session = open("flowc-lsp-bench-broken.flow", generate::unknown_names(4000));
        let count: usize = session.1.iter().map(|entry| entry.diagnostics.len()).sum();
        assert_eq!(count, 4000, "one diagnostic a line");
        Mutex::new(session.0)
    })
}

fn open(name: &str, text: String) -> (Session, Vec<lsp_types::PublishDiagnosticsParams>) {
    let lines = text.lines().count();
    eprintln!("lsp bench document {name}: {lines} lines, {} bytes", text.len());
    let path = std::env::temp_dir().join(name);
    let _ = std::fs::write(&path, &text);
    let uri = lsp_types::Url::from_file_path(&path).expect("file url");
    let mut server = flowc::lsp::Server::new();
    let open = json!({ "textDocument": { "uri": uri, "languageId": "flow", "version": 1, "text": text } });
    let published =
        flowc::lsp::handle_notification(&mut server, Notification::new("textDocument/didOpen".into(), open));
    (Session { server, uri, text }, published)
}

/// Where a `-> ` is written about halfway down, as an LSP position just after it.
fn middle_arrow(text: &str) -> serde_json::Value {
    let middle = text.len() / 2;
    let offset = text[middle..].find("-> ").map(|index| middle + index + 3).expect("an exit");
    let line = text[..offset].matches('\n').count();
    let line_start = text[..offset].rfind('\n').map_or(0, |index| index + 1);
    json!({ "line": line, "character": text[line_start..offset].encode_utf16().count() })
}

#[divan::bench(sample_count = 30)]
fn diagnostics_after_one_character_edit(bencher: Bencher) {
    bench_one_character_edits(bencher, session());
}

#[divan::bench(sample_count = 10)]
fn diagnostics_after_one_character_edit_on_a_broken_file(bencher: Bencher) {
    bench_one_character_edits(bencher, broken_session());
}

fn bench_one_character_edits(bencher: Bencher, session: &Mutex<Session>) {
    let mut version = 2;
    bencher.bench_local(|| {
        let mut guard = session.lock().expect("session");
        let Session { server, uri, .. } = &mut *guard;
        // Insert a space at the start of line 10, then take it out again:
        // every iteration is a real edit followed by a full re-check.
        let edit = if version % 2 == 0 {
            json!({ "range": { "start": { "line": 10, "character": 0 }, "end": { "line": 10, "character": 0 } }, "text": " " })
        } else {
            json!({ "range": { "start": { "line": 10, "character": 0 }, "end": { "line": 10, "character": 1 } }, "text": "" })
        };
        let change = json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [edit] });
        version += 1;
        flowc::lsp::handle_notification(server, Notification::new("textDocument/didChange".into(), change))
    });
}

/// Times one request at the `-> ` halfway down the document.
fn bench_request_at_middle_arrow(bencher: Bencher, method: &str) {
    let session = session();
    let mut guard = session.lock().expect("session");
    let position = middle_arrow(&guard.text);
    let Session { server, uri, .. } = &mut *guard;
    let params = json!({ "textDocument": { "uri": uri }, "position": position });
    bencher.bench_local(|| {
        let response = flowc::lsp::handle_request(server, Request::new(1.into(), method.into(), params.clone()));
        assert!(response.error.is_none());
        response
    });
}

#[divan::bench(sample_count = 100)]
fn completion_after_arrow(bencher: Bencher) {
    bench_request_at_middle_arrow(bencher, "textDocument/completion");
}

#[divan::bench(sample_count = 100)]
fn hover_on_an_exit_target(bencher: Bencher) {
    bench_request_at_middle_arrow(bencher, "textDocument/hover");
}
