//! Builds the first-party plugins (`plugins/*`) to WebAssembly components, so that
//! `cargo run --release` needs nothing else. The `.wasm` files are embedded into the binary as the
//! `builtin:` plugins.
//!
//! The plugins are built by a nested `cargo build --target wasm32-wasip2` with its own target
//! folder (the outer build holds a lock on its own). The target is installed through rustup if it
//! is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (crate, built file stem, name embedded as)
const PLUGINS: &[(&str, &str, &str)] = &[
    (
        "sluice-plugin-key-auth",
        "sluice_plugin_key_auth",
        "key-auth",
    ),
    ("sluice-plugin-openai", "sluice_plugin_openai", "openai"),
    ("sluice-plugin-echo", "sluice_plugin_echo", "echo"),
    (
        "sluice-plugin-rate-limit",
        "sluice_plugin_rate_limit",
        "rate-limit",
    ),
    ("sluice-plugin-cost", "sluice_plugin_cost", "cost"),
    (
        "sluice-plugin-anthropic",
        "sluice_plugin_anthropic",
        "anthropic",
    ),
    ("sluice-plugin-gemini", "sluice_plugin_gemini", "gemini"),
];

/// Plugins built alongside but not embedded: the test suite's and the examples'. Their folder is
/// given to the package's tests as `SLUICE_PLUGIN_DIR`.
const EXTRA_PLUGINS: &[&str] = &[
    "sluice-test-chaos",
    "sluice-test-old-wit",
    "sluice-example-max-tokens",
];

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest = PathBuf::from(env("CARGO_MANIFEST_DIR"));
    let root = manifest.parent().expect("host/ has a parent").to_path_buf();
    for watched in [
        "wit",
        "plugin-sdk",
        "plugins",
        "tests/plugins",
        "examples",
        "Cargo.toml",
        "Cargo.lock",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=SLUICE_PLUGIN_PROFILE");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    ensure_target();

    let target_dir = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d).join("plugins"),
        None => root.join("target").join("plugins"),
    };
    let profile = std::env::var("SLUICE_PLUGIN_PROFILE").unwrap_or_else(|_| "plugin".into());
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "--profile",
            &profile,
            "--target",
            TARGET,
            "--target-dir",
        ])
        .arg(&target_dir);
    for krate in PLUGINS
        .iter()
        .map(|p| p.0)
        .chain(EXTRA_PLUGINS.iter().copied())
    {
        cmd.args(["-p", krate]);
    }
    scrub_env(&mut cmd);
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("could not run `{cargo}` to build the plugins: {e}"));
    assert!(
        status.success(),
        "building the first-party plugins for {TARGET} failed (see the errors above)"
    );

    let out = PathBuf::from(env("OUT_DIR"));
    let dir = target_dir.join(TARGET).join(&profile);
    println!("cargo:rustc-env=SLUICE_PLUGIN_DIR={}", dir.display());
    for (_, stem, name) in PLUGINS {
        let from = dir.join(format!("{stem}.wasm"));
        let to = out.join(format!("{name}.wasm"));
        std::fs::copy(&from, &to)
            .unwrap_or_else(|e| panic!("copying {} to {}: {e}", from.display(), to.display()));
    }
}

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by cargo"))
}

/// Installs the wasm32-wasip2 standard library through rustup when the toolchain lacks it.
fn ensure_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| PathBuf::from(s.trim()));
    let installed = sysroot
        .as_deref()
        .map(|s| s.join("lib/rustlib").join(TARGET).is_dir())
        .unwrap_or(false);
    if installed {
        return;
    }
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", TARGET]);
    if let Some(toolchain) = sysroot.as_deref().and_then(toolchain_name) {
        cmd.args(["--toolchain", &toolchain]);
    }
    let ok = cmd.status().map(|s| s.success()).unwrap_or(false);
    assert!(
        ok,
        "the {TARGET} target is missing and `rustup target add {TARGET}` failed: install it by hand"
    );
}

fn toolchain_name(sysroot: &Path) -> Option<String> {
    sysroot
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
}

/// Removes what the outer build sets for its own compilation, so the nested build targets Wasm
/// with its own settings.
fn scrub_env(cmd: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let outer_only = key.starts_with("CARGO_")
            && !matches!(key, "CARGO_HOME" | "CARGO_MAKEFLAGS" | "CARGO_NET_OFFLINE");
        if outer_only
            || matches!(
                key,
                "RUSTFLAGS"
                    | "RUSTC_WRAPPER"
                    | "RUSTC_WORKSPACE_WRAPPER"
                    | "TARGET"
                    | "HOST"
                    | "OUT_DIR"
                    | "PROFILE"
                    | "OPT_LEVEL"
                    | "DEBUG"
                    | "NUM_JOBS"
                    | "RUSTDOC"
                    | "CLIPPY_ARGS"
                    | "__CARGO_FIX_PLZ"
            )
        {
            cmd.env_remove(key);
        }
    }
}
