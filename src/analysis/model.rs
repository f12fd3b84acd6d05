//! From the IR to the constraint language: which variables a workflow's
//! conditions read, and what each condition, `validate` and assignment
//! means as a formula over them (language.md §4, §8 as `runtime/values/
//! eval.rs` computes it).
//!
//! Exact: int and decimal comparisons with each field's scale, check and
//! select fields, text compared with literals, `in` lists, `== null` and
//! `is_empty`, the rule that an ordering comparison with an empty value is
//! false, `and`/`or`/`not`/`if`, constants and user functions (inlined),
//! column aggregates (a variable each, tied to the table's row count),
//! linear formulas of fields, dates compared with dates and `today()`.
//! Anything else — another built-in, a directory lookup, `节点.operator`, a
//! product of two fields — becomes an *unknown* variable of its own: free,
//! so every conclusion drawn over it holds whatever its value, and named in
//! any finding that depends on it.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use rust_decimal::Decimal;

use super::logic::{bound_literal, Dom, Formula, Intervals, Linear, Lit, Sort, Sorts, VarId};
use super::solve::Prefer;
use crate::check::types::FieldKind;
use crate::ir::{Expr, ExprKind, Form, Program, Stmt, Workflow};
use crate::org::{DirectoryFile, MemoryDirectory};
use crate::runtime::values::dates::{Date, DateTime};
use crate::runtime::values::eval::Env;
use crate::runtime::values::layout::Layout;
use crate::runtime::values::value::{FormData, RefKind, Value};
use crate::syntax::ast::{BinaryOp, UnaryOp};

/// Aggregates with a variable of their own (`count` is the row count).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Agg {
    Sum,
    Avg,
    Min,
    Max,
}

impl Agg {
    pub fn name(self) -> &'static str {
        match self {
            Agg::Sum => "sum",
            Agg::Avg => "avg",
            Agg::Min => "min",
            Agg::Max => "max",
        }
    }
}

/// What a variable stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// A main field: one a person fills, or a computed one the analysis
    /// holds as a value of its own (its formula is not linear).
    Field(usize),
    /// How many rows a detail table has (`count`).
    Rows(usize),
    /// An aggregate of a detail column.
    Agg(Agg, usize),
    /// An expression the analysis does not solve, by its index.
    Unknown(usize),
    /// `today()`.
    Today,
}

/// What can change a variable: a main field, a detail column, a table's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Base {
    Main(usize),
    Column(usize),
    Table(usize),
}

/// When an unknown expression's value may change besides its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Volatile {
    /// Only when the fields it reads change (directory lookups: the
    /// directory is taken as fixed while a request runs).
    No,
    /// At every action (`today()`, `now()`, `节点.operator`).
    Yes,
}

/// One class of a finite variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Class {
    Null,
    /// `""`: equal to `null`, and empty.
    EmptyText,
    /// Only spaces: not equal to `null`, but empty for `required`/`is_empty`.
    Blank,
    /// A literal the conditions compare with (a text, a select key, an id).
    Lit(String),
    /// Anything else.
    Other,
    Bool(bool),
}

#[derive(Debug, Clone)]
pub struct VarInfo {
    pub key: Key,
    pub sort: Sort,
    /// For finite variables: the class of each value.
    /// Shared by every version of the variable (a version copies its info).
    pub classes: std::sync::Arc<[Class]>,
    /// The moment: 0 for the canonical variable, more for later versions.
    pub version: u32,
}

#[derive(Debug, Clone)]
pub struct UnknownInfo {
    /// The expression as written (for findings).
    pub text: String,
    /// What it computes, arguments and constants put in, fields and
    /// functions by name: the same in two versions when it means the same.
    pub meaning: String,
    /// A condition (true or false) rather than a number.
    pub boolean: bool,
    pub deps: Vec<Base>,
    pub volatile: Volatile,
}

/// A number during translation: empty, or a linear expression.
#[derive(Debug, Clone, PartialEq)]
enum NumVal {
    Null,
    Lin(LinExpr),
}

#[derive(Debug, Clone, PartialEq, Default)]
struct LinExpr {
    terms: Vec<(VarId, Decimal)>,
    constant: Decimal,
}

impl LinExpr {
    fn constant(value: Decimal) -> LinExpr {
        LinExpr { terms: Vec::new(), constant: value }
    }

    fn var(var: VarId) -> LinExpr {
        LinExpr { terms: vec![(var, Decimal::ONE)], constant: Decimal::ZERO }
    }

    fn add(&self, other: &LinExpr, sign: Decimal) -> Option<LinExpr> {
        let mut out = self.clone();
        for &(var, coefficient) in &other.terms {
            let scaled = coefficient.checked_mul(sign)?;
            match out.terms.iter_mut().find(|term| term.0 == var) {
                Some(term) => term.1 = term.1.checked_add(scaled)?,
                None => out.terms.push((var, scaled)),
            }
        }
        out.constant = out.constant.checked_add(other.constant.checked_mul(sign)?)?;
        out.terms.retain(|term| !term.1.is_zero());
        Some(out)
    }

    fn scale_by(&self, factor: Decimal) -> Option<LinExpr> {
        let mut out = LinExpr { terms: Vec::with_capacity(self.terms.len()), constant: Decimal::ZERO };
        for &(var, coefficient) in &self.terms {
            out.terms.push((var, coefficient.checked_mul(factor)?));
        }
        out.constant = self.constant.checked_mul(factor)?;
        out.terms.retain(|term| !term.1.is_zero());
        Some(out)
    }

    fn as_constant(&self) -> Option<Decimal> {
        self.terms.is_empty().then_some(self.constant)
    }
}

/// A numeric value by cases: guards that cover every value and exclude one another.
type Cases = Vec<(Formula, NumVal)>;

/// What `linear_formula` found of a computed field.
enum LinearFormula {
    /// Not linear (or rounded when stored): the field is a variable of its own.
    No,
    /// Linear: its cases, as found from the top of a condition.
    Cases(Cases),
}

/// The most cases one numeric expression may split into.
const CASE_LIMIT: usize = 64;
/// How deep constants, functions and computed fields are inlined.
const INLINE_DEPTH: usize = 32;
/// The most classes a finite variable keeps (a bit each in a `u128`).
const CLASS_LIMIT: usize = 120;
/// The scale given to unknown numbers: finer than any field keeps.
const UNKNOWN_SCALE: u32 = 10;

/// A workflow as the analysis sees it: its form and program, the
/// variables met so far, and the translations of its expressions.
pub struct Model<'p> {
    pub program: &'p Program,
    pub workflow: &'p Workflow,
    pub form: &'p Form,
    pub layout: Layout,
    pub vars: Vec<VarInfo>,
    canonical: HashMap<Key, VarId>,
    pub unknowns: Vec<UnknownInfo>,
    unknown_by_text: HashMap<String, usize>,
    /// Per main field: the literals it is compared with or assigned.
    literals: HashMap<usize, Vec<String>>,
    /// Per field: what can change it (for computed fields, their inputs).
    deps: HashMap<usize, Vec<Base>>,
    /// Computed main fields, whether their formula is linear (and so inlined).
    linear: HashMap<usize, LinearFormula>,
    /// `finite` of `field == "text"` and `!=` (field, operator, field on
    /// the left, text): the same test at many nodes is decided once.
    text_tests: HashMap<(usize, BinaryOp, bool, String), Option<Formula>>,
    empty_directory: MemoryDirectory,
    /// A blank form to evaluate one field's test on: one slot is set for a
    /// test and put back after, so a test costs no copy of the whole form
    /// (which made translating the conditions quadratic in the fields).
    scratch: std::cell::RefCell<FormData>,
    now: DateTime,
    /// The source texts, by `Loc::file`, for quoting expressions.
    texts: &'p [std::sync::Arc<str>],
    /// Ids a counterexample may use for "any other" record of a kind (a
    /// real directory's, when the request is run against it).
    pub other_ids: HashMap<RefKind, Vec<String>>,
}

/// The scope of an inlined user function: its arguments, translated in the caller's scope.
#[derive(Clone, Copy)]
struct Scope<'s> {
    args: &'s [Expr],
    outer: Option<&'s Scope<'s>>,
    depth: usize,
}

impl<'s> Scope<'s> {
    fn top() -> Scope<'static> {
        Scope { args: &[], outer: None, depth: 0 }
    }
}

impl<'p> Model<'p> {
    pub fn new(program: &'p Program, workflow: &'p Workflow, texts: &'p [std::sync::Arc<str>]) -> Option<Model<'p>> {
        let form = program.forms.get(workflow.form)?;
        let mut model = Model {
            program,
            workflow,
            form,
            layout: Layout::new(form),
            // Sized for a variable per field and about as many more (versions,
            // aggregates, unknowns): growing a large table copies it each time.
            vars: Vec::with_capacity(2 * form.fields.len() + 64),
            canonical: HashMap::with_capacity_and_hasher(form.fields.len() + 64, Default::default()),
            unknowns: Vec::new(),
            unknown_by_text: HashMap::default(),
            literals: HashMap::default(),
            deps: HashMap::with_capacity_and_hasher(form.fields.len(), Default::default()),
            linear: HashMap::default(),
            text_tests: HashMap::default(),
            empty_directory: MemoryDirectory::from_records(DirectoryFile::default()).ok()?,
            scratch: std::cell::RefCell::new(FormData {
                main: vec![Value::Null; form.fields.len()],
                tables: vec![Vec::new(); form.details.len()],
            }),
            now: DateTime::parse("2026-01-01T00:00:00+08:00")?,
            texts,
            other_ids: HashMap::default(),
        };
        model.collect_literals();
        Some(model)
    }

    pub fn field_name(&self, field: usize) -> &str {
        self.form.fields.get(field).map_or("?", |field| field.name.as_str())
    }

    /// A field's kind, borrowed from the program (not from the model, which may then change).
    pub fn kind(&self, field: usize) -> Option<&'p FieldKind> {
        let form: &'p Form = self.form;
        form.fields.get(field).map(|field| &field.kind)
    }

