//! `flowc test [PATH…]` (docs/testing.md): finds the `test` items of the
//! `.flow` files under the paths and the folder cases (a folder with
//! `request.json` and `expect.json`), runs them, prints one line per test
//! and `N passed, N failed`, with the differences and the trace of each
//! failure; `--coverage` adds route coverage (a table, or lcov). Exit 0 when
//! every test passed (and coverage reached `--coverage-min`), 1 otherwise or
//! when a program has errors, 2 for bad usage or when no test was found.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{use_color, Failure, EXIT_BAD_USAGE, EXIT_FOUND_ERRORS, EXIT_OK};
use flowc::check::{self, Analysis, FsLoader};
use flowc::diag::render::{self, TextStyle};
use flowc::org::MemoryDirectory;
use flowc::runtime::compiled::Compiled;
use flowc::runtime::report::session::RunFiles;
use flowc::runtime::request::Runtime;
use flowc::runtime::values::dates::DateTime;
use flowc::testing::coverage::{self, WorkflowCoverage};
use flowc::testing::{self, Case, Outcome};

/// The clock of a test that names none: fixed, so tests give the same result every day.
pub const DEFAULT_NOW: &str = "2026-11-28T09:00:00+08:00";

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TestFormat {
    Text,
    Json,
    Junit,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CoverageFormat {
    Table,
    Lcov,
}

#[derive(Args)]
pub struct TestArgs {
    /// .flow files holding `test` items, folder cases, or folders to search (default: `.`).
    paths: Vec<PathBuf>,
    /// The directory (组织架构) for tests that name none; else the folder's org.toml or org.json.
    #[arg(long)]
    org: Option<PathBuf>,
    /// Run only the tests whose name, label or file contains this text.
    #[arg(long)]
    filter: Option<String>,
    /// The clock for tests without `now` (default 2026-11-28T09:00:00+08:00).
    #[arg(long)]
    now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    format: TestFormat,
    /// Report route coverage: nodes entered, exits and returns taken, batches used, refusals met.
    #[arg(long)]
    coverage: bool,
    /// Fail (exit 1) when route coverage is below this percentage; implies --coverage.
    #[arg(long, value_name = "PCT")]
    coverage_min: Option<f64>,
    /// `table` (printed after the tests) or `lcov` (written to --coverage-out); implies --coverage.
    #[arg(long, value_enum)]
    coverage_format: Option<CoverageFormat>,
    /// Where `--coverage-format lcov` writes (default: lcov.info).
    #[arg(long, value_name = "FILE")]
    coverage_out: Option<PathBuf>,
}

/// One program and the cases that run it.
struct Program {
    flow: PathBuf,
    cases: Vec<Case>,
}

/// One finished case, for the reports.
struct Ran {
    case: Case,
    outcome: Outcome,
    seconds: f64,
}

pub fn run(arguments: TestArgs) -> u8 {
    match run_inner(&arguments) {
        Ok(status) => status,
        Err(failure) => {
            failure.report(if arguments.format == TestFormat::Json {
                super::Format::Json
            } else {
                super::Format::Text
            });
            EXIT_BAD_USAGE
        }
    }
}

fn run_inner(arguments: &TestArgs) -> Result<u8, Failure> {
    let now_text = arguments.now.as_deref().unwrap_or(DEFAULT_NOW);
    let now = DateTime::parse(now_text)
        .ok_or_else(|| format!("`--now {now_text}` is not a datetime (write 2026-11-28T09:00:00+08:00)"))?;
    if let Some(min) = arguments.coverage_min {
        if !(0.0..=100.0).contains(&min) {
            return Err(format!("`--coverage-min {min}` is not a percentage between 0 and 100").into());
        }
    }
    let paths = if arguments.paths.is_empty() { vec![PathBuf::from(".")] } else { arguments.paths.clone() };
    let mut flows = Vec::new();
    let mut folders = Vec::new();
    for path in &paths {
        if path.is_dir() {
            find(path, &mut flows, &mut folders)?;
        } else if path.is_file() && path.extension().is_some_and(|extension| extension == "flow") {
            flows.push(path.clone());
        } else {
            return Err(format!("`{}` is neither a .flow file nor a folder", path.display()).into());
        }
    }
    flows.sort();
    flows.dedup();
    folders.sort();
    folders.dedup();

    let style = TextStyle { color: use_color(), width: 100 };
    let mut status = EXIT_OK;
    let mut programs: BTreeMap<PathBuf, Program> = BTreeMap::new();
    let mut analyses: HashMap<PathBuf, Analysis> = HashMap::new();
    for flow in &flows {
        let analysis = check::check_paths(std::slice::from_ref(flow), &FsLoader);
        let cases = testing::cases_of(&analysis);
        if cases.is_empty() {
            continue;
        }
        if analysis.error_count() > 0 {
            let mut stderr = std::io::stderr().lock();
            for diagnostic in analysis.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()) {
                let _ = writeln!(stderr, "{}", render::to_text(diagnostic, &analysis.sources, style));
            }
            let _ = writeln!(stderr, "{}: {} errors; its tests did not run", flow.display(), analysis.error_count());
            status = EXIT_FOUND_ERRORS;
            continue;
        }
        programs.insert(flow.clone(), Program { flow: flow.clone(), cases });
        analyses.insert(flow.clone(), analysis);
    }
    for folder in &folders {
        let case = testing::folder_case(folder)?;
        let files = RunFiles::from_folder(folder)?;
        let Some(flow) = files.flow else { continue };
        if !analyses.contains_key(&flow) {
            let analysis = check::check_paths(std::slice::from_ref(&flow), &FsLoader);
            if analysis.error_count() > 0 {
                let _ =
                    writeln!(std::io::stderr(), "{}: the program has errors; its cases did not run", flow.display());
                status = EXIT_FOUND_ERRORS;
                continue;
            }
            analyses.insert(flow.clone(), analysis);
        }
        programs
            .entry(flow.clone())
            .or_insert_with(|| Program { flow: flow.clone(), cases: Vec::new() })
            .cases
            .push(case);
    }

    let mut directories: HashMap<PathBuf, MemoryDirectory> = HashMap::new();
    let mut ran = Vec::new();
    let mut coverages: Vec<WorkflowCoverage> = Vec::new();
    let want_coverage = arguments.coverage || arguments.coverage_min.is_some() || arguments.coverage_format.is_some();
    for program in programs.values() {
        let Some(analysis) = analyses.get(&program.flow) else { continue };
        let compiled = Compiled::new(analysis, &flowc::input_file::read_script)
            .map_err(|error| format!("{}: {error}", program.flow.display()))?;
        let first = coverages.len();
        if want_coverage {
            coverages.extend(
                (0..compiled.program.workflows.len())
                    .filter_map(|index| WorkflowCoverage::new(&compiled, &analysis.sources, index)),
            );
        }
        for case in &program.cases {
            if let Some(filter) = &arguments.filter {
                let label = case.label.as_deref().unwrap_or("");
                if !case.name.contains(filter.as_str())
                    && !label.contains(filter.as_str())
                    && !case.file.display().to_string().contains(filter.as_str())
                {
                    continue;
                }
            }
            let org = org_of(case, &program.flow, arguments.org.as_deref())?;
            if !directories.contains_key(&org) {
                let directory =
                    MemoryDirectory::load(&org).map_err(|error| Failure::in_file(error.to_string(), &org))?;
                directories.insert(org.clone(), directory);
            }
            let Some(directory) = directories.get(&org) else { continue };
            let runtime = Runtime::new(&compiled, directory);
            let started = std::time::Instant::now();
            let outcome = testing::run_case(&runtime, directory, case, now);
            let seconds = started.elapsed().as_secs_f64();
            if let Some(root) = outcome.workflow {
                // A started request's steps count for its own workflow.
                for (index, steps) in testing::coverage::steps_by_workflow(&compiled, root, &outcome) {
                    let refusals = if index == root { outcome.refusals.as_slice() } else { &[] };
                    if let Some(coverage) = coverages.get_mut(first + index) {
                        coverage.record(&steps, refusals);
                    }
                }
            }
            ran.push(Ran { case: case.clone(), outcome, seconds });
        }
    }
    if ran.is_empty() && status == EXIT_OK {
        return Err(format!(
            "no tests found under {}",
            paths.iter().map(|path| format!("`{}`", path.display())).collect::<Vec<_>>().join(", ")
        )
        .into());
    }
    let failed = ran.iter().filter(|ran| !ran.outcome.passed()).count();
    if failed > 0 {
        status = EXIT_FOUND_ERRORS;
    }
    let total = coverage::percent(coverage::total(&coverages));
    let below = arguments.coverage_min.filter(|min| want_coverage && total < *min);
    if below.is_some() {
        status = EXIT_FOUND_ERRORS;
    }
    if arguments.coverage_format == Some(CoverageFormat::Lcov) {
        let out = arguments.coverage_out.clone().unwrap_or_else(|| PathBuf::from("lcov.info"));
        std::fs::write(&out, coverage::lcov(&coverages))
            .map_err(|error| format!("cannot write `{}`: {error}", out.display()))?;
    }
    let mut stdout = std::io::stdout().lock();
    match arguments.format {
        TestFormat::Text => {
            let _ = write!(stdout, "{}", text_report(&ran));
            if want_coverage && arguments.coverage_format != Some(CoverageFormat::Lcov) {
                let _ = write!(stdout, "\n{}", coverage::table(&coverages));
            }
            if let Some(min) = below {
                let _ = writeln!(stdout, "route coverage {total:.1}% is below --coverage-min {min}");
            }
        }
        TestFormat::Json => {
            let tests: Vec<serde_json::Value> = ran.iter().map(json_of).collect();
            let mut document = serde_json::json!({
                "passed": ran.len() - failed,
                "failed": failed,
                "tests": tests,
            });
            if let (true, Some(members)) = (want_coverage, document.as_object_mut()) {
                members.insert("coverage".into(), serde_json::json!({ "percent": total, "workflows": coverages }));
            }
            let _ = serde_json::to_writer_pretty(&mut stdout, &document);
            let _ = writeln!(stdout);
        }
        TestFormat::Junit => {
            let _ = write!(stdout, "{}", junit(&ran));
        }
    }
    Ok(status)
}

