//! Durable state: managed API keys and usage records, in SQLite under the data folder.
//!
//! One database file (`sluice.db`), opened in WAL mode so the gateway and the `sluice keys` /
//! `sluice usage` commands can use it at the same time.

mod db;
mod files;
mod keys;
mod usage;

pub use db::{Db, StoreError};
pub use files::{FileList, FileRecord, FileStore, ListOrder};
pub use keys::{KeyRecord, KeyStore, NewKey, hash_secret, new_secret};
pub use usage::{UsageQuery, UsageRow, UsageTotals, UsageWriter, query_usage};
