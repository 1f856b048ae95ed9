//! A policy plugin built against `sluice:plugin@0.0.9`: the gateway must refuse to load it.
#![allow(unsafe_code)]

wit_bindgen::generate!({ world: "policy", path: "wit" });

struct Old;

impl exports::sluice::plugin::lifecycle::Guest for Old {
    fn init(_config_json: String) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(target_arch = "wasm32")]
export!(Old);

/// Keeps the export reachable in native builds, where nothing is exported.
#[cfg(not(target_arch = "wasm32"))]
pub fn entry_point() -> usize {
    <Old as exports::sluice::plugin::lifecycle::Guest>::init as usize
}
