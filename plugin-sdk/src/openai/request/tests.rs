use super::*;

#[test]
fn requests_read_fields_and_refuse_bad_ones() {
    let v = json!({"messages":[{"role":"user","content":"hi"}],"temperature":"hot","stop":"x",
                   "logprobs":true,"top_p":null});
    let r = ChatRequest::new(&v).expect("object");
    assert_eq!(r.messages().expect("list").len(), 1);
    assert!(r.get("top_p").is_none());
    assert_eq!(
        r.number("temperature").expect_err("400").param.as_deref(),
        Some("temperature")
    );
    assert_eq!(r.stop().expect("ok"), Some(json!(["x"])));
    assert!(r.refuse_logprobs("p").is_err());
    assert!(ChatRequest::new(&json!([])).is_err());
    assert!(ChatRequest::parse_body(b"{").is_err());
}

#[test]
fn content_and_parts() {
    let parts = json!([{"type":"text","text":"a"},{"type":"text","text":"b"}]);
    assert_eq!(
        Content::text_only(Some(&parts), "p", "text only").expect("text"),
        "a\nb"
    );
    let image = json!([{"type":"image_url","image_url":{"url":"https://x/a.png"}}]);
    assert_eq!(
        Content::text_only(Some(&image), "p", "text only")
            .expect_err("400")
            .message,
        "text only"
    );
    assert_eq!(Content::parse(None, "p").expect("empty"), Content::Text(""));
    assert!(Content::parse(Some(&json!(1)), "p").is_err());
    assert_eq!(
        Part::parse(&image[0], "p").expect("image"),
        Part::ImageUrl("https://x/a.png")
    );
    let file = json!({"type":"file","file":{"file_data":"data:application/pdf;base64,AA"}});
    assert!(matches!(
        Part::parse(&file, "p").expect("file"),
        Part::File {
            file_id: None,
            file_data: Some(_),
            filename: None
        }
    ));
    assert!(Part::parse(&json!({"type":"refusal"}), "p").is_err());
}

#[test]
fn tools_choices_and_calls() {
    let tools = json!([{"type":"function","function":{"name":"f","parameters":null}}]);
    let list = Tool::list(&tools, "p").expect("tools");
    assert_eq!(list[0].name, "f");
    assert!(list[0].parameters.is_none());
    assert!(Tool::list(&json!([{"type":"web"}]), "p").is_err());
    assert_eq!(
        ToolChoice::parse(&json!("required")).expect("ok"),
        ToolChoice::Required
    );
    assert_eq!(
        ToolChoice::parse(&json!({"function":{"name":"f"}})).expect("ok"),
        ToolChoice::Function("f")
    );
    assert!(ToolChoice::parse(&json!("maybe")).is_err());
    let m = json!({"tool_calls":[{"id":"c1","function":{"name":"f","arguments":""}}]});
    let calls = ToolCall::list(&m, "m", true).expect("calls");
    assert_eq!(calls[0].arguments, json!({}));
    let m = json!({"tool_calls":[{"function":{"name":"f","arguments":"[1]"}}]});
    assert!(ToolCall::list(&m, "m", false).is_err());
    assert!(ToolCall::list(&m, "m", true).is_err());
}

#[test]
fn response_formats() {
    assert_eq!(
        ResponseFormat::parse(&json!({"type":"json_object"})).expect("ok"),
        ResponseFormat::JsonObject
    );
    let schema = json!({"type":"json_schema","json_schema":{"schema":{"type":"object"}}});
    assert!(matches!(
        ResponseFormat::parse(&schema).expect("ok"),
        ResponseFormat::JsonSchema {
            name: "response",
            ..
        }
    ));
    assert!(ResponseFormat::parse(&json!({"type":"xml"})).is_err());
}
