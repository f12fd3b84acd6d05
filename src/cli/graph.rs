//! `flowc graph`: the route of a workflow as a picture (SVG, PNG, HTML) or
//! as text for other tools (Mermaid, DOT), with a run's path (`--trace`) or
//! the exits tests took (`--coverage`) drawn over it. Exit 0 when it drew,
//! 1 when the program has errors, 2 for bad usage or an unreadable input.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::{use_color, EXIT_BAD_USAGE, EXIT_FOUND_ERRORS, EXIT_OK};
use flowc::check::{self, Analysis, FsLoader};
use flowc::diag::render::{self, TextStyle};
use flowc::graph::overlay::{self, Coverage, Trace};
use flowc::graph::{dot, html, layout, mermaid, svg, Marks, Route};
use flowc::ir::Program;
use flowc::org::{Directory, MemoryDirectory};
use flowc::runtime::report::session::RunFiles;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Svg,
    Png,
    Mermaid,
    Dot,
    Html,
}

#[derive(Args)]
pub struct GraphArgs {
    /// The .flow file, or a run folder holding one (as `flowc run` takes).
    path: PathBuf,
    /// Which workflow, when the program has several (default: the trace's, or the only one).
    #[arg(long)]
    workflow: Option<String>,
    /// Output format (default: from the extension of `-o`, else svg).
    #[arg(long, value_enum)]
    format: Option<GraphFormat>,
    /// Write here instead of stdout.
    #[arg(short = 'o', long = "output")]
    output: Option<PathBuf>,
    /// Mark the path a request took: the JSON of `flowc run --format json`.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Colour the exits no test took: a coverage file (docs/graph.md).
    #[arg(long)]
    coverage: Option<PathBuf>,
    /// The directory, to name the people of a trace (a run folder's org.toml is used by itself).
    #[arg(long)]
    org: Option<PathBuf>,
}

pub fn run(arguments: GraphArgs) -> u8 {
    match run_inner(&arguments) {
        Ok(status) => status,
        Err(message) => {
            eprintln!("error: {message}");
            EXIT_BAD_USAGE
        }
    }
}

fn format_of(arguments: &GraphArgs) -> GraphFormat {
    if let Some(format) = arguments.format {
        return format;
    }
    let extension = arguments
        .output
        .as_deref()
        .and_then(Path::extension)
        .map(|extension| extension.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "png" => GraphFormat::Png,
        "mmd" | "mermaid" => GraphFormat::Mermaid,
        "dot" | "gv" => GraphFormat::Dot,
        "html" | "htm" => GraphFormat::Html,
        _ => GraphFormat::Svg,
    }
}

fn read(path: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|error| format!("cannot read the {what} `{}`: {error}", path.display()))
}

/// Checks and lowers the program; `Err(status)` once its errors are printed.
pub(crate) fn compile(flow: &Path) -> Result<(Analysis, Program), Result<u8, String>> {
    let analysis = check::check_paths(&[flow.to_path_buf()], &FsLoader);
    if let Some((path, reason)) = analysis.unreadable.first() {
        return Err(Err(format!("cannot read `{}`: {reason}", path.display())));
    }
    if analysis.error_count() > 0 {
        let style = TextStyle { color: use_color(), width: 100 };
        let mut stderr = std::io::stderr().lock();
        for diagnostic in analysis.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()) {
            let _ = writeln!(stderr, "{}", render::to_text(diagnostic, &analysis.sources, style));
        }
        let _ = writeln!(stderr, "graph stopped: the program has {} errors", analysis.error_count());
        return Err(Ok(EXIT_FOUND_ERRORS));
    }
    match flowc::ir::lower(&analysis) {
        Ok(program) => Ok((analysis, program)),
        Err(error) => {
            eprintln!("error: {error}");
            Err(Ok(EXIT_FOUND_ERRORS))
        }
    }
}

/// How a person is shown: by name in the picture, with the id on the page.
pub(crate) struct Names<'d> {
    directory: Option<&'d dyn Directory>,
}

impl Names<'_> {
    pub(crate) fn short(&self, id: &str) -> String {
        self.directory
            .and_then(|directory| directory.employee(id))
            .map_or_else(|| id.to_owned(), |person| person.name.clone())
    }

    pub(crate) fn long(&self, id: &str) -> String {
        match self.directory.and_then(|directory| directory.employee(id)) {
            Some(person) => format!("{} ({id})", person.name),
            None => id.to_owned(),
        }
    }
}

