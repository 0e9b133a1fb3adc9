//! From body solutions to the result: projection, aggregation with implicit grouping,
//! `having`, set semantics, `order by`, `offset` and `limit`.

use super::budget::{row_bytes, Budget, ENTRY_OVERHEAD};
use super::expr::Eval;
use super::interrupt::{abandon, Pacer};
use super::ir::{Ex, Slot};
use crate::error::{Error, Result};
use crate::lang::ast::{AggFunc, Order};
use crate::model::Value;
use crate::store::{kind, Id};
use hashbrown::HashTable;
use rustc_hash::{FxHashMap, FxHashSet, FxHasher};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

/// One column of the result (visible or hidden).
#[derive(Debug, Clone)]
pub enum Col {
    Slot(Slot),
    Expr(Ex),
    Agg {
        func: AggFunc,
        distinct: bool,
        arg: Option<Ex>,
        /// As written (`sum(?v)`), for errors.
        text: String,
    },
}

impl Col {
    pub fn is_agg(&self) -> bool {
        matches!(self, Col::Agg { .. })
    }
}

/// Everything after the body.
#[derive(Debug, Clone)]
pub struct Shape {
    pub cols: Vec<Col>,
    /// The first `visible` columns are the result; the others only serve order by/having.
    pub visible: usize,
    pub having: Vec<Ex>,
    pub order: Vec<(Ex, Order)>,
    pub offset: u64,
    pub limit: Option<u64>,
    /// All slots the body binds (solutions are distinct over these).
    pub body_slots: Vec<Slot>,
}

impl Shape {
    pub fn aggregated(&self) -> bool {
        self.cols.iter().any(Col::is_agg)
    }

    /// When solutions can be cut short: no sort, no groups, no having.
    pub fn stop_after(&self) -> Option<u64> {
        if self.aggregated() || !self.order.is_empty() || !self.having.is_empty() {
            return None;
        }
        self.limit.map(|l| l.saturating_add(self.offset))
    }
}

/// Fixed-width rows of ids kept once each, in the order they came: the ids in one flat
/// vector, a hash table of row numbers over them (no allocation per row).  Every row a
/// query holds (distinct rows, group keys, solutions seen) is in one of these.
///
/// Rows are one per value under the language's `=` (`5` and `5.0` are one; LANGUAGE.md,
/// "Values and dates"): they are kept by their canonical ids ([`Id::canonical`]), and a
/// row that came with another form shows, per cell, the smallest of the equal ids it met
/// (the integer before the float), so what is shown does not depend on the order rows
/// came in.
pub struct RowSet {
    width: usize,
    ids: Vec<Id>,
    table: HashTable<u32>,
    len: usize,
    /// Rows whose cells are not their canonical ids: the cells to show.
    shown: FxHashMap<u32, Vec<Id>>,
}

/// Row `i` of rows of `width` ids laid end to end.
fn nth_row(ids: &[Id], width: usize, i: u32) -> &[Id] {
    &ids[i as usize * width..(i as usize + 1) * width]
}

fn hash_row(row: &[Id]) -> u64 {
    let mut h = FxHasher::default();
    row.hash(&mut h);
    h.finish()
}

impl RowSet {
    /// An empty set of rows of `width` ids.
    pub fn new(width: usize) -> RowSet {
        RowSet::with_capacity(width, 0)
    }

    /// An empty set with room for `rows` rows.
    pub fn with_capacity(width: usize, rows: usize) -> RowSet {
        RowSet {
            width,
            ids: Vec::with_capacity(rows * width),
            table: HashTable::with_capacity(rows),
            len: 0,
            shown: FxHashMap::default(),
        }
    }

    /// The row's number, and whether it was new.
    pub fn insert(&mut self, row: &[Id]) -> (usize, bool) {
        if row.iter().all(|c| c.canonical() == *c) {
            return self.insert_key(row, None);
        }
        let key: Vec<Id> = row.iter().map(|c| c.canonical()).collect();
        self.insert_key(&key, Some(row))
    }

