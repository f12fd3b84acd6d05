//! The test runner behind `flowc test` (docs/testing.md): test cases — the
//! `test` items of a checked program, and folder cases (`request.json`,
//! `actions.json`, `expect.json`) — run through the same `Runtime::create`
//! and `apply` as `flowc run`, each expectation compared with what the run
//! produced, and the route coverage they gave (`coverage.rs`).

pub mod coverage;

use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde_json::Value as Json;

use crate::check::Analysis;
use crate::org::Directory;
use crate::runtime::report::session::action_time;
use crate::runtime::request::{
    node_name, Action, ActionKind, FormInput, NewRequest, Recipient, Request, Runtime, Step,
};
use crate::runtime::values::dates::DateTime;
use crate::syntax::ast::{ExpectKind, Item, TestItem, TestMember, TestValue, TestValueKind};

/// One test case, whichever way it was written.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub label: Option<String>,
    /// Where the case is written: the `.flow` file (its line) or the case's folder.
    pub file: PathBuf,
    pub line: usize,
    pub workflow: Option<String>,
    /// The directory the test names (`org "…"`), relative to its file's folder.
    pub org: Option<PathBuf>,
    pub now: Option<String>,
    /// The request to create, as the JSON text of a `request.json`.
    pub request: String,
    pub steps: Vec<CaseStep>,
    /// Folder cases stop at the first refusal, as `flowc run` does, and then check the outcome;
    /// a `test` item fails on a refusal it did not announce with `refused CODE`.
    pub stop_at_refusal: bool,
}

#[derive(Debug, Clone)]
pub enum CaseStep {
    Act {
        action: Action,
        refused: Option<String>,
        line: usize,
    },
    /// The clock moves on to `time` (RFC 3339): the deadline timers due by then fire.
    Until {
        time: String,
        line: usize,
    },
    Expect {
        checks: Vec<Check>,
        line: usize,
    },
}

/// What must hold (an `expect` of a test, a member of `expect.json`).
#[derive(Debug, Clone)]
pub enum Check {
    /// The current node; after a fork, one of the current nodes.
    Node(String),
    /// Folder cases: a split request's current nodes, as the JSON trace's `nodes` (each entry
    /// compares the members it names).
    Nodes(Json),
    Pending(Vec<String>),
    /// `archived`, `pending` or (folder cases) `refused`.
    Status(String),
    Exit(String),
    Batch(u64),
    /// A field's value, as JSON; numbers compare as decimals.
    Field(String, Json),
    /// Folder cases: the refusal's code and the number of the refused action.
    ErrorCode(String),
    ErrorStep(u64),
}

impl Check {
    /// The check as a test writes it.
    pub fn describe(&self) -> String {
        match self {
            Check::Node(node) => format!("node {node}"),
            Check::Nodes(nodes) => format!("nodes {nodes}"),
            Check::Pending(people) => format!("pending {}", json_list(people)),
            Check::Status(status) => format!("status {status}"),
            Check::Exit(exit) => format!("exit {exit}"),
            Check::Batch(batch) => format!("batch {batch}"),
            Check::Field(field, value) => format!("{field} == {value}"),
            Check::ErrorCode(code) => format!("refused {code}"),
            Check::ErrorStep(step) => format!("refused at action {step}"),
        }
    }
}

fn json_list(people: &[String]) -> String {
    serde_json::to_string(people).unwrap_or_default()
}

/// The `test` items of the program's own files (not of `std` or the prelude).
pub fn cases_of(analysis: &Analysis) -> Vec<Case> {
    let mut cases = Vec::new();
    for module in &analysis.modules {
        if module.is_prelude {
            continue;
        }
        let Some(source) = analysis.sources.get(module.file) else { continue };
        let Some(path) = source.path.clone() else { continue };
        for item in &module.ast.items {
            if let Item::Test(test) = item {
                cases.push(case_of_item(test, &path, &|offset| source.line_column(offset).0));
            }
        }
    }
    cases
}

