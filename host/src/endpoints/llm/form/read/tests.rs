use super::*;
use axum::http::HeaderValue;

const B: &str = "xyzBOUNDARYxyz";

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&format!("multipart/form-data; boundary={B}")).expect("header"),
    );
    h
}

fn text(name: &str, value: &str) -> String {
    format!("--{B}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
}

fn file(name: &str, filename: &str, data: &str) -> String {
    format!(
        "--{B}\r\ncontent-disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
         content-type: audio/wav\r\n\r\n{data}\r\n"
    )
}

fn end() -> String {
    format!("--{B}--\r\n")
}

const LIMITS: Limits = Limits {
    max_upload_bytes: 16,
    timeout_ms: 5_000,
};

async fn run(endpoint: Endpoint, body: String, dir: &Path) -> Result<Form, ApiError> {
    read(endpoint, &headers(), Body::from(body), dir, "req_1", LIMITS).await
}

#[tokio::test]
async fn files_are_spooled_and_fields_kept_whatever_their_order() {
    let dir = tempfile::tempdir().expect("dir");
    let body = [
        file("file", "a.wav", "RIFF1234"),
        text("model", "whisper-1"),
        text("timestamp_granularities[]", "word"),
        end(),
    ]
    .concat();
    let form = run(Endpoint::AudioTranscriptions, body, dir.path())
        .await
        .expect("form");
    assert_eq!(form.fields[0], ("model".into(), "whisper-1".into()));
    let f = &form.files[0];
    assert_eq!(
        (f.field.as_str(), f.filename.as_str(), f.bytes),
        ("file", "a.wav", 8)
    );
    assert_eq!(f.content_type.as_deref(), Some("audio/wav"));
    assert_eq!(std::fs::read(&f.path).expect("spooled"), b"RIFF1234");
    let path = f.path.clone();
    drop(form);
    assert!(!path.exists(), "removed with the form");
}

#[tokio::test]
async fn over_the_limit_is_413_and_leaves_no_file() {
    let dir = tempfile::tempdir().expect("dir");
    let body = [
        text("model", "m"),
        file("image", "a.png", "0123456789"),
        file("image", "b.png", "0123456789"),
        end(),
    ]
    .concat();
    let e = run(Endpoint::ImagesEdits, body, dir.path())
        .await
        .expect_err("413");
    assert_eq!(e.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(e.param.as_deref(), Some("image"));
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[tokio::test]
async fn a_missing_file_and_a_broken_body_are_400_naming_the_field() {
    let dir = tempfile::tempdir().expect("dir");
    let e = run(
        Endpoint::AudioTranslations,
        [text("model", "m"), end()].concat(),
        dir.path(),
    )
    .await
    .expect_err("400");
    assert_eq!(e.status, StatusCode::BAD_REQUEST);
    assert_eq!(e.param.as_deref(), Some("file"));

    // The body ends inside the file part.
    let cut = [text("model", "m"), file("file", "a.wav", "1234")]
        .concat()
        .trim_end_matches("\r\n")
        .to_string();
    let e = run(Endpoint::AudioTranscriptions, cut, dir.path())
        .await
        .expect_err("400");
    assert_eq!(e.code.as_deref(), Some("invalid_multipart"));
    assert_eq!(e.param.as_deref(), Some("file"), "{}", e.message);
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);

    let mut json = HeaderMap::new();
    json.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let e = read(
        Endpoint::ImagesVariations,
        &json,
        Body::from("{}"),
        dir.path(),
        "r",
        LIMITS,
    )
    .await
    .expect_err("400");
    assert_eq!(e.code.as_deref(), Some("invalid_multipart"));
}
