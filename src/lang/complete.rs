//! Reading statements one at a time: the lazy [`Statements`] iterator that resynchronises
//! after an error (`--keep-going`), and [`completeness`] for the REPL's multi-line input.

use super::ast::Statement;
use super::input::{ws, Cx};
use super::lexical::{lt_is_operator, peek_word};
use super::parser::statement;
use super::to_diagnostic;
use crate::diag::Diagnostic;

/// Whether a text typed so far is ready to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// Every statement is complete (also for empty or comment-only text): run it.
    Complete,
    /// The text stops inside a statement, string, `<…>` name or `{ }` block: read more.
    Incomplete,
    /// There is an error that more text cannot fix: run it to show the error.
    Invalid,
}

/// Whether `text` is complete, incomplete (the REPL reads another line) or invalid.
pub fn completeness(text: &str) -> Completeness {
    let cx = Cx::new(text);
    let mut r = text;
    loop {
        if ws(r).is_empty() {
            return Completeness::Complete;
        }
        match statement(&cx, r) {
            Ok((rest, _)) => r = rest,
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) if e.incomplete => {
                return Completeness::Incomplete
            }
            Err(nom::Err::Incomplete(_)) => return Completeness::Incomplete,
            Err(_) => return Completeness::Invalid,
        }
    }
}

/// Finds, without parsing, the lines after which a statement may end, in text that arrives
/// piece by piece (a script read from a pipe): after a `.` or a from-block's closing `}`,
/// outside strings, `<…>` names, comments and `{ }`.  A reader asks [`completeness`] only
/// after such a piece, so reading a long statement stays linear in its length.
///
/// ```
/// use dossier::lang::StatementEnds;
/// let mut ends = StatementEnds::default();
/// assert!(!ends.feed("from s {\n"));
/// assert!(!ends.feed("  x p \"a. b\".\n")); // inside the block
/// assert!(ends.feed("}  # done\n"));
/// assert!(ends.feed("x p 1. "));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StatementEnds {
    /// `{ }` nesting outside strings and names.
    depth: usize,
    /// Inside a string (`"`) or a `<…>` name (`>`): the byte that closes it.
    closer: Option<char>,
    /// The previous character was a backslash inside a string or name.
    escaped: bool,
    /// Inside a `#` comment (until the end of the line).
    comment: bool,
    /// The last character outside whitespace, comments, strings and names.
    last: char,
}

impl StatementEnds {
    /// Take the next piece of the text; `true` when the text so far may end with a
    /// complete statement (confirm with [`completeness`]).
    pub fn feed(&mut self, piece: &str) -> bool {
        let mut chars = piece.chars().peekable();
        while let Some(c) = chars.next() {
            if self.comment {
                self.comment = c != '\n';
                continue;
            }
            if let Some(close) = self.closer {
                if self.escaped {
                    self.escaped = false;
                } else if c == '\\' {
                    self.escaped = true;
                } else if c == close {
                    self.closer = None;
                    self.last = close;
                }
                continue;
            }
            match c {
                '#' => self.comment = true,
                '"' => self.closer = Some('"'),
                '<' if !lt_is_operator(chars.peek().copied()) => self.closer = Some('>'),
                '{' => self.depth += 1,
                '}' => self.depth = self.depth.saturating_sub(1),
                c if c.is_whitespace() => continue,
                _ => {}
            }
            if !self.comment && self.closer.is_none() {
                self.last = c;
            }
        }
        self.closer.is_none() && self.depth == 0 && matches!(self.last, '.' | '}')
    }
}

/// The statements of a text, parsed lazily one at a time.  After an error the iterator
/// resumes at the next statement end, so a runner can report every error of a script
/// (`--keep-going`) instead of stopping at the first.
pub struct Statements<'a> {
    text: &'a str,
    pos: usize,
}

/// Iterate over the statements of `text`; see [`Statements`].
pub fn statements(text: &str) -> Statements<'_> {
    Statements { text, pos: 0 }
}

impl Iterator for Statements<'_> {
    type Item = Result<Statement, Diagnostic>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.text.get(self.pos..)?;
        let j = ws(rest);
        if j.is_empty() {
            self.pos = self.text.len();
            return None;
        }
        let start = self.text.len() - j.len();
        let cx = Cx::new(self.text);
        match statement(&cx, j) {
            Ok((r, s)) => {
                self.pos = self.text.len() - r.len();
                Some(Ok(s))
            }
            Err(e) => {
                let d = to_diagnostic(&cx, e, self.text.len());
                let next = resync(self.text, start);
                // Always move forward, by at least one character.
                let min = start + j.chars().next().map_or(1, char::len_utf8);
                self.pos = next.max(min);
                Some(Err(d))
            }
        }
    }
}

impl std::iter::FusedIterator for Statements<'_> {}

