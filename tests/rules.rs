//! Rules: recursion on chains, trees and cycles (against a breadth-first search),
//! demand-driven (magic-set) and full evaluation agreeing, stratified negation (per class
//! for types), subtypes; derived facts kept across statements answering as a fresh
//! evaluation does, under random writes and concurrent readers.

mod common;

use common::{rows, rows_of};
use dossier::Db;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

const REACH: &str = "
rule ?x reach ?y :- ?x edge ?y.
rule ?x reach ?z :- ?x edge ?y, ?y reach ?z.
";

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

// ----- derived facts kept across statements -----

/// Rules over classes (with a hierarchy), a recursive predicate and a negation: what a
/// database keeps between statements must always answer as a fresh evaluation would.
const KEPT_SCHEMA: &str = "type A. type B sub A. type C sub A.";
const KEPT_RULES: [(&str, &str); 6] = [
    ("reach", "rule ?x reach ?y :- ?x edge ?y."),
    ("reach", "rule ?x reach ?z :- ?x edge ?y, ?y reach ?z."),
    ("<type>", "rule ?x a B :- ?x edge ?y, ?y a C."),
    ("<type>", "rule ?x a C :- ?x a A; mark true."),
    (
        "lonely",
        "rule ?x lonely true :- ?x a A, not { ?x reach ?y }.",
    ),
    ("<type>", "rule ?x a A :- ?x other ?y."),
];
const KEPT_QUERIES: [&str; 10] = [
    "find ?x ?y where ?x reach ?y.",
    "find ?y where n1 reach ?y.",
    "find ?x where ?x a A.",
    "find ?x where ?x a B.",
    "find ?x where ?x a C.",
    "find ?x where ?x lonely true.",
    "find ?x ?t where ?x a ?t.",
    "find ?x where ?x reach n2, ?x a C.",
    "find ?x ?p ?y where ?x ?p ?y.",
    "find ?x where n0 a ?t, ?x a ?t.",
];

#[derive(Debug, Clone)]
enum KeptOp {
    Add(String),
    Del(String),
    Query(usize),
    AddRule(usize),
    DropRule(usize),
    DeclareD,
    /// Facts added in a transaction, a query inside it, then commit or roll back.
    Tx(Vec<String>, usize, bool),
}

fn kept_fact() -> impl Strategy<Value = String> {
    prop_oneof![
        (0u8..5, 0u8..5).prop_map(|(a, b)| format!("n{a} edge n{b}.")),
        (0u8..5, prop::sample::select(vec!["A", "B", "C", "D"]))
            .prop_map(|(a, c)| format!("n{a} a {c}.")),
        (0u8..5).prop_map(|a| format!("n{a} mark true.")),
        (0u8..5, 0u8..5).prop_map(|(a, b)| format!("n{a} other n{b}.")),
    ]
}

fn kept_op() -> impl Strategy<Value = KeptOp> {
    prop_oneof![
        3 => kept_fact().prop_map(KeptOp::Add),
        2 => kept_fact().prop_map(KeptOp::Del),
        4 => (0..KEPT_QUERIES.len()).prop_map(KeptOp::Query),
        1 => (0..KEPT_RULES.len()).prop_map(KeptOp::AddRule),
        1 => (0..KEPT_RULES.len()).prop_map(KeptOp::DropRule),
        1 => Just(KeptOp::DeclareD),
        1 => (prop::collection::vec(kept_fact(), 0..3), 0..KEPT_QUERIES.len(), any::<bool>())
            .prop_map(|(f, q, commit)| KeptOp::Tx(f, q, commit)),
    ]
}

/// What the database should hold.
#[derive(Default, Clone)]
struct KeptModel {
    facts: BTreeSet<String>,
    rules: BTreeSet<usize>,
    declared_d: bool,
}

