//! Files and batch inputs for the tests: a multipart upload through `POST /v1/files`, and the
//! JSONL of a batch of chat lines.

use super::{Gateway, client};

/// Uploads `data` as the file `name` of `purpose` (`POST /v1/files`, multipart) with `key`: the
/// status and the JSON answer.
pub async fn upload_file(
    gw: &Gateway,
    key: &str,
    purpose: &str,
    name: &str,
    data: &[u8],
) -> (u16, serde_json::Value) {
    const BOUNDARY: &str = "sluice-test-upload-boundary";
    let head = format!(
        "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"purpose\"\r\n\r\n{purpose}\r\n\
         --{BOUNDARY}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\r\n"
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let r = client()
        .post(gw.at("/v1/files"))
        .bearer_auth(key)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body([head.as_bytes(), data, tail.as_bytes()].concat())
        .send()
        .await
        .expect("upload");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

/// A batch input file of `n` chat lines for `model`, `custom_id` and content `line-<i>`.
pub fn batch_lines(n: usize, model: &str) -> String {
    (0..n)
        .map(|i| {
            let line = serde_json::json!({ "custom_id": format!("line-{i}"), "method": "POST",
                "url": "/v1/chat/completions",
                "body": { "model": model, "messages": [{ "role": "user", "content": format!("line-{i}") }] } });
            format!("{line}\n")
        })
        .collect()
}
