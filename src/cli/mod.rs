//! The command line: clap arguments, reading files, printing reports and
//! choosing the exit status (docs/runtime.md §1.6). Everything else is library.

mod build;
mod check;
mod diff;
mod fmt;
mod graph;
mod lsp;
mod print;
mod routes;
mod run;
mod state_file;
mod test;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// The library's commands; the binary flattens them into its own list (crates/cli).
#[derive(Subcommand)]
pub enum Command {
    /// Parse and check .flow files, printing every diagnostic.
    Check(check::CheckArgs),
    /// Run requests through a workflow: create one, apply actions, print the trace.
    Run(run::RunArgs),
    /// Check and compile a .flow file; print the IR (`--emit ir`).
    Build(build::BuildArgs),
    /// Print each node's decision regions: which requests take which exit, and its operators'.
    Routes(routes::RoutesArgs),
    /// List the requests that route differently between two versions (exit 0: none, 1: some, 2: trouble).
    Diff(diff::DiffArgs),
    /// Format .flow files in place, or with `--check` report the ones that are not formatted.
    Fmt(fmt::FmtArgs),
    /// Draw a workflow's route (SVG, PNG, HTML, Mermaid, DOT), with a run's path or test coverage over it.
    Graph(graph::GraphArgs),
    /// Run the `test` items and folder cases under the paths; optionally report route coverage.
    Test(test::TestArgs),
    /// Run the language server (LSP over stdio) for editors.
    Lsp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    Warnings,
}

/// Exit statuses of docs/runtime.md §1.6.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FOUND_ERRORS: u8 = 1;
pub const EXIT_BAD_USAGE: u8 = 2;

/// Parses the command line into `P` (the binary's top-level parser), or prints why it cannot
/// and returns the exit status to stop with: clap's message, or under `--format json` the
/// error document.
pub fn parse<P: Parser>() -> Result<P, ExitCode> {
    match P::try_parse() {
        Ok(cli) => Ok(cli),
        Err(error) if error.use_stderr() && json_on_command_line() => {
            // The command line could not be understood, but it asked for JSON: the error
            // document, with clap's first line as the message and the rest as help.
            let rendered = error.render().to_string();
            let mut lines = rendered.trim().lines();
            let first = lines.next().unwrap_or("bad usage");
            let message = first.strip_prefix("error: ").unwrap_or(first).to_owned();
            let help = lines.collect::<Vec<_>>().join("\n").trim().to_owned();
            let failure = Failure { message, file: None, code: None, help: Some(help).filter(|help| !help.is_empty()) };
            print_json(&failure.document());
            Err(ExitCode::from(EXIT_BAD_USAGE))
        }
        Err(error) => {
            let _ = error.print();
            Err(ExitCode::from(if error.use_stderr() { EXIT_BAD_USAGE } else { EXIT_OK }))
        }
    }
}

/// Runs one of the library's commands; the work happens on a thread with a large stack so
/// that deeply nested (but accepted) input cannot overflow it.
pub fn run(command: Command) -> ExitCode {
    let worker = std::thread::Builder::new().stack_size(256 * 1024 * 1024).spawn(move || match command {
        Command::Check(arguments) => check::run(arguments),
        Command::Build(arguments) => build::run(arguments),
        Command::Routes(arguments) => routes::run(arguments),
        Command::Diff(arguments) => diff::run(arguments),
        Command::Run(arguments) => run::run(arguments),
        Command::Fmt(arguments) => fmt::run(arguments),
        Command::Graph(arguments) => graph::run(arguments),
        Command::Test(arguments) => test::run(arguments),
        Command::Lsp => lsp::run(),
    });
    let status = match worker.map(|handle| handle.join()) {
        Ok(Ok(status)) => status,
        _ => {
            eprintln!("error: flowc stopped unexpectedly; please report this with the input that caused it");
            EXIT_BAD_USAGE
        }
    };
    ExitCode::from(status)
}

/// Whether to colour output written to stderr.
pub fn use_color() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Whether `--format json` (or `--format=json`) is anywhere on the command line, for a usage
/// error found before the arguments could be parsed.
fn json_on_command_line() -> bool {
    let arguments: Vec<String> = std::env::args_os().map(|argument| argument.to_string_lossy().into_owned()).collect();
    arguments.iter().any(|argument| argument == "--format=json")
        || arguments.windows(2).any(|pair| matches!(pair, [option, value] if option == "--format" && value == "json"))
}

/// Why a command stopped before it had its own report to print: bad usage, or an input file
/// that cannot be read or parsed (exit 2). Shown as `error: …` on stderr, or under
/// `--format json` as the error document (docs/runtime.md, "The error document").
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    /// The input file at fault, when there is one.
    pub file: Option<PathBuf>,
    /// A diagnostic code (`R0502`), when the error has one.
    pub code: Option<String>,
    pub help: Option<String>,
}

impl Failure {
    pub fn in_file(message: impl Into<String>, file: &Path) -> Failure {
        Failure { message: message.into(), file: Some(file.to_path_buf()), code: None, help: None }
    }

    /// The error document of this failure.
    pub fn document(&self) -> serde_json::Value {
        error_document(
            self.code.as_deref(),
            &self.message,
            self.help.as_deref(),
            self.file.as_deref(),
            serde_json::Value::Null,
        )
    }

    /// Prints the failure in `format`: text on stderr, or the error document on stdout.
    pub fn report(&self, format: Format) {
        match format {
            Format::Json => print_json(&self.document()),
            Format::Text => {
                let code = self.code.as_ref().map(|code| format!("[{code}]")).unwrap_or_default();
                let help = self.help.as_ref().map(|help| format!("\n  help: {help}")).unwrap_or_default();
                // The message may quote an input (a file name, a value): never raw control characters.
                eprintln!(
                    "{}",
                    flowc::diag::terminal::escape_controls(&format!("error{code}: {}{help}", self.message))
                );
            }
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { message, file: None, code: None, help: None }
    }
}

impl From<&str> for Failure {
    fn from(message: &str) -> Failure {
        Failure::from(message.to_owned())
    }
}

impl From<flowc::input_file::FileError> for Failure {
    fn from(error: flowc::input_file::FileError) -> Failure {
        Failure::in_file(error.to_string(), &error.path)
    }
}

/// The error document: what every command prints under `--format json` when it stops on an
/// error before its own report (exit 2, and exit 1 for `run`'s errors before any action). One
/// shape for all of them, described in docs/runtime.md: `status` is `"error"`, and `error`
/// holds `code` (a diagnostic code or null), `message`, `help`, `file` (the input file at
/// fault or null) and `diagnostic` (the error as a check diagnostic, when it points into a
/// `.flow` file, or null).
pub fn error_document(
    code: Option<&str>,
    message: &str,
    help: Option<&str>,
    file: Option<&Path>,
    diagnostic: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "status": "error",
        "error": {
            "code": code,
            "message": message,
            "help": help,
            "file": file.map(|file| file.display().to_string()),
            "diagnostic": diagnostic,
        },
    })
}

/// Prints one JSON document on stdout.
pub fn print_json(document: &serde_json::Value) {
    let mut stdout = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut stdout, document);
    let _ = writeln!(stdout);
}
