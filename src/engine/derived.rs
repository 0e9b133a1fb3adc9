//! In-memory relations of derived facts (what rules computed for the current query).

use crate::store::Id;
use rustc_hash::{FxHashMap, FxHashSet};

/// The `(subject, object)` pairs of one derived predicate, indexed both ways.
#[derive(Debug, Default, Clone)]
pub struct Relation {
    pairs: Vec<(Id, Id)>,
    set: FxHashSet<(Id, Id)>,
    by_s: FxHashMap<Id, Vec<u32>>,
    by_o: FxHashMap<Id, Vec<u32>>,
}

impl Relation {
    /// Add a pair; false if it was there.
    pub fn insert(&mut self, s: Id, o: Id) -> bool {
        if !self.set.insert((s, o)) {
            return false;
        }
        let i = self.pairs.len() as u32;
        self.pairs.push((s, o));
        self.by_s.entry(s).or_default().push(i);
        self.by_o.entry(o).or_default().push(i);
        true
    }

    pub fn contains(&self, s: Id, o: Id) -> bool {
        self.set.contains(&(s, o))
    }

    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    pub fn distinct_subjects(&self) -> usize {
        self.by_s.len()
    }

    pub fn distinct_objects(&self) -> usize {
        self.by_o.len()
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
                for &i in self.by_s.get(&s).into_iter().flatten() {
                    let (a, b) = self.pairs[i as usize];
                    if !f(a, b)? {
                        return Ok(false);
                    }
                }
            }
            (None, Some(o)) => {
                for &i in self.by_o.get(&o).into_iter().flatten() {
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
    pub full: FxHashMap<Id, Relation>,
    pub delta: FxHashMap<Id, Relation>,
}

impl Derived {
    pub fn relation(&self, p: Id, delta: bool) -> Option<&Relation> {
        if delta {
            self.delta.get(&p)
        } else {
            self.full.get(&p)
        }
    }
}
