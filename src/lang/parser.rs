//! Statements: facts, `from` blocks, `del`, `drop`, `find`, `explain`, `rule`, `type`,
//! `pred`, `describe`, `search`, `load`, `check`.
//!
//! Each statement is chosen by its first word, so the parser never backtracks over a
//! statement; after a keyword every error is a failure (nom's `cut`), reported where the
//! text stopped making sense.

use super::ast::*;
use super::body::body;
use super::expr::{call, comparison_rest, operand, ExprCx};
use super::input::{describe_next, expected, ws, Cx, PError, PResult};
use super::lexical::{
    call_name, ident, keyword, next_is_keyword, peek_word, string_literal, symbol,
};
use super::term::{missing, required_name, required_term, starts_term};
use crate::model::{is_keyword, Kind};
use nom::combinator::cut;
use nom::Parser;

/// Statement keywords, for the "keywords are lowercase" hint.
const STATEMENT_KEYWORDS: [&str; 13] = [
    "add", "del", "drop", "find", "rule", "type", "pred", "from", "describe", "search", "explain",
    "load", "check",
];

/// One statement at `i` (after whitespace), with its span.
pub(crate) fn statement<'a>(cx: &Cx, i: &'a str) -> PResult<'a, Statement> {
    let j = ws(i);
    let word = peek_word(j);
    let after_word = &j[word.map_or(0, str::len)..];
    let (r, kind) = match word {
        Some("add") => facts(cx, after_word, true)?,
        Some("del") => del(cx, after_word)?,
        Some("drop") => drop(cx, after_word)?,
        Some("find") => {
            let (r, f) = find(cx, j)?;
            (end_of(r, true)?, StatementKind::Find(f))
        }
        Some("explain") => explain(cx, after_word)?,
        Some("rule") => rule(cx, j)?,
        Some("type") => type_decl(cx, after_word)?,
        Some("pred") => pred_decl(cx, after_word)?,
        Some("from") => from_block(cx, after_word)?,
        Some("describe") => {
            let (r, t) = required_term(
                cx,
                after_word,
                false,
                "expected what to describe after 'describe'",
            )?;
            (end(r)?, StatementKind::Describe(t))
        }
        Some("search") => {
            let (r, (text, span)) = string_arg(
                cx,
                after_word,
                "expected a string to search for",
                "write e.g. search \"haftar\".",
            )?;
            (end(r)?, StatementKind::Search { text, span })
        }
        Some("load") => {
            let (r, (path, span)) = string_arg(
                cx,
                after_word,
                "expected a file name in quotes",
                "write e.g. load \"other.dq\".",
            )?;
            (end(r)?, StatementKind::Load { path, span })
        }
        Some("check") => (end(after_word)?, StatementKind::Check),
        // SQL's and SPARQL's word for a query (a fact's predicate is never a variable).
        Some(w) if w.eq_ignore_ascii_case("select") && ws(after_word).starts_with(['?', '*']) => {
            return PError::at(j, w.len(), format!("unknown statement '{w}'"))
                .hint("a query starts with find: find ?x where ?x a Person.")
                .fail();
        }
        Some(w) if is_keyword(w) && !matches!(w, "true" | "false") => {
            return PError::at(
                j,
                w.len(),
                format!("a statement cannot start with the keyword '{w}'"),
            )
            .hint(format!("write <{w}> to use it as a name"))
            .fail();
        }
        Some(w) if STATEMENT_KEYWORDS.iter().any(|k| k.eq_ignore_ascii_case(w)) => {
            facts(cx, j, false).map_err(|e| {
                let lower = w.to_ascii_lowercase();
                e.map(|e| e.hint(format!("keywords are lowercase: write '{lower}'")))
            })?
        }
        _ if j.starts_with('.') => {
            return PError::at(j, 1, "expected a statement, found '.'")
                .hint("remove the extra '.'")
                .fail();
        }
        _ if j.is_empty() => return Err(nom::Err::Failure(expected(i, "expected a statement"))),
        _ if !starts_term(j) => return Err(nom::Err::Failure(missing(j, "expected a statement"))),
        _ => facts(cx, j, false)?,
    };
    Ok((
        r,
        Statement {
            kind,
            span: cx.span(j, r),
        },
    ))
}

