//! Random edits of saved states, generated (seeded, the same every run): for
//! each example, the state after half of its actions and after all of them
//! is edited — field values, `pending`, the node, operators, log lines (who,
//! what, where, what changed, deleted, repeated, swapped), the source hash,
//! the format — and loaded. Each edited state either loads to exactly the
//! request its log gives (replayed here, independently, with `create` and
//! `apply`), or is refused with a clear error; an edit of what the actions
//! made (not of what they were given) that changes a stored value is always
//! refused. A sample goes through `flowc run`: exit 0, 1 or 2, one JSON
//! document under `--format json`, never a panic, and a refused state file
//! left byte for byte as it was.

use std::path::{Path, PathBuf};

use flowc::check::types::FieldKind;
use flowc::check::{check_paths, FsLoader};
use flowc::org::MemoryDirectory;
use flowc::runtime::compiled::Compiled;
use flowc::runtime::report::session::{RunFiles, Start};
use flowc::runtime::request::{Action, ActionKind, FormInput, NewRequest, Request, Runtime};
use flowc::runtime::values::dates::DateTime;
use serde_json::{json, Value as Json};

use super::flowc;

const NOW: &str = "2026-11-28T09:00:00+08:00";
const EDITS_PER_STATE: usize = 40;
/// One edit in this many also goes through the command line.
const THROUGH_THE_CLI: usize = 8;

/// A small deterministic generator (no dependency, same sequence every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
    fn below(&mut self, bound: usize) -> usize {
        self.next() % bound.max(1)
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Every example folder with a request (subfolders included).
fn example_cases() -> Vec<PathBuf> {
    let mut cases = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("examples")
        .expect("examples")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        let mut children: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("example")
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.join("request.json").is_file())
            .collect();
        children.sort();
        if dir.join("request.json").is_file() {
            cases.push(dir);
        }
        cases.extend(children);
    }
    cases
}

/// What an edit touched, which decides what must happen to it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Touched {
    /// What the actions made (content, or a log line's outcome): a real change is refused.
    Made,
    /// What an action was given, or the log's shape: the state may load, to what its log gives.
    Given,
    /// A value nobody trusts (computed) or a harmless one: may load or not.
    Free,
}

struct Edit {
    what: String,
    touched: Touched,
}

/// The names an edit may use: people, nodes, fields.
struct Palette {
    people: Vec<String>,
    nodes: Vec<String>,
    computed: Vec<String>,
}

impl Palette {
    fn value(&self, random: &mut Lcg) -> Json {
        match random.below(12) {
            0 => Json::Null,
            1 => json!(""),
            2 => json!(random.below(100_000)),
            3 => json!(format!("{}.{:02}", random.below(100_000), random.below(100))),
            4 => json!(true),
            5 => json!([]),
            6 => json!({}),
            7 => json!(random.pick(&self.people)),
            8 => json!(format!("2026-{:02}-{:02}", 1 + random.below(12), 1 + random.below(28))),
            9 => json!(random.pick(&self.nodes)),
            10 => json!("x".repeat(1 + random.below(300))),
            _ => json!(-1.5),
        }
    }

    fn people(&self, random: &mut Lcg) -> Json {
        let count = random.below(3);
        Json::from((0..count).map(|_| random.pick(&self.people).clone()).collect::<Vec<_>>())
    }
}

