//! Evaluating IR expressions (language.md §4, §7, §8): exact decimal
//! arithmetic with checked overflow, the empty-value rules, member access
//! into the directory, the built-in functions and user functions. Errors
//! carry the span of the expression that failed.

use rust_decimal::Decimal;

use crate::check::types::FieldKind;
use crate::diag::Code;
use crate::ir::{Expr, ExprKind, Form, Loc, Program};
use crate::org::{Directory, Scope};
use crate::runtime::error::RuntimeError;
use crate::runtime::values::dates::{Date, DateTime, Time};
use crate::runtime::values::layout::Layout;
use crate::runtime::values::money;
use crate::runtime::values::text_format;
use crate::runtime::values::value::{FormData, RefKind, Value};
use crate::syntax::ast::{BinaryOp, UnaryOp};

pub type EvalResult<T> = Result<T, RuntimeError>;

/// Everything an expression can read.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub program: &'a Program,
    pub form: &'a Form,
    pub layout: &'a Layout,
    pub data: &'a FormData,
    /// In a row rule or a detail `validate`: the table and the row.
    pub row: Option<(usize, usize)>,
    /// The cells of that row, when the caller holds them apart from `data`
    /// (recomputing a table takes its rows out to write them in place).
    pub row_cells: Option<&'a [Value]>,
    pub directory: &'a dyn Directory,
    pub creator: &'a str,
    pub now: DateTime,
    /// Who submitted each node most recently (`部门审批.operator`).
    pub node_operators: &'a [Option<String>],
    /// The person a `where` filter is looking at.
    pub person: Option<&'a str>,
}

/// User functions nest at most this deep (they cannot recurse, but a
/// chain of calls can still be long).
const MAX_CALL_DEPTH: usize = 256;

impl<'a> Env<'a> {
    pub fn eval(&self, expr: &Expr) -> EvalResult<Value> {
        self.eval_in(expr, &[], 0)
    }

    /// A condition: `null` and anything but `true` do not hold.
    pub fn holds(&self, expr: &Expr) -> EvalResult<bool> {
        Ok(matches!(self.eval(expr)?, Value::Bool(true)))
    }

