//! A run of several actions against one request (what `flowc run` does):
//! create the request or take a saved one, apply the actions in order, stop
//! at the first refusal. The result holds the steps that succeeded, the
//! request after the last of them, and the refusal — the material of both
//! traces (runtime.md §3).

use serde::Serialize;
use serde_json::Value as Json;

use crate::diag::Code;
use crate::ir::TitlePart;
use crate::runtime::error::RuntimeError;
use crate::runtime::request::{node_name, Action, LogEntry, NewRequest, Request, Runtime, Step};
use crate::runtime::values::dates::DateTime;
use crate::runtime::values::field_values::{self, form_to_json, Ordered};
use crate::runtime::values::value::Value;

/// How many timers one gap between actions may fire: deadlines that hand a
/// request round in a loop must end the run, not hang it.
const MOST_TIMERS_AT_ONCE: usize = 10_000;

/// When an action happens: its `at`, which may not be before the clock.
fn action_time(action: &Action, clock: DateTime) -> Result<DateTime, RuntimeError> {
    let Some(text) = &action.at else { return Ok(clock) };
    let at = DateTime::parse(text).ok_or_else(|| {
        RuntimeError::new(Code::R0502, format!("the action's `at` `{text}` is not a date and time (RFC 3339)"))
    })?;
    if at < clock {
        return Err(RuntimeError::new(
            Code::R0207,
            format!("the action's `at` ({at}) is before the time the run has reached ({clock})"),
        )
        .with_help("give the actions in time order, none before `--now` (or the last action of the state)"));
    }
    Ok(at)
}

/// Where a run starts.
pub enum Start<'r> {
    New { workflow: usize, request: &'r NewRequest },
    Saved(Box<Request>),
}

pub struct RunResult {
    /// The request after the last successful action (`None` when creating it was refused).
    pub request: Option<Request>,
    /// Creation (when the run created the request) and each successful action.
    pub steps: Vec<Step>,
    /// The refusal, with the number (1-based) of the action refused (0: the creation).
    pub error: Option<(usize, RuntimeError)>,
}

impl RunResult {
    pub fn status(&self) -> &'static str {
        match (&self.error, &self.request) {
            (Some(_), _) => "refused",
            (None, Some(request)) if request.archived => "archived",
            _ => "pending",
        }
    }
}

impl<'a> Runtime<'a> {
    /// Runs `actions` in order from `start`, with the clock at `now`.
    pub fn run(&self, start: Start<'_>, actions: &[Action], now: DateTime) -> RunResult {
        self.run_until(start, actions, now, None)
    }

    /// Runs `actions` in order from `start`, with the clock at `now`. An action
    /// with `at` happens then (actions in time order); before each action every
    /// deadline timer due by its time fires, and after the last, those due by
    /// `until`. A timer's step counts as an action of the run for the refusal's
    /// number only when it is refused (its number is the next action's).
    pub fn run_until(&self, start: Start<'_>, actions: &[Action], now: DateTime, until: Option<DateTime>) -> RunResult {
        let mut steps = Vec::new();
        let mut request = match start {
            Start::Saved(request) => *request,
            Start::New { workflow, request } => match self.create(workflow, request, now) {
                Ok((created, step)) => {
                    steps.push(step);
                    created
                }
                Err(error) => return RunResult { request: None, steps, error: Some((0, error)) },
            },
        };
        let mut clock = now;
        for (index, action) in actions.iter().enumerate() {
            let at = match action_time(action, clock) {
                Ok(at) => at,
                Err(error) => return RunResult { request: Some(request), steps, error: Some((index + 1, error)) },
            };
            let fired_before = steps.len();
            if let Err(error) = self.fire_until(&mut request, &mut steps, at) {
                return RunResult { request: Some(request), steps, error: Some((index + 1, error)) };
            }
            // As replay does before an action whose time differs from the line before it:
            // formulas that read the clock see the action's time.
            // A refused action leaves the request as it was before this recomputation.
            let recomputed = if action.at.is_some() || steps.len() > fired_before {
                let mut ready = request.clone();
                match self.workflow(&request).and_then(|workflow| self.recompute(workflow, &mut ready, at)) {
                    Ok(()) => Some(ready),
                    Err(error) => return RunResult { request: Some(request), steps, error: Some((index + 1, error)) },
                }
            } else {
                None
            };
            match self.apply(recomputed.as_ref().unwrap_or(&request), action, at) {
                Ok((next, mut step)) => {
                    request = next;
                    if action.at.is_some() {
                        step.at = Some(at.to_string());
                    }
                    steps.push(step);
                }
                Err(error) => return RunResult { request: Some(request), steps, error: Some((index + 1, error)) },
            }
            clock = at;
        }
        if let Some(until) = until {
            if let Err(error) = self.fire_until(&mut request, &mut steps, until) {
                return RunResult { request: Some(request), steps, error: Some((actions.len() + 1, error)) };
            }
        }
        RunResult { request: Some(request), steps, error: None }
    }

