//! `flowc routes FILE [--node NAME] [--format text|json]`: the decision
//! regions of each node — which requests take which exit, which match none,
//! for which each operator line counts — in the form's own terms. Exit 0
//! when it printed, 1 when the program has errors, 2 for bad usage (an
//! unreadable file, an unknown node).

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::{use_color, Format, EXIT_BAD_USAGE, EXIT_FOUND_ERRORS, EXIT_OK};
use flowc::analysis::regions::{describe, Routes};
use flowc::check::{self, FsLoader};
use flowc::diag::render::{self, TextStyle};

#[derive(Args)]
pub struct RoutesArgs {
    /// The .flow file (files it `use`s are included).
    file: PathBuf,
    /// Only this node (by name).
    #[arg(long)]
    node: Option<String>,
    /// `text` (one block per node) or `json` (one document on stdout).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

pub fn run(arguments: RoutesArgs) -> u8 {
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
        let _ = writeln!(stderr, "routes: the program has {} errors", analysis.error_count());
        return EXIT_FOUND_ERRORS;
    }
    let mut routes = flowc::analysis::routes(&analysis);
    if let Some(name) = &arguments.node {
        for workflow in &mut routes.workflows {
            workflow.nodes.retain(|node| &node.name == name);
        }
        if routes.workflows.iter().all(|workflow| workflow.nodes.is_empty()) {
            eprintln!("error: no node `{name}` in `{}`", arguments.file.display());
            return EXIT_BAD_USAGE;
        }
    }
    let mut stdout = std::io::stdout().lock();
    match arguments.format {
        Format::Json => {
            let _ = serde_json::to_writer_pretty(&mut stdout, &routes);
            let _ = writeln!(stdout);
        }
        Format::Text => {
            let _ = write!(stdout, "{}", text(&routes));
        }
    }
    EXIT_OK
}

/// The routes as text: per node, its exits' regions, the requests matching none, its operators.
fn text(routes: &Routes) -> String {
    let mut out = String::new();
    for workflow in &routes.workflows {
        out.push_str(&format!("workflow {}\n", workflow.name));
        for node in &workflow.nodes {
            out.push_str(&format!("\n  node {} ({})\n", node.name, node.kind));
            if node.kind == "archive" {
                continue;
            }
            if !node.reached {
                out.push_str("    no request reaches this node\n");
                continue;
            }
            for exit in &node.exits {
                out.push_str(&format!("    exit {} -> {}: {}\n", exit.name, exit.target, describe(&exit.region)));
            }
            if !node.exits.is_empty() {
                let stuck = if node.stuck.is_empty() && node.stuck.exact {
                    "none (proved)".to_owned()
                } else {
                    describe(&node.stuck)
                };
                out.push_str(&format!("    no exit: {stuck}\n"));
            }
            for line in &node.operators {
                out.push_str(&format!("    batch {} `{}`: {}\n", line.batch, line.people, describe(&line.region)));
            }
        }
    }
    out
}
