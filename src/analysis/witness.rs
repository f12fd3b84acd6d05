//! Finding a concrete request for a finding: a path from the create node
//! to the node in question, explored breadth first in `Mode::Version`, so
//! that a solution of the path's cubes says what the creator filled in and
//! what each operator set at each step. The caller turns a solution into a
//! trace and replays it through the runtime; only a replayed trace is
//! reported as a counterexample.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::exec::{Exec, Mode, Prepared, State, Sym};
use super::logic::{Dom, Formula, Intervals};
use super::model::Model;
use super::solve::{solve, Model as Solution, Outcome};
use crate::ir::NodeKind;
use crate::runtime::values::dates::Date;

/// Bounds on the search, so a finding costs a bounded time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub depth: usize,
    pub expansions: usize,
    /// Cubes kept per path state.
    pub width: usize,
    /// Solutions tried at the goal.
    pub tries: usize,
    /// Ask the question when the request arrives at the goal (before its
    /// submit's checks), not when its exits are tried.
    pub at_arrival: bool,
    /// Ask it when the request enters the goal (its operators are resolved
    /// then): the last step of the path is the submit that leads there.
    pub at_entry: bool,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { depth: 64, expansions: 160, width: 48, tries: 24, at_arrival: false, at_entry: false }
    }
}

