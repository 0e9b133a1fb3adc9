//! The `dossier` command line, run as a process: subcommands, output formats, exit codes,
//! scripts and their errors, and the exact protocol the benchmark (`shared/bench/peers.py`)
//! speaks.

use assert_cmd::Command;
use predicates::prelude::*;
use predicates::str::contains;
use std::fs;
use std::path::{Path, PathBuf};
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_dossier");

/// A tiny knowledge base: schema, facts with and without a source, a rule.
const FIXTURE: &str = r#"type Actor. type Person sub Actor. type ArmedGroup sub Actor.
type Event. type Meeting sub Event.
pred date: Event -> date.
pred label: _ -> string.
haftar a Person; label "Khalifa Haftar"; commands lna.
lna a ArmedGroup; backed_by egypt, uae.
from aa_2020 { gna backed_by turkey. }
hurghada_talks a Meeting; date 2020-09-28; party lna, gna.
rule ?a allied_with ?b :- ?a backed_by ?s, ?b backed_by ?s, ?a != ?b.
"#;

const ACTORS: &str = "find ?x ?l where ?x a Actor, optional { ?x label ?l } order by ?x.";

struct Env {
    dir: TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// With the fixture loaded into `kb.db`.
    fn with_fixture() -> Env {
        let env = Env::new();
        env.write("fixture.dq", FIXTURE);
        env.cmd().args(["run", "fixture.dq"]).assert().success();
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir");
        }
        fs::write(&p, text).expect("write");
        p
    }

    /// `dossier --db kb.db` in the temp dir, with no environment leaking in.
    fn cmd(&self) -> Command {
        let mut c = self.bare();
        c.args(["--db", "kb.db"]);
        c
    }

    fn bare(&self) -> Command {
        let mut c = Command::new(BIN);
        c.current_dir(self.dir.path())
            .env_remove("DOSSIER_DB")
            .env_remove("DOSSIER_HISTORY")
            .env("HOME", self.dir.path())
            .timeout(std::time::Duration::from_secs(120));
        c
    }

    fn stdout(&self, args: &[&str]) -> String {
        // `--db` given here replaces the default kb.db.
        let mut c = if args.contains(&"--db") {
            self.bare()
        } else {
            self.cmd()
        };
        let out = c.args(args).output().expect("run");
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }
}

// ----- formats ---------------------------------------------------------------------------

#[test]
fn tsv_is_the_default_when_piped() {
    let env = Env::with_fixture();
    assert_eq!(
        env.stdout(&["query", ACTORS]),
        "x\tl\nhaftar\t\"Khalifa Haftar\"\nlna\t\n"
    );
}

#[test]
fn every_format_exactly() {
    let env = Env::with_fixture();
    let q = |f: &str| env.stdout(&["query", "--format", f, ACTORS]);
    assert_eq!(q("tsv"), "x\tl\nhaftar\t\"Khalifa Haftar\"\nlna\t\n");
    assert_eq!(q("csv"), "x,l\nhaftar,Khalifa Haftar\nlna,\n");
    assert_eq!(
        q("json"),
        "[\n  {\"x\":\"haftar\",\"l\":\"Khalifa Haftar\"},\n  {\"x\":\"lna\",\"l\":null}\n]\n"
    );
    assert_eq!(
        q("jsonl"),
        "{\"x\":\"haftar\",\"l\":\"Khalifa Haftar\"}\n{\"x\":\"lna\",\"l\":null}\n"
    );
    assert_eq!(
        q("table"),
        "╭────────┬──────────────────╮\n\
         │ x      ┆ l                │\n\
         ╞════════╪══════════════════╡\n\
         │ haftar ┆ \"Khalifa Haftar\" │\n\
         │ lna    ┆                  │\n\
         ╰────────┴──────────────────╯\n\
         2 rows\n"
    );
}

/// `line` shows each row as `column = value` lines, names aligned, values whole.
#[test]
fn the_line_format_shows_values_whole() {
    let env = Env::with_fixture();
    let long = "word ".repeat(40);
    env.stdout(&["query", &format!("lna note \"{long}\".")]);
    let out = env.stdout(&[
        "query",
        "--format",
        "line",
        "find ?x ?note where ?x note ?note. find ?x ?l where ?x a Actor, optional { ?x label ?l } order by ?x.",
    ]);
    assert_eq!(
        out,
        format!(
            "   x = lna\nnote = \"{long}\"\n1 row\n\
             x = haftar\nl = \"Khalifa Haftar\"\n\nx = lna\nl = \n2 rows\n"
        )
    );
}

/// Several results of one run: one JSON document (an array of the results' arrays; a
/// single result stays its array), and in csv and tsv an empty line between results.
#[test]
fn several_results_stay_one_readable_output() {
    let env = Env::with_fixture();
    let two = "find ?x where ?x backed_by turkey. x9 party lna. \
               find ?x ?l where ?x label ?l. find ?x where ?x backed_by nobody.";
    let json = env.stdout(&["query", "--format", "json", two]);
    let doc: serde_json::Value = serde_json::from_str(&json).expect(&json);
    assert_eq!(
        doc,
        serde_json::json!([[{"x": "gna"}], [{"x": "haftar", "l": "Khalifa Haftar"}], []])
    );
    let one: serde_json::Value =
        serde_json::from_str(&env.stdout(&["query", "--format", "json", ACTORS])).expect("json");
    assert!(one.as_array().is_some_and(|a| a[0].is_object()), "{one}");
    assert_eq!(
        env.stdout(&["query", "--format", "tsv", two]),
        "x\ngna\n\nx\tl\nhaftar\t\"Khalifa Haftar\"\n\nx\n"
    );
    assert_eq!(
        env.stdout(&["query", "--format", "csv", two]),
        "x\ngna\n\nx,l\nhaftar,Khalifa Haftar\n\nx\n"
    );
    // Across the files of a run too.
    env.write("a.dq", "find ?x where ?x backed_by turkey.");
    let json = env.stdout(&["run", "--format", "json", "a.dq", "a.dq"]);
    let doc: serde_json::Value = serde_json::from_str(&json).expect(&json);
    assert_eq!(doc, serde_json::json!([[{"x": "gna"}], [{"x": "gna"}]]));
}

