//! What the command line reports as done survives a crash: scripts run with `dossier run`
//! or piped in are killed with SIGKILL at random moments, and every statement that had
//! printed "added 1 fact" must be found afterwards (the statements after it may or may not
//! be).  Also: a database whose storage snapshot went missing is refused, not emptied.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn dossier() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dossier"))
}

/// `e{i} p {i}.` for i in 0..n, one statement a line.
fn single_fact_script(n: usize) -> String {
    (0..n).map(|i| format!("e{i} p {i}.\n")).collect()
}

/// The numbers `i` of `e{i}` stored in the database at `db`.
fn stored(db: &Path) -> Vec<usize> {
    let out = dossier()
        .args(["--db"])
        .arg(db)
        .args(["--format", "tsv", "query", "find ?n where ?e p ?n."])
        .output()
        .expect("dossier runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Vec<usize> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| l.trim().parse().expect("a number"))
        .collect();
    v.sort_unstable();
    v
}

/// Kill a writer after `after`, return how many statements it had acknowledged.  With
/// `--format table` acknowledgements go to standard output, one line each.
fn kill_after(mut cmd: Command, stdin: Option<String>, after: Duration) -> usize {
    cmd.stdout(Stdio::piped()).stderr(Stdio::null());
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("dossier starts");
    if let Some(text) = stdin {
        let mut input = child.stdin.take().expect("stdin");
        std::thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut input, text.as_bytes());
        });
    }
    let mut out = child.stdout.take().expect("stdout");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    std::thread::sleep(after);
    let _ = child.kill();
    let _ = child.wait();
    let printed = reader.join().expect("reader");
    printed
        .lines()
        .filter(|l| l.trim() == "added 1 fact")
        .count()
}

/// The statements run in order, so "n acknowledged" means e0..e{n-1} were reported as added.
fn assert_survived(db: &Path, acknowledged: usize, run: &str) {
    let found = stored(db);
    let missing: Vec<usize> = (0..acknowledged)
        .filter(|i| found.binary_search(i).is_err())
        .collect();
    assert!(
        missing.is_empty(),
        "{run}: {acknowledged} statements were reported as added, but {} of them are gone (first: e{})",
        missing.len(),
        missing[0]
    );
    let check = dossier()
        .args(["--db"])
        .arg(db)
        .arg("check")
        .output()
        .expect("check runs");
    assert!(
        check.status.success(),
        "{run}: check found problems: {}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn statements_reported_by_run_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = dir.path().join("facts.dq");
    std::fs::write(&script, single_fact_script(20_000)).expect("write");
    let mut seen_progress = 0;
    // Kill moments spread over the run; each run starts on the database the last one left.
    for (k, ms) in [150u64, 400, 700, 1000, 1500, 2200].into_iter().enumerate() {
        let db = dir.path().join(format!("kb{k}"));
        let mut cmd = dossier();
        cmd.arg("--db")
            .arg(&db)
            .args(["--format", "table", "run"])
            .arg(&script);
        let acknowledged = kill_after(cmd, None, Duration::from_millis(ms));
        seen_progress += acknowledged;
        assert_survived(&db, acknowledged, &format!("run killed at {ms} ms"));
    }
    assert!(
        seen_progress > 0,
        "no run acknowledged anything before it was killed"
    );
}

#[test]
fn statements_reported_from_a_pipe_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut seen_progress = 0;
    for (k, ms) in [300u64, 900, 1600].into_iter().enumerate() {
        let db = dir.path().join(format!("kb{k}"));
        let mut cmd = dossier();
        cmd.arg("--db").arg(&db).args(["--format", "table"]);
        let acknowledged = kill_after(
            cmd,
            Some(single_fact_script(20_000)),
            Duration::from_millis(ms),
        );
        seen_progress += acknowledged;
        assert_survived(&db, acknowledged, &format!("pipe killed at {ms} ms"));
    }
    assert!(seen_progress > 0, "nothing was acknowledged");
}

#[test]
fn an_import_reported_done_survives_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nt = dir.path().join("facts.nt");
    let text: String = (0..5_000)
        .map(|i| format!("<http://x/e{i}> <http://x/p> \"{i}\"^^<http://www.w3.org/2001/XMLSchema#integer> .\n"))
        .collect();
    std::fs::write(&nt, text).expect("write");
    let db = dir.path().join("kb");
    // The import reports, then the process dies before it would have closed the database.
    let out = dossier()
        .arg("--db")
        .arg(&db)
        .args(["import", "--base", "http://x/"])
        .arg(&nt)
        .output()
        .expect("import runs");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("5,000 new facts"));
    assert_eq!(stored(&db).len(), 5_000);
}

#[test]
fn a_missing_storage_snapshot_is_refused_and_nothing_is_changed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("kb");
    let facts = single_fact_script(3_000);
    let ok = dossier()
        .arg("--db")
        .arg(&db)
        .args(["query", &facts])
        .output()
        .expect("runs");
    assert!(ok.status.success());
    // A second open makes the storage engine write its snapshot file.
    assert_eq!(stored(&db).len(), 3_000);
    let snapshots: Vec<_> = std::fs::read_dir(&db)
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("snap."))
        .collect();
    assert!(!snapshots.is_empty(), "no snapshot was written");
    for s in &snapshots {
        std::fs::remove_file(s.path()).expect("remove");
    }
    let data_before = std::fs::read(db.join("db")).expect("data file");
    for cmd in [
        vec!["query", "find count() where ?s ?p ?o."],
        vec!["stats"],
        vec!["check"],
    ] {
        let out = dossier()
            .arg("--db")
            .arg(&db)
            .args(&cmd)
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{cmd:?}: {stderr}");
        assert!(
            stderr.contains("snapshot file (snap.*) is missing"),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
    assert_eq!(
        std::fs::read(db.join("db")).expect("data file"),
        data_before,
        "the data file was changed"
    );
}

#[test]
fn huge_timeouts_mean_no_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("kb");
    for t in ["1e19", "1e30", "1e300"] {
        let out = dossier()
            .arg("--db")
            .arg(&db)
            .args(["--timeout", t, "query", "x p 1. find ?s where ?s p 1."])
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "--timeout {t}: {stderr}");
        assert!(String::from_utf8_lossy(&out.stdout).contains('x'));
    }
    for bad in ["0", "-1", "NaN", "inf", "soon"] {
        let out = dossier()
            .arg("--db")
            .arg(&db)
            .args(["--timeout", bad, "query", "find ?s where ?s p 1."])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "--timeout {bad}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}

#[test]
fn a_huge_timeout_in_the_library_means_no_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dossier::Db::open_with(
        dir.path().join("kb"),
        dossier::Options {
            timeout: Some(Duration::MAX),
            ..dossier::Options::default()
        },
    )
    .expect("open");
    db.execute("x p 1.").expect("write");
    assert_eq!(db.query("find ?s where ?s p 1.").expect("query").len(), 1);
}
