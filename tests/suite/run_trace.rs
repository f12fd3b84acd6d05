//! What `flowc run` prints beyond one run from a request (the cases in
//! `tests/data/run/trace/` cover the rest): a run resumed from `--state`
//! numbers its steps after the state's and says where it resumed; a folder's
//! `run.toml` fixes the clock; big tables are summarized in the JSON report
//! unless `--all-rows`.

use std::path::{Path, PathBuf};

use serde_json::Value as Json;

use super::flowc;

const EXPENSE: &str = "examples/expense/expense.flow";
const ORG: &str = "examples/expense/org.toml";
const REQUEST: &str = "examples/expense/request.json";
const NOW: &str = "2026-11-28T09:00:00+08:00";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-run-trace-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

fn json(stdout: &str) -> Json {
    serde_json::from_str(stdout).unwrap_or_else(|error| panic!("{error}: {stdout}"))
}

#[test]
fn a_resumed_run_numbers_its_steps_after_the_state_and_says_where_it_resumed() {
    let dir = scratch("resume");
    let actions: Json =
        serde_json::from_str(&std::fs::read_to_string("examples/expense/actions.json").expect("actions"))
            .expect("JSON");
    let all = actions.as_array().expect("a list");
    let first = write(&dir, "first.json", &serde_json::to_string(&all[..4]).expect("JSON"));
    let rest = write(&dir, "rest.json", &serde_json::to_string(&all[4..]).expect("JSON"));
    let state = dir.join("state.json").to_string_lossy().into_owned();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", EXPENSE, "--org", ORG, "--now", NOW];
        args.extend_from_slice(extra);
        flowc(&args)
    };
    let (status, _, stderr) = run(&["--request", REQUEST, "--actions", &first, "--state", &state]);
    assert_eq!(status, 0, "{stderr}");
    let saved = std::fs::read_to_string(&state).expect("the state");

    let (status, stdout, stderr) = run(&["--state", &state, "--actions", &rest]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("\nresumed from the saved state at 财务审核, after step 4\n"), "{stdout}");
    assert!(stdout.contains("\n5. 张晓燕 (E0103) comments on 财务审核\n"), "{stdout}");
    assert!(stdout.contains("\n10. 陈静 (E0104) submits 出纳付款\n"), "{stdout}");
    assert!(!stdout.contains("\n1. "), "no step is numbered from 1 again: {stdout}");
    // The route is the request's whole route, the part before the state included.
    assert!(stdout
        .contains("\nroute: 填写申请 → 部门审批 ↩ 填写申请 → 部门审批 → 财务审核 → 总经理审批 → 出纳付款 → 归档\n"));

    // The same as JSON, from the same saved state.
    std::fs::write(&state, &saved).expect("restore the state");
    let (status, stdout, stderr) = run(&["--state", &state, "--actions", &rest, "--format", "json"]);
    assert_eq!(status, 0, "{stderr}");
    let document = json(&stdout);
    assert_eq!(document["resumed"], serde_json::json!({ "node": "财务审核", "after_step": 4 }));
    assert_eq!(document["steps"][0]["number"], 5);
    assert_eq!(document["route"][0], serde_json::json!({ "node": "填写申请" }));
    assert_eq!(document["route"][2], serde_json::json!({ "node": "填写申请", "return": "退回" }));

    // A refusal names the action and its step in the request's history.
    std::fs::write(&state, &saved).expect("restore the state");
    let stranger = write(&dir, "stranger.json", r#"[{ "by": "E0001", "do": "submit" }]"#);
    let (status, stdout, _) = run(&["--state", &state, "--actions", &stranger]);
    assert_eq!(status, 1);
    assert!(stdout.contains("\nrefused: action 1 (step 5) — nothing it did was kept\n"), "{stdout}");
}

