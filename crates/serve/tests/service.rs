//! `flowc serve` end to end: the real server on loopback, over SQLite and (with
//! `FLOWC_TEST_POSTGRES`) PostgreSQL.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::*;

fn tokens(world: &World) -> BTreeMap<&'static str, String> {
    PEOPLE.iter().map(|person| (*person, world.token(person))).collect()
}

/// The README's three calls: create a claim, approve it, list an inbox.
/// Eight clients creating and submitting claims until `stop`, spread over
/// `addresses`; every answered step goes into `acknowledged` as (request,
/// steps it has then). A client stops at its first failed call.
fn load_clients(
    addresses: &[String],
    token: &str,
    acknowledged: &Arc<Mutex<Vec<(i64, usize)>>>,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..8)
        .map(|index| {
            let address = addresses[index % addresses.len()].clone();
            let token = token.to_owned();
            let acknowledged = acknowledged.clone();
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok(answer) = std::panic::catch_unwind(|| {
                        call(&address, "POST", "/requests", Some(&token), Some(&claim()), &[])
                    }) else {
                        break;
                    };
                    if answer.status != 201 {
                        break;
                    }
                    let id = answer.json()["id"].as_i64().unwrap();
                    acknowledged.lock().unwrap().push((id, 1));
                    let path = format!("/requests/{id}/actions");
                    let Ok(answer) = std::panic::catch_unwind(|| {
                        call(&address, "POST", &path, Some(&token), Some(r#"{"do":"submit"}"#), &[])
                    }) else {
                        break;
                    };
                    if answer.status != 200 {
                        break;
                    }
                    acknowledged.lock().unwrap().push((id, 2));
                }
            })
        })
        .collect()
}

/// Every acknowledged request is on `server`, with at least the steps acknowledged.
fn assert_acknowledged_kept(server: &Server, token: &str, acknowledged: &[(i64, usize)], what: &str) {
    let mut steps_of: BTreeMap<i64, usize> = BTreeMap::new();
    for (id, steps) in acknowledged {
        let entry = steps_of.entry(*id).or_default();
        *entry = (*entry).max(*steps);
    }
    for (id, steps) in &steps_of {
        let log = server.call("GET", &format!("/requests/{id}/log"), Some(token), None);
        assert_eq!(log.status, 200, "{what}: acknowledged request {id} is missing");
        assert!(log.json()["steps"].as_array().unwrap().len() >= *steps, "{what}: request {id} lost a step");
    }
}

