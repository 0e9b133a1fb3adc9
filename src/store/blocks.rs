//! Block sets: an ordered set of entries stored as packed runs in the key-value store.
//!
//! A block set is identified by a one-byte tag; its sled keys are `tag ++ first entry` and
//! each value holds the rest of a sorted run of at most [`MAX_ENTRIES`] entries (see
//! `codec`).  Reads find the block holding an entry with one "last key at or before"
//! lookup; writes read-modify-write only the blocks they touch, splitting a block that
//! grows past the limit, so a sorted bulk load writes each block once and a single fact
//! rewrites one block per index.

use super::codec::{BlockCodec, CodecError};
use super::kv::{Bytes, Kv, KvBatch, KvIter};
use crate::error::{Error, Result};

/// Entries per block.  Measured on sled 0.34 (CRATES.md): ~128 gives ~21 bytes per triple
/// and microsecond lookups; larger blocks save little space and cost lookup time.
pub const MAX_ENTRIES: usize = 128;
/// Soft cap on a block's encoded size, for dictionaries of long strings.
pub const MAX_BYTES: usize = 8 * 1024;

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Error {
        Error::Storage(e.to_string())
    }
}

/// One insert or delete to merge into a block set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Insert,
    Delete,
}

pub struct BlockSet<C: BlockCodec> {
    tag: u8,
    codec: C,
}

impl<C: BlockCodec + Clone> BlockSet<C> {
    pub const fn new(tag: u8, codec: C) -> Self {
        BlockSet { tag, codec }
    }

    pub fn codec(&self) -> &C {
        &self.codec
    }

    fn key(&self, e: &C::Entry) -> Vec<u8> {
        let mut k = vec![self.tag];
        self.codec.write_key(e, &mut k);
        k
    }

    fn end_key(&self) -> [u8; 1] {
        [self.tag + 1]
    }

    fn decode(&self, key: &[u8], value: &[u8], out: &mut Vec<C::Entry>) -> Result<()> {
        let first = self.codec.read_key(key.get(1..).unwrap_or_default())?;
        self.codec.decode(first, value, out)?;
        Ok(())
    }

    /// The block that would hold `e`: the last block starting at or before it.
    fn floor_block(&self, kv: &Kv, e: &C::Entry) -> Result<Option<(Bytes, Bytes)>> {
        kv.floor(&[self.tag], &self.key(e))
    }

    /// Entries `e` with `lo <= e < hi`, in order.
    pub fn scan(&self, kv: &Kv, lo: &C::Entry, hi: &C::Entry) -> Result<Scan<C>> {
        let hi_key = self.key(hi);
        let start = match self.floor_block(kv, lo)? {
            Some((k, _)) => k.to_vec(),
            None => self.key(lo),
        };
        let blocks = kv.range(&start, &hi_key);
        Ok(Scan {
            codec: self.codec.clone(),
            blocks,
            buf: Vec::new(),
            pos: 0,
            lo: Some(lo.clone()),
            hi: Some(hi.clone()),
            done: false,
        })
    }

    /// Whether `e` is in the set.
    pub fn contains(&self, kv: &Kv, e: &C::Entry) -> Result<bool> {
        let Some((k, v)) = self.floor_block(kv, e)? else {
            return Ok(false);
        };
        let mut buf = Vec::new();
        self.decode(&k, &v, &mut buf)?;
        Ok(buf.binary_search(e).is_ok())
    }

    /// A cursor for many lookups in ascending order (commit and batch dictionary lookups).
    pub fn cursor<'a>(&'a self, kv: &'a Kv) -> Cursor<'a, C> {
        Cursor {
            set: self,
            kv,
            buf: Vec::new(),
            next_first: None,
            loaded: false,
        }
    }

