//! The query engine: compile a statement against the store, plan it, run it.
//!
//! A `find` flows: AST → [`compile`] into [`ir`] (slots, ids, subtypes) → rules evaluated for the derived
//! predicates it needs ([`rules`], with a magic-set rewrite in `magic`) → `plan`
//! (cost-based order, index or hash joins, range push-down) → `exec` (nested loops over
//! one row, streaming into the collector) → `finish` (groups, having, order, limit) →
//! values decoded in one pass.  Writes ([`mod@write`]) turn statements into a
//! [`crate::store::Delta`]; [`inspect`] answers `describe`, `search` and `check`.

mod budget;
pub mod catalog;
pub mod compile;
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
pub use interrupt::Interrupt;
pub use ir::Params;

use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::lang::ast::{self, Count, Projection, Term};
use crate::model::Value;
use crate::store::{Delta, Id, Store};
use catalog::Catalog;
use compile::{Compiler, Context};
use finish::{Col, Collector, Shape};
use plan::Planner;

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
#[derive(Debug, Clone, Default)]
pub struct QueryResult {
    /// Column names (see [`crate::Rows::columns`]).
    pub columns: Vec<String>,
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
    let schema = compile::schema(store, delta)?;
    let catalog = &schema.0;
    let mut cx = Context::with_ids(store, delta, catalog, params, schema.1.clone());
    cx.interrupt = limits.interrupt.clone();
    cx.budget = Budget::new(limits.max_memory);
    let cx = cx;
    let mut c = Compiler::new(&cx);
    let mut body = c.body(&f.body)?;
    let (shape, columns) = compile_shape(&mut c, f, &body, params)?;
    let derived = derive(&cx, catalog, &mut body, &limits.interrupt)?;
    let plan = Planner::new(&cx, &derived).plan(&body, &[])?;
    let warnings = std::mem::take(&mut c.warnings);
    if mode == Mode::Explain {
        return Ok(QueryResult {
            columns,
            rows: Vec::new(),
            warnings,
            plan: Some(explain::render(&plan, &c.vars, None)),
        });
    }

    let ev = expr::Eval::new(store, delta)?;
    let exec = exec::Exec::new(&cx, &ev, &derived, &limits.interrupt, mode == Mode::Analyze);
    let id_rows = run(&exec, &plan, &shape, &ev, c.vars.len(), limits, &cx.budget)?;
    let plan_text = (mode == Mode::Analyze).then(|| {
        let profile = exec.profile.as_ref().map(|p| p.borrow().clone());
        explain::render(&plan, &c.vars, profile.as_ref())
    });
    Ok(QueryResult {
        columns,
        rows: decode(&ev, id_rows, &limits.interrupt, &cx.budget)?,
        warnings,
        plan: plan_text,
    })
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
) -> Result<Vec<Vec<Id>>> {
    let mut collector = Collector::new(shape, ev, plan.unique, budget);
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
    if let Some(max) = limits.max_rows {
        if id_rows.len() as u64 > max {
            return Err(Error::TooManyRows(max));
        }
    }
    Ok(id_rows)
}

/// The rows' values, every id decoded in one sorted pass over the dictionary (in batches,
/// checking `interrupt` between them); the decoded rows are charged to `budget`.
fn decode(
    ev: &expr::Eval<'_>,
    id_rows: Vec<Vec<Id>>,
    interrupt: &Interrupt,
    budget: &Budget,
) -> Result<Vec<Vec<Option<Value>>>> {
    let mut ids: Vec<Id> = id_rows
        .iter()
        .flatten()
        .copied()
        .filter(|i| i.is_some())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let mut values = rustc_hash::FxHashMap::default();
    for batch in ids.chunks(1 << 14) {
        if let Err(e) = interrupt.check() {
            interrupt::abandon((id_rows, values));
            return Err(e);
        }
        values.extend(ev.values(batch)?);
    }
    let pacer = interrupt::Pacer::new(interrupt);
    let mut rows = Vec::with_capacity(id_rows.len());
    let mut all = id_rows.into_iter();
    while let Some(r) = all.next() {
        if let Err(e) = pacer.tick() {
            interrupt::abandon((all, values, rows));
            return Err(e);
        }
        let row: Vec<Option<Value>> = r.into_iter().map(|id| values.get(&id).cloned()).collect();
        // The decoded rows are held too (a long text in every row adds up).
        let text: usize = row
            .iter()
            .flatten()
            .filter_map(Value::text)
            .map(str::len)
            .sum();
        if let Err(e) = budget.charge(budget::row_bytes(row.len()) * 2 + text as u64) {
            interrupt::abandon((all, values, rows));
            return Err(e);
        }
        rows.push(row);
    }
    Ok(rows)
}
