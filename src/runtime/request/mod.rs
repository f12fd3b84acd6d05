//! The request state machine (runtime.md §3): creating a request and
//! applying one action as a pure transition, `request + action → new
//! request + step`. Every action works on a copy; a refusal returns the
//! error and the caller still holds the request exactly as it was.
//! `submit` is the order of one submit and reject, `set_fields` what a node
//! lets a person write, `operators` who handles a node (batches, `where`,
//! `when`), `events` what an action did (steps, log lines, changes), `log`
//! how the log is held (shared between copies, each line with its input).

pub mod deadlines;
pub mod events;
pub mod log;
pub mod operators;
mod set_fields;
mod submit;

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
use crate::runtime::values::formulas::blank;
use crate::runtime::values::value::FormData;

pub use events::{Change, ChangeSource, ExitTried, LogEntry, Step};
pub use log::{Continued, Given, Log, LogLine};
use set_fields::FormSource;

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
    /// When the request entered the current node: its deadline counts from here.
    pub entered_at: DateTime,
    /// How many rules of the current node's deadline have fired since it entered.
    pub timers_fired: usize,
    /// Every reminder the deadlines raised, for a host to deliver.
    pub outbox: Vec<deadlines::Reminder>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub set: Option<serde_json::Map<String, Json>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to: Vec<String>,
    /// When the action happens (RFC 3339); without it, at the run's clock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Submit,
    Reject,
    Comment,
    Forward,
    Cc,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Submit => "submit",
            ActionKind::Reject => "reject",
            ActionKind::Comment => "comment",
            ActionKind::Forward => "forward",
            ActionKind::Cc => "cc",
        }
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
}

/// The form of a new request: values a host built, or the JSON text of a
/// request file, read row by row without building its JSON tree (a request
/// of a million rows costs the rows).
#[derive(Debug, Clone)]
pub enum FormInput {
    Fields(serde_json::Map<String, Json>),
    Text(String),
}

impl Default for FormInput {
    fn default() -> Self {
        FormInput::Fields(serde_json::Map::new())
    }
}

/// The form is kept as its JSON text: parse a `NewRequest` with
/// `serde_json::from_str` (a host that builds the values itself makes a
/// `FormInput::Fields` instead).
fn form_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<FormInput, D::Error> {
    let raw = Box::<serde_json::value::RawValue>::deserialize(deserializer)?;
    Ok(FormInput::Text(raw.get().to_owned()))
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
            return Err(RuntimeError::new(Code::R0305, format!("creator `{}` is not in the directory", new.creator)));
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
            entered_at: now,
            timers_fired: 0,
            outbox: Vec::new(),
        };
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
        let source = match &new.form {
            FormInput::Fields(fields) => FormSource::Fields(fields),
            FormInput::Text(text) => FormSource::Text(text),
        };
        self.write_fields(workflow, create, &mut request, source, &mut entered)?;
        self.recompute(workflow, &mut request, now)?;
        self.run_block(workflow, &create.before, &mut request, now)?;
        let changed = self.changes(workflow, &before, &request.form, &entered);
        let entry = LogEntry {
            time: now.to_string(),
            by: new.creator.clone(),
            action: "create".into(),
            node: create.name.clone(),
            opinion: None,
            changed: changed.clone(),
            exit: None,
            to_node: None,
            to: Vec::new(),
        };
        let form_given = match &new.form {
            FormInput::Text(text) => text.clone(),
            FormInput::Fields(fields) => Json::Object(fields.clone()).to_string(),
        };
        request.log.push(LogLine { entry, given: Given::Form(form_given) });
        let step = Step {
            changed,
            operators: request.operators.clone(),
            pending: request.pending.clone(),
            ..Step::new(&new.creator, "create", &create.name, None)
        };
        Ok((request, step))
    }

    /// Applies one action. On success the new request and what happened; on
    /// a refusal the error, and `request` is untouched.
    pub fn apply(&self, request: &Request, action: &Action, now: DateTime) -> Result<(Request, Step), RuntimeError> {
        let workflow = self.workflow(request)?;
        let node = workflow.nodes.get(request.node).ok_or_else(|| internal("unknown node"))?;
        if request.archived || node.kind == NodeKind::Archive {
            return Err(RuntimeError::at(
                Code::R0205,
                format!("the request is archived at `{}`; it takes no more actions", node.name),
                node.at,
            ));
        }
        if self.directory.employee(&action.by).is_none() {
            return Err(RuntimeError::new(Code::R0305, format!("`{}` is not in the directory", action.by)));
        }
        let is_pending = request.pending.contains(&action.by);
        let may_comment = is_pending || request.forwarded.contains(&action.by);
        let allowed = match action.kind {
            ActionKind::Submit | ActionKind::Reject => is_pending,
            ActionKind::Comment => may_comment,
            ActionKind::Forward | ActionKind::Cc => is_pending,
        };
        if !allowed {
            let who = self.person_name(&action.by);
            let pending = self.people_names(&request.pending);
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
        if action.set.is_some() && !is_pending {
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

        let mut next = request.clone();
        let before = request.form.clone();
        let mut entered = Vec::new();
        if let Some(set) = &action.set {
            self.write_fields(workflow, node, &mut next, FormSource::Fields(set), &mut entered)?;
            self.recompute(workflow, &mut next, now)?;
        }
        let mut step = Step::new(&action.by, action.kind.as_str(), &node.name, action.opinion.clone());
        match action.kind {
            ActionKind::Submit => self.submit(workflow, node, &mut next, action, now, &mut step)?,
            ActionKind::Reject => self.reject(workflow, node, &mut next, now, &mut step)?,
            ActionKind::Comment => {}
            ActionKind::Forward | ActionKind::Cc => {
                if action.to.is_empty() {
                    return Err(RuntimeError::new(
                        Code::R0502,
                        format!("`{}` needs `to`: the people", action.kind.as_str()),
                    ));
                }
                for person in &action.to {
                    if self.directory.employee(person).is_none() {
                        return Err(RuntimeError::new(Code::R0305, format!("`{person}` is not in the directory")));
                    }
                    let list =
                        if action.kind == ActionKind::Forward { &mut next.forwarded } else { &mut next.notified };
                    if !list.contains(person) {
                        list.push(person.clone());
                    }
                }
                step.people = action.to.clone();
            }
        }
        step.changed = self.changes(workflow, &before, &next.form, &entered);
        step.pending = next.pending.clone();
        step.archived = next.archived;
        let entry = LogEntry {
            time: now.to_string(),
            by: action.by.clone(),
            action: action.kind.as_str().into(),
            node: node.name.clone(),
            opinion: action.opinion.clone(),
            changed: step.changed.clone(),
            exit: step.exit.clone(),
            to_node: step.to.clone(),
            to: step.people.clone(),
        };
        next.log.push(LogLine { entry, given: Given::Set(action.set.clone()) });
        Ok((next, step))
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

pub(super) fn internal(what: &str) -> RuntimeError {
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
