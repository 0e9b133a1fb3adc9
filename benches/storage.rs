//! Storage benchmark: bulk load, bytes on disk per fact, point lookups, single-statement
//! writes.  Run: `cargo bench --bench storage -- [DATA.nt]` (default: generates data with
//! `../shared/bench/gen.py` into `bench-out/`).  Prints one line per figure.

use dossier::model::{Date, Value};
use dossier::store::{Delta, IdPattern, StagedQuads, Store, StoreOptions, NO_SOURCE, QUAD_BUDGET};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

const BASE: &str = "http://dossier.example/";

/// A minimal reader for the generator's N-Triples (IRIs, plain and xsd:date literals).
fn read_nt(path: &Path) -> Vec<(String, String, Value)> {
    let f = std::io::BufReader::new(std::fs::File::open(path).expect("data file"));
    let local = |iri: &str| -> String {
        let iri = iri.trim_start_matches('<').trim_end_matches('>');
        if iri == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" {
            return "type".into();
        }
        iri.strip_prefix(BASE).unwrap_or(iri).to_string()
    };
    let mut out = Vec::new();
    for line in f.lines() {
        let line = line.expect("utf-8 line");
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (s, rest) = line.split_once(' ').expect("subject");
        let (p, rest) = rest.split_once(' ').expect("predicate");
        let o = rest.trim_end_matches('.').trim();
        let o = if o.starts_with('<') {
            Value::entity(local(o))
        } else {
            let end = o.rfind('"').expect("literal");
            let lex = &o[1..end];
            if o[end..].contains("XMLSchema#date") {
                Value::Date(Date::parse(lex).expect("date"))
            } else {
                Value::string(lex)
            }
        };
        out.push((local(s), local(p), o));
    }
    out
}

/// Facts `(s, p, o, source)` as an import stages them: distinct terms, quads of indexes.
fn stage<'f>(
    facts: impl Iterator<Item = (&'f str, &'f str, &'f Value, Option<String>)>,
) -> (Vec<Value>, StagedQuads) {
    let mut index: HashMap<Value, u32> = HashMap::new();
    let mut terms = Vec::new();
    let mut quads = StagedQuads::new(QUAD_BUDGET);
    let mut term = |v: Value| {
        *index.entry(v.clone()).or_insert_with(|| {
            terms.push(v);
            terms.len() as u32 - 1
        })
    };
    for (s, p, o, g) in facts {
        let q = [
            term(Value::entity(s)),
            term(Value::entity(p)),
            term(o.clone()),
            g.map_or(NO_SOURCE, |g| term(Value::entity(g))),
        ];
        quads.push(q).expect("stage");
    }
    (terms, quads)
}

fn dir_size(p: &Path) -> u64 {
    let mut n = 0;
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            let m = e.metadata().expect("metadata");
            n += if m.is_dir() {
                dir_size(&e.path())
            } else {
                m.len()
            };
        }
    }
    n
}

fn data_file() -> PathBuf {
    if let Some(p) = std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        return PathBuf::from(p);
    }
    let out = PathBuf::from("bench-out/e130k");
    let nt = out.join("data.nt");
    if !nt.exists() {
        let gen = ["../shared/bench/gen.py", "/work/shared/bench/gen.py"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("gen.py");
        let ok = std::process::Command::new("python3")
            .args([gen, "--events", "130000", "--out"])
            .arg(&out)
            .status()
            .expect("python3")
            .success();
        assert!(ok, "gen.py failed");
    }
    nt
}