    /// Merge sorted, deduplicated changes into the set, writing the rewritten blocks into
    /// `batch`.  Inserting a present entry or deleting an absent one is a no-op.
    pub fn merge(&self, kv: &Kv, changes: &[(C::Entry, Op)], batch: &mut KvBatch) -> Result<()> {
        debug_assert!(
            changes.windows(2).all(|w| w[0].0 < w[1].0),
            "changes must be sorted"
        );
        let end = self.end_key();
        let mut i = 0;
        let mut entries = Vec::new();
        while i < changes.len() {
            entries.clear();
            let first_change = &changes[i].0;
            // The block the change falls into: the last one starting at or before it, or
            // else the very first block (the change sorts before every block).
            let block = match self.floor_block(kv, first_change)? {
                Some(b) => Some(b),
                None => kv.next_after(&[self.tag], &end)?,
            };
            let (old_key, next_first) = match &block {
                Some((k, v)) => {
                    self.decode(k, v, &mut entries)?;
                    let next = kv.next_after(k, &end)?;
                    let next_first = match next {
                        Some((nk, _)) => {
                            Some(self.codec.read_key(nk.get(1..).unwrap_or_default())?)
                        }
                        None => None,
                    };
                    (Some(k.to_vec()), next_first)
                }
                None => (None, None),
            };
            let mut j = i;
            while j < changes.len() && next_first.as_ref().is_none_or(|nf| changes[j].0 < *nf) {
                j += 1;
            }
            let merged = merge_sorted(std::mem::take(&mut entries), &changes[i..j]);
            i = j;
            let mut rewrote_old = false;
            for chunk in self.chunks(&merged) {
                let key = self.key(&chunk[0]);
                rewrote_old |= old_key.as_deref() == Some(&key[..]);
                let mut value = Vec::with_capacity(chunk.len() * 4 + 8);
                self.codec.encode_rest(chunk, &mut value);
                batch.put(key, value);
            }
            if let (Some(old), false) = (old_key, rewrote_old) {
                batch.delete(old);
            }
            entries = merged;
        }
        Ok(())
    }

    /// Split a sorted run into blocks of at most `MAX_ENTRIES` entries (and about
    /// `MAX_BYTES`), evenly, so that a block that just overflowed splits in halves and a
    /// bulk load fills blocks completely.
    fn chunks<'e>(&self, entries: &'e [C::Entry]) -> Vec<&'e [C::Entry]> {
        let n = entries.len();
        if n == 0 {
            return Vec::new();
        }
        let per = n.div_ceil(n.div_ceil(MAX_ENTRIES));
        let mut out = Vec::new();
        let (mut start, mut bytes) = (0, 0);
        for (idx, e) in entries.iter().enumerate() {
            if idx > start && (idx - start == per || bytes >= MAX_BYTES) {
                out.push(&entries[start..idx]);
                start = idx;
                bytes = 0;
            }
            bytes += self.codec.size_hint(e);
        }
        out.push(&entries[start..]);
        out
    }

    /// Every entry, in order (consistency checks and export).
    pub fn all(&self, kv: &Kv) -> Scan<C> {
        let blocks = kv.range(&[self.tag], &self.end_key());
        Scan {
            codec: self.codec.clone(),
            blocks,
            buf: Vec::new(),
            pos: 0,
            lo: None,
            hi: None,
            done: false,
        }
    }

    /// How many entries lie in `[lo, hi)`: exact within the first block, then read from
    /// block headers (so at most one block too many), reading at most `max_blocks` blocks
    /// (a larger range is reported as what was counted, scaled by nothing: callers only
    /// need to know it is big).
    pub fn approx_count(&self, kv: &Kv, lo: &C::Entry, hi: &C::Entry, max_blocks: usize) -> Result<u64> {
        let hi_key = self.key(hi);
        let start = match self.floor_block(kv, lo)? {
            Some((k, _)) => k.to_vec(),
            None => self.key(lo),
        };
        let mut n = 0u64;
        for (i, r) in kv.range(&start, &hi_key).enumerate() {
            let (k, v) = r?;
            if i == 0 {
                let mut buf = Vec::new();
                self.decode(&k, &v, &mut buf)?;
                n += buf.iter().filter(|e| *e >= lo && *e < hi).count() as u64;
                continue;
            }
            if i >= max_blocks {
                break;
            }
            let mut pos = 1;
            n += super::codec::get_varint(&v, &mut pos)? + 1;
        }
        Ok(n)
    }

    /// Number of blocks (for statistics).
    pub fn block_count(&self, kv: &Kv) -> Result<u64> {
        let mut n = 0;
        for r in kv.range(&[self.tag], &self.end_key()) {
            r?;
            n += 1;
        }
        Ok(n)
    }
}

