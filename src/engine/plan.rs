//! The cost-based planner: orders a body's patterns by estimated cardinality, pushes
//! filters into index range scans, picks index nested loops or hash joins, and decides how
//! to run `not`, `optional` and `or`.
//!
//! Estimates come from the store's exact per-predicate counts and, for constants and
//! ranges, from cheap index probes (block headers).  Every choice is a function of those
//! numbers and of the patterns' canonical text (for ties), never of the order in which the
//! user wrote the patterns.

use super::compile::Context;
use super::derived::Derived;
use super::ir::{range_options, Body, Ex, Filter, GTerm, Item, PTerm, Pattern, Slot};
use crate::error::Result;
use crate::lang::ast::{CmpOp, Func};
use crate::model::{Precision, Value};
use crate::store::{kind, GraphSel, Id, IdPattern, TextQuery};
use std::cell::Cell;

/// Cost units: roughly microseconds on this machine kind.
/// One index probe: a B-tree descent in sled (~1.4 µs) and a partial block decode.
pub const SEEK: f64 = 3.0;
pub const ROW: f64 = 0.03;
/// Per row of a hash table: a sequential scan of packed blocks and an insert.
pub const HASH_BUILD: f64 = 0.12;
pub const HASH_PROBE: f64 = 0.05;
pub const FILTER_COST: f64 = 0.05;
/// A text filter on a row: the string decoded, then searched.
pub const TEXT_FILTER_COST: f64 = 0.25;

#[derive(Debug, Clone)]
pub enum StepKind {
    /// For each input row, scan the index with the row's bindings (the first step of a
    /// plan is a plain scan).
    Scan {
        pat: Pattern,
        ranges: Vec<(Id, Id)>,
        /// Objects limited to the terms the text index finds for a filter.
        text: Option<Box<TextScan>>,
    },
    /// Scan the pattern once into a hash table on `keys`, then probe it per input row.
    HashJoin {
        pat: Pattern,
        ranges: Vec<(Id, Id)>,
        text: Option<Box<TextScan>>,
        keys: Vec<Slot>,
        /// Expected entries, to size the table once.
        build_rows: usize,
    },
    Filter(Filter),
    /// Keep rows for which the sub-plan has no solution: per row (correlated), or by
    /// looking the row's `keys` up in the set of the sub-plan's solutions (hashed).
    NotExists {
        plan: Plan,
        keys: Vec<Slot>,
        hashed: bool,
    },
    /// Left join: rows with no solution of the sub-plan pass with its variables unbound.
    Optional {
        plan: Plan,
    },
    /// `{ } or { }`: the union of the branches' solutions.
    Union {
        branches: Vec<Plan>,
    },
    /// A pattern that names something the store has never seen.
    Nothing {
        text: String,
    },
}

/// A scan whose object variable a text filter restricts (`contains(?l, "Haftar")`): it
/// reads only the objects the text index yields for `query` that pass `filter`, each a
/// point range of the index.  The filter still runs on every row.
#[derive(Debug, Clone)]
pub struct TextScan {
    /// What the index is asked (a necessary condition of the filter).
    pub query: TextQuery,
    /// The filter, tested on each candidate term bound to `slot`.
    pub filter: Filter,
    /// The pattern's object variable.
    pub slot: Slot,
}

/// Object restrictions pushed into a pattern's index scan.
#[derive(Default)]
struct Pushdown {
    /// Id ranges of the object (comparisons with dates and numbers).
    ranges: Vec<(Id, Id)>,
    /// Or the terms of a text filter, with the estimated number of terms.
    text: Option<(TextScan, f64)>,
}

#[derive(Debug, Clone)]
pub struct Step {
    /// Unique within a query: keys the executor's per-step state.
    pub id: usize,
    pub kind: StepKind,
    /// Estimated rows after this step.
    pub rows: f64,
    /// Estimated cost of this step for all its input rows.
    pub cost: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub rows: f64,
    pub cost: f64,
    /// Slots bound by the plan's solutions.
    pub binds: Vec<Slot>,
    /// Whether solutions are distinct over `binds` without deduplication.
    pub unique: bool,
}

pub struct Planner<'p, 'a> {
    pub cx: &'p Context<'a>,
    pub derived: &'p Derived,
    next_id: Cell<usize>,
    /// Whether a predicate has float objects (`None`: any predicate), asked once each.
    floats: std::cell::RefCell<rustc_hash::FxHashMap<Option<Id>, bool>>,
}

/// The filters and `not`s of a body, each placed as soon as the variables it needs are
/// settled; `placed_*[i]` says whether the `i`th one is in the plan yet.
struct Waiting<'b> {
    filters: Vec<&'b Filter>,
    placed_filters: Vec<bool>,
    nots: Vec<&'b Body>,
    placed_nots: Vec<bool>,
}

