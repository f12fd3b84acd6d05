//! Runtime errors (runtime.md §4): a stable `R0xxx` code, a message, and
//! where in the `.flow` source the rule that refused lives, so `run`
//! renders them exactly like `check` renders diagnostics.

use crate::diag::{Code, Diagnostic, Label};
use crate::ir::Loc;
use crate::source::{FileId, FileSpan, Span};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeError {
    pub code: Code,
    pub message: String,
    /// The formula, condition, operator line or node involved, when there is one.
    pub at: Option<Loc>,
    /// What the primary label says (defaults to the message's gist).
    pub label: Option<String>,
    /// Other places involved: each exit that did not hold, each empty batch.
    pub notes: Vec<(Loc, String)>,
    pub help: Option<String>,
}

impl RuntimeError {
    /// An error with no place in the source (an unknown id in an action).
    pub fn new(code: Code, message: impl Into<String>) -> RuntimeError {
        RuntimeError { code, message: message.into(), at: None, label: None, notes: Vec::new(), help: None }
    }

    pub fn at(code: Code, message: impl Into<String>, at: Loc) -> RuntimeError {
        RuntimeError { at: Some(at), ..RuntimeError::new(code, message) }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> RuntimeError {
        self.label = Some(label.into());
        self
    }

    pub fn with_note(mut self, at: Loc, note: impl Into<String>) -> RuntimeError {
        self.notes.push((at, note.into()));
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> RuntimeError {
        self.help = Some(help.into());
        self
    }

    /// The error as a diagnostic, when it has a place in the source.
    pub fn to_diagnostic(&self) -> Option<Diagnostic> {
        let at = self.at?;
        let span = |loc: Loc| FileSpan::new(FileId(loc.file), Span::new(loc.start as usize, loc.end as usize));
        let mut diagnostic = Diagnostic::new(
            self.code,
            self.message.clone(),
            span(at),
            self.label.clone().unwrap_or_else(|| self.code.summary().to_owned()),
        );
        diagnostic.secondary =
            self.notes.iter().map(|(loc, message)| Label { at: span(*loc), message: message.clone() }).collect();
        diagnostic.help = self.help.clone();
        Some(diagnostic)
    }
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for RuntimeError {}
