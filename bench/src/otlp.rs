//! The mock's OTLP/HTTP trace sink (scenario 7). `POST /v1/traces` takes any body and answers 200
//! `{}`; it counts the export requests, their bytes and the spans in them (protobuf or JSON
//! `ExportTraceServiceRequest`s; a body it cannot read counts as unreadable, never as an error).
//! `GET /v1/traces` answers the counts so far as [`SinkStats`].

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

/// What the sink received since the mock started.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct SinkStats {
    /// Export requests (`POST /v1/traces`).
    pub requests: u64,
    /// Their body bytes.
    pub bytes: u64,
    /// Spans in them.
    pub spans: u64,
    /// Bodies that were neither an OTLP protobuf nor an OTLP JSON message.
    pub unreadable: u64,
}

static REQUESTS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static SPANS: AtomicU64 = AtomicU64::new(0);
static UNREADABLE: AtomicU64 = AtomicU64::new(0);

/// Answers a request to `/v1/traces`: the body of the answer (always JSON, status 200).
pub async fn handle(req: Request<Incoming>) -> Bytes {
    if req.method() != Method::POST {
        let stats = SinkStats {
            requests: REQUESTS.load(Ordering::Relaxed),
            bytes: BYTES.load(Ordering::Relaxed),
            spans: SPANS.load(Ordering::Relaxed),
            unreadable: UNREADABLE.load(Ordering::Relaxed),
        };
        return Bytes::from(serde_json::to_vec(&stats).unwrap_or_default());
    }
    let json = req
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    BYTES.fetch_add(body.len() as u64, Ordering::Relaxed);
    let spans = if json {
        spans_json(&body)
    } else {
        spans_protobuf(&body)
    };
    match spans {
        Some(n) => SPANS.fetch_add(n, Ordering::Relaxed),
        None => UNREADABLE.fetch_add(1, Ordering::Relaxed),
    };
    Bytes::from_static(b"{}")
}

/// The spans of a JSON `ExportTraceServiceRequest`: `resourceSpans[].scopeSpans[].spans[]`.
fn spans_json(body: &[u8]) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let mut n = 0;
    for rs in v.get("resourceSpans")?.as_array()? {
        for ss in rs
            .get("scopeSpans")
            .and_then(|s| s.as_array())
            .into_iter()
            .flatten()
        {
            n += ss
                .get("spans")
                .and_then(|s| s.as_array())
                .map_or(0, Vec::len) as u64;
        }
    }
    Some(n)
}

/// The spans of a protobuf `ExportTraceServiceRequest`: field 1 (`ResourceSpans`), its field 2
/// (`ScopeSpans`), and that one's field 2 (`Span`).
fn spans_protobuf(body: &[u8]) -> Option<u64> {
    let mut n = 0;
    for rs in fields(body, 1)? {
        for ss in fields(rs, 2)? {
            n += fields(ss, 2)?.len() as u64;
        }
    }
    Some(n)
}

/// The length-delimited fields numbered `want` of the protobuf message `b`, in order; None if `b`
/// is not a well-formed message.
fn fields(b: &[u8], want: u64) -> Option<Vec<&[u8]>> {
    let (mut out, mut i) = (Vec::new(), 0usize);
    while i < b.len() {
        let key = varint(b, &mut i)?;
        match key & 7 {
            0 => {
                varint(b, &mut i)?;
            }
            1 => i = i.checked_add(8)?,
            2 => {
                let len = usize::try_from(varint(b, &mut i)?).ok()?;
                let end = i.checked_add(len)?;
                let value = b.get(i..end)?;
                if key >> 3 == want {
                    out.push(value);
                }
                i = end;
            }
            5 => i = i.checked_add(4)?,
            _ => return None,
        }
    }
    (i == b.len()).then_some(out)
}

/// A base-128 varint at `b[*i..]`; advances `i` past it.
fn varint(b: &[u8], i: &mut usize) -> Option<u64> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*i)?;
        *i += 1;
        v |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A length-delimited field.
    fn ld(field: u8, value: &[u8]) -> Vec<u8> {
        let mut out = vec![field << 3 | 2];
        let mut len = value.len();
        while len >= 0x80 {
            out.push(len as u8 | 0x80);
            len >>= 7;
        }
        out.push(len as u8);
        out.extend_from_slice(value);
        out
    }

    #[test]
    fn counts_protobuf_spans() {
        // A span with a name (field 5) and a fixed64 start time (field 7).
        let mut span = ld(5, b"chat bench-model");
        span.extend([7 << 3 | 1, 1, 2, 3, 4, 5, 6, 7, 8]);
        let mut scope = ld(1, &ld(1, b"sluice"));
        scope.extend(ld(2, &span).repeat(3));
        let mut resource = ld(1, &ld(1, b"service.name"));
        resource.extend(ld(2, &scope));
        resource.extend(ld(2, &ld(2, &span)));
        let body = [ld(1, &resource), ld(1, &ld(2, &ld(2, &span)))].concat();
        assert_eq!(spans_protobuf(&body), Some(5));
        assert_eq!(spans_protobuf(&body[..body.len() - 1]), None);
        assert_eq!(spans_protobuf(b""), Some(0));
    }

    #[test]
    fn counts_json_spans() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{},{}]},{"spans":[{}]}]},{}]}"#;
        assert_eq!(spans_json(body), Some(3));
        assert_eq!(spans_json(b"{}"), None);
    }
}
