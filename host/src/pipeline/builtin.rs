//! The first-party plugins compiled into the binary (built to `.wasm` by `build.rs`).

/// The component bytes of built-in plugin `name` (`key-auth`, `rate-limit`, `cost`, `openai`, `anthropic`, `gemini`, `echo`).
pub fn bytes(name: &str) -> Option<&'static [u8]> {
    match name {
        "key-auth" => Some(include_bytes!(concat!(env!("OUT_DIR"), "/key-auth.wasm"))),
        "openai" => Some(include_bytes!(concat!(env!("OUT_DIR"), "/openai.wasm"))),
        "echo" => Some(include_bytes!(concat!(env!("OUT_DIR"), "/echo.wasm"))),
        "rate-limit" => Some(include_bytes!(concat!(env!("OUT_DIR"), "/rate-limit.wasm"))),
        "cost" => Some(include_bytes!(concat!(env!("OUT_DIR"), "/cost.wasm"))),
        "anthropic" => Some(include_bytes!(concat!(env!("OUT_DIR"), "/anthropic.wasm"))),
        "gemini" => Some(include_bytes!(concat!(env!("OUT_DIR"), "/gemini.wasm"))),
        _ => None,
    }
}
