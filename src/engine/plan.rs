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
use super::exec::Interrupt;
use super::ir::{range_options, Body, Ex, Filter, GTerm, Item, PTerm, Pattern, Slot};
use crate::error::Result;
use crate::lang::ast::{CmpOp, Func};
use crate::model::{Precision, Value};
use crate::store::{kind, GraphSel, Id, IdPattern, PredStats, TextQuery};
use rustc_hash::FxHashMap;
use std::cell::{Cell, RefCell};

/// Cost units: roughly microseconds on this machine kind.
/// One index probe: a B-tree descent in sled (~1.4 µs) and a partial block decode.
pub const SEEK: f64 = 3.0;
pub const ROW: f64 = 0.03;
/// Per row of a hash table: a sequential scan of packed blocks and an insert.
pub const HASH_BUILD: f64 = 0.12;
pub const HASH_PROBE: f64 = 0.05;
pub const FILTER_COST: f64 = 0.05;
/// A lookup in the block the one before it read (sorted lookups): no tree descent.
pub const SORTED_PROBE: f64 = 0.5;
/// Index entries per block, about (blocks hold up to 512).
pub const BLOCK_ENTRIES: f64 = 400.0;
/// A text filter on a row: the string decoded, then searched.
pub const TEXT_FILTER_COST: f64 = 0.25;

#[derive(Debug, Clone)]
pub enum StepKind {
    /// For each input row, scan the index with the row's bindings (the first step of a
    /// plan is a plain scan).
    Scan {
        pat: Pattern,
        ranges: Vec<(Id, Id)>,
        /// When to run the lookups as a hash join instead (see [`Switch`]).
        switch: Option<Box<Switch>>,
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
    /// Rows in batches of [`SORT_BATCH`], each sorted by a slot, so that the lookups after
    /// it visit their index in order (only in a query's top-level plan; see
    /// [`Planner::sort_lookups`]).
    Sort {
        by: Slot,
    },
    /// A self-join of one predicate on a shared variable (`?e party ?a, ?e party ?b`):
    /// its facts read once, grouped by the shared variable, then every pair within each
    /// group (instead of a scan and a hash join over the same facts).
    Pairs {
        first: Pattern,
        second: Pattern,
        /// The shared variable, and whether it is the subject (else the object).
        key: Slot,
        by_subject: bool,
    },
}

/// Index lookups planned on an estimate of the rows that reach them, and the hash join
/// that beats them when many more rows come: the executor counts the rows and switches
/// once they would have cost less through the hash join (an estimate through a skewed
/// join can be off by an order of magnitude; the table's cost is known exactly).  The
/// lookups then never cost more than about twice the cheaper of the two.
#[derive(Debug, Clone)]
pub struct Switch {
    /// The lookup's bound variables (the hash join's keys).
    pub keys: Vec<Slot>,
    /// Entries the table will hold.
    pub build_rows: usize,
    /// Cost of building the table, and of probing it per row.
    pub hash_fixed: f64,
    pub hash_per_row: f64,
    /// Blocks the lookups spread over when they come in index order (infinite when they
    /// do not: each descends the tree).
    pub blocks: f64,
    /// Cost per lookup besides the descents.
    pub lookup_per_row: f64,
}

impl Switch {
    /// Whether `n` rows cost less through the hash join than through lookups.
    pub fn hash_is_cheaper(&self, n: usize) -> bool {
        let n = n as f64;
        self.hash_fixed + n * self.hash_per_row
            < n.min(self.blocks) * SEEK + n * self.lookup_per_row
    }
}

/// Object ranges `[lo, hi)` of an index scan.
type IdRanges = Vec<(Id, Id)>;

/// Rows a sort step holds at a time (few in unit tests, so that they cross batches).
pub const SORT_BATCH: usize = if cfg!(test) { 64 } else { 4096 };

/// Fewer rows than this reach a lookup in any order: no sort before it.
pub const SORT_MIN_ROWS: f64 = 32.0;

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
    /// The filter whose ranges are pushed.
    pushed: Option<usize>,
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
    /// Checked while planning: a huge body must not outlive the time limit.
    interrupt: Option<&'p Interrupt>,
    /// Every statistic planning read (see [`Readings`]).
    readings: RefCell<Readings>,
    /// The hash joins kept in reserve for sorted lookups, by the lookup's step id.
    switches: RefCell<FxHashMap<usize, Switch>>,
}

/// The statistics a plan was made from.  A cached plan is reused while each of them is
/// still about what it was (see `engine::cache`).
#[derive(Debug, Clone, Default)]
pub struct Readings {
    /// The counts of each predicate read.
    pub preds: FxHashMap<Id, PredStats>,
    /// The number of distinct triples, when read.
    pub triples: Option<u64>,
    /// Index estimates, by pattern.
    pub estimates: FxHashMap<IdPattern, u64>,
    /// Text index estimates (terms a query finds), by query.
    pub texts: FxHashMap<TextQuery, Option<u64>>,
    /// Whether a predicate has a float among its objects, by predicate.
    pub floats: FxHashMap<Id, bool>,
}

/// Whether predicate `p` has a float among its objects.
pub fn has_float_objects(store: &crate::store::Store, p: Id) -> Result<bool> {
    store.any(&IdPattern {
        s: None,
        p: Some(p),
        o: None,
        g: GraphSel::Any,
        o_range: Some((Id::new(kind::FLOAT, 0), Id::new(kind::FLOAT + 1, 0))),
    })
}

/// The filters and `not`s of a body, each placed as soon as the variables it needs are
/// settled; `placed_*[i]` says whether the `i`th one is in the plan yet.  Only those a
/// change of binding concerns are checked again (`recheck_*`).
struct Waiting<'b> {
    filters: Vec<&'b Filter>,
    placed_filters: Vec<bool>,
    /// Filters whose ranges a placed scan reads already: they keep (nearly) every row.
    pushed: Vec<bool>,
    /// The slots each filter reads.
    filter_slots: Vec<Vec<Slot>>,
    nots: Vec<&'b Body>,
    placed_nots: Vec<bool>,
    /// The slots each `not` shares with the rest of the body.
    not_shared: Vec<Vec<Slot>>,
    recheck_filters: Vec<usize>,
    recheck_nots: Vec<usize>,
    /// Per slot: the filters and the `not`s that mention it.
    slot_filters: Vec<Vec<usize>>,
    slot_nots: Vec<Vec<usize>>,
}

impl Waiting<'_> {
    /// A slot became bound or settled: check what mentions it again.
    fn touch(&mut self, s: Slot) {
        if let Some(fs) = self.slot_filters.get(s) {
            self.recheck_filters.extend(fs.iter().copied());
        }
        if let Some(ns) = self.slot_nots.get(s) {
            self.recheck_nots.extend(ns.iter().copied());
        }
    }
}