/// A random edit of `state` in place.
fn edit(state: &mut Json, palette: &Palette, random: &mut Lcg) -> Edit {
    let made = |what: String| Edit { what, touched: Touched::Made };
    match random.below(14) {
        0 | 1 => {
            // A field value (a computed one is not trusted, so it may load).
            let Some(form) = state["form"].as_object_mut() else { return made("no form".into()) };
            let names: Vec<String> = form.keys().cloned().collect();
            let name = random.pick(&names).clone();
            let touched = if palette.computed.contains(&name) { Touched::Free } else { Touched::Made };
            let value = palette.value(random);
            form.insert(name.clone(), value.clone());
            Edit { what: format!("form.{name} = {value}"), touched }
        }
        2 => {
            // A cell of a detail table.
            let Some(form) = state["form"].as_object_mut() else { return made("no form".into()) };
            let tables: Vec<String> = form
                .iter()
                .filter(|(_, value)| value.as_array().is_some_and(|rows| rows.first().is_some_and(Json::is_object)))
                .map(|(name, _)| name.clone())
                .collect();
            if tables.is_empty() {
                return Edit { what: "no table".into(), touched: Touched::Free };
            }
            let table = random.pick(&tables).clone();
            let rows = form[&table].as_array_mut().expect("rows");
            let row = random.below(rows.len());
            let cells = rows[row].as_object_mut().expect("a row");
            let names: Vec<String> = cells.keys().cloned().collect();
            let name = random.pick(&names).clone();
            let touched = if palette.computed.contains(&name) { Touched::Free } else { Touched::Made };
            let value = palette.value(random);
            cells.insert(name.clone(), value.clone());
            Edit { what: format!("form.{table}[{}].{name} = {value}", row + 1), touched }
        }
        3 => {
            let value = palette.people(random);
            state["pending"] = value.clone();
            made(format!("pending = {value}"))
        }
        4 => {
            let value = json!(random.pick(&palette.nodes));
            state["node"] = value.clone();
            made(format!("node = {value}"))
        }
        5 => {
            let key = *random.pick(&["operators", "forwarded", "notified"]);
            let value = palette.people(random);
            state[key] = value.clone();
            made(format!("{key} = {value}"))
        }
        6 => {
            let (key, value) = match random.below(5) {
                0 => ("archived", json!(state["archived"] != json!(true))),
                1 => ("batch", json!(random.below(4))),
                2 => ("creator", json!(random.pick(&palette.people))),
                3 => ("created_at", json!("2026-11-27T09:00:00+08:00")),
                _ => ("node_operators", json!({ random.pick(&palette.nodes).clone(): random.pick(&palette.people) })),
            };
            state[key] = value.clone();
            made(format!("{key} = {value}"))
        }
        7 | 8 => {
            // What a log line says happened.
            let Some(log) = state["log"].as_array_mut() else { return made("no log".into()) };
            let line = random.below(log.len());
            let (key, value) = match random.below(5) {
                0 => ("node", json!(random.pick(&palette.nodes))),
                1 => ("exit", json!(random.pick(&["同意", "退回", "大额", "通过", "x"]))),
                2 => ("to_node", json!(random.pick(&palette.nodes))),
                3 => ("changed", json!([{ "field": "x", "from": null, "to": 1, "by": "set" }])),
                _ => ("changed", json!([])),
            };
            let before = log[line].get(key).cloned().unwrap_or(Json::Null);
            log[line][key] = value.clone();
            let touched =
                if before == value || (before.is_null() && value == json!([])) { Touched::Free } else { Touched::Made };
            Edit { what: format!("log[{}].{key} = {value}", line + 1), touched }
        }
        9 | 10 => {
            // What a log line was given: who, which action, the opinion, the people, the time, `set`.
            let Some(log) = state["log"].as_array_mut() else { return made("no log".into()) };
            let line = random.below(log.len());
            let (key, value) = match random.below(7) {
                0 => ("by", json!(random.pick(&palette.people))),
                1 => ("do", json!(random.pick(&["submit", "reject", "comment", "forward", "cc", "create", "approve"]))),
                2 => ("opinion", json!("改过的意见")),
                3 => ("to", palette.people(random)),
                4 => ("time", json!("2026-11-29T10:00:00+08:00")),
                5 => ("time", json!("yesterday")),
                _ => ("set", json!({ "事由": "改过" })),
            };
            log[line][key] = value.clone();
            Edit { what: format!("log[{}].{key} = {value}", line + 1), touched: Touched::Given }
        }
        11 => {
            let Some(log) = state["log"].as_array_mut() else { return made("no log".into()) };
            let line = random.below(log.len());
            let what = match random.below(3) {
                0 => {
                    log.remove(line);
                    format!("log[{}] removed", line + 1)
                }
                1 => {
                    let copy = log[line].clone();
                    log.insert(line, copy);
                    format!("log[{}] repeated", line + 1)
                }
                _ => {
                    let other = random.below(log.len());
                    log.swap(line, other);
                    format!("log[{}] and log[{}] swapped", line + 1, other + 1)
                }
            };
            Edit { what, touched: Touched::Given }
        }
        12 => {
            let hash = state["source_hash"].as_str().unwrap_or_default().to_owned();
            let flipped: String = hash
                .chars()
                .enumerate()
                .map(|(index, c)| {
                    if index == 0 {
                        if c == '0' {
                            '1'
                        } else {
                            '0'
                        }
                    } else {
                        c
                    }
                })
                .collect();
            state["source_hash"] = json!(flipped);
            made("source_hash changed".into())
        }
        _ => {
            let (key, value) = match random.below(3) {
                0 => ("flowc_state", json!(1 + 2 * random.below(2))),
                1 => ("planted", json!(true)),
                _ => ("workflow", json!("请假")),
            };
            state[key] = value.clone();
            made(format!("{key} = {value}"))
        }
    }
}

