//! Evaluating filters and computed columns: comparisons with the date interval semantics,
//! and the built-in functions.

use super::ir::{Ex, Slot};
use crate::error::{Error, Result};
use crate::lang::ast::{CmpOp, Func};
use crate::model::{DateRange, Value};
use crate::store::{kind, Delta, Id, IdPattern, Store};
use regex::Regex;
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::sync::Arc;

/// Decodes ids (with a per-query cache) and evaluates expressions.
pub struct Eval<'a> {
    pub store: &'a Store,
    pub delta: Option<&'a Delta>,
    cache: RefCell<FxHashMap<Id, Value>>,
    regexes: RefCell<FxHashMap<String, Regex>>,
    /// `label(…)` of each entity name asked so far.
    labels: RefCell<FxHashMap<String, Value>>,
    label_id: Option<Id>,
    /// Values computed by the query that have no id in the store (`lower(?s)`): ids
    /// `kind::STR` with raw numbers from `SCRATCH_BASE`.
    scratch: RefCell<Vec<Value>>,
    scratch_index: RefCell<FxHashMap<Value, Id>>,
    /// The dictionary block of the last id decoded (sorted by id): a column scanned in
    /// order decodes a block at a time without caching every term of it.
    block: RefCell<Vec<(Id, Value)>>,
    /// Texts of the ids compared by text so far.
    texts: RefCell<FxHashMap<Id, Arc<str>>>,
}

const SCRATCH_BASE: u64 = 3 << 62;

/// An operand: a value, or the interval of a `DATE..DATE` range.
enum Operand {
    Val(Value),
    Range(DateRange),
}

