//! The subcommands that are not scripts: import, export, stats, check.

use crate::cli::{ExportArgs, ExportFormat, ImportArgs, Settings};
use crate::output::{self, OutputFormat};
use crate::run::effective_format;
use dossier::db::ImportProgress;
use dossier::io::{BadRows, ExportFormat as FactsFormat, ImportOptions, Namespaces};
use dossier::{Db, Error, Outcome, Rows, Value};
use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::time::Duration;

/// A usage mistake found after parsing (exit code 2, like clap's own).
#[derive(Debug)]
pub struct Usage(pub String);

/// What a command ends with.
pub enum Failure {
    /// Exit 1 (or 3 for a database that cannot be opened): the error is printed.
    Error(Error),
    /// Exit 2.
    Usage(Usage),
    /// Exit 1, already reported (statement errors, `check` problems).
    Reported,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure::Error(e)
    }
}

fn io_err(what: &str, e: io::Error) -> Error {
    Error::io(what, e)
}

fn progress_bar(len: u64) -> ProgressBar {
    // Only on a terminal: a piped or logged import prints its summary and nothing else.
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} ETA {eta}",
    ) {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// `dossier import FILE...`: each file in one commit, with a progress bar on a terminal.
pub fn import(db: &Db, args: &ImportArgs, settings: &Settings) -> Result<(), Failure> {
    if let Some(b) = &args.base {
        Namespaces::with_base(b)
            .check()
            .map_err(|m| Failure::Usage(Usage(format!("--base: {m}"))))?;
    }
    let opts = ImportOptions {
        format: args.format,
        namespaces: args
            .base
            .as_ref()
            .map(Namespaces::with_base)
            .unwrap_or_default(),
        mapping: args.mapping.clone(),
        source: args.source.clone(),
        bad_rows: if args.skip_bad {
            BadRows::Skip
        } else {
            BadRows::Fail
        },
        blank_prefix: String::new(),
        ..ImportOptions::default()
    };
    let mut failed = false;
    for file in &args.files {
        let len = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
        let bar = progress_bar(len);
        let started = std::time::Instant::now();
        let mut on_progress = |p: ImportProgress| {
            bar.set_position(p.bytes);
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            if p.writing {
                bar.set_message(format!("writing {} facts…", HumanCount(p.facts)));
            } else {
                bar.set_message(format!(
                    "{} facts, {} facts/s",
                    HumanCount(p.facts),
                    HumanCount((p.facts as f64 / secs) as u64)
                ));
            }
        };
        let r = db.import_with_progress(file, &opts, &mut on_progress);
        bar.finish_and_clear();
        // Reported only once durable: a crash after the summary must not lose the import.
        let r = r
            .map_err(|e| (e, "nothing was imported from"))
            .and_then(|imp| {
                db.flush()
                    .map(|()| imp)
                    .map_err(|e| (e, "the import may not have been saved to disk:"))
            });
        match r {
            Ok(imp) => {
                let secs = imp.elapsed.as_secs_f64();
                outln!("{}", imp.summary);
                outln!(
                    "{} new facts in {:.2} s ({} facts/s)",
                    HumanCount(imp.stats.added),
                    secs,
                    HumanCount((imp.summary.facts as f64 / secs.max(1e-6)) as u64)
                );
                if settings.timer {
                    errln!("{}", output::time_line(imp.elapsed));
                }
            }
            Err((e, what)) => {
                errln!("{e}");
                errln!("{what} {}", file.display());
                failed = true;
                if !settings.keep_going {
                    break;
                }
            }
        }
    }
    db.flush()?;
    if failed {
        Err(Failure::Reported)
    } else {
        Ok(())
    }
}

/// `dossier export [FILE]`.
pub fn export(db: &Db, args: &ExportArgs, settings: &Settings) -> Result<(), Failure> {
    let format = args
        .format
        .or_else(|| args.file.as_deref().and_then(ExportFormat::from_extension))
        .unwrap_or(if args.query.is_some() {
            ExportFormat::Csv
        } else {
            ExportFormat::Dq
        });
    let rows_format = match format {
        ExportFormat::Csv => Some(OutputFormat::Csv),
        ExportFormat::Tsv => Some(OutputFormat::Tsv),
        ExportFormat::Json => Some(OutputFormat::Json),
        ExportFormat::Jsonl => Some(OutputFormat::Jsonl),
        ExportFormat::Dq | ExportFormat::Nq => None,
    };
    // Check the combination before creating the file.
    let query = match (&args.query, rows_format) {
        (Some(q), Some(f)) => Some((q, f)),
        (None, None) => None,
        (Some(_), None) => {
            return Err(Failure::Usage(Usage(
                "--query exports rows: use --format csv, tsv, json or jsonl".into(),
            )))
        }
        (None, Some(_)) => {
            return Err(Failure::Usage(Usage(
                "csv, tsv, json and jsonl export a query's rows: add --query 'find ...' \
                 (or export the facts with --format dq or nq)"
                    .into(),
            )))
        }
    };
    let ns = args
        .base
        .as_ref()
        .map(Namespaces::with_base)
        .unwrap_or_default();
    ns.check()
        .map_err(|m| Failure::Usage(Usage(format!("--base: {m}"))))?;
    let name = args
        .file
        .as_ref()
        .filter(|f| f.as_os_str() != "-")
        .map(|f| f.display().to_string());
    // A file is written under a temporary name and renamed when complete: a failed
    // export (a damaged database, a full disk) never leaves a file that looks whole.
    let partial = name.as_ref().map(|n| format!("{n}.partial"));
    let mut out: Box<dyn Write> = match &partial {
        Some(p) => Box::new(BufWriter::new(File::create(p).map_err(|e| io_err(p, e))?)),
        None => Box::new(BufWriter::new(io::stdout().lock())),
    };
    let target = name.as_deref().unwrap_or("standard output");
    let written = export_to(db, settings, format, query, &ns, &mut out, target);
    let finished = written.and_then(|what| {
        out.flush().map_err(|e| io_err(target, e))?;
        drop(out);
        if let (Some(p), Some(n)) = (&partial, &name) {
            File::open(p)
                .and_then(|f| f.sync_all())
                .map_err(|e| io_err(p, e))?;
            std::fs::rename(p, n).map_err(|e| io_err(n, e))?;
        }
        Ok(what)
    });
    let what = match finished {
        Ok(w) => w,
        Err(e) => {
            if let Some(p) = &partial {
                let _ = std::fs::remove_file(p);
            }
            return Err(e.into());
        }
    };
    if name.is_some() {
        errln!("exported {what} to {target}");
    }
    Ok(())
}

/// Write what `dossier export` exports; returns what it wrote ("1,234 facts").
fn export_to(
    db: &Db,
    settings: &Settings,
    format: ExportFormat,
    query: Option<(&String, OutputFormat)>,
    ns: &Namespaces,
    out: &mut dyn Write,
    target: &str,
) -> Result<String, Error> {
    if let Some((q, f)) = query {
        let rows = db.prepare(q)?.query(&settings.params)?;
        let n = rows.len();
        output::write_rows(out, &rows, f).map_err(|e| io_err(target, e))?;
        return Ok(output::count_rows(n));
    }
    let facts_format = if format == ExportFormat::Dq {
        FactsFormat::Dq
    } else {
        FactsFormat::NQuads(ns.clone())
    };
    let summary = db.export(out, &facts_format)?;
    if !summary.skipped.is_empty() {
        // A backup that leaves facts out must not look like a good one: no file is left.
        let why: Vec<String> = (summary.skipped.iter())
            .map(|(why, n)| format!("left out {n} facts: {why}"))
            .collect();
        return Err(Error::Invalid(format!(
            "the export to {target} is incomplete, {} of {} facts ({})",
            HumanCount(summary.facts),
            HumanCount(summary.facts + summary.skipped.values().sum::<u64>()),
            why.join("; ")
        )));
    }
    Ok(format!("{} facts", HumanCount(summary.facts)))
}

/// Under the totals of `stats` in a table: what the counts count (the README says it at
/// more length).
pub const COUNTS_NOTE: &str = "\
Stored facts are assertions (one per source that states a triple). Queries also see
implied type facts (haftar a Person implies haftar a Actor) and what rules derive, so
find count() where ?s ?p ?o. counts distinct stored triples + implied type facts + derived facts.";

/// `dossier stats` (and `.stats`): totals, then predicates and classes by size.  In a
/// table, the 20 largest of each unless `all`; in the other formats, all of them as `kind
/// name count` rows (or one JSON object).
pub fn stats(db: &Db, format: OutputFormat, all: bool, w: &mut dyn Write) -> Result<(), Error> {
    let s = db.stats()?;
    // The rows below show the names themselves (`type`, not the language's `<type>`).
    let names = |list: &[(Value, u64)]| -> Vec<(String, u64)> {
        list.iter().map(|(v, n)| (v.plain(), *n)).collect()
    };
    let (predicates, classes) = (names(&s.predicates), names(&s.classes));
    // Machine formats keep the short keys; the table says what each count counts.
    let totals = [
        ("facts", s.facts),
        ("triples", s.triples),
        ("implied type facts", s.implied_types),
        ("sources", s.sources),
        ("predicates", predicates.len() as u64),
        ("classes", classes.len() as u64),
        ("rules", s.rules),
        ("disk bytes", s.disk_bytes),
    ];
    let werr = |e: io::Error| io_err("<stdout>", e);
    match format {
        OutputFormat::Table | OutputFormat::Line => {
            let pairs: Vec<(String, String)> = totals
                .iter()
                .map(|(k, v)| {
                    let shown = if *k == "disk bytes" {
                        human_bytes(*v)
                    } else {
                        HumanCount(*v).to_string()
                    };
                    let label = match *k {
                        "facts" => "stored facts",
                        "triples" => "distinct stored triples",
                        "disk bytes" => "disk",
                        other => other,
                    };
                    (label.to_string(), shown)
                })
                .collect();
            writeln!(w, "{}", output::pairs_table(None, &pairs)).map_err(werr)?;
            writeln!(w, "{COUNTS_NOTE}").map_err(werr)?;
            for (title, list) in [("predicates", &predicates), ("classes", &classes)] {
                if list.is_empty() {
                    continue;
                }
                let shown: Vec<(String, String)> = list
                    .iter()
                    .take(if all { usize::MAX } else { 20 })
                    .map(|(n, c)| (n.clone(), HumanCount(*c).to_string()))
                    .collect();
                let head = if title == "predicates" {
                    ["predicate", "stored triples"]
                } else {
                    ["class", "stated members"]
                };
                writeln!(w, "{}", output::pairs_table(Some(head), &shown)).map_err(werr)?;
                if list.len() > shown.len() {
                    writeln!(
                        w,
                        "… and {} more {title} (all of them: .stats all, or dossier stats --all)",
                        list.len() - shown.len()
                    )
                    .map_err(werr)?;
                }
            }
            Ok(())
        }
        OutputFormat::Json | OutputFormat::Jsonl => {
            let obj = |list: &[(String, u64)]| {
                serde_json::Value::Object(
                    list.iter()
                        .map(|(n, c)| (n.clone(), serde_json::Value::from(*c)))
                        .collect(),
                )
            };
            let mut m = serde_json::Map::new();
            for (k, v) in totals {
                m.insert(k.replace(' ', "_"), serde_json::Value::from(v));
            }
            m.insert("by_predicate".into(), obj(&predicates));
            m.insert("by_class".into(), obj(&classes));
            let v = serde_json::Value::Object(m);
            let text = if format == OutputFormat::Json {
                serde_json::to_string_pretty(&v)
            } else {
                serde_json::to_string(&v)
            }
            .map_err(|e| Error::Invalid(e.to_string()))?;
            writeln!(w, "{text}").map_err(werr)
        }
        OutputFormat::Csv | OutputFormat::Tsv => {
            let mut rows = Vec::new();
            let row = |kind: &str, name: &str, n: u64| {
                vec![
                    Some(Value::entity(kind)),
                    Some(Value::entity(name)),
                    Some(Value::Int(n as i64)),
                ]
            };
            for (k, v) in totals {
                rows.push(row("total", &k.replace(' ', "_"), v));
            }
            for (n, c) in &predicates {
                rows.push(row("predicate", n, *c));
            }
            for (n, c) in &classes {
                rows.push(row("class", n, *c));
            }
            let rows = Rows::new(vec!["kind".into(), "name".into(), "count".into()], rows);
            output::write_rows(w, &rows, format).map_err(werr)
        }
        // Figures are no network: they print as tab-separated values.
        #[cfg(feature = "viz")]
        OutputFormat::Dot => stats(db, OutputFormat::Tsv, all, w),
    }
}

pub fn human_bytes(n: u64) -> String {
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < units.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[u])
    }
}