    pub fn is_computed(&self, field: usize) -> bool {
        self.form.fields.get(field).is_some_and(|field| field.formula.is_some())
    }

    pub fn table_of(&self, field: usize) -> Option<usize> {
        self.form.fields.get(field).and_then(|field| field.detail)
    }

    pub fn info(&self, var: VarId) -> Option<&VarInfo> {
        self.vars.get(var as usize)
    }

    pub fn canonical_of(&self, key: &Key) -> Option<VarId> {
        self.canonical.get(key).copied()
    }

    /// Every canonical variable met so far, with its key, in the order they
    /// were made (sorting by variable is cheap; by key, for 10,000 fields, is not).
    pub fn canonical_vars(&self) -> Vec<(Key, VarId)> {
        let mut all: Vec<(Key, VarId)> = self.canonical.iter().map(|(key, var)| (key.clone(), *var)).collect();
        all.sort_unstable_by_key(|(_, var)| *var);
        all
    }

    /// A later moment's variable for the same thing.
    pub fn fresh(&mut self, of: VarId) -> VarId {
        let id = self.vars.len() as VarId;
        let mut info = self.vars.get(of as usize).cloned().unwrap_or(VarInfo {
            key: Key::Today,
            sort: Sort::Fin { size: 2 },
            classes: std::sync::Arc::from([]),
            version: 0,
        });
        info.version += 1;
        self.vars.push(info);
        id
    }

    /// The canonical variable of `key`, made on first use.
    pub fn var(&mut self, key: Key) -> VarId {
        if let Some(var) = self.canonical.get(&key) {
            return *var;
        }
        let (sort, classes) = self.sort_of(&key);
        let id = self.vars.len() as VarId;
        self.vars.push(VarInfo { key: key.clone(), sort, classes: classes.into(), version: 0 });
        self.canonical.insert(key, id);
        id
    }

    fn sort_of(&self, key: &Key) -> (Sort, Vec<Class>) {
        match key {
            Key::Field(field) => self.field_sort(*field),
            Key::Rows(_) => (Sort::Num { scale: 0, nullable: false, min: Some(0) }, Vec::new()),
            Key::Agg(agg, column) => {
                let scale = self.kind(*column).and_then(numeric_scale).unwrap_or(UNKNOWN_SCALE);
                match agg {
                    Agg::Sum => (Sort::Num { scale, nullable: false, min: None }, Vec::new()),
                    Agg::Min | Agg::Max => (Sort::Num { scale, nullable: true, min: None }, Vec::new()),
                    Agg::Avg => (Sort::Num { scale: UNKNOWN_SCALE, nullable: true, min: None }, Vec::new()),
                }
            }
            Key::Unknown(index) if self.unknowns.get(*index).is_some_and(|unknown| unknown.boolean) => {
                (Sort::Fin { size: 2 }, vec![Class::Bool(false), Class::Bool(true)])
            }
            Key::Unknown(_) => (Sort::Num { scale: UNKNOWN_SCALE, nullable: true, min: None }, Vec::new()),
            Key::Today => (Sort::Num { scale: 0, nullable: false, min: None }, Vec::new()),
        }
    }

    /// A field's sort: numbers and dates are numeric; everything else is finite.
    fn field_sort(&self, field: usize) -> (Sort, Vec<Class>) {
        let Some(kind) = self.kind(field) else { return (Sort::Fin { size: 2 }, vec![Class::Null, Class::Other]) };
        if let Some(scale) = numeric_scale(kind) {
            return (Sort::Num { scale, nullable: true, min: None }, Vec::new());
        }
        if *kind == FieldKind::Date {
            return (Sort::Num { scale: 0, nullable: true, min: None }, Vec::new());
        }
        let classes = self.field_classes(field);
        (Sort::Fin { size: classes.len() as u8 }, classes)
    }

    /// The classes of a finite field: the values its conditions tell apart.
    pub fn field_classes(&self, field: usize) -> Vec<Class> {
        let mut classes = self.all_field_classes(field);
        if self.never_empty(field) {
            classes.retain(|class| *class != Class::Null);
        }
        classes
    }

    /// A computed reference to the creator, or to their department or
    /// subcompany, is never empty: every employee has a department, and
    /// every department a subcompany (runtime.md §2).
    pub fn never_empty(&self, field: usize) -> bool {
        let Some(formula) = self.form.fields.get(field).and_then(|target| target.formula.as_ref()) else {
            return false;
        };
        match &formula.kind {
            ExprKind::Creator => true,
            ExprKind::Member(target, member) => {
                matches!(target.kind, ExprKind::Creator) && (member == "department" || member == "subcompany")
            }
            _ => false,
        }
    }

    fn all_field_classes(&self, field: usize) -> Vec<Class> {
        let Some(target) = self.form.fields.get(field) else { return vec![Class::Null, Class::Other] };
        let literals = self.literals.get(&field).cloned().unwrap_or_default();
        match &target.kind {
            FieldKind::Check => vec![Class::Bool(false), Class::Bool(true)],
            FieldKind::Select => {
                let mut classes = vec![Class::Null];
                classes.extend(target.options.iter().take(CLASS_LIMIT).map(|option| Class::Lit(option.key.clone())));
                classes
            }
            FieldKind::Text(_) | FieldKind::Textarea => {
                let mut classes = vec![Class::Null, Class::EmptyText, Class::Blank];
                for literal in literals.into_iter().take(CLASS_LIMIT) {
                    if !literal.is_empty() && !literal.trim().is_empty() {
                        classes.push(Class::Lit(literal));
                    }
                }
                classes.push(Class::Other);
                classes
            }
            FieldKind::Employee
            | FieldKind::Department
            | FieldKind::Subcompany
            | FieldKind::Document
            | FieldKind::Project
            | FieldKind::Asset
            | FieldKind::Customer
            | FieldKind::MeetingRoom
            | FieldKind::Role => {
                let mut classes = vec![Class::Null];
                for literal in literals.into_iter().take(CLASS_LIMIT) {
                    if !literal.is_empty() {
                        classes.push(Class::Lit(literal));
                    }
                }
                classes.push(Class::Other);
                classes
            }
            _ => vec![Class::Null, Class::Other],
        }
    }

    /// A value of the field in the class (what the runtime would hold).
    pub fn representative(&self, field: usize, class: &Class) -> Value {
        let Some(target) = self.form.fields.get(field) else { return Value::Null };
        let ref_kind = ref_kind(&target.kind);
        match class {
            Class::Null => Value::Null,
            Class::EmptyText => Value::Text(String::new()),
            Class::Blank => Value::Text(" ".into()),
            Class::Bool(flag) => Value::Bool(*flag),
            Class::Lit(text) => match ref_kind {
                Some(kind) => Value::Ref(kind, text.clone()),
                None => Value::Text(text.clone()),
            },
            Class::Other => {
                let literals: &[String] = self.literals.get(&field).map_or(&[], Vec::as_slice);
                match &target.kind {
                    FieldKind::Employees => {
                        Value::List(vec![Value::Ref(RefKind::Employee, self.first_id(RefKind::Employee, "E1"))])
                    }
                    FieldKind::Departments => {
                        Value::List(vec![Value::Ref(RefKind::Department, self.first_id(RefKind::Department, "D1"))])
                    }
                    FieldKind::Attachment => Value::List(vec![Value::Text("附件.pdf".into())]),
                    FieldKind::Time => {
                        crate::runtime::values::dates::Time::parse("09:00").map_or(Value::Null, Value::Time)
                    }
                    FieldKind::DateTime => {
                        DateTime::parse("2026-01-01T09:00:00+08:00").map_or(Value::Null, Value::DateTime)
                    }
                    _ if ref_kind.is_some_and(|kind| self.other_ids.contains_key(&kind)) => {
                        let kind = ref_kind.unwrap_or(RefKind::Employee);
                        let ids: &[String] = self.other_ids.get(&kind).map_or(&[], Vec::as_slice);
                        match ids.iter().find(|id| !literals.contains(id)) {
                            Some(id) => Value::Ref(kind, id.clone()),
                            None => Value::Null,
                        }
                    }
                    _ => {
                        let stem = match ref_kind {
                            Some(RefKind::Employee) => "E",
                            Some(RefKind::Department) => "D",
                            Some(RefKind::Subcompany) => "S",
                            Some(RefKind::Document) => "DOC",
                            Some(RefKind::Project) => "P",
                            Some(RefKind::Asset) => "A",
                            Some(RefKind::Customer) => "C",
                            Some(RefKind::MeetingRoom) => "R",
                            None => "其他",
                        };
                        let mut candidate = format!("{stem}1");
                        let mut counter = 1;
                        while literals.contains(&candidate) {
                            counter += 1;
                            candidate = format!("{stem}{counter}");
                        }
                        match ref_kind {
                            Some(kind) => Value::Ref(kind, candidate),
                            None => Value::Text(candidate),
                        }
                    }
                }
            }
        }
    }

