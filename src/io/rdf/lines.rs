//! The fast path for N-Triples and N-Quads: one lenient oxttl parse per line, plus the
//! checks that lenient mode leaves out, done once per distinct IRI.
//!
//! Why: oxttl's strict mode validates every IRI occurrence against RFC 3987, which is
//! half of its parse time on bulk data (measured on the 1M-triple bench file: 1.05 s
//! strict, 0.48 s lenient), yet a bulk file names the same few hundred thousand IRIs
//! millions of times.  Lenient mode skips exactly these checks (oxttl 0.2.5
//! `lexer.rs`/`line_formats.rs`):
//!
//! | skipped in lenient mode | done here instead |
//! |---|---|
//! | IRI syntax (absolute, RFC 3987) | [`Validator`]: `NamedNodeRef::new`, once per distinct IRI |
//! | language tag syntax (BCP 47) | [`Validator`]: once per distinct tag |
//! | `rdf:langString` / `rdf:dirLangString` as an explicit datatype | [`Validator`] |
//! | raw line breaks inside a string | input is split at `\n` and `\r`, one parser per line, so an unterminated string is an error at its line |
//! | `\u` escapes of UTF-16 surrogates | a line with one is parsed strictly |
//!
//! One parser per line also gives every triple its line number for free and enforces
//! N-Triples' "one statement per line".  Any line the fast path refuses is parsed again
//! strictly, so the error message and column are oxttl's own.

use super::{Mapper, RdfFormat, RdfOptions};
use crate::diag::Report;
use crate::error::Result;
use crate::io::{read_error, BadRows, ImportSummary, QuadSink};
use oxrdf::{GraphName, NamedNodeRef, NamedOrBlankNode, Term};
use oxttl::{NQuadsParser, NTriplesParser, TurtleSyntaxError};
use rustc_hash::FxHashSet;
use std::io::{ErrorKind, Read};

/// Input is read in chunks of this size; lines are parsed in place.
const CHUNK: usize = 1 << 20;

/// Validated IRIs kept before the cache is cleared (bounds memory on huge files; a
/// cleared cache only costs re-validation).
const MAX_CACHED: usize = 1 << 20;

pub(super) fn import<R: Read, S: QuadSink + ?Sized>(
    mut reader: R,
    file: Option<&str>,
    opts: &RdfOptions,
    sink: &mut S,
) -> Result<ImportSummary> {
    let mut lines = Lines {
        format: opts.format,
        file,
        policy: opts.bad_rows,
        mapper: Mapper::new(opts),
        validator: Validator::default(),
        summary: ImportSummary::new(opts.format.format()),
        line_no: 0,
        quads: Vec::new(),
    };
    let mut buf = vec![0u8; CHUNK];
    // Bytes of an incomplete last line, moved to the front of `buf` before the next read.
    let mut kept = 0;
    loop {
        if kept == buf.len() {
            // A line longer than the buffer: grow it.
            buf.resize(buf.len() * 2, 0);
        }
        let n = match reader.read(&mut buf[kept..]) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(file, e)),
        };
        let filled = kept + n;
        if n == 0 {
            if filled > 0 {
                lines.line(&buf[..filled], sink)?;
            }
            break;
        }
        let mut start = 0;
        while let Some(i) = memchr::memchr(b'\n', &buf[start..filled]) {
            lines.line(&buf[start..start + i], sink)?;
            start += i + 1;
        }
        buf.copy_within(start..filled, 0);
        kept = filled - start;
    }
    let mut summary = lines.summary;
    summary.literals = lines.mapper.notes;
    Ok(summary)
}

struct Lines<'a> {
    format: RdfFormat,
    file: Option<&'a str>,
    policy: BadRows,
    mapper: Mapper<'a>,
    validator: Validator,
    summary: ImportSummary,
    /// 1-based number of the current line.
    line_no: usize,
    /// The statement(s) of the current line, held until the whole line is known good.
    quads: Vec<oxrdf::Quad>,
}

