//! The query engine: compile a statement against the store, plan it, run it.
//!
//! A `find` flows: AST → [`compile`] into [`ir`] (slots, ids, subtypes) → rules evaluated for the derived
//! predicates it needs ([`rules`], with a magic-set rewrite in `magic`) → `plan`
//! (cost-based order, index or hash joins, range push-down) → `exec` (nested loops over
//! one row, streaming into the collector) → `finish` (groups, having, order, limit) →
//! values decoded in one pass.  Writes ([`mod@write`]) turn statements into a
//! [`crate::store::Delta`]; [`inspect`] answers `describe`, `search` and `check`.

mod budget;
mod cache;
pub mod catalog;
pub mod compile;
mod counts;
mod derived;
mod exec;
mod explain;
mod expr;
mod finish;
pub mod inspect;
mod interrupt;
pub mod ir;
mod magic;
mod materialized;
mod plan;
pub mod rules;
pub mod write;

pub use budget::Budget;
pub use cache::{PlanCache, Planned};
pub use interrupt::Interrupt;
pub use ir::Params;

use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::lang::ast::{self, Count, Projection, Term};
use crate::model::Value;
use crate::store::{Delta, Id, Store};
use catalog::Catalog;
use compile::{Compiler, Context};
use finish::{Col, Collector, IdRows, Shape};
use plan::Planner;
use rustc_hash::FxHashMap;
use std::sync::Arc;

/// How to run a query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Run the query and return its rows.
    Run,
    /// Plan only: the plan with estimated rows.
    Explain,
    /// Run, and report the plan with actual rows and time per operator.
    Analyze,
}

/// The answer to a `find`.
#[derive(Debug, Clone)]
pub struct QueryResult {
    /// Column names (see [`crate::Rows::columns`]), shared with the plan that made them.
    pub columns: Arc<[String]>,
    /// `None` cells are variables left unbound (by `optional`).
    pub rows: Vec<Vec<Option<Value>>>,
    /// Warnings about the query (a predicate or type nothing uses), located in its text.
    pub warnings: Vec<Diagnostic>,
    /// For `explain`.
    pub plan: Option<String>,
}

/// Limits of one query run.
#[derive(Debug, Clone, Default)]
pub struct Limits {
    /// Cancellation and the time limit.
    pub interrupt: Interrupt,
    /// Stop with an error when the result would have more rows.
    pub max_rows: Option<u64>,
    /// Stop with [`Error::TooMuchMemory`] when the query would hold more bytes of rows.
    pub max_memory: Option<u64>,
}

fn count(c: &Option<Count>, params: &Params) -> Result<Option<u64>> {
    Ok(match c {
        None => None,
        Some(Count::Value(n)) => Some(*n),
        Some(Count::Param(name)) => match params.get(name) {
            Some(Value::Int(n)) if *n >= 0 => Some(*n as u64),
            Some(other) => {
                return Err(Error::Parameter {
                    name: name.clone(),
                    message: format!("expected a count (a whole number ≥ 0), got {other}"),
                })
            }
            None => {
                return Err(Error::Parameter {
                    name: name.clone(),
                    message: "no value was given".into(),
                })
            }
        },
    })
}

/// Aggregates and variables written in `having`/`order by` that the find list lacks.
fn collect_refs(e: &ast::Expr, aggs: &mut Vec<ast::Aggregate>, vars: &mut Vec<String>) {
    match e {
        ast::Expr::Aggregate(a) => aggs.push((**a).clone()),
        ast::Expr::Term(t) => {
            if let Term::Var(v) = &t.term {
                vars.push(v.clone());
            }
        }
        ast::Expr::Cmp { left, right, .. } => {
            collect_refs(left, aggs, vars);
            collect_refs(right, aggs, vars);
        }
        ast::Expr::Call { args, .. } => args.iter().for_each(|a| collect_refs(a, aggs, vars)),
        ast::Expr::Range { .. } | ast::Expr::Alias(_) => {}
    }
}

