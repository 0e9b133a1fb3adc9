//! Rules: recursion on chains, trees and cycles (against a breadth-first search),
//! demand-driven (magic-set) and full evaluation agreeing, stratified negation, subtypes.

use dossier::{Db, Outcome, Value};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const REACH: &str = "
rule ?x reach ?y :- ?x edge ?y.
rule ?x reach ?z :- ?x edge ?y, ?y reach ?z.
";

fn rows(db: &Db, q: &str) -> BTreeSet<Vec<String>> {
    match db.execute(q).unwrap_or_else(|e| panic!("{q}\n{e}")).pop() {
        Some(Outcome::Rows(r)) => r
            .values()
            .map(|row| {
                row.iter()
                    .map(|v| v.as_ref().map_or(String::new(), Value::to_string))
                    .collect()
            })
            .collect(),
        other => panic!("{q}: not rows: {other:?}"),
    }
}

fn graph_db(edges: &[(u32, u32)]) -> Db {
    let db = Db::memory().unwrap();
    let facts: String = edges
        .iter()
        .map(|(a, b)| format!("n{a} edge n{b}.\n"))
        .collect();
    db.execute(&facts).unwrap();
    db.execute(REACH).unwrap();
    db
}

/// Pairs (x, y) with a path of length >= 1 from x to y.
fn closure(edges: &[(u32, u32)]) -> BTreeSet<(u32, u32)> {
    let mut adj: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for &(a, b) in edges {
        adj.entry(a).or_default().push(b);
    }
    let mut out = BTreeSet::new();
    for &start in adj.keys() {
        let mut todo: Vec<u32> = adj[&start].clone();
        let mut seen = BTreeSet::new();
        while let Some(n) = todo.pop() {
            if seen.insert(n) {
                out.insert((start, n));
                todo.extend(adj.get(&n).into_iter().flatten());
            }
        }
    }
    out
}

fn check_graph(edges: &[(u32, u32)]) {
    let db = graph_db(edges);
    let want = closure(edges);
    let all: BTreeSet<Vec<String>> = want
        .iter()
        .map(|(a, b)| vec![format!("n{a}"), format!("n{b}")])
        .collect();
    assert_eq!(rows(&db, "find ?x ?y where ?x reach ?y."), all, "all pairs");
    let nodes: BTreeSet<u32> = edges.iter().flat_map(|(a, b)| [*a, *b]).collect();
    for n in nodes.iter().take(6) {
        // Bound subject (magic: subject bound), bound object (object bound), both.
        let from: BTreeSet<Vec<String>> = want
            .iter()
            .filter(|(a, _)| a == n)
            .map(|(_, b)| vec![format!("n{b}")])
            .collect();
        assert_eq!(
            rows(&db, &format!("find ?y where n{n} reach ?y.")),
            from,
            "from n{n}"
        );
        let to: BTreeSet<Vec<String>> = want
            .iter()
            .filter(|(_, b)| b == n)
            .map(|(a, _)| vec![format!("n{a}")])
            .collect();
        assert_eq!(
            rows(&db, &format!("find ?x where ?x reach n{n}.")),
            to,
            "to n{n}"
        );
        for m in nodes.iter().take(4) {
            let yes = want.contains(&(*n, *m));
            assert_eq!(
                rows(&db, &format!("find count() where n{n} reach n{m}.")),
                BTreeSet::from([vec![(yes as u8).to_string()]])
            );
        }
    }
    // A join into the derived predicate from a stored one, and a variable predicate.
    let with_pred = rows(&db, "find ?p where n0 ?p ?y.");
    let expect_pred: BTreeSet<Vec<String>> = edges
        .iter()
        .filter(|(a, _)| *a == 0)
        .flat_map(|_| [vec!["edge".to_string()], vec!["reach".to_string()]])
        .collect();
    assert_eq!(with_pred, expect_pred);
}

#[test]
fn chain() {
    let edges: Vec<(u32, u32)> = (0..60).map(|i| (i, i + 1)).collect();
    check_graph(&edges);
    let db = graph_db(&edges);
    assert_eq!(
        rows(&db, "find count() where ?x reach ?y."),
        BTreeSet::from([vec![(60 * 61 / 2).to_string()]])
    );
}

#[test]
fn tree() {
    let edges: Vec<(u32, u32)> = (1..100).map(|i| ((i - 1) / 3, i)).collect();
    check_graph(&edges);
}

