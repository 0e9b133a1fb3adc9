//! Parameter values given as text (`--param name=value` on the command line).

use crate::lang::ast::{StatementKind, Term};
use crate::model::Value;

/// The value a parameter written as text stands for: a literal of the language when the
/// text is one (`42`, `0.75`, `2020-09`, `@2020`, `true`, `"Khalifa Haftar"`), an entity
/// written as in the language (`<5+5 commission>`), and otherwise an entity with the text
/// as its name (`haftar`, `acled:ev-1123`, `Khalifa Haftar`).
///
/// The text is only ever parsed as a single value, never run: `1. del x p _` is just an
/// odd entity name.
///
/// ```
/// use dossier::{db::parse_param, Value};
/// assert_eq!(parse_param("42"), Value::Int(42));
/// assert_eq!(parse_param("\"Haftar\""), Value::string("Haftar"));
/// assert_eq!(parse_param("turkey"), Value::entity("turkey"));
/// assert_eq!(parse_param("a b"), Value::entity("a b"));
/// ```
pub fn parse_param(text: &str) -> Value {
    let trimmed = text.trim();
    // Parse it as the object of a fact; only a lone constant is taken.
    let probe = format!("x p {trimmed}\n.");
    if let Ok(stmt) = crate::lang::parse_statement(&probe) {
        if let StatementKind::Facts {
            triples, source, ..
        } = stmt.kind
        {
            if let ([t], None) = (triples.as_slice(), source) {
                if let Term::Value(v) = &t.object.term {
                    return v.clone();
                }
            }
        }
    }
    Value::entity(trimmed)
}
