//! Syntax colours for the line being edited: keywords, variables, parameters, strings,
//! dates, comments.  A single pass over the characters of one line, with no parsing, so it
//! can run on every keystroke; the text is unchanged apart from the colour codes (rustyline
//! requires the same display width).

use dossier::model::KEYWORDS;

const KEYWORD: &str = "\x1b[1;34m";
const VARIABLE: &str = "\x1b[36m";
const PARAMETER: &str = "\x1b[35m";
const STRING: &str = "\x1b[32m";
const DATE: &str = "\x1b[33m";
const COMMENT: &str = "\x1b[2m";
const COMMAND: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '-'
}

/// Whether a token that starts with a digit or `@` is a date or date range.
fn is_date(tok: &str) -> bool {
    let t = tok.trim_start_matches('@');
    if tok.starts_with('@') {
        return t.len() >= 4
            && t.chars()
                .all(|c| c.is_ascii_digit() || c == '-' || c == '.');
    }
    let b = t.as_bytes();
    b.len() >= 7
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5].is_ascii_digit()
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c == '.' || c == '@')
}

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
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let at = |i: usize| chars.get(i).map_or(line.len(), |&(b, _)| b);
    let mut i = 0;
    while i < chars.len() {
        let (start, c) = chars[i];
        let mut j = i + 1;
        match c {
            '#' => {
                paint(&mut out, COMMENT, &line[start..]);
                return out;
            }
            '"' => {
                while j < chars.len() {
                    match chars[j].1 {
                        '\\' => j += 2,
                        '"' => {
                            j += 1;
                            break;
                        }
                        _ => j += 1,
                    }
                }
                let j = j.min(chars.len());
                paint(&mut out, STRING, &line[start..at(j)]);
                i = j;
                continue;
            }
            '<' if chars.get(j).is_some_and(|&(_, n)| n != ' ' && n != '=') => {
                // A name in angle brackets: left as it is, but skipped whole so that its
                // words are not taken for keywords.
                while j < chars.len() && chars[j].1 != '>' {
                    j += if chars[j].1 == '\\' { 2 } else { 1 };
                }
                let j = (j + 1).min(chars.len());
                out.push_str(&line[start..at(j)]);
                i = j;
                continue;
            }
            '?' | '$' => {
                while j < chars.len() && is_word(chars[j].1) {
                    j += 1;
                }
                let colour = if c == '?' { VARIABLE } else { PARAMETER };
                paint(&mut out, colour, &line[start..at(j)]);
                i = j;
                continue;
            }
            c if c.is_ascii_digit() || c == '@' => {
                while j < chars.len() && (chars[j].1.is_ascii_digit() || "-.@".contains(chars[j].1))
                {
                    j += 1;
                }
                // A statement's final '.' is not part of the date.
                while j > i + 1 && chars[j - 1].1 == '.' {
                    j -= 1;
                }
                let tok = &line[start..at(j)];
                if is_date(tok) {
                    paint(&mut out, DATE, tok);
                } else {
                    out.push_str(tok);
                }
                i = j;
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                while j < chars.len() && is_word(chars[j].1) {
                    j += 1;
                }
                let word = &line[start..at(j)];
                if KEYWORDS.contains(&word) {
                    paint(&mut out, KEYWORD, word);
                } else {
                    out.push_str(word);
                }
                i = j;
                continue;
            }
            _ => out.push(c),
        }
        i = j;
    }
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
    }
}
