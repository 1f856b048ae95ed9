//! Responses kept for `POST /v1/responses` (`store: true`): the Response object, its own items
//! (its request's input, then its output) and the response it continued, so a later request's
//! `previous_response_id` continues the whole conversation. A conversation is a chain of rows,
//! each holding only its own items: storage grows with the conversation, not with its square.
//! Each row belongs to the owner of the key that created it; every other owner sees none (404).

use super::db::{Db, Exec, StoreError};
use super::sql::params;

/// A stored response.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// `resp_...`.
    pub id: String,
    /// The owner of the key that created it.
    pub owner: String,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds after which it is gone.
    pub expires_at: u64,
    /// The response it continued (`previous_response_id`), if any.
    pub previous_id: Option<String>,
    /// The Response object (JSON text).
    pub response: String,
    /// Its own items: its request's input items, then its output items (a JSON array).
    pub items: String,
}

/// A conversation read back: the items of each response of the chain, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub enum Conversation {
    /// The whole chain: each response's items (JSON arrays), oldest first.
    Whole(Vec<String>),
    /// The response is not there (or not the owner's, or expired).
    Missing,
    /// The response is there but an earlier one of its chain was deleted: this one.
    Broken(String),
}

/// The stored responses.
#[derive(Clone)]
pub struct ResponseStore {
    db: Db,
}

/// Longest chain followed (a guard; ids cannot form a cycle).
const MAX_DEPTH: i64 = 100_000;

impl ResponseStore {
    /// The responses in `db`.
    pub fn new(db: Db) -> ResponseStore {
        ResponseStore { db }
    }

