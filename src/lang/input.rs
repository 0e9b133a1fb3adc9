//! The parser's context, error type and the few helpers every grammar module shares.
//!
//! Parsers take `&str` input (always a suffix of the text given to the parser) and compute
//! byte offsets as `total length - remaining length`, so spans are offsets into the whole
//! text without any pointer arithmetic.  Errors remember the remaining length too, so they
//! convert to a [`Diagnostic`] once the total is known.

use super::lexical::is_word_char;
use crate::diag::{Diagnostic, Span};
use nom::error::{ErrorKind, ParseError};
use std::cell::Cell;

/// How deep `{ }` blocks, function calls and aggregates may nest.  Far beyond anything a
/// person writes, and low enough that a pathological input (10 000 `{`) fails with a clear
/// error instead of overflowing the stack.
pub(crate) const MAX_DEPTH: usize = 40;

/// The parse of one text: its length (to turn remaining input into offsets) and the current
/// nesting depth.
pub(crate) struct Cx {
    total: usize,
    depth: Cell<usize>,
}

impl Cx {
    pub(crate) fn new(text: &str) -> Cx {
        Cx {
            total: text.len(),
            depth: Cell::new(0),
        }
    }

    /// Byte offset of `rest` (a suffix of the parsed text).
    pub(crate) fn pos(&self, rest: &str) -> usize {
        self.total.saturating_sub(rest.len())
    }

    /// The span from the start of `from` to the start of `to` (both suffixes of the text).
    pub(crate) fn span(&self, from: &str, to: &str) -> Span {
        Span::new(self.pos(from), self.pos(to))
    }

    /// Enter one level of nesting; fails at [`MAX_DEPTH`].  The guard leaves it on drop, so
    /// early returns through `?` keep the count right.
    pub(crate) fn enter<'c>(&'c self, at: &str) -> Result<DepthGuard<'c>, nom::Err<PError>> {
        let d = self.depth.get() + 1;
        if d > MAX_DEPTH {
            return Err(nom::Err::Failure(
                PError::at(
                    at,
                    token_len(at),
                    format!("nesting is too deep (more than {MAX_DEPTH} levels)"),
                )
                .hint("split the query into simpler parts"),
            ));
        }
        self.depth.set(d);
        Ok(DepthGuard { cx: self })
    }

    /// The diagnostic for an error of this parse.
    pub(crate) fn diagnostic(&self, e: PError) -> Diagnostic {
        let start = self.pos_of_rest(e.rest);
        let mut d = Diagnostic::error(
            e.message
                .unwrap_or_else(|| "this is not valid here".to_string()),
            Span::new(start, start + e.len),
        );
        d.hint = e.hint;
        d
    }

    /// An error at a span found earlier.
    pub(crate) fn error_at(&self, span: Span, message: impl Into<String>) -> PError {
        PError {
            rest: self.total.saturating_sub(span.start),
            len: span.len(),
            message: Some(message.into()),
            hint: None,
            incomplete: false,
        }
    }

    fn pos_of_rest(&self, rest: usize) -> usize {
        self.total.saturating_sub(rest)
    }
}

pub(crate) struct DepthGuard<'c> {
    cx: &'c Cx,
}

impl Drop for DepthGuard<'_> {
    fn drop(&mut self) {
        self.cx.depth.set(self.cx.depth.get().saturating_sub(1));
    }
}

/// A syntax error: where (as remaining input length), how wide, what was expected, and
/// whether more input could fix it (the REPL keeps reading instead of reporting).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PError {
    pub rest: usize,
    pub len: usize,
    /// `None` for errors made by nom's own combinators; the grammar replaces them with a
    /// message before they reach the user.
    pub message: Option<String>,
    pub hint: Option<String>,
    /// The text ended where more was needed (an unterminated string, block or statement).
    pub incomplete: bool,
}

impl PError {
    pub(crate) fn at(at: &str, len: usize, message: impl Into<String>) -> PError {
        PError {
            rest: at.len(),
            len,
            message: Some(message.into()),
            hint: None,
            incomplete: false,
        }
    }

    pub(crate) fn hint(mut self, hint: impl Into<String>) -> PError {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn incomplete(mut self) -> PError {
        self.incomplete = true;
        self
    }

    pub(crate) fn fail<T>(self) -> Result<T, nom::Err<PError>> {
        Err(nom::Err::Failure(self))
    }
}

impl ParseError<&str> for PError {
    fn from_error_kind(input: &str, _: ErrorKind) -> PError {
        PError {
            rest: input.len(),
            len: 0,
            message: None,
            hint: None,
            incomplete: false,
        }
    }

