//! Budget periods: calendar days, ISO weeks and months (UTC), and rolling windows.

use crate::civil::{
    DAY_MS, civil_from_days, day_of, day_start_ms, days_from_civil, iso_week, weekday_from_monday,
};
use std::fmt;

/// Buckets a rolling window is counted in.
pub const ROLLING_BUCKETS: u64 = 24;

/// Extra life of a counter past the last instant it can be read, for clock skew between replicas.
pub const COUNTER_GRACE_MS: u64 = 3_600_000;

/// The longest rolling window, in days.
const MAX_ROLLING_DAYS: u64 = 366;

/// The unit of a rolling window's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Unit {
    /// Minutes (`m`).
    Minutes,
    /// Hours (`h`).
    Hours,
    /// Days (`d`).
    Days,
}

impl Unit {
    fn ms(self) -> u64 {
        match self {
            Unit::Minutes => 60_000,
            Unit::Hours => 3_600_000,
            Unit::Days => DAY_MS,
        }
    }

    fn suffix(self) -> char {
        match self {
            Unit::Minutes => 'm',
            Unit::Hours => 'h',
            Unit::Days => 'd',
        }
    }
}

/// The period a budget is counted over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// A calendar day, from 00:00 UTC.
    Day,
    /// An ISO week, from Monday 00:00 UTC.
    Week,
    /// A calendar month, from the 1st 00:00 UTC.
    Month,
    /// A rolling window of `amount` `unit`s (`24h`, `7d`, `90m`): spend counts until that long
    /// after it was made, in [`ROLLING_BUCKETS`] buckets.
    Rolling {
        /// How many units.
        amount: u32,
        /// Which unit.
        unit: Unit,
    },
}

/// The span of a period that holds an instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    /// First instant of the period (ms since the Unix epoch). For a rolling window, the start of
    /// its oldest bucket: spend from here on counts.
    pub start_ms: u64,
    /// First instant after the period. For a rolling window, the end of its current bucket,
    /// when the window next slides.
    pub end_ms: u64,
    /// A name for the span: `2026-12-31` (day), `2026-W53` (ISO week), `2026-12` (month),
    /// `rolling 24h`.
    pub label: String,
}

/// Where a charge made at an instant is counted: the period (or, for a rolling window, the
/// bucket) whose counters it goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// Start of the period or bucket; it names the counters.
    pub start_ms: u64,
    /// Start of the window the slot belongs to (the period's start, or the oldest bucket's).
    pub window_start_ms: u64,
    /// When what is counted in the slot stops counting: the period's end, or when the bucket
    /// leaves the rolling window.
    pub resets_at_ms: u64,
    /// When the slot's counters expire: [`COUNTER_GRACE_MS`] after the period's end, or after the
    /// bucket's end plus the window's length.
    pub expires_at_ms: u64,
}

impl Period {
    /// Parses a period name: `day`, `week`, `month`, or a rolling window `<n>m`, `<n>h`, `<n>d`
    /// from 1m to 366d.
    pub fn parse(name: &str) -> Result<Period, String> {
        match name {
            "day" => return Ok(Period::Day),
            "week" => return Ok(Period::Week),
            "month" => return Ok(Period::Month),
            _ => {}
        }
        let unknown = || {
            format!(
                "unknown period `{name}` (expected day, week, month, or a rolling window such \
                 as 90m, 24h or 7d)"
            )
        };
        let unit = match name.as_bytes().last() {
            Some(b'm') => Unit::Minutes,
            Some(b'h') => Unit::Hours,
            Some(b'd') => Unit::Days,
            _ => return Err(unknown()),
        };
        let digits = &name[..name.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(unknown());
        }
        let too_long = || format!("rolling window `{name}` is longer than {MAX_ROLLING_DAYS}d");
        let amount: u32 = digits.parse().map_err(|_| too_long())?;
        if amount == 0 {
            return Err(format!(
                "rolling window `{name}` is empty (the shortest is 1m)"
            ));
        }
        if u64::from(amount) * unit.ms() > MAX_ROLLING_DAYS * DAY_MS {
            return Err(too_long());
        }
        Ok(Period::Rolling { amount, unit })
    }

    /// The period's name as configs write it: `day`, `week`, `month`, `24h`. It names counters
    /// and is the `period` of threshold events.
    pub fn label(&self) -> String {
        match self {
            Period::Day => "day".into(),
            Period::Week => "week".into(),
            Period::Month => "month".into(),
            Period::Rolling { amount, unit } => format!("{amount}{}", unit.suffix()),
        }
    }

    /// The adjective messages use: `daily`, `weekly`, `monthly`, `rolling 24h`.
    pub fn adjective(&self) -> String {
        match self {
            Period::Day => "daily".into(),
            Period::Week => "weekly".into(),
            Period::Month => "monthly".into(),
            Period::Rolling { .. } => format!("rolling {}", self.label()),
        }
    }

    /// The length of a rolling window in ms; None for calendar periods.
    pub fn rolling_ms(&self) -> Option<u64> {
        match self {
            Period::Rolling { amount, unit } => Some(u64::from(*amount) * unit.ms()),
            _ => None,
        }
    }

