//! The store: term dictionary, indexes and counts on sled, with atomic commits.
//!
//! Layout: one sled tree; the first byte of every key says what it is.
//!
//! | tag | what | key after the tag | value |
//! |---|---|---|---|
//! | `00` | meta records | name | format version, next ids, totals, catalog |
//! | `01` | dictionary id → term | first entry of a block | packed block |
//! | `02` | dictionary term → id | first entry of a block | packed block |
//! | `03` | text index: trigram → terms | first entry of a block | packed block |
//! | `10` `11` `12` `13` | indexes SPOG, POS, OSP, GSPO | first tuple of a block | packed block |
//! | `20` `21` `22` | counts per predicate, class, source | id | counts |
//!
//! A commit writes all of it in one `apply_batch`, so a statement lands whole or not at all,
//! then flushes (unless durability was relaxed for a bulk load).
//!
//! This file is the API (open, dictionary, meta records); `commit.rs` writes a delta,
//! `verify.rs` checks that the indexes and counts agree.

pub mod blocks;
pub mod codec;
mod commit;
pub mod delta;
pub mod dict;
mod digest;
pub mod id;
mod import;
mod journal;
pub mod kv;
mod rebuild;
mod records;
mod scan;
pub mod spill;
pub mod stats;
pub mod text;
mod verify;

pub use delta::{Delta, Normalized, Savepoint};
pub use id::{kind, Id};
pub use import::{StagedQuads, NO_SOURCE, QUAD_BUDGET};
pub use rebuild::{salvage, Copied, RecordRules, Salvaged};
pub use scan::{GraphSel, IdPattern, Order, Probe, QuadIter};
pub use stats::{PredStats, Stats};
pub use text::TextQuery;

use crate::error::{Error, Result};
use crate::model::Value;
use blocks::BlockSet;
use codec::TupleCodec;
use dict::{Dict, NextIds};
use kv::{Kv, KvBatch};
use rustc_hash::FxHashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard};

/// The on-disk format this build writes.  A database with a larger number was written by
/// a newer dossier and is refused rather than misread.
pub const FORMAT_VERSION: u32 = 1;

const TAG_META: u8 = 0x00;
const TAG_SPOG: u8 = 0x10;
const TAG_POS: u8 = 0x11;
const TAG_OSP: u8 = 0x12;
const TAG_GSPO: u8 = 0x13;

const META_FORMAT: &[u8] = b"\x00format";
const META_NEXT: &[u8] = b"\x00next";
const META_TOTALS: &[u8] = b"\x00totals";
/// Prefix of the meta keys that layers above may use (catalog records).
const META_USER: u8 = b'u';

/// The first key byte of every part of the store (meta, the dictionary's two directions,
/// the indexes, the counts), in order.  A key starting with anything else is damage; a new
/// part adds its tag here (and its pass to `verify.rs` and `rebuild.rs`).
const TAGS: &[u8] = &[
    TAG_META,
    dict::TAG_ID2TERM,
    dict::TAG_TERM2ID,
    text::TAG_TEXT,
    TAG_SPOG,
    TAG_POS,
    TAG_OSP,
    TAG_GSPO,
    stats::TAG_PRED,
    stats::TAG_CLASS,
    stats::TAG_SOURCE,
];

/// How to open a store.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// sled's page cache size in bytes.
    pub cache_bytes: u64,
    /// Flush to disk before a commit returns (a committed write survives a crash).
    pub durable: bool,
    /// Refuse every write.
    pub read_only: bool,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            cache_bytes: 256 << 20,
            durable: true,
            read_only: false,
        }
    }
}

/// What a commit changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitStats {
    /// Assertions added (a new source for an existing triple counts).
    pub added: u64,
    /// Assertions removed.
    pub removed: u64,
    /// Distinct triples that appeared (had no assertion before).
    pub triples_added: u64,
    /// Distinct triples that vanished (their last assertion was removed).
    pub triples_removed: u64,
}

