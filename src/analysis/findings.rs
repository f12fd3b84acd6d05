//! The findings, node by node, from the fixpoint's requests: which
//! requests match no exit (W0701). Each finding is first decided on the
//! over-approximation (no request there: proved, nothing to say), then
//! shown by a path whose solution is replayed through the runtime; only a
//! replay that ends as the analysis said becomes a counterexample.

use std::sync::Arc;

use super::exec::{fixpoint_cube_cap, Exec, Mode, Prepared};
use super::logic::{any_cube, dnf, Formula, VarId};
use super::model::{Key, Model};
use super::reach::{fixpoint, Reach};
use super::replay::{build_trace, display_of, everyone, replay, universal_directory, Replayed};
use super::solve::{feasible, Model as Solution, Outcome};
use super::witness::{search, Limits};
use super::{Example, Expect, Finding, Report};
use crate::check::Analysis;
use crate::diag::Code;
use crate::ir;
use crate::org::MemoryDirectory;
use crate::runtime::compiled::Compiled;

/// What the over-approximation says about a question.
#[derive(Debug)]
pub enum Verdict {
    /// No request can: proved.
    Never,
    /// Possibly; `unknowns` are the values the analysis does not decide
    /// that the question itself reads; `concrete` when some solution leaves
    /// every such value free (a replay can then show it).
    Possible { unknowns: Vec<String>, concrete: bool },
    /// Too large to decide.
    Undecided,
}

/// Everything a workflow's findings need.
pub struct Context<'a, 'p> {
    pub analysis: &'a Analysis,
    pub workflow_index: usize,
    pub model: Model<'p>,
    pub prepared: Prepared,
    pub reach: Reach,
    /// The program as the runtime runs it, for replays.
    pub compiled: CompiledRef<'a>,
    /// The directory replays run against, and who may create a request in it.
    pub directory: DirectoryRef<'a>,
    /// Per (node, exit): whether some request takes it (`taken_possible`),
    /// asked by the traps, the shadowed and the overlapping exits alike.
    pub taken_cache: std::cell::RefCell<rustc_hash::FxHashMap<(usize, usize), bool>>,
}

/// Per component of the workflow (`Written::component`): the validate
/// rules that read a variable still blank there, by position.
type BlankRules = rustc_hash::FxHashMap<Option<usize>, Vec<usize>>;

/// The runtime's program for the replays: given, or compiled on the first
/// replay from the analysis's own lowering (a workflow without findings
/// never replays).
#[derive(Clone, Copy)]
pub enum CompiledRef<'a> {
    Built(&'a Compiled),
    OnFirstUse(&'a Analysis, &'a Arc<ir::Program>, &'a std::cell::OnceCell<Option<Compiled>>),
}

impl<'a> CompiledRef<'a> {
    pub fn get(self) -> Option<&'a Compiled> {
        match self {
            CompiledRef::Built(compiled) => Some(compiled),
            // Replays never run a script: a path through one is not replayed.
            CompiledRef::OnFirstUse(analysis, program, cell) => cell
                .get_or_init(|| {
                    Compiled::from_program(analysis, program.clone(), &|_| Ok(String::new()), Default::default()).ok()
                })
                .as_ref(),
        }
    }
}

/// The directory a replay runs against, with the people who may create the
/// request: given, built on the first replay (the universal directory of
/// `replay.rs`; a workflow without findings never replays), or none (no
/// replays at all).
#[derive(Clone, Copy)]
pub enum DirectoryRef<'a> {
    None,
    Given(&'a MemoryDirectory, &'a [String]),
    OnFirstUse(&'a ir::Program, &'a std::cell::OnceCell<Option<(MemoryDirectory, Vec<String>)>>),
}

impl<'a> DirectoryRef<'a> {
    pub fn get(self) -> Option<(&'a MemoryDirectory, &'a [String])> {
        match self {
            DirectoryRef::None => None,
            DirectoryRef::Given(directory, creators) => Some((directory, creators)),
            DirectoryRef::OnFirstUse(program, cell) => cell
                .get_or_init(|| {
                    let directory = universal_directory(program)?;
                    let creators = everyone(&directory);
                    Some((directory, creators))
                })
                .as_ref()
                .map(|(directory, creators)| (directory, creators.as_slice())),
        }
    }
}

/// Runs `each` on every workflow of the program, with its fixpoint
/// computed; `search_work` is each workflow's budget for examples.
pub fn for_each_workflow(analysis: &Analysis, search_work: usize, each: &mut dyn FnMut(&mut Context<'_, '_>)) {
    let Ok(program) = ir::lower(analysis).map(Arc::new) else { return };
    let texts: Vec<Arc<str>> = analysis.sources.files().map(|(_, file)| file.text.clone()).collect();
    let compiled = std::cell::OnceCell::new();
    let directory = std::cell::OnceCell::new();
    for (workflow_index, workflow) in program.workflows.iter().enumerate() {
        let Some(mut model) = Model::new(&program, workflow, &texts) else { continue };
        let prepared = Prepared::new(&mut model);
        prepared.set_search_work(search_work);
        let reach = {
            let cube_cap = fixpoint_cube_cap(workflow.nodes.len());
            let mut exec = Exec { model: &mut model, prepared: &prepared, mode: Mode::Project, cube_cap };
            fixpoint(&mut exec)
        };
        let mut context = Context {
            analysis,
            workflow_index,
            model,
            prepared,
            reach,
            compiled: CompiledRef::OnFirstUse(analysis, &program, &compiled),
            directory: DirectoryRef::OnFirstUse(&program, &directory),
            taken_cache: Default::default(),
        };
        each(&mut context);
    }
}

pub fn analyze(analysis: &Analysis, options: &super::Options<'_>) -> Report {
    let mut report = Report::default();
    for_each_workflow(analysis, options.search_work(), &mut |context| {
        let workflow = context.model.workflow;
        // A workflow whose first submit can never pass: nothing else matters.
        if let Some(finding) = context.first_submit_trap() {
            report.findings.push(finding);
            return;
        }
        let traps = context.traps();
        let admitted = match options.org {
            Some(org) => super::org::admitted(&context.model, org),
            None => Vec::new(),
        };
        let creator_fields = super::org::creator_fields(&mut context.model);
        for (node, ir_node) in workflow.nodes.iter().enumerate() {
            let mut found = Vec::new();
            if let Some(trap) = traps.iter().find(|(trap_node, _)| *trap_node == node) {
                // A trap says it all: its exits' own findings would only repeat it.
                report.findings.push(trap.1.clone());
                continue;
            }
            found.extend(context.exit_coverage(node));
            found.extend(context.shadowed_exits(node));
            found.extend(context.overlapping_exits(node));
            found.extend(context.empty_operators(node));
            found.extend(context.field_flow(node));
            if let Some(org) = options.org {
                found.extend(context.org_operators(node, org, &admitted, &creator_fields));
            }
            found.retain(|finding| !allows(ir_node, finding.code));
            report.findings.extend(found);
        }
        if let Some((node, finding)) = context.budget_spent() {
            if workflow.nodes.get(node).is_none_or(|ir_node| !allows(ir_node, finding.code)) {
                report.findings.push(finding);
            }
        }
    });
    report
}

