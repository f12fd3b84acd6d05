//! Which requests can reach each node: a fixpoint of the symbolic steps in
//! `Mode::Project`, from a new request at the create node along every exit
//! and return, until no node learns of a request it did not already cover.
//! The result over-approximates: every request that a run can bring to a
//! node is in its cubes (cubes are only ever widened: merged, or a variable
//! forgotten), which is what makes "no request matches no exit" a proof.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::exec::{Exec, State, Sym};
use super::logic::{Cube, Sorts};
use crate::ir::NodeKind;

/// Per node: the requests that arrive (after `before` and the node's
/// writes) and the requests at the moment its exits are tried.
pub struct Reach {
    /// After the node's `before` block, when its operators are resolved.
    pub entered: Vec<State>,
    pub arrival: Vec<State>,
    pub decided: Vec<State>,
}

/// How many times a node is revisited before its requests are widened to everything.
const VISIT_LIMIT: usize = 12;
/// How many times before its requests are merged into one cube.
const WIDEN_AFTER: usize = 3;

fn widen(state: State, exec: &Exec<'_, '_>) -> State {
    let mut cubes = state.into_iter().map(|sym| sym.cube).filter(|cube| !cube.is_trivially_empty());
    let Some(first) = cubes.next() else { return Vec::new() };
    let merged = cubes.fold(first, |acc, cube| super::exec::hull(&acc, &cube, exec.model));
    vec![Sym::anything(merged)]
}