fn merge_sorted<E: Ord + Clone>(old: Vec<E>, changes: &[(E, Op)]) -> Vec<E> {
    let mut out = Vec::with_capacity(old.len() + changes.len());
    let mut old = old.into_iter().peekable();
    for (e, op) in changes {
        while let Some(o) = old.peek() {
            if o < e {
                out.extend(old.next());
            } else {
                break;
            }
        }
        let present = old.peek() == Some(e);
        if present {
            old.next();
        }
        if *op == Op::Insert {
            out.push(e.clone());
        }
    }
    out.extend(old);
    out
}

/// A streaming scan over `[lo, hi)` of a block set.
pub struct Scan<C: BlockCodec> {
    codec: C,
    blocks: KvIter,
    buf: Vec<C::Entry>,
    pos: usize,
    /// Entries before `lo` in the first block are skipped (taken when it is loaded).
    lo: Option<C::Entry>,
    hi: Option<C::Entry>,
    done: bool,
}

impl<C: BlockCodec> Scan<C> {
    fn load_next_block(&mut self) -> Result<bool> {
        let Some(r) = self.blocks.next() else {
            return Ok(false);
        };
        let (k, v) = r?;
        self.buf.clear();
        self.pos = 0;
        let first = self.codec.read_key(k.get(1..).unwrap_or_default())?;
        self.codec.decode(first, &v, &mut self.buf)?;
        if let Some(lo) = self.lo.take() {
            self.pos = self.buf.partition_point(|e| *e < lo);
        }
        Ok(true)
    }
}

impl<C: BlockCodec> Iterator for Scan<C> {
    type Item = Result<C::Entry>;

    fn next(&mut self) -> Option<Result<C::Entry>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(e) = self.buf.get(self.pos) {
                // The block range already stops before blocks starting at `hi`; only the
                // last block read can hold entries past it.
                if self.hi.as_ref().is_some_and(|h| e >= h) {
                    self.done = true;
                    return None;
                }
                self.pos += 1;
                return Some(Ok(e.clone()));
            }
            match self.load_next_block() {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

/// Lookups in ascending order, reusing the decoded block while they stay inside it.
pub struct Cursor<'a, C: BlockCodec> {
    set: &'a BlockSet<C>,
    kv: &'a Kv,
    buf: Vec<C::Entry>,
    next_first: Option<C::Entry>,
    loaded: bool,
}

impl<C: BlockCodec + Clone> Cursor<'_, C> {
    /// The first entry `>= e`, or `None` when every entry is smaller.
    pub fn seek(&mut self, e: &C::Entry) -> Result<Option<C::Entry>> {
        self.position(e)?;
        let pos = self.buf.partition_point(|x| x < e);
        Ok(match self.buf.get(pos) {
            Some(x) => Some(x.clone()),
            None => self.next_first.clone(),
        })
    }

    /// Append every entry in `[lo, hi)` to `out`.
    pub fn range_into(
        &mut self,
        lo: &C::Entry,
        hi: &C::Entry,
        out: &mut Vec<C::Entry>,
    ) -> Result<()> {
        let mut at = lo.clone();
        loop {
            self.position(&at)?;
            let start = self.buf.partition_point(|x| *x < at);
            for x in &self.buf[start..] {
                if x >= hi {
                    return Ok(());
                }
                out.push(x.clone());
            }
            match &self.next_first {
                Some(nf) if nf < hi => at = nf.clone(),
                _ => return Ok(()),
            }
        }
    }

    /// Make the loaded block the one that holds `e`.
    fn position(&mut self, e: &C::Entry) -> Result<()> {
        let in_block = self.loaded
            && self.buf.first().is_some_and(|f| f <= e)
            && self.next_first.as_ref().is_none_or(|nf| e < nf);
        if in_block {
            return Ok(());
        }
        self.buf.clear();
        self.loaded = true;
        self.next_first = None;
        let end = self.set.end_key();
        let block = match self.set.floor_block(self.kv, e)? {
            Some(b) => Some(b),
            None => self.kv.next_after(&[self.set.tag], &end)?,
        };
        if let Some((k, v)) = block {
            self.set.decode(&k, &v, &mut self.buf)?;
            if let Some((nk, _)) = self.kv.next_after(&k, &end)? {
                self.next_first = Some(self.set.codec.read_key(nk.get(1..).unwrap_or_default())?);
            }
        }
        Ok(())
    }
}
