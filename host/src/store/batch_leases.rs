//! Leases on batch lines and on finishing a batch: replicas sharing the database each run lines of
//! their own, a replica that dies has its lines taken over once its leases run out, and one
//! replica finishes a batch. A lease names its holder (a replica id; the single SQLite gateway
//! uses one fixed id, so after a restart it takes its own lines back at once).

use super::super::db::{Exec, StoreError};
use super::super::sql::params;
use super::{BatchStore, PendingLine};

impl BatchStore {
    /// True when the database may be shared by several gateways (PostgreSQL), so a lease must
    /// name this process; SQLite has one gateway per file.
    pub fn shared(&self) -> bool {
        matches!(self.db.engine(), super::super::db::Engine::Postgres)
    }

    /// Takes up to `limit` lines of batch `id` that have no result and no live lease (or a lease
    /// of `owner`'s), in order, leasing them to `owner` until `until_ms`: replicas sharing the
    /// database each take lines of their own. One statement, so two replicas racing for the same
    /// lines cannot both get them (the second's update finds them leased).
    pub fn claim(
        &self,
        id: &str,
        owner: &str,
        limit: usize,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<Vec<PendingLine>, StoreError> {
        let free = "result IS NULL AND (lease_until_ms IS NULL OR lease_until_ms < $4 OR lease_owner = $2)";
        let sql = format!(
            "UPDATE batch_lines SET lease_owner = $2, lease_until_ms = $3
             WHERE batch_id = $1 AND {free} AND line IN (
                 SELECT line FROM batch_lines WHERE batch_id = $1 AND {free} ORDER BY line LIMIT $5)
             RETURNING line, custom_id, body"
        );
        let mut lines = self
            .db
            .query(
                &sql,
                params![id, owner, until_ms as i64, now_ms as i64, limit as i64],
            )?
            .iter()
            .map(|r| {
                Ok(PendingLine {
                    line: r.get::<i64>(0)?.max(0) as u64,
                    custom_id: r.get(1)?,
                    body: r.get(2)?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        lines.sort_by_key(|l| l.line);
        Ok(lines)
    }

    /// Extends `owner`'s leases on the unfinished lines of batch `id` to `until_ms`.
    pub fn renew(&self, id: &str, owner: &str, until_ms: u64) -> Result<u64, StoreError> {
        self.db.execute(
            "UPDATE batch_lines SET lease_until_ms = $3
             WHERE batch_id = $1 AND lease_owner = $2 AND result IS NULL",
            params![id, owner, until_ms as i64],
        )
    }

    /// Takes the lease on finishing batch `id` (writing its files, setting its end status) for
    /// `owner` until `until_ms`; false while another replica holds it.
    pub fn claim_batch(
        &self,
        id: &str,
        owner: &str,
        now_ms: u64,
        until_ms: u64,
    ) -> Result<bool, StoreError> {
        let n = self.db.execute(
            "UPDATE batches SET lease_owner = $2, lease_until_ms = $3
             WHERE id = $1 AND (lease_until_ms IS NULL OR lease_until_ms < $4 OR lease_owner = $2)",
            params![id, owner, until_ms as i64, now_ms as i64],
        )?;
        Ok(n == 1)
    }
}
