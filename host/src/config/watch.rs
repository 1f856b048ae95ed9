//! Watches the config file and every plugin file for changes.
//!
//! Editors and `cargo build` replace files by renaming a new one over the old, which ends a
//! watch on the file itself. So the watcher watches the *folders* holding the files and filters
//! their events by file name.

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// A watch on a set of files; sends `()` on `tx` whenever one of them may have changed.
pub struct FileWatch {
    watcher: RecommendedWatcher,
    dirs: BTreeSet<PathBuf>,
    files: std::sync::Arc<std::sync::RwLock<HashSet<PathBuf>>>,
}

/// Absolute form of `p`, with its folder resolved through symlinks when it exists.
fn absolute(p: &Path) -> PathBuf {
    let p = std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    match (p.parent(), p.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(p),
        _ => p,
    }
}

impl FileWatch {
    /// Starts a watcher that reports changes to the files later given to [`FileWatch::set`].
    pub fn new(tx: mpsc::UnboundedSender<()>) -> notify::Result<FileWatch> {
        let files: std::sync::Arc<std::sync::RwLock<HashSet<PathBuf>>> = Default::default();
        let seen = std::sync::Arc::clone(&files);
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(event) = event else { return };
            if matches!(event.kind, notify::EventKind::Access(_)) {
                return;
            }
            let files = seen
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if event.paths.iter().any(|p| files.contains(&absolute(p))) {
                let _ = tx.send(());
            }
        })?;
        Ok(FileWatch {
            watcher,
            dirs: BTreeSet::new(),
            files,
        })
    }

    /// Watches exactly `files` (their folders, filtered by name) from now on.
    pub fn set(&mut self, files: impl IntoIterator<Item = PathBuf>) {
        let files: HashSet<PathBuf> = files.into_iter().map(|f| absolute(&f)).collect();
        let dirs: BTreeSet<PathBuf> = files
            .iter()
            .filter_map(|f| f.parent().map(Path::to_path_buf))
            .collect();
        for gone in self.dirs.difference(&dirs) {
            let _ = self.watcher.unwatch(gone);
        }
        for new in dirs.difference(&self.dirs) {
            if let Err(e) = self.watcher.watch(new, RecursiveMode::NonRecursive) {
                tracing::warn!(dir = %new.display(), error = %e, "cannot watch folder");
            }
        }
        self.dirs = dirs;
        *self
            .files
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = files;
    }
}
