//! The manual's remaining actions and rules (issue 10), beyond the data cases of
//! `tests/data/run/{node-rules,oversight,…}`: the text traces of the new actions, and states
//! saved before log lines had types.

use flowc::check::{check_paths, FsLoader};
use flowc::org::MemoryDirectory;
use flowc::runtime::compiled::Compiled;
use flowc::runtime::report::session::{RunFiles, Start};
use flowc::runtime::request::{Action, NewRequest, OpinionType, Runtime};
use flowc::runtime::values::dates::DateTime;
use serde_json::Value as Json;

const NOW: &str = "2026-11-28T09:00:00+08:00";

/// The text trace of a case folder, as `flowc run` prints it.
fn text_trace(folder: &str) -> String {
    let (status, stdout, stderr) = super::flowc(&["run", folder, "--now", NOW]);
    assert!(status == 0 || status == 1, "{folder}: {stderr}");
    stdout
}

#[test]
fn text_traces_of_the_new_actions() {
    for case in [
        "tests/data/run/oversight/opinion-record-types",
        "tests/data/run/oversight/withdraw-before-anyone-acts",
        "tests/data/run/oversight/force-return-by-supervisor",
        "tests/data/run/oversight/force-archive-by-administrator",
        "tests/data/run/node-rules/required-when-holds-and-empty",
    ] {
        let trace = text_trace(case);
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("trace__{}", case.replace('/', "__")), trace);
        });
    }
}

/// A runtime over one case folder, the request it creates and its actions.
fn case(folder: &str) -> (Compiled, MemoryDirectory, NewRequest, Vec<Action>) {
    let files = RunFiles::from_folder(std::path::Path::new(folder)).expect("files");
    let analysis = check_paths(&[files.flow.clone().expect("flow")], &FsLoader);
    assert_eq!(analysis.error_count(), 0);
    let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
    let directory = MemoryDirectory::load(files.org.as_deref().expect("org")).expect("org");
    let new: NewRequest =
        serde_json::from_str(&std::fs::read_to_string(files.request.expect("request")).expect("read")).expect("json");
    let actions: Vec<Action> =
        serde_json::from_str(&std::fs::read_to_string(files.actions.expect("actions")).expect("read")).expect("json");
    (compiled, directory, new, actions)
}

#[test]
fn a_state_saved_before_opinion_types_is_refused_then_moved_with_its_types_filled_in() {
    let (compiled, directory, new, actions) = case("tests/data/run/oversight/opinion-record-types");
    let runtime = Runtime::new(&compiled, &directory);
    let now = DateTime::parse(NOW).expect("now");
    let workflow = compiled.workflow_index(None).expect("workflow");
    let run = runtime.run(Start::New { workflow, request: &new }, &actions[..6], now);
    assert!(run.error.is_none());
    let request = run.request.expect("a request");
    let saved = runtime.save_state(&request).expect("save");

    // What the flowc before issue 10 wrote: no `type`, no `department`, no outbox.
    let mut old: Json = serde_json::from_str(&saved).expect("json");
    for entry in old["log"].as_array_mut().expect("a log") {
        let entry = entry.as_object_mut().expect("an entry");
        assert!(entry.remove("type").is_some() && entry.remove("department").is_some());
    }
    old.as_object_mut().expect("state").remove("outbox");
    let old_text = serde_json::to_string_pretty(&old).expect("text");

    // Its log lines are not what its actions give now (they lack their types): refused as
    // edited, and `--migrate` replays its actions, which gives each line its type and department.
    let refused = runtime.load_state(&old_text, false, now).expect_err("an old state is not what its log gives");
    assert_eq!(refused.code.as_str(), "R0503", "{refused}");
    let loaded = runtime.load_state(&old_text, true, now).expect("an old state moves");
    let types: Vec<OpinionType> =
        loaded.log.entries().iter().map(|entry| entry.opinion_type.expect("a type")).collect();
    assert_eq!(
        types,
        [
            OpinionType::Create,
            OpinionType::Submit,
            OpinionType::Cc,
            OpinionType::Forward,
            OpinionType::Comment,
            OpinionType::Supervise,
            OpinionType::Return
        ]
    );
    assert!(loaded.log.entries().iter().all(|entry| entry.department.is_some()), "departments from the directory");
    // And it goes on.
    let (next, _) = runtime.apply(&loaded, &actions[6], now).expect("the next action");
    assert_eq!(next.log.last().and_then(|line| line.entry.department.as_deref()), Some("SALES"));
}

