//! Bulk import: millions of facts in bounded memory, all or nothing.
//!
//! The facts come as distinct terms and quads of indexes into them ([`Runs`], so a huge
//! import spills to temporary files instead of growing in memory).  The import then:
//! 1. gives every term its id (dictionary lookups, new ids for the rest) and writes the
//!    new terms to the dictionary and the text index;
//! 2. renumbers the terms by id order (a *rank* per term), so that quads of four `u32`
//!    ranks sort exactly as quads of ids do;
//! 3. streams the quads sorted in each index's order, drops what is already stored
//!    (against the indexes as they were before, see below), counts, and merges them into
//!    the index a bounded chunk at a time;
//! 4. writes the counts, the id counters and the import's meta records last.
//!
//! Every batch goes through the undo [`Journal`], so a crash at any point leaves the
//! database as it was before the import; readers in this process wait behind the read
//! gate for the whole write.  Existence checks read the index being merged: they only look
//! at keys at or after the quad being checked, while every chunk merged so far holds only
//! smaller keys, so they see the index as it was before the import.

use super::blocks::{BlockSet, Op};
use super::codec::{Tuple, TupleCodec};
use super::dict::{Dict, NextIds};
use super::id::{kind, Id};
use super::journal::Journal;
use super::kv::{Kv, KvBatch};
use super::spill::Runs;
use super::stats::StatsDelta;
use super::text::{add_entries, META_TEXT};
use super::{dict_key, lock_err, CommitStats, Store, META_NEXT, META_TOTALS};
use crate::error::{Error, Result};
use crate::model::Value;

/// The source index of a quad without a source.
pub const NO_SOURCE: u32 = u32::MAX;
/// In rank space: the quad is the first of a triple that is new (high bit of the source).
const NEW_TRIPLE: u32 = 1 << 31;
/// Bytes of quads kept in memory before they spill to temporary files.
pub const QUAD_BUDGET: usize = 256 << 20;
/// Index entries merged per batch.  Smaller batches leave sled less garbage: a 1M-fact
/// import takes 32 MB on disk with 64k entries a batch, 45 MB with 256k, 54 MB with 1M.
const MERGE_CHUNK: usize = 1 << 16;
/// Dictionary terms written per batch.
const TERM_CHUNK: usize = 1 << 16;
/// Bytes of text index entries kept in memory before they spill.
const TEXT_BUDGET: usize = 64 << 20;

/// One side of the dictionary's writer ([`Dict::write_new_ids`] or
/// [`Dict::write_new_texts`]).
type WriteSide = fn(&Dict, &Kv, &[(Id, &str)], &mut KvBatch) -> Result<()>;

/// The quads of an import, as indexes into its terms (`NO_SOURCE` for no source).
pub type StagedQuads = Runs<[u32; 4]>;

/// What the passes over the indexes count.
#[derive(Default)]
struct Tally {
    stats: StatsDelta,
    quads: u64,
    triples: u64,
}