    pub fn with_row(self, table: usize, row: usize) -> Env<'a> {
        Env { row: Some((table, row)), row_cells: None, ..self }
    }

    pub fn with_person(self, person: &'a str) -> Env<'a> {
        Env { person: Some(person), ..self }
    }

    fn eval_in(&self, expr: &Expr, params: &[Value], depth: usize) -> EvalResult<Value> {
        let eval = |inner: &Expr| self.eval_in(inner, params, depth);
        match &expr.kind {
            ExprKind::Int(value) | ExprKind::Decimal(value) => Ok(Value::Number(*value)),
            ExprKind::Text(text) => Ok(Value::Text(text.clone())),
            ExprKind::Bool(value) => Ok(Value::Bool(*value)),
            ExprKind::Null => Ok(Value::Null),
            ExprKind::List(items) => items.iter().map(eval).collect::<EvalResult<_>>().map(Value::List),
            ExprKind::Field(field) => Ok(self.read_field(*field)),
            ExprKind::Column(field) => Ok(Value::List(self.column(*field).cloned().collect())),
            ExprKind::Constant(index) => match self.program.constants.get(*index) {
                Some(constant) => eval(&constant.value),
                None => Err(internal(expr.at, "unknown constant")),
            },
            ExprKind::Parameter(index) => Ok(params.get(*index).cloned().unwrap_or(Value::Null)),
            ExprKind::Creator => Ok(Value::Ref(RefKind::Employee, self.creator.to_owned())),
            ExprKind::Everyone => Ok(Value::Everyone),
            ExprKind::Node(node) => Ok(Value::Text(format!("#node{node}"))),
            ExprKind::Attribute(name) => match self.person {
                Some(person) => self.member(&Value::Ref(RefKind::Employee, person.to_owned()), name, expr.at),
                None => Ok(Value::Null),
            },
            ExprKind::Member(target, name) => {
                if let ExprKind::Node(node) = target.kind {
                    if name == "operator" {
                        let operator = self.node_operators.get(node).cloned().flatten();
                        return Ok(operator.map_or(Value::Null, |id| Value::Ref(RefKind::Employee, id)));
                    }
                }
                let target = eval(target)?;
                self.member(&target, name, expr.at)
            }
            ExprKind::CallBuiltin(name, arguments) => self.builtin(expr, name, arguments, params, depth),
            ExprKind::CallFunction(index, arguments) => {
                if depth >= MAX_CALL_DEPTH {
                    return Err(RuntimeError::at(Code::R0104, "functions call each other too deeply", expr.at));
                }
                let function =
                    self.program.functions.get(*index).ok_or_else(|| internal(expr.at, "unknown function"))?;
                let values = arguments.iter().map(eval).collect::<EvalResult<Vec<_>>>()?;
                self.eval_in(&function.body, &values, depth + 1)
            }
            ExprKind::Unary(UnaryOp::Not, operand) => Ok(Value::Bool(!matches!(eval(operand)?, Value::Bool(true)))),
            ExprKind::Unary(UnaryOp::Neg, operand) => match eval(operand)? {
                Value::Null => Ok(Value::Number(Decimal::ZERO)),
                Value::Number(value) => Ok(Value::Number(-value)),
                other => Err(type_error(expr.at, "`-` needs a number", &other)),
            },
            ExprKind::Binary(BinaryOp::And, left, right) => {
                Ok(Value::Bool(matches!(eval(left)?, Value::Bool(true)) && matches!(eval(right)?, Value::Bool(true))))
            }
            ExprKind::Binary(BinaryOp::Or, left, right) => {
                Ok(Value::Bool(matches!(eval(left)?, Value::Bool(true)) || matches!(eval(right)?, Value::Bool(true))))
            }
            ExprKind::Binary(op, left, right) => {
                if !op.is_comparison() {
                    if let Some(number) = self.fast_number(expr) {
                        return Ok(Value::Number(number));
                    }
                }
                let left_value = eval(left)?;
                let right_value = eval(right)?;
                if op.is_comparison() {
                    // A select compares with option keys or labels: labels become keys.
                    let right_value = self.select_key(left, right_value);
                    let left_value = self.select_key(right, left_value);
                    return self.compare(*op, left_value, right_value, expr.at);
                }
                arithmetic(*op, left_value, right_value, expr.at)
            }
            ExprKind::If(condition, then_value, else_value) => {
                if matches!(eval(condition)?, Value::Bool(true)) {
                    eval(then_value)
                } else {
                    eval(else_value)
                }
            }
            ExprKind::Index(target, index) => {
                let target = eval(target)?;
                let position = match eval(index)? {
                    Value::Number(number) => number,
                    other => return Err(type_error(expr.at, "an index must be a number", &other)),
                };
                let slot = usize::try_from(position.trunc().mantissa()).ok().filter(|_| position.fract().is_zero());
                let found = match (&target, slot) {
                    (Value::List(items), Some(slot)) => items.get(slot).cloned(),
                    (Value::Text(text), Some(slot)) => text.chars().nth(slot).map(|char| Value::Text(char.into())),
                    (Value::Null, _) => Some(Value::Null),
                    _ => None,
                };
                found.ok_or_else(|| {
                    RuntimeError::at(
                        Code::R0104,
                        format!("index {position} is outside {target} (indexes start at 0)"),
                        expr.at,
                    )
                })
            }
        }
    }

    /// The stored value of a field; in a row, a column reads the row's cell.
    pub fn read_field(&self, field: usize) -> Value {
        match self.stored(field) {
            Some(Value::Null) | None => self.empty_value(field),
            Some(value) => value.clone(),
        }
    }

    /// Where a field's value is stored, if anywhere (no copy).
    fn stored(&self, field: usize) -> Option<&'a Value> {
        match self.layout.column_of(field) {
            Some((table, column)) => {
                let row = match self.row {
                    Some((row_table, row)) if row_table == table => row,
                    _ => return None,
                };
                match self.row_cells {
                    Some(cells) => cells.get(column),
                    None => {
                        self.data.tables.get(table).and_then(|rows| rows.get(row)).and_then(|cells| cells.get(column))
                    }
                }
            }
            None => self.data.main.get(field),
        }
    }

    /// Arithmetic over literals and filled numeric fields, without making
    /// values: the row rules of a big table spend their time here. `None`
    /// when the expression is anything else (the general path then runs).
    fn fast_number(&self, expr: &Expr) -> Option<Decimal> {
        match &expr.kind {
            ExprKind::Int(value) | ExprKind::Decimal(value) => Some(*value),
            ExprKind::Field(field) => match self.stored(*field) {
                Some(Value::Number(value)) => Some(*value),
                _ => None,
            },
            // Division by zero and overflow give `None`: the general path reports them.
            ExprKind::Binary(BinaryOp::Add, left, right) => {
                self.fast_number(left)?.checked_add(self.fast_number(right)?)
            }
            ExprKind::Binary(BinaryOp::Sub, left, right) => {
                self.fast_number(left)?.checked_sub(self.fast_number(right)?)
            }
            ExprKind::Binary(BinaryOp::Mul, left, right) => {
                self.fast_number(left)?.checked_mul(self.fast_number(right)?)
            }
            ExprKind::Binary(BinaryOp::Div, left, right) => {
                self.fast_number(left)?.checked_div(self.fast_number(right)?)
            }
            _ => None,
        }
    }

    /// An empty check reads as `false`; other empty fields as `null` (which
    /// arithmetic and aggregates take as 0, and `+` on text as "").
    fn empty_value(&self, field: usize) -> Value {
        match self.form.fields.get(field).map(|field| &field.kind) {
            Some(FieldKind::Check) => Value::Bool(false),
            _ => Value::Null,
        }
    }

    /// The cells of a detail column, row by row.
    pub fn column(&self, field: usize) -> impl Iterator<Item = &'a Value> + 'a {
        let data = self.data;
        let rows = self.layout.column_of(field).and_then(|(table, column)| Some((data.tables.get(table)?, column)));
        rows.into_iter().flat_map(|(rows, column)| rows.iter().map(move |row| row.get(column).unwrap_or(&Value::Null)))
    }

    /// If `side` is a select field and `value` a text naming one of its
    /// options by label, the option's key.
    fn select_key(&self, side: &Expr, value: Value) -> Value {
        let ExprKind::Field(field) = side.kind else { return value };
        let Some(field) = self.form.fields.get(field) else { return value };
        if !field.kind.has_options() {
            return value;
        }
        let relabel =
            |text: String| match field.options.iter().find(|option| option.key != text && option.label == text) {
                Some(option) => option.key.clone(),
                None => text,
            };
        match value {
            Value::Text(text) => Value::Text(relabel(text)),
            Value::List(items) => Value::List(
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::Text(text) => Value::Text(relabel(text)),
                        other => other,
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    fn compare(&self, op: BinaryOp, left: Value, right: Value, at: Loc) -> EvalResult<Value> {
        use std::cmp::Ordering;
        let result = match op {
            BinaryOp::Eq => equals(&left, &right),
            BinaryOp::Ne => !equals(&left, &right),
            BinaryOp::In => self.contains(&right, &left, at)?,
            _ => {
                let ordering: Option<Ordering> = match (&left, &right) {
                    (Value::Number(a), Value::Number(b)) => Some(a.cmp(b)),
                    (Value::Text(a), Value::Text(b)) => Some(a.cmp(b)),
                    (Value::Date(a), Value::Date(b)) => Some(a.cmp(b)),
                    (Value::Time(a), Value::Time(b)) => Some(a.cmp(b)),
                    (Value::DateTime(a), Value::DateTime(b)) => a.partial_cmp(b),
                    _ => None,
                };
                match (op, ordering) {
                    (BinaryOp::Lt, Some(ordering)) => ordering == Ordering::Less,
                    (BinaryOp::Le, Some(ordering)) => ordering != Ordering::Greater,
                    (BinaryOp::Gt, Some(ordering)) => ordering == Ordering::Greater,
                    (BinaryOp::Ge, Some(ordering)) => ordering != Ordering::Less,
                    _ => false,
                }
            }
        };
        Ok(Value::Bool(result))
    }

    /// `needle in haystack`: list membership, or a person among people.
    fn contains(&self, haystack: &Value, needle: &Value, at: Loc) -> EvalResult<bool> {
        if needle.is_null() {
            return Ok(false);
        }
        if let Value::Ref(RefKind::Employee, person) = needle {
            if !matches!(haystack, Value::List(_) | Value::Text(_)) {
                return Ok(self.has_person(haystack, person));
            }
            if let Value::List(items) = haystack {
                return Ok(items.iter().any(|item| equals(item, needle) || self.has_person(item, person)));
            }
        }
        match haystack {
            Value::List(items) => Ok(items.iter().any(|item| equals(item, needle))),
            Value::Text(text) => match needle {
                Value::Text(part) => Ok(text.contains(part.as_str())),
                _ => Ok(false),
            },
            Value::Null => Ok(false),
            other => Err(type_error(at, "`in` needs a list or people on its right", other)),
        }
    }

    /// Whether `person` is among the people `value` names.
    pub fn has_person(&self, value: &Value, person: &str) -> bool {
        let directory = self.directory;
        match value {
            Value::Ref(RefKind::Employee, id) => id == person,
            Value::Ref(RefKind::Department, id) => directory.department_of(person).as_deref() == Some(id.as_str()),
            Value::Ref(RefKind::Subcompany, id) => {
                directory.subcompany_of_employee(person).as_deref() == Some(id.as_str())
            }
            Value::Role { name, scope } => match scope.as_deref() {
                None => directory.holds_role(person, name, None),
                Some((kind, id)) => directory.holds_role(person, name, Some(scope_of(*kind, id))),
            },
            Value::Everyone => directory.employee(person).is_some(),
            Value::List(items) => items.iter().any(|item| self.has_person(item, person)),
            _ => false,
        }
    }

    /// `target.name` (language.md §7 members). On `null`, `null`; on a
    /// list, the member of each element, flattened.
    pub fn member(&self, target: &Value, name: &str, at: Loc) -> EvalResult<Value> {
        let directory = self.directory;
        let employee = |id: Option<std::borrow::Cow<'_, str>>| {
            id.map_or(Value::Null, |id| Value::Ref(RefKind::Employee, id.into_owned()))
        };
        let reference = |kind: RefKind, id: Option<std::borrow::Cow<'_, str>>| {
            id.map_or(Value::Null, |id| Value::Ref(kind, id.into_owned()))
        };
        let people = |list: crate::org::People<'_>| {
            Value::List(list.iter().map(|id| Value::Ref(RefKind::Employee, id.to_owned())).collect())
        };
        let unknown = |kind: RefKind, id: &str| {
            RuntimeError::at(Code::R0305, format!("no {} with id `{id}` in the directory", kind.noun()), at)
        };
        let value = match target {
            Value::Null => Value::Null,
            Value::List(items) => {
                let mut out: Vec<Value> = Vec::new();
                for item in items {
                    match self.member(item, name, at)? {
                        Value::Null => {}
                        Value::List(values) => out.extend(values),
                        value => out.push(value),
                    }
                }
                out.dedup();
                Value::List(out)
            }
            Value::Ref(kind, id) => {
                let id = id.as_str();
                if name == "id" {
                    return Ok(Value::Text(id.to_owned()));
                }
                match kind {
                    RefKind::Employee => {
                        let record = directory.employee(id).ok_or_else(|| unknown(*kind, id))?;
                        match name {
                            "name" => Value::Text(record.name.clone()),
                            "manager" => employee(directory.manager_of(id)),
                            "department" => reference(RefKind::Department, directory.department_of(id)),
                            "subcompany" => reference(RefKind::Subcompany, directory.subcompany_of_employee(id)),
                            "security" => Value::Number(Decimal::from(record.security)),
                            "roles" => Value::List(
                                directory.roles_of(id).iter().map(|grant| Value::Text(grant.role.clone())).collect(),
                            ),
                            "subordinates" => people(directory.subordinates_of(id)),
                            _ => return Err(no_member(at, "an employee", name)),
                        }
                    }
                    RefKind::Department => {
                        let record = directory.department(id).ok_or_else(|| unknown(*kind, id))?;
                        match name {
                            "name" => Value::Text(record.name.clone()),
                            "head" => employee(directory.head_of(id)),
                            "parent" => reference(RefKind::Department, directory.parent_of(id)),
                            "subcompany" => reference(RefKind::Subcompany, directory.subcompany_of_department(id)),
                            "members" => people(directory.members_of_department(id)),
                            _ => return Err(no_member(at, "a department", name)),
                        }
                    }
                    RefKind::Subcompany => {
                        let record = directory.subcompany(id).ok_or_else(|| unknown(*kind, id))?;
                        match name {
                            "name" => Value::Text(record.name.clone()),
                            "members" => people(directory.members_of_subcompany(id)),
                            _ => return Err(no_member(at, "a subcompany", name)),
                        }
                    }
                    RefKind::Document => {
                        let record = directory.document(id).ok_or_else(|| unknown(*kind, id))?;
                        match name {
                            "name" => Value::Text(record.name.clone()),
                            "owner" => employee(directory.document_owner(id)),
                            _ => return Err(no_member(at, "a document", name)),
                        }
                    }
                    RefKind::Project => {
                        let record = directory.project(id).ok_or_else(|| unknown(*kind, id))?;
                        match name {
                            "name" => Value::Text(record.name.clone()),
                            "manager" => employee(directory.project_manager(id)),
                            "members" => people(directory.project_members(id)),
                            _ => return Err(no_member(at, "a project", name)),
                        }
                    }
                    RefKind::Asset => {
                        let record = directory.asset(id).ok_or_else(|| unknown(*kind, id))?;
                        match name {
                            "name" => Value::Text(record.name.clone()),
                            "admin" => employee(directory.asset_admin(id)),
                            "department" => reference(RefKind::Department, directory.asset_department(id)),
                            "subcompany" => reference(RefKind::Subcompany, directory.asset_subcompany(id)),
                            _ => return Err(no_member(at, "an asset", name)),
                        }
                    }
                    RefKind::Customer => {
                        let record = directory.customer(id).ok_or_else(|| unknown(*kind, id))?;
                        match name {
                            "name" => Value::Text(record.name.clone()),
                            "manager" => employee(directory.customer_manager(id)),
                            "contacts" => Value::List(
                                directory
                                    .customer_contacts(id)
                                    .iter()
                                    .map(|contact| Value::Contact {
                                        name: contact.name.as_str().into(),
                                        manager: contact.manager.as_str().into(),
                                    })
                                    .collect(),
                            ),
                            _ => return Err(no_member(at, "a customer", name)),
                        }
                    }
                    RefKind::MeetingRoom => {
                        let record = directory.meeting_room(id).ok_or_else(|| unknown(*kind, id))?;
                        match name {
                            "name" => Value::Text(record.name.clone()),
                            "admin" => employee(directory.meeting_room_admin(id)),
                            _ => return Err(no_member(at, "a meeting room", name)),
                        }
                    }
                }
            }
            Value::Contact { name: contact, manager } => match name {
                "name" => Value::Text(contact.to_string()),
                "manager" => Value::Ref(RefKind::Employee, manager.to_string()),
                _ => return Err(no_member(at, "a contact", name)),
            },
            Value::Role { name: role, .. } if name == "name" => Value::Text(role.clone()),
            Value::Role { name: role, scope } if name == "members" => {
                let scope = scope.as_deref().map(|(kind, id)| scope_of(*kind, id));
                people(directory.role_holders(role, scope))
            }
            Value::Everyone if name == "members" => people(directory.everyone()),
            other => return Err(type_error(at, &format!("`.{name}` cannot be read from this value"), other)),
        };
        Ok(value)
    }

    fn builtin(
        &self,
        call: &Expr,
        name: &str,
        arguments: &[Expr],
        params: &[Value],
        depth: usize,
    ) -> EvalResult<Value> {
        let at = call.at;
        let eval = |index: usize| match arguments.get(index) {
            Some(argument) => self.eval_in(argument, params, depth),
            None => Ok(Value::Null),
        };
        let number = |index: usize| -> EvalResult<Decimal> {
            match eval(index)? {
                Value::Number(value) => Ok(value),
                Value::Null => Ok(Decimal::ZERO),
                other => Err(type_error(at, &format!("`{name}` needs a number"), &other)),
            }
        };
        let places = |index: usize, default: u32| -> EvalResult<u32> {
            if arguments.get(index).is_none() {
                return Ok(default);
            }
            let value = number(index)?;
            u32::try_from(value.trunc().mantissa())
                .ok()
                .filter(|places| *places <= 28 && value.fract().is_zero())
                .ok_or_else(|| RuntimeError::at(Code::R0104, format!("`{value}` decimal places is not 0 to 28"), at))
        };
        let date = |index: usize| -> EvalResult<Option<Date>> {
            match eval(index)? {
                Value::Date(date) => Ok(Some(date)),
                Value::DateTime(instant) => Ok(Some(instant.date)),
                Value::Null => Ok(None),
                other => Err(type_error(at, &format!("`{name}` needs a date"), &other)),
            }
        };
        let text = |index: usize| -> EvalResult<String> {
            match eval(index)? {
                Value::Text(text) => Ok(text),
                Value::Null => Ok(String::new()),
                other => Ok(other.to_string()),
            }
        };
        let column = || match arguments.first().map(|argument| &argument.kind) {
            Some(ExprKind::Column(field)) => Ok(self.column(*field)),
            _ => Err(internal(at, "an aggregate without a column")),
        };
        let numbers = || -> EvalResult<Vec<Decimal>> {
            column()?
                .map(|cell| match cell {
                    Value::Number(value) => Ok(*value),
                    Value::Null => Ok(Decimal::ZERO),
                    other => Err(type_error(at, "an aggregate needs numbers", other)),
                })
                .collect()
        };
        let value = match name {
            "sum" => {
                let mut total = Decimal::ZERO;
                for cell in column()? {
                    match cell {
                        Value::Number(value) => total = total.checked_add(*value).ok_or_else(|| overflow(at))?,
                        Value::Null => {}
                        other => return Err(type_error(at, "`sum` needs numbers", other)),
                    }
                }
                Value::Number(total)
            }
            "count" => Value::Number(Decimal::from(column()?.count())),
            "avg" => {
                let values = numbers()?;
                if values.is_empty() {
                    Value::Null
                } else {
                    let mut total = Decimal::ZERO;
                    for value in &values {
                        total = total.checked_add(*value).ok_or_else(|| overflow(at))?;
                    }
                    Value::Number(total.checked_div(Decimal::from(values.len())).ok_or_else(|| overflow(at))?)
                }
            }
            "min" => numbers()?.into_iter().min().map_or(Value::Null, Value::Number),
            "max" => numbers()?.into_iter().max().map_or(Value::Null, Value::Number),
            "round" => Value::Number(money::round_half_away(number(0)?, places(1, 0)?)),
            "floor" => Value::Number(number(0)?.floor()),
            "ceil" => Value::Number(number(0)?.ceil()),
            "abs" => Value::Number(number(0)?.abs()),
            "rmb_upper" => {
                let amount = number(0)?;
                Value::Text(
                    money::rmb_upper(amount).map_err(|error| {
                        RuntimeError::at(Code::R0104, format!("`rmb_upper({amount})`: {error}"), at)
                    })?,
                )
            }
            "thousands" => Value::Text(money::thousands(number(0)?, places(1, 2)?)),
            "len" => match eval(0)? {
                Value::Text(text) => Value::Number(Decimal::from(text.chars().count())),
                Value::List(items) => Value::Number(Decimal::from(items.len())),
                Value::Null => Value::Number(Decimal::ZERO),
                other => Value::Number(Decimal::from(other.to_string().chars().count())),
            },
            "contains" => {
                let haystack = eval(0)?;
                // `contains(用途, "差旅费")`: a multi-select's option named by its label.
                let needle = match arguments.first() {
                    Some(side) => self.select_key(side, eval(1)?),
                    None => eval(1)?,
                };
                Value::Bool(self.contains(&haystack, &needle, at)?)
            }
            "is_empty" => Value::Bool(eval(0)?.is_empty()),
            "today" => Value::Date(self.now.date),
            "now" => Value::DateTime(self.now),
            "days_between" => match (date(0)?, date(1)?) {
                (Some(from), Some(to)) => Value::Number(Decimal::from(i64::from(to.0) - i64::from(from.0))),
                _ => Value::Null,
            },
            "date" => {
                let written = text(0)?;
                if written.trim().is_empty() {
                    return Ok(Value::Null);
                }
                Value::Date(Date::parse(&written).ok_or_else(|| {
                    RuntimeError::at(Code::R0104, format!("`{written}` is not a date (write 2026-11-28)"), at)
                })?)
            }
            "add_days" => match date(0)? {
                Some(day) => add_days(day, number(1)?, at)?,
                None => Value::Null,
            },
            "weekday" => date(0)?.map_or(Value::Null, |day| Value::Number(Decimal::from(text_format::weekday(day)))),
            "format_date" => {
                let (day, time) = match eval(0)? {
                    Value::Date(day) => (day, Time(0)),
                    Value::DateTime(instant) => (instant.date, instant.time),
                    Value::Null => return Ok(Value::Null),
                    other => return Err(type_error(at, "`format_date` needs a date", &other)),
                };
                Value::Text(text_format::format_date(day, time, &text(1)?))
            }
            "text" => {
                let field = match arguments.first().map(|argument| &argument.kind) {
                    Some(ExprKind::Field(index)) => self.form.fields.get(*index),
                    _ => None,
                };
                Value::Text(text_format::form_text(field, &eval(0)?, self.directory))
            }
            "year" => date(0)?.map_or(Value::Null, |day| Value::Number(Decimal::from(day.ymd().0))),
            "month" => date(0)?.map_or(Value::Null, |day| Value::Number(Decimal::from(day.ymd().1))),
            "employee" | "department" | "subcompany" => {
                let id = text(0)?;
                let kind = match name {
                    "employee" => RefKind::Employee,
                    "department" => RefKind::Department,
                    _ => RefKind::Subcompany,
                };
                if !crate::runtime::values::field_values::exists(self.directory, kind, &id) {
                    return Err(RuntimeError::at(
                        Code::R0305,
                        crate::runtime::values::id_kinds::unknown_id_message(self.directory, kind, &id),
                        at,
                    ));
                }
                Value::Ref(kind, id)
            }
            "role" => {
                let role = text(0)?;
                let scope = match eval(1)? {
                    Value::Null => None,
                    Value::Ref(kind @ (RefKind::Department | RefKind::Subcompany), id) => Some((kind, id)),
                    // A person's role scope is their department.
                    Value::Ref(RefKind::Employee, id) => self
                        .directory
                        .department_of(&id)
                        .map(|department| (RefKind::Department, department.into_owned())),
                    other => return Err(type_error(at, "a role's scope must be a department or subcompany", &other)),
                };
                Value::Role { name: role, scope: scope.map(Box::new) }
            }
            _ => return Err(internal(at, &format!("unknown built-in `{name}`"))),
        };
        Ok(value)
    }
}