/// The `.` that ends a statement.
fn end(i: &str) -> Result<&str, nom::Err<PError>> {
    end_of(i, false)
}

/// The `.` that ends a statement; `query` chooses the hint for a missing `,`.
fn end_of(i: &str, query: bool) -> Result<&str, nom::Err<PError>> {
    match symbol(".").parse(i) {
        Ok((r, _)) => Ok(r),
        Err(_) => {
            let mut e = expected(i, "expected '.' to end the statement");
            let k = ws(i);
            if let Some(w) = peek_word(k).filter(|w| super::body::BODY_END_KEYWORDS.contains(w)) {
                e = e.hint(format!("'{w}' comes too late: after the body come having, order by, limit, offset, in this order"));
            } else if starts_term(k) {
                e = e.hint(if query {
                    "separate the conditions of a query body with ','"
                } else {
                    "use ',' before another object and ';' before another predicate"
                });
            }
            Err(nom::Err::Failure(e))
        }
    }
}

/// `s p o (, o)* (; p o (, o)*)* [;]` as in facts and `del`: the triples of one subject.
fn fact_triples<'a>(cx: &Cx, i: &'a str, message: &str) -> PResult<'a, Vec<TriplePattern>> {
    let (mut r, subject) = required_term(cx, i, false, message)?;
    let mut triples = Vec::new();
    loop {
        let (after, predicate) =
            required_term(cx, r, true, "expected a predicate after the subject")?;
        r = after;
        loop {
            let (after, object) =
                required_term(cx, r, false, "expected a term after the predicate")?;
            let span = subject.span.to(object.span);
            triples.push(TriplePattern {
                subject: subject.clone(),
                predicate: predicate.clone(),
                object,
                source: None,
                span,
            });
            r = after;
            match symbol(",").parse(r) {
                Ok((after, _)) => r = after,
                Err(_) => break,
            }
        }
        match symbol(";").parse(r) {
            Ok((after, _)) => {
                r = after;
                let k = ws(r);
                if k.is_empty() || k.starts_with(['.', '}']) || next_is_keyword(r, "from") {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Ok((r, triples))
}

/// An optional `from SRC` at the end of facts or `del`.
fn statement_source<'a>(cx: &Cx, i: &'a str) -> PResult<'a, Option<TermNode>> {
    match keyword("from").parse(i) {
        Ok((r, _)) => {
            let (r, s) = required_term(cx, r, false, "expected a source after 'from'")?;
            Ok((r, Some(s)))
        }
        Err(_) => Ok((i, None)),
    }
}

fn facts<'a>(cx: &Cx, i: &'a str, add_keyword: bool) -> PResult<'a, StatementKind> {
    let message = if add_keyword {
        "expected a fact after 'add'"
    } else {
        "expected a statement"
    };
    let (r, triples) = fact_triples(cx, i, message)?;
    let (r, source) = statement_source(cx, r)?;
    Ok((
        end(r)?,
        StatementKind::Facts {
            add_keyword,
            triples,
            source,
        },
    ))
}

fn del<'a>(cx: &Cx, i: &'a str) -> PResult<'a, StatementKind> {
    let (r, triples) = fact_triples(cx, i, "expected a triple to delete after 'del'")?;
    let (r, source) = statement_source(cx, r)?;
    Ok((end(r)?, StatementKind::Del { triples, source }))
}

