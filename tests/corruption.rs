//! Damaged databases are noticed, never answered from silently: every file of a database
//! directory is deleted, truncated and has bytes flipped, and every kind of key is
//! removed or altered (with sled directly, under dossier).  Each case must end in one of:
//!
//! - **refused**: a command fails with an error that names the database and says what to
//!   do (restore, repair, check), never a panic;
//! - **detected**: `dossier check` exits 1 listing the problem;
//! - **harmless**: `dossier check` passes and every answer is exactly as before.
//!
//! A case where `check` passes but the export or a query differs is silent damage: a
//! failure.  The summary (`--nocapture`) gives the counts; the README quotes them.
//! Key damage is also repaired with `dossier check --repair`, which must leave a database
//! that checks clean and, where nothing was lost for good, answers exactly as before.

mod common;

use common::{dossier, text};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The sample database: the Libya example (schema, sources), a rule, generated facts
/// with sources (several blocks per index and per dictionary direction), an N-Triples
/// import with blank nodes, a deletion and a dropped source.
struct Sample {
    _dir: tempfile::TempDir,
    db: PathBuf,
    export: String,
    derived: String,
}

const RULE_QUERY: &str = "find ?x ?z where ?x lies_within ?z order by ?x, ?z.";

fn sample() -> &'static Sample {
    static S: OnceLock<Sample> = OnceLock::new();
    S.get_or_init(|| {
        // A static is never dropped, so its directory is not removed when the tests end:
        // keep it under the target directory, and remove the ones earlier runs left.
        let parent = Path::new(env!("CARGO_TARGET_TMPDIR"));
        for e in std::fs::read_dir(parent).into_iter().flatten().flatten() {
            let old = e.metadata().and_then(|m| m.modified()).is_ok_and(|t| {
                t.elapsed().is_ok_and(|age| age > Duration::from_secs(3600))
            });
            if old && e.file_name().to_string_lossy().starts_with("corruption-sample") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("corruption-sample")
            .tempdir_in(parent)
            .expect("temp dir");
        let db = dir.path().join("kb");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let ok = |o: Output| assert!(o.status.success(), "{}", text(&o));
        ok(dossier(&db, &["run", root.join("examples/libya.dq").to_str().unwrap()]));
        let mut script = String::from(
            "rule ?x lies_within ?z :- ?x sits_in ?z.\n\
             rule ?x lies_within ?z :- ?x sits_in ?y, ?y lies_within ?z.\n",
        );
        for i in 0..500 {
            script.push_str(&format!(
                "from src{} {{ ev{i} a Meeting; date 2020-{:02}-{:02}; label \"event number {i}\"; sits_in place{}. }}\n",
                i % 7,
                i % 12 + 1,
                i % 28 + 1,
                i % 40
            ));
        }
        for i in 0..40 {
            script.push_str(&format!("place{i} sits_in region{}.\n", i % 5));
        }
        script.push_str("del ev3 label \"event number 3\" from src3.\ndrop source src6.\n");
        let file = dir.path().join("gen.dq");
        std::fs::write(&file, script).unwrap();
        ok(dossier(&db, &["run", file.to_str().unwrap()]));
        let nt = dir.path().join("blank.nt");
        std::fs::write(
            &nt,
            "_:a <http://x/knows> _:b .\n_:b <http://x/name> \"b\" .\n<http://x/c> <http://x/knows> _:a .\n",
        )
        .unwrap();
        ok(dossier(&db, &["import", nt.to_str().unwrap(), "--base", "http://x/"]));
        let check = dossier(&db, &["check"]);
        assert!(check.status.success(), "the sample must check clean: {}", text(&check));
        let export = dossier(&db, &["export"]);
        assert!(export.status.success(), "{}", text(&export));
        let derived = dossier(&db, &["query", RULE_QUERY]);
        assert!(derived.status.success(), "{}", text(&derived));
        Sample {
            db,
            export: String::from_utf8(export.stdout).unwrap(),
            derived: String::from_utf8(derived.stdout).unwrap(),
            _dir: dir,
        }
    })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Refused,
    Detected,
    Harmless,
}

