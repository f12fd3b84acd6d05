//! Sub-workflows (新建工作流, docs/language.md §6.10). Entering a node with
//! `start WORKFLOW { … }` asks for a request of another workflow: the step
//! carries what to create (`Step::started`), and whoever holds the requests
//! (`flowc run`'s session, a service) creates it with
//! [`Runtime::create`], the child's `NewRequest::started_by` naming this
//! one, so the mapped fields are written whatever the child's create node
//! lets its creator edit. With `wait`, the request waits at the node: a
//! submit there is refused (R0212) until the child is archived, when
//! [`Runtime::child_archived`] copies the child's fields back — a
//! transition of its own, logged by `system` with the values copied, so a
//! state replays it without the child.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::diag::Code;
use crate::ir::{Node, Workflow};
use crate::runtime::error::RuntimeError;
use crate::runtime::request::events::{Change, LogEntry, Step};
use crate::runtime::request::log::{Given, LogLine};
use crate::runtime::request::opinions::OpinionType;
use crate::runtime::request::{internal, node_name, FormInput, NewRequest, Request, Runtime};
use crate::runtime::values::dates::DateTime;
use crate::runtime::values::field_values::{read_form_text, to_json, Door};

/// A request waiting at a node for the child it started to be archived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waiting {
    pub node: usize,
    /// The child's workflow (index into the program's workflows).
    pub workflow: usize,
}

/// A request started by another (kept with its parent, so one state holds the family).
#[derive(Debug, Clone, PartialEq)]
pub struct Child {
    /// The id the holder gave it (`flowc run` numbers a run's requests 1, 2, …).
    pub id: String,
    pub request: Request,
}

/// What a step asks the holder to create.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Started {
    pub workflow: String,
    pub creator: String,
    /// The child's fields by name, as a request file gives them.
    pub form: Map<String, Json>,
    /// Whether the node waits for the child to be archived.
    pub wait: bool,
    /// The id the holder gave the new request, once created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
}

impl<'a> Runtime<'a> {
    /// Entering `target`: its `start`, if any — what to create, and the wait.
    pub(super) fn start_child(
        &self,
        workflow: &'a Workflow,
        target: &'a Node,
        target_index: usize,
        request: &mut Request,
        now: DateTime,
        step: &mut Step,
    ) -> Result<(), RuntimeError> {
        let Some(start) = &target.start else { return Ok(()) };
        let child = self.compiled.program.workflows.get(start.workflow).ok_or_else(|| internal("unknown workflow"))?;
        let child_form = self.compiled.program.forms.get(child.form).ok_or_else(|| internal("unknown form"))?;
        let env = self.env(workflow, request, now)?;
        let creator = match &start.creator {
            Some(expr) => match env.eval(expr)? {
                crate::runtime::values::value::Value::Ref(crate::runtime::values::value::RefKind::Employee, id) => id,
                other => {
                    return Err(RuntimeError::at(
                        Code::R0305,
                        format!(
                            "the creator of the `{}` request started at `{}` is {other:?}, not a person",
                            child.name, target.name
                        ),
                        expr.at,
                    )
                    .with_label("the creator"))
                }
            },
            None => request.creator.clone(),
        };
        let mut form = Map::new();
        for (field, expr) in &start.fields {
            let Some(field) = child_form.fields.get(*field) else { continue };
            let value = env.eval(expr)?;
            if !value.is_null() {
                form.insert(field.name.clone(), to_json(field, &value));
            }
        }
        if start.wait.is_some() {
            request.waiting = Some(Waiting { node: target_index, workflow: start.workflow });
        }
        step.started =
            Some(Started { workflow: child.name.clone(), creator, form, wait: start.wait.is_some(), request: None });
        Ok(())
    }

    /// The new request a step's `started` asks for, on behalf of request `parent_id`.
    pub fn child_request(&self, started: &Started, parent_id: &str) -> NewRequest {
        NewRequest {
            workflow: Some(started.workflow.clone()),
            creator: started.creator.clone(),
            form: FormInput::Fields(started.form.clone()),
            sequence: None,
            started_by: Some(parent_id.to_owned()),
        }
    }

