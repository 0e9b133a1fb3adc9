//! The plan cache: a `find` compiled and planned once runs again without being parsed,
//! compiled or planned, for as long as what it was planned on still holds.
//!
//! A plan depends on the catalog (types, subtypes, which predicates rules derive), on
//! which constants the store knows (a constant it has never seen matches nothing), and on
//! the statistics the planner read.  A [`Planned`] keeps all three: after a commit, the
//! first run checks them again (the catalog by value, each absent constant by a lookup,
//! each statistic within [`DRIFT`]) and either keeps the plan or plans again.  A plan that
//! reads facts derived by rules carries them, so it holds only until the next commit
//! (derived facts follow every write they read).  Plans that carry warnings, or that see a
//! transaction's pending writes, are never cached.

use super::catalog::Catalog;
use super::compile::{self, SchemaIds};
use super::counts::CountScan;
use super::derived::Derived;
use super::finish::Shape;
use super::plan::{Plan, Readings};
use super::Params;
use crate::diag::Diagnostic;
use crate::error::Result;
use crate::model::Value;
use crate::store::Store;
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// A statistic still holds while it is within this fraction of what the plan was made
/// from (and is zero exactly when it was zero).
pub const DRIFT: f64 = 0.125;

/// Plans a [`PlanCache`] keeps; it starts afresh when full.
pub const CACHE_ENTRIES: usize = 512;

/// A `find` compiled and planned: everything but running it (see [`super::prepare`] and
/// [`super::execute`]).
pub struct Planned {
    pub(super) schema: Arc<(Catalog, SchemaIds)>,
    pub(super) shape: Shape,
    pub(super) columns: Arc<[String]>,
    /// Variable names by slot (the width of a row).
    pub(super) vars: Vec<String>,
    pub(super) plan: Plan,
    pub(super) derived: Derived,
    pub(super) warnings: Vec<Diagnostic>,
    /// Counts read straight from the index instead of running the plan.
    pub(super) count_scan: Option<CountScan>,
    cacheable: bool,
    /// Constants the store did not know.
    absent: Vec<Value>,
    readings: Readings,
    /// The store version at which it is known to hold.
    valid_at: AtomicU64,
    /// It carries derived facts: valid at the version it was planned at only.
    pinned: bool,
}

impl Planned {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        schema: Arc<(Catalog, SchemaIds)>,
        shape: Shape,
        columns: Arc<[String]>,
        vars: Vec<String>,
        plan: Plan,
        derived: Derived,
        warnings: Vec<Diagnostic>,
        cacheable: bool,
        absent: Vec<Value>,
        readings: Readings,
        version: u64,
    ) -> Planned {
        Planned {
            schema,
            shape,
            columns,
            vars,
            plan,
            derived,
            warnings,
            count_scan: None,
            cacheable,
            absent,
            readings,
            valid_at: AtomicU64::new(version),
            pinned: false,
        }
    }

    /// A plan that carries derived facts holds only at the store version it was made at.
    pub(super) fn pinned(mut self, pinned: bool) -> Planned {
        self.pinned = pinned;
        self
    }

    /// Answer with `count` (counts read from the index) when running against the
    /// committed data.
    pub(super) fn with_count_scan(mut self, count: Option<CountScan>) -> Planned {
        self.count_scan = count;
        self
    }

    /// Its answer: `rows` under its columns, with its warnings (and a plan's text).
    pub(super) fn result(
        &self,
        rows: Vec<Vec<Option<Value>>>,
        plan: Option<String>,
    ) -> super::QueryResult {
        super::QueryResult {
            columns: self.columns.clone(),
            rows,
            warnings: self.warnings.clone(),
            plan,
        }
    }

    /// Whether a cache may keep it: no warnings, no pending writes.
    pub fn cacheable(&self) -> bool {
        self.cacheable
    }

    /// Whether the plan still fits the committed store: the same catalog, the same
    /// unknown constants, and statistics within [`DRIFT`] of those it was planned on.
    /// Checked once per store version (call it holding the store's read gate).
    pub fn holds(&self, store: &Store) -> Result<bool> {
        let version = store.version();
        if self.valid_at.load(Ordering::Acquire) == version {
            return Ok(true);
        }
        if self.pinned {
            return Ok(false);
        }
        let schema = compile::schema(store, None)?;
        if !Arc::ptr_eq(&schema, &self.schema) && *schema != *self.schema {
            return Ok(false);
        }
        for v in &self.absent {
            if store.lookup(v, None)?.is_some() {
                return Ok(false);
            }
        }
        {
            let stats = store.stats()?;
            if let Some(t) = self.readings.triples {
                if !close(t, stats.triples) {
                    return Ok(false);
                }
            }
            for (p, then) in &self.readings.preds {
                let now = stats.pred(*p);
                if !close(then.triples, now.triples)
                    || !close(then.subjects, now.subjects)
                    || !close(then.objects, now.objects)
                {
                    return Ok(false);
                }
            }
        }
        for (pattern, then) in &self.readings.estimates {
            if !close(*then, store.estimate(pattern)?) {
                return Ok(false);
            }
        }
        for (p, then) in &self.readings.floats {
            if super::plan::has_float_objects(store, *p)? != *then {
                return Ok(false);
            }
        }
        for (query, then) in &self.readings.texts {
            let held = match (*then, store.text_estimate(query)?) {
                (Some(then), Some(now)) => close(then, now),
                (then, now) => then == now,
            };
            if !held {
                return Ok(false);
            }
        }
        self.valid_at.store(version, Ordering::Release);
        Ok(true)
    }
}

