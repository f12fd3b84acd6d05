//! The request state machine (runtime.md §3): creating a request and
//! applying one action as a pure transition, `request + action → new
//! request + step`. Every action works on a copy; a refusal returns the
//! error and the caller still holds the request exactly as it was.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::compiled::Compiled;
use super::dates::DateTime;
use super::directory::Directory;
use super::error::RuntimeError;
use super::eval::Env;
use super::field_values::{self, read_form, read_form_text, to_json, Door};
use super::formulas::{blank, recompute};
use super::operators::{self, EmptyBatch, Resolution};
use super::value::{FormData, Value};
use crate::diag::Code;
use crate::ir::{Exit, Node, NodeKind, Stmt, Workflow};
use crate::syntax::ast::OperatorMode;

/// Where `set` and a new request's form come from.
#[derive(Clone, Copy)]
enum FormSource<'j> {
    Fields(&'j serde_json::Map<String, Json>),
    Text(&'j str),
}

/// `set` may write a field only where the node lists it (`editable`, `required`); a table
/// when it or one of its columns is listed. Computed fields are refused by the reader.
fn check_editable(form: &crate::ir::Form, node: &Node, index: usize) -> Result<(), RuntimeError> {
    let table = usize::MAX.checked_sub(index).filter(|table| *table < form.details.len());
    let (name, editable) = match table.and_then(|table| Some((table, form.details.get(table)?))) {
        Some((table, detail)) => (
            detail.name.as_str(),
            node.editable_tables.contains(&table) || detail.columns.iter().any(|column| node.editable.contains(column)),
        ),
        None => (form.fields.get(index).map_or("", |field| field.name.as_str()), node.editable.contains(&index)),
    };
    let computed = form.fields.get(index).is_some_and(|field| field.formula.is_some());
    if editable || computed {
        return Ok(());
    }
    let message = format!("`{name}` is not editable at `{}`", node.name);
    let error = match form.fields.get(index) {
        Some(field) => RuntimeError::at(Code::R0301, message, node.at).with_note(field.at, "the field"),
        None => RuntimeError::at(Code::R0301, message, node.at),
    };
    Err(error.with_label("the node where it was set").with_help(format!(
        "list `{name}` in the node's `editable` or `required`, or set it at a node where it is editable"
    )))
}

/// Above this many changed cells in one column, the log says how many instead of listing them.
const CELLS_LOGGED_ONE_BY_ONE: usize = 200;

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
    pub log: Vec<LogEntry>,
}

/// A line of the request's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub time: String,
    pub by: String,
    #[serde(rename = "do")]
    pub action: String,
    pub node: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub opinion: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub changed: Vec<Change>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub exit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub to_node: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub to: Vec<String>,
}

/// A field whose value an action changed (`明细[2].金额` for a cell).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub from: Json,
    pub to: Json,
    /// Who wrote it: `set` (the actor), `formula` (recomputed) or `action` (a node's or exit's block).
    pub by: ChangeSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeSource {
    Set,
    Formula,
    Action,
}

fn source_of(entered: bool, computed: bool) -> ChangeSource {
    match (entered, computed) {
        (_, true) => ChangeSource::Formula,
        (true, false) => ChangeSource::Set,
        (false, false) => ChangeSource::Action,
    }
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

/// What one successful action did: the event a host shows or stores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub by: String,
    #[serde(rename = "do")]
    pub action: String,
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opinion: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<Change>,
    /// Each exit (or return) tried, in written order, up to the one taken.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exits_tried: Vec<ExitTried>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<String>,
    /// How the next node's operators handle it: `any`, `all` (会签) or `sequential`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub empty_batches: Vec<EmptyBatch>,
    /// forward/cc: the people named.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<String>,
    /// Who still has to act at the node afterwards (`all`, `sequential`).
    pub pending: Vec<String>,
    pub archived: bool,
}

