//! Speech: a WAV (or raw PCM) of silence, 60 ms per character of input, at most 10 s.

use serde_json::Value;
use sluice_plugin_sdk::{ErrorBody, HttpResponse};

const RATE: u32 = 24_000;

/// Samples for `input`: 60 ms a character, at most 10 s.
fn samples(input: &str) -> u32 {
    let ms = (input.chars().count() as u32)
        .saturating_mul(60)
        .min(10_000);
    RATE / 1000 * ms
}

/// A 16-bit mono WAV header for `n` samples.
fn wav_header(n: u32) -> Vec<u8> {
    let data = n * 2;
    let mut h = Vec::with_capacity(44);
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&1u16.to_le_bytes()); // mono
    h.extend_from_slice(&RATE.to_le_bytes());
    h.extend_from_slice(&(RATE * 2).to_le_bytes()); // byte rate
    h.extend_from_slice(&2u16.to_le_bytes()); // block align
    h.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data.to_le_bytes());
    h
}

pub(crate) fn answer(req: &Value) -> Result<HttpResponse, ErrorBody> {
    let input = req
        .get("input")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            ErrorBody::bad_request("`input` must be a non-empty string").with_param("input")
        })?;
    let n = samples(input);
    let (content_type, mut body) = match req.get("response_format").and_then(Value::as_str) {
        None | Some("wav") => ("audio/wav", wav_header(n)),
        Some("pcm") => ("audio/pcm", Vec::new()),
        Some(other) => {
            return Err(ErrorBody::bad_request(format!(
                "the echo provider speaks `wav` and `pcm`, not `{other}`"
            ))
            .with_param("response_format"));
        }
    };
    body.resize(body.len() + n as usize * 2, 0);
    Ok(HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), content_type.into())],
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn speaks_a_wav_sized_by_the_input() {
        let r = answer(&json!({"input": "hello", "voice": "alloy"})).expect("audio");
        assert_eq!(r.headers[0].1, "audio/wav");
        assert_eq!(&r.body[..4], b"RIFF");
        assert_eq!(&r.body[8..12], b"WAVE");
        assert_eq!(r.body.len(), 44 + 5 * 60 * 24 * 2);
        let pcm = answer(&json!({"input": "hello", "response_format": "pcm"})).expect("pcm");
        assert_eq!(pcm.body.len(), 5 * 60 * 24 * 2);
        assert_eq!(
            answer(&json!({"input": "x", "response_format": "mp3"}))
                .expect_err("400")
                .status,
            400
        );
        assert_eq!(answer(&json!({})).expect_err("400").status, 400);
    }
}