impl Lines<'_> {
    /// One physical line, without its `\n`.
    fn line<S: QuadSink + ?Sized>(&mut self, line: &[u8], sink: &mut S) -> Result<()> {
        self.line_no += 1;
        let content = line.strip_suffix(b"\r").unwrap_or(line);
        // A lone `\r` also ends a line in N-Triples (EOL ::= [#xD#xA]+); it cannot be
        // inside a string, so splitting at it makes such a string an error, as it must be.
        if memchr::memchr(b'\r', content).is_some() {
            for part in content.split(|&b| b == b'\r') {
                self.statement(part, line, sink)?;
            }
            return Ok(());
        }
        self.statement(content, line, sink)
    }

    /// Parse one line's worth of input (`line` is the whole physical line, for reports).
    fn statement<S: QuadSink + ?Sized>(
        &mut self,
        text: &[u8],
        line: &[u8],
        sink: &mut S,
    ) -> Result<()> {
        self.quads.clear();
        // Lenient mode would join an escaped surrogate pair into one character; strict
        // mode refuses it, so such (rare) lines are parsed strictly.
        let refused = match self.parse(text, has_surrogate_escape(text)) {
            Err(e) => Some(e),
            Ok(()) => self.check_line().err(),
        };
        if let Some(problem) = refused {
            self.quads.clear();
            return self.refuse(text, line, problem);
        }
        for q in self.quads.drain(..) {
            self.summary.records += 1;
            match self.mapper.quad(q) {
                Ok(fact) => {
                    sink.push(fact)?;
                    self.summary.facts += 1;
                }
                Err((message, literal)) => {
                    let text = String::from_utf8_lossy(line);
                    let column = text
                        .find(&literal)
                        .map_or(1, |at| text[..at].chars().count() + 1);
                    let report = Report::at_line(self.file, self.line_no, column, &text, message);
                    self.summary.bad_record(self.policy, report)?;
                }
            }
        }
        Ok(())
    }

    /// Parse `text` into `self.quads`; the first syntax error stops it.
    fn parse(&mut self, text: &[u8], strict: bool) -> std::result::Result<(), Problem> {
        let push = |quads: &mut Vec<oxrdf::Quad>,
                    r: std::result::Result<oxrdf::Quad, TurtleSyntaxError>| {
            r.map(|q| quads.push(q)).map_err(Problem::Syntax)
        };
        match self.format {
            RdfFormat::NQuads => {
                let p = if strict {
                    NQuadsParser::new()
                } else {
                    NQuadsParser::new().lenient()
                };
                for r in p.for_slice(text) {
                    push(&mut self.quads, r)?;
                }
            }
            _ => {
                let p = if strict {
                    NTriplesParser::new()
                } else {
                    NTriplesParser::new().lenient()
                };
                for r in p.for_slice(text) {
                    push(
                        &mut self.quads,
                        r.map(|t| t.in_graph(GraphName::DefaultGraph)),
                    )?;
                }
            }
        }
        Ok(())
    }

    /// What lenient parsing did not check: IRIs, language tags, datatypes, and at most
    /// one statement per line.
    fn check_line(&mut self) -> std::result::Result<(), Problem> {
        if self.quads.len() > 1 {
            return Err(Problem::Other(format!(
                "{} allows one statement per line, this line has {}",
                self.format.title(),
                self.quads.len()
            )));
        }
        for q in &self.quads {
            self.validator.quad(q).map_err(Problem::Other)?;
        }
        Ok(())
    }

    /// Report a refused line: oxttl's strict message and column when strict parsing
    /// fails too, else ours.
    fn refuse(&mut self, text: &[u8], line: &[u8], problem: Problem) -> Result<()> {
        let (column, message) = match problem {
            Problem::Syntax(e) => (
                e.location().start.column as usize + 1,
                e.message().to_string(),
            ),
            Problem::Other(m) => match self.parse(text, true) {
                Err(Problem::Syntax(e)) => (
                    e.location().start.column as usize + 1,
                    e.message().to_string(),
                ),
                _ => (1, m),
            },
        };
        self.quads.clear();
        let text = String::from_utf8_lossy(line);
        let report = Report::at_line(
            self.file,
            self.line_no,
            column,
            &text,
            format!("{} syntax error: {message}", self.format.title()),
        );
        self.summary.bad_record(self.policy, report)
    }
}

enum Problem {
    Syntax(TurtleSyntaxError),
    Other(String),
}