impl Store {
    /// Add many facts at once: `terms` are distinct values, `quads` index into them.
    /// `meta` records (layer names as in [`Store::put_meta`]) are written with the facts.
    /// All or nothing, also across a crash; the caller holds [`Store::writer`].
    pub fn import(
        &self,
        terms: Vec<Value>,
        quads: StagedQuads,
        meta: Vec<(String, Vec<u8>)>,
    ) -> Result<CommitStats> {
        if self.options.read_only {
            return Err(Error::Invalid("the database was opened read-only".into()));
        }
        if quads.is_empty() && meta.is_empty() {
            return Ok(CommitStats::default());
        }
        // An import's bytes on disk: each term in both dictionary directions and the text
        // index, each fact in four indexes (before sled's own overhead, which
        // `room_for_bytes` adds).
        let term_bytes: u64 = terms
            .iter()
            .map(|t| t.text().map_or(0, |s| s.len() as u64) + 16)
            .sum();
        self.room_for_bytes(
            term_bytes
                .saturating_mul(4)
                .saturating_add((quads.len() as u64).saturating_mul(24)),
        )?;
        let _gate = self.gate.write().map_err(lock_err)?;
        let mut journal = Journal::begin(&self.kv)?;
        let written = self.import_journaled(&mut journal, terms, quads, meta);
        let done = written.and_then(|(batch, next, tally)| {
            let update = tally.stats.update(&*self.stats()?);
            let mut batch = batch;
            for (k, v) in update.writes() {
                batch.set(k, v);
            }
            let mut totals = update.triples.to_be_bytes().to_vec();
            totals.extend_from_slice(&update.quads.to_be_bytes());
            batch.put(META_TOTALS.to_vec(), totals);
            journal.commit(batch)?;
            Ok((update, next, tally))
        });
        for set in [&self.spog, &self.pos, &self.osp, &self.gspo] {
            set.clear_cache();
        }
        self.dict.clear_cache();
        let (update, next, tally) = match done {
            Ok(d) => d,
            Err(e) => {
                // The numbers it gave new terms will be given again.
                self.dict.forget_terms();
                return Err(self.undo_failed_import(e));
            }
        };
        let before = *self.next.lock().map_err(lock_err)?;
        if self.text.upto()? == before {
            self.text.set_upto(next)?;
        }
        update.apply(&mut *self.stats.write().map_err(lock_err)?);
        *self.next.lock().map_err(lock_err)? = next;
        // As a commit does: what changed is recorded before the version is visible, so
        // derived facts kept by the engine are dropped when an import touches their sources.
        self.publish_version(
            tally.stats.preds.keys().copied(),
            tally.stats.classes.keys().copied(),
        )?;
        if self.options.durable {
            self.kv.flush()?;
        }
        Ok(CommitStats {
            added: tally.quads,
            removed: 0,
            triples_added: tally.triples,
            triples_removed: 0,
        })
    }

    /// Undo what a failed import wrote; the caller holds the write gate.  After a failed
    /// write (a full disk) sled fails every later call, the undo included: then sled is
    /// reopened, which drops what it held in memory and gives the space back, and what of
    /// the import had reached the disk is undone from the journal.
    fn undo_failed_import(&self, cause: Error) -> Error {
        if super::journal::rollback(&self.kv).is_ok() {
            return cause;
        }
        let recovered = self
            .kv
            .reopen()
            .and_then(|()| super::journal::rollback(&self.kv))
            .and_then(|_| self.reload());
        match recovered {
            Ok(()) => Error::Storage(format!(
                "{cause}; nothing of the import was saved, and the database is back at its last saved state"
            )),
            Err(e) => Error::Storage(format!(
                "{cause}; undoing the import failed too ({e}): free disk space and open the database again, which undoes it"
            )),
        }
    }

    /// Every write of an import but the last batch, which is returned (with the id
    /// counters after it and the counts).
    fn import_journaled(
        &self,
        journal: &mut Journal<'_>,
        terms: Vec<Value>,
        mut quads: StagedQuads,
        meta: Vec<(String, Vec<u8>)>,
    ) -> Result<(KvBatch, NextIds, Tally)> {
        let before = *self.next.lock().map_err(lock_err)?;
        let empty = self.stats()?.quads == 0 && before.entity == 0;
        let (ids, next) = self.import_terms(journal, &terms, before, empty)?;
        drop(terms);
        // Ranks: terms in id order (equal ids share a rank); rank 0 is "no source".
        let mut order: Vec<u32> = (0..ids.len() as u32).collect();
        order.sort_unstable_by_key(|&i| ids[i as usize]);
        let mut rank = vec![0u32; ids.len()];
        let mut by_rank: Vec<Id> = vec![Id::NONE];
        for i in order {
            let id = ids[i as usize];
            if by_rank.last() != Some(&id) {
                by_rank.push(id);
            }
            rank[i as usize] = (by_rank.len() - 1) as u32;
        }
        drop(ids);
        if by_rank.len() as u64 >= NEW_TRIPLE as u64 {
            return Err(Error::Invalid(
                "an import of more than 2^31 distinct values".into(),
            ));
        }
        let of = |i: u32| rank.get(i as usize).copied().unwrap_or(0);
        quads.map(|q| {
            *q = [
                of(q[0]),
                of(q[1]),
                of(q[2]),
                if q[3] == NO_SOURCE { 0 } else { of(q[3]) },
            ]
        })?;
        drop(rank);
        let type_id = self
            .dict
            .lookup(&self.kv, kind::ENTITY, crate::model::TYPE_PREDICATE)?;
        let mut tally = Tally::default();
        let kept = self.import_spog(journal, &mut quads, &by_rank, type_id, empty, &mut tally)?;
        drop(quads);
        self.import_other_orders(journal, kept, &by_rank, empty, &mut tally)?;

        let mut batch = KvBatch::default();
        if next != before {
            batch.put(META_NEXT.to_vec(), next.to_bytes());
            if self.text.upto()? == before {
                batch.put(META_TEXT.to_vec(), next.to_bytes());
            }
        }
        if !meta.is_empty() {
            // The register of meta records changes with them, in the same batch (as a
            // commit does), so `check` knows the records are whole.
            let mut user = super::records::user_records(&self.kv)?;
            for (name, value) in meta {
                let key = Store::user_key(&name);
                user.insert(key.clone(), value.clone());
                batch.put(key, value);
            }
            batch.put(
                super::records::META_RECORDS.to_vec(),
                super::records::register(&user),
            );
        }
        Ok((batch, next, tally))
    }

