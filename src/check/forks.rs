//! Forks and merges (docs/language.md §6.8): the shape of `fork { … }`
//! groups and merge nodes (E0130, E0131), a merge's `wait` (E0132), and the
//! branch graph worked out by `branches.rs` (E0133–E0137, E0139), and the
//! fields two branches of one fork might both write (E0138).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::branches::{self, BranchRef, Branches, Problem};
use super::forms::{FormInfo, Named};
use super::suggest;
use super::workflows::Kind;
use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{self, ExitKind, Node, SettingMode, Statement, WaitRule, WorkflowItem};

impl<'a> Checker<'a> {
    /// E0130 and E0131: what a fork group and a merge node may hold.
    pub(super) fn check_fork_shape(&self, module: usize, node: &Node, kind: Kind) {
        for (group, fork) in node.forks.iter().enumerate() {
            let exits: Vec<&ast::Exit> = node.exits.iter().filter(|exit| exit.fork == Some(group)).collect();
            if kind == Kind::Merge {
                self.report(
                    Diagnostic::new(
                        Code::E0130,
                        format!("merge node `{}` cannot fork", node.name.name),
                        self.at(module, fork.keyword),
                        "a fork on a merge node",
                    )
                    .with_help("a merge goes on as one request: give it one exit to a node that forks"),
                );
            } else if group > 0 {
                self.report(
                    Diagnostic::new(
                        Code::E0130,
                        format!("node `{}` has two `fork` groups", node.name.name),
                        self.at(module, fork.keyword),
                        "a second fork",
                    )
                    .with_secondary(
                        self.at(module, node.forks.first().map_or(fork.keyword, |first| first.keyword)),
                        "the first fork",
                    )
                    .with_help("put every branch in one `fork { … }` group"),
                );
            } else if exits.len() < 2 {
                self.report(
                    Diagnostic::new(
                        Code::E0130,
                        format!("the fork of node `{}` has {} exit", node.name.name, exits.len()),
                        self.at(module, fork.keyword),
                        "a fork needs two or more exits",
                    )
                    .with_help("write each branch as `exit NAME -> TARGET` inside the group, or use a plain `exit`"),
                );
            }
        }
        if let Some(first) = node.forks.first() {
            if let Some(other) = node.exits.iter().find(|exit| exit.kind == ExitKind::Exit && exit.fork.is_none()) {
                self.report(
                    Diagnostic::new(
                        Code::E0130,
                        format!("node `{}` forks, so it has no other exits", node.name.name),
                        self.at(module, other.name.span),
                        "an exit outside the fork",
                    )
                    .with_secondary(self.at(module, first.keyword), "the fork")
                    .with_help("a submit takes every branch of the fork whose condition holds; move this exit into the group or remove it"),
                );
            }
        }
        if kind == Kind::Merge {
            let offending = node
                .operators
                .first()
                .map(|operators| (operators.keyword, "operators"))
                .or_else(|| node.field_settings.first().map(|setting| (setting.span, "field settings")))
                .or_else(|| node.before.first().map(|block| (block.span, "actions")))
                .or_else(|| node.after.first().map(|block| (block.span, "actions")))
                // Nobody submits at a merge, so a rule there would never be checked.
                .or_else(|| node.validates.first().map(|validate| (validate.span, "validate rules")));
            if let Some((span, what)) = offending {
                self.report(
                    Diagnostic::new(
                        Code::E0131,
                        format!("merge node `{}` cannot have {what}", node.name.name),
                        self.at(module, span),
                        format!("{what} on a merge node"),
                    )
                    .with_secondary(self.at(module, node.name.span), "a merge node")
                    .with_help("nobody handles a merge: the system passes it when its `wait` is satisfied; put this on the node after it"),
                );
            }
        } else if kind != Kind::Unknown {
            if let Some(wait) = node.waits.first() {
                self.report(
                    Diagnostic::new(
                        Code::E0131,
                        format!("`wait` belongs to merge nodes, and `{}` is not one", node.name.name),
                        self.at(module, wait.keyword),
                        "a `wait` here",
                    )
                    .with_secondary(self.at(module, node.kind.span), "not a merge node")
                    .with_help("make the node `merge`, or remove the `wait`"),
                );
            }
        }
    }