/// Slots in the order they were added, with membership in constant time: a body of
/// thousands of conjuncts asks "is it bound?" for every choice of every step, and a list
/// search there made planning cubic in the body's length.
#[derive(Debug, Default, Clone)]
struct SlotSet {
    list: Vec<Slot>,
    has: Vec<bool>,
}

impl SlotSet {
    fn contains(&self, s: &Slot) -> bool {
        self.has.get(*s).copied().unwrap_or(false)
    }

    fn push(&mut self, s: Slot) {
        if self.contains(&s) {
            return;
        }
        if self.has.len() <= s {
            self.has.resize(s + 1, false);
        }
        self.has[s] = true;
        self.list.push(s);
    }

    fn remove(&mut self, s: &Slot) {
        if self.contains(s) {
            self.has[*s] = false;
            self.list.retain(|m| m != s);
        }
    }

    fn clear(&mut self) {
        for &s in &self.list {
            self.has[s] = false;
        }
        self.list.clear();
    }

    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

impl FromIterator<Slot> for SlotSet {
    fn from_iter<I: IntoIterator<Item = Slot>>(iter: I) -> Self {
        let mut set = SlotSet::default();
        iter.into_iter().for_each(|s| set.push(s));
        set
    }
}

/// What is bound while a body is planned.
struct State {
    /// Bound in every row.
    certain: SlotSet,
    /// Bound in some rows, unbound (matching anything) in others.
    maybe: SlotSet,
    /// Slots that units still to be placed may bind.
    pending: SlotSet,
}

impl State {
    /// Bound in some rows at least (certain or maybe).
    fn bound(&self, s: &Slot) -> bool {
        self.certain.contains(s) || self.maybe.contains(s)
    }

    fn all(&self) -> Vec<Slot> {
        let mut v = self.certain.list.clone();
        v.extend(
            (self.maybe.list.iter())
                .copied()
                .filter(|s| !self.certain.contains(s)),
        );
        v
    }

    /// Bound for good: certain, or maybe but nothing later could still bind it.
    fn settled(&self, s: &Slot) -> bool {
        self.certain.contains(s) || (self.maybe.contains(s) && !self.pending.contains(s))
    }
}

/// Slots a join unit binds.
fn bind_slots(item: &Item, out: &mut Vec<Slot>) {
    match item {
        Item::Pattern(p) => p.add_vars(out),
        Item::Or(bs) => bs.iter().for_each(|b| b.bound_slots(out)),
        _ => {}
    }
}

/// How a position of a pattern is known when the pattern runs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Known {
    Const,
    Bound,
    Free,
}

struct Choice {
    index: usize,
    kind: StepKind,
    rows_after: f64,
    cost: f64,
    connected: bool,
    /// Slots bound by every row after the step.
    binds: Vec<Slot>,
    /// Slots bound by some rows only (an `or` branch that binds them).
    maybe_binds: Vec<Slot>,
    unique: bool,
    key: String,
}

impl<'p, 'a> Planner<'p, 'a> {
    pub fn new(cx: &'p Context<'a>, derived: &'p Derived) -> Self {
        Planner {
            cx,
            derived,
            next_id: Cell::new(0),
            floats: Default::default(),
        }
    }

    fn id(&self) -> usize {
        let i = self.next_id.get();
        self.next_id.set(i + 1);
        i
    }

    /// Plan `body` for rows in which `bound` slots are already bound.
    pub fn plan(&self, body: &Body, bound: &[Slot]) -> Result<Plan> {
        self.plan_in(body, bound, &[])
    }