/// The derived facts a body needs: kept from earlier statements where still valid,
/// otherwise evaluated (see [`materialized`]).
fn derive(
    cx: &Context<'_>,
    catalog: &Catalog,
    body: &mut ir::Body,
    interrupt: &Interrupt,
) -> Result<derived::Derived> {
    materialized::derive(cx, catalog, body, interrupt)
}

/// Run (or explain) a `find`: compile the body and the find list, derive the facts of the
/// rules it needs, plan, run into the collector, then decode the finished rows.
pub fn find(
    store: &Store,
    delta: Option<&Delta>,
    params: &Params,
    f: &ast::Find,
    limits: &Limits,
    mode: Mode,
) -> Result<QueryResult> {
    let planned = prepare(store, delta, params, f, limits)?;
    if mode == Mode::Explain {
        let mut text = explain::render(&planned.plan, &planned.vars, None);
        if planned.count_scan.is_some() {
            text.push_str("\ncounted from the index: no rows are built");
        }
        return Ok(planned.result(Vec::new(), Some(text)));
    }
    execute(store, delta, &planned, limits, mode)
}

/// Compile and plan a `find` (evaluating the rules it needs): everything but running it.
/// Planning honours the time limit; rule evaluation charges the memory budget.
pub fn prepare(
    store: &Store,
    delta: Option<&Delta>,
    params: &Params,
    f: &ast::Find,
    limits: &Limits,
) -> Result<Planned> {
    let interrupt = &limits.interrupt;
    let schema = compile::schema(store, delta)?;
    let (catalog, ids) = (&schema.0, &schema.1);
    let mut cx = Context::new(store, delta, catalog, params, ids);
    cx.interrupt = limits.interrupt.clone();
    cx.budget = Budget::new(limits.max_memory);
    let cx = cx;
    let mut c = Compiler::new(&cx);
    let mut body = c.body(&f.body)?;
    let (shape, columns) = compile_shape(&mut c, f, &body, params)?;
    let uses_rules = body.any_pattern(&|p| p.derived);
    let derived = derive(&cx, catalog, &mut body, interrupt)?;
    let planner = Planner::new(&cx, &derived).with_interrupt(interrupt);
    let plan = planner.plan_query(&body)?;
    let readings = planner.readings();
    let count_scan = counts::CountScan::of(&plan, &shape);
    let Compiler {
        vars,
        warnings,
        absent,
        ..
    } = c;
    // Warnings depend on what is stored: such a plan is not kept, nor one made against a
    // transaction's pending writes.  One that read derived facts is kept until a commit.
    let cacheable = warnings.is_empty() && delta.is_none_or(Delta::is_empty);
    Ok(Planned::new(
        schema.clone(),
        shape,
        columns.into(),
        vars,
        plan,
        derived,
        warnings,
        cacheable,
        absent,
        readings,
        store.version(),
    )
    .with_count_scan(count_scan)
    .pinned(uses_rules))
}

/// Run a planned `find` (see [`prepare`]) and decode its rows; with [`Mode::Analyze`], also
/// render the plan with what each step did.
pub fn execute(
    store: &Store,
    delta: Option<&Delta>,
    planned: &Planned,
    limits: &Limits,
    mode: Mode,
) -> Result<QueryResult> {
    // Constants were resolved to ids when the query was compiled.
    let no_params = Params::new();
    let (catalog, ids) = (&planned.schema.0, &planned.schema.1);
    let mut cx = Context::new(store, delta, catalog, &no_params, ids);
    cx.interrupt = limits.interrupt.clone();
    cx.budget = Budget::new(limits.max_memory);
    let cx = cx;
    let ev = expr::Eval::with_label(store, delta, ids.label_id);
    if let (Some(count), Mode::Run, true) =
        (&planned.count_scan, mode, delta.is_none_or(Delta::is_empty))
    {
        let mut collector =
            Collector::new(&planned.shape, &ev, true, planned.plan.rows, &cx.budget);
        count.run(store, &mut collector, &limits.interrupt)?;
        let id_rows = collector.finish(&interrupt::Pacer::new(&limits.interrupt))?;
        check_rows(id_rows.len(), limits)?;
        let rows = decode(&ev, id_rows, &limits.interrupt, &cx.budget)?;
        return Ok(planned.result(rows, None));
    }
    let exec = exec::Exec::new(
        &cx,
        &ev,
        &planned.derived,
        &limits.interrupt,
        mode == Mode::Analyze,
    );
    let id_rows = run(
        &exec,
        &planned.plan,
        &planned.shape,
        &ev,
        planned.vars.len(),
        limits,
        &cx.budget,
    )?;
    let plan_text = (mode == Mode::Analyze).then(|| {
        let profile = exec.profile.as_ref().map(|p| p.borrow().clone());
        explain::render(&planned.plan, &planned.vars, profile.as_ref())
    });
    let rows = decode(&ev, id_rows, &limits.interrupt, &cx.budget)?;
    Ok(planned.result(rows, plan_text))
}