    fn first_id(&self, kind: RefKind, fallback: &str) -> String {
        self.other_ids.get(&kind).and_then(|ids| ids.first()).cloned().unwrap_or_else(|| fallback.to_owned())
    }

    /// What changes a field: itself, or for a computed field its inputs.
    pub fn deps_of_field(&mut self, field: usize) -> Vec<Base> {
        // A stored field of the main form (most of them) changes by itself
        // alone: no walk, and nothing to remember.
        if let Some(target) = self.form.fields.get(field) {
            if target.formula.is_none() && target.detail.is_none() {
                return vec![Base::Main(field)];
            }
        }
        if let Some(deps) = self.deps.get(&field) {
            return deps.clone();
        }
        let mut out: Vec<Base> = Vec::new();
        let mut seen = HashSet::default();
        let mut stack = vec![field];
        while let Some(current) = stack.pop() {
            if !seen.insert(current) || seen.len() > 10_000 {
                continue;
            }
            let Some(target) = self.form.fields.get(current) else { continue };
            if let Some(table) = target.detail {
                out.push(Base::Table(table));
            }
            match &target.formula {
                None => out.push(match target.detail {
                    Some(_) => Base::Column(current),
                    None => Base::Main(current),
                }),
                Some(formula) => {
                    let mut reads = Vec::new();
                    self.reads_through_constants(formula, &mut reads, 0);
                    stack.extend(reads);
                }
            }
        }
        out.sort();
        out.dedup();
        self.deps.insert(field, out.clone());
        out
    }

    /// The fields an expression reads, through constants and user functions.
    fn reads_through_constants(&self, expr: &Expr, out: &mut Vec<usize>, depth: usize) {
        if depth > INLINE_DEPTH {
            return;
        }
        expr.walk(&mut |part| match &part.kind {
            ExprKind::Field(field) | ExprKind::Column(field) => out.push(*field),
            ExprKind::Constant(index) => {
                if let Some(constant) = self.program.constants.get(*index) {
                    self.reads_through_constants(&constant.value, out, depth + 1);
                }
            }
            ExprKind::CallFunction(index, _) => {
                if let Some(function) = self.program.functions.get(*index) {
                    self.reads_through_constants(&function.body, out, depth + 1);
                }
            }
            _ => {}
        });
    }

    /// What changes the variable of `key`.
    pub fn deps_of_key(&mut self, key: &Key) -> Vec<Base> {
        match key {
            Key::Field(field) => self.deps_of_field(*field),
            Key::Rows(table) => vec![Base::Table(*table)],
            Key::Agg(_, column) => {
                let mut deps = self.deps_of_field(*column);
                if let Some(table) = self.table_of(*column) {
                    deps.push(Base::Table(table));
                }
                deps.sort();
                deps.dedup();
                deps
            }
            Key::Unknown(index) => self.unknowns.get(*index).map(|unknown| unknown.deps.clone()).unwrap_or_default(),
            Key::Today => Vec::new(),
        }
    }

    pub fn is_volatile(&self, key: &Key) -> bool {
        match key {
            Key::Today => true,
            Key::Unknown(index) => self.unknowns.get(*index).is_some_and(|unknown| unknown.volatile == Volatile::Yes),
            _ => false,
        }
    }

    /// Describes a variable for an analyst: the field, `sum(明细.金额)`, or the unknown expression.
    pub fn describe(&self, var: VarId) -> String {
        let Some(info) = self.info(var) else { return format!("v{var}") };
        self.describe_key(&info.key)
    }

    pub fn describe_key(&self, key: &Key) -> String {
        match key {
            Key::Field(field) => self.field_name(*field).to_owned(),
            Key::Rows(table) => {
                let counted = |formula: &Expr| match &formula.kind {
                    ExprKind::CallBuiltin(name, arguments) if name == "count" => {
                        matches!(arguments.first().map(|a| &a.kind), Some(ExprKind::Column(c)) if self.table_of(*c) == Some(*table))
                    }
                    _ => false,
                };
                if let Some(field) =
                    self.form.fields.iter().find(|f| f.detail.is_none() && f.formula.as_ref().is_some_and(counted))
                {
                    return field.name.clone();
                }
                let name = self.form.details.get(*table).map_or("?", |detail| detail.name.as_str());
                format!("{name} rows")
            }
            Key::Agg(agg, column) => {
                // A main field that is exactly this aggregate reads best by its own name (合计).
                let same = |formula: &Expr| match &formula.kind {
                    ExprKind::CallBuiltin(name, arguments) if name == agg.name() => {
                        matches!(arguments.first().map(|a| &a.kind), Some(ExprKind::Column(c)) if c == column)
                    }
                    _ => false,
                };
                if let Some(field) =
                    self.form.fields.iter().find(|f| f.detail.is_none() && f.formula.as_ref().is_some_and(same))
                {
                    return field.name.clone();
                }
                let table = self.table_of(*column).and_then(|table| self.form.details.get(table));
                let table = table.map_or("?", |detail| detail.name.as_str());
                format!("{}({table}.{})", agg.name(), self.field_name(*column))
            }
            Key::Unknown(index) => self.unknowns.get(*index).map_or_else(|| "?".into(), |unknown| unknown.text.clone()),
            Key::Today => "today()".into(),
        }
    }

    /// The literals each field is compared with, by field name (`flowc
    /// diff` gives both versions the union, so their classes line up).
    pub fn literals_by_name(&self) -> HashMap<String, Vec<String>> {
        let mut out: HashMap<String, Vec<String>> = HashMap::default();
        for (field, literals) in &self.literals {
            out.entry(self.field_name(*field).to_owned()).or_default().extend(literals.iter().cloned());
        }
        out
    }

    /// Adds literals by field name (before any variable is made: a
    /// variable's classes are fixed when it is made).
    pub fn add_literals(&mut self, extra: &HashMap<String, Vec<String>>) {
        // New literals make new classes: a test decided before may divide them.
        self.text_tests.clear();
        for (index, field) in self.form.fields.iter().enumerate() {
            let Some(more) = extra.get(&field.name) else { continue };
            let list = self.literals.entry(index).or_default();
            for literal in more {
                if !list.contains(literal) {
                    list.push(literal.clone());
                }
            }
        }
    }

    /// The variable of the unknown expression that computes `meaning`
    /// (made, free, written `text`, when this workflow has none): how another version's unknown is
    /// carried over, so the same expression is the same value in both.
    pub fn unknown_named(&mut self, text: &str, meaning: &str, boolean: bool) -> VarId {
        let index = match self.unknown_by_text.get(meaning) {
            Some(index) => *index,
            None => {
                self.unknown_by_text.insert(meaning.to_owned(), self.unknowns.len());
                self.unknowns.push(UnknownInfo {
                    text: text.to_owned(),
                    meaning: meaning.to_owned(),
                    boolean,
                    deps: Vec::new(),
                    volatile: Volatile::No,
                });
                self.unknowns.len() - 1
            }
        };
        self.var(Key::Unknown(index))
    }

    // ------------------------------------------------------------------ literals

    fn collect_literals(&mut self) {
        let mut found: HashMap<usize, Vec<String>> = HashMap::default();
        let mut record = |field: usize, text: &str| {
            let list = found.entry(field).or_default();
            if !list.iter().any(|known| known == text) {
                list.push(text.to_owned());
            }
        };
        let program = self.program;
        let visit = |expr: &Expr, record: &mut dyn FnMut(usize, &str)| {
            expr.walk(&mut |part| {
                if let ExprKind::Binary(BinaryOp::Eq | BinaryOp::Ne | BinaryOp::In, left, right) = &part.kind {
                    for (side, other) in [(left, right), (right, left)] {
                        if let ExprKind::Field(field) = side.kind {
                            for text in literal_texts(program, other, 0) {
                                record(field, &text);
                            }
                        }
                    }
                }
            });
        };
        let mut exprs: Vec<&Expr> = Vec::new();
        for validate in &self.form.validates {
            exprs.push(&validate.condition);
        }
        for field in &self.form.fields {
            if let Some(formula) = &field.formula {
                exprs.push(formula);
            }
        }
        let mut assignments: Vec<(usize, &Expr)> = Vec::new();
        for node in &self.workflow.nodes {
            for exit in node.exits.iter().chain(&node.returns) {
                if let Some(condition) = &exit.condition {
                    exprs.push(condition);
                }
                collect_statements(&exit.block, &mut exprs, &mut assignments);
            }
            for batch in &node.batches {
                for line in &batch.lines {
                    if let Some(condition) = &line.condition {
                        exprs.push(condition);
                    }
                    exprs.push(&line.people);
                }
            }
            collect_statements(&node.before, &mut exprs, &mut assignments);
            collect_statements(&node.after, &mut exprs, &mut assignments);
        }
        for function in &program.functions {
            exprs.push(&function.body);
        }
        for expr in exprs {
            visit(expr, &mut record);
        }
        for (field, value) in assignments {
            for text in literal_texts(program, value, 0) {
                record(field, &text);
            }
        }
        self.literals = found;
    }

