//! The term dictionary: strings and entity names ↔ dense sequential ids.
//!
//! Two block sets hold it: `id → term` (entries `kind ++ id ++ text`, so consecutive ids
//! share a block and decoding a result column reads each block once) and `term → id`
//! (entries `kind ++ escaped text ++ 00 01 ++ id`, sorted by text, which also serves name
//! completion by prefix).  Terms are never removed: an id, once handed out, means the same
//! term forever, so rows can be decoded after the read lock is released.

use super::blocks::{BlockSet, Op};
use super::codec::{get_varint, put_varint, term_entry, BytesCodec, TermCodec};
use super::id::{kind, Id};
use super::kv::{Kv, KvBatch};
use crate::error::{Error, Result};
use rustc_hash::FxHashMap;
use std::sync::{Arc, Mutex};

/// Key tag of the `id → term` block set.
pub const TAG_ID2TERM: u8 = 0x01;
/// Key tag of the `term → id` block set.
pub const TAG_TERM2ID: u8 = 0x02;

/// Terms per dictionary block (for buffer sizes).
const MAX_BLOCK_TERMS: usize = super::blocks::MAX_ENTRIES;

/// Decoded terms kept in memory; cleared when full (a crude but bounded cache).
const CACHE_LIMIT: usize = 1 << 18;
/// Batches of decoded terms up to this size are cached.
const CACHE_BATCH: usize = 1 << 14;

/// The dictionary's two block sets, with a cache of decoded terms (valid forever, since a
/// term's id never changes).
pub struct Dict {
    id2term: BlockSet<TermCodec>,
    term2id: BlockSet<BytesCodec>,
    cache: Mutex<FxHashMap<Id, Arc<str>>>,
}

/// `kind ++ text with 00 escaped as 00 FF ++ 00 01`: a prefix no other term's entry has,
/// that sorts like the text.
fn term_prefix(k: u8, text: &str) -> Vec<u8> {
    let mut e = Vec::with_capacity(text.len() + 12);
    e.push(k);
    for &b in text.as_bytes() {
        e.push(b);
        if b == 0 {
            e.push(0xFF);
        }
    }
    e.extend_from_slice(&[0, 1]);
    e
}

/// The id follows the terminator as a varint: the text alone orders the entries.
pub(crate) fn term2id_entry(k: u8, text: &str, id: Id) -> Vec<u8> {
    let mut e = term_prefix(k, text);
    put_varint(&mut e, id.raw());
    e
}

/// The `term → id` entries of kind `k` whose text starts with `prefix`: `[lo, hi)`.
fn prefix_bounds(k: u8, prefix: &str) -> (Vec<u8>, Vec<u8>) {
    let mut lo = term_prefix(k, prefix);
    lo.truncate(lo.len() - 2); // drop the terminator: every longer text follows
    let mut hi = lo.clone();
    // The smallest byte string greater than every string starting with `lo`.
    while let Some(last) = hi.pop() {
        if last < 0xFF {
            hi.push(last + 1);
            break;
        }
    }
    if hi.is_empty() {
        hi = vec![k + 1];
    }
    (lo, hi)
}

