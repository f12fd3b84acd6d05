//! A node's deadline as timers (docs/runtime.md §3.13, "Deadlines and the outbox"): which of the
//! current node's rules are due at a moment (`due`, pure), and what one does
//! when it fires (`fire`, a transition like `apply`): a reminder to the
//! pending operators (events in the outbox, nothing is sent), the system
//! leaving by a named exit or return, or the pending operators handed to
//! other people. Rules fire in their order, each once per entry into the
//! node; a fired timer is a log line by `system` at the timer's own time, so
//! a state replays it.

use crate::diag::Code;
use crate::ir::{DeadlineAction, Duration, Node, Offset, Workflow};
use crate::org::calendar::Calendar;
use crate::runtime::error::RuntimeError;
use crate::runtime::request::events::{BlockKind, ExitTried, LogEntry, Step};
use crate::runtime::request::log::{Given, LogLine};
use crate::runtime::request::operators::line_people;
use crate::runtime::request::opinions::OpinionType;
use crate::runtime::request::reminders::{Reminder, TODO_CHANNEL};
use crate::runtime::request::{forks, internal, Request, Runtime};
use crate::runtime::values::dates::DateTime;
use crate::syntax::ast::DurationUnit;

/// One rule of the current node's deadline, due at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timer {
    pub node: usize,
    /// The rule's position in the node's deadline.
    pub rule: usize,
    pub at: DateTime,
}

/// The moment `duration` after `from` (before it when `sign` is -1), by `calendar` for working days.
pub fn shift(from: DateTime, duration: Duration, sign: i64, calendar: &Calendar) -> Option<DateTime> {
    let amount = i64::from(duration.amount) * sign;
    match duration.unit {
        DurationUnit::Hours => {
            let seconds =
                i64::from(from.date.0) * 86_400 + i64::from(from.time.0) - i64::from(from.offset_minutes) * 60;
            DateTime::from_unix(seconds.checked_add(amount.checked_mul(3600)?)?, from.offset_minutes)
        }
        DurationUnit::Days => Some(DateTime { date: from.date.add_days(amount)?, ..from }),
        DurationUnit::WorkingDays => calendar.add_working_days(from, amount),
    }
}

impl<'a> Runtime<'a> {
    /// When the current node's deadline falls (`None`: no deadline, or past the calendar).
    pub fn deadline_of(&self, request: &Request) -> Option<DateTime> {
        let node = self.workflow(request).ok()?.nodes.get(request.node)?;
        let deadline = node.deadline.as_ref()?;
        shift(request.entered_at, deadline.length, 1, &self.directory.calendar())
    }

    /// The timers of the current node due at or before `now`, in the order they fire.
    pub fn due(&self, request: &Request, now: DateTime) -> Vec<Timer> {
        let mut timers = Vec::new();
        // While a fork has split the request its place is its branches' nodes, which have no
        // deadlines (E0803): the forking node's deadline ended when the request left it.
        if request.archived || request.is_split() {
            return timers;
        }
        let Some(node) = self.workflow(request).ok().and_then(|workflow| workflow.nodes.get(request.node)) else {
            return timers;
        };
        let (Some(deadline), Some(falls)) = (&node.deadline, self.deadline_of(request)) else { return timers };
        let calendar = self.directory.calendar();
        for (index, rule) in deadline.rules.iter().enumerate().skip(request.timers_fired) {
            let at = match rule.offset {
                Offset::Before(duration) => shift(falls, duration, -1, &calendar),
                Offset::At => Some(falls),
                Offset::After(duration) => shift(falls, duration, 1, &calendar),
            };
            // A reminder before the entry (a short stay) fires at the entry, not in the past.
            let Some(at) = at.map(|at| if at < request.entered_at { request.entered_at } else { at }) else { break };
            if at > now {
                break;
            }
            timers.push(Timer { node: request.node, rule: index, at });
            if matches!(rule.action, DeadlineAction::Take { .. }) {
                // The request leaves the node: its later rules no longer apply.
                break;
            }
        }
        timers
    }

