//! Printing what statements did: result rows in seven formats, write reports, warnings and
//! timings.
//!
//! The rule that keeps pipes clean: in the machine formats (json, jsonl, csv, tsv) standard
//! output carries only results (rows and plans); reports such as `added 12 facts` go to
//! standard error with the warnings and timings.  A benchmark script that runs two `rule`
//! statements and a `find` therefore reads exactly one header line and the rows.
//!
//! Several results of one run stay readable by a program: in json they form one document
//! (an array of the results' arrays; a single result is its array, as ever), in csv and
//! tsv an empty line ends each result but the last.

use comfy_table::{presets, ContentArrangement, Table};
use dossier::{Executed, Outcome, Rows, Value};
use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::time::Duration;

/// How results are printed.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Aligned columns with a row count (the default on a terminal); long cells wrap to the
    /// terminal's width.
    Table,
    /// Each row as `column = value` lines, values whole (for wide values).
    Line,
    /// One JSON array of objects per result.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Comma-separated, plain values (strings unquoted unless needed).
    Csv,
    /// Tab-separated, values in the language's syntax (the default when piped).
    Tsv,
    /// Graphviz DOT: rows of two columns (?a ?b) or three (?a ?p ?b) as edges.
    #[cfg(feature = "viz")]
    Dot,
}

impl OutputFormat {
    pub fn name(self) -> &'static str {
        match self {
            OutputFormat::Table => "table",
            OutputFormat::Line => "line",
            OutputFormat::Json => "json",
            OutputFormat::Jsonl => "jsonl",
            OutputFormat::Csv => "csv",
            OutputFormat::Tsv => "tsv",
            #[cfg(feature = "viz")]
            OutputFormat::Dot => "dot",
        }
    }

    pub fn parse(s: &str) -> Option<OutputFormat> {
        Some(match s.to_ascii_lowercase().as_str() {
            "table" => OutputFormat::Table,
            "line" => OutputFormat::Line,
            "json" => OutputFormat::Json,
            "jsonl" => OutputFormat::Jsonl,
            "csv" => OutputFormat::Csv,
            "tsv" => OutputFormat::Tsv,
            #[cfg(feature = "viz")]
            "dot" => OutputFormat::Dot,
            _ => return None,
        })
    }

    pub const ALL: &'static [&'static str] = &[
        "table",
        "line",
        "json",
        "jsonl",
        "csv",
        "tsv",
        #[cfg(feature = "viz")]
        "dot",
    ];

    /// Whether reports of writes belong on standard output (humans) or standard error
    /// (programs reading the results).
    pub fn is_human(self) -> bool {
        matches!(self, OutputFormat::Table | OutputFormat::Line)
    }
}

/// Cells wider than this are cut in a table whose width is not known (not a terminal); on
/// a terminal they wrap, and `line` shows them whole.
pub const MAX_CELL_CHARS: usize = 60;

/// Where results go, and how.  Dropping it ends the run's output (closes the JSON document
/// of several results).
pub struct Printer {
    pub format: OutputFormat,
    pub timer: bool,
    /// Results printed so far (for separators between them).
    results: Cell<usize>,
    /// json: the first result's text, held until it is known whether another follows.
    held: RefCell<Option<Vec<u8>>>,
}

impl Drop for Printer {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}

impl Printer {
    pub fn new(format: OutputFormat, timer: bool) -> Printer {
        Printer {
            format,
            timer,
            results: Cell::new(0),
            held: RefCell::new(None),
        }
    }

    /// End the output of the run: a held JSON result, or the end of the JSON document.
    fn finish(&self) -> io::Result<()> {
        let mut out = io::stdout().lock();
        if let Some(text) = self.held.borrow_mut().take() {
            out.write_all(&text)?;
        } else if self.format == OutputFormat::Json && self.results.get() > 1 {
            writeln!(out, "]")?;
        }
        self.results.set(0);
        out.flush()
    }

    /// Rows of one result, placed in the run's output (see the module's doc).
    fn result(&self, out: &mut dyn Write, rows: &Rows) -> io::Result<()> {
        let n = self.results.get();
        self.results.set(n + 1);
        match self.format {
            OutputFormat::Json => {
                let mut text = Vec::new();
                write_rows(&mut text, rows, self.format)?;
                if n == 0 {
                    self.held.replace(Some(text));
                    return Ok(());
                }
                if let Some(first) = self.held.borrow_mut().take() {
                    out.write_all(b"[\n")?;
                    out.write_all(&first)?;
                }
                out.write_all(b",\n")?;
                out.write_all(&text)
            }
            OutputFormat::Csv | OutputFormat::Tsv if n > 0 => {
                writeln!(out)?;
                write_rows(out, rows, self.format)
            }
            _ => write_rows(out, rows, self.format),
        }
    }