    /// The parent's fields copied back from its archived child (`wait { … }`), and the
    /// request going on at its node. `child_id` names the child in the log.
    pub fn child_archived(
        &self,
        parent: &Request,
        child: &Request,
        child_id: &str,
        now: DateTime,
    ) -> Result<(Request, Step), RuntimeError> {
        let workflow = self.workflow(parent)?;
        let waiting = parent.waiting.as_ref().ok_or_else(|| internal("the request waits for no child"))?;
        if child.workflow != waiting.workflow || !child.archived {
            return Err(internal("the child is not the archived request the node waits for"));
        }
        let node = workflow.nodes.get(waiting.node).ok_or_else(|| internal("unknown node"))?;
        let rule = node.start.as_ref().and_then(|start| start.wait.as_ref());
        let form = self.compiled.program.forms.get(workflow.form).ok_or_else(|| internal("unknown form"))?;
        let child_workflow = self.workflow(child)?;
        let env = self.env(child_workflow, child, now)?;
        let mut values = Map::new();
        for (field, expr) in rule.into_iter().flatten() {
            let Some(field) = form.fields.get(*field) else { continue };
            values.insert(field.name.clone(), to_json(field, &env.eval(expr)?));
        }
        self.resume(parent, &FormInput::Fields(values), child_id, now)
    }

    /// The request going on at the node it waited at, with `values` written (replay gives the
    /// values the log kept).
    pub fn resume(
        &self,
        parent: &Request,
        values: &FormInput,
        child_id: &str,
        now: DateTime,
    ) -> Result<(Request, Step), RuntimeError> {
        let workflow = self.workflow(parent)?;
        let waiting = parent.waiting.as_ref().ok_or_else(|| {
            RuntimeError::new(Code::R0502, "the request waits for no started request: nothing to take back")
        })?;
        let node = workflow.nodes.get(waiting.node).ok_or_else(|| internal("unknown node"))?;
        let form = self.compiled.program.forms.get(workflow.form).ok_or_else(|| internal("unknown form"))?;
        let layout = self.compiled.layouts.get(workflow.form).ok_or_else(|| internal("unknown layout"))?;
        let mut next = parent.clone();
        next.waiting = None;
        let before = parent.form.clone();
        let text = match values {
            FormInput::Text(text) => text.clone(),
            FormInput::Fields(fields) => Json::Object(fields.clone()).to_string(),
        };
        let mut entered = Vec::new();
        read_form_text(
            form,
            layout,
            &text,
            self.directory,
            Door::Entered { merge_tables: &[] },
            &mut next.form,
            |name| {
                entered.push(name);
                Ok(())
            },
        )?;
        self.recompute(workflow, &mut next, now)?;
        let child_workflow = self.compiled.program.workflows.get(waiting.workflow).map_or("", |w| w.name.as_str());
        let mut step = Step::new("system", "child_archived", &node.name, None);
        step.number = parent.log.actions() + 1;
        step.at = Some(now.to_string());
        step.rule = Some(format!("request {child_id} ({child_workflow}) started at {} is archived", node.name));
        step.changed = self.changes(workflow, &before, &next.form, &entered);
        for change in &mut step.changed {
            change.by = crate::runtime::request::ChangeSource::Action;
        }
        step.operators = next.operators.clone();
        step.pending = next.pending.clone();
        let changed: Vec<Change> = step.changed.clone();
        let entry = LogEntry {
            time: now.to_string(),
            by: "system".into(),
            department: None,
            action: "child_archived".into(),
            opinion_type: Some(OpinionType::Subflow),
            on_behalf_of: Vec::new(),
            node: node_name(workflow, waiting.node).to_owned(),
            opinion: step.rule.clone(),
            changed,
            exit: None,
            to_node: None,
            to: vec![child_id.to_owned()],
            branch: None,
            withdrawn: Vec::new(),
            moved: Vec::new(),
            started_by: None,
        };
        next.log.push(LogLine { entry, given: Given::Set(Some(FormInput::Text(text))) });
        Ok((next, step))
    }
}

/// The request with `id` in a family (the root is `root_id`), for the holder to act on it.
pub fn find_mut<'r>(root: &'r mut Request, root_id: &str, id: &str) -> Option<&'r mut Request> {
    if id == root_id {
        return Some(root);
    }
    for child in &mut root.children {
        if let Some(found) = find_mut(&mut child.request, &child.id, id) {
            return Some(found);
        }
    }
    None
}

/// The request with `id` in a family, to read.
pub fn find<'r>(root: &'r Request, root_id: &str, id: &str) -> Option<&'r Request> {
    if id == root_id {
        return Some(root);
    }
    root.children.iter().find_map(|child| find(&child.request, &child.id, id))
}

/// How many requests a family holds (the root and every child, at every depth).
pub fn family_size(root: &Request) -> usize {
    1 + root.children.iter().map(|child| family_size(&child.request)).sum::<usize>()
}

/// The id of the request that holds child `id` as a direct child.
pub fn parent_of(root: &Request, root_id: &str, id: &str) -> Option<String> {
    for child in &root.children {
        if child.id == id {
            return Some(root_id.to_owned());
        }
        if let Some(found) = parent_of(&child.request, &child.id, id) {
            return Some(found);
        }
    }
    None
}
