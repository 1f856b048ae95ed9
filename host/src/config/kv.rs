//! The `[kv]` table: where the plugins' `kv` capability keeps its values and counters.

use serde::Deserialize;

/// The environment variable that, when set, replaces `[kv] url` (so a password stays out of the
/// config file).
pub const KV_URL_ENV: &str = "SLUICE_KV_URL";

/// `[kv]`: the store behind the plugins' `kv` import (rate-limit and budget counters among them).
/// Changing it takes a restart.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct KvConfig {
    /// `memory` (one process; the default) or `redis` (shared by every replica).
    #[serde(default)]
    pub backend: KvBackend,
    /// The Redis URL (`redis://host:6379/0`, or `unix:///path`; no TLS yet); `SLUICE_KV_URL`
    /// overrides it.
    #[serde(default)]
    pub url: Option<String>,
    /// Every key Sluice writes to Redis starts with this, so several gateways (or other programs)
    /// can share one Redis.
    #[serde(default = "default_prefix")]
    pub prefix: String,
    /// What a request whose plugin needs `kv` gets while Redis cannot be reached.
    #[serde(default)]
    pub on_unavailable: OnUnavailable,
    /// How long one `kv` call may wait for Redis before it counts as unavailable. Keep it well
    /// under the plugins' `timeout_ms` (50 by default), which a call's wait counts against.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
}

impl Default for KvConfig {
    fn default() -> Self {
        KvConfig {
            backend: KvBackend::default(),
            url: None,
            prefix: default_prefix(),
            on_unavailable: OnUnavailable::default(),
            timeout_ms: default_timeout_ms(),
        }
    }
}

fn default_prefix() -> String {
    "sluice:".into()
}

fn default_timeout_ms() -> u64 {
    40
}

/// The backend of `[kv]`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum KvBackend {
    /// In process memory: counters hold for this process only.
    #[default]
    Memory,
    /// Redis (or Valkey): counters hold across every replica sharing it.
    Redis,
}

/// `[kv] on_unavailable`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OnUnavailable {
    /// The request fails with 503 (`kv_unavailable`): no limit is skipped.
    #[default]
    FailClosed,
    /// The plugin's calls get neutral answers (nothing stored, counters at the amount added) and
    /// the request goes on, uncounted; each such call is logged and counted in metrics.
    FailOpen,
}

impl KvConfig {
    /// The Redis URL in effect: `SLUICE_KV_URL` if set, else `url`.
    pub fn effective_url(&self) -> Option<String> {
        match std::env::var(KV_URL_ENV) {
            Ok(u) if !u.is_empty() => Some(u),
            _ => self.url.clone(),
        }
    }
}

/// Checks `[kv]`: an error is (dotted key, reason).
pub(super) fn validate(kv: &KvConfig) -> Result<(), (String, String)> {
    if kv.timeout_ms == 0 {
        return Err(("kv.timeout_ms".into(), "must be at least 1".into()));
    }
    if kv.backend == KvBackend::Redis {
        let Some(url) = kv.effective_url() else {
            return Err((
                "kv.url".into(),
                format!("`backend = \"redis\"` needs a url (or the {KV_URL_ENV} variable)"),
            ));
        };
        if url.starts_with("rediss://") {
            return Err((
                "kv.url".into(),
                "TLS to Redis (rediss://) is not supported yet: use redis:// on a private network \
                 or through a TLS tunnel"
                    .into(),
            ));
        }
        if !(url.starts_with("redis://")
            || url.starts_with("redis+unix://")
            || url.starts_with("unix://"))
        {
            return Err((
                "kv.url".into(),
                "must be a Redis URL such as redis://127.0.0.1:6379/0".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<KvConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn defaults_are_memory_and_fail_closed() {
        let kv = parse("").expect("empty");
        assert_eq!(kv.backend, KvBackend::Memory);
        assert_eq!(kv.on_unavailable, OnUnavailable::FailClosed);
        assert_eq!(kv.prefix, "sluice:");
        assert!(validate(&kv).is_ok());
    }

    #[test]
    fn redis_needs_a_redis_url() {
        let kv = parse("backend = \"redis\"\non_unavailable = \"fail-open\"").expect("parse");
        assert_eq!(kv.on_unavailable, OnUnavailable::FailOpen);
        if std::env::var(KV_URL_ENV).is_err() {
            let (key, reason) = validate(&kv).expect_err("no url");
            assert_eq!(key, "kv.url");
            assert!(reason.contains(KV_URL_ENV), "{reason}");
        }
        let kv = parse("backend = \"redis\"\nurl = \"http://x\"").expect("parse");
        if std::env::var(KV_URL_ENV).is_err() {
            assert_eq!(validate(&kv).expect_err("not redis").0, "kv.url");
        }
        let kv = parse("backend = \"redis\"\nurl = \"rediss://h:6380/0\"").expect("parse");
        if std::env::var(KV_URL_ENV).is_err() {
            assert!(
                validate(&kv)
                    .expect_err("no tls")
                    .1
                    .contains("not supported")
            );
        }
        let kv = parse("backend = \"redis\"\nurl = \"redis://127.0.0.1:6379/0\"").expect("parse");
        assert!(validate(&kv).is_ok());
        assert!(parse("backend = \"etcd\"").is_err());
        assert!(parse("on_unavailable = \"maybe\"").is_err());
    }
}
