//! The documentation is part of the product, and these tests keep it true:
//!
//! - every diagnostic code has a page, and every page a code;
//! - every relative link in every Markdown file of the repository (README.md, ARCHITECTURE.md,
//!   `docs/`, the examples', editors', benches', fuzz and test-data READMEs) names a file or
//!   folder inside the repository, and a `#anchor` into a Markdown file names one of its headings
//!   (GitHub's slugs);
//! - every ```` ```flow ```` block of README.md and `docs/` is checked by the library checker.
//!
//! The conventions for code blocks in the docs (also stated at the top of `docs/language.md`):
//!
//! - A ```` ```flow ```` block is a whole file. It must check with no diagnostic at all, unless
//!   an HTML comment on the line before the fence says which codes it gives:
//!   `<!-- expect: E0105 -->` (several codes: `<!-- expect: E0105 W0107 -->`, a code once per
//!   diagnostic). Then it must give exactly those codes.
//! - A ```` ```flow fragment ```` block is a piece of a file (a few fields, a node, an operator
//!   line, a statement, an expression). It is parsed — on its own, or inside a form, a workflow,
//!   a node, an `operators` block, an action block or a `const` — and must parse without a
//!   syntax error in one of these places. Fragments cannot carry `expect`.
//! - `<!-- file: PATH -->` before any block (flow, toml, json, rhai…) names the block as the file
//!   PATH of the page's folder, so that other blocks of the same page can `use` it, name it as a
//!   `script`, or run it. Unnamed blocks are separate files of that folder.
//! - `<!-- run: FILE.flow -->` before a ```` ```text ```` block says the block is exactly what
//!   `flowc run FILE.flow --org org.toml --request request.json --actions actions.json --now
//!   2026-11-28T09:00:00+08:00` prints (without colour) in the page's folder of named blocks.
//!
//! Several HTML comments may stand on consecutive lines before one fence. A failure names the
//! Markdown file and the line.

use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

use flowc::check::{check_paths, Loader};
use flowc::diag::ALL_CODES;
use flowc::input_file::{FileError, FileKind, Problem, ScriptProblem};

#[test]
fn every_code_has_a_docs_page_with_the_four_sections() {
    for code in ALL_CODES {
        let path = format!("docs/diagnostics/{}.md", code.as_str());
        let page = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{path} is missing"));
        assert!(page.starts_with(&format!("# {}", code.as_str())), "{path} should start with its code");
        for section in ["## What it means", "## Example", "## Fix"] {
            assert!(page.contains(section), "{path} lacks `{section}`");
        }
    }
}

#[test]
fn every_docs_page_is_a_known_code() {
    for entry in std::fs::read_dir("docs/diagnostics").expect("docs dir").filter_map(Result::ok) {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(code) = name.strip_suffix(".md") else { continue };
        if code == "README" {
            continue;
        }
        assert!(ALL_CODES.iter().any(|known| known.as_str() == code), "docs page {name} has no code");
    }
}

// ------------------------------------------------------------------------------ Markdown

/// Every Markdown file of the repository, as paths relative to its root, sorted.
fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.filter_map(Result::ok) {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if !(name.starts_with('.') || name == "target" || name == "node_modules") {
                    walk(&path, out);
                }
            } else if name.ends_with(".md") {
                out.push(path.strip_prefix(".").map(Path::to_path_buf).unwrap_or(path));
            }
        }
    }
    let mut files = Vec::new();
    walk(Path::new("."), &mut files);
    files.sort();
    files
}

/// The Markdown files whose ```flow blocks are checked: README.md and docs/**.
fn documented_pages() -> Vec<PathBuf> {
    markdown_files().into_iter().filter(|path| path == Path::new("README.md") || path.starts_with("docs")).collect()
}

/// A fenced code block.
#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    /// The words after the fence: `flow`, `flow fragment`, `json`…
    info: Vec<String>,
    /// The HTML comments on the lines just before the fence, without `<!--` and `-->`.
    notes: Vec<String>,
    text: String,
}

impl Block {
    fn language(&self) -> &str {
        self.info.first().map_or("", String::as_str)
    }

    /// The value of a `<!-- key: value -->` note.
    fn note(&self, key: &str) -> Option<&str> {
        self.notes.iter().find_map(|note| note.strip_prefix(key)?.strip_prefix(':').map(str::trim))
    }
}

