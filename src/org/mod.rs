//! The organisation directory (组织架构): loading, validation, indexes.
//!
//! The file format is runtime.md §2: TOML or JSON, arrays of `subcompany`, `department`,
//! `employee`, `document`, `project`, `asset`, `customer` and `meeting_room` records whose ids are
//! strings. [`DirectoryFile`] and the record types mirror it exactly; unknown keys are errors.
//! Two more keys hold who oversees and who stands in (issue 10): `administrators = ["E0001"]`
//! (workflow administrators) and `[[deputies]]` (stand-ins, 代理, see `deputies`).
//!
//! The runtime asks the [`Directory`] trait, so a host can answer from its own HR database;
//! [`MemoryDirectory`] is the implementation the command line loads from `--org FILE`.
//!
//! # Types
//!
//! Ids are the strings of the file (`"E0101"`): the request state and the IR are `serde` types
//! that carry ids, so ids are the currency everywhere, and a host database needs no interning.
//! Queries take `&str`; records come back as [`Cow`]s, so the memory directory lends its records
//! while a host may build them on demand. A list of people is [`People`]: employee ids in the
//! directory's order (the file's order), read as `&str`. The memory directory keeps its lists as
//! employee positions and hands them out borrowed, so building and answering them copies no
//! strings; a host makes one from a `Vec<String>`.
//!
//! # Cost
//!
//! Loading builds every index once: ids to positions (hash maps), the members of each department
//! and subcompany, each employee's direct reports, each customer's contact managers, and per role
//! the holders by scope. Lookups are then O(1) and lists are borrowed; only a scoped role query
//! merges three precomputed lists. For 100,000 employees (a 12 MB file), validating and indexing
//! takes 0.1–0.25 s in release, mostly allocation; parsing TOML with the `toml` crate takes most
//! of a TOML load (about 0.9 s), JSON parses several times faster (see the load test in
//! `tests/suite/directory.rs`, which prints the figures).
//!
//! # Meaning (language.md §7)
//!
//! - An employee's subcompany is their department's subcompany; a subcompany's members are the
//!   employees of its departments; a department's members are the employees whose department it
//!   is, not those of its sub-departments.
//! - `subordinates` are the direct reports: the employees whose `manager` is the person.
//! - Roles: see [`scope_admits`]. `role("X")` is every holder whatever the scope; `role("X",
//!   dept)` is the holders scoped to that department or to its subcompany, and the unscoped ones.
//!
//! # Validation (all problems are collected, not only the first)
//!
//! - ids are non-empty and unique per kind of record;
//! - every reference resolves: a department's `subcompany`, `parent` and `head`; an employee's
//!   `department`, `manager` and role scopes; a document's `owner`; a project's `manager` and
//!   `members`; an asset's `admin` and `department`; a customer's `manager` and its contacts'
//!   managers; a meeting room's `admin`;
//! - role names are non-empty;
//! - department parents form no cycle, and neither do managers: nobody is their own manager up
//!   the chain (a chain that loops would make `manager.manager…` walks and escalations endless,
//!   and no real organisation has one, so it is a mistake in the file).
//!
//! A problem names the record (kind, id and name) and the field, as in "employee `E0101` (张三):
//! department `FIN2` does not exist"; it carries no line number (parse errors do: the `toml` and
//! `serde_json` parsers give positions, the records do not keep them).
//!
//! Not checked, on purpose: a department's subcompany may differ from its parent's, a head need
//! not be a member of the department they head, and an employee need not have a manager (the
//! top of the company has none). `security` defaults to 0 and `roles`, `members` and `contacts`
//! to empty when left out. `security` is a whole number read exactly: one with a fraction, an
//! exponent or more than 64 bits is refused, never rounded (JSON parsers read those as `f64`).

mod deputies;

pub use deputies::Deputy;

pub mod calendar;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::path::{Path, PathBuf};

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

// ---------------------------------------------------------------------------------------------
// The file format (runtime.md §2)
// ---------------------------------------------------------------------------------------------

/// A whole directory file: one array per kind of record, each optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryFile {
    /// `[[subcompany]]` — 分部.
    #[serde(default, rename = "subcompany", skip_serializing_if = "Vec::is_empty")]
    pub subcompanies: Vec<Subcompany>,
    /// `[[department]]` — 部门.
    #[serde(default, rename = "department", skip_serializing_if = "Vec::is_empty")]
    pub departments: Vec<Department>,
    /// `[[employee]]` — 人员.
    #[serde(default, rename = "employee", skip_serializing_if = "Vec::is_empty")]
    pub employees: Vec<Employee>,
    /// `[[document]]` — 文档.
    #[serde(default, rename = "document", skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Document>,
    /// `[[project]]` — 项目.
    #[serde(default, rename = "project", skip_serializing_if = "Vec::is_empty")]
    pub projects: Vec<Project>,
    /// `[[asset]]` — 资产.
    #[serde(default, rename = "asset", skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<Asset>,
    /// `[[customer]]` — 客户.
    #[serde(default, rename = "customer", skip_serializing_if = "Vec::is_empty")]
    pub customers: Vec<Customer>,
    /// `[[meeting_room]]` — 会议室.
    #[serde(default, rename = "meeting_room", skip_serializing_if = "Vec::is_empty")]
    pub meeting_rooms: Vec<MeetingRoom>,
    /// `administrators = ["E0001"]` — the workflow administrators (流程管理员), who may
    /// supervise, force-archive and force-return any request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub administrators: Vec<String>,
    /// `[[deputies]]` — stand-ins (代理): who acts for whom, from which day to which.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deputies: Vec<Deputy>,
    /// `[calendar]` — the working days (deadlines in working days count them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<calendar::Calendar>,
}

/// A subcompany (分部). Its members follow from its departments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subcompany {
    pub id: String,
    pub name: String,
}

/// A department (部门).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub id: String,
    pub name: String,
    /// The subcompany the department belongs to.
    pub subcompany: String,
    /// The parent department; none for a top-level department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The head (负责人), an employee id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
}

/// An employee (人员).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Employee {
    pub id: String,
    pub name: String,
    /// The employee's department; their subcompany is the department's.
    pub department: String,
    /// The direct manager (上级); none at the top of the company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// The security level (安全级别); 0 when left out.
    #[serde(default, deserialize_with = "security_level")]
    pub security: i64,
    /// The roles held, each unscoped or scoped to a department or a subcompany.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<RoleGrant>,
}

