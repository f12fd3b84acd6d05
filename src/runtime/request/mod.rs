//! The request state machine (runtime.md §3): creating a request and
//! applying one action as a pure transition, `request + action → new
//! request + step`. Every action works on a copy; a refusal returns the
//! error and the caller still holds the request exactly as it was.
//! `submit` is the order of one submit and reject, `set_fields` what a node
//! lets a person write, `operators` who handles a node (batches, `where`,
//! `when`), `events` what an action did (steps, log lines, changes), `log`
//! how the log is held (shared between copies, each line with its input),
//! `positions` where a request split by a fork stands and `forks` what forks
//! and merges do to it.

pub mod deadlines;
pub mod events;
mod forks;
pub mod log;
mod node_rules;
pub mod operators;
pub mod opinions;
pub mod positions;
pub mod recipients;
pub mod reminders;
mod set_fields;
pub mod stand_ins;
pub mod subflows;
mod submit;
mod supervise;
mod withdraw;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::diag::Code;
use crate::ir::{NodeKind, Workflow};
use crate::org::Directory;
use crate::runtime::compiled::Compiled;
use crate::runtime::error::RuntimeError;
use crate::runtime::values::dates::DateTime;
use crate::runtime::values::eval::Env;
use crate::runtime::values::field_values;
use crate::runtime::values::formulas::blank;
use crate::runtime::values::serial;
use crate::runtime::values::value::FormData;

pub use events::{route, BlockKind, BlockRun, Change, ChangeSource, ExitTried, LogEntry, Move, RouteStop, Step};
pub use log::{Continued, Given, Log, LogLine};
pub use opinions::OpinionType;
use positions::Focus;
pub use positions::{BranchEvent, NodeView, Position, Withdrawal};
pub use recipients::Recipient;
pub use reminders::Reminder;
pub use stand_ins::StandIn;

/// One request in flight.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub workflow: usize,
    pub creator: String,
    pub created_at: DateTime,
    pub node: usize,
    pub archived: bool,
    /// Everyone resolved for the current node, in order.
    pub operators: Vec<String>,
    /// Who may still submit or reject here (`sequential`: only the next one).
    pub pending: Vec<String>,
    pub batch: Option<u64>,
    /// People the request was forwarded to at this node (they may comment).
    pub forwarded: Vec<String>,
    /// Everyone ever copied (`cc`).
    pub notified: Vec<String>,
    /// Who submitted each node most recently, by node index.
    pub node_operators: Vec<Option<String>>,
    pub form: FormData,
    /// The history, each line with what its action was given; copies share it.
    pub log: Log,
    /// Reminders asked for (督办, deadlines) and not yet delivered (a host takes them out).
    pub outbox: Vec<Reminder>,
    /// Who stands in for whom (代理) among the current node's operators.
    pub stand_ins: Vec<StandIn>,
    /// The number drawn from the workflow's counter, when its form has a `serial` field.
    pub sequence: Option<u64>,
    /// Empty while the request stands at one node. After a fork: one per
    /// branch, sorted by branch, and the fields above sum them up
    /// (`positions.rs`).
    pub positions: Vec<Position>,
    /// When the request entered the current node: its deadline counts from here.
    pub entered_at: DateTime,
    /// How many rules of the current node's deadline have fired since it entered.
    pub timers_fired: usize,
    /// Waiting at a node for the request it started to be archived (`start … wait`).
    pub waiting: Option<subflows::Waiting>,
    /// The requests it started, each with the id its holder gave it.
    pub children: Vec<subflows::Child>,
}

