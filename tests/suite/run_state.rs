//! `flowc run --state` as a store that many runs share: runs at once on one
//! state lose no action, the temporary file never follows a planted link and
//! a killed run's leftovers are cleared, a hand-edited state is refused with
//! the first difference named, a state of the first format is refused and
//! moved by `--migrate`, and an action costs what it changes however long
//! the log already is.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use flowc::check::{check_paths, FsLoader};
use flowc::org::MemoryDirectory;
use flowc::runtime::compiled::Compiled;
use flowc::runtime::report::session::Start;
use flowc::runtime::request::{Action, ActionKind, NewRequest, Runtime};
use flowc::runtime::values::dates::DateTime;
use serde_json::{json, Value as Json};

use super::flowc;

const NOW: &str = "2026-11-28T09:00:00+08:00";
const EXPENSE: &str = "examples/expense/expense.flow";
const ORG: &str = "examples/expense/org.toml";
const REQUEST: &str = "examples/expense/request.json";

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-run-state-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

fn example_actions() -> Vec<Json> {
    let text = std::fs::read_to_string("examples/expense/actions.json").expect("actions");
    serde_json::from_str::<Json>(&text).expect("JSON").as_array().expect("a list").clone()
}

/// Runs `flowc run` on the expense example with `extra` arguments.
fn run(extra: &[&str]) -> (i32, String, String) {
    let mut args = vec!["run", EXPENSE, "--org", ORG, "--now", NOW];
    args.extend_from_slice(extra);
    flowc(&args)
}

/// A state of the expense example after its first four actions: at `财务审核`, E0103 pending.
fn state_at_finance(dir: &Path, name: &str) -> String {
    let first = write(dir, &format!("{name}-first.json"), &Json::from(example_actions()[..4].to_vec()).to_string());
    let state = dir.join(name).to_string_lossy().into_owned();
    let (status, _, stderr) = run(&["--request", REQUEST, "--actions", &first, "--state", &state]);
    assert_eq!(status, 0, "{stderr}");
    state
}

fn saved(path: &str) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).expect("the state")).expect("JSON")
}

fn opinions(state: &Json) -> Vec<String> {
    state["log"]
        .as_array()
        .expect("a log")
        .iter()
        .filter_map(|line| line["opinion"].as_str().map(str::to_owned))
        .collect()
}

/// Starts `flowc run` on the expense example without waiting for it.
fn spawn(extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_flowc"))
        .args(["run", EXPENSE, "--org", ORG, "--now", NOW])
        .args(extra)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start flowc")
}

