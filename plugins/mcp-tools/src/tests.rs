use super::*;
use serde_json::json;

fn plugin(json: &str) -> Result<McpTools, String> {
    sluice_plugin_sdk::from_config_json::<McpTools>(json)
}

fn principal(key: &str, team: Option<&str>, attrs: &[(&str, &str)]) -> Principal {
    Principal {
        key_id: key.into(),
        owner: key.into(),
        team: team.map(str::to_string),
        attributes: attrs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn request(server: &str, method: &str, target: Option<&str>) -> McpRequest {
    McpRequest {
        request_id: "r1".into(),
        server: server.into(),
        method: method.into(),
        target: target.map(str::to_string),
        ..Default::default()
    }
}

const RULES: &str = r#"{"rules":[{"teams":["admins"]},{"deny":["delete_*"]}]}"#;

#[test]
fn a_tool_that_is_not_permitted_is_denied_with_32003() {
    let p = plugin(RULES).expect("config");
    let dev = principal("k1", Some("devs"), &[]);
    match p.on_mcp_request(&request("github", "tools/call", Some("delete_repo")), &dev) {
        McpDecision::Deny(e) => {
            assert_eq!(e.code, -32003);
            assert_eq!(e.message, "Tool `delete_repo` is not allowed for this key.");
            assert_eq!(e.data, None);
        }
        other => panic!("expected a denial, got {other:?}"),
    }
    let admin = principal("k2", Some("admins"), &[]);
    let call = request("github", "tools/call", Some("delete_repo"));
    assert!(matches!(
        p.on_mcp_request(&call, &admin),
        McpDecision::Continue(None)
    ));
}

#[test]
fn other_methods_and_permitted_calls_without_a_rate_go_on() {
    let p = plugin(RULES).expect("config");
    let dev = principal("k1", None, &[]);
    for req in [
        request("github", "tools/call", Some("list_issues")),
        request("github", "tools/list", None),
        request("github", "prompts/get", Some("delete_me")),
        request("github", "initialize", None),
        request("github", "tools/call", None),
    ] {
        let d = p.on_mcp_request(&req, &dev);
        assert!(matches!(d, McpDecision::Continue(None)), "{req:?}: {d:?}");
    }
}

#[test]
fn the_rate_comes_from_the_key_attribute_else_the_config() {
    let p = plugin(r#"{"calls_per_minute": 120}"#).expect("config");
    assert_eq!(p.rate(&principal("k", None, &[])), 120);
    assert_eq!(
        p.rate(&principal("k", None, &[("mcp_calls_per_minute", " 5 ")])),
        5
    );
    assert_eq!(
        p.rate(&principal("k", None, &[("mcp_calls_per_minute", "0")])),
        0
    );
    assert_eq!(
        p.rate(&principal("k", None, &[("mcp_calls_per_minute", "lots")])),
        120
    );
    assert_eq!(plugin("{}").expect("config").calls_per_minute, 0);
}

#[test]
fn a_counter_over_the_limit_denies_with_32004_and_retry_after() {
    let count = |value, ms_to_reset| WindowCount { value, ms_to_reset };
    assert!(over_limit(3, &count(1, 500)).is_none());
    assert!(over_limit(3, &count(3, 500)).is_none());
    let e = over_limit(3, &count(4, 12_001)).expect("over");
    assert_eq!(e.code, -32004);
    assert_eq!(
        e.message,
        "Tool-call rate limit reached: 3 per minute for this key; retry in 13 s."
    );
    let data: serde_json::Value =
        serde_json::from_str(e.data.as_deref().expect("data")).expect("JSON");
    assert_eq!(data, json!({"retry_after": 13}));
    let e = over_limit(3, &count(9, 0)).expect("over");
    assert!(e.message.ends_with("retry in 1 s."), "{}", e.message);
    assert!(over_limit(u64::MAX, &count(i64::MAX, 1)).is_none());
}

fn listed(result: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(result).expect("JSON");
    v["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn tools_lists_lose_what_is_not_permitted_and_keep_every_other_field() {
    let p = plugin(RULES).expect("config");
    let dev = principal("k1", None, &[]);
    let result = json!({
        "tools": [
            {"name": "list_issues", "description": "d", "inputSchema": {"type": "object"}},
            {"name": "delete_repo", "inputSchema": {"type": "object"}},
            {"name": "get_file"}
        ],
        "nextCursor": "page-2",
        "_meta": {"x": 1}
    })
    .to_string();
    let list = request("github", "tools/list", None);
    let out = p
        .on_mcp_result(&list, &dev, &result)
        .expect("something was removed");
    assert_eq!(listed(&out), ["list_issues", "get_file"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["nextCursor"], "page-2");
    assert_eq!(v["_meta"], json!({"x": 1}));
    assert_eq!(v["tools"][0]["inputSchema"], json!({"type": "object"}));

    let admin = principal("k2", Some("admins"), &[]);
    assert_eq!(p.on_mcp_result(&list, &admin, &result), None);
    let call = request("github", "tools/call", Some("delete_repo"));
    assert_eq!(p.on_mcp_result(&call, &dev, &result), None);
    let kept = json!({"tools": [{"name": "get_file"}], "nextCursor": "c"}).to_string();
    assert_eq!(p.on_mcp_result(&list, &dev, &kept), None);
    assert_eq!(p.on_mcp_result(&list, &dev, "not json"), None);
    assert_eq!(p.on_mcp_result(&list, &dev, r#"{"resources":[]}"#), None);
}

#[test]
fn rules_can_select_servers_and_attributes() {
    let p = plugin(
        r#"{"rules":[
            {"servers":["docs"],"attributes":{"tier":"gold"},"allow":["*"]},
            {"servers":["docs"],"allow":["search"]}
        ]}"#,
    )
    .expect("config");
    let gold = principal("g", None, &[("tier", "gold")]);
    let plain = principal("p", None, &[]);
    let call = request("docs", "tools/call", Some("edit_page"));
    assert!(matches!(
        p.on_mcp_request(&call, &gold),
        McpDecision::Continue(None)
    ));
    assert!(matches!(
        p.on_mcp_request(&call, &plain),
        McpDecision::Deny(_)
    ));
    let other = request("wiki", "tools/call", Some("edit_page"));
    assert!(matches!(
        p.on_mcp_request(&other, &plain),
        McpDecision::Continue(None)
    ));
}

#[test]
fn bad_configs_are_refused_with_a_reason() {
    let e = plugin(r#"{"calls_per_minutes": 5}"#)
        .err()
        .expect("unknown field");
    assert!(e.contains("unknown field `calls_per_minutes`"), "{e}");
    let e = plugin(r#"{"rules":[{"allow":["*"],"tools":["x"]}]}"#)
        .err()
        .expect("unknown");
    assert!(e.contains("unknown field `tools`"), "{e}");
    let e = plugin(r#"{"calls_per_minute": -1}"#)
        .err()
        .expect("negative");
    assert!(e.contains("invalid config"), "{e}");
    let e = plugin(r#"{"rules":[{"keys":[]}]}"#)
        .err()
        .expect("empty selector");
    assert!(e.contains("rules[1].keys is empty"), "{e}");
    assert!(plugin("").is_ok());
}

#[test]
fn the_exports_serve_the_mcp_stage_and_refuse_the_others() {
    use sluice_plugin_sdk::bindings::exports::sluice::plugin0_2_0 as x;
    use sluice_plugin_sdk::{Decision, LlmMeta, RequestCtx};
    <__SluiceExports as x::lifecycle::Guest>::init(r#"{"rules":[{"deny":["rm"]}]}"#.into())
        .expect("init");
    let call = request("fs", "tools/call", Some("rm"));
    let d = <__SluiceExports as x::mcp_policy_stage::Guest>::on_mcp_request(
        call.clone(),
        principal("k", None, &[]),
    );
    assert!(
        matches!(d, McpDecision::Deny(ref e) if e.code == -32003),
        "{d:?}"
    );
    let d = <__SluiceExports as x::policy_stage::Guest>::on_request(
        RequestCtx::default(),
        Principal::default(),
        LlmMeta::default(),
        Vec::new(),
    );
    assert!(
        matches!(d, Decision::Deny(ref e) if e.code.as_deref() == Some("plugin_stage_mismatch")),
        "{d:?}"
    );
}
