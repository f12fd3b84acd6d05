//! Running requests, as data. Each folder of `tests/data/run/` is a case —
//! a `.flow` (or its parent's), `org.toml` (or its parent's), `request.json`,
//! `actions.json` and `expect.json` (and optionally `run.toml`, the clock) —
//! and so is every example folder with a `request.json`. For each case:
//! - `expect.json` is asserted: `status`, and when given `error` (the code),
//!   `step`, `node`, `pending`, `nodes` (a split request's current nodes), `form` (a subset of
//!   field values);
//! - the JSON trace is snapshot-tested (`tests/snapshots/run__<case>.snap`);
//! - when an action is refused, the request reported is exactly the one the
//!   actions before it produced (a refusal changes nothing), and the same
//!   holds after saving and loading the state.
//!
//! Adding a case is adding a folder.

use std::path::{Path, PathBuf};

use flowc::check::{check_paths, FsLoader};
use flowc::org::MemoryDirectory;
use flowc::runtime::compiled::Compiled;
use flowc::runtime::report::session::{report, RunFiles, RunSettings, Start};
use flowc::runtime::request::{Action, NewRequest, Runtime};
use flowc::runtime::values::dates::DateTime;
use serde_json::Value as Json;

const DEFAULT_NOW: &str = "2026-11-28T09:00:00+08:00";

fn case_folders() -> Vec<PathBuf> {
    let mut folders = Vec::new();
    for root in ["tests/data/run", "examples"] {
        let Ok(entries) = std::fs::read_dir(root) else { continue };
        let mut dirs: Vec<PathBuf> =
            entries.filter_map(Result::ok).map(|entry| entry.path()).filter(|path| path.is_dir()).collect();
        dirs.sort();
        for dir in dirs {
            if dir.join("request.json").is_file() {
                folders.push(dir.clone());
            }
            let Ok(children) = std::fs::read_dir(&dir) else { continue };
            let mut children: Vec<PathBuf> = children
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.join("request.json").is_file())
                .collect();
            children.sort();
            folders.extend(children);
        }
    }
    folders
}

fn read_json(path: &Path) -> Json {
    let text = std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn case_name(folder: &Path) -> String {
    folder.to_string_lossy().replace(['/', '\\'], "__")
}

/// Runs one case and checks everything but the snapshot; returns the JSON trace, fields in order.
fn run_case(folder: &Path) -> String {
    let files = RunFiles::from_folder(folder).unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
    let flow = files.flow.clone().expect("a .flow");
    let analysis = check_paths(std::slice::from_ref(&flow), &FsLoader);
    assert_eq!(analysis.error_count(), 0, "{} has check errors", flow.display());
    let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path))
        .unwrap_or_else(|error| panic!("{}: {error}", folder.display()));
    let org = files.org.clone().unwrap_or_else(|| panic!("{}: no org.toml", folder.display()));
    let directory = MemoryDirectory::load(&org).unwrap_or_else(|error| panic!("{}: {error}", org.display()));
    let runtime = Runtime::new(&compiled, &directory);

    let expect_path = folder.join("expect.json");
    let expect = if expect_path.is_file() {
        read_json(&expect_path)
    } else if folder.starts_with("examples") {
        serde_json::json!({ "status": "archived" })
    } else {
        panic!("{}: every test case needs an expect.json", folder.display())
    };
    // The clock: the case's expect.json, else its run.toml (as `flowc run FOLDER` reads it), else the default.
    let settings = files.settings.as_ref().map(|path| {
        RunSettings::parse(&std::fs::read_to_string(path).expect("run.toml"))
            .unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    });
    let now = match expect.get("now").and_then(Json::as_str) {
        Some(text) => DateTime::parse(text).expect("a datetime"),
        None => settings
            .and_then(|settings| settings.now)
            .unwrap_or_else(|| DateTime::parse(DEFAULT_NOW).expect("a datetime")),
    };
    let request_path = files.request.as_deref().expect("request.json");
    let new: NewRequest = serde_json::from_str(&std::fs::read_to_string(request_path).expect("request.json"))
        .unwrap_or_else(|error| panic!("{}: request.json: {error}", folder.display()));
    let actions: Vec<Action> = match &files.actions {
        // From the text, as `flowc run` reads it: numbers keep every digit.
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path).expect("actions.json"))
            .unwrap_or_else(|error| panic!("{}: {error}", path.display())),
        None => Vec::new(),
    };
    let workflow = compiled.workflow_index(new.workflow.as_deref()).expect("the workflow");
    // `until`: after the last action, fire the deadline timers due by then (`flowc run --until`).
    let until = expect.get("until").and_then(Json::as_str).map(|until| DateTime::parse(until).expect("a datetime"));
    let result = runtime.run_until(Start::New { workflow, request: &new }, &actions, now, until);
    let ordered = report(&runtime, &result, now, &analysis.sources);
    let snapshot = serde_json::to_string_pretty(&ordered).expect("serialize");
    let report: Json = serde_json::to_value(&ordered).expect("serialize");

    // What the case expects.
    let name = folder.display();
    assert_eq!(report["status"], expect["status"], "{name}: status\n{report:#}");
    if let Some(code) = expect.get("error") {
        assert_eq!(&report["error"]["code"], code, "{name}: error code\n{report:#}");
    }
    for key in ["node", "pending", "nodes"] {
        if let Some(wanted) = expect.get(key) {
            assert_eq!(&report["request"][key], wanted, "{name}: {key}");
        }
    }
    if let Some(step) = expect.get("step") {
        assert_eq!(&report["error"]["step"], step, "{name}: refused step");
    }
    if let Some(Json::Object(fields)) = expect.get("form") {
        for (field, wanted) in fields {
            assert_eq!(&report["request"]["form"][field], wanted, "{name}: form field {field}");
        }
    }

    // A refusal leaves the request exactly as the actions before it left it.
    if let Some((refused, _)) = &result.error {
        if *refused > 0 {
            // The timers due before the refused action fired; the action changed nothing.
            let refused_at = actions.get(refused - 1).and_then(|action| action.at.as_deref()).and_then(DateTime::parse);
            let before =
                runtime.run_until(Start::New { workflow, request: &new }, &actions[..refused - 1], now, refused_at);
            assert!(before.error.is_none(), "{name}: the actions before the refused one succeed");
            assert_eq!(before.request, result.request, "{name}: the refused action changed the request");
            // Saved and loaded, the state is the same request.
            if let Some(request) = &result.request {
                let saved = runtime.save_state(request).expect("save");
                let loaded = runtime.load_state(&saved, false, now).expect("load");
                assert_eq!(&loaded, request, "{name}: state round trip");
                let code = result.error.as_ref().map(|e| e.1.code).expect("code");
                // R0211 (an action dated before the run's clock) is the run's refusal, not `apply`'s.
                if code != flowc::diag::Code::R0211 {
                    // On the request it names, as the run did (`"request": "2"`).
                    let again = runtime.act_in_family(&loaded, &actions[refused - 1], refused_at.unwrap_or(now), false);
                    assert_eq!(again.map(|_| ()).map_err(|error| error.code), Err(code));
                }
            }
        }
    }
    // A request whose deadlines fired is the same request once saved and loaded: its log replays.
    if let Some(request) =
        result.request.as_ref().filter(|request| request.log.entries().iter().any(|entry| entry.by == "system"))
    {
        let saved = runtime.save_state(request).expect("save");
        let loaded =
            runtime.load_state(&saved, false, now).unwrap_or_else(|error| panic!("{name}: load: {error:?}\n{saved}"));
        assert_eq!(&loaded, request, "{name}: state round trip");
    }
    snapshot
}

