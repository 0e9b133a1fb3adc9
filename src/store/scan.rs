//! Answering a triple pattern from the indexes: one prefix or range scan per pattern.
//!
//! Indexes (all block sets of id tuples):
//! - `SPOG` every assertion `[s, p, o, g]` (`g` = `NONE` without a source);
//! - `POS`  every distinct triple as `[p, o, s]`;
//! - `OSP`  every distinct triple as `[o, s, p]`;
//! - `GSPO` every sourced assertion as `[g, s, p, o]`.
//!
//! Whatever positions a pattern binds, one of them has those positions as a prefix, and a
//! range on the object of a known predicate (`?d in 2020-03`) is a range of `POS`.

use super::blocks::{BlockSet, Scan, TupleCursor};
use super::codec::{Tuple, TupleCodec};
use super::id::Id;
use super::{Normalized, Store};
use crate::error::Result;

/// Which assertions a pattern wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphSel {
    /// Each distinct triple once, whichever sources assert it (`g` reported as `NONE`).
    Any,
    /// Every assertion, with its source (`from ?src`).
    Each,
    /// The assertions of one source (`from aa_2020`); `Id::NONE` means "without a source".
    Is(Id),
}

/// A triple pattern over ids.  `None` positions are free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdPattern {
    /// The subject, or `None` for any.
    pub s: Option<Id>,
    /// The predicate, or `None` for any.
    pub p: Option<Id>,
    /// The object, or `None` for any (see `o_range`).
    pub o: Option<Id>,
    /// Which assertions of a triple to return: see [`GraphSel`].
    pub g: GraphSel,
    /// When `o` is free: only objects in `[lo, hi)` (id order).
    pub o_range: Option<(Id, Id)>,
}

impl IdPattern {
    /// A pattern over triples: each matching triple once ([`GraphSel::Any`]), no object
    /// range.
    pub fn new(s: Option<Id>, p: Option<Id>, o: Option<Id>) -> IdPattern {
        IdPattern {
            s,
            p,
            o,
            g: GraphSel::Any,
            o_range: None,
        }
    }

    fn matches(&self, q: &Tuple) -> bool {
        self.s.is_none_or(|s| s == q[0])
            && self.p.is_none_or(|p| p == q[1])
            && self.o.is_none_or(|o| o == q[2])
            && self.o_range.is_none_or(|(lo, hi)| lo <= q[2] && q[2] < hi)
            && match self.g {
                GraphSel::Is(g) => g == q[3],
                _ => true,
            }
    }
}

/// Index orders: where each of s, p, o, g sits in the index's tuples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Subject, predicate, object, source: every assertion.
    Spog,
    /// Predicate, object, subject: each distinct triple once.
    Pos,
    /// Object, subject, predicate: each distinct triple once.
    Osp,
    /// Source, subject, predicate, object: only assertions that have a source.
    Gspo,
}

impl Order {
    /// Positions in the index tuple of `[s, p, o, g]` (`4` = not stored).
    fn slots(self) -> [usize; 4] {
        match self {
            Order::Spog => [0, 1, 2, 3],
            Order::Pos => [2, 0, 1, 4],
            Order::Osp => [1, 2, 0, 4],
            Order::Gspo => [1, 2, 3, 0],
        }
    }

    /// Index tuple → `[s, p, o, g]`.
    pub fn to_spog(self, e: &Tuple) -> Tuple {
        let sl = self.slots();
        let get = |i: usize| if sl[i] < 4 { e[sl[i]] } else { Id::NONE };
        [get(0), get(1), get(2), get(3)]
    }

    /// `[s, p, o, g]` → index tuple.
    pub fn from_spog(self, q: &Tuple) -> Tuple {
        let mut e = [Id::NONE; 4];
        for (i, &slot) in self.slots().iter().enumerate() {
            if slot < 4 {
                e[slot] = q[i];
            }
        }
        e
    }

    fn arity(self) -> usize {
        match self {
            Order::Spog | Order::Gspo => 4,
            Order::Pos | Order::Osp => 3,
        }
    }
}