    fn append(_: &str, _: ErrorKind, other: PError) -> PError {
        other
    }

    /// Of two alternatives that failed, keep the one that got further, preferring one
    /// with a message.
    fn or(self, other: PError) -> PError {
        if self.rest < other.rest
            || (self.rest == other.rest && self.message.is_some() && other.message.is_none())
        {
            self
        } else {
            other
        }
    }
}

pub(crate) type PResult<'a, T> = nom::IResult<&'a str, T, PError>;

/// A recoverable "nothing of that kind here" error (the caller may try something else).
pub(crate) fn backtrack<T>(at: &str) -> PResult<'_, T> {
    Err(nom::Err::Error(PError::from_error_kind(
        at,
        ErrorKind::Fail,
    )))
}

/// Whitespace and `#` comments, as a nom parser (never fails).  Any Unicode whitespace
/// counts (a non-breaking space pasted from a web page is no error), and so does a byte
/// order mark.
pub(crate) fn blank(i: &str) -> PResult<'_, ()> {
    use nom::branch::alt;
    use nom::bytes::complete::{is_not, tag, take_while1};
    use nom::combinator::{opt, value};
    use nom::multi::many0_count;
    use nom::sequence::pair;
    use nom::Parser;
    let comment = pair(tag("#"), opt(is_not("\n")));
    value(
        (),
        many0_count(alt((
            value(
                (),
                take_while1(|c: char| c.is_whitespace() || c == '\u{feff}'),
            ),
            value((), comment),
        ))),
    )
    .parse(i)
}

/// Skip whitespace and `#` comments.
pub(crate) fn ws(i: &str) -> &str {
    blank(i).map_or(i, |(r, ())| r)
}

/// The error "expected ..." at the next token after `i` (`i` is the text right after the
/// previous token).  At the end of the text the caret goes right after the previous token,
/// and the error is marked incomplete.
pub(crate) fn expected(i: &str, message: impl Into<String>) -> PError {
    let j = ws(i);
    if j.is_empty() {
        PError::at(i, 0, message).incomplete()
    } else {
        PError::at(j, token_len(j), message)
    }
}

/// A short description of the next token for messages: `'limit'`, `'.'`, `the end of the text`.
pub(crate) fn describe_next(i: &str) -> String {
    let j = ws(i);
    if j.is_empty() {
        "the end of the text".to_string()
    } else {
        format!("'{}'", &j[..token_len(j)])
    }
}

/// Length in bytes of the token starting at `j` (roughly: a word, a number, a two-char
/// operator or one character), used to underline it.
pub(crate) fn token_len(j: &str) -> usize {
    let mut chars = j.chars();
    let Some(c) = chars.next() else { return 0 };
    if is_word_char(c) || c == '?' || c == '$' || c == '@' {
        let body = j[c.len_utf8()..].find(|ch: char| !(is_word_char(ch) || ch == ':' || ch == '-'));
        let mut n = c.len_utf8() + body.unwrap_or(j.len() - c.len_utf8());
        // A word never ends in ':' or '-'.
        while n > 1 && j[..n].ends_with([':', '-']) {
            n -= 1;
        }
        return n;
    }
    for op in ["==", "=>", "=<", "<>", "!=", "<=", ">=", ":-", "->", ".."] {
        if j.starts_with(op) {
            return 2;
        }
    }
    c.len_utf8()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_comments() {
        assert_eq!(ws("  # c\n  # d\nx"), "x");
        assert_eq!(ws("# only"), "");
        assert_eq!(ws("\u{feff}\u{a0}\r\n x"), "x");
        assert_eq!(ws(""), "");
    }

    #[test]
    fn token_lengths() {
        assert_eq!(token_len("limit."), 5);
        assert_eq!(token_len("backed_by: A"), 9);
        assert_eq!(token_len("== 3"), 2);
        assert_eq!(token_len("é"), 2);
        assert_eq!(token_len(""), 0);
    }

    #[test]
    fn depth_limit() {
        let cx = Cx::new("x");
        let mut guards = Vec::new();
        for _ in 0..MAX_DEPTH {
            guards.push(cx.enter("x").ok());
        }
        assert!(cx.enter("x").is_err());
        guards.clear();
        assert!(cx.enter("x").is_ok());
    }
}