/// Searches paths to `goal` on which, at the moment its exits are tried,
/// `query` (over canonical variables) can hold; calls `accept` with each
/// solution until it returns `Some`.
pub fn search<T>(
    model: &mut Model<'_>,
    prepared: &Prepared,
    goal: usize,
    query: &Formula,
    limits: Limits,
    accept: &mut dyn FnMut(&Model<'_>, &Sym, &Solution) -> Option<T>,
) -> Option<T> {
    // The workflow's budget spent: no example, and nothing built to find none.
    if prepared.examples_spent() {
        prepared.note_cut_short(goal);
        return None;
    }
    let mut exec = Exec { model, prepared, mode: Mode::Version, cube_cap: limits.width };
    let mut start = exec.start();
    // A witness reads best with dates this year; any day would do.
    if let Some(today) = prepared.today {
        let (first, last) = (Date::from_ymd(2026, 1, 1), Date::from_ymd(2026, 12, 31));
        if let (Some(first), Some(last)) = (first, last) {
            let year = Dom::Num { null: false, set: Intervals::range(Some(first.0.into()), Some(last.0.into())) };
            start = exec.assume(start, &Formula::dom(today, year));
        }
    }
    // How many steps each node is from the goal: the search goes towards it
    // first, and never where the goal cannot be reached from.
    let distance = distances_to(exec.model.workflow, goal);
    let create = exec.model.workflow.create;
    distance.get(create).copied().flatten()?;
    // (distance to the goal, depth, order) → (node, state, depth, at entry: before the node's writes)
    let mut queue: BinaryHeap<Reverse<(usize, usize, usize)>> = BinaryHeap::new();
    let mut states: Vec<Option<(usize, State, usize, bool)>> = Vec::new();
    let push = |queue: &mut BinaryHeap<Reverse<(usize, usize, usize)>>,
                states: &mut Vec<Option<(usize, State, usize, bool)>>,
                item: (usize, State, usize, bool)| {
        let Some(Some(away)) = distance.get(item.0).copied() else { return };
        queue.push(Reverse((away, item.2, states.len())));
        states.push(Some(item));
    };
    push(&mut queue, &mut states, (create, start, 0usize, false));
    let mut expansions = 0usize;
    let mut tries = 0usize;
    while let Some(Reverse((_, _, slot))) = queue.pop() {
        let Some((node, state, depth, at_entry)) = states.get_mut(slot).and_then(Option::take) else { continue };
        if state.is_empty() {
            continue;
        }
        // The workflow's budget for examples: a step costs what its cubes
        // hold, times the rules its submit could assume over them (it
        // assumes only those reading a value changed since, so this
        // overcharges, and keeps which findings get examples as it was).
        // Spent, the search stops (no example; never a wrong one).
        let rules = prepared.validates.len() + prepared.aggregate_parts.len() + 1;
        let entries: usize = state.iter().map(|sym| sym.cube.doms.len() + sym.cube.lins.len() + 1).sum();
        let cost = entries.saturating_mul(rules);
        if !prepared.spend_search_work(goal, cost) {
            return None;
        }
        let mut check = |base: State, exec: &mut Exec<'_, '_>| -> Option<Option<T>> {
            let at_goal = exec.assume(base, query);
            for sym in &at_goal {
                if tries >= limits.tries {
                    return Some(None);
                }
                tries += 1;
                if let Outcome::Sat(solution) = solve(&sym.cube, exec.model) {
                    // A replay runs the request through the runtime, which
                    // copies the whole form at every action: charged as such.
                    let fields = exec.model.form.fields.len() + 1;
                    let replay_cost = fields.saturating_mul(sym.steps().len() + 1).saturating_mul(REPLAY_WORK);
                    if !prepared.spend_search_work(goal, replay_cost) {
                        return Some(None);
                    }
                    if let Some(found) = accept(exec.model, sym, &solution) {
                        return Some(Some(found));
                    }
                }
            }
            None
        };
        if at_entry && node == goal && limits.at_entry {
            if let Some(answer) = check(state.clone(), &mut exec) {
                return answer;
            }
        }
        let arrived = if at_entry { exec.open_step(state, node) } else { state };
        let decided = exec.decide(arrived.clone(), node);
        if node == goal && !limits.at_entry {
            let base = if limits.at_arrival { arrived.clone() } else { decided.clone() };
            if let Some(answer) = check(base, &mut exec) {
                return answer;
            }
        }
        if depth >= limits.depth || expansions >= limits.expansions {
            continue;
        }
        expansions += 1;
        let Some(ir_node) = exec.model.workflow.nodes.get(node) else { continue };
        let (exits, returns) = (ir_node.exits.len(), ir_node.returns.len());
        for index in 0..exits {
            let (target, mut next) = exec.take_exit(&decided, node, index);
            if exec.model.workflow.nodes.get(target).is_none_or(|n| n.kind == NodeKind::Archive) {
                continue;
            }
            next.truncate(limits.width);
            if !next.is_empty() {
                push(&mut queue, &mut states, (target, next, depth + 1, true));
            }
        }
        for index in 0..returns {
            let (target, mut next) = exec.take_return(&arrived, node, index);
            next.truncate(limits.width);
            if !next.is_empty() {
                push(&mut queue, &mut states, (target, next, depth + 1, true));
            }
        }
    }
    None
}

/// What replaying one action of a trace costs, per field of the form, in
/// the budget's units (a search step's cube entry times a rule): measured on
/// the generated benchmark workflow (benches/README.md), where one action of
/// a replay took as long as about 150 such units per field.
const REPLAY_WORK: usize = 150;

/// Steps from each node to `goal` along exits and returns (`None`: it cannot get there).
fn distances_to(workflow: &crate::ir::Workflow, goal: usize) -> Vec<Option<usize>> {
    let count = workflow.nodes.len();
    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (index, node) in workflow.nodes.iter().enumerate() {
        for target in node.exits.iter().chain(&node.returns).map(|exit| exit.target) {
            if let Some(list) = predecessors.get_mut(target) {
                list.push(index);
            }
        }
    }
    let mut distance = vec![None; count];
    let mut queue = VecDeque::from([goal]);
    if let Some(slot) = distance.get_mut(goal) {
        *slot = Some(0);
    }
    while let Some(node) = queue.pop_front() {
        let here = distance.get(node).copied().flatten().unwrap_or(0);
        for &previous in predecessors.get(node).into_iter().flatten() {
            if let Some(slot) = distance.get_mut(previous) {
                if slot.is_none() {
                    *slot = Some(here + 1);
                    queue.push_back(previous);
                }
            }
        }
    }
    distance
}
