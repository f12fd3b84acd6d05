//! Document symbols (forms › fields › details, workflows › nodes › exits),
//! semantic tokens and folding ranges.

use lsp_types as lsp;

use super::convert::range;
use crate::check::index::SymbolKind as Kind;
use crate::check::types::FIELD_TYPE_NAMES;
use crate::check::Analysis;
use crate::source::{FileId, SourceFile, Span};
use crate::syntax::ast::*;
use crate::syntax::lexer::{self, TokenKind};

#[allow(deprecated)] // `deprecated` is a required field of DocumentSymbol
fn symbol(
    source: &SourceFile,
    name: &str,
    detail: Option<String>,
    kind: lsp::SymbolKind,
    whole: Span,
    name_span: Span,
    children: Vec<lsp::DocumentSymbol>,
) -> lsp::DocumentSymbol {
    let whole = whole.to(name_span);
    lsp::DocumentSymbol {
        name: if name.is_empty() { "?".into() } else { name.to_string() },
        detail,
        kind,
        tags: None,
        deprecated: None,
        range: range(source, whole.start as usize, whole.end as usize),
        selection_range: range(source, name_span.start as usize, name_span.end as usize),
        children: if children.is_empty() { None } else { Some(children) },
    }
}

fn field_symbol(source: &SourceFile, field: &FieldDecl) -> lsp::DocumentSymbol {
    let detail = Some(match &field.label {
        Some(label) => format!("{} “{}”", field.ty.name.name, label.value),
        None => field.ty.name.name.clone(),
    });
    symbol(source, &field.name.name, detail, lsp::SymbolKind::FIELD, field.span, field.name.span, Vec::new())
}

pub fn document_symbols(analysis: &Analysis, file: FileId) -> Vec<lsp::DocumentSymbol> {
    let Some(source) = analysis.sources.get(file) else { return Vec::new() };
    let mut symbols = Vec::new();
    for item in super::decls::items(analysis, file) {
        match item {
            Item::Use(_) => {}
            Item::Test(test) => symbols.push(symbol(
                source,
                &test.name.name,
                test.label.as_ref().map(|label| label.value.clone()),
                lsp::SymbolKind::METHOD,
                test.span,
                test.name.span,
                Vec::new(),
            )),
            Item::Const(constant) => symbols.push(symbol(
                source,
                &constant.name.name,
                None,
                lsp::SymbolKind::CONSTANT,
                constant.span,
                constant.name.span,
                Vec::new(),
            )),
            Item::Fn(function) => symbols.push(symbol(
                source,
                &function.name.name,
                Some(format!("-> {}", function.ret.name.name)),
                lsp::SymbolKind::FUNCTION,
                function.span,
                function.name.span,
                Vec::new(),
            )),
            Item::Form(form) => {
                let children = form
                    .members
                    .iter()
                    .filter_map(|member| match member {
                        FormMember::Field(field) => Some(field_symbol(source, field)),
                        FormMember::Detail(detail) => Some(symbol(
                            source,
                            &detail.name.name,
                            Some("detail".into()),
                            lsp::SymbolKind::STRUCT,
                            detail.span,
                            detail.name.span,
                            detail.fields.iter().map(|field| field_symbol(source, field)).collect(),
                        )),
                        FormMember::Validate(_) => None,
                    })
                    .collect();
                let label = form.label.as_ref().map(|label| label.value.clone());
                symbols.push(symbol(
                    source,
                    &form.name.name,
                    label,
                    lsp::SymbolKind::CLASS,
                    form.span,
                    form.name.span,
                    children,
                ));
            }
            Item::Workflow(workflow) => {
                let children = workflow
                    .nodes
                    .iter()
                    .map(|node| {
                        let exits = node
                            .exits
                            .iter()
                            .map(|exit| {
                                let word = match (exit.kind, exit.fork) {
                                    (ExitKind::Return, _) => "return",
                                    (ExitKind::Exit, Some(_)) => "fork",
                                    (ExitKind::Exit, None) => "exit",
                                };
                                symbol(
                                    source,
                                    &exit.name.name,
                                    Some(format!("{word} -> {}", exit.target.name)),
                                    lsp::SymbolKind::EVENT,
                                    exit.span,
                                    exit.name.span,
                                    Vec::new(),
                                )
                            })
                            .collect();
                        symbol(
                            source,
                            &node.name.name,
                            Some(node.kind.name.clone()),
                            lsp::SymbolKind::METHOD,
                            node.span,
                            node.name.span,
                            exits,
                        )
                    })
                    .collect();
                let label = workflow.label.as_ref().map(|label| label.value.clone());
                symbols.push(symbol(
                    source,
                    &workflow.name.name,
                    label,
                    lsp::SymbolKind::MODULE,
                    workflow.span,
                    workflow.name.span,
                    children,
                ));
            }
        }
    }
    symbols
}

