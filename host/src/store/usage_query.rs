//! Reading usage back: totals per group, a time series, recent errors, and the recent request
//! rate, over a time range and optionally for one key only (a key holder sees its own rows).

use super::db::{Db, Exec, StoreError};
use super::sql::params;
use serde::Serialize;

/// What to total, over which time range, for whom.
#[derive(Debug, Clone)]
pub struct UsageQuery {
    /// `key`, `team`, `user`, `model` or `provider`.
    pub group_by: String,
    /// From (ms since the Unix epoch, inclusive).
    pub since_ms: u64,
    /// Until (exclusive).
    pub until_ms: u64,
    /// Only this key's rows; None for every key.
    pub key_id: Option<String>,
}

/// Totals of one group.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UsageTotals {
    /// The group's value (key id, user id, model or provider); empty for none.
    pub group: String,
    /// Requests.
    pub requests: u64,
    /// Requests that failed (status >= 400).
    pub errors: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Cached prompt tokens.
    pub cached_tokens: u64,
    /// Cost in USD.
    pub cost_usd: f64,
    /// Seconds of audio (transcriptions and translations).
    pub audio_seconds: f64,
}

/// One time bucket of a series.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UsagePoint {
    /// The bucket's start (ms since the Unix epoch).
    pub t: u64,
    /// Requests.
    pub requests: u64,
    /// Requests that failed.
    pub errors: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Cost in USD.
    pub cost_usd: f64,
}

/// A failed request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UsageError {
    /// When it finished.
    pub at_ms: u64,
    /// Its id.
    pub request_id: String,
    /// Its key.
    pub key_id: Option<String>,
    /// Its end user.
    pub user_id: Option<String>,
    /// Its endpoint family.
    pub endpoint: String,
    /// The model (or MCP tool) asked for.
    pub model: String,
    /// The status sent.
    pub status: u16,
}

/// The SQL condition on `q`'s range (`$1`, `$2`) and key (`$3`).
const RANGE: &str = "at_ms >= $1 AND at_ms < $2 AND (CAST($3 AS TEXT) IS NULL OR key_id = $3)";

/// Requests that failed, summed (PostgreSQL's `SUM` of a `BIGINT` is `NUMERIC`: cast back).
const ERRORS: &str = "CAST(SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS BIGINT)";

/// `SUM` of an integer column, as an integer.
fn sum(column: &str) -> String {
    format!("CAST(SUM({column}) AS BIGINT)")
}

fn until(q: &UsageQuery) -> i64 {
    q.until_ms.min(i64::MAX as u64) as i64
}

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

/// Totals grouped by key, team, user, model or provider over a time range.
pub fn query_usage(db: &Db, q: &UsageQuery) -> Result<Vec<UsageTotals>, StoreError> {
    let column = match q.group_by.as_str() {
        "key" => "key_id",
        "user" => "user_id",
        "team" => "team",
        "model" => "model",
        "provider" => "provider",
        other => {
            return Err(StoreError::Invalid(format!(
                "group_by must be key, team, user, model or provider, not `{other}`"
            )));
        }
    };
    let sql = format!(
        "SELECT COALESCE({column}, ''), COUNT(*), {ERRORS}, {}, {}, {},
                CAST(SUM(cost_usd) AS DOUBLE PRECISION), CAST(SUM(audio_seconds) AS DOUBLE PRECISION)
         FROM usage WHERE {RANGE}
         GROUP BY 1 ORDER BY 7 DESC, 2 DESC, 1",
        sum("prompt_tokens"),
        sum("completion_tokens"),
        sum("cached_tokens"),
    );
    db.query(
        &sql,
        params![q.since_ms as i64, until(q), q.key_id.as_deref()],
    )?
    .iter()
    .map(|r| {
        Ok(UsageTotals {
            group: r.get(0)?,
            requests: count(r.get(1)?),
            errors: count(r.get(2)?),
            prompt_tokens: count(r.get(3)?),
            completion_tokens: count(r.get(4)?),
            cached_tokens: count(r.get(5)?),
            cost_usd: r.get(6)?,
            audio_seconds: r.get(7)?,
        })
    })
    .collect()
}

