//! The `sluice` command: serve the gateway, make keys.

use clap::{Parser, Subcommand};
use sha2::{Digest, Sha256};
use sluice::config::Config;
use sluice::server::{Gateway, router};
use std::path::PathBuf;
use std::process::ExitCode;

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
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Print a fresh key and the config lines that accept it.
    New {
        /// The key's id in the config.
        #[arg(long, default_value = "my-key")]
        id: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SLUICE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
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
    use base64::Engine;
    let secret = format!(
        "sk-sluice-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())
    );
    let hash = hex::encode(Sha256::digest(secret.as_bytes()));
    println!("key:    {secret}");
    println!("sha256: {hash}");
    println!();
    println!("Add it to the key-auth plugin's config in gateway.toml:");
    println!();
    println!("[[plugins.config.keys]]");
    println!("id = \"{id}\"");
    println!("sha256 = \"{hash}\"");
}

fn serve(config_path: PathBuf) -> anyhow::Result<()> {
    let config = Config::load(&config_path)?;
    let listen = std::env::var("SLUICE_LISTEN").unwrap_or_else(|_| config.server.listen.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let started = std::time::Instant::now();
        let gw = Gateway::start(config).await?;
        if let Err(e) = sluice::server::reload::spawn_triggers(std::sync::Arc::clone(&gw)) {
            tracing::warn!(error = %e, "cannot watch files: reload with SIGHUP or POST /admin/reload");
        }
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
        let addr = listener.local_addr()?;
        // Tests and scripts read this line to find the port when listening on :0.
        println!("sluice listening on http://{addr}");
        tracing::info!(%addr, ms = started.elapsed().as_millis() as u64, "ready");
        axum::serve(listener, router(gw))
            .with_graceful_shutdown(shutdown_signal())
            .await?;
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
