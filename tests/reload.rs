//! Hot reload under load: config rewrites (good and bad) and a replaced plugin while requests
//! flow. No request fails, good changes are visible within a second, bad ones change nothing.

mod common;

use common::{Gateway, KEY, auth_section, client, plugin_dir, sse_data};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const ADMIN: &str = "sk-admin-test";

/// The config with the chaos policy tagging responses with `tag`.
fn good(tag: &str) -> String {
    format!(
        r#"
{auth}
[[plugins]]
name = "chaos"
stage = "policy"
source = "chaos.wasm"
[plugins.config]
tag = "{tag}"
{echo}"#,
        auth = auth_section(&[]),
        echo = common::ECHO,
    )
}

/// Bad versions of the config, each with what its error must mention.
fn bad(i: usize) -> (String, &'static str) {
    match i % 5 {
        0 => ("[[plugins]\nname = 1\n".to_string(), "gateway.toml"),
        1 => (
            format!("[server]\ncolour = \"red\"\n{}", good("x")),
            "colour",
        ),
        2 => (
            good("x").replace("chaos.wasm", "missing.wasm"),
            "missing.wasm",
        ),
        3 => (
            good("x").replace("tag = \"x\"", "tag = \"x\"\nreject = true"),
            "rejected its config",
        ),
        _ => (
            good("x").replace("chaos.wasm", "old-wit.wasm"),
            "another WIT version",
        ),
    }
}

/// Replaces `path` the way editors and build tools do: write a new file, rename it over the old.
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

fn setup() -> Gateway {
    Gateway::start_with_plugins(
        &good("t0"),
        &[
            ("sluice_test_chaos.wasm", "chaos.wasm"),
            ("sluice_test_old_wit.wasm", "old-wit.wasm"),
        ],
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    )
}

