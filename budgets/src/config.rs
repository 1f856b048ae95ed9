//! The budget plugin's config (`[plugins.config]` of `gateway.toml`, as JSON), validated.

use crate::money::{NANOS_PER_USD, usd_to_nanos};
use crate::period::Period;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

/// Budgets per period: period → limit in nano-USD. A limit of 0 is no budget.
pub type Limits = BTreeMap<Period, i64>;

/// The largest budget a config may set, in USD (sums of nano-USD stay far from `i64::MAX`).
pub const MAX_BUDGET_USD: f64 = 1e9;

/// What to do with a request for a model that has no price while a budget applies to it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Unpriced {
    /// Let it through, reserving nothing (it is still charged what it is found to cost).
    #[default]
    Allow,
    /// Refuse it: 403 `model_not_priced`.
    Deny,
}

/// The budget plugin's config, validated.
///
/// ```
/// let c = sluice_budgets::Config::from_json(r#"{"key": {"month": 50}, "thresholds": [0.5, 0.8]}"#)
///     .expect("valid");
/// assert_eq!(c.thresholds, vec![0.5, 0.8]);
/// let e = sluice_budgets::Config::from_json(r#"{"key": {"fortnight": 5}}"#).expect_err("bad");
/// assert!(e.to_string().starts_with("budget config: key.fortnight: unknown period"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Per key (`key`); a key's attributes `budget_usd_<period>` override it per period.
    pub key: Limits,
    /// Per (key, `user_id`) (`user`); attributes `user_budget_usd_<period>` override it.
    pub user: Limits,
    /// Per team (`team`), for teams without their own table.
    pub team: Limits,
    /// Teams' own tables (`teams.<name>`), which replace `team` for them.
    pub teams: BTreeMap<String, Limits>,
    /// Per model over all keys (`models.<name>`), matched on the model the client asked for.
    pub models: BTreeMap<String, Limits>,
    /// Fractions of a budget (each in (0, 1], ascending, distinct) whose crossing fires an event.
    pub thresholds: Vec<f64>,
    /// Output tokens reserved when a request sets no `max_tokens`.
    pub default_max_tokens: u32,
    /// What to do with unpriced models.
    pub unpriced: Unpriced,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            key: Limits::new(),
            user: Limits::new(),
            team: Limits::new(),
            teams: BTreeMap::new(),
            models: BTreeMap::new(),
            thresholds: vec![0.8],
            default_max_tokens: 1024,
            unpriced: Unpriced::Allow,
        }
    }
}

/// Why a config was rejected: the field at fault (`key.fortnight`) and what is wrong with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The field's path, dot-separated (empty for the whole table).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "budget config: {}", self.message)
        } else {
            write!(f, "budget config: {}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ConfigError {}

fn err(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError {
        field: field.into(),
        message: message.into(),
    }
}

const FIELDS: &[&str] = &[
    "key",
    "user",
    "team",
    "teams",
    "models",
    "thresholds",
    "default_max_tokens",
    "unpriced",
];

impl Config {
    /// Parses and validates the config's JSON text (empty text is the empty table).
    pub fn from_json(json: &str) -> Result<Config, ConfigError> {
        if json.trim().is_empty() {
            return Ok(Config::default());
        }
        let value: Value =
            serde_json::from_str(json).map_err(|e| err("", format!("invalid JSON: {e}")))?;
        Config::from_value(&value)
    }

    /// Validates a parsed config table. Unknown fields are errors.
    pub fn from_value(value: &Value) -> Result<Config, ConfigError> {
        let table = match value {
            Value::Null => return Ok(Config::default()),
            Value::Object(t) => t,
            other => return Err(err("", format!("expected a table, got {other}"))),
        };
        let mut c = Config::default();
        for (name, v) in table {
            match name.as_str() {
                "key" => c.key = limits(name, v)?,
                "user" => c.user = limits(name, v)?,
                "team" => c.team = limits(name, v)?,
                "teams" => c.teams = named_limits(name, v)?,
                "models" => c.models = named_limits(name, v)?,
                "thresholds" => c.thresholds = thresholds(v)?,
                "default_max_tokens" => {
                    c.default_max_tokens = v
                        .as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| {
                            err(name, format!("expected a whole number of tokens, got {v}"))
                        })?;
                }
                "unpriced" => {
                    c.unpriced = match v.as_str() {
                        Some("allow") => Unpriced::Allow,
                        Some("deny") => Unpriced::Deny,
                        _ => {
                            return Err(err(
                                name,
                                format!("expected \"allow\" or \"deny\", got {v}"),
                            ));
                        }
                    };
                }
                _ => {
                    return Err(err(
                        name.as_str(),
                        format!("unknown field (expected one of {})", FIELDS.join(", ")),
                    ));
                }
            }
        }
        Ok(c)
    }

    /// The limits of a team: its own table, else `team`.
    pub fn team_limits(&self, team: &str) -> &Limits {
        self.teams.get(team).unwrap_or(&self.team)
    }
}

impl<'de> serde::Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Config::from_value(&value).map_err(serde::de::Error::custom)
    }
}

