//! The workflows a server runs: the folder's program checked and compiled at start, and every
//! version a stored request was created on. A version is its source, kept by the hash the
//! runtime already stamps on saved states (`Compiled::source_hash`); its files are stored in
//! the database so that a request created before the sources changed keeps running on its own
//! version after a restart.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use flowc::check::{self, Analysis, Loader};
use flowc::diag::render::{self, TextStyle};
use flowc::input_file::{FileError, FileKind, Problem};
use flowc::runtime::compiled::{CompileError, Compiled};

/// One version of the program: its analysis (for diagnostics) and its compiled form.
pub struct Version {
    pub hash: String,
    pub analysis: Analysis,
    pub compiled: Compiled,
    /// Every file it was built from (`.flow` files and scripts), by path: what is stored.
    pub files: BTreeMap<String, String>,
}

/// Why the program cannot be served: the text `flowc check` would print, and the exit status.
pub struct NotServable {
    pub report: String,
    pub status: u8,
}

/// Checks and compiles `flow`, keeping every file read. A program with errors is refused with
/// its diagnostics rendered as `flowc check` renders them.
pub fn load_current(flow: &Path, color: bool) -> Result<Version, NotServable> {
    let analysis = check::check_paths(&[flow.to_path_buf()], &check::FsLoader);
    if let Some((path, reason)) = analysis.unreadable.first() {
        return Err(NotServable { report: format!("error: cannot read `{}`: {reason}", path.display()), status: 2 });
    }
    let style = TextStyle { color, width: 100 };
    if analysis.error_count() > 0 {
        let mut report = String::new();
        for diagnostic in analysis.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()) {
            report.push_str(&render::to_text(diagnostic, &analysis.sources, style));
            report.push('\n');
        }
        report.push_str(&format!("serve stopped: the program has {} errors", analysis.error_count()));
        return Err(NotServable { report, status: 1 });
    }
    let scripts = Mutex::new(BTreeMap::new());
    let read_script = |path: &Path| {
        let text = flowc::input_file::read_script(path)?;
        if let Ok(mut scripts) = scripts.lock() {
            scripts.insert(path.display().to_string(), text.clone());
        }
        Ok(text)
    };
    let compiled = Compiled::new(&analysis, &read_script)
        .map_err(|error| NotServable { report: format!("error: {}", compile_error_text(&error)), status: 1 })?;
    let mut files: BTreeMap<String, String> = scripts.into_inner().unwrap_or_default();
    for (_, file) in analysis.sources.files() {
        if let Some(path) = &file.path {
            files.insert(path.display().to_string(), file.text.to_string());
        }
    }
    Ok(Version { hash: compiled.source_hash.clone(), analysis, compiled, files })
}

fn compile_error_text(error: &CompileError) -> String {
    match error {
        CompileError::Script(error) => error.message.clone(),
        other => other.to_string(),
    }
}

/// Rebuilds a stored version from its files (the `.flow` file given first).
pub fn load_stored(root: &str, files: BTreeMap<String, String>) -> Result<Version, String> {
    let loader = Stored { files: &files };
    let analysis = check::check_paths(&[PathBuf::from(root)], &loader);
    if analysis.error_count() > 0 {
        return Err(format!("the stored version of `{root}` no longer checks"));
    }
    let read_script = |path: &Path| {
        files
            .get(&path.display().to_string())
            .cloned()
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
    };
    let compiled = Compiled::new(&analysis, &read_script).map_err(|error| compile_error_text(&error))?;
    Ok(Version { hash: compiled.source_hash.clone(), analysis, compiled, files })
}

/// A loader over the files of a stored version.
struct Stored<'f> {
    files: &'f BTreeMap<String, String>,
}

impl Loader for Stored<'_> {
    fn read(&self, path: &Path) -> Result<Vec<u8>, FileError> {
        self.files.get(&path.display().to_string()).map(|text| text.as_bytes().to_vec()).ok_or_else(|| FileError {
            path: path.to_path_buf(),
            kind: FileKind::Flow,
            problem: Problem::Missing,
        })
    }
}

/// The versions known to this process, by hash (the current one, and the old ones loaded on
/// demand from the database).
#[derive(Default)]
pub struct Versions {
    by_hash: Mutex<BTreeMap<String, Arc<Version>>>,
}

impl Versions {
    pub fn get(&self, hash: &str) -> Option<Arc<Version>> {
        self.by_hash.lock().ok().and_then(|versions| versions.get(hash).cloned())
    }

    pub fn insert(&self, version: Version) -> Arc<Version> {
        let version = Arc::new(version);
        if let Ok(mut versions) = self.by_hash.lock() {
            versions.insert(version.hash.clone(), version.clone());
        }
        version
    }
}
