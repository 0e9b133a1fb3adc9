//! Block encodings: how a sorted run of index entries is packed into one sled value.
//!
//! sled's cost is per entry (~200 bytes each on disk whatever the size), so the indexes
//! store *blocks*: the sled key is the first entry of a run, the value is the rest of the
//! run, each entry encoded against the one before it.  Four codecs:
//! - [`TupleCodec`] for index entries (tuples of ids): per entry, which component is the
//!   first to differ, that component as a delta when its kind is unchanged, and the
//!   components after it in full.  Sorted neighbours share most of their components, so an
//!   entry takes 2–6 bytes instead of 27–36.
//! - [`BytesCodec`] for the dictionary's `term → id` side (byte strings): front coding
//!   (shared prefix length, suffix).
//! - [`TermCodec`] for its `id → term` side: the id as a delta, then the text front coded.
//! - [`PostingCodec`] for the text index (trigram, term): term keys as deltas.

use super::id::{Id, ID_BYTES};

/// A block value starts with this byte; a different one is a format error, not garbage.
const BLOCK_VERSION: u8 = 1;

/// A block that cannot be decoded: what was wrong with it.  Shown as "corrupt index
/// block: …" and turned into [`crate::Error::Storage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub &'static str);

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "corrupt index block: {}", self.0)
    }
}

/// Append `v` as a LEB128 varint: 7 bits a byte, low bits first (1 byte below 128, at
/// most 10).
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Read a varint written by [`put_varint`] at `*pos`, advancing `*pos` past it; an error
/// when the data ends first or the value overflows 64 bits.
pub fn get_varint(data: &[u8], pos: &mut usize) -> Result<u64, CodecError> {
    let mut v: u64 = 0;
    let mut shift = 0;
    loop {
        let b = *data.get(*pos).ok_or(CodecError("truncated varint"))?;
        *pos += 1;
        if shift == 63 && b > 1 {
            return Err(CodecError("varint overflow"));
        }
        v |= ((b & 0x7f) as u64) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
        shift += 7;
        if shift > 63 {
            return Err(CodecError("varint overflow"));
        }
    }
}

fn get_byte(data: &[u8], pos: &mut usize) -> Result<u8, CodecError> {
    let b = *data.get(*pos).ok_or(CodecError("truncated block"))?;
    *pos += 1;
    Ok(b)
}

/// The header of a dictionary block: where entries start, and how many follow the first.
fn plain_header(data: &[u8]) -> Result<(usize, u64), CodecError> {
    let mut pos = 0;
    if get_byte(data, &mut pos)? != BLOCK_VERSION {
        return Err(CodecError("unknown block version"));
    }
    let n = get_varint(data, &mut pos)?;
    if n > data.len() as u64 {
        return Err(CodecError("entry count larger than the block"));
    }
    Ok((pos, n))
}

/// Front coding of `cur` against `prev`: the length of the prefix they share, then the
/// rest of `cur`.
fn put_front_coded(out: &mut Vec<u8>, prev: &[u8], cur: &[u8]) {
    let shared = prev.iter().zip(cur).take_while(|(a, b)| a == b).count();
    put_varint(out, shared as u64);
    put_varint(out, (cur.len() - shared) as u64);
    out.extend_from_slice(&cur[shared..]);
}

/// Read what [`put_front_coded`] wrote at `*pos`: the shared prefix length (at most
/// `prev_len`, the previous entry's length) and the suffix.
fn get_front_coded<'a>(
    data: &'a [u8],
    pos: &mut usize,
    prev_len: usize,
) -> Result<(usize, &'a [u8]), CodecError> {
    let shared = get_varint(data, pos)? as usize;
    let len = get_varint(data, pos)? as usize;
    if shared > prev_len {
        return Err(CodecError("bad shared prefix"));
    }
    let suffix = data
        .get(*pos..pos.saturating_add(len))
        .ok_or(CodecError("truncated suffix"))?;
    *pos += len;
    Ok((shared, suffix))
}

