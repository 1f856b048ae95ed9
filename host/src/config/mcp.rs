//! The `[mcp]` table and `[[mcp_servers]]`: the MCP servers the gateway fronts at
//! `/mcp-servers/{name}/mcp`, and how client sessions with them live.

use serde::Deserialize;
use std::collections::BTreeMap;

/// `[mcp]`: settings of the MCP endpoint as a whole.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct McpConfig {
    /// Origins allowed to call the MCP endpoint (exact `scheme://host[:port]`). A request whose
    /// `Origin` header is present and not listed gets 403; requests without one (every non-browser
    /// client) are not affected. Default: none.
    #[serde(default)]
    pub allowed_origins: Vec<String>,
    /// A session unused for this long ends (the client gets 404 and initialises again).
    #[serde(default = "default_idle")]
    pub session_idle_timeout_ms: u64,
    /// Sessions open at once over every server; `initialize` beyond it gets 503.
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
}

impl Default for McpConfig {
    fn default() -> Self {
        McpConfig {
            allowed_origins: Vec::new(),
            session_idle_timeout_ms: default_idle(),
            max_sessions: default_max_sessions(),
        }
    }
}

fn default_idle() -> u64 {
    30 * 60 * 1000
}
fn default_max_sessions() -> usize {
    10_000
}

/// `[[mcp_servers]]`: one MCP server, reached over Streamable HTTP (`url`) or started by the
/// gateway and spoken to over stdio (`command`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct McpServerConfig {
    /// The `{name}` of `/mcp-servers/{name}/mcp`.
    pub name: String,
    /// The server's Streamable HTTP endpoint.
    #[serde(default)]
    pub url: Option<String>,
    /// Headers sent with every request to a `url` server.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// An environment variable holding a token sent as `Authorization: Bearer` to a `url` server.
    #[serde(default)]
    pub api_key_env: Option<String>,
    /// The program of a stdio server. Each gateway session gets a process of its own (stdio
    /// servers serve one client); one spare is kept started so `initialize` does not wait.
    #[serde(default)]
    pub command: Option<String>,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment variables added to its environment.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Its working folder (relative to the config file); default: the config file's folder.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Processes of a stdio server running at once (sessions plus the spare); `initialize`
    /// beyond it gets 503.
    #[serde(default = "default_max_processes")]
    pub max_processes: usize,
    /// How long the server may stay silent while answering one request (no byte of an HTTP
    /// answer, no message of a stdio server) before the client gets an error.
    #[serde(default = "default_timeout")]
    pub timeout_ms: u64,
}

fn default_max_processes() -> usize {
    32
}
fn default_timeout() -> u64 {
    5 * 60 * 1000
}

/// Checks `[mcp]` and `[[mcp_servers]]`.
pub(super) fn validate(
    mcp: &McpConfig,
    servers: &[McpServerConfig],
) -> Result<(), (String, String)> {
    if mcp.session_idle_timeout_ms == 0 {
        return Err((
            "mcp.session_idle_timeout_ms".into(),
            "must be at least 1".into(),
        ));
    }
    if mcp.max_sessions == 0 {
        return Err(("mcp.max_sessions".into(), "must be at least 1".into()));
    }
    for (i, o) in mcp.allowed_origins.iter().enumerate() {
        if !(o.starts_with("http://") || o.starts_with("https://")) || o.ends_with('/') {
            return Err((
                format!("mcp.allowed_origins[{i}]"),
                format!("`{o}` is not an origin: write scheme://host[:port], without a path"),
            ));
        }
    }
    let mut names = std::collections::HashSet::new();
    for (i, s) in servers.iter().enumerate() {
        let key = |f: &str| format!("mcp_servers[{i}].{f}");
        let name_ok = !s.name.is_empty()
            && s.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !name_ok {
            return Err((
                key("name"),
                format!("`{}`: use letters, digits, `-`, `_` and `.` only", s.name),
            ));
        }
        if !names.insert(s.name.as_str()) {
            return Err((
                key("name"),
                format!("`{}` is used by another server", s.name),
            ));
        }
        match (&s.url, &s.command) {
            (Some(url), None) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err((key("url"), format!("`{url}` is not an http(s) URL")));
                }
            }
            (None, Some(cmd)) => {
                if cmd.trim().is_empty() {
                    return Err((key("command"), "must not be empty".into()));
                }
                if !s.headers.is_empty() || s.api_key_env.is_some() {
                    return Err((
                        key("headers"),
                        "headers and api_key_env apply to `url` servers; give a stdio server `env`"
                            .into(),
                    ));
                }
            }
            _ => {
                return Err((
                    key("url"),
                    "give exactly one of `url` (Streamable HTTP) and `command` (stdio)".into(),
                ));
            }
        }
        if s.url.is_some() && (!s.args.is_empty() || !s.env.is_empty() || s.cwd.is_some()) {
            return Err((
                key("args"),
                "args, env and cwd apply to `command` servers".into(),
            ));
        }
        if s.max_processes < 2 {
            return Err((
                key("max_processes"),
                "must be at least 2 (one session and the spare)".into(),
            ));
        }
        if s.timeout_ms == 0 {
            return Err((key("timeout_ms"), "must be at least 1".into()));
        }
        for h in s.headers.keys() {
            if http::HeaderName::from_bytes(h.as_bytes()).is_err() {
                return Err((key("headers"), format!("`{h}` is not a header name")));
            }
        }
    }
    Ok(())
}
