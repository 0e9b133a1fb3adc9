//! The library API as a program embedding dossier uses it: threads, parameters,
//! transactions, prepared queries, typed rows.

use dossier::{Date, Db, Error, Options, Outcome, Params, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

#[test]
fn db_is_a_shared_handle() {
    assert_send_sync_clone::<Db>();
}

/// 8 readers and 1 writer: every statement adds two facts about a new subject; a reader
/// must never see one without the other.
#[test]
fn readers_never_see_half_of_a_statement() {
    let db = Db::memory().unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..8 {
        let db = db.clone();
        let done = done.clone();
        readers.push(std::thread::spawn(move || {
            let mut checks = 0u64;
            let mut last = 0;
            while !done.load(Ordering::SeqCst) || checks < 5 {
                let half = db.query("find ?x where ?x p yes, not { ?x q b }.").unwrap();
                assert_eq!(half.len(), 0, "a reader saw half of a statement");
                let n = db
                    .query("find count(?x) where ?x q b.")
                    .unwrap()
                    .next()
                    .unwrap()
                    .get::<i64>("count(?x)")
                    .unwrap();
                assert!(n >= last, "the database went back in time");
                last = n;
                checks += 1;
            }
            checks
        }));
    }
    for i in 0..300 {
        db.execute(&format!("x{i} p yes; q b.")).unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let checks: u64 = readers.into_iter().map(|r| r.join().unwrap()).sum();
    assert!(checks >= 40);
    assert_eq!(
        db.query("find count() where ?x p yes.")
            .unwrap()
            .next()
            .unwrap()
            .get::<i64>("count()")
            .unwrap(),
        300
    );
}

#[test]
fn parameters_cannot_change_a_query() {
    let db = Db::memory().unwrap();
    db.execute("haftar label \"Khalifa Haftar\". gna label \"GNA\".")
        .unwrap();
    // A value that would be a statement if it were spliced into the text.
    let evil = "GNA\". del haftar label _. find ?x where ?x label \"GNA";
    let p = Params::from([("name".to_string(), Value::string(evil))]);
    let rows = db.query_with("find ?x where ?x label $name.", &p).unwrap();
    assert_eq!(rows.len(), 0);
    assert_eq!(
        db.query("find ?x where ?x label ?l.").unwrap().len(),
        2,
        "nothing was deleted"
    );
    // An entity parameter is one name, whatever it contains.
    let p = Params::from([("who".to_string(), Value::entity("gna label ?l"))]);
    assert_eq!(
        db.query_with("find ?l where $who label ?l.", &p)
            .unwrap()
            .len(),
        0
    );
    // Facts with parameters store the value as given.
    db.execute_with(
        "$who label $name.",
        &Params::from([
            ("who".to_string(), Value::entity("x")),
            ("name".to_string(), Value::string(evil)),
        ]),
    )
    .unwrap();
    let rows = db.query("find ?l where x label ?l.").unwrap();
    assert_eq!(rows.values().next().unwrap()[0], Some(Value::string(evil)));
    // A missing parameter is an error naming it.
    let err = db
        .query("find ?x where ?x label $nope.")
        .unwrap_err()
        .to_string();
    assert!(err.contains("$nope"), "{err}");
}

#[test]
fn transactions_roll_back_on_error_and_on_panic() {
    let db = Db::memory().unwrap();
    db.execute("keep p 1.").unwrap();
    let r: Result<(), Error> = db.transaction(|tx| {
        tx.execute("t1 p 2. t2 p 3.")?;
        assert_eq!(
            tx.query("find ?x where ?x p ?n.")?.len(),
            3,
            "a transaction sees its own writes"
        );
        tx.execute("del keep p 1.")?;
        Err(Error::Invalid("stop".into()))
    });
    assert!(r.is_err());
    assert_eq!(db.query("find ?x where ?x p ?n.").unwrap().len(), 1);

    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = db.transaction(|tx| -> Result<(), Error> {
            tx.execute("t3 p 4.")?;
            panic!("the program failed half-way");
        });
    }));
    assert!(caught.is_err());
    assert_eq!(
        db.query("find ?x where ?x p ?n.").unwrap().len(),
        1,
        "nothing of the panicked transaction remains"
    );
    // The database is still usable after the panic.
    db.transaction(|tx| tx.execute("t4 p 5.").map(|_| ()))
        .unwrap();
    assert_eq!(db.query("find ?x where ?x p ?n.").unwrap().len(), 2);
}

