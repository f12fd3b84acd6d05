//! The `flowc` binary: a thin shell over the library (see `cli/`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}

/// The CLI allocates and frees millions of small objects on big inputs (trees, JSON, form
/// rows); mimalloc does that faster than the system allocator. The library leaves the choice
/// to its host.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
