//! What the route analysis costs, side by side in one divan run:
//!
//! - `parse_check` and `analysis` on the generated workflows of
//!   `benches/generate.rs` (¼, ½ and 1×: up to 2,000 nodes and 10,000
//!   fields): parse + check of the text against the analysis of the same
//!   checked program (the bound: the analysis adds no more than
//!   parse and check together cost);
//! - `check_org_100k`: what `flowc check --org` does on the expense example
//!   with the routing benchmark's 100,000-employee directory — check, then
//!   the analysis with the directory (the bound: under 2 s); the directory
//!   is loaded once, outside the timing, as it is read once per process.
//!
//! `cargo bench --bench analysis`. At startup the directory is written to
//! `target/bench-org-100k.json` and the 1× workflow to
//! `target/bench-input-analysis.flow`, for whole-process timing of `flowc
//! check --org` and `flowc check` (hyperfine, `/usr/bin/time -v`); see
//! benches/README.md.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

#[path = "generate.rs"]
mod generate;

#[allow(dead_code)]
#[path = "routing.rs"]
mod routing;

use std::path::PathBuf;
use std::sync::OnceLock;

use divan::{black_box, Bencher};
use flowc::check::{check_source, FsLoader};
use flowc::org::MemoryDirectory;

use generate::Size;

/// The allocator of the `flowc` binary, so both sides time what `flowc check` does.
#[global_allocator]
static ALLOCATOR: flowc_alloc::Mimalloc = flowc_alloc::Mimalloc;

fn main() {
    write_inputs();
    divan::main();
}

/// ¼, ½ and 1 × scale, as per-mille so they can be divan `args`.
const SCALES: [u32; 3] = [250, 500, 1000];

fn text(per_mille: u32) -> &'static str {
    static TEXTS: OnceLock<Vec<(u32, String)>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        SCALES.iter().map(|&scale| (scale, generate::flow(Size::scale(f64::from(scale) / 1000.0)))).collect()
    });
    texts.iter().find(|(scale, _)| *scale == per_mille).map(|(_, text)| text.as_str()).expect("a generated input")
}

fn directory() -> &'static MemoryDirectory {
    static DIRECTORY: OnceLock<MemoryDirectory> = OnceLock::new();
    DIRECTORY.get_or_init(|| MemoryDirectory::from_records(routing::directory_records()).expect("a valid directory"))
}

fn write_inputs() {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let _ = std::fs::create_dir_all(&target);
    let records = routing::directory_records();
    let json = serde_json::to_string(&records).expect("a directory as JSON");
    std::fs::write(target.join("bench-org-100k.json"), json).expect("write the directory");
    std::fs::write(target.join("bench-input-analysis.flow"), text(1000)).expect("write the workflow");
}

#[divan::bench(args = SCALES, sample_count = 5, sample_size = 1)]
fn parse_check(bencher: Bencher, per_mille: u32) {
    let source = text(per_mille);
    bencher.bench(|| {
        let analysis = check_source("bench.flow", black_box(source));
        assert_eq!(analysis.error_count(), 0);
        analysis
    });
}

#[divan::bench(args = SCALES, sample_count = 5, sample_size = 1)]
fn analysis(bencher: Bencher, per_mille: u32) {
    let checked = check_source("bench.flow", text(per_mille));
    assert_eq!(checked.error_count(), 0);
    bencher.bench(|| flowc::analysis::analyze(black_box(&checked)).findings.len());
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn check_org_100k(bencher: Bencher) {
    let directory = directory();
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/expense/expense.flow");
    bencher.bench(|| {
        let options = flowc::analysis::Options { org: Some(directory), ..Default::default() };
        let analysis = flowc::analysis::check_paths_with(std::slice::from_ref(&path), &FsLoader, &options);
        assert_eq!(analysis.error_count(), 0);
        analysis.diagnostics.len()
    });
}