fn case_of_item(test: &TestItem, path: &Path, line_of: &dyn Fn(usize) -> usize) -> Case {
    let mut case = Case {
        name: test.name.name.clone(),
        label: test.label.as_ref().map(|label| label.value.clone()),
        file: path.to_path_buf(),
        line: line_of(test.span.start as usize),
        workflow: None,
        org: None,
        now: None,
        request: String::new(),
        steps: Vec::new(),
        stop_at_refusal: false,
    };
    let mut creator = String::new();
    let mut form = "{}".to_owned();
    for member in &test.members {
        match member {
            TestMember::Workflow(name) => case.workflow = Some(name.name.clone()),
            TestMember::Org(text) => case.org = Some(PathBuf::from(&text.value)),
            TestMember::Now(text) => case.now = Some(text.value.clone()),
            TestMember::Creator(text) => creator = text.value.clone(),
            TestMember::Form(value) => form = value.to_json_text(),
            TestMember::Action(action) => {
                let kind = ActionKind::from_name(&action.kind.name).unwrap_or(ActionKind::Submit);
                // As text, like actions.json's `set`: numbers keep every digit.
                let set = action.set.as_ref().map(|set| FormInput::Text(set.to_json_text()));
                let to = action
                    .to
                    .as_ref()
                    .map(strings_of)
                    .unwrap_or_default()
                    .iter()
                    .map(|id| Recipient::from(id.as_str()))
                    .collect();
                case.steps.push(CaseStep::Act {
                    action: Action {
                        by: action.by.value.clone(),
                        kind,
                        opinion: action.opinion.as_ref().map(|opinion| opinion.value.clone()),
                        set,
                        to,
                        node: action.node.as_ref().map(|node| node.name.clone()),
                        at: action.at.as_ref().map(|at| at.value.clone()),
                        request: action.request.as_ref().map(|id| id.value.clone()),
                    },
                    refused: action.refused.as_ref().map(|code| code.name.clone()),
                    line: line_of(action.span.start as usize),
                });
            }
            TestMember::Until(time) => {
                case.steps.push(CaseStep::Until { time: time.value.clone(), line: line_of(time.span.start as usize) })
            }
            TestMember::Expect(expectations) => {
                let checks = expectations
                    .iter()
                    .map(|expectation| match &expectation.kind {
                        ExpectKind::Node(node) => Check::Node(node.name.clone()),
                        ExpectKind::Exit(exit) => Check::Exit(exit.name.clone()),
                        ExpectKind::Status(status) => Check::Status(status.name.clone()),
                        ExpectKind::Pending(people) => Check::Pending(strings_of(people)),
                        ExpectKind::Batch(number, _) => Check::Batch(number.parse().unwrap_or(0)),
                        ExpectKind::Field(field, value) => Check::Field(
                            field.name.clone(),
                            serde_json::from_str(&value.to_json_text()).unwrap_or(Json::Null),
                        ),
                    })
                    .collect();
                let line = expectations.first().map_or(case.line, |first| line_of(first.span.start as usize));
                case.steps.push(CaseStep::Expect { checks, line });
            }
        }
    }
    let mut request = serde_json::Map::new();
    if let Some(workflow) = &case.workflow {
        request.insert("workflow".into(), Json::String(workflow.clone()));
    }
    request.insert("creator".into(), Json::String(creator));
    // The form goes in as written, so its numbers reach the request reader with their digits.
    let head = Json::Object(request).to_string();
    case.request = match head.strip_suffix('}') {
        Some(head) => format!("{head},\"form\":{form}}}"),
        None => head,
    };
    case
}

fn strings_of(value: &TestValue) -> Vec<String> {
    match &value.kind {
        TestValueKind::List(values) => values
            .iter()
            .filter_map(|value| match &value.kind {
                TestValueKind::Str(text) | TestValueKind::Number(text) => Some(text.clone()),
                _ => None,
            })
            .collect(),
        TestValueKind::Str(text) => vec![text.clone()],
        _ => Vec::new(),
    }
}

