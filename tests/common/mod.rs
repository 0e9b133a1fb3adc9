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
