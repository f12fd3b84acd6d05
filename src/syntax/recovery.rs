//! Parsing in pieces. Every file is parsed one item at a time, and forms
//! and workflows one member (field, detail, node, setting) at a time:
//!
//! - `parse_strict` splits only where the split is certain (item keywords
//!   and members at brace depth 0). It is the fast path: pest's token
//!   queue stays small and its memory is reused, so time stays linear in
//!   the file size. If any piece fails, it gives up and returns `None`.
//! - `parse_with_recovery` also splits where a split is likely (a keyword
//!   at the start of a line, a name at the start of a line), so every
//!   broken piece gets its own diagnostic and every sound piece still
//!   reaches the checker.

use pest::Parser;

use super::ast::{File, FormItem, Ident, Item, WorkflowItem};
use super::errors::{syntax_error, Context};
use super::lexer::{Token, TokenKind};
use super::lower::Lowerer;
use super::{too_deep, FlowParser, Parsed, Rule, MAX_NESTING};
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// Members parsed per pest call on the fast path.
const MEMBERS_PER_CALL: usize = 64;

const ITEM_KEYWORDS: &[&str] = &["use", "const", "fn", "form", "workflow", "test"];
const WORKFLOW_SETTINGS: &[&str] = &["category", "form", "title", "remind", "portal", "inactive", "supervisors"];

/// How sure a split must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    /// Only where no valid file could be split wrongly; any failure aborts.
    Certain,
    /// Also at likely places; failures become diagnostics.
    Likely,
}

/// The fast path for valid files (see the module comment). `significant`
/// holds the file's tokens without trivia.
pub fn parse_strict(file: FileId, text: &str, significant: &[Token]) -> Option<Parsed> {
    let starts = item_starts(text, significant, Split::Certain);
    if starts.first().copied().unwrap_or(significant.len()) != 0 && !significant.is_empty() {
        return None;
    }
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    for (position, &start_index) in starts.iter().enumerate() {
        let end_index = starts.get(position + 1).copied().unwrap_or(significant.len());
        let item_tokens = significant.get(start_index..end_index)?;
        let first = item_tokens.first()?;
        let keyword = text.get(first.span.range()).unwrap_or("");
        if matches!(keyword, "form" | "workflow") {
            items.push(parse_members(file, text, item_tokens, keyword, Split::Certain, &mut diagnostics)?);
        } else {
            let last = item_tokens.last()?;
            let chunk_start = first.span.start as usize;
            let chunk = text.get(chunk_start..last.span.end as usize)?;
            let pairs = FlowParser::parse(Rule::item_alone, chunk).ok()?;
            let lowerer = Lowerer::new(file, text, chunk_start);
            items.extend(lowerer.items(pairs));
            diagnostics.extend(lowerer.diagnostics.into_inner());
        }
    }
    Some(Parsed { file: File { items, incomplete: false }, diagnostics })
}

pub fn parse_with_recovery(file: FileId, text: &str, tokens: &[Token]) -> Parsed {
    let significant: Vec<Token> = tokens.iter().copied().filter(|token| !token.kind.is_trivia()).collect();
    let mut diagnostics = Vec::new();
    let mut items = Vec::new();
    let mut incomplete = false;
    let starts = item_starts(text, &significant, Split::Likely);

    // Anything before the first item is not part of any item.
    let first_start = starts.first().copied().unwrap_or(significant.len());
    if first_start > 0 {
        incomplete = true;
        if let Some(token) = significant.first() {
            let found = text.get(token.span.range()).unwrap_or("");
            let found: String = found.chars().take(30).collect();
            diagnostics.push(
                Diagnostic::in_file(
                    Code::E0001,
                    format!("expected an item (`use`, `const`, `fn`, `form` or `workflow`), found `{found}`"),
                    file,
                    token.span,
                    "expected an item here",
                )
                .with_help("a file holds `use` lines, constants, functions, forms and workflows"),
            );
        }
    }

    for (position, &start_index) in starts.iter().enumerate() {
        let end_index = starts.get(position + 1).copied().unwrap_or(significant.len());
        let Some(item_tokens) = significant.get(start_index..end_index) else { continue };
        let (Some(first), Some(last)) = (item_tokens.first(), item_tokens.last()) else { continue };
        let chunk_start = first.span.start as usize;
        let chunk_end = last.span.end as usize;
        if let Some(deep) = super::lexer::first_too_deep(item_tokens, MAX_NESTING) {
            diagnostics.push(too_deep(file, deep));
            incomplete = true;
            continue;
        }
        let chunk = text.get(chunk_start..chunk_end).unwrap_or("");
        match FlowParser::parse(Rule::item_alone, chunk) {
            Ok(pairs) => {
                let lowerer = Lowerer::new(file, text, chunk_start);
                items.extend(lowerer.items(pairs));
                diagnostics.extend(lowerer.diagnostics.into_inner());
            }
            Err(error) => {
                let keyword = text.get(first.span.range()).unwrap_or("");
                let recovered = match keyword {
                    "form" | "workflow" => {
                        parse_members(file, text, item_tokens, keyword, Split::Likely, &mut diagnostics)
                    }
                    _ => None,
                };
                match recovered {
                    Some(item) => items.push(item),
                    None => {
                        incomplete = true;
                        diagnostics.push(syntax_error(&error, chunk, chunk_start, file, Context::File));
                    }
                }
            }
        }
    }
    Parsed { file: File { items, incomplete }, diagnostics }
}

