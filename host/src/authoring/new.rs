//! `sluice plugin new`: writes a plugin project that builds and passes its own tests as written.

use super::templates::{files, fill, rust_deps};
use super::{AuthoringError, Lang, MANIFEST, Manifest, check_name, checkout};
use crate::config::StageKind;
use std::path::{Path, PathBuf};

/// What to create.
pub struct NewPlugin {
    /// The plugin's name.
    pub name: String,
    /// Its stage.
    pub stage: StageKind,
    /// Its language.
    pub lang: Lang,
    /// The folder to create (default: `./NAME`).
    pub dir: Option<PathBuf>,
}

/// Writes the project; returns its folder. The folder must not exist (or be empty).
pub fn create(req: &NewPlugin) -> Result<PathBuf, AuthoringError> {
    check_name(&req.name)?;
    let dir = req.dir.clone().unwrap_or_else(|| PathBuf::from(&req.name));
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(AuthoringError::Invalid(format!(
            "{} already exists and is not empty",
            dir.display()
        )));
    }
    let home = checkout()?;
    let sdk = match req.lang {
        Lang::Rust => home.join("plugin-sdk"),
        Lang::Python => home.join("plugin-sdk").join("python"),
        Lang::Js => home.join("plugin-sdk").join("js"),
    };
    let sdk_text = sdk.display().to_string();
    let crate_name = req.name.replace('-', "_");
    let type_name = type_name(&req.name);
    let vars = [
        ("name", req.name.as_str()),
        ("crate", crate_name.as_str()),
        ("Type", type_name.as_str()),
        ("stage", req.stage.as_str()),
        ("sdk", sdk_text.as_str()),
        ("extra_deps", rust_deps(req.stage)),
    ];
    for (path, text, placeholders) in files(req.lang, req.stage) {
        let text = if placeholders {
            fill(text, &vars)
        } else {
            text.to_string()
        };
        write(&dir.join(path), &text)?;
    }
    let manifest = Manifest {
        name: req.name.clone(),
        stage: req.stage,
        lang: req.lang,
        wit: (req.lang != Lang::Rust).then(|| PathBuf::from("wit")),
        sdk: (req.lang != Lang::Rust).then_some(sdk),
    };
    let text = toml::to_string(&manifest)
        .map_err(|e| AuthoringError::Invalid(format!("cannot write {MANIFEST}: {e}")))?;
    write(
        &dir.join(MANIFEST),
        &format!("# A Sluice plugin project: `sluice plugin build` reads this.\n{text}"),
    )?;
    Ok(dir)
}

/// `pii-guard` -> `PiiGuard`.
fn type_name(name: &str) -> String {
    name.split('-')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut c = p.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn write(path: &Path, text: &str) -> Result<(), AuthoringError> {
    let io = |source| AuthoringError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    std::fs::write(path, text).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_camel_case() {
        assert_eq!(type_name("pii-guard"), "PiiGuard");
        assert_eq!(type_name("a2-b"), "A2B");
    }

    #[test]
    fn a_project_is_written_once() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let req = NewPlugin {
            name: "no-secrets".into(),
            stage: StageKind::Guard,
            lang: Lang::Rust,
            dir: Some(tmp.path().join("p")),
        };
        let dir = create(&req).expect("created");
        let m = Manifest::read(&dir).expect("manifest");
        assert_eq!((m.name.as_str(), m.stage), ("no-secrets", StageKind::Guard));
        let lib = std::fs::read_to_string(dir.join("src/lib.rs")).expect("lib.rs");
        assert!(lib.contains("export_guard!(NoSecrets)"), "{lib}");
        assert!(!lib.contains("{{"), "every placeholder is filled");
        let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).expect("Cargo.toml");
        assert!(cargo.contains("name = \"no-secrets\""));
        assert!(matches!(create(&req), Err(AuthoringError::Invalid(_))));
    }
}