/// Asserting again, inside a transaction, what a source already asserts changes nothing
/// the transaction sees: one assertion, counted once.
#[test]
fn a_transaction_sees_a_repeated_assertion_once() {
    let db = Db::memory().unwrap();
    db.execute("lna backed_by egypt from aa. lna backed_by uae from afp.")
        .unwrap();
    let q = "find ?src ?y where lna backed_by ?y from ?src order by ?src.";
    let before = db.query(q).unwrap();
    let seen = db
        .transaction(|tx| {
            tx.execute("lna backed_by egypt from aa. lna backed_by russia from aa.")?;
            Ok((
                tx.query(q)?,
                tx.query("find count(?src) as n where lna backed_by ?y from ?src.")?,
            ))
        })
        .unwrap();
    let names = |rows: dossier::Rows| -> Vec<String> {
        rows.map(|r| {
            let (src, y) = (r.get::<String>("src"), r.get::<String>("y"));
            format!("{} {}", src.unwrap(), y.unwrap())
        })
        .collect()
    };
    assert_eq!(names(before), ["aa egypt", "afp uae"]);
    let (rows, count) = seen;
    assert_eq!(names(rows), ["aa egypt", "aa russia", "afp uae"]);
    let n = count.into_iter().next().unwrap().get::<i64>("n").unwrap();
    assert_eq!(n, 3);
}

/// `label(…)` inside a transaction sees the labels the transaction added.
#[test]
fn label_sees_a_transactions_own_labels() {
    let db = Db::memory().unwrap();
    db.execute("haftar a Person.").unwrap();
    let rows = db
        .transaction(|tx| {
            tx.execute("haftar label \"Khalifa Haftar\".")?;
            tx.query("find label(?x) as name where ?x a Person.")
        })
        .unwrap();
    let names: Vec<String> = rows.map(|r| r.get::<String>("name").unwrap()).collect();
    assert_eq!(names, ["Khalifa Haftar"]);
}

#[test]
fn prepared_queries_run_many_times() {
    let db = Db::memory().unwrap();
    db.execute("lna backed_by egypt, uae, russia. gna backed_by turkey, qatar.")
        .unwrap();
    let q = db
        .prepare("find ?b where $client backed_by ?b order by ?b.")
        .unwrap();
    for (client, want) in [
        ("lna", vec!["egypt", "russia", "uae"]),
        ("gna", vec!["qatar", "turkey"]),
        ("nobody", vec![]),
    ] {
        let p = Params::from([("client".to_string(), Value::entity(client))]);
        let got: Vec<String> = q
            .query(&p)
            .unwrap()
            .map(|r| r.get::<String>("b").unwrap())
            .collect();
        assert_eq!(got, want);
    }
    // Later writes are seen by the prepared query.
    db.execute("lna backed_by wagner.").unwrap();
    let p = Params::from([("client".to_string(), Value::entity("lna"))]);
    assert_eq!(q.query(&p).unwrap().len(), 4);
    assert!(
        db.prepare("lna backed_by x.").is_err(),
        "only queries can be prepared"
    );
}

#[test]
fn typed_rows_and_serde() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Meeting {
        m: String,
        d: String,
        n: i64,
        note: Option<String>,
    }
    let db = Db::memory().unwrap();
    db.execute("hurghada a Meeting; date 2020-09-28; party lna, gna. berlin a Meeting; date 2020-01; party lna; note \"online\".").unwrap();
    let rows = db.query("find ?m ?d count(?p) as n ?note where ?m a Meeting; date ?d; party ?p, optional { ?m note ?note } order by ?d.").unwrap();
    assert_eq!(rows.columns(), ["m", "d", "n", "note"]);
    let first = rows.clone().next().unwrap();
    assert_eq!(first.get::<&str>("m").unwrap(), "berlin");
    assert_eq!(
        first.get::<Date>("d").unwrap(),
        Date::month(2020, 1).unwrap()
    );
    assert_eq!(first.get::<i64>("n").unwrap(), 1);
    assert_eq!(first.get::<Option<&str>>("note").unwrap(), Some("online"));
    assert!(first
        .get::<i64>("m")
        .unwrap_err()
        .to_string()
        .contains("not i64"));
    assert!(first
        .get::<i64>("nope")
        .unwrap_err()
        .to_string()
        .contains("no column 'nope'"));
    let all: Vec<Meeting> = rows.deserialize().unwrap();
    assert_eq!(
        all,
        vec![
            Meeting {
                m: "berlin".into(),
                d: "2020-01".into(),
                n: 1,
                note: Some("online".into())
            },
            Meeting {
                m: "hurghada".into(),
                d: "2020-09-28".into(),
                n: 2,
                note: None
            },
        ]
    );
}

