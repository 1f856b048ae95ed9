//! Front doors: the APIs clients speak besides OpenAI's chat completions (Anthropic's Messages,
//! OpenAI's Responses). A request through one is translated into the chat completion the
//! pipeline runs on (`sluice_dialects`), and its answer, stream and errors are translated back.
//! When the provider speaks the client's API itself (its adapter lists it in `plugin-info.native`)
//! and no policy or guard changed the body, the request goes to it untranslated: the native lane.
//!
//! Files: [`messages`] and [`responses`] (the routes), `stream` (the translated lane's streams),
//! `native` (the native lane's streams).

pub mod messages;
mod native;
pub mod responses;
mod stream;
mod view;

pub(super) use native::NativeReader;
pub(super) use stream::FrontStream;
#[cfg(test)]
use view::leave_out;
use view::translate_view;

use super::exchange::Exchange;
use crate::error::ApiError;
use crate::pipeline::bindings::types::{Endpoint as WitEndpoint, Usage};
use crate::pipeline::plugin::PluginInfo;
use axum::body::Body;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value};
use sluice_dialects::{Invalid, anthropic};

/// The API the client spoke.
#[derive(Default)]
pub(super) enum Front {
    /// OpenAI's own endpoints: nothing to translate.
    #[default]
    OpenAi,
    /// Anthropic's Messages API.
    Messages(MessagesFront),
    /// OpenAI's Responses API.
    Responses(Box<responses::ResponsesFront>),
}

/// A Messages request.
pub(super) struct MessagesFront {
    /// The client's request, for a provider that speaks Messages itself.
    original: Map<String, Value>,
    /// What the translation refused, left out of the pipeline's view because the provider may
    /// take it natively: a lane that translates answers with it.
    refused: Option<Invalid>,
}

impl Front {
    /// The endpoint's name in usage rows and metrics, when it is not the pipeline's.
    pub(super) fn name(&self) -> Option<&'static str> {
        match self {
            Front::OpenAi => None,
            Front::Messages(_) => Some("messages"),
            Front::Responses(_) => Some("responses"),
        }
    }

    /// The request to send a provider that speaks the client's API itself: the endpoint its
    /// adapter sees and the body (the client's, with the upstream model).
    pub(super) fn native_request(
        &self,
        info: &PluginInfo,
        upstream_model: &str,
    ) -> Option<(WitEndpoint, Bytes)> {
        let (endpoint, original) = match self {
            Front::Messages(m) if info.native_messages => (WitEndpoint::Messages, &m.original),
            Front::Responses(r) if info.native_responses => {
                (WitEndpoint::Responses, &r.native_body)
            }
            _ => return None,
        };
        let mut body = original.clone();
        body.insert("model".into(), Value::String(upstream_model.to_string()));
        let bytes = serde_json::to_vec(&body).ok()?;
        Some((endpoint, Bytes::from(bytes)))
    }

    /// What the translation refused of the request (only the native lane can serve it).
    pub(super) fn refused(&self) -> Option<&Invalid> {
        match self {
            Front::OpenAi => None,
            Front::Messages(m) => m.refused.as_ref(),
            Front::Responses(r) => r.refused.as_ref(),
        }
    }

    /// The usage of a whole answer of the native lane.
    pub(super) fn native_usage(&self, body: &[u8]) -> Option<Usage> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let u = match self {
            Front::OpenAi => return None,
            Front::Messages(_) => anthropic::usage_of_message(&v)?,
            Front::Responses(_) => sluice_dialects::responses::usage_of_response(&v)?,
        };
        Some(usage(u))
    }

    /// The client's response for the error `e`, in its API's shape.
    pub(super) fn error_response(&self, e: ApiError) -> Response {
        let Front::Messages(_) = self else {
            return e.into_response();
        };
        let body = anthropic::error_body(e.status.as_u16(), &e.kind, &e.message);
        let mut resp = e.into_response();
        *resp.body_mut() = Body::from(body.to_string());
        resp.headers_mut()
            .remove(axum::http::header::CONTENT_LENGTH);
        resp
    }

    /// A stream translator for the translated lane of the served model `model`, whose metadata
    /// object is `field`.
    pub(super) fn stream(&self, model: &str, field: &str) -> Option<FrontStream> {
        match self {
            Front::OpenAi => None,
            Front::Messages(_) => Some(FrontStream::messages(model, field)),
            Front::Responses(r) => Some(FrontStream::responses(r, field)),
        }
    }

    /// What reads a native stream's usage (and its end).
    pub(super) fn native_reader(&self) -> Option<NativeReader> {
        match self {
            Front::OpenAi => None,
            Front::Messages(_) => Some(NativeReader::messages()),
            Front::Responses(r) => Some(NativeReader::responses(
                r.request
                    .get("previous_response_id")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            )),
        }
    }
}

