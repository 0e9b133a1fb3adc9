//! Durability and opening: committed data survives closing and killing the process; a
//! killed bulk load leaves a database whose indexes agree, and exactly the facts it held
//! before the import; bad paths, locked databases and newer formats give clear errors.

use dossier::{Db, Error, Options};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Run one `#[ignore]`d test of this binary as a child process (with `env` set).
fn child(test: &str, env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args([
        "--exact",
        test,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (k, v) in env {
        c.env(k, v);
    }
    c.stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn count(db: &Db, q: &str) -> i64 {
    db.query(q).unwrap().next().unwrap().values()[0]
        .as_ref()
        .and_then(|v| match v {
            dossier::Value::Int(i) => Some(*i),
            _ => None,
        })
        .unwrap()
}

#[test]
fn write_close_reopen_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb");
    {
        let db = Db::open(&path).unwrap();
        db.execute("haftar a Person; label \"Khalifa Haftar\"; commands lna. type Actor. type Person sub Actor.").unwrap();
        db.execute("rule ?x leads_side ?y :- ?x commands ?y.")
            .unwrap();
    }
    let db = Db::open(&path).unwrap();
    // 3 stated facts, `haftar a Actor` (Person is a subtype) and the derived leads_side.
    assert_eq!(count(&db, "find count() where haftar ?p ?o."), 5);
    assert_eq!(count(&db, "find count() where ?x a Actor."), 1);
    assert_eq!(count(&db, "find count() where ?x leads_side lna."), 1);
    assert!(db.store().verify().unwrap().is_empty());
}

/// A child process that commits statements one by one, printing each after it returns; the
/// parent kills it with SIGKILL and checks that every statement it reported survived.
#[test]
#[ignore]
fn child_writes_statements() {
    let Ok(path) = std::env::var("DOSSIER_TEST_DB") else {
        return;
    };
    let db = Db::open(&path).unwrap();
    for i in 0.. {
        db.execute(&format!("s{i} p {i}; q \"fact {i}\".")).unwrap();
        println!("committed {i}");
    }
}

#[test]
fn committed_statements_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb");
    let mut c = child(
        "child_writes_statements",
        &[("DOSSIER_TEST_DB", path.to_str().unwrap())],
    )
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    c.kill().unwrap();
    let out = c.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let reported = stdout.lines().filter(|l| l.contains("committed ")).count() as i64;
    assert!(reported > 10, "the child committed too little: {stdout}");
    let db = Db::open(&path).unwrap();
    let stored = count(&db, "find count() where ?s p ?n.");
    assert!(
        stored >= reported,
        "{reported} statements reported committed, {stored} found"
    );
    assert_eq!(
        stored,
        count(&db, "find count() where ?s q ?text."),
        "half a statement survived"
    );
    assert!(db.store().verify().unwrap().is_empty());
}

/// A child that bulk-imports a large file, again and again into fresh sources.
#[test]
#[ignore]
fn child_bulk_loads() {
    let (Ok(path), Ok(file)) = (
        std::env::var("DOSSIER_TEST_DB"),
        std::env::var("DOSSIER_TEST_FILE"),
    ) else {
        return;
    };
    let db = Db::open_with(
        &path,
        Options {
            durable: false,
            ..Options::default()
        },
    )
    .unwrap();
    for i in 0.. {
        let opts = dossier::io::ImportOptions {
            source: Some(format!("load{i}")),
            ..Default::default()
        };
        db.import(Path::new(&file), &opts, &mut |_| {}).unwrap();
        db.flush().unwrap();
        println!("loaded {i}");
    }
}

#[test]
fn a_killed_bulk_load_leaves_a_consistent_database() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("facts.nt");
    let mut text = String::new();
    for i in 0..60_000 {
        text.push_str(&format!("<http://x/e{i}> <http://x/p{}> \"value {i}\" .\n<http://x/e{i}> <http://x/link> <http://x/e{}> .\n", i % 7, i / 2));
    }
    std::fs::write(&file, text).unwrap();
    let path = dir.path().join("kb");
    for kill_after in [300u64, 1300, 2600] {
        let mut c = child(
            "child_bulk_loads",
            &[
                ("DOSSIER_TEST_DB", path.to_str().unwrap()),
                ("DOSSIER_TEST_FILE", file.to_str().unwrap()),
            ],
        )
        .spawn()
        .unwrap();
        std::thread::sleep(Duration::from_millis(kill_after));
        c.kill().unwrap();
        let out = c.wait_with_output().unwrap();
        let loaded = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.contains("loaded "))
            .count();
        let db = Db::open(&path).unwrap();
        assert!(
            db.store().verify().unwrap().is_empty(),
            "indexes disagree after a kill at {kill_after} ms"
        );
        // Each import is all or nothing: every source holds all 120,000 facts of the file.
        for (source, n) in db.sources().unwrap() {
            assert_eq!(n, 120_000, "{source} was half imported");
        }
        assert!(db.sources().unwrap().len() >= loaded.saturating_sub(1));
    }
}

/// A child that imports one file into an existing database, saying when it starts writing
/// and when the import has returned.
#[test]
#[ignore]
fn child_imports_once() {
    let (Ok(path), Ok(file)) = (
        std::env::var("DOSSIER_TEST_DB"),
        std::env::var("DOSSIER_TEST_FILE"),
    ) else {
        return;
    };
    let db = Db::open(&path).unwrap();
    let mut said = false;
    db.import_with_progress(
        Path::new(&file),
        &dossier::io::ImportOptions::default(),
        &mut |p: dossier::db::ImportProgress| {
            if p.writing && !said {
                said = true;
                println!("writing");
            }
        },
    )
    .unwrap();
    println!("imported");
}

