//! Property tests of multipart reading: a form cut short anywhere, with junk in it, with huge
//! part headers or without its boundary, gets a 4xx (or reads, when what is left is a whole
//! form), never a panic or a 5xx; and no spooled file outlives the form.

use super::*;
use axum::http::HeaderValue;
use proptest::prelude::*;

const B: &str = "pRoPbOuNdArY";

/// A well-formed transcription form: text fields, the file part, more fields, the end.
fn form(fields: &[(String, String)], data: &[u8], header_pad: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let (before, after) = fields.split_at(fields.len() / 2);
    let text = |out: &mut Vec<u8>, (name, value): &(String, String)| {
        out.extend_from_slice(
            format!("--{B}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    };
    for f in before {
        text(&mut out, f);
    }
    out.extend_from_slice(
        format!(
            "--{B}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\
             x-pad: {}\r\ncontent-type: audio/wav\r\n\r\n",
            "p".repeat(header_pad)
        )
        .as_bytes(),
    );
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    for f in after {
        text(&mut out, f);
    }
    out.extend_from_slice(format!("--{B}--\r\n").as_bytes());
    out
}

/// How a test damages a form.
#[derive(Debug, Clone)]
enum Damage {
    None,
    /// Cut it at this fraction of its length.
    Truncate(f64),
    /// Put these bytes in at this fraction of its length.
    Insert(f64, Vec<u8>),
    /// Send it with no boundary in the content type.
    NoBoundary,
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        Just(Damage::None),
        (0.0..1.0f64).prop_map(Damage::Truncate),
        (
            0.0..1.0f64,
            proptest::collection::vec(
                prop_oneof![
                    3 => proptest::sample::select(b"\r\n-pRoPbOuNdArY:;=\"".to_vec()),
                    1 => any::<u8>(),
                ],
                1..40
            )
        )
            .prop_map(|(at, bytes)| Damage::Insert(at, bytes)),
        Just(Damage::NoBoundary),
    ]
}

fn apply(mut body: Vec<u8>, d: &Damage) -> (Vec<u8>, bool) {
    let at = |f: f64, len: usize| ((len as f64) * f) as usize;
    match d {
        Damage::None => (body, true),
        Damage::Truncate(f) => {
            body.truncate(at(*f, body.len()));
            (body, true)
        }
        Damage::Insert(f, junk) => {
            let i = at(*f, body.len());
            body.splice(i..i, junk.iter().copied());
            (body, true)
        }
        Damage::NoBoundary => (body, false),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn a_damaged_form_is_a_4xx_and_leaves_no_file(
        fields in proptest::collection::vec(("[a-z_]{1,12}", "[ -~]{0,40}"), 0..5),
        data in proptest::collection::vec(any::<u8>(), 0..64),
        header_pad in prop_oneof![Just(0usize), Just(100), Just(20_000)],
        damage in damage(),
    ) {
        let (body, with_boundary) = apply(form(&fields, &data, header_pad), &damage);
        let dir = tempfile::tempdir().expect("dir");
        let mut headers = HeaderMap::new();
        let content_type = if with_boundary {
            format!("multipart/form-data; boundary={B}")
        } else {
            "multipart/form-data".to_string()
        };
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&content_type).expect("header"),
        );
        let limits = Limits { max_upload_bytes: 48, timeout_ms: 5_000 };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let result = rt.block_on(read(
            Endpoint::AudioTranscriptions,
            &headers,
            Body::from(body),
            dir.path(),
            "req_p",
            limits,
        ));
        if matches!(damage, Damage::None) {
            // Intact: read when the file fits the limit, 413 when it does not.
            match &result {
                Ok(f) => prop_assert!(data.len() <= 48 && f.render().contains_key("file")),
                Err(e) => prop_assert!(data.len() > 48 && e.status == StatusCode::PAYLOAD_TOO_LARGE, "{}", e.message),
            }
        }
        match &result {
            Ok(_) => {}
            Err(e) => prop_assert!(
                e.status.is_client_error(),
                "{} ({:?}): {}",
                e.status,
                damage,
                e.message
            ),
        }
        drop(result);
        let left = std::fs::read_dir(dir.path()).expect("read dir").count();
        prop_assert_eq!(left, 0, "spooled files outlived the form");
    }
}
