//! The command line: clap definitions, and [`Settings`], the options merged from before
//! and after the subcommand.
//!
//! The shared options (`--db`, `--param`, `--format`, `--timer`, `--keep-going`,
//! `--timeout`, `--max-memory`, `--max-rows`, `--max-statement`) are accepted both before the subcommand (`dossier --db x.db run q.dq`, and
//! with no subcommand at all: `dossier --db x.db < q.dq`) and after it (`dossier run --db
//! x.db q.dq`, the form the benchmark uses).  They are not clap "global" arguments because
//! `import` and `export` give `--format` another meaning (the file's format).

use crate::output::OutputFormat;
use clap::{Args, Parser, Subcommand};
use dossier::{Params, Value};
use std::path::PathBuf;
use std::time::Duration;

const EXAMPLES: &str = "\
Examples:
  dossier --db example.db repl --load examples/libya.dq   start the shell on the example
  dossier --db kb.db import data.nt --base http://dossier.example/
  dossier --db kb.db query 'find ?x where ?x backed_by turkey.'
  dossier --db kb.db run --param backer=turkey queries.dq
  echo 'find ?x where ?x a Person.' | dossier --db kb.db --format csv
  dossier --db kb.db export backup.dq
  dossier --db kb.db backup kb-2026-11-30.db      a copy that opens as a database
  dossier --db kb.db --read-only query 'find count() where ?s ?p ?o.'";

/// dossier: an embedded knowledge base of who met whom, where, when, and what they agreed.
///
/// With no subcommand: the interactive shell when standard input is a terminal, otherwise
/// the statements read from standard input.
#[derive(Parser, Debug)]
#[command(name = "dossier", version, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The interactive shell (the default when standard input is a terminal).
    Repl(ReplArgs),
    /// Run script files in order; `-` reads standard input.
    Run(RunArgs),
    /// Run statements given as an argument.
    Query(QueryArgs),
    /// Import RDF (N-Triples, N-Quads, Turtle, TriG), GDELT events, or CSV/TSV with a mapping.
    Import(ImportArgs),
    /// Write the whole database as a .dq script (or N-Quads), or a query's rows as CSV/JSON.
    Export(ExportArgs),
    /// Figures about the database: facts, sources, predicates, classes, size.
    Stats(StatsArgs),
    /// Prove the database whole (dictionary, id counters, indexes, counts, catalog) and list
    /// facts that violate the schema; exits 1 if there are problems.  `--repair` rebuilds a
    /// damaged database from what survived.
    Check(CheckArgs),
    /// Rewrite the database into fresh files so that they shrink (after deleting facts).
    Compact(PlainArgs),
    /// Write a consistent copy of the database to a new directory (readers may go on).
    Backup(BackupArgs),
    /// Draw the network around entities, or a query's edges, as SVG or DOT.
    #[cfg(feature = "viz")]
    Graph(GraphArgs),
    /// Draw a query's dated events on a time axis, as SVG.
    #[cfg(feature = "viz")]
    Timeline(TimelineArgs),
    /// Serve the web interface (query, entities, network, timeline) on this machine.
    #[cfg(feature = "serve")]
    Serve(ServeArgs),
}

#[derive(Args, Debug, Clone, Default)]
pub struct CheckArgs {
    /// Rebuild what can be rebuilt from what survived (the damaged directory is kept as
    /// PATH.before-repair).
    #[arg(long)]
    pub repair: bool,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug, Clone)]
pub struct BackupArgs {
    /// The directory to write (it must not exist).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    #[command(flatten)]
    pub common: Common,
}

