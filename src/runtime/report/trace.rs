//! The text trace of a run: a story an analyst can follow. One block per
//! action, numbered in the request's history — who did what where, with
//! what opinion, which fields they set and which formulas changed, each
//! block that ran (the node's `after`, the exit's block, the next node's
//! `before`) on its own line in the order it ran, each exit tried with the
//! values its condition read, and which batch supplied the next operators
//! (and why the earlier ones were empty) — then the final status and the
//! route the request took.
//!
//! Every text from outside the trace's own words (opinions, form values,
//! names from the directory, conditions from the source) goes through
//! [`shown`]: control characters become escapes, and a newline inside a
//! value goes on an indented line, so no value can forge a line of the trace.

use std::fmt::Write;

use serde_json::Value as Json;

use crate::diag::terminal::escape_controls;
use crate::runtime::report::session::RunResult;
use crate::runtime::request::{route, BlockKind, BlockRun, Change, ChangeSource, Runtime, Step};
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
        if step.action == "create" {
            let _ = writeln!(out, "\ncreated by {} at {}", name(&step.by), shown(&step.from));
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
            let by = match step.on_behalf_of.as_slice() {
                [] => name(&step.by),
                away => format!("{} for {}", name(&step.by), shown(&runtime.people_names(away))),
            };
            let _ = writeln!(out, "\n{}. {by} {verb} {}", step.number, shown(&step.from));
        }
        if let Some(opinion) = &step.opinion {
            let _ = writeln!(out, "   opinion: “{}”", shown(opinion));
        }
        if !step.people.is_empty() {
            let _ = writeln!(out, "   to: {}", shown(&runtime.people_names(&step.people)));
        }
        for reminder in &step.reminders {
            let _ = writeln!(out, "   reminds {} by {}", shown(&runtime.people_names(&reminder.to)), reminder.channel);
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
        write_blocks(&mut out, step, BlockKind::Before);
        write_next_operators(&mut out, runtime, step);
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
                line.push_str(&shown(&stop.node));
            }
            if !line.is_empty() {
                let _ = writeln!(out, "route: {line}");
            }
        }
        None => {
            let _ = writeln!(out, "\nstatus: refused, no request was created");
        }
    }
    out
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
    for tried in &step.exits_tried {
        let values =
            tried.values.iter().map(|(name, value)| format!("{} = {}", shown(name), show(value))).collect::<Vec<_>>();
        let reads = if values.is_empty() { String::new() } else { format!(" ({})", values.join(", ")) };
        let verdict = match (&tried.condition, tried.held) {
            (None, _) => "taken: no condition".to_owned(),
            (Some(condition), true) => format!("taken: `{}` holds{reads}", shown(condition)),
            (Some(condition), false) => format!("not taken: `{}` is false{reads}", shown(condition)),
        };
        let _ = writeln!(out, "   {word} {} → {}: {verdict}", shown(&tried.name), shown(&tried.target));
    }
}

fn write_next_operators(out: &mut String, runtime: &Runtime<'_>, step: &Step) {
    if let Some(target) = &step.to {
        let target = shown(target);
        for empty in &step.empty_batches {
            let reasons = empty.lines.iter().map(|line| shown(&line.reason)).collect::<Vec<_>>().join("; ");
            let _ = writeln!(out, "   {target}: batch {} is empty ({reasons})", empty.batch);
        }
        if step.archived {
            let _ = writeln!(out, "   {target}: archived");
        } else {
            let people = shown(&names_with_stand_ins(runtime, step));
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
        let _ = writeln!(out, "   still waiting for {}", shown(&runtime.people_names(&step.pending)));
    }
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
