//! From body solutions to the result: projection, aggregation with implicit grouping,
//! `having`, set semantics, `order by`, `offset` and `limit`.

use super::budget::{row_bytes, Budget, ENTRY_OVERHEAD};
use super::expr::Eval;
use super::interrupt::{abandon, Pacer};
use super::ir::{Ex, Slot};
use crate::error::{Error, Result};
use crate::lang::ast::{AggFunc, Order};
use crate::model::Value;
use crate::store::Id;
use rustc_hash::{FxBuildHasher, FxHashSet};
use std::cell::RefCell;
use std::cmp::Ordering;

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

/// Turns solutions into result rows (as ids; decoded at the very end).
pub struct Collector<'e, 'a> {
    shape: &'e Shape,
    ev: &'e Eval<'a>,
    /// Charged for every solution, row, group and distinct value kept.
    budget: &'e Budget,
    /// Solutions need deduplication before aggregation (the plan may repeat them).
    dedupe_solutions: bool,
    /// The distinct solutions (over the body's slots), when they need deduplication: kept
    /// and aggregated at the end, each showing the smallest form of each number it met,
    /// so that `sum`, `min`… do not depend on which of two equal solutions came first.
    solutions: Distinct<()>,
    /// Distinct rows, in the order they came (without aggregates).
    rows: Distinct<()>,
    /// Each group's key and accumulators, in the order the groups appeared.
    groups: Distinct<Vec<Acc>>,
    key_buf: Vec<Id>,
}

type FxIndexMap<K, V> = indexmap::IndexMap<K, V, FxBuildHasher>;

/// Rows (or group keys) kept once per value under the language's `=` (`5` and `5.0` are
/// one; LANGUAGE.md, "Values and dates"): looked up by their canonical ids
/// ([`Id::canonical`]), each showing, per cell, the smallest of the equal ids it met (the
/// integer before the float, `-0.0` before `0.0`), so what is shown does not depend on
/// the order rows came in.
struct Distinct<V> {
    map: FxIndexMap<Vec<Id>, V>,
    /// Entries whose cells are not their canonical ids: the cells to show.
    shown: rustc_hash::FxHashMap<usize, Vec<Id>>,
}

impl<V> Default for Distinct<V> {
    fn default() -> Self {
        Distinct {
            map: FxIndexMap::default(),
            shown: Default::default(),
        }
    }
}

