//! The HTTP layer under the endpoints: where credentials come from ([`auth`]), serving
//! connections with their limits and drain ([`serve`]) on one runtime per core ([`cores`]), and server-sent events ([`sse`]).

pub mod auth;
pub mod body;
pub mod cores;
mod idle;
pub mod serve;
pub mod sse;
pub mod tls;
pub mod trim;

pub use serve::{Limits, serve};