    /// Insert the canonical `key` of a row whose cells are `cells` (`None`: the key).
    fn insert_key(&mut self, key: &[Id], cells: Option<&[Id]>) -> (usize, bool) {
        let h = hash_row(key);
        let (width, ids) = (self.width, &self.ids);
        if let Some(&i) = self.table.find(h, |&i| nth_row(ids, width, i) == key) {
            // The canonical form is the smallest: only a row shown otherwise can change.
            if let Some(shown) = self.shown.get_mut(&i) {
                for (s, c) in shown.iter_mut().zip(cells.unwrap_or(key)) {
                    *s = (*s).min(*c);
                }
            }
            return (i as usize, false);
        }
        let i = self.len as u32;
        self.ids.extend_from_slice(key);
        self.len += 1;
        if let Some(cells) = cells {
            self.shown.insert(i, cells.to_vec());
        }
        let (width, ids) = (self.width, &self.ids);
        self.table
            .insert_unique(h, i, |&j| hash_row(nth_row(ids, width, j)));
        (i as usize, true)
    }

    /// Whether it holds `row` (or a row of equal values).
    pub fn contains(&self, row: &[Id]) -> bool {
        let key: std::borrow::Cow<'_, [Id]> = if row.iter().all(|c| c.canonical() == *c) {
            row.into()
        } else {
            row.iter().map(|c| c.canonical()).collect::<Vec<_>>().into()
        };
        let (width, ids) = (self.width, &self.ids);
        self.table
            .find(hash_row(&key), |&i| nth_row(ids, width, i) == key.as_ref())
            .is_some()
    }

    /// The ids of every row as shown, laid end to end (the set is left empty).
    pub fn take_shown_ids(&mut self) -> Vec<Id> {
        let mut ids = std::mem::take(&mut self.ids);
        for (i, cells) in self.shown.drain() {
            let at = i as usize * self.width;
            if let Some(row) = ids.get_mut(at..at + self.width) {
                row.copy_from_slice(&cells);
            }
        }
        self.table.clear();
        self.len = 0;
        ids
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Row `i` (in arrival order), as shown.
    pub fn row(&self, i: usize) -> &[Id] {
        match self.shown.get(&(i as u32)) {
            Some(cells) => cells,
            None => nth_row(&self.ids, self.width, i as u32),
        }
    }
}

/// Finished rows: `width` ids each, in one flat vector.
#[derive(Debug, Clone, Default)]
pub struct IdRows {
    pub width: usize,
    pub ids: Vec<Id>,
}

impl IdRows {
    pub fn len(&self) -> usize {
        self.ids.len().checked_div(self.width).unwrap_or(0)
    }

    pub fn rows(&self) -> impl Iterator<Item = &[Id]> {
        self.ids.chunks_exact(self.width.max(1))
    }
}

/// Turns solutions into result rows (as ids; decoded at the very end).
pub struct Collector<'e, 'a> {
    shape: &'e Shape,
    ev: &'e Eval<'a>,
    /// Charged for every solution, row, group and distinct value kept.
    budget: &'e Budget,
    /// Solutions need deduplication before aggregation (the plan may repeat them): they
    /// are kept and aggregated at the end, each showing the smallest form of each number
    /// it met, so that `sum`, `min`… do not depend on which of two equal solutions came
    /// first.
    dedupe_solutions: bool,
    seen_solutions: RowSet,
    /// Distinct rows (without aggregates), in the order they came.
    rows: RowSet,
    /// Each group's key, in the order the groups appeared …
    groups: RowSet,
    /// … and its accumulators, `aggs` per group.
    accs: Vec<Acc>,
    aggs: usize,
    key_buf: Vec<Id>,
}

#[derive(Debug, Clone)]
enum Acc {
    Count(u64),
    CountDistinct(FxHashSet<Id>),
    Min(Option<(Id, Value)>),
    Max(Option<(Id, Value)>),
    Sum {
        int: i128,
        float: f64,
        is_float: bool,
    },
    Avg {
        sum: f64,
        /// The running mean, for when the sum goes past the largest float (the mean of
        /// finite values never does).
        mean: f64,
        n: u64,
    },
}