/// How a slot is bound at a point of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Bind {
    #[default]
    Free,
    /// Bound in some rows, unbound (matching anything) in others.
    Maybe,
    /// Bound in every row.
    Certain,
}

/// What is bound while a body is planned.
struct State {
    /// Bound in every row, in the order they became so.
    certain: Vec<Slot>,
    /// Bound in some rows only.
    maybe: Vec<Slot>,
    /// Per slot: how it is bound.
    bind: Vec<Bind>,
    /// Per slot: how many units (and optionals) still to be placed may bind it.
    pending: Vec<u32>,
}

impl State {
    fn new(bound: &[Slot], maybe: &[Slot], width: usize) -> State {
        let mut st = State {
            certain: Vec::new(),
            maybe: Vec::new(),
            bind: vec![Bind::Free; width],
            pending: vec![0; width],
        };
        for &s in maybe {
            st.set(s, Bind::Maybe);
        }
        for &s in bound.iter().filter(|s| !maybe.contains(s)) {
            st.set(s, Bind::Certain);
        }
        st
    }

    fn of(&self, s: Slot) -> Bind {
        self.bind.get(s).copied().unwrap_or_default()
    }

    fn is_bound(&self, s: Slot) -> bool {
        self.of(s) != Bind::Free
    }

    fn is_maybe(&self, s: Slot) -> bool {
        self.of(s) == Bind::Maybe
    }

    fn nothing_bound(&self) -> bool {
        self.certain.is_empty() && self.maybe.is_empty()
    }

    /// Every bound slot: the certain ones, then the maybe ones.
    fn all(&self) -> Vec<Slot> {
        let mut v = self.certain.clone();
        v.extend_from_slice(&self.maybe);
        v
    }

    /// Bound for good: certain, or maybe but nothing later could still bind it.
    fn settled(&self, s: Slot) -> bool {
        match self.of(s) {
            Bind::Certain => true,
            Bind::Maybe => self.pending.get(s).copied().unwrap_or(0) == 0,
            Bind::Free => false,
        }
    }

    /// Bind `s` in every row (`Certain`) or in some (`Maybe`, which never downgrades a
    /// certain slot); true when that changed something.
    fn set(&mut self, s: Slot, b: Bind) -> bool {
        if s >= self.bind.len() {
            self.bind.resize(s + 1, Bind::Free);
            self.pending.resize(s + 1, 0);
        }
        match (self.bind[s], b) {
            (Bind::Certain, _) | (_, Bind::Free) | (Bind::Maybe, Bind::Maybe) => false,
            (Bind::Maybe, Bind::Certain) => {
                self.maybe.retain(|m| *m != s);
                self.certain.push(s);
                self.bind[s] = b;
                true
            }
            (Bind::Free, _) => {
                if b == Bind::Certain {
                    self.certain.push(s);
                } else {
                    self.maybe.push(s);
                }
                self.bind[s] = b;
                true
            }
        }
    }

    fn add_pending(&mut self, s: Slot) {
        if s >= self.pending.len() {
            self.bind.resize(s + 1, Bind::Free);
            self.pending.resize(s + 1, 0);
        }
        self.pending[s] += 1;
    }

    /// One fewer unit may bind `s`; true when none is left.
    fn drop_pending(&mut self, s: Slot) -> bool {
        match self.pending.get_mut(s) {
            Some(n) if *n > 0 => {
                *n -= 1;
                *n == 0
            }
            _ => false,
        }
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

/// Where a body is planned: the query's own plan (sorted lookups, and sorts, are possible
/// only there), and how many times it runs in a query (a correlated `not` or an
/// `optional` runs once per row: a hash table it builds serves all of them).
#[derive(Debug, Clone, Copy)]
struct Scope {
    top: bool,
    runs: f64,
}

impl Scope {
    /// A query's plan.
    const QUERY: Scope = Scope {
        top: true,
        runs: 1.0,
    };
    /// A plan run once (rules, an independent `not`, an `or` branch as costed per row).
    const ONCE: Scope = Scope {
        top: false,
        runs: 1.0,
    };

    /// A sub-plan run for each of `rows` rows of this one.
    fn per_row(self, rows: f64) -> Scope {
        Scope {
            top: false,
            runs: (self.runs * rows).max(1.0),
        }
    }
}

/// How a position of a pattern is known when the pattern runs.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Known {
    Const,
    Bound,
    Free,
}

/// A join unit (a pattern or an `or` block) waiting to be placed, with its candidate step
/// for the current bindings: computed again only when a slot it mentions changes.
struct Unit<'b> {
    item: &'b Item,
    /// Slots it binds, each once.
    binds: Vec<Slot>,
    /// Slots it mentions (what it binds, and what its branches read).
    slots: Vec<Slot>,
    cand: Option<Cand<'b>>,
    placed: bool,
    /// Already among the connected candidates.
    listed: bool,
}

/// A unit's best step for the current bindings, per input row: the planner scales it by
/// the rows that come in when it compares the units.
struct Cand<'b> {
    connected: bool,
    /// Rows out per row in.
    per_row: f64,
    /// Cost per row in (index lookups, or the `or` branches).
    per_row_cost: f64,
    /// A hash join is possible: (fixed cost of building the table, cost per row in).
    hash: Option<(f64, f64)>,
    /// Lookups fed in the order of their index: the blocks they spread over.
    sorted: Option<f64>,
    what: CandKind<'b>,
    /// Slots bound by some rows only (an `or` branch that binds them).
    maybe_binds: Vec<Slot>,
    unique: bool,
    /// Tie-break: the pattern's text, or the `or` block's steps.
    key: String,
}

enum CandKind<'b> {
    /// The pattern names something the store has never seen.
    Nothing(&'b Pattern),
    Pattern {
        pat: &'b Pattern,
        ranges: Vec<(Id, Id)>,
        text: Option<Box<TextScan>>,
        keys: Vec<Slot>,
        card: f64,
        /// The filter whose ranges are pushed into the scan.
        pushed: Option<usize>,
    },
    Or {
        plans: Vec<Plan>,
    },
}

impl Cand<'_> {
    /// (rows after the step, its cost, whether it is a hash join) for `rows` rows in.
    fn cost(&self, rows: f64) -> (f64, f64, bool) {
        match self.what {
            CandKind::Nothing(_) => (0.0, 0.0, false),
            CandKind::Or { .. } => (rows * self.per_row, rows * self.per_row_cost, false),
            CandKind::Pattern { .. } => {
                let inl = match self.sorted {
                    // Sorted, the lookups read each block of their index once.
                    Some(blocks) if rows >= SORT_MIN_ROWS => {
                        rows.min(blocks) * SEEK + rows * (SORTED_PROBE + self.per_row_cost - SEEK)
                    }
                    _ => rows * self.per_row_cost,
                };
                match self.hash {
                    Some((fixed, per)) if rows > 1.0 => {
                        let hash = fixed + rows * per;
                        if hash < inl {
                            (rows * self.per_row, hash, true)
                        } else {
                            (rows * self.per_row, inl, false)
                        }
                    }
                    _ => (rows * self.per_row, inl, false),
                }
            }
        }
    }
}

