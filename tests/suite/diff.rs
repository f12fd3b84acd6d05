//! `flowc diff`, as data: `tests/data/diff/<case>/{old.flow,new.flow}`, each
//! with its text and JSON reports as snapshots (`diff_<case>_text`,
//! `diff_<case>_json`).
//!
//! Every example request is confirmed by the runtime, independently of the
//! analysis's own replay: the test builds the request from the example's
//! trace, runs it through both versions against `tests/data/diff/org.toml`,
//! and checks that the two really leave (or enter) the node differently, as
//! the report says. For a case with no behavioural change, random requests
//! are run through both versions and must visit the same nodes.

use std::path::{Path, PathBuf};

use flowc::analysis::diff::{diff, Diff, Difference, Outcome};
use flowc::check::{check_paths, Analysis, FsLoader};
use flowc::org::{Directory, MemoryDirectory};
use flowc::runtime::compiled::Compiled;
use flowc::runtime::request::{Action, ActionKind, FormInput, NewRequest, Request, Runtime};
use flowc::runtime::values::dates::DateTime;
use serde_json::{json, Map, Value as Json};

use super::analysis_random::Random;

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("tests/data/diff")
        .expect("tests/data/diff")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 8, "the diff cases are missing");
    dirs
}

fn checked(path: &Path) -> Analysis {
    let analysis = check_paths(&[path.to_path_buf()], &FsLoader);
    assert_eq!(analysis.error_count(), 0, "{} has errors", path.display());
    analysis
}

fn directory() -> MemoryDirectory {
    MemoryDirectory::load(Path::new("tests/data/diff/org.toml")).expect("tests/data/diff/org.toml")
}

fn compiled(analysis: &Analysis) -> Compiled {
    Compiled::new(analysis, &|script| std::fs::read_to_string(script)).expect("compiles")
}

fn diff_of(case: &Path) -> Diff {
    let (old, new) = (checked(&case.join("old.flow")), checked(&case.join("new.flow")));
    diff(&old, &new, None).expect("both versions compile")
}

/// Whether a case's name says its versions behave the same.
fn no_change_expected(case: &Path) -> bool {
    let name = super::name_of(case);
    ["function_same", "reordered_disjoint_exits", "renamed_label", "simplified_condition"].contains(&name.as_str())
}

#[test]
fn every_case_reports_as_its_snapshot_says() {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        for case in cases() {
            let name = super::name_of(&case);
            let (old, new) = (case.join("old.flow"), case.join("new.flow"));
            let (old, new) = (old.to_string_lossy(), new.to_string_lossy());
            let (status, text, stderr) = super::flowc(&["diff", &old, &new]);
            assert_eq!(status, if no_change_expected(&case) { 0 } else { 1 }, "{name}: {text}{stderr}");
            assert_eq!(text.ends_with("no behavioural change\n"), no_change_expected(&case), "{name}: {text}");
            insta::assert_snapshot!(format!("diff_{name}_text"), text);
            let (json_status, json, _) = super::flowc(&["diff", &old, &new, "--format", "json"]);
            assert_eq!(json_status, status, "{name}: the same status in JSON");
            let document: Json = serde_json::from_str(&json).expect("one JSON document");
            assert_eq!(document["status"], if status == 0 { "same" } else { "changed" });
            insta::assert_snapshot!(format!("diff_{name}_json"), json);
        }
    });
}

/// How a trace's last submit went in one version.
struct Ran {
    /// The node the last submit was made at.
    at_last: String,
    /// The request after it, or the refusal's code.
    after: Result<Request, String>,
    /// The node the request is at after it.
    compiled_node: Option<String>,
}

/// Runs an example's trace (as the analysis's examples are run), keeping
/// what the report compares.
fn run(compiled: &Compiled, directory: &dyn Directory, example: &flowc::analysis::diff::DiffExample) -> Ran {
    let (at_last, result, _) = super::analysis::replay_trace(compiled, directory, &example.trace);
    let workflow = &compiled.program.workflows[0];
    let compiled_node = result.as_ref().ok().map(|(next, _)| workflow.nodes[next.node].name.clone());
    let after = result.map(|(next, _)| next).map_err(|error| error.code.as_str().to_owned());
    Ran { at_last, after, compiled_node }
}

/// What a version did with the example at the node, in the report's terms.
fn observed(ran: &Ran, difference: &Difference) -> Outcome {
    match (&difference.old, &ran.after) {
        (_, Err(code)) if code == "R0201" => Outcome::NoExit,
        (Outcome::Operators { .. }, Ok(request)) => Outcome::Operators { lines: request.operators.clone() },
        (_, Ok(_)) => Outcome::Exit { name: String::new(), target: ran.compiled_node.clone().unwrap_or_default() },
        (_, Err(code)) => panic!("the last step was refused with {code}"),
    }
}

