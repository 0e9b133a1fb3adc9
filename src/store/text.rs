//! The text index: which dictionary terms (strings and entity names) contain which
//! trigrams, so that `contains`, `starts_with`, `matches` and `search` read a few posting
//! lists instead of every term of the dictionary.
//!
//! - Entries are `[trigram, term key]` in a block set under tag `03` ([`PostingCodec`]: a
//!   dense posting list costs about a byte an entry).  A term key is the dictionary number
//!   shifted left once, its low bit set for entities.
//! - Texts are *folded* before their trigrams are taken: each character lowercased on its
//!   own, final sigma as sigma.  Folding character by character commutes with taking a
//!   substring, so "`s` contains `t`" implies "fold(`s`) contains fold(`t`)", and one index
//!   serves the case-sensitive and the case-insensitive searches.  Index hits are
//!   candidates: the caller tests the real text.
//! - Terms are never removed, so the index only grows: a commit adds the trigrams of its new
//!   terms in the same batch.
//! - The meta record `text` holds the dictionary counters up to which terms are indexed.
//!   Terms numbered above it (a database written before the index existed, or by an older
//!   dossier) are read from the dictionary and tested one by one, so answers never depend
//!   on the index being complete; the next writable open indexes them
//!   ([`Store::index_text_tail`]).

use super::blocks::{BlockSet, Op};
use super::codec::{Posting, PostingCodec};
use super::dict::NextIds;
use super::id::{kind, Id};
use super::kv::{Kv, KvBatch};
use super::{lock_err, Delta, Store};
use crate::error::Result;
use std::sync::Mutex;

/// Key tag of the text index's block set.
pub const TAG_TEXT: u8 = 0x03;
/// The meta record: the dictionary counters up to which terms are indexed.
pub(super) const META_TEXT: &[u8] = b"\x00text";
/// Entries per block: posting lists are read whole, so blocks can be long.
const MAX_POSTINGS: usize = 2048;
/// Entries indexed per batch when catching up on unindexed terms (bounded memory).
const BUILD_CHUNK: usize = 1 << 21;
/// Probing a posting list per candidate beats reading it when it is this many times longer.
const PROBE_RATIO: u64 = 256;
/// Candidates so few that testing their texts is cheaper than reading more lists.
const FEW_CANDIDATES: usize = 16;

/// Append the folded characters of `text` to `out`: each character lowercased on its own
/// (`char::to_lowercase`), final sigma as sigma.
pub fn fold_into(text: &str, out: &mut Vec<char>) {
    for c in text.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else {
            out.extend(c.to_lowercase().map(|l| if l == 'ς' { 'σ' } else { l }));
        }
    }
}

/// The folded form of `text` (see [`fold_into`]).
pub fn fold(text: &str) -> String {
    let mut chars = Vec::with_capacity(text.len());
    fold_into(text, &mut chars);
    chars.into_iter().collect()
}

fn trigram(w: &[char]) -> u64 {
    (w[0] as u64) << 42 | (w[1] as u64) << 21 | w[2] as u64
}

/// The distinct trigrams of folded characters, sorted.
fn trigrams(folded: &[char], out: &mut Vec<u64>) {
    out.clear();
    out.extend(folded.windows(3).map(trigram));
    out.sort_unstable();
    out.dedup();
}

/// The key of a dictionary id in posting lists (`None` for ids outside the dictionary).
fn term_key(id: Id) -> Option<u64> {
    let bit = match id.kind() {
        kind::STR => 0,
        kind::ENTITY => 1,
        _ => return None,
    };
    (id.raw() < 1 << 63).then(|| id.raw() << 1 | bit)
}

fn key_id(key: u64) -> Id {
    let k = if key & 1 == 1 {
        kind::ENTITY
    } else {
        kind::STR
    };
    Id::new(k, key >> 1)
}

/// A condition every text that a search can accept satisfies, in a form the index
/// answers: the candidates it yields are a superset of the answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TextQuery {
    /// No condition the index can use: every term is a candidate.
    Any,
    /// The folded text contains this folded string (three characters or more).
    Contains(String),
    /// The text starts with this string, exactly (served by the dictionary's text order).
    Prefix(String),
    /// Every part holds.
    And(Vec<TextQuery>),
    /// Some part holds.
    Or(Vec<TextQuery>),
}

