//! Derived facts kept across statements.
//!
//! A query that reads derived facts first evaluates the rules it needs (only those: the
//! dependency analysis of [`rules::Program`] goes from the query's patterns, and for `?x a
//! T` from T and its subtypes, to the rules whose heads can match, through their bodies).
//! The facts of a stratum depend only on the rules, the schema, the strata it reads and
//! the stored facts of the predicates and classes its rules read.  So they are kept in a
//! cache attached to the store, each stratum with what it was derived from, and a later
//! statement uses them for as long as no commit changed one of those predicates or
//! classes ([`crate::store::Changes`]) and the schema and rules are the same.  A commit
//! that does touch them drops that stratum and every stratum above it, and nothing else;
//! a query needing strata that are not kept evaluates them on top of the kept ones (the
//! relations it does not extend are shared, not copied) and keeps the result.
//!
//! A query that binds a derived pattern to constants, when the facts it needs are not all
//! kept, goes through a magic-set rewrite: what it uses bound is evaluated for its
//! constants only (cheaper than the full relations for a lookup), on top of the full
//! relations of what it uses unbound (kept, or evaluated and kept as above).  That result
//! is kept too, under the rewrite and its constants, with the same validity.  Inside a
//! transaction the kept facts serve as long as the transaction's own writes touch nothing
//! they were derived from; what a transaction derives is never kept.  At most
//! [`MAX_KEPT_FACTS`] facts are kept: strata that would go beyond are evaluated for the
//! query alone.

use super::catalog::{Catalog, RuleDecl};
use super::compile::{Context, SchemaIds};
use super::derived::{Derived, Relation};
use super::exec::Interrupt;
use super::expr::Eval;
use super::ir::{Body, Ex, GTerm, Item, PTerm, Pattern};
use super::magic;
use super::rules::{self, CompiledRule, Node, Program};
use crate::error::Result;
use crate::lang::ast::Func;
use crate::store::{Changes, Id};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Most derived facts kept across statements (a kept fact costs about 150 bytes).
pub const MAX_KEPT_FACTS: usize = 1 << 20;

/// The derived facts kept for one store (see the module documentation).
#[derive(Default)]
pub struct DerivedCache {
    state: Mutex<State>,
}

/// What the facts of a stratum were derived from, besides the strata it reads.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Sources {
    /// Predicates whose stored triples it read.
    pub preds: Vec<Id>,
    /// Classes whose stated members it read (`?x a C`).
    pub classes: Vec<Id>,
    /// It read what no per-predicate change tells (a variable predicate, `from`, `label`).
    pub everything: bool,
}

impl Sources {
    /// What `rules` read from the store, their heads included (a stored fact is not
    /// derived again, nor `x a C` when x has a stated type at or below C).
    pub fn of(rules: &[&CompiledRule], cx: &Context<'_>) -> Sources {
        let type_id = cx.type_id;
        let mut s = Sources::default();
        for r in rules {
            match &r.head_o {
                PTerm::Const(c) if Some(r.head_p) == type_id => match cx.subtypes.get(c) {
                    Some(below) => s.classes.extend(below),
                    None => s.classes.push(*c),
                },
                _ => s.preds.push(r.head_p),
            }
            s.body(&r.body, type_id);
        }
        s.preds.sort_unstable();
        s.preds.dedup();
        s.classes.sort_unstable();
        s.classes.dedup();
        s
    }

    fn body(&mut self, b: &Body, type_id: Option<Id>) {
        for item in &b.items {
            match item {
                Item::Pattern(p) => self.pattern(p, type_id),
                Item::Filter(f) => self.expr(&f.ex),
                Item::Not(b) | Item::Optional(b) => self.body(b, type_id),
                Item::Or(bs) => bs.iter().for_each(|b| self.body(b, type_id)),
            }
        }
    }

