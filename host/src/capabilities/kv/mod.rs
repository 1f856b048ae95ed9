//! The `kv` capability: values with optional expiry and atomic windowed counters, namespaced per
//! plugin. [`Kv`] is the store a gateway shares between its plugins: in process memory
//! ([`MemoryKv`], the default) or on Redis (`redis`, shared by every replica, so that limits hold
//! across them); `glue` is the WIT import on top of it.

mod glue;
mod memory;
mod redis;
mod shared;
mod store;

pub use memory::MemoryKv;
pub use redis::KvUnavailable;
pub use shared::{Kv, KvResult};
pub use store::{KvStore, Reservation, Reserved, WindowCount};