fn main() {
    let nt = data_file();
    let t = Instant::now();
    let facts = read_nt(&nt);
    println!(
        "read {} facts from {} in {:.2} s (not part of the load figures)",
        facts.len(),
        nt.display(),
        t.elapsed().as_secs_f64()
    );

    let dir = tempfile_dir();
    let db_path = dir.join("bulk.db");
    // Bulk load: stage the facts as an import does, one import, one flush.
    let t = Instant::now();
    {
        let store = Store::open(
            &db_path,
            StoreOptions {
                durable: false,
                ..StoreOptions::default()
            },
        )
        .expect("open");
        let _w = store.writer().expect("writer");
        let (terms, quads) = stage(facts.iter().map(|(s, p, o)| (&s[..], &p[..], o, None)));
        let t_stage = t.elapsed();
        let stats = store.import(terms, quads, Vec::new()).expect("import");
        let t_commit = t.elapsed();
        store.flush().expect("flush");
        println!(
            "bulk load: {} facts in {:.2} s = {:.0} facts/s (staging {:.2} s, import {:.2} s, flush {:.2} s)",
            stats.added,
            t.elapsed().as_secs_f64(),
            stats.added as f64 / t.elapsed().as_secs_f64(),
            t_stage.as_secs_f64(),
            (t_commit - t_stage).as_secs_f64(),
            (t.elapsed() - t_commit).as_secs_f64()
        );
        let (dict_blocks, index_blocks) = store.block_counts().expect("blocks");
        println!("sled entries: {dict_blocks} dictionary blocks, {index_blocks} index blocks");
    }
    let size = dir_size(&db_path);
    println!(
        "disk: {:.1} MB = {:.1} bytes per fact (after close)",
        size as f64 / 1e6,
        size as f64 / facts.len() as f64
    );

    // Reopen and measure point lookups: all facts of one subject.
    let t = Instant::now();
    let store = Store::open(&db_path, StoreOptions::default()).expect("reopen");
    println!("reopen: {:.1} ms", t.elapsed().as_secs_f64() * 1e3);
    let subjects: Vec<&str> = facts
        .iter()
        .step_by(facts.len() / 2000)
        .map(|f| f.0.as_str())
        .collect();
    let ids: Vec<_> = subjects
        .iter()
        .map(|s| {
            store
                .lookup_entity(s, None)
                .expect("lookup")
                .expect("known")
        })
        .collect();
    let t = Instant::now();
    let mut rows = 0;
    for _ in 0..5 {
        for id in &ids {
            rows += store
                .quads(&IdPattern::new(Some(*id), None, None))
                .expect("scan")
                .count();
        }
    }
    let per = t.elapsed().as_secs_f64() / (5 * ids.len()) as f64;
    println!(
        "point lookup (all facts of a subject, {:.1} rows avg): {:.2} µs",
        rows as f64 / (5 * ids.len()) as f64,
        per * 1e6
    );
    let t = Instant::now();
    for s in &subjects {
        let _ = store.lookup_entity(s, None).expect("lookup");
    }
    println!(
        "dictionary lookup by name: {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / subjects.len() as f64
    );

    // Single-statement writes, durable (flush per statement) and not.
    for durable in [true, false] {
        let path = dir.join(format!("single-{durable}.db"));
        let store = Store::open(
            &path,
            StoreOptions {
                durable,
                ..StoreOptions::default()
            },
        )
        .expect("open");
        let n = if durable { 300 } else { 3000 };
        let rate = single_statements(&store, &facts[..n]);
        let how = if durable {
            "durable, flushed each"
        } else {
            "not flushed"
        };
        println!("single-fact statements ({how}): {rate:.0} statements/s");
    }
    // The same into a store whose facts come from 100,000 sources: what a commit costs
    // must not grow with the number of sources (or predicates, or classes).
    let store = Store::open(
        &dir.join("sourced.db"),
        StoreOptions {
            durable: false,
            ..StoreOptions::default()
        },
    )
    .expect("open");
    {
        let _w = store.writer().expect("writer");
        let sourced = facts
            .iter()
            .take(100_000)
            .enumerate()
            .map(|(i, (s, p, o))| (&s[..], &p[..], o, Some(format!("article_{i}"))));
        let (terms, quads) = stage(sourced);
        store.import(terms, quads, Vec::new()).expect("import");
    }
    let rate = single_statements(&store, &facts[100_000..103_000]);
    println!(
        "single-fact statements (not flushed, 100,000 sources stored): {rate:.0} statements/s"
    );
    if std::env::var_os("KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    } else {
        println!("kept {}", dir.display());
    }
}

/// Commit each fact as its own statement; statements per second.
fn single_statements(store: &Store, facts: &[(String, String, Value)]) -> f64 {
    let t = Instant::now();
    for (s, p, o) in facts {
        let _w = store.writer().expect("writer");
        let mut delta = Delta::new();
        let q = [
            store.intern_entity(&mut delta, s).expect("intern"),
            store.intern_entity(&mut delta, p).expect("intern"),
            store.intern(&mut delta, o).expect("intern"),
            dossier::store::Id::NONE,
        ];
        delta.add(q);
        store.commit(delta).expect("commit");
    }
    facts.len() as f64 / t.elapsed().as_secs_f64()
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("dossier-bench-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
