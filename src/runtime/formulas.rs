//! Recomputing a form's formulas (language.md §4): in dependency order,
//! row rules once per detail row, column rules over the stored (already
//! rounded) cells, each result rounded half away from zero as it is stored.

use super::error::RuntimeError;
use super::eval::Env;
use super::field_values::store_computed;
use super::value::{FormData, Value};

/// Recomputes every formula of `env.form` into `data`. `env.data` is
/// ignored: each formula reads `data` as it is being filled.
pub fn recompute(env: Env<'_>, data: &mut FormData) -> Result<(), RuntimeError> {
    for &index in &env.form.formula_order {
        let Some(field) = env.form.fields.get(index) else { continue };
        let Some(formula) = &field.formula else { continue };
        match env.layout.column_of(index) {
            None => {
                let value = Env { data, ..env }.eval(formula)?;
                let stored = store_computed(field, value, formula.at)?;
                if let Some(slot) = data.main.get_mut(index) {
                    *slot = stored;
                }
            }
            Some((table, column)) => {
                // The rows are taken out so each is written in place while
                // the formula reads the main fields and the row itself.
                let mut rows = match data.tables.get_mut(table) {
                    Some(rows) => std::mem::take(rows),
                    None => continue,
                };
                let result = compute_column(env, data, table, column, field, formula, &mut rows);
                if let Some(slot) = data.tables.get_mut(table) {
                    *slot = rows;
                }
                result?;
            }
        }
    }
    Ok(())
}

fn compute_column(
    env: Env<'_>,
    data: &FormData,
    table: usize,
    column: usize,
    field: &crate::ir::Field,
    formula: &crate::ir::Expr,
    rows: &mut [Vec<Value>],
) -> Result<(), RuntimeError> {
    for (row, cells) in rows.iter_mut().enumerate() {
        let row_env = Env { data, row: Some((table, row)), row_cells: Some(cells.as_slice()), ..env };
        let value = row_env.eval(formula).map_err(|error| {
            let label = format!("in row {} of `{}`", row + 1, table_name(env, table));
            error.with_label(label)
        })?;
        let stored = store_computed(field, value, formula.at)?;
        if let Some(slot) = cells.get_mut(column) {
            *slot = stored;
        }
    }
    Ok(())
}

fn table_name<'a>(env: Env<'a>, table: usize) -> &'a str {
    env.form.details.get(table).map_or("", |detail| detail.name.as_str())
}

/// A fresh form: main slots for every field, empty tables, select defaults
/// filled in.
pub fn blank(form: &crate::ir::Form) -> FormData {
    let main = form
        .fields
        .iter()
        .map(|field| match field.options.iter().find(|option| option.default) {
            Some(option) if field.detail.is_none() => Value::Text(option.key.clone()),
            _ => Value::Null,
        })
        .collect();
    FormData { main, tables: vec![Vec::new(); form.details.len()] }
}
