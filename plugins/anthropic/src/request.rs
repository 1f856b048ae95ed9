//! The request: an OpenAI chat completion request to a Messages API call.

use crate::Config;
use crate::content::bad;
use crate::messages;
use serde_json::{Map, Value, json};
use sluice_plugin_sdk::{ErrorBody, Provider, RequestCtx, UpstreamRequest};

/// The upstream call for a client request: `POST {base_url}/messages`.
pub(crate) fn upstream_request(
    ctx: &RequestCtx,
    provider: &Provider,
    body: &[u8],
    config: &Config,
) -> Result<UpstreamRequest, ErrorBody> {
    if ctx.endpoint != "chat.completions" {
        return Err(ErrorBody::new(
            400,
            "invalid_request_error",
            Some("unsupported_endpoint"),
            format!(
                "the endpoint `{}` is not supported by the anthropic provider `{}`",
                ctx.endpoint, provider.name
            ),
        ));
    }
    let req: Value = serde_json::from_slice(body)
        .map_err(|e| ErrorBody::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let mut out = translate(&req, config)?;
    out.insert("model".into(), json!(provider.upstream_model));
    if ctx.stream {
        out.insert("stream".into(), json!(true));
    } else {
        out.remove("stream");
    }
    let mut headers = vec![
        ("content-type".to_string(), "application/json".to_string()),
        (
            "anthropic-version".to_string(),
            config.anthropic_version.clone(),
        ),
    ];
    if let Some(key) = provider.api_key.as_deref().filter(|k| !k.is_empty()) {
        headers.push(("x-api-key".to_string(), key.to_string()));
    }
    Ok(UpstreamRequest {
        method: "POST".into(),
        path: "/messages".into(),
        headers,
        body: Some(Value::Object(out).to_string().into_bytes()),
        stream: ctx.stream,
    })
}

/// Translates an OpenAI chat completion request body into a Messages API body.
pub(crate) fn translate(req: &Value, config: &Config) -> Result<Map<String, Value>, ErrorBody> {
    let req = req
        .as_object()
        .ok_or_else(|| ErrorBody::bad_request("the request body must be a JSON object"))?;
    let present = |k: &str| req.get(k).filter(|v| !v.is_null());
    if present("n").is_some_and(|n| n.as_u64() != Some(1)) {
        return Err(bad(
            "n",
            "the anthropic provider answers one choice: `n` must be 1",
        ));
    }
    if present("logprobs").and_then(Value::as_bool) == Some(true) {
        return Err(bad(
            "logprobs",
            "the anthropic provider does not return logprobs",
        ));
    }
    let list = present("messages")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("messages", "`messages` must be a list"))?;
    let conversation = messages::convert(list)?;

    let mut out = Map::new();
    if let Some(model) = present("model") {
        out.insert("model".into(), model.clone());
    }
    let mut system = conversation.system;
    if let Some(format) = present("response_format") {
        system.extend(json_instruction(format)?);
    }
    if !system.is_empty() {
        out.insert("system".into(), json!(system.join("\n\n")));
    }
    out.insert("messages".into(), Value::Array(conversation.messages));
    let max_tokens = match present("max_completion_tokens").or_else(|| present("max_tokens")) {
        Some(v) => v
            .as_u64()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("max_tokens", "`max_tokens` must be a positive integer"))?,
        None => u64::from(config.default_max_tokens),
    };
    out.insert("max_tokens".into(), json!(max_tokens));
    for (from, to) in [("temperature", "temperature"), ("top_p", "top_p")] {
        if let Some(v) = present(from) {
            if !v.is_number() {
                return Err(bad(from, format!("`{from}` must be a number")));
            }
            out.insert(to.into(), v.clone());
        }
    }
    if let Some(stop) = present("stop") {
        out.insert("stop_sequences".into(), stop_sequences(stop)?);
    }
    let tools = match present("tools") {
        Some(t) => tools(t)?,
        None => Vec::new(),
    };
    if !tools.is_empty() {
        let parallel = present("parallel_tool_calls").and_then(Value::as_bool);
        if let Some(choice) = tool_choice(present("tool_choice"), parallel)? {
            out.insert("tool_choice".into(), choice);
        }
        out.insert("tools".into(), Value::Array(tools));
    }
    if let Some(user) = present("user").and_then(Value::as_str) {
        out.insert("metadata".into(), json!({ "user_id": user }));
    }
    if present("stream").and_then(Value::as_bool) == Some(true) {
        out.insert("stream".into(), json!(true));
    }
    Ok(out)
}

