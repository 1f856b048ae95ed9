//! Tests of the error type and its mappings.

use super::*;

#[test]
fn the_error_chain_names_every_cause_once() {
    #[derive(Debug, thiserror::Error)]
    #[error("error sending request")]
    struct Outer(#[source] Middle);
    #[derive(Debug, thiserror::Error)]
    #[error("client error (Connect)")]
    struct Middle(#[source] std::io::Error);
    let e = Outer(Middle(std::io::Error::other(
        "invalid peer certificate: UnknownIssuer",
    )));
    assert_eq!(
        error_chain(&e),
        "error sending request: client error (Connect): invalid peer certificate: UnknownIssuer"
    );
    assert_eq!(error_chain(&std::io::Error::other("alone")), "alone");
}
use std::sync::Arc;

#[test]
fn body_has_openai_shape_and_retry_after() {
    let mut e = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limit_exceeded",
        "slow down",
    )
    .code("rate_limit_exceeded");
    e.retry_after = Some(7);
    let b = e.body();
    assert_eq!(b["error"]["message"], "slow down");
    assert_eq!(b["error"]["type"], "rate_limit_exceeded");
    assert_eq!(b["error"]["param"], serde_json::Value::Null);
    assert_eq!(b["error"]["retry_after"], 7);
    let resp = e.into_response();
    assert_eq!(resp.headers()[header::RETRY_AFTER], "7");
    assert!(resp.headers().get("x-should-retry").is_none());
}

#[test]
fn a_wait_longer_than_sdks_retry_tells_them_not_to() {
    let mut e = ApiError::new(StatusCode::TOO_MANY_REQUESTS, "insufficient_quota", "spent")
        .code("insufficient_quota");
    e.retry_after = Some(86_400);
    let resp = e.into_response();
    assert_eq!(resp.headers()[header::RETRY_AFTER], "86400");
    assert_eq!(resp.headers()["x-should-retry"], "false");
}

#[test]
fn plugin_errors_name_the_plugin_without_internals() {
    let e: ApiError = PluginError::Trap {
        plugin: Arc::from("p1"),
        message: "wasm backtrace: secret internals".into(),
    }
    .into();
    assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(e.message.contains("p1"));
    assert!(!e.message.contains("secret"));
    let t: ApiError = PluginError::Timeout {
        plugin: Arc::from("p2"),
        ms: 50,
    }
    .into();
    assert_eq!(t.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(t.message.contains("p2"));
}

#[test]
fn plugin_error_bodies_keep_their_status_unless_invalid() {
    let e: ApiError = ErrorBody {
        status: 200,
        type_: "x".into(),
        code: None,
        param: None,
        message: "m".into(),
        retry_after: None,
    }
    .into();
    assert_eq!(e.status, StatusCode::INTERNAL_SERVER_ERROR);
}
