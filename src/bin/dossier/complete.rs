//! The shell's line editor helper: Tab completion, usage hints, colours and multi-line
//! validation.
//!
//! Completion candidates, by what is being typed:
//! * `.co` at the start of a statement: dot-commands; after `.help`, `.format`, `.timer`:
//!   their arguments; after `.load`: file names;
//! * `?v`: variables already written in the statement (its earlier lines too);
//! * `$p`: the parameters given with `--param`;
//! * anything else: keywords, functions, predicates and types of the database, and entity
//!   names by prefix (an index scan capped at 50 names, so it stays fast on millions of
//!   facts).  Names that are not bare are completed in `<…>`.

use crate::help;
use crate::highlight::highlight;
use dossier::lang::ast::{AggFunc, Func};
use dossier::lang::{tokens, TokenKind};
use dossier::model::{write_entity, KEYWORDS};
use dossier::Db;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hint, Hinter};
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};
use std::borrow::Cow;
use std::cell::RefCell;

/// Dot-commands with their argument syntax (shown as a hint while typing).
pub const COMMANDS: &[(&str, &str)] = &[
    (".help", " [TOPIC]"),
    (".quit", ""),
    (".format", " table|line|json|jsonl|csv|tsv"),
    (".timer", " on|off"),
    (".set", " [timeout|max-memory|max-rows|max-statement VALUE]"),
    (".schema", " [PATTERN]"),
    (".rules", ""),
    (".sources", ""),
    (".stats", " [all]"),
    (".check", ""),
    (".load", " [--dry] FILE"),
    (".backup", " DIR"),
    #[cfg(feature = "viz")]
    (".graph", " ENTITY... [--depth N] [-o FILE]"),
    #[cfg(feature = "viz")]
    (
        ".timeline",
        " ['find ?e ?d …'] [--from DATE] [--to DATE] [-o FILE]",
    ),
];

/// How many entity names one Tab asks the database for.
const ENTITY_LIMIT: usize = 50;

pub struct DqHelper {
    db: Db,
    /// The earlier lines of a statement being continued on a `...>` line.
    pub pending: RefCell<String>,
    /// Predicate and type names, loaded on first use and dropped after every write.
    names: RefCell<Option<Vec<String>>>,
    params: Vec<String>,
    files: FilenameCompleter,
}

impl DqHelper {
    pub fn new(db: Db, params: Vec<String>) -> DqHelper {
        DqHelper {
            db,
            pending: RefCell::new(String::new()),
            names: RefCell::new(None),
            params,
            files: FilenameCompleter::new(),
        }
    }

    /// Forget the cached predicate and type names (after a statement that may add some).
    pub fn refresh(&self) {
        self.names.replace(None);
    }

    fn schema_names(&self) -> Vec<String> {
        if let Some(n) = self.names.borrow().as_ref() {
            return n.clone();
        }
        let mut names = self.db.predicate_names().unwrap_or_default();
        names.extend(self.db.type_names().unwrap_or_default());
        names.sort();
        names.dedup();
        self.names.replace(Some(names.clone()));
        names
    }

