//! Transcriptions and translations: a transcript that says what audio arrived. The host gives
//! the plugin the form's fields as JSON and the file as `{"filename", "content_type", "bytes"}`
//! (never its bytes), so the transcript reads `echo heard 48000 bytes of audio/wav (a.wav)`
//! (translations: `echo translated ... into English`). The audio is taken to last one second per
//! 32,000 bytes (16 kHz, 16-bit mono), at least 0.1 s. Every `response_format` is honoured:
//! `json` and `verbose_json` (with `duration`, one segment, and `words` when asked) and
//! `diarized_json` report `usage` as `{"type": "duration", "seconds": N}`; `text`, `srt` and
//! `vtt` answer `text/plain`. `stream: true` answers `transcript.text.delta` events, one a word,
//! and a `transcript.text.done` event with token usage (input: one a 100 ms; output: words).

use crate::sse::{SseBody, pieces};
use crate::{count_tokens, json_response};
use serde_json::{Value, json};
use sluice_plugin_sdk::{ErrorBody, HttpResponse};

/// What the request's `file` descriptor says.
struct Audio {
    bytes: u64,
    content_type: String,
    filename: String,
}

impl Audio {
    fn of(req: &Value) -> Result<Audio, ErrorBody> {
        let file = req
            .get("file")
            .filter(|f| f.is_object())
            .ok_or_else(|| ErrorBody::bad_request("a `file` is required").with_param("file"))?;
        Ok(Audio {
            bytes: file.get("bytes").and_then(Value::as_u64).unwrap_or(0),
            content_type: file
                .get("content_type")
                .and_then(Value::as_str)
                .unwrap_or("application/octet-stream")
                .to_string(),
            filename: file
                .get("filename")
                .and_then(Value::as_str)
                .unwrap_or("upload")
                .to_string(),
        })
    }

    /// Its length: a second per 32,000 bytes, at least 0.1 s, to the millisecond.
    fn duration(&self) -> f64 {
        ((self.bytes as f64 / 32.0).round() / 1000.0).max(0.1)
    }
}

/// `POST /audio/transcriptions` (`translate` false) and `POST /audio/translations`.
pub(crate) fn answer(
    req: &Value,
    translate: bool,
    stream: bool,
) -> Result<HttpResponse, ErrorBody> {
    let audio = Audio::of(req)?;
    let text = if translate {
        format!(
            "echo translated {} bytes of {} ({}) into English",
            audio.bytes, audio.content_type, audio.filename
        )
    } else {
        format!(
            "echo heard {} bytes of {} ({})",
            audio.bytes, audio.content_type, audio.filename
        )
    };
    let duration = audio.duration();
    if stream {
        return Ok(streamed(&text, duration));
    }
    let usage = json!({ "type": "duration", "seconds": duration.ceil() as u64 });
    let format = req
        .get("response_format")
        .and_then(Value::as_str)
        .unwrap_or("json");
    match format {
        "json" => Ok(json_response(&json!({ "text": text, "usage": usage }))),
        "verbose_json" => {
            let language = match req.get("language").and_then(Value::as_str) {
                Some(l) if !translate => l,
                _ => "english",
            };
            let mut v = json!({
                "task": if translate { "translate" } else { "transcribe" },
                "language": language, "duration": duration, "text": text,
                "segments": [{
                    "id": 0, "seek": 0, "start": 0.0, "end": duration, "text": text,
                    "tokens": [], "temperature": 0.0, "avg_logprob": 0.0,
                    "compression_ratio": 1.0, "no_speech_prob": 0.0,
                }],
                "usage": usage,
            });
            if granularities(req).contains(&"word") {
                v["words"] = words(&text, duration);
            }
            Ok(json_response(&v))
        }
        "diarized_json" if !translate => Ok(json_response(&json!({
            "task": "transcribe", "duration": duration, "text": text,
            "segments": [{
                "type": "transcript.text.segment", "id": "seg_0", "start": 0.0,
                "end": duration, "text": text, "speaker": "A",
            }],
            "usage": usage,
        }))),
        "text" => Ok(plain(format!("{text}\n"))),
        "srt" => Ok(plain(format!(
            "1\n00:00:00,000 --> {}\n{text}\n\n",
            timestamp(duration, ',')
        ))),
        "vtt" => Ok(plain(format!(
            "WEBVTT\n\n00:00:00.000 --> {}\n{text}\n\n",
            timestamp(duration, '.')
        ))),
        other => Err(ErrorBody::bad_request(format!(
            "`response_format` `{other}` is not one of json, text, srt, verbose_json, vtt{}",
            if translate { "" } else { ", diarized_json" }
        ))
        .with_param("response_format")),
    }
}

