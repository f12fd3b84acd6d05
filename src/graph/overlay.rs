//! What is drawn over a route: the path one request took (the JSON of
//! `flowc run --format json`) and which exits tests took (a coverage file).
//! Both are read leniently, field by field, so fields added to the run's
//! JSON later change nothing here.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::{Mark, Marks, Route};
use crate::syntax::ast::ExitKind;

/// A run as its JSON tells it.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    pub workflow: Option<String>,
    pub title: Option<String>,
    /// `archived`, `pending`, `refused` or `error`.
    pub status: String,
    /// The node the request is at after the run.
    pub node: Option<String>,
    pub pending: Vec<String>,
    pub steps: Vec<TraceStep>,
    pub error: Option<TraceError>,
}

#[derive(Debug, Clone, Default)]
pub struct TraceStep {
    /// 0 for the creation of the request, then the action's number.
    pub number: usize,
    /// `create`, `submit`, `reject`, `comment`, `forward`, `cc`.
    pub action: String,
    pub by: String,
    pub from: String,
    pub opinion: Option<String>,
    pub exit: Option<String>,
    pub to: Option<String>,
    /// Who handles the next node, and who still has to act.
    pub operators: Vec<String>,
    pub pending: Vec<String>,
    /// Whom a `forward` or `cc` went to.
    pub people: Vec<String>,
    pub archived: bool,
}

#[derive(Debug, Clone, Default)]
pub struct TraceError {
    pub code: String,
    pub message: String,
    /// The number of the refused action (0: the creation).
    pub step: usize,
}

fn text(value: &Json, key: &str) -> Option<String> {
    value.get(key).and_then(Json::as_str).map(str::to_owned)
}

