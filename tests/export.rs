//! Export: `.dq` text (exact output) and N-Quads (round trips through import).

mod common;

use dossier::io::export::{write_dq, write_nquads};
use dossier::io::rdf::{self, RdfFormat, RdfOptions};
use dossier::io::{ExportFormat, Namespaces};
use dossier::{Date, Db, Quad, Value};
use std::collections::HashSet;
use std::path::Path;

#[test]
fn dq_text_is_grouped_sorted_and_escaped() {
    let day = Date::day(2020, 9, 28).unwrap();
    let quads = vec![
        Quad::new("lna", "backed_by", Value::entity("uae")),
        Quad::new("lna", "backed_by", Value::entity("egypt")),
        Quad::new("lna", "type", Value::entity("ArmedGroup")),
        Quad::new("lna", "type", Value::entity("ArmedGroup")), // duplicate: written once
        Quad::new("haftar", "label", "Khalifa \"the Marshal\" Haftar\n\\"),
        Quad::new("haftar", "commands", Value::entity("lna")),
        Quad::new("5+5 commission", "type", Value::entity("Delegation")),
        Quad::new("hurghada_talks", "score", Value::Float(0.5)).from_source("aa_2020_09_28"),
        Quad::new("hurghada_talks", "date", Value::Date(day)).from_source("aa_2020_09_28"),
        Quad::new("hurghada_talks", "rounds", Value::Int(-2)).from_source("aa_2020_09_28"),
        Quad::new("lna", "backed_by", Value::entity("egypt")).from_source("aa_2020_09_28"),
        Quad::new("berlin", "limit", Value::Bool(true)).from_source("http://example.org/a b>"),
        Quad::new("berlin", "date", Value::Date(Date::year(2020).unwrap()))
            .from_source("http://example.org/a b>"),
        Quad::new("berlin", "date", Value::Date(Date::month(2020, 1).unwrap()))
            .from_source("http://example.org/a b>"),
        Quad::new("x", "p", Value::Float(f64::NAN)),
    ];
    let header = vec![
        "type ArmedGroup sub Actor.".to_string(),
        "pred backed_by: Actor -> Actor.".to_string(),
    ];
    let mut out = Vec::new();
    let s = write_dq(&mut out, &header, quads).unwrap();
    let expected = r#"type ArmedGroup sub Actor.
pred backed_by: Actor -> Actor.

<5+5 commission> a Delegation.
haftar commands lna;
    label "Khalifa \"the Marshal\" Haftar\n\\".
lna a ArmedGroup;
    backed_by egypt, uae.

from aa_2020_09_28 {
    hurghada_talks date 2020-09-28;
        rounds -2;
        score 0.5.
    lna backed_by egypt.
}

from <http://example.org/a b\>> {
    berlin date @2020, 2020-01;
        <limit> true.
}
"#;
    assert_eq!(String::from_utf8(out).unwrap(), expected);
    assert_eq!(s.facts, 13);
    assert_eq!(s.skipped.values().sum::<u64>(), 1);
}

#[test]
fn dq_of_nothing_is_the_header() {
    let mut out = Vec::new();
    write_dq(&mut out, &["# empty"], Vec::new()).unwrap();
    assert_eq!(out, b"# empty\n");
}

fn namespaces() -> Namespaces {
    Namespaces::with_base("http://dossier.example/")
        .with_prefix("m", "http://www.semwebtech.org/mondial/10/meta#")
        .unwrap()
}

fn import(format: RdfFormat, text: &[u8], ns: &Namespaces, blank_prefix: &str) -> Vec<Quad> {
    let mut o = RdfOptions::new(format);
    o.namespaces = ns.clone();
    o.blank_prefix = blank_prefix.into();
    let mut out = Vec::new();
    rdf::import(text, None, &o, &mut out).unwrap();
    out
}

fn rdf_quads(nq: &[u8]) -> HashSet<oxrdf::Quad> {
    oxttl::NQuadsParser::new()
        .for_slice(nq)
        .map(Result::unwrap)
        .collect()
}

/// Every kind of term the model keeps exactly, in the lexical forms export writes.
const NQ: &str = r#"<http://dossier.example/hurghada_talks> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://dossier.example/Talks> .
<http://dossier.example/hurghada_talks> <http://dossier.example/venue> <http://dossier.example/hurghada> <http://dossier.example/aa_2020_09_28> .
<http://dossier.example/hurghada_talks> <http://dossier.example/date> "2020-09-28"^^<http://www.w3.org/2001/XMLSchema#date> .
<http://dossier.example/offensive> <http://dossier.example/date> "2019-04"^^<http://www.w3.org/2001/XMLSchema#gYearMonth> .
<http://dossier.example/berlin> <http://dossier.example/date> "2020"^^<http://www.w3.org/2001/XMLSchema#gYear> <http://example.org/graphs/1> .
<http://dossier.example/lna> <http://dossier.example/strength> "25000"^^<http://www.w3.org/2001/XMLSchema#integer> .
<http://dossier.example/lna> <http://dossier.example/score> "-0.25"^^<http://www.w3.org/2001/XMLSchema#double> .
<http://dossier.example/lna> <http://dossier.example/score> "1e300"^^<http://www.w3.org/2001/XMLSchema#double> .
<http://dossier.example/lna> <http://dossier.example/active> "true"^^<http://www.w3.org/2001/XMLSchema#boolean> .
<http://dossier.example/lna> <http://dossier.example/label> "Libyan \"National\" Army\n\u00E9 \u2014 \U0001F600" .
<http://dossier.example/lna> <http://www.semwebtech.org/mondial/10/meta#name> "LNA" .
<http://dossier.example/lna> <http://www.w3.org/2002/07/owl#sameAs> <http://www.wikidata.org/entity/Q3501060> .
<http://dossier.example/a:b> <http://dossier.example/p> <urn:isbn:0451450523> .
"#;

