//! The language server's state: open documents and the latest analysis of
//! all of them. Every request is answered from that analysis, produced by
//! the same `check` as the command line, so the editor shows exactly what
//! `flowc check` shows. No method does I/O besides reading files that are
//! not open; none runs a script.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use lsp_types as lsp;

use super::convert;
use crate::check::{Analysis, Loader};
use crate::input_file::{self, FileError, FileKind, ScriptProblem};
use crate::source::{FileId, SourceFile};

pub struct Document {
    pub uri: lsp::Url,
    pub text: String,
    pub version: i32,
}

#[derive(Default)]
pub struct Server {
    /// Open documents by file path.
    documents: HashMap<PathBuf, Document>,
    analysis: Option<Analysis>,
    /// Documents that were last sent non-empty diagnostics.
    published: HashSet<lsp::Url>,
    /// For the latest analysis, worked out once per check rather than per
    /// request: each file's URL as the client knows it, and the file of
    /// each canonical path.
    urls: Vec<Option<lsp::Url>>,
    files_by_path: HashMap<PathBuf, FileId>,
}

/// Reads open documents from memory and everything else from disk, so a
/// `use`d file that is open and unsaved is checked as the user sees it.
struct Overlay<'a> {
    documents: &'a HashMap<PathBuf, Document>,
}

impl Loader for Overlay<'_> {
    fn read(&self, path: &Path) -> Result<Vec<u8>, FileError> {
        if let Some(document) = self.documents.get(path) {
            return Ok(document.text.as_bytes().to_vec());
        }
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some(document) = self.documents.get(&canonical) {
            return Ok(document.text.as_bytes().to_vec());
        }
        // Like `flowc check`: a regular file within the limit, so a FIFO or a device that a
        // `use` names cannot stall the server.
        input_file::read(path, FileKind::Flow)
    }

    fn find_script(&self, folder: &Path, written: &str) -> Result<PathBuf, ScriptProblem> {
        input_file::find_script(folder, written)
    }
}

/// A document's path: its file path, or a made-up one for unsaved buffers.
pub fn path_of(uri: &lsp::Url) -> PathBuf {
    match uri.to_file_path() {
        Ok(path) => std::fs::canonicalize(&path).unwrap_or(path),
        Err(()) => PathBuf::from(format!("untitled/{}.flow", uri.path().replace('/', "_"))),
    }
}

impl Server {
    pub fn new() -> Server {
        Server::default()
    }

    pub fn open(&mut self, uri: lsp::Url, text: String, version: i32) {
        self.documents.insert(path_of(&uri), Document { uri, text, version });
    }

    /// Applies content changes (full or ranged) to an open document.
    pub fn change(&mut self, uri: &lsp::Url, changes: Vec<lsp::TextDocumentContentChangeEvent>, version: i32) {
        let Some(document) = self.documents.get_mut(&path_of(uri)) else { return };
        for change in changes {
            match change.range {
                None => document.text = change.text,
                Some(range) => {
                    let file = SourceFile::new("", None, document.text.as_str());
                    let start = convert::offset(&file, range.start).min(document.text.len());
                    let end = convert::offset(&file, range.end).clamp(start, document.text.len());
                    if document.text.is_char_boundary(start) && document.text.is_char_boundary(end) {
                        document.text.replace_range(start..end, &change.text);
                    }
                }
            }
        }
        document.version = version;
    }

    pub fn close(&mut self, uri: &lsp::Url) {
        self.documents.remove(&path_of(uri));
    }

    pub fn document(&self, uri: &lsp::Url) -> Option<&Document> {
        self.documents.get(&path_of(uri))
    }

    pub fn analysis(&self) -> Option<&Analysis> {
        self.analysis.as_ref()
    }

