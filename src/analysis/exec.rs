//! Running a workflow symbolically, in the order of runtime.md §3: a set of
//! requests (a list of cubes) arrives at a node, people write the fields
//! the node makes editable, the submit checks `required` and `validate`,
//! the `after` block runs, an exit is chosen, its block and the target's
//! `before` run. The same steps serve two purposes:
//!
//! - `Mode::Project` (the fixpoint of `reach.rs`): a variable that may
//!   change is forgotten (projected out), so each node's cubes cover every
//!   request that can reach it — the over-approximation that proofs use;
//! - `Mode::Version` (the path search of `witness.rs`): a variable that
//!   changes gets a new version, so one path's cubes describe every moment
//!   of it, and a solution is a concrete run: what the creator filled in,
//!   and what each operator set.

use rustc_hash::FxHashMap as HashMap;

use super::logic::{dnf, Cube, Dom, Formula, Intervals, Lit, Sorts, VarId};
use super::model::{Base, Key, Model};
use super::solve::{feasible, forget_where};
use crate::ir::{NodeKind, Stmt};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Project,
    Version,
}

/// What a person did at one step of a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// The creator filling in a new request.
    Create,
    Submit,
    Reject,
}

/// One visit of a node on a path, and the versions its people wrote.
#[derive(Debug, Clone)]
pub struct StepRecord {
    pub node: usize,
    pub act: Act,
    /// The exit or return taken (its index among the node's exits or returns).
    pub taken: Option<usize>,
    pub fresh: Vec<(Key, VarId)>,
    /// A script ran on the way: its writes are not known, so the path is not replayed.
    pub scripted: bool,
}

/// Some requests: a cube, and in `Version` mode the path that leads to them.
#[derive(Debug, Clone)]
pub struct Sym {
    pub cube: Cube,
    /// `None` in `Project` mode: the fixpoint moves and copies syms all the
    /// time, and one without a path is a cube and a flag.
    pub path: Option<Box<Path>>,
    /// The solver found the cube's requests possible. Widening keeps it so
    /// (forgetting a variable, a hull with another cube), so `tidy` does not
    /// ask again; narrowing builds a new sym, which must be asked.
    pub satisfiable: bool,
}

/// In `Version` mode: the current version of each variable and the path so far.
#[derive(Debug, Clone, Default)]
pub struct Path {
    pub current: HashMap<VarId, VarId>,
    pub steps: Vec<StepRecord>,
    /// The canonical variables given a new version since the submit rules
    /// were last assumed on this path. Only the rules that read one of them
    /// need assuming again (the others still hold, over the same versions).
    pub dirty: Vec<VarId>,
}

impl Sym {
    /// The same path and versions, over another cube.
    fn with_cube(&self, cube: Cube, satisfiable: bool) -> Sym {
        Sym { cube, path: self.path.clone(), satisfiable }
    }

    /// Every request, with no path yet (the fixpoint's widened states).
    pub fn anything(cube: Cube) -> Sym {
        Sym { cube, path: None, satisfiable: true }
    }

    /// The version of `var` now (itself when it has no other).
    pub fn current(&self, var: VarId) -> VarId {
        self.path.as_ref().and_then(|path| path.current.get(&var)).copied().unwrap_or(var)
    }

    /// The variables given a new version since the rules were last assumed.
    fn dirty(&self) -> &[VarId] {
        self.path.as_ref().map_or(&[], |path| path.dirty.as_slice())
    }

    /// The steps of the path so far (none in `Project` mode).
    pub fn steps(&self) -> &[StepRecord] {
        self.path.as_ref().map_or(&[], |path| path.steps.as_slice())
    }

    /// The path, started if there is none yet.
    fn path_mut(&mut self) -> &mut Path {
        self.path.get_or_insert_with(Box::default)
    }

    /// The step the path is at, if any.
    fn last_step_mut(&mut self) -> Option<&mut StepRecord> {
        self.path.as_mut().and_then(|path| path.steps.last_mut())
    }
}

pub type State = Vec<Sym>;

/// A statement, translated once.
#[derive(Debug, Clone)]
pub enum PStmt {
    /// `field = value`: `formula` relates `new` (the next value) to the current ones.
    Assign {
        field: usize,
        new: VarId,
        formula: Option<Formula>,
    },
    If {
        branches: Vec<(Formula, Vec<PStmt>)>,
        otherwise: Vec<PStmt>,
        /// In a large workflow's `after` block, when nothing read after the
        /// `if` (by the rest of the node or its exits) reads what its
        /// conditions read: the fixpoint runs every branch on all the
        /// requests instead of splitting them by the conditions (more
        /// requests, never fewer: see `Prepared::mark_unsplit`).
        unsplit: bool,
        /// Unsplit, with a branch that only forgets fields covering every
        /// other branch's writes (`forgetting_branch`): those fields. The
        /// fixpoint forgets them instead of running the branches.
        forgets: Option<Vec<Base>>,
    },
    Script,
}

/// Everything about a workflow the steps need, translated once.
pub struct Prepared {
    pub exits: Vec<Vec<Option<Formula>>>,
    pub returns: Vec<Vec<Option<Formula>>>,
    pub exit_blocks: Vec<Vec<Vec<PStmt>>>,
    pub before: Vec<Vec<PStmt>>,
    pub after: Vec<Vec<PStmt>>,
    /// Per node: what `required` demands (each field non-empty, each table a row).
    pub required: Vec<Formula>,
    /// The form's main `validate` rules, with the variables each reads.
    pub validates: Vec<(Formula, Vec<VarId>)>,
    /// Per node: what its people may write.
    pub edits: Vec<Vec<Base>>,
    /// Per node: the canonical variables its edits forget (`affected`).
    edits_forget: Vec<Vec<VarId>>,
    /// Per node, per batch, per line: the `when`.
    pub whens: Vec<Vec<Vec<Option<Formula>>>>,
    /// Per node: the requests for which every batch of its operators is
    /// empty (`operators::certainly_empty`), translated once.
    pub nobody: Vec<Formula>,
    /// What each canonical variable depends on, indexed by variable
    /// (`None` for a variable that is not canonical).
    var_deps: Vec<Option<Vec<Base>>>,
    /// For each variable (by index), the validate rules (by position) that read it.
    validates_by_var: Vec<Vec<usize>>,
    /// For each variable (by index), the aggregate rules (by position in `aggregate_parts`) that read it.
    aggregates_by_var: Vec<Vec<usize>>,
    /// Per node: the variables its `after` block may change.
    pub changed_after: Vec<Vec<VarId>>,
    /// What each base change forgets: the canonical variables depending
    /// on it, sorted, indexed by `base_slot`.
    dependents: Vec<Vec<VarId>>,
    /// The form's fields, for `base_slot`.
    field_count: usize,
    /// Canonical variables that change at every action (`today()`, `节点.operator`).
    pub volatile: Vec<VarId>,
    pub today: Option<VarId>,
    /// Every base a script may change.
    pub all_bases: Vec<Base>,
    pub aggregate_facts: Formula,
    /// The aggregate facts table by table, with the variables each reads.
    pub aggregate_parts: Vec<(Formula, Vec<VarId>)>,
    /// The blank form: each canonical variable's domain in a new request,
    /// indexed by variable (see `blank_dom`).
    blank: Vec<Option<Dom>>,
    /// Per node: what may have been written before its submit is checked
    /// (by the people or blocks of any node on some path to it, itself
    /// included); what is not still holds the blank form's value.
    pub written: Written,
    /// What the path searches for examples may still spend, in cube
    /// entries visited times the rules assumed over them (`SEARCH_WORK` per workflow): a large workflow's
    /// findings get examples until it is spent, so the analysis's time stays
    /// bounded whatever the workflow's size.
    search_work_left: std::cell::Cell<usize>,
    /// The nodes whose questions went unanswered for lack of budget
    /// (W0708), in the order met: the first is where it ran out.
    cut_short: std::cell::RefCell<Vec<usize>>,
    /// Per node: the canonical variables whose value on entering the node
    /// can still matter — read by it or a node after it before anyone
    /// writes them again. The fixpoint forgets the rest.
    pub live: Vec<Vec<VarId>>,
    /// Per node: `live_after_decision`, computed once.
    pub live_after: Vec<Vec<VarId>>,
    /// Per node and exit: what its condition and block read (`exit_reads_of`).
    exit_reads: Vec<Vec<Vec<VarId>>>,
}

