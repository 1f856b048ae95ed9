use super::*;
use crate::TEST;
use sluice_plugin_sdk::openai::test_support::json as parse;

fn tr(req: Value) -> Value {
    Value::Object(translate(&req, &Config::default()).expect("translates"))
}

fn hi() -> Value {
    json!([{"role":"user","content":"hi"}])
}

fn call(endpoint: &str, stream: bool, body: Value) -> Result<UpstreamRequest, ErrorBody> {
    upstream_request(
        &TEST.ctx(Endpoint::from_name(endpoint).expect("an endpoint"), stream),
        &TEST.provider(Some("AIza-test")),
        body.to_string().as_bytes(),
        &Config::default(),
    )
}

#[test]
fn chat_calls_generate_content_with_the_key() {
    let r = call(
        "chat.completions",
        false,
        json!({"model":"gemini-2.5-flash","messages":hi()}),
    )
    .expect("request");
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/models/gemini-2.5-flash:generateContent");
    assert!(!r.stream);
    assert_eq!(
        r.headers,
        vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("x-goog-api-key".to_string(), "AIza-test".to_string()),
        ]
    );
    assert_eq!(
        parse(r.body.as_deref().expect("body")),
        json!({"contents":[{"role":"user","parts":[{"text":"hi"}]}]})
    );
}