/// The `.flow` files and the folder cases under `folder` (hidden folders and `target` skipped).
fn find(folder: &Path, flows: &mut Vec<PathBuf>, folders: &mut Vec<PathBuf>) -> Result<(), Failure> {
    if folder.join("expect.json").is_file() && folder.join("request.json").is_file() {
        folders.push(folder.to_path_buf());
    }
    let entries = std::fs::read_dir(folder).map_err(|error| format!("cannot read `{}`: {error}", folder.display()))?;
    let mut entries: Vec<PathBuf> = entries.filter_map(|entry| entry.ok().map(|entry| entry.path())).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        // A linked folder is not followed: a link to an ancestor would never end.
        let linked = std::fs::symlink_metadata(&path).is_ok_and(|metadata| metadata.file_type().is_symlink());
        if path.is_dir() {
            if !linked && !name.starts_with('.') && name != "target" {
                find(&path, flows, folders)?;
            }
        } else if path.extension().is_some_and(|extension| extension == "flow") {
            flows.push(path);
        }
    }
    Ok(())
}

/// The directory of a case: its own `org`, else `--org`, else the folder's (or its parent's).
fn org_of(case: &Case, flow: &Path, given: Option<&Path>) -> Result<PathBuf, Failure> {
    let base =
        if case.file.is_dir() { case.file.clone() } else { flow.parent().map(Path::to_path_buf).unwrap_or_default() };
    if let Some(org) = &case.org {
        return Ok(base.join(org));
    }
    if let Some(given) = given {
        return Ok(given.to_path_buf());
    }
    let parent = base.parent().map(Path::to_path_buf);
    [Some(base.clone()), parent]
        .into_iter()
        .flatten()
        .flat_map(|folder| [folder.join("org.toml"), folder.join("org.json")])
        .find(|path| path.is_file())
        .ok_or_else(|| {
            Failure::from(format!(
                "test `{}` has no directory: write `org \"org.toml\"` in it, pass `--org FILE`, or put org.toml next to {}",
                case.name,
                flow.display()
            ))
        })
}

