//! The saved request (`--state FILE`, runtime.md §3): readable JSON with
//! the form by field name, the current node by name, pending operators,
//! the source hash of the workflow that wrote it, and the log, each line
//! with what its action was given (the creation's form, an action's `set`).
//!
//! A state is only ever what its actions made it: loading replays the log
//! through the runtime (`replay`) and refuses a state whose content differs
//! from what the log gives (R0503, the first difference named). Computed
//! values are not compared: they are recomputed. Format 1 kept no input,
//! so it is refused unless `--migrate`, which takes its content as the
//! starting point (`start`) that later actions are replayed from. A state of
//! a changed source is refused unless `--migrate`, which replays its
//! actions under the current source.
//!
//! A request split by a fork saves its current nodes in `nodes` (one per
//! branch) instead of `node`; a state without `nodes` is at one node, as
//! every state saved before forks existed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::diag::Code;
use crate::ir::Workflow;
use crate::runtime::error::RuntimeError;
use crate::runtime::request::positions::{branch_label, path_of, Focus};
use crate::runtime::request::FormInput;
use crate::runtime::request::{
    node_name, node_operators_by_name, Continued, Given, Log, LogEntry, LogLine, OpinionType, Position, Recipient,
    Reminder, Request, Runtime, StandIn,
};
use crate::runtime::values::dates::DateTime;
use crate::runtime::values::field_values::{form_to_json, read_form_text, Door, Ordered};
use crate::runtime::values::formulas::blank;

/// The version of the state format (`flowc_state`). 1: content and log
/// lines only; 2: each log line with its input, and `start` for a state
/// moved from format 1.
pub const FORMAT: u32 = 2;

#[derive(Debug, Serialize)]
struct StateOut<'r> {
    flowc_state: u32,
    workflow: &'r str,
    source_hash: &'r str,
    #[serde(flatten)]
    content: ContentOut<'r>,
    #[serde(skip_serializing_if = "Option::is_none")]
    start: Option<StartOut<'r>>,
    log: Vec<LineOut<'r>>,
    /// The requests it started (`start`), each with its own state, replayed on its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    children: Vec<ChildOut<'r>>,
}

#[derive(Debug, Serialize)]
struct ChildOut<'r> {
    id: &'r str,
    state: StateOut<'r>,
}

/// A node waiting for the request it started, by name.
#[derive(Debug, Serialize)]
struct WaitingOut<'r> {
    node: &'r str,
    workflow: &'r str,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChildIn {
    id: String,
    state: Box<RawValue>,
}

/// What a request holds at one moment, by name.
#[derive(Debug, Serialize)]
struct ContentOut<'r> {
    creator: &'r str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'r str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    nodes: Vec<PositionState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    waiting: Option<WaitingOut<'r>>,
    archived: bool,
    operators: &'r [String],
    pending: &'r [String],
    batch: Option<u64>,
    forwarded: &'r [String],
    notified: &'r [String],
    node_operators: BTreeMap<String, String>,
    form: Ordered,
    #[serde(skip_serializing_if = "<[Reminder]>::is_empty")]
    outbox: &'r [Reminder],
    #[serde(skip_serializing_if = "<[StandIn]>::is_empty")]
    stand_ins: &'r [StandIn],
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence: Option<u64>,
    /// When the request entered the current node, shown when that node has a deadline.
    #[serde(skip_serializing_if = "Option::is_none")]
    entered_at: Option<String>,
}

/// Where replay begins in a state moved from format 1: its content then, and its log then.
#[derive(Debug, Serialize)]
struct StartOut<'r> {
    at: String,
    #[serde(flatten)]
    content: ContentOut<'r>,
    log: Vec<&'r LogEntry>,
}

#[derive(Debug, Serialize)]
struct LineOut<'r> {
    #[serde(flatten)]
    entry: &'r LogEntry,
    #[serde(skip_serializing_if = "Option::is_none")]
    form: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    set: Option<&'r FormInput>,
}

/// One branch's place in a split request's state.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PositionState {
    branch: String,
    node: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    arrived: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    operators: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pending: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    batch: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    forwarded: Vec<String>,
}

