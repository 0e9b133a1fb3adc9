//! Tokens and literals: words, variables, parameters, strings, `<…>` names, numbers and
//! dates.  Each parser starts exactly at its token (the caller skips whitespace) and returns
//! a recoverable error when the token is not there at all, a failure with a precise message
//! when it is there but malformed.

use super::input::{backtrack, blank, ws, PError, PResult};
use crate::model::{Date, DateError};
use nom::bytes::complete::{tag, take_while};
use nom::character::complete::{char, digit1, satisfy};
use nom::combinator::{opt, recognize, verify};
use nom::sequence::preceded;
use nom::Parser;

pub(crate) fn is_word_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

pub(crate) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Whether `<` followed by `next` is the less-than operator rather than the start of a
/// `<name>`: at the end, or before whitespace, a digit or what starts an operand.
pub(crate) fn lt_is_operator(next: Option<char>) -> bool {
    next.is_none_or(|c| c.is_whitespace() || c.is_ascii_digit() || "=?$\"@-(".contains(c))
}

/// `[A-Za-z_][A-Za-z0-9_]*`: a variable or parameter name.
pub(crate) fn ident(i: &str) -> PResult<'_, &str> {
    recognize((satisfy(is_word_start), take_while(is_word_char))).parse(i)
}

/// A bare word: an identifier followed by any number of `[:-]+[A-Za-z0-9_]+` groups, so it
/// never ends in `:` or `-` (`backed_by:` is `backed_by` then `:`; `Actor->Actor` is
/// `Actor`, `->`, `Actor`).  Keywords and `_` are words too; callers tell them apart.
pub(crate) fn bare_word(i: &str) -> PResult<'_, &str> {
    match crate::model::bare_word_len(i) {
        0 => backtrack(i),
        n => Ok((&i[n..], &i[..n])),
    }
}

/// The word at the start of `i` (no whitespace skipped), if any.
pub(crate) fn peek_word(i: &str) -> Option<&str> {
    bare_word(i).ok().map(|(_, w)| w)
}

/// The name of the call at the start of `i`: a word followed (after whitespace) by `(`.
pub(crate) fn call_name(i: &str) -> Option<&str> {
    peek_word(i).filter(|w| ws(&i[w.len()..]).starts_with('('))
}

/// After whitespace, the keyword `k` as a whole word.  Recoverable when absent.
pub(crate) fn keyword<'a>(
    k: &'static str,
) -> impl Parser<&'a str, Output = &'a str, Error = PError> {
    preceded(blank, verify(bare_word, move |w: &str| w == k))
}

/// After whitespace, the exact symbol `s`.  Recoverable when absent.
pub(crate) fn symbol<'a>(
    s: &'static str,
) -> impl Parser<&'a str, Output = &'a str, Error = PError> {
    preceded(blank, tag(s))
}

/// Whether the next word (after whitespace) is the keyword `k`.
pub(crate) fn next_is_keyword(i: &str, k: &str) -> bool {
    peek_word(ws(i)) == Some(k)
}

/// `?name`: the name without `?`.
pub(crate) fn variable(i: &str) -> PResult<'_, &str> {
    let (r, _) = char('?').parse(i)?;
    match ident(r) {
        Ok(ok) => Ok(ok),
        Err(_) => PError::at(i, 1, "expected a variable name after '?'")
            .hint("variables are written ?name, e.g. ?who")
            .fail(),
    }
}

/// `$name`: the name without `$`.
pub(crate) fn parameter(i: &str) -> PResult<'_, &str> {
    let (r, _) = char('$').parse(i)?;
    match ident(r) {
        Ok(ok) => Ok(ok),
        Err(_) => PError::at(i, 1, "expected a parameter name after '$'")
            .hint("parameters are written $name, e.g. $backer")
            .fail(),
    }
}

