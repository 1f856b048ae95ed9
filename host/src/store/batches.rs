//! Batches: the batch object (OpenAI's shape), the creator it runs as, and every input line with
//! its result once it ran. A line's result is committed before it counts, so a restarted gateway
//! resumes a batch with the lines that have none, and never runs a recorded line again.

use super::db::{Db, Exec, StoreError};
use super::sql::{self, params};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Statuses in which a batch still has work (the runner picks these up, also after a restart).
pub const ACTIVE: &[&str] = &["validating", "in_progress", "finalizing", "cancelling"];

/// A batch object as OpenAI's API shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Batch {
    /// `batch_` and 24 hex digits.
    pub id: String,
    /// Always `batch`.
    pub object: String,
    /// The endpoint every line calls, such as `/v1/chat/completions`.
    pub endpoint: String,
    /// Validation errors, each naming its line.
    pub errors: Option<BatchErrors>,
    /// The uploaded input file.
    pub input_file_id: String,
    /// Always `24h`.
    pub completion_window: String,
    /// `validating`, `failed`, `in_progress`, `finalizing`, `completed`, `expired`, `cancelling`
    /// or `cancelled`.
    pub status: String,
    /// The file of successful lines' results.
    pub output_file_id: Option<String>,
    /// The file of failed lines' results.
    pub error_file_id: Option<String>,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub in_progress_at: Option<u64>,
    /// Unix seconds: the end of the completion window.
    pub expires_at: Option<u64>,
    /// Unix seconds.
    pub finalizing_at: Option<u64>,
    /// Unix seconds.
    pub completed_at: Option<u64>,
    /// Unix seconds.
    pub failed_at: Option<u64>,
    /// Unix seconds.
    pub expired_at: Option<u64>,
    /// Unix seconds.
    pub cancelling_at: Option<u64>,
    /// Unix seconds.
    pub cancelled_at: Option<u64>,
    /// Lines in all, succeeded and failed so far.
    pub request_counts: RequestCounts,
    /// The creator's key-value pairs.
    pub metadata: Option<Map<String, Value>>,
    /// Tokens used by the lines that ran.
    pub usage: Option<BatchUsage>,
}

/// `errors` of a batch.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchErrors {
    /// Always `list`.
    pub object: String,
    /// The errors.
    pub data: Vec<BatchError>,
}

/// One validation error.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BatchError {
    /// Machine-readable code.
    pub code: String,
    /// What is wrong.
    pub message: String,
    /// The field at fault.
    pub param: Option<String>,
    /// The input line (1-based).
    pub line: Option<u64>,
}

/// `request_counts` of a batch.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct RequestCounts {
    /// Lines in the input.
    pub total: u64,
    /// Lines answered with a 2xx.
    pub completed: u64,
    /// Lines that failed.
    pub failed: u64,
}

/// `usage` of a batch.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct BatchUsage {
    /// Prompt tokens.
    pub input_tokens: u64,
    /// Of which cached.
    pub input_tokens_details: CachedTokens,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Reasoning tokens among them (not reported by every provider).
    pub output_tokens_details: ReasoningTokens,
    /// Both.
    pub total_tokens: u64,
}

/// `input_tokens_details`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct CachedTokens {
    /// Cached prompt tokens.
    pub cached_tokens: u64,
}

/// `output_tokens_details`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct ReasoningTokens {
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
}

/// Who a batch runs as, and how its output files expire.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Creator {
    /// The creator's key id.
    pub key_id: String,
    /// The key's owner (the batch and its files belong to them).
    pub owner: String,
    /// The owner's team.
    pub team: Option<String>,
    /// Models the key may use (empty: all).
    pub models: Vec<String>,
    /// The key's attributes.
    pub attributes: Vec<(String, String)>,
    /// Seconds after which the output files expire, if the creator said.
    pub output_expires_s: Option<u64>,
}

/// One input line still to run.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingLine {
    /// 1-based line number.
    pub line: u64,
    /// The line's `custom_id`.
    pub custom_id: String,
    /// The request body (JSON text).
    pub body: String,
}

#[path = "batch_leases.rs"]
mod leases;

/// The batch tables.
#[derive(Clone)]
pub struct BatchStore {
    db: Db,
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("a stored batch: {e}")))
}

fn text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

impl BatchStore {
    /// The batch tables of `db`.
    pub fn new(db: Db) -> BatchStore {
        BatchStore { db }
    }