/// `stop` (a string or a list of strings) as `stop_sequences`.
fn stop_sequences(stop: &Value) -> Result<Value, ErrorBody> {
    let err = || bad("stop", "`stop` must be a string or a list of strings");
    match stop {
        Value::String(s) => Ok(json!([s])),
        Value::Array(items) if items.iter().all(Value::is_string) => Ok(stop.clone()),
        _ => Err(err()),
    }
}

/// OpenAI `tools` as Anthropic tools (`name`, `description`, `input_schema`).
fn tools(tools: &Value) -> Result<Vec<Value>, ErrorBody> {
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
                format!("the anthropic provider takes function tools, not `{kind}`"),
            ));
        }
        let function = tool.get("function").unwrap_or(&Value::Null);
        let name = function
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&param, "a tool needs `function.name`"))?;
        let schema = match function.get("parameters") {
            None | Some(Value::Null) => json!({ "type": "object", "properties": {} }),
            Some(p) => p.clone(),
        };
        let mut t = json!({ "name": name, "input_schema": schema });
        if let Some(d) = function.get("description").and_then(Value::as_str) {
            t["description"] = json!(d);
        }
        out.push(t);
    }
    Ok(out)
}

/// OpenAI `tool_choice` (and `parallel_tool_calls`) as Anthropic's `tool_choice`.
fn tool_choice(choice: Option<&Value>, parallel: Option<bool>) -> Result<Option<Value>, ErrorBody> {
    let mut out = match choice {
        None => json!({ "type": "auto" }),
        Some(Value::String(s)) => match s.as_str() {
            "auto" => json!({ "type": "auto" }),
            "required" => json!({ "type": "any" }),
            "none" => json!({ "type": "none" }),
            other => {
                return Err(bad(
                    "tool_choice",
                    format!("unknown `tool_choice` `{other}`"),
                ));
            }
        },
        Some(v) => {
            let name = v
                .pointer("/function/name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("tool_choice", "`tool_choice` must name `function.name`"))?;
            json!({ "type": "tool", "name": name })
        }
    };
    if parallel == Some(false) && out["type"] != "none" {
        out["disable_parallel_tool_use"] = json!(true);
    } else if choice.is_none() {
        // Anthropic's default is `auto` already: send nothing.
        return Ok(None);
    }
    Ok(Some(out))
}

/// The system-prompt instruction standing in for a JSON `response_format` (Anthropic has no
/// JSON mode): none for `text`.
fn json_instruction(format: &Value) -> Result<Option<String>, ErrorBody> {
    const PLAIN: &str = "Answer with JSON only: no prose before or after it and no Markdown code \
                         fences.";
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(format!(
            "Respond with a single valid JSON object. {PLAIN}"
        ))),
        Some("json_schema") => {
            let spec = format.get("json_schema").unwrap_or(&Value::Null);
            let schema = spec.get("schema").ok_or_else(|| {
                bad(
                    "response_format",
                    "`response_format.json_schema.schema` is required",
                )
            })?;
            let name = spec
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("response");
            Ok(Some(format!(
                "Respond with a single valid JSON value that conforms to the JSON Schema named \
                 `{name}` below. {PLAIN}\n\n{schema}"
            )))
        }
        _ => Err(bad(
            "response_format",
            "`response_format.type` must be `text`, `json_object` or `json_schema`",
        )),
    }
}

#[cfg(test)]
mod tests;
