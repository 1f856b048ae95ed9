//! The one place `bindgen!` runs: typed bindings for each stage world of `sluice:plugin@0.1.0`.
//!
//! The `policy` module generates the shared interfaces (`types`, `host`, `kv`); the other worlds
//! reuse them through `with`, so the host implements its imports once and one linker serves every
//! world. Exports are async: plugin calls run on fibers, so WASI's async host functions (a
//! guest's panic message written to stderr, say) work inside the tokio runtime.
#![allow(missing_docs, clippy::all)]

pub mod policy {
    wasmtime::component::bindgen!({
        world: "policy",
        path: "../wit",
        exports: { default: async },
    });
}

/// The auth world also generates `keys`, whose lookup is async: it waits on the key store's
/// blocking thread, not on an async worker.
pub mod auth {
    wasmtime::component::bindgen!({
        world: "auth",
        path: "../wit",
        exports: { default: async },
        imports: { "sluice:plugin/keys.lookup": async },
        with: {
            "sluice:plugin/types": super::policy::sluice::plugin::types,
            "sluice:plugin/host": super::policy::sluice::plugin::host,
            "sluice:plugin/kv": super::policy::sluice::plugin::kv,
        },
    });
}

/// Bindings of a world that reuses the interfaces generated in `policy`.
macro_rules! world {
    ($module:ident, $world:literal) => {
        pub mod $module {
            wasmtime::component::bindgen!({
                world: $world,
                path: "../wit",
                exports: { default: async },
                with: {
                    "sluice:plugin/types": super::policy::sluice::plugin::types,
                    "sluice:plugin/host": super::policy::sluice::plugin::host,
                    "sluice:plugin/kv": super::policy::sluice::plugin::kv,
                },
            });
        }
    };
}

world!(adapter, "provider-adapter");
world!(enrich, "enrich");

pub use auth::sluice::plugin::keys as keys_if;
pub use policy::sluice::plugin::host as host_if;
pub use policy::sluice::plugin::kv as kv_if;
pub use policy::sluice::plugin::types;
