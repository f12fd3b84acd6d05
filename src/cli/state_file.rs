//! The `--state` file on disk. One run at a time: an exclusive lock on a
//! lock file beside the state (`.NAME.lock`, never removed, so every run
//! locks the same file whether or not the state exists yet), held from
//! reading the state to saving it, so a run that exits 0 has its actions in
//! the state. A save is atomic and follows no planted link: the text goes to
//! a new temporary file of an unpredictable name, created exclusively in the
//! state's folder, then renamed over the state. Temporary files of this
//! state found while holding the lock belong to no live run (every writer
//! holds the lock), so they are leftovers of a killed run and are removed.

use std::fs::{File, OpenOptions};
use std::hash::{BuildHasher, RandomState};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use flowc::input_file::{self, FileError, FileKind, Problem};

/// How many unpredictable names to try before giving up (each is new; a clash means foul play).
const TEMPORARY_NAME_TRIES: u32 = 16;

/// A state file locked for this run; the lock is released when it is dropped.
pub struct StateFile {
    path: PathBuf,
    folder: PathBuf,
    name: String,
    _lock: File,
}

impl StateFile {
    /// Waits until no other run holds the state, then holds it.
    pub fn lock(path: &Path) -> Result<StateFile, String> {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .ok_or_else(|| format!("`--state {}` does not name a file", path.display()))?;
        let folder = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let lock_path = folder.join(format!(".{name}.lock"));
        let cannot = |error: std::io::Error| format!("cannot lock the state `{}`: {error}", path.display());
        if std::fs::symlink_metadata(&lock_path).is_ok_and(|metadata| metadata.file_type().is_symlink()) {
            return Err(format!(
                "cannot lock the state `{}`: its lock file `{}` is a symbolic link",
                path.display(),
                lock_path.display()
            ));
        }
        let lock =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock_path).map_err(cannot)?;
        lock.lock().map_err(cannot)?;
        let state = StateFile { path: path.to_path_buf(), folder, name, _lock: lock };
        state.remove_leftovers();
        Ok(state)
    }

    /// The state's text, or `None` when there is no state yet. Read like every input file: a
    /// regular file within the state's size limit (docs/runtime.md §1.8).
    pub fn read(&self) -> Result<Option<String>, FileError> {
        match input_file::read_to_string(&self.path, FileKind::State) {
            Ok(text) => Ok(Some(text)),
            Err(error) if matches!(error.problem, Problem::Missing) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Replaces the state with `text`: a crash leaves the old state or the new one, never half of one.
    pub fn write(&self, text: &str) -> Result<(), String> {
        let cannot = |error: std::io::Error| format!("cannot save the state to `{}`: {error}", self.path.display());
        let (temporary, mut file) = self.new_temporary().map_err(cannot)?;
        let written = file.write_all(text.as_bytes()).and_then(|()| file.sync_all());
        drop(file);
        if let Err(error) = written.and_then(|()| std::fs::rename(&temporary, &self.path)) {
            let _ = std::fs::remove_file(&temporary);
            return Err(cannot(error));
        }
        // The rename itself survives a crash once the folder is on disk (not possible everywhere).
        if let Ok(folder) = File::open(&self.folder) {
            let _ = folder.sync_all();
        }
        Ok(())
    }

    /// A new file `.NAME.<pid>.<16 hex digits>.tmp` in the state's folder: created here and
    /// now (`create_new` refuses any existing path, a link included), under a name nobody can
    /// guess in advance.
    fn new_temporary(&self) -> std::io::Result<(PathBuf, File)> {
        let random = RandomState::new();
        let mut last = std::io::Error::new(ErrorKind::AlreadyExists, "no free temporary name");
        for attempt in 0..TEMPORARY_NAME_TRIES {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos());
            let token = random.hash_one((std::process::id(), nanos, attempt));
            let temporary = self.folder.join(format!(".{}.{}.{token:016x}.tmp", self.name, std::process::id()));
            match OpenOptions::new().write(true).create_new(true).open(&temporary) {
                Ok(file) => return Ok((temporary, file)),
                Err(error) if error.kind() == ErrorKind::AlreadyExists => last = error,
                Err(error) => return Err(error),
            }
        }
        Err(last)
    }

    /// Removes this state's temporary files (only ever left by a killed run, as we hold the lock).
    fn remove_leftovers(&self) {
        let Ok(entries) = std::fs::read_dir(&self.folder) else { return };
        for entry in entries.filter_map(Result::ok) {
            if is_temporary_of(&self.name, &entry.file_name().to_string_lossy()) {
                // A link is removed, never followed.
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Whether `file` is a temporary file of the state named `state`: `.STATE.<pid>.<16 hex>.tmp`,
/// or `.STATE.<pid>.tmp` as earlier versions named them. Another state's temporary files never
/// match (`.s.json.x.1.tmp` belongs to `s.json.x`).
fn is_temporary_of(state: &str, file: &str) -> bool {
    let Some(middle) = file.strip_prefix('.').and_then(|rest| rest.strip_prefix(state)) else { return false };
    let Some(middle) = middle.strip_prefix('.').and_then(|rest| rest.strip_suffix(".tmp")) else { return false };
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit());
    match middle.split_once('.') {
        None => digits(middle),
        Some((pid, token)) => digits(pid) && token.len() == 16 && token.bytes().all(|byte| byte.is_ascii_hexdigit()),
    }
}

#[cfg(test)]
mod tests {
    use super::is_temporary_of;

    #[test]
    fn only_this_states_temporaries_are_leftovers() {
        assert!(is_temporary_of("s.json", ".s.json.4242.tmp"));
        assert!(is_temporary_of("s.json", ".s.json.4243.0123456789abcdef.tmp"));
        assert!(!is_temporary_of("s.json", ".s.json.x.4244.tmp"));
        assert!(!is_temporary_of("s.json", ".s.json.x.4244.0123456789abcdef.tmp"));
        assert!(!is_temporary_of("s.json", "s.json.tmp"));
        assert!(!is_temporary_of("s.json", ".s.json.lock"));
        assert!(!is_temporary_of("s.json", ".s.json..tmp"));
        assert!(!is_temporary_of("s.json", ".s.json.12.0123.tmp"));
    }
}