/// How a block-set packs its entries.  `Entry`'s `Ord` must equal the byte order of
/// `write_key`, so that sled's key order and the entries' order agree.
pub trait BlockCodec {
    /// What the set holds: a [`Tuple`] of ids, or a byte string.
    type Entry: Ord + Clone + std::fmt::Debug;

    /// Append an entry's key form (a block's sled key is the tag then its first entry's).
    fn write_key(&self, e: &Self::Entry, out: &mut Vec<u8>);
    /// Read back an entry written by [`BlockCodec::write_key`].
    fn read_key(&self, key: &[u8]) -> Result<Self::Entry, CodecError>;
    /// Encode `entries[1..]` against their predecessors (`entries[0]` is the block key).
    fn encode_rest(&self, entries: &[Self::Entry], out: &mut Vec<u8>);
    /// Decode a block: pushes `first` then the rest onto `out`.
    fn decode(
        &self,
        first: Self::Entry,
        data: &[u8],
        out: &mut Vec<Self::Entry>,
    ) -> Result<(), CodecError>;
    /// Rough encoded size of an entry, to cap block sizes in bytes.
    fn size_hint(&self, e: &Self::Entry) -> usize;

    /// Decode only the entries in `[lo, hi)` (bounds optional), stopping at `hi`: a point
    /// lookup decodes part of a block and copies only what it returns.  Returns whether
    /// the block ended before `hi` (the next block may hold more).
    fn decode_range(
        &self,
        first: Self::Entry,
        data: &[u8],
        lo: Option<&Self::Entry>,
        hi: Option<&Self::Entry>,
        out: &mut Vec<Self::Entry>,
    ) -> Result<bool, CodecError> {
        let mut all = Vec::new();
        self.decode(first, data, &mut all)?;
        for e in all {
            if hi.is_some_and(|h| e >= *h) {
                return Ok(false);
            }
            if lo.is_none_or(|l| e >= *l) {
                out.push(e);
            }
        }
        Ok(true)
    }
}

/// Index entries: up to four ids (unused trailing components are `Id::NONE`).
pub type Tuple = [Id; 4];

/// Tuples of `arity` ids (3 for triple indexes, 4 for quad indexes).
#[derive(Debug, Clone, Copy)]
pub struct TupleCodec {
    /// Ids per entry that are stored (3 or 4); the rest of the [`Tuple`] is `Id::NONE`.
    pub arity: usize,
}

impl BlockCodec for TupleCodec {
    type Entry = Tuple;

    fn write_key(&self, e: &Tuple, out: &mut Vec<u8>) {
        for id in &e[..self.arity] {
            id.write_key(out);
        }
    }

    fn read_key(&self, key: &[u8]) -> Result<Tuple, CodecError> {
        if key.len() != self.arity * ID_BYTES {
            return Err(CodecError("block key has the wrong length"));
        }
        let mut t = [Id::NONE; 4];
        for (i, slot) in t.iter_mut().enumerate().take(self.arity) {
            *slot = Id::read_key(&key[i * ID_BYTES..]).ok_or(CodecError("short key"))?;
        }
        Ok(t)
    }

