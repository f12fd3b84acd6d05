//! Stand-ins (代理): a person's duties go to a deputy for a range of dates,
//! `[[deputies]] person = "E10", deputy = "E11", from = "2026-11-01", to =
//! "2026-11-30"` in the directory file (both ends included; TOML dates may be
//! written bare, `from = 2026-11-01`). The runtime asks
//! [`Directory::deputy_on`](super::Directory::deputy_on) when it resolves a
//! node's operators and hands a pending person's place to their deputy.
//!
//! Validated with the rest of the file: both people exist, the dates are real
//! dates with `from` not after `to`, nobody stands in for themselves, and one
//! person's ranges do not overlap (on any day a person has at most one
//! deputy, so who acts is never a guess).

use serde::{Deserialize, Deserializer, Serialize};

use super::{IdMap, Problems, RecordKind};

/// One stand-in (代理设置).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deputy {
    /// The person who is away (an employee id).
    pub person: String,
    /// Who acts for them (an employee id).
    pub deputy: String,
    /// The first day, `2026-11-01`.
    #[serde(deserialize_with = "date_text")]
    pub from: String,
    /// The last day, included.
    #[serde(deserialize_with = "date_text")]
    pub to: String,
}

/// A date as text, written as a string or (in TOML) as a bare local date.
fn date_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum DateText {
        Text(String),
        Toml(toml::value::Datetime),
    }
    Ok(match DateText::deserialize(deserializer)? {
        DateText::Text(text) => text,
        DateText::Toml(date) => date.to_string(),
    })
}

/// Whether `text` is a real date written `YYYY-MM-DD` (so dates compare as text).
pub(super) fn is_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    let shape = bytes.len() == 10
        && bytes.iter().enumerate().all(|(index, byte)| match index {
            4 | 7 => *byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !shape {
        return false;
    }
    let number = |range: std::ops::Range<usize>| text.get(range).and_then(|part| part.parse::<u32>().ok());
    let (Some(year), Some(month), Some(day)) = (number(0..4), number(5..7), number(8..10)) else { return false };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Checks every stand-in; returns, by person, the positions of their stand-ins.
pub(super) fn validate(
    deputies: &[Deputy],
    employee_index: &IdMap<usize>,
    problems: &mut Problems,
) -> IdMap<Vec<usize>> {
    let mut by_person: IdMap<Vec<usize>> = IdMap::default();
    for (position, entry) in deputies.iter().enumerate() {
        let name = format!("{} → {}", entry.person, entry.deputy);
        let mut report = |field, message| problems.push(RecordKind::Deputy, position, "", &name, field, message);
        let mut sound = true;
        if !employee_index.contains_key(&entry.person) {
            report("person", format!("employee `{}` does not exist", entry.person));
            sound = false;
        }
        if !employee_index.contains_key(&entry.deputy) {
            report("deputy", format!("employee `{}` does not exist", entry.deputy));
            sound = false;
        }
        if entry.person == entry.deputy {
            report("deputy", "a person cannot stand in for themselves".to_owned());
            sound = false;
        }
        for (field, date) in [("from", &entry.from), ("to", &entry.to)] {
            if !is_date(date) {
                report(field, format!("`{date}` is not a date (write 2026-11-01)"));
                sound = false;
            }
        }
        if sound && entry.from > entry.to {
            report("to", format!("the range ends ({}) before it starts ({})", entry.to, entry.from));
            sound = false;
        }
        if !sound {
            continue;
        }
        let earlier = by_person.entry(entry.person.clone()).or_default();
        for &other in earlier.iter() {
            let Some(other_entry) = deputies.get(other) else { continue };
            if entry.from <= other_entry.to && other_entry.from <= entry.to {
                report(
                    "from",
                    format!(
                        "overlaps the stand-in by `{}` from {} to {}: a person has one deputy a day",
                        other_entry.deputy, other_entry.from, other_entry.to
                    ),
                );
                sound = false;
                break;
            }
        }
        if sound {
            earlier.push(position);
        }
    }
    by_person
}

/// The deputy of `person` on `day` (`YYYY-MM-DD`) among `positions` (theirs).
pub(super) fn active<'a>(deputies: &'a [Deputy], positions: &[usize], day: &str) -> Option<&'a str> {
    positions
        .iter()
        .filter_map(|&position| deputies.get(position))
        .find(|entry| entry.from.as_str() <= day && day <= entry.to.as_str())
        .map(|entry| entry.deputy.as_str())
}
