//! `{{name}}`: a Sluice auth plugin. It accepts the bearer keys whose sha256 (hex) the config
//! lists, each for one owner; every other caller gets 401.
//!
//! ```toml
//! [[plugins]]
//! name = "{{name}}"
//! stage = "auth"
//! source = "{{name}}.wasm"
//! [plugins.config.owners]
//! # sha256 of the secret -> owner (`printf %s "$SECRET" | sha256sum`)
//! "1c590839af894cf25f9a5fe06929af05b377f60efbe55508ef93d251887b9213" = "demo"
//! ```

use serde::Deserialize;
use sha2::{Digest, Sha256};
use sluice_plugin_sdk::{Auth, ErrorBody, Plugin, Principal, RequestCtx};
use std::collections::BTreeMap;

/// The plugin's config table (an unknown or mistyped field rejects the load).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    owners: BTreeMap<String, String>,
}

struct {{Type}}(Config);

impl Plugin for {{Type}} {
    type Config = Config;
    fn new(config: Config) -> Result<Self, String> {
        for hash in config.owners.keys() {
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("`{hash}` is not a hex sha256"));
            }
        }
        Ok({{Type}}(config))
    }
}

impl Auth for {{Type}} {
    fn authenticate(&self, _: &RequestCtx, credential: Option<&str>) -> Result<Principal, ErrorBody> {
        let Some(secret) = credential else {
            return Err(ErrorBody::invalid_api_key("an API key is required"));
        };
        let hash = hex::encode(Sha256::digest(secret.as_bytes()));
        match self.0.owners.get(&hash) {
            Some(owner) => Ok(Principal {
                key_id: hash[..12].to_string(),
                owner: owner.clone(),
                ..Principal::default()
            }),
            None => Err(ErrorBody::invalid_api_key("this API key is not valid")),
        }
    }
}

sluice_plugin_sdk::export_auth!({{Type}});

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin() -> {{Type}} {
        let hash = hex::encode(Sha256::digest(b"sk-test"));
        {{Type}}(Config { owners: BTreeMap::from([(hash, "alice".to_string())]) })
    }

    #[test]
    fn known_keys_become_principals_and_others_get_401() {
        let p = plugin().authenticate(&RequestCtx::default(), Some("sk-test")).expect("valid key");
        assert_eq!(p.owner, "alice");
        let e = plugin().authenticate(&RequestCtx::default(), Some("sk-other")).expect_err("unknown");
        assert_eq!(e.status, 401);
        assert!(plugin().authenticate(&RequestCtx::default(), None).is_err());
    }
}
