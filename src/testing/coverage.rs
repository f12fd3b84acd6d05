//! Route coverage (docs/testing.md): per workflow, which nodes the tests
//! entered, which exits and returns they took, which operator batches
//! supplied the operators and which refusal codes they met; as a table, a
//! percentage, and lcov (`DA` lines on the declarations, so editors mark the
//! exits no test took).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use serde::Serialize;

use crate::ir::Loc;
use crate::runtime::compiled::Compiled;
use crate::source::{FileId, SourceMap};

use super::Outcome;
use crate::runtime::request::{BranchEvent, Step};

/// One thing a route can cover: a node, an exit or return, a batch.
#[derive(Debug, Clone, Serialize)]
pub struct Point {
    pub name: String,
    pub file: PathBuf,
    pub line: usize,
    pub hits: u64,
    /// The declaration, for the language server's hints.
    #[serde(skip)]
    pub at: Loc,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowCoverage {
    pub workflow: String,
    pub file: PathBuf,
    pub nodes: Vec<Point>,
    /// `node.exit`, returns included.
    pub exits: Vec<Point>,
    /// `node batch N`, for nodes with more than one batch.
    pub batches: Vec<Point>,
    /// Refusal codes the tests met, with how often.
    pub refusals: BTreeMap<String, u64>,
}

impl WorkflowCoverage {
    /// The points of `compiled`'s workflow number `index`, none covered yet.
    pub fn new(compiled: &Compiled, sources: &SourceMap, index: usize) -> Option<WorkflowCoverage> {
        let workflow = compiled.program.workflows.get(index)?;
        let place = |at: Loc| {
            let source = sources.get(FileId(at.file));
            let file = source.and_then(|source| source.path.clone()).unwrap_or_default();
            let line = source.map_or(0, |source| source.line_column(at.start as usize).0);
            (file, line)
        };
        let point = |name: String, at: Loc| {
            let (file, line) = place(at);
            Point { name, file, line, hits: 0, at }
        };
        let file = workflow.nodes.first().map(|node| place(node.at).0).unwrap_or_default();
        let mut coverage = WorkflowCoverage {
            workflow: workflow.name.clone(),
            file,
            nodes: Vec::new(),
            exits: Vec::new(),
            batches: Vec::new(),
            refusals: BTreeMap::new(),
        };
        for node in &workflow.nodes {
            coverage.nodes.push(point(node.name.clone(), node.at));
            for exit in node.exits.iter().chain(&node.returns) {
                coverage.exits.push(point(format!("{}.{}", node.name, exit.name), exit.at));
            }
            if node.batches.len() > 1 {
                for batch in &node.batches {
                    // A batch has no place of its own in the IR: it is marked on its node's line.
                    coverage.batches.push(point(format!("{} batch {}", node.name, batch.number), node.at));
                }
            }
        }
        Some(coverage)
    }

    /// Adds what one run covered: the steps of one request of this workflow (its creation
    /// first), and the refusals met.
    pub fn record(&mut self, steps: &[&Step], refusals: &[String]) {
        for (position, step) in steps.iter().enumerate() {
            let hit = |points: &mut Vec<Point>, name: &str| {
                if let Some(point) = points.iter_mut().find(|point| point.name == name) {
                    point.hits += 1;
                }
            };
            // What forks and merges did: each branch started by its exit, each merge passed.
            for event in &step.branching {
                match event {
                    BranchEvent::Started { exit, to, .. } => {
                        hit(&mut self.exits, &format!("{}.{exit}", step.from));
                        hit(&mut self.nodes, to);
                    }
                    BranchEvent::Arrived { merge, .. } => hit(&mut self.nodes, merge),
                    BranchEvent::Merged { merge, exit, to, .. } => {
                        if let Some(exit) = exit {
                            hit(&mut self.exits, &format!("{merge}.{exit}"));
                        }
                        if let Some(to) = to {
                            hit(&mut self.nodes, to);
                        }
                    }
                    BranchEvent::Withdrawn { .. } => {}
                }
            }
            if position == 0 {
                hit(&mut self.nodes, &step.from);
            }
            if let Some(to) = &step.to {
                hit(&mut self.nodes, to);
                if let Some(batch) = step.batch {
                    hit(&mut self.batches, &format!("{to} batch {batch}"));
                }
            }
            if let Some(exit) = &step.exit {
                hit(&mut self.exits, &format!("{}.{exit}", step.from));
            }
        }
        for code in refusals {
            *self.refusals.entry(code.clone()).or_default() += 1;
        }
    }

