//! The one place `bindgen!` runs: typed bindings for each stage world of the plugin contract, in
//! both versions the host loads. [`v2`] is `sluice:plugin@0.2.0` (`wit/plugin.wit`), the host's
//! own vocabulary; [`v1`] is the frozen `sluice:plugin@0.1.0` (`wit/deps/`), which `compat`
//! translates to and from.
//!
//! In each version the `policy` module generates the shared interfaces (`types`, `host`, `kv`, and
//! in 0.2 `prices`);
//! the other worlds reuse them through `with`, so the host implements each import once per
//! version and one linker serves every world. Exports are async: plugin calls run on fibers, so
//! WASI's async host functions (a guest's panic message written to stderr, say) work inside the
//! tokio runtime. `keys.lookup` is an async import: it waits on the key store's blocking thread;
//! the `kv` imports are async and trappable: Redis is a round trip away, and a store that cannot be
//! reached fails the call.
#![allow(missing_docs, clippy::all)]

/// Bindings of every stage world of one contract version found at `$path`, whose package module
/// bindgen names `$pkg`.
macro_rules! contract {
    ($version:ident, $path:literal, $pkg:ident $(, $extra:literal => $module:ident)*) => {
        pub mod $version {
            pub mod policy {
                wasmtime::component::bindgen!({
                    world: "policy",
                    path: $path,
                    exports: { default: async },
                    imports: { "sluice:plugin/kv": async | trappable },
                });
            }

            pub mod auth {
                wasmtime::component::bindgen!({
                    world: "auth",
                    path: $path,
                    exports: { default: async },
                    imports: { "sluice:plugin/keys.lookup": async },
                    with: {
                        "sluice:plugin/types": super::policy::sluice::$pkg::types,
                        "sluice:plugin/host": super::policy::sluice::$pkg::host,
                        "sluice:plugin/kv": super::policy::sluice::$pkg::kv,
                    },
                });
            }

            pub mod adapter {
                wasmtime::component::bindgen!({
                    world: "provider-adapter",
                    path: $path,
                    exports: { default: async },
                    with: {
                        "sluice:plugin/types": super::policy::sluice::$pkg::types,
                        "sluice:plugin/host": super::policy::sluice::$pkg::host,
                        "sluice:plugin/kv": super::policy::sluice::$pkg::kv,
                    },
                });
            }

            pub mod enrich {
                wasmtime::component::bindgen!({
                    world: "enrich",
                    path: $path,
                    exports: { default: async },
                    with: {
                        "sluice:plugin/types": super::policy::sluice::$pkg::types,
                        "sluice:plugin/host": super::policy::sluice::$pkg::host,
                        "sluice:plugin/kv": super::policy::sluice::$pkg::kv,
                        $($extra: super::policy::sluice::$pkg::$module,)*
                    },
                });
            }

            pub use adapter::exports::sluice::$pkg::adapter as adapter_if;
            pub use auth::sluice::$pkg::keys as keys_if;
            pub use policy::sluice::$pkg::host as host_if;
            pub use policy::sluice::$pkg::kv as kv_if;
            pub use policy::sluice::$pkg::types;
        }
    };
}

// `../wit` holds both versions (0.1.0 under deps/), so bindgen names the package by version.
contract!(v2, "../wit", plugin0_2_0, "sluice:plugin/prices" => prices);
contract!(v1, "../wit/deps/sluice-plugin-0.1.0", plugin);

/// The MCP policy world, new in 0.2 (0.1 has none).
pub mod mcp {
    wasmtime::component::bindgen!({
        world: "mcp-policy",
        path: "../wit",
        exports: { default: async },
        with: {
            "sluice:plugin/types": super::v2::policy::sluice::plugin0_2_0::types,
            "sluice:plugin/host": super::v2::policy::sluice::plugin0_2_0::host,
            "sluice:plugin/kv": super::v2::policy::sluice::plugin0_2_0::kv,
        },
    });

    pub use self::sluice::plugin0_2_0::mcp_types;
}

/// The guard world, new in 0.2 (0.1 has none).
pub mod guard {
    wasmtime::component::bindgen!({
        world: "guard",
        path: "../wit",
        exports: { default: async },
        with: {
            "sluice:plugin/types": super::v2::policy::sluice::plugin0_2_0::types,
            "sluice:plugin/host": super::v2::policy::sluice::plugin0_2_0::host,
            "sluice:plugin/kv": super::v2::policy::sluice::plugin0_2_0::kv,
        },
    });

    pub use self::exports::sluice::plugin0_2_0::guard_stage;
}

// The host speaks 0.2.
pub use guard::guard_stage;
pub use mcp::mcp_types;
/// The `prices` import (0.2 only; policy and enrich worlds).
pub use v2::policy::sluice::plugin0_2_0::prices as prices_if;
pub use v2::{adapter_if, host_if, keys_if, kv_if, types};
