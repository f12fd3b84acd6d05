//! `flowc check --org FILE`: the directory decides what the form does not.
//! For each node, every operator line whose people depend on the creator
//! alone (`申请人.manager`, `role("会计", 部门)` with 部门 = creator.department,
//! `role("总经理")`, `creator.department.parent`) is evaluated concretely for
//! every person allowed to create, with the runtime's own evaluator (its
//! `where` included). Creators with the same pattern of empty lines form a
//! group, and each group is one question to the analysis: can a request
//! reach the node with every batch empty, given which of those lines are?
//! Lines that depend on the form (`项目.manager`) keep the form's answer.
//!
//! Lines are memoised by their value (a role in a scope, a manager), so
//! 100,000 creators cost one lookup each per line, not a scan.

use rustc_hash::FxHashMap as HashMap;

use super::logic::{Dom, Formula, VarId};
use super::model::{Class, Key, Model};
use super::operators::people_empty;
use crate::ir::{Expr, ExprKind, Node};
use crate::org::Directory;
use crate::runtime::request::operators::{admits, each_person};
use crate::runtime::values::dates::DateTime;
use crate::runtime::values::eval::Env;
use crate::runtime::values::field_values::store_computed;
use crate::runtime::values::formulas::blank;
use crate::runtime::values::value::{FormData, RefKind, Value};

/// The people of the directory allowed to create requests of the workflow.
pub fn admitted(model: &Model<'_>, directory: &dyn Directory) -> Vec<String> {
    let Some(create) = model.workflow.nodes.get(model.workflow.create) else { return Vec::new() };
    let data = blank(model.form);
    let now = now();
    let mut out = Vec::new();
    for person in directory.everyone().iter() {
        let env = env(model, directory, &data, person, now);
        if admits(env, create, person).unwrap_or(false) {
            out.push(person.to_owned());
        }
    }
    out
}

fn now() -> DateTime {
    DateTime::parse("2026-01-01T09:00:00+08:00").unwrap_or(DateTime {
        date: crate::runtime::values::dates::Date(0),
        time: crate::runtime::values::dates::Time(0),
        offset_minutes: 0,
    })
}

fn env<'a>(
    model: &'a Model<'_>,
    directory: &'a dyn Directory,
    data: &'a FormData,
    creator: &'a str,
    now: DateTime,
) -> Env<'a> {
    Env {
        program: model.program,
        form: model.form,
        layout: &model.layout,
        data,
        row: None,
        row_cells: None,
        directory,
        creator,
        now,
        node_operators: &[],
        person: None,
    }
}

/// The computed main fields whose value depends on the creator alone (申请人 = creator, 部门 = creator.department).
pub fn creator_fields(model: &mut Model<'_>) -> Vec<usize> {
    let mut out = Vec::new();
    for &field in &model.form.formula_order {
        let Some(target) = model.form.fields.get(field) else { continue };
        if target.detail.is_some() {
            continue;
        }
        let Some(formula) = &target.formula else { continue };
        if creator_only(formula, &out) && model.deps_of_field(field).is_empty() {
            out.push(field);
        }
    }
    out
}

/// Whether an expression reads nothing but the creator, constants and the creator's fields.
pub fn creator_only(expr: &Expr, creator_fields: &[usize]) -> bool {
    let mut only = true;
    expr.walk(&mut |part| match &part.kind {
        ExprKind::Field(field) if !creator_fields.contains(field) => only = false,
        ExprKind::Column(_) | ExprKind::Node(_) | ExprKind::Attribute(_) | ExprKind::CallFunction(..) => only = false,
        ExprKind::CallBuiltin(name, _) if name == "today" || name == "now" => only = false,
        _ => {}
    });
    only
}

/// What the directory gives one creator at a node: which creator lines are
/// empty (by line order), and the class of each creator field.
type Signature = (Vec<bool>, Vec<(VarId, u8)>);

/// A group of creators: its signature's two parts, and the creators
/// (indexes into `admitted`).
pub type Group = (Vec<bool>, Vec<(VarId, u8)>, Vec<usize>);

/// Creators grouped by what the directory gives them at one node.
pub struct Groups {
    pub groups: Vec<Group>,
    /// The lines (batch, line) whose people depend on the creator alone.
    pub creator_lines: Vec<(usize, usize)>,
}

