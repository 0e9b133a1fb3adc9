//! Query benchmark: the benchmark suite's ten queries (`tests/data/bench/queries.dq`, a copy
//! of `shared/bench/queries.dq`) on the generator's data, in-process, after a warm-up.
//!
//! `cargo bench --bench queries -- [DATA_DIR] [--events N] [--reps R]`
//! (default: generates 130,000 events, about 1M facts, into `bench-out/`).  Prints the
//! import figures, then one line per query: median and fastest time, and rows.  For the
//! comparison with other databases, run `shared/bench/peers.py` with `DOSSIER_BIN` set.

#[path = "../tests/common/mod.rs"]
mod common;

use dossier::io::{ImportOptions, Namespaces};
use dossier::{Db, Options, Outcome};
use std::path::{Path, PathBuf};
use std::time::Instant;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    e.metadata()
                        .map(|m| {
                            if m.is_dir() {
                                dir_size(&e.path())
                            } else {
                                m.len()
                            }
                        })
                        .unwrap_or(0)
                })
                .sum()
        })
        .unwrap_or(0)
}

fn main() -> Result<(), dossier::Error> {
    let events: u32 = arg("--events")
        .and_then(|e| e.parse().ok())
        .unwrap_or(130_000);
    let reps: usize = arg("--reps").and_then(|e| e.parse().ok()).unwrap_or(7);
    let data = match std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-') && a.parse::<u32>().is_err() && a != "--bench")
    {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(format!("bench-out/e{events}")),
    };
    if !data.join("params.json").exists() {
        let ok = std::process::Command::new("python3")
            .arg("tests/data/bench/gen.py")
            .args(["--events", &events.to_string(), "--out"])
            .arg(&data)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(
            ok,
            "generating the data needs python3 and tests/data/bench/gen.py"
        );
    }
    let params: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data.join("params.json")).expect("params.json"),
    )
    .expect("json");

    let dir = std::env::temp_dir().join(format!("dossier-bench-queries-{}", std::process::id()));
    let db = Db::open_with(
        &dir,
        Options {
            durable: false,
            ..Options::default()
        },
    )?;
    let t = Instant::now();
    let opts = ImportOptions {
        namespaces: Namespaces::with_base("http://dossier.example/"),
        ..ImportOptions::default()
    };
    let imported = db.import(&data.join("data.nt"), &opts, &mut |_| {})?;
    db.flush()?;
    let secs = t.elapsed().as_secs_f64();
    let facts = imported.stats.added;
    println!(
        "import: {facts} facts in {secs:.2} s = {:.0} facts/s; {:.1} bytes per fact on disk",
        facts as f64 / secs,
        dir_size(&dir) as f64 / facts as f64
    );

    let text = std::fs::read_to_string("tests/data/bench/queries.dq").expect("queries.dq");
    let blocks = common::named_blocks(&text);
    println!(
        "{:<72} {:>10} {:>10} {:>7}",
        "query", "median ms", "min ms", "rows"
    );
    for (name, mut q) in blocks {
        for k in ["event", "city", "state", "group"] {
            q = q.replace(&format!("${k}"), params[k].as_str().unwrap_or_default());
        }
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..=reps {
            let t = Instant::now();
            let out = db.execute(&q)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            if let Some(Outcome::Rows(r)) = out.last() {
                rows = r.len();
            }
        }
        times.remove(0); // the warm-up
        times.sort_by(|a, b| a.total_cmp(b));
        println!(
            "{name:<72} {:>10.3} {:>10.3} {rows:>7}",
            times[times.len() / 2],
            times[0]
        );
    }
    drop(db);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
