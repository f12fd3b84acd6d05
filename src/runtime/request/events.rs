//! What an action did, as data: the step a host shows (its number in the
//! request's history, the fields the actor set, each block that ran with
//! what it changed, exits tried, the batch and operators of the next node,
//! why earlier batches were empty), the log line kept with the request, the
//! fields it changed and by whom, and the route the log records.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::ir::Workflow;
use crate::runtime::request::operators::EmptyBatch;
use crate::runtime::request::opinions::OpinionType;
use crate::runtime::request::positions::{BranchEvent, NodeView, Withdrawal};
use crate::runtime::request::reminders::Reminder;
use crate::runtime::request::stand_ins::StandIn;
use crate::runtime::request::Runtime;
use crate::runtime::values::field_values::{to_json, FormName};
use crate::runtime::values::value::{FormData, Value};

/// Above this many changed cells in one column, the log says how many instead of listing them.
const CELLS_LOGGED_ONE_BY_ONE: usize = 200;

/// A line of the request's history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogEntry {
    pub time: String,
    pub by: String,
    /// The person's department when they acted (the opinion record's 部门名称 is its name).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub department: Option<String>,
    #[serde(rename = "do")]
    pub action: String,
    /// 提交, 批准, 转发, 批注, 抄送, 退回, 督办, 强制归档, 强制收回, 撤回 or 创建 (manual 5.5.4);
    /// filled in from `do` when a state written before types is loaded.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none", default)]
    pub opinion_type: Option<OpinionType>,
    /// A deputy's action (代理): the people they stood in for.
    #[serde(rename = "for", skip_serializing_if = "Vec::is_empty", default)]
    pub on_behalf_of: Vec<String>,
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
    /// The branch acted in, when a fork had split the request.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub branch: Option<String>,
    /// Branches the action withdrew (by a merge or by a return past their fork).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub withdrawn: Vec<Withdrawal>,
    /// Other moves the action made: the branches a fork started (each with its first node), and
    /// a merge's passage to the node after it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moved: Vec<Move>,
    /// On a creation: the request that started this one (`start`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<String>,
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

/// What one successful action did: the event a host shows or stores.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// Its place in the request's history: 0 for the creation, then 1, 2, …
    /// counting every action the request took (a run resumed from a saved
    /// state goes on from the state's last step).
    pub number: usize,
    pub by: String,
    /// A deputy's action (代理): the people they stood in for.
    #[serde(rename = "for", skip_serializing_if = "Vec::is_empty")]
    pub on_behalf_of: Vec<String>,
    #[serde(rename = "do")]
    pub action: String,
    /// The branch acted in, when a fork had split the request (`物流`, `库房/质检`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opinion: Option<String>,
    /// What the actor's `set` (at creation: the request's form) changed, and
    /// the formulas it recomputed. What a block changed is in `blocks`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changed: Vec<Change>,
    /// Each block that ran (a node's `after`, the exit's block, the next
    /// node's `before`), in the order it ran, with what it changed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<BlockRun>,
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
    /// Who stands in for whom among the next node's operators (代理).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stand_ins: Vec<StandIn>,
    /// Reminders the step sent (`supervise`, a deadline's `remind`): also kept in the request's
    /// outbox for a host.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reminders: Vec<Reminder>,
    /// What forks and merges did: branches started, arrived, withdrawn, merges passed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub branching: Vec<BranchEvent>,
    /// Who still has to act at the node afterwards (`all`, `sequential`);
    /// for a request split by a fork, at any of its nodes.
    pub pending: Vec<String>,
    /// The current nodes afterwards, when a fork has split the request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeView>,
    pub archived: bool,
    /// Entering a node with `start`: the request to create (the holder creates it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started: Option<crate::runtime::request::subflows::Started>,
    /// The request the step acted on, when a run holds several (set by the holder).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    /// A fired timer: the deadline rule, as the trace names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// When the step happened, when not at the run's clock (timers, actions with `at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
}

impl Step {
    /// A step that has done nothing yet.
    pub(super) fn new(by: &str, action: &str, from: &str, opinion: Option<String>) -> Step {
        Step {
            number: 0,
            by: by.to_owned(),
            on_behalf_of: Vec::new(),
            action: action.to_owned(),
            branch: None,
            from: from.to_owned(),
            opinion,
            changed: Vec::new(),
            blocks: Vec::new(),
            exits_tried: Vec::new(),
            exit: None,
            to: None,
            batch: None,
            operators: Vec::new(),
            mode: None,
            empty_batches: Vec::new(),
            people: Vec::new(),
            stand_ins: Vec::new(),
            reminders: Vec::new(),
            branching: Vec::new(),
            pending: Vec::new(),
            nodes: Vec::new(),
            archived: false,
            rule: None,
            at: None,
            started: None,
            request: None,
        }
    }
}

/// Which block ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BlockKind {
    /// The `after` of the node being left.
    After,
    /// The block of the exit taken.
    Exit,
    /// The `before` of the node entered.
    Before,
}

/// One block that ran during an action, and the fields it changed (those it
/// assigned, by `action`, and the formulas recomputed after it, by `formula`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlockRun {
    pub block: BlockKind,
    /// The node whose block it is (for an exit's block, the node it leaves).
    pub node: String,
    /// The exit, for an exit's block.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<String>,
    pub changed: Vec<Change>,
}

/// One stop of the route a request took: the node it reached, and the exit
/// or return that brought it there (none for the node it was created at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RouteStop {
    pub node: String,
    /// The branch the move was made in, after a fork.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit: Option<String>,
    #[serde(rename = "return", skip_serializing_if = "Option::is_none")]
    pub returned_by: Option<String>,
}

/// The route in a request's log: where it was created, then each node an
/// action moved it to, by exit or by return.
pub fn route<'a>(log: impl IntoIterator<Item = &'a LogEntry>) -> Vec<RouteStop> {
    let mut stops = Vec::new();
    for entry in log {
        if entry.action == "create" {
            stops.push(RouteStop { node: entry.node.clone(), branch: None, exit: None, returned_by: None });
        } else if let Some(to) = &entry.to_node {
            let (exit, returned_by) =
                if entry.action == "reject" { (None, entry.exit.clone()) } else { (entry.exit.clone(), None) };
            stops.push(RouteStop { node: to.clone(), branch: entry.branch.clone(), exit, returned_by });
        }
        for moved in &entry.moved {
            stops.push(RouteStop {
                node: moved.node.clone(),
                branch: moved.branch.clone(),
                exit: Some(moved.exit.clone()),
                returned_by: None,
            });
        }
    }
    stops
}

/// A move a log line records besides its own: a branch a fork started, or a merge passed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Move {
    /// The branch started (`库房/质检` when nested); none for a merge's passage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    pub exit: String,
    pub node: String,
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

impl Runtime<'_> {
    /// What changed between two forms, field by field and cell by cell.
    pub fn changes(
        &self,
        workflow: &Workflow,
        before: &FormData,
        after: &FormData,
        entered: &[FormName],
    ) -> Vec<Change> {
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
                    by: source_of(entered.contains(&FormName::Field(index)), field.formula.is_some()),
                });
            }
        }
        for (table, detail) in form.details.iter().enumerate() {
            let empty = Vec::new();
            let old_rows = before.tables.get(table).unwrap_or(&empty);
            let new_rows = after.tables.get(table).unwrap_or(&empty);
            let entered_table = entered.contains(&FormName::Table(table));
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
}