impl Prepared {
    pub fn new(model: &mut Model<'_>) -> Prepared {
        let workflow = model.workflow;
        let form = model.form;
        let mut prepared = Prepared {
            exits: Vec::new(),
            returns: Vec::new(),
            exit_blocks: Vec::new(),
            before: Vec::new(),
            after: Vec::new(),
            required: Vec::new(),
            validates: Vec::new(),
            edits: Vec::new(),
            edits_forget: Vec::new(),
            whens: Vec::new(),
            nobody: Vec::new(),
            dependents: Vec::new(),
            field_count: form.fields.len(),
            var_deps: Vec::new(),
            volatile: Vec::new(),
            today: None,
            all_bases: Vec::new(),
            aggregate_facts: Formula::True,
            aggregate_parts: Vec::new(),
            blank: Vec::new(),
            live: Vec::new(),
            live_after: Vec::new(),
            exit_reads: Vec::new(),
            search_work_left: std::cell::Cell::new(SEARCH_WORK),
            cut_short: std::cell::RefCell::new(Vec::new()),
            written: Written::default(),
            validates_by_var: Vec::new(),
            aggregates_by_var: Vec::new(),
            changed_after: Vec::new(),
        };
        for validate in form.validates.iter().filter(|validate| validate.detail.is_none()) {
            let formula = model.condition(&validate.condition);
            let mut vars = Vec::new();
            formula.vars(&mut vars);
            vars.sort_unstable();
            vars.dedup();
            prepared.validates.push((formula, vars));
        }
        for node in &workflow.nodes {
            prepared
                .exits
                .push(node.exits.iter().map(|exit| exit.condition.as_ref().map(|c| model.condition(c))).collect());
            prepared
                .returns
                .push(node.returns.iter().map(|exit| exit.condition.as_ref().map(|c| model.condition(c))).collect());
            prepared.exit_blocks.push(node.exits.iter().map(|exit| statements(model, &exit.block)).collect());
            prepared.before.push(statements(model, &node.before));
            prepared.after.push(statements(model, &node.after));
            let mut required = Vec::new();
            for &field in &node.required {
                if model.table_of(field).is_some() {
                    continue;
                }
                if let Some(empty) = model.empty(field) {
                    required.push(Formula::not(empty));
                }
            }
            for &table in &node.required_tables {
                let rows = model.var(Key::Rows(table));
                required.push(Formula::dom(rows, Dom::Num { null: false, set: Intervals::at_least(1) }));
            }
            prepared.required.push(Formula::and(required).simplified(model));
            let mut edits = Vec::new();
            for &field in &node.editable {
                edits.push(match model.table_of(field) {
                    Some(_) => Base::Column(field),
                    None => Base::Main(field),
                });
            }
            for &table in &node.editable_tables {
                edits.push(Base::Table(table));
            }
            edits.sort();
            edits.dedup();
            prepared.edits.push(edits);
            prepared.whens.push(
                node.batches
                    .iter()
                    .map(|batch| {
                        batch.lines.iter().map(|line| line.condition.as_ref().map(|c| model.condition(c))).collect()
                    })
                    .collect(),
            );
        }
        // Every field and table is a variable from the start, so a blank form is complete.
        for (index, field) in form.fields.iter().enumerate() {
            if field.detail.is_none() {
                prepared.all_bases.push(Base::Main(index));
                if !matches!(field.kind, crate::check::types::FieldKind::Link | crate::check::types::FieldKind::Note) {
                    model.var(Key::Field(index));
                }
            } else {
                prepared.all_bases.push(Base::Column(index));
            }
        }
        for table in 0..form.details.len() {
            prepared.all_bases.push(Base::Table(table));
            model.var(Key::Rows(table));
        }
        prepared.aggregate_facts = model.aggregate_facts();
        let parts = match &prepared.aggregate_facts {
            Formula::And(parts) => parts.clone(),
            Formula::True => Vec::new(),
            other => vec![other.clone()],
        };
        for part in parts {
            let mut vars = Vec::new();
            part.vars(&mut vars);
            vars.sort_unstable();
            vars.dedup();
            prepared.aggregate_parts.push((part, vars));
        }
        // Dense tables: every canonical variable exists by now (a fresh
        // version made later is not canonical, and finds nothing in them).
        let var_count = model.vars.len();
        prepared.var_deps = vec![None; var_count];
        prepared.blank = vec![None; var_count];
        prepared.dependents = vec![Vec::new(); 2 * form.fields.len() + form.details.len()];
        for (key, var) in model.canonical_vars() {
            let deps = model.deps_of_key(&key);
            for base in &deps {
                let slot = prepared.base_slot(base);
                if let Some(list) = prepared.dependents.get_mut(slot) {
                    list.push(var);
                }
            }
            if let Some(slot) = prepared.var_deps.get_mut(var as usize) {
                *slot = Some(deps);
            }
            if model.is_volatile(&key) {
                prepared.volatile.push(var);
            }
            if key == Key::Today {
                prepared.today = Some(var);
            }
            if let Some(dom) = model.blank(var) {
                if let Some(slot) = prepared.blank.get_mut(var as usize) {
                    *slot = Some(model.sort(var).universe().intersect(&dom));
                }
            }
        }
        // Sorted: forgetting them looks each up by binary search.
        prepared.volatile.sort_unstable();
        for list in &mut prepared.dependents {
            list.sort_unstable();
            list.dedup();
        }
        prepared.edits_forget = prepared.edits.iter().map(|edits| prepared.affected(edits).into_owned()).collect();
        let no_whens = Vec::new();
        prepared.nobody = workflow
            .nodes
            .iter()
            .enumerate()
            .map(|(index, node)| {
                let whens = prepared.whens.get(index).unwrap_or(&no_whens);
                super::operators::certainly_empty(model, node, whens)
            })
            .collect();
        prepared.exit_reads = prepared.exit_reads_of();
        prepared.live = prepared.liveness(model);
        prepared.live_after = prepared.live_after_decision(model);
        prepared.written = prepared.written_before(model);
        prepared.validates_by_var = vec![Vec::new(); var_count];
        for (index, (_, vars)) in prepared.validates.iter().enumerate() {
            for &var in vars {
                if let Some(list) = prepared.validates_by_var.get_mut(var as usize) {
                    list.push(index);
                }
            }
        }
        prepared.aggregates_by_var = vec![Vec::new(); var_count];
        for (index, (_, vars)) in prepared.aggregate_parts.iter().enumerate() {
            for &var in vars {
                if let Some(list) = prepared.aggregates_by_var.get_mut(var as usize) {
                    list.push(index);
                }
            }
        }
        prepared.changed_after = (0..workflow.nodes.len())
            .map(|node| {
                let mut changed = Vec::new();
                if let Some(after) = prepared.after.get(node) {
                    prepared.changed_by(after, &mut changed);
                }
                changed.sort_unstable();
                changed.dedup();
                changed
            })
            .collect();
        if workflow.nodes.len() > SMALL_WORKFLOW {
            prepared.mark_unsplit(model);
        }
        prepared
    }

    /// Marks the `if`s of each node's `after` block whose conditions read
    /// nothing needed after them (`PStmt::If::unsplit`): needed is what the
    /// rest of the block reads, what the node's exits and their blocks read
    /// and what is live where they lead, and the validate rules the
    /// questions about its exits bring in (`facts_for`). Splitting by such a
    /// condition only multiplies the requests that the fixpoint carries to
    /// the exits; the branches' writes are kept, their relation to the
    /// condition is what is given up. Only for large workflows (like the
    /// horizon of `liveness`): small ones keep every split.
    fn mark_unsplit(&mut self, model: &Model<'_>) {
        for node in 0..model.workflow.nodes.len() {
            let mut exit_reads: Vec<VarId> = Vec::new();
            for formula in self.exits.get(node).into_iter().flatten().flatten() {
                formula.vars(&mut exit_reads);
            }
            exit_reads.sort_unstable();
            exit_reads.dedup();
            let mut needed: Vec<VarId> = self.live_after.get(node).cloned().unwrap_or_default();
            needed.extend(self.fact_rules(node, &exit_reads).2);
            needed.sort_unstable();
            needed.dedup();
            if let Some(block) = self.after.get_mut(node) {
                mark_block(block, &mut needed, &self.all_bases);
            }
        }
    }

    /// For each node, the bases some node that can precede it (or itself)
    /// writes: per strongly connected component of the exits and returns,
    /// propagated forward along the component graph (linear in nodes and
    /// edges; one bit per base and component).
    fn written_before(&self, model: &Model<'_>) -> Written {
        let workflow = model.workflow;
        let count = workflow.nodes.len();
        let width = model.form.fields.len() + model.form.details.len();
        let bit = |base: &Base| match base {
            Base::Main(field) | Base::Column(field) => *field,
            Base::Table(table) => model.form.fields.len() + table,
        };
        let edges: Vec<Vec<usize>> = workflow
            .nodes
            .iter()
            .map(|node| node.exits.iter().chain(&node.returns).map(|exit| exit.target).collect())
            .collect();
        let components = crate::check::graph::strongly_connected_components(count, &edges);
        let mut component_of = vec![0usize; count];
        for (index, component) in components.iter().enumerate() {
            for &node in component {
                if let Some(slot) = component_of.get_mut(node) {
                    *slot = index;
                }
            }
        }
        let words = width.div_ceil(64).max(1);
        let mut sets: Vec<Vec<u64>> = vec![vec![0u64; words]; components.len()];
        for (node, slot) in component_of.iter().enumerate() {
            let mut bases = self.edits.get(node).cloned().unwrap_or_default();
            let mut blocks: Vec<&Vec<PStmt>> = Vec::new();
            blocks.extend(self.before.get(node));
            blocks.extend(self.after.get(node));
            blocks.extend(self.exit_blocks.get(node).into_iter().flatten());
            for block in blocks {
                block_writes(block, &self.all_bases, &mut bases);
            }
            if let Some(set) = sets.get_mut(*slot) {
                for base in &bases {
                    let index = bit(base);
                    if let Some(word) = set.get_mut(index / 64) {
                        *word |= 1u64 << (index % 64);
                    }
                }
            }
        }
        // Tarjan lists components sinks first: walk them sources first.
        for component in (0..components.len()).rev() {
            let Some(members) = components.get(component) else { continue };
            let from = sets.get(component).cloned().unwrap_or_default();
            let mut targets: Vec<usize> = Vec::new();
            for &node in members {
                for &target in edges.get(node).into_iter().flatten() {
                    let target_component = component_of.get(target).copied().unwrap_or(component);
                    if target_component != component {
                        targets.push(target_component);
                    }
                }
            }
            for target in targets {
                if let Some(set) = sets.get_mut(target) {
                    for (word, add) in set.iter_mut().zip(&from) {
                        *word |= add;
                    }
                }
            }
        }
        Written { component_of, sets, fields: model.form.fields.len() }
    }

    /// In `Mode::Version` a cube holds the blank form's value of a variable
    /// only once a formula reads it: a variable still at its canonical
    /// version (nobody wrote it on the path) holds its blank value, added
    /// here before `formula` is assumed. The blank form is a product of
    /// domains, so this is exactly the whole blank form projected onto the
    /// variables read — without copying ten thousand domains at every step.
    pub fn add_blank(&self, cube: &mut Cube, formula: &Formula, sorts: &dyn Sorts) {
        let mut read = Vec::new();
        formula.vars(&mut read);
        for var in read {
            if cube.dom(var).is_some() {
                continue;
            }
            if let Some(dom) = self.blank_dom(var) {
                cube.restrict(var, dom, sorts);
            }
        }
    }

    /// The value a canonical variable has in a new request (`None` for a
    /// later version, or a value the blank form does not fix).
    pub fn blank_dom(&self, var: VarId) -> Option<&Dom> {
        self.blank.get(var as usize).and_then(Option::as_ref)
    }

    /// Sets the examples' budget (`SEARCH_WORK` unless the caller says otherwise).
    pub fn set_search_work(&self, work: usize) {
        self.search_work_left.set(work);
    }

    /// Takes `cost` from the examples' budget for a search at `node`;
    /// `false` (and the budget spent for good, the node's question cut
    /// short) when what is left does not cover it.
    pub fn spend_search_work(&self, node: usize, cost: usize) -> bool {
        let left = self.search_work_left.get();
        if left < cost {
            self.search_work_left.set(0);
            self.note_cut_short(node);
            return false;
        }
        self.search_work_left.set(left - cost);
        true
    }

    /// Whether the examples' budget is spent: no more examples are searched for.
    pub fn examples_spent(&self) -> bool {
        self.search_work_left.get() == 0
    }

    /// Records that a question at `node` went unanswered because the budget is spent.
    pub fn note_cut_short(&self, node: usize) {
        let mut nodes = self.cut_short.borrow_mut();
        if nodes.last() != Some(&node) {
            nodes.push(node);
        }
    }

    /// Where the budget ran out, and the nodes whose questions it left
    /// unanswered (sorted): `None` while it lasts.
    pub fn budget_report(&self) -> Option<(usize, Vec<usize>)> {
        let mut nodes = self.cut_short.borrow().clone();
        // Nothing is cut short before the budget runs out, so the first is where it did.
        let at = nodes.first().copied()?;
        nodes.sort_unstable();
        nodes.dedup();
        Some((at, nodes))
    }

    /// The blank values still held at `node` by the variables among `vars`.
    pub fn blank_facts(&self, node: usize, vars: &[VarId]) -> Vec<Formula> {
        vars.iter().filter_map(|&var| self.still_blank(node, var).map(|dom| Formula::dom(var, dom.clone()))).collect()
    }

    /// Whether some variable among `vars` still holds its blank value at `node` (`blank_facts` is not empty).
    pub fn any_still_blank(&self, node: usize, vars: &[VarId]) -> bool {
        vars.iter().any(|&var| self.still_blank(node, var).is_some())
    }

