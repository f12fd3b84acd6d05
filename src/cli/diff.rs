//! `flowc diff OLD.flow NEW.flow [--org FILE] [--thorough] [--format text|json]`: the
//! requests that route differently between two versions of a program, node
//! by node, each shown by a request run through both. Exit statuses as
//! `diff(1)`'s: 0 no behavioural change, 1 changes found, 2 bad usage or
//! an input that cannot be read or does not check.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{use_color, Failure, Format, EXIT_BAD_USAGE, EXIT_OK};
use flowc::analysis::diff::{describe_outcome, describe_region, Diff, Status};
use flowc::check::{self, Analysis, FsLoader};
use flowc::diag::render::{self, TextStyle};

/// Changes found (diff(1)'s 1).
const EXIT_CHANGED: u8 = 1;

#[derive(Args)]
pub struct DiffArgs {
    /// The version in use.
    old: PathBuf,
    /// The version to deploy.
    new: PathBuf,
    /// A directory (TOML or JSON): operators are compared for its people, and examples run against it.
    #[arg(long)]
    org: Option<PathBuf>,
    /// `text` (node by node) or `json` (one document on stdout).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Search for example requests up to 1,000 times longer before a difference is left without
    /// one; it can take minutes on a large workflow.
    #[arg(long)]
    thorough: bool,
}

pub fn run(arguments: DiffArgs) -> u8 {
    let old = check::check_paths(std::slice::from_ref(&arguments.old), &FsLoader);
    let new = check::check_paths(std::slice::from_ref(&arguments.new), &FsLoader);
    for (analysis, path) in [(&old, &arguments.old), (&new, &arguments.new)] {
        if let Some(status) = refuse(analysis, path, arguments.format) {
            return status;
        }
    }
    let directory = match &arguments.org {
        Some(path) => match flowc::org::MemoryDirectory::load(path) {
            Ok(directory) => Some(directory),
            Err(error) => {
                Failure::in_file(format!("cannot load the directory: {error}"), path).report(arguments.format);
                return EXIT_BAD_USAGE;
            }
        },
        None => None,
    };
    let options = flowc::analysis::Options {
        org: directory.as_ref(),
        examples_budget: arguments.thorough.then_some(flowc::analysis::THOROUGH),
    };
    let Some(diff) = flowc::analysis::diff::diff_with(&old, &new, &options) else {
        Failure::from("the two versions could not be compiled for comparison").report(arguments.format);
        return EXIT_BAD_USAGE;
    };
    let mut stdout = std::io::stdout().lock();
    match arguments.format {
        Format::Json => {
            let document = serde_json::json!({
                "status": if diff.changed() { "changed" } else { "same" },
                "workflows": diff.workflows,
            });
            let _ = serde_json::to_writer_pretty(&mut stdout, &document);
            let _ = writeln!(stdout);
        }
        Format::Text => {
            let _ = write!(stdout, "{}", text(&diff));
        }
    }
    if diff.changed() {
        EXIT_CHANGED
    } else {
        EXIT_OK
    }
}

/// An input that cannot be read or has errors: its diagnostics, and exit 2.
fn refuse(analysis: &Analysis, path: &std::path::Path, format: Format) -> Option<u8> {
    if let Some((path, reason)) = analysis.unreadable.first() {
        Failure::in_file(format!("cannot read `{}`: {reason}", path.display()), path).report(format);
        return Some(EXIT_BAD_USAGE);
    }
    if analysis.error_count() == 0 {
        return None;
    }
    let style = TextStyle { color: use_color(), width: 100 };
    let mut stderr = std::io::stderr().lock();
    for diagnostic in analysis.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()) {
        let _ = writeln!(stderr, "{}", render::to_text(diagnostic, &analysis.sources, style));
    }
    let message = format!("`{}` has {} errors; nothing was compared", path.display(), analysis.error_count());
    match format {
        Format::Json => Failure::in_file(message, path).report(format),
        Format::Text => {
            let _ = writeln!(stderr, "diff: {message}");
        }
    }
    Some(EXIT_BAD_USAGE)
}

/// The diff as text: per workflow, per node, each difference with its requests and example.
fn text(diff: &Diff) -> String {
    let mut out = String::new();
    let mut differences = 0usize;
    let mut uncertain = 0usize;
    for workflow in &diff.workflows {
        match workflow.status {
            Status::Same => {
                out.push_str(&format!("workflow {}: no behavioural change\n", workflow.name));
                continue;
            }
            Status::Added | Status::Removed => {
                let word = if workflow.status == Status::Added { "added" } else { "removed" };
                out.push_str(&format!("workflow {}: {word}\n", workflow.name));
                differences += 1;
                continue;
            }
            Status::Changed => out.push_str(&format!("workflow {}\n", workflow.name)),
        }
        for node in &workflow.nodes {
            match node.status {
                Status::Added => {
                    out.push_str(&format!("\n  node {}: added\n", node.name));
                    differences += 1;
                    continue;
                }
                Status::Removed => {
                    out.push_str(&format!("\n  node {}: removed\n", node.name));
                    differences += 1;
                    continue;
                }
                _ => out.push_str(&format!("\n  node {}\n", node.name)),
            }
            for exit in &node.exits_added {
                out.push_str(&format!("    exit {} -> {}: added\n", exit.name, exit.target));
            }
            for exit in &node.exits_removed {
                out.push_str(&format!("    exit {} -> {}: removed\n", exit.name, exit.target));
            }
            for difference in &node.differences {
                differences += 1;
                let verb = if difference.certain {
                    "routes differently"
                } else {
                    uncertain += 1;
                    "may route differently"
                };
                let what = if difference.kind == "operators" { "operators" } else { "exit" };
                out.push_str(&format!("    {what}: {}: {verb}\n", describe_region(&difference.region)));
                out.push_str(&format!("      old: {}\n", describe_outcome(&difference.old)));
                out.push_str(&format!("      new: {}\n", describe_outcome(&difference.new)));
                if let Some(example) = &difference.example {
                    let values: Vec<String> =
                        example.values.iter().map(|(name, value)| format!("{name} = {value}")).collect();
                    let mut line = if values.is_empty() { "any request".to_owned() } else { values.join(", ") };
                    if let Some(creator) = &example.trace.creator {
                        line.push_str(&format!(", created by {creator}"));
                    }
                    out.push_str(&format!("      for example: {line}\n"));
                }
                if let Some(reason) = &difference.reason {
                    out.push_str(&format!("      may differ: {reason}\n"));
                }
            }
        }
    }
    if diff.changed() {
        let plural = if differences == 1 { "" } else { "s" };
        let undecided = if uncertain > 0 { format!(" ({uncertain} may differ)") } else { String::new() };
        out.push_str(&format!("\n{differences} change{plural}{undecided}\n"));
    } else {
        out.push_str("\nno behavioural change\n");
    }
    out
}