    /// Re-checks every open document (and what they `use`) and returns the
    /// diagnostics to publish: one entry per open document, plus empty
    /// entries clearing documents that had diagnostics before.
    pub fn analyze(&mut self) -> Vec<lsp::PublishDiagnosticsParams> {
        let mut roots: Vec<PathBuf> = self.documents.keys().cloned().collect();
        // The tests beside an open workflow (`*.test.flow`) run for the untested-exit hints.
        let siblings: Vec<PathBuf> = roots.iter().filter_map(|path| path.parent()).flat_map(test_files).collect();
        roots.extend(siblings);
        roots.sort();
        roots.dedup();
        let analysis = crate::analysis::check_paths(&roots, &Overlay { documents: &self.documents });
        let mut by_url: HashMap<lsp::Url, Vec<lsp::Diagnostic>> = HashMap::new();
        for document in self.documents.values() {
            by_url.insert(document.uri.clone(), Vec::new());
        }
        self.urls.clear();
        self.files_by_path.clear();
        for (file, source) in analysis.sources.files() {
            let canonical =
                source.path.as_ref().map(|path| std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()));
            let opened =
                canonical.as_ref().and_then(|path| self.documents.get(path)).map(|document| document.uri.clone());
            self.urls.push(opened.or_else(|| convert::url_of(&analysis, file)));
            if let Some(path) = canonical {
                self.files_by_path.entry(path).or_insert(file);
            }
        }
        for diagnostic in &analysis.diagnostics {
            let Some(url) = self.url_for(diagnostic.file()) else { continue };
            if let Some(converted) = convert::diagnostic(&analysis, diagnostic) {
                by_url.entry(url).or_default().push(converted);
            }
        }
        for (file, hints) in super::untested::hints(&analysis) {
            let Some(url) = self.url_for(file) else { continue };
            by_url.entry(url).or_default().extend(hints);
        }
        let mut published = Vec::new();
        let mut now_published = HashSet::new();
        for (uri, diagnostics) in by_url {
            if !self.documents.values().any(|document| document.uri == uri) {
                continue;
            }
            if !diagnostics.is_empty() {
                now_published.insert(uri.clone());
            }
            let version = self.document(&uri).map(|document| document.version);
            published.push(lsp::PublishDiagnosticsParams { uri, diagnostics, version });
        }
        for uri in self.published.difference(&now_published) {
            if !published.iter().any(|entry| &entry.uri == uri) {
                published.push(lsp::PublishDiagnosticsParams {
                    uri: uri.clone(),
                    diagnostics: Vec::new(),
                    version: None,
                });
            }
        }
        published.sort_by(|a, b| a.uri.as_str().cmp(b.uri.as_str()));
        self.published = now_published;
        self.analysis = Some(analysis);
        published
    }

    /// The URL an open document was opened with, else the file's own URL.
    fn url_for(&self, file: FileId) -> Option<lsp::Url> {
        self.urls.get(file.0 as usize).cloned().flatten()
    }

    /// The analysed file and byte offset of a position in a document.
    pub fn locate(&self, uri: &lsp::Url, position: lsp::Position) -> Option<(&Analysis, FileId, usize)> {
        let analysis = self.analysis.as_ref()?;
        let file = *self.files_by_path.get(&path_of(uri))?;
        let source = analysis.sources.get(file)?;
        Some((analysis, file, convert::offset(source, position)))
    }

    /// Location of `at` as the client knows it (open documents keep the
    /// URL they were opened with).
    pub fn location(&self, analysis: &Analysis, at: crate::source::FileSpan) -> Option<lsp::Location> {
        let source = analysis.sources.get(at.file)?;
        Some(lsp::Location {
            uri: self.url_for(at.file)?,
            range: convert::range(source, at.span.start as usize, at.span.end as usize),
        })
    }
}

/// The `*.test.flow` files of a folder.
fn test_files(folder: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.to_string_lossy().ends_with(".test.flow") && path.is_file())
        .filter_map(|path| std::fs::canonicalize(&path).ok())
        .collect();
    files.sort();
    files
}