/// One role held by an employee: `"会计"` (unscoped, company-wide) or
/// `{ role = "部门经理", department = "FIN" }` / `{ role = "会计", subcompany = "SH" }`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RoleGrant {
    pub role: String,
    pub scope: Option<RoleScope>,
}

/// What a role grant is limited to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RoleScope {
    Department(String),
    Subcompany(String),
}

impl RoleScope {
    /// The scope as a query scope.
    pub fn as_scope(&self) -> Scope<'_> {
        match self {
            RoleScope::Department(id) => Scope::Department(id),
            RoleScope::Subcompany(id) => Scope::Subcompany(id),
        }
    }
}

/// A document (文档).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Document {
    pub id: String,
    pub name: String,
    pub owner: String,
}

/// A project (项目).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub manager: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<String>,
}

/// An asset (资产); its subcompany is its department's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    pub id: String,
    pub name: String,
    pub admin: String,
    pub department: String,
}

/// A customer (客户).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Customer {
    pub id: String,
    pub name: String,
    pub manager: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
}

/// A customer's contact (联系人) and the employee who looks after them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contact {
    pub name: String,
    pub manager: String,
}

/// A meeting room (会议室).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeetingRoom {
    pub id: String,
    pub name: String,
    pub admin: String,
}

/// A security level, read exactly: a whole number that fits 64 bits. serde_json hands a number
/// with a fraction, an exponent or more than 64 bits over as an `f64`, whose digits may not be
/// the file's (`18446744073709551617` arrives as 18446744073709552000), so such a number is
/// refused without quoting a value the file never held.
fn security_level<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct Level;

    impl<'de> Visitor<'de> for Level {
        type Value = i64;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a security level: a whole number from -9223372036854775808 to 9223372036854775807")
        }

        fn visit_i64<E: de::Error>(self, level: i64) -> Result<i64, E> {
            Ok(level)
        }

        fn visit_u64<E: de::Error>(self, level: u64) -> Result<i64, E> {
            i64::try_from(level).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(level), &self))
        }

        fn visit_f64<E: de::Error>(self, _: f64) -> Result<i64, E> {
            Err(E::invalid_type(
                de::Unexpected::Other("a number with a fraction, an exponent or more than 64 bits"),
                &self,
            ))
        }
    }

    deserializer.deserialize_i64(Level)
}

const ROLE_FIELDS: &[&str] = &["role", "department", "subcompany"];

impl<'de> Deserialize<'de> for RoleGrant {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RoleGrantVisitor)
    }
}

struct RoleGrantVisitor;

impl<'de> Visitor<'de> for RoleGrantVisitor {
    type Value = RoleGrant;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a role name, or a table with `role` and a `department` or `subcompany` scope")
    }

    fn visit_str<E: de::Error>(self, role: &str) -> Result<RoleGrant, E> {
        Ok(RoleGrant { role: role.to_owned(), scope: None })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RoleGrant, A::Error> {
        let mut role: Option<String> = None;
        let mut department: Option<String> = None;
        let mut subcompany: Option<String> = None;
        while let Some(key) = map.next_key::<String>()? {
            let slot = match key.as_str() {
                "role" => &mut role,
                "department" => &mut department,
                "subcompany" => &mut subcompany,
                other => return Err(de::Error::unknown_field(other, ROLE_FIELDS)),
            };
            if slot.is_some() {
                return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
            }
            *slot = Some(map.next_value()?);
        }
        let role = role.ok_or_else(|| de::Error::missing_field("role"))?;
        let scope = match (department, subcompany) {
            (Some(_), Some(_)) => {
                return Err(de::Error::custom(format_args!(
                    "role `{role}` is scoped to a department or to a subcompany, not both"
                )))
            }
            (Some(department), None) => Some(RoleScope::Department(department)),
            (None, Some(subcompany)) => Some(RoleScope::Subcompany(subcompany)),
            (None, None) => None,
        };
        Ok(RoleGrant { role, scope })
    }
}

impl Serialize for RoleGrant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.scope {
            None => serializer.serialize_str(&self.role),
            Some(scope) => {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("role", &self.role)?;
                match scope {
                    RoleScope::Department(id) => map.serialize_entry("department", id)?,
                    RoleScope::Subcompany(id) => map.serialize_entry("subcompany", id)?,
                }
                map.end()
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The trait the runtime asks
// ---------------------------------------------------------------------------------------------

/// A list of people: employee ids, in directory order, borrowed from the directory or built for
/// the query. Iterate it as `&str` ids; a host directory makes one from ids with
/// `People::from(vec)`. The memory directory's lists are positions into its employees, so
/// precomputed lists cost no string copies to build or to hand out.
#[derive(Clone, Debug)]
pub struct People<'a>(PeopleRepr<'a>);

#[derive(Clone, Debug)]
enum PeopleRepr<'a> {
    /// Ids as such.
    Ids(Cow<'a, [String]>),
    /// Every one of these employees.
    All(&'a [Employee]),
    /// The employees at these positions.
    Positions { employees: &'a [Employee], positions: Cow<'a, [usize]> },
}

impl<'a> People<'a> {
    /// Nobody.
    pub fn empty() -> Self {
        People(PeopleRepr::Ids(Cow::Borrowed(&[])))
    }

    /// How many people.
    pub fn len(&self) -> usize {
        match &self.0 {
            PeopleRepr::Ids(ids) => ids.len(),
            PeopleRepr::All(employees) => employees.len(),
            PeopleRepr::Positions { positions, .. } => positions.len(),
        }
    }

    /// Whether there is nobody.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The id of the person at `index`.
    pub fn get(&self, index: usize) -> Option<&str> {
        match &self.0 {
            PeopleRepr::Ids(ids) => ids.get(index).map(String::as_str),
            PeopleRepr::All(employees) => employees.get(index).map(|employee| employee.id.as_str()),
            PeopleRepr::Positions { employees, positions } => {
                positions.get(index).and_then(|&position| employees.get(position)).map(|employee| employee.id.as_str())
            }
        }
    }

    /// The ids, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).filter_map(|index| self.get(index))
    }

    /// Whether the employee with this id is among them (a scan).
    pub fn contains(&self, id: &str) -> bool {
        self.iter().any(|person| person == id)
    }

    /// The ids, copied.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(str::to_owned).collect()
    }
}

impl<'a> From<Cow<'a, [String]>> for People<'a> {
    fn from(ids: Cow<'a, [String]>) -> Self {
        People(PeopleRepr::Ids(ids))
    }
}

impl From<Vec<String>> for People<'_> {
    fn from(ids: Vec<String>) -> Self {
        People(PeopleRepr::Ids(Cow::Owned(ids)))
    }
}

