//! Budgets and tiers end to end: the `budget` plugin against the real gateway and the mock
//! upstream, tiers applied live, threshold events delivered to a webhook (signed, retried).
//! Period boundaries are tested with a test clock in the `sluice-budgets` crate.

mod common;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::mock::{Mock, USAGE};
use common::{Gateway, KEY, client, key_hash, sse_chunks};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADMIN: &str = "sk-admin-budget";
const OTHER: &str = "sk-other-key";
const SECRET: &str = "whsec-test-secret";

/// The mock's model prices (USD per million tokens) in `[pricing]`.
const PRICE: (f64, f64, f64) = (2.0, 8.0, 0.5);

/// What one mock answer costs: USAGE = (prompt, completion, cached) at PRICE.
fn answer_cost() -> f64 {
    let (p, c, cached) = USAGE;
    ((p - cached) as f64 * PRICE.0 + cached as f64 * PRICE.2 + c as f64 * PRICE.1) / 1e6
}

/// A gateway config: key-auth with KEY (`attrs`) and OTHER (`other_attrs`, team `research`),
/// the budget plugin with `budget` as its config, cost, the mock, and `extra` tables.
fn config(mock: &Mock, attrs: &str, other_attrs: &str, budget: &str, extra: &str) -> String {
    format!(
        r#"
[[plugins]]
name = "auth"
stage = "auth"
source = "builtin:key-auth"
[[plugins.config.keys]]
id = "k1"
sha256 = "{hash}"
attributes = {{ {attrs} }}
[[plugins.config.keys]]
id = "k2"
team = "research"
sha256 = "{other}"
attributes = {{ {other_attrs} }}

[[plugins]]
name = "budget"
stage = "policy"
source = "builtin:budget"
[plugins.config]
{budget}

[[plugins]]
name = "cost"
stage = "enrich"
source = "builtin:cost"

[pricing.models."mock-model"]
input = {pin}
output = {pout}
cached_input = {pcached}

[[providers]]
name = "mock"
adapter = "openai"
base_url = "{mock}/v1"

[[providers]]
name = "echo"
adapter = "echo"

[[models]]
name = "gpt-test"
provider = "mock"
upstream_model = "mock-model"

[[models]]
name = "echo"
provider = "echo"
{extra}
"#,
        hash = key_hash(KEY),
        other = key_hash(OTHER),
        mock = mock.url,
        pin = PRICE.0,
        pout = PRICE.1,
        pcached = PRICE.2,
    )
}

fn body(stream: bool, max_tokens: u32) -> Value {
    json!({ "model": "gpt-test", "stream": stream, "max_tokens": max_tokens,
            "messages": [{ "role": "user", "content": "hello there" }] })
}

async fn chat(gw: &Gateway, key: &str, body: &Value) -> reqwest::Response {
    client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .expect("request")
}

async fn admin(gw: &Gateway, path: &str) -> Value {
    client()
        .get(gw.at(path))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("req")
        .json()
        .await
        .expect("json")
}

/// USD spent by `key` as the usage rows record it (what the cost plugin priced).
async fn spent(gw: &Gateway, key: &str) -> f64 {
    let v = admin(gw, "/admin/usage?group_by=key&since=1h").await;
    v["data"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["group"] == key)
        .map(|r| r["cost_usd"].as_f64().expect("cost"))
        .sum()
}

fn header(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ascii")
        .to_string()
}

/// Waits until the `on-complete` hooks of finished requests have run (they run off the response
/// path): the usage rows are written in the same step, so wait for `rows` of them, then a little.
async fn settle(gw: &Gateway, rows: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = admin(gw, "/admin/usage?group_by=key&since=1h").await;
        let n: u64 = v["data"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["requests"].as_u64().unwrap_or(0))
            .sum();
        if n >= rows {
            break;
        }
        assert!(Instant::now() < deadline, "only {n} of {rows} rows");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
}

