//! Rules benchmark: the 14 LUBM queries (`benches/lubm/queries.dq`) on LUBM(1,0), about
//! 100k facts, four ways: without any ontology; with everything the ontology derives
//! stored as plain facts and no rules ("stored": the same answers, the baseline rules are
//! compared with); with the ontology as 54 rules (`benches/lubm/rules.dq`); and with its
//! class hierarchy as types plus 16 rules (`benches/lubm/schema.dq`).
//!
//! `cargo bench --bench lubm -- [LUBM_DIR] [--reps R]`
//!
//! LUBM_DIR (default: `$DOSSIER_LUBM`) holds `data/lubm-1univ-seed0.nt`, LUBM(1,0) in
//! N-Triples (the LUBM generator, http://swat.cse.lehigh.edu/projects/lubm/, with one
//! university and seed 0, converted to N-Triples), and `answers/answers_queryN.csv`, the
//! reference answers LUBM publishes for it.  For each query it prints the rows, the
//! time without an ontology and with the derived facts stored, and with each ontology the
//! time of the first run on a newly opened database (the rules it needs are evaluated
//! then) and of the runs after it (their derived facts are kept), with its ratio to the
//! stored facts' time; and whether the answers equal the reference.  Times are the
//! fastest of R runs (default 21; first runs: of 3).
//! It exits with an error when an answer differs.

#[path = "../tests/common/mod.rs"]
mod common;

use dossier::io::{ImportOptions, Namespaces};
use dossier::{Db, Options, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

const UB: &str = "http://www.lehigh.edu/~zhp2/2004/0401/univ-bench.owl#";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The queries of `benches/lubm/queries.dq`: `## name` lines, each followed by its text.
fn queries() -> Vec<(String, String)> {
    let text = std::fs::read_to_string("benches/lubm/queries.dq").unwrap_or_default();
    common::named_blocks(&text)
}

type Answer = BTreeSet<Vec<String>>;

/// The reference answer of query `n`: rows of the CSV file after its header line (a file
/// saying "NO ANSWERS." has none).
fn reference(dir: &Path, n: &str) -> Option<Answer> {
    let text = std::fs::read_to_string(dir.join(format!("answers/answers_query{n}.csv"))).ok()?;
    Some(
        text.lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.split(',').map(|c| c.trim().to_string()).collect())
            .collect(),
    )
}

fn plain(v: &Option<Value>) -> String {
    match v {
        Some(Value::Entity(e)) | Some(Value::Str(e)) => e.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn run(db: &Db, q: &str) -> Result<(f64, Answer), dossier::Error> {
    let t = Instant::now();
    let rows = db.query(q)?;
    let ms = t.elapsed().as_secs_f64() * 1e3;
    Ok((
        ms,
        rows.values()
            .map(|r| r.iter().map(plain).collect())
            .collect(),
    ))
}

fn options() -> Options {
    Options {
        durable: false,
        ..Options::default()
    }
}

/// Times of one query on the database in `dir`: the first run after opening it (the
/// fastest of three openings), the fastest of `reps` runs after that, and the answer.
/// The fastest, not the median: on a shared machine other work only adds time.
fn measure(dir: &Path, q: &str, reps: usize) -> Result<(f64, f64, Answer), dossier::Error> {
    let mut first = f64::MAX;
    let mut warm = f64::MAX;
    let mut answer = Answer::new();
    for _ in 0..3 {
        let db = Db::open_with(dir, options())?;
        let (ms, a) = run(&db, q)?;
        first = first.min(ms);
        answer = a;
        for _ in 0..reps.div_ceil(3) {
            warm = warm.min(run(&db, q)?.0);
        }
    }
    Ok((first, warm, answer))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let reps: usize = arg("--reps").and_then(|r| r.parse().ok()).unwrap_or(21);
    let data = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-') && a.parse::<usize>().is_err())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("DOSSIER_LUBM").map(PathBuf::from));
    let Some(data) = data.filter(|d| d.join("data/lubm-1univ-seed0.nt").exists()) else {
        return Err(
            "give the LUBM directory (data/lubm-1univ-seed0.nt, answers/) as an \
                    argument or in DOSSIER_LUBM; see the top of benches/lubm.rs"
                .into(),
        );
    };
    let variants = [
        ("none", None),
        ("stored", None),
        ("rules", Some("benches/lubm/rules.dq")),
        ("types+rules", Some("benches/lubm/schema.dq")),
    ];
    let base = std::env::temp_dir().join(format!("dossier-bench-lubm-{}", std::process::id()));
    let mut dirs = Vec::new();
    for (name, file) in variants {
        let dir = base.join(name);
        let db = Db::open_with(&dir, options())?;
        let t = Instant::now();
        let opts = ImportOptions {
            namespaces: Namespaces::with_base(UB),
            ..ImportOptions::default()
        };
        let imported = db.import(&data.join("data/lubm-1univ-seed0.nt"), &opts, &mut |_| {})?;
        if let Some(f) = file {
            db.execute(&std::fs::read_to_string(f)?)?;
        }
        db.flush()?;
        println!(
            "{name}: {} facts imported in {:.2} s",
            imported.stats.added,
            t.elapsed().as_secs_f64()
        );
        dirs.push(dir);
    }
    // Everything the rules derive, stored as plain facts.
    {
        let from = Db::open_with(&dirs[2], options())?;
        let to = Db::open_with(&dirs[1], options())?;
        let t = Instant::now();
        let all = from.query("find ?s ?p ?o where ?s ?p ?o.")?;
        let mut facts = to.facts();
        for row in all.values() {
            if let [Some(Value::Entity(s)), Some(Value::Entity(p)), Some(o)] = row {
                facts = facts.add(s, p, o.clone());
            }
        }
        let added = facts.commit()?;
        to.flush()?;
        println!(
            "stored: {added} derived facts added in {:.2} s (evaluating every rule)",
            t.elapsed().as_secs_f64()
        );
    }
    println!(
        "{:<5} {:>6} {:>8} {:>9} | {:>9} {:>9} {:>6} | {:>9} {:>9} {:>6} | answers",
        "query",
        "rows",
        "none ms",
        "stored ms",
        "rules 1st",
        "warm ms",
        "ratio",
        "types 1st",
        "warm ms",
        "ratio"
    );
    let mut wrong = Vec::new();
    for (name, q) in queries() {
        let n = name.trim_start_matches('Q');
        let want = reference(&data, n);
        let (_, none, _) = measure(&dirs[0], &q, reps)?;
        let mut stored = 0.0;
        let mut cells = Vec::new();
        let mut rows = 0;
        let mut verdict = Vec::new();
        for (dir, (variant, _)) in dirs.iter().zip(variants).skip(1) {
            let (first, warm, got) = measure(dir, &q, reps)?;
            rows = got.len();
            if variant == "stored" {
                stored = warm;
            } else {
                let ratio = warm / f64::max(stored, 1e-3);
                cells.push(format!("{first:>9.2} {warm:>9.2} {ratio:>6.1}"));
            }
            match &want {
                Some(w) if *w == got => verdict.push(format!("{variant} ok")),
                Some(w) => {
                    verdict.push(format!("{variant} DIFFER ({} expected)", w.len()));
                    wrong.push(format!("{name} ({variant})"));
                }
                None => verdict.push(format!("{variant} no reference")),
            }
        }
        println!(
            "{name:<5} {rows:>6} {none:>8.2} {stored:>9.2} | {} | {}",
            cells.join(" | "),
            verdict.join(", ")
        );
    }
    let _ = std::fs::remove_dir_all(&base);
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("answers differ from LUBM's: {}", wrong.join(", ")).into())
    }
}
