//! The findings, node by node, from the fixpoint's requests: which
//! requests match no exit (W0701). Each finding is first decided on the
//! over-approximation (no request there: proved, nothing to say), then
//! shown by a path whose solution is replayed through the runtime; only a
//! replay that ends as the analysis said becomes a counterexample.

use std::sync::Arc;

use super::exec::{Exec, Mode, Prepared};
use super::logic::{dnf, Formula, VarId};
use super::model::{Key, Model};
use super::reach::{fixpoint, Reach};
use super::replay::{build_trace, display_of, everyone, replay, universal_directory, Replayed};
use super::solve::{solve, Model as Solution, Outcome};
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
    /// that the question itself reads (when empty, a replay should show it).
    Possible { unknowns: Vec<String> },
    /// Too large to decide.
    Undecided,
}

/// Everything a workflow's findings need.
pub struct Context<'a, 'p> {
    pub workflow_index: usize,
    pub model: Model<'p>,
    pub prepared: Prepared,
    pub reach: Reach,
    pub compiled: Option<&'a Compiled>,
    pub directory: Option<&'a MemoryDirectory>,
    pub creators: Vec<String>,
}

pub fn analyze(analysis: &Analysis) -> Report {
    let mut report = Report::default();
    let Ok(program) = ir::lower(analysis) else { return report };
    let texts: Vec<Arc<str>> = analysis.sources.files().map(|(_, file)| file.text.clone()).collect();
    // Replays never run a script: a path through one is not replayed.
    let compiled = Compiled::new(analysis, &|_| Ok(String::new())).ok();
    let directory = universal_directory(&program);
    let creators = directory.as_ref().map(|directory| everyone(directory)).unwrap_or_default();
    for (workflow_index, workflow) in program.workflows.iter().enumerate() {
        let Some(mut model) = Model::new(&program, workflow, &texts) else { continue };
        let prepared = Prepared::new(&mut model);
        let reach = {
            let mut exec = Exec { model: &mut model, prepared: &prepared, mode: Mode::Project, cube_cap: 16 };
            fixpoint(&mut exec)
        };
        let mut context = Context {
            workflow_index,
            model,
            prepared,
            reach,
            compiled: compiled.as_ref(),
            directory: directory.as_ref(),
            creators: creators.clone(),
        };
        for (node, ir_node) in workflow.nodes.iter().enumerate() {
            let mut found = Vec::new();
            found.extend(context.exit_coverage(node));
            found.retain(|finding| !ir_node.allows.iter().any(|code| code == finding.code.as_str()));
            report.findings.extend(found);
        }
    }
    report
}

impl Context<'_, '_> {
    fn node(&self, node: usize) -> Option<&crate::ir::Node> {
        self.model.workflow.nodes.get(node)
    }

    /// The facts that hold when the exits of `node` are tried: the validate
    /// rules its `after` block leaves alone, and the aggregates' own rules.
    fn facts_at_exits(&self, node: usize) -> Formula {
        let mut parts: Vec<Formula> = self.prepared.validates_at_exits(node);
        parts.push(self.prepared.aggregate_facts.clone());
        Formula::and(parts)
    }

    /// Can a request at the moment the exits of `node` are tried satisfy `query`?
    pub fn decide(&self, node: usize, query: &Formula) -> Verdict {
        let Some(decided) = self.reach.decided.get(node) else { return Verdict::Never };
        let full = Formula::and(vec![query.clone(), self.facts_at_exits(node)]);
        let mut read: Vec<VarId> = Vec::new();
        query.vars(&mut read);
        let mut possible = false;
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
                match solve(&cube, &self.model) {
                    Outcome::Unsat => {}
                    Outcome::Unknown => undecided = true,
                    Outcome::Sat(_) => possible = true,
                }
            }
        }
        if possible {
            Verdict::Possible { unknowns: self.unknowns_read(&read) }
        } else if undecided {
            Verdict::Undecided
        } else {
            Verdict::Never
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

    /// A replayed request for which `query` holds at `node`, ending as `check` says.
    fn witness(
        &mut self,
        node: usize,
        query: &Formula,
        check: &dyn Fn(&Replayed) -> bool,
        shown: &[VarId],
    ) -> Option<(Example, Vec<(String, String)>)> {
        let (Some(compiled), Some(directory)) = (self.compiled, self.directory) else { return None };
        let workflow_index = self.workflow_index;
        let creators = self.creators.clone();
        let today = self.prepared.today;
        let mut accept = |model: &Model<'_>, sym: &super::exec::Sym, solution: &Solution| {
            let trace = build_trace(model, sym, solution, today)?;
            let replayed = replay(compiled, directory, workflow_index, &trace, &creators)?;
            if !check(&replayed) {
                return None;
            }
            let mut values = Vec::new();
            for &var in shown {
                let current = sym.current.get(&var).copied().unwrap_or(var);
                if let Some(val) = solution.get(current) {
                    values.push((model.describe(var), display_of(model, current, val)));
                }
            }
            Some((Example { values: values.clone(), trace, expect: Expect::NoExit }, values))
        };
        search(&mut self.model, &self.prepared, node, query, Limits::default(), &mut accept)
    }

    /// W0701: the requests that reach `node` and match none of its exits.
    fn exit_coverage(&mut self, node: usize) -> Option<Finding> {
        let ir_node = self.node(node)?.clone();
        if ir_node.exits.is_empty() || ir_node.exits.iter().any(|exit| exit.condition.is_none()) {
            return None;
        }
        let conditions: Vec<Formula> =
            self.prepared.exits.get(node)?.iter().map(|condition| condition.clone().unwrap_or(Formula::True)).collect();
        let query = Formula::and(conditions.iter().map(|condition| Formula::not(condition.clone())).collect());
        let verdict = self.decide(node, &query);
        let mut shown: Vec<VarId> = Vec::new();
        query.vars(&mut shown);
        shown.sort_unstable();
        shown.dedup();
        shown.retain(|var| !matches!(self.model.info(*var).map(|info| &info.key), Some(Key::Unknown(_))));
        let workflow = self.model.workflow.name.clone();
        let Verdict::Possible { unknowns } = verdict else { return None };
        let stuck = |replayed: &Replayed| matches!(&replayed.last, Err(error) if error.code == Code::R0201);
        match self.witness(node, &query, &stuck, &shown) {
            Some((example, values)) => {
                let described = describe_values(&values);
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
}

/// `合计 = 5000.00 and 加急 = false`.
pub fn describe_values(values: &[(String, String)]) -> String {
    let parts: Vec<String> = values.iter().map(|(name, value)| format!("{name} = {value}")).collect();
    match parts.len() {
        0 => "some requests".into(),
        _ => parts.join(" and "),
    }
}
