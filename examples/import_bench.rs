//! Import an RDF file into a fresh database through `Db::import` and report the figures.
//! `cargo run --release --example import_bench -- FILE.nt [BASE] [DB]`
fn main() -> Result<(), dossier::Error> {
    let args: Vec<String> = std::env::args().collect();
    let file = std::path::PathBuf::from(&args[1]);
    let base = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "http://dossier.example/".into());
    let dir = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| format!("/tmp/import-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let t = std::time::Instant::now();
    let db = dossier::Db::open_with(
        &dir,
        dossier::Options {
            durable: false,
            ..Default::default()
        },
    )?;
    let opts = dossier::io::ImportOptions {
        namespaces: dossier::io::Namespaces::with_base(&base),
        ..Default::default()
    };
    let imported = db.import(&file, &opts, &mut |_| {})?;
    db.flush()?;
    drop(db);
    let secs = t.elapsed().as_secs_f64();
    let size: u64 = std::fs::read_dir(&dir)
        .map_err(|e| dossier::Error::io(&dir, e))?
        .flatten()
        .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    println!(
        "{} facts in {:.2} s = {:.0} facts/s; {:.1} MB on disk = {:.1} bytes/fact",
        imported.stats.added,
        secs,
        imported.stats.added as f64 / secs,
        size as f64 / 1e6,
        size as f64 / imported.stats.added as f64
    );
    if args.get(3).is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