/// Whether `text` has a `\u` escape of a UTF-16 surrogate (`\uD800`..`\uDFFF`).
fn has_surrogate_escape(text: &[u8]) -> bool {
    memchr::memchr_iter(b'\\', text).any(|i| {
        text.get(i + 1) == Some(&b'u')
            && matches!(text.get(i + 2), Some(b'd' | b'D'))
            && matches!(
                text.get(i + 3),
                Some(b'8'..=b'9' | b'a'..=b'f' | b'A'..=b'F')
            )
    })
}

/// The checks strict mode makes on terms, cached by text.
#[derive(Default)]
struct Validator {
    iris: FxHashSet<Box<str>>,
    languages: FxHashSet<Box<str>>,
}

const RDF_LANG_STRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString";
const RDF_DIR_LANG_STRING: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#dirLangString";

impl Validator {
    fn quad(&mut self, q: &oxrdf::Quad) -> std::result::Result<(), String> {
        if let NamedOrBlankNode::NamedNode(n) = &q.subject {
            self.iri(n.as_str())?;
        }
        self.iri(q.predicate.as_str())?;
        match &q.object {
            Term::NamedNode(n) => self.iri(n.as_str())?,
            Term::BlankNode(_) => {}
            Term::Literal(l) => {
                if let Some(tag) = l.language() {
                    self.language(tag)?;
                } else {
                    let dt = l.datatype().as_str();
                    if dt == RDF_LANG_STRING || dt == RDF_DIR_LANG_STRING {
                        return Err(format!(
                            "<{dt}> cannot be written as a datatype; use a language tag"
                        ));
                    }
                    self.iri(dt)?;
                }
            }
        }
        if let GraphName::NamedNode(n) = &q.graph_name {
            self.iri(n.as_str())?;
        }
        Ok(())
    }

    fn iri(&mut self, iri: &str) -> std::result::Result<(), String> {
        if plainly_valid_iri(iri.as_bytes()) || self.iris.contains(iri) {
            return Ok(());
        }
        NamedNodeRef::new(iri).map_err(|e| format!("invalid IRI <{iri}>: {e}"))?;
        if self.iris.len() >= MAX_CACHED {
            self.iris.clear();
        }
        self.iris.insert(iri.into());
        Ok(())
    }

    fn language(&mut self, tag: &str) -> std::result::Result<(), String> {
        if self.languages.contains(tag) {
            return Ok(());
        }
        oxrdf::Literal::new_language_tagged_literal("", tag)
            .map_err(|e| format!("invalid language tag @{tag}: {e}"))?;
        if self.languages.len() >= MAX_CACHED {
            self.languages.clear();
        }
        self.languages.insert(tag.into());
        Ok(())
    }
}

