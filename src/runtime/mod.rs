//! The runtime (language.md §4–§9, runtime.md): what runs a compiled
//! workflow. `value` and `field_values` are the data, `eval` the
//! expressions, `formulas` the recomputation, `operators` who handles a
//! node, `request` the state machine of one request (`submit`, `set_fields`
//! and `events` its parts), `script` the Rhai
//! sandbox, `trace` what a run tells its reader. `money` and `dates` are
//! the arithmetic underneath; `directory` the organisation.

pub mod compiled;
pub mod dates;
pub mod directory;
pub mod error;
pub mod eval;
pub mod events;
pub mod field_values;
pub mod formulas;
pub mod layout;
pub mod money;
pub mod operators;
pub mod request;
pub mod script;
pub mod session;
mod set_fields;
pub mod state;
mod submit;
pub mod trace;
pub mod value;
