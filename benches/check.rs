//! `flowc check` throughput against baselines (issue: ≥ 10 MB/s on the
//! scale-1 workload of 2,000 nodes and 10,000 fields, linear in size, the
//! checker costing no more than the parse).
//!
//! Four benchmarks at three sizes (¼, ½ and 1 × scale), each reporting
//! bytes/s:
//! * `pest_only` — the raw pest parse of `Rule::file` (no lexer, no tree);
//! * `parse`     — `flowc::syntax::parse` (lexer, pest, lowering to the AST);
//! * `check`     — `flowc::check::check_source` (what `flowc check` does);
//! * `toml`      — the `toml` crate parsing a TOML document of the same size.
//!
//! And on files full of mistakes, one diagnostic a line (issue: 8,000
//! diagnostics in under 1 s, as text and as JSON): `mistakes_text` and
//! `mistakes_json` check and render every diagnostic as `flowc check` does.
//!
//! At startup the inputs are written to `target/bench-input-{250,500,1000}.{flow,toml}`
//! (and the scale-1 pair again as `target/bench-input.{flow,toml}`) for
//! whole-process timing (hyperfine, `/usr/bin/time -v`), and the files full of
//! mistakes as `target/bench-{unknown-8000,never-filled-8000,never-filled-40000}.flow`;
//! see benches/README.md.

mod generate;

use std::sync::OnceLock;

use divan::counter::BytesCount;
use divan::{black_box, Bencher};
use pest::Parser;

use generate::Size;

fn main() {
    write_inputs();
    divan::main();
}

/// ¼, ½ and 1 × scale, as per-mille so they can be divan `args`.
const SCALES: [u32; 3] = [250, 500, 1000];

struct Input {
    flow: String,
    toml: String,
}

fn input(per_mille: u32) -> &'static Input {
    static INPUTS: OnceLock<Vec<(u32, Input)>> = OnceLock::new();
    let inputs = INPUTS.get_or_init(|| {
        SCALES
            .iter()
            .map(|&scale| {
                let size = Size::scale(f64::from(scale) / 1000.0);
                let flow = generate::flow(size);
                let toml = generate::toml(size, flow.len());
                (scale, Input { flow, toml })
            })
            .collect()
    });
    inputs
        .iter()
        .find(|(scale, _)| *scale == per_mille)
        .map(|(_, input)| input)
        .unwrap_or_else(|| unreachable_scale(per_mille))
}

fn unreachable_scale(per_mille: u32) -> &'static Input {
    static EMPTY: Input = Input { flow: String::new(), toml: String::new() };
    eprintln!("no input generated for scale {per_mille}");
    &EMPTY
}

fn write_inputs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    let mut files: Vec<(String, &str)> = Vec::new();
    for scale in SCALES {
        let input = input(scale);
        eprintln!("scale {scale}/1000: flow {} bytes, toml {} bytes", input.flow.len(), input.toml.len());
        files.push((format!("bench-input-{scale}.flow"), &input.flow));
        files.push((format!("bench-input-{scale}.toml"), &input.toml));
    }
    let scale1 = input(1000);
    files.push(("bench-input.flow".to_string(), &scale1.flow));
    files.push(("bench-input.toml".to_string(), &scale1.toml));
    for name in MISTAKES {
        files.push((format!("bench-{name}.flow"), mistakes(name)));
    }
    for (name, text) in files {
        let path = dir.join(name);
        if let Err(error) = std::fs::write(&path, text) {
            eprintln!("could not write {}: {error}", path.display());
        }
    }
    eprintln!("wrote target/bench-input{{,-250,-500,-1000}}.{{flow,toml}} (scale 1 = bench-input.flow)");
}

#[divan::bench(args = SCALES, sample_count = 10, sample_size = 1)]
fn pest_only(bencher: Bencher, scale: u32) {
    let text = input(scale).flow.as_str();
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        let pairs = flowc::syntax::FlowParser::parse(flowc::syntax::Rule::file, black_box(text));
        black_box(pairs.is_ok())
    });
}

#[divan::bench(args = SCALES, sample_count = 10, sample_size = 1)]
fn parse(bencher: Bencher, scale: u32) {
    let text = input(scale).flow.as_str();
    bencher
        .counter(BytesCount::new(text.len()))
        .bench(|| flowc::syntax::parse(flowc::source::FileId(0), black_box(text)));
}

#[divan::bench(args = SCALES, sample_count = 10, sample_size = 1)]
fn check(bencher: Bencher, scale: u32) {
    let text = input(scale).flow.as_str();
    bencher.counter(BytesCount::new(text.len())).bench(|| {
        let analysis = flowc::check::check_source("bench.flow", black_box(text));
        assert_eq!(analysis.diagnostics.len(), 0);
        analysis
    });
}

#[divan::bench(args = SCALES, sample_count = 10, sample_size = 1)]
fn toml(bencher: Bencher, scale: u32) {
    let text = input(scale).toml.as_str();
    bencher.counter(BytesCount::new(text.len())).bench(|| toml::from_str::<toml::Table>(black_box(text)));
}

/// Files full of mistakes: `unknown-N` has N unknown names (each with a
/// did-you-mean), `never-filled-N` N fields that no node fills.
const MISTAKES: [&str; 3] = ["unknown-8000", "never-filled-8000", "never-filled-40000"];

fn mistakes(name: &str) -> &'static str {
    static TEXTS: OnceLock<Vec<(&str, String)>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        vec![
            ("unknown-8000", generate::unknown_names(8000)),
            ("never-filled-8000", generate::never_filled(8000)),
            ("never-filled-40000", generate::never_filled(40000)),
        ]
    });
    texts.iter().find(|(known, _)| *known == name).map_or("", |(_, text)| text.as_str())
}

#[divan::bench(args = MISTAKES, sample_count = 5, sample_size = 1)]
fn mistakes_text(bencher: Bencher, name: &str) {
    let text = mistakes(name);
    let style = flowc::diag::render::TextStyle::plain();
    bencher.bench(|| {
        let analysis = flowc::check::check_source("bench.flow", black_box(text));
        assert!(analysis.diagnostics.len() >= 8000);
        let mut out = String::new();
        for diagnostic in &analysis.diagnostics {
            out.push_str(&flowc::diag::render::to_text(diagnostic, &analysis.sources, style));
        }
        out.len()
    });
}

#[divan::bench(args = MISTAKES, sample_count = 5, sample_size = 1)]
fn mistakes_json(bencher: Bencher, name: &str) {
    let text = mistakes(name);
    bencher.bench(|| {
        let analysis = flowc::check::check_source("bench.flow", black_box(text));
        assert!(analysis.diagnostics.len() >= 8000);
        let rendered: Vec<_> = analysis
            .diagnostics
            .iter()
            .map(|diagnostic| flowc::diag::render::to_json(diagnostic, &analysis.sources))
            .collect();
        serde_json::to_string(&rendered).map(|json| json.len()).unwrap_or(0)
    });
}
