//! Pending changes: what a statement or transaction will write when it commits.
//!
//! Writing is two-phase.  A statement first builds a `Delta` (new terms with their ids,
//! quads to add and remove, catalog records) while reading the committed state; then
//! `Store::commit` turns the delta into one atomic batch.  A failed statement just drops its
//! delta, which is how "a failed statement changes nothing" holds, and a transaction is a
//! delta that lives across several statements.

use super::codec::Tuple;
use super::id::Id;
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;

/// Changes not yet committed.
#[derive(Debug, Default, Clone)]
pub struct Delta {
    /// Quad `[s, p, o, g]` changes in the order they were made; the last one for a quad wins.
    ops: Vec<(Tuple, bool)>,
    /// Terms that received an id in this delta: text → id for strings and for entities,
    /// and the reverse.
    pub(crate) new_strings: FxHashMap<Box<str>, Id>,
    pub(crate) new_entities: FxHashMap<Box<str>, Id>,
    pub(crate) new_texts: FxHashMap<Id, Box<str>>,
    /// Catalog records (schema, rules): key → value, `None` deletes.
    pub(crate) meta: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Cache of `normalized()`, dropped by every change.
    normal: Option<Normalized>,
}

/// A point of a delta's history: see [`Delta::savepoint`].
#[derive(Debug, Clone)]
pub struct Savepoint {
    ops: usize,
    meta: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
}

/// A delta reduced to its effect: sorted, disjoint quad adds and removes.
#[derive(Debug, Default, Clone)]
pub struct Normalized {
    /// Quads whose last operation was an add, sorted; some may be stored already (the commit
    /// resolves that against the indexes).
    pub adds: Vec<Tuple>,
    /// Quads whose last operation was a remove, sorted; some may not be stored at all.
    pub removes: Vec<Tuple>,
}

impl Delta {
    /// An empty delta: no changes, no new terms.
    pub fn new() -> Delta {
        Delta::default()
    }

    /// Assert quad `[s, p, o, g]` (`g` = `Id::NONE` for no source).
    pub fn add(&mut self, q: Tuple) {
        self.ops.push((q, true));
        self.normal = None;
    }

    /// Retract quad `[s, p, o, g]`.
    pub fn remove(&mut self, q: Tuple) {
        self.ops.push((q, false));
        self.normal = None;
    }

    /// Set (or, with `None`, delete) the meta record under the full sled `key`; a later call
    /// for the same key replaces it.  Layers above go through [`super::Store::put_meta`].
    pub fn put_meta(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.meta.insert(key, value);
    }

    /// The meta record as this delta would leave it: `Some(Some(v))` set here,
    /// `Some(None)` deleted here, `None` untouched.
    pub fn meta(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.meta.get(key).map(|v| v.as_deref())
    }

    /// Where the delta stands now, to come back to with [`Delta::rollback_to`].
    pub fn savepoint(&self) -> Savepoint {
        Savepoint {
            ops: self.ops.len(),
            meta: self.meta.clone(),
        }
    }

    /// Undo the quad operations and meta records made since `at` (a statement of a dry run
    /// that failed).  Terms that got ids since then keep them: a name no fact uses is what
    /// a deleted fact leaves too.
    pub fn rollback_to(&mut self, at: Savepoint) {
        self.ops.truncate(at.ops);
        self.meta = at.meta;
        self.normal = None;
    }

    /// Whether committing would change nothing: no quad operation, new term or meta record.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.new_texts.is_empty() && self.meta.is_empty()
    }

    /// Number of recorded quad operations.
    pub fn op_count(&self) -> usize {
        self.ops.len()
    }

    /// The id this delta gave a term of kind `k` (string or entity) with text `text`, if the
    /// term is new here.
    pub fn new_term(&self, k: u8, text: &str) -> Option<Id> {
        let map = if k == super::id::kind::STR {
            &self.new_strings
        } else {
            &self.new_entities
        };
        map.get(text).copied()
    }

    /// Record a term that was given a new id.
    pub(crate) fn record_term(&mut self, id: Id, text: &str) {
        let map = if id.kind() == super::id::kind::STR {
            &mut self.new_strings
        } else {
            &mut self.new_entities
        };
        map.insert(Box::from(text), id);
        self.new_texts.insert(id, Box::from(text));
    }

    /// The text of a term that received its id in this delta (`None` for committed terms).
    pub fn new_text(&self, id: Id) -> Option<&str> {
        self.new_texts.get(&id).map(|b| &**b)
    }

    /// Sorted, deduplicated adds and removes (last operation on a quad wins).
    pub fn normalized(&mut self) -> &Normalized {
        let ops = &self.ops;
        self.normal
            .get_or_insert_with(|| Normalized::of(ops.clone()))
    }

    /// The normalized changes if [`Delta::normalized`] was called since the last change.
    pub fn normal(&self) -> Option<&Normalized> {
        self.normal.as_ref()
    }

    /// Take the normalized changes out (commit consumes them; the operations are sorted in
    /// place rather than copied, which matters for a million-fact import).
    pub(crate) fn take_normalized(&mut self) -> Normalized {
        match self.normal.take() {
            Some(n) => n,
            None => Normalized::of(std::mem::take(&mut self.ops)),
        }
    }
}

impl Normalized {
    fn of(mut ops: Vec<(Tuple, bool)>) -> Normalized {
        // Stable sort keeps the operations on one quad in the order they were made.
        ops.sort_by_key(|a| a.0);
        let mut n = Normalized::default();
        for same_quad in ops.chunk_by(|a, b| a.0 == b.0) {
            if let Some(&(q, add)) = same_quad.last() {
                if add {
                    n.adds.push(q);
                } else {
                    n.removes.push(q);
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::super::id::kind;
    use super::*;

    fn q(n: u64) -> Tuple {
        [
            Id::new(kind::ENTITY, n),
            Id::new(kind::ENTITY, 1),
            Id::new(kind::ENTITY, 2),
            Id::NONE,
        ]
    }

    #[test]
    fn last_operation_wins() {
        let mut d = Delta::new();
        d.add(q(3));
        d.remove(q(3));
        d.add(q(1));
        d.remove(q(2));
        d.add(q(2));
        d.add(q(1));
        let n = d.normalized();
        assert_eq!(n.adds, vec![q(1), q(2)]);
        assert!(n.removes.is_empty() || n.removes == vec![q(3)]);
        assert_eq!(n.removes, vec![q(3)]);
    }
}
