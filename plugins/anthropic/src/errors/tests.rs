use super::*;
use serde_json::json;
use sluice_plugin_sdk::openai::test_support::json as parse;

const INVALID: &str =
    include_str!("../../../../tests/fixtures/anthropic/error_invalid_request.json");
const AUTH: &str = include_str!("../../../../tests/fixtures/anthropic/error_authentication.json");
const RATE: &str = include_str!("../../../../tests/fixtures/anthropic/error_rate_limit.json");
const OVERLOADED: &str = include_str!("../../../../tests/fixtures/anthropic/error_overloaded.json");
const API: &str = include_str!("../../../../tests/fixtures/anthropic/error_api.json");

fn upstream(status: u16, body: &str, headers: Vec<(String, String)>) -> HttpResponse {
    HttpResponse {
        status,
        headers,
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn fixtures_map_to_openai_errors() {
    let cases = [
        (400, INVALID, 400, "invalid_request_error", Value::Null),
        (
            401,
            AUTH,
            401,
            "invalid_request_error",
            json!("invalid_api_key"),
        ),
        (
            429,
            RATE,
            429,
            "rate_limit_exceeded",
            json!("rate_limit_exceeded"),
        ),
        (500, API, 502, "upstream_error", json!("provider_error")),
        (
            529,
            OVERLOADED,
            503,
            "upstream_error",
            json!("provider_overloaded"),
        ),
    ];
    for (status, body, want_status, kind, code) in cases {
        let r = error_response(&upstream(status, body, vec![]));
        assert_eq!(r.status, want_status, "{body}");
        let v = parse(&r.body);
        assert_eq!(v["error"]["type"], kind, "{body}");
        assert_eq!(v["error"]["code"], code, "{body}");
        assert_eq!(v["error"]["param"], Value::Null);
        let upstream_message = parse(body.as_bytes())["error"]["message"].clone();
        assert_eq!(
            v["error"]["message"],
            format!("anthropic: {}", upstream_message.as_str().expect("message"))
        );
    }
}

#[test]
fn every_documented_type_has_a_mapping() {
    let cases = [
        ("invalid_request_error", 400, "invalid_request_error", None),
        (
            "authentication_error",
            401,
            "invalid_request_error",
            Some("invalid_api_key"),
        ),
        (
            "billing_error",
            429,
            "insufficient_quota",
            Some("insufficient_quota"),
        ),
        (
            "permission_error",
            403,
            "permission_error",
            Some("forbidden"),
        ),
        (
            "not_found_error",
            404,
            "invalid_request_error",
            Some("not_found"),
        ),
        (
            "request_too_large",
            413,
            "invalid_request_error",
            Some("request_too_large"),
        ),
        (
            "rate_limit_error",
            429,
            "rate_limit_exceeded",
            Some("rate_limit_exceeded"),
        ),
        ("api_error", 502, "upstream_error", Some("provider_error")),
        (
            "timeout_error",
            504,
            "upstream_error",
            Some("provider_timeout"),
        ),
        (
            "overloaded_error",
            503,
            "upstream_error",
            Some("provider_overloaded"),
        ),
    ];
    for (kind, status, openai_kind, code) in cases {
        let m = map(Some(kind), None, "m".into());
        assert_eq!(
            (m.status, m.kind, m.code),
            (status, openai_kind, code),
            "{kind}"
        );
    }
}

#[test]
fn unreadable_bodies_map_by_status_and_keep_retry_after() {
    let r = error_response(&upstream(
        429,
        "<html>slow down</html>",
        vec![("retry-after".into(), "12".into())],
    ));
    assert_eq!(r.status, 429);
    assert!(
        r.headers
            .contains(&("retry-after".to_string(), "12".to_string()))
    );
    let v = parse(&r.body);
    assert_eq!(v["error"]["code"], "rate_limit_exceeded");
    assert_eq!(
        v["error"]["message"],
        "anthropic answered HTTP 429: <html>slow down</html>"
    );

    assert_eq!(error_response(&upstream(418, "", vec![])).status, 418);
    assert_eq!(error_response(&upstream(529, "", vec![])).status, 503);
    assert_eq!(error_response(&upstream(500, "oops", vec![])).status, 502);
    assert_eq!(error_response(&upstream(503, "", vec![])).status, 503);
    // An unknown type with a 4xx status keeps the status.
    let m = from_body(
        Some(409),
        br#"{"type":"error","error":{"type":"conflict_error","message":"x"}}"#,
    );
    assert_eq!((m.status, m.kind), (409, "invalid_request_error"));
}
