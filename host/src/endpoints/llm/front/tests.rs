//! Unit tests of the front doors' shared pieces: the pipeline's view of refused fields and the
//! Anthropic-shaped errors.

use super::*;
use serde_json::json;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

fn messages(top_k: bool, thinking: bool) -> Map<String, Value> {
    let mut v = json!({"model": "m", "max_tokens": 10,
                       "messages": [{"role": "user", "content": "hi"}]});
    if top_k {
        v["top_k"] = json!(5);
    }
    if thinking {
        v["thinking"] = json!({"type": "enabled", "budget_tokens": 2048});
    }
    obj(v)
}

#[test]
fn refused_fields_stay_out_of_the_view_only_for_a_native_provider() {
    let (chat, refused) =
        translate_view(&messages(false, false), false, anthropic::request_to_chat)
            .expect("translates");
    assert!(refused.is_none());
    assert_eq!(chat["messages"][0]["content"], "hi");

    let e = translate_view(&messages(true, true), false, anthropic::request_to_chat)
        .expect_err("refused without a native provider");
    assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST);
    assert!(e.param.is_some(), "{e:?}");

    let (chat, refused) = translate_view(&messages(true, true), true, anthropic::request_to_chat)
        .expect("a view for the native lane");
    assert!(chat.get("top_k").is_none() && chat.get("thinking").is_none());
    let refused = refused.expect("the first refusal is kept for other lanes");
    assert!(refused.param.is_some());
}

#[test]
fn content_only_the_provider_reads_is_left_out_of_the_view() {
    let mut v = Value::Object(messages(false, false));
    v["messages"] = json!([{"role": "user", "content": [
        {"type": "text", "text": "look"},
        {"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}}]}]);
    assert!(leave_out(&mut v, Some("messages[0].content[1].source")));
    assert_eq!(
        v["messages"][0]["content"],
        json!([{"type": "text", "text": "look"}])
    );
    assert!(!leave_out(&mut v, Some("top_k")), "nothing there");
    v["top_k"] = json!(3);
    assert!(leave_out(&mut v, Some("top_k")));
    assert!(v.get("top_k").is_none());
    assert!(!leave_out(&mut v, Some("messages")));
    assert!(!leave_out(&mut v, Some("messages[3].content[0]")));
    let mut r = json!({"input": [{"type": "message"}, {"type": "web_search_call"}]});
    assert!(leave_out(&mut r, Some("input[1].type")));
    assert_eq!(r["input"], json!([{"type": "message"}]));
    let mut nested = json!({"tools": [[1, 2], [3]]});
    assert!(leave_out(&mut nested, Some("tools[0][1]")));
    assert_eq!(nested["tools"], json!([[1], [3]]));
}

#[test]
fn the_conversation_itself_is_never_left_out() {
    let mut m = messages(false, false);
    m.insert("messages".into(), json!("not a list"));
    assert!(translate_view(&m, true, anthropic::request_to_chat).is_err());
    m.remove("messages");
    assert!(translate_view(&m, true, anthropic::request_to_chat).is_err());
}

#[test]
fn messages_errors_take_anthropics_shape_and_keep_retry_after() {
    let front = Front::Messages(MessagesFront {
        original: Map::new(),
        refused: None,
    });
    let mut e = ApiError::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        "slow down",
    );
    e.retry_after = Some(3);
    let resp = front.error_response(e);
    assert_eq!(resp.status(), axum::http::StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(resp.headers()["retry-after"], "3");
}