    // ------------------------------------------------------------------ translation

    /// What "`expr` holds" (is `true`) means.
    pub fn condition(&mut self, expr: &Expr) -> Formula {
        self.cond(expr, Scope::top()).simplified(self)
    }

    fn cond(&mut self, expr: &Expr, scope: Scope<'_>) -> Formula {
        if scope.depth > INLINE_DEPTH {
            return self.unknown_bool(expr, scope);
        }
        match &expr.kind {
            ExprKind::Bool(flag) => {
                if *flag {
                    Formula::True
                } else {
                    Formula::False
                }
            }
            ExprKind::Null | ExprKind::Int(_) | ExprKind::Decimal(_) | ExprKind::Text(_) => Formula::False,
            ExprKind::Binary(BinaryOp::And, left, right) => {
                let left = self.cond(left, scope);
                let right = self.cond(right, scope);
                Formula::and(vec![left, right])
            }
            ExprKind::Binary(BinaryOp::Or, left, right) => {
                let left = self.cond(left, scope);
                let right = self.cond(right, scope);
                Formula::or(vec![left, right])
            }
            ExprKind::Unary(UnaryOp::Not, inner) => {
                let inner = self.cond(inner, scope);
                Formula::not(inner)
            }
            ExprKind::If(test, then_value, else_value) => {
                let test = self.cond(test, scope);
                let then_value = self.cond(then_value, scope);
                let else_value = self.cond(else_value, scope);
                Formula::Cases(vec![(test.clone(), then_value), (Formula::not(test), else_value)])
            }
            ExprKind::Constant(index) => match self.program.constants.get(*index) {
                Some(constant) => self.cond(&constant.value, Scope { depth: scope.depth + 1, ..Scope::top() }),
                None => Formula::False,
            },
            ExprKind::Parameter(index) => match (scope.args.get(*index), scope.outer) {
                (Some(argument), Some(outer)) => self.cond(argument, *outer),
                _ => Formula::False,
            },
            ExprKind::CallFunction(index, arguments) => match self.program.functions.get(*index) {
                Some(function) => {
                    let inner = Scope { args: arguments, outer: Some(&scope), depth: scope.depth + 1 };
                    self.cond(&function.body, inner)
                }
                None => Formula::False,
            },
            ExprKind::Field(field) => {
                if let Some(formula) = self.finite(expr, scope) {
                    return formula;
                }
                let field = *field;
                match self.form.fields.get(field).and_then(|target| target.formula.as_ref()) {
                    Some(formula) if self.kind(field) == Some(&FieldKind::Check) => {
                        self.cond(formula, Scope { depth: scope.depth + 1, ..Scope::top() })
                    }
                    _ => self.unknown_bool(expr, scope),
                }
            }
            ExprKind::Binary(op, left, right) if op.is_comparison() => {
                if let Some(formula) = self.finite(expr, scope) {
                    return formula;
                }
                if *op == BinaryOp::In {
                    return self.unknown_bool(expr, scope);
                }
                match self.compare(*op, left, right, scope) {
                    Some(formula) => formula,
                    None => self.unknown_bool(expr, scope),
                }
            }
            ExprKind::CallBuiltin(name, arguments) if name == "is_empty" => {
                if let Some(formula) = self.finite(expr, scope) {
                    return formula;
                }
                let cases = arguments.first().and_then(|argument| self.numeric(argument, false, scope));
                match cases {
                    Some(cases) => Formula::Cases(
                        cases
                            .into_iter()
                            .map(|(guard, value)| {
                                (guard, if value == NumVal::Null { Formula::True } else { Formula::False })
                            })
                            .collect(),
                    ),
                    None => self.unknown_bool(expr, scope),
                }
            }
            _ => self.unknown_bool(expr, scope),
        }
    }

    /// A comparison of two numbers (or dates): by cases of which sides are empty.
    fn compare(&mut self, op: BinaryOp, left: &Expr, right: &Expr, scope: Scope<'_>) -> Option<Formula> {
        let (left_cases, right_cases) = match self.ordered_stored_field(op, left, right) {
            // Each side translated once, the field's variable made where
            // `numeric` would make it (before the right side, after the left).
            Some((field, true)) => {
                let var = self.var(Key::Field(field));
                let other = self.numeric(right, true, scope)?;
                if let Some(constant) = single_constant(&other) {
                    return self.field_against_constant(op, var, constant, true);
                }
                (nullable_var(var), other)
            }
            Some((field, false)) => {
                let other = self.numeric(left, true, scope)?;
                let var = self.var(Key::Field(field));
                if let Some(constant) = single_constant(&other) {
                    return self.field_against_constant(op, var, constant, false);
                }
                (other, nullable_var(var))
            }
            None => (self.numeric(left, true, scope)?, self.numeric(right, true, scope)?),
        };
        if left_cases.len() * right_cases.len() > CASE_LIMIT {
            return None;
        }
        let mut out = Vec::new();
        for (left_guard, left_value) in &left_cases {
            for (right_guard, right_value) in &right_cases {
                let guard = Formula::and(vec![left_guard.clone(), right_guard.clone()]);
                let body = match (left_value, right_value) {
                    (NumVal::Null, NumVal::Null) => bool_formula(op == BinaryOp::Eq),
                    (NumVal::Null, _) | (_, NumVal::Null) => bool_formula(op == BinaryOp::Ne),
                    (NumVal::Lin(a), NumVal::Lin(b)) => {
                        let difference = a.add(b, Decimal::NEGATIVE_ONE)?;
                        self.linear_comparison(op, &difference)?
                    }
                };
                out.push((guard, body));
            }
        }
        Some(Formula::Cases(out))
    }

    /// Of an ordering comparison (`<`, `<=`, `>`, `>=`) with a number field
    /// on one side, stored and not computed (whose cases `numeric` gives as
    /// `nullable_var`): the field and whether it is the left side.
    fn ordered_stored_field(&self, op: BinaryOp, left: &Expr, right: &Expr) -> Option<(usize, bool)> {
        if !matches!(op, BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge) {
            return None;
        }
        let (field, field_left) = match (&left.kind, &right.kind) {
            (ExprKind::Field(field), _) => (*field, true),
            (_, ExprKind::Field(field)) => (*field, false),
            _ => return None,
        };
        let stored_number = self.kind(field).is_some_and(|kind| numeric_scale(kind).is_some())
            && self.table_of(field).is_none()
            && !self.is_computed(field);
        stored_number.then_some((field, field_left))
    }

    /// The common `amount > limit`, built directly as the domain `compare`'s
    /// cases give once simplified: an empty value compares false, so the
    /// non-empty values of `var` that satisfy it.
    fn field_against_constant(&self, op: BinaryOp, var: VarId, constant: Decimal, field_left: bool) -> Option<Formula> {
        let (value, constant) = (LinExpr::var(var), LinExpr::constant(constant));
        let difference = if field_left {
            value.add(&constant, Decimal::NEGATIVE_ONE)?
        } else {
            constant.add(&value, Decimal::NEGATIVE_ONE)?
        };
        let (terms, constant) = self.scaled(&difference)?;
        let (terms, constant) = as_at_most_zero(op, &terms, constant)?;
        let [(_, coefficient)] = terms.as_slice() else { return None };
        Some(bound_literal(var, *coefficient, constant, self))
    }

    /// `difference op 0` as integer inequalities over the scaled variables.
    fn linear_comparison(&self, op: BinaryOp, difference: &LinExpr) -> Option<Formula> {
        let (terms, constant) = self.scaled(difference)?;
        let lit = |op: BinaryOp| -> Option<Formula> {
            let (terms, constant) = as_at_most_zero(op, &terms, constant)?;
            Some(Formula::Lit(Lit::Lin(Linear::new(terms, constant)?)))
        };
        Some(match op {
            BinaryOp::Eq => Formula::and(vec![lit(BinaryOp::Le)?, lit(BinaryOp::Ge)?]),
            BinaryOp::Ne => Formula::or(vec![lit(BinaryOp::Lt)?, lit(BinaryOp::Gt)?]),
            _ => lit(op)?,
        })
    }

    /// Multiplies a decimal linear expression into whole numbers over the
    /// variables' scaled integers.
    fn scaled(&self, expr: &LinExpr) -> Option<(Vec<(VarId, i128)>, i128)> {
        let mut places = expr.constant.scale();
        for &(var, coefficient) in &expr.terms {
            places = places.max(coefficient.scale() + self.vars.get(var as usize)?.sort.scale());
        }
        let power = |exponent: u32| 10i128.checked_pow(exponent);
        let mut terms = Vec::with_capacity(expr.terms.len());
        for &(var, coefficient) in &expr.terms {
            let own = coefficient.scale() + self.vars.get(var as usize)?.sort.scale();
            terms.push((var, coefficient.mantissa().checked_mul(power(places - own)?)?));
        }
        let constant = expr.constant.mantissa().checked_mul(power(places - expr.constant.scale())?)?;
        Some((terms, constant))
    }

