//! Uploaded files: their records in the database and their bytes in `<data_dir>/files/`. Every
//! query is scoped to one owner, so one owner's files are invisible to every other; an expired file
//! is gone for every query before the sweeper removes its bytes.

use super::db::{Db, Exec, StoreError};
use super::sql::{Row, params};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A stored file, as OpenAI's file object shows it (plus its owner and content type).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FileRecord {
    /// `file-` and 24 hex digits.
    pub id: String,
    /// Always `file`.
    pub object: &'static str,
    /// Size in bytes.
    pub bytes: u64,
    /// Upload time (Unix seconds).
    pub created_at: u64,
    /// When it expires (Unix seconds), if it does.
    pub expires_at: Option<u64>,
    /// The name it was uploaded with.
    pub filename: String,
    /// `assistants`, `batch`, `fine-tune`, `vision`, `user_data` or `evals`.
    pub purpose: String,
    /// Always `processed` once stored.
    pub status: &'static str,
    /// The key owner who uploaded it (not part of OpenAI's object).
    #[serde(skip)]
    pub owner: String,
    /// What `GET /files/{id}/content` answers with.
    #[serde(skip)]
    pub content_type: String,
}

/// The order of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// Oldest first.
    Asc,
    /// Newest first.
    Desc,
}

/// A page of files.
#[derive(Debug, Clone)]
pub struct FileList {
    /// The files.
    pub data: Vec<FileRecord>,
    /// Whether more follow.
    pub has_more: bool,
}

/// The file table and the folder of file contents.
#[derive(Clone)]
pub struct FileStore {
    db: Db,
    dir: PathBuf,
}

const COLUMNS: &str = "id, owner, filename, purpose, content_type, bytes, created_at, expires_at";

fn record(r: &Row) -> Result<FileRecord, StoreError> {
    Ok(FileRecord {
        id: r.get(0)?,
        object: "file",
        owner: r.get(1)?,
        filename: r.get(2)?,
        purpose: r.get(3)?,
        content_type: r.get(4)?,
        bytes: r.get::<i64>(5)?.max(0) as u64,
        created_at: r.get::<i64>(6)?.max(0) as u64,
        expires_at: r.get::<Option<i64>>(7)?.map(|t| t.max(0) as u64),
        status: "processed",
    })
}

impl FileStore {
    /// The file store of `db`, with contents under `data_dir/files`.
    pub fn new(db: Db, data_dir: &Path) -> FileStore {
        FileStore {
            db,
            dir: data_dir.join("files"),
        }
    }

    /// The folder that holds file contents (uploads are written beside their final name).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the bytes of file `id` live.
    pub fn path(&self, id: &str) -> PathBuf {
        self.dir.join(id)
    }

    /// Records a file whose bytes are already at [`FileStore::path`], whatever its owner stores.
    pub fn insert(&self, f: &FileRecord) -> Result<(), StoreError> {
        self.insert_within(f, u64::MAX, 0).map(|_| ())
    }

    /// Records `f` only if its owner's live files, with it, stay within `max_owner_bytes`; false
    /// (nothing recorded) otherwise. The check and the insert are one statement, run under the
    /// owner's lock, so concurrent uploads (on any gateway) cannot both pass.
    pub fn insert_within(
        &self,
        f: &FileRecord,
        max_owner_bytes: u64,
        now: u64,
    ) -> Result<bool, StoreError> {
        self.db.transaction(|tx| {
            tx.lock(&format!("files of {}", f.owner))?;
            tx.execute(
                &format!(
                    "INSERT INTO files ({COLUMNS})
                     SELECT CAST($1 AS TEXT), CAST($2 AS TEXT), CAST($3 AS TEXT), CAST($4 AS TEXT),
                            CAST($5 AS TEXT), CAST($6 AS BIGINT), CAST($7 AS BIGINT), CAST($8 AS BIGINT)
                     WHERE (SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM files
                            WHERE owner = $2 AND (expires_at IS NULL OR expires_at > $9))
                           + CAST($6 AS BIGINT) <= CAST($10 AS BIGINT)"
                ),
                params![
                    &f.id,
                    &f.owner,
                    &f.filename,
                    &f.purpose,
                    &f.content_type,
                    f.bytes as i64,
                    f.created_at as i64,
                    f.expires_at.map(|t| t as i64),
                    now as i64,
                    max_owner_bytes.min(i64::MAX as u64) as i64,
                ],
            )
            .map(|n| n == 1)
        })
    }

