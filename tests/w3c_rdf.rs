//! The W3C RDF 1.1 N-Triples and Turtle test suites, vendored in `tests/data/w3c/`, run
//! through dossier's RDF import.
//!
//! * positive syntax tests must import without error;
//! * negative syntax tests must fail with an [`Error::Import`] naming a line;
//! * Turtle evaluation tests must give the same facts as their expected N-Triples, up to
//!   blank-node isomorphism.
//!
//! Eval tests compare dossier facts, i.e. both sides after the same mapping to the model.
//! The mapping keeps everything the suites test except language tags, which the model
//! cannot carry: `"chat"@en` and `"chat"@fr` both become the string `"chat"`.  Both the
//! action and the expected result lose their tags the same way, so every eval test still
//! passes, but the comparison cannot see a wrong language tag (oxttl's own test suite
//! covers that).  Every test runs twice: on the default fast N-Triples path and with
//! oxttl's strict checking, and both must pass all of them.

use dossier::io::rdf::{self, RdfFormat, RdfOptions};
use dossier::{Error, Quad, Value};
use oxrdf::dataset::CanonicalizationAlgorithm;
use oxrdf::{BlankNode, Dataset, GraphName, Literal, NamedNode, NamedOrBlankNode, Term};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const PUBLISHED: &str = "https://w3c.github.io/rdf-tests/rdf/rdf11/";
const MF: &str = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#";
const RDFT: &str = "http://www.w3.org/ns/rdftest#";
const RDF: &str = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";

struct Test {
    name: String,
    kind: String,
    action: String,
    result: Option<String>,
}

fn suite_dir(suite: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/w3c/rdf11")
        .join(suite)
}

/// The tests of a suite's `manifest.ttl`, in manifest order.
fn manifest(suite: &str) -> Vec<Test> {
    let base = format!("{PUBLISHED}{suite}/");
    let text = std::fs::read(suite_dir(suite).join("manifest.ttl")).unwrap();
    let triples: Vec<oxrdf::Triple> = oxttl::TurtleParser::new()
        .with_base_iri(format!("{base}manifest.ttl"))
        .unwrap()
        .for_slice(&text)
        .map(Result::unwrap)
        .collect();
    let get = |s: &NamedOrBlankNode, p: &str| -> Option<Term> {
        triples
            .iter()
            .find(|t| &t.subject == s && t.predicate.as_str() == p)
            .map(|t| t.object.clone())
    };
    let as_node = |t: Term| match t {
        Term::NamedNode(n) => NamedOrBlankNode::NamedNode(n),
        Term::BlankNode(b) => NamedOrBlankNode::BlankNode(b),
        other => panic!("not a node: {other}"),
    };
    let manifest =
        NamedOrBlankNode::NamedNode(NamedNode::new(format!("{base}manifest.ttl")).unwrap());
    let mut list = get(&manifest, &format!("{MF}entries")).map(as_node);
    let mut tests = Vec::new();
    let local = |t: Term| match t {
        Term::NamedNode(n) => n.as_str().strip_prefix(&base).unwrap().to_string(),
        other => panic!("not an IRI: {other}"),
    };
    while let Some(cell) = list {
        if matches!(&cell, NamedOrBlankNode::NamedNode(n) if n.as_str() == format!("{RDF}nil")) {
            break;
        }
        let entry = as_node(get(&cell, &format!("{RDF}first")).unwrap());
        let kind = match get(&entry, &format!("{RDF}type")).unwrap() {
            Term::NamedNode(n) => n.as_str().strip_prefix(RDFT).unwrap().to_string(),
            other => panic!("test type {other}"),
        };
        let name = match get(&entry, &format!("{MF}name")).unwrap() {
            Term::Literal(l) => l.value().to_string(),
            other => panic!("name {other}"),
        };
        tests.push(Test {
            name,
            kind,
            action: local(get(&entry, &format!("{MF}action")).unwrap()),
            result: get(&entry, &format!("{MF}result")).map(local),
        });
        list = get(&cell, &format!("{RDF}rest")).map(as_node);
    }
    tests
}

fn import(
    suite: &str,
    file: &str,
    format: RdfFormat,
    strict: bool,
    blank_prefix: &str,
) -> Result<Vec<Quad>, Error> {
    let mut opts = RdfOptions::new(format);
    opts.base_iri = Some(format!("{PUBLISHED}{suite}/{file}"));
    opts.blank_prefix = blank_prefix.into();
    opts.strict = strict;
    let mut out = Vec::new();
    let reader = std::fs::File::open(suite_dir(suite).join(file)).unwrap();
    rdf::import(reader, Some(file), &opts, &mut out)?;
    Ok(out)
}