    /// The scale of the values an expression takes (for storing it exactly).
    fn expr_scale(&self, expr: &LinExpr) -> Option<u32> {
        let mut places = expr.constant.normalize().scale();
        for &(var, coefficient) in &expr.terms {
            places = places.max(coefficient.normalize().scale() + self.vars.get(var as usize)?.sort.scale());
        }
        Some(places)
    }

    /// A number as cases (`None` when the expression is not a number the analysis handles).
    fn numeric(&mut self, expr: &Expr, date_ok: bool, scope: Scope<'_>) -> Option<Cases> {
        if scope.depth > INLINE_DEPTH {
            return None;
        }
        let constant = |value: Decimal| Some(vec![(Formula::True, NumVal::Lin(LinExpr::constant(value)))]);
        match &expr.kind {
            ExprKind::Int(value) | ExprKind::Decimal(value) => constant(*value),
            ExprKind::Null => Some(vec![(Formula::True, NumVal::Null)]),
            ExprKind::Constant(index) => {
                let value = &self.program.constants.get(*index)?.value;
                self.numeric(value, date_ok, Scope { depth: scope.depth + 1, ..Scope::top() })
            }
            ExprKind::Parameter(index) => {
                let argument = scope.args.get(*index)?;
                self.numeric(argument, date_ok, *scope.outer?)
            }
            ExprKind::CallFunction(index, arguments) => {
                let function = self.program.functions.get(*index)?;
                let inner = Scope { args: arguments, outer: Some(&scope), depth: scope.depth + 1 };
                self.numeric(&function.body, date_ok, inner)
            }
            ExprKind::Field(field) => {
                let field = *field;
                let kind = self.kind(field)?;
                if self.table_of(field).is_some() {
                    return None;
                }
                let is_date = *kind == FieldKind::Date;
                if numeric_scale(kind).is_none() && !(is_date && date_ok) {
                    return None;
                }
                if self.is_computed(field) && !is_date {
                    if let Some(cases) = self.linear_formula(field, scope.depth) {
                        return Some(cases);
                    }
                } else if self.is_computed(field) {
                    return None;
                }
                let var = self.var(Key::Field(field));
                Some(nullable_var(var))
            }
            ExprKind::CallBuiltin(name, arguments) => {
                let column = match arguments.first().map(|argument| &argument.kind) {
                    Some(ExprKind::Column(column)) => Some(*column),
                    _ => None,
                };
                match (name.as_str(), column) {
                    ("sum", Some(column)) => {
                        let var = self.var(Key::Agg(Agg::Sum, column));
                        Some(vec![(Formula::True, NumVal::Lin(LinExpr::var(var)))])
                    }
                    ("count", Some(column)) => {
                        let table = self.table_of(column)?;
                        let var = self.var(Key::Rows(table));
                        Some(vec![(Formula::True, NumVal::Lin(LinExpr::var(var)))])
                    }
                    ("avg", Some(column)) => Some(nullable_var(self.var(Key::Agg(Agg::Avg, column)))),
                    ("min", Some(column)) => Some(nullable_var(self.var(Key::Agg(Agg::Min, column)))),
                    ("max", Some(column)) => Some(nullable_var(self.var(Key::Agg(Agg::Max, column)))),
                    ("date", _) if date_ok => match arguments.first().map(|argument| &argument.kind) {
                        Some(ExprKind::Text(text)) => {
                            let day = Date::parse(text)?;
                            constant(Decimal::from(day.0))
                        }
                        _ => None,
                    },
                    ("today", _) if date_ok => {
                        let var = self.var(Key::Today);
                        Some(vec![(Formula::True, NumVal::Lin(LinExpr::var(var)))])
                    }
                    ("round", _) => {
                        // Rounding what already has at most that many places changes nothing.
                        let places = match arguments.get(1).map(|argument| &argument.kind) {
                            None => Some(0u32),
                            Some(ExprKind::Int(places)) => u32::try_from(places.mantissa()).ok(),
                            _ => None,
                        };
                        let inner = arguments.first().and_then(|argument| self.numeric(argument, false, scope));
                        if let (Some(places), Some(cases)) = (places, inner) {
                            let exact = cases.iter().all(|(_, value)| match value {
                                NumVal::Null => true,
                                NumVal::Lin(lin) => self.expr_scale(lin).is_some_and(|scale| scale <= places),
                            });
                            if exact {
                                // round(null) is 0.
                                return Some(
                                    cases
                                        .into_iter()
                                        .map(|(guard, value)| match value {
                                            NumVal::Null => (guard, NumVal::Lin(LinExpr::constant(Decimal::ZERO))),
                                            other => (guard, other),
                                        })
                                        .collect(),
                                );
                            }
                        }
                        self.unknown_number(expr, scope)
                    }
                    ("len" | "days_between" | "year" | "month" | "floor" | "ceil" | "abs", _) => {
                        self.unknown_number(expr, scope)
                    }
                    _ => None,
                }
            }
            ExprKind::Member(..) | ExprKind::Index(..) => self.unknown_number(expr, scope),
            ExprKind::Unary(UnaryOp::Neg, inner) => {
                let cases = self.numeric(inner, false, scope)?;
                cases
                    .into_iter()
                    .map(|(guard, value)| {
                        let negated = match value {
                            NumVal::Null => LinExpr::constant(Decimal::ZERO),
                            NumVal::Lin(lin) => lin.scale_by(Decimal::NEGATIVE_ONE)?,
                        };
                        Some((guard, NumVal::Lin(negated)))
                    })
                    .collect()
            }
            ExprKind::Binary(op @ (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div), left, right) => {
                let left = self.numeric(left, false, scope)?;
                let right = self.numeric(right, false, scope)?;
                if left.len() * right.len() > CASE_LIMIT {
                    return None;
                }
                let mut out = Vec::new();
                for (left_guard, left_value) in &left {
                    for (right_guard, right_value) in &right {
                        let guard = Formula::and(vec![left_guard.clone(), right_guard.clone()]);
                        let value = arithmetic(*op, left_value, right_value)?;
                        out.push((guard, value));
                    }
                }
                Some(out)
            }
            ExprKind::If(test, then_value, else_value) => {
                let test = self.cond(test, scope);
                let then_cases = self.numeric(then_value, false, scope)?;
                let else_cases = self.numeric(else_value, false, scope)?;
                let mut out = Vec::new();
                for (guard, value) in then_cases {
                    out.push((Formula::and(vec![test.clone(), guard]), value));
                }
                for (guard, value) in else_cases {
                    out.push((Formula::and(vec![Formula::not(test.clone()), guard]), value));
                }
                (out.len() <= CASE_LIMIT).then_some(out)
            }
            _ => None,
        }
    }

    /// A computed field's formula as a number, when storing it never rounds.
    fn linear_formula(&mut self, field: usize, depth: usize) -> Option<Cases> {
        match self.linear.get(&field) {
            Some(LinearFormula::No) => return None,
            // Found from the top, where most mentions are: the same cases again.
            Some(LinearFormula::Cases(cases)) if depth == 0 => return Some(cases.clone()),
            _ => {}
        }
        let target = self.form.fields.get(field)?;
        let formula = target.formula.as_ref()?;
        let scale = numeric_scale(&target.kind)?;
        let cases = self.numeric(formula, false, Scope { depth: depth + 1, ..Scope::top() });
        let exact = cases.as_ref().is_some_and(|cases| {
            cases.iter().all(|(_, value)| match value {
                NumVal::Null => true,
                NumVal::Lin(lin) => {
                    lin.terms
                        .iter()
                        .all(|(var, _)| !matches!(self.info(*var).map(|info| &info.key), Some(Key::Unknown(_))))
                        && self.expr_scale(lin).is_some_and(|places| places <= scale)
                }
            })
        });
        match (exact, cases) {
            (true, Some(cases)) => {
                if depth == 0 {
                    self.linear.insert(field, LinearFormula::Cases(cases.clone()));
                }
                Some(cases)
            }
            _ => {
                self.linear.insert(field, LinearFormula::No);
                None
            }
        }
    }

    /// A comparison or test over one finite field and literals, decided per
    /// class by the runtime's own evaluator.
    fn finite(&mut self, expr: &Expr, scope: Scope<'_>) -> Option<Formula> {
        // An ordering comparison never respects classes (`class_respecting_field`),
        // whatever its constants are: not worth resolving (the common case of `x > limit`).
        if matches!(&expr.kind, ExprKind::Binary(BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge, ..)) {
            return None;
        }
        // `field == "text"` (or `!=`), the commonest test, is decided once per field and text.
        let key = match &expr.kind {
            ExprKind::Binary(op @ (BinaryOp::Eq | BinaryOp::Ne), left, right) => match (&left.kind, &right.kind) {
                (ExprKind::Field(field), ExprKind::Text(text)) => Some((*field, *op, true, text.clone())),
                (ExprKind::Text(text), ExprKind::Field(field)) => Some((*field, *op, false, text.clone())),
                _ => None,
            },
            _ => None,
        };
        if let Some(found) = key.as_ref().and_then(|key| self.text_tests.get(key)) {
            return found.clone();
        }
        let decided = self.finite_uncached(expr, scope);
        if let Some(key) = key {
            self.text_tests.insert(key, decided.clone());
        }
        decided
    }