/// The facts of one database on sled: dictionary, the four indexes and the counts, with
/// the read gate and the writer lock that keep readers from seeing half a commit.
pub struct Store {
    kv: Kv,
    path: PathBuf,
    pub(crate) dict: Dict,
    spog: BlockSet<TupleCodec>,
    pos: BlockSet<TupleCodec>,
    osp: BlockSet<TupleCodec>,
    gspo: BlockSet<TupleCodec>,
    text: text::TextIndex,
    stats: RwLock<Stats>,
    next: Mutex<NextIds>,
    /// Readers hold it shared for a whole query; a commit holds it exclusively only while
    /// sled applies the batch, so a reader never sees half of a statement.
    gate: RwLock<()>,
    /// One writer at a time builds and commits a delta.
    writer: Mutex<()>,
    /// Bumped by every commit: caches of derived facts compare it.
    version: AtomicU64,
    /// One value computed by a layer above from the committed state (the engine keeps its
    /// catalog there), with the version it was computed at.
    memo: Mutex<Option<(u64, Arc<dyn std::any::Any + Send + Sync>)>>,
    /// The version at which each predicate and class last changed; updated with `version`.
    changes: RwLock<Changes>,
    /// State a layer above keeps across versions (the engine's derived facts).
    attached: std::sync::OnceLock<Arc<dyn std::any::Any + Send + Sync>>,
    options: StoreOptions,
    /// Why writes are refused, when opening found the database damaged (see
    /// [`Store::damage`]).
    damage: Option<String>,
    /// The copy a read-only store reads from, removed after `kv` is dropped (fields drop
    /// in order).
    _private_copy: Option<PrivateCopy>,
}

/// A directory removed when dropped.
struct PrivateCopy(PathBuf);

impl Drop for PrivateCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// For each predicate and each class, the version of the last commit that added or removed
/// one of its triples, so a cache of facts derived from some predicates stays valid across
/// commits that touch only others.  Kept in memory: versions restart at 0 when the store
/// is opened, and so does every cache.
#[derive(Debug, Default)]
pub struct Changes {
    preds: FxHashMap<Id, u64>,
    classes: FxHashMap<Id, u64>,
    /// The version of the last [`Store::clear`]: it changed every predicate and class.
    cleared: u64,
}

impl Changes {
    /// The version of the last commit that changed a triple of predicate `p` (0: none
    /// since the store was opened).
    pub fn pred(&self, p: Id) -> u64 {
        self.preds.get(&p).copied().unwrap_or(0).max(self.cleared)
    }

    /// The version of the last commit that changed a `type` triple of class `c`.
    pub fn class(&self, c: Id) -> u64 {
        self.classes.get(&c).copied().unwrap_or(0).max(self.cleared)
    }

    /// Record that the commit making `version` changed these predicates and classes.
    fn record(
        &mut self,
        version: u64,
        preds: impl Iterator<Item = Id>,
        classes: impl Iterator<Item = Id>,
    ) {
        for p in preds {
            self.preds.insert(p, version);
        }
        for c in classes {
            self.classes.insert(c, version);
        }
    }
}

fn lock_err<T>(_: T) -> Error {
    Error::Storage("an internal lock was poisoned by a panic in another thread".into())
}

impl Store {
    /// Open or create the store in directory `path`.
    pub fn open(path: &Path, options: StoreOptions) -> Result<Store> {
        if path.is_file() {
            return Err(Error::Open {
                path: path.to_path_buf(),
                reason: "it is a file, not a database directory".into(),
            });
        }
        if options.read_only {
            return Store::open_private_copy(path, options);
        }
        let kv = Kv::open(path, options.cache_bytes, false)?;
        Store::init(kv, path.to_path_buf(), options, None)
    }

    /// Read-only: sled writes to its files even when nothing changes (it rewrites the
    /// tail of its log and may write a snapshot when it opens), so a read-only store opens
    /// a private copy of the directory, made in the system's temporary directory under the
    /// database's lock and removed when the store is dropped.  Nothing reaches the
    /// database's own files.
    fn open_private_copy(path: &Path, options: StoreOptions) -> Result<Store> {
        if !path.join("db").is_file() {
            return Err(Error::Open {
                path: path.to_path_buf(),
                reason: "there is no database there (and it was opened read-only)".into(),
            });
        }
        static COPIES: AtomicU64 = AtomicU64::new(0);
        let copy = std::env::temp_dir().join(format!(
            "dossier-read-only-{}-{}",
            std::process::id(),
            COPIES.fetch_add(1, Ordering::Relaxed)
        ));
        let guard = PrivateCopy(copy.clone());
        {
            let _lock = kv::lock_dir(path)?;
            kv::copy_dir(path, &copy).map_err(|e| Error::Open {
                path: path.to_path_buf(),
                reason: format!(
                    "a read-only database is opened from a copy, and copying it to {} failed: {e}",
                    copy.display()
                ),
            })?;
        }
        let kv = Kv::open(&copy, options.cache_bytes, false).map_err(|e| match e {
            Error::Open { reason, .. } => Error::Open {
                path: path.to_path_buf(),
                reason,
            },
            other => other,
        })?;
        Store::init(kv, path.to_path_buf(), options, Some(guard))
    }

