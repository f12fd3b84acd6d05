//! Who a `forward` or `cc` goes to (`"to"` in an action): employee ids, and
//! groups expanded when the action is taken — `{"department": "FIN"}` (its
//! members), `{"subcompany": "SH"}` (the employees of its departments),
//! `{"role": "会计"}` (every holder). An id of the wrong kind is refused with
//! what it names ("`FIN` is the department 财务部, not an employee").

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::diag::Code;
use crate::runtime::error::RuntimeError;
use crate::runtime::request::Runtime;
use crate::runtime::values::id_kinds::{named_instead, unknown_id_message};
use crate::runtime::values::value::RefKind;

/// One entry of an action's `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// `"E0101"`.
    Person(String),
    /// `{"department": "FIN"}`.
    Department(String),
    /// `{"subcompany": "SH"}`.
    Subcompany(String),
    /// `{"role": "会计"}`.
    Role(String),
}

impl From<&str> for Recipient {
    fn from(id: &str) -> Recipient {
        Recipient::Person(id.to_owned())
    }
}

impl Serialize for Recipient {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (key, value) = match self {
            Recipient::Person(id) => return serializer.serialize_str(id),
            Recipient::Department(id) => ("department", id),
            Recipient::Subcompany(id) => ("subcompany", id),
            Recipient::Role(name) => ("role", name),
        };
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(key, value)?;
        map.end()
    }
}

const GROUP_KEYS: &[&str] = &["department", "subcompany", "role"];

impl<'de> Deserialize<'de> for Recipient {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RecipientVisitor)
    }
}

struct RecipientVisitor;

impl<'de> Visitor<'de> for RecipientVisitor {
    type Value = Recipient;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(r#"an employee id, or {"department": "…"}, {"subcompany": "…"} or {"role": "…"}"#)
    }

    fn visit_str<E: de::Error>(self, id: &str) -> Result<Recipient, E> {
        Ok(Recipient::Person(id.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Recipient, A::Error> {
        let mut found: Option<Recipient> = None;
        while let Some(key) = map.next_key::<String>()? {
            let value: String = map.next_value()?;
            let recipient = match key.as_str() {
                "department" => Recipient::Department(value),
                "subcompany" => Recipient::Subcompany(value),
                "role" => Recipient::Role(value),
                other => return Err(de::Error::unknown_field(other, GROUP_KEYS)),
            };
            if found.is_some() {
                return Err(de::Error::custom("a recipient group names one department, subcompany or role"));
            }
            found = Some(recipient);
        }
        found.ok_or_else(|| de::Error::custom("an empty recipient: name a department, subcompany or role"))
    }
}

impl Runtime<'_> {
    /// The employees `to` names, each once, in order; a refusal for an id or role that names
    /// nobody.
    pub(super) fn expand_recipients(&self, to: &[Recipient]) -> Result<Vec<String>, RuntimeError> {
        let mut people: Vec<String> = Vec::new();
        let mut add = |person: &str| {
            if !people.iter().any(|known| known == person) {
                people.push(person.to_owned());
            }
        };
        for recipient in to {
            match recipient {
                Recipient::Person(id) => {
                    if self.directory.employee(id).is_none() {
                        let mut error = RuntimeError::new(
                            Code::R0305,
                            format!("`to`: {}", unknown_id_message(self.directory, RefKind::Employee, id)),
                        );
                        if let Some(kind) = group_kind(self, id) {
                            error =
                                error.with_help(format!(r#"to send it to everyone in it, write {{"{kind}": "{id}"}}"#));
                        }
                        return Err(error);
                    }
                    add(id);
                }
                Recipient::Department(id) | Recipient::Subcompany(id) => {
                    let (kind, members) = match recipient {
                        Recipient::Department(_) => (RefKind::Department, self.directory.members_of_department(id)),
                        _ => (RefKind::Subcompany, self.directory.members_of_subcompany(id)),
                    };
                    let known = match kind {
                        RefKind::Department => self.directory.department(id).is_some(),
                        _ => self.directory.subcompany(id).is_some(),
                    };
                    if !known {
                        return Err(RuntimeError::new(
                            Code::R0305,
                            format!("`to`: {}", unknown_id_message(self.directory, kind, id)),
                        ));
                    }
                    if members.is_empty() {
                        return Err(RuntimeError::new(
                            Code::R0305,
                            format!("`to`: {} `{id}` has no members", kind.noun()),
                        ));
                    }
                    members.iter().for_each(&mut add);
                }
                Recipient::Role(name) => {
                    let holders = self.directory.role_holders(name, None);
                    if holders.is_empty() {
                        return Err(RuntimeError::new(Code::R0305, format!("`to`: nobody holds the role `{name}`"))
                            .with_help("role names are those of the directory's employees' `roles`"));
                    }
                    holders.iter().for_each(&mut add);
                }
            }
        }
        Ok(people)
    }
}

/// `department` or `subcompany` when `id` names one (a group a person id was given for).
fn group_kind(runtime: &Runtime<'_>, id: &str) -> Option<&'static str> {
    if runtime.directory.department(id).is_some() {
        Some("department")
    } else if runtime.directory.subcompany(id).is_some() {
        Some("subcompany")
    } else {
        None
    }
}

/// What a person id given for `by` or `creator` names instead, for the message.
pub(super) fn not_a_person(runtime: &Runtime<'_>, role: &str, id: &str) -> String {
    match named_instead(runtime.directory, RefKind::Employee, id) {
        Some(other) => format!("{role} `{id}` is {other}, not a person: actions are taken by employees"),
        None => format!("{role} `{id}` is not in the directory"),
    }
}
