//! The formatter behind `flowc fmt` and the language server's
//! textDocument/formatting: a conservative re-indenter that works on the
//! logos token stream, never on the tree, so comments stay where they are and
//! half-written files are formatted too.
//!
//! The rules:
//! - Line breaks are the author's: a token never moves to another line.
//!   Every line is re-indented by 2 spaces per open `{`, `(` or `[` at its
//!   start; a line that starts with closers is indented after them. A line
//!   that continues an expression (it starts with a binary operator, `and`,
//!   `or`, `in`, `then`, `.`, or the line before ended with one, `=`,
//!   `when`, `where`, `:`…) gets 2 more.
//! - Runs of blank lines become one; no blank line at the start of the file,
//!   right after a line ending in `{`, or right before a line starting with
//!   `}`. Trailing whitespace goes (comments included); the text ends with
//!   exactly one newline (an empty text stays empty). CRLF files stay CRLF.
//! - Within a line: one space around binary operators (`=` `==` `!=` `<`
//!   `<=` `>` `>=` `+` `-` `*` `/` `%` `->`) and between words; after `,` `;` `:` and none before;
//!   none inside `( )` `[ ]`, around `.` `::`, before the `(`/`[` of a call
//!   or index, after a unary minus, before `?`, or around the `< >` of a
//!   type such as `column<number>`; one space before `{` and inside a
//!   one-line `{ a b }` (`{}` when empty).
//! - Strings, numbers, comments and unknown text are copied verbatim (a
//!   block comment's later lines too). A comment that ends a line after
//!   code keeps the author's gap (so comments aligned in a column stay
//!   aligned), at least one space. Elsewhere next to a block comment or an
//!   unknown character, a space stays one space and no space stays none.
//!
//! Invariants: the output lexes to the same non-whitespace tokens as the
//! input (comments up to trailing whitespace on their lines); formatting is
//! idempotent; no input panics. A line whose normalised spacing would lex
//! differently (`1 . 5` is not `1.5`) keeps the author's spacing instead.

use std::borrow::Cow;

use crate::syntax::lexer::{is_reserved, tokenize, TokenKind};

/// Indentation stops growing here, so hostile nesting cannot make the
/// output quadratic in size.
const MAX_INDENT_LEVELS: usize = 128;

/// Generic types nest at most this deep before `<` is treated as an operator
/// (the type matcher recurses once per level).
const MAX_TYPE_NESTING: usize = 32;

/// `text` formatted by the rules of this module's documentation.
pub fn format(text: &str) -> String {
    let (bom, body) = match text.strip_prefix('\u{FEFF}') {
        Some(rest) => ("\u{FEFF}", rest),
        None => ("", text),
    };
    let newline = if body.find('\n').is_some_and(|index| index > 0 && body.as_bytes().get(index - 1) == Some(&b'\r')) {
        "\r\n"
    } else {
        "\n"
    };
    let mut items = items_of(body, newline);
    mark_roles(&mut items);
    let mut output = String::with_capacity(text.len() + text.len() / 8);
    output.push_str(bom);
    emit(&items, newline, &mut output);
    output
}

/// What a token does where spacing depends on context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    UnaryMinus,
    /// The `<` or `>` of a type such as `column<number>`.
    TypeOpen,
    TypeClose,
}

/// One non-whitespace token with what surrounded it in the input.
#[derive(Debug)]
struct Item<'a> {
    kind: TokenKind,
    /// The token's text, with trailing whitespace removed from comment lines.
    text: Cow<'a, str>,
    /// Line breaks between the previous item and this one.
    breaks_before: usize,
    /// Whitespace characters between the previous item and this one when
    /// both are on one line.
    gap: usize,
    role: Role,
}

fn items_of<'a>(body: &'a str, newline: &str) -> Vec<Item<'a>> {
    let mut items = Vec::new();
    let mut breaks = 0usize;
    let mut gap = 0usize;
    for token in tokenize(body) {
        let Some(text) = body.get(token.span.range()) else { continue };
        if token.kind == TokenKind::Whitespace {
            let mut characters = text.chars().peekable();
            while let Some(character) = characters.next() {
                let is_break = character == '\n' || (character == '\r' && characters.peek() != Some(&'\n'));
                if is_break {
                    breaks += 1;
                    gap = 0;
                } else if character != '\r' {
                    gap += 1;
                }
            }
            continue;
        }
        items.push(Item {
            kind: token.kind,
            text: normalised_text(token.kind, text, newline),
            breaks_before: breaks,
            gap,
            role: Role::Plain,
        });
        breaks = 0;
        gap = 0;
    }
    items
}