#[test]
fn runs_at_once_on_one_state_lose_no_action() {
    let dir = scratch("concurrent");
    let comment = |by: &str, opinion: &str| json!([{ "by": by, "do": "comment", "opinion": opinion }]).to_string();
    let mut lost = Vec::new();
    for pair in 0..24 {
        // Three shapes: two comments; the pending approver's submit and a comment;
        // two runs that both find no state and both bring the request to create.
        let shape = pair % 3;
        let (state, first, second) = match shape {
            0 => (
                state_at_finance(&dir, &format!("state-{pair}.json")),
                (comment("E0103", &format!("甲{pair}")), vec![]),
                (comment("E0103", &format!("乙{pair}")), vec![]),
            ),
            1 => {
                let mut submit = example_actions()[6].clone();
                submit["opinion"] = format!("甲{pair}").into();
                (
                    state_at_finance(&dir, &format!("state-{pair}.json")),
                    (Json::from(vec![submit]).to_string(), vec![]),
                    (comment("E0103", &format!("乙{pair}")), vec![]),
                )
            }
            _ => (
                dir.join(format!("state-{pair}.json")).to_string_lossy().into_owned(),
                (comment("E0123", &format!("甲{pair}")), vec!["--request", REQUEST]),
                (comment("E0123", &format!("乙{pair}")), vec!["--request", REQUEST]),
            ),
        };
        let first_actions = write(&dir, &format!("a-{pair}.json"), &first.0);
        let second_actions = write(&dir, &format!("b-{pair}.json"), &second.0);
        let mut first_args = vec!["--state", state.as_str(), "--actions", first_actions.as_str()];
        first_args.extend(&first.1);
        let mut second_args = vec!["--state", state.as_str(), "--actions", second_actions.as_str()];
        second_args.extend(&second.1);
        let runs = [spawn(&first_args), spawn(&second_args)];
        let statuses: Vec<(i32, String)> = runs
            .into_iter()
            .map(|child| {
                let output = child.wait_with_output().expect("wait");
                (output.status.code().unwrap_or(-1), String::from_utf8_lossy(&output.stderr).into_owned())
            })
            .collect();
        let log = opinions(&saved(&state));
        for ((status, stderr), opinion) in statuses.iter().zip([format!("甲{pair}"), format!("乙{pair}")]) {
            assert!(matches!(status, 0 | 1), "pair {pair}: {status} {stderr}");
            if *status == 0 && !log.contains(&opinion) {
                lost.push(format!("pair {pair} (shape {shape}): `{opinion}` exited 0 but is not in the state"));
            }
        }
        if shape != 1 {
            assert!(statuses.iter().all(|(status, _)| *status == 0), "pair {pair}: {statuses:?}");
        }
        if shape == 2 {
            let creations =
                saved(&state)["log"].as_array().expect("log").iter().filter(|line| line["do"] == "create").count();
            assert_eq!(creations, 1, "pair {pair}: the second run continues the request the first created");
        }
    }
    assert!(lost.is_empty(), "{} lost updates:\n{}", lost.len(), lost.join("\n"));
}

/// The process ids the next processes are likely to get (Linux hands them out in order).
#[cfg(target_os = "linux")]
fn next_pids(count: u32) -> Vec<u32> {
    let last: u32 = std::fs::read_to_string("/proc/sys/kernel/ns_last_pid")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(std::process::id());
    (1..=count).map(|step| last + step).collect()
}

#[cfg(target_os = "linux")]
#[test]
fn a_planted_link_at_the_temporary_name_is_never_followed() {
    let dir = scratch("symlink");
    let state = state_at_finance(&dir, "s.json");
    let victim = write(&dir, "victim.txt", "precious\n");
    // A link at every name the old scheme (`.s.json.<pid>.tmp`) would pick for the next runs.
    for pid in next_pids(2000) {
        std::os::unix::fs::symlink(&victim, dir.join(format!(".s.json.{pid}.tmp"))).expect("plant a link");
    }
    let actions =
        write(&dir, "comment.json", &json!([{ "by": "E0103", "do": "comment", "opinion": "核对中" }]).to_string());
    let (status, _, stderr) = run(&["--state", &state, "--actions", &actions]);
    assert_eq!(status, 0, "{stderr}");
    let victim_now = std::fs::read_to_string(&victim).expect("victim");
    assert!(victim_now == "precious\n", "the link's target was written ({} bytes)", victim_now.len());
    let metadata = std::fs::symlink_metadata(&state).expect("state");
    assert!(metadata.file_type().is_file(), "the state is a plain file, not a link");
    assert!(opinions(&saved(&state)).contains(&"核对中".to_owned()));
}