/// Judge a damaged copy (panics on a panic, silent damage or an unhelpful error).
fn judge(case: &str, db: &Path) -> Verdict {
    let s = sample();
    let check = dossier(db, &["check"]);
    let out = text(&check);
    assert_ne!(
        check.status.code(),
        Some(101),
        "{case}: check panicked: {out}"
    );
    assert!(check.status.code().is_some(), "{case}: check died: {out}");
    match check.status.code() {
        Some(0) => {
            let export = dossier(db, &["export"]);
            let derived = dossier(db, &["query", RULE_QUERY]);
            assert!(
                export.status.success() && String::from_utf8_lossy(&export.stdout) == s.export,
                "{case}: check passed but the export differs (silent damage): {}",
                text(&export)
            );
            assert!(
                derived.status.success() && String::from_utf8_lossy(&derived.stdout) == s.derived,
                "{case}: check passed but a rule query differs (silent damage): {}",
                text(&derived)
            );
            Verdict::Harmless
        }
        Some(1) if !check.stdout.is_empty() && out.contains("check --repair") => {
            // The problem list, then what to do.
            Verdict::Detected
        }
        _ => {
            assert!(
                out.contains(&db.display().to_string()) || out.contains("database"),
                "{case}: the error does not name the database: {out}"
            );
            let lower = out.to_lowercase();
            assert!(
                ["backup", "repair", "restore", "check", "free disk space"]
                    .iter()
                    .any(|w| lower.contains(w)),
                "{case}: the error does not say what to do: {out}"
            );
            // Every other command refuses it too, without a panic.
            for args in [
                &["export"][..],
                &["stats"][..],
                &["query", "find ?s where ?s a Meeting."],
            ] {
                let o = dossier(db, args);
                assert_ne!(
                    o.status.code(),
                    Some(101),
                    "{case}: {args:?} panicked: {}",
                    text(&o)
                );
                if o.status.success() && args[0] == "export" {
                    assert_eq!(
                        String::from_utf8_lossy(&o.stdout),
                        s.export,
                        "{case}: check refused but export answered differently"
                    );
                }
            }
            Verdict::Refused
        }
    }
}

#[derive(Default)]
struct Summary {
    cases: usize,
    refused: usize,
    detected: usize,
    harmless: usize,
}

impl Summary {
    fn add(&mut self, v: Verdict) {
        self.cases += 1;
        match v {
            Verdict::Refused => self.refused += 1,
            Verdict::Detected => self.detected += 1,
            Verdict::Harmless => self.harmless += 1,
        }
    }

    fn print(&self, what: &str) {
        println!(
            "corruption ({what}): {} cases: {} refused with an error, {} detected by check, {} harmless (answers unchanged), 0 silent",
            self.cases, self.refused, self.detected, self.harmless
        );
    }
}

/// Flip, truncate and delete each file of the directory.
#[test]
fn damaged_files_are_refused_or_detected() {
    let s = sample();
    let work = tempfile::tempdir().unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&s.db)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    files.sort();
    for expected in ["db", "conf", "blobs", "dossier.manifest"] {
        assert!(
            files.iter().any(|f| f == expected),
            "no {expected} in {files:?}"
        );
    }
    assert!(
        files.iter().any(|f| f.starts_with("snap.")),
        "no snapshot: {files:?}"
    );
    let mut summary = Summary::default();
    let mut n = 0;
    let mut case = |name: String, damage: &dyn Fn(&Path)| {
        n += 1;
        let db = work.path().join(format!("c{n}"));
        copy_dir(&s.db, &db);
        damage(&db);
        let v = judge(&name, &db);
        println!("  {name}: {v:?}");
        summary.add(v);
    };
    for f in &files {
        let f = f.clone();
        case(format!("delete {f}"), &|db| {
            let p = db.join(&f);
            if p.is_dir() {
                std::fs::remove_dir_all(p).unwrap();
            } else {
                std::fs::remove_file(p).unwrap();
            }
        });
        if s.db.join(&f).is_dir() {
            continue;
        }
        let len = std::fs::metadata(s.db.join(&f)).unwrap().len();
        for keep in [0, len / 2, len.saturating_sub(1)] {
            let f = f.clone();
            case(format!("truncate {f} to {keep} of {len} bytes"), &|db| {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(db.join(&f))
                    .unwrap();
                file.set_len(keep).unwrap();
            });
        }
        // Flip bytes at spread positions; in the data file, among the bytes that hold
        // something (most of it is unused log space).
        let bytes = std::fs::read(s.db.join(&f)).unwrap();
        let used: Vec<u64> = if f == "db" {
            (0..len).filter(|&i| bytes[i as usize] != 0).collect()
        } else {
            (0..len).collect()
        };
        let spots: u64 = if f == "db" { 16 } else { 3 };
        for i in 0..spots {
            let at = match used.len() as u64 {
                0 => 0,
                n => used[((n - 1) * i / (spots - 1)) as usize],
            };
            let f = f.clone();
            case(format!("flip a byte of {f} at {at}"), &|db| {
                let p = db.join(&f);
                let mut bytes = std::fs::read(&p).unwrap();
                if let Some(b) = bytes.get_mut(at as usize) {
                    *b ^= 0x5A;
                }
                std::fs::write(&p, bytes).unwrap();
            });
        }
    }
    summary.print("files");
}

