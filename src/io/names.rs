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

    /// Whether the namespaces can make IRIs: the base must be an absolute IRI
    /// (`http://dossier.example/`; an empty or relative base would make every name an
    /// invalid IRI).
    pub fn check(&self) -> Result<(), String> {
        match &self.base {
            Some(b) if oxrdf::NamedNode::new(b.as_str()).is_err() => Err(format!(
                "the base '{b}' is not an absolute IRI (write e.g. http://dossier.example/)"
            )),
            _ => Ok(()),
        }
    }

    /// The base in force: the one given, else `urn:dossier:` (so that an export without a
    /// base imports back to the same names without one).
    fn base(&self) -> &str {
        self.base.as_deref().unwrap_or(DEFAULT_BASE)
    }

    /// The name of an IRI: shortened under the base or a prefix, else the IRI itself.
    /// A shortened name is only taken when [`Namespaces::iri_of_name`] gives this very
    /// IRI back, so that an export imports again to the same names; Skolem IRIs under
    /// the base (`{base}.well-known/genid/b1`, what export writes for `_:b1`) become
    /// `_:` names again.  Takes the `String` so that the common case (strip the base)
    /// reuses its allocation.
    pub fn name_of_iri(&self, mut iri: String) -> String {
        if iri == RDF_TYPE {
            return TYPE_PREDICATE.to_string();
        }
        // The longest namespace the IRI is under: the base or a prefix.
        let base = self.base();
        let mut best: Option<(usize, Option<&str>)> =
            (iri.len() > base.len() && iri.starts_with(base)).then_some((base.len(), None));
        for (p, ns) in &self.prefixes {
            if iri.len() > ns.len()
                && iri.starts_with(ns.as_str())
                && best.is_none_or(|(n, _)| ns.len() > n)
            {
                best = Some((ns.len(), Some(p)));
            }
        }
        let candidate = match best {
            None => None,
            // Without a `%` there is nothing to decode, and `p:local` expands to this IRI.
            Some((n, Some(p))) if !iri[n..].contains('%') => return format!("{p}:{}", &iri[n..]),
            Some((n, Some(p))) => percent_decode(&iri[n..]).map(|local| format!("{p}:{local}")),
            Some((n, None)) => {
                let local = &iri[n..];
                if let Some(id) = local.strip_prefix(GENID) {
                    percent_decode(id).map(|id| format!("_:{id}"))
                } else if !local.contains([':', '%']) && local != TYPE_PREDICATE {
                    // The common case: nothing to decode, and it cannot read back otherwise.
                    iri.replace_range(..n, "");
                    return iri;
                } else {
                    percent_decode(local)
                }
            }
        };
        match candidate {
            Some(c) if self.iri_of_name(&c) == iri => c,
            _ => iri,
        }
    }

    /// The IRI an entity name stands for (the inverse of [`Namespaces::name_of_iri`]):
    /// `type` is `rdf:type`; `_:b1` is the Skolem IRI `{base}.well-known/genid/b1`;
    /// `p:local` with a known prefix expands; a name that is already an absolute IRI stays;
    /// anything else is the base (or `urn:dossier:` without one) followed by the name.
    /// Characters that IRIs forbid, and `%`, are percent-encoded; a name that still makes
    /// no valid IRI has every character but letters, digits and `-._~` encoded.
    pub fn iri_of_name<'a>(&self, name: &'a str) -> Cow<'a, str> {
        if name == TYPE_PREDICATE {
            return Cow::Borrowed(RDF_TYPE);
        }
        if let Some(id) = name.strip_prefix("_:") {
            return Cow::Owned(valid_iri(&format!("{}{GENID}", self.base()), id));
        }
        if let Some((p, local)) = name.split_once(':') {
            if let Some((_, ns)) = self.prefixes.iter().find(|(q, _)| q == p) {
                return Cow::Owned(valid_iri(ns, local));
            }
            if oxrdf::NamedNode::new(name).is_ok() {
                return Cow::Borrowed(name);
            }
        }
        Cow::Owned(valid_iri(self.base(), name))
    }
}

/// The IRIs of blank-node names (`_:b1`) start with the base and this (RDF 1.1 Concepts,
/// "Replacing blank nodes with IRIs").
const GENID: &str = ".well-known/genid/";

/// The base of names when none is given.
const DEFAULT_BASE: &str = "urn:dossier:";

/// `prefix` followed by `local` with what IRIs forbid (and `%`) percent-encoded, or, when
/// that is still no valid IRI, with everything but the plainest characters encoded.
fn valid_iri(prefix: &str, local: &str) -> String {
    let iri = format!("{prefix}{}", encode_iri_chars(local));
    if oxrdf::NamedNode::new(iri.as_str()).is_ok() {
        return iri;
    }
    format!("{prefix}{}", escape_all(local))
}

/// Percent-encode what may not appear in an IRI (space, `<>"{}|^` and backtick,
/// backslash, controls) and `%` itself, so that a name like `5+5 military commission`
/// still exports as a valid IRI and decodes back to the same name.
fn encode_iri_chars(s: &str) -> Cow<'_, str> {
    let bad = |c: char| {
        c.is_control()
            || matches!(
                c,
                ' ' | '<' | '>' | '"' | '{' | '}' | '|' | '^' | '`' | '\\' | '%'
            )
    };
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            push_escaped(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Percent-encode every character but ASCII letters, digits and `-._~`.
fn escape_all(name: &str) -> String {
    let mut out = String::with_capacity(name.len() * 3);
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~') {
            out.push(c);
        } else {
            push_escaped(&mut out, c);
        }
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        out.push_str(&format!("%{b:02X}"));
    }
}

/// `%XX` escapes decoded; `None` when an escape is malformed or the bytes are not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = b.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
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

    #[test]
    fn every_name_comes_back() {
        for ns in [ns(), Namespaces::default()] {
            for name in [
                "haftar",
                "type",
                "_:b1",
                "_:a b",
                "5+5 commission",
                "50%",
                "a%20b",
                "a[1]%zz",
                "x:y",
                "mailto:a b",
                "m:name",
                "<>\"{}|^`\\",
                "line\nbreak",
                "é ü",
                ".well-known",
                "%",
                "%2",
            ] {
                let iri = ns.iri_of_name(name).into_owned();
                assert!(oxrdf::NamedNode::new(iri.as_str()).is_ok(), "{iri}");
                assert_eq!(ns.name_of_iri(iri.clone()), name, "{name} → {iri}");
            }
        }
        // IRIs from elsewhere keep their escapes when their name would not give them back.
        let n = ns();
        assert_eq!(
            n.name_of_iri("http://dossier.example/a%2Fb".into()),
            "http://dossier.example/a%2Fb"
        );
        assert_eq!(n.name_of_iri("http://dossier.example/a%20b".into()), "a b");
        assert_eq!(
            n.name_of_iri("http://dossier.example/type".into()),
            "http://dossier.example/type"
        );
        assert!(Namespaces::with_base("").check().is_err());
        assert!(Namespaces::with_base("x/").check().is_err());
        assert!(n.check().is_ok());
    }
}