impl<'a> Eval<'a> {
    pub fn new(store: &'a Store, delta: Option<&'a Delta>) -> Result<Eval<'a>> {
        let label_id = store.lookup_entity("label", delta)?;
        Ok(Eval::with_label(store, delta, label_id))
    }

    /// An evaluator that knows the id of `label` already (a query's schema ids hold it).
    pub fn with_label(
        store: &'a Store,
        delta: Option<&'a Delta>,
        label_id: Option<Id>,
    ) -> Eval<'a> {
        Eval {
            store,
            delta,
            cache: RefCell::default(),
            regexes: RefCell::default(),
            labels: RefCell::default(),
            label_id,
            scratch: RefCell::default(),
            scratch_index: RefCell::default(),
            block: RefCell::default(),
            texts: RefCell::default(),
        }
    }

    /// The value of an id.
    pub fn value(&self, id: Id) -> Result<Value> {
        if let Some(v) = id.decode_inline() {
            return Ok(v);
        }
        if id.kind() == kind::STR && id.raw() >= SCRATCH_BASE {
            let i = (id.raw() - SCRATCH_BASE) as usize;
            return Ok(self
                .scratch
                .borrow()
                .get(i)
                .cloned()
                .unwrap_or(Value::Bool(false)));
        }
        if let Some(v) = self.cache.borrow().get(&id) {
            return Ok(v.clone());
        }
        if let Some(v) = self.decode_with_block(id)? {
            return Ok(v);
        }
        let v = self.store.value(id, self.delta)?;
        let mut c = self.cache.borrow_mut();
        if c.len() > 1 << 20 {
            c.clear();
        }
        c.insert(id, v.clone());
        Ok(v)
    }

    /// A dictionary id, decoded with the rest of its dictionary block (all cached): ids
    /// decoded in ascending order, or close to each other, cost a block each.
    fn decode_with_block(&self, id: Id) -> Result<Option<Value>> {
        if !id.is_dictionary() || self.delta.and_then(|d| d.new_text(id)).is_some() {
            return Ok(None);
        }
        let mut block = self.block.borrow_mut();
        let hit = block.binary_search_by(|(k, _)| k.cmp(&id)).is_ok();
        if !hit {
            *block = self.store.dictionary_block(id)?;
        }
        let found = block
            .binary_search_by(|(k, _)| k.cmp(&id))
            .ok()
            .map(|i| block[i].1.clone());
        // Ids met out of order (a join's other side) are kept in the cache; in-order ones
        // are served by the block.
        if let (false, Some(v)) = (hit, &found) {
            let mut cache = self.cache.borrow_mut();
            if cache.len() > 1 << 20 {
                cache.clear();
            }
            cache.insert(id, v.clone());
        }
        Ok(found)
    }

    /// Decode many ids (rows of a result) efficiently: one sorted pass over the dictionary.
    pub fn values(&self, ids: &[Id]) -> Result<FxHashMap<Id, Value>> {
        let scratch = |id: &Id| id.kind() == kind::STR && id.raw() >= SCRATCH_BASE;
        if !ids.iter().any(scratch) {
            return self.store.values(ids, self.delta);
        }
        let plain: Vec<Id> = ids.iter().copied().filter(|i| !scratch(i)).collect();
        let mut out = self.store.values(&plain, self.delta)?;
        for id in ids.iter().filter(|i| scratch(i)) {
            out.insert(*id, self.value(*id)?);
        }
        Ok(out)
    }

    /// Decode `ids` in one sorted pass and keep their values for this query's later
    /// [`Eval::value`] calls (ids about to be tested one by one, in any order).
    pub fn preload(&self, ids: &[Id]) -> Result<()> {
        let values = self.values(ids)?;
        let mut c = self.cache.borrow_mut();
        if c.len() + values.len() > 1 << 20 {
            c.clear();
        }
        c.extend(values);
        Ok(())
    }

    /// An id for a computed value: its inline id, or a scratch id for this query.
    pub fn id_of(&self, v: Value) -> Id {
        if let Some(id) = Id::inline(&v) {
            return id;
        }
        if let Some(id) = self.scratch_index.borrow().get(&v) {
            return *id;
        }
        let mut s = self.scratch.borrow_mut();
        let id = Id::new(kind::STR, SCRATCH_BASE + s.len() as u64);
        s.push(v.clone());
        self.scratch_index.borrow_mut().insert(v, id);
        id
    }

    fn slot(&self, row: &[Id], s: Slot) -> Option<Id> {
        row.get(s).copied().filter(|id| id.is_some())
    }

    /// Whether a filter holds for the row (unbound or mismatched kinds: false).
    pub fn test(&self, ex: &Ex, row: &[Id], cols: &[Id]) -> Result<bool> {
        if let Ex::Cmp(op, a, b) = ex {
            if let Some(r) = self.fast_cmp(*op, a, b, row, cols) {
                return Ok(r);
            }
            if let Some(r) = self.text_cmp(*op, a, b, row, cols)? {
                return Ok(r);
            }
        }
        Ok(matches!(self.eval(ex, row, cols)?, Some(Value::Bool(true))))
    }

    /// Order of two entities (or two strings) of the row, by their text, without building
    /// values: the texts are kept per query, shared with the dictionary's cache.
    fn text_cmp(&self, op: CmpOp, a: &Ex, b: &Ex, row: &[Id], cols: &[Id]) -> Result<Option<bool>> {
        if !matches!(op, CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge) {
            return Ok(None);
        }
        let id = |e: &Ex| -> Option<Id> {
            match e {
                Ex::Slot(s) => self.slot(row, *s),
                Ex::Column(c) => cols.get(*c).copied().filter(|i| i.is_some()),
                _ => None,
            }
        };
        let (Some(x), Some(y)) = (id(a), id(b)) else {
            return Ok(None);
        };
        let scratch = |i: Id| i.kind() == kind::STR && i.raw() >= SCRATCH_BASE;
        if x.kind() != y.kind() || !x.is_dictionary() || scratch(x) || scratch(y) {
            return Ok(None);
        }
        let known = |texts: &FxHashMap<Id, Arc<str>>| match (texts.get(&x), texts.get(&y)) {
            (Some(tx), Some(ty)) => Some(tx.cmp(ty)),
            _ => None,
        };
        let cached = if x == y {
            Some(Ordering::Equal)
        } else {
            known(&self.texts.borrow())
        };
        let o = match cached {
            Some(o) => o,
            None => {
                if !self.has_text(x)? || !self.has_text(y)? {
                    return Ok(None);
                }
                let now = known(&self.texts.borrow());
                match now {
                    Some(o) => o,
                    None => return Ok(None),
                }
            }
        };
        Ok(Some(match op {
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            _ => o != Ordering::Less,
        }))
    }

    /// Keep the text of a string or entity id for the rest of the query; false for a
    /// term only a transaction knows.
    fn has_text(&self, id: Id) -> Result<bool> {
        if self.texts.borrow().contains_key(&id) {
            return Ok(true);
        }
        if self.delta.and_then(|d| d.new_text(id)).is_some() {
            return Ok(false);
        }
        let t = self.store.text(id)?;
        let mut texts = self.texts.borrow_mut();
        if texts.len() > 1 << 20 {
            texts.clear();
        }
        texts.insert(id, t);
        Ok(true)
    }

    /// Comparisons decided on ids alone: equality within one kind, and order of numbers of
    /// one kind (their ids are ordered like their values).
    fn fast_cmp(&self, op: CmpOp, a: &Ex, b: &Ex, row: &[Id], cols: &[Id]) -> Option<bool> {
        let id = |e: &Ex| -> Option<Id> {
            match e {
                Ex::Slot(s) => self.slot(row, *s),
                Ex::Column(c) => cols.get(*c).copied().filter(|i| i.is_some()),
                Ex::Const(_, id) => *id,
                _ => None,
            }
        };
        let (x, y) = (id(a)?, id(b)?);
        let numeric = |k: u8| k == kind::INT || k == kind::FLOAT || k == kind::DATE;
        if x.kind() != y.kind() {
            if numeric(x.kind()) && numeric(y.kind()) {
                return None;
            }
            return match op {
                CmpOp::Eq | CmpOp::In | CmpOp::Overlaps => Some(false),
                CmpOp::Ne => Some(true),
                _ => Some(false),
            };
        }
        match op {
            // -0.0 = 0.0: ids of one kind are equal values when they share a canonical id.
            CmpOp::Eq => Some(x.same_value(y)),
            CmpOp::Ne => Some(!x.same_value(y)),
            CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge
                if x.kind() == kind::INT || x.kind() == kind::FLOAT =>
            {
                // Floats: NaN has no order; fall back to the general path.
                if x.kind() == kind::FLOAT
                    && [x, y]
                        .iter()
                        .any(|i| matches!(i.decode_inline(), Some(Value::Float(f)) if f.is_nan()))
                {
                    return None;
                }
                let o = if x.same_value(y) {
                    Ordering::Equal
                } else {
                    x.cmp(&y)
                };
                Some(match op {
                    CmpOp::Lt => o == Ordering::Less,
                    CmpOp::Le => o != Ordering::Greater,
                    CmpOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                })
            }
            _ => None,
        }
    }

    fn operand(&self, ex: &Ex, row: &[Id], cols: &[Id]) -> Result<Option<Operand>> {
        Ok(match ex {
            Ex::Range(r) => Some(Operand::Range(*r)),
            other => self.eval(other, row, cols)?.map(Operand::Val),
        })
    }

    /// The value of an expression; `None` when a variable is unbound or a function does
    /// not apply (a filter then fails, a column stays empty).
    pub fn eval(&self, ex: &Ex, row: &[Id], cols: &[Id]) -> Result<Option<Value>> {
        Ok(match ex {
            Ex::Slot(s) => match self.slot(row, *s) {
                Some(id) => Some(self.value(id)?),
                None => None,
            },
            Ex::Column(c) => match cols.get(*c).filter(|i| i.is_some()) {
                Some(id) => Some(self.value(*id)?),
                None => None,
            },
            Ex::Const(v, _) => Some(v.clone()),
            Ex::Range(_) => None,
            Ex::Cmp(op, a, b) => {
                let (Some(x), Some(y)) = (self.operand(a, row, cols)?, self.operand(b, row, cols)?)
                else {
                    return Ok(Some(Value::Bool(false)));
                };
                Some(Value::Bool(compare(*op, &x, &y)))
            }
            Ex::Call(f, args) => {
                let mut vals = Vec::with_capacity(args.len());
                for a in args {
                    match self.eval(a, row, cols)? {
                        Some(v) => vals.push(v),
                        None => {
                            return Ok(if f.is_condition() {
                                Some(Value::Bool(false))
                            } else {
                                None
                            })
                        }
                    }
                }
                self.call(*f, &vals)?
            }
        })
    }

    fn call(&self, f: Func, args: &[Value]) -> Result<Option<Value>> {
        let text = |i: usize| args.get(i).and_then(Value::text);
        Ok(match f {
            Func::Contains => Some(Value::Bool(
                matches!((text(0), text(1)), (Some(a), Some(b)) if a.contains(b)),
            )),
            Func::StartsWith => Some(Value::Bool(
                matches!((text(0), text(1)), (Some(a), Some(b)) if a.starts_with(b)),
            )),
            Func::Matches => {
                let (Some(s), Some(pat)) = (text(0), text(1)) else {
                    return Ok(Some(Value::Bool(false)));
                };
                let mut cache = self.regexes.borrow_mut();
                if !cache.contains_key(pat) {
                    // A constant pattern was checked before the query ran; one read from
                    // the data is refused here, naming it.
                    let re = crate::lang::regex(pat).map_err(|why| {
                        Error::Invalid(format!(
                            "matches(…): the pattern {} is not a valid regular expression: {why}",
                            Value::Str(pat.to_string())
                        ))
                    })?;
                    cache.insert(pat.to_string(), re);
                }
                let re = cache.get(pat);
                Some(Value::Bool(re.is_some_and(|r| r.is_match(s))))
            }
            Func::Lower => text(0).map(|s| Value::Str(s.to_lowercase())),
            Func::Len => text(0).map(|s| Value::Int(s.chars().count() as i64)),
            Func::Year => match args.first() {
                Some(Value::Date(d)) => Some(Value::Int(d.year_part() as i64)),
                _ => None,
            },
            Func::Month => match args.first() {
                Some(Value::Date(d)) => d.month_part().map(|m| Value::Int(m as i64)),
                _ => None,
            },
            Func::Label => match args.first() {
                Some(Value::Entity(e)) => Some(self.label(e)?),
                Some(other) => Some(Value::Str(other.plain())),
                None => None,
            },
        })
    }

    /// An entity's label, or its name when it has none.
    fn label(&self, name: &str) -> Result<Value> {
        if let Some(v) = self.labels.borrow().get(name) {
            return Ok(v.clone());
        }
        let Some(id) = self.store.lookup_entity(name, self.delta)? else {
            return Ok(Value::Str(name.to_string()));
        };
        let mut label = None;
        if let Some(l) = self.label_id {
            let pending = self.delta.and_then(|d| d.normal());
            let labels = IdPattern::new(Some(id), Some(l), None);
            for q in self.store.quads_with(&labels, pending)? {
                let v = self.value(q?[2])?;
                if let Value::Str(_) = v {
                    label = Some(v);
                    break;
                }
            }
        }
        let v = label.unwrap_or_else(|| Value::Str(name.to_string()));
        self.labels.borrow_mut().insert(name.to_string(), v.clone());
        Ok(v)
    }
}