/// A conservative, table-driven test for the shape almost every IRI in bulk data has:
/// `scheme://host[:port]` then path, query and fragment made of unreserved characters,
/// sub-delimiters, `:@/?` and one `#`.  Every IRI it accepts is valid under RFC 3987;
/// anything else (percent escapes, non-ASCII, IPv6 hosts, user info) goes to the full
/// parser.  It is several times cheaper than hashing the IRI for the cache.
fn plainly_valid_iri(s: &[u8]) -> bool {
    const UNRESERVED: u8 = 1; // A-Z a-z 0-9 - . _ ~
    const PATH: u8 = 2; // unreserved, sub-delims ! $ & ' ( ) * + , ; =, and : @ / ?
    const TABLE: [u8; 256] = {
        let mut t = [0u8; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                t[c] = UNRESERVED | PATH;
            } else if matches!(
                b,
                b'!' | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
            ) {
                t[c] = PATH;
            }
            c += 1;
        }
        t
    };
    // scheme ::= ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then "://"
    if !s.first().is_some_and(u8::is_ascii_alphabetic) {
        return false;
    }
    let scheme = s
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        .count();
    let Some(rest) = s[scheme..].strip_prefix(b"://") else {
        return false;
    };
    // host: one or more unreserved characters (a reg-name), optional ":" port digits.
    let host = rest
        .iter()
        .take_while(|&&b| TABLE[b as usize] & UNRESERVED != 0)
        .count();
    if host == 0 {
        return false;
    }
    let mut rest = &rest[host..];
    if let Some(port) = rest.strip_prefix(b":") {
        let digits = port.iter().take_while(|b| b.is_ascii_digit()).count();
        rest = &port[digits..];
    }
    if !matches!(rest.first(), None | Some(b'/' | b'?' | b'#')) {
        return false;
    }
    let mut fragment = false;
    rest.iter().all(|&b| {
        if b == b'#' && !fragment {
            fragment = true;
            true
        } else {
            TABLE[b as usize] & PATH != 0
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::{import as rdf_import, RdfFormat, RdfOptions};
    use crate::io::BadRows;
    use crate::model::Quad;

    /// Both paths must accept and refuse the same lines.
    fn both(text: &str) -> (Result<usize, usize>, Result<usize, usize>) {
        let run = |strict: bool| {
            let mut o = RdfOptions::new(RdfFormat::NTriples);
            o.strict = strict;
            let mut out: Vec<Quad> = Vec::new();
            match rdf_import(text.as_bytes(), None, &o, &mut out) {
                Ok(_) => Ok(out.len()),
                Err(e) => Err(e.report().map_or(0, |r| r.line)),
            }
        };
        (run(false), run(true))
    }

    #[test]
    fn fast_path_agrees_with_strict() {
        let ok = "<http://a/s> <http://a/p> \"x\"@en-GB .\n# comment\n\n<http://a/s> <http://a/p> _:b .\r\n";
        assert_eq!(both(ok), (Ok(2), Ok(2)));
        for (bad, line) in [
            ("<http://a/s> <http://a/p> <o> .\n", 1),
            ("<http://a/s> <http://a/p> \"x\" .\n<http://a/ s> <http://a/p> \"x\" .\n", 2),
            ("<http://a/s> <http://a/p> \"x\"^^<dt> .\n", 1),
            ("<http://a/s> <http://a/p> \"x\"@1 .\n", 1),
            ("<http://a/s> <http://a/p> \"a\nb\" .\n", 1),
            ("<http://a/s> <http://a/p> \"a\rb\" .\n", 1),
            ("<http://a/s> <http://a/p> \"\\uD83D\\uDE00\" .\n", 1),
            ("<http://a/s> <http://a/p> \"x\"^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#langString> .\n", 1),
            ("\n\n<http://a/s> <http://a/p>\n <http://a/o> .\n", 3),
        ] {
            let (fast, strict) = both(bad);
            assert_eq!(fast, Err(line), "fast path on {bad:?}");
            assert!(strict.is_err(), "strict on {bad:?}");
        }
    }

    #[test]
    fn plain_iris_are_valid_iris() {
        use super::plainly_valid_iri;
        for ok in [
            "http://dossier.example/evt_1",
            "https://w3c.github.io/rdf-tests/rdf/rdf11/rdf-turtle/a.ttl#x",
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
            "http://x.org:8080/a/b?q=1&r=(2)#frag/x?y",
            "urn://x",
        ] {
            assert!(plainly_valid_iri(ok.as_bytes()), "{ok}");
            assert!(oxrdf::NamedNodeRef::new(ok).is_ok(), "{ok}");
        }
        // Not plainly valid (the full parser decides): maybe valid, maybe not.
        for other in [
            "s",
            "http://a b/",
            "http://x/%20",
            "urn:isbn:1",
            "http://[::1]/",
            "http://x/#a#b",
            "http://x/é",
            "http://u@x/",
            "http://x:port/",
            "1http://x/",
            "http:///x",
            "http://x/<",
        ] {
            assert!(!plainly_valid_iri(other.as_bytes()), "{other}");
        }
    }

    #[test]
    fn one_statement_per_line() {
        let two =
            "<http://a/s> <http://a/p> <http://a/o> . <http://a/s> <http://a/p> <http://a/o2> .\n";
        assert_eq!(both(two).0, Err(1));
    }

    #[test]
    fn last_line_without_newline_and_long_lines() {
        let long = "x".repeat(3 << 20);
        let text =
            format!("<http://a/s> <http://a/p> \"{long}\" .\n<http://a/s> <http://a/p> \"end\" .");
        let mut o = RdfOptions::new(RdfFormat::NTriples);
        o.bad_rows = BadRows::Fail;
        let mut out: Vec<Quad> = Vec::new();
        rdf_import(text.as_bytes(), None, &o, &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].object.as_str().map(str::len), Some(3 << 20));
    }
}