    fn pattern(&mut self, p: &Pattern, type_id: Option<Id>) {
        if !p.stored {
            return;
        }
        // A name the store has never seen matches nothing now, but the facts that make it
        // known are of no predicate known in advance.  And the assertions of a source can
        // change while the triple stays.
        if p.is_never() || p.g != GTerm::None {
            self.everything = true;
            return;
        }
        match &p.p {
            PTerm::Const(pid) if Some(*pid) == type_id => match &p.o {
                PTerm::Const(c) => self.classes.push(*c),
                PTerm::OneOf(cs) => self.classes.extend(cs),
                _ => self.preds.push(*pid),
            },
            PTerm::Const(pid) => self.preds.push(*pid),
            _ => self.everything = true,
        }
    }

    fn expr(&mut self, e: &Ex) {
        match e {
            Ex::Call(f, args) => {
                let reads_store = match f {
                    Func::Label => true,
                    Func::Contains
                    | Func::StartsWith
                    | Func::Matches
                    | Func::Lower
                    | Func::Year
                    | Func::Month
                    | Func::Len => false,
                };
                self.everything |= reads_store;
                args.iter().for_each(|a| self.expr(a));
            }
            Ex::Cmp(_, a, b) => {
                self.expr(a);
                self.expr(b);
            }
            Ex::Slot(_) | Ex::Const(..) | Ex::Range(_) | Ex::Column(_) => {}
        }
    }

    /// Whether a commit after `version` changed something these sources read.
    fn changed_since(&self, version: u64, now: u64, changes: &Changes) -> bool {
        (self.everything && now != version)
            || self.preds.iter().any(|p| changes.pred(*p) > version)
            || self.classes.iter().any(|c| changes.class(*c) > version)
    }
}

/// The predicates and classes a transaction's pending writes touch.
struct Touched {
    preds: FxHashSet<Id>,
    classes: FxHashSet<Id>,
    /// Writes that cannot be told apart (not normalized): everything is touched.
    all: bool,
}

impl Touched {
    fn of(cx: &Context<'_>) -> Touched {
        let mut t = Touched {
            preds: FxHashSet::default(),
            classes: FxHashSet::default(),
            all: false,
        };
        let Some(delta) = cx.delta else {
            return t;
        };
        match delta.normal() {
            Some(n) => {
                for q in n.adds.iter().chain(&n.removes) {
                    t.preds.insert(q[1]);
                    if Some(q[1]) == cx.type_id {
                        t.classes.insert(q[2]);
                    }
                }
            }
            None => t.all = delta.op_count() > 0,
        }
        t
    }

    fn touches(&self, s: &Sources) -> bool {
        self.all
            || (s.everything && !self.preds.is_empty())
            || s.preds.iter().any(|p| self.preds.contains(p))
            || s.classes.iter().any(|c| self.classes.contains(c))
    }
}

/// The schema derived facts were evaluated under: a change to the rules, the types or
/// their ids makes them of no more use.
#[derive(Debug, Clone, PartialEq)]
struct Schema {
    rules: Vec<RuleDecl>,
    types: BTreeMap<String, Vec<String>>,
    ids: SchemaIds,
}

impl Schema {
    fn of(cx: &Context<'_>, catalog: &Catalog) -> Schema {
        Schema {
            rules: catalog.rules.clone(),
            types: catalog.types.clone(),
            ids: SchemaIds {
                type_id: cx.type_id,
                // Rules read labels as facts, not through this id.
                label_id: None,
                derived: cx.derived.clone(),
                subtypes: cx.subtypes.clone(),
                supertypes: cx.supertypes.clone(),
                derived_classes: cx.derived_classes.clone(),
            },
        }
    }

    fn matches(&self, cx: &Context<'_>, catalog: &Catalog) -> bool {
        self.rules == catalog.rules
            && self.types == catalog.types
            && self.ids.type_id == cx.type_id
            && self.ids.derived == *cx.derived
            && self.ids.subtypes == *cx.subtypes
            && self.ids.supertypes == *cx.supertypes
            && self.ids.derived_classes == *cx.derived_classes
    }
}