    /// Stores `r` (replacing a response of the same id), and keeps the responses it continues
    /// at least as long as it.
    pub fn put(&self, r: &StoredResponse) -> Result<(), StoreError> {
        self.db.transaction(|tx| {
            tx.execute(
                "INSERT INTO responses
                 (id, owner, created_at, expires_at, previous_id, response, items)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (id) DO UPDATE SET owner = excluded.owner,
                   created_at = excluded.created_at, expires_at = excluded.expires_at,
                   previous_id = excluded.previous_id, response = excluded.response,
                   items = excluded.items",
                params![
                    &r.id,
                    &r.owner,
                    r.created_at as i64,
                    r.expires_at as i64,
                    r.previous_id.as_deref(),
                    &r.response,
                    &r.items
                ],
            )?;
            if let Some(prev) = &r.previous_id {
                tx.execute(
                    "WITH RECURSIVE chain(id, depth) AS (
                         SELECT CAST($1 AS TEXT), CAST(0 AS BIGINT)
                         UNION ALL
                         SELECT r.previous_id, c.depth + 1 FROM responses r JOIN chain c
                           ON r.id = c.id AND r.owner = $2
                         WHERE r.previous_id IS NOT NULL AND c.depth < $4)
                     UPDATE responses SET expires_at = $3
                     WHERE owner = $2 AND expires_at < $3 AND id IN (SELECT id FROM chain)",
                    params![prev, &r.owner, r.expires_at as i64, MAX_DEPTH],
                )?;
            }
            Ok(())
        })
    }

    /// `owner`'s response `id`, unless it expired by `now` (Unix seconds).
    pub fn get(
        &self,
        owner: &str,
        id: &str,
        now: u64,
    ) -> Result<Option<StoredResponse>, StoreError> {
        let Some(r) = self.db.query_opt(
            "SELECT id, owner, created_at, expires_at, previous_id, response, items
             FROM responses WHERE id = $1 AND owner = $2 AND expires_at > $3",
            params![id, owner, now as i64],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(StoredResponse {
            id: r.get(0)?,
            owner: r.get(1)?,
            created_at: r.get::<i64>(2)?.max(0) as u64,
            expires_at: r.get::<i64>(3)?.max(0) as u64,
            previous_id: r.get(4)?,
            response: r.get(5)?,
            items: r.get(6)?,
        }))
    }

    /// The conversation that `owner`'s response `id` ends: the items of its chain, oldest first.
    pub fn conversation(
        &self,
        owner: &str,
        id: &str,
        now: u64,
    ) -> Result<Conversation, StoreError> {
        let rows = self
            .db
            .query(
                "WITH RECURSIVE chain(id, previous_id, items, depth) AS (
                     SELECT id, previous_id, items, CAST(0 AS BIGINT) FROM responses
                     WHERE id = $1 AND owner = $2 AND expires_at > $3
                     UNION ALL
                     SELECT r.id, r.previous_id, r.items, c.depth + 1
                     FROM responses r JOIN chain c ON r.id = c.previous_id
                     WHERE r.owner = $2 AND r.expires_at > $3 AND c.depth < $4)
                 SELECT id, previous_id, items FROM chain ORDER BY depth DESC",
                params![id, owner, now as i64, MAX_DEPTH],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .collect::<Result<Vec<(String, Option<String>, String)>, StoreError>>()?;
        let Some((oldest, previous, _)) = rows.first() else {
            return Ok(Conversation::Missing);
        };
        if previous.is_some() {
            return Ok(Conversation::Broken(oldest.clone()));
        }
        Ok(Conversation::Whole(
            rows.into_iter().map(|(_, _, items)| items).collect(),
        ))
    }

    /// Deletes `owner`'s response `id`; false if there is none.
    pub fn delete(&self, owner: &str, id: &str) -> Result<bool, StoreError> {
        self.db
            .execute(
                "DELETE FROM responses WHERE id = $1 AND owner = $2",
                params![id, owner],
            )
            .map(|n| n > 0)
    }

    /// Removes every response expired by `now`; returns how many.
    pub fn sweep(&self, now: u64) -> Result<usize, StoreError> {
        self.db
            .execute(
                "DELETE FROM responses WHERE expires_at <= $1",
                params![now as i64],
            )
            .map(|n| n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{TestDb, on_both_engines};

    fn stored(id: &str, owner: &str, expires_at: u64, prev: Option<&str>) -> StoredResponse {
        StoredResponse {
            id: id.into(),
            owner: owner.into(),
            created_at: 10,
            expires_at,
            previous_id: prev.map(str::to_string),
            response: format!(r#"{{"id":"{id}"}}"#),
            items: format!(r#"["{id}"]"#),
        }
    }

    on_both_engines!(fn responses_are_their_owners_and_expire);
    fn responses_are_their_owners_and_expire(t: TestDb) {
        let store = ResponseStore::new(t.db.clone());
        store
            .put(&stored("resp_a", "alice", 100, None))
            .expect("put");
        store.put(&stored("resp_b", "bob", 50, None)).expect("put");
        assert_eq!(
            store.get("alice", "resp_a", 20).expect("get"),
            Some(stored("resp_a", "alice", 100, None))
        );
        assert_eq!(store.get("bob", "resp_a", 20).expect("get"), None);
        assert_eq!(store.get("alice", "resp_a", 100).expect("get"), None);
        assert!(!store.delete("bob", "resp_a").expect("delete"));
        assert_eq!(store.sweep(60).expect("sweep"), 1);
        assert_eq!(store.get("bob", "resp_b", 20).expect("get"), None);
        assert!(store.delete("alice", "resp_a").expect("delete"));
        assert_eq!(store.get("alice", "resp_a", 20).expect("get"), None);
    }

    on_both_engines!(fn a_conversation_is_its_chain_oldest_first_and_lives_as_long_as_its_end);
    fn a_conversation_is_its_chain_oldest_first_and_lives_as_long_as_its_end(t: TestDb) {
        let store = ResponseStore::new(t.db.clone());
        store.put(&stored("r1", "ann", 100, None)).expect("put");
        store
            .put(&stored("r2", "ann", 200, Some("r1")))
            .expect("put");
        store
            .put(&stored("r3", "ann", 300, Some("r2")))
            .expect("put");
        let whole = |items: &[&str]| {
            Conversation::Whole(items.iter().map(|i| format!(r#"["{i}"]"#)).collect())
        };
        assert_eq!(
            store.conversation("ann", "r3", 50).expect("read"),
            whole(&["r1", "r2", "r3"])
        );
        assert_eq!(
            store.conversation("ann", "r2", 50).expect("read"),
            whole(&["r1", "r2"])
        );
        // The chain is kept as long as its latest response.
        assert_eq!(
            store.conversation("ann", "r3", 250).expect("read"),
            whole(&["r1", "r2", "r3"])
        );
        assert_eq!(
            store.conversation("bob", "r3", 50).expect("read"),
            Conversation::Missing
        );
        assert_eq!(
            store.conversation("ann", "nope", 50).expect("read"),
            Conversation::Missing
        );
        assert!(store.delete("ann", "r2").expect("delete"));
        assert_eq!(
            store.conversation("ann", "r3", 50).expect("read"),
            Conversation::Broken("r3".into())
        );
        // Another owner cannot graft onto a chain: the walk stays within the owner.
        store
            .put(&stored("x1", "bob", 100, Some("r1")))
            .expect("put");
        assert_eq!(
            store.conversation("bob", "x1", 50).expect("read"),
            Conversation::Broken("x1".into())
        );
    }
}
