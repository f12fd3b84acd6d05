//! The text trace of a run: a story an analyst can follow. One block per
//! action, numbered in the request's history — who did what where, with
//! what opinion, which fields they set and which formulas changed, each
//! block that ran (the node's `after`, the exit's block, the next node's
//! `before`) on its own line in the order it ran, each exit tried with the
//! values its condition read, and which batch supplied the next operators
//! (and why the earlier ones were empty) — then the final status and the
//! route the request took. After a fork, a step inside a branch is marked
//! with it (`[物流] 6. …`), and what forks and merges did (branches started,
//! arrived, withdrawn, merged) follows the exits tried.
//!
//! Every text from outside the trace's own words (opinions, form values,
//! names from the directory, conditions from the source) goes through
//! [`shown`]: control characters become escapes, and a newline inside a
//! value goes on an indented line, so no value can forge a line of the trace.

use std::fmt::Write;

use serde_json::Value as Json;

use crate::diag::terminal::escape_controls;
use crate::runtime::report::session::RunResult;
use crate::runtime::request::operators::EmptyBatch;
use crate::runtime::request::{
    route, BlockKind, BlockRun, BranchEvent, Change, ChangeSource, ExitTried, NodeView, Runtime, Step,
};
use crate::runtime::values::dates::DateTime;

/// What starts each line after the first of a multi-line value: deeper than
/// any line of the trace, so the value reads as one.
const CONTINUATION: &str = "\n      ";

/// At most this many changes on one line; the rest are counted.
const CHANGES_PER_LINE: usize = 12;