/// Options every command takes.
#[derive(Args, Debug, Clone, Default)]
pub struct Common {
    /// The database directory [default: ./dossier.db].
    #[arg(long, env = "DOSSIER_DB", value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// A value for `$NAME` in the statements (repeatable).  VALUE is read as a literal of
    /// the language (42, 0.5, 2020-09, true, "text") or else as an entity name: l=Sirte is
    /// the entity Sirte; the text is l='"Sirte"'.
    #[arg(long = "param", value_name = "NAME=VALUE", value_parser = parse_param_arg)]
    pub params: Vec<(String, Value)>,
    /// Print each statement's elapsed time to stderr as `# time: 1.234 ms`.
    #[arg(long)]
    pub timer: bool,
    /// Run the remaining statements after one fails (the exit code is still 1).
    #[arg(long)]
    pub keep_going: bool,
    /// Stop any query that runs longer than SECS seconds.
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// Stop any query that holds more rows than SIZE in memory (joins, sorts, groups,
    /// derived facts), e.g. 512M or 4G; `none` for no limit [default: 1G].
    #[arg(long, value_name = "SIZE", value_parser = parse_limit)]
    pub max_memory: Option<Limit>,
    /// Stop any query whose result has more than N rows.
    #[arg(long, value_name = "N")]
    pub max_rows: Option<u64>,
    /// The longest statement of a script and the longest line of an import, e.g. 64M
    /// [default: 16M].
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_statement: Option<u64>,
    /// Only read: statements that write are errors, and nothing is written to the
    /// database's directory (it is read from a private copy).
    #[arg(long)]
    pub read_only: bool,
}

/// A limit that can be switched off (`none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// At most this much.
    At(u64),
    /// No limit.
    Unlimited,
}

impl Limit {
    pub fn get(self) -> Option<u64> {
        match self {
            Limit::At(n) => Some(n),
            Limit::Unlimited => None,
        }
    }
}

/// A size (`512M`, `2G`, bytes), or `none` / `off` for no limit.
pub fn parse_limit(s: &str) -> Result<Limit, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "none" | "off" | "unlimited" => Ok(Limit::Unlimited),
        _ => parse_size(s).map(Limit::At),
    }
}

/// A size: `512M`, `2G`, `1.5GiB`, or a number of bytes.
pub fn parse_size(s: &str) -> Result<u64, String> {
    dossier::limits::parse_size(s)
}

#[derive(Args, Debug, Clone, Default)]
pub struct OutputArgs {
    /// How results are printed [default: table on a terminal, tsv otherwise].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<OutputFormat>,
}

#[derive(Args, Debug, Clone, Default)]
pub struct PlainArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug, Clone, Default)]
pub struct StatsArgs {
    /// In a table, list every predicate and class (not only the 20 largest of each).
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ReplArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Run these scripts before the first prompt (repeatable).  Loading a file again is
    /// harmless: facts are sets.
    #[arg(long, value_name = "FILE")]
    pub load: Vec<PathBuf>,
    /// The history file [default: ~/.dossier_history].
    #[arg(long, env = "DOSSIER_HISTORY", value_name = "FILE")]
    pub history: Option<PathBuf>,
}

#[derive(Args, Debug, Clone)]
pub struct RunArgs {
    /// Script files, run in order; `-` is standard input.
    #[arg(value_name = "FILE", default_value = "-")]
    pub files: Vec<PathBuf>,
    /// Keep nothing the scripts write: every statement sees what the ones before it wrote
    /// (facts, rules, schema), and the database is left as it was.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug, Clone)]
pub struct QueryArgs {
    /// One or more statements, e.g. 'find ?x where ?x a Person.'
    #[arg(value_name = "TEXT")]
    pub text: String,
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(Args, Debug, Clone)]
pub struct ImportArgs {
    /// Files to import, each in one all-or-nothing commit.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// IRIs under this base become bare names (<http://dossier.example/haftar> is haftar).
    #[arg(long, value_name = "IRI")]
    pub base: Option<String>,
    /// The file's format: nt, nq, ttl, trig, gdelt, csv, tsv [default: from the file name].
    #[arg(long, value_name = "F", value_parser = parse_import_format)]
    pub format: Option<dossier::io::Format>,
    /// How a CSV/TSV file's columns become facts (a TOML mapping file).
    #[arg(long, value_name = "FILE")]
    pub mapping: Option<PathBuf>,
    /// The source of every imported fact that does not name its own.
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Skip records that cannot be read (and list them) instead of failing.
    #[arg(long)]
    pub skip_bad: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args, Debug, Clone)]
