//! Writing a database anew into a fresh directory, for `compact`, `backup` and `check
//! --repair`:
//!
//! - [`Store::copy_to`] copies a healthy store: every block set re-packed into full
//!   blocks (a database that had many facts deleted shrinks), every other record as it is.
//! - [`salvage`] reads whatever survives of a damaged one, block by block, and writes a
//!   whole database from it: the dictionary from either direction, the facts from every
//!   index (SPOG and GSPO hold the assertions, POS and OSP the triples), the counts
//!   recounted, the id counters above every id.
//!
//! Either way the new directory is checked with [`Store::verify`] before anyone uses it;
//! the caller swaps it in (see `db::maintain`).  Nothing here writes to the source.

use super::blocks::BlockSet;
use super::codec::{term_entry, BlockCodec, Tuple, TupleCodec};
use super::dict::{split_term2id, term2id_entry, Dict, NextIds};
use super::kv::{Kv, KvBatch};
use super::{
    kind, records, totals_record, Id, Order, Store, StoreOptions, FORMAT_VERSION, META_FORMAT,
    META_NEXT, META_TOTALS, TAGS, TAG_GSPO, TAG_OSP, TAG_POS, TAG_SPOG,
};
use crate::error::{Error, Result};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::path::Path;

/// Writes into a new store in batches: the directory is not used until it is complete
/// and checked, so there is no need for one atomic batch (which sled holds in memory).
struct Writer<'k> {
    kv: &'k Kv,
    batch: KvBatch,
    bytes: usize,
}

impl<'k> Writer<'k> {
    const BATCH_BYTES: usize = 8 << 20;

    fn new(kv: &'k Kv) -> Writer<'k> {
        Writer {
            kv,
            batch: KvBatch::default(),
            bytes: 0,
        }
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<()> {
        self.bytes += key.len() + value.len();
        self.batch.put(key, value);
        if self.bytes >= Self::BATCH_BYTES {
            self.kv.apply(std::mem::take(&mut self.batch))?;
            self.bytes = 0;
        }
        Ok(())
    }

    fn put_all(&mut self, entries: Vec<(Vec<u8>, Vec<u8>)>) -> Result<()> {
        for (k, v) in entries {
            self.put(k, v)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        self.kv.apply(self.batch)?;
        self.kv.flush()
    }
}

fn new_kv(dest: &Path) -> Result<Kv> {
    if dest.exists() {
        return Err(Error::Invalid(format!(
            "{} already exists: give a path where nothing is yet",
            dest.display()
        )));
    }
    Kv::open(dest, 64 << 20, false)
}

/// Stream a block set's entries into blocks as full as the limits allow.
fn repack<C: BlockCodec + Clone>(set: &BlockSet<C>, src: &Kv, w: &mut Writer<'_>) -> Result<u64> {
    let run = set.max_entries() * 64;
    let mut buf: Vec<C::Entry> = Vec::with_capacity(run);
    let mut n = 0;
    for block in set.blocks(src) {
        for e in block?.entries? {
            buf.push(e);
            if buf.len() == run {
                n += buf.len() as u64;
                w.put_all(set.pack(&buf))?;
                buf.clear();
            }
        }
    }
    n += buf.len() as u64;
    w.put_all(set.pack(&buf))?;
    Ok(n)
}

/// What a copy wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    /// Assertions (entries of SPOG).
    pub facts: u64,
    /// Terms of the dictionary.
    pub terms: u64,
}

impl Store {
    /// Write this store's contents into a new database at `dest` (which must not exist):
    /// block sets re-packed full, every other record copied as it is.  A caller that lets
    /// others write meanwhile holds the read gate ([`Store::read`]) for a consistent copy.
    /// The copy is checked with [`Store::verify`]; a problem fails the copy.
    ///
    /// Terms no fact uses stay: the catalog names types, predicates and rule heads by
    /// terms it expects in the dictionary.
    pub fn copy_to(&self, dest: &Path) -> Result<Copied> {
        let kv = new_kv(dest)?;
        let mut w = Writer::new(&kv);
        let (id2term, term2id) = self.dict.sets();
        let terms = repack(id2term, &self.kv, &mut w)?;
        repack(term2id, &self.kv, &mut w)?;
        let facts = repack(&self.spog, &self.kv, &mut w)?;
        for set in [&self.pos, &self.osp, &self.gspo] {
            repack(set, &self.kv, &mut w)?;
        }
        let packed = [
            id2term.tag(),
            term2id.tag(),
            TAG_SPOG,
            TAG_POS,
            TAG_OSP,
            TAG_GSPO,
        ];
        // Everything else (meta records, counts, parts this code does not know) as it is.
        for r in self.kv.range(&[0], &[0xFF; 12]) {
            let (k, v) = r?;
            if !k.first().is_some_and(|t| packed.contains(t)) {
                w.put(k.to_vec(), v.to_vec())?;
            }
        }
        w.finish()?;
        drop(kv);
        check_new(dest)?;
        Ok(Copied { facts, terms })
    }
}

/// Open the store just written and make sure it is whole.
fn check_new(dest: &Path) -> Result<()> {
    let store = Store::open(dest, StoreOptions::default())?;
    let problems = store.verify()?;
    if !problems.is_empty() {
        return Err(Error::Storage(format!(
            "the new database at {} is not consistent: {}",
            dest.display(),
            problems.join("; ")
        )));
    }
    Ok(())
}

/// What [`salvage`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Salvaged {
    /// Assertions in the new database.
    pub facts: u64,
    /// Terms in its dictionary.
    pub terms: u64,
    /// What was rebuilt from other parts (one line each).
    pub rebuilt: Vec<String>,
    /// What could not be rebuilt and is not in the new database (one line each).
    pub lost: Vec<String>,
}

/// How the layers above judge their meta records in a salvage.
pub struct RecordRules<'a> {
    /// Why a record cannot be used (the engine's catalog must decode), or `None` to keep
    /// it.
    pub check: &'a dyn Fn(&str, &[u8]) -> Option<String>,
    /// Records the caller rebuilds itself: their absence is no loss.
    pub rebuilt_by_caller: &'a [&'a str],
}

