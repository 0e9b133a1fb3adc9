//! The checks that need no database: binding (range restriction), what may stand in facts,
//! `del` and rule heads, aggregates, aliases.  Errors make the statement refused; warnings
//! are printed and the statement runs.
//!
//! Binding rules: a variable is bound when it appears in a triple pattern of the body
//! outside `not` (patterns inside `optional` and inside any `or` branch count).  Variables
//! that appear only inside a `not { }` are local to it; a filter inside `not`, `optional` or
//! an `or` branch may use the variables bound in that block or outside it.

use super::ast::*;
use crate::diag::{Diagnostic, Span};
use crate::model::Value;
use std::collections::HashSet;

/// The checks of every statement of a script, in order.
pub fn check_script(script: &Script) -> Vec<Diagnostic> {
    script.statements.iter().flat_map(check_statement).collect()
}

/// Errors and warnings about one statement, each with its span.
pub fn check_statement(stmt: &Statement) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    statement(stmt, &mut out);
    out
}

fn statement(stmt: &Statement, out: &mut Vec<Diagnostic>) {
    match &stmt.kind {
        StatementKind::Facts {
            triples, source, ..
        } => {
            for t in triples {
                fact_position(&t.subject, "subject", true, out);
                fact_position(&t.predicate, "predicate", true, out);
                fact_position(&t.object, "object", false, out);
            }
            if let Some(s) = source {
                fact_position(s, "source", true, out);
            }
        }
        StatementKind::FromBlock { source, statements } => {
            fact_position(source, "source", true, out);
            for s in statements {
                statement(s, out);
            }
        }
        StatementKind::Del { triples, source } => {
            for t in triples {
                del_position(&t.subject, "subject", true, out);
                del_position(&t.predicate, "predicate", true, out);
                del_position(&t.object, "object", false, out);
            }
            if let Some(s) = source {
                del_position(s, "source", true, out);
            }
        }
        StatementKind::DropSource(t) => fact_position(t, "source", true, out),
        StatementKind::Describe(t) => fact_position(t, "thing to describe", false, out),
        StatementKind::Find(f) | StatementKind::Explain { find: f, .. } => find(f, out),
        StatementKind::Rule(r) => rule(r, out),
        StatementKind::TypeDecl { name, supertypes } => {
            for s in supertypes.iter().filter(|s| s.name == name.name) {
                out.push(Diagnostic::error(
                    format!("type '{}' cannot be its own supertype", name.name),
                    s.span,
                ));
            }
        }
        StatementKind::DropRule(_)
        | StatementKind::PredDecl { .. }
        | StatementKind::Search { .. }
        | StatementKind::Load { .. }
        | StatementKind::Check => {}
    }
}

fn kind_phrase(v: &Value) -> &'static str {
    match v {
        Value::Entity(_) => "an entity",
        Value::Str(_) => "a string",
        Value::Int(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Bool(_) => "a boolean",
        Value::Date(_) => "a date",
    }
}

/// A position of a fact: a constant or `$param`; subjects, predicates and sources are
/// entities.
fn fact_position(t: &TermNode, what: &str, entity: bool, out: &mut Vec<Diagnostic>) {
    match &t.term {
        Term::Var(v) => out.push(
            Diagnostic::error(format!("a fact cannot contain a variable (?{v})"), t.span)
                .with_hint("facts hold constants; to ask a question write: find ?x where …"),
        ),
        Term::Wildcard => out.push(
            Diagnostic::error("a fact cannot contain '_'", t.span)
                .with_hint("'_' matches anything in queries and del; a fact states one value"),
        ),
        Term::Value(v) if entity && !matches!(v, Value::Entity(_)) => {
            out.push(not_entity(what, v, t.span));
        }
        _ => {}
    }
}

fn not_entity(what: &str, v: &Value, span: Span) -> Diagnostic {
    Diagnostic::error(
        format!("the {what} must be an entity, not {}", kind_phrase(v)),
        span,
    )
    .with_hint("only objects can be literals; write a name, e.g. haftar or <5+5 commission>")
}

/// A position of `del`: constants, `$params` and `_`.
fn del_position(t: &TermNode, what: &str, entity: bool, out: &mut Vec<Diagnostic>) {
    match &t.term {
        Term::Var(v) => out.push(
            Diagnostic::error(
                format!("del takes constants, $parameters or '_', not variables (?{v})"),
                t.span,
            )
            .with_hint("'_' matches anything: del haftar backed_by _."),
        ),
        Term::Value(v) if entity && !matches!(v, Value::Entity(_)) => {
            out.push(not_entity(what, v, t.span))
        }
        _ => {}
    }
}

/// Variables bound by a body's positive patterns (including `optional` and `or`).
fn bound(b: &Body, set: &mut HashSet<String>) {
    for c in &b.items {
        match c {
            Conjunct::Pattern(p) => {
                for t in [
                    Some(&p.subject),
                    Some(&p.predicate),
                    Some(&p.object),
                    p.source.as_ref(),
                ]
                .into_iter()
                .flatten()
                {
                    if let Term::Var(v) = &t.term {
                        set.insert(v.clone());
                    }
                }
            }
            Conjunct::Optional(inner) => bound(inner, set),
            Conjunct::Or(branches) => branches.iter().for_each(|br| bound(br, set)),
            Conjunct::Filter(_) | Conjunct::Not(_) => {}
        }
    }
}

