//! The benchmark's generated input (benches/generate.rs) must be a clean
//! file: a benchmark of a file full of errors would measure error paths.

use super::generate;

use flowc::check::check_source;
use generate::Size;

fn assert_clean(size: Size) {
    let text = generate::flow(size);
    let analysis = check_source("generated.flow", &text);
    let shown: Vec<String> = analysis.diagnostics.iter().take(5).map(|diagnostic| format!("{diagnostic:?}")).collect();
    assert!(analysis.diagnostics.is_empty(), "{size:?}: {} diagnostics, first: {shown:#?}", analysis.diagnostics.len());
}

#[test]
fn generated_flow_checks_clean() {
    assert_clean(Size { nodes: 3, fields: 40 });
    assert_clean(Size { nodes: 20, fields: 100 });
    assert_clean(Size::scale(0.02));
}

#[test]
fn generated_toml_parses() {
    let size = Size::scale(0.02);
    let flow = generate::flow(size);
    let toml = generate::toml(size, flow.len());
    assert!(toml.len() >= flow.len());
    assert!(toml::from_str::<toml::Table>(&toml).is_ok());
}

/// The benchmark's workflow at a twentieth of the size (20 nodes,
/// 100 fields) already spends the examples' budget: the check says so, at
/// the node where it ran out, beside the findings it did confirm.
#[test]
fn a_generated_workflow_that_spends_the_examples_budget_says_so() {
    let text = generate::flow(Size::scale(0.01));
    let analysis = check_source("generated.flow", &text);
    let report = flowc::analysis::analyze(&analysis);
    let spent: Vec<_> = report.findings.iter().filter(|finding| finding.code.as_str() == "W0708").collect();
    assert_eq!(spent.len(), 1, "{:?}", report.findings.iter().map(|f| &f.message).collect::<Vec<_>>());
    assert!(spent[0].message.contains("ran out of its budget at `节点"), "{}", spent[0].message);
    assert!(report.findings.iter().any(|finding| finding.code.as_str() == "W0706"));
}

/// `flowc diff` on the same workflow with a constant raised: every node
/// comparing with it routes differently, and once the examples' budget is
/// spent a difference says so instead of "no request was found".
#[test]
fn a_diff_that_spends_the_examples_budget_says_so() {
    let old = generate::flow(Size::scale(0.01));
    let new = old.replace("const 大额标准 = 50000", "const 大额标准 = 60000");
    assert_ne!(old, new, "the generator's constant");
    let (old, new) = (check_source("old.flow", &old), check_source("new.flow", &new));
    let diff = flowc::analysis::diff::diff(&old, &new, None).expect("both versions check");
    let reasons: Vec<&str> = diff
        .workflows
        .iter()
        .flat_map(|workflow| &workflow.nodes)
        .flat_map(|node| &node.differences)
        .filter_map(|difference| difference.reason.as_deref())
        .collect();
    assert!(reasons.len() > 10, "{reasons:?}");
    assert!(reasons.iter().all(|reason| reason.contains("ran out of its budget")), "{reasons:?}");
}
