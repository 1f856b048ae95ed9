//! Plugin projects for authors: `sluice plugin new` writes one ([`new`]), `sluice plugin test`
//! runs its tests and `sluice plugin build` builds it to a component ([`build`]).
//!
//! A project is a folder with a `sluice-plugin.toml` ([`Manifest`]) naming the plugin, its stage
//! and its language. Rust projects depend on the SDK crate in this checkout (`plugin-sdk/`);
//! Python and JavaScript projects carry the WIT they build against (`wit/`) and name the SDK
//! folder of this checkout (`plugin-sdk/python`, `plugin-sdk/js`).

pub mod build;
pub mod new;
mod templates;

use crate::config::StageKind;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The manifest's file name.
pub const MANIFEST: &str = "sluice-plugin.toml";

/// Why an authoring command failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthoringError {
    /// The request itself is wrong (a bad name, a folder that exists, a bad manifest).
    #[error("{0}")]
    Invalid(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A toolchain is missing or failed.
    #[error("{0}")]
    Toolchain(String),
}

/// The language a plugin is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Rust, with the `sluice-plugin-sdk` crate (`cargo`, target `wasm32-wasip2`).
    Rust,
    /// Python, with `componentize-py`.
    Python,
    /// JavaScript, with `componentize-js`.
    Js,
}

/// `sluice-plugin.toml`: what `sluice plugin build` needs to know about a project.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The plugin's name: its config name, and the component's file name (`NAME.wasm`).
    pub name: String,
    /// The stage it serves.
    pub stage: StageKind,
    /// Its language.
    pub lang: Lang,
    /// The WIT folder it builds against, relative to the project (Python and JavaScript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wit: Option<PathBuf>,
    /// The SDK folder, relative to the project or absolute (Python and JavaScript).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sdk: Option<PathBuf>,
}

impl Manifest {
    /// Reads the manifest of the project in `dir`.
    pub fn read(dir: &Path) -> Result<Manifest, AuthoringError> {
        let path = dir.join(MANIFEST);
        let text = std::fs::read_to_string(&path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => AuthoringError::Invalid(format!(
                "{} has no {MANIFEST}: is it a plugin project (`sluice plugin new` makes one)?",
                dir.display()
            )),
            _ => AuthoringError::Io {
                path: path.clone(),
                source,
            },
        })?;
        toml::from_str(&text)
            .map_err(|e| AuthoringError::Invalid(format!("{}: {e}", path.display())))
    }

    /// The WIT world a component of this stage targets.
    pub fn world(&self) -> &'static str {
        world_of(self.stage)
    }
}

/// The WIT world of `stage`.
pub fn world_of(stage: StageKind) -> &'static str {
    match stage {
        StageKind::Auth => "auth",
        StageKind::Policy => "policy",
        StageKind::Adapter => "provider-adapter",
        StageKind::Enrich => "enrich",
        StageKind::McpPolicy => "mcp-policy",
        StageKind::Guard => "guard",
    }
}

/// The Sluice checkout this binary was built from (`SLUICE_HOME` overrides it): where the SDKs
/// are.
pub fn checkout() -> Result<PathBuf, AuthoringError> {
    let dir = match std::env::var_os("SLUICE_HOME") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
    };
    if dir.join("plugin-sdk").join("Cargo.toml").is_file() {
        Ok(dir)
    } else {
        Err(AuthoringError::Invalid(format!(
            "the Sluice checkout with the plugin SDKs is not at {}: set SLUICE_HOME to it",
            dir.display()
        )))
    }
}

/// Checks a plugin name: lower-case letters, digits and hyphens, starting with a letter.
pub fn check_name(name: &str) -> Result<(), AuthoringError> {
    let ok = name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(AuthoringError::Invalid(format!(
            "`{name}` is not a plugin name: use lower-case letters, digits and hyphens, starting with a letter (at most 64)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked() {
        assert!(check_name("pii-guard2").is_ok());
        for bad in ["", "2fast", "Upper", "under_score", "trailing-", "dot.ted"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn manifests_round_trip() {
        let m = Manifest {
            name: "x".into(),
            stage: StageKind::McpPolicy,
            lang: Lang::Python,
            wit: Some("wit".into()),
            sdk: None,
        };
        let text = toml::to_string(&m).expect("serialises");
        assert!(text.contains("stage = \"mcp-policy\""), "{text}");
        let back: Manifest = toml::from_str(&text).expect("parses");
        assert_eq!(back.world(), "mcp-policy");
        assert_eq!(back.lang, Lang::Python);
    }
}
