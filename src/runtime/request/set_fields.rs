//! `set` and a new request's form: which fields the current node lets a
//! person write (`editable`, `required`, whole tables or single columns),
//! and reading the values through `field_values`.

use crate::diag::Code;
use crate::ir::{Node, Workflow};
use crate::runtime::error::RuntimeError;
use crate::runtime::request::{internal, FormInput, Request, Runtime};
use crate::runtime::values::field_values::{read_form_text, Door, FormName};

/// `set` may write a field only where the node lists it (`editable`, `required`); a table
/// when it or one of its columns is listed. Computed fields are refused by the reader.
fn check_editable(form: &crate::ir::Form, node: &Node, written: FormName) -> Result<(), RuntimeError> {
    let (name, editable, field) = match written {
        FormName::Table(table) => {
            let Some(detail) = form.details.get(table) else { return Ok(()) };
            let editable = node.editable_tables.contains(&table)
                || detail.columns.iter().any(|column| node.editable.contains(column));
            (detail.name.as_str(), editable, None)
        }
        FormName::Field(index) => {
            let field = form.fields.get(index);
            // Computed fields are refused by the reader, with their own message.
            if field.is_some_and(|field| field.formula.is_some()) {
                return Ok(());
            }
            (field.map_or("", |field| field.name.as_str()), node.editable.contains(&index), field)
        }
    };
    if editable {
        return Ok(());
    }
    let message = format!("`{name}` is not editable at `{}`", node.name);
    let error = match field {
        Some(field) => RuntimeError::at(Code::R0301, message, node.at).with_note(field.at, "the field"),
        None => RuntimeError::at(Code::R0301, message, node.at),
    };
    Err(error.with_label("the node where it was set").with_help(format!(
        "list `{name}` in the node's `editable` or `required`, or set it at a node where it is editable"
    )))
}

impl<'a> Runtime<'a> {
    /// `set` and the request's form: only fields editable at `node`.
    /// The fields a parent request's `start` maps into a request it starts: written as the
    /// system writes them, whatever the create node lets its creator edit.
    pub(super) fn write_started(
        &self,
        workflow: &'a Workflow,
        request: &mut Request,
        values: &FormInput,
        entered: &mut Vec<FormName>,
    ) -> Result<(), RuntimeError> {
        let form = self.compiled.program.forms.get(workflow.form).ok_or_else(|| internal("unknown form"))?;
        let layout = self.compiled.layouts.get(workflow.form).ok_or_else(|| internal("unknown layout"))?;
        let text = match values {
            FormInput::Text(text) => text.clone(),
            FormInput::Fields(fields) => serde_json::Value::Object(fields.clone()).to_string(),
        };
        read_form_text(
            form,
            layout,
            &text,
            self.directory,
            Door::Entered { merge_tables: &[] },
            &mut request.form,
            |name| {
                entered.push(name);
                Ok(())
            },
        )
    }

    pub(super) fn write_fields(
        &self,
        workflow: &'a Workflow,
        node: &'a Node,
        request: &mut Request,
        values: &FormInput,
        entered: &mut Vec<FormName>,
    ) -> Result<(), RuntimeError> {
        let form = self.compiled.program.forms.get(workflow.form).ok_or_else(|| internal("unknown form"))?;
        let layout = self.compiled.layouts.get(workflow.form).ok_or_else(|| internal("unknown layout"))?;
        // Values a host built are read as the text they make, so both kinds follow one path.
        let built;
        let text = match values {
            FormInput::Text(text) => text.as_str(),
            FormInput::Fields(fields) => {
                built = serde_json::to_string(fields).map_err(|error| {
                    RuntimeError::new(Code::R0502, format!("the form is not a JSON object of fields: {error}"))
                })?;
                built.as_str()
            }
        };
        // A table whose only some columns are editable keeps the others as they were.
        let previous = request.form.clone();
        let partial: Vec<usize> =
            (0..form.details.len()).filter(|table| !node.editable_tables.contains(table)).collect();
        let door = Door::Entered { merge_tables: &partial };
        read_form_text(form, layout, text, self.directory, door, &mut request.form, |name| {
            check_editable(form, node, name)?;
            entered.push(name);
            Ok(())
        })?;
        for (table, detail) in form.details.iter().enumerate() {
            if !entered.contains(&FormName::Table(table)) || node.editable_tables.contains(&table) {
                continue;
            }
            let (Some(old_rows), Some(new_rows)) = (previous.tables.get(table), request.form.tables.get(table)) else {
                continue;
            };
            if old_rows.len() != new_rows.len() {
                return Err(RuntimeError::at(
                    Code::R0301,
                    format!("rows of `{}` cannot be added or removed at `{}`", detail.name, node.name),
                    node.at,
                )
                .with_help(format!("list the table `{}` itself in `editable` to allow it", detail.name)));
            }
            for (old_row, new_row) in old_rows.iter().zip(new_rows) {
                for (position, &column) in detail.columns.iter().enumerate() {
                    let field = form.fields.get(column);
                    let computed = field.is_some_and(|field| field.formula.is_some());
                    if computed || node.editable.contains(&column) || old_row.get(position) == new_row.get(position) {
                        continue;
                    }
                    let name = field.map_or("", |field| field.name.as_str());
                    return Err(RuntimeError::at(
                        Code::R0301,
                        format!("`{}.{name}` is not editable at `{}`", detail.name, node.name),
                        node.at,
                    ));
                }
            }
        }
        Ok(())
    }
}
