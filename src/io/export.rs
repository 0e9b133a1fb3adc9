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
use super::sort::QuadSort;
use crate::error::{Error, Result};
use crate::model::{write_entity, Quad, Value, TYPE_PREDICATE};
use oxrdf::{GraphName, Literal, NamedNode, NamedOrBlankNode, Term};
use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

/// The formats the facts of a database export to (see `Db::export`).
#[derive(Debug, Clone)]
pub enum ExportFormat {
    /// A `.dq` script: the schema and the rules, then every fact, sorted and grouped by
    /// source, so the same facts always give the same bytes.  It loads again.
    Dq,
    /// N-Quads, names expanded to IRIs by these namespaces, sources as graph names.
    NQuads(Namespaces),
}

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
    out: W,
    header: &[H],
    quads: Vec<Quad>,
) -> Result<ExportSummary> {
    let mut dq = DqSort::new();
    for q in quads {
        dq.push(q)?;
    }
    dq.write(out, header)
}

/// The facts of a `.dq` export, gathered in any order and written sorted, in memory
/// bounded by a constant however many there are (sorted runs spill to temporary files).
/// What `Db::export` uses: it gathers under the database's read gate, then writes.
pub struct DqSort {
    sort: QuadSort,
    summary: ExportSummary,
}

impl Default for DqSort {
    fn default() -> Self {
        DqSort::new()
    }
}

impl DqSort {
    /// An empty export.
    pub fn new() -> DqSort {
        DqSort {
            sort: QuadSort::new(dq_order),
            summary: ExportSummary::default(),
        }
    }

    /// Add a fact.  One the language cannot write (stored before such values were
    /// refused: an entity without a name, a NaN or infinite float) is counted in the
    /// summary and left out, and the caller decides (the command line fails).
    pub fn push(&mut self, q: Quad) -> Result<()> {
        let nameless = q.subject.is_empty()
            || q.predicate.is_empty()
            || q.source.as_deref() == Some("")
            || q.object.as_entity() == Some("");
        if nameless {
            self.summary
                .skip("entities without a name (the language has none)");
            return Ok(());
        }
        if matches!(q.object, Value::Float(x) if !x.is_finite()) {
            self.summary
                .skip("NaN or infinite floats (the language has no literal for them)");
            return Ok(());
        }
        self.sort.push(q)
    }

    /// Write the `.dq` script: `header` lines verbatim, then the facts without a source,
    /// then one `from SOURCE { … }` block per source; blocks are separated by a blank line
    /// (and from the header, if there is one).
    pub fn write<W: Write, H: AsRef<str>>(self, out: W, header: &[H]) -> Result<ExportSummary> {
        let mut w = DqWriter {
            out,
            text: String::new(),
            summary: self.summary,
            separate: !header.is_empty(),
            block: None,
            subject: None,
            predicate: None,
        };
        for line in header {
            w.text.push_str(line.as_ref());
            w.text.push('\n');
        }
        for q in self.sort.finish()? {
            w.fact(q?)?;
        }
        w.finish()
    }
}

/// Bytes of text gathered before they are written out.
const WRITE_CHUNK: usize = 64 << 10;

/// Writes sorted facts as `.dq` statements, one statement per subject: `s p o, o;\n    p o.`
struct DqWriter<W: Write> {
    out: W,
    text: String,
    summary: ExportSummary,
    /// Whether the next block needs a blank line before it.
    separate: bool,
    /// The source of the open block (`Some(None)`: the facts without a source).
    block: Option<Option<String>>,
    /// The subject of the open statement.
    subject: Option<String>,
    /// The predicate being written in the open statement.
    predicate: Option<String>,
}

