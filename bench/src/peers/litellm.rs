//! LiteLLM's proxy (PyPI `litellm[proxy]`), installed into a virtualenv of its own under
//! `.cache/peers/litellm` and started with a generated config that routes one model to the mock
//! as an OpenAI-compatible endpoint.

use super::proc::{self, PeerProc};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The pinned version: the newest whose `[proxy]` extra installs from this machine's package
/// index on Python 3.11 (1.108.8 and later pin `litellm-enterprise`/`litellm-proxy-extras`
/// builds that the index does not have).
pub const VERSION: &str = "1.108.7";

/// The master key the bench sends as `Authorization: Bearer` (the same as Sluice's key).
pub const MASTER_KEY: &str = "sk-bench";

/// Environment that keeps LiteLLM off the network and quiet: no telemetry, the bundled model
/// cost map and blog posts instead of fetching them, no admin UI or API docs, errors-only logs
/// (which also turns off uvicorn's access log).
const ENV: [(&str, &str); 8] = [
    ("LITELLM_TELEMETRY", "False"),
    ("LITELLM_LOCAL_MODEL_COST_MAP", "True"),
    ("LITELLM_LOCAL_BLOG_POSTS", "True"),
    ("LITELLM_LOG", "ERROR"),
    ("DISABLE_ADMIN_UI", "True"),
    ("NO_DOCS", "True"),
    ("PYTHONUNBUFFERED", "1"),
    ("OTEL_SDK_DISABLED", "true"),
];

/// The venv folder.
fn venv() -> PathBuf {
    proc::cache_dir().join("litellm/venv")
}

/// Whether the venv holds the pinned version with the proxy's server dependencies.
fn installed(python: &Path) -> bool {
    let check = format!(
        "import sys; from importlib.metadata import version as v; \
         sys.exit(0 if v('litellm') == '{VERSION}' and v('uvicorn') and v('fastapi') else 1)"
    );
    Command::new(python)
        .args(["-c", &check])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Installs `litellm[proxy]==VERSION` unless it already is; returns the `litellm` command.
pub async fn ensure_installed() -> anyhow::Result<PathBuf> {
    let venv = venv();
    let python = venv.join("bin/python");
    let exe = venv.join("bin/litellm");
    if installed(&python) && exe.is_file() {
        return Ok(exe);
    }
    let dir = venv.parent().context("no parent folder")?;
    std::fs::create_dir_all(dir)?;
    let log = dir.join("install.log");
    eprintln!(
        "peers: installing litellm[proxy]=={VERSION} into {} (about a minute; log {})",
        venv.display(),
        log.display()
    );
    if !python.is_file() {
        let mut cmd = tokio::process::Command::new("python3");
        cmd.args(["-m", "venv"]).arg(&venv);
        proc::install("python venv", cmd, &log, Duration::from_secs(120)).await?;
    }
    let mut cmd = tokio::process::Command::new(&python);
    cmd.args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
        .arg(format!("litellm[proxy]=={VERSION}"));
    proc::install(
        "litellm",
        cmd,
        &log.with_extension("pip.log"),
        Duration::from_secs(900),
    )
    .await?;
    anyhow::ensure!(
        installed(&python) && exe.is_file(),
        "{} does not hold litellm {VERSION} after the install",
        venv.display()
    );
    Ok(exe)
}

/// The proxy config: one model routed to the mock, a master key, no database, no callbacks.
fn config(mock: &str) -> String {
    format!(
        "model_list:\n\
         \x20 - model_name: bench-model\n\
         \x20   litellm_params:\n\
         \x20     model: openai/bench-model\n\
         \x20     api_base: {mock}/v1\n\
         \x20     api_key: x\n\
         litellm_settings:\n\
         \x20 telemetry: false\n\
         \x20 callbacks: []\n\
         \x20 success_callback: []\n\
         \x20 failure_callback: []\n\
         general_settings:\n\
         \x20 master_key: {MASTER_KEY}\n\
         \x20 disable_spend_logs: true\n\
         \x20 background_health_checks: false\n"
    )
}

/// Installs (if needed) and starts the proxy on a free port of 127.0.0.1 with one worker; ready
/// once `probe` answers.
pub async fn start(
    mock: &str,
    dir: &Path,
    probe: impl Fn(&str) -> anyhow::Result<crate::load::LoadConfig>,
) -> anyhow::Result<PeerProc> {
    let exe = ensure_installed().await?;
    let cfg = dir.join("litellm.yaml");
    std::fs::write(&cfg, config(mock))?;
    let port = proc::free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let mut cmd = Command::new(exe);
    cmd.arg("--config")
        .arg(&cfg)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--num_workers", "1"])
        .envs(ENV)
        .env_remove("DATABASE_URL");
    let probe = probe(&url)?;
    PeerProc::start(
        "LiteLLM",
        cmd,
        url,
        &dir.join("litellm.log"),
        probe,
        Duration::from_secs(90),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_routes_the_model_to_the_mock() {
        let c = config("http://127.0.0.1:9");
        assert!(c.contains("      api_base: http://127.0.0.1:9/v1\n"));
        assert!(c.contains("  master_key: sk-bench\n"));
        assert!(c.lines().all(|l| !l.starts_with('\\')));
    }
}
