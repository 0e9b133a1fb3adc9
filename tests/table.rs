//! CSV/TSV + mapping file → facts, on `examples/acled/`.

mod common;

use common::about;
use dossier::io::table::{self, TableOptions};
use dossier::io::{import_file, BadRows, ImportOptions, Mapping};
use dossier::{Date, Quad, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/acled")
        .join(name)
}

const LNA: &str = "actor:military_forces_of_libya_2014_libyan_national_army_lna";
const GNA: &str = "actor:military_forces_of_libya_2016_government_of_national_accord_gna";

#[test]
fn acled_example_imports() {
    let opts = ImportOptions {
        mapping: Some(example("mapping.toml")),
        ..ImportOptions::default()
    };
    let mut quads = Vec::new();
    let s = import_file(&example("events.csv"), &opts, &mut quads).unwrap();
    println!("{s}");
    assert_eq!(s.records, 5);
    assert_eq!(s.skipped.count, 0);
    assert!(quads
        .iter()
        .all(|q| q.source.as_deref() == Some("acled_example")));

    let talks = about(&quads, "acled:LBY9003");
    for f in [
        "type StrategicDevelopment".to_string(),
        "date 2020-09-28".into(),
        format!("party {LNA}"),
        format!("party {GNA}"),
        "mediator actor:un_united_nations_support_mission_in_libya_unsmil".into(),
        "venue city:hurghada".into(),
        "fatalities 0".into(),
        "reported_by source:example_wire".into(),
    ] {
        assert!(talks.contains(&f), "{f} not in {talks:?}");
    }
    // split: two mediators, two sources.
    let ceasefire = about(&quads, "acled:LBY9004");
    assert!(
        ceasefire.contains("mediator actor:government_of_germany_2005"),
        "{ceasefire:?}"
    );
    assert_eq!(
        ceasefire
            .iter()
            .filter(|f| f.starts_with("mediator "))
            .count(),
        2
    );
    let strike = about(&quads, "acled:LBY9002");
    assert_eq!(
        strike
            .iter()
            .filter(|f| f.starts_with("reported_by "))
            .count(),
        2
    );
    assert!(strike.contains("type RemoteViolence"));
    // Empty cells yield no fact: no actor2, no fatalities.
    let protest = about(&quads, "acled:LBY9005");
    assert_eq!(
        protest.iter().filter(|f| f.starts_with("party ")).count(),
        1
    );
    assert!(!protest.iter().any(|f| f.starts_with("fatalities")));
    assert!(protest.contains("type Protest"));
    // Facts about other subjects.
    assert!(about(&quads, LNA)
        .contains("label \"Military Forces of Libya (2014-) Libyan National Army (LNA)\""));
    let hurghada = about(&quads, "city:hurghada");
    for f in [
        "type City",
        "label \"Hurghada\"",
        "located_in country:egypt",
        "latitude 27.2579",
        "longitude 33.8116",
    ] {
        assert!(hurghada.contains(f), "{f} not in {hurghada:?}");
    }
    let date = quads
        .iter()
        .find(|q| q.subject == "acled:LBY9001" && q.predicate == "date")
        .unwrap();
    assert_eq!(date.object, Value::Date(Date::day(2019, 4, 4).unwrap()));
}

const MAPPING: &str = r#"
[table]
subject = "ev:{id}"

[[fact]]
predicate = "fatalities"
column = "deaths"
kind = "int"

[[fact]]
predicate = "date"
column = "day"
kind = "date"
"#;

fn run(csv: &str, bad_rows: BadRows) -> dossier::Result<(Vec<Quad>, dossier::io::ImportSummary)> {
    let m = Mapping::parse(MAPPING, Some("m.toml"))?;
    let mut out = Vec::new();
    let opts = TableOptions {
        bad_rows,
        ..TableOptions::default()
    };
    let s = table::import(csv.as_bytes(), Some("t.csv"), &m, &opts, &mut out)?;
    Ok((out, s))
}

#[test]
fn bad_rows_fail_or_are_skipped() {
    let csv = "id,deaths,day\n1,3,2020-01-01\n2,many,2020-01-02\n3,1,2020-02-30\n4,0,2020-03-01\n";
    let err = run(csv, BadRows::Fail).unwrap_err();
    let r = err.report().unwrap();
    assert_eq!((r.line, r.column), (3, 3));
    assert_eq!(r.line_text, "2,many,2020-01-02");
    assert!(
        r.message.contains("'many' is not an integer"),
        "{}",
        r.message
    );

    let (quads, s) = run(csv, BadRows::Skip).unwrap();
    assert_eq!(s.records, 4);
    assert_eq!(s.skipped.count, 2);
    assert_eq!(s.skipped.first[1].line, 4);
    assert!(
        s.skipped.first[1].message.contains("day 30 does not exist"),
        "{}",
        s.skipped.first[1].message
    );
    let subjects: BTreeSet<&str> = quads.iter().map(|q| q.subject.as_str()).collect();
    assert_eq!(subjects, BTreeSet::from(["ev:1", "ev:4"]));
}

#[test]
fn short_rows_are_bad_rows() {
    let (quads, s) = run("id,deaths,day\n1,3\n", BadRows::Skip).unwrap();
    assert!(quads.is_empty());
    assert!(
        s.skipped.first[0].message.contains("the row has 2 fields"),
        "{}",
        s.skipped.first[0].message
    );
}

