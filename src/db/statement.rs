//! Running one parsed statement, by family: writes record into the delta (and commit it
//! when the statement runs alone), queries and `explain` go to the engine, `describe`,
//! `search` and `check` read the store.

use super::{Declaration, Outcome, Params, Rows};
use crate::diag::Diagnostic;
use crate::engine::{self, catalog::Catalog, inspect, write, Limits, Mode};
use crate::error::{Error, Result};
use crate::lang::ast::{self, StatementKind};
use crate::model::Value;
use crate::store::{Delta, Store};

/// Run a statement against the store with `delta` collecting its writes; `commit` says
/// whether to commit them (a single statement) or leave them (a transaction).
pub(super) fn run_statement(
    store: &Store,
    stmt: &ast::Statement,
    params: &Params,
    delta: &mut Delta,
    limits: &Limits,
    commit: bool,
) -> Result<(Outcome, Vec<Diagnostic>)> {
    let kind = &stmt.kind;
    if kind.is_write() {
        let mut warnings = Vec::new();
        let outcome = record_write(store, delta, params, kind, &mut warnings)?;
        let outcome = if commit {
            commit_write(store, delta, outcome)?
        } else {
            outcome
        };
        return Ok((outcome, warnings));
    }
    match kind {
        StatementKind::Find(_) | StatementKind::Explain { .. } => {
            run_query(store, delta, params, kind, limits)
        }
        StatementKind::Load { .. } => Err(Error::Invalid("load is run by Script".into())),
        _ => run_inspection(store, delta, params, kind, limits),
    }
}

/// Commit what a write recorded; the counts of the outcome become what the commit really
/// changed (a fact already stored is not added again).
fn commit_write(store: &Store, delta: &mut Delta, recorded: Outcome) -> Result<Outcome> {
    let stats = store.commit(std::mem::take(delta))?;
    Ok(match recorded {
        Outcome::Added(_) => Outcome::Added(stats.added),
        Outcome::Removed(_) => Outcome::Removed(stats.removed),
        other => other,
    })
}

/// Facts, `del`, `drop`, rules and schema statements: record into `delta`.
fn record_write(
    store: &Store,
    delta: &mut Delta,
    params: &Params,
    kind: &StatementKind,
    warnings: &mut Vec<Diagnostic>,
) -> Result<Outcome> {
    let catalog = |delta: &Delta| Catalog::load(store, Some(delta));
    Ok(match kind {
        StatementKind::Facts {
            triples, source, ..
        } => {
            let c = catalog(delta)?;
            let n = write::facts(store, delta, &c, params, triples, source.as_ref(), warnings)?;
            Outcome::Added(n)
        }
        StatementKind::FromBlock { source, statements } => {
            let c = catalog(delta)?;
            let mut n = 0;
            for s in statements {
                match &s.kind {
                    StatementKind::Facts {
                        triples,
                        source: inner,
                        ..
                    } => {
                        n += write::facts(
                            store,
                            delta,
                            &c,
                            params,
                            triples,
                            inner.as_ref().or(Some(source)),
                            warnings,
                        )?;
                    }
                    _ => {
                        return Err(Error::at(Diagnostic::error(
                            "only facts can stand inside a from block",
                            s.span,
                        )))
                    }
                }
            }
            Outcome::Added(n)
        }
        StatementKind::Del { triples, source } => {
            Outcome::Removed(write::del(store, delta, params, triples, source.as_ref())?)
        }
        StatementKind::DropSource(src) => {
            Outcome::Removed(write::drop_source(store, delta, params, src)?)
        }
        StatementKind::DropRule(name) => {
            let n = write::drop_rule(store, delta, &name.name)?;
            // As the rules' heads are written: `a` for the rules deriving types.
            let head =
                crate::lang::print_predicate(&ast::Term::Value(Value::Entity(name.name.clone())));
            Outcome::Done(match n {
                0 => format!("no rule derives '{head}'"),
                n => format!(
                    "dropped {} deriving '{head}'",
                    crate::diag::plural(n, "rule")
                ),
            })
        }
        StatementKind::Rule(r) => {
            let new = write::rule(store, delta, params, r)?;
            let head = crate::lang::print_predicate(&r.head.predicate.term);
            Outcome::Done(if new {
                format!("stored a rule for '{head}'")
            } else {
                format!("this rule for '{head}' was already stored")
            })
        }
        StatementKind::TypeDecl { name, supertypes } => {
            let supertypes = write::type_decl(store, delta, name, supertypes)?;
            Outcome::Declared(Declaration::Type {
                name: name.name.clone(),
                supertypes,
            })
        }
        StatementKind::PredDecl {
            name,
            domain,
            range,
        } => {
            write::pred_decl(store, delta, name, domain.as_ref(), range.as_ref())?;
            Outcome::Declared(Declaration::Predicate(name.name.clone()))
        }
        _ => return Err(Error::Invalid("not a write statement".into())),
    })
}