impl<'a> From<&'a [String]> for People<'a> {
    fn from(ids: &'a [String]) -> Self {
        People(PeopleRepr::Ids(Cow::Borrowed(ids)))
    }
}

/// Two lists are equal when they hold the same ids in the same order.
impl PartialEq for People<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl Eq for People<'_> {}

/// The scope of a role query: `role("X", dept)` asks with `Scope::Department`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scope<'a> {
    Department(&'a str),
    Subcompany(&'a str),
}

/// Whether a grant with scope `grant` answers a role query with scope `query`.
///
/// - No query scope (`role("X")`): every grant answers, whatever its scope.
/// - `Scope::Department(d)`: unscoped grants, grants scoped to `d`, and grants scoped to `d`'s
///   subcompany, which the caller passes as `department_subcompany` (grants scoped to a parent
///   department of `d` do not answer).
/// - `Scope::Subcompany(s)`: unscoped grants and grants scoped to `s` (not grants scoped to one of
///   its departments: those are narrower than asked).
pub fn scope_admits(query: Option<Scope<'_>>, department_subcompany: Option<&str>, grant: Option<&RoleScope>) -> bool {
    match (query, grant) {
        (None, _) | (Some(_), None) => true,
        (Some(Scope::Department(asked)), Some(RoleScope::Department(granted))) => asked == granted,
        (Some(Scope::Department(_)), Some(RoleScope::Subcompany(granted))) => {
            department_subcompany == Some(granted.as_str())
        }
        (Some(Scope::Subcompany(asked)), Some(RoleScope::Subcompany(granted))) => asked == granted,
        (Some(Scope::Subcompany(_)), Some(RoleScope::Department(_))) => false,
    }
}

/// What the runtime needs to know about the organisation (language.md §7).
///
/// The required methods are the record lookups and the lists of people; the rest have default
/// implementations in terms of them, which an implementation may override when it can answer
/// faster. Ids that do not exist give `None` or an empty list, never an error: a directory has
/// been validated once, and the runtime reports unknown ids itself.
pub trait Directory {
    /// The employee with this id.
    fn employee(&self, id: &str) -> Option<Cow<'_, Employee>>;
    /// The department with this id.
    fn department(&self, id: &str) -> Option<Cow<'_, Department>>;
    /// The subcompany with this id.
    fn subcompany(&self, id: &str) -> Option<Cow<'_, Subcompany>>;
    /// The document with this id.
    fn document(&self, id: &str) -> Option<Cow<'_, Document>>;
    /// The project with this id.
    fn project(&self, id: &str) -> Option<Cow<'_, Project>>;
    /// The asset with this id.
    fn asset(&self, id: &str) -> Option<Cow<'_, Asset>>;
    /// The customer with this id.
    fn customer(&self, id: &str) -> Option<Cow<'_, Customer>>;
    /// The meeting room with this id.
    fn meeting_room(&self, id: &str) -> Option<Cow<'_, MeetingRoom>>;

    /// Every employee (`everyone`).
    fn everyone(&self) -> People<'_>;
    /// The employees whose department this is (not those of its sub-departments).
    fn members_of_department(&self, department: &str) -> People<'_>;
    /// The employees of the subcompany's departments.
    fn members_of_subcompany(&self, subcompany: &str) -> People<'_>;
    /// The employee's direct reports: the employees whose manager they are.
    fn subordinates_of(&self, employee: &str) -> People<'_>;
    /// The holders of a role, by the rule of [`scope_admits`], each once, in directory order.
    fn role_holders(&self, role: &str, scope: Option<Scope<'_>>) -> People<'_>;

    /// The working calendar (`[calendar]`; Monday to Friday when the file has none).
    fn calendar(&self) -> Cow<'_, calendar::Calendar> {
        Cow::Owned(calendar::Calendar::default())
    }
    /// The employee's manager.
    fn manager_of(&self, employee: &str) -> Option<Cow<'_, str>> {
        optional_field(self.employee(employee)?, |record| record.manager.as_deref())
    }
    /// The employee's department.
    fn department_of(&self, employee: &str) -> Option<Cow<'_, str>> {
        Some(field(self.employee(employee)?, |record| record.department.as_str()))
    }
    /// The employee's subcompany: their department's.
    fn subcompany_of_employee(&self, employee: &str) -> Option<Cow<'_, str>> {
        let department = self.department_of(employee)?;
        self.subcompany_of_department(&department)
    }
    /// The employee's security level.
    fn security_of(&self, employee: &str) -> Option<i64> {
        self.employee(employee).map(|record| record.security)
    }
    /// The roles the employee holds; empty for an unknown employee.
    fn roles_of(&self, employee: &str) -> Cow<'_, [RoleGrant]> {
        match self.employee(employee) {
            Some(record) => field(record, |record| record.roles.as_slice()),
            None => Cow::Borrowed(&[]),
        }
    }
    /// Whether the employee is among `role_holders(role, scope)` (`person in role(…)`).
    fn holds_role(&self, employee: &str, role: &str, scope: Option<Scope<'_>>) -> bool {
        let department_subcompany = match scope {
            Some(Scope::Department(department)) => self.subcompany_of_department(department),
            _ => None,
        };
        self.roles_of(employee).iter().any(|grant| {
            grant.role == role && scope_admits(scope, department_subcompany.as_deref(), grant.scope.as_ref())
        })
    }

    /// The department's head.
    fn head_of(&self, department: &str) -> Option<Cow<'_, str>> {
        optional_field(self.department(department)?, |record| record.head.as_deref())
    }
    /// The department's parent department.
    fn parent_of(&self, department: &str) -> Option<Cow<'_, str>> {
        optional_field(self.department(department)?, |record| record.parent.as_deref())
    }
    /// The department's subcompany.
    fn subcompany_of_department(&self, department: &str) -> Option<Cow<'_, str>> {
        Some(field(self.department(department)?, |record| record.subcompany.as_str()))
    }

    /// The document's owner.
    fn document_owner(&self, document: &str) -> Option<Cow<'_, str>> {
        Some(field(self.document(document)?, |record| record.owner.as_str()))
    }
    /// The project's manager.
    fn project_manager(&self, project: &str) -> Option<Cow<'_, str>> {
        Some(field(self.project(project)?, |record| record.manager.as_str()))
    }
    /// The project's members, as listed.
    fn project_members(&self, project: &str) -> People<'_> {
        match self.project(project) {
            Some(record) => People::from(field(record, |record| record.members.as_slice())),
            None => People::empty(),
        }
    }
    /// The asset's administrator.
    fn asset_admin(&self, asset: &str) -> Option<Cow<'_, str>> {
        Some(field(self.asset(asset)?, |record| record.admin.as_str()))
    }
    /// The asset's department.
    fn asset_department(&self, asset: &str) -> Option<Cow<'_, str>> {
        Some(field(self.asset(asset)?, |record| record.department.as_str()))
    }
    /// The asset's subcompany: its department's.
    fn asset_subcompany(&self, asset: &str) -> Option<Cow<'_, str>> {
        let department = self.asset_department(asset)?;
        self.subcompany_of_department(&department)
    }
    /// The customer's manager.
    fn customer_manager(&self, customer: &str) -> Option<Cow<'_, str>> {
        Some(field(self.customer(customer)?, |record| record.manager.as_str()))
    }
    /// The customer's contacts.
    fn customer_contacts(&self, customer: &str) -> Cow<'_, [Contact]> {
        match self.customer(customer) {
            Some(record) => field(record, |record| record.contacts.as_slice()),
            None => Cow::Borrowed(&[]),
        }
    }
    /// The managers of the customer's contacts (`客户.contacts.manager`), each once, in order.
    fn contact_managers(&self, customer: &str) -> People<'_> {
        let mut managers: Vec<String> = Vec::new();
        for contact in self.customer_contacts(customer).iter() {
            if !managers.contains(&contact.manager) {
                managers.push(contact.manager.clone());
            }
        }
        People::from(managers)
    }
    /// The meeting room's administrator.
    fn meeting_room_admin(&self, meeting_room: &str) -> Option<Cow<'_, str>> {
        Some(field(self.meeting_room(meeting_room)?, |record| record.admin.as_str()))
    }

    /// Whether the employee is a workflow administrator (流程管理员): they may supervise,
    /// force-archive and force-return any request. Nobody is, unless the directory says so.
    fn is_administrator(&self, _employee: &str) -> bool {
        false
    }

    /// Who stands in for the employee on `day` (`YYYY-MM-DD`), if anyone (代理). Nobody does,
    /// unless the directory says so.
    fn deputy_on(&self, _employee: &str, _day: &str) -> Option<Cow<'_, str>> {
        None
    }
}