/// Whether `node` accepts the finding `code` (`allow CODE "reason"`).
fn allows(node: &ir::Node, code: Code) -> bool {
    node.allows.iter().any(|allowed| allowed == code.as_str())
}

impl<'p> Context<'_, 'p> {
    /// A node of the workflow, borrowed from the program rather than from
    /// the context (so the model can be used mutably beside it).
    fn node(&self, node: usize) -> Option<&'p crate::ir::Node> {
        let workflow: &'p crate::ir::Workflow = self.model.workflow;
        workflow.nodes.get(node)
    }

    /// Can a request at the moment the exits of `node` are tried satisfy `query`?
    pub fn decide(&self, node: usize, query: &Formula) -> Verdict {
        let Some(decided) = self.reach.decided.get(node) else { return Verdict::Never };
        let (full, read) = self.with_facts(node, query);
        let mut possible = false;
        let mut concrete = false;
        let mut undecided = false;
        for sym in decided {
            let cubes = match dnf(&full, &sym.cube, &self.model) {
                Ok(cubes) => cubes,
                Err(_) => {
                    undecided = true;
                    continue;
                }
            };
            for cube in cubes {
                match feasible(&cube, &self.model) {
                    Outcome::Unsat => {}
                    Outcome::Unknown => undecided = true,
                    Outcome::Sat(_) => {
                        possible = true;
                        concrete |= !cube.doms.iter().any(|(var, _)| self.is_unsolved(*var))
                            && !cube.lins.iter().any(|linear| linear.vars().any(|var| self.is_unsolved(var)));
                    }
                }
                if concrete {
                    break;
                }
            }
            if concrete {
                break;
            }
        }
        if possible {
            Verdict::Possible { unknowns: self.unknowns_read(&read), concrete }
        } else if undecided {
            Verdict::Undecided
        } else {
            Verdict::Never
        }
    }

    /// `query` with the facts at the decision moment of `node` that bear on
    /// it, and the variables the query reads.
    fn with_facts(&self, node: usize, query: &Formula) -> (Formula, Vec<VarId>) {
        let mut read: Vec<VarId> = Vec::new();
        query.vars(&mut read);
        (Formula::and(vec![query.clone(), self.prepared.facts_for(node, &read)]), read)
    }

    /// Whether `decide` would not say `Never`, stopping at the first cube
    /// that may hold (`decide` goes on to look for a concrete one).
    fn possible(&self, node: usize, query: &Formula) -> bool {
        let Some(decided) = self.reach.decided.get(node) else { return false };
        let (full, _) = self.with_facts(node, query);
        decided.iter().any(|sym| {
            any_cube(&full, &sym.cube, &self.model, &mut |cube| !feasible(cube, &self.model).is_unsat()).unwrap_or(true)
        })
    }

    /// A value the analysis does not solve: an unknown expression, or a
    /// computed field it holds as a value of its own.
    fn is_unsolved(&self, var: VarId) -> bool {
        match self.model.info(var).map(|info| &info.key) {
            Some(Key::Unknown(_)) => true,
            Some(Key::Field(field)) => self.model.is_computed(*field),
            _ => false,
        }
    }

    /// The values among `vars` the analysis does not decide: unknown
    /// expressions, and computed fields it holds as values of their own.
    fn unknowns_read(&self, vars: &[VarId]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for &var in vars {
            let text = match self.model.info(var).map(|info| &info.key) {
                Some(Key::Unknown(index)) => {
                    self.model.unknowns.get(*index).map(|unknown| format!("`{}`", unknown.text))
                }
                Some(Key::Field(field)) if self.model.is_computed(*field) => {
                    let formula = self.model.form.fields.get(*field).and_then(|target| target.formula.as_ref());
                    formula.map(|formula| {
                        format!(
                            "`{}` (computed by `{}`)",
                            self.model.field_name(*field),
                            self.model.source_text(formula)
                        )
                    })
                }
                _ => None,
            };
            if let Some(text) = text {
                if !out.contains(&text) {
                    out.push(text);
                }
            }
        }
        out
    }

    /// A replayed request for which `query` holds at `node` and that ends as `expect` says.
    fn witness(&mut self, node: usize, query: &Formula, expect: &Expect, shown: &[VarId]) -> Option<Example> {
        if matches!(self.directory, DirectoryRef::None) {
            return None;
        }
        self.witness_in(node, query, expect, shown, self.directory)
    }

    /// As `witness`, run against `directory` with one of its creators creating the request.
    fn witness_in(
        &mut self,
        node: usize,
        query: &Formula,
        expect: &Expect,
        shown: &[VarId],
        directory: DirectoryRef<'_>,
    ) -> Option<Example> {
        let limits = Limits {
            at_arrival: *expect == Expect::Refused,
            at_entry: matches!(expect, Expect::NoOperators { .. } | Expect::Empty { on_entry: true, .. }),
            ..Limits::default()
        };
        // Built when the search first has a request to run: many searches
        // of a large workflow find none, and the runtime's program costs
        // about as much as a search.
        let compiled_ref = self.compiled;
        let node_name = self.node(node)?.name.clone();
        // For an order question, a program with the other exit written first.
        // Built on first need: most candidate requests fail before.
        let mut reordered: Option<Compiled> = None;
        let reorder = match expect {
            Expect::Exit { taken, also } => Some((taken.clone(), also.clone())),
            _ => None,
        };
        let analysis = self.analysis;
        let workflow_index = self.workflow_index;
        let today = self.prepared.today;
        let check = |replayed: &Replayed, again: Option<&Replayed>, trace: &super::Trace| -> bool {
            let replayed_set =
                |_: &Replayed, field: &str| trace.steps.last().and_then(|step| step.set.get(field)).cloned();
            match expect {
                Expect::NoExit => matches!(&replayed.last, Err(error) if error.code == Code::R0201),
                Expect::Exit { taken, also } => {
                    matches!(&replayed.last, Ok(step) if step.exit.as_deref() == Some(taken.as_str()))
                        && matches!(again.map(|again| &again.last), Some(Ok(step)) if step.exit.as_deref() == Some(also.as_str()))
                }
                Expect::Moves { exit } => {
                    matches!(&replayed.last, Ok(step) if step.exit.as_deref() == Some(exit.as_str()))
                }
                Expect::Refused => {
                    matches!(&replayed.last, Err(error) if matches!(error.code, Code::R0302 | Code::R0303))
                }
                Expect::NoOperators { .. } => matches!(&replayed.last, Err(error) if error.code == Code::R0204),
                Expect::Empty { field, on_entry } => {
                    let Some(index) = self.model.form.fields.iter().position(|candidate| &candidate.name == field)
                    else {
                        return false;
                    };
                    let is_empty = crate::runtime::values::value::Value::is_empty;
                    if *on_entry {
                        replayed
                            .after_last
                            .as_ref()
                            .is_some_and(|after| after.form.main.get(index).is_none_or(is_empty))
                    } else {
                        // The last submit's own `set`, else the value it found.
                        match replayed_set(replayed, field) {
                            Some(json) => json.is_null(),
                            None => replayed.before_last.form.main.get(index).is_none_or(is_empty),
                        }
                    }
                }
            }
        };
        let mut accept = |model: &Model<'_>, sym: &super::exec::Sym, solution: &Solution| {
            let trace = build_trace(model, sym, solution, today)?;
            let compiled = compiled_ref.get()?;
            let (directory, creators) = directory.get()?;
            let replayed = replay(compiled, directory, workflow_index, &trace, creators)?;
            let into_node = matches!(expect, Expect::NoOperators { .. } | Expect::Empty { on_entry: true, .. });
            if replayed.last_node != node_name && !into_node {
                return None;
            }
            let again = match &reorder {
                Some((taken, also)) => {
                    // As written first: an order question needs the first run to take `taken`.
                    if !matches!(&replayed.last, Ok(step) if step.exit.as_deref() == Some(taken.as_str())) {
                        return None;
                    }
                    if reordered.is_none() {
                        reordered = reorder_program(analysis, workflow_index, node, taken, also);
                    }
                    Some(replay(reordered.as_ref()?, directory, workflow_index, &trace, creators)?)
                }
                None => None,
            };
            if !check(&replayed, again.as_ref(), &trace) {
                return None;
            }
            let mut values = Vec::new();
            for &var in shown {
                let current = sym.current(var);
                if let Some(val) = solution.get(current) {
                    values.push((model.describe(var), display_of(model, current, val)));
                }
            }
            let notes = match &replayed.last {
                Err(error) => error.notes.clone(),
                Ok(_) => Vec::new(),
            };
            Some(Example { values, trace, expect: expect.clone(), notes })
        };
        search(&mut self.model, &self.prepared, node, query, limits, &mut accept)
    }

    /// The variables of `formula` an analyst can read in a counterexample.
    fn shown_vars(&self, formula: &Formula) -> Vec<VarId> {
        let mut shown: Vec<VarId> = Vec::new();
        formula.vars(&mut shown);
        shown.sort_unstable();
        shown.dedup();
        shown.retain(|var| !matches!(self.model.info(*var).map(|info| &info.key), Some(Key::Unknown(_))));
        shown
    }

    /// The exits' conditions of `node` (`true` for an exit without `when`).
    fn conditions(&self, node: usize) -> Vec<Formula> {
        self.prepared
            .exits
            .get(node)
            .map(|exits| exits.iter().map(|condition| condition.clone().unwrap_or(Formula::True)).collect())
            .unwrap_or_default()
    }

    /// Exit `index` is taken: every earlier one is false, it is true.
    /// At a fork, every exit that holds is taken: its own condition.
    fn taken(&self, node: usize, index: usize) -> Formula {
        let conditions = self.conditions(node);
        if self.node(node).is_some_and(|n| n.fork.is_some()) {
            return conditions.get(index).cloned().unwrap_or(Formula::True);
        }
        let mut parts: Vec<Formula> = conditions.iter().take(index).map(|c| Formula::not(c.clone())).collect();
        parts.extend(conditions.get(index).cloned());
        Formula::and(parts)
    }

    /// Whether some request may take exit `index` of `node` (not proved never), asked once.
    fn taken_possible(&self, node: usize, index: usize) -> bool {
        if let Some(&known) = self.taken_cache.borrow().get(&(node, index)) {
            return known;
        }
        let possible = self.possible(node, &self.taken(node, index));
        self.taken_cache.borrow_mut().insert((node, index), possible);
        possible
    }

    /// Whether some request is at `node` when it arrives (before its checks).
    fn arrives(&self, node: usize) -> bool {
        self.reach
            .arrival
            .get(node)
            .is_some_and(|state| state.iter().any(|sym| !feasible(&sym.cube, &self.model).is_unsat()))
    }

    /// Whether some request at `node` passes its required fields and each
    /// validate rule (checked one rule at a time, with the facts that bear
    /// on it: a rule that can never hold there is proof enough).
    fn submittable(&self, node: usize, blank_rules: &mut BlankRules) -> bool {
        let Some(arrival) = self.reach.arrival.get(node) else { return false };
        let required = self.prepared.required.get(node).cloned().unwrap_or(Formula::True);
        let possible = |formula: &Formula| {
            arrival.iter().any(|sym| match dnf(formula, &sym.cube, &self.model) {
                Ok(cubes) => cubes.iter().any(|cube| !feasible(cube, &self.model).is_unsat()),
                Err(_) => true,
            })
        };
        if !possible(&required) {
            return false;
        }
        // A rule over values people may have written holds for some of
        // them; what can make it fail for all is a blank value nobody wrote.
        // Which rules read one depends only on the node's component (`Written`).
        let component = self.prepared.written.component(node);
        let rules = blank_rules.entry(component).or_insert_with(|| {
            self.prepared
                .validates
                .iter()
                .enumerate()
                .filter(|(_, (_, vars))| self.prepared.any_still_blank(node, vars))
                .map(|(index, _)| index)
                .collect()
        });
        for (validate, vars) in rules.iter().filter_map(|&index| self.prepared.validates.get(index)) {
            let mut seeds = vars.clone();
            required.vars(&mut seeds);
            let query = Formula::and(vec![required.clone(), validate.clone(), self.prepared.facts_for(node, &seeds)]);
            if !possible(&query) {
                return false;
            }
        }
        true
    }

    /// Whether return `index` of `node` can be taken (by a reject, from arrival).
    fn return_takeable(&self, node: usize, index: usize) -> bool {
        let Some(returns) = self.prepared.returns.get(node) else { return false };
        let mut parts: Vec<Formula> = returns
            .iter()
            .take(index)
            .map(|condition| Formula::not(condition.clone().unwrap_or(Formula::True)))
            .collect();
        parts.push(returns.get(index).cloned().flatten().unwrap_or(Formula::True));
        let mut vars = Vec::new();
        for part in &parts {
            part.vars(&mut vars);
        }
        parts.push(self.prepared.aggregate_facts_for(&vars));
        let query = Formula::and(parts);
        self.reach.arrival.get(node).is_some_and(|state| {
            state.iter().any(|sym| match dnf(&query, &sym.cube, &self.model) {
                Ok(cubes) => cubes.iter().any(|cube| !feasible(cube, &self.model).is_unsat()),
                Err(_) => true,
            })
        })
    }

    /// E0704 at the create node, for the first submit: what the creator can
    /// fill in is all a new request holds, so a validate rule over fields
    /// only later nodes let anyone fill can fail for every new request.
    fn first_submit_trap(&mut self) -> Option<Finding> {
        let create = self.model.workflow.create;
        let ir_node = self.node(create)?;
        // A new request as its creator fills it, exactly (the blank form, then the creator's writes).
        let state = {
            let mut exec = Exec { model: &mut self.model, prepared: &self.prepared, mode: Mode::Version, cube_cap: 16 };
            let started = exec.start();
            exec.assume(started, &self.prepared.required.get(create).cloned().unwrap_or(Formula::True))
        };
        let current = |sym: &super::exec::Sym, formula: &Formula| formula.rename(&|var| sym.current(var));
        let mut failing = None;
        for (index, (validate, vars)) in self.prepared.validates.iter().enumerate() {
            let facts = self.prepared.aggregate_facts_for(vars);
            let query = Formula::and(vec![validate.clone(), facts]);
            let possible = state.iter().any(|sym| {
                let at_moment = current(sym, &query);
                let mut cube = sym.cube.clone();
                self.prepared.add_blank(&mut cube, &at_moment, &self.model);
                match dnf(&at_moment, &cube, &self.model) {
                    Ok(cubes) => cubes.iter().any(|cube| !feasible(cube, &self.model).is_unsat()),
                    Err(_) => true,
                }
            });
            if !possible {
                failing = Some(index);
                break;
            }
        }
        let index = failing?;
        let validate =
            self.model.form.validates.iter().filter(|validate| validate.detail.is_none()).nth(index)?.clone();
        let example = self.witness(create, &Formula::True, &Expect::Refused, &[])?;
        let text = self.model.source_text(&validate.condition);
        Some(Finding {
            code: Code::E0704,
            workflow: self.model.workflow.name.clone(),
            node: ir_node.name.clone(),
            message: format!(
                "no request can ever leave `{}`: `validate {text}` never holds for a new request",
                ir_node.name
            ),
            primary: (validate.condition.at, "false for whatever the creator fills in".into()),
            labels: vec![(ir_node.at, "counterexample: the runtime refuses the first submit (R0303)".into())],
            help: Some(
                "the rule reads fields the create node does not let the creator fill (or requires what nobody \
                 sets before the first submit); make them editable or required at the create node, or write the \
                 rule so an empty value passes (`x == null or …`)"
                    .into(),
            ),
            example: Some(example),
        })
    }

    /// E0704: the nodes requests reach and can never leave for an archive
    /// node, along exits and returns that some request can take. Loops
    /// through `return` are normal: a node is a trap only if no way out
    /// ever leads to an archive.
    fn traps(&mut self) -> Vec<(usize, Finding)> {
        let workflow = self.model.workflow;
        let count = workflow.nodes.len();
        let mut blank_rules = BlankRules::default();
        let arrives: Vec<bool> = workflow
            .nodes
            .iter()
            .enumerate()
            .map(|(node, ir_node)| ir_node.kind != crate::ir::NodeKind::Archive && self.arrives(node))
            .collect();
        // Asked only when an answer can matter (at most once per node).
        let mut submittable: Vec<Option<bool>> = vec![None; count];
        let can_submit =
            |context: &Self, node: usize, known: &mut Vec<Option<bool>>, blank_rules: &mut BlankRules| -> bool {
                if let Some(answer) = known.get(node).copied().flatten() {
                    return answer;
                }
                let answer = context.submittable(node, blank_rules);
                if let Some(slot) = known.get_mut(node) {
                    *slot = Some(answer);
                }
                answer
            };
        // Every way out of a node (target, index, is_exit), whether or not it can be taken.
        let candidates = |ir_node: &'p crate::ir::Node| {
            let exits = ir_node.exits.iter().enumerate().map(|(index, exit)| (exit.target, index, true));
            exits.chain(ir_node.returns.iter().enumerate().map(|(index, exit)| (exit.target, index, false)))
        };
        // Per node, the exits and returns a deadline takes (found once, not per way asked).
        let deadlines: Vec<Vec<(usize, bool)>> = workflow.nodes.iter().map(super::reach::deadline_takes).collect();
        let by_deadline = |node: usize, index: usize, is_exit: bool| {
            deadlines.get(node).is_some_and(|takes| takes.contains(&(index, !is_exit)))
        };
        // Whether a way can be taken: a deadline's `take` always (the timer
        // fires), an exit when a submit passes and some request takes it, a
        // return when some request arriving takes it.
        let takeable = |context: &Self,
                        node: usize,
                        (_, index, is_exit): (usize, usize, bool),
                        known: &mut Vec<Option<bool>>,
                        blank_rules: &mut BlankRules| {
            if by_deadline(node, index, is_exit) {
                return true;
            }
            if is_exit {
                can_submit(context, node, known, blank_rules) && context.taken_possible(node, index)
            } else {
                context.return_takeable(node, index)
            }
        };
        // The nodes from which an archive node can be reached, backwards
        // from the archives: a node finishes once one of its ways that leads
        // to a finishing node can be taken. Only the ways into finishing
        // nodes are asked, so a node that finishes by its first exit has
        // the others left alone (the shadowed and overlapping exits ask
        // what they need; `taken_possible` remembers).
        let mut finishes: Vec<bool> =
            workflow.nodes.iter().map(|node| node.kind == crate::ir::NodeKind::Archive).collect();
        let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (node, ir_node) in workflow.nodes.iter().enumerate() {
            for (target, _, _) in candidates(ir_node) {
                if let Some(list) = predecessors.get_mut(target) {
                    if list.last() != Some(&node) {
                        list.push(node);
                    }
                }
            }
        }
        let mut queue: Vec<usize> = (0..count).filter(|&node| finishes.get(node).copied().unwrap_or(false)).collect();
        while let Some(done) = queue.pop() {
            for &node in predecessors.get(done).into_iter().flatten() {
                if finishes.get(node).copied().unwrap_or(true) || !arrives.get(node).copied().unwrap_or(false) {
                    continue;
                }
                let Some(ir_node) = workflow.nodes.get(node) else { continue };
                let reaches = candidates(ir_node)
                    .any(|way| way.0 == done && takeable(self, node, way, &mut submittable, &mut blank_rules));
                if reaches {
                    if let Some(slot) = finishes.get_mut(node) {
                        *slot = true;
                    }
                    queue.push(node);
                }
            }
        }
        // What the findings below say about a node that never finishes:
        // whether a submit passes, and every way it can take (all of them asked).
        let mut ways_of: Vec<Vec<(usize, usize, bool)>> = vec![Vec::new(); count];
        let mut submits: Vec<bool> = vec![false; count];
        for (node, ir_node) in workflow.nodes.iter().enumerate() {
            if !arrives.get(node).copied().unwrap_or(false) || finishes.get(node).copied().unwrap_or(true) {
                continue;
            }
            let ways: Vec<(usize, usize, bool)> = candidates(ir_node)
                .filter(|&way| takeable(self, node, way, &mut submittable, &mut blank_rules))
                .collect();
            if let (Some(slot), Some(submit)) = (ways_of.get_mut(node), submits.get_mut(node)) {
                *slot = ways;
                *submit = can_submit(self, node, &mut submittable, &mut blank_rules);
            }
        }
        let (takeable, submittable) = (ways_of, submits);
        let mut out = Vec::new();
        for (node, ir_node) in workflow.nodes.iter().enumerate() {
            if !arrives.get(node).copied().unwrap_or(false) || finishes.get(node).copied().unwrap_or(true) {
                continue;
            }
            let ways = takeable.get(node).cloned().unwrap_or_default();
            let workflow_name = workflow.name.clone();
            let finding = if !submittable.get(node).copied().unwrap_or(false) {
                let Some(example) = self.witness(node, &Formula::True, &Expect::Refused, &[]) else { continue };
                Finding {
                    code: Code::E0704,
                    workflow: workflow_name,
                    node: ir_node.name.clone(),
                    message: format!(
                        "requests that reach `{}` can never leave it: no submit passes its required fields and validate rules",
                        ir_node.name
                    ),
                    primary: (ir_node.at, "every request that arrives here stays".into()),
                    labels: vec![(ir_node.at, "counterexample: the runtime refuses the submit (R0302/R0303)".into())],
                    help: Some(
                        "a `validate` that can never hold together with the node's `required` fields and what reaches \
                         it; relax the rule, or make the fields it needs editable before"
                            .into(),
                    ),
                    example: Some(example),
                }
            } else if ways.iter().all(|(_, _, is_exit)| !is_exit) {
                let shown = self.shown_vars(&Formula::and(self.conditions(node)));
                let Some(example) = self.witness(node, &Formula::True, &Expect::NoExit, &shown) else { continue };
                let labels = ir_node
                    .exits
                    .iter()
                    .filter_map(|exit| exit.condition.as_ref().map(|c| (c.at, "never holds here".to_owned())))
                    .chain(std::iter::once((
                        ir_node.at,
                        format!(
                            "counterexample: {} arrives, and the runtime refuses its submit (R0201)",
                            describe_values(&example.values)
                        ),
                    )))
                    .collect();
                let returns = if ways.is_empty() {
                    String::new()
                } else {
                    let targets: std::collections::BTreeSet<String> = ways
                        .iter()
                        .filter_map(|(target, _, _)| workflow.nodes.get(*target).map(|node| format!("`{}`", node.name)))
                        .collect();
                    format!(
                        ", and its returns lead only to {}, which never finish",
                        targets.into_iter().collect::<Vec<_>>().join(", ")
                    )
                };
                Finding {
                    code: Code::E0704,
                    workflow: workflow_name,
                    node: ir_node.name.clone(),
                    message: format!(
                        "requests that reach `{}` can never leave it: none of its exits can ever be taken{returns}",
                        ir_node.name
                    ),
                    primary: (ir_node.at, "every request that arrives here stays".into()),
                    labels,
                    help: Some(
                        "what reaches the node (its `validate` rules, required fields, the exits taken on the way) rules \
                         every exit out; add an exit without `when`, or correct the conditions"
                            .into(),
                    ),
                    example: Some(example),
                }
            } else {
                let targets: Vec<String> = ways
                    .iter()
                    .filter_map(|(target, _, _)| workflow.nodes.get(*target).map(|node| format!("`{}`", node.name)))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let mut example = None;
                for &(_, index, is_exit) in &ways {
                    if !is_exit {
                        continue;
                    }
                    let Some(exit) = ir_node.exits.get(index) else { continue };
                    let expect = Expect::Moves { exit: exit.name.clone() };
                    example = self.witness(node, &self.taken(node, index), &expect, &[]);
                    if example.is_some() {
                        break;
                    }
                }
                let Some(example) = example else { continue };
                Finding {
                    code: Code::E0704,
                    workflow: workflow_name,
                    node: ir_node.name.clone(),
                    message: format!(
                        "requests that reach `{}` can never finish: its ways out lead only to {}, from which no archive node can be reached",
                        ir_node.name,
                        targets.join(", ")
                    ),
                    primary: (ir_node.at, "requests that arrive here never reach an archive node".into()),
                    labels: Vec::new(),
                    help: Some(
                        "along the exits some request can take, no path leads to an archive node; give the loop a way \
                         out whose condition can hold"
                            .into(),
                    ),
                    example: Some(example),
                }
            };
            out.push((node, finding));
        }
        out
    }

    /// W0705: the requests for which every batch of `node`'s operators
    /// is empty whatever the directory holds (a `when` that no line meets,
    /// a people field left empty): the submit that leads there is refused.
    fn empty_operators(&mut self, node: usize) -> Option<Finding> {
        let ir_node = self.node(node)?;
        if matches!(ir_node.kind, crate::ir::NodeKind::Create | crate::ir::NodeKind::Archive) {
            return None;
        }
        let empty = self.prepared.nobody.get(node).cloned().unwrap_or(Formula::False);
        if empty == Formula::False {
            return None;
        }
        let entered = self.reach.entered.get(node)?;
        let mut vars = Vec::new();
        empty.vars(&mut vars);
        let query = Formula::and(vec![empty.clone(), self.prepared.aggregate_facts_for(&vars)]);
        let possible = entered.iter().any(|sym| match dnf(&query, &sym.cube, &self.model) {
            Ok(cubes) => cubes.iter().any(|cube| !feasible(cube, &self.model).is_unsat()),
            Err(_) => false,
        });
        if !possible {
            return None;
        }
        let shown = self.shown_vars(&empty);
        let expect = Expect::NoOperators { node: ir_node.name.clone() };
        let example = self.witness(node, &empty, &expect, &shown)?;
        let described = describe_values(&example.values);
        let mut labels: Vec<(ir::Loc, String)> = example.notes.clone();
        labels.push((ir_node.at, format!("counterexample: {described} (the runtime refuses to enter: R0204)")));
        Some(Finding {
            code: Code::W0705,
            workflow: self.model.workflow.name.clone(),
            node: ir_node.name.clone(),
            message: format!(
                "for {described}, every batch of `{}` comes up empty: the request cannot enter it",
                ir_node.name
            ),
            primary: (ir_node.at, "nobody handles these requests".into()),
            labels,
            help: Some(
                "add a batch without `when` as a fallback (a role, a fixed person), or make the field the \
                 operators come from required before"
                    .into(),
            ),
            example: Some(example),
        })
    }

    /// W0705 with `--org`: the creators for whom the directory leaves every
    /// batch of `node` empty (no manager, no head, a role nobody holds in
    /// their department, a `where` nobody passes), for some request.
    fn org_operators(
        &mut self,
        node: usize,
        org: &MemoryDirectory,
        admitted: &[String],
        creator_fields: &[usize],
    ) -> Option<Finding> {
        let ir_node = self.node(node)?;
        if matches!(ir_node.kind, crate::ir::NodeKind::Create | crate::ir::NodeKind::Archive) || admitted.is_empty() {
            return None;
        }
        let groups = super::org::group(&mut self.model, org, ir_node, admitted, creator_fields);
        if groups.creator_lines.is_empty() {
            return None;
        }
        let entered = self.reach.entered.get(node)?.clone();
        let possible_at_entry = |context: &Self, formula: &Formula| {
            let mut vars = Vec::new();
            formula.vars(&mut vars);
            let query = Formula::and(vec![formula.clone(), context.prepared.aggregate_facts_for(&vars)]);
            entered.iter().any(|sym| match dnf(&query, &sym.cube, &context.model) {
                Ok(cubes) => cubes.iter().any(|cube| !feasible(cube, &context.model).is_unsat()),
                Err(_) => false,
            })
        };
        let mut stuck: Vec<usize> = Vec::new();
        let mut always = true;
        let mut example = None;
        for (empties, classes, creators) in &groups.groups {
            // Only the directory's doing: the form's own gaps are the plain W0705.
            if !empties.iter().any(|empty| *empty) {
                continue;
            }
            let formula = super::org::group_empty(&mut self.model, ir_node, &groups, empties, classes);
            if !possible_at_entry(self, &formula) {
                continue;
            }
            let mut restricted = vec![Formula::not(formula.clone())];
            for &(var, class) in classes {
                restricted.push(Formula::dom(var, super::logic::Dom::fin(1u128 << class)));
            }
            if possible_at_entry(self, &Formula::and(restricted)) {
                always = false;
            }
            stuck.extend(creators.iter().copied());
            if example.is_none() {
                let saved = std::mem::replace(&mut self.model.other_ids, super::org::ids_by_kind(org));
                let mut shown = self.shown_vars(&formula);
                // The creator's own fields say nothing the creator's name does not.
                shown.retain(|var| {
                    !matches!(self.model.info(*var).map(|info| &info.key), Some(Key::Field(field)) if creator_fields.contains(field))
                });
                let expect = Expect::NoOperators { node: ir_node.name.clone() };
                for &creator in creators.iter().take(3) {
                    let Some(id) = admitted.get(creator) else { continue };
                    example = self.witness_in(
                        node,
                        &formula,
                        &expect,
                        &shown,
                        DirectoryRef::Given(org, std::slice::from_ref(id)),
                    );
                    if let Some(found) = &mut example {
                        found.values.insert(0, ("creator".into(), person(org, id)));
                        found.trace.creator = Some(id.clone());
                        break;
                    }
                }
                self.model.other_ids = saved;
            }
        }
        let example = example?;
        stuck.sort_unstable();
        let names: Vec<String> =
            stuck.iter().take(10).filter_map(|&index| admitted.get(index)).map(|id| person(org, id)).collect();
        let more = stuck.len().saturating_sub(names.len());
        let listed = if more > 0 { format!("{}, and {more} more", names.join(", ")) } else { names.join(", ") };
        let when = if always { "whatever they fill in".to_owned() } else { "for some requests".to_owned() };
        let mut labels: Vec<(ir::Loc, String)> = example.notes.clone();
        labels.push((
            ir_node.at,
            format!("counterexample: {} (the runtime refuses to enter: R0204)", describe_values(&example.values)),
        ));
        Some(Finding {
            code: Code::W0705,
            workflow: self.model.workflow.name.clone(),
            node: ir_node.name.clone(),
            message: format!(
                "{} of the {} people who may create requests {} nobody at `{}` {when}: {listed}",
                stuck.len(),
                admitted.len(),
                if stuck.len() == 1 { "gets" } else { "get" },
                ir_node.name
            ),
            primary: (ir_node.at, "the directory gives these creators nobody here".into()),
            labels,
            help: Some(
                "fill the directory (managers, department heads, role holders), or add a later batch as a fallback"
                    .into(),
            ),
            example: Some(example),
        })
    }

    /// W0706: a condition at `node` (an exit's or return's `when`, an
    /// operator line's `when`) that compares a field with `<`, `<=`, `>`,
    /// `>=`, when the field may be empty there (never required, computed or
    /// set before) and the condition does not test for that: language.md §4
    /// makes the comparison false, which is rarely what was meant.
    fn field_flow(&mut self, node: usize) -> Vec<Finding> {
        let mut out = Vec::new();
        let workflow: &crate::ir::Workflow = self.model.workflow;
        let Some(ir_node) = workflow.nodes.get(node) else { return out };
        // (field, conditions reading it, at exits (true) or at entry (false),
        // the earlier exits, which are false whenever the first of them is tried)
        let mut read: Vec<(usize, Vec<crate::ir::Loc>, bool, usize)> = Vec::new();
        let mut note = |field: usize, at: crate::ir::Loc, at_exits: bool, earlier: usize| match read
            .iter_mut()
            .find(|entry| entry.0 == field && entry.2 == at_exits)
        {
            Some(entry) => entry.1.push(at),
            None => read.push((field, vec![at], at_exits, earlier)),
        };
        for (index, exit) in ir_node.exits.iter().enumerate() {
            if let Some(condition) = &exit.condition {
                for field in compared_unguarded(self.model.program, condition) {
                    note(field, condition.at, true, index);
                }
            }
        }
        for batch in &ir_node.batches {
            for line in &batch.lines {
                if let Some(condition) = &line.condition {
                    for field in compared_unguarded(self.model.program, condition) {
                        note(field, condition.at, false, 0);
                    }
                }
            }
        }
        if !read.is_empty() && self.prepared.examples_spent() {
            // Reported only with a replayed example, and none can be searched for.
            self.prepared.note_cut_short(node);
            return out;
        }
        for (field, places, at_exits, earlier) in read {
            let Some(target) = self.model.form.fields.get(field) else { continue };
            if target.formula.is_some() || target.detail.is_some() {
                continue;
            }
            let is_number = super::model::numeric_scale(&target.kind).is_some()
                || target.kind == crate::check::types::FieldKind::Date;
            if !is_number {
                continue;
            }
            let Some(empty) = self.model.empty(field) else { continue };
            // An exit is tried only when the earlier ones are false: they may have handled the empty case.
            let empty = if at_exits {
                let mut parts: Vec<Formula> =
                    self.conditions(node).into_iter().take(earlier).map(Formula::not).collect();
                parts.push(empty);
                Formula::and(parts)
            } else {
                empty
            };
            let name = target.name.clone();
            let possible = if at_exits {
                matches!(self.decide(node, &empty), Verdict::Possible { concrete: true, .. })
            } else {
                self.reach.entered.get(node).is_some_and(|entered| {
                    entered.iter().any(|sym| match dnf(&empty, &sym.cube, &self.model) {
                        Ok(cubes) => cubes.iter().any(|cube| !feasible(cube, &self.model).is_unsat()),
                        Err(_) => false,
                    })
                })
            };
            if !possible {
                continue;
            }
            let expect = Expect::Empty { field: name.clone(), on_entry: !at_exits };
            let Some(example) = self.witness(node, &empty, &expect, &[]) else { continue };
            let texts: Vec<String> =
                places.iter().map(|at| format!("`{}`", self.model.text_at(*at))).collect::<Vec<_>>();
            let mut labels: Vec<(ir::Loc, String)> =
                places.iter().skip(1).map(|at| (*at, format!("false when `{name}` is empty"))).collect();
            labels.push((target.at, "never required, computed or set before this node".into()));
            labels.push((
                ir_node.at,
                format!("counterexample: a request with `{name}` empty gets here (run through the interpreter)"),
            ));
            out.push(Finding {
                code: Code::W0706,
                workflow: self.model.workflow.name.clone(),
                node: ir_node.name.clone(),
                message: format!(
                    "`{name}` may be empty at `{}`, and then {} {} false",
                    ir_node.name,
                    texts.join(", "),
                    if texts.len() == 1 { "is" } else { "are" }
                ),
                primary: (places.first().copied().unwrap_or(ir_node.at), format!("false when `{name}` is empty")),
                labels,
                help: Some(format!(
                    "an ordering comparison with an empty value is false (language.md §4); say what an empty \
                     `{name}` means — `{name} == null or …` — or make it `required {name}` at an earlier node"
                )),
                example: Some(example),
            });
        }
        out
    }

    /// W0708: the examples' budget ran out, and questions at some nodes
    /// went unanswered: the findings that are reported only with a replayed
    /// request may be missing there, and the analyst is told so rather
    /// than shown a clean check. With the node it is reported at.
    fn budget_spent(&self) -> Option<(usize, Finding)> {
        let (at, nodes) = self.prepared.budget_report()?;
        let workflow: &crate::ir::Workflow = self.model.workflow;
        let spent_at = workflow.nodes.get(at)?;
        let names: Vec<&str> =
            nodes.iter().filter_map(|&node| workflow.nodes.get(node)).map(|node| node.name.as_str()).collect();
        const LISTED: usize = 5;
        let mut listed = names.iter().take(LISTED).map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ");
        if names.len() > LISTED {
            listed.push_str(&format!(" and {} more", names.len() - LISTED));
        }
        let finding = Finding {
            code: Code::W0708,
            workflow: workflow.name.clone(),
            node: spent_at.name.clone(),
            message: format!(
                "the search for example requests ran out of its budget at `{}`: findings may be missing at {} {} ({listed})",
                spent_at.name,
                names.len(),
                if names.len() == 1 { "node" } else { "nodes" },
            ),
            // The other nodes are named in the message, not labelled: labels
            // far apart would print the whole workflow between them.
            primary: (spent_at.at, "the budget ran out looking for a request here".into()),
            labels: Vec::new(),
            help: Some(
                "W0701, W0703, W0705, W0706 and E0704 are reported only with a request the interpreter has run; \
                 `flowc check --thorough` searches up to 1,000 times longer (minutes for thousands of nodes), \
                 and a smaller workflow (part of it moved into a sub-workflow) gets a budget of its own"
                    .into(),
            ),
            example: None,
        };
        Some((at, finding))
    }

    /// W0701: the requests that reach `node` and match none of its exits.
    fn exit_coverage(&mut self, node: usize) -> Option<Finding> {
        let ir_node = self.node(node)?;
        if ir_node.exits.is_empty() || ir_node.exits.iter().any(|exit| exit.condition.is_none()) {
            return None;
        }
        let conditions = self.conditions(node);
        let query = Formula::and(conditions.iter().map(|condition| Formula::not(condition.clone())).collect());
        let verdict = self.decide(node, &query);
        let shown = self.shown_vars(&query);
        let workflow = self.model.workflow.name.clone();
        let Verdict::Possible { unknowns, concrete } = verdict else { return None };
        let example = if concrete { self.witness(node, &query, &Expect::NoExit, &shown) } else { None };
        match example {
            Some(example) => {
                let described = describe_values(&example.values);
                let mut labels: Vec<(ir::Loc, String)> = ir_node
                    .exits
                    .iter()
                    .filter_map(|exit| {
                        exit.condition.as_ref().map(|condition| (condition.at, "false for this request".to_owned()))
                    })
                    .collect();
                labels
                    .push((ir_node.at, format!("counterexample: {described} (the runtime refuses its submit: R0201)")));
                Some(Finding {
                    code: Code::W0701,
                    workflow,
                    node: ir_node.name.clone(),
                    message: format!("{described} match no exit of `{}`", ir_node.name),
                    primary: (ir_node.at, "some requests stay here: no exit holds".into()),
                    labels,
                    help: Some(
                        "add an exit without `when` as the last one, or widen a condition so every request matches one"
                            .into(),
                    ),
                    example: Some(example),
                })
            }
            None if unknowns.is_empty() => None,
            None => {
                let list = unknowns.join(", ");
                Some(Finding {
                    code: Code::W0701,
                    workflow,
                    node: ir_node.name.clone(),
                    message: format!("some requests may match no exit of `{}`", ir_node.name),
                    primary: (ir_node.at, "no exit may hold".into()),
                    labels: ir_node
                        .exits
                        .iter()
                        .filter_map(|exit| {
                            exit.condition.as_ref().map(|condition| (condition.at, "may be false".to_owned()))
                        })
                        .collect(),
                    help: Some(format!(
                        "whether an exit always holds depends on {list}, which the analysis does not solve; \
                         add an exit without `when` as the last one to be sure"
                    )),
                    example: None,
                })
            }
        }
    }

    /// W0702: exits no request can take, because earlier exits catch every
    /// request they would, or because their condition never holds here.
    /// (An exit after one without `when` is W0108's.)
    fn shadowed_exits(&mut self, node: usize) -> Vec<Finding> {
        let mut out = Vec::new();
        let workflow: &crate::ir::Workflow = self.model.workflow;
        let Some(ir_node) = workflow.nodes.get(node) else { return out };
        let conditions = self.conditions(node);
        // A fork's exits do not shadow each other: every one that holds is taken.
        let forks = ir_node.fork.is_some();
        let by_deadline = super::reach::deadline_takes(ir_node);
        for (index, exit) in ir_node.exits.iter().enumerate() {
            // An exit a deadline takes is taken then, whatever its condition.
            if by_deadline.contains(&(index, false)) {
                continue;
            }
            let Some(condition) = &exit.condition else {
                if forks {
                    continue;
                }
                break;
            };
            if self.taken_possible(node, index) {
                continue;
            }
            let own = conditions.get(index).cloned().unwrap_or(Formula::True);
            let text = self.model.source_text(condition);
            if matches!(self.decide(node, &own), Verdict::Never) {
                out.push(Finding {
                    code: Code::W0702,
                    workflow: self.model.workflow.name.clone(),
                    node: ir_node.name.clone(),
                    message: format!(
                        "exit `{}` can never be taken: `{text}` never holds at `{}`",
                        exit.name, ir_node.name
                    ),
                    primary: (exit.at, "never taken".into()),
                    labels: vec![(condition.at, "false for every request that reaches this node".into())],
                    help: Some(
                        "what reaches the node rules the condition out (a `validate`, a required field, the exits \
                         taken on the way); remove the exit or correct its condition"
                            .into(),
                    ),
                    example: None,
                });
                continue;
            }
            // The earlier exits that catch some of its requests.
            let mut catchers: Vec<usize> = Vec::new();
            for earlier in 0..index {
                let both = Formula::and(vec![self.taken(node, earlier), own.clone()]);
                if !matches!(self.decide(node, &both), Verdict::Never) {
                    catchers.push(earlier);
                }
            }
            let names: Vec<String> = catchers
                .iter()
                .filter_map(|&earlier| ir_node.exits.get(earlier).map(|exit| format!("`{}`", exit.name)))
                .collect();
            let mut example = None;
            for &earlier in &catchers {
                let Some(caught) = ir_node.exits.get(earlier) else { continue };
                let query = Formula::and(vec![self.taken(node, earlier), own.clone()]);
                if !matches!(self.decide(node, &query), Verdict::Possible { concrete: true, .. }) {
                    continue;
                }
                let expect = Expect::Exit { taken: caught.name.clone(), also: exit.name.clone() };
                let shown = self.shown_vars(&query);
                example = self.witness(node, &query, &expect, &shown);
                if example.is_some() {
                    break;
                }
            }
            let mut labels: Vec<(ir::Loc, String)> = catchers
                .iter()
                .filter_map(|&earlier| ir_node.exits.get(earlier))
                .map(|earlier| (earlier.at, "tried first, and holds for its requests".to_owned()))
                .collect();
            if let Some(example) = &example {
                if let Expect::Exit { taken, .. } = &example.expect {
                    labels.push((
                        condition.at,
                        format!(
                            "counterexample: {} holds here, but `{taken}` is taken",
                            describe_values(&example.values)
                        ),
                    ));
                }
            }
            out.push(Finding {
                code: Code::W0702,
                workflow: self.model.workflow.name.clone(),
                node: ir_node.name.clone(),
                message: format!(
                    "exit `{}` can never be taken: {} {} {} every request it would",
                    exit.name,
                    if names.len() == 1 { "the earlier exit" } else { "the earlier exits" },
                    names.join(", "),
                    if names.len() == 1 { "catches" } else { "catch" }
                ),
                primary: (exit.at, "never taken".into()),
                labels,
                help: Some("exits are tried in the order written: move this one before them, or narrow theirs".into()),
                example,
            });
        }
        out
    }

    /// W0703: two exits with conditions that overlap so that the order
    /// they are written in decides, and neither is the narrower case
    /// written first (which is how a more specific exit is meant to win).
    fn overlapping_exits(&mut self, node: usize) -> Vec<Finding> {
        let mut out = Vec::new();
        let workflow: &crate::ir::Workflow = self.model.workflow;
        let Some(ir_node) = workflow.nodes.get(node) else { return out };
        if ir_node.fork.is_some() {
            return out; // a fork's exits overlap by design: every one that holds starts a branch
        }
        let conditional = ir_node.exits.iter().take_while(|exit| exit.condition.is_some()).count();
        if self.prepared.examples_spent() {
            if conditional >= 2 {
                // Reported only with a replayed example, and none can be searched for.
                self.prepared.note_cut_short(node);
            }
            return out;
        }
        let conditions = self.conditions(node);
        for first in 0..conditional {
            for second in first + 1..conditional {
                let (Some(a), Some(b)) = (ir_node.exits.get(first), ir_node.exits.get(second)) else { continue };
                if a.target == b.target && a.block.is_empty() && b.block.is_empty() {
                    continue;
                }
                let (Some(condition_a), Some(condition_b)) = (conditions.get(first), conditions.get(second)) else {
                    continue;
                };
                let before: Vec<Formula> = conditions.iter().take(first).map(|c| Formula::not(c.clone())).collect();
                let region = |extra: Vec<Formula>| {
                    let mut parts = before.clone();
                    parts.extend(extra);
                    Formula::and(parts)
                };
                let both = region(vec![condition_a.clone(), condition_b.clone()]);
                let only_a = region(vec![condition_a.clone(), Formula::not(condition_b.clone())]);
                let only_b = region(vec![Formula::not(condition_a.clone()), condition_b.clone()]);
                if !self.taken_possible(node, second) {
                    continue; // shadowed: W0702
                }
                let possible = |verdict: Verdict| matches!(verdict, Verdict::Possible { .. });
                // Only an overlap a request can show (not one through unsolved values) is reported.
                if !matches!(self.decide(node, &both), Verdict::Possible { concrete: true, .. })
                    || !possible(self.decide(node, &only_a))
                    || !possible(self.decide(node, &only_b))
                {
                    continue;
                }
                let expect = Expect::Exit { taken: a.name.clone(), also: b.name.clone() };
                let shown = self.shown_vars(&Formula::and(vec![condition_a.clone(), condition_b.clone()]));
                let Some(example) = self.witness(node, &both, &expect, &shown) else { continue };
                let described = describe_values(&example.values);
                let (Some(at_a), Some(at_b)) = (a.condition.as_ref(), b.condition.as_ref()) else { continue };
                out.push(Finding {
                    code: Code::W0703,
                    workflow: self.model.workflow.name.clone(),
                    node: ir_node.name.clone(),
                    message: format!(
                        "exits `{}` and `{}` of `{}` overlap: for {described} both hold, and `{}` is taken only because it is written first",
                        a.name, b.name, ir_node.name, a.name
                    ),
                    primary: (b.at, format!("also holds when `{}` is taken", a.name)),
                    labels: vec![
                        (at_a.at, "holds".into()),
                        (at_b.at, "holds too".into()),
                        (ir_node.at, format!("counterexample: {described} goes to `{}`", a.name)),
                    ],
                    help: Some(format!(
                        "make the conditions exclude each other (add `and not (…)` to one), or `allow W0703` on the \
                         node if `{}` first is meant",
                        a.name
                    )),
                    example: Some(example),
                });
            }
        }
        out
    }
}

