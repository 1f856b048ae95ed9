//! UTC calendar arithmetic (Howard Hinnant's days-from-civil algorithms, proleptic Gregorian) and
//! RFC 3339 text. No clock: every function takes the instant it works on.

/// Milliseconds in a day.
pub const DAY_MS: u64 = 86_400_000;

/// Days since 1970-01-01 of the date `year`-`month`-`day` (month 1..=12, day 1..=31).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = (i64::from(month) + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// The date (year, month 1..=12, day 1..=31) of the day `days` after 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Milliseconds since the Unix epoch of a UTC date and time (`2026-12-31T23:59:00Z` is
/// `utc_ms(2026, 12, 31, 23, 59, 0)`). Dates before 1970 give 0.
pub fn utc_ms(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> u64 {
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    u64::try_from(secs).unwrap_or(0) * 1000
}

/// The day (since 1970-01-01) that holds the instant `ms`.
pub(crate) fn day_of(ms: u64) -> i64 {
    (ms / DAY_MS) as i64
}

/// The instant that starts the day `days` after 1970-01-01 (0 before it).
pub(crate) fn day_start_ms(days: i64) -> u64 {
    u64::try_from(days).unwrap_or(0) * DAY_MS
}

/// Day of the week of `days`, Monday = 0 (1970-01-01 was a Thursday).
pub(crate) fn weekday_from_monday(days: i64) -> i64 {
    (days + 3).rem_euclid(7)
}

/// The ISO 8601 week (year, week 1..=53) of the week that starts on Monday `monday`.
pub(crate) fn iso_week(monday: i64) -> (i64, i64) {
    let thursday = monday + 3;
    let (year, _, _) = civil_from_days(thursday);
    let week = (thursday - days_from_civil(year, 1, 1)) / 7 + 1;
    (year, week)
}

/// The instant `ms` as RFC 3339 UTC text: `2027-01-01T00:00:00Z`, with milliseconds only when
/// the instant has some (`2027-01-01T00:00:02.500Z`).
pub fn rfc3339(ms: u64) -> String {
    let (year, month, day) = civil_from_days(day_of(ms));
    let rem = ms % DAY_MS;
    let (h, m, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    if milli == 0 {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
    } else {
        format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trips() {
        for days in [-800_000, -1, 0, 1, 59, 60, 11_016, 20_819, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(
            days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28),
            2
        );
        assert_eq!(
            days_from_civil(1900, 3, 1) - days_from_civil(1900, 2, 28),
            1
        );
    }

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(utc_ms(2027, 1, 1, 0, 0, 0)), "2027-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(utc_ms(2028, 2, 29, 13, 5, 9) + 250),
            "2028-02-29T13:05:09.250Z"
        );
        assert_eq!(utc_ms(2025, 12, 1, 0, 0, 0), 1_764_547_200_000);
    }

    #[test]
    fn iso_weeks() {
        // 2026-12-28 is a Monday in week 53 of 2026; 2024-12-30 is in week 1 of 2025.
        assert_eq!(iso_week(days_from_civil(2026, 12, 28)), (2026, 53));
        assert_eq!(iso_week(days_from_civil(2024, 12, 30)), (2025, 1));
        assert_eq!(weekday_from_monday(days_from_civil(2026, 12, 28)), 0);
    }
}
