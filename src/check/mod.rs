//! The checker: name resolution across files, the types of every
//! expression, the formula rules and the manual's workflow rules
//! (docs/language.md §10). One source of truth for `check`, `run` and the
//! language server: they all call [`check_paths`] or [`check_source`].

pub mod branches;
mod deadlines;
mod exprs;
mod forks;
mod forms;
pub(crate) mod graph;
pub mod index;
pub mod members;
pub mod modules;
mod node_rules;
mod scripts;
pub mod serial;
mod subflows;
pub mod suggest;
mod supervisors;
mod tests;
pub mod types;
mod workflows;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use forms::{FieldInfo, FormInfo, Named};
pub use modules::{FsLoader, Loader, Module, STDLIB};
pub use tests::STATUSES as TEST_STATUSES;

use crate::diag::{self, Code, Diagnostic};
use crate::input_file::{FileError, FileKind, Problem};
use crate::source::{FileId, FileSpan, SourceMap, Span};
use crate::syntax::ast;
use types::{SigTy, Ty};

/// Everything one check produced.
pub struct Analysis {
    pub sources: SourceMap,
    pub modules: Vec<Module>,
    pub diagnostics: Vec<Diagnostic>,
    /// Root files that could not be read: (path, reason).
    pub unreadable: Vec<(PathBuf, String)>,
    /// Declarations and resolved names, for the language server and the
    /// IR (empty after [`check_paths_for_diagnostics`]).
    pub index: index::Index,
}

impl Analysis {
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|diagnostic| diagnostic.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.diagnostics.len() - self.error_count()
    }
}

/// Checks the files at `paths` and everything they `use`.
pub fn check_paths(paths: &[PathBuf], loader: &dyn Loader) -> Analysis {
    check_paths_keeping(paths, loader, true)
}

/// Like [`check_paths`], but leaves [`Analysis::index`] empty: what
/// `flowc check` needs. The index (a declaration per name, a record per
/// use) is several times the size of the file, and no diagnostic reads it.
pub fn check_paths_for_diagnostics(paths: &[PathBuf], loader: &dyn Loader) -> Analysis {
    check_paths_keeping(paths, loader, false)
}

fn check_paths_keeping(paths: &[PathBuf], loader: &dyn Loader, keep_index: bool) -> Analysis {
    let mut sources = SourceMap::new();
    let loaded = modules::load(&mut sources, paths, loader);
    let mut diagnostics = loaded.diagnostics;
    let (checked, index) = check_modules(&loaded.modules, keep_index);
    diagnostics.extend(checked);
    diagnostics.extend(scripts::script_file_problems(&loaded.modules, loader));
    diag::sort(&mut diagnostics);
    Analysis { sources, modules: loaded.modules, diagnostics, unreadable: loaded.unreadable, index }
}

/// Checks one text as if it were the file `name` (tests, benchmarks, fuzzing).
pub fn check_source(name: &str, text: &str) -> Analysis {
    struct OneFile<'t> {
        path: PathBuf,
        text: &'t str,
    }
    impl Loader for OneFile<'_> {
        fn read(&self, path: &Path) -> Result<Vec<u8>, FileError> {
            if path == self.path {
                Ok(self.text.as_bytes().to_vec())
            } else {
                Err(FileError { path: path.to_path_buf(), kind: FileKind::Flow, problem: Problem::Missing })
            }
        }
    }
    let path = PathBuf::from(name);
    check_paths(std::slice::from_ref(&path), &OneFile { path: path.clone(), text })
}

/// A top-level item, by module and position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItemRef {
    pub module: usize,
    pub index: usize,
}

/// A built-in or user function's signature.
#[derive(Debug, Clone)]
pub struct Signature {
    pub params: Vec<(String, SigTy, bool)>,
    pub ret: SigTy,
}

impl Signature {
    pub fn required(&self) -> usize {
        self.params.iter().filter(|(_, _, optional)| !optional).count()
    }
}

pub(crate) struct Checker<'a> {
    pub modules: &'a [Module],
    /// Per module: the names visible at its top level.
    pub scopes: Vec<HashMap<&'a str, ItemRef>>,
    pub builtin_fns: HashMap<&'a str, Signature>,
    pub builtin_values: HashMap<&'a str, Ty>,
    pub signatures: HashMap<ItemRef, Signature>,
    pub forms: HashMap<ItemRef, FormInfo<'a>>,
    pub const_types: RefCell<HashMap<ItemRef, Option<Ty>>>,
    /// User functions each user function calls.
    pub fn_calls: RefCell<HashMap<ItemRef, Vec<ItemRef>>>,
    /// Per form: the fields some workflow fills (editable, assigned), and
    /// whether a script might fill any of them.
    pub filled: RefCell<HashMap<ItemRef, (std::collections::HashSet<usize>, bool)>>,
    /// Where each built-in is declared in the prelude.
    pub builtin_defs: HashMap<&'a str, FileSpan>,
    pub index: RefCell<index::Index>,
    /// Whether to fill `index` (a check for diagnostics alone does not).
    pub keep_index: bool,
    /// How many constants are being typed inside one another right now.
    pub const_depth: std::cell::Cell<usize>,
    pub diagnostics: RefCell<Vec<Diagnostic>>,
    /// Did-you-mean over names of the file (bounded work per check).
    pub suggester: suggest::Suggester,
}