impl<V> Distinct<V> {
    /// The index of the entry of `cells`, creating it with `new()` when there is none
    /// (then `true`).  A row of canonical ids (no float equal to an integer) that is
    /// already there allocates nothing.
    fn entry(&mut self, cells: &[Id], new: impl FnOnce() -> V) -> (usize, bool) {
        let canonical = cells.iter().all(|c| c.canonical() == *c);
        let key: std::borrow::Cow<'_, [Id]> = if canonical {
            cells.into()
        } else {
            cells
                .iter()
                .map(|c| c.canonical())
                .collect::<Vec<_>>()
                .into()
        };
        if let Some(i) = self.map.get_index_of(key.as_ref()) {
            if let Some(shown) = self.shown.get_mut(&i) {
                for (s, c) in shown.iter_mut().zip(cells) {
                    *s = (*s).min(*c);
                }
            }
            return (i, false);
        }
        let i = self.map.insert_full(key.into_owned(), new()).0;
        if !canonical {
            self.shown.insert(i, cells.to_vec());
        }
        (i, true)
    }

    fn len(&self) -> usize {
        self.map.len()
    }

    fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The entries in the order they came: the cells to show, and the value.
    fn into_entries(self) -> impl Iterator<Item = (Vec<Id>, V)> {
        let mut shown = self.shown;
        self.map
            .into_iter()
            .enumerate()
            .map(move |(i, (key, v))| (shown.remove(&i).unwrap_or(key), v))
    }
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
    pub fn new(shape: &'e Shape, ev: &'e Eval<'a>, plan_unique: bool, budget: &'e Budget) -> Self {
        Collector {
            shape,
            ev,
            budget,
            dedupe_solutions: !plan_unique,
            solutions: Distinct::default(),
            rows: Distinct::default(),
            groups: Distinct::default(),
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

    /// Take one solution; `false` when enough rows are collected.
    pub fn push(&mut self, row: &[Id]) -> Result<bool> {
        if self.shape.aggregated() {
            if self.dedupe_solutions {
                let mut key = std::mem::take(&mut self.key_buf);
                key.clear();
                key.extend(self.shape.body_slots.iter().map(|&s| row[s]));
                if self.solutions.entry(&key, || ()).1 {
                    self.budget.charge(row_bytes(key.len()))?;
                }
                self.key_buf = key;
                return Ok(true);
            }
            self.accumulate(row)?;
            return Ok(true);
        }
        let cells: Vec<Id> = self
            .shape
            .cols
            .iter()
            .map(|c| self.cell(c, row))
            .collect::<Result<_>>()?;
        if !self.rows.entry(&cells, || ()).1 {
            return Ok(true);
        }
        self.budget.charge(row_bytes(cells.len()))?;
        Ok(self
            .shape
            .stop_after()
            .is_none_or(|n| (self.rows.len() as u64) < n))
    }

    /// Add a solution to its group's aggregates.
    fn accumulate(&mut self, row: &[Id]) -> Result<()> {
        {
            // The group key is built in a reused buffer and looked up as a slice: a row of
            // an existing group allocates nothing.
            let mut key = std::mem::take(&mut self.key_buf);
            key.clear();
            for c in self.shape.cols.iter().filter(|c| !c.is_agg()) {
                key.push(self.cell(c, row)?);
            }
            let accs = self.shape.cols.iter().filter(|c| c.is_agg()).count();
            let (gi, new) = {
                let Collector { shape, groups, .. } = &mut *self;
                groups.entry(&key, || new_accs(shape))
            };
            if new {
                self.budget
                    .charge(row_bytes(key.len()) + 48 * accs as u64)?;
            }
            self.key_buf = key;
            let mut ai = 0;
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
                    let ev = self.ev;
                    let held = update(
                        &mut self.groups.map[gi][ai],
                        *func,
                        *distinct,
                        arg.is_none(),
                        value,
                        ev,
                    )?;
                    if held {
                        self.budget.charge(16 + ENTRY_OVERHEAD)?;
                    }
                    ai += 1;
                }
            }
        }
        Ok(())
    }

    /// Give up: what was collected is freed in the background (see [`abandon`]).
    pub fn abandon(self) {
        abandon((self.rows, self.groups, self.solutions));
    }

    /// Rows (or groups) collected so far.
    pub fn len(&self) -> usize {
        self.rows.len() + self.groups.len()
    }

    /// The result rows, ordered and cut, as ids (visible columns only).  `pacer` is
    /// ticked per row (and per comparison of the sort), so a time limit or a cancel stops
    /// this phase too.
    pub fn finish(mut self, pacer: &Pacer<'_>) -> Result<Vec<Vec<Id>>> {
        let shape = self.shape;
        let ev = self.ev;
        let mut rows: Vec<Vec<Id>> = if shape.aggregated() {
            let solutions = std::mem::take(&mut self.solutions);
            if !solutions.is_empty() {
                let width = shape.body_slots.iter().max().map_or(0, |m| m + 1);
                let mut row = vec![Id::NONE; width];
                for (cells, ()) in solutions.into_entries() {
                    pacer.tick()?;
                    for (&s, c) in shape.body_slots.iter().zip(cells) {
                        row[s] = c;
                    }
                    self.accumulate(&row)?;
                }
            }
            if self.groups.is_empty() && shape.cols.iter().all(Col::is_agg) {
                // No solutions and no groups: one row (`count()` is 0).
                self.groups.entry(&[], || new_accs(shape));
            }
            let mut rows = Vec::with_capacity(self.groups.len());
            let mut groups = self.groups.into_entries();
            while let Some((key, accs)) = groups.next() {
                if let Err(e) = pacer.tick() {
                    abandon((groups, rows));
                    return Err(e);
                }
                let mut key = key.into_iter();
                let mut accs = accs.into_iter();
                let mut row = Vec::with_capacity(shape.cols.len());
                for col in &shape.cols {
                    row.push(if let Col::Agg { text, .. } = col {
                        accs.next().map_or(Ok(Id::NONE), |a| result(a, ev, text))?
                    } else {
                        key.next().unwrap_or(Id::NONE)
                    });
                }
                rows.push(row);
            }
            rows
        } else {
            self.rows.into_entries().map(|(r, ())| r).collect()
        };
        if !shape.having.is_empty() {
            let mut kept = Vec::with_capacity(rows.len());
            let mut all = rows.into_iter();
            while let Some(row) = all.next() {
                if let Err(e) = pacer.tick() {
                    abandon((all, kept));
                    return Err(e);
                }
                let mut ok = true;
                for h in &shape.having {
                    if !ev.test(h, &[], &row)? {
                        ok = false;
                        break;
                    }
                }
                if ok {
                    kept.push(row);
                }
            }
            rows = kept;
        }
        if !shape.order.is_empty() {
            rows = sort(rows, shape, ev, self.budget, pacer)?;
        }
        if shape.cols.len() > shape.visible {
            // Without the hidden columns rows may repeat: keep the first of each.
            let mut distinct = Distinct::default();
            let mut all = rows.into_iter();
            while let Some(r) = all.next() {
                if let Err(e) = pacer.tick() {
                    abandon((all, distinct));
                    return Err(e);
                }
                distinct.entry(&r[..shape.visible.min(r.len())], || ());
            }
            rows = distinct.into_entries().map(|(r, ())| r).collect();
        }
        let start = (shape.offset as usize).min(rows.len());
        let end = match shape.limit {
            Some(l) => start.saturating_add(l as usize).min(rows.len()),
            None => rows.len(),
        };
        Ok(rows.drain(start..end).collect())
    }
}