impl KeptModel {
    /// A new database with the model's content, and extra facts.
    fn fresh(&self, extra: &[String]) -> Db {
        let db = Db::memory().unwrap();
        let mut text = String::from(KEPT_SCHEMA);
        if self.declared_d {
            text.push_str(" type D sub C.");
        }
        for r in &self.rules {
            text.push_str(KEPT_RULES[*r].1);
        }
        for f in self.facts.iter().chain(extra) {
            text.push_str(f);
        }
        db.execute(&text).unwrap();
        db
    }
}

fn check_kept(ops: &[KeptOp]) {
    let db = Db::memory().unwrap();
    let mut m = KeptModel::default();
    db.execute(KEPT_SCHEMA).unwrap();
    for (i, (_, r)) in KEPT_RULES.iter().enumerate() {
        db.execute(r).unwrap();
        m.rules.insert(i);
    }
    for op in ops {
        match op {
            KeptOp::Add(f) => {
                db.execute(f).unwrap();
                m.facts.insert(f.clone());
            }
            KeptOp::Del(f) => {
                db.execute(&format!("del {f}")).unwrap();
                m.facts.remove(f);
            }
            KeptOp::AddRule(i) => {
                db.execute(KEPT_RULES[*i].1).unwrap();
                m.rules.insert(*i);
            }
            KeptOp::DropRule(i) => {
                let head = KEPT_RULES[*i].0;
                db.execute(&format!("drop rule {head}.")).unwrap();
                m.rules.retain(|r| KEPT_RULES[*r].0 != head);
            }
            KeptOp::DeclareD => {
                db.execute("type D sub C.").unwrap();
                m.declared_d = true;
            }
            KeptOp::Query(q) => {
                let q = KEPT_QUERIES[*q];
                // Twice: the second answer comes from what the first one kept.
                for _ in 0..2 {
                    assert_eq!(rows(&db, q), rows(&m.fresh(&[]), q), "{q} after {ops:?}");
                }
            }
            KeptOp::Tx(facts, q, commit) => {
                let q = KEPT_QUERIES[*q];
                let got = db.transaction(|tx| {
                    for f in facts {
                        tx.execute(f)?;
                    }
                    let r = rows_of(tx.query(q)?);
                    if *commit {
                        Ok(r)
                    } else {
                        Err(dossier::Error::Invalid(format!("{r:?}")))
                    }
                });
                let want = rows(&m.fresh(facts), q);
                match got {
                    Ok(r) => {
                        assert_eq!(r, want, "{q} in a transaction after {ops:?}");
                        m.facts.extend(facts.iter().cloned());
                    }
                    Err(dossier::Error::Invalid(r)) => {
                        assert_eq!(r, format!("{want:?}"), "{q} in a transaction after {ops:?}")
                    }
                    Err(e) => panic!("{e}"),
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, ..ProptestConfig::default() })]
    #[test]
    fn kept_derived_facts_equal_fresh_evaluation(ops in prop::collection::vec(kept_op(), 1..14)) {
        check_kept(&ops);
    }
}

/// Writes that rules do not read keep what was derived; writes they read change it.
#[test]
fn kept_facts_follow_the_writes_they_depend_on() {
    let db = Db::memory().unwrap();
    db.execute(
        "type Person. type Student sub Person.
         s1 a Person; takes c1. s2 a Person. c1 a Course.
         rule ?x a Student :- ?x a Person; takes ?c, ?c a Course.",
    )
    .unwrap();
    let students = |db: &Db| rows(db, "find ?x where ?x a Student.");
    let names =
        |v: &[&str]| -> BTreeSet<Vec<String>> { v.iter().map(|s| vec![s.to_string()]).collect() };
    assert_eq!(students(&db), names(&["s1"]));
    db.execute("s2 likes c1.").unwrap(); // a predicate the rule does not read
    assert_eq!(students(&db), names(&["s1"]));
    db.execute("s2 takes c1.").unwrap();
    assert_eq!(students(&db), names(&["s1", "s2"]));
    db.execute("del c1 a Course.").unwrap();
    assert_eq!(students(&db), names(&[]));
    db.execute("c1 a Course. s3 a Student.").unwrap();
    assert_eq!(students(&db), names(&["s1", "s2", "s3"]));
    assert_eq!(
        rows(&db, "find count() where ?x a Person."),
        BTreeSet::from([vec!["3".to_string()]])
    );
}

/// A bulk import is a write like any other: what was derived from what it changes is not
/// kept past it.
#[test]
fn kept_facts_follow_imports() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("kb")).unwrap();
    db.execute(&format!("{REACH} n1 edge n2.")).unwrap();
    let reach = |db: &Db| rows(db, "find ?y where n1 reach ?y.");
    let names =
        |v: &[&str]| -> BTreeSet<Vec<String>> { v.iter().map(|s| vec![s.to_string()]).collect() };
    assert_eq!(reach(&db), names(&["n2"]));
    let nt = dir.path().join("more.nt");
    std::fs::write(&nt, "<http://x/n2> <http://x/edge> <http://x/n3> .\n").unwrap();
    let options = dossier::io::ImportOptions {
        namespaces: dossier::io::Namespaces::with_base("http://x/"),
        ..Default::default()
    };
    db.import(&nt, &options, &mut |_| {}).unwrap();
    assert_eq!(reach(&db), names(&["n2", "n3"]));
}

