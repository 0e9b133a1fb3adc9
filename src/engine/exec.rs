//! The executor: runs a plan as nested loops over one row of bindings.
//!
//! Each step extends the row and calls the rest of the plan for every extension, then
//! restores what it bound.  Nothing is materialized except hash tables of hash joins and
//! hashed `not`s (built once per query); the final sink decides what to keep, and returning
//! `false` from it stops everything (so `limit 10` on a huge result stops early).

use super::budget::row_bytes;
use super::compile::Context;
use super::derived::Derived;
use super::expr::Eval;
use super::finish::RowSet;
use super::ir::{range_options, GTerm, PTerm, Pattern, Slot};
use super::plan::{Plan, Step, StepKind, Switch, TextScan, SORT_BATCH};
use crate::error::{Error, Result};
use crate::store::{GraphSel, Id, IdPattern, Probe};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

pub use super::interrupt::{Interrupt, Pacer};

/// What `explain analyze` measures per step.
#[derive(Debug, Clone, Copy, Default)]
pub struct StepProfile {
    pub rows: u64,
    pub calls: u64,
    /// A lookup that ran as a hash join (see `Switch`).
    pub hashed: bool,
    /// Time spent in this step and everything after it.
    pub inclusive: Duration,
}

/// A hash join's table: each key's quads chained through one vector (no allocation per
/// key): `heads[key]` is the index of the last quad of that key, each entry links to the
/// previous one (`u32::MAX` ends the chain).
struct HashTable {
    /// Heads of the chains: by one id for a single join variable (most joins), by up to
    /// three otherwise.
    one: FxHashMap<Id, u32>,
    many: FxHashMap<[Id; 3], u32>,
    entries: Vec<([Id; 4], u32)>,
    /// A semi-join: only the keys matter (entries hold one placeholder).
    semi: bool,
    /// One join variable: keys go in `one`, else in `many`.
    single: bool,
}

/// A hash table key: the values at `at` (at most three of them) in `values`, in their
/// canonical form, so that numbers `=` equates (`5`, `5.0`) meet.
fn join_key(at: &[usize], values: &[Id]) -> [Id; 3] {
    let mut key = [Id::NONE; 3];
    for (k, i) in key.iter_mut().zip(at) {
        *k = values[*i].canonical();
    }
    key
}

impl HashTable {
    fn with_capacity(n: usize, semi: bool, single: bool) -> HashTable {
        let (mut one, mut many) = (FxHashMap::default(), FxHashMap::default());
        if single {
            one.reserve(n);
        } else {
            many.reserve(n);
        }
        let entries = if semi {
            vec![([Id::NONE; 4], u32::MAX)]
        } else {
            Vec::with_capacity(n)
        };
        HashTable {
            one,
            many,
            entries,
            semi,
            single,
        }
    }

    fn insert(&mut self, key: [Id; 3], q: [Id; 4]) {
        let i = if self.semi {
            0
        } else {
            self.entries.len() as u32
        };
        let prev = if self.single {
            self.one.insert(key[0], i)
        } else {
            self.many.insert(key, i)
        };
        if !self.semi {
            self.entries.push((q, prev.unwrap_or(u32::MAX)));
        }
    }

    fn get(&self, key: &[Id; 3]) -> impl Iterator<Item = &[Id; 4]> {
        let head = if self.single {
            self.one.get(&key[0])
        } else {
            self.many.get(key)
        };
        let mut at = head.copied().unwrap_or(u32::MAX);
        std::iter::from_fn(move || {
            let (q, next) = self.entries.get(at as usize)?;
            at = *next;
            Some(q)
        })
    }
}

pub struct Exec<'e, 'a> {
    pub cx: &'e Context<'a>,
    pub ev: &'e Eval<'a>,
    pub derived: &'e Derived,
    tables: RefCell<FxHashMap<usize, Rc<HashTable>>>,
    /// The grouped facts of each pairs step.
    groups: RefCell<FxHashMap<usize, Rc<Groups>>>,
    sets: RefCell<FxHashMap<usize, Rc<RowSet>>>,
    pub profile: Option<RefCell<FxHashMap<usize, StepProfile>>>,
    /// Checks the interrupt every so many rows.
    pacer: Pacer<'e>,
    /// Each step's index cursors, kept between its lookups.
    probes: RefCell<FxHashMap<usize, Probe<'a>>>,
    /// A buffer for one lookup's matches (reused).
    found: RefCell<Vec<[Id; 4]>>,
    /// The key of a hashed `not`, built per row without allocating.
    key_buf: RefCell<Vec<Id>>,
    /// By lookup step with a [`Switch`]: the rows that reach it.
    lookups: RefCell<FxHashMap<usize, LookupCount>>,
    /// Each text scan's object ranges (the terms that pass its filter), found once.
    text_ranges: RefCell<FxHashMap<usize, Rc<ObjectRanges>>>,
}