/// The gateway's usage record for a dialect's usage.
pub(super) fn usage(u: sluice_dialects::Usage) -> Usage {
    Usage {
        prompt_tokens: u.prompt_tokens,
        completion_tokens: u.completion_tokens,
        cached_tokens: u.cached_tokens,
    }
}

/// A 400 for a request the translation refuses.
pub(super) fn invalid(e: Invalid) -> ApiError {
    let mut err = ApiError::bad_request(e.message).code("unsupported_by_translation");
    err.param = e.param;
    err
}

/// The request body as a JSON object, or a 400.
pub(super) fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::bad_request("The request body must be a JSON object.").code("invalid_json")),
        Err(e) => Err(ApiError::bad_request(format!(
            "We could not parse the JSON body of your request ({e}). The body must be a JSON object."
        ))
        .code("invalid_json")),
    }
}

impl Exchange {
    /// Translates the client's body into the chat completion the pipeline runs on (the body
    /// itself for OpenAI's endpoints).
    pub(super) async fn inbound(&mut self, bytes: Bytes) -> Result<Bytes, ApiError> {
        match &self.front {
            Front::OpenAi => Ok(bytes),
            Front::Messages(_) => {
                let original = parse_object(&bytes)?;
                let model = original
                    .get("model")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let native = self.native_possible(model, |i| i.native_messages);
                let (chat, refused) =
                    translate_view(&original, native, anthropic::request_to_chat)?;
                self.front = Front::Messages(MessagesFront { original, refused });
                encode(&chat)
            }
            Front::Responses(_) => self.responses_inbound(bytes).await,
        }
    }

    /// Whether one of the model's deployments speaks the client's API itself (`speaks`), with no
    /// guard configured: its native lane may serve what the translation refuses.
    pub(super) fn native_possible(&self, model: &str, speaks: fn(&PluginInfo) -> bool) -> bool {
        self.pipeline.guards.is_empty()
            && self.pipeline.route(model).is_some_and(|r| {
                r.deployments
                    .iter()
                    .any(|d| speaks(&d.provider.adapter.info))
            })
    }

    /// A whole chat completion answer in the client's API (the body itself for OpenAI's
    /// endpoints and the native lane); a Responses answer is stored when asked.
    pub(super) async fn outbound_json(&mut self, body: Bytes) -> Result<Bytes, ApiError> {
        if self.native {
            let Front::Responses(r) = &self.front else {
                return Ok(body);
            };
            let Ok(mut v) = serde_json::from_slice::<Value>(&body) else {
                return Ok(body);
            };
            // The provider got the history instead of the id: the answer names it again.
            let prev = r
                .request
                .get("previous_response_id")
                .filter(|p| p.is_string());
            let body = match (prev, v.as_object_mut()) {
                (Some(prev), Some(o)) => {
                    o.insert("previous_response_id".into(), prev.clone());
                    encode(&v)?
                }
                _ => body,
            };
            self.store_response(v).await?;
            return Ok(body);
        }
        let chat: Value = match &self.front {
            Front::OpenAi => return Ok(body),
            _ => serde_json::from_slice(&body).map_err(|_| {
                ApiError::bad_gateway(format!(
                    "The provider `{}` answered with invalid JSON.",
                    self.provider
                ))
            })?,
        };
        let out = match &self.front {
            Front::OpenAi => return Ok(body),
            Front::Messages(_) => anthropic::answer_from_chat(&chat).map_err(|e| {
                ApiError::bad_gateway(format!("The answer could not be translated: {e}."))
            })?,
            Front::Responses(r) => {
                let v = sluice_dialects::responses::answer_from_chat(
                    &chat,
                    &r.request,
                    &r.id,
                    r.created_at,
                )
                .map_err(|e| {
                    ApiError::bad_gateway(format!("The answer could not be translated: {e}."))
                })?;
                self.store_response(v.clone()).await?;
                v
            }
        };
        encode(&out)
    }
}

/// `v` as JSON bytes.
fn encode<T: serde::Serialize>(v: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(v)
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(format!("A body could not be encoded: {e}")))
}

#[cfg(test)]
mod tests;