/// The semantic token types, in the order of the legend.
pub const TOKEN_TYPES: &[lsp::SemanticTokenType] = &[
    lsp::SemanticTokenType::KEYWORD,
    lsp::SemanticTokenType::TYPE,
    lsp::SemanticTokenType::CLASS,
    lsp::SemanticTokenType::NAMESPACE,
    lsp::SemanticTokenType::PROPERTY,
    lsp::SemanticTokenType::FUNCTION,
    lsp::SemanticTokenType::VARIABLE,
    lsp::SemanticTokenType::PARAMETER,
    lsp::SemanticTokenType::EVENT,
    lsp::SemanticTokenType::STRING,
    lsp::SemanticTokenType::NUMBER,
    lsp::SemanticTokenType::COMMENT,
    lsp::SemanticTokenType::OPERATOR,
    lsp::SemanticTokenType::STRUCT,
    lsp::SemanticTokenType::ENUM_MEMBER,
];

pub const TOKEN_MODIFIERS: &[lsp::SemanticTokenModifier] = &[
    lsp::SemanticTokenModifier::DECLARATION,
    lsp::SemanticTokenModifier::DEFAULT_LIBRARY,
    lsp::SemanticTokenModifier::DOCUMENTATION,
];

const KEYWORD: u32 = 0;
const TYPE: u32 = 1;
const CLASS: u32 = 2;
const NAMESPACE: u32 = 3;
const PROPERTY: u32 = 4;
const FUNCTION: u32 = 5;
const VARIABLE: u32 = 6;
const PARAMETER: u32 = 7;
const EVENT: u32 = 8;
const STRING: u32 = 9;
const NUMBER: u32 = 10;
const COMMENT: u32 = 11;
const OPERATOR: u32 = 12;
const STRUCT: u32 = 13;
const ENUM_MEMBER: u32 = 14;

/// Words that are keywords only where they stand (docs/language.md §2.4).
const CONTEXTUAL_KEYWORDS: &[&str] = &[
    "create",
    "approve",
    "realize",
    "merge",
    "archive",
    "fork",
    "wait",
    "any",
    "all",
    "sequential",
    "editable",
    "required",
    "hidden",
    "category",
    "title",
    "remind",
    "portal",
    "inactive",
    "supervisors",
    "script",
    "default",
    "folder",
    "html",
    "multiple",
    "sms",
    "email",
];

