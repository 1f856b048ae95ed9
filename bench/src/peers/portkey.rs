//! Portkey's gateway (npm `@portkey-ai/gateway`), installed with the machine's Node (the one
//! `scripts/node-env` uses) into `.cache/peers/portkey`, and started headless with
//! `--port=N`. Requests reach the mock through its OpenAI provider with a custom host
//! (`x-portkey-provider: openai`, `x-portkey-custom-host: <mock>/v1`).

use super::proc::{self, PeerProc};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The pinned version (the newest on npm).
pub const VERSION: &str = "1.15.2";

/// The preload script: binds the server to 127.0.0.1 (it has no host option) and works around
/// Portkey-AI/gateway#1389/#1550 (streamed answers fail with `TypeError: immutable` under the
/// @hono/node-server versions npm resolves today).
const PRELOAD: &str = include_str!("portkey_preload.cjs");

/// The install folder.
fn dir() -> PathBuf {
    proc::cache_dir().join("portkey")
}

/// The version of the gateway installed in `dir`, if any.
fn installed(dir: &Path) -> Option<String> {
    let pkg = dir.join("node_modules/@portkey-ai/gateway/package.json");
    let text = std::fs::read_to_string(pkg).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["version"].as_str().map(str::to_string)
}

/// Installs `@portkey-ai/gateway@VERSION` unless it already is; returns its server script.
pub async fn ensure_installed() -> anyhow::Result<PathBuf> {
    let dir = dir();
    let entry = dir.join("node_modules/@portkey-ai/gateway/build/start-server.js");
    if installed(&dir).as_deref() == Some(VERSION) && entry.is_file() {
        return Ok(entry);
    }
    std::fs::create_dir_all(&dir)?;
    let manifest = serde_json::json!({
        "private": true,
        "description": "Portkey's gateway for sluice-bench --peers (bench/README.md)",
        "dependencies": {"@portkey-ai/gateway": VERSION},
    });
    std::fs::write(
        dir.join("package.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    let log = dir.join("install.log");
    eprintln!(
        "peers: installing @portkey-ai/gateway@{VERSION} into {} (about 10 s; log {})",
        dir.display(),
        log.display()
    );
    let mut cmd = tokio::process::Command::new("npm");
    cmd.args(["install", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir);
    proc::install("npm", cmd, &log, Duration::from_secs(600)).await?;
    let got = installed(&dir);
    anyhow::ensure!(
        got.as_deref() == Some(VERSION) && entry.is_file(),
        "{} holds @portkey-ai/gateway {got:?} after the install, not {VERSION}",
        dir.display()
    );
    Ok(entry)
}

/// Installs (if needed) and starts the gateway on a free port of 127.0.0.1; ready once `probe`
/// answers.
pub async fn start(
    dir: &Path,
    probe: impl Fn(&str) -> anyhow::Result<crate::load::LoadConfig>,
) -> anyhow::Result<PeerProc> {
    let node_major = Command::new("node")
        .args(["-p", "process.versions.node.split('.')[0]"])
        .output()
        .context("node is not installed (scripts/node-env says how to get it)")?;
    let major: u32 = String::from_utf8_lossy(&node_major.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    anyhow::ensure!(major >= 18, "Portkey's gateway needs Node 18 or newer");
    let entry = ensure_installed().await?;
    let preload = dir.join("portkey-preload.cjs");
    std::fs::write(&preload, PRELOAD)?;
    let port = proc::free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new("node");
    cmd.arg("--require")
        .arg(&preload)
        .arg(&entry)
        .arg(format!("--port={port}"))
        .arg("--headless")
        .current_dir(entry.parent().unwrap_or(Path::new(".")))
        // Production mode: no console UI, no in-memory log stream.
        .env("NODE_ENV", "production");
    let probe = probe(&url)?;
    PeerProc::start(
        "Portkey",
        cmd,
        url,
        &dir.join("portkey.log"),
        probe,
        Duration::from_secs(30),
    )
    .await
}
