//! Values in and out of fields. Three doors, three rules (language.md §4,
//! runtime.md §3):
//! - a value a **formula or action** stores is rounded half away from zero
//!   to the field's scale and must fit (`text(N)`, integers, and the scale
//!   itself: a number that would need more than a decimal's 28 significant
//!   digits to keep it is refused, R0102, never stored with fewer decimals);
//! - a value a **person enters** (request JSON, `set`) must already fit:
//!   numbers are read from their text, exactly (`entered`); more decimals
//!   than the scale, a number too large for the scale, an unknown option,
//!   an unknown id are refused, never silently changed;
//! - values **leave** as JSON: decimals as strings with the field's scale,
//!   `money_upper` in Chinese capitals, references as ids.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value as Json;

use crate::check::types::FieldKind;
use crate::diag::Code;
use crate::ir::{Field, Form, Loc};
use crate::org::Directory;
use crate::runtime::error::RuntimeError;
use crate::runtime::values::dates::{Date, DateTime, Time};
use crate::runtime::values::entered::{self, bare_message, Entered, Members, Written};
use crate::runtime::values::id_kinds::unknown_id_message;
use crate::runtime::values::layout::Layout;
use crate::runtime::values::money;
use crate::runtime::values::value::{FormData, RefKind, Value};

/// The decimal places a numeric field keeps.
pub fn scale_of(kind: &FieldKind) -> Option<u32> {
    match kind {
        FieldKind::Int => Some(0),
        FieldKind::Float(places) => Some(*places),
        FieldKind::Money | FieldKind::MoneyUpper => Some(2),
        _ => None,
    }
}

fn ref_kind(kind: &FieldKind) -> Option<(RefKind, bool)> {
    Some(match kind {
        FieldKind::Employee => (RefKind::Employee, false),
        FieldKind::Employees => (RefKind::Employee, true),
        FieldKind::Department => (RefKind::Department, false),
        FieldKind::Departments => (RefKind::Department, true),
        FieldKind::Subcompany => (RefKind::Subcompany, false),
        FieldKind::Document => (RefKind::Document, false),
        FieldKind::Project => (RefKind::Project, false),
        FieldKind::Asset => (RefKind::Asset, false),
        FieldKind::Customer => (RefKind::Customer, false),
        FieldKind::MeetingRoom => (RefKind::MeetingRoom, false),
        _ => return None,
    })
}

/// The value of a field nobody filled: `false` for a check (it has no third
/// state), `null` for everything else.
pub fn empty_of(kind: &FieldKind) -> Value {
    match kind {
        FieldKind::Check => Value::Bool(false),
        _ => Value::Null,
    }
}

