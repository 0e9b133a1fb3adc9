//! Spans and diagnostics: how every layer points at the text a user wrote.
//!
//! A [`Diagnostic`] is what the parser and the checks produce: a byte span into the text
//! being run.  A [`Report`] is what leaves the library: the diagnostic resolved to a file,
//! line and column, carrying the offending line itself, so it can be printed long after
//! the text is gone (a 100 MB import file is never kept just to print one error).

use std::fmt;

/// A byte range `[start, end)` in the text a statement came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset just past the last byte; equal to `start` for a position (an empty span).
    pub end: usize,
}

impl Span {
    /// The span `[start, end)`; an `end` before `start` is raised to `start` (an empty span).
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start,
            end: end.max(start),
        }
    }

    /// An empty span at one position (for "expected ... here").
    pub fn at(pos: usize) -> Span {
        Span {
            start: pos,
            end: pos,
        }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Whether it covers no byte (a position, as [`Span::at`] makes).
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Shift by `offset` bytes (a statement parsed on its own, placed back in its script).
    pub fn shift(self, offset: usize) -> Span {
        Span {
            start: self.start + offset,
            end: self.end + offset,
        }
    }
}

/// Whether a diagnostic stops the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The statement is refused and changes nothing.
    Error,
    /// The statement still runs (an unknown predicate, an empty range); the warning comes with
    /// its result.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A problem found in a text, located by byte span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error (the statement did not run) or warning.
    pub severity: Severity,
    /// What is wrong, in words a user understands: `expected '.' to end the statement`.
    pub message: String,
    /// The bytes at fault, in the text being run; empty for a position ("expected … here").
    pub span: Span,
    /// A short note printed under the caret (optional).
    pub label: Option<String>,
    /// How to fix it, when known: `write the month with two digits: 2020-09-28`.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `span`, without label or hint.
    pub fn error(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            span,
            label: None,
            hint: None,
        }
    }

    /// A warning at `span`, without label or hint.
    pub fn warning(message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            message: message.into(),
            span,
            label: None,
            hint: None,
        }
    }

    /// The same diagnostic with a hint (how to fix it).
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }

    /// The same diagnostic with a label (printed after the caret).
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    /// Resolve against the text the span points into.
    pub fn report(&self, file: Option<&str>, text: &str) -> Report {
        Report::new(self, file, text)
    }
}

/// 1-based line and column (in characters) of byte offset `pos` in `text`.
pub fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let pos = floor_char_boundary(text, pos.min(text.len()));
    let before = &text[..pos];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..pos].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(text: &str, mut pos: usize) -> usize {
    while pos > 0 && !text.is_char_boundary(pos) {
        pos -= 1;
    }
    pos
}

/// `n` and the noun, singular for one: `1 row`, `3 rows`, `0 facts` (nouns whose plural
/// adds an `s`).
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The candidate closest to `word`, if it is close enough to be a typo of it (for a
/// "did you mean" hint).  Case is ignored, and swapping two neighbouring letters counts as
/// one edit (`lable` → `label`), the typo people make most; a longer word may be further
/// off (a third of its length, 1 to 3 edits).  Ties go to the first name in sort order;
/// `word` itself is never suggested.
pub fn suggest<'c>(word: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let d = strsim::osa_distance(&lower, &c.to_lowercase());
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// A diagnostic resolved to a place: file, line, column, and the line's text.
///
/// Its `Display` is the rustc-style rendering, caret under the fault:
///
/// ```
/// use dossier::{Diagnostic, Span};
///
/// let text = "find ?x where ?x a Person\n";
/// let report = Diagnostic::error("expected '.' to end the statement", Span::at(25))
///     .with_label("expected '.'")
///     .with_hint("every statement ends with '.'")
///     .report(Some("q.dq"), text);
/// assert_eq!(report.location(), "q.dq:1:26");
/// assert_eq!(
///     report.to_string(),
///     "\
/// error: expected '.' to end the statement
///  --> q.dq:1:26
///   |
/// 1 | find ?x where ?x a Person
///   |                          ^ expected '.'
///   = hint: every statement ends with '.'"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Error or warning, as the diagnostic had it.
    pub severity: Severity,
    /// What is wrong (the diagnostic's message).
    pub message: String,
    /// The script or data file, as the user named it; `None` for text that came from no file
    /// (a string passed to `Db::execute`).
    pub file: Option<String>,
    /// 1-based line number.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// The offending line, without its line break.
    pub line_text: String,
    /// How many characters to underline (at least 1).
    pub width: usize,
    /// A short note printed after the caret, if any.
    pub label: Option<String>,
    /// How to fix it, when known.
    pub hint: Option<String>,
}

