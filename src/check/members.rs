//! Members of directory entities (docs/language.md §7.3): what `申请人.manager`
//! or `合同.owner` mean. The language server's hover reads the same table.

use super::types::Ty;

/// A member: its name, its type and what it means.
pub struct Member {
    pub name: &'static str,
    pub ty: fn() -> Ty,
    pub doc: &'static str,
}

fn list_of_employees() -> Ty {
    Ty::List(Box::new(Ty::Employee))
}

macro_rules! members {
    ($($name:literal : $ty:expr => $doc:literal),* $(,)?) => {
        &[$(Member { name: $name, ty: { fn ty() -> Ty { $ty } ty }, doc: $doc }),*]
    };
}

pub const EMPLOYEE: &[Member] = members![
    "id": Ty::Text => "the employee's id in the directory",
    "name": Ty::Text => "the employee's name",
    "manager": Ty::Employee => "the employee's direct manager (上级)",
    "department": Ty::Department => "the department the employee belongs to",
    "subcompany": Ty::Subcompany => "the subcompany of the employee's department",
    "security": Ty::Int => "the employee's security level (安全级别), an integer",
    "roles": Ty::List(Box::new(Ty::Role)) => "the roles the employee holds",
    "subordinates": list_of_employees() => "the employees whose manager this employee is",
];

pub const DEPARTMENT: &[Member] = members![
    "id": Ty::Text => "the department's id",
    "name": Ty::Text => "the department's name",
    "head": Ty::Employee => "the head of the department (部门负责人)",
    "parent": Ty::Department => "the department above this one",
    "subcompany": Ty::Subcompany => "the subcompany the department belongs to",
    "members": list_of_employees() => "the employees whose department this is (not sub-departments)",
];

pub const SUBCOMPANY: &[Member] = members![
    "id": Ty::Text => "the subcompany's id",
    "name": Ty::Text => "the subcompany's name",
    "members": list_of_employees() => "the employees of the subcompany's departments",
];

pub const ROLE: &[Member] = members![
    "name": Ty::Text => "the role's name",
    "members": list_of_employees() => "every holder of the role",
];

pub const DOCUMENT: &[Member] = members![
    "id": Ty::Text => "the document's id",
    "name": Ty::Text => "the document's title",
    "owner": Ty::Employee => "the document's owner (文档所有者)",
];

pub const PROJECT: &[Member] = members![
    "id": Ty::Text => "the project's id",
    "name": Ty::Text => "the project's name",
    "manager": Ty::Employee => "the project manager (项目经理)",
    "members": list_of_employees() => "the project's members (项目成员)",
];

pub const ASSET: &[Member] = members![
    "id": Ty::Text => "the asset's id",
    "name": Ty::Text => "the asset's name",
    "admin": Ty::Employee => "the asset's administrator (资产管理员)",
    "department": Ty::Department => "the department the asset belongs to",
    "subcompany": Ty::Subcompany => "the subcompany the asset belongs to",
];

pub const CUSTOMER: &[Member] = members![
    "id": Ty::Text => "the customer's id",
    "name": Ty::Text => "the customer's name",
    "manager": Ty::Employee => "the customer manager (客户经理)",
    "contacts": Ty::List(Box::new(Ty::Contact)) => "the customer's contacts (联系人)",
];

pub const CONTACT: &[Member] = members![
    "name": Ty::Text => "the contact's name",
    "manager": Ty::Employee => "the employee in charge of this contact",
];

pub const MEETING_ROOM: &[Member] = members![
    "id": Ty::Text => "the meeting room's id",
    "name": Ty::Text => "the meeting room's name",
    "admin": Ty::Employee => "the meeting room's administrator",
];

pub const NODE: &[Member] = members![
    "operator": Ty::Employee => "who submitted this node most recently (counting the submit being processed)",
];

/// The members of a type, if it has any.
pub fn members_of(ty: &Ty) -> Option<&'static [Member]> {
    Some(match ty {
        Ty::Employee => EMPLOYEE,
        Ty::Department => DEPARTMENT,
        Ty::Subcompany => SUBCOMPANY,
        Ty::Role => ROLE,
        Ty::Document => DOCUMENT,
        Ty::Project => PROJECT,
        Ty::Asset => ASSET,
        Ty::Customer => CUSTOMER,
        Ty::Contact => CONTACT,
        Ty::MeetingRoom => MEETING_ROOM,
        Ty::Node => NODE,
        _ => return None,
    })
}

pub fn find(members: &'static [Member], name: &str) -> Option<&'static Member> {
    members.iter().find(|member| member.name == name)
}
