//! Knowledge in and out: converters between external formats and dossier's facts.
//!
//! Every importer reads a stream (never the whole file), turns each record into
//! [`Quad`]s and hands them one by one to a [`QuadSink`]; it returns an
//! [`ImportSummary`] that says what was read and what had to be bent to fit the model
//! (language tags dropped, times of day dropped, bad rows skipped...).  Nothing here knows
//! about storage: the `Db` supplies the sink, which batches the quads into the store.
//!
//! | format | module | records |
//! |---|---|---|
//! | N-Triples, N-Quads, Turtle, TriG | [`rdf`] | triples; IRIs become names ([`Namespaces`]) |
//! | GDELT 1.0 / 2.0 event exports | [`gdelt`] | one event per row, built-in mapping |
//! | CSV / TSV + a mapping file | [`table`] | one row → the facts the [`Mapping`] describes |
//!
//! Export goes the other way ([`export`]): quads to `.dq` text that loads again, or to
//! N-Quads.
//!
//! # How the `Db` and the CLI use it
//!
//! ```no_run
//! use dossier::io::{import_file, BadRows, ImportOptions, Namespaces};
//! # fn main() -> dossier::Result<()> {
//! let opts = ImportOptions {
//!     namespaces: Namespaces::with_base("http://dossier.example/"),
//!     blank_prefix: "i7_".into(), // unique per import: blank nodes stay distinct
//!     bad_rows: BadRows::Skip,   // `--skip-bad`
//!     ..ImportOptions::default()
//! };
//! let mut batch = Vec::new();
//! let summary = import_file("data.nt".as_ref(), &opts, &mut |q| {
//!     batch.push(q); // the Db writes a full batch to the store here
//!     Ok(())
//! })?;
//! println!("{summary}");
//! # Ok(()) }
//! ```
//!
//! `dossier import FILE [--base IRI] [--format F] [--mapping FILE] [--source NAME]
//! [--skip-bad]` maps one to one onto [`ImportOptions`] (`--format` parses with
//! [`Format::from_str`]; `--base` both shortens IRIs and resolves relative ones in
//! Turtle).  What the caller must know:
//!
//! * On an error, the facts of earlier records have already reached the sink; a `Db`
//!   that wants all-or-nothing imports must stage them (the error names the file, line
//!   and column, and its `Display` is the caret report the CLI prints).
//! * Blank nodes become `_:{blank_prefix}{label}`: pick a prefix no earlier import used
//!   (an import counter: `i7_`), or two files' `_:b0` would merge.
//! * The importers call the sink once per fact, in file order; batching is the sink's job.
//!
//! Export (`dossier export`, through `Db::export`):
//!
//! ```no_run
//! use dossier::io::{export, Namespaces};
//! # fn main() -> dossier::Result<()> {
//! # let facts: Vec<dossier::Quad> = Vec::new();
//! let schema = ["type Actor.", "pred backed_by: Actor -> Actor."]; // header, verbatim
//! export::write_dq(std::io::stdout(), &schema, facts.clone())?; // sorts, groups by source
//! export::write_nquads(std::io::stdout(), &facts, &Namespaces::with_base("http://dossier.example/"))?;
//! # Ok(()) }
//! ```

pub mod export;
pub mod gdelt;
mod literal;
mod names;
pub mod rdf;
mod sort;
mod summary;
pub mod table;
mod tail;

pub use export::{DqSort, ExportFormat, ExportSummary};
pub use literal::LiteralNotes;
pub use names::Namespaces;
pub use summary::{ImportSummary, Skipped, MAX_LISTED};
pub use table::Mapping;

use crate::error::{Error, Result};
use crate::model::Quad;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Where imported facts go.  Returning an error stops the import and is passed through
/// (a storage failure, a cancelled import).
///
/// Implemented for closures `FnMut(Quad) -> Result<()>` and for `Vec<Quad>` (tests, small
/// files).
pub trait QuadSink {
    /// Take one fact; an error stops the import and is returned by the importer as is.
    fn push(&mut self, quad: Quad) -> Result<()>;
}

impl<F: FnMut(Quad) -> Result<()>> QuadSink for F {
    fn push(&mut self, quad: Quad) -> Result<()> {
        self(quad)
    }
}

impl QuadSink for Vec<Quad> {
    fn push(&mut self, quad: Quad) -> Result<()> {
        Vec::push(self, quad);
        Ok(())
    }
}