fn target_of(outcome: &Outcome) -> Option<&str> {
    match outcome {
        Outcome::Exit { target, .. } => Some(target),
        _ => None,
    }
}

#[test]
fn every_example_routes_differently_in_the_runtime() {
    let directory = directory();
    let mut confirmed = 0;
    for case in cases() {
        let (old, new) = (checked(&case.join("old.flow")), checked(&case.join("new.flow")));
        let (old_compiled, new_compiled) = (compiled(&old), compiled(&new));
        let report = diff(&old, &new, None).expect("both versions compile");
        for node in report.workflows.iter().flat_map(|workflow| &workflow.nodes) {
            for difference in &node.differences {
                let Some(example) = &difference.example else {
                    assert!(!difference.certain, "{}: a certain difference without an example", case.display());
                    continue;
                };
                let in_old = run(&old_compiled, &directory, example);
                let in_new = run(&new_compiled, &directory, example);
                let what = format!("{} at `{}`: {:?}", case.display(), node.name, example.values);
                if difference.kind == "operators" {
                    // The last submit leads the request into the node in both versions, with other people.
                    assert_eq!(in_old.compiled_node.as_deref(), Some(node.name.as_str()), "{what}");
                    assert_eq!(in_new.compiled_node.as_deref(), Some(node.name.as_str()), "{what}");
                    let (Outcome::Operators { lines: old_people }, Outcome::Operators { lines: new_people }) =
                        (observed(&in_old, difference), observed(&in_new, difference))
                    else {
                        panic!("{what}: not entered");
                    };
                    assert_ne!(old_people, new_people, "{what}: the same operators in both versions");
                } else {
                    assert_eq!(in_old.at_last, node.name, "{what}: the old version's last submit");
                    assert_eq!(in_new.at_last, node.name, "{what}: the new version's last submit");
                    let (seen_old, seen_new) = (observed(&in_old, difference), observed(&in_new, difference));
                    assert_eq!(target_of(&seen_old), target_of(&difference.old), "{what}: the old version");
                    assert_eq!(target_of(&seen_new), target_of(&difference.new), "{what}: the new version");
                    assert_ne!(seen_old, seen_new, "{what}: the same route in both versions");
                }
                confirmed += 1;
            }
        }
    }
    assert!(confirmed >= 6, "only {confirmed} examples were confirmed");
}

/// A random form for the cases' claim: amounts around the thresholds the cases use.
fn random_form(random: &mut Random) -> Map<String, Json> {
    let amounts = [
        "0.01", "1.00", "2000.00", "2000.01", "2999.99", "3000.00", "3000.01", "5000.00", "5000.01", "7500.00",
        "10000.00", "10000.01", "25000.00",
    ];
    let mut form = Map::new();
    let amount = if random.below(3) == 0 {
        format!("{}.{:02}", random.below(30_000), random.below(100))
    } else {
        amounts[random.below(amounts.len() as u64) as usize].to_owned()
    };
    form.insert("合计".into(), json!(amount));
    form.insert("类别".into(), json!(["差旅", "招待", "其他"][random.below(3) as usize]));
    form.insert("加急".into(), json!(random.below(2) == 0));
    let notes = ["", "短", "一段不长不短的说明", "一段相当长的说明，超过二十个字，用来测试长度的条件是否成立"];
    form.insert("说明".into(), json!(notes[random.below(notes.len() as u64) as usize]));
    form
}

/// The nodes a request visits, submitting at each node (every pending person in turn) until it is archived or stuck.
fn route(compiled: &Compiled, directory: &dyn Directory, form: &Map<String, Json>) -> Vec<String> {
    let runtime = Runtime::new(compiled, directory);
    let now = DateTime::parse("2026-03-02T09:00:00+08:00").expect("now");
    let new = NewRequest {
        workflow: None,
        creator: "E1".into(),
        form: FormInput::Fields(form.clone()),
        sequence: None,
        started_by: None,
    };
    let workflow = &compiled.program.workflows[0];
    let mut request = match runtime.create(0, &new, now) {
        Ok((request, _)) => request,
        Err(error) => return vec![format!("refused {}", error.code.as_str())],
    };
    let mut visited = vec![workflow.nodes[request.node].name.clone()];
    for _ in 0..40 {
        if request.archived || request.pending.is_empty() {
            break;
        }
        let action = Action {
            by: request.pending[0].clone(),
            kind: ActionKind::Submit,
            opinion: None,
            set: None,
            to: Vec::new(),
            node: None,
            at: None,
            request: None,
        };
        match runtime.apply(&request, &action, now) {
            Ok((next, _)) => {
                if next.node != request.node || next.archived {
                    visited.push(workflow.nodes[next.node].name.clone());
                    visited.push(format!("operators {:?}", next.operators));
                }
                request = next;
            }
            Err(error) => {
                visited.push(format!("refused {}", error.code.as_str()));
                break;
            }
        }
    }
    visited
}