    /// Per entry: a header byte — bits 0–1: `d`, the first component that differs from the
    /// previous entry; bit 2: component `d` has the previous kind, so it is written as a
    /// raw delta, else as kind byte + raw; bits 3–5: for each later component, "same kind
    /// as the previous entry's", which omits its kind byte — then those later components'
    /// raw values as varints (none for `NONE`, whose raw is always 0).
    /// Version 2 adds restart points: every [`RESTART`]-th entry is written in full and
    /// its offset recorded up front, so a lookup decodes from the nearest restart instead
    /// of from the start of the block.
    fn encode_rest(&self, entries: &[Tuple], out: &mut Vec<u8>) {
        out.push(TUPLE_BLOCK_VERSION);
        let n = entries.len().saturating_sub(1);
        put_varint(out, n as u64);
        let restarts = n.saturating_sub(1) / RESTART;
        put_varint(out, restarts as u64);
        let table = out.len();
        out.resize(table + 2 * restarts, 0);
        let body = out.len();
        for (i, w) in entries.windows(2).enumerate() {
            let (prev, cur) = (&w[0], &w[1]);
            if i > 0 && i % RESTART == 0 {
                let offset = out.len() - body;
                if let (Ok(o), Some(slot)) = (
                    u16::try_from(offset),
                    out.get_mut(table + 2 * (i / RESTART - 1)..table + 2 * (i / RESTART)),
                ) {
                    slot.copy_from_slice(&o.to_be_bytes());
                    self.encode_full(cur, out);
                    continue;
                }
            }
            self.encode_entry(prev, cur, out);
        }
    }

    fn decode(&self, first: Tuple, data: &[u8], out: &mut Vec<Tuple>) -> Result<(), CodecError> {
        self.decode_range(first, data, None, None, out).map(|_| ())
    }

    fn decode_range(
        &self,
        first: Tuple,
        data: &[u8],
        lo: Option<&Tuple>,
        hi: Option<&Tuple>,
        out: &mut Vec<Tuple>,
    ) -> Result<bool, CodecError> {
        let mut d = TupleDecoder::new(*self, first, data)?;
        if lo.is_none() && hi.is_none() {
            out.reserve(d.remaining as usize + 1);
        }
        let keep = |e: &Tuple| lo.is_none_or(|l| e >= l);
        let mut cur = Some(first);
        // Start at the last restart point at or before `lo`, not at the block's start.
        if let Some(l) = lo {
            let header = TupleHeader::parse(data)?;
            let restart_entry = |r: usize| -> Result<(Tuple, TupleDecoder<'_>), CodecError> {
                let offset = header.restarts[r - 1];
                let left = header.count.saturating_sub((r * RESTART) as u64);
                let mut rd =
                    TupleDecoder::resume(*self, data, header.body + offset, left, [Id::MIN; 4]);
                let e = rd.next_entry()?.ok_or(CodecError("bad restart point"))?;
                Ok((e, rd))
            };
            let (mut a, mut b) = (0usize, header.restarts.len());
            while a < b {
                let mid = (a + b).div_ceil(2);
                if restart_entry(mid)?.0 <= *l {
                    a = mid;
                } else {
                    b = mid - 1;
                }
            }
            if a > 0 {
                let (e, rd) = restart_entry(a)?;
                cur = Some(e);
                d = rd;
            }
        }
        while let Some(e) = cur {
            if hi.is_some_and(|h| e >= *h) {
                return Ok(false);
            }
            if keep(&e) {
                out.push(e);
            }
            cur = d.next_entry()?;
        }
        Ok(true)
    }

    fn size_hint(&self, _e: &Tuple) -> usize {
        6
    }
}

/// Entries between restart points of a tuple block.
pub const RESTART: usize = 16;
const TUPLE_BLOCK_VERSION: u8 = 2;

impl TupleCodec {
    /// An entry against its predecessor (see `encode_rest`).
    fn encode_entry(&self, prev: &Tuple, cur: &Tuple, out: &mut Vec<u8>) {
        let d = (0..self.arity)
            .find(|&i| prev[i] != cur[i])
            .unwrap_or(self.arity - 1);
        let same_kind = prev[d].kind() == cur[d].kind() && cur[d].raw() >= prev[d].raw();
        let mut head = d as u8 | if same_kind { 4 } else { 0 };
        for (bit, i) in (d + 1..self.arity).enumerate() {
            if prev[i].kind() == cur[i].kind() {
                head |= 8 << bit;
            }
        }
        out.push(head);
        if same_kind {
            put_varint(out, cur[d].raw() - prev[d].raw());
        } else {
            out.push(cur[d].kind());
            put_varint(out, cur[d].raw());
        }
        for (bit, i) in (d + 1..self.arity).enumerate() {
            if head & (8 << bit) == 0 {
                out.push(cur[i].kind());
            }
            if cur[i].kind() != super::id::kind::NONE {
                put_varint(out, cur[i].raw());
            }
        }
    }

