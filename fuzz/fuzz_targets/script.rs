//! Fuzz the script runner on an in-memory database: any sequence of statements runs
//! without a panic, a statement that fails changes nothing (facts, schema and rules are
//! as before it), and afterwards every index agrees (`Store::verify`).
//!
//! One temporary database serves every input, emptied (`Store::clear`) before each, so
//! that an input runs as on a new database without paying for one.  Queries run under a
//! short time limit and a small memory limit, statements under a small size limit.
//!
//! Run (from an empty directory: `load` reads files): see the README's developing section.
#![no_main]

use dossier::{Db, Options};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use std::time::Duration;

/// What a failed statement must leave as it was.
fn state(db: &Db) -> (u64, u64, Vec<String>, Vec<String>) {
    let stats = db.stats().expect("stats");
    (
        stats.facts,
        stats.triples,
        db.schema().expect("schema"),
        db.rules().expect("rules"),
    )
}

fn database() -> &'static Db {
    static DB: OnceLock<Db> = OnceLock::new();
    DB.get_or_init(|| {
        Db::memory_with(Options {
            timeout: Some(Duration::from_millis(200)),
            max_memory: Some(64 << 20),
            max_statement_bytes: 64 << 10,
            ..Options::default()
        })
        .expect("a temporary database")
    })
}

fuzz_target!(|data: &[u8]| {
    let db = database();
    db.store().clear().expect("clear");
    let mut script = db.script_reader(data);
    for _ in 0..64 {
        let before = state(db);
        match script.next() {
            None => break,
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                let _ = e.to_string();
                assert_eq!(state(db), before, "a failed statement changed something: {e}");
            }
        }
    }
    let problems = db.store().verify().expect("verify runs");
    assert!(problems.is_empty(), "{problems:?}");
});
