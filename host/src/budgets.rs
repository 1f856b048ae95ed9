//! Spend against budget, for `/admin/usage/budgets` and `sluice usage --budgets`: every key and
//! team budget the `budget` plugins' configs, the tiers and the keys' attributes give, with what
//! the usage rows say was spent in its current period.
//!
//! The budgets are read the way the plugin reads them (the `sluice-budgets` crate), for the keys
//! of the `key-auth` plugins' configs and the gateway's managed keys. Spend is the usage rows'
//! cost (what the `cost` plugin priced, from the same price table the budget charges from), so a
//! request still running is not in it yet.
//!
//! [`seed`] is what makes a budget hold across restarts: the plugin counts in the `kv` store, which
//! lives in memory (or in a Redis that may have restarted), so at start (and after a reload, for
//! budgets it has not counted yet) the host puts each budget's spend so far this period, from the
//! usage rows, into the plugin's counters.

use crate::capabilities::{Kv, KvUnavailable};
use crate::config::Config;
use crate::pipeline::stages::Tier;
use crate::store::sql::params;
use crate::store::{Db, Exec, KeyStore, StoreError};
use serde::Serialize;
use sluice_budgets::{Budget, Scope, Subject, applicable, nanos_to_usd, rfc3339, usd_to_nanos};
use std::collections::BTreeMap;

/// One budget and its spend in the current period.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BudgetLine {
    /// `key`, `team` or `model`.
    pub scope: String,
    /// The key id, team or model.
    pub id: String,
    /// `day`, `week`, `month` or a rolling window such as `24h`.
    pub period: String,
    /// The cap in USD.
    pub limit_usd: f64,
    /// Spent in the current period (rolling: the window), in USD.
    pub spent_usd: f64,
    /// `limit_usd - spent_usd`, never negative.
    pub remaining_usd: f64,
    /// Where the current period (or window) started, RFC 3339.
    pub period_start: String,
    /// When it resets (a rolling window: when its newest bucket ends), RFC 3339.
    pub resets_at: String,
}

/// A key's identity as budgets see it.
struct KeyInfo {
    id: String,
    team: Option<String>,
    attributes: Vec<(String, String)>,
}

/// Every key and team budget of `config`, with its spend at `now_ms`. Empty without a `budget`
/// plugin. Model budgets are listed too (spend over every key).
pub fn report(
    config: &Config,
    db: &Db,
    keys: &KeyStore,
    now_ms: u64,
) -> Result<Vec<BudgetLine>, StoreError> {
    let mut budgets: BTreeMap<(String, String, String), Budget> = BTreeMap::new();
    for plugin in plugins(config) {
        for b in budgets_of(config, &plugin.1, keys, db, None)? {
            budgets.insert((b.scope.kind().into(), b.scope.id(), b.period.label()), b);
        }
    }
    budgets
        .into_values()
        .map(|b| line(db, &b, now_ms))
        .collect()
}

/// A budget counter to seed: the plugin's total and spent counters of one slot (namespaced), the
/// spend so far in nanodollars, and when the slot's counters expire.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    /// The slot's total counter, whose presence says the plugin has counted this slot.
    pub total: String,
    /// The slot's spent counter.
    pub spent: String,
    /// Spend so far, in nanodollars.
    pub nanos: i64,
    /// When the slot's counters expire (ms since the epoch).
    pub expires_at_ms: u64,
}

/// The spend so far of each budget's current window (from the usage rows), as counters for the
/// `budget` plugins. User budgets are seeded for the end users with spend in the window. The
/// counters are put in the `kv` store by [`seed`] where the plugins have not counted them yet.
pub fn seeds(
    config: &Config,
    db: &Db,
    keys: &KeyStore,
    now_ms: u64,
) -> Result<Vec<Seed>, StoreError> {
    let mut out = Vec::new();
    for (name, c) in plugins(config) {
        let prefix = format!("{name}\u{1f}");
        for b in budgets_of(config, &c, keys, db, Some(now_ms))? {
            for start in b.period.slots_in_window(now_ms) {
                let (total, spent) = b.counter_keys(start);
                let slot = b.period.slot_at(start);
                let end = match b.period.bucket_ms() {
                    Some(bucket) => start + bucket,
                    None => b.period.window_at(start).end_ms,
                };
                let usd = spend(db, &b.scope, start, end.min(now_ms + 1))?;
                if usd > 0.0 {
                    out.push(Seed {
                        total: format!("{prefix}{total}"),
                        spent: format!("{prefix}{spent}"),
                        nanos: usd_to_nanos(usd),
                        expires_at_ms: slot.expires_at_ms,
                    });
                }
            }
        }
    }
    Ok(out)
}

/// Puts each of `seeds` into the `kv` store where its total counter is absent (one atomic step
/// per slot, so replicas sharing Redis seed it once); returns how many it put.
pub async fn seed(kv: &Kv, seeds: &[Seed]) -> Result<usize, KvUnavailable> {
    let mut seeded = 0;
    for s in seeds {
        if kv
            .add_pair_if_absent(&s.total, &s.spent, s.nanos, s.expires_at_ms)
            .await?
        {
            seeded += 1;
        }
    }
    Ok(seeded)
}

/// The `budget` plugins of `config`: (name, parsed config).
fn plugins(config: &Config) -> Vec<(String, sluice_budgets::Config)> {
    config
        .plugins
        .iter()
        .filter(|p| p.source == "builtin:budget")
        .filter_map(|p| {
            let c = sluice_budgets::Config::from_json(&p.config_json()).ok()?;
            Some((p.name.clone(), c))
        })
        .collect()
}