#[test]
fn builder_and_add() {
    let db = Db::memory().unwrap();
    assert_eq!(db.add("haftar", "label", "Khalifa Haftar").unwrap(), 1);
    assert_eq!(
        db.add("haftar", "label", "Khalifa Haftar").unwrap(),
        0,
        "facts are a set"
    );
    let n = db
        .facts()
        .source("aa_2020_09_28")
        .add("hurghada_talks", "type", Value::entity("Meeting"))
        .add("hurghada_talks", "date", Date::day(2020, 9, 28).unwrap())
        .add("hurghada_talks", "party", Value::entity("lna"))
        .commit()
        .unwrap();
    assert_eq!(n, 3);
    assert_eq!(db.sources().unwrap(), [("aa_2020_09_28".to_string(), 3)]);
    // Declared kinds are enforced for code too, and nothing of a failed batch lands.
    db.execute("pred date: _ -> date.").unwrap();
    let err = db
        .facts()
        .add("x", "label", "ok")
        .add("x", "date", "soon")
        .commit()
        .unwrap_err();
    assert!(err.to_string().contains("'date' takes a date"), "{err}");
    assert_eq!(db.query("find ?l where x label ?l.").unwrap().len(), 0);
}

#[test]
fn a_failed_statement_changes_nothing() {
    let db = Db::memory().unwrap();
    db.execute("pred date: Event -> date.").unwrap();
    let err = db
        .execute("ev1 a Meeting; date 2020-09-28. ev2 a Meeting; party lna; date \"soon\".")
        .unwrap_err();
    assert!(matches!(err, Error::Rejected(_)), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("1:64") && text.contains("'date' takes a date, not a string"),
        "{text}"
    );
    // The first statement landed, nothing of the second did.
    assert_eq!(db.query("find ?e where ?e a Meeting.").unwrap().len(), 1);
    assert_eq!(db.query("find ?e where ?e party lna.").unwrap().len(), 0);
}

#[test]
fn memory_and_disk_behave_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let disk = Db::open(dir.path().join("kb")).unwrap();
    let mem = Db::memory().unwrap();
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/LANGUAGE.md"
    ))
    .unwrap();
    // Every fenced example of the language contract, run as one script on both.
    let mut script = String::new();
    let mut inside = false;
    for line in text.lines() {
        if line.starts_with("```") {
            inside = !inside;
            continue;
        }
        if inside {
            script.push_str(line);
            script.push('\n');
        }
    }
    let run = |db: &Db| -> Vec<String> {
        db.script(&script)
            .map(|r| match r {
                Ok(e) => match e.outcome {
                    Outcome::Rows(rows) => {
                        let mut v: Vec<String> = rows.values().map(|r| format!("{r:?}")).collect();
                        v.sort();
                        v.join("|")
                    }
                    other => other.to_string(),
                },
                Err(e) => e.to_string(),
            })
            .collect()
    };
    let a = run(&disk);
    let b = run(&mem);
    assert!(a.len() > 20, "{a:?}");
    assert_eq!(a, b);
    assert!(a.iter().all(|o| !o.starts_with("error")), "{a:#?}");
}

