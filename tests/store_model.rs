//! The store against a simple in-memory model: after any sequence of adds, retracts and
//! bulk imports, every index holds exactly the model's facts, every pattern returns
//! exactly the model's matches, every count is exact and the text index holds exactly the
//! trigrams of the dictionary's terms (`Store::verify`).

use dossier::model::{Date, Value};
use dossier::store::{Delta, GraphSel, Id, IdPattern, StagedQuads, Store, TextQuery, NO_SOURCE};
use proptest::prelude::*;
use std::collections::BTreeSet;

type Fact = (String, String, Value, Option<String>);

#[derive(Debug, Clone)]
enum Op {
    Add(Vec<Fact>),
    Remove(Vec<Fact>),
    /// A bulk import (`Store::import`), its quads spilled to disk past `budget` bytes.
    Import(Vec<Fact>, usize),
}

fn arb_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0..6u8).prop_map(|i| Value::entity(format!("e{i}"))),
        (0..3u8).prop_map(|i| Value::string(format!("s{i}"))),
        // Texts long enough for the text index (trigrams), in several cases and scripts.
        prop::sample::select(vec!["Khalifa Haftar", "haftar 2", "ΟΔΟΣ Σ", "Sarraj"])
            .prop_map(Value::string),
        (-3i64..3).prop_map(Value::Int),
        (-2i64..2).prop_map(|i| Value::Float(i as f64 / 2.0)),
        (2019..2021i32, 0..3u32).prop_map(|(y, m)| Value::Date(if m == 0 {
            Date::year(y).unwrap()
        } else {
            Date::month(y, m).unwrap()
        })),
        any::<bool>().prop_map(Value::Bool),
    ]
}

fn arb_fact() -> impl Strategy<Value = Fact> {
    (0..6u8, 0..3u8, arb_value(), prop::option::of(0..2u8)).prop_map(|(s, p, o, g)| {
        (
            format!("e{s}"),
            ["type", "p1", "p2"][p as usize].to_string(),
            o,
            g.map(|g| format!("src{g}")),
        )
    })
}

fn arb_op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => prop::collection::vec(arb_fact(), 1..8).prop_map(Op::Add),
        2 => prop::collection::vec(arb_fact(), 1..5).prop_map(Op::Remove),
        1 => (prop::collection::vec(arb_fact(), 1..40), prop_oneof![Just(1), Just(1 << 20)])
            .prop_map(|(f, budget)| Op::Import(f, budget)),
    ]
}

fn apply(store: &Store, op: &Op, model: &mut BTreeSet<Fact>) {
    let _w = store.writer().unwrap();
    if let Op::Import(facts, budget) = op {
        let mut terms: Vec<Value> = Vec::new();
        let mut index = |v: Value| match terms.iter().position(|t| *t == v) {
            Some(i) => i as u32,
            None => {
                terms.push(v);
                terms.len() as u32 - 1
            }
        };
        let mut quads = StagedQuads::new(*budget);
        for (s, p, o, g) in facts {
            let q = [
                index(Value::entity(s.clone())),
                index(Value::entity(p.clone())),
                index(o.clone()),
                g.as_ref()
                    .map_or(NO_SOURCE, |g| index(Value::entity(g.clone()))),
            ];
            quads.push(q).unwrap();
            model.insert((s.clone(), p.clone(), o.clone(), g.clone()));
        }
        store.import(terms, quads, Vec::new()).unwrap();
        return;
    }
    let delta = delta_of(store, op, model);
    store.commit(delta).unwrap();
}

/// The delta of `op` (model updated as its commit would).
fn delta_of(store: &Store, op: &Op, model: &mut BTreeSet<Fact>) -> Delta {
    let mut delta = Delta::new();
    let (facts, add) = match op {
        Op::Add(f) | Op::Import(f, _) => (f, true),
        Op::Remove(f) => (f, false),
    };
    for (s, p, o, g) in facts {
        let q = [
            store.intern_entity(&mut delta, s).unwrap(),
            store.intern_entity(&mut delta, p).unwrap(),
            store.intern(&mut delta, o).unwrap(),
            match g {
                Some(g) => store.intern_entity(&mut delta, g).unwrap(),
                None => Id::NONE,
            },
        ];
        if add {
            delta.add(q);
            model.insert((s.clone(), p.clone(), o.clone(), g.clone()));
        } else {
            delta.remove(q);
            model.remove(&(s.clone(), p.clone(), o.clone(), g.clone()));
        }
    }
    delta
}

