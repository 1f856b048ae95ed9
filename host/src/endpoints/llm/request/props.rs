//! Property tests of request parsing: any JSON value in any field of any endpoint's body gets a
//! 4xx or a parsed request, never a 5xx or a panic; so do bytes that are not JSON.

use super::*;
use crate::props::{json, object_with};
use proptest::prelude::*;

const FIELDS: &[&str] = &[
    "model",
    "messages",
    "prompt",
    "input",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "n",
    "user_id",
    "user",
    "response_format",
    "tools",
    "stop",
];

const ENDPOINTS: [Endpoint; 6] = [
    Endpoint::ChatCompletions,
    Endpoint::Completions,
    Endpoint::Embeddings,
    Endpoint::AudioSpeech,
    Endpoint::ImagesGenerations,
    Endpoint::Moderations,
];

fn outcome(endpoint: Endpoint, bytes: Vec<u8>) -> Result<(), TestCaseError> {
    match prepare(endpoint, Bytes::from(bytes), 64) {
        Ok(p) => {
            prop_assert!(!p.body.contains_key("user_id"), "user_id leaks upstream");
            prop_assert!(p.meta.n >= 1);
        }
        Err(e) => prop_assert!(
            e.status.is_client_error(),
            "{} for {:?}: {}",
            e.status,
            endpoint,
            e.message
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_value_in_any_field_is_a_request_or_a_4xx(
        body in object_with(FIELDS),
        endpoint in proptest::sample::select(ENDPOINTS.to_vec()),
    ) {
        outcome(endpoint, serde_json::to_vec(&body).expect("serialises"))?;
    }

    #[test]
    fn any_json_at_all_is_a_request_or_a_4xx(
        body in json(),
        endpoint in proptest::sample::select(ENDPOINTS.to_vec()),
    ) {
        outcome(endpoint, serde_json::to_vec(&body).expect("serialises"))?;
    }

    #[test]
    fn bytes_that_are_not_json_are_a_4xx(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
        endpoint in proptest::sample::select(ENDPOINTS.to_vec()),
    ) {
        outcome(endpoint, bytes)?;
    }
}