fn texts(value: &Json, key: &str) -> Vec<String> {
    value
        .get(key)
        .and_then(Json::as_array)
        .map(|items| items.iter().filter_map(Json::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

impl Trace {
    pub fn from_json(source: &str) -> Result<Trace, String> {
        let value: Json = serde_json::from_str(source).map_err(|error| format!("not JSON: {error}"))?;
        Trace::from_value(&value)
    }

    /// Reads the fields it needs; a document without `steps` is not a run.
    pub fn from_value(value: &Json) -> Result<Trace, String> {
        let steps = value
            .get("steps")
            .and_then(Json::as_array)
            .ok_or("not the JSON of `flowc run --format json`: it has no `steps` list")?;
        let request = value.get("request").filter(|request| request.is_object());
        let mut number = 0;
        let steps = steps
            .iter()
            .map(|step| {
                let action = text(step, "do").unwrap_or_default();
                if action != "create" {
                    number += 1;
                }
                TraceStep {
                    number: if action == "create" { 0 } else { number },
                    by: text(step, "by").unwrap_or_default(),
                    from: text(step, "from").unwrap_or_default(),
                    opinion: text(step, "opinion").filter(|opinion| !opinion.is_empty()),
                    exit: text(step, "exit"),
                    to: text(step, "to"),
                    operators: texts(step, "operators"),
                    pending: texts(step, "pending"),
                    people: texts(step, "people"),
                    archived: step.get("archived").and_then(Json::as_bool).unwrap_or(false),
                    action,
                }
            })
            .collect();
        let error = value.get("error").filter(|error| error.is_object()).map(|error| TraceError {
            code: text(error, "code").unwrap_or_default(),
            message: text(error, "message").unwrap_or_default(),
            step: error.get("step").and_then(Json::as_u64).and_then(|step| usize::try_from(step).ok()).unwrap_or(0),
        });
        Ok(Trace {
            workflow: request.and_then(|request| text(request, "workflow")),
            title: request.and_then(|request| text(request, "title")),
            status: text(value, "status").unwrap_or_default(),
            node: request.and_then(|request| text(request, "node")),
            pending: request.map(|request| texts(request, "pending")).unwrap_or_default(),
            steps,
            error,
        })
    }
}

/// The verb of an action, as the text trace says it.
pub fn verb(action: &str) -> &str {
    match action {
        "create" => "creates",
        "submit" => "submits",
        "reject" => "rejects",
        "comment" => "comments",
        "forward" => "forwards",
        "cc" => "copies",
        other => other,
    }
}

/// The marks of a run: the nodes and edges it went through, each node with
/// the steps taken there and who acted, each edge with the steps that took it.
pub fn trace_marks(route: &Route, trace: &Trace, name: &dyn Fn(&str) -> String) -> Marks {
    let mut marks = Marks::none(route);
    let mut edge_steps: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for step in &trace.steps {
        let Some(node) = route.node_named(&step.from) else { continue };
        if let Some(mark) = marks.nodes.get_mut(node) {
            *mark = Mark::Taken;
        }
        let note = if step.action == "create" {
            format!("created by {}", name(&step.by))
        } else {
            format!("{}. {} {}", step.number, name(&step.by), verb(&step.action))
        };
        if let Some(notes) = marks.node_notes.get_mut(node) {
            notes.push(note);
        }
        let Some(exit) = &step.exit else { continue };
        let kind = if step.action == "reject" { ExitKind::Return } else { ExitKind::Exit };
        if let Some(edge) = route.edge_named(node, exit, kind) {
            edge_steps.entry(edge).or_default().push(step.number);
        }
    }
    for (edge, numbers) in edge_steps {
        if let Some(mark) = marks.edges.get_mut(edge) {
            *mark = Mark::Taken;
        }
        let list = numbers.iter().map(usize::to_string).collect::<Vec<_>>().join(", ");
        let note = if numbers.len() == 1 { format!("step {list}") } else { format!("steps {list}") };
        if let Some(notes) = marks.edge_notes.get_mut(edge) {
            notes.push(note);
        }
    }
    if let Some(node) = trace.node.as_deref().and_then(|name| route.node_named(name)) {
        match &trace.error {
            Some(error) => {
                if let Some(mark) = marks.nodes.get_mut(node) {
                    *mark = Mark::Refused;
                }
                if let Some(notes) = marks.node_notes.get_mut(node) {
                    notes.push(format!("{}. refused: {}", error.step, error.code));
                }
            }
            None => {
                if let Some(mark) = marks.nodes.get_mut(node) {
                    *mark = Mark::Current;
                }
                if trace.status != "archived" && !trace.pending.is_empty() {
                    let waiting = trace.pending.iter().map(|id| name(id)).collect::<Vec<_>>().join(", ");
                    if let Some(notes) = marks.node_notes.get_mut(node) {
                        notes.push(format!("waiting for {waiting}"));
                    }
                }
            }
        }
    }
    marks
}

/// Which exits tests took, per node (the coverage file of docs/graph.md).
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub workflow: Option<String>,
    /// Node name → exit or return name → how many times tests took it.
    pub taken: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Coverage {
    /// `{"workflow": "…", "taken": {"部门审批": {"同意": 3, "退回": 1}}}`; a node's
    /// exits may also be a plain list of names (`["同意", "退回"]`).
    pub fn from_json(source: &str) -> Result<Coverage, String> {
        let value: Json = serde_json::from_str(source).map_err(|error| format!("not JSON: {error}"))?;
        let nodes = value
            .get("taken")
            .and_then(Json::as_object)
            .ok_or("not a coverage file: it has no `taken` object (node → exits taken)")?;
        let mut taken = BTreeMap::new();
        for (node, exits) in nodes {
            let mut counts = BTreeMap::new();
            match exits {
                Json::Object(map) => {
                    for (exit, count) in map {
                        let count = count.as_u64().ok_or_else(|| format!("`taken.{node}.{exit}` is not a count"))?;
                        counts.insert(exit.clone(), count);
                    }
                }
                Json::Array(names) => {
                    for exit in names {
                        let exit = exit.as_str().ok_or_else(|| format!("`taken.{node}` lists a non-name"))?;
                        *counts.entry(exit.to_owned()).or_insert(0) += 1;
                    }
                }
                _ => return Err(format!("`taken.{node}` is neither a list of exit names nor an object of counts")),
            }
            taken.insert(node.clone(), counts);
        }
        Ok(Coverage { workflow: text(&value, "workflow"), taken })
    }
}

/// Colours the exits no test took; notes how often the others were taken.
pub fn coverage_marks(route: &Route, coverage: &Coverage, marks: &mut Marks) {
    for (index, edge) in route.edges.iter().enumerate() {
        let Some(node) = route.nodes.get(edge.from) else { continue };
        let count = coverage.taken.get(&node.name).and_then(|exits| exits.get(&edge.name)).copied().unwrap_or(0);
        let note = if count == 0 {
            if let Some(mark) = marks.edges.get_mut(index) {
                if *mark == Mark::Plain {
                    *mark = Mark::Untested;
                }
            }
            "no test takes it".to_owned()
        } else {
            format!("tests: {count}")
        };
        if let Some(notes) = marks.edge_notes.get_mut(index) {
            notes.push(note);
        }
    }
}
