//! Hints a plugin gives the host about itself, outside the contract's calls: custom sections of
//! the component that the host reads when it loads the plugin.
//!
//! [`reads_headers!`](crate::reads_headers) declares which request headers the plugin reads
//! (`RequestCtx::headers`). Without it the host passes every header to every call, copying each
//! name and value into the plugin's memory; with it the host passes only those named, and none
//! when the list is empty. The saving is about a microsecond per call and header: for a plugin
//! called twice per request with a typical SDK client's ten headers, ~10% of the gateway's CPU
//! per request.
//!
//! ```
//! // This plugin reads the W3C `traceparent` header and no other.
//! sluice_plugin_sdk::reads_headers!("traceparent");
//! ```
//!
//! ```
//! // This plugin reads no request header.
//! sluice_plugin_sdk::reads_headers!();
//! ```

/// The name of the custom section that lists the headers a plugin reads: the line `1` (the
/// format's version), then one lowercase header name per line.
pub const READS_HEADERS_SECTION: &str = "sluice:reads-headers";

/// The section's content for `names` joined as the macro joins them (`"1\n"` then each name and
/// `"\n"`), as a fixed-size array. Used by [`reads_headers!`](crate::reads_headers).
#[doc(hidden)]
pub const fn section<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// Declares the request headers the plugin reads (lowercase names); no names: it reads none.
/// Call it once, at the crate's top level. The host then passes only those headers in
/// `RequestCtx::headers`, which saves copying the others into the plugin on every call. A plugin
/// that reads a header it did not list sees it missing.
#[macro_export]
macro_rules! reads_headers {
    ($($name:literal),* $(,)?) => {
        #[used]
        #[unsafe(link_section = "sluice:reads-headers")]
        static __SLUICE_READS_HEADERS: [u8; concat!("1\n", $($name, "\n"),*).len()] =
            $crate::hints::section(concat!("1\n", $($name, "\n"),*));
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_section_is_the_version_line_then_a_name_per_line() {
        const S: [u8; 21] = super::section("1\ntraceparent\nx-team\n");
        assert_eq!(&S, b"1\ntraceparent\nx-team\n");
        const E: [u8; 2] = super::section("1\n");
        assert_eq!(&E, b"1\n");
    }
}
