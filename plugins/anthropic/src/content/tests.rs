use super::*;

#[test]
fn system_text_joins_text_parts_and_refuses_images() {
    let p = "messages[0].content";
    assert_eq!(
        system_text(Some(&json!("be brief")), p).expect("text"),
        "be brief"
    );
    let parts = json!([{"type":"text","text":"a"},{"type":"text","text":"b"}]);
    assert_eq!(system_text(Some(&parts), p).expect("text"), "a\nb");
    assert_eq!(system_text(None, p).expect("empty"), "");
    let img = json!([{"type":"image_url","image_url":{"url":"https://x/y.png"}}]);
    let e = system_text(Some(&img), p).expect_err("400");
    assert_eq!(e.status, 400);
    assert_eq!(e.param.as_deref(), Some(p));
}

#[test]
fn user_parts_become_text_image_and_document_blocks() {
    let parts = json!([
        {"type":"text","text":"What is in these?"},
        {"type":"text","text":""},
        {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ","detail":"high"}},
        {"type":"image_url","image_url":{"url":"https://example.com/cat.png"}},
        {"type":"file","file":{"filename":"report.pdf","file_data":"data:application/pdf;base64,JVBERi0x"}}
    ]);
    let blocks = user_blocks(Some(&parts), "p").expect("blocks");
    assert_eq!(
        Value::Array(blocks),
        json!([
            {"type":"text","text":"What is in these?"},
            {"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}},
            {"type":"image","source":{"type":"url","url":"https://example.com/cat.png"}},
            {"type":"document","title":"report.pdf",
             "source":{"type":"base64","media_type":"application/pdf","data":"JVBERi0x"}}
        ])
    );
    assert_eq!(
        user_blocks(Some(&json!("hi")), "p").expect("text"),
        vec![json!({"type":"text","text":"hi"})]
    );
    assert!(
        user_blocks(Some(&json!("")), "p")
            .expect("empty")
            .is_empty()
    );
}

#[test]
fn unsupported_user_parts_are_refused() {
    for part in [
        json!({"type":"input_audio","input_audio":{"data":"AA==","format":"wav"}}),
        json!({"type":"image_url","image_url":{"url":"data:image/bmp;base64,Qk0="}}),
        json!({"type":"image_url","image_url":{"url":"data:image/png,raw"}}),
        json!({"type":"image_url","image_url":{"url":"ftp://x/y.png"}}),
        json!({"type":"image_url"}),
        json!({"type":"file","file":{"file_id":"file-abc"}}),
        json!({"type":"file","file":{"file_data":"data:text/csv;base64,YSxi"}}),
        json!({"type":"video","video":{}}),
        json!({"type":"text"}),
    ] {
        let e = user_blocks(Some(&json!([part])), "messages[1].content").expect_err("400");
        assert_eq!(e.status, 400, "{part}");
        assert_eq!(e.param.as_deref(), Some("messages[1].content"));
    }
    assert!(user_blocks(Some(&json!(42)), "p").is_err());
}

#[test]
fn assistant_and_tool_content() {
    let parts = json!([{"type":"text","text":"a"},{"type":"refusal","refusal":"no"}]);
    assert_eq!(
        assistant_blocks(Some(&parts), "p").expect("blocks"),
        vec![
            json!({"type":"text","text":"a"}),
            json!({"type":"text","text":"no"})
        ]
    );
    assert!(
        assistant_blocks(Some(&Value::Null), "p")
            .expect("none")
            .is_empty()
    );
    let img = json!([{"type":"image_url","image_url":{"url":"https://x"}}]);
    assert!(assistant_blocks(Some(&img), "p").is_err());

    assert_eq!(
        tool_result_content(Some(&json!("22C")), "p").expect("s"),
        json!("22C")
    );
    assert_eq!(
        tool_result_content(Some(&json!([{"type":"text","text":"22C"}])), "p").expect("parts"),
        json!([{"type":"text","text":"22C"}])
    );
    assert_eq!(tool_result_content(None, "p").expect("empty"), json!(""));
    assert!(tool_result_content(Some(&img), "p").is_err());
}