// No `#[serde(flatten)]` on the way in: it cannot refuse unknown fields and
// would buffer the log lines, which are read as raw text.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateIn {
    flowc_state: u32,
    workflow: String,
    source_hash: String,
    creator: String,
    created_at: String,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    nodes: Vec<PositionState>,
    archived: bool,
    operators: Vec<String>,
    pending: Vec<String>,
    batch: Option<u64>,
    #[serde(default)]
    forwarded: Vec<String>,
    #[serde(default)]
    notified: Vec<String>,
    #[serde(default)]
    node_operators: BTreeMap<String, String>,
    /// Read only from format 1 (format 2 is replayed, and this is compared as text).
    form: Box<RawValue>,
    /// Given by replay (and compared with it), like the rest of the content.
    #[serde(default)]
    #[allow(dead_code)]
    entered_at: Option<String>,
    #[serde(default)]
    outbox: Vec<Reminder>,
    #[serde(default)]
    stand_ins: Vec<StandIn>,
    /// The number the creation drew from the workflow's counter (`serial` fields): replay
    /// draws the same.
    #[serde(default)]
    sequence: Option<u64>,
    #[serde(default)]
    start: Option<StartIn>,
    /// Each line as text: a line of format 1 is a `LogEntry`, of format 2 a `LineIn`.
    #[serde(default)]
    log: Vec<Box<RawValue>>,
    /// Given by replay (and compared with it).
    #[serde(default)]
    #[allow(dead_code)]
    waiting: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    children: Vec<ChildIn>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartIn {
    at: String,
    creator: String,
    created_at: String,
    #[serde(default)]
    node: Option<String>,
    #[serde(default)]
    nodes: Vec<PositionState>,
    archived: bool,
    operators: Vec<String>,
    pending: Vec<String>,
    batch: Option<u64>,
    #[serde(default)]
    forwarded: Vec<String>,
    #[serde(default)]
    notified: Vec<String>,
    #[serde(default)]
    node_operators: BTreeMap<String, String>,
    /// Read from its text, so numbers keep every digit (`read_form_text`).
    form: Box<RawValue>,
    #[serde(default)]
    log: Vec<LogEntry>,
    #[serde(default)]
    outbox: Vec<Reminder>,
    #[serde(default)]
    stand_ins: Vec<StandIn>,
    #[serde(default)]
    sequence: Option<u64>,
    /// Not read: replay gives it (a state of format 1 never had it).
    #[serde(default)]
    #[allow(dead_code)]
    entered_at: Option<String>,
}

/// A request's content as a state holds it, by name.
struct ContentIn {
    creator: String,
    created_at: String,
    node: Option<String>,
    nodes: Vec<PositionState>,
    archived: bool,
    operators: Vec<String>,
    pending: Vec<String>,
    batch: Option<u64>,
    forwarded: Vec<String>,
    notified: Vec<String>,
    node_operators: BTreeMap<String, String>,
    /// The form as text, read with `read_form_text` so numbers keep every digit.
    form: Box<RawValue>,
    outbox: Vec<Reminder>,
    stand_ins: Vec<StandIn>,
    sequence: Option<u64>,
}

impl StateIn {
    fn content(&mut self) -> Result<ContentIn, RuntimeError> {
        let form = self.form.clone();
        Ok(ContentIn {
            creator: std::mem::take(&mut self.creator),
            created_at: std::mem::take(&mut self.created_at),
            node: self.node.take(),
            nodes: std::mem::take(&mut self.nodes),
            archived: self.archived,
            operators: std::mem::take(&mut self.operators),
            pending: std::mem::take(&mut self.pending),
            batch: self.batch,
            forwarded: std::mem::take(&mut self.forwarded),
            notified: std::mem::take(&mut self.notified),
            node_operators: std::mem::take(&mut self.node_operators),
            form,
            outbox: std::mem::take(&mut self.outbox),
            stand_ins: std::mem::take(&mut self.stand_ins),
            sequence: self.sequence,
        })
    }
}

impl StartIn {
    fn content(self) -> (ContentIn, Vec<LogEntry>) {
        let content = ContentIn {
            creator: self.creator,
            created_at: self.created_at,
            node: self.node,
            nodes: self.nodes,
            archived: self.archived,
            operators: self.operators,
            pending: self.pending,
            batch: self.batch,
            forwarded: self.forwarded,
            notified: self.notified,
            node_operators: self.node_operators,
            form: self.form,
            outbox: self.outbox,
            stand_ins: self.stand_ins,
            sequence: self.sequence,
        };
        (content, self.log)
    }
}