/// An action of `--actions` (runtime.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Action {
    pub by: String,
    #[serde(rename = "do")]
    pub kind: ActionKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opinion: Option<String>,
    /// The fields to write, kept as JSON text so numbers are read exactly (like a request's form).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "set_text")]
    pub set: Option<FormInput>,
    /// forward/cc: employee ids, or `{"department": …}`, `{"subcompany": …}`, `{"role": …}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<Recipient>,
    /// The node acted at, when a request split by a fork waits for the actor at several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// When the action happens (RFC 3339); without it, at the run's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// The request acted on, when a run holds several (`start`): `"2"`; without it, the first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    Submit,
    Reject,
    Comment,
    Forward,
    Cc,
    /// 撤回: the creator takes the request back before anyone at the next node acted.
    Withdraw,
    /// 督办: a supervisor comments and reminds the pending people.
    Supervise,
    /// 强制归档: a supervisor or administrator ends the request.
    ForceArchive,
    /// 强制收回: a supervisor or administrator sends it back to the create node.
    ForceReturn,
}

impl ActionKind {
    pub const ALL: [ActionKind; 9] = [
        ActionKind::Submit,
        ActionKind::Reject,
        ActionKind::Comment,
        ActionKind::Forward,
        ActionKind::Cc,
        ActionKind::Withdraw,
        ActionKind::Supervise,
        ActionKind::ForceArchive,
        ActionKind::ForceReturn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Submit => "submit",
            ActionKind::Reject => "reject",
            ActionKind::Comment => "comment",
            ActionKind::Forward => "forward",
            ActionKind::Cc => "cc",
            ActionKind::Withdraw => "withdraw",
            ActionKind::Supervise => "supervise",
            ActionKind::ForceArchive => "force_archive",
            ActionKind::ForceReturn => "force_return",
        }
    }

    /// The action a log line's `do` names.
    pub fn from_name(name: &str) -> Option<ActionKind> {
        ActionKind::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// Actions taken by someone other than the node's operators: the creator (withdraw),
    /// supervisors and administrators. They write no fields.
    pub fn is_oversight(self) -> bool {
        matches!(
            self,
            ActionKind::Withdraw | ActionKind::Supervise | ActionKind::ForceArchive | ActionKind::ForceReturn
        )
    }
}

/// `--request`: the workflow, the creator and the form as the creator filled it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    #[serde(default)]
    pub workflow: Option<String>,
    pub creator: String,
    #[serde(default, deserialize_with = "form_text")]
    pub form: FormInput,
    /// The workflow's counter for a form with a `serial` field (流程编号): the number this
    /// request draws. A host keeps the counter; `flowc run` starts at 1.
    #[serde(default)]
    pub sequence: Option<u64>,
    /// The request that started this one (`start`): its fields are written whatever the
    /// create node lets its creator edit. Never read from a request file.
    #[serde(skip)]
    pub started_by: Option<String>,
}

/// The form of a new request, or an action's `set`: values a host built, or
/// the JSON text of a request or actions file. The text is read row by row
/// without building its JSON tree (a request of a million rows costs the
/// rows), and its numbers are read exactly, from their digits.
#[derive(Debug, Clone, PartialEq)]
pub enum FormInput {
    Fields(serde_json::Map<String, Json>),
    Text(String),
}

impl Default for FormInput {
    fn default() -> Self {
        FormInput::Fields(serde_json::Map::new())
    }
}

impl Serialize for FormInput {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FormInput::Fields(fields) => fields.serialize(serializer),
            FormInput::Text(text) => serde_json::from_str::<&serde_json::value::RawValue>(text)
                .map_err(|error| serde::ser::Error::custom(format_args!("the form is not JSON: {error}")))?
                .serialize(serializer),
        }
    }
}

/// The form is kept as its JSON text: parse a `NewRequest` with
/// `serde_json::from_str` (a host that builds the values itself makes a
/// `FormInput::Fields` instead). Anything but an object is refused here,
/// with the file's line and column, like any other malformed request.
fn form_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<FormInput, D::Error> {
    let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
    object_text(raw.get()).map(FormInput::Text)
}

/// An action's `set`, as text like a request's form; `null` is no `set`.
fn set_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<FormInput>, D::Error> {
    let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
    match raw.get().trim() {
        "null" => Ok(None),
        text => object_text(text).map(|text| Some(FormInput::Text(text))),
    }
}