/// Renders the story; `error_report` is the refusal already rendered as a
/// diagnostic (miette) by the caller, which owns the sources and colours.
pub fn render(runtime: &Runtime<'_>, run: &RunResult, now: DateTime, error_report: Option<&str>) -> String {
    let mut out = String::new();
    let name = |id: &str| shown(&runtime.person_name(id));
    if let Some(request) = &run.request {
        let workflow = runtime.workflow(request).map(|workflow| workflow.name.clone()).unwrap_or_default();
        let _ = writeln!(out, "{}: {}", shown(&workflow), shown(&runtime.title(request, now)));
    }
    if let Some(resumed) = &run.resumed {
        let _ = writeln!(
            out,
            "\nresumed from the saved state at {}, after step {}",
            shown(&resumed.node),
            resumed.after_step
        );
    }
    for step in &run.steps {
        // A step of a request started by another (`start`) says which (`(request 2) 3. …`).
        let request = step.request.as_ref().map(|id| format!("(request {}) ", shown(id))).unwrap_or_default();
        if step.action == "create" {
            let _ = writeln!(out, "\n{request}created by {} at {}", name(&step.by), shown(&step.from));
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
                "remind" => "reminds at",
                "take" => "leaves",
                "hand" => "hands on",
                "child_archived" => "takes back the started request's fields at",
                other => other,
            };
            let by = match step.on_behalf_of.as_slice() {
                // A fired deadline timer (runtime.md §3.13).
                _ if step.by == "system" => "system".to_owned(),
                [] => name(&step.by),
                away => format!("{} for {}", name(&step.by), shown(&runtime.people_names(away))),
            };
            // A step inside a branch says which (`[物流] 6. …`).
            let branch = step.branch.as_ref().map(|branch| format!("[{}] ", shown(branch))).unwrap_or_default();
            let at = step.at.as_ref().map(|at| format!(" at {}", shown(at))).unwrap_or_default();
            let _ = writeln!(out, "\n{request}{branch}{}. {by} {verb} {}{at}", step.number, shown(&step.from));
        }
        if let Some(rule) = &step.rule {
            let _ = writeln!(out, "   rule: {}", shown(rule));
        }
        if let Some(opinion) = &step.opinion {
            let _ = writeln!(out, "   opinion: “{}”", shown(opinion));
        }
        if !step.people.is_empty() && step.reminders.is_empty() {
            let _ = writeln!(out, "   to: {}", shown(&runtime.people_names(&step.people)));
        }
        for reminder in &step.reminders {
            let _ = writeln!(
                out,
                "   reminds {} by {}: “{}”",
                shown(&runtime.people_names(&reminder.to)),
                shown(&reminder.channel),
                shown(&reminder.text)
            );
        }
        for (label, source) in
            [("set", ChangeSource::Set), ("computed", ChangeSource::Formula), ("also changed", ChangeSource::Action)]
        {
            let line = changes_line(step.changed.iter().filter(|change| change.by == source));
            if !line.is_empty() {
                let _ = writeln!(out, "   {label}: {line}");
            }
        }
        // The order of runtime.md §3: `after`, the exit chosen, its block, the target's `before`.
        write_blocks(&mut out, step, BlockKind::After);
        write_exits(&mut out, step);
        write_blocks(&mut out, step, BlockKind::Exit);
        for event in &step.branching {
            write_branch_event(&mut out, runtime, event);
        }
        write_blocks(&mut out, step, BlockKind::Before);
        write_next_operators(&mut out, runtime, step);
        if let Some(started) = &step.started {
            let id = started.request.as_deref().map(|id| format!(" {}", shown(id))).unwrap_or_default();
            let waits = if started.wait { ", and waits for it to be archived" } else { "" };
            let _ = writeln!(
                out,
                "   starts request{id} ({}) for {}{waits}",
                shown(&started.workflow),
                shown(&runtime.person_name(&started.creator))
            );
        }
    }
    if let Some((number, error)) = &run.error {
        let what = match (*number, &run.resumed) {
            (0, _) => "creating the request".to_owned(),
            (number, Some(resumed)) => format!("action {number} (step {})", resumed.after_step + number),
            (number, None) => format!("action {number}"),
        };
        let _ = writeln!(out, "\nrefused: {what} — nothing it did was kept");
        match error_report {
            Some(report) => {
                for line in report.trim_end().lines() {
                    let _ = writeln!(out, "   {}", escape_controls(line));
                }
            }
            None => {
                let _ = writeln!(out, "   error[{}]: {}", error.code, shown(&error.message));
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
                let _ = writeln!(out, "\nstatus: archived at {}", shown(&node));
            } else if request.is_split() {
                let views = runtime.node_views(request);
                let _ =
                    writeln!(out, "\nstatus: {status} in {} branches: {}", views.len(), split_places(runtime, &views));
            } else {
                let _ = writeln!(
                    out,
                    "\nstatus: {status} at {}, waiting for {}",
                    shown(&node),
                    shown(&runtime.people_names(&request.pending))
                );
            }
            let mut line = String::new();
            for stop in route(request.log.entries()) {
                let arrow = match (&stop.exit, &stop.returned_by) {
                    (_, Some(_)) => " ↩ ",
                    (Some(_), None) => " → ",
                    (None, None) if line.is_empty() => "",
                    (None, None) => " → ",
                };
                line.push_str(arrow);
                if let Some(branch) = &stop.branch {
                    let _ = write!(line, "[{}] ", shown(branch));
                }
                line.push_str(&shown(&stop.node));
            }
            if !line.is_empty() {
                let _ = writeln!(out, "route: {line}");
            }
            write_children(&mut out, runtime, request);
        }
        None => {
            let _ = writeln!(out, "\nstatus: refused, no request was created");
        }
    }
    out
}

/// Where each request it started stands: `request 2 (安装调试): pending at 安装, waiting for …`.
fn write_children(out: &mut String, runtime: &Runtime<'_>, request: &crate::runtime::request::Request) {
    for child in &request.children {
        let workflow = runtime.workflow(&child.request).ok();
        let name = workflow.map_or("", |workflow| workflow.name.as_str());
        let node = workflow.and_then(|workflow| workflow.nodes.get(child.request.node)).map_or("", |n| n.name.as_str());
        let place = if child.request.archived {
            format!("archived at {}", shown(node))
        } else {
            format!("pending at {}, waiting for {}", shown(node), shown(&runtime.people_names(&child.request.pending)))
        };
        let _ = writeln!(out, "request {} ({}): {place}", shown(&child.id), shown(name));
        write_children(out, runtime, &child.request);
    }
}

