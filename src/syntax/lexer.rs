//! A flat token stream (logos) for the jobs that do not need a tree:
//! error recovery (where does the next item start?), the nesting guard, the
//! words of an error message, and later the formatter and the language
//! server's semantic tokens. Never fails: unknown bytes become `Unknown`.

use logos::Logos;

use crate::source::Span;

#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    #[regex(r"[ \t\r\n\u{FEFF}\u{3000}]+")]
    Whitespace,
    #[regex(r"///[^\n]*")]
    DocComment,
    #[regex(r"//[^\n]*")]
    LineComment,
    #[token("/*", block_comment)]
    BlockComment,
    #[regex(r"[\p{XID_Start}_][\p{XID_Continue}]*")]
    Ident,
    #[regex(r"[0-9]+(\.[0-9]+)?")]
    Number,
    #[regex(r#""([^"\\\n]|\\[^\n])*""#)]
    String,
    /// A string that reaches the end of its line without a closing quote.
    #[regex(r#""([^"\\\n]|\\[^\n])*"#)]
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
    let mut lexer = TokenKind::lexer(text);
    let mut tokens = Vec::new();
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let kind = result.unwrap_or(TokenKind::Unknown);
        tokens.push(Token { kind, span: Span::new(range.start, range.end) });
    }
    tokens
}

/// The reserved words of language.md §2.
pub const RESERVED: &[&str] = &[
    "use", "form", "detail", "workflow", "node", "exit", "return", "operators", "batch", "when", "where", "before",
    "after", "validate", "fn", "const", "test", "and", "or", "not", "in", "if", "then", "else", "true", "false", "null",
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