    /// An entry that decodes the same whatever precedes it (a restart point).
    fn encode_full(&self, cur: &Tuple, out: &mut Vec<u8>) {
        out.push(0);
        out.push(cur[0].kind());
        put_varint(out, cur[0].raw());
        for id in &cur[1..self.arity] {
            out.push(id.kind());
            if id.kind() != super::id::kind::NONE {
                put_varint(out, id.raw());
            }
        }
    }
}

/// Decodes a tuple block one entry at a time, so a lookup decodes only as far as it needs.
pub struct TupleDecoder<'d> {
    codec: TupleCodec,
    data: &'d [u8],
    pos: usize,
    /// Entries still to decode.
    pub remaining: u64,
    prev: Tuple,
}

impl<'d> TupleDecoder<'d> {
    /// Start after the block's first entry (which is its key).
    pub fn new(
        codec: TupleCodec,
        first: Tuple,
        data: &'d [u8],
    ) -> Result<TupleDecoder<'d>, CodecError> {
        let header = TupleHeader::parse(data)?;
        Ok(TupleDecoder {
            codec,
            data,
            pos: header.body,
            remaining: header.count,
            prev: first,
        })
    }

    /// Byte position reached (for a decoder resumed later over the same bytes).
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Resume decoding `data` at `pos` after entry `prev`, with `remaining` entries left.
    pub fn resume(
        codec: TupleCodec,
        data: &'d [u8],
        pos: usize,
        remaining: u64,
        prev: Tuple,
    ) -> TupleDecoder<'d> {
        TupleDecoder {
            codec,
            data,
            pos,
            remaining,
            prev,
        }
    }

    /// The next entry, or `None` at the end of the block.
    pub fn next_entry(&mut self) -> Result<Option<Tuple>, CodecError> {
        if self.remaining == 0 {
            if self.pos != self.data.len() {
                return Err(CodecError("trailing bytes"));
            }
            return Ok(None);
        }
        self.remaining -= 1;
        let (data, pos, prev, arity) = (self.data, &mut self.pos, self.prev, self.codec.arity);
        let head = get_byte(data, pos)?;
        let d = (head & 3) as usize;
        if d >= arity {
            return Err(CodecError("bad component index"));
        }
        let mut cur = prev;
        if head & 4 != 0 {
            let delta = get_varint(data, pos)?;
            let raw = prev[d]
                .raw()
                .checked_add(delta)
                .ok_or(CodecError("delta overflow"))?;
            cur[d] = Id::new(prev[d].kind(), raw);
        } else {
            let k = get_byte(data, pos)?;
            cur[d] = Id::new(k, get_varint(data, pos)?);
        }
        for (bit, i) in (d + 1..arity).enumerate() {
            let k = if head & (8 << bit) != 0 {
                prev[i].kind()
            } else {
                get_byte(data, pos)?
            };
            let raw = if k == super::id::kind::NONE {
                0
            } else {
                get_varint(data, pos)?
            };
            cur[i] = Id::new(k, raw);
        }
        if cur <= prev {
            return Err(CodecError("entries out of order"));
        }
        self.prev = cur;
        Ok(Some(cur))
    }
}

/// The header of a tuple block: entry count (after the first), restart offsets, and
/// where the entries start.
#[derive(Debug, Clone, Default)]
pub struct TupleHeader {
    /// Entries in the block after the first (which is the block's key).
    pub count: u64,
    /// Byte offsets (from `body`) of the entries at positions RESTART, 2·RESTART, ….
    pub restarts: Vec<usize>,
    /// Where the entries after the first start in the block value.
    pub body: usize,
}