/// A token's text as written to the output: comments and an unterminated
/// string lose trailing whitespace (a CRLF file's `\r` included), and a block
/// comment's lines are joined with the file's newline.
fn normalised_text<'a>(kind: TokenKind, text: &'a str, newline: &str) -> Cow<'a, str> {
    match kind {
        TokenKind::LineComment | TokenKind::DocComment | TokenKind::UnterminatedString => {
            Cow::Borrowed(text.trim_end())
        }
        TokenKind::BlockComment => {
            let text = if text.ends_with("*/") { text } else { text.trim_end() };
            if !text.contains('\n') {
                return Cow::Borrowed(text);
            }
            let lines: Vec<&str> = text.split('\n').map(str::trim_end).collect();
            Cow::Owned(lines.join(newline))
        }
        _ => Cow::Borrowed(text),
    }
}

fn is_comment(kind: TokenKind) -> bool {
    matches!(kind, TokenKind::LineComment | TokenKind::DocComment | TokenKind::BlockComment)
}

/// Words need a space between them: identifiers, keywords, numbers, strings.
fn is_word(kind: TokenKind) -> bool {
    matches!(kind, TokenKind::Ident | TokenKind::Number | TokenKind::String | TokenKind::UnterminatedString)
}

fn is_binary_operator(item: &Item) -> bool {
    use TokenKind::*;
    match item.kind {
        Arrow | EqEq | NotEq | Le | Ge | Assign | Plus | Star | Slash | Percent => true,
        Lt | Gt => item.role == Role::Plain,
        Minus => item.role != Role::UnaryMinus,
        _ => false,
    }
}

/// Marks unary minus signs and the angle brackets of types, looking at the
/// code tokens only (comments and line breaks do not matter).
fn mark_roles(items: &mut [Item]) {
    let code: Vec<usize> =
        items.iter().enumerate().filter(|(_, item)| !is_comment(item.kind)).map(|(index, _)| index).collect();
    let mut previous: Option<usize> = None;
    for &index in &code {
        let unary = items.get(index).is_some_and(|item| item.kind == TokenKind::Minus)
            && previous.and_then(|before| items.get(before)).is_none_or(|before| expects_operand(before));
        if let Some(item) = items.get_mut(index) {
            if unary {
                item.role = Role::UnaryMinus;
            }
        }
        previous = Some(index);
    }
    for position in 0..code.len() {
        let starts_type = code
            .get(position)
            .and_then(|&index| items.get(index))
            .is_some_and(|item| matches!(item.kind, TokenKind::Colon | TokenKind::Arrow));
        if starts_type {
            match_type(items, &code, position + 1, 0);
        }
    }
}

/// Whether an operand, not an operator, comes after `item` (so a `-` after
/// it is a sign).
fn expects_operand(item: &Item) -> bool {
    use TokenKind::*;
    match item.kind {
        Ident => is_reserved(&item.text) && !matches!(&*item.text, "true" | "false" | "null"),
        Number | String | UnterminatedString | RParen | RBracket | Unknown => false,
        Gt => item.role != Role::TypeClose,
        _ => true,
    }
}

/// Matches `ident ("(" number ")")? ("<" type ">")?` at `code[position]`,
/// marking the angle brackets, and returns the position after it.
fn match_type(items: &mut [Item], code: &[usize], position: usize, depth: usize) -> Option<usize> {
    let kind_at = |items: &[Item], at: usize| code.get(at).and_then(|&index| items.get(index)).map(|item| item.kind);
    if kind_at(items, position) != Some(TokenKind::Ident) || depth > MAX_TYPE_NESTING {
        return None;
    }
    let mut after = position + 1;
    if kind_at(items, after) == Some(TokenKind::LParen)
        && kind_at(items, after + 1) == Some(TokenKind::Number)
        && kind_at(items, after + 2) == Some(TokenKind::RParen)
    {
        after += 3;
    }
    if kind_at(items, after) == Some(TokenKind::Lt) {
        if let Some(inner_end) = match_type(items, code, after + 1, depth + 1) {
            if kind_at(items, inner_end) == Some(TokenKind::Gt) {
                for (at, role) in [(after, Role::TypeOpen), (inner_end, Role::TypeClose)] {
                    if let Some(item) = code.get(at).and_then(|&index| items.get_mut(index)) {
                        item.role = role;
                    }
                }
                return Some(inner_end + 1);
            }
        }
    }
    Some(after)
}

