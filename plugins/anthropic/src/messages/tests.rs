use super::*;

fn convert_ok(messages: Value) -> Conversation {
    convert(messages.as_array().expect("list")).expect("converts")
}

#[test]
fn system_messages_go_to_system_and_roles_alternate() {
    let c = convert_ok(json!([
        {"role":"system","content":"You are terse."},
        {"role":"developer","content":[{"type":"text","text":"Answer in French."}]},
        {"role":"user","content":"Hi"},
        {"role":"user","content":[{"type":"text","text":"Still there?"}]},
        {"role":"assistant","content":"Oui."},
        {"role":"assistant","content":""},
        {"role":"assistant","content":"Bonjour."},
        {"role":"system","content":""}
    ]));
    assert_eq!(c.system, vec!["You are terse.", "Answer in French."]);
    assert_eq!(
        Value::Array(c.messages),
        json!([
            {"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":"Still there?"}]},
            {"role":"assistant","content":[{"type":"text","text":"Oui."},{"type":"text","text":"Bonjour."}]}
        ])
    );
}

#[test]
fn tool_calls_and_results_become_tool_use_and_tool_result() {
    let c = convert_ok(json!([
        {"role":"user","content":"Weather in Paris and the time?"},
        {"role":"assistant","content":null,"tool_calls":[
            {"id":"toolu_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
            {"id":"toolu_2","type":"function","function":{"name":"get_time","arguments":""}}
        ]},
        {"role":"tool","tool_call_id":"toolu_1","content":"18C and sunny"},
        {"role":"tool","tool_call_id":"toolu_2","content":[{"type":"text","text":"14:02"}]},
        {"role":"user","content":"Thanks!"}
    ]));
    assert!(c.system.is_empty());
    assert_eq!(
        Value::Array(c.messages),
        json!([
            {"role":"user","content":[{"type":"text","text":"Weather in Paris and the time?"}]},
            {"role":"assistant","content":[
                {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}},
                {"type":"tool_use","id":"toolu_2","name":"get_time","input":{}}
            ]},
            {"role":"user","content":[
                {"type":"tool_result","tool_use_id":"toolu_1","content":"18C and sunny"},
                {"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"14:02"}]},
                {"type":"text","text":"Thanks!"}
            ]}
        ])
    );
}

#[test]
fn tool_results_open_the_user_turn_even_after_user_text() {
    let c = convert_ok(json!([
        {"role":"user","content":"go"},
        {"role":"assistant","tool_calls":[{"id":"t1","type":"function","function":{"name":"f","arguments":"{}"}}]},
        {"role":"user","content":"also this"},
        {"role":"tool","tool_call_id":"t1","content":"done"}
    ]));
    assert_eq!(
        c.messages[2]["content"],
        json!([{"type":"tool_result","tool_use_id":"t1","content":"done"},{"type":"text","text":"also this"}])
    );
}

#[test]
fn assistant_text_comes_before_its_tool_use() {
    let c = convert_ok(json!([
        {"role":"user","content":"q"},
        {"role":"assistant","content":"Let me look.","tool_calls":[
            {"id":"t1","type":"function","function":{"name":"f","arguments":"{\"a\":[1,2]}"}}]}
    ]));
    assert_eq!(
        c.messages[1]["content"],
        json!([{"type":"text","text":"Let me look."},{"type":"tool_use","id":"t1","name":"f","input":{"a":[1,2]}}])
    );
}

#[test]
fn bad_conversations_are_refused_with_the_param() {
    let cases = [
        (json!([{"content":"x"}]), "messages[0]"),
        (
            json!([{"role":"function","name":"f","content":"x"}]),
            "messages[0]",
        ),
        (json!([{"role":"tool","content":"x"}]), "messages[0]"),
        (
            json!([{"role":"assistant","function_call":{"name":"f","arguments":"{}"}}]),
            "messages[0]",
        ),
        (
            json!([{"role":"user","content":"q"},{"role":"assistant","tool_calls":[
            {"id":"t1","type":"function","function":{"name":"f","arguments":"{not json"}}]}]),
            "messages[1].tool_calls[0]",
        ),
        (
            json!([{"role":"user","content":"q"},{"role":"assistant","tool_calls":[
            {"id":"t1","type":"function","function":{"name":"f","arguments":"[1]"}}]}]),
            "messages[1].tool_calls[0]",
        ),
        (
            json!([{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"f"}}]}]),
            "messages[0].tool_calls[0]",
        ),
        (
            json!([{"role":"assistant","tool_calls":[{"id":"t","function":{}}]}]),
            "messages[0].tool_calls[0]",
        ),
        (
            json!([{"role":"assistant","tool_calls":"nope"}]),
            "messages[0]",
        ),
        (
            json!([{"role":"system","content":"only a system prompt"}]),
            "messages",
        ),
        (json!([]), "messages"),
    ];
    for (messages, param) in cases {
        let e = convert(messages.as_array().expect("list")).expect_err("400");
        assert_eq!(e.status, 400, "{messages}");
        assert_eq!(e.param.as_deref(), Some(param), "{messages}");
    }
}
