//! File contents: in the data folder (`data_dir/files/<id>`, the default), or in an S3-compatible
//! object store (the `object_store` crate) that every replica shares. Records stay in the
//! database ([`super::FileStore`]); this holds only the bytes.
//!
//! Uploads arrive in a spool file in the data folder first (streamed from the request); a complete
//! one is moved into place: renamed locally, or sent to the object store in parts of a few MiB, so
//! memory stays flat whatever the file's size.

use crate::config::{ContentStore, FilesConfig};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// A content store failure.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The local folder failed.
    #[error("file contents {id}: {source}")]
    Io {
        /// The file.
        id: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The object store failed (or is misconfigured).
    #[error("object store: {0}")]
    Object(#[from] object_store::Error),
}

impl ContentError {
    /// True when the file's bytes are not there.
    pub fn is_missing(&self) -> bool {
        match self {
            ContentError::Io { source, .. } => source.kind() == std::io::ErrorKind::NotFound,
            ContentError::Object(e) => matches!(e, object_store::Error::NotFound { .. }),
        }
    }
}

#[derive(Clone)]
enum Inner {
    Local(PathBuf),
    Object {
        store: Arc<dyn ObjectStore>,
        prefix: String,
    },
}

/// Where file contents live.
#[derive(Clone)]
pub struct Contents {
    inner: Inner,
}

/// The part size of uploads to the object store.
const PART: usize = 8 << 20;

impl Contents {
    /// File contents under `dir`.
    pub fn local(dir: &Path) -> Contents {
        Contents {
            inner: Inner::Local(dir.to_path_buf()),
        }
    }

    /// The store `[files]` asks for, beside the local folder `dir`.
    pub fn from_config(files: &FilesConfig, dir: &Path) -> Result<Contents, ContentError> {
        match files.store {
            ContentStore::Local => Ok(Contents::local(dir)),
            ContentStore::S3 => {
                // Its HTTP client is reqwest's, over rustls with the process's provider (ring, as
                // for the upstream clients); installing fails only if one is installed already.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let mut b = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(files.bucket.clone().unwrap_or_default());
                if let Some(region) = &files.region {
                    b = b.with_region(region);
                }
                if let Some(endpoint) = &files.endpoint {
                    b = b
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                Ok(Contents {
                    inner: Inner::Object {
                        store: Arc::new(b.build()?),
                        prefix: files.prefix.clone(),
                    },
                })
            }
        }
    }

    fn object(prefix: &str, id: &str) -> ObjectPath {
        ObjectPath::from(format!("{prefix}{id}"))
    }

    fn io(id: &str) -> impl FnOnce(std::io::Error) -> ContentError + '_ {
        move |source| ContentError::Io {
            id: id.to_string(),
            source,
        }
    }

    /// Moves the complete upload at `spool` into place as file `id` (the spool file is gone
    /// afterwards, whatever the outcome).
    pub async fn put_file(&self, id: &str, spool: &Path) -> Result<(), ContentError> {
        match &self.inner {
            Inner::Local(dir) => tokio::fs::rename(spool, dir.join(id))
                .await
                .map_err(Self::io(id)),
            Inner::Object { store, prefix } => {
                let sent = Self::send(store.as_ref(), &Self::object(prefix, id), spool).await;
                let _ = tokio::fs::remove_file(spool).await;
                sent
            }
        }
    }

    async fn send(
        store: &dyn ObjectStore,
        to: &ObjectPath,
        spool: &Path,
    ) -> Result<(), ContentError> {
        let mut file = tokio::fs::File::open(spool)
            .await
            .map_err(Self::io(to.as_ref()))?;
        let mut upload = WriteMultipart::new_with_chunk_size(store.put_multipart(to).await?, PART);
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = match file.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    let _ = upload.abort().await;
                    return Err(Self::io(to.as_ref())(e));
                }
            };
            upload.wait_for_capacity(2).await?;
            upload.write(&buf[..n]);
        }
        upload.finish().await?;
        Ok(())
    }

    /// Stores `bytes` as file `id`.
    pub async fn put_bytes(&self, id: &str, bytes: Bytes) -> Result<(), ContentError> {
        match &self.inner {
            Inner::Local(dir) => {
                // Written beside, then renamed: a reader never sees half a file.
                let tmp = dir.join(format!(".write-{id}"));
                tokio::fs::write(&tmp, &bytes).await.map_err(Self::io(id))?;
                tokio::fs::rename(&tmp, dir.join(id))
                    .await
                    .map_err(Self::io(id))
            }
            Inner::Object { store, prefix } => {
                store.put(&Self::object(prefix, id), bytes.into()).await?;
                Ok(())
            }
        }
    }

    /// The bytes of file `id`, whole.
    pub async fn read(&self, id: &str) -> Result<Bytes, ContentError> {
        match &self.inner {
            Inner::Local(dir) => tokio::fs::read(dir.join(id))
                .await
                .map(Bytes::from)
                .map_err(Self::io(id)),
            Inner::Object { store, prefix } => {
                Ok(store.get(&Self::object(prefix, id)).await?.bytes().await?)
            }
        }
    }

    /// The bytes of file `id`, as a stream (a download).
    pub async fn stream(
        &self,
        id: &str,
    ) -> Result<BoxStream<'static, std::io::Result<Bytes>>, ContentError> {
        match &self.inner {
            Inner::Local(dir) => {
                let file = tokio::fs::File::open(dir.join(id))
                    .await
                    .map_err(Self::io(id))?;
                Ok(tokio_util::io::ReaderStream::new(file).boxed())
            }
            Inner::Object { store, prefix } => Ok(store
                .get(&Self::object(prefix, id))
                .await?
                .into_stream()
                .map(|r| r.map_err(std::io::Error::other))
                .boxed()),
        }
    }

    /// Removes file `id`'s bytes (nothing if they are gone already).
    pub async fn remove(&self, id: &str) {
        let result = match &self.inner {
            Inner::Local(dir) => tokio::fs::remove_file(dir.join(id))
                .await
                .map_err(Self::io(id)),
            Inner::Object { store, prefix } => store
                .delete(&Self::object(prefix, id))
                .await
                .map_err(ContentError::from),
        };
        if let Err(e) = result
            && !e.is_missing()
        {
            tracing::warn!(file = id, error = %e, "cannot remove a file's bytes");
        }
    }
}
