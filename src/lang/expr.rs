//! Expressions: comparison operators, operands, function calls, aggregates, date ranges.

use super::ast::{AggFunc, Aggregate, CmpOp, Expr, Func, Name};
use super::input::{backtrack, expected, ws, Cx, PError, PResult};
use super::lexical::{
    angle_name, bare_word, call_name, keyword, lt_is_operator, number_or_date, peek_word, symbol,
    NumLit,
};
use super::term::{missing, term};
use crate::diag::suggest;
use crate::model::Date;
use nom::Parser;

/// What an expression may contain where it is being parsed.
#[derive(Clone, Copy)]
pub(crate) struct ExprCx<'s> {
    /// Aggregates are allowed (find list, `having`, `order by`), not in a query body.
    pub aggregates: bool,
    /// Aliases of the find list: a name equal to one is `Expr::Alias` (`having`, `order by`).
    pub aliases: &'s [String],
}

impl ExprCx<'_> {
    pub(crate) const BODY: ExprCx<'static> = ExprCx {
        aggregates: false,
        aliases: &[],
    };
}

pub(crate) fn agg_from_name(name: &str) -> Option<AggFunc> {
    AggFunc::ALL.into_iter().find(|a| a.name() == name)
}

/// A comparison operator after whitespace.  Recoverable when there is none; a failure for
/// the usual typos (`==`, `=>`, `=<`, `<>`).
///
/// `<` is the operator when followed by whitespace, `=`, `?`, `$`, `"`, `@`, `-`, `(`, a
/// digit or the end; any other `<` starts a `<…>` name (a predicate such as `<http://x>`).
pub(crate) fn cmp_op(i: &str) -> PResult<'_, CmpOp> {
    let j = ws(i);
    let typo = |len: usize, fix: &str| {
        PError::at(j, len, format!("'{}' is not an operator", &j[..len]))
            .hint(fix.to_string())
            .fail()
    };
    if j.starts_with("==") {
        return typo(2, "write = to compare two values: ?x = 5");
    }
    if j.starts_with("=>") {
        return typo(2, "write >= for 'greater than or equal'");
    }
    if j.starts_with("=<") {
        return typo(2, "write <= for 'less than or equal'");
    }
    if j.starts_with("<>") {
        return typo(2, "write != for 'not equal'");
    }
    for (sym, op) in [
        ("!=", CmpOp::Ne),
        ("<=", CmpOp::Le),
        (">=", CmpOp::Ge),
        ("=", CmpOp::Eq),
        (">", CmpOp::Gt),
    ] {
        if let Some(r) = j.strip_prefix(sym) {
            return Ok((r, op));
        }
    }
    if let Some(r) = j.strip_prefix('<') {
        return if lt_is_operator(r.chars().next()) {
            Ok((r, CmpOp::Lt))
        } else {
            backtrack(j)
        };
    }
    if j.starts_with('!') {
        return typo(1, "write != for 'not equal'");
    }
    match peek_word(j) {
        Some("in") => Ok((&j[2..], CmpOp::In)),
        Some("overlaps") => Ok((&j[8..], CmpOp::Overlaps)),
        _ => backtrack(j),
    }
}

/// An operand after whitespace: a function call or aggregate, a date range (where
/// `range_ok`), an alias, or a term.  Recoverable when nothing here can be an operand.
pub(crate) fn operand<'a>(
    cx: &Cx,
    i: &'a str,
    ecx: ExprCx<'_>,
    range_ok: bool,
) -> PResult<'a, Expr> {
    let j = ws(i);
    if call_name(j).is_some() {
        return call(cx, j, ecx);
    }
    if range_ok && j.starts_with(|c: char| c.is_ascii_digit() || c == '@') {
        if let Some(found) = range(cx, j)? {
            return Ok(found);
        }
    }
    if !ecx.aliases.is_empty() {
        if let Some((r, n)) = alias_token(j)? {
            if ecx.aliases.contains(&n) {
                return Ok((
                    r,
                    Expr::Alias(Name {
                        name: n,
                        span: cx.span(j, r),
                    }),
                ));
            }
        }
    }
    let (r, t) = term(cx, j, false)?;
    Ok((r, Expr::Term(t)))
}