/// A folder case: `request.json`, `actions.json` (optional) and `expect.json` (`status`, and
/// optionally `error`, `step`, `node`, `pending`, `nodes`, `form`, `now`, `until`). `flow` is its program.
pub fn folder_case(folder: &Path) -> Result<Case, String> {
    let read = |name: &str| -> Result<Option<String>, String> {
        let path = folder.join(name);
        if !path.is_file() {
            return Ok(None);
        }
        crate::input_file::read_to_string(&path, crate::input_file::FileKind::Request)
            .map(Some)
            .map_err(|error| error.to_string())
    };
    let request = read("request.json")?.ok_or_else(|| format!("`{}` has no request.json", folder.display()))?;
    let actions: Vec<Action> = match read("actions.json")? {
        Some(text) => serde_json::from_str(&text).map_err(|error| {
            format!("`{}` is not a list of actions: {error}", folder.join("actions.json").display())
        })?,
        None => Vec::new(),
    };
    let expect_path = folder.join("expect.json");
    let expect: Json = match read("expect.json")? {
        Some(text) => {
            serde_json::from_str(&text).map_err(|error| format!("`{}` is not JSON: {error}", expect_path.display()))?
        }
        None => return Err(format!("`{}` has no expect.json", folder.display())),
    };
    let mut checks = Vec::new();
    for (key, value) in expect.as_object().into_iter().flatten() {
        match (key.as_str(), value) {
            ("status", Json::String(status)) => checks.push(Check::Status(status.clone())),
            ("error", Json::String(code)) => checks.push(Check::ErrorCode(code.clone())),
            ("step", Json::Number(step)) => checks.push(Check::ErrorStep(step.as_u64().unwrap_or(0))),
            ("node", Json::String(node)) => checks.push(Check::Node(node.clone())),
            ("nodes", nodes @ Json::Array(_)) => checks.push(Check::Nodes(nodes.clone())),
            ("pending", Json::Array(people)) => checks
                .push(Check::Pending(people.iter().filter_map(|person| person.as_str().map(str::to_owned)).collect())),
            ("form", Json::Object(fields)) => {
                checks.extend(fields.iter().map(|(field, value)| Check::Field(field.clone(), value.clone())));
            }
            ("now", _) | ("until", _) => {}
            (other, _) => return Err(format!("`{}`: `{other}` is not a member of expect.json", expect_path.display())),
        }
    }
    let now = expect.get("now").and_then(Json::as_str).map(str::to_owned);
    let workflow = serde_json::from_str::<Json>(&request)
        .ok()
        .and_then(|request| request.get("workflow").and_then(Json::as_str).map(str::to_owned));
    let mut steps: Vec<CaseStep> =
        actions.into_iter().map(|action| CaseStep::Act { action, refused: None, line: 0 }).collect();
    // `until`: after the actions, the clock moves on and the deadline timers due by then fire.
    if let Some(until) = expect.get("until").and_then(Json::as_str) {
        steps.push(CaseStep::Until { time: until.to_owned(), line: 0 });
    }
    steps.push(CaseStep::Expect { checks, line: 0 });
    Ok(Case {
        name: folder.file_name().map_or_else(String::new, |name| name.to_string_lossy().into_owned()),
        label: None,
        file: folder.to_path_buf(),
        line: 0,
        workflow,
        org: None,
        now,
        request,
        steps,
        stop_at_refusal: true,
    })
}

/// The directory file of a case that names none with `org` and is given none on the command
/// line: `org.toml` or `org.json` in its folder (a folder case's own folder, a `.flow` file's
/// folder) or the folder's parent.
pub fn default_org(case: &Case) -> Option<PathBuf> {
    let base = if case.file.is_dir() { case.file.clone() } else { case.file.parent().map(Path::to_path_buf)? };
    let parent = base.parent().map(Path::to_path_buf);
    [Some(base), parent]
        .into_iter()
        .flatten()
        .flat_map(|folder| [folder.join("org.toml"), folder.join("org.json")])
        .find(|path| path.is_file())
}

/// One expectation that did not hold.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Difference {
    /// Where the expectation (or the action) is written, 0 in folder cases.
    pub line: usize,
    pub expected: String,
    pub actual: String,
}

/// What running a case gave.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub differences: Vec<Difference>,
    /// The steps that ran (creation first), as one line each.
    pub trace: Vec<String>,
    /// Every step that ran, for coverage, and the codes of the refusals met.
    pub steps: Vec<Step>,
    pub refusals: Vec<String>,
    pub workflow: Option<usize>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Runs one case. `now` is the case's clock when it names none.
