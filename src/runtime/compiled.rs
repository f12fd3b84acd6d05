//! A program ready to run: the IR plus what running needs beside it — the
//! source texts (for messages that quote the `.flow`), the field layout of
//! each form, the compiled scripts, and a hash of the sources so a saved
//! request knows which version of the workflow it belongs to.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::check::Analysis;
use crate::diag::Code;
use crate::input_file::{self, FileError};
use crate::ir::{self, Loc, Program, Stmt};
use crate::runtime::error::RuntimeError;
use crate::runtime::script::{ScriptLimits, Scripts};
use crate::runtime::values::layout::Layout;

pub struct Compiled {
    /// Shared, so the route analysis and its replays read one lowering.
    pub program: Arc<Program>,
    pub layouts: Vec<Layout>,
    /// Source texts by `Loc::file`.
    pub texts: Vec<Arc<str>>,
    /// FNV-1a of every source file (stable across Rust versions, unlike `DefaultHasher`).
    pub source_hash: String,
    pub scripts: Scripts,
}

/// Why a program cannot run: it has check errors, or a script is missing or
/// does not compile.
#[derive(Debug)]
pub enum CompileError {
    Check(usize),
    Lower(String),
    Script(RuntimeError),
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompileError::Check(count) => write!(formatter, "the program has {count} errors; run `flowc check`"),
            CompileError::Lower(message) => formatter.write_str(message),
            CompileError::Script(error) => write!(formatter, "{error}"),
        }
    }
}

impl Compiled {
    /// Compiles a checked program; `read_script` reads a script by its path (already resolved
    /// against the folder of the `.flow` file that names it, and checked to stay inside it).
    /// [`input_file::read_script`] reads from disk with the size limit and the kind check.
    pub fn new(
        analysis: &Analysis,
        read_script: &dyn Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Compiled, CompileError> {
        Compiled::with_script_limits(analysis, read_script, ScriptLimits::default())
    }

    /// As [`Compiled::new`], with other bounds for the scripts (a host running trusted
    /// scripts over big tables raises them).
    pub fn with_script_limits(
        analysis: &Analysis,
        read_script: &dyn Fn(&Path) -> std::io::Result<String>,
        limits: ScriptLimits,
    ) -> Result<Compiled, CompileError> {
        if analysis.error_count() > 0 {
            return Err(CompileError::Check(analysis.error_count()));
        }
        let program = ir::lower(analysis).map_err(|error| CompileError::Lower(error.0))?;
        Compiled::from_program(analysis, Arc::new(program), read_script, limits)
    }

    /// As [`Compiled::with_script_limits`], for a program already lowered from `analysis`.
    pub fn from_program(
        analysis: &Analysis,
        program: Arc<Program>,
        read_script: &dyn Fn(&Path) -> std::io::Result<String>,
        limits: ScriptLimits,
    ) -> Result<Compiled, CompileError> {
        let texts: Vec<Arc<str>> = analysis.sources.files().map(|(_, file)| file.text.clone()).collect();
        let paths: Vec<Option<PathBuf>> = analysis.sources.files().map(|(_, file)| file.path.clone()).collect();
        let mut hash = Fnv::new();
        for text in &texts {
            hash.write(text.as_bytes());
            hash.write(&[0xff]);
        }
        let mut scripts = Scripts::new(limits);
        let mut statements = Vec::new();
        for workflow in &program.workflows {
            for node in &workflow.nodes {
                collect_scripts(&node.before, &mut statements);
                collect_scripts(&node.after, &mut statements);
                for exit in node.exits.iter().chain(&node.returns) {
                    collect_scripts(&exit.block, &mut statements);
                }
            }
        }
        for (path, at) in statements {
            if scripts.contains(&path) {
                continue;
            }
            let base = paths.get(at.file as usize).cloned().flatten();
            let folder = base.as_deref().and_then(Path::parent).unwrap_or(Path::new(""));
            // The checker reports these (E0113); a host that compiles without that check, or a
            // link changed since, is refused here before anything is read, and the message
            // quotes the path as written, never the file it leads to.
            let full = input_file::locate_script(folder, &path).map_err(|error| {
                CompileError::Script(
                    RuntimeError::at(Code::R0401, error.message(&path), at)
                        .with_label("this script")
                        .with_help("script paths are relative to the .flow file and stay inside its folder"),
                )
            })?;
            let source = read_script(&full).map_err(|error| {
                // A reason from `input_file` without its own "cannot read …" prefix.
                let reason = error
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<FileError>())
                    .map_or_else(|| error.to_string(), |file| file.problem.to_string());
                CompileError::Script(
                    RuntimeError::at(
                        Code::R0401,
                        format!("cannot read script `{path}` (at {}): {reason}", full.display()),
                        at,
                    )
                    .with_label("this script"),
                )
            })?;
            hash.write(source.as_bytes());
            scripts.add(&path, &source).map_err(|error| {
                let line = error.line.map(|line| format!(" (line {line})")).unwrap_or_default();
                CompileError::Script(
                    RuntimeError::at(Code::R0401, format!("script `{path}`{line}: {}", error.message), at)
                        .with_label("this script does not compile"),
                )
            })?;
        }
        let layouts = program.forms.iter().map(Layout::new).collect();
        Ok(Compiled { program, layouts, texts, source_hash: format!("{:016x}", hash.finish()), scripts })
    }

    /// The `.flow` text at a location, on one line.
    pub fn source_text(&self, at: Loc) -> String {
        let text = self
            .texts
            .get(at.file as usize)
            .and_then(|text| text.get(at.start as usize..at.end as usize))
            .unwrap_or("");
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The workflow to run: the one named, or the only one.
    pub fn workflow_index(&self, name: Option<&str>) -> Result<usize, RuntimeError> {
        let workflows = &self.program.workflows;
        let names = || workflows.iter().map(|workflow| format!("`{}`", workflow.name)).collect::<Vec<_>>().join(", ");
        match name {
            Some(name) => workflows.iter().position(|workflow| workflow.name == name).ok_or_else(|| {
                RuntimeError::new(Code::R0502, format!("no workflow `{name}` in the program (it has {})", names()))
            }),
            None if workflows.len() == 1 => Ok(0),
            None if workflows.is_empty() => Err(RuntimeError::new(Code::R0502, "the program has no workflow")),
            None => Err(RuntimeError::new(
                Code::R0502,
                format!("the program has several workflows ({}); name one with `--workflow`", names()),
            )),
        }
    }
}

fn collect_scripts(block: &[Stmt], out: &mut Vec<(String, Loc)>) {
    for statement in block {
        match statement {
            Stmt::Script { path, at } => out.push((path.clone(), *at)),
            Stmt::If { branches, otherwise } => {
                for (_, branch) in branches {
                    collect_scripts(branch, out);
                }
                collect_scripts(otherwise, out);
            }
            Stmt::Assign { .. } => {}
        }
    }
}

struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
