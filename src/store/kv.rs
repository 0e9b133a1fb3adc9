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
    /// The keys written, in order (a key written twice appears twice).
    keys: Vec<Vec<u8>>,
}

impl KvBatch {
    /// Set `key` to `value`; within a batch, the last write to a key wins.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.keys.push(key.clone());
        self.inner.insert(key, value);
    }

    /// Remove `key` (a no-op when absent).
    pub fn delete(&mut self, key: Vec<u8>) {
        self.keys.push(key.clone());
        self.inner.remove(key);
    }

    /// The keys written so far (the undo journal saves their previous values).
    pub fn keys(&self) -> &[Vec<u8>] {
        &self.keys
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
        self.keys.len()
    }

    /// Whether no write was recorded.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
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
            config.path(path)
        };
        // sled releases its file lock only when its background threads of a closed
        // database finish, a moment after the last handle drops: a program that closes
        // and reopens a database (or a process started right after another ended) retries
        // briefly before reporting the lock.
        let start = std::time::Instant::now();
        let db = loop {
            match config.open() {
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
        let tree = db.open_tree("dossier").map_err(|e| open_error(path, e))?;
        Ok(Kv { db, tree })
    }

    /// The value under `key`, if any.
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        Ok(self.tree.get(key)?)
    }

    /// The last entry whose key is in `[min, key]`.
    pub fn floor(&self, min: &[u8], key: &[u8]) -> Result<Option<(Bytes, Bytes)>> {
        Ok(self.tree.range(min..=key).next_back().transpose()?)
    }

    /// The first entry whose key is in `(after, end)`.
    pub fn next_after(&self, after: &[u8], end: &[u8]) -> Result<Option<(Bytes, Bytes)>> {
        let r = self
            .tree
            .range::<&[u8], _>((Bound::Excluded(after), Bound::Excluded(end)));
        Ok(r.into_iter().next().transpose()?)
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
        Ok(self.tree.apply_batch(batch.inner)?)
    }

    /// Make everything written so far durable.
    pub fn flush(&self) -> Result<()> {
        self.db.flush()?;
        Ok(())
    }

    /// Bytes the files take on disk, as sled reports it.
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.db.size_on_disk()?)
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
        self.inner.next().map(|r| r.map_err(Error::from))
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
