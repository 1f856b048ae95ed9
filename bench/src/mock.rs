//! A fast mock OpenAI upstream. `POST /v1/chat/completions` answers a fixed completion with usage,
//! or, with `stream: true`, an SSE stream. The request body can shape each answer (the gateway
//! passes unknown fields through untouched, so one mock serves every scenario):
//!
//! - `mock_delay_ms`: wait this long before answering (default: `--delay-ms`);
//! - `mock_chunks`: content chunks of a stream (default 20);
//! - `mock_interval_ms`: time between two chunks (default 0);
//! - `mock_prose`: stream [`PROSE`] (40 deltas of a few words, ~800 bytes, an email address split
//!   across two of them; scenario 8) instead of `tok ` deltas (default `mock_chunks`: 40).
//!
//! Chunk `i` is sent `i * interval` after the first, on a fixed schedule (no drift). A usage chunk
//! follows the last one if `stream_options.include_usage` is set, then `data: [DONE]`.
//!
//! Any path ending in `/mcp` is an MCP server instead (`mcp.rs`, scenario 6), and `/v1/traces` an
//! OTLP/HTTP trace sink (`otlp.rs`, scenario 7).

use crate::mcp;
use crate::net::{self, Body};
use crate::otlp;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use tokio::time::Instant;

/// The whole JSON answer (about 300 bytes).
const COMPLETION: &str = concat!(
    r#"{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"bench-model","#,
    r#""choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the mock upstream."},"#,
    r#""logprobs":null,"finish_reason":"stop"}],"#,
    r#""usage":{"prompt_tokens":512,"completion_tokens":8,"total_tokens":520}}"#
);

/// The fields of a request body the mock reads; everything else is ignored.
#[derive(Deserialize, Default)]
struct Shape {
    #[serde(default)]
    stream: bool,
    mock_delay_ms: Option<u64>,
    mock_chunks: Option<u32>,
    mock_interval_ms: Option<u64>,
    #[serde(default)]
    mock_prose: bool,
    stream_options: Option<StreamOptions>,
}

/// `stream_options` of a request.
#[derive(Deserialize, Default)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

/// Runs the mock on `listen` until the process is stopped.
pub async fn run(listen: &str, delay_ms: u64, parent_watch: bool) -> anyhow::Result<()> {
    if parent_watch {
        net::exit_when_parent_goes();
    }
    let listener = net::bind(listen)?;
    net::announce("mock", &listener)?;
    net::serve(listener, move |req| handle(req, delay_ms)).await
}

/// Answers one request.
async fn handle(
    req: Request<Incoming>,
    default_delay_ms: u64,
) -> Result<Response<Body>, Infallible> {
    if req.uri().path().ends_with("/mcp") {
        return Ok(mcp::handle(req).await);
    }
    if req.uri().path() == "/v1/traces" {
        return Ok(text(StatusCode::OK, otlp::handle(req).await));
    }
    if req.method() != Method::POST || !req.uri().path().ends_with("/chat/completions") {
        return Ok(text(
            StatusCode::NOT_FOUND,
            r#"{"error":{"message":"unknown path","type":"invalid_request_error","param":null,"code":"unknown_url"}}"#,
        ));
    }
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return Ok(text(StatusCode::BAD_REQUEST, "{}")),
    };
    let shape: Shape = match serde_json::from_slice(&body) {
        Ok(s) => s,
        Err(_) => {
            return Ok(text(
                StatusCode::BAD_REQUEST,
                r#"{"error":{"message":"invalid JSON","type":"invalid_request_error","param":null,"code":"invalid_json"}}"#,
            ));
        }
    };
    let delay = shape.mock_delay_ms.unwrap_or(default_delay_ms);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    if !shape.stream {
        return Ok(text(StatusCode::OK, COMPLETION));
    }
    let default_chunks = if shape.mock_prose { PROSE.len() } else { 20 };
    let chunks = shape.mock_chunks.unwrap_or(default_chunks as u32);
    let interval = Duration::from_millis(shape.mock_interval_ms.unwrap_or(0));
    let usage = shape.stream_options.is_some_and(|o| o.include_usage);
    Ok(sse(chunks, interval, usage, shape.mock_prose))
}

/// A JSON response with a fixed body.
fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Body> {
    let mut resp = Response::new(
        Full::new(body.into())
            .map_err(|never| match never {})
            .boxed(),
    );
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    resp
}

/// The email address in [`PROSE`], split across deltas 17 and 18.
pub(crate) const PROSE_EMAIL: &str = "jane.doe@example.com";