/// A page split into its fenced blocks and the lines outside them (with their 1-based numbers).
struct Page {
    blocks: Vec<Block>,
    prose: Vec<(usize, String)>,
}

fn split_page(text: &str) -> Page {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut prose = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line = lines[index];
        let trimmed = line.trim_start();
        let fence = ["```", "~~~"].into_iter().find(|fence| trimmed.starts_with(fence));
        let Some(fence) = fence else {
            prose.push((index + 1, line.to_string()));
            index += 1;
            continue;
        };
        let indent = line.len() - trimmed.len();
        let marker_length = trimmed.chars().take_while(|&c| fence.starts_with(c)).count();
        let marker = &trimmed[..marker_length];
        let info = trimmed[marker_length..].split_whitespace().map(str::to_string).collect();
        let mut notes = Vec::new();
        let mut back = index;
        while back > 0 {
            let previous = lines[back - 1].trim();
            let Some(inner) = previous.strip_prefix("<!--").and_then(|rest| rest.strip_suffix("-->")) else { break };
            notes.insert(0, inner.trim().to_string());
            back -= 1;
        }
        let mut body = Vec::new();
        let mut end = index + 1;
        while end < lines.len() {
            let candidate = lines[end].trim_start();
            if candidate.starts_with(marker)
                && candidate.trim_start_matches(marker.chars().next().unwrap_or('`')).trim().is_empty()
            {
                break;
            }
            let content = lines[end];
            let strip = content.len() - content.trim_start().len();
            body.push(&content[strip.min(indent)..]);
            end += 1;
        }
        let mut text = body.join("\n");
        text.push('\n');
        blocks.push(Block { line: index + 1, info, notes, text });
        index = end + 1;
    }
    Page { blocks, prose }
}

// ------------------------------------------------------------------------------ links

/// GitHub's anchor for a heading: lowercase, only letters, digits, `_`, `-` and spaces kept,
/// spaces become `-`; a repeated heading gets `-1`, `-2`, ….
fn slug(heading: &str) -> String {
    let mut text = String::new();
    // A link in a heading contributes its text only.
    let mut rest = heading;
    while let Some(open) = rest.find('[') {
        let Some(close) = rest[open..].find("](").map(|at| open + at) else { break };
        let Some(end) = rest[close..].find(')').map(|at| close + at) else { break };
        text.push_str(&rest[..open]);
        text.push_str(&rest[open + 1..close]);
        rest = &rest[end + 1..];
    }
    text.push_str(rest);
    text.to_lowercase()
        .chars()
        .filter(|&c| c.is_alphanumeric() || c == '_' || c == '-' || c == ' ')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(page: &Page) -> Vec<String> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = Vec::new();
    for (_, line) in &page.prose {
        let trimmed = line.trim_start();
        let hashes = trimmed.chars().take_while(|&c| c == '#').count();
        if hashes == 0 || hashes > 6 || !trimmed[hashes..].starts_with(' ') {
            continue;
        }
        let base = slug(trimmed[hashes..].trim().trim_end_matches('#').trim());
        let count = seen.entry(base.clone()).or_insert(0);
        out.push(if *count == 0 { base.clone() } else { format!("{base}-{count}") });
        *count += 1;
    }
    out
}

