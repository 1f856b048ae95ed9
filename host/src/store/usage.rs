//! Usage records: one row per request, written off the response path in batches, and flushed
//! whole on shutdown.

use super::db::{Db, Exec, StoreError};
use super::sql::Value;
use serde::Serialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot};

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
    /// Rows queued and not yet taken by the writer.
    queued: Arc<AtomicUsize>,
    /// Wakes a lingering writer early: a batch is full, or someone waits for a flush.
    wake: Arc<Notify>,
}

/// Rows written in one transaction at most.
const BATCH: usize = 512;
/// How long a row may wait for its batch.
const LINGER: Duration = Duration::from_millis(200);

impl UsageWriter {
    /// Starts the writer task on `db`.
    pub fn start(db: Db) -> UsageWriter {
        let (tx, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let wake = Arc::new(Notify::new());
        tokio::spawn(write_loop(db, rx, Arc::clone(&queued), Arc::clone(&wake)));
        UsageWriter { tx, queued, wake }
    }

    /// Queues a row. While the writer lingers over a batch, rows join it without waking it
    /// (requests run on other threads than the writer; a wake-up per row cost more than the
    /// row), until the batch is full.
    pub fn record(&self, row: UsageRow) {
        // Counted before it is sent, so the writer never takes a row it has not counted.
        let queued = self.queued.fetch_add(1, Ordering::Relaxed) + 1;
        if self.tx.send(Msg::Row(Box::new(row))).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
            tracing::error!("the usage writer has stopped; a usage row was not recorded");
            return;
        }
        if queued >= BATCH {
            self.wake.notify_one();
        }
    }

    /// Waits until every row queued before this call is written.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).is_ok() {
            self.wake.notify_one();
            let _ = rx.await;
        }
    }
}

/// Takes what is queued (at most a batch of rows); false once every sender is gone.
fn drain(
    rx: &mut mpsc::UnboundedReceiver<Msg>,
    queued: &AtomicUsize,
    batch: &mut Vec<UsageRow>,
    waiting: &mut Vec<oneshot::Sender<()>>,
) -> bool {
    while batch.len() < BATCH {
        match rx.try_recv() {
            Ok(m) => take(m, queued, batch, waiting),
            Err(mpsc::error::TryRecvError::Empty) => return true,
            Err(mpsc::error::TryRecvError::Disconnected) => return false,
        }
    }
    true
}

fn take(
    m: Msg,
    queued: &AtomicUsize,
    batch: &mut Vec<UsageRow>,
    waiting: &mut Vec<oneshot::Sender<()>>,
) {
    match m {
        Msg::Row(r) => {
            queued.fetch_sub(1, Ordering::Relaxed);
            batch.push(*r);
        }
        Msg::Flush(done) => waiting.push(done),
    }
}

