//! The service's commands: `flowc serve [FOLDER]`, `flowc serve token create PERSON` and
//! `flowc report`. Exit statuses as the library's commands: 0 done, 1 the workflows do not
//! check, 2 bad usage or an input or database that cannot be used.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Subcommand, ValueEnum};
use flowc::org::MemoryDirectory;
use flowc::runtime::report::session::RunFiles;

use crate::api::{self, Service};
use crate::{auth, clock, db, program, report, transition};

const EXIT_BAD_USAGE: u8 = 2;

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    #[command(subcommand)]
    command: Option<ServeCommand>,
    /// The folder of the workflows: one .flow file and its org.toml (or a .flow file with --org).
    folder: Option<PathBuf>,
    /// The database: `sqlite://FILE`, a plain file path (SQLite), or `postgres://…`.
    /// Default: flowc.db beside the workflows.
    #[arg(long)]
    db: Option<String>,
    /// The directory (组织架构), TOML or JSON; default: the folder's org.toml or org.json.
    #[arg(long)]
    org: Option<PathBuf>,
    /// The address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// People holding this role (in the directory) see every request, search and read reports.
    #[arg(long, value_name = "ROLE")]
    admin_role: Option<String>,
    /// The largest request body accepted, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body: usize,
    /// Database connections this server keeps open.
    #[arg(long, default_value_t = 16)]
    connections: u32,
    /// SQLite only: `full` answers an action once its commit is on disk (it survives a power
    /// loss); `normal` once it is in the write-ahead log (it survives the server's crash, not
    /// the machine's), which spares a disk flush per action.
    #[arg(long, value_enum, default_value = "full")]
    sqlite_sync: db::SqliteSync,
    /// Seconds between two looks for deadline timers due (they are also fired at start and
    /// before every action).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    tick: u64,
    /// For tests: the clock starts at this time (2026-11-28T09:00:00+08:00) and stands still
    /// but for `POST /test/clock`, which administrators may call to move it.
    #[arg(long, value_name = "NOW", hide = true)]
    test_clock: Option<String>,
    /// Trust this request header (e.g. `X-Employee-Id`) to name the person, as set by a reverse
    /// proxy that authenticated them and strips the header from what clients send. Bearer
    /// tokens keep working; without this option the header means nothing.
    #[arg(long, value_name = "NAME")]
    identity_header: Option<String>,
    /// Move the open requests stored on an older version of the workflows to this one, each
    /// replayed under it (as `flowc run --state --migrate`); without it they stay on theirs.
    #[arg(long)]
    migrate: bool,
}

#[derive(Subcommand)]
enum ServeCommand {
    /// Bearer tokens: `flowc serve token create E0101` prints a new one for that person.
    #[command(subcommand)]
    Token(TokenCommand),
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token to a person (employee id); it is printed once and stored hashed.
    Create {
        person: String,
        /// The database (as for `flowc serve`); default: flowc.db in the current folder.
        #[arg(long)]
        db: Option<String>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args)]
pub struct ReportArgs {
    /// The database (as for `flowc serve`); default: flowc.db in the current folder.
    #[arg(long)]
    db: Option<String>,
    /// First day (YYYY-MM-DD, UTC+8) of the requests and actions counted.
    #[arg(long)]
    from: Option<String>,
    /// Last day counted.
    #[arg(long)]
    to: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

/// A database argument as a URL: a plain path names a SQLite file.
pub fn database_url(db: Option<&str>, folder: &Path) -> String {
    match db {
        Some(url) if url.contains("://") || url.starts_with("sqlite:") => url.to_owned(),
        Some(path) => format!("sqlite://{path}"),
        None => db::default_url(folder),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|error| format!("cannot start: {error}"))
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {}", flowc::diag::terminal::escape_controls(message));
    ExitCode::from(EXIT_BAD_USAGE)
}

pub fn serve(arguments: ServeArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(message) => return fail(&message),
    };
    match arguments.command {
        Some(ServeCommand::Token(TokenCommand::Create { person, db })) => {
            let url = database_url(db.as_deref(), Path::new("."));
            runtime.block_on(async {
                let pool = match connect(&url).await {
                    Ok(pool) => pool,
                    Err(message) => return fail(&message),
                };
                match auth::create(&pool, &person, &clock::now().to_string()).await {
                    Ok(token) => {
                        println!("{token}");
                        ExitCode::SUCCESS
                    }
                    Err(message) => fail(&message),
                }
            })
        }
        None => runtime.block_on(serve_folder(arguments)),
    }
}

async fn connect(url: &str) -> Result<sqlx::AnyPool, String> {
    let pool = db::connect(url, 4).await.map_err(|error| format!("cannot open the database `{url}`: {error}"))?;
    db::migrate(&pool, db::MIGRATIONS.len()).await.map_err(|error| format!("cannot migrate the database: {error}"))?;
    Ok(pool)
}