/// Fresh accumulators for the aggregates of `shape`, in column order.
fn new_accs(shape: &Shape) -> Vec<Acc> {
    shape
        .cols
        .iter()
        .filter_map(|c| match c {
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
        .collect()
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

/// Sort by the order keys: values in the language's total order; unbound sorts first.
fn sort(
    rows: Vec<Vec<Id>>,
    shape: &Shape,
    ev: &Eval<'_>,
    budget: &Budget,
    pacer: &Pacer<'_>,
) -> Result<Vec<Vec<Id>>> {
    let mut keyed: Vec<(Vec<Option<Value>>, Vec<Id>)> = Vec::with_capacity(rows.len());
    let mut all = rows.into_iter();
    while let Some(row) = all.next() {
        if let Err(e) = pacer.tick() {
            abandon((all, keyed));
            return Err(e);
        }
        let mut keys = Vec::with_capacity(shape.order.len());
        let mut text = 0;
        for (ex, _) in &shape.order {
            let key = ev.eval(ex, &[], &row)?;
            text += key.as_ref().and_then(Value::text).map_or(0, str::len);
            keys.push(key);
        }
        budget.charge(40 * keys.len() as u64 + text as u64 + 24)?;
        keyed.push((keys, row));
    }
    // A sort cannot be left halfway: once interrupted, every comparison says "equal",
    // which lets it finish at once, and the interruption is returned after it.
    let stopped: RefCell<Option<Error>> = RefCell::new(None);
    let cmp = |a: &(Vec<Option<Value>>, Vec<Id>), b: &(Vec<Option<Value>>, Vec<Id>)| -> Ordering {
        if stopped.borrow().is_some() {
            return Ordering::Equal;
        }
        if let Err(e) = pacer.tick() {
            stopped.replace(Some(e));
            return Ordering::Equal;
        }
        for (i, (_, order)) in shape.order.iter().enumerate() {
            let o = match (&a.0[i], &b.0[i]) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => x.total_cmp(y),
            };
            let o = if *order == Order::Desc {
                o.reverse()
            } else {
                o
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    };
    // With a limit, only the first `offset + limit` rows need to be in order.
    // (Not with hidden columns: deduplication after the sort may still drop rows.)
    if let (Some(l), false) = (shape.limit, shape.cols.len() > shape.visible) {
        let k = (shape.offset.saturating_add(l) as usize).min(keyed.len());
        if k > 0 && k < keyed.len() {
            keyed.select_nth_unstable_by(k - 1, cmp);
            keyed.truncate(k);
        }
    }
    keyed.sort_by(cmp);
    if let Some(e) = stopped.into_inner() {
        abandon(keyed);
        return Err(e);
    }
    Ok(keyed.into_iter().map(|(_, r)| r).collect())
}