/// Compile the find list, `having` and `order by` into the collector's [`Shape`]: the
/// visible columns, then hidden ones for what `having`/`order by` name that the find list
/// lacks.  Also returns the visible columns' names.
fn compile_shape(
    c: &mut Compiler<'_, '_>,
    f: &ast::Find,
    body: &ir::Body,
    params: &Params,
) -> Result<(Shape, Vec<String>)> {
    let mut body_slots = Vec::new();
    body.bound_slots(&mut body_slots);
    let mut cols = Vec::new();
    let mut names = Vec::new();
    let mut keys: Vec<(String, usize)> = Vec::new();
    if f.is_star() {
        let mut slots = body_slots.clone();
        slots.sort_unstable();
        for s in slots {
            keys.push((format!("?{}", c.vars[s]), cols.len()));
            names.push(c.vars[s].clone());
            cols.push(Col::Slot(s));
        }
    }
    for p in &f.projection {
        let i = cols.len();
        match p {
            Projection::Expr { expr, alias } => {
                if let ast::Expr::Term(ast::TermNode {
                    term: Term::Var(v), ..
                }) = expr
                {
                    cols.push(Col::Slot(c.slot(v)));
                    names.push(alias.as_ref().map_or(v.clone(), |a| a.name.clone()));
                    keys.push((format!("?{v}"), i));
                } else {
                    cols.push(Col::Expr(c.expr(expr, &[])?));
                    names.push(
                        alias
                            .as_ref()
                            .map_or_else(|| crate::lang::print_expr(expr), |a| a.name.clone()),
                    );
                }
                if let Some(a) = alias {
                    keys.push((a.name.clone(), i));
                }
            }
            Projection::Aggregate { aggregate, alias } => {
                let arg = match &aggregate.arg {
                    Some(e) => Some(c.expr(e, &[])?),
                    None => None,
                };
                let text = crate::lang::print_aggregate(aggregate);
                cols.push(Col::Agg {
                    func: aggregate.func,
                    distinct: aggregate.distinct,
                    arg,
                    text: text.clone(),
                });
                names.push(alias.as_ref().map_or(text.clone(), |a| a.name.clone()));
                keys.push((text, i));
                if let Some(a) = alias {
                    keys.push((a.name.clone(), i));
                }
            }
        }
    }
    let visible = cols.len();
    let aggregated = cols.iter().any(Col::is_agg);
    let mut refs_aggs = Vec::new();
    let mut refs_vars = Vec::new();
    for e in f.having.iter().chain(f.order_by.iter().map(|k| &k.expr)) {
        collect_refs(e, &mut refs_aggs, &mut refs_vars);
    }
    for a in refs_aggs {
        let text = crate::lang::print_aggregate(&a);
        if !keys.iter().any(|(k, _)| *k == text) {
            let arg = match &a.arg {
                Some(e) => Some(c.expr(e, &[])?),
                None => None,
            };
            keys.push((text.clone(), cols.len()));
            cols.push(Col::Agg {
                func: a.func,
                distinct: a.distinct,
                arg,
                text,
            });
        }
    }
    if !aggregated {
        for v in refs_vars {
            let key = format!("?{v}");
            if !keys.iter().any(|(k, _)| *k == key) {
                keys.push((key, cols.len()));
                let s = c.slot(&v);
                cols.push(Col::Slot(s));
            }
        }
    }
    let having = f
        .having
        .iter()
        .map(|h| c.expr(h, &keys))
        .collect::<Result<Vec<_>>>()?;
    let order = f
        .order_by
        .iter()
        .map(|k| Ok((c.expr(&k.expr, &keys)?, k.order)))
        .collect::<Result<Vec<_>>>()?;
    let shape = Shape {
        cols,
        visible,
        having,
        order,
        offset: count(&f.offset, params)?.unwrap_or(0),
        limit: count(&f.limit, params)?,
        body_slots,
    };
    Ok((shape, names))
}