fn unescape_term(bytes: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == 0 {
            match bytes.get(i + 1) {
                Some(0xFF) => {
                    out.push(0);
                    i += 2;
                    continue;
                }
                Some(1) => break,
                _ => return None,
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok()
}

impl Dict {
    /// The dictionary over the entries under its two tags; it holds no data itself, only
    /// caches.
    pub fn new() -> Dict {
        Dict {
            id2term: BlockSet::new(TAG_ID2TERM, TermCodec, MAX_BLOCK_TERMS),
            term2id: BlockSet::new(TAG_TERM2ID, BytesCodec, MAX_BLOCK_TERMS),
            cache: Mutex::new(FxHashMap::default()),
        }
    }

    /// The id of a stored string (`kind::STR`) or entity (`kind::ENTITY`), if it has one.
    pub fn lookup(&self, kv: &Kv, k: u8, text: &str) -> Result<Option<Id>> {
        let prefix = term_prefix(k, text);
        let mut cursor = self.term2id.cursor(kv);
        Ok(cursor
            .seek(&prefix)?
            .and_then(|e| parse_term2id(&prefix, &e, k)))
    }

    /// Look up many terms at once (sorted internally, one pass over the blocks).
    pub fn lookup_many(&self, kv: &Kv, terms: &[(u8, &str)]) -> Result<Vec<Option<Id>>> {
        let mut order: Vec<(Vec<u8>, usize)> = terms
            .iter()
            .enumerate()
            .map(|(i, (k, t))| (term_prefix(*k, t), i))
            .collect();
        order.sort();
        let mut out = vec![None; terms.len()];
        let mut cursor = self.term2id.cursor(kv);
        for (prefix, i) in &order {
            let k = prefix[0];
            out[*i] = cursor
                .seek(prefix)?
                .and_then(|e| parse_term2id(prefix, &e, k));
        }
        Ok(out)
    }

    /// The text of a dictionary id.
    pub fn text(&self, kv: &Kv, id: Id) -> Result<Arc<str>> {
        if let Some(t) = self.cache_get(id) {
            return Ok(t);
        }
        let mut key = Vec::with_capacity(9);
        id.write_key(&mut key);
        let mut cursor = self.id2term.cursor(kv);
        let text = match cursor.seek(&key)? {
            Some(e) if e.starts_with(&key) => Arc::<str>::from(decode_text(&e[9..])?),
            _ => {
                return Err(Error::Storage(format!(
                    "term id {id:?} is missing from the dictionary"
                )))
            }
        };
        self.cache_put(id, text.clone());
        Ok(text)
    }

    /// Decode many ids at once: sorted, so each dictionary block is read once and walked
    /// without building its entries.  `f` gets each distinct id with its text.
    /// Small batches (a query's rows) are kept in the term cache, so a query run again
    /// decodes from memory.
    pub fn decode_many(&self, kv: &Kv, ids: &[Id], mut f: impl FnMut(Id, &str)) -> Result<()> {
        let mut wanted: Vec<Id> = Vec::with_capacity(ids.len());
        {
            let cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for &id in ids {
                match cache.get(&id) {
                    Some(t) => f(id, t),
                    None => wanted.push(id),
                }
            }
        }
        wanted.sort_unstable();
        wanted.dedup();
        let keep = wanted.len() <= CACHE_BATCH;
        let mut fresh: Vec<(Id, Arc<str>)> = Vec::new();
        let mut i = 0;
        let mut key = Vec::with_capacity(9);
        while i < wanted.len() {
            key.clear();
            wanted[i].write_key(&mut key);
            // Past any text of this id (UTF-8 never holds 0xFF): the block starting with
            // this very id is found too.
            key.push(0xFF);
            let Some((k, v)) = self.id2term.floor(kv, &key)? else {
                return Err(missing(wanted[i]));
            };
            let before = i;
            let mut bad = None;
            self.id2term
                .codec()
                .for_each(k.get(1..).unwrap_or_default(), &v, |id, text| {
                    if i < wanted.len() && wanted[i] < id {
                        bad = Some(wanted[i]);
                        return false;
                    }
                    if i < wanted.len() && wanted[i] == id {
                        match std::str::from_utf8(text) {
                            Ok(t) => {
                                f(id, t);
                                if keep {
                                    fresh.push((id, Arc::from(t)));
                                }
                            }
                            Err(_) => {
                                bad = Some(id);
                                return false;
                            }
                        }
                        i += 1;
                    }
                    i < wanted.len()
                })?;
            if let Some(id) = bad {
                return Err(missing(id));
            }
            if i == before {
                // The floor block ends before the id: it is not in the dictionary.
                return Err(missing(wanted[i]));
            }
        }
        if !fresh.is_empty() {
            if let Ok(mut c) = self.cache.lock() {
                if c.len() + fresh.len() > CACHE_LIMIT {
                    c.clear();
                }
                c.extend(fresh);
            }
        }
        Ok(())
    }

    /// Every term of the dictionary block holding `id`, in id order: a caller decoding
    /// ids in ascending order (a scan's column) keeps it and decodes a block at a time.
    pub fn block_of(&self, kv: &Kv, id: Id) -> Result<Vec<(Id, String)>> {
        let mut key = Vec::with_capacity(10);
        id.write_key(&mut key);
        key.push(0xFF);
        let Some((k, v)) = self.id2term.floor(kv, &key)? else {
            return Err(missing(id));
        };
        let mut out = Vec::with_capacity(MAX_BLOCK_TERMS);
        let mut bad = false;
        self.id2term
            .codec()
            .for_each(k.get(1..).unwrap_or_default(), &v, |i, text| {
                match std::str::from_utf8(text) {
                    Ok(t) => out.push((i, t.to_string())),
                    Err(_) => bad = true,
                }
                !bad
            })?;
        if bad {
            return Err(Error::Storage("dictionary text is not UTF-8".into()));
        }
        Ok(out)
    }

    /// Decode many ids at once (see [`Dict::decode_many`]).
    pub fn texts(&self, kv: &Kv, ids: &[Id]) -> Result<FxHashMap<Id, Arc<str>>> {
        let mut out = FxHashMap::default();
        self.decode_many(kv, ids, |id, t| {
            out.insert(id, Arc::from(t));
        })?;
        Ok(out)
    }

    fn cache_get(&self, id: Id) -> Option<Arc<str>> {
        self.cache.lock().ok()?.get(&id).cloned()
    }

    fn cache_put(&self, id: Id, text: Arc<str>) {
        if let Ok(mut c) = self.cache.lock() {
            if c.len() >= CACHE_LIMIT {
                c.clear();
            }
            c.insert(id, text);
        }
    }

    /// Write new terms (ids allocated by the caller) into `batch`.
    pub fn write_new(&self, kv: &Kv, terms: &[(Id, &str)], batch: &mut KvBatch) -> Result<()> {
        self.write_new_ids(kv, terms, batch)?;
        self.write_new_texts(kv, terms, batch)
    }

    /// The `id → term` side of [`Dict::write_new`] (a bulk import writes the two sides in
    /// chunks, each in its own order, so that each block is rewritten once).
    pub fn write_new_ids(&self, kv: &Kv, terms: &[(Id, &str)], batch: &mut KvBatch) -> Result<()> {
        let mut by_id: Vec<(Vec<u8>, Op)> = terms
            .iter()
            .map(|(id, t)| (term_entry(*id, t.as_bytes()), Op::Insert))
            .collect();
        by_id.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        by_id.dedup_by(|a, b| a.0 == b.0);
        self.id2term.merge(kv, &by_id, batch)
    }

    /// The `term → id` side of [`Dict::write_new`].
    pub fn write_new_texts(
        &self,
        kv: &Kv,
        terms: &[(Id, &str)],
        batch: &mut KvBatch,
    ) -> Result<()> {
        let mut by_text: Vec<(Vec<u8>, Op)> = terms
            .iter()
            .map(|(id, t)| (term2id_entry(id.kind(), t, *id), Op::Insert))
            .collect();
        by_text.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        by_text.dedup_by(|a, b| a.0 == b.0);
        self.term2id.merge(kv, &by_text, batch)
    }

    /// Entities (or strings) whose text starts with `prefix`, in text order, at most
    /// `limit` of them: completion in the REPL, and `starts_with` through the text index.
    pub fn with_prefix(
        &self,
        kv: &Kv,
        k: u8,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(Id, String)>> {
        let (lo, hi) = prefix_bounds(k, prefix);
        let mut out = Vec::new();
        for e in self.term2id.scan(kv, &lo, &hi)? {
            let e = e?;
            if out.len() >= limit {
                break;
            }
            if let Some((text, id)) = split_term2id(&e) {
                out.push((id, text));
            }
        }
        Ok(out)
    }

    /// About how many terms of kind `k` start with `prefix` (block headers; for the
    /// planner).
    pub fn prefix_estimate(&self, kv: &Kv, k: u8, prefix: &str) -> Result<u64> {
        let (lo, hi) = prefix_bounds(k, prefix);
        self.term2id.approx_count(kv, &lo, &hi, 4096)
    }

    /// Every term of a kind, in id order: full-text search and consistency checks.
    pub fn all_of_kind<'a>(
        &'a self,
        kv: &'a Kv,
        k: u8,
    ) -> Result<impl Iterator<Item = Result<(Id, String)>> + 'a> {
        self.between(kv, Id::new(k, 0), Id::new(k + 1, 0))
    }

    /// The terms with ids in `[from, to)`, in id order (the text index reads the terms it
    /// has not indexed yet).
    pub fn between<'a>(
        &'a self,
        kv: &'a Kv,
        from: Id,
        to: Id,
    ) -> Result<impl Iterator<Item = Result<(Id, String)>> + 'a> {
        let (mut lo, mut hi) = (Vec::with_capacity(9), Vec::with_capacity(9));
        from.write_key(&mut lo);
        to.write_key(&mut hi);
        Ok(self.id2term.scan(kv, &lo, &hi)?.map(|e| {
            let e = e?;
            let id =
                Id::read_key(&e).ok_or_else(|| Error::Storage("short dictionary entry".into()))?;
            Ok((id, decode_text(&e[9..])?))
        }))
    }

    /// The largest number of kind `k` in `id → term` (0 when it has none): the id counter
    /// must not be below it.  Reads one block: every id of kind `k` lies in the blocks
    /// starting at or before `(k, max)`, the largest in the last of them.
    pub fn last_id(&self, kv: &Kv, k: u8) -> Result<u64> {
        let mut key = vec![TAG_ID2TERM, k];
        key.extend_from_slice(&[0xFF; 9]);
        let Some((bk, bv)) = kv.floor(&[TAG_ID2TERM], &key)? else {
            return Ok(0);
        };
        let mut top = 0;
        self.id2term
            .codec()
            .for_each(bk.get(1..).unwrap_or_default(), &bv, |id, _| {
                if id.kind() == k {
                    top = top.max(id.raw());
                }
                true
            })?;
        Ok(top)
    }

    /// The `id → term` and `term → id` block sets (checks and rebuilds walk them).
    pub fn sets(&self) -> (&BlockSet<TermCodec>, &BlockSet<BytesCodec>) {
        (&self.id2term, &self.term2id)
    }

    /// Drop the decoded blocks of both sets (a commit rewrote some of them).  Decoded terms
    /// stay cached: ids never change meaning.
    pub fn clear_cache(&self) {
        self.id2term.clear_cache();
        self.term2id.clear_cache();
    }

    /// Forget every decoded term too (an import that failed gave out ids it took back).
    pub fn forget_terms(&self) {
        self.clear_cache();
        if let Ok(mut c) = self.cache.lock() {
            c.clear();
        }
    }

    /// Sled entries (blocks) of the `id → term` and the `term → id` sets.
    pub fn block_counts(&self, kv: &Kv) -> Result<(u64, u64)> {
        Ok((self.id2term.block_count(kv)?, self.term2id.block_count(kv)?))
    }
}