/// Open the sled tree under dossier, run `f` on it, flush and close.
fn with_tree(db: &Path, f: impl FnOnce(&sled::Tree)) {
    let start = Instant::now();
    let sled_db = loop {
        match sled::open(db) {
            Ok(d) => break d,
            Err(e) => {
                assert!(start.elapsed() < Duration::from_secs(10), "{e}");
                std::thread::sleep(Duration::from_millis(25));
            }
        }
    };
    let tree = sled_db.open_tree("dossier").unwrap();
    f(&tree);
    tree.flush().unwrap();
    sled_db.flush().unwrap();
}

fn keys_with(tree: &sled::Tree, prefix: &[u8]) -> Vec<Vec<u8>> {
    tree.scan_prefix(prefix)
        .keys()
        .map(|k| k.unwrap().to_vec())
        .collect()
}

/// One kind of key damage: a name, and what it does to the tree.
type KeyDamage = (String, Box<dyn Fn(&sled::Tree)>);

fn key_damages() -> Vec<KeyDamage> {
    let mut out: Vec<KeyDamage> = Vec::new();
    for name in [
        "format", "next", "totals", "records", "ucatalog", "uimports",
    ] {
        out.push((
            format!("remove meta record {name}"),
            Box::new(move |t| {
                let mut k = vec![0u8];
                k.extend_from_slice(name.as_bytes());
                assert!(t.remove(k).unwrap().is_some(), "no meta record {name}");
            }),
        ));
    }
    out.push((
        "set the entity counter back".into(),
        Box::new(|t| {
            let v = t.get(b"\x00next").unwrap().unwrap();
            let mut v = v.to_vec();
            v[8..16].copy_from_slice(&5u64.to_be_bytes());
            t.insert(b"\x00next", v).unwrap();
        }),
    ));
    out.push((
        "change a byte of the catalog".into(),
        Box::new(|t| {
            let mut v = t.get(b"\x00ucatalog").unwrap().unwrap().to_vec();
            let mid = v.len() / 2;
            v[mid] ^= 0x01;
            t.insert(b"\x00ucatalog", v).unwrap();
        }),
    ));
    let parts: [(&str, u8); 6] = [
        ("id→term", 0x01),
        ("term→id", 0x02),
        ("SPOG", 0x10),
        ("POS", 0x11),
        ("OSP", 0x12),
        ("GSPO", 0x13),
    ];
    for (name, tag) in parts {
        for (which, pick) in [("first", 0usize), ("middle", 1), ("last", 2)] {
            out.push((
                format!("remove the {which} block of {name}"),
                Box::new(move |t| {
                    let keys = keys_with(t, &[tag]);
                    assert!(keys.len() >= 3, "{name} has {} blocks", keys.len());
                    let k = match pick {
                        0 => &keys[0],
                        1 => &keys[keys.len() / 2],
                        _ => &keys[keys.len() - 1],
                    };
                    t.remove(k).unwrap();
                }),
            ));
        }
        out.push((
            format!("cut a block of {name} short"),
            Box::new(move |t| {
                let keys = keys_with(t, &[tag]);
                let k = &keys[keys.len() / 2];
                let v = t.get(k).unwrap().unwrap();
                t.insert(k, &v[..v.len() / 2]).unwrap();
            }),
        ));
    }
    for (name, tag) in [("predicate", 0x20u8), ("class", 0x21), ("source", 0x22)] {
        out.push((
            format!("remove a {name} count"),
            Box::new(move |t| {
                let keys = keys_with(t, &[tag]);
                t.remove(&keys[keys.len() / 2]).unwrap();
            }),
        ));
        out.push((
            format!("change a {name} count"),
            Box::new(move |t| {
                let keys = keys_with(t, &[tag]);
                let k = &keys[0];
                let mut v = t.get(k).unwrap().unwrap().to_vec();
                v[7] ^= 0x02;
                t.insert(k, v).unwrap();
            }),
        ));
    }
    out.push((
        "a key of no known part".into(),
        Box::new(|t| {
            t.insert(b"\x07stray", b"x").unwrap();
        }),
    ));
    out
}

