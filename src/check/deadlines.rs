//! The rules of a node's `deadline` (docs/language.md §6.9, "Deadlines"): one
//! deadline per node, on a node where someone is pending; whole durations
//! above zero; reminders before the deadline fall inside it; `take` names an
//! exit or return of the same node (E0801); `hand to` names people (E0402);
//! reminder channels are the workflow's channels (E0111).

use super::exprs::Env;
use super::suggest;
use super::Checker;
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{self, DeadlineRule, DurationUnit, ExitKind, Node};

/// The channels a reminder may name, as for the workflow's `remind`.
pub(super) const REMIND_CHANNELS: &[&str] = &["sms", "email"];

impl<'a> Checker<'a> {
    pub(super) fn check_deadlines(&self, module: usize, node: &'a Node, env: &Env<'_, 'a>, where_env: &Env<'_, 'a>) {
        for extra in node.deadlines.iter().skip(1) {
            self.report(
                Diagnostic::new(
                    Code::E0802,
                    format!("node `{}` has two deadlines", node.name.name),
                    self.at(module, extra.span),
                    "a second deadline",
                )
                .with_help("give a node one `deadline`, with every reminder and escalation in its block"),
            );
        }
        let Some(deadline) = node.deadlines.first() else { return };
        if node.kind.name == "archive" {
            self.report(
                Diagnostic::new(
                    Code::E0802,
                    format!("archive node `{}` cannot have a deadline: nobody acts there", node.name.name),
                    self.at(module, deadline.span),
                    "a deadline on an archive node",
                )
                .with_help("put the deadline on the node before it"),
            );
        }
        let length = self.whole_duration(module, &deadline.length);
        for rule in &deadline.rules {
            match rule {
                DeadlineRule::Remind { before, channels, .. } => {
                    if let (Some(before), Some(length)) = (before, length) {
                        if let Some(amount) = self.whole_duration(module, before) {
                            if same_scale(before.unit, deadline.length.unit) && amount >= length {
                                self.report(
                                    Diagnostic::new(
                                        Code::E0802,
                                        "a reminder before the deadline must fall after the request enters the node",
                                        self.at(module, before.span),
                                        format!("not shorter than the deadline `{}`", written(&deadline.length)),
                                    )
                                    .with_help("remind a shorter time before the deadline"),
                                );
                            }
                        }
                    }
                    for channel in channels {
                        if !REMIND_CHANNELS.contains(&channel.name.as_str()) {
                            let diagnostic = Diagnostic::new(
                                Code::E0111,
                                format!("unknown reminder channel `{}`", channel.name),
                                self.at(module, channel.span),
                                "not a channel",
                            );
                            self.report(match suggest::best(&channel.name, REMIND_CHANNELS.iter().copied()) {
                                Some(best) => diagnostic.with_replacement(best),
                                None => {
                                    diagnostic.with_help("the channels are `sms` (短信提醒) and `email` (邮件提醒)")
                                }
                            });
                        }
                    }
                }
                DeadlineRule::Take { after, exit, .. } => {
                    if let Some(after) = after {
                        self.whole_duration(module, after);
                    }
                    let names: Vec<&str> = node.exits.iter().map(|exit| exit.name.name.as_str()).collect();
                    if !names.contains(&exit.name.as_str()) {
                        let diagnostic = Diagnostic::new(
                            Code::E0801,
                            format!(
                                "`take {}`: node `{}` has no exit or return of that name",
                                exit.name, node.name.name
                            ),
                            self.at(module, exit.span),
                            "not an exit of this node",
                        );
                        self.report(match suggest::best(&exit.name, names.iter().copied()) {
                            Some(best) => diagnostic.with_replacement(best),
                            None if names.is_empty() => diagnostic.with_help("this node has no exits to take"),
                            None => diagnostic.with_help(format!(
                                "the node's {}: {}",
                                if node.exits.iter().any(|exit| exit.kind == ExitKind::Return) {
                                    "exits and returns"
                                } else {
                                    "exits"
                                },
                                names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(", ")
                            )),
                        });
                    }
                }
                DeadlineRule::Hand { after, people, .. } => {
                    if let Some(after) = after {
                        self.whole_duration(module, after);
                    }
                    self.check_operator_line(env, where_env, people);
                }
            }
        }
    }

    /// The amount of a duration when it is a whole number above 0 (E0802 otherwise).
    fn whole_duration(&self, module: usize, duration: &ast::Duration) -> Option<u32> {
        match duration.amount.parse::<u32>() {
            Ok(amount) if amount > 0 => Some(amount),
            _ => {
                self.report(
                    Diagnostic::new(
                        Code::E0802,
                        format!("`{}` is not a whole number of hours or days above 0", written(duration)),
                        self.at(module, duration.span),
                        "not a whole number above 0",
                    )
                    .with_help("count in whole hours (`36 hours`) or days (`2 days`, `3 working days`)"),
                );
                None
            }
        }
    }
}

/// Whether two durations compare by their amounts (hours with hours, days with days of either kind).
fn same_scale(one: DurationUnit, other: DurationUnit) -> bool {
    (one == DurationUnit::Hours) == (other == DurationUnit::Hours)
}

fn written(duration: &ast::Duration) -> String {
    let unit = match duration.unit {
        DurationUnit::Hours => "hours",
        DurationUnit::Days => "days",
        DurationUnit::WorkingDays => "working days",
    };
    format!("{} {unit}", duration.amount)
}