/// `"…"` with `\" \\ \n \t \r \u{HEX}` escapes; raw line breaks are allowed inside.
pub(crate) fn string_literal(i: &str) -> PResult<'_, String> {
    let Some(body) = i.strip_prefix('"') else {
        return backtrack(i);
    };
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '"' => return Ok((&body[k + 1..], out)),
            '\\' => {
                let at = &body[k..];
                let Some((_, e)) = chars.next() else { break };
                match e {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'u' => {
                        let (len, ch) = unicode_escape(at)?;
                        out.push(ch);
                        // Skip the rest of the escape (`\u` already consumed).
                        for _ in 0..len.saturating_sub(2) {
                            chars.next();
                        }
                    }
                    other => {
                        return PError::at(at, 1 + other.len_utf8(), format!("unknown escape '\\{other}' in a string"))
                            .hint("the escapes are \\\" \\\\ \\n \\t \\r and \\u{HEX}; write \\\\ for a backslash")
                            .fail()
                    }
                }
            }
            c => out.push(c),
        }
    }
    PError::at(i, 1, "unterminated string")
        .hint("close it with '\"'")
        .incomplete()
        .fail()
}

/// `\u{HEX}` at `at` (which starts with the backslash): its length in chars (all ASCII) and
/// the character.
fn unicode_escape(at: &str) -> Result<(usize, char), nom::Err<PError>> {
    let bad = |len: usize| {
        PError::at(at, len, "invalid unicode escape in a string")
            .hint("write \\u{…} with 1 to 6 hex digits of a Unicode character, e.g. \\u{e9}")
    };
    let rest = &at[2..];
    let Some(inner) = rest.strip_prefix('{') else {
        return bad(2).fail();
    };
    let hex_len = inner
        .find(|c: char| !c.is_ascii_hexdigit())
        .unwrap_or(inner.len());
    let total = 2 + 1 + hex_len + 1;
    if !inner[hex_len..].starts_with('}') {
        return bad(2 + 1 + hex_len).fail();
    }
    if hex_len == 0 || hex_len > 6 {
        return bad(total).fail();
    }
    match u32::from_str_radix(&inner[..hex_len], 16)
        .ok()
        .and_then(char::from_u32)
    {
        Some(c) => Ok((total, c)),
        None => bad(total).fail(),
    }
}

/// `<…>`: any text, with `\` escaping the next character (`\>` and `\\` in practice; the
/// printer also escapes a first character that would make `<` read as an operator).
pub(crate) fn angle_name(i: &str) -> PResult<'_, String> {
    let Some(body) = i.strip_prefix('<') else {
        return backtrack(i);
    };
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((k, c)) = chars.next() {
        match c {
            '>' => {
                if out.is_empty() && k == 0 {
                    return PError::at(i, 2, "an entity name in '<…>' cannot be empty").fail();
                }
                return Ok((&body[k + 1..], out));
            }
            '\\' => match chars.next() {
                Some((_, e)) => out.push(e),
                None => break,
            },
            c => out.push(c),
        }
    }
    PError::at(i, 1, "unterminated '<…>' name")
        .hint("close it with '>'")
        .incomplete()
        .fail()
}

/// A numeric or date literal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum NumLit {
    Int(i64),
    Float(f64),
    Date(Date),
}