/// The text outside inline code spans.
fn without_code_spans(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        out.push_str(&rest[..start]);
        let after = &rest[start + ticks..];
        let closing = "`".repeat(ticks);
        match after.find(&closing) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                rest = after;
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The link destinations of a line: inline `[text](dest)` / `![alt](dest)`, and reference
/// definitions `[name]: dest`.
fn link_targets(line: &str) -> Vec<String> {
    let line = without_code_spans(line);
    let mut out = Vec::new();
    let trimmed = line.trim_start();
    if trimmed.starts_with('[') {
        if let Some(close) = trimmed.find("]:") {
            if let Some(target) = trimmed[close + 2..].split_whitespace().next() {
                out.push(target.trim_matches(|c| c == '<' || c == '>').to_string());
            }
        }
    }
    let mut rest = line.as_str();
    while let Some(at) = rest.find("](") {
        let after = &rest[at + 2..];
        let Some(end) = after.find(')') else { break };
        let destination = after[..end].trim();
        let destination = destination.split_whitespace().next().unwrap_or("");
        out.push(destination.trim_matches(|c| c == '<' || c == '>').to_string());
        rest = &after[end..];
    }
    out
}

fn is_external(target: &str) -> bool {
    target.contains("://") || target.starts_with("mailto:")
}

/// `a/b/../c` without touching the disk.
fn normalize(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' && index + 2 < bytes.len() {
            if let Ok(byte) = u8::from_str_radix(&text[index + 1..index + 3], 16) {
                out.push(byte);
                index += 3;
                continue;
            }
        }
        out.push(bytes[index]);
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn every_link_in_the_markdown_resolves_inside_the_repository() {
    let files = markdown_files();
    assert!(files.len() > 20, "expected the repository's Markdown files, found {}", files.len());
    let mut pages: HashMap<PathBuf, Page> = HashMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap_or_else(|error| panic!("{}: {error}", file.display()));
        pages.insert(file.clone(), split_page(&text));
    }
    let mut failures = Vec::new();
    let mut checked = 0;
    for file in &files {
        let page = &pages[file];
        for (line_number, line) in &page.prose {
            for target in link_targets(line) {
                if target.is_empty() || is_external(&target) {
                    continue;
                }
                checked += 1;
                let place = format!("{}:{line_number}: link `{target}`", file.display());
                let (path_part, anchor) = match target.split_once('#') {
                    Some((path, anchor)) => (path, Some(anchor)),
                    None => (target.as_str(), None),
                };
                let path_part = percent_decode(path_part);
                let resolved = if path_part.is_empty() {
                    Some(file.clone())
                } else if path_part.starts_with('/') {
                    None
                } else {
                    normalize(&file.parent().unwrap_or(Path::new("")).join(&path_part))
                };
                let Some(resolved) = resolved else {
                    failures.push(format!("{place} leaves the repository"));
                    continue;
                };
                let on_disk = if resolved.as_os_str().is_empty() { PathBuf::from(".") } else { resolved.clone() };
                if !on_disk.exists() {
                    failures.push(format!("{place}: `{}` does not exist", resolved.display()));
                    continue;
                }
                let Some(anchor) = anchor else { continue };
                let anchor = percent_decode(anchor);
                if resolved.extension().is_some_and(|extension| extension == "md") {
                    let known = anchors(&pages[&resolved]);
                    if !known.contains(&anchor.to_lowercase()) {
                        failures.push(format!(
                            "{place}: `{}` has no heading with the anchor `#{anchor}` (its anchors: {})",
                            resolved.display(),
                            known.join(", ")
                        ));
                    }
                } else if !is_line_anchor(&anchor) {
                    failures.push(format!(
                        "{place}: only line anchors (`#L10`) can point into a file that is not Markdown"
                    ));
                }
            }
        }
    }
    assert!(checked > 100, "expected many links, found {checked}");
    assert!(failures.is_empty(), "{} broken links:\n{}", failures.len(), failures.join("\n"));
}

fn is_line_anchor(anchor: &str) -> bool {
    let mut parts = anchor.split('-');
    parts.all(|part| {
        part.strip_prefix('L').is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
    })
}

#[test]
fn the_link_checker_knows_github_slugs() {
    assert_eq!(slug("Runtime (`flowc run`)"), "runtime-flowc-run");
    assert_eq!(slug("4.2 Field kinds"), "42-field-kinds");
    assert_eq!(slug("§6 Nodes — 节点"), "6-nodes--节点");
    assert_eq!(slug("[E0105](E0105.md): exit target"), "e0105-exit-target");
    assert_eq!(link_targets("see [a](b.md#c) and `[x](y)` and ![i](img.png \"t\")"), vec!["b.md#c", "img.png"]);
    assert!(is_line_anchor("L10-L20"));
    assert!(!is_line_anchor("intro"));
}

// ------------------------------------------------------------------------------ flow blocks

/// A page's folder of files, in memory: named blocks and one file per unnamed ```flow block.
struct Folder {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl Loader for Folder {
    fn read(&self, path: &Path) -> Result<Vec<u8>, FileError> {
        self.files.get(path).cloned().ok_or_else(|| FileError {
            path: path.to_path_buf(),
            kind: FileKind::Flow,
            problem: Problem::Other("no such block in the page".into()),
        })
    }