/// Stores a computed value (a formula, an assignment in an action block):
/// numbers round half away from zero to the field's scale.
pub fn store_computed(field: &Field, value: Value, at: Loc) -> Result<Value, RuntimeError> {
    let mismatch = |value: &Value| {
        RuntimeError::at(
            Code::R0304,
            format!("`{}` ({}) cannot hold {} (`{value}`)", field.name, field.kind, value.kind_name()),
            at,
        )
    };
    if value.is_null() {
        return Ok(empty_of(&field.kind));
    }
    if let Some(scale) = scale_of(&field.kind) {
        let number = match value {
            Value::Number(number) => money::round_half_away(number, scale),
            other => return Err(mismatch(&other)),
        };
        if !entered::fits_scale(number, scale) {
            let message = entered::too_large(&format!("`{number}`"), entered::whole_digits(number), scale);
            return Err(RuntimeError::at(Code::R0102, format!("`{}`: {message}", field.name), at)
                .with_label("this value is too large for the field"));
        }
        if field.kind == FieldKind::MoneyUpper {
            if let Err(error) = money::rmb_upper(number) {
                return Err(RuntimeError::at(Code::R0102, format!("`{}`: {error}", field.name), at)
                    .with_label("this amount cannot be written in Chinese capitals"));
            }
        }
        return Ok(Value::Number(number));
    }
    match (&field.kind, value) {
        (FieldKind::Text(limit), value) => {
            let text = match value {
                Value::Text(text) => text,
                other => other.to_string(),
            };
            check_length(field, &text, *limit).map_err(|message| RuntimeError::at(Code::R0103, message, at))?;
            Ok(Value::Text(text))
        }
        (FieldKind::Textarea, value) => Ok(Value::Text(match value {
            Value::Text(text) => text,
            other => other.to_string(),
        })),
        (FieldKind::Check, Value::Bool(flag)) => Ok(Value::Bool(flag)),
        (FieldKind::Select, Value::Text(text)) => match option_key(field, &text) {
            Some(key) => Ok(Value::Text(key)),
            None => Err(RuntimeError::at(
                Code::R0304,
                format!("`{text}` is not an option of `{}` ({})", field.name, option_list(field)),
                at,
            )),
        },
        (FieldKind::SelectMultiple, value) => {
            let items = match value {
                Value::List(items) => items,
                single => vec![single],
            };
            let mut keys: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                let key = match &item {
                    Value::Text(text) => option_key(field, text),
                    Value::Null => continue,
                    _ => None,
                };
                let Some(key) = key else {
                    return Err(RuntimeError::at(
                        Code::R0304,
                        format!("`{item}` is not an option of `{}` ({})", field.name, option_list(field)),
                        at,
                    ));
                };
                if !keys.iter().any(|known| matches!(known, Value::Text(k) if *k == key)) {
                    keys.push(Value::Text(key));
                }
            }
            Ok(Value::List(keys))
        }
        (FieldKind::Date, Value::Date(date)) => Ok(Value::Date(date)),
        (FieldKind::Date, Value::DateTime(instant)) => Ok(Value::Date(instant.date)),
        (FieldKind::Time, Value::Time(time)) => Ok(Value::Time(time)),
        (FieldKind::DateTime, Value::DateTime(instant)) => Ok(Value::DateTime(instant)),
        (FieldKind::Attachment, Value::Text(text)) => Ok(Value::List(vec![Value::Text(text)])),
        (FieldKind::Attachment, Value::List(items)) => Ok(Value::List(items)),
        (FieldKind::Role, Value::Role { name, .. }) => Ok(Value::Text(name)),
        (FieldKind::Role, Value::Text(name)) => Ok(Value::Text(name)),
        (kind, value) => match ref_kind(kind) {
            Some((wanted, many)) => {
                let mut ids = Vec::new();
                collect_refs(&value, wanted, &mut ids).map_err(|()| mismatch(&value))?;
                match (many, ids.len()) {
                    (true, _) => Ok(Value::List(ids.into_iter().map(|id| Value::Ref(wanted, id)).collect())),
                    (false, 0) => Ok(Value::Null),
                    (false, 1) => Ok(ids.pop().map_or(Value::Null, |id| Value::Ref(wanted, id))),
                    (false, _) => Err(mismatch(&value)),
                }
            }
            None => Err(mismatch(&value)),
        },
    }
}

fn collect_refs(value: &Value, wanted: RefKind, out: &mut Vec<String>) -> Result<(), ()> {
    match value {
        Value::Null => Ok(()),
        Value::Ref(kind, id) if *kind == wanted => {
            if !out.contains(id) {
                out.push(id.clone());
            }
            Ok(())
        }
        Value::Text(id) => {
            out.push(id.clone());
            Ok(())
        }
        Value::List(items) => items.iter().try_for_each(|item| collect_refs(item, wanted, out)),
        _ => Err(()),
    }
}

fn check_length(field: &Field, text: &str, limit: Option<u32>) -> Result<(), String> {
    match limit {
        Some(limit) if text.chars().count() > limit as usize => {
            Err(format!("`{}` holds at most {limit} characters; this value has {}", field.name, text.chars().count()))
        }
        _ => Ok(()),
    }
}

/// The option key a text names, by key or by label.
pub fn option_key(field: &Field, text: &str) -> Option<String> {
    field
        .options
        .iter()
        .find(|option| option.key == text)
        .or_else(|| field.options.iter().find(|option| option.label == text))
        .map(|option| option.key.clone())
}

fn option_list(field: &Field) -> String {
    field.options.iter().map(|option| format!("`{}`", option.key)).collect::<Vec<_>>().join(", ")
}

