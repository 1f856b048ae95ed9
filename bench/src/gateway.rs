//! Starting the gateway under test: its config (from `bench/gateway.toml`), and each start timed
//! from spawn to the listening line and to the first successful request.

use crate::load::{self, LoadConfig};
use crate::procs::Proc;
use anyhow::{Context, bail};
use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The config template; `@MOCK_URL@` and `@DATA_DIR@` are filled in per run.
const TEMPLATE: &str = include_str!("../gateway.toml");

/// How to start the gateway.
pub struct GatewaySpec {
    /// The `sluice` binary.
    pub bin: PathBuf,
    /// The config file written for this run.
    pub config: PathBuf,
    /// Where its stderr goes.
    pub log: PathBuf,
    /// The mock's base URL (`http://127.0.0.1:PORT`).
    mock: String,
    /// Extra environment variables of the gateway.
    env: Vec<(String, String)>,
}

/// What one start measured.
#[derive(Debug, Clone)]
pub struct Startup {
    /// Spawn to the listening line.
    pub to_listening: Duration,
    /// Spawn to the first successful chat request.
    pub to_ready: Duration,
    /// VmRSS shortly after the first request, idle.
    pub rss_kb: u64,
}

/// Writes the config for a mock at `mock` into `dir` (with a `data` folder), `extra` appended.
fn write_config(dir: &Path, mock: &str, extra: &str) -> anyhow::Result<PathBuf> {
    let data = dir.join("data");
    std::fs::create_dir_all(&data)?;
    let mut text = TEMPLATE
        .replace("@MOCK_URL@", &format!("{mock}/v1"))
        .replace("@DATA_DIR@", &data.display().to_string());
    text.push_str(extra);
    let config = dir.join("gateway.toml");
    std::fs::write(&config, text).with_context(|| format!("write {}", config.display()))?;
    Ok(config)
}

impl GatewaySpec {
    /// Writes the config for a mock at `mock` (`http://127.0.0.1:PORT`) into `dir`.
    pub fn new(bin: &Path, dir: &Path, mock: &str) -> anyhow::Result<GatewaySpec> {
        let config = write_config(dir, mock, "")?;
        if !bin.is_file() {
            bail!(
                "no gateway binary at {} (build it with `cargo build --release -p sluice`, or pass --sluice)",
                bin.display()
            );
        }
        // Every start runs the same binary even if a build replaces the original meanwhile.
        let copy = dir.join("sluice");
        std::fs::copy(bin, &copy).with_context(|| format!("copy {}", bin.display()))?;
        Ok(GatewaySpec {
            bin: copy,
            config,
            log: dir.join("gateway.log"),
            mock: mock.to_string(),
            env: Vec::new(),
        })
    }

    /// Another gateway of the same binary and mock, in a folder `name` of its own (config, data,
    /// log) beside this one's: `extra` (more TOML tables) is appended to its config, and `env` set
    /// when it starts.
    pub fn variant(
        &self,
        name: &str,
        extra: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<GatewaySpec> {
        let parent = self.config.parent().context("the config has no folder")?;
        let dir = parent.join(name);
        Ok(GatewaySpec {
            bin: self.bin.clone(),
            config: write_config(&dir, &self.mock, extra)?,
            log: dir.join("gateway.log"),
            mock: self.mock.clone(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
    }

    /// Starts the gateway and waits until it has answered one chat request through the mock.
    pub async fn start(&self) -> anyhow::Result<(Proc, Startup)> {
        let started = Instant::now();
        let mut cmd = Command::new(&self.bin);
        cmd.arg("serve")
            .arg("--config")
            .arg(&self.config)
            .env("SLUICE_LISTEN", "127.0.0.1:0")
            .env("SLUICE_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        let mut gw = Proc::start(
            "gateway",
            cmd,
            "sluice listening on ",
            Some(&self.log),
            Duration::from_secs(20),
        )?;
        let to_listening = gw.to_listening;
        let probe = LoadConfig {
            url: format!("{}/v1/chat/completions", gw.url).parse()?,
            concurrency: 1,
            duration: Duration::from_secs(2),
            requests: Some(1),
            body: Bytes::from_static(
                br#"{"model":"bench-model","messages":[{"role":"user","content":"ready?"}]}"#,
            ),
            headers: vec![(
                HeaderName::from_static("authorization"),
                HeaderValue::from_static("Bearer sk-bench"),
            )],
            stream: false,
            stream_end: Default::default(),
            request_timeout: Duration::from_secs(2),
            connect_concurrency: 0,
            stop: None,
        };
        let to_ready = loop {
            let rep = load::run(&probe).await?;
            if rep.count() == 1 {
                break started.elapsed();
            }
            gw.check_alive()?;
            if started.elapsed() > Duration::from_secs(10) {
                bail!(
                    "the gateway never answered: {:?}{}",
                    rep.error_samples,
                    gw.stderr_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        let rss_kb = gw.status_kb("VmRSS")?;
        Ok((
            gw,
            Startup {
                to_listening,
                to_ready,
                rss_kb,
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    #[test]
    fn template_holds_the_hash_of_the_bench_key() {
        let hash = hex::encode(sha2::Sha256::digest(b"sk-bench"));
        assert!(TEMPLATE.contains(&format!("sha256 = \"{hash}\"")));
    }

    #[test]
    fn config_is_filled_in() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let bin = std::env::current_exe()?;
        let spec = GatewaySpec::new(&bin, dir.path(), "http://127.0.0.1:9")?;
        let text = std::fs::read_to_string(&spec.config)?;
        assert!(text.contains("base_url = \"http://127.0.0.1:9/v1\""));
        assert!(text.contains("url = \"http://127.0.0.1:9/v1/mcp\""));
        assert!(!text.contains('@'));
        let other = spec.variant("other", "\n[telemetry]\nmetrics = false\n", &[("A", "1")])?;
        let text = std::fs::read_to_string(&other.config)?;
        assert!(text.ends_with("[telemetry]\nmetrics = false\n"));
        assert!(text.contains(&dir.path().join("other/data").display().to_string()));
        assert_eq!(other.bin, spec.bin);
        Ok(())
    }
}
