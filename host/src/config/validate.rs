//! Checks of a parsed config, one function per table. An error is (dotted key, reason).

use super::schema::{
    ModelConfig, OnErrorConfig, PluginConfig, ProviderConfig, RawConfig, RuntimeConfig,
    ServerConfig, StageKind,
};
use crate::builtin;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A config error before the file is named: the key and the reason.
type Invalid = (String, String);

/// Checks every table of `raw`.
pub(super) fn validate(raw: &RawConfig) -> Result<(), Invalid> {
    server(&raw.server)?;
    super::storage::validate(
        &raw.storage,
        std::env::var(super::STORAGE_URL_ENV).ok().as_deref(),
    )?;
    if raw.runtime.max_instances == 0 {
        return Err(("runtime.max_instances".into(), "must be at least 1".into()));
    }
    for (key, value) in [
        ("max_file_bytes", raw.files.max_file_bytes),
        ("max_batch_file_bytes", raw.files.max_batch_file_bytes),
        ("max_owner_bytes", raw.files.max_owner_bytes),
        ("sweep_interval_s", raw.files.sweep_interval_s),
    ] {
        if value == 0 {
            return Err((format!("files.{key}"), "must be at least 1".into()));
        }
    }
    if raw.files.store == super::ContentStore::S3 && raw.files.bucket.is_none() {
        return Err((
            "files.bucket".into(),
            "`store = \"s3\"` needs the bucket that holds file contents".into(),
        ));
    }
    let b = &raw.batches;
    for (key, value) in [
        ("max_lines", b.max_lines as u64),
        ("concurrency", b.concurrency as u64),
        ("per_batch_concurrency", b.per_batch_concurrency as u64),
        ("concurrency_when_busy", b.concurrency_when_busy as u64),
        ("max_active_per_owner", b.max_active_per_owner),
        ("lease_s", b.lease_s),
    ] {
        if value == 0 {
            return Err((format!("batches.{key}"), "must be at least 1".into()));
        }
    }
    let plugin_stages = plugins(&raw.plugins, &raw.runtime)?;
    let provider_names = providers(&raw.providers, &plugin_stages)?;
    models(&raw.models, &provider_names)?;
    let t = &raw.telemetry;
    if !(0.0..=1.0).contains(&t.trace_sample_ratio) {
        return Err((
            "telemetry.trace_sample_ratio".into(),
            "must be between 0 and 1".into(),
        ));
    }
    if let Some(e) = &t.otlp_endpoint
        && !(e.starts_with("http://") || e.starts_with("https://"))
    {
        return Err((
            "telemetry.otlp_endpoint".into(),
            format!("`{e}` is not an http(s) URL like http://127.0.0.1:4318/v1/traces"),
        ));
    }
    if let Some(l) = &raw.telemetry.metrics_listen
        && l.parse::<std::net::SocketAddr>().is_err()
    {
        return Err((
            "telemetry.metrics_listen".into(),
            format!("`{l}` is not an address like 127.0.0.1:9464"),
        ));
    }
    super::kv::validate(&raw.kv)?;
    super::billing::validate(&raw.tiers, &raw.webhooks)?;
    super::mcp::validate(&raw.mcp, &raw.mcp_servers)
}

fn server(s: &ServerConfig) -> Result<(), Invalid> {
    if s.listen.parse::<std::net::SocketAddr>().is_err() {
        return Err((
            "server.listen".into(),
            format!("`{}` is not an address like 127.0.0.1:8080", s.listen),
        ));
    }
    for (key, value) in [
        ("header_read_timeout_ms", s.header_read_timeout_ms),
        ("idle_timeout_ms", s.idle_timeout_ms),
        ("body_read_timeout_ms", s.body_read_timeout_ms),
        ("max_connections", s.max_connections as u64),
        ("max_user_id_bytes", s.max_user_id_bytes as u64),
        ("max_upload_bytes", s.max_upload_bytes),
    ] {
        if value == 0 {
            return Err((format!("server.{key}"), "must be at least 1".into()));
        }
    }
    match (&s.tls_cert, &s.tls_key) {
        (Some(_), None) => Err(("server.tls_key".into(), "`tls_cert` needs a key".into())),
        (None, Some(_)) => Err((
            "server.tls_cert".into(),
            "`tls_key` needs a certificate".into(),
        )),
        _ => Ok(()),
    }
}

