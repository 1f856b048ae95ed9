use super::*;
use serde_json::json;
use sluice_plugin_sdk::openai::test_support::json as parse;

const INVALID: &str = include_str!("../../../../tests/fixtures/gemini/error_invalid_argument.json");
const KEY: &str = include_str!("../../../../tests/fixtures/gemini/error_api_key_invalid.json");
const NOT_FOUND: &str = include_str!("../../../../tests/fixtures/gemini/error_not_found.json");
const EXHAUSTED: &str =
    include_str!("../../../../tests/fixtures/gemini/error_resource_exhausted.json");
const UNAVAILABLE: &str = include_str!("../../../../tests/fixtures/gemini/error_unavailable.json");
const INTERNAL: &str = include_str!("../../../../tests/fixtures/gemini/error_internal.json");

fn upstream(status: u16, body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: vec![],
        body: body.as_bytes().to_vec(),
    }
}

#[test]
fn fixtures_map_to_openai_errors() {
    let cases = [
        (400, INVALID, 400, "invalid_request_error", Value::Null),
        (
            400,
            KEY,
            401,
            "invalid_request_error",
            json!("invalid_api_key"),
        ),
        (
            404,
            NOT_FOUND,
            404,
            "invalid_request_error",
            json!("not_found"),
        ),
        (
            429,
            EXHAUSTED,
            429,
            "rate_limit_exceeded",
            json!("rate_limit_exceeded"),
        ),
        (
            503,
            UNAVAILABLE,
            503,
            "upstream_error",
            json!("provider_unavailable"),
        ),
        (
            500,
            INTERNAL,
            502,
            "upstream_error",
            json!("provider_error"),
        ),
    ];
    for (status, body, want, kind, code) in cases {
        let r = error_response(&upstream(status, body));
        assert_eq!(r.status, want, "{body}");
        let v = parse(&r.body);
        assert_eq!(v["error"]["type"], kind, "{body}");
        assert_eq!(v["error"]["code"], code, "{body}");
        assert_eq!(v["error"]["param"], Value::Null);
        let message = v["error"]["message"].as_str().expect("message");
        assert!(message.starts_with("gemini: "), "{message}");
    }
    let v = parse(&error_response(&upstream(400, INVALID)).body);
    assert_eq!(
        v["error"]["message"],
        "gemini: * GenerateContentRequest.contents: contents is not specified"
    );
}

#[test]
fn retry_info_becomes_retry_after() {
    let r = error_response(&upstream(429, EXHAUSTED));
    assert!(
        r.headers
            .contains(&("retry-after".to_string(), "37".to_string()))
    );
    let mut resp = upstream(429, EXHAUSTED);
    resp.headers.push(("Retry-After".into(), "5".into()));
    assert!(
        error_response(&resp)
            .headers
            .contains(&("retry-after".to_string(), "5".to_string()))
    );
    let m = from_value(
        Some(429),
        Some(&json!({"error":{"details":[{"retryDelay":"1.2s"}]}})),
        b"",
    );
    assert_eq!(m.retry_after, Some(2));
    assert!(
        error_response(&upstream(503, UNAVAILABLE))
            .headers
            .iter()
            .all(|(k, _)| k != "retry-after")
    );
}

#[test]
fn status_and_grpc_names_map() {
    let cases = [
        (401, None, None, 401),
        (403, Some("PERMISSION_DENIED"), None, 403),
        (400, Some("FAILED_PRECONDITION"), None, 400),
        (413, None, None, 413),
        (504, Some("DEADLINE_EXCEEDED"), None, 502),
        (500, Some("UNAVAILABLE"), None, 503),
        (200, None, None, 502),
    ];
    for (status, grpc, reason, want) in cases {
        assert_eq!(map(status, grpc, reason).0, want, "{status} {grpc:?}");
    }
}

#[test]
fn unreadable_and_listed_errors() {
    let r = error_response(&upstream(502, "<html>Bad Gateway</html>"));
    assert_eq!(r.status, 502);
    assert_eq!(
        parse(&r.body)["error"]["message"],
        "gemini answered HTTP 502: <html>Bad Gateway</html>"
    );
    // Without alt=sse, Gemini wraps stream errors in a list.
    let listed = format!("[{UNAVAILABLE}]");
    assert_eq!(error_response(&upstream(503, &listed)).status, 503);
    // In a stream there is no HTTP status: the error's code stands in.
    let m = from_value(None, Some(&parse(EXHAUSTED.as_bytes())), b"");
    assert_eq!(m.status, 429);
}
