//! Sluice: an OpenAI-compatible AI gateway whose request pipeline is made of WebAssembly
//! components.
//!
//! The binary (`src/main.rs`) is a thin CLI over this library. The modules follow the
//! architecture, lower layers first: [`time`], [`error`] (the one error type), [`config`]
//! (gateway.toml), [`store`] (keys and usage in SQLite or PostgreSQL), [`upstream`] (outbound
//! HTTP), [`capabilities`] (what plugins may touch), [`builtin`] (the embedded plugins),
//! [`pipeline`] (the Wasm runtime and the stage runner), [`state`] and [`reload`] (the gateway
//! and its hot reload), [`endpoints`] (one folder per endpoint family), [`app`] (the router) and
//! [`http`] (credentials, and serving connections with their timeouts and drain).

pub mod app;
pub mod authoring;
pub mod budgets;
pub mod builtin;
pub mod capabilities;
pub mod config;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod mcp;
pub mod pipeline;
#[cfg(test)]
pub(crate) mod props;
pub mod reload;
pub mod state;
pub mod store;
pub mod telemetry;
pub mod time;
pub mod upstream;
pub mod webhooks;

pub use app::app;
