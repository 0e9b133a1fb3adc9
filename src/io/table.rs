//! CSV and TSV in, through a mapping file that says which facts each row yields.
//!
//! # The mapping file
//!
//! TOML, because it is easy to read and write by hand and reports its own syntax errors
//! with a place.  A `[table]` section describes the file; each `[[fact]]` is one fact
//! per row (or several, with `split`).  Text in `{...}` is a template reference to a
//! column, by header name or 1-based position, optionally piped through filters
//! (`slug`, `lower`, `upper`); `{{` and `}}` are literal braces.  `examples/acled/` has a
//! complete example.
//!
//! ```toml
//! [table]
//! delimiter = ","                 # one character or "tab"; default "," (tab for .tsv)
//! header = true                   # the first row names the columns (default true)
//! # columns = ["id", "date"]      # names for the columns (overrides the header)
//! subject = "acled:{event_id_cnty}"  # the entity each row describes (template)
//! source = "acled"                # source of every fact (template; default --source)
//! # skip_empty = true             # default for the facts below
//!
//! [[fact]]
//! predicate = "type"              # "a" works too
//! column = "event_type"           # shorthand for value = "{event_type}"
//! kind = "entity"                 # string (default), int, float, bool, date, entity
//! map = { "Battles" = "Offensive", "Protests" = "Protest" }   # replace whole values
//!
//! [[fact]]
//! predicate = "date"
//! column = "event_date"
//! kind = "date"
//! date_format = "dmy"             # iso (default), ymd, dmy, mdy
//!
//! [[fact]]
//! predicate = "party"
//! value = "actor:{assoc_actor_1|slug}"
//! kind = "entity"
//! split = ";"                     # one fact per ';'-separated part of the cells used
//!
//! [[fact]]
//! subject = "actor:{actor1|slug}" # a fact about another entity
//! predicate = "label"
//! column = "actor1"
//! ```
//!
//! A fact is skipped when a cell it uses is empty (`skip_empty = false` makes that an
//! error for non-string kinds, and an empty string for strings).  A cell that does not
//! convert to the declared kind makes the row bad; [`TableOptions::bad_rows`] decides
//! whether that fails the import or skips the row (none of its facts are kept).

mod mapping;
mod template;

pub use mapping::Mapping;

use super::literal::LiteralNotes;
use super::{BadRows, Format, ImportSummary, QuadSink};
use crate::diag::Report;
use crate::error::{Error, Result};
use crate::model::{Kind, Quad, TYPE_PREDICATE};
use mapping::FactRule;
use std::cell::Cell;
use std::io::Read;
use std::rc::Rc;
use template::{convert, DateFormat, Template};

/// How to read one table file.
#[derive(Debug, Clone)]
pub struct TableOptions {
    /// Source of facts the mapping gives no source for.
    pub source: Option<String>,
    /// Whether a row that cannot be read (or converted as the mapping says) stops the import
    /// or is skipped.
    pub bad_rows: BadRows,
    /// Delimiter when the mapping names none (`,`, or tab for `.tsv` files).
    pub default_delimiter: u8,
    /// The longest record (row) in bytes; a longer one fails the import.
    pub max_record_bytes: usize,
}

impl Default for TableOptions {
    fn default() -> TableOptions {
        TableOptions {
            source: None,
            bad_rows: BadRows::Fail,
            default_delimiter: b',',
            max_record_bytes: crate::limits::MAX_STATEMENT,
        }
    }
}

/// A [`FactRule`] with its columns resolved against the file's header.
struct Plan<'m> {
    rule: &'m FactRule,
    subject: Template<usize>,
    predicate: Template<usize>,
    value: Template<usize>,
    source: Option<Template<usize>>,
}

