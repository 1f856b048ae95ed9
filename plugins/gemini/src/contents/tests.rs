use super::*;

fn convert_ok(messages: Value) -> Conversation {
    convert(messages.as_array().expect("list")).expect("converts")
}

#[test]
fn system_goes_to_system_roles_map_and_merge() {
    let c = convert_ok(json!([
        {"role":"system","content":"You are terse."},
        {"role":"developer","content":[{"type":"text","text":"Use metric units."}]},
        {"role":"user","content":"Hi"},
        {"role":"user","content":[{"type":"text","text":"Anyone?"}]},
        {"role":"assistant","content":"Yes."},
        {"role":"assistant","content":[{"type":"text","text":"Here."},{"type":"refusal","refusal":"No."}]},
        {"role":"user","content":""}
    ]));
    assert_eq!(c.system, vec!["You are terse.", "Use metric units."]);
    assert_eq!(
        Value::Array(c.contents),
        json!([
            {"role":"user","parts":[{"text":"Hi"},{"text":"Anyone?"}]},
            {"role":"model","parts":[{"text":"Yes."},{"text":"Here."},{"text":"No."}]}
        ])
    );
}

#[test]
fn media_parts_become_inline_or_file_data() {
    let c = convert_ok(json!([{"role":"user","content":[
        {"type":"text","text":"Describe"},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}},
        {"type":"image_url","image_url":{"url":"https://example.com/photos/cat.webp?size=large"}},
        {"type":"image_url","image_url":{"url":"https://example.com/photo"}},
        {"type":"image_url","image_url":{"url":"gs://bucket/scan.PDF"}},
        {"type":"input_audio","input_audio":{"data":"UklGRg==","format":"wav"}},
        {"type":"file","file":{"filename":"a.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}}
    ]}]));
    assert_eq!(
        c.contents[0]["parts"],
        json!([
            {"text":"Describe"},
            {"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}},
            {"fileData":{"mimeType":"image/webp","fileUri":"https://example.com/photos/cat.webp?size=large"}},
            {"fileData":{"mimeType":"image/jpeg","fileUri":"https://example.com/photo"}},
            {"fileData":{"mimeType":"application/pdf","fileUri":"gs://bucket/scan.PDF"}},
            {"inlineData":{"mimeType":"audio/wav","data":"UklGRg=="}},
            {"inlineData":{"mimeType":"application/pdf","data":"JVBERi0x"}}
        ])
    );
}

#[test]
fn tool_calls_and_tool_results_become_function_parts() {
    let c = convert_ok(json!([
        {"role":"user","content":"Weather in Paris, and the time?"},
        {"role":"assistant","content":"Checking.","tool_calls":[
            {"id":"call_a","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}},
            {"id":"call_b","type":"function","function":{"name":"get_time","arguments":""}}
        ]},
        {"role":"tool","tool_call_id":"call_a","content":"{\"temp_c\":18,\"sky\":\"clear\"}"},
        {"role":"tool","tool_call_id":"call_b","content":[{"type":"text","text":"14:02"}]}
    ]));
    assert_eq!(
        Value::Array(c.contents),
        json!([
            {"role":"user","parts":[{"text":"Weather in Paris, and the time?"}]},
            {"role":"model","parts":[
                {"text":"Checking."},
                {"functionCall":{"name":"get_weather","args":{"city":"Paris"}}},
                {"functionCall":{"name":"get_time","args":{}}}
            ]},
            {"role":"user","parts":[
                {"functionResponse":{"name":"get_weather","response":{"content":{"temp_c":18,"sky":"clear"}}}},
                {"functionResponse":{"name":"get_time","response":{"content":"14:02"}}}
            ]}
        ])
    );
}

#[test]
fn bad_conversations_are_refused_with_the_param() {
    let call = json!({"role":"assistant","tool_calls":[
        {"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]});
    let cases = [
        (json!([{"content":"x"}]), "messages[0]"),
        (
            json!([{"role":"function","name":"f","content":"x"}]),
            "messages[0]",
        ),
        (
            json!([call, {"role":"tool","tool_call_id":"unknown","content":"x"}]),
            "messages[1]",
        ),
        (json!([call, {"role":"tool","content":"x"}]), "messages[1]"),
        (
            json!([{"role":"assistant","function_call":{"name":"f","arguments":"{}"}}]),
            "messages[0]",
        ),
        (
            json!([{"role":"assistant","tool_calls":[
            {"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]),
            "messages[0].tool_calls[0]",
        ),
        (
            json!([{"role":"assistant","tool_calls":[
            {"id":"c","type":"function","function":{"name":"f","arguments":"\"s\""}}]}]),
            "messages[0].tool_calls[0]",
        ),
        (
            json!([{"role":"assistant","tool_calls":[{"id":"c","function":{}}]}]),
            "messages[0].tool_calls[0]",
        ),
        (
            json!([{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,raw"}}]}]),
            "messages[0].content",
        ),
        (
            json!([{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"AA=="}}]}]),
            "messages[0].content",
        ),
        (
            json!([{"role":"user","content":[{"type":"file","file":{"file_id":"file-1"}}]}]),
            "messages[0].content",
        ),
        (
            json!([{"role":"user","content":[{"type":"video"}]}]),
            "messages[0].content",
        ),
        (
            json!([{"role":"assistant","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]),
            "messages[0].content",
        ),
        (
            json!([{"role":"system","content":[{"type":"image_url","image_url":{"url":"https://x"}}]}]),
            "messages[0].content",
        ),
        (
            json!([{"role":"system","content":"only system"}]),
            "messages",
        ),
    ];
    for (messages, param) in cases {
        let e = convert(messages.as_array().expect("list")).expect_err("400");
        assert_eq!(e.status, 400, "{messages}");
        assert_eq!(e.param.as_deref(), Some(param), "{messages}");
    }
}

#[test]
fn helpers() {
    assert_eq!(guess_mime("https://x/a.PNG"), "image/png");
    assert_eq!(guess_mime("https://x/a.gif#frag"), "image/gif");
    assert_eq!(guess_mime("https://x/a.heic"), "image/heic");
    assert_eq!(guess_mime("https://x/noext"), "image/jpeg");
}