/// Checks `[[plugins]]`; returns each plugin's stage by name.
fn plugins<'a>(
    list: &'a [PluginConfig],
    runtime: &RuntimeConfig,
) -> Result<HashMap<&'a str, StageKind>, Invalid> {
    let mut stages = HashMap::new();
    let mut auth_count = 0;
    for (i, p) in list.iter().enumerate() {
        let key = |f: &str| format!("plugins[{i}].{f}");
        if p.name.is_empty() {
            return Err((key("name"), "must not be empty".into()));
        }
        if stages.insert(p.name.as_str(), p.stage).is_some() {
            return Err((
                key("name"),
                format!("`{}` is used by another plugin", p.name),
            ));
        }
        if let Some(b) = p.source.strip_prefix("builtin:") {
            let Some(found) = builtin::get(b) else {
                return Err((
                    key("source"),
                    format!(
                        "unknown built-in plugin `{b}` (built-ins: {})",
                        builtin::names().join(", ")
                    ),
                ));
            };
            if found.stage != p.stage {
                return Err((
                    key("stage"),
                    format!(
                        "built-in `{b}` is a {} plugin, not {}",
                        found.stage, p.stage
                    )
                    .to_lowercase(),
                ));
            }
        }
        if p.timeout_ms == 0 {
            return Err((key("timeout_ms"), "must be at least 1".into()));
        }
        if p.memory_mb == 0 || p.memory_mb > runtime.max_plugin_memory_mb {
            return Err((
                key("memory_mb"),
                format!(
                    "must be between 1 and runtime.max_plugin_memory_mb ({})",
                    runtime.max_plugin_memory_mb
                ),
            ));
        }
        if p.stage == StageKind::Auth {
            auth_count += 1;
            if auth_count > 1 {
                return Err((
                    key("stage"),
                    "only one auth plugin may be configured".into(),
                ));
            }
            if p.on_error != OnErrorConfig::FailClosed {
                return Err((key("on_error"), "an auth plugin always fails closed".into()));
            }
        }
    }
    Ok(stages)
}

/// Checks `[[providers]]`; returns their names.
fn providers<'a>(
    list: &'a [ProviderConfig],
    plugin_stages: &HashMap<&str, StageKind>,
) -> Result<HashSet<&'a str>, Invalid> {
    let adapters = builtin::names_of(StageKind::Adapter);
    let mut names = HashSet::new();
    for (i, p) in list.iter().enumerate() {
        let key = |f: &str| format!("providers[{i}].{f}");
        if !names.insert(p.name.as_str()) {
            return Err((
                key("name"),
                format!("`{}` is used by another provider", p.name),
            ));
        }
        match plugin_stages.get(p.adapter.as_str()) {
            Some(StageKind::Adapter) => {}
            Some(other) => {
                return Err((
                    key("adapter"),
                    format!("plugin `{}` is a {other} plugin, not an adapter", p.adapter)
                        .to_lowercase(),
                ));
            }
            None if adapters.contains(&p.adapter.as_str()) => {}
            None => {
                return Err((
                    key("adapter"),
                    format!(
                        "no adapter named `{}`: declare it in [[plugins]] with stage = \"adapter\", or use a built-in ({})",
                        p.adapter,
                        adapters.join(", ")
                    ),
                ));
            }
        }
        if p.adapter != "echo"
            && !(p.base_url.starts_with("http://") || p.base_url.starts_with("https://"))
        {
            return Err((
                key("base_url"),
                format!("`{}` must be an http:// or https:// URL", p.base_url),
            ));
        }
        if p.timeout_ms == 0 {
            return Err((key("timeout_ms"), "must be at least 1".into()));
        }
    }
    Ok(names)
}

/// Checks `[[models]]`: one form of deployment each, known providers, unique names and aliases.
fn models(list: &[ModelConfig], providers: &HashSet<&str>) -> Result<(), Invalid> {
    let mut model_names: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, m) in list.iter().enumerate() {
        let key = |f: &str| format!("models[{i}].{f}");
        if m.name.is_empty() {
            return Err((key("name"), "must not be empty".into()));
        }
        match (&m.provider, m.deployments.is_empty()) {
            (Some(_), false) => {
                return Err((
                    key("deployments"),
                    "give either `provider` or `deployments`, not both".into(),
                ));
            }
            (None, true) => {
                return Err((
                    key("provider"),
                    "a model needs a `provider` (or `deployments`)".into(),
                ));
            }
            (None, false) if m.upstream_model.is_some() => {
                return Err((
                    key("upstream_model"),
                    "with `deployments`, set `upstream_model` on each deployment".into(),
                ));
            }
            _ => {}
        }
        if let Some(p) = &m.provider
            && !providers.contains(p.as_str())
        {
            return Err((key("provider"), format!("no provider named `{p}`")));
        }
        for (j, d) in m.deployments.iter().enumerate() {
            if !providers.contains(d.provider.as_str()) {
                return Err((
                    key(&format!("deployments[{j}].provider")),
                    format!("no provider named `{}`", d.provider),
                ));
            }
        }
        for (j, n) in std::iter::once(&m.name).chain(&m.aliases).enumerate() {
            if let Some(other) = model_names.insert(n.as_str(), i) {
                let k = if j == 0 {
                    key("name")
                } else {
                    key(&format!("aliases[{}]", j - 1))
                };
                return Err((k, format!("`{n}` is already a name of models[{other}]")));
            }
        }
    }
    Ok(())
}