/// Stream a table, handing the facts of each row to `sink`.
pub fn import<R: Read, S: QuadSink + ?Sized>(
    reader: R,
    file: Option<&str>,
    mapping: &Mapping,
    opts: &TableOptions,
    sink: &mut S,
) -> Result<ImportSummary> {
    let delimiter = mapping.delimiter.unwrap_or(opts.default_delimiter);
    let quotes = Rc::new(Cell::new(Quoting::new(delimiter)));
    let reader = QuoteTracker {
        inner: reader,
        state: Rc::clone(&quotes),
        max_record: opts.max_record_bytes,
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(reader);
    let csv_error = |e: csv::Error| match quotes.get().too_long {
        Some(line) => record_too_long(file, line, opts.max_record_bytes),
        None => csv_error(file, e, delimiter),
    };
    let mut summary = ImportSummary::new(Format::Table);
    let mut record = csv::StringRecord::new();
    let mut header: Vec<String> = Vec::new();
    if mapping.header {
        match csv.read_record(&mut record) {
            Ok(true) => {
                header = record
                    .iter()
                    .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
                    .collect()
            }
            Ok(false) => return unclosed_quote(file, &quotes).map(|()| summary),
            Err(e) => return Err(csv_error(e)),
        }
    }
    if let Some(cols) = &mapping.columns {
        header = cols.clone();
    }
    let table_source = mapping
        .source
        .as_ref()
        .map(|s| s.value.resolve(&header).map_err(|m| s.error(m)))
        .transpose()?;
    let plans = mapping
        .facts
        .iter()
        .map(|rule| -> Result<Plan<'_>> {
            let resolve = |t: &mapping::Located<Template<String>>| {
                t.value.resolve(&header).map_err(|m| t.error(m))
            };
            Ok(Plan {
                rule,
                subject: resolve(&rule.subject)?,
                predicate: resolve(&rule.predicate)?,
                value: resolve(&rule.value)?,
                source: rule.source.as_ref().map(resolve).transpose()?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let mut row = RowConverter {
        notes: LiteralNotes::default(),
        out: Vec::new(),
    };
    let default_source = table_source.as_ref();
    let mut bytes = csv::ByteRecord::new();
    loop {
        match csv.read_byte_record(&mut bytes) {
            Ok(false) => break,
            Ok(true) => match csv::StringRecord::from_byte_record(std::mem::take(&mut bytes)) {
                Ok(r) => record = r,
                Err(e) => {
                    unclosed_quote(file, &quotes)?;
                    summary.records += 1;
                    let report = not_utf8(file, e, delimiter);
                    summary.bad_record(opts.bad_rows, report)?;
                    continue;
                }
            },
            Err(e) => match e.kind() {
                csv::ErrorKind::Io(_) => return Err(csv_error(e)),
                _ => {
                    unclosed_quote(file, &quotes)?;
                    summary.records += 1;
                    let line = e.position().map_or(0, |p| p.line() as usize);
                    let report = Report::at_line(file, line, 1, "", format!("unreadable row: {e}"));
                    summary.bad_record(opts.bad_rows, report)?;
                    continue;
                }
            },
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        summary.records += 1;
        row.out.clear();
        match row.facts(&record, &plans, default_source, opts.source.as_deref()) {
            Ok(()) => {
                for q in row.out.drain(..) {
                    sink.push(q)?;
                    summary.facts += 1;
                }
            }
            Err((field, message)) => {
                // A row made of the rest of the file by a quote never closed: say that.
                unclosed_quote(file, &quotes)?;
                let line = record.position().map_or(0, |p| p.line() as usize);
                let text = record
                    .iter()
                    .collect::<Vec<_>>()
                    .join(&(delimiter as char).to_string());
                let column = record
                    .iter()
                    .take(field)
                    .map(|c| c.chars().count() + 1)
                    .sum::<usize>()
                    + 1;
                let report = Report::at_line(file, line, column, &text, message);
                summary.bad_record(opts.bad_rows, report)?;
            }
        }
    }
    unclosed_quote(file, &quotes)?;
    summary.literals = row.notes;
    Ok(summary)
}

/// A quote opened and never closed swallows every row after it into one field: that is an
/// error naming the line of the opening quote (whatever `--skip-bad` says: the rows after
/// it cannot be told apart).
fn unclosed_quote(file: Option<&str>, quotes: &Cell<Quoting>) -> Result<()> {
    let q = quotes.get();
    if !q.eof || !q.in_quotes || q.quote_pending {
        return Ok(());
    }
    let mut r = Report::at_line(
        file,
        q.opened_line as usize,
        1,
        "",
        "a quoted field opened on this line is never closed: the rest of the file would be one field",
    );
    r.hint = Some("close the quote, or double a quote meant literally (\"\")".into());
    Err(Error::Import(Box::new(r)))
}

fn record_too_long(file: Option<&str>, line: u64, max: usize) -> Error {
    let mut r = Report::at_line(
        file,
        line as usize,
        1,
        "",
        format!(
            "the record starting on this line is longer than {}, the longest record an import may have",
            crate::limits::format_size(max as u64)
        ),
    );
    r.hint = Some(
        "a quote left open makes the rest of the file one record; otherwise raise the limit \
         with --max-statement or Options::max_statement_bytes"
            .into(),
    );
    Error::Import(Box::new(r))
}

/// A row that is not UTF-8: the line and column of the first bad byte, with the row.
fn not_utf8(file: Option<&str>, e: csv::FromUtf8Error, delimiter: u8) -> Report {
    let field = e.utf8_error().field();
    let valid = e.utf8_error().valid_up_to();
    let record = e.into_byte_record();
    let line = record.position().map_or(0, |p| p.line() as usize);
    let text: Vec<String> = record
        .iter()
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let column = record
        .iter()
        .take(field)
        .map(|f| String::from_utf8_lossy(f).chars().count() + 1)
        .sum::<usize>()
        + record
            .get(field)
            .and_then(|f| f.get(..valid))
            .map_or(0, |f| String::from_utf8_lossy(f).chars().count())
        + 1;
    let bad = record
        .get(field)
        .and_then(|f| f.get(valid))
        .map_or(String::new(), |b| format!(" (byte 0x{b:02X})"));
    Report::at_line(
        file,
        line,
        column,
        &text.join(&(delimiter as char).to_string()),
        format!("the row is not valid UTF-8{bad}"),
    )
}

/// Where the CSV quoting of the bytes read so far stands (the rules of the csv crate's
/// reader: a quote opens a quoted field only at the start of a field, `""` inside one is a
/// quote, and text after the closing quote joins the field).
#[derive(Debug, Clone, Copy)]
struct Quoting {
    delimiter: u8,
    at_field_start: bool,
    in_quotes: bool,
    /// Inside quotes, the last byte was a quote: the next decides whether it closed them.
    quote_pending: bool,
    /// The current 1-based line, and the line where the open quote started.
    line: u64,
    opened_line: u64,
    /// Bytes of the current record, and the line it started on.
    record_bytes: usize,
    record_line: u64,
    /// The line where a record went past the limit.
    too_long: Option<u64>,
    /// The input has ended.
    eof: bool,
}

impl Quoting {
    fn new(delimiter: u8) -> Quoting {
        Quoting {
            delimiter,
            at_field_start: true,
            in_quotes: false,
            quote_pending: false,
            line: 1,
            opened_line: 0,
            record_bytes: 0,
            record_line: 1,
            too_long: None,
            eof: false,
        }
    }

    fn byte(&mut self, b: u8) {
        if b == b'\n' {
            self.line += 1;
        }
        if self.in_quotes {
            if !self.quote_pending {
                self.quote_pending = b == b'"';
                return;
            }
            self.quote_pending = false;
            if b == b'"' {
                return; // `""`: a quote inside the field
            }
            self.in_quotes = false;
        }
        if b == b'"' && self.at_field_start {
            self.in_quotes = true;
            self.opened_line = self.line;
            self.at_field_start = false;
        } else if b == b'\n' || b == b'\r' {
            self.at_field_start = true;
            self.record_bytes = 0;
            self.record_line = self.line;
        } else {
            self.at_field_start = b == self.delimiter;
        }
    }
}

/// Passes bytes to the CSV reader while following their quoting ([`Quoting`]), and fails
/// a record longer than the limit (a quote left open makes the rest of the file one).
struct QuoteTracker<R> {
    inner: R,
    state: Rc<Cell<Quoting>>,
    max_record: usize,
}

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut q = self.state.get();
        q.eof |= n == 0;
        for &b in &buf[..n] {
            q.byte(b);
            q.record_bytes += 1;
        }
        if q.record_bytes > self.max_record {
            q.too_long = Some(q.record_line);
            self.state.set(q);
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "a record is too long",
            ));
        }
        self.state.set(q);
        Ok(n)
    }
}

fn csv_error(file: Option<&str>, e: csv::Error, delimiter: u8) -> Error {
    let line = e.position().map_or(1, |p| p.line() as usize);
    match e.into_kind() {
        csv::ErrorKind::Io(io) => super::read_error(file, io),
        other => Error::Import(Box::new(Report::at_line(
            file,
            line,
            1,
            "",
            format!(
                "cannot read the table (delimiter '{}'): {other:?}",
                delimiter as char
            ),
        ))),
    }
}

/// A problem with a row: the field it is in, and what is wrong.
type RowError = (usize, String);

struct RowConverter {
    notes: LiteralNotes,
    out: Vec<Quad>,
}

impl RowConverter {
    /// All facts of one row into `self.out`, or the first problem.
    fn facts(
        &mut self,
        record: &csv::StringRecord,
        plans: &[Plan<'_>],
        table_source: Option<&Template<usize>>,
        default_source: Option<&str>,
    ) -> std::result::Result<(), RowError> {
        let cell = |i: usize| record.get(i).map_or("", str::trim);
        for plan in plans {
            let rule = plan.rule;
            // Columns past the end of a short row are missing, not empty: that is an error.
            let mut used = plan
                .subject
                .columns()
                .chain(plan.predicate.columns())
                .chain(plan.value.columns());
            if let Some(i) = used.find(|&i| i >= record.len()) {
                return Err((
                    record.len(),
                    format!(
                        "the row has {} fields; the mapping reads field {}",
                        record.len(),
                        i + 1
                    ),
                ));
            }
            let empty = |t: &Template<usize>| t.columns().any(|i| cell(i).is_empty());
            if rule.skip_empty && (empty(&plan.subject) || empty(&plan.predicate)) {
                continue;
            }
            let subject = plan.subject.render(cell);
            let mut predicate = plan.predicate.render(cell);
            if predicate == "a" {
                predicate = TYPE_PREDICATE.to_string();
            }
            let source = match plan.source.as_ref().or(table_source) {
                Some(t) if !empty(t) => Some(t.render(cell)),
                Some(_) => None,
                None => default_source.map(str::to_string),
            };
            if subject.is_empty() || predicate.is_empty() {
                let field = plan.subject.columns().next().unwrap_or(0);
                return Err((field, "the subject or predicate of a fact is empty".into()));
            }
            for (field, value) in values(plan, record, &cell) {
                let Some(value) = value else { continue };
                let value = match &rule.map {
                    Some(m) => m.get(value.trim()).cloned().unwrap_or(value),
                    None => value,
                };
                let v = convert_cell(value, rule.kind, rule.dates, &mut self.notes)
                    .map_err(|m| (field, m))?;
                self.out.push(Quad {
                    subject: subject.clone(),
                    predicate: predicate.clone(),
                    object: v,
                    source: source.clone(),
                });
            }
        }
        Ok(())
    }
}

/// The rendered values of a fact for one row: one, or one per part with `split`.  Each
/// comes with the field it is mostly made of (for error columns); `None` is a value to
/// skip (an empty cell under `skip_empty`).
fn values<'c>(
    plan: &Plan<'_>,
    record: &'c csv::StringRecord,
    cell: &impl Fn(usize) -> &'c str,
) -> Vec<(usize, Option<String>)> {
    let rule = plan.rule;
    let field = plan.value.columns().next().unwrap_or(0);
    let Some(sep) = &rule.split else {
        let skip = rule.skip_empty && plan.value.columns().any(|i| cell(i).is_empty());
        return vec![(field, (!skip).then(|| plan.value.render(cell)))];
    };
    // Split every cell the value uses; part k of each goes into rendering k (a cell with
    // one part is used for all).
    let parts: Vec<(usize, Vec<&str>)> = plan
        .value
        .columns()
        .map(|i| {
            (
                i,
                record
                    .get(i)
                    .unwrap_or("")
                    .split(sep.as_str())
                    .map(str::trim)
                    .collect(),
            )
        })
        .collect();
    let n = parts.iter().map(|(_, p)| p.len()).max().unwrap_or(1);
    (0..n)
        .map(|k| {
            let part = |i: usize| -> &str {
                parts.iter().find(|(c, _)| *c == i).map_or("", |(_, p)| {
                    if p.len() == 1 {
                        p[0]
                    } else {
                        p.get(k).copied().unwrap_or("")
                    }
                })
            };
            let skip = rule.skip_empty && plan.value.columns().any(|i| part(i).is_empty());
            (field, (!skip).then(|| plan.value.render(part)))
        })
        .collect()
}

fn convert_cell(
    text: String,
    kind: Kind,
    dates: DateFormat,
    notes: &mut LiteralNotes,
) -> std::result::Result<crate::model::Value, String> {
    convert(text, kind, dates, notes).map_err(|m| format!("{m} ({} expected)", kind.name()))
}