fn drop<'a>(cx: &Cx, i: &'a str) -> PResult<'a, StatementKind> {
    if let Ok((r, _)) = keyword("source").parse(i) {
        let (r, t) = required_term(cx, r, false, "expected the source to drop")?;
        return Ok((end(r)?, StatementKind::DropSource(t)));
    }
    if let Ok((r, _)) = keyword("rule").parse(i) {
        // `drop rule a.`: the rules deriving types (`rule ?x a T :- …`).
        let j = ws(r);
        if let Ok((rest, _)) = keyword("a").parse(j) {
            let name = Name {
                name: crate::model::TYPE_PREDICATE.to_string(),
                span: cx.span(j, rest),
            };
            return Ok((end(rest)?, StatementKind::DropRule(name)));
        }
        let (r, (n, _)) = required_name(cx, r, "expected the name of the rule's predicate")?;
        return Ok((end(r)?, StatementKind::DropRule(n)));
    }
    Err(nom::Err::Failure(expected(
        i,
        "expected 'source' or 'rule' after 'drop'",
    )))
}

fn explain<'a>(cx: &Cx, i: &'a str) -> PResult<'a, StatementKind> {
    let (r, analyze) = match keyword("analyze").parse(i) {
        Ok((r, _)) => (r, true),
        Err(_) => (i, false),
    };
    if !next_is_keyword(r, "find") {
        return Err(nom::Err::Failure(expected(
            r,
            "expected a query ('find …') after 'explain'",
        )));
    }
    let (r, f) = find(cx, ws(r))?;
    Ok((
        end_of(r, true)?,
        StatementKind::Explain { analyze, find: f },
    ))
}

fn string_arg<'a>(
    cx: &Cx,
    i: &'a str,
    message: &str,
    hint: &str,
) -> PResult<'a, (String, crate::diag::Span)> {
    let j = ws(i);
    match string_literal(j) {
        Ok((r, s)) => Ok((r, (s, cx.span(j, r)))),
        Err(nom::Err::Error(_)) => Err(nom::Err::Failure(missing(i, message).hint(hint))),
        Err(e) => Err(e),
    }
}

/// `find [distinct] COLS where BODY [having …] [order by …] [limit N] [offset N]`, at
/// the word `find`, without the final `.`.
pub(crate) fn find<'a>(cx: &Cx, j: &'a str) -> PResult<'a, Find> {
    let (r, _) = keyword("find").parse(j)?;
    let (r, distinct) = match keyword("distinct").parse(r) {
        Ok((r, _)) => (r, true),
        Err(_) => (r, false),
    };
    let (r, projection) = find_list(cx, r)?;
    let (r, _) = cut(keyword("where")).parse(r).map_err(|_| {
        let e = if ws(r).is_empty() || ws(r).starts_with('.') {
            expected(r, "expected 'where' and the query body")
        } else {
            expected(
                r,
                format!(
                    "expected 'where' before the query body, found {}",
                    describe_next(r)
                ),
            )
        };
        let hint = if ws(r).starts_with(',') {
            "the columns of the find list are separated by spaces: find ?x ?l where …"
        } else {
            "a query is written: find ?x where ?x a Person."
        };
        nom::Err::Failure(e.hint(hint))
    })?;
    if ws(r).starts_with('.') || ws(r).is_empty() {
        return Err(nom::Err::Failure(expected(
            r,
            "expected a condition after 'where'",
        )));
    }
    let (r, b) = body(cx, r)?;
    let aliases: Vec<String> = projection
        .iter()
        .filter_map(|p| p.alias().map(|a| a.name.clone()))
        .collect();
    let ecx = ExprCx {
        aggregates: true,
        aliases: &aliases,
    };
    let (r, having) = having(cx, r, ecx)?;
    let (r, order_by) = order_by(cx, r, ecx)?;
    let (r, limit) = count_clause(r, "limit")?;
    let (r, offset) = count_clause(r, "offset")?;
    Ok((
        r,
        Find {
            distinct,
            projection,
            body: b,
            having,
            order_by,
            limit,
            offset,
            span: cx.span(j, r),
        },
    ))
}