impl<'e, 'a> Collector<'e, 'a> {
    /// A collector for about `rows` rows (room is made for them up front, up to a
    /// thousand).
    pub fn new(
        shape: &'e Shape,
        ev: &'e Eval<'a>,
        plan_unique: bool,
        rows: f64,
        budget: &'e Budget,
    ) -> Self {
        let aggs = shape.cols.iter().filter(|c| c.is_agg()).count();
        let rows = rows.clamp(0.0, 1024.0) as usize;
        let (rows, groups) = if shape.aggregated() {
            (0, rows)
        } else {
            (rows, 0)
        };
        Collector {
            shape,
            ev,
            budget,
            dedupe_solutions: !plan_unique,
            seen_solutions: RowSet::new(shape.body_slots.len()),
            rows: RowSet::with_capacity(shape.cols.len(), rows),
            groups: RowSet::with_capacity(shape.cols.len() - aggs, groups),
            accs: Vec::new(),
            aggs,
            key_buf: Vec::new(),
        }
    }

    fn cell(&self, col: &Col, row: &[Id]) -> Result<Id> {
        Ok(match col {
            Col::Slot(s) => row.get(*s).copied().unwrap_or(Id::NONE),
            Col::Expr(ex) => match ex {
                Ex::Slot(s) => row.get(*s).copied().unwrap_or(Id::NONE),
                _ => match self.ev.eval(ex, row, &[])? {
                    Some(v) => self.ev.id_of(v),
                    None => Id::NONE,
                },
            },
            Col::Agg { .. } => Id::NONE,
        })
    }

    /// The group of `key` (made when new): its first accumulator's index.
    fn group(&mut self, key: &[Id]) -> Result<usize> {
        let (gi, new) = self.groups.insert(key);
        if new {
            self.accs.extend(new_accs(self.shape));
            self.budget
                .charge(row_bytes(key.len()) + 48 * self.aggs as u64)?;
        }
        Ok(gi * self.aggs)
    }

    /// Take one solution; `false` when enough rows are collected.
    pub fn push(&mut self, row: &[Id]) -> Result<bool> {
        let mut key = std::mem::take(&mut self.key_buf);
        key.clear();
        if self.shape.aggregated() {
            if self.dedupe_solutions {
                key.extend(self.shape.body_slots.iter().map(|&s| row[s]));
                let new = self.seen_solutions.insert(&key).1;
                self.key_buf = key;
                if new {
                    self.budget.charge(row_bytes(self.shape.body_slots.len()))?;
                }
                return Ok(true);
            }
            self.key_buf = key;
            self.accumulate(row)?;
            return Ok(true);
        }
        for c in &self.shape.cols {
            key.push(self.cell(c, row)?);
        }
        let new = self.rows.insert(&key).1;
        self.key_buf = key;
        if !new {
            return Ok(true);
        }
        self.budget.charge(row_bytes(self.shape.cols.len()))?;
        Ok(self
            .shape
            .stop_after()
            .is_none_or(|n| (self.rows.len() as u64) < n))
    }

    /// Add a solution to its group's aggregates.
    fn accumulate(&mut self, row: &[Id]) -> Result<()> {
        let mut key = std::mem::take(&mut self.key_buf);
        key.clear();
        for c in self.shape.cols.iter().filter(|c| !c.is_agg()) {
            key.push(self.cell(c, row)?);
        }
        let first = self.group(&key);
        self.key_buf = key;
        let mut ai = first?;
        for col in &self.shape.cols {
            if let Col::Agg {
                func,
                distinct,
                arg,
                ..
            } = col
            {
                let value = match arg {
                    None => None,
                    Some(Ex::Slot(s)) => Some(row[*s]).filter(|i| i.is_some()),
                    Some(ex) => self.ev.eval(ex, row, &[])?.map(|v| self.ev.id_of(v)),
                };
                let held = update(
                    &mut self.accs[ai],
                    *func,
                    *distinct,
                    arg.is_none(),
                    value,
                    self.ev,
                )?;
                if held {
                    self.budget.charge(16 + ENTRY_OVERHEAD)?;
                }
                ai += 1;
            }
        }
        Ok(())
    }

