//! What forks and merges do to a request (docs/language.md §6.8): a submit
//! along a fork starts its branches, a branch arrives at its merge, a
//! satisfied merge withdraws the branches still running and goes on as one,
//! and a return past a fork withdraws that fork's branches. The positions
//! themselves are `positions.rs`'s.

use std::collections::BTreeSet;

use crate::ir::{BranchStep, Exit, Node, NodeKind, Wait, Workflow};
use crate::runtime::error::RuntimeError;
use crate::runtime::request::events::{BlockKind, ExitTried, Move, Step};
use crate::runtime::request::positions::{
    branch_label, branch_name, path_of, wait_text, BranchEvent, Focus, Position, Withdrawal,
};
use crate::runtime::request::{internal, node_name, Request, Runtime};
use crate::runtime::values::dates::DateTime;

impl<'a> Runtime<'a> {
    /// Leaves a forking node: every exit whose condition holds (judged
    /// first, on the form as it is), then their blocks in written order,
    /// then each branch's first node — its `before` and operators.
    pub(super) fn fork(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        fork: usize,
        request: &mut Request,
        now: DateTime,
        step: &mut Step,
    ) -> Result<Focus, RuntimeError> {
        let env = self.env(workflow, request, now)?;
        let mut taken: Vec<(usize, &'a Exit)> = Vec::new();
        for (branch, exit) in node.exits.iter().enumerate() {
            let held = match &exit.condition {
                Some(condition) => env.holds(condition)?,
                None => true,
            };
            step.exits_tried.push(self.tried(workflow, exit, held, request, now));
            if held {
                taken.push((branch, exit));
            }
        }
        if taken.is_empty() {
            return Err(self.none_held(node, &node.exits, step));
        }
        for (_, exit) in &taken {
            self.run_named_block(workflow, &exit.block, request, now, step, BlockKind::Exit, node, Some(&exit.name))?;
        }
        let base = node.branch.clone();
        let mut merges = BTreeSet::new();
        for (branch, exit) in taken {
            let here = BranchStep { fork, branch };
            let label = branch_label(workflow, &[base.as_slice(), &[here]].concat());
            let target = workflow.nodes.get(exit.target).ok_or_else(|| internal("unknown exit target"))?;
            if target.kind == NodeKind::Merge {
                // A branch with nothing to do arrives at once.
                request.positions.push(Position {
                    node: exit.target,
                    arrived: Some(branch),
                    operators: Vec::new(),
                    pending: Vec::new(),
                    batch: None,
                    forwarded: Vec::new(),
                });
                merges.insert(exit.target);
                step.branching.push(BranchEvent::Started {
                    branch: label,
                    exit: exit.name.clone(),
                    to: target.name.clone(),
                    batch: None,
                    operators: Vec::new(),
                    mode: None,
                    empty_batches: Vec::new(),
                });
                continue;
            }
            let mut entered = Step::new("", "", "", None);
            self.enter(workflow, exit, request, now, &mut entered)?;
            let position = request.own_position();
            request.positions.push(position);
            step.branching.push(BranchEvent::Started {
                branch: label,
                exit: exit.name.clone(),
                to: target.name.clone(),
                batch: entered.batch,
                operators: entered.operators,
                mode: entered.mode,
                empty_batches: entered.empty_batches,
            });
        }
        let mut focus = Focus::Gone;
        for merge in merges {
            if self.try_merge(workflow, merge, request, now, step)? == Focus::Here {
                focus = Focus::Here;
            }
        }
        Ok(focus)
    }

    /// The request (its own fields: the position acting) takes `exit` to a
    /// merge node: its branch arrives and waits, and the merge may go on.
    pub(super) fn arrive(
        &self,
        workflow: &'a Workflow,
        exit: &'a Exit,
        request: &mut Request,
        now: DateTime,
        step: &mut Step,
    ) -> Result<Focus, RuntimeError> {
        let merge = workflow.nodes.get(exit.target).ok_or_else(|| internal("unknown merge"))?;
        let rule = merge.merge.as_ref().ok_or_else(|| internal("a merge node without its fork"))?;
        let from = workflow.nodes.get(request.node).ok_or_else(|| internal("unknown node"))?;
        let branch = match from.branch.last() {
            Some(step) if step.fork == rule.fork => step.branch,
            _ => return Err(internal("a branch arrived at another fork's merge")),
        };
        step.exit = Some(exit.name.clone());
        step.to = Some(merge.name.clone());
        request.positions.push(Position {
            node: exit.target,
            arrived: Some(branch),
            operators: Vec::new(),
            pending: Vec::new(),
            batch: None,
            forwarded: Vec::new(),
        });
        // The acting position is now the arrived one.
        request.operators.clear();
        request.pending.clear();
        request.forwarded.clear();
        self.try_merge(workflow, exit.target, request, now, step)
    }

    /// Judges a merge's `wait` over the branches of its fork instance; when it
    /// is satisfied, withdraws the rest and takes the merge's exit.
    fn try_merge(
        &self,
        workflow: &'a Workflow,
        merge_index: usize,
        request: &mut Request,
        now: DateTime,
        step: &mut Step,
    ) -> Result<Focus, RuntimeError> {
        let merge = workflow.nodes.get(merge_index).ok_or_else(|| internal("unknown merge"))?;
        let rule = merge.merge.as_ref().ok_or_else(|| internal("a merge node without its fork"))?;
        let prefix = &merge.branch;
        // The positions of this fork's branches (nested ones included), by branch.
        let member_of = |position: &Position| {
            let path = path_of(workflow, position.node, position.arrived);
            match (path.get(..prefix.len()), path.get(prefix.len())) {
                (Some(head), Some(next)) if head == prefix.as_slice() && next.fork == rule.fork => Some(next.branch),
                _ => None,
            }
        };
        let mut started = BTreeSet::new();
        let mut arrived = BTreeSet::new();
        for position in &request.positions {
            if let Some(branch) = member_of(position) {
                started.insert(branch);
                if position.node == merge_index && position.arrived.is_some() {
                    arrived.insert(branch);
                }
            }
        }
        // The branches the merge still waits for, and (for `wait N`) how many of them it needs.
        let not_arrived = |among: &BTreeSet<usize>| among.difference(&arrived).copied().collect::<Vec<usize>>();
        let (waited, needed) = match &rule.wait {
            Wait::All => (not_arrived(&started), None),
            Wait::Count(count) => {
                let wanted = usize::try_from(*count).unwrap_or(usize::MAX).min(started.len());
                (not_arrived(&started), Some(wanted.saturating_sub(arrived.len())))
            }
            Wait::Branches(named) => {
                let named_started: BTreeSet<usize> =
                    named.iter().copied().filter(|branch| started.contains(branch)).collect();
                if named_started.is_empty() {
                    (not_arrived(&started), None)
                } else {
                    (not_arrived(&named_started), None)
                }
            }
        };
        let satisfied = match needed {
            Some(needed) => needed == 0,
            None => waited.is_empty(),
        };
        let name_of = |branch: usize| branch_name(workflow, BranchStep { fork: rule.fork, branch }).to_owned();
        let label_of = |branch: usize| {
            branch_label(workflow, &[prefix.as_slice(), &[BranchStep { fork: rule.fork, branch }]].concat())
        };
        if let Some(latest) = request.positions.iter().rev().find(|position| position.node == merge_index) {
            if let Some(branch) = latest.arrived {
                step.branching.push(BranchEvent::Arrived {
                    branch: label_of(branch),
                    merge: merge.name.clone(),
                    waiting_for: if satisfied {
                        Vec::new()
                    } else {
                        waited.iter().map(|&branch| name_of(branch)).collect()
                    },
                    more: needed.filter(|_| !satisfied),
                });
            }
        }
        if !satisfied {
            return Ok(Focus::Gone);
        }
        let by = format!("merge `{}`", merge.name);
        let (members, others): (Vec<Position>, Vec<Position>) =
            std::mem::take(&mut request.positions).into_iter().partition(|position| member_of(position).is_some());
        request.positions = others;
        for position in members.iter().filter(|position| position.arrived.is_none() || position.node != merge_index) {
            step.branching.push(self.withdrawn(workflow, position, &by));
        }

        // The system passes the merge: the request goes on as one from here.
        request.node = merge_index;
        request.operators.clear();
        request.pending.clear();
        request.forwarded.clear();
        request.batch = None;
        let mut passage = Step::new("", "", &merge.name, None);
        let exit = self.choose(workflow, merge, &merge.exits, request, now, &mut passage)?;
        self.run_named_block(
            workflow,
            &exit.block,
            request,
            now,
            &mut passage,
            BlockKind::Exit,
            merge,
            Some(&exit.name),
        )?;
        let focus = self.enter(workflow, exit, request, now, &mut passage)?;
        // The blocks the merge's passage ran are the action's too, in the order they ran.
        step.blocks.append(&mut passage.blocks);
        let after = std::mem::take(&mut passage.branching);
        step.branching.push(BranchEvent::Merged {
            merge: merge.name.clone(),
            wait: wait_text(workflow, rule.fork, &rule.wait),
            arrived: arrived.iter().map(|&branch| name_of(branch)).collect(),
            exits_tried: passage.exits_tried,
            exit: passage.exit,
            to: passage.to,
            batch: passage.batch,
            operators: passage.operators,
            mode: passage.mode,
            empty_batches: passage.empty_batches,
            archived: request.archived,
        });
        step.branching.extend(after);
        Ok(focus)
    }

    /// A `return` from the acting position to `exit`'s target: when the
    /// target is before a fork the position is in, every branch of that fork
    /// (and of forks nested in it) is withdrawn.
    pub(super) fn withdraw_for_return(
        &self,
        workflow: &'a Workflow,
        exit: &'a Exit,
        request: &mut Request,
        step: &mut Step,
    ) -> Result<(), RuntimeError> {
        let from = workflow.nodes.get(request.node).ok_or_else(|| internal("unknown node"))?;
        let to = workflow.nodes.get(exit.target).ok_or_else(|| internal("unknown return target"))?;
        let depth = to.branch.len();
        if from.branch.len() <= depth {
            return Ok(());
        }
        let Some(&left) = from.branch.get(depth) else { return Ok(()) };
        let prefix = &to.branch;
        let by = format!("return `{}`", exit.name);
        let (gone, kept): (Vec<Position>, Vec<Position>) =
            std::mem::take(&mut request.positions).into_iter().partition(|position| {
                let path = path_of(workflow, position.node, position.arrived);
                path.get(..depth) == Some(prefix.as_slice())
                    && path.get(depth).is_some_and(|step| step.fork == left.fork)
            });
        request.positions = kept;
        for position in &gone {
            step.branching.push(self.withdrawn(workflow, position, &by));
        }
        Ok(())
    }

    /// Withdraws every branch of a split request, for an action that moves the
    /// whole request (withdraw, force return, force archive).
    pub(super) fn withdraw_branches(&self, workflow: &Workflow, request: &mut Request, step: &mut Step) {
        let by = step.action.clone();
        for position in std::mem::take(&mut request.positions) {
            step.branching.push(self.withdrawn(workflow, &position, &by));
        }
    }

    pub(super) fn withdrawn(&self, workflow: &Workflow, position: &Position, by: &str) -> BranchEvent {
        BranchEvent::Withdrawn {
            branch: branch_label(workflow, &path_of(workflow, position.node, position.arrived)),
            node: node_name(workflow, position.node).to_owned(),
            pending: position.pending.clone(),
            by: by.to_owned(),
        }
    }

    /// One exit tried, with the values its condition read.
    pub(super) fn tried(
        &self,
        workflow: &'a Workflow,
        exit: &Exit,
        held: bool,
        request: &Request,
        now: DateTime,
    ) -> ExitTried {
        ExitTried {
            name: exit.name.clone(),
            target: workflow.nodes.get(exit.target).map(|node| node.name.clone()).unwrap_or_default(),
            condition: exit.condition.as_ref().map(|condition| self.compiled.source_text(condition.at)),
            held,
            values: exit
                .condition
                .as_ref()
                .map(|condition| self.values_read(workflow, condition, request, now, None))
                .unwrap_or_default(),
        }
    }
}

/// What the log keeps of the branch events: the withdrawals.
pub(crate) fn withdrawals(events: &[BranchEvent]) -> Vec<Withdrawal> {
    events
        .iter()
        .filter_map(|event| match event {
            BranchEvent::Withdrawn { branch, node, pending, by } => Some(Withdrawal {
                branch: branch.clone(),
                node: node.clone(),
                pending: pending.clone(),
                by: by.clone(),
            }),
            _ => None,
        })
        .collect()
}

/// What the log keeps of the moves forks and merges made: each branch started, each merge passed.
pub(crate) fn moves(events: &[BranchEvent]) -> Vec<Move> {
    events
        .iter()
        .filter_map(|event| match event {
            BranchEvent::Started { branch, exit, to, .. } => {
                Some(Move { branch: Some(branch.clone()), exit: exit.clone(), node: to.clone() })
            }
            BranchEvent::Merged { exit: Some(exit), to: Some(to), .. } => {
                Some(Move { branch: None, exit: exit.clone(), node: to.clone() })
            }
            _ => None,
        })
        .collect()
}
