//! Property tests: an error body a plugin returns, whatever its fields, becomes an error
//! response: a 4xx or 5xx status, a JSON body in OpenAI's shape, headers that are valid HTTP.

use super::*;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_error_body_from_a_plugin_is_an_error_response(
        status in any::<u16>(),
        kind in ".{0,20}",
        code in proptest::option::of(".{0,20}"),
        param in proptest::option::of(".{0,20}"),
        message in ".{0,80}",
        retry_after in proptest::option::of(any::<u32>()),
    ) {
        let e: ApiError = ErrorBody {
            status,
            type_: kind.clone(),
            code,
            param,
            message: message.clone(),
            retry_after,
        }
        .into();
        prop_assert!(e.status.is_client_error() || e.status.is_server_error());
        let body = e.body();
        prop_assert_eq!(body["error"]["message"].as_str(), Some(message.as_str()));
        prop_assert_eq!(body["error"]["type"].as_str(), Some(kind.as_str()));
        let resp = e.into_response();
        prop_assert!(resp.status().is_client_error() || resp.status().is_server_error());
        if let Some(s) = retry_after {
            let want = s.to_string();
            let got = resp.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok());
            prop_assert_eq!(got, Some(want.as_str()));
        }
    }
}