impl<'p, 'a> Planner<'p, 'a> {
    pub fn new(cx: &'p Context<'a>, derived: &'p Derived) -> Self {
        Planner {
            cx,
            derived,
            next_id: Cell::new(0),
            interrupt: None,
            readings: RefCell::default(),
            switches: RefCell::default(),
        }
    }

    /// Stop planning with the query's error once it is cancelled or out of time.
    pub fn with_interrupt(mut self, interrupt: &'p Interrupt) -> Self {
        self.interrupt = Some(interrupt);
        self
    }

    /// The statistics read so far.
    pub fn readings(&self) -> Readings {
        self.readings.borrow().clone()
    }

    fn id(&self) -> usize {
        let i = self.next_id.get();
        self.next_id.set(i + 1);
        i
    }

    /// The store's estimate for `ip`, noted among the readings.
    fn store_estimate(&self, ip: &IdPattern) -> Result<u64> {
        if let Some(n) = self.readings.borrow().estimates.get(ip) {
            return Ok(*n);
        }
        let n = self.cx.store.estimate(ip)?;
        self.readings.borrow_mut().estimates.insert(*ip, n);
        Ok(n)
    }

    /// The text index's estimate for `q`, noted among the readings.
    fn text_estimate(&self, q: &TextQuery) -> Result<Option<u64>> {
        if let Some(n) = self.readings.borrow().texts.get(q) {
            return Ok(*n);
        }
        let n = self.cx.store.text_estimate(q)?;
        self.readings.borrow_mut().texts.insert(q.clone(), n);
        Ok(n)
    }

    /// The counts of predicate `p`, noted among the readings.
    fn pred_stats(&self, p: Id) -> Result<PredStats> {
        if let Some(ps) = self.readings.borrow().preds.get(&p) {
            return Ok(*ps);
        }
        let ps = self.cx.store.stats()?.pred(p);
        self.readings.borrow_mut().preds.insert(p, ps);
        Ok(ps)
    }

    /// Whether two facts of `pat` can bind its object variable to different ids of numbers
    /// `=` equates (`5` and `5.0`, `-0.0` and `0.0`): then two solutions the plan makes
    /// are one, and must be deduplicated.  That takes a float among the predicate's
    /// objects: one probe of the index, noted among the readings (a cached plan ends when
    /// the answer changes).
    fn equal_numbers_possible(&self, pat: &Pattern) -> Result<bool> {
        if !matches!(pat.o, PTerm::Var(_)) {
            return Ok(false);
        }
        if pat.derived || self.cx.delta.is_some_and(|d| !d.is_empty()) {
            return Ok(true);
        }
        // Any predicate: assume so (a new predicate would not end a cached plan).
        let PTerm::Const(p) = pat.p else {
            return Ok(true);
        };
        if let Some(&known) = self.readings.borrow().floats.get(&p) {
            return Ok(known);
        }
        let has = has_float_objects(self.cx.store, p)?;
        self.readings.borrow_mut().floats.insert(p, has);
        Ok(has)
    }

    /// The number of distinct triples, noted among the readings.
    fn total_triples(&self) -> Result<u64> {
        if let Some(n) = self.readings.borrow().triples {
            return Ok(n);
        }
        let n = self.cx.store.stats()?.triples;
        self.readings.borrow_mut().triples = Some(n);
        Ok(n)
    }

    /// Plan `body` for rows in which `bound` slots are already bound.
    pub fn plan(&self, body: &Body, bound: &[Slot]) -> Result<Plan> {
        self.plan_in(body, bound, &[], Scope::ONCE)
    }

    /// Plan a query's body: like [`Planner::plan`], with lookups that many rows reach
    /// costed (and run) in the order of their index, a sort before each that needs one
    /// (see [`Planner::sort_lookups`]).
    pub fn plan_query(&self, body: &Body) -> Result<Plan> {
        self.plan_whole(body)
    }

    /// Plan a body run once from nothing bound (a query, or the independent side of a
    /// hashed `not`): sorted lookups, sorts and pairs are possible there.
    fn plan_whole(&self, body: &Body) -> Result<Plan> {
        let mut plan = self.plan_in(body, &[], &[], Scope::QUERY)?;
        self.pair_groups(&mut plan);
        self.sort_lookups(&mut plan);
        Ok(plan)
    }

    /// A plan that starts with a scan of `?k P ?a` and a hash join of `?k P ?b` on `?k`
    /// (or `?a P ?k`, `?b P ?k`) reads `P` once and pairs the facts of each `?k`.
    fn pair_groups(&self, plan: &mut Plan) {
        let [first, second, ..] = plan.steps.as_slice() else {
            return;
        };
        let (
            StepKind::Scan {
                pat: a,
                ranges: ra,
                text: None,
                ..
            },
            StepKind::HashJoin {
                pat: b,
                ranges: rb,
                text: None,
                keys,
                ..
            },
        ) = (&first.kind, &second.kind)
        else {
            return;
        };
        let plain = |p: &Pattern| {
            p.stored
                && !p.derived
                && !p.infer_supertypes
                && !p.delta_only
                && p.g == GTerm::None
                && p.rel.is_none()
                && p.var_rels.is_none()
                && matches!(p.p, PTerm::Const(_))
        };
        let [key] = keys.as_slice() else { return };
        if !ra.is_empty() || !rb.is_empty() || !plain(a) || !plain(b) || a.p != b.p {
            return;
        }
        let var = |t: &PTerm| match t {
            PTerm::Var(v) => Some(*v),
            _ => None,
        };
        let (Some(sa), Some(oa), Some(sb), Some(ob)) = (var(&a.s), var(&a.o), var(&b.s), var(&b.o))
        else {
            return;
        };
        let by_subject = match (sa == *key && sb == *key, oa == *key && ob == *key) {
            (true, false) if oa != ob && oa != *key && ob != *key => true,
            (false, true) if sa != sb && sa != *key && sb != *key => false,
            _ => return,
        };
        // Grouped by object, equal numbers of two forms (`5`, `5.0`) would fall in two
        // groups: the hash join meets them.
        if !by_subject && self.equal_numbers_possible(a).unwrap_or(true) {
            return;
        }
        let step = Step {
            id: second.id,
            kind: StepKind::Pairs {
                first: a.clone(),
                second: b.clone(),
                key: *key,
                by_subject,
            },
            rows: second.rows,
            cost: first.cost + second.cost,
        };
        plan.steps.splice(0..2, [step]);
    }

