//! `POST /responses` (OpenAI's Responses API) in front of any provider, and the responses the
//! gateway keeps: `GET` and `DELETE /responses/{id}`.
//!
//! The gateway keeps the conversation itself: a stored response carries its request's input items
//! and its output, and names the response it continued, so `previous_response_id` (looked up for
//! the caller's owner only; any other owner's id is a 404) becomes explicit history, whichever
//! provider answers next. A provider
//! that speaks Responses itself gets the request with that history in `input`.

use super::super::exchange::Exchange;
use super::super::request::Endpoint;
use super::{Front, encode, invalid, parse_object, translate_view};
use crate::endpoints::caller::Caller;
use crate::error::{ApiError, blocking};
use crate::state::AppState;
use crate::store::{Conversation, StoredResponse};
use crate::time::now_ms;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use serde_json::{Map, Value, json};
use sluice_dialects::responses as dialect;

/// The Responses routes (mounted under `/v1` and bare).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/responses", post(create))
        .route("/responses/{id}", get(retrieve).delete(remove))
}

/// A Responses request on its way through the pipeline.
pub(in crate::endpoints::llm) struct ResponsesFront {
    /// The client's request as it came (the Response echoes its settings).
    pub(super) request: Value,
    /// The request for a provider that speaks Responses itself: the history in `input`, no
    /// `previous_response_id`.
    pub(super) native_body: Map<String, Value>,
    /// The Response's id (`resp_...`) and creation time (Unix seconds).
    pub(super) id: String,
    pub(super) created_at: u64,
    /// Whether to keep the Response (`store`, default true, and a retention above 0).
    store: bool,
    /// What the translation refused (see `MessagesFront`).
    pub(super) refused: Option<sluice_dialects::Invalid>,
    /// This request's input items (stored with its output).
    input: Vec<Value>,
    /// The response it continues.
    previous_id: Option<String>,
}

impl ResponsesFront {
    /// A request of the model `m` with no history, as a test's.
    #[cfg(test)]
    pub(super) fn for_test() -> ResponsesFront {
        ResponsesFront {
            request: json!({"model": "m", "input": "hi"}),
            native_body: Map::new(),
            id: "resp_test".into(),
            created_at: 1,
            store: false,
            input: Vec::new(),
            previous_id: None,
            refused: None,
        }
    }
}

async fn create(State(gw): State<AppState>, req: Request) -> Response {
    let front = Front::Responses(Box::new(ResponsesFront {
        request: Value::Null,
        native_body: Map::new(),
        id: String::new(),
        created_at: 0,
        store: false,
        input: Vec::new(),
        previous_id: None,
        refused: None,
    }));
    super::super::handle_front(gw, Endpoint::ChatCompletions, front, req).await
}

impl Exchange {
    /// Translates a Responses request (its history looked up) into the pipeline's chat completion.
    pub(super) async fn responses_inbound(&mut self, bytes: Bytes) -> Result<Bytes, ApiError> {
        let mut original = parse_object(&bytes)?;
        let owner = self
            .principal
            .as_ref()
            .map(|p| p.owner.clone())
            .unwrap_or_default();
        let settings = &self.pipeline.config.responses;
        let (retention_days, max_items) = (settings.retention_days, settings.max_items);
        let previous_id = match original.get("previous_response_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(prev)) => Some(prev.clone()),
            Some(_) => {
                return Err(
                    ApiError::bad_request("`previous_response_id` must be a string.")
                        .param("previous_response_id"),
                );
            }
        };
        let history = match &previous_id {
            Some(prev) => self.history(&owner, prev).await?,
            None => Vec::new(),
        };
        let request = Value::Object(original.clone());
        let input = dialect::input_items(&request).map_err(invalid)?;
        if history.len() + input.len() > max_items {
            return Err(ApiError::bad_request(format!(
                "The conversation would have {} items; this gateway keeps at most {max_items}. \
                 Start a new conversation (without `previous_response_id`).",
                history.len() + input.len()
            ))
            .param("previous_response_id"));
        }
        let model = request
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let native = self.native_possible(&model, |i| i.native_responses);
        let (chat, refused) =
            translate_view(&original, native, |v| dialect::request_to_chat(v, &history))?;
        original.remove("previous_response_id");
        let mut native_input = history;
        native_input.extend(input.iter().cloned());
        if native {
            self.inline_input_files(&mut native_input).await?;
        }
        original.insert("input".into(), Value::Array(native_input));
        let store = request.get("store").and_then(Value::as_bool) != Some(false);
        self.front = Front::Responses(Box::new(ResponsesFront {
            request,
            native_body: original,
            id: format!("resp_{:032x}", rand::random::<u128>()),
            created_at: now_ms() / 1000,
            store: store && retention_days > 0,
            input,
            previous_id,
            refused,
        }));
        encode(&chat)
    }

