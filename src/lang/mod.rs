//! The dossier language: syntax tree, nom parser, printer, and the checks that need no
//! database.
//!
//! Text flows `parse` → [`ast::Statement`] → `check` → (engine).  Every node keeps its byte
//! span so that any stage can report a [`crate::diag::Diagnostic`] at the exact place.
//!
//! `grammar/dossier.ebnf` is the precise grammar of what [`parse_script`] accepts.
//!
//! - [`parse_script`], [`parse_statement`], [`parse_find`]: text to AST (first error).
//! - [`statements`]: lazily, one statement at a time, resuming after errors (`--keep-going`).
//! - [`completeness`]: whether REPL input is complete, needs more lines, or is invalid.
//! - [`print_statement`], [`print_script`], [`print_find`], [`print_rule`]: AST to canonical
//!   text; `parse(print(ast)) == ast`.
//! - [`check_statement`], [`check_script`]: binding and shape errors, and warnings.
//! - [`tokens`]: the lexer's tokens of a text, without parsing (colours, completion).
//!
//! Modules, one job each: `input` (context, error type, whitespace), `lexical` (tokens and
//! literals), `term` (terms and names), `expr` (operators, calls, aggregates, ranges),
//! `body` (query bodies), `parser` (statements), `print`, `check`, `complete`, `tokens`.

pub mod ast;
mod body;
mod check;
mod complete;
mod expr;
mod input;
mod lexical;
mod parser;
mod print;
mod term;
mod tokens;

pub use check::{check_script, check_statement, invalid_regex, regex};
pub use complete::{completeness, statements, Completeness, StatementEnds, Statements};
pub use print::{
    print_aggregate, print_body, print_expr, print_find, print_predicate, print_rule, print_script,
    print_statement, print_term,
};
pub use tokens::{tokens, Token, TokenKind, Tokens};

use crate::diag::{Diagnostic, Span};
use input::{ws, Cx, PError};

/// Parse a whole script; the first syntax error stops it.  Spans are byte offsets into
/// `text`.
pub fn parse_script(text: &str) -> Result<ast::Script, Diagnostic> {
    let cx = Cx::new(text);
    let mut statements = Vec::new();
    let mut r = text;
    while !ws(r).is_empty() {
        let (rest, s) = parser::statement(&cx, r).map_err(|e| to_diagnostic(&cx, e, text.len()))?;
        statements.push(s);
        r = rest;
    }
    Ok(ast::Script { statements })
}

/// Parse exactly one statement (surrounding whitespace and comments are fine).
pub fn parse_statement(text: &str) -> Result<ast::Statement, Diagnostic> {
    let cx = Cx::new(text);
    let (rest, s) = parser::statement(&cx, text).map_err(|e| to_diagnostic(&cx, e, text.len()))?;
    let k = ws(rest);
    if !k.is_empty() {
        let e = PError::at(k, input::token_len(k), "expected only one statement")
            .hint("run a script to run several statements");
        return Err(cx.diagnostic(e));
    }
    Ok(s)
}

/// Parse a query (`find …`, its final `.` optional): what `Db::query` is given, or a query
/// the engine stored.
pub fn parse_find(text: &str) -> Result<ast::Find, Diagnostic> {
    use nom::Parser;
    let cx = Cx::new(text);
    let j = ws(text);
    if lexical::peek_word(j) != Some("find") {
        return Err(cx.diagnostic(input::expected(text, "expected a query ('find …')")));
    }
    let (r, f) = parser::find(&cx, j).map_err(|e| to_diagnostic(&cx, e, text.len()))?;
    let r = lexical::symbol(".").parse(r).map_or(r, |(r, _)| r);
    let k = ws(r);
    if !k.is_empty() {
        return Err(cx.diagnostic(input::expected(r, "expected the end of the query")));
    }
    Ok(f)
}

pub(crate) fn to_diagnostic(cx: &Cx, e: nom::Err<PError>, len: usize) -> Diagnostic {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => cx.diagnostic(e),
        nom::Err::Incomplete(_) => {
            Diagnostic::error("the text ended in the middle of a statement", Span::at(len))
        }
    }
}