/// What must not be lost by a repair of this damage (`false`: what the key held is gone
/// for good, and the repair says so).
fn repair_restores_everything(name: &str) -> bool {
    !(name.contains("ucatalog") || name.contains("catalog"))
}

#[test]
fn damaged_keys_are_detected_and_repaired() {
    let s = sample();
    let work = tempfile::tempdir().unwrap();
    let mut summary = Summary::default();
    let mut repaired = 0;
    for (n, (name, damage)) in key_damages().into_iter().enumerate() {
        let db = work.path().join(format!("k{n}"));
        copy_dir(&s.db, &db);
        with_tree(&db, |t| damage(t));
        let v = judge(&name, &db);
        summary.add(v);
        if v == Verdict::Harmless {
            // Only the register of meta records is redundant enough to be rebuilt when
            // the database is opened (its records are all there).
            assert!(
                name.ends_with(" records"),
                "{name}: the damage went unnoticed"
            );
            println!("  {name}: {v:?}");
            continue;
        }

        // Writing to a damaged database must not make it worse: refused, or harmless.
        let w = dossier(&db, &["query", "newfact p o."]);
        assert_ne!(
            w.status.code(),
            Some(101),
            "{name}: a write panicked: {}",
            text(&w)
        );
        if w.status.success() {
            // Reading it back may fail on the damage, with an error; it must not answer
            // something else.
            let q = dossier(&db, &["query", "find ?p ?o where newfact ?p ?o."]);
            assert_ne!(q.status.code(), Some(101), "{name}: {}", text(&q));
            if q.status.success() {
                assert_eq!(
                    String::from_utf8_lossy(&q.stdout),
                    "p\to\np\to\n",
                    "{name}: a new fact reads back wrong: {}",
                    text(&q)
                );
            }
        }

        let r = dossier(&db, &["check", "--repair"]);
        let rt = text(&r);
        assert_ne!(r.status.code(), Some(101), "{name}: repair panicked: {rt}");
        assert!(
            rt.contains("before-repair"),
            "{name}: the repair did not say where the damaged copy is: {rt}"
        );
        let mut before = db.as_os_str().to_owned();
        before.push(".before-repair");
        assert!(
            Path::new(&before).join("db").is_file(),
            "{name}: the damaged copy was not kept"
        );
        let check = dossier(&db, &["check"]);
        assert!(
            check.status.success(),
            "{name}: the repaired database does not check clean: {}\nrepair said: {rt}",
            text(&check)
        );
        if repair_restores_everything(&name) {
            assert!(
                r.status.success(),
                "{name}: the repair reported a loss: {rt}"
            );
            let export = dossier(&db, &["export"]);
            let mut got = String::from_utf8_lossy(&export.stdout).to_string();
            if w.status.success() {
                got = got.replace("newfact p o.\n", "");
            }
            assert_eq!(
                got, s.export,
                "{name}: the repaired database lost something: {rt}"
            );
            let derived = dossier(&db, &["query", RULE_QUERY]);
            assert_eq!(
                String::from_utf8_lossy(&derived.stdout),
                s.derived,
                "{name}: rules after repair"
            );
        } else {
            assert_eq!(
                r.status.code(),
                Some(1),
                "{name}: the repair must report what it lost: {rt}"
            );
            assert!(rt.contains("could not be rebuilt"), "{name}: {rt}");
        }
        repaired += 1;
        println!("  {name}: {v:?}, repaired");
    }
    summary.print("keys");
    println!(
        "repaired: {repaired} of {} damaged databases check clean afterwards (the others needed no repair)",
        summary.cases - summary.harmless
    );
}

