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

/// The facts about `subject`, as `predicate object` lines.
pub fn about(quads: &[Quad], subject: &str) -> BTreeSet<String> {
    quads
        .iter()
        .filter(|q| q.subject == subject)
        .map(|q| format!("{} {}", q.predicate, q.object))
        .collect()
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
