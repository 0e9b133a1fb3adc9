//! GDELT event exports → facts, on the vendored samples in `tests/data/gdelt/`.

mod common;

use common::about;
use dossier::io::gdelt::{self, GdeltOptions};
use dossier::io::{import_file, BadRows, ImportOptions, ImportSummary};
use dossier::{Date, Quad, Value};
use std::collections::BTreeSet;
use std::path::Path;

fn data(name: &str) -> String {
    format!("{}/tests/data/gdelt/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn import(name: &str) -> (Vec<Quad>, ImportSummary) {
    let mut out = Vec::new();
    let opts = ImportOptions {
        source: Some("gdelt_sample".into()),
        ..ImportOptions::default()
    };
    let summary = import_file(Path::new(&data(name)), &opts, &mut out).unwrap();
    (out, summary)
}

fn events(quads: &[Quad]) -> usize {
    quads
        .iter()
        .filter(|q| q.predicate == "type" && q.subject.starts_with("gdelt:"))
        .count()
}

fn set(lines: &[&str]) -> BTreeSet<String> {
    lines.iter().map(|s| s.to_string()).collect()
}

#[test]
fn row_counts_of_the_samples() {
    for (file, rows) in [
        ("20191024143000.export.CSV", 2111),
        ("20180326044500.export.CSV", 1540),
        ("v1-events.csv", 710),
    ] {
        let (quads, s) = import(file);
        println!("{file}: {s}");
        assert_eq!(s.records, rows, "{file}");
        assert_eq!(events(&quads), rows as usize, "{file}");
        assert_eq!(s.skipped.count, 0, "{file}");
        assert_eq!(s.facts, quads.len() as u64);
        assert!(quads
            .iter()
            .all(|q| q.source.as_deref() == Some("gdelt_sample")));
        assert!(
            !s.counts
                .contains_key("CAMEO event codes not in the lookup table"),
            "{file}"
        );
    }
}

#[test]
fn gdelt_1_mixes_57_and_58_columns() {
    let (quads, s) = import("v1-events.csv");
    assert_eq!(s.counts["GDELT 1.0 backfile rows (57 columns)"], 201);
    assert_eq!(s.counts["GDELT 1.0 daily rows (58 columns)"], 509);
    let urls = quads.iter().filter(|q| q.predicate == "source_url").count();
    assert_eq!(urls, 509, "only the 58-column rows have SOURCEURL");
    // A 58-column row: its SOURCEURL and DATEADDED are read from the right columns.
    let e = about(&quads, "gdelt:564111644");
    assert!(e.contains("source_url \"http://wtop.com/lifestyle/2016/07/deepest-darkest-secrets-now-display-national-postal-museum/\""), "{e:?}");
    assert!(e.contains("date_added 2016-07-28"));
    assert!(e.contains("date 2006-07-31"));
}

#[test]
fn a_gdelt_1_backfile_row_field_by_field() {
    // 1552989  19820102 ... GBR BRITISH GBR ... LBY LIBYA LBY ... 1 042 042 04 1 1.9 1 1 1 4.52...
    // ActionGeo: 4 "London, London, City of, United Kingdom" UK UKH9 51.5 -0.116667 -2601889; DATEADDED 20130203
    let (quads, _) = import("v1-events.csv");
    assert_eq!(
        about(&quads, "gdelt:1552989"),
        set(&[
            "type Meeting",
            "date 1982-01-02",
            "actor1 country:GBR",
            "actor2 country:LBY",
            "event_code cameo:042",
            "event_root cameo:04",
            "quad_class 1",
            "goldstein 1.9",
            "num_mentions 1",
            "num_sources 1",
            "num_articles 1",
            "avg_tone 4.52261306532663",
            "root_event true",
            "venue place:-2601889",
            "date_added 2013-02-03",
        ])
    );
    let gbr = about(&quads, "country:GBR");
    for f in [
        "type State",
        "type Country",
        "label \"United Kingdom\"",
        "iso3 \"GBR\"",
        "fips \"UK\"",
        "alias \"BRITISH\"",
        "cameo_code \"GBR\"",
    ] {
        assert!(gbr.contains(f), "{f} not in {gbr:?}");
    }
    assert_eq!(
        about(&quads, "place:-2601889"),
        set(&[
            "type City",
            "label \"London, London, City of, United Kingdom\"",
            "located_in country:GBR",
            "latitude 51.5",
            "longitude -0.116667",
            "adm1 \"UKH9\"",
        ])
    );
    assert_eq!(
        about(&quads, "cameo:042"),
        set(&["type EventCode", "code \"042\"", "label \"Make a visit\""])
    );
    assert_eq!(
        about(&quads, "cameo:04"),
        set(&["type EventCode", "code \"04\"", "label \"CONSULT\""])
    );
}

#[test]
fn a_gdelt_2_row_field_by_field() {
    // 741917164 20180326 ... Actor2: LEG CONGRESS (type LEG) ... 1 046 046 04 1 7.0 4 1 4 0.30864197530865
    // ActionGeo: 5 "Tripura, Tripura, India" IN IN26 70256 24 92 -2113451; 20180326044500; URL
    let (quads, _) = import("20180326044500.export.CSV");
    assert_eq!(
        about(&quads, "gdelt:741917164"),
        set(&[
            "type Talks",
            "date 2018-03-26",
            "actor2 actor:LEG",
            "event_code cameo:046",
            "event_root cameo:04",
            "quad_class 1",
            "goldstein 7.0",
            "num_mentions 4",
            "num_sources 1",
            "num_articles 4",
            "avg_tone 0.30864197530865",
            "root_event true",
            "venue place:-2113451",
            "date_added 2018-03-26",
            "source_url \"https://www.news18.com/news/politics/opposition-may-tweak-2019-strategy-to-steal-modi-vs-others-advantage-from-bjp-1699597.html\"",
        ])
    );
    let leg = about(&quads, "actor:LEG");
    // A role without a country is one actor for GDELT: every legislature the coder could
    // not place.  Its first name is the label, the others are aliases.
    for f in [
        "type Legislature",
        "cameo_code \"LEG\"",
        "role role:LEG",
        "label \"LEGISLATOR\"",
        "alias \"CONGRESS\"",
    ] {
        assert!(leg.contains(f), "{f} not in {leg:?}");
    }
    assert_eq!(
        about(&quads, "role:LEG"),
        set(&["type ActorRole", "code \"LEG\"", "label \"Legislature\""])
    );
    let place = about(&quads, "place:-2113451");
    for f in [
        "type Region",
        "label \"Tripura, Tripura, India\"",
        "located_in country:IND",
        "adm1 \"IN26\"",
        "adm2 \"70256\"",
        "latitude 24.0",
        "longitude 92.0",
    ] {
        assert!(place.contains(f), "{f} not in {place:?}");
    }
    // Values are typed, not strings.
    let date = quads
        .iter()
        .find(|q| q.subject == "gdelt:741917164" && q.predicate == "date")
        .unwrap();
    assert_eq!(date.object, Value::Date(Date::day(2018, 3, 26).unwrap()));
}

#[test]
fn descriptions_are_emitted_once() {
    let (quads, _) = import("20191024143000.export.CSV");
    let labels = quads
        .iter()
        .filter(|q| q.subject == "country:USA" && q.predicate == "label")
        .count();
    assert_eq!(labels, 1);
    let unique: std::collections::HashSet<&Quad> = quads.iter().collect();
    assert_eq!(unique.len(), quads.len(), "no fact is emitted twice");
}

/// A valid 61-column row with the given id and GoldsteinScale.
fn v2_row(id: &str, goldstein: &str) -> String {
    let mut f = vec![""; 61];
    f[0] = id;
    f[1] = "20200928";
    f[26] = "046";
    f[27] = "046";
    f[28] = "04";
    f[30] = goldstein;
    f.join("\t")
}

#[test]
fn bad_rows_fail_or_are_skipped() {
    let text = [
        v2_row("1", "7.0"),
        "1\t2\t3".to_string(),
        v2_row("2", "seven"),
        v2_row("3", "-2.0"),
    ]
    .join("\n");
    let mut out = Vec::new();
    let err = gdelt::import(
        text.as_bytes(),
        Some("bad.CSV"),
        &GdeltOptions::default(),
        &mut out,
    )
    .unwrap_err();
    let r = err.report().unwrap();
    assert_eq!((r.line, r.column), (2, 1));
    assert!(r.message.contains("3 columns"), "{}", r.message);
    assert_eq!(
        events(&out),
        1,
        "the first row's facts were already delivered"
    );

    let mut out = Vec::new();
    let opts = GdeltOptions {
        source: None,
        bad_rows: BadRows::Skip,
    };
    let s = gdelt::import(text.as_bytes(), Some("bad.CSV"), &opts, &mut out).unwrap();
    assert_eq!(s.records, 4);
    assert_eq!(s.skipped.count, 2);
    assert_eq!(s.skipped.first[0].line, 2);
    assert_eq!(s.skipped.first[1].line, 3);
    assert!(
        s.skipped.first[1]
            .message
            .contains("GoldsteinScale 'seven'"),
        "{}",
        s.skipped.first[1].message
    );
    assert_eq!(
        s.skipped.first[1].column, 48,
        "where field 31, GoldsteinScale, starts"
    );
    assert!(
        out.iter().all(|q| q.subject != "gdelt:2"),
        "nothing of a skipped row"
    );
    assert_eq!(events(&out), 2);
    println!("{s}");
}
