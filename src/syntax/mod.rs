//! Text to syntax tree. Parsing never fails: it returns a tree (possibly
//! missing the broken parts) and a list of diagnostics.
//!
//! A valid file is parsed in one pest call. When that fails, recovery
//! splits the file into items, and forms and workflows into members, and
//! parses each alone, so one broken node does not hide the next one's
//! errors (see `recovery.rs`).

pub mod ast;
mod errors;
pub mod lexer;
mod lower;
mod lower_test;
mod recovery;
mod strings;

use pest_derive::Parser;

use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Span};

#[derive(Parser)]
#[grammar = "../grammar/flow.pest"]
pub struct FlowParser;

/// Deepest bracket nesting accepted; deeper input gets E0003 instead of
/// exhausting the stack of a recursive parser.
pub const MAX_NESTING: usize = 128;

/// The result of parsing one file.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub file: ast::File,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one file's text.
pub fn parse(file: FileId, text: &str) -> Parsed {
    // The fast path holds only the significant tokens; the slow path lexes
    // again (lexing is a few per cent of a parse, and the tokens are several
    // times the size of the text).
    let significant = lexer::significant_tokens(text);
    if lexer::first_too_deep(&significant, MAX_NESTING).is_none() {
        if let Some(parsed) = recovery::parse_strict(file, text, &significant) {
            return parsed;
        }
    }
    drop(significant);
    recovery::parse_with_recovery(file, text, &lexer::tokenize(text))
}

/// Decodes bytes as UTF-8, or explains where they are not.
#[allow(clippy::result_large_err)] // one call per file; boxing buys nothing
pub fn decode(file: FileId, bytes: &[u8]) -> Result<&str, Diagnostic> {
    std::str::from_utf8(bytes).map_err(|error| {
        let at = error.valid_up_to();
        Diagnostic::in_file(
            Code::E0002,
            format!("file is not valid UTF-8 (byte {at} is not part of a UTF-8 character)"),
            file,
            Span::new(at, at),
            "invalid UTF-8 starts here",
        )
        .with_help("save the file as UTF-8; `.flow` files are always UTF-8")
    })
}

pub(crate) fn too_deep(file: FileId, at: Span) -> Diagnostic {
    Diagnostic::in_file(
        Code::E0003,
        format!("nesting too deep (more than {MAX_NESTING} levels of brackets)"),
        file,
        at,
        "this bracket is too deep",
    )
    .with_help("split the expression with a `fn` or an intermediate field")
}
