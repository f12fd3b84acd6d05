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
    let tokens: Vec<Token> = tokenize(chunk).into_iter().filter(|token| !token.kind.is_trivia()).collect();
    let expected = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let operand_before = tokens
                .iter()
                .take_while(|token| (token.span.end as usize) <= position)
                .last()
                .is_some_and(|token| ends_operand(token, chunk));
            let operators = operand_before && continues_with(chunk, position, context, " + 0 ");
            // `(0)` rather than `.x`: a `.` also continues a field path, which is no operand.
            let member = operand_before && continues_with(chunk, position, context, "(0) ");
            describe_expected(positives, context, Continuations { operators, member })
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
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
    // A long list reads once, in the message; the label just points.
    let label = if expected.chars().count() <= 40 {
        format!("expected {expected} here")
    } else {
        "not expected here".to_owned()
    };
    let mut diagnostic = Diagnostic::in_file(Code::E0001, message, file, span.shifted(base), label);
    let found_token = next_index.and_then(|index| tokens.get(index));
    if let Some(help) = help_for(&expected, &before, chunk, found_token) {
        diagnostic = diagnostic.with_help(help);
    }
    diagnostic
}

/// Whether a token can end an operand, so an operator may follow it.
fn ends_operand(token: &Token, chunk: &str) -> bool {
    match token.kind {
        TokenKind::Number | TokenKind::String | TokenKind::RParen | TokenKind::RBracket => true,
        TokenKind::Ident => {
            !super::lexer::is_reserved(token_text(token, chunk))
                || matches!(token_text(token, chunk), "true" | "false" | "null")
        }
        _ => false,
    }
}

/// Whether `insert` placed at `position` would be read before the parse
/// fails again. The grammar tests for an operator (and for `.name`, a call
/// or an index after an operand) behind a lookahead, and pest leaves what a lookahead tried out
/// of its list; parsing once more is the one way to know the grammar's answer.
fn continues_with(chunk: &str, position: usize, context: Context, insert: &str) -> bool {
    let (Some(head), Some(tail)) = (chunk.get(..position), chunk.get(position..)) else { return false };
    let rule = match context {
        Context::File => Rule::item_alone,
        Context::FormMember => Rule::form_member_alone,
        Context::WorkflowMember => Rule::workflow_member_alone,
        Context::TitleHole => Rule::expr_alone,
    };
    let probe = format!("{head}{insert}{tail}");
    match <super::FlowParser as pest::Parser<Rule>>::parse(rule, &probe) {
        Ok(_) => true,
        Err(error) => {
            let reached = match error.location {
                InputLocation::Pos(reached) => reached,
                InputLocation::Span((reached, _)) => reached,
            };
            reached >= position + insert.trim_end().len()
        }
    }
}

/// What pest cannot list (see `continues_with`) but the grammar accepts.
#[derive(Debug, Clone, Copy, Default)]
struct Continuations {
    operators: bool,
    member: bool,
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
            "->" => {
                let declaration = declaration_keyword(before, chunk).unwrap_or("exit");
                return Some(format!("after {declaration} target `{last_text}`"));
            }
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

/// `exit` or `return` when the tokens before the error are still inside
/// that declaration (no brace since its keyword).
fn declaration_keyword<'a>(before: &[&Token], chunk: &'a str) -> Option<&'a str> {
    for token in before.iter().rev() {
        if matches!(token.kind, TokenKind::LBrace | TokenKind::RBrace) {
            return None;
        }
        let text = token_text(token, chunk);
        if text == "exit" || text == "return" {
            return Some(text);
        }
    }
    None
}