/// Run one test; `Err` says why it failed.
fn run(suite: &str, t: &Test, strict: bool) -> Result<(), String> {
    let format = if t.kind.starts_with("TestNTriples") {
        RdfFormat::NTriples
    } else {
        RdfFormat::Turtle
    };
    let got = import(suite, &t.action, format, strict, "a_");
    match t.kind.as_str() {
        "TestNTriplesPositiveSyntax" | "TestTurtlePositiveSyntax" => {
            got.map(|_| ()).map_err(|e| e.to_string())
        }
        "TestNTriplesNegativeSyntax" | "TestTurtleNegativeSyntax" => match got {
            Ok(q) => Err(format!("accepted, {} facts", q.len())),
            Err(Error::Import(r)) if r.line >= 1 => Ok(()),
            Err(e) => Err(format!("rejected without a line: {e}")),
        },
        "TestTurtleEval" => {
            let got = got.map_err(|e| e.to_string())?;
            let result = t.result.as_ref().ok_or("eval test without mf:result")?;
            let expected = import(suite, result, RdfFormat::NTriples, strict, "e_")
                .map_err(|e| format!("expected file: {e}"))?;
            if isomorphic(&got, &expected) {
                Ok(())
            } else {
                Err(format!("got {got:#?}\nexpected {expected:#?}"))
            }
        }
        other => Err(format!("unknown test type {other}")),
    }
}

/// Run a suite; returns passes by test type, and the failures.
fn run_suite(suite: &str, strict: bool) -> (BTreeMap<String, usize>, Vec<String>) {
    let mut passed = BTreeMap::new();
    let mut failed = Vec::new();
    for t in manifest(suite) {
        match run(suite, &t, strict) {
            Ok(()) => *passed.entry(t.kind.clone()).or_insert(0) += 1,
            Err(why) => failed.push(format!("{} ({}): {why}", t.name, t.kind)),
        }
    }
    (passed, failed)
}

fn check(suite: &str, expected: &[(&str, usize)]) {
    for strict in [false, true] {
        let (passed, failed) = run_suite(suite, strict);
        let total: usize = passed.values().sum();
        println!(
            "{suite} ({}): {total} passed {passed:?}",
            if strict { "strict" } else { "fast path" }
        );
        assert!(
            failed.is_empty(),
            "{} failed:\n{}",
            failed.len(),
            failed.join("\n")
        );
        let expected: BTreeMap<String, usize> =
            expected.iter().map(|(k, n)| (k.to_string(), *n)).collect();
        assert_eq!(passed, expected);
    }
}

#[test]
fn n_triples_suite() {
    check(
        "rdf-n-triples",
        &[
            ("TestNTriplesNegativeSyntax", 29),
            ("TestNTriplesPositiveSyntax", 41),
        ],
    );
}

#[test]
fn turtle_suite() {
    check(
        "rdf-turtle",
        &[
            ("TestTurtleEval", 145),
            ("TestTurtleNegativeSyntax", 94),
            ("TestTurtlePositiveSyntax", 74),
        ],
    );
}

// ---- blank-node isomorphism of two fact sets ------------------------------------------

/// The facts as an RDF dataset: `_:` names become blank nodes, other names IRIs (unchecked:
/// only equality matters), literals typed by their value.
fn dataset(facts: &[Quad]) -> Dataset {
    let node = |name: &str| -> Term {
        match name.strip_prefix("_:") {
            Some(id) => BlankNode::new_unchecked(id).into(),
            None => NamedNode::new_unchecked(name).into(),
        }
    };
    let subject = |name: &str| -> NamedOrBlankNode {
        match name.strip_prefix("_:") {
            Some(id) => BlankNode::new_unchecked(id).into(),
            None => NamedNode::new_unchecked(name).into(),
        }
    };
    facts
        .iter()
        .map(|q| oxrdf::Quad {
            subject: subject(&q.subject),
            predicate: NamedNode::new_unchecked(q.predicate.as_str()),
            object: match &q.object {
                Value::Entity(e) => node(e),
                v => Literal::new_typed_literal(
                    format!("{v:?}"),
                    NamedNode::new_unchecked("urn:dossier:value"),
                )
                .into(),
            },
            graph_name: match q.source.as_deref() {
                None => GraphName::DefaultGraph,
                Some(g) => subject(g).into(),
            },
        })
        .collect()
}

/// Whether the two fact sets are the same up to a renaming of blank nodes.
fn isomorphic(a: &[Quad], b: &[Quad]) -> bool {
    let (mut a, mut b) = (dataset(a), dataset(b));
    a.canonicalize(CanonicalizationAlgorithm::Unstable);
    b.canonicalize(CanonicalizationAlgorithm::Unstable);
    a == b
}

#[test]
fn isomorphism_tells_graphs_apart() {
    let e = |s: &str, o: &str| Quad::new(s, "p", Value::entity(o));
    let cycle = [e("_:a", "_:b"), e("_:b", "_:a")];
    let loops = [e("_:x", "_:x"), e("_:y", "_:y")];
    let cycle2 = [e("_:m", "_:n"), e("_:n", "_:m")];
    assert!(isomorphic(&cycle, &cycle2));
    assert!(!isomorphic(&cycle, &loops));
    assert!(!isomorphic(&[e("_:a", "x")], &[e("_:a", "y")]));
    assert!(isomorphic(
        &[e("_:a", "x"), e("_:b", "x")],
        &[e("_:c", "x"), e("_:d", "x")]
    ));
    let lit = |v: Value| [Quad::new("_:a", "p", v)];
    assert!(!isomorphic(&lit(Value::Int(1)), &lit(Value::Float(1.0))));
    assert!(!isomorphic(&lit(Value::Int(1)), &lit("1".into())));
    let sourced = |g: &str| [e("_:a", "x").from_source(g)];
    assert!(isomorphic(&sourced("_:g"), &sourced("_:h")));
    assert!(!isomorphic(&sourced("_:g"), &sourced("g")));
}
