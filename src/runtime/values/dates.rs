//! Calendar dates, times of day and instants for `date`, `time` and
//! `datetime` fields and the clock functions (`today()`, `now()`,
//! `days_between`, `add_days`). Proleptic Gregorian days counted from
//! 1970-01-01, so arithmetic is integer arithmetic; a datetime keeps the UTC
//! offset it was given so `today()` is the date where the clock was read.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A calendar date as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date(pub i32);

/// A time of day in seconds since midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Time(pub u32);

/// A local date and time with its UTC offset (`2026-11-28T09:00:00+08:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DateTime {
    pub date: Date,
    pub time: Time,
    pub offset_minutes: i32,
}

/// Years outside this range are refused: they are typing mistakes, and
/// keeping them out keeps every day count far from overflow.
const MIN_YEAR: i64 = 1;
const MAX_YEAR: i64 = 9999;

impl Date {
    /// The date of a year, month (1–12) and day, if it exists.
    pub fn from_ymd(year: i64, month: u32, day: u32) -> Option<Date> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // Days from civil (H. Hinnant's algorithm): count in 400-year eras starting in March.
        let year = if month <= 2 { year - 1 } else { year };
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(month);
        let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        i32::try_from(era * 146_097 + day_of_era - 719_468).ok().map(Date)
    }

    /// Year, month (1–12) and day.
    pub fn ymd(self) -> (i64, u32, u32) {
        let days = i64::from(self.0) + 719_468;
        let era = days.div_euclid(146_097);
        let day_of_era = days - era * 146_097;
        let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let shifted_month = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
        let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        (year, month as u32, day as u32)
    }

    /// `2026-11-28`; also accepts `2026/11/28` and `2026-1-5`.
    pub fn parse(text: &str) -> Option<Date> {
        let text = text.trim();
        let separator = if text.contains('/') { '/' } else { '-' };
        let mut parts = text.split(separator);
        let year = parse_digits(parts.next()?, 4, 4)?;
        let month = parse_digits(parts.next()?, 1, 2)?;
        let day = parse_digits(parts.next()?, 1, 2)?;
        if parts.next().is_some() {
            return None;
        }
        Date::from_ymd(i64::from(year), month, day)
    }

    /// The date `days` later (earlier when negative), if it is in range.
    pub fn add_days(self, days: i64) -> Option<Date> {
        let moved = i64::from(self.0).checked_add(days)?;
        let date = Date(i32::try_from(moved).ok()?);
        (MIN_YEAR..=MAX_YEAR).contains(&date.ymd().0).then_some(date)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day) = self.ymd();
        write!(formatter, "{year:04}-{month:02}-{day:02}")
    }
}

impl Time {
    /// `09:30` or `09:30:15`.
    pub fn parse(text: &str) -> Option<Time> {
        let mut parts = text.trim().split(':');
        let hours = parse_digits(parts.next()?, 1, 2)?;
        let minutes = parse_digits(parts.next()?, 2, 2)?;
        let seconds = match parts.next() {
            Some(seconds) => parse_digits(seconds, 2, 2)?,
            None => 0,
        };
        if parts.next().is_some() || hours > 23 || minutes > 59 || seconds > 59 {
            return None;
        }
        Some(Time(hours * 3600 + minutes * 60 + seconds))
    }
}

impl fmt::Display for Time {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (hours, minutes, seconds) = (self.0 / 3600, self.0 / 60 % 60, self.0 % 60);
        write!(formatter, "{hours:02}:{minutes:02}:{seconds:02}")
    }
}

impl DateTime {
    /// RFC 3339 (`2026-11-28T09:00:00+08:00`, `…Z`), or a date and time with
    /// a space and no offset (read as UTC+8, the offset of the manual's users).
    pub fn parse(text: &str) -> Option<DateTime> {
        let text = text.trim();
        let split = text.find(['T', 't', ' '])?;
        let date = Date::parse(text.get(..split)?)?;
        let rest = text.get(split + 1..)?;
        let (clock, offset_minutes) = if let Some(clock) = rest.strip_suffix(['Z', 'z']) {
            (clock, 0)
        } else if let Some(sign_at) = rest.rfind(['+', '-']) {
            let sign = if rest.get(sign_at..=sign_at) == Some("-") { -1 } else { 1 };
            let offset = rest.get(sign_at + 1..)?;
            let (hours, minutes) = offset.split_once(':').unwrap_or((offset, "00"));
            let (hours, minutes) = (parse_digits(hours, 2, 2)?, parse_digits(minutes, 2, 2)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            (rest.get(..sign_at)?, sign * (hours as i32 * 60 + minutes as i32))
        } else {
            (rest, 8 * 60)
        };
        // Fractions of a second are accepted and dropped: log times are to the second.
        let clock = clock.split_once('.').map_or(clock, |(whole, _)| whole);
        Some(DateTime { date, time: Time::parse(clock)?, offset_minutes })
    }
}

impl DateTime {
    /// The instant `seconds` after 1970-01-01T00:00:00Z, on the wall clock of `offset_minutes`.
    pub fn from_unix(seconds: i64, offset_minutes: i32) -> Option<DateTime> {
        let local = seconds.checked_add(i64::from(offset_minutes) * 60)?;
        let date = Date(i32::try_from(local.div_euclid(86_400)).ok()?);
        let time = Time(u32::try_from(local.rem_euclid(86_400)).ok()?);
        Some(DateTime { date, time, offset_minutes })
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}T{}", self.date, self.time)?;
        if self.offset_minutes == 0 {
            return formatter.write_str("Z");
        }
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let offset = self.offset_minutes.unsigned_abs();
        write!(formatter, "{sign}{:02}:{:02}", offset / 60, offset % 60)
    }
}

/// Orders instants, not wall clocks: 09:00+08:00 is before 09:00+00:00.
impl PartialOrd for DateTime {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        let seconds = |value: &DateTime| {
            i64::from(value.date.0) * 86_400 + i64::from(value.time.0) - i64::from(value.offset_minutes) * 60
        };
        Some(seconds(self).cmp(&seconds(other)))
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn parse_digits(text: &str, min: usize, max: usize) -> Option<u32> {
    if !(min..=max).contains(&text.len()) || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_known_dates() {
        assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date(0)));
        assert_eq!(Date::from_ymd(2000, 3, 1), Some(Date(11_017)));
        for days in -719_000..2_900_000 {
            let date = Date(days);
            let (year, month, day) = date.ymd();
            assert_eq!(Date::from_ymd(year, month, day), Some(date));
        }
        assert_eq!(Date::parse("2026-11-28").map(|date| date.to_string()), Some("2026-11-28".into()));
        assert_eq!(Date::parse("2024-02-29").map(|date| date.to_string()), Some("2024-02-29".into()));
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("2026-13-01"), None);
        assert_eq!(Date::parse("二〇二六"), None);
    }

    #[test]
    fn datetimes_keep_their_offset() {
        let instant = DateTime::parse("2026-11-28T09:00:00+08:00");
        assert_eq!(instant.map(|value| value.to_string()), Some("2026-11-28T09:00:00+08:00".into()));
        assert_eq!(
            DateTime::parse("2026-11-28T01:00:00Z").map(|value| value.to_string()),
            Some("2026-11-28T01:00:00Z".into())
        );
        assert_eq!(DateTime::parse("2026-11-28T25:00:00Z"), None);
        assert_eq!(DateTime::parse("2026-11-28"), None);
    }
}
