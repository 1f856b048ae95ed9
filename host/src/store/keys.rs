//! Managed API keys: created by `sluice keys create` or `POST /admin/keys`, looked up by the auth
//! plugin through the `keys` capability. Only the sha256 of a secret is stored.

use super::db::{Db, Exec, StoreError};
use super::sql::{Row, params};
use crate::time::now_ms;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A managed key, without its secret.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KeyRecord {
    /// Stable id.
    pub id: String,
    /// Who owns it.
    pub owner: String,
    /// The owner's team.
    pub team: Option<String>,
    /// Models it may use (empty: all).
    pub models: Vec<String>,
    /// Limit attributes and the like (`rpm`, `tpm_in`, `tpm_out`, ...).
    pub attributes: BTreeMap<String, String>,
    /// MCP servers it may reach (empty: all).
    pub mcp_servers: Vec<String>,
    /// Creation time (ms since the Unix epoch).
    pub created_ms: u64,
    /// Expiry (ms since the Unix epoch), if any.
    pub expires_ms: Option<u64>,
    /// Revocation time, if revoked.
    pub revoked_ms: Option<u64>,
}

/// What a new key is made of.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Owner.
    pub owner: String,
    /// Team.
    #[serde(default)]
    pub team: Option<String>,
    /// Allowed models.
    #[serde(default)]
    pub models: Vec<String>,
    /// Attributes.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// MCP servers it may reach (empty: all).
    #[serde(default)]
    pub mcp_servers: Vec<String>,
    /// Lifetime in seconds from now.
    #[serde(default)]
    pub expires_in_s: Option<u64>,
}

/// The key table.
#[derive(Clone)]
pub struct KeyStore {
    db: Db,
}

/// A fresh secret: `sk-sluice-` and 32 random URL-safe characters.
pub fn new_secret() -> String {
    use base64::Engine;
    format!(
        "sk-sluice-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())
    )
}

/// Lower-case hex sha256 of `secret`.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn row_to_record(row: &Row) -> Result<KeyRecord, StoreError> {
    let models: String = row.get("models")?;
    let attributes: String = row.get("attributes")?;
    let mcp_servers: String = row.get("mcp_servers")?;
    Ok(KeyRecord {
        id: row.get("id")?,
        owner: row.get("owner")?,
        team: row.get("team")?,
        models: serde_json::from_str(&models).unwrap_or_default(),
        attributes: serde_json::from_str(&attributes).unwrap_or_default(),
        mcp_servers: serde_json::from_str(&mcp_servers).unwrap_or_default(),
        created_ms: row.get::<i64>("created_ms")?.max(0) as u64,
        expires_ms: row
            .get::<Option<i64>>("expires_ms")?
            .map(|t| t.max(0) as u64),
        revoked_ms: row
            .get::<Option<i64>>("revoked_ms")?
            .map(|t| t.max(0) as u64),
    })
}

impl KeyStore {
    /// The key table of `db`.
    pub fn new(db: Db) -> KeyStore {
        KeyStore { db }
    }

    /// Creates a key; returns its record and its secret (shown once, never stored).
    pub fn create(&self, new: NewKey) -> Result<(KeyRecord, String), StoreError> {
        if new.owner.trim().is_empty() {
            return Err(StoreError::Invalid("a key needs an owner".into()));
        }
        let secret = new_secret();
        let id = new
            .id
            .filter(|i| !i.is_empty())
            .unwrap_or_else(|| format!("key_{:016x}", rand::random::<u64>()));
        let now = now_ms();
        let record = KeyRecord {
            id,
            owner: new.owner,
            team: new.team,
            models: new.models,
            attributes: new.attributes,
            mcp_servers: new.mcp_servers,
            created_ms: now,
            expires_ms: new.expires_in_s.map(|s| now + s * 1000),
            revoked_ms: None,
        };
        let hash = hash_secret(&secret);
        let inserted = self.db.execute(
            "INSERT INTO keys (id, hash, owner, team, models, attributes, created_ms, expires_ms, mcp_servers)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT DO NOTHING",
            params![
                &record.id,
                hash,
                record.owner.as_str(),
                record.team.as_deref(),
                serde_json::to_string(&record.models).unwrap_or_else(|_| "[]".into()),
                serde_json::to_string(&record.attributes).unwrap_or_else(|_| "{}".into()),
                record.created_ms as i64,
                record.expires_ms.map(|t| t as i64),
                serde_json::to_string(&record.mcp_servers).unwrap_or_else(|_| "[]".into()),
            ],
        )?;
        if inserted == 0 {
            return Err(StoreError::Invalid(format!(
                "a key with id `{}` already exists",
                record.id
            )));
        }
        Ok((record, secret))
    }

