//! What an action did, as data: the step a host shows (exits tried, the
//! batch and operators of the next node, why earlier batches were empty),
//! the log line kept with the request, and the fields it changed and by whom.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::ir::Workflow;
use crate::runtime::request::operators::EmptyBatch;
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
    /// A fired timer: the deadline rule, as the trace names it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// When the step happened, when not at the run's clock (timers, actions with `at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Reminders this step raised (a host delivers them).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub outbox: Vec<crate::runtime::request::deadlines::Reminder>,
}

impl Step {
    /// A step that has done nothing yet.
    pub(super) fn new(by: &str, action: &str, from: &str, opinion: Option<String>) -> Step {
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
            rule: None,
            at: None,
            outbox: Vec::new(),
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