#[test]
fn mapping_errors_point_into_the_mapping_file() {
    let err = Mapping::parse("[table]\nsubject = \"x\"\n[[fact]]\npredicate = \"p\"\ncolumn = \"c\"\nkind = \"number!\"\n", Some("m.toml")).unwrap_err();
    let r = err.report().unwrap();
    assert_eq!((r.file.as_deref(), r.line), (Some("m.toml"), 6));
    assert!(r.message.contains("kind 'number!'"), "{}", r.message);

    let err = Mapping::parse("[table\n", None).unwrap_err();
    assert_eq!(err.report().unwrap().line, 1);

    let err = Mapping::parse("[[fact]]\npredicate = \"p\"\nvalue = \"{x\"\n", None).unwrap_err();
    assert!(
        err.report().unwrap().message.contains("no subject")
            || err.report().unwrap().message.contains("unclosed")
    );

    // A column missing from the data's header is reported at the template.
    let m = Mapping::parse(MAPPING, Some("m.toml")).unwrap();
    let mut out = Vec::new();
    let err = table::import(
        "id,dead,day\n".as_bytes(),
        None,
        &m,
        &TableOptions::default(),
        &mut out,
    )
    .unwrap_err();
    let r = err.report().unwrap();
    assert_eq!(r.line, 7);
    assert!(
        r.message
            .contains("column 'deaths' is not in the header (id, dead, day)"),
        "{}",
        r.message
    );
}

#[test]
fn tsv_without_header_by_position() {
    let m = Mapping::parse("[table]\nheader = false\ndelimiter = \"tab\"\nsubject = \"{1}\"\n[[fact]]\npredicate = \"label\"\nvalue = \"{2|upper}\"\n", None).unwrap();
    let mut out = Vec::new();
    table::import(
        "lna\tLibyan National Army\n".as_bytes(),
        None,
        &m,
        &TableOptions::default(),
        &mut out,
    )
    .unwrap();
    assert_eq!(out, vec![Quad::new("lna", "label", "LIBYAN NATIONAL ARMY")]);
}

#[test]
fn a_table_needs_a_mapping() {
    let err = import_file(
        &example("events.csv"),
        &ImportOptions::default(),
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("needs --mapping"), "{err}");
    let err = import_file(
        &example("README.unknown"),
        &ImportOptions::default(),
        &mut Vec::new(),
    )
    .unwrap_err();
    assert!(matches!(err, dossier::Error::Io { .. }), "{err}");
}

#[test]
fn an_unclosed_quote_is_an_error_at_its_line() {
    // The quote opened on line 3 never closes: without the check, rows 3–5 became one
    // field and the import reported success with 2 of 5 rows.
    let csv = "id,deaths,day\n1,3,2020-01-01\n2,\"4,2020-01-02\n3,1,2020-01-03\n4,0,2020-03-01\n";
    for policy in [BadRows::Fail, BadRows::Skip] {
        let err = run(csv, policy).unwrap_err();
        let r = err.report().expect("a located error");
        assert_eq!(r.line, 3, "{err}");
        assert!(r.message.contains("never closed"), "{}", r.message);
    }
    // Quotes that close, doubled quotes and quotes inside a field are fine.
    let ok = "id,deaths,day\n\"1\",3,\"2020-01-01\"\n\"2\"\"\",4,2020-01-02\nx\"y,5,2020-01-03\n";
    let (quads, s) = run(ok, BadRows::Skip).unwrap();
    assert_eq!(s.records, 3);
    assert!(quads.iter().any(|q| q.subject == "ev:2\""), "{quads:?}");
}

#[test]
fn a_row_that_is_not_utf8_is_located() {
    let mut csv = b"id,deaths,day\n1,3,2020-01-01\n2,4".to_vec();
    csv.extend_from_slice(b"\xff,2020-01-02\n");
    let m = Mapping::parse(MAPPING, Some("m.toml")).unwrap();
    let mut out: Vec<Quad> = Vec::new();
    let err = table::import(
        &csv[..],
        Some("t.csv"),
        &m,
        &TableOptions::default(),
        &mut out,
    )
    .unwrap_err();
    let r = err.report().expect("a located error");
    assert_eq!((r.line, r.column), (3, 4), "{err}");
    assert_eq!(r.line_text, "2,4\u{fffd},2020-01-02");
    assert!(r.message.contains("UTF-8"), "{}", r.message);
}

#[test]
fn an_endless_record_stops_at_the_limit() {
    let m = Mapping::parse(MAPPING, Some("m.toml")).unwrap();
    let opts = TableOptions {
        max_record_bytes: 1 << 16,
        ..TableOptions::default()
    };
    // An open quote followed by endless short lines: one record that never ends.
    let endless = std::io::Read::chain(&b"id,deaths,day\n1,\""[..], std::io::repeat(b'\n'));
    let mut out: Vec<Quad> = Vec::new();
    let err = table::import(endless, Some("t.csv"), &m, &opts, &mut out).unwrap_err();
    let r = err.report().expect("a located error");
    assert_eq!(r.line, 2, "{err}");
    assert!(r.message.contains("longer than 64 KiB"), "{}", r.message);
}