impl TupleHeader {
    /// Read the header of a tuple block value.  A block of version 1, written before restart
    /// points existed, has none (`restarts` is empty).
    pub fn parse(data: &[u8]) -> Result<TupleHeader, CodecError> {
        let mut pos = 0;
        let version = get_byte(data, &mut pos)?;
        let count = get_varint(data, &mut pos)?;
        if count > data.len() as u64 {
            return Err(CodecError("entry count larger than the block"));
        }
        let mut restarts = Vec::new();
        match version {
            1 => {}
            TUPLE_BLOCK_VERSION => {
                let n = get_varint(data, &mut pos)? as usize;
                if n > data.len() / 2 {
                    return Err(CodecError("restart table larger than the block"));
                }
                for _ in 0..n {
                    let b = data
                        .get(pos..pos + 2)
                        .ok_or(CodecError("truncated restart table"))?;
                    restarts.push(u16::from_be_bytes([b[0], b[1]]) as usize);
                    pos += 2;
                }
            }
            _ => return Err(CodecError("unknown block version")),
        }
        Ok(TupleHeader {
            count,
            restarts,
            body: pos,
        })
    }
}

/// Byte-string entries, front coded.
#[derive(Debug, Clone, Copy)]
pub struct BytesCodec;

impl BlockCodec for BytesCodec {
    type Entry = Vec<u8>;

    fn write_key(&self, e: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(e);
    }

    fn read_key(&self, key: &[u8]) -> Result<Vec<u8>, CodecError> {
        Ok(key.to_vec())
    }

    fn encode_rest(&self, entries: &[Vec<u8>], out: &mut Vec<u8>) {
        out.push(BLOCK_VERSION);
        put_varint(out, entries.len().saturating_sub(1) as u64);
        for w in entries.windows(2) {
            put_front_coded(out, &w[0], &w[1]);
        }
    }

    fn decode(
        &self,
        first: Vec<u8>,
        data: &[u8],
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), CodecError> {
        let (mut pos, n) = plain_header(data)?;
        out.reserve(n as usize + 1);
        let mut prev = first;
        for _ in 0..n {
            let (shared, suffix) = get_front_coded(data, &mut pos, prev.len())?;
            let mut cur = Vec::with_capacity(shared + suffix.len());
            cur.extend_from_slice(&prev[..shared]);
            cur.extend_from_slice(suffix);
            if cur <= prev {
                return Err(CodecError("entries out of order"));
            }
            out.push(std::mem::replace(&mut prev, cur));
        }
        out.push(prev);
        if pos != data.len() {
            return Err(CodecError("trailing bytes"));
        }
        Ok(())
    }

    fn size_hint(&self, e: &Vec<u8>) -> usize {
        e.len() / 2 + 2
    }
}

/// Dictionary `id → term` entries (`kind ++ raw id (8, big-endian) ++ text`): per entry the
/// id as a delta from the previous one (0 = a new kind follows, then kind and raw), then
/// the text front coded against the previous text (`evt_12345` after `evt_12344` takes
/// four bytes).
#[derive(Debug, Clone, Copy)]
pub struct TermCodec;

/// The `id → term` entry of `id` and its text.
pub fn term_entry(id: Id, text: &[u8]) -> Vec<u8> {
    let mut e = Vec::with_capacity(ID_BYTES + text.len());
    id.write_key(&mut e);
    e.extend_from_slice(text);
    e
}

/// An `id → term` entry's id and text.
fn split_term(e: &[u8]) -> Result<(Id, &[u8]), CodecError> {
    let id = Id::read_key(e).ok_or(CodecError("short term entry"))?;
    Ok((id, &e[ID_BYTES..]))
}