/// A value a person entered, from JSON (runtime.md §3): numbers as JSON
/// numbers or strings, read exactly, select values as keys or labels,
/// references as ids that must exist. Returns the code and message of a refusal.
pub fn parse_entered(field: &Field, json: &Entered, directory: &dyn Directory) -> Result<Value, (Code, String)> {
    let name = &field.name;
    let bad = |what: String| (Code::R0304, format!("`{name}` ({}): {what}", field.kind));
    if json.is_null() {
        return Ok(empty_of(&field.kind));
    }
    if let Some(scale) = scale_of(&field.kind) {
        let written = match json {
            Entered::Number(text) => Written::parse(text, true),
            Entered::Text(text) => Written::parse(&text.trim().replace(',', ""), false),
            _ => None,
        };
        let Some(written) = written else { return Err(bad(format!("`{json}` is not a number"))) };
        if written.decimals() > u64::from(scale) {
            let unit = if scale == 0 { "a whole number".to_owned() } else { format!("at most {scale} decimal places") };
            return Err(bad(format!("`{json}` has more decimals than the field keeps ({unit})")));
        }
        let number = written.to_decimal().filter(|&number| entered::fits_scale(number, scale));
        let Some(number) = number else {
            let message = entered::too_large(&format!("`{json}`"), written.whole_digits(), scale);
            return Err((Code::R0102, format!("`{name}` ({}): {message}", field.kind)));
        };
        if matches!(field.kind, FieldKind::MoneyUpper) && money::rmb_upper(number).is_err() {
            return Err((Code::R0102, format!("`{name}`: {number} is too large to write in Chinese capitals")));
        }
        return Ok(Value::Number(number));
    }
    let text = || match json {
        Entered::Text(text) => Ok(text.to_string()),
        other => Err(bad(format!("expected text, found `{other}`"))),
    };
    match &field.kind {
        FieldKind::Text(limit) => {
            let text = text()?;
            check_length(field, &text, *limit).map_err(|message| (Code::R0103, message))?;
            Ok(Value::Text(text))
        }
        FieldKind::Textarea => Ok(Value::Text(text()?)),
        FieldKind::Check => match json {
            Entered::Bool(flag) => Ok(Value::Bool(*flag)),
            other => Err(bad(format!("expected true or false, found `{other}`"))),
        },
        FieldKind::Select => {
            let text = text()?;
            option_key(field, &text)
                .map(Value::Text)
                .ok_or_else(|| bad(format!("`{text}` is not one of the options {}", option_list(field))))
        }
        FieldKind::SelectMultiple => {
            let Entered::List(items) = json else {
                return Err(bad(format!("expected a list of options, found `{json}`")));
            };
            let mut keys: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                let Entered::Text(text) = item else { return Err(bad(format!("an option is text, found `{item}`"))) };
                let key = option_key(field, text)
                    .ok_or_else(|| bad(format!("`{text}` is not one of the options {}", option_list(field))))?;
                if !keys.iter().any(|known| matches!(known, Value::Text(k) if *k == key)) {
                    keys.push(Value::Text(key));
                }
            }
            Ok(Value::List(keys))
        }
        FieldKind::Date => {
            let text = text()?;
            Date::parse(&text)
                .map(Value::Date)
                .ok_or_else(|| bad(format!("`{text}` is not a date (write dates as 2026-11-28)")))
        }
        FieldKind::Time => {
            let text = text()?;
            Time::parse(&text)
                .map(Value::Time)
                .ok_or_else(|| bad(format!("`{text}` is not a time (write times as 09:30)")))
        }
        FieldKind::DateTime => {
            let text = text()?;
            DateTime::parse(&text)
                .map(Value::DateTime)
                .ok_or_else(|| bad(format!("`{text}` is not a datetime (write 2026-11-28T09:30:00+08:00)")))
        }
        FieldKind::Attachment => match json {
            Entered::Text(file) => Ok(Value::List(vec![Value::Text(file.to_string())])),
            Entered::List(files) => files
                .iter()
                .map(|file| match file {
                    Entered::Text(file) => Ok(Value::Text(file.to_string())),
                    other => Err(bad(format!("an attachment is a file name, found `{other}`"))),
                })
                .collect::<Result<_, _>>()
                .map(Value::List),
            other => Err(bad(format!("expected file names, found `{other}`"))),
        },
        FieldKind::Role => Ok(Value::Text(text()?)),
        // Only a saved state gives one back: nobody may edit a serial (the checker says so).
        FieldKind::Serial => Ok(Value::Text(text()?)),
        FieldKind::Link | FieldKind::Note => Err(bad("display-only fields hold no value".into())),
        kind => {
            let Some((wanted, many)) = ref_kind(kind) else { return Err(bad("unsupported field".into())) };
            let ids: Vec<&Entered> = match (json, many) {
                (Entered::List(items), true) => items.iter().collect(),
                (Entered::Text(_), _) => vec![json],
                (other, _) => return Err(bad(format!("expected {} id, found `{other}`", wanted.noun()))),
            };
            let mut refs = Vec::new();
            for id in ids {
                let Entered::Text(id) = id else { return Err(bad(format!("expected an id, found `{id}`"))) };
                if !exists(directory, wanted, id) {
                    return Err((Code::R0305, format!("`{name}`: {}", unknown_id_message(directory, wanted, id))));
                }
                refs.push(Value::Ref(wanted, id.to_string()));
            }
            Ok(if many { Value::List(refs) } else { refs.pop().unwrap_or(Value::Null) })
        }
    }
}