    /// The branch graph, waits and field writes; returns the nodes whose
    /// missing way to an archive is E0134's (so E0106 does not repeat it).
    pub(super) fn check_forks(
        &self,
        module: usize,
        workflow: &'a WorkflowItem,
        kinds: &[Kind],
        form: Option<&FormInfo<'a>>,
    ) -> HashSet<usize> {
        let has_forks = workflow.nodes.iter().any(|node| !node.forks.is_empty());
        let has_merges = kinds.contains(&Kind::Merge);
        if !has_forks && !has_merges {
            return HashSet::new();
        }
        let found = branches::analyse(workflow);
        let view = BranchNames { workflow };
        for problem in &found.problems {
            self.report_branch_problem(module, &view, &found, problem);
        }
        for (index, node) in workflow.nodes.iter().enumerate() {
            if kinds.get(index) == Some(&Kind::Merge) {
                self.check_wait(module, &view, &found, index, node);
            }
            // Deadlines count from when the request enters a node; inside a branch the request
            // is in several places at once, and a merge is passed by the system.
            let in_branch = !found.path(index).is_empty();
            if let (Some(deadline), true) =
                (node.deadlines.first(), in_branch || kinds.get(index) == Some(&Kind::Merge))
            {
                let (what, help) = if kinds.get(index) == Some(&Kind::Merge) {
                    ("merge node", "nobody is pending at a merge: put the deadline on the node after it")
                } else {
                    (
                        "node inside a fork's branch",
                        "put the deadline on the forking node or on the node after the merge; deadlines inside \
                         branches are not supported yet",
                    )
                };
                self.report(
                    Diagnostic::new(
                        Code::E0803,
                        format!("`{}` is a {what}: it cannot have a deadline", node.name.name),
                        self.at(module, deadline.span),
                        "this deadline",
                    )
                    .with_help(help),
                );
            }
        }
        if let Some(form) = form {
            self.check_branch_writes(module, &view, &found, form);
        }
        found.stranded
    }

