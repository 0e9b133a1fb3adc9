//! The JSON API: what the page uses, and what notebooks and scripts can call.
//!
//! | request | answer |
//! |---|---|
//! | `POST /api/query` `{"query": "find …", "params": {"who": "gna"}}` | `{"results": [{"columns", "rows"}…], "warnings", "elapsed_ms"}` |
//! | `GET /api/entity/NAME` | label, types, outgoing and incoming facts with sources |
//! | `GET /api/search?q=TEXT` | entities whose name, label or alias contains TEXT |
//! | `GET /api/graph?entity=a,b&depth=1` (or `query=…`) | nodes with positions, edges; `format=svg` or `dot` for a file |
//! | `GET /api/timeline?query=…&from=…&to=…` | the timeline as SVG (`format=json`: its events) |
//! | `GET /api/language` | keywords, functions, predicates (for highlighting and completion) |
//!
//! Errors are `{"error": {"kind", "message", "line", "column", "hint", "report"}}` with an
//! HTTP status: 400 for a bad statement, 403 for a write to a read-only server, 404 for an
//! unknown entity, 408 for a query over the time limit, 413 for one over the row limit.

use super::{blocking, typed, Name, Params, Server};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dossier::viz::{self, NetworkOptions, SvgOptions, TimelineOptions};
use dossier::{Date, Error, Outcome, Report, Value};
use serde_json::{json, Map, Value as Json_};
use std::sync::Arc;
use std::time::Instant;

/// Facts per direction on an entity page; nodes in a network.
const ENTITY_FACTS: usize = 200;
const NETWORK_NODES: usize = 200;
const NETWORK_FANOUT: usize = 60;
const SEARCH_HITS: usize = 20;

/// A JSON error answer.
pub fn error_response(
    status: StatusCode,
    kind: &str,
    message: &str,
    report: Option<&Report>,
) -> Response {
    let mut e = Map::new();
    e.insert("kind".into(), json!(kind));
    e.insert("message".into(), json!(message));
    if let Some(r) = report {
        e.insert("message".into(), json!(r.message));
        e.insert("line".into(), json!(r.line));
        e.insert("column".into(), json!(r.column));
        e.insert("width".into(), json!(r.width));
        e.insert("hint".into(), json!(r.hint));
        e.insert("report".into(), json!(r.to_string()));
    }
    (status, Json(json!({ "error": e }))).into_response()
}

/// The answer for a library error.
fn from_error(e: &Error) -> Response {
    let (status, kind, report) = match e {
        Error::Syntax(r) => (StatusCode::BAD_REQUEST, "syntax", Some(&**r)),
        Error::Rejected(r) => (StatusCode::BAD_REQUEST, "rejected", Some(&**r)),
        Error::Parameter { .. } => (StatusCode::BAD_REQUEST, "parameter", None),
        Error::TimedOut(_) => (StatusCode::REQUEST_TIMEOUT, "timeout", None),
        Error::TooManyRows(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_many_rows", None),
        Error::Cancelled => (StatusCode::REQUEST_TIMEOUT, "cancelled", None),
        Error::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid", None),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal", None),
    };
    error_response(status, kind, &e.to_string(), report)
}

/// A value as JSON: `{"type": "date", "value": "2020-09", "precision": "month"}`.
pub fn cell(v: Option<&Value>) -> Json_ {
    let Some(v) = v else { return Json_::Null };
    match v {
        Value::Entity(e) => json!({"type": "entity", "value": e}),
        Value::Str(s) => json!({"type": "string", "value": s}),
        Value::Int(i) => json!({"type": "int", "value": i}),
        Value::Float(f) => json!({"type": "float", "value": f}),
        Value::Bool(b) => json!({"type": "bool", "value": b}),
        Value::Date(d) => json!({
            "type": "date",
            "value": d.to_string(),
            "precision": format!("{:?}", d.precision()).to_lowercase(),
        }),
    }
}