async fn serve_folder(arguments: ServeArgs) -> ExitCode {
    let _ = tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).try_init();
    let folder = arguments.folder.clone().unwrap_or_else(|| PathBuf::from("."));
    let found = if folder.is_dir() {
        match RunFiles::from_folder(&folder) {
            Ok(found) => found,
            Err(message) => return fail(&message),
        }
    } else {
        RunFiles { flow: Some(folder.clone()), ..RunFiles::default() }
    };
    let Some(flow) = found.flow else { return fail(&format!("no .flow file in `{}`", folder.display())) };
    let Some(org) = arguments.org.clone().or(found.org) else {
        return fail("no directory: pass `--org FILE` (or put org.toml next to the .flow)");
    };
    let color = flowc::cli::use_color();
    let current = match program::load_current(&flow, color) {
        Ok(version) => version,
        Err(refusal) => {
            eprintln!("{}", refusal.report);
            return ExitCode::from(refusal.status);
        }
    };
    let directory = match MemoryDirectory::load(&org) {
        Ok(directory) => directory,
        Err(error) => return fail(&error.to_string()),
    };
    let base =
        if folder.is_dir() { folder.clone() } else { folder.parent().map(Path::to_path_buf).unwrap_or_default() };
    let url = database_url(arguments.db.as_deref(), &base);
    let db::Pools { pool, writer } = match db::connect_pools(&url, arguments.connections, arguments.sqlite_sync).await {
        Ok(pools) => pools,
        Err(error) => return fail(&format!("cannot open the database `{url}`: {error}")),
    };
    if let Err(error) = db::migrate(&pool, db::MIGRATIONS.len()).await {
        return fail(&format!("cannot migrate the database: {error}"));
    }
    let root = flow.display().to_string();
    if let Err(error) = db::store_version(&pool, &current.hash, &root, &current.files, &clock::now().to_string()).await
    {
        return fail(&format!("cannot store the workflows' version: {error}"));
    }
    if let Some(now) = &arguments.test_clock {
        match flowc::runtime::values::dates::DateTime::parse(now) {
            Some(now) => clock::set_test_now(now),
            None => return fail(&format!("`--test-clock {now}` is not a date and time (2026-11-28T09:00:00+08:00)")),
        }
    }
    let identity_header = match arguments.identity_header.as_deref().map(axum::http::HeaderName::try_from) {
        None => None,
        Some(Ok(name)) => Some(name),
        Some(Err(_)) => return fail("`--identity-header` is not a header name"),
    };
    let versions = program::Versions::default();
    let current = versions.insert(current);
    let hash = current.hash.clone();
    let service = Arc::new(Service {
        pool,
        writer,
        versions,
        current,
        directory,
        admin_role: arguments.admin_role.clone(),
        metrics: Default::default(),
        tokens: Default::default(),
        test_clock: arguments.test_clock.is_some(),
        identity_header,
    });
    if arguments.migrate {
        match crate::migrate::open_requests(&service).await {
            Ok(outcome) => {
                eprintln!(
                    "flowc serve: --migrate moved {} open requests to version {hash}{}",
                    outcome.moved.len(),
                    if outcome.kept.is_empty() {
                        String::new()
                    } else {
                        format!("; {} kept on theirs", outcome.kept.len())
                    }
                );
                for (id, why) in &outcome.kept {
                    eprintln!("  request {id} stays on its version: {why}");
                }
            }
            Err(error) => return fail(&format!("--migrate: {error}")),
        }
    }
    // The timers due while no server ran fire before the first call is answered.
    let fired = transition::tick(&service).await;
    if !fired.is_empty() {
        tracing::info!(requests = fired.len(), "deadline timers fired at start");
    }
    tokio::spawn(transition::run_timers(service.clone(), std::time::Duration::from_secs(arguments.tick)));
    let listener = match tokio::net::TcpListener::bind(arguments.listen).await {
        Ok(listener) => listener,
        Err(error) => return fail(&format!("cannot listen on {}: {error}", arguments.listen)),
    };
    let address = listener.local_addr().map_or_else(|_| arguments.listen.to_string(), |address| address.to_string());
    // The first line on stdout: scripts and tests read the address from it.
    println!("flowc serve: listening on http://{address} (workflows {hash}, database {})", redact(&url));
    tracing::info!(%address, version = %hash, "serving");
    let app = api::router(service, arguments.max_body);
    match axum::serve(listener, app).with_graceful_shutdown(shutdown()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&format!("the server stopped: {error}")),
    }
}

/// A database URL without its password, for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = url.get(scheme + 3..at).unwrap_or("");
            let user = credentials.split(':').next().unwrap_or("");
            format!("{}{user}@{}", url.get(..scheme + 3).unwrap_or(""), url.get(at + 1..).unwrap_or(""))
        }
        _ => url.to_owned(),
    }
}

async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(terminate) => terminate,
            Err(_) => {
                let _ = interrupt.await;
                return;
            }
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

pub fn report(arguments: ReportArgs) -> ExitCode {
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(message) => return fail(&message),
    };
    let url = database_url(arguments.db.as_deref(), Path::new("."));
    runtime.block_on(async {
        let from = match arguments.from.as_deref().map(|date| clock::date_ms(date).ok_or(date)).transpose() {
            Ok(from) => from,
            Err(date) => return fail(&format!("`--from {date}` is not a date (write 2026-11-28)")),
        };
        let to = match arguments
            .to
            .as_deref()
            .map(|date| clock::date_ms(date).map(|ms| ms + 86_400_000).ok_or(date))
            .transpose()
        {
            Ok(to) => to,
            Err(date) => return fail(&format!("`--to {date}` is not a date (write 2026-11-28)")),
        };
        let pool = match connect(&url).await {
            Ok(pool) => pool,
            Err(message) => return fail(&message),
        };
        match report::compute(&pool, from, to).await {
            Ok(report) => {
                match arguments.format {
                    Format::Json => println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default()),
                    Format::Text => print!("{}", report::to_text(&report)),
                }
                ExitCode::SUCCESS
            }
            Err(error) => fail(&format!("cannot read the database: {error}")),
        }
    })
}
