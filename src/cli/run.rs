//! `flowc run` (docs/runtime.md §3): check and compile the workflow, load the
//! directory, create the request (or load `--state`), apply the actions and
//! print the trace. Exit 0 when every action ran, 1 on a refusal, a runtime
//! error or a program with errors, 2 for bad usage or an unreadable or
//! malformed input file.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use super::print::{write_page, Opinions};
use super::state_file::StateFile;
use super::{error_document, print_json, use_color, Failure, Format, EXIT_BAD_USAGE, EXIT_FOUND_ERRORS, EXIT_OK};
use flowc::check::{self, FsLoader};
use flowc::diag::render::{self, TextStyle};
use flowc::diag::terminal::escape_controls;
use flowc::input_file::{self, FileKind};
use flowc::org::MemoryDirectory;
use flowc::runtime::compiled::Compiled;
use flowc::runtime::report::session::{self, RunFiles, Start};
use flowc::runtime::report::trace;
use flowc::runtime::request::{Action, NewRequest, Runtime};
use flowc::runtime::values::dates::DateTime;
use flowc::source::SourceMap;

#[derive(Args)]
pub struct RunArgs {
    /// The .flow file, or a folder holding one .flow file with org.toml (or org.json),
    /// request.json and actions.json, and optionally run.toml (`now = …`).
    path: PathBuf,
    /// The directory (组织架构), TOML or JSON by extension.
    #[arg(long)]
    org: Option<PathBuf>,
    /// The request to create (JSON: workflow, creator, form).
    #[arg(long)]
    request: Option<PathBuf>,
    /// The actions to apply in order (JSON list).
    #[arg(long)]
    actions: Option<PathBuf>,
    /// Which workflow, when the program has several (overrides the request's).
    #[arg(long)]
    workflow: Option<String>,
    /// Load the request from this file if it exists, and save it back after the actions.
    #[arg(long)]
    state: Option<PathBuf>,
    /// Continue a state saved by another version of the workflow's source.
    #[arg(long)]
    migrate: bool,
    /// Fix the clock (RFC 3339, e.g. 2026-11-28T09:00:00+08:00) for today(), now() and log times;
    /// overrides a folder's run.toml.
    #[arg(long)]
    now: Option<String>,
    /// After the last action, fire the deadline timers (reminders, escalations) due up to this time (RFC 3339).
    #[arg(long, value_name = "TIME")]
    until: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Also write one self-contained HTML page: the route's picture with the request's path, and its story.
    #[arg(long, value_name = "OUT.html")]
    html: Option<PathBuf>,
    /// With --format json: every row of every detail table, where a table of more than 200 rows
    /// is otherwise summarized column by column.
    #[arg(long)]
    all_rows: bool,
    /// Also write the request as a printable HTML page (the form, then the opinions per node).
    #[arg(long, value_name = "OUT.html")]
    print: Option<PathBuf>,
    /// Which opinions the printed page shows per node: every one, or each person's last.
    #[arg(long, value_enum, default_value_t = Opinions::All, requires = "print")]
    opinions: Opinions,
}

/// The files of a run, after a folder is expanded.
struct Inputs {
    flow: PathBuf,
    org: PathBuf,
    request: Option<PathBuf>,
    actions: Option<PathBuf>,
    settings: Option<PathBuf>,
}

fn inputs(arguments: &RunArgs) -> Result<Inputs, String> {
    let found = if arguments.path.is_dir() { RunFiles::from_folder(&arguments.path)? } else { RunFiles::default() };
    let flow = found.flow.unwrap_or_else(|| arguments.path.clone());
    let org = arguments
        .org
        .clone()
        .or(found.org)
        .ok_or("no directory: pass `--org FILE` (or put org.toml next to the .flow and run the folder)")?;
    let request = arguments.request.clone().or(found.request);
    let actions = arguments.actions.clone().or(found.actions);
    Ok(Inputs { flow, org, request, actions, settings: found.settings })
}

/// An input file, through the one reader: a regular file within the kind's size limit.
fn read(path: &Path, kind: FileKind) -> Result<String, Failure> {
    Ok(input_file::read_to_string(path, kind)?)
}

/// An input file's JSON; the error names the file.
fn parse<T: serde::de::DeserializeOwned>(text: &str, path: &Path, what: &str) -> Result<T, Failure> {
    serde_json::from_str(text)
        .map_err(|error| Failure::in_file(format!("`{}` is not {what}: {error}", path.display()), path))
}

pub fn run(arguments: RunArgs) -> u8 {
    match run_inner(&arguments) {
        Ok(status) => status,
        Err(failure) => {
            failure.report(arguments.format);
            EXIT_BAD_USAGE
        }
    }
}

