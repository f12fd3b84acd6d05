//! `flowc lsp`: the language server over stdio (see `flowc::lsp`).

pub fn run() -> u8 {
    match flowc::lsp::run() {
        Ok(()) => super::EXIT_OK,
        Err(error) => {
            eprintln!("error: the language server stopped: {error}");
            super::EXIT_FOUND_ERRORS
        }
    }
}
