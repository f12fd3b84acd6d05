//! Reading the files flowc is given: `.flow` files, scripts, the directory, the request, the
//! actions and the saved state. One mechanism for all of them, so no caller can forget a rule:
//!
//! - Only regular files (symlinks followed). A device (`/dev/zero`), a FIFO, a socket or a
//!   folder is refused from its metadata, before it is opened, so nothing blocks and nothing
//!   reads forever. The file is then opened non-blocking and checked again, in case it was
//!   swapped in between.
//! - Each kind of file has a size limit ([`FileKind::limit`], documented in docs/runtime.md),
//!   checked from the metadata and again while reading, for files whose size the metadata does
//!   not tell (`/proc`).
//! - A script stays inside the folder of the `.flow` file that names it: no absolute path, no
//!   `..` past the folder, no symlink out of it ([`locate_script`]). Errors about a script quote
//!   the path as written, never what the file it points at holds.

use std::fmt;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// What a file is for; each kind has its own size limit and its own noun in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A `.flow` file: one checked, and every file it `use`s.
    Flow,
    /// A `script "x.rhai"` file.
    Script,
    /// The directory (组织架构), TOML or JSON.
    Directory,
    /// The request to create (JSON).
    Request,
    /// The list of actions (JSON).
    Actions,
    /// A saved request (`--state`, JSON).
    State,
    /// A run folder's settings (`run.toml`: the clock).
    Settings,
}

const MIB: u64 = 1 << 20;

impl FileKind {
    /// The largest file of this kind flowc reads, in bytes. Each is several times what the
    /// project's own benchmarks use (benches/README.md): a 2.1 MB workflow of 2,000 nodes, a
    /// 34.8 MB request of 1,000,000 detail rows, a directory of 100,000 employees (12 MiB of
    /// TOML). The `.flow` limit stays above 50 MB so a very large generated workflow still checks.
    pub const fn limit(self) -> u64 {
        match self {
            FileKind::Flow => 64 * MIB,
            FileKind::Script | FileKind::Settings => MIB,
            FileKind::Directory | FileKind::Request | FileKind::Actions => 128 * MIB,
            FileKind::State => 256 * MIB,
        }
    }

    /// The kind's name in messages: "cannot read the request `…`".
    pub const fn noun(self) -> &'static str {
        match self {
            FileKind::Flow => "workflow file",
            FileKind::Script => "script",
            FileKind::Directory => "directory",
            FileKind::Request => "request",
            FileKind::Actions => "actions",
            FileKind::State => "state",
            FileKind::Settings => "run settings",
        }
    }
}

/// Why a file cannot be read.
#[derive(Debug)]
pub enum Problem {
    /// Nothing at the path (or a symlink to nothing).
    Missing,
    /// Something that is not a regular file: its description ("a FIFO", "a folder").
    NotRegular(&'static str),
    /// Bigger than the kind's limit. `size` is at least `limit + 1` (a file whose metadata
    /// says nothing is read only that far).
    TooLarge { size: u64, limit: u64 },
    /// The bytes are not UTF-8 (for the kinds read as text).
    NotUtf8,
    /// Any other error of the operating system (permissions, …), or of a host's loader.
    Other(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => formatter.write_str("no such file"),
            Problem::NotRegular(what) => write!(formatter, "it is {what}, not a regular file"),
            Problem::TooLarge { size, limit } => {
                write!(formatter, "it is {size} bytes, over the {} limit", size_text(*limit))
            }
            Problem::NotUtf8 => formatter.write_str("it is not valid UTF-8"),
            Problem::Other(message) => formatter.write_str(message),
        }
    }
}

/// A file that cannot be read, and why.
#[derive(Debug)]
pub struct FileError {
    pub path: PathBuf,
    pub kind: FileKind,
    pub problem: Problem,
}

impl fmt::Display for FileError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "cannot read the {} `{}`: {}", self.kind.noun(), self.path.display(), self.problem)
    }
}

impl std::error::Error for FileError {}

impl From<FileError> for std::io::Error {
    fn from(error: FileError) -> Self {
        let kind = match error.problem {
            Problem::Missing => std::io::ErrorKind::NotFound,
            Problem::NotUtf8 => std::io::ErrorKind::InvalidData,
            _ => std::io::ErrorKind::InvalidInput,
        };
        std::io::Error::new(kind, error)
    }
}

impl FileError {
    fn new(path: &Path, kind: FileKind, problem: Problem) -> Self {
        FileError { path: path.to_path_buf(), kind, problem }
    }

    fn io(path: &Path, kind: FileKind, error: &std::io::Error) -> Self {
        let problem = match error.kind() {
            std::io::ErrorKind::NotFound => Problem::Missing,
            _ => Problem::Other(error.to_string()),
        };
        FileError::new(path, kind, problem)
    }
}

/// "128 MiB", or bytes when the limit is not a whole number of MiB.
fn size_text(bytes: u64) -> String {
    if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// What a file type is, when it is not a regular file.
fn describe(file_type: std::fs::FileType) -> &'static str {
    if file_type.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    "something other than a file"
}

/// Checks a file's metadata against the rules: a regular file within the kind's limit.
fn admit(path: &Path, kind: FileKind, metadata: &std::fs::Metadata) -> Result<u64, FileError> {
    if !metadata.is_file() {
        return Err(FileError::new(path, kind, Problem::NotRegular(describe(metadata.file_type()))));
    }
    let limit = kind.limit();
    if metadata.len() > limit {
        return Err(FileError::new(path, kind, Problem::TooLarge { size: metadata.len(), limit }));
    }
    Ok(metadata.len())
}

