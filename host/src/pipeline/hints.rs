//! What a plugin's component says about itself in custom sections, read once at load: the
//! request headers it reads (`sluice:reads-headers`, written by the Rust SDK's `reads_headers!`).
//! A plugin without the section gets every header, as the contract promises.

use super::bindings::types::RequestCtx;
use std::borrow::Cow;
use std::sync::Arc;

/// The custom section's name.
const READS_HEADERS: &str = "sluice:reads-headers";

/// The request headers a plugin is given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HeaderUse {
    /// Every header the host passes on (no declaration).
    #[default]
    All,
    /// Only these (lowercase names); none when empty.
    Only(Arc<[String]>),
}

impl HeaderUse {
    /// Reads the declaration from a component's bytes (its own custom sections and those of the
    /// core modules inside it). Anything unreadable, or a format version this host does not know,
    /// counts as no declaration.
    pub fn of_component(bytes: &[u8]) -> HeaderUse {
        let mut names: Option<Vec<String>> = None;
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            let Ok(payload) = payload else {
                return HeaderUse::All;
            };
            let wasmparser::Payload::CustomSection(section) = payload else {
                continue;
            };
            if section.name() != READS_HEADERS {
                continue;
            }
            let Some(list) = parse(section.data()) else {
                return HeaderUse::All;
            };
            names.get_or_insert_with(Vec::new).extend(list);
        }
        match names {
            Some(mut n) => {
                n.sort();
                n.dedup();
                HeaderUse::Only(n.into())
            }
            None => HeaderUse::All,
        }
    }

    /// `ctx` as this plugin sees it: the same when it reads every header, else a copy with only
    /// the headers it declared.
    pub fn view<'a>(&self, ctx: &'a RequestCtx) -> Cow<'a, RequestCtx> {
        match self {
            HeaderUse::All => Cow::Borrowed(ctx),
            HeaderUse::Only(names) => Cow::Owned(RequestCtx {
                request_id: ctx.request_id.clone(),
                endpoint: ctx.endpoint,
                model: ctx.model.clone(),
                stream: ctx.stream,
                user_id: ctx.user_id.clone(),
                key_id: ctx.key_id.clone(),
                headers: ctx
                    .headers
                    .iter()
                    .filter(|(k, _)| names.iter().any(|n| n.eq_ignore_ascii_case(k)))
                    .cloned()
                    .collect(),
            }),
        }
    }
}

/// The section's names: version line `1`, then a header name per line.
fn parse(data: &[u8]) -> Option<Vec<String>> {
    let text = std::str::from_utf8(data).ok()?;
    let mut lines = text.lines();
    if lines.next()? != "1" {
        return None;
    }
    Some(
        lines
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_ascii_lowercase)
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::bindings::types::Endpoint;

    /// A core module with the given custom sections (short ones: one-byte LEB128 sizes).
    fn module(sections: &[(&str, &[u8])]) -> Vec<u8> {
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        for (name, data) in sections {
            let body = 1 + name.len() + data.len();
            assert!(body < 128 && name.len() < 128);
            m.extend([0, body as u8, name.len() as u8]);
            m.extend(name.as_bytes());
            m.extend(*data);
        }
        m
    }

    fn ctx() -> RequestCtx {
        RequestCtx {
            request_id: "r1".into(),
            endpoint: Endpoint::ChatCompletions,
            model: "m".into(),
            stream: false,
            user_id: None,
            key_id: Some("k".into()),
            headers: vec![
                ("traceparent".into(), "00-ab-cd-01".into()),
                ("user-agent".into(), "sdk".into()),
            ],
        }
    }

    #[test]
    fn no_section_means_every_header() {
        assert_eq!(HeaderUse::of_component(&module(&[])), HeaderUse::All);
        assert_eq!(HeaderUse::of_component(b"not wasm"), HeaderUse::All);
        let c = ctx();
        assert!(matches!(HeaderUse::All.view(&c), Cow::Borrowed(_)));
    }

    #[test]
    fn a_declared_list_keeps_those_headers_only() {
        let bytes = module(&[(READS_HEADERS, b"1\nTraceparent\n")]);
        let use_ = HeaderUse::of_component(&bytes);
        assert_eq!(
            use_,
            HeaderUse::Only(vec!["traceparent".to_string()].into())
        );
        let c = ctx();
        let seen = use_.view(&c);
        assert_eq!(
            seen.headers,
            vec![("traceparent".into(), "00-ab-cd-01".into())]
        );
        assert_eq!(seen.request_id, "r1");
        assert_eq!(seen.key_id.as_deref(), Some("k"));
    }

    #[test]
    fn an_empty_list_keeps_none_and_an_unknown_version_counts_as_none_declared() {
        let none = HeaderUse::of_component(&module(&[(READS_HEADERS, b"1\n")]));
        assert!(none.view(&ctx()).headers.is_empty());
        let future = HeaderUse::of_component(&module(&[(READS_HEADERS, b"2\nx\n")]));
        assert_eq!(future, HeaderUse::All);
        let junk = HeaderUse::of_component(&module(&[(READS_HEADERS, &[0xff, 0xfe])]));
        assert_eq!(junk, HeaderUse::All);
    }

    /// The SDK's `reads_headers!` survives the build into the component, and the host finds it.
    #[test]
    fn built_in_plugins_declare_what_they_read() {
        let of = |name: &str| {
            HeaderUse::of_component(crate::builtin::get(name).expect("built-in").bytes)
        };
        assert_eq!(of("rate-limit"), HeaderUse::Only(Vec::new().into()));
        assert_eq!(of("key-auth"), HeaderUse::Only(Vec::new().into()));
        assert_eq!(of("openai"), HeaderUse::Only(Vec::new().into()));
        assert_eq!(
            of("cost"),
            HeaderUse::Only(vec!["traceparent".to_string()].into())
        );
        // The anthropic adapter forwards `anthropic-*` headers on its native lane: it gets all.
        assert_eq!(of("anthropic"), HeaderUse::All);
    }
}
