//! `flowc-serve`: the service alone (`flowc serve` without the language's other commands), for
//! a server that only runs workflows. The same arguments as `flowc serve` and `flowc report`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "flowc-serve", version, about = "flowc's workflows as an HTTP service, requests kept in a database")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a folder's workflows over HTTP, requests kept in SQLite or PostgreSQL.
    Serve(flowc_serve::cli::ServeArgs),
    /// Counts, durations and the requests waiting longest, from a service's database.
    Report(flowc_serve::cli::ReportArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(arguments) => flowc_serve::cli::serve(arguments),
        Command::Report(arguments) => flowc_serve::cli::report(arguments),
    }
}
