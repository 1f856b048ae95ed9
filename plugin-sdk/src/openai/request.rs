//! Reading an OpenAI chat completion request. Every error is a 400 naming the parameter at fault.

use super::bad;
use crate::ErrorBody;
use serde_json::{Map, Value, json};

/// A chat completion request body: a JSON object whose `null` fields count as absent.
#[derive(Debug, Clone, Copy)]
pub struct ChatRequest<'a>(&'a Map<String, Value>);

impl<'a> ChatRequest<'a> {
    /// Parses request body bytes as JSON (400 when they are not).
    pub fn parse_body(body: &[u8]) -> Result<Value, ErrorBody> {
        serde_json::from_slice(body)
            .map_err(|e| ErrorBody::bad_request(format!("the request body is not valid JSON: {e}")))
    }

    /// The request in `req`, which must be a JSON object.
    pub fn new(req: &'a Value) -> Result<Self, ErrorBody> {
        req.as_object()
            .map(ChatRequest)
            .ok_or_else(|| ErrorBody::bad_request("the request body must be a JSON object"))
    }

    /// The field `key`, unless absent or `null`.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// `messages`, which must be a list.
    pub fn messages(&self) -> Result<&'a [Value], ErrorBody> {
        self.get("messages")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .ok_or_else(|| bad("messages", "`messages` must be a list"))
    }

    /// Refuses `logprobs: true`, which `provider` cannot return.
    pub fn refuse_logprobs(&self, provider: &str) -> Result<(), ErrorBody> {
        if self.get("logprobs").and_then(Value::as_bool) == Some(true) {
            return Err(bad(
                "logprobs",
                format!("the {provider} provider does not return logprobs"),
            ));
        }
        Ok(())
    }

    /// The number field `key`, if present (400 when it is not a number).
    pub fn number(&self, key: &str) -> Result<Option<&'a Value>, ErrorBody> {
        match self.get(key) {
            Some(v) if !v.is_number() => Err(bad(key, format!("`{key}` must be a number"))),
            v => Ok(v),
        }
    }

    /// `stop` (a string or a list of strings) as a list of strings, if present.
    pub fn stop(&self) -> Result<Option<Value>, ErrorBody> {
        let Some(stop) = self.get("stop") else {
            return Ok(None);
        };
        match stop {
            Value::String(s) => Ok(Some(json!([s]))),
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(Some(stop.clone())),
            _ => Err(bad("stop", "`stop` must be a string or a list of strings")),
        }
    }

    /// `tools`, if present; `provider` names the provider in errors.
    pub fn tools(&self, provider: &str) -> Result<Vec<Tool<'a>>, ErrorBody> {
        self.get("tools")
            .map_or_else(|| Ok(Vec::new()), |t| Tool::list(t, provider))
    }

    /// `tool_choice`, if present.
    pub fn tool_choice(&self) -> Result<Option<ToolChoice<'a>>, ErrorBody> {
        self.get("tool_choice").map(ToolChoice::parse).transpose()
    }

    /// `response_format`, if present.
    pub fn response_format(&self) -> Result<Option<ResponseFormat<'a>>, ErrorBody> {
        self.get("response_format")
            .map(ResponseFormat::parse)
            .transpose()
    }
}