    /// The blank value of `var` if nobody can have written it before `node`.
    fn still_blank(&self, node: usize, var: VarId) -> Option<&Dom> {
        let dom = self.blank_dom(var)?;
        let deps = self.var_deps.get(var as usize)?.as_ref()?;
        deps.iter().all(|base| !self.written.before(node, base)).then_some(dom)
    }

    /// What each node reads, then backwards along exits and returns: a
    /// variable is live on entering a node if the node reads it, or a
    /// successor needs it and the successor's people do not write it first.
    fn liveness(&self, model: &Model<'_>) -> Vec<Vec<VarId>> {
        let workflow = model.workflow;
        let count = workflow.nodes.len();
        let mut reads: Vec<Vec<VarId>> = Vec::with_capacity(count);
        for index in 0..count {
            // The exits' conditions and blocks: `exit_reads`, found before.
            let mut vars: Vec<VarId> = self.exit_reads.get(index).into_iter().flatten().flatten().copied().collect();
            for formula in self.returns.get(index).into_iter().flatten().flatten() {
                formula.vars(&mut vars);
            }
            for batch in self.whens.get(index).into_iter().flatten() {
                for formula in batch.iter().flatten() {
                    formula.vars(&mut vars);
                }
            }
            if let Some(nobody) = self.nobody.get(index) {
                nobody.vars(&mut vars);
            }
            for block in [self.before.get(index), self.after.get(index)].into_iter().flatten() {
                block_reads(block, &mut vars);
            }
            vars.sort_unstable();
            vars.dedup();
            reads.push(vars);
        }
        // A large workflow keeps only what a node up to HORIZON exits ahead
        // reads: the states stay small, so the fixpoint stays linear; what is
        // forgotten only makes more requests possible.
        let horizon = if count <= SMALL_WORKFLOW { Distance::MAX } else { HORIZON };
        // Per node, sorted by variable: each need and its distance in exits.
        let mut live: Vec<Vec<(VarId, Distance)>> =
            reads.iter().map(|vars| vars.iter().map(|var| (*var, 0)).collect()).collect();
        // A worklist: a node whose needs grew passes them on to the nodes
        // before it (each need at its shortest distance; the distances only
        // shrink, so this ends).
        let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (index, node) in workflow.nodes.iter().enumerate() {
            for target in node.exits.iter().chain(&node.returns).map(|exit| exit.target) {
                // A large workflow's request sent back to the create node
                // starts over: what the nodes after the start read of it
                // is not kept alive for it (forgotten, which is sound; the
                // fixpoint soon holds every request at the create node anyway).
                if target == workflow.create && count > SMALL_WORKFLOW {
                    continue;
                }
                if let Some(list) = predecessors.get_mut(target) {
                    list.push(index);
                }
            }
        }
        let mut queue: std::collections::VecDeque<usize> = (0..count).rev().collect();
        let mut queued = vec![true; count];
        // What a node passes on, one buffer for all.
        let mut passed: Vec<(VarId, Distance)> = Vec::new();
        while let Some(target) = queue.pop_front() {
            if let Some(flag) = queued.get_mut(target) {
                *flag = false;
            }
            // What its people write (`edits_forget`) stops a need, unless the node reads it too.
            let (Some(needed), Some(written), Some(read)) =
                (live.get(target), self.edits_forget.get(target), reads.get(target))
            else {
                continue;
            };
            passed.clear();
            passed.extend(
                needed
                    .iter()
                    .filter(|(var, distance)| {
                        let through = written.binary_search(var).is_err() || read.binary_search(var).is_ok();
                        through && *distance < horizon
                    })
                    .map(|&(var, distance)| (var, distance + 1)),
            );
            for &previous in predecessors.get(target).into_iter().flatten() {
                let Some(slot) = live.get_mut(previous) else { continue };
                if let Some(merged) = merge_needs(slot, &passed) {
                    *slot = merged;
                    if let Some(flag) = queued.get_mut(previous) {
                        if !*flag {
                            *flag = true;
                            queue.push_back(previous);
                        }
                    }
                }
            }
        }
        live.into_iter().map(|needs| needs.into_iter().map(|(var, _)| var).collect()).collect()
    }

    /// Per node: what its exits can still need of a request once it is
    /// decided — what their conditions and blocks read, and what is live
    /// where they lead. The fixpoint forgets the rest before taking the
    /// exits, so requests that differ only in values nobody reads again
    /// (a branch of the `after` block) are one cube, not several.
    fn live_after_decision(&self, model: &Model<'_>) -> Vec<Vec<VarId>> {
        let workflow = model.workflow;
        (0..workflow.nodes.len())
            .map(|index| {
                let mut vars: Vec<VarId> =
                    self.exit_reads.get(index).into_iter().flatten().flatten().copied().collect();
                let node = workflow.nodes.get(index);
                for target in node.into_iter().flat_map(|node| node.exits.iter().map(|exit| exit.target)) {
                    vars.extend(self.live.get(target).into_iter().flatten());
                }
                vars.sort_unstable();
                vars.dedup();
                vars
            })
            .collect()
    }

    /// Per node and exit: what its condition and its block read (sorted).
    fn exit_reads_of(&self) -> Vec<Vec<Vec<VarId>>> {
        self.exits
            .iter()
            .zip(&self.exit_blocks)
            .map(|(conditions, blocks)| {
                conditions
                    .iter()
                    .zip(blocks)
                    .map(|(condition, block)| {
                        let mut vars = Vec::new();
                        if let Some(formula) = condition {
                            formula.vars(&mut vars);
                        }
                        block_reads(block, &mut vars);
                        vars.sort_unstable();
                        vars.dedup();
                        vars
                    })
                    .collect()
            })
            .collect()
    }

    /// Whether an exit of `node` after exit `index` reads `var`, or leads
    /// where it is live.
    fn later_exits_need(&self, node: usize, index: usize, targets: &[crate::ir::Exit], var: VarId) -> bool {
        let reads: &[Vec<VarId>] = self.exit_reads.get(node).map_or(&[], Vec::as_slice);
        reads.iter().zip(targets).skip(index + 1).any(|(reads, exit)| {
            reads.binary_search(&var).is_ok()
                || self.live.get(exit.target).is_some_and(|live| live.binary_search(&var).is_ok())
        })
    }

    /// The facts at the moment the exits of `node` are tried that bear on
    /// `seeds`: the validate rules (but those its `after` block may break)
    /// and the aggregates' rules that share a variable with them, or with
    /// one taken before (the rest cannot change the answer about `seeds`,
    /// only whether the path is possible at all — and leaving them out can
    /// only make more requests possible, never fewer).
    pub fn facts_for(&self, node: usize, seeds: &[VarId]) -> Formula {
        let (validates, aggregates, vars) = self.fact_rules(node, seeds);
        let mut parts: Vec<Formula> =
            validates.iter().filter_map(|&index| self.validates.get(index).map(|(f, _)| f.clone())).collect();
        parts.extend(aggregates.iter().filter_map(|&index| self.aggregate_parts.get(index).map(|(f, _)| f.clone())));
        parts.extend(self.blank_facts(node, &vars));
        Formula::and(parts)
    }

    /// The rules `facts_for` takes (validates and aggregates' rules, by
    /// position) and the variables they and `seeds` read, sorted.
    fn fact_rules(&self, node: usize, seeds: &[VarId]) -> (Vec<usize>, Vec<usize>, Vec<VarId>) {
        let changed = self.changed_after.get(node).map(Vec::as_slice).unwrap_or_default();
        // Each variable met, with its depth in rules from the seeds (the
        // first depth it was met at), in the order met; a few dozen at most.
        let mut met: Vec<(VarId, usize)> = Vec::with_capacity(seeds.len() * 4);
        for &var in seeds {
            if !met.iter().any(|(known, _)| *known == var) {
                met.push((var, 0));
            }
        }
        let mut queue: Vec<VarId> = seeds.to_vec();
        let mut taken_validates: Vec<usize> = Vec::new();
        let mut taken_aggregates: Vec<usize> = Vec::new();
        // Rules two steps away at most, and not too many: a fact further
        // away rarely bears on the question, and leaving it out is sound.
        while let Some(var) = queue.pop() {
            let level = met.iter().find(|(known, _)| *known == var).map_or(0, |(_, level)| *level);
            if level >= FACT_DEPTH || taken_validates.len() >= FACT_LIMIT {
                continue;
            }
            for &index in self.validates_by_var.get(var as usize).into_iter().flatten() {
                let Some((_, vars)) = self.validates.get(index) else { continue };
                if taken_validates.contains(&index) || vars.iter().any(|read| changed.contains(read)) {
                    continue;
                }
                if taken_validates.len() >= FACT_LIMIT {
                    break;
                }
                taken_validates.push(index);
                for &read in vars {
                    if !met.iter().any(|(known, _)| *known == read) {
                        met.push((read, level + 1));
                        queue.push(read);
                    }
                }
            }
            for &index in self.aggregates_by_var.get(var as usize).into_iter().flatten() {
                let Some((_, vars)) = self.aggregate_parts.get(index) else { continue };
                if taken_aggregates.contains(&index) {
                    continue;
                }
                taken_aggregates.push(index);
                for &read in vars {
                    if !met.iter().any(|(known, _)| *known == read) {
                        met.push((read, level + 1));
                        queue.push(read);
                    }
                }
            }
        }
        taken_validates.sort_unstable();
        taken_aggregates.sort_unstable();
        let mut vars: Vec<VarId> = met.into_iter().map(|(var, _)| var).collect();
        vars.sort_unstable();
        (taken_validates, taken_aggregates, vars)
    }

    /// The aggregates' rules for the tables whose aggregates `vars` read.
    pub fn aggregate_facts_for(&self, vars: &[VarId]) -> Formula {
        Formula::and(
            self.aggregate_parts
                .iter()
                .filter(|(_, reads)| reads.iter().any(|var| vars.contains(var)))
                .map(|(formula, _)| formula.clone())
                .collect(),
        )
    }

    fn changed_by(&self, block: &[PStmt], out: &mut Vec<VarId>) {
        for statement in block {
            match statement {
                PStmt::Assign { field, .. } => out.extend(self.affected(&[Base::Main(*field)]).iter()),
                PStmt::If { branches, otherwise, .. } => {
                    for (_, branch) in branches {
                        self.changed_by(branch, out);
                    }
                    self.changed_by(otherwise, out);
                }
                PStmt::Script => out.extend(self.affected(&self.all_bases).iter()),
            }
        }
    }

    /// Where a base's dependents are kept: a main field and a column by
    /// the field's position (two slots each, as the base says which it
    /// is), then the tables.
    fn base_slot(&self, base: &Base) -> usize {
        match *base {
            Base::Main(field) => 2 * field,
            Base::Column(field) => 2 * field + 1,
            Base::Table(table) => 2 * self.field_count + table,
        }
    }

    /// The canonical variables that depend on `base`, sorted.
    fn dependents_of(&self, base: &Base) -> &[VarId] {
        self.dependents.get(self.base_slot(base)).map_or(&[], Vec::as_slice)
    }