pub fn fixpoint(exec: &mut Exec<'_, '_>) -> Reach {
    let count = exec.model.workflow.nodes.len();
    let mut entered: Vec<State> = vec![Vec::new(); count];
    let mut arrival: Vec<State> = vec![Vec::new(); count];
    let mut decided: Vec<State> = vec![Vec::new(); count];
    // Per node: the requests of `entered` not yet taken through it. A visit
    // runs only these (the steps act cube by cube, so the rest gave what
    // they give already) and adds what they give to `arrival` and `decided`.
    let mut fresh: Vec<State> = vec![Vec::new(); count];
    // A node visited so often that its requests were widened to everything (once).
    let mut widened = vec![false; count];
    let mut visits = vec![0usize; count];
    let create = exec.model.workflow.create;
    let initial = exec.start();
    let initial = match exec.prepared.live.get(create) {
        Some(live) => exec.keep_only(initial, live),
        None => initial,
    };
    let live_after = &exec.prepared.live_after;
    // The node first in reverse postorder goes first: a node is visited
    // once everything before it on the exits has been, so most nodes are
    // visited once (first in, first out visited most of them twice).
    let order = reverse_postorder(exec.model.workflow, create);
    let mut queue: BinaryHeap<Reverse<(usize, usize)>> = BinaryHeap::new();
    queue.push(Reverse((order.get(create).copied().unwrap_or(0), create)));
    let mut queued = vec![false; count];
    if let Some(flag) = queued.get_mut(create) {
        *flag = true;
    }
    while let Some(Reverse((_, node))) = queue.pop() {
        if let Some(flag) = queued.get_mut(node) {
            *flag = false;
        }
        let Some(visit) = visits.get_mut(node) else { continue };
        *visit += 1;
        if *visit > VISIT_LIMIT {
            if let (Some(slot), Some(flag)) = (entered.get_mut(node), widened.get_mut(node)) {
                if !*flag {
                    *flag = true;
                    *slot = vec![Sym::anything(Cube::top())];
                    if let Some(pending) = fresh.get_mut(node) {
                        *pending = vec![Sym::anything(Cube::top())];
                    }
                } else {
                    continue;
                }
            }
        }
        let delta = fresh.get_mut(node).map(std::mem::take).unwrap_or_default();
        let mut arrived = exec.open_step(delta, node);
        if node == create && visits.get(node) == Some(&1) {
            arrived.extend(initial.iter().cloned());
            arrived = exec.tidy(arrived);
        }
        let arrived = exec.settle(arrived);
        if arrived.is_empty() {
            continue;
        }
        if let Some(slot) = arrival.get_mut(node) {
            let mut all = std::mem::take(slot);
            all.extend(arrived.iter().cloned());
            *slot = exec.tidy(all);
        }
        let Some(ir_node) = exec.model.workflow.nodes.get(node) else { continue };
        if ir_node.kind == NodeKind::Archive {
            continue;
        }
        let now_decided = exec.decide(arrived.clone(), node);
        let now_decided = exec.settle(now_decided);
        let mut arrivals: Vec<(usize, State)> = Vec::new();
        // What the exits no longer need is forgotten before they are taken
        // (`decided` keeps it, for the questions asked at the node).
        let for_exits = match live_after.get(node) {
            Some(live) => exec.keep_only(now_decided.clone(), live),
            None => now_decided.clone(),
        };
        // A target that already holds every request learns nothing from
        // any exit or return: the requests that would take it are not worked out.
        let full: Vec<usize> = ir_node
            .exits
            .iter()
            .chain(&ir_node.returns)
            .map(|exit| exit.target)
            .filter(|&target| {
                entered.get(target).is_some_and(|state| state.iter().any(|sym| holds_everything(&sym.cube, exec.model)))
            })
            .collect();
        arrivals.extend(exec.take_exits(&for_exits, node, &|target| full.contains(&target)));
        for (index, exit) in ir_node.returns.iter().enumerate() {
            if !full.contains(&exit.target) {
                arrivals.push(exec.take_return(&arrived, node, index));
            }
        }
        // A deadline's `take` leaves by its exit whatever the exit's condition.
        for (index, returns) in deadline_takes(ir_node) {
            arrivals.push(exec.take_by_deadline(&arrived, node, index, returns));
        }
        if let Some(slot) = decided.get_mut(node) {
            let mut all = std::mem::take(slot);
            all.extend(now_decided);
            *slot = exec.tidy(all);
        }
        for (target, state) in arrivals {
            if state.is_empty() || exec.model.workflow.nodes.get(target).is_none_or(|n| n.kind == NodeKind::Archive) {
                continue;
            }
            let state = match exec.prepared.live.get(target) {
                Some(live) => exec.keep_only(state, live),
                None => state,
            };
            let state = exec.settle(state);
            let Some(old) = entered.get(target) else { continue };
            let grows = state.iter().any(|sym| !old.iter().any(|kept| sym.cube.is_subset(&kept.cube, exec.model)));
            if !grows {
                continue;
            }
            let mut joined = old.clone();
            joined.extend(state);
            let joined = if visits.get(target).copied().unwrap_or(0) >= WIDEN_AFTER {
                // A node that keeps learning of new requests (a loop): one cube
                // per node from now on, and a variable whose domain still grows
                // is forgotten, so the fixpoint ends soon.
                let before = widen(old.clone(), exec);
                let after = widen(joined, exec);
                match (before.first(), after.first()) {
                    (Some(before), Some(after)) => {
                        let mut cube = after.cube.clone();
                        cube.doms.retain(|(var, dom)| before.cube.dom(*var) == Some(dom));
                        cube.lins.retain(|linear| before.cube.lins.contains(linear));
                        vec![Sym::anything(cube)]
                    }
                    _ => after,
                }
            } else {
                exec.tidy(joined)
            };
            // What the node has not seen yet: the cubes no earlier one covers.
            let unseen: State = joined
                .iter()
                .filter(|sym| !old.iter().any(|kept| sym.cube.is_subset(&kept.cube, exec.model)))
                .cloned()
                .collect();
            if let Some(pending) = fresh.get_mut(target) {
                let mut all = std::mem::take(pending);
                all.extend(unseen);
                *pending = exec.tidy(all);
            }
            if let Some(slot) = entered.get_mut(target) {
                *slot = joined;
            }
            if let Some(flag) = queued.get_mut(target) {
                if !*flag {
                    *flag = true;
                    queue.push(Reverse((order.get(target).copied().unwrap_or(usize::MAX), target)));
                }
            }
        }
    }
    Reach { entered, arrival, decided }
}

