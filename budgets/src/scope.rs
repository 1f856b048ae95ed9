//! Who a budget caps (key, end user, team, model) and which budgets apply to a request.

use crate::config::{Config, Limits, budget_nanos};
use crate::money::{format_limit, nanos_to_usd};
use crate::period::Period;

/// What a budget caps.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// One key.
    Key {
        /// The key's id.
        key_id: String,
    },
    /// One end user (`user_id`) of one key.
    User {
        /// The key's id.
        key_id: String,
        /// The end user's id.
        user_id: String,
    },
    /// A team (`principal.team`).
    Team {
        /// The team's name.
        team: String,
    },
    /// A model over all keys (the name the client asked for).
    Model {
        /// The model's name.
        model: String,
    },
}

impl Scope {
    /// `key`, `user`, `team` or `model`.
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Key { .. } => "key",
            Scope::User { .. } => "user",
            Scope::Team { .. } => "team",
            Scope::Model { .. } => "model",
        }
    }

    /// The scope's id: the key id, `<key id>/<user id>`, the team or the model.
    pub fn id(&self) -> String {
        match self {
            Scope::Key { key_id } => key_id.clone(),
            Scope::User { key_id, user_id } => format!("{key_id}/{user_id}"),
            Scope::Team { team } => team.clone(),
            Scope::Model { model } => model.clone(),
        }
    }

    /// `kind:id`, as the `x-sluice-budget-scope` header gives it: `key:k1`, `user:k1/u-7`,
    /// `team:research`, `model:gpt-4o`.
    pub fn label(&self) -> String {
        format!("{}:{}", self.kind(), self.id())
    }

    /// The scope in a sentence: `key k1`, `user u-7 of key k1`, `team research`, `model gpt-4o`.
    pub fn describe(&self) -> String {
        match self {
            Scope::User { key_id, user_id } => format!("user {user_id} of key {key_id}"),
            _ => format!("{} {}", self.kind(), self.id()),
        }
    }

    /// The scope in counter keys: `key|k1`, `user|k1/u-7`; `%`, `|` and `/` inside ids are
    /// escaped (`%25`, `%7C`, `%2F`) so that no two scopes share a name.
    pub fn counter_name(&self) -> String {
        let id = match self {
            Scope::User { key_id, user_id } => format!("{}/{}", escape(key_id), escape(user_id)),
            Scope::Key { key_id: id } | Scope::Team { team: id } | Scope::Model { model: id } => {
                escape(id)
            }
        };
        format!("{}|{id}", self.kind())
    }

    /// The scope from its parts as stored in a reservation record.
    pub(crate) fn from_parts(kind: &str, id: String, user_id: Option<String>) -> Option<Scope> {
        Some(match (kind, user_id) {
            ("key", None) => Scope::Key { key_id: id },
            ("user", Some(user_id)) => Scope::User {
                key_id: id,
                user_id,
            },
            ("team", None) => Scope::Team { team: id },
            ("model", None) => Scope::Model { model: id },
            _ => return None,
        })
    }

    /// The parts stored in a reservation record: (kind, id or key id, user id).
    pub(crate) fn parts(&self) -> (&'static str, String, Option<String>) {
        match self {
            Scope::User { key_id, user_id } => ("user", key_id.clone(), Some(user_id.clone())),
            other => (other.kind(), other.id(), None),
        }
    }
}

fn escape(id: &str) -> String {
    id.replace('%', "%25")
        .replace('|', "%7C")
        .replace('/', "%2F")
}

/// What the budgets of a request depend on: the principal's key, team and attributes, the end
/// user and the model asked for.
#[derive(Clone, Copy, Debug)]
pub struct Subject<'a> {
    /// The key's id.
    pub key_id: &'a str,
    /// The key's team.
    pub team: Option<&'a str>,
    /// The key's attributes (`budget_usd_<period>`, `user_budget_usd_<period>`).
    pub attributes: &'a [(String, String)],
    /// The end user (`user_id`), if any.
    pub user_id: Option<&'a str>,
    /// The model the client asked for; empty when none.
    pub model: &'a str,
}

/// One budget: a scope, a period and a limit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Budget {
    /// What it caps.
    pub scope: Scope,
    /// The period it is counted over.
    pub period: Period,
    /// The cap in nano-USD (more than 0).
    pub limit_nanos: i64,
}