/// A message's `content`: a string (absent and `null` read as empty text) or a list of parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Content<'a> {
    /// Plain text.
    Text(&'a str),
    /// Content parts (see [`Part`]).
    Parts(&'a [Value]),
}

impl<'a> Content<'a> {
    /// Reads `content`; `param` names it in errors.
    pub fn parse(content: Option<&'a Value>, param: &str) -> Result<Self, ErrorBody> {
        match content {
            None | Some(Value::Null) => Ok(Content::Text("")),
            Some(Value::String(s)) => Ok(Content::Text(s)),
            Some(Value::Array(parts)) => Ok(Content::Parts(parts)),
            Some(_) => Err(bad(param, "`content` must be a string or a list of parts")),
        }
    }

    /// Text-only content (system, developer and tool messages): the text, or the text parts
    /// joined by newlines; any other part is refused with `not_text`.
    pub fn text_only(
        content: Option<&'a Value>,
        param: &str,
        not_text: &str,
    ) -> Result<String, ErrorBody> {
        match Content::parse(content, param)? {
            Content::Text(s) => Ok(s.to_string()),
            Content::Parts(parts) => {
                let mut texts = Vec::with_capacity(parts.len());
                for part in parts {
                    if part_type(part) != "text" {
                        return Err(bad(param, not_text));
                    }
                    if let Part::Text(t) = Part::parse(part, param)? {
                        texts.push(t);
                    }
                }
                Ok(texts.join("\n"))
            }
        }
    }
}

/// The `type` of a content part (empty when it has none).
fn part_type(part: &Value) -> &str {
    part.get("type").and_then(Value::as_str).unwrap_or("")
}

/// One content part.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Part<'a> {
    /// A `text` part, or a `refusal` part's text.
    Text(&'a str),
    /// An `image_url` part: an http(s) or `data:` URL.
    ImageUrl(&'a str),
    /// An `input_audio` part: base64 `data` and its `format` (`wav`, `mp3`, ...), either absent
    /// when the client left it out.
    InputAudio {
        /// Base64 audio.
        data: Option<&'a str>,
        /// The audio format.
        format: Option<&'a str>,
    },
    /// A `file` part.
    File {
        /// An OpenAI file id, if given.
        file_id: Option<&'a str>,
        /// The file as a data URL, if given.
        file_data: Option<&'a str>,
        /// The file's name, if given.
        filename: Option<&'a str>,
    },
    /// A part of another type (named).
    Other(&'a str),
}

impl<'a> Part<'a> {
    /// Reads one part; `param` names the content in errors.
    pub fn parse(part: &'a Value, param: &str) -> Result<Self, ErrorBody> {
        let kind = part_type(part);
        let s = |v: &'a Value, k: &str| v.get(k).and_then(Value::as_str);
        match kind {
            "text" | "refusal" => {
                let key = if kind == "refusal" { "refusal" } else { "text" };
                s(part, key)
                    .map(Part::Text)
                    .ok_or_else(|| bad(param, format!("a `{kind}` part needs a string `{key}`")))
            }
            "image_url" => {
                let image = part.get("image_url");
                image
                    .and_then(|i| i.get("url"))
                    .or(image)
                    .and_then(Value::as_str)
                    .map(Part::ImageUrl)
                    .ok_or_else(|| bad(param, "an `image_url` part needs `image_url.url`"))
            }
            "input_audio" => {
                let audio = part.get("input_audio").unwrap_or(&Value::Null);
                Ok(Part::InputAudio {
                    data: s(audio, "data"),
                    format: s(audio, "format"),
                })
            }
            "file" => {
                let file = part.get("file").unwrap_or(&Value::Null);
                Ok(Part::File {
                    file_id: file
                        .get("file_id")
                        .filter(|v| !v.is_null())
                        .map(|v| v.as_str().unwrap_or("")),
                    file_data: s(file, "file_data"),
                    filename: s(file, "filename"),
                })
            }
            other => Ok(Part::Other(other)),
        }
    }

    /// Whether this is a `refusal` part's text (only for parts read from `part`).
    pub fn is_refusal(part: &Value) -> bool {
        part_type(part) == "refusal"
    }
}

/// A function tool from `tools`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tool<'a> {
    /// `function.name`.
    pub name: &'a str,
    /// `function.description`, if given.
    pub description: Option<&'a str>,
    /// `function.parameters` (a JSON Schema), unless absent or `null`.
    pub parameters: Option<&'a Value>,
}

impl<'a> Tool<'a> {
    /// Reads `tools`: function tools only; `provider` names the provider in errors.
    pub fn list(tools: &'a Value, provider: &str) -> Result<Vec<Self>, ErrorBody> {
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
                    format!("the {provider} provider takes function tools, not `{kind}`"),
                ));
            }
            let function = tool.get("function").unwrap_or(&Value::Null);
            let name = function
                .get("name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&param, "a tool needs `function.name`"))?;
            out.push(Tool {
                name,
                description: function.get("description").and_then(Value::as_str),
                parameters: function.get("parameters").filter(|p| !p.is_null()),
            });
        }
        Ok(out)
    }
}

