//! Spend against budget, for `/admin/usage/budgets` and `sluice usage --budgets`: every key and
//! team budget the `budget` plugins' configs, the tiers and the keys' attributes give, with what
//! the usage rows say was spent in its current period.
//!
//! The budgets are read the way the plugin reads them (the `sluice-budgets` crate), for the keys
//! of the `key-auth` plugins' configs and the gateway's managed keys. Spend is the usage rows'
//! cost (what the `cost` plugin priced, from the same price table the budget charges from), so a
//! request still running is not in it yet.

use crate::config::Config;
use crate::pipeline::stages::Tier;
use crate::store::{Db, KeyStore, StoreError};
use serde::Serialize;
use sluice_budgets::{Budget, Scope, Subject, applicable, nanos_to_usd, rfc3339};
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
    let configs: Vec<sluice_budgets::Config> = config
        .plugins
        .iter()
        .filter(|p| p.source == "builtin:budget")
        .filter_map(|p| sluice_budgets::Config::from_json(&p.config_json()).ok())
        .collect();
    if configs.is_empty() {
        return Ok(Vec::new());
    }
    let tiers = Tier::all(config);
    let mut budgets: BTreeMap<(String, String, String), Budget> = BTreeMap::new();
    for key in known_keys(config, keys)? {
        let attributes = Tier::attributes(&tiers, &key.attributes);
        let subject = Subject {
            key_id: &key.id,
            team: key.team.as_deref(),
            attributes: &attributes,
            user_id: None,
            model: "",
        };
        for c in &configs {
            for b in applicable(c, &subject) {
                budgets.insert((b.scope.kind().into(), b.scope.id(), b.period.label()), b);
            }
        }
    }
    for c in &configs {
        for (model, limits) in &c.models {
            for (period, nanos) in limits.iter().filter(|(_, n)| **n > 0) {
                let b = Budget {
                    scope: Scope::Model {
                        model: model.clone(),
                    },
                    period: *period,
                    limit_nanos: *nanos,
                };
                budgets.insert(("model".into(), model.clone(), period.label()), b);
            }
        }
    }
    budgets
        .into_values()
        .map(|b| line(db, &b, now_ms))
        .collect()
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
    let (column, id) = match &b.scope {
        Scope::Key { key_id } => ("key_id", key_id.clone()),
        Scope::Team { team } => ("team", team.clone()),
        Scope::Model { model } => ("model", model.clone()),
        Scope::User { key_id, .. } => ("key_id", key_id.clone()),
    };
    let sql = format!(
        "SELECT COALESCE(SUM(cost_usd), 0) FROM usage
         WHERE {column} = ?1 AND at_ms >= ?2 AND at_ms < ?3"
    );
    let spent: f64 = db.with(|c| {
        c.query_row(
            &sql,
            rusqlite::params![id, window.start_ms as i64, window.end_ms as i64],
            |r| r.get(0),
        )
    })?;
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