/// `find` and `explain [analyze]`: rows or a plan, with the compiler's warnings.
fn run_query(
    store: &Store,
    delta: &mut Delta,
    params: &Params,
    kind: &StatementKind,
    limits: &Limits,
) -> Result<(Outcome, Vec<Diagnostic>)> {
    delta.normalized();
    match kind {
        StatementKind::Find(f) => {
            let r = engine::find(store, Some(delta), params, f, limits, Mode::Run)?;
            Ok((Outcome::Rows(Rows::new(r.columns, r.rows)), r.warnings))
        }
        StatementKind::Explain { analyze, find } => {
            let mode = if *analyze {
                Mode::Analyze
            } else {
                Mode::Explain
            };
            let r = engine::find(store, Some(delta), params, find, limits, mode)?;
            let mut text = r.plan.unwrap_or_default();
            if *analyze {
                text.push('\n');
                text.push_str(&crate::diag::plural(r.rows.len() as u64, "row"));
            }
            Ok((Outcome::Plan(text), r.warnings))
        }
        _ => Err(Error::Invalid("not a query".into())),
    }
}

/// `describe`, `search` and `check`: read-only answers that are not queries.
fn run_inspection(
    store: &Store,
    delta: &mut Delta,
    params: &Params,
    kind: &StatementKind,
    limits: &Limits,
) -> Result<(Outcome, Vec<Diagnostic>)> {
    match kind {
        StatementKind::Describe(t) => {
            delta.normalized();
            let facts = inspect::describe(store, Some(delta), params, t)?;
            let mut warnings = Vec::new();
            if let (true, ast::Term::Value(Value::Entity(name))) = (facts.is_empty(), &t.term) {
                let catalog = Catalog::load(store, Some(delta))?;
                warnings.extend(inspect::unknown_entity(
                    store,
                    Some(delta),
                    &catalog,
                    name,
                    t.span,
                )?);
            }
            let rows = four_columns(["subject", "predicate", "object", "source"], facts);
            Ok((rows, warnings))
        }
        StatementKind::Search { text, .. } => {
            delta.normalized();
            let hits = inspect::search(store, Some(delta), text)?;
            let cols = vec!["entity".to_string(), "label".to_string()];
            let rows = Rows::new(
                cols,
                hits.into_iter().map(|(e, l)| vec![Some(e), l]).collect(),
            );
            Ok((Outcome::Rows(rows), Vec::new()))
        }
        StatementKind::Check => {
            let problems = inspect::check(store, params, limits)?;
            if problems.is_empty() {
                let done = "no problems found: every fact fits the schema and every index agrees";
                return Ok((Outcome::Done(done.into()), Vec::new()));
            }
            let rows = four_columns(["subject", "predicate", "object", "problem"], problems);
            Ok((rows, Vec::new()))
        }
        _ => Err(Error::Invalid("not a describe, search or check".into())),
    }
}

/// Rows of four columns (describe, check).
fn four_columns(names: [&str; 4], rows: Vec<[Option<Value>; 4]>) -> Outcome {
    Outcome::Rows(Rows::new(
        names.map(String::from).to_vec(),
        rows.into_iter().map(|r| r.to_vec()).collect(),
    ))
}
