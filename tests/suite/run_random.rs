//! Random actions against every example and the forks cases: whoever acts,
//! whatever they set (good values, wrong types, unknown fields, unknown
//! people), at whichever node they name, the runtime never panics, a refusal
//! hands back an error and leaves the request as it was, and an accepted
//! action keeps the request's invariants (pending ⊆ operators, nobody
//! pending once archived, the log grows by one; after a fork, one position
//! per branch, each in the branch its node belongs to, and the request's
//! pending people are the positions' pending people).

use flowc::check::{check_paths, FsLoader};
use flowc::org::MemoryDirectory;
use flowc::runtime::compiled::Compiled;
use flowc::runtime::report::session::RunFiles;
use flowc::runtime::request::{Action, ActionKind, FormInput, NewRequest, Recipient, Runtime};
use flowc::runtime::values::dates::DateTime;
use serde_json::{json, Value as Json};

/// A small deterministic generator (no dependency, same sequence every run).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() % items.len()]
    }
}

#[test]
fn random_actions_never_panic_and_refusals_change_nothing() {
    let mut random = Lcg(20261128);
    let now = DateTime::parse("2026-11-28T09:00:00+08:00").expect("now");
    let folders = ["expense", "leave", "contract", "complaint", "aftersales", "realestate"]
        .map(|example| std::path::PathBuf::from("examples").join(example))
        .into_iter()
        // Supervisors, administrators and the creator's withdraw (issue 10).
        .chain([
            std::path::PathBuf::from("tests/data/run/oversight/opinion-record-types"),
            std::path::PathBuf::from("tests/data/run/stand-ins/deputy-acts-for-away-manager"),
        ])
        // Forks and merges.
        .chain(
            ["both-branches-merge", "wait-one-withdraws-the-other"]
                .map(|case| std::path::PathBuf::from("tests/data/run/forks").join(case)),
        );
    for folder in folders {
        let example = folder.display().to_string();
        let files = RunFiles::from_folder(&folder).expect("files");
        let analysis = check_paths(&[files.flow.clone().expect("flow")], &FsLoader);
        let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
        let directory = MemoryDirectory::load(files.org.as_deref().expect("org")).expect("org");
        let runtime = Runtime::new(&compiled, &directory);
        let new: NewRequest =
            serde_json::from_str(&std::fs::read_to_string(folder.join("request.json")).expect("request"))
                .expect("json");
        let workflow = compiled.workflow_index(new.workflow.as_deref()).expect("workflow");
        let program = &compiled.program.workflows[workflow];
        let form = &compiled.program.forms[program.form];
        let node_names: Vec<String> =
            program.nodes.iter().map(|node| node.name.clone()).chain(["不存在".into()]).collect();

        let mut people: Vec<String> =
            directory.records().employees.iter().map(|employee| employee.id.clone()).collect();
        people.push("NOBODY".into());
        let names: Vec<String> = form.fields.iter().map(|field| field.name.clone()).chain(["不存在".into()]).collect();
        let values = [
            json!(null),
            json!(1),
            json!("1.5"),
            json!("12.345"),
            json!(true),
            json!("差旅"),
            json!([]),
            json!([{ "数量": 1 }]),
            json!("2026-11-30"),
            json!("E0001"),
            json!({ "x": 1 }),
            json!("x".repeat(300)),
        ];
        let kinds = [
            ActionKind::Submit,
            ActionKind::Submit,
            ActionKind::Submit,
            ActionKind::Reject,
            ActionKind::Comment,
            ActionKind::Forward,
            ActionKind::Cc,
            ActionKind::Withdraw,
            ActionKind::Supervise,
            ActionKind::ForceArchive,
            ActionKind::ForceReturn,
        ];
        // Who oversees: the administrators, and the holders of the roles supervisors name.
        let overseers: Vec<String> = directory
            .records()
            .administrators
            .iter()
            .cloned()
            .chain(directory.records().employees.iter().filter(|e| !e.roles.is_empty()).map(|e| e.id.clone()))
            .collect();
        let mut taken = std::collections::HashSet::new();
        let departments: Vec<String> = directory
            .records()
            .departments
            .iter()
            .map(|department| department.id.clone())
            .chain(["NOWHERE".to_owned()])
            .collect();
        let roles: Vec<String> = directory
            .records()
            .employees
            .iter()
            .flat_map(|employee| employee.roles.iter().map(|grant| grant.role.clone()))
            .chain(["无人担任".to_owned()])
            .collect();

        // How often a fork split a request and how often it stood as one again.
        let (mut splits, mut joins) = (0, 0);
        for _ in 0..40 {
            let Ok((mut request, _)) = runtime.create(workflow, &new, now) else {
                panic!("{example}: the example creates")
            };
            for _ in 0..60 {
                // Mostly someone pending (so requests move), sometimes anyone.
                let kind = *random.pick(&kinds);
                let by = if kind == ActionKind::Withdraw && !random.next().is_multiple_of(4) {
                    request.creator.clone()
                } else if kind.is_oversight() && !overseers.is_empty() && !random.next().is_multiple_of(4) {
                    random.pick(&overseers).clone()
                } else if !random.next().is_multiple_of(3) && !request.pending.is_empty() {
                    random.pick(&request.pending).clone()
                } else {
                    random.pick(&people).clone()
                };
                // Opinions are sometimes missing: oversight actions must then be refused.
                let opinion = (!random.next().is_multiple_of(5)).then(|| "意见".to_owned());
                let set = random.next().is_multiple_of(4).then(|| {
                    let mut set = serde_json::Map::new();
                    set.insert(random.pick(&names).clone(), random.pick(&values).clone());
                    FormInput::Fields(set)
                });
                let to = match random.next() % 4 {
                    0 => vec![Recipient::Department(random.pick(&departments).clone())],
                    1 => vec![Recipient::Role(random.pick(&roles).clone())],
                    _ => vec![Recipient::Person(random.pick(&people).clone())],
                };
                // Sometimes the node acted at, mostly one the request stands at.
                let node = match random.next() % 4 {
                    0 => Some(random.pick(&node_names).clone()),
                    1 if request.is_split() => Some(program.nodes[random.pick(&request.positions).node].name.clone()),
                    _ => None,
                };
                let action = Action { by, kind, opinion, set, to, node, at: None, request: None };
                let before = request.clone();
                match runtime.apply(&request, &action, now) {
                    Ok((next, step)) => {
                        taken.insert(kind.as_str());
                        assert_eq!(next.log.len(), before.log.len() + 1, "{example}: one log line per action");
                        let logged = next.log.last().expect("a log line");
                        assert!(logged.entry.opinion_type.is_some(), "{example}: every log line has its type");
                        if kind.is_oversight() && kind != ActionKind::Withdraw {
                            assert!(action.opinion.is_some(), "{example}: {} needs an opinion", kind.as_str());
                            assert!(action.set.is_none(), "{example}: {} writes no fields", kind.as_str());
                        }
                        if kind == ActionKind::Withdraw || kind == ActionKind::ForceReturn {
                            assert_eq!(next.pending, vec![next.creator.clone()], "{example}: back to the creator");
                        }
                        if kind == ActionKind::ForceArchive {
                            assert!(next.archived, "{example}: force_archive archives");
                        }
                        assert!(
                            next.pending.iter().all(|person| next.operators.contains(person)),
                            "{example}: {step:?}"
                        );
                        assert!(
                            next.stand_ins.iter().all(|stand_in| next.operators.contains(&stand_in.deputy)
                                && !next.operators.contains(&stand_in.person)),
                            "{example}: a deputy replaces the person they stand in for: {step:?}"
                        );
                        assert!(!next.archived || next.pending.is_empty(), "{example}");
                        assert_positions_hold(program, &next, &example);
                        splits += usize::from(next.is_split() && !before.is_split());
                        joins += usize::from(!next.is_split() && before.is_split());
                        request = next;
                    }
                    Err(error) => {
                        assert_eq!(request, before, "{example}: a refusal changed the request");
                        assert!(error.code.as_str().starts_with('R'), "{example}: {error}");
                    }
                }
                if request.archived {
                    break;
                }
            }
            // Whatever state it reached saves and loads as itself.
            let saved = runtime.save_state(&request).expect("save");
            let loaded = runtime.load_state(&saved, false, now).expect("load");
            assert_eq!(loaded, request, "{example}: state round trip");
            let _: Json = serde_json::from_str(&saved).expect("the state is JSON");
        }
        if example.contains("oversight") {
            for kind in ActionKind::ALL {
                assert!(taken.contains(kind.as_str()), "{example}: no random `{}` was accepted", kind.as_str());
            }
        }
        if !program.forks.is_empty() {
            assert!(
                splits > 10 && joins > 5,
                "{example}: the random actions fork and merge ({splits} splits, {joins} joins)"
            );
        }
    }
}