fn where_of(case: &Case) -> String {
    if case.line > 0 {
        format!("{}:{}", case.file.display(), case.line)
    } else {
        case.file.display().to_string()
    }
}

fn text_report(ran: &[Ran]) -> String {
    let mut out = String::new();
    for ran in ran {
        let verdict = if ran.outcome.passed() { "ok  " } else { "FAIL" };
        out.push_str(&format!("{verdict} {} {}\n", where_of(&ran.case), ran.case.name));
        if ran.outcome.passed() {
            continue;
        }
        for difference in &ran.outcome.differences {
            if difference.line > 0 {
                out.push_str(&format!("     at line {}:\n", difference.line));
            }
            out.push_str(&format!("     - {}\n     + {}\n", difference.expected, difference.actual));
        }
        if !ran.outcome.trace.is_empty() {
            out.push_str("     trace:\n");
            for line in &ran.outcome.trace {
                out.push_str(&format!("       {line}\n"));
            }
        }
    }
    let failed = ran.iter().filter(|ran| !ran.outcome.passed()).count();
    out.push_str(&format!("{} passed, {failed} failed\n", ran.len() - failed));
    out
}

fn json_of(ran: &Ran) -> serde_json::Value {
    serde_json::json!({
        "name": ran.case.name,
        "label": ran.case.label,
        "file": ran.case.file.display().to_string(),
        "line": ran.case.line,
        "status": if ran.outcome.passed() { "passed" } else { "failed" },
        "differences": ran.outcome.differences,
        "trace": ran.outcome.trace,
    })
}