pub fn scope_of(kind: RefKind, id: &str) -> Scope<'_> {
    match kind {
        RefKind::Subcompany => Scope::Subcompany(id),
        _ => Scope::Department(id),
    }
}

/// `==` (language.md §4): `null` equals only `null` and empty text; a
/// reference equals its id written as text.
pub fn equals(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Null, Value::Text(text)) | (Value::Text(text), Value::Null) => text.is_empty(),
        (Value::Null, Value::List(items)) | (Value::List(items), Value::Null) => items.is_empty(),
        (Value::Ref(_, id), Value::Text(text)) | (Value::Text(text), Value::Ref(_, id)) => id == text,
        (Value::Number(a), Value::Number(b)) => a == b,
        _ => left == right,
    }
}

/// `+ - * / %` on numbers (empty reads as 0), `+` on text (empty reads as
/// ""), and days on dates.
pub fn arithmetic(op: BinaryOp, left: Value, right: Value, at: Loc) -> EvalResult<Value> {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => numbers(op, a, b, at).map(Value::Number),
        (Value::Null, Value::Number(b)) => numbers(op, Decimal::ZERO, b, at).map(Value::Number),
        (Value::Number(a), Value::Null) => numbers(op, a, Decimal::ZERO, at).map(Value::Number),
        (Value::Null, Value::Null) if op == BinaryOp::Add => Ok(Value::Null),
        (Value::Null, Value::Null) => numbers(op, Decimal::ZERO, Decimal::ZERO, at).map(Value::Number),
        (Value::Text(mut a), Value::Text(b)) if op == BinaryOp::Add => {
            a.push_str(&b);
            Ok(Value::Text(a))
        }
        (Value::Text(a), Value::Null) | (Value::Null, Value::Text(a)) if op == BinaryOp::Add => Ok(Value::Text(a)),
        (Value::Text(mut a), other) if op == BinaryOp::Add => {
            a.push_str(&other.to_string());
            Ok(Value::Text(a))
        }
        (other, Value::Text(b)) if op == BinaryOp::Add => Ok(Value::Text(format!("{other}{b}"))),
        // The checker's dates become `add_days` calls in the IR; this serves values it could not type.
        (Value::Date(day), Value::Number(days)) if op == BinaryOp::Add => add_days(day, days, at),
        (Value::Date(day), Value::Number(days)) if op == BinaryOp::Sub => add_days(day, -days, at),
        (Value::Date(a), Value::Date(b)) if op == BinaryOp::Sub => {
            Ok(Value::Number(Decimal::from(i64::from(a.0) - i64::from(b.0))))
        }
        (Value::Date(_) | Value::DateTime(_), Value::Null) | (Value::Null, Value::Date(_) | Value::DateTime(_)) => {
            Ok(Value::Null)
        }
        (left, right) => Err(RuntimeError::at(
            Code::R0104,
            format!("`{}` cannot combine {} and {}", op.symbol(), left.kind_name(), right.kind_name()),
            at,
        )),
    }
}

