//! Loading: the root files, every file they `use` (paths relative to the
//! using file), and `std::` modules from `stdlib/`. Detects missing
//! targets (E0601) and `use` cycles (E0602).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::diag::{Code, Diagnostic};
use crate::input_file::{self, FileError, FileKind, Problem, ScriptProblem};
use crate::source::{FileId, FileSpan, SourceFile, SourceMap};
use crate::syntax::{self, ast};

/// Where file text comes from: the disk for the CLI, open documents for the
/// language server. Files on disk are read through [`crate::input_file`], so
/// only regular files within the size limit are read, and scripts are found
/// without reading them.
pub trait Loader {
    /// The bytes of the `.flow` file at `path`.
    fn read(&self, path: &Path) -> Result<Vec<u8>, FileError>;

    /// Where the script `written` (as in `script "…"`) of a `.flow` file in
    /// `folder` is, without reading it, or why it cannot be used. The default
    /// applies the path rule alone (no absolute path, no `..` out of the
    /// folder), for loaders that have no file system.
    fn find_script(&self, folder: &Path, written: &str) -> Result<PathBuf, ScriptProblem> {
        input_file::script_relative_path(written).map(|relative| folder.join(relative)).map_err(ScriptProblem::Outside)
    }
}

/// Reads files from disk.
pub struct FsLoader;

impl Loader for FsLoader {
    fn read(&self, path: &Path) -> Result<Vec<u8>, FileError> {
        input_file::read(path, FileKind::Flow)
    }

    fn find_script(&self, folder: &Path, written: &str) -> Result<PathBuf, ScriptProblem> {
        input_file::find_script(folder, written)
    }
}

/// The standard library, compiled into the binary.
pub const STDLIB: &[(&str, &str)] = &[
    ("prelude", include_str!("../../stdlib/prelude.flow")),
    ("money", include_str!("../../stdlib/money.flow")),
    ("dates", include_str!("../../stdlib/dates.flow")),
];

/// A standard library module's text and tree. The modules are parsed once
/// per process (they never change and have no errors), then cloned.
fn std_module(name: &str) -> Option<(&'static str, ast::File)> {
    static PARSED: std::sync::OnceLock<Vec<(&'static str, &'static str, ast::File)>> = std::sync::OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        STDLIB.iter().map(|(module, text)| (*module, *text, syntax::parse(FileId(0), text).file)).collect()
    });
    parsed.iter().find(|(module, _, _)| *module == name).map(|(_, text, ast)| (*text, ast.clone()))
}

/// One parsed file.
#[derive(Debug)]
pub struct Module {
    /// The display name: the path as given, or `std::money`.
    pub name: String,
    pub file: FileId,
    pub ast: ast::File,
    /// The directory `use` paths are relative to (`None` for `std::`).
    pub dir: Option<PathBuf>,
    pub is_root: bool,
    pub is_prelude: bool,
    /// For each `use` item of the file, in order: what it names.
    pub imports: Vec<Import>,
}

#[derive(Debug, Clone)]
pub struct Import {
    pub use_span: FileSpan,
    /// Index of the module the path names, if found.
    pub module: Option<usize>,
    /// `Some(name)` when the path names one item of that module.
    pub item: Option<ast::Ident>,
}

pub struct Loaded {
    pub modules: Vec<Module>,
    pub diagnostics: Vec<Diagnostic>,
    /// Roots that could not be read at all: (path, reason).
    pub unreadable: Vec<(PathBuf, String)>,
}

/// Parses `roots` and everything they use.
pub fn load(sources: &mut SourceMap, roots: &[PathBuf], loader: &dyn Loader) -> Loaded {
    let mut state =
        LoadState { modules: Vec::new(), diagnostics: Vec::new(), unreadable: Vec::new(), by_key: HashMap::new() };
    state.add_std(sources, "prelude");
    for root in roots {
        match loader.read(root) {
            Ok(bytes) => {
                let key = module_key(root);
                if let Some(&existing) = state.by_key.get(&key) {
                    if let Some(module) = state.modules.get_mut(existing) {
                        module.is_root = true;
                    }
                    continue;
                }
                let index = state.add_file(sources, root, bytes);
                if let Some(module) = state.modules.get_mut(index) {
                    module.is_root = true;
                }
            }
            Err(error) => state.unreadable.push((root.clone(), error.problem.to_string())),
        }
    }
    // Resolve `use` lines breadth first; new modules are appended as found.
    let mut next = 0;
    while next < state.modules.len() {
        state.resolve_imports(sources, next, loader);
        next += 1;
    }
    state.detect_cycles();
    Loaded { modules: state.modules, diagnostics: state.diagnostics, unreadable: state.unreadable }
}

