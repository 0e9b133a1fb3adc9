//! The crash harness: a child process writes to a database and is killed with SIGKILL at a
//! random moment; the parent reopens the database and proves that
//!
//! - every operation the child acknowledged is there,
//! - what survived is exactly the operations up to some point at or after the last
//!   acknowledged one (each whole, in order: none half, none out of order),
//! - the database checks clean (`Store::verify` and the catalog).
//!
//! The children: `dossier run FILE` and a script piped into `dossier` (acknowledgements are
//! the "added N facts" lines), and this test binary driving the library: statements, `del`
//! and `drop source`, transactions, and imports of N-Triples files.
//!
//! `cargo test --test crash` kills 50 times.  The long run the README quotes:
//!
//! ```sh
//! DOSSIER_CRASH_KILLS=1000 cargo test --release --test crash -- --nocapture
//! ```
//!
//! A run prints its seed; `DOSSIER_CRASH_SEED=N` replays the same operations and kill
//! delays (where the kill lands within them still depends on the machine's speed).

use dossier::{Date, Db, Value};
use std::collections::BTreeSet;
use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// xorshift64*: a small deterministic generator (replays need the same numbers).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One stored assertion as the export shows it: subject, predicate, object (in the
/// language's syntax), source.
type Fact = (String, String, String, Option<String>);

/// One operation of a child, acknowledged as a whole.
#[derive(Clone, Debug)]
enum Op {
    /// `s p1 o1; p2 o2 [from g].`
    Add {
        s: String,
        pairs: Vec<(String, Value)>,
        g: Option<String>,
    },
    /// `del s p1 o1; p2 o2 [from g].` (without a source: every source's assertion)
    Del {
        s: String,
        pairs: Vec<(String, Value)>,
        g: Option<String>,
    },
    /// `drop source g.`
    Drop(String),
    /// Several statements in one library transaction.
    Tx(Vec<Op>),
    /// An N-Triples file imported with a source.
    Import {
        facts: Vec<(String, String, String)>,
        g: String,
    },
}

