//! Recomputing a form's formulas (language.md §4): in dependency order,
//! row rules once per detail row, column rules over the stored (already
//! rounded) cells, each result rounded half away from zero as it is stored.

use rust_decimal::Decimal;

use crate::check::types::FieldKind;
use crate::ir::ExprKind;
use crate::runtime::error::RuntimeError;
use crate::runtime::values::eval::Env;
use crate::runtime::values::field_values::{scale_of, store_computed};
use crate::runtime::values::money::round_half_away;
use crate::runtime::values::value::{FormData, Value};
use crate::syntax::ast::BinaryOp;

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
    let fast = scale_of(&field.kind).and_then(|scale| Some((Arithmetic::compile(env, table, formula)?, scale)));
    for (row, cells) in rows.iter_mut().enumerate() {
        // Arithmetic over filled cells and main fields needs no values built.
        if let Some((arithmetic, scale)) = &fast {
            if let Some(number) = arithmetic.eval(cells, &data.main) {
                if let Some(slot) = cells.get_mut(column) {
                    *slot = Value::Number(round_half_away(number, *scale));
                }
                continue;
            }
        }
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

/// A row rule that is plain arithmetic (`数量 * 单价`, `金额 - 折扣 + 1`),
/// compiled to cell positions. Evaluating it gives `None` when a cell is
/// empty or not a number, or on division by zero or overflow: the general
/// evaluator then takes the row and applies the language's rules (and
/// reports the error with its span).
enum Arithmetic {
    Constant(Decimal),
    Cell(usize),
    Main(usize),
    Binary(BinaryOp, Box<Arithmetic>, Box<Arithmetic>),
}

impl Arithmetic {
    fn compile(env: Env<'_>, table: usize, expr: &crate::ir::Expr) -> Option<Arithmetic> {
        Some(match &expr.kind {
            ExprKind::Int(value) | ExprKind::Decimal(value) => Arithmetic::Constant(*value),
            ExprKind::Field(field) => match env.layout.column_of(*field) {
                Some((cell_table, position)) if cell_table == table => Arithmetic::Cell(position),
                Some(_) => return None,
                None => Arithmetic::Main(*field),
            },
            ExprKind::Binary(op @ (BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div), left, right) => {
                Arithmetic::Binary(
                    *op,
                    Box::new(Arithmetic::compile(env, table, left)?),
                    Box::new(Arithmetic::compile(env, table, right)?),
                )
            }
            _ => return None,
        })
    }

    fn eval(&self, cells: &[Value], main: &[Value]) -> Option<Decimal> {
        let number = |value: Option<&Value>| match value {
            Some(Value::Number(number)) => Some(*number),
            _ => None,
        };
        match self {
            Arithmetic::Constant(value) => Some(*value),
            Arithmetic::Cell(position) => number(cells.get(*position)),
            Arithmetic::Main(field) => number(main.get(*field)),
            Arithmetic::Binary(op, left, right) => {
                let (left, right) = (left.eval(cells, main)?, right.eval(cells, main)?);
                match op {
                    BinaryOp::Add => left.checked_add(right),
                    BinaryOp::Sub => left.checked_sub(right),
                    BinaryOp::Mul => left.checked_mul(right),
                    BinaryOp::Div => left.checked_div(right),
                    _ => None,
                }
            }
        }
    }
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
            Some(_) if field.detail.is_none() && field.kind == FieldKind::SelectMultiple => Value::List(
                field
                    .options
                    .iter()
                    .filter(|option| option.default)
                    .map(|option| Value::Text(option.key.clone()))
                    .collect(),
            ),
            Some(option) if field.detail.is_none() => Value::Text(option.key.clone()),
            _ => crate::runtime::values::field_values::empty_of(&field.kind),
        })
        .collect();
    FormData { main, tables: vec![Vec::new(); form.details.len()] }
}
