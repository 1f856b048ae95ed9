//! The request: an OpenAI chat completion request to a Messages API call.

use crate::Config;
use crate::messages;
use serde_json::{Map, Value, json};
use sluice_plugin_sdk::openai::{
    ChatRequest, ResponseFormat, Tool, ToolChoice, bad, unsupported_endpoint,
};
use sluice_plugin_sdk::{Endpoint, ErrorBody, Provider, RequestCtx, UpstreamRequest};

/// The upstream call for a client request: `POST {base_url}/messages`.
pub(crate) fn upstream_request(
    ctx: &RequestCtx,
    provider: &Provider,
    body: &[u8],
    config: &Config,
) -> Result<UpstreamRequest, ErrorBody> {
    if ctx.endpoint != Endpoint::ChatCompletions {
        return Err(unsupported_endpoint(
            ctx.endpoint.as_str(),
            "anthropic",
            &provider.name,
        ));
    }
    let req = ChatRequest::parse_body(body)?;
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
    let req = ChatRequest::new(req)?;
    if req.get("n").is_some_and(|n| n.as_u64() != Some(1)) {
        return Err(bad(
            "n",
            "the anthropic provider answers one choice: `n` must be 1",
        ));
    }
    req.refuse_logprobs("anthropic")?;
    let conversation = messages::convert(req.messages()?)?;

    let mut out = Map::new();
    if let Some(model) = req.get("model") {
        out.insert("model".into(), model.clone());
    }
    let mut system = conversation.system;
    if let Some(format) = req.response_format()? {
        system.extend(json_instruction(format));
    }
    if !system.is_empty() {
        out.insert("system".into(), json!(system.join("\n\n")));
    }
    out.insert("messages".into(), Value::Array(conversation.messages));
    let max_tokens = match req
        .get("max_completion_tokens")
        .or_else(|| req.get("max_tokens"))
    {
        Some(v) => v
            .as_u64()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("max_tokens", "`max_tokens` must be a positive integer"))?,
        None => u64::from(config.default_max_tokens),
    };
    out.insert("max_tokens".into(), json!(max_tokens));
    for key in ["temperature", "top_p"] {
        if let Some(v) = req.number(key)? {
            out.insert(key.into(), v.clone());
        }
    }
    if let Some(stop) = req.stop()? {
        out.insert("stop_sequences".into(), stop);
    }
    let tools = req.tools("anthropic")?;
    if !tools.is_empty() {
        let parallel = req.get("parallel_tool_calls").and_then(Value::as_bool);
        if let Some(choice) = tool_choice(req.tool_choice()?, parallel) {
            out.insert("tool_choice".into(), choice);
        }
        out.insert("tools".into(), tools.iter().map(tool).collect());
    }
    if let Some(user) = req.get("user").and_then(Value::as_str) {
        out.insert("metadata".into(), json!({ "user_id": user }));
    }
    if req.get("stream").and_then(Value::as_bool) == Some(true) {
        out.insert("stream".into(), json!(true));
    }
    Ok(out)
}

/// An OpenAI function tool as an Anthropic tool (`name`, `description`, `input_schema`).
fn tool(t: &Tool) -> Value {
    let schema = t
        .parameters
        .cloned()
        .unwrap_or_else(|| json!({ "type": "object", "properties": {} }));
    let mut out = json!({ "name": t.name, "input_schema": schema });
    if let Some(d) = t.description {
        out["description"] = json!(d);
    }
    out
}

/// OpenAI `tool_choice` (and `parallel_tool_calls`) as Anthropic's `tool_choice`.
fn tool_choice(choice: Option<ToolChoice>, parallel: Option<bool>) -> Option<Value> {
    let mut out = match choice {
        None | Some(ToolChoice::Auto) => json!({ "type": "auto" }),
        Some(ToolChoice::Required) => json!({ "type": "any" }),
        Some(ToolChoice::None) => json!({ "type": "none" }),
        Some(ToolChoice::Function(name)) => json!({ "type": "tool", "name": name }),
    };
    if parallel == Some(false) && out["type"] != "none" {
        out["disable_parallel_tool_use"] = json!(true);
    } else if choice.is_none() {
        // Anthropic's default is `auto` already: send nothing.
        return None;
    }
    Some(out)
}

/// The system-prompt instruction standing in for a JSON `response_format` (Anthropic has no
/// JSON mode): none for `text`.
fn json_instruction(format: ResponseFormat) -> Option<String> {
    const PLAIN: &str = "Answer with JSON only: no prose before or after it and no Markdown code \
                         fences.";
    match format {
        ResponseFormat::Text => None,
        ResponseFormat::JsonObject => {
            Some(format!("Respond with a single valid JSON object. {PLAIN}"))
        }
        ResponseFormat::JsonSchema { name, schema } => Some(format!(
            "Respond with a single valid JSON value that conforms to the JSON Schema named \
             `{name}` below. {PLAIN}\n\n{schema}"
        )),
    }
}

#[cfg(test)]
mod tests;