impl Step {
    /// A step that has done nothing yet.
    fn new(by: &str, action: &str, from: &str, opinion: Option<String>) -> Step {
        Step {
            by: by.to_owned(),
            action: action.to_owned(),
            from: from.to_owned(),
            opinion,
            changed: Vec::new(),
            exits_tried: Vec::new(),
            exit: None,
            to: None,
            batch: None,
            operators: Vec::new(),
            mode: None,
            empty_batches: Vec::new(),
            people: Vec::new(),
            pending: Vec::new(),
            archived: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExitTried {
    pub name: String,
    pub target: String,
    /// The `when` as written; `None` for an exit that always holds.
    pub condition: Option<String>,
    pub held: bool,
    /// The fields the condition read, with their values (a JSON object, in reading order).
    #[serde(serialize_with = "pairs_as_map")]
    pub values: Vec<(String, Json)>,
}

fn pairs_as_map<S: serde::Serializer>(pairs: &[(String, Json)], serializer: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(pairs.len()))?;
    for (key, value) in pairs {
        map.serialize_entry(key, value)?;
    }
    map.end()
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
            log: Vec::new(),
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
        request.log.push(LogEntry {
            time: now.to_string(),
            by: new.creator.clone(),
            action: "create".into(),
            node: create.name.clone(),
            opinion: None,
            changed: changed.clone(),
            exit: None,
            to_node: None,
            to: Vec::new(),
        });
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
            ActionKind::Reject => self.reject(workflow, node, &mut next, action, now, &mut step)?,
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
        next.log.push(LogEntry {
            time: now.to_string(),
            by: action.by.clone(),
            action: action.kind.as_str().into(),
            node: node.name.clone(),
            opinion: action.opinion.clone(),
            changed: step.changed.clone(),
            exit: step.exit.clone(),
            to_node: step.to.clone(),
            to: step.people.clone(),
        });
        Ok((next, step))
    }

    /// The order of one submit (runtime.md §3).
    fn submit(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &mut Request,
        action: &Action,
        now: DateTime,
        step: &mut Step,
    ) -> Result<(), RuntimeError> {
        self.check_required(workflow, node, request, now)?;
        if let Some(slot) = request.node_operators.get_mut(request.node) {
            *slot = Some(action.by.clone());
        }
        request.pending.retain(|person| person != &action.by);
        let finished = match node.mode {
            OperatorMode::Any => true,
            OperatorMode::All => request.pending.is_empty(),
            OperatorMode::Sequential => {
                let position = request.operators.iter().position(|person| person == &action.by);
                match position.and_then(|position| request.operators.get(position + 1)) {
                    Some(next) => {
                        request.pending = vec![next.clone()];
                        false
                    }
                    None => true,
                }
            }
        };
        if !finished {
            return Ok(());
        }
        self.run_block(workflow, &node.after, request, now)?;
        let exit = self.choose(workflow, node, &node.exits, request, now, step)?;
        self.run_block(workflow, &exit.block, request, now)?;
        self.enter(workflow, exit, request, now, step)
    }

    fn reject(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &mut Request,
        _action: &Action,
        now: DateTime,
        step: &mut Step,
    ) -> Result<(), RuntimeError> {
        if node.returns.is_empty() {
            return Err(RuntimeError::at(
                Code::R0202,
                format!("`{}` has no `return`: a {} node cannot be rejected", node.name, kind_name(node.kind)),
                node.at,
            )
            .with_label("this node"));
        }
        let exit = self.choose(workflow, node, &node.returns, request, now, step)?;
        self.run_block(workflow, &exit.block, request, now)?;
        self.enter(workflow, exit, request, now, step)
    }

    /// Required fields of the node and the form's validate rules (at submit).
    fn check_required(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &Request,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        let env = self.env(workflow, request, now)?;
        for &field_index in &node.required {
            let Some(field) = env.form.fields.get(field_index) else { continue };
            let empty = match env.layout.column_of(field_index) {
                None => request.form.main.get(field_index).is_none_or(Value::is_empty),
                Some((table, column)) => {
                    let rows = request.form.tables.get(table).map(Vec::as_slice).unwrap_or_default();
                    rows.iter().any(|row| row.get(column).is_none_or(Value::is_empty))
                }
            };
            if empty {
                return Err(RuntimeError::at(
                    Code::R0302,
                    format!("`{}` ({}) is required at `{}` and is empty", field.name, field.label, node.name),
                    node.at,
                )
                .with_note(field.at, "the field")
                .with_help(format!("give `{}` a value with `set` in the same action", field.name)));
            }
        }
        for &table in &node.required_tables {
            if request.form.tables.get(table).is_none_or(Vec::is_empty) {
                let detail = env.form.details.get(table);
                return Err(RuntimeError::at(
                    Code::R0302,
                    format!(
                        "the table `{}` is required at `{}` and has no rows",
                        detail.map_or("", |detail| detail.name.as_str()),
                        node.name
                    ),
                    node.at,
                )
                .with_label("required here"));
            }
        }
        for validate in &env.form.validates {
            // language.md §4: a comparison with an empty value is false, so a
            // rule over a field that may be empty says so (`is_empty(x) or x > 0`).
            let check = |env: Env<'_>| env.holds(&validate.condition);
            let holds = match validate.detail {
                None => check(env)?,
                Some(table) => {
                    let rows = request.form.tables.get(table).map_or(0, Vec::len);
                    let mut all = true;
                    for row in 0..rows {
                        all &= check(env.with_row(table, row))?;
                    }
                    all
                }
            };
            if !holds {
                let values = self.values_read(workflow, &validate.condition, request);
                let values = values.iter().map(|(name, value)| format!("{name} = {value}")).collect::<Vec<_>>();
                return Err(RuntimeError::at(Code::R0303, validate.message.clone(), validate.condition.at).with_label(
                    if values.is_empty() {
                        "does not hold".into()
                    } else {
                        format!("does not hold: {}", values.join(", "))
                    },
                ));
            }
        }
        Ok(())
    }

    /// The first exit whose condition holds, recording each one tried.
    fn choose(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        exits: &'a [Exit],
        request: &Request,
        now: DateTime,
        step: &mut Step,
    ) -> Result<&'a Exit, RuntimeError> {
        let env = self.env(workflow, request, now)?;
        for exit in exits {
            let held = match &exit.condition {
                Some(condition) => env.holds(condition)?,
                None => true,
            };
            step.exits_tried.push(ExitTried {
                name: exit.name.clone(),
                target: workflow.nodes.get(exit.target).map(|node| node.name.clone()).unwrap_or_default(),
                condition: exit.condition.as_ref().map(|condition| self.compiled.source_text(condition.at)),
                held,
                values: exit
                    .condition
                    .as_ref()
                    .map(|condition| self.values_read(workflow, condition, request))
                    .unwrap_or_default(),
            });
            if held {
                return Ok(exit);
            }
        }
        let (code, what) = match exits.first().map(|exit| exit.kind) {
            Some(crate::syntax::ast::ExitKind::Return) => (Code::R0202, "return"),
            _ => (Code::R0201, "exit"),
        };
        let mut error = RuntimeError::at(code, format!("no {what} of `{}` holds", node.name), node.at)
            .with_label(format!("the request stays at `{}`", node.name));
        for (exit, tried) in exits.iter().zip(&step.exits_tried) {
            let values = tried.values.iter().map(|(name, value)| format!("{name} = {value}")).collect::<Vec<_>>();
            let note = match &tried.condition {
                Some(condition) if values.is_empty() => format!("`{condition}` is false"),
                Some(condition) => format!("`{condition}` is false ({})", values.join(", ")),
                None => "holds".into(),
            };
            error = error.with_note(exit.condition.as_ref().map_or(exit.at, |condition| condition.at), note);
        }
        Err(error.with_help(match what {
            "return" => "change the form so one condition holds, or add a `return` without `when` as the last one",
            _ => "change the form so one condition holds, or add an `exit` without `when` as the last one",
        }))
    }