    /// Fires, in order, every timer due by `until`; each fired timer is a step.
    /// On a refusal the request is as the last timer that fired left it.
    fn fire_until(&self, request: &mut Request, steps: &mut Vec<Step>, until: DateTime) -> Result<(), RuntimeError> {
        for _ in 0..MOST_TIMERS_AT_ONCE {
            let Some(timer) = self.due(request, until).into_iter().next() else { return Ok(()) };
            let (next, step) = self.fire(request, &timer)?;
            *request = next;
            steps.push(step);
        }
        Err(RuntimeError::new(
            Code::R0207,
            format!("more than {MOST_TIMERS_AT_ONCE} deadline timers fall due before {until}: the deadlines go round in a loop"),
        )
        .with_help("give the run a nearer `--until`, or actions with `at` in between"))
    }

    /// The request's title (`title "…{expr}…"`), or the workflow's label.
    pub fn title(&self, request: &Request, now: DateTime) -> String {
        let Ok(workflow) = self.workflow(request) else { return String::new() };
        if workflow.title.is_empty() {
            return workflow.label.clone();
        }
        let Ok(env) = self.env(workflow, request, now) else { return workflow.label.clone() };
        workflow
            .title
            .iter()
            .map(|part| match part {
                TitlePart::Text(text) => text.clone(),
                TitlePart::Hole(expr) => match env.eval(expr) {
                    // A field shows as the form shows it (money with its two decimals).
                    Ok(value) if !value.is_null() => match (&expr.kind, &value) {
                        (crate::ir::ExprKind::Field(field), Value::Number(_)) => env
                            .form
                            .fields
                            .get(*field)
                            .map(|field| match field_values::to_json(field, &value) {
                                Json::String(text) => text,
                                other => other.to_string(),
                            })
                            .unwrap_or_else(|| value.to_string()),
                        _ => value.to_string(),
                    },
                    Ok(_) => String::new(),
                    Err(_) => "?".into(),
                },
            })
            .collect()
    }