/// Readers on several threads while a writer extends the graph: each query sees one
/// version, and what is kept never lags behind it (every edge is a `reach`, and every
/// `reach` follows from the edges).
#[test]
fn kept_facts_under_concurrent_writes() {
    let db = Db::memory().unwrap();
    db.execute(REACH).unwrap();
    db.execute("n0 edge n1.").unwrap();
    let stale = "find count() where ?x edge ?y, not { ?x reach ?y }.";
    let unfounded =
        "find count() where ?x reach ?y, not { ?x edge ?y }, not { ?x edge ?m, ?m reach ?y }.";
    let zero = BTreeSet::from([vec!["0".to_string()]]);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for i in 1..40 {
                db.execute(&format!("n{i} edge n{}.", i + 1)).unwrap();
                if i % 7 == 0 {
                    db.execute(&format!("del n{} edge n{}.", i - 3, i - 2))
                        .unwrap();
                    db.execute(&format!("n{} edge n{}.", i - 3, i - 2)).unwrap();
                }
            }
        });
        let readers: Vec<_> = (0..3)
            .map(|_| {
                s.spawn(|| {
                    for _ in 0..30 {
                        assert_eq!(rows(&db, stale), zero);
                        assert_eq!(rows(&db, unfounded), zero);
                        assert!(!rows(&db, "find ?y where n0 reach ?y.").is_empty());
                    }
                })
            })
            .collect();
        writer.join().unwrap();
        for r in readers {
            r.join().unwrap();
        }
    });
    assert_eq!(
        rows(&db, "find count() where ?x reach ?y."),
        BTreeSet::from([vec![(40 * 41 / 2).to_string()]])
    );
}

/// Rules are analysed per class: a class may depend on the negation of another class,
/// and a type declaration that would make a class depend on its own negation is refused.
#[test]
fn negation_between_classes_is_stratified_per_class() {
    let db = Db::memory().unwrap();
    db.execute(
        "type Person. ann a Person. bob a Person; convicted true.
         rule ?x a Jailed :- ?x convicted true.
         rule ?x a Free :- ?x a Person, not { ?x a Jailed }.",
    )
    .unwrap();
    assert_eq!(
        rows(&db, "find ?x where ?x a Free."),
        BTreeSet::from([vec!["ann".to_string()]])
    );
    assert_eq!(
        rows(&db, "find ?x where ?x a Jailed."),
        BTreeSet::from([vec!["bob".to_string()]])
    );
    let err = db.execute("type Free sub Jailed.").unwrap_err().to_string();
    assert!(err.contains("cannot be stratified"), "{err}");
    assert!(err.contains("'a Free' depends on 'not a Free'"), "{err}");
    assert!(db.schema().unwrap().iter().all(|s| !s.contains("Free")));
}