/// Totals per `bucket_ms` from `since_ms` to `until_ms`, oldest first, every bucket present
/// (empty ones zero).
pub fn usage_series(
    db: &Db,
    q: &UsageQuery,
    bucket_ms: u64,
) -> Result<Vec<UsagePoint>, StoreError> {
    let bucket = bucket_ms.max(1);
    let sql = format!(
        "SELECT (at_ms - $1) / $4, COUNT(*), {ERRORS}, {}, {},
                CAST(SUM(cost_usd) AS DOUBLE PRECISION)
         FROM usage WHERE {RANGE} GROUP BY 1",
        sum("prompt_tokens"),
        sum("completion_tokens"),
    );
    let filled = db
        .query(
            &sql,
            params![
                q.since_ms as i64,
                until(q),
                q.key_id.as_deref(),
                bucket as i64
            ],
        )?
        .iter()
        .map(|r| {
            Ok((
                count(r.get(0)?),
                UsagePoint {
                    t: 0,
                    requests: count(r.get(1)?),
                    errors: count(r.get(2)?),
                    prompt_tokens: count(r.get(3)?),
                    completion_tokens: count(r.get(4)?),
                    cost_usd: r.get(5)?,
                },
            ))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let n = q
        .until_ms
        .saturating_sub(q.since_ms)
        .div_ceil(bucket)
        .min(10_000);
    let mut out: Vec<UsagePoint> = (0..n)
        .map(|i| UsagePoint {
            t: q.since_ms + i * bucket,
            requests: 0,
            errors: 0,
            prompt_tokens: 0,
            completion_tokens: 0,
            cost_usd: 0.0,
        })
        .collect();
    for (i, p) in filled {
        if let Some(slot) = out.get_mut(i as usize) {
            *slot = UsagePoint { t: slot.t, ..p };
        }
    }
    Ok(out)
}

/// The latest failed requests in the range, newest first.
pub fn recent_errors(db: &Db, q: &UsageQuery, limit: u32) -> Result<Vec<UsageError>, StoreError> {
    let sql = format!(
        "SELECT at_ms, request_id, key_id, user_id, endpoint, model, status FROM usage
         WHERE {RANGE} AND status >= 400 ORDER BY at_ms DESC, id DESC LIMIT $4"
    );
    db.query(
        &sql,
        params![q.since_ms as i64, until(q), q.key_id.as_deref(), limit],
    )?
    .iter()
    .map(|r| {
        Ok(UsageError {
            at_ms: count(r.get(0)?),
            request_id: r.get(1)?,
            key_id: r.get(2)?,
            user_id: r.get(3)?,
            endpoint: r.get(4)?,
            model: r.get(5)?,
            status: u16::try_from(r.get::<i64>(6)?).unwrap_or(0),
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{TestDb, on_both_engines};
    use crate::store::{UsageRow, UsageWriter};

    fn row(i: u64, key: &str, status: u16) -> UsageRow {
        UsageRow {
            at_ms: 1000 + i,
            request_id: format!("r{i}"),
            key_id: Some(key.into()),
            endpoint: "chat.completions".into(),
            model: "m".into(),
            provider: if i.is_multiple_of(2) { "p0" } else { "p1" }.into(),
            status,
            prompt_tokens: 10,
            completion_tokens: 2,
            cost_usd: 0.5,
            audio_seconds: 1.5,
            ..UsageRow::default()
        }
    }

    fn q(group_by: &str, since_ms: u64, until_ms: u64, key: Option<&str>) -> UsageQuery {
        UsageQuery {
            group_by: group_by.into(),
            since_ms,
            until_ms,
            key_id: key.map(str::to_string),
        }
    }

    on_both_engines!(
        #[tokio::test]
        async fn rows_are_totalled_by_group_series_and_errors
    );
    async fn rows_are_totalled_by_group_series_and_errors(t: TestDb) {
        let db = t.db.clone();
        let w = UsageWriter::start(db.clone());
        for i in 0..1000 {
            w.record(row(
                i,
                if i % 4 == 0 { "a" } else { "b" },
                if i % 10 == 0 { 500 } else { 200 },
            ));
        }
        w.flush().await;
        // The store is read on a blocking thread, as the gateway reads it.
        tokio::task::spawn_blocking(move || check_totals(db))
            .await
            .expect("checks");
    }

    fn check_totals(db: Db) {
        let totals = query_usage(&db, &q("key", 0, u64::MAX, None)).expect("query");
        assert_eq!(totals.len(), 2);
        let b = totals.iter().find(|t| t.group == "b").expect("b");
        assert_eq!(b.requests, 750);
        assert_eq!(b.prompt_tokens, 7500);
        assert!((b.cost_usd - 375.0).abs() < 1e-9);
        assert!((b.audio_seconds - 1125.0).abs() < 1e-9);
        let a = totals.iter().find(|t| t.group == "a").expect("a");
        assert_eq!(a.errors, 50);
        let some = query_usage(&db, &q("model", 1500, 1600, None)).expect("query");
        assert_eq!(some[0].requests, 100);
        assert!(query_usage(&db, &q("x", 0, 1, None)).is_err());

        // One key's view holds its rows only.
        let only_a = query_usage(&db, &q("provider", 0, u64::MAX, Some("a"))).expect("query");
        assert_eq!(only_a.iter().map(|t| t.requests).sum::<u64>(), 250);
        assert!(
            only_a.iter().all(|t| t.group == "p0"),
            "a's rows are the even ones"
        );

        let series = usage_series(&db, &q("key", 1000, 2000, None), 100).expect("series");
        assert_eq!(series.len(), 10);
        assert_eq!(series[3].t, 1300);
        assert!(series.iter().all(|p| p.requests == 100 && p.errors == 10));
        let wide = usage_series(&db, &q("key", 0, 3000, Some("a")), 1000).expect("series");
        assert_eq!(
            wide.iter().map(|p| p.requests).collect::<Vec<_>>(),
            [0, 250, 0]
        );

        let errors = recent_errors(&db, &q("key", 0, u64::MAX, Some("a")), 3).expect("errors");
        assert_eq!(errors.len(), 3);
        assert_eq!(errors[0].request_id, "r980", "newest first, key a's only");
        assert!(
            errors
                .iter()
                .all(|e| e.status == 500 && e.key_id.as_deref() == Some("a"))
        );
    }
}