/// Whether a statistic that was `then` still holds at `now`.
fn close(then: u64, now: u64) -> bool {
    (then == 0) == (now == 0) && (then.abs_diff(now) as f64) <= then as f64 * DRIFT
}

/// Plans by statement text and parameter values (see the module documentation).
#[derive(Default)]
pub struct PlanCache {
    entries: Mutex<FxHashMap<u64, Entry>>,
}

struct Entry {
    text: Box<str>,
    params: Params,
    planned: Arc<Planned>,
}

fn key(text: &str, params: &Params) -> u64 {
    let mut h = FxHasher::default();
    text.hash(&mut h);
    params.hash(&mut h);
    h.finish()
}

impl PlanCache {
    /// An empty cache.
    pub fn new() -> PlanCache {
        PlanCache::default()
    }

    /// The plan kept for statement `text` run with `params`, if it still holds (see
    /// [`Planned::holds`]; call it holding the store's read gate).  A plan that no longer
    /// holds is dropped.
    pub fn get(&self, store: &Store, text: &str, params: &Params) -> Result<Option<Arc<Planned>>> {
        let k = key(text, params);
        let found = {
            let entries = self
                .entries
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match entries.get(&k) {
                Some(e) if *e.text == *text && e.params == *params => Some(e.planned.clone()),
                _ => None,
            }
        };
        let Some(planned) = found else {
            return Ok(None);
        };
        if planned.holds(store)? {
            return Ok(Some(planned));
        }
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries
            .get(&k)
            .is_some_and(|e| Arc::ptr_eq(&e.planned, &planned))
        {
            entries.remove(&k);
        }
        Ok(None)
    }

    /// Keep `planned` for `text` with `params` (if it is [`Planned::cacheable`]).
    pub fn insert(&self, text: &str, params: &Params, planned: Arc<Planned>) {
        if !planned.cacheable {
            return;
        }
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= CACHE_ENTRIES {
            entries.clear();
        }
        entries.insert(
            key(text, params),
            Entry {
                text: text.into(),
                params: params.clone(),
                planned,
            },
        );
    }

    /// How many plans it holds.
    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Whether it holds no plan.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{prepare, Limits};
    use crate::lang::ast::StatementKind;
    use crate::Db;

    fn planned(db: &Db, q: &str) -> Planned {
        let stmt = crate::lang::parse_statement(q).expect("parses");
        let StatementKind::Find(f) = stmt.kind else {
            panic!("not a find")
        };
        prepare(db.store(), None, &Params::new(), &f, &Limits::default()).expect("plans")
    }

    fn holds(db: &Db, p: &Planned) -> bool {
        let _r = db.store().read().expect("gate");
        p.holds(db.store()).expect("checks")
    }

    fn facts(prefix: &str, n: usize, pred: &str) -> String {
        (0..n)
            .map(|i| format!("{prefix}{i} {pred} {prefix}x{}.\n", i % 7))
            .collect()
    }

    #[test]
    fn a_plan_holds_until_what_it_was_planned_on_changes() {
        let db = Db::memory().expect("db");
        db.execute(&facts("a", 200, "p")).expect("facts");
        db.execute(&facts("b", 200, "q")).expect("facts");
        let p = planned(&db, "find ?s ?o where ?s p ?o, ?o q ?z.");
        assert!(p.cacheable());
        assert!(holds(&db, &p));
        // Facts of a predicate the query does not read: the plan holds.
        db.execute(&facts("c", 300, "r")).expect("facts");
        assert!(holds(&db, &p));
        // A few more facts of `p` (about the same objects): still within the drift.
        let more: String = (0..10).map(|i| format!("d{i} p ax{}.\n", i % 7)).collect();
        db.execute(&more).expect("facts");
        assert!(holds(&db, &p));
        // Twice as many: planned again.
        db.execute(&facts("e", 300, "p")).expect("facts");
        assert!(!holds(&db, &p));
    }