/// A split request's positions: one per branch, each where its node's branch
/// says (or arrived at its branch's merge), sorted by branch, and the request's
/// own people gather theirs.
fn assert_positions_hold(workflow: &flowc::ir::Workflow, request: &flowc::runtime::request::Request, example: &str) {
    if !request.is_split() {
        assert!(workflow.nodes[request.node].branch.is_empty(), "{example}: a lone position in a branch");
        return;
    }
    assert!(!request.archived, "{example}: archived while split");
    let mut paths = Vec::new();
    let mut pending = Vec::new();
    for position in &request.positions {
        let node = &workflow.nodes[position.node];
        let mut path = node.branch.clone();
        match (position.arrived, &node.merge) {
            (Some(branch), Some(rule)) => {
                path.push(flowc::ir::BranchStep { fork: rule.fork, branch });
                assert!(position.pending.is_empty(), "{example}: nobody is pending at a merge");
            }
            (None, None) => assert!(
                position.pending.iter().all(|person| position.operators.contains(person)),
                "{example}: pending ⊆ operators at {}",
                node.name
            ),
            _ => panic!("{example}: a position arrived at a node that is no merge, or waits at a merge unarrived"),
        }
        assert!(!path.is_empty(), "{example}: a position outside every branch while split");
        for person in &position.pending {
            if !pending.contains(person) {
                pending.push(person.clone());
            }
        }
        paths.push(path);
    }
    let mut sorted = paths.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, paths, "{example}: positions sorted by branch, one per branch");
    assert_eq!(pending, request.pending, "{example}: the request's pending people are its positions'");
}