impl TextQuery {
    /// Texts containing `needle`, in any case: [`TextQuery::Any`] when its folded form is
    /// shorter than a trigram.
    pub fn contains(needle: &str) -> TextQuery {
        TextQuery::folded(fold(needle))
    }

    fn folded(f: String) -> TextQuery {
        if f.chars().nth(2).is_some() {
            TextQuery::Contains(f)
        } else {
            TextQuery::Any
        }
    }

    /// Texts starting with `prefix`, case-sensitively ([`TextQuery::Any`] when empty).
    pub fn prefix(prefix: &str) -> TextQuery {
        if prefix.is_empty() {
            TextQuery::Any
        } else {
            TextQuery::Prefix(prefix.to_string())
        }
    }

    /// Texts in which the regular expression can match: the literal strings every match
    /// must contain (case-insensitive parts included).  [`TextQuery::Any`] when there are
    /// none, or the expression does not parse.
    pub fn regex(pattern: &str) -> TextQuery {
        match regex_syntax::Parser::new().parse(pattern) {
            Ok(hir) => shape(&hir).into_query(),
            Err(_) => TextQuery::Any,
        }
    }

    /// All of `parts` (parts the index cannot use are dropped).
    pub fn and(parts: Vec<TextQuery>) -> TextQuery {
        let mut out = Vec::new();
        for p in parts {
            match p {
                TextQuery::Any => {}
                TextQuery::And(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => TextQuery::Any,
            1 => out.pop().unwrap_or(TextQuery::Any),
            _ => TextQuery::And(out),
        }
    }

    /// Any of `parts` ([`TextQuery::Any`] when one of them is).
    pub fn or(parts: Vec<TextQuery>) -> TextQuery {
        let mut out = Vec::new();
        for p in parts {
            match p {
                TextQuery::Any => return TextQuery::Any,
                TextQuery::Or(inner) => out.extend(inner),
                other => out.push(other),
            }
        }
        match out.len() {
            0 => TextQuery::Any,
            1 => out.pop().unwrap_or(TextQuery::Any),
            _ => TextQuery::Or(out),
        }
    }

    /// Whether the index cannot narrow anything down.
    pub fn is_any(&self) -> bool {
        matches!(self, TextQuery::Any)
    }

    /// Whether `text` satisfies the condition (terms the index has not seen yet).
    pub fn may_match(&self, text: &str) -> bool {
        match self {
            TextQuery::Any => true,
            TextQuery::Contains(f) => fold(text).contains(f.as_str()),
            TextQuery::Prefix(p) => text.starts_with(p.as_str()),
            TextQuery::And(parts) => parts.iter().all(|p| p.may_match(text)),
            TextQuery::Or(parts) => parts.iter().any(|p| p.may_match(text)),
        }
    }
}

impl std::fmt::Display for TextQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list = |f: &mut std::fmt::Formatter<'_>, parts: &[TextQuery], sep: &str| {
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    f.write_str(sep)?;
                }
                write!(f, "{p}")?;
            }
            Ok(())
        };
        match self {
            TextQuery::Any => f.write_str("any text"),
            TextQuery::Contains(s) => write!(f, "{s:?}"),
            TextQuery::Prefix(s) => write!(f, "{s:?}…"),
            TextQuery::And(parts) => list(f, parts, " and "),
            TextQuery::Or(parts) => {
                f.write_str("(")?;
                list(f, parts, " or ")?;
                f.write_str(")")
            }
        }
    }
}

/// What a part of a regular expression matches: exactly one folded string, or some text
/// satisfying a condition.
enum Shape {
    Exact(String),
    Query(TextQuery),
}

impl Shape {
    fn into_query(self) -> TextQuery {
        match self {
            Shape::Exact(s) => TextQuery::folded(s),
            Shape::Query(q) => q,
        }
    }
}

/// Characters a class may hold and still count as one (case-insensitive) character.
const MAX_CLASS_CHARS: u32 = 16;

