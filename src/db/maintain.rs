//! Keeping a database whole: [`repair`] rebuilds a damaged one, [`compact`] rewrites one
//! so its files shrink, [`Db::backup`] copies one while it stays open.
//!
//! Each writes a complete new database next to the old one, checks it, and only then
//! swaps directories, so an interruption at any point leaves the old database as it was
//! (an interrupted swap is recognised when the database is next opened; see
//! `store::kv::SWAP_SUFFIXES`).

use super::{Db, Options};
use crate::engine::catalog::Catalog;
use crate::error::{Error, Result};
use crate::store::{self, kind, kv, Salvaged};
use std::path::{Path, PathBuf};

/// What [`repair`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repaired {
    /// The problems found before the repair (empty: nothing was done).
    pub problems: Vec<String>,
    /// What the rebuild recovered and what it could not (empty when nothing was done).
    pub salvaged: Salvaged,
    /// Where the database before the repair was kept (`None`: nothing was done).
    pub before: Option<PathBuf>,
}

/// What [`compact`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compacted {
    /// Bytes the database's files took on disk before.
    pub bytes_before: u64,
    /// And after.
    pub bytes_after: u64,
    /// Facts (assertions) in the database, unchanged.
    pub facts: u64,
}

/// What [`Db::backup`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackedUp {
    /// Facts (assertions) in the backup.
    pub facts: u64,
    /// Terms of its dictionary.
    pub terms: u64,
    /// Bytes its files take on disk.
    pub bytes: u64,
}

/// The problems a repair can do something about: those of the store, and a catalog
/// that cannot be read.  (Facts that break the schema are the user's to fix.)
pub fn storage_problems(db: &Db) -> Result<Vec<String>> {
    let store = db.store();
    let mut problems = store.verify()?;
    if let Err(e) = Catalog::load(store, None) {
        problems.push(format!("catalog: {e}"));
    }
    Ok(problems)
}

/// Rebuild the database in directory `path` from what survives of it: the dictionary
/// from either direction, the facts from any index that holds them, the counts and id
/// counters recomputed, the meta records that still read.  Works on a copy: the damaged
/// directory is renamed to `PATH.before-repair` (or `.before-repair-2`, …) and kept, the
/// rebuilt one takes its place.  A database with no problem is left alone.
///
/// The database must not be open (in this process or another).
pub fn repair(path: &Path) -> Result<Repaired> {
    let problems = match Db::open_with(path, Options::default()) {
        Ok(db) => {
            let mut p = storage_problems(&db)?;
            if let Some(d) = db.store().damage() {
                p.insert(0, format!("found when opening: {d}"));
            }
            p.dedup();
            if p.is_empty() {
                return Ok(Repaired {
                    problems: p,
                    salvaged: Salvaged::default(),
                    before: None,
                });
            }
            p
        }
        // A database sled cannot open at all is damaged below what a rebuild reads; the
        // salvage below tries anyway and reports why it cannot.
        Err(Error::Open { reason, .. }) if !reason.contains("locked") => {
            vec![format!("it cannot be opened: {reason}")]
        }
        Err(e) => return Err(e),
    };
    let lock = kv::lock_dir(path)?;
    let scratch = sibling(path, ".repair-source");
    let rebuilt = sibling(path, ".repairing");
    for leftover in [&scratch, &rebuilt] {
        if leftover.exists() {
            std::fs::remove_dir_all(leftover).map_err(|e| Error::io(leftover, e))?;
        }
    }
    // sled writes to the files it opens (its recovery): read a copy, keep the original
    // untouched until the swap.
    kv::copy_dir(path, &scratch).map_err(|e| Error::io(&scratch, e))?;
    let rules = store::RecordRules {
        check: &check_record,
        rebuilt_by_caller: &[super::import::IMPORTS_RECORD],
    };
    let result = store::salvage(&scratch, &rebuilt, &rules);
    let _ = std::fs::remove_dir_all(&scratch);
    let salvaged = match result {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&rebuilt);
            return Err(Error::Storage(format!(
                "the repair could not rebuild the database ({e}); nothing was changed: restore it from a backup or an export"
            )));
        }
    };
    if let Err(e) = restore_import_counter(&rebuilt) {
        let _ = std::fs::remove_dir_all(&rebuilt);
        return Err(e);
    }
    let mut before = sibling(path, ".before-repair");
    let mut n = 2;
    while before.exists() {
        before = sibling(path, &format!(".before-repair-{n}"));
        n += 1;
    }
    swap(path, &rebuilt, &before)?;
    drop(lock);
    Ok(Repaired {
        problems,
        salvaged,
        before: Some(before),
    })
}

/// Whether a meta record of the layers above can be used as it is.
fn check_record(name: &str, bytes: &[u8]) -> Option<String> {
    match name {
        Catalog::RECORD => Catalog::from_record(bytes)
            .err()
            .map(|e| format!("{e}: the schema and rules are lost; declare them again, or restore them from an export")),
        super::import::IMPORTS_RECORD => {
            (bytes.len() != 8).then(|| "corrupt (it is set again from the imported names)".to_string())
        }
        _ => None,
    }
}

