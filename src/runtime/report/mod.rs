//! What a run tells its reader and what it keeps: `session` runs a list of
//! actions and builds the JSON report, `trace` the text story, `state` the
//! saved state file, `replay` the check that a state is what its log gives, `print`
//! the printable page of a request (`--print`).

pub mod print;
mod replay;
pub mod session;
pub mod state;
pub mod trace;
