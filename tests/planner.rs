//! The planner does not depend on how a query is written: every order of the same
//! conjuncts gives the same rows and the same plan.

mod common;

use dossier::{Db, Outcome, Value};

fn permutations<T: Clone>(items: &[T]) -> Vec<Vec<T>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let x = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, x.clone());
            out.push(p);
        }
    }
    out
}

fn run(db: &Db, q: &str) -> (Vec<Vec<Option<Value>>>, String) {
    let rows = match db.execute(q).unwrap_or_else(|e| panic!("{q}\n{e}")).pop() {
        Some(Outcome::Rows(r)) => {
            let mut v: Vec<Vec<Option<Value>>> = r.values().map(|x| x.to_vec()).collect();
            v.sort();
            v
        }
        other => panic!("{other:?}"),
    };
    let plan = match db.execute(&format!("explain {q}")).unwrap().pop() {
        Some(Outcome::Plan(p)) => p,
        other => panic!("{other:?}"),
    };
    (rows, plan)
}

#[test]
fn every_order_gives_the_same_rows_and_plan() {
    let db = Db::memory().unwrap();
    let params = common::bench_db(&db, 3000);
    let p = |k: &str| params[k].as_str().unwrap().to_string();
    let cases: Vec<(String, Vec<String>, String)> = vec![
        (
            "find ?e ?d ?x where".into(),
            vec![
                "?e a Meeting".into(),
                format!("?e venue {}", p("city")),
                "?e date ?d".into(),
                "?e party ?x".into(),
            ],
            ".".into(),
        ),
        (
            "find ?e where".into(),
            vec![
                "?e venue ?c".into(),
                "?c located_in ?r".into(),
                format!("?r located_in {}", p("state")),
            ],
            ".".into(),
        ),
        (
            "find distinct ?a where".into(),
            vec![
                "?g a Agreement".into(),
                "?g signed_at ?e".into(),
                "?g party ?a".into(),
                "?e venue ?c".into(),
                "?c located_in ?r".into(),
                format!("?r located_in {}", p("state")),
            ],
            ".".into(),
        ),
        (
            "find count(?e) where".into(),
            vec![
                "?e a Talks".into(),
                "?e date ?d".into(),
                "?d in 2020-03".into(),
            ],
            ".".into(),
        ),
        (
            "find ?g where".into(),
            vec![
                "?g a ArmedGroup".into(),
                "not { ?e a Talks; party ?g }".into(),
                "?g based_in ?s".into(),
            ],
            ".".into(),
        ),
        (
            "find ?x ?l where".into(),
            vec![
                "?x label ?l".into(),
                "contains(?l, \"Haftar\")".into(),
                "?x leads ?y".into(),
            ],
            ".".into(),
        ),
    ];
    for (head, conjuncts, tail) in cases {
        let perms = permutations(&conjuncts);
        let (rows0, plan0) = run(&db, &format!("{head} {}{tail}", conjuncts.join(", ")));
        assert!(
            !rows0.is_empty() || head.contains("count"),
            "{head}: no rows"
        );
        for perm in perms.iter().skip(1) {
            let q = format!("{head} {}{tail}", perm.join(", "));
            let (rows, plan) = run(&db, &q);
            assert_eq!(rows, rows0, "rows differ for {q}");
            assert_eq!(plan, plan0, "plan differs for {q}");
        }
    }
}
