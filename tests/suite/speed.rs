//! Costs that must grow with the input, not with its square: did-you-mean,
//! the text renderer, and the language server's re-check of a file full of
//! errors. Each test compares two timings taken in the same run (the
//! smallest of a few, interleaved), so a slow or busy machine slows both:
//! a linear cost keeps the ratio near the ratio of the sizes, a quadratic
//! one squares it. The absolute figures are in benches/README.md.

use super::generate;

use std::time::{Duration, Instant};

use flowc::diag::render::{self, TextStyle};
use flowc::diag::{Code, Diagnostic};
use flowc::source::{SourceFile, SourceMap, Span};
use lsp_server::Notification;
use serde_json::json;

/// The smallest of `runs` timings of each closure, taken in turns.
fn fastest_of(runs: usize, mut first: impl FnMut(), mut second: impl FnMut()) -> (Duration, Duration) {
    let (mut a, mut b) = (Duration::MAX, Duration::MAX);
    for _ in 0..runs {
        let started = Instant::now();
        first();
        a = a.min(started.elapsed());
        let started = Instant::now();
        second();
        b = b.min(started.elapsed());
    }
    (a, b)
}

#[test]
fn rendering_a_diagnostic_costs_its_neighbourhood_not_the_file() {
    // 200,000 lines; 100 diagnostics at the top and 100 at the bottom.
    let lines = 200_000;
    let text: String = (0..lines).map(|n| format!("  字段{n}: int \"字段{n}\"\n")).collect();
    let mut sources = SourceMap::new();
    let file = sources.add(SourceFile::new("big.flow", None, text.as_str()));
    let line_starts: Vec<usize> =
        std::iter::once(0).chain(text.match_indices('\n').map(|(at, _)| at + 1)).take(lines).collect();
    let at_line = |line: usize| {
        let start = line_starts[line] + 2;
        Diagnostic::in_file(Code::W0305, "field is never filled", file, Span::new(start, start + 8), "here")
    };
    let top: Vec<Diagnostic> = (0..100).map(at_line).collect();
    let bottom: Vec<Diagnostic> = (lines - 100..lines).map(at_line).collect();
    let render_all = |diagnostics: &[Diagnostic]| {
        for diagnostic in diagnostics {
            assert!(render::to_text(diagnostic, &sources, TextStyle::plain()).contains("big.flow:"));
        }
    };
    let (top_time, bottom_time) = fastest_of(3, || render_all(&top), || render_all(&bottom));
    assert!(
        bottom_time < top_time * 4,
        "the last lines of a long file take {bottom_time:?} to render, the first {top_time:?}"
    );
}

#[test]
fn did_you_mean_stays_linear_in_the_number_of_unknown_names() {
    let small = generate::unknown_names(1000);
    let large = generate::unknown_names(4000);
    let check = |text: &str, count: usize| {
        let analysis = flowc::check::check_source("names.flow", text);
        assert_eq!(analysis.error_count(), count);
    };
    let (small_time, large_time) = fastest_of(2, || check(&small, 1000), || check(&large, 4000));
    // Four times the names: four times the time if linear, sixteen if quadratic.
    assert!(large_time < small_time * 9, "1,000 unknown names take {small_time:?}, 4,000 take {large_time:?}");
}

#[test]
fn a_keystroke_in_a_file_full_of_errors_costs_about_what_it_costs_in_a_clean_file() {
    let keystroke_time = |name: &str, text: String| {
        let path = std::env::temp_dir().join(format!("flowc-speed-{}-{name}", std::process::id()));
        std::fs::write(&path, &text).expect("write");
        let uri = lsp_types::Url::from_file_path(&path).expect("url");
        let mut server = flowc::lsp::Server::new();
        let open = json!({ "textDocument": { "uri": uri, "languageId": "flow", "version": 1, "text": text } });
        flowc::lsp::handle_notification(&mut server, Notification::new("textDocument/didOpen".into(), open));
        let mut fastest = Duration::MAX;
        for version in 2..5 {
            let edit = json!({ "range": { "start": { "line": 10, "character": 0 }, "end": { "line": 10, "character": 0 } }, "text": " " });
            let change = json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [edit] });
            let started = Instant::now();
            let published = flowc::lsp::handle_notification(
                &mut server,
                Notification::new("textDocument/didChange".into(), change),
            );
            fastest = fastest.min(started.elapsed());
            assert!(!published.is_empty());
        }
        let _ = std::fs::remove_file(&path);
        fastest
    };
    // About 4,000 lines each: a clean generated workflow, and one unknown
    // name (with a did-you-mean among 4,000 fields) on every line.
    let clean = keystroke_time("clean.flow", generate::flow(generate::Size::scale(0.065)));
    let broken = keystroke_time("broken.flow", generate::unknown_names(4000));
    assert!(broken < clean * 6, "a keystroke takes {broken:?} in a file full of errors, {clean:?} in a clean one");
}