/// A schema file's declarations print as one line; facts still say what they added.
#[test]
fn running_a_schema_summarises_its_declarations() {
    let env = Env::new();
    let out = env
        .cmd()
        .arg("run")
        .arg(repo().join("examples/libya.dq"))
        .output()
        .expect("run");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr,
        "declared 81 types and 80 predicates\nadded 2 facts\nadded 5 facts\nadded 294 facts\n"
    );
    // A few declarations print each, saying what the type is below.
    let out = env.stdout(&[
        "query",
        "--format",
        "table",
        "type G sub P. type G sub S. pred p.",
    ]);
    assert_eq!(
        out,
        "declared type G, below P\ndeclared type G, below P, S\ndeclared predicate p\n"
    );
}

#[test]
fn values_print_in_the_language_syntax() {
    let env = Env::with_fixture();
    env.cmd()
        .args([
            "query",
            "<5+5 commission> date2 2020-09; size 42; ratio 0.5; ok true.",
        ])
        .assert()
        .success();
    let out = env.stdout(&[
        "query",
        "find ?m ?d where ?m date ?d. find * where <5+5 commission> ?p ?o order by ?p.",
    ]);
    assert_eq!(
        out,
        "m\td\nhurghada_talks\t2020-09-28\n\n\
         p\to\ndate2\t2020-09\nok\ttrue\nratio\t0.5\nsize\t42\n"
    );
    let csv = env.stdout(&["query", "--format", "csv", "find ?x where ?x size 42."]);
    assert_eq!(csv, "x\n5+5 commission\n");
}

#[test]
fn wide_cells_are_truncated_in_tables_only() {
    let env = Env::new();
    let long = "x".repeat(100);
    env.cmd()
        .args(["query", &format!("a1 note \"{long}\".")])
        .assert()
        .success();
    let q = "find ?n where a1 note ?n.";
    let table = env.stdout(&["query", "--format", "table", q]);
    assert!(table.contains('…') && !table.contains(&long), "{table}");
    assert!(env.stdout(&["query", q]).contains(&long));
}

#[test]
fn writes_report_on_stdout_in_tables_and_stderr_otherwise() {
    let env = Env::new();
    env.cmd()
        .args(["query", "--format", "table", "a1 party lna, gna."])
        .assert()
        .success()
        .stdout("added 2 facts\n");
    env.cmd()
        .args(["query", "del a1 party _."])
        .assert()
        .success()
        .stdout("")
        .stderr("removed 2 facts\n");
}

// ----- subcommands -----------------------------------------------------------------------

#[test]
fn run_files_in_order_and_stdin() {
    let env = Env::with_fixture();
    env.write("one.dq", "x1 party lna.\n");
    env.write("two.dq", "find ?e where ?e party lna order by ?e.\n");
    env.cmd()
        .args(["run", "one.dq", "-", "two.dq"])
        .write_stdin("x2 party lna.")
        .assert()
        .success()
        .stdout("e\nhurghada_talks\nx1\nx2\n");
}

#[test]
fn stdin_without_a_subcommand_is_a_script() {
    let env = Env::with_fixture();
    env.cmd()
        .write_stdin("find ?who where ?who backed_by turkey.\n")
        .assert()
        .success()
        .stdout("who\ngna\n");
    // The options may also follow the subcommand, as the benchmark writes them.
    env.bare()
        .args(["run", "--db", "kb.db", "--format", "csv", "-"])
        .write_stdin("find ?who where ?who backed_by turkey.\n")
        .assert()
        .success()
        .stdout("who\ngna\n");
}

#[test]
fn db_from_the_environment() {
    let env = Env::with_fixture();
    env.bare()
        .env("DOSSIER_DB", "kb.db")
        .args(["query", "find ?who where ?who backed_by turkey."])
        .assert()
        .success()
        .stdout("who\ngna\n");
}

#[test]
fn params_are_values_never_text() {
    let env = Env::with_fixture();
    let q = "find ?x where ?x backed_by $backer order by ?x.";
    env.cmd()
        .args(["query", "--param", "backer=egypt", q])
        .assert()
        .success()
        .stdout("x\nlna\n");
    // A literal: a date with its precision.
    env.cmd()
        .args([
            "--param",
            "when=2020-09",
            "query",
            "find ?m where ?m date ?d, ?d in $when.",
        ])
        .assert()
        .success()
        .stdout("m\nhurghada_talks\n");
    // A quoted string.
    env.cmd()
        .args([
            "query",
            "--param",
            "name=\"Khalifa Haftar\"",
            "find ?x where ?x label $name.",
        ])
        .assert()
        .success()
        .stdout("x\nhaftar\n");
    // Text that looks like a statement is just a (missing) entity name.
    env.cmd()
        .args(["query", "--param", "backer=egypt. del lna backed_by _", q])
        .assert()
        .success()
        .stdout("x\n");
    env.cmd()
        .args(["query", "find ?x where lna backed_by ?x order by ?x."])
        .assert()
        .stdout("x\negypt\nuae\n");
    // A missing parameter is a statement error.
    env.cmd()
        .args(["query", q])
        .assert()
        .code(1)
        .stderr(contains("backer"));
}