#[test]
fn run_cases() {
    let folders = case_folders();
    assert!(folders.len() >= 6, "the cases and examples are found");
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        for folder in folders {
            let report = run_case(&folder);
            insta::assert_snapshot!(format!("run__{}", case_name(&folder)), report);
        }
    });
}

/// The text trace of every example and of the trace cases (`tests/data/run/trace/`), reviewed:
/// the story an analyst reads. Run as `flowc run FOLDER` with no `--now`: the folders' `run.toml`
/// fixes the clock, so the stories are the same on any day.
#[test]
fn text_traces() {
    let folders = case_folders();
    let traced: Vec<&PathBuf> = folders
        .iter()
        .filter(|folder| folder.starts_with("examples") || folder.starts_with("tests/data/run/trace"))
        .collect();
    assert!(traced.len() >= 12, "the examples and the trace cases are found");
    for folder in traced {
        let folder_text = folder.to_string_lossy().into_owned();
        let expected_status = match std::fs::read_to_string(folder.join("expect.json")) {
            Ok(text) if text.contains("\"refused\"") => 1,
            _ => 0,
        };
        let (status, stdout, stderr) = super::flowc(&["run", &folder_text]);
        assert_eq!(status, expected_status, "{folder_text}: {stderr}\n{stdout}");
        assert!(!stdout.contains('\u{1b}') && !stdout.contains('\r'), "{folder_text}: a control character got through");
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("trace__{}", case_name(folder)), stdout);
        });
    }
}

/// The text trace of deadlines through the command line (`--until`): each fired timer is a step
/// by system, with its rule and its reminders.
#[test]
fn deadline_text_trace() {
    let (status, stdout, stderr) = super::flowc(&[
        "run",
        "tests/data/run/deadlines/timeout-takes-exit-then-hands",
        "--now",
        DEFAULT_NOW,
        "--until",
        "2026-12-05T00:00:00+08:00",
    ]);
    assert_eq!(status, 0, "{stderr}\n{stdout}");
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_snapshot!("trace__deadlines__timeout-takes-exit-then-hands", stdout);
    });
    let (status, _, stderr) = super::flowc(&[
        "run",
        "tests/data/run/deadlines/timeout-takes-exit-then-hands",
        "--now",
        DEFAULT_NOW,
        "--until",
        "next friday",
    ]);
    assert_eq!(status, 2, "a bad --until is a usage error: {stderr}");
    assert!(stderr.contains("--until next friday"), "{stderr}");
}
