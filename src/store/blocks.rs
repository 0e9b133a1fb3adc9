//! Block sets: an ordered set of entries stored as packed runs in the key-value store.
//!
//! A block set is identified by a one-byte tag; its sled keys are `tag ++ first entry` and
//! each value holds the rest of a sorted run of at most [`MAX_ENTRIES`] entries (see
//! `codec`).  Reads find the block holding an entry with one "last key at or before"
//! lookup; writes read-modify-write only the blocks they touch, splitting a block that
//! grows past the limit, so a sorted bulk load writes each block once and a single fact
//! rewrites one block per index.
//!
//! Decoded blocks are cached (keyed by their sled key), so repeated probes into the same
//! blocks (index nested loops, dictionary decoding) skip decoding.  A commit clears the
//! cache while it holds the store's write gate.

use super::codec::{BlockCodec, CodecError, Tuple, TupleCodec, TupleDecoder, TupleHeader, RESTART};
use super::kv::{Bytes, Kv, KvBatch, KvIter};
use crate::error::{Error, Result};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex};

/// Entries per block of the dictionary (whose blocks are decoded whole).
pub const MAX_ENTRIES: usize = 128;
/// Entries per block of the tuple indexes.  Lookups decode at most one restart interval
/// of a block, so blocks can be large: fewer sled entries (sled's per-entry overhead is
/// ~200 bytes on disk) and fewer pages for a cold process to read.
pub const MAX_TUPLE_ENTRIES: usize = 512;
/// Soft cap on a block's encoded size, for dictionaries of long strings.
pub const MAX_BYTES: usize = 8 * 1024;
/// Decoded blocks kept per block set (about 8 MB for tuple blocks).
const CACHE_BLOCKS: usize = 1024;

impl From<CodecError> for Error {
    fn from(e: CodecError) -> Error {
        Error::Storage(e.to_string())
    }
}

/// One insert or delete to merge into a block set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Add the entry (a no-op when it is there).
    Insert,
    /// Remove the entry (a no-op when it is not there).
    Delete,
}

type Block<E> = Arc<Vec<E>>;

/// A stored block as [`BlockSet::blocks`] reads it: its sled key and its entries, or why
/// they cannot be decoded.
pub struct RawBlock<E> {
    /// The block's sled key (tag, then its first entry).
    pub key: Bytes,
    /// The entries in stored order, or the decoding error.
    pub entries: Result<Vec<E>>,
}

/// One ordered set of entries (an index, or one direction of the dictionary) stored as
/// packed blocks under the sled keys starting with its tag.
pub struct BlockSet<C: BlockCodec> {
    tag: u8,
    codec: C,
    max_entries: usize,
    cache: Mutex<FxHashMap<Bytes, Block<C::Entry>>>,
}

impl<C: BlockCodec + Clone> BlockSet<C> {
    /// The set under key tag `tag`, packing blocks of at most `max_entries` entries with
    /// `codec` (the entries already stored must have been written with the same codec).
    pub fn new(tag: u8, codec: C, max_entries: usize) -> Self {
        BlockSet {
            tag,
            codec,
            max_entries,
            cache: Mutex::new(FxHashMap::default()),
        }
    }

    /// How the set packs its entries.
    pub fn codec(&self) -> &C {
        &self.codec
    }

    /// The key tag of its entries.
    pub fn tag(&self) -> u8 {
        self.tag
    }

