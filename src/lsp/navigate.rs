//! Go to definition, find references and rename: all from the checker's
//! index, so they follow the same resolution as the diagnostics.

use std::collections::HashMap;

use lsp_types as lsp;

use super::server::Server;
use crate::syntax::lexer;

pub fn definition(server: &Server, uri: &lsp::Url, position: lsp::Position) -> Option<lsp::Location> {
    let (analysis, file, offset) = server.locate(uri, position)?;
    let (_, symbol) = analysis.index.symbol_at(file, offset)?;
    server.location(analysis, symbol.at)
}

pub fn references(
    server: &Server,
    uri: &lsp::Url,
    position: lsp::Position,
    include_declaration: bool,
) -> Vec<lsp::Location> {
    let Some((analysis, file, offset)) = server.locate(uri, position) else { return Vec::new() };
    let Some((_, symbol)) = analysis.index.symbol_at(file, offset) else { return Vec::new() };
    analysis
        .index
        .occurrences(symbol.at)
        .into_iter()
        .filter(|site| include_declaration || *site != symbol.at)
        .filter_map(|site| server.location(analysis, site))
        .collect()
}

pub fn prepare_rename(server: &Server, uri: &lsp::Url, position: lsp::Position) -> Option<lsp::PrepareRenameResponse> {
    let (analysis, file, offset) = server.locate(uri, position)?;
    let (site, symbol) = analysis.index.symbol_at(file, offset)?;
    if !symbol.kind.is_renamable() {
        return None;
    }
    let source = analysis.sources.get(file)?;
    Some(lsp::PrepareRenameResponse::RangeWithPlaceholder {
        range: super::convert::range(source, site.span.start as usize, site.span.end as usize),
        placeholder: symbol.name.clone(),
    })
}

/// Why a rename is refused.
pub struct RenameError(pub String);

pub fn rename(
    server: &Server,
    uri: &lsp::Url,
    position: lsp::Position,
    new_name: &str,
) -> Result<Option<lsp::WorkspaceEdit>, RenameError> {
    let Some((analysis, file, offset)) = server.locate(uri, position) else { return Ok(None) };
    let Some((_, symbol)) = analysis.index.symbol_at(file, offset) else { return Ok(None) };
    if symbol.kind.is_builtin() {
        return Err(RenameError(format!("`{}` is built in and cannot be renamed", symbol.name)));
    }
    if !symbol.kind.is_renamable() {
        return Err(RenameError(format!("the {} `{}` cannot be renamed here", symbol.kind.describe(), symbol.name)));
    }
    if !is_identifier(new_name) {
        return Err(RenameError(format!("`{new_name}` is not a valid name")));
    }
    if new_name != symbol.name {
        let clash = analysis.index.symbols.values().find(|other| {
            other.name == new_name
                && other.container == symbol.container
                && namespace(other.kind) == namespace(symbol.kind)
        });
        if let Some(clash) = clash {
            return Err(RenameError(format!("there is already a {} named `{new_name}` here", clash.kind.describe())));
        }
    }
    let mut changes: HashMap<lsp::Url, Vec<lsp::TextEdit>> = HashMap::new();
    for site in analysis.index.occurrences(symbol.at) {
        let Some(location) = server.location(analysis, site) else { continue };
        changes
            .entry(location.uri)
            .or_default()
            .push(lsp::TextEdit { range: location.range, new_text: new_name.to_string() });
    }
    Ok(Some(lsp::WorkspaceEdit { changes: Some(changes), ..lsp::WorkspaceEdit::default() }))
}

/// Names that must differ from one another: a form's fields and detail
/// tables share one namespace; a file's items another.
fn namespace(kind: crate::check::index::SymbolKind) -> u8 {
    use crate::check::index::SymbolKind as Kind;
    match kind {
        Kind::Field | Kind::DetailTable => 0,
        Kind::Node => 1,
        Kind::Exit => 2,
        Kind::Parameter => 3,
        Kind::Form | Kind::Workflow | Kind::Function | Kind::Constant => 4,
        Kind::BuiltinFunction | Kind::BuiltinValue => 5,
        Kind::SelectOption => 6,
    }
}

/// A name the grammar accepts: one identifier token, not a reserved word.
pub fn is_identifier(name: &str) -> bool {
    let tokens = lexer::tokenize(name);
    matches!(tokens.as_slice(), [token] if token.kind == lexer::TokenKind::Ident && token.span.len() == name.len())
        && !lexer::is_reserved(name)
}