impl Report {
    /// Resolve `d` against `text`, the text its span points into (a script, or one statement
    /// whose span was shifted into it); `file` is only named in the location.
    pub fn new(d: &Diagnostic, file: Option<&str>, text: &str) -> Report {
        let (line, column) = line_col(text, d.span.start);
        let start = floor_char_boundary(text, d.span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |i| line_start + i);
        let line_text = text[line_start..line_end]
            .trim_end_matches('\r')
            .to_string();
        let end = floor_char_boundary(text, d.span.end.clamp(start, line_end));
        let width = text[start..end].chars().count().max(1);
        Report {
            severity: d.severity,
            message: d.message.clone(),
            file: file.map(str::to_string),
            line,
            column,
            line_text,
            width,
            label: d.label.clone(),
            hint: d.hint.clone(),
        }
    }

    /// A report about a whole line of a data file (imports), with no statement text.
    pub fn at_line(
        file: Option<&str>,
        line: usize,
        column: usize,
        line_text: &str,
        message: impl Into<String>,
    ) -> Report {
        Report {
            severity: Severity::Error,
            message: message.into(),
            file: file.map(str::to_string),
            line,
            column: column.max(1),
            line_text: line_text.trim_end_matches(['\r', '\n']).to_string(),
            width: 1,
            label: None,
            hint: None,
        }
    }

    /// `FILE:LINE:COL` (or `LINE:COL` for text with no file), as editors want it.
    pub fn location(&self) -> String {
        match &self.file {
            Some(f) => format!("{f}:{}:{}", self.line, self.column),
            None => format!("{}:{}", self.line, self.column),
        }
    }
}

impl fmt::Display for Report {
    /// rustc-style: the message, the place, the line with a caret under the fault, a hint.
    ///
    /// ```text
    /// error: expected '.' to end the statement
    ///  --> q.dq:1:26
    ///   |
    /// 1 | find ?x where ?x a Person
    ///   |                          ^ expected '.'
    ///   = hint: ...
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        writeln!(f, "{}: {}", self.severity, self.message)?;
        writeln!(f, "{pad}--> {}", self.location())?;
        writeln!(f, "{pad} |")?;
        // Tabs would shift the caret: print them as single spaces on both lines.
        let shown: String = self
            .line_text
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .collect();
        writeln!(f, "{num} | {shown}")?;
        let caret_pad = " ".repeat(self.column - 1);
        write!(f, "{pad} | {caret_pad}{}", "^".repeat(self.width))?;
        if let Some(label) = &self.label {
            write!(f, " {label}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n{pad} = hint: {hint}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions() {
        let known = ["backed_by", "based_in", "label", "contains", "len"];
        assert_eq!(suggest("backd_by", known), Some("backed_by"));
        assert_eq!(suggest("lable", known), Some("label"));
        assert_eq!(suggest("LABEL", known), Some("label"));
        assert_eq!(suggest("contians", known), Some("contains"));
        assert_eq!(suggest("contain", known), Some("contains"));
        assert_eq!(suggest("label", known), None);
        assert_eq!(suggest("zzz", known), None);
        assert_eq!(suggest("xyzzy", known), None);
        // Equally close: the first in sort order, whatever the candidates' order.
        assert_eq!(suggest("bxd", ["bad", "bed"]), Some("bad"));
        assert_eq!(suggest("bxd", ["bed", "bad"]), Some("bad"));
    }

    #[test]
    fn line_and_column() {
        let t = "ab\ncdé f\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, 8), (2, 5)); // after the two-byte é
        assert_eq!(line_col(t, 100), (3, 1));
    }

    #[test]
    fn renders_caret_under_fault() {
        let text = "haftar a Person.\nfind ?x where ?x a Person\n";
        let d = Diagnostic::error("expected '.' to end the statement", Span::at(42))
            .with_label("expected '.'")
            .with_hint("every statement ends with '.'");
        let r = d.report(Some("q.dq"), text);
        assert_eq!((r.line, r.column), (2, 26));
        let shown = r.to_string();
        assert_eq!(
            shown,
            "error: expected '.' to end the statement\n --> q.dq:2:26\n  |\n2 | find ?x where ?x a Person\n  |                          ^ expected '.'\n  = hint: every statement ends with '.'"
        );
    }
}
