//! A text as the lexer sees it, token by token, without parsing: what the shell colours
//! and where it finds the variables to complete.  Every token is the lexer's own rule
//! (words, `?variables`, strings, `<…>` names, numbers and dates), so the colours cannot
//! drift from the language.  Never fails: text the lexer refuses becomes
//! [`TokenKind::Other`], an unterminated string or name runs to the end.

use super::complete::skip_quoted;
use super::input::token_len;
use super::lexical::{
    is_word_start, literal_len, lt_is_operator, number_or_date, parameter, peek_word, variable,
    NumLit,
};
use crate::model::is_keyword;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A reserved word (`find`, `where`, `a`…): [`crate::model::KEYWORDS`].
    Keyword,
    /// A bare word that is not a keyword: a name, a function, `_`.
    Word,
    /// `?name`.
    Variable,
    /// `$name`.
    Parameter,
    /// `"…"` (unterminated: to the end of the text).
    String,
    /// `<…>` (unterminated: to the end of the text).
    Name,
    /// An integer or a float.
    Number,
    /// A date (`2020-09`, `@2020`).
    Date,
    /// `# …` to the end of the line.
    Comment,
    /// Anything else: operators, punctuation, text the lexer refuses.
    Other,
}

/// One token: its kind and byte range in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What it is.
    pub kind: TokenKind,
    /// Byte offset of its first character.
    pub start: usize,
    /// Byte offset just past it.
    pub end: usize,
}

/// The tokens of `text` in order; whitespace between them is not a token.
pub fn tokens(text: &str) -> Tokens<'_> {
    Tokens { text, at: 0 }
}

/// The iterator [`tokens`] returns.
pub struct Tokens<'a> {
    text: &'a str,
    at: usize,
}

impl Iterator for Tokens<'_> {
    type Item = Token;

    fn next(&mut self) -> Option<Token> {
        let text = self.text;
        let rest = text.get(self.at..)?;
        let skipped = rest.len() - rest.trim_start_matches(is_blank).len();
        let start = self.at + skipped;
        let rest = &text[start..];
        let c = rest.chars().next()?;
        let after = |r: &str| text.len() - r.len();
        let (kind, end) = match c {
            '#' => (
                TokenKind::Comment,
                rest.find('\n').map_or(text.len(), |n| start + n),
            ),
            '"' | '<' if c == '"' || !lt_is_operator(rest[1..].chars().next()) => {
                let close = if c == '"' { b'"' } else { b'>' };
                let kind = if c == '"' {
                    TokenKind::String
                } else {
                    TokenKind::Name
                };
                let end = skip_quoted(text.as_bytes(), start, close).map_or(text.len(), |k| k + 1);
                (kind, end)
            }
            '?' | '$' => {
                let lexed = if c == '?' {
                    variable(rest)
                } else {
                    parameter(rest)
                };
                match lexed {
                    Ok((r, _)) if c == '?' => (TokenKind::Variable, after(r)),
                    Ok((r, _)) => (TokenKind::Parameter, after(r)),
                    Err(_) => (TokenKind::Other, start + 1),
                }
            }
            c if c.is_ascii_digit()
                || c == '@'
                || (c == '-' && rest[1..].starts_with(|d: char| d.is_ascii_digit())) =>
            {
                match number_or_date(rest) {
                    Ok((r, NumLit::Date(_))) => (TokenKind::Date, after(r)),
                    Ok((r, _)) => (TokenKind::Number, after(r)),
                    Err(_) => (TokenKind::Other, start + literal_len(rest)),
                }
            }
            c if is_word_start(c) => match peek_word(rest) {
                Some(w) if is_keyword(w) => (TokenKind::Keyword, start + w.len()),
                Some(w) => (TokenKind::Word, start + w.len()),
                None => (TokenKind::Other, start + c.len_utf8()),
            },
            _ => (TokenKind::Other, start + token_len(rest).max(c.len_utf8())),
        };
        // Never stop short of a character boundary, never stand still.
        let mut end = end.clamp(start + c.len_utf8(), text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        self.at = end;
        Some(Token { kind, start, end })
    }
}

/// Whitespace as the lexer skips it (any Unicode space, and a byte order mark).
fn is_blank(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}'
}

#[cfg(test)]
mod tests {
    use super::*;
    use TokenKind::*;

    fn kinds(text: &str) -> Vec<(TokenKind, &str)> {
        tokens(text)
            .map(|t| (t.kind, &text[t.start..t.end]))
            .collect()
    }

    #[test]
    fn tokens_of_a_query() {
        assert_eq!(
            kinds("find ?m where ?m date ?d, ?d in 2019-04..2020-06 # c\n limit $n."),
            [
                (Keyword, "find"),
                (Variable, "?m"),
                (Keyword, "where"),
                (Variable, "?m"),
                (Word, "date"),
                (Variable, "?d"),
                (Other, ","),
                (Variable, "?d"),
                (Keyword, "in"),
                (Date, "2019-04"),
                (Other, ".."),
                (Date, "2020-06"),
                (Comment, "# c"),
                (Keyword, "limit"),
                (Parameter, "$n"),
                (Other, "."),
            ]
        );
        assert_eq!(
            kinds("x p <a b>, \"s \\\" t\", @2020, 2020., 1.5, -3, ?a <= 3."),
            [
                (Word, "x"),
                (Word, "p"),
                (Name, "<a b>"),
                (Other, ","),
                (String, "\"s \\\" t\""),
                (Other, ","),
                (Date, "@2020"),
                (Other, ","),
                (Number, "2020"),
                (Other, "."),
                (Other, ","),
                (Number, "1.5"),
                (Other, ","),
                (Number, "-3"),
                (Other, ","),
                (Variable, "?a"),
                (Other, "<="),
                (Number, "3"),
                (Other, "."),
            ]
        );
    }

    #[test]
    fn bad_and_unfinished_text() {
        assert_eq!(kinds("\"open \\"), [(String, "\"open \\")]);
        assert_eq!(kinds("<open name"), [(Name, "<open name")]);
        assert_eq!(
            kinds("2020-09-28T10 x"),
            [(Other, "2020-09-28T10"), (Word, "x")]
        );
        assert_eq!(kinds("?é"), [(Other, "?"), (Other, "é")]);
        // Any text: tokens are in order, inside the text, on character boundaries.
        for text in ["résumé ?é $ @ - <", "\u{feff}a\u{a0}b", "\"\\é", "<\\"] {
            let mut at = 0;
            for t in tokens(text) {
                assert!(
                    t.start >= at && t.end > t.start && t.end <= text.len(),
                    "{text}"
                );
                assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
                at = t.end;
            }
        }
    }
}
