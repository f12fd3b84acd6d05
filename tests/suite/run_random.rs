//! Random actions against every example: whoever acts, whatever they set
//! (good values, wrong types, unknown fields, unknown people), the runtime
//! never panics, a refusal hands back an error and leaves the request as it
//! was, and an accepted action keeps the request's invariants (pending ⊆
//! operators, nobody pending once archived, the log grows by one).

use flowc::check::{check_paths, FsLoader};
use flowc::org::MemoryDirectory;
use flowc::runtime::compiled::Compiled;
use flowc::runtime::report::session::RunFiles;
use flowc::runtime::request::{Action, ActionKind, NewRequest, Runtime};
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
    for example in ["expense", "leave", "contract", "complaint", "aftersales", "realestate"] {
        let folder = std::path::PathBuf::from("examples").join(example);
        let files = RunFiles::from_folder(&folder).expect("files");
        let analysis = check_paths(&[files.flow.clone().expect("flow")], &FsLoader);
        let compiled = Compiled::new(&analysis, &|path| std::fs::read_to_string(path)).expect("compiles");
        let directory = MemoryDirectory::load(files.org.as_deref().expect("org")).expect("org");
        let runtime = Runtime::new(&compiled, &directory);
        let new: NewRequest =
            serde_json::from_str(&std::fs::read_to_string(folder.join("request.json")).expect("request"))
                .expect("json");
        let workflow = compiled.workflow_index(new.workflow.as_deref()).expect("workflow");
        let form = &compiled.program.forms[compiled.program.workflows[workflow].form];

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
        ];

        for _ in 0..40 {
            let Ok((mut request, _)) = runtime.create(workflow, &new, now) else {
                panic!("{example}: the example creates")
            };
            for _ in 0..60 {
                // Mostly someone pending (so requests move), sometimes anyone.
                let by = if !random.next().is_multiple_of(3) && !request.pending.is_empty() {
                    random.pick(&request.pending).clone()
                } else {
                    random.pick(&people).clone()
                };
                let set = random.next().is_multiple_of(4).then(|| {
                    let mut set = serde_json::Map::new();
                    set.insert(random.pick(&names).clone(), random.pick(&values).clone());
                    set
                });
                let to = vec![random.pick(&people).clone()];
                let action =
                    Action { by, kind: *random.pick(&kinds), opinion: Some("意见".into()), set, to, at: None };
                let before = request.clone();
                match runtime.apply(&request, &action, now) {
                    Ok((next, step)) => {
                        assert_eq!(next.log.len(), before.log.len() + 1, "{example}: one log line per action");
                        assert!(
                            next.pending.iter().all(|person| next.operators.contains(person)),
                            "{example}: {step:?}"
                        );
                        assert!(!next.archived || next.pending.is_empty(), "{example}");
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
    }
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
                at: None,
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
