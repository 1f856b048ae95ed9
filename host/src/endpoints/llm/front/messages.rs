//! `POST /messages` (Anthropic's Messages API) in front of any provider, and
//! `POST /messages/count_tokens`. Callers authenticate with `x-api-key` (what the `anthropic`
//! SDKs and Claude Code send) or a bearer token; `anthropic-version` and `anthropic-beta` reach
//! a provider that speaks Messages itself. Every error is in Anthropic's shape.

use super::super::request::Endpoint;
use super::{Front, MessagesFront, invalid, parse_object};
use crate::error::ApiError;
use crate::http::auth::{credential, plugin_headers};
use crate::pipeline::bindings::types::{Endpoint as WitEndpoint, RequestCtx};
use crate::pipeline::stages;
use crate::state::{AppState, new_request_id};
use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};
use sluice_dialects::anthropic;

/// The Messages routes (mounted under `/v1` and bare).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/messages", post(create))
        .route("/messages/count_tokens", post(count_tokens))
}

async fn create(State(gw): State<AppState>, req: Request) -> Response {
    let front = Front::Messages(MessagesFront {
        original: Map::new(),
        refused: None,
    });
    super::super::handle_front(gw, Endpoint::ChatCompletions, front, req).await
}

/// `POST /messages/count_tokens`: the gateway's estimate of a request's input tokens (about
/// four bytes of text a token, a fixed cost per image), after the same checks as `/messages`:
/// the key, the body, and the key's access to the model.
async fn count_tokens(State(gw): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let request_id = new_request_id();
    let ctx = RequestCtx {
        request_id: request_id.clone(),
        endpoint: WitEndpoint::Messages,
        model: String::new(),
        stream: false,
        user_id: None,
        key_id: None,
        headers: plugin_headers(&parts.headers),
    };
    let pipeline = gw.pipeline.load_full();
    let result = async {
        let principal =
            stages::authenticate(&pipeline, &ctx, credential(&parts.headers).as_deref()).await?;
        let bytes = crate::http::body::read(body, &pipeline.config.server).await?;
        let request = Value::Object(parse_object(&bytes)?);
        let model = request
            .get("model")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .ok_or_else(|| ApiError::bad_request("`model` is required.").param("model"))?;
        match pipeline.route(model) {
            Some(r) if stages::model_allowed(&principal, &r.name, model) => {}
            _ => return Err(ApiError::model_not_found(model)),
        }
        let tokens = anthropic::count_tokens(&request).map_err(invalid)?;
        Ok(axum::Json(json!({ "input_tokens": tokens })).into_response())
    }
    .await;
    let front = Front::Messages(MessagesFront {
        original: Map::new(),
        refused: None,
    });
    let mut resp = result.unwrap_or_else(|e| front.error_response(e));
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}