fn shape(h: &regex_syntax::hir::Hir) -> Shape {
    use regex_syntax::hir::{Class, HirKind};
    match h.kind() {
        // Zero-width: what is around them is contiguous in the text.
        HirKind::Empty | HirKind::Look(_) => Shape::Exact(String::new()),
        HirKind::Literal(lit) => match std::str::from_utf8(&lit.0) {
            Ok(s) => Shape::Exact(fold(s)),
            Err(_) => Shape::Query(TextQuery::Any),
        },
        // `[Hh]` (or `(?i)h`): one character whatever the case.
        HirKind::Class(Class::Unicode(c)) => {
            let count: u32 = c
                .ranges()
                .iter()
                .map(|r| r.end() as u32 - r.start() as u32 + 1)
                .sum();
            if count == 0 || count > MAX_CLASS_CHARS {
                return Shape::Query(TextQuery::Any);
            }
            let mut folded = c
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .map(|ch| fold(ch.encode_utf8(&mut [0; 4])));
            let first = folded.next().unwrap_or_default();
            if folded.all(|f| f == first) {
                Shape::Exact(first)
            } else {
                Shape::Query(TextQuery::Any)
            }
        }
        HirKind::Class(Class::Bytes(_)) => Shape::Query(TextQuery::Any),
        HirKind::Repetition(r) => match (r.min, r.max) {
            (0, _) => Shape::Query(TextQuery::Any),
            (1, Some(1)) => shape(&r.sub),
            _ => Shape::Query(shape(&r.sub).into_query()),
        },
        HirKind::Capture(c) => shape(&c.sub),
        HirKind::Concat(subs) => {
            let mut parts = Vec::new();
            let mut run = String::new();
            let mut exact = true;
            for s in subs {
                match shape(s) {
                    Shape::Exact(x) => run.push_str(&x),
                    Shape::Query(q) => {
                        exact = false;
                        parts.push(TextQuery::folded(std::mem::take(&mut run)));
                        parts.push(q);
                    }
                }
            }
            if exact {
                Shape::Exact(run)
            } else {
                parts.push(TextQuery::folded(run));
                Shape::Query(TextQuery::and(parts))
            }
        }
        HirKind::Alternation(subs) => Shape::Query(TextQuery::or(
            subs.iter().map(|s| shape(s).into_query()).collect(),
        )),
    }
}

/// The text index's block set and how far it goes.
pub struct TextIndex {
    set: BlockSet<PostingCodec>,
    /// Terms numbered up to these counters are indexed.
    upto: Mutex<NextIds>,
}

impl TextIndex {
    /// The index over the entries stored under its tag, complete up to `upto`.
    pub(super) fn new(upto: NextIds) -> TextIndex {
        TextIndex {
            set: BlockSet::new(TAG_TEXT, PostingCodec, MAX_POSTINGS),
            upto: Mutex::new(upto),
        }
    }

    /// Read the meta record (`None`: no term is indexed).
    pub(super) fn read_upto(kv: &Kv) -> Result<Option<NextIds>> {
        Ok(kv.get(META_TEXT)?.and_then(|v| NextIds::from_bytes(&v)))
    }

    pub(super) fn upto(&self) -> Result<NextIds> {
        Ok(*self.upto.lock().map_err(lock_err)?)
    }

    /// Record that terms up to `upto` are indexed (after the batch that says so landed).
    pub(super) fn set_upto(&self, upto: NextIds) -> Result<()> {
        *self.upto.lock().map_err(lock_err)? = upto;
        self.set.clear_cache();
        Ok(())
    }

    /// Number of blocks (for statistics).
    pub(super) fn block_count(&self, kv: &Kv) -> Result<u64> {
        self.set.block_count(kv)
    }

    /// Add the trigrams of a commit's new terms (numbered `before` up to `after`) to
    /// `batch`.  Returns the new extent to set once the batch is applied, or `None` when
    /// the index lags behind the dictionary (those terms stay unindexed, read as such).
    pub(super) fn write_new(
        &self,
        kv: &Kv,
        terms: &[(Id, &str)],
        (before, after): (NextIds, NextIds),
        batch: &mut KvBatch,
    ) -> Result<Option<NextIds>> {
        if self.upto()? != before || before == after {
            return Ok(None);
        }
        let mut entries = Vec::new();
        let (mut chars, mut tris) = (Vec::new(), Vec::new());
        for (id, text) in terms {
            add_entries(*id, text, &mut chars, &mut tris, &mut entries);
        }
        self.merge(kv, entries, batch)?;
        batch.put(META_TEXT.to_vec(), after.to_bytes());
        Ok(Some(after))
    }

