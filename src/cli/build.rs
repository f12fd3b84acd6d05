//! `flowc build FILE --emit ir`: check, lower, and print the compiled
//! program as JSON (for debugging and for hosts that store programs).
//! Exit 0 when it printed, 1 when the program has errors, 2 for bad usage.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{use_color, EXIT_BAD_USAGE, EXIT_FOUND_ERRORS, EXIT_OK};
use flowc::check::{self, FsLoader};
use flowc::diag::render::{self, TextStyle};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Emit {
    /// The IR as pretty-printed JSON.
    Ir,
}

#[derive(Args)]
pub struct BuildArgs {
    /// The .flow file (files it `use`s are included).
    file: PathBuf,
    /// What to print.
    #[arg(long, value_enum, default_value_t = Emit::Ir)]
    emit: Emit,
}

pub fn run(arguments: BuildArgs) -> u8 {
    let analysis = check::check_paths(std::slice::from_ref(&arguments.file), &FsLoader);
    if let Some((path, reason)) = analysis.unreadable.first() {
        eprintln!("error: cannot read `{}`: {reason}", path.display());
        return EXIT_BAD_USAGE;
    }
    if analysis.error_count() > 0 {
        let style = TextStyle { color: use_color(), width: 100 };
        let mut stderr = std::io::stderr().lock();
        for diagnostic in analysis.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()) {
            let _ = writeln!(stderr, "{}", render::to_text(diagnostic, &analysis.sources, style));
        }
        let _ = writeln!(stderr, "build failed: {} errors", analysis.error_count());
        return EXIT_FOUND_ERRORS;
    }
    match (arguments.emit, flowc::ir::lower(&analysis)) {
        (Emit::Ir, Ok(program)) => {
            let mut stdout = std::io::stdout().lock();
            let _ = serde_json::to_writer_pretty(&mut stdout, &program);
            let _ = writeln!(stdout);
            EXIT_OK
        }
        (_, Err(error)) => {
            eprintln!("error: {error}");
            EXIT_FOUND_ERRORS
        }
    }
}