/// `field = value, …`, at most `CHANGES_PER_LINE`, then how many more.
fn changes_line<'c>(changes: impl Iterator<Item = &'c Change>) -> String {
    let mut line = String::new();
    let mut count = 0;
    for change in changes {
        count += 1;
        if count > CHANGES_PER_LINE {
            continue;
        }
        if count > 1 {
            line.push_str(", ");
        }
        let _ = write!(line, "{} = {}", shown(&change.field), show(&change.to));
    }
    if count > CHANGES_PER_LINE {
        let _ = write!(line, ", … {} more", count - CHANGES_PER_LINE);
    }
    line
}

/// One line per block of `kind` that ran: what it assigned, and the
/// formulas recomputed after it.
fn write_blocks(out: &mut String, step: &Step, kind: BlockKind) {
    for block in step.blocks.iter().filter(|block| block.block == kind) {
        let _ = writeln!(out, "   {}", block_line(block));
    }
}

fn block_line(block: &BlockRun) -> String {
    let label = match block.block {
        BlockKind::After => format!("after block of {}", shown(&block.node)),
        BlockKind::Exit => format!("block of exit {}", shown(block.exit.as_deref().unwrap_or(""))),
        BlockKind::Before => format!("before block of {}", shown(&block.node)),
    };
    let assigned = changes_line(block.changed.iter().filter(|change| change.by != ChangeSource::Formula));
    let computed = changes_line(block.changed.iter().filter(|change| change.by == ChangeSource::Formula));
    match (assigned.is_empty(), computed.is_empty()) {
        (true, true) => format!("{label} ran: no field changed"),
        (false, true) => format!("{label} set: {assigned}"),
        (true, false) => format!("{label} computed: {computed}"),
        (false, false) => format!("{label} set: {assigned}; computed: {computed}"),
    }
}

fn write_exits(out: &mut String, step: &Step) {
    let word = if step.action == "reject" { "return" } else { "exit" };
    write_exits_tried(out, word, &step.exits_tried, step.action == "take");
}

/// `by_deadline`: the exits a deadline's `take` chose, whose conditions are not tested.
fn write_exits_tried(out: &mut String, word: &str, exits_tried: &[ExitTried], by_deadline: bool) {
    for tried in exits_tried {
        let values =
            tried.values.iter().map(|(name, value)| format!("{} = {}", shown(name), show(value))).collect::<Vec<_>>();
        let reads = if values.is_empty() { String::new() } else { format!(" ({})", values.join(", ")) };
        let verdict = match (&tried.condition, tried.held) {
            (_, true) if by_deadline => "taken by the deadline (its condition is not tested)".to_owned(),
            (None, _) => "taken: no condition".to_owned(),
            (Some(condition), true) => format!("taken: `{}` holds{reads}", shown(condition)),
            (Some(condition), false) => format!("not taken: `{}` is false{reads}", shown(condition)),
        };
        let _ = writeln!(out, "   {word} {} → {}: {verdict}", shown(&tried.name), shown(&tried.target));
    }
}

fn write_next_operators(out: &mut String, runtime: &Runtime<'_>, step: &Step) {
    // A branch that reached its merge, or a fork that started branches: the events told it.
    let arrived = step
        .branching
        .iter()
        .any(|event| matches!(event, BranchEvent::Arrived { merge, .. } if Some(merge) == step.to.as_ref()));
    if arrived || (step.to.is_none() && !step.branching.is_empty()) {
        return;
    }
    if let Some(target) = &step.to {
        let people = names_with_stand_ins(runtime, step);
        let arrival = Arrival {
            target,
            archived: step.archived,
            batch: step.batch,
            mode: step.mode,
            count: step.operators.len(),
            people: &people,
            empty_batches: &step.empty_batches,
        };
        write_arrival(out, &arrival);
    } else if step.action == "submit" && !step.pending.is_empty() {
        // Inside a branch, the people still waited for at this node.
        let here = step.nodes.iter().find(|view| Some(&view.branch) == step.branch.as_ref() && view.node == step.from);
        let pending = here.map_or(&step.pending, |view| &view.pending);
        let _ = writeln!(out, "   still waiting for {}", shown(&runtime.people_names(pending)));
    }
}

