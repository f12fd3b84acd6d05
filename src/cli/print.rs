//! `flowc run --print OUT.html [--opinions last|all]`: writes the request,
//! as the run left it, as a printable page (the library's
//! `Runtime::print_page`), next to the trace.

use std::path::Path;

use clap::ValueEnum;

use flowc::runtime::report::print::OpinionsShown;
use flowc::runtime::request::{Request, Runtime};
use flowc::runtime::values::dates::DateTime;

/// `--opinions`: which opinions each node shows on the page (manual 5.5.4, 显示方式).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Opinions {
    /// Every opinion (全部意见).
    All,
    /// Each person's last opinion at each node (最后一次意见).
    Last,
}

/// Writes the page; the error says why it could not be written.
pub fn write_page(
    path: &Path,
    runtime: &Runtime<'_>,
    request: &Request,
    opinions: Opinions,
    now: DateTime,
) -> Result<(), String> {
    let shown = match opinions {
        Opinions::All => OpinionsShown::All,
        Opinions::Last => OpinionsShown::Last,
    };
    let page = runtime.print_page(request, shown, now);
    std::fs::write(path, page)
        .map_err(|error| format!("cannot write the printed page to `{}`: {error}", path.display()))
}