pub fn run_case(runtime: &Runtime<'_>, directory: &dyn Directory, case: &Case, now: DateTime) -> Outcome {
    let mut outcome = Outcome::default();
    let now = match &case.now {
        Some(text) => match DateTime::parse(text) {
            Some(now) => now,
            None => {
                outcome.differences.push(Difference {
                    line: case.line,
                    expected: "a datetime such as 2026-11-28T09:00:00+08:00".into(),
                    actual: format!("now \"{text}\""),
                });
                return outcome;
            }
        },
        None => now,
    };
    let unknown_person = |id: &str, line: usize, outcome: &mut Outcome| {
        if directory.employee(id).is_none() {
            outcome.differences.push(Difference {
                line,
                expected: "a person of the directory".to_owned(),
                actual: format!("`{id}` is not in the directory"),
            });
        }
    };
    let new: NewRequest = match serde_json::from_str(&case.request) {
        Ok(new) => new,
        Err(error) => {
            outcome.differences.push(Difference {
                line: case.line,
                expected: "a request".into(),
                actual: error.to_string(),
            });
            return outcome;
        }
    };
    // Folder cases expect the runtime's own refusal (R0305) for an unknown person.
    if !case.stop_at_refusal {
        unknown_person(&new.creator, case.line, &mut outcome);
        for step in &case.steps {
            if let CaseStep::Act { action, line, refused: None } = step {
                unknown_person(&action.by, *line, &mut outcome);
                for recipient in &action.to {
                    if let crate::runtime::request::Recipient::Person(person) = recipient {
                        unknown_person(person, *line, &mut outcome);
                    }
                }
            }
        }
    }
    if !outcome.passed() {
        return outcome;
    }
    let workflow = match runtime.compiled.workflow_index(case.workflow.as_deref()) {
        Ok(workflow) => workflow,
        Err(error) => {
            outcome.differences.push(Difference {
                line: case.line,
                expected: "a workflow of the program".into(),
                actual: error.message.clone(),
            });
            return outcome;
        }
    };
    outcome.workflow = Some(workflow);
    let mut request: Request = match runtime.create(workflow, &new, now) {
        Ok((request, step)) => {
            outcome.trace.push(step_line(0, &step));
            outcome.steps.push(step);
            request
        }
        Err(error) if case.stop_at_refusal => {
            let code = error.code.to_string();
            outcome.refusals.push(code.clone());
            outcome.trace.push(format!("0. {} create: refused {code} ({})", new.creator, error.message));
            for step in &case.steps {
                if let CaseStep::Expect { checks, line } = step {
                    compare(runtime, None, None, Some(&(0, code.clone())), checks, *line, now, &mut outcome);
                }
            }
            return outcome;
        }
        Err(error) => {
            outcome.refusals.push(error.code.to_string());
            outcome.differences.push(Difference {
                line: case.line,
                expected: "the request is created".into(),
                actual: format!("refused {}: {}", error.code, error.message),
            });
            return outcome;
        }
    };
    let mut refused: Option<(u64, String)> = None;
    let mut number = 0u64;
    // The run's clock: actions with `at` and `until` move it on, firing the deadline timers due.
    let mut clock = now;
    for step in &case.steps {
        match step {
            CaseStep::Until { time, line } => {
                if refused.is_some() {
                    continue;
                }
                let Some(until) = DateTime::parse(time).filter(|until| *until >= clock) else {
                    outcome.differences.push(Difference {
                        line: *line,
                        expected: format!("a time (RFC 3339) not before {clock}"),
                        actual: format!("until \"{time}\""),
                    });
                    return outcome;
                };
                if let Err(error) = fire_timers(runtime, &mut request, until, number, &mut outcome) {
                    // Numbered as `flowc run` numbers it: the action after the last.
                    let code = error.code.to_string();
                    outcome.refusals.push(code.clone());
                    outcome.trace.push(format!("{}. system: refused {code} ({})", number + 1, error.message));
                    refused = Some((number + 1, code));
                    continue;
                }
                clock = until;
            }
            CaseStep::Act { action, refused: wanted, line } => {
                if refused.is_some() {
                    continue;
                }
                let at = match (action_time(action, clock), wanted) {
                    (Ok(at), _) => at,
                    (Err(error), Some(wanted)) if *wanted == error.code.to_string() => {
                        number += 1;
                        outcome.refusals.push(wanted.clone());
                        continue;
                    }
                    (Err(error), None) if case.stop_at_refusal => {
                        number += 1;
                        let code = error.code.to_string();
                        outcome.refusals.push(code.clone());
                        outcome.trace.push(format!("{number}. {}: refused {code} ({})", action.by, error.message));
                        refused = Some((number, code));
                        continue;
                    }
                    (Err(error), _) => {
                        outcome.differences.push(Difference {
                            line: *line,
                            expected: format!("an `at` not before {clock}"),
                            actual: format!("refused {}: {}", error.code, error.message),
                        });
                        return outcome;
                    }
                };
                if let Err(error) = fire_timers(runtime, &mut request, at, number, &mut outcome) {
                    let code = error.code.to_string();
                    outcome.refusals.push(code.clone());
                    outcome.trace.push(format!("{}. system: refused {code} ({})", number + 1, error.message));
                    refused = Some((number + 1, code));
                    continue;
                }
                clock = at;
                number += 1;
                // On the request the action names (`request "2"`: one a `start` created).
                match (runtime.act_in_family(&request, action, at, action.at.is_some()), wanted) {
                    (Ok((next, steps)), None) => {
                        for step in steps {
                            outcome.trace.push(step_line(number, &step));
                            outcome.steps.push(step);
                        }
                        request = next;
                    }
                    (Ok((_, steps)), Some(code)) => {
                        let Some(step) = steps.into_iter().next() else { continue };
                        outcome.trace.push(step_line(number, &step));
                        outcome.differences.push(Difference {
                            line: *line,
                            expected: format!("{} {} refused {code}", action.kind.as_str(), action.by),
                            actual: format!("{} {} was accepted", action.kind.as_str(), action.by),
                        });
                        return outcome;
                    }
                    (Err(error), wanted) => {
                        let code = error.code.to_string();
                        outcome.refusals.push(code.clone());
                        outcome.trace.push(format!(
                            "{number}. {} {}: refused {code} ({})",
                            action.by,
                            action.kind.as_str(),
                            error.message
                        ));
                        match wanted {
                            Some(wanted) if *wanted == code => {}
                            Some(wanted) => {
                                outcome.differences.push(Difference {
                                    line: *line,
                                    expected: format!("refused {wanted}"),
                                    actual: format!("refused {code}: {}", error.message),
                                });
                                return outcome;
                            }
                            None if case.stop_at_refusal => refused = Some((number, code)),
                            None => {
                                outcome.differences.push(Difference {
                                    line: *line,
                                    expected: format!("{} {} is accepted", action.kind.as_str(), action.by),
                                    actual: format!("refused {code}: {}", error.message),
                                });
                                return outcome;
                            }
                        }
                    }
                }
            }
            CaseStep::Expect { checks, line } => {
                // The last step of the test's own request (not of one it started).
                let last = outcome.steps.iter().rev().find(|step| step.request.is_none()).cloned();
                compare(runtime, Some(&request), last.as_ref(), refused.as_ref(), checks, *line, clock, &mut outcome);
                if !outcome.passed() {
                    return outcome;
                }
            }
        }
    }
    outcome
}