/// Scan bounds on `order` for the bound positions of `pat`: the longest prefix of bound
/// components, and the object range when the object comes right after it.
fn bounds(order: Order, pat: &IdPattern) -> (Tuple, Tuple) {
    let g = match pat.g {
        GraphSel::Is(g) => Some(g),
        _ => None,
    };
    let spog = [pat.s, pat.p, pat.o, g];
    let slots = order.slots();
    let mut in_order = [None; 4];
    for (i, &slot) in slots.iter().enumerate() {
        if slot < 4 {
            in_order[slot] = spog[i];
        }
    }
    let arity = order.arity();
    let mut lo = [Id::MIN; 4];
    let mut hi = [Id::MIN; 4];
    let k = in_order[..arity].iter().take_while(|x| x.is_some()).count();
    for i in 0..k {
        lo[i] = in_order[i].unwrap_or(Id::MIN);
        hi[i] = lo[i];
    }
    let o_slot = slots[2];
    match pat.o_range {
        Some((rlo, rhi)) if k == o_slot && k < arity => {
            lo[k] = rlo;
            hi[k] = rhi;
        }
        _ if k == 0 => hi = [Id::MAX; 4],
        _ => hi[k - 1] = hi[k - 1].successor(),
    }
    (lo, hi)
}

/// Distinct triples or assertions matching a pattern, as `[s, p, o, g]`.
pub struct QuadIter<'a> {
    store: &'a Store,
    scan: Scan<'a, 'a, TupleCodec>,
    order: Order,
    pat: IdPattern,
    /// Scanning SPOG for distinct triples: skip repeats of the same `[s, p, o]`.
    dedup: bool,
    last: Option<[Id; 3]>,
    /// Expand each distinct triple into its assertions (a `from ?src` pattern without a
    /// bound subject).
    expand: bool,
    pending: Vec<Tuple>,
}