    /// Ids for every term: looked up, or new ones written to the dictionary and the text
    /// index.  Returns the ids (by term index) and the id counters after them.
    fn import_terms(
        &self,
        journal: &mut Journal<'_>,
        terms: &[Value],
        before: NextIds,
        empty: bool,
    ) -> Result<(Vec<Id>, NextIds)> {
        let mut ids = vec![Id::NONE; terms.len()];
        let mut asks: Vec<(u8, &str)> = Vec::new();
        let mut ask_at: Vec<u32> = Vec::new();
        for (i, v) in terms.iter().enumerate() {
            v.storable().map_err(Error::Invalid)?;
            match Id::inline(v) {
                Some(id) => ids[i] = id,
                None => {
                    asks.push(dict_key(v));
                    ask_at.push(i as u32);
                }
            }
        }
        let found = if empty {
            vec![None; asks.len()]
        } else {
            self.dict.lookup_many(&self.kv, &asks)?
        };
        let mut next = before;
        let mut new_terms: Vec<u32> = Vec::new();
        for ((&(k, _), &i), f) in asks.iter().zip(&ask_at).zip(found) {
            ids[i as usize] = match f {
                Some(id) => id,
                None => {
                    new_terms.push(i);
                    next.take(k)
                }
            };
        }
        drop((asks, ask_at));
        let text_of = |i: u32| dict_key(&terms[i as usize]).1;
        // Each side of the dictionary in its own order, so each block is written once.
        new_terms.sort_unstable_by_key(|&i| ids[i as usize]);
        self.write_terms(journal, &new_terms, &ids, terms, Dict::write_new_ids)?;
        if self.text.upto()? == before {
            let mut postings: Runs<[u64; 2]> = Runs::new(TEXT_BUDGET);
            let (mut chars, mut tris, mut entries) = (Vec::new(), Vec::new(), Vec::new());
            for &i in &new_terms {
                entries.clear();
                add_entries(
                    ids[i as usize],
                    text_of(i),
                    &mut chars,
                    &mut tris,
                    &mut entries,
                );
                for e in &entries {
                    postings.push(*e)?;
                }
            }
            let mut chunk = Vec::with_capacity(MERGE_CHUNK);
            let mut sorted = postings.sorted(|e| *e)?.peekable();
            while let Some(e) = sorted.next() {
                chunk.push(e?);
                if chunk.len() >= MERGE_CHUNK || sorted.peek().is_none() {
                    let mut batch = KvBatch::default();
                    self.text
                        .merge(&self.kv, std::mem::take(&mut chunk), &mut batch)?;
                    journal.apply(batch)?;
                }
            }
        }
        new_terms.sort_unstable_by(|&a, &b| {
            let (x, y) = (dict_key(&terms[a as usize]), dict_key(&terms[b as usize]));
            x.cmp(&y)
        });
        self.write_terms(journal, &new_terms, &ids, terms, Dict::write_new_texts)?;
        // Blocks decoded before were rewritten: lookups must read them again.
        self.dict.clear_cache();
        Ok((ids, next))
    }