pub fn semantic_tokens(analysis: &Analysis, file: FileId) -> Vec<lsp::SemanticToken> {
    let Some(source) = analysis.sources.get(file) else { return Vec::new() };
    let text: &str = &source.text;
    let mut kinds: std::collections::HashMap<u32, (u32, u32)> = std::collections::HashMap::new();
    for (site, definition) in &analysis.index.references {
        if site.file != file {
            continue;
        }
        let Some(symbol) = analysis.index.symbols.get(definition) else { continue };
        let kind = match symbol.kind {
            Kind::Form => CLASS,
            Kind::Field => PROPERTY,
            Kind::DetailTable => STRUCT,
            Kind::Workflow => NAMESPACE,
            Kind::Node | Kind::Exit => EVENT,
            Kind::Function | Kind::BuiltinFunction => FUNCTION,
            Kind::Constant | Kind::BuiltinValue => VARIABLE,
            Kind::Parameter => PARAMETER,
            Kind::SelectOption => ENUM_MEMBER,
        };
        let mut modifiers = 0;
        if site == definition {
            modifiers |= 1;
        }
        if symbol.kind.is_builtin() {
            modifiers |= 2;
        }
        kinds.insert(site.span.start, (kind, modifiers));
    }
    let member_starts: std::collections::HashSet<u32> = analysis
        .index
        .members
        .iter()
        .filter(|member| member.at.file == file)
        .map(|member| member.at.span.start)
        .collect();

    let tokens = lexer::tokenize(text);
    let mut previous_significant: Option<TokenKind> = None;
    let mut result = Vec::new();
    let mut last_line = 0u32;
    let mut last_start = 0u32;
    for token in &tokens {
        let word = text.get(token.span.range()).unwrap_or("");
        let classified = match token.kind {
            TokenKind::Whitespace => None,
            TokenKind::LineComment | TokenKind::BlockComment => Some((COMMENT, 0)),
            TokenKind::DocComment => Some((COMMENT, 4)),
            TokenKind::String | TokenKind::UnterminatedString => Some((STRING, 0)),
            TokenKind::Number => Some((NUMBER, 0)),
            TokenKind::Ident => Some(if lexer::is_reserved(word) {
                (KEYWORD, 0)
            } else if let Some(known) = kinds.get(&token.span.start) {
                *known
            } else if member_starts.contains(&token.span.start) {
                (PROPERTY, 2)
            } else if previous_significant == Some(TokenKind::Colon) && FIELD_TYPE_NAMES.contains(&word) {
                (TYPE, 2)
            } else if CONTEXTUAL_KEYWORDS.contains(&word) {
                (KEYWORD, 0)
            } else {
                (VARIABLE, 0)
            }),
            TokenKind::Arrow
            | TokenKind::EqEq
            | TokenKind::NotEq
            | TokenKind::Le
            | TokenKind::Ge
            | TokenKind::Lt
            | TokenKind::Gt
            | TokenKind::Assign
            | TokenKind::Plus
            | TokenKind::Minus
            | TokenKind::Star
            | TokenKind::Slash
            | TokenKind::Percent => Some((OPERATOR, 0)),
            _ => None,
        };
        if !token.kind.is_trivia() {
            previous_significant = Some(token.kind);
        }
        let Some((kind, modifiers)) = classified else { continue };
        // One token per line: editors do not all accept multi-line tokens.
        let mut start = token.span.start as usize;
        let end = token.span.end as usize;
        while start < end {
            let line_end = text.get(start..end).and_then(|rest| rest.find('\n')).map_or(end, |index| start + index);
            if line_end > start {
                let (line, column) = source.utf16_position(start);
                let length = text.get(start..line_end).map_or(0, |piece| piece.encode_utf16().count());
                let (line, column) = (line as u32, column as u32);
                let delta_line = line - last_line;
                let delta_start = if delta_line == 0 { column - last_start } else { column };
                result.push(lsp::SemanticToken {
                    delta_line,
                    delta_start,
                    length: length as u32,
                    token_type: kind,
                    token_modifiers_bitset: modifiers,
                });
                last_line = line;
                last_start = column;
            }
            start = line_end + 1;
        }
    }
    result
}

pub fn folding_ranges(analysis: &Analysis, file: FileId) -> Vec<lsp::FoldingRange> {
    let Some(source) = analysis.sources.get(file) else { return Vec::new() };
    let text: &str = &source.text;
    let tokens = lexer::tokenize(text);
    let line_of = |offset: u32| source.utf16_position(offset as usize).0 as u32;
    let mut ranges = Vec::new();
    let mut open: Vec<u32> = Vec::new();
    let mut comment_run: Option<(u32, u32)> = None;
    for token in &tokens {
        match token.kind {
            TokenKind::LBrace => open.push(token.span.start),
            TokenKind::RBrace => {
                if let Some(start) = open.pop() {
                    let (start_line, end_line) = (line_of(start), line_of(token.span.start));
                    if end_line > start_line {
                        ranges.push(lsp::FoldingRange {
                            start_line,
                            end_line: end_line - 1,
                            ..lsp::FoldingRange::default()
                        });
                    }
                }
            }
            TokenKind::BlockComment => {
                let (start_line, end_line) = (line_of(token.span.start), line_of(token.span.end));
                if end_line > start_line {
                    ranges.push(lsp::FoldingRange {
                        start_line,
                        end_line,
                        kind: Some(lsp::FoldingRangeKind::Comment),
                        ..lsp::FoldingRange::default()
                    });
                }
            }
            _ => {}
        }
        if matches!(token.kind, TokenKind::LineComment | TokenKind::DocComment) {
            let line = line_of(token.span.start);
            comment_run = match comment_run {
                Some((start, end)) if end + 1 == line => Some((start, line)),
                other => {
                    push_comment_run(&mut ranges, other);
                    Some((line, line))
                }
            };
        } else if !matches!(token.kind, TokenKind::Whitespace) {
            push_comment_run(&mut ranges, comment_run.take());
        }
    }
    push_comment_run(&mut ranges, comment_run);
    ranges
}

fn push_comment_run(ranges: &mut Vec<lsp::FoldingRange>, run: Option<(u32, u32)>) {
    if let Some((start_line, end_line)) = run {
        if end_line > start_line {
            ranges.push(lsp::FoldingRange {
                start_line,
                end_line,
                kind: Some(lsp::FoldingRangeKind::Comment),
                ..lsp::FoldingRange::default()
            });
        }
    }
}