impl Store {
    /// The triples (or assertions) matching `pat`.
    pub fn quads(&self, pat: &IdPattern) -> Result<QuadIter<'_>> {
        let Access {
            order,
            dedup,
            expand,
        } = Access::of(pat);
        let (lo, hi) = bounds(order, pat);
        let scan = self.index(order).scan(&self.kv, &lo, &hi)?;
        Ok(QuadIter {
            store: self,
            scan,
            order,
            pat: *pat,
            dedup,
            last: None,
            expand,
            pending: Vec::new(),
        })
    }

    /// Every assertion as `[s, p, o, g]`, in ascending `(g, s, p, o)` order: those without
    /// a source first (from SPOG), then the sourced ones (from GSPO).  Streamed from the
    /// indexes block by block; the caller holds the read gate while it iterates.
    pub fn assertions(&self) -> impl Iterator<Item = Result<Tuple>> + '_ {
        let unsourced = self
            .spog
            .all(&self.kv)
            .filter(|q| q.as_ref().map_or(true, |q| q[3].is_none()));
        let sourced = self
            .gspo
            .all(&self.kv)
            .map(|e| e.map(|e| Order::Gspo.to_spog(&e)));
        unsourced.chain(sourced)
    }

    /// About how many index entries match `pat` (stored facts; each source's assertion of
    /// a triple counts when the pattern asks for sources).  Cheap: block headers, at most
    /// a few thousand blocks.  For the planner.
    pub fn estimate(&self, pat: &IdPattern) -> Result<u64> {
        let order = Access::of(pat).order;
        let (lo, hi) = bounds(order, pat);
        self.index(order).approx_count(&self.kv, &lo, &hi, 4096)
    }

    /// The index stored in `order`.
    fn index(&self, order: Order) -> &BlockSet<TupleCodec> {
        match order {
            Order::Spog => &self.spog,
            Order::Pos => &self.pos,
            Order::Osp => &self.osp,
            Order::Gspo => &self.gspo,
        }
    }

    /// The matches of `pat`, appended to `out`, found through `probe`'s cursors: lookups
    /// in ascending order (an index nested loop fed by a sorted scan) reuse the block they
    /// are in instead of descending the tree again.  Returns `false` (and adds nothing)
    /// for patterns it does not handle (a source asked of every triple), which go through
    /// [`Store::quads`].
    pub fn probe<'s>(
        &'s self,
        probe: &mut Probe<'s>,
        pat: &IdPattern,
        out: &mut Vec<Tuple>,
    ) -> Result<bool> {
        let Access {
            order,
            dedup,
            expand,
        } = Access::of(pat);
        if expand {
            return Ok(false);
        }
        let (lo, hi) = bounds(order, pat);
        let slot = match order {
            Order::Spog => &mut probe.spog,
            Order::Pos => &mut probe.pos,
            Order::Osp => &mut probe.osp,
            Order::Gspo => &mut probe.gspo,
        };
        let cursor = slot.get_or_insert_with(|| TupleCursor::new(self.index(order), &self.kv));
        probe.buf.clear();
        // Lookups are small; a large range is streamed by the caller instead, so that a
        // consumer that stops early (an existence check) does not pay for all of it.
        if !cursor.range_into(&lo, &hi, PROBE_LIMIT, &mut probe.buf)? {
            return Ok(false);
        }
        let mut last: Option<[Id; 3]> = None;
        for e in &probe.buf {
            let mut q = order.to_spog(e);
            if !pat.matches(&q) {
                continue;
            }
            if dedup {
                let t = [q[0], q[1], q[2]];
                if last == Some(t) {
                    continue;
                }
                last = Some(t);
                q[3] = Id::NONE;
            }
            out.push(q);
        }
        Ok(true)
    }

    /// Like [`Store::quads`], as the pending changes of a transaction would leave them.
    pub fn quads_with<'s>(
        &'s self,
        pat: &IdPattern,
        overlay: Option<&'s Normalized>,
    ) -> Result<Box<dyn Iterator<Item = Result<Tuple>> + 's>> {
        let Some(n) = overlay.filter(|n| !n.adds.is_empty() || !n.removes.is_empty()) else {
            return Ok(Box::new(self.quads(pat)?));
        };
        let pat = *pat;
        let removed = |q: &Tuple| n.removes.binary_search(q).is_ok();
        let triple_removes = |t: &Tuple| {
            let lo = n.removes.partition_point(|r| r[..3] < t[..3]);
            n.removes.get(lo).is_some_and(|r| r[..3] == t[..3])
        };
        // What the rows are: distinct triples (source NONE) or assertions.
        let row = |q: &Tuple| match pat.g {
            GraphSel::Any => [q[0], q[1], q[2], Id::NONE],
            _ => *q,
        };
        let mut out: Vec<Result<Tuple>> = Vec::new();
        let mut from_store: Vec<Tuple> = Vec::new();
        for q in self.quads(&pat)? {
            let q = q?;
            let alive = match pat.g {
                GraphSel::Any if triple_removes(&q) => {
                    // Still there if some assertion survives or is added.
                    let all = IdPattern {
                        s: Some(q[0]),
                        p: Some(q[1]),
                        o: Some(q[2]),
                        g: GraphSel::Each,
                        o_range: None,
                    };
                    let mut alive = false;
                    for x in self.quads(&all)? {
                        if !removed(&x?) {
                            alive = true;
                            break;
                        }
                    }
                    let lo = n.adds.partition_point(|a| a[..3] < q[..3]);
                    alive || n.adds.get(lo).is_some_and(|a| a[..3] == q[..3])
                }
                GraphSel::Any => true,
                _ => !removed(&q),
            };
            if alive {
                from_store.push(row(&q));
                out.push(Ok(q));
            }
        }
        // Adds of what is stored were yielded above (an add keeps its triple alive);
        // adds are sorted, so the assertions of one new triple are neighbours.
        from_store.sort_unstable();
        let mut last = None;
        for a in n.adds.iter().filter(|a| pat.matches(a)) {
            let r = row(a);
            if last == Some(r) || from_store.binary_search(&r).is_ok() {
                continue;
            }
            last = Some(r);
            out.push(Ok(r));
        }
        Ok(Box::new(out.into_iter()))
    }

    /// Whether at least one triple matches.
    pub fn any(&self, pat: &IdPattern) -> Result<bool> {
        Ok(self.quads(pat)?.next().transpose()?.is_some())
    }
}

/// Matches one [`Store::probe`] collects before handing the lookup back to a scan.
const PROBE_LIMIT: usize = 64;

/// Cursors kept between lookups of one plan step (see [`Store::probe`]).
#[derive(Default)]
pub struct Probe<'s> {
    spog: Option<TupleCursor<'s>>,
    pos: Option<TupleCursor<'s>>,
    osp: Option<TupleCursor<'s>>,
    gspo: Option<TupleCursor<'s>>,
    buf: Vec<Tuple>,
}