    pub(super) fn merge(
        &self,
        kv: &Kv,
        mut entries: Vec<Posting>,
        batch: &mut KvBatch,
    ) -> Result<()> {
        entries.sort_unstable();
        entries.dedup();
        let ops: Vec<(Posting, Op)> = entries.into_iter().map(|e| (e, Op::Insert)).collect();
        self.set.merge(kv, &ops, batch)
    }

    /// The term keys on the posting list of `t`, appended to `out`.
    fn list(&self, kv: &Kv, t: u64, out: &mut Vec<u64>) -> Result<()> {
        for e in self.set.scan(kv, &[t, 0], &[t + 1, 0])? {
            out.push(e?[1]);
        }
        Ok(())
    }

    fn list_len(&self, kv: &Kv, t: u64) -> Result<u64> {
        self.set.approx_count(kv, &[t, 0], &[t + 1, 0], 4096)
    }

    /// Term keys of indexed terms that may satisfy `q`, sorted (`q` is not `Any`).
    fn candidates(&self, store: &Store, q: &TextQuery) -> Result<Vec<u64>> {
        let kv = &store.kv;
        Ok(match q {
            TextQuery::Any => Vec::new(),
            TextQuery::Contains(f) => {
                let chars: Vec<char> = f.chars().collect();
                let mut tris = Vec::new();
                trigrams(&chars, &mut tris);
                let mut sized = Vec::with_capacity(tris.len());
                for t in tris {
                    sized.push((self.list_len(kv, t)?, t));
                }
                sized.sort_unstable();
                let mut cand = Vec::new();
                let Some(((_, first), rest)) = sized.split_first() else {
                    return Ok(cand);
                };
                self.list(kv, *first, &mut cand)?;
                let mut other = Vec::new();
                for &(len, t) in rest {
                    if cand.len() <= FEW_CANDIDATES {
                        break;
                    }
                    if len > cand.len() as u64 * PROBE_RATIO {
                        let mut cursor = self.set.cursor(kv);
                        let mut kept = Vec::with_capacity(cand.len());
                        for &key in &cand {
                            if cursor.seek(&[t, key])? == Some([t, key]) {
                                kept.push(key);
                            }
                        }
                        cand = kept;
                    } else {
                        other.clear();
                        self.list(kv, t, &mut other)?;
                        cand = intersect(&cand, &other);
                    }
                }
                cand
            }
            TextQuery::Prefix(p) => {
                let mut keys = Vec::new();
                for k in [kind::STR, kind::ENTITY] {
                    for (id, _) in store.dict.with_prefix(kv, k, p, usize::MAX)? {
                        keys.extend(term_key(id));
                    }
                }
                keys.sort_unstable();
                keys
            }
            TextQuery::And(parts) => {
                let mut out: Option<Vec<u64>> = None;
                for p in parts {
                    let c = self.candidates(store, p)?;
                    out = Some(match out {
                        None => c,
                        Some(prev) => intersect(&prev, &c),
                    });
                }
                out.unwrap_or_default()
            }
            TextQuery::Or(parts) => {
                let mut out = Vec::new();
                for p in parts {
                    out.extend(self.candidates(store, p)?);
                }
                out.sort_unstable();
                out.dedup();
                out
            }
        })
    }

    /// About how many indexed terms may satisfy `q` (block headers only).
    fn estimate(&self, store: &Store, q: &TextQuery) -> Result<u64> {
        let kv = &store.kv;
        Ok(match q {
            TextQuery::Any => 0,
            TextQuery::Contains(f) => {
                let chars: Vec<char> = f.chars().collect();
                let mut tris = Vec::new();
                trigrams(&chars, &mut tris);
                let mut least = u64::MAX;
                for t in tris {
                    least = least.min(self.list_len(kv, t)?);
                }
                if least == u64::MAX {
                    0
                } else {
                    least
                }
            }
            TextQuery::Prefix(p) => {
                store.dict.prefix_estimate(kv, kind::STR, p)?
                    + store.dict.prefix_estimate(kv, kind::ENTITY, p)?
            }
            TextQuery::And(parts) => {
                let mut least = u64::MAX;
                for p in parts {
                    least = least.min(self.estimate(store, p)?);
                }
                least
            }
            TextQuery::Or(parts) => {
                let mut sum = 0;
                for p in parts {
                    sum += self.estimate(store, p)?;
                }
                sum
            }
        })
    }
}

