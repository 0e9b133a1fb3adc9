//! The interactive shell in a real pseudo-terminal: multi-line statements, Tab completion
//! from the database, Ctrl-C cancelling a running query, errors that do not end the
//! session, and history across sessions.

use rexpect::session::{spawn_with_options, Options, PtySession};
use std::fs;
use std::path::PathBuf;
use std::process::Command;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_dossier");
const PROMPT: &str = "dossier> ";

const FIXTURE: &str = r#"type Actor. type Person sub Actor. type ArmedGroup sub Actor.
haftar a Person; label "Khalifa Haftar"; commands lna.
lna a ArmedGroup; backed_by egypt, uae.
gna backed_by turkey.
"#;

struct Env {
    dir: TempDir,
}

impl Env {
    fn new(script: &str) -> Env {
        let env = Env {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        fs::write(env.path("fixture.dq"), script).expect("write");
        let ok = Command::new(BIN)
            .current_dir(env.dir.path())
            .args(["--db", "kb.db", "run", "fixture.dq"])
            .env_remove("DOSSIER_DB")
            .output()
            .expect("run")
            .status
            .success();
        assert!(ok, "loading the fixture failed");
        env
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `dossier --db kb.db repl` in a pseudo-terminal, colours off, history in the temp dir.
    fn shell(&self) -> PtySession {
        self.shell_waiting(60_000)
    }

    /// The shell, with every expectation failing after `timeout_ms`.
    fn shell_waiting(&self, timeout_ms: u64) -> PtySession {
        self.shell_with(&["--db", "kb.db", "repl"], &[], timeout_ms)
    }

    /// `dossier ARGS` in a pseudo-terminal with the environment `vars` added, at its first
    /// prompt.
    fn shell_with(&self, args: &[&str], vars: &[(&str, &str)], timeout_ms: u64) -> PtySession {
        let mut c = Command::new(BIN);
        c.args(args);
        self.spawn(c, vars, timeout_ms)
    }

    /// Run `c` in a pseudo-terminal in the temp dir, colours off, history in the temp dir,
    /// with the environment `vars` added, and wait for the first prompt.
    fn spawn(&self, mut c: Command, vars: &[(&str, &str)], timeout_ms: u64) -> PtySession {
        c.current_dir(self.dir.path())
            .env_remove("DOSSIER_DB")
            .env_remove("DOSSIER_HISTORY")
            .env("HOME", self.dir.path())
            .env("TERM", "xterm")
            .env("NO_COLOR", "1")
            .envs(vars.iter().copied());
        let opts = Options::new()
            .timeout_ms(Some(timeout_ms))
            .strip_ansi_escape_codes(true);
        let mut p = spawn_with_options(c, opts).expect("spawn the shell");
        p.exp_string(PROMPT).expect("the first prompt");
        p
    }
}

/// Type text without Enter (flushed: the session buffers up to a newline).
fn typ(p: &mut PtySession, text: &str) {
    p.send(text).expect("send");
    p.flush().expect("flush");
}

fn quit(mut p: PtySession) {
    p.send_line(".quit").expect("send");
    p.exp_eof().expect("the shell exits");
}

#[test]
fn a_statement_typed_over_three_lines_runs() {
    let env = Env::new(FIXTURE);
    let mut p = env.shell();
    p.send_line("find ?backer").expect("send");
    p.exp_string("...> ").expect("continuation prompt");
    p.send_line("  where lna backed_by ?backer").expect("send");
    p.exp_string("...> ").expect("continuation prompt");
    p.send_line("  order by ?backer.").expect("send");
    p.exp_regex(r"egypt[^\n]*\n[^\n]*uae")
        .expect("both rows, in order");
    p.exp_string("2 rows").expect("row count");
    p.exp_string(PROMPT).expect("back at the prompt");
    quit(p);
}

#[test]
fn tab_completes_a_predicate_and_an_entity_from_the_database() {
    let env = Env::new(FIXTURE);
    let mut p = env.shell();
    // `back` + Tab → backed_by (a predicate); `tur` + Tab → turkey (an entity).
    typ(&mut p, "find ?x where ?x back");
    typ(&mut p, "\t");
    p.exp_string("backed_by").expect("predicate completed");
    typ(&mut p, " tur");
    typ(&mut p, "\t");
    p.exp_string("turkey").expect("entity completed");
    p.send_line(".").expect("enter");
    p.exp_string("gna").expect("the answer");
    p.exp_string("1 row").expect("row count");
    p.exp_string(PROMPT).expect("prompt");
    // A variable already typed in the statement: ?bac + Tab → ?backer.
    typ(&mut p, "find ?backer where lna backed_by ?bac");
    typ(&mut p, "\t");
    p.send_line(" order by ?backer.").expect("enter");
    p.exp_string("2 rows").expect("the completed variable ran");
    quit(p);
}

/// After `del sarraj _ _.` Tab no longer offers `sarraj` (the dictionary still has it).
#[test]
fn tab_does_not_offer_a_deleted_entity() {
    let env = Env::new(FIXTURE);
    let mut p = env.shell_waiting(15_000);
    p.send_line("sarraj a Person; leads gna. sarrajville a Venue.")
        .expect("send");
    p.exp_string("added").expect("added");
    p.exp_string(PROMPT).expect("prompt");
    typ(&mut p, "describe sarr");
    typ(&mut p, "\t");
    // Two candidates: the first Tab completes what they share, the second lists them.
    p.exp_string("describe sarraj").expect("the common part");
    typ(&mut p, "\t");
    p.exp_string("sarrajville").expect("both offered");
    p.send_line("ville.").expect("send");
    p.exp_string("1 row").expect("described");
    p.exp_string(PROMPT).expect("prompt");
    p.send_line("del sarraj _ _.").expect("send");
    p.exp_string("removed 2 facts").expect("removed");
    p.exp_string(PROMPT).expect("prompt");
    // One candidate left: completed in place.
    typ(&mut p, "describe sarr");
    typ(&mut p, "\t");
    p.exp_string("sarrajville")
        .expect("the live name completed");
    p.send_line(".").expect("enter");
    p.exp_string("1 row").expect("described");
    quit(p);
}

/// On a terminal a long cell wraps inside its column instead of being cut.
#[test]
fn a_long_cell_wraps_to_the_terminal() {
    let words: Vec<String> = (1..=40).map(|i| format!("w{i:03}")).collect();
    let env = Env::new(&format!("{FIXTURE}lna note \"{}\".\n", words.join(" ")));
    // The pseudo-terminal is given a size as a terminal window has one.
    let script = format!("stty cols 80 rows 40; exec '{BIN}' --db kb.db repl");
    let mut c = Command::new("sh");
    c.args(["-c", &script]);
    let mut p = env.spawn(c, &[], 15_000);
    p.send_line("find ?n where lna note ?n.").expect("send");
    p.exp_string("w001").expect("the start");
    let rest = p.exp_string("1 row").expect("the end of the table");
    assert!(rest.contains("w040"), "cut: {rest}");
    assert!(!rest.contains('…'), "cut: {rest}");
    quit(p);
}

#[test]
fn ctrl_c_cancels_a_long_recursive_query_and_the_session_goes_on() {
    let mut script = String::from(FIXTURE);
    for i in 0..3000 {
        script.push_str(&format!("n{i} next n{}.\n", i + 1));
    }
    script.push_str("rule ?x reach ?y :- ?x next ?y.\n");
    script.push_str("rule ?x reach ?z :- ?x next ?y, ?y reach ?z.\n");
    let env = Env::new(&script);
    let mut p = env.shell_waiting(10_000);
    // The closure of a 3000-long chain: 4.5M derived facts, a minute in a debug build.
    p.send_line("find count() where ?x reach ?y.")
        .expect("send");
    // Ctrl-C must arrive once the query runs (the terminal is back in normal mode then,
    // and Ctrl-C is a signal); nothing on screen says when that is, so give the shell a
    // moment, and on a loaded machine try again.  A Ctrl-C that came too early is read at
    // the next prompt as "clear the line", which does no harm.
    let mut cancelled = false;
    for _ in 0..5 {
        std::thread::sleep(std::time::Duration::from_millis(500));
        p.send_control('c').expect("ctrl-c");
        if p.exp_string("query cancelled").is_ok() {
            cancelled = true;
            break;
        }
    }
    assert!(cancelled, "Ctrl-C did not cancel the query");
    p.exp_string(PROMPT).expect("back at the prompt");
    p.send_line("find ?x where ?x backed_by turkey.")
        .expect("send");
    p.exp_string("gna").expect("the next query works");
    p.exp_string("1 row").expect("row count");
    quit(p);
}

#[test]
fn a_syntax_error_shows_the_caret_and_the_session_goes_on() {
    let env = Env::new(FIXTURE);
    let mut p = env.shell();
    p.send_line("find ?x wher ?x a Person.").expect("send");
    p.exp_string("error:").expect("an error");
    p.exp_string("--> 1:9").expect("line and column");
    p.exp_string("^").expect("a caret");
    p.exp_string(PROMPT).expect("still running");
    p.send_line("find ?x where ?x a Person.").expect("send");
    p.exp_string("haftar").expect("the next query works");
    // Unknown commands and bad arguments are errors too, not exits.
    p.send_line(".frobnicate").expect("send");
    p.exp_string("unknown command").expect("error");
    p.send_line(".format xml").expect("send");
    p.exp_string("unknown format").expect("error");
    p.exp_string(PROMPT).expect("still running");
    quit(p);
}

#[test]
fn history_persists_across_sessions() {
    let env = Env::new(FIXTURE);
    let mut p = env.shell();
    p.send_line("find ?g where haftar commands ?g.")
        .expect("send");
    p.exp_string("1 row").expect("ran");
    quit(p);
    let saved = fs::read_to_string(env.path(".dossier_history")).expect("a history file");
    assert!(
        saved.contains("find ?g where haftar commands ?g."),
        "{saved}"
    );

    let mut p = env.shell();
    // Up arrow recalls the last statement of the previous session; Enter runs it.
    typ(&mut p, "\x1b[A");
    p.exp_string("haftar commands ?g").expect("recalled");
    p.send_line("").expect("enter");
    p.exp_string("lna").expect("the recalled query ran");
    p.exp_string("1 row").expect("row count");
    quit(p);
}

/// `$DOSSIER_HISTORY` names the history file whether the shell was started by `dossier
/// repl` or by `dossier` alone on a terminal.
#[test]
fn the_history_file_comes_from_the_environment_without_repl_too() {
    let env = Env::new(FIXTURE);
    for (i, args) in [&["--db", "kb.db"][..], &["--db", "kb.db", "repl"]]
        .into_iter()
        .enumerate()
    {
        let file = env.path(&format!("hist{i}"));
        let file_text = file.display().to_string();
        let mut p = env.shell_with(args, &[("DOSSIER_HISTORY", &file_text)], 60_000);
        p.send_line(&format!("find ?g where haftar commands ?g, ?g != g{i}."))
            .expect("send");
        p.exp_string("1 row").expect("ran");
        quit(p);
        let saved = fs::read_to_string(&file).expect("the history file of $DOSSIER_HISTORY");
        assert!(saved.contains(&format!("?g != g{i}.")), "{args:?}: {saved}");
    }
    assert!(
        !env.path(".dossier_history").exists(),
        "the default file was written"
    );
}

#[test]
fn dot_commands() {
    let env = Env::new(FIXTURE);
    let mut p = env.shell();
    p.send_line(".help").expect("send");
    p.exp_string("find ?who where ?who backed_by turkey.")
        .expect("the tour");
    p.send_line(".help dates").expect("send");
    p.exp_string("overlaps").expect("a topic");
    p.send_line(".schema").expect("send");
    p.exp_string("type Person sub Actor.").expect("schema");
    // A pattern narrows it; a declared predicate no fact uses is marked.
    p.send_line("pred leads: Person -> Actor. pred commands: Person -> Actor.")
        .expect("send");
    p.exp_string("declared predicate commands")
        .expect("declared");
    p.send_line(".schema person").expect("send");
    p.exp_string("type Person sub Actor.\r\npred commands: Person -> Actor.\r\npred leads: Person -> Actor.   # no facts use it")
        .expect("the schema's lines that mention Person");
    p.send_line(".format csv").expect("send");
    p.exp_string("format: csv").expect("confirmed");
    p.send_line("find ?x where ?x backed_by turkey.")
        .expect("send");
    p.exp_string("x\r\ngna").expect("csv output");
    p.send_line(".timer on").expect("send");
    p.exp_string("timer: on").expect("confirmed");
    p.send_line("find ?x where ?x backed_by turkey.")
        .expect("send");
    p.exp_regex(r"# time: [0-9]+\.[0-9]{3} ms").expect("timing");
    p.send_line(".stats all").expect("send");
    p.exp_string("total,implied_type_facts,2")
        .expect("stats, in csv");
    p.send_line(".check").expect("send");
    p.exp_string("no problems").expect("check");
    fs::write(
        env.path("more.dq"),
        "x1 party lna.\nfind ?e where ?e party lna.\n",
    )
    .expect("write");
    p.send_line(".load more.dq").expect("send");
    p.exp_string("x1").expect("the query in the file printed");
    p.exp_string("loaded more.dq: 2 statements, 1 fact added")
        .expect("summary");
    // --dry: the file's rule answers its query, and is not kept.
    fs::write(
        env.path("tour.dq"),
        "rule ?x leads ?y :- ?x commands ?y.\nfind ?y where haftar leads ?y.\n",
    )
    .expect("write");
    p.send_line(".load --dry tour.dq").expect("send");
    p.exp_string("lna").expect("the rule's answer");
    p.exp_string("ran tour.dq (2 statements) without keeping what it wrote")
        .expect("summary");
    p.send_line(".rules").expect("send");
    p.exp_string("no rules yet").expect("nothing kept");
    quit(p);
}

/// `.set` changes the limits of the statements typed next.
#[test]
fn set_changes_the_limits_of_the_next_statements() {
    let env = Env::new(FIXTURE);
    let mut p = env.shell();
    p.send_line(".set").expect("send");
    p.exp_string("max-memory 1 GiB").expect("the defaults");
    p.send_line(".set max-rows 1").expect("send");
    p.exp_string(PROMPT).expect("prompt");
    p.send_line("find ?b where lna backed_by ?b.")
        .expect("send");
    p.exp_string("row limit of 1 rows")
        .expect("the row limit holds");
    p.exp_string(PROMPT).expect("prompt");
    p.send_line(".set max-rows off").expect("send");
    p.exp_string(PROMPT).expect("prompt");
    p.send_line(".set max-memory 1K").expect("send");
    p.exp_string(PROMPT).expect("prompt");
    p.send_line("find ?a ?b ?c where ?a ?p ?x, ?b ?q ?y, ?c ?r ?z.")
        .expect("send");
    p.exp_string("needs more than 1 KiB of memory")
        .expect("the memory limit holds");
    p.exp_string(PROMPT).expect("prompt");
    p.send_line(".set max-memory lots").expect("send");
    p.exp_string("is not a size")
        .expect("a bad value is refused");
    quit(p);
}
