//! The types of values (`Ty`) and of stored fields (`FieldKind`), and the
//! numeric tower: `int op int` is `int` except `/`; anything with a decimal
//! is a decimal.

use std::fmt;
use std::rc::Rc;

/// A select field's options, for comparing it with strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectInfo {
    pub field: String,
    /// (key, label) in written order.
    pub options: Vec<(String, Option<String>)>,
    /// Where each option's key is declared, in the same order.
    pub declared: Vec<crate::source::FileSpan>,
}

impl SelectInfo {
    pub fn accepts(&self, text: &str) -> bool {
        self.position(text).is_some()
    }

    /// The option a string names, by key or by label.
    pub fn position(&self, text: &str) -> Option<usize> {
        self.options.iter().position(|(key, label)| key == text || label.as_deref() == Some(text))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Int,
    Decimal,
    Text,
    Bool,
    Date,
    Time,
    DateTime,
    Select(Rc<SelectInfo>),
    Employee,
    Department,
    Subcompany,
    Role,
    Document,
    Project,
    Asset,
    Customer,
    Contact,
    MeetingRoom,
    Attachment,
    /// People of no single kind: `everyone`.
    People,
    /// A node of the workflow (`部门审批.operator`).
    Node,
    /// A detail table named on its own (only valid as `明细.列`).
    Detail,
    List(Box<Ty>),
    /// A detail column, the argument of an aggregate.
    Column(Box<Ty>),
    Null,
    /// Accepts anything (prelude signatures).
    Any,
    /// The type of an expression that already has an error: accepted
    /// everywhere so one mistake gives one diagnostic.
    Unknown,
}

impl Ty {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Decimal | Ty::Unknown)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Ty::Unknown | Ty::Any)
    }

    /// Whether a value of this type means a set of people (docs/language.md §7.2).
    pub fn is_people(&self) -> bool {
        match self {
            Ty::Employee | Ty::Department | Ty::Subcompany | Ty::Role | Ty::People | Ty::Unknown => true,
            Ty::List(inner) => inner.is_people(),
            _ => false,
        }
    }

    pub fn is_person(&self) -> bool {
        matches!(self, Ty::Employee | Ty::Unknown)
    }

    /// Two numerics combine to `int` only if both are `int`.
    pub fn numeric_join(&self, other: &Ty) -> Ty {
        match (self, other) {
            (Ty::Unknown, _) | (_, Ty::Unknown) => Ty::Unknown,
            (Ty::Int, Ty::Int) => Ty::Int,
            _ => Ty::Decimal,
        }
    }

    /// The common type of two branches or list elements, if any.
    pub fn join(&self, other: &Ty) -> Option<Ty> {
        if self == other {
            return Some(self.clone());
        }
        match (self, other) {
            (Ty::Unknown | Ty::Any, _) | (_, Ty::Unknown | Ty::Any) => Some(Ty::Unknown),
            (Ty::Null, other) | (other, Ty::Null) => Some(other.clone()),
            (a, b) if a.is_numeric() && b.is_numeric() => Some(a.numeric_join(b)),
            (Ty::Select(_), Ty::Text) | (Ty::Text, Ty::Select(_)) => Some(Ty::Text),
            (Ty::Select(_), Ty::Select(_)) => Some(Ty::Text),
            (a, b) if a.is_people() && b.is_people() => Some(Ty::People),
            _ => None,
        }
    }

    /// Whether `==` between the two types makes sense.
    pub fn comparable(&self, other: &Ty) -> bool {
        if self.is_unknown() || other.is_unknown() || matches!(self, Ty::Null) || matches!(other, Ty::Null) {
            return true;
        }
        match (self, other) {
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (Ty::Select(_) | Ty::Text, Ty::Select(_) | Ty::Text) => true,
            (Ty::Role, Ty::Text) | (Ty::Text, Ty::Role) => true,
            (Ty::Date | Ty::DateTime, Ty::Date | Ty::DateTime) => true,
            (Ty::List(a), Ty::List(b)) => a.comparable(b),
            (a, b) => a == b,
        }
    }

    /// Whether `<`, `<=`, `>`, `>=` make sense.
    pub fn ordered(&self, other: &Ty) -> bool {
        if self.is_unknown() || other.is_unknown() || matches!(self, Ty::Null) || matches!(other, Ty::Null) {
            return true;
        }
        match (self, other) {
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (Ty::Date | Ty::DateTime, Ty::Date | Ty::DateTime) => true,
            (Ty::Time, Ty::Time) | (Ty::Text, Ty::Text) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Ty::Int => "int",
            Ty::Decimal => "decimal",
            Ty::Text => "text",
            Ty::Bool => "check (boolean)",
            Ty::Date => "date",
            Ty::Time => "time",
            Ty::DateTime => "datetime",
            Ty::Select(info) => return write!(formatter, "select `{}`", info.field),
            Ty::Employee => "employee",
            Ty::Department => "department",
            Ty::Subcompany => "subcompany",
            Ty::Role => "role",
            Ty::Document => "document",
            Ty::Project => "project",
            Ty::Asset => "asset",
            Ty::Customer => "customer",
            Ty::Contact => "contact",
            Ty::MeetingRoom => "meeting_room",
            Ty::Attachment => "attachment",
            Ty::People => "people",
            Ty::Node => "node",
            Ty::Detail => "detail table",
            Ty::List(inner) => return write!(formatter, "list of {inner}"),
            Ty::Column(inner) => return write!(formatter, "detail column of {inner}"),
            Ty::Null => "null",
            Ty::Any => "any value",
            Ty::Unknown => "unknown",
        };
        formatter.write_str(text)
    }
}

