//! A run of several actions against one request (what `flowc run` does):
//! create the request or take a saved one, apply the actions in order, stop
//! at the first refusal. The result holds the steps that succeeded, the
//! request after the last of them, and the refusal — the material of both
//! traces (runtime.md §3). The JSON report summarizes a big detail table
//! column by column (as the text trace does) unless asked for every row.

use serde::Serialize;
use serde_json::Value as Json;

use crate::diag::Code;
use crate::ir::TitlePart;
use crate::runtime::error::RuntimeError;
use crate::runtime::request::subflows;
use crate::runtime::request::{
    internal, node_name, route, Action, LogEntry, NewRequest, NodeView, Reminder, Request, RouteStop, Runtime, StandIn,
    Step,
};
use crate::runtime::values::dates::DateTime;
use crate::runtime::values::field_values::{self, form_to_json, Ordered, OrderedValue};
use crate::runtime::values::value::{FormData, Value};

/// The id of the request a run creates; the requests it starts are 2, 3, ….
pub const ROOT: &str = "1";

/// How many timers one gap between actions may fire: deadlines that hand a
/// request round in a loop must end the run, not hang it.
const MOST_TIMERS_AT_ONCE: usize = 10_000;

/// When an action happens: its `at`, which may not be before the clock.
pub fn action_time(action: &Action, clock: DateTime) -> Result<DateTime, RuntimeError> {
    let Some(text) = &action.at else { return Ok(clock) };
    let at = DateTime::parse(text).ok_or_else(|| {
        RuntimeError::new(Code::R0502, format!("the action's `at` `{text}` is not a date and time (RFC 3339)"))
    })?;
    if at < clock {
        return Err(RuntimeError::new(
            Code::R0211,
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
    /// Where a run from a saved request took it up.
    pub resumed: Option<Resumed>,
}

/// Where a run from a saved state started: the node the request was at and
/// how many actions its log already held (the run's steps are numbered after them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resumed {
    pub node: String,
    pub after_step: usize,
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
        let mut resumed = None;
        let mut request = match start {
            Start::Saved(request) => {
                let node = self.workflow(&request).map(|workflow| node_name(workflow, request.node)).unwrap_or("");
                resumed = Some(Resumed { node: node.to_owned(), after_step: request.log.actions() });
                *request
            }
            Start::New { workflow, request } => match self.create(workflow, request, now) {
                Ok((created, step)) => {
                    steps.push(step);
                    created
                }
                Err(error) => return RunResult { request: None, steps, error: Some((0, error)), resumed },
            },
        };
        let mut clock = now;
        for (index, action) in actions.iter().enumerate() {
            let at = match action_time(action, clock) {
                Ok(at) => at,
                Err(error) => {
                    return RunResult { request: Some(request), steps, error: Some((index + 1, error)), resumed }
                }
            };
            let fired_before = steps.len();
            if let Err(error) = self.fire_family(&mut request, &mut steps, at) {
                return RunResult { request: Some(request), steps, error: Some((index + 1, error)), resumed };
            }
            // As replay does before an action whose time differs from the line before it:
            // formulas that read the clock see the action's time.
            // A refused action leaves the request as it was before this recomputation.
            let recompute = action.at.is_some() || steps.len() > fired_before;
            match self.act_in_family(&request, action, at, recompute) {
                Ok((family, done)) => {
                    request = family;
                    steps.extend(done);
                }
                Err(error) => {
                    return RunResult { request: Some(request), steps, error: Some((index + 1, error)), resumed }
                }
            }
            clock = at;
        }
        if let Some(until) = until {
            if let Err(error) = self.fire_family(&mut request, &mut steps, until) {
                return RunResult { request: Some(request), steps, error: Some((actions.len() + 1, error)), resumed };
            }
        }
        RunResult { request: Some(request), steps, error: None, resumed }
    }

    /// One action on the request it names (`"request": "2"`; the first without), in a copy of
    /// the family: the requests it started are created, and a started request it archived
    /// gives its fields back to the request waiting for it. All or nothing.
    pub fn act_in_family(
        &self,
        root: &Request,
        action: &Action,
        at: DateTime,
        recompute: bool,
    ) -> Result<(Request, Vec<Step>), RuntimeError> {
        let id = action.request.clone().unwrap_or_else(|| ROOT.to_owned());
        let target = subflows::find(root, ROOT, &id).ok_or_else(|| {
            RuntimeError::new(
                Code::R0502,
                format!(
                    "the run holds no request `{id}` (requests are numbered 1, 2, … in the order they were created)"
                ),
            )
        })?;
        let ready;
        let target = if recompute {
            let workflow = self.workflow(target)?;
            let mut copy = target.clone();
            self.recompute(workflow, &mut copy, at)?;
            ready = copy;
            &ready
        } else {
            target
        };
        // `apply` makes the one copy of the request acted on; the family is copied only when
        // the action is on a request it started.
        let (next, mut step) = self.apply(target, action, at)?;
        let mut family = if id == ROOT {
            next
        } else {
            let mut family = root.clone();
            if let Some(slot) = subflows::find_mut(&mut family, ROOT, &id) {
                *slot = next;
            }
            family
        };
        if action.at.is_some() {
            step.at = Some(at.to_string());
        }
        let mut steps = Vec::new();
        self.settle_family(&mut family, &id, step, at, &mut steps)?;
        Ok((family, steps))
    }

    /// After a step on request `id`: the request it started is created (and numbered after
    /// the family's others); a started request it archived gives its fields back to the
    /// request waiting for it.
    fn settle_family(
        &self,
        family: &mut Request,
        id: &str,
        mut step: Step,
        at: DateTime,
        steps: &mut Vec<Step>,
    ) -> Result<(), RuntimeError> {
        if id != ROOT {
            step.request = Some(id.to_owned());
        }
        if let Some(started) = step.started.as_mut() {
            let child_id = (subflows::family_size(family) + 1).to_string();
            let new = self.child_request(started, id);
            let workflow = self.compiled.workflow_index(Some(&started.workflow))?;
            let (child, mut created) = self.create(workflow, &new, at)?;
            started.request = Some(child_id.clone());
            created.request = Some(child_id.clone());
            let holder = subflows::find_mut(family, ROOT, id).ok_or_else(|| internal("unknown request"))?;
            holder.children.push(subflows::Child { id: child_id, request: child });
            steps.push(step);
            steps.push(created);
            return Ok(());
        }
        steps.push(step);
        let Some(parent_id) = subflows::parent_of(family, ROOT, id) else { return Ok(()) };
        let child = match subflows::find_mut(family, ROOT, id) {
            Some(child) if child.archived => child.clone(),
            _ => return Ok(()),
        };
        let parent = subflows::find_mut(family, ROOT, &parent_id).ok_or_else(|| internal("unknown request"))?;
        // The node waits for the request its latest entry started: an earlier one, left behind
        // by a return, goes on on its own.
        let latest = parent.children.iter().rev().find(|started| started.request.workflow == child.workflow);
        let awaited = latest.is_some_and(|started| started.id == id);
        if awaited && parent.waiting.as_ref().is_some_and(|waiting| waiting.workflow == child.workflow) {
            let (next, resumed) = self.child_archived(parent, &child, id, at)?;
            *parent = next;
            return self.settle_family(family, &parent_id, resumed, at, steps);
        }
        Ok(())
    }

    /// Fires the deadline timers due by `until` in every request of the family, in the order
    /// the requests were created.
    pub fn fire_family(
        &self,
        family: &mut Request,
        steps: &mut Vec<Step>,
        until: DateTime,
    ) -> Result<(), RuntimeError> {
        let mut number = 1;
        while number <= subflows::family_size(family) {
            let id = number.to_string();
            let mut fired = Vec::new();
            let Some(target) = subflows::find_mut(family, ROOT, &id) else { break };
            let result = self.fire_until(target, &mut fired, until);
            for step in fired {
                self.settle_family(family, &id, step, until, steps)?;
            }
            result?;
            number += 1;
        }
        Ok(())
    }

    /// Fires, in order, every timer due by `until`; each fired timer is a step.
    /// On a refusal the request is as the last timer that fired left it.
    pub fn fire_until(
        &self,
        request: &mut Request,
        steps: &mut Vec<Step>,
        until: DateTime,
    ) -> Result<(), RuntimeError> {
        for _ in 0..MOST_TIMERS_AT_ONCE {
            let Some(timer) = self.due(request, until).into_iter().next() else { return Ok(()) };
            let (next, step) = self.fire(request, &timer)?;
            *request = next;
            steps.push(step);
        }
        Err(RuntimeError::new(
            Code::R0211,
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

    /// The request as runtime.md §3's JSON shows it, every row of every table.
    pub fn request_view(&self, request: &Request, now: DateTime) -> RequestView {
        self.request_view_with(request, now, Rows::All)
    }

    /// The request as runtime.md §3's JSON shows it, big tables as `rows` asks.
    pub fn request_view_with(&self, request: &Request, now: DateTime, rows: Rows) -> RequestView {
        let workflow = self.workflow(request).ok();
        let form = workflow.and_then(|workflow| {
            let form = self.compiled.program.forms.get(workflow.form)?;
            let layout = self.compiled.layouts.get(workflow.form)?;
            Some(match rows {
                Rows::All => FormView { fields: form_to_json(form, layout, &request.form), summaries: Vec::new() },
                Rows::SummarizeBig => summarized_form(form, layout, &request.form),
            })
        });
        let node = workflow.and_then(|workflow| workflow.nodes.get(request.node));
        let hidden = match (workflow.and_then(|workflow| self.compiled.program.forms.get(workflow.form)), node) {
            // A split request's hidden fields are per node, in `nodes`.
            _ if request.is_split() => Vec::new(),
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
            node: match workflow {
                Some(workflow) if !request.is_split() => node_name(workflow, request.node).to_owned(),
                _ => String::new(),
            },
            nodes: self.node_views(request),
            pending: request.pending.clone(),
            operators: request.operators.clone(),
            batch: request.batch,
            forwarded: request.forwarded.clone(),
            notified: request.notified.clone(),
            form: form.unwrap_or_default(),
            deadline: self.deadline_of(request).filter(|_| !request.archived).map(|at| at.to_string()),
            log: request.log.to_vec(),
            outbox: request.outbox.clone(),
            stand_ins: request.stand_ins.clone(),
            children: request
                .children
                .iter()
                .map(|child| ChildView {
                    id: child.id.clone(),
                    request: self.request_view_with(&child.request, now, rows),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RequestView {
    pub workflow: String,
    pub title: String,
    pub creator: String,
    /// The current node; absent while a fork has split the request (see `nodes`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// The current nodes of a request split by a fork, one per branch.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeView>,
    /// Who may act now (after a fork: at any of the nodes).
    pub pending: Vec<String>,
    pub operators: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub forwarded: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notified: Vec<String>,
    pub form: FormView,
    /// Fields hidden from the current node's operators (`hidden`): a host shows them the form without these.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<String>,
    /// When the current node's deadline falls, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    pub log: Vec<LogEntry>,
    /// Reminders asked for (`supervise`, deadlines) that a host is to deliver.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<Reminder>,
    /// Who stands in for whom (代理) among the current node's operators.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stand_ins: Vec<StandIn>,
    /// The requests it started (`start`), each as this view shows a request, with its id.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ChildView>,
}

/// A started request in the JSON trace: its id, then the request.
#[derive(Debug, Clone, Serialize)]
pub struct ChildView {
    pub id: String,
    #[serde(flatten)]
    pub request: RequestView,
}

/// The JSON trace of runtime.md §3: status, the request after the last
/// successful action, the steps, and the refusal with its diagnostic. A
/// struct rather than a `serde_json::Value`, so fields keep their order.
#[derive(Debug, Clone, Serialize)]
pub struct Report<'r> {
    pub status: &'static str,
    pub request: Option<RequestView>,
    /// A run from a saved state: where it took the request up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed: Option<Resumed>,
    pub steps: &'r [Step],
    /// The nodes the request went through, from its creation (its whole log,
    /// so a resumed run shows the route before it too).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub route: Vec<RouteStop>,
    pub error: Option<ErrorView>,
}

/// How the JSON report shows a detail table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Every row (`flowc run --all-rows`).
    All,
    /// Every row of a table of at most `BIG_TABLE_ROWS`; a bigger one column by column.
    SummarizeBig,
}

/// Above this many rows, the JSON report summarizes a table column by column
/// (as the log and the text trace summarize its changes), so a million-row
/// request gives a report of a few lines, not of a hundred megabytes.
pub const BIG_TABLE_ROWS: usize = 200;

/// The JSON report, big tables summarized.
pub fn report<'r>(
    runtime: &Runtime<'_>,
    result: &'r RunResult,
    now: DateTime,
    sources: &crate::source::SourceMap,
) -> Report<'r> {
    report_with(runtime, result, now, sources, Rows::SummarizeBig)
}

/// The JSON report, with the rows of big tables as `rows` asks.
pub fn report_with<'r>(
    runtime: &Runtime<'_>,
    result: &'r RunResult,
    now: DateTime,
    sources: &crate::source::SourceMap,
    rows: Rows,
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
        request: result.request.as_ref().map(|request| runtime.request_view_with(request, now, rows)),
        resumed: result.resumed.clone(),
        steps: &result.steps,
        route: result.request.as_ref().map(|request| route(request.log.entries())).unwrap_or_default(),
        error,
    }
}

/// The form as the JSON report shows it: its fields in written order, a big
/// table as its summary.
#[derive(Debug, Clone, Default)]
pub struct FormView {
    pub fields: Ordered,
    /// The tables shown as a summary, by name (their rows are not in `fields`).
    pub summaries: Vec<(String, TableSummary)>,
}

/// A big table: how many rows, and each column (in written order) with how
/// many cells are filled and, for numbers, their sum as the column shows a value.
#[derive(Debug, Clone, PartialEq)]
pub struct TableSummary {
    pub rows: usize,
    pub columns: Vec<(String, ColumnSummary)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ColumnSummary {
    pub filled: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sum: Option<Json>,
}

impl Serialize for FormView {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.fields.0.len()))?;
        for (name, value) in &self.fields.0 {
            match (self.summaries.iter().find(|(table, _)| table == name), value) {
                (Some((_, summary)), _) => map.serialize_entry(name, summary)?,
                (None, OrderedValue::Json(json)) => map.serialize_entry(name, json)?,
                (None, OrderedValue::Rows(rows)) => map.serialize_entry(name, rows)?,
            }
        }
        map.end()
    }
}

impl Serialize for TableSummary {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Columns<'c>(&'c [(String, ColumnSummary)]);
        impl Serialize for Columns<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(self.0.len()))?;
                for (name, column) in self.0 {
                    map.serialize_entry(name, column)?;
                }
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("rows", &self.rows)?;
        map.serialize_entry("columns", &Columns(&self.columns))?;
        map.end()
    }
}

