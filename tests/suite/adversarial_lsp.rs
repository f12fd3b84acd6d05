//! Generated hostile input, seeded so every run sends the same bytes.
//!
//! * `flowc lsp` over stdio gets random bytes and mutated frames (broken
//!   headers, lengths that are not numbers or are huge, bodies that are not
//!   UTF-8, not JSON, nested too deep, not a request); after each, a valid
//!   hover must still be answered, and everything the server sent in between
//!   must be a well-formed JSON-RPC message.
//! * `flowc check` gets random bytes and mutated examples: never a panic, and
//!   an error is always a located message.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

/// splitmix64: small, seedable, the same on every platform.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }

    /// Between `least` and `most` random bytes.
    fn bytes(&mut self, least: usize, most: usize) -> Vec<u8> {
        let length = least + self.below(most + 1 - least);
        // Biased towards the bytes a header is made of, so some noise
        // looks like a header without being one.
        const HEADERISH: &[u8] = b"\r\n: {}\"0123456789abcContent-Length";
        (0..length)
            .map(|_| if self.below(3) == 0 { HEADERISH[self.below(HEADERISH.len())] } else { self.next() as u8 })
            .collect()
    }
}

/// The server's output, read on a thread so a silent server fails the test
/// instead of hanging it.
struct Server {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
}

impl Server {
    fn start() -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowc"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start flowc lsp");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || loop {
            let mut length = None;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                let (name, value) = line.split_once(": ").expect("the server writes `Name: value` headers");
                assert_eq!(name, "Content-Length");
                length = Some(value.parse::<usize>().expect("a length"));
            }
            let mut body = vec![0; length.expect("the server always sends Content-Length")];
            if stdout.read_exact(&mut body).is_err() {
                return;
            }
            let message: Value = serde_json::from_slice(&body).expect("the server writes JSON");
            if sender.send(message).is_err() {
                return;
            }
        });
        Server { child, stdin, messages }
    }

    fn send_bytes(&mut self, bytes: &[u8]) {
        self.stdin.write_all(bytes).expect("the server reads its input");
        self.stdin.flush().expect("flush");
    }

    fn send(&mut self, message: &Value) {
        self.send_bytes(&frame(message.to_string().as_bytes()));
    }

    /// Waits for the answer to request `id`; returns it and the other
    /// messages that came before it.
    fn answer(&mut self, id: i64, context: &str) -> (Value, Vec<Value>) {
        let mut before = Vec::new();
        loop {
            let message = self
                .messages
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no answer to request {id} after {context}"));
            if message["id"] == json!(id) {
                return (message, before);
            }
            before.push(message);
        }
    }
}

fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Every message the server sends is JSON-RPC 2.0: a response with a
/// result or an error (whose code is a number), or a notification.
fn assert_well_formed(message: &Value, context: &str) {
    assert_eq!(message["jsonrpc"], "2.0", "{context}: {message}");
    if message.get("method").is_some() {
        assert_eq!(message["method"], "textDocument/publishDiagnostics", "{context}: {message}");
        return;
    }
    assert!(message.get("id").is_some(), "{context}: a response without an id: {message}");
    match message.get("error") {
        Some(error) => {
            assert!(error["code"].is_i64() && error["message"].is_string(), "{context}: {message}");
        }
        None => assert!(message.get("result").is_some(), "{context}: {message}"),
    }
}

const DOCUMENT: &str = "const 上限 = 100\n\nfn 加倍(x: number) -> number = x * 2\n";