    /// Give up: what was collected is freed in the background (see [`abandon`]).
    pub fn abandon(self) {
        abandon((self.rows, self.groups, self.seen_solutions, self.accs));
    }

    /// Add `n` solutions to the group of `key` at once (a count pushed into the index scan):
    /// as many pushes of rows binding the group key, each with its aggregated variable
    /// bound.  Only for a shape whose aggregates are all `count`s.
    pub fn add_counted(&mut self, key: &[Id], n: u64) -> Result<()> {
        let first = self.group(key)?;
        for acc in &mut self.accs[first..first + self.aggs] {
            if let Acc::Count(c) = acc {
                *c += n;
            }
        }
        Ok(())
    }

    /// Rows (or groups) collected so far.
    pub fn len(&self) -> usize {
        self.rows.len() + self.groups.len()
    }

    /// The result rows, ordered and cut, as ids (visible columns only).  `pacer` is
    /// ticked per row (and per comparison of the sort), so a time limit or a cancel stops
    /// this phase too.
    pub fn finish(mut self, pacer: &Pacer<'_>) -> Result<IdRows> {
        let shape = self.shape;
        let ev = self.ev;
        let width = shape.cols.len();
        let mut all = if shape.aggregated() {
            if self.seen_solutions.len() > 0 {
                let solutions = std::mem::replace(&mut self.seen_solutions, RowSet::new(0));
                let slots = shape.body_slots.iter().max().map_or(0, |m| m + 1);
                let mut row = vec![Id::NONE; slots];
                for i in 0..solutions.len() {
                    pacer.tick()?;
                    for (&s, c) in shape.body_slots.iter().zip(solutions.row(i)) {
                        row[s] = *c;
                    }
                    self.accumulate(&row)?;
                }
                abandon(solutions);
            }
            if self.groups.len() == 0 && shape.cols.iter().all(Col::is_agg) {
                // No solutions and no groups: one row (`count()` is 0).
                self.group(&[])?;
            }
            let mut ids = Vec::with_capacity(self.groups.len() * width);
            let mut accs = std::mem::take(&mut self.accs).into_iter();
            for g in 0..self.groups.len() {
                if let Err(e) = pacer.tick() {
                    abandon((self.groups, accs, ids));
                    return Err(e);
                }
                let mut key = self.groups.row(g).iter();
                for col in &shape.cols {
                    ids.push(if let Col::Agg { text, .. } = col {
                        accs.next().map_or(Ok(Id::NONE), |a| result(a, ev, text))?
                    } else {
                        key.next().copied().unwrap_or(Id::NONE)
                    });
                }
            }
            IdRows { width, ids }
        } else {
            IdRows {
                width,
                ids: self.rows.take_shown_ids(),
            }
        };
        let hidden = width > shape.visible;
        if shape.having.is_empty()
            && shape.order.is_empty()
            && !hidden
            && shape.offset == 0
            && shape.limit.is_none_or(|l| l >= all.len() as u64)
        {
            return Ok(all);
        }
        // Row numbers, filtered and ordered; the rows stay where they are.
        let mut order: Vec<usize> = (0..all.len()).collect();
        if !shape.having.is_empty() {
            let mut kept = Vec::with_capacity(order.len());
            'rows: for i in order {
                pacer.tick()?;
                let row = &all.ids[i * width..(i + 1) * width];
                for h in &shape.having {
                    if !ev.test(h, &[], row)? {
                        continue 'rows;
                    }
                }
                kept.push(i);
            }
            order = kept;
        }
        if !shape.order.is_empty() {
            order = sort(order, &all, shape, ev, self.budget, pacer)?;
        }
        if hidden {
            // Without the hidden columns rows may repeat: keep one of each (showing the
            // smallest form of each number it met), as far as the cut.
            let want = shape.limit.map(|l| l.saturating_add(shape.offset));
            let mut distinct = RowSet::new(shape.visible);
            for i in order {
                if want.is_some_and(|w| distinct.len() as u64 >= w) {
                    break;
                }
                pacer.tick()?;
                if distinct
                    .insert(&all.ids[i * width..i * width + shape.visible])
                    .1
                {
                    self.budget.charge(row_bytes(shape.visible))?;
                }
            }
            all.ids = Vec::new();
            let mut ids = distinct.take_shown_ids();
            let skip = (shape.offset as usize)
                .saturating_mul(shape.visible)
                .min(ids.len());
            ids.drain(..skip);
            return Ok(IdRows {
                width: shape.visible,
                ids,
            });
        }
        let mut out = Vec::with_capacity(order.len().min(1 << 20) * shape.visible);
        let start = shape.offset;
        let mut taken = 0u64;
        let mut skipped = 0u64;
        for i in order {
            if shape.limit.is_some_and(|l| taken >= l) {
                break;
            }
            pacer.tick()?;
            let row = &all.ids[i * width..i * width + shape.visible];
            if skipped < start {
                skipped += 1;
                continue;
            }
            out.extend_from_slice(row);
            taken += 1;
        }
        all.ids = Vec::new();
        Ok(IdRows {
            width: shape.visible,
            ids: out,
        })
    }
}

