//! `Store::verify`: the proof that a database is whole.
//!
//! Every part of the store is redundant with another, and the check compares them:
//!
//! - the format record is there and known;
//! - the dictionary's two directions (`id → term`, `term → id`) hold the same terms, no
//!   name has two ids, and every id a fact uses has its term;
//! - the id counters are above every id handed out (else a new name would get an id in
//!   use and facts would read back as other entities);
//! - every index holds the same facts as SPOG (order-free fingerprints, one streaming pass
//!   each), each in strictly increasing order;
//! - every count (per predicate, class, source, totals) equals a recount;
//! - the register of meta records matches the records (a removed catalog is seen);
//! - no key lies outside the known parts.
//!
//! Memory: the dictionary's ids and text hashes (16 bytes a term) and the counts; the
//! indexes are streamed.  A new index adds its pass to [`Store::verify`] (see
//! `index_passes`).

use super::codec::BlockCodec;
use super::dict::{split_term2id, NextIds};
use super::digest::{fnv1a, Fingerprint};
use super::records;
use super::stats::{PredStats, Stats};
use super::{
    kind, load_stats, BlockSet, Id, Order, Store, TupleCodec, FORMAT_VERSION, META_FORMAT,
    META_NEXT, META_TOTALS, TAGS,
};
use crate::error::Result;
use rustc_hash::FxHashMap;

/// What an index holds, in SPOG terms.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Holds {
    /// Every distinct triple once (`g` = `NONE`).
    Triples,
    /// Every assertion that has a source.
    Sourced,
}

/// Problems of one kind are counted and shown with their first example.
#[derive(Default)]
struct Tally {
    n: u64,
    first: Option<String>,
}

impl Tally {
    fn add(&mut self, example: impl FnOnce() -> String) {
        if self.n == 0 {
            self.first = Some(example());
        }
        self.n += 1;
    }

    fn report(&self, out: &mut Vec<String>, what: &str) {
        if self.n > 0 {
            let eg = self.first.as_deref().unwrap_or_default();
            out.push(format!("{what}: {} (first: {eg})", self.n));
        }
    }
}

/// The dictionary as the check sees it: per dictionary kind (string, entity), the ids of
/// the `id → term` direction in order, with the hash of each text.
#[derive(Default)]
struct Terms {
    ids: [Vec<u64>; 2],
    hashes: [Vec<u64>; 2],
    type_id: Option<Id>,
}

fn slot(k: u8) -> Option<usize> {
    match k {
        kind::STR => Some(0),
        kind::ENTITY => Some(1),
        _ => None,
    }
}

fn text_hash(k: u8, text: &[u8]) -> u64 {
    fnv1a(&[&[k], text])
}

impl Terms {
    fn has(&self, id: Id) -> bool {
        slot(id.kind()).is_some_and(|s| self.ids[s].binary_search(&id.raw()).is_ok())
    }

    fn max(&self, s: usize) -> u64 {
        self.ids[s].last().copied().unwrap_or(0)
    }
}

/// What the SPOG pass learns: fingerprints of its assertions, triples and sourced
/// assertions, and the counts recomputed from them.
#[derive(Default)]
struct Facts {
    quads: Fingerprint,
    triples: Fingerprint,
    sourced: Fingerprint,
    counts: Stats,
    /// The largest string and entity numbers in use.
    max_used: [u64; 2],
}

impl Store {
    /// Check that the database is whole (see the module documentation).  Returns the
    /// problems found, each naming the part that is damaged; empty when consistent.
    /// Reads everything once: O(facts) time.
    pub fn verify(&self) -> Result<Vec<String>> {
        let _g = self.read()?;
        self.verify_under_gate()
    }

    /// [`Store::verify`] for a caller that already holds the read gate ([`Store::read`]).
    pub fn verify_under_gate(&self) -> Result<Vec<String>> {
        Ok(self.survey()?.0)
    }

    /// The counts as the indexes give them (a rebuild writes these).
    pub(crate) fn recount(&self) -> Result<Stats> {
        Ok(self.survey()?.1)
    }