#[test]
fn no_behavioural_change_means_sampled_requests_route_the_same() {
    let directory = directory();
    for case in cases().into_iter().filter(|case| no_change_expected(case)) {
        let report = diff_of(&case);
        assert!(!report.changed(), "{}", case.display());
        let old = compiled(&checked(&case.join("old.flow")));
        let new = compiled(&checked(&case.join("new.flow")));
        let mut random = Random(0x5EED_0000 + super::name_of(&case).len() as u64);
        for _ in 0..300 {
            let form = random_form(&mut random);
            assert_eq!(route(&old, &directory, &form), route(&new, &directory, &form), "{}: {form:?}", case.display());
        }
    }
}

#[test]
fn a_changed_case_is_seen_by_sampling_too() {
    // The sampler can tell versions apart: the moved threshold shows among random requests.
    let directory = directory();
    let case = Path::new("tests/data/diff/threshold_moved");
    let old = compiled(&checked(&case.join("old.flow")));
    let new = compiled(&checked(&case.join("new.flow")));
    let mut random = Random(7);
    let differs = (0..300).any(|_| {
        let form = random_form(&mut random);
        route(&old, &directory, &form) != route(&new, &directory, &form)
    });
    assert!(differs);
}

#[test]
fn flowc_diff_refuses_a_version_with_errors_and_a_missing_file() {
    let dir = std::env::temp_dir().join(format!("flowc-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let broken = dir.join("broken.flow");
    std::fs::write(&broken, "workflow 坏 { form 没有 }\n").expect("write");
    let good = "tests/data/diff/threshold_moved/old.flow";
    let (status, stdout, stderr) = super::flowc(&["diff", good, &broken.to_string_lossy()]);
    assert_eq!(status, 2, "{stdout}{stderr}");
    assert!(stderr.contains("error"), "the broken version's diagnostics: {stderr}");
    assert!(stderr.contains("nothing was compared"), "{stderr}");
    let (status, _, stderr) = super::flowc(&["diff", good, "tests/data/diff/none.flow"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("cannot read"), "{stderr}");
    let (status, stdout, _) = super::flowc(&["diff", good, "tests/data/diff/none.flow", "--format", "json"]);
    assert_eq!(status, 2);
    assert!(stdout.contains("\"status\": \"error\""), "{stdout}");
    let (status, stdout, _) = super::flowc(&["--help"]);
    assert_eq!(status, 0);
    assert!(stdout.contains("diff"), "--help lists diff: {stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn flowc_diff_takes_a_directory() {
    let case = "tests/data/diff/operator_batch_changed";
    let (status, stdout, stderr) = super::flowc(&[
        "diff",
        &format!("{case}/old.flow"),
        &format!("{case}/new.flow"),
        "--org",
        "tests/data/diff/org.toml",
    ]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stdout.contains("for example: 合计 = 3500.00, created by"), "{stdout}");
    let (status, _, stderr) = super::flowc(&[
        "diff",
        &format!("{case}/old.flow"),
        &format!("{case}/new.flow"),
        "--org",
        "tests/data/diff/missing.toml",
    ]);
    assert_eq!(status, 2);
    assert!(stderr.contains("cannot load the directory"), "{stderr}");
}

/// A diff whose examples' budget is spent (here: none at all) leaves each
/// difference without an example and says why; with the usual budget the
/// same differences have their examples. `flowc diff --thorough` only
/// raises the budget.
#[test]
fn a_spent_budget_leaves_differences_without_examples_and_says_why() {
    let case = Path::new("tests/data/diff/exit_added");
    let (old, new) = (checked(&case.join("old.flow")), checked(&case.join("new.flow")));
    let differences = |budget: Option<usize>| -> Vec<Difference> {
        let options = flowc::analysis::Options { examples_budget: budget, ..Default::default() };
        let report = flowc::analysis::diff::diff_with(&old, &new, &options).expect("both versions compile");
        report.workflows.into_iter().flat_map(|workflow| workflow.nodes).flat_map(|node| node.differences).collect()
    };
    let usual = differences(None);
    assert!(!usual.is_empty() && usual.iter().all(|difference| difference.example.is_some()), "{usual:?}");
    let starved = differences(Some(0));
    assert_eq!(starved.len(), usual.len());
    for difference in &starved {
        assert!(difference.example.is_none());
        let reason = difference.reason.as_deref().unwrap_or_default();
        assert!(reason.contains("ran out of its budget"), "{reason}");
    }
    let (old_path, new_path) = (case.join("old.flow"), case.join("new.flow"));
    let (status, stdout, stderr) =
        super::flowc(&["diff", "--thorough", &old_path.to_string_lossy(), &new_path.to_string_lossy()]);
    assert_eq!(status, 1, "changes found: {stderr}");
    assert!(stdout.contains("for example:"), "{stdout}");
}
