//! Who handles a node, as formulas (language.md §7, as
//! `runtime/request/operators.rs` resolves it): a line gives nobody when its
//! `when` is false or its people come from a form field that is empty
//! (`项目.manager` with no 项目); a batch is empty when all its lines are;
//! a node gets nobody when every batch is empty. Directory facts — a role
//! with no holders, a creator without a manager — are not in these
//! formulas: without a directory they are unknown, and `--org` decides them
//! per creator.

use super::logic::Formula;
use super::model::Model;
use crate::ir::{Expr, ExprKind, Node, OperatorLine};

/// The requests for which every batch of `node` is empty, whatever the directory holds.
pub fn certainly_empty(model: &mut Model<'_>, node: &Node, whens: &[Vec<Option<Formula>>]) -> Formula {
    let mut batches = Vec::new();
    for (index, batch) in node.batches.iter().enumerate() {
        let conditions = whens.get(index).map_or(&[][..], Vec::as_slice);
        let lines: Vec<Formula> = batch
            .lines
            .iter()
            .enumerate()
            .map(|(at, line)| line_empty(model, line, conditions.get(at).and_then(Option::as_ref)))
            .collect();
        batches.push(Formula::and(lines));
    }
    if batches.is_empty() {
        return Formula::False;
    }
    Formula::and(batches)
}

/// The requests for which `line` gives nobody, whatever the directory
/// holds; `when` is its condition, translated (`Prepared::whens`).
pub fn line_empty(model: &mut Model<'_>, line: &OperatorLine, when: Option<&Formula>) -> Formula {
    let off = match when {
        Some(condition) => Formula::not(condition.clone()),
        None => Formula::False,
    };
    Formula::or(vec![off, people_empty(model, &line.people, 0)])
}

/// The requests for which `people` names nobody because a form field it
/// starts from is empty (`技术人员`, `项目.manager`, `[甲, 乙]` with both empty).
pub fn people_empty(model: &mut Model<'_>, people: &Expr, depth: usize) -> Formula {
    if depth > 32 {
        return Formula::False;
    }
    match &people.kind {
        ExprKind::Field(field) if model.table_of(*field).is_none() => model.empty(*field).unwrap_or(Formula::False),
        // `x.member` of an empty `x` is empty (`节点.operator` is another matter).
        ExprKind::Member(target, _) if !matches!(target.kind, ExprKind::Node(_)) => {
            people_empty(model, target, depth + 1)
        }
        ExprKind::List(items) => Formula::and(items.iter().map(|item| people_empty(model, item, depth + 1)).collect()),
        ExprKind::If(test, then_value, else_value) => {
            let test = model.condition(test);
            let then_empty = people_empty(model, then_value, depth + 1);
            let else_empty = people_empty(model, else_value, depth + 1);
            Formula::Cases(vec![(test.clone(), then_empty), (Formula::not(test), else_empty)])
        }
        _ => Formula::False,
    }
}