    #[test]
    fn a_constant_that_appears_or_a_schema_change_ends_a_plan() {
        let db = Db::memory().expect("db");
        db.execute(&facts("a", 50, "p")).expect("facts");
        // An entity no fact mentions gives a warning, and a plan with warnings is not kept.
        let p = planned(&db, "find ?s where ?s p newcomer.");
        assert!(!p.cacheable());
        // A literal the store has never seen gives none: the plan is kept until it appears.
        let p = planned(&db, "find ?s where ?s p \"newcomer\".");
        assert!(p.cacheable());
        db.execute("somebody else \"newcomer\".").expect("facts");
        assert!(!holds(&db, &p), "the constant is known now");

        let p = planned(&db, "find ?s where ?s p ?o.");
        db.execute("type Thing.").expect("schema");
        assert!(!holds(&db, &p), "the catalog changed");
    }

    #[test]
    fn a_cached_text_scan_finds_terms_written_after_it_was_planned() {
        let db = Db::memory().expect("db");
        let labels: String = (0..2000)
            .map(|i| format!("e{i} label \"plain name {i}\".\n"))
            .collect();
        db.execute(&labels).expect("facts");
        db.execute("z1 label \"a zebra here\".").expect("facts");
        let q = "find ?s where ?s label ?l, contains(?l, \"zebra\").";
        let p = planned(&db, q);
        assert!(p.cacheable());
        assert!(
            !p.readings.texts.is_empty(),
            "the text index's estimate is among the readings"
        );
        assert_eq!(db.query(q).expect("runs").len(), 1);
        db.execute("z2 label \"another zebra\".").expect("facts");
        let rows = db.query(q).expect("runs");
        assert_eq!(rows.len(), 2, "the new term is found by the cached plan");
        // Many more matching terms: the estimate drifts and the plan is made again.
        let zebras: String = (0..500)
            .map(|i| format!("y{i} label \"zebra {i}\".\n"))
            .collect();
        db.execute(&zebras).expect("facts");
        assert!(!holds(&db, &p));
        assert_eq!(db.query(q).expect("runs").len(), 502);
    }

    #[test]
    fn a_plan_with_rules_holds_until_a_commit_and_warnings_are_not_cached() {
        let db = Db::memory().expect("db");
        db.execute("s1 p o1. rule ?x r ?y :- ?x p ?y.")
            .expect("facts");
        let with_rules = planned(&db, "find ?x where ?x r ?y.");
        assert!(with_rules.cacheable());
        assert!(holds(&db, &with_rules));
        // Any commit ends it, even one the statistics would not notice.
        db.execute("s2 q o2.").expect("facts");
        assert!(!holds(&db, &with_rules), "derived facts may have changed");
        let rows = db.query("find ?x where ?x r ?y.").expect("runs");
        db.execute("s3 p o3.").expect("facts");
        let again = db.query("find ?x where ?x r ?y.").expect("runs");
        assert_eq!(
            (rows.len(), again.len()),
            (1, 2),
            "a cached plan sees the new fact"
        );
        assert!(!planned(&db, "find ?x where ?x nosuchpredicate ?y.").cacheable());
        assert!(planned(&db, "find ?x where ?x p ?y.").cacheable());
    }

    #[test]
    fn the_cache_is_keyed_by_text_and_parameters() {
        let db = Db::memory().expect("db");
        db.execute("s1 p o1. s2 p o2.").expect("facts");
        let cache = PlanCache::new();
        let p = Arc::new(planned(&db, "find ?x where ?x p ?y."));
        let params = Params::new();
        cache.insert("find ?x where ?x p ?y.", &params, p.clone());
        let _r = db.store().read().expect("gate");
        let hit = cache
            .get(db.store(), "find ?x where ?x p ?y.", &params)
            .expect("get");
        assert!(hit.is_some_and(|h| Arc::ptr_eq(&h, &p)));
        let other = Params::from([("x".to_string(), Value::Int(1))]);
        assert!(cache
            .get(db.store(), "find ?x where ?x p ?y.", &other)
            .expect("get")
            .is_none());
        assert!(cache
            .get(db.store(), "find ?y where ?x p ?y.", &params)
            .expect("get")
            .is_none());
    }
}