#[derive(serde::Deserialize)]
struct RawLog {
    log: Vec<RawLine>,
}

#[derive(serde::Deserialize)]
struct RawLine {
    form: Option<Box<serde_json::value::RawValue>>,
}

/// What the state's log gives, replayed here with the public API: the
/// creation from its first line, then each action as given at its time.
fn replay(runtime: &Runtime<'_>, workflow: usize, text: &str) -> Option<Request> {
    let state: Json = serde_json::from_str(text).ok()?;
    let log = state["log"].as_array()?;
    let (first, actions) = log.split_first()?;
    if first["do"] != "create" {
        return None;
    }
    // The form as the creator gave it, as written in the state (kept as text, like a request file).
    let form = serde_json::from_str::<RawLog>(text).ok()?.log.into_iter().next()?.form?;
    let new = NewRequest {
        workflow: None,
        creator: first["by"].as_str()?.to_owned(),
        form: FormInput::Text(form.get().to_owned()),
        sequence: state.get("sequence").and_then(Json::as_u64),
        started_by: first.get("started_by").and_then(Json::as_str).map(str::to_owned),
    };
    let time = DateTime::parse(first["time"].as_str()?)?;
    let (mut request, _) = runtime.create(workflow, &new, time).ok()?;
    for line in actions {
        let time = DateTime::parse(line["time"].as_str()?)?;
        // What the system did: a deadline's timer, or a started request's fields given back.
        if line["by"] == "system" {
            request = match line["do"].as_str()? {
                "child_archived" => {
                    let values = FormInput::Fields(line["set"].as_object()?.clone());
                    runtime.resume(&request, &values, line["to"][0].as_str()?, time).ok()?.0
                }
                _ => {
                    let timer = runtime.due(&request, time).into_iter().next()?;
                    runtime.fire(&request, &timer).ok()?.0
                }
            };
            continue;
        }
        let kind: ActionKind = serde_json::from_value(line["do"].clone()).ok()?;
        let action = Action {
            by: line["by"].as_str()?.to_owned(),
            kind,
            opinion: match line.get("opinion") {
                None => None,
                Some(opinion) => Some(opinion.as_str()?.to_owned()),
            },
            set: match line.get("set") {
                None => None,
                Some(set) => Some(flowc::runtime::request::FormInput::Fields(set.as_object()?.clone())),
            },
            to: serde_json::from_value(line.get("to").cloned().unwrap_or(json!([]))).ok()?,
            node: line.get("node").and_then(|node| node.as_str()).map(str::to_owned),
            at: None,
            request: None,
        };
        request = runtime.apply(&request, &action, time).ok()?.0;
    }
    // The requests it started: each replayed from its own state.
    for child in state.get("children").and_then(Json::as_array).into_iter().flatten() {
        let child_state = &child["state"];
        let child_workflow = runtime.compiled.workflow_index(child_state["workflow"].as_str()).ok()?;
        let child_text = serde_json::to_string_pretty(child_state).ok()?;
        request.children.push(flowc::runtime::request::subflows::Child {
            id: child["id"].as_str()?.to_owned(),
            request: replay(runtime, child_workflow, &child_text)?,
        });
    }
    // Loading also recomputes the form at its clock and before an action whose time differs
    // from the line before; the examples' formulas do not read the clock, so that changes nothing.
    Some(request)
}

/// Loads `text` through `flowc run` (no action) and checks what a process must do.
fn through_the_cli(case: &Path, text: &str, scratch: &Path, loads: bool, what: &str) {
    let path = scratch.join("state.json");
    std::fs::write(&path, text).expect("write");
    let state = path.to_string_lossy().into_owned();
    let folder = case.to_string_lossy().into_owned();
    let no_actions = scratch.join("no-actions.json");
    std::fs::write(&no_actions, "[]").expect("write");
    let no_actions = no_actions.to_string_lossy().into_owned();
    let (status, stdout, stderr) =
        flowc(&["run", &folder, "--state", &state, "--actions", &no_actions, "--now", NOW, "--format", "json"]);
    assert!(matches!(status, 0..=2), "{what}: exit {status}: {stderr}");
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    if status == 0 || !stdout.is_empty() {
        let _: Json = serde_json::from_str(&stdout)
            .unwrap_or_else(|error| panic!("{what}: one JSON document: {error}\n{stdout}"));
    }
    assert_eq!(status == 0, loads, "{what}: the command and the library agree: {stdout}{stderr}");
    if status != 0 {
        assert_eq!(std::fs::read_to_string(&path).expect("state"), text, "{what}: a refused state is left alone");
    }
}