fn module_key(path: &Path) -> String {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()).to_string_lossy().into_owned()
}

struct LoadState {
    modules: Vec<Module>,
    diagnostics: Vec<Diagnostic>,
    unreadable: Vec<(PathBuf, String)>,
    by_key: HashMap<String, usize>,
}

impl LoadState {
    fn push(&mut self, key: String, module: Module) -> usize {
        self.modules.push(module);
        let index = self.modules.len() - 1;
        self.by_key.insert(key, index);
        index
    }

    fn add_std(&mut self, sources: &mut SourceMap, name: &str) -> Option<usize> {
        let key = format!("std::{name}");
        if let Some(&index) = self.by_key.get(&key) {
            return Some(index);
        }
        let (text, ast) = std_module(name)?;
        let file = sources.add(SourceFile::new(format!("stdlib/{name}.flow"), None, text));
        let parsed = syntax::Parsed { file: ast, diagnostics: Vec::new() };
        let module = Module {
            name: key.clone(),
            file,
            ast: parsed.file,
            dir: None,
            is_root: false,
            is_prelude: name == "prelude",
            imports: Vec::new(),
        };
        Some(self.push(key, module))
    }

    fn add_file(&mut self, sources: &mut SourceMap, path: &Path, bytes: Vec<u8>) -> usize {
        let name = path.to_string_lossy().into_owned();
        let next_file = FileId(sources.files().count() as u32);
        // The source map's copy is the only one left during the parse: the
        // bytes read are gone by then (a parse needs many times the file).
        let (text, decode_error): (Arc<str>, _) = match String::from_utf8(bytes) {
            Ok(text) => (Arc::from(text), None),
            Err(error) => (
                Arc::from(String::from_utf8_lossy(error.as_bytes())),
                syntax::decode(next_file, error.as_bytes()).err(),
            ),
        };
        let file = sources.add(SourceFile::new(name, Some(path.to_path_buf()), text.clone()));
        let ast = match decode_error {
            Some(diagnostic) => {
                self.diagnostics.push(diagnostic);
                ast::File::default()
            }
            None => {
                let parsed = syntax::parse(file, &text);
                self.diagnostics.extend(parsed.diagnostics);
                parsed.file
            }
        };
        let dir = path.parent().map(Path::to_path_buf);
        let module = Module {
            name: path.to_string_lossy().into_owned(),
            file,
            ast,
            dir,
            is_root: false,
            is_prelude: false,
            imports: Vec::new(),
        };
        self.push(module_key(path), module)
    }

    fn resolve_imports(&mut self, sources: &mut SourceMap, index: usize, loader: &dyn Loader) {
        let Some(module) = self.modules.get(index) else { return };
        let file = module.file;
        let dir = module.dir.clone();
        let uses: Vec<ast::UseItem> = module
            .ast
            .items
            .iter()
            .filter_map(|item| match item {
                ast::Item::Use(use_item) => Some(use_item.clone()),
                _ => None,
            })
            .collect();
        let mut imports = Vec::new();
        for use_item in uses {
            let use_span = FileSpan::new(file, use_item.span);
            let names: Vec<&str> = use_item.path.iter().map(|segment| segment.name.as_str()).collect();
            let path_text = names.join("::");
            let resolved = if names.first() == Some(&"std") {
                self.resolve_std(sources, &use_item).ok_or(None)
            } else {
                self.resolve_relative(sources, &use_item, dir.as_deref(), loader)
            };
            match resolved {
                Ok((target, item)) => imports.push(Import { use_span, module: Some(target), item }),
                Err(unreadable) => {
                    let (message, label) = match &unreadable {
                        Some(_) => (format!("cannot read `{path_text}`"), "its file cannot be read"),
                        None => (format!("cannot find `{path_text}`"), "no such module or item"),
                    };
                    let help = if let Some(error) = unreadable {
                        format!("`{}` is there, but {}", error.path.display(), error.problem)
                    } else if names.first() == Some(&"std") {
                        let available: Vec<String> = STDLIB.iter().map(|(name, _)| format!("`std::{name}`")).collect();
                        format!("the standard library has {}", available.join(", "))
                    } else {
                        let relative = names.join("/");
                        let parent = names.get(..names.len().saturating_sub(1)).unwrap_or(&[]).join("/");
                        if parent.is_empty() {
                            format!("looked for `{relative}.flow` next to this file")
                        } else {
                            format!("looked for `{relative}.flow`, and for an item `{}` in `{parent}.flow`, next to this file", names.last().unwrap_or(&""))
                        }
                    };
                    let span = use_item
                        .path
                        .first()
                        .map(|first| first.span.to(use_item.path.last().map_or(first.span, |last| last.span)))
                        .unwrap_or(use_item.span);
                    self.diagnostics.push(Diagnostic::in_file(Code::E0601, message, file, span, label).with_help(help));
                    imports.push(Import { use_span, module: None, item: None });
                }
            }
        }
        if let Some(module) = self.modules.get_mut(index) {
            module.imports = imports;
        }
    }

