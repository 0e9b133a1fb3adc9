//! In-memory relations of derived facts (what rules computed for the current query, or
//! kept from an earlier one: the full relations are shared, not copied).

use crate::store::Id;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// The `(subject, object)` pairs of one derived predicate, indexed both ways.
#[derive(Debug, Default, Clone)]
pub struct Relation {
    pairs: Vec<(Id, Id)>,
    set: FxHashSet<(Id, Id)>,
    by_s: Chains,
    by_o: Chains,
}

/// No next pair in a chain.
const END: u32 = u32::MAX;

/// An index of the pairs by one position: the pairs sharing a key form a chain in
/// insertion order, so adding a pair allocates nothing per key.
#[derive(Debug, Default, Clone)]
struct Chains {
    /// For each key: its first and last pair, and how many pairs have it.
    ends: FxHashMap<Id, (u32, u32, u32)>,
    /// For each pair: the next pair with the same key (`END`: none).
    next: Vec<u32>,
}

impl Chains {
    fn push(&mut self, key: Id, i: u32) {
        self.next.push(END);
        match self.ends.entry(key) {
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let (_, last, count) = e.get_mut();
                if let Some(n) = self.next.get_mut(*last as usize) {
                    *n = i;
                }
                *last = i;
                *count += 1;
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert((i, i, 1));
            }
        }
    }

    /// How many pairs have `key`.
    fn count(&self, key: Id) -> usize {
        self.ends.get(&key).map_or(0, |e| e.2 as usize)
    }

    /// The pairs with `key`, in insertion order.
    fn iter(&self, key: Id) -> impl Iterator<Item = u32> + '_ {
        let mut at = self.ends.get(&key).map_or(END, |e| e.0);
        std::iter::from_fn(move || {
            if at == END {
                return None;
            }
            let i = at;
            at = self.next.get(i as usize).copied().unwrap_or(END);
            Some(i)
        })
    }
}

impl Relation {
    /// Add a pair; false if it was there.
    pub fn insert(&mut self, s: Id, o: Id) -> bool {
        if !self.set.insert((s, o)) {
            return false;
        }
        let i = self.pairs.len() as u32;
        self.pairs.push((s, o));
        self.by_s.push(s, i);
        self.by_o.push(o, i);
        true
    }

    pub fn contains(&self, s: Id, o: Id) -> bool {
        self.set.contains(&(s, o))
    }

    /// Whether some pair has object `o`.
    pub fn has_object(&self, o: Id) -> bool {
        self.by_o.ends.contains_key(&o)
    }

    /// Estimated matches of a pattern over this relation, per input row and with only its
    /// constants bound: `s`, `o` are the constants at those positions (`None`: none), and
    /// `s_bound`, `o_bound` whether a variable there is bound by an earlier step.  Exact
    /// for constants.
    pub fn estimate(
        &self,
        s: Option<&[Id]>,
        o: Option<&[Id]>,
        s_bound: bool,
        o_bound: bool,
    ) -> (f64, f64) {
        let with_consts = match (s, o) {
            (Some(ss), Some(os)) => ss
                .iter()
                .flat_map(|s| os.iter().map(move |o| (*s, *o)))
                .filter(|(s, o)| self.contains(*s, *o))
                .count(),
            (Some(ss), None) => ss.iter().map(|s| self.by_s.count(*s)).sum(),
            (None, Some(os)) => os.iter().map(|o| self.by_o.count(*o)).sum(),
            (None, None) => self.len(),
        } as f64;
        let mut per_row = with_consts;
        if s_bound && s.is_none() {
            per_row /= self.distinct_subjects().max(1) as f64;
        }
        if o_bound && o.is_none() {
            per_row /= self.distinct_objects().max(1) as f64;
        }
        (per_row, with_consts)
    }

    /// The pairs kept by `keep`, as a new relation.
    pub fn filtered(&self, keep: impl Fn(Id, Id) -> bool) -> Relation {
        let mut out = Relation::default();
        for &(s, o) in &self.pairs {
            if keep(s, o) {
                out.insert(s, o);
            }
        }
        out
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn distinct_subjects(&self) -> usize {
        self.by_s.ends.len()
    }

    pub fn distinct_objects(&self) -> usize {
        self.by_o.ends.len()
    }

    pub fn pairs(&self) -> &[(Id, Id)] {
        &self.pairs
    }

    /// Call `f` on every pair matching the bound positions; stop when it returns false.
    pub fn scan<E>(
        &self,
        s: Option<Id>,
        o: Option<Id>,
        mut f: impl FnMut(Id, Id) -> Result<bool, E>,
    ) -> Result<bool, E> {
        match (s, o) {
            (Some(s), Some(o)) => {
                if self.contains(s, o) {
                    return f(s, o);
                }
            }
            (Some(s), None) => {
                for i in self.by_s.iter(s) {
                    let (a, b) = self.pairs[i as usize];
                    if !f(a, b)? {
                        return Ok(false);
                    }
                }
            }
            (None, Some(o)) => {
                for i in self.by_o.iter(o) {
                    let (a, b) = self.pairs[i as usize];
                    if !f(a, b)? {
                        return Ok(false);
                    }
                }
            }
            (None, None) => {
                for &(a, b) in &self.pairs {
                    if !f(a, b)? {
                        return Ok(false);
                    }
                }
            }
        }
        Ok(true)
    }
}

/// Derived facts by predicate: the full relations, and during semi-naive evaluation the
/// facts new in the last round.
#[derive(Debug, Default, Clone)]
pub struct Derived {
    /// Shared with the derived facts kept across statements (copied on first write).
    pub full: FxHashMap<Id, Arc<Relation>>,
    pub delta: FxHashMap<Id, Relation>,
}

impl Derived {
    pub fn relation(&self, p: Id, delta: bool) -> Option<&Relation> {
        if delta {
            self.delta.get(&p)
        } else {
            self.full.get(&p).map(|r| &**r)
        }
    }

    /// Every full relation.
    pub fn relations(&self) -> impl Iterator<Item = &Relation> {
        self.full.values().map(|r| &**r)
    }

    /// The full relation `p` to add to (made empty if missing, copied if shared).
    pub fn full_mut(&mut self, p: Id) -> &mut Relation {
        Arc::make_mut(self.full.entry(p).or_default())
    }

    /// How many facts the full relations hold.
    pub fn len(&self) -> usize {
        self.full.values().map(|r| r.len()).sum()
    }
}
