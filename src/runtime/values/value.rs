//! Runtime values and the form data of a request. Every number is a
//! `Decimal` (language.md §4: `int` is a decimal with scale 0 at rest);
//! references into the directory are ids tagged with what they refer to, so
//! `申请人.manager` knows it is asking about an employee.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::runtime::values::dates::{Date, DateTime, Time};

/// What a reference points at in the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefKind {
    Employee,
    Department,
    Subcompany,
    Document,
    Project,
    Asset,
    Customer,
    MeetingRoom,
}

impl RefKind {
    pub fn noun(self) -> &'static str {
        match self {
            RefKind::Employee => "employee",
            RefKind::Department => "department",
            RefKind::Subcompany => "subcompany",
            RefKind::Document => "document",
            RefKind::Project => "project",
            RefKind::Asset => "asset",
            RefKind::Customer => "customer",
            RefKind::MeetingRoom => "meeting room",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    Null,
    Bool(bool),
    Number(Decimal),
    /// Text, and the key of a select option.
    Text(String),
    Date(Date),
    Time(Time),
    DateTime(DateTime),
    Ref(RefKind, String),
    /// `role("会计")`, `role("部门经理", 部门)`: the scope is a department or
    /// subcompany reference.
    Role {
        name: String,
        scope: Option<Box<(RefKind, String)>>,
    },
    /// A customer's contact (`客户.contacts`).
    Contact {
        name: String,
        manager: String,
    },
    /// `everyone`, kept symbolic so a filter need not copy 100,000 ids first.
    Everyone,
    List(Vec<Value>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Empty in the sense of `required` and `is_empty`: null, `""`, an empty list.
    pub fn is_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Text(text) => text.trim().is_empty(),
            Value::List(items) => items.is_empty(),
            _ => false,
        }
    }

    /// A short name of the value's kind for messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::Text(_) => "text",
            Value::Date(_) => "a date",
            Value::Time(_) => "a time",
            Value::DateTime(_) => "a datetime",
            Value::Ref(..) => "a reference",
            Value::Role { .. } => "a role",
            Value::Contact { .. } => "a contact",
            Value::Everyone => "everyone",
            Value::List(_) => "a list",
        }
    }
}

/// How a value reads in a trace, a title or a message.
impl fmt::Display for Value {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => formatter.write_str("null"),
            Value::Bool(value) => write!(formatter, "{value}"),
            Value::Number(value) => write!(formatter, "{}", value.normalize()),
            Value::Text(text) => formatter.write_str(text),
            Value::Date(date) => write!(formatter, "{date}"),
            Value::Time(time) => write!(formatter, "{time}"),
            Value::DateTime(instant) => write!(formatter, "{instant}"),
            Value::Ref(_, id) => formatter.write_str(id),
            Value::Role { name, scope: None } => write!(formatter, "role({name})"),
            Value::Role { name, scope: Some(scope) } => write!(formatter, "role({name}, {})", scope.1),
            Value::Contact { name, .. } => formatter.write_str(name),
            Value::Everyone => formatter.write_str("everyone"),
            Value::List(items) => {
                formatter.write_str("[")?;
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        formatter.write_str(", ")?;
                    }
                    write!(formatter, "{item}")?;
                }
                formatter.write_str("]")
            }
        }
    }
}

/// The values of one request's form. Main fields are stored by field
/// index (detail columns leave their slot `Null`); each detail table is a
/// list of rows, and a row holds the table's columns in written order.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FormData {
    pub main: Vec<Value>,
    pub tables: Vec<Vec<Vec<Value>>>,
}

// Big tables hold millions of values: keep them small.
const _: () = assert!(std::mem::size_of::<Value>() <= 48);