/// Integers `-?[0-9]+`, floats `-?[0-9]+\.[0-9]+([eE][+-]?[0-9]+)?`, dates `YYYY-MM`,
/// `YYYY-MM-DD` and `@` followed by any date (`@2020`).  A bare `2020` is an integer and
/// `2020.` is the integer 2020 then a statement end.
pub(crate) fn number_or_date(i: &str) -> PResult<'_, NumLit> {
    if let Some(r) = i.strip_prefix('@') {
        let Ok((_, year)) = digit1::<_, PError>(r) else {
            return PError::at(i, 1, "expected a date after '@'")
                .hint("a year is written @2020")
                .fail();
        };
        let (r, date) = date_parts(i, year, &r[year.len()..])?;
        return finish_number(i, r, NumLit::Date(date));
    }
    let (r, neg) = opt(char('-')).parse(i)?;
    let Ok((r, digits)) = digit1::<_, PError>(r) else {
        return if neg.is_some() {
            PError::at(i, 1, "expected a number after '-'").fail()
        } else {
            backtrack(i)
        };
    };
    let follows_digit = |s: &str, p: char| {
        s.strip_prefix(p)
            .is_some_and(|t| t.starts_with(|c: char| c.is_ascii_digit()))
    };
    if follows_digit(r, '.') {
        let (mut r, _) = preceded(char('.'), digit1).parse(r)?;
        if let Some(e) = r.strip_prefix(['e', 'E']) {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            match digit1::<_, PError>(e) {
                Ok((after, _)) => r = after,
                Err(_) => {
                    let len = i.len() - e.len();
                    return PError::at(i, len, "expected digits after the exponent mark 'e'")
                        .hint("write e.g. 1.5e10")
                        .fail();
                }
            }
        }
        let text = &i[..i.len() - r.len()];
        return match text.parse::<f64>() {
            Ok(x) if x.is_finite() => finish_number(i, r, NumLit::Float(x)),
            _ => PError::at(i, text.len(), format!("the number {text} is too large")).fail(),
        };
    }
    if follows_digit(r, '-') {
        if neg.is_some() {
            return PError::at(i, literal_len(i), "a date cannot be negative")
                .hint("years run from 0000 to 9999")
                .fail();
        }
        let (r, date) = date_parts(i, digits, r)?;
        return finish_number(i, r, NumLit::Date(date));
    }
    let text = &i[..i.len() - r.len()];
    match text.parse::<i64>() {
        Ok(n) => finish_number(i, r, NumLit::Int(n)),
        Err(_) => PError::at(i, text.len(), format!("the integer {text} is too large"))
            .hint(format!("integers run from {} to {}", i64::MIN, i64::MAX))
            .fail(),
    }
}

/// Refuse a number glued to letters (`18abc`, `2020-09-28T10`): it is neither a number nor
/// a name.
fn finish_number<'a>(start: &'a str, rest: &'a str, lit: NumLit) -> PResult<'a, NumLit> {
    if rest.starts_with(is_word_char) {
        let len = literal_len(start);
        let text = &start[..len];
        return PError::at(
            start,
            len,
            format!("'{text}' is neither a number nor a name"),
        )
        .hint(format!(
            "a name cannot start with a digit; write <{text}> for such a name"
        ))
        .fail();
    }
    Ok((rest, lit))
}

/// Length of the literal-looking run at `i` (digits, letters, `-`, `:`, `@`, `.` followed by
/// a digit), to underline a bad literal as a whole.
pub(crate) fn literal_len(i: &str) -> usize {
    let b = i.as_bytes();
    let mut n = 0;
    while n < b.len() {
        let c = b[n];
        let dot_digit = c == b'.' && b.get(n + 1).is_some_and(u8::is_ascii_digit);
        if c.is_ascii_alphanumeric()
            || c == b'_'
            || c == b'-'
            || c == b':'
            || c == b'@'
            || c == b'+'
            || dot_digit
        {
            n += 1;
        } else {
            break;
        }
    }
    n.max(1)
}

