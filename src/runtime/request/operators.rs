//! Who handles a node (language.md §7): each operator line's people,
//! filtered by `where` and counted only when its `when` holds; batches tried
//! from the smallest number, the first that yields anyone wins. Besides the
//! people, a resolution says why every earlier batch was empty, which is what
//! an analyst needs when a request goes to the wrong person.

use std::collections::HashSet;

use serde::Serialize;

use crate::ir::{Loc, Node, OperatorLine};
use crate::runtime::error::RuntimeError;
use crate::runtime::values::eval::{scope_of, Env};
use crate::runtime::values::value::{RefKind, Value};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Resolution {
    /// The batch that supplied the people (its number).
    pub batch: Option<u64>,
    pub people: Vec<String>,
    /// Why each batch tried before it (or every batch, when nobody) was empty.
    pub empty_batches: Vec<EmptyBatch>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmptyBatch {
    pub batch: u64,
    pub lines: Vec<LineNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineNote {
    #[serde(skip)]
    pub at: Loc,
    pub reason: String,
}

/// Resolves a node's operators against the request.
pub fn resolve(env: Env<'_>, node: &Node, source_text: &dyn Fn(Loc) -> String) -> Result<Resolution, RuntimeError> {
    let mut empty_batches = Vec::new();
    for batch in &node.batches {
        let mut people: Vec<String> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut notes = Vec::new();
        for line in &batch.lines {
            let before = people.len();
            if let Some(reason) = line_people(env, line, source_text, &mut |person: &str| {
                if seen.insert(person.to_owned()) {
                    people.push(person.to_owned());
                }
            })? {
                notes.push(LineNote { at: line.at, reason });
            } else if people.len() == before {
                notes.push(LineNote {
                    at: line.at,
                    reason: format!("`{}` adds no one new", source_text(line.people.at)),
                });
            }
        }
        if !people.is_empty() {
            return Ok(Resolution { batch: Some(batch.number), people, empty_batches });
        }
        empty_batches.push(EmptyBatch { batch: batch.number, lines: notes });
    }
    Ok(Resolution { batch: None, people: Vec::new(), empty_batches })
}

/// Adds the people of one line through `add`; returns why the line gave
/// no one, when it did not.
pub(super) fn line_people(
    env: Env<'_>,
    line: &OperatorLine,
    source_text: &dyn Fn(Loc) -> String,
    add: &mut dyn FnMut(&str),
) -> Result<Option<String>, RuntimeError> {
    if let Some(condition) = &line.condition {
        if !env.holds(condition)? {
            return Ok(Some(format!("`when {}` does not hold", source_text(condition.at))));
        }
    }
    let people = env.eval(&line.people)?;
    let mut found = 0usize;
    let mut filtered = 0usize;
    let mut visit = |person: &str| -> Result<(), RuntimeError> {
        found += 1;
        if let Some(filter) = &line.filter {
            if !env.with_person(person).holds(filter)? {
                filtered += 1;
                return Ok(());
            }
        }
        add(person);
        Ok(())
    };
    each_person(env, &people, &mut visit)?;
    let written = source_text(line.people.at);
    Ok(match (found, filtered) {
        (0, _) => Some(format!("`{written}` is nobody ({})", describe_empty(&people))),
        (found, filtered) if found == filtered => {
            let filter = line.filter.as_ref().map(|filter| source_text(filter.at)).unwrap_or_default();
            Some(format!("`{written}` gives {found}, but none has `where {filter}`"))
        }
        _ => None,
    })
}

fn describe_empty(people: &Value) -> String {
    match people {
        Value::Null => "the value is empty".into(),
        Value::List(_) => "an empty list".into(),
        Value::Ref(RefKind::Department, id) => format!("department {id} has no members"),
        Value::Ref(RefKind::Subcompany, id) => format!("subcompany {id} has no members"),
        Value::Role { name, scope: None } => format!("nobody holds role {name}"),
        Value::Role { name, scope: Some(scope) } => format!("nobody holds role {name} for {}", scope.1),
        other => format!("{} names no employee", other.kind_name()),
    }
}

/// Calls `visit` with each employee id `people` names, in directory order.
pub fn each_person(
    env: Env<'_>,
    people: &Value,
    visit: &mut dyn FnMut(&str) -> Result<(), RuntimeError>,
) -> Result<(), RuntimeError> {
    let directory = env.directory;
    match people {
        Value::Ref(RefKind::Employee, id) if directory.employee(id).is_some() => visit(id)?,
        Value::Ref(RefKind::Department, id) => {
            for person in directory.members_of_department(id).iter() {
                visit(person)?;
            }
        }
        Value::Ref(RefKind::Subcompany, id) => {
            for person in directory.members_of_subcompany(id).iter() {
                visit(person)?;
            }
        }
        Value::Role { name, scope } => {
            let scope = scope.as_deref().map(|(kind, id)| scope_of(*kind, id));
            for person in directory.role_holders(name, scope).iter() {
                visit(person)?;
            }
        }
        Value::Everyone => {
            for person in directory.everyone().iter() {
                visit(person)?;
            }
        }
        Value::List(items) => {
            for item in items {
                each_person(env, item, visit)?;
            }
        }
        Value::Contact { manager, .. } => visit(manager)?,
        _ => {}
    }
    Ok(())
}

/// Whether `person` is among the node's operators, without listing them all
/// (creating a request checks the creator against `everyone where …`).
pub fn admits(env: Env<'_>, node: &Node, person: &str) -> Result<bool, RuntimeError> {
    for batch in &node.batches {
        if lines_admit(env, &batch.lines, person)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `person` is among the people of any of `lines` (a workflow's `supervisors`, too).
pub fn lines_admit(env: Env<'_>, lines: &[OperatorLine], person: &str) -> Result<bool, RuntimeError> {
    for line in lines {
        if let Some(condition) = &line.condition {
            if !env.holds(condition)? {
                continue;
            }
        }
        let people = env.eval(&line.people)?;
        if !env.has_person(&people, person) && !contact_manager(&people, person) {
            continue;
        }
        match &line.filter {
            Some(filter) if !env.with_person(person).holds(filter)? => continue,
            _ => return Ok(true),
        }
    }
    Ok(false)
}

fn contact_manager(people: &Value, person: &str) -> bool {
    match people {
        Value::Contact { manager, .. } => &**manager == person,
        Value::List(items) => items.iter().any(|item| contact_manager(item, person)),
        _ => false,
    }
}