/// What to do with a record that cannot be read (a GDELT row with 40 columns, a CSV cell
/// "abc" where an integer is declared, an N-Triples line with a syntax error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadRows {
    /// Stop at the first one with [`Error::Import`] naming its line.  Facts of earlier
    /// records have already gone to the sink: the caller decides whether to keep them.
    #[default]
    Fail,
    /// Skip it (none of its facts reach the sink) and list it in
    /// [`ImportSummary::skipped`].  Turtle and TriG cannot resynchronise after a syntax
    /// error, so they always fail.
    Skip,
}

/// The formats [`import_file`] knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// N-Triples (`.nt`): one triple per line.
    NTriples,
    /// N-Quads (`.nq`): one triple per line, with an optional graph, which becomes the
    /// fact's source.
    NQuads,
    /// Turtle (`.ttl`, `.n3`).
    Turtle,
    /// TriG (`.trig`): Turtle with named graphs, which become sources.
    TriG,
    /// GDELT 1.0 or 2.0 event export (tab-separated, no header).
    Gdelt,
    /// CSV or TSV read through a mapping file.
    Table,
}

impl Format {
    /// The format a file name suggests: `.nt`, `.nq`, `.ttl`/`.n3`, `.trig`,
    /// `*.export.CSV` (GDELT's own naming), `.csv`/`.tsv`/`.txt` (a table).
    pub fn from_path(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        if name.ends_with(".export.csv") || name.ends_with(".mentions.csv") {
            return Some(Format::Gdelt);
        }
        let ext = name.rsplit_once('.')?.1;
        Some(match ext {
            "nt" | "ntriples" => Format::NTriples,
            "nq" | "nquads" => Format::NQuads,
            "ttl" | "turtle" | "n3" => Format::Turtle,
            "trig" => Format::TriG,
            "csv" | "tsv" | "tab" | "txt" => Format::Table,
            _ => return None,
        })
    }

    /// Whether the first line of a table file looks like a GDELT event row (57, 58 or 61
    /// tab-separated fields, a numeric id, an 8-digit date), so `events.csv` downloaded
    /// from GDELT imports without `--format gdelt`.
    pub fn looks_like_gdelt(first_line: &[u8]) -> bool {
        let fields: Vec<&[u8]> = first_line.split(|&b| b == b'\t').collect();
        let digits = |f: &[u8]| !f.is_empty() && f.iter().all(u8::is_ascii_digit);
        matches!(fields.len(), 57 | 58 | 61)
            && digits(fields[0])
            && fields[1].len() == 8
            && digits(fields[1])
    }

    /// The format's name, as `--format` accepts it and `Display` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Format::NTriples => "ntriples",
            Format::NQuads => "nquads",
            Format::Turtle => "turtle",
            Format::TriG => "trig",
            Format::Gdelt => "gdelt",
            Format::Table => "table",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Format {
    type Err = String;

    /// The names `--format` accepts.
    fn from_str(s: &str) -> std::result::Result<Format, String> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "nt" | "ntriples" | "n-triples" => Format::NTriples,
            "nq" | "nquads" | "n-quads" => Format::NQuads,
            "ttl" | "turtle" | "n3" => Format::Turtle,
            "trig" => Format::TriG,
            "gdelt" => Format::Gdelt,
            "csv" | "tsv" | "table" => Format::Table,
            other => {
                return Err(format!(
                    "unknown format '{other}' (expected nt, nq, ttl, trig, gdelt, csv or tsv)"
                ))
            }
        })
    }
}

/// Everything `dossier import` can say about one import.
#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    /// `--format`; `None` guesses from the file name (and, for tables without a mapping,
    /// from whether the first line is a GDELT row).
    pub format: Option<Format>,
    /// `--base` (and prefixes): how IRIs become names.  The base is also the base IRI
    /// that relative IRIs in Turtle resolve against.
    pub namespaces: Namespaces,
    /// `--mapping FILE`: how a CSV/TSV's columns become facts.
    pub mapping: Option<PathBuf>,
    /// `--source NAME`: the source of every imported fact that does not bring its own
    /// (RDF facts in the default graph, every GDELT fact, table rows without a source
    /// column).
    pub source: Option<String>,
    /// `--skip-bad`.
    pub bad_rows: BadRows,
    /// Blank nodes become entities `_:{blank_prefix}{label}`.  Give each import its own
    /// prefix so that `_:b0` of two files stay two things.
    pub blank_prefix: String,
    /// The longest line (or CSV record) the file may have, in bytes: a longer one fails the
    /// import at once, naming the line, instead of filling the memory (`None`: the
    /// database's [`crate::Options::max_statement_bytes`] through `Db::import`, else
    /// [`crate::limits::MAX_STATEMENT`]).
    pub max_line_bytes: Option<usize>,
}