    /// A script is found when the page has a block of that name (the path rule first, as on disk).
    fn find_script(&self, folder: &Path, written: &str) -> Result<PathBuf, ScriptProblem> {
        let relative = flowc::input_file::script_relative_path(written).map_err(ScriptProblem::Outside)?;
        let path = folder.join(relative);
        if self.files.contains_key(&path) {
            Ok(path)
        } else {
            Err(ScriptProblem::File(FileError { path, kind: FileKind::Script, problem: Problem::Missing }))
        }
    }
}

/// Where the page's blocks live: a folder that exists nowhere, so nothing on disk is read.
fn virtual_root(page: &Path) -> PathBuf {
    PathBuf::from("/flowc-docs-blocks").join(page)
}

fn block_path(page: &Path, block: &Block) -> PathBuf {
    match block.note("file") {
        Some(name) => virtual_root(page).join(name),
        None => virtual_root(page).join(format!("line{}.{}", block.line, block.language())),
    }
}

fn page_folder(page: &Path, blocks: &[Block]) -> Folder {
    let mut files = BTreeMap::new();
    for block in blocks {
        if block.note("file").is_some() || (block.language() == "flow" && !block.info.iter().any(|w| w == "fragment")) {
            files.insert(block_path(page, block), block.text.clone().into_bytes());
        }
    }
    Folder { files }
}

/// The places a fragment may stand, as (text before, text after).
const FRAGMENT_PLACES: &[(&str, &str)] = &[
    ("", ""),
    ("form 片段 {\n", "\n}\n"),
    ("workflow 片段 {\n", "\n}\n"),
    ("workflow 片段 {\nnode 片段: approve {\n", "\n}\n}\n"),
    ("workflow 片段 {\nnode 片段: approve {\noperators {\n", "\n}\n}\n}\n"),
    ("workflow 片段 {\nnode 片段: approve {\nafter {\n", "\n}\n}\n}\n"),
    ("const 片段 = ", "\n"),
];

fn fragment_parses(text: &str) -> Result<(), String> {
    if text.trim().is_empty() {
        return Err("it is empty".into());
    }
    let mut first_error = None;
    for (before, after) in FRAGMENT_PLACES {
        let whole = format!("{before}{text}{after}");
        let parsed = flowc::syntax::parse(flowc::source::FileId(0), &whole);
        if parsed.diagnostics.is_empty() && !parsed.file.items.is_empty() {
            return Ok(());
        }
        if first_error.is_none() {
            first_error =
                parsed.diagnostics.first().map(|diagnostic| format!("{} {}", diagnostic.code, diagnostic.message));
        }
    }
    Err(first_error.unwrap_or_else(|| "it is empty".into()))
}

fn expected_codes(block: &Block) -> Vec<String> {
    let mut codes: Vec<String> = block
        .note("expect")
        .map(|codes| {
            codes.split(|c: char| c.is_whitespace() || c == ',').filter(|c| !c.is_empty()).map(str::to_string).collect()
        })
        .unwrap_or_default();
    codes.sort();
    codes
}

#[test]
fn every_flow_block_in_the_docs_checks_as_it_says() {
    let mut failures = Vec::new();
    let mut whole_files = 0;
    let mut fragments = 0;
    for page_path in documented_pages() {
        let text = std::fs::read_to_string(&page_path).expect("read page");
        let page = split_page(&text);
        let folder = page_folder(&page_path, &page.blocks);
        for block in page.blocks.iter().filter(|block| block.language() == "flow") {
            let place = format!("{}:{}", page_path.display(), block.line);
            let flags: Vec<&str> = block.info.iter().skip(1).map(String::as_str).collect();
            if let Some(unknown) = flags.iter().find(|flag| **flag != "fragment") {
                failures.push(format!("{place}: unknown word `{unknown}` after ```flow (only `fragment` is known)"));
                continue;
            }
            let expected = expected_codes(block);
            if flags.contains(&"fragment") {
                fragments += 1;
                if !expected.is_empty() {
                    failures
                        .push(format!("{place}: a fragment is only parsed; make it a whole file to show {expected:?}"));
                } else if let Err(error) = fragment_parses(&block.text) {
                    failures.push(format!("{place}: this ```flow fragment does not parse as a file, form member, workflow member, node member, operator line, statement or expression: {error}"));
                }
                continue;
            }
            whole_files += 1;
            let path = block_path(&page_path, block);
            let analysis = check_paths(std::slice::from_ref(&path), &folder);
            let mut actual: Vec<String> =
                analysis.diagnostics.iter().map(|diagnostic| diagnostic.code.to_string()).collect();
            actual.sort();
            if actual != expected {
                let listing: Vec<String> = analysis
                    .diagnostics
                    .iter()
                    .map(|diagnostic| {
                        let file = analysis.sources.get(diagnostic.file());
                        let (line, column) =
                            file.map_or((0, 0), |file| file.line_column(diagnostic.primary.at.span.start as usize));
                        let in_block = file.and_then(|file| file.path.as_ref()) == Some(&path);
                        let shown = if in_block {
                            format!("{}:{}:{column}", page_path.display(), block.line + line)
                        } else {
                            format!("{}:{line}:{column}", file.map_or("?", |file| file.name.as_str()))
                        };
                        format!("    {shown} {} {}", diagnostic.code, diagnostic.message)
                    })
                    .collect();
                let wanted = if expected.is_empty() {
                    "no diagnostic".to_string()
                } else {
                    format!("{expected:?} (from `<!-- expect: … -->`)")
                };
                failures.push(format!(
                    "{place}: ```flow block should give {wanted}, gives {actual:?}\n{}",
                    listing.join("\n")
                ));
            }
        }
    }
    assert!(whole_files > 50, "expected the docs' flow blocks, found {whole_files} whole files");
    assert!(
        failures.is_empty(),
        "{} of {} ```flow blocks ({fragments} fragments) differ:\n{}",
        failures.len(),
        whole_files + fragments,
        failures.join("\n")
    );
}

#[test]
fn the_fragment_rule_accepts_pieces_and_refuses_nonsense() {
    assert!(fragment_parses("金额: money \"金额\"\n").is_ok());
    assert!(fragment_parses("node 归档: archive\n").is_ok());
    assert!(fragment_parses("exit 同意 -> 归档 when 合计 > 0\n").is_ok());
    assert!(fragment_parses("申请人.manager where security >= 10\n").is_ok());
    assert!(fragment_parses("合计 = 合计 + 1\n").is_ok());
    assert!(fragment_parses("if 合计 > 0 then 1 else 2\n").is_ok());
    assert!(fragment_parses("exit -> \n").is_err());
    assert!(fragment_parses("\n").is_err());
}

/// `<!-- run: FILE.flow -->` blocks: the page's named files are written to a scratch folder and
/// run; the block must be exactly what `flowc run` prints.
#[test]
fn every_documented_run_prints_what_the_docs_show() {
    let mut failures = Vec::new();
    let mut runs = 0;
    for page_path in documented_pages() {
        let text = std::fs::read_to_string(&page_path).expect("read page");
        let page = split_page(&text);
        let runs_here: Vec<&Block> = page.blocks.iter().filter(|block| block.note("run").is_some()).collect();
        if runs_here.is_empty() {
            continue;
        }
        let scratch = std::env::temp_dir().join(format!(
            "flowc-docs-{}-{}",
            std::process::id(),
            page_path.to_string_lossy().replace(['/', '\\', '.'], "_")
        ));
        let _ = std::fs::remove_dir_all(&scratch);
        for block in &page.blocks {
            if let Some(name) = block.note("file") {
                let path = scratch.join(name);
                std::fs::create_dir_all(path.parent().expect("parent")).expect("scratch folder");
                std::fs::write(&path, &block.text).expect("write block");
            }
        }
        for block in runs_here {
            runs += 1;
            let flow = block.note("run").unwrap_or_default();
            let in_scratch = |name: &str| scratch.join(name).to_string_lossy().into_owned();
            let (flow_path, org, request, actions) =
                (in_scratch(flow), in_scratch("org.toml"), in_scratch("request.json"), in_scratch("actions.json"));
            let (_, stdout, stderr) = super::flowc(&[
                "run",
                &flow_path,
                "--org",
                &org,
                "--request",
                &request,
                "--actions",
                &actions,
                "--now",
                "2026-11-28T09:00:00+08:00",
            ]);
            let shown: Vec<&str> = block.text.lines().map(str::trim_end).collect();
            let printed: Vec<&str> = stdout.lines().map(str::trim_end).collect();
            if shown != printed {
                failures.push(format!(
                    "{}:{}: the documented output of `flowc run {flow}` differs; it prints:\n{stdout}{stderr}",
                    page_path.display(),
                    block.line
                ));
            }
        }
        let _ = std::fs::remove_dir_all(&scratch);
    }
    assert!(runs >= 1, "expected the worked example's run in docs/language.md");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
