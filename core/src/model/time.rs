//! Times in the wire format: UTC RFC 3339 with `Z`, microseconds with trailing zeros trimmed.

use chrono::{DateTime, Utc};
use serde::Serializer;

/// Now, truncated to the microsecond precision messages are stored with.
pub(crate) fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

/// Formats a time as the wire format: RFC 3339, `Z`, microseconds with trailing zeros trimmed.
pub fn format_time(time: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    let nanos = time.nanosecond();
    let year = time.year();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        // Outside the common shape (a leap second, a year of other than four digits).
        return slow_format_time(time);
    }
    let mut s = String::with_capacity(27);
    let _ = write!(
        s,
        "{year:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        time.month(),
        time.day(),
        time.hour(),
        time.minute(),
        time.second()
    );
    let mut micros = nanos / 1000;
    if micros > 0 {
        let mut digits = 6;
        while micros.is_multiple_of(10) {
            micros /= 10;
            digits -= 1;
        }
        let _ = write!(s, ".{micros:0digits$}");
    }
    s.push('Z');
    s
}

fn slow_format_time(time: DateTime<Utc>) -> String {
    let mut s = time.format("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    s.push('Z');
    s
}

pub(crate) fn wire_time<S: Serializer>(
    time: &DateTime<Utc>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_time(*time))
}

/// Serializes an optional time in the wire format, `null` when absent.
pub(crate) fn wire_time_opt<S: Serializer>(
    time: &Option<DateTime<Utc>>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match time {
        Some(t) => serializer.serialize_str(&format_time(*t)),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_time_matches_the_general_formatting() {
        let mut t = 1_700_000_000_123_456_789_i64; // nanoseconds since the epoch
        for step in 0..5000_i64 {
            // Steps that give every count of trailing zeros in the microseconds.
            t += step * 1_000 * (1 + step % 7) * 10_i64.pow((step % 7) as u32);
            let time = DateTime::from_timestamp_nanos(t);
            assert_eq!(format_time(time), slow_format_time(time), "{t}");
        }
        let whole = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert_eq!(format_time(whole), "2023-11-14T22:13:20Z");
        let early = DateTime::from_timestamp(-62_135_596_800 - 86_400, 5_000).unwrap();
        assert_eq!(format_time(early), slow_format_time(early));
    }
}
