//! Facts out: `.dq` text that loads again, and N-Quads for other RDF tools.
//!
//! `.dq` export groups and sorts so that the same facts always give the same bytes (a
//! dump can be diffed and kept in version control): the facts without a source first,
//! then one `from SOURCE { ... }` block per source, sources by name; within each, by
//! subject, with `type` first and the other predicates by name, objects in the
//! language's `order by` order.  Names and strings are written through the model's
//! `Display`, which quotes and escapes them as the parser expects.
//!
//! N-Quads export inverts the import mapping ([`Namespaces::iri_of_name`]): names go back
//! to IRIs, `_:` names to Skolem IRIs (so they import back to the same names), `type` to
//! `rdf:type`, values to typed literals
//! (`xsd:integer`, `xsd:double`, `xsd:boolean`, `xsd:date` / `xsd:gYearMonth` /
//! `xsd:gYear` by precision), sources to graph names.

use super::literal::{literal_of_value, XSD};
use super::names::Namespaces;
use crate::error::{Error, Result};
use crate::model::{write_entity, Quad, Value, TYPE_PREDICATE};
use oxrdf::{GraphName, Literal, NamedNode, NamedOrBlankNode, Term};
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

/// What an export wrote, and what it had to leave out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Facts written.
    pub facts: u64,
    /// Facts left out, by reason (`"NaN or infinite floats (no .dq literal)"`).
    pub skipped: BTreeMap<&'static str, u64>,
}

impl ExportSummary {
    fn skip(&mut self, why: &'static str) {
        *self.skipped.entry(why).or_insert(0) += 1;
    }
}

fn write_error(e: std::io::Error) -> Error {
    Error::io("<export>", e)
}

/// Write `quads` as a `.dq` script.  `header` lines (schema and rule statements, comments)
/// come first, verbatim.  Exact duplicates are written once.
pub fn write_dq<W: Write, H: AsRef<str>>(
    mut out: W,
    header: &[H],
    quads: Vec<Quad>,
) -> Result<ExportSummary> {
    let mut summary = ExportSummary::default();
    // Values stored before they were refused have no form that loads again: they are
    // counted, and the caller decides (the command line fails).
    let mut quads: Vec<Quad> = quads
        .into_iter()
        .filter(|q| {
            let nameless = q.subject.is_empty()
                || q.predicate.is_empty()
                || q.source.as_deref() == Some("")
                || q.object.as_entity() == Some("");
            if nameless {
                summary.skip("entities without a name (the language has none)");
                return false;
            }
            match q.object {
                Value::Float(x) if !x.is_finite() => {
                    summary.skip("NaN or infinite floats (the language has no literal for them)");
                    false
                }
                _ => true,
            }
        })
        .collect();
    quads.sort_by(dq_order);
    quads.dedup();
    let mut text = String::new();
    for line in header {
        text.push_str(line.as_ref());
        text.push('\n');
    }
    // Blocks are separated by a blank line (and from the header, if there is one).
    let mut separate = !header.is_empty();
    let mut start = 0;
    while start < quads.len() {
        let source = quads[start].source.as_deref();
        let end = start
            + quads[start..]
                .iter()
                .take_while(|q| q.source.as_deref() == source)
                .count();
        if separate {
            text.push('\n');
        }
        separate = true;
        let indent = match source {
            None => "",
            Some(s) => {
                text.push_str("from ");
                write_entity(&mut text, s).map_err(fmt_error)?;
                text.push_str(" {\n");
                "    "
            }
        };
        write_statements(&mut text, &quads[start..end], indent).map_err(fmt_error)?;
        if source.is_some() {
            text.push_str("}\n");
        }
        summary.facts += (end - start) as u64;
        start = end;
        // Flush per block: a large dump never holds all its text twice.
        out.write_all(text.as_bytes()).map_err(write_error)?;
        text.clear();
    }
    out.write_all(text.as_bytes()).map_err(write_error)?;
    out.flush().map_err(write_error)?;
    Ok(summary)
}

fn fmt_error(_: std::fmt::Error) -> Error {
    Error::Invalid("formatting a fact failed".into())
}

/// Source (none first), subject, predicate (`type` first), object.
fn dq_order(a: &Quad, b: &Quad) -> Ordering {
    a.source
        .cmp(&b.source)
        .then_with(|| a.subject.cmp(&b.subject))
        .then_with(|| (a.predicate != TYPE_PREDICATE).cmp(&(b.predicate != TYPE_PREDICATE)))
        .then_with(|| a.predicate.cmp(&b.predicate))
        .then_with(|| a.object.total_cmp(&b.object))
}