impl Default for Dict {
    fn default() -> Self {
        Dict::new()
    }
}

fn missing(id: Id) -> Error {
    Error::Storage(format!("term id {id:?} is missing from the dictionary"))
}

fn decode_text(bytes: &[u8]) -> Result<String> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| Error::Storage("dictionary text is not UTF-8".into()))
}

fn parse_term2id(prefix: &[u8], entry: &[u8], k: u8) -> Option<Id> {
    let rest = entry.strip_prefix(prefix)?;
    let mut pos = 0;
    let raw = get_varint(rest, &mut pos).ok()?;
    (pos == rest.len()).then_some(Id::new(k, raw))
}

/// A `term → id` entry's text and id (the inverse of the entry the dictionary writes);
/// `None` when the bytes are not a well-formed entry.
pub fn split_term2id(entry: &[u8]) -> Option<(String, Id)> {
    let k = *entry.first()?;
    // The escaped text never holds `00 01`: the first one is the terminator.
    let end = entry.windows(2).position(|w| w == [0, 1])?;
    let text = unescape_term(entry.get(1..end + 2)?)?;
    let mut pos = 0;
    let rest = entry.get(end + 2..)?;
    let raw = get_varint(rest, &mut pos).ok()?;
    (pos == rest.len()).then_some((text, Id::new(k, raw)))
}