    /// Takes `exit`: arrive at its target, run its `before`, resolve its operators.
    fn enter(
        &self,
        workflow: &'a Workflow,
        exit: &'a Exit,
        request: &mut Request,
        now: DateTime,
        step: &mut Step,
    ) -> Result<(), RuntimeError> {
        let target = workflow.nodes.get(exit.target).ok_or_else(|| internal("unknown exit target"))?;
        step.exit = Some(exit.name.clone());
        step.to = Some(target.name.clone());
        request.node = exit.target;
        request.forwarded.clear();
        request.batch = None;
        if target.kind == NodeKind::Archive {
            request.archived = true;
            request.operators.clear();
            request.pending.clear();
            return Ok(());
        }
        self.run_block(workflow, &target.before, request, now)?;
        if target.kind == NodeKind::Create {
            // A request returned to its create node goes back to its creator.
            request.operators = vec![request.creator.clone()];
            request.pending = request.operators.clone();
            step.operators = request.operators.clone();
            return Ok(());
        }
        let env = self.env(workflow, request, now)?;
        let resolution: Resolution = operators::resolve(env, target, &|at| self.compiled.source_text(at))?;
        step.empty_batches = resolution.empty_batches.clone();
        let Some(batch) = resolution.batch else {
            let mut error = RuntimeError::at(
                Code::R0204,
                format!("no operator resolved for `{}`: every batch is empty", target.name),
                target.at,
            )
            .with_label("the request cannot enter this node");
            for empty in &resolution.empty_batches {
                for line in &empty.lines {
                    error = error.with_note(line.at, line.reason.clone());
                }
            }
            return Err(error
                .with_note(exit.at, "the exit taken")
                .with_help("check the directory (managers, heads, role holders) or add a later batch as a fallback"));
        };
        step.batch = Some(batch);
        step.operators = resolution.people.clone();
        step.mode = Some(match target.mode {
            OperatorMode::Any => "any",
            OperatorMode::All => "all",
            OperatorMode::Sequential => "sequential",
        });
        request.batch = Some(batch);
        request.pending = match target.mode {
            OperatorMode::Sequential => resolution.people.iter().take(1).cloned().collect(),
            OperatorMode::Any | OperatorMode::All => resolution.people.clone(),
        };
        request.operators = resolution.people;
        Ok(())
    }

