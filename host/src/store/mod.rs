//! Durable state: managed API keys, usage records, files, batches and stored responses, in SQLite
//! under the data folder (the default) or in PostgreSQL (several gateways sharing one database);
//! file contents stay in the data folder.
//!
//! Every store is written once over [`Db`] and the SQL of [`sql`], which both engines run.

#[cfg(test)]
mod batch_tests;
mod batches;
mod contents;
mod db;
#[cfg(test)]
mod db_tests;
mod files;
mod keys;
mod pg_schema;
mod postgres;
mod responses;
pub mod sql;
mod sqlite;
#[cfg(test)]
pub(crate) mod testing;
mod usage;
mod usage_query;

pub use batches::{
    ACTIVE, Batch, BatchError, BatchErrors, BatchStore, BatchUsage, CachedTokens, Creator,
    PendingLine, ReasoningTokens, RequestCounts,
};
pub use contents::{ContentError, Contents};
pub use db::{Db, Engine, Exec, PgError, StoreError, Tx};
pub use files::{FileList, FileRecord, FileStore, ListOrder};
pub use keys::{KeyRecord, KeyStore, NewKey, hash_secret, new_secret};
pub use responses::{Conversation, ResponseStore, StoredResponse};
pub use usage::{UsageRow, UsageWriter};
pub use usage_query::{
    UsageError, UsagePoint, UsageQuery, UsageTotals, query_usage, recent_errors, usage_series,
};