async fn status(gw: &Gateway) -> Value {
    client()
        .get(gw.at("/admin/status"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json")
}

/// One chat request; Ok(tag) when it succeeded (a stream must end with [DONE]).
async fn request(url: &str, stream: bool) -> Result<String, String> {
    let resp = client()
        .post(url)
        .bearer_auth(KEY)
        .json(&json!({ "model": "echo", "stream": stream, "messages": [{ "role": "user", "content": "hi" }] }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = resp.status();
    let tag = resp
        .headers()
        .get("x-chaos-tag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = resp.text().await.map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("{status}: {text}"));
    }
    if stream && sse_data(&text).last().map(String::as_str) != Some("[DONE]") {
        return Err(format!("incomplete stream: {text}"));
    }
    Ok(tag)
}

/// Waits until `status` shows a reload report other than `previous`; returns the status.
async fn next_report(gw: &Gateway, previous: &Value) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = status(gw).await;
        if s["last_reload"] != *previous {
            return s;
        }
        assert!(Instant::now() < deadline, "no reload after the write: {s}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the reload that made generation `generation` is reported.
async fn settled(gw: &Gateway, generation: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let s = status(gw).await;
        if s["last_reload"]["generation"] == generation {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "generation {generation} never reported: {s}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reloads_under_load_lose_no_request() {
    const TOTAL: usize = 2000;
    const CONCURRENCY: usize = 16;
    let gw = setup();
    let url = gw.at("/v1/chat/completions");
    let sent = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|w| {
            let (url, sent, failures) = (url.clone(), Arc::clone(&sent), Arc::clone(&failures));
            tokio::spawn(async move {
                let mut i = 0;
                while sent.fetch_add(1, Ordering::SeqCst) < TOTAL {
                    if let Err(e) = request(&url, (w + i) % 2 == 1).await {
                        failures.lock().expect("lock").push(e);
                    }
                    i += 1;
                    // Spread the load over the rewrites (a few seconds), bounded by TOTAL.
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            })
        })
        .collect();

    let config = gw.path().join("gateway.toml");
    let mut visible_ms = Vec::new();
    let mut with_plugin_ms = 0;
    for i in 0..20 {
        if i % 2 == 0 {
            let tag = format!("t{}", i + 1);
            let written = Instant::now();
            if i == 10 {
                // Also replace the plugin: the same code with an extra custom section, so its
                // content hash changes and it must be compiled again.
                let mut wasm =
                    std::fs::read(plugin_dir().join("sluice_test_chaos.wasm")).expect("read");
                wasm.extend_from_slice(&[0, 6, 5, b'r', b'e', b'l', b'o', b'd']);
                replace(&gw.path().join("chaos.wasm"), &wasm);
            }
            replace(&config, good(&tag).as_bytes());
            loop {
                if request(&url, false).await.as_deref() == Ok(tag.as_str()) {
                    break;
                }
                assert!(
                    written.elapsed() < Duration::from_secs(1),
                    "change {i} not visible within 1 s"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            if i == 10 {
                with_plugin_ms = written.elapsed().as_millis();
            }
            visible_ms.push(written.elapsed().as_millis());
        } else {
            let previous = settled(&gw, i as u64 / 2 + 2).await["last_reload"].clone();
            let (text, expect) = bad(i / 2);
            replace(&config, text.as_bytes());
            let s = next_report(&gw, &previous).await;
            assert_eq!(
                s["last_reload"]["ok"], false,
                "bad version {i} was accepted: {s}"
            );
            let error = s["last_reload"]["error"].as_str().unwrap_or("");
            assert!(
                error.contains(expect),
                "bad version {i}: error should mention `{expect}`: {error}"
            );
            // The previous pipeline keeps serving.
            assert_eq!(
                request(&url, false).await.as_deref(),
                Ok(format!("t{i}").as_str())
            );
        }
    }
    for w in workers {
        w.await.expect("worker");
    }
    let failures = failures.lock().expect("lock").clone();
    assert!(
        failures.is_empty(),
        "{} of {TOTAL} requests failed, first: {:?}",
        failures.len(),
        failures.first()
    );
    let s = status(&gw).await;
    assert_eq!(s["generation"], 11, "one generation per good change: {s}");
    visible_ms.sort();
    println!(
        "reload: {} good changes, write-to-serving p50 {} ms, max {} ms (with the plugin replaced: {} ms)",
        visible_ms.len(),
        visible_ms[visible_ms.len() / 2],
        visible_ms[visible_ms.len() - 1],
        with_plugin_ms
    );
}

#[tokio::test]
async fn admin_reload_signals_and_restart_only_settings() {
    let gw = setup();
    // The admin API wants its key.
    let r = client()
        .post(gw.at("/admin/reload"))
        .bearer_auth("nope")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 401);

    // A rejected admin reload answers 422 and keeps the old pipeline.
    std::fs::write(gw.path().join("gateway.toml"), "not = [toml").expect("write");
    let r = client()
        .post(gw.at("/admin/reload"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.expect("json");
    assert_eq!(body["error"]["code"], "reload_rejected");
    assert_eq!(
        request(&gw.at("/v1/chat/completions"), false)
            .await
            .as_deref(),
        Ok("t0")
    );

    // SIGHUP reloads, and a changed listen address is reported as needing a restart.
    let changed = good("sig").replace(
        &auth_section(&[]),
        &format!("[server]\nlisten = \"127.0.0.1:1\"\n{}", auth_section(&[])),
    );
    let previous = status(&gw).await["last_reload"].clone();
    std::fs::write(gw.path().join("gateway.toml"), changed).expect("write");
    let ok = std::process::Command::new("kill")
        .args(["-HUP", &gw.pid().to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
    let mut s = next_report(&gw, &previous).await;
    // The file watch may see the write before the signal arrives; wait for the good outcome.
    if s["last_reload"]["ok"] != true {
        s = next_report(&gw, &s["last_reload"].clone()).await;
    }
    assert_eq!(s["last_reload"]["ok"], true, "{s}");
    assert!(
        s["restart_required"][0]
            .as_str()
            .unwrap_or("")
            .starts_with("server.listen"),
        "{s}"
    );
    assert_eq!(
        request(&gw.at("/v1/chat/completions"), false)
            .await
            .as_deref(),
        Ok("sig")
    );
    let plugins = s["plugins"].as_array().expect("plugins");
    assert!(
        plugins
            .iter()
            .any(|p| p["name"] == "chaos" && p["hash"].as_str().is_some_and(|h| h.len() == 64)),
        "{s}"
    );
}

#[tokio::test]
async fn the_admin_api_is_off_without_a_key() {
    let gw = Gateway::start(&good("x").replace("chaos.wasm", "unused.wasm").replace(
        "[[plugins]]\nname = \"chaos\"\nstage = \"policy\"\nsource = \"unused.wasm\"\n[plugins.config]\ntag = \"x\"\n",
        "",
    ));
    let r = client()
        .get(gw.at("/admin/status"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 403);
}