impl TermCodec {
    /// Walk a block's entries without building them: `f(id, text)` for each, in order,
    /// until it returns false.  One reused buffer instead of an allocation per entry.
    pub fn for_each(
        &self,
        first: &[u8],
        data: &[u8],
        mut f: impl FnMut(Id, &[u8]) -> bool,
    ) -> Result<(), CodecError> {
        let (mut id, text) = split_term(first)?;
        let mut cur: Vec<u8> = text.to_vec();
        if !f(id, &cur) {
            return Ok(());
        }
        let (mut pos, n) = plain_header(data)?;
        for _ in 0..n {
            let delta = get_varint(data, &mut pos)?;
            id = if delta == 0 {
                let k = get_byte(data, &mut pos)?;
                Id::new(k, get_varint(data, &mut pos)?)
            } else {
                let raw = id.raw().checked_add(delta);
                Id::new(id.kind(), raw.ok_or(CodecError("id overflow"))?)
            };
            let (shared, suffix) = get_front_coded(data, &mut pos, cur.len())?;
            cur.truncate(shared);
            cur.extend_from_slice(suffix);
            if !f(id, &cur) {
                return Ok(());
            }
        }
        if pos != data.len() {
            return Err(CodecError("trailing bytes"));
        }
        Ok(())
    }
}

impl BlockCodec for TermCodec {
    type Entry = Vec<u8>;

    fn write_key(&self, e: &Vec<u8>, out: &mut Vec<u8>) {
        out.extend_from_slice(e);
    }

    fn read_key(&self, key: &[u8]) -> Result<Vec<u8>, CodecError> {
        split_term(key)?;
        Ok(key.to_vec())
    }

    fn encode_rest(&self, entries: &[Vec<u8>], out: &mut Vec<u8>) {
        out.push(BLOCK_VERSION);
        put_varint(out, entries.len().saturating_sub(1) as u64);
        for w in entries.windows(2) {
            let (Ok((prev, ptext)), Ok((id, text))) = (split_term(&w[0]), split_term(&w[1])) else {
                continue; // entries are built by the dictionary and always well formed
            };
            if id.kind() == prev.kind() && id.raw() > prev.raw() {
                put_varint(out, id.raw() - prev.raw());
            } else {
                out.push(0);
                out.push(id.kind());
                put_varint(out, id.raw());
            }
            put_front_coded(out, ptext, text);
        }
    }

    fn decode(
        &self,
        first: Vec<u8>,
        data: &[u8],
        out: &mut Vec<Vec<u8>>,
    ) -> Result<(), CodecError> {
        let start = out.len();
        let mut in_order = true;
        self.for_each(&first, data, |id, text| {
            let entry = term_entry(id, text);
            in_order = out.len() == start || out.last().is_some_and(|prev| *prev < entry);
            out.push(entry);
            in_order
        })?;
        if !in_order {
            return Err(CodecError("entries out of order"));
        }
        Ok(())
    }

    fn size_hint(&self, e: &Vec<u8>) -> usize {
        e.len() / 2 + 2
    }
}

/// Text index entries `[trigram, term key]` (see `store::text`): per entry one varint,
/// `delta << 1` from the previous term key when the trigram is the same (a dense posting
/// list costs a byte an entry), else `1` then the trigram as a delta and the term key in
/// full.
#[derive(Debug, Clone, Copy)]
pub struct PostingCodec;

/// A text index entry: the trigram, then the term key (`raw << 1 | is_entity`).
pub type Posting = [u64; 2];

impl BlockCodec for PostingCodec {
    type Entry = Posting;

    fn write_key(&self, e: &Posting, out: &mut Vec<u8>) {
        out.extend_from_slice(&e[0].to_be_bytes());
        out.extend_from_slice(&e[1].to_be_bytes());
    }

    fn read_key(&self, key: &[u8]) -> Result<Posting, CodecError> {
        let word = |i: usize| {
            key.get(i..i + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_be_bytes)
        };
        match (word(0), word(8), key.len()) {
            (Some(a), Some(b), 16) => Ok([a, b]),
            _ => Err(CodecError("block key has the wrong length")),
        }
    }

