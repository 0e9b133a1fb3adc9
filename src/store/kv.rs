//! The narrow key-value interface the store needs, implemented on sled.
//!
//! Everything above this file sees only: point get, ordered range iteration, "last key at
//! or before", atomic batches and flush.  Replacing sled means reimplementing this file.

use crate::error::{Error, Result};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

/// Raw bytes as the engine hands them out (cheap to clone, no copy on read).
pub type Bytes = sled::IVec;

/// An atomic group of writes.
#[derive(Default)]
pub struct KvBatch {
    inner: sled::Batch,
    /// The keys written, in order (a key written twice appears twice).
    keys: Vec<Vec<u8>>,
    bytes: u64,
}

impl KvBatch {
    /// Set `key` to `value`; within a batch, the last write to a key wins.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.keys.push(key.clone());
        self.bytes += (key.len() + value.len()) as u64;
        self.inner.insert(key, value);
    }

    /// Remove `key` (a no-op when absent).
    pub fn delete(&mut self, key: Vec<u8>) {
        self.keys.push(key.clone());
        self.bytes += key.len() as u64;
        self.inner.remove(key);
    }

    /// The keys written so far (the undo journal saves their previous values).
    pub fn keys(&self) -> &[Vec<u8>] {
        &self.keys
    }

    /// Bytes of the keys and values written.
    pub fn bytes(&self) -> u64 {
        self.bytes
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
///
/// The sled handles sit behind a lock so that a failed write can be undone by closing and
/// reopening the database (see [`Kv::reopen`]): after an I/O error sled keeps the failed
/// batch in memory, retries writing it until the disk is full, and fails every later call.
pub struct Kv {
    handles: RwLock<Option<Handles>>,
    path: PathBuf,
    cache_bytes: u64,
    temporary: bool,
}

struct Handles {
    db: sled::Db,
    tree: sled::Tree,
}

impl Kv {
    /// Open (creating if needed) the store in directory `path`.
    pub fn open(path: &Path, cache_bytes: u64, temporary: bool) -> Result<Kv> {
        if !temporary {
            refuse_interrupted_swap(path)?;
            refuse_without_snapshot(path)?;
            remove_unfinished_snapshots(path);
        }
        let handles = open_handles(path, cache_bytes, temporary)?;
        if !temporary {
            remember_snapshot(path);
            make_reserve(path);
        }
        Ok(Kv {
            handles: RwLock::new(Some(handles)),
            path: path.to_path_buf(),
            cache_bytes,
            temporary,
        })
    }

    /// Close sled and open the directory again: what sled held in memory of writes that
    /// failed is dropped, and the database is back at its last durable state.  Callers
    /// make sure no iteration is in progress (the store holds its write gate).  A
    /// temporary store lives only in memory and cannot be reopened.
    pub fn reopen(&self) -> Result<()> {
        if self.temporary {
            return Err(Error::Storage(
                "a temporary database cannot be reopened after a failed write".into(),
            ));
        }
        let mut handles = self.handles.write().map_err(|_| poisoned())?;
        // Dropping the last handles stops sled's threads and releases the file lock (its
        // final flush fails quietly on a full disk).
        drop(handles.take());
        // sled needs a little room to recover (it writes a snapshot before it gives back
        // the space of the failed writes): the reserve file makes that room.
        let _ = std::fs::remove_file(self.path.join(RESERVE));
        *handles = Some(open_handles(&self.path, self.cache_bytes, false)?);
        make_reserve(&self.path);
        Ok(())
    }

    /// The tree handle (cheap: a reference count).
    fn tree(&self) -> Result<sled::Tree> {
        match &*self.handles.read().map_err(|_| poisoned())? {
            Some(h) => Ok(h.tree.clone()),
            None => Err(closed()),
        }
    }

    fn db(&self) -> Result<sled::Db> {
        match &*self.handles.read().map_err(|_| poisoned())? {
            Some(h) => Ok(h.db.clone()),
            None => Err(closed()),
        }
    }
}

/// A file of reserved disk space in the database directory, deleted to make room when a
/// write fails on a full disk (see [`Kv::reopen`]).
pub const RESERVE: &str = "dossier.reserve";

fn reserve_bytes() -> u64 {
    std::env::var("DOSSIER_RESERVE_BYTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1 << 20)
}

/// Create the reserve file if it is missing (best effort: without it a full disk is
/// still reported, but reads may fail until space is freed).
fn make_reserve(dir: &Path) {
    use fs2::FileExt;
    let path = dir.join(RESERVE);
    let want = reserve_bytes();
    if std::fs::metadata(&path).is_ok_and(|m| m.len() >= want) {
        return;
    }
    let made = std::fs::File::create(&path).and_then(|f| f.allocate(want));
    if made.is_err() {
        let _ = std::fs::remove_file(&path);
    }
}

fn poisoned() -> Error {
    Error::Storage("an internal lock was poisoned by a panic in another thread".into())
}

fn closed() -> Error {
    Error::Storage(
        "the database could not be reopened after a failed write; free disk space and open it again"
            .into(),
    )
}

/// Open sled in `path` (or a temporary store) and its `dossier` tree.
fn open_handles(path: &Path, cache_bytes: u64, temporary: bool) -> Result<Handles> {
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
    Ok(Handles { db, tree })
}

impl Kv {
    /// The value under `key`, if any.
    pub fn get(&self, key: &[u8]) -> Result<Option<Bytes>> {
        let tree = self.tree()?;
        Ok(guarded(|| tree.get(key)).map_err(storage_panic)??)
    }

    /// The last entry whose key is in `[min, key]`.
    pub fn floor(&self, min: &[u8], key: &[u8]) -> Result<Option<(Bytes, Bytes)>> {
        let tree = self.tree()?;
        Ok(guarded(|| tree.range(min..=key).next_back().transpose()).map_err(storage_panic)??)
    }

    /// The first entry whose key is in `(after, end)`.
    pub fn next_after(&self, after: &[u8], end: &[u8]) -> Result<Option<(Bytes, Bytes)>> {
        let tree = self.tree()?;
        let r = || {
            tree.range::<&[u8], _>((Bound::Excluded(after), Bound::Excluded(end)))
                .next()
                .transpose()
        };
        Ok(guarded(r).map_err(storage_panic)??)
    }

    /// Entries with keys in `[from, to)`, in key order.
    pub fn range(&self, from: &[u8], to: &[u8]) -> KvIter {
        KvIter {
            inner: self.tree().map(|t| t.range(from..to)).map_err(Some),
        }
    }

    /// Entries with keys in `(after, to)`, in key order.
    pub fn range_after(&self, after: &[u8], to: &[u8]) -> KvIter {
        KvIter {
            inner: self
                .tree()
                .map(|t| t.range::<&[u8], _>((Bound::Excluded(after), Bound::Excluded(to))))
                .map_err(Some),
        }
    }

    /// Apply every write of the batch, or none of them.
    pub fn apply(&self, batch: KvBatch) -> Result<()> {
        let tree = self.tree()?;
        Ok(guarded(|| tree.apply_batch(batch.inner)).map_err(storage_panic)??)
    }

    /// Make everything written so far durable.
    pub fn flush(&self) -> Result<()> {
        let db = self.db()?;
        guarded(|| db.flush()).map_err(storage_panic)??;
        Ok(())
    }

    /// Remove every entry.
    pub fn clear(&self) -> Result<()> {
        let tree = self.tree()?;
        guarded(|| tree.clear()).map_err(storage_panic)??;
        Ok(())
    }

    /// Bytes the files take on disk, as sled reports it.
    pub fn size_on_disk(&self) -> Result<u64> {
        let db = self.db()?;
        Ok(guarded(|| db.size_on_disk()).map_err(storage_panic)??)
    }

    /// Whether the store opened existing files (sled recovered a previous process's state)
    /// rather than creating new ones.
    pub fn was_recovered(&self) -> bool {
        self.db().is_ok_and(|db| db.was_recovered())
    }
}

/// Entries of a key range in key order, from [`Kv::range`] and [`Kv::range_after`].
pub struct KvIter {
    /// The error (reported once) when the store is closed.
    inner: std::result::Result<sled::Iter, Option<Error>>,
}

impl Iterator for KvIter {
    type Item = Result<(Bytes, Bytes)>;

    fn next(&mut self) -> Option<Self::Item> {
        let inner = match &mut self.inner {
            Ok(i) => i,
            Err(e) => return e.take().map(Err),
        };
        match guarded(|| inner.next()) {
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
        sled::Error::Corruption { .. } => "the database files are corrupt: the storage engine \
            cannot read them. Nothing was changed; restore the directory from a backup"
            .to_string(),
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
        entries.flatten().any(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.starts_with("snap.") && !name.ends_with(".generating")
        })
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
    if (seen || has_snapshot(dir)) && !dir.join("db").exists() {
        return Err(Error::Open {
            path: dir.to_path_buf(),
            reason: "its data file (db) is missing, so the storage engine would start an empty \
                     database in its place. Nothing was changed. Restore the directory from a \
                     backup (`dossier backup` makes one)"
                .into(),
        });
    }
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

/// sled writes a snapshot as `snap.N.generating`, syncs it, then renames it to `snap.N`;
/// the old snapshot goes only after the rename.  A process killed (or a disk filled) in
/// between leaves the unfinished file, and sled 0.34 then takes it for the newest
/// snapshot and refuses the whole database as corrupt.  It is never needed: remove it.
fn remove_unfinished_snapshots(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().to_string();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Suffixes of the directories `compact` and `check --repair` put next to a database
/// while they swap a rebuilt one in.
pub const SWAP_SUFFIXES: [&str; 3] = [".compact-old", ".compacting", ".repairing"];

/// A database directory that is missing while a swap's directories are there was being
/// swapped when the process died: creating an empty database in its place would hide
/// the data, so say where it is.
fn refuse_interrupted_swap(dir: &Path) -> Result<()> {
    if dir.exists() {
        return Ok(());
    }
    let mut found = Vec::new();
    for suffix in SWAP_SUFFIXES.iter().chain(&[".before-repair"]) {
        let mut other = dir.as_os_str().to_owned();
        other.push(suffix);
        if Path::new(&other).exists() {
            found.push(PathBuf::from(other).display().to_string());
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(Error::Open {
        path: dir.to_path_buf(),
        reason: format!(
            "it is missing, but {} is there: a compact or repair was interrupted while it \
             swapped directories. Nothing was created. Rename the one you want to {} \
             (`.compacting` and `.repairing` are the rebuilt database, `.compact-old` and \
             `.before-repair` the one before)",
            found.join(" and "),
            dir.display()
        ),
    })
}

/// An exclusive lock on a database directory, the same lock sled takes when it opens it:
/// while it is held no process (this one included) can open the database.  Released when
/// dropped.
pub struct DirLock {
    _file: std::fs::File,
}

/// Take the lock of the database in `dir`, waiting briefly for one this process just
/// closed (sled releases it when its threads finish).
pub fn lock_dir(dir: &Path) -> Result<DirLock> {
    use fs2::FileExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(dir.join("db"))
        .map_err(|e| Error::Open {
            path: dir.to_path_buf(),
            reason: if e.kind() == std::io::ErrorKind::NotFound {
                "there is no database there".to_string()
            } else {
                e.to_string()
            },
        })?;
    let start = std::time::Instant::now();
    loop {
        match file.try_lock_exclusive() {
            Ok(()) => return Ok(DirLock { _file: file }),
            Err(_) if start.elapsed() < std::time::Duration::from_millis(1500) => {
                std::thread::sleep(std::time::Duration::from_millis(25));
            }
            Err(_) => {
                return Err(Error::Open {
                    path: dir.to_path_buf(),
                    reason: "it is locked by another process (only one process may open a database at a time)".into(),
                })
            }
        }
    }
}

/// Copy a database directory (its files and the `blobs` directory) to `to`, which must
/// not exist.  The caller holds the database's lock ([`lock_dir`]).
pub fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir(to)?;
    for e in std::fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        let kind = e.file_type()?;
        if kind.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else if kind.is_file() && e.file_name() != RESERVE {
            std::fs::copy(e.path(), &target)?;
        }
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
