//! The test harness: the real `flowc-serve` binary on loopback (port 0) over a copy of
//! examples/expense, with a temporary SQLite file or, when `FLOWC_TEST_POSTGRES` names a
//! server, a fresh PostgreSQL database; and a small blocking HTTP/1.1 client.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The people of examples/expense the tests use.
pub const CREATOR: &str = "E0123"; // 冯涛
pub const MANAGER: &str = "E0122"; // 郑洁, the project P1 manager: 部门审批 of 冯涛's claim
pub const OUTSIDER: &str = "E0201"; // 沈立, Shanghai: nothing to do with 冯涛's claims
pub const ADMIN: &str = "E0001"; // 马建国, holds 总经理, the --admin-role of the tests
pub const PEOPLE: [&str; 4] = [CREATOR, MANAGER, OUTSIDER, ADMIN];

/// The databases to run a test against: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if let Ok(url) = std::env::var("FLOWC_TEST_POSTGRES") {
        if !url.is_empty() {
            backends.push(Backend::Postgres(url));
        }
    }
    backends
}

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres(String),
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique(name: &str) -> String {
    format!("{name}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// A folder with the expense example and a database for it.
pub struct World {
    pub folder: PathBuf,
    pub db: String,
}

impl World {
    pub fn new(backend: &Backend) -> World {
        World::of(backend, "examples/expense")
    }

    /// A world over a copy of `source` (a folder of the repository: a .flow and its org.toml).
    pub fn of(backend: &Backend, source: &str) -> World {
        let folder = std::env::temp_dir().join(unique("flowc-serve-test"));
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(source);
        std::fs::create_dir_all(&folder).expect("temp folder");
        copy_folder(&example, &folder);
        let db = match backend {
            Backend::Sqlite => format!("sqlite://{}", folder.join("flowc.db").display()),
            Backend::Postgres(url) => fresh_postgres_database(url),
        };
        World { folder, db }
    }

    /// Issues a token with `flowc serve token create`.
    pub fn token(&self, person: &str) -> String {
        let output = Command::new(env!("CARGO_BIN_EXE_flowc-serve"))
            .args(["serve", "token", "create", person, "--db", &self.db])
            .output()
            .expect("token create");
        assert!(output.status.success(), "token create: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).expect("utf-8").trim().to_owned()
    }

    pub fn start(&self) -> Server {
        Server::start(&self.folder, &self.db, &[])
    }

    /// A server whose clock starts at `now` and moves only by `POST /test/clock`.
    pub fn start_at(&self, now: &str) -> Server {
        Server::start(&self.folder, &self.db, &["--test-clock", now])
    }
}

fn copy_folder(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("example") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).expect("dir");
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A new database on the PostgreSQL server of `url`, and its URL.
fn fresh_postgres_database(url: &str) -> String {
    let name = unique("flowc_test");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url).await.expect("connect to FLOWC_TEST_POSTGRES");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&pool).await.expect("create database");
        pool.close().await;
    });
    // Replace the database name (the path after the host) by the new one, keeping the query.
    let (base, query) = url.split_once('?').map_or((url, ""), |(base, query)| (base, query));
    let after_scheme = base.find("://").map_or(0, |index| index + 3);
    let host_end =
        base.get(after_scheme..).and_then(|rest| rest.find('/')).map_or(base.len(), |index| index + after_scheme);
    let host = base.get(..host_end).unwrap_or(base);
    if query.is_empty() {
        format!("{host}/{name}")
    } else {
        format!("{host}/{name}?{query}")
    }
}

/// A running server; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub address: String,
}

impl Server {
    pub fn start(folder: &Path, db: &str, extra: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_flowc-serve"))
            .arg("serve")
            .arg(folder)
            .args(["--db", db, "--listen", "127.0.0.1:0", "--admin-role", "总经理"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start flowc-serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("the first line");
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Server { child, address }
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Answer {
        call(&self.address, method, path, token, body, &[])
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_str())
    }
}

/// One HTTP/1.1 call on a new connection (`Connection: close`, the answer read to its end).
pub fn call(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Answer {
    let mut stream = TcpStream::connect(address).expect("connect");
    let body = body.unwrap_or("");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("receive");
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status =
        lines.next().and_then(|line| line.split_whitespace().nth(1)).and_then(|code| code.parse().ok()).unwrap_or(0);
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Answer { status, headers, body: body.to_owned() }
}

/// The expense example's request, without its creator (the server takes the token's person).
pub fn claim() -> String {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/expense/request.json"))
            .expect("request.json");
    let mut request: serde_json::Value = serde_json::from_str(&text).expect("json");
    request.as_object_mut().expect("object").remove("creator");
    request.to_string()
}

/// Creates a claim as `token`'s person and returns its id.
pub fn create_claim(server: &Server, token: &str) -> i64 {
    let answer = server.call("POST", "/requests", Some(token), Some(&claim()));
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.json()["id"].as_i64().expect("id")
}