/// One kept stratum.
#[derive(Debug, Clone)]
struct KeptStratum {
    /// Its head nodes.
    nodes: Vec<Node>,
    /// The nodes of other strata its rules read.
    reads: Vec<Node>,
    /// What it read from the store.
    sources: Sources,
    /// The committed version it was derived at.
    version: u64,
}

/// Kept strata and their facts.
#[derive(Debug, Clone, Default)]
struct Kept {
    /// In evaluation order.
    strata: Vec<KeptStratum>,
    relations: FxHashMap<Id, Arc<Relation>>,
    facts: usize,
}

impl Kept {
    fn nodes(&self) -> FxHashSet<Node> {
        self.strata
            .iter()
            .flat_map(|s| s.nodes.iter().copied())
            .collect()
    }

    /// The kept strata without those in `invalid` and every stratum reading one of them
    /// (facts of a class are told apart by their object; a relation some dropped node
    /// may hold any fact of is dropped with all its nodes).
    fn without(&self, mut invalid: FxHashSet<usize>) -> Kept {
        let dropped_nodes = |invalid: &FxHashSet<usize>| -> FxHashSet<Node> {
            invalid
                .iter()
                .filter_map(|&i| self.strata.get(i))
                .flat_map(|s| s.nodes.iter().copied())
                .collect()
        };
        loop {
            let before = invalid.len();
            let dropped = dropped_nodes(&invalid);
            for (i, s) in self.strata.iter().enumerate() {
                let reads_dropped = s.reads.iter().any(|n| dropped.contains(n));
                let inseparable = s.nodes.iter().any(|n| {
                    dropped
                        .iter()
                        .any(|d| d.rel == n.rel && (d.class.is_none() || n.class.is_none()))
                });
                if reads_dropped || inseparable {
                    invalid.insert(i);
                }
            }
            if invalid.len() == before {
                break;
            }
        }
        let dropped = dropped_nodes(&invalid);
        let strata: Vec<KeptStratum> = self
            .strata
            .iter()
            .enumerate()
            .filter(|(i, _)| !invalid.contains(i))
            .map(|(_, s)| s.clone())
            .collect();
        let remaining: FxHashSet<Id> = strata
            .iter()
            .flat_map(|s| s.nodes.iter().map(|n| n.rel))
            .collect();
        let mut relations = FxHashMap::default();
        for (rel, r) in &self.relations {
            let gone: FxHashSet<Id> = dropped
                .iter()
                .filter(|n| n.rel == *rel)
                .map(|n| n.class)
                .collect();
            if gone.is_empty() {
                relations.insert(*rel, r.clone());
            } else if remaining.contains(rel) {
                relations.insert(*rel, Arc::new(r.filtered(|_, o| !gone.contains(&o))));
            }
        }
        let facts = relations.values().map(|r| r.len()).sum();
        Kept {
            strata,
            relations,
            facts,
        }
    }
}

/// The result of a magic-set evaluation, kept under the rewrite that made it.
#[derive(Debug)]
struct Demand {
    /// The nodes the query needed, its shape and its seeds: equal ones give the same
    /// rewritten program.
    closure: Vec<Node>,
    shape: Vec<(Option<Id>, bool, bool)>,
    seeds: Vec<(Id, Id, Id)>,
    sources: Sources,
    version: u64,
    relations: FxHashMap<Id, Arc<Relation>>,
    facts: usize,
}

/// Most magic-set results kept.
const MAX_DEMANDS: usize = 32;

#[derive(Default)]
struct State {
    /// The stored rules compiled and analysed for the committed state of a version.
    program: Option<(u64, Arc<Program>)>,
    /// The schema of everything kept.
    schema: Option<Schema>,
    kept: Arc<Kept>,
    /// Least recently used first.
    demands: Vec<Arc<Demand>>,
    /// The last version everything kept was checked against.
    checked: u64,
}

