//! Renderers: miette's graphical report for people, JSON for tools.
//! Both read the same [`Diagnostic`]; neither decides anything.

use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};
use serde::Serialize;

use super::{Diagnostic, Label, Severity};
use crate::source::{SourceFile, SourceMap};

/// How the human report looks.
#[derive(Debug, Clone, Copy)]
pub struct TextStyle {
    pub color: bool,
    pub width: usize,
}

impl TextStyle {
    /// No colour, fixed width: what snapshot tests use.
    pub fn plain() -> TextStyle {
        TextStyle { color: false, width: 100 }
    }
}

/// Renders one diagnostic as miette's graphical report.
pub fn to_text(diagnostic: &Diagnostic, sources: &SourceMap, style: TextStyle) -> String {
    let theme = if style.color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(style.width).with_links(false);
    let view = MietteView::new(diagnostic, sources);
    let mut out = String::new();
    if handler.render_report(&mut out, &view).is_err() {
        out = format!("{}: {}\n", diagnostic.code, diagnostic.message);
    }
    out
}

/// A file as miette reads it, through the file's line index: a snippet is
/// read from the lines around its span only. (miette's reader for `str`
/// counts lines from the start of the file for every snippet, which made
/// rendering quadratic: 40,000 diagnostics took over a minute.)
#[derive(Debug, Clone, Copy)]
struct IndexedText<'f>(&'f SourceFile);

impl SourceCode for IndexedText<'_> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let file = self.0;
        if span.offset() > file.text.len() {
            // miette's reader would panic here.
            return Err(MietteError::OutOfBounds);
        }
        let (window, breaks_before) =
            file.lines_around(span.offset(), span.offset() + span.len(), context_lines_before, context_lines_after);
        let text = file.text.as_bytes().get(window.clone()).ok_or(MietteError::OutOfBounds)?;
        // miette's own reader on the neighbourhood, then moved back to
        // where the neighbourhood is in the file.
        let local = SourceSpan::new(span.offset().saturating_sub(window.start).into(), span.len());
        let contents = text.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            file.name.clone(),
            contents.data(),
            SourceSpan::new((contents.span().offset() + window.start).into(), contents.span().len()),
            contents.line() + breaks_before,
            contents.column(),
            contents.line_count() + breaks_before,
        )))
    }
}

struct MietteView<'f> {
    code: &'static str,
    message: String,
    severity: Severity,
    help: Option<String>,
    labels: Vec<LabeledSpan>,
    source: Option<IndexedText<'f>>,
}

/// Lines longer than this are not quoted: a snippet of a 5 MB line helps
/// nobody, and printing it for every diagnostic would take minutes.
const MAX_QUOTED_LINE: usize = 2_000;

fn line_too_long(file: &SourceFile, offset: usize) -> bool {
    file.line_length_at(offset) > MAX_QUOTED_LINE
}

impl<'f> MietteView<'f> {
    fn new(diagnostic: &Diagnostic, sources: &'f SourceMap) -> MietteView<'f> {
        let file = sources.get(diagnostic.file());
        if let Some(file) = file.filter(|file| line_too_long(file, diagnostic.primary.at.span.start as usize)) {
            let (line, column) = file.line_column(diagnostic.primary.at.span.start as usize);
            let location = format!(
                "at {}:{line}:{column} (the line is too long to quote): {}",
                file.name, diagnostic.primary.message
            );
            return MietteView {
                code: diagnostic.code.as_str(),
                message: diagnostic.message.clone(),
                severity: diagnostic.severity,
                help: Some(match &diagnostic.help {
                    Some(help) => format!("{location}\n{help}"),
                    None => location,
                }),
                labels: Vec::new(),
                source: None,
            };
        }
        let mut labels = vec![labeled(&diagnostic.primary, true)];
        let mut elsewhere = Vec::new();
        for label in &diagnostic.secondary {
            if label.at.file == diagnostic.file() {
                labels.push(labeled(label, false));
            } else if let Some(other) = sources.get(label.at.file) {
                let (line, column) = other.line_column(label.at.span.start as usize);
                elsewhere.push(format!("{}:{line}:{column}: {}", other.name, label.message));
            }
        }
        let mut help = diagnostic.help.clone();
        if !elsewhere.is_empty() {
            let joined = elsewhere.join("\n");
            help = Some(match help {
                Some(text) => format!("{text}\n{joined}"),
                None => joined,
            });
        }
        MietteView {
            code: diagnostic.code.as_str(),
            message: diagnostic.message.clone(),
            severity: diagnostic.severity,
            help,
            labels,
            source: file.map(IndexedText),
        }
    }
}

fn labeled(label: &Label, primary: bool) -> LabeledSpan {
    let span = SourceSpan::from((label.at.span.start as usize, label.at.span.len()));
    let text = if label.message.is_empty() { None } else { Some(label.message.clone()) };
    if primary {
        LabeledSpan::new_primary_with_span(text, span)
    } else {
        LabeledSpan::new_with_span(text, span)
    }
}

impl fmt::Debug for MietteView<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl fmt::Display for MietteView<'_> {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for MietteView<'_> {}

impl miette::Diagnostic for MietteView<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("flow::{}", self.code)))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|text| Box::new(text) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|source| source as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
}