pub fn exists(directory: &dyn Directory, kind: RefKind, id: &str) -> bool {
    match kind {
        RefKind::Employee => directory.employee(id).is_some(),
        RefKind::Department => directory.department(id).is_some(),
        RefKind::Subcompany => directory.subcompany(id).is_some(),
        RefKind::Document => directory.document(id).is_some(),
        RefKind::Project => directory.project(id).is_some(),
        RefKind::Asset => directory.asset(id).is_some(),
        RefKind::Customer => directory.customer(id).is_some(),
        RefKind::MeetingRoom => directory.meeting_room(id).is_some(),
    }
}

/// A stored value as JSON (runtime.md §3).
pub fn to_json(field: &Field, value: &Value) -> Json {
    match (value, scale_of(&field.kind)) {
        (Value::Null, _) if field.kind == FieldKind::Check => Json::Bool(false),
        (Value::Null, _) => Json::Null,
        (Value::Number(number), Some(_)) if field.kind == FieldKind::MoneyUpper => {
            Json::String(money::rmb_upper(*number).unwrap_or_else(|_| number.to_string()))
        }
        (Value::Number(number), Some(0)) if field.kind == FieldKind::Int => match i64::try_from(*number) {
            Ok(integer) => Json::from(integer),
            Err(_) => Json::String(number.to_string()),
        },
        (Value::Number(number), Some(scale)) => {
            let mut shown = *number;
            shown.rescale(scale);
            Json::String(shown.to_string())
        }
        (Value::Bool(flag), _) => Json::Bool(*flag),
        (Value::List(items), _) => Json::Array(items.iter().map(|item| to_json(field, item)).collect()),
        (Value::Number(number), None) => Json::String(number.normalize().to_string()),
        (other, _) => Json::String(other.to_string()),
    }
}

/// A JSON object that keeps its keys in the order given (fields in written
/// order, not sorted).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ordered(pub Vec<(String, OrderedValue)>);

#[derive(Debug, Clone, PartialEq)]
pub enum OrderedValue {
    Json(Json),
    Rows(Vec<Ordered>),
}

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            match value {
                OrderedValue::Json(json) => map.serialize_entry(key, json)?,
                OrderedValue::Rows(rows) => map.serialize_entry(key, rows)?,
            }
        }
        map.end()
    }
}

/// The whole form as JSON: main fields and tables in written order; display-only fields left out.
pub fn form_to_json(form: &Form, layout: &Layout, data: &FormData) -> Ordered {
    let mut out = Vec::new();
    let mut tables_done = vec![false; form.details.len()];
    for (index, field) in form.fields.iter().enumerate() {
        if matches!(field.kind, FieldKind::Link | FieldKind::Note) {
            continue;
        }
        match field.detail {
            None => {
                let value = data.main.get(index).unwrap_or(&Value::Null);
                out.push((field.name.clone(), OrderedValue::Json(to_json(field, value))));
            }
            Some(table) => {
                if tables_done.get(table).copied().unwrap_or(true) {
                    continue;
                }
                if let Some(done) = tables_done.get_mut(table) {
                    *done = true;
                }
                let Some(detail) = form.details.get(table) else { continue };
                let rows = data.tables.get(table).map(Vec::as_slice).unwrap_or_default();
                let rows = rows
                    .iter()
                    .map(|cells| {
                        Ordered(
                            detail
                                .columns
                                .iter()
                                .filter_map(|&column| {
                                    let field = form.fields.get(column)?;
                                    let (_, position) = layout.column_of(column)?;
                                    let value = cells.get(position).unwrap_or(&Value::Null);
                                    Some((field.name.clone(), OrderedValue::Json(to_json(field, value))))
                                })
                                .collect(),
                        )
                    })
                    .collect();
                out.push((detail.name.clone(), OrderedValue::Rows(rows)));
            }
        }
    }
    Ordered(out)
}

