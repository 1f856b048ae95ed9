//! The HTTP surface, one folder per endpoint family. Each family exposes its routes; `app()`
//! mounts them.

pub mod admin;
pub mod batches;
pub mod caller;
pub mod dashboard;
pub mod files;
pub mod llm;
pub mod mcp;
pub mod models;