/// A name token (bare word or `<…>`) that could be an alias.
fn alias_token(j: &str) -> Result<Option<(&str, String)>, nom::Err<PError>> {
    if j.starts_with('<') {
        let (r, n) = angle_name(j)?;
        return Ok(Some((r, n)));
    }
    Ok(bare_word(j).ok().map(|(r, w)| (r, w.to_string())))
}

/// An operand that must be there, else the failure `message`.
pub(crate) fn required_operand<'a>(
    cx: &Cx,
    i: &'a str,
    ecx: ExprCx<'_>,
    range_ok: bool,
    message: &str,
) -> PResult<'a, Expr> {
    match operand(cx, i, ecx, range_ok) {
        Err(nom::Err::Error(_)) => Err(nom::Err::Failure(missing(i, message))),
        other => other,
    }
}

/// After a left operand: `op right` makes a comparison; without an operator, the operand
/// itself is returned.
pub(crate) fn comparison_rest<'a>(
    cx: &Cx,
    left: Expr,
    i: &'a str,
    ecx: ExprCx<'_>,
) -> PResult<'a, Expr> {
    match cmp_op(i) {
        Ok((r, op)) => {
            let ranges = matches!(op, CmpOp::In | CmpOp::Overlaps);
            let (r, right) = required_operand(
                cx,
                r,
                ecx,
                ranges,
                &format!("expected a value after '{}'", op.symbol()),
            )?;
            let span = left.span().to(right.span());
            Ok((
                r,
                Expr::Cmp {
                    op,
                    left: Box::new(left),
                    right: Box::new(right),
                    span,
                },
            ))
        }
        Err(nom::Err::Error(_)) => Ok((i, left)),
        Err(e) => Err(e),
    }
}

/// `DATE..DATE` at `j` (an integer end is a year).  `None` when the literal at `j` is not
/// followed by `..`.
fn range<'a>(cx: &Cx, j: &'a str) -> Result<Option<(&'a str, Expr)>, nom::Err<PError>> {
    let (r, from) = number_or_date(j)?;
    let Some(after) = r.strip_prefix("..") else {
        return Ok(None);
    };
    let from = range_end(j, from)?;
    let (r, to) = match number_or_date(after) {
        Ok(ok) => ok,
        Err(nom::Err::Error(_)) => {
            return Err(nom::Err::Failure(
                expected(after, "expected a date after '..'")
                    .hint("a range is written 2019-04..2020-06"),
            ))
        }
        Err(e) => return Err(e),
    };
    let to = range_end(after, to)?;
    Ok(Some((
        r,
        Expr::Range {
            from,
            to,
            span: cx.span(j, r),
        },
    )))
}

fn range_end(at: &str, lit: NumLit) -> Result<Date, nom::Err<PError>> {
    let bad = |msg: String| {
        PError::at(at, super::input::token_len(at), msg).hint("a range is written 2019-04..2020-06")
    };
    match lit {
        NumLit::Date(d) => Ok(d),
        NumLit::Int(y) => i32::try_from(y)
            .ok()
            .and_then(|y| Date::year(y).ok())
            .ok_or_else(|| {
                nom::Err::Failure(bad(format!(
                    "invalid date in a range: year {y} is outside 0000..9999"
                )))
            }),
        NumLit::Float(_) => Err(nom::Err::Failure(bad(
            "a range runs between two dates".to_string()
        ))),
    }
}

