//! A flat token stream (logos) for the jobs that do not need a tree:
//! error recovery (where does the next item start?), the nesting guard, the
//! words of an error message, and later the formatter and the language
//! server's semantic tokens. Never fails: unknown bytes become `Unknown`.

use logos::Logos;

use crate::source::Span;

// Every token that repeats is matched by its first character and finished
// by a callback that scans with a plain loop: logos's generated code
// recurses once per repeated character in debug builds, and a 5 MB
// identifier must not overflow the stack.
#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    #[regex(r"[ \t\r\n\u{FEFF}\u{3000}]", whitespace)]
    Whitespace,
    #[token("///", line_rest)]
    DocComment,
    #[token("//", line_rest)]
    LineComment,
    #[token("/*", block_comment)]
    BlockComment,
    #[regex(r"[\p{XID_Start}_]", identifier_rest)]
    Ident,
    #[regex(r"[0-9]", number_rest)]
    Number,
    #[token("\"", string_rest)]
    String,
    /// A string that reaches the end of its line without a closing quote.
    UnterminatedString,
    #[token("->")]
    Arrow,
    #[token("::")]
    PathSep,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<=")]
    Le,
    #[token(">=")]
    Ge,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token("=")]
    Assign,
    #[token(":")]
    Colon,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(".")]
    Dot,
    #[token("?")]
    Question,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("%")]
    Percent,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    Unknown,
}

fn bump_while(lexer: &mut logos::Lexer<TokenKind>, keep: impl Fn(char) -> bool) {
    let rest = lexer.remainder();
    let length = rest.char_indices().find(|(_, character)| !keep(*character)).map_or(rest.len(), |(index, _)| index);
    lexer.bump(length);
}

fn whitespace(lexer: &mut logos::Lexer<TokenKind>) {
    bump_while(lexer, |character| matches!(character, ' ' | '\t' | '\r' | '\n' | '\u{FEFF}' | '\u{3000}'));
}

fn line_rest(lexer: &mut logos::Lexer<TokenKind>) {
    bump_while(lexer, |character| character != '\n');
}

fn identifier_rest(lexer: &mut logos::Lexer<TokenKind>) {
    bump_while(lexer, unicode_ident::is_xid_continue);
}

fn number_rest(lexer: &mut logos::Lexer<TokenKind>) {
    bump_while(lexer, |character| character.is_ascii_digit());
    let rest = lexer.remainder();
    let mut characters = rest.chars();
    if characters.next() == Some('.') && characters.next().is_some_and(|digit| digit.is_ascii_digit()) {
        lexer.bump(1);
        bump_while(lexer, |character| character.is_ascii_digit());
    }
}

/// Length of a string's rest after the opening quote, and whether a
/// closing quote ends it (else it stops at the end of the line).
fn string_extent(rest: &str) -> (usize, bool) {
    let mut escaped = false;
    for (index, character) in rest.char_indices() {
        match character {
            '\n' => return (index, false),
            '\\' if !escaped => escaped = true,
            '"' if !escaped => return (index + 1, true),
            _ => escaped = false,
        }
    }
    (rest.len(), false)
}

fn string_rest(lexer: &mut logos::Lexer<TokenKind>) {
    let (length, _) = string_extent(lexer.remainder());
    lexer.bump(length);
}

fn block_comment(lexer: &mut logos::Lexer<TokenKind>) -> bool {
    let rest = lexer.remainder();
    let length = rest.find("*/").map(|end| end + 2).unwrap_or(rest.len());
    lexer.bump(length);
    true
}

impl TokenKind {
    pub fn is_trivia(self) -> bool {
        matches!(self, TokenKind::Whitespace | TokenKind::DocComment | TokenKind::LineComment | TokenKind::BlockComment)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Every token of `text`, trivia included, covering the text without gaps.
pub fn tokenize(text: &str) -> Vec<Token> {
    tokens(text).collect()
}

/// The tokens of `text` without trivia, as the parser splits a file.
/// Gathered straight from the lexer: the stream with trivia would be
/// about twice as long, and at 12 bytes a token both are many times the
/// text.
pub fn significant_tokens(text: &str) -> Vec<Token> {
    tokens(text).filter(|token| !token.kind.is_trivia()).collect()
}

fn tokens(text: &str) -> impl Iterator<Item = Token> + '_ {
    let mut lexer = TokenKind::lexer(text);
    std::iter::from_fn(move || {
        let result = lexer.next()?;
        let range = lexer.span();
        let mut kind = result.unwrap_or(TokenKind::Unknown);
        if kind == TokenKind::String && !text.get(range.start + 1..).is_some_and(|rest| string_extent(rest).1) {
            kind = TokenKind::UnterminatedString;
        }
        Some(Token { kind, span: Span::new(range.start, range.end) })
    })
}

/// The reserved words of docs/language.md §2.4.
pub const RESERVED: &[&str] = &[
    "use",
    "form",
    "detail",
    "workflow",
    "node",
    "exit",
    "return",
    "operators",
    "batch",
    "when",
    "where",
    "before",
    "after",
    "validate",
    "fn",
    "const",
    "test",
    "and",
    "or",
    "not",
    "in",
    "if",
    "then",
    "else",
    "true",
    "false",
    "null",
];

pub fn is_reserved(word: &str) -> bool {
    RESERVED.contains(&word)
}

/// Deepest nesting of `()`, `[]` and `{}` and where it first passes `limit`.
pub fn first_too_deep(tokens: &[Token], limit: usize) -> Option<Span> {
    let mut depth = 0usize;
    for token in tokens {
        match token.kind {
            TokenKind::LParen | TokenKind::LBracket | TokenKind::LBrace => {
                depth += 1;
                if depth > limit {
                    return Some(token.span);
                }
            }
            TokenKind::RParen | TokenKind::RBracket | TokenKind::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}
