use super::*;
use crate::TEST;
use sluice_plugin_sdk::openai::test_support::json as parse;

fn tr(req: Value) -> Value {
    Value::Object(translate(&req, &Config::default()).expect("translates"))
}

fn tr_err(req: Value) -> ErrorBody {
    translate(&req, &Config::default()).expect_err("400")
}

fn hi() -> Value {
    json!([{"role":"user","content":"hi"}])
}

#[test]
fn builds_the_messages_call_with_key_version_and_body() {
    let body = json!({"model":"claude-sonnet-4-5","messages":hi(),"stream":true,
                      "stream_options":{"include_usage":true}});
    let config = Config {
        anthropic_version: "2024-10-22".into(),
        default_max_tokens: 1000,
    };
    let r = upstream_request(
        &TEST.ctx(Endpoint::ChatCompletions, true),
        &TEST.provider(Some("sk-ant-1")),
        body.to_string().as_bytes(),
        &config,
    )
    .expect("request");
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/messages");
    assert!(r.stream);
    assert_eq!(
        r.headers,
        vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("anthropic-version".to_string(), "2024-10-22".to_string()),
            ("x-api-key".to_string(), "sk-ant-1".to_string()),
        ]
    );
    let sent = parse(r.body.as_deref().expect("body"));
    assert_eq!(
        sent,
        json!({"model":"claude-sonnet-4-5","max_tokens":1000,"stream":true,
               "messages":[{"role":"user","content":[{"type":"text","text":"hi"}]}]})
    );
}

#[test]
fn non_streams_send_no_stream_flag_and_no_key_header_without_a_key() {
    let body = json!({"model":"x","messages":hi(),"stream":false});
    let r = upstream_request(
        &TEST.ctx(Endpoint::ChatCompletions, false),
        &TEST.provider(None),
        body.to_string().as_bytes(),
        &Config::default(),
    )
    .expect("request");
    assert!(!r.stream);
    assert!(r.headers.iter().all(|(k, _)| k != "x-api-key"));
    let sent = parse(r.body.as_deref().expect("body"));
    assert_eq!(sent.get("stream"), None);
    assert_eq!(sent["model"], "claude-sonnet-4-5");
    assert_eq!(sent["max_tokens"], 4096);
}

#[test]
fn other_endpoints_and_bad_bodies_are_refused() {
    let e = upstream_request(
        &TEST.ctx(Endpoint::Embeddings, false),
        &TEST.provider(None),
        b"{}",
        &Config::default(),
    )
    .expect_err("400");
    assert_eq!(e.status, 400);
    assert_eq!(e.code.as_deref(), Some("unsupported_endpoint"));
    assert!(e.message.contains("not supported"));
    let e = upstream_request(
        &TEST.ctx(Endpoint::ChatCompletions, false),
        &TEST.provider(None),
        b"{nope",
        &Config::default(),
    )
    .expect_err("400");
    assert_eq!(e.status, 400);
    assert_eq!(tr_err(json!([1])).status, 400);
    assert_eq!(
        tr_err(json!({"model":"x"})).param.as_deref(),
        Some("messages")
    );
}

#[test]
fn sampling_limits_stop_and_user() {
    let v = tr(
        json!({"messages":hi(),"temperature":0.2,"top_p":0.9,"max_tokens":100,
                      "max_completion_tokens":300,"stop":"END","user":"u-42","n":1,
                      "frequency_penalty":0.5,"seed":7,"logprobs":false}),
    );
    assert_eq!(v["temperature"], 0.2);
    assert_eq!(v["top_p"], 0.9);
    assert_eq!(v["max_tokens"], 300);
    assert_eq!(v["stop_sequences"], json!(["END"]));
    assert_eq!(v["metadata"], json!({"user_id":"u-42"}));
    for dropped in [
        "frequency_penalty",
        "seed",
        "n",
        "logprobs",
        "stop",
        "user",
        "max_completion_tokens",
    ] {
        assert_eq!(v.get(dropped), None, "{dropped}");
    }
    let v = tr(json!({"messages":hi(),"max_tokens":64,"stop":["a","b"]}));
    assert_eq!(v["max_tokens"], 64);
    assert_eq!(v["stop_sequences"], json!(["a", "b"]));
    let v = Value::Object(
        translate(
            &json!({"messages":hi()}),
            &Config {
                default_max_tokens: 77,
                ..Config::default()
            },
        )
        .expect("ok"),
    );
    assert_eq!(v["max_tokens"], 77);
}

