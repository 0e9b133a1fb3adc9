//! Embedding dossier in a program: ingest a feed of events, ask questions, print answers.
//!
//! `cargo run --example embed` (uses a temporary database; pass a path to keep one).

use dossier::{Date, Db, Params, Value};
use serde::Deserialize;

/// One item of an incoming feed, as a program might receive it from a news API.
struct FeedItem {
    id: &'static str,
    kind: &'static str,
    date: (i32, u32, u32),
    place: &'static str,
    parties: &'static [&'static str],
    mediator: Option<&'static str>,
    source: &'static str,
}

const FEED: &[FeedItem] = &[
    FeedItem {
        id: "berlin_conf",
        kind: "Conference",
        date: (2020, 1, 19),
        place: "berlin",
        parties: &["gna", "haftar_forces"],
        mediator: Some("un"),
        source: "dpa_2020_01_19",
    },
    FeedItem {
        id: "hurghada_talks",
        kind: "Talks",
        date: (2020, 9, 28),
        place: "hurghada",
        parties: &["gna", "haftar_forces"],
        mediator: None,
        source: "aa_2020_09_28",
    },
    FeedItem {
        id: "bouznika_talks",
        kind: "Talks",
        date: (2020, 9, 6),
        place: "bouznika",
        parties: &["hcs", "hor"],
        mediator: Some("morocco"),
        source: "reuters_2020_09_06",
    },
    FeedItem {
        id: "sirte_clash",
        kind: "Offensive",
        date: (2020, 6, 6),
        place: "sirte",
        parties: &["gna", "haftar_forces"],
        mediator: None,
        source: "afp_2020_06_06",
    },
];

/// A row of the answer, read straight into a struct.
#[derive(Deserialize, Debug)]
struct TalksRow {
    event: String,
    date: String,
    place: String,
}

fn main() -> Result<(), dossier::Error> {
    let db = match std::env::args().nth(1) {
        Some(path) => Db::open(path)?,
        None => Db::memory()?,
    };

    // A little schema: subtypes make `?e a Event` find talks and conferences alike.
    db.execute(
        "type Event. type Talks sub Event. type Conference sub Event. type Offensive sub Event.
         pred date: Event -> date.",
    )?;

    // Ingest the feed: each item's facts land together, attributed to its source.
    for item in FEED {
        let (y, m, d) = item.date;
        let mut facts = db
            .facts()
            .source(item.source)
            .add(item.id, "type", Value::entity(item.kind))
            .add(item.id, "date", Date::day(y, m, d).expect("a valid date"))
            .add(item.id, "venue", Value::entity(item.place));
        for p in item.parties {
            facts = facts.add(item.id, "party", Value::entity(*p));
        }
        if let Some(m) = item.mediator {
            facts = facts.add(item.id, "mediator", Value::entity(m));
        }
        facts.commit()?;
    }
    println!(
        "ingested {} feed items from {} sources",
        FEED.len(),
        db.sources()?.len()
    );

    // A question with a parameter: which talks did an actor take part in, and where?
    let talks = db.prepare(
        "find ?event ?date ?place where ?event a Talks; party $actor; date ?date; venue ?place
         order by ?date.",
    )?;
    for actor in ["gna", "hcs"] {
        let params = Params::from([("actor".to_string(), Value::entity(actor))]);
        let rows: Vec<TalksRow> = talks.query(&params)?.deserialize()?;
        println!("\ntalks with {actor}:");
        for r in rows {
            println!("  {} on {} in {}", r.event, r.date, r.place);
        }
    }

    // Typed access, aggregates, and a date filter at month precision.
    println!("\nevents per actor in 2020:");
    for row in db.query("find ?actor count(?e) as n where ?e a Event; party ?actor; date ?d, ?d in 2020 order by n desc, ?actor.")? {
        println!("  {:<14} {}", row.get::<&str>("actor")?, row.get::<i64>("n")?);
    }
    let september = db.query("find ?e where ?e date ?d, ?d in 2020-09.")?;
    println!("\n{} events in September 2020", september.len());

    // A rule, stored with the data: who has sat at a table with whom.
    db.execute("rule ?a met ?b :- ?e a Event; party ?a, ?e party ?b, ?a != ?b.")?;
    let met: Vec<String> = db
        .query("find ?b where gna met ?b.")?
        .map(|r| r.get::<String>("b"))
        .collect::<Result<_, _>>()?;
    println!("gna has met: {}", met.join(", "));

    // A transaction: read and write together, or not at all.
    db.transaction(|tx| {
        let n = tx.query("find ?e where ?e mediator morocco.")?.len();
        tx.add("morocco", "mediated_events", n as i64)?;
        Ok(())
    })?;
    let n = db
        .query("find ?n where morocco mediated_events ?n.")?
        .next()
        .map(|r| r.get::<i64>("n"))
        .transpose()?;
    println!("morocco mediated {} event(s)", n.unwrap_or(0));
    Ok(())
}
