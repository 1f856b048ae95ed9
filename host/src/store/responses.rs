//! Responses kept for `POST /v1/responses` (`store: true`): the Response object and the items of
//! the conversation that led to it, so a later request's `previous_response_id` continues it.
//! Each belongs to the owner of the key that created it; every other owner sees none (404).

use super::db::{Db, StoreError};
use rusqlite::{OptionalExtension, params};

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
    /// The Response object (JSON text).
    pub response: String,
    /// The conversation's items up to and including this response's output (a JSON array).
    pub items: String,
}

/// The stored responses.
#[derive(Clone)]
pub struct ResponseStore {
    db: Db,
}

impl ResponseStore {
    /// The responses in `db`.
    pub fn new(db: Db) -> ResponseStore {
        ResponseStore { db }
    }

    /// Stores `r` (replacing a response of the same id).
    pub fn put(&self, r: &StoredResponse) -> Result<(), StoreError> {
        self.db.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO responses (id, owner, created_at, expires_at, response, items)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    r.id,
                    r.owner,
                    r.created_at as i64,
                    r.expires_at as i64,
                    r.response,
                    r.items
                ],
            )
            .map(|_| ())
        })
    }

    /// `owner`'s response `id`, unless it expired by `now` (Unix seconds).
    pub fn get(
        &self,
        owner: &str,
        id: &str,
        now: u64,
    ) -> Result<Option<StoredResponse>, StoreError> {
        self.db.with(|c| {
            c.query_row(
                "SELECT id, owner, created_at, expires_at, response, items FROM responses
                 WHERE id = ?1 AND owner = ?2 AND expires_at > ?3",
                params![id, owner, now as i64],
                |r| {
                    Ok(StoredResponse {
                        id: r.get(0)?,
                        owner: r.get(1)?,
                        created_at: r.get::<_, i64>(2)?.max(0) as u64,
                        expires_at: r.get::<_, i64>(3)?.max(0) as u64,
                        response: r.get(4)?,
                        items: r.get(5)?,
                    })
                },
            )
            .optional()
        })
    }

    /// Deletes `owner`'s response `id`; false if there is none.
    pub fn delete(&self, owner: &str, id: &str) -> Result<bool, StoreError> {
        self.db.with(|c| {
            c.execute(
                "DELETE FROM responses WHERE id = ?1 AND owner = ?2",
                params![id, owner],
            )
            .map(|n| n > 0)
        })
    }

    /// Removes every response expired by `now`; returns how many.
    pub fn sweep(&self, now: u64) -> Result<usize, StoreError> {
        self.db.with(|c| {
            c.execute(
                "DELETE FROM responses WHERE expires_at <= ?1",
                params![now as i64],
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str, owner: &str, expires_at: u64) -> StoredResponse {
        StoredResponse {
            id: id.into(),
            owner: owner.into(),
            created_at: 10,
            expires_at,
            response: r#"{"id":"x"}"#.into(),
            items: "[]".into(),
        }
    }

    #[test]
    fn responses_are_their_owners_and_expire() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ResponseStore::new(Db::open(dir.path()).expect("db"));
        store.put(&stored("resp_a", "alice", 100)).expect("put");
        store.put(&stored("resp_b", "bob", 50)).expect("put");
        assert_eq!(
            store.get("alice", "resp_a", 20).expect("get"),
            Some(stored("resp_a", "alice", 100))
        );
        assert_eq!(store.get("bob", "resp_a", 20).expect("get"), None);
        assert_eq!(store.get("alice", "resp_a", 100).expect("get"), None);
        assert!(!store.delete("bob", "resp_a").expect("delete"));
        assert_eq!(store.sweep(60).expect("sweep"), 1);
        assert_eq!(store.get("bob", "resp_b", 20).expect("get"), None);
        assert!(store.delete("alice", "resp_a").expect("delete"));
        assert_eq!(store.get("alice", "resp_a", 20).expect("get"), None);
    }
}