/// A field of a record that may be borrowed or owned, borrowed or owned alike.
fn field<'a, Record: Clone, Field: ?Sized + ToOwned>(
    record: Cow<'a, Record>,
    get: fn(&Record) -> &Field,
) -> Cow<'a, Field> {
    match record {
        Cow::Borrowed(record) => Cow::Borrowed(get(record)),
        Cow::Owned(record) => Cow::Owned(get(&record).to_owned()),
    }
}

/// An optional field of a record that may be borrowed or owned.
fn optional_field<'a, Record: Clone, Field: ?Sized + ToOwned>(
    record: Cow<'a, Record>,
    get: fn(&Record) -> Option<&Field>,
) -> Option<Cow<'a, Field>> {
    match record {
        Cow::Borrowed(record) => get(record).map(Cow::Borrowed),
        Cow::Owned(record) => get(&record).map(|value| Cow::Owned(value.to_owned())),
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// The kinds of record in a directory, in the order of runtime.md §2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    Subcompany,
    Department,
    Employee,
    Document,
    Project,
    Asset,
    Customer,
    MeetingRoom,
    /// An entry of `administrators`.
    Administrator,
    /// An entry of `deputies`.
    Deputy,
}

impl fmt::Display for RecordKind {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            RecordKind::Subcompany => "subcompany",
            RecordKind::Department => "department",
            RecordKind::Employee => "employee",
            RecordKind::Document => "document",
            RecordKind::Project => "project",
            RecordKind::Asset => "asset",
            RecordKind::Customer => "customer",
            RecordKind::MeetingRoom => "meeting room",
            RecordKind::Administrator => "administrator",
            RecordKind::Deputy => "stand-in",
        })
    }
}

/// One thing wrong with a record that parsed: a dangling reference, a duplicate id, a cycle.
/// Displays as `employee `E0101` (张三): department `FIN2` does not exist`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The kind of the record at fault.
    pub kind: RecordKind,
    /// Its id (empty when the problem is an empty id).
    pub id: String,
    /// Its name.
    pub name: String,
    /// The key at fault, as written in the file: `department`, `roles`, `contacts`, `id` …
    pub field: &'static str,
    /// What is wrong, without the record: "department `FIN2` does not exist".
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.id.is_empty() {
            write!(formatter, "{} ({}): {}", self.kind, self.name, self.message)
        } else {
            write!(formatter, "{} `{}` ({}): {}", self.kind, self.id, self.name, self.message)
        }
    }
}

/// The two file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl fmt::Display for Format {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Format::Toml => "TOML",
            Format::Json => "JSON",
        })
    }
}

/// Why a directory could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DirectoryError {
    /// The file could not be read.
    Read { path: PathBuf, message: String },
    /// The file name ends in neither `.toml` nor `.json`.
    UnknownFormat { path: PathBuf },
    /// The text is not a directory: a syntax error, an unknown key, a missing key, a wrong type.
    /// `line` and `column` are 1-based (the column counts characters) when the parser knows them.
    Parse { path: Option<PathBuf>, format: Format, line: Option<usize>, column: Option<usize>, message: String },
    /// The records parsed but do not hold together: every problem found, in file order by kind.
    Invalid { path: Option<PathBuf>, problems: Vec<Problem> },
}

impl DirectoryError {
    /// The validation problems; empty unless the error is [`DirectoryError::Invalid`].
    pub fn problems(&self) -> &[Problem] {
        match self {
            DirectoryError::Invalid { problems, .. } => problems,
            _ => &[],
        }
    }

    fn in_file(self, file: &Path) -> Self {
        match self {
            DirectoryError::Parse { path: None, format, line, column, message } => {
                DirectoryError::Parse { path: Some(file.to_owned()), format, line, column, message }
            }
            DirectoryError::Invalid { path: None, problems } => {
                DirectoryError::Invalid { path: Some(file.to_owned()), problems }
            }
            other => other,
        }
    }
}

