//! The text index serves `contains`, `starts_with`, `matches` (and their `lower(…)`
//! forms) and `search` with exactly the answers of testing every text: on random texts
//! (Unicode, case pairs, texts shorter than a trigram, empty needles, regular expressions
//! with and without literals) the answers equal a scan of the model, and the index's
//! candidates always include every matching term.

use dossier::store::TextQuery;
use dossier::{Db, Outcome, Value};
use proptest::prelude::*;
use regex::Regex;
use std::collections::BTreeSet;

/// Characters with case pairs, multi-character lowercase forms, final sigma, CJK.
const CHARS: &[char] = &[
    'a', 'A', 'b', 'B', 'h', 'H', 'k', 'K', '\u{212A}', ' ', '_', '1', 'é', 'É', 'Σ', 'σ', 'ς',
    'İ', 'i', 'I', 'ı', 'ß', 'ẞ', '日', '本',
];

fn arb_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(CHARS), 0..10)
            .prop_map(|v| v.into_iter().collect::<String>()),
        "[a-cA-C]{0,6}",
        "(Khalifa|Aguila|Fayez) (Haftar|Saleh|Sarraj) [0-9]{1,2}",
    ]
}

/// A needle: part of one of the texts (maybe in another case), or anything.
fn arb_needle(texts: Vec<String>) -> impl Strategy<Value = String> {
    let n = texts.len();
    (0..n, 0usize..12, 0usize..6, 0..4u8, arb_text()).prop_map(
        move |(i, start, len, how, other)| {
            let chars: Vec<char> = texts[i].chars().collect();
            let start = start.min(chars.len());
            let end = (start + len).min(chars.len());
            let part: String = chars[start..end].iter().collect();
            match how {
                0 => part,
                1 => part.to_lowercase(),
                2 => part.to_uppercase(),
                _ => other,
            }
        },
    )
}

/// A regular expression built around a needle: anchors, case-insensitive flags,
/// alternations, optional and repeated groups, wildcards.
fn arb_regex(texts: Vec<String>) -> impl Strategy<Value = String> {
    (arb_needle(texts.clone()), arb_needle(texts), 0..9u8).prop_map(|(a, b, shape)| {
        let (a, b) = (regex::escape(&a), regex::escape(&b));
        match shape {
            0 => a,
            1 => format!("(?i){a}"),
            2 => format!("^{a}.*{b}$"),
            3 => format!("{a}|{b}"),
            4 => format!("({a})?{b}"),
            5 => format!("({a})+x*"),
            6 => format!("{a}.{b}"),
            7 => ".*".to_string(),
            _ => format!("[hH]{a}"),
        }
    })
}

/// A filter as the language writes it, and the same test in Rust.
type TextTest<'a> = Box<dyn Fn(&str) -> bool + 'a>;

/// Facts `x<i> label text_i` and the texts.
fn load(texts: &[String]) -> Db {
    let db = Db::memory().unwrap();
    let mut facts = db.facts();
    for (i, t) in texts.iter().enumerate() {
        facts = facts.add(&format!("x{i}"), "label", Value::string(t.clone()));
    }
    facts.commit().unwrap();
    db
}

fn rows(db: &Db, q: &str) -> BTreeSet<String> {
    match db.execute(q).unwrap_or_else(|e| panic!("{q}\n{e}")).pop() {
        Some(Outcome::Rows(r)) => r
            .values()
            .map(|row| format!("{:?}", row.first().cloned().flatten()))
            .collect(),
        other => panic!("{other:?}"),
    }
}

/// The subjects whose label passes `test`: what a scan finds.
fn expect(texts: &[String], test: impl Fn(&str) -> bool) -> BTreeSet<String> {
    texts
        .iter()
        .enumerate()
        .filter(|(_, t)| test(t))
        .map(|(i, _)| format!("{:?}", Some(Value::entity(format!("x{i}")))))
        .collect()
}

/// Every term passing `test` is among the candidates of `q`.
fn candidates_include(db: &Db, texts: &[String], q: &TextQuery, test: impl Fn(&str) -> bool) {
    let store = db.store();
    let Some(found) = store.text_candidates(q, None).unwrap() else {
        return; // no index query: every term is tested
    };
    for t in texts.iter().filter(|t| test(t)) {
        let id = store
            .lookup(&Value::string(t.clone()), None)
            .unwrap()
            .unwrap();
        assert!(found.binary_search(&id).is_ok(), "{q:?} misses {t:?}");
    }
}