impl State {
    fn facts(&self) -> usize {
        self.kept.facts + self.demands.iter().map(|d| d.facts).sum::<usize>()
    }

    fn clear(&mut self) {
        self.schema = None;
        self.kept = Arc::default();
        self.demands.clear();
    }

    /// Drop what commits up to `version` invalidated; false when what is kept was derived
    /// under another schema than the query's (then none of it serves).
    fn check(&mut self, cx: &Context<'_>, catalog: &Catalog, version: u64) -> Result<bool> {
        match &self.schema {
            None => return Ok(false),
            Some(s) if !s.matches(cx, catalog) => {
                // A transaction's own schema leaves the committed one's facts be.
                if cx.delta.is_none_or(|d| d.is_empty()) {
                    self.clear();
                }
                return Ok(false);
            }
            Some(_) => {}
        }
        if self.checked == version {
            return Ok(true);
        }
        let changes = cx.store.changes()?;
        let changed = |s: &Sources, since: u64| s.changed_since(since, version, &changes);
        let invalid: FxHashSet<usize> = (self.kept.strata.iter().enumerate())
            .filter(|(_, s)| changed(&s.sources, s.version))
            .map(|(i, _)| i)
            .collect();
        if !invalid.is_empty() {
            self.kept = Arc::new(self.kept.without(invalid));
        }
        self.demands.retain(|d| !changed(&d.sources, d.version));
        drop(changes);
        self.checked = version;
        Ok(true)
    }

    /// Make room for `facts` more, dropping the least recently used magic-set results.
    fn room(&mut self, facts: usize) -> bool {
        while self.facts() + facts > MAX_KEPT_FACTS && !self.demands.is_empty() {
            self.demands.remove(0);
        }
        self.facts() + facts <= MAX_KEPT_FACTS
    }

    /// Start keeping under the query's schema (dropping what was kept under another).
    fn adopt(&mut self, cx: &Context<'_>, catalog: &Catalog, version: u64) {
        if !self.schema.as_ref().is_some_and(|s| s.matches(cx, catalog)) {
            self.clear();
            self.schema = Some(Schema::of(cx, catalog));
            self.checked = version;
        }
    }
}