    /// Print one statement's outcome (with its warnings and, with `--timer`, its time).
    /// An `Err` is a failed write to standard output (a closed pipe).
    pub fn executed(&self, e: &Executed) -> io::Result<()> {
        for w in &e.warnings {
            errln!("{w}");
        }
        // Standard output is line-buffered: a buffer makes a result one write, not a system
        // call per row.
        let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
        match &e.outcome {
            Outcome::Rows(rows) => self.result(&mut out, rows)?,
            Outcome::Plan(plan) => writeln!(out, "{plan}")?,
            other => {
                out.flush()?;
                self.report(&other.to_string())?;
            }
        }
        out.flush()?;
        if self.timer {
            self.time(e.elapsed);
        }
        Ok(())
    }

    /// A report of what a statement did (`added 12 facts`): on standard output with tables,
    /// on standard error with the machine formats, whose standard output is only results.
    pub fn report(&self, line: &str) -> io::Result<()> {
        if self.format.is_human() {
            let mut out = io::stdout().lock();
            writeln!(out, "{line}")?;
            out.flush()
        } else {
            errln!("{line}");
            Ok(())
        }
    }

    /// `# time: 1.234 ms` on standard error (the format the benchmark parses).
    pub fn time(&self, elapsed: Duration) {
        errln!("{}", time_line(elapsed));
    }
}

pub fn time_line(elapsed: Duration) -> String {
    format!("# time: {:.3} ms", elapsed.as_secs_f64() * 1000.0)
}

/// Write rows in a format.
pub fn write_rows(w: &mut dyn Write, rows: &Rows, format: OutputFormat) -> io::Result<()> {
    match format {
        OutputFormat::Table => {
            writeln!(w, "{}", table(rows))?;
            writeln!(w, "{}", count_rows(rows.len()))
        }
        OutputFormat::Line => {
            write_lines(w, rows)?;
            writeln!(w, "{}", count_rows(rows.len()))
        }
        OutputFormat::Json => write_json(w, rows),
        OutputFormat::Jsonl => {
            for r in rows.values() {
                writeln!(w, "{}", json_object(rows.columns(), r))?;
            }
            Ok(())
        }
        OutputFormat::Csv => write_csv(w, rows),
        OutputFormat::Tsv => write_tsv(w, rows),
        #[cfg(feature = "viz")]
        OutputFormat::Dot => {
            // No limit on nodes: a pipe into Graphviz wants every row.
            let graph = dossier::viz::Graph::from_rows(rows, usize::MAX)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
            w.write_all(dossier::viz::graph_dot(&graph).as_bytes())
        }
    }
}

/// `1 row`, `3 rows`.
pub fn count_rows(n: usize) -> String {
    dossier::diag::plural(n as u64, "row")
}

/// A value as the table shows it: the language's syntax, cut to `max` characters, and
/// line breaks shown as `⏎` so one row stays one line.
fn table_cell(v: Option<&Value>, max: usize) -> String {
    let Some(v) = v else {
        return String::new();
    };
    let text = v.to_string();
    let mut out = String::new();
    for (n, c) in text.chars().enumerate() {
        if n + 1 == max && text.chars().count() > max {
            out.push('…');
            break;
        }
        out.push(match c {
            '\n' | '\r' => '⏎',
            '\t' => ' ',
            c => c,
        });
    }
    out
}

/// An aligned table with a header, without the row count.  On a terminal long cells wrap
/// to its width; elsewhere (no width known) they are cut to [`MAX_CELL_CHARS`].
pub fn table(rows: &Rows) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .apply_modifier(comfy_table::modifiers::UTF8_ROUND_CORNERS)
        .set_header(rows.columns().iter().map(String::as_str));
    // A width too small to show anything (a terminal that reports no size) is no width.
    let max = if t.width().is_some_and(|w| w >= 20) {
        t.set_content_arrangement(ContentArrangement::Dynamic);
        usize::MAX
    } else {
        t.set_content_arrangement(ContentArrangement::Disabled);
        MAX_CELL_CHARS
    };
    for r in rows.values() {
        t.add_row(r.iter().map(|v| table_cell(v.as_ref(), max)));
    }
    t.to_string()
}

/// `line`: each row as `column = value` lines (names aligned, values whole, in the
/// language's syntax), rows separated by an empty line.
fn write_lines(w: &mut dyn Write, rows: &Rows) -> io::Result<()> {
    let width = rows
        .columns()
        .iter()
        .map(|c| c.chars().count())
        .max()
        .unwrap_or(0);
    for (i, r) in rows.values().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        for (c, v) in rows.columns().iter().zip(r) {
            let value = v.as_ref().map_or(String::new(), Value::to_string);
            writeln!(w, "{c:>width$} = {value}")?;
        }
    }
    Ok(())
}

/// A two-column table of labels and values (stats), with a header or none.
pub fn pairs_table(header: Option<[&str; 2]>, pairs: &[(String, String)]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .apply_modifier(comfy_table::modifiers::UTF8_ROUND_CORNERS);
    if let Some(h) = header {
        t.set_header(h);
    }
    for (a, b) in pairs {
        t.add_row([a, b]);
    }
    t.to_string()
}