impl fmt::Display for DirectoryError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DirectoryError::Read { path, message } => {
                write!(formatter, "cannot read the directory `{}`: {message}", path.display())
            }
            DirectoryError::UnknownFormat { path } => write!(
                formatter,
                "cannot tell the format of the directory `{}`: its name must end in `.toml` or `.json`",
                path.display()
            ),
            DirectoryError::Parse { path, format, line, column, message } => {
                write!(formatter, "invalid {format} directory")?;
                if let Some(path) = path {
                    write!(formatter, " `{}`", path.display())?;
                }
                match (line, column) {
                    (Some(line), Some(column)) => write!(formatter, " at line {line}, column {column}")?,
                    (Some(line), None) => write!(formatter, " at line {line}")?,
                    _ => {}
                }
                write!(formatter, ": {message}")
            }
            DirectoryError::Invalid { path, problems } => {
                formatter.write_str("invalid directory")?;
                if let Some(path) = path {
                    write!(formatter, " `{}`", path.display())?;
                }
                match problems.as_slice() {
                    [problem] => write!(formatter, ": {problem}"),
                    problems => {
                        write!(formatter, " ({} problems):", problems.len())?;
                        for problem in problems {
                            write!(formatter, "\n  {problem}")?;
                        }
                        Ok(())
                    }
                }
            }
        }
    }
}

impl std::error::Error for DirectoryError {}

/// The 1-based line and column (in characters) of a byte offset in `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let line = before.matches('\n').count() + 1;
    let column = before.get(line_start..).map_or(0, |start| start.chars().count()) + 1;
    (line, column)
}

// ---------------------------------------------------------------------------------------------
// The in-memory directory
// ---------------------------------------------------------------------------------------------

/// Loads a directory file, TOML or JSON by its extension (same as [`MemoryDirectory::load`]).
pub fn load(path: &Path) -> Result<MemoryDirectory, DirectoryError> {
    MemoryDirectory::load(path)
}

/// A validated directory held in memory, with every lookup indexed: records by id in O(1), and
/// the member, subordinate and role-holder lists computed once at load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryDirectory {
    records: DirectoryFile,
    subcompany_index: IdMap<usize>,
    department_index: IdMap<usize>,
    employee_index: IdMap<usize>,
    document_index: IdMap<usize>,
    project_index: IdMap<usize>,
    asset_index: IdMap<usize>,
    customer_index: IdMap<usize>,
    meeting_room_index: IdMap<usize>,
    /// By department position: its members (employee positions, ascending, as all lists here).
    department_members: Vec<Vec<usize>>,
    /// By subcompany position: its departments' members.
    subcompany_members: Vec<Vec<usize>>,
    /// By employee position: their direct reports.
    subordinates: Vec<Vec<usize>>,
    /// By customer position: its contacts' managers, each once, in the contacts' order.
    contact_managers: Vec<Vec<usize>>,
    /// By role name.
    roles: IdMap<RoleIndex>,
    /// By person: the positions of their stand-ins in `records.deputies`.
    deputies_by_person: IdMap<Vec<usize>>,
}

/// The holders of one role. Positions are employee positions, ascending, each once per list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct RoleIndex {
    /// Every holder, whatever the scope.
    holders: Vec<usize>,
    unscoped: Vec<usize>,
    /// By department position.
    by_department: PositionMap<Vec<usize>>,
    /// By subcompany position.
    by_subcompany: PositionMap<Vec<usize>>,
}

