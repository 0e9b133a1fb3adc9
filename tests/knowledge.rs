//! Knowledge in and out through the database: real data imports with the counts of the
//! files, and exports that load back into the same database.

mod common;

use common::libya;
use dossier::io::{export, ImportOptions, Namespaces};
use dossier::{Db, Quad, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

fn quad_set(db: &Db) -> BTreeSet<String> {
    db.quads().unwrap().iter().map(Quad::to_string).collect()
}

fn count(db: &Db, q: &str) -> i64 {
    match db.query(q).unwrap().next().unwrap().values()[0] {
        Some(Value::Int(n)) => n,
        ref other => panic!("{other:?}"),
    }
}

/// The whole database as a `.dq` script: schema and rules first, then facts by source.
fn export_dq(db: &Db) -> String {
    let mut header = db.schema().unwrap();
    header.extend(db.rules().unwrap());
    let mut out = Vec::new();
    export::write_dq(&mut out, &header, db.quads().unwrap()).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn dq_export_loads_back_into_the_same_database() {
    let a = libya();
    a.execute("rule ?a rival_of ?b :- ?a opposes ?b.").unwrap();
    let text = export_dq(&a);
    let b = Db::memory().unwrap();
    b.execute(&text).unwrap();
    assert_eq!(
        quad_set(&a),
        quad_set(&b),
        "facts differ after dq -> db -> dq"
    );
    assert_eq!(a.schema().unwrap(), b.schema().unwrap());
    assert_eq!(a.rules().unwrap(), b.rules().unwrap());
    assert_eq!(a.sources().unwrap(), b.sources().unwrap());
    // And the export of the copy is the same text.
    assert_eq!(text, export_dq(&b));
}

#[test]
fn nquads_export_loads_back_fact_by_fact() {
    let a = libya();
    let ns = Namespaces::with_base("http://dossier.example/");
    let mut nq = Vec::new();
    export::write_nquads(&mut nq, a.quads().unwrap(), &ns).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("libya.nq");
    std::fs::write(&file, &nq).unwrap();
    let b = Db::memory().unwrap();
    let opts = ImportOptions {
        namespaces: ns.clone(),
        ..ImportOptions::default()
    };
    let imported = b.import(&file, &opts, &mut |_| {}).unwrap();
    assert_eq!(imported.stats.added as usize, a.quads().unwrap().len());
    assert_eq!(
        quad_set(&a),
        quad_set(&b),
        "facts differ after nq -> db -> nq"
    );
    let mut again = Vec::new();
    export::write_nquads(&mut again, b.quads().unwrap(), &ns).unwrap();
    // The same lines (their order follows the ids each database gave its terms).
    let lines = |b: Vec<u8>| -> BTreeSet<String> {
        String::from_utf8(b)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(lines(nq), lines(again));
}

#[test]
fn mondial_imports_with_the_files_triple_count_and_real_dates() {
    let ns = Namespaces::with_base("http://www.semwebtech.org/mondial/10/")
        .with_prefix("m", "http://www.semwebtech.org/mondial/10/meta#")
        .unwrap();
    let lines = std::fs::read_to_string(data("mondial/mondial-europe.nt")).unwrap();
    let distinct = lines
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect::<BTreeSet<_>>()
        .len() as u64;
    assert_eq!(distinct, 64566);
    for file in ["mondial/mondial-europe.n3", "mondial/mondial-europe.nt"] {
        let db = Db::memory().unwrap();
        let opts = ImportOptions {
            namespaces: ns.clone(),
            ..ImportOptions::default()
        };
        let imported = db.import(&data(file), &opts, &mut |_| {}).unwrap();
        // The file states 64,583 triples, 17 of them twice (the same line repeated): a
        // graph is a set, so 64,566 facts.
        assert_eq!(imported.summary.facts, 64583, "{file}");
        assert_eq!(imported.stats.added, distinct, "{file}");
        assert_eq!(db.stats().unwrap().facts, distinct);
        assert!(db.store().verify().unwrap().is_empty());
        // Independence dates are dates of day precision, founding years dates of year
        // precision: date comparisons work on them.
        let after_1990 = count(
            &db,
            "find count(?c) where ?c m:independenceDate ?d, ?d > 1990.",
        );
        assert!(
            after_1990 >= 15,
            "{after_1990} European states independent after 1990"
        );
        let rows = db
            .query("find ?d where <countries/AL/> m:independenceDate ?d.")
            .unwrap();
        let d = rows.values().next().map(|r| r[0].clone());
        assert_eq!(
            d,
            Some(Some(Value::Date(dossier::Date::day(1912, 11, 28).unwrap()))),
            "{file}"
        );
    }
}

#[test]
fn gdelt_samples_import_with_their_row_counts() {
    for (file, events) in [
        ("gdelt/20191024143000.export.CSV", 2111),
        ("gdelt/20180326044500.export.CSV", 1540),
        ("gdelt/v1-events.csv", 710),
    ] {
        let db = Db::memory().unwrap();
        let opts = ImportOptions {
            format: Some(dossier::io::Format::Gdelt),
            ..ImportOptions::default()
        };
        let imported = db.import(&data(file), &opts, &mut |_| {}).unwrap();
        assert_eq!(imported.summary.records, events, "{file}");
        assert_eq!(
            imported.stats.added, imported.summary.facts,
            "{file}: every fact was new and landed"
        );
        let n = count(&db, "find count(?e) where ?e event_code ?c.");
        assert_eq!(n, events as i64, "{file}");
        // With the domain schema loaded, the imported facts fit it.
        let schema = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/schema.dq"),
        )
        .unwrap();
        db.execute(&schema).unwrap();
        let problems = db.execute("check.").unwrap();
        assert!(
            matches!(problems.last(), Some(dossier::Outcome::Done(_))),
            "{file}: {problems:?}"
        );
    }
}

#[test]
fn a_failed_import_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.nt");
    let mut text = String::new();
    for i in 0..5000 {
        text.push_str(&format!("<http://x/e{i}> <http://x/p> \"v{i}\" .\n"));
    }
    text.push_str("<http://x/broken> <http://x/p> .\n");
    std::fs::write(&file, text).unwrap();
    let db = Db::memory().unwrap();
    let err = db
        .import(&file, &ImportOptions::default(), &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains(":5001:"), "{err}");
    assert_eq!(
        db.stats().unwrap().facts,
        0,
        "nothing of the failed import remains"
    );
    // Skipping bad rows imports the rest.
    let opts = ImportOptions {
        bad_rows: dossier::io::BadRows::Skip,
        ..ImportOptions::default()
    };
    let imported = db.import(&file, &opts, &mut |_| {}).unwrap();
    assert_eq!(imported.stats.added, 5000);
    assert_eq!(imported.summary.skipped.count, 1);
}