    /// Candidates for the word `word` (which may start with `?`, `$`, `<`).
    fn candidates(&self, word: &str, line: &str) -> Vec<Pair> {
        let pair = |display: String, replacement: String| Pair {
            display,
            replacement,
        };
        let mut out: Vec<Pair> = Vec::new();
        if let Some(prefix) = word.strip_prefix('?') {
            let text = format!("{}\n{line}", self.pending.borrow());
            let mut vars = variables(&text);
            vars.retain(|v| v.starts_with(prefix) && v != prefix);
            return vars
                .into_iter()
                .map(|v| pair(format!("?{v}"), format!("?{v}")))
                .collect();
        }
        if let Some(prefix) = word.strip_prefix('$') {
            return self
                .params
                .iter()
                .filter(|p| p.starts_with(prefix))
                .map(|p| pair(format!("${p}"), format!("${p}")))
                .collect();
        }
        let (prefix, angled) = match word.strip_prefix('<') {
            Some(p) => (p, true),
            None => (word, false),
        };
        let as_name = |n: &str| {
            let mut s = String::new();
            let _ = write_entity(&mut s, n);
            s
        };
        if !angled {
            let functions = Func::ALL.iter().map(|f| f.name());
            let aggregates = AggFunc::ALL.iter().map(|a| a.name());
            for k in KEYWORDS.iter().copied().chain(functions).chain(aggregates) {
                if k.starts_with(prefix) && !prefix.is_empty() {
                    out.push(pair(k.to_string(), k.to_string()));
                }
            }
        }
        for n in self.schema_names() {
            if n.starts_with(prefix) {
                out.push(pair(n.clone(), as_name(&n)));
            }
        }
        if !prefix.is_empty() {
            for n in self
                .db
                .entity_names(prefix, ENTITY_LIMIT)
                .unwrap_or_default()
            {
                out.push(pair(n.clone(), as_name(&n)));
            }
        }
        out.sort_by(|a, b| a.display.cmp(&b.display));
        out.dedup_by(|a, b| a.display == b.display);
        out
    }
}

/// The variable names (without `?`) written in `text`, in order of first appearance.
pub fn variables(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tokens(text).filter(|t| t.kind == TokenKind::Variable) {
        let name = &text[t.start + 1..t.end];
        if !out.iter().any(|v| v == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// Where the word being completed starts (a byte offset into `line`).
fn word_start(line: &str, pos: usize) -> usize {
    let before = &line[..pos];
    // Inside an unclosed `<…>` name (which may contain spaces)?
    if let Some(lt) = before.rfind('<') {
        let inside = &before[lt + 1..];
        let opens_name = before[..lt]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || ",;({".contains(c));
        if !inside.contains('>') && opens_name && !inside.starts_with([' ', '=']) {
            return lt;
        }
    }
    let mut start = pos;
    for (i, c) in before.char_indices().rev() {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' || c == '-' {
            start = i;
        } else if c == '?' || c == '$' {
            start = i;
            break;
        } else {
            break;
        }
    }
    start
}

impl Completer for DqHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let statement_start = self.pending.borrow().trim().is_empty();
        let trimmed = line.trim_start();
        if statement_start && trimmed.starts_with('.') {
            let indent = line.len() - trimmed.len();
            if pos < indent {
                return Ok((pos, Vec::new()));
            }
            let cmd_end = line[indent..]
                .find(char::is_whitespace)
                .map_or(line.len(), |i| indent + i);
            if pos <= cmd_end {
                let typed = &line[indent..pos];
                let c = COMMANDS
                    .iter()
                    .filter(|(c, _)| c.starts_with(typed))
                    .map(|(c, _)| Pair {
                        display: c.to_string(),
                        replacement: c.to_string(),
                    })
                    .collect();
                return Ok((indent, c));
            }
            let cmd = &line[indent..cmd_end];
            let arg_start = line[..pos]
                .rfind(char::is_whitespace)
                .map_or(cmd_end, |i| i + 1);
            let typed = &line[arg_start..pos];
            let words: Vec<&str> = match cmd {
                ".help" => help::TOPICS.iter().map(|(t, _)| *t).collect(),
                ".format" => crate::output::OutputFormat::ALL.to_vec(),
                ".timer" => vec!["on", "off"],
                ".set" if !line[cmd_end..arg_start].trim().is_empty() => vec!["off"],
                ".set" => vec!["timeout", "max-memory", "max-rows", "max-statement"],
                ".stats" => vec!["all"],
                ".load" | ".backup" => return self.files.complete(line, pos, ctx),
                _ => Vec::new(),
            };
            let c = words
                .into_iter()
                .filter(|w| w.starts_with(typed))
                .map(|w| Pair {
                    display: w.to_string(),
                    replacement: w.to_string(),
                })
                .collect();
            return Ok((arg_start, c));
        }
        let start = word_start(line, pos);
        Ok((start, self.candidates(&line[start..pos], line)))
    }
}

