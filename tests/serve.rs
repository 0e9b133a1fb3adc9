//! `dossier serve` over HTTP: the API's answers and errors, read-only and writable servers,
//! per-request limits, a client going away, and a load test of many concurrent requests.
#![cfg(feature = "serve")]

#[path = "common/server.rs"]
mod http;

use http::{example_db as example, Server};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A database made by running `text` as a script.
fn db_from(dir: &Path, text: &str) -> PathBuf {
    let f = dir.join("data.dq");
    std::fs::write(&f, text).expect("write");
    http::db_from_file(dir, &f)
}

#[test]
fn the_api_answers() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = Server::start(&example(dir.path()), &[]);

    let (status, r) = s.query(&json!({
        "query": "find ?b where $who backed_by ?b. find ?e ?d where ?e date ?d, ?d in 2020-09 order by ?e.",
        "params": {"who": "gna"},
    }));
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["results"][0]["columns"], json!(["b"]));
    assert_eq!(r["results"][0]["count"], 2);
    assert!(r["results"][0]["rows"]
        .as_array()
        .expect("rows")
        .contains(&json!([{"type": "entity", "value": "turkey"}])));
    assert_eq!(
        r["results"][1]["rows"][0],
        json!([{"type": "entity", "value": "hurghada_talks"},
               {"type": "date", "value": "2020-09-28", "precision": "day"}])
    );
    // Typed parameters.
    let (_, r) = s.query(&json!({
        "query": "find ?e where ?e date ?d, ?d in $month.",
        "params": {"month": {"date": "2020-10"}},
    }));
    assert_eq!(r["results"][0]["count"], 2, "{r}");

    let (status, e) = s.get_json("/api/entity/gna");
    assert_eq!(status, 200);
    assert_eq!(e["label"], "Government of National Accord");
    let backed = e["outgoing"]
        .as_array()
        .expect("facts")
        .iter()
        .find(|f| f["predicate"] == "backed_by" && f["value"]["value"] == "turkey")
        .expect("gna backed_by turkey")
        .clone();
    assert_eq!(backed["sources"], json!(["aa_2020_09_28"]));
    assert!(e["incoming_total"].as_u64().expect("total") > 3);

    let (_, h) = s.get_json("/api/search?q=HAFT");
    let names: Vec<&str> = h["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert_eq!(
        names[0], "haftar",
        "names starting with the text first: {names:?}"
    );
    assert!(
        names.contains(&"gna_counteroffensive"),
        "labels count too: {names:?}"
    );

    let (_, g) = s.get_json("/api/graph?entity=gna&follow=backed_by");
    assert_eq!(g["nodes"].as_array().map(Vec::len), Some(3));
    assert_eq!(g["edges"][0]["sources"], json!(["aa_2020_09_28"]));
    assert!(g["nodes"][1]["x"].is_number());
    let (status, svg) = s.get("/api/graph?entity=gna&format=svg");
    assert_eq!(status, 200);
    assert!(svg.starts_with("<svg"));
    let (_, dot) =
        s.get("/api/graph?query=find%20%3Fa%20%3Fb%20where%20%3Fa%20backed_by%20%3Fb.&format=dot");
    assert!(dot.contains("\"gna\" -> \"qatar\""), "{dot}");

    let (_, t) = s.get_json("/api/timeline?from=2019-04&to=2020-10&format=json");
    let whens: Vec<&str> = t["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["when"].as_str())
        .collect();
    assert!(whens.contains(&"2019-04 .. 2020-06"), "{whens:?}");
    let (_, svg) = s.get("/api/timeline?query=find%20%3Fe%20%3Fd%20where%20%3Fe%20date%20%3Fd.");
    assert!(svg.contains("class=\"dossier-timeline\""));

    let (_, lang) = s.get_json("/api/language");
    assert!(lang["keywords"]
        .as_array()
        .expect("kw")
        .contains(&json!("optional")));
    assert!(lang["predicates"]
        .as_array()
        .expect("p")
        .contains(&json!("backed_by")));

    let (status, page) = s.get("/");
    assert_eq!(status, 200);
    assert!(page.contains("/assets/app.js"));
    assert_eq!(s.get("/assets/app.js").0, 200);
    assert_eq!(s.get("/assets/app.css").0, 200);
}