    fn encode_rest(&self, entries: &[Posting], out: &mut Vec<u8>) {
        out.push(BLOCK_VERSION);
        put_varint(out, entries.len().saturating_sub(1) as u64);
        for w in entries.windows(2) {
            let (prev, cur) = (w[0], w[1]);
            let delta = cur[1].wrapping_sub(prev[1]);
            if cur[0] == prev[0] && cur[1] > prev[1] && delta < 1 << 62 {
                put_varint(out, delta << 1);
            } else {
                put_varint(out, 1);
                put_varint(out, cur[0].wrapping_sub(prev[0]));
                put_varint(out, cur[1]);
            }
        }
    }

    fn decode(
        &self,
        first: Posting,
        data: &[u8],
        out: &mut Vec<Posting>,
    ) -> Result<(), CodecError> {
        let (mut pos, n) = plain_header(data)?;
        out.reserve(n as usize + 1);
        out.push(first);
        let mut prev = first;
        for _ in 0..n {
            let x = get_varint(data, &mut pos)?;
            let cur = if x & 1 == 0 {
                let key = prev[1].checked_add(x >> 1);
                [prev[0], key.ok_or(CodecError("delta overflow"))?]
            } else {
                let tri = prev[0].checked_add(get_varint(data, &mut pos)?);
                let tri = tri.ok_or(CodecError("delta overflow"))?;
                [tri, get_varint(data, &mut pos)?]
            };
            if cur <= prev {
                return Err(CodecError("entries out of order"));
            }
            out.push(cur);
            prev = cur;
        }
        if pos != data.len() {
            return Err(CodecError("trailing bytes"));
        }
        Ok(())
    }