/// Evaluates the creator lines of `node` for every admitted creator.
pub fn group(
    model: &mut Model<'_>,
    directory: &dyn Directory,
    node: &Node,
    admitted: &[String],
    creator_fields: &[usize],
) -> Groups {
    let mut creator_lines = Vec::new();
    for (batch_index, batch) in node.batches.iter().enumerate() {
        for (line_index, line) in batch.lines.iter().enumerate() {
            if creator_only(&line.people, creator_fields) {
                creator_lines.push((batch_index, line_index));
            }
        }
    }
    // The creator fields the node's conditions read, with their variables.
    let finite: Vec<(usize, VarId, std::sync::Arc<[Class]>)> = creator_fields
        .iter()
        .filter_map(|&field| {
            let var = model.canonical_of(&Key::Field(field))?;
            let classes = model.info(var)?.classes.clone();
            (!classes.is_empty()).then_some((field, var, classes))
        })
        .collect();
    let now = now();
    let mut memo: HashMap<(usize, String), bool> = HashMap::default();
    let mut by_signature: HashMap<Signature, Vec<usize>> = HashMap::default();
    let mut order: Vec<Signature> = Vec::new();
    let blank_form = blank(model.form);
    for (index, creator) in admitted.iter().enumerate() {
        let mut data = blank_form.clone();
        for &field in creator_fields {
            let Some(target) = model.form.fields.get(field) else { continue };
            let Some(formula) = &target.formula else { continue };
            let value = env(model, directory, &data, creator, now).eval(formula).unwrap_or(Value::Null);
            let stored = store_computed(target, value, formula.at).unwrap_or(Value::Null);
            if let Some(slot) = data.main.get_mut(field) {
                *slot = stored;
            }
        }
        let env = env(model, directory, &data, creator, now);
        let mut empties = Vec::with_capacity(creator_lines.len());
        for (slot, &(batch_index, line_index)) in creator_lines.iter().enumerate() {
            let Some(line) = node.batches.get(batch_index).and_then(|batch| batch.lines.get(line_index)) else {
                empties.push(false);
                continue;
            };
            let people = env.eval(&line.people).unwrap_or(Value::Null);
            let key = (slot, memo_key(&people));
            let empty = match memo.get(&key) {
                Some(known) => *known,
                None => {
                    let found = someone(env, &people, line.filter.as_ref());
                    memo.insert(key, !found);
                    !found
                }
            };
            empties.push(empty);
        }
        let mut classes = Vec::with_capacity(finite.len());
        for (field, var, field_classes) in &finite {
            let value = data.main.get(*field).cloned().unwrap_or(Value::Null);
            let position = field_classes.iter().position(|class| match (class, &value) {
                (Class::Null, Value::Null) => true,
                (Class::Lit(literal), Value::Ref(_, id)) => literal == id,
                (Class::Lit(literal), Value::Text(text)) => literal == text,
                _ => false,
            });
            let position = position.or_else(|| field_classes.iter().position(|class| *class == Class::Other));
            if let Some(position) = position {
                classes.push((*var, position as u8));
            }
        }
        let signature = (empties, classes);
        match by_signature.get_mut(&signature) {
            Some(list) => list.push(index),
            None => {
                order.push(signature.clone());
                by_signature.insert(signature, vec![index]);
            }
        }
    }
    let groups = order
        .into_iter()
        .filter_map(|signature| {
            let creators = by_signature.remove(&signature)?;
            Some((signature.0, signature.1, creators))
        })
        .collect();
    Groups { groups, creator_lines }
}

/// A memo key for a people value (cheap for the common kinds).
fn memo_key(people: &Value) -> String {
    match people {
        Value::Ref(kind, id) => format!("{}:{id}", kind.noun()),
        Value::Role { name, scope: None } => format!("role:{name}"),
        Value::Role { name, scope: Some(scope) } => format!("role:{name}@{}:{}", scope.0.noun(), scope.1),
        Value::Everyone => "everyone".into(),
        Value::Null => "null".into(),
        other => format!("{other:?}"),
    }
}

/// Whether `people` names someone who passes `filter` (stops at the first).
fn someone(env: Env<'_>, people: &Value, filter: Option<&Expr>) -> bool {
    let mut found = false;
    let stop = crate::runtime::error::RuntimeError::new(crate::diag::Code::R0502, "found");
    let _ = each_person(env, people, &mut |person: &str| {
        let passes = match filter {
            Some(filter) => env.with_person(person).holds(filter).unwrap_or(false),
            None => match people {
                // A single employee reference must exist.
                Value::Ref(RefKind::Employee, _) => env.directory.employee(person).is_some(),
                _ => true,
            },
        };
        if passes {
            found = true;
            return Err(stop.clone());
        }
        Ok(())
    });
    found
}

/// The requests for which every batch of `node` is empty, for a group of
/// creators: creator lines as evaluated, form lines by the form.
pub fn group_empty(
    model: &mut Model<'_>,
    node: &Node,
    groups: &Groups,
    empties: &[bool],
    classes: &[(VarId, u8)],
) -> Formula {
    let mut batches = Vec::new();
    for (batch_index, batch) in node.batches.iter().enumerate() {
        let mut lines = Vec::new();
        for (line_index, line) in batch.lines.iter().enumerate() {
            let off = match &line.condition {
                Some(condition) => Formula::not(model.condition(condition)),
                None => Formula::False,
            };
            let people = match groups.creator_lines.iter().position(|&at| at == (batch_index, line_index)) {
                Some(slot) => {
                    if empties.get(slot).copied().unwrap_or(false) {
                        Formula::True
                    } else {
                        Formula::False
                    }
                }
                None => people_empty(model, &line.people, 0),
            };
            lines.push(Formula::or(vec![off, people]));
        }
        batches.push(Formula::and(lines));
    }
    let mut parts = vec![Formula::and(batches)];
    for &(var, class) in classes {
        parts.push(Formula::dom(var, Dom::fin(1u128 << class)));
    }
    Formula::and(parts)
}

/// The ids of each kind of record in the directory (for counterexamples run against it).
pub fn ids_by_kind(directory: &crate::org::MemoryDirectory) -> HashMap<RefKind, Vec<String>> {
    let records = directory.records();
    let take = |ids: Vec<String>| ids.into_iter().take(8).collect::<Vec<_>>();
    let mut out = HashMap::default();
    out.insert(RefKind::Employee, take(records.employees.iter().map(|record| record.id.clone()).collect()));
    out.insert(RefKind::Department, take(records.departments.iter().map(|record| record.id.clone()).collect()));
    out.insert(RefKind::Subcompany, take(records.subcompanies.iter().map(|record| record.id.clone()).collect()));
    out.insert(RefKind::Document, take(records.documents.iter().map(|record| record.id.clone()).collect()));
    out.insert(RefKind::Project, take(records.projects.iter().map(|record| record.id.clone()).collect()));
    out.insert(RefKind::Asset, take(records.assets.iter().map(|record| record.id.clone()).collect()));
    out.insert(RefKind::Customer, take(records.customers.iter().map(|record| record.id.clone()).collect()));
    out.insert(RefKind::MeetingRoom, take(records.meeting_rooms.iter().map(|record| record.id.clone()).collect()));
    out
}
