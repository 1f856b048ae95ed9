//! This process's leases on batch lines (see `store::batch_leases`): the name it holds them
//! under, how long they last, and their renewal while its lines run.

use crate::error::blocking;
use crate::state::{AppState, Gateway};
use crate::time::now_ms;
use std::sync::Arc;
use std::time::Duration;

/// The name this process takes leases under: a fresh one per process when the database is
/// shared (PostgreSQL: replicas must not take each other's lines), one fixed name on SQLite (one
/// gateway per file, which after a restart takes its own lines back at once).
pub(super) fn holder(gw: &Gateway) -> &'static str {
    static REPLICA: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| format!("replica-{:016x}", rand::random::<u64>()));
    if gw.batches.shared() {
        REPLICA.as_str()
    } else {
        "local"
    }
}

pub(super) fn lease_ms(gw: &Gateway) -> u64 {
    gw.pipeline
        .load()
        .config
        .batches
        .lease_s
        .saturating_mul(1000)
}

/// Renews this process's leases on batch `id` every third of a lease until dropped.
pub(super) struct Renewer(tokio::task::JoinHandle<()>);

impl Renewer {
    pub(super) fn start(gw: &AppState, id: &str) -> Renewer {
        let (gw, id) = (Arc::clone(gw), id.to_string());
        Renewer(tokio::spawn(async move {
            let lease = lease_ms(&gw);
            let me = holder(&gw);
            let mut tick = tokio::time::interval(Duration::from_millis((lease / 3).max(1)));
            tick.tick().await;
            loop {
                tick.tick().await;
                let (store, id_s) = (gw.batches.clone(), id.clone());
                let until = now_ms() + lease;
                if let Err(e) = blocking(move || store.renew(&id_s, me, until)).await {
                    tracing::warn!(batch = %id, error = %e, "cannot renew batch line leases");
                }
            }
        }))
    }
}

impl Drop for Renewer {
    fn drop(&mut self) {
        self.0.abort();
    }
}