    fn survey(&self) -> Result<(Vec<String>, Stats)> {
        let mut problems = Vec::new();
        self.check_format(&mut problems)?;
        let terms = self.check_dictionary(&mut problems)?;
        let mut facts = self.check_spog(&terms, &mut problems)?;
        for (name, set, order, holds) in self.index_passes() {
            self.check_index(name, set, order, holds, &terms, &mut facts, &mut problems)?;
        }
        self.check_counters(&terms, &facts, &mut problems)?;
        self.check_counts(&terms, &facts.counts, &mut problems)?;
        // A damaged dictionary can make the text pass fail to read: that is a problem
        // found, not a failure of the check.
        if let Err(e) = self.verify_text(&mut problems) {
            problems.push(format!("text index: cannot be checked ({e})"));
        }
        let regs = self.kv.get(records::META_RECORDS)?;
        let user = records::user_records(&self.kv)?;
        problems.extend(records::problems(regs.as_deref(), &user));
        self.check_unknown_keys(&mut problems)?;
        Ok((problems, facts.counts))
    }

    /// Every entry of `set` in stored order, with the one before it, to `f`; blocks that
    /// cannot be decoded and entries not above the one before them are reported (and
    /// skipped) as problems of `name`.
    fn walk<C: BlockCodec + Clone>(
        &self,
        set: &BlockSet<C>,
        name: &str,
        problems: &mut Vec<String>,
        mut f: impl FnMut(Option<&C::Entry>, &C::Entry),
    ) -> Result<()> {
        let (mut unreadable, mut disorder) = (Tally::default(), Tally::default());
        let mut prev: Option<C::Entry> = None;
        for block in set.blocks(&self.kv) {
            let block = block?;
            let entries = match block.entries {
                Ok(e) => e,
                Err(e) => {
                    unreadable.add(|| format!("key {}: {e}", hex(&block.key)));
                    continue;
                }
            };
            for e in entries {
                if prev.as_ref().is_some_and(|p| *p >= e) {
                    disorder.add(|| format!("{e:?}"));
                    continue;
                }
                f(prev.as_ref(), &e);
                prev = Some(e);
            }
        }
        unreadable.report(problems, &format!("{name}: unreadable blocks"));
        disorder.report(problems, &format!("{name}: entries out of order"));
        Ok(())
    }

