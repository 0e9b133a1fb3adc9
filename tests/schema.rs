//! `examples/schema.dq` is consistent, and the importers write only its names.
//!
//! The language parser lives elsewhere, so this reads the schema's two statement forms
//! (`type T [sub U, V].`, `pred p: D -> R.`) directly.  It checks that every type used is
//! declared, and that GDELT and the ACLED example produce facts whose predicates, types
//! and literal kinds the schema declares — so `check.` on imported data reports nothing
//! about names.

use dossier::io::{import_file, ImportOptions};
use dossier::model::{is_keyword, Kind};
use dossier::Quad;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

struct Schema {
    types: HashMap<String, Vec<String>>,
    preds: HashMap<String, (String, String)>,
}

fn schema() -> Schema {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/schema.dq"))
            .unwrap();
    let code: String = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join(" ");
    let mut s = Schema {
        types: HashMap::new(),
        preds: HashMap::new(),
    };
    for stmt in code.split('.').map(str::trim).filter(|t| !t.is_empty()) {
        let words: Vec<&str> = stmt.split_whitespace().collect();
        match words.as_slice() {
            ["type", name, rest @ ..] => {
                let sup = match rest {
                    [] => Vec::new(),
                    ["sub", list @ ..] => list
                        .join(" ")
                        .split(',')
                        .map(|t| t.trim().to_string())
                        .collect(),
                    other => panic!("bad type statement: {other:?}"),
                };
                assert!(
                    s.types.insert(name.to_string(), sup).is_none(),
                    "type {name} declared twice"
                );
            }
            ["pred", name, domain, "->", range] => {
                let name = name.strip_suffix(':').expect("pred p: D -> R");
                let old = s
                    .preds
                    .insert(name.to_string(), (domain.to_string(), range.to_string()));
                assert!(old.is_none(), "pred {name} declared twice");
            }
            other => panic!("not a schema statement: {other:?}"),
        }
    }
    s
}

impl Schema {
    fn is_type(&self, t: &str) -> bool {
        t == "_" || self.types.contains_key(t)
    }

    /// Every supertype of `t`, itself included.
    fn ancestors(&self, t: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::from([t.to_string()]);
        let mut todo = vec![t.to_string()];
        while let Some(x) = todo.pop() {
            for sup in self.types.get(&x).into_iter().flatten() {
                if out.insert(sup.clone()) {
                    todo.push(sup.clone());
                }
            }
        }
        out
    }

    /// Facts whose predicate, type or literal kind the schema does not allow.
    fn violations(&self, quads: &[Quad]) -> BTreeSet<String> {
        let mut bad = BTreeSet::new();
        for q in quads {
            if q.predicate == "type" {
                let t = q.object.as_entity().unwrap_or("");
                if !self.types.contains_key(t) {
                    bad.insert(format!("undeclared type {t}"));
                }
                continue;
            }
            let Some((_, range)) = self.preds.get(&q.predicate) else {
                bad.insert(format!("undeclared predicate {}", q.predicate));
                continue;
            };
            if let Some(kind) = Kind::from_name(range) {
                if !kind.accepts(q.object.kind()) {
                    bad.insert(format!("{} wants {range}, got {}", q.predicate, q.object));
                }
            } else if q.object.kind() != Kind::Entity {
                bad.insert(format!("{} wants an entity, got {}", q.predicate, q.object));
            }
        }
        bad
    }
}

#[test]
fn every_type_used_is_declared() {
    let s = schema();
    println!(
        "schema: {} types, {} predicates",
        s.types.len(),
        s.preds.len()
    );
    for (t, sups) in &s.types {
        assert!(!is_keyword(t), "{t} is a keyword");
        for sup in sups {
            assert!(
                s.types.contains_key(sup),
                "type {t} sub {sup}: {sup} is not declared"
            );
        }
    }
    for (p, (d, r)) in &s.preds {
        assert!(!is_keyword(p), "{p} is a keyword");
        assert!(s.is_type(d), "pred {p}: domain {d} is not declared");
        assert!(
            s.is_type(r) || Kind::from_name(r).is_some(),
            "pred {p}: range {r} is neither a type nor a kind"
        );
    }
    // A state is an actor and a territory; meetings are events.
    assert!(s.ancestors("State").contains("Actor") && s.ancestors("State").contains("Venue"));
    assert!(s.ancestors("Talks").contains("Event"));
    assert!(s.ancestors("Offensive").contains("MaterialConflict"));
    assert_eq!(s.preds["date"], ("Event".to_string(), "date".to_string()));
}

#[test]
fn the_benchmark_names_are_declared() {
    let s = schema();
    for p in "label located_in based_in backed_by leads venue date party mediator reported_by kind signed_at signed_on status".split(' ') {
        assert!(s.preds.contains_key(p), "pred {p}");
    }
    for t in "Continent State Region City ArmedGroup Organization Person Source AgreementKind Meeting Talks Offensive Statement Conference Agreement".split(' ') {
        assert!(s.types.contains_key(t), "type {t}");
    }
    for t in "Ceasefire PeaceDeal Memorandum".split(' ') {
        assert!(s.ancestors(t).contains("Agreement"), "{t}");
    }
}

#[test]
fn gdelt_and_acled_facts_fit_the_schema() {
    let s = schema();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let imports = [
        ("tests/data/gdelt/20191024143000.export.CSV", None),
        ("tests/data/gdelt/20180326044500.export.CSV", None),
        ("tests/data/gdelt/v1-events.csv", None),
        (
            "examples/acled/events.csv",
            Some(dir.join("examples/acled/mapping.toml")),
        ),
    ];
    for (file, mapping) in imports {
        let mut quads = Vec::new();
        let opts = ImportOptions {
            mapping,
            ..ImportOptions::default()
        };
        import_file(&dir.join(file), &opts, &mut quads).unwrap();
        let bad = s.violations(&quads);
        assert!(bad.is_empty(), "{file}: {bad:#?}");
    }
}
