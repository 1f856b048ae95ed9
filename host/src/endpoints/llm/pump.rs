//! The stream's pump: forwards OpenAI-shaped events to the client, reads usage from the usage
//! chunk (holding it back to carry the metadata, or dropping it when the client did not ask), and
//! notes the first chunk's fields and any in-band error.

use super::body::UsageJson;
use super::front::{FrontStream, NativeReader};
use super::guarded::Guarded;
use crate::error::ApiError;
use crate::http::sse;
use crate::pipeline::bindings::types::Usage;
use bytes::Bytes;
use serde::Deserialize;
use tokio::sync::mpsc;

/// The client went away.
pub(super) struct Gone;

/// What the first chunk says, to build the chunk that carries metadata.
#[derive(Deserialize, Clone)]
pub(super) struct Template {
    #[serde(default)]
    pub(super) id: serde_json::Value,
    #[serde(default)]
    pub(super) object: serde_json::Value,
    #[serde(default)]
    pub(super) created: serde_json::Value,
    #[serde(default)]
    pub(super) model: serde_json::Value,
}

#[derive(Deserialize)]
struct UsageProbe {
    #[serde(default)]
    choices: Option<Vec<serde::de::IgnoredAny>>,
    #[serde(default)]
    usage: Option<UsageJson>,
}

pub(super) struct Pump {
    pub(super) tx: mpsc::Sender<Bytes>,
    pub(super) client_wants_usage: bool,
    pub(super) usage: Option<Usage>,
    /// The usage-only chunk, held back to carry the metadata (or dropped).
    pub(super) held: Option<String>,
    pub(super) template: Option<Template>,
    /// `[DONE]` arrived: the upstream's stream is complete.
    pub(super) done: bool,
    /// An error event was forwarded (its status): the stream ends there, without `[DONE]`.
    pub(super) errored: Option<u16>,
    /// Time to the first chunk and between chunks.
    pub(super) clock: crate::telemetry::record::StreamClock,
    /// The guard stage's view of the stream's text, when the pipeline has guards.
    pub(super) guarded: Option<Guarded>,
    /// The client's API's translation of what is sent, for a front door's translated lane.
    pub(super) front: Option<FrontStream>,
    /// What reads a front door's native lane (events pass as they are).
    pub(super) native: Option<NativeReader>,
    /// Whether the stream is transcript events: its `transcript.text.done` event ends it.
    pub(super) transcript: bool,
    /// Seconds of audio the stream's usage reported.
    pub(super) audio_seconds: Option<f64>,
}

impl Pump {
    pub(super) async fn send(&mut self, bytes: Bytes) -> Result<(), Gone> {
        let bytes = match self.front.as_mut() {
            Some(front) => front.translate(&bytes),
            None => bytes,
        };
        if bytes.is_empty() {
            return Ok(());
        }
        self.tx.send(bytes).await.map_err(|_| Gone)
    }

    /// Handles one event of a native stream (in the client's API already): its usage and its
    /// end are read, and it is sent as it is.
    async fn forward_native(&mut self, event: Option<&str>, data: &str) -> Result<(), Gone> {
        let Some(reader) = self.native.as_mut() else {
            return Ok(());
        };
        if reader.read(event, data) {
            self.errored = Some(error_status(data));
        }
        if let Some(u) = reader.usage() {
            self.usage = Some(u);
        }
        if reader.complete() {
            self.done = true;
        }
        let rewritten = reader.rewrite(data);
        self.clock.chunk();
        self.send(sse::encode(event, rewritten.as_deref().unwrap_or(data)))
            .await
    }

    /// The event that ends the stream with the gateway's error `e`, in the client's API.
    pub(super) fn error_event(&self, e: &ApiError) -> Bytes {
        match &self.native {
            Some(reader) => reader.error_event(e),
            None => sse::encode(None, &e.body().to_string()),
        }
    }

