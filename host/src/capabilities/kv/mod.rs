//! The `kv` capability: values with optional expiry and atomic windowed counters, namespaced per
//! plugin. [`KvStore`] is the backend seam (in memory today; a shared store such as Redis later, so
//! that counters hold across replicas) and `glue` is the WIT import on top of it.

mod glue;
mod memory;
mod store;

pub use memory::MemoryKv;
pub use store::{KvStore, Reservation, Reserved, WindowCount};
