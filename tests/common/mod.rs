//! Helpers shared by integration tests.
#![allow(dead_code)]

use dossier::io::{ImportOptions, Namespaces};
use dossier::{Db, Quad};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const BASE: &str = "http://dossier.example/";

/// The benchmark generator's data for `events` events (generated once per build).
pub fn bench_data(events: u32) -> PathBuf {
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("bench-e{events}"));
    if !out.join("params.json").exists() {
        let gen = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bench/gen.py");
        let ok = Command::new("python3")
            .arg(&gen)
            .args(["--events", &events.to_string(), "--out"])
            .arg(&out)
            .output()
            .expect("python3 runs");
        assert!(
            ok.status.success(),
            "gen.py failed: {}",
            String::from_utf8_lossy(&ok.stderr)
        );
    }
    out
}

/// A database holding the benchmark data, and its parameters.
pub fn bench_db(db: &Db, events: u32) -> serde_json::Value {
    let dir = bench_data(events);
    let opts = ImportOptions {
        namespaces: Namespaces::with_base(BASE),
        ..ImportOptions::default()
    };
    db.import(&dir.join("data.nt"), &opts, &mut |_| {})
        .expect("import");
    serde_json::from_str(&std::fs::read_to_string(dir.join("params.json")).expect("params"))
        .expect("json")
}

/// A database in memory holding `examples/libya.dq`, loaded as a user loads it.
pub fn libya() -> Db {
    let db = Db::memory().expect("memory db");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/libya.dq");
    let text = std::fs::read_to_string(&path).expect("examples/libya.dq");
    for r in db.script(&text).file(&path) {
        r.expect("the example runs");
    }
    db
}

/// The facts about `subject`, as `predicate object` lines.
pub fn about(quads: &[Quad], subject: &str) -> BTreeSet<String> {
    quads
        .iter()
        .filter(|q| q.subject == subject)
        .map(|q| format!("{} {}", q.predicate, q.object))
        .collect()
}

/// The rows of a query's answer, each value as the language writes it (`None` as "").
pub fn rows_of(r: dossier::Rows) -> BTreeSet<Vec<String>> {
    r.values()
        .map(|row| {
            row.iter()
                .map(|v| v.as_ref().map_or(String::new(), dossier::Value::to_string))
                .collect()
        })
        .collect()
}

/// The answer of the last statement of `q`, which must be a query.
pub fn rows(db: &Db, q: &str) -> BTreeSet<Vec<String>> {
    match db.execute(q).unwrap_or_else(|e| panic!("{q}\n{e}")).pop() {
        Some(dossier::Outcome::Rows(r)) => rows_of(r),
        other => panic!("{q}: not rows: {other:?}"),
    }
}

/// The named blocks of a query file: each `## name` line starts one, the lines after it
/// up to the next are its text (lines starting with `#` left out).
pub fn named_blocks(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("## ") {
            out.push((name.to_string(), String::new()));
        } else if !line.starts_with('#') {
            if let Some((_, q)) = out.last_mut() {
                q.push_str(line);
                q.push('\n');
            }
        }
    }
    out
}

/// `dossier --db DB --format tsv ARGS…`, run to completion.
pub fn dossier(db: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dossier"))
        .arg("--db")
        .arg(db)
        .args(["--format", "tsv"])
        .args(args)
        .output()
        .expect("dossier runs")
}

/// Standard output then standard error, as text.
pub fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
