//! The semantic diff (`flowc diff`): which requests route differently
//! between two versions of a program. No new solver: both versions are
//! analysed as `flowc routes` analyses one, the old version's conditions
//! are carried over onto the new version's variables (fields matched by
//! name; both versions know the literals either compares with, so their
//! classes line up exactly), and a difference is a region over the pair —
//! the requests that reach a node in both versions for which the old
//! version takes one way out and the new version another. Each difference
//! is shown by a request that the runtime has run through both versions;
//! one that depends on what the analysis does not decide (a function, a
//! directory lookup) is said to *may differ*, with the reason.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::exec::{Exec, Mode, Prepared, Sym};
use super::findings::Context;
use super::logic::{dnf, Cube, Dom, Formula, Intervals, Linear, Lit, VarId};
use super::model::{Class, Key, Model};
use super::reach::fixpoint;
use super::regions::{describe, Region};
use super::replay::{build_trace, display_of, distinguishing_directory, everyone, replay, Replayed, Trace};
use super::solve::{solve, Model as Solution, Outcome as SolveOutcome};
use super::witness::{search, Limits};
use crate::check::Analysis;
use crate::diag::Code;
use crate::ir::Program;
use crate::org::MemoryDirectory;
use crate::runtime::compiled::Compiled;

/// Everything that routes differently, workflow by workflow.
#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub workflows: Vec<WorkflowDiff>,
}

