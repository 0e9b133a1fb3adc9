//! Commit: resolve a delta against what is stored, turn it into count changes and index
//! merges, and write it all in one sled batch under the write gate.

use super::blocks::{self, BlockSet, Op};
use super::codec::{Tuple, TupleCodec};
use super::kv::KvBatch;
use super::stats::StatsDelta;
use super::{kind, lock_err, records, CommitStats, Delta, Id, Normalized, Order, Store};
use super::{META_NEXT, META_TOTALS};
use crate::error::Result;
use std::sync::atomic::Ordering;

impl Store {
    /// Write a delta atomically.  The caller holds [`Store::writer`].
    pub fn commit(&self, mut delta: Delta) -> Result<CommitStats> {
        self.refuse_writes()?;
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
        if !delta.meta.is_empty() {
            // The register of meta records changes with them, in the same batch.
            let mut user = records::user_records(&self.kv)?;
            for (k, v) in std::mem::take(&mut delta.meta) {
                match &v {
                    Some(v) => user.insert(k.clone(), v.clone()),
                    None => user.remove(&k),
                };
                batch.set(k, v);
            }
            batch.put(records::META_RECORDS.to_vec(), records::register(&user));
        }
        let update = sd.update(&*self.stats()?);
        for (k, v) in update.writes() {
            batch.set(k, v);
        }
        batch.put(
            META_TOTALS.to_vec(),
            super::totals_record(update.triples, update.quads),
        );

        self.room_for(&batch)?;
        {
            let _gate = self.gate.write().map_err(lock_err)?;
            if let Err(e) = self.kv.apply(batch) {
                drop(_gate);
                return Err(self.recover_from_failed_write(e));
            }
            self.clear_caches();
            if let Some(upto) = text_upto {
                self.text.set_upto(upto)?;
            }
            update.apply(&mut *self.stats.write().map_err(lock_err)?);
            *self.next.lock().map_err(lock_err)? = next;
            self.publish_version(sd.preds.keys().copied(), sd.classes.keys().copied())?;
        }
        if self.options.durable {
            self.flush()?;
        }
        Ok(CommitStats {
            added: resolved.quad_adds.len() as u64,
            removed: resolved.quad_removes.len() as u64,
            triples_added: resolved.triple_adds.len() as u64,
            triples_removed: resolved.triple_removes.len() as u64,
        })
    }

    /// Make a new version visible, recording first which predicates and classes it changed:
    /// caches of derived facts trust the record as soon as they see the version.  The
    /// caller holds the write gate.
    pub(super) fn publish_version(
        &self,
        preds: impl Iterator<Item = Id>,
        classes: impl Iterator<Item = Id>,
    ) -> Result<()> {
        let version = self.version.load(Ordering::Acquire) + 1;
        self.changes
            .write()
            .map_err(lock_err)?
            .record(version, preds, classes);
        self.version.store(version, Ordering::Release);
        Ok(())
    }

    /// Refuse a large write the disk has no room for, before anything is written.  sled
    /// writes about 2.5 times a batch's bytes to its log (measured: a 24.6 MB batch grew
    /// the file by 61 MB); a write that fails half-way leaves sled needing room even to
    /// recover (see [`Store::recover_from_failed_write`]), so it is better not started.
    /// Small writes are not checked (the reserve file covers them).
    fn room_for(&self, batch: &super::kv::KvBatch) -> Result<()> {
        self.room_for_bytes(batch.bytes())
    }

    /// [`Store::room_for`] a write of about `bytes` bytes of keys and values.
    pub(super) fn room_for_bytes(&self, bytes: u64) -> Result<()> {
        const CHECK_ABOVE: u64 = 1 << 20;
        if bytes < CHECK_ABOVE || !self.path.is_dir() {
            return Ok(());
        }
        let need = bytes.saturating_mul(3).saturating_add(4 << 20);
        match fs2::available_space(&self.path) {
            Ok(free) if free < need => Err(crate::error::Error::Storage(format!(
                "not enough disk space: this write needs about {} MB where the database is ({}), and {} MB are free. Nothing was written; free some space and try again",
                need.div_ceil(1 << 20),
                self.path.display(),
                free >> 20
            ))),
            _ => Ok(()),
        }
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

/// Distinct values of the first `width` components among entries in `[lo, hi)`, counting
/// at most `cap`: one seek per distinct value, so a huge group is never read whole.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::TYPE_PREDICATE;

    /// Every commit records the predicates and classes whose triples it changed, at the
    /// version it makes; an assertion of a triple that was already there changes nothing.
    #[test]
    fn commits_record_what_they_change() -> Result<()> {
        let store = Store::temporary()?;
        let mut d = Delta::new();
        let [a, b, knows, likes, ty, person] =
            ["a", "b", "knows", "likes", TYPE_PREDICATE, "Person"]
                .map(|n| store.intern_entity(&mut d, n));
        let (a, b, knows, likes, ty, person) = (a?, b?, knows?, likes?, ty?, person?);
        d.add([a, knows, b, Id::NONE]);
        d.add([a, ty, person, Id::NONE]);
        store.commit(d)?;
        let v1 = store.version();
        let c = store.changes()?;
        assert_eq!((c.pred(knows), c.pred(ty), c.class(person)), (v1, v1, v1));
        assert_eq!(c.pred(likes), 0);
        drop(c);

        let mut d = Delta::new();
        d.add([a, likes, b, Id::NONE]);
        d.add([a, knows, b, Id::NONE]);
        store.commit(d)?;
        let v2 = store.version();
        assert!(v2 > v1);
        let c = store.changes()?;
        assert_eq!(
            (c.pred(likes), c.pred(knows), c.class(person)),
            (v2, v1, v1)
        );
        drop(c);

        let mut d = Delta::new();
        d.remove([a, ty, person, Id::NONE]);
        store.commit(d)?;
        let c = store.changes()?;
        assert_eq!(
            (c.pred(ty), c.class(person)),
            (store.version(), store.version())
        );
        Ok(())
    }
}
