//! Durable state: managed API keys, usage records, files, batches and stored responses, in SQLite under the data
//! folder (file contents beside it).
//!
//! One database file (`sluice.db`), opened in WAL mode so the gateway and the `sluice keys` /
//! `sluice usage` commands can use it at the same time.

mod batches;
mod db;
mod files;
mod keys;
mod responses;
mod usage;
mod usage_query;

pub use batches::{
    ACTIVE, Batch, BatchError, BatchErrors, BatchStore, BatchUsage, CachedTokens, Creator,
    PendingLine, ReasoningTokens, RequestCounts,
};
pub use db::{Db, StoreError};
pub use files::{FileList, FileRecord, FileStore, ListOrder};
pub use keys::{KeyRecord, KeyStore, NewKey, hash_secret, new_secret};
pub use responses::{Conversation, ResponseStore, StoredResponse};
pub use usage::{UsageRow, UsageWriter};
pub use usage_query::{
    UsageError, UsagePoint, UsageQuery, UsageTotals, query_usage, recent_errors, usage_series,
};
