//! Decision regions: which requests take which exit of a node, and for
//! which requests each operator line counts, in the form's own terms —
//! `flowc routes` prints them, the language server shows them on hover.
//!
//! A region is the fixpoint's requests at the node intersected with the
//! exit's "taken" condition, projected onto the variables the node's
//! conditions read. Projection keeps the region exact on every request that
//! can reach the node: the conditions read only those variables, so a
//! reachable request takes the exit exactly when its values lie inside.

use serde::Serialize;

use super::findings::Context;
use super::logic::{dnf, Cube, Dom, Formula, Linear, VarId};
use super::model::{Class, Key};
use super::solve::{feasible, forget_where, solve, Outcome};
use crate::check::types::FieldKind;
use crate::runtime::values::dates::Date;

#[derive(Debug, Clone, Serialize)]
pub struct Routes {
    pub workflows: Vec<WorkflowRoutes>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkflowRoutes {
    pub name: String,
    pub nodes: Vec<NodeRoutes>,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeRoutes {
    pub name: String,
    pub kind: String,
    /// Whether any request can reach the node (as far as the analysis can tell).
    pub reached: bool,
    pub exits: Vec<ExitRegion>,
    /// The requests that match no exit (none, when every request is covered).
    pub stuck: Region,
    pub operators: Vec<LineRegion>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExitRegion {
    pub name: String,
    pub target: String,
    pub region: Region,
}

#[derive(Debug, Clone, Serialize)]
pub struct LineRegion {
    pub batch: u64,
    pub people: String,
    /// The requests for which the line counts (its `when` holds).
    pub region: Region,
}

/// A union of cubes, each a conjunction of constraints. `exact` is false
/// when the analysis could not decide (a region too large to expand); the
/// region then covers at least every request it should.
#[derive(Debug, Clone, Serialize)]
pub struct Region {
    pub exact: bool,
    pub cubes: Vec<Vec<Constraint>>,
}

/// One constraint, over a field (or an aggregate, or an expression the analysis does not solve).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Constraint {
    /// The value is empty (when `empty`) or in one of the ranges (inclusive; `null` is unbounded).
    Number { field: String, empty: bool, ranges: Vec<(Option<String>, Option<String>)> },
    /// The value is one of these: option keys or literals as strings, `true`/`false`, `null` for
    /// empty, `""` for an empty text, `{"other": …}` for any other value.
    OneOf { field: String, values: Vec<serde_json::Value> },
    /// `Σ coefficient × field + constant <= 0`.
    Linear { terms: Vec<(String, String)>, constant: String },
    /// The value is not empty (any option, any text, any record).
    NotEmpty { field: String },
    /// An expression the analysis does not solve holds (or not).
    Unknown { text: String, holds: bool },
}

impl Context<'_, '_> {
    /// The regions of every node of this workflow.
    pub fn routes(&mut self) -> WorkflowRoutes {
        let workflow = self.model.workflow;
        let mut nodes = Vec::new();
        for (index, node) in workflow.nodes.iter().enumerate() {
            nodes.push(self.node_routes(index, node));
        }
        WorkflowRoutes { name: workflow.name.clone(), nodes }
    }

    fn node_routes(&mut self, index: usize, node: &crate::ir::Node) -> NodeRoutes {
        let conditions = self.conditions_of(index);
        let mut read: Vec<VarId> = Vec::new();
        for condition in &conditions {
            condition.vars(&mut read);
        }
        read.sort_unstable();
        read.dedup();
        let reached = self
            .reach
            .decided
            .get(index)
            .is_some_and(|state| state.iter().any(|sym| !feasible(&sym.cube, &self.model).is_unsat()));
        let facts = self.prepared.facts_for(index, &read);
        let decided: Vec<Cube> = self
            .reach
            .decided
            .get(index)
            .map(|state| state.iter().map(|sym| sym.cube.clone()).collect())
            .unwrap_or_default();
        let mut exits = Vec::new();
        // At a fork every exit that holds is taken, whatever the others do.
        let earlier = if node.fork.is_some() { 0 } else { usize::MAX };
        for (position, exit) in node.exits.iter().enumerate() {
            let mut parts: Vec<Formula> =
                conditions.iter().take(position.min(earlier)).map(|c| Formula::not(c.clone())).collect();
            parts.extend(conditions.get(position).cloned());
            parts.push(facts.clone());
            let region = self.region(&decided, &Formula::and(parts), &read);
            let target = self.model.workflow.nodes.get(exit.target).map_or_else(String::new, |n| n.name.clone());
            exits.push(ExitRegion { name: exit.name.clone(), target, region });
        }
        let mut none: Vec<Formula> = conditions.iter().map(|c| Formula::not(c.clone())).collect();
        none.push(facts);
        let stuck = if node.exits.is_empty() {
            Region { exact: true, cubes: Vec::new() }
        } else {
            self.region(&decided, &Formula::and(none), &read)
        };
        let mut operators = Vec::new();
        let entered: Vec<Cube> = self
            .reach
            .entered
            .get(index)
            .map(|state| state.iter().map(|sym| sym.cube.clone()).collect())
            .unwrap_or_default();
        for (batch_index, batch) in node.batches.iter().enumerate() {
            for (line_index, line) in batch.lines.iter().enumerate() {
                let when = self
                    .prepared
                    .whens
                    .get(index)
                    .and_then(|batches| batches.get(batch_index))
                    .and_then(|lines| lines.get(line_index))
                    .cloned()
                    .flatten()
                    .unwrap_or(Formula::True);
                let mut vars = Vec::new();
                when.vars(&mut vars);
                let region = self.region(&entered, &when, &vars);
                operators.push(LineRegion {
                    batch: batch.number,
                    people: self.model.source_text(&line.people),
                    region,
                });
            }
        }
        let kind = match node.kind {
            crate::ir::NodeKind::Create => "create",
            crate::ir::NodeKind::Approve => "approve",
            crate::ir::NodeKind::Realize => "realize",
            crate::ir::NodeKind::Merge => "merge",
            crate::ir::NodeKind::Archive => "archive",
        };
        NodeRoutes { name: node.name.clone(), kind: kind.into(), reached, exits, stuck, operators }
    }

    pub(super) fn conditions_of(&self, node: usize) -> Vec<Formula> {
        self.prepared
            .exits
            .get(node)
            .map(|exits| exits.iter().map(|condition| condition.clone().unwrap_or(Formula::True)).collect())
            .unwrap_or_default()
    }

    /// The facts that hold when the exits of `node` are tried, as far as
    /// they bear on the variables `read` (and the blank values nobody wrote).
    pub(super) fn exit_facts(&self, node: usize, read: &[VarId]) -> Formula {
        self.prepared.facts_for(node, read)
    }

    /// The requests of `base` for which `formula` holds, projected onto `keep`.
    pub(super) fn region(&self, base: &[Cube], formula: &Formula, keep: &[VarId]) -> Region {
        let mut exact = true;
        let mut cubes: Vec<Cube> = Vec::new();
        for cube in base {
            let expanded = match dnf(formula, cube, &self.model) {
                Ok(expanded) => expanded,
                Err(_) => {
                    exact = false;
                    continue;
                }
            };
            for found in expanded {
                match solve(&found, &self.model) {
                    Outcome::Unsat => continue,
                    Outcome::Unknown => exact = false,
                    Outcome::Sat(_) => {}
                }
                let mut projected = found;
                forget_where(&mut projected, &|var| !keep.contains(&var), &self.model);
                // Domains that say nothing are left out.
                projected.doms.retain(|(var, dom)| *dom != super::logic::Sorts::sort(&self.model, *var).universe());
                if cubes.iter().any(|kept| projected.is_subset(kept, &self.model)) {
                    continue;
                }
                cubes.retain(|kept| !kept.is_subset(&projected, &self.model));
                cubes.push(projected);
            }
        }
        Region { exact, cubes: cubes.iter().map(|cube| self.constraints(cube)).collect() }
    }

    fn constraints(&self, cube: &Cube) -> Vec<Constraint> {
        let mut out = Vec::new();
        for (var, dom) in &cube.doms {
            let Some(info) = self.model.info(*var) else { continue };
            let name = self.model.describe(*var);
            match (dom, &info.key) {
                (Dom::Fin(mask), Key::Unknown(_)) => {
                    let mask = mask.bits();
                    // An unknown condition: its class 1 is "holds".
                    out.push(Constraint::Unknown { text: name, holds: mask & 0b10 != 0 });
                }
                (Dom::Fin(mask), key) => {
                    let mask = mask.bits();
                    let mut values = Vec::new();
                    for (index, class) in info.classes.iter().enumerate() {
                        if index >= 128 || mask & (1u128 << index) == 0 {
                            continue;
                        }
                        values.push(match class {
                            Class::Null => serde_json::Value::Null,
                            Class::EmptyText => serde_json::Value::String(String::new()),
                            Class::Blank => serde_json::json!({ "blank": true }),
                            Class::Lit(text) => serde_json::Value::String(text.clone()),
                            Class::Bool(flag) => serde_json::Value::Bool(*flag),
                            Class::Other => {
                                let except: Vec<&str> = info
                                    .classes
                                    .iter()
                                    .filter_map(|class| match class {
                                        Class::Lit(text) => Some(text.as_str()),
                                        _ => None,
                                    })
                                    .collect();
                                let _ = key;
                                serde_json::json!({ "other": except })
                            }
                        });
                    }
                    let non_empty = info
                        .classes
                        .iter()
                        .enumerate()
                        .filter(|(_, class)| !matches!(class, Class::Null | Class::EmptyText | Class::Blank))
                        .all(|(index, _)| index < 128 && mask & (1u128 << index) != 0);
                    let only_non_empty = info
                        .classes
                        .iter()
                        .enumerate()
                        .filter(|(index, _)| *index < 128 && mask & (1u128 << index) != 0)
                        .all(|(_, class)| !matches!(class, Class::Null | Class::EmptyText | Class::Blank));
                    let _ = key;
                    if non_empty && only_non_empty && info.classes.iter().any(|class| matches!(class, Class::Null)) {
                        out.push(Constraint::NotEmpty { field: name });
                    } else {
                        out.push(Constraint::OneOf { field: name, values });
                    }
                }
                (Dom::Num { null, set }, _) => {
                    let ranges = set
                        .pieces()
                        .map(|(low, high)| {
                            (low.map(|value| self.number(*var, value)), high.map(|value| self.number(*var, value)))
                        })
                        .collect();
                    out.push(Constraint::Number { field: name, empty: *null, ranges });
                }
            }
        }
        for linear in &cube.lins {
            out.push(self.linear(linear));
        }
        out
    }

    /// A scaled integer as the value it stands for (a date as a date).
    fn number(&self, var: VarId, value: i128) -> String {
        let Some(info) = self.model.info(var) else { return value.to_string() };
        let is_date = matches!(&info.key, Key::Field(field) if self.model.kind(*field) == Some(&FieldKind::Date))
            || info.key == Key::Today;
        if is_date {
            return i32::try_from(value).map(|day| Date(day).to_string()).unwrap_or_else(|_| value.to_string());
        }
        decimal(value, info.sort.scale())
    }

    fn linear(&self, linear: &Linear) -> Constraint {
        // Σ a·k + c <= 0 over scaled integers k = x·10^s: divide through by 10^max(s).
        let places = linear
            .terms
            .iter()
            .filter_map(|(var, _)| self.model.info(*var).map(|info| info.sort.scale()))
            .max()
            .unwrap_or(0);
        let terms = linear
            .terms
            .iter()
            .map(|(var, coefficient)| {
                let scale = self.model.info(*var).map_or(0, |info| info.sort.scale());
                // a·k = a·10^s·x, over 10^places.
                let factor = 10i128.checked_pow(scale).unwrap_or(1);
                let coefficient = coefficient.checked_mul(factor).unwrap_or(*coefficient);
                (decimal(coefficient, places), self.model.describe(*var))
            })
            .collect();
        Constraint::Linear { terms, constant: decimal(linear.constant, places) }
    }
}

fn decimal(value: i128, scale: u32) -> String {
    match rust_decimal::Decimal::try_from_i128_with_scale(value, scale) {
        Ok(decimal) if scale > 4 => decimal.normalize().to_string(),
        Ok(decimal) => decimal.to_string(),
        Err(_) => value.to_string(),
    }
}

/// `3000.01` as the strict bound `> 3000.00` reads: one step of its scale less.
fn step_below(bound: &str) -> Option<String> {
    let value: rust_decimal::Decimal = bound.parse().ok()?;
    if value.scale() == 0 {
        return None;
    }
    let step = rust_decimal::Decimal::new(1, value.scale());
    Some(value.checked_sub(step)?.to_string())
}

impl Region {
    pub fn is_empty(&self) -> bool {
        self.cubes.is_empty()
    }
}

/// A region in words: `合计 > 10000.00, or 类别 = 招待 and 3000 < 合计 <= 10000`.
pub fn describe(region: &Region) -> String {
    if region.cubes.is_empty() {
        return if region.exact { "no request".into() } else { "none found (not proved)".into() };
    }
    let cubes: Vec<String> = region
        .cubes
        .iter()
        .map(|cube| {
            if cube.is_empty() {
                "every request".to_owned()
            } else {
                cube.iter().map(describe_constraint).collect::<Vec<_>>().join(" and ")
            }
        })
        .collect();
    let text = cubes.join("; or ");
    if region.exact {
        text
    } else {
        format!("{text} (at most; not all decided)")
    }
}

fn describe_constraint(constraint: &Constraint) -> String {
    match constraint {
        Constraint::Number { field, empty, ranges } => {
            let mut parts: Vec<String> = ranges
                .iter()
                .map(|(low, high)| match (low, high) {
                    (Some(low), Some(high)) if low == high => format!("{field} = {low}"),
                    (Some(low), Some(high)) => match step_below(low) {
                        Some(below) => format!("{below} < {field} <= {high}"),
                        None => format!("{low} <= {field} <= {high}"),
                    },
                    (Some(low), None) => match step_below(low) {
                        Some(below) => format!("{field} > {below}"),
                        None => format!("{field} >= {low}"),
                    },
                    (None, Some(high)) => format!("{field} <= {high}"),
                    (None, None) => format!("{field} is not empty"),
                })
                .collect();
            if *empty {
                parts.push(format!("{field} is empty"));
            }
            if parts.len() > 1 {
                format!("({})", parts.join(" or "))
            } else {
                parts.join("")
            }
        }
        Constraint::OneOf { field, values } => {
            let shown: Vec<String> = values
                .iter()
                .map(|value| match value {
                    serde_json::Value::Null => "empty".to_owned(),
                    serde_json::Value::String(text) if text.is_empty() => "\"\"".to_owned(),
                    serde_json::Value::String(text) => text.clone(),
                    serde_json::Value::Bool(flag) => flag.to_string(),
                    serde_json::Value::Object(object) if object.contains_key("blank") => "only spaces".to_owned(),
                    serde_json::Value::Object(_) => "anything else".to_owned(),
                    other => other.to_string(),
                })
                .collect();
            match shown.as_slice() {
                [one] => format!("{field} = {one}"),
                _ => format!("{field} in [{}]", shown.join(", ")),
            }
        }
        Constraint::Linear { terms, constant } => {
            let mut text = String::new();
            for (index, (coefficient, field)) in terms.iter().enumerate() {
                let (sign, magnitude) = match coefficient.strip_prefix('-') {
                    Some(rest) => ("-", rest.to_owned()),
                    None => ("+", coefficient.clone()),
                };
                if index == 0 {
                    if sign == "-" {
                        text.push('-');
                    }
                } else {
                    text.push_str(&format!(" {sign} "));
                }
                if magnitude != "1" {
                    text.push_str(&magnitude);
                    text.push('·');
                }
                text.push_str(field);
            }
            let bound = match constant.strip_prefix('-') {
                Some(rest) => rest.to_owned(),
                None if constant == "0" => "0".to_owned(),
                None => format!("-{constant}"),
            };
            format!("{text} <= {bound}")
        }
        Constraint::NotEmpty { field } => format!("{field} is not empty"),
        Constraint::Unknown { text, holds } => {
            if *holds {
                format!("`{text}` holds")
            } else {
                format!("`{text}` does not hold")
            }
        }
    }
}