/// The fields a condition compares with `<`, `<=`, `>`, `>=` (directly, as
/// one side) and never tests for emptiness (`== null`, `!= null`, `is_empty`).
fn compared_unguarded(program: &ir::Program, condition: &ir::Expr) -> Vec<usize> {
    use crate::syntax::ast::BinaryOp;
    let mut compared: Vec<usize> = Vec::new();
    let mut guarded: Vec<usize> = Vec::new();
    let field_of = |expr: &ir::Expr| match &expr.kind {
        ir::ExprKind::Field(field) => Some(*field),
        _ => None,
    };
    let is_null = |expr: &ir::Expr| match &expr.kind {
        ir::ExprKind::Null => true,
        ir::ExprKind::Constant(index) => {
            program.constants.get(*index).is_some_and(|constant| matches!(constant.value.kind, ir::ExprKind::Null))
        }
        _ => false,
    };
    condition.walk(&mut |part| match &part.kind {
        ir::ExprKind::Binary(BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge, left, right) => {
            compared.extend(field_of(left));
            compared.extend(field_of(right));
        }
        ir::ExprKind::Binary(BinaryOp::Eq | BinaryOp::Ne, left, right) => {
            if is_null(right) {
                guarded.extend(field_of(left));
            }
            if is_null(left) {
                guarded.extend(field_of(right));
            }
        }
        ir::ExprKind::CallBuiltin(name, arguments) if name == "is_empty" => {
            guarded.extend(arguments.first().and_then(field_of));
        }
        _ => {}
    });
    compared.sort_unstable();
    compared.dedup();
    compared.retain(|field| !guarded.contains(field));
    compared
}

/// The program with exit `also` of `node` moved just before exit `taken`.
fn reorder_program(analysis: &Analysis, workflow: usize, node: usize, taken: &str, also: &str) -> Option<Compiled> {
    let mut compiled = Compiled::new(analysis, &|_| Ok(String::new())).ok()?;
    let exits = &mut Arc::make_mut(&mut compiled.program).workflows.get_mut(workflow)?.nodes.get_mut(node)?.exits;
    let from = exits.iter().position(|exit| exit.name == also)?;
    let moved = exits.remove(from);
    let to = exits.iter().position(|exit| exit.name == taken)?;
    exits.insert(to, moved);
    Some(compiled)
}

/// `E0105 (王五)`.
fn person(directory: &MemoryDirectory, id: &str) -> String {
    use crate::org::Directory;
    match directory.employee(id) {
        Some(employee) => format!("{id} ({})", employee.name),
        None => id.to_owned(),
    }
}

/// `合计 = 5000.00 and 加急 = false`.
pub fn describe_values(values: &[(String, String)]) -> String {
    let parts: Vec<String> = values.iter().map(|(name, value)| format!("{name} = {value}")).collect();
    match parts.len() {
        0 => "some requests".into(),
        _ => parts.join(" and "),
    }
}
