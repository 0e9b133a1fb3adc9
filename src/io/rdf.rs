//! RDF in: N-Triples, N-Quads, Turtle and TriG, streamed through `oxttl`.
//!
//! Each RDF quad becomes one fact:
//!
//! | RDF | dossier |
//! |---|---|
//! | IRI | a name, shortened by [`Namespaces`] (`rdf:type` → `type`) |
//! | blank node `_:b` | the entity `_:{blank_prefix}b`, unique to this import |
//! | `xsd:string`, plain literal | string |
//! | `"x"@en` | string `"x"` (the tag is dropped and counted) |
//! | xsd integer types | integer (outside 64 bits: string, counted) |
//! | `xsd:decimal`, `xsd:double`, `xsd:float` | float |
//! | `xsd:boolean` | boolean |
//! | `xsd:date` / `xsd:gYearMonth` / `xsd:gYear` | date of day / month / year precision |
//! | `xsd:dateTime` | date of day precision (time of day dropped, counted) |
//! | anything else, invalid lexical forms | string of the lexical form (counted) |
//! | named graph | the fact's source; the default graph gets [`RdfOptions::source`] |

use super::literal::{value_of_literal, LiteralNotes};
use super::names::Namespaces;
use super::tail::{TailHandle, TailReader};
use super::{read_error, BadRows, Format, ImportSummary, QuadSink};
use crate::diag::Report;
use crate::error::{Error, Result};
use crate::model::{Quad, Value};
use oxrdf::{GraphName, NamedOrBlankNode, Term};
use oxttl::{NQuadsParser, NTriplesParser, TriGParser, TurtleParseError, TurtleParser};
use std::io::{BufRead, BufReader, Read};

mod lines;

/// The RDF syntaxes this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RdfFormat {
    /// N-Triples.
    NTriples,
    /// N-Quads: named graphs become sources.
    NQuads,
    /// Turtle.
    Turtle,
    /// TriG: named graphs become sources.
    TriG,
}

impl RdfFormat {
    /// The RDF syntax of an import format; `None` for GDELT and tables.
    pub fn from_format(f: Format) -> Option<RdfFormat> {
        Some(match f {
            Format::NTriples => RdfFormat::NTriples,
            Format::NQuads => RdfFormat::NQuads,
            Format::Turtle => RdfFormat::Turtle,
            Format::TriG => RdfFormat::TriG,
            _ => return None,
        })
    }

    /// The import format this syntax is.
    pub fn format(self) -> Format {
        match self {
            RdfFormat::NTriples => Format::NTriples,
            RdfFormat::NQuads => Format::NQuads,
            RdfFormat::Turtle => Format::Turtle,
            RdfFormat::TriG => Format::TriG,
        }
    }

    /// Line-based formats resynchronise at the next line after a syntax error, so a bad
    /// line can be skipped; Turtle and TriG cannot tell where the next statement starts.
    fn can_skip_bad(self) -> bool {
        matches!(self, RdfFormat::NTriples | RdfFormat::NQuads)
    }

    fn title(self) -> &'static str {
        match self {
            RdfFormat::NTriples => "N-Triples",
            RdfFormat::NQuads => "N-Quads",
            RdfFormat::Turtle => "Turtle",
            RdfFormat::TriG => "TriG",
        }
    }
}

/// How to read one RDF input.
#[derive(Debug, Clone)]
pub struct RdfOptions {
    /// Which syntax to parse.
    pub format: RdfFormat,
    /// How IRIs become names.
    pub namespaces: Namespaces,
    /// The IRI that relative IRIs in Turtle and TriG resolve against, when the document
    /// sets none with `@base`.  `None` uses `namespaces.base` (so `--base` does both
    /// jobs); set it to resolve without shortening (the W3C tests do).
    pub base_iri: Option<String>,
    /// Blank node `_:b` becomes `_:{blank_prefix}b`.
    pub blank_prefix: String,
    /// The source of facts in the default graph.
    pub source: Option<String>,
    /// Whether a bad line stops the import or is skipped.  Only N-Triples and N-Quads can
    /// skip one: Turtle and TriG always stop at a syntax error.
    pub bad_rows: BadRows,
    /// Use oxttl's own strict checking for N-Triples and N-Quads too.  The default fast
    /// path (one lenient parse per line, plus the checks lenient mode skips, cached per
    /// distinct IRI) rejects every document strict mode rejects, and also enforces
    /// N-Triples' one statement per line, which oxttl does not; it is about 1.5× as fast
    /// on bulk data.  This switch exists to compare the two.
    pub strict: bool,
}

