//! Syntax colours for the line being edited: keywords, variables, parameters, strings,
//! dates, comments.  The language's own lexer ([`dossier::lang::tokens`]) splits the line,
//! with no parsing, so it can run on every keystroke; the text is unchanged apart from the
//! colour codes (rustyline requires the same display width).

use dossier::lang::{tokens, TokenKind};

const KEYWORD: &str = "\x1b[1;34m";
const VARIABLE: &str = "\x1b[36m";
const PARAMETER: &str = "\x1b[35m";
const STRING: &str = "\x1b[32m";
const DATE: &str = "\x1b[33m";
const COMMENT: &str = "\x1b[2m";
const COMMAND: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn paint(out: &mut String, colour: &str, text: &str) {
    out.push_str(colour);
    out.push_str(text);
    out.push_str(RESET);
}

/// The line with colour codes.
pub fn highlight(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 32);
    if line.trim_start().starts_with('.') {
        // A dot-command: the command word in bold.
        let indent = line.len() - line.trim_start().len();
        let end = line[indent..]
            .find(char::is_whitespace)
            .map_or(line.len(), |i| indent + i);
        out.push_str(&line[..indent]);
        paint(&mut out, COMMAND, &line[indent..end]);
        out.push_str(&line[end..]);
        return out;
    }
    let mut at = 0;
    for t in tokens(line) {
        out.push_str(&line[at..t.start]);
        let text = &line[t.start..t.end];
        let colour = match t.kind {
            TokenKind::Keyword => Some(KEYWORD),
            TokenKind::Variable => Some(VARIABLE),
            TokenKind::Parameter => Some(PARAMETER),
            TokenKind::String => Some(STRING),
            TokenKind::Date => Some(DATE),
            TokenKind::Comment => Some(COMMENT),
            TokenKind::Word | TokenKind::Name | TokenKind::Number | TokenKind::Other => None,
        };
        match colour {
            Some(c) => paint(&mut out, c, text),
            None => out.push_str(text),
        }
        at = t.end;
    }
    out.push_str(&line[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut esc = false;
        for c in s.chars() {
            if c == '\x1b' {
                esc = true;
            } else if esc {
                if c == 'm' {
                    esc = false;
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn text_is_unchanged() {
        for line in [
            "find ?m ?d where ?m a Meeting; date ?d, ?d in 2020-09 order by ?d desc.",
            "haftar label \"Khalifa \\\"H\\\" Haftar\"; <5+5 a find> x. # done",
            "find ?x where ?x date ?d, ?d in 2019-04..2020-06, ?n < 5, ?m <= 3.",
            "\"unterminated \\",
            ".timer on",
            "résumé ?é $p @2020.",
        ] {
            assert_eq!(strip(&highlight(line)), line);
        }
    }

    #[test]
    fn colours_what_it_should() {
        let h = highlight("find ?x where ?x date 2020-09-28; label \"a\" # c");
        assert!(h.contains(&format!("{KEYWORD}find{RESET}")));
        assert!(h.contains(&format!("{VARIABLE}?x{RESET}")));
        assert!(h.contains(&format!("{DATE}2020-09-28{RESET}")));
        assert!(h.contains(&format!("{STRING}\"a\"{RESET}")));
        assert!(h.contains(&format!("{COMMENT}# c{RESET}")));
        assert!(!highlight("x p 42.").contains(DATE));
        assert!(highlight("x p @2020.").contains(&format!("{DATE}@2020{RESET}")));
        // Keywords inside <...> names stay plain.
        assert!(!highlight("<find me> a B.").contains(&format!("{KEYWORD}find")));
        // A date range: both dates, not the `..` between them.
        assert!(highlight("?d in 2019-04..2020-06.")
            .contains(&format!("{DATE}2019-04{RESET}..{DATE}2020-06{RESET}")));
    }
}