impl Op {
    /// The statement's text (statements and transactions).
    fn text(&self) -> String {
        let pairs = |pairs: &[(String, Value)]| {
            pairs
                .iter()
                .map(|(p, o)| format!("{p} {o}"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let from =
            |g: &Option<String>| g.as_ref().map(|g| format!(" from {g}")).unwrap_or_default();
        match self {
            Op::Add { s, pairs: ps, g } => format!("{s} {}{}.", pairs(ps), from(g)),
            Op::Del { s, pairs: ps, g } => format!("del {s} {}{}.", pairs(ps), from(g)),
            Op::Drop(g) => format!("drop source {g}."),
            Op::Tx(ops) => ops.iter().map(Op::text).collect::<Vec<_>>().join("\n"),
            Op::Import { .. } => String::new(),
        }
    }

    /// What the operation does to the set of assertions.
    fn apply(&self, state: &mut BTreeSet<Fact>) {
        match self {
            Op::Add { s, pairs, g } => {
                for (p, o) in pairs {
                    state.insert((s.clone(), p.clone(), o.to_string(), g.clone()));
                }
            }
            Op::Del { s, pairs, g } => {
                for (p, o) in pairs {
                    let o = o.to_string();
                    state.retain(|f| {
                        !(f.0 == *s && f.1 == *p && f.2 == o && (g.is_none() || f.3 == *g))
                    });
                }
            }
            Op::Drop(g) => state.retain(|f| f.3.as_deref() != Some(g)),
            Op::Tx(ops) => ops.iter().for_each(|o| o.apply(state)),
            Op::Import { facts, g } => {
                for (s, p, o) in facts {
                    let o = Value::Str(o.clone()).to_string();
                    state.insert((s.clone(), p.clone(), o, Some(g.clone())));
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Child {
    /// `dossier run FILE`
    CliRun,
    /// `dossier < FILE`
    CliPipe,
    /// Library: statements, `del`, `drop source`.
    LibStatements,
    /// Library: transactions.
    LibTx,
    /// Library: imports.
    LibImport,
}

const CHILDREN: [Child; 5] = [
    Child::CliRun,
    Child::CliPipe,
    Child::LibStatements,
    Child::LibTx,
    Child::LibImport,
];

fn value(rng: &mut Rng, run: u64) -> Value {
    let i = rng.below(1000) as i64;
    match rng.below(4) {
        0 => Value::Int(i - 500),
        1 => Value::Str(format!("text {i} with \"quotes\" and ü")),
        2 => Value::Entity(format!("r{run}_e{}", rng.below(60))),
        _ => Value::from(Date::day(2020, (i % 12) as u32 + 1, (i % 28) as u32 + 1).unwrap()),
    }
}

/// A statement that adds, deletes or drops, chosen against `sim` (the state it applies
/// to), which it updates.
fn statement(rng: &mut Rng, run: u64, sim: &mut BTreeSet<Fact>) -> Op {
    let roll = rng.below(10);
    let op = if roll < 7 || sim.is_empty() {
        let n = 1 + rng.below(3);
        Op::Add {
            s: format!("r{run}_e{}", rng.below(60)),
            pairs: (0..n)
                .map(|_| (format!("p{}", rng.below(4)), value(rng, run)))
                .collect(),
            g: (rng.below(2) == 0).then(|| format!("r{run}_src{}", rng.below(5))),
        }
    } else if roll < 9 {
        // Delete one stored assertion (with or without naming its source).
        let pick = rng.below(sim.len() as u64) as usize;
        let f = sim.iter().nth(pick).cloned().unwrap_or_default();
        let o = dossier::db::parse_param(&f.2);
        let g = if rng.below(2) == 0 { f.3.clone() } else { None };
        Op::Del {
            s: f.0,
            pairs: vec![(f.1, o)],
            g,
        }
    } else {
        let sources: Vec<String> = sim.iter().filter_map(|f| f.3.clone()).collect();
        match sources.get(rng.below(sources.len() as u64) as usize) {
            Some(g) => Op::Drop(g.clone()),
            None => Op::Drop(format!("r{run}_src0")),
        }
    };
    op.apply(sim);
    op
}

fn plan(kind: Child, run: u64, state: &BTreeSet<Fact>, rng: &mut Rng) -> Vec<Op> {
    let mut sim = state.clone();
    let mut ops = Vec::new();
    match kind {
        Child::CliRun | Child::CliPipe | Child::LibStatements => {
            for _ in 0..300 {
                ops.push(statement(rng, run, &mut sim));
            }
        }
        Child::LibTx => {
            for _ in 0..80 {
                let n = 2 + rng.below(4);
                let tx = Op::Tx((0..n).map(|_| statement(rng, run, &mut sim)).collect());
                ops.push(tx);
            }
        }
        Child::LibImport => {
            for i in 0..25 {
                let n = 100 + rng.below(400);
                let facts = (0..n)
                    .map(|j| {
                        (
                            format!("r{run}_i{i}_e{}", j % 50),
                            format!("q{}", j % 3),
                            format!("v{j}"),
                        )
                    })
                    .collect();
                let op = Op::Import {
                    facts,
                    g: format!("r{run}_imp{i}"),
                };
                op.apply(&mut sim);
                ops.push(op);
            }
        }
    }
    ops
}

/// The child side of the library children: runs the plan file, printing `crash-ack K` after
/// operation K returns (the default options: each commit flushed before it returns).
#[test]
#[ignore]
fn child_library() {
    let (Ok(db), Ok(plan)) = (
        std::env::var("DOSSIER_CRASH_DB"),
        std::env::var("DOSSIER_CRASH_PLAN"),
    ) else {
        return;
    };
    let db = Db::open(&db).expect("the child opens the database");
    let plan = std::fs::read_to_string(plan).expect("plan");
    let mut out = std::io::stdout().lock();
    for (k, line) in plan.lines().enumerate() {
        let (kind, rest) = line.split_once('\t').expect("plan line");
        let text = rest.replace("\\n", "\n");
        match kind {
            "stmt" => {
                db.execute(&text).expect("statement");
            }
            "tx" => {
                db.transaction(|tx| tx.execute(&text).map(|_| ()))
                    .expect("transaction");
            }
            "import" => {
                let (file, source) = rest.split_once('\t').expect("import line");
                let options = dossier::io::ImportOptions {
                    namespaces: dossier::io::Namespaces::with_base("http://x/"),
                    source: Some(source.to_string()),
                    ..Default::default()
                };
                db.import(Path::new(file), &options, &mut |_| {})
                    .expect("import");
            }
            other => panic!("unknown plan line {other}"),
        }
        // On a line of its own: libtest's "test child_library ... " has no newline.
        writeln!(out, "\ncrash-ack {k}").expect("stdout");
        out.flush().expect("stdout");
    }
}

/// Start the child for `ops`; returns it with a thread collecting its standard output
/// and a count of the lines read so far (acknowledgements among them).
fn spawn(
    kind: Child,
    db: &Path,
    ops: &[Op],
    dir: &Path,
) -> (
    std::process::Child,
    std::thread::JoinHandle<String>,
    Arc<AtomicUsize>,
) {
    let mut cmd;
    let mut stdin_text = None;
    match kind {
        Child::CliRun | Child::CliPipe => {
            let script: String = ops.iter().map(|o| o.text() + "\n").collect();
            cmd = Command::new(env!("CARGO_BIN_EXE_dossier"));
            cmd.arg("--db").arg(db).args(["--format", "table"]);
            if kind == Child::CliRun {
                let file = dir.join("script.dq");
                std::fs::write(&file, script).unwrap();
                cmd.arg("run").arg(file);
            } else {
                stdin_text = Some(script);
            }
        }
        _ => {
            let mut plan = String::new();
            for (i, op) in ops.iter().enumerate() {
                match op {
                    Op::Import { facts, g } => {
                        let file = dir.join(format!("import{i}.nt"));
                        let nt: String = facts
                            .iter()
                            .map(|(s, p, o)| format!("<http://x/{s}> <http://x/{p}> \"{o}\" .\n"))
                            .collect();
                        std::fs::write(&file, nt).unwrap();
                        plan.push_str(&format!("import\t{}\t{g}\n", file.display()));
                    }
                    Op::Tx(_) => {
                        plan.push_str(&format!("tx\t{}\n", op.text().replace('\n', "\\n")))
                    }
                    _ => plan.push_str(&format!("stmt\t{}\n", op.text())),
                }
            }
            let file = dir.join("plan.txt");
            std::fs::write(&file, plan).unwrap();
            cmd = Command::new(std::env::current_exe().unwrap());
            cmd.args([
                "--exact",
                "child_library",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("DOSSIER_CRASH_DB", db)
            .env("DOSSIER_CRASH_PLAN", file);
        }
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.stdin(if stdin_text.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().expect("the child starts");
    if let Some(text) = stdin_text {
        let mut input = child.stdin.take().unwrap();
        std::thread::spawn(move || {
            let _ = input.write_all(text.as_bytes());
        });
    }
    // Drain standard error too (a full pipe would stop the child).
    let mut err = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = err.read_to_end(&mut sink);
    });
    let out = child.stdout.take().unwrap();
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let reader = std::thread::spawn(move || {
        let mut lines = String::new();
        for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            lines.push_str(&l);
            lines.push('\n');
            counter.fetch_add(1, Ordering::SeqCst);
        }
        lines
    });
    (child, reader, seen)
}

/// Operations acknowledged in the child's output.
fn acknowledged(kind: Child, out: &str) -> usize {
    match kind {
        Child::CliRun | Child::CliPipe => out
            .lines()
            .filter(|l| l.starts_with("added ") || l.starts_with("removed "))
            .count(),
        _ => {
            let acks: Vec<&str> = out
                .lines()
                .filter_map(|l| l.strip_prefix("crash-ack "))
                .collect();
            for (i, a) in acks.iter().enumerate() {
                assert_eq!(
                    a.trim(),
                    i.to_string(),
                    "acknowledgements out of order: {out}"
                );
            }
            acks.len()
        }
    }
}

fn stored(db: &Db) -> BTreeSet<Fact> {
    db.quads()
        .expect("the facts read back")
        .into_iter()
        .map(|q| (q.subject, q.predicate, q.object.to_string(), q.source))
        .collect()
}

fn open(path: &Path) -> Db {
    let start = Instant::now();
    loop {
        match Db::open(path) {
            Ok(db) => return db,
            Err(e)
                if start.elapsed() < Duration::from_secs(10)
                    && e.to_string().contains("locked") =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("the database does not open after the kill: {e}"),
        }
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let target: usize = std::env::var("DOSSIER_CRASH_KILLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seed: u64 = std::env::var("DOSSIER_CRASH_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
                | 1
        });
    println!("crash harness: seed {seed}, {target} kills");
    let mut rng = Rng(seed);
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (mut kills, mut runs, mut acked_total, mut facts_checked) = (0usize, 0u64, 0usize, 0usize);
    // Kills that fell between two acknowledgements (not before the first, not after the
    // last), and runs where more survived than was acknowledged.
    let (mut mid_run, mut beyond_acked) = (0usize, 0usize);
    let mut per_kind = [0usize; 5];
    let mut state: BTreeSet<Fact> = BTreeSet::new();
    let mut db_path = PathBuf::new();
    while kills < target {
        assert!(
            runs < (target as u64) * 4 + 20,
            "too few runs were killed mid-way"
        );
        if runs % 20 == 0 {
            if db_path.exists() {
                std::fs::remove_dir_all(&db_path).unwrap();
            }
            db_path = work.path().join(format!("db{runs}"));
            state.clear();
        }
        let kind = CHILDREN[rng.below(5) as usize];
        let ops = plan(kind, runs, &state, &mut rng);
        let dir = work.path().join(format!("run{runs}"));
        std::fs::create_dir_all(&dir).unwrap();
        // Kill after a random number of output lines (so the kills spread over the whole
        // run, however fast this build is), a few milliseconds later; one kill in ten at a
        // random moment of the first half second (starting, opening, recovering).
        let (mut child, reader, seen) = spawn(kind, &db_path, &ops, &dir);
        let early = rng.below(10) == 0;
        // (A library child prints two lines an operation: see `child_library`.)
        let lines = match kind {
            Child::CliRun | Child::CliPipe => ops.len(),
            _ => 2 * ops.len(),
        };
        let lines_before_kill = rng.below(lines as u64 + 8) as usize;
        let extra = Duration::from_millis(rng.below(if early { 500 } else { 15 }));
        let spawned = Instant::now();
        while !early
            && seen.load(Ordering::SeqCst) < lines_before_kill
            && child.try_wait().ok().flatten().is_none()
            && spawned.elapsed() < Duration::from_secs(60)
        {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(extra);
        let delay = spawned.elapsed();
        let alive = child.try_wait().ok().flatten().is_none();
        let _ = child.kill();
        let status = child.wait().unwrap();
        let out = reader.join().unwrap();
        let acked = acknowledged(kind, &out);
        let context = || {
            format!(
                "seed {seed}, run {runs} ({kind:?}), killed after {delay:?}, {acked} of {} operations acknowledged; replay with DOSSIER_CRASH_SEED={seed}",
                ops.len()
            )
        };
        if !alive {
            assert!(
                status.success() || acked == ops.len(),
                "the child failed on its own: {}\n{out}",
                context()
            );
        }
        // Reopen and prove.
        let db = open(&db_path);
        assert_eq!(db.damage(), None, "damage found on opening: {}", context());
        let problems = dossier::db::storage_problems(&db).expect("check runs");
        assert!(
            problems.is_empty(),
            "check found problems: {problems:?}\n{}",
            context()
        );
        let got = stored(&db);
        let mut expect = state.clone();
        for op in &ops[..acked.min(ops.len())] {
            op.apply(&mut expect);
        }
        // What survived is the acknowledged operations and perhaps some after them.
        let mut survived = None;
        for k in acked..=ops.len() {
            if got == expect {
                survived = Some(k);
                break;
            }
            if let Some(op) = ops.get(k) {
                op.apply(&mut expect);
            }
        }
        let Some(k) = survived else {
            let mut acked_state = state.clone();
            for op in &ops[..acked.min(ops.len())] {
                op.apply(&mut acked_state);
            }
            let missing: Vec<_> = acked_state.difference(&got).take(5).collect();
            let extra: Vec<_> = got.difference(&acked_state).take(5).collect();
            panic!(
                "the database is not the acknowledged operations plus some after them: \
                 missing {missing:?}, extra {extra:?}\n{}",
                context()
            );
        };
        drop(db);
        state = got;
        facts_checked += state.len();
        acked_total += acked;
        runs += 1;
        if alive {
            kills += 1;
            mid_run += usize::from(acked > 0 && acked < ops.len());
            beyond_acked += usize::from(k > acked);
            per_kind[CHILDREN.iter().position(|c| *c == kind).unwrap()] += 1;
            if kills % 100 == 0 {
                println!(
                    "  {kills} kills, {runs} runs, {acked_total} acknowledged operations checked, {:.0} s",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!(
        "crash harness: {kills} kills survived ({mid_run} between two acknowledgements, {beyond_acked} with writes beyond the last one kept whole; {runs} runs; by child: run {}, pipe {}, statements {}, transactions {}, imports {}), {acked_total} acknowledged operations checked, {facts_checked} facts compared, every reopened database checked clean, in {:.1} s (seed {seed})",
        per_kind[0],
        per_kind[1],
        per_kind[2],
        per_kind[3],
        per_kind[4],
        started.elapsed().as_secs_f64()
    );
}