/// Bytes a hash table holds per entry: the quad and its chain link, and the key's slot.
const TABLE_ENTRY_BYTES: u64 = 40 + 24;

/// Object ranges `[lo, hi)` of a scan.
type ObjectRanges = Vec<(Id, Id)>;

/// Facts of a pairs step as (shared value, other value), grouped by the shared value.
type Groups = Vec<(Id, Id)>;

/// The step id of scans that are not plan steps (hash table builds).
const NO_STEP: usize = usize::MAX;

/// Keys of the cursors shared by the lookups of one subject variable: this plus its slot
/// (far above any step id).
const SUBJECT_CURSORS: usize = usize::MAX / 2;

/// Where a plan's solutions go; returning `false` stops the query.
pub type Sink<'s> = dyn FnMut(&mut Vec<Id>) -> Result<bool> + 's;

/// A position of a pattern, resolved against the current row.
#[derive(Clone, Copy)]
enum Res<'p> {
    Bound(Id),
    Set(&'p [Id]),
    Free(Slot),
    Any,
}

/// A pattern resolved against the current row: the positions a match binds.
#[derive(Clone, Copy)]
struct Target<'p> {
    pat: &'p Pattern,
    s: Res<'p>,
    p: Res<'p>,
    o: Res<'p>,
    /// `?x a ?t` also continues with every supertype of the stated type.
    infer: bool,
}

/// A hash join step's pattern, the object ranges of its build scan, its key slots and the
/// rows the planner expects the table to hold.
#[derive(Clone, Copy)]
struct Join<'p> {
    pat: &'p Pattern,
    ranges: &'p [(Id, Id)],
    keys: &'p [Slot],
    build_rows: usize,
}

/// Where a step's matches go: the row they bind into, the bindings to undo before the
/// next match, and the rest of the plan.
struct Out<'r, 'n, 's> {
    row: &'r mut Vec<Id>,
    saved: SavedSlots,
    next: &'n mut Sink<'s>,
}

impl Out<'_, '_, '_> {
    /// Undo the last match's bindings (when the step is done with the row).
    fn restore(&mut self) {
        self.saved.restore(self.row);
    }
}

impl<'e, 'a> Exec<'e, 'a> {
    pub fn new(
        cx: &'e Context<'a>,
        ev: &'e Eval<'a>,
        derived: &'e Derived,
        interrupt: &'e Interrupt,
        profile: bool,
    ) -> Self {
        Exec {
            cx,
            ev,
            derived,
            tables: RefCell::default(),
            groups: RefCell::default(),
            sets: RefCell::default(),
            profile: profile.then(RefCell::default),
            pacer: Pacer::new(interrupt),
            probes: RefCell::default(),
            found: RefCell::default(),
            key_buf: RefCell::default(),
            lookups: RefCell::default(),
            text_ranges: RefCell::default(),
        }
    }

