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

pub mod blocks;
pub mod codec;
pub mod delta;
pub mod dict;
pub mod id;
mod import;
mod journal;
pub mod kv;
mod scan;
pub mod spill;
pub mod stats;
pub mod text;

pub use delta::{Delta, Normalized};
pub use id::{kind, Id};
pub use import::{StagedQuads, NO_SOURCE, QUAD_BUDGET};
pub use scan::{GraphSel, IdPattern, Order, Probe, QuadIter};
pub use stats::{PredStats, Stats};
pub use text::TextQuery;

use crate::error::{Error, Result};
use crate::model::Value;
use blocks::{BlockSet, Op};
use codec::{Tuple, TupleCodec};
use dict::{Dict, NextIds};
use kv::{Kv, KvBatch};
use rustc_hash::FxHashMap;
use stats::StatsDelta;
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
    options: StoreOptions,
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
        let kv = Kv::open(path, options.cache_bytes, false)?;
        Store::init(kv, path.to_path_buf(), options)
    }

    /// A store in a temporary directory, deleted when dropped.
    pub fn temporary() -> Result<Store> {
        let options = StoreOptions {
            durable: false,
            cache_bytes: 64 << 20,
            ..StoreOptions::default()
        };
        let kv = Kv::open(Path::new(""), options.cache_bytes, true)?;
        Store::init(kv, PathBuf::from(":memory:"), options)
    }

    fn init(kv: Kv, path: PathBuf, options: StoreOptions) -> Result<Store> {
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
                        "it holds data but no format record (not a dossier database, or corrupt)"
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
        let stats =
            load_stats(&kv).map_err(|e| open_err(format!("its statistics are unreadable: {e}")))?;
        let text_upto = text::TextIndex::read_upto(&kv)?.unwrap_or_default();
        let store = Store {
            kv,
            path,
            dict: Dict::new(),
            spog: BlockSet::new(TAG_SPOG, TupleCodec { arity: 4 }, blocks::MAX_TUPLE_ENTRIES),
            pos: BlockSet::new(TAG_POS, TupleCodec { arity: 3 }, blocks::MAX_TUPLE_ENTRIES),
            osp: BlockSet::new(TAG_OSP, TupleCodec { arity: 3 }, blocks::MAX_TUPLE_ENTRIES),
            gspo: BlockSet::new(TAG_GSPO, TupleCodec { arity: 4 }, blocks::MAX_TUPLE_ENTRIES),
            text: text::TextIndex::new(text_upto),
            stats: RwLock::new(stats),
            next: Mutex::new(next),
            gate: RwLock::new(()),
            writer: Mutex::new(()),
            version: AtomicU64::new(0),
            memo: Mutex::new(None),
            options,
        };
        if !store.options.read_only {
            store.index_text_tail()?;
        }
        Ok(store)
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
        if self.options.read_only {
            return Err(Error::Invalid("the database was opened read-only".into()));
        }
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

    /// The id of a value, giving it a new one in `delta` if it has none yet.
    pub fn intern(&self, delta: &mut Delta, v: &Value) -> Result<Id> {
        if let Some(id) = self.lookup(v, Some(delta))? {
            return Ok(id);
        }
        let (k, text) = dict_key(v);
        Ok(self.allocate(delta, k, text))
    }

    /// The id of entity `name`, giving it a new one in `delta` if it has none yet.
    pub fn intern_entity(&self, delta: &mut Delta, name: &str) -> Result<Id> {
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

    /// Entity names starting with `prefix` (REPL completion).
    pub fn entities_with_prefix(&self, prefix: &str, limit: usize) -> Result<Vec<String>> {
        Ok(self
            .dict
            .with_prefix(&self.kv, kind::ENTITY, prefix, limit)?
            .into_iter()
            .map(|(_, t)| t)
            .collect())
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

    // ----- writing -----

    /// Write a delta atomically.  The caller holds [`Store::writer`].
    pub fn commit(&self, mut delta: Delta) -> Result<CommitStats> {
        if self.options.read_only {
            return Err(Error::Invalid("the database was opened read-only".into()));
        }
        if delta.is_empty() {
            return Ok(CommitStats::default());
        }
        let n = delta.take_normalized();
        let type_id = match delta.new_term(kind::ENTITY, crate::model::TYPE_PREDICATE) {
            Some(id) => Some(id),
            None => self
                .dict
                .lookup(&self.kv, kind::ENTITY, crate::model::TYPE_PREDICATE)?,
        };
        let empty = self.stats()?.quads == 0;
        let resolved = if empty {
            resolve_into_empty(n)
        } else {
            self.resolve(n)?
        };
        // The POS changes serve the distinct-object counts and the POS index; sorted once.
        let pos = (
            in_order(Order::Pos, &resolved.triple_adds, |_| true),
            in_order(Order::Pos, &resolved.triple_removes, |_| true),
        );
        let mut sd = StatsDelta::default();
        self.count(&resolved, &pos, type_id, empty, &mut sd)?;

        let mut batch = KvBatch::default();
        self.pos
            .merge(&self.kv, &merge_ops(&pos.0, &pos.1), &mut batch)?;
        drop(pos);
        let spog: Vec<(Tuple, Op)> = merge_ops(&resolved.quad_adds, &resolved.quad_removes);
        self.spog.merge(&self.kv, &spog, &mut batch)?;
        drop(spog);
        let sourced = |q: &Tuple| q[3].is_some();
        let gspo = merge_ops(
            &in_order(Order::Gspo, &resolved.quad_adds, sourced),
            &in_order(Order::Gspo, &resolved.quad_removes, sourced),
        );
        self.gspo.merge(&self.kv, &gspo, &mut batch)?;
        drop(gspo);
        let osp = merge_ops(
            &in_order(Order::Osp, &resolved.triple_adds, |_| true),
            &in_order(Order::Osp, &resolved.triple_removes, |_| true),
        );
        self.osp.merge(&self.kv, &osp, &mut batch)?;
        drop(osp);

        let terms: Vec<(Id, &str)> = delta.new_texts.iter().map(|(id, t)| (*id, &**t)).collect();
        self.dict.write_new(&self.kv, &terms, &mut batch)?;
        let before = *self.next.lock().map_err(lock_err)?;
        let mut next = before;
        next.string += delta.new_strings.len() as u64;
        next.entity += delta.new_entities.len() as u64;
        let text_upto = self
            .text
            .write_new(&self.kv, &terms, (before, next), &mut batch)?;
        if !terms.is_empty() {
            batch.put(META_NEXT.to_vec(), next.to_bytes());
        }
        for (k, v) in std::mem::take(&mut delta.meta) {
            batch.set(k, v);
        }
        let update = sd.update(&*self.stats()?);
        for (k, v) in update.writes() {
            batch.set(k, v);
        }
        let mut totals = update.triples.to_be_bytes().to_vec();
        totals.extend_from_slice(&update.quads.to_be_bytes());
        batch.put(META_TOTALS.to_vec(), totals);

        {
            let _gate = self.gate.write().map_err(lock_err)?;
            self.kv.apply(batch)?;
            for set in [&self.spog, &self.pos, &self.osp, &self.gspo] {
                set.clear_cache();
            }
            self.dict.clear_cache();
            if let Some(upto) = text_upto {
                self.text.set_upto(upto)?;
            }
            update.apply(&mut *self.stats.write().map_err(lock_err)?);
            *self.next.lock().map_err(lock_err)? = next;
            self.version.fetch_add(1, Ordering::AcqRel);
        }
        if self.options.durable {
            self.kv.flush()?;
        }
        Ok(CommitStats {
            added: resolved.quad_adds.len() as u64,
            removed: resolved.quad_removes.len() as u64,
            triples_added: resolved.triple_adds.len() as u64,
            triples_removed: resolved.triple_removes.len() as u64,
        })
    }

    /// Make every commit so far durable (after bulk loads with durability relaxed).
    pub fn flush(&self) -> Result<()> {
        self.kv.flush()
    }

    /// Compare the delta with what is stored: which assertions really change, and which
    /// triples appear or disappear.
    fn resolve(&self, n: Normalized) -> Result<Resolved> {
        let mut r = Resolved::default();
        let mut cursor = self.spog.cursor(&self.kv);
        let (mut i, mut j) = (0, 0);
        let mut existing = Vec::new();
        while i < n.adds.len() || j < n.removes.len() {
            let t = match (n.adds.get(i), n.removes.get(j)) {
                (Some(a), Some(b)) => triple_of(a).min(triple_of(b)),
                (Some(a), None) => triple_of(a),
                (None, Some(b)) => triple_of(b),
                (None, None) => break,
            };
            existing.clear();
            let lo = [t[0], t[1], t[2], Id::MIN];
            let hi = [t[0], t[1], t[2].successor(), Id::MIN];
            cursor.range_into(&lo, &hi, &mut existing)?;
            let before = existing.len();
            let mut after = before;
            while let Some(q) = n.adds.get(i).filter(|q| triple_of(q) == t) {
                if existing.binary_search(q).is_err() {
                    r.quad_adds.push(*q);
                    after += 1;
                }
                i += 1;
            }
            while let Some(q) = n.removes.get(j).filter(|q| triple_of(q) == t) {
                if existing.binary_search(q).is_ok() {
                    r.quad_removes.push(*q);
                    after -= 1;
                }
                j += 1;
            }
            let triple = [t[0], t[1], t[2], Id::NONE];
            if before == 0 && after > 0 {
                r.triple_adds.push(triple);
            } else if before > 0 && after == 0 {
                r.triple_removes.push(triple);
            }
        }
        Ok(r)
    }

    /// Turn the triple-level changes into count changes.  Distinct subject/object counts
    /// need to know whether other triples share the (s, p) or (p, o): a bounded probe.
    fn count(
        &self,
        r: &Resolved,
        (pos_adds, pos_removes): &(Vec<Tuple>, Vec<Tuple>),
        type_id: Option<Id>,
        empty: bool,
        sd: &mut StatsDelta,
    ) -> Result<()> {
        sd.quads = r.quad_adds.len() as i64 - r.quad_removes.len() as i64;
        sd.triples = r.triple_adds.len() as i64 - r.triple_removes.len() as i64;
        for (v, d) in [(&r.quad_adds, 1i64), (&r.quad_removes, -1)] {
            for q in v.iter().filter(|q| q[3].is_some()) {
                *sd.sources.entry(q[3]).or_default() += d;
            }
        }
        for (v, d) in [(&r.triple_adds, 1i64), (&r.triple_removes, -1)] {
            for t in v.iter() {
                sd.preds.entry(t[1]).or_default().0 += d;
                if Some(t[1]) == type_id {
                    *sd.classes.entry(t[2]).or_default() += d;
                }
            }
        }
        // Distinct subjects of p change with the groups of (s, p) changes (SPO order
        // already), distinct objects with the groups of (p, o).
        let (adds, removes) = (&r.triple_adds, &r.triple_removes);
        self.presence_changes(&self.spog, adds, removes, empty, |_, p, d| {
            sd.preds.entry(p).or_default().1 += d
        })?;
        self.presence_changes(&self.pos, pos_adds, pos_removes, empty, |p, _, d| {
            sd.preds.entry(p).or_default().2 += d
        })?;
        Ok(())
    }

    /// For each group of changes to the entries of `set` that start with `(a, b)`:
    /// `f(a, b, +1)` when the first such entry appears, `-1` when the last one goes, `0`
    /// otherwise.  Whether others remain is a probe bounded by the group's removes.
    fn presence_changes(
        &self,
        set: &BlockSet<TupleCodec>,
        adds: &[Tuple],
        removes: &[Tuple],
        empty: bool,
        mut f: impl FnMut(Id, Id, i64),
    ) -> Result<()> {
        let mut cursor = set.cursor(&self.kv);
        for ((a, b), n_adds, n_removes) in group_changes(adds, removes, |t| (t[0], t[1])) {
            let before = if empty {
                0
            } else {
                count_distinct(
                    &mut cursor,
                    [a, b, Id::MIN, Id::MIN],
                    [a, b.successor(), Id::MIN, Id::MIN],
                    n_removes + 1,
                    3,
                )?
            };
            let after = before + n_adds - n_removes.min(before);
            f(a, b, presence_change(before, after));
        }
        Ok(())
    }

    // ----- checks and figures -----

    /// Check that every index holds the same facts and every count is exact.  Returns the
    /// problems found (empty when consistent).  Reads everything: O(facts).
    pub fn verify(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let _g = self.read()?;
        let mut quads: Vec<Tuple> = Vec::new();
        for q in self.spog.all(&self.kv) {
            quads.push(q?);
        }
        let mut triples: Vec<Tuple> = quads.iter().map(|q| [q[0], q[1], q[2], Id::NONE]).collect();
        triples.dedup();
        for (order, set, name) in [
            (Order::Pos, &self.pos, "POS"),
            (Order::Osp, &self.osp, "OSP"),
        ] {
            let mut got: Vec<Tuple> = Vec::new();
            for e in set.all(&self.kv) {
                got.push(order.to_spog(&e?));
            }
            got.sort_unstable();
            if got != triples {
                problems.push(format!(
                    "index {name} holds {} triples, SPOG {}",
                    got.len(),
                    triples.len()
                ));
            }
        }
        let mut sourced: Vec<Tuple> = quads.iter().filter(|q| q[3].is_some()).copied().collect();
        sourced.sort_unstable();
        let mut got: Vec<Tuple> = Vec::new();
        for e in self.gspo.all(&self.kv) {
            got.push(Order::Gspo.to_spog(&e?));
        }
        got.sort_unstable();
        if got != sourced {
            problems.push(format!(
                "index GSPO holds {} sourced facts, SPOG {}",
                got.len(),
                sourced.len()
            ));
        }
        // Recount everything from the triples.
        let mut expect = Stats::default();
        let type_id = self
            .dict
            .lookup(&self.kv, kind::ENTITY, crate::model::TYPE_PREDICATE)?;
        expect.triples = triples.len() as u64;
        expect.quads = quads.len() as u64;
        for q in &sourced {
            *expect.sources.entry(q[3]).or_default() += 1;
        }
        let mut subjects: Vec<(Id, Id)> = triples.iter().map(|t| (t[1], t[0])).collect();
        let mut objects: Vec<(Id, Id)> = triples.iter().map(|t| (t[1], t[2])).collect();
        subjects.sort_unstable();
        subjects.dedup();
        objects.sort_unstable();
        objects.dedup();
        for t in &triples {
            expect.preds.entry(t[1]).or_default().triples += 1;
            if Some(t[1]) == type_id {
                *expect.classes.entry(t[2]).or_default() += 1;
            }
        }
        for (p, _) in subjects {
            expect.preds.entry(p).or_default().subjects += 1;
        }
        for (p, _) in objects {
            expect.preds.entry(p).or_default().objects += 1;
        }
        let have = self.stats()?.clone();
        if have != expect {
            problems.push(format!(
                "counts disagree with the indexes: stored {} triples / {} facts / {} predicates, recounted {} / {} / {}",
                have.triples,
                have.quads,
                have.preds.len(),
                expect.triples,
                expect.quads,
                expect.preds.len()
            ));
        }
        // Every id in the indexes must decode.
        let mut ids: Vec<Id> = quads
            .iter()
            .flat_map(|q| q.iter().copied())
            .filter(|i| i.is_dictionary())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if let Err(e) = self.dict.texts(&self.kv, &ids) {
            problems.push(format!("dictionary: {e}"));
        }
        self.verify_text(&mut problems)?;
        Ok(problems)
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

fn triple_of(q: &Tuple) -> [Id; 3] {
    [q[0], q[1], q[2]]
}

#[derive(Default)]
struct Resolved {
    quad_adds: Vec<Tuple>,
    quad_removes: Vec<Tuple>,
    /// Triples (as `[s, p, o, NONE]`) that appear / disappear, in SPO order.
    triple_adds: Vec<Tuple>,
    triple_removes: Vec<Tuple>,
}

/// Into an empty store every add is new and every remove is a no-op.
fn resolve_into_empty(n: Normalized) -> Resolved {
    let mut triple_adds: Vec<Tuple> = n
        .adds
        .iter()
        .map(|q| [q[0], q[1], q[2], Id::NONE])
        .collect();
    triple_adds.dedup();
    Resolved {
        quad_adds: n.adds,
        quad_removes: Vec::new(),
        triple_adds,
        triple_removes: Vec::new(),
    }
}

fn merge_ops(adds: &[Tuple], removes: &[Tuple]) -> Vec<(Tuple, Op)> {
    let mut out = Vec::with_capacity(adds.len() + removes.len());
    let (mut i, mut j) = (0, 0);
    while i < adds.len() || j < removes.len() {
        let take_add = match (adds.get(i), removes.get(j)) {
            (Some(a), Some(r)) => a < r,
            (Some(_), None) => true,
            _ => false,
        };
        if take_add {
            out.push((adds[i], Op::Insert));
            i += 1;
        } else {
            out.push((removes[j], Op::Delete));
            j += 1;
        }
    }
    out
}

/// Group two sorted lists by a key that is a prefix of their order: (key, adds, removes).
fn group_changes<K: Ord + Copy>(
    adds: &[Tuple],
    removes: &[Tuple],
    key: impl Fn(&Tuple) -> K,
) -> Vec<(K, u64, u64)> {
    let mut out: Vec<(K, u64, u64)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < adds.len() || j < removes.len() {
        let k = match (adds.get(i), removes.get(j)) {
            (Some(a), Some(r)) => key(a).min(key(r)),
            (Some(a), None) => key(a),
            (None, Some(r)) => key(r),
            (None, None) => break,
        };
        let (mut a, mut r) = (0, 0);
        while adds.get(i).is_some_and(|x| key(x) == k) {
            a += 1;
            i += 1;
        }
        while removes.get(j).is_some_and(|x| key(x) == k) {
            r += 1;
            j += 1;
        }
        out.push((k, a, r));
    }
    out
}

/// Distinct values of the first `width` components among entries in `[lo, hi)`, counting
/// at most `cap`: one seek per distinct value, so a huge group is never read whole.
/// The tuples `keep` selects, in `order`'s component order, sorted.
fn in_order(order: Order, v: &[Tuple], keep: impl Fn(&Tuple) -> bool) -> Vec<Tuple> {
    let mut out: Vec<Tuple> = v
        .iter()
        .filter(|t| keep(t))
        .map(|t| order.from_spog(t))
        .collect();
    out.sort_unstable();
    out
}

fn count_distinct(
    cursor: &mut blocks::Cursor<'_, TupleCodec>,
    lo: Tuple,
    hi: Tuple,
    cap: u64,
    width: usize,
) -> Result<u64> {
    let mut n = 0;
    let mut at = lo;
    while n < cap {
        let Some(first) = cursor.seek(&at)? else {
            break;
        };
        if first >= hi {
            break;
        }
        n += 1;
        let mut next = first;
        next[width - 1] = next[width - 1].successor();
        for x in next.iter_mut().skip(width) {
            *x = Id::MIN;
        }
        at = next;
    }
    Ok(n)
}

fn presence_change(before: u64, after: u64) -> i64 {
    match (before > 0, after > 0) {
        (false, true) => 1,
        (true, false) => -1,
        _ => 0,
    }
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
