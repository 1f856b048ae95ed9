//! The request: OpenAI chat completions to `generateContent` / `streamGenerateContent`, and the
//! dispatch of embeddings.

use crate::contents::{self, bad};
use crate::{Config, embeddings, model_id};
use serde_json::{Map, Value, json};
use sluice_plugin_sdk::{ErrorBody, Provider, RequestCtx, UpstreamRequest};

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
    let parse = || -> Result<Value, ErrorBody> {
        serde_json::from_slice(body)
            .map_err(|e| ErrorBody::bad_request(format!("the request body is not valid JSON: {e}")))
    };
    match ctx.endpoint.as_str() {
        "chat.completions" => {
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
        "embeddings" => {
            let (call, pending) = embeddings::upstream_request(provider, &parse()?)?;
            embeddings::remember(pending);
            Ok(call)
        }
        other => Err(ErrorBody::new(
            400,
            "invalid_request_error",
            Some("unsupported_endpoint"),
            format!(
                "the endpoint `{other}` is not supported by the gemini provider `{}`",
                provider.name
            ),
        )),
    }
}

/// Translates an OpenAI chat completion request body into a `generateContent` body.
pub(crate) fn translate(req: &Value, config: &Config) -> Result<Map<String, Value>, ErrorBody> {
    let req = req
        .as_object()
        .ok_or_else(|| ErrorBody::bad_request("the request body must be a JSON object"))?;
    let present = |k: &str| req.get(k).filter(|v| !v.is_null());
    if present("logprobs").and_then(Value::as_bool) == Some(true) {
        return Err(bad(
            "logprobs",
            "the gemini provider does not return logprobs",
        ));
    }
    let list = present("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("messages", "`messages` must be a list"))?;
    let conversation = contents::convert(list)?;

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
        if let Some(v) = present(from) {
            if !v.is_number() {
                return Err(bad(from, format!("`{from}` must be a number")));
            }
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
        if let Some(v) = present(from) {
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
    if let Some(stop) = present("stop") {
        let stops = match stop {
            Value::String(s) => json!([s]),
            Value::Array(items) if items.iter().all(Value::is_string) => stop.clone(),
            _ => return Err(bad("stop", "`stop` must be a string or a list of strings")),
        };
        generation.insert("stopSequences".into(), stops);
    }
    if let Some(format) = present("response_format") {
        match format.get("type").and_then(Value::as_str) {
            Some("text") => {}
            Some("json_object") => {
                generation.insert("responseMimeType".into(), json!("application/json"));
            }
            Some("json_schema") => {
                let schema = format.pointer("/json_schema/schema").ok_or_else(|| {
                    bad(
                        "response_format",
                        "`response_format.json_schema.schema` is required",
                    )
                })?;
                generation.insert("responseMimeType".into(), json!("application/json"));
                generation.insert("responseSchema".into(), schema.clone());
            }
            _ => {
                return Err(bad(
                    "response_format",
                    "`response_format.type` must be `text`, `json_object` or `json_schema`",
                ));
            }
        }
    }
    if !generation.is_empty() {
        out.insert("generationConfig".into(), Value::Object(generation));
    }

    let declarations = match present("tools") {
        Some(t) => function_declarations(t)?,
        None => Vec::new(),
    };
    if !declarations.is_empty() {
        out.insert(
            "tools".into(),
            json!([{ "functionDeclarations": declarations }]),
        );
        if let Some(choice) = present("tool_choice") {
            out.insert(
                "toolConfig".into(),
                json!({ "functionCallingConfig": calling_config(choice)? }),
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

/// OpenAI `tools` as Gemini function declarations.
fn function_declarations(tools: &Value) -> Result<Vec<Value>, ErrorBody> {
    let list = tools
        .as_array()
        .ok_or_else(|| bad("tools", "`tools` must be a list"))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, tool) in list.iter().enumerate() {
        let param = format!("tools[{i}]");
        let kind = tool
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("function");
        if kind != "function" {
            return Err(bad(
                &param,
                format!("the gemini provider takes function tools, not `{kind}`"),
            ));
        }
        let function = tool.get("function").unwrap_or(&Value::Null);
        let name = function
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&param, "a tool needs `function.name`"))?;
        let mut d = json!({ "name": name });
        if let Some(desc) = function.get("description").and_then(Value::as_str) {
            d["description"] = json!(desc);
        }
        if let Some(p) = function
            .get("parameters")
            .filter(|p| !p.is_null() && !empty_object_schema(p))
        {
            d["parameters"] = p.clone();
        }
        out.push(d);
    }
    Ok(out)
}

/// OpenAI `tool_choice` as Gemini's `functionCallingConfig`.
fn calling_config(choice: &Value) -> Result<Value, ErrorBody> {
    match choice {
        Value::String(s) => match s.as_str() {
            "auto" => Ok(json!({ "mode": "AUTO" })),
            "required" => Ok(json!({ "mode": "ANY" })),
            "none" => Ok(json!({ "mode": "NONE" })),
            other => Err(bad(
                "tool_choice",
                format!("unknown `tool_choice` `{other}`"),
            )),
        },
        v => {
            let name = v
                .pointer("/function/name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("tool_choice", "`tool_choice` must name `function.name`"))?;
            Ok(json!({ "mode": "ANY", "allowedFunctionNames": [name] }))
        }
    }
}

#[cfg(test)]
mod tests;