    /// Run `plan` from `row`, calling `sink` with every solution.
    pub fn run(&self, plan: &Plan, row: &mut Vec<Id>, sink: &mut Sink<'_>) -> Result<bool> {
        let mut stages = Stages::default();
        let mut from = 0;
        for (i, step) in plan.steps.iter().enumerate() {
            if let StepKind::Sort { by } = &step.kind {
                stages.sorts.push(SortStage {
                    id: step.id,
                    by: *by,
                    batch: RefCell::default(),
                });
                stages.heads.push(&plan.steps[from..i]);
                from = i + 1;
            }
        }
        if stages.sorts.is_empty() {
            return self.steps(&plan.steps, row, sink);
        }
        stages.heads.push(&plan.steps[from..]);
        stages.width = row.len();
        let head = stages.heads[0];
        if !self.steps(head, row, &mut |r| self.to_sort(&stages, 0, r, sink))? {
            return Ok(false);
        }
        // What is still held, sort by sort: each flush may fill the next.
        for k in 0..stages.sorts.len() {
            if !self.flush_sort(&stages, k, sink)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Hold `row` for sort `k`, running the steps after it on the batch once it is full.
    fn to_sort(
        &self,
        stages: &Stages<'_>,
        k: usize,
        row: &mut Vec<Id>,
        sink: &mut Sink<'_>,
    ) -> Result<bool> {
        let full = {
            let Some(sort) = stages.sorts.get(k) else {
                return sink(row);
            };
            let mut batch = sort.batch.borrow_mut();
            batch.extend_from_slice(row);
            batch.len() >= SORT_BATCH * stages.width.max(1)
        };
        if full {
            return self.flush_sort(stages, k, sink);
        }
        Ok(true)
    }

    /// Run the steps after sort `k` on the rows it holds, in the order of its slot (up to
    /// the next sort, which holds what they yield; the last runs into `sink`).
    fn flush_sort(&self, stages: &Stages<'_>, k: usize, sink: &mut Sink<'_>) -> Result<bool> {
        let Some(sort) = stages.sorts.get(k) else {
            return Ok(true);
        };
        let batch = std::mem::take(&mut *sort.batch.borrow_mut());
        let width = stages.width;
        let n = batch.len().checked_div(width).unwrap_or(0);
        if n == 0 {
            return Ok(true);
        }
        let start = Instant::now();
        let stage = stages.heads.get(k + 1).copied().unwrap_or_default();
        // The whole batch goes to the lookup after the sort: decide on all of it up
        // front.  Run as a hash join, it needs no order.
        let hashed = match stage.first() {
            Some(Step {
                id,
                kind:
                    StepKind::Scan {
                        switch: Some(switch),
                        ..
                    },
                ..
            }) => self.count_lookups(*id, switch, 0, n),
            _ => false,
        };
        // Sort (key, row number) pairs: one flat comparison each.
        let mut order: Vec<(u128, u32)> = (0..n)
            .map(|i| {
                let id = batch[i * width + sort.by];
                (
                    (u128::from(id.kind()) << 64) | u128::from(id.raw()),
                    i as u32,
                )
            })
            .collect();
        if !hashed {
            order.sort_unstable();
        }
        let mut row = vec![Id::NONE; width];
        let mut cont = true;
        for (_, i) in order {
            let at = i as usize * width;
            row.copy_from_slice(&batch[at..at + width]);
            if !self.steps(stage, &mut row, &mut |r| {
                self.to_sort(stages, k + 1, r, sink)
            })? {
                cont = false;
                break;
            }
        }
        if let Some(profile) = &self.profile {
            let mut p = profile.borrow_mut();
            let e = p.entry(sort.id).or_default();
            e.calls += 1;
            e.rows += n as u64;
            e.inclusive += start.elapsed();
        }
        Ok(cont)
    }

    fn tick(&self) -> Result<()> {
        self.pacer.tick()
    }

    fn steps(&self, steps: &[Step], row: &mut Vec<Id>, sink: &mut Sink<'_>) -> Result<bool> {
        let Some((step, rest)) = steps.split_first() else {
            return sink(row);
        };
        self.tick()?;
        let Some(profile) = &self.profile else {
            return self.step(step, row, &mut |r| self.steps(rest, r, sink));
        };
        let start = Instant::now();
        let mut rows = 0u64;
        let r = self.step(step, row, &mut |r| {
            rows += 1;
            self.steps(rest, r, sink)
        });
        let mut p = profile.borrow_mut();
        let e = p.entry(step.id).or_default();
        e.calls += 1;
        e.rows += rows;
        e.inclusive += start.elapsed();
        r
    }

    /// Run one step; `next` continues with each extended row (the rest of the plan).
    fn step(&self, step: &Step, row: &mut Vec<Id>, next: &mut Sink<'_>) -> Result<bool> {
        match &step.kind {
            StepKind::Scan {
                pat,
                ranges,
                switch,
                text: None,
            } => match switch {
                Some(switch) if self.switched(step.id, switch) => {
                    let join = Join {
                        pat,
                        ranges,
                        keys: &switch.keys,
                        build_rows: switch.build_rows,
                    };
                    self.hash_join(step.id, join, row, next)
                }
                _ => self.scan(step.id, pat, ranges, row, next),
            },
            StepKind::Scan {
                pat, text: Some(t), ..
            } => {
                let ranges = self.text_ranges(step.id, t)?;
                if ranges.is_empty() {
                    return Ok(true);
                }
                self.scan(step.id, pat, &ranges, row, next)
            }
            StepKind::HashJoin {
                pat,
                ranges,
                text,
                keys,
                build_rows,
            } => {
                let found;
                let ranges = match text {
                    Some(t) => {
                        found = self.text_ranges(step.id, t)?;
                        if found.is_empty() {
                            return Ok(true);
                        }
                        &found[..]
                    }
                    None => &ranges[..],
                };
                let join = Join {
                    pat,
                    ranges,
                    keys,
                    build_rows: *build_rows,
                };
                self.hash_join(step.id, join, row, next)
            }
            StepKind::Filter(f) => {
                if self.ev.test(&f.ex, row, &[])? {
                    next(row)
                } else {
                    Ok(true)
                }
            }
            StepKind::NotExists { plan, keys, hashed } => {
                let exists = if *hashed {
                    let set = self.solution_set(step.id, plan, keys, row.len())?;
                    let mut key = self.key_buf.borrow_mut();
                    key.clear();
                    // The set compares numbers by value: 5 meets a solution with 5.0.
                    key.extend(keys.iter().map(|&k| row[k]));
                    set.contains(&key)
                } else {
                    !self.steps(&plan.steps, row, &mut |_| Ok(false))?
                };
                if exists {
                    Ok(true)
                } else {
                    next(row)
                }
            }
            StepKind::Optional { plan } => {
                let mut any = false;
                let cont = self.steps(&plan.steps, row, &mut |r| {
                    any = true;
                    next(r)
                })?;
                if !cont {
                    return Ok(false);
                }
                if any {
                    Ok(true)
                } else {
                    next(row)
                }
            }
            StepKind::Union { branches } => {
                for b in branches {
                    if !self.steps(&b.steps, row, next)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            StepKind::Nothing { .. } => Ok(true),
            // Sorting is done by `run`; anywhere else a sort keeps the order.
            StepKind::Sort { .. } => next(row),
            StepKind::Pairs {
                first,
                second,
                key,
                by_subject,
            } => self.pairs(step.id, first, second, *key, *by_subject, row, next),
        }
    }

    /// Whether lookup step `id` runs as a hash join now: once the rows that reached it
    /// would have cost less that way (see [`Switch`]).
    fn switched(&self, id: usize, switch: &Switch) -> bool {
        self.count_lookups(id, switch, 1, 0)
    }

    /// Count rows reaching lookup `id`: `seen` more as they come, or `announced` more at
    /// once (a sort's batch, before any of them is looked up); whether it runs as a hash
    /// join now.
    fn count_lookups(&self, id: usize, switch: &Switch, seen: usize, announced: usize) -> bool {
        let mut counts = self.lookups.borrow_mut();
        let c = counts.entry(id).or_default();
        if !c.hashed {
            c.seen += seen;
            c.announced += announced;
            if switch.hash_is_cheaper(c.seen.max(c.announced)) {
                c.hashed = true;
                if let Some(profile) = &self.profile {
                    profile.borrow_mut().entry(id).or_default().hashed = true;
                }
            }
        }
        c.hashed
    }

    /// The object ranges of a text scan: the candidate terms of the text index that pass
    /// the filter, consecutive ids merged into one range.  Found on the step's first run.
    fn text_ranges(&self, id: usize, t: &TextScan) -> Result<Rc<ObjectRanges>> {
        if let Some(r) = self.text_ranges.borrow().get(&id) {
            return Ok(r.clone());
        }
        let candidates = self
            .cx
            .store
            .text_candidates(&t.query, self.cx.delta)?
            .ok_or_else(|| Error::Storage("a text scan without an index query".into()))?;
        self.ev.preload(&candidates)?;
        let mut row = vec![Id::NONE; t.slot + 1];
        let mut ranges: Vec<(Id, Id)> = Vec::new();
        for id in candidates {
            self.tick()?;
            row[t.slot] = id;
            if !self.ev.test(&t.filter.ex, &row, &[])? {
                continue;
            }
            match ranges.last_mut() {
                Some(last) if last.1 == id => last.1 = id.successor(),
                _ => ranges.push((id, id.successor())),
            }
        }
        let ranges = Rc::new(ranges);
        self.text_ranges.borrow_mut().insert(id, ranges.clone());
        Ok(ranges)
    }

    /// The solutions of an independent sub-plan, projected on `keys` (hashed `not`).
    fn solution_set(
        &self,
        id: usize,
        plan: &Plan,
        keys: &[Slot],
        width: usize,
    ) -> Result<Rc<RowSet>> {
        if let Some(s) = self.sets.borrow().get(&id) {
            return Ok(s.clone());
        }
        let mut set = RowSet::new(keys.len());
        let mut row = vec![Id::NONE; width];
        let mut key = Vec::with_capacity(keys.len());
        self.run(plan, &mut row, &mut |r| {
            key.clear();
            key.extend(keys.iter().map(|&k| r[k]));
            if set.insert(&key).1 {
                self.cx.budget.charge(row_bytes(keys.len()))?;
            }
            Ok(true)
        })?;
        let set = Rc::new(set);
        self.sets.borrow_mut().insert(id, set.clone());
        Ok(set)
    }

    fn resolve<'p>(&self, t: &'p PTerm, row: &[Id]) -> Option<Res<'p>> {
        Some(match t {
            PTerm::Var(s) => {
                let v = row[*s];
                if v.is_some() {
                    Res::Bound(v)
                } else {
                    Res::Free(*s)
                }
            }
            PTerm::Const(id) => Res::Bound(*id),
            PTerm::OneOf(ids) => Res::Set(ids),
            PTerm::Any => Res::Any,
            PTerm::Never => return None,
        })
    }

    /// Index nested loop: every match of `pat` under the row's bindings.
    fn scan(
        &self,
        step: usize,
        pat: &Pattern,
        ranges: &[(Id, Id)],
        row: &mut Vec<Id>,
        next: &mut Sink<'_>,
    ) -> Result<bool> {
        // A lookup driven by a variable an earlier step bound: small, and usually in
        // ascending order, so it goes through this step's cursors (see `Store::probe`).
        let driven = [&pat.s, &pat.p, &pat.o]
            .iter()
            .any(|t| matches!(t, PTerm::Var(v) if row[*v].is_some()));
        let (Some(s), Some(p), Some(mut o)) = (
            self.resolve(&pat.s, row),
            self.resolve(&pat.p, row),
            self.resolve(&pat.o, row),
        ) else {
            return Ok(true);
        };
        let Some(g) = pat.g.selector(|v| Some(row[v]).filter(|id| id.is_some())) else {
            return Ok(true);
        };
        // A type bound from an earlier step also matches its subtypes.
        if let (Res::Bound(pid), Res::Bound(t)) = (p, o) {
            if Some(pid) == self.cx.type_id {
                if let Some(subs) = self.cx.subtypes.get(&t) {
                    o = Res::Set(subs);
                }
            }
        }
        // A number bound from an earlier step also meets the numbers `=` equates with it
        // (`5` and `5.0`); `emit` keeps the smallest of the forms met.
        let twins = match o {
            Res::Bound(id) if id.is_number() => id.numeric_twins(),
            _ => Default::default(),
        };
        if twins.len() > 1 {
            o = Res::Set(twins.as_slice());
        }
        let bound = |r: Res| match r {
            Res::Bound(id) => Some(id),
            _ => None,
        };
        // Each object to scan for (no allocation per row: this runs for every input row).
        let (set, single) = match o {
            Res::Set(ids) => (ids, None),
            other => (&[][..], Some(bound(other))),
        };
        let t = Target {
            pat,
            s,
            p,
            o,
            infer: pat.infer_supertypes,
        };
        let mut out = Out {
            row,
            saved: SavedSlots::default(),
            next,
        };
        let mut cont = true;
        'outer: for obj in set.iter().map(|i| Some(*i)).chain(single) {
            if pat.stored && !pat.delta_only {
                for o_range in range_options(ranges, obj.is_some()) {
                    let ip = IdPattern {
                        s: bound(s),
                        p: bound(p),
                        o: obj,
                        g,
                        o_range,
                    };
                    if driven
                        && step != NO_STEP
                        && self
                            .cx
                            .delta
                            .and_then(|d| d.normal())
                            .is_none_or(|n| n.adds.is_empty() && n.removes.is_empty())
                    {
                        let mut found = std::mem::take(&mut *self.found.borrow_mut());
                        found.clear();
                        // Lookups of one subject's facts (`?e date ?d`, `?e party ?x`: its
                        // run of `SPOG`) share a cursor across steps, so the steps of a
                        // star read each subject's block once.
                        let key = match (&pat.s, ip.s, ip.o, ip.g) {
                            (PTerm::Var(slot), Some(_), None, GraphSel::Any) => {
                                SUBJECT_CURSORS + *slot
                            }
                            _ => step,
                        };
                        let handled = {
                            let mut probes = self.probes.borrow_mut();
                            let probe = probes.entry(key).or_default();
                            self.cx.store.probe(probe, &ip, &mut found)?
                        };
                        if handled {
                            for q in &found {
                                self.tick()?;
                                if !self.emit(&t, q, &mut out)? {
                                    cont = false;
                                    break;
                                }
                            }
                            *self.found.borrow_mut() = found;
                            if !cont {
                                break 'outer;
                            }
                            continue;
                        }
                    }
                    if !self.emit_stored(&ip, None, &t, &mut out)? {
                        cont = false;
                        break 'outer;
                    }
                }
            }
            if pat.derived && g == GraphSel::Any {
                let pairs: Vec<(Id, Id)> = match bound(p) {
                    Some(pid) => vec![(pid, pat.relation_for(pid))],
                    None => match &pat.var_rels {
                        Some(v) => v.clone(),
                        None => self.cx.derived.iter().map(|&d| (d, d)).collect(),
                    },
                };
                for (pid, rid) in pairs {
                    let Some(rel) = self.derived.relation(rid, pat.delta_only) else {
                        continue;
                    };
                    let ok = rel.scan(bound(s), obj, |a, b| {
                        self.tick()?;
                        self.emit(&t, &[a, pid, b, Id::NONE], &mut out)
                    })?;
                    if !ok {
                        cont = false;
                        break 'outer;
                    }
                }
            }
        }
        // A free predicate with a class as object also meets the members of its subtypes
        // (`?x ?p T0` finds `x a T2`, reported as `x a T0`).
        if cont && !matches!(p, Res::Bound(_)) && pat.stored && !pat.delta_only {
            if let (Res::Bound(class), Some(type_id)) = (o, self.cx.type_id) {
                if let Some(subs) = self.cx.subtypes.get(&class) {
                    'subs: for &sub in subs.iter().filter(|t| **t != class) {
                        let ip = IdPattern {
                            s: bound(s),
                            p: Some(type_id),
                            o: Some(sub),
                            g,
                            o_range: None,
                        };
                        if !self.emit_stored(&ip, Some(class), &t, &mut out)? {
                            cont = false;
                            break 'subs;
                        }
                    }
                }
            }
        }
        out.restore();
        Ok(cont)
    }