#[tokio::test]
async fn fifty_concurrent_requests_never_spend_more_than_the_budget() {
    // max_tokens = 10 makes each reservation (input estimate + 10 x $8/M) cover the real cost,
    // so there is no reconciliation error: the spend must stay within the budget itself.
    let mock = Mock::start().await;
    let budget = 0.0003;
    let gw = Gateway::start_with(
        &config(&mock, "", "", &format!("key = {{ month = {budget} }}"), ""),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let url = gw.at("/v1/chat/completions");
            tokio::spawn(async move {
                let r = client()
                    .post(url)
                    .bearer_auth(KEY)
                    .json(&body(i % 2 == 0, 10))
                    .send()
                    .await
                    .expect("req");
                let status = r.status().as_u16();
                let v: Value = if i % 2 == 0 && status == 200 {
                    let _ = r.text().await;
                    Value::Null
                } else {
                    r.json().await.expect("json")
                };
                (status, v)
            })
        })
        .collect();
    let (mut ok, mut refused) = (0u64, 0u64);
    for t in tasks {
        let (status, v) = t.await.expect("task");
        match status {
            200 => ok += 1,
            429 => {
                assert_eq!(v["error"]["type"], "insufficient_quota", "{v}");
                assert_eq!(v["error"]["code"], "insufficient_quota", "{v}");
                let m = v["error"]["message"].as_str().expect("message");
                assert!(m.contains("key k1") && m.contains("monthly"), "{m}");
                assert!(v["error"]["retry_after"].as_u64().expect("retry") >= 1);
                refused += 1;
            }
            other => panic!("unexpected status {other}: {v}"),
        }
    }
    settle(&gw, 50).await;
    let total = spent(&gw, "k1").await;
    assert!(ok >= 1 && refused >= 1, "{ok} allowed, {refused} refused");
    assert!(
        total <= budget + 1e-12,
        "spent {total} > budget {budget} ({ok} requests)"
    );
    assert!((total - ok as f64 * answer_cost()).abs() < 1e-9, "{total}");
    assert_eq!(
        mock.seen().len() as u64,
        ok,
        "refused requests never went upstream"
    );
    // Sequentially, requests fit until the next one's reservation does not; then the spend
    // still stays within the budget.
    let mut sent = 50;
    loop {
        let r = chat(&gw, KEY, &body(false, 10)).await;
        sent += 1;
        settle(&gw, sent).await;
        if r.status() == 429 {
            break;
        }
        assert!(sent < 60, "the budget never ran out");
    }
    let total = spent(&gw, "k1").await;
    assert!(total <= budget + 1e-12, "spent {total} > budget {budget}");
    assert!(
        total > budget - 0.00015,
        "{total}: the budget was left mostly unused"
    );
}