/// Whether `path` could be read as a `kind`, from its metadata alone (nothing is opened):
/// its size in bytes, or why not.
pub fn probe(path: &Path, kind: FileKind) -> Result<u64, FileError> {
    let metadata = std::fs::metadata(path).map_err(|error| FileError::io(path, kind, &error))?;
    admit(path, kind, &metadata)
}

/// Opens without blocking: a FIFO swapped in after the metadata was checked would otherwise
/// wait for a writer forever. On a regular file the flag changes nothing.
fn open(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// The bytes of the `kind` file at `path`: a regular file within the kind's size limit.
pub fn read(path: &Path, kind: FileKind) -> Result<Vec<u8>, FileError> {
    probe(path, kind)?;
    let file = open(path).map_err(|error| FileError::io(path, kind, &error))?;
    let metadata = file.metadata().map_err(|error| FileError::io(path, kind, &error))?;
    let size = admit(path, kind, &metadata)?;
    let limit = kind.limit();
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    // One byte past the limit tells a file that grew (or whose metadata said 0, as /proc's do)
    // from one that fits.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(|error| FileError::io(path, kind, &error))?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > limit {
        return Err(FileError::new(path, kind, Problem::TooLarge { size: read, limit }));
    }
    Ok(bytes)
}

/// As [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, kind: FileKind) -> Result<String, FileError> {
    String::from_utf8(read(path, kind)?).map_err(|_| FileError::new(path, kind, Problem::NotUtf8))
}

/// Reads a script for [`crate::runtime::compiled::Compiled::new`]: a regular file within the
/// script size limit, as UTF-8.
pub fn read_script(path: &Path) -> std::io::Result<String> {
    read_to_string(path, FileKind::Script).map_err(std::io::Error::from)
}

/// Why a script path is not inside its workflow's folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScriptPathError {
    /// `/etc/passwd`, or a Windows drive or share.
    Absolute,
    /// `../x.rhai`: more `..` than folders before them.
    LeavesFolder,
    /// The path stays inside, but a symlink on it leads out.
    LinksOut,
}

impl ScriptPathError {
    /// The message, quoting the path as written and nothing else.
    pub fn message(self, written: &str) -> String {
        match self {
            ScriptPathError::Absolute => format!("script path `{written}` is absolute"),
            ScriptPathError::LeavesFolder => format!("script path `{written}` leaves the workflow's folder"),
            ScriptPathError::LinksOut => {
                format!("script `{written}` is a link to a file outside the workflow's folder")
            }
        }
    }
}

/// The script path `written` relative to its workflow's folder, with `.` and `..` worked out on
/// the text alone: an error when it is absolute or climbs out. This is the rule without the
/// file system; [`locate_script`] adds symlinks.
pub fn script_relative_path(written: &str) -> Result<PathBuf, ScriptPathError> {
    let mut parts = Vec::new();
    for component in Path::new(written).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => return Err(ScriptPathError::Absolute),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(ScriptPathError::LeavesFolder);
                }
            }
            Component::Normal(part) => parts.push(part),
        }
    }
    Ok(parts.iter().collect())
}

/// Where the script `written` of a `.flow` file in `folder` is: inside the folder, with any
/// symlink on the way resolved and still inside. Returns the real path when the file exists
/// (read that one, so what was checked is what is read), else the path as joined, for the
/// reader to report as missing. Only metadata is touched.
pub fn locate_script(folder: &Path, written: &str) -> Result<PathBuf, ScriptPathError> {
    let relative = script_relative_path(written)?;
    let joined = folder.join(&relative);
    let folder = if folder.as_os_str().is_empty() { Path::new(".") } else { folder };
    match (std::fs::canonicalize(folder), std::fs::canonicalize(folder.join(&relative))) {
        (Ok(real_folder), Ok(real_script)) if real_script.starts_with(&real_folder) => Ok(real_script),
        (Ok(_), Ok(_)) => Err(ScriptPathError::LinksOut),
        _ => Ok(joined),
    }
}

/// Why a script cannot be used, found without reading it.
#[derive(Debug)]
pub enum ScriptProblem {
    /// The path leaves the workflow's folder.
    Outside(ScriptPathError),
    /// The file is missing, not a regular file, too large, or unreadable.
    File(FileError),
}

/// [`locate_script`], then [`probe`] as a script: the path to read, or why the script cannot
/// be used. Nothing is opened.
pub fn find_script(folder: &Path, written: &str) -> Result<PathBuf, ScriptProblem> {
    let path = locate_script(folder, written).map_err(ScriptProblem::Outside)?;
    probe(&path, FileKind::Script).map_err(|error| {
        // Name the script as joined, not where a link inside the folder led.
        ScriptProblem::File(FileError { path: folder.join(written), ..error })
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_paths_are_worked_out_on_the_text() {
        assert_eq!(script_relative_path("scripts/a.rhai"), Ok(PathBuf::from("scripts/a.rhai")));
        assert_eq!(script_relative_path("./scripts/../a.rhai"), Ok(PathBuf::from("a.rhai")));
        assert_eq!(script_relative_path("/etc/passwd"), Err(ScriptPathError::Absolute));
        assert_eq!(script_relative_path("../a.rhai"), Err(ScriptPathError::LeavesFolder));
        assert_eq!(script_relative_path("scripts/../../a.rhai"), Err(ScriptPathError::LeavesFolder));
        assert_eq!(script_relative_path(""), Ok(PathBuf::new()));
    }

    #[test]
    fn sizes_are_written_in_mib() {
        assert_eq!(size_text(FileKind::Request.limit()), "128 MiB");
        assert_eq!(size_text(1000), "1000 bytes");
    }
}