    fn finite_uncached(&mut self, expr: &Expr, scope: Scope<'_>) -> Option<Formula> {
        let resolved = self.resolve_literals(expr, scope, 0)?;
        let field = class_respecting_field(&resolved)?;
        let kind = self.kind(field)?;
        if self.table_of(field).is_some()
            || numeric_scale(kind).is_some()
            || *kind == FieldKind::Date
            || (self.is_computed(field) && *kind == FieldKind::Check)
        {
            return None;
        }
        let names_classes = *kind != FieldKind::Select && *kind != FieldKind::Check;
        let var = self.var(Key::Field(field));
        // Borrowed, not copied: what follows only reads the model.
        let classes = &self.vars.get(var as usize)?.classes;
        // Every text the test names must be a class of its own, or the classes do not decide it.
        if names_classes {
            let mut texts = Vec::new();
            resolved.walk(&mut |part| {
                if let ExprKind::Text(text) = &part.kind {
                    texts.push(text.clone());
                }
            });
            let known = |text: &String| {
                text.trim().is_empty()
                    || classes.iter().any(|class| matches!(class, Class::Lit(literal) if literal == text))
            };
            if !texts.iter().all(known) {
                return None;
            }
        }
        let mut mask: u128 = 0;
        for (index, class) in classes.iter().enumerate() {
            if self.holds_with(field, &self.representative(field, class), &resolved)? {
                mask |= 1u128 << index;
            }
        }
        Some(Formula::dom(var, Dom::fin(mask)))
    }

    /// The expression with constants and parameters replaced by their literal values
    /// (`None` when one is not a literal).
    fn resolve_literals(&self, expr: &Expr, scope: Scope<'_>, depth: usize) -> Option<Expr> {
        if depth > INLINE_DEPTH {
            return None;
        }
        let kind = match &expr.kind {
            ExprKind::Constant(index) => {
                return self.resolve_literals(&self.program.constants.get(*index)?.value, Scope::top(), depth + 1)
            }
            ExprKind::Parameter(index) => {
                return self.resolve_literals(scope.args.get(*index)?, *scope.outer?, depth + 1);
            }
            ExprKind::List(items) => ExprKind::List(
                items.iter().map(|item| self.resolve_literals(item, scope, depth + 1)).collect::<Option<_>>()?,
            ),
            ExprKind::Binary(op, left, right) => ExprKind::Binary(
                *op,
                Box::new(self.resolve_literals(left, scope, depth + 1)?),
                Box::new(self.resolve_literals(right, scope, depth + 1)?),
            ),
            ExprKind::Unary(op, inner) => {
                ExprKind::Unary(*op, Box::new(self.resolve_literals(inner, scope, depth + 1)?))
            }
            ExprKind::CallBuiltin(name, arguments) if name == "is_empty" => ExprKind::CallBuiltin(
                name.clone(),
                arguments
                    .iter()
                    .map(|argument| self.resolve_literals(argument, scope, depth + 1))
                    .collect::<Option<_>>()?,
            ),
            ExprKind::Field(_)
            | ExprKind::Text(_)
            | ExprKind::Bool(_)
            | ExprKind::Null
            | ExprKind::Int(_)
            | ExprKind::Decimal(_) => expr.kind.clone(),
            _ => return None,
        };
        Some(Expr { kind, at: expr.at })
    }

    /// Evaluates a condition with the runtime, the field holding `value`.
    fn holds_with(&self, field: usize, value: &Value, expr: &Expr) -> Option<bool> {
        let mut data = self.scratch.try_borrow_mut().ok()?;
        if let Some(slot) = data.main.get_mut(field) {
            *slot = value.clone();
        }
        let env = Env {
            program: self.program,
            form: self.form,
            layout: &self.layout,
            data: &data,
            row: None,
            row_cells: None,
            directory: &self.empty_directory,
            creator: "",
            now: self.now,
            node_operators: &[],
            person: None,
        };
        let holds = env.holds(expr).ok();
        if let Some(slot) = data.main.get_mut(field) {
            *slot = Value::Null;
        }
        holds
    }

    /// An assignment `field = value` as a formula over the variable `new`
    /// (the field's next value) and the current ones; `None` when the
    /// analysis cannot say (the field then takes any value).
    pub fn assignment(&mut self, field: usize, value: &Expr, new: VarId) -> Option<Formula> {
        let kind = self.kind(field)?;
        if self.table_of(field).is_some() || self.is_computed(field) {
            return None;
        }
        // `x = x + 1` would give the fixpoint a new bound on every turn of a
        // loop; the field simply takes any value (sound, and it terminates).
        let mut reads = Vec::new();
        self.reads_through_constants(value, &mut reads, 0);
        if reads.contains(&field) {
            return None;
        }
        if let Some(scale) = numeric_scale(kind) {
            let cases = self.numeric(value, false, Scope::top())?;
            let mut out = Vec::new();
            for (guard, result) in cases {
                let body = match result {
                    NumVal::Null => Formula::dom(new, Dom::only_null()),
                    NumVal::Lin(lin) => {
                        // Storing rounds to the field's scale: exact only when nothing is rounded.
                        if self.expr_scale(&lin)? > scale {
                            return None;
                        }
                        let difference = LinExpr::var(new).add(&lin, Decimal::NEGATIVE_ONE)?;
                        self.linear_comparison(BinaryOp::Eq, &difference)?
                    }
                };
                out.push((guard, body));
            }
            return Some(Formula::Cases(out));
        }
        if *kind == FieldKind::Date {
            let cases = self.numeric(value, true, Scope::top())?;
            let mut out = Vec::new();
            for (guard, result) in cases {
                let body = match result {
                    NumVal::Null => Formula::dom(new, Dom::only_null()),
                    NumVal::Lin(lin) if lin.terms.len() <= 1 && lin.terms.iter().all(|term| term.1 == Decimal::ONE) => {
                        let difference = LinExpr::var(new).add(&lin, Decimal::NEGATIVE_ONE)?;
                        self.linear_comparison(BinaryOp::Eq, &difference)?
                    }
                    NumVal::Lin(_) => return None,
                };
                out.push((guard, body));
            }
            return Some(Formula::Cases(out));
        }
        if *kind == FieldKind::Check {
            // A check takes the truth of a condition (`null` stores `false`).
            let condition = match &value.kind {
                ExprKind::Null => Formula::False,
                _ => self.condition(value),
            };
            let classes = &self.vars.get(new as usize)?.classes;
            let true_class = classes.iter().position(|class| *class == Class::Bool(true))?;
            let mask = 1u128 << true_class;
            let is_true = Formula::dom(new, Dom::fin(mask));
            return Some(Formula::Cases(vec![
                (condition.clone(), is_true.clone()),
                (Formula::not(condition), Formula::not(is_true)),
            ]));
        }
        // A literal (or null) stored into a finite field: its class.
        let resolved = self.resolve_literals(value, Scope::top(), 0)?;
        let stored = match &resolved.kind {
            ExprKind::Null => Value::Null,
            ExprKind::Text(text) => {
                let target = self.form.fields.get(field)?;
                if *kind == FieldKind::Select {
                    Value::Text(crate::runtime::values::field_values::option_key(target, text)?)
                } else {
                    match ref_kind(kind) {
                        Some(ref_kind) => Value::Ref(ref_kind, text.clone()),
                        None => Value::Text(text.clone()),
                    }
                }
            }
            _ => return None,
        };
        let classes = &self.vars.get(new as usize)?.classes;
        let position = classes.iter().position(|class| match (class, &stored) {
            (Class::Null, Value::Null) => true,
            (Class::EmptyText, Value::Text(text)) => text.is_empty(),
            (Class::Blank, Value::Text(text)) => !text.is_empty() && text.trim().is_empty(),
            (Class::Lit(literal), Value::Text(text)) => literal == text,
            (Class::Lit(literal), Value::Ref(_, id)) => literal == id,
            _ => false,
        })?;
        Some(Formula::dom(new, Dom::fin(1u128 << position)))
    }

    /// The formula "the field is empty" (`required` fails), or `None` when the field cannot be empty.
    pub fn empty(&mut self, field: usize) -> Option<Formula> {
        let kind = self.kind(field)?;
        if numeric_scale(kind).is_some() || *kind == FieldKind::Date {
            if self.is_computed(field) && *kind != FieldKind::Date {
                if let Some(cases) = self.linear_formula(field, 0) {
                    return Some(Formula::Cases(
                        cases.into_iter().map(|(guard, value)| (guard, bool_formula(value == NumVal::Null))).collect(),
                    ));
                }
            }
            let var = self.var(Key::Field(field));
            return Some(Formula::dom(var, Dom::only_null()));
        }
        let var = self.var(Key::Field(field));
        let classes = &self.vars.get(var as usize)?.classes;
        let mut mask = 0u128;
        for (index, class) in classes.iter().enumerate() {
            if matches!(class, Class::Null | Class::EmptyText | Class::Blank) {
                mask |= 1u128 << index;
            }
        }
        if mask == 0 {
            return None;
        }
        Some(Formula::dom(var, Dom::fin(mask)))
    }

