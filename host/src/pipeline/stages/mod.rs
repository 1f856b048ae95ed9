//! The stage runner: calls into the auth, policy, guard, adapter, enrich and MCP policy plugins of a pipeline, applies
//! each plugin's `on_error`, and gathers what stages add to a response. Endpoints call these; they
//! never call plugin bindings themselves.

pub mod adapter;
mod additions;
mod auth;
mod enrich;
mod guard;
mod mcp;
mod policy;

pub use additions::Additions;
pub use auth::{Tier, authenticate, mcp_server_allowed, model_allowed};
pub use enrich::run_enrich;
pub use guard::{StreamGuards, run_guards_json};
pub use mcp::{McpVerdict, run_mcp_request, run_mcp_result};
pub use policy::{PolicyOutcome, run_on_complete, run_policies};
