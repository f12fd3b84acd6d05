//! The typed syntax tree. Every node has a [`Span`]; nothing here is
//! resolved or checked (that is `check/`'s job).

use rust_decimal::Decimal;

use crate::source::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal with its escapes already decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

#[derive(Debug, Clone, Default)]
pub struct File {
    pub items: Vec<Item>,
    /// Some text could not be parsed into any item: names it declared are
    /// missing, so "unknown name" diagnostics would only repeat the syntax
    /// error.
    pub incomplete: bool,
}

#[derive(Debug, Clone)]
pub enum Item {
    Use(UseItem),
    Const(ConstItem),
    Fn(FnItem),
    Form(FormItem),
    Workflow(WorkflowItem),
    Test(TestItem),
}

impl Item {
    /// The declared name (`None` for `use` and `test`).
    pub fn name(&self) -> Option<&Ident> {
        match self {
            Item::Use(_) => None,
            Item::Const(item) => Some(&item.name),
            Item::Fn(item) => Some(&item.name),
            Item::Form(item) => Some(&item.name),
            Item::Workflow(item) => Some(&item.name),
            // Tests live in their own namespace: no name of a scope.
            Item::Test(_) => None,
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Item::Use(item) => item.span,
            Item::Const(item) => item.span,
            Item::Fn(item) => item.span,
            Item::Form(item) => item.span,
            Item::Workflow(item) => item.span,
            Item::Test(item) => item.span,
        }
    }
}