fn xml(text: &str) -> String {
    text.chars()
        .map(|character| match character {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            // XML 1.0 cannot hold most control characters, even escaped.
            control if (control as u32) < 0x20 && !matches!(control, '\n' | '\t' | '\r') => "?".to_owned(),
            other => other.to_string(),
        })
        .collect()
}

/// JUnit XML: one `testsuite` per file, one `testcase` per test, a `failure` with the diff and
/// the trace for each failed one.
fn junit(ran: &[Ran]) -> String {
    let mut suites: BTreeMap<String, Vec<&Ran>> = BTreeMap::new();
    for ran in ran {
        suites.entry(ran.case.file.display().to_string()).or_default().push(ran);
    }
    let failed = ran.iter().filter(|ran| !ran.outcome.passed()).count();
    let seconds: f64 = ran.iter().map(|ran| ran.seconds).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"flowc test\" tests=\"{}\" failures=\"{failed}\" time=\"{seconds:.3}\">\n",
        ran.len()
    ));
    for (file, cases) in suites {
        let failures = cases.iter().filter(|ran| !ran.outcome.passed()).count();
        let time: f64 = cases.iter().map(|ran| ran.seconds).sum();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{time:.3}\">\n",
            xml(&file),
            cases.len()
        ));
        for ran in cases {
            let name = xml(&ran.case.name);
            let open = format!(
                "    <testcase name=\"{name}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3}\"",
                xml(&file),
                xml(&file),
                ran.case.line,
                ran.seconds
            );
            if ran.outcome.passed() {
                out.push_str(&format!("{open}/>\n"));
                continue;
            }
            let first = ran.outcome.differences.first();
            let message =
                first.map(|difference| format!("expected {}, got {}", difference.expected, difference.actual));
            let mut body = String::new();
            for difference in &ran.outcome.differences {
                body.push_str(&format!(
                    "line {}\n- {}\n+ {}\n",
                    difference.line, difference.expected, difference.actual
                ));
            }
            for line in &ran.outcome.trace {
                body.push_str(&format!("{line}\n"));
            }
            out.push_str(&format!(
                "{open}>\n      <failure message=\"{}\" type=\"difference\">{}</failure>\n    </testcase>\n",
                xml(&message.unwrap_or_default()),
                xml(&body)
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