/// A parameter given as JSON: numbers and booleans as such; a string is read as a literal
/// of the language or else an entity name (as `--param`); `{"entity": "x"}`,
/// `{"string": "x"}`, `{"date": "2020-09"}` say the kind outright.
fn param(name: &str, v: &Json_) -> Result<Value, String> {
    let bad = || format!("parameter '{name}': {v} is not a value");
    Ok(match v {
        Json_::Bool(b) => Value::Bool(*b),
        Json_::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64().ok_or_else(bad)?),
        },
        Json_::String(s) => dossier::db::parse_param(s),
        Json_::Object(o) if o.len() == 1 => match o.iter().next() {
            Some((k, Json_::String(s))) if k == "entity" => Value::entity(s.as_str()),
            Some((k, Json_::String(s))) if k == "string" => Value::string(s.as_str()),
            Some((k, Json_::String(s))) if k == "date" => Value::Date(Date::parse(s)?),
            _ => return Err(bad()),
        },
        _ => return Err(bad()),
    })
}

/// `POST /api/query`.
pub async fn query(State(s): State<Arc<Server>>, body: axum::body::Bytes) -> Response {
    let request: Json_ = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error_response(
                StatusCode::BAD_REQUEST,
                "request",
                &format!("the body is not JSON: {e}"),
                None,
            )
        }
    };
    let Some(text) = request
        .get("query")
        .and_then(Json_::as_str)
        .map(str::to_string)
    else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "request",
            "expected {\"query\": \"find …\", \"params\": {…}}",
            None,
        );
    };
    let mut params = dossier::Params::new();
    if let Some(ps) = request.get("params").and_then(Json_::as_object) {
        for (k, v) in ps {
            match param(k, v) {
                Ok(v) => {
                    params.insert(k.trim_start_matches('$').to_string(), v);
                }
                Err(m) => return error_response(StatusCode::BAD_REQUEST, "parameter", &m, None),
            }
        }
    }
    // Refuse writes before anything runs, with the place of the first one.
    if !s.writable {
        for stmt in dossier::lang::statements(&text).flatten() {
            if stmt.kind.is_write() {
                let d = dossier::Diagnostic::error(
                    "this server is read-only: start it with --writable to accept writes",
                    stmt.span,
                );
                let r = d.report(None, &text);
                return error_response(StatusCode::FORBIDDEN, "read_only", &r.message, Some(&r));
            }
        }
    }
    let started = Instant::now();
    let done = blocking(&s, move |db, options| {
        let mut results = Vec::new();
        let mut warnings = Vec::new();
        for r in db
            .script(&text)
            .params(params)
            .options(options.clone())
            .forbid_load()
        {
            let e = r?;
            warnings.extend(e.warnings.iter().map(|w| w.to_string()));
            results.push(match e.outcome {
                Outcome::Rows(rows) => {
                    let truncated = rows.len() as u64 > options.max_rows.unwrap_or(u64::MAX);
                    let shown: Vec<Json_> = rows
                        .values()
                        .take(options.max_rows.unwrap_or(u64::MAX) as usize)
                        .map(|r| Json_::Array(r.iter().map(|v| cell(v.as_ref())).collect()))
                        .collect();
                    json!({"columns": rows.columns(), "rows": shown, "count": rows.len(),
                           "truncated": truncated})
                }
                Outcome::Plan(p) => json!({"plan": p}),
                other => json!({"done": other.to_string()}),
            });
        }
        Ok::<_, Error>((results, warnings))
    })
    .await;
    match done {
        Err(r) => r,
        Ok(Err(e)) => from_error(&e),
        Ok(Ok((results, warnings))) => Json(json!({
            "results": results,
            "warnings": warnings,
            "elapsed_ms": started.elapsed().as_secs_f64() * 1000.0,
        }))
        .into_response(),
    }
}

/// `GET /api/entity/NAME`.
pub async fn entity(State(s): State<Arc<Server>>, name: Name) -> Response {
    let name = name.0;
    let key = name.clone();
    let done = blocking(&s, move |db, _| viz::neighbourhood(db, &key, ENTITY_FACTS)).await;
    let n = match done {
        Err(r) => return r,
        Ok(Err(e)) => return from_error(&e),
        Ok(Ok(None)) => {
            return error_response(
                StatusCode::NOT_FOUND,
                "not_found",
                &format!("no entity is named '{name}'"),
                None,
            )
        }
        Ok(Ok(Some(n))) => n,
    };
    let facts = |fs: &[viz::Fact]| -> Vec<Json_> {
        fs.iter()
            .map(|f| json!({"predicate": f.predicate, "value": cell(Some(&f.other)), "sources": f.sources}))
            .collect()
    };
    Json(json!({
        "name": name,
        "label": n.label,
        "types": n.types,
        "outgoing": facts(&n.outgoing),
        "incoming": facts(&n.incoming),
        "outgoing_total": n.outgoing_total,
        "incoming_total": n.incoming_total,
        "limit": ENTITY_FACTS,
    }))
    .into_response()
}