/// Spaces between two items on one line under the normal rules.
fn spaces_between(previous: &Item, next: &Item) -> usize {
    use TokenKind::*;
    let kept = usize::from(next.gap > 0);
    if matches!(previous.kind, Unknown | BlockComment) || matches!(next.kind, Unknown | BlockComment) {
        return kept;
    }
    if is_word(previous.kind) && is_word(next.kind) {
        return 1;
    }
    if matches!(previous.kind, LParen | LBracket) || previous.role == Role::TypeOpen {
        return 0;
    }
    if matches!(next.kind, RParen | RBracket | Comma | Semi | Question) || next.role == Role::TypeClose {
        return 0;
    }
    if matches!(previous.kind, Comma | Semi) {
        return 1;
    }
    if matches!(previous.kind, PathSep | Dot) || matches!(next.kind, PathSep | Dot) || next.role == Role::TypeOpen {
        return 0;
    }
    if previous.kind == Colon {
        return 1;
    }
    if next.kind == Colon {
        return 0;
    }
    if previous.kind == LBrace && next.kind == RBrace {
        return 0;
    }
    if matches!(previous.kind, LBrace | RBrace) || matches!(next.kind, LBrace | RBrace) {
        return 1;
    }
    if previous.role == Role::UnaryMinus {
        return 0;
    }
    if is_binary_operator(previous) || is_binary_operator(next) || next.role == Role::UnaryMinus {
        return 1;
    }
    if matches!(next.kind, LParen | LBracket) {
        // A test's `to [..]` and `pending [..]` are lists, not indexing; the formatter sees only
        // tokens, so the two words decide (an index written after them still parses the same).
        let list_after_word = next.kind == LBracket && matches!(&*previous.text, "to" | "pending");
        let callee = matches!(previous.kind, RParen | RBracket)
            || (previous.kind == Ident && !is_reserved(&previous.text) && !list_after_word);
        return usize::from(!callee);
    }
    if (matches!(previous.kind, RParen | RBracket) || previous.role == Role::TypeClose) && is_word(next.kind) {
        return 1;
    }
    kept
}

/// Spaces between two items when the normal rules would change the tokens:
/// the author's spacing, runs shortened to one space.
fn spaces_as_written(next: &Item) -> usize {
    usize::from(next.gap > 0)
}

/// The open brackets, for indentation. A `)` or `]` pops through its opener
/// only when one is open inside the current block, so a stray closer in a
/// broken file does not shift the rest; a `}` also closes any `(`/`[` left
/// open inside its block (or anywhere, when no `{` is open).
struct Nesting {
    open: Vec<TokenKind>,
}

impl Nesting {
    fn apply(&mut self, kind: TokenKind) {
        use TokenKind::*;
        match kind {
            LBrace | LParen | LBracket => self.open.push(kind),
            // Only brackets are ever open above the innermost `{`.
            RBrace => self.open.truncate(self.open.iter().rposition(|&kind| kind == LBrace).unwrap_or(0)),
            RParen => self.close_through(LParen, &[LBrace]),
            RBracket => self.close_through(LBracket, &[LBrace]),
            _ => {}
        }
    }

    fn close_through(&mut self, opener: TokenKind, barriers: &[TokenKind]) {
        let found = self.open.iter().rposition(|&kind| kind == opener);
        let barrier = self.open.iter().rposition(|kind| barriers.contains(kind));
        if let Some(found) = found {
            if barrier.is_none_or(|barrier| barrier < found) {
                self.open.truncate(found);
            }
        }
    }

    fn indent(&self) -> usize {
        2 * self.open.len().min(MAX_INDENT_LEVELS)
    }
}

fn is_closer(kind: TokenKind) -> bool {
    matches!(kind, TokenKind::RBrace | TokenKind::RParen | TokenKind::RBracket)
}