/// Who may write a field from outside (the request, `set`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door<'m> {
    /// A person: computed and display-only fields are refused. In the
    /// tables listed (only some columns editable) a row given updates the
    /// row at its position instead of replacing it.
    Entered { merge_tables: &'m [usize] },
    /// A saved state: every stored value is taken back as it was.
    Stored,
}

/// Reads a form object from its JSON text (`{"类别": "差旅", "明细": [{…}]}`) into `data`,
/// field by field, without building the whole JSON tree first: a detail table's rows are
/// converted one by one as they are parsed, so a request of a million rows costs the rows, not a
/// million JSON maps. Values are read exactly ([`Entered`]). `admit` sees each name before its
/// value is read and may refuse it (a field not editable here). An unknown name is refused with a
/// did-you-mean; a name given twice, in the form or in a row, with R0502.
pub fn read_form_text(
    form: &Form,
    layout: &Layout,
    text: &str,
    directory: &dyn Directory,
    door: Door<'_>,
    data: &mut FormData,
    mut admit: impl FnMut(FormName) -> Result<(), RuntimeError>,
) -> Result<(), RuntimeError> {
    use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

    struct Streaming<'r, 'f, Admit> {
        reader: &'r FormReader<'f>,
        data: &'r mut FormData,
        admit: &'r mut Admit,
        failure: &'r mut Option<RuntimeError>,
        /// The name whose value is being parsed, to name it when the parser cannot read it.
        reading: &'r mut Option<String>,
    }

    impl<'de, Admit: FnMut(FormName) -> Result<(), RuntimeError>> Visitor<'de> for Streaming<'_, '_, Admit> {
        type Value = ();
        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("an object of field values")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let reader = self.reader;
            let failure = self.failure;
            let mut fail = |error: RuntimeError| {
                *failure = Some(error);
                A::Error::custom("refused")
            };
            let mut given = std::collections::HashSet::new();
            while let Some(name) = map.next_key::<String>()? {
                let written = find_field(reader.form, &name).map_err(&mut fail)?;
                if !given.insert(written) {
                    return Err(fail(given_twice(&name, None)));
                }
                (self.admit)(written).map_err(&mut fail)?;
                *self.reading = Some(name.clone());
                match written {
                    FormName::Table(table) => {
                        let seed = Rows { reader, table, name: &name, data: self.data, failure: None };
                        let rows = map.next_value_seed(seed)?.map_err(&mut fail)?;
                        if let Some(slot) = self.data.tables.get_mut(table) {
                            *slot = rows;
                        }
                    }
                    FormName::Field(index) => {
                        let value: Entered = map.next_value()?;
                        reader.main_field(index, &name, &value, self.data).map_err(&mut fail)?;
                    }
                }
                *self.reading = None;
            }
            Ok(())
        }
    }

    /// A table's rows, read one at a time. The outer result is the parser's; the inner one ours.
    struct Rows<'r, 'f> {
        reader: &'r FormReader<'f>,
        table: usize,
        name: &'r str,
        data: &'r FormData,
        failure: Option<RuntimeError>,
    }

    impl<'de> DeserializeSeed<'de> for Rows<'_, '_> {
        type Value = Result<Vec<Vec<Value>>, RuntimeError>;
        fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for Rows<'_, '_> {
        type Value = Result<Vec<Vec<Value>>, RuntimeError>;
        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("a list of rows")
        }
        fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut rows = Vec::with_capacity(seq.size_hint().unwrap_or(0));
            while let Some(row) = seq.next_element_seed(Members::top())? {
                if self.failure.is_some() {
                    continue;
                }
                let result = match &row {
                    Entered::Object(cells) => self.reader.row(self.table, rows.len(), cells, self.data),
                    other => Err(not_a_row(self.name, rows.len(), other)),
                };
                match result {
                    Ok(row) => rows.push(row),
                    Err(error) => self.failure = Some(error),
                }
            }
            Ok(match self.failure {
                Some(error) => Err(error),
                None => Ok(rows),
            })
        }
        // Anything but a list is refused, and shown as it was written.
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
            Ok(Err(not_rows(self.name, &Entered::Object(Vec::new()))))
        }
        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
            Ok(Err(not_rows(self.name, &Entered::Text(Cow::Borrowed(value)))))
        }
        fn visit_bool<E: serde::de::Error>(self, value: bool) -> Result<Self::Value, E> {
            Ok(Err(not_rows(self.name, &Entered::Bool(value))))
        }
        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Self::Value, E> {
            Ok(Err(not_rows(self.name, &Entered::Number(Cow::Owned(value.to_string())))))
        }
        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Self::Value, E> {
            Ok(Err(not_rows(self.name, &Entered::Number(Cow::Owned(value.to_string())))))
        }
        fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Self::Value, E> {
            Ok(Err(not_rows(self.name, &Entered::Number(Cow::Owned(Json::from(value).to_string())))))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Err(not_rows(self.name, &Entered::Null)))
        }
    }

    let reader = FormReader { form, layout, directory, door };
    let mut failure = None;
    let mut reading = None;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = deserializer
        .deserialize_map(Streaming {
            reader: &reader,
            data,
            admit: &mut admit,
            failure: &mut failure,
            reading: &mut reading,
        })
        .and_then(|()| deserializer.end());
    match (failure, parsed, reading) {
        (Some(error), _, _) => Err(error),
        (None, Err(error), Some(name)) => Err(RuntimeError::new(
            Code::R0502,
            format!("the value of `{name}` cannot be read: {}", bare_message(&error)),
        )),
        (None, Err(error), None) => {
            Err(RuntimeError::new(Code::R0502, format!("the form is not a JSON object of fields: {error}")))
        }
        (None, Ok(()), _) => Ok(()),
    }
}