    /// Runs action statements, recomputing after the block.
    fn run_block(
        &self,
        workflow: &'a Workflow,
        block: &'a [Stmt],
        request: &mut Request,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        if block.is_empty() {
            return Ok(());
        }
        self.run_statements(workflow, block, request, now)?;
        self.recompute(workflow, request, now)
    }

    fn run_statements(
        &self,
        workflow: &'a Workflow,
        block: &'a [Stmt],
        request: &mut Request,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        for statement in block {
            match statement {
                Stmt::Assign { field, value, at } => {
                    let env = self.env(workflow, request, now)?;
                    let target = env.form.fields.get(*field).ok_or_else(|| internal("unknown field"))?;
                    match env.layout.column_of(*field) {
                        None => {
                            let stored = field_values::store_computed(target, env.eval(value)?, *at)?;
                            if let Some(slot) = request.form.main.get_mut(*field) {
                                *slot = stored;
                            }
                        }
                        Some((table, column)) => {
                            let rows = request.form.tables.get(table).map_or(0, Vec::len);
                            let mut values = Vec::with_capacity(rows);
                            for row in 0..rows {
                                values.push(field_values::store_computed(
                                    target,
                                    env.with_row(table, row).eval(value)?,
                                    *at,
                                )?);
                            }
                            for (row, stored) in values.into_iter().enumerate() {
                                if let Some(slot) = request
                                    .form
                                    .tables
                                    .get_mut(table)
                                    .and_then(|rows| rows.get_mut(row)?.get_mut(column))
                                {
                                    *slot = stored;
                                }
                            }
                        }
                    }
                }
                Stmt::If { branches, otherwise } => {
                    let mut chosen: &'a [Stmt] = otherwise;
                    for (condition, branch) in branches {
                        if self.env(workflow, request, now)?.holds(condition)? {
                            chosen = branch;
                            break;
                        }
                    }
                    self.run_statements(workflow, chosen, request, now)?;
                }
                Stmt::Script { path, at } => {
                    let form =
                        self.compiled.program.forms.get(workflow.form).ok_or_else(|| internal("unknown form"))?;
                    let data =
                        self.compiled.scripts.run(path, form, &request.form, &request.creator).map_err(|error| {
                            let code = if error.limit { Code::R0402 } else { Code::R0401 };
                            let line = error.line.map(|line| format!(" at line {line}")).unwrap_or_default();
                            RuntimeError::at(code, format!("script `{path}`{line}: {}", error.message), *at)
                                .with_label("in this script")
                                .with_help("the request is left as it was before the action")
                        })?;
                    let layout = self.compiled.layouts.get(workflow.form).ok_or_else(|| internal("unknown layout"))?;
                    if let Some((field, id)) = field_values::unknown_reference(form, layout, &data, self.directory) {
                        return Err(RuntimeError::at(
                            Code::R0305,
                            format!("script `{path}` set `{field}` to `{id}`, which is not in the directory"),
                            *at,
                        )
                        .with_label("in this script"));
                    }
                    request.form = data;
                }
            }
        }
        Ok(())
    }