    /// The canonical variables a change of these bases forgets, sorted.
    /// One base (an assignment's field) borrows its list of dependents,
    /// sorted once when they were gathered.
    pub fn affected(&self, bases: &[Base]) -> std::borrow::Cow<'_, [VarId]> {
        if let [base] = bases {
            return std::borrow::Cow::Borrowed(self.dependents_of(base));
        }
        let mut out: Vec<VarId> = bases.iter().flat_map(|base| self.dependents_of(base)).copied().collect();
        out.sort_unstable();
        out.dedup();
        std::borrow::Cow::Owned(out)
    }
}

/// Two sorted lists of needs as one, each at its shorter distance; `None`
/// when that is `have` (then nothing is built: most merges of the liveness
/// worklist change nothing).
fn merge_needs(have: &[(VarId, Distance)], add: &[(VarId, Distance)]) -> Option<Vec<(VarId, Distance)>> {
    if !adds_needs(have, add) {
        return None;
    }
    let mut out = Vec::with_capacity(have.len() + add.len());
    let (mut mine, mut theirs) = (have.iter().peekable(), add.iter().peekable());
    loop {
        match (mine.peek(), theirs.peek()) {
            (Some(&&(a, da)), Some(&&(b, db))) if a == b => {
                out.push((a, da.min(db)));
                mine.next();
                theirs.next();
            }
            (Some(&&(a, da)), Some(&&(b, _))) if a < b => {
                out.push((a, da));
                mine.next();
            }
            (_, Some(&&(b, db))) => {
                out.push((b, db));
                theirs.next();
            }
            (Some(&&(a, da)), None) => {
                out.push((a, da));
                mine.next();
            }
            (None, None) => break,
        }
    }
    Some(out)
}

/// Whether `add` has a need `have` lacks, or has at a shorter distance (both sorted).
fn adds_needs(have: &[(VarId, Distance)], add: &[(VarId, Distance)]) -> bool {
    let mut mine = have.iter().peekable();
    for &(var, distance) in add {
        while mine.next_if(|(candidate, _)| *candidate < var).is_some() {}
        match mine.peek() {
            Some(&&(candidate, known)) if candidate == var => {
                if distance < known {
                    return true;
                }
            }
            _ => return true,
        }
    }
    false
}

/// The examples' budget per workflow (see `Prepared::search_work_left`):
/// far above what the corpus and the examples spend.
pub const SEARCH_WORK: usize = 4_000_000;

/// Workflows up to this many nodes keep every live fact; larger ones only
/// those read within `HORIZON` exits.
const SMALL_WORKFLOW: usize = 64;
const HORIZON: Distance = 4;

/// How many cubes each list of the fixpoint keeps (`Exec::merge` hulls the
/// rest into the last kept): 8, and 4 in a workflow of more than
/// `SMALL_WORKFLOW` nodes. A hull only adds requests, so fewer cubes is
/// sound; on the generated workflows of 100 to 2,000 nodes the findings
/// and `flowc routes` are the same with 4 as with 8, and the fixpoint does
/// about a third less work (benches/README.md, tenth session).
pub fn fixpoint_cube_cap(nodes: usize) -> usize {
    if nodes > SMALL_WORKFLOW {
        4
    } else {
        8
    }
}

/// A need's distance in exits (`liveness`): small, and half the size of a
/// `usize` in the lists the liveness worklist merges.
type Distance = u32;

/// How far `facts_for` follows validate rules from the question's variables, and how many it takes.
const FACT_DEPTH: usize = 2;
const FACT_LIMIT: usize = 12;

/// What may have been written before each node: a bit per base, per
/// strongly connected component of the exits and returns.
#[derive(Debug, Default)]
pub struct Written {
    component_of: Vec<usize>,
    sets: Vec<Vec<u64>>,
    fields: usize,
}

impl Written {
    /// The component `node` is in: `before` gives the same answers for two
    /// nodes of one component.
    pub fn component(&self, node: usize) -> Option<usize> {
        self.component_of.get(node).copied()
    }

    pub fn before(&self, node: usize, base: &Base) -> bool {
        let index = match base {
            Base::Main(field) | Base::Column(field) => *field,
            Base::Table(table) => self.fields + table,
        };
        let Some(component) = self.component_of.get(node) else { return true };
        self.sets
            .get(*component)
            .and_then(|set| set.get(index / 64))
            .is_none_or(|word| word & (1u64 << (index % 64)) != 0)
    }
}

/// Marks the `if`s of `block` whose conditions read nothing in `needed`
/// (sorted: what is read after the block), and what those forget
/// (`forgetting_branch`, a script writing `all`), backwards statement by
/// statement; `needed` ends as what is read from the block's start on.
fn mark_block(block: &mut [PStmt], needed: &mut Vec<VarId>, all: &[Base]) {
    for statement in block.iter_mut().rev() {
        let mut reads = Vec::new();
        block_reads(std::slice::from_ref(statement), &mut reads);
        if let PStmt::If { branches, otherwise, unsplit, forgets } = statement {
            let mut conditions = Vec::new();
            for (condition, _) in branches.iter() {
                condition.vars(&mut conditions);
            }
            *unsplit = conditions.iter().all(|var| needed.binary_search(var).is_err());
            *forgets = if *unsplit { forgetting_branch(branches, otherwise, all) } else { None };
        }
        // What the statement writes is still needed before it when read
        // elsewhere (a branch may not write it): reads are only added.
        needed.extend(reads);
        needed.sort_unstable();
        needed.dedup();
    }
}

/// Of an unsplit `if`, the fields a branch only forgets (each assigned a
/// value the analysis cannot follow) when the other branches write no
/// other field: every request another branch gives is then among the
/// requests that branch gives, so running the `if` is running that branch
/// (the others' work would be dropped by `tidy` as within it).
fn forgetting_branch(branches: &[(Formula, Vec<PStmt>)], otherwise: &[PStmt], all: &[Base]) -> Option<Vec<Base>> {
    let blocks: Vec<&[PStmt]> =
        branches.iter().map(|(_, branch)| branch.as_slice()).chain(std::iter::once(otherwise)).collect();
    let forgets_only = |block: &[PStmt]| -> Option<Vec<usize>> {
        let mut fields = Vec::new();
        for statement in block {
            match statement {
                PStmt::Assign { field, formula: None, .. } => fields.push(*field),
                _ => return None,
            }
        }
        (!fields.is_empty()).then_some(fields)
    };
    let (chosen, forgotten) =
        blocks.iter().enumerate().find_map(|(index, block)| Some((index, forgets_only(block)?)))?;
    for (index, block) in blocks.iter().enumerate() {
        if index == chosen {
            continue;
        }
        // A script writes every base (`all`): never only the forgotten fields.
        let mut written = Vec::new();
        block_writes(block, all, &mut written);
        let within = written
            .iter()
            .all(|base| matches!(base, Base::Main(field) | Base::Column(field) if forgotten.contains(field)));
        if !within {
            return None;
        }
    }
    let mut bases: Vec<Base> = forgotten.into_iter().map(Base::Main).collect();
    bases.sort();
    bases.dedup();
    Some(bases)
}

/// The bases a block may write.
fn block_writes(block: &[PStmt], all: &[Base], out: &mut Vec<Base>) {
    for statement in block {
        match statement {
            PStmt::Assign { field, .. } => {
                out.push(Base::Main(*field));
                out.push(Base::Column(*field));
            }
            PStmt::If { branches, otherwise, .. } => {
                for (_, branch) in branches {
                    block_writes(branch, all, out);
                }
                block_writes(otherwise, all, out);
            }
            PStmt::Script => out.extend(all.iter().copied()),
        }
    }
}

/// The variables a block's conditions and assignments read.
fn block_reads(block: &[PStmt], out: &mut Vec<VarId>) {
    for statement in block {
        match statement {
            PStmt::Assign { new, formula, .. } => {
                if let Some(formula) = formula {
                    let mut vars = Vec::new();
                    formula.vars(&mut vars);
                    out.extend(vars.into_iter().filter(|var| var != new));
                }
            }
            PStmt::If { branches, otherwise, .. } => {
                for (condition, branch) in branches {
                    condition.vars(out);
                    block_reads(branch, out);
                }
                block_reads(otherwise, out);
            }
            PStmt::Script => {}
        }
    }
}

fn statements(model: &mut Model<'_>, block: &[Stmt]) -> Vec<PStmt> {
    block
        .iter()
        .map(|statement| match statement {
            Stmt::Assign { field, value, .. } => {
                let canonical = model.var(Key::Field(*field));
                let new = model.fresh(canonical);
                let formula = model.assignment(*field, value, new).map(|formula| formula.simplified(model));
                PStmt::Assign { field: *field, new, formula }
            }
            Stmt::If { branches, otherwise } => PStmt::If {
                branches: branches
                    .iter()
                    .map(|(condition, branch)| (model.condition(condition), statements(model, branch)))
                    .collect(),
                otherwise: statements(model, otherwise),
                unsplit: false,
                forgets: None,
            },
            Stmt::Script { .. } => PStmt::Script,
        })
        .collect()
}

/// The steps, over a model and its prepared translations.
pub struct Exec<'m, 'p> {
    pub model: &'m mut Model<'p>,
    pub prepared: &'m Prepared,
    pub mode: Mode,
    /// The most cubes a state keeps in `Project` mode before merging.
    pub cube_cap: usize,
}