/// The columns: `*`, or variables, function calls and aggregates, each with `as NAME`.
fn find_list<'a>(cx: &Cx, i: &'a str) -> PResult<'a, Vec<Projection>> {
    let ecx = ExprCx {
        aggregates: true,
        aliases: &[],
    };
    let star_mixed = |at: &str| {
        PError::at(at, 1, "'*' cannot be mixed with other columns")
            .hint("'*' already stands for every variable of the body; list the columns instead")
            .fail()
    };
    let j = ws(i);
    if let Some(r) = j.strip_prefix('*') {
        let k = ws(r);
        if k.starts_with('?') || call_name(k).is_some() {
            return star_mixed(j);
        }
        return Ok((r, Vec::new()));
    }
    let mut cols = Vec::new();
    let mut r = i;
    loop {
        let k = ws(r);
        if k.starts_with('*') {
            return star_mixed(k);
        }
        let item = if k.starts_with('?') {
            let (after, e) = operand(cx, k, ecx, false)?;
            Some((after, e))
        } else if call_name(k).is_some() {
            let (after, e) = call(cx, k, ecx)?;
            Some((after, e))
        } else {
            None
        };
        let Some((after, e)) = item else { break };
        let (after, alias) = match keyword("as").parse(after) {
            Ok((a, _)) => {
                let (a, (n, _)) = required_name(cx, a, "expected a column name after 'as'")?;
                (a, Some(n))
            }
            Err(_) => (after, None),
        };
        cols.push(match e {
            Expr::Aggregate(a) => Projection::Aggregate {
                aggregate: *a,
                alias,
            },
            expr => Projection::Expr { expr, alias },
        });
        r = after;
    }
    if cols.is_empty() {
        return Err(nom::Err::Failure(
            expected(r, "expected what to find: variables, aggregates or '*'")
                .hint("a query is written: find ?x where ?x a Person."),
        ));
    }
    Ok((r, cols))
}

/// `having COND (, COND)*`; a condition is a comparison or a function call.
fn having<'a>(cx: &Cx, i: &'a str, ecx: ExprCx<'_>) -> PResult<'a, Vec<Expr>> {
    let Ok((mut r, _)) = keyword("having").parse(i) else {
        return Ok((i, Vec::new()));
    };
    let mut conds = Vec::new();
    loop {
        let (after, left) = super::expr::required_operand(
            cx,
            r,
            ecx,
            false,
            "expected a condition after 'having'",
        )?;
        let is_call = matches!(left, Expr::Call { .. });
        let (after, cond) = comparison_rest(cx, left, after, ecx)?;
        if !is_call && !matches!(cond, Expr::Cmp { .. }) {
            return Err(nom::Err::Failure(
                expected(after, "expected a comparison in 'having'")
                    .hint("write e.g. having n >= 5"),
            ));
        }
        conds.push(cond);
        match symbol(",").parse(after) {
            Ok((a, _)) => r = a,
            Err(_) => return Ok((after, conds)),
        }
    }
}

/// `order by KEY [asc|desc] (, KEY [asc|desc])*`.
fn order_by<'a>(cx: &Cx, i: &'a str, ecx: ExprCx<'_>) -> PResult<'a, Vec<OrderKey>> {
    let Ok((r, _)) = keyword("order").parse(i) else {
        return Ok((i, Vec::new()));
    };
    let (mut r, _) = keyword("by")
        .parse(r)
        .map_err(|_| nom::Err::Failure(expected(r, "expected 'by' after 'order'")))?;
    let mut keys = Vec::new();
    loop {
        let (after, expr) =
            super::expr::required_operand(cx, r, ecx, false, "expected what to order by")?;
        let (after, order, explicit) = if let Ok((a, _)) = keyword("asc").parse(after) {
            (a, Order::Asc, true)
        } else if let Ok((a, _)) = keyword("desc").parse(after) {
            (a, Order::Desc, true)
        } else {
            (after, Order::Asc, false)
        };
        keys.push(OrderKey {
            expr,
            order,
            explicit,
        });
        match symbol(",").parse(after) {
            Ok((a, _)) => r = a,
            Err(_) => return Ok((after, keys)),
        }
    }
}