impl DerivedCache {
    fn lock(&self) -> Option<std::sync::MutexGuard<'_, State>> {
        self.state.lock().ok()
    }

    /// The stored rules compiled for the committed state of `version` (once per version).
    fn program(&self, cx: &Context<'_>, catalog: &Catalog, version: u64) -> Result<Arc<Program>> {
        if let Some(state) = self.lock() {
            if let Some((v, p)) = &state.program {
                if *v == version {
                    return Ok(p.clone());
                }
            }
        }
        let program = Arc::new(compile(cx, catalog)?);
        if let Some(mut state) = self.lock() {
            state.program = Some((version, program.clone()));
        }
        Ok(program)
    }

    /// The kept strata valid for the query (none when its schema differs).
    fn kept(&self, cx: &Context<'_>, catalog: &Catalog, version: u64) -> Result<Arc<Kept>> {
        let Some(mut state) = self.lock() else {
            return Ok(Arc::default());
        };
        Ok(if state.check(cx, catalog, version)? {
            state.kept.clone()
        } else {
            Arc::default()
        })
    }

    /// Keep the strata `added` of `program`, evaluated at `version` on top of `base`.
    #[allow(clippy::too_many_arguments)]
    fn keep_strata(
        &self,
        cx: &Context<'_>,
        catalog: &Catalog,
        version: u64,
        program: &Program,
        base: &Kept,
        added: &[usize],
        derived: &Derived,
    ) {
        let Some(mut state) = self.lock() else {
            return;
        };
        if added.is_empty() || cx.store.version() != version {
            return;
        }
        state.adopt(cx, catalog, version);
        let mut strata = base.strata.clone();
        for &i in added {
            strata.push(KeptStratum {
                nodes: program.strata.get(i).cloned().unwrap_or_default(),
                reads: program.reads_of(i),
                sources: Sources::of(&program.stratum_rules(i), cx),
                version,
            });
        }
        let facts = derived.len();
        let before = std::mem::take(&mut state.kept);
        if state.room(facts) {
            state.kept = Arc::new(Kept {
                strata,
                relations: derived.full.clone(),
                facts,
            });
        } else {
            state.kept = before;
        }
    }

    /// A kept magic-set result for this rewrite, if valid.
    fn demand(
        &self,
        cx: &Context<'_>,
        catalog: &Catalog,
        version: u64,
        closure: &[Node],
        m: &magic::Program,
    ) -> Result<Option<Arc<Demand>>> {
        let Some(mut state) = self.lock() else {
            return Ok(None);
        };
        if !state.check(cx, catalog, version)? {
            return Ok(None);
        }
        let at = state
            .demands
            .iter()
            .position(|d| d.closure == closure && d.shape == m.shape && d.seeds == m.seeds);
        Ok(at.map(|i| {
            let d = state.demands.remove(i);
            state.demands.push(d.clone());
            d
        }))
    }

    /// Keep a magic-set result.
    fn keep_demand(&self, cx: &Context<'_>, catalog: &Catalog, version: u64, demand: Demand) {
        let Some(mut state) = self.lock() else {
            return;
        };
        if cx.store.version() != version || demand.facts > MAX_KEPT_FACTS / 4 {
            return;
        }
        state.adopt(cx, catalog, version);
        if state.demands.len() >= MAX_DEMANDS {
            state.demands.remove(0);
        }
        if state.room(demand.facts) {
            state.demands.push(Arc::new(demand));
        }
    }
}

/// Compile and analyse the stored rules.
pub(super) fn compile(cx: &Context<'_>, catalog: &Catalog) -> Result<Program> {
    let compiled = rules::compile_all(cx, catalog)?;
    Program::new(compiled, cx.type_id, &|id| names(cx, id))
}

/// An id's name in messages (its debug form when it cannot be read).
fn names(cx: &Context<'_>, id: Id) -> String {
    cx.store
        .value(id, cx.delta)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| format!("{id:?}"))
}

/// The derived facts a query body reads: kept ones where they are valid, otherwise
/// evaluated and kept; when the body binds derived patterns to constants, the relations
/// they use bound are evaluated through a magic-set rewrite on top of the full ones.
pub fn derive(
    cx: &Context<'_>,
    catalog: &Catalog,
    body: &mut Body,
    interrupt: &Interrupt,
) -> Result<Derived> {
    if !body.any_pattern(&|p| p.derived) {
        return Ok(Derived::default());
    }
    let committed = cx.delta.is_none_or(|d| d.is_empty());
    let version = cx.store.version();
    let cache = cx.store.attached::<DerivedCache>();
    let program = match (&cache, committed) {
        (Some(c), true) => c.program(cx, catalog, version)?,
        _ => Arc::new(compile(cx, catalog)?),
    };
    let needed = program.needed(body);
    if needed.is_empty() {
        return Ok(Derived::default());
    }
    let closure = program.closure(&needed);
    let run = Run {
        cx,
        catalog,
        version,
        committed,
        cache: cache.as_deref(),
        program: &program,
        // A transaction's writes may touch what kept facts were derived from.
        touched: (!committed).then(|| Touched::of(cx)),
        interrupt,
    };
    let kept = run.kept()?;
    if run.missing(&kept, &closure).is_empty() {
        return Ok(Derived {
            full: kept.relations.clone(),
            delta: FxHashMap::default(),
        });
    }
    let relevant = program.rules_for(&closure);
    let Some(m) = magic::rewrite(body, &relevant, cx.derived, cx.type_id) else {
        return run.full(&closure, kept);
    };
    // The relations the rewritten query and rules read with nothing bound, in full.
    let mut plain = program.needed(body);
    for r in &m.rules {
        plain.extend(program.needed(&r.body));
    }
    let mut derived = run.full(&program.closure(&plain), kept)?;
    let mut closure: Vec<Node> = closure.into_iter().collect();
    closure.sort_unstable();
    if let Some(c) = &cache {
        if let Some(d) = c.demand(cx, catalog, version, &closure, &m)? {
            if run.usable(&d.sources) {
                derived
                    .full
                    .extend(d.relations.iter().map(|(k, v)| (*k, v.clone())));
                return Ok(derived);
            }
        }
    }
    let sources = Sources::of(&relevant.iter().collect::<Vec<_>>(), cx);
    let full: FxHashSet<Id> = derived.full.keys().copied().collect();
    let p = Program::new(m.rules, cx.type_id, &|id| names(cx, id))?;
    let needed = p.needed(body);
    let derived = p.evaluate(cx, derived, &m.seeds, &needed, interrupt)?;
    if let (Some(c), true) = (&cache, committed) {
        let relations: FxHashMap<Id, Arc<Relation>> = (derived.full.iter())
            .filter(|(k, _)| !full.contains(k))
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        let demand = Demand {
            closure,
            shape: m.shape,
            seeds: m.seeds,
            sources,
            version,
            facts: relations.values().map(|r| r.len()).sum(),
            relations,
        };
        c.keep_demand(cx, catalog, version, demand);
    }
    Ok(derived)
}

