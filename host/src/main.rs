//! The `sluice` command: serve the gateway; keys, usage and plugin checks are in `cli`.

mod cli;

use clap::{Parser, Subcommand};
use cli::{KeysCommand, PluginCommand};
use sluice::config::Config;
use sluice::state::Gateway;
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
    /// Show usage totals grouped by key, team, user, model or provider; or, with --budgets,
    /// spend against every budget in its current period.
    Usage {
        /// key, team, user, model or provider.
        #[arg(long, default_value = "key")]
        group_by: String,
        /// How far back, such as 24h or 7d.
        #[arg(long, default_value = "24h")]
        since: String,
        /// Show spend against budget (key, team and model budgets) instead of totals.
        #[arg(long)]
        budgets: bool,
        /// The config file.
        #[arg(long, short, default_value = "gateway.toml", env = "SLUICE_CONFIG")]
        config: PathBuf,
    },
    /// Write, test, build and inspect plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
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
            cli::new_key(&id);
            Ok(())
        }
        Some(Command::Keys { command }) => cli::keys_command(command),
        Some(Command::Usage {
            budgets: true,
            config,
            ..
        }) => cli::budgets_command(&config),
        Some(Command::Usage {
            group_by,
            since,
            config,
            ..
        }) => cli::usage_command(&config, group_by, &since),
        Some(Command::Plugin { command }) => match cli::plugin_command(command) {
            Ok(true) => Ok(()),
            // The report said why; the exit status says it would not load.
            Ok(false) => return ExitCode::FAILURE,
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sluice: {e:#}");
            ExitCode::FAILURE
        }
    }
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
        // Memory a burst of requests freed goes back to the kernel once the burst is over.
        sluice::http::trim::spawn();
        if let Err(e) = sluice::reload::spawn_triggers(std::sync::Arc::clone(&gw)) {
            tracing::warn!(error = %e, "cannot watch files: reload with SIGHUP or POST /admin/reload");
        }
        if let Some(addr) = gw.pipeline.load().config.telemetry.metrics_listen.clone() {
            let metrics = sluice::http::cores::bind(&addr, 1)
                .and_then(|(_, mut l)| tokio::net::TcpListener::from_std(l.remove(0)))
                .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for /metrics: {e}"))?;
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
        let server = &gw.pipeline.load().config.server;
        let threads = sluice::http::cores::count(server.threads);
        let (addr, listeners) = sluice::http::cores::bind(&listen, threads)
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let limits = sluice::http::Limits {
            header_read_timeout: Duration::from_millis(server.header_read_timeout_ms),
            idle_timeout: Duration::from_millis(server.idle_timeout_ms),
            max_connections: server.max_connections,
            drain: Duration::from_millis(server.shutdown_drain_ms),
            tls: gw.tls.clone(),
        };
        // Each serving thread opens its own connection to a shared kv store (Redis) before it
        // serves, so no request waits for one to be made.
        let kv = std::sync::Arc::clone(&gw.backends.kv);
        let warm: std::sync::Arc<dyn Fn() + Send + Sync> = std::sync::Arc::new(move || {
            let kv = std::sync::Arc::clone(&kv);
            tokio::spawn(async move {
                if let Err(e) = kv.ping().await {
                    tracing::warn!(error = %e, "the kv store does not answer yet");
                }
            });
        });
        let mut cores = sluice::http::cores::Cores::start(listeners, &sluice::app(std::sync::Arc::clone(&gw)), &limits, warm)?;
        // Tests and scripts read this line to find the port when listening on :0.
        let scheme = if gw.tls.is_some() { "https" } else { "http" };
        println!("sluice listening on {scheme}://{addr}");
        tracing::info!(%addr, threads, tls = gw.tls.is_some(), ms = started.elapsed().as_millis() as u64, "ready");
        shutdown_signal().await;
        cores.stop().await;
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
        cores.release().await;
        tracing::info!("stopped");
        Ok(())
    })
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