    pub(crate) fn recompute(
        &self,
        workflow: &'a Workflow,
        request: &mut Request,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        let mut data = std::mem::take(&mut request.form);
        let result = match self.env(workflow, request, now) {
            Ok(env) => recompute(env, &mut data),
            Err(error) => Err(error),
        };
        request.form = data;
        result
    }

    /// `set` and the request's form: only fields editable at `node`.
    fn write_fields(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &mut Request,
        values: FormSource<'_>,
        entered: &mut Vec<usize>,
    ) -> Result<(), RuntimeError> {
        let form = self.compiled.program.forms.get(workflow.form).ok_or_else(|| internal("unknown form"))?;
        let layout = self.compiled.layouts.get(workflow.form).ok_or_else(|| internal("unknown layout"))?;
        if let FormSource::Fields(fields) = values {
            for name in fields.keys() {
                check_editable(form, node, field_values::find_field(form, name)?)?;
            }
        }
        // A table whose only some columns are editable keeps the others as they were.
        let previous = request.form.clone();
        let partial: Vec<usize> =
            (0..form.details.len()).filter(|table| !node.editable_tables.contains(table)).collect();
        let door = Door::Entered { merge_tables: &partial };
        let first_entered = entered.len();
        match values {
            FormSource::Fields(fields) => {
                read_form(form, layout, fields, self.directory, door, &mut request.form, |index| entered.push(index))?
            }
            FormSource::Text(text) => {
                read_form_text(form, layout, text, self.directory, door, &mut request.form, |index| {
                    entered.push(index)
                })?;
                for &index in entered.get(first_entered..).unwrap_or_default() {
                    check_editable(form, node, index)?;
                }
            }
        }
        for (table, detail) in form.details.iter().enumerate() {
            if !entered.contains(&(usize::MAX - table)) || node.editable_tables.contains(&table) {
                continue;
            }
            let (Some(old_rows), Some(new_rows)) = (previous.tables.get(table), request.form.tables.get(table)) else {
                continue;
            };
            if old_rows.len() != new_rows.len() {
                return Err(RuntimeError::at(
                    Code::R0301,
                    format!("rows of `{}` cannot be added or removed at `{}`", detail.name, node.name),
                    node.at,
                )
                .with_help(format!("list the table `{}` itself in `editable` to allow it", detail.name)));
            }
            for (old_row, new_row) in old_rows.iter().zip(new_rows) {
                for (position, &column) in detail.columns.iter().enumerate() {
                    let field = form.fields.get(column);
                    let computed = field.is_some_and(|field| field.formula.is_some());
                    if computed || node.editable.contains(&column) || old_row.get(position) == new_row.get(position) {
                        continue;
                    }
                    let name = field.map_or("", |field| field.name.as_str());
                    return Err(RuntimeError::at(
                        Code::R0301,
                        format!("`{}.{name}` is not editable at `{}`", detail.name, node.name),
                        node.at,
                    ));
                }
            }
        }
        Ok(())
    }

