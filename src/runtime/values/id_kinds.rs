//! What an id names when it is not what was expected, so that a department
//! id given where a person is expected (`"by": "FIN"`, `"to": ["FIN"]`, an
//! employee field) is refused with "`FIN` is the department 财务部, not an
//! employee" rather than a bare "unknown id".

use crate::org::Directory;
use crate::runtime::values::value::RefKind;

/// The record `id` names in the directory, if it is not of the kind `wanted`: "the department
/// 财务部". `None` when the id names nothing, or something of the wanted kind.
pub fn named_instead(directory: &dyn Directory, wanted: RefKind, id: &str) -> Option<String> {
    let found = [
        (RefKind::Employee, directory.employee(id).map(|record| record.name.clone())),
        (RefKind::Department, directory.department(id).map(|record| record.name.clone())),
        (RefKind::Subcompany, directory.subcompany(id).map(|record| record.name.clone())),
        (RefKind::Document, directory.document(id).map(|record| record.name.clone())),
        (RefKind::Project, directory.project(id).map(|record| record.name.clone())),
        (RefKind::Asset, directory.asset(id).map(|record| record.name.clone())),
        (RefKind::Customer, directory.customer(id).map(|record| record.name.clone())),
        (RefKind::MeetingRoom, directory.meeting_room(id).map(|record| record.name.clone())),
    ];
    found
        .into_iter()
        .filter(|(kind, _)| *kind != wanted)
        .find_map(|(kind, name)| name.map(|name| format!("the {} {name}", kind.noun())))
}

/// "no employee with id `FIN` in the directory", and what `FIN` is when it is something else.
pub fn unknown_id_message(directory: &dyn Directory, wanted: RefKind, id: &str) -> String {
    match named_instead(directory, wanted, id) {
        Some(other) => format!("`{id}` is {other}, not {}", with_article(wanted.noun())),
        None => format!("no {} with id `{id}` in the directory", wanted.noun()),
    }
}

fn with_article(noun: &str) -> String {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {noun}")
    } else {
        format!("a {noun}")
    }
}