/// The form with each table of more than `BIG_TABLE_ROWS` rows replaced by
/// its summary: `{"rows": N, "columns": {"金额": {"filled": N, "sum": "…"},
/// …}}`. The big tables' rows are never turned into JSON values.
fn summarized_form(
    form: &crate::ir::Form,
    layout: &crate::runtime::values::layout::Layout,
    data: &FormData,
) -> FormView {
    let big = |rows: &Vec<Vec<Value>>| rows.len() > BIG_TABLE_ROWS;
    if !data.tables.iter().any(big) {
        return FormView { fields: form_to_json(form, layout, data), summaries: Vec::new() };
    }
    let small = FormData {
        main: data.main.clone(),
        tables: data.tables.iter().map(|rows| if big(rows) { Vec::new() } else { rows.clone() }).collect(),
    };
    let mut summaries = Vec::new();
    for (table, detail) in form.details.iter().enumerate() {
        let Some(rows) = data.tables.get(table).filter(|rows| big(rows)) else { continue };
        let mut columns = Vec::new();
        for (position, &column) in detail.columns.iter().enumerate() {
            let Some(field) = form.fields.get(column) else { continue };
            if matches!(field.kind, crate::check::types::FieldKind::Link | crate::check::types::FieldKind::Note) {
                continue;
            }
            let mut filled = 0usize;
            let mut sum = Some(rust_decimal::Decimal::ZERO);
            let mut numbers = true;
            for cells in rows {
                match cells.get(position) {
                    Some(value) if !value.is_empty() => {
                        filled += 1;
                        match value {
                            Value::Number(number) => sum = sum.and_then(|total| total.checked_add(*number)),
                            _ => numbers = false,
                        }
                    }
                    _ => {}
                }
            }
            let sum =
                sum.filter(|_| numbers && filled > 0).map(|total| field_values::to_json(field, &Value::Number(total)));
            columns.push((field.name.clone(), ColumnSummary { filled, sum }));
        }
        summaries.push((detail.name.clone(), TableSummary { rows: rows.len(), columns }));
    }
    FormView { fields: form_to_json(form, layout, &small), summaries }
}

