//! Turns pest's "expected one of these rules" into a sentence an analyst
//! can act on: what was expected, after what, and what was found instead.
//! Rule names never reach the user.

use pest::error::{ErrorVariant, InputLocation};

use super::lexer::{tokenize, Token, TokenKind};
use super::Rule;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

/// What kind of text was being parsed; sharpens "after `x`" into
/// "after field name `x`".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    File,
    FormMember,
    WorkflowMember,
    TitleHole,
}

pub fn syntax_error(
    error: &pest::error::Error<Rule>,
    chunk: &str,
    base: usize,
    file: FileId,
    context: Context,
) -> Diagnostic {
    let position = match error.location {
        InputLocation::Pos(position) => position,
        InputLocation::Span((start, _)) => start,
    };
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => describe_expected(positives),
        ErrorVariant::CustomError { message } => message.clone(),
    };
    let tokens: Vec<Token> = tokenize(chunk).into_iter().filter(|token| !token.kind.is_trivia()).collect();
    let next_index = tokens.iter().position(|token| token.span.start as usize >= position);
    let found = match next_index.and_then(|index| tokens.get(index)) {
        Some(token) => {
            let text = chunk.get(token.span.range()).unwrap_or("");
            match token.kind {
                TokenKind::UnterminatedString => "a string that is never closed".to_string(),
                TokenKind::Unknown => format!("unexpected character `{}`", text.chars().next().unwrap_or(' ')),
                _ => format!("`{}`", shorten(text)),
            }
        }
        None => "the end of the file".to_string(),
    };
    let before: Vec<&Token> = tokens.iter().take(next_index.unwrap_or(tokens.len())).collect();
    let after = describe_preceding(&before, chunk, context);
    let message = match after {
        Some(after) => format!("expected {expected} {after}, found {found}"),
        None => format!("expected {expected}, found {found}"),
    };
    let span = match next_index.and_then(|index| tokens.get(index)) {
        Some(token) => token.span,
        None => Span::new(position, position),
    };
    let label = format!("expected {expected} here");
    let mut diagnostic = Diagnostic::in_file(Code::E0001, message, file, span.shifted(base), label);
    if let Some(help) = help_for(&expected, &before, chunk, next_index.is_none()) {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 30 {
        let head: String = text.chars().take(27).collect();
        format!("{head}...")
    } else {
        text.to_string()
    }
}

fn token_text<'a>(token: &Token, chunk: &'a str) -> &'a str {
    chunk.get(token.span.range()).unwrap_or("")
}

/// "after exit name `同意`", "after field name `申请人`", "after `=`".
fn describe_preceding(before: &[&Token], chunk: &str, context: Context) -> Option<String> {
    let last = before.last()?;
    let last_text = token_text(last, chunk);
    let previous = before.len().checked_sub(2).and_then(|index| before.get(index));
    let previous_text = previous.map(|token| token_text(token, chunk)).unwrap_or("");
    if last.kind == TokenKind::Ident {
        match previous_text {
            "exit" => return Some(format!("after exit name `{last_text}`")),
            "return" => return Some(format!("after return name `{last_text}`")),
            "node" => return Some(format!("after node name `{last_text}`")),
            "form" | "workflow" | "detail" | "fn" | "const" => {
                return Some(format!("after {previous_text} name `{last_text}`"))
            }
            "->" => return Some(format!("after exit target `{last_text}`")),
            _ => {}
        }
        let starts_line = previous.is_none_or(|token| {
            chunk.get(token.span.end as usize..last.span.start as usize).is_some_and(|gap| gap.contains('\n'))
                || matches!(token.kind, TokenKind::LBrace | TokenKind::RBrace)
        });
        if context == Context::FormMember && starts_line {
            return Some(format!("after field name `{last_text}`"));
        }
    }
    if last.kind == TokenKind::String && previous.is_some_and(|token| token.kind == TokenKind::Ident) {
        if let Some(name_token) = before.len().checked_sub(3).and_then(|index| before.get(index)) {
            if token_text(name_token, chunk) == "node" {
                return Some(format!("after the label of node `{previous_text}`"));
            }
        }
    }
    Some(format!("after `{}`", shorten(last_text)))
}

fn help_for(expected: &str, before: &[&Token], chunk: &str, found_end: bool) -> Option<String> {
    let last = before.last().map(|token| token_text(token, chunk)).unwrap_or("");
    if expected.contains("`->`") {
        return Some("an exit is written `exit NAME -> TARGET [when CONDITION]`".into());
    }
    if expected.starts_with("`:`") && before.len() >= 2 {
        let keyword = before
            .len()
            .checked_sub(2)
            .and_then(|index| before.get(index))
            .map(|token| token_text(token, chunk))
            .unwrap_or("");
        return Some(if keyword == "node" {
            "a node is written `node NAME [\"label\"]: KIND { … }`".into()
        } else {
            "a field is written `NAME: TYPE [\"label\"]`".into()
        });
    }
    if expected.contains("`}`") && found_end {
        return Some("every `{` needs a matching `}`".into());
    }
    if is_reserved_word(last) {
        return Some(format!("`{last}` is a reserved word and cannot be used as a name"));
    }
    None
}

fn is_reserved_word(word: &str) -> bool {
    super::lexer::is_reserved(word)
}

