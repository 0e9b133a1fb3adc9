//! MONDIAL (Europe) as Turtle and as N-Triples: real RDF with a base, prefixes, blank
//! nodes, non-Latin text, and `xsd:date` / `xsd:gYear` literals.

use dossier::io::{import_file, ImportOptions, ImportSummary, Namespaces};
use dossier::{Date, Quad, Value};
use std::collections::HashSet;
use std::path::Path;

const TRIPLES: u64 = 64583;

fn import(file: &str, blank_prefix: &str) -> (Vec<Quad>, ImportSummary) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/mondial")
        .join(file);
    let namespaces = Namespaces::with_base("http://www.semwebtech.org/mondial/10/")
        .with_prefix("m", "http://www.semwebtech.org/mondial/10/meta#")
        .unwrap();
    let opts = ImportOptions {
        namespaces,
        blank_prefix: blank_prefix.into(),
        ..ImportOptions::default()
    };
    let mut quads = Vec::new();
    let summary = import_file(&path, &opts, &mut quads).unwrap();
    (quads, summary)
}

fn object<'q>(quads: &'q [Quad], s: &str, p: &str) -> Vec<&'q Value> {
    quads
        .iter()
        .filter(|q| q.subject == s && q.predicate == p)
        .map(|q| &q.object)
        .collect()
}

fn is_blank(q: &Quad) -> bool {
    q.subject.starts_with("_:") || q.object.as_entity().is_some_and(|o| o.starts_with("_:"))
}

#[test]
fn turtle_and_ntriples_give_the_same_facts() {
    let (ttl, ts) = import("mondial-europe.n3", "t_");
    let (nt, ns) = import("mondial-europe.nt", "n_");
    println!("turtle: {ts}\nntriples: {ns}");
    assert_eq!(ts.records, TRIPLES);
    assert_eq!(ns.records, TRIPLES);
    assert_eq!(ttl.len() as u64, TRIPLES);
    assert_eq!(nt.len() as u64, TRIPLES);
    assert!(
        ts.literals.is_empty() && ns.literals.is_empty(),
        "every literal fits the model"
    );

    // Blank node labels differ between the two files; everything else is identical.
    let named = |q: &[Quad]| {
        q.iter()
            .filter(|q| !is_blank(q))
            .cloned()
            .collect::<HashSet<_>>()
    };
    assert_eq!(named(&ttl), named(&nt));
    assert_eq!(
        ttl.iter().filter(|q| is_blank(q)).count(),
        nt.iter().filter(|q| is_blank(q)).count()
    );
    assert!(
        nt.iter().any(|q| q.subject == "_:n_genid1"),
        "blank nodes carry the import's prefix"
    );
}

#[test]
fn dates_become_dossier_dates() {
    let (quads, _) = import("mondial-europe.n3", "t_");
    let day = |y, m, d| Value::Date(Date::day(y, m, d).unwrap());
    assert_eq!(
        object(&quads, "countries/AL/", "m:independenceDate"),
        vec![&day(1912, 11, 28)]
    );
    assert_eq!(
        object(&quads, "countries/GR/", "m:independenceDate"),
        vec![&day(1829, 1, 1)]
    );
    assert_eq!(
        object(&quads, "organizations/AfDB/", "m:established"),
        vec![&day(1964, 9, 9)]
    );
    let dates = quads
        .iter()
        .filter(|q| matches!(q.predicate.as_str(), "m:independenceDate" | "m:established"));
    assert!(dates.clone().count() >= 100);
    assert!(dates
        .into_iter()
        .all(|q| matches!(q.object, Value::Date(_))));
    // xsd:gYear (population counts by year) become dates of year precision.
    let years: Vec<&Quad> = quads.iter().filter(|q| q.predicate == "m:year").collect();
    assert!(!years.is_empty());
    assert!(years
        .iter()
        .all(|q| matches!(&q.object, Value::Date(d) if d.month_part().is_none())));
    // rdf:type is `type`; names under the base are bare.
    assert!(quads.contains(&Quad::new(
        "countries/AL/",
        "type",
        Value::entity("m:Country")
    )));
}