    /// The most entries a block holds.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// Every stored block in key order, each decoded on its own: a block that cannot be
    /// decoded is reported with its key and the walk goes on (consistency checks and
    /// repair read what survived around a damaged block).
    pub fn blocks<'k>(
        &'k self,
        kv: &'k Kv,
    ) -> impl Iterator<Item = Result<RawBlock<C::Entry>>> + 'k {
        kv.range(&[self.tag], &self.end_key()).map(move |r| {
            let (key, value) = r?;
            let mut entries = Vec::new();
            let decoded = self
                .decode_into(&key, &value, &mut entries)
                .map(|()| entries);
            Ok(RawBlock {
                key,
                entries: decoded,
            })
        })
    }

    /// Pack sorted, distinct entries into blocks: `(sled key, value)` pairs, each block as
    /// full as the limits allow (a rebuilt or compacted set).
    pub fn pack(&self, entries: &[C::Entry]) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.chunks(entries)
            .into_iter()
            .map(|chunk| {
                let mut value = Vec::with_capacity(chunk.len() * 4 + 8);
                self.codec.encode_rest(chunk, &mut value);
                (self.key(&chunk[0]), value)
            })
            .collect()
    }

    fn key(&self, e: &C::Entry) -> Vec<u8> {
        let mut k = vec![self.tag];
        self.codec.write_key(e, &mut k);
        k
    }

    fn end_key(&self) -> [u8; 1] {
        [self.tag + 1]
    }

    fn decode_into(&self, key: &[u8], value: &[u8], out: &mut Vec<C::Entry>) -> Result<()> {
        let first = self.codec.read_key(key.get(1..).unwrap_or_default())?;
        self.codec.decode(first, value, out)?;
        Ok(())
    }

    /// The decoded block stored under `key` (from the cache when possible).
    fn block(&self, key: &Bytes, value: &[u8]) -> Result<Block<C::Entry>> {
        if let Ok(cache) = self.cache.lock() {
            if let Some(b) = cache.get(key) {
                return Ok(b.clone());
            }
        }
        let mut v = Vec::new();
        self.decode_into(key, value, &mut v)?;
        let b = Arc::new(v);
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() >= CACHE_BLOCKS {
                cache.clear();
            }
            cache.insert(key.clone(), b.clone());
        }
        Ok(b)
    }

    /// Forget every cached block (a commit changed the set).
    pub fn clear_cache(&self) {
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// The raw block that would hold `e` (the last starting at or before it).
    pub fn floor(&self, kv: &Kv, e: &C::Entry) -> Result<Option<(Bytes, Bytes)>> {
        self.floor_block(kv, e)
    }

    /// The block that would hold `e`: the last block starting at or before it.
    fn floor_block(&self, kv: &Kv, e: &C::Entry) -> Result<Option<(Bytes, Bytes)>> {
        kv.floor(&[self.tag], &self.key(e))
    }

    /// Entries `e` with `lo <= e < hi`, in order.
    pub fn scan<'k>(&self, kv: &'k Kv, lo: &C::Entry, hi: &C::Entry) -> Result<Scan<'k, '_, C>> {
        let hi_key = self.key(hi);
        let first = self.floor_block(kv, lo)?;
        let after = match &first {
            Some((k, _)) => After::Excluded(k.to_vec()),
            None => After::Included(self.key(lo)),
        };
        Ok(Scan {
            set: self,
            kv,
            first,
            after: Some(after),
            hi_key,
            blocks: None,
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
        Ok(self.block(&k, &v)?.binary_search(e).is_ok())
    }

    /// A cursor for many lookups in ascending order (commit and batch dictionary lookups).
    pub fn cursor<'a>(&'a self, kv: &'a Kv) -> Cursor<'a, C> {
        Cursor {
            set: self,
            kv,
            buf: Arc::new(Vec::new()),
            key: None,
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
                    self.decode_into(k, v, &mut entries)?;
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

    /// Split a sorted run into blocks of at most `max_entries` entries (and about
    /// `MAX_BYTES`), evenly, so that a block that just overflowed splits in halves and a
    /// bulk load fills blocks completely.
    fn chunks<'e>(&self, entries: &'e [C::Entry]) -> Vec<&'e [C::Entry]> {
        let n = entries.len();
        if n == 0 {
            return Vec::new();
        }
        let per = n.div_ceil(n.div_ceil(self.max_entries));
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
    pub fn all<'k>(&self, kv: &'k Kv) -> Scan<'k, '_, C> {
        Scan {
            set: self,
            kv,
            first: None,
            after: Some(After::Included(vec![self.tag])),
            hi_key: self.end_key().to_vec(),
            blocks: None,
            buf: Vec::new(),
            pos: 0,
            lo: None,
            hi: None,
            done: false,
        }
    }

    /// How many entries lie in `[lo, hi)`: exact within the first block, then read from
    /// block headers (so at most one block too many), reading at most `max_blocks` blocks.
    pub fn approx_count(
        &self,
        kv: &Kv,
        lo: &C::Entry,
        hi: &C::Entry,
        max_blocks: usize,
    ) -> Result<u64> {
        let hi_key = self.key(hi);
        let mut n = 0u64;
        let rest = match self.floor_block(kv, lo)? {
            Some((k, v)) => {
                // Exact in the block holding `lo`: its restart points skip what precedes.
                let mut buf = Vec::new();
                let first = self.codec.read_key(k.get(1..).unwrap_or_default())?;
                let more = self
                    .codec
                    .decode_range(first, &v, Some(lo), Some(hi), &mut buf)?;
                if !more {
                    return Ok(buf.len() as u64);
                }
                n += buf.len() as u64;
                kv.range_after(&k, &hi_key)
            }
            None => kv.range(&self.key(lo), &hi_key),
        };
        for r in rest.take(max_blocks) {
            let (_, v) = r?;
            // The entry count after the first, right after the version byte.
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

/// Where the blocks after the first one start.
enum After {
    Excluded(Vec<u8>),
    Included(Vec<u8>),
}

/// A streaming scan over `[lo, hi)` of a block set.  The first block comes from the
/// "at or before" lookup; the store is only asked for more blocks when the scan runs past
/// it (so a point lookup costs one tree descent).
pub struct Scan<'k, 's, C: BlockCodec> {
    set: &'s BlockSet<C>,
    kv: &'k Kv,
    first: Option<(Bytes, Bytes)>,
    after: Option<After>,
    hi_key: Vec<u8>,
    blocks: Option<KvIter>,
    buf: Vec<C::Entry>,
    pos: usize,
    /// Entries before `lo` in the first block are skipped (taken when it is loaded).
    lo: Option<C::Entry>,
    hi: Option<C::Entry>,
    done: bool,
}

impl<C: BlockCodec + Clone> Scan<'_, '_, C> {
    fn load_next_block(&mut self) -> Result<bool> {
        let (k, v) = match self.first.take() {
            Some(kv) => kv,
            None => {
                if self.blocks.is_none() {
                    let it = match self.after.take() {
                        Some(After::Excluded(k)) => self.kv.range_after(&k, &self.hi_key),
                        Some(After::Included(k)) => self.kv.range(&k, &self.hi_key),
                        None => return Ok(false),
                    };
                    self.blocks = Some(it);
                }
                match self.blocks.as_mut().and_then(Iterator::next) {
                    Some(r) => r?,
                    None => return Ok(false),
                }
            }
        };
        self.buf.clear();
        self.pos = 0;
        let first = self.set.codec.read_key(k.get(1..).unwrap_or_default())?;
        let lo = self.lo.take();
        let more =
            self.set
                .codec
                .decode_range(first, &v, lo.as_ref(), self.hi.as_ref(), &mut self.buf)?;
        // A block that ends at or past `hi` is the last one needed.
        if !more {
            self.after = None;
            self.blocks = None;
        }
        Ok(true)
    }
}

impl<C: BlockCodec + Clone> Iterator for Scan<'_, '_, C> {
    type Item = Result<C::Entry>;

    fn next(&mut self) -> Option<Result<C::Entry>> {
        loop {
            if self.done {
                return None;
            }
            if let Some(e) = self.buf.get(self.pos) {
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

/// Lookups in ascending order, reusing the decoded block while they stay inside it: a
/// lookup inside the current block costs a binary search, one past it a single step to
/// the next block, and only a jump elsewhere a descent of the tree.
pub struct Cursor<'a, C: BlockCodec> {
    set: &'a BlockSet<C>,
    kv: &'a Kv,
    buf: Block<C::Entry>,
    key: Option<Bytes>,
}

impl<C: BlockCodec + Clone> Cursor<'_, C> {
    /// The first entry `>= e`, or `None` when every entry is smaller.
    pub fn seek(&mut self, e: &C::Entry) -> Result<Option<C::Entry>> {
        self.position(e)?;
        let pos = self.buf.partition_point(|x| x < e);
        if let Some(x) = self.buf.get(pos) {
            return Ok(Some(x.clone()));
        }
        Ok(if self.next_block()? {
            self.buf.first().cloned()
        } else {
            None
        })
    }

    /// Append every entry in `[lo, hi)` to `out`.
    pub fn range_into(
        &mut self,
        lo: &C::Entry,
        hi: &C::Entry,
        out: &mut Vec<C::Entry>,
    ) -> Result<()> {
        self.position(lo)?;
        let mut start = self.buf.partition_point(|x| x < lo);
        loop {
            for x in &self.buf[start..] {
                if x >= hi {
                    return Ok(());
                }
                out.push(x.clone());
            }
            // The block ended below `hi`: the range may go on in the next one.
            if !self.next_block()? {
                return Ok(());
            }
            start = 0;
        }
    }

    /// Make the loaded block the one that holds `e` (the last block starting at or before
    /// it, or the first block).
    fn position(&mut self, e: &C::Entry) -> Result<()> {
        let inside = self.key.is_some()
            && self.buf.first().is_some_and(|f| f <= e)
            && self.buf.last().is_some_and(|l| e <= l);
        if inside {
            return Ok(());
        }
        let block = match self.set.floor_block(self.kv, e)? {
            Some(b) => Some(b),
            None => self.kv.next_after(&[self.set.tag], &self.set.end_key())?,
        };
        match block {
            Some((k, v)) => {
                if self.key.as_ref() != Some(&k) {
                    self.buf = self.set.block(&k, &v)?;
                    self.key = Some(k);
                }
            }
            None => {
                self.buf = Arc::new(Vec::new());
                self.key = None;
            }
        }
        Ok(())
    }

    /// Move to the block after the current one; false at the end.
    fn next_block(&mut self) -> Result<bool> {
        let Some(k) = &self.key else { return Ok(false) };
        match self.kv.next_after(k, &self.set.end_key())? {
            Some((nk, nv)) => {
                self.buf = self.set.block(&nk, &nv)?;
                self.key = Some(nk);
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

/// A cursor over a tuple index that decodes each block only as far as lookups need: a
/// point lookup starts at the nearest restart point of its block (at most `RESTART`
/// entries before it), and lookups in ascending order resume where the previous stopped.
pub struct TupleCursor<'a> {
    set: &'a BlockSet<TupleCodec>,
    kv: &'a Kv,
    key: Option<Bytes>,
    raw: Bytes,
    first: Tuple,
    header: TupleHeader,
    /// Entries of each restart point, decoded when first needed.
    restart_keys: Vec<Option<Tuple>>,
    /// Consecutive entries decoded from `window_from` (0: the block's first entry; k: the
    /// k-th restart point) on.
    window: Vec<Tuple>,
    window_from: usize,
    /// Where decoding stopped in `raw`, and how many entries are left after it.
    pos: usize,
    remaining: u64,
}

impl<'a> TupleCursor<'a> {
    /// A cursor over `set`, positioned nowhere yet: the first lookup finds its block.
    pub fn new(set: &'a BlockSet<TupleCodec>, kv: &'a Kv) -> TupleCursor<'a> {
        TupleCursor {
            set,
            kv,
            key: None,
            raw: Bytes::from(&[][..]),
            first: [super::id::Id::NONE; 4],
            header: TupleHeader::default(),
            restart_keys: Vec::new(),
            window: Vec::new(),
            window_from: 0,
            pos: 0,
            remaining: 0,
        }
    }

    fn load(&mut self, k: Bytes, v: Bytes) -> Result<()> {
        self.first = self.set.codec.read_key(k.get(1..).unwrap_or_default())?;
        self.header = TupleHeader::parse(&v)?;
        self.restart_keys = vec![None; self.header.restarts.len()];
        self.key = Some(k);
        self.raw = v;
        self.start_window(0)
    }

    /// Restart decoding at restart point `r` (0: the start of the block).
    fn start_window(&mut self, r: usize) -> Result<()> {
        self.window.clear();
        self.window_from = r;
        if r == 0 {
            self.window.push(self.first);
            self.pos = self.header.body;
            self.remaining = self.header.count;
        } else {
            let offset = self.header.restarts.get(r - 1).copied().unwrap_or(0);
            self.pos = self.header.body + offset;
            self.remaining = self.header.count.saturating_sub((r * RESTART) as u64);
            let mut d = TupleDecoder::resume(
                self.set.codec,
                &self.raw,
                self.pos,
                self.remaining,
                [super::id::Id::MIN; 4],
            );
            let e = d
                .next_entry()?
                .ok_or_else(|| Error::Storage("corrupt index block: bad restart point".into()))?;
            self.pos = d.position();
            self.remaining = d.remaining;
            self.window.push(e);
        }
        Ok(())
    }

    /// The entry at restart point `r` (1-based), decoded once.
    fn restart_key(&mut self, r: usize) -> Result<Tuple> {
        if let Some(Some(k)) = self.restart_keys.get(r - 1) {
            return Ok(*k);
        }
        let offset = self.header.restarts.get(r - 1).copied().unwrap_or(0);
        let left = self.header.count.saturating_sub((r * RESTART) as u64);
        let mut d = TupleDecoder::resume(
            self.set.codec,
            &self.raw,
            self.header.body + offset,
            left,
            [super::id::Id::MIN; 4],
        );
        let e = d
            .next_entry()?
            .ok_or_else(|| Error::Storage("corrupt index block: bad restart point".into()))?;
        if let Some(slot) = self.restart_keys.get_mut(r - 1) {
            *slot = Some(e);
        }
        Ok(e)
    }

    /// Decode one more entry of the current window; false at the end of the block.
    fn more(&mut self) -> Result<bool> {
        let Some(&prev) = self.window.last() else {
            return Ok(false);
        };
        if self.remaining == 0 {
            return Ok(false);
        }
        let mut d = TupleDecoder::resume(self.set.codec, &self.raw, self.pos, self.remaining, prev);
        let next = d.next_entry()?;
        self.pos = d.position();
        self.remaining = d.remaining;
        match next {
            Some(e) => {
                self.window.push(e);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Position the window on `e` if the current block holds it: decoded up to the first
    /// entry `>= e`.  False when `e` lies after the block (or no block is loaded).
    fn seek_in_block(&mut self, e: &Tuple) -> Result<bool> {
        if self.key.is_none() {
            return Ok(false);
        }
        if self.first > *e {
            // Before the block: a scan from `e` starts with its first entry.
            if self.window_from != 0 {
                self.start_window(0)?;
            }
            return Ok(false);
        }
        // The last restart point at or before `e` (binary search on their entries).
        let (mut lo, mut hi) = (0usize, self.header.restarts.len());
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if self.restart_key(mid)? <= *e {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        // Keep the current window when it already starts at or after that point and not
        // past `e` (ascending lookups continue decoding instead of restarting).
        let keep = self.window_from >= lo && self.window.first().is_some_and(|f| f <= e);
        if !keep {
            self.start_window(lo)?;
        }
        while self.window.last().is_some_and(|l| l < e) {
            if !self.more()? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Append the entries in `[lo, hi)` to `out`, at most `limit` of them; returns false
    /// when it stopped at the limit (the caller then streams the range instead, which
    /// keeps early exits early).
    pub fn range_into(
        &mut self,
        lo: &Tuple,
        hi: &Tuple,
        limit: usize,
        out: &mut Vec<Tuple>,
    ) -> Result<bool> {
        if !self.seek_in_block(lo)? {
            let block = match self.set.floor_block(self.kv, lo)? {
                Some(b) => Some(b),
                None => self.kv.next_after(&[self.set.tag], &self.set.end_key())?,
            };
            match block {
                Some((k, v)) => {
                    if self.key.as_ref() != Some(&k) {
                        self.load(k, v)?;
                    }
                    self.seek_in_block(lo)?;
                }
                None => {
                    self.key = None;
                    return Ok(true);
                }
            }
        }
        let mut i = self.window.partition_point(|x| x < lo);
        let mut n = 0;
        loop {
            while i < self.window.len() || self.more()? {
                let x = self.window[i];
                if x >= *hi {
                    return Ok(true);
                }
                if x >= *lo {
                    if n == limit {
                        return Ok(false);
                    }
                    out.push(x);
                    n += 1;
                }
                i += 1;
            }
            // The block ended below `hi`: the range may go on in the next one.
            let Some(k) = &self.key else { return Ok(true) };
            match self.kv.next_after(k, &self.set.end_key())? {
                Some((nk, nv)) => self.load(nk, nv)?,
                None => return Ok(true),
            }
            i = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::{Tuple, TupleCodec};
    use crate::store::id::{kind, Id};
    use std::path::Path;

    #[test]
    fn approx_count_is_exact_in_a_block_and_close_across_blocks() {
        let kv = Kv::open(Path::new(""), 1 << 20, true).expect("kv");
        let set = BlockSet::new(0x70, TupleCodec { arity: 3 }, MAX_TUPLE_ENTRIES);
        let t = |i: u64| -> Tuple {
            let e = |n| Id::new(kind::ENTITY, n);
            [e(i), e(1), e(2), Id::NONE]
        };
        // 5,000 entries (the even numbers below 10,000): several blocks.
        let changes: Vec<(Tuple, Op)> = (0..5000).map(|i| (t(i * 2), Op::Insert)).collect();
        let mut batch = KvBatch::default();
        set.merge(&kv, &changes, &mut batch).expect("merge");
        kv.apply(batch).expect("apply");
        assert!(set.block_count(&kv).expect("count") > 5);
        let exact = |lo: u64, hi: u64| (lo..hi.min(10_000)).filter(|i| i % 2 == 0).count() as u64;
        for (lo, hi) in [(0, 10), (3000, 3001), (3001, 3002), (9990, 20_000)] {
            let n = set.approx_count(&kv, &t(lo), &t(hi), 4096).expect("count");
            assert_eq!(n, exact(lo, hi), "[{lo}, {hi})");
        }
        for (lo, hi) in [(0, 10_000), (101, 7000), (2500, 9000), (20_000, 30_000)] {
            let n = set.approx_count(&kv, &t(lo), &t(hi), 4096).expect("count");
            let want = exact(lo, hi);
            assert!(
                (want..=want + MAX_TUPLE_ENTRIES as u64).contains(&n),
                "[{lo}, {hi}): {n}, exactly {want}"
            );
        }
    }
}