#[test]
fn cycles_terminate() {
    let mut edges: Vec<(u32, u32)> = (0..30).map(|i| (i, (i + 1) % 30)).collect();
    edges.extend([(5, 40), (40, 41), (41, 5), (0, 0)]);
    check_graph(&edges);
    let db = graph_db(&edges);
    // Everything on the big cycle reaches itself.
    assert_eq!(
        rows(&db, "find count() where n7 reach n7."),
        BTreeSet::from([vec!["1".to_string()]])
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs(edges in prop::collection::vec((0u32..12, 0u32..12), 0..30)) {
        check_graph(&edges);
    }
}

#[test]
fn mutual_recursion_and_filters() {
    let db = Db::memory().unwrap();
    let facts: String = (0..10)
        .map(|i| format!("n{i} edge n{}.\n", i + 1))
        .collect();
    db.execute(&facts).unwrap();
    db.execute(
        "rule ?x even ?y :- ?x edge ?z, ?z odd ?y.
         rule ?x odd ?y :- ?x edge ?y.
         rule ?x odd ?y :- ?x edge ?z, ?z even ?y.",
    )
    .unwrap();
    let even: BTreeSet<Vec<String>> = (0..=10)
        .filter(|j| *j >= 2 && j % 2 == 0)
        .map(|j| vec![format!("n{j}")])
        .collect();
    assert_eq!(rows(&db, "find ?y where n0 even ?y."), even);
    let odd = rows(&db, "find ?y where n0 odd ?y.");
    assert_eq!(odd.len(), 5);
    // A rule with a filter and a constant.
    db.execute("rule ?x far ?y :- n0 even ?y, ?x edge ?y, ?y != n2.")
        .unwrap();
    assert_eq!(
        rows(&db, "find ?x ?y where ?x far ?y."),
        BTreeSet::from(
            [["n3", "n4"], ["n5", "n6"], ["n7", "n8"], ["n9", "n10"]]
                .map(|r| r.map(String::from).to_vec())
        )
    );
}

#[test]
fn stratified_negation() {
    let db = Db::memory().unwrap();
    db.execute(
        "a1 a Actor. a2 a Actor. a3 a Actor.
         t1 a Talks; party a1, a2.
         rule ?x talked ?t :- ?t a Talks; party ?x.
         rule ?x isolated true :- ?x a Actor, not { ?x talked ?t }.",
    )
    .unwrap();
    assert_eq!(
        rows(&db, "find ?x where ?x isolated true."),
        BTreeSet::from([vec!["a3".to_string()]])
    );
}

#[test]
fn unstratifiable_rules_are_refused_with_the_cycle() {
    let db = Db::memory().unwrap();
    db.execute("rule ?x p ?y :- ?x q ?y.").unwrap();
    let err = db
        .execute("rule ?x q ?y :- ?x r ?y, not { ?x p ?y }.")
        .unwrap_err()
        .to_string();
    assert!(err.contains("cannot be stratified"), "{err}");
    assert!(
        err.contains("'q' depends on 'not p'") && err.contains("'p' depends on 'q'"),
        "{err}"
    );
    assert!(err.contains("1:1"), "{err}");
    // Nothing was stored: the first rule alone still works and the second is absent.
    assert_eq!(db.rules().unwrap().len(), 1);
}

#[test]
fn subtypes() {
    let db = Db::memory().unwrap();
    db.execute(
        "type Actor. type State sub Actor. type ArmedGroup sub Actor. type Militia sub ArmedGroup.
         egypt a State. lna a ArmedGroup. kaniyat a Militia. hurghada a City.",
    )
    .unwrap();
    let actors = rows(&db, "find ?x where ?x a Actor.");
    assert_eq!(
        actors,
        ["egypt", "kaniyat", "lna"]
            .iter()
            .map(|s| vec![s.to_string()])
            .collect()
    );
    // A variable type yields every supertype of a stated type.
    let kaniyat = rows(&db, "find ?t where kaniyat a ?t.");
    assert_eq!(
        kaniyat,
        ["Actor", "ArmedGroup", "Militia"]
            .iter()
            .map(|s| vec![s.to_string()])
            .collect()
    );
    // A type bound by another pattern also covers its subtypes.
    db.execute("wanted is ArmedGroup.").unwrap();
    assert_eq!(
        rows(&db, "find ?x where wanted is ?t, ?x a ?t."),
        ["kaniyat", "lna"]
            .iter()
            .map(|s| vec![s.to_string()])
            .collect()
    );
    assert_eq!(
        rows(&db, "find count() where ?x a Actor."),
        BTreeSet::from([vec!["3".to_string()]])
    );
}

#[test]
fn rules_are_stored_once_and_dropped() {
    let db = Db::memory().unwrap();
    let out = db.execute(REACH).unwrap();
    assert_eq!(out[0].to_string(), "stored a rule for 'reach'");
    let again = db.execute(REACH).unwrap();
    assert_eq!(
        again[0].to_string(),
        "this rule for 'reach' was already stored"
    );
    assert_eq!(db.rules().unwrap().len(), 2);
    assert_eq!(
        db.execute("drop rule reach.").unwrap()[0].to_string(),
        "dropped 2 rules deriving 'reach'"
    );
    assert!(db.rules().unwrap().is_empty());
    assert_eq!(
        db.execute("drop rule reach.").unwrap()[0].to_string(),
        "no rule derives 'reach'"
    );
}

#[test]
fn derived_and_stored_facts_of_one_predicate_do_not_repeat() {
    let db = Db::memory().unwrap();
    db.execute(
        "ann knows bob. bob knows cy. ann knows cy. rule ?x knows ?z :- ?x knows ?y, ?y knows ?z.",
    )
    .unwrap();
    assert_eq!(rows(&db, "find ?x ?y where ?x knows ?y.").len(), 3);
    assert_eq!(
        rows(&db, "find count() where ?x knows ?y."),
        BTreeSet::from([vec!["3".to_string()]])
    );
    assert_eq!(
        rows(&db, "find ?y where ann knows ?y."),
        BTreeSet::from([vec!["bob".to_string()], vec!["cy".to_string()]])
    );
}
