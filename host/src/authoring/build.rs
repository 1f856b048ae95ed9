//! `sluice plugin build` and `sluice plugin test`: each language's toolchain, run on a project.
//!
//! - Rust: `cargo build --release --target wasm32-wasip2` (the target is added through rustup
//!   when missing) and `cargo test`.
//! - Python: `componentize-py` (`SLUICE_COMPONENTIZE_PY`, else on `PATH`, else the checkout's
//!   `.venv`, which `scripts/python-env` prepares) and `python3 -m unittest`.
//! - JavaScript: `node` with the SDK's `build.mjs` (componentize-js, installed into the
//!   checkout by `scripts/plugin-js-env`) and `node --test`.

use super::{AuthoringError, Lang, Manifest, checkout};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const WASM_TARGET: &str = "wasm32-wasip2";

/// Builds the project in `dir` to a component; returns its path (`out`, default `dir/NAME.wasm`).
pub fn build(dir: &Path, out: Option<PathBuf>) -> Result<PathBuf, AuthoringError> {
    let m = Manifest::read(dir)?;
    let out = out.unwrap_or_else(|| dir.join(format!("{}.wasm", m.name)));
    match m.lang {
        Lang::Rust => build_rust(dir, &out)?,
        Lang::Python => build_python(dir, &m, &out)?,
        Lang::Js => build_js(dir, &m, &out)?,
    }
    Ok(out)
}

/// Runs the project's own tests.
pub fn test(dir: &Path) -> Result<(), AuthoringError> {
    let m = Manifest::read(dir)?;
    match m.lang {
        Lang::Rust => run(
            Command::new(cargo()).arg("test").current_dir(dir),
            "cargo test",
        ),
        Lang::Python => {
            let sdk = sdk_dir(dir, &m)?;
            run(
                Command::new(python())
                    .args(["-m", "unittest", "discover", "-v", "-p", "test_*.py"])
                    .env("PYTHONPATH", join_paths(&[&sdk, dir])?)
                    .current_dir(dir),
                "python3 -m unittest",
            )
        }
        Lang::Js => run(
            Command::new("node").args(["--test"]).current_dir(dir),
            "node --test",
        ),
    }
}

fn build_rust(dir: &Path, out: &Path) -> Result<(), AuthoringError> {
    ensure_wasm_target()?;
    let output = Command::new(cargo())
        .args(["build", "--release", "--target", WASM_TARGET])
        .arg("--message-format=json-render-diagnostics")
        .current_dir(dir)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| AuthoringError::Toolchain(format!("cannot run cargo: {e}")))?;
    if !output.status.success() {
        return Err(AuthoringError::Toolchain(
            "cargo build failed (its errors are above)".into(),
        ));
    }
    // The component is the `.wasm` file among the artifacts cargo reports.
    let wasm = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["reason"] == "compiler-artifact")
        .flat_map(|v| {
            v["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f.as_str().map(PathBuf::from))
                .collect::<Vec<_>>()
        })
        .rfind(|f| f.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| {
            AuthoringError::Toolchain(
                "cargo built no .wasm file: is the crate a `cdylib` (see Cargo.toml)?".into(),
            )
        })?;
    copy(&wasm, out)
}

/// `componentize-py -d WIT -w WORLD componentize -p PROJECT -p SDK app -o OUT`: the project's
/// `app` module, with the SDK on its path, in componentize-py's CPython.
fn build_python(dir: &Path, m: &Manifest, out: &Path) -> Result<(), AuthoringError> {
    let sdk = sdk_dir(dir, m)?;
    let wit = dir.join(m.wit.as_deref().unwrap_or(Path::new("wit")));
    run(
        Command::new(componentize_py()?)
            .arg("-d")
            .arg(&wit)
            .args(["-w", m.world(), "componentize", "-p"])
            .arg(dir)
            .arg("-p")
            .arg(&sdk)
            .arg("app")
            .arg("-o")
            .arg(out),
        "componentize-py",
    )
}

/// `SLUICE_COMPONENTIZE_PY`, else `componentize-py` on `PATH`, else the checkout's venv.
fn componentize_py() -> Result<PathBuf, AuthoringError> {
    if let Some(p) = std::env::var_os("SLUICE_COMPONENTIZE_PY") {
        return Ok(PathBuf::from(p));
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .map(|d| d.join("componentize-py"))
        .find(|p| p.is_file());
    if let Some(p) = on_path {
        return Ok(p);
    }
    let venv = checkout()?.join(".venv/bin/componentize-py");
    if venv.is_file() {
        return Ok(venv);
    }
    Err(AuthoringError::Toolchain(
        "componentize-py is not installed: run scripts/python-env (it installs it into the checkout's .venv), or `pip install componentize-py==0.25.1`, or set SLUICE_COMPONENTIZE_PY".into(),
    ))
}

/// `node SDK/build.mjs`: bundles the project (esbuild) and componentizes it (componentize-js),
/// with the toolchain `scripts/plugin-js-env` installs (`SLUICE_PLUGIN_JS_TOOLCHAIN` names
/// another).
fn build_js(dir: &Path, m: &Manifest, out: &Path) -> Result<(), AuthoringError> {
    let sdk = sdk_dir(dir, m)?;
    let wit = dir.join(m.wit.as_deref().unwrap_or(Path::new("wit")));
    run(
        Command::new("node")
            .arg(sdk.join("build.mjs"))
            .arg("--wit")
            .arg(&wit)
            .args(["--world", m.world()])
            .arg("--entry")
            .arg(dir)
            .arg("--out")
            .arg(out)
            .stdout(Stdio::null()),
        "node build.mjs (componentize-js)",
    )
}

/// The project's SDK folder (the manifest's `sdk`, relative to the project).
fn sdk_dir(dir: &Path, m: &Manifest) -> Result<PathBuf, AuthoringError> {
    let sdk = match &m.sdk {
        Some(s) => dir.join(s),
        None => {
            let sub = if m.lang == Lang::Js { "js" } else { "python" };
            checkout()?.join("plugin-sdk").join(sub)
        }
    };
    if sdk.is_dir() {
        Ok(sdk)
    } else {
        Err(AuthoringError::Invalid(format!(
            "the SDK folder {} does not exist (`sdk` in the project's manifest)",
            sdk.display()
        )))
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn python() -> String {
    std::env::var("SLUICE_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn join_paths(paths: &[&Path]) -> Result<std::ffi::OsString, AuthoringError> {
    std::env::join_paths(paths).map_err(|e| AuthoringError::Invalid(e.to_string()))
}

/// Runs `cmd` with its output on ours; an error names `what` when it fails.
fn run(cmd: &mut Command, what: &str) -> Result<(), AuthoringError> {
    let status = cmd
        .status()
        .map_err(|e| AuthoringError::Toolchain(format!("cannot run {what}: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(AuthoringError::Toolchain(format!(
            "{what} failed ({status})"
        )))
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), AuthoringError> {
    if from == to {
        return Ok(());
    }
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|source| AuthoringError::Io {
            path: to.to_path_buf(),
            source,
        })
}

/// Adds the `wasm32-wasip2` target through rustup when the toolchain lacks it.
fn ensure_wasm_target() -> Result<(), AuthoringError> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    if sysroot.is_some_and(|s| s.join("lib/rustlib").join(WASM_TARGET).is_dir()) {
        return Ok(());
    }
    run(
        Command::new("rustup").args(["target", "add", WASM_TARGET]),
        "rustup target add wasm32-wasip2",
    )
}