/// Random actions at random times against the deadline cases' workflow: the
/// deadline timers due before each action fire first (in time order, each
/// once), a fired timer is never due again, refusals change nothing, and every
/// state the request reaches — reminders, escalations, hand-overs — saves and
/// loads as itself (its `system` lines replay at their times).
#[test]
fn random_actions_with_deadlines_fire_each_timer_once_and_replay() {
    let mut random = Lcg(20261203);
    let folder = std::path::PathBuf::from("tests/data/run/deadlines");
    let flow = folder.join("deadlines.flow");
    let analysis = check_paths(&[flow], &FsLoader);
    let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
    let directory = MemoryDirectory::load(&folder.join("org.toml")).expect("org");
    let runtime = Runtime::new(&compiled, &directory);
    let new: NewRequest =
        serde_json::from_value(json!({ "workflow": "回访", "creator": "E22", "form": { "客户": "华东电器" } }))
            .expect("request");
    let workflow = compiled.workflow_index(Some("回访")).expect("workflow");
    let start = DateTime::parse("2026-11-28T09:00:00+08:00").expect("now");
    let people = ["E22", "E21", "E10", "E01", "E20"];
    let kinds = [ActionKind::Submit, ActionKind::Submit, ActionKind::Reject, ActionKind::Comment];
    let mut timers_fired = 0;
    for _ in 0..30 {
        let (mut request, _) = runtime.create(workflow, &new, start).expect("creates");
        let mut clock = start;
        for _ in 0..12 {
            // Up to three days later, by the hour.
            let hours = (random.next() % 72) as i64;
            let seconds =
                i64::from(clock.date.0) * 86_400 + i64::from(clock.time.0) - i64::from(clock.offset_minutes) * 60;
            clock = DateTime::from_unix(seconds + hours * 3600, clock.offset_minutes).expect("time");
            let mut fired = 0;
            while let Some(timer) = runtime.due(&request, clock).into_iter().next() {
                assert!(timer.at <= clock, "a timer fires only once due");
                match runtime.fire(&request, &timer) {
                    Ok((next, step)) => {
                        assert_eq!(step.by, "system");
                        assert_eq!(next.log.len(), request.log.len() + 1, "one log line per timer");
                        assert!(
                            !runtime.due(&next, clock).contains(&timer),
                            "a fired timer is not due again: {timer:?}"
                        );
                        request = next;
                    }
                    Err(error) => {
                        assert!(error.code.as_str().starts_with('R'), "{error}");
                        break;
                    }
                }
                fired += 1;
                assert!(fired < 100, "timers end");
            }
            timers_fired += fired;
            let by = if !random.next().is_multiple_of(3) && !request.pending.is_empty() {
                random.pick(&request.pending).clone()
            } else {
                (*random.pick(&people)).to_owned()
            };
            let action = Action {
                by,
                kind: *random.pick(&kinds),
                opinion: Some("意见".into()),
                set: None,
                to: Vec::new(),
                node: None,
                at: None,
                request: None,
            };
            let before = request.clone();
            match runtime.apply(&request, &action, clock) {
                Ok((next, _)) => request = next,
                Err(error) => {
                    assert_eq!(request, before, "a refusal changed the request");
                    assert!(error.code.as_str().starts_with('R'), "{error}");
                }
            }
            if request.archived {
                break;
            }
        }
        let saved = runtime.save_state(&request).expect("save");
        let loaded = runtime
            .load_state(&saved, false, clock)
            .unwrap_or_else(|error| panic!("the state loads: {error:?}\n{saved}"));
        assert_eq!(loaded, request, "state round trip");
    }
    assert!(timers_fired > 20, "the random runs reach deadlines ({timers_fired} timers fired)");
}