/// A hint that is shown but never inserted (the arguments a dot-command takes).
pub struct Usage(String);

impl Hint for Usage {
    fn display(&self) -> &str {
        &self.0
    }
    fn completion(&self) -> Option<&str> {
        None
    }
}

impl Hinter for DqHelper {
    type Hint = Usage;

    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<Usage> {
        if pos != line.len() || !self.pending.borrow().trim().is_empty() {
            return None;
        }
        let cmd = line.trim();
        COMMANDS
            .iter()
            .find(|(c, args)| *c == cmd && !args.is_empty())
            .map(|(_, args)| Usage(args.to_string()))
    }
}

impl Highlighter for DqHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        Cow::Owned(highlight(line))
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }

    fn highlight_char(&self, line: &str, _pos: usize, kind: CmdKind) -> bool {
        // Re-colour on edits (the colours depend only on the text, not the cursor).
        !line.is_empty() && kind != CmdKind::MoveCursor
    }
}

impl Validator for DqHelper {
    /// Statements typed line by line continue on a `...>` prompt (the shell's loop asks
    /// [`dossier::lang::completeness`]); this only keeps a multi-line text recalled from
    /// the history or pasted in one piece open for editing until it is complete.
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        let input = ctx.input();
        if input.contains('\n')
            && !input.trim_start().starts_with('.')
            && dossier::lang::completeness(input) == dossier::lang::Completeness::Incomplete
        {
            return Ok(ValidationResult::Incomplete);
        }
        Ok(ValidationResult::Valid(None))
    }
}

impl Helper for DqHelper {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_names() {
        assert_eq!(word_start("find ?x where ?x back", 21), 17);
        assert_eq!(word_start("find ?x where ?x", 16), 14);
        assert_eq!(word_start("x p <5+5 mil", 12), 4);
        assert_eq!(word_start("find ?a where ?a < ?b", 21), 19);
        assert_eq!(word_start("", 0), 0);
    }

    /// Tab anywhere in any line returns candidates or none, never panics.
    #[test]
    fn completion_never_panics() {
        let db = Db::memory().unwrap();
        let h = DqHelper::new(db, Vec::new());
        let history = rustyline::history::DefaultHistory::new();
        let ctx = Context::new(&history);
        for line in [
            "  .help qu",
            ".load ",
            "x p <a b",
            "find ?é where ?é <ü",
            "é",
            "",
        ] {
            for (pos, _) in line.char_indices().chain([(line.len(), ' ')]) {
                let _ = h.complete(line, pos, &ctx);
                let _ = h.hint(line, pos, &ctx);
            }
        }
    }

    #[test]
    fn variables_in_order() {
        assert_eq!(
            variables("find ?who ?d where ?who date ?d, contains(?l, \"?no\")"),
            ["who", "d", "l"]
        );
    }

    #[test]
    fn completes_from_the_database() {
        let db = Db::memory().unwrap();
        db.execute("lna backed_by egypt. <5+5 military commission> a Delegation. type Person.")
            .unwrap();
        let h = DqHelper::new(db, vec!["backer".into()]);
        let names = |w: &str| -> Vec<String> {
            h.candidates(w, w)
                .into_iter()
                .map(|p| p.replacement)
                .collect()
        };
        assert_eq!(names("back"), ["backed_by"]);
        assert_eq!(names("egy"), ["egypt"]);
        assert_eq!(names("Pers"), ["Person"]);
        assert_eq!(names("<5+5"), ["<5+5 military commission>"]);
        assert_eq!(names("$b"), ["$backer"]);
        assert!(names("fi").contains(&"find".to_string()));
        h.pending.replace("find ?who".into());
        assert_eq!(names("?w"), ["?who"]);
    }
}
