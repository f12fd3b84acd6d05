//! The rendered report of every error case, beside its source, so a
//! reviewer reads one file (Gleam's habit). No colour, fixed width.

use flowc::check::{check_paths, FsLoader};
use flowc::diag::render::{to_text, TextStyle};

#[test]
fn rendered_reports() {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::glob!(super::repo_root().join("tests/data/check/err"), "*.flow", |path| {
            let relative = path.strip_prefix(std::env::current_dir().expect("cwd")).unwrap_or(path).to_path_buf();
            let analysis = check_paths(std::slice::from_ref(&relative), &FsLoader);
            let source = String::from_utf8_lossy(&std::fs::read(path).expect("read")).into_owned();
            let mut report = String::new();
            for diagnostic in &analysis.diagnostics {
                report.push_str(&to_text(diagnostic, &analysis.sources, TextStyle::plain()));
                report.push('\n');
            }
            insta::assert_snapshot!(format!("{source}\n----- flowc check -----\n{report}"));
        });
    });
}

/// Each `file:line:column` of the text report is where one of the labels of
/// the JSON report starts, counted in characters (as editors count), on
/// every error case — most of them have Chinese text before the place they
/// point at.
#[test]
fn text_and_json_reports_agree_on_columns() {
    let mut compared = 0;
    let mut after_chinese = 0;
    for path in super::flow_files("tests/data/check/err") {
        let analysis = check_paths(std::slice::from_ref(&path), &FsLoader);
        for diagnostic in &analysis.diagnostics {
            let text = to_text(diagnostic, &analysis.sources, TextStyle::plain());
            let json = flowc::diag::render::to_json(diagnostic, &analysis.sources);
            let starts: Vec<(usize, usize)> =
                json.labels.iter().map(|label| (label.range.line, label.range.column)).collect();
            for header in text.lines().filter_map(|line| line.split_once("╭─[").map(|(_, rest)| rest)) {
                let mut parts = header.trim_end_matches(']').rsplitn(3, ':');
                let column: usize = parts.next().and_then(|part| part.parse().ok()).expect("a column");
                let line: usize = parts.next().and_then(|part| part.parse().ok()).expect("a line");
                assert!(
                    starts.contains(&(line, column)),
                    "{}: {line}:{column} is not in {starts:?}\n{text}",
                    path.display()
                );
                let file = analysis.sources.get(diagnostic.file()).expect("the file");
                let line_text = file.text.lines().nth(line - 1).unwrap_or("");
                if line_text.chars().take(column - 1).any(|character| !character.is_ascii()) {
                    after_chinese += 1;
                }
                compared += 1;
            }
        }
    }
    assert!(compared > 50, "only {compared} reports compared");
    assert!(after_chinese > 20, "only {after_chinese} reports point after Chinese text");
}