#[test]
fn time_and_row_limits() {
    let db = Db::memory().unwrap();
    let facts: String = (0..400)
        .map(|i| format!("n{i} edge n{}.\n", i + 1))
        .collect();
    db.execute(&facts).unwrap();
    db.execute("rule ?x reach ?y :- ?x edge ?y. rule ?x reach ?z :- ?x reach ?y, ?y reach ?z.")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let limited = Db::open_with(
        dir.path().join("kb"),
        Options {
            max_rows: Some(10),
            timeout: Some(std::time::Duration::from_millis(1)),
            ..Options::default()
        },
    )
    .unwrap();
    limited.execute(&facts).unwrap();
    limited
        .execute("rule ?x reach ?y :- ?x edge ?y. rule ?x reach ?z :- ?x reach ?y, ?y reach ?z.")
        .unwrap();
    let err = limited.query("find ?x ?y where ?x reach ?y.").unwrap_err();
    assert!(
        matches!(err, Error::TimedOut(_) | Error::TooManyRows(10)),
        "{err:?}"
    );
    let err = limited.query("find ?x where ?x edge ?y.");
    assert!(
        matches!(err, Err(Error::TooManyRows(10)) | Err(Error::TimedOut(_))),
        "{err:?}"
    );
    // Cancellation from another thread.
    let handle = db.cancel_handle();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        handle.cancel();
    });
    let r = db.query("find count() where ?x reach ?y, ?y reach ?z.");
    t.join().unwrap();
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert_eq!(
        db.query("find ?x where n0 edge ?x.").unwrap().len(),
        1,
        "the next query works"
    );
}

/// A query, its sort, its groups and the facts its rules derive count against a memory
/// limit; past it the query stops with `TooMuchMemory` instead of growing.
#[test]
fn memory_limit_stops_rows_sorts_groups_and_rules() {
    use dossier::Limits;
    let db = Db::memory().unwrap();
    let facts: String = (0..200).map(|i| format!("e{i} p {i}.\n")).collect();
    db.execute(&facts).unwrap();
    db.execute("rule ?x pair ?y :- ?x p ?a, ?y p ?b.").unwrap();
    let small = db.with_limits(Limits {
        max_memory: Some(1 << 20),
        ..db.limits()
    });
    for q in [
        // 8 million distinct rows.
        "find ?a ?b ?c where ?a p ?x, ?b p ?y, ?c p ?z.",
        // A sort of 40,000 rows with a text key each.
        "find ?a ?b where ?a p ?x, ?b p ?y order by lower(?b), ?a.",
        // 40,000 groups.
        "find ?a ?b count() where ?a p ?x, ?b p ?y.",
        // 40,000 derived facts.
        "find count() where ?x pair ?y.",
    ] {
        let err = small.query(q).unwrap_err();
        assert!(
            matches!(err, Error::TooMuchMemory(n) if n == 1 << 20),
            "{q}: {err:?}"
        );
        assert!(err.to_string().contains("--max-memory"), "{err}");
    }
    // The database's own limit (1 GiB by default) lets it run.
    assert_eq!(db.limits().max_memory, Some(1 << 30));
    let n: i64 = db
        .query("find count() where ?x pair ?y.")
        .unwrap()
        .next()
        .unwrap()
        .get("count()")
        .unwrap();
    assert_eq!(n, 40_000);
}

/// Planning a very long body honours the deadline (it ran to the end before, taking
/// seconds for a few thousand conjuncts).
#[test]
fn the_deadline_holds_while_planning() {
    use dossier::Limits;
    let db = Db::memory().unwrap();
    db.execute("x0 p x1.").unwrap();
    let body: Vec<String> = (0..3000).map(|i| format!("?v{i} p ?v{}", i + 1)).collect();
    let q = format!("find ?v0 where {}.", body.join(", "));
    let hurried = db.with_limits(Limits {
        timeout: Some(std::time::Duration::from_millis(1)),
        ..db.limits()
    });
    let err = hurried.query(&q).unwrap_err();
    assert!(matches!(err, Error::TimedOut(_)), "{err:?}");
}

