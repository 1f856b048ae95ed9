//! Streams of a front door's native lane: the provider's events go to the client as they are,
//! and are read for their usage and their end. The gateway's own errors (a provider that broke
//! off or went silent) are sent in the client's API's shape, and a Responses stream names the
//! `previous_response_id` the client gave (the provider got the history instead).

use crate::error::ApiError;
use crate::http::sse;
use crate::pipeline::bindings::types::Usage;
use bytes::Bytes;
use serde_json::{Value, json};
use sluice_dialects::{anthropic, responses};

/// Reads a native stream.
pub(in crate::endpoints::llm) struct NativeReader {
    api: Api,
    /// Events read so far (a Responses stream numbers its events from 0).
    events: u64,
    /// The client's `previous_response_id`, set back into the Responses the stream carries.
    previous_response_id: Option<String>,
}

enum Api {
    Messages(anthropic::NativeStreamUsage),
    Responses(responses::NativeStream),
}

impl NativeReader {
    /// For a Messages stream.
    pub(super) fn messages() -> NativeReader {
        NativeReader {
            api: Api::Messages(Default::default()),
            events: 0,
            previous_response_id: None,
        }
    }

    /// For a Responses stream of a request that named `previous_response_id`.
    pub(super) fn responses(previous_response_id: Option<String>) -> NativeReader {
        NativeReader {
            api: Api::Responses(Default::default()),
            events: 0,
            previous_response_id,
        }
    }

    /// Reads one event; true when it is an error event (the stream ends there).
    pub(in crate::endpoints::llm) fn read(&mut self, event: Option<&str>, data: &str) -> bool {
        self.events += 1;
        match &mut self.api {
            Api::Messages(r) => r.on_event(event, data),
            Api::Responses(r) => r.on_event(data),
        }
    }

    /// The event's data as the client gets it: a Responses event's response names the client's
    /// `previous_response_id`.
    pub(in crate::endpoints::llm) fn rewrite(&self, data: &str) -> Option<String> {
        let prev = self.previous_response_id.as_deref()?;
        if !data.contains("\"response\"") {
            return None;
        }
        let mut v: Value = serde_json::from_str(data).ok()?;
        let response = v.get_mut("response")?.as_object_mut()?;
        response.insert("previous_response_id".into(), json!(prev));
        Some(v.to_string())
    }

    /// The stream's usage, once known.
    pub(in crate::endpoints::llm) fn usage(&self) -> Option<Usage> {
        match &self.api {
            Api::Messages(r) => r.usage,
            Api::Responses(r) => r.usage,
        }
        .map(super::usage)
    }

    /// The stream is complete.
    pub(in crate::endpoints::llm) fn complete(&self) -> bool {
        match &self.api {
            Api::Messages(r) => r.complete,
            Api::Responses(r) => r.complete,
        }
    }

    /// The final Response of a Responses stream (to store).
    pub(in crate::endpoints::llm) fn response(&self) -> Option<Value> {
        let Api::Responses(r) = &self.api else {
            return None;
        };
        let mut response = r.response.clone()?;
        if let (Some(prev), Some(o)) = (&self.previous_response_id, response.as_object_mut()) {
            o.insert("previous_response_id".into(), json!(prev));
        }
        Some(response)
    }

    /// The event that ends the stream with the gateway's error `e`, in the client's API.
    pub(in crate::endpoints::llm) fn error_event(&self, e: &ApiError) -> Bytes {
        let data = match &self.api {
            Api::Messages(_) => anthropic::error_body(e.status.as_u16(), &e.kind, &e.message),
            Api::Responses(_) => json!({
                "type": "error",
                "code": e.code.as_deref().unwrap_or(&e.kind),
                "message": e.message,
                "param": e.param,
                "sequence_number": self.events,
            }),
        };
        sse::encode(Some("error"), &data.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_name_the_clients_previous_response() {
        let mut r = NativeReader::responses(Some("resp_prev".into()));
        let done = json!({"type": "response.completed", "sequence_number": 0, "response": {
            "id": "resp_2", "object": "response", "previous_response_id": null, "output": [],
            "usage": {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4}}})
        .to_string();
        assert!(!r.read(Some("response.completed"), &done));
        let sent: Value =
            serde_json::from_str(&r.rewrite(&done).expect("rewritten")).expect("json");
        assert_eq!(sent["response"]["previous_response_id"], "resp_prev");
        assert!(r.complete());
        assert_eq!(
            r.response().expect("kept")["previous_response_id"],
            "resp_prev"
        );
        assert!(
            r.rewrite(r#"{"type":"response.output_text.delta","delta":"x"}"#)
                .is_none()
        );
        assert!(NativeReader::responses(None).rewrite(&done).is_none());
    }

    #[test]
    fn the_gateways_errors_take_the_clients_shape() {
        let e = ApiError::bad_gateway("The stream broke off.");
        let m = NativeReader::messages().error_event(&e);
        let text = String::from_utf8_lossy(&m);
        assert!(text.starts_with("event: error\n"), "{text}");
        assert!(
            text.contains(r#""type":"error""#) && text.contains("api_error"),
            "{text}"
        );
        let mut r = NativeReader::responses(None);
        r.read(None, r#"{"type":"response.created","sequence_number":0}"#);
        let text = String::from_utf8_lossy(&r.error_event(&e)).into_owned();
        assert!(text.contains(r#""sequence_number":1"#), "{text}");
    }
}
