//! The data model: values, dates with precision, and facts.
//!
//! Nothing here knows about storage or the language; every other layer builds on it.

mod date;
mod value;

pub use date::{
    civil_from_days, days_from_civil, days_in_month, Date, DateError, DateRange, Precision,
};
pub use value::{
    bare_word_len, is_bare_name, is_keyword, write_entity, write_float, write_string_literal, Kind,
    Value, KEYWORDS,
};

use serde::{Deserialize, Serialize};
use std::fmt;

/// The predicate that `a` abbreviates.
pub const TYPE_PREDICATE: &str = "type";

/// A fact: subject, predicate, object, and the source that asserted it (if any).
///
/// Subjects, predicates and sources are entities (names); the object is any value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quad {
    /// The entity the fact is about, by name.
    pub subject: String,
    /// The relation, by name (`type` for `a`; see [`TYPE_PREDICATE`]).
    pub predicate: String,
    /// The value: an entity or a literal.
    pub object: Value,
    /// The source entity that asserted the fact; `None` for a fact asserted without `from`.
    pub source: Option<String>,
}

impl Quad {
    /// A fact without a source.  A `&str` object becomes a string literal; pass
    /// [`Value::entity`] for a thing.
    pub fn new(
        subject: impl Into<String>,
        predicate: impl Into<String>,
        object: impl Into<Value>,
    ) -> Quad {
        Quad {
            subject: subject.into(),
            predicate: predicate.into(),
            object: object.into(),
            source: None,
        }
    }

    /// The same fact, asserted by `source` (an entity name).
    pub fn from_source(mut self, source: impl Into<String>) -> Quad {
        self.source = Some(source.into());
        self
    }
}

impl fmt::Display for Quad {
    /// A fact statement that reads back as this quad.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_entity(f, &self.subject)?;
        f.write_str(" ")?;
        if self.predicate == TYPE_PREDICATE {
            f.write_str("a")?;
        } else {
            write_entity(f, &self.predicate)?;
        }
        write!(f, " {}", self.object)?;
        if let Some(src) = &self.source {
            f.write_str(" from ")?;
            write_entity(f, src)?;
        }
        f.write_str(".")
    }
}
