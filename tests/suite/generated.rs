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