    fn report_branch_problem(&self, module: usize, view: &BranchNames<'_>, found: &Branches, problem: &Problem) {
        let node_name = |index: usize| view.node(index).map_or("", |node| node.name.name.as_str());
        let exit_at = |(node, position): (usize, usize)| view.node(node).and_then(|node| node.exits.get(position));
        let diagnostic = match problem {
            Problem::MergeOutsideFork { via, merge } => {
                let Some(exit) = exit_at(*via) else { return };
                Diagnostic::new(
                    Code::E0133,
                    format!(
                        "exit `{}` of `{}` leads to merge `{}` from outside every branch",
                        exit.name.name,
                        node_name(via.0),
                        node_name(*merge)
                    ),
                    self.at(module, exit.target.span),
                    "no branch to merge here",
                )
                .with_help("a merge ends the branches of one `fork { … }`: lead those branches to it, or make it an ordinary node")
            }
            Problem::BranchToArchive { branch, via } => {
                let Some(exit) = exit_at(*via) else { return };
                Diagnostic::new(
                    Code::E0135,
                    format!(
                        "branch `{}` of the fork at `{}` ends at archive node `{}` without its merge",
                        view.branch(*branch),
                        node_name(branch.fork),
                        exit.target.name
                    ),
                    self.at(module, exit.target.span),
                    "an archive inside a branch",
                )
                .with_help("lead every branch of a fork to one merge node; the request goes on from the merge as one")
            }
            Problem::DifferentMerges { fork, first, second } => {
                let (Some(first_exit), Some(second_exit)) = (exit_at(*first), exit_at(*second)) else { return };
                Diagnostic::new(
                    Code::E0135,
                    format!(
                        "the branches of the fork at `{}` end at two merges, `{}` and `{}`",
                        node_name(*fork),
                        first_exit.target.name,
                        second_exit.target.name
                    ),
                    self.at(module, second_exit.target.span),
                    "a second merge",
                )
                .with_secondary(self.at(module, first_exit.target.span), "the fork's merge")
                .with_help("every branch of a fork ends at the same merge node")
            }
            Problem::SharedMerge { merge, owner, other, nested, via } => {
                let Some(exit) = exit_at(*via) else { return };
                let merge_span = view.node(*merge).map_or(exit.target.span, |node| node.name.span);
                if *nested {
                    Diagnostic::new(
                        Code::E0136,
                        format!(
                            "nested forks merge in the wrong order: merge `{}` is reached by branches of the fork at `{}` and of the fork at `{}`, one nested in the other",
                            node_name(*merge),
                            node_name(*owner),
                            node_name(*other)
                        ),
                        self.at(module, exit.target.span),
                        "reaches the other fork's merge",
                    )
                    .with_secondary(self.at(module, merge_span), "the merge")
                    .with_help("the inner fork's branches meet at their own merge first; that merge then leads on within the outer branch to the outer merge")
                } else {
                    Diagnostic::new(
                        Code::E0135,
                        format!(
                            "merge `{}` already ends the fork at `{}`; the fork at `{}` needs a merge of its own",
                            node_name(*merge),
                            node_name(*owner),
                            node_name(*other)
                        ),
                        self.at(module, exit.target.span),
                        "another fork's merge",
                    )
                    .with_secondary(self.at(module, merge_span), "the merge")
                    .with_help("give each fork its own merge node")
                }
            }
            Problem::NeverArrives { branch, merge } => {
                let Some(exit) = view.fork_exit(*branch) else { return };
                let merge_span = view.node(*merge).map_or(exit.name.span, |node| node.name.span);
                Diagnostic::new(
                    Code::E0134,
                    format!(
                        "branch `{}` of the fork at `{}` never reaches its merge `{}`",
                        exit.name.name,
                        node_name(branch.fork),
                        node_name(*merge)
                    ),
                    self.at(module, exit.name.span),
                    "this branch never merges",
                )
                .with_secondary(self.at(module, merge_span), "the fork's merge")
                .with_help("give the branch's last node an exit to the merge")
            }
            Problem::TwoPlaces { node, first, second, via } => {
                let Some(exit) = exit_at(*via) else { return };
                let target = node_name(*node);
                let node_span = view.node(*node).map_or(exit.target.span, |node| node.name.span);
                let (message, label) = if second.starts_with(first) {
                    (
                        format!(
                            "exit `{}` leaves branch `{}` for `{target}`, which is outside it",
                            exit.name.name,
                            view.path(second.get(first.len()..).unwrap_or_default())
                        ),
                        "leaves the branch",
                    )
                } else if first.starts_with(second) {
                    (
                        format!(
                            "`{target}` belongs to branch `{}`, and exit `{}` reaches it from outside",
                            view.path(first.get(second.len()..).unwrap_or_default()),
                            exit.name.name
                        ),
                        "enters the branch from outside",
                    )
                } else {
                    (
                        format!(
                            "`{target}` belongs to two branches, `{}` and `{}`",
                            view.path(first),
                            view.path(second)
                        ),
                        "reached from another branch",
                    )
                };
                Diagnostic::new(Code::E0137, message, self.at(module, exit.target.span), label)
                    .with_secondary(self.at(module, node_span), "the node")
                    .with_help("each branch has nodes of its own and leaves only through its fork's merge; to send a request back, use a `return`")
            }
            Problem::ReturnAcross { via, to_merge } => {
                let Some(exit) = exit_at(*via) else { return };
                let message = if *to_merge {
                    format!("return `{}` leads to merge node `{}`", exit.name.name, exit.target.name)
                } else {
                    format!(
                        "return `{}` of `{}` goes into another branch (`{}`)",
                        exit.name.name,
                        node_name(via.0),
                        view.path(found.path(view.index(&exit.target.name).unwrap_or(usize::MAX)))
                    )
                };
                Diagnostic::new(Code::E0139, message, self.at(module, exit.target.span), "cannot return here")
                    .with_help("a return goes back within its branch, or to a node before the fork (which withdraws every branch of that fork)")
            }
        };
        self.report(diagnostic);
    }