/// `Store::clear` empties a store as a new one is (the fuzz target reuses one).
#[test]
fn a_cleared_store_is_like_a_new_one() {
    let db = Db::memory().unwrap();
    db.execute("type Actor. pred age: _ -> int. x a Actor; age 3; label \"x\" from s.")
        .unwrap();
    db.execute("rule ?a r ?b :- ?a age ?b.").unwrap();
    // Derived facts are kept across statements: a clear must drop them too.
    assert_eq!(db.query("find ?a where ?a r ?b.").unwrap().len(), 1);
    db.store().clear().unwrap();
    let stats = db.stats().unwrap();
    assert_eq!((stats.facts, stats.sources, stats.rules), (0, 0, 0));
    assert!(db.schema().unwrap().is_empty());
    assert!(db.query("find ?x where ?x ?p ?o.").unwrap().is_empty());
    // `age` is no longer declared an int.
    db.execute("y age \"old\". y label \"y\".").unwrap();
    assert_eq!(db.query("find ?p where y ?p ?o.").unwrap().len(), 2);
    assert!(db.store().verify().unwrap().is_empty());
    // The same rule and names again (the same ids), over no facts: nothing is derived,
    // although the facts kept from before the clear were derived from no later change.
    for _ in 0..2 {
        db.store().clear().unwrap();
        db.execute("rule ?a r ?b :- ?a age ?b.").unwrap();
        assert!(db.query("find ?a where ?a r ?b.").unwrap().is_empty());
        db.execute("x age 3.").unwrap();
        assert_eq!(db.query("find ?a where ?a r ?b.").unwrap().len(), 1);
    }
    db.store().clear().unwrap();
    db.execute("rule ?a r ?b :- ?a age ?b.").unwrap();
    db.execute("z age 7.").unwrap();
    let rows: Vec<String> = db
        .query("find ?a where ?a r ?b.")
        .unwrap()
        .map(|r| r.get::<String>("a"))
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(rows, ["z"]);
}

/// A pattern of `matches` that is not a regular expression is an error, never a silent "no
/// match": located when it is written in the query or given as a parameter, naming the
/// value when it comes from the data.
#[test]
fn an_invalid_regular_expression_is_an_error() {
    let db = Db::memory().unwrap();
    db.execute("x label \"Haftar\"; pattern \"Haf(\". y label \"Sarraj\".")
        .unwrap();
    let literal = db
        .query("find ?x where ?x label ?l, matches(?l, \"(unclosed\").")
        .unwrap_err();
    let r = literal.report().expect("located");
    assert_eq!(
        (r.message.as_str(), r.line, r.column),
        (
            "\"(unclosed\" is not a valid regular expression: unclosed group",
            1,
            40
        )
    );
    let params = Params::from([("p".to_string(), Value::string("a[b"))]);
    let param = db
        .query_with("find ?x where ?x label ?l, matches(?l, $p).", &params)
        .unwrap_err();
    let r = param.report().expect("located");
    assert_eq!((r.line, r.column), (1, 40), "{param}");
    assert!(r
        .message
        .contains("\"a[b\" is not a valid regular expression"));
    let data = db
        .query("find ?x where ?x label ?l, ?y pattern ?p, matches(?l, ?p).")
        .unwrap_err();
    assert!(
        data.to_string()
            .contains("the pattern \"Haf(\" is not a valid regular expression"),
        "{data}"
    );
    // A valid one still matches.
    let rows = db
        .query("find ?x where ?x label ?l, matches(?l, \"^Haf+\").")
        .unwrap();
    assert_eq!(rows.len(), 1);
}

/// The dictionary keeps every name it was given; search and completion offer only the
/// names that still occur in some fact (or in the schema).
#[test]
fn deleted_entities_are_not_offered() {
    let db = Db::memory().unwrap();
    db.execute(
        "type Person. pred leads: Person -> _. \
         sarraj a Person; label \"Fayez al-Sarraj\"; leads gna. sarraj_office leads gna. \
         from sarraj_source { gna backed_by turkey. }",
    )
    .unwrap();
    let search = |text: &str| -> Vec<String> {
        match db.execute(&format!("search \"{text}\".")).unwrap().pop() {
            Some(Outcome::Rows(rows)) => rows
                .values()
                .map(|r| r[0].as_ref().unwrap().to_string())
                .collect(),
            other => panic!("{other:?}"),
        }
    };
    assert_eq!(
        search("sarraj"),
        ["sarraj", "sarraj_office", "sarraj_source"]
    );
    assert_eq!(
        db.entity_names("sarr", 50).unwrap(),
        ["sarraj", "sarraj_office", "sarraj_source"]
    );
    db.execute("del sarraj _ _. drop source sarraj_source.")
        .unwrap();
    assert_eq!(search("sarraj"), ["sarraj_office"]);
    assert_eq!(db.entity_names("sarr", 50).unwrap(), ["sarraj_office"]);
    // An object, a predicate and a schema name still count.
    assert_eq!(db.entity_names("gn", 50).unwrap(), ["gna"]);
    assert_eq!(db.entity_names("lea", 50).unwrap(), ["leads"]);
    db.execute("del sarraj_office leads gna.").unwrap();
    assert_eq!(db.entity_names("lea", 50).unwrap(), ["leads"]);
    assert_eq!(db.entity_names("Per", 50).unwrap(), ["Person"]);
    assert!(db.entity_names("gn", 50).unwrap().is_empty());
    // Within a transaction, its own deletions count.
    db.execute("x label \"x\".").unwrap();
    db.transaction(|tx| {
        tx.execute("del x label _.")?;
        match tx.execute("search \"x\".")?.pop() {
            Some(Outcome::Rows(rows)) => assert!(rows.is_empty(), "{rows:?}"),
            other => panic!("{other:?}"),
        }
        Ok(())
    })
    .unwrap();
}