#[test]
fn edited_states_load_to_what_their_log_gives_or_are_refused() {
    let now = DateTime::parse(NOW).expect("now");
    let mut random = Lcg(8_2026_1128);
    let scratch = std::env::temp_dir().join(format!("flowc-adversarial-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).expect("scratch");
    let mut refused_by_code = std::collections::BTreeMap::<String, usize>::new();
    let mut loaded = 0;
    for case in example_cases() {
        let name = case.display().to_string();
        let files = RunFiles::from_folder(&case).expect("files");
        let analysis = check_paths(&[files.flow.clone().expect("flow")], &FsLoader);
        let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
        let directory = MemoryDirectory::load(files.org.as_deref().expect("org")).expect("org");
        let runtime = Runtime::new(&compiled, &directory);
        let new: NewRequest =
            serde_json::from_str(&std::fs::read_to_string(case.join("request.json")).expect("request")).expect("JSON");
        let actions: Vec<Action> =
            serde_json::from_str(&std::fs::read_to_string(case.join("actions.json")).expect("actions")).expect("JSON");
        let workflow = compiled.workflow_index(new.workflow.as_deref()).expect("workflow");
        let form = &compiled.program.forms[compiled.program.workflows[workflow].form];
        let palette = Palette {
            people: directory
                .records()
                .employees
                .iter()
                .map(|employee| employee.id.clone())
                .chain(["NOBODY".into()])
                .collect(),
            nodes: compiled.program.workflows[workflow]
                .nodes
                .iter()
                .map(|node| node.name.clone())
                .chain(["无此节点".into()])
                .collect(),
            computed: form
                .fields
                .iter()
                .filter(|field| field.formula.is_some() || matches!(field.kind, FieldKind::Link | FieldKind::Note))
                .map(|field| field.name.clone())
                .collect(),
        };
        for actions_taken in [actions.len() / 2, actions.len()] {
            let result = runtime.run(Start::New { workflow, request: &new }, &actions[..actions_taken], now);
            assert!(result.error.is_none(), "{name}: the example runs");
            let request = result.request.expect("a request");
            let text = runtime.save_state(&request).expect("save");
            let saved: Json = serde_json::from_str(&text).expect("JSON");
            for round in 0..EDITS_PER_STATE {
                let mut edited = saved.clone();
                let edit = edit(&mut edited, &palette, &mut random);
                let what = format!("{name} after {actions_taken} actions, edit {round}: {}", edit.what);
                let changed = edited != saved;
                let edited_text = serde_json::to_string_pretty(&edited).expect("JSON");
                match runtime.load_state(&edited_text, false, now) {
                    Ok(request) => {
                        loaded += 1;
                        let expected = replay(&runtime, workflow, &edited_text);
                        assert_eq!(Some(&request), expected.as_ref(), "{what}: loads to what its log gives");
                        assert!(
                            edit.touched != Touched::Made || !changed,
                            "{what}: a change to what the actions made was accepted"
                        );
                    }
                    Err(error) => {
                        assert!(!error.message.is_empty(), "{what}");
                        assert!(
                            ["R0305", "R0501", "R0502", "R0503"].contains(&error.code.as_str()),
                            "{what}: refused with {}: {}",
                            error.code,
                            error.message
                        );
                        assert!(changed, "{what}: an unchanged state is refused: {}", error.message);
                        *refused_by_code.entry(error.code.to_string()).or_default() += 1;
                    }
                }
                if round % THROUGH_THE_CLI == 0 {
                    let loads = runtime.load_state(&edited_text, false, now).is_ok();
                    through_the_cli(&case, &edited_text, &scratch, loads, &what);
                }
            }
        }
    }
    // The generator reaches both outcomes and the state-specific refusals.
    assert!(loaded > 0, "no edit loaded");
    for code in ["R0501", "R0502", "R0503"] {
        assert!(
            refused_by_code.get(code).copied().unwrap_or(0) > 0,
            "no edit refused with {code}: {refused_by_code:?}"
        );
    }
}