pub(crate) fn check_modules(modules: &[Module], keep_index: bool) -> (Vec<Diagnostic>, index::Index) {
    let mut checker = Checker {
        modules,
        scopes: Vec::new(),
        builtin_fns: HashMap::new(),
        builtin_values: HashMap::new(),
        signatures: HashMap::new(),
        forms: HashMap::new(),
        const_types: RefCell::new(HashMap::new()),
        fn_calls: RefCell::new(HashMap::new()),
        filled: RefCell::new(HashMap::new()),
        builtin_defs: HashMap::new(),
        index: RefCell::new(index::Index::default()),
        keep_index,
        const_depth: std::cell::Cell::new(0),
        diagnostics: RefCell::new(Vec::new()),
        suggester: suggest::Suggester::default(),
    };
    checker.collect_builtins();
    checker.build_scopes();
    checker.collect_signatures();
    checker.collect_forms();
    checker.collect_definitions();
    checker.check_items();
    (checker.diagnostics.into_inner(), checker.index.into_inner())
}

impl<'a> Checker<'a> {
    pub fn report(&self, diagnostic: Diagnostic) {
        self.diagnostics.borrow_mut().push(diagnostic);
    }

    /// Records that the name at `site` resolves to the declaration at `definition`.
    pub fn record(&self, site: FileSpan, definition: FileSpan) {
        if self.keep_index {
            self.index.borrow_mut().references.push((site, definition));
        }
    }

    fn declare_symbol(&self, kind: index::SymbolKind, name: &ast::Ident, file: FileId, container: Option<&str>) {
        if name.name.is_empty() || !self.keep_index {
            return;
        }
        let at = FileSpan::new(file, name.span);
        let mut index = self.index.borrow_mut();
        index.symbols.entry(at).or_insert_with(|| index::Symbol {
            kind,
            name: name.name.clone(),
            at,
            container: container.map(str::to_string),
        });
        index.references.push((at, at));
    }

    /// A field and its select options.
    fn declare_field(&self, field: &ast::FieldDecl, file: FileId, form: &str) {
        self.declare_symbol(index::SymbolKind::Field, &field.name, file, Some(form));
        for option in field.options.iter().flatten() {
            self.declare_symbol(index::SymbolKind::SelectOption, &option.key, file, Some(&field.name.name));
        }
    }

    /// Every declaration of every module goes into the index.
    fn collect_definitions(&self) {
        use index::SymbolKind as Kind;
        for module in self.modules {
            let file = module.file;
            for item in &module.ast.items {
                match item {
                    ast::Item::Use(_) | ast::Item::Test(_) => {}
                    ast::Item::Const(constant) => {
                        let kind = if module.is_prelude { Kind::BuiltinValue } else { Kind::Constant };
                        self.declare_symbol(kind, &constant.name, file, None);
                    }
                    ast::Item::Fn(function) => {
                        let kind = if module.is_prelude { Kind::BuiltinFunction } else { Kind::Function };
                        self.declare_symbol(kind, &function.name, file, None);
                        if !module.is_prelude {
                            for param in &function.params {
                                self.declare_symbol(Kind::Parameter, &param.name, file, Some(&function.name.name));
                            }
                        }
                    }
                    ast::Item::Form(form) => {
                        self.declare_symbol(Kind::Form, &form.name, file, None);
                        for member in &form.members {
                            match member {
                                ast::FormMember::Field(field) => self.declare_field(field, file, &form.name.name),
                                ast::FormMember::Detail(detail) => {
                                    self.declare_symbol(Kind::DetailTable, &detail.name, file, Some(&form.name.name));
                                    for field in &detail.fields {
                                        self.declare_field(field, file, &form.name.name);
                                    }
                                }
                                ast::FormMember::Validate(_) => {}
                            }
                        }
                    }
                    ast::Item::Workflow(workflow) => {
                        self.declare_symbol(Kind::Workflow, &workflow.name, file, None);
                        for node in &workflow.nodes {
                            self.declare_symbol(Kind::Node, &node.name, file, Some(&workflow.name.name));
                            for exit in &node.exits {
                                self.declare_symbol(Kind::Exit, &exit.name, file, Some(&node.name.name));
                            }
                        }
                    }
                }
            }
        }
        // `use a::item` names a declaration too.
        for module in self.modules {
            for import in &module.imports {
                let (Some(target), Some(item)) = (import.module, &import.item) else { continue };
                let Some(target_module) = self.modules.get(target) else { continue };
                let declared = target_module
                    .ast
                    .items
                    .iter()
                    .filter_map(|candidate| candidate.name())
                    .find(|name| name.name == item.name);
                if let Some(declared) = declared {
                    self.record(
                        FileSpan::new(module.file, item.span),
                        FileSpan::new(target_module.file, declared.span),
                    );
                }
            }
        }
    }