    /// E0132: the `wait` of a merge node, against the branches of its fork.
    fn check_wait(&self, module: usize, view: &BranchNames<'_>, found: &Branches, index: usize, node: &Node) {
        for extra in node.waits.iter().skip(1) {
            self.report(
                Diagnostic::new(
                    Code::E0132,
                    format!("merge `{}` has two `wait` lines", node.name.name),
                    self.at(module, extra.keyword),
                    "a second `wait`",
                )
                .with_help("keep one: `wait all`, `wait N` or `wait A, B`"),
            );
        }
        let Some(wait) = node.waits.first() else { return };
        let Some(fork) = found.fork_of_merge(index) else { return };
        let branch_exits = view.fork_exits(fork);
        let fork_name = view.node(fork).map_or("", |node| node.name.name.as_str());
        match &wait.rule {
            WaitRule::All => {}
            WaitRule::Count(text, span) => {
                let count = text.parse::<u64>().ok().filter(|count| *count >= 1);
                let problem = match count {
                    None => Some(format!("`wait {text}` is not a whole number of branches from 1")),
                    Some(count) if count > branch_exits.len() as u64 => Some(format!(
                        "`wait {count}` counts more branches than the fork at `{fork_name}` has ({})",
                        branch_exits.len()
                    )),
                    Some(_) => None,
                };
                if let Some(message) = problem {
                    self.report(
                        Diagnostic::new(Code::E0132, message, self.at(module, *span), "not a count of branches")
                            .with_help("write `wait all`, or a number from 1 to the number of branches"),
                    );
                }
            }
            WaitRule::Branches(names) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for name in names {
                    if let Some(first) = seen.get(name.name.as_str()) {
                        self.report(
                            Diagnostic::new(
                                Code::E0132,
                                format!("`wait` names branch `{}` twice", name.name),
                                self.at(module, name.span),
                                "named again here",
                            )
                            .with_secondary(self.at(module, *first), "first named here"),
                        );
                        continue;
                    }
                    seen.insert(name.name.as_str(), name.span);
                    match branch_exits.iter().find(|exit| exit.name.name == name.name) {
                        Some(exit) => self.record(self.at(module, name.span), self.at(module, exit.name.span)),
                        None => {
                            let mut diagnostic = Diagnostic::new(
                                Code::E0132,
                                format!("the fork at `{fork_name}` has no branch `{}`", name.name),
                                self.at(module, name.span),
                                "not a branch of the fork",
                            );
                            let candidates = branch_exits.iter().map(|exit| exit.name.name.as_str());
                            diagnostic = match suggest::best(&name.name, candidates) {
                                Some(best) => diagnostic.with_replacement(best),
                                None => diagnostic.with_help(format!(
                                    "the branches are named by the fork's exits: {}",
                                    branch_exits
                                        .iter()
                                        .map(|exit| format!("`{}`", exit.name.name))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                )),
                            };
                            self.report(diagnostic);
                        }
                    }
                }
            }
        }
    }

    /// E0138: a field two branches of one fork may both write (editable or
    /// required at a node of each, or assigned in their blocks).
    fn check_branch_writes(&self, module: usize, view: &BranchNames<'_>, found: &Branches, form: &FormInfo<'a>) {
        let writes: Vec<Vec<(usize, Span)>> =
            view.workflow.nodes.iter().map(|node| self.fields_written(form, node)).collect();
        for (&fork, targets) in &found.fork_exits {
            // Per branch: each field it writes and where it first does.
            let mut per_branch: Vec<BTreeMap<usize, Span>> = vec![BTreeMap::new(); targets.len()];
            for (node, path) in found.paths.iter().enumerate() {
                let Some(branch) = path.iter().flatten().find(|step| step.fork == fork) else { continue };
                let Some(fields) = per_branch.get_mut(branch.branch) else { continue };
                for &(field, span) in writes.get(node).into_iter().flatten() {
                    fields.entry(field).or_insert(span);
                }
            }
            let mut reported: HashSet<usize> = HashSet::new();
            for (later, later_fields) in per_branch.iter().enumerate() {
                for (&field, &span) in later_fields {
                    let earlier = per_branch
                        .iter()
                        .enumerate()
                        .take(later)
                        .find_map(|(branch, fields)| fields.get(&field).map(|first| (branch, *first)));
                    let Some((earlier, first)) = earlier else { continue };
                    if !reported.insert(field) {
                        continue;
                    }
                    let name = form.fields.get(field).map_or("", |field| field.decl.name.name.as_str());
                    let branch_name = |branch: usize| view.branch(BranchRef { fork, branch });
                    self.report(
                        Diagnostic::new(
                            Code::E0138,
                            format!(
                                "branches `{}` and `{}` of the fork at `{}` may both write `{name}`",
                                branch_name(earlier),
                                branch_name(later),
                                view.node(fork).map_or("", |node| node.name.name.as_str())
                            ),
                            self.at(module, span),
                            format!("written in branch `{}`", branch_name(later)),
                        )
                        .with_secondary(self.at(module, first), format!("written in branch `{}`", branch_name(earlier)))
                        .with_help("branches run side by side: give each field to one branch, or write it before the fork or after the merge"),
                    );
                }
            }
        }
    }

    /// The fields a node lets its operators write or its blocks assign, with
    /// where; names are resolved quietly (their mistakes are reported elsewhere).
    fn fields_written(&self, form: &FormInfo<'a>, node: &Node) -> Vec<(usize, Span)> {
        let mut out = Vec::new();
        for setting in &node.field_settings {
            if setting.mode == SettingMode::Hidden {
                continue;
            }
            for path in &setting.fields {
                for field in quiet_fields(form, path) {
                    out.push((field, path.span));
                }
            }
        }
        let blocks =
            node.before.iter().chain(&node.after).chain(
                node.exits.iter().filter(|exit| exit.kind == ExitKind::Exit).filter_map(|exit| exit.block.as_ref()),
            );
        for block in blocks {
            assigned_fields(form, block, &mut out);
        }
        out
    }
}

