//! Property tests of JSON-RPC message handling: any message (batches, ids of every type, missing
//! or mistyped fields) is classified or refused with a 4xx, never a panic; helpers that read a
//! message take anything.

use super::message::{answers, classify, take_user_id, target};
use crate::props::{json, object_with};
use proptest::prelude::*;
use serde_json::Value;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn any_message_is_classified_or_refused_with_a_4xx(
        msg in prop_oneof![
            object_with(&["jsonrpc", "id", "method", "params", "result", "error"]),
            json(),
        ],
        version in any::<bool>(),
    ) {
        let mut msg = msg;
        // Half the time a well-formed version, so the checks after it are reached.
        if version && let Value::Object(m) = &mut msg {
            m.insert("jsonrpc".into(), Value::from("2.0"));
        }
        if let Err(e) = classify(&msg) {
            prop_assert!(e.status.is_client_error(), "{}: {}", e.status, e.message);
        }
        let method = msg.get("method").and_then(Value::as_str).unwrap_or("tools/call");
        let params = msg.get("params").cloned().unwrap_or(Value::Null);
        let _ = target(method, &params);
        let mut params = params;
        let _ = take_user_id(&mut params);
        let _ = answers(&msg, msg.get("id").unwrap_or(&Value::Null));
    }
}