/// Adds a difference for each check that does not hold.
#[allow(clippy::too_many_arguments)] // the state of a run at one point, as the runner holds it
fn compare(
    runtime: &Runtime<'_>,
    request: Option<&Request>,
    last: Option<&Step>,
    refused: Option<&(u64, String)>,
    checks: &[Check],
    line: usize,
    now: DateTime,
    outcome: &mut Outcome,
) {
    for check in checks {
        let actual = actual_for(runtime, request, last, refused, check, now);
        if !holds(check, &actual) {
            outcome.differences.push(Difference {
                line,
                expected: check.describe(),
                actual: describe_actual(check, &actual),
            });
        }
    }
}

/// What a check reads from the run, as JSON (`null` when there is none).
fn actual_for(
    runtime: &Runtime<'_>,
    request: Option<&Request>,
    last: Option<&Step>,
    refused: Option<&(u64, String)>,
    check: &Check,
    now: DateTime,
) -> Json {
    if let (None, Check::Status(_)) = (request, check) {
        return Json::String("refused".into());
    }
    let Some(request) = request else {
        return match check {
            Check::ErrorCode(_) => refused.map_or(Json::Null, |(_, code)| Json::String(code.clone())),
            Check::ErrorStep(_) => refused.map_or(Json::Null, |(step, _)| Json::from(*step)),
            _ => Json::Null,
        };
    };
    match check {
        Check::Node(_) if request.is_split() => {
            Json::from(runtime.node_views(request).into_iter().map(|view| view.node).collect::<Vec<_>>())
        }
        Check::Node(_) => runtime
            .compiled
            .program
            .workflows
            .get(request.workflow)
            .map_or(Json::Null, |workflow| Json::String(node_name(workflow, request.node).to_owned())),
        Check::Nodes(_) => serde_json::to_value(runtime.node_views(request)).unwrap_or(Json::Null),
        Check::Pending(_) => Json::from(request.pending.clone()),
        Check::Status(_) => Json::String(
            if refused.is_some() {
                "refused"
            } else if request.archived {
                "archived"
            } else {
                "pending"
            }
            .into(),
        ),
        Check::Exit(_) => last.and_then(|step| step.exit.clone()).map_or(Json::Null, Json::String),
        Check::Batch(_) => last.and_then(|step| step.batch).or(request.batch).map_or(Json::Null, Json::from),
        Check::Field(field, _) => {
            let view = runtime.request_view(request, now);
            serde_json::to_value(&view.form).ok().and_then(|form| form.get(field).cloned()).unwrap_or(Json::Null)
        }
        Check::ErrorCode(_) => refused.map_or(Json::Null, |(_, code)| Json::String(code.clone())),
        Check::ErrorStep(_) => refused.map_or(Json::Null, |(step, _)| Json::from(*step)),
    }
}

