//! JSON-RPC 2.0 as MCP uses it: what kind of message a POST carries, the parts of it the policy
//! stage sees, and the answers the gateway writes itself.

use crate::error::ApiError;
use crate::pipeline::bindings::mcp_types::McpError;
use serde_json::{Value, json};

/// What a client's message is.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A request: it gets an answer.
    Request {
        /// Its id.
        id: Value,
        /// Its method.
        method: String,
    },
    /// A notification: no answer.
    Notification,
    /// The client's answer to a server request.
    Response,
}

/// Classifies one message. A batch (array) is refused: the revisions the gateway speaks send one
/// message per POST.
pub fn classify(msg: &Value) -> Result<Kind, ApiError> {
    let invalid = |why: &str| {
        ApiError::bad_request(format!("The body is not a JSON-RPC 2.0 message: {why}."))
            .code("invalid_jsonrpc")
    };
    let Some(obj) = msg.as_object() else {
        return Err(if msg.is_array() {
            invalid("a POST carries one message, not a batch")
        } else {
            invalid("expected an object")
        });
    };
    if obj.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return Err(invalid("`jsonrpc` must be \"2.0\""));
    }
    match (obj.get("method"), obj.get("id")) {
        (Some(Value::String(m)), Some(id @ (Value::String(_) | Value::Number(_)))) => {
            Ok(Kind::Request {
                id: id.clone(),
                method: m.clone(),
            })
        }
        (Some(Value::String(_)), None) => Ok(Kind::Notification),
        (Some(_), _) => Err(invalid(
            "`method` must be a string and `id` a string or number",
        )),
        (None, Some(_)) if obj.contains_key("result") || obj.contains_key("error") => {
            Ok(Kind::Response)
        }
        (None, _) => Err(invalid("neither a request, a notification nor a response")),
    }
}

/// What a request is about, for policies and usage: a tool's or prompt's name, a resource's URI.
pub fn target(method: &str, params: &Value) -> Option<String> {
    let field = match method {
        "tools/call" | "prompts/get" => "name",
        "resources/read" | "resources/subscribe" | "resources/unsubscribe" => "uri",
        _ => return None,
    };
    params
        .get(field)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Removes the gateway's `_meta.user_id` from `params` (servers never see it) and returns it.
pub fn take_user_id(params: &mut Value) -> Option<String> {
    let meta = params.get_mut("_meta")?.as_object_mut()?;
    let user = meta.remove("user_id")?;
    if meta.is_empty()
        && let Some(p) = params.as_object_mut()
    {
        p.remove("_meta");
    }
    user.as_str().map(str::to_string)
}

/// An error answer to request `id`.
pub fn error_answer(id: &Value, e: &McpError) -> Value {
    let mut error = json!({"code": e.code, "message": e.message});
    if let Some(data) = &e.data {
        error["data"] = serde_json::from_str(data).unwrap_or_else(|_| Value::String(data.clone()));
    }
    json!({"jsonrpc": "2.0", "id": id, "error": error})
}

/// A result answer to request `id`; `result` is JSON text (a plugin's), an error if it is not.
pub fn result_answer(id: &Value, result: &str) -> Value {
    match serde_json::from_str::<Value>(result) {
        Ok(r) => json!({"jsonrpc": "2.0", "id": id, "result": r}),
        Err(_) => error_answer(
            id,
            &McpError {
                code: -32603,
                message: "A gateway policy plugin answered with a result that is not JSON.".into(),
                data: None,
            },
        ),
    }
}

/// Whether `msg` is the answer to request `id`.
pub fn answers(msg: &Value, id: &Value) -> bool {
    msg.get("method").is_none() && msg.get("id") == Some(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_requests_notifications_and_responses() {
        let r = classify(&json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"}));
        assert_eq!(
            r.ok(),
            Some(Kind::Request {
                id: json!(7),
                method: "tools/list".into()
            })
        );
        let n = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        assert_eq!(classify(&n).ok(), Some(Kind::Notification));
        let a = json!({"jsonrpc": "2.0", "id": "s1", "result": {}});
        assert_eq!(classify(&a).ok(), Some(Kind::Response));
        for bad in [
            json!([{"jsonrpc": "2.0", "id": 1, "method": "ping"}]),
            json!({"id": 1, "method": "ping"}),
            json!({"jsonrpc": "2.0", "id": null, "method": "ping"}),
            json!({"jsonrpc": "2.0", "id": 1}),
            json!("ping"),
        ] {
            assert!(classify(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_id_is_taken_out_of_meta() {
        let mut p = json!({"name": "echo", "_meta": {"user_id": "u1"}});
        assert_eq!(take_user_id(&mut p).as_deref(), Some("u1"));
        assert_eq!(p, json!({"name": "echo"}));
        let mut keep = json!({"_meta": {"user_id": "u2", "progressToken": 3}});
        assert_eq!(take_user_id(&mut keep).as_deref(), Some("u2"));
        assert_eq!(keep, json!({"_meta": {"progressToken": 3}}));
    }

    #[test]
    fn answers_carry_the_request_id() {
        let e = McpError {
            code: -32003,
            message: "no".into(),
            data: Some(r#"{"retry_after":3}"#.into()),
        };
        let a = error_answer(&json!("x"), &e);
        assert_eq!(a["id"], "x");
        assert_eq!(a["error"]["data"]["retry_after"], 3);
        assert!(answers(&a, &json!("x")));
        assert!(!answers(&a, &json!(1)));
        assert_eq!(result_answer(&json!(1), "{bad")["error"]["code"], -32603);
    }
}