impl RdfOptions {
    /// Options for `format` with everything else off: no namespaces (IRIs stay whole, but
    /// for `rdf:type`), no blank-node prefix, no source, failing at the first bad line,
    /// the fast path.
    pub fn new(format: RdfFormat) -> RdfOptions {
        RdfOptions {
            format,
            namespaces: Namespaces::default(),
            base_iri: None,
            blank_prefix: String::new(),
            source: None,
            bad_rows: BadRows::Fail,
            strict: false,
        }
    }
}

type RdfResult = std::result::Result<oxrdf::Quad, TurtleParseError>;

/// Stream `reader` in `opts.format`, handing one fact per RDF quad to `sink`.
///
/// A syntax error is an [`Error::Import`] naming the file, line, column and the line's
/// text; with [`BadRows::Skip`], N-Triples and N-Quads skip the bad line instead.
pub fn import<R: Read, S: QuadSink + ?Sized>(
    reader: R,
    file: Option<&str>,
    opts: &RdfOptions,
    sink: &mut S,
) -> Result<ImportSummary> {
    // A UTF-8 byte order mark is not part of any RDF syntax, but editors write one.
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    if reader
        .fill_buf()
        .map_err(|e| read_error(file, e))?
        .starts_with(b"\xEF\xBB\xBF")
    {
        reader.consume(3);
    }
    if !opts.strict && opts.format.can_skip_bad() {
        return lines::import(reader, file, opts, sink);
    }
    let reader = TailReader::new(reader);
    let tail = reader.handle();
    let base = opts.base_iri.as_deref().or(opts.namespaces.base.as_deref());
    let bad_base = |e| {
        Error::Invalid(format!(
            "the base '{}' is not an absolute IRI: {e}",
            base.unwrap_or("")
        ))
    };
    let parser: Box<dyn Iterator<Item = RdfResult>> = match opts.format {
        RdfFormat::NTriples => Box::new(
            NTriplesParser::new()
                .for_reader(reader)
                .map(in_default_graph),
        ),
        RdfFormat::NQuads => Box::new(NQuadsParser::new().for_reader(reader)),
        RdfFormat::Turtle => {
            let mut p = TurtleParser::new();
            if let Some(b) = base {
                p = p.with_base_iri(b).map_err(bad_base)?;
            }
            Box::new(p.for_reader(reader).map(in_default_graph))
        }
        RdfFormat::TriG => {
            let mut p = TriGParser::new();
            if let Some(b) = base {
                p = p.with_base_iri(b).map_err(bad_base)?;
            }
            Box::new(p.for_reader(reader))
        }
    };
    let mut mapper = Mapper::new(opts);
    let mut summary = ImportSummary::new(opts.format.format());
    let policy = if opts.format.can_skip_bad() {
        opts.bad_rows
    } else {
        BadRows::Fail
    };
    for item in parser {
        match item {
            Ok(q) => {
                summary.records += 1;
                match mapper.quad(q) {
                    Ok(fact) => {
                        sink.push(fact)?;
                        summary.facts += 1;
                    }
                    // Not a syntax error: the triple can be skipped whatever the format.
                    Err((message, literal)) => {
                        let (line, column, text) = tail.locate_last(&literal);
                        let report = Report::at_line(file, line, column, &text, message);
                        summary.bad_record(opts.bad_rows, report)?;
                    }
                }
            }
            Err(TurtleParseError::Io(e)) => return Err(read_error(file, e)),
            Err(TurtleParseError::Syntax(e)) => {
                let report = syntax_report(file, opts.format, &e, &tail);
                summary.bad_record(policy, report)?;
            }
        }
    }
    summary.literals = mapper.notes;
    Ok(summary)
}