fn texts_and_needles() -> impl Strategy<Value = (Vec<String>, Vec<String>, Vec<String>)> {
    prop::collection::vec(arb_text(), 1..30).prop_flat_map(|texts| {
        (
            Just(texts.clone()),
            prop::collection::vec(arb_needle(texts.clone()), 1..6),
            prop::collection::vec(arb_regex(texts), 1..4),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn indexed_answers_equal_scan_answers((texts, needles, regexes) in texts_and_needles()) {
        let db = load(&texts);
        prop_assert_eq!(db.store().verify().unwrap(), Vec::<String>::new());
        for n in &needles {
            let lit = Value::string(n.clone());
            let lower = n.to_lowercase();
            let cases: Vec<(String, TextTest)> = vec![
                (format!("contains(?l, {lit})"), Box::new(|t: &str| t.contains(n.as_str()))),
                (format!("contains(lower(?l), {lit})"), Box::new(|t: &str| t.to_lowercase().contains(n.as_str()))),
                (format!("starts_with(?l, {lit})"), Box::new(|t: &str| t.starts_with(n.as_str()))),
                (format!("starts_with(lower(?l), {lit})"), Box::new(|t: &str| t.to_lowercase().starts_with(n.as_str()))),
            ];
            for (filter, test) in &cases {
                let q = format!("find ?x where ?x label ?l, {filter}.");
                prop_assert_eq!(rows(&db, &q), expect(&texts, test), "{}", q);
            }
            candidates_include(&db, &texts, &TextQuery::contains(n), |t| t.contains(n.as_str()));
            candidates_include(&db, &texts, &TextQuery::contains(n), |t| t.to_lowercase().contains(lower.as_str()));
            candidates_include(&db, &texts, &TextQuery::contains(n), |t| t.to_lowercase().contains(n.as_str()));
            candidates_include(&db, &texts, &TextQuery::prefix(n), |t| t.starts_with(n.as_str()));
            // `search` finds labels (and names) containing the text in any case.
            let found = rows(&db, &format!("search {lit}."));
            let want = expect(&texts, |t| t.to_lowercase().contains(lower.as_str()));
            prop_assert!(want.is_subset(&found), "search {:?}: {:?} not in {:?}", n, want, found);
        }
        for r in &regexes {
            let re = Regex::new(r).unwrap();
            let lit = Value::string(r.clone());
            for (filter, lowered) in [(format!("matches(?l, {lit})"), false), (format!("matches(lower(?l), {lit})"), true)] {
                let test = |t: &str| if lowered { re.is_match(&t.to_lowercase()) } else { re.is_match(t) };
                let q = format!("find ?x where ?x label ?l, {filter}.");
                prop_assert_eq!(rows(&db, &q), expect(&texts, test), "{}", q);
                candidates_include(&db, &texts, &TextQuery::regex(r), test);
            }
        }
    }
}

/// A made-up capitalised word per number (`Qzmvur`): its trigrams are rare.
fn word(i: usize) -> String {
    let mut x = (i as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..6)
        .map(|k| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let c = (b'a' + (x >> 59) as u8 % 26) as char;
            if k == 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

/// A selective needle is answered from the index (not by scanning every label), and the
/// answers of a transaction include the strings it added.
#[test]
fn selective_searches_use_the_index() {
    let texts: Vec<String> = (0..2000)
        .map(|i| {
            format!(
                "{} {} {i}",
                word(i),
                ["Haftar", "Saleh", "Sarraj", "Dbeibah"][i % 4]
            )
        })
        .collect();
    let db = load(&texts);
    let w = word(1234);
    let lw = w.to_lowercase();
    let re = Regex::new(&format!("(?i){} [a-z]+ 1", w.to_uppercase())).unwrap();
    let cases: Vec<(String, TextTest)> = vec![
        (
            format!("contains(?l, {:?})", w),
            Box::new(|t: &str| t.contains(w.as_str())),
        ),
        (
            format!("contains(lower(?l), {:?})", lw),
            Box::new(|t: &str| t.to_lowercase().contains(lw.as_str())),
        ),
        (
            format!("matches(?l, {:?})", re.as_str()),
            Box::new(|t: &str| re.is_match(t)),
        ),
        (
            format!("starts_with(?l, {:?})", w),
            Box::new(|t: &str| t.starts_with(w.as_str())),
        ),
    ];
    for (filter, test) in &cases {
        let q = format!("find ?x ?l where ?x label ?l, {filter}.");
        let plan = match db.execute(&format!("explain {q}")).unwrap().pop() {
            Some(Outcome::Plan(p)) => p,
            other => panic!("{other:?}"),
        };
        assert!(plan.contains("text index"), "{q}\n{plan}");
        let want = expect(&texts, test);
        assert!(!want.is_empty(), "{q}");
        assert_eq!(rows(&db, &q), want, "{q}");
    }
    db.transaction(|tx| {
        tx.add("newcomer", "label", Value::string("Zintan Haftar 1"))?;
        let q = r#"find ?x where ?x label ?l, contains(?l, "Zintan Haftar")."#;
        assert_eq!(tx.query(q)?.len(), 1);
        match tx.execute(&format!("explain {q}"))?.pop() {
            Some(Outcome::Plan(p)) => assert!(p.contains("text index"), "{p}"),
            other => panic!("{other:?}"),
        }
        Ok(())
    })
    .unwrap();
    let r = db
        .query(r#"find ?x where ?x label ?l, contains(?l, "Zintan Haftar")."#)
        .unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(db.store().verify().unwrap(), Vec::<String>::new());
}
