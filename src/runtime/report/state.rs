//! The saved request (`--state FILE`, runtime.md §3): readable JSON with
//! the form by field name, the current node by name, pending operators,
//! the log, and the source hash of the workflow that wrote it. Loading
//! refuses a state from another workflow or a changed source (unless
//! migrating) and never trusts computed values: they are recomputed. A
//! request split by a fork saves its current nodes in `nodes` (one per
//! branch) instead of `node`; a state without `nodes` is at one node, as
//! every state saved before forks existed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::diag::Code;
use crate::ir::Workflow;
use crate::runtime::error::RuntimeError;
use crate::runtime::request::positions::{branch_label, path_of, Focus};
use crate::runtime::request::{node_name, node_operators_by_name, LogEntry, Position, Request, Runtime};
use crate::runtime::values::dates::DateTime;
use crate::runtime::values::field_values::{form_to_json, read_form, Door, Ordered};
use crate::runtime::values::formulas::blank;

/// The version of the state format.
const FORMAT: u32 = 1;

#[derive(Debug, Serialize)]
struct StateOut<'r> {
    flowc_state: u32,
    workflow: &'r str,
    source_hash: &'r str,
    creator: &'r str,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    node: Option<&'r str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    nodes: Vec<PositionState>,
    archived: bool,
    operators: &'r [String],
    pending: &'r [String],
    batch: Option<u64>,
    forwarded: &'r [String],
    notified: &'r [String],
    node_operators: BTreeMap<String, String>,
    form: Ordered,
    log: &'r [LogEntry],
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
    form: serde_json::Map<String, Json>,
    #[serde(default)]
    log: Vec<LogEntry>,
}

impl<'a> Runtime<'a> {
    /// The request as the text of a state file.
    pub fn save_state(&self, request: &Request) -> Result<String, RuntimeError> {
        let workflow = self.workflow(request)?;
        let form = self.compiled.program.forms.get(workflow.form);
        let layout = self.compiled.layouts.get(workflow.form);
        let (Some(form), Some(layout)) = (form, layout) else {
            return Err(RuntimeError::new(Code::R0502, "internal error: unknown form"));
        };
        let state = StateOut {
            flowc_state: FORMAT,
            workflow: &workflow.name,
            source_hash: &self.compiled.source_hash,
            creator: &request.creator,
            created_at: request.created_at.to_string(),
            node: (!request.is_split()).then(|| node_name(workflow, request.node)),
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
            log: &request.log,
        };
        serde_json::to_string_pretty(&state)
            .map(|text| text + "\n")
            .map_err(|error| RuntimeError::new(Code::R0502, format!("cannot write the state: {error}")))
    }

    /// A request from the text of a state file. `migrate` accepts a state
    /// written by another version of the workflow's source.
    pub fn load_state(&self, text: &str, migrate: bool, now: DateTime) -> Result<Request, RuntimeError> {
        let bad = |message: String| RuntimeError::new(Code::R0502, message);
        let state: StateIn =
            serde_json::from_str(text).map_err(|error| bad(format!("the state file is not a flowc state: {error}")))?;
        if state.flowc_state != FORMAT {
            return Err(bad(format!(
                "state format {} is not supported (this flowc writes {FORMAT})",
                state.flowc_state
            )));
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
            .with_help("pass `--migrate` to continue it under the current source"));
        }
        let workflow =
            self.compiled.program.workflows.get(workflow_index).ok_or_else(|| bad("unknown workflow".into()))?;
        let node_index = |name: &str| {
            workflow.nodes.iter().position(|node| node.name == name).ok_or_else(|| {
                RuntimeError::new(
                    Code::R0501,
                    format!("the state is at node `{name}`, which the workflow no longer has"),
                )
            })
        };
        let node = match (&state.node, state.nodes.is_empty()) {
            (Some(name), true) => node_index(name)?,
            (None, false) => workflow.create,
            (Some(_), false) => {
                return Err(bad("the state has both `node` and `nodes`; a split request has `nodes` only".into()))
            }
            (None, true) => return Err(bad("the state has no `node`".into())),
        };
        let mut positions = Vec::new();
        for saved in &state.nodes {
            positions.push(self.load_position(workflow, saved, node_index(&saved.node)?)?);
        }
        let form = self.compiled.program.forms.get(workflow.form).ok_or_else(|| bad("unknown form".into()))?;
        let layout = self.compiled.layouts.get(workflow.form).ok_or_else(|| bad("unknown layout".into()))?;
        let created_at = DateTime::parse(&state.created_at)
            .ok_or_else(|| bad(format!("`created_at` `{}` is not a datetime", state.created_at)))?;
        let saved_people = state.nodes.iter().flat_map(|saved| saved.operators.iter().chain(&saved.pending));
        for person in std::iter::once(&state.creator).chain(&state.operators).chain(&state.pending).chain(saved_people)
        {
            if self.directory.employee(person).is_none() {
                return Err(RuntimeError::new(
                    Code::R0305,
                    format!("the state names `{person}`, who is not in the directory"),
                ));
            }
        }
        let mut node_operators = vec![None; workflow.nodes.len()];
        for (name, person) in state.node_operators {
            if let Some(slot) =
                workflow.nodes.iter().position(|node| node.name == name).and_then(|index| node_operators.get_mut(index))
            {
                *slot = Some(person);
            }
        }
        let mut data = blank(form);
        read_form(form, layout, &state.form, self.directory, Door::Stored, &mut data, |_| {})?;
        let mut request = Request {
            workflow: workflow_index,
            creator: state.creator,
            created_at,
            node,
            archived: state.archived,
            operators: state.operators,
            pending: state.pending,
            batch: state.batch,
            forwarded: state.forwarded,
            notified: state.notified,
            node_operators,
            form: data,
            log: state.log,
            positions,
        };
        if request.is_split() {
            self.settle(workflow, &mut request, Focus::Gone);
        }
        self.recompute(workflow, &mut request, now)?;
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
