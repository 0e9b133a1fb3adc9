//! The pictures from the command line and the shell: the README's two pictures are what its
//! commands make today (so they cannot go stale silently), `graph` and `timeline` work end to
//! end, `--format dot` prints rows as a graph, and the shell's `.graph` writes its file.
#![cfg(feature = "viz")]

#[path = "common/server.rs"]
mod server;

use server::example_db;
use std::path::Path;
use std::process::Command;

fn dossier() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dossier"))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The README's text with line continuations joined and spaces collapsed.
fn readme_commands() -> String {
    let text = std::fs::read_to_string(root().join("README.md")).expect("README");
    text.replace("\\\n", " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The README's picture commands, as arguments after `--db example.db`.
const BACKERS: &[&str] = &[
    "graph",
    "haftar",
    "gna",
    "haftar_forces",
    "--follow",
    "backed_by,commands,leads,recognized_by,supported_by,opposes,controlled_by,represents",
    "--title",
    "Who backs whom: the two sides of the Libyan talks",
    "-o",
    "docs/backers.svg",
];
const TIMELINE: &[&str] = &[
    "timeline",
    "--from",
    "2019-04",
    "--to",
    "2020-10",
    "--title",
    "From the offensive on Tripoli to the Libya summit",
    "-o",
    "docs/timeline.svg",
];

/// Shell-quote an argument as the README writes it.
fn quoted(a: &str) -> String {
    if a.contains(' ') {
        format!("\"{a}\"")
    } else {
        a.to_string()
    }
}

#[test]
fn readme_pictures_are_what_the_readme_commands_make() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = example_db(dir.path());
    let readme = readme_commands();
    for args in [BACKERS, TIMELINE] {
        let shown = format!(
            "dossier --db example.db {}",
            args.iter().map(|a| quoted(a)).collect::<Vec<_>>().join(" ")
        );
        assert!(
            readme.contains(&shown),
            "README.md should show the command that makes the picture: {shown}"
        );
        let committed = args.last().expect("an output file");
        let made = dir
            .path()
            .join(Path::new(committed).file_name().expect("name"));
        let mut argv: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        if let Some(last) = argv.last_mut() {
            *last = made.display().to_string();
        }
        let out = dossier()
            .arg("--db")
            .arg(&db)
            .args(&argv)
            .output()
            .expect("runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let new = std::fs::read_to_string(&made).expect("made");
        let old = std::fs::read_to_string(root().join(committed)).expect("committed picture");
        assert!(
            new == old,
            "{committed} is stale: regenerate it with `{shown}` (from the example database)"
        );
    }
}

#[test]
fn the_backers_picture_shows_the_backers() {
    let svg = std::fs::read_to_string(root().join("docs/backers.svg")).expect("picture");
    for who in ["Egypt", "United Arab Emirates", "Russia", "Turkey", "Qatar"] {
        assert!(svg.contains(&format!(">{who}</text>")), "{who} missing");
    }
    assert!(svg.contains("<title>gna backed_by turkey\nsource: aa_2020_09_28</title>"));
    let timeline = std::fs::read_to_string(root().join("docs/timeline.svg")).expect("picture");
    // The offensive is a range whose ends are months, drawn hatched; Berlin is a day.
    assert!(timeline.contains("data-when=\"2019-04 .. 2020-06\""));
    assert!(timeline.contains("url(#uncertain)"));
    assert!(timeline.contains("data-when=\"2020-01-19\""));
}

#[test]
fn graph_options_formats_and_errors() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = example_db(dir.path());
    let run = |args: &[&str]| {
        dossier()
            .arg("--db")
            .arg(&db)
            .args(args)
            .output()
            .expect("runs")
    };
    let dot = run(&["graph", "gna", "--follow", "backed_by", "--format", "dot"]);
    assert!(dot.status.success());
    let text = String::from_utf8_lossy(&dot.stdout);
    assert!(text.starts_with("digraph dossier {"), "{text}");
    assert!(
        text.contains(
            "\"gna\" -> \"turkey\" [label=\"backed_by\", tooltip=\"source: aa_2020_09_28\"];"
        ),
        "{text}"
    );
    assert_eq!(text.matches("->").count(), 2, "{text}");

    let q = run(&[
        "graph",
        "--query",
        "find ?a ?b where ?a backed_by ?b.",
        "--sources",
    ]);
    let svg = String::from_utf8_lossy(&q.stdout);
    assert!(
        !svg.contains("backed_by [aa_2020_09_28]"),
        "two columns: unnamed edges"
    );
    assert_eq!(svg.matches("<g class=\"edge\"").count(), 5, "{svg}");

    let unknown = run(&["graph", "nobody"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no entity is named 'nobody'"));
    let none = run(&["graph"]);
    assert_eq!(none.status.code(), Some(2));

    let limited = run(&["graph", "gna", "--max-nodes", "3"]);
    let svg = String::from_utf8_lossy(&limited.stdout);
    assert!(svg.contains("stopped at 3 nodes"), "{svg}");

    let rows = run(&[
        "query",
        "--format",
        "dot",
        "find ?a ?p ?b where ?a ?p ?b, ?p = backed_by.",
    ]);
    let text = String::from_utf8_lossy(&rows.stdout);
    assert!(
        text.contains("\"haftar\" -> \"egypt\" [label=\"backed_by\"];"),
        "{text}"
    );
    let wide = run(&["query", "--format", "dot", "find ?a where ?a backed_by ?b."]);
    assert!(!wide.status.success());
    assert!(String::from_utf8_lossy(&wide.stderr).contains("two columns"));

    let t = run(&[
        "timeline",
        "find ?e ?d ?v where ?e date ?d; venue ?v.",
        "--from",
        "2020",
    ]);
    let svg = String::from_utf8_lossy(&t.stdout);
    assert!(
        svg.contains(">Hurghada</text>"),
        "lanes are labelled: {svg}"
    );
    let bad = run(&["timeline", "--from", "2020-13"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn the_shell_writes_pictures_to_files() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = example_db(dir.path());
    let mut c = dossier();
    c.arg("--db")
        .arg(&db)
        .arg("repl")
        .current_dir(dir.path())
        .env("HOME", dir.path())
        .env("TERM", "xterm")
        .env("NO_COLOR", "1")
        .env_remove("DOSSIER_HISTORY");
    let opts = rexpect::session::Options::new()
        .timeout_ms(Some(20_000))
        .strip_ansi_escape_codes(true);
    let mut p = rexpect::session::spawn_with_options(c, opts).expect("spawn");
    p.exp_string("dossier> ").expect("prompt");
    p.send_line(".graph gna --follow backed_by").expect("send");
    p.exp_string("wrote 3 nodes and 2 edges to graph.svg")
        .expect("graph");
    p.send_line(".timeline 'find ?e ?d where ?e date ?d.' -o t.svg")
        .expect("send");
    p.exp_string("wrote 6 events to t.svg").expect("timeline");
    p.send_line(".graph --depth x").expect("send");
    p.exp_string("invalid value 'x'").expect("clap error");
    p.send_line(".quit").expect("quit");
    p.exp_eof().expect("eof");
    let svg = std::fs::read_to_string(dir.path().join("graph.svg")).expect("file");
    assert!(svg.contains(">Turkey</text>"));
    assert!(dir.path().join("t.svg").exists());
}