/// The import counter names blank nodes (`_:i7_b0`): after a repair it must be above
/// every number those names use, or the next import would reuse them.
fn restore_import_counter(dir: &Path) -> Result<()> {
    let db = Db::open(dir)?;
    let store = db.store();
    let mut top = super::import::next_import_number(store)?;
    for t in store.terms_of_kind(kind::ENTITY)? {
        let (_, name) = t?;
        if let Some(n) = name
            .strip_prefix("_:i")
            .and_then(|rest| rest.split_once('_'))
            .and_then(|(digits, _)| digits.parse::<u64>().ok())
        {
            top = top.max(n);
        }
    }
    if top > super::import::next_import_number(store)? {
        let _w = store.writer()?;
        let mut delta = store::Delta::new();
        store.put_meta(
            &mut delta,
            super::import::IMPORTS_RECORD,
            Some(top.to_be_bytes().to_vec()),
        );
        store.commit(delta)?;
    }
    Ok(())
}

/// Rewrite the database in `path` into fresh files, every block packed full, and swap
/// them in: the space of deleted facts and of sled's old log segments is given back.
/// The database must not be open; a damaged one is refused (repair it first).
pub fn compact(path: &Path) -> Result<Compacted> {
    if !path.join("db").is_file() {
        return Err(Error::Open {
            path: path.to_path_buf(),
            reason: "there is no database there".into(),
        });
    }
    let bytes_before = disk_bytes(path);
    let fresh = sibling(path, ".compacting");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).map_err(|e| Error::io(&fresh, e))?;
    }
    let copied = {
        let db = Db::open(path)?;
        if let Some(d) = db.store().damage() {
            return Err(Error::Storage(format!(
                "the database is damaged ({d}): run `dossier check --repair` before compacting"
            )));
        }
        let store = db.store();
        let _gate = store.read()?;
        store.copy_to(&fresh).inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&fresh);
        })?
    };
    let lock = kv::lock_dir(path)?;
    let old = sibling(path, ".compact-old");
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    }
    swap(path, &fresh, &old)?;
    drop(lock);
    std::fs::remove_dir_all(&old).map_err(|e| Error::io(&old, e))?;
    Ok(Compacted {
        bytes_before,
        bytes_after: disk_bytes(path),
        facts: copied.facts,
    })
}

impl Db {
    /// Write a consistent copy of the database to directory `dest` (which must not exist)
    /// while it stays open: readers go on, writers wait until the copy is done.  The copy
    /// is a database of its own, checked before this returns; it is written as
    /// `DEST.partial` and renamed, so a directory at `dest` is always a whole backup.
    ///
    /// ```
    /// let dir = tempfile::tempdir().unwrap();
    /// let db = dossier::Db::memory()?;
    /// db.execute("lna backed_by egypt, uae.")?;
    /// let made = db.backup(&dir.path().join("copy"))?;
    /// assert_eq!(made.facts, 2);
    /// let copy = dossier::Db::open(dir.path().join("copy"))?;
    /// assert_eq!(copy.query("find ?x where lna backed_by ?x.")?.len(), 2);
    /// # Ok::<(), dossier::Error>(())
    /// ```
    pub fn backup(&self, dest: &Path) -> Result<BackedUp> {
        if dest.exists() {
            return Err(Error::Invalid(format!(
                "{} already exists: a backup goes where nothing is yet",
                dest.display()
            )));
        }
        let partial = sibling(dest, ".partial");
        if partial.exists() {
            return Err(Error::Invalid(format!(
                "{} exists (left by an interrupted backup?): remove it first",
                partial.display()
            )));
        }
        let store = self.store();
        let copied = {
            let _gate = store.read()?;
            store.copy_to(&partial)
        };
        let copied = copied.inspect_err(|_| {
            let _ = std::fs::remove_dir_all(&partial);
        })?;
        std::fs::rename(&partial, dest).map_err(|e| Error::io(dest, e))?;
        sync_parent(dest);
        Ok(BackedUp {
            facts: copied.facts,
            terms: copied.terms,
            bytes: disk_bytes(dest),
        })
    }
}

/// `path` with `suffix` appended to its last component.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Move `path` to `keep`, then `fresh` to `path`.  Between the two renames `path` does
/// not exist; a process that dies there leaves both directories, and opening `path`
/// says so instead of creating an empty database.
fn swap(path: &Path, fresh: &Path, keep: &Path) -> Result<()> {
    std::fs::rename(path, keep).map_err(|e| Error::io(path, e))?;
    if let Err(e) = std::fs::rename(fresh, path) {
        // Put the old one back: nothing changed.
        let _ = std::fs::rename(keep, path);
        return Err(Error::io(path, e));
    }
    sync_parent(path);
    Ok(())
}

fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Ok(d) = std::fs::File::open(parent) {
            let _ = d.sync_all();
        }
    }
}

/// Bytes the files of a database directory take on disk (allocated blocks on Unix: sled's
/// data file has holes), leaving out the space it keeps in reserve for a full disk.
pub fn disk_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries.flatten() {
        let Ok(m) = e.metadata() else { continue };
        if e.file_name() == kv::RESERVE {
            continue;
        }
        if m.is_dir() {
            n += disk_bytes(&e.path());
        } else {
            #[cfg(unix)]
            {
                use std::os::unix::fs::MetadataExt;
                n += m.blocks() * 512;
            }
            #[cfg(not(unix))]
            {
                n += m.len();
            }
        }
    }
    n
}