#[test]
fn nquads_round_trip_fact_by_fact() {
    let ns = namespaces();
    let quads = import(RdfFormat::NQuads, NQ.as_bytes(), &ns, "");
    assert_eq!(quads.len(), 13);
    assert_eq!(
        quads[0],
        Quad::new("hurghada_talks", "type", Value::entity("Talks"))
    );
    assert_eq!(quads[1].source.as_deref(), Some("aa_2020_09_28"));
    assert_eq!(quads[10].predicate, "m:name");
    assert_eq!(quads[12].subject, "http://dossier.example/a:b");
    let mut out = Vec::new();
    let s = write_nquads(&mut out, &quads, &ns).unwrap();
    assert_eq!(s.facts, 13);
    assert_eq!(
        rdf_quads(&out),
        rdf_quads(NQ.as_bytes()),
        "{}",
        String::from_utf8_lossy(&out)
    );
    // And back again: the same facts.
    assert_eq!(import(RdfFormat::NQuads, &out, &ns, ""), quads);
}

#[test]
fn turtle_to_facts_to_nquads_to_facts() {
    let ttl = r#"@prefix : <http://dossier.example/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
:hurghada_talks a :Talks ; :party :lna , :gna ; :mediator [ :label "UNSMIL"@en ; :rank 1.50 ] ;
    :started "2020-09-28T10:00:00Z"^^xsd:dateTime ; :weight "0012"^^xsd:int ; :odd "x"^^:customType .
"#;
    let ns = namespaces();
    let first = import(RdfFormat::Turtle, ttl.as_bytes(), &ns, "i1_");
    let mut nq = Vec::new();
    write_nquads(&mut nq, &first, &ns).unwrap();
    // Blank nodes are exported as Skolem IRIs of their dossier names, so importing gives
    // the same names back.
    let second = import(RdfFormat::NQuads, &nq, &ns, "");
    assert_eq!(first, second, "{}", String::from_utf8_lossy(&nq));
    assert!(first.iter().any(|q| q.object == Value::Float(1.5)));
    assert!(first.iter().any(|q| q.object == Value::Int(12)));
}

#[test]
fn names_without_a_namespace_get_the_base() {
    let quads = vec![
        Quad::new("5+5 commission", "type", Value::entity("Delegation")),
        Quad::new("_:i1_b", "p", Value::Int(1)),
    ];
    let mut out = Vec::new();
    write_nquads(&mut out, &quads, &Namespaces::default()).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "<urn:dossier:5+5%20commission> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <urn:dossier:Delegation> .\n\
         <urn:dossier:.well-known/genid/i1_b> <urn:dossier:p> \"1\"^^<http://www.w3.org/2001/XMLSchema#integer> .\n"
    );
    // `_:` names are Skolem IRIs, so an import (with or without a blank-node prefix)
    // gives the same names back.
    let out = {
        let mut out = Vec::new();
        write_nquads(&mut out, &quads, &Namespaces::default()).unwrap();
        out
    };
    assert_eq!(
        import(RdfFormat::NQuads, &out, &Namespaces::default(), "i9_"),
        quads
    );
}

/// What the example lacks: a rule, floats, booleans, negative numbers, dates of each
/// precision, names that need `<…>`, strings with escapes, several sources per subject.
const EXTRA: &str = r#"
rule ?a allied_with ?b :- ?a backed_by ?s, ?b backed_by ?s, ?a != ?b.
lna strength 25000; score -0.25, 1.5e300; active true; founded @2014, 2014-05, 2014-05-16.
<5+5 military commission> a Delegation; label "the \"5+5\"\n\\ commission é — 😀".
gna active false from <http://example.org/a b>.
gna backed_by turkey from aa_2020_09_28.
"#;

/// The example plus [`EXTRA`].
fn example() -> Db {
    let db = common::libya();
    db.execute(EXTRA).unwrap();
    db
}

/// `Db::export` of the example gives exactly the bytes in `tests/data/export/` (a `.dq`
/// export is sorted so that the same facts give the same bytes; the N-Quads order is the
/// index order).  After an intended change of the output, `DOSSIER_BLESS=1 cargo test
/// --test export` rewrites the files; review their diff.
#[test]
fn example_exports_the_same_bytes() {
    let db = example();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/export");
    let formats = [
        ("libya.dq", ExportFormat::Dq),
        (
            "libya.nq",
            ExportFormat::NQuads(Namespaces::with_base("http://dossier.example/")),
        ),
    ];
    for (file, format) in formats {
        let mut out = Vec::new();
        let summary = db.export(&mut out, &format).unwrap();
        assert_eq!(summary.facts, db.stats().unwrap().facts, "{file}");
        let path = dir.join(file);
        if std::env::var_os("DOSSIER_BLESS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &out).unwrap();
        }
        let expected = std::fs::read(&path).unwrap();
        assert!(
            out == expected,
            "{file} differs from what the export writes:\n{}",
            String::from_utf8_lossy(&out)
        );
    }
}