/// Fresh accumulators for the aggregates of `shape`, in column order.
fn new_accs(shape: &Shape) -> impl Iterator<Item = Acc> + '_ {
    shape.cols.iter().filter_map(|c| match c {
        Col::Agg { func, distinct, .. } => Some(match (func, distinct) {
            (AggFunc::Count, true) => Acc::CountDistinct(FxHashSet::default()),
            (AggFunc::Count, false) => Acc::Count(0),
            (AggFunc::Min, _) => Acc::Min(None),
            (AggFunc::Max, _) => Acc::Max(None),
            (AggFunc::Sum, _) => Acc::Sum {
                int: 0,
                float: 0.0,
                is_float: false,
            },
            (AggFunc::Avg, _) => Acc::Avg {
                sum: 0.0,
                mean: 0.0,
                n: 0,
            },
        }),
        _ => None,
    })
}

/// Add a value to an accumulator; true when it now holds one more value (a distinct count).
fn update(
    acc: &mut Acc,
    func: AggFunc,
    _distinct: bool,
    solutions: bool,
    value: Option<Id>,
    ev: &Eval<'_>,
) -> Result<bool> {
    match acc {
        Acc::Count(n) => {
            if solutions || value.is_some() {
                *n += 1;
            }
        }
        Acc::CountDistinct(set) => {
            if let Some(v) = value {
                return Ok(set.insert(v.canonical()));
            }
        }
        Acc::Min(cur) | Acc::Max(cur) => {
            if let Some(id) = value {
                let v = ev.value(id)?;
                let better = match cur {
                    None => true,
                    Some((_, c)) => {
                        let o = v.total_cmp(c);
                        if func == AggFunc::Min {
                            o == Ordering::Less
                        } else {
                            o == Ordering::Greater
                        }
                    }
                };
                if better {
                    *cur = Some((id, v));
                }
            }
        }
        Acc::Sum {
            int,
            float,
            is_float,
        } => {
            if let Some(id) = value {
                match ev.value(id)? {
                    Value::Int(i) => *int += i as i128,
                    Value::Float(f) => {
                        *float += f;
                        *is_float = true;
                    }
                    _ => {}
                }
            }
        }
        Acc::Avg { sum, mean, n } => {
            if let Some(id) = value {
                if let Some(x) = ev.value(id)?.as_f64() {
                    *sum += x;
                    *n += 1;
                    *mean += (x - *mean) / *n as f64;
                }
            }
        }
    }
    Ok(false)
}

