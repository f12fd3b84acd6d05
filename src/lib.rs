//! flowc: approval workflows as code.
//!
//! The pipeline: `syntax` (text → tree) → `check` (names, types, the
//! manual's rules) → `ir` → `runtime`. `diag` holds the one diagnostic model
//! every stage reports with.

// The command line's modules name the library `flowc::…`, as a host of it would.
extern crate self as flowc;

pub mod analysis;
pub mod check;
/// The library's commands (`check`, `run`, `fmt`, …): clap arguments, files, reports, exit
/// statuses. The `flowc` binary (crates/cli) adds the service's commands beside them.
pub mod cli;
pub mod diag;
/// The token-based formatter behind `flowc fmt` and the language server's formatting.
pub mod format;
pub mod graph;
pub mod input_file;
pub mod ir;
pub mod lsp;
/// The organisation: people, departments, roles, the `Directory` trait.
pub mod org;
pub mod runtime;
pub mod source;
pub mod syntax;
/// `flowc test`: test cases, running them, route coverage.
pub mod testing;