/// One hostile input: random bytes or a mutation of a valid frame.
fn hostile(random: &mut Random, uri: &str) -> (String, Vec<u8>) {
    let hover = json!({ "jsonrpc": "2.0", "id": 1_000_000 + random.below(1000), "method": "textDocument/hover",
        "params": { "textDocument": { "uri": uri }, "position": { "line": 0, "character": random.below(12) } } });
    let change = json!({ "jsonrpc": "2.0", "method": "textDocument/didChange",
        "params": { "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "text": DOCUMENT }] } });
    let valid = if random.below(2) == 0 { hover } else { change }.to_string().into_bytes();
    let length = valid.len();
    match random.below(12) {
        0 => ("random bytes".into(), random.bytes(0, 400)),
        1 => {
            let mut body = valid;
            for _ in 0..1 + random.below(4) {
                let at = random.below(body.len());
                body[at] = random.next() as u8;
            }
            ("bytes of the body replaced".into(), frame(&body))
        }
        2 => ("body cut short, length told".into(), frame(&valid[..random.below(length)])),
        3 => {
            let told = random.below(length);
            let mut out = format!("Content-Length: {told}\r\n\r\n").into_bytes();
            out.extend_from_slice(&valid);
            ("length shorter than the body".into(), out)
        }
        4 => {
            let lengths =
                ["abc", "", "-1", "18446744073709551615", "4000000000", "99999999999", "1e3", "0x10", " 12 3"];
            let told = lengths[random.below(lengths.len())];
            let mut out = format!("Content-Length: {told}\r\n\r\n").into_bytes();
            out.extend_from_slice(&valid);
            (format!("Content-Length: {told}"), out)
        }
        5 => ("a body without a header".into(), valid),
        6 => {
            let mut out = format!("Content-Length: {length}\r\n").into_bytes();
            out.extend_from_slice(&valid);
            ("no blank line after the header".into(), out)
        }
        7 => {
            let depth = 129 + random.below(2000);
            let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            (format!("JSON nested {depth} deep"), frame(body.as_bytes()))
        }
        8 => {
            let mut body = valid;
            let at = random.below(body.len());
            body.insert(at, 0xC0 + random.below(0x40) as u8);
            body.insert(at + 1, 0xFF);
            ("invalid UTF-8 in the body".into(), frame(&body))
        }
        9 => {
            let bodies = [
                "[]",
                "[1,2]",
                "42",
                "\"x\"",
                "null",
                "{}",
                r#"{"id":5}"#,
                r#"{"id":{},"method":"x"}"#,
                r#"{"method":7}"#,
                r#"{"jsonrpc":"2.0","id":99999999999,"method":"textDocument/hover"}"#,
            ];
            let body = bodies[random.below(bodies.len())];
            (format!("JSON that is not a request: {body}"), frame(body.as_bytes()))
        }
        10 => {
            let mut out = random.bytes(0, 40);
            out.extend_from_slice(&frame(&valid));
            ("noise before a valid frame".into(), out)
        }
        _ => {
            // No digits: a length longer than what follows would rightly
            // make the server wait for the rest of the body.
            let noise: Vec<u8> =
                random.bytes(1, 30).into_iter().map(|b| if b.is_ascii_digit() { b'x' } else { b }).collect();
            let mut out = b"Content-Length".to_vec();
            out.extend_from_slice(&noise);
            out.extend_from_slice(b"\r\n\r\n");
            out.extend_from_slice(&valid);
            ("noise in the header".into(), out)
        }
    }
}

#[test]
fn the_language_server_answers_after_every_hostile_frame() {
    let directory = std::env::temp_dir().join(format!("flowc-adversarial-lsp-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temp dir");
    let path = directory.join("doc.flow");
    std::fs::write(&path, DOCUMENT).expect("write");
    let uri = format!("file://{}", path.display());

    let mut server = Server::start();
    server.send(&json!({ "jsonrpc": "2.0", "id": 0, "method": "initialize", "params": { "capabilities": {} } }));
    let (initialized, _) = server.answer(0, "initialize");
    assert!(initialized["result"]["capabilities"].is_object(), "{initialized}");
    server.send(&json!({ "jsonrpc": "2.0", "method": "initialized", "params": {} }));
    server.send(&json!({ "jsonrpc": "2.0", "method": "textDocument/didOpen",
        "params": { "textDocument": { "uri": uri, "languageId": "flow", "version": 1, "text": DOCUMENT } } }));

    let mut random = Random(0x00F1_0C5E_ED00_0008);
    let mut errors = 0;
    for case in 1..=300i64 {
        let (what, bytes) = hostile(&mut random, &uri);
        server.send_bytes(&bytes);
        let context = format!("case {case} ({what})");
        server.send(&json!({ "jsonrpc": "2.0", "id": case, "method": "textDocument/hover",
            "params": { "textDocument": { "uri": uri }, "position": { "line": 2, "character": 4 } } }));
        let (answer, before) = server.answer(case, &context);
        assert_well_formed(&answer, &context);
        assert!(answer.get("error").is_none(), "{context}: the hover itself is answered: {answer}");
        for message in &before {
            assert_well_formed(message, &context);
            if let Some(error) = message.get("error") {
                errors += 1;
                assert!(
                    [-32700, -32600, -32601, -32602].contains(&error["code"].as_i64().unwrap_or(0)),
                    "{context}: {message}"
                );
            }
        }
    }
    assert!(errors > 100, "most hostile frames are answered with an error ({errors})");

    server.send(&json!({ "jsonrpc": "2.0", "id": 9999, "method": "shutdown" }));
    let (shutdown, _) = server.answer(9999, "shutdown");
    assert_eq!(shutdown["result"], Value::Null, "{shutdown}");
    server.send(&json!({ "jsonrpc": "2.0", "method": "exit" }));
    let status = server.child.wait().expect("the server exits");
    assert!(status.success(), "exit after shutdown is status 0: {status}");
    let _ = std::fs::remove_dir_all(&directory);
}

#[test]
fn parse_errors_in_every_state_are_answered_with_id_null() {
    let mut server = Server::start();
    // Before `initialize`, a broken frame is still answered.
    server.send_bytes(b"Content-Length: abc\r\n\r\n{}");
    server.send(&json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": { "capabilities": {} } }));
    let (answer, before) = server.answer(1, "a broken frame before initialize");
    assert!(answer["result"].is_object());
    assert_eq!(before.len(), 1, "{before:?}");
    assert_eq!(before[0]["id"], Value::Null);
    assert_eq!(before[0]["error"]["code"], -32700);

    // A request id that is not an integer or a string is refused with that id.
    server.send(&json!({ "jsonrpc": "2.0", "id": 2.5, "method": "textDocument/hover", "params": {} }));
    server.send(&json!({ "jsonrpc": "2.0", "id": 2, "method": "shutdown" }));
    let (_, before) = server.answer(2, "a fractional id");
    assert_eq!(before[0]["id"], json!(2.5));
    assert_eq!(before[0]["error"]["code"], -32600);

    // After shutdown, requests are refused but answered; `exit` ends the server.
    server.send(&json!({ "jsonrpc": "2.0", "id": 3, "method": "textDocument/hover", "params": {} }));
    let (refused, _) = server.answer(3, "a request after shutdown");
    assert_eq!(refused["error"]["code"], -32600);
    server.send(&json!({ "jsonrpc": "2.0", "method": "exit" }));
    assert!(server.child.wait().expect("exit").success());
}

#[test]
fn exit_without_shutdown_is_status_1() {
    let mut server = Server::start();
    server.send(&json!({ "jsonrpc": "2.0", "method": "exit" }));
    assert_eq!(server.child.wait().expect("exit").code(), Some(1));
}

/// `flowc check` on one file: (status, stderr).
fn check_bytes(directory: &std::path::Path, name: &str, bytes: &[u8]) -> (Option<i32>, String) {
    let path = directory.join(name);
    std::fs::write(&path, bytes).expect("write");
    let output = Command::new(env!("CARGO_BIN_EXE_flowc"))
        .arg("check")
        .arg(&path)
        .env("NO_COLOR", "1")
        .output()
        .expect("run flowc check");
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

/// Some diagnostic names its file, line and column (`name.flow:3:14`).
fn has_located_message(stderr: &str, name: &str) -> bool {
    stderr.match_indices(&format!("{name}:")).any(|(at, found)| {
        let rest = &stderr[at + found.len()..];
        let line: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let column: String =
            rest[line.len()..].strip_prefix(':').unwrap_or("").chars().take_while(char::is_ascii_digit).collect();
        !line.is_empty() && !column.is_empty()
    })
}

#[test]
fn check_on_random_bytes_and_mutated_examples_reports_located_errors() {
    let directory = std::env::temp_dir().join(format!("flowc-adversarial-check-{}", std::process::id()));
    std::fs::create_dir_all(&directory).expect("temp dir");
    let example = std::fs::read("examples/leave/leave.flow").expect("example");
    let mut random = Random(0x00C4_EC4B_7E50_0008);
    for case in 0..40 {
        let name = format!("random{case}.flow");
        let bytes = random.bytes(1, 600);
        let (status, stderr) = check_bytes(&directory, &name, &bytes);
        assert!(matches!(status, Some(1) | Some(2)), "{name}: status {status:?}\n{stderr}");
        assert!(has_located_message(&stderr, &name), "{name}: no located message\n{stderr}");
        assert!(!stderr.contains("panicked"), "{name}\n{stderr}");
    }
    for case in 0..40 {
        let name = format!("mutated{case}.flow");
        let mut bytes = example.clone();
        for _ in 0..1 + random.below(6) {
            let at = random.below(bytes.len());
            match random.below(3) {
                0 => bytes[at] = random.next() as u8,
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, b"{}()\":->.\n"[random.below(10)]),
            }
        }
        let (status, stderr) = check_bytes(&directory, &name, &bytes);
        assert!(matches!(status, Some(0) | Some(1)), "{name}: status {status:?}\n{stderr}");
        if status == Some(1) {
            assert!(has_located_message(&stderr, &name), "{name}: no located message\n{stderr}");
        }
        assert!(!stderr.contains("panicked"), "{name}\n{stderr}");
    }
    let _ = std::fs::remove_dir_all(&directory);
}
