//! Reminders (提醒) an action asks for, as events in an outbox: flowc sends
//! nothing; a host delivers them by their channel (`sms`, `email`, or `todo`
//! for the to-do list alone) and clears them. A `supervise` (督办) reminds
//! the people pending at the node.

use serde::{Deserialize, Serialize};

/// The channel of a reminder when the workflow names none (`remind sms, email`): the to-do
/// list (待办) every operator sees.
pub const TODO_CHANNEL: &str = "todo";

/// One reminder to deliver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reminder {
    /// When it was asked for (RFC 3339).
    pub at: String,
    /// `sms`, `email` (the workflow's `remind` channels) or `todo`.
    pub channel: String,
    /// The people to remind (employee ids).
    pub to: Vec<String>,
    pub text: String,
    /// The node the request waits at.
    pub node: String,
    /// What asked for it: `supervise` (督办).
    pub rule: String,
}

/// The channels a reminder goes by: the workflow's `remind` channels, or the to-do list.
pub fn channels(remind: &[String]) -> Vec<String> {
    if remind.is_empty() {
        vec![TODO_CHANNEL.to_owned()]
    } else {
        remind.to_vec()
    }
}