/// `tool_choice`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolChoice<'a> {
    /// `"auto"`: the model decides.
    Auto,
    /// `"required"`: the model must call a tool.
    Required,
    /// `"none"`: the model must not call a tool.
    None,
    /// `{"type": "function", "function": {"name"}}`: the model must call this one.
    Function(&'a str),
}

impl<'a> ToolChoice<'a> {
    /// Reads `tool_choice`.
    pub fn parse(choice: &'a Value) -> Result<Self, ErrorBody> {
        match choice {
            Value::String(s) => match s.as_str() {
                "auto" => Ok(ToolChoice::Auto),
                "required" => Ok(ToolChoice::Required),
                "none" => Ok(ToolChoice::None),
                other => Err(bad(
                    "tool_choice",
                    format!("unknown `tool_choice` `{other}`"),
                )),
            },
            v => v
                .pointer("/function/name")
                .and_then(Value::as_str)
                .map(ToolChoice::Function)
                .ok_or_else(|| bad("tool_choice", "`tool_choice` must name `function.name`")),
        }
    }
}

/// A tool call from an assistant message's `tool_calls`.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall<'a> {
    /// The call's `id`, if given.
    pub id: Option<&'a str>,
    /// `function.name`.
    pub name: &'a str,
    /// `function.arguments`, parsed: always a JSON object (`{}` for empty arguments).
    pub arguments: Value,
}

impl<'a> ToolCall<'a> {
    /// Reads `message.tool_calls` (none when absent); `param` names the message. With
    /// `require_id`, a call without a string `id` is refused.
    pub fn list(message: &'a Value, param: &str, require_id: bool) -> Result<Vec<Self>, ErrorBody> {
        let calls = match message.get("tool_calls") {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(calls)) => calls,
            Some(_) => return Err(bad(param, "`tool_calls` must be a list")),
        };
        let mut out = Vec::with_capacity(calls.len());
        for (j, call) in calls.iter().enumerate() {
            let param = format!("{param}.tool_calls[{j}]");
            let id = call.get("id").and_then(Value::as_str);
            if require_id && id.is_none() {
                return Err(bad(&param, "a tool call needs a string `id`"));
            }
            let name = call
                .pointer("/function/name")
                .and_then(Value::as_str)
                .ok_or_else(|| bad(&param, "a tool call needs `function.name`"))?;
            let raw = call
                .pointer("/function/arguments")
                .and_then(Value::as_str)
                .unwrap_or("");
            let what = match id {
                Some(id) => format!("`function.arguments` of tool call `{id}`"),
                None => "`function.arguments`".to_string(),
            };
            let arguments: Value = if raw.trim().is_empty() {
                json!({})
            } else {
                serde_json::from_str(raw)
                    .map_err(|e| bad(&param, format!("{what} is not valid JSON: {e}")))?
            };
            if !arguments.is_object() {
                return Err(bad(&param, format!("{what} must be a JSON object")));
            }
            out.push(ToolCall {
                id,
                name,
                arguments,
            });
        }
        Ok(out)
    }
}

/// `response_format`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ResponseFormat<'a> {
    /// `{"type": "text"}`.
    Text,
    /// `{"type": "json_object"}`: any JSON object.
    JsonObject,
    /// `{"type": "json_schema", "json_schema": {"name", "schema"}}`.
    JsonSchema {
        /// `json_schema.name` (`response` when absent).
        name: &'a str,
        /// `json_schema.schema`.
        schema: &'a Value,
    },
}

impl<'a> ResponseFormat<'a> {
    /// Reads `response_format`.
    pub fn parse(format: &'a Value) -> Result<Self, ErrorBody> {
        match format.get("type").and_then(Value::as_str) {
            Some("text") => Ok(ResponseFormat::Text),
            Some("json_object") => Ok(ResponseFormat::JsonObject),
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
                Ok(ResponseFormat::JsonSchema { name, schema })
            }
            _ => Err(bad(
                "response_format",
                "`response_format.type` must be `text`, `json_object` or `json_schema`",
            )),
        }
    }
}

#[cfg(test)]
mod tests;