/// `GET /api/search?q=TEXT`: at most [`SEARCH_HITS`], names starting with the text first.
pub async fn search(State(s): State<Arc<Server>>, q: Params) -> Response {
    let text = q.get("q").cloned().unwrap_or_default();
    if text.trim().is_empty() {
        return Json(json!({"hits": []})).into_response();
    }
    let done = blocking(&s, move |db, options| {
        let mut literal = String::new();
        dossier::model::write_string_literal(&mut literal, &text)
            .map_err(|e| Error::Invalid(e.to_string()))?;
        let statement = format!("search {literal}.");
        let mut hits = Vec::new();
        for r in db.script(&statement).options(options.clone()).forbid_load() {
            if let Outcome::Rows(rows) = r?.outcome {
                let lower = text.to_lowercase();
                let mut all: Vec<(bool, String, Option<String>)> = rows
                    .values()
                    .filter_map(|r| {
                        let name = r.first()?.as_ref()?.as_entity()?.to_string();
                        let label = r.get(1).cloned().flatten().and_then(|l| match l {
                            Value::Str(s) => Some(s),
                            _ => None,
                        });
                        Some((!name.to_lowercase().starts_with(&lower), name, label))
                    })
                    .collect();
                all.sort();
                let total = all.len();
                hits = all
                    .into_iter()
                    .take(SEARCH_HITS)
                    .map(|(_, n, l)| json!({"name": n, "label": l}))
                    .collect();
                return Ok((hits, total));
            }
        }
        Ok::<_, Error>((std::mem::take(&mut hits), 0))
    })
    .await;
    match done {
        Err(r) => r,
        Ok(Err(e)) => from_error(&e),
        Ok(Ok((hits, total))) => Json(json!({"hits": hits, "total": total})).into_response(),
    }
}

fn list(q: &Params, key: &str) -> Vec<String> {
    q.get(key)
        .map(|v| {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn number<T: std::str::FromStr>(q: &Params, key: &str, default: T) -> Result<T, String> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => v.parse().map_err(|_| format!("{key}={v} is not a number")),
    }
}

fn bad_request(message: &str) -> Response {
    error_response(StatusCode::BAD_REQUEST, "request", message, None)
}

/// `GET /api/graph`: `entity=a,b` (with `depth`, `follow`, `exclude`, `max_nodes`) or
/// `query=…` (rows of ?a ?b or ?a ?p ?b); `format=svg|dot` for a file, else JSON with
/// positions.
pub async fn graph(State(s): State<Arc<Server>>, q: Params) -> Response {
    let (depth, max_nodes) = match (
        number(&q, "depth", 1u32),
        number(&q, "max_nodes", NETWORK_NODES),
    ) {
        (Ok(d), Ok(m)) => (d.min(6), m.min(NETWORK_NODES * 5)),
        (Err(m), _) | (_, Err(m)) => return bad_request(&m),
    };
    let options = NetworkOptions {
        depth,
        follow: list(&q, "follow"),
        exclude: list(&q, "exclude"),
        max_nodes,
        max_fanout: NETWORK_FANOUT,
    };
    let entities = list(&q, "entity");
    let query = q.get("query").cloned();
    let format = q.get("format").cloned().unwrap_or_default();
    let done = blocking(&s, move |db, limits| {
        let mut g = match query {
            Some(text) => {
                let rows = db.query_with_options(&text, &dossier::Params::new(), limits)?;
                viz::graph_from_rows(db, &rows, options.max_nodes)?
            }
            None => {
                let roots: Vec<&str> = entities.iter().map(String::as_str).collect();
                if roots.is_empty() {
                    return Err(Error::Invalid("give entity=NAME or query=…".into()));
                }
                viz::network(db, &roots, &options)?
            }
        };
        viz::layout(&mut g);
        Ok(g)
    })
    .await;
    let g = match done {
        Err(r) => return r,
        Ok(Err(e)) => return from_error(&e),
        Ok(Ok(g)) => g,
    };
    match format.as_str() {
        "svg" => typed("image/svg+xml", viz::graph_svg(&g, &SvgOptions::default())),
        "dot" => typed("text/vnd.graphviz; charset=utf-8", viz::graph_dot(&g)),
        _ => {
            let nodes: Vec<Json_> = g
                .nodes
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    json!({
                        "name": n.name(), "label": n.label, "kind": n.kind, "group": n.group,
                        "colour": g.colour(i), "entity": matches!(n.value, Value::Entity(_)),
                        "depth": n.depth, "hidden": n.hidden,
                        "x": (n.x * 10.0).round() / 10.0, "y": (n.y * 10.0).round() / 10.0,
                    })
                })
                .collect();
            let edges: Vec<Json_> = g
                .edges
                .iter()
                .map(|e| json!({"from": e.from, "to": e.to, "predicate": e.predicate, "sources": e.sources}))
                .collect();
            Json(json!({
                "nodes": nodes, "edges": edges, "notes": g.notes,
                "legend": g.legend.iter().map(|(n, c)| json!({"group": n, "colour": c})).collect::<Vec<_>>(),
                "max_nodes": max_nodes,
            }))
            .into_response()
        }
    }
}

