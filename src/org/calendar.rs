//! The working calendar of a directory file (`[calendar]`): which weekdays
//! are worked, the holidays, and the extra working days that make up for
//! them (调休). Deadlines counted in working days read it; a directory
//! without one works Monday to Friday.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::runtime::values::dates::{Date, DateTime};

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A checked calendar: weekdays by number (Monday 0), dates as days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CalendarFile", into = "CalendarFile")]
pub struct Calendar {
    workdays: [bool; 7],
    holidays: BTreeSet<Date>,
    extra_workdays: BTreeSet<Date>,
}

impl Default for Calendar {
    /// Monday to Friday, no holidays.
    fn default() -> Calendar {
        Calendar {
            workdays: [true, true, true, true, true, false, false],
            holidays: BTreeSet::new(),
            extra_workdays: BTreeSet::new(),
        }
    }
}

/// `[calendar]` as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    workdays: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    holidays: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    extra_workdays: Vec<String>,
}

impl TryFrom<CalendarFile> for Calendar {
    type Error = String;

    fn try_from(file: CalendarFile) -> Result<Calendar, String> {
        let mut calendar = Calendar::default();
        if let Some(days) = &file.workdays {
            calendar.workdays = [false; 7];
            for day in days {
                let index = WEEKDAYS
                    .iter()
                    .position(|name| name.eq_ignore_ascii_case(day))
                    .ok_or_else(|| format!("calendar: `{day}` is not a weekday (write {})", WEEKDAYS.join(", ")))?;
                if let Some(slot) = calendar.workdays.get_mut(index) {
                    *slot = true;
                }
            }
        }
        let dates = |list: &[String], key: &str| -> Result<BTreeSet<Date>, String> {
            list.iter()
                .map(|text| {
                    Date::parse(text)
                        .ok_or_else(|| format!("calendar: `{key}` holds `{text}`, which is not a date (yyyy-mm-dd)"))
                })
                .collect()
        };
        calendar.holidays = dates(&file.holidays, "holidays")?;
        calendar.extra_workdays = dates(&file.extra_workdays, "extra_workdays")?;
        if let Some(both) = calendar.holidays.intersection(&calendar.extra_workdays).next() {
            return Err(format!("calendar: {both} is both a holiday and an extra working day"));
        }
        Ok(calendar)
    }
}

impl From<Calendar> for CalendarFile {
    fn from(calendar: Calendar) -> CalendarFile {
        let workdays = WEEKDAYS
            .iter()
            .zip(calendar.workdays)
            .filter(|(_, worked)| *worked)
            .map(|(name, _)| (*name).to_owned())
            .collect();
        CalendarFile {
            workdays: (calendar.workdays != Calendar::default().workdays).then_some(workdays),
            holidays: calendar.holidays.iter().map(Date::to_string).collect(),
            extra_workdays: calendar.extra_workdays.iter().map(Date::to_string).collect(),
        }
    }
}

/// How far apart two dates the search for a working day may go: a calendar
/// with no working day must not loop for ever.
const SEARCH_DAYS: i64 = 3660;

impl Calendar {
    pub fn is_workday(&self, date: Date) -> bool {
        if self.extra_workdays.contains(&date) {
            return true;
        }
        if self.holidays.contains(&date) {
            return false;
        }
        // 1970-01-01 was a Thursday (Monday is 0).
        let weekday = (i64::from(date.0) + 3).rem_euclid(7);
        usize::try_from(weekday).ok().and_then(|index| self.workdays.get(index)).copied().unwrap_or(false)
    }

    /// The same time of day on the `count`-th working day after `from` (before it when
    /// `count` is negative); `None` when no such day lies within ten years.
    pub fn add_working_days(&self, from: DateTime, count: i64) -> Option<DateTime> {
        let step = if count < 0 { -1 } else { 1 };
        let mut left = count.abs();
        let mut date = from.date;
        let mut searched = 0;
        while left > 0 {
            date = date.add_days(step)?;
            searched += 1;
            if searched > SEARCH_DAYS * (count.abs() + 1) {
                return None;
            }
            if self.is_workday(date) {
                left -= 1;
            }
        }
        Some(DateTime { date, ..from })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Result<DateTime, String> {
        DateTime::parse(text).ok_or_else(|| format!("`{text}` is a datetime"))
    }

    fn calendar(text: &str) -> Result<Calendar, String> {
        toml::from_str(text).map_err(|error| error.to_string())
    }

    #[test]
    fn working_days_skip_weekends_and_holidays_and_count_extra_days() -> Result<(), String> {
        let october = calendar(
            "workdays = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\"]\n\
             holidays = [\"2026-10-01\", \"2026-10-02\"]\nextra_workdays = [\"2026-10-10\"]",
        )?;
        // Wednesday 2026-09-30: the next working day is Monday 10-05.
        assert_eq!(
            october.add_working_days(at("2026-09-30T10:00:00+08:00")?, 1),
            Some(at("2026-10-05T10:00:00+08:00")?)
        );
        // Friday 10-09, then Saturday 10-10 is an extra working day.
        assert_eq!(
            october.add_working_days(at("2026-10-09T10:00:00+08:00")?, 1),
            Some(at("2026-10-10T10:00:00+08:00")?)
        );
        assert_eq!(
            october.add_working_days(at("2026-10-05T10:00:00+08:00")?, -1),
            Some(at("2026-09-30T10:00:00+08:00")?)
        );
        // Friday 2026-12-04 plus 3 working days: Wednesday 12-09.
        assert_eq!(
            Calendar::default().add_working_days(at("2026-12-04T09:00:00+08:00")?, 3),
            Some(at("2026-12-09T09:00:00+08:00")?)
        );
        Ok(())
    }

    #[test]
    fn a_calendar_without_working_days_finds_none_and_bad_entries_are_refused() -> Result<(), String> {
        assert_eq!(calendar("workdays = []")?.add_working_days(at("2026-12-04T09:00:00+08:00")?, 1), None);
        assert!(calendar("workdays = [\"monday\"]").is_err());
        assert!(calendar("holidays = [\"2026-13-01\"]").is_err());
        assert!(calendar("holidays = [\"2026-10-01\"]\nextra_workdays = [\"2026-10-01\"]").is_err());
        Ok(())
    }
}