fn not_rows(name: &str, value: &Entered) -> RuntimeError {
    RuntimeError::new(Code::R0304, format!("`{name}` is a detail table: give a list of rows, found `{value}`"))
}

fn not_a_row(name: &str, row_number: usize, row: &Entered) -> RuntimeError {
    RuntimeError::new(
        Code::R0304,
        format!("row {} of `{name}` must be an object of column values, found `{row}`", row_number + 1),
    )
}

/// A key given twice: JSON readers keep the last silently, so neither value is taken.
fn given_twice(name: &str, row: Option<(&str, usize)>) -> RuntimeError {
    let message = match row {
        Some((table, row_number)) => format!("row {} of `{table}` gives `{name}` twice", row_number + 1),
        None => format!("`{name}` is given twice"),
    };
    RuntimeError::new(Code::R0502, message).with_help("give each field once")
}

/// What reading a form's values needs.
struct FormReader<'f> {
    form: &'f Form,
    layout: &'f Layout,
    directory: &'f dyn Directory,
    door: Door<'f>,
}

impl FormReader<'_> {
    /// One row of `table`, from its cells; `data` holds the rows it may update in place.
    fn row(
        &self,
        table: usize,
        row_number: usize,
        cells: &[(Cow<'_, str>, Entered<'_>)],
        data: &FormData,
    ) -> Result<Vec<Value>, RuntimeError> {
        let (form, door) = (self.form, self.door);
        let Some(detail) = form.details.get(table) else { return Err(RuntimeError::new(Code::R0306, "bad table")) };
        let name = &detail.name;
        // Where only some columns are editable, a row given updates the row at its position.
        let existing = data.tables.get(table).and_then(|rows| rows.get(row_number));
        let mut new_row = match existing {
            Some(existing) if matches!(door, Door::Entered { merge_tables } if merge_tables.contains(&table)) => {
                existing.clone()
            }
            _ => detail
                .columns
                .iter()
                .map(|&column| form.fields.get(column).map_or(Value::Null, |field| empty_of(&field.kind)))
                .collect(),
        };
        // The columns this row gave: a bit each (no allocation per row), a list past 128 columns.
        let (mut given, mut given_beyond) = (0_u128, Vec::new());
        for (column_name, cell) in cells {
            let position = detail
                .columns
                .iter()
                .position(|&column| form.fields.get(column).is_some_and(|field| &field.name == column_name))
                .ok_or_else(|| {
                    RuntimeError::new(
                        Code::R0306,
                        format!("`{name}` has no column `{column_name}`{}", suggestion(form, column_name)),
                    )
                })?;
            let twice = match u32::try_from(position).ok().and_then(|bit| 1_u128.checked_shl(bit)) {
                Some(bit) => {
                    let seen = given & bit != 0;
                    given |= bit;
                    seen
                }
                None if given_beyond.contains(&position) => true,
                None => {
                    given_beyond.push(position);
                    false
                }
            };
            if twice {
                return Err(given_twice(column_name, Some((name, row_number))));
            }
            let column = detail.columns.get(position).copied().unwrap_or_default();
            let field = form.fields.get(column).ok_or_else(|| RuntimeError::new(Code::R0306, "bad column"))?;
            if field.formula.is_some() && (door == Door::Stored || cell.is_null()) {
                continue;
            }
            if field.formula.is_some() {
                return Err(RuntimeError::at(
                    Code::R0301,
                    format!("`{name}.{column_name}` is computed (`{column_name}` row rule); it cannot be set"),
                    field.at,
                ));
            }
            let value = parse_entered(field, cell, self.directory).map_err(|(code, message)| {
                RuntimeError::at(code, format!("row {} of `{name}`: {message}", row_number + 1), field.at)
                    .with_label("the column")
            })?;
            if let Some(slot) = self.layout.column_of(column).and_then(|(_, position)| new_row.get_mut(position)) {
                *slot = value;
            }
        }
        Ok(new_row)
    }

    /// A main field. From a state, computed and display-only values are skipped (recomputed).
    fn main_field(&self, index: usize, name: &str, value: &Entered, data: &mut FormData) -> Result<(), RuntimeError> {
        let field = self.form.fields.get(index).ok_or_else(|| RuntimeError::new(Code::R0306, "bad field"))?;
        if field.detail.is_some() {
            return Err(RuntimeError::new(
                Code::R0306,
                format!("`{name}` is a detail column; set it inside the rows of its table"),
            ));
        }
        if self.door == Door::Stored
            && (field.formula.is_some() || matches!(field.kind, FieldKind::Link | FieldKind::Note))
        {
            return Ok(());
        }
        if field.formula.is_some() {
            return Err(RuntimeError::at(
                Code::R0301,
                format!("`{name}` is computed by its formula; nobody sets it"),
                field.at,
            )
            .with_label("computed here"));
        }
        let value = parse_entered(field, value, self.directory)
            .map_err(|(code, message)| RuntimeError::at(code, message, field.at).with_label("the field"))?;
        if let Some(slot) = data.main.get_mut(index) {
            *slot = value;
        }
        Ok(())
    }
}

