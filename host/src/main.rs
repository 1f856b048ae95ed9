//! The `sluice` command: serve the gateway, make keys.

use clap::{Parser, Subcommand};
use sluice::config::Config;
use sluice::state::Gateway;
use sluice::store::{Db, KeyStore, NewKey, UsageQuery, hash_secret, new_secret, query_usage};
use sluice::time::{now_ms, parse_duration};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Sluice: an OpenAI-compatible AI gateway with a WebAssembly plugin pipeline.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gateway (the default command).
    Serve {
        /// The config file.
        #[arg(long, short, default_value = "gateway.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Show usage totals grouped by key, user or model.
    Usage {
        /// key, user or model.
        #[arg(long, default_value = "key")]
        group_by: String,
        /// How far back, such as 24h or 7d.
        #[arg(long, default_value = "24h")]
        since: String,
        /// The config file.
        #[arg(long, short, default_value = "gateway.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a fresh key and the config lines that accept it (keys kept in gateway.toml).
    New {
        /// The key's id in the config.
        #[arg(long, default_value = "my-key")]
        id: String,
    },
    /// Create a managed key in the gateway's database; prints its secret once.
    Create {
        /// Who owns the key.
        #[arg(long)]
        owner: String,
        /// The key's id (generated when absent).
        #[arg(long)]
        id: Option<String>,
        /// The owner's team.
        #[arg(long)]
        team: Option<String>,
        /// A model the key may use (repeat; none means every model).
        #[arg(long = "model")]
        models: Vec<String>,
        /// An MCP server (`[[mcp_servers]]` name) the key may reach (repeat; none means every
        /// server).
        #[arg(long = "mcp-server")]
        mcp_servers: Vec<String>,
        /// Lifetime, such as 30d, 12h, 90m.
        #[arg(long)]
        expires_in: Option<String>,
        /// An attribute, such as rpm=60 or tpm_in=100000 (repeat).
        #[arg(long = "attr", value_parser = parse_attr)]
        attributes: Vec<(String, String)>,
        /// The config file (its [storage] names the database).
        #[arg(long, short, default_value = "gateway.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
    /// List managed keys.
    List {
        /// The config file.
        #[arg(long, short, default_value = "gateway.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
    /// Revoke a managed key: it gets 401 from the next request on.
    Revoke {
        /// The key's id.
        id: String,
        /// The config file.
        #[arg(long, short, default_value = "gateway.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
}

fn parse_attr(text: &str) -> Result<(String, String), String> {
    text.split_once('=')
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("`{text}` is not NAME=VALUE"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, None | Some(Command::Serve { .. })) {
        // Serving logs as its config says; the other commands log as text.
        let _ = sluice::telemetry::init_logging(&sluice::config::LogConfig::default(), None);
    }
    let result = match cli.command {
        None => serve(PathBuf::from(
            std::env::var("SLUICE_CONFIG").unwrap_or_else(|_| "gateway.toml".into()),
        )),
        Some(Command::Serve { config }) => serve(config),
        Some(Command::Keys {
            command: KeysCommand::New { id },
        }) => {
            new_key(&id);
            Ok(())
        }
        Some(Command::Keys { command }) => keys_command(command),
        Some(Command::Usage {
            group_by,
            since,
            config,
        }) => usage_command(&config, group_by, &since),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sluice: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn new_key(id: &str) {
    let secret = new_secret();
    let hash = hash_secret(&secret);
    println!("key:    {secret}");
    println!("sha256: {hash}");
    println!();
    println!("Add it to the key-auth plugin's config in gateway.toml:");
    println!();
    println!("[[plugins.config.keys]]");
    println!("id = \"{id}\"");
    println!("sha256 = \"{hash}\"");
}

fn open_db(config: &std::path::Path) -> anyhow::Result<Db> {
    let config = Config::load(config)?;
    Ok(Db::open(&config.data_dir())?)
}

fn keys_command(command: KeysCommand) -> anyhow::Result<()> {
    match command {
        KeysCommand::New { .. } => Ok(()),
        KeysCommand::Create {
            owner,
            id,
            team,
            models,
            mcp_servers,
            expires_in,
            attributes,
            config,
        } => {
            let expires_in_s = match expires_in {
                Some(d) => Some(
                    parse_duration(&d)
                        .ok_or_else(|| {
                            anyhow::anyhow!("--expires-in: `{d}` is not a duration like 30d")
                        })?
                        .as_secs(),
                ),
                None => None,
            };
            let keys = KeyStore::new(open_db(&config)?);
            let (record, secret) = keys.create(NewKey {
                id,
                owner,
                team,
                models,
                attributes: attributes.into_iter().collect(),
                mcp_servers,
                expires_in_s,
            })?;
            println!("key:    {secret}");
            println!("id:     {}", record.id);
            println!("Keep the key now: only its hash is stored.");
            Ok(())
        }
        KeysCommand::List { config } => {
            let keys = KeyStore::new(open_db(&config)?);
            println!(
                "{:<24} {:<20} {:<12} {:<10} {:<24} attributes",
                "id", "owner", "team", "state", "models"
            );
            let now = now_ms();
            for k in keys.list()? {
                let state = if k.revoked_ms.is_some() {
                    "revoked"
                } else if k.expires_ms.is_some_and(|t| t <= now) {
                    "expired"
                } else {
                    "active"
                };
                let models = if k.models.is_empty() {
                    "*".to_string()
                } else {
                    k.models.join(",")
                };
                let attrs: Vec<String> = k
                    .attributes
                    .iter()
                    .map(|(a, v)| format!("{a}={v}"))
                    .collect();
                println!(
                    "{:<24} {:<20} {:<12} {:<10} {:<24} {}",
                    k.id,
                    k.owner,
                    k.team.as_deref().unwrap_or("-"),
                    state,
                    models,
                    attrs.join(" ")
                );
            }
            Ok(())
        }
        KeysCommand::Revoke { id, config } => {
            let keys = KeyStore::new(open_db(&config)?);
            if keys.revoke(&id)? {
                println!("revoked {id}");
                Ok(())
            } else {
                anyhow::bail!("no key `{id}`")
            }
        }
    }
}

fn usage_command(config: &std::path::Path, group_by: String, since: &str) -> anyhow::Result<()> {
    let since = parse_duration(since)
        .ok_or_else(|| anyhow::anyhow!("--since: `{since}` is not a duration like 24h"))?;
    let db = open_db(config)?;
    let now = now_ms();
    let rows = query_usage(
        &db,
        &UsageQuery {
            group_by: group_by.clone(),
            since_ms: now.saturating_sub(since.as_millis() as u64),
            until_ms: u64::MAX,
            key_id: None,
        },
    )?;
    println!(
        "{:<28} {:>9} {:>7} {:>12} {:>12} {:>10} {:>12}",
        group_by, "requests", "errors", "prompt", "completion", "cached", "cost_usd"
    );
    for r in rows {
        let group = if r.group.is_empty() {
            "-"
        } else {
            r.group.as_str()
        };
        println!(
            "{:<28} {:>9} {:>7} {:>12} {:>12} {:>10} {:>12.6}",
            group,
            r.requests,
            r.errors,
            r.prompt_tokens,
            r.completion_tokens,
            r.cached_tokens,
            r.cost_usd
        );
    }
    Ok(())
}

fn serve(config_path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&config_path)?;
    sluice::telemetry::init_logging(&config.log, Some(&config.telemetry))
        .map_err(|e| anyhow::anyhow!("{}: {e}", config_path.display()))?;
    let listen = std::env::var("SLUICE_LISTEN").unwrap_or_else(|_| config.server.listen.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let started = std::time::Instant::now();
        let gw = Gateway::start(config).await?;
        // Batches with work left (after a restart too) resume now.
        sluice::endpoints::batches::runner::spawn(&gw);
        if let Err(e) = sluice::reload::spawn_triggers(std::sync::Arc::clone(&gw)) {
            tracing::warn!(error = %e, "cannot watch files: reload with SIGHUP or POST /admin/reload");
        }
        if let Some(addr) = gw.pipeline.load().config.telemetry.metrics_listen.clone() {
            let metrics = bind(&addr).map_err(|e| anyhow::anyhow!("cannot listen on {addr} for /metrics: {e}"))?;
            tracing::info!(%addr, "metrics listening");
            let router = axum::Router::new()
                .route("/metrics", axum::routing::get(sluice::telemetry::scrape))
                .with_state(std::sync::Arc::clone(&gw));
            tokio::spawn(async move {
                if let Err(e) = axum::serve(metrics, router).await {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            });
        }
        let listener = bind(&listen).map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        // Tests and scripts read this line to find the port when listening on :0.
        println!("sluice listening on http://{addr}");
        tracing::info!(%addr, ms = started.elapsed().as_millis() as u64, "ready");
        let server = &gw.pipeline.load().config.server;
        let limits = sluice::http::Limits {
            header_read_timeout: Duration::from_millis(server.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(server.idle_timeout_ms),
            max_connections: server.max_connections,
            drain: Duration::from_millis(server.shutdown_drain_ms),
        };
        sluice::http::serve(listener, sluice::app(std::sync::Arc::clone(&gw)), limits, shutdown_signal()).await;
        // Connections are closed. Streams and completion hooks end once their client is gone;
        // wait for them (briefly), then write every usage row still queued.
        gw.tasks.close();
        if tokio::time::timeout(Duration::from_secs(5), gw.tasks.wait()).await.is_err() {
            tracing::warn!("tasks still running after shutdown; writing usage rows anyway");
        }
        gw.mcp.shutdown().await;
        gw.usage.flush().await;
        // The exporter's flush blocks: off the async workers.
        let _ = tokio::task::spawn_blocking(sluice::telemetry::traces::shutdown).await;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Binds `listen` with a deep accept backlog (bursts of thousands of connections, such as many
/// streams starting at once, must not overflow the kernel's default of 128).
fn bind(listen: &str) -> std::io::Result<tokio::net::TcpListener> {
    let addr: std::net::SocketAddr = listen
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("{e}")))?;
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(4096)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