    /// A store in a temporary directory, deleted when dropped.
    pub fn temporary() -> Result<Store> {
        let options = StoreOptions {
            durable: false,
            cache_bytes: 64 << 20,
            ..StoreOptions::default()
        };
        let kv = Kv::open(Path::new(""), options.cache_bytes, true)?;
        Store::init(kv, PathBuf::from(":memory:"), options, None)
    }

    fn init(
        kv: Kv,
        path: PathBuf,
        options: StoreOptions,
        private_copy: Option<PrivateCopy>,
    ) -> Result<Store> {
        let open_err = |reason: String| Error::Open {
            path: path.clone(),
            reason,
        };
        match kv.get(META_FORMAT)? {
            Some(v) => {
                let bytes: [u8; 4] = v
                    .as_ref()
                    .try_into()
                    .map_err(|_| open_err("its format record is corrupt".into()))?;
                let found = u32::from_be_bytes(bytes);
                if found > FORMAT_VERSION {
                    return Err(open_err(format!(
                        "it was written by a newer dossier (format {found}; this build reads format {FORMAT_VERSION} and older)"
                    )));
                }
            }
            None => {
                if kv.range(&[0x01], &[0xFF]).next().is_some() {
                    return Err(open_err(
                        "it holds data but no format record (not a dossier database, or corrupt; \
                         if it is a dossier database, `dossier check --repair` rebuilds it and \
                         keeps this directory as it is)"
                            .into(),
                    ));
                }
                if options.read_only {
                    return Err(open_err(
                        "there is no database there (and it was opened read-only)".into(),
                    ));
                }
                let mut b = KvBatch::default();
                b.put(META_FORMAT.to_vec(), FORMAT_VERSION.to_be_bytes().to_vec());
                // An empty dictionary is fully indexed.
                b.put(text::META_TEXT.to_vec(), NextIds::default().to_bytes());
                kv.apply(b)?;
                kv.flush()?;
            }
        }
        // An import that did not finish (the process died) is undone before anything is read.
        if journal::interrupted(&kv)? {
            if options.read_only {
                return Err(open_err(
                    "an import into it was interrupted; open it once for writing to undo it".into(),
                ));
            }
            journal::rollback(&kv)?;
        }
        let next = match kv.get(META_NEXT)? {
            Some(v) => NextIds::from_bytes(&v)
                .ok_or_else(|| open_err("its id counters are corrupt".into()))?,
            None => NextIds::default(),
        };
        let stats = load_stats(&kv).map_err(|e| {
            open_err(format!(
                "its statistics are unreadable ({e}); `dossier check --repair` rebuilds them"
            ))
        })?;
        let dict = Dict::new();
        // (A read-only store writes this into its private copy only.)
        write_missing_register(&kv)?;
        let damage = damage_at_open(&kv, &dict, &next)?;
        let text_upto = text::TextIndex::read_upto(&kv)?.unwrap_or_default();
        let store = Store {
            kv,
            path,
            dict,
            spog: index_set(TAG_SPOG),
            pos: index_set(TAG_POS),
            osp: index_set(TAG_OSP),
            gspo: index_set(TAG_GSPO),
            text: text::TextIndex::new(text_upto),
            stats: RwLock::new(stats),
            next: Mutex::new(next),
            gate: RwLock::new(()),
            writer: Mutex::new(()),
            version: AtomicU64::new(0),
            memo: Mutex::new(None),
            changes: RwLock::new(Changes::default()),
            attached: std::sync::OnceLock::new(),
            options,
            damage,
            _private_copy: private_copy,
        };
        // Terms written without the text index (an older build) are indexed now, unless
        // writes are refused (read-only, or damage found: the index would be built on it).
        if !store.options.read_only && store.damage.is_none() {
            store.index_text_tail()?;
        }
        Ok(store)
    }

