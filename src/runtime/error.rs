//! Runtime errors (runtime.md §4): a stable `R0xxx` code, a message, and
//! where in the `.flow` source the rule that refused lives, so `run`
//! renders them exactly like `check` renders diagnostics.

use crate::diag::{Code, Diagnostic, Label};
use crate::ir::Loc;
use crate::source::{FileId, FileSpan, Span};

/// Boxed, so a `Result` of a value stays small on the interpreter's hot
/// path; the details read through `Deref`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeError(Box<ErrorDetails>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorDetails {
    pub code: Code,
    pub message: String,
    /// The formula, condition, operator line or node involved, when there is one.
    pub at: Option<Loc>,
    /// What the primary label says (defaults to the code's summary).
    pub label: Option<String>,
    /// Other places involved: each exit that did not hold, each empty batch.
    pub notes: Vec<(Loc, String)>,
    pub help: Option<String>,
}

impl std::ops::Deref for RuntimeError {
    type Target = ErrorDetails;
    fn deref(&self) -> &ErrorDetails {
        &self.0
    }
}

impl std::ops::DerefMut for RuntimeError {
    fn deref_mut(&mut self) -> &mut ErrorDetails {
        &mut self.0
    }
}

impl RuntimeError {
    /// An error with no place in the source (an unknown id in an action).
    pub fn new(code: Code, message: impl Into<String>) -> RuntimeError {
        RuntimeError(Box::new(ErrorDetails {
            code,
            message: message.into(),
            at: None,
            label: None,
            notes: Vec::new(),
            help: None,
        }))
    }

    pub fn at(code: Code, message: impl Into<String>, at: Loc) -> RuntimeError {
        let mut error = RuntimeError::new(code, message);
        error.at = Some(at);
        error
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
