//! The `[files]`, `[batches]` and `[responses]` tables: limits of the stored-file, batch and
//! stored-response features.

use serde::Deserialize;

/// `[files]`: limits on uploaded files.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    /// Largest file, in bytes (OpenAI's limit: 512 MB).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    /// Largest file of purpose `batch`, in bytes (OpenAI's limit: 200 MB).
    #[serde(default = "default_max_batch_file_bytes")]
    pub max_batch_file_bytes: u64,
    /// Bytes one owner may keep in live files.
    #[serde(default = "default_max_owner_bytes")]
    pub max_owner_bytes: u64,
    /// How often expired files are removed, in seconds.
    #[serde(default = "default_sweep_interval")]
    pub sweep_interval_s: u64,
    /// Where file contents live: `local` (`data_dir/files`, the default) or `s3` (any
    /// S3-compatible object store, shared by every replica). Changing it takes a restart.
    #[serde(default)]
    pub store: ContentStore,
    /// `s3`: the bucket.
    #[serde(default)]
    pub bucket: Option<String>,
    /// `s3`: prepended to every object's name (`sluice/files/`).
    #[serde(default)]
    pub prefix: String,
    /// `s3`: the endpoint of an S3-compatible store (MinIO, R2, Ceph...); AWS's when absent.
    /// Credentials come from the usual `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` variables.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// `s3`: the region (`AWS_REGION` when absent, else `us-east-1`).
    #[serde(default)]
    pub region: Option<String>,
}

/// `[files] store`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum ContentStore {
    /// `data_dir/files`.
    #[default]
    Local,
    /// An S3-compatible object store.
    S3,
}

impl Default for FilesConfig {
    fn default() -> Self {
        FilesConfig {
            max_file_bytes: default_max_file_bytes(),
            max_batch_file_bytes: default_max_batch_file_bytes(),
            max_owner_bytes: default_max_owner_bytes(),
            sweep_interval_s: default_sweep_interval(),
            store: ContentStore::default(),
            bucket: None,
            prefix: String::new(),
            endpoint: None,
            region: None,
        }
    }
}

fn default_max_file_bytes() -> u64 {
    512 << 20
}
fn default_max_batch_file_bytes() -> u64 {
    200 << 20
}
fn default_max_owner_bytes() -> u64 {
    10 << 30
}
fn default_sweep_interval() -> u64 {
    60
}

/// `[batches]`: how batches run.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BatchesConfig {
    /// Lines one batch may have.
    #[serde(default = "default_max_lines")]
    pub max_lines: usize,
    /// Batch lines running at once, over every batch (interactive requests are not counted).
    #[serde(default = "default_batch_concurrency")]
    pub concurrency: usize,
    /// Lines of one batch running at once.
    #[serde(default = "default_per_batch")]
    pub per_batch_concurrency: usize,
    /// Batch lines running at once, over every batch, while interactive requests are in flight
    /// (or were in the last quarter second): batches give way to interactive traffic.
    #[serde(default = "default_when_busy")]
    pub concurrency_when_busy: usize,
    /// Batches one owner may have in progress at once.
    #[serde(default = "default_max_active")]
    pub max_active_per_owner: u64,
    /// Seconds a replica holds the lines it took before another may take them over (renewed
    /// while they run): how long a batch waits for the lines of a replica that died.
    #[serde(default = "default_lease")]
    pub lease_s: u64,
}

impl Default for BatchesConfig {
    fn default() -> Self {
        BatchesConfig {
            max_lines: default_max_lines(),
            concurrency: default_batch_concurrency(),
            per_batch_concurrency: default_per_batch(),
            concurrency_when_busy: default_when_busy(),
            max_active_per_owner: default_max_active(),
            lease_s: default_lease(),
        }
    }
}

fn default_max_lines() -> usize {
    50_000
}
fn default_batch_concurrency() -> usize {
    16
}
fn default_per_batch() -> usize {
    8
}
fn default_when_busy() -> usize {
    1
}
fn default_max_active() -> u64 {
    20
}
fn default_lease() -> u64 {
    30
}

/// `[responses]`: how long the gateway keeps the responses of `POST /v1/responses`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ResponsesConfig {
    /// Days a stored response (and the conversation that led to it) is kept, for
    /// `previous_response_id` and `GET /v1/responses/{id}`; 0 keeps none.
    #[serde(default = "default_retention_days")]
    pub retention_days: u64,
    /// Items one conversation may carry (its chain of `previous_response_id`s): a longer one is
    /// refused with a 400 rather than sent upstream whole.
    #[serde(default = "default_max_items")]
    pub max_items: usize,
}

impl Default for ResponsesConfig {
    fn default() -> Self {
        ResponsesConfig {
            retention_days: default_retention_days(),
            max_items: default_max_items(),
        }
    }
}

fn default_retention_days() -> u64 {
    30
}
fn default_max_items() -> usize {
    10_000
}