#[tokio::test]
async fn spend_exceeds_the_budget_by_at_most_one_reconciliation_error() {
    // max_tokens = 1 reserves less than the mock's answer costs: each request's real cost goes
    // past its reservation, so the budget can be passed, by at most that one request's error.
    let mock = Mock::start().await;
    let budget = 0.0002;
    let gw = Gateway::start_with(
        &config(&mock, "", "", &format!("key = {{ day = {budget} }}"), ""),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    for sent in 1..=20 {
        let r = chat(&gw, KEY, &body(false, 1)).await;
        assert!(matches!(r.status().as_u16(), 200 | 429), "{}", r.status());
        // Let the reconciliation land before the next request.
        settle(&gw, sent).await;
    }
    settle(&gw, 20).await;
    let total = spent(&gw, "k1").await;
    assert!(total > budget * 0.5, "{total}");
    assert!(
        total <= budget + answer_cost(),
        "{total} > {budget} + one request"
    );
}

#[tokio::test]
async fn a_streamed_request_is_charged_exactly_its_unstreamed_cost() {
    let mock = Mock::start().await;
    let gw = Gateway::start_with(
        &config(
            &mock,
            r#"budget_usd_month = "1""#,
            r#"budget_usd_month = "1""#,
            "",
            "",
        ),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    let r = chat(&gw, KEY, &body(true, 10)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-sluice-budget-scope"), "key:k1");
    assert_eq!(header(&r, "x-sluice-budget-limit-usd"), "1.00");
    let chunks = sse_chunks(&r.text().await.expect("body"));
    let streamed = chunks.last().expect("chunks")["sluice"]["cost_usd"].clone();
    let v: Value = chat(&gw, OTHER, &body(false, 10))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(streamed, v["sluice"]["cost_usd"], "shown costs are equal");
    settle(&gw, 2).await;
    // The next request of each key shows what its budget has left: the same for both.
    let a = chat(&gw, KEY, &body(false, 10)).await;
    let b = chat(&gw, OTHER, &body(false, 10)).await;
    let (ra, rb) = (
        header(&a, "x-sluice-budget-remaining-usd"),
        header(&b, "x-sluice-budget-remaining-usd"),
    );
    assert_eq!(ra, rb, "the stream was charged what the plain call was");
    let left: f64 = ra.parse().expect("number");
    // 1 - one answer's cost - this request's reservation (at most ~0.0001).
    assert!(left < 1.0 - answer_cost() && left > 0.999, "{left}");
}

#[tokio::test]
async fn team_user_and_model_budgets_each_hold() {
    let mock = Mock::start().await;
    let budget = r#"
user = { day = 0.0001 }
[plugins.config.teams.research]
month = 0.0001
"#;
    let gw = Gateway::start_with(
        &config(&mock, "", "", budget, ""),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    // Team `research` (key k2): one request fits (it reserves ~90 µ$ of 100), the second does not
    // (43 µ$ spent + ~90 reserved).
    assert_eq!(chat(&gw, OTHER, &body(false, 10)).await.status(), 200);
    settle(&gw, 1).await;
    let r = chat(&gw, OTHER, &body(false, 10)).await;
    assert_eq!(r.status(), 429);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("team research")),
        "{v}"
    );
    // Key k1 has no team: only its users are capped, each on their own.
    let with_user = |u: &str| {
        let mut b = body(false, 10);
        b["user_id"] = json!(u);
        b
    };
    assert_eq!(chat(&gw, KEY, &with_user("ann")).await.status(), 200);
    settle(&gw, 2).await;
    let r = chat(&gw, KEY, &with_user("ann")).await;
    assert_eq!(r.status(), 429, "ann's daily budget is spent");
    let r = chat(&gw, KEY, &with_user("bob")).await;
    assert_eq!(r.status(), 200, "bob has his own");
    assert_eq!(header(&r, "x-sluice-budget-scope"), "user:k1/bob");
    // Without a user id, k1 has no budget at all.
    let r = chat(&gw, KEY, &body(false, 10)).await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("x-sluice-budget-scope").is_none());
}

#[tokio::test]
async fn a_tier_change_applies_without_restart() {
    let mock = Mock::start().await;
    let tier = |models: &str, budget: &str| {
        format!("[tiers.free]\nmodels = [{models}]\nbudget_usd_month = {budget}\n")
    };
    let attrs = r#"tier = "free""#;
    let gw = Gateway::start_with(
        &config(
            &mock,
            attrs,
            r#"tier = "gold""#,
            "",
            &tier(r#""echo""#, "1"),
        ),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    let models = |v: Value| -> Vec<String> {
        v["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|m| m["id"].as_str().expect("id").to_string())
            .collect()
    };
    let list = || async {
        client()
            .get(gw.at("/v1/models"))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("req")
            .json::<Value>()
            .await
            .expect("json")
    };
    assert_eq!(models(list().await), vec!["echo"], "only the tier's models");
    let r = chat(&gw, KEY, &body(false, 10)).await;
    assert!(matches!(r.status().as_u16(), 403 | 404), "{}", r.status());
    // A key naming a tier the config lacks is refused, not let through unlimited.
    let r = chat(&gw, OTHER, &body(false, 10)).await;
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"]["code"], "tier_not_found");

    // The tier gains a model and a tiny budget: applied by a reload, no restart.
    let pid = gw.pid();
    std::fs::write(
        gw.path().join("gateway.toml"),
        config(
            &mock,
            attrs,
            r#"tier = "gold""#,
            "",
            &tier(r#""echo", "gpt-test""#, "0.0001"),
        ),
    )
    .expect("write");
    let r = client()
        .post(gw.at("/admin/reload"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .expect("reload");
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert_eq!(gw.pid(), pid);
    let mut listed = models(list().await);
    listed.sort();
    assert_eq!(listed, vec!["echo", "gpt-test"]);
    let r = chat(&gw, KEY, &body(false, 10)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-sluice-budget-limit-usd"), "0.0001");
    settle(&gw, 1).await;
    assert_eq!(
        chat(&gw, KEY, &body(false, 10)).await.status(),
        429,
        "the tier's budget from the reloaded config"
    );
}

#[tokio::test]
async fn a_keys_own_attributes_override_its_tier() {
    let mock = Mock::start().await;
    let gw = Gateway::start_with(
        &config(
            &mock,
            r#"tier = "free", budget_usd_month = "1""#,
            "",
            "",
            "[tiers.free]\nbudget_usd_month = 0.00001\n",
        ),
        &[],
    );
    let r = chat(&gw, KEY, &body(false, 10)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(header(&r, "x-sluice-budget-limit-usd"), "1.00");
}

/// What the webhook receiver saw: (event id, body, signature header), in order.
type Deliveries = Arc<Mutex<Vec<(String, String, String)>>>;

/// A webhook receiver on 127.0.0.1:0 that fails its first delivery with a 500.
async fn receiver() -> (String, Deliveries) {
    let seen: Deliveries = Arc::default();
    async fn hook(State(seen): State<Deliveries>, headers: HeaderMap, body: String) -> StatusCode {
        let h = |n: &str| {
            headers
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let mut s = seen.lock().expect("lock");
        s.push((h("x-sluice-event-id"), body, h("x-sluice-signature")));
        if s.len() == 1 {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::NO_CONTENT
        }
    }
    let app = Router::new()
        .route("/hook", post(hook))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

/// Checks `t=<secs>,v1=<hex>` against HMAC-SHA256(SECRET, "<t>.<body>").
fn signed(signature: &str, body: &str) -> bool {
    use hmac::{Hmac, Mac};
    let Some((t, v1)) = signature
        .strip_prefix("t=")
        .and_then(|s| s.split_once(",v1="))
    else {
        return false;
    };
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(SECRET.as_bytes()) else {
        return false;
    };
    mac.update(format!("{t}.{body}").as_bytes());
    hex::decode(v1).is_ok_and(|sig| mac.verify_slice(&sig).is_ok())
}

#[tokio::test]
async fn the_webhook_fires_once_per_threshold_crossing_and_is_retried() {
    let mock = Mock::start().await;
    let (url, seen) = receiver().await;
    // 43 µ$ per answer against 2,000 µ$: 50% is crossed by the 24th request, 80% by the 38th;
    // a reservation is at most ~120 µ$, so ~44 fit.
    let budget = "key = { month = 0.002 }\nthresholds = [0.5, 0.8]";
    let hooks = format!(
        r#"
[[webhooks]]
name = "ops"
url = "{url}"
events = ["budget.threshold"]
secret_env = "SLUICE_TEST_WEBHOOK_SECRET"
retry_backoff_ms = 50
"#
    );
    let gw = Gateway::start_with(
        &config(&mock, "", "", budget, &hooks),
        &[
            ("SLUICE_ADMIN_KEY", ADMIN),
            ("SLUICE_TEST_WEBHOOK_SECRET", SECRET),
        ],
    );
    let mut ok = 0;
    for _ in 0..50 {
        if chat(&gw, KEY, &body(false, 10)).await.status() == 200 {
            ok += 1;
        }
    }
    assert!(ok >= 38, "only {ok} requests fit");
    settle(&gw, 50).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while seen.lock().expect("lock").len() < 3 {
        assert!(Instant::now() < deadline, "deliveries: {:?}", seen.lock());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = seen.lock().expect("lock").clone();
    assert_eq!(
        seen.len(),
        3,
        "two events, the first retried once: {seen:?}"
    );
    let mut ids: Vec<&str> = seen.iter().map(|(id, ..)| id.as_str()).collect();
    let first = ids[0];
    assert_eq!(
        ids.iter().filter(|id| **id == first).count(),
        2,
        "the failed first delivery is retried: {seen:?}"
    );
    ids.sort();
    ids.dedup();
    assert_eq!(
        ids.len(),
        2,
        "the retry carries the same event id: {seen:?}"
    );
    let mut thresholds = Vec::new();
    for (id, body, signature) in &seen {
        assert!(signed(signature, body), "bad signature {signature}");
        let v: Value = serde_json::from_str(body).expect("json");
        assert_eq!(v["id"], *id);
        assert_eq!(v["type"], "budget.threshold");
        assert_eq!(v["data"]["scope"], "key");
        assert_eq!(v["data"]["key_id"], "k1");
        assert_eq!(v["data"]["period"], "month");
        assert!(
            v["data"]["spent_usd"].as_f64().expect("spent")
                >= v["data"]["threshold"].as_f64().expect("t") * 0.002
        );
        thresholds.push(v["data"]["threshold"].as_f64().expect("threshold"));
    }
    thresholds.sort_by(f64::total_cmp);
    thresholds.dedup();
    assert_eq!(thresholds, vec![0.5, 0.8]);
}

#[tokio::test]
async fn usage_shows_teams_and_spend_against_each_budget() {
    let mock = Mock::start().await;
    let budget = "key = { month = 1, \"24h\" = 0.5 }\n[plugins.config.teams.research]\nweek = 5";
    let gw = Gateway::start_with(
        &config(&mock, "", r#"budget_usd_month = "2""#, budget, ""),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    for key in [KEY, OTHER, OTHER] {
        assert_eq!(chat(&gw, key, &body(false, 10)).await.status(), 200);
    }
    settle(&gw, 3).await;
    let v = admin(&gw, "/admin/usage?group_by=team&since=1h").await;
    let rows = v["data"].as_array().expect("rows");
    let research = rows
        .iter()
        .find(|r| r["group"] == "research")
        .expect("team row");
    assert_eq!(research["requests"], 2);
    assert!((research["cost_usd"].as_f64().expect("cost") - 2.0 * answer_cost()).abs() < 1e-9);

    let v = admin(&gw, "/admin/usage/budgets").await;
    let lines = v["data"].as_array().expect("lines");
    let find = |scope: &str, id: &str, period: &str| {
        lines
            .iter()
            .find(|l| l["scope"] == scope && l["id"] == id && l["period"] == period)
            .unwrap_or_else(|| panic!("no {scope} {id} {period} in {v}"))
            .clone()
    };
    let k1 = find("key", "k1", "month");
    assert_eq!(k1["limit_usd"], 1.0);
    assert!((k1["spent_usd"].as_f64().expect("spent") - answer_cost()).abs() < 1e-9);
    assert!(
        k1["resets_at"]
            .as_str()
            .expect("reset")
            .ends_with("-01T00:00:00Z")
    );
    assert_eq!(find("key", "k1", "24h")["limit_usd"], 0.5);
    // k2's own attribute overrides the config's monthly key budget.
    let k2 = find("key", "k2", "month");
    assert_eq!(k2["limit_usd"], 2.0);
    let team = find("team", "research", "week");
    assert_eq!(team["limit_usd"], 5.0);
    assert!((team["spent_usd"].as_f64().expect("spent") - 2.0 * answer_cost()).abs() < 1e-9);
    assert!(
        (team["remaining_usd"].as_f64().expect("left") - (5.0 - 2.0 * answer_cost())).abs() < 1e-9
    );
}

#[tokio::test]
async fn a_model_budget_holds_over_every_key() {
    let mock = Mock::start().await;
    let budget = "[plugins.config.models.\"gpt-test\"]\nday = 0.0001";
    let gw = Gateway::start_with(
        &config(&mock, "", "", budget, ""),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    assert_eq!(chat(&gw, KEY, &body(false, 10)).await.status(), 200);
    settle(&gw, 1).await;
    let r = chat(&gw, OTHER, &body(false, 10)).await;
    assert_eq!(r.status(), 429, "another key, the same model budget");
    let v: Value = r.json().await.expect("json");
    let m = v["error"]["message"].as_str().expect("message");
    assert!(m.contains("model gpt-test") && m.contains("daily"), "{m}");
    let mut echo = body(false, 10);
    echo["model"] = json!("echo");
    assert_eq!(
        chat(&gw, OTHER, &echo).await.status(),
        200,
        "other models are free"
    );
}

#[tokio::test]
async fn a_client_that_goes_away_gives_its_reservation_back() {
    let mock = Mock::start().await;
    let extra = r#"
[[models]]
name = "gpt-slow"
provider = "mock"
upstream_model = "mock-slow"

[pricing.models."mock-slow"]
input = 2.0
output = 8.0
"#;
    // One reservation (~90 µ$) fits in 100 µ$; two do not.
    let gw = Gateway::start_with(
        &config(&mock, "", "", "key = { month = 0.0001 }", extra),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    let mut slow = body(false, 10);
    slow["model"] = json!("gpt-slow");
    let gone = client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .timeout(Duration::from_millis(300))
        .json(&slow)
        .send()
        .await;
    assert!(gone.is_err(), "the mock takes 3 s");
    // The gateway sees the connection close, records a 499 and reconciles the reservation.
    settle(&gw, 1).await;
    let r = chat(&gw, KEY, &body(false, 10)).await;
    assert_eq!(
        r.status(),
        200,
        "the abandoned request's reservation was given back"
    );
}

#[tokio::test]
async fn a_budget_holds_across_a_restart() {
    // The counters live in memory; the spend is in the usage records, and the gateway puts it
    // back into the counters when it starts.
    let mock = Mock::start().await;
    let gw = Gateway::start_with(
        &config(&mock, "", "", "key = { month = 0.0001 }", ""),
        &[("SLUICE_ADMIN_KEY", ADMIN)],
    );
    assert_eq!(chat(&gw, KEY, &body(false, 10)).await.status(), 200);
    settle(&gw, 1).await; // the row is written
    let gw = gw.restart();
    let r = chat(&gw, KEY, &body(false, 10)).await;
    assert_eq!(r.status(), 429, "the month's spend survived the restart");
    let v: Value = r.json().await.expect("json");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("$0.0000") || m.contains("has used")),
        "{v}"
    );
}