#[test]
fn create_approve_inbox() {
    for backend in backends() {
        let world = World::new(&backend);
        let tokens = tokens(&world);
        let server = world.start();
        let id = create_claim(&server, &tokens[CREATOR]);
        let created = server.call("GET", &format!("/requests/{id}"), Some(&tokens[CREATOR]), None).json();
        assert_eq!(created["request"]["node"], "填写申请", "{backend:?}");
        let submitted = server.call(
            "POST",
            &format!("/requests/{id}/actions"),
            Some(&tokens[CREATOR]),
            Some(r#"{"do":"submit","opinion":"请审批"}"#),
        );
        assert_eq!(submitted.status, 200, "{}", submitted.body);
        let inbox = server.call("GET", "/inbox", Some(&tokens[MANAGER]), None).json();
        assert_eq!(inbox["requests"][0]["id"], id, "{backend:?}: {inbox}");
        assert_eq!(inbox["requests"][0]["node"], "部门审批");
        let approved = server.call(
            "POST",
            &format!("/requests/{id}/actions"),
            Some(&tokens[MANAGER]),
            Some(r#"{"do":"submit","opinion":"同意"}"#),
        );
        assert_eq!(approved.status, 200, "{}", approved.body);
        let step = approved.json();
        // The answer is `flowc run --format json`'s document for the one action.
        assert_eq!(step["steps"][0]["by"], MANAGER);
        assert_eq!(step["steps"][0]["from"], "部门审批");
        assert_eq!(step["resumed"]["node"], "部门审批");
        assert!(server.call("GET", "/inbox", Some(&tokens[MANAGER]), None).json()["requests"]
            .as_array()
            .unwrap()
            .is_empty());
        let done = server.call("GET", "/done", Some(&tokens[MANAGER]), None).json();
        assert_eq!(done["requests"][0]["id"], id);
        let mine = server.call("GET", "/mine", Some(&tokens[CREATOR]), None).json();
        assert_eq!(mine["requests"][0]["id"], id);
        let log = server.call("GET", &format!("/requests/{id}/log"), Some(&tokens[CREATOR]), None).json();
        assert_eq!(log["steps"].as_array().unwrap().len(), 3, "{log}");
    }
}

/// A runtime refusal is the R0xxx error `flowc run` gives, with HTTP 422.
#[test]
fn refusals_carry_the_runtime_code() {
    for backend in backends() {
        let world = World::new(&backend);
        let tokens = tokens(&world);
        let server = world.start();
        let id = create_claim(&server, &tokens[CREATOR]);
        // The manager is not an operator of 填写申请.
        let refused =
            server.call("POST", &format!("/requests/{id}/actions"), Some(&tokens[CREATOR]), Some(r#"{"do":"reject"}"#));
        assert_eq!(refused.status, 422, "{}", refused.body);
        let document = refused.json();
        assert_eq!(document["status"], "refused");
        assert!(document["error"]["code"].as_str().unwrap().starts_with('R'), "{document}");
        assert!(!document["error"]["message"].as_str().unwrap().is_empty());
        // A form the workflow refuses is refused at creation, with its code too.
        let bad =
            server.call("POST", "/requests", Some(&tokens[CREATOR]), Some(r#"{"workflow":"没有这个流程","form":{}}"#));
        assert_eq!(bad.status, 422, "{}", bad.body);
        assert!(bad.json()["error"]["code"].as_str().unwrap().starts_with('R'));
        // Not JSON, unknown members, an oversized body: JSON errors too.
        let garbage = server.call("POST", &format!("/requests/{id}/actions"), Some(&tokens[CREATOR]), Some("{"));
        assert_eq!(garbage.status, 400);
        assert_eq!(garbage.json()["status"], "error");
        let unknown = server.call(
            "POST",
            &format!("/requests/{id}/actions"),
            Some(&tokens[CREATOR]),
            Some(r#"{"do":"submit","as":"E0001"}"#),
        );
        assert_eq!(unknown.status, 400);
        let big = format!(r#"{{"do":"comment","opinion":"{}"}}"#, "长".repeat(400_000));
        let too_big = server.call("POST", &format!("/requests/{id}/actions"), Some(&tokens[CREATOR]), Some(&big));
        assert_eq!(too_big.status, 413, "{}", too_big.body);
        assert_eq!(too_big.json()["status"], "error");
        // The server still answers.
        assert_eq!(server.call("GET", "/healthz", None, None).status, 200);
    }
}

/// Every endpoint × a person who may not: refused, and the refusal tells nothing.
#[test]
fn permission_matrix() {
    for backend in backends() {
        let world = World::new(&backend);
        let tokens = tokens(&world);
        let server = world.start();
        let id = create_claim(&server, &tokens[CREATOR]);
        let submitted =
            server.call("POST", &format!("/requests/{id}/actions"), Some(&tokens[CREATOR]), Some(r#"{"do":"submit"}"#));
        assert_eq!(submitted.status, 200);
        let missing = 999_999;
        let not_found = server.call("GET", &format!("/requests/{missing}"), Some(&tokens[OUTSIDER]), None);
        assert_eq!(not_found.status, 404);
        let endpoints: Vec<(&str, String, Option<&str>)> = vec![
            ("GET", format!("/requests/{id}"), None),
            ("GET", format!("/requests/{id}/log"), None),
            ("POST", format!("/requests/{id}/actions"), Some(r#"{"do":"comment","opinion":"看看"}"#)),
            ("POST", format!("/requests/{id}/actions"), Some(r#"{"do":"submit"}"#)),
        ];
        for (method, path, body) in &endpoints {
            // No token, or an unknown one: 401.
            for token in [None, Some("flowc_not-a-token")] {
                let answer = server.call(method, path, token, *body);
                assert_eq!(answer.status, 401, "{method} {path}");
                assert!(!answer.body.contains("冯涛") && !answer.body.contains("部门审批"));
            }
            // A person who may not see it: exactly the answer for a request that does not exist.
            let answer = server.call(method, path, Some(&tokens[OUTSIDER]), *body);
            assert_eq!(answer.status, 404, "{method} {path}: {}", answer.body);
            assert_eq!(answer.body, not_found.body, "{method} {path}");
        }
        for path in ["/inbox", "/done", "/mine", "/cc", "/requests", "/reports"] {
            assert_eq!(server.call("GET", path, None, None).status, 401, "{path}");
        }
        for path in ["/inbox", "/done", "/mine", "/cc"] {
            let list = server.call("GET", path, Some(&tokens[OUTSIDER]), None).json();
            assert!(list["requests"].as_array().unwrap().is_empty(), "{path}: {list}");
        }
        // Search and reports are for administrators.
        for path in ["/requests?workflow=费用报销", "/reports"] {
            let answer = server.call("GET", path, Some(&tokens[CREATOR]), None);
            assert_eq!(answer.status, 403, "{path}");
            assert!(!answer.body.contains("冯涛"));
            assert_eq!(server.call("GET", path, Some(&tokens[ADMIN]), None).status, 200, "{path}");
        }
        let found = server
            .call("GET", "/requests?workflow=费用报销&status=pending&creator=E0123", Some(&tokens[ADMIN]), None)
            .json();
        assert_eq!(found["requests"][0]["id"], id);
        // The administrator sees every request.
        assert_eq!(server.call("GET", &format!("/requests/{id}"), Some(&tokens[ADMIN]), None).status, 200);
        // Forged bodies: acting or creating as someone else.
        let forged = server.call(
            "POST",
            &format!("/requests/{id}/actions"),
            Some(&tokens[CREATOR]),
            Some(r#"{"by":"E0121","do":"submit"}"#),
        );
        assert_eq!(forged.status, 403, "{}", forged.body);
        let forged =
            server.call("POST", "/requests", Some(&tokens[OUTSIDER]), Some(r#"{"creator":"E0123","form":{}}"#));
        assert_eq!(forged.status, 403);
        // The manager may act; the creator's forged attempt changed nothing.
        let log = server.call("GET", &format!("/requests/{id}/log"), Some(&tokens[MANAGER]), None).json();
        assert_eq!(log["steps"].as_array().unwrap().len(), 2);
        // An unknown path: JSON 404.
        let nowhere = server.call("GET", "/nowhere", Some(&tokens[ADMIN]), None);
        assert_eq!(nowhere.status, 404);
        assert_eq!(nowhere.json()["status"], "error");
    }
}

/// A retried action with the same Idempotency-Key is answered, not applied again.
#[test]
fn idempotency_key() {
    for backend in backends() {
        let world = World::new(&backend);
        let tokens = tokens(&world);
        let server = world.start();
        let id = create_claim(&server, &tokens[CREATOR]);
        let path = format!("/requests/{id}/actions");
        let key = [("Idempotency-Key", "claim-1-submit")];
        let first = call(&server.address, "POST", &path, Some(&tokens[CREATOR]), Some(r#"{"do":"submit"}"#), &key);
        assert_eq!(first.status, 200, "{}", first.body);
        let again = call(&server.address, "POST", &path, Some(&tokens[CREATOR]), Some(r#"{"do":"submit"}"#), &key);
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(again.body, first.body);
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        let log = server.call("GET", &format!("/requests/{id}/log"), Some(&tokens[CREATOR]), None).json();
        assert_eq!(log["steps"].as_array().unwrap().len(), 2, "applied once: {log}");
        // Without the key the same action is applied (and refused: the creator is no longer an operator).
        let without = server.call("POST", &path, Some(&tokens[CREATOR]), Some(r#"{"do":"submit"}"#));
        assert_eq!(without.status, 422);
        // The same key for another request is refused.
        let other = create_claim(&server, &tokens[CREATOR]);
        let reused = call(
            &server.address,
            "POST",
            &format!("/requests/{other}/actions"),
            Some(&tokens[CREATOR]),
            Some(r#"{"do":"submit"}"#),
            &key,
        );
        assert_eq!(reused.status, 422);
    }
}

/// 64 clients at once, on one request and on many: per request one submit is accepted, the
/// losers get 409 (or, having read after the winner, the runtime's refusal), nothing accepted is
/// missing, and each final state is the one the accepted action gives.
#[test]
fn concurrent_clients() {
    for backend in backends() {
        let world = World::new(&backend);
        let tokens = tokens(&world);
        let server = world.start();
        let shared = create_claim(&server, &tokens[CREATOR]);
        let own: Vec<i64> = (0..32).map(|_| create_claim(&server, &tokens[CREATOR])).collect();
        let outcomes = Arc::new(Mutex::new(Vec::new()));
        let threads: Vec<_> = (0..64)
            .map(|client| {
                let address = server.address.clone();
                let token = tokens[CREATOR].clone();
                let target = if client < 32 { shared } else { own[client - 32] };
                let outcomes = outcomes.clone();
                std::thread::spawn(move || {
                    let answer = call(
                        &address,
                        "POST",
                        &format!("/requests/{target}/actions"),
                        Some(&token),
                        Some(r#"{"do":"submit"}"#),
                        &[],
                    );
                    outcomes.lock().unwrap().push((target, answer.status));
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let outcomes = outcomes.lock().unwrap().clone();
        for (target, status) in &outcomes {
            assert!(matches!(status, 200 | 409 | 422), "{backend:?}: request {target} answered {status}");
        }
        let accepted = |target: i64| outcomes.iter().filter(|(id, status)| *id == target && *status == 200).count();
        assert_eq!(accepted(shared), 1, "{backend:?}: {outcomes:?}");
        for target in std::iter::once(shared).chain(own.iter().copied()) {
            assert_eq!(accepted(target), 1, "{backend:?}: request {target}");
            let view = server.call("GET", &format!("/requests/{target}"), Some(&tokens[CREATOR]), None).json();
            assert_eq!(view["request"]["node"], "部门审批");
            let log = server.call("GET", &format!("/requests/{target}/log"), Some(&tokens[CREATOR]), None).json();
            let steps = log["steps"].as_array().unwrap();
            assert_eq!(steps.len(), 2, "{backend:?}: one creation, one submit: {log}");
            assert_eq!(view["request"]["log"].as_array().unwrap().len(), steps.len());
        }
        let conflicts = outcomes.iter().filter(|(_, status)| *status == 409).count();
        eprintln!("{backend:?}: {conflicts} of 31 losers got 409, the rest read after the winner");
    }
}

/// kill -9 in the middle of a load: after a restart every acknowledged action is there and no
/// request is half written.
#[test]
fn crash_loses_nothing_acknowledged() {
    for backend in backends() {
        let world = World::new(&backend);
        let tokens = tokens(&world);
        let mut server = world.start();
        let acknowledged = Arc::new(Mutex::new(Vec::<(i64, usize)>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let threads = load_clients(&[server.address.clone()], &tokens[CREATOR], &acknowledged, &stop);
        std::thread::sleep(std::time::Duration::from_millis(1500));
        server.kill();
        stop.store(true, Ordering::SeqCst);
        for thread in threads {
            let _ = thread.join();
        }
        let acknowledged = acknowledged.lock().unwrap().clone();
        assert!(acknowledged.len() > 10, "the load ran: {}", acknowledged.len());
        let server = world.start();
        assert_acknowledged_kept(&server, &tokens[CREATOR], &acknowledged, &format!("{backend:?}"));
        // Nothing half written: every stored request's state and steps agree.
        let all = server.call("GET", "/requests?limit=1000", Some(&tokens[ADMIN]), None).json();
        for summary in all["requests"].as_array().unwrap() {
            let id = summary["id"].as_i64().unwrap();
            let view = server.call("GET", &format!("/requests/{id}"), Some(&tokens[ADMIN]), None).json();
            let log = server.call("GET", &format!("/requests/{id}/log"), Some(&tokens[ADMIN]), None).json();
            assert_eq!(
                view["request"]["log"].as_array().unwrap().len(),
                log["steps"].as_array().unwrap().len(),
                "request {id}"
            );
        }
    }
}

/// A database left at an older schema is brought up to date at start.
#[test]
fn migrations_apply_at_start() {
    for backend in backends() {
        let world = World::new(&backend);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let pool = flowc_serve::db::connect(&world.db, 1).await.unwrap();
            flowc_serve::db::migrate(&pool, 1).await.unwrap();
            assert_eq!(flowc_serve::db::schema_version(&pool).await.unwrap(), 1);
            pool.close().await;
        });
        let server = world.start();
        let health = server.call("GET", "/healthz", None, None).json();
        assert_eq!(health["schema"].as_i64(), Some(flowc_serve::db::MIGRATIONS.len() as i64), "{health}");
    }
}

/// A database upgraded past migration 4 (request ids from a sequence on PostgreSQL) goes on
/// after the ids drawn before it: the next request's id is the old counter's next.
#[test]
fn request_ids_go_on_after_an_upgrade() {
    for backend in backends() {
        let world = World::new(&backend);
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let pool = flowc_serve::db::connect(&world.db, 1).await.unwrap();
            flowc_serve::db::migrate(&pool, 3).await.unwrap();
            // As if 41 requests had been created under the schema of migration 3.
            sqlx::query("INSERT INTO counters (name, value) VALUES ('request', 41)").execute(&pool).await.unwrap();
            pool.close().await;
        });
        let tokens = tokens(&world);
        let server = world.start();
        assert_eq!(create_claim(&server, &tokens[CREATOR]), 42, "{backend:?}");
        assert_eq!(create_claim(&server, &tokens[CREATOR]), 43, "{backend:?}");
    }
}

/// A folder whose workflow does not check: the server refuses to start, with the diagnostics.
#[test]
fn refuses_a_program_with_errors() {
    let world = World::new(&Backend::Sqlite);
    let flow = world.folder.join("expense.flow");
    let text = std::fs::read_to_string(&flow).unwrap();
    std::fs::write(&flow, text.replacen("workflow ", "workflow 1", 1)).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flowc-serve"))
        .arg("serve")
        .arg(&world.folder)
        .args(["--listen", "127.0.0.1:0"])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("expected a name after `workflow`"), "{stderr}");
    assert!(stderr.contains("serve stopped"), "{stderr}");
}

/// /metrics, /openapi.json and the reports answer with what they promise.
#[test]
fn metrics_openapi_reports() {
    let world = World::new(&Backend::Sqlite);
    let tokens = tokens(&world);
    let server = world.start();
    let id = create_claim(&server, &tokens[CREATOR]);
    server.call("POST", &format!("/requests/{id}/actions"), Some(&tokens[CREATOR]), Some(r#"{"do":"submit"}"#));
    let metrics = server.call("GET", "/metrics", None, None);
    assert!(metrics.body.contains("flowc_requests{workflow=\"费用报销\",status=\"pending\"} 1"), "{}", metrics.body);
    assert!(
        metrics.body.contains("flowc_action_seconds_count{workflow=\"费用报销\",action=\"submit\",outcome=\"ok\"} 1"),
        "{}",
        metrics.body
    );
    let openapi = server.call("GET", "/openapi.json", None, None).json();
    assert_eq!(openapi["openapi"].as_str().map(|version| version.starts_with("3.")), Some(true));
    for path in [
        "/requests",
        "/requests/{id}",
        "/requests/{id}/actions",
        "/requests/{id}/log",
        "/inbox",
        "/done",
        "/mine",
        "/cc",
        "/reports",
        "/outbox",
        "/healthz",
        "/metrics",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path} is not described");
    }
    let report = server.call("GET", "/reports", Some(&tokens[ADMIN]), None).json();
    assert_eq!(report["workflows"][0]["workflow"], "费用报销");
    assert_eq!(report["workflows"][0]["created"], 1);
    assert_eq!(report["handlers"][0]["person"], CREATOR);
    assert_eq!(report["nodes"][0]["node"], "填写申请");
    assert_eq!(report["waiting"][0]["id"], id);
    let printed = std::process::Command::new(env!("CARGO_BIN_EXE_flowc-serve"))
        .args(["report", "--db", &world.db, "--format", "json"])
        .output()
        .unwrap();
    assert!(printed.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(printed["workflows"], report["workflows"]);
}

/// A new version of the workflows: open requests stay on the version they were created on
/// until `flowc serve --migrate` moves them, each replayed under the new one; a request whose
/// log no longer replays stays on its version (and goes on under it).
#[test]
fn migrate_moves_open_requests_to_the_new_version() {
    for backend in backends() {
        let world = World::new(&backend);
        let tokens = tokens(&world);
        let server = world.start();
        let open = create_claim(&server, &tokens[CREATOR]);
        let submitted = create_claim(&server, &tokens[CREATOR]);
        let answer = server.call(
            "POST",
            &format!("/requests/{submitted}/actions"),
            Some(&tokens[CREATOR]),
            Some(r#"{"do":"submit"}"#),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        drop(server);
        let title = |server: &Server, id: i64| {
            let view = server.call("GET", &format!("/requests/{id}"), Some(&tokens[ADMIN]), None);
            assert_eq!(view.status, 200, "{}", view.body);
            view.json()["request"]["title"].as_str().unwrap_or_default().to_owned()
        };
        // Version 2 words the title differently.
        let flow = world.folder.join("expense.flow");
        let text = std::fs::read_to_string(&flow).unwrap();
        std::fs::write(&flow, text.replace("的费用报销 {日期}", "的报销单 {日期}")).unwrap();

        let server = world.start();
        assert!(title(&server, open).contains("的费用报销"), "without --migrate a request keeps its version");
        drop(server);

        let server = Server::start(&world.folder, &world.db, &["--migrate"]);
        assert!(title(&server, open).contains("的报销单"), "moved: {}", title(&server, open));
        assert!(title(&server, submitted).contains("的报销单"), "moved: {}", title(&server, submitted));
        // The moved request goes on under the new version.
        let answer = server.call(
            "POST",
            &format!("/requests/{open}/actions"),
            Some(&tokens[CREATOR]),
            Some(r#"{"do":"submit"}"#),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
}

/// `--identity-header`: a trusted proxy names the person; only when configured, and only
/// people of the directory. Without the option the header means nothing.
#[test]
fn identity_header_only_when_configured() {
    let world = World::new(&Backend::Sqlite);
    let tokens = tokens(&world);
    let plain = world.start();
    let inbox = |server: &Server, headers: &[(&str, &str)]| call(&server.address, "GET", "/inbox", None, None, headers);
    assert_eq!(inbox(&plain, &[("X-Employee-Id", MANAGER)]).status, 401, "the header is ignored unless configured");
    let id = create_claim(&plain, &tokens[CREATOR]);
    drop(plain);

    let proxied = Server::start(&world.folder, &world.db, &["--identity-header", "X-Employee-Id"]);
    let answer = call(
        &proxied.address,
        "POST",
        &format!("/requests/{id}/actions"),
        None,
        Some(r#"{"do":"submit"}"#),
        &[("X-Employee-Id", CREATOR)],
    );
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = inbox(&proxied, &[("X-Employee-Id", MANAGER)]);
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(answer.body.contains(&format!("\"id\":{id}")), "the manager's inbox: {}", answer.body);
    assert_eq!(inbox(&proxied, &[("X-Employee-Id", "NOBODY")]).status, 401);
    // Tokens keep working beside it.
    assert_eq!(proxied.call("GET", "/inbox", Some(&tokens[MANAGER]), None).status, 200);
}

/// PostgreSQL: two servers share one database; one is killed (SIGKILL) in the middle of a load
/// on both. The other keeps answering, and every action either server acknowledged is there.
#[test]
fn one_of_two_servers_killed_loses_nothing() {
    for backend in backends().into_iter().filter(|backend| matches!(backend, Backend::Postgres(_))) {
        let world = World::new(&backend);
        let tokens = tokens(&world);
        let mut first = world.start();
        let second = world.start();
        let acknowledged = Arc::new(Mutex::new(Vec::<(i64, usize)>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let addresses = [first.address.clone(), second.address.clone()];
        let threads = load_clients(&addresses, &tokens[CREATOR], &acknowledged, &stop);
        std::thread::sleep(std::time::Duration::from_millis(1000));
        first.kill();
        let at_kill = acknowledged.lock().unwrap().len();
        std::thread::sleep(std::time::Duration::from_millis(700));
        stop.store(true, Ordering::SeqCst);
        for thread in threads {
            let _ = thread.join();
        }
        let acknowledged = acknowledged.lock().unwrap().clone();
        assert!(acknowledged.len() > at_kill, "the surviving server kept answering");
        assert_acknowledged_kept(&second, &tokens[CREATOR], &acknowledged, "the surviving server");
    }
}