fn run_inner(arguments: &RunArgs) -> Result<u8, Failure> {
    let inputs = inputs(arguments)?;
    let settings = match &inputs.settings {
        Some(path) => session::RunSettings::parse(&read(path, FileKind::Settings)?)
            .map_err(|error| format!("`{}`: {error}", path.display()))?,
        None => session::RunSettings::default(),
    };
    let now = match &arguments.now {
        Some(text) => DateTime::parse(text)
            .ok_or_else(|| format!("`--now {text}` is not a datetime (write 2026-11-28T09:00:00+08:00)"))?,
        None => settings.now.unwrap_or_else(system_now),
    };
    let until = match &arguments.until {
        Some(text) => Some(
            DateTime::parse(text)
                .ok_or_else(|| format!("`--until {text}` is not a datetime (write 2026-11-28T09:00:00+08:00)"))?,
        ),
        None => None,
    };
    let style = TextStyle { color: use_color(), width: 100 };

    let analysis = check::check_paths(std::slice::from_ref(&inputs.flow), &FsLoader);
    if let Some((path, reason)) = analysis.unreadable.first() {
        return Err(Failure::in_file(format!("cannot read `{}`: {reason}", path.display()), path));
    }
    if analysis.error_count() > 0 && arguments.format == Format::Json {
        let diagnostics: Vec<_> = analysis
            .diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.is_error())
            .map(|diagnostic| render::to_json(diagnostic, &analysis.sources))
            .collect();
        let document =
            serde_json::json!({ "status": "error", "errors": analysis.error_count(), "diagnostics": diagnostics });
        let mut stdout = std::io::stdout().lock();
        let _ = serde_json::to_writer_pretty(&mut stdout, &document);
        let _ = writeln!(stdout);
        return Ok(EXIT_FOUND_ERRORS);
    }
    if analysis.error_count() > 0 {
        let mut stderr = std::io::stderr().lock();
        for diagnostic in analysis.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()) {
            let _ = writeln!(stderr, "{}", render::to_text(diagnostic, &analysis.sources, style));
        }
        let _ = writeln!(stderr, "run stopped: the program has {} errors", analysis.error_count());
        return Ok(EXIT_FOUND_ERRORS);
    }
    let compiled = match Compiled::new(&analysis, &input_file::read_script) {
        Ok(compiled) => compiled,
        Err(flowc::runtime::compiled::CompileError::Script(error)) => {
            report_error_alone(&error, None, &analysis.sources, style, arguments.format);
            return Ok(EXIT_FOUND_ERRORS);
        }
        Err(error) => return Err(error.to_string().into()),
    };
    let directory =
        MemoryDirectory::load(&inputs.org).map_err(|error| Failure::in_file(error.to_string(), &inputs.org))?;
    let runtime = Runtime::new(&compiled, &directory);

    let actions: Vec<Action> = match &inputs.actions {
        Some(path) => {
            let text = read(path, FileKind::Actions)?;
            parse(&text, path, "a list of actions")?
        }
        None => Vec::new(),
    };
    // From here to the save, no other run may touch the state (runs at once would lose actions).
    let state_file = arguments.state.as_deref().map(StateFile::lock).transpose()?;
    let saved = match &state_file {
        Some(state_file) => state_file.read()?,
        None => None,
    };
    let new_request: Option<NewRequest> = match (&saved, &inputs.request) {
        (Some(_), _) => None,
        (None, Some(path)) => {
            let text = read(path, FileKind::Request)?;
            Some(parse(&text, path, "a request")?)
        }
        (None, None) => {
            return Err("nothing to run: pass `--request FILE` (or `--state FILE` of a saved request)".into())
        }
    };
    let start = match (&saved, &new_request) {
        (Some(text), _) => match runtime.load_state(text, arguments.migrate, now) {
            Ok(request) => Start::Saved(Box::new(request)),
            Err(error) => {
                let file = arguments.state.as_deref();
                report_error_alone(&error, file, &analysis.sources, style, arguments.format);
                return Ok(if error.code == flowc::diag::Code::R0502 { EXIT_BAD_USAGE } else { EXIT_FOUND_ERRORS });
            }
        },
        (None, Some(new)) => {
            let name = arguments.workflow.as_deref().or(new.workflow.as_deref());
            let workflow = compiled.workflow_index(name).map_err(|error| Failure {
                message: error.message.clone(),
                file: None,
                code: Some(error.code.to_string()),
                help: error.help.clone(),
            })?;
            Start::New { workflow, request: new }
        }
        (None, None) => return Err("nothing to run".into()),
    };

    let result = runtime.run_until(start, &actions, now, until);
    if let (Some(state_file), Some(request)) = (&state_file, &result.request) {
        let text = runtime.save_state(request).map_err(|error| error.message.clone())?;
        state_file.write(&text)?;
    }
    drop(state_file);
    if let Some(path) = &arguments.html {
        let workflow = arguments.workflow.as_deref().or(new_request.as_ref().and_then(|new| new.workflow.as_deref()));
        write_html(path, workflow, &analysis, &compiled, &runtime, &result, now, &directory)?;
    }
    if let Some(path) = &arguments.print {
        match &result.request {
            Some(request) => write_page(path, &runtime, request, arguments.opinions, now)?,
            None => {
                let _ = writeln!(std::io::stderr(), "no page printed: the request was not created");
            }
        }
    }
    // Buffered: stdout flushes at every newline, a write call per line of a long report.
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    match arguments.format {
        Format::Json => {
            let rows = if arguments.all_rows { session::Rows::All } else { session::Rows::SummarizeBig };
            let document = session::report_with(&runtime, &result, now, &analysis.sources, rows);
            let _ = serde_json::to_writer_pretty(&mut stdout, &document);
            let _ = writeln!(stdout);
        }
        Format::Text => {
            let report = result.error.as_ref().and_then(|(_, error)| {
                error.to_diagnostic().map(|diagnostic| render::to_text(&diagnostic, &analysis.sources, style))
            });
            let report = report.or_else(|| {
                result.error.as_ref().map(|(_, error)| {
                    let help = error.help.as_ref().map(|help| format!("\n  help: {help}")).unwrap_or_default();
                    format!("error[{}]: {}{help}", error.code, error.message)
                })
            });
            let _ = write!(stdout, "{}", trace::render(&runtime, &result, now, report.as_deref()));
        }
    }
    let _ = stdout.flush();
    Ok(if result.error.is_some() { EXIT_FOUND_ERRORS } else { EXIT_OK })
}