    pub fn file_of(&self, module: usize) -> FileId {
        self.modules.get(module).map(|m| m.file).unwrap_or_default()
    }

    pub fn at(&self, module: usize, span: Span) -> FileSpan {
        FileSpan::new(self.file_of(module), span)
    }

    pub fn item(&self, item: ItemRef) -> Option<&'a ast::Item> {
        self.modules.get(item.module)?.ast.items.get(item.index)
    }

    /// Items of the prelude become built-ins.
    fn collect_builtins(&mut self) {
        for (module_index, module) in self.modules.iter().enumerate() {
            if !module.is_prelude {
                continue;
            }
            for item in &module.ast.items {
                match item {
                    ast::Item::Fn(function) => {
                        let signature = self.signature_of(module_index, function);
                        self.builtin_fns.insert(function.name.name.as_str(), signature);
                        self.builtin_defs
                            .insert(function.name.name.as_str(), FileSpan::new(module.file, function.name.span));
                    }
                    ast::Item::Const(constant) => {
                        self.builtin_defs
                            .insert(constant.name.name.as_str(), FileSpan::new(module.file, constant.name.span));
                        let ty = constant
                            .ty
                            .as_ref()
                            .and_then(|ty| self.sig_type(module_index, ty))
                            .map(|sig| sig.as_ty())
                            .unwrap_or(Ty::Unknown);
                        self.builtin_values.insert(constant.name.name.as_str(), ty);
                    }
                    _ => {}
                }
            }
        }
    }

    /// Own items first (duplicates are E0302), then `use`d ones.
    fn build_scopes(&mut self) {
        let mut scopes = Vec::with_capacity(self.modules.len());
        for (module_index, module) in self.modules.iter().enumerate() {
            let mut scope: HashMap<&'a str, ItemRef> = HashMap::new();
            if module.is_prelude {
                scopes.push(scope);
                continue;
            }
            for (index, item) in module.ast.items.iter().enumerate() {
                let Some(name) = item.name() else { continue };
                if name.name.is_empty() {
                    continue;
                }
                let here = ItemRef { module: module_index, index };
                if let Some(&first) = scope.get(name.name.as_str()) {
                    self.duplicate_item(here, first, name);
                } else {
                    scope.insert(name.name.as_str(), here);
                }
            }
            for import in &module.imports {
                let Some(target_index) = import.module else { continue };
                let Some(target) = self.modules.get(target_index) else { continue };
                let imported: Vec<(usize, &'a ast::Ident)> = target
                    .ast
                    .items
                    .iter()
                    .enumerate()
                    .filter_map(|(index, item)| item.name().map(|name| (index, name)))
                    .filter(|(_, name)| import.item.as_ref().is_none_or(|wanted| wanted.name == name.name))
                    .collect();
                if let Some(wanted) = &import.item {
                    if imported.is_empty() {
                        let candidates =
                            target.ast.items.iter().filter_map(|item| item.name()).map(|name| name.name.as_str());
                        let mut diagnostic = Diagnostic::new(
                            Code::E0601,
                            format!("`{}` has no item `{}`", target.name, wanted.name),
                            FileSpan::new(module.file, wanted.span),
                            "not found in that module",
                        );
                        if let Some(best) = self.suggester.best(&wanted.name, candidates) {
                            diagnostic = diagnostic.with_replacement(best);
                        }
                        self.report(diagnostic);
                    }
                }
                for (index, name) in imported {
                    let there = ItemRef { module: target_index, index };
                    match scope.get(name.name.as_str()) {
                        Some(&existing) if existing != there => {
                            let shown = import
                                .item
                                .as_ref()
                                .map_or(import.use_span, |item| FileSpan::new(module.file, item.span));
                            self.report(
                                Diagnostic::new(
                                    Code::E0302,
                                    format!("`{}` is already defined in this file", name.name),
                                    shown,
                                    format!("this `use` brings in another `{}`", name.name),
                                )
                                .with_secondary(
                                    self.at(
                                        existing.module,
                                        self.item(existing)
                                            .and_then(|item| item.name())
                                            .map_or(Span::default(), |n| n.span),
                                    ),
                                    "first defined here",
                                )
                                .with_help(
                                    "rename one of them, or import only the items you need with `use module::item`",
                                ),
                            );
                        }
                        Some(_) => {}
                        None => {
                            scope.insert(name.name.as_str(), there);
                        }
                    }
                }
            }
            scopes.push(scope);
        }
        self.scopes = scopes;
    }

    fn duplicate_item(&self, here: ItemRef, first: ItemRef, name: &ast::Ident) {
        let first_span = self.item(first).and_then(|item| item.name()).map_or(Span::default(), |n| n.span);
        self.report(
            Diagnostic::new(
                Code::E0302,
                format!("`{}` is defined twice", name.name),
                self.at(here.module, name.span),
                "defined again here",
            )
            .with_secondary(self.at(first.module, first_span), "first defined here")
            .with_help("every form, workflow, function and constant of a file needs its own name"),
        );
    }

    /// Whether names may be missing from this module because some of its
    /// text did not parse; "unknown name" would then repeat a syntax error.
    pub fn module_incomplete(&self, module: usize) -> bool {
        self.modules.get(module).is_some_and(|m| m.ast.incomplete)
    }

    pub fn lookup(&self, module: usize, name: &str) -> Option<ItemRef> {
        self.scopes.get(module)?.get(name).copied()
    }

    /// A signature type as written, or a diagnostic.
    pub fn sig_type(&self, module: usize, ty: &ast::TypeExpr) -> Option<SigTy> {
        let argument = match &ty.argument {
            Some(argument) => Some(self.sig_type(module, argument)?),
            None => None,
        };
        let resolved = SigTy::from_names(&ty.name.name, argument);
        if resolved.is_none() {
            let candidates = types::FIELD_TYPE_NAMES.iter().chain(types::SIGNATURE_TYPE_NAMES).copied();
            let mut diagnostic = Diagnostic::new(
                Code::E0501,
                format!("unknown type `{}`", ty.name.name),
                self.at(module, ty.name.span),
                "not a type",
            );
            if let Some(best) = suggest::best(&ty.name.name, candidates) {
                diagnostic = diagnostic.with_replacement(best);
            } else {
                diagnostic = diagnostic.with_help("types are the field types (`int`, `money`, `text`, `date`, `employee`, …) and `decimal`, `bool`, `number`");
            }
            self.report(diagnostic);
        }
        resolved
    }

    fn signature_of(&self, module: usize, function: &ast::FnItem) -> Signature {
        let params = function
            .params
            .iter()
            .map(|param| {
                (param.name.name.clone(), self.sig_type(module, &param.ty).unwrap_or(SigTy::Any), param.optional)
            })
            .collect();
        let ret = self.sig_type(module, &function.ret).unwrap_or(SigTy::Any);
        Signature { params, ret }
    }

    fn collect_signatures(&mut self) {
        let mut signatures = HashMap::new();
        for (module_index, module) in self.modules.iter().enumerate() {
            if module.is_prelude {
                continue;
            }
            for (index, item) in module.ast.items.iter().enumerate() {
                if let ast::Item::Fn(function) = item {
                    signatures
                        .insert(ItemRef { module: module_index, index }, self.signature_of(module_index, function));
                }
            }
        }
        self.signatures = signatures;
    }

    fn check_items(&self) {
        for (module_index, module) in self.modules.iter().enumerate() {
            if module.is_prelude {
                continue;
            }
            for (index, item) in module.ast.items.iter().enumerate() {
                let here = ItemRef { module: module_index, index };
                match item {
                    ast::Item::Const(constant) => {
                        self.const_type(here);
                        if constant.value.is_none() {
                            self.report(Diagnostic::new(
                                Code::E0001,
                                format!("constant `{}` needs a value", constant.name.name),
                                self.at(module_index, constant.name.span),
                                "expected `= value`",
                            ));
                        }
                    }
                    ast::Item::Fn(function) => self.check_fn(here, function),
                    ast::Item::Form(_) => {
                        if let Some(form) = self.forms.get(&here) {
                            self.check_form(form);
                        }
                    }
                    ast::Item::Workflow(workflow) => self.check_workflow(module_index, workflow),
                    ast::Item::Test(test) => self.check_test(module_index, test),
                    ast::Item::Use(_) => {}
                }
            }
        }
        self.check_recursion();
        self.check_unfilled_fields();
    }
}