/// `name(args)` at `j`: a function call or an aggregate.
pub(crate) fn call<'a>(cx: &Cx, j: &'a str, ecx: ExprCx<'_>) -> PResult<'a, Expr> {
    let _depth = cx.enter(j)?;
    let (r, w) = bare_word(j)?;
    let (r, _) = symbol("(").parse(r)?;
    if let Some(func) = agg_from_name(w) {
        if !ecx.aggregates {
            return PError::at(j, w.len(), format!("the aggregate {w}(…) cannot be used in a query body"))
                .hint("aggregates go in the find list, having or order by: find ?x count(?y) as n where … having n > 2")
                .fail();
        }
        let (r, agg) = aggregate(cx, j, func, r, ecx)?;
        return Ok((r, Expr::Aggregate(Box::new(agg))));
    }
    let Some(func) = Func::from_name(w) else {
        let known: Vec<&str> = Func::ALL.iter().map(|f| f.name()).collect();
        let mut hint = format!("the functions are {}", known.join(", "));
        if let Some(s) = suggest(
            w,
            known
                .iter()
                .copied()
                .chain(AggFunc::ALL.iter().map(|a| a.name())),
        ) {
            hint = format!("did you mean '{s}'? {hint}");
        }
        return PError::at(j, w.len(), format!("unknown function '{w}'"))
            .hint(hint)
            .fail();
    };
    let mut args = Vec::new();
    let mut r = r;
    if let Ok((after, _)) = symbol(")").parse(r) {
        r = after;
    } else {
        loop {
            let (after, arg) = required_operand(
                cx,
                r,
                ecx,
                false,
                &format!("expected an argument of {w}(…)"),
            )?;
            args.push(arg);
            if let Ok((after, _)) = symbol(",").parse(after) {
                r = after;
                continue;
            }
            match symbol(")").parse(after) {
                Ok((after, _)) => r = after,
                Err(_) => {
                    return Err(nom::Err::Failure(expected(
                        after,
                        format!("expected ',' or ')' in the arguments of {w}(…)"),
                    )))
                }
            }
            break;
        }
    }
    let span = cx.span(j, r);
    if args.len() != func.arity() {
        let n = func.arity();
        let s = if n == 1 { "" } else { "s" };
        return PError::at(
            j,
            span.len(),
            format!("{w} takes {n} argument{s}, found {}", args.len()),
        )
        .fail();
    }
    Ok((r, Expr::Call { func, args, span }))
}

/// The rest of `count(…)`, `min(…)`, … after the `(`.
fn aggregate<'a>(
    cx: &Cx,
    j: &'a str,
    func: AggFunc,
    r: &'a str,
    ecx: ExprCx<'_>,
) -> PResult<'a, Aggregate> {
    let name = func.name();
    if let Ok((after, _)) = symbol(")").parse(r) {
        if func != AggFunc::Count {
            return PError::at(
                j,
                j.len() - after.len(),
                format!("{name}() needs an argument"),
            )
            .hint(format!("write e.g. {name}(?x)"))
            .fail();
        }
        return Ok((
            after,
            Aggregate {
                func,
                distinct: false,
                arg: None,
                span: cx.span(j, after),
            },
        ));
    }
    let k = ws(r);
    if k.starts_with('*') {
        return PError::at(k, 1, format!("'*' is not an argument of {name}(…)"))
            .hint("write count() to count the solutions")
            .fail();
    }
    let (r, distinct) = match keyword("distinct").parse(r) {
        Ok((after, _)) => (after, true),
        Err(_) => (r, false),
    };
    let (r, arg) = required_operand(
        cx,
        r,
        ecx,
        false,
        &format!("expected a variable in {name}(…)"),
    )?;
    let (r, _) = symbol(")")
        .parse(r)
        .map_err(|_| nom::Err::Failure(expected(r, format!("expected ')' to close {name}(…)"))))?;
    Ok((
        r,
        Aggregate {
            func,
            distinct,
            arg: Some(arg),
            span: cx.span(j, r),
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators() {
        assert_eq!(cmp_op(" < ?b").map(|r| r.1), Ok(CmpOp::Lt));
        assert_eq!(cmp_op(" <3").map(|r| r.1), Ok(CmpOp::Lt));
        assert!(matches!(cmp_op(" <http://x> ?y"), Err(nom::Err::Error(_))));
        assert_eq!(cmp_op(" in 2020").map(|r| r.1), Ok(CmpOp::In));
        assert!(matches!(cmp_op(" inside"), Err(nom::Err::Error(_))));
        assert!(matches!(cmp_op(" == 3"), Err(nom::Err::Failure(_))));
    }
}
