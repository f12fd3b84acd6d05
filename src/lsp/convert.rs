//! Conversions between the checker's byte spans and LSP's UTF-16 positions,
//! and from the one diagnostic model to LSP diagnostics.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use lsp_types as lsp;

use crate::check::Analysis;
use crate::diag::{Diagnostic, Severity};
use crate::source::{FileId, FileSpan, SourceFile};

pub fn position(file: &SourceFile, offset: usize) -> lsp::Position {
    let (line, character) = file.utf16_position(offset);
    lsp::Position { line: line as u32, character: character as u32 }
}

pub fn range(file: &SourceFile, start: usize, end: usize) -> lsp::Range {
    lsp::Range { start: position(file, start), end: position(file, end) }
}

pub fn offset(file: &SourceFile, position: lsp::Position) -> usize {
    file.offset_of_utf16(position.line as usize, position.character as usize)
}

/// The URL of a loaded file (files of the standard library live in the
/// binary; they map to this repository's `stdlib/` when it exists).
pub fn url_of(analysis: &Analysis, file: FileId) -> Option<lsp::Url> {
    let source = analysis.sources.get(file)?;
    match &source.path {
        Some(path) => {
            let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.clone());
            lsp::Url::from_file_path(absolute).ok()
        }
        None => {
            let candidate = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&source.name);
            candidate.exists().then(|| lsp::Url::from_file_path(candidate).ok()).flatten()
        }
    }
}

pub fn location(analysis: &Analysis, at: FileSpan) -> Option<lsp::Location> {
    let file = analysis.sources.get(at.file)?;
    Some(lsp::Location {
        uri: url_of(analysis, at.file)?,
        range: range(file, at.span.start as usize, at.span.end as usize),
    })
}

/// Where a code's page lives, as a link for `codeDescription`.
pub fn docs_url(code: &str) -> Option<lsp::Url> {
    // The pages ship with the source tree; an installed binary whose tree
    // is gone gives no link rather than a broken one. Looked up once per
    // code, not once per diagnostic: a file full of errors has thousands.
    static PAGES: OnceLock<Mutex<HashMap<String, Option<lsp::Url>>>> = OnceLock::new();
    let pages = PAGES.get_or_init(Mutex::default);
    let mut pages = pages.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    pages
        .entry(code.to_string())
        .or_insert_with(|| {
            let path =
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/diagnostics").join(format!("{code}.md"));
            path.exists().then(|| lsp::Url::from_file_path(path).ok()).flatten()
        })
        .clone()
}

pub fn diagnostic(analysis: &Analysis, diagnostic: &Diagnostic) -> Option<lsp::Diagnostic> {
    let file = analysis.sources.get(diagnostic.file())?;
    let span = diagnostic.primary.at.span;
    let mut message = diagnostic.message.clone();
    if !diagnostic.primary.message.is_empty() && diagnostic.primary.message != diagnostic.message {
        message.push_str(&format!(" ({})", diagnostic.primary.message));
    }
    if let Some(help) = &diagnostic.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = diagnostic
        .secondary
        .iter()
        .filter_map(|label| {
            Some(lsp::DiagnosticRelatedInformation {
                location: location(analysis, label.at)?,
                message: if label.message.is_empty() { "related".into() } else { label.message.clone() },
            })
        })
        .collect();
    let data = diagnostic
        .suggestion
        .as_ref()
        .map(|suggestion| serde_json::json!({ "replacement": suggestion.replacement, "title": suggestion.message }));
    Some(lsp::Diagnostic {
        range: range(file, span.start as usize, span.end as usize),
        severity: Some(match diagnostic.severity {
            Severity::Error => lsp::DiagnosticSeverity::ERROR,
            Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(diagnostic.code.as_str().to_string())),
        code_description: docs_url(diagnostic.code.as_str()).map(|href| lsp::CodeDescription { href }),
        source: Some("flowc".into()),
        message,
        related_information: if related.is_empty() { None } else { Some(related) },
        tags: None,
        data,
    })
}
