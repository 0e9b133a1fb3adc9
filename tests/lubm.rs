//! The LUBM ontology of the rules benchmark (`benches/lubm/rules.dq`, every axiom a rule,
//! and `benches/lubm/schema.dq`, the class hierarchy as types) on a small university:
//! both give the inferences LUBM's queries rely on, and the same answers.
//! (`cargo bench --bench lubm` checks the 14 queries against LUBM's reference answers.)

mod common;

use dossier::Db;
use std::collections::BTreeSet;

const UNIVERSITY: &str = "
u0 a University. u1 a University.
d0 a Department; subOrganizationOf u0. g0 a ResearchGroup; subOrganizationOf d0.
c0 a GraduateCourse. c1 a Course.
prof a FullProfessor; worksFor d0; headOf d0; doctoralDegreeFrom u1; teacherOf c0.
lect a Lecturer; worksFor d0; undergraduateDegreeFrom u0.
grad a GraduateStudent; memberOf d0; takesCourse c0; undergraduateDegreeFrom u0; advisor prof.
ta a GraduateStudent; memberOf d0; teachingAssistantOf c1.
under a UndergraduateStudent; memberOf d0; takesCourse c1.
ra a ResearchAssistant; worksFor g0.
";

fn db(ontology: &str) -> Db {
    let db = Db::memory().unwrap();
    db.execute(UNIVERSITY).unwrap();
    let text = std::fs::read_to_string(format!("benches/lubm/{ontology}")).unwrap();
    db.execute(&text).unwrap();
    db
}

fn rows(db: &Db, q: &str) -> BTreeSet<String> {
    common::rows(db, q)
        .into_iter()
        .map(|r| r.join(" "))
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

const EXPECTED: [(&str, &[&str]); 11] = [
    // Student: an undergraduate by subclass, a graduate by taking a course.
    ("find ?x where ?x a Student.", &["grad", "under"]),
    ("find ?x where ?x a Chair.", &["prof"]),
    ("find ?x where ?x a Employee.", &["lect", "prof", "ra"]),
    ("find ?x where ?x a Faculty.", &["lect", "prof"]),
    ("find ?x where ?x a TeachingAssistant.", &["ta"]),
    (
        "find ?x where ?x a Person.",
        &["grad", "lect", "prof", "ra", "ta", "under"],
    ),
    (
        "find ?x where ?x a Organization.",
        &["d0", "g0", "u0", "u1"],
    ),
    // Transitive: the research group is part of the university.
    ("find ?x where ?x subOrganizationOf u0.", &["d0", "g0"]),
    // Subproperty and inverse: hasAlumnus from undergraduateDegreeFrom.
    ("find ?x where u0 hasAlumnus ?x.", &["grad", "lect"]),
    // headOf -> worksFor -> memberOf, and member the inverse of memberOf.
    (
        "find ?x where d0 member ?x, ?x a Person.",
        &["grad", "lect", "prof", "ta", "under"],
    ),
    ("find ?x where ?x a Work.", &["c0", "c1"]),
];

#[test]
fn the_ontology_as_rules_gives_lubms_inferences() {
    let db = db("rules.dq");
    for (q, want) in EXPECTED {
        assert_eq!(rows(&db, q), set(want), "{q}");
    }
}

#[test]
fn the_ontology_as_types_and_rules_answers_the_same() {
    let rules = db("rules.dq");
    let types = db("schema.dq");
    for (q, _) in EXPECTED {
        assert_eq!(rows(&types, q), rows(&rules, q), "{q}");
    }
    let text = std::fs::read_to_string("benches/lubm/queries.dq").unwrap();
    let queries = common::named_blocks(&text);
    assert_eq!(queries.len(), 14);
    for (name, q) in queries {
        assert_eq!(rows(&types, &q), rows(&rules, &q), "{name}: {q}");
    }
}