#[test]
fn temporary_files_a_killed_run_left_are_cleared() {
    let dir = scratch("stale");
    let state = state_at_finance(&dir, "s.json");
    // Leftovers of runs killed while writing (old and new naming), and files that are not ours.
    let stale_old = write(&dir, ".s.json.4242.tmp", &"x".repeat(1 << 16));
    let stale_new = write(&dir, ".s.json.4243.0123456789abcdef.tmp", &"x".repeat(1 << 16));
    let other_state = write(&dir, ".s.json.x.4244.tmp", "another state's");
    let unrelated = write(&dir, "s.json.tmp", "not a temporary of ours");
    let actions =
        write(&dir, "comment.json", &json!([{ "by": "E0103", "do": "comment", "opinion": "核对中" }]).to_string());
    let (status, _, stderr) = run(&["--state", &state, "--actions", &actions]);
    assert_eq!(status, 0, "{stderr}");
    assert!(!Path::new(&stale_old).exists(), "the old-style leftover is removed");
    assert!(!Path::new(&stale_new).exists(), "the leftover is removed");
    assert!(Path::new(&other_state).exists(), "another state's temporary file is not touched");
    assert!(Path::new(&unrelated).exists(), "a file that is not a temporary of the state is not touched");
    let temporaries: Vec<String> = std::fs::read_dir(&dir)
        .expect("dir")
        .filter_map(Result::ok)
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".s.json.") && name.ends_with(".tmp") && !name.starts_with(".s.json.x."))
        .collect();
    assert!(temporaries.is_empty(), "{temporaries:?}");
}

/// Edits the saved state at `pointer` and runs it: refused with R0503, naming `names`, file unchanged.
fn assert_refused(dir: &Path, state: &Json, pointer: &str, value: Json, names: &str) {
    let mut edited = state.clone();
    *edited.pointer_mut(pointer).unwrap_or_else(|| panic!("{pointer} in the state")) = value;
    let text = serde_json::to_string_pretty(&edited).expect("JSON");
    let path = write(dir, "edited.json", &text);
    let actions = write(dir, "close.json", &json!([{ "by": "E0001", "do": "submit", "opinion": "同意" }]).to_string());
    let (status, stdout, stderr) = run(&["--state", &path, "--actions", &actions]);
    assert_eq!(status, 1, "{pointer}: {stdout}{stderr}");
    assert!(stderr.contains("R0503"), "{pointer}: {stderr}");
    assert!(stderr.contains(names), "{pointer}: the difference is named ({names}): {stderr}");
    assert_eq!(std::fs::read_to_string(&path).expect("state"), text, "{pointer}: a refused state is left alone");
    let (status, stdout, _) = run(&["--state", &path, "--actions", &actions, "--format", "json"]);
    assert_eq!(status, 1);
    let document: Json = serde_json::from_str(&stdout).expect("one JSON document");
    assert_eq!(document["error"]["code"], "R0503", "{pointer}");
}

#[test]
fn a_hand_edited_state_is_refused_with_the_first_difference_named() {
    let dir = scratch("edited");
    let path = state_at_finance(&dir, "s.json");
    let state = saved(&path);
    // The general manager puts himself where the finance clerk is pending.
    assert_refused(&dir, &state, "/pending", json!(["E0001"]), "`pending`");
    assert_refused(&dir, &state, "/operators", json!(["E0001"]), "`operators`");
    assert_refused(&dir, &state, "/node", json!("总经理审批"), "`node`");
    // A value planted in a field nobody set (财务意见 is written at 财务审核 only).
    assert_refused(&dir, &state, "/form/财务意见", json!("同意付款"), "`form.财务意见`");
    assert_refused(&dir, &state, "/form/明细/0/单价", json!("1.00"), "`form.明细[1].单价`");
    // The log itself: who acted, what an action changed, where it went.
    assert_refused(&dir, &state, "/log/3/exit", json!("大额"), "`log[4].exit`");
    assert_refused(&dir, &state, "/log/1/by", json!("E0001"), "log");
    // The state as saved still continues.
    let actions =
        write(&dir, "comment.json", &json!([{ "by": "E0103", "do": "comment", "opinion": "ok" }]).to_string());
    let (status, _, stderr) = run(&["--state", &path, "--actions", &actions]);
    assert_eq!(status, 0, "{stderr}");
}