/// Where an exit led, as the trace tells it.
struct Arrival<'s> {
    target: &'s str,
    archived: bool,
    batch: Option<u64>,
    mode: Option<&'s str>,
    /// How many operators (`all` and `sequential` say how they act only when several).
    count: usize,
    people: &'s str,
    empty_batches: &'s [EmptyBatch],
}

/// The target's operators (and why earlier batches were empty), or the archive.
fn write_arrival(out: &mut String, arrival: &Arrival<'_>) {
    let target = shown(arrival.target);
    for empty in arrival.empty_batches {
        let reasons = empty.lines.iter().map(|line| shown(&line.reason)).collect::<Vec<_>>().join("; ");
        let _ = writeln!(out, "   {target}: batch {} is empty ({reasons})", empty.batch);
    }
    if arrival.archived {
        let _ = writeln!(out, "   {target}: archived");
        return;
    }
    let people = shown(arrival.people);
    let _ = match arrival.batch {
        Some(batch) => {
            let how = match arrival.mode {
                Some("all") if arrival.count > 1 => ", all must submit (会签)",
                Some("sequential") if arrival.count > 1 => ", one after another in this order",
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
            let _ = writeln!(out, "   [{}] starts and arrives at once at {}", shown(branch), shown(to));
        }
        BranchEvent::Started { branch, to, batch, operators, mode, empty_batches, .. } => {
            let people = runtime.people_names(operators);
            let arrival = Arrival {
                target: to,
                archived: false,
                batch: *batch,
                mode: *mode,
                count: operators.len(),
                people: &people,
                empty_batches,
            };
            let mut lines = String::new();
            write_arrival(&mut lines, &arrival);
            for line in lines.lines() {
                let _ = writeln!(out, "   [{}] {}", shown(branch), line.trim_start());
            }
        }
        BranchEvent::Arrived { branch, merge, waiting_for, more } => {
            let (branch, merge) = (shown(branch), shown(merge));
            let waits = shown(&waiting_for.join(", "));
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
                format!(" ({} no longer pending)", shown(&runtime.people_names(pending)))
            };
            let _ = writeln!(out, "   [{}] withdrawn by {} at {}{who}", shown(branch), shown(by), shown(node));
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
                "   {}: `{}` is satisfied ({} arrived); the request goes on as one",
                shown(merge),
                shown(wait),
                shown(&arrived.join(", "))
            );
            write_exits_tried(out, "exit", exits_tried, false);
            // On to another merge: the arrival that follows says so.
            let entered = batch.is_some() || *archived || !operators.is_empty();
            if let (Some(to), true) = (to, entered) {
                let people = runtime.people_names(operators);
                let arrival = Arrival {
                    target: to,
                    archived: *archived,
                    batch: *batch,
                    mode: *mode,
                    count: operators.len(),
                    people: &people,
                    empty_batches,
                };
                write_arrival(out, &arrival);
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
                format!("[{}] arrived at {}", shown(&view.branch), shown(&view.node))
            } else {
                format!(
                    "[{}] at {}, waiting for {}",
                    shown(&view.branch),
                    shown(&view.node),
                    shown(&runtime.people_names(&view.pending))
                )
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A value as the trace prints it: text as it is, empty as `(empty)`, the rest as JSON.
fn show(value: &Json) -> String {
    match value {
        Json::String(text) => shown(text),
        Json::Null => "(empty)".into(),
        other => shown(&other.to_string()),
    }
}

/// Text from outside the trace, safe to print: control characters escaped,
/// each line after the first of a multi-line text indented under it.
pub fn shown(text: &str) -> String {
    if !text.contains('\n') {
        return escape_controls(text).into_owned();
    }
    // `\r\n` is one line break, as a text area sends it.
    let text = text.replace("\r\n", "\n");
    escape_controls(text.trim_end_matches('\n')).replace('\n', CONTINUATION)
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