    /// The request as runtime.md §3's JSON shows it.
    pub fn request_view(&self, request: &Request, now: DateTime) -> RequestView {
        let workflow = self.workflow(request).ok();
        let form = workflow.and_then(|workflow| {
            Some(form_to_json(
                self.compiled.program.forms.get(workflow.form)?,
                self.compiled.layouts.get(workflow.form)?,
                &request.form,
            ))
        });
        let node = workflow.and_then(|workflow| workflow.nodes.get(request.node));
        let hidden = match (workflow.and_then(|workflow| self.compiled.program.forms.get(workflow.form)), node) {
            (Some(form), Some(node)) => {
                node.hidden.iter().filter_map(|&field| form.fields.get(field).map(|field| field.name.clone())).collect()
            }
            _ => Vec::new(),
        };
        RequestView {
            hidden,
            workflow: workflow.map_or(String::new(), |workflow| workflow.name.clone()),
            title: self.title(request, now),
            creator: request.creator.clone(),
            node: workflow.map_or("", |workflow| node_name(workflow, request.node)).to_owned(),
            pending: request.pending.clone(),
            operators: request.operators.clone(),
            batch: request.batch,
            forwarded: request.forwarded.clone(),
            notified: request.notified.clone(),
            form: form.unwrap_or_default(),
            deadline: self.deadline_of(request).filter(|_| !request.archived).map(|at| at.to_string()),
            outbox: request.outbox.clone(),
            log: request.log.to_vec(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub workflow: String,
    pub title: String,
    pub creator: String,
    pub node: String,
    pub pending: Vec<String>,
    pub operators: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forwarded: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notified: Vec<String>,
    pub form: Ordered,
    /// Fields hidden from the current node's operators (`hidden`): a host shows them the form without these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<String>,
    /// When the current node's deadline falls, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// Every reminder the deadlines raised, for a host to deliver.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<crate::runtime::request::deadlines::Reminder>,
    pub log: Vec<LogEntry>,
}

/// The JSON trace of runtime.md §3: status, the request after the last
/// successful action, the steps, and the refusal with its diagnostic. A
/// struct rather than a `serde_json::Value`, so fields keep their order.
#[derive(Debug, Clone, Serialize)]
pub struct Report<'r> {
    pub status: &'static str,
    pub request: Option<RequestView>,
    pub steps: &'r [Step],
    pub error: Option<ErrorView>,
}

pub fn report<'r>(
    runtime: &Runtime<'_>,
    result: &'r RunResult,
    now: DateTime,
    sources: &crate::source::SourceMap,
) -> Report<'r> {
    let error = result.error.as_ref().map(|(step, error)| ErrorView {
        code: error.code.to_string(),
        message: error.message.clone(),
        step: *step,
        diagnostic: error
            .to_diagnostic()
            .and_then(|diagnostic| serde_json::to_value(crate::diag::render::to_json(&diagnostic, sources)).ok()),
    });
    Report {
        status: result.status(),
        request: result.request.as_ref().map(|request| runtime.request_view(request, now)),
        steps: &result.steps,
        error,
    }
}

/// The files of a run. A folder holds one `.flow` (or takes its parent's,
/// so one process can keep several cases in subfolders), `org.toml` or
/// `org.json` (also looked for in the parent), `request.json` and
/// `actions.json`.
#[derive(Debug, Clone, Default)]
pub struct RunFiles {
    pub flow: Option<std::path::PathBuf>,
    pub org: Option<std::path::PathBuf>,
    pub request: Option<std::path::PathBuf>,
    pub actions: Option<std::path::PathBuf>,
}

impl RunFiles {
    pub fn from_folder(folder: &std::path::Path) -> Result<RunFiles, String> {
        let parent = folder.parent().filter(|parent| !parent.as_os_str().is_empty());
        let flow = match single_flow(folder)? {
            Some(flow) => flow,
            None => match parent.map(single_flow).transpose()?.flatten() {
                Some(flow) => flow,
                None => return Err(format!("`{}` holds no .flow file (nor does its parent)", folder.display())),
            },
        };
        let find = |names: &[&str]| {
            names.iter().find_map(|name| {
                let here = folder.join(name);
                if here.is_file() {
                    return Some(here);
                }
                parent.map(|parent| parent.join(name)).filter(|path| path.is_file())
            })
        };
        let local = |name: &str| Some(folder.join(name)).filter(|path| path.is_file());
        Ok(RunFiles {
            flow: Some(flow),
            org: find(&["org.toml", "org.json"]),
            request: local("request.json"),
            actions: local("actions.json"),
        })
    }
}

fn single_flow(folder: &std::path::Path) -> Result<Option<std::path::PathBuf>, String> {
    let entries = std::fs::read_dir(folder).map_err(|error| format!("cannot read `{}`: {error}", folder.display()))?;
    let mut flows: Vec<std::path::PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "flow") && path.is_file())
        .collect();
    flows.sort();
    match flows.len() {
        0 | 1 => Ok(flows.pop()),
        _ => Err(format!("`{}` holds several .flow files; name one", folder.display())),
    }
}

/// The `error` member of the JSON trace.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorView {
    pub code: String,
    pub message: String,
    pub step: usize,
    /// The refusal as a check diagnostic (file, line, labels, help), when it points into the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostic: Option<Json>,
}