    /// The blank form's value of a variable (a new request before anyone writes).
    pub fn blank(&self, var: VarId) -> Option<Dom> {
        let info = self.info(var)?;
        match &info.key {
            Key::Field(field) => {
                let target = self.form.fields.get(*field)?;
                if target.formula.is_some() {
                    return None;
                }
                match &info.sort {
                    Sort::Num { .. } => Some(Dom::only_null()),
                    Sort::Fin { .. } => {
                        let default = target.options.iter().find(|option| option.default);
                        let position = info.classes.iter().position(|class| match (class, default) {
                            (Class::Lit(key), Some(option)) => *key == option.key,
                            (Class::Null, None) => true,
                            (Class::Bool(false), None) => true,
                            _ => false,
                        })?;
                        Some(Dom::fin(1u128 << position))
                    }
                }
            }
            Key::Rows(_) => Some(Dom::Num { null: false, set: Intervals::point(0) }),
            Key::Agg(Agg::Sum, _) => Some(Dom::Num { null: false, set: Intervals::point(0) }),
            Key::Agg(_, _) => Some(Dom::only_null()),
            Key::Unknown(_) | Key::Today => None,
        }
    }

    /// What a table's aggregates always satisfy: no rows, a sum of 0 and
    /// empty minimum, maximum and average; some rows, all three present and
    /// ordered.
    pub fn aggregate_facts(&mut self) -> Formula {
        let mut by_table: HashMap<usize, Vec<(Agg, VarId)>> = HashMap::default();
        // The aggregates in the order of their keys (only they are sorted).
        let mut aggregates: Vec<(Agg, usize, VarId)> = self
            .canonical
            .iter()
            .filter_map(|(key, var)| match key {
                Key::Agg(agg, column) => Some((*agg, *column, *var)),
                _ => None,
            })
            .collect();
        aggregates.sort_unstable();
        for (agg, column, var) in aggregates {
            if let Some(table) = self.table_of(column) {
                by_table.entry(table).or_default().push((agg, var));
            }
        }
        let mut facts = Vec::new();
        let mut tables: Vec<usize> = by_table.keys().copied().collect();
        tables.sort_unstable();
        for table in tables {
            let rows = self.var(Key::Rows(table));
            let aggregates = by_table.remove(&table).unwrap_or_default();
            let mut none = vec![Formula::dom(rows, Dom::Num { null: false, set: Intervals::point(0) })];
            let mut some = vec![Formula::dom(rows, Dom::Num { null: false, set: Intervals::at_least(1) })];
            for (agg, var) in &aggregates {
                match agg {
                    Agg::Sum => none.push(Formula::dom(*var, Dom::Num { null: false, set: Intervals::point(0) })),
                    _ => {
                        none.push(Formula::dom(*var, Dom::only_null()));
                        some.push(Formula::dom(*var, Dom::not_null()));
                    }
                }
            }
            facts.push(Formula::or(vec![Formula::and(none), Formula::and(some)]));
        }
        Formula::and(facts)
    }

    // ------------------------------------------------------------------ unknowns

    fn unknown_index(&mut self, expr: &Expr, scope: Scope<'_>, boolean: bool) -> usize {
        let mut text = String::from(if boolean { "?" } else { "#" });
        self.write_canonical(&mut text, expr, scope, 0);
        if let Some(index) = self.unknown_by_text.get(&text) {
            return *index;
        }
        let mut reads = Vec::new();
        self.reads_in_scope(expr, scope, &mut reads, 0);
        let mut deps = Vec::new();
        for field in reads {
            deps.extend(self.deps_of_field(field));
        }
        deps.sort();
        deps.dedup();
        let mut volatile = Volatile::No;
        expr.walk(&mut |part| match &part.kind {
            ExprKind::CallBuiltin(name, _) if name == "today" || name == "now" => volatile = Volatile::Yes,
            ExprKind::Node(_) => volatile = Volatile::Yes,
            _ => {}
        });
        let index = self.unknowns.len();
        self.unknowns.push(UnknownInfo {
            text: self.source_text(expr),
            meaning: text.clone(),
            boolean,
            deps,
            volatile,
        });
        self.unknown_by_text.insert(text, index);
        index
    }

    fn unknown_bool(&mut self, expr: &Expr, scope: Scope<'_>) -> Formula {
        let index = self.unknown_index(expr, scope, true);
        let var = self.var(Key::Unknown(index));
        Formula::dom(var, Dom::fin(0b10))
    }

    fn unknown_number(&mut self, expr: &Expr, scope: Scope<'_>) -> Option<Cases> {
        let index = self.unknown_index(expr, scope, false);
        let var = self.var(Key::Unknown(index));
        Some(nullable_var(var))
    }

    fn reads_in_scope(&self, expr: &Expr, scope: Scope<'_>, out: &mut Vec<usize>, depth: usize) {
        if depth > INLINE_DEPTH {
            return;
        }
        expr.walk(&mut |part| match &part.kind {
            ExprKind::Field(field) | ExprKind::Column(field) => out.push(*field),
            ExprKind::Parameter(index) => {
                if let (Some(argument), Some(outer)) = (scope.args.get(*index), scope.outer) {
                    self.reads_in_scope(argument, *outer, out, depth + 1);
                }
            }
            ExprKind::Constant(index) => {
                if let Some(constant) = self.program.constants.get(*index) {
                    self.reads_in_scope(&constant.value, Scope::top(), out, depth + 1);
                }
            }
            ExprKind::CallFunction(index, arguments) => {
                if let Some(function) = self.program.functions.get(*index) {
                    let inner = Scope { args: arguments, outer: Some(&scope), depth: depth + 1 };
                    self.reads_in_scope(&function.body, inner, out, depth + 1);
                }
            }
            _ => {}
        });
    }

    /// Writes a text that is equal for equal expressions (parameters
    /// replaced by their arguments), all into `out`: no string per sub-expression.
    fn write_canonical(&self, out: &mut String, expr: &Expr, scope: Scope<'_>, depth: usize) {
        use std::fmt::Write as _;
        if depth > INLINE_DEPTH {
            out.push('…');
            return;
        }
        let list = |out: &mut String, items: &[Expr]| {
            for (position, item) in items.iter().enumerate() {
                if position > 0 {
                    out.push(',');
                }
                self.write_canonical(out, item, scope, depth + 1);
            }
        };
        // Writing into a `String` cannot fail.
        let _ = match &expr.kind {
            ExprKind::Int(value) | ExprKind::Decimal(value) => write!(out, "{value}"),
            ExprKind::Text(text) => write!(out, "{text:?}"),
            ExprKind::Bool(flag) => write!(out, "{flag}"),
            ExprKind::Null => write!(out, "null"),
            ExprKind::List(items) => {
                out.push('[');
                list(out, items);
                write!(out, "]")
            }
            // Names, not indices: `flowc diff` matches unknowns across versions by this text.
            ExprKind::Field(field) => write!(out, "f[{}]", self.field_name(*field)),
            ExprKind::Column(field) => write!(out, "c[{}]", self.field_name(*field)),
            ExprKind::Constant(index) => match self.program.constants.get(*index) {
                Some(constant) => write!(out, "k[{}]", constant.name),
                None => write!(out, "k{index}"),
            },
            ExprKind::Parameter(index) => match (scope.args.get(*index), scope.outer) {
                (Some(argument), Some(outer)) => {
                    self.write_canonical(out, argument, *outer, depth + 1);
                    Ok(())
                }
                _ => write!(out, "p{index}"),
            },
            ExprKind::Creator => write!(out, "creator"),
            ExprKind::Everyone => write!(out, "everyone"),
            ExprKind::Node(node) => match self.workflow.nodes.get(*node) {
                Some(target) => write!(out, "n[{}]", target.name),
                None => write!(out, "n{node}"),
            },
            ExprKind::Attribute(name) => write!(out, "@{name}"),
            ExprKind::Member(target, name) => {
                self.write_canonical(out, target, scope, depth + 1);
                write!(out, ".{name}")
            }
            ExprKind::CallBuiltin(name, arguments) => {
                let _ = write!(out, "{name}(");
                list(out, arguments);
                write!(out, ")")
            }
            ExprKind::CallFunction(index, arguments) => {
                match self.program.functions.get(*index) {
                    Some(function) => {
                        let _ = write!(out, "fn[{}](", function.name);
                    }
                    None => {
                        let _ = write!(out, "fn[{index}](");
                    }
                }
                list(out, arguments);
                write!(out, ")")
            }
            ExprKind::Unary(op, inner) => {
                let _ = write!(out, "({op:?} ");
                self.write_canonical(out, inner, scope, depth + 1);
                write!(out, ")")
            }
            ExprKind::Binary(op, left, right) => {
                out.push('(');
                self.write_canonical(out, left, scope, depth + 1);
                let _ = write!(out, " {} ", op.symbol());
                self.write_canonical(out, right, scope, depth + 1);
                write!(out, ")")
            }
            ExprKind::If(test, then_value, else_value) => {
                out.push_str("(if ");
                self.write_canonical(out, test, scope, depth + 1);
                out.push_str(" then ");
                self.write_canonical(out, then_value, scope, depth + 1);
                out.push_str(" else ");
                self.write_canonical(out, else_value, scope, depth + 1);
                write!(out, ")")
            }
            ExprKind::Index(target, index) => {
                self.write_canonical(out, target, scope, depth + 1);
                out.push('[');
                self.write_canonical(out, index, scope, depth + 1);
                write!(out, "]")
            }
        };
    }