/// What replay reads of a line: who did what, with what, when. The rest of
/// the line (where, what changed, which exit) is what replay must give.
#[derive(Debug, Deserialize)]
pub(super) struct LineIn {
    pub time: String,
    pub by: String,
    #[serde(rename = "do")]
    pub action: String,
    #[serde(default)]
    pub node: Option<String>,
    #[serde(default)]
    pub opinion: Option<String>,
    #[serde(default)]
    pub form: Option<Box<RawValue>>,
    /// As text, like an action's `set` (numbers keep every digit).
    #[serde(default)]
    pub set: Option<Box<RawValue>>,
    #[serde(default)]
    pub to: Vec<Recipient>,
    /// On the creation line: the request that started this one.
    #[serde(default)]
    pub started_by: Option<String>,
}

fn malformed(message: String) -> RuntimeError {
    RuntimeError::new(Code::R0502, message)
}

impl<'a> Runtime<'a> {
    /// The request as the text of a state file.
    pub fn save_state(&self, request: &Request) -> Result<String, RuntimeError> {
        let state = self.state_out(request)?;
        serde_json::to_string_pretty(&state)
            .map(|text| text + "\n")
            .map_err(|error| malformed(format!("cannot write the state: {error}")))
    }

    fn state_out<'r>(&'r self, request: &'r Request) -> Result<StateOut<'r>, RuntimeError> {
        let workflow = self.workflow(request)?;
        let start = request.log.start();
        let replayed_from = start.map_or(0, |start| start.request.log.len());
        let mut log = Vec::with_capacity(request.log.len());
        for line in request.log.lines().into_iter().skip(replayed_from) {
            let (form, set) = match &line.given {
                Given::Form(text) => (
                    Some(RawValue::from_string(text.clone()).map_err(|error| {
                        malformed(format!("cannot write the state: the creation's form is not JSON: {error}"))
                    })?),
                    None,
                ),
                Given::Set(set) => (None, set.as_ref()),
                Given::Unrecorded => (None, None),
            };
            log.push(LineOut { entry: &line.entry, form, set });
        }
        let mut children = Vec::with_capacity(request.children.len());
        for child in &request.children {
            children.push(ChildOut { id: &child.id, state: self.state_out(&child.request)? });
        }
        Ok(StateOut {
            flowc_state: FORMAT,
            workflow: &workflow.name,
            source_hash: &self.compiled.source_hash,
            content: self.content_out(workflow, request)?,
            start: match start {
                Some(start) => Some(StartOut {
                    at: start.at.to_string(),
                    content: self.content_out(workflow, &start.request)?,
                    log: start.request.log.entries(),
                }),
                None => None,
            },
            log,
            children,
        })
    }

