//! Forks and merges through the command line (docs/language.md §6.8): the
//! text trace of every `tests/data/run/forks/` case (reviewed snapshots: the
//! branches are told apart), and the state of a split request — saved with
//! its current nodes, continued, refused when its branches no longer match
//! the workflow, while a state at one node keeps the format it always had.

use std::path::{Path, PathBuf};

use super::flowc;

const NOW: &str = "2026-11-28T09:00:00+08:00";
const FLOW: &str = "tests/data/run/forks/forks.flow";
const ORG: &str = "tests/data/run/forks/org.toml";
const CASE: &str = "tests/data/run/forks/both-branches-merge";

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-run-forks-{}-{name}", std::process::id()));
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
    let request = format!("{CASE}/request.json");
    let mut args = vec!["run", FLOW, "--org", ORG, "--request", &request, "--now", NOW];
    args.extend_from_slice(extra);
    flowc(&args)
}

fn read_json(path: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("JSON")
}

#[test]
fn text_traces_tell_the_branches_apart() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir("tests/data/run/forks")
        .expect("the forks cases")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.join("request.json").is_file())
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "the forks cases are found");
    for case in cases {
        let folder = case.to_string_lossy().into_owned();
        let (status, stdout, stderr) = flowc(&["run", &folder, "--now", NOW]);
        assert!(status == 0 || status == 1, "{folder}: {stderr}");
        let name = folder.replace(['/', '\\'], "__");
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("trace__{name}"), stdout);
        });
    }
}

#[test]
fn a_split_state_is_saved_with_its_nodes_and_continued() {
    let dir = scratch("split");
    let state = dir.join("state.json").to_string_lossy().into_owned();
    let actions = read_json(&format!("{CASE}/actions.json"));
    let all = actions.as_array().expect("a list");
    let once = write(&dir, "once.json", &serde_json::to_string(&all[..1]).expect("JSON"));
    let then = write(&dir, "then.json", &serde_json::to_string(&all[1..4]).expect("JSON"));
    let rest = write(&dir, "rest.json", &serde_json::to_string(&all[4..]).expect("JSON"));

    // At one node the state is what it always was: `node`, no `nodes`.
    let (status, _, stderr) = run(&["--actions", &once, "--state", &state]);
    assert_eq!(status, 0, "{stderr}");
    let saved = read_json(&state);
    assert_eq!(saved["node"], "财务确认");
    assert!(saved.get("nodes").is_none(), "{saved:#}");

    // Split: `nodes`, one per branch, and no `node`.
    let (status, _, stderr) = flowc(&["run", FLOW, "--org", ORG, "--now", NOW, "--state", &state, "--actions", &then]);
    assert_eq!(status, 0, "{stderr}");
    let saved = read_json(&state);
    assert!(saved.get("node").is_none(), "{saved:#}");
    assert_eq!(
        saved["nodes"],
        serde_json::json!([
            { "branch": "物流", "node": "物流发运", "operators": ["E22"], "pending": ["E22"], "batch": 1 },
            { "branch": "库房/质检", "node": "质检确认", "operators": ["E15"], "pending": ["E15"], "batch": 1 },
            { "branch": "库房/包装", "node": "包装确认", "operators": ["E16"], "pending": ["E16"], "batch": 1 },
        ])
    );
    assert_eq!(saved["pending"], serde_json::json!(["E22", "E15", "E16"]));

    // A branch that arrived at its merge is saved as such, and the request goes on to the archive.
    let next = write(&dir, "next.json", &serde_json::to_string(&all[4..5]).expect("JSON"));
    let (status, stdout, stderr) =
        flowc(&["run", FLOW, "--org", ORG, "--now", NOW, "--state", &state, "--actions", &next]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("[物流] arrives at 汇合, which waits for 库房"), "{stdout}");
    let saved = read_json(&state);
    assert_eq!(saved["nodes"][0], serde_json::json!({ "branch": "物流", "node": "汇合", "arrived": true }));
    let rest_after = write(&dir, "rest-after.json", &serde_json::to_string(&all[5..]).expect("JSON"));
    let (status, stdout, stderr) =
        flowc(&["run", FLOW, "--org", ORG, "--now", NOW, "--state", &state, "--actions", &rest_after]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("status: archived at 归档"), "{stdout}");
    assert!(std::fs::read_to_string(&rest).is_ok());
}

#[test]
fn a_state_whose_branches_were_edited_is_refused() {
    let dir = scratch("stale");
    let state = dir.join("state.json").to_string_lossy().into_owned();
    let actions = read_json(&format!("{CASE}/actions.json"));
    let first =
        write(&dir, "first.json", &serde_json::to_string(&actions.as_array().expect("a list")[..2]).expect("JSON"));
    let (status, _, stderr) = run(&["--actions", &first, "--state", &state]);
    assert_eq!(status, 0, "{stderr}");
    let saved = read_json(&state);
    assert_eq!(saved["nodes"][0]["branch"], "物流");

    let refused = |mutate: &dyn Fn(&mut serde_json::Value), code: &str, words: &str| {
        let mut broken = saved.clone();
        mutate(&mut broken);
        let path = write(&dir, "broken.json", &broken.to_string());
        let (status, stdout, stderr) = flowc(&["run", FLOW, "--org", ORG, "--now", NOW, "--state", &path]);
        // A malformed state is bad input (2); one that no longer fits the workflow is refused (1).
        assert_eq!(status, if code == "R0502" { 2 } else { 1 }, "{stdout}{stderr}");
        assert!(stderr.contains(code) && stderr.contains(words), "{code} {words}: {stderr}");
    };
    // A state is what its log gives (runtime.md §3.9): replaying the log finds each edit.
    refused(&|state| state["nodes"][0]["branch"] = "库房".into(), "R0503", ".branch` is \"库房\" in the state");
    refused(&|state| state["nodes"][0]["arrived"] = true.into(), "R0503", ".arrived` is true in the state");
    refused(&|state| state["node"] = "申请".into(), "R0503", "`node`");
    refused(&|state| state["nodes"][0]["node"] = "不存在".into(), "R0503", ".node` is \"不存在\" in the state");
}
