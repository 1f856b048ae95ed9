//! The form as plugins see it (JSON) and as the upstream gets it (multipart, files streamed from
//! disk).

use super::{Form, base, is_file_field};
use serde_json::{Map, Value, json};

impl Form {
    /// The JSON rendering plugins get: each text field under its name (`stream` as a boolean,
    /// `temperature` and `n` as numbers, a `chunking_strategy` object as an object, any other as
    /// a string), each file part as `{"filename", "content_type", "bytes"}`. A field sent as
    /// `name[]` or several times becomes a list under `name`.
    pub fn render(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, text) in &self.fields {
            add(&mut out, name, typed(base(name), text));
        }
        for f in &self.files {
            let descriptor = json!({
                "filename": f.filename,
                "content_type": f.content_type,
                "bytes": f.bytes,
            });
            add(&mut out, &f.field, descriptor);
        }
        out
    }

    /// The multipart body for the upstream: the text fields of `fields` (the rendering as the
    /// policies and guards left it, upstream model set; lists as repeated `name[]` fields), then
    /// each file part under the name it came with, streamed from disk.
    pub async fn upstream(
        &self,
        fields: &Map<String, Value>,
    ) -> std::io::Result<reqwest::multipart::Form> {
        let mut form = reqwest::multipart::Form::new();
        for (key, value) in fields {
            if is_file_field(key) {
                continue;
            }
            match value {
                Value::Null => {}
                Value::Array(items) => {
                    for item in items {
                        form = form.text(format!("{key}[]"), text_of(item));
                    }
                }
                v => form = form.text(key.clone(), text_of(v)),
            }
        }
        for f in &self.files {
            let file = tokio::fs::File::open(&f.path).await?;
            let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::new(file));
            let mut part = reqwest::multipart::Part::stream_with_length(body, f.bytes)
                .file_name(f.filename.clone());
            if let Some(ct) = &f.content_type {
                part = part
                    .mime_str(ct)
                    .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            }
            form = form.part(f.field.clone(), part);
        }
        Ok(form)
    }
}

/// Adds `value` under `name` (without `[]`); a repeated or `[]` name makes a list.
fn add(out: &mut Map<String, Value>, name: &str, value: Value) {
    let key = base(name);
    match out.get_mut(key) {
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
        None if name.ends_with("[]") => {
            out.insert(key.to_string(), Value::Array(vec![value]));
        }
        None => {
            out.insert(key.to_string(), value);
        }
    }
}

/// A text field's value with the type OpenAI gives it.
fn typed(key: &str, text: &str) -> Value {
    let string = || Value::String(text.to_string());
    match key {
        "stream" => match text.trim() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => string(),
        },
        "temperature" | "n" => text
            .trim()
            .parse::<serde_json::Number>()
            .map(Value::Number)
            .unwrap_or_else(|_| string()),
        "chunking_strategy" if text.trim_start().starts_with('{') => {
            serde_json::from_str(text).unwrap_or_else(|_| string())
        }
        _ => string(),
    }
}

/// A JSON value as a form field's text.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Spooled;
    use super::*;

    fn form() -> Form {
        let fields = [
            ("model", "whisper-1"),
            ("stream", "true"),
            ("temperature", "0.2"),
            ("timestamp_granularities[]", "word"),
            ("timestamp_granularities[]", "segment"),
            ("chunking_strategy", r#"{"type":"server_vad"}"#),
            ("language", "en"),
        ];
        Form {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            files: vec![Spooled {
                field: "file".into(),
                filename: "a.wav".into(),
                content_type: Some("audio/wav".into()),
                bytes: 3,
                path: "/nonexistent/never-read".into(),
            }],
        }
    }

    #[test]
    fn renders_typed_fields_lists_and_file_descriptors() {
        let f = form();
        let v = Value::Object(f.render());
        assert_eq!(v["model"], "whisper-1");
        assert_eq!(v["stream"], true);
        assert_eq!(v["temperature"], 0.2);
        assert_eq!(v["timestamp_granularities"], json!(["word", "segment"]));
        assert_eq!(v["chunking_strategy"]["type"], "server_vad");
        assert_eq!(v["language"], "en");
        assert_eq!(
            v["file"],
            json!({"filename": "a.wav", "content_type": "audio/wav", "bytes": 3})
        );
    }

    #[test]
    fn several_images_make_a_list() {
        let mut out = Map::new();
        add(&mut out, "image", json!(1));
        add(&mut out, "image", json!(2));
        add(&mut out, "mask", json!(3));
        add(&mut out, "image[]", json!(4));
        assert_eq!(Value::Object(out), json!({"image": [1, 2, 4], "mask": 3}));
        let mut one = Map::new();
        add(&mut one, "image[]", json!(1));
        assert_eq!(Value::Object(one), json!({"image": [1]}));
        assert_eq!(typed("n", "x"), json!("x"));
        assert_eq!(typed("stream", "maybe"), json!("maybe"));
        assert_eq!(text_of(&json!(0.5)), "0.5");
    }
}
