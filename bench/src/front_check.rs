//! Scenario 9's lanes: the same ~2 KB conversation as a chat completion, an Anthropic Messages
//! request and a Responses request (`store` false or true), their headers, and the one-time check
//! of each lane's answers (whole and streamed) before anything is timed.

use crate::scenarios::{HEADERS, chat_value};
use crate::sse::StreamEnd;
use anyhow::{Context, bail, ensure};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use std::time::Duration;

/// The mock's whole answer's text.
const ANSWER: &str = "Hello from the mock upstream.";

/// The deltas of the mock's default stream.
pub(crate) const DELTAS: usize = 20;

/// The headers of an Anthropic SDK, 10 with `content-type` (as many as [`HEADERS`]).
const ANTHROPIC_HEADERS: [(&str, &str); 9] = [
    ("x-api-key", "sk-bench"),
    ("anthropic-version", "2023-06-01"),
    ("accept", "application/json"),
    ("user-agent", "Anthropic/Python 0.40.0"),
    ("x-stainless-lang", "python"),
    ("x-stainless-package-version", "0.40.0"),
    ("x-stainless-os", "Linux"),
    ("x-stainless-arch", "x64"),
    ("x-stainless-runtime", "CPython"),
];

/// The API a lane speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// `POST /v1/chat/completions`.
    Chat,
    /// `POST /v1/messages` (Anthropic).
    Messages,
    /// `POST /v1/responses` with this `store`.
    Responses(bool),
}

impl Api {
    /// The request path.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Api::Chat => "/v1/chat/completions",
            Api::Messages => "/v1/messages",
            Api::Responses(_) => "/v1/responses",
        }
    }

    /// How its streams end well.
    pub(crate) fn end(self) -> StreamEnd {
        match self {
            Api::Chat => StreamEnd::Done,
            Api::Messages => StreamEnd::Event("message_stop"),
            Api::Responses(_) => StreamEnd::Event("response.completed"),
        }
    }

    /// Its SDK's headers (without `content-type`).
    pub(crate) fn headers(self) -> Vec<(HeaderName, HeaderValue)> {
        let list = if self == Api::Messages {
            ANTHROPIC_HEADERS
        } else {
            HEADERS
        };
        list.iter()
            .map(|(k, v)| (HeaderName::from_static(k), HeaderValue::from_static(v)))
            .collect()
    }

    /// Scenario 1's conversation (a system prompt and a user message, ~2 KB) in this API.
    pub(crate) fn body(self, stream: bool) -> anyhow::Result<Bytes> {
        let chat = chat_value(json!({}));
        let (system, user) = (&chat["messages"][0]["content"], &chat["messages"][1]);
        let mut v = match self {
            Api::Chat => chat.clone(),
            Api::Messages => json!({
                "model": "bench-model", "max_tokens": 16, "system": system, "messages": [user],
            }),
            Api::Responses(store) => json!({
                "model": "bench-model", "max_output_tokens": 16, "instructions": system,
                "input": user["content"], "store": store,
            }),
        };
        if stream {
            v["stream"] = json!(true);
        }
        Ok(Bytes::from(serde_json::to_vec(&v)?))
    }
}

/// Sends one request to `url`; answers the status and body.
async fn send(
    method: Method,
    url: &str,
    headers: &[(HeaderName, HeaderValue)],
    body: Bytes,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut req = http::Request::builder().method(method.clone()).uri(url);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let req = req
        .header("content-type", "application/json")
        .body(Full::new(body))?;
    tokio::time::timeout(Duration::from_secs(10), async {
        let resp = client.request(req).await?;
        let status = resp.status();
        anyhow::Ok((status, resp.into_body().collect().await?.to_bytes()))
    })
    .await
    .with_context(|| format!("{method} {url} timed out"))?
}

/// The text of a whole answer of `api`, and the Response's id.
fn whole_text(api: Api, v: &Value) -> anyhow::Result<(String, Option<String>)> {
    let (text, id) = match api {
        Api::Chat => (&v["choices"][0]["message"]["content"], None),
        Api::Messages => {
            ensure!(v["type"] == "message", "not a message");
            (&v["content"][0]["text"], None)
        }
        Api::Responses(_) => {
            ensure!(v["status"] == "completed", "status is not `completed`");
            (&v["output"][0]["content"][0]["text"], v["id"].as_str())
        }
    };
    let text = text.as_str().context("no text")?.to_string();
    Ok((text, id.map(str::to_string)))
}