/// Whether a cube holds every request: no inequality, no domain that
/// leaves out a value of its variable's sort.
fn holds_everything(cube: &Cube, sorts: &dyn Sorts) -> bool {
    cube.lins.is_empty() && cube.doms.iter().all(|(var, dom)| sorts.holds_all(*var, dom))
}

/// Each node's position in a reverse postorder of the exits and returns
/// from `start` (a node not reached from it comes last).
fn reverse_postorder(workflow: &crate::ir::Workflow, start: usize) -> Vec<usize> {
    let count = workflow.nodes.len();
    let successors = |node: usize| -> Vec<usize> {
        workflow
            .nodes
            .get(node)
            .map_or_else(Vec::new, |n| n.exits.iter().chain(&n.returns).map(|exit| exit.target).collect())
    };
    let mut seen = vec![false; count];
    let mut postorder = Vec::with_capacity(count);
    // Depth first without recursion: each frame is a node and its successors still to try.
    let mut stack: Vec<(usize, std::vec::IntoIter<usize>)> = Vec::new();
    if let Some(flag) = seen.get_mut(start) {
        *flag = true;
        stack.push((start, successors(start).into_iter()));
    }
    while let Some((node, rest)) = stack.last_mut() {
        let node = *node;
        match rest.next() {
            Some(next) => {
                if let Some(flag) = seen.get_mut(next) {
                    if !*flag {
                        *flag = true;
                        stack.push((next, successors(next).into_iter()));
                    }
                }
            }
            None => {
                postorder.push(node);
                stack.pop();
            }
        }
    }
    let mut position = vec![usize::MAX; count];
    for (index, &node) in postorder.iter().rev().enumerate() {
        if let Some(slot) = position.get_mut(node) {
            *slot = index;
        }
    }
    position
}

/// The exits (or returns, `true`) a node's deadline takes, by index.
pub fn deadline_takes(node: &crate::ir::Node) -> Vec<(usize, bool)> {
    node.deadline
        .iter()
        .flat_map(|deadline| &deadline.rules)
        .filter_map(|rule| match &rule.action {
            crate::ir::DeadlineAction::Take { index, returns } => Some((*index, *returns)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::logic::testing::Pair;
    use crate::analysis::logic::{Dom, Intervals, Linear, VarId};

    #[test]
    fn a_cube_holds_everything_only_without_a_narrowing_or_an_inequality() {
        // The fixpoint skips a target whose requests hold everything: a wrong
        // "yes" here would lose requests, so every kind of narrowing must say no.
        assert!(holds_everything(&Cube::top(), &Pair));
        let mut cube = Cube::top();
        assert!(cube.restrict(0, &Dom::Num { null: true, set: Intervals::full() }, &Pair));
        assert!(cube.restrict(1, &Dom::fin(0b111), &Pair));
        assert!(holds_everything(&cube, &Pair), "every value of both sorts");
        let narrowed = |var: VarId, dom: Dom| {
            let mut cube = Cube::top();
            cube.restrict(var, &dom, &Pair);
            cube
        };
        assert!(!holds_everything(&narrowed(0, Dom::not_null()), &Pair), "the empty value left out");
        assert!(!holds_everything(&narrowed(0, Dom::Num { null: true, set: Intervals::at_least(0) }), &Pair));
        assert!(!holds_everything(&narrowed(1, Dom::fin(0b011)), &Pair), "a class left out");
        let mut related = Cube::top();
        assert!(related.lins.is_empty());
        related.lins.push(Linear { terms: vec![(0, 1), (2, -1)].into(), constant: 0 });
        assert!(!holds_everything(&related, &Pair), "an inequality between two variables");
    }
}