/// What a name in a form object means: a field (by index) or a whole detail table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormName {
    Field(usize),
    Table(usize),
}

/// The field or detail table a name means; unknown names are R0306 with a did-you-mean.
pub fn find_field(form: &Form, name: &str) -> Result<FormName, RuntimeError> {
    if let Some(index) = form.fields.iter().position(|field| field.name == name) {
        return Ok(FormName::Field(index));
    }
    if let Some(table) = form.details.iter().position(|detail| detail.name == name) {
        return Ok(FormName::Table(table));
    }
    Err(RuntimeError::new(
        Code::R0306,
        format!("the form `{}` has no field `{name}`{}", form.name, suggestion(form, name)),
    ))
}

fn suggestion(form: &Form, name: &str) -> String {
    let candidates =
        form.fields.iter().map(|field| field.name.as_str()).chain(form.details.iter().map(|d| d.name.as_str()));
    match crate::check::suggest::best(name, candidates) {
        Some(best) => format!("; did you mean `{best}`?"),
        None => String::new(),
    }
}

/// Every reference in the form names a record of the directory (after a
/// script, which cannot look ids up itself). The first unknown id, with its field.
pub fn unknown_reference(
    form: &Form,
    layout: &Layout,
    data: &FormData,
    directory: &dyn Directory,
) -> Option<(String, String)> {
    let check = |field: &Field, value: &Value| -> Option<(String, String)> {
        let mut ids = Vec::new();
        let (kind, _) = ref_kind(&field.kind)?;
        collect_refs(value, kind, &mut ids).ok()?;
        ids.into_iter().find(|id| !exists(directory, kind, id)).map(|id| (field.name.clone(), id))
    };
    for (index, field) in form.fields.iter().enumerate() {
        match layout.column_of(index) {
            None => {
                if let Some(found) = data.main.get(index).and_then(|value| check(field, value)) {
                    return Some(found);
                }
            }
            Some((table, column)) => {
                for row in data.tables.get(table).map(Vec::as_slice).unwrap_or_default() {
                    if let Some(found) = row.get(column).and_then(|value| check(field, value)) {
                        return Some(found);
                    }
                }
            }
        }
    }
    None
}
