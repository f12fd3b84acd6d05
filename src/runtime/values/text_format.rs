//! Values written as text by the built-ins `text(x)`, `format_date(d,
//! pattern)` and `weekday(d)` (issue 10): a field as the form shows it, a
//! date by a pattern, the day of the week.

use serde_json::Value as Json;

use crate::ir::Field;
use crate::org::Directory;
use crate::runtime::values::dates::{Date, Time};
use crate::runtime::values::field_values::to_json;
use crate::runtime::values::value::{RefKind, Value};

/// The day of the week, 1 (Monday) to 7 (Sunday), as ISO 8601 numbers them.
pub fn weekday(day: Date) -> u32 {
    // 1970-01-01, day 0, was a Thursday (4).
    let from_monday = (i64::from(day.0) + 3).rem_euclid(7);
    u32::try_from(from_monday).unwrap_or(0) + 1
}

/// A date (and time) written by a pattern: `yyyy` (year), `yy`, `MM`/`M` (month), `dd`/`d`
/// (day), `HH`/`H` (hour), `mm` (minute), `ss` (second); any other character as it is.
pub fn format_date(day: Date, time: Time, pattern: &str) -> String {
    let (year, month, date) = day.ymd();
    let (hours, minutes, seconds) = (time.0 / 3600, time.0 / 60 % 60, time.0 % 60);
    let mut out = String::with_capacity(pattern.len() + 8);
    let characters: Vec<char> = pattern.chars().collect();
    let mut index = 0;
    while let Some(&letter) = characters.get(index) {
        let run = characters.get(index..).map_or(0, |rest| rest.iter().take_while(|&&c| c == letter).count());
        let written = match (letter, run) {
            ('y', 4) => Some(format!("{year:04}")),
            ('y', 2) => Some(format!("{:02}", year.rem_euclid(100))),
            ('M', 2) => Some(format!("{month:02}")),
            ('M', 1) => Some(month.to_string()),
            ('d', 2) => Some(format!("{date:02}")),
            ('d', 1) => Some(date.to_string()),
            ('H', 2) => Some(format!("{hours:02}")),
            ('H', 1) => Some(hours.to_string()),
            ('m', 2) => Some(format!("{minutes:02}")),
            ('s', 2) => Some(format!("{seconds:02}")),
            _ => None,
        };
        match written {
            Some(text) => {
                out.push_str(&text);
                index += run;
            }
            None => {
                out.push(letter);
                index += 1;
            }
        }
    }
    out
}

/// `text(x)`: a field as the form shows it — a number with the field's decimals (`money` with
/// two, `money_upper` in capitals), a select by its option's label, a check as 是 or 否, a person
/// or another record by its name, a list joined by 、 — and any other value in its plain form.
pub fn form_text(field: Option<&Field>, value: &Value, directory: &dyn Directory) -> String {
    match value {
        Value::Null => String::new(),
        Value::List(items) => items.iter().map(|item| form_text(field, item, directory)).collect::<Vec<_>>().join("、"),
        Value::Bool(flag) => (if *flag { "是" } else { "否" }).to_owned(),
        Value::Ref(kind, id) => record_name(directory, *kind, id).unwrap_or_else(|| id.clone()),
        Value::Text(key) if field.is_some_and(|field| field.kind.has_options()) => field
            .and_then(|field| field.options.iter().find(|option| &option.key == key))
            .map_or_else(|| key.clone(), |option| option.label.clone()),
        Value::Number(_) => match field.map(|field| to_json(field, value)) {
            Some(Json::String(shown)) => shown,
            Some(Json::Number(shown)) => shown.to_string(),
            _ => value.to_string(),
        },
        other => other.to_string(),
    }
}

fn record_name(directory: &dyn Directory, kind: RefKind, id: &str) -> Option<String> {
    Some(match kind {
        RefKind::Employee => directory.employee(id)?.name.clone(),
        RefKind::Department => directory.department(id)?.name.clone(),
        RefKind::Subcompany => directory.subcompany(id)?.name.clone(),
        RefKind::Document => directory.document(id)?.name.clone(),
        RefKind::Project => directory.project(id)?.name.clone(),
        RefKind::Asset => directory.asset(id)?.name.clone(),
        RefKind::Customer => directory.customer(id)?.name.clone(),
        RefKind::MeetingRoom => directory.meeting_room(id)?.name.clone(),
    })
}