#[test]
fn administrators_and_stand_ins_are_validated_with_the_directory() {
    let text = r#"
administrators = ["E1", "E9"]

[[subcompany]]
id = "HQ"
name = "总部"

[[department]]
id = "D"
name = "部门"
subcompany = "HQ"

[[employee]]
id = "E1"
name = "甲"
department = "D"

[[employee]]
id = "E2"
name = "乙"
department = "D"

[[deputies]]
person = "E1"
deputy = "E2"
from = 2026-11-01
to = "2026-11-30"

[[deputies]]
person = "E1"
deputy = "E2"
from = "2026-11-30"
to = "2026-12-05"

[[deputies]]
person = "E2"
deputy = "E2"
from = "2026-02-30"
to = "2026-01-01"

[[deputies]]
person = "E3"
deputy = "E1"
from = "2026-12-05"
to = "2026-12-01"
"#;
    let error = MemoryDirectory::from_toml_str(text).expect_err("invalid");
    let problems: Vec<String> = error.problems().iter().map(ToString::to_string).collect();
    assert_eq!(
        problems,
        [
            "administrator (entry 2): employee `E9` does not exist",
            "stand-in (E1 → E2): overlaps the stand-in by `E2` from 2026-11-01 to 2026-11-30: a person has one deputy a day",
            "stand-in (E2 → E2): a person cannot stand in for themselves",
            "stand-in (E2 → E2): `2026-02-30` is not a date (write 2026-11-01)",
            "stand-in (E3 → E1): employee `E3` does not exist",
        ]
    );

    // A sound one: the deputy on a day inside the range (both ends included), nobody outside.
    let sound = text.split("[[deputies]]").next().expect("head").replace(r#", "E9""#, "")
        + "[[deputies]]\nperson = \"E1\"\ndeputy = \"E2\"\nfrom = 2026-11-01\nto = \"2026-11-30\"\n";
    let directory = MemoryDirectory::from_toml_str(&sound).expect("valid");
    use flowc::org::Directory;
    assert!(directory.is_administrator("E1") && !directory.is_administrator("E2"));
    assert_eq!(directory.deputy_on("E1", "2026-11-01").as_deref(), Some("E2"));
    assert_eq!(directory.deputy_on("E1", "2026-11-30").as_deref(), Some("E2"));
    assert_eq!(directory.deputy_on("E1", "2026-12-01"), None);
    assert_eq!(directory.deputy_on("E2", "2026-11-15"), None);
}

/// `flowc run --print`: the page of a case, read back.
fn printed(folder: &str, opinions: &str) -> String {
    let page = std::env::temp_dir().join(format!("flowc-print-{}-{opinions}.html", folder.replace('/', "_")));
    let page_text = page.to_string_lossy().into_owned();
    let (status, _, stderr) =
        super::flowc(&["run", folder, "--now", NOW, "--print", &page_text, "--opinions", opinions]);
    assert!(status == 0 || status == 1, "{folder}: {stderr}");
    let text = std::fs::read_to_string(&page).expect("the page is written");
    let _ = std::fs::remove_file(&page);
    text
}

#[test]
fn printed_pages() {
    for (case, opinions) in [
        ("tests/data/run/oversight/opinion-record-types", "all"),
        ("tests/data/run/oversight/opinion-record-types", "last"),
        ("tests/data/run/stand-ins/deputy-acts-for-away-manager", "all"),
        ("tests/data/run/multi-select/keys-and-labels-stored-as-keys", "all"),
        ("examples/expense", "last"),
    ] {
        let page = printed(case, opinions);
        assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
        insta::with_settings!({ snapshot_path => "../snapshots", prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!(format!("print__{}__{opinions}", case.replace('/', "__")), page);
        });
    }
}

#[test]
fn print_escapes_what_people_wrote() {
    let (compiled, directory, new, mut actions) = case("tests/data/run/oversight/opinion-record-types");
    actions.truncate(1);
    actions[0].opinion = Some("<script>alert(\"x\")</script> & 'y'".into());
    let runtime = Runtime::new(&compiled, &directory);
    let now = DateTime::parse(NOW).expect("now");
    let run = runtime.run(Start::New { workflow: 0, request: &new }, &actions, now);
    let page = runtime.print_page(
        run.request.as_ref().expect("a request"),
        flowc::runtime::report::print::OpinionsShown::All,
        now,
    );
    assert!(!page.contains("<script>"));
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"));
}

#[test]
fn opinions_without_print_is_bad_usage() {
    let (status, _, stderr) =
        super::flowc(&["run", "tests/data/run/oversight/opinion-record-types", "--opinions", "last"]);
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("--print"), "{stderr}");
}

/// The case issue 10 starts from: a rule over `today()` written on the form passes when the
/// creator submits and refuses the last approver days later; written in the create node, it is
/// checked when the creator submits, and never again.
#[test]
fn a_create_node_validate_is_not_checked_days_later() {
    let flow = std::fs::read_to_string("tests/data/run/node-rules/node-rules.flow").expect("flow");
    let directory = MemoryDirectory::load(std::path::Path::new("tests/data/run/node-rules/org.toml")).expect("org");
    let new: NewRequest = serde_json::from_str(
        r#"{ "creator": "E22", "form": { "金额": "800.00", "预算": "1000.00", "出差日期": "2026-11-30" } }"#,
    )
    .expect("request");
    let submit: Action = serde_json::from_str(r#"{ "by": "E22", "do": "submit" }"#).expect("action");
    let approve: Action = serde_json::from_str(r#"{ "by": "E21", "do": "submit" }"#).expect("action");
    let monday = DateTime::parse("2026-11-28T09:00:00+08:00").expect("now");
    let a_week_later = DateTime::parse("2026-12-05T09:00:00+08:00").expect("later");

    let run = |text: &str| {
        let analysis = flowc::check::check_source("node-rules.flow", text);
        assert_eq!(analysis.error_count(), 0);
        let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
        let runtime = Runtime::new(&compiled, &directory);
        let (request, _) = runtime.create(0, &new, monday).expect("created");
        let (request, _) = runtime.apply(&request, &submit, monday).expect("the creator submits on the 28th");
        runtime.apply(&request, &approve, a_week_later).map(|(request, _)| request.archived).map_err(|e| e.code)
    };
    // In the create node: the approver a week later is not refused.
    assert_eq!(run(&flow), Ok(true));
    // The same rule on the form: checked again at the approval, when the date has passed.
    let on_the_form = flow
        .replace("    validate 出差日期 >= today() \"出差日期不能早于今天\"\n", "")
        .replace("  validate 金额 > 0", "  validate 出差日期 >= today() \"出差日期不能早于今天\"\n  validate 金额 > 0");
    assert_ne!(on_the_form, flow);
    assert_eq!(run(&on_the_form), Err(flowc::diag::Code::R0303));
}