/// The value of an accumulator.  Floats are finite: a sum beyond the largest float is an
/// error naming the aggregate (`text`), not an infinity.
fn result(acc: Acc, ev: &Eval<'_>, text: &str) -> Result<Id> {
    let finite = |x: f64| -> Result<Id> {
        if x.is_finite() {
            Ok(ev.id_of(Value::Float(x)))
        } else {
            Err(Error::Invalid(format!(
                "{text} is beyond the largest float (about ±1.8e308): floats must be finite"
            )))
        }
    };
    Ok(match acc {
        Acc::Count(n) => Id::int(n as i64),
        Acc::CountDistinct(s) => Id::int(s.len() as i64),
        Acc::Min(v) | Acc::Max(v) => v.map_or(Id::NONE, |(id, _)| id),
        Acc::Sum {
            int,
            float,
            is_float,
        } => {
            if is_float {
                finite(float + int as f64)?
            } else {
                match i64::try_from(int) {
                    Ok(i) => Id::int(i),
                    Err(_) => ev.id_of(Value::Float(int as f64)),
                }
            }
        }
        Acc::Avg { sum, mean, n } => {
            if n == 0 {
                Id::NONE
            } else if sum.is_finite() {
                ev.id_of(Value::Float(sum / n as f64))
            } else {
                finite(mean)?
            }
        }
    })
}

/// A value to order by: integers (counts, mostly) compared without decoding.
enum SortKey {
    Unbound,
    Int(i64),
    Value(Value),
}

fn cmp_keys(a: &SortKey, b: &SortKey) -> Ordering {
    match (a, b) {
        (SortKey::Unbound, SortKey::Unbound) => Ordering::Equal,
        (SortKey::Unbound, _) => Ordering::Less,
        (_, SortKey::Unbound) => Ordering::Greater,
        (SortKey::Int(x), SortKey::Int(y)) => x.cmp(y),
        (SortKey::Int(x), SortKey::Value(v)) => Value::Int(*x).total_cmp(v),
        (SortKey::Value(v), SortKey::Int(y)) => v.total_cmp(&Value::Int(*y)),
        (SortKey::Value(x), SortKey::Value(y)) => x.total_cmp(y),
    }
}

/// Sort row numbers by the order keys: values in the language's total order; unbound
/// sorts first.  A key is computed only for the rows the keys before it leave tied (and,
/// with a limit, only among the rows that can still make the cut): ordering groups by
/// their count, then their name, decodes the names of the tied groups only.
/// `pacer` is ticked per key computed and per comparison: a sort cannot be left halfway,
/// so once interrupted every comparison says "equal", which lets it finish at once, and the
/// interruption is returned after it.
fn sort(
    mut rows: Vec<usize>,
    all: &IdRows,
    shape: &Shape,
    ev: &Eval<'_>,
    budget: &Budget,
    pacer: &Pacer<'_>,
) -> Result<Vec<usize>> {
    // With a limit, only the first `offset + limit` rows need to be in order.
    // (Not with hidden columns: deduplication after the sort may still drop rows.)
    let want = match (shape.limit, shape.cols.len() > shape.visible) {
        (Some(l), false) => Some(shape.offset.saturating_add(l) as usize),
        _ => None,
    };
    let cx = SortCx {
        all,
        shape,
        ev,
        budget,
        pacer,
    };
    refine(&mut rows, 0, want, &cx)?;
    Ok(rows)
}

/// Order `rows` (tied on the keys before `key`) by order key `key` and the ones after it,
/// as far as the first `want` rows.
/// What every level of [`refine`] reads.
struct SortCx<'x, 'e> {
    all: &'x IdRows,
    shape: &'x Shape,
    ev: &'x Eval<'e>,
    budget: &'x Budget,
    pacer: &'x Pacer<'x>,
}