/// The deltas of a `mock_prose` stream: a plain answer of ~800 bytes, a few words per delta (no
/// characters that need escaping in JSON), with [`PROSE_EMAIL`] split across two deltas.
pub(crate) const PROSE: [&str; 40] = [
    "Thanks for the note ",
    "about the quarterly ",
    "numbers. I went over",
    " the figures you sent",
    " and they look right ",
    "to me, apart from a ",
    "small rounding issue",
    " in the third table.",
    " The totals for the ",
    "northern region add ",
    "up to slightly more ",
    "than the summary row",
    " shows, which is most",
    " likely a copy error.",
    " If you want someone",
    " to double-check the",
    " source data, please",
    " write to jane.doe@ex",
    "ample.com and she can",
    " send you the exports",
    " by Friday. In the ",
    "meantime, I would ",
    "suggest keeping the ",
    "draft as it is and ",
    "adding a short note ",
    "under the table that",
    " explains the gap. ",
    "Once the corrected ",
    "numbers are in, the ",
    "chart on page four ",
    "should be updated as",
    " well, since it uses",
    " the same totals. Let",
    " me know if you need",
    " anything else from ",
    "my side before the ",
    "review meeting next ",
    "week, and thanks ",
    "again for catching ",
    "this so early on.",
];

/// The SSE events of a stream, in order (without timing).
fn event(i: u32, chunks: u32, prose: bool) -> Bytes {
    let text = if prose {
        PROSE[i as usize % PROSE.len()]
    } else {
        "tok "
    };
    let delta = if i == 0 {
        format!(r#"{{"role":"assistant","content":"{text}"}}"#)
    } else {
        format!(r#"{{"content":"{text}"}}"#)
    };
    let finish = if i + 1 == chunks { r#""stop""# } else { "null" };
    Bytes::from(format!(
        "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":{finish}}}]}}\n\n"
    ))
}

/// The tail of a stream: the usage chunk (when asked for) and `[DONE]`.
fn tail(chunks: u32, usage: bool) -> Bytes {
    let mut out = String::new();
    if usage {
        out.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"bench-model\",\"choices\":[],\"usage\":{{\"prompt_tokens\":512,\"completion_tokens\":{chunks},\"total_tokens\":{}}}}}\n\n",
            512 + chunks
        ));
    }
    out.push_str("data: [DONE]\n\n");
    Bytes::from(out)
}

/// A streamed answer: `chunks` content events `interval` apart (the deltas of [`PROSE`] with
/// `prose`), then the tail.
fn sse(chunks: u32, interval: Duration, usage: bool, prose: bool) -> Response<Body> {
    let start = Instant::now();
    // State: index of the next event; `chunks` means the tail, past it the stream ends.
    let frames = futures::stream::unfold(0u32, move |i| async move {
        if i > chunks {
            return None;
        }
        if i == chunks {
            return Some((Ok(Frame::data(tail(chunks, usage))), i + 1));
        }
        tokio::time::sleep_until(start + interval * i).await;
        Some((
            Ok::<_, hyper::Error>(Frame::data(event(i, chunks, prose))),
            i + 1,
        ))
    });
    let mut resp = Response::new(StreamBody::new(frames).boxed());
    let h = resp.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-cache"),
    );
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completion_is_valid_json_of_about_300_bytes() {
        let v: serde_json::Value = serde_json::from_str(COMPLETION).expect("valid JSON");
        assert_eq!(v["usage"]["total_tokens"], 520);
        assert!(
            (250..=350).contains(&COMPLETION.len()),
            "{}",
            COMPLETION.len()
        );
    }

    #[test]
    fn events_are_valid_json() {
        for i in 0..3 {
            let e = event(i, 3, i == 1);
            let s = std::str::from_utf8(&e).expect("utf8");
            let json = s.trim().strip_prefix("data: ").expect("data line");
            let v: serde_json::Value = serde_json::from_str(json).expect("valid JSON");
            assert_eq!(v["choices"][0]["finish_reason"].is_null(), i != 2);
        }
        let text: String = (0..40)
            .map(|i| {
                let e = event(i, 40, true);
                let json = std::str::from_utf8(&e).expect("utf8").trim()[6..].to_string();
                let v: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
                v["choices"][0]["delta"]["content"]
                    .as_str()
                    .expect("text")
                    .to_string()
            })
            .collect();
        assert!((700..=900).contains(&text.len()), "{}", text.len());
        assert_eq!(text.matches(PROSE_EMAIL).count(), 1);
        assert!(PROSE.iter().all(|d| !d.contains(PROSE_EMAIL)));
        let t = tail(3, true);
        assert!(
            std::str::from_utf8(&t)
                .expect("utf8")
                .ends_with("data: [DONE]\n\n")
        );
    }
}