    /// Handles one OpenAI-shaped event.
    pub(super) async fn forward(&mut self, event: Option<&str>, data: &str) -> Result<(), Gone> {
        // An error event ended the stream: events that arrived with it are not sent.
        if self.errored.is_some() {
            return Ok(());
        }
        if self.native.is_some() {
            return self.forward_native(event, data).await;
        }
        let guarded;
        let data = match self.guarded.as_mut() {
            None => data,
            Some(g) => match g.chunk(data).await {
                Ok(Some(d)) => {
                    guarded = d;
                    guarded.as_str()
                }
                Ok(None) => return Ok(()),
                Err(e) => return self.stop(e).await,
            },
        };
        if data == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        if data.trim_start().starts_with("{\"error\"") {
            // An in-band error ends the stream: forward it and stop, with no `[DONE]` after it.
            self.errored = Some(error_status(data));
            return self.send(sse::encode(event, data)).await;
        }
        if self.template.is_none() {
            self.template = serde_json::from_str(data).ok();
        }
        // A transcript is complete with its `done` event (with or without a `[DONE]` after it).
        if self.transcript && data.contains("\"transcript.text.done\"") {
            self.done = true;
        }
        self.clock.chunk();
        if has_usage_object(data)
            && let Ok(probe) = serde_json::from_str::<UsageProbe>(data)
            && let Some(u) = probe.usage
        {
            if let Some(tokens) = u.tokens() {
                self.usage = Some(tokens);
            }
            if u.seconds.is_some() {
                self.audio_seconds = u.seconds;
            }
            if probe.choices.as_ref().is_none_or(Vec::is_empty) {
                self.held = Some(data.to_string());
                return Ok(());
            }
        }
        self.send(sse::encode(event, data)).await
    }
}

impl Pump {
    /// Ends the stream with `e` as its last event (a guard stopped it, or failed).
    pub(super) async fn stop(&mut self, e: ApiError) -> Result<(), Gone> {
        self.errored = Some(e.status.as_u16());
        let event = self.error_event(&e);
        self.send(event).await
    }

    /// Sends what the guards still hold of choices that never finished, before the stream's
    /// last chunk.
    pub(super) async fn flush_guarded(&mut self, fallback: Template) -> Result<(), Gone> {
        let Some(g) = self.guarded.as_mut() else {
            return Ok(());
        };
        let t = self.template.clone().unwrap_or(fallback);
        let mut template = serde_json::Map::new();
        template.insert("id".into(), t.id);
        template.insert("object".into(), t.object);
        template.insert("created".into(), t.created);
        template.insert("model".into(), t.model);
        match g.flush(template).await {
            Ok(Some(chunk)) => self.send(sse::encode(None, &chunk)).await,
            Ok(None) => Ok(()),
            Err(e) => self.stop(e).await,
        }
    }
}

/// The status an in-band error event stands for (its `status`, else from its type), for records.
fn error_status(data: &str) -> u16 {
    let v: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    let e = &v["error"];
    if let Some(s) = e["status"].as_u64().and_then(|s| u16::try_from(s).ok()) {
        return s;
    }
    match e["type"].as_str().or(e["code"].as_str()) {
        Some(t) if t.contains("rate_limit") => 429,
        Some(t) if t.contains("overloaded") || t.contains("unavailable") => 503,
        _ => 502,
    }
}

/// Whether `data` has `"usage":` followed by an object (not `null`).
fn has_usage_object(data: &str) -> bool {
    let mut rest = data;
    while let Some(i) = rest.find("\"usage\"") {
        let after = rest[i + 7..].trim_start();
        if let Some(v) = after.strip_prefix(':')
            && v.trim_start().starts_with('{')
        {
            return true;
        }
        rest = &rest[i + 7..];
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_objects_are_told_from_nulls() {
        assert!(has_usage_object(
            r#"{"choices":[],"usage":{"prompt_tokens":1}}"#
        ));
        assert!(has_usage_object(r#"{"usage" : {"prompt_tokens":1}}"#));
        assert!(!has_usage_object(
            r#"{"choices":[{"delta":{"content":"usage"}}],"usage":null}"#
        ));
        assert!(!has_usage_object(r#"{"text":"\"usage\" is a word"}"#));
    }
}
