//! The first-party plugins compiled into the binary (built to `.wasm` by `build.rs`).

/// The component bytes of built-in plugin `name` (`key-auth`, `openai`, `echo`).
pub fn bytes(name: &str) -> Option<&'static [u8]> {
    match name {
        "key-auth" => Some(include_bytes!(concat!(env!("OUT_DIR"), "/key-auth.wasm"))),
        "openai" => Some(include_bytes!(concat!(env!("OUT_DIR"), "/openai.wasm"))),
        "echo" => Some(include_bytes!(concat!(env!("OUT_DIR"), "/echo.wasm"))),
        _ => None,
    }
}