/// `dossier check`: prints the problems; fails (exit 1) if there are any.
pub fn check(db: &Db, settings: &Settings) -> Result<(), Failure> {
    let format = effective_format(settings.format);
    let mut problems = false;
    let mut damaged = false;
    for r in db.script("check.") {
        let e = r?;
        if let Outcome::Rows(rows) = &e.outcome {
            problems |= !rows.is_empty();
            // Problems of the store itself have no subject (schema problems have one).
            damaged |= rows
                .values()
                .any(|r| r.first().is_some_and(Option::is_none));
        }
        let printer = output::Printer::new(format, settings.timer);
        if let Err(err) = printer.executed(&e) {
            if err.kind() != io::ErrorKind::BrokenPipe {
                return Err(Failure::Error(io_err("<stdout>", err)));
            }
        }
    }
    if damaged {
        errln!(
            "the database is damaged: `dossier check --repair` rebuilds what can be rebuilt from \
             what survived (the damaged directory is kept), or restore it from a backup"
        );
    }
    if problems {
        Err(Failure::Reported)
    } else {
        Ok(())
    }
}

/// `dossier check --repair`: rebuild a damaged database, keeping the damaged one.
pub fn repair(settings: &Settings) -> Result<(), Failure> {
    if settings.read_only {
        return Err(Failure::Usage(Usage(
            "--repair writes a new database: it cannot run with --read-only".into(),
        )));
    }
    let r = dossier::db::repair(&settings.db)?;
    let Some(before) = &r.before else {
        outln!("no problems found: nothing to repair");
        return Ok(());
    };
    outln!("found:");
    for p in &r.problems {
        outln!("  {p}");
    }
    if !r.salvaged.rebuilt.is_empty() {
        outln!("rebuilt from what survived:");
        for p in &r.salvaged.rebuilt {
            outln!("  {p}");
        }
    }
    outln!(
        "the repaired database holds {} facts and {} terms; it checks clean",
        HumanCount(r.salvaged.facts),
        HumanCount(r.salvaged.terms)
    );
    outln!(
        "the damaged database was kept as {} (remove it once you are satisfied)",
        before.display()
    );
    if r.salvaged.lost.is_empty() {
        return Ok(());
    }
    errln!("could not be rebuilt (restore these from a backup or an export):");
    for p in &r.salvaged.lost {
        errln!("  {p}");
    }
    Err(Failure::Reported)
}

/// `dossier compact`.
pub fn compact(settings: &Settings) -> Result<(), Failure> {
    if settings.read_only {
        return Err(Failure::Usage(Usage(
            "compact rewrites the database: it cannot run with --read-only".into(),
        )));
    }
    let c = dossier::db::compact(&settings.db)?;
    outln!(
        "compacted {}: {} facts, {} → {} on disk",
        settings.db.display(),
        HumanCount(c.facts),
        human_bytes(c.bytes_before),
        human_bytes(c.bytes_after)
    );
    Ok(())
}

/// `dossier backup DIR`.
pub fn backup(db: &Db, dir: &std::path::Path) -> Result<(), Failure> {
    let b = db.backup(dir)?;
    outln!(
        "backed up {} facts ({} terms) to {}: {} on disk; it checks clean",
        HumanCount(b.facts),
        HumanCount(b.terms),
        dir.display(),
        human_bytes(b.bytes)
    );
    Ok(())
}