/// `add_days(day, days)` and `day ± days`: whole days (a fraction is dropped), within the calendar.
fn add_days(day: Date, days: Decimal, at: Loc) -> EvalResult<Value> {
    let moved = i64::try_from(days.trunc().mantissa()).ok().and_then(|count| day.add_days(count));
    moved
        .map(Value::Date)
        .ok_or_else(|| RuntimeError::at(Code::R0104, format!("{day} plus {days} days is outside the calendar"), at))
}

fn numbers(op: BinaryOp, a: Decimal, b: Decimal, at: Loc) -> EvalResult<Decimal> {
    let result = match op {
        BinaryOp::Add => a.checked_add(b),
        BinaryOp::Sub => a.checked_sub(b),
        BinaryOp::Mul => a.checked_mul(b),
        BinaryOp::Div | BinaryOp::Rem if b.is_zero() => {
            return Err(RuntimeError::at(Code::R0101, format!("division by zero: {a} {} 0", op.symbol()), at)
                .with_help("guard the division: `if divisor == 0 then 0 else amount / divisor`"));
        }
        BinaryOp::Div => a.checked_div(b),
        BinaryOp::Rem => a.checked_rem(b),
        _ => None,
    };
    result.ok_or_else(|| overflow(at))
}

fn overflow(at: Loc) -> RuntimeError {
    RuntimeError::at(Code::R0102, "the result is out of range (more than 28 significant digits)", at)
}

fn type_error(at: Loc, message: &str, found: &Value) -> RuntimeError {
    RuntimeError::at(Code::R0104, format!("{message}, found {}", found.kind_name()), at)
}

fn no_member(at: Loc, what: &str, name: &str) -> RuntimeError {
    RuntimeError::at(Code::R0104, format!("{what} has no member `{name}`"), at)
}

/// Something the checker rules out happened anyway: reported, never a panic.
fn internal(at: Loc, what: &str) -> RuntimeError {
    RuntimeError::at(Code::R0104, format!("internal error: {what}; please report this"), at)
}
