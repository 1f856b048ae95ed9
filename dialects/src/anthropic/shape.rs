//! Small readers of JSON values that refuse a wrong type with a 400 naming the path.

use crate::Invalid;
use serde_json::{Map, Value};

/// The JSON type of `v`, for messages.
pub(super) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `v` as an object.
pub(super) fn object<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>, Invalid> {
    v.as_object().ok_or_else(|| {
        Invalid::field(
            path,
            format!("`{path}` must be an object, not {}", type_name(v)),
        )
    })
}

/// `v` as an array.
pub(super) fn array<'a>(v: &'a Value, path: &str) -> Result<&'a Vec<Value>, Invalid> {
    v.as_array().ok_or_else(|| {
        Invalid::field(
            path,
            format!("`{path}` must be an array, not {}", type_name(v)),
        )
    })
}

/// `v` as a string.
pub(super) fn string<'a>(v: &'a Value, path: &str) -> Result<&'a str, Invalid> {
    v.as_str().ok_or_else(|| {
        Invalid::field(
            path,
            format!("`{path}` must be a string, not {}", type_name(v)),
        )
    })
}

/// The field `key` of `m`, absent when missing or null.
pub(super) fn get<'a>(m: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    m.get(key).filter(|v| !v.is_null())
}

/// The optional string field `key` of `m` (at `path`).
pub(super) fn opt_str<'a>(
    m: &'a Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<&'a str>, Invalid> {
    get(m, key).map(|v| string(v, path)).transpose()
}

/// The optional number field `key` of `m`.
pub(super) fn opt_number<'a>(
    m: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a Value>, Invalid> {
    match get(m, key) {
        None => Ok(None),
        Some(v) if v.is_number() => Ok(Some(v)),
        Some(v) => Err(Invalid::field(
            key,
            format!("`{key}` must be a number, not {}", type_name(v)),
        )),
    }
}

/// The optional boolean field `key` of `m` (at `path`).
pub(super) fn opt_bool(
    m: &Map<String, Value>,
    key: &str,
    path: &str,
) -> Result<Option<bool>, Invalid> {
    match get(m, key) {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(v) => Err(Invalid::field(
            path,
            format!("`{path}` must be a boolean, not {}", type_name(v)),
        )),
    }
}

/// A count from an object field (absent, negative or not an integer: 0), capped at `u32::MAX`.
pub(super) fn count(v: &Value, key: &str) -> u32 {
    v.get(key)
        .and_then(Value::as_u64)
        .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// The `text` of a text block.
pub(super) fn block_text(block: &Map<String, Value>, path: &str) -> Result<String, Invalid> {
    match block.get("text") {
        Some(t) => string(t, &format!("{path}.text")).map(str::to_string),
        None => Err(Invalid::field(
            format!("{path}.text"),
            "a `text` block needs `text`",
        )),
    }
}

/// Content blocks, each with its path.
pub(super) type Blocks<'a> = Vec<(String, &'a Map<String, Value>)>;

/// The blocks of a message's `content`; none for a string.
pub(super) fn blocks<'a>(content: &'a Value, path: &str) -> Result<Option<Blocks<'a>>, Invalid> {
    if content.is_string() {
        return Ok(None);
    }
    let mut out = Vec::new();
    for (j, block) in array(content, path)?.iter().enumerate() {
        let bpath = format!("{path}[{j}]");
        let obj = object(block, &bpath)?;
        out.push((bpath, obj));
    }
    Ok(Some(out))
}

/// The type of a block, required.
pub(super) fn block_kind<'a>(
    block: &'a Map<String, Value>,
    path: &str,
) -> Result<&'a str, Invalid> {
    match block.get("type") {
        Some(t) => string(t, &format!("{path}.type")),
        None => Err(Invalid::field(
            format!("{path}.type"),
            "a content block needs a `type`",
        )),
    }
}

/// The refusal of a block type this translation does not carry.
pub(super) fn unsupported(path: &str, kind: &str) -> Invalid {
    Invalid::field(
        path,
        format!(
            "`{kind}` content blocks are not supported by this provider (it is not Anthropic's); \
             use an Anthropic provider"
        ),
    )
}

/// The `source` object of an image or document block, and its `type`.
pub(super) fn source<'a>(
    block: &'a Map<String, Value>,
    path: &str,
) -> Result<(&'a Map<String, Value>, &'a str, String), Invalid> {
    let spath = format!("{path}.source");
    let src = match block.get("source") {
        Some(s) => object(s, &spath)?,
        None => return Err(Invalid::field(spath, "`source` is required")),
    };
    let kind = match src.get("type") {
        Some(t) => string(t, &format!("{spath}.type"))?,
        None => {
            return Err(Invalid::field(
                format!("{spath}.type"),
                "`type` is required",
            ));
        }
    };
    Ok((src, kind, spath))
}

/// A required string field of a source.
pub(super) fn field<'a>(
    src: &'a Map<String, Value>,
    key: &str,
    spath: &str,
) -> Result<&'a str, Invalid> {
    match src.get(key) {
        Some(v) => string(v, &format!("{spath}.{key}")),
        None => Err(Invalid::field(
            format!("{spath}.{key}"),
            format!("`{key}` is required"),
        )),
    }
}