fn facts_file(path: &Path, n: usize, tag: &str) {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "<http://x/e{i}> <http://x/{tag}> \"{tag} {i}\" .\n<http://x/e{i}> <http://x/link> <http://x/e{}> .\n",
            i / 3
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// Killed while it writes, an import into a database that already holds facts leaves
/// exactly the facts that were there before (or, if it finished, all of them).
#[test]
fn a_killed_import_leaves_the_database_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.nt"), dir.path().join("new.nt"));
    facts_file(&old, 20_000, "old");
    facts_file(&new, 40_000, "new");
    let path = dir.path().join("kb");
    let before = {
        let db = Db::open(&path).unwrap();
        db.import(&old, &Default::default(), &mut |_| {}).unwrap();
        db.quads().unwrap()
    };
    for delay in [0u64, 40, 150, 400] {
        let mut c = child(
            "child_imports_once",
            &[
                ("DOSSIER_TEST_DB", path.to_str().unwrap()),
                ("DOSSIER_TEST_FILE", new.to_str().unwrap()),
            ],
        )
        .spawn()
        .unwrap();
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(c.stdout.take().unwrap()));
        let writing = lines.any(|l| l.is_ok_and(|l| l.ends_with("writing")));
        assert!(writing, "the child never started writing");
        std::thread::sleep(Duration::from_millis(delay));
        c.kill().unwrap();
        let finished = lines.any(|l| l.is_ok_and(|l| l.ends_with("imported")));
        let _ = c.wait();
        let db = Db::open(&path).unwrap();
        assert!(
            db.store().verify().unwrap().is_empty(),
            "killed after {delay} ms"
        );
        let now = db.quads().unwrap();
        if finished {
            assert_eq!(now.len(), before.len() + 80_000, "killed after {delay} ms");
            return;
        }
        assert_eq!(now, before, "killed {delay} ms into writing: not as before");
    }
}

#[test]
fn a_path_that_is_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    let err = Db::open(&file).err().expect("a file is not a database");
    assert!(matches!(err, Error::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("is a file"), "{err}");
}

#[test]
#[ignore]
fn child_holds_the_database() {
    let Ok(path) = std::env::var("DOSSIER_TEST_DB") else {
        return;
    };
    let _db = Db::open(&path).unwrap();
    println!("open");
    std::thread::sleep(Duration::from_secs(30));
}

#[test]
fn a_locked_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb");
    // The child creates and holds the database (this process never opens it first: sled
    // releases its lock only when its background threads finish).
    let mut c = child(
        "child_holds_the_database",
        &[("DOSSIER_TEST_DB", path.to_str().unwrap())],
    )
    .spawn()
    .unwrap();
    // Wait until the child says it has the database open.
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(c.stdout.take().unwrap()));
    let start = Instant::now();
    while !lines
        .next()
        .and_then(|l| l.ok())
        .is_some_and(|l| l.ends_with("open"))
    {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the child never opened the database"
        );
    }
    let err = Db::open(&path)
        .err()
        .expect("a second process must not open it");
    c.kill().unwrap();
    let _ = c.wait();
    assert!(matches!(err, Error::Open { .. }), "{err:?}");
    assert!(
        err.to_string().contains("locked by another process"),
        "{err}"
    );
}

#[test]
fn a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb");
    Db::open(&path).unwrap().execute("x p 1.").unwrap();
    {
        // What a future dossier would have written (sled may still hold the lock of the
        // database just closed for a moment).
        let start = Instant::now();
        let db = loop {
            match sled::open(&path) {
                Ok(db) => break db,
                Err(e) => {
                    assert!(start.elapsed() < Duration::from_secs(10), "{e}");
                    std::thread::sleep(Duration::from_millis(25));
                }
            }
        };
        let t = db.open_tree("dossier").unwrap();
        t.insert(b"\x00format", &99u32.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let err = Db::open(&path).err().expect("refused");
    assert!(
        err.to_string().contains("newer dossier (format 99"),
        "{err}"
    );
}

#[test]
fn a_directory_of_something_else_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other");
    {
        let db = sled::open(&path).unwrap();
        db.open_tree("dossier")
            .unwrap()
            .insert(b"\x10junk", b"x")
            .unwrap();
        db.flush().unwrap();
    }
    let err = Db::open(&path).err().expect("refused");
    assert!(err.to_string().contains("not a dossier database"), "{err}");
}

#[test]
fn corrupt_files_give_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb");
    {
        let db = Db::open(&path).unwrap();
        let facts: String = (0..2000).map(|i| format!("e{i} p {i}.\n")).collect();
        db.execute(&facts).unwrap();
    }
    // Overwrite the middle of the data file with garbage.
    let data = path.join("db");
    let mut bytes = std::fs::read(&data).unwrap();
    let mid = bytes.len() / 3;
    for b in bytes.iter_mut().skip(mid).take(4096) {
        *b = 0xA5;
    }
    std::fs::write(&data, bytes).unwrap();
    let r = std::panic::catch_unwind(|| match Db::open(&path) {
        Err(e) => e.to_string(),
        Ok(db) => match db.store().verify() {
            Ok(p) if p.is_empty() => match db.query("find count() where ?s ?p ?o.") {
                Ok(_) => "recovered".to_string(),
                Err(e) => e.to_string(),
            },
            Ok(p) => p.join("; "),
            Err(e) => e.to_string(),
        },
    });
    let message = r.expect("opening a corrupt database must not panic");
    assert!(!message.is_empty());
}
