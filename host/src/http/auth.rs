//! Credentials: where a client's key is read from, and which headers plugins may see.

use axum::http::HeaderMap;

/// The bearer token (`Authorization: Bearer`), or the `x-api-key` / `api-key` header.
pub fn credential(headers: &HeaderMap) -> Option<String> {
    if let Some(v) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let v = v.trim();
        let token = match v.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
            _ => v,
        };
        return Some(token.to_string());
    }
    ["x-api-key", "api-key"]
        .iter()
        .find_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .map(|v| v.trim().to_string())
}

/// Headers plugins see: everything but credentials and cookies, names lower-case.
pub fn plugin_headers(headers: &HeaderMap) -> Vec<(String, String)> {
    header_pairs(headers, |name| {
        !matches!(
            name,
            "authorization" | "x-api-key" | "api-key" | "cookie" | "proxy-authorization"
        )
    })
}

/// The headers named by `keep` as (name, value) pairs; values that are not text are left out.
pub fn header_pairs(headers: &HeaderMap, keep: impl Fn(&str) -> bool) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(k, _)| keep(k.as_str()))
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_string(), v.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_comes_from_bearer_or_api_key_headers() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer sk-1".parse().expect("header"));
        assert_eq!(credential(&h).as_deref(), Some("sk-1"));
        let mut h = HeaderMap::new();
        h.insert("x-api-key", "sk-2".parse().expect("header"));
        assert_eq!(credential(&h).as_deref(), Some("sk-2"));
        assert_eq!(credential(&HeaderMap::new()), None);
    }

    #[test]
    fn plugins_never_see_credentials() {
        let mut h = HeaderMap::new();
        h.insert("authorization", "Bearer sk-1".parse().expect("header"));
        h.insert("x-api-key", "sk-2".parse().expect("header"));
        h.insert("x-team", "a".parse().expect("header"));
        assert_eq!(
            plugin_headers(&h),
            vec![("x-team".to_string(), "a".to_string())]
        );
    }
}