/// One query's evaluation of derived facts.
struct Run<'r, 'a> {
    cx: &'r Context<'a>,
    catalog: &'r Catalog,
    version: u64,
    committed: bool,
    cache: Option<&'r DerivedCache>,
    program: &'r Program,
    touched: Option<Touched>,
    interrupt: &'r Interrupt,
}

impl Run<'_, '_> {
    /// Whether kept facts derived from `s` serve this query.
    fn usable(&self, s: &Sources) -> bool {
        self.touched.as_ref().is_none_or(|t| !t.touches(s))
    }

    /// The kept strata this query may use.
    fn kept(&self) -> Result<Arc<Kept>> {
        let kept = match self.cache {
            Some(c) => c.kept(self.cx, self.catalog, self.version)?,
            None => Arc::default(),
        };
        Ok(if kept.strata.iter().all(|s| self.usable(&s.sources)) {
            kept
        } else {
            Arc::default()
        })
    }

    /// The strata holding `nodes` that `kept` lacks, in evaluation order.
    fn missing(&self, kept: &Kept, nodes: &FxHashSet<Node>) -> Vec<usize> {
        let have = kept.nodes();
        let program = self.program;
        (program.strata_of(nodes).into_iter())
            .filter(|&i| {
                (program.strata.get(i)).is_some_and(|s| s.iter().any(|n| !have.contains(n)))
            })
            .collect()
    }

    /// The full relations of the strata holding `nodes`: the `kept` ones, the others
    /// evaluated on top of them and kept.
    fn full(&self, nodes: &FxHashSet<Node>, kept: Arc<Kept>) -> Result<Derived> {
        let (cx, program) = (self.cx, self.program);
        let missing = self.missing(&kept, nodes);
        let mut derived = Derived {
            full: kept.relations.clone(),
            delta: FxHashMap::default(),
        };
        if missing.is_empty() {
            return Ok(derived);
        }
        let ev = Eval::new(cx.store, cx.delta)?;
        for &i in &missing {
            program.run_stratum(cx, &ev, i, &mut derived, self.interrupt)?;
        }
        if let (Some(c), true) = (self.cache, self.committed) {
            c.keep_strata(
                cx,
                self.catalog,
                self.version,
                program,
                &kept,
                &missing,
                &derived,
            );
        }
        Ok(derived)
    }
}
