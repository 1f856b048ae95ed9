//! Sluice: an OpenAI-compatible AI gateway whose request pipeline is made of WebAssembly
//! components.
//!
//! The binary (`src/main.rs`) is a thin CLI over this library. The library is split as the
//! architecture is: [`config`] (gateway.toml), [`pipeline`] (the Wasm runtime and the stages),
//! [`host_api`] (what plugins may touch), [`upstream`] (outbound HTTP), [`store`] (keys and
//! usage in SQLite) and [`server`] (the
//! OpenAI-compatible HTTP surface).

pub mod config;
pub mod host_api;
pub mod pipeline;
pub mod server;
pub mod store;
pub mod upstream;
