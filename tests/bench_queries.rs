//! The benchmark's ten queries (`tests/data/bench/queries.dq`, a copy of
//! `shared/bench/queries.dq`) on data from the benchmark's generator, checked against
//! SQLite's answers computed by the benchmark's own harness (`peers.py --peers
//! sqlite-mem`): the same row counts and the same fingerprint of the normalised rows.

mod common;

use dossier::io::{ImportOptions, Namespaces};
use dossier::{Db, Outcome, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::Command;

const BASE: &str = "http://dossier.example/";
const RDF_TYPE: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type";

fn bench_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bench")
}

/// `## Qn title` blocks of queries.dq, with comment lines dropped (as peers.py reads it).
fn load_dq(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("## ") {
            let id = rest.split_whitespace().next().unwrap_or("").to_string();
            out.push((id, String::new()));
        } else if line.trim_start().starts_with('#') {
            continue;
        } else if let Some((_, body)) = out.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    out
}

/// peers.py's `DossierPeer.norm`: strings lose their quotes, entities become IRIs.
fn norm(v: &Option<Value>) -> String {
    let text = v.as_ref().map_or(String::new(), Value::to_string);
    if text.len() >= 2 && text.starts_with('"') && text.ends_with('"') {
        return text[1..text.len() - 1].to_string();
    }
    if ["a", "type", "<a>", "<type>"].contains(&text.as_str()) {
        return RDF_TYPE.to_string();
    }
    let entity = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_:-".contains(c));
    if entity {
        return format!("{BASE}{text}");
    }
    text
}

fn fingerprint(rows: &[Vec<String>]) -> String {
    let mut lines: Vec<String> = rows.iter().map(|r| r.join("\t")).collect();
    lines.sort();
    let mut h = Sha256::new();
    for l in lines {
        h.update(l.as_bytes());
        h.update(b"\n");
    }
    h.finalize()
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn vendored_bench_files_match_shared() {
    for name in ["gen.py", "peers.py", "queries.dq"] {
        let ours = std::fs::read(bench_dir().join(name)).expect("vendored file");
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench");
        if let Ok(theirs) = std::fs::read(shared.join(name)) {
            assert_eq!(
                ours,
                theirs,
                "tests/data/bench/{name} differs from {}/{name}: copy it again",
                shared.display()
            );
        }
    }
}

#[test]
fn bench_queries_agree_with_sqlite() {
    // The same data as tests/planner.rs (generated once per build).
    let out = common::bench_data(3000);
    // SQLite's answers, through the benchmark's own harness.
    let json = out.join("sqlite.json");
    let ok = Command::new("python3")
        .arg(bench_dir().join("peers.py"))
        .args(["--data"])
        .arg(&out)
        .args(["--peers", "sqlite-mem", "--reps", "1", "--json"])
        .arg(&json)
        .output()
        .expect("python3 runs");
    assert!(
        ok.status.success(),
        "peers.py failed: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let sqlite = results
        .as_array()
        .and_then(|a| a.iter().find(|r| r["peer"] == "sqlite-mem"))
        .or_else(|| {
            results
                .get("results")
                .and_then(|r| r.as_array())
                .and_then(|a| a.iter().find(|r| r["peer"] == "sqlite-mem"))
        })
        .or_else(|| results.get("sqlite-mem"))
        .unwrap_or_else(|| panic!("no sqlite-mem results in {results}"));

    let db = Db::memory().unwrap();
    let opts = ImportOptions {
        namespaces: Namespaces::with_base(BASE),
        ..ImportOptions::default()
    };
    let imported = db.import(&out.join("data.nt"), &opts, &mut |_| {}).unwrap();
    let params: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("params.json")).unwrap()).unwrap();
    assert_eq!(imported.stats.added, params["triples"].as_u64().unwrap());

    let dq = std::fs::read_to_string(bench_dir().join("queries.dq")).unwrap();
    let queries = load_dq(&dq);
    assert_eq!(queries.len(), 10);
    for (id, text) in queries {
        let mut text = text;
        for k in ["event", "city", "state", "group"] {
            text = text.replace(&format!("${k}"), params[k].as_str().unwrap());
        }
        let outcomes = db.execute(&text).unwrap_or_else(|e| panic!("{id}: {e}"));
        let Some(Outcome::Rows(rows)) = outcomes.last() else {
            panic!("{id}: no rows")
        };
        let normed: Vec<Vec<String>> = rows
            .values()
            .map(|r| r.iter().map(norm).collect())
            .collect();
        let want = &sqlite["queries"][&id];
        assert_eq!(
            normed.len() as u64,
            want["rows"].as_u64().unwrap(),
            "{id}: row count"
        );
        assert_eq!(
            fingerprint(&normed),
            want["fp"].as_str().unwrap(),
            "{id}: rows differ from SQLite's"
        );
    }
}