/// The page of `flowc run --html` and `flowc graph --format html --trace`.
pub(crate) fn run_page(route: &Route, trace: &Trace, directory: Option<&dyn Directory>) -> String {
    let names = Names { directory };
    let marks = overlay::trace_marks(route, trace, &|id| names.short(id));
    let picture = svg::render(route, &layout::layout(route, &marks), &marks);
    html::page(route, &picture, Some(trace), &|id| names.long(id))
}

fn run_inner(arguments: &GraphArgs) -> Result<u8, String> {
    let format = format_of(arguments);
    let found = if arguments.path.is_dir() { RunFiles::from_folder(&arguments.path)? } else { RunFiles::default() };
    let flow = found.flow.clone().unwrap_or_else(|| arguments.path.clone());
    if format == GraphFormat::Png && arguments.output.is_none() && std::io::IsTerminal::is_terminal(&std::io::stdout())
    {
        return Err("a PNG is not for the terminal: write it to a file with `-o route.png`".into());
    }
    let trace = match &arguments.trace {
        Some(path) => {
            Some(Trace::from_json(&read(path, "trace")?).map_err(|error| format!("`{}` is {error}", path.display()))?)
        }
        None => None,
    };
    let coverage = match &arguments.coverage {
        Some(path) => Some(
            Coverage::from_json(&read(path, "coverage file")?)
                .map_err(|error| format!("`{}` is {error}", path.display()))?,
        ),
        None => None,
    };
    let (analysis, program) = match compile(&flow) {
        Ok(compiled) => compiled,
        Err(Ok(status)) => return Ok(status),
        Err(Err(message)) => return Err(message),
    };
    let name = arguments
        .workflow
        .clone()
        .or_else(|| trace.as_ref().and_then(|trace| trace.workflow.clone()))
        .or_else(|| coverage.as_ref().and_then(|coverage| coverage.workflow.clone()))
        .or_else(|| found.request.as_deref().and_then(requested_workflow));
    let route = flowc::graph::route_of(&analysis, &program, name.as_deref())?;
    let directory = match (&arguments.org, &found.org, &trace) {
        (Some(path), _, _) => Some(MemoryDirectory::load(path).map_err(|error| error.to_string())?),
        // A run folder's directory names the people of a trace; when it does not load, ids do.
        (None, Some(path), Some(_)) => MemoryDirectory::load(path).ok(),
        _ => None,
    };
    let names = Names { directory: directory.as_ref().map(|directory| directory as &dyn Directory) };
    let mut marks = match &trace {
        Some(trace) => overlay::trace_marks(&route, trace, &|id| names.short(id)),
        None => Marks::none(&route),
    };
    if let Some(coverage) = &coverage {
        overlay::coverage_marks(&route, coverage, &mut marks);
    }
    let bytes: Vec<u8> = match format {
        GraphFormat::Svg => svg::render(&route, &layout::layout(&route, &marks), &marks).into_bytes(),
        GraphFormat::Mermaid => mermaid::render(&route, &marks).into_bytes(),
        GraphFormat::Dot => dot::render(&route, &marks).into_bytes(),
        GraphFormat::Html => {
            let picture = svg::render(&route, &layout::layout(&route, &marks), &marks);
            html::page(&route, &picture, trace.as_ref(), &|id| names.long(id)).into_bytes()
        }
        GraphFormat::Png => png(&svg::render(&route, &layout::layout(&route, &marks), &marks))?,
    };
    match &arguments.output {
        Some(path) => {
            std::fs::write(path, &bytes).map_err(|error| format!("cannot write `{}`: {error}", path.display()))?
        }
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(&bytes)
                .and_then(|()| stdout.flush())
                .map_err(|error| format!("cannot write the picture: {error}"))?;
        }
    }
    Ok(EXIT_OK)
}

/// The workflow a run folder's request.json names, if it reads.
fn requested_workflow(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let value: serde_json::Value = serde_json::from_str(&text).ok()?;
    value.get("workflow")?.as_str().map(str::to_owned)
}

#[cfg(feature = "png")]
fn png(picture: &str) -> Result<Vec<u8>, String> {
    flowc::graph::png::render(picture).map_err(|error| error.to_string())
}

#[cfg(not(feature = "png"))]
fn png(_picture: &str) -> Result<Vec<u8>, String> {
    Err("this flowc was built without PNG output (the `png` feature); write SVG with `--format svg`, or build with `cargo build --features png`".into())
}