impl MemoryDirectory {
    /// Loads a directory file, TOML or JSON by its extension (`.toml`, `.json`, any case): a
    /// regular file of at most the directory size limit (`input_file::FileKind::Directory`).
    pub fn load(path: &Path) -> Result<Self, DirectoryError> {
        let extension = path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase);
        let format = match extension.as_deref() {
            Some("toml") => Format::Toml,
            Some("json") => Format::Json,
            _ => return Err(DirectoryError::UnknownFormat { path: path.to_owned() }),
        };
        let text = crate::input_file::read_to_string(path, crate::input_file::FileKind::Directory)
            .map_err(|error| DirectoryError::Read { path: path.to_owned(), message: error.problem.to_string() })?;
        let loaded = match format {
            Format::Toml => Self::from_toml_str(&text),
            Format::Json => Self::from_json_str(&text),
        };
        loaded.map_err(|error| error.in_file(path))
    }

    /// Parses and validates a TOML directory.
    pub fn from_toml_str(text: &str) -> Result<Self, DirectoryError> {
        let records: DirectoryFile = toml::from_str(text).map_err(|error| {
            let (line, column) = error.span().map(|span| line_column(text, span.start)).unzip();
            DirectoryError::Parse {
                path: None,
                format: Format::Toml,
                line,
                column,
                message: error.message().to_owned(),
            }
        })?;
        Self::from_records(records)
    }

    /// Parses and validates a JSON directory.
    pub fn from_json_str(text: &str) -> Result<Self, DirectoryError> {
        let records: DirectoryFile = serde_json::from_str(text).map_err(|error| {
            // serde_json's message ends with its own " at line L column C"; the position is kept
            // in fields and the message is kept bare, as for TOML.
            let full = error.to_string();
            let suffix = format!(" at line {} column {}", error.line(), error.column());
            let message = full.strip_suffix(&suffix).unwrap_or(&full).to_owned();
            let known = error.line() > 0;
            DirectoryError::Parse {
                path: None,
                format: Format::Json,
                line: known.then(|| error.line()),
                column: known.then(|| error.column()),
                message,
            }
        })?;
        Self::from_records(records)
    }

    /// Validates records (from a host, or parsed) and builds the indexes.
    pub fn from_records(records: DirectoryFile) -> Result<Self, DirectoryError> {
        let mut problems = Problems::default();
        let subcompany_index = index_ids(
            RecordKind::Subcompany,
            records.subcompanies.iter().map(|record| (&record.id, &record.name)),
            &mut problems,
        );
        let department_index = index_ids(
            RecordKind::Department,
            records.departments.iter().map(|record| (&record.id, &record.name)),
            &mut problems,
        );
        let employee_index = index_ids(
            RecordKind::Employee,
            records.employees.iter().map(|record| (&record.id, &record.name)),
            &mut problems,
        );
        let document_index = index_ids(
            RecordKind::Document,
            records.documents.iter().map(|record| (&record.id, &record.name)),
            &mut problems,
        );
        let project_index = index_ids(
            RecordKind::Project,
            records.projects.iter().map(|record| (&record.id, &record.name)),
            &mut problems,
        );
        let asset_index =
            index_ids(RecordKind::Asset, records.assets.iter().map(|record| (&record.id, &record.name)), &mut problems);
        let customer_index = index_ids(
            RecordKind::Customer,
            records.customers.iter().map(|record| (&record.id, &record.name)),
            &mut problems,
        );
        let meeting_room_index = index_ids(
            RecordKind::MeetingRoom,
            records.meeting_rooms.iter().map(|record| (&record.id, &record.name)),
            &mut problems,
        );

        let exists = |index: &IdMap<usize>, id: &str| index.contains_key(id);

        for (position, department) in records.departments.iter().enumerate() {
            let mut report = |field, message| {
                problems.push(RecordKind::Department, position, &department.id, &department.name, field, message);
            };
            if !exists(&subcompany_index, &department.subcompany) {
                report("subcompany", format!("subcompany `{}` does not exist", department.subcompany));
            }
            if let Some(parent) = &department.parent {
                if !exists(&department_index, parent) {
                    report("parent", format!("parent department `{parent}` does not exist"));
                }
            }
            if let Some(head) = &department.head {
                if !exists(&employee_index, head) {
                    report("head", format!("head `{head}` does not exist"));
                }
            }
        }

        for (position, employee) in records.employees.iter().enumerate() {
            let mut report = |field, message| {
                problems.push(RecordKind::Employee, position, &employee.id, &employee.name, field, message);
            };
            if !exists(&department_index, &employee.department) {
                report("department", format!("department `{}` does not exist", employee.department));
            }
            if let Some(manager) = &employee.manager {
                if !exists(&employee_index, manager) {
                    report("manager", format!("manager `{manager}` does not exist"));
                }
            }
            for grant in &employee.roles {
                if grant.role.is_empty() {
                    report("roles", "a role name is empty".to_owned());
                }
                match &grant.scope {
                    Some(RoleScope::Department(department)) if !exists(&department_index, department) => {
                        report("roles", format!("department `{department}` of role `{}` does not exist", grant.role))
                    }
                    Some(RoleScope::Subcompany(subcompany)) if !exists(&subcompany_index, subcompany) => {
                        report("roles", format!("subcompany `{subcompany}` of role `{}` does not exist", grant.role))
                    }
                    _ => {}
                }
            }
        }

        for (position, document) in records.documents.iter().enumerate() {
            if !exists(&employee_index, &document.owner) {
                problems.push(
                    RecordKind::Document,
                    position,
                    &document.id,
                    &document.name,
                    "owner",
                    format!("owner `{}` does not exist", document.owner),
                );
            }
        }

        for (position, project) in records.projects.iter().enumerate() {
            let mut report = |field, message| {
                problems.push(RecordKind::Project, position, &project.id, &project.name, field, message);
            };
            if !exists(&employee_index, &project.manager) {
                report("manager", format!("manager `{}` does not exist", project.manager));
            }
            for member in &project.members {
                if !exists(&employee_index, member) {
                    report("members", format!("member `{member}` does not exist"));
                }
            }
        }

        for (position, asset) in records.assets.iter().enumerate() {
            let mut report = |field, message| {
                problems.push(RecordKind::Asset, position, &asset.id, &asset.name, field, message);
            };
            if !exists(&employee_index, &asset.admin) {
                report("admin", format!("admin `{}` does not exist", asset.admin));
            }
            if !exists(&department_index, &asset.department) {
                report("department", format!("department `{}` does not exist", asset.department));
            }
        }

        for (position, customer) in records.customers.iter().enumerate() {
            let mut report = |field, message| {
                problems.push(RecordKind::Customer, position, &customer.id, &customer.name, field, message);
            };
            if !exists(&employee_index, &customer.manager) {
                report("manager", format!("manager `{}` does not exist", customer.manager));
            }
            for contact in &customer.contacts {
                if !exists(&employee_index, &contact.manager) {
                    report(
                        "contacts",
                        format!("manager `{}` of contact {} does not exist", contact.manager, contact.name),
                    );
                }
            }
        }

        for (position, room) in records.meeting_rooms.iter().enumerate() {
            if !exists(&employee_index, &room.admin) {
                problems.push(
                    RecordKind::MeetingRoom,
                    position,
                    &room.id,
                    &room.name,
                    "admin",
                    format!("admin `{}` does not exist", room.admin),
                );
            }
        }

        for (position, administrator) in records.administrators.iter().enumerate() {
            if !exists(&employee_index, administrator) {
                problems.push(
                    RecordKind::Administrator,
                    position,
                    "",
                    &format!("entry {}", position + 1),
                    "administrators",
                    format!("employee `{administrator}` does not exist"),
                );
            }
        }

        let deputies_by_person = deputies::validate(&records.deputies, &employee_index, &mut problems);

        let department_parents: Vec<Option<usize>> = records
            .departments
            .iter()
            .map(|department| department.parent.as_ref().and_then(|parent| department_index.get(parent).copied()))
            .collect();
        for cycle in find_cycles(&department_parents) {
            let first = cycle.first().copied().unwrap_or_default();
            if let Some(department) = records.departments.get(first) {
                let chain = chain_text(&cycle, |position| records.departments.get(position).map(|d| d.id.as_str()));
                problems.push(
                    RecordKind::Department,
                    first,
                    &department.id,
                    &department.name,
                    "parent",
                    format!("parent chain loops: {chain}"),
                );
            }
        }

        let managers: Vec<Option<usize>> = records
            .employees
            .iter()
            .map(|employee| employee.manager.as_ref().and_then(|manager| employee_index.get(manager).copied()))
            .collect();
        for cycle in find_cycles(&managers) {
            let first = cycle.first().copied().unwrap_or_default();
            if let Some(employee) = records.employees.get(first) {
                let chain = chain_text(&cycle, |position| records.employees.get(position).map(|e| e.id.as_str()));
                problems.push(
                    RecordKind::Employee,
                    first,
                    &employee.id,
                    &employee.name,
                    "manager",
                    format!("manager chain loops: {chain}"),
                );
            }
        }

        if !problems.list.is_empty() {
            return Err(DirectoryError::Invalid { path: None, problems: problems.into_sorted() });
        }

        // INVARIANT: from here on every reference resolves and every id is unique, so the
        // lookups below find what they look for; they still go through `get` (no panics).
        let department_of: Vec<Option<usize>> =
            records.employees.iter().map(|employee| department_index.get(&employee.department).copied()).collect();
        let subcompany_of_department: Vec<Option<usize>> = records
            .departments
            .iter()
            .map(|department| subcompany_index.get(&department.subcompany).copied())
            .collect();

        let mut department_members = presized_lists(records.departments.len(), department_of.iter().copied());
        let mut subcompany_members = presized_lists(
            records.subcompanies.len(),
            department_of.iter().map(|department| {
                department.and_then(|department| subcompany_of_department.get(department).copied().flatten())
            }),
        );
        let mut subordinates: Vec<Vec<usize>> = vec![Vec::new(); records.employees.len()];
        let mut roles: IdMap<RoleIndex> = IdMap::default();

        for (position, employee) in records.employees.iter().enumerate() {
            let department = department_of.get(position).copied().flatten();
            if let Some(members) = department.and_then(|department| department_members.get_mut(department)) {
                members.push(position);
            }
            let subcompany =
                department.and_then(|department| subcompany_of_department.get(department).copied().flatten());
            if let Some(members) = subcompany.and_then(|subcompany| subcompany_members.get_mut(subcompany)) {
                members.push(position);
            }
            if let Some(reports) =
                managers.get(position).copied().flatten().and_then(|manager| subordinates.get_mut(manager))
            {
                reports.push(position);
            }
            for grant in &employee.roles {
                if !roles.contains_key(grant.role.as_str()) {
                    roles.insert(grant.role.clone(), RoleIndex::default());
                }
                let Some(index) = roles.get_mut(grant.role.as_str()) else {
                    continue;
                };
                if index.holders.last() != Some(&position) {
                    index.holders.push(position);
                }
                let list = match &grant.scope {
                    None => Some(&mut index.unscoped),
                    Some(RoleScope::Department(id)) => {
                        department_index.get(id).map(|&department| index.by_department.entry(department).or_default())
                    }
                    Some(RoleScope::Subcompany(id)) => {
                        subcompany_index.get(id).map(|&subcompany| index.by_subcompany.entry(subcompany).or_default())
                    }
                };
                if let Some(list) = list {
                    if list.last() != Some(&position) {
                        list.push(position);
                    }
                }
            }
        }

        let contact_managers: Vec<Vec<usize>> = records
            .customers
            .iter()
            .map(|customer| {
                let mut managers: Vec<usize> = Vec::new();
                for contact in &customer.contacts {
                    if let Some(&manager) = employee_index.get(&contact.manager) {
                        if !managers.contains(&manager) {
                            managers.push(manager);
                        }
                    }
                }
                managers
            })
            .collect();

        Ok(MemoryDirectory {
            records,
            subcompany_index,
            department_index,
            employee_index,
            document_index,
            project_index,
            asset_index,
            customer_index,
            meeting_room_index,
            department_members,
            subcompany_members,
            subordinates,
            contact_managers,
            roles,
            deputies_by_person,
        })
    }

    /// The records as loaded.
    pub fn records(&self) -> &DirectoryFile {
        &self.records
    }

    /// The employees at `positions` (in any order, possibly repeated): sorted, each once.
    fn people_at(&self, mut positions: Vec<usize>) -> People<'_> {
        positions.sort_unstable();
        positions.dedup();
        People(PeopleRepr::Positions { employees: &self.records.employees, positions: Cow::Owned(positions) })
    }

    /// A precomputed list by the position of a record found through `index`; nobody for an
    /// unknown id.
    fn list_at<'a>(&'a self, index: &IdMap<usize>, lists: &'a [Vec<usize>], id: &str) -> People<'a> {
        match index.get(id).and_then(|&position| lists.get(position)) {
            Some(list) => People(PeopleRepr::Positions {
                employees: &self.records.employees,
                positions: Cow::Borrowed(list.as_slice()),
            }),
            None => People::empty(),
        }
    }
}

