//! `key-auth`: authenticates bearer keys against sha256 hashes given in the plugin's config.
//!
//! ```toml
//! [[plugins]]
//! name = "auth"
//! stage = "auth"
//! source = "builtin:key-auth"
//! [[plugins.config.keys]]
//! id = "demo"
//! owner = "demo"
//! sha256 = "<hex sha256 of the secret>"   # `sluice keys new` prints one
//! models = []                               # empty: every model
//! mcp_servers = []                          # `[[mcp_servers]]` names; empty: every server
//! attributes = { tier = "gold" }            # read by policy plugins (`rpm`, ...)
//! ```
//!
//! Secrets never appear in the config: only their hashes. The presented key is hashed and compared
//! with every configured hash in constant time, so timing tells nothing about which bytes matched.
//!
//! Keys the gateway manages (`sluice keys create`, `/admin/keys`) are looked up by hash through the
//! host's `keys` capability when no configured key matches. A revoked or expired key gets 401.
//! Either kind of key becomes a principal with its models, MCP servers and attributes.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use sluice_plugin_sdk::keys::KeyRecord;
use sluice_plugin_sdk::{Auth, ErrorBody, Plugin, Principal, RequestCtx};
use std::collections::BTreeMap;
use subtle::ConstantTimeEq;

/// The plugin's config table.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    keys: Vec<KeyEntry>,
}

/// One key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyEntry {
    id: String,
    #[serde(default)]
    owner: Option<String>,
    #[serde(default)]
    team: Option<String>,
    sha256: String,
    #[serde(default)]
    models: Vec<String>,
    #[serde(default)]
    mcp_servers: Vec<String>,
    #[serde(default)]
    attributes: BTreeMap<String, serde_json::Value>,
}

/// A key with its hash decoded.
struct Key {
    entry: KeyEntry,
    hash: [u8; 32],
}

/// Decodes the configured hashes (the SDK has parsed the table).
fn decode(config: Config) -> Result<Vec<Key>, String> {
    config
        .keys
        .into_iter()
        .map(|entry| {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(entry.sha256.trim(), &mut hash).map_err(|_| {
                format!(
                    "key-auth config: key `{}`: sha256 must be 64 hex digits",
                    entry.id
                )
            })?;
            Ok(Key { entry, hash })
        })
        .collect()
}

/// Finds the key whose hash matches `secret`. Every key is compared, in constant time.
fn find<'a>(keys: &'a [Key], secret: &str) -> Option<&'a Key> {
    let presented: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
    let mut found = None;
    for key in keys {
        if bool::from(key.hash.ct_eq(&presented)) {
            found = Some(key);
        }
    }
    found
}

fn principal(key: &Key) -> Principal {
    let e = &key.entry;
    Principal {
        key_id: e.id.clone(),
        owner: e.owner.clone().unwrap_or_else(|| e.id.clone()),
        team: e.team.clone(),
        models: e.models.clone(),
        attributes: e
            .attributes
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.clone(), v)
            })
            .collect(),
        mcp_servers: e.mcp_servers.clone(),
    }
}

/// The principal of a managed key, unless it is revoked or expired.
fn managed_principal(key: KeyRecord, now_ms: u64) -> Result<Principal, ErrorBody> {
    if key.revoked {
        return Err(ErrorBody::invalid_api_key("This API key has been revoked."));
    }
    if key.expires_at_ms.is_some_and(|t| t <= now_ms) {
        return Err(ErrorBody::invalid_api_key("This API key has expired."));
    }
    Ok(Principal {
        key_id: key.id,
        owner: key.owner,
        team: key.team,
        models: key.models,
        attributes: key.attributes,
        mcp_servers: key.mcp_servers,
    })
}

/// The plugin: the configured keys, decoded once per instance.
struct KeyAuth(Vec<Key>);

impl Plugin for KeyAuth {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        decode(config).map(KeyAuth)
    }
}

impl Auth for KeyAuth {
    fn authenticate(
        &self,
        _ctx: &RequestCtx,
        credential: Option<&str>,
    ) -> Result<Principal, ErrorBody> {
        let Some(secret) = credential.filter(|c| !c.is_empty()) else {
            return Err(ErrorBody::invalid_api_key(
                "You didn't provide an API key. Send it as `Authorization: Bearer <key>`.",
            ));
        };
        if let Some(key) = find(&self.0, secret) {
            return Ok(principal(key));
        }
        let hash = hex::encode(Sha256::digest(secret.as_bytes()));
        match sluice_plugin_sdk::keys::lookup(&hash) {
            Some(key) => managed_principal(key, sluice_plugin_sdk::now_ms()),
            None => Err(ErrorBody::invalid_api_key("Incorrect API key provided.")),
        }
    }
}