    /// What opening found damaged, if anything: the id counters behind the dictionary, a
    /// meta record missing or changed, the totals gone.  Writes are refused then (they
    /// would make it worse: new names would take ids in use); reads go on, and
    /// `dossier check --repair` rebuilds the database.
    pub fn damage(&self) -> Option<&str> {
        self.damage.as_deref()
    }

    fn refuse_writes(&self) -> Result<()> {
        if self.options.read_only {
            return Err(Error::Invalid("the database was opened read-only".into()));
        }
        if let Some(d) = &self.damage {
            return Err(Error::Storage(format!(
                "the database is damaged ({d}), so writes are refused until it is repaired: \
                 `dossier check` lists the problems and `dossier check --repair` rebuilds it"
            )));
        }
        Ok(())
    }

    /// The database directory (`:memory:` for [`Store::temporary`]).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The options it was opened with.
    pub fn options(&self) -> &StoreOptions {
        &self.options
    }

    /// Hold while reading: commits wait until it is dropped.
    pub fn read(&self) -> Result<RwLockReadGuard<'_, ()>> {
        self.gate.read().map_err(lock_err)
    }

    /// Hold while building and committing a delta: one writer at a time.
    pub fn writer(&self) -> Result<MutexGuard<'_, ()>> {
        self.refuse_writes()?;
        // A panic in a transaction poisons the lock but wrote nothing: carry on.
        Ok(self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Changes every commit; equal versions mean equal contents.
    pub fn version(&self) -> u64 {
        self.version.load(Ordering::Acquire)
    }

    /// A value derived from the committed state, computed by `make` once per version.
    pub fn memo<T: std::any::Any + Send + Sync>(
        &self,
        make: impl FnOnce() -> Result<T>,
    ) -> Result<Arc<T>> {
        let version = self.version();
        if let Ok(m) = self.memo.lock() {
            if let Some((v, value)) = m.as_ref() {
                if *v == version {
                    if let Ok(t) = value.clone().downcast::<T>() {
                        return Ok(t);
                    }
                }
            }
        }
        let value = Arc::new(make()?);
        if let Ok(mut m) = self.memo.lock() {
            *m = Some((version, value.clone()));
        }
        Ok(value)
    }

    /// Which predicates and classes changed at which version (see [`Changes`]).  A reader
    /// holding [`Store::read`] sees it consistent with [`Store::version`].
    pub fn changes(&self) -> Result<RwLockReadGuard<'_, Changes>> {
        self.changes.read().map_err(lock_err)
    }

    /// The value of type `T` attached to this store, made with `T::default()` on first use
    /// and kept for the store's life (the engine keeps its derived facts there); `None` if
    /// a value of another type was attached first.
    pub fn attached<T: std::any::Any + Send + Sync + Default>(&self) -> Option<Arc<T>> {
        self.attached
            .get_or_init(|| Arc::new(T::default()))
            .clone()
            .downcast::<T>()
            .ok()
    }

    /// The exact counts of the committed state (pending deltas not included).  Hold the
    /// guard briefly: a commit waits for it.
    pub fn stats(&self) -> Result<std::sync::RwLockReadGuard<'_, Stats>> {
        self.stats.read().map_err(lock_err)
    }

    // ----- terms -----

    /// The id of a value if the store (or `delta`) knows it.  Inline kinds always have one.
    pub fn lookup(&self, v: &Value, delta: Option<&Delta>) -> Result<Option<Id>> {
        if let Some(id) = Id::inline(v) {
            return Ok(Some(id));
        }
        let (k, text) = dict_key(v);
        if let Some(id) = delta.and_then(|d| d.new_term(k, text)) {
            return Ok(Some(id));
        }
        self.dict.lookup(&self.kv, k, text)
    }

    /// The id of entity `name` if the store (or `delta`) knows it.
    pub fn lookup_entity(&self, name: &str, delta: Option<&Delta>) -> Result<Option<Id>> {
        if let Some(id) = delta.and_then(|d| d.new_term(kind::ENTITY, name)) {
            return Ok(Some(id));
        }
        self.dict.lookup(&self.kv, kind::ENTITY, name)
    }

    /// The id of a value, giving it a new one in `delta` if it has none yet.  A value that
    /// cannot be stored ([`Value::storable`]: a float that is not finite, an entity
    /// without a name) is an error.
    pub fn intern(&self, delta: &mut Delta, v: &Value) -> Result<Id> {
        v.storable().map_err(Error::Invalid)?;
        if let Some(id) = self.lookup(v, Some(delta))? {
            return Ok(id);
        }
        let (k, text) = dict_key(v);
        Ok(self.allocate(delta, k, text))
    }

    /// The id of entity `name`, giving it a new one in `delta` if it has none yet.  An
    /// empty name is an error.
    pub fn intern_entity(&self, delta: &mut Delta, name: &str) -> Result<Id> {
        if name.is_empty() {
            return Err(Error::Invalid("an entity name cannot be empty".into()));
        }
        if let Some(id) = self.lookup_entity(name, Some(delta))? {
            return Ok(id);
        }
        Ok(self.allocate(delta, kind::ENTITY, name))
    }

    fn allocate(&self, delta: &mut Delta, k: u8, text: &str) -> Id {
        let mut next = match self.next.lock() {
            Ok(n) => *n,
            Err(p) => *p.into_inner(),
        };
        // Ids already handed out in this delta come after the committed ones.
        next.string += delta.new_strings.len() as u64;
        next.entity += delta.new_entities.len() as u64;
        let id = next.take(k);
        delta.record_term(id, text);
        id
    }

    /// The value of an id (dictionary lookup for strings and entities).
    pub fn value(&self, id: Id, delta: Option<&Delta>) -> Result<Value> {
        if let Some(v) = id.decode_inline() {
            return Ok(v);
        }
        let text: Arc<str> = match delta.and_then(|d| d.new_text(id)) {
            Some(t) => Arc::from(t),
            None if id.is_dictionary() => self.dict.text(&self.kv, id)?,
            None => return Err(Error::Storage(format!("id {id:?} is not a value"))),
        };
        Ok(make_value(id.kind(), &text))
    }

    /// The text of a string or entity id (without building a `Value`).
    pub fn text(&self, id: Id) -> Result<Arc<str>> {
        self.dict.text(&self.kv, id)
    }

    /// Decode many ids at once.
    pub fn values(&self, ids: &[Id], delta: Option<&Delta>) -> Result<FxHashMap<Id, Value>> {
        let mut out = FxHashMap::default();
        let mut dict_ids = Vec::new();
        for &id in ids {
            if let Some(v) = id.decode_inline() {
                out.insert(id, v);
            } else if let Some(t) = delta.and_then(|d| d.new_text(id)) {
                out.insert(id, make_value(id.kind(), t));
            } else if id.is_dictionary() {
                dict_ids.push(id);
            }
        }
        self.dict.decode_many(&self.kv, &dict_ids, |id, text| {
            out.insert(id, make_value(id.kind(), text));
        })?;
        Ok(out)
    }

    /// The values of every term in the dictionary block holding `id` (see
    /// [`Dict::block_of`]).
    pub fn dictionary_block(&self, id: Id) -> Result<Vec<(Id, Value)>> {
        Ok(self
            .dict
            .block_of(&self.kv, id)?
            .into_iter()
            .map(|(i, t)| (i, make_value(i.kind(), &t)))
            .collect())
    }

    /// Entity names starting with `prefix`, with their ids (REPL completion).
    pub fn entities_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<(Id, String)>> {
        self.dict.with_prefix(&self.kv, kind::ENTITY, prefix, limit)
    }

    /// Every string or entity in the dictionary, in id order.
    pub fn terms_of_kind(&self, k: u8) -> Result<impl Iterator<Item = Result<(Id, String)>> + '_> {
        self.dict.all_of_kind(&self.kv, k)
    }

    // ----- meta records for the layers above -----

    fn user_key(name: &str) -> Vec<u8> {
        let mut k = vec![TAG_META, META_USER];
        k.extend_from_slice(name.as_bytes());
        k
    }

    /// A record of the layers above (the catalog), as `delta` would leave it.
    pub fn meta(&self, name: &str, delta: Option<&Delta>) -> Result<Option<Vec<u8>>> {
        let key = Store::user_key(name);
        if let Some(v) = delta.and_then(|d| d.meta(&key)) {
            return Ok(v.map(<[u8]>::to_vec));
        }
        Ok(self.kv.get(&key)?.map(|v| v.to_vec()))
    }

    /// Set (`None`: delete) the meta record `name` in `delta`; it is written with the
    /// delta's commit.  Names are the layers' own (`catalog`, `imports`).
    pub fn put_meta(&self, delta: &mut Delta, name: &str, value: Option<Vec<u8>>) {
        delta.put_meta(Store::user_key(name), value);
    }

    // ----- writing (`commit.rs`) and checks (`verify.rs`) -----

    /// Empty the store — every fact, term, count and record — as a new one is.  For tests
    /// and fuzzing, which reuse one temporary store instead of creating one per case;
    /// waits for the writer and the readers.
    pub fn clear(&self) -> Result<()> {
        let _writer = self.writer()?;
        let _gate = self.gate.write().map_err(lock_err)?;
        self.kv.clear()?;
        let mut b = KvBatch::default();
        b.put(META_FORMAT.to_vec(), FORMAT_VERSION.to_be_bytes().to_vec());
        b.put(text::META_TEXT.to_vec(), NextIds::default().to_bytes());
        self.kv.apply(b)?;
        *self.stats.write().map_err(lock_err)? = Stats::default();
        *self.next.lock().map_err(lock_err)? = NextIds::default();
        self.text.set_upto(NextIds::default())?;
        self.clear_caches();
        self.dict.forget_terms();
        *self.memo.lock().map_err(lock_err)? = None;
        let version = self.version.fetch_add(1, Ordering::AcqRel) + 1;
        // Kept derived facts came from what is gone.
        self.changes.write().map_err(lock_err)?.cleared = version;
        Ok(())
    }

    /// Make every commit so far durable (after bulk loads with durability relaxed).  When
    /// that fails, the commits not yet durable are undone (see
    /// [`Store::recover_from_failed_write`]).
    pub fn flush(&self) -> Result<()> {
        self.kv
            .flush()
            .map_err(|e| self.recover_from_failed_write(e))
    }

    /// After a write or flush failed (a full disk, an I/O error), sled keeps the failed
    /// writes in memory, retries them until the disk is full and fails every later call,
    /// reads included.  Reopen it instead: the database is back at its last durable state,
    /// reads work, and the space the failed writes took is given back.  Returns the error
    /// to report, saying what happened.
    pub(crate) fn recover_from_failed_write(&self, cause: Error) -> Error {
        let reopened = match self.gate.write() {
            Ok(_gate) => self.kv.reopen().and_then(|()| self.reload()),
            Err(p) => Err(lock_err(p)),
        };
        match reopened {
            Ok(()) => Error::Storage(format!(
                "{cause}; the write was not saved, and the database is back at its last saved state"
            )),
            Err(e) => Error::Storage(format!(
                "{cause}; the write was not saved, and reopening the database failed too ({e}): \
                 free disk space and open it again"
            )),
        }
    }

    /// Read the counts and id counters again from the stored records (after a reopen).
    fn reload(&self) -> Result<()> {
        self.clear_caches();
        let next = match self.kv.get(META_NEXT)? {
            Some(v) => NextIds::from_bytes(&v)
                .ok_or_else(|| Error::Storage("the id counters are corrupt".into()))?,
            None => NextIds::default(),
        };
        *self.stats.write().map_err(lock_err)? = load_stats(&self.kv)?;
        *self.next.lock().map_err(lock_err)? = next;
        self.version.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    /// Forget every decoded block (the stored ones changed).
    fn clear_caches(&self) {
        for set in [&self.spog, &self.pos, &self.osp, &self.gspo] {
            set.clear_cache();
        }
        self.dict.clear_cache();
    }

    /// Bytes the database takes on disk (as sled reports it).
    pub fn size_on_disk(&self) -> Result<u64> {
        self.kv.size_on_disk()
    }

    /// Number of sled entries per part: (dictionary, indexes).
    pub fn block_counts(&self) -> Result<(u64, u64)> {
        let (a, b) = self.dict.block_counts(&self.kv)?;
        let mut idx = self.text.block_count(&self.kv)?;
        for set in [&self.spog, &self.pos, &self.osp, &self.gspo] {
            idx += set.block_count(&self.kv)?;
        }
        Ok((a + b, idx))
    }
}

