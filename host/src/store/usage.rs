//! Usage records: one row per request, written off the response path in batches, and flushed
//! whole on shutdown.

use super::db::{Db, StoreError};
use rusqlite::params;
use serde::Serialize;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// One request's usage.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct UsageRow {
    /// When the request finished (ms since the Unix epoch).
    pub at_ms: u64,
    /// Its id.
    pub request_id: String,
    /// The key that made it.
    pub key_id: Option<String>,
    /// The end user it was made for (`user_id`).
    pub user_id: Option<String>,
    /// Endpoint family (`chat.completions`, ...).
    pub endpoint: String,
    /// The model asked for.
    pub model: String,
    /// The model the provider served.
    pub served_model: String,
    /// The provider.
    pub provider: String,
    /// The status sent to the client (499: the client went away).
    pub status: u16,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Completion tokens.
    pub completion_tokens: u32,
    /// Cached prompt tokens.
    pub cached_tokens: u32,
    /// Cost in USD, as priced by the cost plugin.
    pub cost_usd: f64,
    /// Total latency.
    pub latency_ms: u32,
    /// Time spent in the gateway (total minus upstream).
    pub overhead_us: u64,
    /// The batch the request was a line of, if any.
    pub batch_id: Option<String>,
    /// Seconds of audio the provider billed (transcriptions and translations), else 0.
    pub audio_seconds: f64,
    /// The team of the key's owner, if any.
    pub team: Option<String>,
}

enum Msg {
    Row(Box<UsageRow>),
    Flush(oneshot::Sender<()>),
}

/// Hands rows to the writer task. Cloning is cheap; recording never blocks.
#[derive(Clone)]
pub struct UsageWriter {
    tx: mpsc::UnboundedSender<Msg>,
}

/// Rows written in one transaction at most.
const BATCH: usize = 512;
/// How long a row may wait for its batch.
const LINGER: Duration = Duration::from_millis(200);

impl UsageWriter {
    /// Starts the writer task on `db`.
    pub fn start(db: Db) -> UsageWriter {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(write_loop(db, rx));
        UsageWriter { tx }
    }

    /// Queues a row.
    pub fn record(&self, row: UsageRow) {
        if self.tx.send(Msg::Row(Box::new(row))).is_err() {
            tracing::error!("the usage writer has stopped; a usage row was not recorded");
        }
    }

    /// Waits until every row queued before this call is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            let _ = rx.await;
        }
    }
}

async fn write_loop(db: Db, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut batch: Vec<UsageRow> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    loop {
        // Wait for a message; with rows pending, wait at most LINGER before writing them.
        let (next, lingered) = if batch.is_empty() {
            (rx.recv().await, false)
        } else {
            match tokio::time::timeout(LINGER, rx.recv()).await {
                Ok(m) => (m, false),
                Err(_) => (None, true),
            }
        };
        let closed = next.is_none() && !lingered;
        match next {
            Some(Msg::Row(r)) => batch.push(*r),
            Some(Msg::Flush(done)) => waiting.push(done),
            None => {}
        }
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(Msg::Row(r)) => batch.push(*r),
                Ok(Msg::Flush(done)) => waiting.push(done),
                Err(_) => break,
            }
        }
        if closed || lingered || !waiting.is_empty() || batch.len() >= BATCH {
            if !batch.is_empty() {
                write_batch(&db, std::mem::take(&mut batch)).await;
            }
            for done in waiting.drain(..) {
                let _ = done.send(());
            }
        }
        if closed {
            return;
        }
    }
}

/// Writes `rows` in one transaction, retrying until it succeeds: rows are never dropped.
async fn write_batch(db: &Db, rows: Vec<UsageRow>) {
    let mut delay = Duration::from_millis(100);
    loop {
        let db2 = db.clone();
        let rows2 = rows.clone();
        let result = tokio::task::spawn_blocking(move || insert(&db2, &rows2)).await;
        match result {
            Ok(Ok(())) => return,
            Ok(Err(e)) => {
                tracing::error!(error = %e, rows = rows.len(), "writing usage rows failed; retrying")
            }
            Err(e) => tracing::error!(error = %e, "usage writer task failed; retrying"),
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

fn insert(db: &Db, rows: &[UsageRow]) -> Result<(), StoreError> {
    db.with(|c| {
        let tx = c.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO usage (at_ms, request_id, key_id, user_id, endpoint, model, served_model,
                   provider, status, prompt_tokens, completion_tokens, cached_tokens, cost_usd,
                   latency_ms, overhead_us, batch_id, audio_seconds, team)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                   ?17, ?18)",
            )?;
            for r in rows {
                stmt.execute(params![
                    r.at_ms as i64,
                    r.request_id,
                    r.key_id,
                    r.user_id,
                    r.endpoint,
                    r.model,
                    r.served_model,
                    r.provider,
                    r.status,
                    r.prompt_tokens,
                    r.completion_tokens,
                    r.cached_tokens,
                    r.cost_usd,
                    r.latency_ms,
                    r.overhead_us as i64,
                    r.batch_id,
                    r.audio_seconds,
                    r.team,
                ])?;
            }
        }
        tx.commit()
    })
}
