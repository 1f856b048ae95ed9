//! The request: a Messages request to a chat completion request.
//!
//! | Messages                                  | chat completion                               |
//! |-------------------------------------------|-----------------------------------------------|
//! | `model`, `max_tokens`, `temperature`, `top_p` | the same                                  |
//! | `system`, `messages`                      | `messages` (see the `content` module)         |
//! | `tools` (custom tools)                    | function `tools` (`parameters` = `input_schema`, `strict` kept) |
//! | `tool_choice` `auto`/`any`/`tool`/`none`  | `"auto"`/`"required"`/`{"type":"function",...}`/`"none"` |
//! | `tool_choice.disable_parallel_tool_use`   | `parallel_tool_calls: false`                  |
//! | `stop_sequences` (at most 4)              | `stop`                                        |
//! | `stream: true`                            | `stream: true`, `stream_options.include_usage` |
//! | `metadata.user_id`                        | `user`                                        |
//! | `output_config.format` (JSON schema)      | `response_format` `json_schema`               |
//!
//! Refused (400 naming the field): `top_k`, `thinking` of type `enabled` (or any type but
//! `disabled` and `adaptive`), server tools, `container`, non-empty `mcp_servers`, more than 4
//! stop sequences. Ignored: `service_tier`, `output_config.effort`, `cache_control`, and any
//! field not named here.

use super::content;
use super::shape::{array, get, object, opt_bool, opt_number, opt_str, string};
use crate::Invalid;
use serde_json::{Map, Value, json};

/// Which parts of the request to translate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// A request to run: everything, `max_tokens` required.
    Run,
    /// A request to count tokens of: the model, conversation and tools only.
    Count,
}

/// The chat completion request for the Messages request `body`.
pub(super) fn to_chat(body: &Value, mode: Mode) -> Result<Map<String, Value>, Invalid> {
    let body = body
        .as_object()
        .ok_or_else(|| Invalid::body("the request body must be a JSON object"))?;
    let mut out = Map::new();
    match get(body, "model") {
        Some(m) => out.insert("model".into(), json!(string(m, "model")?)),
        None => return Err(Invalid::field("model", "`model` is required")),
    };
    out.insert("messages".into(), Value::Array(content::convert(body)?));
    if let Some(tools) = get(body, "tools") {
        let tools = array(tools, "tools")?
            .iter()
            .enumerate()
            .map(|(i, t)| tool(t, &format!("tools[{i}]")))
            .collect::<Result<Vec<_>, _>>()?;
        if !tools.is_empty() {
            out.insert("tools".into(), Value::Array(tools));
        }
    }
    if let Some(choice) = get(body, "tool_choice") {
        tool_choice(choice, &mut out)?;
    }
    if mode == Mode::Count {
        return Ok(out);
    }
    match get(body, "max_tokens") {
        Some(v) => match v.as_u64().filter(|n| *n >= 1) {
            Some(n) => out.insert("max_tokens".into(), json!(n)),
            None => {
                return Err(Invalid::field(
                    "max_tokens",
                    "`max_tokens` must be a positive integer",
                ));
            }
        },
        None => {
            return Err(Invalid::field(
                "max_tokens",
                "`max_tokens` is required by the Messages API",
            ));
        }
    };
    for key in ["temperature", "top_p"] {
        if let Some(v) = opt_number(body, key)? {
            out.insert(key.into(), v.clone());
        }
    }
    refusals(body)?;
    if let Some(stop) = stop_sequences(body)? {
        out.insert("stop".into(), stop);
    }
    if opt_bool(body, "stream", "stream")? == Some(true) {
        out.insert("stream".into(), json!(true));
        out.insert("stream_options".into(), json!({ "include_usage": true }));
    }
    if let Some(meta) = get(body, "metadata") {
        let meta = object(meta, "metadata")?;
        if let Some(user) = opt_str(meta, "user_id", "metadata.user_id")? {
            out.insert("user".into(), json!(user));
        }
    }
    if let Some(config) = get(body, "output_config") {
        output_config(object(config, "output_config")?, &mut out)?;
    }
    Ok(out)
}

/// Refuses the fields whose meaning the translation cannot keep.
fn refusals(body: &Map<String, Value>) -> Result<(), Invalid> {
    if get(body, "top_k").is_some() {
        return Err(Invalid::field(
            "top_k",
            "`top_k` has no equivalent at this provider (it is not Anthropic's); remove it or \
             use an Anthropic provider",
        ));
    }
    if let Some(thinking) = get(body, "thinking") {
        let thinking = object(thinking, "thinking")?;
        let kind = opt_str(thinking, "type", "thinking.type")?;
        if !matches!(kind, Some("disabled" | "adaptive")) {
            return Err(Invalid::field(
                "thinking",
                "this provider does not take Anthropic's extended thinking; remove `thinking` \
                 or use an Anthropic provider",
            ));
        }
    }
    if get(body, "container").is_some() {
        return Err(Invalid::field(
            "container",
            "containers are Anthropic's own; use an Anthropic provider",
        ));
    }
    if let Some(servers) = get(body, "mcp_servers")
        && !array(servers, "mcp_servers")?.is_empty()
    {
        return Err(Invalid::field(
            "mcp_servers",
            "MCP servers called by the provider are Anthropic's own; use an Anthropic provider",
        ));
    }
    Ok(())
}