/// How a pattern is read from the indexes.
struct Access {
    /// The index scanned.
    order: Order,
    /// Scanning SPOG for distinct triples: skip repeats of the same `[s, p, o]`.
    dedup: bool,
    /// Each distinct triple found is expanded into its assertions (a source asked of
    /// triples scanned without their subject).
    expand: bool,
}

impl Access {
    fn of(pat: &IdPattern) -> Access {
        let (order, dedup, expand) = match pat.g {
            GraphSel::Is(g) if g.is_some() => (Order::Gspo, false, false),
            GraphSel::Is(_) | GraphSel::Each => {
                if pat.s.is_some() {
                    (Order::Spog, false, false)
                } else {
                    (triple_order(pat), false, true)
                }
            }
            GraphSel::Any => {
                if pat.s.is_some() {
                    if pat.o.is_some() && pat.p.is_none() {
                        (Order::Osp, false, false)
                    } else {
                        (Order::Spog, true, false)
                    }
                } else {
                    (triple_order(pat), false, false)
                }
            }
        };
        Access {
            order,
            dedup,
            expand,
        }
    }
}

fn triple_order(pat: &IdPattern) -> Order {
    if pat.p.is_some() || pat.o.is_none() {
        Order::Pos
    } else {
        Order::Osp
    }
}

impl Iterator for QuadIter<'_> {
    type Item = Result<Tuple>;

    fn next(&mut self) -> Option<Result<Tuple>> {
        loop {
            if let Some(q) = self.pending.pop() {
                if self.pat.matches(&q) {
                    return Some(Ok(q));
                }
                continue;
            }
            let e = match self.scan.next()? {
                Ok(e) => e,
                Err(e) => return Some(Err(e)),
            };
            let mut q = self.order.to_spog(&e);
            if self.expand {
                // A distinct triple: fetch its assertions.
                let t = IdPattern {
                    s: Some(q[0]),
                    p: Some(q[1]),
                    o: Some(q[2]),
                    g: GraphSel::Each,
                    o_range: None,
                };
                let (lo, hi) = bounds(Order::Spog, &t);
                let scan = match self.store.spog.scan(&self.store.kv, &lo, &hi) {
                    Ok(s) => s,
                    Err(e) => return Some(Err(e)),
                };
                for r in scan {
                    match r {
                        Ok(x) => self.pending.push(x),
                        Err(e) => return Some(Err(e)),
                    }
                }
                self.pending.reverse();
                continue;
            }
            if !self.pat.matches(&q) {
                continue;
            }
            if self.dedup {
                let t = [q[0], q[1], q[2]];
                if self.last == Some(t) {
                    continue;
                }
                self.last = Some(t);
                q[3] = Id::NONE;
            }
            return Some(Ok(q));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::id::kind;
    use super::*;

    #[test]
    fn permutations_invert() {
        let q = [
            Id::new(kind::ENTITY, 1),
            Id::new(kind::ENTITY, 2),
            Id::int(3),
            Id::new(kind::ENTITY, 4),
        ];
        for o in [Order::Spog, Order::Gspo] {
            assert_eq!(o.to_spog(&o.from_spog(&q)), q);
        }
        for o in [Order::Pos, Order::Osp] {
            let t = [q[0], q[1], q[2], Id::NONE];
            assert_eq!(o.to_spog(&o.from_spog(&t)), t);
        }
    }

    #[test]
    fn bounds_use_the_longest_prefix_and_the_object_range() {
        let p = Id::new(kind::ENTITY, 9);
        let (lo, hi) = (Id::int(1), Id::int(5));
        let pat = IdPattern {
            s: None,
            p: Some(p),
            o: None,
            g: GraphSel::Any,
            o_range: Some((lo, hi)),
        };
        assert_eq!(
            bounds(Order::Pos, &pat),
            ([p, lo, Id::MIN, Id::MIN], [p, hi, Id::MIN, Id::MIN])
        );
        let pat = IdPattern::new(None, Some(p), None);
        assert_eq!(
            bounds(Order::Pos, &pat),
            (
                [p, Id::MIN, Id::MIN, Id::MIN],
                [p.successor(), Id::MIN, Id::MIN, Id::MIN]
            )
        );
        assert_eq!(
            bounds(Order::Pos, &IdPattern::new(None, None, None)).1,
            [Id::MAX; 4]
        );
    }
}
