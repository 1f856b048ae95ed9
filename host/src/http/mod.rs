//! The HTTP layer under the endpoints: where credentials come from ([`auth`]), serving
//! connections with their limits and drain ([`serve`]), and server-sent events ([`sse`]).

pub mod auth;
pub mod body;
mod idle;
pub mod serve;
pub mod sse;

pub use serve::{Limits, serve};