/// The `timestamp_granularities` asked for.
fn granularities(req: &Value) -> Vec<&str> {
    match req.get("timestamp_granularities") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        Some(Value::String(s)) => vec![s.as_str()],
        _ => Vec::new(),
    }
}

/// Each word with an equal share of the audio.
fn words(text: &str, duration: f64) -> Value {
    let list: Vec<&str> = text.split_whitespace().collect();
    let each = duration / list.len().max(1) as f64;
    let words: Vec<Value> = list
        .iter()
        .enumerate()
        .map(|(i, w)| json!({ "word": w, "start": each * i as f64, "end": each * (i + 1) as f64 }))
        .collect();
    Value::Array(words)
}

/// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT).
fn timestamp(seconds: f64, sep: char) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    let (h, m, s) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60);
    format!("{h:02}:{m:02}:{s:02}{sep}{:03}", ms % 1000)
}

fn plain(body: String) -> HttpResponse {
    HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
        body: body.into_bytes(),
    }
}

/// The transcript as `transcript.text.delta` events and a `transcript.text.done` event.
fn streamed(text: &str, duration: f64) -> HttpResponse {
    let mut body = SseBody::new();
    for piece in pieces(text) {
        body.push(&json!({ "type": "transcript.text.delta", "delta": piece }));
    }
    let input = (duration * 10.0).ceil() as u32;
    let output = count_tokens(text);
    body.push(&json!({
        "type": "transcript.text.done", "text": text,
        "usage": {
            "type": "tokens", "input_tokens": input, "output_tokens": output,
            "total_tokens": input + output,
            "input_token_details": { "text_tokens": 0, "audio_tokens": input },
        },
    }));
    body.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::json;

    fn req(format: &str) -> Value {
        json!({"model": "echo", "response_format": format,
               "file": {"filename": "a.wav", "content_type": "audio/wav", "bytes": 64000}})
    }

    #[test]
    fn every_format_says_what_arrived() {
        let v = json(&answer(&req("json"), false, false).expect("ok").body);
        assert_eq!(v["text"], "echo heard 64000 bytes of audio/wav (a.wav)");
        assert_eq!(v["usage"]["seconds"], 2);
        let mut verbose = req("verbose_json");
        verbose["timestamp_granularities"] = json!(["word"]);
        let v = json(&answer(&verbose, true, false).expect("ok").body);
        assert_eq!(v["duration"], 2.0);
        assert_eq!(v["task"], "translate");
        assert_eq!(v["words"].as_array().map(Vec::len), Some(9));
        let srt = answer(&req("srt"), false, false).expect("ok");
        assert_eq!(srt.headers[0].1, "text/plain; charset=utf-8");
        assert!(String::from_utf8_lossy(&srt.body).contains("00:00:00,000 --> 00:00:02,000"));
        let vtt = answer(&req("vtt"), false, false).expect("ok");
        assert!(
            String::from_utf8_lossy(&vtt.body)
                .starts_with("WEBVTT\n\n00:00:00.000 --> 00:00:02.000")
        );
        let text = answer(&req("text"), true, false).expect("ok");
        assert!(String::from_utf8_lossy(&text.body).ends_with("into English\n"));
        assert!(answer(&req("diarized_json"), true, false).is_err());
        assert_eq!(
            answer(&req("xml"), false, false).expect_err("400").status,
            400
        );
        assert!(answer(&json!({"model": "echo"}), false, false).is_err());
    }

    #[test]
    fn streams_deltas_then_done_with_usage() {
        let r = answer(&req("json"), false, true).expect("ok");
        let body = String::from_utf8_lossy(&r.body).into_owned();
        let events: Vec<Value> = body
            .split("\n\n")
            .filter_map(|e| e.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).expect("json"))
            .collect();
        let deltas: String = events
            .iter()
            .filter(|e| e["type"] == "transcript.text.delta")
            .filter_map(|e| e["delta"].as_str())
            .collect();
        let done = events.last().expect("done");
        assert_eq!(done["type"], "transcript.text.done");
        assert_eq!(deltas, done["text"].as_str().expect("text"));
        assert_eq!(done["usage"]["input_tokens"], 20);
    }
}