#[test]
fn errors_have_a_place_and_a_status() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = Server::start(&example(dir.path()), &["--max-rows", "3"]);
    let (status, r) =
        s.query(&json!({"query": "find ?x where ?x a Person.\nfind ?x wher ?x a Person."}));
    assert_eq!(status, 400);
    assert_eq!(r["error"]["kind"], "syntax");
    assert_eq!(
        (r["error"]["line"].clone(), r["error"]["column"].clone()),
        (json!(2), json!(9))
    );
    assert!(r["error"]["report"]
        .as_str()
        .expect("report")
        .contains("  |         ^^^^"));

    let (status, r) =
        s.query(&json!({"query": "find ?x where lna backed_by ?x.\nlna backed_by qatar."}));
    assert_eq!(status, 403);
    assert_eq!(r["error"]["kind"], "read_only");
    assert_eq!(r["error"]["line"], 2);
    let (status, r) = s.query(&json!({"query": "find ?x where ?x a Actor."}));
    assert_eq!(
        (status, &r["error"]["kind"]),
        (413, &json!("too_many_rows"))
    );
    let (status, r) = s.query(&json!({"query": "load \"/etc/passwd\"."}));
    assert_eq!(status, 400);
    assert!(!r.to_string().contains("root:"), "no file is read: {r}");
    assert_eq!(s.get("/api/entity/nobody").0, 404);
    assert_eq!(s.get("/etc/passwd").0, 404);
    assert_eq!(s.get("/assets/../Cargo.toml").0, 404);
    assert_eq!(s.get("/assets/%2e%2e%2fCargo.toml").0, 404);
    assert_eq!(s.request("POST", "/api/query", Some("not json")).0, 400);
    assert_eq!(s.get("/api/timeline?from=2020-13").0, 400);
    assert_eq!(s.get("/api/graph?entity=gna&depth=x").0, 400);
    let (status, _) = s.query(&json!({"query": "find ?x where ?x a $t.", "params": {"t": [1]}}));
    assert_eq!(status, 400);
}

#[test]
fn a_writable_server_accepts_writes() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = Server::start(
        &db_from(dir.path(), "lna backed_by egypt."),
        &["--writable"],
    );
    let (status, r) =
        s.query(&json!({"query": "gna backed_by turkey. find ?x where ?x backed_by ?y."}));
    assert_eq!(status, 200, "{r}");
    assert_eq!(r["results"][0]["done"], "added 1 fact");
    assert_eq!(r["results"][1]["count"], 2);
}

/// A query that runs until stopped: a triple cross product of 3,000 facts.
const SLOW: &str = "find count() where ?a p ?x, ?b p ?y, ?c p ?z, ?x != ?y.";

fn many_facts(dir: &Path) -> PathBuf {
    let facts: String = (0..3000).map(|i| format!("e{i} p v{i}.\n")).collect();
    db_from(dir, &facts)
}

#[test]
fn limits_hold_per_request_and_a_client_going_away_cancels_its_query() {
    let dir = tempfile::tempdir().expect("tmp");
    let s = Server::start(&many_facts(dir.path()), &["--request-timeout", "1"]);
    let started = Instant::now();
    let (status, r) = s.query(&json!({ "query": SLOW }));
    assert_eq!(
        (status, &r["error"]["kind"]),
        (408, &json!("timeout")),
        "{r}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(s);

    let s = Server::start(&many_facts(dir.path()), &["--request-timeout", "600"]);
    // Start a slow query, and while it runs, others are answered.
    let body = json!({ "query": SLOW }).to_string();
    let slow = http::send(s.port, "POST", "/api/query", Some(&body));
    std::thread::sleep(Duration::from_millis(300));
    let quick = Instant::now();
    let (status, _) = s.query(&json!({"query": "find ?x where e1 p ?x."}));
    assert_eq!(status, 200);
    assert!(
        quick.elapsed() < Duration::from_secs(5),
        "{:?}",
        quick.elapsed()
    );
    // The client goes away: its query is cancelled, long before the time limit.
    drop(slow);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, st) = s.get_json("/api/status");
        if st["abandoned"] == 1 && st["started"] == st["finished"] {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the query was not cancelled: {st}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Many concurrent requests on 127.0.0.1, bounded in count and time: every one answered.
#[test]
fn load_test() {
    const THREADS: usize = 16;
    const REQUESTS: usize = 2000;
    let dir = tempfile::tempdir().expect("tmp");
    let s = Server::start(&example(dir.path()), &[]);
    let port = s.port;
    let started = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            std::thread::spawn(move || {
                let mut out = Vec::new();
                for i in (t..REQUESTS).step_by(THREADS) {
                    let at = Instant::now();
                    let (status, body) = match i % 5 {
                        0 => http::request(port, "GET", "/api/search?q=ha", None),
                        1 => http::request(port, "GET", "/api/entity/haftar", None),
                        2 => http::request(port, "GET", "/api/graph?entity=gna", None),
                        _ => http::request(
                            port,
                            "POST",
                            "/api/query",
                            Some(r#"{"query": "find ?c ?b where ?c backed_by ?b."}"#),
                        ),
                    };
                    let ok = status == 200 && body.starts_with('{');
                    out.push((ok, at.elapsed()));
                }
                out
            })
        })
        .collect();
    let mut results = Vec::new();
    for h in handles {
        results.extend(h.join().expect("a client thread"));
    }
    let elapsed = started.elapsed();
    let answered = results.iter().filter(|(ok, _)| *ok).count();
    let mut ms: Vec<f64> = results
        .iter()
        .map(|(_, d)| d.as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "load test: {REQUESTS} requests from {THREADS} threads in {:.2} s ({:.0}/s): \
         answered {answered}, lost {}; latency p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        elapsed.as_secs_f64(),
        REQUESTS as f64 / elapsed.as_secs_f64(),
        REQUESTS - answered,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    assert_eq!(answered, REQUESTS, "every request answered");
    assert!(elapsed < Duration::from_secs(60), "took {elapsed:?}");
}
