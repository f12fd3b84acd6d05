//! How a request's log is held: its lines, each with what the action was
//! given (so the log can be replayed), in a persistent list. Copying a
//! request copies one pointer of its log, and an action appends one line to
//! its own copy without touching the lines it shares: an action costs what it
//! changes, however long the history, and the caller's request keeps its log
//! exactly as it was (runtime invariant: `apply` is a pure transition).

use std::fmt;
use std::sync::Arc;

use serde::{Serialize, Serializer};

use crate::runtime::request::events::LogEntry;
use crate::runtime::request::{FormInput, Request};
use crate::runtime::values::dates::DateTime;

/// What an action was given, beside what it did: enough to apply it again.
#[derive(Debug, Clone)]
pub enum Given {
    /// The creation: the form as the creator filled it, as JSON text.
    Form(String),
    /// An action (`by`, `do`, `opinion`, `to` are on its line): the fields it set.
    Set(Option<FormInput>),
    /// A line of a state that kept no input (format 1): it cannot be replayed.
    Unrecorded,
}

/// Two givens are the same when their JSON texts are, but for the whitespace between tokens: a
/// state file re-indents what it keeps, and the digits (which must not change) are compared as text.
impl PartialEq for Given {
    fn eq(&self, other: &Given) -> bool {
        fn text(input: &FormInput) -> std::borrow::Cow<'_, str> {
            match input {
                FormInput::Text(text) => std::borrow::Cow::Borrowed(text),
                FormInput::Fields(fields) => {
                    std::borrow::Cow::Owned(serde_json::Value::Object(fields.clone()).to_string())
                }
            }
        }
        match (self, other) {
            (Given::Form(one), Given::Form(two)) => same_json_text(one, two),
            (Given::Set(None), Given::Set(None)) | (Given::Unrecorded, Given::Unrecorded) => true,
            (Given::Set(Some(one)), Given::Set(Some(two))) => same_json_text(&text(one), &text(two)),
            _ => false,
        }
    }
}

/// The JSON texts without the whitespace outside strings are equal.
fn same_json_text(one: &str, two: &str) -> bool {
    fn tokens(text: &str) -> impl Iterator<Item = char> + '_ {
        let (mut in_string, mut escaped) = (false, false);
        text.chars().filter(move |&character| {
            if in_string {
                if escaped {
                    escaped = false;
                } else if character == '\\' {
                    escaped = true;
                } else if character == '"' {
                    in_string = false;
                }
                true
            } else if character == '"' {
                in_string = true;
                true
            } else {
                !character.is_whitespace()
            }
        })
    }
    one == two || tokens(one).eq(tokens(two))
}

/// A line of the log: what happened, and what the action was given.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub entry: LogEntry,
    pub given: Given,
}

/// Where the replayable part of a log begins when it does not begin with the
/// creation: a request continued from a state of format 1 (`--migrate`), as
/// that state held it (its log lines `Unrecorded`), recomputed at `at`.
#[derive(Debug, Clone, PartialEq)]
pub struct Continued {
    pub request: Request,
    pub at: DateTime,
}

/// The log of a request: a list of lines, newest first, whose tails are shared.
#[derive(Clone, Default)]
pub struct Log {
    newest: Option<Arc<Link>>,
    len: usize,
    // The lines that are actions, not the creation: a step's number, kept so it costs nothing.
    actions: usize,
    start: Option<Arc<Continued>>,
}

struct Link {
    line: LogLine,
    // INVARIANT: a link never changes once made; `previous` is the rest of the log.
    previous: Option<Arc<Link>>,
}

impl Log {
    /// An empty log that will begin with the creation.
    pub fn new() -> Log {
        Log::default()
    }

    /// An empty log continuing `start` (its lines are `start.request.log`).
    pub fn continuing(start: Continued) -> Log {
        let mut log = start.request.log.clone();
        log.start = Some(Arc::new(start));
        log
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where replay begins when the log does not begin with the creation.
    pub fn start(&self) -> Option<&Continued> {
        self.start.as_deref()
    }

    /// Appends a line; the copies this log was cloned from do not see it.
    pub fn push(&mut self, line: LogLine) {
        let previous = self.newest.take();
        if line.entry.action != "create" {
            self.actions += 1;
        }
        self.newest = Some(Arc::new(Link { line, previous }));
        self.len += 1;
    }

    /// How many actions the log records (its creation not counted).
    pub fn actions(&self) -> usize {
        self.actions
    }

    /// The entries, newest first, without collecting them (a search from the end stops early).
    pub fn newest_first(&self) -> impl Iterator<Item = &LogEntry> {
        let mut link = self.newest.as_deref();
        std::iter::from_fn(move || {
            let current = link?;
            link = current.previous.as_deref();
            Some(&current.line.entry)
        })
    }

    pub fn last(&self) -> Option<&LogLine> {
        self.newest.as_deref().map(|link| &link.line)
    }

    /// The lines, oldest first.
    pub fn lines(&self) -> Vec<&LogLine> {
        let mut lines = Vec::with_capacity(self.len);
        let mut link = self.newest.as_deref();
        while let Some(current) = link {
            lines.push(&current.line);
            link = current.previous.as_deref();
        }
        lines.reverse();
        lines
    }

    /// The log entries, oldest first (what a report shows).
    pub fn entries(&self) -> Vec<&LogEntry> {
        self.lines().into_iter().map(|line| &line.entry).collect()
    }

    pub fn to_vec(&self) -> Vec<LogEntry> {
        self.lines().into_iter().map(|line| line.entry.clone()).collect()
    }
}

impl PartialEq for Log {
    fn eq(&self, other: &Log) -> bool {
        if self.len != other.len || self.start != other.start {
            return false;
        }
        let (mut left, mut right) = (self.newest.as_ref(), other.newest.as_ref());
        while let (Some(one), Some(two)) = (left, right) {
            // Shared from here on: the rest is the same lines.
            if Arc::ptr_eq(one, two) {
                return true;
            }
            if one.line != two.line {
                return false;
            }
            (left, right) = (one.previous.as_ref(), two.previous.as_ref());
        }
        left.is_none() && right.is_none()
    }
}

impl fmt::Debug for Log {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_list().entries(self.entries()).finish()
    }
}

impl Serialize for Log {
    /// As the list of entries (what the JSON report shows).
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.entries())
    }
}

impl Drop for Log {
    /// One link at a time: dropping a long log recursively would overflow the stack.
    fn drop(&mut self) {
        let mut next = self.newest.take();
        while let Some(link) = next {
            next = match Arc::into_inner(link) {
                Some(mut link) => link.previous.take(),
                // Still shared with another copy: that copy keeps the rest.
                None => None,
            };
        }
    }
}
