//! The semantic index: every declared symbol and every place a name
//! resolves to one. The checker fills it while resolving names, so the
//! language server's go-to-definition, references, rename and hover agree
//! with the diagnostics by construction.

use std::collections::{HashMap, HashSet};

use crate::source::{FileId, FileSpan};
use crate::syntax::ast::SettingMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SymbolKind {
    Form,
    Field,
    DetailTable,
    Workflow,
    Node,
    Exit,
    Function,
    Constant,
    Parameter,
    BuiltinFunction,
    BuiltinValue,
    /// An option of a select field; strings like `"差旅"` refer to it.
    SelectOption,
}

impl SymbolKind {
    pub fn describe(self) -> &'static str {
        match self {
            SymbolKind::Form => "form",
            SymbolKind::Field => "field",
            SymbolKind::DetailTable => "detail table",
            SymbolKind::Workflow => "workflow",
            SymbolKind::Node => "node",
            SymbolKind::Exit => "exit",
            SymbolKind::Function => "function",
            SymbolKind::Constant => "constant",
            SymbolKind::Parameter => "parameter",
            SymbolKind::BuiltinFunction => "built-in function",
            SymbolKind::BuiltinValue => "built-in value",
            SymbolKind::SelectOption => "select option",
        }
    }

    /// Built-ins live in the prelude and cannot be renamed.
    pub fn is_builtin(self) -> bool {
        matches!(self, SymbolKind::BuiltinFunction | SymbolKind::BuiltinValue)
    }

    /// Built-ins cannot be renamed, nor options (they are written as
    /// strings, and their keys may be stored in requests).
    pub fn is_renamable(self) -> bool {
        !self.is_builtin() && self != SymbolKind::SelectOption
    }
}

/// A declared name. `at` is the span of the name in its declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub kind: SymbolKind,
    pub name: String,
    pub at: FileSpan,
    /// The form of a field, the workflow of a node, the node of an exit.
    pub container: Option<String>,
}

/// `申请人.manager`: a member of a directory entity, for hover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberUse {
    pub at: FileSpan,
    pub owner: String,
    pub name: &'static str,
    pub doc: &'static str,
    pub ty: String,
}

/// A node field setting (`editable 金额` at node `部门审批`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingUse {
    pub field: FileSpan,
    pub workflow: String,
    pub node: String,
    pub mode: SettingMode,
}

#[derive(Debug, Default)]
pub struct Index {
    pub symbols: HashMap<FileSpan, Symbol>,
    /// (where a name is written, the span of its declaration); every
    /// declaration is also listed as a use of itself.
    pub references: Vec<(FileSpan, FileSpan)>,
    pub members: Vec<MemberUse>,
    pub settings: Vec<SettingUse>,
    /// Every `+` or `-` the checker typed as a date moved by days (`开始 + 3`): the IR makes
    /// them `add_days`, so an empty date stays empty, as the function says.
    pub date_shifts: HashSet<FileSpan>,
}

impl Index {
    /// The symbol whose name is written at `offset` in `file`, with the
    /// span of that occurrence.
    pub fn symbol_at(&self, file: FileId, offset: usize) -> Option<(FileSpan, &Symbol)> {
        self.references
            .iter()
            .filter(|(site, _)| site.file == file && site.span.contains(offset))
            .min_by_key(|(site, _)| site.span.len())
            .and_then(|(site, definition)| self.symbols.get(definition).map(|symbol| (*site, symbol)))
    }

    pub fn member_at(&self, file: FileId, offset: usize) -> Option<&MemberUse> {
        self.members.iter().find(|member| member.at.file == file && member.at.span.contains(offset))
    }

    /// Every occurrence of the symbol declared at `definition`, declaration
    /// included, in a stable order.
    pub fn occurrences(&self, definition: FileSpan) -> Vec<FileSpan> {
        let mut sites: Vec<FileSpan> =
            self.references.iter().filter(|(_, target)| *target == definition).map(|(site, _)| *site).collect();
        sites.sort_by_key(|site| (site.file, site.span.start));
        sites.dedup();
        sites
    }
}
