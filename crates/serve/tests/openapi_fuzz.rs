//! The API fuzzed from its own OpenAPI document: every operation `/openapi.json` describes is
//! called many times with values drawn from its parameters' places — ids that exist and that do
//! not, malformed numbers and dates, bodies mutated from valid ones (wrong types, unknown and
//! missing members, truncated and deeply nested JSON, long and control-character text), good,
//! bad and absent tokens. Whatever is sent: no 5xx, every refusal a JSON document, and the
//! server still answers. (A deterministic generator, so a failure repeats; schemathesis does the
//! same from outside, this needs nothing beyond cargo.)

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use common::*;
use serde_json::{json, Value};

/// A small deterministic generator (the same sequence every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() % items.len()]
    }
    fn chance(&mut self, one_in: usize) -> bool {
        self.next().is_multiple_of(one_in)
    }
}

/// Calls per operation of the document.
const CALLS_PER_OPERATION: usize = 60;

#[test]
fn every_operation_survives_what_is_thrown_at_it() {
    for backend in backends() {
        fuzz(&backend);
    }
}

fn fuzz(backend: &Backend) {
    let world = World::new(backend);
    let tokens: Vec<String> = PEOPLE.iter().map(|person| world.token(person)).collect();
    let server = world.start();
    let existing = create_claim(&server, &tokens[0]);
    let document = server.call("GET", "/openapi.json", None, None).json();
    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.len() >= 10, "the document describes the API");

    let mut random = Lcg(20_261_207);
    let ids = [
        existing.to_string(),
        (existing + 1000).to_string(),
        "0".into(),
        "-1".into(),
        "99999999999999999999999".into(),
        "abc".into(),
        "1.5".into(),
        "%00".into(),
        "%E5%8F%91".into(),
        "1%20OR%201=1".into(),
    ];
    let query_values = [
        "",
        "2026-11-28",
        "2026-13-45",
        "not-a-date",
        "-5",
        "0",
        "100000000000",
        "费用报销",
        "pending",
        "%27%3B--",
        "E0123",
        "a%00b",
    ];
    let mut calls = 0;
    let mut refused = 0;
    for (template, operations) in paths {
        let Some(operations) = operations.as_object() else { continue };
        for (method, operation) in operations {
            let method = method.to_uppercase();
            let parameters: Vec<Value> = operation["parameters"].as_array().cloned().unwrap_or_default();
            for _ in 0..CALLS_PER_OPERATION {
                let mut path = template.clone();
                let mut query = Vec::new();
                let mut headers: Vec<(String, String)> = Vec::new();
                for parameter in &parameters {
                    let name = parameter["name"].as_str().unwrap_or("x");
                    match parameter["in"].as_str() {
                        Some("path") => {
                            let id = random.pick(&ids).clone();
                            path = path.replace(&format!("{{{name}}}"), &id);
                        }
                        Some("query") if !random.chance(3) => {
                            query.push(format!("{name}={}", random.pick(&query_values)));
                        }
                        Some("header") if !random.chance(2) => {
                            let value = match random.next() % 3 {
                                0 => format!("key-{}", random.next() % 5),
                                1 => "x".repeat(300),
                                _ => "ünïcode".into(),
                            };
                            headers.push((name.to_owned(), value));
                        }
                        _ => {}
                    }
                }
                if random.chance(6) {
                    query.push(format!("unknown={}", random.next()));
                }
                if !query.is_empty() {
                    path = format!("{path}?{}", query.join("&"));
                }
                let token = match random.next() % 6 {
                    0 => None,
                    1 => Some("not-a-token".to_owned()),
                    _ => Some(random.pick(&tokens).clone()),
                };
                let body = if operation.get("requestBody").is_some() || random.chance(5) {
                    Some(body_for(template, &mut random))
                } else {
                    None
                };
                let header_refs: Vec<(&str, &str)> =
                    headers.iter().map(|(name, value)| (name.as_str(), value.as_str())).collect();
                let answer = call(&server.address, &method, &path, token.as_deref(), body.as_deref(), &header_refs);
                calls += 1;
                assert!(
                    (200..500).contains(&answer.status),
                    "{method} {path} answered {} (body {:?}): {}",
                    answer.status,
                    body.as_deref().map(|body| body.chars().take(200).collect::<String>()),
                    answer.body
                );
                if answer.status >= 400 {
                    refused += 1;
                    let refusal: Value = serde_json::from_str(&answer.body).unwrap_or_else(|error| {
                        panic!("{method} {path}: a refusal that is not JSON ({error}): {}", answer.body)
                    });
                    assert!(refusal.is_object(), "{method} {path}: {refusal}");
                }
            }
            // The server still answers after each operation's barrage.
            assert_eq!(server.call("GET", "/healthz", None, None).status, 200, "after {method} {template}");
        }
    }
    // Bodies over the limit are refused before they are read.
    let huge = format!("{{\"form\": {{\"说明\": \"{}\"}}}}", "长".repeat(1_200_000));
    let answer = server.call("POST", "/requests", Some(&tokens[0]), Some(&huge));
    assert_eq!(answer.status, 413, "{}", answer.body);
    assert_eq!(server.call("GET", "/healthz", None, None).status, 200);
    assert!(calls > 500 && refused > 100, "{calls} calls, {refused} refused");
}

/// A body for an operation: a valid one, then mutated.
fn body_for(template: &str, random: &mut Lcg) -> String {
    let valid: Value = if template.ends_with("/actions") {
        let kinds = ["submit", "reject", "comment", "forward", "cc", "withdraw", "supervise", "fly"];
        json!({ "do": random.pick(&kinds), "opinion": "意见", "set": { "天数": 2 }, "to": ["E0122"] })
    } else if template == "/requests" {
        serde_json::from_str(&claim()).expect("claim")
    } else {
        json!({ "now": "2026-11-28T09:00:00+08:00" })
    };
    let mutated = match random.next() % 12 {
        0 => return valid.to_string(),
        1 => return valid.to_string().chars().take(random.next() % 40).collect(),
        2 => return "[".repeat(5000),
        3 => return "\u{0}\u{1}\u{7f}".into(),
        4 => json!(null),
        5 => json!([valid]),
        6 => json!("a string"),
        7 => json!(12345678901234567890_u64),
        _ => mutate_member(valid, random),
    };
    mutated.to_string()
}

/// One member of an object replaced by a value of another kind, removed, or a new one added.
fn mutate_member(mut value: Value, random: &mut Lcg) -> Value {
    let replacements = [
        json!(null),
        json!(-1),
        json!("1e400"),
        json!(1.5e300),
        json!(true),
        json!([]),
        json!({}),
        json!("\u{202e}反转\u{1b}[2J"),
        json!("x".repeat(5000)),
        json!({ "by": "E0001" }),
        json!({ "creator": "E0001" }),
        json!([{ "数量": "abc" }]),
    ];
    let Some(object) = value.as_object_mut() else { return value };
    let keys: Vec<String> = object.keys().cloned().collect();
    match random.next() % 3 {
        0 if !keys.is_empty() => {
            let key = random.pick(&keys).clone();
            object.insert(key, random.pick(&replacements).clone());
        }
        1 if !keys.is_empty() => {
            let key = random.pick(&keys).clone();
            object.remove(&key);
        }
        _ => {
            let name = *random.pick(&["by", "creator", "workflow", "unknown", "node", "request", "at"]);
            object.insert(name.to_owned(), random.pick(&replacements).clone());
        }
    }
    value
}
