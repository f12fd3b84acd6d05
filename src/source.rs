//! Source files, byte spans and the `SourceMap` that owns every loaded file.
//!
//! Every AST node carries a [`Span`] (byte offsets into one file); a
//! [`FileSpan`] adds the file, which is what diagnostics point at.

use std::path::PathBuf;
use std::sync::Arc;

/// Byte range `start..end` inside one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Span {
        Span { start: clamp_u32(start), end: clamp_u32(end.max(start)) }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }

    pub fn shifted(self, by: usize) -> Span {
        Span::new(self.start as usize + by, self.end as usize + by)
    }

    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn contains(self, offset: usize) -> bool {
        (self.start as usize) <= offset && offset <= self.end as usize
    }
}

fn clamp_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// Index of a file in the [`SourceMap`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct FileId(pub u32);

/// A span in a particular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FileSpan {
    pub file: FileId,
    pub span: Span,
}

impl FileSpan {
    pub fn new(file: FileId, span: Span) -> FileSpan {
        FileSpan { file, span }
    }
}

/// One loaded file: its display name, its path on disk (if any) and its text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub path: Option<PathBuf>,
    pub text: Arc<str>,
    line_starts: Vec<u32>,
    /// Offsets of `\r` not followed by `\n`: miette counts them as line
    /// breaks, so [`SourceFile::lines_around`] must too (almost always empty).
    lone_carriage_returns: Vec<u32>,
}

impl SourceFile {
    pub fn new(name: impl Into<String>, path: Option<PathBuf>, text: impl Into<Arc<str>>) -> SourceFile {
        let text: Arc<str> = text.into();
        let mut line_starts = vec![0u32];
        let mut lone_carriage_returns = Vec::new();
        let mut after_carriage_return = false;
        for (index, byte) in text.bytes().enumerate() {
            if after_carriage_return && byte != b'\n' {
                lone_carriage_returns.push(clamp_u32(index - 1));
            }
            if byte == b'\n' {
                line_starts.push(clamp_u32(index + 1));
            }
            after_carriage_return = byte == b'\r';
        }
        if after_carriage_return {
            lone_carriage_returns.push(clamp_u32(text.len() - 1));
        }
        SourceFile { name: name.into(), path, text, line_starts, lone_carriage_returns }
    }

    /// The whole lines around the bytes `start..end`: from `before` lines
    /// above the line of the byte before `start` (miette looks one byte
    /// back) to `after + 1` lines below the line of `end`, and how many line
    /// breaks come before them, counted as miette counts them (`\n`, `\r\n`
    /// and a lone `\r`). Binary searches, no scan: the renderer quotes a
    /// diagnostic from this neighbourhood alone.
    pub fn lines_around(
        &self,
        start: usize,
        end: usize,
        before: usize,
        after: usize,
    ) -> (std::ops::Range<usize>, usize) {
        let first = self.line_index(start.saturating_sub(1)).saturating_sub(before);
        let last = self.line_index(end.max(start)).saturating_add(after).saturating_add(1);
        let from = self.line_starts.get(first).map_or(0, |&start| start as usize);
        let to = self.line_starts.get(last.saturating_add(1)).map_or(self.text.len(), |&next| next as usize);
        let lone_before = self.lone_carriage_returns.partition_point(|&offset| (offset as usize) < from);
        (from..to, first + lone_before)
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line_index = self.line_index(offset);
        let line_start = self.line_starts.get(line_index).copied().unwrap_or(0) as usize;
        let column = self.text.get(line_start..offset).map(|prefix| prefix.chars().count()).unwrap_or(0);
        (line_index + 1, column + 1)
    }

    /// Byte offset of a 0-based line and a 0-based UTF-16 column (LSP positions).
    pub fn offset_of_utf16(&self, line: usize, utf16_column: usize) -> usize {
        let Some(&start) = self.line_starts.get(line) else { return self.text.len() };
        let start = start as usize;
        let mut units = 0;
        for (index, character) in self.text.get(start..).unwrap_or("").char_indices() {
            if units >= utf16_column || character == '\n' {
                return start + index;
            }
            units += character.len_utf16();
        }
        self.text.len()
    }

    /// 0-based line and UTF-16 column of a byte offset (LSP positions).
    pub fn utf16_position(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts.get(line).copied().unwrap_or(0) as usize;
        let column = self.text.get(start..offset).map_or(0, |prefix| prefix.encode_utf16().count());
        (line, column)
    }

    /// Length in bytes of the line holding `offset` (binary search, no scan).
    pub fn line_length_at(&self, offset: usize) -> usize {
        let line = self.line_index(offset);
        let start = self.line_starts.get(line).copied().unwrap_or(0) as usize;
        let end = self.line_starts.get(line + 1).map_or(self.text.len(), |&next| next as usize);
        end.saturating_sub(start)
    }

    /// 0-based index of the line holding `offset`.
    fn line_index(&self, offset: usize) -> usize {
        let offset = clamp_u32(offset.min(self.text.len()));
        match self.line_starts.binary_search(&offset) {
            Ok(index) => index,
            Err(index) => index.saturating_sub(1),
        }
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }
}

/// Every file of one check: the roots given on the command line, the files
/// they `use`, and the standard library modules.
#[derive(Debug, Default, Clone)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> SourceMap {
        SourceMap::default()
    }

    pub fn add(&mut self, file: SourceFile) -> FileId {
        self.files.push(file);
        FileId(clamp_u32(self.files.len() - 1))
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id.0 as usize)
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.files.iter().enumerate().map(|(index, file)| (FileId(clamp_u32(index)), file))
    }

    pub fn find_by_path(&self, path: &std::path::Path) -> Option<FileId> {
        self.files().find(|(_, file)| file.path.as_deref() == Some(path)).map(|(id, _)| id)
    }

    pub fn find_by_name(&self, name: &str) -> Option<FileId> {
        self.files().find(|(_, file)| file.name == name).map(|(id, _)| id)
    }
}