fn json_object(columns: &[String], values: &[Option<Value>]) -> String {
    // Written by hand so that keys keep the column order (serde_json's map sorts them).
    let mut s = String::from("{");
    for (i, (c, v)) in columns.iter().zip(values).enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&serde_json::Value::String(c.clone()).to_string());
        s.push(':');
        s.push_str(&dossier::db::to_json(v.as_ref()).to_string());
    }
    s.push('}');
    s
}

fn write_json(w: &mut dyn Write, rows: &Rows) -> io::Result<()> {
    if rows.is_empty() {
        return writeln!(w, "[]");
    }
    writeln!(w, "[")?;
    let n = rows.len();
    for (i, r) in rows.values().enumerate() {
        let comma = if i + 1 < n { "," } else { "" };
        writeln!(w, "  {}{comma}", json_object(rows.columns(), r))?;
    }
    writeln!(w, "]")
}

fn write_csv(w: &mut dyn Write, rows: &Rows) -> io::Result<()> {
    let mut c = csv::Writer::from_writer(w);
    c.write_record(rows.columns()).map_err(io::Error::other)?;
    for r in rows.values() {
        c.write_record(
            r.iter()
                .map(|v| v.as_ref().map_or(String::new(), Value::plain)),
        )
        .map_err(io::Error::other)?;
    }
    c.flush()
}

/// Tab-separated: a header of column names, then cells in the language's syntax (strings
/// quoted, entities bare or in `<…>`), empty for unbound.  A string's tabs and line breaks
/// are already escaped by its syntax; those of a `<…>` name are escaped here so that a row
/// stays one line of the right number of cells.
fn write_tsv(w: &mut dyn Write, rows: &Rows) -> io::Result<()> {
    let header: Vec<String> = rows.columns().iter().map(|c| tsv_cell(c)).collect();
    writeln!(w, "{}", header.join("\t"))?;
    let mut line = String::new();
    for r in rows.values() {
        line.clear();
        for (i, v) in r.iter().enumerate() {
            if i > 0 {
                line.push('\t');
            }
            if let Some(v) = v {
                line.push_str(&tsv_cell(&v.to_string()));
            }
        }
        line.push('\n');
        w.write_all(line.as_bytes())?;
    }
    Ok(())
}

fn tsv_cell(s: &str) -> String {
    if !s.contains(['\t', '\n', '\r']) {
        return s.to_string();
    }
    s.replace('\t', "\\t")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
}

#[cfg(test)]
mod tests {
    use super::*;
    use dossier::Date;

    fn sample() -> Rows {
        Rows::new(
            vec!["who".into(), "name".into(), "when".into()],
            vec![
                vec![
                    Some(Value::entity("haftar")),
                    Some(Value::string("Khalifa \"the marshal\" Haftar")),
                    Some(Value::Date(Date::month(2020, 9).unwrap())),
                ],
                vec![Some(Value::entity("5+5 commission")), None, None],
            ],
        )
    }

    fn render(f: OutputFormat) -> String {
        let mut v = Vec::new();
        write_rows(&mut v, &sample(), f).unwrap();
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn tsv_uses_the_language_syntax() {
        assert_eq!(
            render(OutputFormat::Tsv),
            "who\tname\twhen\nhaftar\t\"Khalifa \\\"the marshal\\\" Haftar\"\t2020-09\n<5+5 commission>\t\t\n"
        );
    }

    #[test]
    fn csv_uses_plain_values() {
        assert_eq!(
            render(OutputFormat::Csv),
            "who,name,when\nhaftar,\"Khalifa \"\"the marshal\"\" Haftar\",2020-09\n5+5 commission,,\n"
        );
    }

    #[test]
    fn json_keeps_column_order() {
        assert_eq!(
            render(OutputFormat::Json),
            "[\n  {\"who\":\"haftar\",\"name\":\"Khalifa \\\"the marshal\\\" Haftar\",\"when\":\"2020-09\"},\n  {\"who\":\"5+5 commission\",\"name\":null,\"when\":null}\n]\n"
        );
    }

    #[test]
    fn wide_cells_are_cut() {
        let long = "x".repeat(200);
        let cell = table_cell(Some(&Value::string(long)), MAX_CELL_CHARS);
        assert_eq!(cell.chars().count(), MAX_CELL_CHARS);
        assert!(cell.ends_with('…'));
        assert_eq!(
            table_cell(Some(&Value::string("a\nb")), MAX_CELL_CHARS),
            "\"a\\nb\""
        );
    }

    #[test]
    fn table_has_a_row_count() {
        let t = render(OutputFormat::Table);
        assert!(t.contains("│ haftar"), "{t}");
        assert!(t.ends_with("2 rows\n"), "{t}");
    }
}