/// Where the statement starting at `start` ends, found without parsing it: after a `.`
/// outside strings, `<…>` names and `{ }` that is followed by whitespace, a comment or the
/// end; for a `from SRC { … }` block, after its closing `}`.  If braces never balance, the
/// first such `.` at any depth.
pub(crate) fn resync(text: &str, start: usize) -> usize {
    let is_from = text.get(start..).and_then(peek_word) == Some("from");
    scan(text, start, true, is_from)
        .or_else(|| scan(text, start, false, false))
        .unwrap_or(text.len())
}

fn scan(text: &str, start: usize, braces: bool, is_from: bool) -> Option<usize> {
    let b = text.as_bytes();
    let mut depth = 0usize;
    let mut k = start;
    while k < b.len() {
        match b[k] {
            b'#' => {
                k = text[k..].find('\n').map_or(b.len(), |n| k + n);
                continue;
            }
            b'"' => {
                k = skip_quoted(b, k, b'"')?;
            }
            b'<' if !lt_is_operator(text[k + 1..].chars().next()) => {
                // An unterminated `<` is treated as the operator.
                if let Some(end) = skip_quoted(b, k, b'>') {
                    k = end;
                }
            }
            b'{' if braces => depth += 1,
            b'}' if braces && depth > 0 => {
                depth -= 1;
                if depth == 0 && is_from {
                    return Some(k + 1);
                }
            }
            b'.' if depth == 0 => {
                let next = b.get(k + 1);
                if next.is_none_or(|&c| c.is_ascii_whitespace() || c == b'#') {
                    return Some(k + 1);
                }
            }
            _ => {}
        }
        k += 1;
    }
    None
}

/// The index of the closing `close` of the quoted text opening at `open`, skipping
/// backslash escapes.
pub(super) fn skip_quoted(b: &[u8], open: usize, close: u8) -> Option<usize> {
    let mut k = open + 1;
    while k < b.len() {
        match b[k] {
            b'\\' => k += 2,
            c if c == close => return Some(k),
            _ => k += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completeness_of_repl_input() {
        assert_eq!(completeness(""), Completeness::Complete);
        assert_eq!(completeness("  # just a comment\n"), Completeness::Complete);
        assert_eq!(completeness("haftar a Person."), Completeness::Complete);
        assert_eq!(
            completeness("find ?x where ?x a Person"),
            Completeness::Incomplete
        );
        assert_eq!(
            completeness("find ?x\n where ?x label \"Khalifa"),
            Completeness::Incomplete
        );
        assert_eq!(completeness("x label <http://a"), Completeness::Incomplete);
        assert_eq!(completeness("from s {\n x b c."), Completeness::Incomplete);
        assert_eq!(
            completeness("find ?x where not { ?x a B"),
            Completeness::Incomplete
        );
        assert_eq!(
            completeness("find ?x where ?x == 3."),
            Completeness::Invalid
        );
        assert_eq!(
            completeness("haftar backed_by limit."),
            Completeness::Invalid
        );
        assert_eq!(completeness("x b c. find"), Completeness::Incomplete);
    }

    #[test]
    fn resynchronises_after_errors() {
        let text = "x b c.\nfind ?x wher ?x a B.\nx y \"a. b\".\nfrom s { p q == }\nfrom s { p q r. }\nz z z.";
        let results: Vec<bool> = statements(text).map(|r| r.is_ok()).collect();
        assert_eq!(results, vec![true, false, true, false, true, true]);
    }

    #[test]
    fn queries_alone() {
        use crate::lang::parse_find;
        assert!(parse_find("find ?x where ?x a B").is_ok());
        assert!(parse_find(" find ?x where ?x a B. # c").is_ok());
        assert_eq!(
            parse_find("x a B.").map_err(|d| d.message),
            Err("expected a query ('find …')".to_string())
        );
        assert_eq!(
            parse_find("find ?x where ?x a B. x").map_err(|d| d.message),
            Err("expected the end of the query".to_string())
        );
    }

    #[test]
    fn statement_ends_in_pieces() {
        let mut e = StatementEnds::default();
        for (piece, end) in [
            ("x p \"a.\n", false),
            ("b\\\" c\".\n", true),
            ("find ?x where ?x < 5, ?x p <a.b\n", false),
            ("c>.\n", true),
            ("find ?d where ?d in 2019-04..\n", true), // completeness says no
            ("2020-06. # note.\n", true),
            ("from s { a p b.\n", false),
            ("}\n", true),
        ] {
            assert_eq!(e.feed(piece), end, "{piece}");
        }
    }

    #[test]
    fn iterator_always_progresses() {
        for text in [
            "{{{{", "\"", "<<<", "...", "find", "}}}", "é", "from s {", "a b c",
        ] {
            assert!(statements(text).count() <= text.len());
        }
    }
}