sluice_plugin_sdk::export_auth!(KeyAuth);
// It reads no request header: the host passes none.
sluice_plugin_sdk::reads_headers!();

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_config(json: &str) -> Result<Vec<Key>, String> {
        sluice_plugin_sdk::from_config_json::<KeyAuth>(json).map(|k| k.0)
    }

    const DEMO_HASH: &str = "2a7b1c1a2a0b1b53a0ff6e5d4a4e48e8a26c06d43b4e3b5b4a6f0f3a1f1c8d2e";

    fn keys_json(hash: &str) -> String {
        format!(
            r#"{{"keys":[{{"id":"k1","owner":"ann","sha256":"{hash}","models":["gpt-x"],"mcp_servers":["docs"],"attributes":{{"rpm":10,"tier":"gold"}}}}]}}"#
        )
    }

    fn hash_of(secret: &str) -> String {
        hex::encode(Sha256::digest(secret.as_bytes()))
    }

    #[test]
    fn finds_the_matching_key_and_builds_its_principal() {
        let keys = parse_config(&keys_json(&hash_of("sk-right"))).expect("config parses");
        let key = find(&keys, "sk-right").expect("key matches");
        let p = principal(key);
        assert_eq!(p.key_id, "k1");
        assert_eq!(p.owner, "ann");
        assert_eq!(p.models, vec!["gpt-x".to_string()]);
        assert_eq!(p.mcp_servers, vec!["docs".to_string()]);
        assert!(p.attributes.contains(&("rpm".into(), "10".into())));
        assert!(p.attributes.contains(&("tier".into(), "gold".into())));
    }

    #[test]
    fn a_key_without_mcp_servers_may_reach_every_server() {
        let json = format!(
            r#"{{"keys":[{{"id":"k2","sha256":"{}"}}]}}"#,
            hash_of("sk-2")
        );
        let keys = parse_config(&json).expect("config parses");
        let p = principal(find(&keys, "sk-2").expect("key matches"));
        assert!(p.mcp_servers.is_empty());
        assert!(p.may_use_mcp_server("github"));
        let p = principal(&parse_config(&keys_json(&hash_of("x"))).expect("parses")[0]);
        assert!(p.may_use_mcp_server("docs"));
        assert!(!p.may_use_mcp_server("github"));
    }

    #[test]
    fn rejects_a_wrong_key() {
        let keys = parse_config(&keys_json(&hash_of("sk-right"))).expect("config parses");
        assert!(find(&keys, "sk-wrong").is_none());
        assert!(find(&keys, "").is_none());
    }

    #[test]
    fn managed_keys_are_refused_once_revoked_or_expired() {
        let key = |revoked, expires_at_ms| KeyRecord {
            id: "k".into(),
            owner: "o".into(),
            team: None,
            models: vec![],
            attributes: vec![("rpm".into(), "5".into())],
            mcp_servers: vec!["github".into()],
            expires_at_ms,
            revoked,
        };
        let p = managed_principal(key(false, Some(2000)), 1000).expect("valid");
        assert_eq!(p.key_id, "k");
        assert_eq!(p.attributes, vec![("rpm".to_string(), "5".to_string())]);
        assert_eq!(p.mcp_servers, vec!["github".to_string()]);
        let e = managed_principal(key(true, None), 1000).expect_err("revoked");
        assert!(e.message.contains("revoked"));
        let e = managed_principal(key(false, Some(1000)), 1000).expect_err("expired");
        assert_eq!(e.status, 401);
        assert!(e.message.contains("expired"));
    }

    #[test]
    fn rejects_bad_configs() {
        assert!(parse_config(&keys_json("abc")).is_err());
        assert!(parse_config(r#"{"keys":[{"id":"a","sha256":"00","color":1}]}"#).is_err());
        assert!(parse_config(r#"{"extra":true}"#).is_err());
        assert!(parse_config(&keys_json(DEMO_HASH)).is_ok());
        assert!(parse_config("{}").expect("empty config").is_empty());
        assert!(parse_config(r#"{"keys":[{"id":"a","sha256":"00","mcp_servers":"x"}]}"#).is_err());
    }
}
