fn main() -> Result<(), dossier::Error> {
    let args: Vec<String> = std::env::args().collect();
    let db = dossier::Db::open(&args[1])?;
    if let Some(ms) = args.get(3) {
        std::thread::sleep(std::time::Duration::from_millis(ms.parse().unwrap()));
    }
    let q = std::fs::read_to_string(&args[2]).unwrap();
    for _ in 0..2 {
        let t = std::time::Instant::now();
        let n = db.query(q.trim())?.len();
        println!("{n} rows in {:.2} ms", t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(())
}