    /// Sort the rows before an index lookup that many rows reach out of the order of its
    /// index (a type check after a date range, say): consecutive lookups then fall in the
    /// block of the one before, where each would otherwise descend the tree again.  The
    /// order a step's rows come in is that of the first scan's index, kept by every later
    /// step (each extends the rows it gets, in turn) until a sort changes it.
    fn sort_lookups(&self, plan: &mut Plan) {
        let mut sorted_by: Option<Slot> = None;
        let mut bound: Vec<Slot> = Vec::new();
        let mut rows_in = 1.0;
        let mut steps = Vec::with_capacity(plan.steps.len() + 1);
        for (i, step) in std::mem::take(&mut plan.steps).into_iter().enumerate() {
            let mut step = step;
            match &mut step.kind {
                StepKind::Scan {
                    pat, ranges, text, ..
                } if i == 0 => {
                    // Rows found through the text index come in the order of its terms.
                    sorted_by = if text.is_none() {
                        scan_order(pat, ranges)
                    } else {
                        None
                    };
                }
                StepKind::Scan { pat, switch, .. } => {
                    let key = lookup_key(pat, &bound);
                    if key.is_some() && key != sorted_by && rows_in >= SORT_MIN_ROWS {
                        if let Some(by) = key {
                            steps.push(Step {
                                id: self.id(),
                                kind: StepKind::Sort { by },
                                rows: rows_in,
                                cost: 0.0,
                            });
                        }
                        sorted_by = key;
                    }
                    if let Some(mut s) = self.switches.borrow_mut().remove(&step.id) {
                        if key.is_some() && key == sorted_by {
                            s.lookup_per_row += SORTED_PROBE;
                        } else {
                            s.blocks = f64::INFINITY;
                        }
                        *switch = Some(Box::new(s));
                    }
                }
                _ => {}
            }
            match &step.kind {
                StepKind::Scan { pat, .. } | StepKind::HashJoin { pat, .. } => {
                    pat.add_vars(&mut bound)
                }
                StepKind::Pairs { first, second, .. } => {
                    first.add_vars(&mut bound);
                    second.add_vars(&mut bound);
                }
                StepKind::Optional { plan } => bound.extend(&plan.binds),
                StepKind::Union { branches } => {
                    branches.iter().for_each(|b| bound.extend(&b.binds))
                }
                _ => {}
            }
            rows_in = step.rows;
            steps.push(step);
        }
        plan.steps = steps;
    }

