//! `tests/data/check/err/*.flow` mark each expected diagnostic with
//! `//~ CODE` at the end of the line of its primary label; the checker
//! must produce exactly those (code, line) pairs. `ok/` files and every
//! example must check with no diagnostic at all, warnings included.

use std::path::PathBuf;

use flowc::check::{check_paths, FsLoader};

fn expected_marks(text: &str) -> Vec<(usize, String)> {
    let mut marks = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if let Some(position) = line.find("//~") {
            for code in line[position + 3..].split_whitespace() {
                marks.push((index + 1, code.to_string()));
            }
        }
    }
    marks.sort();
    marks
}

fn actual_marks(path: &PathBuf) -> (Vec<(usize, String)>, String) {
    let analysis = check_paths(std::slice::from_ref(path), &FsLoader);
    assert!(analysis.unreadable.is_empty(), "cannot read {}", path.display());
    let mut marks = Vec::new();
    let mut listing = String::new();
    for diagnostic in &analysis.diagnostics {
        let file = analysis.sources.get(diagnostic.file()).expect("file of diagnostic");
        let (line, column) = file.line_column(diagnostic.primary.at.span.start as usize);
        listing.push_str(&format!("  {}:{line}:{column} {} {}\n", file.name, diagnostic.code, diagnostic.message));
        if file.path.as_ref() == Some(path) {
            marks.push((line, diagnostic.code.to_string()));
        }
    }
    marks.sort();
    (marks, listing)
}

#[test]
fn every_err_case_reports_exactly_its_marked_diagnostics() {
    let files = super::flow_files("tests/data/check/err");
    assert!(files.len() > 40, "expected the error corpus, found {} files", files.len());
    let mut failures = Vec::new();
    for path in files {
        let text = String::from_utf8_lossy(&std::fs::read(&path).expect("read case")).into_owned();
        let expected = expected_marks(&text);
        assert!(!expected.is_empty(), "{} has no `//~ CODE` mark", path.display());
        let (actual, listing) = actual_marks(&path);
        if expected != actual {
            failures.push(format!("{}\n  expected {:?}\n  actual   {:?}\n{listing}", path.display(), expected, actual));
        }
    }
    assert!(failures.is_empty(), "{} cases differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_code_of_language_md_section_10_has_a_case() {
    let files = super::flow_files("tests/data/check/err");
    let names: Vec<String> = files.iter().map(|path| super::name_of(path)).collect();
    for code in [
        "E0101", "E0102", "E0103", "E0104", "E0105", "E0106", "W0107", "E0201", "E0202", "E0203", "E0204", "E0205",
        "E0301", "E0302", "E0303", "E0304", "E0401", "E0402", "E0501", "E0502", "E0503",
    ] {
        assert!(names.iter().any(|name| name.starts_with(code)), "no test case for {code}");
    }
}

#[test]
fn ok_cases_and_examples_check_clean() {
    let mut files = super::flow_files("tests/data/check/ok");
    let examples = super::example_files();
    assert!(examples.len() >= 4, "expected at least four examples");
    files.extend(examples);
    let mut failures = Vec::new();
    for path in files {
        let (actual, listing) = actual_marks(&path);
        if !actual.is_empty() || !listing.is_empty() {
            failures.push(format!("{}\n{listing}", path.display()));
        }
    }
    assert!(failures.is_empty(), "these should check clean:\n{}", failures.join("\n"));
}

/// `flowc check` skips the index; that must not change a single diagnostic.
#[test]
fn a_check_without_the_index_finds_the_same_diagnostics() {
    let mut files = super::flow_files("tests/data/check/err");
    files.extend(super::flow_files("tests/data/check/ok"));
    files.extend(super::example_files());
    assert!(files.len() > 50);
    for path in files {
        let paths = std::slice::from_ref(&path);
        let full = check_paths(paths, &FsLoader);
        let lean = flowc::check::check_paths_for_diagnostics(paths, &FsLoader);
        assert!(lean.index.references.is_empty() && lean.index.symbols.is_empty());
        let shown = |analysis: &flowc::check::Analysis| -> Vec<String> {
            analysis.diagnostics.iter().map(|diagnostic| format!("{diagnostic:?}")).collect()
        };
        assert_eq!(shown(&full), shown(&lean), "{}", path.display());
    }
}