fn refine(rows: &mut [usize], key: usize, want: Option<usize>, cx: &SortCx<'_, '_>) -> Result<()> {
    let SortCx {
        all,
        shape,
        ev,
        budget,
        pacer,
    } = *cx;
    let Some((ex, order)) = shape.order.get(key) else {
        return Ok(());
    };
    if rows.len() < 2 || want == Some(0) {
        return Ok(());
    }
    let width = all.width;
    let mut keyed: Vec<(SortKey, usize)> = Vec::with_capacity(rows.len());
    for &i in rows.iter() {
        pacer.tick()?;
        let row = &all.ids[i * width..(i + 1) * width];
        let id = match ex {
            Ex::Column(c) => row.get(*c).copied(),
            _ => None,
        };
        let k = match id {
            Some(id) if id.kind() == kind::INT => match id.decode_inline() {
                Some(Value::Int(n)) => SortKey::Int(n),
                _ => SortKey::Unbound,
            },
            Some(id) if id.is_none() => SortKey::Unbound,
            _ => match ev.eval(ex, &[], row)? {
                Some(v) => SortKey::Value(v),
                None => SortKey::Unbound,
            },
        };
        // The keys are held while sorting (a long text in every row adds up).
        let text = match &k {
            SortKey::Value(v) => v.text().map_or(0, str::len),
            _ => 0,
        };
        budget.charge(40 + text as u64)?;
        keyed.push((k, i));
    }
    let stopped: RefCell<Option<Error>> = RefCell::new(None);
    let cmp = |a: &(SortKey, usize), b: &(SortKey, usize)| -> Ordering {
        if stopped.borrow().is_some() {
            return Ordering::Equal;
        }
        if let Err(e) = pacer.tick() {
            stopped.replace(Some(e));
            return Ordering::Equal;
        }
        let o = cmp_keys(&a.0, &b.0);
        if *order == Order::Desc {
            o.reverse()
        } else {
            o
        }
    };
    keyed.sort_by(cmp);
    if let Some(e) = stopped.take() {
        abandon(keyed);
        return Err(e);
    }
    for (slot, (_, i)) in rows.iter_mut().zip(&keyed) {
        *slot = *i;
    }
    // Each run of rows tied on this key, as far as the cut, is ordered by the next ones.
    let mut start = 0;
    while start < keyed.len() && want.is_none_or(|w| start < w) {
        let end =
            start + keyed[start..].partition_point(|k| cmp(k, &keyed[start]) == Ordering::Equal);
        if let Some(e) = stopped.take() {
            return Err(e);
        }
        if end - start > 1 {
            let want = want.map(|w| w - start);
            refine(&mut rows[start..end], key + 1, want, cx)?;
        }
        start = end;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::Db;

    fn cells(db: &Db, q: &str) -> Vec<String> {
        db.query(q)
            .expect("runs")
            .values()
            .map(|r| {
                r.iter()
                    .map(|c| c.as_ref().map_or("-".into(), |v| v.to_string()))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect()
    }

    /// Each later key orders only the rows the keys before it leave tied, and with a limit
    /// only as far as the cut: the answer is that of a full sort cut afterwards.
    #[test]
    fn later_keys_break_ties_as_far_as_the_cut() {
        let db = Db::memory().expect("db");
        // Mediators m0..m29; m_i mediates (i % 4) + 1 events: four groups of tied counts.
        let mut facts = String::new();
        for i in 0..30 {
            for e in 0..(i % 4) + 1 {
                facts.push_str(&format!("e{i}x{e} mediator m{i}.\n"));
            }
        }
        db.execute(&facts).expect("facts");
        let all = cells(
            &db,
            "find ?m count(?e) as n where ?e mediator ?m order by n desc, ?m.",
        );
        assert_eq!(all.len(), 30);
        let mut want: Vec<(i64, String)> = (0..30)
            .map(|i| ((i % 4) as i64 + 1, format!("m{i}")))
            .collect();
        want.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let want: Vec<String> = want.iter().map(|(n, m)| format!("{m} {n}")).collect();
        assert_eq!(all, want);
        for (limit, offset) in [(1, 0), (3, 0), (8, 0), (5, 6), (10, 25), (40, 0)] {
            let got = cells(
                &db,
                &format!(
                    "find ?m count(?e) as n where ?e mediator ?m \
                     order by n desc, ?m limit {limit} offset {offset}."
                ),
            );
            let cut: Vec<String> = want.iter().skip(offset).take(limit).cloned().collect();
            assert_eq!(got, cut, "limit {limit} offset {offset}");
        }
        // Ascending first key, descending second.
        let got = cells(
            &db,
            "find ?m count(?e) as n where ?e mediator ?m order by n, ?m desc limit 4.",
        );
        let mut asc: Vec<(i64, String)> = (0..30)
            .map(|i| ((i % 4) as i64 + 1, format!("m{i}")))
            .collect();
        asc.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        let asc: Vec<String> = asc
            .iter()
            .take(4)
            .map(|(n, m)| format!("{m} {n}"))
            .collect();
        assert_eq!(got, asc);
    }
}