    /// Plan `body`; of the `bound` slots, those in `maybe` may be unbound in some rows (an
    /// `or` branch or an `optional` that did not bind them).  An unbound slot matches
    /// anything in an index lookup, so a hash join or hashed `not` keyed on one would lose
    /// rows, and a filter or `not` must wait for every step that could still bind it.
    ///
    /// Greedy: each round places the unit with the fewest rows after it (connected to
    /// what is bound first, then by cost, then by text).  Each unit's candidate step is
    /// kept between rounds and computed again only when a slot it mentions changes, and
    /// only units connected to the bound slots are compared, so a long chain plans in
    /// about linear time.
    fn plan_in(
        &self,
        body: &Body,
        bound: &[Slot],
        maybe_in: &[Slot],
        scope: Scope,
    ) -> Result<Plan> {
        let top = scope.top;
        let mut visible = bound.to_vec();
        body.bound_slots(&mut visible);
        let mut mentioned = Vec::new();
        body.all_slots(&mut mentioned);
        let width = mentioned
            .iter()
            .chain(bound)
            .chain(maybe_in)
            .max()
            .map_or(0, |m| m + 1);
        let mut units: Vec<Unit<'_>> = Vec::new();
        let mut filters: Vec<&Filter> = Vec::new();
        let mut nots: Vec<&Body> = Vec::new();
        let mut optionals: Vec<&Body> = Vec::new();
        for item in &body.items {
            match item {
                Item::Pattern(_) | Item::Or(_) => {
                    let mut binds = Vec::new();
                    bind_slots(item, &mut binds);
                    let mut slots = binds.clone();
                    if let Item::Or(bs) = item {
                        bs.iter().for_each(|b| b.all_slots(&mut slots));
                    }
                    units.push(Unit {
                        item,
                        binds,
                        slots,
                        cand: None,
                        placed: false,
                        listed: false,
                    });
                }
                Item::Filter(f) => filters.push(f),
                Item::Not(b) => nots.push(b),
                Item::Optional(b) => optionals.push(b),
            }
        }
        // Deterministic order for everything placed "when ready": by text, not position.
        filters.sort_by(|a, b| a.text.cmp(&b.text));
        let mut st = State::new(bound, maybe_in, width);
        for u in &units {
            for &s in &u.binds {
                st.add_pending(s);
            }
        }
        for b in &optionals {
            let mut slots = Vec::new();
            b.bound_slots(&mut slots);
            for s in slots {
                st.add_pending(s);
            }
        }
        let mut slot_units: Vec<Vec<usize>> = vec![Vec::new(); width];
        for (i, u) in units.iter().enumerate() {
            for &s in &u.slots {
                if let Some(v) = slot_units.get_mut(s) {
                    if v.last() != Some(&i) {
                        v.push(i);
                    }
                }
            }
        }
        let mut waiting = Waiting {
            placed_filters: vec![false; filters.len()],
            pushed: vec![false; filters.len()],
            filter_slots: filters
                .iter()
                .map(|f| {
                    let mut v = Vec::new();
                    f.ex.slots(&mut v);
                    v
                })
                .collect(),
            placed_nots: vec![false; nots.len()],
            not_shared: nots
                .iter()
                .map(|b| {
                    let mut v = Vec::new();
                    b.all_slots(&mut v);
                    v.retain(|s| visible.contains(s));
                    v
                })
                .collect(),
            recheck_filters: (0..filters.len()).collect(),
            recheck_nots: (0..nots.len()).collect(),
            slot_filters: vec![Vec::new(); width],
            slot_nots: vec![Vec::new(); width],
            filters,
            nots,
        };
        for (i, slots) in waiting.filter_slots.iter().enumerate() {
            for &s in slots {
                if let Some(v) = waiting.slot_filters.get_mut(s) {
                    v.push(i);
                }
            }
        }
        for (i, slots) in waiting.not_shared.iter().enumerate() {
            for &s in slots {
                if let Some(v) = waiting.slot_nots.get_mut(s) {
                    v.push(i);
                }
            }
        }
        let mut plan = Plan {
            rows: 1.0,
            unique: true,
            ..Plan::default()
        };
        // Units connected to what is bound (candidates before any other).
        let mut connected: Vec<usize> = Vec::new();
        for (i, u) in units.iter_mut().enumerate() {
            let pattern_without_vars = matches!(u.item, Item::Pattern(_)) && u.binds.is_empty();
            if pattern_without_vars || u.slots.iter().any(|&s| st.is_bound(s)) {
                u.listed = true;
                connected.push(i);
            }
        }
        let mut left = units.len();
        let mut optionals = optionals.into_iter();
        loop {
            if let Some(i) = self.interrupt {
                i.check()?;
            }
            self.place_ready(&mut waiting, &mut units, &slot_units, &st, &mut plan, scope)?;
            if left == 0 {
                let Some(b) = optionals.next() else { break };
                let all = st.all();
                let sub = self.plan_in(b, &all, &st.maybe, scope.per_row(plan.rows))?;
                let mut taken = Vec::new();
                b.bound_slots(&mut taken);
                for s in taken {
                    if st.drop_pending(s) && st.settled(s) {
                        waiting.touch(s);
                    }
                }
                let rows = plan.rows * sub.rows.max(1.0);
                plan.cost += plan.rows * sub.cost;
                plan.rows = rows;
                for &s in &sub.binds {
                    if st.set(s, Bind::Maybe) && st.settled(s) {
                        waiting.touch(s);
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
            // The candidates: the connected units (any of them beats every other), or
            // all units when none is connected.
            connected.retain(|&i| !units[i].placed);
            let everything: Vec<usize>;
            let candidates: &[usize] = if connected.is_empty() || st.nothing_bound() {
                everything = (0..units.len()).filter(|&i| !units[i].placed).collect();
                &everything
            } else {
                &connected
            };
            let mut best: Option<(usize, (bool, f64, f64, bool))> = None;
            for &i in candidates {
                if units[i].cand.is_none() {
                    let c = self.candidate(units[i].item, &st, &waiting, scope)?;
                    units[i].cand = Some(c);
                }
                let Some(c) = &units[i].cand else { continue };
                let (rows_after, cost, hash) = c.cost(plan.rows);
                let better = match &best {
                    None => true,
                    Some((b, (bc, br, bcost, _))) => {
                        let key_b = units[*b].cand.as_ref().map_or("", |x| x.key.as_str());
                        (!c.connected, rows_after, cost, c.key.as_str())
                            < (!*bc, *br, *bcost, key_b)
                    }
                };
                if better {
                    best = Some((i, (c.connected, rows_after, cost, hash)));
                }
            }
            let Some((index, (_, rows_after, cost, hash))) = best else {
                break;
            };
            let unit = &mut units[index];
            unit.placed = true;
            left -= 1;
            let Some(c) = unit.cand.take() else { break };
            let placed_binds = unit.binds.clone();
            let step_id = self.id();
            let was_empty = st.nothing_bound();
            let kind = match c.what {
                CandKind::Nothing(pat) => StepKind::Nothing {
                    text: pat.text.clone(),
                },
                CandKind::Or { plans } => StepKind::Union { branches: plans },
                CandKind::Pattern {
                    pat,
                    ranges,
                    text,
                    keys,
                    card,
                    pushed,
                } => {
                    if let Some(f) = pushed {
                        if let Some(p) = waiting.pushed.get_mut(f) {
                            *p = true;
                        }
                    }
                    let build_rows = card.min(1e8) as usize;
                    if hash {
                        StepKind::HashJoin {
                            pat: pat.clone(),
                            ranges,
                            text,
                            keys,
                            build_rows,
                        }
                    } else {
                        if let (Some((fixed, per_row)), true, None) = (c.hash, top, &text) {
                            // Lookups chosen on an estimate of the rows: a hash join is
                            // kept in reserve for when many more come (see `Switch`;
                            // `sort_lookups` settles the lookups' cost).
                            self.switches.borrow_mut().insert(
                                step_id,
                                Switch {
                                    keys: keys.clone(),
                                    build_rows,
                                    hash_fixed: fixed,
                                    hash_per_row: per_row,
                                    blocks: c.sorted.unwrap_or(f64::INFINITY),
                                    lookup_per_row: c.per_row_cost - SEEK,
                                },
                            );
                        }
                        StepKind::Scan {
                            pat: pat.clone(),
                            ranges,
                            switch: None,
                            text,
                        }
                    }
                }
            };
            let binds = match &kind {
                StepKind::Union { branches } => {
                    // Bound whatever branch ran: only what every branch binds.
                    let mut union: Vec<Slot> = Vec::new();
                    for p in branches {
                        for s in &p.binds {
                            if !union.contains(s) {
                                union.push(*s);
                            }
                        }
                    }
                    union.retain(|s| branches.iter().all(|p| p.binds.contains(s)));
                    union
                }
                _ => placed_binds.clone(),
            };
            let mut changed: Vec<Slot> = Vec::new();
            for &s in &binds {
                if st.set(s, Bind::Certain) {
                    changed.push(s);
                }
            }
            for &s in &c.maybe_binds {
                if st.set(s, Bind::Maybe) {
                    changed.push(s);
                }
            }
            for s in placed_binds {
                if st.drop_pending(s) && st.is_maybe(s) {
                    waiting.touch(s);
                }
            }
            for &s in &changed {
                waiting.touch(s);
                for &u in slot_units.get(s).map_or(&[][..], Vec::as_slice) {
                    let unit = &mut units[u];
                    if !unit.placed {
                        unit.cand = None;
                        if !unit.listed {
                            unit.listed = true;
                            connected.push(u);
                        }
                    }
                }
            }
            if was_empty && !st.nothing_bound() {
                // "Connected" meant anything until something was bound.
                for u in units.iter_mut() {
                    u.cand = None;
                }
            }
            plan.unique &= c.unique;
            plan.rows = rows_after;
            plan.cost += cost;
            plan.steps.push(Step {
                id: step_id,
                kind,
                rows: rows_after,
                cost,
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
                let sub = self.plan_in(b, &st.all(), &st.maybe, scope.per_row(plan.rows))?;
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

    /// Place the filters and `not`s whose variables are all settled now, in a fixed order
    /// (filters by text, then `not`s); a placed filter changes the pushdowns of the units
    /// that read its variables.
    fn place_ready(
        &self,
        waiting: &mut Waiting<'_>,
        units: &mut [Unit<'_>],
        slot_units: &[Vec<usize>],
        st: &State,
        plan: &mut Plan,
        scope: Scope,
    ) -> Result<()> {
        let mut ready: Vec<usize> = std::mem::take(&mut waiting.recheck_filters);
        ready.sort_unstable();
        ready.dedup();
        for i in ready {
            if waiting.placed_filters[i] || !waiting.filter_slots[i].iter().all(|&s| st.settled(s))
            {
                continue;
            }
            waiting.placed_filters[i] = true;
            for &s in &waiting.filter_slots[i] {
                for &u in slot_units.get(s).map_or(&[][..], Vec::as_slice) {
                    units[u].cand = None;
                }
            }
            let f = waiting.filters[i];
            let cost = plan.rows * FILTER_COST;
            if !waiting.pushed[i] {
                plan.rows *= selectivity(&f.ex);
            }
            plan.cost += cost;
            plan.steps.push(Step {
                id: self.id(),
                kind: StepKind::Filter(f.clone()),
                rows: plan.rows,
                cost,
            });
        }
        let mut ready: Vec<usize> = std::mem::take(&mut waiting.recheck_nots);
        ready.sort_unstable();
        ready.dedup();
        for i in ready {
            let shared = &waiting.not_shared[i];
            if waiting.placed_nots[i] || !shared.iter().all(|&s| st.settled(s)) {
                continue;
            }
            waiting.placed_nots[i] = true;
            let b = waiting.nots[i];
            let shared = shared.clone();
            let all = st.all();
            let correlated = self.plan_in(b, &all, &st.maybe, scope.per_row(plan.rows))?;
            let corr_cost = plan.rows
                * correlated
                    .cost
                    .min(correlated.cost / correlated.rows.max(1.0) + SEEK);
            let mut own = Vec::new();
            b.bound_slots(&mut own);
            let exists = correlated.rows.min(1.0);
            let mut chosen = (
                StepKind::NotExists {
                    plan: correlated,
                    keys: shared.clone(),
                    hashed: false,
                },
                corr_cost,
            );
            if !shared.is_empty()
                && shared
                    .iter()
                    .all(|&s| own.contains(&s) && st.of(s) == Bind::Certain)
            {
                let independent = self.plan_whole(b)?;
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

    /// A unit's candidate step under the current bindings.
    fn candidate<'b>(
        &self,
        unit: &'b Item,
        st: &State,
        waiting: &Waiting<'_>,
        scope: Scope,
    ) -> Result<Cand<'b>> {
        match unit {
            Item::Pattern(pat) => self.pattern_candidate(pat, st, waiting, scope),
            Item::Or(branches) => {
                let all = st.all();
                let mut plans = Vec::new();
                let (mut r, mut c) = (0.0, 0.0);
                let mut union: Vec<Slot> = Vec::new();
                let mut key = String::from("or");
                for b in branches {
                    let p = self.plan_in(b, &all, &st.maybe, Scope::ONCE)?;
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
                let maybe_binds: Vec<Slot> = union
                    .iter()
                    .copied()
                    .filter(|s| !plans.iter().all(|p| p.binds.contains(s)))
                    .collect();
                let mut mentioned = Vec::new();
                for b in branches {
                    b.all_slots(&mut mentioned);
                }
                let connected = all.is_empty() || mentioned.iter().any(|&s| st.is_bound(s));
                Ok(Cand {
                    connected,
                    per_row: r,
                    per_row_cost: c,
                    hash: None,
                    sorted: None,
                    what: CandKind::Or { plans },
                    maybe_binds,
                    unique: false,
                    key,
                })
            }
            _ => Err(crate::error::Error::Invalid(
                "only patterns and or-blocks are join units".into(),
            )),
        }
    }

    fn pattern_candidate<'b>(
        &self,
        pat: &'b Pattern,
        st: &State,
        waiting: &Waiting<'_>,
        scope: Scope,
    ) -> Result<Cand<'b>> {
        let vars = pat.vars();
        let keys: Vec<Slot> = vars.iter().copied().filter(|&v| st.is_bound(v)).collect();
        let connected = st.nothing_bound() || !keys.is_empty() || vars.is_empty();
        let unique = !matches!(pat.s, PTerm::Any)
            && !matches!(pat.p, PTerm::Any)
            && !matches!(pat.o, PTerm::Any | PTerm::OneOf(_))
            && !pat.infer_supertypes
            && (matches!(pat.p, PTerm::Const(_)) || self.cx.subtypes.is_empty())
            && !(pat.stored && pat.derived)
            && !self.equal_numbers_possible(pat)?;
        if pat.is_never() {
            return Ok(Cand {
                connected: true,
                per_row: 0.0,
                per_row_cost: 0.0,
                hash: None,
                sorted: None,
                what: CandKind::Nothing(pat),
                maybe_binds: Vec::new(),
                unique,
                key: pat.text.clone(),
            });
        }
        let Pushdown {
            pushed,
            ranges,
            text,
        } = self.pushdown(pat, st, &waiting.filters, &waiting.placed_filters)?;
        let (mut per_row, mut card) = self.estimate(pat, &|s| st.is_bound(s), &ranges)?;
        let mut per_row_cost = SEEK + per_row * ROW;
        let text = match text {
            Some((t, terms)) => {
                // Each term found is one lookup; rows as many as those terms hold.
                per_row = terms * self.triples_per_object(pat)?;
                per_row_cost = SEEK * (1.0 + terms) + per_row * ROW;
                card = per_row;
                Some(Box::new(t))
            }
            None => None,
        };
        // Derived patterns too: a table built once from the derived relation beats a
        // lookup per row when many rows come (the rules' own bodies, above all).
        let hashable = !keys.is_empty() && keys.len() <= 3 && !keys.iter().any(|&k| st.is_maybe(k));
        let bound: Vec<Slot> = keys.clone();
        let sorted = match lookup_key(pat, &bound) {
            Some(_) if scope.top && text.is_none() => Some(self.lookup_blocks(pat, st)?),
            _ => None,
        };
        Ok(Cand {
            connected,
            per_row,
            per_row_cost,
            // The table is built once however many times the plan runs.
            hash: hashable.then_some((
                (SEEK + card * HASH_BUILD) / scope.runs,
                HASH_PROBE + per_row * ROW,
            )),
            sorted,
            what: CandKind::Pattern {
                pat,
                ranges,
                text,
                keys,
                card,
                pushed,
            },
            maybe_binds: Vec::new(),
            unique,
            key: pat.text.clone(),
        })
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
        if pat.derived || st.is_bound(*x) || pat.s == PTerm::Var(*x) || pat.g == GTerm::Var(*x) {
            return Ok(Pushdown::default());
        }
        let PTerm::Const(p) = &pat.p else {
            return Ok(Pushdown {
                text: self.text_pushdown(pat, st, filters, placed, *x)?,
                ..Pushdown::default()
            });
        };
        let mut best: Option<(u64, usize, IdRanges)> = None;
        for (i, f) in filters.iter().enumerate() {
            if placed[i] {
                continue;
            }
            let Some(ranges) = filter_ranges(&f.ex, *x) else {
                continue;
            };
            let mut n = 0;
            for &(lo, hi) in &ranges {
                n += self.store_estimate(&IdPattern {
                    s: None,
                    p: Some(*p),
                    o: None,
                    g: GraphSel::Any,
                    o_range: Some((lo, hi)),
                })?;
            }
            if best.as_ref().is_none_or(|(bn, _, _)| n < *bn) {
                best = Some((n, i, ranges));
            }
        }
        let text = self.text_pushdown(pat, st, filters, placed, *x)?;
        match (best, text) {
            (Some((n, _, _)), Some((t, terms)))
                if terms * self.triples_per_object(pat)? < n as f64 =>
            {
                Ok(Pushdown {
                    text: Some((t, terms)),
                    ..Pushdown::default()
                })
            }
            (Some((_, i, ranges)), _) => Ok(Pushdown {
                pushed: Some(i),
                ranges,
                text: None,
            }),
            (None, text) => Ok(Pushdown {
                text,
                ..Pushdown::default()
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
        let subject_free = matches!(pat.s, PTerm::Var(s) if !st.is_bound(s));
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
            let Some(terms) = self.text_estimate(&query)? else {
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
        let (per_row, _) = self.estimate(pat, &|s| st.is_bound(s), &[])?;
        let scan = per_row * (ROW + TEXT_FILTER_COST);
        let lookups = terms * (SEEK + self.triples_per_object(pat)? * ROW);
        Ok((lookups < scan).then_some((t, terms)))
    }

    /// Average number of facts per distinct object of the pattern's predicate.
    fn triples_per_object(&self, pat: &Pattern) -> Result<f64> {
        Ok(match pat.p {
            PTerm::Const(p) => {
                let ps = self.pred_stats(p)?;
                ps.triples as f64 / ps.objects.max(1) as f64
            }
            _ => 4.0,
        })
    }

    /// About how many index blocks the lookups of `pat` spread over: its predicate and
    /// object's run of `POS` when both are known (a type check), the predicate's run for
    /// a lookup by object, all of `SPOG` for a lookup by subject.
    fn lookup_blocks(&self, pat: &Pattern, st: &State) -> Result<f64> {
        let entries = match (&pat.p, &pat.o) {
            (PTerm::Const(p), PTerm::Const(o)) => {
                self.store_estimate(&IdPattern::new(None, Some(*p), Some(*o)))? as f64
            }
            (PTerm::Const(p), PTerm::Var(o)) if st.is_bound(*o) => {
                self.pred_stats(*p)?.triples as f64
            }
            _ => self.total_triples()? as f64,
        };
        Ok((entries / BLOCK_ENTRIES).ceil().max(1.0))
    }

    /// (matches per input row, matches with only the constants bound).
    fn estimate(
        &self,
        pat: &Pattern,
        is_bound: &dyn Fn(Slot) -> bool,
        ranges: &[(Id, Id)],
    ) -> Result<(f64, f64)> {
        let known = |t: &PTerm| match t {
            PTerm::Const(_) | PTerm::OneOf(_) => Known::Const,
            PTerm::Var(v) if is_bound(*v) => Known::Bound,
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
                                c += self.store_estimate(&IdPattern {
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
                c = self.pred_stats(p)?.triples as f64;
                if matches!(pat.g, GTerm::Const(_)) {
                    c = self.store_estimate(&IdPattern {
                        s: None,
                        p: Some(p),
                        o: None,
                        g,
                        o_range: None,
                    })? as f64;
                }
            } else {
                c = self.total_triples()? as f64;
            }
            let (subjects, objects) = match pat.p {
                PTerm::Const(p) => {
                    let ps = self.pred_stats(p)?;
                    (ps.subjects.max(1) as f64, ps.objects.max(1) as f64)
                }
                _ => {
                    let triples = self.total_triples()? as f64;
                    ((triples / 8.0).max(1.0), (triples / 4.0).max(1.0))
                }
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

/// The slot a scan with only its constants bound yields its rows in the order of: the
/// first variable of the index it reads (see `Store::quads`), when one index run gives
/// all of them.
fn scan_order(pat: &Pattern, ranges: &[(Id, Id)]) -> Option<Slot> {
    if pat.g != GTerm::None || pat.derived || ranges.len() > 1 {
        return None;
    }
    let is_const = |t: &PTerm| matches!(t, PTerm::Const(_));
    let order = if is_const(&pat.s) {
        match (is_const(&pat.p), is_const(&pat.o)) {
            (false, true) => [&pat.o, &pat.s, &pat.p],
            _ => [&pat.s, &pat.p, &pat.o],
        }
    } else if is_const(&pat.p) || !is_const(&pat.o) {
        [&pat.p, &pat.o, &pat.s]
    } else {
        [&pat.o, &pat.s, &pat.p]
    };
    for t in order {
        match t {
            PTerm::Const(_) => continue,
            PTerm::Var(s) => return Some(*s),
            _ => return None,
        }
    }
    None
}

/// The slot that places an index lookup of `pat` in its index, given the `bound` slots:
/// the bound subject when the object is free (`SPOG`), else the bound object (`POS`,
/// `OSP`).
fn lookup_key(pat: &Pattern, bound: &[Slot]) -> Option<Slot> {
    if pat.g != GTerm::None || pat.derived || !pat.stored {
        return None;
    }
    let bound_var = |t: &PTerm| match t {
        PTerm::Var(s) if bound.contains(s) => Some(*s),
        _ => None,
    };
    bound_var(&pat.o).or_else(|| bound_var(&pat.s))
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
        Ex::Const(Value::Int(i), _) if matches!(op, CmpOp::In | CmpOp::Overlaps) => {
            // `?d in 2020`: the dates of that year, and the integer 2020 (read as a year).
            let year = crate::model::Date::year(i32::try_from(*i).ok()?).ok()?;
            let mut r = date_ranges(op, year.start_day(), year.end_day())?;
            r.push((Id::int(*i), Id::int(*i).successor()));
            Some(r)
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
        StepKind::Scan {
            pat, ranges, text, ..
        } => format!(
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
        StepKind::Sort { .. } => "sort".into(),
        StepKind::Pairs { first, second, .. } => format!("pairs {} {}", first.text, second.text),
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{prepare, Interrupt, Limits, Params};
    use crate::error::Error;
    use crate::lang::ast::StatementKind;
    use crate::Db;
    use std::time::{Duration, Instant};

    fn chain(n: usize) -> String {
        let body: Vec<String> = (0..n).map(|i| format!("?x{i} p ?x{}", i + 1)).collect();
        format!("find ?x0 where {}.", body.join(", "))
    }

    fn plan_chain(db: &Db, n: usize, interrupt: &Interrupt) -> crate::Result<usize> {
        let stmt = crate::lang::parse_statement(&chain(n)).expect("parses");
        let StatementKind::Find(f) = stmt.kind else {
            panic!("not a find")
        };
        let _r = db.store().read()?;
        Ok(prepare(
            db.store(),
            None,
            &Params::new(),
            &f,
            &Limits {
                interrupt: interrupt.clone(),
                ..Limits::default()
            },
        )?
        .plan
        .steps
        .len())
    }

    #[test]
    fn planning_honours_the_time_limit() {
        let db = Db::memory().expect("db");
        db.execute("a1 p a2. a2 p a3.").expect("facts");
        let past = Interrupt {
            cancel: None,
            token: None,
            deadline: Some((Instant::now(), Duration::ZERO)),
        };
        assert!(matches!(
            plan_chain(&db, 50, &past),
            Err(Error::TimedOut(_))
        ));
        // Without a limit the same chain plans, one step per pattern.
        assert_eq!(plan_chain(&db, 50, &Interrupt::default()).ok(), Some(50));
    }

    #[test]
    fn lookups_after_a_scan_in_another_order_are_sorted() {
        let db = Db::memory().expect("db");
        let mut facts = String::new();
        let mut want = (0, 0);
        // 1,500 events over three years, in scrambled order of date, among 4,500 things.
        for i in 0..3000u32 {
            facts.push_str(&format!("thing{i} a Event.\n"));
        }
        for i in 0..1500u32 {
            let month = (i * 7919) % 36;
            let (year, month) = (2019 + month / 12, 1 + month % 12);
            let kind = if i % 3 == 0 { "Talks" } else { "Meeting" };
            facts.push_str(&format!(
                "ev{i} a {kind}, Event; date {year}-{month:02}-{:02}.\n",
                1 + i % 28
            ));
            if kind == "Talks" && (year, month) == (2020, 3) {
                want.0 += 1;
            }
            if year == 2020 {
                want.1 += 1;
            }
        }
        db.execute(&facts).expect("facts");
        let count = |q: &str| -> i64 {
            let mut rows = db.query(q).unwrap_or_else(|e| panic!("{q}: {e}"));
            rows.next()
                .and_then(|r| r.get::<i64>("count(?e)").ok())
                .unwrap_or(-1)
        };
        for (q, n, sorted) in [
            // The dates' scan, then the type check of each event, in id order.
            (
                "find count(?e) where ?e a Talks; date ?d, ?d in 2020-03.",
                want.0,
                true,
            ),
            // Many rows: sorted in several batches.
            (
                "find count(?e) where ?e a Event; date ?d, ?d in 2020.",
                want.1,
                true,
            ),
        ] {
            let plan = match db.execute(&format!("explain {q}")).expect("explain").pop() {
                Some(crate::Outcome::Plan(p)) => p,
                other => panic!("{other:?}"),
            };
            assert_eq!(plan.contains("sort by ?e"), sorted, "{plan}");
            assert_eq!(count(q), n, "{q}");
        }
    }

    #[test]
    fn sorted_lookups_become_a_hash_join_when_many_more_rows_come() {
        let db = Db::memory().expect("db");
        let mut facts = String::new();
        let mut want = 0;
        // 60 regions of 50 cities; the cities of `hub` hold most of the events.
        for r in 0..60 {
            for c in 0..50 {
                facts.push_str(&format!("city{r}_{c} located_in region{r}.\n"));
                let events = if r == 0 { 40 } else { 1 };
                for e in 0..events {
                    facts.push_str(&format!("ev{r}_{c}_{e} venue city{r}_{c}.\n"));
                    if e % 2 == 0 {
                        facts.push_str(&format!("deal{r}_{c}_{e} signed_at ev{r}_{c}_{e}.\n"));
                        if r == 0 {
                            want += 1;
                        }
                    }
                }
            }
        }
        db.execute(&facts).expect("facts");
        let q = "find count(?g) where ?c located_in region0, ?e venue ?c, ?g signed_at ?e.";
        let out = db
            .execute(&format!("explain analyze {q}"))
            .expect("analyze");
        let Some(crate::Outcome::Plan(plan)) = out.last() else {
            panic!("{out:?}")
        };
        assert!(plan.contains("ran as a hash join"), "{plan}");
        let n = db
            .query(q)
            .expect("runs")
            .next()
            .and_then(|r| r.get::<i64>("count(?g)").ok());
        assert_eq!(n, Some(want));
    }

    #[test]
    fn a_self_join_pairs_the_facts_of_each_group() {
        let db = Db::memory().expect("db");
        let mut facts = String::new();
        for e in 0..200 {
            for k in 0..1 + e % 4 {
                facts.push_str(&format!("ev{e} party actor{}.\n", (e * 7 + k * 13) % 50));
            }
        }
        db.execute(&facts).expect("facts");
        for (q, by) in [
            (
                "find ?a ?b count(?e) as n where ?e party ?a, ?e party ?b, ?a < ?b.",
                "?e",
            ),
            (
                "find ?a ?b count(?x) as n where ?a party ?x, ?b party ?x, ?a < ?b.",
                "?x",
            ),
        ] {
            let plan = match db.execute(&format!("explain {q}")).expect("explain").pop() {
                Some(crate::Outcome::Plan(p)) => p,
                other => panic!("{other:?}"),
            };
            assert!(plan.contains(&format!("with the same {by}")), "{plan}");
            // The same rows as the scan and hash join, which a filter in between keeps.
            let joined = q.replace(", ?a < ?b", ", ?a < ?b, ?a != nobody");
            let rows = |q: &str| {
                let mut r: Vec<Vec<Option<crate::Value>>> = db
                    .query(q)
                    .expect("runs")
                    .values()
                    .map(<[_]>::to_vec)
                    .collect();
                r.sort();
                r
            };
            let plan_joined = match db
                .execute(&format!("explain {joined}"))
                .expect("explain")
                .pop()
            {
                Some(crate::Outcome::Plan(p)) => p,
                other => panic!("{other:?}"),
            };
            assert!(!plan_joined.contains("with the same"), "{plan_joined}");
            assert!(!rows(q).is_empty());
            assert_eq!(rows(q), rows(&joined), "{q}");
        }
    }

    #[test]
    fn a_chain_is_planned_along_the_chain() {
        let db = Db::memory().expect("db");
        db.execute("a1 p a2. a2 p a3. a3 p a4.").expect("facts");
        let stmt = crate::lang::parse_statement(&chain(30)).expect("parses");
        let StatementKind::Find(f) = stmt.kind else {
            panic!("not a find")
        };
        let planned =
            prepare(db.store(), None, &Params::new(), &f, &Limits::default()).expect("plans");
        // After the first pattern, each step joins on a variable bound before it.
        let mut bound: Vec<usize> = Vec::new();
        for (i, step) in planned.plan.steps.iter().enumerate() {
            let (super::StepKind::Scan { pat, .. } | super::StepKind::HashJoin { pat, .. }) =
                &step.kind
            else {
                panic!("unexpected step {:?}", step.kind)
            };
            let vars = pat.vars();
            assert!(i == 0 || vars.iter().any(|v| bound.contains(v)), "step {i}");
            bound.extend(vars);
        }
    }
}
