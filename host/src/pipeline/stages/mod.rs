//! The stage runner: calls into the auth, policy, adapter and enrich plugins of a pipeline, applies
//! each plugin's `on_error`, and gathers what stages add to a response. Endpoints call these; they
//! never call plugin bindings themselves.

pub mod adapter;
mod additions;
mod auth;
mod enrich;
mod policy;

pub use additions::Additions;
pub use auth::{authenticate, model_allowed};
pub use enrich::run_enrich;
pub use policy::{PolicyOutcome, run_on_complete, run_policies};