/// How a field stores its value (docs/language.md §4.3).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text(Option<u32>),
    Textarea,
    Int,
    Float(u32),
    Money,
    MoneyUpper,
    Check,
    Select,
    /// `select … multiple`: a list of option keys (issue 10).
    SelectMultiple,
    Attachment,
    Link,
    Note,
    Employee,
    Employees,
    Department,
    Departments,
    Subcompany,
    Role,
    Document,
    Project,
    Asset,
    Customer,
    MeetingRoom,
    Date,
    Time,
    DateTime,
    /// `serial "label" "BX-{yyyy}-{seq:4}"`: a number the system gives at creation (流程编号).
    Serial,
}

/// Every field type name, for did-you-mean.
pub const FIELD_TYPE_NAMES: &[&str] = &[
    "text",
    "textarea",
    "int",
    "float",
    "money",
    "money_upper",
    "check",
    "select",
    "attachment",
    "link",
    "note",
    "employee",
    "employees",
    "department",
    "departments",
    "subcompany",
    "role",
    "document",
    "project",
    "asset",
    "customer",
    "meeting_room",
    "date",
    "time",
    "datetime",
    "serial",
];

impl FieldKind {
    /// The kind named `name`, without its size parameter.
    pub fn from_name(name: &str) -> Option<FieldKind> {
        Some(match name {
            "text" => FieldKind::Text(None),
            "textarea" => FieldKind::Textarea,
            "int" => FieldKind::Int,
            "float" => FieldKind::Float(2),
            "money" => FieldKind::Money,
            "money_upper" => FieldKind::MoneyUpper,
            "check" => FieldKind::Check,
            "select" => FieldKind::Select,
            "attachment" => FieldKind::Attachment,
            "link" => FieldKind::Link,
            "note" => FieldKind::Note,
            "employee" => FieldKind::Employee,
            "employees" => FieldKind::Employees,
            "department" => FieldKind::Department,
            "departments" => FieldKind::Departments,
            "subcompany" => FieldKind::Subcompany,
            "role" => FieldKind::Role,
            "document" => FieldKind::Document,
            "project" => FieldKind::Project,
            "asset" => FieldKind::Asset,
            "customer" => FieldKind::Customer,
            "meeting_room" => FieldKind::MeetingRoom,
            "date" => FieldKind::Date,
            "time" => FieldKind::Time,
            "datetime" => FieldKind::DateTime,
            "serial" => FieldKind::Serial,
            _ => return None,
        })
    }

    /// The type of the value the field holds.
    pub fn value_ty(&self, select: Option<&Rc<SelectInfo>>) -> Ty {
        match self {
            FieldKind::Text(_) | FieldKind::Textarea | FieldKind::Link | FieldKind::Note | FieldKind::Serial => {
                Ty::Text
            }
            FieldKind::Int => Ty::Int,
            FieldKind::Float(_) | FieldKind::Money | FieldKind::MoneyUpper => Ty::Decimal,
            FieldKind::Check => Ty::Bool,
            FieldKind::Select => match select {
                Some(info) => Ty::Select(info.clone()),
                None => Ty::Text,
            },
            FieldKind::SelectMultiple => Ty::List(Box::new(match select {
                Some(info) => Ty::Select(info.clone()),
                None => Ty::Text,
            })),
            FieldKind::Attachment => Ty::List(Box::new(Ty::Attachment)),
            FieldKind::Employee => Ty::Employee,
            FieldKind::Employees => Ty::List(Box::new(Ty::Employee)),
            FieldKind::Department => Ty::Department,
            FieldKind::Departments => Ty::List(Box::new(Ty::Department)),
            FieldKind::Subcompany => Ty::Subcompany,
            FieldKind::Role => Ty::Role,
            FieldKind::Document => Ty::Document,
            FieldKind::Project => Ty::Project,
            FieldKind::Asset => Ty::Asset,
            FieldKind::Customer => Ty::Customer,
            FieldKind::MeetingRoom => Ty::MeetingRoom,
            FieldKind::Date => Ty::Date,
            FieldKind::Time => Ty::Time,
            FieldKind::DateTime => Ty::DateTime,
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(self, FieldKind::Int | FieldKind::Float(_) | FieldKind::Money | FieldKind::MoneyUpper)
    }

    pub fn is_decimal(&self) -> bool {
        matches!(self, FieldKind::Float(_) | FieldKind::Money | FieldKind::MoneyUpper)
    }

    /// `link` and `note` only display text.
    /// `select` and `select … multiple`: fields with options.
    pub fn has_options(&self) -> bool {
        matches!(self, FieldKind::Select | FieldKind::SelectMultiple)
    }

    pub fn is_display_only(&self) -> bool {
        matches!(self, FieldKind::Link | FieldKind::Note)
    }
}

/// The kind as it is written in a `.flow` file: `money_upper`, `text(50)`, `float(3)`.
impl fmt::Display for FieldKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            FieldKind::Text(Some(limit)) => return write!(formatter, "text({limit})"),
            FieldKind::Float(places) => return write!(formatter, "float({places})"),
            FieldKind::Text(None) => "text",
            FieldKind::Textarea => "textarea",
            FieldKind::Int => "int",
            FieldKind::Money => "money",
            FieldKind::MoneyUpper => "money_upper",
            FieldKind::Check => "check",
            FieldKind::Select => "select",
            FieldKind::SelectMultiple => "select multiple",
            FieldKind::Attachment => "attachment",
            FieldKind::Link => "link",
            FieldKind::Note => "note",
            FieldKind::Employee => "employee",
            FieldKind::Employees => "employees",
            FieldKind::Department => "department",
            FieldKind::Departments => "departments",
            FieldKind::Subcompany => "subcompany",
            FieldKind::Role => "role",
            FieldKind::Document => "document",
            FieldKind::Project => "project",
            FieldKind::Asset => "asset",
            FieldKind::Customer => "customer",
            FieldKind::MeetingRoom => "meeting_room",
            FieldKind::Date => "date",
            FieldKind::Time => "time",
            FieldKind::DateTime => "datetime",
            FieldKind::Serial => "serial",
        };
        formatter.write_str(name)
    }
}