fn object_text<E: serde::de::Error>(text: &str) -> Result<String, E> {
    let text = text.trim();
    let found = match text.as_bytes().first() {
        Some(b'{') => return Ok(text.to_owned()),
        Some(b'[') => serde::de::Unexpected::Seq,
        Some(b'"') => serde::de::Unexpected::Other("text"),
        Some(b't' | b'f') => serde::de::Unexpected::Other("a boolean"),
        Some(b'n') => serde::de::Unexpected::Unit,
        _ => serde::de::Unexpected::Other("a number"),
    };
    Err(E::invalid_type(found, &"an object of field values"))
}

/// Runs requests of one compiled program against one directory.
pub struct Runtime<'a> {
    pub compiled: &'a Compiled,
    pub directory: &'a dyn Directory,
}

impl<'a> Runtime<'a> {
    pub fn new(compiled: &'a Compiled, directory: &'a dyn Directory) -> Runtime<'a> {
        Runtime { compiled, directory }
    }

    pub fn workflow(&self, request: &Request) -> Result<&'a Workflow, RuntimeError> {
        self.compiled.program.workflows.get(request.workflow).ok_or_else(|| internal("unknown workflow"))
    }

    /// What the request's expressions read: its form, creator and node operators.
    pub(crate) fn env<'r>(
        &'r self,
        workflow: &'a Workflow,
        request: &'r Request,
        now: DateTime,
    ) -> Result<Env<'r>, RuntimeError> {
        let form = self.compiled.program.forms.get(workflow.form).ok_or_else(|| internal("unknown form"))?;
        let layout = self.compiled.layouts.get(workflow.form).ok_or_else(|| internal("unknown layout"))?;
        Ok(Env {
            program: &self.compiled.program,
            form,
            layout,
            data: &request.form,
            row: None,
            row_cells: None,
            directory: self.directory,
            creator: &request.creator,
            now,
            node_operators: &request.node_operators,
            person: None,
        })
    }

    /// Creates a request at the workflow's `create` node (runtime.md §3 `--request`).
    pub fn create(
        &self,
        workflow_index: usize,
        new: &NewRequest,
        now: DateTime,
    ) -> Result<(Request, Step), RuntimeError> {
        let workflow =
            self.compiled.program.workflows.get(workflow_index).ok_or_else(|| internal("unknown workflow"))?;
        if workflow.inactive {
            return Err(RuntimeError::new(
                Code::R0206,
                format!("workflow `{}` is inactive: nobody may create requests", workflow.name),
            ));
        }
        if self.directory.employee(&new.creator).is_none() {
            return Err(RuntimeError::new(Code::R0305, recipients::not_a_person(self, "creator", &new.creator)));
        }
        let form = self.compiled.program.forms.get(workflow.form).ok_or_else(|| internal("unknown form"))?;
        let create = workflow.nodes.get(workflow.create).ok_or_else(|| internal("no create node"))?;
        let mut request = Request {
            workflow: workflow_index,
            creator: new.creator.clone(),
            created_at: now,
            node: workflow.create,
            archived: false,
            operators: vec![new.creator.clone()],
            pending: vec![new.creator.clone()],
            batch: None,
            forwarded: Vec::new(),
            notified: Vec::new(),
            node_operators: vec![None; workflow.nodes.len()],
            form: blank(form),
            log: Log::new(),
            outbox: Vec::new(),
            stand_ins: Vec::new(),
            sequence: None,
            positions: Vec::new(),
            entered_at: now,
            timers_fired: 0,
            waiting: None,
            children: Vec::new(),
        };
        if serial::has_serial(form) {
            let sequence = new.sequence.unwrap_or(1);
            serial::fill(form, &mut request.form, now.date, sequence);
            request.sequence = Some(sequence);
        }
        let env = self.env(workflow, &request, now)?;
        if !operators::admits(env, create, &new.creator)? {
            return Err(RuntimeError::at(
                Code::R0206,
                format!(
                    "{} is not among the operators of `{}`, who may create requests",
                    self.person_name(&new.creator),
                    create.name
                ),
                create.at,
            )
            .with_label("these operators may create requests"));
        }
        let before = request.form.clone();
        let mut entered = Vec::new();
        match &new.started_by {
            // Started by another request (`start`): the mapped fields are the system's to write.
            Some(_) => self.write_started(workflow, &mut request, &new.form, &mut entered)?,
            None => self.write_fields(workflow, create, &mut request, &new.form, &mut entered)?,
        }
        self.recompute(workflow, &mut request, now)?;
        let mut step = Step::new(&new.creator, "create", &create.name, None);
        step.changed = self.changes(workflow, &before, &request.form, &entered);
        self.run_named_block(workflow, &create.before, &mut request, now, &mut step, BlockKind::Before, create, None)?;
        let changed = self.net_changes(workflow, &before, &request.form, &entered, &step);
        let entry = LogEntry {
            time: now.to_string(),
            by: new.creator.clone(),
            department: self.directory.department_of(&new.creator).map(Into::into),
            action: "create".into(),
            opinion_type: Some(OpinionType::Create),
            on_behalf_of: Vec::new(),
            node: create.name.clone(),
            opinion: None,
            changed,
            exit: None,
            to_node: None,
            to: Vec::new(),
            branch: None,
            withdrawn: Vec::new(),
            moved: Vec::new(),
            started_by: new.started_by.clone(),
        };
        let form_given = match &new.form {
            FormInput::Text(text) => text.clone(),
            FormInput::Fields(fields) => Json::Object(fields.clone()).to_string(),
        };
        request.log.push(LogLine { entry, given: Given::Form(form_given) });
        step.operators = request.operators.clone();
        step.pending = request.pending.clone();
        Ok((request, step))
    }

    /// Applies one action. On success the new request and what happened; on
    /// a refusal the error, and `request` is untouched.
    pub fn apply(&self, request: &Request, action: &Action, now: DateTime) -> Result<(Request, Step), RuntimeError> {
        let workflow = self.workflow(request)?;
        let current = workflow.nodes.get(request.node).ok_or_else(|| internal("unknown node"))?;
        if request.archived || current.kind == NodeKind::Archive {
            return Err(RuntimeError::at(
                Code::R0205,
                format!("the request is archived at `{}`; it takes no more actions", current.name),
                current.at,
            ));
        }
        if self.directory.employee(&action.by).is_none() {
            return Err(RuntimeError::new(Code::R0305, recipients::not_a_person(self, "`by`", &action.by)));
        }
        // The node acted at: after a fork, one of the branches' (`positions.rs`),
        // moved into the request's own fields of a copy. (A request at one node
        // is copied only once the action is allowed.)
        // Oversight actions (withdraw, supervise, force …) act on the whole request, every branch.
        let focused = if action.kind.is_oversight() { None } else { self.focus(workflow, request, action)? };
        let (acting, branch) = match focused {
            Some((index, branch)) => {
                let mut split = request.clone();
                split.focus_on(index)?;
                (Cow::Owned(split), Some(branch))
            }
            None => (Cow::Borrowed(request), None),
        };
        let node = workflow.nodes.get(acting.node).ok_or_else(|| internal("unknown node"))?;
        let is_pending = acting.pending.contains(&action.by);
        let may_comment = is_pending || acting.forwarded.contains(&action.by);
        let allowed = match action.kind {
            ActionKind::Submit | ActionKind::Reject => is_pending,
            ActionKind::Comment => may_comment,
            ActionKind::Forward | ActionKind::Cc => is_pending,
            // Who may take these is their own rule (withdraw.rs, supervise.rs).
            kind => kind.is_oversight(),
        };
        if !allowed {
            if let Some(error) = self.already_submitted(node, request, action) {
                return Err(error);
            }
            let who = self.person_name(&action.by);
            let pending = self.people_names(&acting.pending);
            return Err(RuntimeError::at(
                Code::R0203,
                format!(
                    "{who} may not {} at `{}`: {}",
                    action.kind.as_str(),
                    node.name,
                    if pending.is_empty() { "nobody is pending".to_owned() } else { format!("waiting for {pending}") }
                ),
                node.at,
            )
            .with_label("the current node")
            .with_help(match action.kind {
                ActionKind::Comment => {
                    "a comment comes from the node's pending operators or people it was forwarded to"
                }
                ActionKind::Forward | ActionKind::Cc => {
                    "only a pending operator of the current node may forward or copy"
                }
                _ => "only a pending operator of the current node may submit or reject",
            }));
        }
        if let (ActionKind::Submit, Some(waiting)) = (action.kind, &acting.waiting) {
            if waiting.node == acting.node {
                let child = self.compiled.program.workflows.get(waiting.workflow).map_or("", |w| w.name.as_str());
                return Err(RuntimeError::at(
                    Code::R0212,
                    format!("`{}` waits for the `{child}` request it started to be archived", node.name),
                    node.at,
                )
                .with_label("waits here")
                .with_help("act on the started request first; its fields come back when it is archived"));
            }
        }
        if action.kind.is_oversight() {
            self.check_oversight(workflow, node, request, action, now)?;
        } else if action.set.is_some() && !is_pending {
            return Err(RuntimeError::at(
                Code::R0301,
                format!(
                    "{} is not a pending operator of `{}` and may not set fields",
                    self.person_name(&action.by),
                    node.name
                ),
                node.at,
            ));
        }

        let mut next = acting.into_owned();
        let before = request.form.clone();
        let mut entered = Vec::new();
        if let Some(set) = &action.set {
            self.write_fields(workflow, node, &mut next, set, &mut entered)?;
            self.recompute(workflow, &mut next, now)?;
        }
        let mut step = Step::new(&action.by, action.kind.as_str(), &node.name, action.opinion.clone());
        step.number = request.log.actions() + 1;
        if action.set.is_some() {
            step.changed = self.changes(workflow, &before, &next.form, &entered);
        }
        step.on_behalf_of = self.standing_in_for(request, &action.by);
        step.branch = branch;
        let focus = match action.kind {
            ActionKind::Submit => self.submit(workflow, node, &mut next, action, now, &mut step)?,
            ActionKind::Reject => self.reject(workflow, node, &mut next, now, &mut step)?,
            ActionKind::Withdraw | ActionKind::ForceReturn => {
                self.back_to_creator(workflow, &mut next, &mut step)?;
                Focus::Whole
            }
            ActionKind::ForceArchive => {
                self.force_archive(workflow, &mut next, &mut step)?;
                Focus::Whole
            }
            ActionKind::Supervise => {
                self.supervise(workflow, node, &mut next, action, now, &mut step);
                Focus::Whole
            }
            ActionKind::Comment => Focus::Here,
            ActionKind::Forward | ActionKind::Cc => {
                if action.to.is_empty() {
                    return Err(RuntimeError::new(
                        Code::R0502,
                        format!("`{}` needs `to`: the people", action.kind.as_str()),
                    ));
                }
                let people = self.expand_recipients(&action.to)?;
                for person in &people {
                    let list =
                        if action.kind == ActionKind::Forward { &mut next.forwarded } else { &mut next.notified };
                    if !list.contains(person) {
                        list.push(person.clone());
                    }
                }
                step.people = people;
                Focus::Here
            }
        };
        self.settle(workflow, &mut next, focus);
        step.pending = next.pending.clone();
        step.archived = next.archived;
        step.nodes = self.node_views(&next);
        let changed = self.net_changes(workflow, &before, &next.form, &entered, &step);
        let entry = LogEntry {
            time: now.to_string(),
            by: action.by.clone(),
            department: self.directory.department_of(&action.by).map(Into::into),
            action: action.kind.as_str().into(),
            opinion_type: Some(OpinionType::of(action.kind, node.kind)),
            on_behalf_of: step.on_behalf_of.clone(),
            node: node.name.clone(),
            opinion: action.opinion.clone(),
            changed,
            exit: step.exit.clone(),
            to_node: step.to.clone(),
            to: step.people.clone(),
            branch: step.branch.clone(),
            withdrawn: forks::withdrawals(&step.branching),
            moved: forks::moves(&step.branching),
            started_by: None,
        };
        // Kept as text, as a state holds it, so a request and its saved-and-loaded copy are equal.
        let given = action.set.as_ref().map(|set| match set {
            FormInput::Text(text) => FormInput::Text(text.clone()),
            FormInput::Fields(fields) => FormInput::Text(Json::Object(fields.clone()).to_string()),
        });
        next.log.push(LogLine { entry, given: Given::Set(given) });
        Ok((next, step))
    }

    /// What the log keeps of an action: every field it changed, from the
    /// value before it to the value after it (the step shows the same split
    /// by source; with no block run, the two are the same list).
    fn net_changes(
        &self,
        workflow: &Workflow,
        before: &FormData,
        after: &FormData,
        entered: &[field_values::FormName],
        step: &Step,
    ) -> Vec<Change> {
        if step.blocks.is_empty() {
            step.changed.clone()
        } else {
            self.changes(workflow, before, after, entered)
        }
    }

    /// R0203 for an operator of an `all` (会签) or `sequential` node who has
    /// already submitted there: "already submitted", not "waiting for".
    fn already_submitted(&self, node: &crate::ir::Node, request: &Request, action: &Action) -> Option<RuntimeError> {
        use crate::syntax::ast::OperatorMode;
        if !matches!(action.kind, ActionKind::Submit | ActionKind::Reject) {
            return None;
        }
        let position = request.operators.iter().position(|person| person == &action.by)?;
        let submitted = match node.mode {
            OperatorMode::All => !request.pending.contains(&action.by),
            OperatorMode::Sequential => request
                .pending
                .first()
                .and_then(|next| request.operators.iter().position(|person| person == next))
                .is_some_and(|next| position < next),
            OperatorMode::Any => false,
        };
        if !submitted {
            return None;
        }
        let when = request
            .log
            .newest_first()
            .find(|entry| entry.by == action.by && entry.node == node.name && entry.action == "submit")
            .map(|entry| format!(" on {}", entry.time))
            .unwrap_or_default();
        let how = match node.mode {
            OperatorMode::Sequential => "each operator of a `sequential` node submits once, in order",
            _ => "each operator of an `all` node (会签) submits once",
        };
        let pending = self.people_names(&request.pending);
        Some(
            RuntimeError::at(
                Code::R0203,
                format!("{} already submitted at `{}`{when}", self.person_name(&action.by), node.name),
                node.at,
            )
            .with_label("the current node")
            .with_help(format!("{how}; still waiting for {pending}")),
        )
    }

    pub fn person_name(&self, id: &str) -> String {
        match self.directory.employee(id) {
            Some(employee) => format!("{} ({id})", employee.name),
            None => id.to_owned(),
        }
    }

    pub fn people_names(&self, ids: &[String]) -> String {
        ids.iter().map(|id| self.person_name(id)).collect::<Vec<_>>().join(", ")
    }
}

pub(crate) fn internal(what: &str) -> RuntimeError {
    RuntimeError::new(Code::R0502, format!("internal error: {what}; please report this"))
}

/// The node names of a workflow, for states and traces.
pub fn node_name(workflow: &Workflow, node: usize) -> &str {
    workflow.nodes.get(node).map_or("", |node| node.name.as_str())
}

/// Who submitted each node, by name (for the saved state).
pub fn node_operators_by_name(workflow: &Workflow, request: &Request) -> BTreeMap<String, String> {
    request
        .node_operators
        .iter()
        .enumerate()
        .filter_map(|(index, operator)| Some((node_name(workflow, index).to_owned(), operator.clone()?)))
        .collect()
}
