//! `flowc check FILE… [--org FILE] [--thorough]`: exit 0 without errors (warnings
//! allowed), 1 with errors (or warnings under `--deny warnings`), 2 for
//! unreadable files or an unloadable directory (under `--format json`, the
//! error document).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{use_color, Deny, Failure, Format, EXIT_BAD_USAGE, EXIT_FOUND_ERRORS, EXIT_OK};
use flowc::check::{self, FsLoader};
use flowc::diag::render::{self, TextStyle};

#[derive(Args)]
pub struct CheckArgs {
    /// The .flow files to check (files they `use` are checked too); a folder means the .flow
    /// files directly inside it.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// `text` (miette's report) or `json` (one document on stdout).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// `--deny warnings` makes warnings fail the check.
    #[arg(long, value_enum)]
    deny: Option<Deny>,
    /// A directory (TOML or JSON): the route analysis then lists which creators get nobody at
    /// which node.
    #[arg(long)]
    org: Option<PathBuf>,
    /// Search for example requests up to 1,000 times longer before giving up (W0708): for
    /// workflows of hundreds of nodes; it can take minutes.
    #[arg(long)]
    thorough: bool,
}

pub fn run(mut arguments: CheckArgs) -> u8 {
    arguments.files = expand_folders(&arguments.files);
    let directory = match &arguments.org {
        Some(path) => match flowc::org::MemoryDirectory::load(path) {
            Ok(directory) => Some(directory),
            Err(error) => {
                Failure::in_file(format!("cannot load the directory `{}`: {error}", path.display()), path)
                    .report(arguments.format);
                return EXIT_BAD_USAGE;
            }
        },
        None => None,
    };
    let options = flowc::analysis::Options {
        org: directory.as_ref(),
        examples_budget: arguments.thorough.then_some(flowc::analysis::THOROUGH),
    };
    let analysis = flowc::analysis::check_paths_with(&arguments.files, &FsLoader, &options);
    if let Some((first, _)) = analysis.unreadable.first() {
        let lines: Vec<String> = analysis
            .unreadable
            .iter()
            .map(|(path, reason)| format!("cannot read `{}`: {reason}", path.display()))
            .collect();
        match arguments.format {
            Format::Json => Failure::in_file(lines.join("\n"), first).report(Format::Json),
            Format::Text => {
                for line in lines {
                    eprintln!("error: {line}");
                }
            }
        }
        return EXIT_BAD_USAGE;
    }
    let errors = analysis.error_count();
    let warnings = analysis.warning_count();
    let failed = errors > 0 || (arguments.deny == Some(Deny::Warnings) && warnings > 0);
    match arguments.format {
        Format::Json => {
            let document = JsonReport {
                analysis: &analysis,
                files: arguments.files.iter().map(|path| path.display().to_string()).collect(),
                errors,
                warnings,
                ok: !failed,
            };
            // Buffered: stdout is line-buffered, and a syscall per line of
            // pretty JSON cost more than the check on files full of errors.
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            let _ = serde_json::to_writer_pretty(&mut stdout, &document);
            let _ = writeln!(stdout);
            let _ = stdout.flush();
        }
        Format::Text => {
            let style = TextStyle { color: use_color(), width: terminal_width() };
            let mut stderr = std::io::BufWriter::new(std::io::stderr().lock());
            for diagnostic in &analysis.diagnostics {
                let _ = write!(stderr, "{}", render::to_text(diagnostic, &analysis.sources, style));
                let _ = writeln!(stderr);
            }
            let files = arguments.files.len();
            let plural = |count: usize, word: &str| format!("{count} {word}{}", if count == 1 { "" } else { "s" });
            let summary =
                format!("{}, {} in {}", plural(errors, "error"), plural(warnings, "warning"), plural(files, "file"));
            let _ = writeln!(stderr, "{}: {summary}", if failed { "check failed" } else { "check passed" });
            let _ = stderr.flush();
        }
    }
    // The process ends now: freeing the trees and the index piece by piece
    // would cost a third of a large check, and the OS frees it all at once.
    std::mem::forget(analysis);
    std::mem::forget(directory);
    if failed {
        EXIT_FOUND_ERRORS
    } else {
        EXIT_OK
    }
}

/// The `--format json` document, serialized as it is written: one
/// diagnostic's JSON exists at a time (a tree of the whole document took
/// about 2 KB a diagnostic: a gigabyte for a 10 MB file of warnings). Keys
/// in alphabetical order, as printed since the first version.
struct JsonReport<'a> {
    analysis: &'a check::Analysis,
    files: Vec<String>,
    errors: usize,
    warnings: usize,
    ok: bool,
}

impl serde::Serialize for JsonReport<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("diagnostics", &JsonDiagnostics(self.analysis))?;
        map.serialize_entry("errors", &self.errors)?;
        map.serialize_entry("files", &self.files)?;
        map.serialize_entry("ok", &self.ok)?;
        map.serialize_entry("warnings", &self.warnings)?;
        map.end()
    }
}

struct JsonDiagnostics<'a>(&'a check::Analysis);

impl serde::Serialize for JsonDiagnostics<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Through a `Value` one at a time, which sorts each one's keys.
        serializer.collect_seq(self.0.diagnostics.iter().map(|diagnostic| {
            serde_json::to_value(render::to_json(diagnostic, &self.0.sources)).unwrap_or(serde_json::Value::Null)
        }))
    }
}

/// A folder stands for the .flow files directly inside it, in name order; a
/// folder with none stays as it is, so it is reported as unreadable.
fn expand_folders(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for path in paths {
        let mut flows: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(entries) if path.is_dir() => entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| file.is_file() && file.extension().is_some_and(|extension| extension == "flow"))
                .collect(),
            _ => Vec::new(),
        };
        if flows.is_empty() {
            out.push(path.clone());
        } else {
            flows.sort();
            out.extend(flows);
        }
    }
    out
}

fn terminal_width() -> usize {
    std::env::var("COLUMNS").ok().and_then(|columns| columns.parse().ok()).unwrap_or(100)
}