/// The files of a run. A folder holds one `.flow` besides any `*.test.flow` (or takes its parent's,
/// so one process can keep several cases in subfolders), `org.toml` or
/// `org.json` (also looked for in the parent), `request.json`,
/// `actions.json`, and optionally `run.toml` (also looked for in the
/// parent) with the run's settings.
#[derive(Debug, Clone, Default)]
pub struct RunFiles {
    pub flow: Option<std::path::PathBuf>,
    pub org: Option<std::path::PathBuf>,
    pub request: Option<std::path::PathBuf>,
    pub actions: Option<std::path::PathBuf>,
    pub settings: Option<std::path::PathBuf>,
}

/// A folder's `run.toml`: what a run of the folder takes that no input file
/// holds. Today one setting, `now = 2026-11-28T09:00:00+08:00` (a TOML
/// datetime or a string in the `--now` format), so a folder whose workflow
/// reads `today()` runs the same every day; `--now` overrides it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunSettings {
    pub now: Option<DateTime>,
}

impl RunSettings {
    /// Reads `run.toml`'s text; the error names what is wrong, for the caller to prefix with the file.
    pub fn parse(text: &str) -> Result<RunSettings, String> {
        let table: toml::Table = toml::from_str(text).map_err(|error| error.message().to_owned())?;
        let mut settings = RunSettings::default();
        for (key, value) in &table {
            match (key.as_str(), value) {
                ("now", toml::Value::Datetime(datetime)) => {
                    settings.now = Some(parse_now(&datetime.to_string())?);
                }
                ("now", toml::Value::String(text)) => settings.now = Some(parse_now(text)?),
                ("now", _) => return Err("`now` is a datetime (now = 2026-11-28T09:00:00+08:00)".into()),
                (other, _) => return Err(format!("unknown setting `{other}` (the settings are: now)")),
            }
        }
        Ok(settings)
    }
}

fn parse_now(text: &str) -> Result<DateTime, String> {
    DateTime::parse(text).ok_or_else(|| format!("`now = {text}` is not a datetime (write 2026-11-28T09:00:00+08:00)"))
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
            settings: find(&["run.toml"]),
        })
    }
}

fn single_flow(folder: &std::path::Path) -> Result<Option<std::path::PathBuf>, String> {
    let entries = std::fs::read_dir(folder).map_err(|error| format!("cannot read `{}`: {error}", folder.display()))?;
    let mut flows: Vec<std::path::PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|extension| extension == "flow") && path.is_file())
        // `*.test.flow` files hold `test` items for `flowc test`, not the workflow to run.
        .filter(|path| !path.to_string_lossy().ends_with(".test.flow"))
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