pub struct ExportArgs {
    /// Where to write [default: standard output].
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// dq or nq for the whole database; csv, tsv, json or jsonl for --query [default: from
    /// FILE's extension, else dq, or csv with --query].
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ExportFormat>,
    /// N-Quads: the base IRI that bare names expand under [default: urn:dossier:].
    #[arg(long, value_name = "IRI")]
    pub base: Option<String>,
    /// Export this query's rows instead of the facts.
    #[arg(long, value_name = "TEXT")]
    pub query: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// `dossier graph` and the shell's `.graph`.
#[cfg(feature = "viz")]
#[derive(Parser, Debug, Clone)]
#[command(name = ".graph")]
pub struct GraphArgs {
    /// Entities to draw the network around.
    #[arg(value_name = "ENTITY")]
    pub entities: Vec<String>,
    /// Draw a query's rows instead: two columns (?a ?b) or three (?a ?p ?b) are edges.
    #[arg(long, short = 'q', value_name = "TEXT", conflicts_with = "entities")]
    pub query: Option<String>,
    /// Hops from the entities.
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub depth: u32,
    /// Follow only these predicates (repeatable, or comma-separated).
    #[arg(long, value_name = "PRED", value_delimiter = ',')]
    pub follow: Vec<String>,
    /// Never follow these predicates (repeatable, or comma-separated).
    #[arg(long, value_name = "PRED", value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Stop at this many nodes (a note in the picture says what was left out).
    #[arg(long, default_value_t = 500, value_name = "N")]
    pub max_nodes: usize,
    /// Add at most this many new neighbours of any one node.
    #[arg(long, default_value_t = 100, value_name = "N")]
    pub max_fanout: usize,
    /// Write each edge's sources beside its predicate.
    #[arg(long)]
    pub sources: bool,
    /// A heading above the picture.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// svg, or dot for Graphviz.
    #[arg(long, value_enum, default_value = "svg", value_name = "FORMAT")]
    pub format: PictureFormat,
    /// Where to write [default: standard output; graph.svg in the shell].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

/// What `graph` writes.
#[cfg(feature = "viz")]
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PictureFormat {
    Svg,
    Dot,
}

/// `dossier timeline` and the shell's `.timeline`.
#[cfg(feature = "viz")]
#[derive(Parser, Debug, Clone)]
#[command(name = ".timeline")]
pub struct TimelineArgs {
    /// A query whose rows are events: ?e ?date, optionally ?end and a lane column
    /// [default: every event with a date, and everything that started and ended].
    #[arg(value_name = "QUERY")]
    pub query: Option<String>,
    /// Leave out events that end before this date (2019-04, @2019, 2019-04-04).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub from: Option<dossier::Date>,
    /// Leave out events that begin after this date.
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub to: Option<dossier::Date>,
    /// Draw at most this many events.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub max_items: usize,
    /// A heading above the picture.
    #[arg(long, value_name = "TEXT")]
    pub title: Option<String>,
    /// Where to write [default: standard output; timeline.svg in the shell].
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

#[cfg(feature = "viz")]
fn parse_date(s: &str) -> Result<dossier::Date, String> {
    dossier::Date::parse(s)
}

/// `dossier serve`.
#[cfg(feature = "serve")]
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// The port [default: 8080; 0 picks a free one].
    #[arg(long, default_value_t = 8080, value_name = "N")]
    pub port: u16,
    /// Listen on this address instead of 127.0.0.1 (anyone who can reach it can read the
    /// database).
    #[arg(long, value_name = "ADDR")]
    pub address: Option<std::net::IpAddr>,
    /// Accept writes (facts, del, rules, schema) from the page and the API.
    #[arg(long)]
    pub writable: bool,
    /// Stop a request's query after this many seconds.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub request_timeout: f64,
    #[command(flatten)]
    pub common: Common,
}

/// Rows a request's query may return when `--max-rows` does not say (`dossier serve`).
#[cfg(feature = "serve")]
pub const SERVE_MAX_ROWS: u64 = 10_000;

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// A .dq script: schema, rules, then the facts grouped by source (loads again).
    Dq,
    /// N-Quads, sources as graph names.
    Nq,
    Csv,
    Tsv,
    Json,
    Jsonl,
}

impl ExportFormat {
    pub fn from_extension(path: &std::path::Path) -> Option<ExportFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "dq" => ExportFormat::Dq,
            "nq" | "nquads" => ExportFormat::Nq,
            "csv" => ExportFormat::Csv,
            "tsv" => ExportFormat::Tsv,
            "json" => ExportFormat::Json,
            "jsonl" | "ndjson" => ExportFormat::Jsonl,
            _ => return None,
        })
    }
}

