//! `flowc run` as a process: exit statuses (docs/runtime.md §1.6), bad input files
//! of every kind (exit 2, a message naming the file, never a panic), the
//! JSON document, and `--state`: saved atomically, continued, refused when
//! the workflow changed unless `--migrate`.

use std::path::{Path, PathBuf};

use super::flowc;

const NOW: &str = "2026-11-28T09:00:00+08:00";
const EXPENSE: &str = "examples/expense/expense.flow";
const ORG: &str = "examples/expense/org.toml";
const REQUEST: &str = "examples/expense/request.json";

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-run-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

fn run(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["run", EXPENSE, "--org", ORG, "--now", NOW];
    args.extend_from_slice(extra);
    flowc(&args)
}

#[test]
fn a_folder_runs_its_example_to_the_archive() {
    let (status, stdout, stderr) = flowc(&["run", "examples/expense", "--now", NOW]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("exit 招待 → 总经理审批: taken: `类别 == \"招待\" and 合计 > 3000` holds"), "{stdout}");
    assert!(stdout.contains("status: archived at 归档"), "{stdout}");
}

#[test]
fn a_refusal_exits_one_and_json_names_it() {
    let dir = scratch("refusal");
    let actions = write(&dir, "actions.json", r#"[{ "by": "E0001", "do": "submit" }]"#);
    let (status, stdout, _) = run(&["--request", REQUEST, "--actions", &actions, "--format", "json"]);
    assert_eq!(status, 1);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(document["status"], "refused");
    assert_eq!(document["error"]["code"], "R0203");
    assert_eq!(document["error"]["step"], 1);
    assert_eq!(document["request"]["node"], "填写申请");
    assert_eq!(document["request"]["form"]["大写"], "肆仟贰佰柒拾壹元伍角");
    assert_eq!(document["request"]["form"]["合计"], "4271.50");
}

#[test]
fn bad_input_files_exit_two_with_a_message() {
    let dir = scratch("bad-input");
    let garbage = write(&dir, "garbage.json", "{ not json");
    let not_a_list = write(&dir, "object.json", r#"{ "by": "E0123", "do": "submit" }"#);
    let unknown_kind = write(&dir, "kind.json", r#"[{ "by": "E0123", "do": "approve" }]"#);
    let unknown_key = write(&dir, "key.json", r#"[{ "by": "E0123", "do": "submit", "when": "now" }]"#);
    let bytes = dir.join("bytes.json");
    std::fs::write(&bytes, [0xff, 0xfe, 0x00, 0x7b]).expect("write");
    let bytes = bytes.to_string_lossy().into_owned();
    for (request, actions) in [
        (garbage.as_str(), None),
        (bytes.as_str(), None),
        (REQUEST, Some(garbage.as_str())),
        (REQUEST, Some(not_a_list.as_str())),
        (REQUEST, Some(unknown_kind.as_str())),
        (REQUEST, Some(unknown_key.as_str())),
        (REQUEST, Some(bytes.as_str())),
        ("tests/data/does/not/exist.json", None),
    ] {
        let mut args = vec!["--request", request];
        if let Some(actions) = actions {
            args.extend(["--actions", actions]);
        }
        let (status, stdout, stderr) = run(&args);
        assert_eq!(status, 2, "{request} {actions:?}: {stdout}{stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    // A bad clock, a missing directory, an invalid one, nothing to run.
    assert_eq!(run(&["--request", REQUEST, "--now", "yesterday"]).0, 2);
    assert_eq!(flowc(&["run", EXPENSE, "--request", REQUEST]).0, 2);
    let bad_org = write(&dir, "org.toml", "[[employee]]\nid = \"E1\"\nname = \"x\"\ndepartment = \"NOWHERE\"\n");
    let (status, _, stderr) = flowc(&["run", EXPENSE, "--org", &bad_org, "--request", REQUEST]);
    assert_eq!(status, 2);
    assert!(stderr.contains("NOWHERE"), "{stderr}");
    assert_eq!(run(&[]).0, 2);
}

#[test]
fn request_contents_that_do_not_fit_are_refusals() {
    let dir = scratch("contents");
    for (form, code) in [
        (r#"{ "类别": "旅游" }"#, "R0304"),
        (r#"{ "预支": "12.345" }"#, "R0304"),
        (r#"{ "预支": true }"#, "R0304"),
        (r#"{ "项目": "P404" }"#, "R0305"),
        (r#"{ "合记": 1 }"#, "R0306"),
        (r#"{ "合计": "1.00" }"#, "R0301"),
        (r#"{ "明细": [ { "数量": 1.5 } ] }"#, "R0304"),
        (r#"{ "明细": "rows" }"#, "R0304"),
    ] {
        let request = write(&dir, "request.json", &format!(r#"{{ "creator": "E0123", "form": {form} }}"#));
        let (status, stdout, stderr) = run(&["--request", &request, "--format", "json"]);
        assert_eq!(status, 1, "{form}: {stderr}");
        let document: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
        assert_eq!(document["error"]["code"], code, "{form}");
        assert_eq!(document["error"]["step"], 0, "{form}");
    }
    let stranger = write(&dir, "stranger.json", r#"{ "creator": "E9999", "form": {} }"#);
    let (status, stdout, _) = run(&["--request", &stranger, "--format", "json"]);
    assert_eq!(status, 1);
    assert!(stdout.contains("R0305"), "{stdout}");
    let other = write(&dir, "other.json", r#"{ "workflow": "请假", "creator": "E0123", "form": {} }"#);
    let (status, _, stderr) = run(&["--request", &other]);
    assert_eq!(status, 2);
    assert!(stderr.contains("no workflow `请假`"), "{stderr}");
}

#[test]
fn state_is_saved_continued_and_tied_to_the_source() {
    let dir = scratch("state");
    let state = dir.join("state.json").to_string_lossy().into_owned();
    let actions: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("examples/expense/actions.json").expect("actions"))
            .expect("JSON");
    let all = actions.as_array().expect("a list");
    let first = write(&dir, "first.json", &serde_json::to_string(&all[..4]).expect("JSON"));
    let rest = write(&dir, "rest.json", &serde_json::to_string(&all[4..]).expect("JSON"));

    let (status, _, stderr) = run(&["--request", REQUEST, "--actions", &first, "--state", &state]);
    assert_eq!(status, 0, "{stderr}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("saved")).expect("JSON");
    assert_eq!(saved["node"], "财务审核");
    assert_eq!(saved["pending"], serde_json::json!(["E0103"]));
    assert_eq!(saved["log"].as_array().map(Vec::len), Some(5));
    let leftovers = std::fs::read_dir(&dir).expect("dir").filter_map(Result::ok);
    assert!(leftovers.into_iter().all(|entry| !entry.file_name().to_string_lossy().ends_with(".tmp")));

    // The state of a changed workflow is refused, and the file is left alone.
    let changed = write(&dir, "expense.flow", &(std::fs::read_to_string(EXPENSE).expect("flow") + "\n// changed\n"));
    std::fs::create_dir_all(dir.join("scripts")).expect("scripts folder");
    std::fs::copy("examples/expense/scripts/post_to_ledger.rhai", dir.join("scripts/post_to_ledger.rhai"))
        .expect("copy the script");
    let before = std::fs::read_to_string(&state).expect("state");
    let (status, stdout, stderr) =
        flowc(&["run", &changed, "--org", ORG, "--state", &state, "--actions", &rest, "--now", NOW]);
    assert_eq!(status, 1, "{stdout}{stderr}");
    assert!(stderr.contains("R0501"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&state).expect("state"), before);
    let copy = write(&dir, "copy.json", &before);
    let (status, _, stderr) =
        flowc(&["run", &changed, "--org", ORG, "--state", &copy, "--actions", &rest, "--now", NOW, "--migrate"]);
    assert_eq!(status, 0, "--migrate continues it: {stderr}");

    // The same source continues it to the archive; --migrate would have too.
    let (status, stdout, stderr) = run(&["--state", &state, "--actions", &rest]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("status: archived at 归档"), "{stdout}");
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&state).expect("saved")).expect("JSON");
    assert_eq!(saved["archived"], true);
    let (status, _, stderr) = run(&["--state", &state, "--actions", &first]);
    assert_eq!(status, 1, "an archived request takes no more actions: {stderr}");

    // A state that is not one, or of another workflow.
    let garbage = write(&dir, "garbage-state.json", "[1, 2, 3]");
    assert_eq!(run(&["--state", &garbage]).0, 2);
    let mut other: serde_json::Value = saved.clone();
    other["workflow"] = "请假".into();
    let other = write(&dir, "other-state.json", &other.to_string());
    let (status, _, stderr) = run(&["--state", &other, "--migrate"]);
    assert_eq!(status, 1);
    assert!(stderr.contains("R0501"), "{stderr}");
    let (status, stdout, _) = run(&["--state", &other, "--format", "json"]);
    assert_eq!(status, 1);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(document["status"], "error");
    assert_eq!(document["error"]["code"], "R0501");
}

#[test]
fn a_missing_script_is_reported_at_its_statement() {
    let dir = scratch("missing-script");
    let copy = write(&dir, "expense.flow", &std::fs::read_to_string(EXPENSE).expect("flow"));
    let (status, _, stderr) = flowc(&["run", &copy, "--org", ORG, "--request", REQUEST]);
    assert_eq!(status, 1);
    assert!(stderr.contains("R0401") && stderr.contains("cannot read script"), "{stderr}");
    assert!(stderr.contains("script \"scripts/post_to_ledger.rhai\""), "the statement is quoted: {stderr}");
}

#[test]
fn a_program_with_errors_does_not_run() {
    let broken = "tests/data/check/err/E0105_unknown_exit_target.flow";
    let (status, _, stderr) = flowc(&["run", broken, "--org", ORG, "--request", REQUEST]);
    assert_eq!(status, 1);
    assert!(stderr.contains("flow::E0105") && stderr.contains("run stopped"), "{stderr}");
    let (status, stdout, _) = flowc(&["run", broken, "--org", ORG, "--request", REQUEST, "--format", "json"]);
    assert_eq!(status, 1);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(document["status"], "error");
    assert_eq!(document["diagnostics"][0]["code"], "E0105");
}
