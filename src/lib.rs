//! flowc: approval workflows as code.
//!
//! The pipeline: `syntax` (text → tree) → `check` (names, types, the
//! manual's rules) → `ir` → `runtime`. `diag` holds the one diagnostic model
//! every stage reports with.

pub mod check;
pub mod diag;
pub mod source;
pub mod syntax;