    /// Plan `body`; of the `bound` slots, those in `maybe` may be unbound in some rows (an
    /// `or` branch or an `optional` that did not bind them).  An unbound slot matches
    /// anything in an index lookup, so a hash join or hashed `not` keyed on one would lose
    /// rows, and a filter or `not` must wait for every step that could still bind it.
    fn plan_in(&self, body: &Body, bound: &[Slot], maybe_in: &[Slot]) -> Result<Plan> {
        let mut visible = bound.to_vec();
        body.bound_slots(&mut visible);
        let mut units: Vec<&Item> = Vec::new();
        let mut filters: Vec<&Filter> = Vec::new();
        let mut nots: Vec<&Body> = Vec::new();
        let mut optionals: Vec<&Body> = Vec::new();
        for item in &body.items {
            match item {
                Item::Pattern(_) | Item::Or(_) => units.push(item),
                Item::Filter(f) => filters.push(f),
                Item::Not(b) => nots.push(b),
                Item::Optional(b) => optionals.push(b),
            }
        }
        // Deterministic order for everything placed "when ready": by text, not position.
        filters.sort_by(|a, b| a.text.cmp(&b.text));
        let mut st = State {
            certain: bound
                .iter()
                .copied()
                .filter(|s| !maybe_in.contains(s))
                .collect(),
            maybe: maybe_in.iter().copied().collect(),
            pending: SlotSet::default(),
        };
        let mut plan = Plan {
            rows: 1.0,
            unique: true,
            ..Plan::default()
        };
        let mut waiting = Waiting {
            placed_filters: vec![false; filters.len()],
            placed_nots: vec![false; nots.len()],
            filters,
            nots,
        };
        let mut optionals = optionals.into_iter();
        loop {
            // Slots a unit still to come (or an optional) may bind are not settled yet.
            // Gathered a unit at a time: one list for all of them would be searched for
            // every slot added, quadratic in the body's length at every step.
            st.pending.clear();
            let mut slots = Vec::new();
            for u in &units {
                slots.clear();
                bind_slots(u, &mut slots);
                slots.iter().for_each(|s| st.pending.push(*s));
            }
            for b in optionals.clone() {
                slots.clear();
                b.bound_slots(&mut slots);
                slots.iter().for_each(|s| st.pending.push(*s));
            }
            self.place_ready(&mut waiting, &visible, &st, &mut plan)?;
            if units.is_empty() {
                let Some(b) = optionals.next() else { break };
                let all = st.all();
                let sub = self.plan_in(b, &all, &st.maybe.list)?;
                let rows = plan.rows * sub.rows.max(1.0);
                plan.cost += plan.rows * sub.cost;
                plan.rows = rows;
                for s in &sub.binds {
                    if !st.certain.contains(s) {
                        st.maybe.push(*s);
                    }
                }
                plan.unique &= sub.unique;
                plan.steps.push(Step {
                    id: self.id(),
                    kind: StepKind::Optional { plan: sub },
                    rows,
                    cost: 0.0,
                });
                continue;
            }
            let mut best: Option<Choice> = None;
            for (i, unit) in units.iter().enumerate() {
                // Planning a very long body takes a while: it honours the deadline too.
                if i % 64 == 0 {
                    self.cx.interrupt.check()?;
                }
                let c = self.choice(
                    i,
                    unit,
                    &st,
                    plan.rows,
                    &waiting.filters,
                    &waiting.placed_filters,
                )?;
                let better = match &best {
                    None => true,
                    Some(b) => {
                        (!c.connected, c.rows_after, c.cost, &c.key)
                            < (!b.connected, b.rows_after, b.cost, &b.key)
                    }
                };
                if better {
                    best = Some(c);
                }
            }
            let Some(c) = best else { break };
            units.remove(c.index);
            for s in &c.binds {
                st.maybe.remove(s);
                st.certain.push(*s);
            }
            for s in &c.maybe_binds {
                if !st.certain.contains(s) {
                    st.maybe.push(*s);
                }
            }
            plan.unique &= c.unique;
            plan.rows = c.rows_after;
            plan.cost += c.cost;
            plan.steps.push(Step {
                id: self.id(),
                kind: c.kind,
                rows: c.rows_after,
                cost: c.cost,
            });
        }
        // Whatever is left refers to variables nothing binds; it runs last (and fails).
        for (i, f) in waiting.filters.iter().enumerate() {
            if !waiting.placed_filters[i] {
                plan.steps.push(Step {
                    id: self.id(),
                    kind: StepKind::Filter((*f).clone()),
                    rows: 0.0,
                    cost: 0.0,
                });
            }
        }
        for (i, b) in waiting.nots.iter().enumerate() {
            if !waiting.placed_nots[i] {
                let sub = self.plan_in(b, &st.all(), &st.maybe.list)?;
                plan.steps.push(Step {
                    id: self.id(),
                    kind: StepKind::NotExists {
                        plan: sub,
                        keys: Vec::new(),
                        hashed: false,
                    },
                    rows: plan.rows,
                    cost: 0.0,
                });
            }
        }
        plan.binds = st
            .all()
            .into_iter()
            .filter(|s| !bound.contains(s))
            .collect();
        Ok(plan)
    }