    fn content_out<'r>(&'r self, workflow: &'r Workflow, request: &'r Request) -> Result<ContentOut<'r>, RuntimeError> {
        let form = self.compiled.program.forms.get(workflow.form);
        let layout = self.compiled.layouts.get(workflow.form);
        let (Some(form), Some(layout)) = (form, layout) else {
            return Err(malformed("internal error: unknown form".into()));
        };
        Ok(ContentOut {
            creator: &request.creator,
            created_at: request.created_at.to_string(),
            node: (!request.is_split()).then(|| node_name(workflow, request.node)),
            waiting: request.waiting.as_ref().map(|waiting| WaitingOut {
                node: node_name(workflow, waiting.node),
                workflow: self.compiled.program.workflows.get(waiting.workflow).map_or("", |w| w.name.as_str()),
            }),
            nodes: request
                .positions
                .iter()
                .map(|position| PositionState {
                    branch: branch_label(workflow, &path_of(workflow, position.node, position.arrived)),
                    node: node_name(workflow, position.node).to_owned(),
                    arrived: position.arrived.is_some(),
                    operators: position.operators.clone(),
                    pending: position.pending.clone(),
                    batch: position.batch,
                    forwarded: position.forwarded.clone(),
                })
                .collect(),
            archived: request.archived,
            operators: &request.operators,
            pending: &request.pending,
            batch: request.batch,
            forwarded: &request.forwarded,
            notified: &request.notified,
            node_operators: node_operators_by_name(workflow, request),
            form: form_to_json(form, layout, &request.form),
            outbox: &request.outbox,
            stand_ins: &request.stand_ins,
            sequence: request.sequence,
            entered_at: crate::runtime::request::deadlines::has_deadline(workflow, request.node)
                .then(|| request.entered_at.to_string()),
        })
    }

    /// A request from the text of a state file: the request its log gives,
    /// when the state's content is that request. `migrate` continues a state
    /// of a changed source (its actions replayed under the current one) or
    /// of format 1 (its content taken as the start).
    pub fn load_state(&self, text: &str, migrate: bool, now: DateTime) -> Result<Request, RuntimeError> {
        let mut state: StateIn = serde_json::from_str(text)
            .map_err(|error| malformed(format!("the state file is not a flowc state: {error}")))?;
        match state.flowc_state {
            1 if !migrate => {
                return Err(RuntimeError::new(
                    Code::R0501,
                    "the state is of format 1, written by an earlier flowc, which kept no record of what each \
                     action was given, so it cannot be checked against its log",
                )
                .with_help(
                    "pass `--migrate` to move it to format 2: its content is taken as it is, as the start that \
                     later actions are replayed from",
                ))
            }
            1 | FORMAT => {}
            other => {
                return Err(malformed(format!("state format {other} is not supported (this flowc writes {FORMAT})")))
            }
        }
        let workflow_index =
            self.compiled.program.workflows.iter().position(|workflow| workflow.name == state.workflow).ok_or_else(
                || {
                    RuntimeError::new(
                        Code::R0501,
                        format!("the state belongs to workflow `{}`, which this program does not have", state.workflow),
                    )
                },
            )?;
        if state.source_hash != self.compiled.source_hash && !migrate {
            return Err(RuntimeError::new(
                Code::R0501,
                format!(
                    "the state was saved by another version of the workflow (source {}, now {})",
                    state.source_hash, self.compiled.source_hash
                ),
            )
            .with_help("pass `--migrate` to replay its actions under the current source"));
        }
        let mut request = if state.flowc_state == 1 {
            let mut entries = Vec::with_capacity(state.log.len());
            for line in &state.log {
                entries.push(
                    serde_json::from_str::<LogEntry>(line.get())
                        .map_err(|error| malformed(format!("a log line of the state is malformed: {error}")))?,
                );
            }
            let mut start = self.read_content(workflow_index, state.content()?, entries)?;
            let workflow = self.workflow(&start)?;
            self.recompute(workflow, &mut start, now)?;
            let mut request = start.clone();
            request.log = Log::continuing(Continued { request: start, at: now });
            request
        } else {
            let start = match state.start.take() {
                Some(start) => {
                    let at = DateTime::parse(&start.at)
                        .ok_or_else(|| malformed(format!("`start.at` `{}` is not a datetime", start.at)))?;
                    let (content, log) = start.content();
                    let mut request = self.read_content(workflow_index, content, log)?;
                    let workflow = self.workflow(&request)?;
                    self.recompute(workflow, &mut request, at)?;
                    Some(Continued { request, at })
                }
                None => None,
            };
            let mut lines = Vec::with_capacity(state.log.len());
            for (index, line) in state.log.iter().enumerate() {
                lines.push(serde_json::from_str::<LineIn>(line.get()).map_err(|error| {
                    malformed(format!("line {} of the state's log is malformed: {error}", index + 1))
                })?);
            }
            let mut replayed = self.replay(workflow_index, start, lines, state.sequence)?;
            // The requests it started: each state is replayed and checked on its own.
            for child in std::mem::take(&mut state.children) {
                let request = self.load_state(child.state.get(), migrate, now).map_err(|mut error| {
                    error.message = format!("request {} of the state: {}", child.id, error.message);
                    error
                })?;
                replayed.children.push(crate::runtime::request::subflows::Child { id: child.id, request });
            }
            if !migrate {
                self.check_against_log(text, &replayed)?;
            }
            replayed
        };
        let workflow = self.workflow(&request)?;
        self.recompute(workflow, &mut request, now)?;
        Ok(request)
    }

    /// A request as a state's content says it is (format 1, or the `start` of a moved one).
    fn read_content(
        &self,
        workflow_index: usize,
        content: ContentIn,
        log: Vec<LogEntry>,
    ) -> Result<Request, RuntimeError> {
        let workflow =
            self.compiled.program.workflows.get(workflow_index).ok_or_else(|| malformed("unknown workflow".into()))?;
        let node_index = |name: &str| {
            workflow.nodes.iter().position(|node| node.name == name).ok_or_else(|| {
                RuntimeError::new(
                    Code::R0501,
                    format!("the state is at node `{name}`, which the workflow no longer has"),
                )
            })
        };
        let node = match (&content.node, content.nodes.is_empty()) {
            (Some(name), true) => node_index(name)?,
            (None, false) => workflow.create,
            (Some(_), false) => {
                return Err(malformed("the state has both `node` and `nodes`; a split request has `nodes` only".into()))
            }
            (None, true) => return Err(malformed("the state has no `node`".into())),
        };
        let mut positions = Vec::new();
        for saved in &content.nodes {
            positions.push(self.load_position(workflow, saved, node_index(&saved.node)?)?);
        }
        let form = self.compiled.program.forms.get(workflow.form).ok_or_else(|| malformed("unknown form".into()))?;
        let layout = self.compiled.layouts.get(workflow.form).ok_or_else(|| malformed("unknown layout".into()))?;
        let created_at = DateTime::parse(&content.created_at)
            .ok_or_else(|| malformed(format!("`created_at` `{}` is not a datetime", content.created_at)))?;
        let standing_in = content.stand_ins.iter().flat_map(|stand_in| [&stand_in.deputy, &stand_in.person]);
        let saved_people = content.nodes.iter().flat_map(|saved| saved.operators.iter().chain(&saved.pending));
        for person in std::iter::once(&content.creator)
            .chain(&content.operators)
            .chain(&content.pending)
            .chain(standing_in)
            .chain(saved_people)
        {
            if self.directory.employee(person).is_none() {
                return Err(RuntimeError::new(
                    Code::R0305,
                    format!("the state names `{person}`, who is not in the directory"),
                ));
            }
        }
        let mut node_operators = vec![None; workflow.nodes.len()];
        for (name, person) in content.node_operators {
            if let Some(slot) =
                workflow.nodes.iter().position(|node| node.name == name).and_then(|index| node_operators.get_mut(index))
            {
                *slot = Some(person);
            }
        }
        let mut data = blank(form);
        read_form_text(form, layout, content.form.get(), self.directory, Door::Stored, &mut data, |_| Ok(()))?;
        // A state of format 1 kept no entry time: the last line that moved the request has it.
        let entered_at = log
            .iter()
            .rev()
            .find(|entry| entry.to_node.is_some())
            .and_then(|entry| DateTime::parse(&entry.time))
            .unwrap_or(created_at);
        let mut kept = Log::new();
        for mut entry in log {
            // A state written before log lines had types: each takes the type its `do` names.
            if entry.opinion_type.is_none() {
                let kind = workflow.nodes.iter().find(|node| node.name == entry.node).map(|node| node.kind);
                entry.opinion_type = OpinionType::of_logged(&entry.action, kind);
            }
            kept.push(LogLine { entry, given: Given::Unrecorded });
        }
        let mut request = Request {
            workflow: workflow_index,
            creator: content.creator,
            created_at,
            node,
            archived: content.archived,
            operators: content.operators,
            pending: content.pending,
            batch: content.batch,
            forwarded: content.forwarded,
            notified: content.notified,
            node_operators,
            form: data,
            entered_at,
            timers_fired: 0,
            waiting: None,
            children: Vec::new(),
            log: kept,
            outbox: content.outbox,
            stand_ins: content.stand_ins,
            sequence: content.sequence,
            positions,
        };
        if request.is_split() {
            self.settle(workflow, &mut request, Focus::Gone);
        }
        Ok(request)
    }

    /// One saved branch position, checked against the workflow: its node is
    /// in that branch (or, arrived, is the branch's merge).
    fn load_position(&self, workflow: &Workflow, saved: &PositionState, node: usize) -> Result<Position, RuntimeError> {
        let stale = |why: String| {
            RuntimeError::new(Code::R0501, format!("the state's branch `{}` at `{}` {why}", saved.branch, saved.node))
                .with_help("the workflow's forks changed since the state was saved")
        };
        let arrived = if saved.arrived {
            let rule = workflow.nodes.get(node).and_then(|at| at.merge.as_ref());
            let rule = rule.ok_or_else(|| stale("is marked arrived, but the node is no merge".into()))?;
            let last = saved.branch.rsplit('/').next().unwrap_or_default();
            let branches = workflow.forks.get(rule.fork).map(|fork| fork.branches.as_slice()).unwrap_or_default();
            Some(
                branches
                    .iter()
                    .position(|branch| branch == last)
                    .ok_or_else(|| stale("names no branch of the merge's fork".into()))?,
            )
        } else {
            None
        };
        let label = branch_label(workflow, &path_of(workflow, node, arrived));
        if label != saved.branch || label.is_empty() {
            return Err(stale(format!("does not match the workflow, where the node is in branch `{label}`")));
        }
        Ok(Position {
            node,
            arrived,
            operators: saved.operators.clone(),
            pending: saved.pending.clone(),
            batch: saved.batch,
            forwarded: saved.forwarded.clone(),
        })
    }
}
