//! An upstream that misbehaves on purpose, over raw TCP so that it can lie: each request's
//! `model` names the fault (see [`Evil`]). It records how many response bytes each stream got
//! into the socket, so tests can see back-pressure reach it.

use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A well-formed chat completion.
pub const COMPLETION: &str = r#"{"id":"chatcmpl-evil","object":"chat.completion","created":1,"model":"evil","choices":[{"index":0,"finish_reason":"stop","message":{"role":"assistant","content":"fine"}}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;

/// The misbehaving upstream. Faults, by model name:
/// - `reset-before-headers`, `reset-mid-headers`, `reset-mid-body`: the connection is reset
///   (RST) before any byte, halfway through the head, halfway through the body;
/// - `stall`: nothing for 30 s; `one-byte-a-second`: the answer one byte a second;
/// - `oversized`: a 200 of 80 MB; `invalid-utf8`: a 200 whose JSON holds invalid UTF-8;
/// - `short-length`: `Content-Length` says 4,000, 100 bytes come, then the connection closes;
/// - `error-in-200`: a 200 whose body is an OpenAI error object;
/// - `stream-stall`: an event stream that sends one chunk and then nothing;
/// - `stream-reset`: an event stream reset after one chunk;
/// - `firehose`: an event stream of 200,000 chunks of ~1 KB as fast as the socket takes them;
/// - anything else: [`COMPLETION`].
pub struct Evil {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Requests received.
    pub requests: Arc<AtomicUsize>,
    /// Bytes of `firehose` written into the socket so far.
    pub firehose_sent: Arc<AtomicU64>,
}

impl Evil {
    /// Starts it on 127.0.0.1:0.
    pub async fn start() -> Evil {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(AtomicUsize::new(0));
        let firehose_sent = Arc::new(AtomicU64::new(0));
        let (r, f) = (Arc::clone(&requests), Arc::clone(&firehose_sent));
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (r, f) = (Arc::clone(&r), Arc::clone(&f));
                tokio::spawn(async move {
                    let _ = serve(tcp, r, f).await;
                });
            }
        });
        Evil {
            url,
            requests,
            firehose_sent,
        }
    }
}

/// Reads one request (head and `Content-Length` body); returns its JSON body.
async fn read_request(tcp: &mut TcpStream) -> std::io::Result<Option<Value>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = tcp.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Ok(serde_json::from_slice(&buf[head_end..head_end + length]).ok())
}

/// Closes `tcp` with a reset rather than a FIN.
fn reset(tcp: TcpStream) {
    let _ = socket2::SockRef::from(&tcp).set_linger(Some(Duration::ZERO));
    drop(tcp);
}

fn head(status: &str, content_type: &str, length: Option<usize>) -> String {
    let length = length.map_or(String::new(), |n| format!("content-length: {n}\r\n"));
    format!("HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\n{length}\r\n")
}

fn sse(content: &str) -> String {
    format!(
        "data: {{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"evil\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"{content}\"}},\"finish_reason\":null}}]}}\n\n"
    )
}

async fn serve(
    mut tcp: TcpStream,
    requests: Arc<AtomicUsize>,
    firehose_sent: Arc<AtomicU64>,
) -> std::io::Result<()> {
    let Some(body) = read_request(&mut tcp).await? else {
        return Ok(());
    };
    requests.fetch_add(1, Ordering::SeqCst);
    let model = body["model"].as_str().unwrap_or_default().to_string();
    let json = "application/json";
    match model.as_str() {
        "reset-before-headers" => reset(tcp),
        "reset-mid-headers" => {
            tcp.write_all(b"HTTP/1.1 200 OK\r\ncontent-ty").await?;
            tcp.flush().await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            reset(tcp);
        }
        "reset-mid-body" => {
            let body = COMPLETION.as_bytes();
            tcp.write_all(head("200 OK", json, Some(body.len())).as_bytes())
                .await?;
            tcp.write_all(&body[..body.len() / 2]).await?;
            tcp.flush().await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
            reset(tcp);
        }
        "stall" => tokio::time::sleep(Duration::from_secs(30)).await,
        "one-byte-a-second" => {
            let answer = format!(
                "{}{COMPLETION}",
                head("200 OK", json, Some(COMPLETION.len()))
            );
            for b in answer.as_bytes() {
                tcp.write_all(&[*b]).await?;
                tcp.flush().await?;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        "oversized" => {
            let total = 80 << 20;
            tcp.write_all(head("200 OK", json, Some(total)).as_bytes())
                .await?;
            let block = vec![b' '; 1 << 20];
            for _ in 0..80 {
                tcp.write_all(&block).await?;
            }
        }
        "invalid-utf8" => {
            let mut body = COMPLETION.replace("fine", "fi\u{1}ne").into_bytes();
            let at = body.iter().position(|b| *b == 1).unwrap_or(0);
            body[at] = 0xff;
            tcp.write_all(head("200 OK", json, Some(body.len())).as_bytes())
                .await?;
            tcp.write_all(&body).await?;
        }
        "short-length" => {
            tcp.write_all(head("200 OK", json, Some(4000)).as_bytes())
                .await?;
            tcp.write_all(&COMPLETION.as_bytes()[..100]).await?;
            tcp.shutdown().await?;
        }
        "error-in-200" => {
            let body = r#"{"error":{"message":"The engine is currently overloaded.","type":"server_error","code":null}}"#;
            tcp.write_all(head("200 OK", json, Some(body.len())).as_bytes())
                .await?;
            tcp.write_all(body.as_bytes()).await?;
        }
        "stream-stall" | "stream-reset" => {
            tcp.write_all(head("200 OK", "text/event-stream", None).as_bytes())
                .await?;
            // HTTP/1.1 without a length: the body runs until the connection closes.
            tcp.write_all(sse("first").as_bytes()).await?;
            tcp.flush().await?;
            if model == "stream-reset" {
                tokio::time::sleep(Duration::from_millis(50)).await;
                reset(tcp);
            } else {
                tokio::time::sleep(Duration::from_secs(30)).await;
            }
        }
        "firehose" => {
            tcp.write_all(head("200 OK", "text/event-stream", None).as_bytes())
                .await?;
            let chunk = sse(&"x".repeat(900));
            for _ in 0..200_000 {
                tcp.write_all(chunk.as_bytes()).await?;
                firehose_sent.fetch_add(chunk.len() as u64, Ordering::SeqCst);
            }
            tcp.write_all(b"data: [DONE]\n\n").await?;
        }
        _ => {
            tcp.write_all(head("200 OK", json, Some(COMPLETION.len())).as_bytes())
                .await?;
            tcp.write_all(COMPLETION.as_bytes()).await?;
        }
    }
    Ok(())
}