    /// The indexes compared with SPOG: name, block set, order, what they hold.  A new
    /// index of tuples is one more line here.
    fn index_passes(&self) -> [(&'static str, &BlockSet<TupleCodec>, Order, Holds); 3] {
        [
            ("POS", &self.pos, Order::Pos, Holds::Triples),
            ("OSP", &self.osp, Order::Osp, Holds::Triples),
            ("GSPO", &self.gspo, Order::Gspo, Holds::Sourced),
        ]
    }

    fn check_format(&self, problems: &mut Vec<String>) -> Result<()> {
        match self.kv.get(META_FORMAT)? {
            None => problems.push("format: the format record is missing".into()),
            Some(v) => match <[u8; 4]>::try_from(v.as_ref()).map(u32::from_be_bytes) {
                Ok(n) if (1..=FORMAT_VERSION).contains(&n) => {}
                Ok(n) => problems.push(format!(
                    "format: unknown format {n} (this build reads 1 to {FORMAT_VERSION})"
                )),
                Err(_) => problems.push("format: the format record is corrupt".into()),
            },
        }
        Ok(())
    }

    /// Both directions of the dictionary: each readable and in order, each term of one
    /// in the other with the same id, no name with two ids.
    fn check_dictionary(&self, problems: &mut Vec<String>) -> Result<Terms> {
        let (id2term, term2id) = self.dict.sets();
        let mut terms = Terms::default();
        let (mut bad_entries, mut same_id) = (Tally::default(), Tally::default());
        let mut prev: Option<Id> = None;
        self.walk(id2term, "dictionary id→term", problems, |_, e| {
            let Some(id) = Id::read_key(e) else {
                bad_entries.add(|| hex(e));
                return;
            };
            let text = e.get(super::id::ID_BYTES..).unwrap_or_default();
            let Some(s) = slot(id.kind()).filter(|_| std::str::from_utf8(text).is_ok()) else {
                bad_entries.add(|| format!("{id:?}"));
                return;
            };
            // Entries are in byte order; one id with two texts would pass that.
            if prev == Some(id) {
                same_id.add(|| format!("{id:?}"));
                return;
            }
            prev = Some(id);
            if id.kind() == kind::ENTITY && text == crate::model::TYPE_PREDICATE.as_bytes() {
                terms.type_id.get_or_insert(id);
            }
            terms.ids[s].push(id.raw());
            terms.hashes[s].push(text_hash(id.kind(), text));
        })?;
        bad_entries.report(problems, "dictionary id→term: malformed entries");
        same_id.report(problems, "dictionary id→term: ids with two terms");

        let mut covered = [
            vec![false; terms.ids[0].len()],
            vec![false; terms.ids[1].len()],
        ];
        let mut bad_entries = Tally::default();
        let (mut dangling, mut disagree, mut twice) =
            (Tally::default(), Tally::default(), Tally::default());
        let mut prev: Option<Vec<u8>> = None;
        self.walk(term2id, "dictionary term→id", problems, |_, e| {
            let parsed = split_term2id(e).filter(|(_, id)| id.is_dictionary());
            let Some((text, id)) = parsed else {
                bad_entries.add(|| hex(e));
                return;
            };
            // Entries sort by text first: a name with two ids is two neighbours.
            let name = super::dict::term2id_entry(id.kind(), &text, Id::NONE);
            if prev.as_ref() == Some(&name) {
                twice.add(|| format!("{text:?}"));
            }
            prev = Some(name);
            let Some(s) = slot(id.kind()) else { return };
            match terms.ids[s].binary_search(&id.raw()) {
                Err(_) => dangling.add(|| format!("{text:?} → {id:?}")),
                Ok(i) if terms.hashes[s][i] != text_hash(id.kind(), text.as_bytes()) => {
                    disagree.add(|| format!("{text:?} → {id:?}"))
                }
                Ok(i) => covered[s][i] = true,
            }
        })?;
        bad_entries.report(problems, "dictionary term→id: malformed entries");
        twice.report(problems, "dictionary term→id: names with more than one id");
        dangling.report(
            problems,
            "dictionary term→id: entries whose id has no term in id→term",
        );
        disagree.report(
            problems,
            "dictionary: the two directions disagree on the term of an id",
        );
        let mut uncovered = Tally::default();
        for (s, k) in [(0, kind::STR), (1, kind::ENTITY)] {
            for (i, c) in covered[s].iter().enumerate() {
                if !c {
                    uncovered.add(|| format!("{:?}", Id::new(k, terms.ids[s][i])));
                }
            }
        }
        uncovered.report(
            problems,
            "dictionary: terms missing from term→id (looking them up by name fails, and a new fact would give them a second id)",
        );
        self.check_duplicate_terms(&terms, problems)?;
        Ok(terms)
    }

    /// Names that have two ids in `id → term` (written after `term → id` lost them).
    fn check_duplicate_terms(&self, terms: &Terms, problems: &mut Vec<String>) -> Result<()> {
        let mut by_hash: Vec<(u64, Id)> = Vec::new();
        for (s, k) in [(0, kind::STR), (1, kind::ENTITY)] {
            for (i, &h) in terms.hashes[s].iter().enumerate() {
                by_hash.push((h, Id::new(k, terms.ids[s][i])));
            }
        }
        by_hash.sort_unstable();
        let mut twice = Tally::default();
        for group in by_hash.chunk_by(|a, b| a.0 == b.0 && a.1.kind() == b.1.kind()) {
            if group.len() < 2 {
                continue;
            }
            // Same hash: compare the texts themselves.
            let ids: Vec<Id> = group.iter().map(|g| g.1).collect();
            let texts = match self.dict.texts(&self.kv, &ids) {
                Ok(t) => t,
                Err(_) => continue, // reported by the passes above
            };
            let mut seen: FxHashMap<&str, Id> = FxHashMap::default();
            for id in &ids {
                if let Some(t) = texts.get(id) {
                    if let Some(first) = seen.insert(t, *id) {
                        twice.add(|| format!("{t:?} is {first:?} and {id:?}"));
                    }
                }
            }
        }
        twice.report(problems, "dictionary id→term: names with more than one id");
        Ok(())
    }

    /// SPOG, every assertion: in order, well formed, every id known; fingerprints and the
    /// counts that SPOG order gives (distinct subjects per predicate, per source).
    fn check_spog(&self, terms: &Terms, problems: &mut Vec<String>) -> Result<Facts> {
        let mut f = Facts::default();
        let (mut malformed, mut unknown) = (Tally::default(), Tally::default());
        self.walk(&self.spog, "index SPOG", problems, |prev, q| {
            let well_formed = q[0].kind() == kind::ENTITY
                && q[1].kind() == kind::ENTITY
                && q[2].is_some()
                && q[2].kind() < kind::END
                && (q[3].is_none() || q[3].kind() == kind::ENTITY);
            if !well_formed {
                malformed.add(|| format!("{q:?}"));
                return;
            }
            for id in q.iter().filter(|i| i.is_dictionary()) {
                if let Some(s) = slot(id.kind()) {
                    f.max_used[s] = f.max_used[s].max(id.raw());
                }
                if !terms.has(*id) {
                    unknown.add(|| format!("{id:?} in {q:?}"));
                }
            }
            f.quads.add(q);
            f.counts.quads += 1;
            if q[3].is_some() {
                f.sourced.add(q);
                *f.counts.sources.entry(q[3]).or_default() += 1;
            }
            if prev.is_none_or(|p| p[..3] != q[..3]) {
                f.triples.add(&[q[0], q[1], q[2], Id::NONE]);
                f.counts.triples += 1;
            }
            if prev.is_none_or(|p| p[..2] != q[..2]) {
                f.counts.preds.entry(q[1]).or_default().subjects += 1;
            }
        })?;
        malformed.report(problems, "index SPOG: malformed facts");
        unknown.report(
            problems,
            "facts use ids that have no term in the dictionary",
        );
        Ok(f)
    }

    /// Another index: in order, and the same set as SPOG's triples (or sourced facts).
    /// POS also gives the counts that its order groups (triples and distinct objects per
    /// predicate, members per class).
    #[allow(clippy::too_many_arguments)]
    fn check_index(
        &self,
        name: &str,
        set: &BlockSet<TupleCodec>,
        order: Order,
        holds: Holds,
        terms: &Terms,
        f: &mut Facts,
        problems: &mut Vec<String>,
    ) -> Result<()> {
        let mut fp = Fingerprint::default();
        let counting = order == Order::Pos;
        let mut pos_counts: FxHashMap<Id, PredStats> = FxHashMap::default();
        let mut classes: FxHashMap<Id, u64> = FxHashMap::default();
        self.walk(set, &format!("index {name}"), problems, |prev, e| {
            let q = order.to_spog(e);
            fp.add(&q);
            if counting {
                let c = pos_counts.entry(q[1]).or_default();
                c.triples += 1;
                if prev.is_none_or(|p| p[..2] != e[..2]) {
                    c.objects += 1;
                }
                if Some(q[1]) == terms.type_id {
                    *classes.entry(q[2]).or_default() += 1;
                }
            }
        })?;
        let (want, what) = match holds {
            Holds::Triples => (f.triples, "triples"),
            Holds::Sourced => (f.sourced, "sourced facts"),
        };
        if fp.count != want.count {
            problems.push(format!(
                "index {name} holds {} {what}, SPOG {}",
                fp.count, want.count
            ));
        } else if fp != want {
            problems.push(format!(
                "index {name} and SPOG hold different {what} ({} each)",
                fp.count
            ));
        }
        if counting {
            for (p, c) in pos_counts {
                let e = f.counts.preds.entry(p).or_default();
                e.triples = c.triples;
                e.objects = c.objects;
            }
            f.counts.classes = classes;
        }
        Ok(())
    }

    /// The id counters must be above every id handed out, in the dictionary or in use.
    fn check_counters(&self, terms: &Terms, f: &Facts, problems: &mut Vec<String>) -> Result<()> {
        let highest = [
            terms.max(0).max(f.max_used[0]),
            terms.max(1).max(f.max_used[1]),
        ];
        let next = match self.kv.get(META_NEXT)? {
            None if highest == [0, 0] => return Ok(()),
            None => {
                problems.push(
                    "id counters: the record is missing (a new name would get an id already in use)"
                        .into(),
                );
                return Ok(());
            }
            Some(v) => match NextIds::from_bytes(&v) {
                Some(n) => n,
                None => {
                    problems.push("id counters: the record is corrupt".into());
                    return Ok(());
                }
            },
        };
        for (what, counter, top) in [
            ("string", next.string, highest[0]),
            ("entity", next.entity, highest[1]),
        ] {
            if counter < top {
                problems.push(format!(
                    "id counters: the {what} counter ({counter}) is behind the largest {what} id in use ({top}): a new name would get an id already in use"
                ));
            }
        }
        Ok(())
    }

    /// Stored counts against the recount.
    fn check_counts(
        &self,
        terms: &Terms,
        recount: &Stats,
        problems: &mut Vec<String>,
    ) -> Result<()> {
        let stored = match load_stats(&self.kv) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!("counts: {e}"));
                return Ok(());
            }
        };
        if self.kv.get(META_TOTALS)?.is_none() && recount.quads > 0 {
            problems.push("counts: the totals record is missing".into());
        }
        if stored.triples != recount.triples || stored.quads != recount.quads {
            problems.push(format!(
                "counts: stored {} triples and {} facts, recounted {} and {}",
                stored.triples, stored.quads, recount.triples, recount.quads
            ));
        }
        let name = |id: &Id| match self.dict.text(&self.kv, *id) {
            Ok(t) if terms.has(*id) => t.to_string(),
            _ => format!("{id:?}"),
        };
        let mut wrong = Tally::default();
        let keys = stored.preds.keys().chain(recount.preds.keys());
        for p in sorted(keys) {
            let (a, b) = (stored.pred(p), recount.pred(p));
            if a != b {
                wrong.add(|| {
                    format!(
                        "predicate {}: stored {}/{}/{}, recounted {}/{}/{} triples/subjects/objects",
                        name(&p),
                        a.triples,
                        a.subjects,
                        a.objects,
                        b.triples,
                        b.subjects,
                        b.objects
                    )
                });
            }
        }
        for (what, s, r) in [
            ("class", &stored.classes, &recount.classes),
            ("source", &stored.sources, &recount.sources),
        ] {
            for id in sorted(s.keys().chain(r.keys())) {
                let (a, b) = (s.get(&id).copied(), r.get(&id).copied());
                if a != b {
                    wrong.add(|| {
                        format!(
                            "{what} {}: stored {}, recounted {}",
                            name(&id),
                            a.unwrap_or(0),
                            b.unwrap_or(0)
                        )
                    });
                }
            }
        }
        wrong.report(problems, "counts: records that disagree with the indexes");
        Ok(())
    }

    /// Keys outside every known part (a damaged key, or another program's data).
    fn check_unknown_keys(&self, problems: &mut Vec<String>) -> Result<()> {
        let mut gaps = Vec::new();
        let mut from = 0u8;
        for &tag in TAGS {
            if tag > from {
                gaps.push((vec![from], vec![tag]));
            }
            from = tag.saturating_add(1);
        }
        gaps.push((vec![from], vec![0xFF; 12]));
        let mut unknown = Tally::default();
        for (lo, hi) in gaps {
            for r in self.kv.range(&lo, &hi) {
                let (k, _) = r?;
                unknown.add(|| hex(&k));
            }
        }
        let known_meta: [&[u8]; 5] = [
            META_FORMAT,
            META_NEXT,
            META_TOTALS,
            records::META_RECORDS,
            super::text::META_TEXT,
        ];
        let meta_outside_user = [
            self.kv
                .range(&[super::TAG_META], &[super::TAG_META, super::META_USER]),
            self.kv.range(
                &[super::TAG_META, super::META_USER + 1],
                &[super::TAG_META + 1],
            ),
        ];
        for r in meta_outside_user.into_iter().flatten() {
            let (k, _) = r?;
            if !known_meta.contains(&k.as_ref()) {
                unknown.add(|| hex(&k));
            }
        }
        unknown.report(
            problems,
            "unknown keys (damaged, or written by another program)",
        );
        Ok(())
    }
}

fn sorted<'a>(ids: impl Iterator<Item = &'a Id>) -> Vec<Id> {
    let mut v: Vec<Id> = ids.copied().collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A key in hex, shortened.
fn hex(bytes: &[u8]) -> String {
    let mut s: String = bytes.iter().take(24).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 24 {
        s.push('…');
    }
    s
}