/// Indexes (into `tokens`) where items start: an item keyword at depth 0,
/// or, for `Split::Likely`, at the very start of a line (a missing `}`
/// must not swallow the rest of the file).
fn item_starts(text: &str, tokens: &[Token], split: Split) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut depth = 0usize;
    for (index, token) in tokens.iter().enumerate() {
        match token.kind {
            TokenKind::LBrace | TokenKind::LParen | TokenKind::LBracket => depth += 1,
            TokenKind::RBrace | TokenKind::RParen | TokenKind::RBracket => depth = depth.saturating_sub(1),
            TokenKind::Ident => {
                let word = text.get(token.span.range()).unwrap_or("");
                if ITEM_KEYWORDS.contains(&word)
                    && (depth == 0 || (split == Split::Likely && at_column_zero(text, token.span)))
                {
                    starts.push(index);
                    depth = 0;
                }
            }
            _ => {}
        }
    }
    starts
}

fn at_column_zero(text: &str, span: Span) -> bool {
    let start = span.start as usize;
    start == 0 || text.get(start - 1..start) == Some("\n")
}

/// Whether the token before `index` leaves an expression open (`=`, an
/// operator, `(`, `,`), so a name on the next line continues it.
fn previous_continues(tokens: &[Token], index: usize) -> bool {
    index.checked_sub(1).and_then(|previous| tokens.get(previous)).is_some_and(|token| {
        !matches!(
            token.kind,
            TokenKind::Ident
                | TokenKind::Number
                | TokenKind::String
                | TokenKind::RParen
                | TokenKind::RBracket
                | TokenKind::RBrace
        )
    })
}

fn first_on_line(text: &str, span: Span) -> bool {
    let start = span.start as usize;
    let line_start = text.get(..start).and_then(|before| before.rfind('\n')).map(|index| index + 1).unwrap_or(0);
    text.get(line_start..start).is_some_and(|prefix| prefix.chars().all(char::is_whitespace))
}