fn help_for(expected: &str, before: &[&Token], chunk: &str, found: Option<&Token>) -> Option<String> {
    let last = before.last().map(|token| token_text(token, chunk)).unwrap_or("");
    let found_end = found.is_none();
    // A block after a `return` is the one thing an `exit` has that a return lacks.
    if found.is_some_and(|token| token.kind == TokenKind::LBrace)
        && declaration_keyword(before, chunk) == Some("return")
    {
        return Some(
            "a `return` takes no block (only an `exit` does): to run actions when the request is sent back, \
             put them in the `before` of the node it returns to"
                .into(),
        );
    }
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

/// The words of the node members, in the order the message lists them.
const NODE_MEMBERS: &[&str] =
    &["`exit`", "`return`", "`operators`", "`editable`", "`required`", "`hidden`", "`before`", "`after`"];
/// The words of the workflow settings.
const WORKFLOW_SETTINGS: &[&str] = &["`category`", "`form`", "`title`", "`remind`", "`portal`", "`inactive`"];
/// The words of the members of a form.
const FORM_MEMBERS: &[&str] = &["a field", "`detail`", "`validate`"];
/// The words of the items a file holds.
const ITEMS: &[&str] = &["`use`", "`const`", "`fn`", "`form`", "`workflow`"];

/// Words for what the parser wanted, in the order pest tried them, every
/// alternative kept: a list that leaves out a legal word sends the reader
/// looking for a rule that does not exist. Long runs of one kind (the eight
/// node members) are grouped under their name so the sentence stays readable.
fn describe_expected(rules: &[Rule], context: Context, continuations: Continuations) -> String {
    let mut words: Vec<&'static str> = Vec::new();
    let mut operators = continuations.operators;
    for rule in rules {
        if is_operator(*rule) {
            operators = true;
            continue;
        }
        for word in rule_words(*rule, context) {
            if !words.contains(word) {
                words.push(word);
            }
        }
    }
    // Many ways to start an operand mean one thing to a reader.
    const OPERAND_STARTS: &[&str] = &["`(`", "`[`", "`if`", "a name", "a number", "a string", "an expression", "`-`"];
    if words.iter().filter(|word| OPERAND_STARTS.contains(word)).count() >= 3 {
        words.retain(|word| !OPERAND_STARTS.contains(word));
        words.insert(0, "an expression");
    }
    // After an operand: an infix operator, or `.name`, a call or an index.
    match (operators, continuations.member) {
        (true, true) => words.insert(0, "an operator (`+`, `==`, `and`, …, `.`, `(`, `[`)"),
        (true, false) => words.insert(0, "an operator"),
        (false, true) => {
            for word in ["`[`", "`(`", "`.`"] {
                if !words.contains(&word) {
                    words.insert(0, word);
                }
            }
        }
        (false, false) => {}
    }
    let mut phrases: Vec<String> = words.iter().map(|word| (*word).to_owned()).collect();
    group(&mut phrases, NODE_MEMBERS, "a node member");
    group(&mut phrases, WORKFLOW_SETTINGS, "a workflow setting");
    group(&mut phrases, FORM_MEMBERS, "a form member");
    group(&mut phrases, ITEMS, "an item");
    // What continues the construct at hand first, then what starts the
    // next one, then what ends the enclosing one.
    let rank = |phrase: &String| {
        if ["`;`", "`}`", "the end of the file"].contains(&phrase.as_str()) {
            2
        } else if ["a node member", "a workflow setting", "a form member", "an item"]
            .iter()
            .any(|name| phrase.starts_with(name))
            || ["`node`", "`detail`", "`validate`"].contains(&phrase.as_str())
        {
            1
        } else {
            0
        }
    };
    phrases.sort_by_key(rank);
    match phrases.as_slice() {
        [] => "something else".into(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Replaces the members of `group` found in `phrases` (two or more) by one
/// phrase naming the group and listing them, where the first of them stood.
fn group(phrases: &mut Vec<String>, group: &[&str], name: &str) {
    let present: Vec<&str> = group.iter().copied().filter(|word| phrases.iter().any(|phrase| phrase == word)).collect();
    if present.len() < 2 {
        return;
    }
    let Some(first) = phrases.iter().position(|phrase| present.contains(&phrase.as_str())) else { return };
    let grouped = format!("{name} ({})", present.join(", "));
    phrases.retain(|phrase| !present.contains(&phrase.as_str()));
    phrases.insert(first.min(phrases.len()), grouped);
}

fn is_operator(rule: Rule) -> bool {
    matches!(
        rule,
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
            | Rule::index
    )
}

/// What the end of the parsed text means: recovery parses one item or one
/// member at a time, so its end is where the next one may start.
fn end_words(context: Context) -> &'static [&'static str] {
    match context {
        Context::File => &["`use`", "`const`", "`fn`", "`form`", "`workflow`", "the end of the file"],
        Context::FormMember => &["`}`", "a field", "`detail`", "`validate`"],
        Context::WorkflowMember => {
            &["`}`", "`node`", "`category`", "`form`", "`title`", "`remind`", "`portal`", "`inactive`"]
        }
        Context::TitleHole => &["`}`"],
    }
}

fn rule_words(rule: Rule, context: Context) -> &'static [&'static str] {
    match rule {
        Rule::ARROW => &["`->`"],
        Rule::COLON => &["`:`"],
        Rule::PATH_SEP => &["`::`"],
        Rule::ASSIGN => &["`=`"],
        Rule::LBRACE => &["`{`"],
        Rule::RBRACE => &["`}`"],
        Rule::LPAREN => &["`(`"],
        Rule::RPAREN => &["`)`"],
        Rule::LBRACKET => &["`[`"],
        Rule::RBRACKET => &["`]`"],
        Rule::COMMA => &["`,`"],
        Rule::SEMI => &["`;`"],
        Rule::DOT => &["`.`"],
        Rule::QUESTION => &["`?`"],
        Rule::LT => &["`<`"],
        Rule::GT => &["`>`"],
        Rule::KW_USE | Rule::use_item => &["`use`"],
        Rule::KW_FORM | Rule::form_item | Rule::form_head | Rule::wf_form => &["`form`"],
        Rule::KW_DETAIL | Rule::detail_decl => &["`detail`"],
        Rule::KW_WORKFLOW | Rule::workflow_item | Rule::workflow_head => &["`workflow`"],
        Rule::KW_NODE | Rule::node_decl => &["`node`"],
        Rule::KW_EXIT | Rule::exit_decl => &["`exit`"],
        Rule::KW_RETURN | Rule::return_decl => &["`return`"],
        Rule::KW_OPERATORS | Rule::operators_decl => &["`operators`"],
        Rule::KW_BATCH | Rule::batch => &["`batch`"],
        Rule::KW_WHEN | Rule::when_clause => &["`when`"],
        Rule::KW_WHERE | Rule::where_clause => &["`where`"],
        Rule::KW_BEFORE | Rule::before_block => &["`before`"],
        Rule::allow_decl | Rule::allow_kw => &["`allow`"],
        Rule::KW_AFTER | Rule::after_block => &["`after`"],
        Rule::KW_VALIDATE | Rule::validate_decl => &["`validate`"],
        Rule::KW_FN | Rule::fn_item => &["`fn`"],
        Rule::KW_CONST | Rule::const_item => &["`const`"],
        Rule::KW_IF | Rule::if_stmt => &["`if`"],
        Rule::KW_THEN => &["`then`"],
        Rule::KW_ELSE => &["`else`"],
        Rule::ident | Rule::use_path | Rule::field_path => &["a name"],
        Rule::number => &["a number"],
        Rule::string | Rule::string_body => &["a string"],
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
        | Rule::operator_line => &["an expression"],
        Rule::field_decl => &["a field"],
        Rule::type_expr | Rule::field_type => &["a type"],
        Rule::field_flag => &["a flag (`html`, `multiple`)"],
        Rule::select_block => &["`{` with select options"],
        Rule::select_option | Rule::option_key => &["an option"],
        Rule::option_default => &["`default`"],
        Rule::option_folder | Rule::folder_kw => &["`folder`"],
        Rule::node_kind => &["a node kind (`create`, `approve`, `realize`, `merge`, `archive`)"],
        Rule::node_body | Rule::block => &["`{`"],
        Rule::operator_mode => &["`any`", "`all`", "`sequential`"],
        Rule::field_setting | Rule::setting_kind => &["`editable`", "`required`", "`hidden`"],
        Rule::script_stmt | Rule::script_kw => &["`script`"],
        Rule::assign_stmt => &["an assignment"],
        Rule::wf_category | Rule::category_kw => &["`category`"],
        Rule::wf_title | Rule::title_kw => &["`title`"],
        Rule::wf_remind | Rule::remind_kw => &["`remind`"],
        Rule::wf_portal => &["`portal`"],
        Rule::fork_group | Rule::fork_kw => &["`fork`"],
        Rule::wait_decl | Rule::wait_kw => &["`wait`"],
        Rule::wait_all => &["`all`"],
        Rule::deadline_decl | Rule::deadline_kw => &["`deadline`"],
        Rule::start_decl | Rule::start_kw => &["`start`"],
        Rule::start_block => &["`{` with `field = value` lines"],
        Rule::start_map => &["`field = value`"],
        Rule::remind_rule => &["`remind`"],
        Rule::take_rule | Rule::take_kw => &["`take`"],
        Rule::hand_rule | Rule::hand_kw => &["`hand`"],
        Rule::to_kw => &["`to`"],
        Rule::via_kw => &["`via`"],
        Rule::duration => &["a duration (`3 days`)"],
        Rule::duration_unit => &["`hours`", "`days`", "`working days`"],
        Rule::wf_inactive => &["`inactive`"],
        Rule::wf_supervisors | Rule::supervisors_kw => &["`supervisors`"],
        Rule::param => &["a parameter"],
        Rule::wf_setting => WORKFLOW_SETTINGS,
        Rule::EOI => end_words(context),
        _ => &[],
    }
}