    fn place_ready(
        &self,
        waiting: &mut Waiting<'_>,
        visible: &[Slot],
        st: &State,
        plan: &mut Plan,
    ) -> Result<()> {
        let Waiting {
            filters,
            placed_filters: placed_f,
            nots,
            placed_nots: placed_n,
        } = waiting;
        for (i, f) in filters.iter().enumerate() {
            if placed_f[i] {
                continue;
            }
            let mut slots = Vec::new();
            f.ex.slots(&mut slots);
            if slots.iter().all(|s| st.settled(s)) {
                placed_f[i] = true;
                let cost = plan.rows * FILTER_COST;
                plan.rows *= selectivity(&f.ex);
                plan.cost += cost;
                plan.steps.push(Step {
                    id: self.id(),
                    kind: StepKind::Filter((*f).clone()),
                    rows: plan.rows,
                    cost,
                });
            }
        }
        for (i, b) in nots.iter().enumerate() {
            if placed_n[i] {
                continue;
            }
            let mut slots = Vec::new();
            b.all_slots(&mut slots);
            let shared: Vec<Slot> = slots.into_iter().filter(|s| visible.contains(s)).collect();
            if !shared.iter().all(|s| st.settled(s)) {
                continue;
            }
            placed_n[i] = true;
            let all = st.all();
            let correlated = self.plan_in(b, &all, &st.maybe.list)?;
            let corr_cost = plan.rows
                * correlated
                    .cost
                    .min(correlated.cost / correlated.rows.max(1.0) + SEEK);
            let mut own = Vec::new();
            b.bound_slots(&mut own);
            let mut chosen = (
                StepKind::NotExists {
                    plan: correlated.clone(),
                    keys: shared.clone(),
                    hashed: false,
                },
                corr_cost,
            );
            if !shared.is_empty()
                && shared
                    .iter()
                    .all(|s| own.contains(s) && st.certain.contains(s))
            {
                let independent = self.plan_in(b, &[], &[])?;
                let hash_cost =
                    independent.cost + independent.rows * HASH_BUILD + plan.rows * HASH_PROBE;
                if hash_cost < corr_cost {
                    chosen = (
                        StepKind::NotExists {
                            plan: independent,
                            keys: shared,
                            hashed: true,
                        },
                        hash_cost,
                    );
                }
            }
            let exists = correlated.rows.min(1.0);
            plan.rows *= 1.0 - 0.9 * exists;
            plan.cost += chosen.1;
            plan.steps.push(Step {
                id: self.id(),
                kind: chosen.0,
                rows: plan.rows,
                cost: chosen.1,
            });
        }
        Ok(())
    }

    fn choice(
        &self,
        index: usize,
        unit: &Item,
        st: &State,
        rows: f64,
        filters: &[&Filter],
        placed: &[bool],
    ) -> Result<Choice> {
        match unit {
            Item::Pattern(pat) => self.pattern_choice(index, pat, st, rows, filters, placed),
            Item::Or(branches) => {
                let all = st.all();
                let mut plans = Vec::new();
                let (mut r, mut c) = (0.0, 0.0);
                let mut union: Vec<Slot> = Vec::new();
                let mut key = String::from("or");
                for b in branches {
                    let p = self.plan_in(b, &all, &st.maybe.list)?;
                    r += p.rows;
                    c += p.cost;
                    for s in &p.binds {
                        if !union.contains(s) {
                            union.push(*s);
                        }
                    }
                    for step in &p.steps {
                        key.push_str(&step_text(&step.kind));
                    }
                    plans.push(p);
                }
                // Bound whatever branch ran: only what every branch binds.
                let binds: Vec<Slot> = union
                    .iter()
                    .copied()
                    .filter(|s| plans.iter().all(|p| p.binds.contains(s)))
                    .collect();
                let maybe_binds: Vec<Slot> = union
                    .iter()
                    .copied()
                    .filter(|s| !binds.contains(s))
                    .collect();
                let mut mentioned = Vec::new();
                for b in branches {
                    b.all_slots(&mut mentioned);
                }
                let connected = all.is_empty() || mentioned.iter().any(|s| all.contains(s));
                Ok(Choice {
                    index,
                    kind: StepKind::Union { branches: plans },
                    rows_after: rows * r,
                    cost: rows * c,
                    connected,
                    binds,
                    maybe_binds,
                    unique: false,
                    key,
                })
            }
            _ => unreachable!("only patterns and or-blocks are join units"),
        }
    }