/// Run the plan over rows of `width` slots into a collector of `shape`; the finished rows
/// of ids.  More than `limits.max_rows` rows is an error, checked as rows arrive.
fn run(
    exec: &exec::Exec<'_, '_>,
    plan: &plan::Plan,
    shape: &Shape,
    ev: &expr::Eval<'_>,
    width: usize,
    limits: &Limits,
    budget: &Budget,
) -> Result<IdRows> {
    let mut collector = Collector::new(shape, ev, plan.unique, plan.rows, budget);
    let mut row = vec![Id::NONE; width];
    let ran = exec.run(plan, &mut row, &mut |r| {
        let more = collector.push(r)?;
        if let Some(max) = limits.max_rows {
            if collector.len() as u64 > max {
                return Err(Error::TooManyRows(max));
            }
        }
        Ok(more)
    });
    if let Err(e) = ran {
        collector.abandon();
        return Err(e);
    }
    let id_rows = collector.finish(&interrupt::Pacer::new(&limits.interrupt))?;
    check_rows(id_rows.len(), limits)?;
    Ok(id_rows)
}

/// More than `limits.max_rows` rows is an error.
fn check_rows(rows: usize, limits: &Limits) -> Result<()> {
    match limits.max_rows {
        Some(max) if rows as u64 > max => Err(Error::TooManyRows(max)),
        _ => Ok(()),
    }
}

/// The rows' values, every id decoded in one sorted pass over the dictionary (in batches,
/// checking `interrupt` between them); the decoded rows are charged to `budget`.  Each
/// value is moved into the last cell that holds it and cloned into the others.
fn decode(
    ev: &expr::Eval<'_>,
    id_rows: IdRows,
    interrupt: &Interrupt,
    budget: &Budget,
) -> Result<Vec<Vec<Option<Value>>>> {
    let mut ids: Vec<Id> = id_rows
        .ids
        .iter()
        .copied()
        .filter(|i| i.is_some())
        .collect();
    // Cells still to fill with each value; the rows are distinct, so in a one-column
    // result every value fills one.
    let mut uses: FxHashMap<Id, u32> = FxHashMap::default();
    if id_rows.width > 1 {
        for id in &ids {
            *uses.entry(*id).or_default() += 1;
        }
    }
    // One pass when the ids fit one batch; otherwise batches, checking between them.
    const BATCH: usize = 1 << 14;
    interrupt.check()?;
    let mut values = if ids.len() <= BATCH {
        ev.values(&ids)?
    } else {
        ids.sort_unstable();
        ids.dedup();
        let mut values = FxHashMap::default();
        for batch in ids.chunks(BATCH) {
            interrupt.check()?;
            values.extend(ev.values(batch)?);
        }
        values
    };
    let mut cell = |id: &Id| match uses.get_mut(id) {
        Some(n) if *n > 1 => {
            *n -= 1;
            values.get(id).cloned()
        }
        _ => values.remove(id),
    };
    let pacer = interrupt::Pacer::new(interrupt);
    let mut rows = Vec::with_capacity(id_rows.len());
    for r in id_rows.rows() {
        if let Err(e) = pacer.tick() {
            interrupt::abandon(rows);
            return Err(e);
        }
        let row: Vec<Option<Value>> = r.iter().map(&mut cell).collect();
        // The decoded rows are held too (a long text in every row adds up).
        let text: usize = row
            .iter()
            .flatten()
            .filter_map(Value::text)
            .map(str::len)
            .sum();
        if let Err(e) = budget.charge(budget::row_bytes(row.len()) * 2 + text as u64) {
            interrupt::abandon(rows);
            return Err(e);
        }
        rows.push(row);
    }
    Ok(rows)
}
