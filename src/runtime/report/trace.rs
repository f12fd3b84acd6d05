//! The text trace of a run: a story an analyst can follow. One block per
//! action — who did what where, with what opinion, which fields they set
//! and which formulas changed, each exit tried with the values its
//! condition read, and which batch supplied the next operators (and why
//! the earlier ones were empty) — then the final status.

use std::fmt::Write;

use serde_json::Value as Json;

use crate::runtime::report::session::RunResult;
use crate::runtime::request::operators::EmptyBatch;
use crate::runtime::request::{BranchEvent, Change, ChangeSource, ExitTried, NodeView, Runtime, Step};
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
                other => other,
            };
            let index =
                if run.steps.first().is_some_and(|first| first.action == "create") { number } else { number + 1 };
            // A step inside a branch says which (`[物流] 6. …`).
            let branch = step.branch.as_ref().map(|branch| format!("[{branch}] ")).unwrap_or_default();
            let _ = writeln!(out, "\n{branch}{index}. {} {verb} {}", name(&step.by), step.from);
        }
        if let Some(opinion) = &step.opinion {
            let _ = writeln!(out, "   opinion: “{opinion}”");
        }
        if !step.people.is_empty() {
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
            } else if request.is_split() {
                let views = runtime.node_views(request);
                let _ =
                    writeln!(out, "\nstatus: {status} in {} branches: {}", views.len(), split_places(runtime, &views));
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
    write_exits_tried(out, exit_word(step), &step.exits_tried);
    for event in &step.branching {
        write_branch_event(out, runtime, event);
    }
    // A branch that reached its merge has its arrival told by the events.
    let arrived = step
        .branching
        .iter()
        .any(|event| matches!(event, BranchEvent::Arrived { merge, .. } if Some(merge) == step.to.as_ref()));
    if arrived || (step.to.is_none() && !step.branching.is_empty()) {
        return;
    }
    if let Some(target) = &step.to {
        write_arrival(out, runtime, target, step.archived, step.batch, step.mode, &step.operators, &step.empty_batches);
    } else if step.action == "submit" && !step.pending.is_empty() {
        // Inside a branch, the people still waited for at this node.
        let here = step.nodes.iter().find(|view| Some(&view.branch) == step.branch.as_ref() && view.node == step.from);
        let pending = here.map_or(&step.pending, |view| &view.pending);
        let _ = writeln!(out, "   still waiting for {}", runtime.people_names(pending));
    }
}

fn write_exits_tried(out: &mut String, word: &str, exits_tried: &[ExitTried]) {
    for tried in exits_tried {
        let values = tried.values.iter().map(|(name, value)| format!("{name} = {}", show(value))).collect::<Vec<_>>();
        let reads = if values.is_empty() { String::new() } else { format!(" ({})", values.join(", ")) };
        let verdict = match (&tried.condition, tried.held) {
            (None, _) => "taken: no condition".to_owned(),
            (Some(condition), true) => format!("taken: `{condition}` holds{reads}"),
            (Some(condition), false) => format!("not taken: `{condition}` is false{reads}"),
        };
        let _ = writeln!(out, "   {word} {} → {}: {verdict}", tried.name, tried.target);
    }
}

/// Where an exit led: the target's operators (and why earlier batches were empty), or the archive.
#[allow(clippy::too_many_arguments)]
fn write_arrival(
    out: &mut String,
    runtime: &Runtime<'_>,
    target: &str,
    archived: bool,
    batch: Option<u64>,
    mode: Option<&str>,
    operators: &[String],
    empty_batches: &[EmptyBatch],
) {
    for empty in empty_batches {
        let reasons = empty.lines.iter().map(|line| line.reason.clone()).collect::<Vec<_>>().join("; ");
        let _ = writeln!(out, "   {target}: batch {} is empty ({reasons})", empty.batch);
    }
    if archived {
        let _ = writeln!(out, "   {target}: archived");
        return;
    }
    let people = runtime.people_names(operators);
    let _ = match batch {
        Some(batch) => {
            let how = match mode {
                Some("all") if operators.len() > 1 => ", all must submit (会签)",
                Some("sequential") if operators.len() > 1 => ", one after another in this order",
                _ => "",
            };
            writeln!(out, "   {target}: operators from batch {batch}{how}: {people}")
        }
        None => writeln!(out, "   {target}: back to the creator, {people}"),
    };
}

/// What a fork or a merge did, one line (or a few) per event.
fn write_branch_event(out: &mut String, runtime: &Runtime<'_>, event: &BranchEvent) {
    match event {
        BranchEvent::Started { branch, to, batch: None, operators, .. } if operators.is_empty() => {
            let _ = writeln!(out, "   [{branch}] starts and arrives at once at {to}");
        }
        BranchEvent::Started { branch, to, batch, operators, mode, empty_batches, .. } => {
            let mut lines = String::new();
            write_arrival(&mut lines, runtime, to, false, *batch, *mode, operators, empty_batches);
            for line in lines.lines() {
                let _ = writeln!(out, "   [{branch}] {}", line.trim_start());
            }
        }
        BranchEvent::Arrived { branch, merge, waiting_for, more } => {
            let waits = waiting_for.join(", ");
            let _ = match more {
                _ if waiting_for.is_empty() => writeln!(out, "   [{branch}] arrives at {merge}"),
                Some(more) => writeln!(out, "   [{branch}] arrives at {merge}, which waits for {more} more of {waits}"),
                None => writeln!(out, "   [{branch}] arrives at {merge}, which waits for {waits}"),
            };
        }
        BranchEvent::Withdrawn { branch, node, pending, by } => {
            let who = if pending.is_empty() {
                String::new()
            } else {
                format!(" ({} no longer pending)", runtime.people_names(pending))
            };
            let _ = writeln!(out, "   [{branch}] withdrawn by {by} at {node}{who}");
        }
        BranchEvent::Merged {
            merge,
            wait,
            arrived,
            exits_tried,
            to,
            batch,
            operators,
            mode,
            empty_batches,
            archived,
            ..
        } => {
            let _ = writeln!(
                out,
                "   {merge}: `{wait}` is satisfied ({} arrived); the request goes on as one",
                arrived.join(", ")
            );
            write_exits_tried(out, "exit", exits_tried);
            // On to another merge: the arrival that follows says so.
            let entered = batch.is_some() || *archived || !operators.is_empty();
            if let (Some(to), true) = (to, entered) {
                write_arrival(out, runtime, to, *archived, *batch, *mode, operators, empty_batches);
            }
        }
    }
}

/// `[物流] at 物流发运, waiting for 王五 (E0105); [库房] arrived at 汇合`.
fn split_places(runtime: &Runtime<'_>, views: &[NodeView]) -> String {
    views
        .iter()
        .map(|view| {
            if view.arrived {
                format!("[{}] arrived at {}", view.branch, view.node)
            } else {
                format!("[{}] at {}, waiting for {}", view.branch, view.node, runtime.people_names(&view.pending))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
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
