//! Money: integer nano-USD, the worst case of a request, and how amounts are written.

/// Nano-USD in one USD. Counters hold integer nano-USD: round(usd × 1e9).
pub const NANOS_PER_USD: i64 = 1_000_000_000;

/// A model's prices in USD per million tokens (the `input` and `output` of the gateway's price
/// table).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Price {
    /// Prompt tokens.
    pub input: f64,
    /// Completion tokens.
    pub output: f64,
}

/// `usd` in nano-USD, rounded to the nearest; negative or non-finite amounts are 0, and amounts
/// beyond `i64` are clamped.
pub fn usd_to_nanos(usd: f64) -> i64 {
    if !usd.is_finite() || usd <= 0.0 {
        return 0;
    }
    let nanos = (usd * NANOS_PER_USD as f64).round();
    if nanos >= i64::MAX as f64 {
        i64::MAX
    } else {
        nanos as i64
    }
}

/// `nanos` in USD.
pub fn nanos_to_usd(nanos: i64) -> f64 {
    nanos as f64 / NANOS_PER_USD as f64
}

/// The most a request can cost, in nano-USD rounded up: `est_prompt_tokens` at `price.input`
/// plus `max_tokens` (else `default_max_tokens`) times `n` (at least 1) at `price.output`.
pub fn worst_case_nanos(
    price: &Price,
    est_prompt_tokens: u32,
    max_tokens: Option<u32>,
    n: u32,
    default_max_tokens: u32,
) -> i64 {
    let output_tokens = f64::from(max_tokens.unwrap_or(default_max_tokens)) * f64::from(n.max(1));
    let per_million = f64::from(est_prompt_tokens) * non_negative(price.input)
        + output_tokens * non_negative(price.output);
    // USD per million tokens × tokens / 1e6 × 1e9 = × 1000 nano-USD.
    ceil_nanos(per_million * 1000.0)
}

fn non_negative(x: f64) -> f64 {
    if x.is_finite() && x > 0.0 { x } else { 0.0 }
}

/// Rounds up, except that a value within float noise of an integer is that integer (so that
/// 0.1 × 3000 costs 300 nano-USD, not 301).
fn ceil_nanos(x: f64) -> i64 {
    if !x.is_finite() || x <= 0.0 {
        return 0;
    }
    let nearest = x.round();
    let v = if (x - nearest).abs() <= 1e-9 * x.max(1.0) {
        nearest
    } else {
        x.ceil()
    };
    if v >= i64::MAX as f64 {
        i64::MAX
    } else {
        v as i64
    }
}

/// `nanos` as USD with exactly `decimals` (at most 9) decimals, rounded half up:
/// `format_usd(49_990_000_000, 4)` is `49.9900`.
pub fn format_usd(nanos: i64, decimals: u32) -> String {
    let decimals = decimals.min(9);
    let unit = 10_i128.pow(9 - decimals);
    let n = i128::from(nanos);
    let sign = if n < 0 { "-" } else { "" };
    let rounded = (n.abs() + unit / 2) / unit;
    let scale = 10_i128.pow(decimals);
    let (whole, frac) = (rounded / scale, rounded % scale);
    if decimals == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{frac:0width$}", width = decimals as usize)
    }
}

/// A budget's limit as written in headers and messages: at least two decimals, more when the
/// limit has them (`50.00`, `12.50`, `0.0105`).
pub fn format_limit(nanos: i64) -> String {
    let full = format_usd(nanos, 9);
    let trimmed = full.trim_end_matches('0');
    match trimmed.split_once('.') {
        Some((_, frac)) if frac.len() >= 2 => trimmed.to_string(),
        _ => format_usd(nanos, 2),
    }
}

/// What is left of a budget, with 6 decimals, rounded down and never negative.
pub fn format_remaining(nanos: i64) -> String {
    let n = nanos.max(0);
    format_usd(n - n % 1000, 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_amounts() {
        assert_eq!(format_usd(49_990_000_000, 4), "49.9900");
        assert_eq!(format_usd(49_999_950_000, 4), "50.0000");
        assert_eq!(format_usd(1, 9), "0.000000001");
        assert_eq!(format_usd(-1_500_000_000, 2), "-1.50");
        assert_eq!(format_limit(50 * NANOS_PER_USD), "50.00");
        assert_eq!(format_limit(12_500_000_000), "12.50");
        assert_eq!(format_limit(10_500_000), "0.0105");
        assert_eq!(format_remaining(1_234_567_899), "1.234567");
        assert_eq!(format_remaining(-5), "0.000000");
    }

    #[test]
    fn converts_usd() {
        assert_eq!(usd_to_nanos(0.0007), 700_000);
        assert_eq!(usd_to_nanos(50.0), 50 * NANOS_PER_USD);
        assert_eq!(usd_to_nanos(-1.0), 0);
        assert_eq!(usd_to_nanos(f64::NAN), 0);
        assert_eq!(usd_to_nanos(1e30), i64::MAX);
        assert!((nanos_to_usd(40_200_000_000) - 40.2).abs() < 1e-12);
    }
}