/// Import a file, choosing the importer by [`ImportOptions::format`] or the file name.
pub fn import_file<S: QuadSink + ?Sized>(
    path: &Path,
    opts: &ImportOptions,
    sink: &mut S,
) -> Result<ImportSummary> {
    import_file_with_progress(path, opts, &mut |_| {}, sink)
}

/// [`import_file`], calling `progress` with the number of bytes read so far (for a
/// progress bar; the file's length is the total).
pub fn import_file_with_progress<S: QuadSink + ?Sized>(
    path: &Path,
    opts: &ImportOptions,
    progress: &mut dyn FnMut(u64),
    sink: &mut S,
) -> Result<ImportSummary> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let counted = Counted {
        inner: file,
        read: 0,
        report: progress,
    };
    let mut reader = BufReader::with_capacity(1 << 16, counted);
    let name = path.display().to_string();
    let format = match opts.format.or_else(|| Format::from_path(path)) {
        Some(Format::Table) if opts.mapping.is_none() => {
            let first = peek_line(&mut reader).map_err(|e| Error::io(path, e))?;
            if Format::looks_like_gdelt(&first) {
                Format::Gdelt
            } else {
                return Err(Error::Invalid(format!(
                    "{name}: a CSV/TSV file needs --mapping FILE (or --format gdelt for GDELT events)"
                )));
            }
        }
        Some(f) => f,
        None if opts.mapping.is_some() => Format::Table,
        None => {
            return Err(Error::Invalid(format!(
                "{name}: cannot tell the format from the file name; use --format \
                 (nt, nq, ttl, trig, gdelt, csv, tsv)"
            )))
        }
    };
    import_reader(reader, format, Some(&name), opts, sink)
}

/// Import from any reader in a known format; `file` names it in error reports.
pub fn import_reader<R: Read, S: QuadSink + ?Sized>(
    reader: R,
    format: Format,
    file: Option<&str>,
    opts: &ImportOptions,
    sink: &mut S,
) -> Result<ImportSummary> {
    let max_line = opts.max_line_bytes.unwrap_or(crate::limits::MAX_STATEMENT);
    let reader = LineLimit::new(reader, max_line);
    match format {
        Format::NTriples | Format::NQuads | Format::Turtle | Format::TriG => {
            opts.namespaces.check().map_err(Error::Invalid)?;
            let rdf_opts = rdf::RdfOptions {
                format: rdf::RdfFormat::from_format(format).unwrap_or(rdf::RdfFormat::NTriples),
                namespaces: opts.namespaces.clone(),
                base_iri: None,
                blank_prefix: opts.blank_prefix.clone(),
                source: opts.source.clone(),
                bad_rows: opts.bad_rows,
                strict: false,
            };
            rdf::import(reader, file, &rdf_opts, sink)
        }
        Format::Gdelt => {
            let g = gdelt::GdeltOptions {
                source: opts.source.clone(),
                bad_rows: opts.bad_rows,
            };
            gdelt::import(reader, file, &g, sink)
        }
        Format::Table => {
            let path = opts.mapping.as_ref().ok_or_else(|| {
                Error::Invalid("importing a CSV/TSV file needs a mapping file (--mapping)".into())
            })?;
            let mapping = Mapping::load(path)?;
            let is_tsv = file.is_some_and(|f| {
                let f = f.to_ascii_lowercase();
                f.ends_with(".tsv") || f.ends_with(".tab")
            });
            let t = table::TableOptions {
                source: opts.source.clone(),
                bad_rows: opts.bad_rows,
                default_delimiter: if is_tsv { b'\t' } else { b',' },
                max_record_bytes: max_line,
            };
            table::import(reader, file, &mapping, &t, sink)
        }
    }
}

/// A reader that reports how many bytes went through it.
struct Counted<'p, R> {
    inner: R,
    read: u64,
    report: &'p mut dyn FnMut(u64),
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        (self.report)(self.read);
        Ok(n)
    }
}

/// A reader that fails with [`LineTooLong`] as soon as a line grows past a limit, so that
/// no importer ever buffers more than that for one line (`/dev/zero` as N-Triples, a
/// 100 MB literal).
pub(crate) struct LineLimit<R> {
    inner: R,
    max: usize,
    /// Bytes of the current line so far, and its 1-based number.
    len: usize,
    line: u64,
}

