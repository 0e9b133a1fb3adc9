//! `compact`, `backup` and `--read-only`, from the command line, the shell and the library.

mod common;

use common::{dossier, text};
use dossier::{Db, Options};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn export(db: &Path) -> String {
    let o = dossier(db, &["export"]);
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8(o.stdout).unwrap()
}

/// A database loaded with [`two_sources`].
fn loaded(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kb");
    let data = two_sources(dir.path(), n);
    let o = dossier(&db, &["run", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    (dir, db)
}

/// Two sources of `n` facts each (with a schema and a rule), as a script.
fn two_sources(dir: &Path, n: usize) -> std::path::PathBuf {
    let mut s =
        String::from("type Event. pred weight: Event -> int.\nrule ?a linked ?b :- ?a next ?b.\n");
    for src in ["keep", "gone"] {
        s.push_str(&format!("from {src} {{\n"));
        for i in 0..n {
            s.push_str(&format!(
                "  {src}{i} a Event; weight {i}; next {src}{}; note \"a note about {src} {i}\".\n",
                i + 1
            ));
        }
        s.push_str("}\n");
    }
    let f = dir.join("data.dq");
    std::fs::write(&f, s).unwrap();
    f
}

#[test]
fn compact_shrinks_the_files_and_keeps_every_fact() {
    let (dir, db) = loaded(3000);
    let o = dossier(&db, &["query", "drop source gone."]);
    assert!(o.status.success(), "{}", text(&o));
    let before = export(&db);
    let bytes_before = dossier::db::disk_bytes(&db);
    let o = dossier(&db, &["compact"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("compacted"), "{}", text(&o));
    let bytes_after = dossier::db::disk_bytes(&db);
    assert!(
        bytes_after < bytes_before,
        "{bytes_before} bytes before, {bytes_after} after"
    );
    assert_eq!(export(&db), before);
    let check = dossier(&db, &["check"]);
    assert!(check.status.success(), "{}", text(&check));
    let rule = dossier(&db, &["query", "find count() where keep1 linked ?x."]);
    assert_eq!(String::from_utf8_lossy(&rule.stdout), "count()\n1\n");
    // Nothing is left next to it, and it takes writes.
    for suffix in [".compacting", ".compact-old"] {
        let mut s = db.as_os_str().to_owned();
        s.push(suffix);
        assert!(!Path::new(&s).exists(), "{suffix} left behind");
    }
    assert!(dossier(&db, &["query", "keep9999 weight 1."])
        .status
        .success());

    // The library does the same.
    let c = dossier::db::compact(&db).unwrap();
    assert_eq!(c.facts, 3000 * 4 + 1);
    assert!(dossier::db::compact(&dir.path().join("none")).is_err());
}

#[test]
fn compact_refuses_an_open_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb");
    let db = Db::open(&path).unwrap();
    db.execute("x1 p 1.").unwrap();
    let err = dossier::db::compact(&path).unwrap_err().to_string();
    assert!(err.contains("locked"), "{err}");
    assert_eq!(db.query("find ?x where ?x p 1.").unwrap().len(), 1);
}

#[test]
fn a_backup_is_consistent_while_others_read_and_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("kb")).unwrap();
    db.execute("type Event. rule ?a linked ?b :- ?a next ?b.")
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    // A writer: each statement adds a pair of facts, so a consistent copy has as many
    // `p` facts as `q` facts.
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                db.execute(&format!("w{i} p {i}; q \"{i}\".")).unwrap();
                i += 1;
            }
            i
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let p = db.query("find count() where ?s p ?o.").unwrap();
                    assert_eq!(p.len(), 1);
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut made = Vec::new();
    for k in 0..3 {
        let dest = dir.path().join(format!("backup{k}"));
        made.push((dest.clone(), db.backup(&dest).unwrap()));
        std::thread::sleep(Duration::from_millis(100));
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    let read: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(written > 0 && read > 0);
    let count = |db: &Db, q: &str| -> String {
        db.query(q).unwrap().values().next().unwrap()[0]
            .as_ref()
            .unwrap()
            .to_string()
    };
    for (dest, b) in made {
        let copy = Db::open(&dest).unwrap();
        assert!(copy.store().verify().unwrap().is_empty());
        let p = count(&copy, "find count() where ?s p ?o.");
        let q = count(&copy, "find count() where ?s q ?o.");
        assert_eq!(p, q, "a backup caught half a statement");
        assert_eq!(b.facts, p.parse::<u64>().unwrap() * 2);
        assert_eq!(copy.rules().unwrap().len(), 1);
        let mut partial = dest.as_os_str().to_owned();
        partial.push(".partial");
        assert!(!Path::new(&partial).exists());
    }
    // A backup never overwrites.
    let err = db
        .backup(&dir.path().join("backup0"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("already exists"), "{err}");
}

#[test]
fn backup_from_the_command_line_and_the_shell() {
    let (dir, db) = loaded(200);
    let dest = dir.path().join("copy");
    let o = dossier(&db, &["backup", dest.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("backed up 1,600 facts"), "{}", text(&o));
    assert_eq!(export(&dest), export(&db));
    assert!(dossier(&dest, &["check"]).status.success());
    let again = dossier(&db, &["backup", dest.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again));
    assert!(text(&again).contains("already exists"));

    // `.backup` in the shell, in a pseudo-terminal.
    let shell_dest = dir.path().join("from-shell");
    let mut c = Command::new(env!("CARGO_BIN_EXE_dossier"));
    c.arg("--db")
        .arg(&db)
        .arg("repl")
        .env("HOME", dir.path())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let opts = rexpect::session::Options::new()
        .timeout_ms(Some(60_000))
        .strip_ansi_escape_codes(true);
    let mut p = rexpect::session::spawn_with_options(c, opts).expect("the shell starts");
    p.exp_string("dossier> ").unwrap();
    p.send_line(&format!(".backup {}", shell_dest.display()))
        .unwrap();
    p.exp_string("backed up 1,600 facts").unwrap();
    p.exp_string("dossier> ").unwrap();
    p.send_line(".backup").unwrap();
    p.exp_string(".backup needs a directory").unwrap();
    p.send_line(".quit").unwrap();
    p.exp_eof().unwrap();
    assert_eq!(export(&shell_dest), export(&db));
}

/// Every file of a directory with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<String, (Vec<u8>, std::time::SystemTime)> {
    let mut out = BTreeMap::new();
    for e in walk(dir) {
        let m = std::fs::metadata(&e).unwrap();
        out.insert(
            e.strip_prefix(dir).unwrap().display().to_string(),
            (std::fs::read(&e).unwrap(), m.modified().unwrap()),
        );
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            v.extend(walk(&p));
        } else {
            v.push(p);
        }
    }
    v
}

