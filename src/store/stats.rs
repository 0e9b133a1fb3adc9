//! Exact counts the planner estimates from, kept up to date by every commit.
//!
//! Per predicate: how many triples, distinct subjects and distinct objects (so the average
//! fan-out of a bound subject or object is one division).  Per class: how many entities
//! are stated to have that `type`.  Per source: how many facts it asserts.  Each is one
//! small sled entry (`tag ++ id`), rewritten when a commit changes it.

use super::id::{Id, ID_BYTES};
use rustc_hash::FxHashMap;

/// Key tag of the per-predicate counts ([`PredStats`]).
pub const TAG_PRED: u8 = 0x20;
/// Key tag of the per-class counts (entities stated to have the type).
pub const TAG_CLASS: u8 = 0x21;
/// Key tag of the per-source counts (assertions).
pub const TAG_SOURCE: u8 = 0x22;

/// The counts of one predicate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PredStats {
    /// Distinct triples with this predicate.
    pub triples: u64,
    /// Distinct subjects among them.
    pub subjects: u64,
    /// Distinct objects among them.
    pub objects: u64,
}

impl PredStats {
    /// The stored value: the three counts, 8 bytes big-endian each.
    pub fn to_bytes(self) -> Vec<u8> {
        [self.triples, self.subjects, self.objects]
            .iter()
            .flat_map(|n| n.to_be_bytes())
            .collect()
    }

    /// Read a stored value back; `None` when it is shorter than 24 bytes.
    pub fn from_bytes(b: &[u8]) -> Option<PredStats> {
        let n = |i: usize| {
            Some(u64::from_be_bytes(
                b.get(i * 8..i * 8 + 8)?.try_into().ok()?,
            ))
        };
        Some(PredStats {
            triples: n(0)?,
            subjects: n(1)?,
            objects: n(2)?,
        })
    }

    /// Whether no triple uses the predicate (its entry is deleted then).
    pub fn is_empty(&self) -> bool {
        self.triples == 0
    }
}

/// The in-memory mirror of every count.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Per predicate id; a predicate no triple uses has no entry.
    pub preds: FxHashMap<Id, PredStats>,
    /// Per class id: entities stated to have that type (`?x a T` triples; subtypes not
    /// included).  An empty class has no entry.
    pub classes: FxHashMap<Id, u64>,
    /// Per source id: the assertions it makes.  A source with none has no entry.
    pub sources: FxHashMap<Id, u64>,
    /// Distinct triples.
    pub triples: u64,
    /// Assertions (a triple asserted by two sources counts twice).
    pub quads: u64,
}

impl Stats {
    /// The counts of predicate `p` (all zero when no triple uses it).
    pub fn pred(&self, p: Id) -> PredStats {
        self.preds.get(&p).copied().unwrap_or_default()
    }

    /// How many entities are stated to have type `c` (0 when none).
    pub fn class(&self, c: Id) -> u64 {
        self.classes.get(&c).copied().unwrap_or(0)
    }

    /// Every count record of these counts, as sled entries (a rebuilt database writes them
    /// all; the totals record is the store's).
    pub fn records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut counts = Vec::new();
        for (tag, map) in [(TAG_CLASS, &self.classes), (TAG_SOURCE, &self.sources)] {
            counts.extend(map.iter().map(|(&id, &n)| (tag, id, n)));
        }
        let all = StatsUpdate {
            preds: self.preds.iter().map(|(&p, &s)| (p, s)).collect(),
            counts,
            triples: self.triples,
            quads: self.quads,
        };
        all.writes()
            .into_iter()
            .filter_map(|(k, v)| Some((k, v?)))
            .collect()
    }
}

/// The sled key of a count: `tag` then the id's key form.
pub fn stat_key(tag: u8, id: Id) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + ID_BYTES);
    k.push(tag);
    id.write_key(&mut k);
    k
}

/// Signed changes to counts, accumulated during a commit and applied at its end.
#[derive(Debug, Default)]
pub struct StatsDelta {
    /// Per predicate: changes to (triples, distinct subjects, distinct objects).
    pub preds: FxHashMap<Id, (i64, i64, i64)>,
    /// Per class: change to its member count.
    pub classes: FxHashMap<Id, i64>,
    /// Per source: change to its assertion count.
    pub sources: FxHashMap<Id, i64>,
    /// Change to the number of distinct triples.
    pub triples: i64,
    /// Change to the number of assertions.
    pub quads: i64,
}

fn add(n: u64, d: i64) -> u64 {
    (n as i64).saturating_add(d).max(0) as u64
}

impl StatsDelta {
    /// The counts this delta leads to from `stats`, which it leaves as they are: readers
    /// keep the current counts until the commit's batch is applied, and a commit costs
    /// what it changes, not a copy of every count.
    pub fn update(&self, stats: &Stats) -> StatsUpdate {
        let preds = self
            .preds
            .iter()
            .map(|(&p, &(t, s, o))| {
                let cur = stats.pred(p);
                let new = PredStats {
                    triples: add(cur.triples, t),
                    subjects: add(cur.subjects, s),
                    objects: add(cur.objects, o),
                };
                (p, new)
            })
            .collect();
        let mut counts = Vec::new();
        for (tag, map, deltas) in [
            (TAG_CLASS, &stats.classes, &self.classes),
            (TAG_SOURCE, &stats.sources, &self.sources),
        ] {
            for (&id, &d) in deltas {
                counts.push((tag, id, add(map.get(&id).copied().unwrap_or(0), d)));
            }
        }
        StatsUpdate {
            preds,
            counts,
            triples: add(stats.triples, self.triples),
            quads: add(stats.quads, self.quads),
        }
    }
}

/// The new values of the counts a commit changes.
#[derive(Debug)]
pub struct StatsUpdate {
    preds: Vec<(Id, PredStats)>,
    /// `(TAG_CLASS or TAG_SOURCE, id, count)`.
    counts: Vec<(u8, Id, u64)>,
    /// Distinct triples after the commit.
    pub triples: u64,
    /// Assertions after the commit.
    pub quads: u64,
}

impl StatsUpdate {
    /// The sled writes (key, value or `None` to delete a count that became zero).
    pub fn writes(&self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let preds = self.preds.iter().map(|(p, new)| {
            let value = (!new.is_empty()).then(|| new.to_bytes());
            (stat_key(TAG_PRED, *p), value)
        });
        let counts = self.counts.iter().map(|&(tag, id, n)| {
            let value = (n != 0).then(|| n.to_be_bytes().to_vec());
            (stat_key(tag, id), value)
        });
        preds.chain(counts).collect()
    }

    /// Bring the in-memory counts to the new values.
    pub fn apply(self, stats: &mut Stats) {
        for (p, new) in self.preds {
            if new.is_empty() {
                stats.preds.remove(&p);
            } else {
                stats.preds.insert(p, new);
            }
        }
        for (tag, id, n) in self.counts {
            let map = if tag == TAG_CLASS {
                &mut stats.classes
            } else {
                &mut stats.sources
            };
            if n == 0 {
                map.remove(&id);
            } else {
                map.insert(id, n);
            }
        }
        stats.triples = self.triples;
        stats.quads = self.quads;
    }
}
