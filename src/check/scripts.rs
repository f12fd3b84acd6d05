//! `script "x.rhai"` paths (W0112, E0113, E0114). The checker does not read
//! scripts (the runtime compiles them), but it asks the loader where each one
//! is, without reading it: a path that leaves the workflow's folder, a file
//! that is missing, or one that is not a regular file of at most the script
//! size limit is a mistake worth showing as the analyst types, not only when
//! `flowc run` starts.

use super::modules::{Loader, Module};
use crate::diag::{Code, Diagnostic};
use crate::input_file::{FileKind, Problem, ScriptProblem};
use crate::source::{FileId, Span};
use crate::syntax::ast::{Block, Item, Statement};

/// A diagnostic for each script statement whose file cannot be used.
pub fn script_file_problems(modules: &[Module], loader: &dyn Loader) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for module in modules.iter().filter(|module| !module.is_prelude) {
        let Some(dir) = &module.dir else { continue };
        for item in &module.ast.items {
            let Item::Workflow(workflow) = item else { continue };
            for node in &workflow.nodes {
                let blocks = node
                    .before
                    .iter()
                    .chain(&node.after)
                    .chain(node.exits.iter().filter_map(|exit| exit.block.as_ref()));
                for block in blocks {
                    visit(block, &mut |path, span| {
                        if let Err(problem) = loader.find_script(dir, path) {
                            out.extend(diagnostic(&problem, path, module.file, span));
                        }
                    });
                }
            }
        }
    }
    out
}

/// The diagnostic for a script that cannot be used; the message quotes the path as written,
/// never where it leads.
fn diagnostic(problem: &ScriptProblem, path: &str, file: FileId, span: Span) -> Option<Diagnostic> {
    let diagnostic = match problem {
        ScriptProblem::Outside(error) => {
            Diagnostic::in_file(Code::E0113, error.message(path), file, span, "outside the folder of this .flow file")
                .with_help(
                    "script paths are relative to the .flow file that names them and stay inside its folder; \
                     put the script there, e.g. `scripts/ledger.rhai`",
                )
        }
        ScriptProblem::File(error) => match &error.problem {
            Problem::Missing => Diagnostic::in_file(
                Code::W0112,
                format!("script file `{path}` not found"),
                file,
                span,
                format!("no file at {}", error.path.display()),
            )
            .with_help("script paths are relative to the .flow file that names them"),
            Problem::NotRegular(_) | Problem::TooLarge { .. } => Diagnostic::in_file(
                Code::E0114,
                format!("script `{path}` cannot be used: {}", error.problem),
                file,
                span,
                "this script",
            )
            .with_help(format!("a script is a regular file of at most {} MiB", FileKind::Script.limit() >> 20)),
            // Unreadable for another reason (permissions): `flowc run` says so when it reads it.
            Problem::NotUtf8 | Problem::Other(_) => return None,
        },
    };
    Some(diagnostic)
}

fn visit(block: &Block, found: &mut dyn FnMut(&str, Span)) {
    for statement in &block.statements {
        match statement {
            Statement::Script { path, .. } => found(&path.value, path.span),
            Statement::If { branches, else_block, .. } => {
                for (_, branch) in branches {
                    visit(branch, found);
                }
                if let Some(block) = else_block {
                    visit(block, found);
                }
            }
            Statement::Assign { .. } => {}
        }
    }
}
