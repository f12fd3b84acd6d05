//! The compiled program: what the interpreter will run instead of the AST.
//! Every name is resolved to an index (a field of the form, a node of the
//! workflow, a constant, a function, a parameter), every setting is a list
//! of field indexes, and formulas come with the order to compute them in.
//! Spans point back into the source for runtime errors. Serde types, so a
//! program can be dumped (`flowc build --emit ir`) and stored.

mod lower;
mod resolve;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use lower::lower;

use crate::check::types::FieldKind;
use crate::syntax::ast::{BinaryOp, ExitKind, OperatorMode, UnaryOp};

/// A place in the source: a file of `Program::files` and a byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Loc {
    pub file: u32,
    pub start: u32,
    pub end: u32,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Program {
    /// The source files, by the index `Loc::file` uses.
    pub files: Vec<String>,
    pub constants: Vec<Constant>,
    pub functions: Vec<Function>,
    pub forms: Vec<Form>,
    pub workflows: Vec<Workflow>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Constant {
    pub name: String,
    pub value: Expr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Function {
    pub name: String,
    pub params: Vec<String>,
    pub body: Expr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Form {
    pub name: String,
    pub label: String,
    /// Main fields and detail columns, in written order.
    pub fields: Vec<Field>,
    pub details: Vec<Detail>,
    pub validates: Vec<Validate>,
    /// The computed fields, each after every computed field it reads.
    pub formula_order: Vec<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Detail {
    pub name: String,
    pub label: String,
    pub columns: Vec<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    /// The detail table of a column.
    pub detail: Option<usize>,
    pub formula: Option<Expr>,
    pub options: Vec<SelectOption>,
    /// A `serial` field's pattern, in parts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub serial: Vec<crate::check::serial::SerialPart>,
    pub at: Loc,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelectOption {
    pub key: String,
    pub label: String,
    pub default: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Validate {
    pub condition: Expr,
    pub message: String,
    /// A detail table's rule holds for each row.
    pub detail: Option<usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Workflow {
    pub name: String,
    pub label: String,
    pub category: Option<String>,
    pub form: usize,
    pub title: Vec<TitlePart>,
    pub remind: Vec<String>,
    pub portal: bool,
    pub inactive: bool,
    pub create: usize,
    pub nodes: Vec<Node>,
    /// `supervisors { … }`: who may supervise (督办), force-archive and force-return requests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supervisors: Vec<OperatorLine>,
    /// The forks (docs/language.md §6.8), in the order of their fork nodes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forks: Vec<Fork>,
}

/// A `fork { … }` group: the node that forks, its branches and the merge that ends them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fork {
    pub node: usize,
    /// The branch names (the fork exits' names), in written order: branch `i` is the node's exit `i`.
    pub branches: Vec<String>,
    pub merge: usize,
}

/// One branch of one fork: an index into `Workflow::forks` and a branch of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BranchStep {
    pub fork: usize,
    pub branch: usize,
}

/// A merge node's fork and when it lets the request go on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MergeRule {
    pub fork: usize,
    pub wait: Wait,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// Every branch that was started.
    All,
    /// The first N to arrive (every started one when fewer were started).
    Count(u64),
    /// These branches, among those started (every started one when none of them was).
    Branches(Vec<usize>),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum TitlePart {
    Text(String),
    Hole(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    Create,
    Approve,
    Realize,
    /// Passed by the system when its fork's branches have arrived (§6.8).
    Merge,
    Archive,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Node {
    pub name: String,
    pub label: String,
    pub kind: NodeKind,
    pub mode: OperatorMode,
    /// Tried from the smallest number up; a block without `batch` groups
    /// is one batch numbered 1.
    pub batches: Vec<Batch>,
    /// Fields editable here (`required` ones included), and detail tables
    /// whose rows may be added and removed.
    pub editable: Vec<usize>,
    pub editable_tables: Vec<usize>,
    /// Fields that must be non-empty at submit (a column: in every row).
    pub required: Vec<usize>,
    /// Detail tables that must have at least one row at submit.
    #[serde(default)]
    pub required_tables: Vec<usize>,
    pub hidden: Vec<usize>,
    pub before: Vec<Stmt>,
    pub after: Vec<Stmt>,
    /// `exit`s, tried in written order by `submit`.
    pub exits: Vec<Exit>,
    /// `return`s, tried in written order by `reject`.
    pub returns: Vec<Exit>,
    /// `deadline …`: timers counted from the moment the request enters the node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Deadline>,
    /// `start WORKFLOW { … } [wait { … }]`: the request of another workflow the node creates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<StartChild>,
    /// The fork (index into `Workflow::forks`) whose branches this node's `exits` start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fork: Option<usize>,
    /// A merge node's fork and `wait`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<MergeRule>,
    /// The branches this node is in, outermost first (empty outside every fork);
    /// computed once, when lowering.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub branch: Vec<BranchStep>,
    /// `validate` rules written in the node: checked at its submits, after the form's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub validates: Vec<Validate>,
    /// `required … when …`: fields (and tables) required only when the condition holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_when: Vec<RequiredWhen>,
    /// Analysis warnings silenced on this node (`allow W0701 "reason"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allows: Vec<String>,
    pub at: Loc,
}

/// `required 发票号, 明细 when 金额 > 1000` at one node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequiredWhen {
    pub condition: Expr,
    /// Fields that must be non-empty (a column: in every row).
    pub fields: Vec<usize>,
    /// Detail tables that must have at least one row.
    pub tables: Vec<usize>,
    pub at: Loc,
}

/// A node's deadline and what happens around it (docs/language.md §6.9, "Deadlines").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Deadline {
    pub length: Duration,
    /// In time order from the entry (the checker keeps them so): `runtime::request::deadlines`
    /// fires them one after another.
    pub rules: Vec<DeadlineRule>,
    /// `3 working days`, as the trace names it.
    pub text: String,
    pub at: Loc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Duration {
    pub amount: u32,
    pub unit: crate::syntax::ast::DurationUnit,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadlineRule {
    /// When, from the deadline: before it, at it, or after it.
    pub offset: Offset,
    pub action: DeadlineAction,
    /// The rule as written (`after 1 day take 超时升级`), for the trace.
    pub text: String,
    pub at: Loc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Offset {
    Before(Duration),
    At,
    After(Duration),
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum DeadlineAction {
    /// Reminders to the pending operators, by these channels.
    Remind { channels: Vec<String> },
    /// The system leaves by this exit (`returns: false`) or return of the node.
    Take { index: usize, returns: bool },
    /// The pending operators are replaced by these people.
    Hand { people: OperatorLine },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Batch {
    pub number: u64,
    pub lines: Vec<OperatorLine>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperatorLine {
    pub people: Expr,
    /// Evaluated per person; `Attribute` names read the person.
    pub filter: Option<Expr>,
    pub condition: Option<Expr>,
    pub at: Loc,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Exit {
    pub name: String,
    pub kind: ExitKind,
    pub target: usize,
    pub condition: Option<Expr>,
    pub block: Vec<Stmt>,
    pub at: Loc,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Stmt {
    Assign { field: usize, value: Expr, at: Loc },
    If { branches: Vec<(Expr, Vec<Stmt>)>, otherwise: Vec<Stmt> },
    Script { path: String, at: Loc },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub at: Loc,
}

impl Expr {
    /// Every field (and detail column) the expression reads, in order.
    pub fn fields_read(&self, out: &mut Vec<usize>) {
        lower::collect_fields(self, out)
    }

    /// Calls `visit` on this expression and every expression inside it, outside in.
    pub fn walk(&self, visit: &mut dyn FnMut(&Expr)) {
        visit(self);
        match &self.kind {
            ExprKind::List(items) | ExprKind::CallBuiltin(_, items) | ExprKind::CallFunction(_, items) => {
                items.iter().for_each(|item| item.walk(visit))
            }
            ExprKind::Member(inner, _) | ExprKind::Unary(_, inner) => inner.walk(visit),
            ExprKind::Binary(_, left, right) | ExprKind::Index(left, right) => {
                left.walk(visit);
                right.walk(visit);
            }
            ExprKind::If(condition, then_value, else_value) => {
                condition.walk(visit);
                then_value.walk(visit);
                else_value.walk(visit);
            }
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ExprKind {
    Int(Decimal),
    Decimal(Decimal),
    Text(String),
    Bool(bool),
    Null,
    List(Vec<Expr>),
    /// A field of the workflow's form (in a row rule, a column means the
    /// current row's cell).
    Field(usize),
    /// A whole detail column, the argument of an aggregate.
    Column(usize),
    Constant(usize),
    Parameter(usize),
    Creator,
    Everyone,
    /// A node of the workflow (`部门审批.operator`).
    Node(usize),
    /// A person's attribute inside `where` (`security`).
    Attribute(String),
    Member(Box<Expr>, String),
    CallBuiltin(String, Vec<Expr>),
    CallFunction(usize, Vec<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
}

/// A node's `start`: entering the node creates a request of `workflow` (docs/language.md §6.10).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StartChild {
    /// Index into `Program::workflows`.
    pub workflow: usize,
    /// `creator = …` over this request; without it, this request's creator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator: Option<Expr>,
    /// Each child field (index in the child's form) and its value over this request.
    pub fields: Vec<(usize, Expr)>,
    /// With `wait`: this request's fields and their values over the archived child.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<Vec<(usize, Expr)>>,
    pub at: Loc,
}