    /// Fires one timer: the new request and the step, by `system`, at the timer's time.
    pub fn fire(&self, request: &Request, timer: &Timer) -> Result<(Request, Step), RuntimeError> {
        let workflow = self.workflow(request)?;
        let node = workflow.nodes.get(timer.node).ok_or_else(|| internal("unknown node"))?;
        let (Some(deadline), Some(rule)) =
            (&node.deadline, node.deadline.as_ref().and_then(|deadline| deadline.rules.get(timer.rule)))
        else {
            return Err(internal("a timer of no deadline rule"));
        };
        if timer.node != request.node || timer.rule != request.timers_fired {
            return Err(internal("a timer fired out of order"));
        }
        let now = timer.at;
        let falls = self.deadline_of(request).map(|at| at.to_string()).unwrap_or_default();
        let falls_at = self.deadline_of(request).unwrap_or(now);
        let passed = now >= falls_at;
        let description = format!(
            "deadline of {} ({}{}) {}: {}",
            node.name,
            deadline.text,
            if falls.is_empty() { String::new() } else { format!(", {falls}") },
            if now > falls_at {
                "passed"
            } else if passed {
                "reached"
            } else {
                "near"
            },
            rule.text
        );
        let mut next = request.clone();
        next.timers_fired += 1;
        let before = request.form.clone();
        let (kind, mut step) = match &rule.action {
            DeadlineAction::Remind { channels } => {
                let mut step = Step::new("system", "remind", &node.name, None);
                let channels: Vec<&str> = if !channels.is_empty() {
                    channels.iter().map(String::as_str).collect()
                } else if !workflow.remind.is_empty() {
                    workflow.remind.iter().map(String::as_str).collect()
                } else {
                    vec![TODO_CHANNEL]
                };
                let title = self.title(request, now);
                let text = if now > falls_at {
                    format!("「{title}」在「{}」已超过处理期限 {falls}，请尽快处理", node.label)
                } else if passed {
                    format!("「{title}」在「{}」已到处理期限 {falls}，请尽快处理", node.label)
                } else {
                    format!("「{title}」在「{}」的处理期限为 {falls}，请及时处理", node.label)
                };
                // One reminder per channel, to everyone pending, as 督办 does (reminders.rs).
                for channel in &channels {
                    step.reminders.push(Reminder {
                        at: now.to_string(),
                        channel: (*channel).to_owned(),
                        to: request.pending.clone(),
                        text: text.clone(),
                        node: node.name.clone(),
                        rule: rule.text.clone(),
                    });
                }
                step.people = request.pending.clone();
                next.outbox.extend(step.reminders.iter().cloned());
                ("remind", step)
            }
            DeadlineAction::Take { index, returns } => {
                let exits = if *returns { &node.returns } else { &node.exits };
                let exit = exits.get(*index).ok_or_else(|| internal("unknown exit"))?;
                let mut step = Step::new("system", "take", &node.name, None);
                step.exits_tried.push(ExitTried {
                    name: exit.name.clone(),
                    target: workflow.nodes.get(exit.target).map(|node| node.name.clone()).unwrap_or_default(),
                    condition: None,
                    held: true,
                    values: Vec::new(),
                });
                self.run_named_block(
                    workflow,
                    &exit.block,
                    &mut next,
                    now,
                    &mut step,
                    BlockKind::Exit,
                    node,
                    Some(&exit.name),
                )?;
                self.enter(workflow, exit, &mut next, now, &mut step)?;
                ("take", step)
            }
            DeadlineAction::Hand { people } => {
                let mut step = Step::new("system", "hand", &node.name, None);
                let env = self.env(workflow, request, now)?;
                let mut handed: Vec<String> = Vec::new();
                let reason = line_people(env, people, &|at| self.compiled.source_text(at), &mut |person: &str| {
                    if !handed.iter().any(|known| known == person) {
                        handed.push(person.to_owned());
                    }
                })?;
                if handed.is_empty() {
                    return Err(RuntimeError::at(
                        Code::R0204,
                        format!(
                            "the deadline of `{}` hands the request to nobody{}",
                            node.name,
                            reason.map(|reason| format!(": {reason}")).unwrap_or_default()
                        ),
                        rule.at,
                    )
                    .with_label("these people"));
                }
                next.pending = handed.clone();
                next.operators = handed.clone();
                step.operators = handed.clone();
                step.people = handed;
                ("hand", step)
            }
        };
        step.number = request.log.actions() + 1;
        step.rule = Some(description.clone());
        step.at = Some(now.to_string());
        // What the blocks changed is told with each block (as for a submit); the log keeps it all.
        let changed = self.net_changes(workflow, &before, &next.form, &[], &step);
        step.pending = next.pending.clone();
        step.archived = next.archived;
        let entry = LogEntry {
            time: now.to_string(),
            by: "system".into(),
            department: None,
            action: kind.into(),
            opinion_type: Some(OpinionType::Timeout),
            on_behalf_of: Vec::new(),
            node: node.name.clone(),
            opinion: Some(description),
            changed,
            exit: step.exit.clone(),
            to_node: step.to.clone(),
            to: step.people.clone(),
            branch: None,
            withdrawn: forks::withdrawals(&step.branching),
            moved: forks::moves(&step.branching),
            started_by: None,
        };
        next.log.push(LogLine { entry, given: Given::Set(None) });
        Ok((next, step))
    }
}

/// Whether a node has a deadline (states show `entered_at` only then).
pub fn has_deadline(workflow: &Workflow, node: usize) -> bool {
    workflow.nodes.get(node).is_some_and(|node: &Node| node.deadline.is_some())
}
