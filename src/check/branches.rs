//! The branches of a workflow's forks (docs/language.md §6.8), worked out
//! from the node graph alone: the branch each node belongs to (its path of
//! branches, outermost first), the merge that ends each fork, and every way
//! a graph breaks those rules. The checker turns the problems into
//! diagnostics (`forks.rs`); the IR lowering reads the paths of a program
//! that checked clean. Both call [`analyse`], so they cannot disagree.
//!
//! The walk is breadth-first from the create node along exits (returns go
//! back to nodes already placed). A fork exit adds its branch to the path;
//! an exit to a merge node is the arrival of the innermost branch, and the
//! merge itself stands outside that fork. The first path found for a node
//! is its path; any other is a problem.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use crate::syntax::ast::{ExitKind, WorkflowItem};

/// One branch of one fork: the fork node and the position of the branch's
/// exit among the node's fork exits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BranchRef {
    pub fork: usize,
    pub branch: usize,
}

/// The branches a node is in, outermost first; empty outside every fork.
pub type BranchPath = Vec<BranchRef>;

/// An exit, as (node, position in that node's written `exits`).
pub type ExitAt = (usize, usize);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// An exit to a merge node from a node that is in no branch.
    MergeOutsideFork { via: ExitAt, merge: usize },
    /// An exit inside a branch leads to an archive node.
    BranchToArchive { branch: BranchRef, via: ExitAt },
    /// The branches of one fork reach two merges: `first` is how the fork's
    /// merge was reached, `second` the other one.
    DifferentMerges { fork: usize, first: ExitAt, second: ExitAt },
    /// A merge is reached by branches of two forks (`owner` reached it first).
    SharedMerge { merge: usize, owner: usize, other: usize, nested: bool, via: ExitAt },
    /// A branch of `fork` never reaches `merge`.
    NeverArrives { branch: BranchRef, merge: usize },
    /// A node reached on two different branch paths (`second` through `via`).
    TwoPlaces { node: usize, first: BranchPath, second: BranchPath, via: ExitAt },
    /// A return into another branch, or to a merge node.
    ReturnAcross { via: ExitAt, to_merge: bool },
}

/// What [`analyse`] found.
#[derive(Debug, Clone, Default)]
pub struct Branches {
    /// Per node (in written order): its branch path; `None` when no exit reaches it.
    pub paths: Vec<Option<BranchPath>>,
    /// Per fork node: its merge node.
    pub merge_of: BTreeMap<usize, usize>,
    /// Per fork node: the targets of its fork exits, by branch.
    pub fork_exits: BTreeMap<usize, Vec<usize>>,
    /// Nodes inside a branch that never reaches its merge (their problem is that one).
    pub stranded: HashSet<usize>,
    pub problems: Vec<Problem>,
}

impl Branches {
    /// The branch path of `node` (empty when it is in no branch or unreached).
    pub fn path(&self, node: usize) -> &[BranchRef] {
        self.paths.get(node).and_then(Option::as_deref).unwrap_or(&[])
    }