/// A dry run: later statements see earlier writes (across its scripts), a failed
/// statement changes nothing even there, and the database keeps none of it.
#[test]
fn a_dry_run_keeps_nothing() {
    let db = Db::memory().unwrap();
    db.execute("pred date: _ -> date. haftar commands lna.")
        .unwrap();
    let before = {
        let mut v = Vec::new();
        db.export(&mut v, &dossier::io::ExportFormat::Dq).unwrap();
        v
    };
    let mut dry = db.dry_run();
    let outcomes: Vec<_> = dry
        .script("rule ?x leads ?y :- ?x commands ?y. sarraj commands gna.")
        .collect();
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    // The first fact of a statement that fails is not kept, in the dry run either.
    let failed: Vec<_> = dry.script("a1 party lna; date \"soon\".").collect();
    assert!(failed[0].is_err());
    let rows = match dry
        .script("find ?x ?y where ?x leads ?y order by ?x. find ?e where ?e party lna.")
        .map(|r| r.unwrap().outcome)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [Outcome::Rows(leads), Outcome::Rows(parties)] => (leads.len(), parties.len()),
        other => panic!("{other:?}"),
    };
    assert_eq!(rows, (2, 0));
    drop(dry);
    let mut after = Vec::new();
    db.export(&mut after, &dossier::io::ExportFormat::Dq)
        .unwrap();
    assert_eq!(String::from_utf8(after), String::from_utf8(before));
    assert!(db.rules().unwrap().is_empty());
}

/// `explain` estimates the rows of a derived predicate bound to a constant (read from the
/// relation the magic-set rewrite derives), and counts say "1 row", not "1 rows".
#[test]
fn explain_estimates_derived_patterns_and_counts_in_english() {
    let db = Db::memory().unwrap();
    db.execute(
        "n1 part_of n2. n2 part_of n3. n3 part_of n4. n5 part_of n6. \
         rule ?x within ?z :- ?x part_of ?z. \
         rule ?x within ?z :- ?x part_of ?y, ?y within ?z.",
    )
    .unwrap();
    let plan = |text: &str| match db.execute(text).unwrap().pop() {
        Some(Outcome::Plan(p)) => p,
        other => panic!("{other:?}"),
    };
    let p = plan("explain find ?x where ?x within n4.");
    assert!(p.contains("[est 3.0 rows"), "{p}");
    let p = plan("explain analyze find ?x where ?x part_of n6.");
    assert!(p.contains("[actual 1 row,"), "{p}");
    assert!(p.ends_with("\n1 row"), "{p}");
}