    /// Write the terms `order` lists (indexes into `terms`, in the order of the side of the
    /// dictionary `side` writes) a chunk per journaled batch.
    fn write_terms(
        &self,
        journal: &mut Journal<'_>,
        order: &[u32],
        ids: &[Id],
        terms: &[Value],
        side: WriteSide,
    ) -> Result<()> {
        for chunk in order.chunks(TERM_CHUNK) {
            let part: Vec<(Id, &str)> = chunk
                .iter()
                .map(|&i| (ids[i as usize], dict_key(&terms[i as usize]).1))
                .collect();
            let mut batch = KvBatch::default();
            side(&self.dict, &self.kv, &part, &mut batch)?;
            journal.apply(batch)?;
        }
        Ok(())
    }

    /// Merge `chunk` into `set` as one journaled batch.
    fn merge_chunk(
        &self,
        journal: &mut Journal<'_>,
        set: &BlockSet<TupleCodec>,
        chunk: &mut Vec<(Tuple, Op)>,
    ) -> Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        let mut batch = KvBatch::default();
        set.merge(&self.kv, chunk, &mut batch)?;
        journal.apply(batch)?;
        set.clear_cache();
        chunk.clear();
        Ok(())
    }

    /// The SPOG pass: quads in SPOG order, without repeats and without those stored
    /// already, merged into SPOG; counts facts, triples, distinct subjects, classes and
    /// sources.  Returns the new quads (ranks), the first of each new triple flagged.
    fn import_spog(
        &self,
        journal: &mut Journal<'_>,
        quads: &mut StagedQuads,
        by_rank: &[Id],
        type_id: Option<Id>,
        empty: bool,
        tally: &mut Tally,
    ) -> Result<StagedQuads> {
        let id = |r: u32| by_rank.get(r as usize).copied().unwrap_or(Id::NONE);
        let mut kept: StagedQuads = Runs::new(QUAD_BUDGET);
        let mut chunk: Vec<(Tuple, Op)> = Vec::with_capacity(MERGE_CHUNK);
        let mut sorted = quads.sorted(|q| *q)?.peekable();
        let mut existing: Vec<Tuple> = Vec::new();
        let mut group: Vec<[u32; 4]> = Vec::new();
        let mut last_sp: Option<[u32; 2]> = None;
        let mut cursor = self.spog.cursor(&self.kv);
        while let Some(q) = sorted.next() {
            let q = q?;
            // The same quad twice in the input counts once.
            if group.last() != Some(&q) {
                group.push(q);
            }
            let same_triple = |n: &Result<[u32; 4]>| matches!(n, Ok(n) if n[..3] == q[..3]);
            if sorted.peek().is_some_and(same_triple) {
                continue;
            }
            // A whole triple's quads: which are new, and is the triple new?
            let [s, p, o] = [id(q[0]), id(q[1]), id(q[2])];
            existing.clear();
            if !empty {
                cursor.range_into(
                    &[s, p, o, Id::MIN],
                    &[s, p, o.successor(), Id::MIN],
                    &mut existing,
                )?;
            }
            let triple_new = existing.is_empty();
            if triple_new {
                tally.triples += 1;
                let e = tally.stats.preds.entry(p).or_default();
                e.0 += 1;
                if Some(p) == type_id {
                    *tally.stats.classes.entry(o).or_default() += 1;
                }
                // The subject is new to the predicate unless it had another triple.
                if last_sp != Some([q[0], q[1]]) {
                    last_sp = Some([q[0], q[1]]);
                    let had = !empty
                        && cursor
                            .seek(&[s, p, Id::MIN, Id::MIN])?
                            .is_some_and(|t| t[0] == s && t[1] == p);
                    if !had {
                        tally.stats.preds.entry(p).or_default().1 += 1;
                    }
                }
            }
            let mut first = triple_new;
            for g in group.drain(..) {
                let quad = [s, p, o, id(g[3])];
                if existing.binary_search(&quad).is_ok() {
                    continue;
                }
                tally.quads += 1;
                if quad[3].is_some() {
                    *tally.stats.sources.entry(quad[3]).or_default() += 1;
                }
                let flag = if std::mem::take(&mut first) {
                    NEW_TRIPLE
                } else {
                    0
                };
                kept.push([g[0], g[1], g[2], g[3] | flag])?;
                chunk.push((quad, Op::Insert));
            }
            if chunk.len() >= MERGE_CHUNK {
                self.merge_chunk(journal, &self.spog, &mut chunk)?;
                cursor = self.spog.cursor(&self.kv);
            }
        }
        self.merge_chunk(journal, &self.spog, &mut chunk)?;
        tally.stats.quads = tally.quads as i64;
        tally.stats.triples = tally.triples as i64;
        Ok(kept)
    }

    /// The POS, OSP and GSPO passes over the new quads.
    fn import_other_orders(
        &self,
        journal: &mut Journal<'_>,
        mut kept: StagedQuads,
        by_rank: &[Id],
        empty: bool,
        tally: &mut Tally,
    ) -> Result<()> {
        let id = |r: u32| by_rank.get(r as usize).copied().unwrap_or(Id::NONE);
        let mut chunk: Vec<(Tuple, Op)> = Vec::with_capacity(MERGE_CHUNK);
        // POS: new triples; an object is new to its predicate unless it had a triple.
        let mut last_po: Option<[u32; 2]> = None;
        let mut cursor = self.pos.cursor(&self.kv);
        for k in kept.sorted(|q| [q[1], q[2], q[0], q[3]])? {
            let [p, o, s, g] = k?;
            if g & NEW_TRIPLE == 0 {
                continue;
            }
            let e = [id(p), id(o), id(s), Id::NONE];
            if last_po != Some([p, o]) {
                last_po = Some([p, o]);
                let had = !empty
                    && cursor
                        .seek(&[e[0], e[1], Id::MIN, Id::MIN])?
                        .is_some_and(|t| t[0] == e[0] && t[1] == e[1]);
                if !had {
                    tally.stats.preds.entry(e[0]).or_default().2 += 1;
                }
            }
            chunk.push((e, Op::Insert));
            if chunk.len() >= MERGE_CHUNK {
                self.merge_chunk(journal, &self.pos, &mut chunk)?;
                cursor = self.pos.cursor(&self.kv);
            }
        }
        self.merge_chunk(journal, &self.pos, &mut chunk)?;
        for k in kept.sorted(|q| [q[2], q[0], q[1], q[3]])? {
            let [o, s, p, g] = k?;
            if g & NEW_TRIPLE != 0 {
                chunk.push(([id(o), id(s), id(p), Id::NONE], Op::Insert));
                if chunk.len() >= MERGE_CHUNK {
                    self.merge_chunk(journal, &self.osp, &mut chunk)?;
                }
            }
        }
        self.merge_chunk(journal, &self.osp, &mut chunk)?;
        for k in kept.sorted(|q| [q[3] & !NEW_TRIPLE, q[0], q[1], q[2]])? {
            let [g, s, p, o] = k?;
            if g != 0 {
                chunk.push(([id(g), id(s), id(p), id(o)], Op::Insert));
                if chunk.len() >= MERGE_CHUNK {
                    self.merge_chunk(journal, &self.gspo, &mut chunk)?;
                }
            }
        }
        self.merge_chunk(journal, &self.gspo, &mut chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Delta;

    fn snapshot(store: &Store) -> Vec<(Vec<u8>, Vec<u8>)> {
        store
            .kv
            .range(&[0], &[0xFF])
            .map(|r| {
                let (k, v) = r.unwrap();
                (k.to_vec(), v.to_vec())
            })
            .collect()
    }

    /// `n` facts `e<i> p<i%3> "text <i>"` and `e<i> link e<i/2>` from `source`, staged with
    /// a memory budget of `budget` bytes.
    fn staged(n: usize, source: Option<&str>, budget: usize) -> (Vec<Value>, StagedQuads) {
        let mut terms: Vec<Value> = Vec::new();
        let mut index = rustc_hash::FxHashMap::default();
        let mut term = |v: Value| {
            *index.entry(v.clone()).or_insert_with(|| {
                terms.push(v);
                terms.len() as u32 - 1
            })
        };
        let mut quads = StagedQuads::new(budget);
        let g = source.map_or(NO_SOURCE, |s| term(Value::entity(s)));
        for i in 0..n {
            let e = term(Value::entity(format!("e{i}")));
            let p = term(Value::entity(format!("p{}", i % 3)));
            let o = term(Value::string(format!("text {i}")));
            let link = term(Value::entity("link"));
            let half = term(Value::entity(format!("e{}", i / 2)));
            quads.push([e, p, o, g]).unwrap();
            quads.push([e, link, half, g]).unwrap();
            quads.push([e, link, half, g]).unwrap(); // repeated in the input
        }
        (terms, quads)
    }

    #[test]
    fn an_import_that_spills_equals_one_in_memory() {
        let (a, b) = (Store::temporary().unwrap(), Store::temporary().unwrap());
        for (store, budget) in [(&a, 1), (&b, QUAD_BUDGET)] {
            let _w = store.writer().unwrap();
            let (terms, quads) = staged(3000, None, budget);
            let stats = store.import(terms, quads, Vec::new()).unwrap();
            assert_eq!((stats.added, stats.triples_added), (6000, 6000));
            // Again, from a source: every assertion new, no triple new.
            let (terms, quads) = staged(3000, Some("src"), budget);
            let stats = store.import(terms, quads, Vec::new()).unwrap();
            assert_eq!((stats.added, stats.triples_added), (6000, 0));
            assert_eq!(store.verify().unwrap(), Vec::<String>::new());
        }
        assert_eq!(snapshot(&a), snapshot(&b));
    }

    #[test]
    fn an_interrupted_import_is_undone_completely() {
        let store = Store::temporary().unwrap();
        let _w = store.writer().unwrap();
        let mut delta = Delta::new();
        for i in 0..500 {
            let s = store.intern_entity(&mut delta, &format!("e{i}")).unwrap();
            let p = store.intern_entity(&mut delta, "p1").unwrap();
            let o = store
                .intern(&mut delta, &Value::string(format!("old {i}")))
                .unwrap();
            delta.add([s, p, o, Id::NONE]);
        }
        store.commit(delta).unwrap();
        let (terms, quads) = staged(2000, Some("src"), 1);
        let before = snapshot(&store);
        {
            // Every batch of the import but the last, then the process "dies".
            let mut journal = Journal::begin(&store.kv).unwrap();
            store
                .import_journaled(&mut journal, terms, quads, Vec::new())
                .unwrap();
            assert_ne!(snapshot(&store), before);
        }
        assert!(super::super::journal::rollback(&store.kv).unwrap());
        assert_eq!(snapshot(&store), before);
        for set in [&store.spog, &store.pos, &store.osp, &store.gspo] {
            set.clear_cache();
        }
        store.dict.clear_cache();
        assert_eq!(store.verify().unwrap(), Vec::<String>::new());
        let (terms, quads) = staged(2000, Some("src"), 1);
        store.import(terms, quads, Vec::new()).unwrap();
        assert_eq!(store.verify().unwrap(), Vec::<String>::new());
        assert_eq!(store.stats().unwrap().quads, 500 + 4000);
    }

    #[test]
    fn an_interrupted_import_is_undone_by_the_next_writable_open() {
        let dir = tempfile::tempdir().unwrap();
        let open = |read_only| {
            let options = crate::store::StoreOptions {
                read_only,
                ..Default::default()
            };
            Store::open(dir.path(), options)
        };
        let before = {
            let store = open(false).unwrap();
            let _w = store.writer().unwrap();
            let (terms, quads) = staged(100, None, QUAD_BUDGET);
            store.import(terms, quads, Vec::new()).unwrap();
            let before = snapshot(&store);
            let mut journal = Journal::begin(&store.kv).unwrap();
            let (terms, quads) = staged(300, Some("src"), QUAD_BUDGET);
            store
                .import_journaled(&mut journal, terms, quads, Vec::new())
                .unwrap();
            store.kv.flush().unwrap();
            before
        };
        let err = open(true).err().expect("refused read-only");
        assert!(err.to_string().contains("interrupted"), "{err}");
        let store = open(false).unwrap();
        assert_eq!(snapshot(&store), before);
        assert_eq!(store.verify().unwrap(), Vec::<String>::new());
    }
}