    fn pattern_choice(
        &self,
        index: usize,
        pat: &Pattern,
        st: &State,
        rows: f64,
        filters: &[&Filter],
        placed: &[bool],
    ) -> Result<Choice> {
        let vars = pat.vars();
        let keys: Vec<Slot> = vars.iter().copied().filter(|v| st.bound(v)).collect();
        let nothing_bound = st.certain.is_empty() && st.maybe.is_empty();
        let connected = nothing_bound || !keys.is_empty() || vars.is_empty();
        // After the step every row binds all of the pattern's variables (a slot that was
        // unbound in some rows is bound by the lookup).
        let binds: Vec<Slot> = vars.clone();
        let unique = !matches!(pat.s, PTerm::Any)
            && !matches!(pat.p, PTerm::Any)
            && !matches!(pat.o, PTerm::Any | PTerm::OneOf(_))
            && !pat.infer_supertypes
            && (matches!(pat.p, PTerm::Const(_)) || self.cx.subtypes.is_empty())
            && !(pat.stored && pat.derived)
            && !self.equal_numbers_possible(pat)?;
        if pat.is_never() {
            return Ok(Choice {
                index,
                kind: StepKind::Nothing {
                    text: pat.text.clone(),
                },
                rows_after: 0.0,
                cost: 0.0,
                connected: true,
                binds,
                maybe_binds: Vec::new(),
                unique,
                key: pat.text.clone(),
            });
        }
        let Pushdown { ranges, text } = self.pushdown(pat, st, filters, placed)?;
        let (mut per_row, card) = self.estimate(pat, st, &ranges)?;
        let mut inl = rows * (SEEK + per_row * ROW);
        let text = match text {
            Some((t, terms)) => {
                // Each term found is one lookup; rows as many as those terms hold.
                per_row = terms * self.triples_per_object(pat)?;
                inl = rows * (SEEK * (1.0 + terms) + per_row * ROW);
                Some(Box::new(t))
            }
            None => None,
        };
        let card = if text.is_some() { per_row } else { card };
        let mut kind = StepKind::Scan {
            pat: pat.clone(),
            ranges: ranges.clone(),
            text: text.clone(),
        };
        let mut cost = inl;
        if !keys.is_empty()
            && keys.len() <= 3
            && rows > 1.0
            && !keys.iter().any(|k| st.maybe.contains(k))
        {
            let hash = SEEK + card * HASH_BUILD + rows * (HASH_PROBE + per_row * ROW);
            if hash < inl {
                kind = StepKind::HashJoin {
                    pat: pat.clone(),
                    ranges,
                    text,
                    keys,
                    build_rows: card.min(1e8) as usize,
                };
                cost = hash;
            }
        }
        Ok(Choice {
            index,
            kind,
            rows_after: rows * per_row,
            cost,
            connected,
            binds,
            maybe_binds: Vec::new(),
            unique,
            key: pat.text.clone(),
        })
    }

    /// Whether two facts of `pat` can bind its object variable to different ids of numbers
    /// `=` equates (`5` and `5.0`, `-0.0` and `0.0`): then two solutions the plan makes
    /// are one, and must be deduplicated.  That takes a float: one probe of the index.
    fn equal_numbers_possible(&self, pat: &Pattern) -> Result<bool> {
        if !matches!(pat.o, PTerm::Var(_)) {
            return Ok(false);
        }
        if pat.derived || self.cx.delta.is_some_and(|d| !d.is_empty()) {
            return Ok(true);
        }
        let pred = match &pat.p {
            PTerm::Const(p) => Some(*p),
            _ => None,
        };
        if let Some(&known) = self.floats.borrow().get(&pred) {
            return Ok(known);
        }
        let has = self.has_floats(pat)?;
        self.floats.borrow_mut().insert(pred, has);
        Ok(has)
    }