/// Random actions at random times on any request of the shipping example's family (the
/// shipment, and the installation request its `start` creates): refusals change nothing, a
/// node that waits is never submitted while its started request is open, a started request's
/// archiving gives its fields back in the same action, and every family saves and loads as
/// itself (each request replayed from its own log).
#[test]
fn random_actions_on_a_family_of_requests_keep_it_whole() {
    let mut random = Lcg(20261207);
    let folder = std::path::PathBuf::from("examples/shipping");
    let files = RunFiles::from_folder(&folder).expect("files");
    let analysis = check_paths(&[files.flow.clone().expect("flow")], &FsLoader);
    let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
    let directory = MemoryDirectory::load(files.org.as_deref().expect("org")).expect("org");
    let runtime = Runtime::new(&compiled, &directory);
    let new: NewRequest =
        serde_json::from_str(&std::fs::read_to_string(folder.join("request.json")).expect("request")).expect("json");
    // The example's own actions, to reach the interesting places, then random ones.
    let script: Vec<Action> =
        serde_json::from_str(&std::fs::read_to_string(folder.join("actions.json")).expect("actions")).expect("json");
    let workflow = compiled.workflow_index(new.workflow.as_deref()).expect("workflow");
    let people: Vec<String> = directory.records().employees.iter().map(|employee| employee.id.clone()).collect();
    let kinds = [ActionKind::Submit, ActionKind::Submit, ActionKind::Reject, ActionKind::Comment];
    let start = DateTime::parse("2026-11-28T09:00:00+08:00").expect("now");
    let (mut started, mut given_back) = (0, 0);
    for round in 0..24 {
        let (mut family, _) = runtime.create(workflow, &new, start).expect("creates");
        let mut clock = start;
        // Follow the example for a random number of its actions first.
        for action in script.iter().take(round % (script.len() + 1)) {
            let at = action.at.as_deref().and_then(DateTime::parse).filter(|at| *at >= clock).unwrap_or(clock);
            runtime.fire_family(&mut family, &mut Vec::new(), at).expect("timers");
            if let Ok((next, steps)) = runtime.act_in_family(&family, action, at, true) {
                started += steps.iter().filter(|step| step.started.is_some()).count();
                given_back += steps.iter().filter(|step| step.action == "child_archived").count();
                family = next;
            }
            clock = at;
        }
        for _ in 0..40 {
            let ids: Vec<String> = (1..=1 + family.children.len()).map(|id| id.to_string()).collect();
            let id = random.pick(&ids).clone();
            let target = if id == "1" { &family } else { &family.children[id.parse::<usize>().unwrap() - 2].request };
            let by = if !random.next().is_multiple_of(3) && !target.pending.is_empty() {
                random.pick(&target.pending).clone()
            } else {
                random.pick(&people).clone()
            };
            let hours = (random.next() % 30) as i64;
            let seconds =
                i64::from(clock.date.0) * 86_400 + i64::from(clock.time.0) - i64::from(clock.offset_minutes) * 60;
            clock = DateTime::from_unix(seconds + hours * 3600, clock.offset_minutes).expect("time");
            let set = match (id.as_str(), random.next() % 3) {
                ("2", 0) => Some(FormInput::Fields(
                    json!({ "预计天数": 1, "工作反馈": "完成", "验收合格": random.next().is_multiple_of(2) })
                        .as_object()
                        .cloned()
                        .expect("object"),
                )),
                ("1", 0) => Some(FormInput::Fields(
                    json!({ "到账金额": "193000.00", "发货单号": "FH-1", "物流公司": "顺丰", "运单号": "SF1",
                            "出库单号": "CK-1", "到货日期": "2026-12-01", "已签收": true,
                            "装机时间": "2026-12-03T09:00:00+08:00" })
                    .as_object()
                    .cloned()
                    .expect("object"),
                )),
                _ => None,
            };
            let action = Action {
                by,
                kind: *random.pick(&kinds),
                opinion: Some("意见".into()),
                set,
                to: Vec::new(),
                node: None,
                at: None,
                request: (id != "1").then_some(id.clone()),
            };
            runtime.fire_family(&mut family, &mut Vec::new(), clock).expect("timers fire");
            let before = family.clone();
            match runtime.act_in_family(&family, &action, clock, true) {
                Ok((next, steps)) => {
                    started += steps.iter().filter(|step| step.started.is_some()).count();
                    given_back += steps.iter().filter(|step| step.action == "child_archived").count();
                    // A waiting request's started child is open; a given-back one no longer waits.
                    if let Some(waiting) = &next.waiting {
                        let open = next
                            .children
                            .iter()
                            .any(|child| child.request.workflow == waiting.workflow && !child.request.archived);
                        assert!(open, "a request waits only for an open started request");
                    }
                    family = next;
                }
                Err(error) => {
                    assert_eq!(family, before, "a refusal changed the family");
                    assert!(error.code.as_str().starts_with('R'), "{error}");
                }
            }
        }
        let saved = runtime.save_state(&family).expect("save");
        let loaded = runtime
            .load_state(&saved, false, clock)
            .unwrap_or_else(|error| panic!("the family's state loads: {error:?}\n{saved}"));
        assert_eq!(loaded.children.len(), family.children.len(), "the children are kept");
        assert_eq!(loaded, family, "state round trip");
    }
    assert!(started > 5 && given_back > 2, "the rounds start and finish sub-workflows ({started}, {given_back})");
}