fn bound_vars(b: &Body) -> HashSet<String> {
    let mut set = HashSet::new();
    bound(b, &mut set);
    set
}

/// Check the filters of a body (and nested blocks) against the variables in scope.
fn body(b: &Body, scope: &HashSet<String>, out: &mut Vec<Diagnostic>) {
    let mut here = scope.clone();
    bound(b, &mut here);
    for c in &b.items {
        match c {
            Conjunct::Pattern(_) => {}
            Conjunct::Filter(e) => {
                unbound_in(e, &here, "used in a condition", out);
                expr_shape(e, false, false, out);
                value_as_condition(e, out);
            }
            Conjunct::Not(inner) | Conjunct::Optional(inner) => body(inner, &here, out),
            Conjunct::Or(branches) => branches.iter().for_each(|br| body(br, &here, out)),
        }
    }
}

/// Warn about a function that gives a value used where a condition goes.
fn value_as_condition(e: &Expr, out: &mut Vec<Diagnostic>) {
    if let Expr::Call { func, span, .. } = e {
        if !func.is_condition() {
            out.push(
                Diagnostic::warning(
                    format!("{}(…) gives a value, not a condition", func.name()),
                    *span,
                )
                .with_hint(format!("compare it, e.g. {}(…) = …", func.name())),
            );
        }
    }
}

/// Report every variable of `e` that is not in `scope`.
fn unbound_in(e: &Expr, scope: &HashSet<String>, role: &str, out: &mut Vec<Diagnostic>) {
    let mut vars = Vec::new();
    expr_vars(e, &mut vars);
    for t in vars {
        if let Term::Var(v) = &t.term {
            if !scope.contains(v) {
                out.push(unbound(v, role, t.span));
            }
        }
    }
}

fn unbound(v: &str, role: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        format!("variable ?{v} {role} is not bound by the body"),
        span,
    )
    .with_hint(format!(
        "a variable must appear in a triple pattern of the body, outside 'not', e.g. ?{v} label ?l"
    ))
}

fn expr_vars<'e>(e: &'e Expr, out: &mut Vec<&'e TermNode>) {
    match e {
        Expr::Term(t) => out.push(t),
        Expr::Range { .. } | Expr::Alias(_) => {}
        Expr::Cmp { left, right, .. } => {
            expr_vars(left, out);
            expr_vars(right, out);
        }
        Expr::Call { args, .. } => args.iter().for_each(|a| expr_vars(a, out)),
        Expr::Aggregate(a) => {
            if let Some(arg) = &a.arg {
                expr_vars(arg, out);
            }
        }
    }
}

/// Aggregates nested in aggregates or calls, and empty date ranges.
fn expr_shape(e: &Expr, in_agg: bool, in_call: bool, out: &mut Vec<Diagnostic>) {
    match e {
        Expr::Term(_) | Expr::Alias(_) => {}
        Expr::Range { from, to, span } => {
            if from.start_day() > to.end_day() {
                out.push(Diagnostic::warning(
                    format!("the range {from}..{to} is empty: it ends before it starts"),
                    *span,
                ));
            }
        }
        Expr::Cmp { left, right, .. } => {
            expr_shape(left, in_agg, in_call, out);
            expr_shape(right, in_agg, in_call, out);
        }
        Expr::Call { func, args, .. } => {
            if let (Func::Matches, Some(Expr::Term(t))) = (func, args.get(1)) {
                if let Term::Value(Value::Str(pattern)) = &t.term {
                    if let Err(why) = regex(pattern) {
                        out.push(invalid_regex(pattern, &why, t.span));
                    }
                }
            }
            args.iter().for_each(|a| expr_shape(a, in_agg, true, out))
        }
        Expr::Aggregate(a) => {
            if in_agg {
                out.push(Diagnostic::error(
                    "an aggregate cannot be nested inside another aggregate",
                    a.span,
                ));
            } else if in_call {
                out.push(
                    Diagnostic::error("an aggregate cannot be used inside a function call", a.span)
                        .with_hint("name the aggregate as a column of its own"),
                );
            }
            if let Some(arg) = &a.arg {
                expr_shape(arg, true, in_call, out);
            }
        }
    }
}

/// The regular expression of `matches(s, pattern)`, or why `pattern` is not one (the
/// reason only, e.g. "unclosed group"): a pattern that does not compile is an error, never a
/// silent "no match".
pub fn regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::Regex::new(pattern).map_err(|e| match e {
        // The parser's message repeats the pattern with a caret; its last line is the reason.
        regex::Error::Syntax(text) => text
            .lines()
            .next_back()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_string(),
        other => other.to_string(),
    })
}

/// The error for a constant pattern of `matches` that is not a regular expression.
pub fn invalid_regex(pattern: &str, why: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        format!(
            "{} is not a valid regular expression: {why}",
            Value::Str(pattern.to_string())
        ),
        span,
    )
    .with_hint("matches(s, \"…\") takes a regular expression; to match the text as written, use contains(s, \"…\")")
}

