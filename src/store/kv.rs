//! The narrow key-value interface the store needs, implemented on sled.
//!
//! Everything above this file sees only: point get, ordered range iteration, "last key at
//! or before", atomic batches and flush.  Replacing sled means reimplementing this file.

use crate::error::{Error, Result};
use std::ops::Bound;
use std::path::Path;

/// Raw bytes as the engine hands them out (cheap to clone, no copy on read).
pub type Bytes = sled::IVec;

/// An atomic group of writes.
#[derive(Default)]
pub struct KvBatch {
    inner: sled::Batch,
    len: usize,
}

impl KvBatch {
    /// Set `key` to `value`; within a batch, the last write to a key wins.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.inner.insert(key, value);
        self.len += 1;
    }

    /// Remove `key` (a no-op when absent).
    pub fn delete(&mut self, key: Vec<u8>) {
        self.inner.remove(key);
        self.len += 1;
    }

    /// Set `key` to `value`, or remove it when `value` is `None`.
    pub fn set(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        match value {
            Some(v) => self.put(key, v),
            None => self.delete(key),
        }
    }

    /// Writes recorded (puts and deletes, a key written twice counting twice).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no write was recorded.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// The ordered key-value store.
#[derive(Clone)]
pub struct Kv {
    db: sled::Db,
    tree: sled::Tree,
}

impl Kv {
    /// Open (creating if needed) the store in directory `path`.
    pub fn open(path: &Path, cache_bytes: u64, temporary: bool) -> Result<Kv> {
        let mut config = sled::Config::new()
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(500));
        config = if temporary {
            config.temporary(true)
        } else {
            refuse_without_snapshot(path)?;
            config.path(path)
        };
        // sled releases its file lock only when its background threads of a closed
        // database finish, a moment after the last handle drops: a program that closes
        // and reopens a database (or a process started right after another ended) retries
        // briefly before reporting the lock.
        let start = std::time::Instant::now();
        let db = loop {
            match guarded(|| config.open()).map_err(|m| damaged(path, &m))? {
                Ok(db) => break db,
                Err(e)
                    if is_lock_error(&e)
                        && start.elapsed() < std::time::Duration::from_millis(1500) =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                Err(e) => return Err(open_error(path, e)),
            }
        };
        let tree = guarded(|| db.open_tree("dossier"))
            .map_err(|m| damaged(path, &m))?
            .map_err(|e| open_error(path, e))?;
        if !temporary {
            remember_snapshot(path);
        }
        Ok(Kv { db, tree })
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(guarded(|| self.tree.get(key)).map_err(storage_panic)??)
    }

    /// The last entry whose key is in `[min, key]`.
    pub fn floor(&self, min: &[u8], key: &[u8]) -> Result<Option<(Bytes, Bytes)>> {
        Ok(
            guarded(|| self.tree.range(min..=key).next_back().transpose())
                .map_err(storage_panic)??,
        )
    }

    /// The first entry whose key is in `(after, end)`.
    pub fn next_after(&self, after: &[u8], end: &[u8]) -> Result<Option<(Bytes, Bytes)>> {
        let r = || {
            self.tree
                .range::<&[u8], _>((Bound::Excluded(after), Bound::Excluded(end)))
                .next()
                .transpose()
        };
        Ok(guarded(r).map_err(storage_panic)??)
    }

    /// Entries with keys in `[from, to)`, in key order.
    pub fn range(&self, from: &[u8], to: &[u8]) -> KvIter {
        KvIter {
            inner: self.tree.range(from..to),
        }
    }

    /// Entries with keys in `(after, to)`, in key order.
    pub fn range_after(&self, after: &[u8], to: &[u8]) -> KvIter {
        KvIter {
            inner: self
                .tree
                .range::<&[u8], _>((Bound::Excluded(after), Bound::Excluded(to))),
        }
    }

    /// Apply every write of the batch, or none of them.
    pub fn apply(&self, batch: KvBatch) -> Result<()> {
        Ok(guarded(|| self.tree.apply_batch(batch.inner)).map_err(storage_panic)??)
    }

    /// Make everything written so far durable.
    pub fn flush(&self) -> Result<()> {
        guarded(|| self.db.flush()).map_err(storage_panic)??;
        Ok(())
    }

    /// Remove every entry.
    pub fn clear(&self) -> Result<()> {
        guarded(|| self.tree.clear()).map_err(storage_panic)??;
        Ok(())
    }

    /// Bytes the files take on disk, as sled reports it.
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(guarded(|| self.db.size_on_disk()).map_err(storage_panic)??)
    }

    /// Whether the store opened existing files (sled recovered a previous process's state)
    /// rather than creating new ones.
    pub fn was_recovered(&self) -> bool {
        self.db.was_recovered()
    }
}

