//! Temporary: load the bench data and time the query suite.
use dossier::model::{Date, Quad, Value};
use std::io::BufRead;
use std::time::Instant;
const BASE: &str = "http://dossier.example/";
fn main() -> Result<(), dossier::Error> {
    let args: Vec<String> = std::env::args().collect();
    let dir = &args[1];
    let dbp = format!("{dir}/dossier-test.db");
    if !std::path::Path::new(&dbp).exists() {
        let f = std::io::BufReader::new(std::fs::File::open(format!("{dir}/data.nt")).unwrap());
        let local = |iri: &str| -> String {
            let iri = iri.trim_start_matches('<').trim_end_matches('>');
            if iri == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type" {
                return "type".into();
            }
            iri.strip_prefix(BASE).unwrap_or(iri).to_string()
        };
        let mut quads = Vec::new();
        for line in f.lines() {
            let line = line.unwrap();
            let (s, rest) = line.split_once(' ').unwrap();
            let (p, rest) = rest.split_once(' ').unwrap();
            let o = rest.trim_end_matches('.').trim();
            let o = if o.starts_with('<') {
                Value::entity(local(o))
            } else {
                let end = o.rfind('"').unwrap();
                let lex = &o[1..end];
                if o[end..].contains("XMLSchema#date") {
                    Value::Date(Date::parse(lex).unwrap())
                } else {
                    Value::string(lex)
                }
            };
            quads.push(Quad::new(local(s), local(p), o));
        }
        let t = Instant::now();
        let db = dossier::Db::open_with(
            &dbp,
            dossier::Options {
                durable: false,
                ..Default::default()
            },
        )?;
        db.bulk_add(&quads)?;
        db.flush()?;
        println!(
            "loaded {} in {:.2}s",
            quads.len(),
            t.elapsed().as_secs_f64()
        );
    }
    let db = dossier::Db::open(&dbp)?;
    let params: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/params.json")).unwrap())
            .unwrap();
    let qtext = std::fs::read_to_string("/work/shared/bench/queries.dq").unwrap();
    let mut blocks = vec![];
    let mut cur: Option<(String, String)> = None;
    for line in qtext.lines() {
        if let Some(rest) = line.strip_prefix("## ") {
            if let Some(c) = cur.take() {
                blocks.push(c);
            }
            cur = Some((rest.to_string(), String::new()));
        } else if line.starts_with('#') {
            continue;
        } else if let Some(c) = cur.as_mut() {
            c.1.push_str(line);
            c.1.push('\n');
        }
    }
    blocks.extend(cur);
    let only = args.get(2).cloned();
    for (name, mut text) in blocks {
        if let Some(o) = &only {
            if !name.starts_with(o.as_str()) {
                continue;
            }
        }
        for k in ["event", "city", "state", "group"] {
            text = text.replace(&format!("${k}"), params[k].as_str().unwrap());
        }
        let mut times = vec![];
        let mut n = 0;
        let reps: usize = std::env::var("REPS")
            .ok()
            .and_then(|r| r.parse().ok())
            .unwrap_or(5);
        for _ in 0..reps {
            let t = Instant::now();
            let outs = db.execute(&text)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            if let Some(dossier::Outcome::Rows(r)) = outs.last() {
                n = r.len();
            }
        }
        times.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "{name:40} {:>9.3} ms  [{n}] (first {:.3})",
            times[times.len() / 2],
            times[0]
        );
        if args.get(3).is_some() {
            let plan = db.execute(&format!(
                "explain analyze {}",
                text.lines()
                    .filter(|l| l.starts_with("find"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ))?;
            if let Some(dossier::Outcome::Plan(p)) = plan.last() {
                println!("{p}");
            }
        }
    }
    Ok(())
}
