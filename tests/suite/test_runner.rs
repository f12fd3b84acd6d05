//! `flowc test` as a process (docs/testing.md): a file of tests with known
//! failures gives the expected diffs and exit status (snapshot); the
//! examples' tests pass with full exit coverage; the JSON, JUnit and lcov
//! outputs are read back; folder cases (`expect.json`) run; bad usage exits 2.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::flowc;

const KNOWN_FAILURES: &str = "tests/data/test/known-failures";

#[test]
fn known_failures_give_their_diffs_and_exit_1() {
    let (status, stdout, stderr) = flowc(&["test", KNOWN_FAILURES]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stdout.ends_with("2 passed, 4 failed\n"), "{stdout}");
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("test_runner_known_failures", stdout);
    });
}

#[test]
fn known_failures_as_json_and_junit() {
    let (status, stdout, _) = flowc(&["test", KNOWN_FAILURES, "--format", "json"]);
    assert_eq!(status, 1);
    let document: Json = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(document["passed"], 2);
    assert_eq!(document["failed"], 4);
    let failed: Vec<&str> = document["tests"]
        .as_array()
        .expect("tests")
        .iter()
        .filter(|test| test["status"] == "failed")
        .map(|test| test["name"].as_str().expect("name"))
        .collect();
    assert_eq!(failed, ["错的节点", "该拒却过", "意外拒绝", "查无此人"]);
    let wrong_node = &document["tests"][1]["differences"][0];
    assert_eq!(wrong_node["expected"], "node 归档");
    assert_eq!(wrong_node["actual"], "node 总经理");
    assert_eq!(wrong_node["line"], 51);

    let (status, xml, _) = flowc(&["test", KNOWN_FAILURES, "--format", "junit"]);
    assert_eq!(status, 1);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "), "{xml}");
    assert!(xml.contains("tests=\"6\" failures=\"4\""), "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 6);
    assert_eq!(xml.matches("<failure ").count(), 4);
    assert_eq!(xml.matches("</failure>").count(), 4);
    // The values of the diff are escaped.
    assert!(xml.contains("- 备注 == &quot;旅游&quot;"), "{xml}");
}

#[test]
fn filter_runs_only_matching_tests() {
    let (status, stdout, _) = flowc(&["test", KNOWN_FAILURES, "--filter", "两天"]);
    assert_eq!(status, 0, "{stdout}");
    assert!(stdout.ends_with("1 passed, 0 failed\n"), "{stdout}");
}

/// Coverage of the examples, from the JSON report: workflow → (exits taken, exits).
fn example_coverage() -> (f64, BTreeMap<String, (usize, usize)>, Json) {
    let (status, stdout, stderr) = flowc(&["test", "examples", "--coverage", "--format", "json"]);
    assert_eq!(status, 0, "{stdout}{stderr}");
    let document: Json = serde_json::from_str(&stdout).expect("JSON");
    assert_eq!(document["failed"], 0, "{stdout}");
    let mut exits = BTreeMap::new();
    for workflow in document["coverage"]["workflows"].as_array().expect("workflows") {
        let points = workflow["exits"].as_array().expect("exits");
        let taken = points.iter().filter(|point| point["hits"].as_u64() > Some(0)).count();
        // By file and name: two examples may each have a workflow called 发货.
        let name =
            format!("{}:{}", workflow["file"].as_str().expect("file"), workflow["workflow"].as_str().expect("name"));
        exits.insert(name, (taken, points.len()));
    }
    (document["coverage"]["percent"].as_f64().expect("percent"), exits, document)
}

#[test]
fn every_example_takes_every_exit() {
    let (_, exits, document) = example_coverage();
    assert_eq!(document["passed"], 39);
    assert_eq!(exits.len(), 11, "{exits:?}");
    for (workflow, (taken, all)) in &exits {
        assert_eq!(taken, all, "{workflow}: {taken} of {all} exits taken");
    }
    assert_eq!(exits["examples/expense/expense.flow:费用报销"], (11, 11));
    assert_eq!(exits["examples/aftersales/aftersales.flow:上门维修"], (12, 12));
    // The shipping example's fork branches, merge and sub-workflow count as taken exits.
    assert_eq!(exits["examples/shipping/shipping.flow:发货"], (10, 10));
    assert_eq!(exits["examples/shipping/shipping.flow:安装调试"], (4, 4));
}

#[test]
fn expense_coverage_table() {
    let (status, stdout, _) = flowc(&["test", "examples/expense", "--coverage"]);
    assert_eq!(status, 0, "{stdout}");
    let table = stdout.split_once("\n\n").map(|(_, table)| table).expect("a table after the tests");
    assert_eq!(
        table,
        "coverage of 费用报销 (examples/expense/expense.flow)\n  \
         nodes        6/6   100.0%\n  \
         exits      11/11   100.0%\n  \
         batches      2/3    66.7%\n  \
         refusals R0203\n  \
         not taken: 部门审批 batch 3 (line 80)\n\
         route coverage 95.0%\n"
    );
}

#[test]
fn coverage_min_fails_below_and_passes_at() {
    let (status, stdout, _) = flowc(&["test", "examples/expense", "--coverage-min", "96"]);
    assert_eq!(status, 1, "{stdout}");
    assert!(stdout.contains("route coverage 95.0% is below --coverage-min 96"), "{stdout}");
    let (status, _, _) = flowc(&["test", "examples/expense", "--coverage-min", "95"]);
    assert_eq!(status, 0);
    let (status, _, stderr) = flowc(&["test", "examples/expense", "--coverage-min", "101"]);
    assert_eq!(status, 2, "{stderr}");
}

#[test]
fn lcov_reads_back() {
    let out = std::env::temp_dir().join(format!("flowc-test-lcov-{}.info", std::process::id()));
    let out_text = out.to_string_lossy().into_owned();
    let (status, _, stderr) =
        flowc(&["test", "examples", "--coverage-format", "lcov", "--coverage-out", out_text.as_str()]);
    assert_eq!(status, 0, "{stderr}");
    let lcov = std::fs::read_to_string(&out).expect("lcov written");
    // An independent reading of the tracefile format: records of SF, DA, LF, LH, end_of_record.
    let mut records = BTreeMap::new();
    let mut current: Option<(String, Vec<(usize, u64)>)> = None;
    for line in lcov.lines() {
        if let Some(file) = line.strip_prefix("SF:") {
            assert!(current.is_none(), "SF inside a record");
            current = Some((file.to_owned(), Vec::new()));
        } else if let Some(da) = line.strip_prefix("DA:") {
            let (line, hits) = da.split_once(',').expect("DA:line,hits");
            current
                .as_mut()
                .expect("DA in a record")
                .1
                .push((line.parse().expect("line"), hits.parse().expect("hits")));
        } else if let Some(found) = line.strip_prefix("LF:") {
            let (_, lines) = current.as_ref().expect("LF in a record");
            assert_eq!(found.parse::<usize>().expect("LF"), lines.len());
        } else if let Some(hit) = line.strip_prefix("LH:") {
            let (_, lines) = current.as_ref().expect("LH in a record");
            assert_eq!(hit.parse::<usize>().expect("LH"), lines.iter().filter(|(_, hits)| *hits > 0).count());
        } else if line == "end_of_record" {
            let (file, lines) = current.take().expect("a record to end");
            records.insert(file, lines);
        } else {
            assert!(line.starts_with("TN:"), "unexpected lcov line {line}");
        }
    }
    assert_eq!(records.len(), 7, "{records:?}");
    // Every exit line of the expense workflow was taken: 77 (提交) … 126 (付款完成).
    let expense = &records["examples/expense/expense.flow"];
    for exit_line in [77, 86, 87, 97, 98, 99, 100, 105, 106, 107, 126] {
        assert!(expense.iter().any(|(line, hits)| *line == exit_line && *hits > 0), "line {exit_line}: {expense:?}");
    }
    // A real lcov, when installed, reads it too.
    if let Ok(output) = std::process::Command::new("lcov").args(["--summary", out_text.as_str()]).output() {
        let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        assert!(output.status.success(), "{text}");
        assert!(text.contains("lines......: 100.0%"), "{text}");
        assert!(!text.contains("WARNING"), "{text}");
    }
    let _ = std::fs::remove_file(&out);
}

#[test]
fn folder_cases_run_under_it() {
    let (status, stdout, stderr) = flowc(&["test", "tests/data/run"]);
    assert_eq!(status, 0, "{stdout}{stderr}");
    let last = stdout.lines().last().expect("a closing line");
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
    let passed: usize = last.split(' ').next().and_then(|count| count.parse().ok()).expect("a count");
    assert!(passed > 90, "{last}");
}

#[test]
fn bad_usage_exits_2() {
    let (status, _, stderr) = flowc(&["test", "no/such/path"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("neither a .flow file nor a folder"), "{stderr}");
    let (status, _, stderr) = flowc(&["test", "tests/data/fmt"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("no tests found"), "{stderr}");
    let (status, stdout, _) = flowc(&["test", "no/such/path", "--format", "json"]);
    assert_eq!(status, 2);
    let document: Json = serde_json::from_str(&stdout).expect("the error document");
    assert_eq!(document["status"], "error");
}

#[test]
fn a_folder_with_a_test_file_still_runs_its_workflow() {
    let (status, stdout, stderr) = flowc(&["run", "examples/expense", "--now", "2026-11-28T09:00:00+08:00"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("status: archived at 归档"), "{stdout}");
}

#[test]
fn a_test_file_with_check_errors_fails_with_its_diagnostics() {
    let dir = std::env::temp_dir().join(format!("flowc-test-runner-{}-errors", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let source = std::fs::read_to_string(format!("{KNOWN_FAILURES}/leave.flow")).expect("leave.flow");
    let broken =
        source.replacen("  expect node 审批, pending [\"E0141\"]", "  expect node 审核, pending [\"E0141\"]", 1);
    assert_ne!(source, broken);
    std::fs::write(dir.join("leave.flow"), broken).expect("write");
    let dir_text = dir.to_string_lossy().into_owned();
    let (status, _, stderr) = flowc(&["test", dir_text.as_str(), "--org", "examples/leave/org.toml"]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("E0902") && stderr.contains("did you mean `审批`?"), "{stderr}");
    assert!(stderr.contains("1 errors; its tests did not run"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