impl<W: Write> DqWriter<W> {
    fn fact(&mut self, q: Quad) -> Result<()> {
        if self.block.as_ref().is_some_and(|b| *b != q.source) {
            self.close_block();
        }
        let indent = if q.source.is_some() { "    " } else { "" };
        if self.block.is_none() {
            if self.separate {
                self.text.push('\n');
            }
            self.separate = true;
            if let Some(s) = &q.source {
                self.text.push_str("from ");
                write_entity(&mut self.text, s).map_err(fmt_error)?;
                self.text.push_str(" {\n");
            }
            self.block = Some(q.source.clone());
        }
        if self.subject.as_ref() != Some(&q.subject) {
            if self.subject.is_some() {
                self.text.push_str(".\n");
            }
            self.text.push_str(indent);
            write_entity(&mut self.text, &q.subject).map_err(fmt_error)?;
            self.subject = Some(q.subject);
            self.predicate = None;
        }
        if self.predicate.as_ref() != Some(&q.predicate) {
            if self.predicate.is_some() {
                self.text.push_str(";\n");
                self.text.push_str(indent);
                self.text.push_str("    ");
            } else {
                self.text.push(' ');
            }
            if q.predicate == TYPE_PREDICATE {
                self.text.push('a');
            } else {
                write_entity(&mut self.text, &q.predicate).map_err(fmt_error)?;
            }
            self.predicate = Some(q.predicate);
            self.text.push(' ');
        } else {
            self.text.push_str(", ");
        }
        write!(self.text, "{}", q.object).map_err(fmt_error)?;
        self.summary.facts += 1;
        if self.text.len() >= WRITE_CHUNK {
            self.out
                .write_all(self.text.as_bytes())
                .map_err(write_error)?;
            self.text.clear();
        }
        Ok(())
    }

    /// End the open statement and block.
    fn close_block(&mut self) {
        if self.subject.take().is_some() {
            self.text.push_str(".\n");
        }
        self.predicate = None;
        if let Some(Some(_)) = self.block.take() {
            self.text.push_str("}\n");
        }
    }

    fn finish(mut self) -> Result<ExportSummary> {
        self.close_block();
        self.out
            .write_all(self.text.as_bytes())
            .map_err(write_error)?;
        self.out.flush().map_err(write_error)?;
        Ok(self.summary)
    }
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
    write_nquads_from(out, quads.into_iter().map(Ok), ns)
}

/// [`write_nquads`] from a stream that can fail (a database read): the first error stops
/// the export and is returned.
pub(crate) fn write_nquads_from<W: Write, Q: Borrow<Quad>>(
    out: W,
    quads: impl IntoIterator<Item = Result<Q>>,
    ns: &Namespaces,
) -> Result<ExportSummary> {
    ns.check().map_err(Error::Invalid)?;
    let mut summary = ExportSummary::default();
    let mut w = oxttl::NQuadsSerializer::new().for_writer(out);
    for q in quads {
        let q = q?;
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

    /// Facts that spill to many sorted runs give the same text as facts sorted in memory.
    #[test]
    fn spilled_dq_export_is_the_same_text() {
        let mut quads = Vec::new();
        for i in 0..500u32 {
            let q = Quad::new(
                format!("e{}", (i * 7919) % 97),
                "p",
                Value::Int(i64::from(i % 13)),
            );
            quads.push(match i % 4 {
                0 => q,
                1 => q.from_source("s1"),
                _ => q.from_source(format!("s{}", i % 5)),
            });
        }
        quads.push(Quad::new("e1", TYPE_PREDICATE, Value::entity("T")));
        quads.push(quads[0].clone());
        let header = ["type T."];
        let mut in_memory = Vec::new();
        let s1 = write_dq(&mut in_memory, &header, quads.clone()).unwrap();
        let mut dq = DqSort {
            sort: QuadSort::with_limits(dq_order, 2000, 3),
            summary: ExportSummary::default(),
        };
        for q in quads {
            dq.push(q).unwrap();
        }
        let mut spilled = Vec::new();
        let s2 = dq.write(&mut spilled, &header).unwrap();
        assert_eq!(String::from_utf8(in_memory), String::from_utf8(spilled));
        assert_eq!(s1, s2);
        assert!(s1.facts < 502, "duplicates are written once");
    }

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
