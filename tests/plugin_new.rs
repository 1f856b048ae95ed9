//! `sluice plugin new`, `test` and `build`: for every stage in every language, a new project
//! passes its own tests and builds to a component the gateway would load for that stage; then
//! the whole path for a guard: new -> build -> added to a running gateway's config -> hot reload
//! -> a request shows its effect.
//!
//! The toolchains come from the project's scripts: `scripts/plugin-js-env` (its folder in
//! `SLUICE_PLUGIN_JS_TOOLCHAIN`) and `scripts/python-env` (`componentize-py` in `.venv`, or
//! `SLUICE_COMPONENTIZE_PY`), which `scripts/test` runs first. Without them a language's test
//! says so and passes, except under CI (`CI=true`), where it fails.

mod common;

use common::{ECHO, Gateway, KEY, auth_section, client};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const STAGES: [(&str, &str); 6] = [
    ("auth", "auth"),
    ("policy", "policy"),
    ("adapter", "adapter"),
    ("enrich", "enrich"),
    ("guard", "guard"),
    ("mcp", "mcp-policy"),
];

const ADMIN: &str = "sk-admin-plugin-new";

fn sluice(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .current_dir(cwd)
        // Generated Rust projects share one target folder, so their dependencies build once.
        .env("CARGO_TARGET_DIR", target_dir().join("plugin-projects"))
        .output()
        .expect("run sluice")
}

fn target_dir() -> PathBuf {
    match option_env!("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
    }
}

fn show(out: &Output) -> String {
    format!(
        "status {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Whether `lang`'s toolchain is here; without it the test is skipped, except under CI.
fn toolchain(lang: &str) -> bool {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let missing = match lang {
        "js" => {
            let dir = std::env::var_os("SLUICE_PLUGIN_JS_TOOLCHAIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo.join(".cache/plugin-js"));
            (!dir
                .join("node_modules/@bytecodealliance/componentize-js")
                .is_dir())
            .then_some("run scripts/plugin-js-env (or set SLUICE_PLUGIN_JS_TOOLCHAIN)")
        }
        "python" => {
            let found = std::env::var_os("SLUICE_COMPONENTIZE_PY").is_some()
                || repo.join(".venv/bin/componentize-py").is_file();
            (!found).then_some("run scripts/python-env (it installs componentize-py)")
        }
        _ => None,
    };
    match missing {
        None => true,
        Some(why) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("skipped: the {lang} plugin toolchain is missing: {why}");
            false
        }
        Some(why) => panic!("the {lang} plugin toolchain is missing under CI: {why}"),
    }
}

/// Every stage of `lang`: new, test, build, and the build's check says it loads as that stage.
/// Returns the folder holding the projects (each is `my-STAGE`).
fn every_stage(lang: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    for (stage, config_stage) in STAGES {
        let name = format!("my-{stage}");
        let out = sluice(
            &["plugin", "new", &name, "--stage", stage, "--lang", lang],
            root.path(),
        );
        assert!(out.status.success(), "new {lang} {stage}: {}", show(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&format!("stage = \"{config_stage}\"")),
            "new prints the config lines: {}",
            show(&out)
        );
        let dir = root.path().join(&name);
        let out = sluice(&["plugin", "test", &name], root.path());
        assert!(out.status.success(), "test {lang} {stage}: {}", show(&out));
        let out = sluice(&["plugin", "build", &name], root.path());
        assert!(out.status.success(), "build {lang} {stage}: {}", show(&out));
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(report.contains("loads: yes"), "{lang} {stage}: {report}");
        assert!(
            report.contains(&format!("{config_stage} (sluice:plugin@0.2.0)")),
            "{lang} {stage}: {report}"
        );
        assert!(dir.join(format!("{name}.wasm")).is_file());
    }
    root
}

fn config(extra: &str) -> String {
    format!("{}{ECHO}{extra}", auth_section(&[]))
}

async fn status(gw: &Gateway) -> Value {
    let resp = client()
        .get(gw.at("/admin/status"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("status");
    resp.json().await.expect("json")
}

async fn echo(gw: &Gateway, text: &str) -> String {
    let resp = client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .json(&json!({"model": "echo", "messages": [{"role": "user", "content": text}]}))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.expect("json");
    body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The guard built in `projects` joins a running gateway's config; after the hot reload its
/// redaction shows in answers.
async fn guard_joins_a_running_gateway(projects: &Path) {
    let gw = Gateway::start_with(&config(""), &[("SLUICE_ADMIN_KEY", ADMIN)]);
    assert_eq!(
        echo(&gw, "the password is hunter2").await,
        "the password is hunter2"
    );
    let wasm = projects.join("my-guard/my-guard.wasm");
    let before = status(&gw).await["generation"].clone();
    let guard = format!(
        "\n[[plugins]]\nname = \"my-guard\"\nstage = \"guard\"\nsource = \"{}\"\n[plugins.config]\nwords = [\"hunter2\"]\n",
        wasm.display()
    );
    std::fs::write(gw.path().join("gateway.toml"), config(&guard)).expect("rewrite config");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = status(&gw).await;
        if s["generation"] != before {
            assert_eq!(s["last_reload"]["ok"], true, "the reload failed: {s}");
            break;
        }
        assert!(Instant::now() < deadline, "no reload after the write: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        echo(&gw, "the password is hunter2").await,
        "the password is [REDACTED]"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_projects_build_pass_their_tests_and_serve() {
    let projects = every_stage("rust");
    guard_joins_a_running_gateway(projects.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_projects_build_pass_their_tests_and_serve() {
    if !toolchain("js") {
        return;
    }
    let projects = every_stage("js");
    guard_joins_a_running_gateway(projects.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_projects_build_pass_their_tests_and_serve() {
    if !toolchain("python") {
        return;
    }
    let projects = every_stage("python");
    guard_joins_a_running_gateway(projects.path()).await;
}

#[test]
fn bad_requests_get_clear_errors() {
    let root = tempfile::tempdir().expect("temp dir");
    let out = sluice(
        &["plugin", "new", "Bad_Name", "--stage", "policy"],
        root.path(),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a plugin name"));
    let out = sluice(&["plugin", "new", "ok", "--stage", "nope"], root.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a stage"));
    let out = sluice(&["plugin", "build", "."], root.path());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sluice-plugin.toml"));
}