/// `limit N` / `offset N`: a whole number or a `$param`.
fn count_clause<'a>(i: &'a str, word: &'static str) -> PResult<'a, Option<Count>> {
    let Ok((r, _)) = keyword(word).parse(i) else {
        return Ok((i, None));
    };
    let k = ws(r);
    let digits = k.find(|c: char| !c.is_ascii_digit()).unwrap_or(k.len());
    if digits > 0 {
        let after = &k[digits..];
        if after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
            || (after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit()))
        {
            return Err(nom::Err::Failure(expected(
                r,
                format!("expected a whole number after '{word}'"),
            )));
        }
        return match k[..digits].parse::<u64>() {
            Ok(n) => Ok((after, Some(Count::Value(n)))),
            Err(_) => {
                PError::at(k, digits, format!("the number after '{word}' is too large")).fail()
            }
        };
    }
    if let Some(p) = k.strip_prefix('$') {
        if let Ok((after, n)) = ident(p) {
            return Ok((after, Some(Count::Param(n.to_string()))));
        }
    }
    Err(nom::Err::Failure(
        expected(
            r,
            format!("expected a whole number or a $parameter after '{word}'"),
        )
        .hint(format!("write e.g. {word} 10")),
    ))
}

/// `rule S P O :- BODY.` at the word `rule`.
fn rule<'a>(cx: &Cx, j: &'a str) -> PResult<'a, StatementKind> {
    let (r, _) = keyword("rule").parse(j)?;
    let (r, subject) = required_term(cx, r, false, "expected the head of the rule after 'rule'")?;
    let (r, predicate) = required_term(cx, r, true, "expected a predicate in the rule head")?;
    let k = ws(r);
    if let Some(w) = call_name(k) {
        let (msg, hint) = if super::expr::agg_from_name(w).is_some() {
            (
                "a rule head cannot contain an aggregate",
                "rules derive plain triples; count in a query: find ?x count(?y) where …",
            )
        } else {
            (
                "a rule head cannot contain a function call",
                "compute values in a query's find list instead",
            )
        };
        return PError::at(k, w.len(), msg).hint(hint).fail();
    }
    let (r, object) = required_term(
        cx,
        r,
        false,
        "expected a term after the predicate of the rule head",
    )?;
    let k = ws(r);
    if k.starts_with([';', ',']) {
        return PError::at(k, 1, "a rule head is a single triple")
            .hint("write one rule for each derived triple")
            .fail();
    }
    if next_is_keyword(r, "from") {
        return PError::at(k, 4, "a rule head cannot name a source").fail();
    }
    let span = subject.span.to(object.span);
    let head = TriplePattern {
        subject,
        predicate,
        object,
        source: None,
        span,
    };
    let Ok((r, _)) = symbol(":-").parse(r) else {
        return Err(nom::Err::Failure(
            expected(r, "expected ':-' between the rule head and its body")
                .hint("a rule is written: rule ?x p ?z :- ?x q ?y, ?y p ?z."),
        ));
    };
    if ws(r).starts_with('.') || ws(r).is_empty() {
        return Err(nom::Err::Failure(expected(
            r,
            "expected a condition after ':-'",
        )));
    }
    let (r, b) = body(cx, r)?;
    let span = cx.span(j, r);
    Ok((
        end(r)?,
        StatementKind::Rule(Rule {
            head,
            body: b,
            span,
        }),
    ))
}

/// `type T [sub U, V].`
fn type_decl<'a>(cx: &Cx, i: &'a str) -> PResult<'a, StatementKind> {
    let (mut r, (n, _)) = required_name(cx, i, "expected a type name after 'type'")?;
    let mut supertypes = Vec::new();
    if let Ok((a, _)) = keyword("sub").parse(r) {
        r = a;
        loop {
            let (a, (s, _)) = required_name(cx, r, "expected a type name after 'sub'")?;
            supertypes.push(s);
            r = a;
            match symbol(",").parse(r) {
                Ok((a, _)) => r = a,
                Err(_) => break,
            }
        }
    }
    Ok((
        end(r)?,
        StatementKind::TypeDecl {
            name: n,
            supertypes,
        },
    ))
}

