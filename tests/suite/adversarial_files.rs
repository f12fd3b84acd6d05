//! Hostile input files (issue 8): a device (`/dev/zero`), a FIFO, links out of the workflow's
//! folder, absolute and `..` script paths, `/proc/self/environ`, files past their size limit
//! (sparse, so they cost no disk). The real binary runs on each, under `--format text` and
//! `--format json`, and must: finish within seconds (the child is killed otherwise, and runs
//! under a 1 GiB address-space limit so a runaway read fails instead of eating the machine),
//! exit 1 or 2 as documented, print exactly one JSON document on stdout under `--format json`,
//! name the file at fault, and never show what a foreign file holds.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Every child has this in its environment, so `/proc/self/environ` holds it; the foreign file
/// the links point at holds it too. It must never appear in any output.
const SECRET: &str = "FLOWC_PROBE_SECRET_7d1c0e";

/// How long a child may take. A debug build on a busy machine checks these files in well under
/// a second; a hang (a FIFO opened for reading) is killed here.
const DEADLINE: Duration = Duration::from_secs(10);

/// The size limits of docs/runtime.md ("Input files"), in bytes.
const FLOW_LIMIT: u64 = 64 << 20;
const SCRIPT_LIMIT: u64 = 1 << 20;
const DIRECTORY_LIMIT: u64 = 128 << 20;
const REQUEST_LIMIT: u64 = 128 << 20;
const ACTIONS_LIMIT: u64 = 128 << 20;
const STATE_LIMIT: u64 = 256 << 20;

const FLOW: &str = r#"form 单 "单" {
  申请人: employee "申请人" = creator
  备注: text(100) "备注"
}

workflow 流程 "流程" {
  form 单

  node 申请: create {
    operators { everyone }
    editable 备注
    exit 提交 -> 归档 { script "SCRIPT" }
  }

  node 归档: archive
}
"#;

const ORG: &str = r#"[[subcompany]]
id = "HQ"
name = "总部"

[[department]]
id = "D1"
name = "办公室"
subcompany = "HQ"

[[employee]]
id = "E1"
name = "甲"
department = "D1"
"#;

const REQUEST: &str = r#"{ "creator": "E1", "form": { "备注": "你好" } }"#;
const ACTIONS: &str = r#"[ { "by": "E1", "do": "submit" } ]"#;
const SCRIPT: &str = "form[\"备注\"] = \"已处理\";\n";

struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `flowc args…` with a deadline and a memory bound; panics when it does not finish.
fn flowc_bounded(args: &[&str]) -> Outcome {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_flowc"))
        .args(args)
        .env("NO_COLOR", "1")
        .env("FLOWC_PROBE", SECRET)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start flowc");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stdout.read_to_end(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = Vec::new();
        let _ = stderr.read_to_end(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`flowc {}` did not finish within {DEADLINE:?}", args.join(" "));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = String::from_utf8_lossy(&out.join().expect("stdout reader")).into_owned();
    let stderr = String::from_utf8_lossy(&err.join().expect("stderr reader")).into_owned();
    Outcome { status: status.code().unwrap_or(-1), stdout, stderr }
}

/// A scratch folder holding a workflow whose script statement names `script`, with the
/// directory, request and actions beside it; removed when dropped.
struct Scene {
    root: PathBuf,
    folder: PathBuf,
}

impl Scene {
    fn new(name: &str, script: &str) -> Scene {
        let root = std::env::temp_dir().join(format!("flowc-adversarial-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let folder = root.join("workflow");
        std::fs::create_dir_all(folder.join("scripts")).expect("scratch folder");
        // The foreign file: outside the workflow's folder, holding the secret.
        std::fs::write(root.join("secret.txt"), format!("{SECRET} = 1;\n")).expect("secret");
        let scene = Scene { root, folder };
        scene.write("w.flow", &FLOW.replace("SCRIPT", script));
        scene.write("org.toml", ORG);
        scene.write("request.json", REQUEST);
        scene.write("actions.json", ACTIONS);
        scene.write("scripts/ok.rhai", SCRIPT);
        scene
    }

    fn path(&self, name: &str) -> String {
        self.folder.join(name).to_string_lossy().into_owned()
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.folder.join(name), text).expect("write");
        self.path(name)
    }

    fn fifo(&self, name: &str) -> String {
        let path = self.path(name);
        let status = Command::new("mkfifo").arg(&path).status().expect("mkfifo");
        assert!(status.success(), "mkfifo {path}");
        path
    }

    /// A sparse file of `size` bytes: as big as it says, yet it takes no disk.
    fn sparse(&self, name: &str, size: u64) -> String {
        let file = std::fs::File::create(self.folder.join(name)).expect("create");
        file.set_len(size).expect("set_len");
        self.path(name)
    }

    /// A link inside the folder to the secret outside it.
    fn link_out(&self, name: &str) -> String {
        std::os::unix::fs::symlink(self.root.join("secret.txt"), self.folder.join(name)).expect("symlink");
        self.path(name)
    }

    fn link(&self, name: &str, target: &str) -> String {
        std::os::unix::fs::symlink(target, self.folder.join(name)).expect("symlink");
        self.path(name)
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The checks every outcome gets: the exit status, one JSON document (or none) on stdout, no
/// panic and no secret. Returns the JSON document under `json`.
fn assert_outcome(outcome: &Outcome, json: bool, status: i32, what: &str) -> Option<serde_json::Value> {
    let all = outcome.all();
    assert_eq!(outcome.status, status, "{what}: exit status\n{all}");
    assert!(!all.contains("panicked"), "{what}: a panic\n{all}");
    assert!(!all.contains(SECRET), "{what}: a foreign file's content leaked\n{all}");
    assert!(!all.contains("root:") && !all.contains("Undefined variable"), "{what}: a foreign file leaked\n{all}");
    if !json {
        return None;
    }
    let mut documents = serde_json::Deserializer::from_str(&outcome.stdout).into_iter::<serde_json::Value>();
    let document = match documents.next() {
        Some(Ok(document)) => document,
        other => panic!("{what}: no JSON document on stdout ({other:?})\n{all}"),
    };
    assert!(documents.next().is_none(), "{what}: more than one JSON document\n{all}");
    Some(document)
}

/// Under `--format json` an exit-2 error is the error document of docs/runtime.md.
fn assert_error_document(document: &serde_json::Value, names: &str, what: &str) {
    assert_eq!(document["status"], "error", "{what}: {document:#}");
    let message = document["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains(names), "{what}: the message does not name `{names}`: {document:#}");
}

/// Runs `args` under both formats; each must exit `status` and name `names`.
fn both_formats(args: &[&str], status: i32, names: &str, what: &str) {
    for json in [false, true] {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--format", if json { "json" } else { "text" }]);
        let outcome = flowc_bounded(&all);
        let what = format!("{what} (--format {})", if json { "json" } else { "text" });
        match assert_outcome(&outcome, json, status, &what) {
            Some(document) if status == 2 => assert_error_document(&document, names, &what),
            Some(document) => {
                assert!(document.to_string().contains(names), "{what}: `{names}` not named: {document:#}")
            }
            None => assert!(outcome.stderr.contains(names), "{what}: `{names}` not named:\n{}", outcome.all()),
        }
    }
}

// ---- flowc check ----------------------------------------------------------------------------

#[test]
fn check_refuses_devices_fifos_folders_and_oversized_files_without_reading_them() {
    let scene = Scene::new("check-inputs", "scripts/ok.rhai");
    let fifo = scene.fifo("fifo.flow");
    let big = scene.sparse("big.flow", FLOW_LIMIT + 1);
    let zero = scene.link("zero.flow", "/dev/zero");
    for (file, names) in [
        ("/dev/zero", "/dev/zero"),
        (zero.as_str(), "zero.flow"),
        (fifo.as_str(), "fifo.flow"),
        (big.as_str(), "big.flow"),
        ("tests/data/does/not/exist.flow", "exist.flow"),
    ] {
        both_formats(&["check", file], 2, names, &format!("check {file}"));
    }
    let outcome = flowc_bounded(&["check", &big]);
    assert!(outcome.stderr.contains("64 MiB"), "the limit is named: {}", outcome.stderr);
}

#[test]
fn a_use_of_a_fifo_or_a_device_is_a_diagnostic_not_a_hang() {
    let scene = Scene::new("use-fifo", "scripts/ok.rhai");
    scene.fifo("pipe.flow");
    scene.link("zero.flow", "/dev/zero");
    scene.sparse("big.flow", FLOW_LIMIT + 1);
    for module in ["pipe", "zero", "big"] {
        let text = format!("use {module}\n{}", FLOW.replace("SCRIPT", "scripts/ok.rhai"));
        let file = scene.write("uses.flow", &text);
        both_formats(&["check", &file], 1, &format!("{module}.flow"), &format!("use {module}"));
    }
}

#[test]
fn script_paths_stay_inside_the_workflows_folder() {
    for (name, script) in [
        ("shadow", "/etc/shadow"),
        ("passwd", "../../../../../../../../etc/passwd"),
        ("environ", "/proc/self/environ"),
        ("zero", "/dev/zero"),
        ("dotdot", "../secret.txt"),
        ("sneaky", "scripts/../../secret.txt"),
    ] {
        let scene = Scene::new(&format!("script-{name}"), script);
        let flow = scene.path("w.flow");
        both_formats(&["check", &flow], 1, "E0113", script);
        both_formats(&["run", &scene.folder.to_string_lossy()], 1, "E0113", &format!("run with {script}"));
    }
}

#[test]
fn a_script_linked_out_of_the_folder_is_refused() {
    let scene = Scene::new("script-link", "scripts/ledger.rhai");
    std::os::unix::fs::symlink(scene.root.join("secret.txt"), scene.folder.join("scripts/ledger.rhai"))
        .expect("symlink");
    let flow = scene.path("w.flow");
    both_formats(&["check", &flow], 1, "E0113", "a link out");
    both_formats(&["run", &scene.folder.to_string_lossy()], 1, "E0113", "run with a link out");

    // A link to a whole folder outside is the same.
    let scene = Scene::new("script-folder-link", "outside/secret.txt");
    std::os::unix::fs::symlink(&scene.root, scene.folder.join("outside")).expect("symlink");
    both_formats(&["check", &scene.path("w.flow")], 1, "E0113", "a folder link out");

    // A link that stays inside is fine.
    let scene = Scene::new("script-inner-link", "scripts/alias.rhai");
    std::os::unix::fs::symlink("ok.rhai", scene.folder.join("scripts/alias.rhai")).expect("symlink");
    let outcome = flowc_bounded(&["run", &scene.folder.to_string_lossy(), "--format", "json"]);
    let document = assert_outcome(&outcome, true, 0, "a link inside").expect("JSON");
    assert_eq!(document["request"]["form"]["备注"], "已处理", "{document:#}");
}

#[test]
fn a_script_that_is_not_a_small_regular_file_is_an_error_found_without_reading_it() {
    // A link to a device leads out of the folder: E0113 before the kind is looked at.
    for (name, make, code) in
        [("fifo", 0, "E0114"), ("big", 1, "E0114"), ("folder", 2, "E0114"), ("device", 3, "E0113")]
    {
        let scene = Scene::new(&format!("script-kind-{name}"), "scripts/x.rhai");
        match make {
            0 => drop(scene.fifo("scripts/x.rhai")),
            1 => drop(scene.sparse("scripts/x.rhai", SCRIPT_LIMIT + 1)),
            2 => std::fs::create_dir(scene.folder.join("scripts/x.rhai")).expect("mkdir"),
            _ => drop(scene.link("scripts/x.rhai", "/dev/zero")),
        }
        let flow = scene.path("w.flow");
        both_formats(&["check", &flow], 1, code, &format!("script {name}"));
        both_formats(&["run", &scene.folder.to_string_lossy()], 1, code, &format!("run with script {name}"));
    }
}

#[test]
fn check_json_prints_one_document_for_a_missing_file() {
    let outcome = flowc_bounded(&["check", "--format", "json", "missing.flow"]);
    let document = assert_outcome(&outcome, true, 2, "check missing.flow").expect("JSON");
    assert_error_document(&document, "missing.flow", "check missing.flow");
    assert_eq!(document["error"]["file"], "missing.flow", "{document:#}");
}

// ---- flowc run: the input files -------------------------------------------------------------

#[test]
fn run_refuses_devices_fifos_folders_and_oversized_inputs() {
    let scene = Scene::new("run-inputs", "scripts/ok.rhai");
    let flow = scene.path("w.flow");
    let org = scene.path("org.toml");
    let request = scene.path("request.json");
    let actions = scene.path("actions.json");
    let fifo = scene.fifo("fifo.json");
    let fifo_org = scene.fifo("fifo.toml");
    let zero_org = scene.link("zero.toml", "/dev/zero");
    let zero_json = scene.link("zero.json", "/dev/zero");
    let big_org = scene.sparse("big.toml", DIRECTORY_LIMIT + 1);
    let big_request = scene.sparse("big-request.json", REQUEST_LIMIT + 1);
    let big_actions = scene.sparse("big-actions.json", ACTIONS_LIMIT + 1);
    let big_state = scene.sparse("big-state.json", STATE_LIMIT + 1);
    let folder = scene.folder.join("scripts").to_string_lossy().into_owned();
    let cases: Vec<(&str, String, &str)> = vec![
        ("--org", zero_org.clone(), "zero.toml"),
        ("--org", fifo_org.clone(), "fifo.toml"),
        ("--org", big_org.clone(), "big.toml"),
        ("--request", "/dev/zero".into(), "/dev/zero"),
        ("--request", zero_json.clone(), "zero.json"),
        ("--request", fifo.clone(), "fifo.json"),
        ("--request", big_request.clone(), "big-request.json"),
        ("--request", folder.clone(), "scripts"),
        ("--actions", "/dev/zero".into(), "/dev/zero"),
        ("--actions", fifo.clone(), "fifo.json"),
        ("--actions", big_actions.clone(), "big-actions.json"),
        ("--state", "/dev/zero".into(), "/dev/zero"),
        ("--state", fifo.clone(), "fifo.json"),
        ("--state", big_state.clone(), "big-state.json"),
    ];
    for (option, file, names) in &cases {
        let mut args = vec!["run", flow.as_str()];
        for (good_option, good_file) in [("--org", &org), ("--request", &request), ("--actions", &actions)] {
            if good_option != *option {
                args.extend([good_option, good_file.as_str()]);
            }
        }
        args.extend([*option, file.as_str()]);
        both_formats(&args, 2, names, &format!("run {option} {file}"));
    }
    // The limit is in the message.
    let outcome = flowc_bounded(&["run", &flow, "--org", &big_org, "--request", &request]);
    assert!(outcome.stderr.contains("128 MiB"), "{}", outcome.stderr);
}

#[test]
fn proc_files_as_inputs_show_nothing_of_what_they_hold() {
    let scene = Scene::new("run-proc", "scripts/ok.rhai");
    let flow = scene.path("w.flow");
    let org = scene.path("org.toml");
    let request = scene.path("request.json");
    let environ_org = scene.link("environ.toml", "/proc/self/environ");
    let environ_json = scene.link("environ.json", "/proc/self/environ");
    let secret_org = scene.link_out("secret.toml");
    for (option, file) in [
        ("--request", "/proc/self/environ"),
        ("--actions", "/proc/self/environ"),
        ("--state", "/proc/self/environ"),
        ("--request", environ_json.as_str()),
        ("--org", environ_org.as_str()),
        ("--org", secret_org.as_str()),
    ] {
        let names = Path::new(file).file_name().expect("name").to_string_lossy().into_owned();
        let mut args = vec!["run", flow.as_str()];
        for (good_option, good_file) in [("--org", &org), ("--request", &request)] {
            if good_option != option {
                args.extend([good_option, good_file.as_str()]);
            }
        }
        args.extend([option, file]);
        both_formats(&args, 2, &names, &format!("run {option} {file}"));
    }
}

#[test]
fn every_exit_two_under_json_is_one_document() {
    let scene = Scene::new("run-json", "scripts/ok.rhai");
    let flow = scene.path("w.flow");
    let org = scene.path("org.toml");
    let request = scene.path("request.json");
    let bad_actions = scene.write("bad-actions.json", "{ not json");
    let unwritable = scene.root.join("no/such/folder/state.json").to_string_lossy().into_owned();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", &flow, "--org", &org, "--request", &request, "--actions", &bad_actions], "bad-actions.json"),
        (vec!["run", &flow, "--org", &org, "--request", &request, "--workflow", "没有"], "没有"),
        (vec!["run", &flow, "--request", &request], "--org"),
        (vec!["run", &flow, "--org", &org, "--request", &request, "--state", &unwritable], "state.json"),
        (vec!["run", &flow, "--org", &org], "--request"),
        (vec!["run", &flow, "--org", &org, "--request", &request, "--now", "yesterday"], "yesterday"),
        (vec!["run", "missing.flow", "--org", &org, "--request", &request], "missing.flow"),
        (vec!["check", "missing.flow"], "missing.flow"),
    ];
    for (args, names) in cases {
        both_formats(&args, 2, names, &args.join(" "));
    }
    let outcome = flowc_bounded(&["run", &flow, "--org", &org, "--request", &request, "--workflow", "没有"]);
    assert!(outcome.stderr.contains("R0502"), "an unknown workflow keeps its code: {}", outcome.stderr);
    let outcome =
        flowc_bounded(&["run", &flow, "--org", &org, "--request", &request, "--workflow", "没有", "--format", "json"]);
    let document = assert_outcome(&outcome, true, 2, "--workflow 没有").expect("JSON");
    assert_eq!(document["error"]["code"], "R0502", "{document:#}");
}

#[test]
fn usage_errors_under_format_json_are_one_document() {
    for args in [
        vec!["check", "--format", "json"],
        vec!["check", "--format", "json", "--bogus", "x.flow"],
        vec!["run", "--format=json", "--now"],
        vec!["--format", "json", "frobnicate"],
    ] {
        let outcome = flowc_bounded(&args);
        let what = args.join(" ");
        let document = assert_outcome(&outcome, true, 2, &what).expect("JSON");
        assert_eq!(document["status"], "error", "{what}: {document:#}");
        assert!(document["error"]["message"].as_str().is_some_and(|message| !message.is_empty()), "{document:#}");
    }
    // Without `--format json` a usage error stays clap's text on stderr.
    let outcome = flowc_bounded(&["check", "--bogus"]);
    assert_outcome(&outcome, false, 2, "check --bogus");
    assert!(outcome.stdout.is_empty() && outcome.stderr.contains("--bogus"), "{}", outcome.all());
}

#[test]
fn fmt_refuses_devices_and_fifos() {
    let scene = Scene::new("fmt", "scripts/ok.rhai");
    let fifo = scene.fifo("fifo.flow");
    let big = scene.sparse("big.flow", FLOW_LIMIT + 1);
    for file in ["/dev/zero", fifo.as_str(), big.as_str()] {
        for check in [false, true] {
            let mut args = vec!["fmt", file];
            if check {
                args.push("--check");
            }
            let outcome = flowc_bounded(&args);
            assert_outcome(&outcome, false, 2, file);
            let name = Path::new(file).file_name().expect("name").to_string_lossy().into_owned();
            assert!(outcome.stderr.contains(&name), "{}", outcome.stderr);
        }
    }
}

// ---- in process: the runtime's own refusal, and the language server --------------------------

/// A host's loader that lets every script through the checker, so the program compiles
/// "clean" and only the runtime's own rule stands between a script path and the disk.
struct TrustingLoader;

impl flowc::check::Loader for TrustingLoader {
    fn read(&self, path: &Path) -> Result<Vec<u8>, flowc::input_file::FileError> {
        flowc::input_file::read(path, flowc::input_file::FileKind::Flow)
    }

    fn find_script(&self, folder: &Path, written: &str) -> Result<PathBuf, flowc::input_file::ScriptProblem> {
        Ok(folder.join(written))
    }
}

/// Compiles the scene's workflow with `read_script`, on a thread with a deadline; the R0401
/// message of the refusal.
fn compile_refusal(scene: &Scene, reads: &'static std::sync::atomic::AtomicUsize) -> String {
    use flowc::runtime::compiled::{CompileError, Compiled};
    let flow = scene.folder.join("w.flow");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let analysis = flowc::check::check_paths(&[flow], &TrustingLoader);
        assert_eq!(analysis.error_count(), 0, "{:?}", analysis.diagnostics);
        let read_script = |path: &Path| {
            reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            flowc::input_file::read_script(path)
        };
        let result = match Compiled::new(&analysis, &read_script) {
            Err(CompileError::Script(error)) => {
                assert_eq!(error.code, flowc::diag::Code::R0401);
                Ok(error.message.clone())
            }
            Err(other) => Err(format!("not a script error: {other}")),
            Ok(_) => Err("compiled".to_owned()),
        };
        let _ = sender.send(result);
    });
    match receiver.recv_timeout(DEADLINE) {
        Ok(Ok(message)) => message,
        Ok(Err(problem)) => panic!("{problem}"),
        Err(_) => panic!("compiling did not finish within {DEADLINE:?}"),
    }
}

#[test]
fn the_runtime_refuses_scripts_outside_the_folder_before_reading_them() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    for (name, written) in [("absolute", "/etc/passwd"), ("dotdot", "../secret.txt"), ("link", "scripts/link.rhai")] {
        static READS: AtomicUsize = AtomicUsize::new(0);
        READS.store(0, Ordering::SeqCst);
        let scene = Scene::new(&format!("compile-{name}"), written);
        scene.link_out("scripts/link.rhai");
        let message = compile_refusal(&scene, &READS);
        assert!(message.contains(written), "{name}: the path as written is quoted: {message}");
        assert!(!message.contains(SECRET), "{name}: {message}");
        assert_eq!(READS.load(Ordering::SeqCst), 0, "{name}: nothing was read");
    }
}

#[test]
fn the_runtime_reader_refuses_a_fifo_script_without_blocking() {
    use std::sync::atomic::AtomicUsize;
    static READS: AtomicUsize = AtomicUsize::new(0);
    let scene = Scene::new("compile-fifo", "scripts/x.rhai");
    scene.fifo("scripts/x.rhai");
    let message = compile_refusal(&scene, &READS);
    assert!(message.contains("scripts/x.rhai") && message.contains("FIFO"), "{message}");
}

#[test]
fn the_language_server_reports_script_paths_and_unreadable_uses_without_hanging() {
    use lsp_types::notification::Notification as _;
    let scene = Scene::new("lsp", "/etc/passwd");
    scene.fifo("pipe.flow");
    let text = format!("use pipe\n{}", FLOW.replace("SCRIPT", "/etc/passwd"));
    let path = std::fs::canonicalize(&scene.folder).expect("canonical").join("w.flow");
    std::fs::write(&path, &text).expect("write");
    let uri = lsp_types::Url::from_file_path(&path).expect("url");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut server = flowc::lsp::Server::new();
        let open = lsp_server::Notification::new(
            lsp_types::notification::DidOpenTextDocument::METHOD.into(),
            serde_json::json!({ "textDocument": { "uri": uri, "languageId": "flow", "version": 1, "text": text } }),
        );
        let published = flowc::lsp::handle_notification(&mut server, open);
        let _ = sender.send(serde_json::to_string(&published).expect("JSON"));
    });
    let published = receiver.recv_timeout(DEADLINE).expect("the server answered within the deadline");
    assert!(published.contains("E0113") && published.contains("E0601"), "{published}");
    assert!(published.contains("FIFO"), "the reason is given: {published}");
    assert!(!published.contains("root:"), "{published}");
}