    /// `owner`'s file `id`, unless it expired by `now` (Unix seconds).
    pub fn get(&self, owner: &str, id: &str, now: u64) -> Result<Option<FileRecord>, StoreError> {
        self.db
            .query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM files WHERE id = $1 AND owner = $2 \
                     AND (expires_at IS NULL OR expires_at > $3)"
                ),
                params![id, owner, now as i64],
            )?
            .as_ref()
            .map(record)
            .transpose()
    }

    /// A page of `owner`'s live files (every owner's with `None`, for the admin API), optionally
    /// of one `purpose`, after the file `after` in `order`.
    pub fn list(
        &self,
        owner: Option<&str>,
        purpose: Option<&str>,
        order: ListOrder,
        after: Option<&str>,
        limit: usize,
        now: u64,
    ) -> Result<FileList, StoreError> {
        let (cmp, dir) = match order {
            ListOrder::Asc => (">", "ASC"),
            ListOrder::Desc => ("<", "DESC"),
        };
        // The cursor is a file of the same owner: its (created_at, id) bounds the page.
        let sql = format!(
            "SELECT {COLUMNS} FROM files
             WHERE (CAST($1 AS TEXT) IS NULL OR owner = $1) AND (CAST($2 AS TEXT) IS NULL OR purpose = $2)
               AND (expires_at IS NULL OR expires_at > $3)
               AND (CAST($4 AS TEXT) IS NULL OR (created_at, id) {cmp} (
                    SELECT created_at, id FROM files WHERE id = $4 AND (CAST($1 AS TEXT) IS NULL OR owner = $1)))
             ORDER BY created_at {dir}, id {dir}
             LIMIT $5"
        );
        let mut data = self
            .db
            .query(
                &sql,
                params![owner, purpose, now as i64, after, (limit + 1) as i64],
            )?
            .iter()
            .map(record)
            .collect::<Result<Vec<_>, _>>()?;
        let has_more = data.len() > limit;
        data.truncate(limit);
        Ok(FileList { data, has_more })
    }

    /// Bytes stored by `owner` in live files.
    pub fn owner_bytes(&self, owner: &str, now: u64) -> Result<u64, StoreError> {
        self.db
            .query_one(
                "SELECT CAST(COALESCE(SUM(bytes), 0) AS BIGINT) FROM files
                 WHERE owner = $1 AND (expires_at IS NULL OR expires_at > $2)",
                params![owner, now as i64],
            )?
            .get::<i64>(0)
            .map(|b| b.max(0) as u64)
    }

    /// Deletes `owner`'s file `id` (its record: the caller removes its bytes from
    /// [`super::Contents`]); false if there is none.
    pub fn delete(&self, owner: &str, id: &str) -> Result<bool, StoreError> {
        let n = self.db.execute(
            "DELETE FROM files WHERE id = $1 AND owner = $2",
            params![id, owner],
        )?;
        Ok(n > 0)
    }

    /// Removes the record of every file expired by `now`; returns their ids (whose bytes the
    /// caller removes).
    pub fn sweep(&self, now: u64) -> Result<Vec<String>, StoreError> {
        self.db
            .query(
                "DELETE FROM files WHERE expires_at IS NOT NULL AND expires_at <= $1 RETURNING id",
                params![now as i64],
            )?
            .iter()
            .map(|r| r.get::<String>(0))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing::{TestDb, on_both_engines};

    fn file(id: &str, owner: &str, created_at: u64, expires_at: Option<u64>) -> FileRecord {
        FileRecord {
            id: id.into(),
            object: "file",
            bytes: 10,
            created_at,
            expires_at,
            filename: "a.jsonl".into(),
            purpose: "batch".into(),
            status: "processed",
            owner: owner.into(),
            content_type: "application/jsonl".into(),
        }
    }

    on_both_engines!(fn owners_see_only_their_live_files_in_pages);
    fn owners_see_only_their_live_files_in_pages(t: TestDb) {
        let store = FileStore::new(t.db.clone(), t.dir.path());
        for (i, id) in ["f1", "f2", "f3"].iter().enumerate() {
            store
                .insert(&file(id, "ann", 100 + i as u64, None))
                .expect("insert");
        }
        store.insert(&file("g1", "bob", 100, None)).expect("insert");
        store
            .insert(&file("old", "ann", 50, Some(150)))
            .expect("insert");

        assert!(store.get("bob", "f1", 200).expect("get").is_none());
        assert!(
            store.get("ann", "old", 200).expect("get").is_none(),
            "expired"
        );
        assert!(store.get("ann", "old", 120).expect("get").is_some());

        let page = store
            .list(Some("ann"), None, ListOrder::Desc, None, 2, 200)
            .expect("list");
        let ids: Vec<_> = page.data.iter().map(|f| f.id.as_str()).collect();
        assert_eq!((ids, page.has_more), (vec!["f3", "f2"], true));
        let next = store
            .list(Some("ann"), None, ListOrder::Desc, Some("f2"), 2, 200)
            .expect("list");
        let ids: Vec<_> = next.data.iter().map(|f| f.id.as_str()).collect();
        assert_eq!((ids, next.has_more), (vec!["f1"], false));
        // Another owner's id is no cursor.
        let foreign = store
            .list(Some("ann"), None, ListOrder::Asc, Some("g1"), 10, 200)
            .expect("list");
        assert!(foreign.data.is_empty());

        assert_eq!(store.owner_bytes("ann", 200).expect("bytes"), 30);
        // Within the quota, or not at all.
        assert!(
            !store
                .insert_within(&file("f4", "ann", 200, None), 39, 200)
                .expect("insert")
        );
        assert!(
            store
                .insert_within(&file("f4", "ann", 200, None), 40, 200)
                .expect("insert")
        );
        assert!(store.delete("ann", "f4").expect("delete"));
        assert!(!store.delete("bob", "f1").expect("delete"));
        assert!(store.delete("ann", "f1").expect("delete"));
        assert_eq!(store.sweep(200).expect("sweep").len(), 1);
    }
}
