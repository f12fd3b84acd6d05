//! The route analysis, as data. `tests/data/analysis/<CODE>/*.flow` each
//! say in `// expect:` lines which findings they must raise — `// expect:
//! W0701 部门审批 "合计 = 5000.00"` (code, node, a piece of the message) — or
//! `// expect: none` for a near miss that must raise nothing.
//!
//! Every counterexample is then confirmed by the runtime, independently of
//! the analysis's own replay: the test builds the request from the trace,
//! runs it against `tests/data/analysis/org.toml` (or the example's own
//! directory), and checks that it ends exactly as the finding says. And no
//! example raises anything.

use std::path::{Path, PathBuf};

use flowc::analysis::{self, Example, Expect, Finding};
use flowc::check::{check_paths, FsLoader};
use flowc::org::{Directory, MemoryDirectory};
use flowc::runtime::compiled::Compiled;
use flowc::runtime::error::RuntimeError;
use flowc::runtime::request::{Action, ActionKind, FormInput, NewRequest, Request, Runtime, Step};
use flowc::runtime::values::dates::DateTime;

fn corpus() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("tests/data/analysis")
        .expect("tests/data/analysis")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    for dir in dirs {
        files.extend(super::flow_files(&dir.to_string_lossy()));
    }
    files
}

/// `(code, node, piece of the message)` from the `// expect:` lines.
fn expectations(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("// expect:") else { continue };
        let rest = rest.trim();
        if rest == "none" {
            continue;
        }
        let mut parts = rest.splitn(3, ' ');
        let code = parts.next().unwrap_or_default().to_owned();
        let node = parts.next().unwrap_or_default().to_owned();
        let raw = parts.next().unwrap_or_default().trim();
        let piece =
            raw.strip_prefix('"').and_then(|inner| inner.strip_suffix('"')).unwrap_or(raw).replace("\\\"", "\"");
        out.push((code, node, piece));
    }
    out
}

/// A case's findings; a folder with its own `org.toml` is analysed with it (`--org`).
fn findings_of(path: &Path) -> (flowc::check::Analysis, Vec<Finding>) {
    let analysis = check_paths(&[path.to_path_buf()], &FsLoader);
    assert_eq!(analysis.error_count(), 0, "{} has check errors", path.display());
    let own = path.parent().map(|dir| dir.join("org.toml")).filter(|org| org.is_file());
    let directory = own.map(|org| MemoryDirectory::load(&org).expect("the case's directory"));
    let report =
        analysis::analyze_with(&analysis, &analysis::Options { org: directory.as_ref(), ..Default::default() });
    (analysis, report.findings)
}

