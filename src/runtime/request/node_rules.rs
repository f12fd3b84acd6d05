//! Rules written inside one node (issue 10): `required … when …`, fields
//! required only when a condition holds at submit, and the node's own
//! `validate` rules, checked after the form's at this node's submits only.
//! Also what "empty" means for a required field, shared with `required`.

use crate::check::types::FieldKind;
use crate::diag::Code;
use crate::ir::{Field, Node, Validate, Workflow};
use crate::runtime::error::RuntimeError;
use crate::runtime::request::{Request, Runtime};
use crate::runtime::values::dates::DateTime;
use crate::runtime::values::eval::Env;
use crate::runtime::values::value::Value;

/// Whether a required field counts as not filled in: empty (for a detail
/// column, empty in some row). A `check` always has a value (`false` when
/// nobody ticked it), so a required check must be ticked: "I confirm…".
pub(super) fn field_missing(env: &Env<'_>, request: &Request, field_index: usize) -> bool {
    let is_check = env.form.fields.get(field_index).is_some_and(|field| field.kind == FieldKind::Check);
    let missing = |value: Option<&Value>| match value {
        Some(Value::Bool(ticked)) if is_check => !ticked,
        Some(value) => value.is_empty(),
        None => true,
    };
    match env.layout.column_of(field_index) {
        None => missing(request.form.main.get(field_index)),
        Some((table, column)) => {
            let rows = request.form.tables.get(table).map(Vec::as_slice).unwrap_or_default();
            rows.iter().any(|row| missing(row.get(column)))
        }
    }
}

/// How a missing required field is described: a check "is not ticked", anything else "is empty".
pub(super) fn missing_words(field: &Field) -> &'static str {
    if field.kind == FieldKind::Check {
        "is not ticked"
    } else {
        "is empty"
    }
}

impl<'a> Runtime<'a> {
    /// `required … when …` of the node: each rule whose condition holds.
    pub(super) fn check_required_when(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &Request,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        if node.required_when.is_empty() {
            return Ok(());
        }
        let env = self.env(workflow, request, now)?;
        for rule in &node.required_when {
            if !env.holds(&rule.condition)? {
                continue;
            }
            let condition = self.compiled.source_text(rule.condition.at);
            let values = self.values_read(workflow, &rule.condition, request, now, None);
            let values = values
                .iter()
                .map(|(name, value)| match value {
                    serde_json::Value::String(text) => format!("{name} = {text}"),
                    other => format!("{name} = {other}"),
                })
                .collect::<Vec<_>>();
            let because = if values.is_empty() {
                format!("`{condition}` holds")
            } else {
                format!("`{condition}` holds ({})", values.join(", "))
            };
            for &field_index in &rule.fields {
                let Some(field) = env.form.fields.get(field_index) else { continue };
                if field_missing(&env, request, field_index) {
                    return Err(RuntimeError::at(
                        Code::R0302,
                        format!(
                            "`{}` ({}) is required at `{}` when {because}, and {}",
                            field.name,
                            field.label,
                            node.name,
                            missing_words(field)
                        ),
                        rule.at,
                    )
                    .with_label("required here")
                    .with_note(field.at, "the field")
                    .with_help(format!("give `{}` a value with `set` in the same action", field.name)));
                }
            }
            for &table in &rule.tables {
                if request.form.tables.get(table).is_none_or(Vec::is_empty) {
                    let detail = env.form.details.get(table).map_or("", |detail| detail.name.as_str());
                    return Err(RuntimeError::at(
                        Code::R0302,
                        format!("the table `{detail}` is required at `{}` when {because}, and has no rows", node.name),
                        rule.at,
                    )
                    .with_label("required here"));
                }
            }
        }
        Ok(())
    }

    /// The node's own `validate` rules.
    pub(super) fn check_node_validates(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &Request,
        now: DateTime,
    ) -> Result<(), RuntimeError> {
        if node.validates.is_empty() {
            return Ok(());
        }
        let env = self.env(workflow, request, now)?;
        for validate in &node.validates {
            if !env.holds(&validate.condition)? {
                return Err(self.validate_error(workflow, validate, request, now, None));
            }
        }
        Ok(())
    }

    /// R0303 for a rule that does not hold, with the values it read.
    pub(super) fn validate_error(
        &self,
        workflow: &'a Workflow,
        validate: &Validate,
        request: &Request,
        now: DateTime,
        row: Option<(usize, usize)>,
    ) -> RuntimeError {
        let values = self.values_read(workflow, &validate.condition, request, now, row);
        let values = values.iter().map(|(name, value)| format!("{name} = {value}")).collect::<Vec<_>>();
        let place = row.map(|(_, row)| format!(" in row {}", row + 1)).unwrap_or_default();
        RuntimeError::at(Code::R0303, validate.message.clone(), validate.condition.at).with_label(
            if values.is_empty() {
                format!("does not hold{place}")
            } else {
                format!("does not hold{place}: {}", values.join(", "))
            },
        )
    }
}
