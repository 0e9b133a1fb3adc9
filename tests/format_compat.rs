//! The store format stays readable.  `tests/data/format-v1/db` is a database written once
//! by format version 1 (from `source.dq` and `extra.nt` there) and committed as it is:
//! every later version must open it, answer exactly as `answers.txt` says, export exactly
//! `export.dq`, and find it consistent (`check`).  A change that cannot read it must come
//! with a migration and a new format version, not with new answers.

use dossier::io::ExportFormat;
use dossier::{Db, Outcome, Value};
use std::fmt::Write as _;
use std::path::Path;

fn fixture() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/format-v1"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The committed database, opened from a copy (opening writes to it).
fn open_copy() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    copy_dir(&fixture().join("db"), &path);
    let db = Db::open(&path).unwrap();
    (dir, db)
}

/// Questions whose answers must not change; each touches a part of the format (the
/// dictionary, each value kind's ids, each index, the counts, the catalog, the imports).
const QUESTIONS: &[&str] = &[
    "describe haftar.",
    "describe fixture_event.",
    "find ?b where haftar backed_by ?b order by ?b.",
    "find ?a ?b where ?a allied_with ?b order by ?a, ?b.",
    "find ?x ?z where ?x located_within ?z order by ?x, ?z.",
    "find ?v where fixture_event goldstein ?v order by ?v.",
    "find ?v where fixture_event num_mentions ?v order by ?v.",
    "find ?v where fixture_event root_event ?v order by ?v.",
    "find ?d where fixture_event date ?d order by ?d.",
    "find ?e ?d where ?e date ?d, ?d in 2020-09 order by ?e, ?d.",
    "find ?e ?g where ?e goldstein ?g, ?g < 0 order by ?e.",
    "find ?x ?l where ?x a Delegation; label ?l order by ?x, ?l.",
    "find ?s count(?x) as labelled where ?x label ?l from ?s order by ?s.",
    "find ?x where ?x alias ?a, contains(lower(?a), \"haftar\") order by ?x.",
    "search \"5+5\".",
    "check.",
];

fn cell(v: &Option<Value>) -> String {
    v.as_ref().map_or_else(String::new, Value::to_string)
}

/// Everything the database answers, as text.
fn answers(db: &Db) -> String {
    let mut out = String::new();
    let stats = db.stats().unwrap();
    writeln!(
        out,
        "# stats\nfacts {}\ntriples {}\nsources {}\nrules {}",
        stats.facts, stats.triples, stats.sources, stats.rules
    )
    .unwrap();
    for (title, list) in [
        ("predicates", &stats.predicates),
        ("classes", &stats.classes),
        ("sources", &stats.by_source),
    ] {
        writeln!(out, "\n# {title}").unwrap();
        for (v, n) in list {
            writeln!(out, "{v} {n}").unwrap();
        }
    }
    writeln!(out, "\n# schema").unwrap();
    for line in db.schema().unwrap().iter().chain(&db.rules().unwrap()) {
        writeln!(out, "{line}").unwrap();
    }
    for q in QUESTIONS {
        writeln!(out, "\n# {q}").unwrap();
        let mut executed = db.script(q).map(Result::unwrap);
        match executed.next().map(|e| e.outcome) {
            Some(Outcome::Rows(rows)) => {
                writeln!(out, "{}", rows.columns().join("\t")).unwrap();
                for r in rows.values() {
                    let cells: Vec<String> = r.iter().map(cell).collect();
                    writeln!(out, "{}", cells.join("\t")).unwrap();
                }
            }
            Some(other) => writeln!(out, "{other}").unwrap(),
            None => panic!("{q}: no outcome"),
        }
    }
    out
}

/// Compare with a committed file; `DOSSIER_BLESS=1` writes it instead (only when the
/// fixture itself is made again, for a new format version).
fn compare(name: &str, got: &[u8]) {
    let path = fixture().join(name);
    if std::env::var_os("DOSSIER_BLESS").is_some() {
        std::fs::write(&path, got).unwrap();
    }
    let expected = std::fs::read(&path).unwrap();
    assert!(
        got == expected,
        "tests/data/format-v1/{name} differs from what the database now gives:\n{}",
        String::from_utf8_lossy(got)
    );
}

#[test]
fn a_format_v1_database_opens_and_answers_the_same() {
    let (_dir, db) = open_copy();
    assert!(db.store().verify().unwrap().is_empty());
    let text = answers(&db);
    assert!(text.contains("\n# check.\nno problems found"), "{text}");
    compare("answers.txt", text.as_bytes());
    let mut export = Vec::new();
    db.export(&mut export, &ExportFormat::Dq).unwrap();
    compare("export.dq", &export);
}

/// It also takes writes, and keeps them across a reopen.
#[test]
fn a_format_v1_database_takes_writes() {
    let (dir, db) = open_copy();
    let before = db.stats().unwrap().facts;
    db.execute("fixture_event num_mentions 7. del fixture_event goldstein -2.5.")
        .unwrap();
    drop(db);
    let db = Db::open(dir.path().join("db")).unwrap();
    assert_eq!(db.stats().unwrap().facts, before);
    let rows = db
        .query("find ?v where fixture_event num_mentions ?v order by ?v.")
        .unwrap();
    let got: Vec<String> = rows.values().map(|r| cell(&r[0])).collect();
    assert_eq!(got, ["-3", "7", "12"]);
    assert!(db.store().verify().unwrap().is_empty());
}
