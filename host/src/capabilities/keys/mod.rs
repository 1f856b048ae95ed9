//! The `keys` capability: auth plugins look up managed keys by the sha256 of the presented secret.
//! The backend is the gateway's key store (SQLite or PostgreSQL); the lookup runs on a blocking
//! thread, never on an async worker, and the plugin's call waits for it on its fiber.

use super::state::PluginState;
use crate::pipeline::bindings::keys_if;

impl keys_if::Host for PluginState {
    async fn lookup(&mut self, sha256_hex: String) -> Option<keys_if::KeyRecord> {
        let store = self.env.keys.clone()?;
        let hash = sha256_hex.to_ascii_lowercase();
        let found = tokio::task::spawn_blocking(move || store.lookup(&hash)).await;
        let record = match found {
            Ok(Ok(r)) => r?,
            Err(e) => {
                tracing::error!(error = %e, "key lookup task failed");
                return None;
            }
            Ok(Err(e)) => {
                // Fail closed: an unreadable key store authenticates nobody.
                tracing::error!(error = %e, "key lookup failed");
                return None;
            }
        };
        Some(keys_if::KeyRecord {
            id: record.id,
            owner: record.owner,
            team: record.team,
            models: record.models,
            attributes: record.attributes.into_iter().collect(),
            mcp_servers: record.mcp_servers,
            expires_at_ms: record.expires_ms,
            revoked: record.revoked_ms.is_some(),
        })
    }
}