    pub fn covered(&self) -> (usize, usize) {
        let all = || self.nodes.iter().chain(&self.exits).chain(&self.batches);
        (all().filter(|point| point.hits > 0).count(), all().count())
    }
}

fn count(points: &[Point]) -> (usize, usize) {
    (points.iter().filter(|point| point.hits > 0).count(), points.len())
}

/// `covered / total` as a percentage (100 when there is nothing to cover).
pub fn percent((covered, total): (usize, usize)) -> f64 {
    if total == 0 {
        100.0
    } else {
        // Counts of declarations are far below 2^52: the conversion is exact.
        covered as f64 * 100.0 / total as f64
    }
}

/// The steps of a run by the workflow of the request they acted on: the run's own (its
/// workflow `root`) and those of the requests it started, by their workflows.
pub fn steps_by_workflow<'o>(compiled: &Compiled, root: usize, outcome: &'o Outcome) -> BTreeMap<usize, Vec<&'o Step>> {
    let mut workflow_of: BTreeMap<&str, usize> = BTreeMap::new();
    for step in &outcome.steps {
        let Some(started) = &step.started else { continue };
        let index = compiled.program.workflows.iter().position(|workflow| workflow.name == started.workflow);
        if let (Some(id), Some(index)) = (&started.request, index) {
            workflow_of.insert(id, index);
        }
    }
    let mut grouped: BTreeMap<usize, Vec<&Step>> = BTreeMap::new();
    for step in &outcome.steps {
        let workflow = match &step.request {
            None => Some(root),
            Some(id) => workflow_of.get(id.as_str()).copied(),
        };
        if let Some(workflow) = workflow {
            grouped.entry(workflow).or_default().push(step);
        }
    }
    grouped
}

/// The whole run's coverage.
pub fn total(workflows: &[WorkflowCoverage]) -> (usize, usize) {
    workflows.iter().map(WorkflowCoverage::covered).fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
}

/// The coverage table: one block per workflow, then the total.
pub fn table(workflows: &[WorkflowCoverage]) -> String {
    let mut out = String::new();
    for workflow in workflows {
        let _ = writeln!(out, "coverage of {} ({})", workflow.workflow, workflow.file.display());
        for (what, points) in [("nodes", &workflow.nodes), ("exits", &workflow.exits), ("batches", &workflow.batches)] {
            if points.is_empty() {
                continue;
            }
            let (covered, all) = count(points);
            let _ = writeln!(out, "  {what:<9}{:>7}  {:>6.1}%", format!("{covered}/{all}"), percent((covered, all)));
        }
        let codes: Vec<String> = workflow.refusals.keys().cloned().collect();
        let _ = writeln!(out, "  refusals {}", if codes.is_empty() { "none".to_owned() } else { codes.join(", ") });
        for point in workflow.nodes.iter().chain(&workflow.exits).chain(&workflow.batches) {
            if point.hits == 0 {
                let _ = writeln!(out, "  not taken: {} (line {})", point.name, point.line);
            }
        }
    }
    let _ = writeln!(out, "route coverage {:.1}%", percent(total(workflows)));
    out
}

/// lcov's tracefile format: per source file, a `DA:line,hits` for each node, exit and batch
/// (the hits of points on one line add up), then `LF`/`LH`.
pub fn lcov(workflows: &[WorkflowCoverage]) -> String {
    let mut files: BTreeMap<PathBuf, BTreeMap<usize, u64>> = BTreeMap::new();
    for workflow in workflows {
        for point in workflow.nodes.iter().chain(&workflow.exits).chain(&workflow.batches) {
            *files.entry(point.file.clone()).or_default().entry(point.line).or_default() += point.hits;
        }
    }
    let mut out = String::from("TN:flowc_test\n");
    for (file, lines) in files {
        let _ = writeln!(out, "SF:{}", file.display());
        for (line, hits) in &lines {
            let _ = writeln!(out, "DA:{line},{hits}");
        }
        let _ = writeln!(out, "LF:{}", lines.len());
        let _ = writeln!(out, "LH:{}", lines.values().filter(|hits| **hits > 0).count());
        out.push_str("end_of_record\n");
    }
    out
}