/// The entries of one term (nothing for texts shorter than a trigram).
pub(super) fn add_entries(
    id: Id,
    text: &str,
    chars: &mut Vec<char>,
    tris: &mut Vec<u64>,
    out: &mut Vec<Posting>,
) {
    let Some(key) = term_key(id) else { return };
    chars.clear();
    fold_into(text, chars);
    trigrams(chars, tris);
    out.extend(tris.iter().map(|&t| [t, key]));
}

fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    let (mut i, mut j) = (0, 0);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(*x);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

impl Store {
    /// The strings and entities whose text may satisfy `q`, sorted: every term that does
    /// is among them (committed ones, and those `delta` adds).  `None` when `q` is `Any`:
    /// the index cannot narrow anything down.  The caller tests the real texts.
    pub fn text_candidates(&self, q: &TextQuery, delta: Option<&Delta>) -> Result<Option<Vec<Id>>> {
        if q.is_any() {
            return Ok(None);
        }
        let mut ids: Vec<Id> = self
            .text
            .candidates(self, q)?
            .into_iter()
            .map(key_id)
            .collect();
        for (from, to) in self.unindexed()? {
            for t in self.dict.between(&self.kv, from, to)? {
                let (id, text) = t?;
                if q.may_match(&text) {
                    ids.push(id);
                }
            }
        }
        if let Some(d) = delta {
            ids.extend(
                d.new_texts
                    .iter()
                    .filter(|(_, t)| q.may_match(t))
                    .map(|(id, _)| *id),
            );
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(Some(ids))
    }

    /// About how many terms [`Store::text_candidates`] returns (`None` when `q` is `Any`).
    /// Cheap: block headers of the posting lists.
    pub fn text_estimate(&self, q: &TextQuery) -> Result<Option<u64>> {
        if q.is_any() {
            return Ok(None);
        }
        let mut n = self.text.estimate(self, q)?;
        for (from, to) in self.unindexed()? {
            n += to.raw() - from.raw();
        }
        Ok(Some(n))
    }

    /// Id ranges `[from, to)` of the dictionary terms the text index does not cover yet.
    fn unindexed(&self) -> Result<Vec<(Id, Id)>> {
        let upto = self.text.upto()?;
        let next = *self.next.lock().map_err(lock_err)?;
        let mut out = Vec::new();
        for (k, done, last) in [
            (kind::STR, upto.string, next.string),
            (kind::ENTITY, upto.entity, next.entity),
        ] {
            if done < last {
                out.push((Id::new(k, done + 1), Id::new(k, last + 1)));
            }
        }
        Ok(out)
    }

    /// Index the terms the text index does not cover yet (a database written before it
    /// existed), a bounded chunk per batch, each batch recording how far it got: an
    /// interrupted catch-up resumes where it stopped.
    pub(super) fn index_text_tail(&self) -> Result<()> {
        let todo = self.unindexed()?;
        if todo.is_empty() {
            return Ok(());
        }
        let mut upto = self.text.upto()?;
        let (mut chars, mut tris) = (Vec::new(), Vec::new());
        for (from, to) in todo {
            let k = from.kind();
            let mut entries = Vec::new();
            let mut terms = self.dict.between(&self.kv, from, to)?.peekable();
            while let Some(t) = terms.next() {
                let (id, text) = t?;
                add_entries(id, &text, &mut chars, &mut tris, &mut entries);
                if entries.len() >= BUILD_CHUNK || terms.peek().is_none() {
                    if k == kind::STR {
                        upto.string = id.raw();
                    } else {
                        upto.entity = id.raw();
                    }
                    let mut batch = KvBatch::default();
                    self.text
                        .merge(&self.kv, std::mem::take(&mut entries), &mut batch)?;
                    batch.put(META_TEXT.to_vec(), upto.to_bytes());
                    self.kv.apply(batch)?;
                    self.text.set_upto(upto)?;
                }
            }
            // Numbers handed out but never written (none in a consistent store) are
            // covered too.
            if k == kind::STR {
                upto.string = to.raw() - 1;
            } else {
                upto.entity = to.raw() - 1;
            }
        }
        let mut batch = KvBatch::default();
        batch.put(META_TEXT.to_vec(), upto.to_bytes());
        self.kv.apply(batch)?;
        self.text.set_upto(upto)?;
        self.kv.flush()
    }

    /// Problems with the text index: entries that disagree with the dictionary's terms.
    pub(super) fn verify_text(&self, problems: &mut Vec<String>) -> Result<()> {
        let upto = self.text.upto()?;
        let mut expect = Vec::new();
        let (mut chars, mut tris) = (Vec::new(), Vec::new());
        for (k, last) in [(kind::STR, upto.string), (kind::ENTITY, upto.entity)] {
            for t in
                self.dict
                    .between(&self.kv, Id::new(k, 0), Id::new(k, last.saturating_add(1)))?
            {
                let (id, text) = t?;
                add_entries(id, &text, &mut chars, &mut tris, &mut expect);
            }
        }
        expect.sort_unstable();
        let mut got = Vec::new();
        for e in self.text.set.all(&self.kv) {
            got.push(e?);
        }
        if got != expect {
            let missing = expect
                .iter()
                .filter(|e| got.binary_search(e).is_err())
                .count();
            let extra = got
                .iter()
                .filter(|e| expect.binary_search(e).is_err())
                .count();
            problems.push(format!(
                "text index holds {} entries, the dictionary's terms give {} ({missing} missing, {extra} extra)",
                got.len(),
                expect.len()
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_is_idempotent_and_per_character() {
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            let once = fold(c.encode_utf8(&mut [0; 4]));
            assert_eq!(fold(&once), once, "{c:?}");
        }
        assert_eq!(fold("ΑΣΑ Haftar"), "ασα haftar");
        assert_eq!(fold("ΟΔΟΣ"), "οδοσ");
    }

    #[test]
    fn queries_from_regexes() {
        let c = |s: &str| TextQuery::Contains(s.into());
        assert_eq!(TextQuery::regex("Haftar"), c("haftar"));
        assert_eq!(TextQuery::regex("(?i)haftar"), c("haftar"));
        assert_eq!(
            TextQuery::regex("^Khalifa.*Haftar$"),
            TextQuery::And(vec![c("khalifa"), c("haftar")])
        );
        assert_eq!(
            TextQuery::regex("Haftar|Sarraj"),
            TextQuery::Or(vec![c("haftar"), c("sarraj")])
        );
        assert_eq!(TextQuery::regex("Haf(tar)?"), c("haf"));
        assert_eq!(TextQuery::regex("(abc)+x"), c("abc"));
        assert_eq!(TextQuery::regex("a.c"), TextQuery::Any);
        assert_eq!(TextQuery::regex("Haftar|.*"), TextQuery::Any);
        assert_eq!(TextQuery::regex("[a-z]+"), TextQuery::Any);
        assert_eq!(TextQuery::regex("(unclosed"), TextQuery::Any);
        assert_eq!(TextQuery::contains("Ha"), TextQuery::Any);
        assert_eq!(TextQuery::prefix(""), TextQuery::Any);
    }

    use crate::model::Value;
    use crate::store::StoreOptions;

    fn open(dir: &std::path::Path, read_only: bool) -> Store {
        let options = StoreOptions {
            read_only,
            ..StoreOptions::default()
        };
        Store::open(dir, options).unwrap()
    }

    fn add_labels(store: &Store, texts: &[String]) {
        let _w = store.writer().unwrap();
        let mut delta = Delta::new();
        let label = store.intern_entity(&mut delta, "label").unwrap();
        for (i, t) in texts.iter().enumerate() {
            let s = store
                .intern_entity(&mut delta, &format!("person_{i}"))
                .unwrap();
            let o = store.intern(&mut delta, &Value::string(t.clone())).unwrap();
            delta.add([s, label, o, Id::NONE]);
        }
        store.commit(delta).unwrap();
    }

    /// Make the store look as if terms numbered above `upto` had been written by a build
    /// without the text index: their entries gone, the meta record saying so.
    fn forget_after(store: &Store, upto: NextIds) {
        let covered = |e: &Posting| {
            let id = key_id(e[1]);
            let last = if id.kind() == kind::STR {
                upto.string
            } else {
                upto.entity
            };
            id.raw() <= last
        };
        let kept: Vec<Posting> = store
            .text
            .set
            .all(&store.kv)
            .map(|e| e.unwrap())
            .filter(covered)
            .collect();
        let mut batch = KvBatch::default();
        for r in store.kv.range(&[TAG_TEXT], &[TAG_TEXT + 1]) {
            batch.delete(r.unwrap().0.to_vec());
        }
        store.kv.apply(batch).unwrap();
        store.text.set.clear_cache();
        let mut batch = KvBatch::default();
        store.text.merge(&store.kv, kept, &mut batch).unwrap();
        batch.put(META_TEXT.to_vec(), upto.to_bytes());
        store.kv.apply(batch).unwrap();
        store.text.set_upto(upto).unwrap();
        store.kv.flush().unwrap();
    }

    fn haftars(store: &Store) -> Vec<String> {
        let ids = store
            .text_candidates(&TextQuery::contains("HAFTAR"), None)
            .unwrap()
            .unwrap();
        let mut texts: Vec<String> = store
            .values(&ids, None)
            .unwrap()
            .into_values()
            .filter_map(|v| v.text().map(str::to_string))
            .filter(|t| t.contains("Haftar"))
            .collect();
        texts.sort();
        texts
    }

    #[test]
    fn a_database_without_the_index_answers_and_is_indexed_on_the_next_write_open() {
        let dir = tempfile::tempdir().unwrap();
        let texts: Vec<String> = (0..300)
            .map(|i| {
                format!(
                    "{} {i}",
                    ["Khalifa Haftar", "Aguila Saleh", "Fayez Sarraj"][i % 3]
                )
            })
            .collect();
        let haftars_in = |texts: &[String]| {
            let mut v: Vec<String> = texts
                .iter()
                .filter(|t| t.contains("Haftar"))
                .cloned()
                .collect();
            v.sort();
            v
        };
        let (first, want) = (haftars_in(&texts[..150]), haftars_in(&texts));
        {
            let store = open(dir.path(), false);
            add_labels(&store, &texts[..150]);
            assert_eq!(haftars(&store), first);
            // As written by an older dossier: no index at all.
            forget_after(&store, NextIds::default());
            let mut batch = KvBatch::default();
            batch.delete(META_TEXT.to_vec());
            store.kv.apply(batch).unwrap();
        }
        {
            // Read-only: nothing is indexed, every term is tested.
            let store = open(dir.path(), true);
            assert_eq!(store.text.block_count(&store.kv).unwrap(), 0);
            assert_eq!(haftars(&store), first);
            assert_eq!(store.verify().unwrap(), Vec::<String>::new());
        }
        {
            // The first writable open indexes everything; later commits keep it whole.
            let store = open(dir.path(), false);
            assert!(store.text.block_count(&store.kv).unwrap() > 0);
            assert!(store.unindexed().unwrap().is_empty());
            assert_eq!(store.verify().unwrap(), Vec::<String>::new());
            add_labels(&store, &texts);
            assert_eq!(haftars(&store), want);
            assert_eq!(store.verify().unwrap(), Vec::<String>::new());
            // Half of the terms added since by a build without the index.
            let next = *store.next.lock().unwrap();
            forget_after(
                &store,
                NextIds {
                    string: next.string / 2,
                    entity: next.entity / 2,
                },
            );
        }
        {
            let store = open(dir.path(), true);
            assert!(!store.unindexed().unwrap().is_empty());
            assert_eq!(haftars(&store), want);
            assert_eq!(store.verify().unwrap(), Vec::<String>::new());
        }
        let store = open(dir.path(), false);
        assert!(store.unindexed().unwrap().is_empty());
        assert_eq!(haftars(&store), want);
        assert_eq!(store.verify().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn posting_keys_round_trip() {
        for id in [
            Id::new(kind::STR, 7),
            Id::new(kind::ENTITY, 7),
            Id::new(kind::ENTITY, 0),
        ] {
            assert_eq!(term_key(id).map(key_id), Some(id));
        }
        assert_eq!(term_key(Id::int(3)), None);
    }
}
