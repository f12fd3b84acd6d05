//! The clock: the runtime's `now` (UTC+8, the manual's users, as `flowc run` reads it) and the
//! milliseconds the database orders and measures by; the dates of search and report queries.
//! A server started with `--test-clock` reads a clock its tests set instead of the system's,
//! so a test of deadlines moves hours ahead without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

use flowc::runtime::values::dates::{Date, DateTime, Time};

use crate::api::ApiError;

const OFFSET_MINUTES: i32 = 8 * 60;

/// The test clock's time (milliseconds since the epoch); `i64::MIN`: the system's clock.
static TEST_NOW_MS: AtomicI64 = AtomicI64::new(i64::MIN);

/// Sets the test clock (`--test-clock`, `POST /test/clock`).
pub fn set_test_now(at: DateTime) {
    TEST_NOW_MS.store(to_ms(at), Ordering::SeqCst);
}

/// Milliseconds since the epoch of a date and time.
pub fn to_ms(at: DateTime) -> i64 {
    let seconds = i64::from(at.date.0) * 86_400 + i64::from(at.time.0) - i64::from(at.offset_minutes) * 60;
    seconds.saturating_mul(1000)
}

pub fn now_ms() -> i64 {
    let test = TEST_NOW_MS.load(Ordering::SeqCst);
    if test != i64::MIN {
        return test;
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
}

pub fn now() -> DateTime {
    let epoch = DateTime { date: Date(0), time: Time(0), offset_minutes: 0 };
    DateTime::from_unix(now_ms() / 1000, OFFSET_MINUTES).unwrap_or(epoch)
}

/// Midnight (UTC+8) starting `date` (YYYY-MM-DD), in milliseconds since the epoch.
pub fn date_ms(date: &str) -> Option<i64> {
    let days = i64::from(Date::parse(date)?.0);
    Some((days * 86_400 - i64::from(OFFSET_MINUTES) * 60) * 1000)
}

/// `from=` of a query: the start of that day; none: the beginning of time.
pub fn day_start_ms(date: Option<&str>, name: &str) -> Result<Option<i64>, ApiError> {
    date.map(|date| date_ms(date).ok_or_else(|| bad_date(name, date))).transpose()
}

/// `to=` of a query: the end of that day (inclusive); none: no end.
pub fn day_end_ms(date: Option<&str>, name: &str) -> Result<Option<i64>, ApiError> {
    date.map(|date| date_ms(date).map(|start| start + 86_400_000).ok_or_else(|| bad_date(name, date))).transpose()
}

fn bad_date(name: &str, date: &str) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::BAD_REQUEST,
        None,
        &format!("`{name}={date}` is not a date (write 2026-11-28)"),
    )
}