#[test]
fn unsupported_or_malformed_parameters_are_400_with_param() {
    let cases = [
        (json!({"messages":hi(),"n":2}), "n"),
        (json!({"messages":hi(),"logprobs":true}), "logprobs"),
        (json!({"messages":hi(),"max_tokens":0}), "max_tokens"),
        (json!({"messages":hi(),"max_tokens":"lots"}), "max_tokens"),
        (json!({"messages":hi(),"temperature":"hot"}), "temperature"),
        (json!({"messages":hi(),"stop":[1]}), "stop"),
        (json!({"messages":hi(),"tools":{}}), "tools"),
        (
            json!({"messages":hi(),"tools":[{"type":"web_search"}]}),
            "tools[0]",
        ),
        (
            json!({"messages":hi(),"tools":[{"type":"function","function":{}}]}),
            "tools[0]",
        ),
        (
            json!({"messages":hi(),"tools":[{"type":"function","function":{"name":"f"}}],
                "tool_choice":"sometimes"}),
            "tool_choice",
        ),
        (
            json!({"messages":hi(),"tools":[{"type":"function","function":{"name":"f"}}],
                "tool_choice":{"type":"function"}}),
            "tool_choice",
        ),
        (
            json!({"messages":hi(),"response_format":{"type":"xml"}}),
            "response_format",
        ),
        (
            json!({"messages":hi(),"response_format":{"type":"json_schema","json_schema":{"name":"x"}}}),
            "response_format",
        ),
    ];
    for (req, param) in cases {
        let e = tr_err(req.clone());
        assert_eq!(e.status, 400, "{req}");
        assert_eq!(e.type_, "invalid_request_error");
        assert_eq!(e.param.as_deref(), Some(param), "{req}");
    }
}

#[test]
fn tools_become_input_schemas() {
    let v = tr(json!({"messages":hi(),"tools":[
        {"type":"function","function":{"name":"get_weather","description":"Weather for a city",
            "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}},
        {"type":"function","function":{"name":"get_time"}}
    ]}));
    assert_eq!(
        v["tools"],
        json!([
            {"name":"get_weather","description":"Weather for a city",
             "input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},
            {"name":"get_time","input_schema":{"type":"object","properties":{}}}
        ])
    );
    assert_eq!(v.get("tool_choice"), None);
}

#[test]
fn tool_choice_and_parallel_tool_calls() {
    let tools = json!([{"type":"function","function":{"name":"f"}}]);
    let choice = |c: Value, parallel: Value| {
        tr(json!({"messages":hi(),"tools":tools,"tool_choice":c,"parallel_tool_calls":parallel}))
            ["tool_choice"]
            .clone()
    };
    assert_eq!(choice(json!("auto"), Value::Null), json!({"type":"auto"}));
    assert_eq!(
        choice(json!("required"), Value::Null),
        json!({"type":"any"})
    );
    assert_eq!(choice(json!("none"), Value::Null), json!({"type":"none"}));
    assert_eq!(
        choice(
            json!({"type":"function","function":{"name":"f"}}),
            Value::Null
        ),
        json!({"type":"tool","name":"f"})
    );
    assert_eq!(
        choice(json!("required"), json!(false)),
        json!({"type":"any","disable_parallel_tool_use":true})
    );
    assert_eq!(choice(json!("none"), json!(false)), json!({"type":"none"}));
    assert_eq!(
        choice(Value::Null, json!(false)),
        json!({"type":"auto","disable_parallel_tool_use":true})
    );
    assert_eq!(choice(Value::Null, json!(true)), Value::Null);
    // Without tools, a tool_choice has nothing to choose from and is not sent.
    let v = tr(json!({"messages":hi(),"tool_choice":"required"}));
    assert_eq!(v.get("tool_choice"), None);
    assert_eq!(v.get("tools"), None);
}

#[test]
fn json_modes_add_a_system_instruction() {
    let v = tr(
        json!({"messages":[{"role":"system","content":"Be exact."},{"role":"user","content":"hi"}],
                      "response_format":{"type":"json_object"}}),
    );
    let system = v["system"].as_str().expect("system");
    assert!(system.starts_with("Be exact.\n\nRespond with a single valid JSON object."));
    assert!(system.contains("no Markdown code fences"));

    let schema =
        json!({"type":"object","properties":{"answer":{"type":"integer"}},"required":["answer"]});
    let v = tr(
        json!({"messages":hi(),"response_format":{"type":"json_schema",
        "json_schema":{"name":"sum","strict":true,"schema":schema}}}),
    );
    let system = v["system"].as_str().expect("system");
    assert!(system.contains("JSON Schema named `sum`"));
    assert!(system.ends_with(&schema.to_string()));

    let v = tr(json!({"messages":hi(),"response_format":{"type":"text"}}));
    assert_eq!(v.get("system"), None);
}
