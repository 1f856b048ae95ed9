use super::*;
use std::path::Path;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("/etc/sluice/gateway.toml"), text)
}

const GOOD: &str = r#"
[server]
listen = "127.0.0.1:9000"

[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"

[[plugins]]
name = "rules"
stage = "policy"
source = "rules.wasm"
[plugins.config]
limit = 3

[[providers]]
name = "p"
adapter = "openai"
base_url = "http://127.0.0.1:1/v1/"

[[models]]
name = "m"
provider = "p"
aliases = ["m2"]
"#;

#[test]
fn a_good_config_validates_with_defaults() {
    let c = parse(GOOD).expect("valid");
    assert_eq!(c.server.listen, "127.0.0.1:9000");
    assert_eq!(c.plugins[0].timeout_ms, 50);
    assert_eq!(c.plugins[0].memory_mb, 64);
    assert_eq!(c.plugins[0].instance_mode(), InstancesConfig::Warm);
    assert_eq!(c.plugins[1].instance_mode(), InstancesConfig::Fresh);
    assert_eq!(c.plugins[1].config_json(), r#"{"limit":3}"#);
    assert_eq!(
        c.plugins[1].path(&c.file),
        Some(PathBuf::from("/etc/sluice/rules.wasm"))
    );
    assert_eq!(
        c.watched_files(),
        vec![
            PathBuf::from("/etc/sluice/gateway.toml"),
            PathBuf::from("/etc/sluice/rules.wasm")
        ]
    );
}

fn error_of(text: &str) -> String {
    parse(text).expect_err("invalid").to_string()
}

#[test]
fn errors_name_the_file_the_key_and_the_reason() {
    let e = error_of("[server]\nlisten = \"x\"\n");
    assert!(
        e.starts_with("/etc/sluice/gateway.toml: key `server.listen`"),
        "{e}"
    );
    let e = error_of(&GOOD.replace("provider = \"p\"", "provider = \"q\""));
    assert!(
        e.contains("key `models[0].provider`") && e.contains("no provider named `q`"),
        "{e}"
    );
    let e = error_of(&format!(
        "{GOOD}\n[[models]]\nname = \"m2\"\nprovider = \"p\"\n"
    ));
    assert!(
        e.contains("models[1].name") && e.contains("already a name of models[0]"),
        "{e}"
    );
    let e = error_of(&GOOD.replace("adapter = \"openai\"", "adapter = \"rules\""));
    assert!(
        e.contains("providers[0].adapter") && e.contains("not an adapter"),
        "{e}"
    );
    let e = error_of(&GOOD.replace("builtin:key-auth", "builtin:nope"));
    assert!(e.contains("plugins[0].source"), "{e}");
    let e = error_of(&format!(
        "{GOOD}\n[[plugins]]\nname = \"auth\"\nstage = \"policy\"\nsource = \"x.wasm\"\n"
    ));
    assert!(e.contains("plugins[2].name"), "{e}");
}

#[test]
fn unknown_keys_and_syntax_errors_are_refused_with_their_line() {
    let e = error_of(&GOOD.replace("aliases", "alias"));
    assert!(e.contains("alias"), "{e}");
    let e = error_of("[server\nlisten = 1");
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn restart_changes_are_reported() {
    let a = parse(GOOD).expect("valid");
    let b = parse(&GOOD.replace("9000", "9001")).expect("valid");
    assert_eq!(
        a.restart_changes(&b),
        vec!["server.listen: 127.0.0.1:9000 -> 127.0.0.1:9001".to_string()]
    );
    assert!(a.restart_changes(&a).is_empty());
}

#[test]
fn loading_normalises_models_and_implicit_adapters() {
    let c = parse(GOOD).expect("valid");
    assert_eq!(
        c.models[0].deployments,
        vec![DeploymentConfig {
            provider: "p".into(),
            upstream_model: None
        }]
    );
    // The built-in `openai` adapter, named only by the provider, became a plugin entry with the
    // same defaults as a declared one.
    let openai = c
        .plugins
        .iter()
        .find(|p| p.name == "openai")
        .expect("an entry for the adapter");
    assert_eq!(openai.stage, StageKind::Adapter);
    assert_eq!(openai.source, "builtin:openai");
    assert_eq!(openai.timeout_ms, DEFAULT_PLUGIN_TIMEOUT_MS);
    assert_eq!(openai.memory_mb, DEFAULT_PLUGIN_MEMORY_MB);
}

#[test]
fn server_limits_have_defaults_and_must_be_positive() {
    let c = parse(GOOD).expect("valid");
    assert_eq!(c.server.max_user_id_bytes, 256);
    assert!(c.server.header_read_timeout_ms > 0 && c.server.idle_timeout_ms > 0);
    let e = error_of(&GOOD.replace("[server]", "[server]\nmax_connections = 0"));
    assert!(e.contains("server.max_connections"), "{e}");
}

#[test]
fn mcp_servers_validate_and_name_the_key_at_fault() {
    let good = r#"
[mcp]
allowed_origins = ["https://app.example"]
[[mcp_servers]]
name = "docs"
url = "http://127.0.0.1:9000/mcp"
headers = { "x-team" = "research" }
[[mcp_servers]]
name = "everything"
command = "npx"
args = ["-y", "@modelcontextprotocol/server-everything"]
[[plugins]]
name = "mcp-tools"
stage = "mcp-policy"
source = "builtin:mcp-tools"
"#;
    let c = parse(good).expect("valid");
    assert_eq!(c.mcp_servers.len(), 2);
    assert_eq!(c.mcp_servers[1].max_processes, 32);
    assert_eq!(c.plugins[0].stage, StageKind::McpPolicy);
    assert_eq!(c.mcp.session_idle_timeout_ms, 30 * 60 * 1000);

    for (text, key) in [
        ("[[mcp_servers]]\nname = \"x\"", "mcp_servers[0].url"),
        (
            "[[mcp_servers]]\nname = \"x\"\nurl = \"http://a/mcp\"\ncommand = \"npx\"",
            "mcp_servers[0].url",
        ),
        (
            "[[mcp_servers]]\nname = \"a/b\"\nurl = \"http://a/mcp\"",
            "mcp_servers[0].name",
        ),
        (
            "[[mcp_servers]]\nname = \"a\"\nurl = \"http://a\"\n[[mcp_servers]]\nname = \"a\"\nurl = \"http://b\"",
            "mcp_servers[1].name",
        ),
        (
            "[[mcp_servers]]\nname = \"a\"\nurl = \"ftp://a\"",
            "mcp_servers[0].url",
        ),
        (
            "[[mcp_servers]]\nname = \"a\"\ncommand = \"x\"\nmax_processes = 1",
            "mcp_servers[0].max_processes",
        ),
        (
            "[mcp]\nallowed_origins = [\"https://a.example/\"]",
            "mcp.allowed_origins[0]",
        ),
        (
            "[[plugins]]\nname = \"t\"\nstage = \"policy\"\nsource = \"builtin:mcp-tools\"",
            "plugins[0].stage",
        ),
    ] {
        let e = parse(text).expect_err(text);
        assert_eq!(e.key.as_deref(), Some(key), "{text}: {e}");
    }
}
