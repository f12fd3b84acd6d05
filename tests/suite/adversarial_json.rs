//! Adversarial JSON: what a hostile or careless hand puts in `request.json`, `actions.json`, a
//! state file or a directory. First the regressions of issue 8 one by one (numbers read exactly,
//! a form that is not an object, keys given twice), then a generated test: every example's
//! `request.json` and `actions.json` (`examples/*/` and their subfolders) mutated at random —
//! numbers no decimal holds or that need every digit, keys given twice, values of the wrong
//! shape, deep nesting, broken text — a few hundred cases, seeded, the same every run. Each goes
//! through the library, and a sample through the binary. Whatever comes in: no panic; a refusal
//! has an R code and a located message (a place in the `.flow`, or a name in backticks) and
//! leaves the request exactly as the actions before it left it; a state saved from what was
//! accepted loads as the same request; `flowc run --format json` prints exactly one JSON
//! document and exits 0, 1 (refused) or 2 (a malformed file), as the library predicts.

use std::path::{Path, PathBuf};

use flowc::check::{check_paths, FsLoader};
use flowc::org::MemoryDirectory;
use flowc::runtime::compiled::Compiled;
use flowc::runtime::report::session::{report, RunFiles, Start};
use flowc::runtime::request::{Action, NewRequest, Runtime};
use flowc::runtime::values::dates::DateTime;
use serde_json::Value as Json;

use super::flowc;

