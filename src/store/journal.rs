//! The undo journal of a write too large for one sled batch (a bulk import).
//!
//! Such a write is applied as many batches.  Before the first, a meta record says a
//! journaled write is under way; every batch also records, for each key it is the first
//! to touch, the value that key had before (under tag `F0`, in the same atomic batch).
//! The last batch removes the marker and the undo records: that is the commit point.  If
//! the process dies before it, the next open finds the marker and puts every touched key
//! back as it was ([`rollback`]), so the database is exactly what it was before the write.
//! sled recovers a prefix of the batches applied (its log is replayed in order up to the
//! first missing or torn entry), so the marker is there whenever a later batch is, and
//! every data batch is there whenever the last one is: no flush is needed in between.

use super::kv::{Kv, KvBatch};
use crate::error::Result;
use rustc_hash::FxHashSet;

/// Key tag of the undo records: `F0 ++ key` → `00` (the key was absent) or `01 ++ value`.
const TAG_UNDO: u8 = 0xF0;
/// The marker: a journaled write is under way.
const META_JOURNAL: &[u8] = b"\x00journal";
/// Undo records restored per batch when rolling back.
const ROLLBACK_BATCH: usize = 4096;

fn undo_key(key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 1);
    k.push(TAG_UNDO);
    k.extend_from_slice(key);
    k
}

/// A write under way in several batches.
pub struct Journal<'k> {
    kv: &'k Kv,
    /// Keys already saved (their undo record holds their value from before the write).
    touched: FxHashSet<Vec<u8>>,
}

impl<'k> Journal<'k> {
    /// Start a journaled write (any leftover of an earlier one is rolled back first).
    pub fn begin(kv: &'k Kv) -> Result<Journal<'k>> {
        rollback(kv)?;
        let mut b = KvBatch::default();
        b.put(META_JOURNAL.to_vec(), vec![1]);
        kv.apply(b)?;
        Ok(Journal {
            kv,
            touched: FxHashSet::default(),
        })
    }

    /// Apply `batch`, saving the previous values of the keys it touches first.
    pub fn apply(&mut self, mut batch: KvBatch) -> Result<()> {
        let mut undo = Vec::new();
        for key in batch.keys() {
            if self.touched.contains(key) {
                continue;
            }
            let value = match self.kv.get(key)? {
                Some(v) => [&[1u8][..], &v].concat(),
                None => vec![0],
            };
            undo.push((undo_key(key), value));
            self.touched.insert(key.clone());
        }
        for (k, v) in undo {
            batch.put(k, v);
        }
        self.kv.apply(batch)
    }

    /// Apply the last batch: with it the write is complete, and its undo records and
    /// marker are gone.
    pub fn commit(self, mut batch: KvBatch) -> Result<()> {
        for key in &self.touched {
            batch.delete(undo_key(key));
        }
        batch.delete(META_JOURNAL.to_vec());
        self.kv.apply(batch)
    }
}

/// Whether a journaled write was interrupted (its marker is there).
pub fn interrupted(kv: &Kv) -> Result<bool> {
    Ok(kv.get(META_JOURNAL)?.is_some())
}

/// If a journaled write was interrupted, put every key it touched back as it was and
/// remove the journal.  Returns whether there was one.  Safe to interrupt: each batch
/// restores keys and removes their undo records together, and the marker goes last.
pub fn rollback(kv: &Kv) -> Result<bool> {
    if !interrupted(kv)? {
        return Ok(false);
    }
    loop {
        let mut batch = KvBatch::default();
        for r in kv.range(&[TAG_UNDO], &[TAG_UNDO + 1]).take(ROLLBACK_BATCH) {
            let (k, v) = r?;
            let key = k[1..].to_vec();
            match v.split_first() {
                Some((1, old)) => batch.put(key, old.to_vec()),
                _ => batch.delete(key),
            }
            batch.delete(k.to_vec());
        }
        if batch.is_empty() {
            break;
        }
        kv.apply(batch)?;
    }
    let mut b = KvBatch::default();
    b.delete(META_JOURNAL.to_vec());
    kv.apply(b)?;
    kv.flush()?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn all(kv: &Kv) -> Vec<(Vec<u8>, Vec<u8>)> {
        kv.range(&[0], &[0xFF])
            .map(|r| {
                let (k, v) = r.unwrap();
                (k.to_vec(), v.to_vec())
            })
            .collect()
    }

    #[test]
    fn an_interrupted_write_rolls_back_and_a_committed_one_stays() {
        let kv = Kv::open(Path::new(""), 1 << 20, true).unwrap();
        let mut b = KvBatch::default();
        for i in 0..10u8 {
            b.put(vec![0x10, i], vec![i]);
        }
        kv.apply(b).unwrap();
        let before = all(&kv);
        for commit in [false, true] {
            let mut j = Journal::begin(&kv).unwrap();
            for round in 0..3u8 {
                let mut b = KvBatch::default();
                b.put(vec![0x10, 2], vec![100 + round]);
                b.delete(vec![0x10, 3 + round]);
                b.put(vec![0x11, round], vec![round]);
                j.apply(b).unwrap();
            }
            assert_ne!(all(&kv), before);
            if commit {
                j.commit(KvBatch::default()).unwrap();
                assert!(!rollback(&kv).unwrap());
                let after = all(&kv);
                assert!(after.contains(&(vec![0x10, 2], vec![102])));
                assert!(!after.iter().any(|(k, _)| k[0] >= TAG_UNDO || k[0] == 0));
            } else {
                // The process dies here: the next open rolls back.
                drop(j);
                assert!(rollback(&kv).unwrap());
                assert_eq!(all(&kv), before);
            }
        }
    }
}
