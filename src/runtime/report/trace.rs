//! The text trace of a run: a story an analyst can follow. One block per
//! action — who did what where, with what opinion, which fields they set
//! and which formulas changed, each exit tried with the values its
//! condition read, and which batch supplied the next operators (and why
//! the earlier ones were empty) — then the final status.

use std::fmt::Write;

use serde_json::Value as Json;

use crate::runtime::report::session::RunResult;
use crate::runtime::request::{Change, ChangeSource, Runtime, Step};
use crate::runtime::values::dates::DateTime;

/// Renders the story; `error_report` is the refusal already rendered as a
/// diagnostic (miette) by the caller, which owns the sources and colours.
pub fn render(runtime: &Runtime<'_>, run: &RunResult, now: DateTime, error_report: Option<&str>) -> String {
    let mut out = String::new();
    let name = |id: &str| runtime.person_name(id);
    if let Some(request) = &run.request {
        let workflow = runtime.workflow(request).map(|workflow| workflow.name.clone()).unwrap_or_default();
        let _ = writeln!(out, "{workflow}: {}", runtime.title(request, now));
    }
    for (number, step) in run.steps.iter().enumerate() {
        if step.action == "create" {
            let _ = writeln!(out, "\ncreated by {} at {}", name(&step.by), step.from);
        } else {
            let verb = match step.action.as_str() {
                "submit" => "submits",
                "reject" => "rejects",
                "comment" => "comments on",
                "forward" => "forwards",
                "cc" => "copies",
                "withdraw" => "withdraws the request from",
                "supervise" => "supervises (督办) at",
                "force_archive" => "force-archives (强制归档) the request at",
                "force_return" => "force-returns (强制收回) the request from",
                other => other,
            };
            let index =
                if run.steps.first().is_some_and(|first| first.action == "create") { number } else { number + 1 };
            let by = match step.on_behalf_of.as_slice() {
                [] => name(&step.by),
                away => format!("{} for {}", name(&step.by), runtime.people_names(away)),
            };
            let _ = writeln!(out, "\n{index}. {by} {verb} {}", step.from);
        }
        if let Some(opinion) = &step.opinion {
            let _ = writeln!(out, "   opinion: “{opinion}”");
        }
        if !step.people.is_empty() {
            let _ = writeln!(out, "   to: {}", runtime.people_names(&step.people));
        }
        for reminder in &step.reminders {
            let _ = writeln!(out, "   reminds {} by {}", runtime.people_names(&reminder.to), reminder.channel);
        }
        for (label, source) in [
            ("set", ChangeSource::Set),
            ("node actions set", ChangeSource::Action),
            ("computed", ChangeSource::Formula),
        ] {
            write_changes(&mut out, label, step.changed.iter().filter(|change| change.by == source));
        }
        write_route(&mut out, runtime, step);
    }
    if let Some((number, error)) = &run.error {
        let what = if *number == 0 { "creating the request".to_owned() } else { format!("action {number}") };
        let _ = writeln!(out, "\nrefused: {what} — nothing it did was kept");
        match error_report {
            Some(report) => {
                for line in report.trim_end().lines() {
                    let _ = writeln!(out, "   {line}");
                }
            }
            None => {
                let _ = writeln!(out, "   error[{}]: {}", error.code, error.message);
            }
        }
    }
    match &run.request {
        Some(request) => {
            let node = runtime
                .workflow(request)
                .ok()
                .and_then(|workflow| workflow.nodes.get(request.node))
                .map(|node| node.name.clone())
                .unwrap_or_default();
            let status = run.status();
            if request.archived {
                let _ = writeln!(out, "\nstatus: archived at {node}");
            } else {
                let _ = writeln!(
                    out,
                    "\nstatus: {status} at {node}, waiting for {}",
                    runtime.people_names(&request.pending)
                );
            }
        }
        None => {
            let _ = writeln!(out, "\nstatus: refused, no request was created");
        }
    }
    out
}

fn write_changes<'c>(out: &mut String, label: &str, changes: impl Iterator<Item = &'c Change>) {
    let shown: Vec<String> = changes.map(|change| format!("{} = {}", change.field, show(&change.to))).collect();
    if shown.is_empty() {
        return;
    }
    const MOST: usize = 12;
    let mut line = shown.iter().take(MOST).cloned().collect::<Vec<_>>().join(", ");
    if shown.len() > MOST {
        let _ = write!(line, ", … {} more", shown.len() - MOST);
    }
    let _ = writeln!(out, "   {label}: {line}");
}

fn write_route(out: &mut String, runtime: &Runtime<'_>, step: &Step) {
    for tried in &step.exits_tried {
        let values = tried.values.iter().map(|(name, value)| format!("{name} = {}", show(value))).collect::<Vec<_>>();
        let reads = if values.is_empty() { String::new() } else { format!(" ({})", values.join(", ")) };
        let verdict = match (&tried.condition, tried.held) {
            (None, _) => "taken: no condition".to_owned(),
            (Some(condition), true) => format!("taken: `{condition}` holds{reads}"),
            (Some(condition), false) => format!("not taken: `{condition}` is false{reads}"),
        };
        let _ = writeln!(out, "   {} {} → {}: {verdict}", exit_word(step), tried.name, tried.target);
    }
    if let Some(target) = &step.to {
        for empty in &step.empty_batches {
            let reasons = empty.lines.iter().map(|line| line.reason.clone()).collect::<Vec<_>>().join("; ");
            let _ = writeln!(out, "   {target}: batch {} is empty ({reasons})", empty.batch);
        }
        if step.archived {
            let _ = writeln!(out, "   {target}: archived");
        } else {
            let people = names_with_stand_ins(runtime, step);
            let _ = match step.batch {
                Some(batch) => {
                    let how = match step.mode {
                        Some("all") if step.operators.len() > 1 => ", all must submit (会签)",
                        Some("sequential") if step.operators.len() > 1 => ", one after another in this order",
                        _ => "",
                    };
                    writeln!(out, "   {target}: operators from batch {batch}{how}: {people}")
                }
                None => writeln!(out, "   {target}: back to the creator, {people}"),
            };
        }
    } else if step.action == "submit" && !step.pending.is_empty() {
        let _ = writeln!(out, "   still waiting for {}", runtime.people_names(&step.pending));
    }
}

fn exit_word(step: &Step) -> &'static str {
    if step.action == "reject" {
        "return"
    } else {
        "exit"
    }
}

fn show(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        Json::Null => "(empty)".into(),
        other => other.to_string(),
    }
}

/// The next node's operators, each deputy with whom they stand in for: `李四 (E11) for 张三 (E10)`.
fn names_with_stand_ins(runtime: &Runtime<'_>, step: &Step) -> String {
    let name = |person: &String| {
        let away: Vec<String> = step
            .stand_ins
            .iter()
            .filter(|stand_in| &stand_in.deputy == person)
            .map(|stand_in| stand_in.person.clone())
            .collect();
        match away.as_slice() {
            [] => runtime.person_name(person),
            away => format!("{} for {}", runtime.person_name(person), runtime.people_names(away)),
        }
    };
    step.operators.iter().map(name).collect::<Vec<_>>().join(", ")
}
