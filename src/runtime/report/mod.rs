//! What a run tells its reader and what it keeps: `session` runs a list of
//! actions and builds the JSON report, `trace` the text story, `state` the
//! saved state file, `print` the printable page of a request (`--print`).

pub mod print;
pub mod session;
pub mod state;
pub mod trace;