    /// The length of one bucket of a rolling window (a 24th of it, at least 1 s); None for
    /// calendar periods.
    pub fn bucket_ms(&self) -> Option<u64> {
        self.rolling_ms().map(|w| (w / ROLLING_BUCKETS).max(1000))
    }

    /// The span of this period that holds `now_ms`: a calendar period's start and end, or a
    /// rolling window's oldest bucket start and current bucket end.
    pub fn window_at(&self, now_ms: u64) -> Window {
        let today = day_of(now_ms);
        match self {
            Period::Day => {
                let (y, m, d) = civil_from_days(today);
                Window {
                    start_ms: day_start_ms(today),
                    end_ms: day_start_ms(today + 1),
                    label: format!("{y:04}-{m:02}-{d:02}"),
                }
            }
            Period::Week => {
                let monday = today - weekday_from_monday(today);
                let (y, w) = iso_week(monday);
                Window {
                    start_ms: day_start_ms(monday),
                    end_ms: day_start_ms(monday + 7),
                    label: format!("{y:04}-W{w:02}"),
                }
            }
            Period::Month => {
                let (y, m, _) = civil_from_days(today);
                let (ny, nm) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                Window {
                    start_ms: day_start_ms(days_from_civil(y, m, 1)),
                    end_ms: day_start_ms(days_from_civil(ny, nm, 1)),
                    label: format!("{y:04}-{m:02}"),
                }
            }
            Period::Rolling { .. } => {
                let slot = self.slot_at(now_ms);
                let bucket = self.bucket_ms().unwrap_or(1000);
                Window {
                    start_ms: slot.window_start_ms,
                    end_ms: slot.start_ms + bucket,
                    label: self.adjective(),
                }
            }
        }
    }

    /// Where a charge made at `now_ms` is counted.
    pub fn slot_at(&self, now_ms: u64) -> Slot {
        match (self.rolling_ms(), self.bucket_ms()) {
            (Some(window), Some(bucket)) => {
                let start = now_ms / bucket * bucket;
                Slot {
                    start_ms: start,
                    window_start_ms: start.saturating_sub((ROLLING_BUCKETS - 1) * bucket),
                    resets_at_ms: start + window,
                    expires_at_ms: start + bucket + window + COUNTER_GRACE_MS,
                }
            }
            _ => {
                let w = self.window_at(now_ms);
                Slot {
                    start_ms: w.start_ms,
                    window_start_ms: w.start_ms,
                    resets_at_ms: w.end_ms,
                    expires_at_ms: w.end_ms + COUNTER_GRACE_MS,
                }
            }
        }
    }

    /// The starts of every slot whose counters make up the window at `now_ms`, newest first: the
    /// current period's start, or the current bucket's and the 23 before it.
    pub fn slots_in_window(&self, now_ms: u64) -> Vec<u64> {
        let current = self.slot_at(now_ms).start_ms;
        let mut starts = vec![current];
        starts.extend(self.prior_buckets(current));
        starts
    }

    /// The starts of the buckets before the one starting at `slot_start_ms` that are still in
    /// its rolling window, newest first; empty for calendar periods.
    pub fn prior_buckets(&self, slot_start_ms: u64) -> Vec<u64> {
        let Some(bucket) = self.bucket_ms() else {
            return Vec::new();
        };
        (1..ROLLING_BUCKETS)
            .filter_map(|i| slot_start_ms.checked_sub(i * bucket))
            .collect()
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names() {
        assert_eq!(Period::parse("day"), Ok(Period::Day));
        assert_eq!(
            Period::parse("24h"),
            Ok(Period::Rolling {
                amount: 24,
                unit: Unit::Hours
            })
        );
        assert_eq!(Period::parse("366d").map(|p| p.label()), Ok("366d".into()));
        assert_eq!(Period::parse("007d").map(|p| p.label()), Ok("7d".into()));
        assert_eq!(
            Period::parse("1m").map(|p| p.rolling_ms()),
            Ok(Some(60_000))
        );
        for bad in [
            "fortnight",
            "",
            "m",
            "0h",
            "367d",
            "8785h",
            "-1d",
            "1.5h",
            "1w",
            "99999999999d",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        assert!(
            Period::parse("fortnight")
                .expect_err("unknown")
                .starts_with("unknown period `fortnight`")
        );
    }

    #[test]
    fn rolling_buckets() {
        let p = Period::parse("24h").expect("24h");
        assert_eq!(p.bucket_ms(), Some(3_600_000));
        let slot = p.slot_at(10 * 3_600_000 + 5);
        assert_eq!(slot.start_ms, 10 * 3_600_000);
        assert_eq!(slot.resets_at_ms, 34 * 3_600_000);
        assert_eq!(slot.window_start_ms, 0);
        assert_eq!(p.prior_buckets(slot.start_ms).len(), 10);
        assert_eq!(p.prior_buckets(100 * 3_600_000).len(), 23);
        assert_eq!(Period::parse("1m").expect("1m").bucket_ms(), Some(2500));
    }
}