/// The rest of a date whose year digits are `year` and whose remaining text is `r` (at a
/// `-` or the end of the date).  `start` is where the literal began, for the error span.
fn date_parts<'a>(start: &'a str, year: &'a str, mut r: &'a str) -> PResult<'a, Date> {
    let mut parts = vec![year];
    while let Some(t) = r.strip_prefix('-') {
        match digit1::<_, PError>(t) {
            Ok((after, d)) if parts.len() < 3 => {
                parts.push(d);
                r = after;
            }
            Ok(_) => {
                let len = literal_len(start);
                return PError::at(start, len, format!("invalid date '{}'", &start[..len]))
                    .hint("a date is YYYY, YYYY-MM or YYYY-MM-DD")
                    .fail();
            }
            Err(_) => break,
        }
    }
    let len = start.len() - r.len();
    let text = &start[..len];
    let invalid = || format!("invalid date '{text}'");
    if year.len() != 4 {
        return PError::at(start, len, invalid())
            .hint("write years with four digits, from 0000 to 9999")
            .fail();
    }
    let nums: Vec<u32> = parts
        .iter()
        .map(|p| p.parse::<u32>().unwrap_or(u32::MAX))
        .collect();
    if parts.iter().skip(1).any(|p| p.len() != 2) {
        let at = if start.starts_with('@') { "@" } else { "" };
        let padded: Vec<String> = nums.iter().skip(1).map(|n| format!("{n:02}")).collect();
        return PError::at(start, len, invalid())
            .hint(format!(
                "write months and days with two digits: {at}{year}-{}",
                padded.join("-")
            ))
            .fail();
    }
    let y = nums.first().copied().unwrap_or(0) as i32;
    let date = match nums.as_slice() {
        [_] => Date::year(y),
        [_, m] => Date::month(y, *m),
        [_, m, d] => Date::day(y, *m, *d),
        _ => Err(DateError::YearOutOfRange(y as i64)),
    };
    match date {
        Ok(d) => Ok((r, d)),
        Err(e) => PError::at(start, len, format!("invalid date '{text}': {e}")).fail(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg<T: std::fmt::Debug>(r: PResult<'_, T>) -> String {
        match r {
            Err(nom::Err::Failure(e)) => e.message.unwrap_or_default(),
            other => format!("not a failure: {other:?}"),
        }
    }

    #[test]
    fn words() {
        assert_eq!(bare_word("backed_by: A").map(|r| r.1), Ok("backed_by"));
        assert_eq!(bare_word("Actor->Actor").map(|r| r.1), Ok("Actor"));
        assert_eq!(
            bare_word("acled:ev-1123.").map(|r| r.1),
            Ok("acled:ev-1123")
        );
        assert_eq!(bare_word("x--y z").map(|r| r.1), Ok("x--y"));
        assert!(bare_word("1x").is_err());
    }

    #[test]
    fn numbers_and_dates() {
        assert_eq!(number_or_date("2020."), Ok((".", NumLit::Int(2020))));
        assert_eq!(number_or_date("-5 "), Ok((" ", NumLit::Int(-5))));
        assert_eq!(number_or_date("0.75"), Ok(("", NumLit::Float(0.75))));
        assert_eq!(number_or_date("1.5e3."), Ok((".", NumLit::Float(1500.0))));
        assert_eq!(
            number_or_date("2020-09-28."),
            Ok((".", NumLit::Date(Date::day(2020, 9, 28).unwrap())))
        );
        assert_eq!(
            number_or_date("2019-04..2020"),
            Ok(("..2020", NumLit::Date(Date::month(2019, 4).unwrap())))
        );
        assert_eq!(
            number_or_date("@2020."),
            Ok((".", NumLit::Date(Date::year(2020).unwrap())))
        );
        assert_eq!(
            number_or_date("-9223372036854775808"),
            Ok(("", NumLit::Int(i64::MIN)))
        );
        assert!(msg(number_or_date("2020-9-28")).starts_with("invalid date"));
        assert!(msg(number_or_date("2020-02-30")).contains("day 30 does not exist"));
        assert!(msg(number_or_date("99999999999999999999")).contains("too large"));
        assert!(msg(number_or_date("18abc")).contains("neither a number nor a name"));
    }

    #[test]
    fn strings_and_angles() {
        assert_eq!(
            string_literal(r#""a\"b\u{e9}\n" x"#),
            Ok((" x", "a\"b\u{e9}\n".to_string()))
        );
        assert_eq!(msg(string_literal("\"abc")), "unterminated string");
        assert_eq!(
            msg(string_literal(r#""a\qb""#)),
            "unknown escape '\\q' in a string"
        );
        assert_eq!(
            msg(string_literal(r#""\u{110000}""#)),
            "invalid unicode escape in a string"
        );
        assert_eq!(angle_name(r"<a\>b\\c> x"), Ok((" x", r"a>b\c".to_string())));
        assert_eq!(msg(angle_name("<abc")), "unterminated '<…>' name");
    }
}