/// `--param NAME=` with nothing after `=` is a usage error (exit 2) saying what to give; a
/// bare word becomes an entity, and when no fact mentions it the warning says so, with the
/// close name and how to give text instead.
#[test]
fn a_parameter_says_what_it_became() {
    let env = Env::with_fixture();
    let q = "find ?x where ?x backed_by $backer.";
    for empty in ["backer=", "backer=  "] {
        env.cmd()
            .args(["query", "--param", empty, q])
            .assert()
            .code(2)
            .stderr(contains("--param backer= gives no value"));
    }
    env.cmd()
        .args(["query", "--param", "backer=Egypt", q])
        .assert()
        .success()
        .stdout("x\n")
        .stderr(contains(
            "no facts mention 'Egypt' (the value of $backer, read as an entity name)",
        ))
        .stderr(contains(
            "did you mean 'egypt'? for the text, give a string: --param backer='\"Egypt\"'",
        ));
    env.cmd().arg("--help").assert().success().stdout(
        contains("l=Sirte is\n          the entity Sirte")
            .or(contains("l=Sirte is the entity Sirte")),
    );
}

#[test]
fn import_then_export_round_trip() {
    let env = Env::with_fixture();
    env.write("more.nt", NT);
    env.cmd()
        .args(["import", "more.nt", "--base", "http://dossier.example/"])
        .assert()
        .success()
        .stdout(contains("6 new facts"));
    let everything =
        "find ?s ?p ?o ?g where { ?s ?p ?o from ?g } or { ?s ?p ?o } order by ?s, ?p, ?o, ?g.";
    let before = env.stdout(&["query", everything]);
    env.cmd()
        .args(["export", "dump.dq"])
        .assert()
        .success()
        .stderr(contains("exported 17 facts to dump.dq"));
    let dump = fs::read_to_string(env.path("dump.dq")).expect("dump");
    assert!(dump.starts_with("type Actor.\n"), "{dump}");
    assert!(dump.contains("rule ?a allied_with ?b :- "), "{dump}");
    assert!(
        dump.contains("from aa_2020 {\n    gna backed_by turkey.\n}"),
        "{dump}"
    );
    // Loaded into a fresh database, the dump gives the same facts, schema and rules...
    env.bare()
        .args(["--db", "copy.db", "run", "dump.dq"])
        .assert()
        .success();
    let after = env.stdout(&["--db", "copy.db", "query", everything]);
    assert_eq!(before, after);
    // ...and exports to the same bytes.
    env.bare()
        .args(["--db", "copy.db", "export"])
        .assert()
        .success()
        .stdout(dump.clone());
    // Loading it again changes nothing: facts are sets.
    env.bare()
        .args(["--db", "copy.db", "run", "dump.dq"])
        .assert()
        .success();
    assert_eq!(
        env.stdout(&["--db", "copy.db", "query", everything]),
        before
    );
}

#[test]
fn export_nquads_and_query_rows() {
    let env = Env::with_fixture();
    let nq = env.stdout(&["export", "--format", "nq", "--base", "http://x.example/"]);
    assert!(nq.contains(
        "<http://x.example/gna> <http://x.example/backed_by> <http://x.example/turkey> <http://x.example/aa_2020> .\n"
    ), "{nq}");
    assert!(nq.contains(
        "<http://x.example/haftar> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://x.example/Person> .\n"
    ), "{nq}");
    assert_eq!(nq.lines().count(), 11);
    // A query's rows, the format taken from the file name.
    env.cmd()
        .args(["export", "actors.csv", "--query", ACTORS])
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(env.path("actors.csv")).expect("csv"),
        "x,l\nhaftar,Khalifa Haftar\nlna,\n"
    );
    let json = env.stdout(&[
        "export",
        "--format",
        "json",
        "--query",
        "find ?x where ?x backed_by $b.",
        "--param",
        "b=turkey",
    ]);
    assert_eq!(json, "[\n  {\"x\":\"gna\"}\n]\n");
}

#[test]
fn stats_in_every_format() {
    let env = Env::with_fixture();
    let tsv = env.stdout(&["stats"]);
    assert!(
        tsv.starts_with(
            "kind\tname\tcount\ntotal\tfacts\t11\ntotal\ttriples\t11\n\
             total\timplied_type_facts\t3\ntotal\tsources\t1\n"
        ),
        "{tsv}"
    );
    assert!(tsv.contains("predicate\tbacked_by\t3\n"), "{tsv}");
    assert!(tsv.contains("predicate\t<type>\t3\n"), "{tsv}");
    assert!(tsv.contains("class\tPerson\t1\n"), "{tsv}");
    let json: serde_json::Value =
        serde_json::from_str(&env.stdout(&["stats", "--format", "json"])).expect("json");
    assert_eq!(json["facts"], 11);
    assert_eq!(json["implied_type_facts"], 3);
    assert_eq!(json["rules"], 1);
    assert_eq!(json["by_predicate"]["type"], 3);
    // A table says what each count counts: stored, implied, derived.
    let table = env.stdout(&["stats", "--format", "table"]);
    assert!(!table.contains("more predicates"), "{table}");
    for label in [
        "│ stored facts ",
        "│ distinct stored triples ",
        "│ implied type facts ",
        "stored triples",
        "stated members",
        "implied type facts (haftar a Person implies haftar a Actor)",
        "distinct stored triples + implied type facts + derived facts",
        "│ backed_by",
    ] {
        assert!(table.contains(label), "{label}: {table}");
    }
    // ... and they add up: 11 distinct triples + 3 implied type facts (the rule derives
    // allied_with facts besides).
    assert_eq!(
        env.stdout(&["query", "find count() where ?s ?p ?o, ?p != allied_with."]),
        "count()\n14\n"
    );
}

