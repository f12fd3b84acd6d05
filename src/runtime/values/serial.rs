//! Filling `serial` fields (流程编号) when a request is created: the
//! pattern's parts (parsed by the checker) with the creation date and the
//! number drawn from the workflow's counter, `BX-2026-0001`.

use crate::check::serial::SerialPart;
use crate::check::types::FieldKind;
use crate::ir::Form;
use crate::runtime::values::dates::Date;
use crate::runtime::values::value::{FormData, Value};

/// The number a pattern gives on `day` for the counter value `sequence`.
pub fn render(parts: &[SerialPart], day: Date, sequence: u64) -> String {
    let (year, month, date) = day.ymd();
    parts
        .iter()
        .map(|part| match part {
            SerialPart::Text(text) => text.clone(),
            SerialPart::Year => format!("{year:04}"),
            SerialPart::ShortYear => format!("{:02}", year.rem_euclid(100)),
            SerialPart::Month => format!("{month:02}"),
            SerialPart::Day => format!("{date:02}"),
            SerialPart::Sequence { width } => format!("{sequence:0width$}", width = *width as usize),
        })
        .collect()
}

/// Whether the form numbers its requests.
pub fn has_serial(form: &Form) -> bool {
    form.fields.iter().any(|field| field.kind == FieldKind::Serial)
}

/// Fills every serial main field of `data`.
pub fn fill(form: &Form, data: &mut FormData, day: Date, sequence: u64) {
    for (index, field) in form.fields.iter().enumerate() {
        if field.kind != FieldKind::Serial || field.detail.is_some() {
            continue;
        }
        if let Some(slot) = data.main.get_mut(index) {
            *slot = Value::Text(render(&field.serial, day, sequence));
        }
    }
}