    /// Inlines the caller's uploaded files that `items` name by id (`input_file` parts with a
    /// `file_id`) as `file_data`: a provider knows nothing of the gateway's file ids.
    async fn inline_input_files(&self, items: &mut [Value]) -> Result<(), ApiError> {
        let mut ids = Vec::new();
        for part in input_file_parts(items) {
            if let Some(id) = part.get("file_id").and_then(Value::as_str) {
                ids.push(id.to_string());
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        let inlined = self.file_data(ids, "input").await?;
        for part in input_file_parts(items) {
            let Some(Value::String(id)) = part.remove("file_id") else {
                continue;
            };
            if let Some((filename, url)) = inlined.get(&id) {
                part.insert("file_data".into(), Value::String(url.clone()));
                part.entry("filename")
                    .or_insert_with(|| Value::String(filename.clone()));
            }
        }
        Ok(())
    }

    /// The items of the conversation that the caller's stored response `id` ends, oldest first.
    async fn history(&self, owner: &str, id: &str) -> Result<Vec<Value>, ApiError> {
        let (store, owner_s, id_s) = (self.gw.responses.clone(), owner.to_string(), id.to_string());
        let chain =
            match blocking(move || store.conversation(&owner_s, &id_s, now_ms() / 1000)).await? {
                Conversation::Whole(chain) => chain,
                Conversation::Missing => return Err(not_found(id).param("previous_response_id")),
                Conversation::Broken(at) => {
                    return Err(ApiError::bad_request(format!(
                        "The conversation of '{id}' cannot be continued: a response before '{at}' \
                     was deleted or expired."
                    ))
                    .code("conversation_incomplete")
                    .param("previous_response_id"));
                }
            };
        let mut items = Vec::new();
        for own in chain {
            let own: Vec<Value> = serde_json::from_str(&own).map_err(|e| {
                ApiError::internal(format!("A stored conversation is unreadable: {e}"))
            })?;
            items.extend(own);
        }
        Ok(items)
    }

    /// Keeps the Response `response` (when the request asked for it) with its conversation.
    pub(in crate::endpoints::llm) async fn store_response(
        &self,
        response: Value,
    ) -> Result<(), ApiError> {
        let Front::Responses(r) = &self.front else {
            return Ok(());
        };
        if !r.store {
            return Ok(());
        }
        let Some(owner) = self.principal.as_ref().map(|p| p.owner.clone()) else {
            return Ok(());
        };
        let id = response
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or(&r.id)
            .to_string();
        let mut items = r.input.clone();
        items.extend(dialect::output_items(&response));
        let now = now_ms() / 1000;
        let days = self.pipeline.config.responses.retention_days;
        let record = StoredResponse {
            id,
            owner,
            created_at: now,
            expires_at: now.saturating_add(days.saturating_mul(86_400)),
            previous_id: r.previous_id.clone(),
            response: response.to_string(),
            items: Value::Array(items).to_string(),
        };
        let store = self.gw.responses.clone();
        blocking(move || store.put(&record)).await
    }
}

/// The `input_file` content parts of message items.
fn input_file_parts(items: &mut [Value]) -> impl Iterator<Item = &mut Map<String, Value>> {
    items
        .iter_mut()
        .filter_map(|item| item.get_mut("content").and_then(Value::as_array_mut))
        .flatten()
        .filter_map(Value::as_object_mut)
        .filter(|part| part.get("type").and_then(Value::as_str) == Some("input_file"))
}

/// `owner`'s stored response `id`, or a 404.
async fn find(gw: &AppState, owner: &str, id: &str) -> Result<StoredResponse, ApiError> {
    let (store, owner_s, id_s) = (gw.responses.clone(), owner.to_string(), id.to_string());
    match blocking(move || store.get(&owner_s, &id_s, now_ms() / 1000)).await? {
        Some(r) => Ok(r),
        None => Err(not_found(id)),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "invalid_request_error",
        format!("Response with id '{id}' not found."),
    )
    .code("response_not_found")
}

async fn retrieve(State(gw): State<AppState>, Path(id): Path<String>, caller: Caller) -> Response {
    let result = find(&gw, caller.owner(), &id)
        .await
        .map(|r| ([(header::CONTENT_TYPE, "application/json")], r.response).into_response());
    caller.respond(result)
}

async fn remove(State(gw): State<AppState>, Path(id): Path<String>, caller: Caller) -> Response {
    let (store, owner, id2) = (gw.responses.clone(), caller.owner().to_string(), id.clone());
    let result = match blocking(move || store.delete(&owner, &id2)).await {
        Ok(true) => Ok(
            axum::Json(json!({ "id": id, "object": "response", "deleted": true })).into_response(),
        ),
        Ok(false) => Err(not_found(&id)),
        Err(e) => Err(e),
    };
    caller.respond(result)
}