#[test]
fn check_passes_and_fails() {
    let env = Env::with_fixture();
    env.cmd()
        .arg("check")
        .assert()
        .success()
        .stderr(contains("no problems found"));
    // `label` takes strings, `commands` a Person subject: egypt is not one.
    env.cmd()
        .args([
            "query",
            "pred commands: Person -> Actor. egypt commands lna.",
        ])
        .assert()
        .success();
    env.cmd()
        .args(["check", "--format", "csv"])
        .assert()
        .code(1)
        .stdout(contains("egypt,commands,lna,"));
}

#[test]
fn import_errors_and_skipping_bad_lines() {
    let env = Env::new();
    env.write("bad.nt", &format!("{NT}this is not a triple\n"));
    env.cmd()
        .args(["import", "bad.nt"])
        .assert()
        .code(1)
        .stderr(contains("bad.nt:7:").and(contains("nothing was imported")));
    env.cmd()
        .args(["import", "--skip-bad", "bad.nt"])
        .assert()
        .success()
        .stdout(contains("skipped 1 bad triples").and(contains("6 new facts")));
    env.cmd().args(["import", "data.unknown"]).assert().code(1);
}

#[test]
fn warnings_go_to_stderr_and_keep_exit_zero() {
    let env = Env::with_fixture();
    env.cmd()
        .args(["query", "find ?x where ?x backd_by ?y."])
        .assert()
        .success()
        .stdout("x\n")
        .stderr(contains("warning").and(contains("backed_by")));
}

/// Standard error whose reader went away (a pipe closed at once, `2>&1 | head -1`): the
/// warnings, reports and errors that cannot be written are dropped, never a panic (exit
/// 101).
#[test]
fn a_closed_standard_error_is_no_panic() {
    let env = Env::with_fixture();
    let db = env.path("kb.db");
    let cases: [&[&str]; 4] = [
        // Two warnings (an empty range, an unknown predicate), then rows.
        &["query", "find ?x where ?x p ?y, ?y in 2020..2019."],
        // A write report (on stderr with tsv), a timer line.
        &["query", "--timer", "x1 party lna."],
        // An error.
        &["query", "find ?x wher ?x a Person."],
        &["stats"],
    ];
    for args in cases {
        for _ in 0..5 {
            let mut child = std::process::Command::new(BIN)
                .arg("--db")
                .arg(&db)
                .args(args)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn");
            // Close the reading end before the child writes to it.
            drop(child.stderr.take());
            let status = child.wait().expect("wait");
            assert!(matches!(status.code(), Some(0 | 1)), "{args:?}: {status:?}");
        }
    }
    // Both streams into one pipe whose reader stops after a line.
    let script = format!(
        "set -o pipefail; '{BIN}' --db '{}' query 'find ?x where ?x p ?y, ?y in 2020..2019. \
         find ?x where ?x a Actor.' 2>&1 | head -1 >/dev/null",
        db.display()
    );
    for _ in 0..10 {
        let status = std::process::Command::new("bash")
            .args(["-c", &script])
            .status()
            .expect("bash");
        assert_eq!(status.code(), Some(0), "{status:?}");
    }
}
// ----- scripts and errors ----------------------------------------------------------------

#[test]
fn an_error_names_file_line_and_column_and_stops() {
    let env = Env::with_fixture();
    env.write(
        "bad.dq",
        "x1 party lna.\n# a comment\nfind ?x wher ?x party lna.\nx2 party lna.\n",
    );
    env.cmd()
        .args(["run", "bad.dq"])
        .assert()
        .code(1)
        .stderr(contains("bad.dq:3:9").and(contains("^")));
    // The statement before it stays done; the one after never ran.
    assert_eq!(
        env.stdout(&["query", "find ?e where ?e party lna order by ?e."]),
        "e\nhurghada_talks\nx1\n"
    );
}

#[test]
fn keep_going_runs_on_and_still_fails() {
    let env = Env::with_fixture();
    env.write(
        "bad.dq",
        "find ?x wher ?x.\nfind ?x where ?x backed_by turkey.\nfind ?y where ?x a B.\nfind ?x where ?x commands lna.\n",
    );
    env.cmd()
        .args(["run", "--keep-going", "bad.dq"])
        .assert()
        .code(1)
        .stdout("x\ngna\n\nx\nhaftar\n")
        .stderr(contains("bad.dq:1:").and(contains("bad.dq:3:")));
    env.cmd()
        .args(["run", "bad.dq"])
        .assert()
        .code(1)
        .stdout("");
}

#[test]
fn load_is_relative_to_the_including_file() {
    let env = Env::new();
    env.write(
        "main.dq",
        "load \"lib/facts.dq\".\nfind ?x where ?x party lna order by ?x.\n",
    );
    env.write("lib/facts.dq", "load \"more.dq\".\nx1 party lna.\n");
    env.write("lib/more.dq", "x2 party lna.\n");
    env.cmd()
        .args(["run", "main.dq"])
        .assert()
        .success()
        .stdout("x\nx1\nx2\n");
}