impl Exec<'_, '_> {
    /// A formula over canonical variables, for this sym's moment.
    fn moment<'f>(&self, sym: &Sym, formula: &'f Formula) -> std::borrow::Cow<'f, Formula> {
        match self.mode {
            Mode::Project => std::borrow::Cow::Borrowed(formula),
            Mode::Version => std::borrow::Cow::Owned(formula.rename(&|var| sym.current(var))),
        }
    }

    /// Keeps the requests for which `formula` holds.
    pub fn assume(&self, state: State, formula: &Formula) -> State {
        if matches!(formula, Formula::True) {
            return state;
        }
        let mut out = Vec::with_capacity(state.len());
        // In `Project` mode every sym reads the formula as it is: its shape is found once.
        let shape = (self.mode == Mode::Project).then(|| Shape::of(formula));
        for mut sym in state {
            let at_moment = self.moment(&sym, formula);
            if self.mode == Mode::Version {
                self.prepared.add_blank(&mut sym.cube, &at_moment, self.model);
                sym.satisfiable = false;
            }
            let found;
            let shape = match &shape {
                Some(shape) => shape,
                None => {
                    found = Shape::of(&at_moment);
                    &found
                }
            };
            if let Shape::Conjunction(literals) = shape {
                // Only domains to narrow: done in place, no cube is copied.
                let touches_inequality =
                    literals.iter().any(|(var, _)| sym.cube.lins.iter().any(|linear| linear.mentions(*var)));
                if literals.iter().all(|(var, dom)| sym.cube.restrict(*var, dom, self.model)) {
                    sym.satisfiable &= !touches_inequality;
                    out.push(sym);
                }
                continue;
            }
            if let Shape::Choice(literals) = shape {
                // One cube per domain: a copy of the cube narrowed (the last takes the cube itself).
                // Still known possible after a narrowing that leaves every
                // inequality's variables alone (`inequalities_untouched`).
                let mut cube = Some(std::mem::take(&mut sym.cube));
                for (index, lit) in literals.iter().enumerate() {
                    // Asked of the cube before it is narrowed (the last literal takes it).
                    let touches_inequality = match lit {
                        Lit::Dom(var, _) => {
                            cube.as_ref().is_some_and(|cube| cube.lins.iter().any(|linear| linear.mentions(*var)))
                        }
                        Lit::Lin(_) => true,
                    };
                    let mut narrowed =
                        if index + 1 == literals.len() { cube.take() } else { cube.clone() }.unwrap_or_default();
                    if narrowed.add(lit, self.model) {
                        out.push(sym.with_cube(narrowed, sym.satisfiable && !touches_inequality));
                    }
                }
                continue;
            }
            match dnf(&at_moment, &sym.cube, self.model) {
                // The formula already held: the same requests, still known possible.
                Ok(cubes) if cubes.len() == 1 && cubes.first() == Some(&sym.cube) => out.push(sym),
                Ok(cubes) => {
                    for cube in cubes {
                        let satisfiable = sym.satisfiable && inequalities_untouched(&sym.cube, &cube);
                        out.push(sym.with_cube(cube, satisfiable));
                    }
                }
                // Too large to expand: keeping the requests unchanged is sound (more, never fewer).
                Err(_) => out.push(sym),
            }
        }
        self.tidy(out)
    }

    /// Forgets every variable of the state but `keep` (sorted).
    pub fn keep_only(&self, state: State, keep: &[VarId]) -> State {
        let mut out = Vec::with_capacity(state.len());
        for mut sym in state {
            let dropped = |var: VarId| keep.binary_search(&var).is_err();
            if sym.cube.lins.iter().any(|linear| linear.vars().any(dropped)) {
                forget_where(&mut sym.cube, &dropped, self.model);
            } else {
                // Only domains to drop: one walk down both sorted lists.
                let mut kept = keep.iter().peekable();
                sym.cube.doms.retain(|(var, _)| {
                    while kept.next_if(|candidate| *candidate < var).is_some() {}
                    kept.peek() == Some(&var)
                });
            }
            out.push(sym);
        }
        self.tidy(out)
    }

    /// Drops empty cubes, merges duplicates, and in `Project` mode keeps the list short.
    pub fn tidy(&self, state: State) -> State {
        // The fixpoint asks the solver only where a list is merged and where
        // a node's requests are kept (`settle`): between the two, a cube it
        // would find impossible only costs a little work, and asking after
        // every step was most of the fixpoint's time (on the generated
        // workflow, 125,000 questions and not one impossible cube).
        let solve_now = self.mode == Mode::Version;
        let keep = |sym: &mut Sym| {
            sym.satisfiable
                || !(sym.cube.is_trivially_empty()
                    || ((sym.cube.lins.is_empty() || solve_now) && !self.found_possible(sym)))
        };
        // Only `Project` mode drops cubes within others, and one cube has nothing to compare.
        if self.mode != Mode::Project || state.len() <= 1 {
            let mut out = state;
            out.retain_mut(keep);
            return out;
        }
        // The kept syms, and beside them (in the same order) the marks of each.
        let mut out: State = Vec::with_capacity(state.len());
        let mut marks_of: Vec<VarMarks> = Vec::with_capacity(state.len());
        // Every variable some kept cube constrains (a superset once cubes are
        // dropped): a cube that narrows a variable outside it contains none of them.
        let mut kept_constrained = 0u64;
        for mut sym in state {
            if !keep(&mut sym) {
                continue;
            }
            let marks = VarMarks::of(&sym.cube, self.model);
            // A cube within another is dropped. (An impossible cube can
            // never contain a possible one: this drops nothing possible.)
            let within = |inner: &Sym, inner_marks: &VarMarks, outer: &Sym, outer_marks: &VarMarks| {
                inner_marks.may_be_within(outer_marks) && inner.cube.is_subset(&outer.cube, self.model)
            };
            if out.iter().zip(&marks_of).any(|(other, other_marks)| within(&sym, &marks, other, other_marks)) {
                continue;
            }
            if marks.narrowed & !kept_constrained == 0 {
                let mut at = 0;
                while at < out.len() {
                    let dropped = match (out.get(at), marks_of.get(at)) {
                        (Some(other), Some(other_marks)) => within(other, other_marks, &sym, &marks),
                        _ => false,
                    };
                    if dropped {
                        out.remove(at);
                        marks_of.remove(at);
                    } else {
                        at += 1;
                    }
                }
            }
            kept_constrained |= marks.constrained;
            out.push(sym);
            marks_of.push(marks);
        }
        if out.len() > self.cube_cap {
            out = self.merge(out);
        }
        out
    }

    /// Merges the list down to `cube_cap` cubes, last into the one before,
    /// never widening a hull with an impossible cube: the solver is asked
    /// only about the cubes a merge takes (the others are asked where the
    /// fixpoint keeps them, `settle`).
    fn merge(&self, mut state: State) -> State {
        let cap = self.cube_cap.max(1);
        while state.len() > cap {
            let Some(mut last) = state.pop() else { break };
            if !self.found_possible(&mut last) {
                continue;
            }
            let Some(into) = state.last_mut() else {
                state.push(last);
                break;
            };
            if !self.found_possible(into) {
                *into = last;
                continue;
            }
            into.cube = hull(&into.cube, &last.cube, self.model);
        }
        state
    }

    /// Drops the cubes the solver finds impossible, asking only of those not
    /// yet known possible: what the fixpoint keeps for a node.
    pub fn settle(&self, state: State) -> State {
        let mut out: State = Vec::with_capacity(state.len());
        for mut sym in state {
            if self.found_possible(&mut sym) {
                out.push(sym);
            }
        }
        out
    }

    /// Whether the sym's requests are possible, asking the solver only if
    /// not known yet (and remembering its answer).
    fn found_possible(&self, sym: &mut Sym) -> bool {
        if !sym.satisfiable {
            sym.satisfiable = !feasible(&sym.cube, self.model).is_unsat();
        }
        sym.satisfiable
    }

    /// Forgets (or re-versions) everything depending on `bases`; new
    /// versions are recorded on the current step when `record` is set.
    pub fn havoc(&mut self, mut state: State, bases: &[Base], record: bool) -> State {
        let prepared = self.prepared;
        let vars = prepared.affected(bases);
        if !vars.is_empty() {
            self.forget(&mut state, &vars, record);
        }
        state
    }

    /// What the people of `node` may write forgets (`havoc` of its edits, found once).
    fn open_forgets(&mut self, mut state: State, node: usize, record: bool) -> State {
        let prepared = self.prepared;
        let vars: &[VarId] = prepared.edits_forget.get(node).map_or(&[], Vec::as_slice);
        if !vars.is_empty() {
            self.forget(&mut state, vars, record);
        }
        state
    }

    fn forget(&mut self, state: &mut State, vars: &[VarId], record: bool) {
        match self.mode {
            Mode::Project => {
                for sym in state.iter_mut() {
                    forget_where(&mut sym.cube, &|var| vars.binary_search(&var).is_ok(), self.model);
                }
            }
            Mode::Version => {
                for sym in state.iter_mut() {
                    let path = sym.path_mut();
                    path.dirty.extend(vars.iter().copied());
                    for &var in vars {
                        let fresh = self.model.fresh(var);
                        path.current.insert(var, fresh);
                        if record {
                            if let (Some(step), Some(info)) = (path.steps.last_mut(), self.model.info(var)) {
                                step.fresh.push((info.key.clone(), fresh));
                            }
                        }
                    }
                }
            }
        }
    }

    /// What changes by itself between two actions: the clock, who submitted.
    pub fn tick(&mut self, mut state: State) -> State {
        let prepared = self.prepared;
        if self.mode == Mode::Version {
            // One day for a whole path: a concrete run uses one `--now`.
            let mut vars = prepared.volatile.clone();
            vars.retain(|var| Some(*var) != prepared.today);
            self.forget(&mut state, &vars, false);
        } else {
            self.forget(&mut state, &prepared.volatile, false);
        }
        state
    }

    pub fn run(&mut self, state: State, block: &[PStmt]) -> State {
        let mut state = state;
        for statement in block {
            if state.is_empty() {
                break;
            }
            state = match statement {
                PStmt::Assign { field, new, formula } => self.assign(state, *field, *new, formula.as_ref()),
                PStmt::If { forgets: Some(forgotten), .. } if self.mode == Mode::Project => {
                    let forgot = self.havoc(state, forgotten, false);
                    self.tidy(forgot)
                }
                PStmt::If { branches, otherwise, unsplit: true, .. } if self.mode == Mode::Project => {
                    let mut out = Vec::new();
                    for (_, branch) in branches {
                        out.extend(self.run(state.clone(), branch));
                    }
                    out.extend(self.run(state, otherwise));
                    self.tidy(out)
                }
                PStmt::If { branches, otherwise, .. } => {
                    let mut out = Vec::new();
                    let mut rest = state;
                    for (condition, branch) in branches {
                        let taken = self.assume(rest.clone(), condition);
                        out.extend(self.run(taken, branch));
                        rest = self.assume(rest, &Formula::not(condition.clone()));
                    }
                    out.extend(self.run(rest, otherwise));
                    self.tidy(out)
                }
                PStmt::Script => {
                    let prepared = self.prepared;
                    let mut state = self.havoc(state, &prepared.all_bases, false);
                    for sym in &mut state {
                        if let Some(step) = sym.last_step_mut() {
                            step.scripted = true;
                        }
                    }
                    state
                }
            };
        }
        state
    }

    fn assign(&mut self, state: State, field: usize, new: VarId, formula: Option<&Formula>) -> State {
        let canonical = self.model.var(Key::Field(field));
        // What a change of the field forgets (`affected`, borrowed: it may list the field itself).
        let prepared = self.prepared;
        let dependents: &[VarId] = prepared.dependents_of(&Base::Main(field));
        let Some(formula) = formula else {
            return self.havoc(state, &[Base::Main(field)], false);
        };
        let mut out = Vec::new();
        // Whether the formula only narrows domains, found once: it is the same for every sym.
        let conjunction = (self.mode == Mode::Project).then(|| domain_conjunction(formula)).flatten();
        for mut sym in state {
            match self.mode {
                Mode::Project => {
                    let cubes = if let Some(literals) = &conjunction {
                        // A value of its own (`x = "done"`): narrowed, forgotten and renamed in place.
                        let mut cube = std::mem::take(&mut sym.cube);
                        if !literals.iter().all(|(var, dom)| cube.restrict(*var, dom, self.model)) {
                            continue;
                        }
                        forget_where(
                            &mut cube,
                            &|var| var == canonical || dependents.binary_search(&var).is_ok(),
                            self.model,
                        );
                        if let Some(cube) = cube.rename_one(new, canonical, self.model) {
                            sym.cube = cube;
                            sym.satisfiable = false;
                            out.push(sym);
                        }
                        continue;
                    } else {
                        match dnf(formula, &sym.cube, self.model) {
                            Ok(cubes) => cubes,
                            Err(_) => vec![sym.cube.clone()],
                        }
                    };
                    for mut cube in cubes {
                        forget_where(
                            &mut cube,
                            &|var| var == canonical || dependents.binary_search(&var).is_ok(),
                            self.model,
                        );
                        let renamed = cube.rename_one(new, canonical, self.model);
                        if let Some(cube) = renamed {
                            out.push(sym.with_cube(cube, false));
                        }
                    }
                }
                Mode::Version => {
                    let next = self.model.fresh(canonical);
                    let renamed = formula.rename(&|var| {
                        if var == new {
                            next
                        } else {
                            sym.current(var)
                        }
                    });
                    self.prepared.add_blank(&mut sym.cube, &renamed, self.model);
                    sym.satisfiable = false;
                    let cubes = dnf(&renamed, &sym.cube, self.model).unwrap_or_else(|_| vec![sym.cube.clone()]);
                    let mut base = sym.path.clone().unwrap_or_default();
                    base.dirty.push(canonical);
                    base.dirty.extend(dependents.iter().copied().filter(|var| *var != canonical));
                    for cube in cubes {
                        let mut path = base.clone();
                        path.current.insert(canonical, next);
                        for &dependent in dependents.iter().filter(|var| **var != canonical) {
                            let fresh = self.model.fresh(dependent);
                            path.current.insert(dependent, fresh);
                        }
                        out.push(Sym { cube, path: Some(path), satisfiable: false });
                    }
                }
            }
        }
        self.tidy(out)
    }

    /// A new request at the create node, as its creator filled it in.
    pub fn start(&mut self) -> State {
        let create = self.model.workflow.create;
        let steps = match self.mode {
            Mode::Version => {
                vec![StepRecord { node: create, act: Act::Create, taken: None, fresh: Vec::new(), scripted: false }]
            }
            Mode::Project => Vec::new(),
        };
        // The fixpoint leaves the blank form's values out: they are put back
        // at each query for what no node before has written (`facts_for`),
        // and without them the requests of a node converge much sooner. A
        // path search adds each as a formula first reads it (`add_blank`).
        let path = (!steps.is_empty()).then(|| Box::new(Path { steps, ..Path::default() }));
        let sym = Sym { cube: Cube::top(), path, satisfiable: true };
        let state = self.open_forgets(vec![sym], create, true);
        let before: &[_] = self.prepared.before.get(create).map_or(&[], Vec::as_slice);
        let state = self.run(state, before);
        self.open_step(state, create)
    }

    /// People at `node` write what it makes editable (a new step of the path).
    pub fn open_step(&mut self, mut state: State, node: usize) -> State {
        if self.mode == Mode::Version {
            for sym in &mut state {
                sym.path_mut().steps.push(StepRecord {
                    node,
                    act: Act::Submit,
                    taken: None,
                    fresh: Vec::new(),
                    scripted: false,
                });
            }
        }
        self.open_forgets(state, node, true)
    }

    /// From arrival to the moment the exits are tried: `required`,
    /// `validate` (in `Version` mode; the fixpoint leaves them to the
    /// queries), and the `after` block.
    pub fn decide(&mut self, state: State, node: usize) -> State {
        let mut state = self.assume(state, self.prepared.required.get(node).unwrap_or(&Formula::True));
        if self.mode == Mode::Version {
            // Rule by rule, keeping a bounded number of cubes: a path search
            // may miss a solution this way, never report a wrong one (every
            // solution is replayed).
            // Only the rules that read a variable given a new version since
            // they were last assumed on the path: the others hold already,
            // over the same versions (and before the first submit they read
            // the blank form, which the fixpoint's questions cover).
            let prepared = self.prepared;
            let mut rules: Vec<usize> = Vec::new();
            for sym in &mut state {
                let dirty = &mut sym.path_mut().dirty;
                dirty.sort_unstable();
                dirty.dedup();
                for var in dirty.iter() {
                    rules.extend(prepared.validates_by_var.get(*var as usize).into_iter().flatten());
                }
            }
            rules.sort_unstable();
            rules.dedup();
            let validates = rules.iter().filter_map(|&index| prepared.validates.get(index));
            let aggregates = prepared.aggregate_parts.iter().filter(|(_, reads)| {
                state.iter().any(|sym| reads.iter().any(|var| sym.dirty().binary_search(var).is_ok()))
            });
            let chosen: Vec<&(Formula, Vec<VarId>)> = validates.chain(aggregates).collect();
            for (rule, reads) in chosen {
                let mut next = Vec::with_capacity(state.len());
                for sym in state {
                    if reads.iter().any(|var| sym.dirty().binary_search(var).is_ok()) {
                        next.extend(self.assume(vec![sym], rule));
                    } else {
                        next.push(sym);
                    }
                }
                state = next;
                state.truncate(self.cube_cap);
            }
            for sym in &mut state {
                sym.path_mut().dirty.clear();
            }
        }
        let after: &[_] = self.prepared.after.get(node).map_or(&[], Vec::as_slice);
        self.run(state, after)
    }

    /// The requests that take exit `index` of `node` (from the decision
    /// moment), entering its target: after the target's `before`, when its
    /// operators are resolved (`open_step` then lets its people write).
    pub fn take_exit(&mut self, decided: &State, node: usize, index: usize) -> (usize, State) {
        let exits: &[Option<Formula>] = self.prepared.exits.get(node).map_or(&[], Vec::as_slice);
        let target =
            self.model.workflow.nodes.get(node).and_then(|n| n.exits.get(index)).map_or(node, |exit| exit.target);
        let mut state = decided.clone();
        // A fork takes every exit that holds (each starts a branch); other nodes the first.
        let forks = self.model.workflow.nodes.get(node).is_some_and(|n| n.fork.is_some());
        for (position, condition) in exits.iter().enumerate().take(index + 1) {
            let condition = condition.clone().unwrap_or(Formula::True);
            let formula = if position == index {
                condition
            } else if forks {
                continue;
            } else {
                Formula::not(condition)
            };
            state = self.assume(state, &formula);
        }
        self.leave_by_exit(state, node, index, target)
    }

    /// The requests that take exit `index` of `node`: the step records it,
    /// the exit's block runs, and they enter `target`.
    fn leave_by_exit(&mut self, mut state: State, node: usize, index: usize, target: usize) -> (usize, State) {
        for sym in &mut state {
            if let Some(step) = sym.last_step_mut() {
                step.taken = Some(index);
                step.act = Act::Submit;
            }
        }
        let block =
            self.prepared.exit_blocks.get(node).and_then(|blocks| blocks.get(index)).map_or(&[][..], Vec::as_slice);
        let state = self.run(state, block);
        (target, self.enter(state, target))
    }

    /// Every exit of `node` in turn, as `take_exit` takes each: the same assumptions in the same
    /// order, but the negations of the earlier exits are assumed once and carried from one exit to
    /// the next rather than again for each (linear in the exits, not quadratic).
    ///
    /// An exit into a target for which `skip` holds is not taken (its list is
    /// empty): the fixpoint skips a target that already holds every request.
    pub fn take_exits(&mut self, decided: &State, node: usize, skip: &dyn Fn(usize) -> bool) -> Vec<(usize, State)> {
        let exits: &[Option<Formula>] = self.prepared.exits.get(node).map_or(&[], Vec::as_slice);
        let forks = self.model.workflow.nodes.get(node).is_some_and(|n| n.fork.is_some());
        let mut rest = decided.clone();
        let mut out = Vec::with_capacity(exits.len());
        for (index, condition) in exits.iter().enumerate() {
            let target =
                self.model.workflow.nodes.get(node).and_then(|n| n.exits.get(index)).map_or(node, |exit| exit.target);
            let last = index + 1 == exits.len();
            if skip(target) {
                if !forks && !last {
                    rest = match condition {
                        None => Vec::new(),
                        Some(condition) => {
                            let rest = self.assume(rest, &Formula::not(condition.clone()));
                            self.keep_for_later_exits(rest, node, index)
                        }
                    };
                }
                out.push((target, Vec::new()));
                continue;
            }
            let state = match condition {
                // Every request left takes it (after it, none is left but at a fork): no copy.
                None if last || !forks => std::mem::take(&mut rest),
                None => rest.clone(),
                Some(condition) => {
                    let state = self.assume(if last { std::mem::take(&mut rest) } else { rest.clone() }, condition);
                    if !forks && !last {
                        rest = self.assume(rest, &Formula::not(condition.clone()));
                        rest = self.keep_for_later_exits(rest, node, index);
                    }
                    state
                }
            };
            out.push(self.leave_by_exit(state, node, index, target));
        }
        out
    }

    /// The requests that did not take exit `index`, without the domains
    /// that no later exit reads or leads to (`Prepared::later_exits_need`):
    /// the negation of an exit's condition splits a request into one per
    /// way it can fail, and requests that differ only in what nobody reads
    /// again are one. Only domains are dropped, of variables no inequality
    /// of the cube mentions: a domain found empty never survives `restrict`,
    /// so this forgets nothing about whether the requests are possible.
    fn keep_for_later_exits(&self, state: State, node: usize, index: usize) -> State {
        let Some(ir_node) = self.model.workflow.nodes.get(node) else { return state };
        let prepared = self.prepared;
        let needed = |var: VarId| prepared.later_exits_need(node, index, &ir_node.exits, var);
        let mut changed = false;
        let mut out = state;
        for sym in &mut out {
            let before = sym.cube.doms.len();
            let lins = &sym.cube.lins;
            sym.cube.doms.retain(|(var, _)| lins.iter().any(|linear| linear.mentions(*var)) || needed(*var));
            changed |= sym.cube.doms.len() != before;
        }
        if changed {
            self.tidy(out)
        } else {
            out
        }
    }

    /// The requests a deadline's `take` moves along exit `index` (or return) of `node`, from
    /// arrival: the system takes it whatever its condition, runs its block but not the node's
    /// `after` (nobody submitted).
    pub fn take_by_deadline(&mut self, arrived: &State, node: usize, index: usize, returns: bool) -> (usize, State) {
        let exits = self.model.workflow.nodes.get(node).map(|n| if returns { &n.returns } else { &n.exits });
        let target = exits.and_then(|exits| exits.get(index)).map_or(node, |exit| exit.target);
        let mut state = arrived.clone();
        for sym in &mut state {
            if let Some(step) = sym.last_step_mut() {
                step.taken = Some(index);
                step.act = if returns { Act::Reject } else { Act::Submit };
            }
        }
        let block: &[PStmt] = if returns {
            &[]
        } else {
            self.prepared.exit_blocks.get(node).and_then(|blocks| blocks.get(index)).map_or(&[][..], Vec::as_slice)
        };
        let state = self.run(state, block);
        (target, self.enter(state, target))
    }

    /// The requests rejected by return `index` of `node` (from arrival).
    pub fn take_return(&mut self, arrived: &State, node: usize, index: usize) -> (usize, State) {
        let returns: &[Option<Formula>] = self.prepared.returns.get(node).map_or(&[], Vec::as_slice);
        let target =
            self.model.workflow.nodes.get(node).and_then(|n| n.returns.get(index)).map_or(node, |exit| exit.target);
        let mut state = arrived.clone();
        for (position, condition) in returns.iter().enumerate().take(index + 1) {
            let condition = condition.clone().unwrap_or(Formula::True);
            let formula = if position == index { condition } else { Formula::not(condition) };
            state = self.assume(state, &formula);
        }
        for sym in &mut state {
            if let Some(step) = sym.last_step_mut() {
                step.taken = Some(index);
                step.act = Act::Reject;
            }
        }
        (target, self.enter(state, target))
    }

    /// Entering `target`: its `before` block (operators are resolved next).
    fn enter(&mut self, state: State, target: usize) -> State {
        let state = self.tick(state);
        let is_archive = self.model.workflow.nodes.get(target).is_some_and(|node| node.kind == NodeKind::Archive);
        if is_archive || state.is_empty() {
            return state;
        }
        let before: &[_] = self.prepared.before.get(target).map_or(&[], Vec::as_slice);
        self.run(state, before)
    }
}

