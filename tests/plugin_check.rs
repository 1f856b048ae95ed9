//! `sluice plugin check`: which stages and contract version a component serves, what it imports
//! and exports, and whether the gateway would load it (the exit status says so too).

mod common;

use std::process::Command;

fn check(file: &str) -> (bool, String, String) {
    check_with(file, &[])
}

fn check_with(file: &str, extra: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["plugin", "check", file])
        .args(extra)
        .output()
        .expect("run sluice");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn built(name: &str) -> String {
    common::plugin_dir().join(name).display().to_string()
}

#[test]
fn an_sdk_plugin_serves_every_stage_of_0_2() {
    let (ok, out, _) = check(&built("sluice_test_chaos.wasm"));
    assert!(ok, "{out}");
    assert!(out.contains("world: sdk (sluice:plugin@0.2.0)"), "{out}");
    assert!(
        out.contains("policy (sluice:plugin@0.2.0)") && out.contains("mcp-policy"),
        "{out}"
    );
    assert!(
        out.contains("exports: sluice:plugin/lifecycle@0.2.0"),
        "{out}"
    );
    assert!(out.contains("imports: sluice:plugin/host@0.2.0"), "{out}");
    assert!(out.contains("loads: yes"), "{out}");
}

#[test]
fn a_0_1_plugin_and_a_built_in_are_recognised() {
    let (ok, out, _) = check(&built("sluice_test_v01.wasm"));
    assert!(ok, "{out}");
    assert!(out.contains("auth (sluice:plugin@0.1.0)"), "{out}");
    assert!(!out.contains("mcp-policy"), "0.1 has no MCP stage: {out}");
    let (ok, out, _) = check("builtin:key-auth");
    assert!(ok && out.contains("auth (sluice:plugin@0.2.0)"), "{out}");
}

#[test]
fn what_would_not_load_says_why() {
    let (ok, out, _) = check(&built("sluice_test_old_wit.wasm"));
    assert!(!ok);
    assert!(
        out.contains("stages: none") && out.contains("loads: no"),
        "{out}"
    );
    assert!(out.contains("another WIT version"), "{out}");

    let dir = tempfile::tempdir().expect("dir");
    let junk = dir.path().join("junk.wasm");
    std::fs::write(&junk, b"not wasm").expect("write");
    let (ok, _, err) = check(&junk.display().to_string());
    assert!(!ok);
    assert!(err.contains("not a WebAssembly component"), "{err}");
    let (ok, _, err) = check("builtin:nope");
    assert!(!ok && err.contains("no built-in plugin `nope`"), "{err}");
}

#[test]
fn a_plugin_that_keeps_state_in_globals_is_warned_about() {
    let chaos = built("sluice_test_chaos.wasm");
    let (ok, out, _) = check_with(&chaos, &["--config", r#"{"count": true}"#]);
    assert!(ok, "a warning does not stop it loading: {out}");
    assert!(
        out.contains("warning: as a policy plugin it answered the same request differently"),
        "{out}"
    );
    assert!(
        out.contains("x-chaos-count"),
        "the answers are shown: {out}"
    );
    // The same plugin without the global: no warning.
    let (_, out, _) = check_with(&chaos, &["--config", "{}"]);
    assert!(!out.contains("warning:"), "{out}");
    // State in `kv` is shared by every instance: the rate limiter is not warned about.
    let config = r#"{"rpm": 2, "tpm_in": 1000000, "tpm_out": 1000000}"#;
    let (_, out, _) = check_with("builtin:rate-limit", &["--config", config]);
    assert!(!out.contains("warning:"), "{out}");
    assert!(!out.contains("note:"), "{out}");
    // A config the plugin refuses: no verdict, and the check says why.
    let (_, out, _) = check_with(&chaos, &["--config", r#"{"reject": 1}"#]);
    assert!(
        out.contains("note: whether it keeps state in globals was not probed (as auth, policy,"),
        "{out}"
    );
    assert_eq!(
        out.matches("note:").count(),
        1,
        "one line for every stage: {out}"
    );
}