    /// Every key, newest first.
    pub fn list(&self) -> Result<Vec<KeyRecord>, StoreError> {
        self.db
            .query("SELECT * FROM keys ORDER BY created_ms DESC, id", &[])?
            .iter()
            .map(row_to_record)
            .collect()
    }

    /// Revokes key `id`; false if there is no such key.
    pub fn revoke(&self, id: &str) -> Result<bool, StoreError> {
        let n = self.db.execute(
            "UPDATE keys SET revoked_ms = COALESCE(revoked_ms, $2) WHERE id = $1",
            params![id, now_ms() as i64],
        )?;
        Ok(n > 0)
    }

    /// The key whose secret hashes to `hash` (lower-case hex).
    pub fn lookup(&self, hash: &str) -> Result<Option<KeyRecord>, StoreError> {
        self.db
            .query_opt("SELECT * FROM keys WHERE hash = $1", params![hash])?
            .as_ref()
            .map(row_to_record)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{TestDb, on_both_engines};

    on_both_engines!(fn create_lookup_list_revoke);
    fn create_lookup_list_revoke(t: TestDb) {
        let keys = KeyStore::new(t.db.clone());
        let (rec, secret) = keys
            .create(NewKey {
                owner: "ann".into(),
                models: vec!["m1".into()],
                attributes: [("rpm".to_string(), "10".to_string())].into(),
                expires_in_s: Some(60),
                ..NewKey::default()
            })
            .expect("create");
        assert!(secret.starts_with("sk-sluice-"));
        let found = keys
            .lookup(&hash_secret(&secret))
            .expect("lookup")
            .expect("found");
        assert_eq!(found, rec);
        assert!(found.expires_ms.is_some_and(|t| t > now_ms()));
        assert_eq!(keys.lookup(&hash_secret("sk-other")).expect("lookup"), None);
        assert_eq!(keys.list().expect("list").len(), 1);
        assert!(keys.revoke(&rec.id).expect("revoke"));
        assert!(!keys.revoke("nope").expect("revoke"));
        let revoked = keys
            .lookup(&hash_secret(&secret))
            .expect("lookup")
            .expect("found");
        assert!(revoked.revoked_ms.is_some());
    }

    on_both_engines!(fn ids_are_unique_and_owners_required);
    fn ids_are_unique_and_owners_required(t: TestDb) {
        let keys = KeyStore::new(t.db.clone());
        let new = || NewKey {
            id: Some("k".into()),
            owner: "o".into(),
            ..NewKey::default()
        };
        keys.create(new()).expect("first");
        assert!(keys.create(new()).is_err());
        assert!(keys.create(NewKey::default()).is_err());
    }

    on_both_engines!(fn a_revocation_is_seen_at_once_through_another_handle);
    /// Two gateways on one database: what one writes, the other reads at once.
    fn a_revocation_is_seen_at_once_through_another_handle(t: TestDb) {
        let a = KeyStore::new(t.db.clone());
        let b = KeyStore::new(t.reopen());
        let (rec, secret) = a
            .create(NewKey {
                owner: "ann".into(),
                ..NewKey::default()
            })
            .expect("create");
        let hash = hash_secret(&secret);
        let seen = b.lookup(&hash).expect("lookup").expect("found");
        assert_eq!(seen.revoked_ms, None);
        assert!(b.revoke(&rec.id).expect("revoke"));
        let seen = a.lookup(&hash).expect("lookup").expect("found");
        assert!(
            seen.revoked_ms.is_some(),
            "revoked through the other handle"
        );
        let again = NewKey {
            id: Some(rec.id.clone()),
            owner: "bob".into(),
            ..NewKey::default()
        };
        assert!(
            b.create(again).is_err(),
            "the id is taken on the shared database"
        );
        assert_eq!(b.list().expect("list").len(), 1);
    }
}