/// `pred p.` or `pred p: DOMAIN -> RANGE.`
fn pred_decl<'a>(cx: &Cx, i: &'a str) -> PResult<'a, StatementKind> {
    let (r, (n, _)) = required_name(cx, i, "expected a predicate name after 'pred'")?;
    let Ok((r, _)) = symbol(":").parse(r) else {
        if ws(r).starts_with('.') {
            return Ok((
                end(r)?,
                StatementKind::PredDecl {
                    name: n,
                    domain: None,
                    range: None,
                },
            ));
        }
        let mut e = expected(r, "expected ':' or '.' after the predicate name");
        if n.name.contains(':') {
            e = e.hint(format!("'{}' reads as one name; put a space after ':', e.g. pred backed_by: Actor -> Actor.", n.name));
        }
        return Err(nom::Err::Failure(e));
    };
    let (r, domain) = type_ref(cx, r, false, "expected the domain (a type or _) after ':'")?;
    let Ok((r, _)) = symbol("->").parse(r) else {
        return Err(nom::Err::Failure(
            expected(r, "expected '->' between the domain and the range")
                .hint("write e.g. pred backed_by: Actor -> Actor."),
        ));
    };
    let (r, range) = type_ref(
        cx,
        r,
        true,
        "expected the range (a type, a literal kind or _) after '->'",
    )?;
    Ok((
        end(r)?,
        StatementKind::PredDecl {
            name: n,
            domain: Some(domain),
            range: Some(range),
        },
    ))
}

/// `_`, a literal kind (in a range only, and only unbracketed), or a class name.
fn type_ref<'a>(cx: &Cx, i: &'a str, is_range: bool, message: &str) -> PResult<'a, TypeRef> {
    let j = ws(i);
    if peek_word(j) == Some("_") {
        return Ok((
            &j[1..],
            TypeRef::Any {
                span: cx.span(j, &j[1..]),
            },
        ));
    }
    let (r, (n, quoted)) = required_name(cx, i, message)?;
    if is_range && !quoted {
        if let Some(kind) = Kind::from_name(&n.name) {
            return Ok((r, TypeRef::Kind { kind, span: n.span }));
        }
    }
    Ok((r, TypeRef::Class(n)))
}

/// `from SRC { facts… }`: every fact inside gets the source.
fn from_block<'a>(cx: &Cx, i: &'a str) -> PResult<'a, StatementKind> {
    let (r, source) = required_term(cx, i, false, "expected a source after 'from'")?;
    let k = ws(r);
    let Some(mut r) = k.strip_prefix('{') else {
        return Err(nom::Err::Failure(
            expected(r, "expected '{' after the source of a 'from' block")
                .hint("write from SRC { facts } or put 'from SRC' at the end of a fact"),
        ));
    };
    let mut statements = Vec::new();
    loop {
        let k = ws(r);
        if let Some(after) = k.strip_prefix('}') {
            return Ok((after, StatementKind::FromBlock { source, statements }));
        }
        if k.is_empty() {
            return Err(nom::Err::Failure(expected(
                r,
                "expected '}' to close the 'from' block",
            )));
        }
        let word = peek_word(k);
        let (after, kind) = match word {
            Some("add") => facts(cx, &k[3..], true)?,
            Some(w) if STATEMENT_KEYWORDS.contains(&w) => {
                return PError::at(k, w.len(), "only facts can stand in a 'from' block")
                    .hint(format!("move the '{w}' statement out of the block"))
                    .fail();
            }
            _ => facts(cx, k, false)?,
        };
        if let StatementKind::Facts {
            source: Some(s), ..
        } = &kind
        {
            return cx
                .error_at(
                    s.span,
                    "a fact inside a 'from' block cannot name another source",
                )
                .hint("move it out of the block")
                .fail();
        }
        statements.push(Statement {
            kind,
            span: cx.span(k, after),
        });
        r = after;
    }
}