fn parse_param_arg(s: &str) -> Result<(String, Value), String> {
    let (name, value) = s
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, e.g. backer=turkey, not '{s}'"))?;
    let name = name.trim().trim_start_matches('$');
    let ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ok {
        return Err(format!(
            "'{name}' is not a parameter name (letters, digits and '_')"
        ));
    }
    if value.trim().is_empty() {
        return Err(format!(
            "--param {name}= gives no value: write {name}=VALUE (an entity name, a number, \
             a date, true/false, or \"text\" in quotes; \"\" is the empty string)"
        ));
    }
    Ok((name.to_string(), dossier::db::parse_param(value)))
}

pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !(secs > 0.0 && secs.is_finite()) {
        return Err("the timeout must be a positive number of seconds".into());
    }
    // Past what a `Duration` holds (about 585 billion years) is no limit at all.
    Ok(Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX))
}

fn parse_import_format(s: &str) -> Result<dossier::io::Format, String> {
    s.parse()
}

/// The options in force for a command: the subcommand's, else those given before it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub db: PathBuf,
    pub params: Params,
    pub timer: bool,
    pub keep_going: bool,
    pub timeout: Option<Duration>,
    /// `None`: the default limit.
    pub max_memory: Option<Limit>,
    pub max_rows: Option<u64>,
    pub max_statement: Option<u64>,
    pub read_only: bool,
    /// `None`: table on a terminal, tsv otherwise.
    pub format: Option<OutputFormat>,
}

impl Settings {
    pub fn merge(top: &Common, top_out: &OutputArgs, sub: &Common, sub_out: &OutputArgs) -> Self {
        let mut params = Params::new();
        for (k, v) in top.params.iter().chain(&sub.params) {
            params.insert(k.clone(), v.clone());
        }
        Settings {
            db: sub
                .db
                .clone()
                .or_else(|| top.db.clone())
                .unwrap_or_else(|| PathBuf::from("dossier.db")),
            params,
            timer: top.timer || sub.timer,
            keep_going: top.keep_going || sub.keep_going,
            timeout: sub.timeout.or(top.timeout),
            max_memory: sub.max_memory.or(top.max_memory),
            max_rows: sub.max_rows.or(top.max_rows),
            max_statement: sub.max_statement.or(top.max_statement),
            read_only: top.read_only || sub.read_only,
            format: sub_out.format.or(top_out.format),
        }
    }

    /// The database options these settings ask for (limits), on top of `base`.
    pub fn options(&self, base: dossier::Options) -> dossier::Options {
        let defaults = dossier::Options::default();
        dossier::Options {
            timeout: self.timeout,
            max_rows: self.max_rows,
            max_memory: self.max_memory.map_or(defaults.max_memory, Limit::get),
            max_statement_bytes: self
                .max_statement
                .map_or(defaults.max_statement_bytes, |n| {
                    usize::try_from(n).unwrap_or(usize::MAX)
                }),
            ..base
        }
    }
}
