//! The one diagnostic model shared by `check`, `run` and the language server,
//! the registry of stable codes, and the renderers (miette text, JSON; text
//! made safe for a terminal by `terminal`).
//!
//! Stages build [`Diagnostic`]s; only `render` turns them into text.

mod codes;
pub mod render;
pub mod terminal;

pub use codes::{Code, ALL_CODES};

use crate::source::{FileId, FileSpan, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A located remark: the primary label says what is wrong where, secondary
/// labels point at the other places involved (the first `create` node, the
/// rest of a formula cycle).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub at: FileSpan,
    pub message: String,
}

/// A machine-applicable fix: replace the text at `at` with `replacement`.
/// The language server offers these as quick fixes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub at: FileSpan,
    pub replacement: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    /// Lowercase, no final period, user names in backticks.
    pub message: String,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub suggestion: Option<Suggestion>,
}

impl Diagnostic {
    /// A diagnostic with the severity its code implies.
    pub fn new(code: Code, message: impl Into<String>, at: FileSpan, label: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            primary: Label { at, message: label.into() },
            secondary: Vec::new(),
            help: None,
            suggestion: None,
        }
    }

    pub fn in_file(
        code: Code,
        message: impl Into<String>,
        file: FileId,
        span: Span,
        label: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic::new(code, message, FileSpan::new(file, span), label)
    }

    pub fn with_secondary(mut self, at: FileSpan, message: impl Into<String>) -> Diagnostic {
        self.secondary.push(Label { at, message: message.into() });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Did-you-mean: replace the primary span with `replacement`.
    pub fn with_replacement(mut self, replacement: impl Into<String>) -> Diagnostic {
        let replacement = replacement.into();
        let message = format!("replace with `{replacement}`");
        if self.help.is_none() {
            self.help = Some(format!("did you mean `{replacement}`?"));
        }
        self.suggestion = Some(Suggestion { at: self.primary.at, replacement, message });
        self
    }

    pub fn file(&self) -> FileId {
        self.primary.at.file
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Diagnostics in a stable order: by file, then position, then code.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by(|a, b| {
        (a.primary.at.file, a.primary.at.span.start, a.code.as_str(), &a.message).cmp(&(
            b.primary.at.file,
            b.primary.at.span.start,
            b.code.as_str(),
            &b.message,
        ))
    });
}