/// Writes rows in batches: the first row after a quiet spell wakes the writer, which then
/// lingers up to [`LINGER`] (less when the batch fills or a flush is asked for) so the rows
/// arriving meanwhile share one transaction.
async fn write_loop(
    db: Db,
    mut rx: mpsc::UnboundedReceiver<Msg>,
    queued: Arc<AtomicUsize>,
    wake: Arc<Notify>,
) {
    let mut batch: Vec<UsageRow> = Vec::new();
    let mut waiting: Vec<oneshot::Sender<()>> = Vec::new();
    let mut deadline = tokio::time::Instant::now();
    loop {
        let mut open = true;
        if batch.is_empty() && waiting.is_empty() {
            match rx.recv().await {
                Some(m) => take(m, &queued, &mut batch, &mut waiting),
                None => open = false,
            }
            deadline = tokio::time::Instant::now() + LINGER;
        }
        open = open && drain(&mut rx, &queued, &mut batch, &mut waiting);
        let due = !open
            || !waiting.is_empty()
            || batch.len() >= BATCH
            || tokio::time::Instant::now() >= deadline;
        if due {
            if !batch.is_empty() {
                write_batch(&db, std::mem::take(&mut batch)).await;
            }
            for done in waiting.drain(..) {
                let _ = done.send(());
            }
            if !open {
                return;
            }
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => {}
            () = wake.notified() => {}
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
    let params: Vec<Vec<Value>> = rows
        .iter()
        .map(|r| {
            vec![
                (r.at_ms as i64).into(),
                r.request_id.as_str().into(),
                r.key_id.as_deref().into(),
                r.user_id.as_deref().into(),
                r.endpoint.as_str().into(),
                r.model.as_str().into(),
                r.served_model.as_str().into(),
                r.provider.as_str().into(),
                r.status.into(),
                r.prompt_tokens.into(),
                r.completion_tokens.into(),
                r.cached_tokens.into(),
                r.cost_usd.into(),
                r.latency_ms.into(),
                (r.overhead_us as i64).into(),
                r.batch_id.as_deref().into(),
                r.audio_seconds.into(),
                r.team.as_deref().into(),
            ]
        })
        .collect();
    db.transaction(|tx| {
        tx.execute_many(
            "INSERT INTO usage (at_ms, request_id, key_id, user_id, endpoint, model, served_model,
               provider, status, prompt_tokens, completion_tokens, cached_tokens, cost_usd,
               latency_ms, overhead_us, batch_id, audio_seconds, team)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
               $17, $18)",
            &params,
        )
        .map(|_| ())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{TestDb, on_both_engines};

    /// Rows in the table, read on a blocking thread (as the gateway reads).
    async fn written(db: &Db) -> i64 {
        let db = db.clone();
        tokio::task::spawn_blocking(move || {
            db.query_one("SELECT COUNT(*) FROM usage", &[])
                .and_then(|r| r.get::<i64>(0))
        })
        .await
        .expect("task")
        .expect("count")
    }

    fn row(i: usize) -> UsageRow {
        UsageRow {
            request_id: format!("r{i}"),
            endpoint: "chat.completions".into(),
            ..UsageRow::default()
        }
    }

    on_both_engines!(
        #[tokio::test(start_paused = true)]
        async fn rows_are_written_after_the_linger_without_a_flush
    );
    async fn rows_are_written_after_the_linger_without_a_flush(t: TestDb) {
        let db = t.db.clone();
        let w = UsageWriter::start(db.clone());
        for i in 0..3 {
            w.record(row(i));
        }
        tokio::time::sleep(LINGER * 3).await;
        assert_eq!(written(&db).await, 3);
    }

    on_both_engines!(
        #[tokio::test(start_paused = true)]
        async fn a_full_batch_is_written_before_the_linger_ends
    );
    async fn a_full_batch_is_written_before_the_linger_ends(t: TestDb) {
        let db = t.db.clone();
        let w = UsageWriter::start(db.clone());
        for i in 0..BATCH + 7 {
            w.record(row(i));
        }
        let started = tokio::time::Instant::now();
        while written(&db).await < BATCH as i64 {
            assert!(
                started.elapsed() < LINGER / 2,
                "the full batch waited for the linger"
            );
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        w.flush().await;
        assert_eq!(written(&db).await, (BATCH + 7) as i64);
    }

    on_both_engines!(
        #[tokio::test(start_paused = true)]
        async fn a_flush_does_not_wait_for_the_linger_and_rows_after_it_still_arrive
    );
    async fn a_flush_does_not_wait_for_the_linger_and_rows_after_it_still_arrive(t: TestDb) {
        let db = t.db.clone();
        let w = UsageWriter::start(db.clone());
        w.record(row(0));
        tokio::time::timeout(LINGER / 2, w.flush())
            .await
            .expect("flushed at once");
        assert_eq!(written(&db).await, 1);
        w.record(row(1));
        w.flush().await;
        assert_eq!(written(&db).await, 2);
    }
}