#[test]
fn include_cycles_are_detected() {
    let env = Env::new();
    env.write("a.dq", "x1 party lna.\nload \"b.dq\".\n");
    env.write("b.dq", "load \"a.dq\".\n");
    env.cmd().args(["run", "a.dq"]).assert().code(1).stderr(
        contains("load cycle")
            .and(contains("a.dq"))
            .and(contains("b.dq")),
    );
}

#[test]
fn timer_prints_one_line_per_statement() {
    let env = Env::with_fixture();
    let out = env
        .cmd()
        .args([
            "query",
            "--timer",
            "x1 party lna. find ?x where ?x party lna.",
        ])
        .output()
        .expect("run");
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).expect("utf-8");
    let times: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("# time:"))
        .collect();
    assert_eq!(times.len(), 2, "{stderr}");
    let re = regex::Regex::new(r"^# time: [0-9]+\.[0-9]{3} ms$").expect("regex");
    assert!(times.iter().all(|t| re.is_match(t)), "{stderr}");
}

#[test]
fn timeout_stops_a_long_query() {
    let env = Env::new();
    env.write("chain.dq", &chain(1500));
    env.cmd().args(["run", "chain.dq"]).assert().success();
    env.cmd()
        .args([
            "query",
            "--timeout",
            "0.3",
            "find count() where ?x reach ?y.",
        ])
        .assert()
        .code(1)
        .stderr(contains("time limit"));
}

/// A time limit is met within a fraction of a second whatever the query is doing when it
/// runs out: enumerating a four-way cartesian product, computing the keys of a sort (here
/// a regular expression over long labels: seconds for 3,600 rows, after a collection that
/// takes milliseconds), or evaluating rules.  The deadline is checked about every 2 ms of
/// work; the slack is for starting a debug build on a loaded machine.
#[test]
fn a_time_limit_is_met_in_every_phase() {
    let env = Env::new();
    let mut facts = String::new();
    for i in 0..60 {
        facts.push_str(&format!("e{i} label \"{}{i}\".\n", "Ab".repeat(25_000)));
    }
    env.write("labels.dq", &facts);
    env.write("chain.dq", &chain(1500));
    env.cmd()
        .args(["run", "labels.dq", "chain.dq"])
        .assert()
        .success();
    let product = "find ?a where ?a label ?x, ?b label ?y, ?c label ?z, ?d label ?w.";
    let sort = "find ?a ?b where ?a label ?x, ?b label ?y order by \
                matches(?x, \"[a-z][0-9][0-9][0-9]\"), matches(?y, \"[a-z][0-9][0-9][0-9]\"), ?a, ?b.";
    let rules = "find count() where ?x reach ?y.";
    for (query, secs) in [(product, 1.0), (sort, 1.0), (rules, 0.5)] {
        let start = std::time::Instant::now();
        let out = env
            .cmd()
            .args(["query", "--timeout", &secs.to_string(), query])
            .output()
            .expect("run");
        let took = start.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("time limit"), "{query}: {stderr}");
        let most = std::time::Duration::from_secs_f64(secs + 0.5);
        assert!(took < most, "{query} with --timeout {secs} took {took:?}");
    }
}

/// A chain n0 → n1 → … with its transitive closure as a rule: the closure query takes
/// seconds (n = 1500: ~10 s in a debug build).
pub fn chain(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("n{i} next n{}.\n", i + 1));
    }
    s.push_str("rule ?x reach ?y :- ?x next ?y.\n");
    s.push_str("rule ?x reach ?z :- ?x next ?y, ?y reach ?z.\n");
    s
}

// ----- exit codes --------------------------------------------------------------------------

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    env.cmd().arg("--no-such-flag").assert().code(2);
    env.cmd().args(["query"]).assert().code(2);
    env.cmd()
        .args(["query", "--format", "xml", "find ?x where ?x a B."])
        .assert()
        .code(2);
    env.cmd()
        .args(["query", "--param", "novalue", "find ?x where ?x a B."])
        .assert()
        .code(2)
        .stderr(contains("NAME=VALUE"));
    env.cmd()
        .args(["query", "--timeout", "-1", "find ?x where ?x a B."])
        .assert()
        .code(2);
    env.cmd()
        .args(["import", "--format", "xml", "x.nt"])
        .assert()
        .code(2);
    env.cmd()
        .args(["run", "fixture.dq"])
        .write_stdin("")
        .assert()
        .code(1);
    Env::with_fixture()
        .cmd()
        .args(["export", "--format", "csv"])
        .assert()
        .code(2)
        .stderr(contains("--query"));
}

#[test]
fn a_database_that_cannot_be_opened_exits_3() {
    let env = Env::new();
    env.write("plain.txt", "not a database");
    env.bare()
        .args(["--db", "plain.txt", "query", "find ?x where ?x a B."])
        .assert()
        .code(3)
        .stderr(contains("cannot open database").and(contains("is a file")));
    // Read-only commands do not create a database where a path was mistyped.
    env.bare()
        .args(["--db", "missing.db", "stats"])
        .assert()
        .code(3)
        .stderr(contains("no database there"));
    assert!(!env.path("missing.db").exists());
}

