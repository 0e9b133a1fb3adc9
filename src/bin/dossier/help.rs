//! `.help [topic]`: a short tour for a newcomer, then one page per topic.  The examples use
//! the names of the example knowledge base (examples/libya.dq) so they can be typed as-is.

/// Topics with a one-line description, in the order `.help` lists them.
pub const TOPICS: &[(&str, &str)] = &[
    ("facts", "adding and removing facts"),
    (
        "queries",
        "find: patterns, filters, negation, aggregates, ordering",
    ),
    ("dates", "dates with a precision, ranges, comparisons"),
    ("rules", "deriving facts, recursion"),
    ("schema", "types, subtypes, predicates and kinds; check"),
    ("sources", "where facts come from, and asking about it"),
    ("commands", "the dot-commands of this shell"),
    ("keys", "editing keys: Tab, history, Ctrl-C, Ctrl-D"),
];

const TOUR: &str = r#"dossier keeps facts about who met whom, where, when, and what they agreed.

A fact is  subject predicate object.  Statements end with a '.', and may span lines.

  sarraj a Person; label "Fayez al-Sarraj"; leads gna.   add facts (';' repeats the subject)
  gna backed_by turkey, qatar.                           (',' repeats subject and predicate)

A query finds the values of ?variables that make its patterns true:

  find ?who where ?who backed_by turkey.
  find ?m ?d where ?m a Meeting; date ?d, ?d in 2020 order by ?d.
  find ?backer count(?client) as n where ?client backed_by ?backer order by n desc.
  describe haftar_forces.            every fact about it, with sources
  search "haftar".                   names and labels containing the text

Start exploring:  .schema lists the types and predicates, .stats what is stored;
press Tab to complete keywords, predicates, entity names and ?variables.
.load --dry examples/queries.dq runs a tour of annotated queries and keeps nothing it
writes (open the file to copy them).

More help:  .help TOPIC, with TOPIC one of:"#;

const FACTS: &str = r#"Facts: subject predicate object.

  haftar a Person; label "Khalifa Haftar"; commands haftar_forces.
  add haftar backed_by egypt, uae, russia.        'add' is optional
  gna backed_by turkey from aa_2020_09_28.        with a source (.help sources)

Names are bare (haftar, acled:ev-1123) or in angle brackets (<5+5 military commission>).
Values: "strings", 42, 0.75, true, dates (2020-09-28, 2020-09, @2020).
Adding a fact twice changes nothing.  A statement is atomic: all its facts or none.

  del haftar backed_by russia.                    remove a fact (from every source)
  del haftar backed_by _.                         '_' matches anything
  drop source aa_2020_09_28.                      every fact that source asserted"#;

const QUERIES: &str = r#"Queries: find VARIABLES where PATTERNS [having ...] [order by ...] [limit N] [offset N].

  find ?who where ?who backed_by turkey.
  find * where hurghada_talks ?p ?o.                     '*': every variable
  find ?m ?d where ?m a Meeting; venue hurghada; date ?d.   ';' repeats the subject
  find ?x where { ?x backed_by egypt } or { ?x backed_by turkey }.
  find ?g where ?g a ArmedGroup, not { ?e a Talks; party ?g }.
  find ?x ?a where ?x a Actor, optional { ?x alias ?a }.
  find ?x ?l where ?x label ?l, contains(?l, "Haftar").
  find ?a ?b count(?e) as n where ?e party ?a, ?e party ?b, ?a < ?b having n >= 2.

Filters: = != < <= > >=, in, overlaps.  Functions: contains starts_with matches lower
len year month label.  Aggregates: count(?v) count(distinct ?v) count() min max sum avg.
Results are sets.  'explain find ...' shows the plan; 'explain analyze find ...' runs it too.
A $name stands for a value given with --param name=value on the command line."#;

const DATES: &str = r#"Dates carry their precision: 2020-09-28 (a day), 2020-09 (a month), @2020 (a year;
a bare 2020 is an integer).  A date is the interval it covers.

  find ?m where ?m date ?d, ?d in 2020.                  inside 2020
  find ?m where ?m date ?d, ?d in 2019-04..2020-06.      inside a range (ends included)
  find ?m where ?m date ?d, ?d overlaps 2020-09.         shares a day with September 2020
  find ?m where ?m date ?d, ?d < 2020-01.                ends before January 2020
  find ?m year(?d) as y where ?m date ?d order by y.

Two dates are '=' only with the same precision: 2020-09 != 2020-09-01."#;

const RULES: &str = r#"Rules derive facts that queries use like stored ones.

  rule ?a allied_with ?b :- ?a backed_by ?s, ?b backed_by ?s, ?a != ?b.
  rule ?x located_within ?z :- ?x located_in ?z.
  rule ?x located_within ?z :- ?x located_in ?y, ?y located_within ?z.
  find ?place where ?place located_within libya.

Rules are stored in the database (.rules lists them); recursion is fine, negation must not
go through a cycle.  'drop rule allied_with.' removes the rules deriving allied_with;
'drop rule a.' removes those deriving types (rule ?x a Leader :- ?x leads ?g.)."#;

