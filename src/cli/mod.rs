//! The command line: clap arguments, reading files, printing reports and
//! choosing the exit status (runtime.md §1). Everything else is library.

mod build;
mod check;
mod fmt;
mod lsp;
mod routes;
mod run;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "flowc", version, about = "Approval workflows as code: check and run .flow files")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse and check .flow files, printing every diagnostic.
    Check(check::CheckArgs),
    /// Run requests through a workflow: create one, apply actions, print the trace.
    Run(run::RunArgs),
    /// Check and compile a .flow file; print the IR (`--emit ir`).
    Build(build::BuildArgs),
    /// Print each node's decision regions: which requests take which exit, and its operators'.
    Routes(routes::RoutesArgs),
    /// Format .flow files in place, or with `--check` report the ones that are not formatted.
    Fmt(fmt::FmtArgs),
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

/// Exit statuses of runtime.md §1.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FOUND_ERRORS: u8 = 1;
pub const EXIT_BAD_USAGE: u8 = 2;

/// Runs the CLI; the work happens on a thread with a large stack so that
/// deeply nested (but accepted) input cannot overflow it.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() { EXIT_BAD_USAGE } else { EXIT_OK });
        }
    };
    let worker = std::thread::Builder::new().stack_size(256 * 1024 * 1024).spawn(move || match cli.command {
        Command::Check(arguments) => check::run(arguments),
        Command::Build(arguments) => build::run(arguments),
        Command::Routes(arguments) => routes::run(arguments),
        Command::Run(arguments) => run::run(arguments),
        Command::Fmt(arguments) => fmt::run(arguments),
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
