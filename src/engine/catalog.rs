//! The catalog: the schema (types, subtypes, predicate declarations) and the stored rules.
//!
//! It is small, so it is kept as one serialized record in the store (a meta record written
//! in the same atomic commit as the statement that changed it) and read whole.

use crate::error::{Error, Result};
use crate::model::Kind;
use crate::store::{Delta, Store};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

const RECORD: &str = "catalog";
/// First byte of the record: bump when the layout changes.
const RECORD_VERSION: u8 = 1;
/// The most a catalog record may decode to (a schema of thousands of types and rules is a
/// few hundred KB).
pub const MAX_RECORD_BYTES: usize = 64 << 20;

/// The range of a declared predicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Range {
    /// Objects are entities of this class (checked by `check.`, not on insert).
    Class(String),
    /// Objects are literals of this kind (enforced on insert).
    Kind(Kind),
}

/// A `pred` declaration: what a predicate's subjects and objects should be.  A later
/// declaration of the same predicate replaces it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PredDecl {
    /// Subjects are entities of this class (`None`: anything).
    pub domain: Option<String>,
    /// What its objects are (`None`: anything, as `_` declares).
    pub range: Option<Range>,
}

/// A stored rule: its canonical text and the predicate it derives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleDecl {
    /// The predicate the rule derives, by name.
    pub head: String,
    /// The rule as the printer writes it (`rule ?a allied_with ?b :- …`, ending in `.`): it is
    /// parsed again to run, and a rule whose text is already stored is not stored twice.
    pub text: String,
}

/// The schema and the stored rules, kept as one record of the store.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    /// Each declared type with its direct supertypes.
    pub types: BTreeMap<String, Vec<String>>,
    /// Each declared predicate with its declaration.
    pub preds: BTreeMap<String, PredDecl>,
    /// The stored rules, in the order they were stored.
    pub rules: Vec<RuleDecl>,
}

impl Catalog {
    /// The catalog as `delta` would leave it.
    pub fn load(store: &Store, delta: Option<&Delta>) -> Result<Catalog> {
        match store.meta(RECORD, delta)? {
            None => Ok(Catalog::default()),
            Some(bytes) => Catalog::from_record(&bytes),
        }
    }

    /// The name of the store's meta record that holds the catalog.
    pub const RECORD: &'static str = RECORD;

    /// Decode the stored record (written by [`Catalog::to_record`] via [`Catalog::save`]):
    /// a version byte, then bincode.  Damaged bytes give an error, never a panic, and
    /// decoding never allocates more than [`MAX_RECORD_BYTES`] whatever lengths the bytes
    /// claim.
    pub fn from_record(bytes: &[u8]) -> Result<Catalog> {
        let (&version, body) = bytes
            .split_first()
            .ok_or_else(|| Error::Storage("empty catalog record".into()))?;
        if version != RECORD_VERSION {
            return Err(Error::Storage(format!(
                "catalog record of unknown version {version}"
            )));
        }
        let config = bincode::config::standard().with_limit::<MAX_RECORD_BYTES>();
        let (c, _) = bincode::serde::decode_from_slice(body, config)
            .map_err(|e| Error::Storage(format!("catalog record unreadable: {e}")))?;
        Ok(c)
    }

    /// Record this catalog in `delta`.
    pub fn save(&self, store: &Store, delta: &mut Delta) -> Result<()> {
        store.put_meta(delta, RECORD, Some(self.to_record()?));
        Ok(())
    }

    /// The stored record: [`RECORD_VERSION`], then the catalog in bincode's standard
    /// configuration (which writes enum variants by position: see the golden test).
    fn to_record(&self) -> Result<Vec<u8>> {
        let mut bytes = vec![RECORD_VERSION];
        let body = bincode::serde::encode_to_vec(self, bincode::config::standard())
            .map_err(Error::storage)?;
        // A record past the limit could not be read back.
        if body.len() > MAX_RECORD_BYTES {
            return Err(Error::Invalid(format!(
                "the schema and rules would take {} bytes, more than the {MAX_RECORD_BYTES} a database keeps",
                body.len()
            )));
        }
        bytes.extend_from_slice(&body);
        Ok(bytes)
    }

    /// `t` and every type declared (transitively) below it.
    pub fn subtypes(&self, t: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::from([t.to_string()]);
        loop {
            let before = out.len();
            for (name, sups) in &self.types {
                if sups.iter().any(|s| out.contains(s)) {
                    out.insert(name.clone());
                }
            }
            if out.len() == before {
                return out;
            }
        }
    }

    /// `t` and every type (transitively) above it.
    pub fn supertypes(&self, t: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::from([t.to_string()]);
        let mut todo = vec![t.to_string()];
        while let Some(x) = todo.pop() {
            for s in self.types.get(&x).into_iter().flatten() {
                if out.insert(s.clone()) {
                    todo.push(s.clone());
                }
            }
        }
        out
    }

    /// Whether some type is declared directly below `t`.
    pub fn has_subtypes(&self, t: &str) -> bool {
        self.types.values().any(|sups| sups.iter().any(|s| s == t))
    }

