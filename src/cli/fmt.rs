//! `flowc fmt FILE… [--check]`: rewrite files in the house layout (see
//! `flowc::format`). Without `--check` a file is replaced (through a
//! temporary file and a rename) only when it changes; with `--check` nothing
//! is written, a diff is printed, and the exit status is 1 when any file
//! would change. Unreadable or non-UTF-8 files exit 2.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use flowc::input_file::FileKind;

use super::{EXIT_BAD_USAGE, EXIT_FOUND_ERRORS, EXIT_OK};

#[derive(Args)]
pub struct FmtArgs {
    /// The .flow files to format.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Change nothing: print a diff of what would change, and exit 1 if
    /// any file is not formatted.
    #[arg(long)]
    check: bool,
}

pub fn run(arguments: FmtArgs) -> u8 {
    let mut failed_to_read = false;
    let mut changed = Vec::new();
    let mut stdout = std::io::stdout().lock();
    for path in &arguments.files {
        let text = match flowc::input_file::read(path, FileKind::Flow) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => text,
                Err(_) => {
                    eprintln!("error: `{}` is not valid UTF-8; not formatted", path.display());
                    failed_to_read = true;
                    continue;
                }
            },
            Err(error) => {
                eprintln!("error: cannot read `{}`: {}", path.display(), error.problem);
                failed_to_read = true;
                continue;
            }
        };
        let formatted = flowc::format::format(&text);
        if formatted == text {
            continue;
        }
        if arguments.check {
            let _ = writeln!(stdout, "Diff in {}:", path.display());
            let _ = write!(stdout, "{}", unified_diff(&text, &formatted));
        } else if let Err(error) = replace(path, &formatted) {
            eprintln!("error: cannot write `{}`: {error}", path.display());
            failed_to_read = true;
            continue;
        } else {
            let _ = writeln!(stdout, "reformatted {}", path.display());
        }
        changed.push(path);
    }
    let _ = stdout.flush();
    drop(stdout);
    if failed_to_read {
        return EXIT_BAD_USAGE;
    }
    if arguments.check && !changed.is_empty() {
        let count = changed.len();
        eprintln!("{count} file{} would be reformatted; run `flowc fmt` to fix", if count == 1 { "" } else { "s" });
        return EXIT_FOUND_ERRORS;
    }
    EXIT_OK
}

/// Writes `text` to a temporary file beside `path` and renames it over
/// `path`, so a crash never leaves a half-written file.
fn replace(path: &Path, text: &str) -> std::io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let temporary = directory.join(format!(".{name}.fmt-{}.tmp", std::process::id()));
    let result = (|| {
        std::fs::write(&temporary, text)?;
        if let Ok(metadata) = std::fs::metadata(path) {
            std::fs::set_permissions(&temporary, metadata.permissions())?;
        }
        std::fs::rename(&temporary, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    result
}

/// Lines of context around each change in a diff.
const CONTEXT: usize = 2;

/// Largest table the line diff builds before it gives up on matching lines
/// in the changed middle and prints it as removed then added.
const MAX_DIFF_CELLS: usize = 4_000_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Edit {
    Same(usize, usize),
    Removed(usize),
    Added(usize),
}

/// A unified diff (hunks with `@@ -a,b +c,d @@` headers) from `old` to `new`.
fn unified_diff(old: &str, new: &str) -> String {
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    let edits = line_edits(&old_lines, &new_lines);
    let mut output = String::new();
    let changes: Vec<usize> =
        edits.iter().enumerate().filter(|(_, edit)| !matches!(edit, Edit::Same(..))).map(|(index, _)| index).collect();
    let mut position = 0;
    while let Some(&first) = changes.get(position) {
        let mut last = first;
        position += 1;
        while let Some(&next) = changes.get(position) {
            if next > last + 2 * CONTEXT + 1 {
                break;
            }
            last = next;
            position += 1;
        }
        let hunk = edits.get(first.saturating_sub(CONTEXT)..(last + CONTEXT + 1).min(edits.len())).unwrap_or_default();
        let (old_start, new_start) = hunk_start(&edits, first.saturating_sub(CONTEXT));
        let old_count = hunk.iter().filter(|edit| !matches!(edit, Edit::Added(_))).count();
        let new_count = hunk.iter().filter(|edit| !matches!(edit, Edit::Removed(_))).count();
        output.push_str(&format!("@@ -{},{old_count} +{},{new_count} @@\n", old_start + 1, new_start + 1));
        for edit in hunk {
            let (sign, line) = match *edit {
                Edit::Same(index, _) => (' ', old_lines.get(index)),
                Edit::Removed(index) => ('-', old_lines.get(index)),
                Edit::Added(index) => ('+', new_lines.get(index)),
            };
            output.push(sign);
            output.push_str(line.copied().unwrap_or_default());
            output.push('\n');
        }
    }
    output
}

/// The old and new line numbers (0-based) where edit `index` starts.
fn hunk_start(edits: &[Edit], index: usize) -> (usize, usize) {
    let before = edits.get(..index).unwrap_or_default();
    let old = before.iter().filter(|edit| !matches!(edit, Edit::Added(_))).count();
    let new = before.iter().filter(|edit| !matches!(edit, Edit::Removed(_))).count();
    (old, new)
}

/// A shortest-ish edit script: common prefix and suffix, then a longest
/// common subsequence of the middle when it is small enough.
fn line_edits(old: &[&str], new: &[&str]) -> Vec<Edit> {
    let prefix = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let suffix = old
        .iter()
        .rev()
        .zip(new.iter().rev())
        .take(old.len().min(new.len()) - prefix)
        .take_while(|(a, b)| a == b)
        .count();
    let old_middle = old.get(prefix..old.len() - suffix).unwrap_or_default();
    let new_middle = new.get(prefix..new.len() - suffix).unwrap_or_default();
    let mut edits: Vec<Edit> = (0..prefix).map(|index| Edit::Same(index, index)).collect();
    let (rows, columns) = (old_middle.len(), new_middle.len());
    if (rows + 1).saturating_mul(columns + 1) <= MAX_DIFF_CELLS {
        // lengths[i][j]: LCS length of old_middle[i..] and new_middle[j..].
        let width = columns + 1;
        let mut lengths = vec![0u32; (rows + 1) * width];
        for i in (0..rows).rev() {
            for j in (0..columns).rev() {
                let value = if old_middle.get(i) == new_middle.get(j) {
                    lengths.get((i + 1) * width + j + 1).copied().unwrap_or(0) + 1
                } else {
                    let down = lengths.get((i + 1) * width + j).copied().unwrap_or(0);
                    let right = lengths.get(i * width + j + 1).copied().unwrap_or(0);
                    down.max(right)
                };
                if let Some(cell) = lengths.get_mut(i * width + j) {
                    *cell = value;
                }
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < rows || j < columns {
            if i < rows && j < columns && old_middle.get(i) == new_middle.get(j) {
                edits.push(Edit::Same(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < rows
                && (j == columns
                    || lengths.get((i + 1) * width + j).copied().unwrap_or(0)
                        >= lengths.get(i * width + j + 1).copied().unwrap_or(0))
            {
                edits.push(Edit::Removed(prefix + i));
                i += 1;
            } else {
                edits.push(Edit::Added(prefix + j));
                j += 1;
            }
        }
    } else {
        edits.extend((0..rows).map(|i| Edit::Removed(prefix + i)));
        edits.extend((0..columns).map(|j| Edit::Added(prefix + j)));
    }
    edits.extend((0..suffix).map(|k| Edit::Same(old.len() - suffix + k, new.len() - suffix + k)));
    edits
}