fn holds(check: &Check, actual: &Json) -> bool {
    match check {
        // A split request is at each of its current nodes.
        Check::Node(wanted) if actual.is_array() => {
            actual.as_array().is_some_and(|nodes| nodes.iter().any(|node| node.as_str() == Some(wanted.as_str())))
        }
        Check::Nodes(wanted) => same_value(wanted, actual),
        Check::Node(wanted) | Check::Status(wanted) | Check::Exit(wanted) | Check::ErrorCode(wanted) => {
            actual.as_str() == Some(wanted.as_str())
        }
        Check::Pending(people) => *actual == Json::from(people.clone()),
        Check::Batch(batch) | Check::ErrorStep(batch) => actual.as_u64() == Some(*batch),
        Check::Field(_, wanted) => same_value(wanted, actual),
    }
}

/// JSON equality, except that numbers and numeric strings compare as decimals
/// (`合计 == 4271.50` holds for the form's `"4271.50"`).
fn same_value(wanted: &Json, actual: &Json) -> bool {
    if wanted == actual {
        return true;
    }
    let decimal = |value: &Json| match value {
        Json::Number(number) => number.to_string().parse::<Decimal>().ok(),
        Json::String(text) => text.parse::<Decimal>().ok(),
        _ => None,
    };
    match (wanted, actual) {
        (Json::Number(_), _) | (_, Json::Number(_)) => match (decimal(wanted), decimal(actual)) {
            (Some(wanted), Some(actual)) => wanted == actual,
            _ => false,
        },
        (Json::Array(wanted), Json::Array(actual)) => {
            wanted.len() == actual.len() && wanted.iter().zip(actual).all(|(wanted, actual)| same_value(wanted, actual))
        }
        (Json::Object(wanted), Json::Object(actual)) => {
            wanted.iter().all(|(key, wanted)| actual.get(key).is_some_and(|actual| same_value(wanted, actual)))
        }
        _ => false,
    }
}

fn describe_actual(check: &Check, actual: &Json) -> String {
    let shown = match actual {
        Json::Null => "none".to_owned(),
        Json::String(text) => text.clone(),
        other => other.to_string(),
    };
    match check {
        Check::Node(_) => format!("node {shown}"),
        Check::Nodes(_) => format!("nodes {actual}"),
        Check::Pending(_) => format!("pending {actual}"),
        Check::Status(_) => format!("status {shown}"),
        Check::Exit(_) => format!("exit {shown}"),
        Check::Batch(_) => format!("batch {shown}"),
        Check::Field(field, _) => format!("{field} == {actual}"),
        Check::ErrorCode(_) => format!("refused {shown}"),
        Check::ErrorStep(_) => format!("refused at action {shown}"),
    }
}

/// One line of the trace: `2. E0122 submit 部门审批 -> 财务审核 (exit 同意, batch 1)`.
fn step_line(number: u64, step: &Step) -> String {
    let mut line = format!("{number}. {} {} {}", step.by, step.action, step.from);
    if let Some(to) = &step.to {
        line.push_str(&format!(" -> {to}"));
    }
    let mut notes = Vec::new();
    if let Some(exit) = &step.exit {
        notes.push(format!("exit {exit}"));
    }
    if let Some(batch) = step.batch {
        notes.push(format!("batch {batch}"));
    }
    if !step.pending.is_empty() {
        notes.push(format!("pending {}", json_list(&step.pending)));
    }
    if step.archived {
        notes.push("archived".into());
    }
    if !notes.is_empty() {
        line.push_str(&format!(" ({})", notes.join(", ")));
    }
    line
}

/// Fires the deadline timers due by `until`, each a step of the trace (by `system`, marked
/// `timer`; actions keep their numbers, as `flowc run` counts them).
fn fire_timers(
    runtime: &Runtime<'_>,
    request: &mut Request,
    until: DateTime,
    after_action: u64,
    outcome: &mut Outcome,
) -> Result<(), crate::runtime::error::RuntimeError> {
    let mut fired = Vec::new();
    let result = runtime.fire_family(request, &mut fired, until);
    for step in fired {
        outcome.trace.push(format!("timer after {}", step_line(after_action, &step)));
        outcome.steps.push(step);
    }
    result
}