    /// Predicates derived by rules.
    pub fn derived(&self) -> BTreeSet<&str> {
        self.rules.iter().map(|r| r.head.as_str()).collect()
    }

    /// The schema as statements of the language (for `.schema` and export).
    pub fn schema_text(&self) -> Vec<String> {
        self.schema_statements()
            .into_iter()
            .map(|(_, _, text)| text)
            .collect()
    }

    /// The schema's statements, each with the name it declares and whether that is a
    /// predicate (else a type): types first, then predicates, each by name.
    pub fn schema_statements(&self) -> Vec<(String, bool, String)> {
        let mut out = Vec::new();
        for (t, sups) in &self.types {
            let mut s = format!("type {}", name(t));
            if !sups.is_empty() {
                s.push_str(" sub ");
                s.push_str(&sups.iter().map(|x| name(x)).collect::<Vec<_>>().join(", "));
            }
            s.push('.');
            out.push((t.clone(), false, s));
        }
        for (p, d) in &self.preds {
            let mut s = format!("pred {}", name(p));
            if d.domain.is_some() || d.range.is_some() {
                let dom = d.domain.as_deref().map_or("_".to_string(), name);
                let rng = match &d.range {
                    None => "_".to_string(),
                    Some(Range::Class(c)) => name(c),
                    Some(Range::Kind(k)) => k.name().to_string(),
                };
                s.push_str(&format!(": {dom} -> {rng}"));
            }
            s.push('.');
            out.push((p.clone(), true, s));
        }
        out
    }
}

fn name(n: &str) -> String {
    let mut s = String::new();
    let _ = crate::model::write_entity(&mut s, n);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The catalog record's bytes on disk.  bincode writes enum variants by position and
    /// fields in declaration order: reordering `Range`, `Kind` or a struct's fields would
    /// silently change what existing databases mean.  This fails first.
    #[test]
    fn catalog_record_golden_bytes() {
        let mut c = Catalog::default();
        c.types.insert("A".into(), vec![]);
        c.types.insert("B".into(), vec!["A".into()]);
        let kinds = [
            Kind::Int,
            Kind::Float,
            Kind::Date,
            Kind::Str,
            Kind::Bool,
            Kind::Entity,
        ];
        for (i, k) in kinds.into_iter().enumerate() {
            let range = Some(Range::Kind(k));
            let decl = PredDecl {
                domain: None,
                range,
            };
            c.preds.insert(format!("k{i}"), decl);
        }
        let class = PredDecl {
            domain: Some("A".into()),
            range: Some(Range::Class("B".into())),
        };
        c.preds.insert("p".into(), class);
        c.preds.insert("q".into(), PredDecl::default());
        c.rules.push(RuleDecl {
            head: "r".into(),
            text: "rule ?x r ?y :- ?x p ?y.".into(),
        });
        let bytes = c.to_record().unwrap();
        #[rustfmt::skip]
        let expected: Vec<u8> = [
            &[1u8][..],                                  // record version
            &[2, 1, b'A', 0, 1, b'B', 1, 1, b'A'],       // types: A [], B [A]
            &[8],                                        // 8 predicates, by name:
            &[2, b'k', b'0', 0, 1, 1, 0],                // k0: _ -> int (Range::Kind #1, Kind #0)
            &[2, b'k', b'1', 0, 1, 1, 1],                // k1: _ -> float
            &[2, b'k', b'2', 0, 1, 1, 2],                // k2: _ -> date
            &[2, b'k', b'3', 0, 1, 1, 3],                // k3: _ -> string
            &[2, b'k', b'4', 0, 1, 1, 4],                // k4: _ -> bool
            &[2, b'k', b'5', 0, 1, 1, 5],                // k5: _ -> entity
            &[1, b'p', 1, 1, b'A', 1, 0, 1, b'B'],       // p: A -> B (Range::Class #0)
            &[1, b'q', 0, 0],                            // q: no domain, no range
            &[1, 1, b'r', 24],                           // 1 rule: head r, text of 24 bytes
            b"rule ?x r ?y :- ?x p ?y.",
        ]
        .concat();
        assert_eq!(bytes, expected);
        assert_eq!(Catalog::from_record(&bytes).unwrap(), c);
        assert!(Catalog::from_record(&[2, 0, 0, 0]).is_err());
        assert!(Catalog::from_record(&[]).is_err());
    }

    #[test]
    fn type_closure() {
        let mut c = Catalog::default();
        c.types.insert("Actor".into(), vec![]);
        c.types.insert("State".into(), vec!["Actor".into()]);
        c.types.insert("Government".into(), vec!["State".into()]);
        c.types.insert("Venue".into(), vec![]);
        assert_eq!(
            c.subtypes("Actor"),
            ["Actor", "Government", "State"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        );
        assert_eq!(
            c.supertypes("Government"),
            ["Actor", "Government", "State"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        );
        assert!(c.has_subtypes("State") && !c.has_subtypes("Venue"));
    }
}