impl Diff {
    /// Whether any request may route differently (or a workflow, node or exit was added or removed).
    pub fn changed(&self) -> bool {
        self.workflows.iter().any(|workflow| workflow.status != Status::Same)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Same,
    Added,
    Removed,
    Changed,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowDiff {
    pub name: String,
    pub status: Status,
    /// Nodes added, removed or routing differently (unchanged nodes are left out).
    pub nodes: Vec<NodeDiff>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeDiff {
    pub name: String,
    pub status: Status,
    /// Exits to a node the other version's node has no exit to.
    pub exits_added: Vec<ExitRef>,
    pub exits_removed: Vec<ExitRef>,
    pub differences: Vec<Difference>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExitRef {
    pub name: String,
    pub target: String,
}

/// What a request does at the node in one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Takes exit `name` into `target`.
    Exit { name: String, target: String },
    /// Matches no exit: its submit is refused (R0201).
    NoExit,
    /// Enters the node with these operators (the lines that count, as written).
    Operators { lines: Vec<String> },
    /// The analysis cannot compare the versions here (`reason` says why).
    Undecided,
}

/// Requests that route differently at one node.
#[derive(Debug, Clone, Serialize)]
pub struct Difference {
    /// `exit` (which way out) or `operators` (who handles the node).
    pub kind: &'static str,
    pub old: Outcome,
    pub new: Outcome,
    /// The requests concerned, over the fields the node's conditions read.
    pub region: Region,
    /// False when the analysis cannot tell whether any request really
    /// routes differently ("may differ"); `reason` says why.
    pub certain: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A request, run through both versions by the runtime, that shows the difference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<DiffExample>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DiffExample {
    /// The values the difference is about, as an analyst reads them.
    pub values: Vec<(String, String)>,
    /// How to build the request (the creator is named when the directory decides).
    pub trace: Trace,
}

/// One version of a program, compiled, for the diff.
struct Version<'a> {
    analysis: &'a Analysis,
    compiled: Compiled,
    texts: Vec<Arc<str>>,
}

impl<'a> Version<'a> {
    fn new(analysis: &'a Analysis) -> Option<Version<'a>> {
        if analysis.error_count() > 0 {
            return None;
        }
        // Replays never run a script: a path through one is not replayed.
        let compiled = Compiled::new(analysis, &|_| Ok(String::new())).ok()?;
        let texts = analysis.sources.files().map(|(_, file)| file.text.clone()).collect();
        Some(Version { analysis, compiled, texts })
    }
}

/// The requests that route differently from `old` to `new` (both checked
/// without errors; `None` otherwise). With `org`, examples are run against
/// that directory and operators are compared for its people.
pub fn diff(old: &Analysis, new: &Analysis, org: Option<&MemoryDirectory>) -> Option<Diff> {
    diff_with(old, new, &super::Options { org, ..Default::default() })
}

/// As `diff`, with the analysis's options: the directory, and the budget
/// of the searches for example requests (`--thorough`).
pub fn diff_with(old: &Analysis, new: &Analysis, options: &super::Options<'_>) -> Option<Diff> {
    let org = options.org;
    let search_work = options.search_work();
    let old = Version::new(old)?;
    let new = Version::new(new)?;
    // Without a directory, one in which every line finds someone and lines
    // naming other roles name other people.
    let universal = distinguishing_directory(&merged(&old.compiled.program, &new.compiled.program))?;
    let directory: &MemoryDirectory = org.unwrap_or(&universal);
    let mut workflows = Vec::new();
    for old_workflow in &old.compiled.program.workflows {
        if !new.compiled.program.workflows.iter().any(|workflow| workflow.name == old_workflow.name) {
            workflows.push(WorkflowDiff {
                name: old_workflow.name.clone(),
                status: Status::Removed,
                nodes: Vec::new(),
            });
        }
    }
    for (new_index, new_workflow) in new.compiled.program.workflows.iter().enumerate() {
        let Some(old_index) =
            old.compiled.program.workflows.iter().position(|workflow| workflow.name == new_workflow.name)
        else {
            workflows.push(WorkflowDiff { name: new_workflow.name.clone(), status: Status::Added, nodes: Vec::new() });
            continue;
        };
        let nodes = workflow_diff(&old, old_index, &new, new_index, directory, org.is_some(), search_work)?;
        let status = if nodes.is_empty() { Status::Same } else { Status::Changed };
        workflows.push(WorkflowDiff { name: new_workflow.name.clone(), status, nodes });
    }
    Some(Diff { workflows })
}

/// A program holding both versions' workflows, functions and constants:
/// the universal directory must serve the operators of both.
fn merged(old: &Program, new: &Program) -> Program {
    let mut both = new.clone();
    both.workflows.extend(old.workflows.iter().cloned());
    both.functions.extend(old.functions.iter().cloned());
    both.constants.extend(old.constants.iter().cloned());
    both
}

fn context<'a, 'p>(
    version: &'a Version<'_>,
    program: &'p Program,
    workflow_index: usize,
    extra: &HashMap<String, Vec<String>>,
    texts: &'p [Arc<str>],
    prepare: &dyn Fn(&mut Model<'p>),
) -> Option<Context<'a, 'p>> {
    let workflow = program.workflows.get(workflow_index)?;
    let mut model = Model::new(program, workflow, texts)?;
    model.add_literals(extra);
    prepare(&mut model);
    let prepared = Prepared::new(&mut model);
    let reach = {
        let mut exec = Exec { model: &mut model, prepared: &prepared, mode: Mode::Project, cube_cap: 16 };
        fixpoint(&mut exec)
    };
    Some(Context {
        analysis: version.analysis,
        workflow_index,
        model,
        prepared,
        reach,
        compiled: super::findings::CompiledRef::Built(&version.compiled),
        directory: super::findings::DirectoryRef::None,
        taken_cache: Default::default(),
    })
}

fn workflow_diff(
    old: &Version<'_>,
    old_index: usize,
    new: &Version<'_>,
    new_index: usize,
    directory: &MemoryDirectory,
    with_org: bool,
    search_work: usize,
) -> Option<Vec<NodeDiff>> {
    let (old_program, new_program) = (&old.compiled.program, &new.compiled.program);
    // Each version learns the other's literals, so a class means the same values in both.
    let mut literals = {
        let workflow = old_program.workflows.get(old_index)?;
        Model::new(old_program, workflow, &old.texts)?.literals_by_name()
    };
    {
        let workflow = new_program.workflows.get(new_index)?;
        for (field, more) in Model::new(new_program, workflow, &new.texts)?.literals_by_name() {
            let list = literals.entry(field).or_default();
            for literal in more {
                if !list.contains(&literal) {
                    list.push(literal);
                }
            }
        }
    }
    let mut old_context = context(old, old_program, old_index, &literals, &old.texts, &|_| {})?;
    // The old version's variables exist in the new one before its steps
    // are prepared, so the path search writes them like any other.
    let old_model = &old_context.model;
    let mut new_context = context(new, new_program, new_index, &literals, &new.texts, &|model| {
        // In the order of their keys: the new model's variables are made in
        // this order, which must not depend on the order the old one met them.
        let mut carried = old_model.canonical_vars();
        carried.sort();
        for (key, var) in carried {
            // Unknowns are matched by text once both are made (an unknown of
            // the new version's own is made while its steps are prepared).
            if !matches!(key, Key::Unknown(_)) {
                let _ = carry_var(&[], old_model, model, var);
            }
        }
    })?;
    // The searches for examples run in the new version's terms, on its budget.
    new_context.prepared.set_search_work(search_work);
    let old_workflow = old_program.workflows.get(old_index)?;
    let new_workflow = new_program.workflows.get(new_index)?;
    let creators = everyone(directory);
    let changed = changed_definitions(&old_context.model, &new_context.model);
    let mut out = Vec::new();
    for node in &old_workflow.nodes {
        if !new_workflow.nodes.iter().any(|candidate| candidate.name == node.name) {
            out.push(NodeDiff {
                name: node.name.clone(),
                status: Status::Removed,
                exits_added: Vec::new(),
                exits_removed: Vec::new(),
                differences: Vec::new(),
            });
        }
    }
    for (new_node, node) in new_workflow.nodes.iter().enumerate() {
        let Some(old_node) = old_workflow.nodes.iter().position(|candidate| candidate.name == node.name) else {
            out.push(NodeDiff {
                name: node.name.clone(),
                status: Status::Added,
                exits_added: Vec::new(),
                exits_removed: Vec::new(),
                differences: Vec::new(),
            });
            continue;
        };
        let mut pair = Pair {
            old: &mut old_context,
            new: &mut new_context,
            old_node,
            new_node,
            directory,
            creators: &creators,
            with_org,
            changed: &changed,
        };
        let (exits_added, exits_removed) = pair.exits_changed();
        let mut differences = pair.exit_differences();
        differences.extend(pair.operator_differences());
        if exits_added.is_empty() && exits_removed.is_empty() && differences.is_empty() {
            continue;
        }
        out.push(NodeDiff {
            name: node.name.clone(),
            status: Status::Changed,
            exits_added,
            exits_removed,
            differences,
        });
    }
    Some(out)
}

/// One node present in both versions.
struct Pair<'c, 'a, 'p, 'q> {
    old: &'c mut Context<'a, 'p>,
    new: &'c mut Context<'a, 'q>,
    old_node: usize,
    new_node: usize,
    directory: &'c MemoryDirectory,
    creators: &'c [String],
    with_org: bool,
    /// Functions and constants written differently in the two versions.
    changed: &'c [String],
}

/// A way out of the node in one version, with the formula saying when it is taken.
struct Way {
    outcome: Outcome,
    formula: Formula,
}

impl Pair<'_, '_, '_, '_> {
    fn old_ir(&self) -> Option<&crate::ir::Node> {
        self.old.model.workflow.nodes.get(self.old_node)
    }

    fn new_ir(&self) -> Option<&crate::ir::Node> {
        self.new.model.workflow.nodes.get(self.new_node)
    }

    fn exit_refs(context: &Context<'_, '_>, node: usize) -> Vec<ExitRef> {
        let workflow = context.model.workflow;
        workflow
            .nodes
            .get(node)
            .map(|node| {
                node.exits
                    .iter()
                    .map(|exit| ExitRef {
                        name: exit.name.clone(),
                        target: workflow.nodes.get(exit.target).map_or_else(String::new, |target| target.name.clone()),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Exits into a node the other version's node has no exit into (a
    /// renamed exit into the same node is neither).
    fn exits_changed(&self) -> (Vec<ExitRef>, Vec<ExitRef>) {
        let old = Pair::exit_refs(self.old, self.old_node);
        let new = Pair::exit_refs(self.new, self.new_node);
        let added = new.iter().filter(|exit| !old.iter().any(|o| o.target == exit.target)).cloned().collect();
        let removed = old.iter().filter(|exit| !new.iter().any(|n| n.target == exit.target)).cloned().collect();
        (added, removed)
    }

    /// The ways out of a node: each exit when it is taken, then "no exit".
    fn ways(context: &Context<'_, '_>, node: usize) -> Vec<Way> {
        let conditions = context.conditions_of(node);
        let refs = Pair::exit_refs(context, node);
        let mut ways = Vec::new();
        for (position, exit) in refs.into_iter().enumerate() {
            let mut parts: Vec<Formula> = conditions.iter().take(position).map(|c| Formula::not(c.clone())).collect();
            parts.extend(conditions.get(position).cloned());
            ways.push(Way {
                outcome: Outcome::Exit { name: exit.name, target: exit.target },
                formula: Formula::and(parts),
            });
        }
        if !ways.is_empty() {
            let none: Vec<Formula> = conditions.iter().map(|c| Formula::not(c.clone())).collect();
            ways.push(Way { outcome: Outcome::NoExit, formula: Formula::and(none) });
        }
        ways
    }

    /// The variables the ways' formulas read.
    fn reads(ways: &[Way]) -> Vec<VarId> {
        let mut read = Vec::new();
        for way in ways {
            way.formula.vars(&mut read);
        }
        read.sort_unstable();
        read.dedup();
        read
    }

    /// The old version's requests at the node (its fixpoint's cubes), on the new version's variables.
    fn old_reach(&mut self, entered: bool) -> Result<Formula, String> {
        let states = if entered { &self.old.reach.entered } else { &self.old.reach.decided };
        let cubes: Vec<Cube> = states
            .get(self.old_node)
            .map(|state| state.iter().map(|sym| sym.cube.clone()).collect())
            .unwrap_or_default();
        let mut parts = Vec::new();
        for cube in &cubes {
            parts.push(carry(self.changed, &self.old.model, &mut self.new.model, &cube_formula(cube))?);
        }
        Ok(Formula::or(parts))
    }

    fn new_base(&self, entered: bool) -> Vec<Cube> {
        let states = if entered { &self.new.reach.entered } else { &self.new.reach.decided };
        states.get(self.new_node).map(|state| state.iter().map(|sym| sym.cube.clone()).collect()).unwrap_or_default()
    }

    fn exit_differences(&mut self) -> Vec<Difference> {
        let old_ways = Pair::ways(self.old, self.old_node);
        let new_ways = Pair::ways(self.new, self.new_node);
        if old_ways.is_empty() && new_ways.is_empty() {
            return Vec::new();
        }
        let old_reach = self.old_reach(false);
        let old_read = Pair::reads(&old_ways);
        let old_facts =
            carry(self.changed, &self.old.model, &mut self.new.model, &self.old.exit_facts(self.old_node, &old_read));
        let (old_reach, old_facts) = match (old_reach, old_facts) {
            (Ok(reach), Ok(facts)) => (reach, facts),
            (Err(reason), _) | (_, Err(reason)) => return vec![self.whole_node_may_differ(reason)],
        };
        let new_facts = self.new.exit_facts(self.new_node, &Pair::reads(&new_ways));
        let base = self.new_base(false);
        let mut out = Vec::new();
        for old_way in &old_ways {
            let old_formula = match carry(self.changed, &self.old.model, &mut self.new.model, &old_way.formula) {
                Ok(formula) => formula,
                Err(reason) => return vec![self.whole_node_may_differ(reason)],
            };
            for new_way in &new_ways {
                if same_route(&old_way.outcome, &new_way.outcome) {
                    continue;
                }
                let query = Formula::and(vec![
                    old_formula.clone(),
                    new_way.formula.clone(),
                    old_facts.clone(),
                    old_reach.clone(),
                    new_facts.clone(),
                ]);
                let mut keep = Vec::new();
                old_formula.vars(&mut keep);
                new_way.formula.vars(&mut keep);
                keep.sort_unstable();
                keep.dedup();
                let region = self.new.region(&base, &query, &keep);
                if region.is_empty() {
                    continue;
                }
                let example = self.exit_example(&query, &keep, &old_way.outcome, &new_way.outcome);
                out.push(self.difference(
                    "exit",
                    old_way.outcome.clone(),
                    new_way.outcome.clone(),
                    region,
                    &keep,
                    example,
                ));
            }
        }
        out
    }

    fn difference(
        &self,
        kind: &'static str,
        old: Outcome,
        new: Outcome,
        region: Region,
        read: &[VarId],
        example: Option<DiffExample>,
    ) -> Difference {
        let (certain, reason) =
            if example.is_some() { (true, None) } else { (false, Some(self.why_undecided(read, &region))) };
        Difference { kind, old, new, region, certain, reason, example }
    }

    /// Why a difference has no example: the values it depends on that the analysis does not decide.
    fn why_undecided(&self, read: &[VarId], region: &Region) -> String {
        let mut unknowns: Vec<String> = Vec::new();
        for &var in read {
            if let Some(Key::Unknown(index)) = self.new.model.info(var).map(|info| &info.key) {
                if let Some(unknown) = self.new.model.unknowns.get(*index) {
                    let text = format!("`{}`", unknown.text);
                    if !unknowns.contains(&text) {
                        unknowns.push(text);
                    }
                }
            }
        }
        if !unknowns.is_empty() {
            format!("it depends on {}, which the analysis does not decide", unknowns.join(", "))
        } else if !region.exact {
            "the conditions are too large to decide exactly".into()
        } else if self.new.prepared.examples_spent() {
            "the search for example requests ran out of its budget for this workflow before it found one".into()
        } else {
            "no request was found that reaches the node in both versions and routes so".into()
        }
    }

    /// The node reads something the other version cannot carry over (a field removed, or its kind changed).
    fn whole_node_may_differ(&self, reason: String) -> Difference {
        Difference {
            kind: "exit",
            old: Outcome::Undecided,
            new: Outcome::Undecided,
            region: Region { exact: false, cubes: vec![Vec::new()] },
            certain: false,
            reason: Some(reason),
            example: None,
        }
    }

    /// A request that reaches the node in both versions and leaves it as `old` and `new` say.
    fn exit_example(&mut self, query: &Formula, shown: &[VarId], old: &Outcome, new: &Outcome) -> Option<DiffExample> {
        let old_compiled = self.old.compiled.get()?;
        let new_compiled = self.new.compiled.get()?;
        let (old_index, new_index) = (self.old.workflow_index, self.new.workflow_index);
        let node_name = self.new_ir()?.name.clone();
        let directory = self.directory;
        let creators = self.creators;
        let today = self.new.prepared.today;
        let shown = self.shown(shown);
        let mut accept = |model: &Model<'_>, sym: &Sym, solution: &Solution| -> Option<DiffExample> {
            let trace = build_trace(model, sym, solution, today)?;
            let in_new = replay(new_compiled, directory, new_index, &trace, creators)?;
            let in_old = replay(old_compiled, directory, old_index, &trace, creators)?;
            if in_new.last_node != node_name || in_old.last_node != node_name {
                return None;
            }
            if exit_outcome(new_compiled, new_index, &in_new).as_ref() != Some(new)
                || exit_outcome(old_compiled, old_index, &in_old).as_ref() != Some(old)
            {
                return None;
            }
            Some(DiffExample { values: values(model, sym, solution, &shown), trace })
        };
        let queries = self.middle_first(query, false);
        queries.iter().find_map(|query| {
            search(&mut self.new.model, &self.new.prepared, self.new_node, query, Limits::default(), &mut accept)
        })
    }

    /// The variables of a difference an analyst can read in its example.
    fn shown(&self, vars: &[VarId]) -> Vec<VarId> {
        vars.iter()
            .copied()
            .filter(|var| !matches!(self.new.model.info(*var).map(|info| &info.key), Some(Key::Unknown(_))))
            .collect()
    }

    /// Who handles the node: each version's operator lines as written,
    /// compared line by line; a line whose `when` changed is a region over the pair.
    fn operator_differences(&mut self) -> Vec<Difference> {
        let (Some(old_ir), Some(new_ir)) = (self.old_ir(), self.new_ir()) else { return Vec::new() };
        let lines = |context: &Context<'_, '_>, node: &crate::ir::Node| -> Vec<(u64, String, Option<String>)> {
            node.batches
                .iter()
                .flat_map(|batch| {
                    batch.lines.iter().map(move |line| {
                        let filter = line.filter.as_ref().map(|filter| context.model.source_text(filter));
                        (batch.number, context.model.source_text(&line.people), filter)
                    })
                })
                .collect()
        };
        let old_lines = lines(self.old, old_ir);
        let new_lines = lines(self.new, new_ir);
        let same_mode = old_ir.mode == new_ir.mode;
        let written = |lines: &[(u64, String, Option<String>)]| -> Vec<String> {
            lines
                .iter()
                .map(|(batch, people, filter)| match filter {
                    Some(filter) => format!("batch {batch} {people} where {filter}"),
                    None => format!("batch {batch} {people}"),
                })
                .collect()
        };
        if old_lines != new_lines || !same_mode {
            // Other people: who they are is the directory's business; run requests to show it.
            let old = Outcome::Operators { lines: written(&old_lines) };
            let new = Outcome::Operators { lines: written(&new_lines) };
            let example = self.operator_example(&Formula::True, &[]);
            let region = Region { exact: true, cubes: vec![Vec::new()] };
            let mut difference = self.difference("operators", old, new, region, &[], example);
            if !difference.certain {
                difference.reason = Some(if self.with_org {
                    "no person of the directory was found who gets other operators in the two versions".into()
                } else {
                    "who these lines name depends on the directory: run with `--org FILE` to decide".into()
                });
            }
            return vec![difference];
        }
        // Same lines: compare each line's `when`.
        let old_whens: Vec<Formula> = self.whens(true);
        let new_whens: Vec<Formula> = self.whens(false);
        let old_reach = match self.old_reach(true) {
            Ok(reach) => reach,
            Err(reason) => return vec![self.whole_node_may_differ(reason)],
        };
        let base = self.new_base(true);
        let mut out = Vec::new();
        for (position, (old_when, new_when)) in old_whens.iter().zip(&new_whens).enumerate() {
            let carried = match carry(self.changed, &self.old.model, &mut self.new.model, old_when) {
                Ok(formula) => formula,
                Err(reason) => return vec![self.whole_node_may_differ(reason)],
            };
            let Some((batch, people, _)) = new_lines.get(position) else { continue };
            let line = format!("batch {batch} {people}");
            for (counts_old, counts_new) in [(true, false), (false, true)] {
                let old_part = if counts_old { carried.clone() } else { Formula::not(carried.clone()) };
                let new_part = if counts_new { new_when.clone() } else { Formula::not(new_when.clone()) };
                let query = Formula::and(vec![old_part, new_part, old_reach.clone()]);
                let mut keep = Vec::new();
                carried.vars(&mut keep);
                new_when.vars(&mut keep);
                keep.sort_unstable();
                keep.dedup();
                let region = self.new.region(&base, &query, &keep);
                if region.is_empty() {
                    continue;
                }
                let counted =
                    |counts: bool| Outcome::Operators { lines: if counts { vec![line.clone()] } else { Vec::new() } };
                let example = self.operator_example(&query, &keep);
                let mut difference =
                    self.difference("operators", counted(counts_old), counted(counts_new), region, &keep, example);
                if !difference.certain && difference.reason.as_deref().is_some_and(|r| r.starts_with("no request")) {
                    difference.reason =
                        Some("the line counts in one version only, but every request tried got the same people".into());
                }
                out.push(difference);
            }
        }
        out
    }

    fn whens(&self, old: bool) -> Vec<Formula> {
        let (context, node) = if old { (&*self.old, self.old_node) } else { (&*self.new, self.new_node) };
        context
            .prepared
            .whens
            .get(node)
            .map(|batches| batches.iter().flatten().map(|when| when.clone().unwrap_or(Formula::True)).collect())
            .unwrap_or_default()
    }

    /// A request (and creator) for which the node, entered in both
    /// versions, has other operators or another batch.
    fn operator_example(&mut self, query: &Formula, read: &[VarId]) -> Option<DiffExample> {
        let old_compiled = self.old.compiled.get()?;
        let new_compiled = self.new.compiled.get()?;
        let (old_index, new_index) = (self.old.workflow_index, self.new.workflow_index);
        let node_name = self.new_ir()?.name.clone();
        let directory = self.directory;
        // With a real directory each person is tried as the creator (the
        // operators often depend on who creates); the first hundred at most.
        let creators: Vec<Vec<String>> = if self.with_org {
            self.creators.iter().take(100).map(|creator| vec![creator.clone()]).collect()
        } else {
            vec![self.creators.to_vec()]
        };
        let with_org = self.with_org;
        let today = self.new.prepared.today;
        let shown = self.shown(read);
        let limits = Limits { at_entry: true, ..Limits::default() };
        let queries = self.middle_first(query, true);
        let mut accept = |model: &Model<'_>, sym: &Sym, solution: &Solution| -> Option<DiffExample> {
            let mut trace = build_trace(model, sym, solution, today)?;
            for candidates in &creators {
                let Some(in_new) = replay(new_compiled, directory, new_index, &trace, candidates) else { continue };
                let Some(in_old) = replay(old_compiled, directory, old_index, &trace, candidates) else { continue };
                let (Some(after_new), Some(after_old)) = (&in_new.after_last, &in_old.after_last) else { continue };
                let at = |compiled: &Compiled, index: usize, node: usize| {
                    compiled.program.workflows.get(index).and_then(|w| w.nodes.get(node)).map(|n| n.name.clone())
                };
                if at(new_compiled, new_index, after_new.node).as_deref() != Some(node_name.as_str())
                    || at(old_compiled, old_index, after_old.node).as_deref() != Some(node_name.as_str())
                {
                    continue;
                }
                if after_new.operators == after_old.operators && after_new.batch == after_old.batch {
                    continue;
                }
                if with_org {
                    trace.creator = Some(after_new.creator.clone());
                }
                return Some(DiffExample { values: values(model, sym, solution, &shown), trace });
            }
            None
        };
        queries.iter().find_map(|query| {
            search(&mut self.new.model, &self.new.prepared, self.new_node, query, limits, &mut accept)
        })
    }

    /// `query`, first with each bounded number pinned to a round value in
    /// the middle of its range (an example reads best away from the
    /// edges: 7500.00 between 5000.00 and 10000.00), then as it is.
    fn middle_first(&self, query: &Formula, entered: bool) -> Vec<Formula> {
        let model = &self.new.model;
        for cube in self.new_base(entered) {
            let Ok(cubes) = dnf(query, &cube, model) else { continue };
            for found in cubes {
                if !matches!(solve(&found, model), SolveOutcome::Sat(_)) {
                    continue;
                }
                let mut pins = Vec::new();
                for (var, dom) in &found.doms {
                    let is_field = matches!(model.info(*var).map(|info| &info.key), Some(Key::Field(_)));
                    let Dom::Num { set, .. } = dom else { continue };
                    let (Some(low), Some(high)) = set.hull() else { continue };
                    if !is_field || high <= low || set.pieces().len() != 1 {
                        continue;
                    }
                    pins.push(Formula::dom(*var, Dom::Num { null: false, set: Intervals::point(middle(low, high)) }));
                }
                if pins.is_empty() {
                    return vec![query.clone()];
                }
                pins.insert(0, query.clone());
                return vec![Formula::and(pins), query.clone()];
            }
        }
        vec![query.clone()]
    }
}

/// The functions and constants whose definitions differ between the
/// versions (or that only one has), by name.
fn changed_definitions(old: &Model<'_>, new: &Model<'_>) -> Vec<String> {
    let functions = |model: &Model<'_>| -> Vec<(String, String)> {
        let program = model.program;
        program
            .functions
            .iter()
            .map(|function| {
                (function.name.clone(), format!("{:?} {}", function.params, model.source_text(&function.body)))
            })
            .collect()
    };
    let constants = |model: &Model<'_>| -> Vec<(String, String)> {
        model
            .program
            .constants
            .iter()
            .map(|constant| (constant.name.clone(), model.source_text(&constant.value)))
            .collect()
    };
    let mut out = Vec::new();
    for (old_list, new_list) in [(functions(old), functions(new)), (constants(old), constants(new))] {
        for (name, _) in old_list.iter().chain(&new_list) {
            let in_old = old_list.iter().find(|(other, _)| other == name).map(|(_, text)| text);
            let in_new = new_list.iter().find(|(other, _)| other == name).map(|(_, text)| text);
            if in_old != in_new && !out.contains(name) {
                out.push(name.clone());
            }
        }
    }
    out
}

/// A round number near the middle of `low..=high` (scaled integers): the
/// middle, rounded to the coarsest power of ten a tenth of the range allows.
fn middle(low: i128, high: i128) -> i128 {
    let middle = low + (high - low) / 2;
    let mut step: i128 = 1;
    while step.checked_mul(10).is_some_and(|next| next <= (high - low) / 10) {
        step *= 10;
    }
    let rounded = (middle + step / 2).div_euclid(step) * step;
    if (low..=high).contains(&rounded) {
        rounded
    } else {
        middle
    }
}

/// Whether two outcomes route a request the same way: the same target
/// node (an exit renamed is the same route), or both no exit.
fn same_route(old: &Outcome, new: &Outcome) -> bool {
    match (old, new) {
        (Outcome::Exit { target: a, .. }, Outcome::Exit { target: b, .. }) => a == b,
        (Outcome::NoExit, Outcome::NoExit) => true,
        _ => false,
    }
}

/// How a replay left the node, as an outcome.
fn exit_outcome(compiled: &Compiled, workflow: usize, replayed: &Replayed) -> Option<Outcome> {
    match &replayed.last {
        Ok(step) => {
            let name = step.exit.as_deref()?;
            let workflow = compiled.program.workflows.get(workflow)?;
            let node = workflow.nodes.iter().find(|node| node.name == replayed.last_node)?;
            let exit = node.exits.iter().find(|exit| exit.name == name)?;
            let target = workflow.nodes.get(exit.target)?.name.clone();
            Some(Outcome::Exit { name: name.to_owned(), target })
        }
        Err(error) if error.code == Code::R0201 => Some(Outcome::NoExit),
        Err(_) => None,
    }
}

fn values(model: &Model<'_>, sym: &Sym, solution: &Solution, shown: &[VarId]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for &var in shown {
        let current = sym.current(var);
        if let Some(val) = solution.get(current) {
            out.push((model.describe(var), display_of(model, current, val)));
        }
    }
    out
}

fn cube_formula(cube: &Cube) -> Formula {
    let mut parts: Vec<Formula> = cube.doms.iter().map(|(var, dom)| Formula::dom(*var, dom.clone())).collect();
    parts.extend(cube.lins.iter().map(|linear| Formula::Lit(Lit::Lin(linear.clone()))));
    Formula::and(parts)
}

/// A formula over `from`'s variables, on `to`'s: fields, tables and
/// columns by name, unknown expressions by their text. `Err` with the
/// reason when a variable has no counterpart of the same kind.
fn carry(changed: &[String], from: &Model<'_>, to: &mut Model<'_>, formula: &Formula) -> Result<Formula, String> {
    Ok(match formula {
        Formula::True => Formula::True,
        Formula::False => Formula::False,
        Formula::Lit(Lit::Dom(var, dom)) => {
            let target = carry_var(changed, from, to, *var)?;
            Formula::dom(target, carry_dom(from, to, *var, target, dom))
        }
        Formula::Lit(Lit::Lin(linear)) => {
            let mut terms = Vec::with_capacity(linear.terms.len());
            for &(var, coefficient) in linear.terms.iter() {
                terms.push((carry_var(changed, from, to, var)?, coefficient));
            }
            match Linear::new(terms, linear.constant) {
                Some(carried) => Formula::Lit(Lit::Lin(carried)),
                None => return Err("a formula's numbers are too large to compare".into()),
            }
        }
        Formula::And(parts) => {
            Formula::and(parts.iter().map(|part| carry(changed, from, to, part)).collect::<Result<_, _>>()?)
        }
        Formula::Or(parts) => {
            Formula::or(parts.iter().map(|part| carry(changed, from, to, part)).collect::<Result<_, _>>()?)
        }
        Formula::Not(inner) => Formula::not(carry(changed, from, to, inner)?),
        Formula::Cases(cases) => {
            let mut out = Vec::with_capacity(cases.len());
            for (guard, body) in cases {
                out.push((carry(changed, from, to, guard)?, carry(changed, from, to, body)?));
            }
            Formula::Cases(out)
        }
    })
}

fn carry_var(changed: &[String], from: &Model<'_>, to: &mut Model<'_>, var: VarId) -> Result<VarId, String> {
    let Some(info) = from.info(var) else { return Err("a value the analysis lost track of".into()) };
    let field_named = |to: &Model<'_>, field: usize| -> Result<usize, String> {
        let name = from.field_name(field);
        let old = from.form.fields.get(field);
        let found = to.form.fields.iter().position(|candidate| {
            candidate.name == name && candidate.detail.is_some() == old.is_some_and(|old| old.detail.is_some())
        });
        let Some(found) = found else { return Err(format!("`{name}` is not in the new version's form")) };
        if to.kind(found) != from.kind(field) {
            return Err(format!("`{name}` has another kind in the new version"));
        }
        let formula = |model: &Model<'_>, field: usize| {
            model.form.fields.get(field).and_then(|f| f.formula.as_ref()).map(|formula| model.source_text(formula))
        };
        if formula(from, field) != formula(to, found) {
            return Err(format!("`{name}` is computed differently in the new version"));
        }
        Ok(found)
    };
    let key = match &info.key {
        Key::Field(field) => Key::Field(field_named(to, *field)?),
        Key::Agg(agg, column) => Key::Agg(*agg, field_named(to, *column)?),
        Key::Rows(table) => {
            let name = from.form.details.get(*table).map_or("?", |detail| detail.name.as_str());
            match to.form.details.iter().position(|detail| detail.name == name) {
                Some(found) => Key::Rows(found),
                None => return Err(format!("the table `{name}` is not in the new version's form")),
            }
        }
        Key::Unknown(index) => {
            let Some(unknown) = from.unknowns.get(*index) else { return Err("an unknown expression".into()) };
            // The same text is the same value only when the functions and
            // constants it names mean the same in both versions.
            if changed.iter().any(|name| unknown.meaning.contains(&format!("[{name}]"))) {
                let text = format!("{} (old version)", unknown.text);
                return Ok(to.unknown_named(&text, &format!("old {}", unknown.meaning), unknown.boolean));
            }
            return Ok(to.unknown_named(&unknown.text, &unknown.meaning, unknown.boolean));
        }
        Key::Today => Key::Today,
    };
    let target = to.var(key);
    let (from_sort, to_sort) = (&info.sort, to.info(target).map(|info| info.sort.scale()));
    if matches!(from_sort, super::logic::Sort::Num { .. }) && Some(from_sort.scale()) != to_sort {
        return Err(format!("`{}` is kept with another number of decimals", from.describe(var)));
    }
    Ok(target)
}

/// A domain of `from`'s variable as the values of `to`'s: a class of the
/// new version is in when the same values are in the old class it falls into.
fn carry_dom(from: &Model<'_>, to: &Model<'_>, var: VarId, target: VarId, dom: &Dom) -> Dom {
    match dom {
        Dom::Num { .. } => dom.clone(),
        Dom::Fin(mask) => {
            let mask = mask.bits();
            let (Some(from_info), Some(to_info)) = (from.info(var), to.info(target)) else { return dom.clone() };
            let old_other = from_info.classes.iter().position(|class| *class == Class::Other);
            let mut carried = 0u128;
            for (index, class) in to_info.classes.iter().enumerate().take(128) {
                let same = from_info.classes.iter().position(|old| old == class);
                let falls_into = same.or(match class {
                    Class::Lit(_) | Class::Other => old_other,
                    _ => None,
                });
                if falls_into.is_some_and(|old| old < 128 && mask & (1u128 << old) != 0) {
                    carried |= 1u128 << index;
                }
            }
            Dom::fin(carried)
        }
    }
}

/// A difference in words, for the text report.
pub fn describe_outcome(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Exit { name, target } => format!("exit {name} -> {target}"),
        Outcome::NoExit => "no exit (the submit is refused)".into(),
        Outcome::Operators { lines } if lines.is_empty() => "the line does not count".into(),
        Outcome::Operators { lines } => lines.join("; "),
        Outcome::Undecided => "undecided".into(),
    }
}

/// The requests of a difference in words.
pub fn describe_region(region: &Region) -> String {
    describe(region)
}