#[test]
fn every_case_raises_exactly_what_it_expects() {
    let files = corpus();
    assert!(files.len() >= 14, "expected the analysis corpus, found {} files", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path).expect("read case");
        assert!(text.contains("// expect:"), "{} has no `// expect:` line", path.display());
        let expected = expectations(&text);
        let (_, findings) = findings_of(path);
        let mut actual: Vec<(String, String)> =
            findings.iter().map(|finding| (finding.code.to_string(), finding.node.clone())).collect();
        actual.sort();
        let mut wanted: Vec<(String, String)> =
            expected.iter().map(|(code, node, _)| (code.clone(), node.clone())).collect();
        wanted.sort();
        let listing: String = findings
            .iter()
            .map(|finding| format!("    {} {}: {}\n", finding.code, finding.node, finding.message))
            .collect();
        if actual != wanted {
            failures.push(format!("{}\n  expected {wanted:?}\n  actual   {actual:?}\n{listing}", path.display()));
            continue;
        }
        for (code, node, piece) in &expected {
            let found = findings.iter().any(|finding| {
                finding.code.as_str() == code && &finding.node == node && finding.message.contains(piece.as_str())
            });
            if !found {
                failures.push(format!("{}: no {code} at {node} saying {piece:?}\n{listing}", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{} cases differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn examples_raise_nothing() {
    for path in super::example_files() {
        let analysis = analysis::check_paths(std::slice::from_ref(&path), &FsLoader);
        let listing: Vec<String> = analysis.diagnostics.iter().map(|d| format!("{} {}", d.code, d.message)).collect();
        assert!(listing.is_empty(), "{}:\n{}", path.display(), listing.join("\n"));
        // And with the example's own directory: nobody who may create gets nobody anywhere.
        let org = path.parent().expect("folder").join("org.toml");
        let directory = MemoryDirectory::load(&org).expect("the example's directory");
        let options = analysis::Options { org: Some(&directory), ..Default::default() };
        let analysis = analysis::check_paths_with(std::slice::from_ref(&path), &FsLoader, &options);
        let listing: Vec<String> = analysis.diagnostics.iter().map(|d| format!("{} {}", d.code, d.message)).collect();
        assert!(listing.is_empty(), "{} with {}:\n{}", path.display(), org.display(), listing.join("\n"));
    }
}

/// The directory a case is replayed against: its folder's `org.toml`, else the corpus's.
fn directory_for(path: &Path) -> MemoryDirectory {
    let own = path.parent().map(|dir| dir.join("org.toml"));
    let org = match own {
        Some(own) if own.is_file() => own,
        _ => PathBuf::from("tests/data/analysis/org.toml"),
    };
    MemoryDirectory::load(&org).unwrap_or_else(|error| panic!("{}: {error}", org.display()))
}

/// Runs the trace of an example: create as the first person allowed to,
/// then each step by whoever is pending (everyone in turn at an `all`
/// node), the first of them writing `set`. Returns the last action's result
/// and the node it was taken at.
fn run(
    compiled: &Compiled,
    directory: &dyn Directory,
    example: &Example,
) -> (String, Result<Step, RuntimeError>, Request) {
    let (at, result, before) = replay_trace(compiled, directory, &example.trace);
    (at, result.map(|(_, step)| step), before)
}

/// Runs a trace (the analysis's and `flowc diff`'s examples alike): create
/// as its creator, else the first person allowed to, then each step by
/// whoever is pending (everyone in turn at an `all` node), the first of
/// them writing `set`. Returns the node of the last action, its result (the
/// request after it and its step) and the request before it.
pub(super) fn replay_trace(
    compiled: &Compiled,
    directory: &dyn Directory,
    trace: &analysis::Trace,
) -> (String, Result<(Request, Step), RuntimeError>, Request) {
    let runtime = Runtime::new(compiled, directory);
    let now = DateTime::parse(&trace.now).expect("now");
    let creators: Vec<String> = match &trace.creator {
        Some(creator) => vec![creator.clone()],
        None => directory.everyone().iter().map(str::to_owned).collect(),
    };
    let mut request = creators
        .iter()
        .find_map(|creator| {
            let new = NewRequest {
                workflow: None,
                creator: creator.clone(),
                form: FormInput::Fields(trace.form.clone()),
                sequence: None,
                started_by: None,
            };
            runtime.create(0, &new, now).ok().map(|(request, _)| request)
        })
        .expect("someone may create the request");
    let workflow = &compiled.program.workflows[0];
    let last = trace.steps.len() - 1;
    for (index, step) in trace.steps.iter().enumerate() {
        let at = workflow.nodes[request.node].name.clone();
        assert_eq!(at, step.node, "the trace expects the request at `{}`, it is at `{at}`", step.node);
        let kind = if step.action == "reject" { ActionKind::Reject } else { ActionKind::Submit };
        let mut first = true;
        loop {
            let action = Action {
                by: request.pending[0].clone(),
                kind,
                opinion: None,
                set: (first && !step.set.is_empty()).then(|| FormInput::Fields(step.set.clone())),
                to: Vec::new(),
                node: None,
                at: None,
                request: None,
            };
            first = false;
            let result = runtime.apply(&request, &action, now);
            let moved = match &result {
                Ok((next, step)) => step.exit.is_some() || next.archived || next.node != request.node,
                Err(_) => true,
            };
            if index == last && moved {
                return (at, result, request);
            }
            let (next, _) = result.unwrap_or_else(|error| panic!("step {index} at `{at}` was refused: {error}"));
            request = next;
            if moved {
                break;
            }
        }
    }
    unreachable!("the last step returns")
}

fn confirm(path: &Path, finding: &Finding) {
    let Some(example) = &finding.example else { return };
    let analysis = check_paths(&[path.to_path_buf()], &FsLoader);
    let compiled = Compiled::new(&analysis, &|script| std::fs::read_to_string(script)).expect("compiles");
    let directory = directory_for(path);
    let (node, last, before) = run(&compiled, &directory, example);
    if !matches!(example.expect, Expect::NoOperators { .. } | Expect::Empty { on_entry: true, .. }) {
        assert_eq!(node, finding.node, "{}: the last action is not at the finding's node", path.display());
    }
    match &example.expect {
        Expect::NoExit => match last {
            Err(error) => assert_eq!(error.code.as_str(), "R0201", "{}: {error}", path.display()),
            Ok(step) => {
                panic!("{}: the request took exit {:?}; the analysis said none holds", path.display(), step.exit)
            }
        },
        Expect::NoOperators { node } => match last {
            Err(error) => {
                assert_eq!(error.code.as_str(), "R0204", "{}: {error}", path.display());
                assert!(error.message.contains(&format!("`{node}`")), "{}: {error}", path.display());
            }
            Ok(step) => panic!("{}: the request entered {:?}", path.display(), step.to),
        },
        Expect::Empty { field, on_entry } => {
            let index = compiled.program.forms[0].fields.iter().position(|f| &f.name == field).expect("field");
            if *on_entry {
                // The last submit led the request into the node, with the field empty.
                let (next, _) = runtime_after(&compiled, &directory, example).expect("the last submit goes through");
                assert!(
                    next.form.main[index].is_empty(),
                    "{}: `{field}` is {:?}",
                    path.display(),
                    next.form.main[index]
                );
                assert_eq!(compiled.program.workflows[0].nodes[next.node].name, finding.node, "{}", path.display());
            } else {
                let set = example.trace.steps.last().and_then(|step| step.set.get(field)).cloned();
                match set {
                    Some(json) => {
                        assert!(json.is_null(), "{}: the last submit sets `{field}` to {json}", path.display())
                    }
                    None => assert!(before.form.main[index].is_empty(), "{}: `{field}` is not empty", path.display()),
                }
            }
        }
        Expect::Refused => match last {
            Err(error) => assert!(matches!(error.code.as_str(), "R0302" | "R0303"), "{}: {error}", path.display()),
            Ok(step) => panic!("{}: the submit went through ({:?})", path.display(), step.exit),
        },
        Expect::Moves { exit } => {
            let step = last.unwrap_or_else(|error| panic!("{}: refused: {error}", path.display()));
            assert_eq!(step.exit.as_deref(), Some(exit.as_str()), "{}", path.display());
        }
        Expect::Exit { taken, also } => {
            let step = last.unwrap_or_else(|error| panic!("{}: refused: {error}", path.display()));
            assert_eq!(step.exit.as_deref(), Some(taken.as_str()), "{}: the first exit", path.display());
            // The other version of the program: `also` written just before `taken`.
            let mut reordered = Compiled::new(&analysis, &|script| std::fs::read_to_string(script)).expect("compiles");
            let node = std::sync::Arc::make_mut(&mut reordered.program).workflows[0]
                .nodes
                .iter_mut()
                .find(|n| n.name == finding.node)
                .expect("node");
            let moved = node.exits.remove(node.exits.iter().position(|exit| &exit.name == also).expect("also"));
            let to = node.exits.iter().position(|exit| &exit.name == taken).expect("taken");
            node.exits.insert(to, moved);
            let (_, again, _) = run(&reordered, &directory, example);
            let step = again.unwrap_or_else(|error| panic!("{}: reordered, refused: {error}", path.display()));
            assert_eq!(
                step.exit.as_deref(),
                Some(also.as_str()),
                "{}: the same request, `{also}` first",
                path.display()
            );
        }
    }
}

/// The request after the trace's last action.
fn runtime_after(compiled: &Compiled, directory: &dyn Directory, example: &Example) -> Option<(Request, Step)> {
    let (_, last, before) = run(compiled, directory, example);
    let step = last.ok()?;
    let runtime = Runtime::new(compiled, directory);
    let now = DateTime::parse(&example.trace.now).expect("now");
    let trace_step = example.trace.steps.last()?;
    let action = Action {
        by: step.by.clone(),
        kind: if trace_step.action == "reject" { ActionKind::Reject } else { ActionKind::Submit },
        opinion: None,
        set: (!trace_step.set.is_empty()).then(|| FormInput::Fields(trace_step.set.clone())),
        to: Vec::new(),
        node: None,
        at: None,
        request: None,
    };
    runtime.apply(&before, &action, now).ok()
}

#[test]
fn every_counterexample_is_confirmed_by_the_runtime() {
    let mut confirmed = 0;
    for path in corpus() {
        let (_, findings) = findings_of(&path);
        for finding in &findings {
            if finding.example.is_some() {
                confirm(&path, finding);
                confirmed += 1;
            }
        }
    }
    assert!(confirmed >= 18, "only {confirmed} counterexamples were confirmed");
}

#[test]
fn flowc_routes_prints_the_regions_as_text_and_json() {
    let (status, stdout, stderr) = super::flowc(&["routes", "examples/expense/expense.flow", "--node", "财务审核"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("  node 财务审核 (approve)\n"), "{stdout}");
    assert!(stdout.contains("    exit 大额 -> 总经理审批: 合计 > 10000.00"), "{stdout}");
    assert!(stdout.contains("    exit 招待 -> 总经理审批: 3000.00 < 合计 <= 10000.00 and 类别 = 招待\n"), "{stdout}");
    assert!(stdout.contains("    no exit: none (proved)\n"), "{stdout}");
    assert!(stdout.contains("    batch 1 `role(\"会计\", 部门)`: 合计 <= 5000.00\n"), "{stdout}");
    assert!(!stdout.contains("node 部门审批"), "--node keeps one node: {stdout}");

    let (status, stdout, _) = super::flowc(&["routes", "examples/expense/expense.flow", "--format", "json"]);
    assert_eq!(status, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("one JSON document");
    let node = json["workflows"][0]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["name"] == "财务审核")
        .expect("node");
    let large = &node["exits"][0]["region"];
    assert_eq!(large["exact"], true);
    let constraint = large["cubes"][0].as_array().expect("a cube").iter().find(|c| c["field"] == "合计").expect("合计");
    assert_eq!(constraint["kind"], "number");
    assert_eq!(constraint["ranges"][0][0], "10000.01");
    assert_eq!(node["stuck"]["cubes"].as_array().map(Vec::len), Some(0));

    let (status, _, stderr) = super::flowc(&["routes", "examples/expense/expense.flow", "--node", "没有"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("no node `没有`"), "{stderr}");
}

/// What an earlier exit's condition rules out holds where a later exit leads:
/// 复核 is reached only by the requests `大额` did not take (合计 <= 10000 and
/// not 加急), so its one exit covers every request there. The check cannot tell
/// (no counterexample survives the replay either way); the regions do.
#[test]
fn the_regions_where_a_later_exit_leads_keep_what_earlier_exits_ruled_out() {
    let case = "tests/data/analysis/W0701/earlier_exit_ruled_out_covered.flow";
    let (status, stdout, stderr) = super::flowc(&["routes", case, "--node", "复核"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stdout.contains("    exit 小额 -> 归档: 合计 <= 10000.00\n"), "{stdout}");
    assert!(stdout.contains("    no exit: none (proved)\n"), "{stdout}");
}

#[test]
fn flowc_check_shows_the_findings_and_takes_a_directory() {
    let case = "tests/data/analysis/W0701/amount_or_urgent.flow";
    let (status, _, stderr) = super::flowc(&["check", case]);
    assert_eq!(status, 0, "warnings do not fail the check: {stderr}");
    assert!(stderr.contains("flow::W0701"), "{stderr}");
    assert!(stderr.contains("合计 = 5000.00 and 加急 = false match no exit of `部门审批`"), "{stderr}");
    let (status, _, _) = super::flowc(&["check", case, "--deny", "warnings"]);
    assert_eq!(status, 1);
    let (status, _, stderr) = super::flowc(&["check", "tests/data/analysis/E0704/dead_end.flow"]);
    assert_eq!(status, 1, "a trap is an error: {stderr}");

    let flow = "tests/data/analysis/W0705org/manager_then_head.flow";
    let (status, _, stderr) = super::flowc(&["check", flow, "--org", "tests/data/analysis/W0705org/org.toml"]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stderr.contains("1 of the 4 people who may create requests gets nobody at `部门审批`"), "{stderr}");
    let (status, _, stderr) = super::flowc(&["check", flow, "--org", "tests/data/analysis/missing.toml"]);
    assert_eq!(status, 2);
    assert!(stderr.contains("cannot load the directory"), "{stderr}");
}

/// A workflow whose examples' budget runs out is told so (W0708), naming
/// where, instead of passing the check as if nothing could be missing; with
/// the usual budget the same case shows its finding and no W0708.
#[test]
fn a_spent_examples_budget_is_reported_not_hidden() {
    let path = Path::new("tests/data/analysis/W0706/exit_compares_empty.flow");
    let analysis = check_paths(&[path.to_path_buf()], &FsLoader);
    let codes = |budget: Option<usize>| -> Vec<(String, String, String)> {
        let options = analysis::Options { examples_budget: budget, ..Default::default() };
        let report = analysis::analyze_with(&analysis, &options);
        report.findings.iter().map(|f| (f.code.to_string(), f.node.clone(), f.message.clone())).collect()
    };
    let usual = codes(None);
    assert_eq!(
        usual.iter().map(|(code, node, _)| (code.as_str(), node.as_str())).collect::<Vec<_>>(),
        [("W0706", "审批")]
    );
    let starved = codes(Some(0));
    assert_eq!(starved.len(), 1, "{starved:?}");
    let (code, node, message) = &starved[0];
    assert_eq!((code.as_str(), node.as_str()), ("W0708", "审批"));
    assert!(
        message.contains("ran out of its budget at `审批`: findings may be missing at 1 node (`审批`)"),
        "{message}"
    );
    // `allow W0708` on that node accepts it, as any warning of the analysis.
    let text = std::fs::read_to_string(path).expect("read case").replace(
        "    exit 大额 -> 复核 when 金额 > 5000",
        "    allow W0708 \"本流程的例子在评审时另行补充\"\n    exit 大额 -> 复核 when 金额 > 5000",
    );
    let allowed = flowc::check::check_source("allowed.flow", &text);
    assert_eq!(allowed.error_count(), 0);
    let options = analysis::Options { examples_budget: Some(0), ..Default::default() };
    let report = analysis::analyze_with(&allowed, &options);
    assert!(report.findings.is_empty(), "{:?}", report.findings.iter().map(|f| &f.message).collect::<Vec<_>>());
    // The CLI's `--thorough` only raises the budget: this case is unchanged by it.
    let case = path.to_string_lossy();
    let (status, _, stderr) = super::flowc(&["check", "--thorough", &case]);
    assert_eq!(status, 0, "{stderr}");
    assert!(stderr.contains("flow::W0706") && !stderr.contains("W0708"), "{stderr}");
}