const SCHEMA: &str = r#"The schema names types and predicates (.schema shows it).

  type Actor.   type ArmedGroup sub Actor.   type Person sub Actor.
  pred backed_by: Actor -> Actor.
  pred date: Event -> date.                  kinds: string int float bool date

'?x a Actor' also matches every subtype.  Declaring a type again adds the supertypes it
names (type Mediator sub Organisation.) and keeps the others.  A declared kind is enforced: 'x date "soon".'
is refused.  Classes are not enforced on insert (facts arrive in any order);
'check.' (or .check) lists the facts that do not fit."#;

const SOURCES: &str = r#"Every fact may carry the source it came from.

  aa_2020_09_28 a Source; label "Anadolu Agency"; published 2020-09-28.
  gna backed_by turkey from aa_2020_09_28.
  from aa_2020_09_28 {
    gna backed_by turkey, qatar.
  }
  find ?x ?y ?src where ?x backed_by ?y from ?src.     who says so
  drop source aa_2020_09_28.

.sources lists the sources with how many facts each asserts."#;

const COMMANDS: &str = r#"Commands of this shell (a line starting with '.'):

  .help [TOPIC]              this help; .help alone for the tour
  .schema [PATTERN]          types and predicates (those that mention PATTERN);
                             '# no facts use it' marks a predicate nothing uses
  .rules                     stored rules
  .sources                   sources with their number of facts
  .stats [all]               how much is stored, by predicate and class (all: every one)
  .check                     facts that violate the schema; whether the database is whole
  .load FILE                 run a script file (relative paths: from here)
  .load --dry FILE           run it, keeping nothing it writes (facts, rules, schema)
  .backup DIR                write a consistent copy of the database to a new directory
  .graph ENTITY... [OPTIONS] the network around entities, as graph.svg (options as
                             `dossier graph`: --depth N, --follow P, --exclude P,
                             --query 'find ?a ?p ?b …', --format dot, -o FILE)
  .timeline ['QUERY'] [OPTIONS]   dated events on a time axis, as timeline.svg
                             (--from DATE, --to DATE, -o FILE)
  .format table|line|json|jsonl|csv|tsv   how results are printed (line: each row
                             as 'column = value' lines, for values too wide for a table)
  .timer on|off              print each statement's time
  .set [NAME VALUE]          limits of the next statements: timeout SECS,
                             max-memory SIZE (1G), max-rows N, max-statement SIZE
                             (16M); 'off' removes one; .set alone shows them
  .quit                      leave (or Ctrl-D)"#;

const KEYS: &str = r#"Keys:

  Tab          complete a keyword, predicate, entity name, ?variable or command
  Enter        run the statement if it is complete (ends with '.'), else continue it
               on a '...>' line
  Up / Down    history (kept in ~/.dossier_history, or --history FILE)
  Ctrl-R       search the history
  Ctrl-C       at the prompt: clear the line; while a query runs: cancel it
  Ctrl-D       leave"#;

/// The text of `.help [topic]`.
pub fn help(topic: Option<&str>) -> String {
    let page = match topic.map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase()) {
        None => None,
        Some(t) if t.is_empty() => None,
        Some(t) => Some(t),
    };
    match page.as_deref() {
        None => {
            let mut s = TOUR.to_string();
            for (name, what) in TOPICS {
                s.push_str(&format!("\n  {name:<10} {what}"));
            }
            s
        }
        Some("facts" | "fact" | "add" | "del") => FACTS.into(),
        Some("queries" | "query" | "find") => QUERIES.into(),
        Some("dates" | "date") => DATES.into(),
        Some("rules" | "rule") => RULES.into(),
        Some("schema" | "types" | "type" | "pred" | "check") => SCHEMA.into(),
        Some("sources" | "source" | "from") => SOURCES.into(),
        Some("commands" | "command" | "dot") => COMMANDS.into(),
        Some("keys" | "key" | "editing") => KEYS.into(),
        Some(other) => {
            let names: Vec<&str> = TOPICS.iter().map(|(n, _)| *n).collect();
            format!("no help on '{other}'; the topics are: {}", names.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_topic_has_a_page() {
        for (t, _) in TOPICS {
            assert!(!help(Some(t)).starts_with("no help"), "{t}");
        }
        assert!(help(None).contains("queries"));
        assert!(help(Some("nonsense")).starts_with("no help"));
    }

    /// The examples of the help pages are statements the parser accepts.
    #[test]
    fn examples_parse() {
        for (t, _) in TOPICS {
            if *t == "commands" || *t == "keys" {
                continue;
            }
            for line in help(Some(t)).lines() {
                let code = line.trim_start();
                if !line.starts_with("  ") || code.starts_with('.') {
                    continue;
                }
                // The statement is what precedes the explanation (two or more spaces).
                let stmt = code.split("   ").next().unwrap_or("").trim();
                if !stmt.ends_with('.') || stmt.ends_with("{") {
                    continue;
                }
                if stmt.starts_with("type ") && stmt.matches('.').count() > 1 {
                    continue;
                }
                assert!(
                    dossier::lang::parse_script(stmt).is_ok(),
                    "help for {t}: {stmt}"
                );
            }
        }
    }
}
