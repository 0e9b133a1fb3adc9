//! IRIs ↔ entity names.
//!
//! Users type `haftar`, not `<http://dossier.example/haftar>`.  A [`Namespaces`] says which
//! IRI namespaces shorten: the base becomes bare local names, each prefix `p` becomes
//! `p:local`.  Everything else keeps its full IRI as its name.  The mapping is chosen so
//! that export can invert it exactly:
//!
//! * a local name under the base is only shortened if it has no `:` (otherwise it would
//!   read back as a prefixed name or an absolute IRI);
//! * blank nodes are `_:...` names, which no IRI can produce (an IRI scheme starts with a
//!   letter, and prefixes must too).

use crate::model::TYPE_PREDICATE;
use std::borrow::Cow;

/// `rdf:type`, which maps to the model's `type` predicate.
pub(crate) const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

/// The namespaces that shorten to names on import (and expand again on export).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaces {
    /// IRIs starting with the base become their bare remainder: with base
    /// `http://dossier.example/`, `<http://dossier.example/haftar>` is `haftar`.
    pub base: Option<String>,
    /// `(prefix, namespace)` pairs: with `("m", "http://www.semwebtech.org/mondial/10/meta#")`,
    /// `<...meta#name>` is `m:name`.  The longest matching namespace wins.
    pub prefixes: Vec<(String, String)>,
}

impl Namespaces {
    /// Namespaces with a base (IRIs under it become bare names) and no prefixes.
    pub fn with_base(base: impl Into<String>) -> Namespaces {
        Namespaces {
            base: Some(base.into()),
            prefixes: Vec::new(),
        }
    }

    /// Add a prefix.  A prefix is `[A-Za-z][A-Za-z0-9_-]*` so that `p:local` stays
    /// distinguishable from blank nodes (`_:b`) and reads as a bare name.
    pub fn with_prefix(
        mut self,
        prefix: impl Into<String>,
        namespace: impl Into<String>,
    ) -> Result<Namespaces, String> {
        let prefix = prefix.into();
        let ok = prefix
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !ok {
            return Err(format!("'{prefix}' cannot be a prefix: use letters, digits, '_' and '-', starting with a letter"));
        }
        self.prefixes.push((prefix, namespace.into()));
        Ok(self)
    }

    /// The name of an IRI: shortened under the base or a prefix, else the IRI itself.
    /// Takes the `String` so that the common case (strip the base) reuses its allocation.
    pub fn name_of_iri(&self, mut iri: String) -> String {
        if iri == RDF_TYPE {
            return TYPE_PREDICATE.to_string();
        }
        let mut best: Option<(usize, Option<&str>)> = None;
        if let Some(base) = &self.base {
            if iri.len() > base.len()
                && iri.starts_with(base.as_str())
                && !iri[base.len()..].contains(':')
            {
                best = Some((base.len(), None));
            }
        }
        for (p, ns) in &self.prefixes {
            if iri.len() > ns.len()
                && iri.starts_with(ns.as_str())
                && best.is_none_or(|(n, _)| ns.len() > n)
            {
                best = Some((ns.len(), Some(p)));
            }
        }
        match best {
            None => iri,
            Some((n, None)) => {
                iri.replace_range(..n, "");
                iri
            }
            Some((n, Some(p))) => {
                let mut s = String::with_capacity(p.len() + 1 + iri.len() - n);
                s.push_str(p);
                s.push(':');
                s.push_str(&iri[n..]);
                s
            }
        }
    }

    /// The IRI an entity name stands for (the inverse of [`Namespaces::name_of_iri`]):
    /// `type` is `rdf:type`; `p:local` with a known prefix expands; a name that is already
    /// an absolute IRI stays; anything else is the base (or `urn:dossier:` without one)
    /// followed by the name, with characters that IRIs forbid percent-encoded.
    ///
    /// Blank nodes (`_:...`) are not IRIs; the caller handles them first.
    pub fn iri_of_name<'a>(&self, name: &'a str) -> Cow<'a, str> {
        if name == TYPE_PREDICATE {
            return Cow::Borrowed(RDF_TYPE);
        }
        if let Some((p, local)) = name.split_once(':') {
            if let Some((_, ns)) = self.prefixes.iter().find(|(q, _)| q == p) {
                return Cow::Owned(format!("{ns}{}", encode_iri_chars(local)));
            }
            if oxrdf::NamedNode::new(name).is_ok() {
                return Cow::Borrowed(name);
            }
        }
        let base = self.base.as_deref().unwrap_or("urn:dossier:");
        Cow::Owned(format!("{base}{}", encode_iri_chars(name)))
    }
}

/// Percent-encode what may not appear in an IRI (space, `<>"{}|^\``, `\`, controls), so
/// that a name like `5+5 military commission` still exports as a valid IRI.
fn encode_iri_chars(s: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        c.is_control()
            || matches!(
                c,
                ' ' | '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\'
            )
    };
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns() -> Namespaces {
        Namespaces::with_base("http://dossier.example/")
            .with_prefix("m", "http://www.semwebtech.org/mondial/10/meta#")
            .unwrap()
            .with_prefix("mondial", "http://www.semwebtech.org/mondial/10/")
            .unwrap()
    }

    #[test]
    fn iris_to_names() {
        let n = ns();
        let name = |s: &str| n.name_of_iri(s.to_string());
        assert_eq!(name("http://dossier.example/haftar"), "haftar");
        assert_eq!(name(RDF_TYPE), "type");
        assert_eq!(
            name("http://www.semwebtech.org/mondial/10/meta#name"),
            "m:name"
        );
        assert_eq!(
            name("http://www.semwebtech.org/mondial/10/countries/D/"),
            "mondial:countries/D/"
        );
        assert_eq!(
            name("http://dbpedia.org/resource/Libya"),
            "http://dbpedia.org/resource/Libya"
        );
        assert_eq!(name("http://dossier.example/"), "http://dossier.example/");
        assert_eq!(
            name("http://dossier.example/a:b"),
            "http://dossier.example/a:b"
        );
        assert!(Namespaces::default().with_prefix("_", "x").is_err());
    }

    #[test]
    fn names_back_to_iris() {
        let n = ns();
        for iri in [
            "http://dossier.example/haftar",
            RDF_TYPE,
            "http://www.semwebtech.org/mondial/10/meta#name",
            "http://www.semwebtech.org/mondial/10/countries/D/",
            "http://dbpedia.org/resource/Libya",
            "http://dossier.example/",
            "http://dossier.example/a:b",
            "urn:isbn:123",
        ] {
            let name = n.name_of_iri(iri.to_string());
            assert_eq!(n.iri_of_name(&name), iri, "{name}");
        }
        assert_eq!(
            n.iri_of_name("5+5 commission"),
            "http://dossier.example/5+5%20commission"
        );
        assert_eq!(
            Namespaces::default().iri_of_name("haftar"),
            "urn:dossier:haftar"
        );
    }
}
