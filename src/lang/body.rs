//! Query and rule bodies: conjuncts separated by `,`, triple patterns with `;`, filters,
//! `not { }`, `optional { }` and `{ } or { }`.

use super::ast::{Body, Conjunct, Expr, TermNode, TriplePattern};
use super::expr::{call, cmp_op, comparison_rest, ExprCx};
use super::input::{expected, ws, Cx, PError, PResult};
use super::lexical::{call_name, keyword, next_is_keyword, peek_word, symbol};
use super::print::print_term;
use super::term::{missing, required_term, starts_term, term};
use nom::Parser;

/// Words that end a query body.
pub(crate) const BODY_END_KEYWORDS: [&str; 4] = ["having", "order", "limit", "offset"];

/// Whether a pattern ends at `k` (after whitespace): the end of the input, `,`, `.`, `}` or a
/// word that ends the body.
fn at_pattern_end(k: &str) -> bool {
    k.is_empty()
        || k.starts_with([',', '.', '}'])
        || peek_word(k).is_some_and(|w| BODY_END_KEYWORDS.contains(&w))
}

/// A body: at least one conjunct, separated by `,`.
pub(crate) fn body<'a>(cx: &Cx, i: &'a str) -> PResult<'a, Body> {
    let start = ws(i);
    let mut items: Vec<Conjunct> = Vec::new();
    let mut r = i;
    loop {
        let prev = match items.last() {
            Some(Conjunct::Pattern(p)) => Some(p),
            _ => None,
        };
        let (after, mut found) = conjunct(cx, r, prev)?;
        items.append(&mut found);
        match symbol(",").parse(after) {
            Ok((next, _)) => r = next,
            Err(_) => {
                r = after;
                break;
            }
        }
    }
    Ok((
        r,
        Body {
            items,
            span: cx.span(start, r),
        },
    ))
}

/// One conjunct (a triple pattern with `;` gives several).
fn conjunct<'a>(cx: &Cx, i: &'a str, prev: Option<&TriplePattern>) -> PResult<'a, Vec<Conjunct>> {
    let j = ws(i);
    match peek_word(j) {
        Some("not") => {
            let (r, b) = block(cx, &j[3..], "not")?;
            return Ok((r, vec![Conjunct::Not(b)]));
        }
        Some("optional") => {
            let (r, b) = block(cx, &j[8..], "optional")?;
            return Ok((r, vec![Conjunct::Optional(b)]));
        }
        _ if call_name(j).is_some() => {
            let (r, c) = call(cx, j, ExprCx::BODY)?;
            let (r, e) = comparison_rest(cx, c, r, ExprCx::BODY)?;
            return Ok((r, vec![Conjunct::Filter(e)]));
        }
        _ => {}
    }
    if j.starts_with('{') {
        return or_group(cx, j);
    }
    let (r, left) = match term(cx, j, false) {
        Ok(ok) => ok,
        Err(nom::Err::Error(_)) => {
            let e = missing(i, "expected a condition");
            let e = if e.hint.is_none() {
                e.hint(CONDITION_FORMS)
            } else {
                e
            };
            return Err(nom::Err::Failure(e));
        }
        Err(e) => return Err(e),
    };
    match cmp_op(r) {
        Ok(_) => {
            let (r, e) = comparison_rest(cx, Expr::Term(left), r, ExprCx::BODY)?;
            Ok((r, vec![Conjunct::Filter(e)]))
        }
        Err(nom::Err::Error(_)) => pattern_rest(cx, left, r, prev),
        Err(e) => Err(e),
    }
}

const CONDITION_FORMS: &str = "a condition is a triple pattern (?x backed_by ?y), a comparison (?d < 2020), a function such as contains(?l, \"x\"), not { … }, optional { … } or { … } or { … }";

/// The rest of a triple pattern after its subject: `p o [from S] (; p o [from S])*`.
fn pattern_rest<'a>(
    cx: &Cx,
    subject: TermNode,
    i: &'a str,
    prev: Option<&TriplePattern>,
) -> PResult<'a, Vec<Conjunct>> {
    let k = ws(i);
    if at_pattern_end(k) {
        let text = print_term(&subject.term);
        let e = cx.error_at(subject.span, format!("'{text}' is not a condition"));
        let e = match prev {
            Some(p) => e.hint(format!(
                "in a query body ',' separates conditions; to match another object repeat the subject and predicate: {} {} {text}",
                print_term(&p.subject.term),
                super::print::print_predicate(&p.predicate.term)
            )),
            None => e.hint(CONDITION_FORMS),
        };
        return Err(nom::Err::Failure(e));
    }
    let mut out = Vec::new();
    let mut r = i;
    loop {
        let (after, predicate) =
            required_term(cx, r, true, "expected a predicate after the subject")?;
        let (after, object) =
            required_term(cx, after, false, "expected a term after the predicate")?;
        let (after, source) = match keyword("from").parse(after) {
            Ok((a, _)) => {
                let (a, s) = required_term(cx, a, false, "expected a source after 'from'")?;
                (a, Some(s))
            }
            Err(_) => (after, None),
        };
        let span = subject.span.to(cx.span(ws(r), after));
        out.push(Conjunct::Pattern(TriplePattern {
            subject: subject.clone(),
            predicate,
            object,
            source,
            span,
        }));
        r = after;
        match symbol(";").parse(r) {
            Ok((a, _)) => {
                r = a;
                if at_pattern_end(ws(a)) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    Ok((r, out))
}

/// `{ body }` after the keyword `what` (or at an or-group).
fn block<'a>(cx: &Cx, i: &'a str, what: &str) -> PResult<'a, super::ast::Body> {
    let j = ws(i);
    let Some(r) = j.strip_prefix('{') else {
        return Err(nom::Err::Failure(expected(
            i,
            format!("expected '{{' after '{what}'"),
        )));
    };
    let _depth = cx.enter(j)?;
    if ws(r).starts_with('}') {
        return PError::at(ws(r), 1, "a block needs at least one condition").fail();
    }
    let (r, b) = body(cx, r)?;
    match symbol("}").parse(r) {
        Ok((r, _)) => Ok((r, b)),
        Err(_) => {
            let mut e = expected(r, "expected '}' to close the block");
            if starts_term(r) {
                e = e.hint("separate conditions with ','");
            }
            Err(nom::Err::Failure(e))
        }
    }
}

/// `{ … } or { … } (or { … })*` at `j`.
fn or_group<'a>(cx: &Cx, j: &'a str) -> PResult<'a, Vec<Conjunct>> {
    let (mut r, first) = block(cx, j, "or")?;
    let mut branches = vec![first];
    while next_is_keyword(r, "or") {
        let (after, _) = keyword("or").parse(r)?;
        let (after, b) = block(cx, after, "or")?;
        branches.push(b);
        r = after;
    }
    if branches.len() < 2 {
        return Err(nom::Err::Failure(
            expected(r, "expected 'or' after a '{ … }' block")
                .hint("'{ … } or { … }' matches either block; plain conditions need no braces"),
        ));
    }
    Ok((r, vec![Conjunct::Or(branches)]))
}