    /// Records a new batch, its creator and its lines (`(custom_id, body)`), in one transaction.
    pub fn insert(
        &self,
        batch: &Batch,
        creator: &Creator,
        lines: &[(String, String)],
    ) -> Result<(), StoreError> {
        let rows: Vec<Vec<sql::Value>> = lines
            .iter()
            .enumerate()
            .map(|(i, (custom_id, body))| {
                vec![
                    batch.id.as_str().into(),
                    ((i + 1) as i64).into(),
                    custom_id.into(),
                    body.into(),
                ]
            })
            .collect();
        self.db.transaction(|tx| {
            tx.execute(
                "INSERT INTO batches (id, owner, created_at, status, object, principal)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                params![
                    &batch.id,
                    &creator.owner,
                    batch.created_at as i64,
                    &batch.status,
                    text(batch),
                    text(creator)
                ],
            )?;
            tx.execute_many(
                "INSERT INTO batch_lines (batch_id, line, custom_id, body) VALUES ($1, $2, $3, $4)",
                &rows,
            )?;
            Ok(())
        })
    }

    /// Saves a batch object (its status included).
    pub fn update(&self, batch: &Batch) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE batches SET status = $2, object = $3 WHERE id = $1",
                params![&batch.id, &batch.status, text(batch)],
            )
            .map(|_| ())
    }

    /// `owner`'s batch `id` (any owner's with `None`), with its live request counts.
    pub fn get(&self, owner: Option<&str>, id: &str) -> Result<Option<Batch>, StoreError> {
        let found = self.db.query_opt(
            "SELECT object FROM batches WHERE id = $1 AND (CAST($2 AS TEXT) IS NULL OR owner = $2)",
            params![id, owner],
        )?;
        match found {
            Some(row) => Ok(Some(self.with_counts(parse(&row.get::<String>(0)?)?)?)),
            None => Ok(None),
        }
    }

    /// Who batch `id` runs as.
    pub fn creator(&self, id: &str) -> Result<Option<Creator>, StoreError> {
        let found = self
            .db
            .query_opt("SELECT principal FROM batches WHERE id = $1", params![id])?;
        found.map(|row| parse(&row.get::<String>(0)?)).transpose()
    }

    /// A page of `owner`'s batches, newest first, after the batch `after`.
    pub fn list(
        &self,
        owner: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<(Vec<Batch>, bool), StoreError> {
        let rows = self.db.query(
            "SELECT object FROM batches WHERE owner = $1
               AND (CAST($2 AS TEXT) IS NULL OR (created_at, id) < (
                    SELECT created_at, id FROM batches WHERE id = $2 AND owner = $1))
             ORDER BY created_at DESC, id DESC LIMIT $3",
            params![owner, after, (limit + 1) as i64],
        )?;
        let has_more = rows.len() > limit;
        let mut out = Vec::with_capacity(limit);
        for row in rows.iter().take(limit) {
            out.push(self.with_counts(parse(&row.get::<String>(0)?)?)?);
        }
        Ok((out, has_more))
    }

    /// Ids of batches with work left, oldest first.
    pub fn active(&self) -> Result<Vec<String>, StoreError> {
        self.db
            .query(
                "SELECT id FROM batches WHERE status IN ('validating', 'in_progress', 'finalizing', 'cancelling')
                 ORDER BY created_at, id",
                &[],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect()
    }

    /// How many of `owner`'s batches have work left.
    pub fn active_count(&self, owner: &str) -> Result<u64, StoreError> {
        self.db
            .query_one(
                "SELECT COUNT(*) FROM batches WHERE owner = $1
                   AND status IN ('validating', 'in_progress', 'finalizing', 'cancelling')",
                params![owner],
            )?
            .get::<i64>(0)
            .map(|n| n.max(0) as u64)
    }

    /// Up to `limit` lines of batch `id` that have no result yet, in order.
    pub fn pending(&self, id: &str, limit: usize) -> Result<Vec<PendingLine>, StoreError> {
        self.db
            .query(
                "SELECT line, custom_id, body FROM batch_lines
                 WHERE batch_id = $1 AND result IS NULL ORDER BY line LIMIT $2",
                params![id, limit as i64],
            )?
            .iter()
            .map(|r| {
                Ok(PendingLine {
                    line: r.get::<i64>(0)?.max(0) as u64,
                    custom_id: r.get(1)?,
                    body: r.get(2)?,
                })
            })
            .collect()
    }

    /// Records a line's result (its output line, JSON) durably. A line already recorded keeps
    /// its first result.
    pub fn record(
        &self,
        id: &str,
        line: u64,
        result: &Value,
        failed: bool,
    ) -> Result<(), StoreError> {
        self.db
            .execute(
                "UPDATE batch_lines SET result = $3, failed = $4, lease_owner = NULL,
                        lease_until_ms = NULL
                 WHERE batch_id = $1 AND line = $2 AND result IS NULL",
                params![id, line as i64, result.to_string(), failed],
            )
            .map(|_| ())
    }

    /// Every recorded result of batch `id` in line order, as (output line, failed).
    pub fn results(&self, id: &str) -> Result<Vec<(String, bool)>, StoreError> {
        self.db
            .query(
                "SELECT result, failed FROM batch_lines
                 WHERE batch_id = $1 AND result IS NOT NULL ORDER BY line",
                params![id],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .collect()
    }

    fn with_counts(&self, mut b: Batch) -> Result<Batch, StoreError> {
        let row = self.db.query_one(
            "SELECT COUNT(*), COUNT(result), CAST(COALESCE(SUM(failed), 0) AS BIGINT)
             FROM batch_lines WHERE batch_id = $1",
            params![&b.id],
        )?;
        let (total, done, failed): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if total > 0 {
            b.request_counts = RequestCounts {
                total: total as u64,
                completed: (done - failed).max(0) as u64,
                failed: failed.max(0) as u64,
            };
        }
        Ok(b)
    }
}