const NOW: &str = "2026-11-28T09:00:00+08:00";

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("flowc-adversarial-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

/// The one JSON document `--format json` printed.
fn one_document(stdout: &str) -> Json {
    let documents: Vec<Json> = serde_json::Deserializer::from_str(stdout)
        .into_iter::<Json>()
        .collect::<Result<_, _>>()
        .unwrap_or_else(|error| panic!("stdout is not JSON ({error}):\n{stdout}"));
    assert_eq!(documents.len(), 1, "exactly one JSON document:\n{stdout}");
    documents.into_iter().next().expect("one")
}

// ------------------------------------------------------------------------------------------
// The regressions, one by one.

#[test]
fn a_form_that_is_not_an_object_is_a_malformed_request() {
    let dir = scratch("form-shape");
    for form in ["[1]", "\"差旅\"", "1e400", "true", "null"] {
        let request = write(&dir, "request.json", &format!("{{ \"creator\": \"E0123\",\n  \"form\": {form} }}"));
        let args = ["run", "examples/expense/expense.flow", "--org", "examples/expense/org.toml", "--now", NOW];
        let (status, stdout, stderr) = flowc(&[&args[..], &["--request", &request]].concat());
        assert_eq!(status, 2, "{form}: {stdout}{stderr}");
        assert!(stderr.starts_with("error: `"), "{form}: {stderr}");
        assert!(stderr.contains("expected an object of field values at line 2"), "{form}: {stderr}");
        let (status, stdout, _) = flowc(&[&args[..], &["--request", &request, "--format", "json"]].concat());
        assert_eq!(status, 2, "{form}");
        let document = one_document(&stdout);
        assert_eq!(document["status"], "error");
        assert!(document["error"]["message"].as_str().is_some_and(|message| message.contains("request.json")));
    }
    let actions = write(&dir, "actions.json", r#"[{ "by": "E0123", "do": "submit", "set": [1] }]"#);
    let (status, _, stderr) = flowc(&[
        "run",
        "examples/expense",
        "--request",
        "examples/expense/request.json",
        "--actions",
        &actions,
        "--now",
        NOW,
    ]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("expected an object of field values"), "{stderr}");
}

#[test]
fn a_number_no_field_can_hold_is_refused_with_the_field_named() {
    let dir = scratch("too-large");
    for (value, code) in [("1e400", "R0102"), ("\"1e400\"", "R0304"), ("1000000000000000.001", "R0304")] {
        let request =
            write(&dir, "request.json", &format!(r#"{{ "creator": "E0123", "form": {{ "预支": {value} }} }}"#));
        let (status, stdout, stderr) = flowc(&["run", "examples/expense", "--request", &request, "--format", "json"]);
        assert_eq!(status, 1, "{value}: {stderr}");
        let document = one_document(&stdout);
        assert_eq!(document["error"]["code"], code, "{value}: {document:#}");
        let message = document["error"]["message"].as_str().expect("a message");
        assert!(message.contains("`预支`") && message.contains(value), "{value}: {message}");
    }
}

/// Compiles `tests/data/run/entered` for the library tests.
fn entered_program() -> (Compiled, MemoryDirectory) {
    let analysis = check_paths(&[PathBuf::from("tests/data/run/entered/entered.flow")], &FsLoader);
    assert_eq!(analysis.error_count(), 0);
    let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
    let directory = MemoryDirectory::load(Path::new("tests/data/run/entered/org.toml")).expect("org");
    (compiled, directory)
}

#[test]
fn a_state_reads_its_numbers_exactly_and_refuses_a_key_given_twice() {
    let (compiled, directory) = entered_program();
    let runtime = Runtime::new(&compiled, &directory);
    let now = DateTime::parse(NOW).expect("now");
    // A request whose numbers are JSON numbers beyond an f64's digits: the state keeps every digit,
    // in the form and in the log's creation (which replay reads), and loads back to the same text.
    let new: NewRequest = serde_json::from_str(
        r#"{ "creator": "E22", "form": { "另数": 18446744073709551617, "金额": 1000000000000000.01, "明细": [{ "项目": "纸", "单价": 0.1 }] } }"#,
    )
    .expect("a request");
    let (request, _) = runtime.create(0, &new, now).expect("created");
    let exact = runtime.save_state(&request).expect("saved");
    for kept in [r#""另数": "18446744073709551617""#, r#""金额": "1000000000000000.01""#, r#""单价": "0.10""#] {
        assert!(exact.contains(kept), "{kept}:\n{exact}");
    }
    assert!(exact.contains("18446744073709551617,"), "the creation keeps the number as given:\n{exact}");
    let loaded = runtime.load_state(&exact, false, now).expect("loads");
    assert_eq!(runtime.save_state(&loaded).expect("saved"), exact);

    // The small request of the cases below, and a hand edit of one of its numbers: refused, since a
    // state is only what its actions made it.
    let new: NewRequest = serde_json::from_str(
        r#"{ "creator": "E22", "form": { "另数": 7, "金额": "12.50", "明细": [{ "项目": "纸", "单价": "0.10" }] } }"#,
    )
    .expect("a request");
    let (request, _) = runtime.create(0, &new, now).expect("created");
    let saved = runtime.save_state(&request).expect("saved");
    assert!(saved.contains(r#""另数": 7,"#), "{saved}");
    let edited = saved.replacen(r#""另数": 7,"#, r#""另数": 18446744073709551617,"#, 1);
    let error = runtime.load_state(&edited, false, now).expect_err("a hand edit is refused");
    assert_eq!(error.code.as_str(), "R0503", "{error}");

    for twice in [
        saved.replace(r#""另数": 7,"#, r#""另数": 7, "另数": 8,"#),
        saved.replace(r#""项目": "纸","#, r#""项目": "纸", "项目": "笔","#),
    ] {
        assert_ne!(twice, saved);
        let error = runtime.load_state(&twice, false, now).expect_err("refused");
        // R0502 for the form, or R0503 when the log's creation (which replay reads) has it too.
        assert!(matches!(error.code.as_str(), "R0502" | "R0503"), "{error}");
        assert!(error.message.contains("twice"), "{}", error.message);
    }
    let too_many_decimals = saved.replace(r#""金额": "12.50""#, r#""金额": 12.501"#);
    let error = runtime.load_state(&too_many_decimals, false, now).expect_err("refused");
    // The log's creation holds the value too: replay refuses it, naming the R0304 inside.
    assert!(error.code.as_str() == "R0304" || error.message.contains("R0304"), "{error}");
}

#[test]
fn a_directory_reads_security_levels_exactly() {
    let directory = |security: &str| {
        MemoryDirectory::from_json_str(&format!(
            r#"{{ "subcompany": [{{ "id": "HQ", "name": "总部" }}],
                 "department": [{{ "id": "D", "name": "部", "subcompany": "HQ" }}],
                 "employee": [{{ "id": "E1", "name": "张三", "department": "D", "security": {security} }}] }}"#
        ))
    };
    let loaded = directory("9223372036854775807").expect("the largest level loads");
    assert_eq!(loaded.records().employees[0].security, i64::MAX);
    for refused in ["18446744073709551617", "9223372036854775808", "1e2", "10.0", "1.5", "\"10\""] {
        let message = directory(refused).map(|_| ()).expect_err(refused).to_string();
        assert!(message.contains("security level") || message.contains("invalid type"), "{refused}: {message}");
        // serde_json reads 18446744073709551617 as 18446744073709552000: never quote that.
        assert!(!message.contains("18446744073709552000") && !message.contains("e19"), "{refused}: {message}");
    }
}

// ------------------------------------------------------------------------------------------
// The generated cases.

/// A small deterministic generator (no dependency, the same sequence every run).
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
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// A JSON tree whose leaves are raw text, so a mutation can put in what `serde_json::Value`
/// cannot hold (`1e400`, 27 digits, a key twice).
#[derive(Clone)]
enum Node {
    Raw(String),
    List(Vec<Node>),
    Object(Vec<(String, Node)>),
}

impl Node {
    fn from_json(value: &Json) -> Node {
        match value {
            Json::Array(items) => Node::List(items.iter().map(Node::from_json).collect()),
            Json::Object(members) => {
                let quoted = |key: &String| Json::from(key.as_str()).to_string();
                Node::Object(members.iter().map(|(key, value)| (quoted(key), Node::from_json(value))).collect())
            }
            leaf => Node::Raw(leaf.to_string()),
        }
    }

    fn render(&self, out: &mut String) {
        match self {
            Node::Raw(text) => out.push_str(text),
            Node::List(items) => {
                out.push('[');
                for (position, item) in items.iter().enumerate() {
                    if position > 0 {
                        out.push_str(", ");
                    }
                    item.render(out);
                }
                out.push(']');
            }
            Node::Object(members) => {
                out.push('{');
                for (position, (key, value)) in members.iter().enumerate() {
                    if position > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(key);
                    out.push_str(": ");
                    value.render(out);
                }
                out.push('}');
            }
        }
    }

    /// How many nodes the tree has (the mutation sites).
    fn size(&self) -> usize {
        1 + match self {
            Node::Raw(_) => 0,
            Node::List(items) => items.iter().map(Node::size).sum(),
            Node::Object(members) => members.iter().map(|(_, value)| value.size()).sum(),
        }
    }

    /// The node at pre-order position `target`, if it is inside this tree.
    fn nth(&mut self, target: usize) -> Option<&mut Node> {
        if target == 0 {
            return Some(self);
        }
        let mut skipped = 1;
        let children: Vec<&mut Node> = match self {
            Node::Raw(_) => return None,
            Node::List(items) => items.iter_mut().collect(),
            Node::Object(members) => members.iter_mut().map(|(_, value)| value).collect(),
        };
        for child in children {
            let size = child.size();
            if target < skipped + size {
                return child.nth(target - skipped);
            }
            skipped += size;
        }
        None
    }
}

/// Values that break naive readers: numbers beyond f64 or decimal, text that looks like numbers,
/// lone surrogates, wrong shapes, nesting, keys twice.
fn nasty_values() -> Vec<String> {
    let mut values: Vec<String> = [
        "1e400",
        "-1e400",
        "1e-400",
        "123456789012345678901234567",
        "18446744073709551617",
        "-9223372036854775809",
        "1000000000000000.001",
        "79228162514264337593543950336",
        "660000000000000000000",
        "0.1",
        "-0",
        "1E2",
        "-1.5e3",
        "0.0000000000000000000000000000001",
        "3.0",
        "99999999999999999999999999999999999999",
        r#""\ud800""#,
        r#""1e3""#,
        r#""１２""#,
        r#""""#,
        r#""  12.50 ""#,
        r#""1,2,3""#,
        r#""NaN""#,
        r#""-""#,
        r#""E0001""#,
        r#""2026-02-30""#,
        r#""\u0000""#,
        r#""差旅""#,
        "[]",
        "{}",
        "null",
        "true",
        "false",
        r#"{"a": 1, "a": 2}"#,
        "[1e400]",
        "[{}]",
        r#"[{"数量": 1e400, "数量": 2}]"#,
        r#"["E0001", "E0001"]"#,
    ]
    .iter()
    .map(|value| value.to_string())
    .collect();
    values.push(format!("{}{}", "[".repeat(40), "]".repeat(40)));
    values.push(format!("\"{}\"", "长".repeat(400)));
    values
}

/// One random change to the tree; `false` when the chosen site could not take it.
fn mutate(tree: &mut Node, random: &mut Lcg, nasty: &[String]) -> bool {
    let site = random.below(tree.size());
    let Some(node) = tree.nth(site) else { return false };
    match random.below(5) {
        // Replace a value.
        0 | 1 => *node = Node::Raw(random.pick(nasty).clone()),
        // Give a key twice: the same value, or another one.
        2 => {
            let Node::Object(members) = node else { return false };
            if members.is_empty() {
                return false;
            }
            let (key, value) = members[random.below(members.len())].clone();
            let value = if random.chance(50) { value } else { Node::Raw(random.pick(nasty).clone()) };
            members.insert(random.below(members.len() + 1), (key, value));
        }
        // Drop a member, or rename it (unknown, empty, a sibling's name, an unreadable key).
        3 => {
            let Node::Object(members) = node else { return false };
            if members.is_empty() {
                return false;
            }
            let at = random.below(members.len());
            if random.chance(40) {
                members.remove(at);
            } else {
                let sibling = members[random.below(members.len())].0.clone();
                let keys = [r#""不存在""#.to_string(), r#""""#.to_string(), r#""\ud800""#.to_string(), sibling];
                members[at].0 = random.pick(&keys).clone();
            }
        }
        // Wrap a value in a list or an object.
        _ => {
            let inner = std::mem::replace(node, Node::Raw("null".into()));
            *node =
                if random.chance(50) { Node::List(vec![inner]) } else { Node::Object(vec![(r#""x""#.into(), inner)]) };
        }
    }
    true
}

/// Breaks the text itself now and then: cut short, or a stray character.
fn corrupt(text: &str, random: &mut Lcg) -> String {
    let boundaries: Vec<usize> = text.char_indices().map(|(at, _)| at).chain([text.len()]).collect();
    let at = *random.pick(&boundaries);
    if random.chance(50) {
        text[..at].to_string()
    } else {
        let stray = *random.pick(&["{", "}", "[", "]", ",", ":", "\"", "\\", "x", "-", "\u{feff}"]);
        format!("{}{stray}{}", &text[..at], &text[at..])
    }
}

/// An example folder, compiled once.
struct Example {
    folder: PathBuf,
    flow: PathBuf,
    org: PathBuf,
    compiled: Compiled,
    sources: flowc::source::SourceMap,
    directory: MemoryDirectory,
    request: String,
    actions: Option<String>,
}

fn examples() -> Vec<Example> {
    let mut folders = Vec::new();
    let mut tops: Vec<PathBuf> = std::fs::read_dir("examples")
        .expect("examples")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    tops.sort();
    for top in tops {
        if top.join("request.json").is_file() {
            folders.push(top.clone());
        }
        let mut children: Vec<PathBuf> = std::fs::read_dir(&top)
            .expect("example")
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.join("request.json").is_file())
            .collect();
        children.sort();
        folders.extend(children);
    }
    folders
        .into_iter()
        .map(|folder| {
            let files = RunFiles::from_folder(&folder).expect("files");
            let flow = files.flow.expect("a .flow");
            let org = files.org.expect("an org");
            let analysis = check_paths(std::slice::from_ref(&flow), &FsLoader);
            let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
            let directory = MemoryDirectory::load(&org).expect("org");
            let request = std::fs::read_to_string(files.request.expect("request")).expect("request");
            let actions = files.actions.map(|path| std::fs::read_to_string(path).expect("actions"));
            Example { folder, flow, org, compiled, sources: analysis.sources, directory, request, actions }
        })
        .collect()
}

/// What `flowc run` should do with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Ran,
    Refused,
    Malformed,
}

impl Expected {
    fn status(self) -> i32 {
        match self {
            Expected::Ran => 0,
            Expected::Refused => 1,
            Expected::Malformed => 2,
        }
    }
}

/// Runs a case through the library and checks what must hold whatever the input.
fn run_in_library(example: &Example, request: &str, actions: Option<&str>, label: &str) -> Expected {
    let now = DateTime::parse(NOW).expect("now");
    let runtime = Runtime::new(&example.compiled, &example.directory);
    let Ok(new) = serde_json::from_str::<NewRequest>(request) else { return Expected::Malformed };
    let actions: Vec<Action> = match actions.map(serde_json::from_str) {
        Some(Ok(actions)) => actions,
        Some(Err(_)) => return Expected::Malformed,
        None => Vec::new(),
    };
    let Ok(workflow) = example.compiled.workflow_index(new.workflow.as_deref()) else { return Expected::Malformed };
    let result = runtime.run(Start::New { workflow, request: &new }, &actions, now);

    // The report is one JSON document, whatever the values.
    let document = serde_json::to_string(&report(&runtime, &result, now, &example.sources)).expect("the report");
    let _: Json = serde_json::from_str(&document).expect("the report is JSON");

    // What was accepted saves and loads as itself, however large its numbers.
    if let Some(request) = &result.request {
        let saved = runtime.save_state(request).expect("saves");
        let loaded = runtime.load_state(&saved, false, now).unwrap_or_else(|error| panic!("{label}: {error}"));
        assert_eq!(&loaded, request, "{label}: state round trip");
    }

    let Some((refused, error)) = &result.error else { return Expected::Ran };
    assert!(error.code.as_str().starts_with('R'), "{label}: {error}");
    assert!(error.at.is_some() || error.message.contains('`'), "{label}: not located: {}", error.message);
    if *refused > 0 {
        // The deadline timers due before the refused action fired first: they happened.
        let refused_at = actions.get(refused - 1).and_then(|action| action.at.as_deref()).and_then(DateTime::parse);
        let before =
            runtime.run_until(Start::New { workflow, request: &new }, &actions[..refused - 1], now, refused_at);
        assert!(before.error.is_none(), "{label}: the actions before the refused one succeed");
        assert_eq!(before.request, result.request, "{label}: the refused action changed the request");
    }
    Expected::Refused
}

/// Runs a case through the binary: one JSON document, the status the library predicts.
fn run_binary(example: &Example, request: &str, actions: Option<&str>, expected: Expected, label: &str) {
    let dir = scratch("binary");
    let request_path = write(&dir, "request.json", request);
    let flow = example.flow.to_string_lossy().into_owned();
    let org = example.org.to_string_lossy().into_owned();
    let mut args = vec!["run", &flow, "--org", &org, "--request", &request_path, "--format", "json", "--now", NOW];
    let actions_path = actions.map(|actions| write(&dir, "actions.json", actions));
    if let Some(path) = &actions_path {
        args.extend(["--actions", path]);
    }
    let (status, stdout, stderr) = flowc(&args);
    assert!(!stderr.contains("panicked"), "{label}: {stderr}");
    assert_eq!(status, expected.status(), "{label}: {stdout}{stderr}");
    let document = one_document(&stdout);
    if expected == Expected::Ran {
        return;
    }
    let message = document["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains('`'), "{label}: not located: {document:#}");
    if expected == Expected::Malformed {
        assert_eq!(document["status"], "error", "{label}");
    } else {
        assert!(document["error"]["code"].as_str().is_some_and(|code| code.starts_with('R')), "{label}");
    }
}

#[test]
fn mutated_example_inputs_are_refused_cleanly() {
    let started = std::time::Instant::now();
    let mut random = Lcg(0x00c0_ffee_2026_1128);
    let nasty = nasty_values();
    let examples = examples();
    assert!(examples.len() >= 8, "the examples and their subfolders are found");
    let mut counts = [0_usize; 3];
    let mut case = 0;
    for example in &examples {
        let request_tree = Node::from_json(&serde_json::from_str(&example.request).expect("the example's request"));
        let actions_tree = example
            .actions
            .as_ref()
            .map(|text| Node::from_json(&serde_json::from_str(text).expect("the example's actions")));
        for _ in 0..50 {
            case += 1;
            let mutate_actions = actions_tree.is_some() && random.chance(50);
            let mut tree =
                if mutate_actions { actions_tree.clone() } else { Some(request_tree.clone()) }.expect("a tree");
            let mut changes = 0;
            while changes < 1 + random.below(3) {
                changes += usize::from(mutate(&mut tree, &mut random, &nasty));
            }
            let mut text = String::new();
            tree.render(&mut text);
            if random.chance(10) {
                text = corrupt(&text, &mut random);
            }
            let (request, actions) =
                if mutate_actions { (example.request.clone(), Some(text)) } else { (text, example.actions.clone()) };
            let label = format!(
                "{} case {case} ({}):\n{}",
                example.folder.display(),
                if mutate_actions { "actions" } else { "request" },
                if mutate_actions { actions.as_deref().unwrap_or_default() } else { &request }
            );
            let expected = run_in_library(example, &request, actions.as_deref(), &label);
            counts[expected.status() as usize] += 1;
            if case % 16 == 0 {
                run_binary(example, &request, actions.as_deref(), expected, &label);
            }
        }
    }
    // The mutations reach every outcome, so the test exercises what it claims.
    assert!(counts.iter().all(|&count| count >= 10), "ran / refused / malformed: {counts:?}");
    eprintln!("adversarial JSON: {case} cases, ran/refused/malformed {counts:?}, {:?}", started.elapsed());
}