/// Read what survives of the store in `src` (opened on its own, never written to by this
/// function beyond what opening does: give it a copy) and write a whole database at
/// `dest`, keeping the meta records of the layers above that `rules` accept.
pub fn salvage(src: &Path, dest: &Path, rules: &RecordRules<'_>) -> Result<Salvaged> {
    let kv = Kv::open(src, 64 << 20, false)?;
    let mut out = Salvaged::default();
    let note = |v: &mut Vec<String>, n: u64, what: &str| {
        if n > 0 {
            v.push(format!("{n} {what}"));
        }
    };

    // The dictionary: `id → term`, completed from `term → id`.
    let dict = Dict::new();
    let (id2term, term2id) = dict.sets();
    let mut terms: BTreeMap<Id, String> = BTreeMap::new();
    let (mut lost_blocks, mut conflicts) = (0u64, 0u64);
    for block in id2term.blocks(&kv) {
        let Ok(entries) = block?.entries else {
            lost_blocks += 1;
            continue;
        };
        for e in entries {
            let Some(id) = Id::read_key(&e).filter(|i| i.is_dictionary()) else {
                continue;
            };
            let Ok(text) = std::str::from_utf8(e.get(super::id::ID_BYTES..).unwrap_or_default())
            else {
                continue;
            };
            if terms.insert(id, text.to_string()).is_some() {
                conflicts += 1;
            }
        }
    }
    note(&mut out.rebuilt, lost_blocks, "unreadable id→term blocks");
    let mut from_names = 0u64;
    let mut name_blocks = 0u64;
    for block in term2id.blocks(&kv) {
        let Ok(entries) = block?.entries else {
            name_blocks += 1;
            continue;
        };
        for e in entries {
            let Some((text, id)) = split_term2id(&e).filter(|(_, i)| i.is_dictionary()) else {
                continue;
            };
            match terms.get(&id) {
                None => {
                    terms.insert(id, text);
                    from_names += 1;
                }
                Some(t) if *t != text => conflicts += 1,
                Some(_) => {}
            }
        }
    }
    note(&mut out.rebuilt, name_blocks, "unreadable term→id blocks");
    note(
        &mut out.rebuilt,
        from_names,
        "terms recovered from term→id (missing from id→term)",
    );
    note(
        &mut out.rebuilt,
        conflicts,
        "ids whose two directions disagreed (id→term kept)",
    );

    // A name with several ids (given a second one after term → id lost it): the smallest
    // id stays, facts using the others are moved to it.
    let mut canonical: FxHashMap<(u8, &str), Id> = FxHashMap::default();
    let mut remap: FxHashMap<Id, Id> = FxHashMap::default();
    for (id, text) in &terms {
        match canonical.get(&(id.kind(), text.as_str())) {
            Some(&first) => {
                remap.insert(*id, first);
            }
            None => {
                canonical.insert((id.kind(), text.as_str()), *id);
            }
        }
    }
    drop(canonical);
    note(
        &mut out.rebuilt,
        remap.len() as u64,
        "names that had a second id (merged into the first)",
    );
    for id in remap.keys() {
        terms.remove(id);
    }

    // The facts: assertions from SPOG and GSPO, then triples only POS or OSP still hold
    // (their sources are unknown: they come back without one).
    let mut quads: Vec<Tuple> = Vec::new();
    let mut unreadable = 0u64;
    for (set, order) in [(&spog_set(), Order::Spog), (&gspo_set(), Order::Gspo)] {
        for block in set.blocks(&kv) {
            match block?.entries {
                Ok(entries) => quads.extend(entries.iter().map(|e| order.to_spog(e))),
                Err(_) => unreadable += 1,
            }
        }
    }
    quads.sort_unstable();
    quads.dedup();
    let mut triples: Vec<Tuple> = quads.iter().map(|q| [q[0], q[1], q[2], Id::NONE]).collect();
    triples.dedup();
    let mut orphans: Vec<Tuple> = Vec::new();
    for (set, order) in [(&pos_set(), Order::Pos), (&osp_set(), Order::Osp)] {
        for block in set.blocks(&kv) {
            let Ok(entries) = block?.entries else {
                unreadable += 1;
                continue;
            };
            for e in entries {
                let t = order.to_spog(&e);
                if triples.binary_search(&t).is_err() {
                    orphans.push(t);
                }
            }
        }
    }
    drop(triples);
    orphans.sort_unstable();
    orphans.dedup();
    note(&mut out.rebuilt, unreadable, "unreadable index blocks");
    note(
        &mut out.rebuilt,
        orphans.len() as u64,
        "facts recovered from POS/OSP only (without their source, which SPOG lost)",
    );
    quads.extend(orphans);
    let known = |id: &Id| !id.is_dictionary() || terms.contains_key(id);
    let mut dropped = 0u64;
    let mut kept = Vec::with_capacity(quads.len());
    for mut q in quads {
        for id in q.iter_mut() {
            if let Some(to) = remap.get(id) {
                *id = *to;
            }
        }
        let well_formed = q[0].kind() == kind::ENTITY
            && q[1].kind() == kind::ENTITY
            && q[2].is_some()
            && q[2].kind() < kind::END
            && (q[3].is_none() || q[3].kind() == kind::ENTITY);
        if well_formed && q.iter().all(known) {
            kept.push(q);
        } else {
            dropped += 1;
        }
    }
    let mut quads = kept;
    quads.sort_unstable();
    quads.dedup();
    note(
        &mut out.lost,
        dropped,
        "facts that use a term found in neither direction of the dictionary (left out)",
    );

    // Meta records of the layers above: kept if they check, and missing ones named.
    let register = kv.get(records::META_RECORDS)?;
    let mut user = records::user_records(&kv)?;
    out.lost.extend(records::missing(
        register.as_deref(),
        &user,
        rules.rebuilt_by_caller,
    ));
    let changed = records::changed(register.as_deref(), &user);
    user.retain(|k, v| {
        let name = String::from_utf8_lossy(k.get(2..).unwrap_or_default()).to_string();
        match (rules.check)(&name, v) {
            Some(why) => {
                out.lost.push(format!("the '{name}' record: {why}"));
                false
            }
            None => true,
        }
    });
    // A record that still reads but changed outside a commit is kept; whether it says
    // what it said is for its owner to judge.
    for (key, what) in changed {
        if user.contains_key(&key) {
            out.lost.push(format!(
                "{what} was changed outside a commit; it still reads and was kept as found: compare it with your own copy"
            ));
        }
    }
    let stored_next = kv.get(META_NEXT)?.and_then(|v| NextIds::from_bytes(&v));
    let unknown = count_unknown(&kv)?;
    note(
        &mut out.rebuilt,
        unknown,
        "keys of no known part (left out; the damaged copy keeps them)",
    );
    drop(kv);

    // Write it all.
    let mut next = stored_next.unwrap_or_default();
    for id in terms.keys() {
        if id.kind() == kind::STR {
            next.string = next.string.max(id.raw());
        } else {
            next.entity = next.entity.max(id.raw());
        }
    }
    if stored_next != Some(next) && !terms.is_empty() {
        out.rebuilt
            .push("the id counters (set above every id in use)".to_string());
    }
    let kv = new_kv(dest)?;
    let mut w = Writer::new(&kv);
    w.put(META_FORMAT.to_vec(), FORMAT_VERSION.to_be_bytes().to_vec())?;
    w.put(META_NEXT.to_vec(), next.to_bytes())?;
    let by_id: Vec<Vec<u8>> = terms
        .iter()
        .map(|(id, t)| term_entry(*id, t.as_bytes()))
        .collect();
    w.put_all(id2term.pack(&by_id))?;
    drop(by_id);
    let mut by_name: Vec<Vec<u8>> = terms
        .iter()
        .map(|(id, t)| term2id_entry(id.kind(), t, *id))
        .collect();
    by_name.sort_unstable();
    w.put_all(term2id.pack(&by_name))?;
    drop(by_name);
    out.terms = terms.len() as u64;
    drop(terms);
    out.facts = quads.len() as u64;
    write_indexes(&mut w, &quads)?;
    drop(quads);
    for (k, v) in &user {
        w.put(k.clone(), v.clone())?;
    }
    w.put(records::META_RECORDS.to_vec(), records::register(&user))?;
    w.finish()?;
    drop(kv);

    // The counts, from the indexes just written.
    {
        let store = Store::open(dest, StoreOptions::default())?;
        let counts = store.recount()?;
        let mut b = KvBatch::default();
        for (k, v) in counts.records() {
            b.put(k, v);
        }
        b.put(
            META_TOTALS.to_vec(),
            totals_record(counts.triples, counts.quads),
        );
        store.kv.apply(b)?;
        store.kv.flush()?;
    }
    check_new(dest)?;
    Ok(out)
}