#[test]
fn a_database_locked_by_a_running_dossier_exits_3() {
    let env = Env::with_fixture();
    let mut shell = std::process::Command::new(BIN);
    shell
        .current_dir(env.dir.path())
        .args(["--db", "kb.db", "repl", "--history", "hist"])
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    let mut p = rexpect::session::spawn_command(shell, Some(60_000)).expect("spawn");
    p.exp_string("dossier> ").expect("prompt");
    env.cmd()
        .args(["query", "find ?x where ?x a Person."])
        .assert()
        .code(3)
        .stderr(contains("locked by another process"));
    p.send_line(".quit").expect("send");
    p.exp_eof().expect("exit");
    // Once the shell has gone, the database opens again.
    env.cmd()
        .args(["query", "find ?x where ?x a Person."])
        .assert()
        .success()
        .stdout("x\nhaftar\n");
}

// ----- the benchmark's protocol (shared/bench/peers.py, DossierPeer) -------------------

const NT: &str = r#"<http://dossier.example/evt_1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://dossier.example/Meeting> .
<http://dossier.example/evt_1> <http://dossier.example/date> "2020-03-05"^^<http://www.w3.org/2001/XMLSchema#date> .
<http://dossier.example/evt_1> <http://dossier.example/party> <http://dossier.example/grp_1> .
<http://dossier.example/grp_1> <http://dossier.example/label> "Libyan National Army 1" .
<http://dossier.example/grp_1> <http://dossier.example/backed_by> <http://dossier.example/grp_2> .
<http://dossier.example/grp_2> <http://dossier.example/backed_by> <http://dossier.example/grp_1> .
"#;

/// What `DossierPeer.run` does with the output: drop empty lines, skip the header, split on
/// tabs; and the last `# time:` line of stderr.
fn peer_rows(stdout: &str) -> Vec<Vec<String>> {
    let lines: Vec<&str> = stdout.split('\n').filter(|l| !l.is_empty()).collect();
    lines[1..]
        .iter()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn the_benchmark_protocol() {
    let env = Env::new();
    let nt = env.write("data.nt", NT);
    // load(): `dossier import --db DB --base BASE data.nt`
    env.bare()
        .args([
            "import",
            "--db",
            "bench.db",
            "--base",
            "http://dossier.example/",
        ])
        .arg(&nt)
        .assert()
        .success();
    let run = |stdin: &str| {
        let out = env
            .bare()
            .args(["run", "--db", "bench.db", "--format", "tsv", "--timer", "-"])
            .write_stdin(format!("{stdin}\n"))
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).expect("utf-8"),
            String::from_utf8(out.stderr).expect("utf-8"),
        )
    };
    // count(): the last line's first cell.
    let (out, _) = run("find count() where ?s ?p ?o.");
    let last = out.trim().lines().last().expect("a line");
    assert_eq!(last.split('\t').next(), Some("6"));
    // Q6-like: two rules, then the query; stdout must hold only the query's header + rows.
    let (out, err) = run("rule ?x backs_chain ?y :- ?y backed_by ?x.\n\
         rule ?x backs_chain ?z :- ?y backed_by ?x, ?y backs_chain ?z.\n\
         find ?x where ?x backs_chain grp_1.");
    let mut rows = peer_rows(&out);
    rows.sort();
    assert_eq!(rows, [["grp_1"], ["grp_2"]], "{out}");
    let re = regex::Regex::new(r"#\s*time:\s*([0-9.]+)\s*(ms|s|us|µs)").expect("regex");
    assert_eq!(re.find_iter(&err).count(), 3, "{err}");
    // Strings come quoted, entities bare, dates as written.
    let (out, _) = run("find ?x ?l ?d where ?x label ?l, ?e party ?x; date ?d.");
    assert_eq!(
        peer_rows(&out),
        [["grp_1", "\"Libyan National Army 1\"", "2020-03-05"]]
    );
    // A date range over a date column, as in Q3.
    let (out, _) = run("find count(?e) where ?e a Meeting; date ?d, ?d in 2020-03.");
    assert_eq!(peer_rows(&out), [["1"]]);
}

// ----- the examples ------------------------------------------------------------------------

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every statement of examples/queries.dq runs on the example knowledge base, with no
/// warning (every name it uses is in the data), twice (its rules are stored once).
#[test]
fn example_queries_run_on_the_example() {
    let env = Env::new();
    let ex = repo().join("examples");
    for _ in 0..2 {
        let out = env
            .cmd()
            .arg("run")
            .arg(ex.join("libya.dq"))
            .arg(ex.join("queries.dq"))
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("warning"), "{stderr}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("haftar_forces\tegypt"), "{stdout}");
    }
}

/// The tour, run as `.help` and the README suggest (dry), answers on the example and leaves
/// the database exactly as it found it: same export, no rules.  Its rules contradict
/// nothing in the schema (`check` passes after the tour run for real too).
#[test]
fn the_tour_leaves_the_database_as_it_found_it() {
    let env = Env::new();
    let ex = repo().join("examples");
    env.cmd()
        .arg("run")
        .arg(ex.join("libya.dq"))
        .assert()
        .success();
    let before = env.stdout(&["export"]);
    let out = env
        .cmd()
        .args(["run", "--dry-run"])
        .arg(ex.join("queries.dq"))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(stderr.contains("dry run: nothing"), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("haftar_forces\tegypt"), "{stdout}");
    assert!(stdout.contains("tripoli"), "the rule's answers: {stdout}");
    assert_eq!(env.stdout(&["export"]), before);
    // Run for real, its rules are stored and derive nothing the schema forbids.
    env.cmd()
        .arg("run")
        .arg(ex.join("queries.dq"))
        .assert()
        .success();
    env.cmd().arg("check").assert().success();
}

