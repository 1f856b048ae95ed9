//! The commands besides `serve`: managed keys, usage totals, and plugin checks.

use clap::Subcommand;
use sluice::authoring::{self, Lang};
use sluice::config::Config;
use sluice::config::StageKind;
use sluice::store::{Db, KeyStore, NewKey, UsageQuery, hash_secret, new_secret, query_usage};
use sluice::time::{now_ms, parse_duration};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum KeysCommand {
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

/// `sluice plugin ...`.
#[derive(Subcommand)]
pub enum PluginCommand {
    /// Write a new plugin project (it builds and passes its own tests as written).
    New {
        /// The plugin's name (lower-case letters, digits, hyphens).
        name: String,
        /// The stage it serves: auth, policy, adapter, enrich, guard or mcp.
        #[arg(long, value_parser = parse_stage)]
        stage: StageKind,
        /// Its language.
        #[arg(long, value_enum, default_value = "rust")]
        lang: Lang,
        /// The folder to create (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Build a plugin project to a component (NAME.wasm in the project), then check it.
    Build {
        /// The project folder.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Where to write the component.
        #[arg(long, short)]
        out: Option<PathBuf>,
    },
    /// Run a plugin project's own tests.
    Test {
        /// The project folder.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Say which world and contract version a component targets, what it imports and exports,
    /// and whether this gateway would load it (and why not).
    Check {
        /// A `.wasm` component, or `builtin:NAME`.
        file: String,
        /// The plugin's config table as JSON: with it, the check also probes whether the plugin
        /// keeps state in globals (which fresh instances lose at every request).
        #[arg(long)]
        config: Option<String>,
    },
}

fn parse_stage(text: &str) -> Result<StageKind, String> {
    Ok(match text {
        "auth" => StageKind::Auth,
        "policy" => StageKind::Policy,
        "adapter" => StageKind::Adapter,
        "enrich" => StageKind::Enrich,
        "guard" => StageKind::Guard,
        "mcp" | "mcp-policy" => StageKind::McpPolicy,
        _ => {
            return Err(format!(
                "`{text}` is not a stage: auth, policy, adapter, enrich, guard or mcp"
            ));
        }
    })
}

/// Runs a plugin command; false when the component would not load.
pub fn plugin_command(command: PluginCommand) -> anyhow::Result<bool> {
    match command {
        PluginCommand::New {
            name,
            stage,
            lang,
            dir,
        } => {
            let req = authoring::new::NewPlugin {
                name,
                stage,
                lang,
                dir,
            };
            let dir = authoring::new::create(&req)?;
            let shown = dir.display();
            println!(
                "wrote {shown} ({} {} plugin)\n\nnext:\n  sluice plugin test {shown}\n  sluice plugin build {shown}\n\nthen add it to gateway.toml (the gateway reloads on save):\n\n[[plugins]]\nname = \"{}\"\nstage = \"{}\"\nsource = \"{}\"",
                format!("{lang:?}").to_lowercase(),
                stage.as_str(),
                req.name,
                stage.as_str(),
                dir.join(format!("{}.wasm", req.name)).display()
            );
            if lang != Lang::Rust {
                // A fresh CPython or SpiderMonkey instance costs milliseconds a request.
                println!("instances = \"warm\"");
            }
            let source = match lang {
                Lang::Rust => "src/lib.rs",
                Lang::Python => "app.py",
                Lang::Js => "plugin.js",
            };
            println!("[plugins.config]\n# its keys: see the example at the top of {source}");
            Ok(true)
        }
        PluginCommand::Build { dir, out } => {
            let wasm = authoring::build::build(&dir, out)?;
            let bytes = std::fs::read(&wasm)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", wasm.display()))?;
            // Probed with an empty config: a plugin that needs one says so in a note.
            let report = sluice::pipeline::inspect::inspect_with(&bytes, Some("{}"))?;
            print!("{}", report.render(&wasm.display().to_string()));
            Ok(report.loads())
        }
        PluginCommand::Test { dir } => {
            authoring::build::test(&dir)?;
            Ok(true)
        }
        PluginCommand::Check { file, config } => {
            let bytes = match file.strip_prefix("builtin:") {
                Some(name) => sluice::builtin::get(name)
                    .map(|b| b.bytes.to_vec())
                    .ok_or_else(|| anyhow::anyhow!("no built-in plugin `{name}`"))?,
                None => {
                    std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {file}: {e}"))?
                }
            };
            let report = sluice::pipeline::inspect::inspect_with(&bytes, config.as_deref())?;
            print!("{}", report.render(&file));
            Ok(report.loads())
        }
    }
}

pub fn new_key(id: &str) {
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
    Ok(Db::from_config(&config)?)
}

pub fn keys_command(command: KeysCommand) -> anyhow::Result<()> {
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

/// `sluice usage --budgets`: spend against every budget in its current period.
pub fn budgets_command(config: &std::path::Path) -> anyhow::Result<()> {
    let config = Config::load(config)?;
    let db = Db::from_config(&config)?;
    let keys = KeyStore::new(db.clone());
    let lines = sluice::budgets::report(&config, &db, &keys, now_ms())?;
    if lines.is_empty() {
        println!("no budgets (configure the `budget` plugin: see README, \"Budgets and tiers\")");
        return Ok(());
    }
    println!(
        "{:<6} {:<24} {:<7} {:>12} {:>12} {:>12}  {:<20}",
        "scope", "id", "period", "limit_usd", "spent_usd", "remaining", "resets_at"
    );
    for l in lines {
        println!(
            "{:<6} {:<24} {:<7} {:>12.4} {:>12.6} {:>12.6}  {:<20}",
            l.scope, l.id, l.period, l.limit_usd, l.spent_usd, l.remaining_usd, l.resets_at
        );
    }
    Ok(())
}

pub fn usage_command(
    config: &std::path::Path,
    group_by: String,
    since: &str,
) -> anyhow::Result<()> {
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
        "{:<28} {:>9} {:>7} {:>12} {:>12} {:>10} {:>10} {:>12}",
        group_by, "requests", "errors", "prompt", "completion", "cached", "audio_s", "cost_usd"
    );
    for r in rows {
        let group = if r.group.is_empty() {
            "-"
        } else {
            r.group.as_str()
        };
        println!(
            "{:<28} {:>9} {:>7} {:>12} {:>12} {:>10} {:>10.1} {:>12.6}",
            group,
            r.requests,
            r.errors,
            r.prompt_tokens,
            r.completion_tokens,
            r.cached_tokens,
            r.audio_seconds,
            r.cost_usd
        );
    }
    Ok(())
}