/// `--html OUT.html`: the run's JSON report drawn over the route, as `flowc graph --format html --trace` draws it.
#[allow(clippy::too_many_arguments)]
fn write_html(
    path: &Path,
    workflow: Option<&str>,
    analysis: &check::Analysis,
    compiled: &Compiled,
    runtime: &Runtime<'_>,
    result: &session::RunResult,
    now: DateTime,
    directory: &MemoryDirectory,
) -> Result<(), String> {
    let report = serde_json::to_value(session::report(runtime, result, now, &analysis.sources))
        .map_err(|error| format!("cannot draw the run: {error}"))?;
    let trace = flowc::graph::overlay::Trace::from_value(&report)?;
    let route = flowc::graph::route_of(analysis, &compiled.program, trace.workflow.as_deref().or(workflow))?;
    let page = super::graph::run_page(&route, &trace, Some(directory));
    std::fs::write(path, page).map_err(|error| format!("cannot write `{}`: {error}", path.display()))
}

/// An error before any action ran (a script that does not compile, a state that cannot be
/// continued): as a diagnostic on stderr, or with `--format json` as the error document.
/// `file` is the input file it is about, named in the message when no diagnostic points into
/// the `.flow`.
fn report_error_alone(
    error: &flowc::runtime::error::RuntimeError,
    file: Option<&Path>,
    sources: &SourceMap,
    style: TextStyle,
    format: Format,
) {
    let diagnostic = error.to_diagnostic();
    let message = match (file, &diagnostic) {
        (Some(file), None) => format!("`{}`: {}", file.display(), error.message),
        _ => error.message.clone(),
    };
    if format == Format::Json {
        let diagnostic = diagnostic
            .and_then(|diagnostic| serde_json::to_value(render::to_json(&diagnostic, sources)).ok())
            .unwrap_or_default();
        let code = error.code.to_string();
        print_json(&error_document(Some(&code), &message, error.help.as_deref(), file, diagnostic));
        return;
    }
    let mut stderr = std::io::stderr().lock();
    match diagnostic {
        Some(diagnostic) => {
            let _ = writeln!(stderr, "{}", render::to_text(&diagnostic, sources, style));
        }
        None => {
            let help = error.help.as_ref().map(|help| format!("\n  help: {help}")).unwrap_or_default();
            let text = format!("error[{}]: {message}{help}", error.code);
            let _ = writeln!(stderr, "{}", escape_controls(&text));
        }
    }
}

/// The clock, read once, at UTC+8 (the manual's users); `--now` overrides it.
fn system_now() -> DateTime {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(0));
    let epoch = DateTime {
        date: flowc::runtime::values::dates::Date(0),
        time: flowc::runtime::values::dates::Time(0),
        offset_minutes: 0,
    };
    DateTime::from_unix(seconds, 8 * 60).unwrap_or(epoch)
}