/// The four indexes of `quads` (sorted, distinct assertions).
fn write_indexes(w: &mut Writer<'_>, quads: &[Tuple]) -> Result<()> {
    w.put_all(spog_set().pack(quads))?;
    let mut triples: Vec<Tuple> = quads.iter().map(|q| [q[0], q[1], q[2], Id::NONE]).collect();
    triples.dedup();
    for (set, order) in [(pos_set(), Order::Pos), (osp_set(), Order::Osp)] {
        let mut v: Vec<Tuple> = triples.iter().map(|t| order.from_spog(t)).collect();
        v.sort_unstable();
        w.put_all(set.pack(&v))?;
    }
    drop(triples);
    let mut sourced: Vec<Tuple> = quads
        .iter()
        .filter(|q| q[3].is_some())
        .map(|q| Order::Gspo.from_spog(q))
        .collect();
    sourced.sort_unstable();
    w.put_all(gspo_set().pack(&sourced))
}

fn spog_set() -> BlockSet<TupleCodec> {
    super::index_set(TAG_SPOG)
}
fn pos_set() -> BlockSet<TupleCodec> {
    super::index_set(TAG_POS)
}
fn osp_set() -> BlockSet<TupleCodec> {
    super::index_set(TAG_OSP)
}
fn gspo_set() -> BlockSet<TupleCodec> {
    super::index_set(TAG_GSPO)
}

/// Keys whose first byte belongs to no part of the store.
fn count_unknown(kv: &Kv) -> Result<u64> {
    let mut n = 0;
    for r in kv.range(&[0], &[0xFF; 12]) {
        let (k, _) = r?;
        if !k.first().is_some_and(|t| TAGS.contains(t)) {
            n += 1;
        }
    }
    Ok(n)
}