    /// The fork that owns `merge`, if any.
    pub fn fork_of_merge(&self, merge: usize) -> Option<usize> {
        self.merge_of.iter().find(|(_, &owned)| owned == merge).map(|(&fork, _)| fork)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Merge,
    Archive,
    Other,
}

struct Edge {
    target: usize,
    /// The branch number when this exit is one of a fork group.
    branch: Option<usize>,
    kind: ExitKind,
}

/// The branches of `workflow`. Nodes are numbered in written order; a name
/// declared twice, or an exit to an unknown node, is left out (the checker
/// reports those).
pub fn analyse(workflow: &WorkflowItem) -> Branches {
    let mut by_name: HashMap<&str, usize> = HashMap::new();
    for (index, node) in workflow.nodes.iter().enumerate() {
        by_name.entry(node.name.name.as_str()).or_insert(index);
    }
    let shapes: Vec<Shape> = workflow
        .nodes
        .iter()
        .map(|node| match node.kind.name.as_str() {
            "merge" => Shape::Merge,
            "archive" => Shape::Archive,
            _ => Shape::Other,
        })
        .collect();
    let edges: Vec<Vec<Option<Edge>>> = workflow
        .nodes
        .iter()
        .map(|node| {
            // A group of fewer than two exits is no fork (E0130): its exits are plain ones.
            let forks = node.exits.iter().filter(|exit| exit.fork.is_some()).count() >= 2;
            let mut next_branch = 0;
            node.exits
                .iter()
                .map(|exit| {
                    let branch = exit.fork.filter(|_| forks).map(|_| {
                        next_branch += 1;
                        next_branch - 1
                    });
                    by_name.get(exit.target.name.as_str()).map(|&target| Edge { target, branch, kind: exit.kind })
                })
                .collect()
        })
        .collect();
    let create = workflow.nodes.iter().position(|node| node.kind.name == "create");
    walk(&shapes, &edges, create)
}

struct Arrival {
    branch: BranchRef,
    merge: usize,
    via: ExitAt,
}

fn walk(shapes: &[Shape], edges: &[Vec<Option<Edge>>], create: Option<usize>) -> Branches {
    let count = shapes.len();
    let mut found = Branches { paths: vec![None; count], ..Branches::default() };
    let mut raw: Vec<(usize, Problem)> = Vec::new();
    let mut arrivals: Vec<Arrival> = Vec::new();
    let mut queue = VecDeque::new();
    if let Some(create) = create {
        if let Some(slot) = found.paths.get_mut(create) {
            *slot = Some(Vec::new());
            queue.push_back(create);
        }
    }
    let mut reported_twice: HashSet<usize> = HashSet::new();
    while let Some(node) = queue.pop_front() {
        let path = found.paths.get(node).cloned().flatten().unwrap_or_default();
        for (position, edge) in edges.get(node).into_iter().flatten().enumerate() {
            let Some(edge) = edge else { continue };
            if edge.kind == ExitKind::Return {
                continue;
            }
            let via = (node, position);
            let mut child = path.clone();
            if let Some(branch) = edge.branch {
                child.push(BranchRef { fork: node, branch });
                found.fork_exits.entry(node).or_default().push(edge.target);
            }
            let target_path = match shapes.get(edge.target) {
                Some(Shape::Merge) => match child.split_last() {
                    Some((innermost, outer)) => {
                        arrivals.push(Arrival { branch: *innermost, merge: edge.target, via });
                        outer.to_vec()
                    }
                    None => {
                        raw.push((node, Problem::MergeOutsideFork { via, merge: edge.target }));
                        continue;
                    }
                },
                Some(Shape::Archive) => {
                    if let Some(innermost) = child.last() {
                        raw.push((node, Problem::BranchToArchive { branch: *innermost, via }));
                        continue;
                    }
                    child
                }
                _ => child,
            };
            match found.paths.get(edge.target).cloned().flatten() {
                None => {
                    if let Some(slot) = found.paths.get_mut(edge.target) {
                        *slot = Some(target_path);
                        queue.push_back(edge.target);
                    }
                }
                Some(first) if first != target_path => {
                    // A merge placed twice is a shared merge, judged from the arrivals below.
                    if shapes.get(edge.target) != Some(&Shape::Merge) && reported_twice.insert(edge.target) {
                        raw.push((node, Problem::TwoPlaces { node: edge.target, first, second: target_path, via }));
                    }
                }
                Some(_) => {}
            }
        }
    }

    // Each merge belongs to the first fork that reached it; each fork to its first merge.
    let mut owner_of: HashMap<usize, (usize, ExitAt)> = HashMap::new();
    let mut troubled_forks: HashSet<usize> = HashSet::new();
    let mut troubled_merges: HashSet<usize> = HashSet::new();
    let mut first_merge: HashMap<usize, (usize, ExitAt)> = HashMap::new();
    let mut reported_pairs: HashSet<(usize, usize)> = HashSet::new();
    for arrival in &arrivals {
        let fork = arrival.branch.fork;
        let owner = *owner_of.entry(arrival.merge).or_insert((fork, arrival.via));
        if owner.0 != fork {
            troubled_forks.insert(fork);
            troubled_forks.insert(owner.0);
            troubled_merges.insert(arrival.merge);
            if reported_pairs.insert((arrival.merge, fork)) {
                let nested = found.path(fork).iter().any(|step| step.fork == owner.0)
                    || found.path(owner.0).iter().any(|step| step.fork == fork);
                raw.push((
                    arrival.via.0,
                    Problem::SharedMerge {
                        merge: arrival.merge,
                        owner: owner.0,
                        other: fork,
                        nested,
                        via: arrival.via,
                    },
                ));
            }
            continue;
        }
        let first = *first_merge.entry(fork).or_insert((arrival.merge, arrival.via));
        if first.0 != arrival.merge {
            troubled_forks.insert(fork);
            if reported_pairs.insert((arrival.merge, fork)) {
                raw.push((arrival.via.0, Problem::DifferentMerges { fork, first: first.1, second: arrival.via }));
            }
        }
    }
    for (_, problem) in &raw {
        if let Problem::BranchToArchive { branch, .. } = problem {
            troubled_forks.insert(branch.fork);
        }
    }
    for (&fork, &(merge, _)) in &first_merge {
        if owner_of.get(&merge).is_some_and(|(owner, _)| *owner == fork) {
            found.merge_of.insert(fork, merge);
        }
    }

    // Branches that never arrive.
    let arrived: HashSet<BranchRef> = arrivals.iter().map(|arrival| arrival.branch).collect();
    // A branch that leaks into another place has that problem already.
    let leaky: HashSet<BranchRef> = raw
        .iter()
        .filter_map(|(_, problem)| match problem {
            Problem::TwoPlaces { second, via, .. } => Some(second.iter().chain(found.path(via.0)).copied()),
            _ => None,
        })
        .flatten()
        .collect();
    for (&fork, targets) in &found.fork_exits {
        if troubled_forks.contains(&fork) {
            continue;
        }
        let Some(&merge) = found.merge_of.get(&fork) else { continue };
        for branch in 0..targets.len() {
            let branch = BranchRef { fork, branch };
            if arrived.contains(&branch) || leaky.contains(&branch) {
                continue;
            }
            raw.push((fork, Problem::NeverArrives { branch, merge }));
            for (node, path) in found.paths.iter().enumerate() {
                if path.as_ref().is_some_and(|path| path.contains(&branch)) {
                    found.stranded.insert(node);
                }
            }
        }
    }

    // Returns stay in their branch or go back past a fork.
    for (node, node_edges) in edges.iter().enumerate() {
        let Some(from) = found.paths.get(node).cloned().flatten() else { continue };
        for (position, edge) in node_edges.iter().enumerate() {
            let Some(edge) = edge else { continue };
            if edge.kind != ExitKind::Return {
                continue;
            }
            let to_merge = shapes.get(edge.target) == Some(&Shape::Merge);
            let to = found.path(edge.target);
            if to_merge || !from.starts_with(to) {
                raw.push((node, Problem::ReturnAcross { via: (node, position), to_merge }));
            }
        }
    }

    // An exit out of a merge already in trouble repeats that trouble.
    found.problems = raw
        .into_iter()
        .filter(|(source, problem)| {
            !(troubled_merges.contains(source) && matches!(problem, Problem::MergeOutsideFork { .. }))
        })
        .map(|(_, problem)| problem)
        .collect();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit(target: usize) -> Option<Edge> {
        Some(Edge { target, branch: None, kind: ExitKind::Exit })
    }
    fn fork(target: usize, branch: usize) -> Option<Edge> {
        Some(Edge { target, branch: Some(branch), kind: ExitKind::Exit })
    }
    fn back(target: usize) -> Option<Edge> {
        Some(Edge { target, branch: None, kind: ExitKind::Return })
    }

    #[test]
    fn a_fork_and_its_merge() {
        // 0 create ⇉ 1, 2 → 3 merge → 4 archive; 2 returns to 0 (past the fork).
        let shapes = [Shape::Other, Shape::Other, Shape::Other, Shape::Merge, Shape::Archive];
        let edges = vec![vec![fork(1, 0), fork(2, 1)], vec![exit(3)], vec![exit(3), back(0)], vec![exit(4)], vec![]];
        let found = walk(&shapes, &edges, Some(0));
        assert_eq!(found.problems, vec![]);
        assert_eq!(found.path(1), &[BranchRef { fork: 0, branch: 0 }]);
        assert_eq!(found.path(2), &[BranchRef { fork: 0, branch: 1 }]);
        assert_eq!(found.path(3), &[] as &[BranchRef]);
        assert_eq!(found.merge_of.get(&0), Some(&3));
    }

    #[test]
    fn a_node_in_two_branches_and_a_branch_that_never_arrives() {
        // 0 ⇉ 1, 2; both lead to 3, which goes to merge 4.
        let shapes = [Shape::Other, Shape::Other, Shape::Other, Shape::Other, Shape::Merge, Shape::Archive];
        let edges =
            vec![vec![fork(1, 0), fork(2, 1)], vec![exit(3)], vec![exit(3)], vec![exit(4)], vec![exit(5)], vec![]];
        let found = walk(&shapes, &edges, Some(0));
        assert!(matches!(found.problems.as_slice(), [Problem::TwoPlaces { node: 3, .. }]), "{:?}", found.problems);
    }
}