fn interval(o: &Operand) -> Option<DateRange> {
    match o {
        Operand::Range(r) => Some(*r),
        Operand::Val(v) => v.as_date_range(),
    }
}

/// A comparison of the language (LANGUAGE.md, "Values and dates").
fn compare(op: CmpOp, a: &Operand, b: &Operand) -> bool {
    let is_date = |o: &Operand| matches!(o, Operand::Range(_) | Operand::Val(Value::Date(_)));
    let dates = is_date(a) || is_date(b);
    match op {
        CmpOp::In | CmpOp::Overlaps => {
            let (Some(x), Some(y)) = (interval(a), interval(b)) else {
                return false;
            };
            if op == CmpOp::In {
                x.start >= y.start && x.end <= y.end
            } else {
                x.start <= y.end && y.start <= x.end
            }
        }
        CmpOp::Eq | CmpOp::Ne => {
            let eq = match (a, b) {
                (Operand::Val(x), Operand::Val(y)) => x.lang_eq(y),
                (Operand::Range(x), Operand::Range(y)) => x == y,
                _ => false,
            };
            eq == (op == CmpOp::Eq)
        }
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge if dates => {
            let (Some(x), Some(y)) = (interval(a), interval(b)) else {
                return false;
            };
            let eq = match (a, b) {
                (Operand::Val(p), Operand::Val(q)) => p.lang_eq(q),
                _ => x == y,
            };
            match op {
                CmpOp::Lt => x.end < y.start,
                CmpOp::Le => x.end < y.start || eq,
                CmpOp::Gt => x.start > y.end,
                _ => x.start > y.end || eq,
            }
        }
        _ => {
            let (Operand::Val(x), Operand::Val(y)) = (a, b) else {
                return false;
            };
            match x.lang_cmp(y) {
                None => false,
                Some(o) => match op {
                    CmpOp::Lt => o == Ordering::Less,
                    CmpOp::Le => o != Ordering::Greater,
                    CmpOp::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Date;

    fn v(x: Value) -> Operand {
        Operand::Val(x)
    }

    fn d(s: &str) -> Value {
        Value::Date(Date::parse(s).unwrap())
    }

    #[test]
    fn date_interval_semantics() {
        assert!(compare(CmpOp::In, &v(d("2020-09-28")), &v(d("2020-09"))));
        assert!(compare(CmpOp::In, &v(d("2020-09")), &v(Value::Int(2020))));
        assert!(!compare(CmpOp::In, &v(d("2020")), &v(d("2020-09"))));
        assert!(compare(CmpOp::Overlaps, &v(d("2020")), &v(d("2020-09"))));
        assert!(compare(CmpOp::Lt, &v(d("2019-04")), &v(d("2020"))));
        assert!(!compare(CmpOp::Lt, &v(d("2020-01")), &v(d("2020"))));
        assert!(!compare(CmpOp::Gt, &v(d("2020-01")), &v(d("2020"))));
        assert!(compare(CmpOp::Le, &v(d("2020")), &v(Value::Int(2020))));
        assert!(!compare(CmpOp::Eq, &v(d("2020-01")), &v(d("2020"))));
        let r = Operand::Range(DateRange::between(
            &Date::parse("2019-04").unwrap(),
            &Date::parse("2020-06").unwrap(),
        ));
        assert!(compare(CmpOp::In, &v(d("2020-06-30")), &r));
        assert!(!compare(CmpOp::In, &v(d("2020-07-01")), &r));
    }

    #[test]
    fn other_kinds() {
        assert!(compare(CmpOp::Lt, &v(Value::Int(2)), &v(Value::Float(2.5))));
        assert!(!compare(
            CmpOp::Lt,
            &v(Value::string("a")),
            &v(Value::Int(1))
        ));
        assert!(compare(
            CmpOp::Ne,
            &v(Value::string("a")),
            &v(Value::Int(1))
        ));
        assert!(compare(
            CmpOp::Lt,
            &v(Value::entity("a")),
            &v(Value::entity("b"))
        ));
        assert!(!compare(
            CmpOp::Eq,
            &v(Value::entity("a")),
            &v(Value::string("a"))
        ));
    }
}
