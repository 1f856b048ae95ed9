//! Traces: with `[telemetry] otlp_endpoint` the gateway exports a span per request (child of the
//! client's `traceparent`), a span per plugin call and per upstream attempt under it, sends the
//! attempt's `traceparent` upstream, and names the trace in the response's metadata. The test
//! runs the OTLP/HTTP (JSON) endpoint that receives them.

mod common;

use axum::Router;
use axum::routing::post;
use common::mock::Mock;
use common::{Gateway, KEY, auth_section, client};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Spans received, flattened: (name, trace id, span id, parent span id, attributes).
#[derive(Clone, Debug)]
struct Span {
    name: String,
    trace_id: String,
    span_id: String,
    parent: String,
    attributes: Value,
}

impl Span {
    fn attr(&self, key: &str) -> Value {
        self.attributes
            .as_array()
            .and_then(|a| a.iter().find(|kv| kv["key"] == key))
            .map(|kv| {
                let v = &kv["value"];
                v.get("stringValue")
                    .or(v.get("intValue"))
                    .or(v.get("boolValue"))
                    .cloned()
                    .unwrap_or(Value::Null)
            })
            .unwrap_or(Value::Null)
    }
}

async fn collector() -> (String, Arc<Mutex<Vec<Span>>>) {
    let spans: Arc<Mutex<Vec<Span>>> = Arc::default();
    let sink = Arc::clone(&spans);
    let app = Router::new().route(
        "/v1/traces",
        post(move |body: axum::body::Bytes| {
            let sink = Arc::clone(&sink);
            async move {
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let mut out = sink.lock().expect("lock");
                for rs in v["resourceSpans"].as_array().into_iter().flatten() {
                    for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                        for s in ss["spans"].as_array().into_iter().flatten() {
                            let text = |k: &str| s[k].as_str().unwrap_or_default().to_lowercase();
                            out.push(Span {
                                name: text("name"),
                                trace_id: text("traceId"),
                                span_id: text("spanId"),
                                parent: text("parentSpanId"),
                                attributes: s["attributes"].clone(),
                            });
                        }
                    }
                }
                axum::Json(json!({}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/v1/traces", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, spans)
}

#[tokio::test]
async fn a_request_is_a_trace_of_its_plugin_calls_and_upstream_attempts() {
    let mock = Mock::start().await;
    let (otlp, spans) = collector().await;
    let config = format!(
        r#"
[telemetry]
otlp_endpoint = "{otlp}"
otlp_protocol = "http/json"
{auth}
[[providers]]
name = "up"
adapter = "openai"
base_url = "{mock}/v1"

[[models]]
name = "gpt-test"
provider = "up"
"#,
        auth = auth_section(&[]),
        mock = mock.url,
    );
    let gw = Gateway::start_with(&config, &[("OTEL_BSP_SCHEDULE_DELAY", "100")]);
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";
    let answer: Value = client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .header("traceparent", format!("00-{trace}-{client_span}-01"))
        .json(&json!({"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert_eq!(
        answer["sluice"]["trace_id"], trace,
        "the metadata names the trace: {answer}"
    );

    // The batch exporter sends every 100 ms here.
    let mut got = Vec::new();
    for _ in 0..100 {
        got = spans.lock().expect("lock").clone();
        if got.iter().any(|s| s.name == "chat gpt-test") && got.iter().any(|s| s.name == "post up")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let request = got
        .iter()
        .find(|s| s.name == "chat gpt-test")
        .unwrap_or_else(|| panic!("the request span, named `{{operation}} {{model}}`: {got:?}"));
    assert_eq!(request.trace_id, trace);
    assert_eq!(request.parent, client_span, "child of the client's span");
    assert_eq!(request.attr("gen_ai.operation.name"), "chat");
    assert_eq!(request.attr("gen_ai.request.model"), "gpt-test");
    assert_eq!(request.attr("gen_ai.provider.name"), "up");
    assert_eq!(request.attr("gen_ai.usage.input_tokens"), json!("11"));
    assert_eq!(request.attr("http.response.status_code"), json!("200"));

    let plugins: Vec<&Span> = got
        .iter()
        .filter(|s| s.name.starts_with("plugin "))
        .collect();
    let names: Vec<&str> = plugins.iter().map(|s| s.name.as_str()).collect();
    assert!(
        names.contains(&"plugin auth") && names.contains(&"plugin openai"),
        "{names:?}"
    );
    assert!(
        plugins
            .iter()
            .all(|s| s.parent == request.span_id && s.trace_id == trace)
    );

    let upstream = got
        .iter()
        .find(|s| s.name == "post up")
        .expect("the upstream span");
    assert_eq!(upstream.parent, request.span_id);
    assert_eq!(upstream.attr("http.response.status_code"), json!("200"));
    // The upstream saw the attempt's span as its parent.
    let seen = mock.seen();
    let sent = seen[0].headers["traceparent"]
        .to_str()
        .expect("traceparent");
    assert_eq!(sent, format!("00-{trace}-{}-01", upstream.span_id));
}

#[tokio::test]
async fn without_an_endpoint_nothing_is_traced() {
    let gw = Gateway::start(&format!("{}{}", auth_section(&[]), common::ECHO));
    let answer: Value = client()
        .post(gw.at("/v1/chat/completions"))
        .bearer_auth(KEY)
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .json(&json!({"model": "echo", "messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    assert!(answer["sluice"].get("trace_id").is_none(), "{answer}");
}

#[tokio::test]
async fn an_mcp_tool_call_is_a_span_named_after_its_method_and_tool() {
    let mcp = common::mcp_mock::McpMock::start().await;
    let (otlp, spans) = collector().await;
    let config = format!(
        "[telemetry]\notlp_endpoint = \"{otlp}\"\notlp_protocol = \"http/json\"\n{}\n[[mcp_servers]]\nname = \"docs\"\nurl = \"{}\"\n",
        auth_section(&[]),
        mcp.url
    );
    let gw = Gateway::start_with(&config, &[("OTEL_BSP_SCHEDULE_DELAY", "100")]);
    let c = common::mcp_client::McpClient::new(&gw.url, "docs", KEY);
    let sid = c.initialize().await;
    let a = c.call_tool(&sid, 2, "echo", json!({"text": "hi"})).await;
    assert_eq!(a.last()["result"]["content"][0]["text"], "hi");
    let mut call = None;
    for _ in 0..100 {
        call = spans
            .lock()
            .expect("lock")
            .iter()
            .find(|s| s.name == "tools/call echo")
            .cloned();
        if call.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let call = call.expect("the tools/call span");
    assert_eq!(call.attr("gen_ai.tool.name"), "echo");
    assert_eq!(call.attr("mcp.method.name"), "tools/call");
    assert_eq!(call.attr("mcp.session.id"), json!(sid));
    assert_eq!(call.attr("http.response.status_code"), json!("200"));
}
