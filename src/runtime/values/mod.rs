//! How a value is held, computed and stored: `value` (values and form data),
//! `money` and `dates` (the arithmetic underneath), `layout` (where a field
//! lives in the form data), `entered` (JSON as a person wrote it, numbers
//! exact), `field_values` (the three doors: computed, entered, shown as
//! JSON), `eval` (expressions) and `formulas` (recomputation in dependency
//! order).

pub mod dates;
pub mod entered;
pub mod eval;
pub mod field_values;
pub mod formulas;
pub mod layout;
pub mod money;
pub mod value;