fn table<'a>(field: &str, v: &'a Value) -> Result<&'a Map<String, Value>, ConfigError> {
    v.as_object()
        .ok_or_else(|| err(field, format!("expected a table, got {v}")))
}

/// A period table: period name → USD.
fn limits(field: &str, v: &Value) -> Result<Limits, ConfigError> {
    let mut out = Limits::new();
    for (name, usd) in table(field, v)? {
        let path = format!("{field}.{name}");
        let period = Period::parse(name).map_err(|m| err(&path, m))?;
        let nanos = match usd.as_f64() {
            Some(x) => budget_nanos(x).map_err(|m| err(&path, m))?,
            None => {
                return Err(err(
                    &path,
                    format!("expected a number of USD (0 or more), got {usd}"),
                ));
            }
        };
        out.insert(period, nanos);
    }
    Ok(out)
}

/// A table of period tables by name (`teams`, `models`).
fn named_limits(field: &str, v: &Value) -> Result<BTreeMap<String, Limits>, ConfigError> {
    let mut out = BTreeMap::new();
    for (name, limits_v) in table(field, v)? {
        out.insert(name.clone(), limits(&format!("{field}.{name}"), limits_v)?);
    }
    Ok(out)
}

/// A budget in USD (finite, 0 to [`MAX_BUDGET_USD`]) in nano-USD.
pub(crate) fn budget_nanos(usd: f64) -> Result<i64, String> {
    if !usd.is_finite() || usd < 0.0 {
        return Err(format!(
            "a budget must be a number of USD, 0 or more (got {usd})"
        ));
    }
    if usd > MAX_BUDGET_USD {
        return Err(format!(
            "a budget may be at most {MAX_BUDGET_USD} USD (got {usd})"
        ));
    }
    let nanos = usd_to_nanos(usd);
    debug_assert!(nanos <= (MAX_BUDGET_USD as i64) * NANOS_PER_USD);
    Ok(nanos)
}

fn thresholds(v: &Value) -> Result<Vec<f64>, ConfigError> {
    let list = v.as_array().ok_or_else(|| {
        err(
            "thresholds",
            format!("expected a list of fractions, got {v}"),
        )
    })?;
    let mut out = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        match t.as_f64() {
            Some(x) if x > 0.0 && x <= 1.0 => out.push(x),
            _ => {
                return Err(err(
                    format!("thresholds[{i}]"),
                    format!("expected a fraction of the budget in (0, 1], got {t}"),
                ));
            }
        }
    }
    out.sort_by(f64::total_cmp);
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let c = Config::from_json(
            r#"{"key": {"month": 50}, "user": {"day": 1}, "team": {"month": 500},
                "thresholds": [0.8, 0.5, 0.8], "default_max_tokens": 2048, "unpriced": "deny",
                "teams": {"research": {"month": 2000}}, "models": {"gpt-4o": {"day": 100, "24h": 0}}}"#,
        )
        .expect("valid");
        assert_eq!(c.key.get(&Period::Month), Some(&(50 * NANOS_PER_USD)));
        assert_eq!(c.thresholds, vec![0.5, 0.8]);
        assert_eq!(c.default_max_tokens, 2048);
        assert_eq!(c.unpriced, Unpriced::Deny);
        assert_eq!(
            c.team_limits("research").get(&Period::Month),
            Some(&(2000 * NANOS_PER_USD))
        );
        assert_eq!(
            c.team_limits("ops").get(&Period::Month),
            Some(&(500 * NANOS_PER_USD))
        );
        assert_eq!(c.models["gpt-4o"].len(), 2);
        assert_eq!(Config::from_json("").expect("empty"), Config::default());
        assert_eq!(
            Config::from_json("{}").expect("empty").thresholds,
            vec![0.8]
        );
    }
}