#[test]
fn a_state_of_the_first_format_is_refused_and_moved_by_migrate() {
    let dir = scratch("format-1");
    let text = std::fs::read_to_string("tests/data/state/expense-format-1.json").expect("fixture");
    let path = write(&dir, "s.json", &text);
    let rest = write(&dir, "rest.json", &Json::from(example_actions()[4..].to_vec()).to_string());
    let (status, _, stderr) = run(&["--state", &path, "--actions", &rest]);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("R0501") && stderr.contains("format 1"), "{stderr}");
    assert!(stderr.contains("--migrate"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&path).expect("state"), text, "a refused state is left alone");

    let (status, stdout, stderr) = run(&["--state", &path, "--actions", &rest, "--migrate"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("status: archived at 归档"), "{stdout}");
    let moved = saved(&path);
    assert_eq!(moved["flowc_state"], 2);
    assert_eq!(moved["archived"], true);
    // The whole history is kept: the first format's five lines, then the six actions.
    let log = moved["log"].as_array().expect("log").len() + moved["start"]["log"].as_array().map_or(0, Vec::len);
    assert_eq!(log, 11, "{moved:#}");
    // Once moved, it loads as it is (its later lines replayed from the start)…
    let no_actions = write(&dir, "none.json", "[]");
    let (status, _, stderr) = run(&["--state", &path, "--actions", &no_actions]);
    assert_eq!(status, 0, "{stderr}");
    // …and is checked like any other: an edit is refused.
    assert_refused(&dir, &moved, "/start/pending", json!(["E0001"]), "R0503");
}

/// CPU time of this thread (Linux), else wall time: a shared machine's load does not count.
fn thread_time() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let start = *START.get_or_init(std::time::Instant::now);
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .map_or_else(|| start.elapsed(), Duration::from_nanos)
}

#[test]
fn an_action_costs_what_it_changes_however_long_the_log() {
    let now = DateTime::parse(NOW).expect("now");
    let analysis = check_paths(&[PathBuf::from(EXPENSE)], &FsLoader);
    let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
    let directory = MemoryDirectory::load(Path::new(ORG)).expect("org");
    let runtime = Runtime::new(&compiled, &directory);
    let new: NewRequest = serde_json::from_str(&std::fs::read_to_string(REQUEST).expect("request")).expect("JSON");
    let workflow = compiled.workflow_index(None).expect("workflow");
    let comments = |count: usize| -> Vec<Action> {
        (0..count)
            .map(|index| Action {
                by: "E0123".into(),
                kind: ActionKind::Comment,
                opinion: Some(format!("第{index}条意见")),
                set: None,
                to: vec![],
                node: None,
                at: None,
                request: None,
            })
            .collect()
    };
    // Applying, then saving and loading (which replays the log): the best of three for each size.
    let cost = |count: usize| -> (Duration, Duration) {
        let actions = comments(count);
        let mut best = (Duration::MAX, Duration::MAX);
        for _ in 0..3 {
            let started = thread_time();
            let result = runtime.run(Start::New { workflow, request: &new }, &actions, now);
            let applied = thread_time() - started;
            let request = result.request.expect("created");
            assert_eq!(request.log.len(), count + 1);
            let text = runtime.save_state(&request).expect("save");
            let started = thread_time();
            let loaded = runtime.load_state(&text, false, now).expect("load");
            let loading = thread_time() - started;
            assert_eq!(loaded, request);
            best = (best.0.min(applied), best.1.min(loading));
        }
        best
    };
    let small = cost(1_000);
    let large = cost(8_000);
    // Eight times the actions: linear is about 8, quadratic about 64.
    let ratio = |large: Duration, small: Duration| large.as_secs_f64() / small.as_secs_f64().max(1e-6);
    assert!(ratio(large.0, small.0) < 20.0, "applying: {small:?} for 1,000, {large:?} for 8,000");
    assert!(ratio(large.1, small.1) < 20.0, "loading: {small:?} for 1,000, {large:?} for 8,000");
}