fn in_default_graph(r: std::result::Result<oxrdf::Triple, TurtleParseError>) -> RdfResult {
    r.map(|t| t.in_graph(GraphName::DefaultGraph))
}

fn syntax_report(
    file: Option<&str>,
    format: RdfFormat,
    e: &oxttl::TurtleSyntaxError,
    tail: &TailHandle,
) -> Report {
    let at = e.location().start;
    Report::at_line(
        file,
        at.line as usize + 1,
        at.column as usize + 1,
        &tail.line_at(at.offset),
        format!("{} syntax error: {}", format.title(), e.message()),
    )
}

/// Turns parsed RDF terms into names and values, counting what the model cannot keep.
struct Mapper<'a> {
    ns: &'a Namespaces,
    blank_prefix: &'a str,
    default_source: Option<&'a str>,
    notes: LiteralNotes,
}

impl<'a> Mapper<'a> {
    fn new(opts: &'a RdfOptions) -> Mapper<'a> {
        Mapper {
            ns: &opts.namespaces,
            blank_prefix: &opts.blank_prefix,
            default_source: opts.source.as_deref(),
            notes: LiteralNotes::default(),
        }
    }

    /// The fact of an RDF quad; an error (what is wrong, and the literal's text to
    /// locate it by) when its object cannot be stored (a number that is not finite).
    fn quad(&mut self, q: oxrdf::Quad) -> std::result::Result<Quad, (String, String)> {
        Ok(Quad {
            subject: self.node(q.subject),
            predicate: self.ns.name_of_iri(q.predicate.into_string()),
            object: self.term(q.object)?,
            source: match q.graph_name {
                GraphName::DefaultGraph => self.default_source.map(str::to_string),
                GraphName::NamedNode(n) => Some(self.ns.name_of_iri(n.into_string())),
                GraphName::BlankNode(b) => Some(self.blank(b.as_str())),
            },
        })
    }

    fn node(&self, n: NamedOrBlankNode) -> String {
        match n {
            NamedOrBlankNode::NamedNode(n) => self.ns.name_of_iri(n.into_string()),
            NamedOrBlankNode::BlankNode(b) => self.blank(b.as_str()),
        }
    }

    fn blank(&self, id: &str) -> String {
        let mut s = String::with_capacity(2 + self.blank_prefix.len() + id.len());
        s.push_str("_:");
        s.push_str(self.blank_prefix);
        s.push_str(id);
        s
    }

    fn term(&mut self, t: Term) -> std::result::Result<Value, (String, String)> {
        Ok(match t {
            Term::NamedNode(n) => Value::Entity(self.ns.name_of_iri(n.into_string())),
            Term::BlankNode(b) => Value::Entity(self.blank(b.as_str())),
            Term::Literal(l) => {
                let (text, datatype, language) = l.destruct();
                let shown = text.clone();
                match datatype {
                    // A simple literal (xsd:string) or a language-tagged one.
                    None => value_of_literal(
                        text,
                        super::literal::XSD_STRING,
                        language.is_some(),
                        &mut self.notes,
                    ),
                    Some(dt) => value_of_literal(text, dt.as_str(), false, &mut self.notes),
                }
                .map_err(|e| (e, shown))?
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Date;

    fn run(
        format: RdfFormat,
        text: &str,
        opts: impl FnOnce(&mut RdfOptions),
    ) -> Result<(Vec<Quad>, ImportSummary)> {
        let mut o = RdfOptions::new(format);
        o.namespaces = Namespaces::with_base("http://dossier.example/");
        o.blank_prefix = "i1_".into();
        opts(&mut o);
        let mut out = Vec::new();
        let s = import(text.as_bytes(), Some("t.ttl"), &o, &mut out)?;
        Ok((out, s))
    }

    #[test]
    fn turtle_to_facts() {
        let ttl = r#"@prefix : <http://dossier.example/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
:hurghada_talks a :Talks ; :venue :hurghada ; :date "2020-09-28"^^xsd:date ;
   :label "Hurghada talks"@en ; :rounds 2 ; :score 0.5 ; :public true ;
   :party [ :label "LNA" ] .
"#;
        let (q, s) = run(RdfFormat::Turtle, ttl, |_| {}).unwrap();
        assert_eq!(q.len(), 9);
        assert_eq!(
            q[0],
            Quad::new("hurghada_talks", "type", Value::entity("Talks"))
        );
        assert_eq!(q[2].object, Value::Date(Date::day(2020, 9, 28).unwrap()));
        assert_eq!(q[3].object, Value::string("Hurghada talks"));
        assert_eq!(q[4].object, Value::Int(2));
        assert_eq!(q[5].object, Value::Float(0.5));
        assert_eq!(q[6].object, Value::Bool(true));
        let blank = q[7].object.as_entity().unwrap();
        assert!(blank.starts_with("_:i1_"), "{blank}");
        assert_eq!(q[8].subject, blank);
        assert_eq!(s.records, 9);
        assert_eq!(s.literals.language_tags_dropped, 1);
    }

    #[test]
    fn graphs_are_sources() {
        let nq = "<http://dossier.example/lna> <http://dossier.example/backed_by> <http://dossier.example/egypt> <http://dossier.example/aa_2020> .\n\
                  <http://dossier.example/gna> <http://dossier.example/backed_by> <http://dossier.example/turkey> .\n";
        let (q, _) = run(RdfFormat::NQuads, nq, |o| o.source = Some("manual".into())).unwrap();
        assert_eq!(
            q[0],
            Quad::new("lna", "backed_by", Value::entity("egypt")).from_source("aa_2020")
        );
        assert_eq!(q[1].source.as_deref(), Some("manual"));
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let nt = "<http://a/x> <http://a/p> \"ok\" .\n<http://a/x> <http://a/p> \"unterminated .\n";
        let err = run(RdfFormat::NTriples, nt, |_| {}).unwrap_err();
        let r = err.report().unwrap();
        assert_eq!(r.line, 2);
        assert_eq!(r.line_text, "<http://a/x> <http://a/p> \"unterminated .");
        assert_eq!(r.file.as_deref(), Some("t.ttl"));
        assert!(
            r.message.starts_with("N-Triples syntax error"),
            "{}",
            r.message
        );
    }

    #[test]
    fn bad_lines_can_be_skipped() {
        let nt = "<http://a/x> <http://a/p> \"1\" .\nnonsense\n<http://a/x> <http://a/p> \"2\" .\n";
        let (q, s) = run(RdfFormat::NTriples, nt, |o| o.bad_rows = BadRows::Skip).unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(s.skipped.count, 1);
        assert_eq!(s.skipped.first[0].line, 2);
        // Turtle cannot skip: it fails whatever the policy.
        let ttl = "<http://a/x> <http://a/p> \"1\" .\nnonsense\n";
        assert!(run(RdfFormat::Turtle, ttl, |o| o.bad_rows = BadRows::Skip).is_err());
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        for format in [RdfFormat::NTriples, RdfFormat::Turtle] {
            for strict in [false, true] {
                let (q, _) = run(
                    format,
                    "\u{feff}<http://a/x> <http://a/p> <http://a/o> .\n",
                    |o| o.strict = strict,
                )
                .unwrap();
                assert_eq!(q.len(), 1);
            }
        }
    }

    #[test]
    fn relative_iris_resolve_against_the_base() {
        let (q, _) = run(RdfFormat::Turtle, "<haftar> <commands> <lna> .", |_| {}).unwrap();
        assert_eq!(q[0], Quad::new("haftar", "commands", Value::entity("lna")));
    }
}