/// A misspelled or deleted entity in a query or `describe`, and an undeclared predicate in
/// a fact (when there is a schema), give a warning with a did-you-mean from the one
/// suggestion function; each warning once per script.
#[test]
fn misspelled_names_get_a_did_you_mean() {
    let db = Db::memory().unwrap();
    db.execute(
        "pred backed_by: _ -> _. pred label: _ -> string. \
         haftar backed_by egypt. gna backed_by turkey. haftar label \"Khalifa Haftar\".",
    )
    .unwrap();
    let warnings = |text: &str| -> Vec<String> {
        db.script(text)
            .flat_map(|r| r.unwrap().warnings)
            .map(|w| format!("{} | {}", w.message, w.hint.unwrap_or_default()))
            .collect()
    };
    assert_eq!(
        warnings("find ?b where hafter backed_by ?b."),
        ["no facts mention 'hafter' | did you mean 'haftar'?"]
    );
    assert_eq!(
        warnings("find ?x where ?x backed_by Turkey. find ?x where ?x backed_by Turkey."),
        ["no facts mention 'Turkey' | did you mean 'turkey'?"]
    );
    assert_eq!(
        warnings("describe nosuchthing. describe haftr."),
        [
            "no facts mention 'nosuchthing' | ",
            "no facts mention 'haftr' | did you mean 'haftar'?"
        ]
    );
    assert_eq!(
        warnings("x1 backd_by turkey. x2 backd_by egypt. x3 lable \"x\"."),
        [
            "the schema does not declare the predicate 'backd_by' | did you mean 'backed_by'?",
            "the schema does not declare the predicate 'lable' | did you mean 'label'?"
        ]
    );
    // Names that occur give nothing; a deleted one does.
    assert!(warnings("find ?b where haftar backed_by ?b. describe gna.").is_empty());
    db.execute("del gna _ _.").unwrap();
    assert_eq!(
        warnings("find ?b where gna backed_by ?b."),
        ["no facts mention 'gna' | "]
    );
    // Without declared predicates, facts may use any.
    let free = Db::memory().unwrap();
    let w: Vec<_> = free
        .script("x1 backd_by turkey.")
        .flat_map(|r| r.unwrap().warnings)
        .collect();
    assert!(w.is_empty(), "{w:?}");
}

/// A function written as a predicate (`?l contains "GNA"`) gets the call it meant.
#[test]
fn a_function_used_as_a_predicate_gets_the_call_as_a_hint() {
    let db = Db::memory().unwrap();
    db.execute("gna label \"GNA\".").unwrap();
    let w: Vec<_> = db
        .script("find ?x where ?x label ?l, ?l contains \"GNA\".")
        .flat_map(|r| r.unwrap().warnings)
        .collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].message, "no facts use 'contains'");
    assert_eq!(
        w[0].hint.as_deref(),
        Some("contains is a function: to filter with it, write contains(?l, \"GNA\")")
    );
}

/// Declaring a type again adds the supertypes it names and keeps the others, and says so;
/// `drop rule a.` drops the rules deriving types.
#[test]
fn a_type_declared_again_gains_supertypes_and_type_rules_drop_by_a() {
    use dossier::Declaration;
    let db = Db::memory().unwrap();
    let outcomes = db
        .execute("type G sub P. type G sub S. type G. g a G.")
        .unwrap();
    assert_eq!(
        outcomes[1],
        Outcome::Declared(Declaration::Type {
            name: "G".into(),
            supertypes: vec!["P".into(), "S".into()]
        })
    );
    assert_eq!(outcomes[1].to_string(), "declared type G, below P, S");
    assert_eq!(outcomes[2].to_string(), "declared type G, below P, S");
    let types = |db: &Db| -> Vec<String> {
        db.query("find ?t where g a ?t order by ?t.")
            .unwrap()
            .values()
            .map(|r| r[0].as_ref().unwrap().to_string())
            .collect()
    };
    assert_eq!(types(&db), ["G", "P", "S"]);
    assert!(db
        .schema()
        .unwrap()
        .contains(&"type G sub P, S.".to_string()));
    // A type rule, stored as the shell says ('a'), dropped the same way.
    let stored = db.execute("rule ?x a Leader :- ?x a G.").unwrap();
    assert_eq!(stored[0].to_string(), "stored a rule for 'a'");
    assert_eq!(db.query("find ?x where ?x a Leader.").unwrap().len(), 1);
    let dropped = db.execute("drop rule a.").unwrap();
    assert_eq!(dropped[0].to_string(), "dropped 1 rule deriving 'a'");
    assert!(db.rules().unwrap().is_empty());
    assert_eq!(
        dossier::lang::print_statement(
            &dossier::lang::parse_script("drop rule a.")
                .unwrap()
                .statements[0]
        ),
        "drop rule a."
    );
}