    /// The expression as written in the source, on one line (set by the analysis from the check's sources).
    pub fn source_text(&self, expr: &Expr) -> String {
        self.text_at(expr.at)
    }

    pub fn text_at(&self, at: crate::ir::Loc) -> String {
        self.texts
            .get(at.file as usize)
            .and_then(|text| text.get(at.start as usize..at.end as usize))
            .map(|text| text.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| "an expression".into())
    }
}

impl Sorts for Model<'_> {
    fn sort(&self, var: VarId) -> Sort {
        self.vars.get(var as usize).map_or(Sort::Fin { size: 2 }, |info| info.sort.clone())
    }

    fn holds_all(&self, var: VarId, dom: &Dom) -> bool {
        match self.vars.get(var as usize) {
            Some(info) => dom.contains_universe(&info.sort),
            None => dom.contains_universe(&Sort::Fin { size: 2 }),
        }
    }
}

impl Prefer for Model<'_> {
    /// Counterexamples read best with a literal or a plain value: a
    /// select's first option, a text the conditions name, `false` for a check.
    fn prefer_class(&self, var: VarId, mask: u128) -> u8 {
        let Some(info) = self.vars.get(var as usize) else { return mask.trailing_zeros() as u8 };
        let rank = |class: &Class| match class {
            Class::Lit(_) => 0,
            Class::Bool(false) => 0,
            Class::Bool(true) => 1,
            Class::Other => 2,
            Class::Null => 3,
            Class::EmptyText => 4,
            Class::Blank => 5,
        };
        let mut best: Option<(usize, u8)> = None;
        for (index, class) in info.classes.iter().enumerate() {
            if index >= 128 || mask & (1u128 << index) == 0 {
                continue;
            }
            let score = rank(class);
            if best.is_none_or(|(_, best_score)| score < best_score) {
                best = Some((index, score));
            }
        }
        best.map_or(mask.trailing_zeros() as u8, |(index, _)| index as u8)
    }
}

/// The value of cases that are one constant, never empty.
/// `Σ terms + constant op 0`, for an ordering `op`, as `Σ terms' + constant' <= 0`
/// (integers: `< 0` is `+ 1 <= 0`, `>= 0` is the negation `<= 0`).
fn as_at_most_zero(op: BinaryOp, terms: &[(VarId, i128)], constant: i128) -> Option<(Vec<(VarId, i128)>, i128)> {
    let negated = || -> Option<Vec<(VarId, i128)>> {
        terms.iter().map(|&(var, coefficient)| Some((var, coefficient.checked_neg()?))).collect()
    };
    match op {
        BinaryOp::Le => Some((terms.to_vec(), constant)),
        BinaryOp::Lt => Some((terms.to_vec(), constant.checked_add(1)?)),
        BinaryOp::Ge => Some((negated()?, constant.checked_neg()?)),
        BinaryOp::Gt => Some((negated()?, constant.checked_neg()?.checked_add(1)?)),
        _ => None,
    }
}

fn single_constant(cases: &Cases) -> Option<Decimal> {
    match cases.as_slice() {
        [(Formula::True, NumVal::Lin(value))] => value.as_constant(),
        _ => None,
    }
}

fn nullable_var(var: VarId) -> Cases {
    vec![
        (Formula::dom(var, Dom::only_null()), NumVal::Null),
        (Formula::dom(var, Dom::not_null()), NumVal::Lin(LinExpr::var(var))),
    ]
}

fn bool_formula(value: bool) -> Formula {
    if value {
        Formula::True
    } else {
        Formula::False
    }
}

/// `+ - * /` on numbers with the runtime's empty-value rules: an empty
/// number reads as 0, except that empty + empty stays empty.
fn arithmetic(op: BinaryOp, left: &NumVal, right: &NumVal) -> Option<NumVal> {
    let zero = LinExpr::constant(Decimal::ZERO);
    let as_lin = |value: &NumVal| match value {
        NumVal::Null => zero.clone(),
        NumVal::Lin(lin) => lin.clone(),
    };
    match op {
        BinaryOp::Add => match (left, right) {
            (NumVal::Null, NumVal::Null) => Some(NumVal::Null),
            _ => Some(NumVal::Lin(as_lin(left).add(&as_lin(right), Decimal::ONE)?)),
        },
        BinaryOp::Sub => Some(NumVal::Lin(as_lin(left).add(&as_lin(right), Decimal::NEGATIVE_ONE)?)),
        BinaryOp::Mul => {
            let (a, b) = (as_lin(left), as_lin(right));
            match (a.as_constant(), b.as_constant()) {
                (Some(factor), _) => Some(NumVal::Lin(b.scale_by(factor)?)),
                (_, Some(factor)) => Some(NumVal::Lin(a.scale_by(factor)?)),
                _ => None,
            }
        }
        BinaryOp::Div => {
            let divisor = as_lin(right).as_constant()?;
            if divisor.is_zero() {
                return None;
            }
            let reciprocal = Decimal::ONE.checked_div(divisor)?;
            // Only divisors whose reciprocal is exact (2, 4, 5, 10, 100 …).
            if reciprocal.checked_mul(divisor)? != Decimal::ONE || reciprocal.scale() > 12 {
                return None;
            }
            Some(NumVal::Lin(as_lin(left).scale_by(reciprocal)?))
        }
        _ => None,
    }
}

/// The decimal places of a numeric field kind.
pub fn numeric_scale(kind: &FieldKind) -> Option<u32> {
    crate::runtime::values::field_values::scale_of(kind)
}

pub fn ref_kind(kind: &FieldKind) -> Option<RefKind> {
    Some(match kind {
        FieldKind::Employee => RefKind::Employee,
        FieldKind::Department => RefKind::Department,
        FieldKind::Subcompany => RefKind::Subcompany,
        FieldKind::Document => RefKind::Document,
        FieldKind::Project => RefKind::Project,
        FieldKind::Asset => RefKind::Asset,
        FieldKind::Customer => RefKind::Customer,
        FieldKind::MeetingRoom => RefKind::MeetingRoom,
        _ => return None,
    })
}

/// The field an expression tests, when it tests one field against literals
/// only with operations the classes decide exactly (`==`, `!=`, `in` a
/// list, `is_empty`, `not`, `and`, `or`, a bare check).
fn class_respecting_field(expr: &Expr) -> Option<usize> {
    fn visit(expr: &Expr, field: &mut Option<usize>) -> bool {
        let mut one = |found: usize| match field {
            Some(known) => *known == found,
            None => {
                *field = Some(found);
                true
            }
        };
        match &expr.kind {
            ExprKind::Field(found) => one(*found),
            ExprKind::Unary(UnaryOp::Not, inner) => visit(inner, field),
            ExprKind::Binary(BinaryOp::And | BinaryOp::Or, left, right) => visit(left, field) && visit(right, field),
            ExprKind::Binary(BinaryOp::Eq | BinaryOp::Ne, left, right) => match (&left.kind, &right.kind) {
                (ExprKind::Field(found), other) | (other, ExprKind::Field(found)) => is_literal(other) && one(*found),
                _ => false,
            },
            ExprKind::Binary(BinaryOp::In, left, right) => match (&left.kind, &right.kind) {
                (ExprKind::Field(found), ExprKind::List(items)) => {
                    items.iter().all(|item| is_literal(&item.kind)) && one(*found)
                }
                _ => false,
            },
            ExprKind::CallBuiltin(name, arguments) if name == "is_empty" => {
                matches!(arguments.as_slice(), [argument] if matches!(argument.kind, ExprKind::Field(found) if one(found)))
            }
            ExprKind::Bool(_) => true,
            _ => false,
        }
    }
    let mut field = None;
    if visit(expr, &mut field) {
        field
    } else {
        None
    }
}

fn is_literal(kind: &ExprKind) -> bool {
    matches!(kind, ExprKind::Text(_) | ExprKind::Bool(_) | ExprKind::Null)
}

/// The text literals an expression is (a literal, a list of them, a constant holding them).
fn literal_texts(program: &Program, expr: &Expr, depth: usize) -> Vec<String> {
    if depth > INLINE_DEPTH {
        return Vec::new();
    }
    match &expr.kind {
        ExprKind::Text(text) => vec![text.clone()],
        ExprKind::List(items) => items.iter().flat_map(|item| literal_texts(program, item, depth + 1)).collect(),
        ExprKind::Constant(index) => program
            .constants
            .get(*index)
            .map(|constant| literal_texts(program, &constant.value, depth + 1))
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn collect_statements<'e>(block: &'e [Stmt], exprs: &mut Vec<&'e Expr>, assignments: &mut Vec<(usize, &'e Expr)>) {
    for statement in block {
        match statement {
            Stmt::Assign { field, value, .. } => {
                exprs.push(value);
                assignments.push((*field, value));
            }
            Stmt::If { branches, otherwise } => {
                for (condition, branch) in branches {
                    exprs.push(condition);
                    collect_statements(branch, exprs, assignments);
                }
                collect_statements(otherwise, exprs, assignments);
            }
            Stmt::Script { .. } => {}
        }
    }
}