/// `GET /api/timeline?query=…&from=…&to=…` (no query: every dated event); SVG, or
/// `format=json` for the events.
pub async fn timeline(State(s): State<Arc<Server>>, q: Params) -> Response {
    let date = |key: &str| -> Result<Option<Date>, String> {
        match q.get(key).map(|v| v.trim()).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => Date::parse(v).map(Some).map_err(|e| format!("{key}: {e}")),
        }
    };
    let (from, to) = match (date("from"), date("to")) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(m), _) | (_, Err(m)) => return bad_request(&m),
    };
    let options = TimelineOptions {
        from,
        to,
        title: None,
        max_items: 2000,
    };
    let query = q.get("query").cloned().filter(|t| !t.trim().is_empty());
    let json_out = q.get("format").is_some_and(|f| f == "json");
    let o = options.clone();
    let done = blocking(&s, move |db, limits| match query {
        Some(text) => {
            let rows = db.query_with_options(&text, &dossier::Params::new(), limits)?;
            viz::timeline(db, &rows, &o)
        }
        None => viz::dated_events(db, &o),
    })
    .await;
    let t = match done {
        Err(r) => return r,
        Ok(Err(e)) => return from_error(&e),
        Ok(Ok(t)) => t,
    };
    if json_out {
        let items: Vec<Json_> = t
            .items
            .iter()
            .map(|i| {
                json!({"name": cell(Some(&i.value)), "label": i.label, "when": i.when(),
                       "lane": cell(i.lane.as_ref()), "sources": i.sources})
            })
            .collect();
        return Json(json!({"items": items, "notes": t.notes})).into_response();
    }
    typed("image/svg+xml", viz::timeline_svg(&t, &options))
}

/// `GET /api/language`: the words the page highlights and completes, from the language's
/// own lists.
pub async fn language(State(s): State<Arc<Server>>) -> Response {
    let done = blocking(&s, |db, _| db.predicate_names()).await;
    let predicates = match done {
        Err(r) => return r,
        Ok(Err(e)) => return from_error(&e),
        Ok(Ok(p)) => p,
    };
    let functions: Vec<&str> = dossier::lang::ast::Func::ALL
        .iter()
        .map(|f| f.name())
        .collect();
    Json(json!({
        "keywords": dossier::model::KEYWORDS,
        "functions": functions,
        "aggregates": dossier::lang::ast::AggFunc::ALL.iter().map(|a| a.name()).collect::<Vec<_>>(),
        "predicates": predicates,
        "palette": viz::PALETTE,
    }))
    .into_response()
}