    /// Emit every stored match of `ip` (reported with `object` in place of the stored
    /// object, when given); false when the consumer stopped.
    fn emit_stored(
        &self,
        ip: &IdPattern,
        object: Option<Id>,
        t: &Target<'_>,
        out: &mut Out<'_, '_, '_>,
    ) -> Result<bool> {
        let pending = self.cx.delta.and_then(|d| d.normal());
        if pending.is_none_or(|n| n.adds.is_empty() && n.removes.is_empty()) {
            // The committed facts only: the store's iterator itself, not a boxed one.
            return self.emit_all(self.cx.store.quads(ip)?, object, t, out);
        }
        self.emit_all(self.cx.store.quads_with(ip, pending)?, object, t, out)
    }

    /// Emit every quad of `quads` (see [`Exec::emit_stored`]).
    fn emit_all(
        &self,
        quads: impl Iterator<Item = Result<[Id; 4]>>,
        object: Option<Id>,
        t: &Target<'_>,
        out: &mut Out<'_, '_, '_>,
    ) -> Result<bool> {
        for q in quads {
            let mut q = q?;
            self.tick()?;
            if let Some(obj) = object {
                q[2] = obj;
            }
            if !self.emit(t, &q, out)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Bind the free positions of the target from quad `q` and continue; for `?x a ?t`
    /// (when the target infers) also continue with every supertype of the stated type.
    fn emit(&self, t: &Target<'_>, q: &[Id; 4], out: &mut Out<'_, '_, '_>) -> Result<bool> {
        let Target {
            pat,
            s,
            p,
            o,
            infer,
        } = *t;
        let Out { row, saved, next } = out;
        saved.restore(row);
        for (r, v) in [(s, q[0]), (p, q[1]), (o, q[2])] {
            if let Res::Free(slot) = r {
                if row[slot].is_some() && !row[slot].same_value(v) {
                    return Ok(true); // the same variable twice in the pattern
                }
                if row[slot].is_none() || v < row[slot] {
                    saved.bind(row, slot, v);
                }
            }
        }
        // A variable bound before that met an equal number of another form (`5.0` for
        // `5`) holds the smallest form for the rest of the row, whatever the plan's order.
        if let PTerm::Var(slot) = pat.o {
            if q[2] < row[slot] && q[2].same_value(row[slot]) {
                saved.bind(row, slot, q[2]);
            }
        }
        if let GTerm::Var(slot) = pat.g {
            if q[3].is_none() || (row[slot].is_some() && row[slot] != q[3]) {
                // No source to bind, or the variable already stands for another value
                // (bound by an earlier position of this pattern).
                return Ok(true);
            }
            saved.bind(row, slot, q[3]);
        }
        if !next(row)? {
            return Ok(false);
        }
        if infer && Some(q[1]) == self.cx.type_id {
            if let (Res::Free(slot), Some(sups)) = (o, self.cx.supertypes.get(&q[2])) {
                for &u in sups {
                    row[slot] = u;
                    if !next(row)? {
                        return Ok(false);
                    }
                }
                row[slot] = q[2];
            }
        }
        Ok(true)
    }

    fn hash_join(
        &self,
        id: usize,
        join: Join<'_>,
        row: &mut Vec<Id>,
        next: &mut Sink<'_>,
    ) -> Result<bool> {
        let table = self.table(id, join, row.len())?;
        let pat = join.pat;
        let (Some(s), Some(p), Some(o)) = (
            self.resolve(&pat.s, row),
            self.resolve(&pat.p, row),
            self.resolve(&pat.o, row),
        ) else {
            return Ok(true);
        };
        let key = join_key(join.keys, row);
        let t = Target {
            pat,
            s,
            p,
            o,
            infer: false,
        };
        let mut out = Out {
            row,
            saved: SavedSlots::default(),
            next,
        };
        let mut cont = true;
        for q in table.get(&key) {
            self.tick()?;
            if !self.emit(&t, q, &mut out)? {
                cont = false;
                break;
            }
        }
        out.restore();
        Ok(cont)
    }

    /// Every pair of facts of `first`'s predicate that share `key` (their subject, or
    /// their object), bound as `first` and `second` (see [`StepKind::Pairs`]).
    #[allow(clippy::too_many_arguments)]
    fn pairs(
        &self,
        id: usize,
        first: &Pattern,
        second: &Pattern,
        key: Slot,
        by_subject: bool,
        row: &mut Vec<Id>,
        next: &mut Sink<'_>,
    ) -> Result<bool> {
        let groups = self.groups(id, first, by_subject)?;
        let other = |p: &Pattern| match if by_subject { &p.o } else { &p.s } {
            PTerm::Var(v) => Some(*v),
            _ => None,
        };
        let (Some(a), Some(b)) = (other(first), other(second)) else {
            return Ok(true);
        };
        let mut at = 0;
        let mut cont = true;
        'groups: while at < groups.len() {
            let k = groups[at].0;
            let end = at + groups[at..].partition_point(|(g, _)| *g == k);
            row[key] = k;
            for &(_, x) in &groups[at..end] {
                row[a] = x;
                for &(_, y) in &groups[at..end] {
                    self.tick()?;
                    row[b] = y;
                    if !next(row)? {
                        cont = false;
                        break 'groups;
                    }
                }
            }
            at = end;
        }
        for s in [key, a, b] {
            row[s] = Id::NONE;
        }
        Ok(cont)
    }

    /// The facts of a pattern's predicate as (shared value, other value), grouped by the
    /// shared value (read once per query).
    fn groups(&self, id: usize, pat: &Pattern, by_subject: bool) -> Result<Rc<Groups>> {
        if let Some(g) = self.groups.borrow().get(&id) {
            return Ok(g.clone());
        }
        let PTerm::Const(p) = pat.p else {
            return Ok(Rc::default());
        };
        let mut facts = Vec::new();
        let pending = self.cx.delta.and_then(|d| d.normal());
        for q in self
            .cx
            .store
            .quads_with(&IdPattern::new(None, Some(p), None), pending)?
        {
            let q = q?;
            self.tick()?;
            facts.push(if by_subject {
                (q[0], q[2])
            } else {
                (q[2], q[0])
            });
        }
        // By object they come grouped already (`POS`), but for pending writes.
        facts.sort_unstable_by_key(|(k, _)| (u128::from(k.kind()) << 64) | u128::from(k.raw()));
        let facts = Rc::new(facts);
        self.groups.borrow_mut().insert(id, facts.clone());
        Ok(facts)
    }

    /// The hash table of a hash join: the pattern's matches with only its constants bound,
    /// keyed by the values of the join variables.
    fn table(&self, id: usize, join: Join<'_>, width: usize) -> Result<Rc<HashTable>> {
        let Join {
            pat,
            ranges,
            keys,
            build_rows,
        } = join;
        if let Some(t) = self.tables.borrow().get(&id) {
            return Ok(t.clone());
        }
        // A pattern that binds nothing but its keys only needs to know which keys exist.
        let semi = pat.vars().iter().all(|v| keys.contains(v));
        let mut table = HashTable::with_capacity(build_rows.min(1 << 22), semi, keys.len() == 1);
        if !self.build_directly(pat, ranges, keys, &mut table)? {
            self.build_by_scan(pat, ranges, keys, width, &mut table)?;
        }
        let t = Rc::new(table);
        self.tables.borrow_mut().insert(id, t.clone());
        Ok(t)
    }

    /// Fill a hash table from a scan of the pattern with only its constants bound (the
    /// general path: type sets, inference, derived facts).
    fn build_by_scan(
        &self,
        pat: &Pattern,
        ranges: &[(Id, Id)],
        keys: &[Slot],
        width: usize,
        table: &mut HashTable,
    ) -> Result<()> {
        let mut row = vec![Id::NONE; width];
        // Built with type inference, so the table already holds `x a U` for every
        // supertype U; probing does not infer again.
        self.scan(NO_STEP, pat, ranges, &mut row, &mut |r| {
            let key = join_key(keys, r);
            let value_at = |t: &PTerm| match t {
                PTerm::Var(s) => r[*s],
                PTerm::Const(id) => *id,
                _ => Id::NONE,
            };
            let g = match pat.g {
                GTerm::Var(s) => r[s],
                _ => Id::NONE,
            };
            // The quad as the pattern saw it; positions that were sets or wildcards are
            // recovered from the variables they bound (or left NONE when not needed).
            table.insert(
                key,
                [value_at(&pat.s), value_at(&pat.p), value_at(&pat.o), g],
            );
            self.cx.budget.charge(TABLE_ENTRY_BYTES)?;
            Ok(true)
        })?;
        Ok(())
    }
}

impl Exec<'_, '_> {
    /// Fill a hash table straight from an index scan when the pattern is plain (stored
    /// facts only, no type sets or inference): no row bindings per entry.  False when the
    /// general path is needed.
    fn build_directly(
        &self,
        pat: &Pattern,
        ranges: &[(Id, Id)],
        keys: &[Slot],
        table: &mut HashTable,
    ) -> Result<bool> {
        let plain = |t: &PTerm| matches!(t, PTerm::Var(_) | PTerm::Const(_) | PTerm::Any);
        if pat.derived
            || pat.infer_supertypes
            || pat.delta_only
            || ![&pat.s, &pat.p, &pat.o].iter().all(|t| plain(t))
            || pat.g == GTerm::Never
        {
            return Ok(false);
        }
        // Where each variable sits (positions 0..4 = s, p, o, g).
        let mut places: Vec<(Slot, usize)> = Vec::new();
        for (i, t) in [&pat.s, &pat.p, &pat.o].into_iter().enumerate() {
            if let PTerm::Var(v) = t {
                places.push((*v, i));
            }
        }
        let Some(g) = pat.g.selector(|_| None) else {
            return Ok(false);
        };
        if let GTerm::Var(v) = pat.g {
            places.push((v, 3));
        }
        let Some(key_at) = keys
            .iter()
            .map(|k| places.iter().find(|(v, _)| v == k).map(|(_, i)| *i))
            .collect::<Option<Vec<usize>>>()
        else {
            return Ok(false);
        };
        // A variable in two places must hold one value.
        let repeats: Vec<(usize, usize)> = places
            .iter()
            .enumerate()
            .flat_map(|(a, (va, ia))| {
                places[a + 1..]
                    .iter()
                    .filter(move |(vb, _)| vb == va)
                    .map(move |(_, ib)| (*ia, *ib))
            })
            .collect();
        let c = |t: &PTerm| match t {
            PTerm::Const(id) => Some(*id),
            _ => None,
        };
        for o_range in range_options(ranges, false) {
            let ip = IdPattern {
                s: c(&pat.s),
                p: c(&pat.p),
                o: c(&pat.o),
                g,
                o_range,
            };
            for q in self
                .cx
                .store
                .quads_with(&ip, self.cx.delta.and_then(|d| d.normal()))?
            {
                let q = q?;
                self.tick()?;
                if g == GraphSel::Each && q[3].is_none() {
                    continue; // `from ?src` needs a source
                }
                if repeats.iter().any(|(a, b)| !q[*a].same_value(q[*b])) {
                    continue;
                }
                let key = join_key(&key_at, &q);
                table.insert(key, q);
                self.cx.budget.charge(TABLE_ENTRY_BYTES)?;
            }
        }
        Ok(true)
    }
}

/// The rows that reach a lookup with a [`Switch`].
#[derive(Default)]
struct LookupCount {
    /// Looked up so far.
    seen: usize,
    /// Held by the sort before it so far (all of them are looked up next).
    announced: usize,
    /// Runs as the hash join now.
    hashed: bool,
}

/// A plan cut at its sort steps: `heads[0]` runs first, `heads[k + 1]` runs on what sort
/// `k` holds, and each feeds the next sort (the last feeds the plan's sink).
#[derive(Default)]
struct Stages<'p> {
    heads: Vec<&'p [Step]>,
    sorts: Vec<SortStage>,
    /// Slots per row.
    width: usize,
}

/// One sort step of a plan, with the rows it holds.
struct SortStage {
    id: usize,
    by: Slot,
    batch: RefCell<Vec<Id>>,
}

/// Slots set by the current match of a step, with what they held before, to undo before
/// the next one.
#[derive(Default)]
struct SavedSlots {
    slots: Vec<(Slot, Id)>,
}

impl SavedSlots {
    fn bind(&mut self, row: &mut [Id], slot: Slot, v: Id) {
        if !self.slots.iter().any(|(s, _)| *s == slot) {
            self.slots.push((slot, row[slot]));
        }
        row[slot] = v;
    }

    fn restore(&mut self, row: &mut [Id]) {
        for (s, old) in self.slots.drain(..) {
            row[s] = old;
        }
    }
}
