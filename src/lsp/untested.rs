//! Hints on the exits and returns no test takes (docs/testing.md): when the
//! open documents and the `*.test.flow` files beside them hold tests, they
//! are run as `flowc test` runs them, and each exit of a workflow they test
//! that none of them took gets a hint.

use std::collections::HashMap;
use std::path::PathBuf;

use lsp_types as lsp;

use super::convert;
use crate::check::Analysis;
use crate::org::MemoryDirectory;
use crate::runtime::compiled::Compiled;
use crate::runtime::request::Runtime;
use crate::runtime::values::dates::DateTime;
use crate::source::FileId;
use crate::testing::coverage::WorkflowCoverage;
use crate::testing::{self, Case};

/// The clock of tests that name none (as `flowc test` without `--now`).
const DEFAULT_NOW: &str = "2026-11-28T09:00:00+08:00";

/// Hints by file: an exit or return no test took. Nothing when the program has errors or
/// no tests, or a test's directory cannot be read.
pub fn hints(analysis: &Analysis) -> HashMap<FileId, Vec<lsp::Diagnostic>> {
    let mut hints: HashMap<FileId, Vec<lsp::Diagnostic>> = HashMap::new();
    if analysis.error_count() > 0 {
        return hints;
    }
    let cases: Vec<Case> = testing::cases_of(analysis);
    if cases.is_empty() {
        return hints;
    }
    let Ok(compiled) = Compiled::new(analysis, &crate::input_file::read_script) else { return hints };
    let Some(now) = DateTime::parse(DEFAULT_NOW) else { return hints };
    let mut coverages: Vec<Option<WorkflowCoverage>> = (0..compiled.program.workflows.len()).map(|_| None).collect();
    let mut directories: HashMap<PathBuf, MemoryDirectory> = HashMap::new();
    for case in &cases {
        let org = match &case.org {
            Some(org) => case.file.parent().map(|folder| folder.join(org)),
            None => testing::default_org(case),
        };
        let Some(org) = org else { continue };
        if !directories.contains_key(&org) {
            let Ok(directory) = MemoryDirectory::load(&org) else { continue };
            directories.insert(org.clone(), directory);
        }
        let Some(directory) = directories.get(&org) else { continue };
        let runtime = Runtime::new(&compiled, directory);
        let outcome = testing::run_case(&runtime, directory, case, now);
        let Some(root) = outcome.workflow else { continue };
        for (index, steps) in testing::coverage::steps_by_workflow(&compiled, root, &outcome) {
            let Some(slot) = coverages.get_mut(index) else { continue };
            if slot.is_none() {
                *slot = WorkflowCoverage::new(&compiled, &analysis.sources, index);
            }
            if let Some(coverage) = slot {
                let refusals = if index == root { outcome.refusals.as_slice() } else { &[] };
                coverage.record(&steps, refusals);
            }
        }
    }
    for coverage in coverages.into_iter().flatten() {
        for point in coverage.exits.iter().filter(|point| point.hits == 0) {
            let file = FileId(point.at.file);
            let Some(source) = analysis.sources.get(file) else { continue };
            let (node, exit) = point.name.split_once('.').unwrap_or(("", point.name.as_str()));
            hints.entry(file).or_default().push(lsp::Diagnostic {
                range: convert::range(source, point.at.start as usize, point.at.end as usize),
                severity: Some(lsp::DiagnosticSeverity::HINT),
                source: Some("flowc test".into()),
                message: format!("no test takes exit `{exit}` of `{node}` (flowc test --coverage)"),
                ..lsp::Diagnostic::default()
            });
        }
    }
    hints
}