    fn resolve_std(&mut self, sources: &mut SourceMap, use_item: &ast::UseItem) -> Option<(usize, Option<ast::Ident>)> {
        match use_item.path.as_slice() {
            [_, module] => Some((self.add_std(sources, &module.name)?, None)),
            [_, module, item] => Some((self.add_std(sources, &module.name)?, Some(item.clone()))),
            _ => None,
        }
    }

    /// The module (and item) a relative `use` names. Not found is `Err(None)`; a file that is
    /// there but cannot be read (a FIFO, too large) is `Err(Some(why))`, and stops the search.
    fn resolve_relative(
        &mut self,
        sources: &mut SourceMap,
        use_item: &ast::UseItem,
        dir: Option<&Path>,
        loader: &dyn Loader,
    ) -> Result<(usize, Option<ast::Ident>), Option<FileError>> {
        let dir = dir.ok_or(None)?;
        let segments: Vec<&str> = use_item.path.iter().map(|segment| segment.name.as_str()).collect();
        let whole = path_of(dir, &segments);
        match self.open(sources, &whole, loader) {
            Ok(index) => return Ok((index, None)),
            Err(error) if !matches!(error.problem, Problem::Missing) => return Err(Some(error)),
            Err(_) => {}
        }
        let (item, parent) = use_item.path.split_last().ok_or(None)?;
        if parent.is_empty() {
            return Err(None);
        }
        let parent_names: Vec<&str> = parent.iter().map(|segment| segment.name.as_str()).collect();
        match self.open(sources, &path_of(dir, &parent_names), loader) {
            Ok(index) => Ok((index, Some(item.clone()))),
            Err(error) if !matches!(error.problem, Problem::Missing) => Err(Some(error)),
            Err(_) => Err(None),
        }
    }

    fn open(&mut self, sources: &mut SourceMap, path: &Path, loader: &dyn Loader) -> Result<usize, FileError> {
        let key = module_key(path);
        if let Some(&index) = self.by_key.get(&key) {
            return Ok(index);
        }
        let bytes = loader.read(path)?;
        Ok(self.add_file(sources, path, bytes))
    }

    /// Depth-first search over `use` edges; an edge back to a module on the
    /// current path closes a cycle.
    fn detect_cycles(&mut self) {
        let count = self.modules.len();
        let mut state = vec![0u8; count]; // 0 new, 1 on the path, 2 done
        let mut path: Vec<usize> = Vec::new();
        for start in 0..count {
            if state.get(start) != Some(&0) {
                continue;
            }
            // Iterative DFS: (module, next import index).
            let mut stack = vec![(start, 0usize)];
            if let Some(slot) = state.get_mut(start) {
                *slot = 1;
            }
            path.push(start);
            while let Some((module, next_import)) = stack.last().copied() {
                let import = self.modules.get(module).and_then(|m| m.imports.get(next_import)).cloned();
                match import {
                    None => {
                        stack.pop();
                        path.pop();
                        if let Some(slot) = state.get_mut(module) {
                            *slot = 2;
                        }
                    }
                    Some(import) => {
                        if let Some(top) = stack.last_mut() {
                            top.1 += 1;
                        }
                        let Some(target) = import.module else { continue };
                        match state.get(target).copied() {
                            Some(0) => {
                                if let Some(slot) = state.get_mut(target) {
                                    *slot = 1;
                                }
                                path.push(target);
                                stack.push((target, 0));
                            }
                            Some(1) => {
                                let from = path.iter().position(|&entry| entry == target).unwrap_or(0);
                                let cycle: Vec<String> = path
                                    .get(from..)
                                    .unwrap_or(&[])
                                    .iter()
                                    .chain(std::iter::once(&target))
                                    .filter_map(|&entry| self.modules.get(entry))
                                    .map(|m| format!("`{}`", m.name))
                                    .collect();
                                self.diagnostics.push(
                                    Diagnostic::new(
                                        Code::E0602,
                                        format!("`use` cycle: {}", cycle.join(" uses ")),
                                        import.use_span,
                                        "this `use` closes the cycle",
                                    )
                                    .with_help("move what both files need into a third module that uses neither"),
                                );
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
    }
}

fn path_of(dir: &Path, segments: &[&str]) -> PathBuf {
    let mut path = dir.to_path_buf();
    for segment in segments {
        path.push(segment);
    }
    path.set_extension("flow");
    path
}
