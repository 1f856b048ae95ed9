//! `sluice plugin check`: which stages and contract version a component serves, what it imports
//! and exports, and whether the gateway would load it (the exit status says so too).

mod common;

use std::process::Command;

fn check(file: &str) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(["plugin", "check", file])
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
