//! Where a request stands (docs/language.md §6.8). A request at one node
//! keeps its place in its own fields — `node`, `operators`, `pending`,
//! `batch`, `forwarded` — exactly as before forks existed, and has no
//! positions. After a fork it has one [`Position`] per branch (at a node of
//! the branch, or arrived at the branch's merge and waiting); its own fields
//! then sum them up: `node` is the node whose fork split it, and
//! `operators`, `pending` and `forwarded` gather every position's people.
//!
//! An action acts at one position: [`Runtime::focus`] picks it and
//! [`Request::focus_on`] moves it into the request's own fields, so submit, reject and the rest work on it
//! unchanged; [`Runtime::settle`] puts it back afterwards (unless a fork or
//! a merge consumed it) and sums the positions up again.

use serde::{Deserialize, Serialize};

use crate::diag::Code;
use crate::ir::{BranchStep, Wait, Workflow};
use crate::runtime::error::RuntimeError;
use crate::runtime::request::events::ExitTried;
use crate::runtime::request::operators::EmptyBatch;
use crate::runtime::request::{internal, node_name, Action, ActionKind, Request, Runtime};

/// One branch's place in a split request.
#[derive(Debug, Clone, PartialEq)]
pub struct Position {
    pub node: usize,
    /// At a merge node: the branch of the merge's fork that arrived and waits.
    pub arrived: Option<usize>,
    pub operators: Vec<String>,
    pub pending: Vec<String>,
    pub batch: Option<u64>,
    pub forwarded: Vec<String>,
}

/// Whether the position an action worked on is still the request's to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Focus {
    /// At a node (the same or another): it goes back among the positions.
    Here,
    /// Consumed: it forked into branches, or arrived at a merge that still waits.
    Gone,
    /// The action was on the whole request (withdraw, supervise, force …), not on one position:
    /// whatever it did to the positions stands.
    Whole,
}

/// A current node as the JSON trace and the state show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NodeView {
    /// `物流`, or `库房/质检` inside a nested fork.
    pub branch: String,
    pub node: String,
    pub pending: Vec<String>,
    /// Arrived at the merge, waiting for the other branches.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub arrived: bool,
    /// Fields hidden from this node's operators.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<String>,
}

/// What forks and merges did during one action, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum BranchEvent {
    /// A fork started a branch: its first node and operators (or, for a
    /// branch that leads straight to the merge, the merge it arrived at).
    Started {
        branch: String,
        exit: String,
        to: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        batch: Option<u64>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        operators: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<&'static str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        empty_batches: Vec<EmptyBatch>,
    },
    /// A branch arrived at its merge; `waiting_for`: the started branches the
    /// merge still waits for, and with `wait N`, `more`: how many of them.
    Arrived {
        branch: String,
        merge: String,
        waiting_for: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        more: Option<usize>,
    },
    /// A branch stopped where it stood: its merge went on without it, or a
    /// return went back past its fork. `by`: `merge 汇合` or `return 退回`.
    Withdrawn { branch: String, node: String, pending: Vec<String>, by: String },
    /// A merge's wait was satisfied: the system took its exit and the
    /// branches went on as one.
    Merged {
        merge: String,
        wait: String,
        arrived: Vec<String>,
        exits_tried: Vec<ExitTried>,
        #[serde(skip_serializing_if = "Option::is_none")]
        exit: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        batch: Option<u64>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        operators: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        mode: Option<&'static str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        empty_batches: Vec<EmptyBatch>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        archived: bool,
    },
}

/// A withdrawn branch as the request's log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Withdrawal {
    pub branch: String,
    pub node: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
    pub by: String,
}

impl Request {
    /// Whether a fork has split the request (it stands at one node per branch).
    pub fn is_split(&self) -> bool {
        !self.positions.is_empty()
    }

    /// Moves `positions[index]` into the request's own fields.
    pub(crate) fn focus_on(&mut self, index: usize) -> Result<(), RuntimeError> {
        if index >= self.positions.len() {
            return Err(internal("unknown position"));
        }
        let position = self.positions.remove(index);
        self.node = position.node;
        self.operators = position.operators;
        self.pending = position.pending;
        self.batch = position.batch;
        self.forwarded = position.forwarded;
        Ok(())
    }

