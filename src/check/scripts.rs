//! `script "x.rhai"` files exist (W0112). The checker does not read scripts
//! (the runtime compiles them), but a path that names no file is a mistake
//! worth showing as the analyst types, not only when a request reaches the node.

use std::io::ErrorKind;

use super::modules::{Loader, Module};
use crate::diag::{Code, Diagnostic};
use crate::syntax::ast::{Block, Item, Statement};

/// A warning for each script statement whose file the loader reports as not found.
pub fn missing_script_files(modules: &[Module], loader: &dyn Loader) -> Vec<Diagnostic> {
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
                        let full = dir.join(path);
                        if let Err(error) = loader.read(&full) {
                            if error.kind() == ErrorKind::NotFound {
                                out.push(
                                    Diagnostic::in_file(
                                        Code::W0112,
                                        format!("script file `{path}` not found"),
                                        module.file,
                                        span,
                                        format!("no file at {}", full.display()),
                                    )
                                    .with_help("script paths are relative to the .flow file that names them"),
                                );
                            }
                        }
                    });
                }
            }
        }
    }
    out
}

fn visit(block: &Block, found: &mut dyn FnMut(&str, crate::source::Span)) {
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