fn find(f: &Find, out: &mut Vec<Diagnostic>) {
    let bound = bound_vars(&f.body);
    body(&f.body, &HashSet::new(), out);
    let mut aliases: Vec<&Name> = Vec::new();
    let mut has_aggregate = false;
    for p in &f.projection {
        let (e, alias) = match p {
            Projection::Expr { expr, alias } => (expr.clone(), alias),
            Projection::Aggregate { aggregate, alias } => {
                has_aggregate = true;
                (Expr::Aggregate(Box::new(aggregate.clone())), alias)
            }
        };
        unbound_in(&e, &bound, "in the find list", out);
        expr_shape(&e, false, false, out);
        if let Some(a) = alias {
            if aliases.iter().any(|b| b.name == a.name) {
                out.push(Diagnostic::error(
                    format!("the column name '{}' is used twice", a.name),
                    a.span,
                ));
            }
            aliases.push(a);
        }
    }
    let names: Vec<&str> = aliases.iter().map(|a| a.name.as_str()).collect();
    if let Some(first) = f.having.first() {
        if !has_aggregate {
            out.push(
                Diagnostic::error("'having' needs an aggregate in the find list", first.span())
                    .with_hint(
                        "having filters groups; to filter solutions put the condition in the body",
                    ),
            );
        }
    }
    for h in &f.having {
        unbound_in(h, &bound, "in 'having'", out);
        expr_shape(h, false, false, out);
        value_as_condition(h, out);
        if let Expr::Cmp { left, .. } = h {
            if let Expr::Term(TermNode {
                term: Term::Value(Value::Entity(n)),
                span,
            }) = left.as_ref()
            {
                out.push(not_a_column(n, *span, &names));
            }
        }
    }
    for k in &f.order_by {
        unbound_in(&k.expr, &bound, "in 'order by'", out);
        expr_shape(&k.expr, false, false, out);
        match &k.expr {
            Expr::Term(TermNode {
                term: Term::Value(Value::Entity(n)),
                span,
            }) => out.push(not_a_column(n, *span, &names)),
            Expr::Term(TermNode {
                term: Term::Value(_) | Term::Wildcard,
                span,
            }) => out.push(Diagnostic::warning(
                "ordering by a constant has no effect",
                *span,
            )),
            _ => {}
        }
    }
}

fn not_a_column(n: &str, span: Span, aliases: &[&str]) -> Diagnostic {
    let d = Diagnostic::error(format!("'{n}' is not a column name of the find list"), span);
    if aliases.is_empty() {
        d.with_hint("name a column with 'as', e.g. find ?b count(?c) as clients where …")
    } else {
        d.with_hint(format!("the column names are: {}", aliases.join(", ")))
    }
}

fn rule(r: &Rule, out: &mut Vec<Diagnostic>) {
    let bound = bound_vars(&r.body);
    body(&r.body, &HashSet::new(), out);
    let h = &r.head;
    for (t, what) in [
        (&h.subject, "subject"),
        (&h.predicate, "predicate"),
        (&h.object, "object"),
    ] {
        match &t.term {
            Term::Var(v) if what == "predicate" => out.push(
                Diagnostic::error(format!("the predicate of a rule head must be a name, not ?{v}"), t.span)
                    .with_hint("rules are named by the predicate they derive"),
            ),
            Term::Var(v) if !bound.contains(v) => out.push(
                Diagnostic::error(format!("variable ?{v} in the rule head is not bound by the body"), t.span)
                    .with_hint("every variable of the head must appear in a triple pattern of the body, outside 'not'"),
            ),
            Term::Wildcard => out.push(
                Diagnostic::error("a rule head cannot contain '_'", t.span).with_hint("a derived triple needs a value in every position"),
            ),
            Term::Value(v) if what != "object" && !matches!(v, Value::Entity(_)) => out.push(not_entity(what, v, t.span)),
            _ => {}
        }
    }
    let mut params = Vec::new();
    for t in [&h.subject, &h.predicate, &h.object] {
        params.push(t);
    }
    body_terms(&r.body, &mut params);
    for t in params {
        if let Term::Param(p) = &t.term {
            out.push(
                Diagnostic::error(format!("a rule cannot use the parameter ${p}"), t.span)
                    .with_hint("rules are stored and run later, when no parameters are given"),
            );
        }
    }
}

/// Every term of a body, nested blocks included.
fn body_terms<'b>(b: &'b Body, out: &mut Vec<&'b TermNode>) {
    for c in &b.items {
        match c {
            Conjunct::Pattern(p) => {
                out.extend([&p.subject, &p.predicate, &p.object]);
                out.extend(p.source.as_ref());
            }
            Conjunct::Filter(e) => expr_vars(e, out),
            Conjunct::Not(inner) | Conjunct::Optional(inner) => body_terms(inner, out),
            Conjunct::Or(branches) => branches.iter().for_each(|br| body_terms(br, out)),
        }
    }
}