/// A position range, 1-based, columns in characters.
#[derive(Debug, Serialize)]
pub struct JsonRange {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

#[derive(Debug, Serialize)]
pub struct JsonLabel {
    #[serde(flatten)]
    pub range: JsonRange,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct JsonSuggestion {
    #[serde(flatten)]
    pub range: JsonRange,
    pub replacement: String,
    pub message: String,
}

/// One diagnostic as `flowc check --format json` prints it (runtime.md §1).
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    #[serde(flatten)]
    pub range: JsonRange,
    pub labels: Vec<JsonLabel>,
    pub help: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<JsonSuggestion>,
    pub docs: String,
}

pub fn json_range(sources: &SourceMap, at: crate::source::FileSpan) -> JsonRange {
    let fallback;
    let file: &SourceFile = match sources.get(at.file) {
        Some(file) => file,
        None => {
            fallback = SourceFile::new("<unknown>", None, "");
            &fallback
        }
    };
    let (line, column) = file.line_column(at.span.start as usize);
    let (end_line, end_column) = file.line_column(at.span.end as usize);
    JsonRange { file: file.name.clone(), line, column, end_line, end_column }
}

pub fn to_json(diagnostic: &Diagnostic, sources: &SourceMap) -> JsonDiagnostic {
    JsonDiagnostic {
        code: diagnostic.code.as_str(),
        severity: diagnostic.severity,
        message: diagnostic.message.clone(),
        range: json_range(sources, diagnostic.primary.at),
        labels: std::iter::once(&diagnostic.primary)
            .chain(&diagnostic.secondary)
            .map(|label| JsonLabel { range: json_range(sources, label.at), message: label.message.clone() })
            .collect(),
        help: diagnostic.help.clone(),
        suggestion: diagnostic.suggestion.as_ref().map(|suggestion| JsonSuggestion {
            range: json_range(sources, suggestion.at),
            replacement: suggestion.replacement.clone(),
            message: suggestion.message.clone(),
        }),
        docs: docs_path(diagnostic.code),
    }
}

/// Where the page explaining a code lives, relative to the repository.
pub fn docs_path(code: super::Code) -> String {
    format!("docs/diagnostics/{}.md", code.as_str())
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// What a reader returned, comparable: (data, offset, length, line, column, line count).
    type Read = Option<(Vec<u8>, usize, usize, usize, usize, usize)>;

    fn read(source: &dyn SourceCode, span: SourceSpan, before: usize, after: usize) -> Read {
        source.read_span(&span, before, after).ok().map(|contents| {
            let at = contents.span();
            (contents.data().to_vec(), at.offset(), at.len(), contents.line(), contents.column(), contents.line_count())
        })
    }

    #[test]
    fn the_indexed_reader_reads_what_miettes_reader_reads() {
        let pieces = ["a", "字段", "\n", "\r\n", "\r", " ", "\n\n", "xyz"];
        let mut state = 7u64;
        let mut next = |bound: usize| {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % bound.max(1)
        };
        for _ in 0..300 {
            let text: String = (0..next(60)).map(|_| pieces[next(pieces.len())]).collect();
            let file = SourceFile::new("t.flow", None, text.as_str());
            for _ in 0..20 {
                // Inside the text: miette's reader panics on spans past its end.
                let start = next(text.len() + 1);
                let length = next(8).min(text.len() - start);
                let (before, after) = (next(3), next(3));
                let span = SourceSpan::from((start, length));
                assert_eq!(
                    read(&IndexedText(&file), span, before, after),
                    read(&text.as_str(), span, before, after),
                    "{text:?} at {start}+{length}, context {before}/{after}"
                );
            }
        }
    }
}