#[test]
fn streams_call_stream_generate_content_with_sse() {
    let r = call(
        "chat.completions",
        true,
        json!({"model":"m","messages":hi(),"stream":true,"stream_options":{"include_usage":true}}),
    )
    .expect("request");
    assert_eq!(
        r.path,
        "/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    );
    assert!(r.stream);
    let body = parse(r.body.as_deref().expect("body"));
    assert_eq!(body.get("stream"), None);
    assert_eq!(body.get("stream_options"), None);
    let mut p = TEST.provider(None);
    p.upstream_model = "models/gemini-2.5-pro".into();
    let r = upstream_request(
        &TEST.ctx(Endpoint::ChatCompletions, false),
        &p,
        br#"{"messages":[{"role":"user","content":"x"}]}"#,
        &Config::default(),
    )
    .expect("request");
    assert_eq!(r.path, "/models/gemini-2.5-pro:generateContent");
    assert_eq!(r.headers.len(), 1);
}

#[test]
fn other_endpoints_and_bad_bodies_are_refused() {
    let e = call("completions", false, json!({})).expect_err("400");
    assert_eq!(e.status, 400);
    assert_eq!(e.code.as_deref(), Some("unsupported_endpoint"));
    assert!(e.message.contains("not supported"));
    let e = upstream_request(
        &TEST.ctx(Endpoint::ChatCompletions, false),
        &TEST.provider(None),
        b"nope",
        &Config::default(),
    )
    .expect_err("400");
    assert_eq!(e.status, 400);
    assert_eq!(
        call("chat.completions", false, json!({}))
            .expect_err("400")
            .param
            .as_deref(),
        Some("messages")
    );
}

#[test]
fn system_and_generation_config() {
    let v = tr(
        json!({"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"hi"}],
        "temperature":0.3,"top_p":0.8,"max_tokens":50,"max_completion_tokens":200,"stop":"END","n":2,
        "seed":42,"presence_penalty":0.1,"frequency_penalty":-0.2,"user":"u1","logprobs":false}),
    );
    assert_eq!(
        v["systemInstruction"],
        json!({"parts":[{"text":"Be brief."}]})
    );
    assert_eq!(
        v["generationConfig"],
        json!({"temperature":0.3,"topP":0.8,"maxOutputTokens":200,"stopSequences":["END"],
               "candidateCount":2,"seed":42,"presencePenalty":0.1,"frequencyPenalty":-0.2})
    );
    assert_eq!(v.get("user"), None);
    let v = tr(json!({"messages":hi(),"max_tokens":64,"stop":["a","b"]}));
    assert_eq!(
        v["generationConfig"],
        json!({"maxOutputTokens":64,"stopSequences":["a","b"]})
    );
    assert_eq!(tr(json!({"messages":hi()})).get("generationConfig"), None);
}

#[test]
fn response_formats() {
    let v = tr(json!({"messages":hi(),"response_format":{"type":"json_object"}}));
    assert_eq!(
        v["generationConfig"],
        json!({"responseMimeType":"application/json"})
    );
    let schema =
        json!({"type":"object","properties":{"answer":{"type":"integer"}},"required":["answer"]});
    let v = tr(
        json!({"messages":hi(),"response_format":{"type":"json_schema",
        "json_schema":{"name":"sum","strict":true,"schema":schema}}}),
    );
    assert_eq!(
        v["generationConfig"],
        json!({"responseMimeType":"application/json","responseSchema":schema})
    );
    assert_eq!(
        tr(json!({"messages":hi(),"response_format":{"type":"text"}})).get("generationConfig"),
        None
    );
}

#[test]
fn tools_and_tool_choice() {
    let tools = json!([
        {"type":"function","function":{"name":"get_weather","description":"Weather for a city",
            "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
        {"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{}}}},
        {"type":"function","function":{"name":"ping"}}
    ]);
    let v = tr(json!({"messages":hi(),"tools":tools}));
    assert_eq!(
        v["tools"],
        json!([{"functionDeclarations":[
            {"name":"get_weather","description":"Weather for a city",
             "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},
            {"name":"get_time"},
            {"name":"ping"}
        ]}])
    );
    assert_eq!(v.get("toolConfig"), None);
    let choice =
        |c: Value| tr(json!({"messages":hi(),"tools":tools,"tool_choice":c}))["toolConfig"].clone();
    assert_eq!(
        choice(json!("auto")),
        json!({"functionCallingConfig":{"mode":"AUTO"}})
    );
    assert_eq!(
        choice(json!("required")),
        json!({"functionCallingConfig":{"mode":"ANY"}})
    );
    assert_eq!(
        choice(json!("none")),
        json!({"functionCallingConfig":{"mode":"NONE"}})
    );
    assert_eq!(
        choice(json!({"type":"function","function":{"name":"get_time"}})),
        json!({"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_time"]}})
    );
    let v = tr(json!({"messages":hi(),"tool_choice":"required"}));
    assert_eq!(v.get("toolConfig"), None);
}

#[test]
fn safety_settings_come_from_the_config() {
    let config = Config {
        safety_settings: Some(vec![
            json!({"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}),
        ]),
    };
    let v = translate(&json!({"messages":hi()}), &config).expect("ok");
    assert_eq!(
        v["safetySettings"],
        json!([{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}])
    );
}

#[test]
fn malformed_parameters_are_400_with_param() {
    let tool = json!([{"type":"function","function":{"name":"f"}}]);
    let cases = [
        (json!({"messages":hi(),"logprobs":true}), "logprobs"),
        (json!({"messages":hi(),"temperature":"warm"}), "temperature"),
        (json!({"messages":hi(),"max_tokens":0}), "max_tokens"),
        (json!({"messages":hi(),"n":0}), "n"),
        (json!({"messages":hi(),"seed":1.5}), "seed"),
        (json!({"messages":hi(),"stop":{"a":1}}), "stop"),
        (
            json!({"messages":hi(),"response_format":{"type":"yaml"}}),
            "response_format",
        ),
        (
            json!({"messages":hi(),"response_format":{"type":"json_schema","json_schema":{}}}),
            "response_format",
        ),
        (json!({"messages":hi(),"tools":"f"}), "tools"),
        (
            json!({"messages":hi(),"tools":[{"type":"code_interpreter"}]}),
            "tools[0]",
        ),
        (
            json!({"messages":hi(),"tools":[{"type":"function","function":{}}]}),
            "tools[0]",
        ),
        (
            json!({"messages":hi(),"tools":tool,"tool_choice":"maybe"}),
            "tool_choice",
        ),
        (
            json!({"messages":hi(),"tools":tool,"tool_choice":{"type":"function"}}),
            "tool_choice",
        ),
    ];
    for (req, param) in cases {
        let e = translate(&req, &Config::default()).expect_err("400");
        assert_eq!(e.status, 400, "{req}");
        assert_eq!(e.param.as_deref(), Some(param), "{req}");
    }
    assert_eq!(
        translate(&json!("x"), &Config::default())
            .expect_err("400")
            .status,
        400
    );
}
