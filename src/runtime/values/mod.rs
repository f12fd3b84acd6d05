//! How a value is held, computed and stored: `value` (values and form data),
//! `money` and `dates` (the arithmetic underneath), `layout` (where a field
//! lives in the form data), `entered` (JSON as a person wrote it, numbers
//! exact), `field_values` (the three doors: computed, entered, shown as
//! JSON), `eval` (expressions) and `formulas` (recomputation in dependency
//! order); `id_kinds` says what an id names when it is not the kind
//! expected, `text_format` writes values as text (`text`, `format_date`,
//! `weekday`), `serial` numbers new requests.

pub mod dates;
pub mod entered;
pub mod eval;
pub mod field_values;
pub mod formulas;
pub mod id_kinds;
pub mod layout;
pub mod money;
pub mod serial;
pub mod text_format;
pub mod value;