fn decode(store: &Store, q: [Id; 4]) -> Fact {
    let name = |id: Id| {
        store
            .value(id, None)
            .unwrap()
            .as_entity()
            .unwrap()
            .to_string()
    };
    let g = if q[3].is_none() {
        None
    } else {
        Some(name(q[3]))
    };
    (name(q[0]), name(q[1]), store.value(q[2], None).unwrap(), g)
}

fn check(store: &Store, model: &BTreeSet<Fact>) {
    assert_eq!(store.verify().unwrap(), Vec::<String>::new());
    // Every assertion.
    let all: BTreeSet<Fact> = store
        .quads(&IdPattern {
            g: GraphSel::Each,
            ..IdPattern::new(None, None, None)
        })
        .unwrap()
        .map(|q| decode(store, q.unwrap()))
        .collect();
    assert_eq!(&all, model);
    // Distinct triples through each shape of bound positions.
    let triples: BTreeSet<(String, String, Value)> = model
        .iter()
        .map(|(s, p, o, _)| (s.clone(), p.clone(), o.clone()))
        .collect();
    for (s, p, o) in triples.iter().take(5) {
        let ids = [
            store.lookup_entity(s, None).unwrap(),
            store.lookup_entity(p, None).unwrap(),
            store.lookup(o, None).unwrap(),
        ];
        for mask in 0..8u8 {
            let pick = |i: usize| if mask & (1 << i) != 0 { ids[i] } else { None };
            let pat = IdPattern::new(pick(0), pick(1), pick(2));
            let got: Vec<(String, String, Value)> = store
                .quads(&pat)
                .unwrap()
                .map(|q| {
                    let f = decode(store, q.unwrap());
                    (f.0, f.1, f.2)
                })
                .collect();
            let want: Vec<&(String, String, Value)> = triples
                .iter()
                .filter(|t| {
                    (mask & 1 == 0 || t.0 == *s)
                        && (mask & 2 == 0 || t.1 == *p)
                        && (mask & 4 == 0 || t.2 == *o)
                })
                .collect();
            let got_set: BTreeSet<_> = got.iter().collect();
            assert_eq!(got.len(), got_set.len(), "duplicates for mask {mask}");
            assert_eq!(got_set, want.into_iter().collect(), "mask {mask}");
        }
    }
    // Per-source assertions.
    for src in ["src0", "src1"] {
        let Some(g) = store.lookup_entity(src, None).unwrap() else {
            continue;
        };
        let got: BTreeSet<Fact> = store
            .quads(&IdPattern {
                g: GraphSel::Is(g),
                ..IdPattern::new(None, None, None)
            })
            .unwrap()
            .map(|q| decode(store, q.unwrap()))
            .collect();
        let want: BTreeSet<Fact> = model
            .iter()
            .filter(|f| f.3.as_deref() == Some(src))
            .cloned()
            .collect();
        assert_eq!(got, want);
    }
    // The text index finds every stored text by any part of it.
    for (_, _, o, _) in model {
        let Some(text) = o.text().filter(|t| t.chars().count() >= 3) else {
            continue;
        };
        let id = store.lookup(o, None).unwrap().unwrap();
        let part: String = text.chars().skip(1).take(3).collect();
        let found = store
            .text_candidates(&TextQuery::contains(&part.to_uppercase()), None)
            .unwrap()
            .unwrap_or_default();
        assert!(found.contains(&id), "{part:?} misses {text:?}");
    }
    let stats = store.stats().unwrap();
    assert_eq!(stats.quads as usize, model.len());
    assert_eq!(stats.triples as usize, triples.len());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn indexes_agree_with_the_model(ops in prop::collection::vec(arb_op(), 1..12)) {
        let store = Store::temporary().unwrap();
        let mut model = BTreeSet::new();
        for op in &ops {
            apply(&store, op, &mut model);
            check(&store, &model);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// What a transaction sees of its own pending writes (`quads_with`) is what the store
    /// returns once they are committed, for every shape of pattern.
    #[test]
    fn pending_writes_read_as_committed(
        ops in prop::collection::vec(arb_op(), 1..6),
        last in arb_op(),
    ) {
        let store = Store::temporary().unwrap();
        let mut model = BTreeSet::new();
        for op in &ops {
            apply(&store, op, &mut model);
        }
        let _w = store.writer().unwrap();
        let mut delta = delta_of(&store, &last, &mut model);
        let mut patterns = Vec::new();
        let terms = |f: &Fact, d: &Delta| {
            [
                store.lookup_entity(&f.0, Some(d)).unwrap(),
                store.lookup_entity(&f.1, Some(d)).unwrap(),
                store.lookup(&f.2, Some(d)).unwrap(),
            ]
        };
        for f in model.iter().take(3) {
            let ids = terms(f, &delta);
            for mask in 0..8u8 {
                let pick = |i: usize| if mask & (1 << i) != 0 { ids[i] } else { None };
                for g in [GraphSel::Any, GraphSel::Each] {
                    patterns.push(IdPattern { g, ..IdPattern::new(pick(0), pick(1), pick(2)) });
                }
            }
        }
        // Sorted lists, not sets: a triple seen twice is a bug too.
        let sorted = |it: &mut dyn Iterator<Item = dossier::Result<[Id; 4]>>| {
            let mut v: Vec<[Id; 4]> = it.map(|q| q.unwrap()).collect();
            v.sort_unstable();
            v
        };
        let pending: Vec<Vec<[Id; 4]>> = patterns
            .iter()
            .map(|pat| {
                let overlay = Some(delta.normalized());
                sorted(&mut store.quads_with(pat, overlay).unwrap())
            })
            .collect();
        store.commit(delta).unwrap();
        for (pat, seen) in patterns.iter().zip(&pending) {
            let committed = sorted(&mut store.quads(pat).unwrap());
            prop_assert_eq!(seen, &committed, "{:?}", pat);
        }
    }
}

#[test]
fn many_facts_split_blocks_and_stay_consistent() {
    let store = Store::temporary().unwrap();
    let mut model = BTreeSet::new();
    // Enough facts to need many blocks per index, added in several statements and then
    // partly removed, so blocks split and shrink.
    for round in 0..4 {
        let facts: Vec<Fact> = (0..700)
            .map(|i| {
                (
                    format!("s{}", (i * 7 + round) % 300),
                    format!("p{}", i % 4),
                    Value::Int(i as i64 % 97),
                    if i % 3 == 0 {
                        Some(format!("g{}", i % 5))
                    } else {
                        None
                    },
                )
            })
            .collect();
        apply(&store, &Op::Add(facts), &mut model);
    }
    check(&store, &model);
    let removes: Vec<Fact> = model.iter().step_by(3).cloned().collect();
    apply(&store, &Op::Remove(removes), &mut model);
    check(&store, &model);
    let (_, index_blocks) = store.block_counts().unwrap();
    assert!(index_blocks > 20, "{index_blocks} blocks");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// Lookups through kept cursors (restart points, partial decoding, ascending and jumping
    /// order) return exactly what a fresh scan returns.
    #[test]
    fn probes_agree_with_scans(seed in prop::collection::vec(0u16..400, 1..60), ascending in any::<bool>()) {
        use dossier::store::Probe;
        let store = Store::temporary().unwrap();
        let mut model = BTreeSet::new();
        let facts: Vec<Fact> = (0..1500)
            .map(|i: u32| (format!("s{:03}", i % 97), format!("p{}", i % 5), Value::Int((i * 7919 % 503) as i64), None))
            .collect();
        apply(&store, &Op::Add(facts), &mut model);
        let mut probes: Vec<u16> = seed;
        if ascending {
            probes.sort_unstable();
        }
        let mut probe = Probe::default();
        for n in probes {
            let s = store.lookup_entity(&format!("s{:03}", n % 97), None).unwrap();
            let p = store.lookup_entity(&format!("p{}", n % 5), None).unwrap();
            let o = Some(dossier::store::Id::int((n as i64 * 31) % 503));
            for pat in [IdPattern::new(s, None, None), IdPattern::new(s, p, None), IdPattern::new(None, p, o), IdPattern::new(None, None, o), IdPattern::new(s, None, o)] {
                let mut got = Vec::new();
                assert!(store.probe(&mut probe, &pat, &mut got).unwrap());
                let want: Vec<[dossier::store::Id; 4]> = store.quads(&pat).unwrap().map(|q| q.unwrap()).collect();
                prop_assert_eq!(got, want, "{:?}", pat);
            }
        }
    }
}