    /// The request's own fields as a position (they are left empty).
    pub(crate) fn own_position(&mut self) -> Position {
        Position {
            node: self.node,
            arrived: None,
            operators: std::mem::take(&mut self.operators),
            pending: std::mem::take(&mut self.pending),
            batch: self.batch.take(),
            forwarded: std::mem::take(&mut self.forwarded),
        }
    }
}

/// The branches a position is in, outermost first.
pub(crate) fn path_of(workflow: &Workflow, node: usize, arrived: Option<usize>) -> Vec<BranchStep> {
    let Some(at) = workflow.nodes.get(node) else { return Vec::new() };
    let mut path = at.branch.clone();
    if let (Some(branch), Some(merge)) = (arrived, &at.merge) {
        path.push(BranchStep { fork: merge.fork, branch });
    }
    path
}

/// `物流`, or `库房/质检` for a branch of a nested fork.
pub(crate) fn branch_label(workflow: &Workflow, path: &[BranchStep]) -> String {
    path.iter().map(|step| branch_name(workflow, *step)).collect::<Vec<_>>().join("/")
}

pub(crate) fn branch_name(workflow: &Workflow, step: BranchStep) -> &str {
    workflow.forks.get(step.fork).and_then(|fork| fork.branches.get(step.branch)).map_or("", String::as_str)
}

