//! The HTTP layer under the endpoints: where credentials come from ([`auth`]), and serving
//! connections with their limits and drain ([`serve`]).

pub mod auth;
mod idle;
pub mod serve;

pub use serve::{Limits, serve};
