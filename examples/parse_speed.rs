//! Parse speed of the language front end, in MB/s, on a 1 MB script of facts and a
//! script of queries.  Timing belongs here, not in the tests (a debug build on a busy CI
//! machine says nothing about speed).
//!
//! `cargo run --release --example parse_speed`

use dossier::lang::{parse_script, statements};
use std::time::Instant;

fn fact_script(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 200);
    let mut k = 0u64;
    while s.len() < bytes {
        s.push_str(&format!(
            "ev{k} a Meeting; venue city{}; date 2020-{:02}-{:02}; party actor{}, actor{}; seats {}; label \"Meeting number {k}\". # note\n",
            k % 97,
            1 + k % 12,
            1 + k % 28,
            k % 13,
            k % 17,
            k % 50
        ));
        k += 1;
    }
    s
}

fn query_script(bytes: usize) -> String {
    let q = "find ?a ?b count(?e) as n where ?e party ?a; party ?b; date ?d, ?a < ?b, ?d in 2019-04..2020-06, \
             not { ?e a Talks }, optional { ?a label ?l }, contains(lower(?l), \"haftar\") having n >= 5 order by n desc limit 10.\n";
    q.repeat(bytes / q.len() + 1)
}

fn measure(name: &str, text: &str) {
    let mb = text.len() as f64 / 1e6;
    // Warm up, then take the best of a few runs.
    let n = parse_script(text).map(|s| s.statements.len()).unwrap_or(0);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let parsed = parse_script(text).map(|s| s.statements.len()).unwrap_or(0);
        best = best.min(t.elapsed().as_secs_f64());
        assert_eq!(parsed, n);
    }
    let t = Instant::now();
    let lazily = statements(text).filter(Result::is_ok).count();
    let lazy = t.elapsed().as_secs_f64();
    assert_eq!(lazily, n);
    println!(
        "{name}: {:.2} MB, {n} statements: parse_script {:.1} ms ({:.1} MB/s), statements() {:.1} ms ({:.1} MB/s)",
        mb,
        best * 1e3,
        mb / best,
        lazy * 1e3,
        mb / lazy
    );
}

fn main() {
    measure("facts", &fact_script(1 << 20));
    measure("queries", &query_script(1 << 20));
}
