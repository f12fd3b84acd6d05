//! What the route analysis costs, as ratios within one run:
//!
//! - on the generated workflows of `benches/generate.rs` (¼, ½ and 1×: up
//!   to 2,000 nodes and 10,000 fields), the analysis against parse + check
//!   of the same text (the bound: the analysis adds no more than
//!   parse and check together cost);
//! - `--org` with the routing benchmark's 100,000-employee directory on the
//!   expense example (the bound: under 2 s), as `flowc check --org` runs it.
//!
//! `cargo bench --bench analysis` (`-- quick` for ¼ scale only). Not divan:
//! each figure is a median of a few whole runs, printed with its ratio.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

#[path = "generate.rs"]
mod generate;

use std::time::{Duration, Instant};

use generate::Size;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|argument| argument == "quick");
    let scales: &[f64] = if quick { &[0.25] } else { &[0.25, 0.5, 1.0] };
    println!("generated workflows: parse + check, then the analysis of the same program");
    for &scale in scales {
        let size = Size::scale(scale);
        let text = generate::flow(size);
        let runs = if scale >= 1.0 { 3 } else { 5 };
        let mut check_times = Vec::new();
        let mut analysis_times = Vec::new();
        let mut findings = 0;
        for _ in 0..runs {
            let started = Instant::now();
            let analysis = flowc::check::check_source("bench.flow", &text);
            check_times.push(started.elapsed());
            assert_eq!(analysis.error_count(), 0);
            let started = Instant::now();
            let report = flowc::analysis::analyze(&analysis);
            analysis_times.push(started.elapsed());
            findings = report.findings.len();
            std::mem::forget(analysis);
        }
        let (check, analysis) = (median(check_times), median(analysis_times));
        println!(
            "  {} nodes / {} fields ({} KB): parse + check {:.1} ms, analysis {:.1} ms, ratio {:.2} ({findings} findings)",
            size.nodes,
            size.fields,
            text.len() / 1024,
            check.as_secs_f64() * 1e3,
            analysis.as_secs_f64() * 1e3,
            analysis.as_secs_f64() / check.as_secs_f64(),
        );
    }
}
