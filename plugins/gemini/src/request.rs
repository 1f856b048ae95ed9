//! The request: OpenAI chat completions to `generateContent` / `streamGenerateContent`, and the
//! dispatch of embeddings.

use crate::contents;
use crate::{Config, embeddings, model_id};
use serde_json::{Map, Value, json};
use sluice_plugin_sdk::openai::{
    ChatRequest, ResponseFormat, Tool, ToolChoice, bad, unsupported_endpoint,
};
use sluice_plugin_sdk::{Endpoint, ErrorBody, Provider, RequestCtx, UpstreamRequest};

/// The headers of every Gemini call: JSON and the provider's key.
pub(crate) fn headers(provider: &Provider) -> Vec<(String, String)> {
    let mut headers = vec![("content-type".to_string(), "application/json".to_string())];
    if let Some(key) = provider.api_key.as_deref().filter(|k| !k.is_empty()) {
        headers.push(("x-goog-api-key".to_string(), key.to_string()));
    }
    headers
}

/// The upstream call for a client request.
pub(crate) fn upstream_request(
    ctx: &RequestCtx,
    provider: &Provider,
    body: &[u8],
    config: &Config,
) -> Result<UpstreamRequest, ErrorBody> {
    let parse = || ChatRequest::parse_body(body);
    match ctx.endpoint {
        Endpoint::ChatCompletions => {
            let out = translate(&parse()?, config)?;
            let model = model_id(provider);
            let path = if ctx.stream {
                format!("/models/{model}:streamGenerateContent?alt=sse")
            } else {
                format!("/models/{model}:generateContent")
            };
            Ok(UpstreamRequest {
                method: "POST".into(),
                path,
                headers: headers(provider),
                body: Some(Value::Object(out).to_string().into_bytes()),
                stream: ctx.stream,
            })
        }
        Endpoint::Embeddings => {
            let (call, pending) = embeddings::upstream_request(provider, &parse()?)?;
            embeddings::remember(pending);
            Ok(call)
        }
        other => Err(unsupported_endpoint(
            other.as_str(),
            "gemini",
            &provider.name,
        )),
    }
}

/// Translates an OpenAI chat completion request body into a `generateContent` body.
pub(crate) fn translate(req: &Value, config: &Config) -> Result<Map<String, Value>, ErrorBody> {
    let req = ChatRequest::new(req)?;
    req.refuse_logprobs("gemini")?;
    let conversation = contents::convert(req.messages()?)?;

    let mut out = Map::new();
    if !conversation.system.is_empty() {
        let parts: Vec<Value> = conversation
            .system
            .iter()
            .map(|t| json!({ "text": t }))
            .collect();
        out.insert("systemInstruction".into(), json!({ "parts": parts }));
    }
    out.insert("contents".into(), Value::Array(conversation.contents));

    let mut generation = Map::new();
    let numbers = [
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
    ];
    for (from, to) in numbers {
        if let Some(v) = req.number(from)? {
            generation.insert(to.into(), v.clone());
        }
    }
    let integers = [
        ("max_completion_tokens", "maxOutputTokens"),
        ("max_tokens", "maxOutputTokens"),
        ("n", "candidateCount"),
        ("seed", "seed"),
    ];
    for (from, to) in integers {
        if let Some(v) = req.get(from) {
            let ok = if from == "seed" {
                v.is_i64()
            } else {
                v.as_u64().is_some_and(|n| n >= 1)
            };
            if !ok {
                return Err(bad(from, format!("`{from}` must be a positive integer")));
            }
            // `max_completion_tokens` wins over `max_tokens`.
            generation.entry(to).or_insert_with(|| v.clone());
        }
    }
    if let Some(stops) = req.stop()? {
        generation.insert("stopSequences".into(), stops);
    }
    match req.response_format()? {
        None | Some(ResponseFormat::Text) => {}
        Some(ResponseFormat::JsonObject) => {
            generation.insert("responseMimeType".into(), json!("application/json"));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            generation.insert("responseMimeType".into(), json!("application/json"));
            generation.insert("responseSchema".into(), schema.clone());
        }
    }
    if !generation.is_empty() {
        out.insert("generationConfig".into(), Value::Object(generation));
    }

    let tools = req.tools("gemini")?;
    if !tools.is_empty() {
        let declarations: Vec<Value> = tools.iter().map(declaration).collect();
        out.insert(
            "tools".into(),
            json!([{ "functionDeclarations": declarations }]),
        );
        if let Some(choice) = req.tool_choice()? {
            out.insert(
                "toolConfig".into(),
                json!({ "functionCallingConfig": calling_config(choice) }),
            );
        }
    }
    if let Some(settings) = &config.safety_settings {
        out.insert("safetySettings".into(), json!(settings));
    }
    Ok(out)
}

/// Whether `schema` is an object schema without properties (Gemini refuses those).
fn empty_object_schema(schema: &Value) -> bool {
    schema.get("type").and_then(Value::as_str) == Some("object")
        && schema
            .get("properties")
            .and_then(Value::as_object)
            .is_none_or(Map::is_empty)
}

/// An OpenAI function tool as a Gemini function declaration.
fn declaration(tool: &Tool) -> Value {
    let mut d = json!({ "name": tool.name });
    if let Some(desc) = tool.description {
        d["description"] = json!(desc);
    }
    if let Some(p) = tool.parameters.filter(|p| !empty_object_schema(p)) {
        d["parameters"] = p.clone();
    }
    d
}

/// OpenAI `tool_choice` as Gemini's `functionCallingConfig`.
fn calling_config(choice: ToolChoice) -> Value {
    match choice {
        ToolChoice::Auto => json!({ "mode": "AUTO" }),
        ToolChoice::Required => json!({ "mode": "ANY" }),
        ToolChoice::None => json!({ "mode": "NONE" }),
        ToolChoice::Function(name) => json!({ "mode": "ANY", "allowedFunctionNames": [name] }),
    }
}

#[cfg(test)]
mod tests;