/// `wait all`, `wait 1`, `wait 物流, 库房`.
pub(crate) fn wait_text(workflow: &Workflow, fork: usize, wait: &Wait) -> String {
    match wait {
        Wait::All => "wait all".into(),
        Wait::Count(count) => format!("wait {count}"),
        Wait::Branches(branches) => format!(
            "wait {}",
            branches
                .iter()
                .map(|&branch| branch_name(workflow, BranchStep { fork, branch }))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn push_new(list: &mut Vec<String>, people: &[String]) {
    for person in people {
        if !list.contains(person) {
            list.push(person.clone());
        }
    }
}

impl<'a> Runtime<'a> {
    /// The position an action acts at (its index and branch label), to be
    /// moved into the request's own fields with [`Request::focus_on`]; `None`
    /// for a request at one node, after checking that `"node"`, when given,
    /// names it.
    pub(crate) fn focus(
        &self,
        workflow: &'a Workflow,
        request: &Request,
        action: &Action,
    ) -> Result<Option<(usize, String)>, RuntimeError> {
        let named = action.node.as_deref();
        if !request.is_split() {
            if let Some(name) = named {
                if name != node_name(workflow, request.node) {
                    return Err(self.not_current(workflow, request, name));
                }
            }
            return Ok(None);
        }
        let live = |position: &Position| position.arrived.is_none();
        let index = match named {
            Some(name) => request
                .positions
                .iter()
                .position(|position| live(position) && node_name(workflow, position.node) == name)
                .ok_or_else(|| self.not_current(workflow, request, name))?,
            None => {
                let may_act = |position: &Position| {
                    position.pending.contains(&action.by)
                        || (action.kind == ActionKind::Comment && position.forwarded.contains(&action.by))
                };
                let candidates: Vec<usize> = request
                    .positions
                    .iter()
                    .enumerate()
                    .filter(|(_, position)| live(position) && may_act(position))
                    .map(|(index, _)| index)
                    .collect();
                match candidates.as_slice() {
                    [one] => *one,
                    [] => return Err(self.nowhere_pending(workflow, request, action)),
                    several => {
                        let nodes = several
                            .iter()
                            .filter_map(|&index| request.positions.get(index))
                            .map(|position| format!("`{}`", node_name(workflow, position.node)))
                            .collect::<Vec<_>>()
                            .join(", ");
                        let first = several.first().and_then(|&index| request.positions.get(index));
                        let at = first.and_then(|position| workflow.nodes.get(position.node)).map(|node| node.at);
                        let message = format!(
                            "{} is pending at {nodes}: say which with `\"node\"` in the action",
                            self.person_name(&action.by)
                        );
                        let error = match at {
                            Some(at) => RuntimeError::at(Code::R0210, message, at).with_label("one of the nodes"),
                            None => RuntimeError::new(Code::R0210, message),
                        };
                        return Err(error.with_help(format!(
                            "add `\"node\": \"{}\"` (or another of them) to the action",
                            first.map_or("", |position| node_name(workflow, position.node))
                        )));
                    }
                }
            }
        };
        let position = request.positions.get(index).ok_or_else(|| internal("unknown position"))?;
        Ok(Some((index, branch_label(workflow, &path_of(workflow, position.node, position.arrived)))))
    }

    fn not_current(&self, workflow: &Workflow, request: &Request, name: &str) -> RuntimeError {
        let at = self.current_nodes(workflow, request);
        let message = format!("the action names node `{name}`, but the request is at {at}");
        let error = match workflow.nodes.iter().find(|node| node.name == name) {
            Some(named) => RuntimeError::at(Code::R0203, message, named.at).with_label("not a current node"),
            None => RuntimeError::new(Code::R0203, message),
        };
        error.with_help("`\"node\"` names one of the request's current nodes (see `nodes` in the JSON trace)")
    }

    fn nowhere_pending(&self, workflow: &Workflow, request: &Request, action: &Action) -> RuntimeError {
        let waiting = request
            .positions
            .iter()
            .filter(|position| position.arrived.is_none())
            .map(|position| {
                let label = branch_label(workflow, &path_of(workflow, position.node, None));
                format!("[{label}] {} for {}", node_name(workflow, position.node), self.people_names(&position.pending))
            })
            .collect::<Vec<_>>()
            .join("; ");
        let node = workflow.nodes.get(request.node);
        let message = format!(
            "{} may not {} here: the request waits at {waiting}",
            self.person_name(&action.by),
            action.kind.as_str()
        );
        let error = match node {
            Some(node) => RuntimeError::at(Code::R0203, message, node.at).with_label("the fork"),
            None => RuntimeError::new(Code::R0203, message),
        };
        error.with_help("only a pending operator of one of the current nodes may act there")
    }

    /// The current nodes in words: `` `物流发运` and `汇合` ``.
    fn current_nodes(&self, workflow: &Workflow, request: &Request) -> String {
        if !request.is_split() {
            return format!("`{}`", node_name(workflow, request.node));
        }
        request
            .positions
            .iter()
            .filter(|position| position.arrived.is_none())
            .map(|position| format!("`{}`", node_name(workflow, position.node)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// After an action: the acting position goes back among the others
    /// (unless it was consumed), and a request whose branches all merged
    /// stands at one node again.
    pub(crate) fn settle(&self, workflow: &Workflow, request: &mut Request, focus: Focus) {
        if focus == Focus::Whole {
            return;
        }
        if focus == Focus::Here {
            if !request.is_split() && workflow.nodes.get(request.node).is_none_or(|node| node.branch.is_empty()) {
                return;
            }
            let position = request.own_position();
            request.positions.push(position);
        }
        if let [only] = request.positions.as_slice() {
            if only.arrived.is_none() && path_of(workflow, only.node, None).is_empty() {
                if let Ok(()) = request.focus_on(0) {
                    return;
                }
            }
        }
        request.positions.sort_by_cached_key(|position| path_of(workflow, position.node, position.arrived));
        self.sum_up(workflow, request);
    }

    /// A split request's own fields: the node whose fork split it, and
    /// everyone's operators, pending people and forwards.
    pub(crate) fn sum_up(&self, workflow: &Workflow, request: &mut Request) {
        let outermost = request
            .positions
            .iter()
            .find_map(|position| path_of(workflow, position.node, position.arrived).first().copied())
            .and_then(|step| workflow.forks.get(step.fork))
            .map(|fork| fork.node);
        if let Some(node) = outermost {
            request.node = node;
        }
        request.operators.clear();
        request.pending.clear();
        request.forwarded.clear();
        request.batch = None;
        for position in &request.positions {
            push_new(&mut request.operators, &position.operators);
            push_new(&mut request.pending, &position.pending);
            push_new(&mut request.forwarded, &position.forwarded);
        }
    }

    /// The current nodes of a split request (empty for one at one node).
    pub fn node_views(&self, request: &Request) -> Vec<NodeView> {
        let Ok(workflow) = self.workflow(request) else { return Vec::new() };
        let form = self.compiled.program.forms.get(workflow.form);
        request
            .positions
            .iter()
            .map(|position| NodeView {
                branch: branch_label(workflow, &path_of(workflow, position.node, position.arrived)),
                node: node_name(workflow, position.node).to_owned(),
                pending: position.pending.clone(),
                arrived: position.arrived.is_some(),
                hidden: match (form, workflow.nodes.get(position.node)) {
                    (Some(form), Some(node)) => node
                        .hidden
                        .iter()
                        .filter_map(|&field| form.fields.get(field).map(|field| field.name.clone()))
                        .collect(),
                    _ => Vec::new(),
                },
            })
            .collect()
    }
}
