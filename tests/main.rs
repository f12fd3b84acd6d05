//! The one integration test binary (one binary links faster than many).
//! Most tests are data: add a `.flow` file under `tests/data/` and it is
//! picked up.

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic, clippy::indexing_slicing)]

mod suite;

/// Cargo starts the tests in crates/cli (the package that builds the `flowc` binary they run),
/// but they name their inputs from the repository root, as a person at a shell would
/// (`tests/data/…`, `examples/…`): move there once, before the first test starts.
#[ctor::ctor]
fn run_from_the_repository_root() {
    std::env::set_current_dir(suite::repo_root()).expect("the repository root");
}
