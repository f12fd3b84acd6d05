//! `flowc check` as a process: exit statuses, JSON, `--deny warnings`,
//! several files in one call.

use super::flowc;

#[test]
fn clean_file_exits_zero() {
    let (status, _, stderr) = flowc(&["check", "examples/expense/expense.flow"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stderr.contains("check passed"));
}

#[test]
fn errors_exit_one_and_render_code_and_help() {
    let (status, _, stderr) = flowc(&["check", "tests/data/check/err/E0105_unknown_exit_target.flow"]);
    assert_eq!(status, 1);
    assert!(stderr.contains("flow::E0105"), "{stderr}");
}

#[test]
fn a_folder_checks_its_flow_files() {
    let (status, _, stderr) = flowc(&["check", "examples/expense", "examples/leave"]);
    assert_eq!(status, 0, "{stderr}");
    // Each example folder holds its workflow and its `*.test.flow`.
    assert!(stderr.contains("in 4 files"), "{stderr}");
    assert_eq!(flowc(&["check", "tests/data"]).0, 2, "a folder without .flow files is unreadable");
}

#[test]
fn unreadable_file_and_bad_usage_exit_two() {
    assert_eq!(flowc(&["check", "tests/data/does/not/exist.flow"]).0, 2);
    assert_eq!(flowc(&["check"]).0, 2);
    assert_eq!(flowc(&["check", "--format", "yaml", "examples/expense/expense.flow"]).0, 2);
}

#[test]
fn warnings_pass_unless_denied() {
    let file = "tests/data/check/err/W0107_unreachable_node.flow";
    assert_eq!(flowc(&["check", file]).0, 0);
    assert_eq!(flowc(&["check", "--deny", "warnings", file]).0, 1);
}

#[test]
fn json_carries_the_fields_of_runtime_md() {
    let (status, stdout, _) = flowc(&[
        "check",
        "--format",
        "json",
        "examples/leave/leave.flow",
        "tests/data/check/err/E0105_unknown_exit_target.flow",
    ]);
    assert_eq!(status, 1);
    let document: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let diagnostics = document["diagnostics"].as_array().expect("diagnostics array");
    assert_eq!(diagnostics.len(), 1);
    let diagnostic = &diagnostics[0];
    assert_eq!(diagnostic["code"], "E0105");
    assert_eq!(diagnostic["severity"], "error");
    assert_eq!(diagnostic["file"], "tests/data/check/err/E0105_unknown_exit_target.flow");
    for key in ["message", "line", "column", "end_line", "end_column", "labels", "help"] {
        assert!(diagnostic.get(key).is_some(), "missing {key}");
    }
    assert!(diagnostic["line"].as_u64().expect("line") >= 1);
    assert_eq!(document["errors"], 1);
}