#[test]
fn a_folder_reads_its_clock_from_run_toml_and_now_overrides_it() {
    let (status, stdout, stderr) = flowc(&["run", "examples/expense", "--format", "json"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(json(&stdout)["request"]["log"][0]["time"], NOW);
    assert_eq!(json(&stdout)["request"]["form"]["付款日期"], "2026-11-28");
    let (status, stdout, stderr) =
        flowc(&["run", "examples/expense", "--format", "json", "--now", "2026-12-01T10:00:00+08:00"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(json(&stdout)["request"]["form"]["付款日期"], "2026-12-01");

    // A subfolder's case takes its parent's run.toml, as it takes its .flow and org.toml.
    let (status, stdout, stderr) = flowc(&["run", "examples/aftersales/repair", "--format", "json"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(json(&stdout)["request"]["form"]["出发日期"], "2026-11-28");

    // A run.toml that is wrong stops the run before anything runs (exit 2), naming the file.
    let dir = scratch("run-toml");
    for name in ["leave.flow", "org.toml", "request.json", "actions.json"] {
        std::fs::copy(Path::new("examples/leave").join(name), dir.join(name)).expect("copy the example");
    }
    let folder = dir.to_string_lossy().into_owned();
    for (text, complaint) in [
        ("now = \"tomorrow\"\n", "is not a datetime"),
        ("now = 3\n", "`now` is a datetime"),
        ("nwo = 2026-11-28T09:00:00+08:00\n", "unknown setting `nwo`"),
        ("now = = \n", "run.toml"),
    ] {
        write(&dir, "run.toml", text);
        let (status, stdout, stderr) = flowc(&["run", &folder]);
        assert_eq!(status, 2, "{text}: {stdout}");
        assert!(stderr.contains("run.toml") && stderr.contains(complaint), "{text}: {stderr}");
    }
    write(&dir, "run.toml", "# the clock\nnow = \"2026-11-28 09:00\"\n");
    let (status, stdout, stderr) = flowc(&["run", &folder, "--format", "json"]);
    assert_eq!(status, 0, "{stderr}");
    assert_eq!(json(&stdout)["request"]["log"][0]["time"], NOW);
}

/// The rows of a big table: 数量 cycles 1..=9, 单价 is 1.50.
fn rows_request(rows: usize) -> String {
    let row = |index: usize| format!("{{\"数量\": {}, \"单价\": \"1.50\"}}", index % 9 + 1);
    let rows: Vec<String> = (0..rows).map(row).collect();
    format!("{{\"creator\": \"E1\", \"form\": {{\"明细\": [{}]}}}}", rows.join(","))
}

#[test]
fn big_tables_are_summarized_column_by_column_in_json_unless_all_rows() {
    let dir = scratch("big-table");
    write(
        &dir,
        "rows.flow",
        "form 单 {\n  detail 明细 {\n    数量: int\n    单价: money\n    金额: money = 数量 * 单价\n    备注: text(20)\n  }\n  合计: money = sum(明细.金额)\n}\nworkflow 流程 {\n  form 单\n  node 填写: create {\n    operators { everyone }\n    editable 明细\n    exit 提交 -> 归档\n  }\n  node 归档: archive\n}\n",
    );
    write(&dir, "org.toml", "[[subcompany]]\nid = \"HQ\"\nname = \"总部\"\n\n[[department]]\nid = \"D1\"\nname = \"财务部\"\nsubcompany = \"HQ\"\n\n[[employee]]\nid = \"E1\"\nname = \"张三\"\ndepartment = \"D1\"\n");
    let folder = dir.to_string_lossy().into_owned();

    // 201 rows: over the bound, one summary per column.
    write(&dir, "request.json", &rows_request(201));
    let (status, stdout, stderr) = flowc(&["run", &folder, "--now", NOW, "--format", "json"]);
    assert_eq!(status, 0, "{stderr}");
    let document = json(&stdout);
    let quantities: u64 = (0..201u64).map(|index| index % 9 + 1).sum();
    let amount = format!("{:.2}", quantities as f64 * 1.5);
    assert_eq!(
        document["request"]["form"]["明细"],
        serde_json::json!({
            "rows": 201,
            "columns": {
                "数量": { "filled": 201, "sum": quantities },
                "单价": { "filled": 201, "sum": "301.50" },
                "金额": { "filled": 201, "sum": amount },
                "备注": { "filled": 0 },
            }
        })
    );
    assert_eq!(document["request"]["form"]["合计"], amount);
    let at = |name: &str| stdout.find(&format!("\"{name}\": {{")).unwrap_or(usize::MAX);
    assert!(at("数量") < at("单价") && at("单价") < at("金额") && at("金额") < at("备注"), "columns in written order");
    assert!(stdout.len() < 10_000, "the report stays small: {} bytes", stdout.len());
    let (status, stdout, _) = flowc(&["run", &folder, "--now", NOW, "--format", "json", "--all-rows"]);
    assert_eq!(status, 0);
    let rows = &json(&stdout)["request"]["form"]["明细"];
    assert_eq!(rows.as_array().map(Vec::len), Some(201), "--all-rows lists every row");
    assert_eq!(rows[200]["数量"], 200 % 9 + 1);

    // 200 rows: at the bound, every row.
    write(&dir, "request.json", &rows_request(200));
    let (status, stdout, _) = flowc(&["run", &folder, "--now", NOW, "--format", "json"]);
    assert_eq!(status, 0);
    assert_eq!(json(&stdout)["request"]["form"]["明细"].as_array().map(Vec::len), Some(200));
}
