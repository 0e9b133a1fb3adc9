//! Terms (what stands in a position of a triple) and names (of predicates, types, aliases).

use super::ast::{Name, Term, TermNode};
use super::input::{backtrack, describe_next, expected, ws, Cx, PError, PResult};
use super::lexical::{
    angle_name, bare_word, number_or_date, parameter, peek_word, string_literal, variable, NumLit,
};
use crate::model::{is_keyword, Value, TYPE_PREDICATE};

/// A term after whitespace: `?var`, `_`, `$param`, a name, `<…>`, a string, a number, a
/// date, `true`/`false`, and `a` (the entity `type`) where `predicate` is set.
///
/// Recoverable when the next token cannot start a term, including a reserved keyword: the
/// caller knows what it expected and says so (see [`required_term`]).
pub(crate) fn term<'a>(cx: &Cx, i: &'a str, predicate: bool) -> PResult<'a, TermNode> {
    let j = ws(i);
    let (r, t) = match j.chars().next() {
        Some('?') => variable(j).map(|(r, v)| (r, Term::Var(v.to_string())))?,
        Some('$') => parameter(j).map(|(r, v)| (r, Term::Param(v.to_string())))?,
        Some('"') => string_literal(j).map(|(r, s)| (r, Term::Value(Value::Str(s))))?,
        Some('<') => angle_name(j).map(|(r, s)| (r, Term::Value(Value::Entity(s))))?,
        Some(c) if c.is_ascii_digit() || c == '-' || c == '@' => {
            let (r, lit) = number_or_date(j)?;
            if r.starts_with("..") {
                return PError::at(r, 2, "a date range can only follow 'in' or 'overlaps'")
                    .hint("write e.g. ?d in 2019-04..2020-06")
                    .fail();
            }
            (r, Term::Value(num_value(lit)))
        }
        Some(_) => {
            let (r, w) = bare_word(j)?;
            let t = match w {
                "_" => Term::Wildcard,
                "true" => Term::Value(Value::Bool(true)),
                "false" => Term::Value(Value::Bool(false)),
                "a" if predicate => Term::Value(Value::Entity(TYPE_PREDICATE.to_string())),
                w if is_keyword(w) => return backtrack(j),
                w => Term::Value(Value::Entity(w.to_string())),
            };
            (r, t)
        }
        None => return backtrack(j),
    };
    Ok((
        r,
        TermNode {
            term: t,
            span: cx.span(j, r),
        },
    ))
}

pub(crate) fn num_value(lit: NumLit) -> Value {
    match lit {
        NumLit::Int(n) => Value::Int(n),
        NumLit::Float(x) => Value::Float(x),
        NumLit::Date(d) => Value::Date(d),
    }
}

/// A term that must be there: otherwise the failure `message`, naming a keyword found
/// instead and how to write it as a name.
pub(crate) fn required_term<'a>(
    cx: &Cx,
    i: &'a str,
    predicate: bool,
    message: &str,
) -> PResult<'a, TermNode> {
    match term(cx, i, predicate) {
        Err(nom::Err::Error(_)) => Err(nom::Err::Failure(missing(i, message))),
        other => other,
    }
}

/// The error for a missing term or name: names a keyword found instead.
pub(crate) fn missing(i: &str, message: &str) -> PError {
    let j = ws(i);
    match peek_word(j) {
        Some(w) if is_keyword(w) => expected(i, format!("{message}, found the keyword '{w}'"))
            .hint(format!("write <{w}> to use it as a name")),
        _ if j.is_empty() => expected(i, message),
        _ if j.starts_with(|c: char| !c.is_ascii() && c.is_alphanumeric()) => {
            let len = j
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == ':'))
                .unwrap_or(j.len());
            let word = &j[..len];
            PError::at(j, len, format!("{message}, found '{word}'"))
                .hint(format!("bare names use ASCII letters, digits, '_', ':' and '-'; write <{word}> for this name"))
        }
        _ => expected(i, format!("{message}, found {}", describe_next(i))),
    }
}

/// A name after whitespace: a bare word that is not a keyword nor `_`, or `<…>`.  The flag
/// tells whether it was written in angle brackets (`<date>` is a class, `date` a kind).
pub(crate) fn name<'a>(cx: &Cx, i: &'a str) -> PResult<'a, (Name, bool)> {
    let j = ws(i);
    if j.starts_with('<') {
        let (r, n) = angle_name(j)?;
        return Ok((
            r,
            (
                Name {
                    name: n,
                    span: cx.span(j, r),
                },
                true,
            ),
        ));
    }
    match bare_word(j) {
        Ok((r, w)) if w != "_" && !is_keyword(w) => Ok((
            r,
            (
                Name {
                    name: w.to_string(),
                    span: cx.span(j, r),
                },
                false,
            ),
        )),
        _ => backtrack(j),
    }
}

/// A name that must be there, else the failure `message`.
pub(crate) fn required_name<'a>(cx: &Cx, i: &'a str, message: &str) -> PResult<'a, (Name, bool)> {
    match name(cx, i) {
        Err(nom::Err::Error(_)) => Err(nom::Err::Failure(missing(i, message))),
        other => other,
    }
}

/// Whether the text after whitespace can start a term (used to choose hints).
pub(crate) fn starts_term(i: &str) -> bool {
    let j = ws(i);
    match j.chars().next() {
        Some(c) if matches!(c, '?' | '$' | '"' | '<' | '@' | '-') || c.is_ascii_digit() => true,
        Some(_) => {
            peek_word(j).is_some_and(|w| !is_keyword(w) || matches!(w, "true" | "false" | "a"))
        }
        None => false,
    }
}
