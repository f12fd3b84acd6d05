//! Where each field's value lives in `FormData`: a main field by its index,
//! a detail column at a position in its table's rows. Computed once per
//! form so a row rule reads its cells without searching.

use crate::ir::Form;

#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// For each field: `Some((table, column))` for a detail column.
    columns: Vec<Option<(usize, usize)>>,
}

impl Layout {
    pub fn new(form: &Form) -> Layout {
        let mut columns = vec![None; form.fields.len()];
        for (table, detail) in form.details.iter().enumerate() {
            for (position, &field) in detail.columns.iter().enumerate() {
                if let Some(slot) = columns.get_mut(field) {
                    *slot = Some((table, position));
                }
            }
        }
        Layout { columns }
    }

    /// The table and column position of a detail column; `None` for a main field.
    pub fn column_of(&self, field: usize) -> Option<(usize, usize)> {
        self.columns.get(field).copied().flatten()
    }
}