/// `check` lists the facts rules derive that the schema's classes forbid, saying they are
/// derived, and fails.
#[test]
fn check_reports_derived_facts_that_violate_the_schema() {
    let env = Env::new();
    env.write(
        "kb.dq",
        "type Event. type Actor. pred supported_by: Event -> Actor.\n\
         talks a Event. turkey a Actor. gna a Actor.\n\
         talks supported_by turkey.\n\
         gna backed_by turkey.\n\
         rule ?x supported_by ?y :- ?x backed_by ?y.\n",
    );
    env.cmd().args(["run", "kb.dq"]).assert().success();
    env.cmd()
        .args(["check", "--format", "tsv"])
        .assert()
        .code(1)
        .stdout(
            "subject\tpredicate\tobject\tproblem\n\
             gna\tsupported_by\tturkey\t\"derived by a rule: subject is not an Event\"\n",
        );
}

/// The README's first command, with statements piped in: it loads the example and answers;
/// run again, it adds nothing and answers the same.
#[test]
fn the_readme_first_command_with_a_pipe() {
    let env = Env::new();
    let libya = repo().join("examples/libya.dq");
    let mut outputs = Vec::new();
    for added in ["301 facts added", "0 facts added"] {
        let out = env
            .bare()
            .args(["--db", "example.db", "repl", "--load"])
            .arg(&libya)
            .write_stdin("find ?x where ?x a Person order by ?x.\n")
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(stderr.contains(added), "{stderr}");
        outputs.push(String::from_utf8(out.stdout).expect("utf-8"));
    }
    assert_eq!(outputs[0], "x\nhaftar\nmishri\n");
    assert_eq!(outputs[0], outputs[1]);
}

/// The statements the README suggests trying run on the example without an error.
#[test]
fn the_readme_statements_run_on_the_example() {
    let readme = fs::read_to_string(repo().join("README.md")).expect("README");
    let block = readme
        .split("Things to try, all on the example:")
        .nth(1)
        .and_then(|rest| rest.split("```text\n").nth(1))
        .and_then(|b| b.split("```").next())
        .expect("the block of statements");
    // Each line is a statement, then (after two or more spaces) what it shows.
    let script: String = block
        .lines()
        .map(|l| l.split("   ").next().unwrap_or("").trim().to_string() + "\n")
        .collect();
    assert!(script.lines().count() >= 8, "{script}");
    let env = Env::new();
    env.cmd()
        .arg("run")
        .arg(repo().join("examples/libya.dq"))
        .arg("-")
        .write_stdin(script)
        .assert()
        .success()
        .stderr(contains("warning").not());
}

// ----- streams and limits ---------------------------------------------------------------

/// A producer that writes a statement and waits for its answer before writing the next
/// one gets each answer: standard input is read a statement at a time, and a write is
/// reported (once durable) before dossier waits for more input.
#[test]
fn a_piped_script_answers_each_statement_before_reading_on() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::Stdio;
    let env = Env::new();
    let mut child = std::process::Command::new(BIN)
        .current_dir(env.dir.path())
        .args(["--db", "kb.db", "--format", "table", "run", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dossier starts");
    let mut input = child.stdin.take().expect("stdin");
    let (tx, rx) = std::sync::mpsc::channel();
    let out = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines() {
            if tx.send(line.expect("a line")).is_err() {
                break;
            }
        }
    });
    let wait_for = |want: &str| loop {
        let line = rx
            .recv_timeout(std::time::Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no '{want}' while stdin is still open"));
        if line.contains(want) {
            break;
        }
    };
    input.write_all(b"e1 p 1.\n").expect("write");
    input.flush().expect("flush");
    wait_for("added 1 fact");
    input
        .write_all(b"find ?x\n  where ?x p 1. # a comment.\n")
        .expect("write");
    input.flush().expect("flush");
    wait_for("1 row");
    drop(input);
    assert!(child.wait().expect("exits").success());
}

#[test]
fn invalid_utf8_in_a_script_is_located() {
    let env = Env::new();
    fs::write(env.path("bad.dq"), b"x p 1.\ny p \"a\xffb\".\nz p 3.\n").expect("write");
    env.cmd()
        .args(["run", "bad.dq"])
        .assert()
        .code(1)
        .stderr(contains("bad.dq:2:7"))
        .stderr(contains("not valid UTF-8"));
    // The statement before the bad byte ran; the one after did not.
    assert_eq!(env.stdout(&["query", "find ?s where ?s p ?o."]), "s\nx\n");
}

#[test]
fn a_statement_past_the_limit_fails_at_once() {
    let env = Env::new();
    // 20 MB on standard input, one unterminated string: refused at the 1 MiB limit.
    let mut text = String::from("x p 1.\ny p \"");
    text.push_str(&"a".repeat(20 << 20));
    env.cmd()
        .args(["--max-statement", "1M", "run", "-"])
        .write_stdin(text)
        .assert()
        .code(1)
        .stderr(contains("<stdin>:2:1"))
        .stderr(contains("longer than 1 MiB"));
    // And a statement within a raised limit runs.
    let text = format!("y p \"{}\".\n", "b".repeat(2 << 20));
    env.cmd()
        .args(["--max-statement", "4M", "run", "-"])
        .write_stdin(text)
        .assert()
        .success();
}