fn dict_key(v: &Value) -> (u8, &str) {
    match v {
        Value::Str(s) => (kind::STR, s.as_str()),
        Value::Entity(e) => (kind::ENTITY, e.as_str()),
        // Inline kinds never reach the dictionary; callers check `Id::inline` first.
        _ => (kind::NONE, ""),
    }
}

fn make_value(k: u8, text: &str) -> Value {
    if k == kind::STR {
        Value::Str(text.to_string())
    } else {
        Value::Entity(text.to_string())
    }
}

/// The block set of the index under `tag`: quads for SPOG and GSPO, triples otherwise.
fn index_set(tag: u8) -> BlockSet<TupleCodec> {
    let arity = if tag == TAG_SPOG || tag == TAG_GSPO {
        4
    } else {
        3
    };
    BlockSet::new(tag, TupleCodec { arity }, blocks::MAX_TUPLE_ENTRIES)
}

/// The totals record: distinct triples, then assertions, 8 bytes big-endian each.
fn totals_record(triples: u64, quads: u64) -> Vec<u8> {
    let mut v = triples.to_be_bytes().to_vec();
    v.extend_from_slice(&quads.to_be_bytes());
    v
}

fn load_stats(kv: &Kv) -> Result<Stats> {
    let mut s = Stats::default();
    let bad = |what: &str| Error::Storage(format!("corrupt {what} record"));
    for r in kv.range(&[stats::TAG_PRED], &[stats::TAG_PRED + 1]) {
        let (k, v) = r?;
        let id = Id::read_key(&k[1..]).ok_or_else(|| bad("predicate count"))?;
        s.preds.insert(
            id,
            PredStats::from_bytes(&v).ok_or_else(|| bad("predicate count"))?,
        );
    }
    for (tag, map) in [
        (stats::TAG_CLASS, &mut s.classes),
        (stats::TAG_SOURCE, &mut s.sources),
    ] {
        for r in kv.range(&[tag], &[tag + 1]) {
            let (k, v) = r?;
            let id = Id::read_key(&k[1..]).ok_or_else(|| bad("count"))?;
            let n = u64::from_be_bytes(v.as_ref().try_into().map_err(|_| bad("count"))?);
            map.insert(id, n);
        }
    }
    if let Some(v) = kv.get(META_TOTALS)? {
        let n = |i: usize| {
            v.get(i * 8..i * 8 + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
        };
        s.triples = n(0).ok_or_else(|| bad("totals"))?;
        s.quads = n(1).ok_or_else(|| bad("totals"))?;
    }
    Ok(s)
}

/// Databases written before the register of meta records existed get one (only when
/// there is none: a register that disagrees with the records is damage, for `verify`).
fn write_missing_register(kv: &Kv) -> Result<()> {
    if kv.get(records::META_RECORDS)?.is_some() {
        return Ok(());
    }
    let user = records::user_records(kv)?;
    if user.is_empty() {
        return Ok(());
    }
    let mut b = KvBatch::default();
    b.put(records::META_RECORDS.to_vec(), records::register(&user));
    kv.apply(b)?;
    kv.flush()
}

/// The cheap checks of opening (a few point reads): what would make writes go wrong.
fn damage_at_open(kv: &Kv, dict: &Dict, next: &NextIds) -> Result<Option<String>> {
    let mut found = Vec::new();
    let stored_next = kv.get(META_NEXT)?;
    for (k, what, counter) in [
        (kind::STR, "string", next.string),
        (kind::ENTITY, "entity", next.entity),
    ] {
        let top = match dict.last_id(kv, k) {
            Ok(top) => top,
            Err(e) => {
                found.push(format!("the dictionary's last block is unreadable ({e})"));
                continue;
            }
        };
        if top > counter {
            found.push(if stored_next.is_none() {
                "the id counters are missing".to_string()
            } else {
                format!("the {what} id counter ({counter}) is behind the dictionary ({top})")
            });
        }
    }
    found.dedup();
    let regs = kv.get(records::META_RECORDS)?;
    let user = records::user_records(kv)?;
    found.extend(records::problems(regs.as_deref(), &user));
    let has_facts =
        kv.next_after(&[TAG_SPOG], &[TAG_SPOG + 1])?.is_some() || kv.get(&[TAG_SPOG])?.is_some();
    if has_facts && kv.get(META_TOTALS)?.is_none() {
        found.push("the totals record is missing".to_string());
    }
    Ok((!found.is_empty()).then(|| found.join("; ")))
}