impl Budget {
    /// The cap in USD.
    pub fn limit_usd(&self) -> f64 {
        nanos_to_usd(self.limit_nanos)
    }

    /// `<scope label> <period label>`: `key:k1 month`, `user:k1/u-7 24h`.
    pub fn label(&self) -> String {
        format!("{} {}", self.scope.label(), self.period.label())
    }

    /// The budget in a sentence: `key k1's $50.00 monthly budget`.
    pub fn describe(&self) -> String {
        format!(
            "{}'s ${} {} budget",
            self.scope.describe(),
            format_limit(self.limit_nanos),
            self.period.adjective()
        )
    }

    /// The names of the budget's counters for the slot starting at `slot_start_ms`: (total =
    /// reserved + spent, spent), such as `t|key|k1|month|1764547200000`.
    pub fn counter_keys(&self, slot_start_ms: u64) -> (String, String) {
        counter_keys(&self.scope, &self.period, slot_start_ms)
    }

    /// The (total, spent) counters that make up the budget's window at `now_ms`: one pair for a
    /// calendar period, 24 for a rolling window (newest first). The budget's spend in its
    /// window is the sum of the spent counters (as the plugin's `kv` namespace holds them).
    pub fn window_keys(&self, now_ms: u64) -> Vec<(String, String)> {
        self.period
            .slots_in_window(now_ms)
            .into_iter()
            .map(|start| self.counter_keys(start))
            .collect()
    }
}

/// The names of the counters of `scope` and `period` for the slot starting at `slot_start_ms`:
/// (total, spent).
pub fn counter_keys(scope: &Scope, period: &Period, slot_start_ms: u64) -> (String, String) {
    let tail = format!(
        "{}|{}|{slot_start_ms}",
        scope.counter_name(),
        period.label()
    );
    (format!("t|{tail}"), format!("s|{tail}"))
}

/// Every budget that applies to `subject`, with the warnings of attributes that were ignored.
/// Order: key, user, team, model; within each, by period. Limits of 0 are left out.
pub fn applicable_with_warnings(config: &Config, subject: &Subject) -> (Vec<Budget>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    let mut push = |scope: Scope, limits: Limits| {
        for (period, limit_nanos) in limits {
            if limit_nanos > 0 {
                out.push(Budget {
                    scope: scope.clone(),
                    period,
                    limit_nanos,
                });
            }
        }
    };
    let key_limits = with_overrides(&config.key, subject, "budget_usd_", &mut warnings);
    push(
        Scope::Key {
            key_id: subject.key_id.to_string(),
        },
        key_limits,
    );
    if let Some(user_id) = subject.user_id {
        let user_limits = with_overrides(&config.user, subject, "user_budget_usd_", &mut warnings);
        push(
            Scope::User {
                key_id: subject.key_id.to_string(),
                user_id: user_id.to_string(),
            },
            user_limits,
        );
    }
    if let Some(team) = subject.team {
        push(
            Scope::Team {
                team: team.to_string(),
            },
            config.team_limits(team).clone(),
        );
    }
    if let Some(limits) = config.models.get(subject.model) {
        push(
            Scope::Model {
                model: subject.model.to_string(),
            },
            limits.clone(),
        );
    }
    (out, warnings)
}

/// Every budget that applies to `subject` (see [`applicable_with_warnings`]).
pub fn applicable(config: &Config, subject: &Subject) -> Vec<Budget> {
    applicable_with_warnings(config, subject).0
}

/// `base` with the key's attributes `<prefix><period>` laid over it.
fn with_overrides(
    base: &Limits,
    subject: &Subject,
    prefix: &str,
    warnings: &mut Vec<String>,
) -> Limits {
    let mut limits = base.clone();
    for (name, value) in subject.attributes {
        let Some(period_name) = name.strip_prefix(prefix) else {
            continue;
        };
        let parsed = Period::parse(period_name).and_then(|period| {
            let usd: f64 = value
                .trim()
                .parse()
                .map_err(|_| "not a number of USD".to_string())?;
            Ok((period, budget_nanos(usd)?))
        });
        match parsed {
            Ok((period, nanos)) => {
                limits.insert(period, nanos);
            }
            Err(why) => warnings.push(format!(
                "key {}: attribute {name} = {value:?} ignored: {why}",
                subject.key_id
            )),
        }
    }
    limits
}
