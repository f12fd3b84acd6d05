mod adversarial_files;
mod adversarial_json;
mod adversarial_lsp;
mod adversarial_state;
mod analysis;
mod analysis_random;
mod check_cases;
mod cli;
mod diff;
mod directory;
mod docs;
mod expected_sets;
mod format;
/// The benchmarks' generators (benches/generate.rs), shared by the suites that use them.
#[path = "../../benches/generate.rs"]
mod generate;
mod generated;
mod graph;
mod ir;
mod lsp;
mod lsp_features;
mod manual_actions;
mod money;
mod robustness;
mod run_cases;
mod run_cli;
mod run_forks;
mod run_host_directory;
mod run_random;
mod run_state;
mod run_trace;
mod snapshots;
mod speed;
mod test_runner;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root. The tests name their inputs from it (`tests/data/…`, `examples/…`);
/// they are a test target of crates/cli, the package that builds the `flowc` binary.
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// Runs the built `flowc` binary: (exit status, stdout, stderr).
pub fn flowc(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_flowc")).args(args).env("NO_COLOR", "1").output().expect("run flowc");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every `.flow` file directly inside `dir`, sorted.
pub fn flow_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).collect())
        .unwrap_or_default();
    files.retain(|path| path.extension().is_some_and(|extension| extension == "flow"));
    files.sort();
    files
}

/// Every example: `examples/<name>/*.flow`.
pub fn example_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("examples")
        .map(|entries| entries.filter_map(Result::ok).map(|entry| entry.path()).filter(|path| path.is_dir()).collect())
        .unwrap_or_default();
    dirs.sort();
    for dir in dirs {
        files.extend(flow_files(&dir.to_string_lossy()));
    }
    files
}

pub fn name_of(path: &Path) -> String {
    path.file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default()
}