/// Looks a record up through an id index.
fn lookup<'a, Record: Clone>(index: &IdMap<usize>, records: &'a [Record], id: &str) -> Option<Cow<'a, Record>> {
    index.get(id).and_then(|&position| records.get(position)).map(Cow::Borrowed)
}

impl Directory for MemoryDirectory {
    fn calendar(&self) -> Cow<'_, calendar::Calendar> {
        match &self.records.calendar {
            Some(calendar) => Cow::Borrowed(calendar),
            None => Cow::Owned(calendar::Calendar::default()),
        }
    }
    fn employee(&self, id: &str) -> Option<Cow<'_, Employee>> {
        lookup(&self.employee_index, &self.records.employees, id)
    }
    fn department(&self, id: &str) -> Option<Cow<'_, Department>> {
        lookup(&self.department_index, &self.records.departments, id)
    }
    fn subcompany(&self, id: &str) -> Option<Cow<'_, Subcompany>> {
        lookup(&self.subcompany_index, &self.records.subcompanies, id)
    }
    fn document(&self, id: &str) -> Option<Cow<'_, Document>> {
        lookup(&self.document_index, &self.records.documents, id)
    }
    fn project(&self, id: &str) -> Option<Cow<'_, Project>> {
        lookup(&self.project_index, &self.records.projects, id)
    }
    fn asset(&self, id: &str) -> Option<Cow<'_, Asset>> {
        lookup(&self.asset_index, &self.records.assets, id)
    }
    fn customer(&self, id: &str) -> Option<Cow<'_, Customer>> {
        lookup(&self.customer_index, &self.records.customers, id)
    }
    fn meeting_room(&self, id: &str) -> Option<Cow<'_, MeetingRoom>> {
        lookup(&self.meeting_room_index, &self.records.meeting_rooms, id)
    }

    fn everyone(&self) -> People<'_> {
        People(PeopleRepr::All(&self.records.employees))
    }
    fn members_of_department(&self, department: &str) -> People<'_> {
        self.list_at(&self.department_index, &self.department_members, department)
    }
    fn members_of_subcompany(&self, subcompany: &str) -> People<'_> {
        self.list_at(&self.subcompany_index, &self.subcompany_members, subcompany)
    }
    fn subordinates_of(&self, employee: &str) -> People<'_> {
        self.list_at(&self.employee_index, &self.subordinates, employee)
    }
    fn contact_managers(&self, customer: &str) -> People<'_> {
        self.list_at(&self.customer_index, &self.contact_managers, customer)
    }

    fn is_administrator(&self, employee: &str) -> bool {
        self.records.administrators.iter().any(|administrator| administrator == employee)
    }
    fn deputy_on(&self, employee: &str, day: &str) -> Option<Cow<'_, str>> {
        let positions = self.deputies_by_person.get(employee)?;
        deputies::active(&self.records.deputies, positions, day).map(Cow::Borrowed)
    }
    fn role_holders(&self, role: &str, scope: Option<Scope<'_>>) -> People<'_> {
        let Some(index) = self.roles.get(role) else {
            return People::empty();
        };
        let (department, subcompany) = match scope {
            None => {
                return People(PeopleRepr::Positions {
                    employees: &self.records.employees,
                    positions: Cow::Borrowed(index.holders.as_slice()),
                })
            }
            Some(Scope::Department(id)) => {
                let department = self.department_index.get(id).copied();
                let subcompany = department
                    .and_then(|department| self.records.departments.get(department))
                    .and_then(|department| self.subcompany_index.get(&department.subcompany).copied());
                (department, subcompany)
            }
            Some(Scope::Subcompany(id)) => (None, self.subcompany_index.get(id).copied()),
        };
        let mut positions = index.unscoped.clone();
        if let Some(scoped) = department.and_then(|department| index.by_department.get(&department)) {
            positions.extend_from_slice(scoped);
        }
        if let Some(scoped) = subcompany.and_then(|subcompany| index.by_subcompany.get(&subcompany)) {
            positions.extend_from_slice(scoped);
        }
        self.people_at(positions)
    }
}

