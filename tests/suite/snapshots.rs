//! The rendered report of every error case, beside its source, so a
//! reviewer reads one file (Gleam's habit). No colour, fixed width.

use flowc::check::{check_paths, FsLoader};
use flowc::diag::render::{to_text, TextStyle};

#[test]
fn rendered_reports() {
    insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::glob!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/check/err"), "*.flow", |path| {
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