#[test]
fn a_cartesian_query_stops_at_the_memory_limit() {
    let env = Env::new();
    let facts: String = (0..60).map(|i| format!("e{i} p {i}.\n")).collect();
    env.write("facts.dq", &facts);
    env.cmd().args(["run", "facts.dq"]).assert().success();
    // 60³ = 216,000 distinct rows: far more than 1 MiB.
    let q = "find ?a ?b ?c where ?a p ?x, ?b p ?y, ?c p ?z.";
    env.cmd()
        .args(["--max-memory", "1M", "query", q])
        .assert()
        .code(1)
        .stderr(contains("needs more than 1 MiB of memory"))
        .stderr(contains("--max-memory"));
    env.cmd()
        .args([
            "--max-memory",
            "none",
            "query",
            "find count() where ?a p ?x, ?b p ?y.",
        ])
        .assert()
        .success()
        .stdout(contains("3600"));
}

#[test]
fn nameless_entities_and_bad_bases_are_refused() {
    let env = Env::with_fixture();
    // `--param x=` (an unset shell variable) made an entity with no name, whose `.dq`
    // export then failed to load.
    env.cmd()
        .args(["--param", "x=", "query", "$x label \"empty\"."])
        .assert()
        .code(2)
        .stderr(contains("gives no value"));
    env.cmd()
        .args(["--param", "x=\"\"", "query", "haftar nickname $x."])
        .assert()
        .success();
    // `--base ''` wrote 0 facts and exited 0.
    for base in ["", "relative/"] {
        env.cmd()
            .args(["export", "out.nq", "--base", base])
            .assert()
            .code(2)
            .stderr(contains("not an absolute IRI"));
    }
    assert!(!env.path("out.nq").exists());
    // A full backup round trip through the command line.
    env.cmd().args(["export", "all.dq"]).assert().success();
    env.bare()
        .args(["--db", "copy.db", "run", "all.dq"])
        .assert()
        .success();
    let q = "find ?s ?p ?o where ?s ?p ?o order by ?s, ?p, ?o.";
    assert_eq!(
        env.stdout(&["query", q]),
        env.stdout(&["--db", "copy.db", "query", q])
    );
}

/// A table of `stats` lists the 20 largest predicates and says how to see all of them;
/// `--all` lists every one.
#[test]
fn stats_can_show_everything() {
    let env = Env::new();
    let facts: String = (0..25).map(|i| format!("x p{i} {i}.\n")).collect();
    env.write("many.dq", &facts);
    env.cmd().args(["run", "many.dq"]).assert().success();
    let some = env.stdout(&["stats", "--format", "table"]);
    assert!(
        some.contains("… and 5 more predicates (all of them: .stats all, or dossier stats --all)"),
        "{some}"
    );
    let all = env.stdout(&["stats", "--format", "table", "--all"]);
    assert!(!all.contains("more predicates"), "{all}");
    for i in 0..25 {
        assert!(all.contains(&format!("│ p{i} ")), "p{i}: {all}");
    }
}

/// Piped into the shell (`dossier repl < file`, or `dossier` with standard input not a
/// terminal), dot-commands work between statements, as psql and sqlite3 take their
/// meta-commands from piped input; errors keep the input's line numbers; a failure stops
/// the run (exit 1) unless --keep-going.  `dossier run` reads only the language.
#[test]
fn dot_commands_work_in_piped_input() {
    let env = Env::with_fixture();
    env.cmd()
        .write_stdin(".stats\n")
        .assert()
        .success()
        .stdout(contains("total\tfacts\t11\n"));
    let input = "find ?x where ?x backed_by turkey.\n\
                 .sources\n\
                 .format csv\n\
                 find ?x\n  where ?x a Person.\n\
                 .quit\n\
                 find ?x where ?x a Meeting.\n";
    env.cmd()
        .arg("repl")
        .write_stdin(input)
        .assert()
        .success()
        .stdout("x\ngna\nsource\tstored facts\naa_2020\t1\nx\nhaftar\n")
        .stderr(contains("format: csv").and(contains("error").not()));
    // A failing command or statement stops the run, with the input's line numbers.
    let bad = "find ?x where ?x backed_by turkey.\n.nonsense\nfind ?x where ?x a Person.\n";
    env.cmd()
        .write_stdin(bad)
        .assert()
        .code(1)
        .stdout("x\ngna\n")
        .stderr(contains("unknown command '.nonsense'"));
    env.cmd()
        .args(["--keep-going"])
        .write_stdin(bad)
        .assert()
        .code(1)
        .stdout("x\ngna\nx\nhaftar\n");
    env.cmd()
        .write_stdin(".format csv\n\nfind ?x wher ?x.\n")
        .assert()
        .code(1)
        .stderr(contains("--> <stdin>:3:9"));
    // A script run by `dossier run` is the language only.
    env.cmd()
        .arg("run")
        .write_stdin(".stats\n")
        .assert()
        .code(1)
        .stderr(contains("expected a statement, found '.'"));
}

/// The README speaks to a user with a clone of the repository: every path it names is in
/// the repository, and it points at nothing else (no notes of the project's issues, no
/// paths of the machine it was written on).
#[test]
fn the_readme_names_only_files_in_the_repository() {
    let readme = fs::read_to_string(repo().join("README.md")).expect("README");
    for outside in ["shared/", "closing notes", "/work/", "issue"] {
        assert!(!readme.contains(outside), "the README mentions {outside:?}");
    }
    let re = regex::Regex::new(
        r"(?:^|[\s`(])((?:examples|tests|src|docs|grammar|benches|fuzz|\.ci)/[A-Za-z0-9_./-]*)",
    )
    .expect("regex");
    let mut named = 0;
    for c in re.captures_iter(&readme) {
        let path = c[1].trim_end_matches(['.', ',', ':', ')']);
        assert!(
            repo().join(path).exists(),
            "the README names {path}, which is not in the repository"
        );
        named += 1;
    }
    assert!(named >= 10, "{named}");
}