/// The map from ids to positions. Ids come from the organisation's own file, not from
/// strangers, so a fast non-keyed hash (FxHash's) serves better than the default SipHash: the
/// loader hashes every id several times, and 100,000 employees must load in well under a second.
type IdMap<V> = HashMap<String, V, BuildHasherDefault<IdHasher>>;

/// A map keyed by record position.
type PositionMap<V> = HashMap<usize, V, BuildHasherDefault<IdHasher>>;

/// FxHash (rustc's hash): a rotate, a xor and a multiply per word.
#[derive(Default)]
struct IdHasher {
    hash: u64,
}

impl IdHasher {
    const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(Self::SEED);
    }
}

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            if let Some(start) = word.get_mut(..rest.len()) {
                start.copy_from_slice(rest);
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, byte: u8) {
        self.add(u64::from(byte));
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        // The multiply leaves the low bits depending only on the low bytes
        // of the input ("E0", the same for every employee id), and the hash
        // table picks a bucket by the low bits: without this every lookup
        // walked a long chain of equal-prefix ids comparing strings. The
        // high bits are well mixed; rotate them down (as rustc-hash 2 does).
        self.hash.rotate_left(26)
    }
}

/// Empty lists, one per owner, each with room for the entries that `owners` assigns to it.
fn presized_lists(count: usize, owners: impl Iterator<Item = Option<usize>>) -> Vec<Vec<usize>> {
    let mut sizes = vec![0usize; count];
    for owner in owners.flatten() {
        if let Some(size) = sizes.get_mut(owner) {
            *size += 1;
        }
    }
    sizes.into_iter().map(Vec::with_capacity).collect()
}

// ---------------------------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------------------------

/// Problems as found, each with the position of its record so they can be put in file order.
#[derive(Default)]
struct Problems {
    list: Vec<(RecordKind, usize, Problem)>,
}

impl Problems {
    fn push(&mut self, kind: RecordKind, position: usize, id: &str, name: &str, field: &'static str, message: String) {
        let problem = Problem { kind, id: id.to_owned(), name: name.to_owned(), field, message };
        self.list.push((kind, position, problem));
    }

    /// By kind (in the order of runtime.md §2), then by record; a record's problems keep the
    /// order they were found in (a stable sort).
    fn into_sorted(mut self) -> Vec<Problem> {
        self.list.sort_by_key(|(kind, position, _)| (*kind, *position));
        self.list.into_iter().map(|(_, _, problem)| problem).collect()
    }
}

/// An index from id to position; reports empty and duplicate ids (the first record keeps the id).
fn index_ids<'a>(
    kind: RecordKind,
    records: impl ExactSizeIterator<Item = (&'a String, &'a String)>,
    problems: &mut Problems,
) -> IdMap<usize> {
    let mut index: IdMap<usize> = IdMap::with_capacity_and_hasher(records.len(), Default::default());
    let mut names: Vec<&str> = Vec::with_capacity(records.len());
    for (position, (id, name)) in records.enumerate() {
        names.push(name);
        if id.is_empty() {
            problems.push(kind, position, id, name, "id", "the id is empty".to_owned());
            continue;
        }
        match index.get(id.as_str()) {
            Some(&first) => {
                let first_name = names.get(first).copied().unwrap_or_default();
                problems.push(kind, position, id, name, "id", format!("duplicate id, already used by {first_name}"));
            }
            None => {
                index.insert(id.clone(), position);
            }
        }
    }
    index
}

/// The cycles of a graph where every node has at most one successor (`next`), each once, as
/// the positions around it starting from its smallest position; in the order of those.
fn find_cycles(next: &[Option<usize>]) -> Vec<Vec<usize>> {
    const NEW: u8 = 0;
    const ON_PATH: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; next.len()];
    let mut cycles = Vec::new();
    for start in 0..next.len() {
        let mut path: Vec<usize> = Vec::new();
        let mut node = Some(start);
        while let Some(current) = node {
            match state.get(current).copied() {
                Some(NEW) => {}
                Some(ON_PATH) => {
                    if let Some(entry) = path.iter().position(|&position| position == current) {
                        let mut cycle = path.get(entry..).map(<[usize]>::to_vec).unwrap_or_default();
                        if let Some(smallest) = cycle.iter().enumerate().min_by_key(|(_, &p)| p).map(|(at, _)| at) {
                            cycle.rotate_left(smallest);
                        }
                        cycles.push(cycle);
                    }
                    break;
                }
                _ => break,
            }
            if let Some(slot) = state.get_mut(current) {
                *slot = ON_PATH;
            }
            path.push(current);
            node = next.get(current).copied().flatten();
        }
        for position in path {
            if let Some(slot) = state.get_mut(position) {
                *slot = DONE;
            }
        }
    }
    cycles.sort_by_key(|cycle| cycle.first().copied());
    cycles
}

/// `A → B → A` for a cycle starting at A.
fn chain_text<'a>(cycle: &[usize], id_of: impl Fn(usize) -> Option<&'a str>) -> String {
    let ids: Vec<&str> = cycle.iter().chain(cycle.first()).filter_map(|&position| id_of(position)).collect();
    ids.join(" → ")
}

#[cfg(test)]
mod tests {
    use std::hash::{BuildHasher, BuildHasherDefault};

    use super::IdHasher;

    /// The hash table picks a bucket by the low bits: ids that differ only
    /// in their later characters must still spread over the buckets.
    #[test]
    fn ids_with_a_common_prefix_spread_over_the_low_bits() {
        let build = BuildHasherDefault::<IdHasher>::default();
        let mut buckets = std::collections::HashSet::new();
        for number in 0..4096 {
            buckets.insert(build.hash_one(format!("E{number:06}")) & 0xfff);
        }
        // 4,096 ids into 4,096 buckets: a good hash fills about 63% of them.
        assert!(buckets.len() > 2000, "only {} of 4096 buckets used", buckets.len());
    }
}