    /// The fields an expression reads, with their current values.
    fn values_read(&self, workflow: &'a Workflow, expr: &crate::ir::Expr, request: &Request) -> Vec<(String, Json)> {
        let Some(form) = self.compiled.program.forms.get(workflow.form) else { return Vec::new() };
        let mut fields = Vec::new();
        expr.fields_read(&mut fields);
        fields.dedup();
        let mut out: Vec<(String, Json)> = Vec::new();
        for index in fields {
            let Some(field) = form.fields.get(index) else { continue };
            if field.detail.is_some() || out.iter().any(|(name, _)| name == &field.name) {
                continue;
            }
            let value = request.form.main.get(index).unwrap_or(&Value::Null);
            out.push((field.name.clone(), to_json(field, value)));
        }
        let mut nodes = Vec::new();
        operator_reads(expr, &mut nodes);
        for node in nodes {
            let name = format!("{}.operator", node_name(workflow, node));
            if out.iter().any(|(read, _)| read == &name) {
                continue;
            }
            let operator = request.node_operators.get(node).cloned().flatten();
            out.push((name, operator.map_or(Json::Null, Json::String)));
        }
        out
    }

    /// What changed between two forms, field by field and cell by cell.
    pub fn changes(&self, workflow: &Workflow, before: &FormData, after: &FormData, entered: &[usize]) -> Vec<Change> {
        let Some(form) = self.compiled.program.forms.get(workflow.form) else { return Vec::new() };
        let mut out = Vec::new();
        for (index, field) in form.fields.iter().enumerate() {
            if field.detail.is_some() {
                continue;
            }
            let (old, new) = (before.main.get(index), after.main.get(index));
            if old != new {
                out.push(Change {
                    field: field.name.clone(),
                    from: to_json(field, old.unwrap_or(&Value::Null)),
                    to: to_json(field, new.unwrap_or(&Value::Null)),
                    by: source_of(entered.contains(&index), field.formula.is_some()),
                });
            }
        }
        for (table, detail) in form.details.iter().enumerate() {
            let empty = Vec::new();
            let old_rows = before.tables.get(table).unwrap_or(&empty);
            let new_rows = after.tables.get(table).unwrap_or(&empty);
            let entered_table = entered.contains(&(usize::MAX - table));
            if old_rows.len() != new_rows.len() {
                out.push(Change {
                    field: format!("{}.rows", detail.name),
                    from: Json::from(old_rows.len()),
                    to: Json::from(new_rows.len()),
                    by: source_of(entered_table, false),
                });
            }
            // Cell by cell for a form-sized table; a big one gets one line per column
            // (`明细.金额`, from/to: how many cells changed), so a million-row request
            // does not log millions of changes.
            let changed_cell = |row: usize, position: usize| {
                let old = old_rows.get(row).and_then(|cells| cells.get(position)).unwrap_or(&Value::Null);
                let new = new_rows.get(row).and_then(|cells| cells.get(position)).unwrap_or(&Value::Null);
                (old != new).then_some((old, new))
            };
            let mut listed = Vec::new();
            for (position, &column) in detail.columns.iter().enumerate() {
                let Some(field) = form.fields.get(column) else { continue };
                let count = (0..new_rows.len()).filter(|&row| changed_cell(row, position).is_some()).count();
                if count > CELLS_LOGGED_ONE_BY_ONE {
                    out.push(Change {
                        field: format!("{}.{}", detail.name, field.name),
                        from: Json::Null,
                        to: Json::String(format!("{count} cells changed")),
                        by: source_of(entered_table, field.formula.is_some()),
                    });
                } else if count > 0 {
                    listed.push((position, field));
                }
            }
            for row in 0..new_rows.len() {
                for &(position, field) in &listed {
                    if let Some((old, new)) = changed_cell(row, position) {
                        out.push(Change {
                            field: format!("{}[{}].{}", detail.name, row + 1, field.name),
                            from: to_json(field, old),
                            to: to_json(field, new),
                            by: source_of(entered_table, field.formula.is_some()),
                        });
                    }
                }
            }
        }
        out
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

/// The nodes whose `.operator` an expression reads.
fn operator_reads(expr: &crate::ir::Expr, out: &mut Vec<usize>) {
    use crate::ir::ExprKind;
    expr.walk(&mut |part| {
        if let ExprKind::Member(target, member) = &part.kind {
            if let ExprKind::Node(node) = target.kind {
                if member == "operator" {
                    out.push(node);
                }
            }
        }
    });
}

fn kind_name(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Create => "create",
        NodeKind::Approve => "approve",
        NodeKind::Realize => "realize",
        NodeKind::Archive => "archive",
    }
}

fn internal(what: &str) -> RuntimeError {
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
