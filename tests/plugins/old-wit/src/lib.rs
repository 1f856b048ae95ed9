//! A policy plugin built against `sluice:plugin@0.0.9`: the gateway must refuse to load it.
#![allow(unsafe_code)]

mod bindings {
    #![allow(missing_docs)]
    wit_bindgen::generate!({ world: "policy", path: "wit" });
}
use bindings::exports;

struct Old;

impl exports::sluice::plugin::lifecycle::Guest for Old {
    fn init(_config_json: String) -> Result<(), String> {
        Ok(())
    }
}

#[cfg(target_arch = "wasm32")]
bindings::export!(Old with_types_in bindings);

/// Keeps the export reachable in native builds, where nothing is exported.
#[cfg(not(target_arch = "wasm32"))]
pub fn entry_point() -> usize {
    <Old as exports::sluice::plugin::lifecycle::Guest>::init as *const () as usize
}
