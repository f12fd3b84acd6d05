//! Quick fixes from did-you-mean suggestions, and whole-document
//! formatting with `flowc fmt`'s formatter.

use std::collections::HashMap;

use lsp_types as lsp;

use super::server::Server;
use crate::source::SourceFile;

/// Each diagnostic in the request that carries a suggestion becomes a
/// "replace with …" fix (the suggestion travels in the diagnostic's `data`).
pub fn quick_fixes(params: &lsp::CodeActionParams) -> Vec<lsp::CodeActionOrCommand> {
    params
        .context
        .diagnostics
        .iter()
        .filter_map(|diagnostic| {
            let data = diagnostic.data.as_ref()?;
            let replacement = data.get("replacement")?.as_str()?.to_string();
            let title = data.get("title").and_then(|title| title.as_str()).unwrap_or("apply suggestion").to_string();
            let edit = lsp::TextEdit { range: diagnostic.range, new_text: replacement };
            let changes = HashMap::from([(params.text_document.uri.clone(), vec![edit])]);
            Some(lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
                title,
                kind: Some(lsp::CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![diagnostic.clone()]),
                edit: Some(lsp::WorkspaceEdit { changes: Some(changes), ..lsp::WorkspaceEdit::default() }),
                is_preferred: Some(true),
                ..lsp::CodeAction::default()
            }))
        })
        .collect()
}

/// One edit replacing the whole document, or none when it is formatted.
pub fn format_document(server: &Server, uri: &lsp::Url) -> Option<Vec<lsp::TextEdit>> {
    let document = server.document(uri)?;
    let formatted = crate::format::format(&document.text);
    if formatted == document.text {
        return Some(Vec::new());
    }
    let file = SourceFile::new("", None, document.text.as_str());
    let range = super::convert::range(&file, 0, document.text.len());
    Some(vec![lsp::TextEdit { range, new_text: formatted }])
}
