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
                "remind" => "reminds at",
                "take" => "leaves",
                "hand" => "hands on",
                other => other,
            };
            let index =
                if run.steps.first().is_some_and(|first| first.action == "create") { number } else { number + 1 };
            let who = if step.by == "system" { "system".to_owned() } else { name(&step.by) };
            let at = step.at.as_ref().map(|at| format!(" at {at}")).unwrap_or_default();
            let _ = writeln!(out, "\n{index}. {who} {verb} {}{at}", step.from);
        }
        if let Some(rule) = &step.rule {
            let _ = writeln!(out, "   rule: {rule}");
        }
        for reminder in &step.outbox {
            let _ = writeln!(out, "   outbox: {} to {}: {}", reminder.channel, name(&reminder.to), reminder.text);
        }
        if let Some(opinion) = &step.opinion {
            let _ = writeln!(out, "   opinion: “{opinion}”");
        }
        if !step.people.is_empty() && step.outbox.is_empty() {
            let _ = writeln!(out, "   to: {}", runtime.people_names(&step.people));
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
            (_, true) if step.action == "take" => "taken by the deadline (its condition is not tested)".to_owned(),
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
            let people = runtime.people_names(&step.operators);
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