/// The text of a stream of `api` (its last event checked), and the Response's id.
fn stream_text(api: Api, body: &str) -> anyhow::Result<(String, Option<String>)> {
    let (mut text, mut id, mut last) = (String::new(), None, String::new());
    for event in body.split("\n\n") {
        let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) else {
            continue;
        };
        if data == "[DONE]" {
            last = data.to_string();
            continue;
        }
        let v: Value = serde_json::from_str(data).context("an event is not JSON")?;
        let kind = v["type"].as_str().unwrap_or_default();
        let piece = match (api, kind) {
            (Api::Chat, _) => &v["choices"][0]["delta"]["content"],
            (Api::Messages, "content_block_delta") => &v["delta"]["text"],
            (Api::Responses(_), "response.output_text.delta") => &v["delta"],
            _ => &Value::Null,
        };
        text.push_str(piece.as_str().unwrap_or_default());
        if kind == "response.completed" {
            id = v["response"]["id"].as_str().map(str::to_string);
        }
        last = kind.to_string();
    }
    let want = match api.end() {
        StreamEnd::Done => "[DONE]",
        StreamEnd::Event(t) => t,
    };
    ensure!(last == want, "the last event is `{last}`, not `{want}`");
    Ok((text, id))
}

/// Checks one answer of `api` from `base`, whole or streamed: status 200, the mock's text, and for
/// Responses that `GET /v1/responses/{id}` finds it exactly when it was stored.
pub(crate) async fn check(base: &str, api: Api, stream: bool) -> anyhow::Result<()> {
    let url = format!("{base}{}", api.path());
    let (status, bytes) = send(Method::POST, &url, &api.headers(), api.body(stream)?).await?;
    let body = String::from_utf8_lossy(&bytes);
    ensure!(
        status == StatusCode::OK,
        "POST {url}: status {status}: {body}"
    );
    let (text, id) = if stream {
        stream_text(api, &body)
    } else {
        whole_text(api, &serde_json::from_str(&body)?)
    }
    .with_context(|| format!("POST {url}: unexpected answer {body}"))?;
    let want = if stream {
        "tok ".repeat(DELTAS)
    } else {
        ANSWER.to_string()
    };
    if text != want {
        bail!("POST {url}: the text is {text:?}, not {want:?}");
    }
    if let Api::Responses(store) = api {
        let id = id.with_context(|| format!("POST {url}: no Response id"))?;
        let get = format!("{base}/v1/responses/{id}");
        let (status, _) = send(Method::GET, &get, &api.headers(), Bytes::new()).await?;
        let want = if store {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        };
        ensure!(
            status == want,
            "GET {get} (store: {store}): {status}, not {want}"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_hold_the_same_conversation() -> anyhow::Result<()> {
        for api in [Api::Chat, Api::Messages, Api::Responses(false)] {
            for stream in [false, true] {
                let b = api.body(stream)?;
                assert!((1900..=2300).contains(&b.len()), "{api:?} {}", b.len());
                let v: Value = serde_json::from_slice(&b)?;
                assert_eq!(v["stream"] == true, stream);
            }
        }
        let m: Value = serde_json::from_slice(&Api::Messages.body(false)?)?;
        assert!(m["system"].as_str().is_some_and(|s| s.len() > 900));
        assert_eq!(m["messages"][0]["role"], "user");
        let r: Value = serde_json::from_slice(&Api::Responses(true).body(false)?)?;
        assert_eq!(r["store"], true);
        assert!(r["input"].as_str().is_some_and(|s| s.len() > 900));
        assert_eq!(Api::Messages.headers().len(), HEADERS.len());
        Ok(())
    }

    #[test]
    fn streams_are_read_to_their_end() -> anyhow::Result<()> {
        let ok = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\
            \"delta\":{\"text\":\"tok \"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        assert_eq!(stream_text(Api::Messages, ok)?.0, "tok ");
        let cut = "data: {\"type\":\"response.output_text.delta\",\"delta\":\"x\"}\n\n";
        assert!(stream_text(Api::Responses(false), cut).is_err());
        Ok(())
    }
}