/// Words for what the parser wanted, most useful first, at most five.
fn describe_expected(rules: &[Rule]) -> String {
    let mut words: Vec<&'static str> = Vec::new();
    let mut operators = false;
    for rule in rules {
        let word = match rule {
            Rule::op_or
            | Rule::op_and
            | Rule::op_eq
            | Rule::op_ne
            | Rule::op_le
            | Rule::op_ge
            | Rule::op_lt
            | Rule::op_gt
            | Rule::op_in
            | Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_div
            | Rule::op_rem
            | Rule::member
            | Rule::call_args
            | Rule::index => {
                operators = true;
                continue;
            }
            other => rule_words(*other),
        };
        if !word.is_empty() && !words.contains(&word) {
            words.push(word);
        }
    }
    // Many ways to start an operand mean one thing to a reader.
    const OPERAND_STARTS: &[&str] = &["`(`", "`[`", "`if`", "a name", "a number", "a string", "an expression", "`-`"];
    if words.iter().filter(|word| OPERAND_STARTS.contains(word)).count() >= 3 {
        words.retain(|word| !OPERAND_STARTS.contains(word));
        words.insert(0, "an expression");
    }
    if operators && words.len() < 5 {
        words.push("an operator");
    }
    if words.is_empty() {
        return "something else".into();
    }
    words.truncate(5);
    match words.as_slice() {
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
        [] => String::new(),
    }
}

fn rule_words(rule: Rule) -> &'static str {
    match rule {
        Rule::ARROW => "`->`",
        Rule::COLON => "`:`",
        Rule::PATH_SEP => "`::`",
        Rule::ASSIGN => "`=`",
        Rule::LBRACE => "`{`",
        Rule::RBRACE => "`}`",
        Rule::LPAREN => "`(`",
        Rule::RPAREN => "`)`",
        Rule::LBRACKET => "`[`",
        Rule::RBRACKET => "`]`",
        Rule::COMMA => "`,`",
        Rule::SEMI => "`;`",
        Rule::DOT => "`.`",
        Rule::QUESTION => "`?`",
        Rule::LT => "`<`",
        Rule::GT => "`>`",
        Rule::KW_USE | Rule::use_item => "`use`",
        Rule::KW_FORM | Rule::form_item | Rule::form_head | Rule::wf_form => "`form`",
        Rule::KW_DETAIL | Rule::detail_decl => "`detail`",
        Rule::KW_WORKFLOW | Rule::workflow_item | Rule::workflow_head => "`workflow`",
        Rule::KW_NODE | Rule::node_decl => "`node`",
        Rule::KW_EXIT | Rule::exit_decl => "`exit`",
        Rule::KW_RETURN | Rule::return_decl => "`return`",
        Rule::KW_OPERATORS | Rule::operators_decl => "`operators`",
        Rule::KW_BATCH | Rule::batch => "`batch`",
        Rule::KW_WHEN | Rule::when_clause => "`when`",
        Rule::KW_WHERE | Rule::where_clause => "`where`",
        Rule::KW_BEFORE | Rule::before_block => "`before`",
        Rule::KW_AFTER | Rule::after_block => "`after`",
        Rule::KW_VALIDATE | Rule::validate_decl => "`validate`",
        Rule::KW_FN | Rule::fn_item => "`fn`",
        Rule::KW_CONST | Rule::const_item => "`const`",
        Rule::KW_IF | Rule::if_stmt => "`if`",
        Rule::KW_THEN => "`then`",
        Rule::KW_ELSE => "`else`",
        Rule::ident | Rule::use_path | Rule::field_path => "a name",
        Rule::number => "a number",
        Rule::string | Rule::string_body => "a string",
        Rule::expr
        | Rule::operand
        | Rule::if_expr
        | Rule::lit_true
        | Rule::lit_false
        | Rule::lit_null
        | Rule::list
        | Rule::paren
        | Rule::op_not
        | Rule::op_neg
        | Rule::operator_line => "an expression",
        Rule::field_decl => "a field",
        Rule::type_expr | Rule::field_type => "a type",
        Rule::field_flag => "a flag (`html`, `multiple`)",
        Rule::select_block => "`{` with select options",
        Rule::select_option | Rule::option_key => "an option",
        Rule::option_default => "`default`",
        Rule::option_folder | Rule::folder_kw => "`folder`",
        Rule::node_kind => "a node kind (`create`, `approve`, `realize`, `archive`)",
        Rule::node_body | Rule::block => "`{`",
        Rule::operator_mode => "`any`, `all` or `sequential`",
        Rule::field_setting | Rule::setting_kind => "`editable`, `required` or `hidden`",
        Rule::script_stmt | Rule::script_kw => "`script`",
        Rule::assign_stmt => "an assignment",
        Rule::wf_category | Rule::category_kw => "`category`",
        Rule::wf_title | Rule::title_kw => "`title`",
        Rule::wf_remind | Rule::remind_kw => "`remind`",
        Rule::wf_portal => "`portal`",
        Rule::deadline_decl | Rule::deadline_kw => "`deadline`",
        Rule::remind_rule => "`remind`",
        Rule::take_rule | Rule::take_kw => "`take`",
        Rule::hand_rule | Rule::hand_kw => "`hand`",
        Rule::to_kw => "`to`",
        Rule::via_kw => "`via`",
        Rule::duration => "a duration (`3 days`)",
        Rule::duration_unit => "`hours`, `days` or `working days`",
        Rule::wf_inactive => "`inactive`",
        Rule::param => "a parameter",
        Rule::EOI => "the end of the file",
        _ => "",
    }
}
