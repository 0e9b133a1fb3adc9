//! Measures how fast an RDF file is parsed and mapped to facts (no storage involved).
//!
//! ```sh
//! python3 tests/data/bench/gen.py --events 130000 --out /tmp/e130k   # ~1M triples
//! cargo run --release --example import_speed -- /tmp/e130k/data.nt http://dossier.example/
//! ```
//!
//! Prints four timings: oxttl's strict parse alone, parse + mapping to `Quad`s on the
//! default fast path, the same with `strict` (oxttl checks every IRI), and the fast path
//! through `import_file` (format detection, buffering).

use dossier::io::{import_file, rdf, ImportOptions, Namespaces};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: import_speed FILE.nt [BASE]")?;
    let base = args.next();
    // A third argument `fast` times only the default path (for a profiler).
    let only_fast = args.next().as_deref() == Some("fast");
    let namespaces = base.map(Namespaces::with_base).unwrap_or_default();

    if !only_fast {
        let t = Instant::now();
        let mut n = 0u64;
        for triple in oxttl::NTriplesParser::new().for_reader(BufReader::new(File::open(&path)?)) {
            triple?;
            n += 1;
        }
        report("oxttl parse only", n, t);
    }

    let t = Instant::now();
    let mut opts = rdf::RdfOptions::new(rdf::RdfFormat::NTriples);
    opts.namespaces = namespaces.clone();
    let mut facts = 0u64;
    let mut bytes = 0usize;
    let summary = rdf::import(
        BufReader::new(File::open(&path)?),
        Some(&path),
        &opts,
        &mut |q: dossier::Quad| {
            facts += 1;
            bytes += q.subject.len() + q.predicate.len();
            Ok(())
        },
    )?;
    report("parse + map (rdf::import)", facts, t);
    if only_fast {
        return Ok(());
    }

    let t = Instant::now();
    opts.strict = true;
    let mut strict = 0u64;
    rdf::import(
        BufReader::new(File::open(&path)?),
        Some(&path),
        &opts,
        &mut |_q| {
            strict += 1;
            Ok(())
        },
    )?;
    report("parse + map, strict oxttl", strict, t);

    let t = Instant::now();
    let opts = ImportOptions {
        namespaces,
        ..ImportOptions::default()
    };
    let mut count = 0u64;
    import_file(Path::new(&path), &opts, &mut |_q| {
        count += 1;
        Ok(())
    })?;
    report("parse + map (import_file)", count, t);
    println!("{summary}\n(checksum {bytes})");
    Ok(())
}

fn report(what: &str, n: u64, t: Instant) {
    let s = t.elapsed().as_secs_f64();
    println!(
        "{what:28} {n:>9} triples in {s:6.3} s = {:>10.0} triples/s",
        n as f64 / s
    );
}