    /// Whether the predicate of `pat` (any predicate, when it is not a constant) has a
    /// float among its objects.
    fn has_floats(&self, pat: &Pattern) -> Result<bool> {
        let preds: Vec<Id> = match &pat.p {
            PTerm::Const(p) => vec![*p],
            // Any predicate: a probe each, unless there are too many to ask.
            _ => {
                let stats = self.cx.store.stats()?;
                if stats.preds.len() > 256 {
                    return Ok(true);
                }
                stats.preds.keys().copied().collect()
            }
        };
        let floats = (Id::new(kind::FLOAT, 0), Id::new(kind::FLOAT + 1, 0));
        for p in preds {
            let floats_of_p = IdPattern {
                s: None,
                p: Some(p),
                o: None,
                g: GraphSel::Any,
                o_range: Some(floats),
            };
            if self.cx.store.any(&floats_of_p)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Object restrictions of an index scan implied by filters on the pattern's object
    /// variable: id ranges, or the terms the text index finds for a text filter when that
    /// reads fewer entries than scanning the predicate and filtering.
    fn pushdown(
        &self,
        pat: &Pattern,
        st: &State,
        filters: &[&Filter],
        placed: &[bool],
    ) -> Result<Pushdown> {
        let PTerm::Var(x) = &pat.o else {
            return Ok(Pushdown::default());
        };
        if pat.derived || st.bound(x) || pat.s == PTerm::Var(*x) || pat.g == GTerm::Var(*x) {
            return Ok(Pushdown::default());
        }
        let PTerm::Const(p) = &pat.p else {
            return Ok(Pushdown {
                ranges: Vec::new(),
                text: self.text_pushdown(pat, st, filters, placed, *x)?,
            });
        };
        let mut best: Option<(u64, Vec<(Id, Id)>)> = None;
        for (i, f) in filters.iter().enumerate() {
            if placed[i] {
                continue;
            }
            let Some(ranges) = filter_ranges(&f.ex, *x) else {
                continue;
            };
            let mut n = 0;
            for &(lo, hi) in &ranges {
                n += self.cx.store.estimate(&IdPattern {
                    s: None,
                    p: Some(*p),
                    o: None,
                    g: GraphSel::Any,
                    o_range: Some((lo, hi)),
                })?;
            }
            if best.as_ref().is_none_or(|(bn, _)| n < *bn) {
                best = Some((n, ranges));
            }
        }
        let text = self.text_pushdown(pat, st, filters, placed, *x)?;
        match (best, text) {
            (Some((n, _)), Some((t, terms)))
                if terms * self.triples_per_object(pat)? < n as f64 =>
            {
                Ok(Pushdown {
                    ranges: Vec::new(),
                    text: Some((t, terms)),
                })
            }
            (Some((_, ranges)), _) => Ok(Pushdown { ranges, text: None }),
            (None, text) => Ok(Pushdown {
                ranges: Vec::new(),
                text,
            }),
        }
    }

    /// The most selective text filter on object `x` the text index can serve, with its
    /// estimated number of terms; only for a pattern scanned once (its subject free), and
    /// only when the lookups cost less than scanning the pattern and filtering each row.
    fn text_pushdown(
        &self,
        pat: &Pattern,
        st: &State,
        filters: &[&Filter],
        placed: &[bool],
        x: Slot,
    ) -> Result<Option<(TextScan, f64)>> {
        let subject_free = matches!(pat.s, PTerm::Var(s) if !st.bound(&s));
        if !subject_free || !pat.stored || pat.delta_only {
            return Ok(None);
        }
        let mut best: Option<(TextScan, f64)> = None;
        for (i, f) in filters.iter().enumerate() {
            if placed[i] {
                continue;
            }
            let Some(query) = text_filter(&f.ex, x) else {
                continue;
            };
            let Some(terms) = self.cx.store.text_estimate(&query)? else {
                continue;
            };
            let terms = terms as f64;
            if best.as_ref().is_none_or(|(_, b)| terms < *b) {
                let filter = (*f).clone();
                best = Some((
                    TextScan {
                        query,
                        filter,
                        slot: x,
                    },
                    terms,
                ));
            }
        }
        let Some((t, terms)) = best else {
            return Ok(None);
        };
        let (per_row, _) = self.estimate(pat, st, &[])?;
        let scan = per_row * (ROW + TEXT_FILTER_COST);
        let lookups = terms * (SEEK + self.triples_per_object(pat)? * ROW);
        Ok((lookups < scan).then_some((t, terms)))
    }

    /// Average number of facts per distinct object of the pattern's predicate.
    fn triples_per_object(&self, pat: &Pattern) -> Result<f64> {
        let stats = self.cx.store.stats()?;
        Ok(match pat.p {
            PTerm::Const(p) => {
                let ps = stats.pred(p);
                ps.triples as f64 / ps.objects.max(1) as f64
            }
            _ => 4.0,
        })
    }

    /// (matches per input row, matches with only the constants bound).
    fn estimate(&self, pat: &Pattern, st: &State, ranges: &[(Id, Id)]) -> Result<(f64, f64)> {
        let known = |t: &PTerm| match t {
            PTerm::Const(_) | PTerm::OneOf(_) => Known::Const,
            PTerm::Var(v) if st.bound(v) => Known::Bound,
            _ => Known::Free,
        };
        let (ks, kp, ko) = (known(&pat.s), known(&pat.p), known(&pat.o));
        let consts = |t: &PTerm| -> Vec<Option<Id>> {
            match t {
                PTerm::Const(id) => vec![Some(*id)],
                PTerm::OneOf(ids) => ids.iter().map(|i| Some(*i)).collect(),
                _ => vec![None],
            }
        };
        // Planned as every assertion when the source is a variable (bound or not).
        let g = pat.g.selector(|_| None).unwrap_or(GraphSel::Any);
        let stats = self.cx.store.stats()?;
        let mut per_row = 0.0;
        let mut card = 0.0;
        if pat.stored {
            // Constants only: probe the index.
            let mut c = 0.0;
            let with_consts = ks == Known::Const || ko == Known::Const || !ranges.is_empty();
            if with_consts {
                for s in consts(&pat.s) {
                    for p in consts(&pat.p) {
                        for o in consts(&pat.o) {
                            for r in range_options(ranges, false) {
                                c += self.cx.store.estimate(&IdPattern {
                                    s,
                                    p,
                                    o,
                                    g,
                                    o_range: r,
                                })? as f64;
                            }
                        }
                    }
                }
            } else if let PTerm::Const(p) = pat.p {
                c = stats.pred(p).triples as f64;
                if matches!(pat.g, GTerm::Const(_)) {
                    c = self.cx.store.estimate(&IdPattern {
                        s: None,
                        p: Some(p),
                        o: None,
                        g,
                        o_range: None,
                    })? as f64;
                }
            } else {
                c = stats.triples as f64;
            }
            let (subjects, objects) = match pat.p {
                PTerm::Const(p) => {
                    let ps = stats.pred(p);
                    (ps.subjects.max(1) as f64, ps.objects.max(1) as f64)
                }
                _ => (
                    (stats.triples as f64 / 8.0).max(1.0),
                    (stats.triples as f64 / 4.0).max(1.0),
                ),
            };
            let mut m = c;
            if ks == Known::Bound {
                m /= subjects;
            }
            if ko == Known::Bound {
                m /= objects;
            }
            if kp == Known::Bound {
                m /= 4.0;
            }
            per_row += m;
            card += c;
        }
        if pat.derived {
            // The relation the pattern reads: after a magic-set rewrite, the adorned one.
            let rels: Vec<&super::derived::Relation> = match (&pat.p, &pat.var_rels) {
                (PTerm::Const(p), _) => self
                    .derived
                    .relation(pat.relation_for(*p), pat.delta_only)
                    .into_iter()
                    .collect(),
                (_, Some(rels)) => rels
                    .iter()
                    .filter_map(|(_, r)| self.derived.relation(*r, pat.delta_only))
                    .collect(),
                _ => self.derived.relations().collect(),
            };
            fn fixed(t: &PTerm) -> Option<&[Id]> {
                match t {
                    PTerm::Const(id) => Some(std::slice::from_ref(id)),
                    PTerm::OneOf(ids) => Some(ids),
                    _ => None,
                }
            }
            for rel in rels {
                let (m, n) = rel.estimate(
                    fixed(&pat.s),
                    fixed(&pat.o),
                    ks == Known::Bound,
                    ko == Known::Bound,
                );
                per_row += m;
                card += n;
            }
        }
        Ok((per_row, card))
    }
}

/// Filters we cannot estimate: a guess by kind.
fn selectivity(ex: &Ex) -> f64 {
    match ex {
        Ex::Cmp(CmpOp::Eq, ..) => 0.1,
        Ex::Cmp(CmpOp::Ne, ..) => 0.9,
        Ex::Cmp(..) => 0.4,
        Ex::Call(..) => 0.2,
        _ => 0.5,
    }
}

/// What the text index can be asked for a filter on slot `x`: `contains`, `starts_with`
/// or `matches` of `x` (or of `lower(x)`) with a constant text.  `None` when the filter
/// is not one of those, or the index cannot narrow it (a needle shorter than three
/// characters, a regular expression with no literal).
pub fn text_filter(ex: &Ex, x: Slot) -> Option<TextQuery> {
    let Ex::Call(f, args) = ex else { return None };
    let [subject, Ex::Const(needle, _)] = args.as_slice() else {
        return None;
    };
    let lowered = match subject {
        Ex::Slot(s) if *s == x => false,
        Ex::Call(Func::Lower, a) if matches!(a.as_slice(), [Ex::Slot(s)] if *s == x) => true,
        _ => return None,
    };
    let needle = needle.text()?;
    // Indexed texts are folded, so `lower(x)` is served like `x`; only the exact prefix
    // order of the dictionary needs the text as written.
    let q = match f {
        Func::Contains => TextQuery::contains(needle),
        Func::StartsWith if lowered => TextQuery::contains(needle),
        Func::StartsWith => TextQuery::prefix(needle),
        Func::Matches => TextQuery::regex(needle),
        _ => return None,
    };
    (!q.is_any()).then_some(q)
}

/// The id ranges of values that can satisfy a comparison of slot `x` with a constant: a
/// superset (the filter still runs on every row), or `None` when no range applies.
pub fn filter_ranges(ex: &Ex, x: Slot) -> Option<Vec<(Id, Id)>> {
    let Ex::Cmp(op, a, b) = ex else { return None };
    let (op, other) = match (&**a, &**b) {
        (Ex::Slot(s), other) if *s == x => (*op, other),
        (other, Ex::Slot(s)) if *s == x => (flip(*op)?, other),
        _ => return None,
    };
    match other {
        // Integers compared with a date are years: keep every integer in the scan (a date
        // predicate holds none, so this costs one empty probe) and let the filter decide.
        Ex::Range(r) => date_ranges(op, r.start, r.end).map(with_all_ints),
        Ex::Const(Value::Date(d), _) => {
            if op == CmpOp::Eq {
                let id = Id::date(d);
                return Some(with_all_ints(vec![(id, id.successor())]));
            }
            date_ranges(op, d.start_day(), d.end_day()).map(with_all_ints)
        }
        Ex::Const(Value::Int(i), _) => {
            let mut r = numeric_ranges(op, *i as f64)?;
            // The integers exactly (`*i as f64` rounds past 2^53).
            if let Some(ints) = r.first_mut() {
                *ints = match op {
                    CmpOp::Lt | CmpOp::Le => (Id::new(kind::INT, 0), Id::int(*i).successor()),
                    CmpOp::Gt | CmpOp::Ge => (Id::int(*i), Id::new(kind::INT + 1, 0)),
                    _ => (Id::int(*i), Id::int(*i).successor()),
                };
            }
            // An integer compared with a date is a year.
            if let Some(year) = i32::try_from(*i)
                .ok()
                .and_then(|y| crate::model::Date::year(y).ok())
            {
                if op == CmpOp::Eq {
                    let id = Id::date(&year);
                    r.push((id, id.successor()));
                } else {
                    r.extend(date_ranges(op, year.start_day(), year.end_day())?);
                }
            }
            Some(r)
        }
        Ex::Const(Value::Float(f), _) => numeric_ranges(op, *f),
        _ => None,
    }
}

fn with_all_ints(mut r: Vec<(Id, Id)>) -> Vec<(Id, Id)> {
    r.push((Id::new(kind::INT, 0), Id::new(kind::INT + 1, 0)));
    r
}

fn flip(op: CmpOp) -> Option<CmpOp> {
    Some(match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        CmpOp::Eq => CmpOp::Eq,
        _ => return None,
    })
}

/// Dates are keyed by (start day, precision) and last at most 366 days.
fn date_ranges(op: CmpOp, start: i32, end: i32) -> Option<Vec<(Id, Id)>> {
    let lo_of = |day: i32| Id::date_key(day, Precision::Year);
    let hi_of = |day: i32| Id::date_key(day, Precision::Day).successor();
    let min = Id::new(kind::DATE, 0);
    let max = Id::new(kind::DATE + 1, 0);
    let r = match op {
        CmpOp::In => (lo_of(start), hi_of(end)),
        CmpOp::Overlaps => (lo_of(start - 366), hi_of(end)),
        CmpOp::Lt => (min, lo_of(start)),
        CmpOp::Le => (min, hi_of(end)),
        CmpOp::Gt => (lo_of(end + 1), max),
        CmpOp::Ge => (lo_of(start), max),
        CmpOp::Eq => (lo_of(start), hi_of(start)),
        CmpOp::Ne => return None,
    };
    Some(vec![r])
}

fn numeric_ranges(op: CmpOp, v: f64) -> Option<Vec<(Id, Id)>> {
    if v.is_nan() {
        return None;
    }
    let (lo, hi) = match op {
        CmpOp::Lt | CmpOp::Le => (f64::NEG_INFINITY, v),
        CmpOp::Gt | CmpOp::Ge => (v, f64::INFINITY),
        CmpOp::Eq => (v, v),
        _ => return None,
    };
    let int_lo = if lo.is_finite() {
        Id::int(lo.floor().max(i64::MIN as f64) as i64)
    } else {
        Id::new(kind::INT, 0)
    };
    let int_hi = if hi.is_finite() {
        Id::int(hi.ceil().min(i64::MAX as f64) as i64).successor()
    } else {
        Id::new(kind::INT + 1, 0)
    };
    let f_lo = if lo == 0.0 {
        Id::float(-0.0)
    } else {
        Id::float(lo)
    };
    let f_hi = if hi == 0.0 {
        Id::float(0.0)
    } else {
        Id::float(hi)
    };
    Some(vec![(int_lo, int_hi), (f_lo, f_hi.successor())])
}

/// One line describing a step (explain, and tie-break keys of `or` blocks).
pub fn step_text(k: &StepKind) -> String {
    match k {
        StepKind::Scan { pat, ranges, text } => format!(
            "scan {}{}",
            pat.text,
            match text {
                Some(t) => format!(" (text {})", t.filter.text),
                None if ranges.is_empty() => String::new(),
                None => " (range)".into(),
            }
        ),
        StepKind::HashJoin { pat, .. } => format!("hash join {}", pat.text),
        StepKind::Filter(f) => format!("filter {}", f.text),
        StepKind::NotExists { hashed, .. } => format!(
            "not exists ({})",
            if *hashed { "hashed" } else { "per row" }
        ),
        StepKind::Optional { .. } => "optional".into(),
        StepKind::Union { .. } => "or".into(),
        StepKind::Nothing { text } => format!("nothing matches {text}"),
    }
}
