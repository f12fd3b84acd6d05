//! The saved request (`--state FILE`, runtime.md §3): readable JSON with
//! the form by field name, the current node by name, pending operators,
//! the log, and the source hash of the workflow that wrote it. Loading
//! refuses a state from another workflow or a changed source (unless
//! migrating) and never trusts computed values: they are recomputed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::diag::Code;
use crate::runtime::error::RuntimeError;
use crate::runtime::request::{
    node_name, node_operators_by_name, LogEntry, OpinionType, Reminder, Request, Runtime, StandIn,
};
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
    node: &'r str,
    archived: bool,
    operators: &'r [String],
    pending: &'r [String],
    batch: Option<u64>,
    forwarded: &'r [String],
    notified: &'r [String],
    node_operators: BTreeMap<String, String>,
    form: Ordered,
    log: &'r [LogEntry],
    #[serde(skip_serializing_if = "<[Reminder]>::is_empty")]
    outbox: &'r [Reminder],
    #[serde(skip_serializing_if = "<[StandIn]>::is_empty")]
    stand_ins: &'r [StandIn],
    #[serde(skip_serializing_if = "Option::is_none")]
    sequence: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StateIn {
    flowc_state: u32,
    workflow: String,
    source_hash: String,
    creator: String,
    created_at: String,
    node: String,
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
    #[serde(default)]
    outbox: Vec<Reminder>,
    #[serde(default)]
    stand_ins: Vec<StandIn>,
    #[serde(default)]
    sequence: Option<u64>,
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
            node: node_name(workflow, request.node),
            archived: request.archived,
            operators: &request.operators,
            pending: &request.pending,
            batch: request.batch,
            forwarded: &request.forwarded,
            notified: &request.notified,
            node_operators: node_operators_by_name(workflow, request),
            form: form_to_json(form, layout, &request.form),
            log: &request.log,
            outbox: &request.outbox,
            stand_ins: &request.stand_ins,
            sequence: request.sequence,
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
        let node = workflow.nodes.iter().position(|node| node.name == state.node).ok_or_else(|| {
            RuntimeError::new(
                Code::R0501,
                format!("the state is at node `{}`, which the workflow no longer has", state.node),
            )
        })?;
        let form = self.compiled.program.forms.get(workflow.form).ok_or_else(|| bad("unknown form".into()))?;
        let layout = self.compiled.layouts.get(workflow.form).ok_or_else(|| bad("unknown layout".into()))?;
        let created_at = DateTime::parse(&state.created_at)
            .ok_or_else(|| bad(format!("`created_at` `{}` is not a datetime", state.created_at)))?;
        let standing_in = state.stand_ins.iter().flat_map(|stand_in| [&stand_in.deputy, &stand_in.person]);
        for person in std::iter::once(&state.creator).chain(&state.operators).chain(&state.pending).chain(standing_in) {
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
            outbox: state.outbox,
            stand_ins: state.stand_ins,
            sequence: state.sequence,
        };
        // A state written before log lines had types: each takes the type its `do` names.
        for entry in &mut request.log {
            if entry.opinion_type.is_none() {
                let kind = workflow.nodes.iter().find(|node| node.name == entry.node).map(|node| node.kind);
                entry.opinion_type = OpinionType::of_logged(&entry.action, kind);
            }
        }
        self.recompute(workflow, &mut request, now)?;
        Ok(request)
    }
}