/// The variables a cube mentions, hashed to 64 bits: a quick test that
/// rules out most pairs `tidy` compares before `Cube::is_subset` walks them.
#[derive(Debug, Clone, Copy)]
struct VarMarks {
    /// Every variable with a domain in the cube.
    constrained: u64,
    /// Those whose domain leaves out some value of their sort.
    narrowed: u64,
}

impl VarMarks {
    fn of(cube: &Cube, sorts: &dyn Sorts) -> VarMarks {
        let mut marks = VarMarks { constrained: 0, narrowed: 0 };
        for (var, dom) in &cube.doms {
            let mark = 1u64 << (var % 64);
            marks.constrained |= mark;
            if !sorts.holds_all(*var, dom) {
                marks.narrowed |= mark;
            }
        }
        marks
    }

    /// False when the first cube cannot be within the second: the second
    /// narrows a variable the first leaves free.
    fn may_be_within(&self, outer: &VarMarks) -> bool {
        outer.narrowed & !self.constrained == 0
    }
}

/// How `assume` takes a formula: narrowing domains in place, one copy of
/// the cube per literal, or through its disjunctive normal form.
enum Shape<'f> {
    Conjunction(Vec<(VarId, &'f Dom)>),
    Choice(Vec<Lit>),
    Other,
}

impl<'f> Shape<'f> {
    fn of(formula: &'f Formula) -> Shape<'f> {
        if let Some(literals) = domain_conjunction(formula) {
            return Shape::Conjunction(literals);
        }
        match domain_disjunction(formula) {
            Some(literals) => Shape::Choice(literals),
            None => Shape::Other,
        }
    }
}

/// The literals of a formula that only narrows domains (one domain literal,
/// or an `and` of them); `None` for anything else.
fn domain_conjunction(formula: &Formula) -> Option<Vec<(VarId, &Dom)>> {
    match formula {
        Formula::Lit(Lit::Dom(var, dom)) => Some(vec![(*var, dom)]),
        Formula::And(parts) => parts
            .iter()
            .map(|part| match part {
                Formula::Lit(Lit::Dom(var, dom)) => Some((*var, dom)),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The literals of a formula that is a choice of domains (an `or` of
/// domain literals, or the negation of an `and` of them, complemented);
/// `None` for anything else.
fn domain_disjunction(formula: &Formula) -> Option<Vec<Lit>> {
    let (parts, negated) = match formula {
        Formula::Or(parts) => (parts, false),
        Formula::Not(inner) => match inner.as_ref() {
            Formula::And(parts) => (parts, true),
            _ => return None,
        },
        _ => return None,
    };
    parts
        .iter()
        .map(|part| match part {
            Formula::Lit(Lit::Dom(var, dom)) if negated => Some(Lit::Dom(*var, dom.complement_everywhere())),
            // An inequality as it is (its negation is a choice of its own).
            Formula::Lit(lit @ Lit::Lin(_)) if !negated => Some(lit.clone()),
            Formula::Lit(lit @ Lit::Dom(..)) => Some(lit.clone()),
            _ => None,
        })
        .collect()
}

/// Whether `narrowed` (a narrowing of `cube`) has the same inequalities,
/// over the same domains of their variables, and no empty domain: then a
/// possible `cube` stays possible — the inequalities have the same
/// solutions, and the other variables each keep a value of their own.
/// (In the large generated workflow most narrowings are of this kind, and
/// the solver never found one of them impossible.)
fn inequalities_untouched(cube: &Cube, narrowed: &Cube) -> bool {
    cube.lins == narrowed.lins
        && !narrowed.is_trivially_empty()
        && cube.lins.iter().all(|linear| linear.vars().all(|var| cube.dom(var) == narrowed.dom(var)))
}

pub fn hull(a: &Cube, b: &Cube, sorts: &dyn Sorts) -> Cube {
    let mut out = Cube { doms: Vec::with_capacity(a.doms.len().min(b.doms.len())), lins: Vec::new() };
    for (var, dom) in &a.doms {
        if let Some(other) = b.dom(*var) {
            let joined: Dom = dom.union(other);
            if joined != sorts.sort(*var).universe() {
                out.doms.push((*var, joined));
            }
        }
    }
    out.lins = a.lins.iter().filter(|linear| b.lins.contains(linear)).cloned().collect();
    out
}

#[cfg(test)]
mod tests {
    use super::{forgetting_branch, mark_block, merge_needs, Base, Exec, Mode, PStmt, Sym, VarMarks};
    use crate::analysis::logic::{Cube, Dom, Formula, Intervals, Sort, Sorts, VarId};
    use crate::analysis::model::Model;

    /// Even variables: nullable integers; odd ones: three classes.
    struct Mixed;
    impl Sorts for Mixed {
        fn sort(&self, var: VarId) -> Sort {
            if var.is_multiple_of(2) {
                Sort::Num { scale: 0, nullable: true, min: None }
            } else {
                Sort::Fin { size: 3 }
            }
        }
    }

    #[test]
    fn marks_never_rule_out_a_cube_that_is_within_another() {
        // Random cubes over variables 0..140, so that some share a mark
        // (64 marks), with domains that hold every value now and then.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |bound: u64| crate::analysis::logic::testing::below(&mut seed, bound);
        let mut within = 0;
        for _ in 0..4000 {
            let mut cube = || {
                let mut cube = Cube::top();
                for _ in 0..next(4) {
                    let var = if next(2) == 0 { next(6) as VarId } else { next(140) as VarId };
                    let dom = if var.is_multiple_of(2) {
                        let low = next(3) as i128;
                        match next(3) {
                            0 => Dom::Num { null: true, set: Intervals::full() },
                            1 => Dom::Num { null: next(2) == 0, set: Intervals::at_least(low) },
                            _ => Dom::not_null(),
                        }
                    } else {
                        Dom::fin(1 + next(7) as u128)
                    };
                    cube.restrict(var, &dom, &Mixed);
                }
                cube
            };
            let (inner, outer) = (cube(), cube());
            let subset = inner.is_subset(&outer, &Mixed);
            within += usize::from(subset);
            let (inner_marks, outer_marks) = (VarMarks::of(&inner, &Mixed), VarMarks::of(&outer, &Mixed));
            assert!(
                inner_marks.may_be_within(&outer_marks) || !subset,
                "ruled out a cube within another: {inner:?} in {outer:?}"
            );
        }
        assert!(within > 100, "the test must see cubes within others ({within})");
    }

    /// `if v{cond} { field 0 = v{read} }`, as the fixpoint's block holds it (new value: variable 99).
    fn branch_on(cond: u32, read: u32) -> PStmt {
        PStmt::If {
            branches: vec![(
                Formula::dom(cond, Dom::fin(1)),
                vec![PStmt::Assign { field: 0, new: 99, formula: Some(Formula::dom(read, Dom::fin(1))) }],
            )],
            otherwise: Vec::new(),
            unsplit: false,
            forgets: None,
        }
    }

    fn unsplit(statement: &PStmt) -> bool {
        matches!(statement, PStmt::If { unsplit: true, .. })
    }

    #[test]
    fn an_if_is_unsplit_only_when_nothing_after_reads_its_condition() {
        // Needed after the block: variable 5. The second `if` reads 5 in its
        // branch, so 5 is needed before it, and the first `if` splits on 5.
        let mut block = vec![branch_on(5, 1), branch_on(2, 5), branch_on(3, 4)];
        let mut needed = vec![5];
        mark_block(&mut block, &mut needed, &[]);
        assert!(!unsplit(&block[0]), "its condition reads 5, which the next `if` reads");
        assert!(unsplit(&block[1]), "nothing after reads 2");
        assert!(unsplit(&block[2]), "nothing after reads 3");
        assert_eq!(needed, vec![1, 2, 3, 4, 5]);
        // The last `if`'s condition needed after the block: it splits.
        let mut block = vec![branch_on(3, 4)];
        mark_block(&mut block, &mut vec![3], &[]);
        assert!(!unsplit(&block[0]));
    }

    /// Checks and lowers `text` (one workflow, no errors) and runs `each` on
    /// its model and prepared translations.
    #[allow(clippy::expect_used)]
    fn with_prepared<T>(text: &str, each: &mut dyn FnMut(&mut Model<'_>, &super::Prepared) -> T) -> T {
        let analysis = crate::check::check_source("test.flow", text);
        assert_eq!(analysis.error_count(), 0, "{:?}", analysis.diagnostics);
        let program = crate::ir::lower(&analysis).expect("lowered");
        let workflow = program.workflows.first().expect("a workflow");
        let texts: Vec<std::sync::Arc<str>> = analysis.sources.files().map(|(_, file)| file.text.clone()).collect();
        let mut model = Model::new(&program, workflow, &texts).expect("a model");
        let prepared = super::Prepared::new(&mut model);
        each(&mut model, &prepared)
    }

    /// A chain of `nodes` approve nodes after the create node, each with a
    /// `return` to the create node; the first reads 金额, the second writes it.
    fn chain_with_returns_to_the_start(nodes: usize) -> String {
        let mut text = String::from("form 单 {\n  金额: money \"金额\"\n  备注: text(20) \"备注\"\n}\n");
        text.push_str("workflow 流程 {\n  form 单\n");
        text.push_str(
            "  node 开始: create {\n    operators { everyone }\n    editable 备注\n    exit 提交 -> 节点1\n  }\n",
        );
        for index in 1..=nodes {
            let next = if index == nodes { "结束".to_owned() } else { format!("节点{}", index + 1) };
            let condition = if index == 1 { " when 金额 > 100" } else { "" };
            text.push_str(&format!(
                "  node 节点{index}: approve {{\n    operators {{ role(\"审批人\") }}\n    exit 同意 -> {next}{condition}\n"
            ));
            if index == 1 {
                text.push_str("    exit 小额 -> 节点2\n");
            }
            if index == 2 {
                text.push_str("    editable 金额\n");
            }
            text.push_str("    return 退回 -> 开始\n  }\n");
        }
        text.push_str("  node 结束: archive\n}\n");
        text
    }

    /// A chain of `nodes` approve nodes whose exits split the requests by a
    /// select and an amount, each node's `after` block writing the amount:
    /// many cubes per node. The exits cover every request only where the
    /// select is not empty, which the create node requires.
    fn chain_of_splitting_exits(nodes: usize) -> String {
        let mut text = String::from(
            "form 单 {\n  金额: money \"金额\"\n  单价: money \"单价\"\n  类别: select \"类别\" { 甲 \"甲\"\n 乙 \"乙\"\n 丙 \"丙\" }\n}\n",
        );
        text.push_str("workflow 流程 {\n  form 单\n");
        text.push_str(
            "  node 开始: create {\n    operators { everyone }\n    editable 金额, 单价, 类别\n    required 类别\n    exit 提交 -> 节点1\n  }\n",
        );
        for index in 1..=nodes {
            let next = if index == nodes { "结束".to_owned() } else { format!("节点{}", index + 1) };
            text.push_str(&format!(
                "  node 节点{index}: approve {{\n    operators {{ role(\"审批人\") }}\n    after {{\n      if 类别 == \"乙\" and 金额 > {index} {{ 金额 = 单价 }} else {{ 单价 = 金额 }}\n    }}\n"
            ));
            text.push_str(&format!("    exit 大额 -> {next} when 类别 == \"甲\" and 金额 > {}\n", 100 * index));
            for option in ["甲", "乙", "丙"] {
                text.push_str(&format!("    exit {option} -> {next} when 类别 == \"{option}\"\n"));
            }
            text.push_str("    return 退回 -> 开始\n  }\n");
        }
        text.push_str("  node 结束: archive\n}\n");
        text
    }

    /// A large workflow's fixpoint keeps four cubes per list, not eight
    /// (`fixpoint_cube_cap`), and still proves what eight prove: here, that
    /// every request at every node matches one of its exits, which needs
    /// what reaches the node (the select is not empty).
    #[test]
    #[allow(clippy::expect_used)]
    fn four_cubes_in_a_large_workflow_prove_what_eight_prove() {
        use crate::analysis::logic::{dnf, Cube};
        use crate::analysis::solve::feasible;
        let nodes = super::SMALL_WORKFLOW + 6;
        assert_eq!(super::fixpoint_cube_cap(super::SMALL_WORKFLOW), 8);
        assert_eq!(super::fixpoint_cube_cap(nodes + 2), 4, "the chain with its create and archive nodes");
        with_prepared(&chain_of_splitting_exits(nodes), &mut |model, prepared| {
            // "Matches no exit" at a node, with the facts the findings add (`Context::with_facts`).
            let none_at = |node: usize| -> Formula {
                let exits = prepared.exits.get(node).expect("the node's exits");
                let none = Formula::and(exits.iter().flatten().map(|c| Formula::not(c.clone())).collect());
                let mut read = Vec::new();
                none.vars(&mut read);
                Formula::and(vec![none, prepared.facts_for(node, &read)])
            };
            let possible = |model: &Model<'_>, formula: &Formula, cubes: &[Cube]| {
                cubes.iter().any(|cube| {
                    dnf(formula, cube, model).expect("small").iter().any(|cube| !feasible(cube, model).is_unsat())
                })
            };
            for node in 1..=nodes {
                assert!(possible(model, &none_at(node), &[Cube::top()]), "节点{node}'s exits alone leave requests out");
            }
            let mut longest = Vec::new();
            for cube_cap in [8, 4] {
                let mut exec = Exec { model: &mut *model, prepared, mode: Mode::Project, cube_cap };
                let reach = crate::analysis::reach::fixpoint(&mut exec);
                longest.push(reach.decided.iter().map(Vec::len).max().unwrap_or(0));
                for node in 1..=nodes {
                    let cubes: Vec<Cube> =
                        reach.decided.get(node).into_iter().flatten().map(|sym| sym.cube.clone()).collect();
                    assert!(!cubes.is_empty(), "节点{node} is reached with {cube_cap} cubes");
                    assert!(
                        !possible(exec.model, &none_at(node), &cubes),
                        "with {cube_cap} cubes, every request at 节点{node} takes an exit"
                    );
                }
            }
            assert!(longest.first().is_some_and(|&most| most > 4), "eight cubes are used: {longest:?}");
            assert!(longest.get(1).is_some_and(|&most| most <= 4), "four at most: {longest:?}");
        });
    }

    /// What a node reads is live at every node that can return a request to
    /// it within the horizon, except across a return to the create node of a
    /// large workflow (the request starts over).
    #[test]
    #[allow(clippy::expect_used)]
    fn a_large_workflow_keeps_nothing_alive_for_a_return_to_the_start() {
        use crate::analysis::model::Key;
        let live_amount_at = |nodes: usize| -> (bool, bool) {
            with_prepared(&chain_with_returns_to_the_start(nodes), &mut |model, prepared| {
                let amount = model.canonical_of(&Key::Field(0)).expect("金额 is a variable");
                // 节点3 returns to the start, two exits before 节点1 reads 金额 again
                // (节点2 writes it, so only the way round the start keeps it alive).
                let at_third = prepared.live.get(3).is_some_and(|live| live.contains(&amount));
                let at_first = prepared.live.get(1).is_some_and(|live| live.contains(&amount));
                (at_first, at_third)
            })
        };
        assert_eq!(live_amount_at(8), (true, true), "a small workflow keeps it for the way round");
        assert_eq!(live_amount_at(super::SMALL_WORKFLOW + 4), (true, false), "a large one starts over");
    }

    /// `if 加急 { 金额 = round(单价 * 1.1, 2) } else { 金额 = 单价 }` where
    /// nothing after reads 加急: the first branch only forgets 金额 (the
    /// analysis cannot follow the rounding), so the `if` is run as that
    /// branch alone, and it gives the same requests as running every branch.
    #[test]
    #[allow(clippy::expect_used)]
    fn an_unsplit_if_with_a_forgetting_branch_gives_what_every_branch_gives() {
        use crate::analysis::model::Key;
        let mut text = String::from(
            "form 单 {\n  金额: money \"金额\"\n  单价: money \"单价\"\n  加急: check \"加急\"\n  备注: text(20) \"备注\"\n}\n",
        );
        text.push_str("workflow 流程 {\n  form 单\n");
        text.push_str("  node 开始: create {\n    operators { everyone }\n    editable 金额, 单价, 加急, 备注\n    exit 提交 -> 节点1\n  }\n");
        let nodes = super::SMALL_WORKFLOW + 4;
        for index in 1..=nodes {
            let next = if index == nodes { "结束".to_owned() } else { format!("节点{}", index + 1) };
            text.push_str(&format!("  node 节点{index}: approve {{\n    operators {{ role(\"审批人\") }}\n"));
            if index == 1 {
                text.push_str("    after {\n      if 加急 {\n        金额 = round(单价 * 1.1, 2)\n      } else {\n        金额 = 单价\n      }\n    }\n");
            }
            text.push_str(&format!("    exit 大额 -> {next} when 金额 > 100\n    exit 同意 -> {next}\n  }}\n"));
        }
        text.push_str("  node 结束: archive\n}\n");
        with_prepared(&text, &mut |model, prepared| {
            let after = prepared.after.get(1).cloned().unwrap_or_default();
            assert!(
                matches!(after.as_slice(), [PStmt::If { unsplit: true, .. }]),
                "节点1's after block is one unsplit `if`: {after:?}"
            );
            let [PStmt::If { branches, otherwise, .. }] = after.as_slice() else { return };
            assert_eq!(
                forgetting_branch(branches, otherwise, &prepared.all_bases),
                Some(vec![Base::Main(0)]),
                "the first branch forgets 金额"
            );
            let price = model.canonical_of(&Key::Field(1)).expect("单价 is a variable");
            let amount = model.canonical_of(&Key::Field(0)).expect("金额 is a variable");
            // Requests with 单价 at most 50 and 金额 at least 200.
            let mut cube = Cube::top();
            cube.restrict(price, &Dom::Num { null: false, set: Intervals::at_most(5000) }, &*model);
            cube.restrict(amount, &Dom::Num { null: false, set: Intervals::at_least(20000) }, &*model);
            let cube_cap = super::fixpoint_cube_cap(model.workflow.nodes.len());
            let mut exec = Exec { model, prepared, mode: Mode::Project, cube_cap };
            let shortcut = exec.run(vec![Sym::anything(cube.clone())], &after);
            let mut every_branch = Vec::new();
            for (_, branch) in branches {
                every_branch.extend(exec.run(vec![Sym::anything(cube.clone())], branch));
            }
            every_branch.extend(exec.run(vec![Sym::anything(cube.clone())], otherwise));
            let every_branch = exec.tidy(every_branch);
            let within = |inner: &[Sym], outer: &[Sym]| {
                inner.iter().all(|sym| outer.iter().any(|other| sym.cube.is_subset(&other.cube, &*exec.model)))
            };
            assert!(
                within(&shortcut, &every_branch) && within(&every_branch, &shortcut),
                "{shortcut:?} vs {every_branch:?}"
            );
            // 金额 is forgotten, 单价 kept.
            assert!(shortcut.iter().all(|sym| sym.cube.dom(amount).is_none() && sym.cube.dom(price).is_some()));
        });
    }

    #[test]
    fn a_branch_that_only_forgets_stands_for_the_if_only_when_the_others_write_nothing_else() {
        let forget = |field: usize| PStmt::Assign { field, new: 90, formula: None };
        let set = |field: usize| PStmt::Assign { field, new: 91, formula: Some(Formula::dom(3, Dom::fin(1))) };
        let condition = Formula::dom(5, Dom::fin(1));
        // The bases a script writes: every field of a four-field form.
        let all = [Base::Main(0), Base::Main(1), Base::Main(2), Base::Main(3)];
        let branches = vec![(condition.clone(), vec![forget(0), forget(1)])];
        assert_eq!(forgetting_branch(&branches, &[set(1)], &all), Some(vec![Base::Main(0), Base::Main(1)]));
        assert_eq!(
            forgetting_branch(&branches, &[], &all),
            Some(vec![Base::Main(0), Base::Main(1)]),
            "else does nothing"
        );
        assert_eq!(forgetting_branch(&branches, &[set(2)], &all), None, "else writes another field");
        assert_eq!(forgetting_branch(&branches, &[set(0), PStmt::Script], &all), None, "a script writes anything");
        let both_set = vec![(condition, vec![set(0)])];
        assert_eq!(forgetting_branch(&both_set, &[set(0)], &all), None, "no branch only forgets");
        assert_eq!(forgetting_branch(&both_set, &[forget(0)], &all), Some(vec![Base::Main(0)]), "else may be the one");
    }

    #[test]
    fn needs_merge_at_the_shorter_distance() {
        let have = [(1, 0), (3, 2), (7, 1)];
        assert_eq!(merge_needs(&have, &[(3, 2), (7, 3)]), None);
        assert_eq!(merge_needs(&have, &[(0, 4), (3, 1), (9, 1)]), Some(vec![(0, 4), (1, 0), (3, 1), (7, 1), (9, 1)]));
        assert_eq!(merge_needs(&have, &[(7, 0)]), Some(vec![(1, 0), (3, 2), (7, 0)]));
        assert_eq!(merge_needs(&have, &[(8, 5)]), Some(vec![(1, 0), (3, 2), (7, 1), (8, 5)]));
        assert_eq!(merge_needs(&[], &[(2, 1)]), Some(vec![(2, 1)]));
        assert_eq!(merge_needs(&have, &[]), None);
    }
}