fn emit(items: &[Item], newline: &str, output: &mut String) {
    let mut nesting = Nesting { open: Vec::new() };
    let mut start = 0usize;
    // Whether the last line's last code token was `{`.
    let mut after_open_brace = false;
    // The last code token before the current line, wherever it was.
    let mut last_code: Option<&Item> = None;
    while start < items.len() {
        let end = (start + 1..items.len())
            .find(|&index| items.get(index).is_some_and(|item| item.breaks_before > 0))
            .unwrap_or(items.len());
        let line = items.get(start..end).unwrap_or_default();
        let leading_closers = line.iter().take_while(|item| is_closer(item.kind)).count();
        for item in line.iter().take(leading_closers) {
            nesting.apply(item.kind);
        }
        if start > 0 {
            output.push_str(newline);
            let blank = line.first().is_some_and(|item| item.breaks_before > 1);
            let starts_with_close = line.first().is_some_and(|item| item.kind == TokenKind::RBrace);
            if blank && !after_open_brace && !starts_with_close {
                output.push_str(newline);
            }
        }
        let first_code = line.iter().find(|item| !is_comment(item.kind));
        let continues = first_code.is_some_and(|item| starts_continuation(item, last_code))
            || (first_code.is_some() && last_code.is_some_and(ends_unfinished));
        let indent = nesting.indent() + if continues { 2 } else { 0 };
        for _ in 0..indent {
            output.push(' ');
        }
        let mut text = line_text(line, spaces_between);
        if !lexes_as(&text, line) {
            text = line_text(line, |_, next| spaces_as_written(next));
        }
        output.push_str(&text);
        for item in line.iter().skip(leading_closers) {
            nesting.apply(item.kind);
        }
        let line_last_code = line.iter().rev().find(|item| !is_comment(item.kind));
        after_open_brace = line_last_code.is_some_and(|item| item.kind == TokenKind::LBrace);
        last_code = line_last_code.or(last_code);
        start = end;
    }
    if !items.is_empty() {
        output.push_str(newline);
    }
}

/// Whether a line starting with `item` continues the expression of the line
/// before (`+ b`, `and c`, `.member`, `then x`, `else y` of an `if` expression).
fn starts_continuation(item: &Item, previous: Option<&Item>) -> bool {
    match item.kind {
        TokenKind::Ident => match &*item.text {
            "and" | "or" | "in" | "then" => true,
            "else" => previous.is_some_and(|previous| previous.kind != TokenKind::RBrace),
            _ => false,
        },
        TokenKind::Dot => true,
        _ => is_binary_operator(item) && item.kind != TokenKind::Arrow,
    }
}

/// Whether a line ending with `item` leaves its expression unfinished, so
/// the next line is a continuation (`total =` then the formula).
fn ends_unfinished(item: &Item) -> bool {
    match item.kind {
        TokenKind::Ident => {
            matches!(&*item.text, "and" | "or" | "not" | "in" | "if" | "then" | "else" | "when" | "where")
        }
        TokenKind::Dot | TokenKind::PathSep | TokenKind::Colon => true,
        _ => is_binary_operator(item) || item.role == Role::UnaryMinus,
    }
}

/// One line's items joined by `spaces`.
fn line_text(line: &[Item], spaces: impl Fn(&Item, &Item) -> usize) -> String {
    let mut text = String::new();
    let mut previous: Option<&Item> = None;
    for (index, item) in line.iter().enumerate() {
        if let Some(previous) = previous {
            // A comment that ends a line after code keeps the author's gap,
            // so comments aligned in a column stay aligned.
            let ends_line = index + 1 == line.len() && is_comment(item.kind);
            let count = if ends_line { item.gap.max(1) } else { spaces(previous, item) };
            for _ in 0..count {
                text.push(' ');
            }
        }
        text.push_str(&item.text);
        previous = Some(item);
    }
    text
}

/// Whether `text` lexes to exactly the items of `line`.
fn lexes_as(text: &str, line: &[Item]) -> bool {
    let mut expected = line.iter();
    for token in tokenize(text) {
        if token.kind == TokenKind::Whitespace {
            continue;
        }
        let written = text.get(token.span.range()).unwrap_or_default();
        match expected.next() {
            Some(item) if item.kind == token.kind && item.text == written => {}
            _ => return false,
        }
    }
    expected.next().is_none()
}