/// One statement per subject: `s p o, o;\n    p o.` (quads sorted, one source).
fn write_statements(text: &mut String, quads: &[Quad], indent: &str) -> std::fmt::Result {
    let mut i = 0;
    while i < quads.len() {
        let subject = &quads[i].subject;
        text.push_str(indent);
        write_entity(text, subject)?;
        let mut first_pred = true;
        while i < quads.len() && &quads[i].subject == subject {
            let pred = &quads[i].predicate;
            if !first_pred {
                text.push_str(";\n");
                text.push_str(indent);
                text.push_str("    ");
            } else {
                text.push(' ');
            }
            first_pred = false;
            if pred == TYPE_PREDICATE {
                text.push('a');
            } else {
                write_entity(text, pred)?;
            }
            let mut first_obj = true;
            while i < quads.len() && &quads[i].subject == subject && &quads[i].predicate == pred {
                text.push_str(if first_obj { " " } else { ", " });
                first_obj = false;
                write!(text, "{}", quads[i].object)?;
                i += 1;
            }
        }
        text.push_str(".\n");
    }
    Ok(())
}

/// Write `quads` as N-Quads, names expanded by `ns` ([`Namespaces::iri_of_name`]: every
/// name, `_:` names included, becomes an IRI that imports back to the same name under
/// the same base).  Facts that have no RDF form (a float stored before floats had to be
/// finite) are skipped and counted.  An error, before anything is written, when the base
/// is not an absolute IRI.
pub fn write_nquads<W: Write, Q: Borrow<Quad>>(
    out: W,
    quads: impl IntoIterator<Item = Q>,
    ns: &Namespaces,
) -> Result<ExportSummary> {
    ns.check().map_err(Error::Invalid)?;
    let mut summary = ExportSummary::default();
    let mut w = oxttl::NQuadsSerializer::new().for_writer(out);
    for q in quads {
        let q = q.borrow();
        match rdf_quad(q, ns) {
            Ok(rq) => {
                w.serialize_quad(&rq).map_err(write_error)?;
                summary.facts += 1;
            }
            Err(why) => summary.skip(why),
        }
    }
    w.finish().flush().map_err(write_error)?;
    Ok(summary)
}

fn rdf_quad(q: &Quad, ns: &Namespaces) -> std::result::Result<oxrdf::Quad, &'static str> {
    let object = match &q.object {
        Value::Entity(e) => Term::NamedNode(node(e, ns)?),
        Value::Float(x) if !x.is_finite() => {
            return Err("NaN or infinite floats (floats must be finite)")
        }
        v => {
            let (text, dt) = literal_of_value(v).ok_or("objects that cannot be literals")?;
            Term::Literal(match dt {
                None => Literal::new_simple_literal(text),
                Some(local) => Literal::new_typed_literal(
                    text,
                    NamedNode::new_unchecked(format!("{XSD}{local}")),
                ),
            })
        }
    };
    let graph_name = match &q.source {
        None => GraphName::DefaultGraph,
        Some(s) => GraphName::NamedNode(node(s, ns)?),
    };
    Ok(oxrdf::Quad {
        subject: NamedOrBlankNode::NamedNode(node(&q.subject, ns)?),
        predicate: node(&q.predicate, ns)?,
        object,
        graph_name,
    })
}

/// A name as an IRI (always valid under a valid base).
fn node(name: &str, ns: &Namespaces) -> std::result::Result<NamedNode, &'static str> {
    NamedNode::new(ns.iri_of_name(name).as_ref()).map_err(|_| "names that make no valid IRI")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_names_still_make_valid_rdf() {
        let ns = Namespaces::with_base("http://dossier.example/");
        for name in ["a[1]%zz", "_:a b", "_:p", "<>"] {
            assert!(node(name, &ns).is_ok(), "{name}");
        }
        let q = Quad::new("_:b", "_:p", Value::Int(1));
        assert!(rdf_quad(&q, &ns).is_ok());
        let q = Quad::new("s", "p", Value::Float(f64::NAN));
        assert!(rdf_quad(&q, &ns).is_err());
    }

    #[test]
    fn an_invalid_base_writes_nothing() {
        // `export x.nq --base ''` wrote 0 of 301 facts and succeeded.
        let mut out = Vec::new();
        let quads = [Quad::new("s", "p", Value::Int(1))];
        let err = write_nquads(&mut out, &quads, &Namespaces::with_base("")).unwrap_err();
        assert!(err.to_string().contains("not an absolute IRI"), "{err}");
        assert!(out.is_empty());
    }
}