/// Allocation of new dictionary ids: the next free number per dictionary kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NextIds {
    /// The last number given to a string (0: none yet).
    pub string: u64,
    /// The last number given to an entity (0: none yet).
    pub entity: u64,
}

impl NextIds {
    /// A new id of kind `k` (`kind::STR`; any other kind numbers as an entity).
    pub fn take(&mut self, k: u8) -> Id {
        let slot = if k == kind::STR {
            &mut self.string
        } else {
            &mut self.entity
        };
        *slot += 1;
        Id::new(k, *slot)
    }

    /// The meta record: both counters, 8 bytes big-endian each.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut v = self.string.to_be_bytes().to_vec();
        v.extend_from_slice(&self.entity.to_be_bytes());
        v
    }

    /// Read the meta record back; `None` when it is shorter than 16 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<NextIds> {
        Some(NextIds {
            string: u64::from_be_bytes(b.get(0..8)?.try_into().ok()?),
            entity: u64::from_be_bytes(b.get(8..16)?.try_into().ok()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_keeps_text_order_and_round_trips() {
        let texts = ["", "a", "a\0", "a\0b", "ab", "b", "é"];
        let mut entries: Vec<Vec<u8>> = texts
            .iter()
            .map(|t| term2id_entry(kind::STR, t, Id::new(kind::STR, 7)))
            .collect();
        let sorted = entries.clone();
        entries.sort();
        assert_eq!(entries, sorted);
        for (t, e) in texts.iter().zip(&entries) {
            assert_eq!(
                split_term2id(e),
                Some((t.to_string(), Id::new(kind::STR, 7)))
            );
        }
    }
}