/// The error a [`LineLimit`] reader returns (inside an `io::Error` of kind `InvalidData`).
#[derive(Debug)]
pub struct LineTooLong {
    /// The 1-based line number.
    pub line: u64,
    /// The limit it went past, in bytes.
    pub max: usize,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {} is longer than {}, the longest line an import may have \
             (raise it with --max-statement or Options::max_statement_bytes)",
            self.line,
            crate::limits::format_size(self.max as u64)
        )
    }
}

impl std::error::Error for LineTooLong {}

impl<R> LineLimit<R> {
    pub(crate) fn new(inner: R, max: usize) -> LineLimit<R> {
        LineLimit {
            inner,
            max: max.max(1),
            len: 0,
            line: 1,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Never hand out more than the rest of the allowance plus one byte, so the reader
        // above sees the overlong line fail before it has buffered it.
        let room = (self.max - self.len.min(self.max)).saturating_add(1);
        let want = buf.len().min(room.max(1));
        let n = self.inner.read(&mut buf[..want])?;
        // With at most `room` bytes read, only the bytes after the last line break can
        // take a line past the limit.
        match memchr::memrchr(b'\n', &buf[..n]) {
            Some(last) => {
                self.line += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
                self.len = n - last - 1;
            }
            None => self.len += n,
        }
        if self.len > self.max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                LineTooLong {
                    line: self.line,
                    max: self.max,
                },
            ));
        }
        Ok(n)
    }
}

/// The first line of a buffered reader, without consuming it.
fn peek_line<R: Read>(reader: &mut BufReader<R>) -> std::io::Result<Vec<u8>> {
    use std::io::BufRead;
    let buf = reader.fill_buf()?;
    let end = buf.iter().position(|&b| b == b'\n').unwrap_or(buf.len());
    Ok(buf[..end]
        .strip_suffix(b"\r")
        .unwrap_or(&buf[..end])
        .to_vec())
}

/// An I/O error while reading an import: named after the file, or `<input>`.
pub(crate) fn read_error(file: Option<&str>, e: std::io::Error) -> Error {
    Error::io(file.unwrap_or("<input>"), e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_line_fails_at_the_limit() {
        // `import /dev/zero --format nt` grew past 8 GB before the limit.
        let opts = ImportOptions {
            max_line_bytes: Some(1 << 16),
            ..ImportOptions::default()
        };
        for format in [Format::NTriples, Format::Turtle, Format::Gdelt] {
            // GDELT: a line of 57 tab-separated empty fields is a row it skips.
            let first = if format == Format::Gdelt {
                "\t".repeat(57) + "\n"
            } else {
                "<http://a/s> <http://a/p> <http://a/o> .\n".to_string()
            };
            let input = Read::chain(first.as_bytes(), std::io::repeat(b'x'));
            let mut out: Vec<Quad> = Vec::new();
            let err = import_reader(input, format, Some("z"), &opts, &mut out).unwrap_err();
            let Error::Io { source, .. } = &err else {
                panic!("{format:?}: {err}");
            };
            let too_long = source
                .get_ref()
                .and_then(|e| e.downcast_ref::<LineTooLong>())
                .unwrap_or_else(|| panic!("{format:?}: {err}"));
            assert_eq!((too_long.line, too_long.max), (2, 1 << 16), "{format:?}");
            assert!(
                err.to_string().contains("line 2 is longer than 64 KiB"),
                "{err}"
            );
        }
    }

    #[test]
    fn formats_from_names() {
        let f = |p: &str| Format::from_path(Path::new(p));
        assert_eq!(f("data.nt"), Some(Format::NTriples));
        assert_eq!(f("x/mondial-europe.n3"), Some(Format::Turtle));
        assert_eq!(f("20191024143000.export.CSV"), Some(Format::Gdelt));
        assert_eq!(f("acled.csv"), Some(Format::Table));
        assert_eq!(f("README"), None);
        assert_eq!("TTL".parse::<Format>(), Ok(Format::Turtle));
        assert!("xml".parse::<Format>().is_err());
    }

    #[test]
    fn sniffs_gdelt_rows() {
        let mut row = vec!["881990832", "20181024"];
        row.extend(std::iter::repeat_n("", 59));
        assert!(Format::looks_like_gdelt(row.join("\t").as_bytes()));
        assert!(!Format::looks_like_gdelt(b"event_id,date,actor"));
    }
}