/// The key, team and model budgets of one plugin's config over the known keys; with `users_at`,
/// also the user budgets of the end users with spend in their window at that time.
fn budgets_of(
    config: &Config,
    c: &sluice_budgets::Config,
    keys: &KeyStore,
    db: &Db,
    users_at: Option<u64>,
) -> Result<Vec<Budget>, StoreError> {
    let tiers = Tier::all(config);
    let mut out = Vec::new();
    for key in known_keys(config, keys)? {
        let attributes = Tier::attributes(&tiers, &key.attributes);
        let subject = Subject {
            key_id: &key.id,
            team: key.team.as_deref(),
            attributes: &attributes,
            user_id: None,
            model: "",
        };
        out.extend(applicable(c, &subject));
        let Some(now) = users_at else { continue };
        // User budgets: the same rules with a user id, for the users who spent in the window.
        let probe = Subject {
            user_id: Some(""),
            ..subject
        };
        for b in applicable(c, &probe) {
            if !matches!(b.scope, Scope::User { .. }) {
                continue;
            }
            let since = b.period.window_at(now).start_ms;
            for user in users(db, &key.id, since)? {
                out.push(Budget {
                    scope: Scope::User {
                        key_id: key.id.clone(),
                        user_id: user,
                    },
                    period: b.period,
                    limit_nanos: b.limit_nanos,
                });
            }
        }
    }
    for (model, limits) in &c.models {
        for (period, nanos) in limits.iter().filter(|(_, n)| **n > 0) {
            out.push(Budget {
                scope: Scope::Model {
                    model: model.clone(),
                },
                period: *period,
                limit_nanos: *nanos,
            });
        }
    }
    Ok(out)
}

/// The end users of `key_id` with usage since `since_ms`.
fn users(db: &Db, key_id: &str, since_ms: u64) -> Result<Vec<String>, StoreError> {
    db.query(
        "SELECT DISTINCT user_id FROM usage
         WHERE key_id = $1 AND user_id IS NOT NULL AND at_ms >= $2",
        params![key_id, since_ms as i64],
    )?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// USD the usage rows of `scope` record in [from, until).
fn spend(db: &Db, scope: &Scope, from: u64, until: u64) -> Result<f64, StoreError> {
    let (condition, a, b) = match scope {
        Scope::Key { key_id } => ("key_id = $1", key_id.as_str(), None),
        Scope::Team { team } => ("team = $1", team.as_str(), None),
        Scope::Model { model } => ("model = $1", model.as_str(), None),
        Scope::User { key_id, user_id } => (
            "key_id = $1 AND user_id = $4",
            key_id.as_str(),
            Some(user_id.as_str()),
        ),
    };
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION) FROM usage
         WHERE {condition} AND at_ms >= $2 AND at_ms < $3"
    );
    let (from, until) = (from as i64, until as i64);
    let row = match b {
        None => db.query_one(&sql, params![a, from, until])?,
        Some(user) => db.query_one(&sql, params![a, from, until, user])?,
    };
    row.get(0)
}

/// The keys budgets may apply to: those of `key-auth` configs, then the managed ones (live).
fn known_keys(config: &Config, keys: &KeyStore) -> Result<Vec<KeyInfo>, StoreError> {
    let mut out = Vec::new();
    for p in config
        .plugins
        .iter()
        .filter(|p| p.source == "builtin:key-auth")
    {
        let Some(list) = p.config.as_ref().and_then(|t| t.get("keys")) else {
            continue;
        };
        for k in list.as_array().map(Vec::as_slice).unwrap_or_default() {
            let Some(id) = k.get("id").and_then(|v| v.as_str()) else {
                continue;
            };
            let attributes = k
                .get("attributes")
                .and_then(|a| a.as_table())
                .map(|t| {
                    t.iter()
                        .map(|(name, v)| {
                            let v = v.as_str().map(str::to_string).unwrap_or(v.to_string());
                            (name.clone(), v)
                        })
                        .collect()
                })
                .unwrap_or_default();
            out.push(KeyInfo {
                id: id.to_string(),
                team: k.get("team").and_then(|v| v.as_str()).map(str::to_string),
                attributes,
            });
        }
    }
    let now = crate::time::now_ms();
    for k in keys.list()? {
        if k.revoked_ms.is_some() || k.expires_ms.is_some_and(|e| e <= now) {
            continue;
        }
        out.push(KeyInfo {
            id: k.id,
            team: k.team,
            attributes: k.attributes.into_iter().collect(),
        });
    }
    Ok(out)
}

/// `b` with the spend of its current period from the usage rows.
fn line(db: &Db, b: &Budget, now_ms: u64) -> Result<BudgetLine, StoreError> {
    let window = b.period.window_at(now_ms);
    let spent = spend(db, &b.scope, window.start_ms, window.end_ms)?;
    let limit = nanos_to_usd(b.limit_nanos);
    Ok(BudgetLine {
        scope: b.scope.kind().into(),
        id: b.scope.id(),
        period: b.period.label(),
        limit_usd: limit,
        spent_usd: spent,
        remaining_usd: (limit - spent).max(0.0),
        period_start: rfc3339(window.start_ms),
        resets_at: rfc3339(window.end_ms),
    })
}
