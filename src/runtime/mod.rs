//! The runtime (language.md §4–§9, runtime.md): what runs a checked
//! workflow. So far its foundations: exact money arithmetic and Chinese
//! amount writing (`money`), and the organisation directory (`directory`).
//! The IR and the interpreter come next.

pub mod directory;
pub mod money;