#[derive(Debug, Clone)]
pub struct UseItem {
    pub path: Vec<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct ConstItem {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    /// `None` only in the prelude, which declares built-in values.
    pub value: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FnItem {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub ret: TypeExpr,
    /// `None` only in the prelude, which declares built-in functions.
    pub body: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub name: Ident,
    pub optional: bool,
    pub ty: TypeExpr,
}

/// A type as written in a signature: `money`, `text(100)`, `column<number>`.
#[derive(Debug, Clone)]
pub struct TypeExpr {
    pub name: Ident,
    pub size: Option<(String, Span)>,
    pub argument: Option<Box<TypeExpr>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FormItem {
    pub doc: Option<String>,
    pub name: Ident,
    pub label: Option<StrLit>,
    pub members: Vec<FormMember>,
    /// A member failed to parse (and is missing from `members`).
    pub broken: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum FormMember {
    Field(FieldDecl),
    Detail(DetailDecl),
    Validate(Validate),
}

#[derive(Debug, Clone)]
pub struct DetailDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub label: Option<StrLit>,
    pub fields: Vec<FieldDecl>,
    pub validates: Vec<Validate>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Validate {
    pub condition: Expr,
    pub message: StrLit,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FieldDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: FieldTypeExpr,
    pub label: Option<StrLit>,
    /// The second string: a `link`'s URL.
    pub extra: Option<StrLit>,
    pub flags: Vec<Ident>,
    pub formula: Option<Expr>,
    pub options: Option<Vec<SelectOption>>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FieldTypeExpr {
    pub name: Ident,
    pub size: Option<(String, Span)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct SelectOption {
    pub key: Ident,
    pub label: Option<StrLit>,
    pub default: Option<Span>,
    pub folder: Option<StrLit>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct WorkflowItem {
    pub doc: Option<String>,
    pub name: Ident,
    pub label: Option<StrLit>,
    pub settings: Vec<Setting>,
    pub nodes: Vec<Node>,
    /// A member failed to parse (and is missing from `nodes`/`settings`).
    pub broken: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum SettingKind {
    Category(StrLit),
    Form(Ident),
    Title(Title),
    Remind(Vec<Ident>),
    Portal,
    Inactive,
    /// `supervisors { … }`: people lines, as in `operators`.
    Supervisors(Vec<OperatorLine>),
}

#[derive(Debug, Clone)]
pub struct Setting {
    pub kind: SettingKind,
    /// The keyword (`category`, `form`, …).
    pub keyword: Span,
    pub span: Span,
}

impl Setting {
    pub fn keyword_text(&self) -> &'static str {
        match self.kind {
            SettingKind::Category(_) => "category",
            SettingKind::Form(_) => "form",
            SettingKind::Title(_) => "title",
            SettingKind::Remind(_) => "remind",
            SettingKind::Portal => "portal",
            SettingKind::Inactive => "inactive",
            SettingKind::Supervisors(_) => "supervisors",
        }
    }
}

/// A title string split into literal text and `{expr}` holes.
#[derive(Debug, Clone)]
pub struct Title {
    pub parts: Vec<TitlePart>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TitlePart {
    Text(String),
    Hole(Expr),
}

#[derive(Debug, Clone)]
pub struct Node {
    pub doc: Option<String>,
    pub name: Ident,
    pub label: Option<StrLit>,
    pub kind: Ident,
    /// Whether the node has a `{ … }` body at all.
    pub has_body: bool,
    pub operators: Vec<Operators>,
    pub field_settings: Vec<FieldSetting>,
    pub before: Vec<Block>,
    pub after: Vec<Block>,
    /// Exits and returns in written order; the exits of a `fork { … }` group
    /// are here too, marked with their group ([`Exit::fork`]).
    pub exits: Vec<Exit>,
    /// The `fork` groups (their `fork` keywords), in written order.
    pub forks: Vec<ForkGroup>,
    /// `wait …` lines (a merge node has at most one).
    pub waits: Vec<Wait>,
    /// `validate` rules written inside the node: checked at its submits only.
    pub validates: Vec<Validate>,
    /// `allow W0701 "reason"`: analysis warnings silenced on this node.
    pub allows: Vec<Allow>,
    /// `deadline …` blocks (one is allowed; the checker reports a second).
    pub deadlines: Vec<Deadline>,
    /// `start WORKFLOW { … } [wait { … }]` (one is allowed; the checker reports a second).
    pub starts: Vec<StartChild>,
    pub span: Span,
}

/// `start 安装调试 { 客户 = 客户, creator = 业务经理 } wait { 安装日期 = 安装日期 }`: entering the
/// node creates a request of another workflow; with `wait`, the node waits until it is archived
/// and copies its fields back.
#[derive(Debug, Clone)]
pub struct StartChild {
    pub keyword: Span,
    pub workflow: Ident,
    /// `child field = expression over this request` (or `creator = person`).
    pub fields: Vec<Mapping>,
    /// `this request's field = expression over the child`, when the node waits.
    pub wait: Option<Vec<Mapping>>,
    pub span: Span,
}

/// `name = expr` in a `start` block.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub target: Ident,
    pub value: Expr,
    pub span: Span,
}

/// `allow CODE "reason"` inside a node.
#[derive(Debug, Clone)]
pub struct Allow {
    pub code: Ident,
    pub reason: StrLit,
    pub span: Span,
}

/// `fork { exit … }`: a node leaves along every exit of the group whose condition holds.
#[derive(Debug, Clone)]
pub struct ForkGroup {
    pub keyword: Span,
    pub span: Span,
}

/// `wait all`, `wait 2` or `wait 物流, 库房` on a merge node.
#[derive(Debug, Clone)]
pub struct Wait {
    pub rule: WaitRule,
    pub keyword: Span,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum WaitRule {
    All,
    /// The count as written (checked to be a whole number of at least 1).
    Count(String, Span),
    Branches(Vec<Ident>),
}

/// `deadline 3 working days { rules }` (docs/language.md §6.9, "Deadlines").
#[derive(Debug, Clone)]
pub struct Deadline {
    pub length: Duration,
    pub rules: Vec<DeadlineRule>,
    pub span: Span,
}

/// `3 working days`: the amount as written (the checker wants a whole number above 0).
#[derive(Debug, Clone)]
pub struct Duration {
    pub amount: String,
    pub unit: DurationUnit,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DurationUnit {
    Hours,
    Days,
    WorkingDays,
}

#[derive(Debug, Clone)]
pub enum DeadlineRule {
    /// `remind [D before] [via sms, email]`
    Remind { before: Option<Duration>, channels: Vec<Ident>, span: Span },
    /// `[after D] take NAME`: an exit or return of the node.
    Take { after: Option<Duration>, exit: Ident, span: Span },
    /// `[after D] hand to PEOPLE`
    Hand { after: Option<Duration>, people: OperatorLine, span: Span },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum OperatorMode {
    Any,
    All,
    Sequential,
}

#[derive(Debug, Clone)]
pub struct Operators {
    pub mode: Option<(OperatorMode, Span)>,
    pub entries: Vec<OperatorEntry>,
    pub keyword: Span,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum OperatorEntry {
    Batch(Batch),
    Line(OperatorLine),
}

#[derive(Debug, Clone)]
pub struct Batch {
    pub number: (String, Span),
    pub lines: Vec<OperatorLine>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct OperatorLine {
    pub people: Expr,
    pub filter: Option<Expr>,
    pub condition: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SettingMode {
    Editable,
    Required,
    Hidden,
}

impl SettingMode {
    pub fn keyword(self) -> &'static str {
        match self {
            SettingMode::Editable => "editable",
            SettingMode::Required => "required",
            SettingMode::Hidden => "hidden",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FieldSetting {
    pub mode: SettingMode,
    pub fields: Vec<FieldPath>,
    /// `required 发票号 when 金额 > 1000`: required only when this holds at submit.
    pub condition: Option<Expr>,
    pub span: Span,
}

/// `金额` or `明细.单价`.
#[derive(Debug, Clone)]
pub struct FieldPath {
    pub segments: Vec<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ExitKind {
    Exit,
    Return,
}

#[derive(Debug, Clone)]
pub struct Exit {
    pub kind: ExitKind,
    pub name: Ident,
    pub target: Ident,
    pub condition: Option<Expr>,
    pub block: Option<Block>,
    /// The `fork` group (index into [`Node::forks`]) this exit belongs to.
    pub fork: Option<usize>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Block {
    pub statements: Vec<Statement>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Statement {
    Assign {
        target: FieldPath,
        value: Expr,
        span: Span,
    },
    /// `if a { … } else if b { … } else { … }`: the branches in order, then
    /// the final `else`. Flat, so a long `else if` chain is not deep.
    If {
        branches: Vec<(Expr, Block)>,
        else_block: Option<Block>,
        span: Span,
    },
    Script {
        path: StrLit,
        span: Span,
    },
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    /// `== != < <= > >= in`: the operators that compare rather than compute.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::In
        )
    }

    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Number(Decimal),
    /// An integer literal keeps the fact that it had no decimal point.
    Integer(Decimal),
    Str(String),
    Bool(bool),
    Null,
    List(Vec<Expr>),
    Name(Ident),
    Member(Box<Expr>, Ident),
    Call(Box<Expr>, Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// Stands for an expression that could not be built (a diagnostic was given).
    Error,
}

/// `test name "label" { … }`: a case for `flowc test` (docs/testing.md).
#[derive(Debug, Clone)]
pub struct TestItem {
    pub name: Ident,
    pub label: Option<StrLit>,
    pub members: Vec<TestMember>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TestMember {
    Workflow(Ident),
    Org(StrLit),
    Now(StrLit),
    Creator(StrLit),
    Form(TestValue),
    /// Boxed: an action is several times the size of the other members.
    Action(Box<TestAction>),
    /// `until "2026-12-01T09:00:00+08:00"`: the clock moves on, firing the deadline timers due.
    Until(StrLit),
    Expect(Vec<Expectation>),
}

/// One action of a test, with the fields of an `actions.json` entry.
#[derive(Debug, Clone)]
pub struct TestAction {
    /// `submit`, `reject`, `comment`, `forward` or `cc`.
    pub kind: Ident,
    pub by: StrLit,
    pub opinion: Option<StrLit>,
    pub set: Option<TestValue>,
    pub to: Option<TestValue>,
    /// `at "TIME"`: when the action happens (the deadline timers due before it fire first).
    pub at: Option<StrLit>,
    /// `node NAME`: the node acted at, after a fork.
    pub node: Option<Ident>,
    /// `request "2"`: the request acted on, one a `start` created (numbered 2, 3, …).
    pub request: Option<StrLit>,
    /// `refused CODE`: the action must be refused with this code.
    pub refused: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Expectation {
    pub kind: ExpectKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum ExpectKind {
    Node(Ident),
    Pending(TestValue),
    /// `archived` or `pending`.
    Status(Ident),
    Exit(Ident),
    Batch(String, Span),
    Field(Ident, TestValue),
}

/// A JSON-like literal: it means what the same value means in a JSON file.
#[derive(Debug, Clone)]
pub struct TestValue {
    pub kind: TestValueKind,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TestValueKind {
    Str(String),
    /// The number as written, so it reaches the JSON readers unchanged.
    Number(String),
    Bool(bool),
    Null,
    List(Vec<TestValue>),
    Object(Vec<(Ident, TestValue)>),
}

impl TestValue {
    /// The literal as JSON text (numbers keep their digits).
    pub fn to_json_text(&self) -> String {
        let mut out = String::new();
        self.write_json(&mut out);
        out
    }

    fn write_json(&self, out: &mut String) {
        match &self.kind {
            TestValueKind::Str(text) => out.push_str(&serde_json::Value::String(text.clone()).to_string()),
            TestValueKind::Number(text) => out.push_str(text),
            TestValueKind::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            TestValueKind::Null => out.push_str("null"),
            TestValueKind::List(values) => {
                out.push('[');
                for (position, value) in values.iter().enumerate() {
                    if position > 0 {
                        out.push(',');
                    }
                    value.write_json(out);
                }
                out.push(']');
            }
            TestValueKind::Object(entries) => {
                out.push('{');
                for (position, (key, value)) in entries.iter().enumerate() {
                    if position > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::String(key.name.clone()).to_string());
                    out.push(':');
                    value.write_json(out);
                }
                out.push('}');
            }
        }
    }
}