/// `stop_sequences` as `stop` (none when empty).
fn stop_sequences(body: &Map<String, Value>) -> Result<Option<Value>, Invalid> {
    let Some(stop) = get(body, "stop_sequences") else {
        return Ok(None);
    };
    let stop = array(stop, "stop_sequences")?;
    for (i, s) in stop.iter().enumerate() {
        string(s, &format!("stop_sequences[{i}]"))?;
    }
    if stop.len() > 4 {
        return Err(Invalid::field(
            "stop_sequences",
            "this provider takes at most 4 stop sequences",
        ));
    }
    Ok((!stop.is_empty()).then(|| Value::Array(stop.clone())))
}

/// A custom tool as a function tool; server tools are refused.
fn tool(t: &Value, path: &str) -> Result<Value, Invalid> {
    let t = object(t, path)?;
    let kind = opt_str(t, "type", &format!("{path}.type"))?;
    if !matches!(kind, None | Some("custom")) {
        return Err(Invalid::field(
            path,
            format!(
                "`{}` is an Anthropic server tool, which this provider does not run; use an \
                 Anthropic provider or a custom tool",
                kind.unwrap_or_default()
            ),
        ));
    }
    let name = match get(t, "name") {
        Some(n) => string(n, &format!("{path}.name"))?,
        None => return Err(Invalid::field(format!("{path}.name"), "`name` is required")),
    };
    let schema = match get(t, "input_schema") {
        Some(s) => object(s, &format!("{path}.input_schema"))?,
        None => {
            return Err(Invalid::field(
                format!("{path}.input_schema"),
                "`input_schema` is required",
            ));
        }
    };
    let mut function = json!({ "name": name, "parameters": schema });
    if let Some(d) = opt_str(t, "description", &format!("{path}.description"))? {
        function["description"] = json!(d);
    }
    if let Some(strict) = opt_bool(t, "strict", &format!("{path}.strict"))? {
        function["strict"] = json!(strict);
    }
    Ok(json!({ "type": "function", "function": function }))
}

/// `tool_choice` as `tool_choice` (and `parallel_tool_calls`).
fn tool_choice(choice: &Value, out: &mut Map<String, Value>) -> Result<(), Invalid> {
    let choice = object(choice, "tool_choice")?;
    let kind = match get(choice, "type") {
        Some(k) => string(k, "tool_choice.type")?,
        None => {
            return Err(Invalid::field(
                "tool_choice.type",
                "`tool_choice.type` is required",
            ));
        }
    };
    let mapped = match kind {
        "auto" => json!("auto"),
        "any" => json!("required"),
        "none" => json!("none"),
        "tool" => match get(choice, "name") {
            Some(n) => json!({ "type": "function", "function": {
                "name": string(n, "tool_choice.name")?,
            }}),
            None => {
                return Err(Invalid::field(
                    "tool_choice.name",
                    "`tool_choice.name` is required for type `tool`",
                ));
            }
        },
        _ => {
            return Err(Invalid::field(
                "tool_choice.type",
                "`tool_choice.type` must be `auto`, `any`, `tool` or `none`",
            ));
        }
    };
    out.insert("tool_choice".into(), mapped);
    let parallel = opt_bool(
        choice,
        "disable_parallel_tool_use",
        "tool_choice.disable_parallel_tool_use",
    )?;
    if parallel == Some(true) && kind != "none" {
        out.insert("parallel_tool_calls".into(), json!(false));
    }
    Ok(())
}

/// `output_config`: a JSON schema `format` becomes `response_format`; `effort` is ignored.
fn output_config(config: &Map<String, Value>, out: &mut Map<String, Value>) -> Result<(), Invalid> {
    let Some(format) = get(config, "format") else {
        return Ok(());
    };
    let format = object(format, "output_config.format")?;
    match opt_str(format, "type", "output_config.format.type")? {
        Some("json_schema") => {}
        _ => {
            return Err(Invalid::field(
                "output_config.format.type",
                "`output_config.format.type` must be `json_schema`",
            ));
        }
    }
    let schema = match get(format, "schema") {
        Some(s) => object(s, "output_config.format.schema")?,
        None => {
            return Err(Invalid::field(
                "output_config.format.schema",
                "`schema` is required",
            ));
        }
    };
    out.insert(
        "response_format".into(),
        json!({ "type": "json_schema", "json_schema": {
            "name": "output", "schema": schema, "strict": true,
        }}),
    );
    Ok(())
}