    fn size_hint(&self, _e: &Posting) -> usize {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::super::id::kind;
    use super::*;
    use proptest::prelude::*;

    /// The bytes of index blocks on disk.  A change here makes existing databases
    /// unreadable or, worse, misread: it needs a new block version; this fails first.
    #[test]
    fn tuple_block_golden_bytes() {
        let e = |r: u64| Id::new(kind::ENTITY, r);
        let codec = TupleCodec { arity: 4 };
        let entries = [
            [e(1), e(2), e(3), Id::NONE],
            [e(1), e(2), e(5), Id::NONE],
            [e(1), e(2), e(5), e(9)],
            [e(1), e(4), Id::int(-1), Id::NONE],
            [e(2), e(1), Id::new(kind::STR, 7), e(9)],
        ];
        let mut key = Vec::new();
        codec.write_key(&entries[0], &mut key);
        #[rustfmt::skip]
        assert_eq!(key, [
            6, 0, 0, 0, 0, 0, 0, 0, 1,
            6, 0, 0, 0, 0, 0, 0, 0, 2,
            6, 0, 0, 0, 0, 0, 0, 0, 3,
            0, 0, 0, 0, 0, 0, 0, 0, 0,
        ]);
        let mut block = Vec::new();
        codec.encode_rest(&entries, &mut block);
        #[rustfmt::skip]
        let expected: Vec<u8> = [
            &[2u8, 4, 0][..],   // block version 2, 4 more entries, no restart point
            &[0b1110, 2],       // object differs (2), same kind (4), source's kind kept (8): +2
            &[0b0011, 6, 9],    // source differs, new kind: ENTITY, 9
            &[0b0101, 2, 1],    // predicate +2; the object's kind changes: INT, then its raw
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
            &[0],               // and the source's: NONE (no raw)
            &[0b1100, 1, 1, 4, 7, 6, 9], // subject +1; predicate 1; STR 7; ENTITY 9
        ]
        .concat();
        assert_eq!(block, expected);
        let mut out = Vec::new();
        codec.decode(entries[0], &block, &mut out).unwrap();
        assert_eq!(out, entries);

        // 18 entries: the 18th is a restart point, written in full, its offset recorded.
        let codec = TupleCodec { arity: 3 };
        let run: Vec<Tuple> = (0..18)
            .map(|i| [e(1), e(1), Id::int(i), Id::NONE])
            .collect();
        let mut block = Vec::new();
        codec.encode_rest(&run, &mut block);
        let mut expected = vec![2u8, 17, 1, 0, 32]; // 17 more, 1 restart at body offset 32
        for _ in 0..16 {
            expected.extend_from_slice(&[0b110, 1]); // object +1
        }
        // In full: header 0, then kind and raw of each component (int 17 = 2^63 + 17).
        expected.extend_from_slice(&[0, 6, 1, 6, 1, 1]);
        expected.extend_from_slice(&[0x91, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 1]);
        assert_eq!(block, expected);
        let mut out = Vec::new();
        codec.decode(run[0], &block, &mut out).unwrap();
        assert_eq!(out, run);
    }

    fn arb_id() -> impl Strategy<Value = Id> {
        prop_oneof![
            (0u64..50).prop_map(|r| Id::new(kind::ENTITY, r)),
            (0u64..5).prop_map(|r| Id::new(kind::STR, r)),
            any::<i64>().prop_map(Id::int),
            Just(Id::NONE),
        ]
    }

    fn round_trip<C: BlockCodec>(c: &C, mut entries: Vec<C::Entry>) {
        entries.sort();
        entries.dedup();
        if entries.is_empty() {
            return;
        }
        let mut key = Vec::new();
        c.write_key(&entries[0], &mut key);
        let mut val = Vec::new();
        c.encode_rest(&entries, &mut val);
        let mut out = Vec::new();
        c.decode(c.read_key(&key).unwrap(), &val, &mut out).unwrap();
        assert_eq!(out, entries);
        // Every truncation is an error, never a panic.
        for cut in 0..val.len() {
            let mut o = Vec::new();
            assert!(c
                .decode(c.read_key(&key).unwrap(), &val[..cut], &mut o)
                .is_err());
        }
    }

    proptest! {
        #[test]
        fn tuples_round_trip(v in proptest::collection::vec(proptest::array::uniform4(arb_id()), 1..60), arity in 3usize..=4) {
            let v = v.into_iter().map(|mut t| { if arity == 3 { t[3] = Id::NONE; } t }).collect();
            round_trip(&TupleCodec { arity }, v);
        }

        #[test]
        fn terms_round_trip(v in proptest::collection::vec((0u8..3, 0u64..300, proptest::collection::vec(any::<u8>(), 0..12)), 1..60)) {
            let v = v.into_iter().map(|(k, raw, text)| {
                let mut e = vec![k];
                e.extend_from_slice(&raw.to_be_bytes());
                e.extend_from_slice(&text);
                e
            }).collect();
            round_trip(&TermCodec, v);
        }

        #[test]
        fn postings_round_trip(v in proptest::collection::vec((0u64..4, prop_oneof![0u64..40, any::<u64>()]), 1..80)) {
            let v = v.into_iter().map(|(t, k)| [t << 40, k]).collect();
            round_trip(&PostingCodec, v);
        }

        #[test]
        fn bytes_round_trip(v in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 1..60)) {
            round_trip(&BytesCodec, v);
        }

        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            let mut o = Vec::new();
            let _ = TupleCodec { arity: 4 }.decode([Id::NONE; 4], &data, &mut o);
            let mut o = Vec::new();
            let _ = BytesCodec.decode(vec![1], &data, &mut o);
            let mut o = Vec::new();
            let _ = PostingCodec.decode([0, 0], &data, &mut o);
        }
    }

    #[test]
    fn sorted_neighbours_are_small() {
        let c = TupleCodec { arity: 4 };
        let e = |s, o| {
            [
                Id::new(kind::ENTITY, s),
                Id::new(kind::ENTITY, 3),
                Id::new(kind::ENTITY, o),
                Id::NONE,
            ]
        };
        let entries: Vec<Tuple> = (0..128).map(|i| e(1000 + i / 3, 50_000 + i)).collect();
        let mut val = Vec::new();
        c.encode_rest(&entries, &mut val);
        assert!(val.len() < 128 * 8, "{} bytes", val.len());
    }
}
