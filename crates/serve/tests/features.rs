//! The runtime's later features through `flowc serve`, over SQLite and (with
//! `FLOWC_TEST_POSTGRES`) PostgreSQL: forks (an action's `node`), deadlines (timers fired by
//! the server, on a clock the test moves) and sub-workflows (a started request is a row of
//! its own, and gives its fields back to the request waiting for it).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::Value;

struct Session<'w> {
    server: Server,
    tokens: BTreeMap<&'w str, String>,
}

impl<'w> Session<'w> {
    fn new(world: &World, people: &[&'w str], now: &str) -> Session<'w> {
        let tokens = people.iter().map(|person| (*person, world.token(person))).collect();
        Session { server: world.start_at(now), tokens }
    }

    fn call(&self, person: &str, method: &str, path: &str, body: Option<&str>) -> Answer {
        self.server.call(method, path, Some(&self.tokens[person]), body)
    }

    fn create(&self, person: &str, body: &str) -> i64 {
        let answer = self.call(person, "POST", "/requests", Some(body));
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.json()["id"].as_i64().unwrap()
    }

    fn act(&self, person: &str, id: i64, body: &str) -> Answer {
        self.call(person, "POST", &format!("/requests/{id}/actions"), Some(body))
    }

    fn ok(&self, person: &str, id: i64, body: &str) -> Value {
        let answer = self.act(person, id, body);
        assert_eq!(answer.status, 200, "{person} {body}: {}", answer.body);
        answer.json()
    }

    fn view(&self, person: &str, id: i64) -> Value {
        let answer = self.call(person, "GET", &format!("/requests/{id}"), None);
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }

    fn inbox(&self, person: &str) -> Vec<i64> {
        let list = self.call(person, "GET", "/inbox", None).json();
        list["requests"].as_array().unwrap().iter().map(|summary| summary["id"].as_i64().unwrap()).collect()
    }

    fn log(&self, person: &str, id: i64) -> Vec<Value> {
        self.call(person, "GET", &format!("/requests/{id}/log"), None).json()["steps"].as_array().unwrap().clone()
    }

    fn set_clock(&self, admin: &str, now: &str, tick: bool) -> Value {
        let body = serde_json::json!({ "now": now, "tick": tick }).to_string();
        let answer = self.call(admin, "POST", "/test/clock", Some(&body));
        assert_eq!(answer.status, 200, "{}", answer.body);
        answer.json()
    }
}

/// tests/data/run/forks over HTTP: after finance, logistics and the warehouse (which forks
/// again) work side by side, everyone pending at any branch sees the request in their inbox,
/// and both roads meet at the merge. A person pending in two branches names the node (R0210
/// without it).
#[test]
fn forks_over_http() {
    for backend in backends() {
        let world = World::of(&backend, "tests/data/run/forks");
        let people = ["E22", "E10", "E21", "E13", "E15", "E16", "E20", "E31", "E01"];
        let session = Session::new(&world, &people, "2026-11-30T09:00:00+08:00");
        let id = session.create("E22", r#"{"workflow":"发货","form":{"客户":"华东客户","需要出库":true}}"#);
        session.ok("E22", id, r#"{"do":"submit"}"#);
        let forked = session.ok("E10", id, r#"{"do":"submit","opinion":"货款已到账"}"#);
        assert!(forked["request"]["nodes"].as_array().unwrap().len() == 2, "{backend:?}: {forked}");
        // Pending at either branch: both see it.
        assert!(session.inbox("E21").contains(&id), "{backend:?}");
        assert!(session.inbox("E13").contains(&id), "{backend:?}");
        session.ok("E21", id, r#"{"do":"submit","set":{"运单号":"SF1001"}}"#);
        // The pending rows are replaced: E21's goes, E13's (still pending) stays.
        assert!(!session.inbox("E21").contains(&id), "{backend:?}");
        assert!(session.inbox("E13").contains(&id), "{backend:?}");
        session.ok("E13", id, r#"{"do":"submit","set":{"出库单号":"CK-7"}}"#);
        assert!(session.inbox("E15").contains(&id) && session.inbox("E16").contains(&id));
        session.ok("E22", id, r#"{"do":"submit"}"#);
        session.ok("E15", id, r#"{"do":"submit","set":{"质检意见":"合格"}}"#);
        let merged = session.ok("E16", id, r#"{"do":"submit","set":{"包装意见":"木箱"}}"#);
        assert_eq!(merged["request"]["node"], "到货确认", "{merged}");
        let done = session.ok("E22", id, r#"{"do":"submit","opinion":"已收货"}"#);
        assert_eq!(done["status"], "archived");
        assert_eq!(done["request"]["form"]["物流经办"], "E21");
        // The urgent road: E31 is pending at both couriers' nodes.
        let urgent = session.create("E22", r#"{"workflow":"发货","form":{"客户":"华东客户","加急":true}}"#);
        session.ok("E22", urgent, r#"{"do":"submit"}"#);
        session.ok("E20", urgent, r#"{"do":"submit"}"#);
        let list = session.call("E31", "GET", "/inbox", None).json();
        assert_eq!(list["requests"][0]["node"], "顺丰派送, 京东派送", "{list}");
        let ambiguous = session.act("E31", urgent, r#"{"do":"submit","set":{"顺丰单号":"SF2002"}}"#);
        assert_eq!(ambiguous.status, 422, "{}", ambiguous.body);
        assert_eq!(ambiguous.json()["error"]["code"], "R0210");
        session.ok("E31", urgent, r#"{"do":"comment","node":"京东派送","opinion":"京东今天不收件"}"#);
        let delivered = session.ok("E31", urgent, r#"{"do":"submit","node":"顺丰派送","set":{"顺丰单号":"SF2001"}}"#);
        assert_eq!(delivered["request"]["node"], "到货确认", "{delivered}");
        assert_eq!(delivered["request"]["pending"], serde_json::json!(["E22"]));
        assert_eq!(session.log("E22", urgent).len(), 5);
    }
}

/// A deadline over HTTP: the reminder and the hand-over happen with nobody acting (the server's
/// timers, on the test's clock); an action refused after timers fell due leaves them fired; a
/// server started late fires what fell due while it was down.
#[test]
fn deadlines_fire_on_schedule() {
    for backend in backends() {
        let world = World::of(&backend, "crates/serve/tests/data/deadline");
        let people = ["E22", "E21", "E10", "E01"];
        let mut session = Session::new(&world, &people, "2026-11-30T09:00:00+08:00");
        let id = session.create("E22", r#"{"workflow":"回访","form":{"客户":"华东电器"}}"#);
        session.ok("E22", id, r#"{"do":"submit"}"#);
        assert_eq!(session.set_clock("E01", "2026-11-30T09:59:00+08:00", true)["fired"], serde_json::json!([]));
        // 10:00: the reminder, by the timer task, with no action.
        let fired = session.set_clock("E01", "2026-11-30T10:00:00+08:00", true);
        assert_eq!(fired["fired"], serde_json::json!([id]), "{backend:?}");
        let view = session.view("E21", id);
        let outbox = view["request"]["outbox"].as_array().unwrap();
        assert_eq!(outbox.len(), 1, "{view}");
        assert_eq!(outbox[0]["to"], serde_json::json!(["E21"]));
        assert_eq!(outbox[0]["channel"], "todo");
        let steps = session.log("E21", id);
        assert_eq!(steps.last().unwrap()["by"], "system");
        assert_eq!(steps.last().unwrap()["do"], "remind");
        let listed = session.call("E01", "GET", &format!("/outbox?request={id}"), None).json();
        assert_eq!(listed["reminders"][0]["to"], serde_json::json!(["E21"]), "{listed}");
        assert_eq!(listed["reminders"][0]["request"], id);
        assert_eq!(session.call("E21", "GET", "/outbox", None).status, 403);
        // 11:00: handed to the finance manager, again with no action.
        session.set_clock("E01", "2026-11-30T11:00:00+08:00", true);
        let view = session.view("E10", id);
        assert_eq!(view["request"]["pending"], serde_json::json!(["E10"]), "{view}");
        assert!(session.inbox("E10").contains(&id));
        assert!(!session.inbox("E21").contains(&id));
        assert_eq!(session.log("E10", id).last().unwrap()["do"], "hand");

        // A second request: its timers fall due, the timer task has not looked yet, and an
        // action is refused: the timers that fired before it stay fired.
        let other = session.create("E22", r#"{"workflow":"回访","form":{"客户":"华南电器"}}"#);
        session.ok("E22", other, r#"{"do":"submit"}"#);
        session.set_clock("E01", "2026-11-30T13:30:00+08:00", false);
        let refused = session.act("E22", other, r#"{"do":"submit"}"#);
        assert_eq!(refused.status, 422, "{}", refused.body);
        let refusal = refused.json();
        assert_eq!(refusal["status"], "refused");
        let fired: Vec<&str> =
            refusal["steps"].as_array().unwrap().iter().map(|step| step["do"].as_str().unwrap()).collect();
        assert_eq!(fired, ["remind", "hand"], "{refusal}");
        let log: Vec<String> =
            session.log("E22", other).iter().map(|step| step["do"].as_str().unwrap().to_owned()).collect();
        assert_eq!(log, ["create", "submit", "remind", "hand"], "{backend:?}");
        assert_eq!(session.view("E10", other)["request"]["pending"], serde_json::json!(["E10"]));
        session.ok("E10", other, r#"{"do":"submit","set":{"回访记录":"客户满意"}}"#);

        // A third, left at 回访 while no server runs: the next server fires its timers at start.
        let third = session.create("E22", r#"{"workflow":"回访","form":{"客户":"西北电器"}}"#);
        session.ok("E22", third, r#"{"do":"submit"}"#);
        session.server.kill();
        session.server = world.start_at("2026-11-30T16:00:00+08:00");
        let view = session.view("E10", third);
        assert_eq!(view["request"]["pending"], serde_json::json!(["E10"]), "{backend:?}: {view}");
        assert_eq!(view["request"]["outbox"].as_array().unwrap().len(), 1);
    }
}

/// examples/shipping over HTTP: the installation request started at 安装跟进 is a request of
/// its own (its id in the step), in its creator's inbox; the shipment's submit is refused while
/// it waits (R0212); archiving the installation resumes the shipment with 安装验收 copied back.
#[test]
fn started_requests_are_rows() {
    for backend in backends() {
        let world = World::of(&backend, "examples/shipping");
        let people = ["E0122", "E0103", "E0231", "E0232", "E0222", "E0001", "T0101"];
        let session = Session::new(&world, &people, "2026-11-30T09:00:00+08:00");
        let mut request: Value =
            serde_json::from_str(&std::fs::read_to_string(world.folder.join("request.json")).unwrap()).unwrap();
        request.as_object_mut().unwrap().remove("creator");
        let id = session.create("E0122", &request.to_string());
        session.ok("E0122", id, r#"{"do":"submit","opinion":"客户货款已付清，请安排发货。"}"#);
        session.ok("E0103", id, r#"{"do":"submit","set":{"到账金额":"193000.00","发货单号":"FH20261120-035"}}"#);
        session.ok("E0231", id, r#"{"do":"submit","set":{"出库单号":"CK-20261121-07","发货日期":"2026-12-01"}}"#);
        session.ok(
            "E0232",
            id,
            r#"{"do":"submit","set":{"物流公司":"德邦","运单号":"DPK202611210017","预计到达":"2026-12-04"}}"#,
        );
        let started = session.ok(
            "E0222",
            id,
            r#"{"do":"submit","set":{"到货日期":"2026-12-04","已签收":true,"装机时间":"2026-12-07T09:00:00+08:00"}}"#,
        );
        let steps = started["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 2, "{started}");
        let child: i64 = steps[0]["started"]["request"].as_str().unwrap().parse().unwrap();
        assert_ne!(child, id);
        assert_eq!(steps[1]["do"], "create");
        assert_eq!(steps[1]["request"], child.to_string());
        // The shipment's state holds no children: they are rows.
        assert!(started["request"].get("children").is_none(), "{started}");
        assert!(session.inbox("E0122").contains(&child), "{backend:?}");
        let installation = session.view("E0122", child);
        assert_eq!(installation["request"]["workflow"], "安装调试");
        assert_eq!(installation["request"]["form"]["发货单号"], "FH20261120-035");
        let waiting = session.act("E0222", id, r#"{"do":"submit"}"#);
        assert_eq!(waiting.status, 422, "{}", waiting.body);
        assert_eq!(waiting.json()["error"]["code"], "R0212");
        session.ok("E0122", child, r#"{"do":"submit","set":{"预计天数":2}}"#);
        session.ok("E0001", child, r#"{"do":"submit","set":{"总经理意见":"同意"}}"#);
        let archived = session.ok(
            "T0101",
            child,
            r#"{"do":"submit","set":{"工作反馈":"主机与探头安装调试完成，试运行4小时数据正常。","验收合格":true}}"#,
        );
        assert_eq!(archived["status"], "archived", "{archived}");
        let steps = archived["steps"].as_array().unwrap();
        assert_eq!(steps.last().unwrap()["do"], "child_archived", "{archived}");
        assert_eq!(steps.last().unwrap()["request"], id.to_string());
        let shipment = session.view("E0222", id);
        assert_eq!(shipment["request"]["form"]["安装验收"], true, "{shipment}");
        assert_eq!(shipment["request"]["form"]["安装反馈"], "主机与探头安装调试完成，试运行4小时数据正常。");
        let done = session.ok("E0222", id, r#"{"do":"submit","opinion":"安装完成，归档。"}"#);
        assert_eq!(done["status"], "archived", "{done}");
        let log: Vec<String> =
            session.log("E0222", id).iter().map(|step| step["do"].as_str().unwrap().to_owned()).collect();
        assert_eq!(log.iter().filter(|action| *action == "child_archived").count(), 1, "{log:?}");
    }
}