/// A type named in a signature (`fn`, `const`, prelude). Field type names
/// work too; `decimal`, `bool`, `number`, `people`, `any`, `list<T>` and
/// `column<T>` are the extra names of signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SigTy {
    Exact(Ty),
    /// `int` or `decimal`; as a result, `int` only when every `number`
    /// argument is an `int`.
    Number,
    People,
    Any,
    List(Box<SigTy>),
    Column(Box<SigTy>),
}

pub const SIGNATURE_TYPE_NAMES: &[&str] = &["decimal", "bool", "number", "people", "any", "list", "column"];

impl SigTy {
    pub fn from_names(name: &str, argument: Option<SigTy>) -> Option<SigTy> {
        Some(match name {
            "decimal" => SigTy::Exact(Ty::Decimal),
            "bool" => SigTy::Exact(Ty::Bool),
            "number" => SigTy::Number,
            "people" => SigTy::People,
            "any" => SigTy::Any,
            "list" => SigTy::List(Box::new(argument.unwrap_or(SigTy::Any))),
            "column" => SigTy::Column(Box::new(argument.unwrap_or(SigTy::Any))),
            other => SigTy::Exact(FieldKind::from_name(other)?.value_ty(None)),
        })
    }

    /// Whether an argument of type `ty` fits.
    pub fn accepts(&self, ty: &Ty) -> bool {
        if ty.is_unknown() {
            return true;
        }
        match self {
            SigTy::Any => !matches!(ty, Ty::Column(_) | Ty::Detail | Ty::Node),
            SigTy::Number => ty.is_numeric(),
            SigTy::People => ty.is_people(),
            SigTy::List(inner) => matches!(ty, Ty::List(element) if inner.accepts(element)),
            SigTy::Column(inner) => matches!(ty, Ty::Column(element) if inner.accepts(element)),
            SigTy::Exact(Ty::Decimal) => ty.is_numeric(),
            SigTy::Exact(Ty::Date) => matches!(ty, Ty::Date | Ty::DateTime | Ty::Null),
            SigTy::Exact(Ty::Text) => matches!(ty, Ty::Text | Ty::Select(_) | Ty::Null),
            SigTy::Exact(expected) => expected == ty || matches!(ty, Ty::Null),
        }
    }

    /// The type a value of this signature type has, where it is fixed.
    pub fn as_ty(&self) -> Ty {
        match self {
            SigTy::Exact(ty) => ty.clone(),
            SigTy::Number => Ty::Decimal,
            SigTy::People => Ty::People,
            SigTy::Any => Ty::Unknown,
            SigTy::List(inner) => Ty::List(Box::new(inner.as_ty())),
            SigTy::Column(inner) => Ty::Column(Box::new(inner.as_ty())),
        }
    }
}

impl fmt::Display for SigTy {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigTy::Exact(ty) => write!(formatter, "{ty}"),
            SigTy::Number => formatter.write_str("number"),
            SigTy::People => formatter.write_str("people"),
            SigTy::Any => formatter.write_str("any"),
            SigTy::List(inner) => write!(formatter, "list<{inner}>"),
            SigTy::Column(inner) => write!(formatter, "column<{inner}>"),
        }
    }
}