#[test]
fn read_only_writes_nothing_to_the_directory() {
    let (dir, db) = loaded(100);
    // Let a second of mtime resolution pass, so a rewrite would show.
    std::thread::sleep(Duration::from_millis(1100));
    let before = snapshot(&db);
    // Read-only opens copy the database into the temporary directory.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let ro = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_dossier"))
            .arg("--db")
            .arg(&db)
            .args(["--format", "tsv", "--read-only"])
            .args(args)
            .env("TMPDIR", &tmp)
            .output()
            .expect("dossier runs")
    };
    let q = ro(&["query", "find count() where ?e a Event."]);
    assert!(q.status.success(), "{}", text(&q));
    assert_eq!(String::from_utf8_lossy(&q.stdout), "count()\n200\n");
    for args in [&["stats"][..], &["check"], &["export"]] {
        let o = ro(args);
        assert!(o.status.success(), "{args:?}: {}", text(&o));
    }
    let w = ro(&["query", "find count() where ?e a Event.\nnewthing p 1."]);
    assert_eq!(w.status.code(), Some(1), "{}", text(&w));
    let msg = text(&w);
    assert!(msg.contains("read-only"), "{msg}");
    assert!(
        msg.contains("--> 2:1"),
        "the error names the statement's place: {msg}"
    );
    for (stmt, name) in [
        ("del keep1 weight 1.", "'del'"),
        ("drop source keep.", "'drop source'"),
        ("type X.", "'type'"),
    ] {
        let o = ro(&["query", stmt]);
        assert_eq!(o.status.code(), Some(1), "{}", text(&o));
        assert!(text(&o).contains(name), "{}", text(&o));
    }
    let piped = {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dossier"))
            .arg("--db")
            .arg(&db)
            .arg("--read-only")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        c.stdin.take().unwrap().write_all(b"x p 1.\n").unwrap();
        c.wait_with_output().unwrap()
    };
    assert_eq!(piped.status.code(), Some(1), "{}", text(&piped));
    for args in [&["compact"][..], &["check", "--repair"]] {
        let o = ro(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o));
    }
    let after = snapshot(&db);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "files appeared or vanished"
    );
    for (name, (bytes, mtime)) in &before {
        let (b2, m2) = &after[name];
        assert!(bytes == b2, "{name} changed");
        assert_eq!(mtime, m2, "{name} was written");
    }
    // The private copies were made in TMPDIR and removed.
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "copies left in TMPDIR: {left:?}");
    // A missing database is an error, not a new empty one.
    let none = dir.path().join("none");
    let o = dossier(&none, &["--read-only", "query", "find ?x where ?x p 1."]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(!none.exists());
}

#[test]
fn read_only_in_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kb");
    Db::open(&path).unwrap().execute("x1 p 1.").unwrap();
    let start = Instant::now();
    let db = loop {
        match Db::open_with(
            &path,
            Options {
                read_only: true,
                ..Options::default()
            },
        ) {
            Ok(db) => break db,
            Err(e) if start.elapsed() < Duration::from_secs(5) => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(db.query("find ?x where ?x p 1.").unwrap().len(), 1);
    let err = db.execute("x2 p 2.").unwrap_err().to_string();
    assert!(err.contains("read-only"), "{err}");
    assert!(db.add("x2", "p", 2i64).is_err());
    assert!(db
        .transaction(|tx| tx.execute("x2 p 2.").map(|_| ()))
        .is_err());
    assert!(Db::open_with(
        dir.path().join("missing"),
        Options {
            read_only: true,
            ..Options::default()
        }
    )
    .is_err());
}