/// Entries of a key range in key order, from [`Kv::range`] and [`Kv::range_after`].
pub struct KvIter {
    inner: sled::Iter,
}

impl Iterator for KvIter {
    type Item = Result<(Bytes, Bytes)>;

    fn next(&mut self) -> Option<Self::Item> {
        match guarded(|| self.inner.next()) {
            Ok(r) => r.map(|r| r.map_err(Error::from)),
            Err(m) => Some(Err(storage_panic(m))),
        }
    }
}

fn is_lock_error(e: &sled::Error) -> bool {
    matches!(e, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock"))
}

fn open_error(path: &Path, e: sled::Error) -> Error {
    let reason = match &e {
        e if is_lock_error(e) => {
            "it is locked by another process (only one process may open a database at a time)"
                .to_string()
        }
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::PermissionDenied => {
            format!("permission denied ({io})")
        }
        sled::Error::Io(io) => io.to_string(),
        sled::Error::Corruption { .. } => "the database files are corrupt".to_string(),
        sled::Error::Unsupported(m) => format!("unsupported: {m}"),
        other => other.to_string(),
    };
    Error::Open {
        path: path.to_path_buf(),
        reason,
    }
}

/// Run a sled call, turning a panic inside it into an error message.  sled 0.34 panics on
/// some damaged files (a missing snapshot, a torn segment) instead of returning an error; a
/// damaged database must give an error that says what to do, never take the process down.
fn guarded<T>(f: impl FnOnce() -> T) -> std::result::Result<T, String> {
    quiet_panics::install();
    quiet_panics::GUARDED.with(|g| g.set(g.get() + 1));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    quiet_panics::GUARDED.with(|g| g.set(g.get() - 1));
    r.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "an internal error".to_string())
    })
}

/// A panic caught in [`guarded`] is reported as an error, so the default hook's message
/// ("thread panicked at …") would only be noise; other panics print as before.
mod quiet_panics {
    use std::cell::Cell;
    use std::sync::Once;

    thread_local! {
        pub static GUARDED: Cell<u32> = const { Cell::new(0) };
    }

    pub fn install() {
        static ONCE: Once = Once::new();
        ONCE.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                if GUARDED.with(Cell::get) == 0 {
                    previous(info);
                }
            }));
        });
    }
}

fn storage_panic(message: String) -> Error {
    Error::Storage(format!(
        "the storage engine failed on damaged data ({message}); run `dossier check` and restore from a backup if it reports problems"
    ))
}

fn damaged(path: &Path, message: &str) -> Error {
    Error::Open {
        path: path.to_path_buf(),
        reason: format!(
            "its files are damaged: the storage engine failed while recovering them ({message}). Nothing was changed; restore the directory from a backup"
        ),
    }
}

/// The file in a database directory that records what dossier saw there, so that a file
/// later gone missing is noticed before sled opens (and overwrites) the rest.
const MANIFEST: &str = "dossier.manifest";
const SNAPSHOT_SEEN: &str = "snapshot-seen";

fn has_snapshot(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("snap."))
    })
}

/// sled keeps the state of its log in a snapshot file (`snap.*`).  Without it, sled
/// recovers from the log alone, which works only until it has reused a log segment; after
/// that it recovers an empty database and truncates the data file on open.  Once a
/// snapshot has been seen in a directory, one must be there: if it is gone, refuse to open
/// instead of letting sled discard the data.
fn refuse_without_snapshot(dir: &Path) -> Result<()> {
    let seen = std::fs::read_to_string(dir.join(MANIFEST))
        .is_ok_and(|m| m.lines().any(|l| l.trim() == SNAPSHOT_SEEN));
    if seen && dir.join("db").exists() && !has_snapshot(dir) {
        return Err(Error::Open {
            path: dir.to_path_buf(),
            reason: "its snapshot file (snap.*) is missing, so the storage engine would recover \
                     nothing and overwrite the data. Nothing was changed. Restore the directory \
                     from a backup (`dossier backup` makes one)"
                .into(),
        });
    }
    Ok(())
}

/// Note in the manifest that the directory has a snapshot (sled writes one when it opens
/// existing files).  Best effort: a read-only directory simply goes without the check.
fn remember_snapshot(dir: &Path) {
    let manifest = dir.join(MANIFEST);
    let seen = std::fs::read_to_string(&manifest)
        .is_ok_and(|m| m.lines().any(|l| l.trim() == SNAPSHOT_SEEN));
    if seen || !has_snapshot(dir) {
        return;
    }
    let tmp = dir.join(format!("{MANIFEST}.tmp"));
    let text = format!("dossier database\n{SNAPSHOT_SEEN}\n");
    let written = std::fs::write(&tmp, text)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &manifest));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}