/// Parses a form or workflow member by member. Returns `None` when its
/// head (`form NAME "label" {`) is broken, or with `Split::Certain` when
/// anything is.
fn parse_members(
    file: FileId,
    text: &str,
    tokens: &[Token],
    keyword: &str,
    split: Split,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Item> {
    let certain = split == Split::Certain;
    let open_index = tokens.iter().position(|token| token.kind == TokenKind::LBrace)?;
    let open = tokens.get(open_index)?;
    let first = tokens.first()?;
    let head_start = first.span.start as usize;
    let head = text.get(head_start..open.span.end as usize)?;
    let is_form = keyword == "form";
    let head_rule = if is_form { Rule::form_head_alone } else { Rule::workflow_head_alone };
    let head_pairs = FlowParser::parse(head_rule, head).ok()?;
    let lowerer = Lowerer::new(file, text, head_start);
    let item_span = Span::new(head_start, tokens.last().map(|token| token.span.end as usize).unwrap_or(head_start));
    let placeholder = Ident { name: String::new(), span: item_span };
    let broken = !certain;
    let mut form =
        FormItem { doc: None, name: placeholder.clone(), label: None, members: Vec::new(), broken, span: item_span };
    let mut workflow = WorkflowItem {
        doc: None,
        name: placeholder,
        label: None,
        settings: Vec::new(),
        nodes: Vec::new(),
        broken,
        span: item_span,
    };
    form.doc = lowerer.doc_before(head_start);
    workflow.doc = form.doc.clone();
    for pair in head_pairs {
        match pair.as_rule() {
            Rule::form_head => lowerer.form_head(pair, &mut form),
            Rule::workflow_head => lowerer.workflow_head(pair, &mut workflow),
            _ => {}
        }
    }
    diagnostics.extend(lowerer.diagnostics.into_inner());

    // Find the body's members and its closing brace.
    let body = tokens.get(open_index + 1..).unwrap_or(&[]);
    let mut member_starts = Vec::new();
    let mut depth = 0usize;
    let mut close = None;
    for (index, token) in body.iter().enumerate() {
        let word = if token.kind == TokenKind::Ident { text.get(token.span.range()).unwrap_or("") } else { "" };
        let starts_member = if certain {
            depth == 0
                && token.kind == TokenKind::Ident
                && if is_form {
                    word == "validate"
                        || word == "detail"
                        || body.get(index + 1).is_some_and(|next| next.kind == TokenKind::Colon)
                } else {
                    word == "node" || WORKFLOW_SETTINGS.contains(&word)
                }
        } else if is_form {
            (depth == 0
                && token.kind == TokenKind::Ident
                && (word == "validate"
                    || word == "detail"
                    || body.get(index + 1).is_some_and(|next| next.kind == TokenKind::Colon)
                    || (first_on_line(text, token.span) && !previous_continues(body, index))))
                || (word == "detail" && first_on_line(text, token.span))
        } else {
            (word == "node" && first_on_line(text, token.span)) || (depth == 0 && WORKFLOW_SETTINGS.contains(&word))
        };
        if starts_member {
            if !certain && (word == "node" || word == "detail") {
                depth = 0;
            }
            member_starts.push(index);
        }
        match token.kind {
            TokenKind::LBrace | TokenKind::LParen | TokenKind::LBracket => depth += 1,
            TokenKind::RBrace | TokenKind::RParen | TokenKind::RBracket => {
                if depth == 0 && token.kind == TokenKind::RBrace {
                    close = Some(index);
                    break;
                }
                depth = depth.saturating_sub(1);
            }
            _ => {}
        }
    }
    let body_end = close.unwrap_or(body.len());
    if certain {
        let garbage_before = member_starts.first().copied().unwrap_or(body_end) != 0;
        let trailing = close.is_none_or(|index| index + 1 != body.len());
        if garbage_before || trailing {
            return None;
        }
    }
    if let Some(garbage) =
        body.get(..member_starts.first().copied().unwrap_or(body_end)).and_then(|before| before.first())
    {
        let found: String = text.get(garbage.span.range()).unwrap_or("").chars().take(30).collect();
        let expected = if is_form { "a field, `detail` or `validate`" } else { "`node` or a workflow setting" };
        diagnostics.push(Diagnostic::in_file(
            Code::E0001,
            format!("expected {expected}, found `{found}`"),
            file,
            garbage.span,
            format!("expected {expected} here"),
        ));
    }
    // Each start is one member at most: no doubling slack (a member is a
    // few hundred bytes, and a big form has tens of thousands).
    if is_form {
        form.members.reserve_exact(member_starts.len());
    } else {
        workflow.nodes.reserve_exact(member_starts.len());
    }
    // A sure split parses a run of members per pest call (fewer calls, a
    // small reused token queue); a likely split parses one member per call
    // so each failure names its own member.
    let group = if certain { MEMBERS_PER_CALL } else { 1 };
    let mut position = 0;
    while position < member_starts.len() {
        let start = member_starts.get(position).copied().unwrap_or(body_end);
        position = (position + group).min(member_starts.len());
        let end = member_starts.get(position).copied().unwrap_or(body_end);
        let Some(member_tokens) = body.get(start..end) else { continue };
        let (Some(member_first), Some(member_last)) = (member_tokens.first(), member_tokens.last()) else { continue };
        let chunk_start = member_first.span.start as usize;
        let chunk = text.get(chunk_start..member_last.span.end as usize).unwrap_or("");
        let rule = match (is_form, certain) {
            (true, true) => Rule::form_members_alone,
            (true, false) => Rule::form_member_alone,
            (false, true) => Rule::workflow_members_alone,
            (false, false) => Rule::workflow_member_alone,
        };
        match FlowParser::parse(rule, chunk) {
            Ok(pairs) => {
                let member_lowerer = Lowerer::new(file, text, chunk_start);
                for pair in pairs {
                    if is_form {
                        if let Some(member) = member_lowerer.form_member(pair) {
                            form.members.push(member);
                        }
                    } else if pair.as_rule() != Rule::EOI {
                        member_lowerer.workflow_member(pair, &mut workflow);
                    }
                }
                diagnostics.extend(member_lowerer.diagnostics.into_inner());
            }
            Err(_) if certain => return None,
            Err(error) => {
                let context = if is_form { Context::FormMember } else { Context::WorkflowMember };
                diagnostics.push(syntax_error(&error, chunk, chunk_start, file, context));
            }
        }
    }
    if close.is_none() {
        let end = tokens.last().map(|token| token.span).unwrap_or(item_span);
        let name = if is_form { &form.name.name } else { &workflow.name.name };
        diagnostics.push(
            Diagnostic::in_file(
                Code::E0001,
                format!("`{keyword} {name}` is never closed"),
                file,
                Span::new(end.end as usize, end.end as usize),
                "expected `}` here",
            )
            .with_secondary(crate::source::FileSpan::new(file, open.span), "this `{` is not closed")
            .with_help("add the missing `}`"),
        );
    }
    // Trailing tokens after the closing brace belong to no member.
    if let Some(extra) = close.and_then(|index| body.get(index + 1)) {
        let found: String = text.get(extra.span.range()).unwrap_or("").chars().take(30).collect();
        diagnostics.push(Diagnostic::in_file(
            Code::E0001,
            format!("expected an item, found `{found}`"),
            file,
            extra.span,
            "expected an item here",
        ));
    }
    if is_form {
        Some(Item::Form(form))
    } else {
        Some(Item::Workflow(workflow))
    }
}
