//! Route analysis: proving at check time that every request gets through,
//! or showing the request that does not. Fed by the IR (so it reasons about
//! exactly what the runtime runs), printing nothing, like `check/`.
//!
//! - `logic` — the constraint language: domains, linear inequalities,
//!   formulas, cubes; `solve` decides a cube and builds a solution.
//! - `model` — the IR's conditions, validates and assignments as formulas.
//! - `exec` — the steps of a submit run symbolically; `reach` the fixpoint
//!   of which requests reach each node (the over-approximation proofs use).
//! - `witness` — paths to a node, with a version per moment, whose
//!   solutions are concrete runs; `replay` builds the request and runs it
//!   through the runtime, so every counterexample shown has been run.
//! - `findings` — the findings and their diagnostics.
//! - `regions` — each node's decision regions (`flowc routes`, hover);
//!   `diff` the requests that route differently between two versions
//!   (`flowc diff`), as regions over the pair.
//!
//! The analysis runs only on programs without errors, after the checker;
//! [`check_paths`] is `check::check_paths` plus the findings, which is what
//! `flowc check` and the language server show.

pub mod diff;
mod exec;
mod findings;
mod logic;
mod model;
mod operators;
mod org;
mod reach;
pub mod regions;
mod replay;
mod solve;
mod witness;

use std::path::PathBuf;

use serde::Serialize;

use crate::check::{self, Analysis, Loader};
use crate::diag::{self, Code, Diagnostic, Label};
use crate::ir::Loc;
use crate::org::MemoryDirectory;
use crate::source::{FileId, FileSpan, Span};

pub use replay::{Trace, TraceStep};

/// What a counterexample shows when it is run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Expect {
    /// The last submit is refused: no exit of the node holds (R0201).
    NoExit,
    /// The last submit takes exit `taken`; with exit `also` written just
    /// before it, the same request takes `also` (so both hold).
    Exit { taken: String, also: String },
    /// The last submit takes `exit` (into nodes that never finish).
    Moves { exit: String },
    /// The last submit is refused by a `required` field or a `validate` rule (R0302, R0303).
    Refused,
    /// The last submit leads to `node`, which resolves nobody (R0204).
    NoOperators { node: String },
    /// `field` is empty when the conditions that compare it are evaluated:
    /// at the last submit, after its `set` (or, `on_entry`, when the last
    /// submit has led the request into the node).
    Empty { field: String, on_entry: bool },
}

/// A request that shows a finding, replayed through the runtime.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Example {
    /// The values the finding is about, at the node, as an analyst reads them.
    pub values: Vec<(String, String)>,
    pub trace: Trace,
    pub expect: Expect,
    /// What the runtime said about the places involved when it ran the
    /// request (for empty operators: why each line gave nobody).
    #[serde(skip)]
    pub notes: Vec<(Loc, String)>,
}

/// One finding of the analysis.
#[derive(Debug, Clone)]
pub struct Finding {
    pub code: Code,
    pub workflow: String,
    pub node: String,
    pub message: String,
    pub primary: (Loc, String),
    pub labels: Vec<(Loc, String)>,
    pub help: Option<String>,
    pub example: Option<Example>,
}

impl Finding {
    pub fn to_diagnostic(&self) -> Diagnostic {
        let span = |loc: Loc| FileSpan::new(FileId(loc.file), Span::new(loc.start as usize, loc.end as usize));
        let mut diagnostic =
            Diagnostic::new(self.code, self.message.clone(), span(self.primary.0), self.primary.1.clone());
        diagnostic.secondary =
            self.labels.iter().map(|(loc, message)| Label { at: span(*loc), message: message.clone() }).collect();
        diagnostic.help = self.help.clone();
        diagnostic
    }
}

/// Everything the analysis found.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

/// What the analysis is given besides the program.
#[derive(Default, Clone, Copy)]
pub struct Options<'a> {
    /// `--org`: decide the operators the directory gives each creator.
    pub org: Option<&'a MemoryDirectory>,
    /// Each workflow's budget for the searches of example requests, in the
    /// searches' own units (`None`: the usual one; `--thorough`: [`THOROUGH`]).
    /// Spent, the findings that need an example are not looked for (W0708).
    pub examples_budget: Option<usize>,
}

impl Options<'_> {
    /// Each workflow's budget for examples, the usual one unless set.
    pub fn search_work(&self) -> usize {
        self.examples_budget.unwrap_or(exec::SEARCH_WORK)
    }
}

/// `flowc check --thorough`: a thousand times the usual budget for examples.
pub const THOROUGH: usize = exec::SEARCH_WORK * 1000;

/// Analyses every workflow of a checked program. A program with errors is
/// not analysed (its IR does not exist).
pub fn analyze(analysis: &Analysis) -> Report {
    analyze_with(analysis, &Options::default())
}

pub fn analyze_with(analysis: &Analysis, options: &Options<'_>) -> Report {
    if analysis.error_count() > 0 {
        return Report::default();
    }
    findings::analyze(analysis, options)
}

/// The decision regions of every node of every workflow (`flowc routes`,
/// hover): which requests take which exit, for which each operator line counts.
pub fn routes(analysis: &Analysis) -> regions::Routes {
    let mut workflows = Vec::new();
    if analysis.error_count() == 0 {
        findings::for_each_workflow(analysis, exec::SEARCH_WORK, &mut |context| workflows.push(context.routes()));
    }
    regions::Routes { workflows }
}

/// A node's regions as Markdown for the language server's hover (empty
/// when the program has errors or the node is not found).
pub fn node_regions_markdown(analysis: &Analysis, workflow: &str, node: &str) -> String {
    let routes = routes(analysis);
    let Some(found) = routes
        .workflows
        .iter()
        .filter(|candidate| candidate.name == workflow)
        .flat_map(|candidate| &candidate.nodes)
        .find(|candidate| candidate.name == node)
    else {
        return String::new();
    };
    if found.kind == "archive" {
        return String::new();
    }
    let mut out = String::from("\n\n**Routes** (which requests take which exit):\n");
    if !found.reached {
        out.push_str("\n- no request reaches this node\n");
        return out;
    }
    for exit in &found.exits {
        out.push_str(&format!("\n- `{}` → `{}`: {}", exit.name, exit.target, regions::describe(&exit.region)));
    }
    if !found.exits.is_empty() {
        let stuck = if found.stuck.is_empty() && found.stuck.exact {
            "none (proved)".to_owned()
        } else {
            regions::describe(&found.stuck)
        };
        out.push_str(&format!("\n- no exit: {stuck}"));
    }
    if !found.operators.is_empty() {
        out.push_str("\n\n**Operators** (for which requests each line counts):\n");
        for line in &found.operators {
            out.push_str(&format!("\n- batch {} `{}`: {}", line.batch, line.people, regions::describe(&line.region)));
        }
    }
    out.push('\n');
    out
}

/// `check::check_paths`, then the analysis of an error-free program: the
/// diagnostics `flowc check` prints and the language server publishes.
pub fn check_paths(paths: &[PathBuf], loader: &dyn Loader) -> Analysis {
    check_paths_with(paths, loader, &Options::default())
}

pub fn check_paths_with(paths: &[PathBuf], loader: &dyn Loader, options: &Options<'_>) -> Analysis {
    let mut analysis = check::check_paths(paths, loader);
    if analysis.error_count() == 0 && analysis.unreadable.is_empty() {
        let report = analyze_with(&analysis, options);
        analysis.diagnostics.extend(report.findings.iter().map(Finding::to_diagnostic));
        diag::sort(&mut analysis.diagnostics);
    }
    analysis
}