/// The fields a setting path names, without diagnostics; computed and
/// display-only columns of a whole table are left out (nobody writes them).
fn quiet_fields(form: &FormInfo<'_>, path: &ast::FieldPath) -> Vec<usize> {
    let Some(first) = path.segments.first() else { return Vec::new() };
    match (form.names.get(first.name.as_str()), path.segments.get(1)) {
        (Some(Named::Field(index)), None) => vec![*index],
        (Some(Named::Detail(detail)), None) => form
            .details
            .get(*detail)
            .map(|info| {
                info.fields
                    .iter()
                    .copied()
                    .filter(|&index| {
                        form.fields.get(index).is_some_and(|field| !field.is_computed() && !field.is_display_only())
                    })
                    .collect()
            })
            .unwrap_or_default(),
        (Some(Named::Detail(detail)), Some(column)) => form
            .details
            .get(*detail)
            .into_iter()
            .flat_map(|info| info.fields.iter().copied())
            .filter(|&index| form.fields.get(index).is_some_and(|field| field.decl.name.name == column.name))
            .collect(),
        _ => Vec::new(),
    }
}

fn assigned_fields(form: &FormInfo<'_>, block: &ast::Block, out: &mut Vec<(usize, Span)>) {
    for statement in &block.statements {
        match statement {
            Statement::Assign { target, .. } => {
                if let (Some(first), 1) = (target.segments.first(), target.segments.len()) {
                    if let Some(Named::Field(index)) = form.names.get(first.name.as_str()) {
                        out.push((*index, target.span));
                    }
                }
            }
            Statement::If { branches, else_block, .. } => {
                for (_, inner) in branches {
                    assigned_fields(form, inner, out);
                }
                if let Some(inner) = else_block {
                    assigned_fields(form, inner, out);
                }
            }
            Statement::Script { .. } => {}
        }
    }
}

/// Names of nodes and branches, for messages.
struct BranchNames<'w> {
    workflow: &'w WorkflowItem,
}

impl<'w> BranchNames<'w> {
    fn node(&self, index: usize) -> Option<&'w Node> {
        self.workflow.nodes.get(index)
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.workflow.nodes.iter().position(|node| node.name.name == name)
    }

    /// The exits of the fork at node `fork`, by branch.
    fn fork_exits(&self, fork: usize) -> Vec<&'w ast::Exit> {
        self.node(fork).map(|node| node.exits.iter().filter(|exit| exit.fork.is_some()).collect()).unwrap_or_default()
    }

    fn fork_exit(&self, branch: BranchRef) -> Option<&'w ast::Exit> {
        self.fork_exits(branch.fork).get(branch.branch).copied()
    }

    fn branch(&self, branch: BranchRef) -> &'w str {
        self.fork_exit(branch).map_or("", |exit| exit.name.name.as_str())
    }

    /// `物流` or, nested, `物流/干线`.
    fn path(&self, path: &[BranchRef]) -> String {
        path.iter().map(|step| self.branch(*step)).collect::<Vec<_>>().join("/")
    }
}