/// A repair of a healthy database changes nothing.
#[test]
fn repairing_a_healthy_database_does_nothing() {
    let s = sample();
    let work = tempfile::tempdir().unwrap();
    let db = work.path().join("kb");
    copy_dir(&s.db, &db);
    let r = dossier(&db, &["check", "--repair"]);
    assert!(r.status.success(), "{}", text(&r));
    assert!(text(&r).contains("nothing to repair"), "{}", text(&r));
    let mut before = db.as_os_str().to_owned();
    before.push(".before-repair");
    assert!(!Path::new(&before).exists());
}

// ----- The four failures of "check passes while answers are wrong", one test each. -----

/// A small database of named things (a schema, a rule), with `ne` more entities.
fn small(ne: usize) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kb");
    let mut script = String::from(
        "type Actor. type Venue. pred at: Actor -> Venue.\n\
         rule ?x near ?y :- ?x at ?y.\n",
    );
    for i in 0..ne {
        script.push_str(&format!(
            "a{i} a Actor; at v{}. v{} a Venue.\n",
            i % 50,
            i % 50
        ));
    }
    let file = dir.path().join("s.dq");
    std::fs::write(&file, script).unwrap();
    let o = dossier(&db, &["run", file.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    (dir, db)
}

/// `dossier check` exits 1 with a problem that contains `needle`.
fn check_finds(db: &Path, needle: &str) {
    let check = dossier(db, &["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
    assert!(text(&check).contains(needle), "{}", text(&check));
}

#[test]
fn a_missing_id_counter_does_not_give_new_names_old_ids() {
    let (_dir, db) = small(300);
    with_tree(&db, |t| {
        t.remove(b"\x00next").unwrap();
    });
    let w = dossier(&db, &["query", "newfact p o."]);
    assert_ne!(w.status.code(), Some(101));
    if w.status.success() {
        let q = dossier(&db, &["query", "find ?s ?o where ?s p ?o."]);
        assert_eq!(
            String::from_utf8_lossy(&q.stdout),
            "s\to\nnewfact\to\n",
            "{}",
            text(&q)
        );
    } else {
        assert!(text(&w).contains("id counter"), "{}", text(&w));
    }
    check_finds(&db, "id counters");
}

#[test]
fn a_lost_name_block_is_found_by_check() {
    let (_dir, db) = small(400);
    with_tree(&db, |t| {
        let keys = keys_with(t, &[0x02]);
        assert!(keys.len() > 2);
        t.remove(&keys[keys.len() / 2]).unwrap();
    });
    check_finds(&db, "missing from term→id");
}

#[test]
fn a_lost_catalog_is_found_by_check() {
    let (_dir, db) = small(10);
    with_tree(&db, |t| {
        assert!(t.remove(b"\x00ucatalog").unwrap().is_some());
    });
    check_finds(&db, "catalog (schema and rules) is missing");
}

#[test]
fn an_export_of_a_damaged_index_fails_instead_of_losing_facts() {
    let (dir, db) = small(600);
    with_tree(&db, |t| {
        let keys = keys_with(t, &[0x10]);
        assert!(keys.len() > 2);
        t.remove(&keys[1]).unwrap();
    });
    let file = dir.path().join("backup.dq");
    let export = dossier(&db, &["export", file.to_str().unwrap()]);
    assert_eq!(export.status.code(), Some(1), "{}", text(&export));
    assert!(text(&export).contains("damaged"), "{}", text(&export));
    assert!(!file.exists(), "a partial export was left behind");
    let check = dossier(&db, &["check"]);
    assert_eq!(check.status.code(), Some(1), "{}", text(&check));
}
