//! The runtime (docs/language.md §4–§9, docs/runtime.md): what runs a compiled
//! workflow, in rooms named after what they hold:
//!
//! - `values/`: how a value is held, computed and stored — values and form
//!   data, money and dates, expressions, formulas, the three doors a value
//!   passes (computed, entered, shown);
//! - `request/`: the state machine of one request — create and apply, the
//!   order of one submit, who may write which field, who handles a node,
//!   what an action did;
//! - `script/`: the Rhai sandbox for `script "x.rhai"`;
//! - `report/`: what a run tells its reader and keeps — the JSON report, the
//!   text story, the saved state.
//!
//! `compiled` is a program ready to run, `error` the `R0xxx` errors. The
//! organisation the operators are chosen from lives in `crate::org`.

pub mod compiled;
pub mod error;
pub mod report;
pub mod request;
pub mod script;
pub mod values;
