//! Every example of the language contract (LANGUAGE.md) and of the grammar
//! (grammar/dossier.ebnf) parses, passes the checks without error, and prints back to
//! text that parses to the same statements.
//!
//! The contract is vendored in tests/data/LANGUAGE.md, because a clean clone (CI) may not
//! have the shared folder; where the shared copy is present, the two must be identical so
//! that a change of the contract is noticed.

use dossier::diag::Severity;
use dossier::lang::{check_statement, parse_script, print_script};
use std::path::{Path, PathBuf};

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn vendored_contract() -> String {
    read(&manifest().join("tests/data/LANGUAGE.md"))
}

/// Parse a text as a script, check every statement, print and re-parse.
fn assert_valid(what: &str, text: &str) {
    let script = parse_script(text)
        .unwrap_or_else(|d| panic!("{what}: does not parse:\n{}\n{text}", d.report(None, text)));
    assert!(
        !script.statements.is_empty(),
        "{what}: no statement in {text:?}"
    );
    for s in &script.statements {
        for d in check_statement(s) {
            assert!(
                d.severity != Severity::Error,
                "{what}: check error:\n{}",
                d.report(None, text)
            );
        }
    }
    let printed = print_script(&script);
    let again = parse_script(&printed).unwrap_or_else(|d| {
        panic!(
            "{what}: printed form does not parse:\n{}",
            d.report(None, &printed)
        )
    });
    assert_eq!(script, again, "{what}: printed form differs:\n{printed}");
}

/// The fenced code blocks of a Markdown text.
fn fenced_blocks(md: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(b) => blocks.push(b),
                None => current = Some(String::new()),
            }
        } else if let Some(b) = current.as_mut() {
            b.push_str(line);
            b.push('\n');
        }
    }
    blocks
}

/// Backticked whole statements in table rows: they end with `.` and elide nothing.
fn table_statements(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in md.lines().filter(|l| l.starts_with('|')) {
        for (k, piece) in line.split('`').enumerate() {
            let s = piece.trim();
            if k % 2 == 1 && s.ends_with('.') && !s.contains('…') && !s.starts_with('.') {
                out.push(s.to_string());
            }
        }
    }
    out
}

/// The `(* example: … *)` comments of the grammar.
fn grammar_examples(ebnf: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = ebnf;
    while let Some(start) = rest.find("(* example:") {
        let after = &rest[start + "(* example:".len()..];
        let end = after.find("*)").expect("an example comment is closed");
        out.push(after[..end].trim().to_string());
        rest = &after[end..];
    }
    out
}

#[test]
fn contract_copy_is_current() {
    let copy = vendored_contract();
    let shared = manifest().join("../shared/LANGUAGE.md");
    if shared.exists() {
        assert!(
            read(&shared) == copy,
            "{} differs from tests/data/LANGUAGE.md: copy the new contract there and make its examples pass",
            shared.display()
        );
    }
}

#[test]
fn contract_code_blocks_parse() {
    let blocks = fenced_blocks(&vendored_contract());
    assert!(blocks.len() >= 6, "found only {} code blocks", blocks.len());
    for (k, b) in blocks.iter().enumerate() {
        assert_valid(&format!("LANGUAGE.md code block {}", k + 1), b);
    }
}

#[test]
fn contract_table_statements_parse() {
    let stmts = table_statements(&vendored_contract());
    for must in [
        "del haftar backed_by _.",
        "describe haftar.",
        "search \"haftar\".",
        "load \"other.dq\".",
        "check.",
    ] {
        assert!(
            stmts.iter().any(|s| s == must),
            "{must} not found in the tables"
        );
    }
    for s in &stmts {
        assert_valid("LANGUAGE.md table", s);
    }
}

#[test]
fn grammar_examples_parse() {
    let ebnf = read(&manifest().join("grammar/dossier.ebnf"));
    let examples = grammar_examples(&ebnf);
    assert!(
        examples.len() >= 40,
        "found only {} examples",
        examples.len()
    );
    for e in &examples {
        assert_valid("grammar example", e);
    }
}
