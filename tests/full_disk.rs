//! A write that fails on a full disk gives its space back: the database returns to its
//! last saved state, reads and writes work again in the same process, and the disk is no
//! longer full.  (Before, sled kept the failed import in memory, retried it until the disk
//! was full and failed every call, reads included, until the process ended.)
//!
//! Needs a small filesystem to fill: the test mounts a tmpfs, which takes root.  Without
//! root it says so loudly and passes; CI runs it as root.

use dossier::Db;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs of `mib` MiB mounted for the test's lifetime.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(mib: u32) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Percent of the filesystem in use.
    fn used_percent(&self) -> u64 {
        let total = fs2::total_space(self.path()).unwrap_or(1).max(1);
        let free = fs2::available_space(self.path()).unwrap_or(0);
        (total - free) * 100 / total
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn skip(why: &str) {
    eprintln!(
        "\n*** SKIPPED full-disk test: {why} (it needs root to mount a tmpfs; CI runs it) ***\n"
    );
}

/// N-Triples of `n` facts with long literals (about 100 bytes a line).
fn big_file(dir: &Path, n: usize) -> PathBuf {
    let path = dir.join("big.nt");
    let mut text = String::with_capacity(n * 110);
    for i in 0..n {
        text.push_str(&format!(
            "<http://x/e{i}> <http://x/note> \"note number {i} with some padding text to fill the disk\" .\n"
        ));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn count(db: &Db, q: &str) -> usize {
    db.query(q).expect("reads work").len()
}

#[test]
fn a_failed_import_on_a_full_disk_gives_the_space_back() {
    let Some(fs) = Tmpfs::mount(12) else {
        return skip("could not mount a tmpfs");
    };
    let outside = tempfile::tempdir().unwrap();
    let file = big_file(outside.path(), 50_000);
    let path = fs.path().join("kb");
    let db = Db::open(&path).unwrap();
    db.execute("x1 p 1. x2 p 2.").unwrap();
    let err = db
        .import(&file, &Default::default(), &mut |_| {})
        .expect_err("the import cannot fit");
    // Same process: reads and writes work, the import left nothing, the space is back.
    assert_eq!(count(&db, "find ?s where ?s p ?n."), 2);
    assert_eq!(count(&db, "find ?s where ?s note ?n."), 0);
    db.execute("x3 p 3.").expect("writes work again");
    assert_eq!(count(&db, "find ?s where ?s p ?n."), 3);
    assert!(db.store().verify().unwrap().is_empty());
    let used = fs.used_percent();
    assert!(used < 60, "the disk is still {used}% full");
    let message = err.to_string();
    assert!(message.contains("space"), "{message}");
    assert!(
        message.contains("Nothing was written") || message.contains("not saved"),
        "{message}"
    );
    drop(db);
    // And the next process finds what was saved.
    let db = Db::open(&path).unwrap();
    assert_eq!(count(&db, "find ?s where ?s p ?n."), 3);
}

#[test]
fn the_command_line_reports_a_full_disk_and_the_database_stays_usable() {
    let Some(fs) = Tmpfs::mount(12) else {
        return skip("could not mount a tmpfs");
    };
    let outside = tempfile::tempdir().unwrap();
    let file = big_file(outside.path(), 50_000);
    let path = fs.path().join("kb");
    let dossier = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_dossier"));
        c.arg("--db").arg(&path).args(["--format", "tsv"]);
        c
    };
    assert!(dossier()
        .args(["query", "x1 p 1."])
        .status()
        .unwrap()
        .success());
    let out = dossier().arg("import").arg(&file).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nothing was imported"), "{stderr}");
    let q = dossier()
        .args(["query", "find ?s ?n where ?s p ?n."])
        .output()
        .unwrap();
    assert!(q.status.success(), "{}", String::from_utf8_lossy(&q.stderr));
    assert_eq!(String::from_utf8_lossy(&q.stdout), "s\tn\nx1\t1\n");
    let check = dossier().arg("check").output().unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    let used = fs.used_percent();
    assert!(used < 60, "the disk is still {used}% full");
}

/// Small statements are not checked for room beforehand: the disk fills under them (here a
/// file fills it).  The one that fails is not saved, the database goes back to its last
/// saved state, and reads go on in the same process while the disk is still full.
#[test]
fn a_write_that_fills_the_disk_leaves_reads_working() {
    let Some(fs) = Tmpfs::mount(8) else {
        return skip("could not mount a tmpfs");
    };
    let path = fs.path().join("kb");
    let db = Db::open(&path).unwrap();
    db.execute("x1 p 1.").unwrap();
    // Leave about 200 KB free.
    let free = fs2::available_space(fs.path()).unwrap();
    let filler = fs.path().join("filler");
    let f = std::fs::File::create(&filler).unwrap();
    fs2::FileExt::allocate(&f, free.saturating_sub(200 << 10)).unwrap();
    drop(f);
    let padding = "y".repeat(20_000);
    let mut saved = 0;
    let mut failure = None;
    for i in 0..500 {
        match db.execute(&format!("big{i} text \"{i} {padding}\".")) {
            Ok(_) => saved += 1,
            Err(e) => {
                failure = Some(e.to_string());
                break;
            }
        }
    }
    let message = failure.expect("the disk filled up");
    // Reads work while the disk is still full, and see every saved statement.
    assert_eq!(count(&db, "find ?s where ?s p ?n."), 1);
    assert_eq!(count(&db, "find ?s where ?s text ?t."), saved);
    assert!(message.contains("not saved"), "{message}");
    std::fs::remove_file(&filler).unwrap();
    db.execute("x2 p 2.")
        .expect("writes work once there is room");
    drop(db);
    let db = Db::open(&path).unwrap();
    assert_eq!(count(&db, "find ?s where ?s text ?t."), saved);
    assert_eq!(count(&db, "find ?s where ?s p ?n."), 2);
    assert!(db.store().verify().unwrap().is_empty());
}
