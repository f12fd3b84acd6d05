//! The `flowc` binary: the library's commands (`flowc::cli`) and the service's
//! (`flowc-serve`) in one command line. It parses and dispatches; the work is elsewhere.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "flowc", version, about = "Approval workflows as code: check and run .flow files")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    #[command(flatten)]
    Library(flowc::cli::Command),
    /// Serve a folder's workflows over HTTP, requests kept in SQLite or PostgreSQL (`serve token create` issues tokens).
    Serve(flowc_serve::cli::ServeArgs),
    /// Counts, node durations and the requests waiting longest, from a service's database.
    Report(flowc_serve::cli::ReportArgs),
}

fn main() -> ExitCode {
    let cli = match flowc::cli::parse::<Cli>() {
        Ok(cli) => cli,
        Err(status) => return status,
    };
    match cli.command {
        Command::Library(command) => flowc::cli::run(command),
        Command::Serve(arguments) => flowc_serve::cli::serve(arguments),
        Command::Report(arguments) => flowc_serve::cli::report(arguments),
    }
}

/// The CLI allocates and frees millions of small objects on big inputs (trees, JSON, form
/// rows); mimalloc does that faster than the system allocator (crates/alloc says how it is
/// called). The library leaves the choice to its host.
#[global_allocator]
static ALLOCATOR: flowc_alloc::Mimalloc = flowc_alloc::Mimalloc;
