//! Syntax errors and check diagnostics: the exact message and the 1-based line:column
//! each malformed input reports, and the hints where a fix is known.  Columns count
//! characters, so non-ASCII text before the fault must not shift them.

use dossier::diag::Severity;
use dossier::lang::{check_statement, parse_script};

/// (input, message, line, column) of the first syntax error.
const SYNTAX_ERRORS: &[(&str, &str, usize, usize)] = &[
    (
        "haftar backed_by limit.",
        "expected a term after the predicate, found the keyword 'limit'",
        1,
        18,
    ),
    ("x date 2020-9-28.", "invalid date '2020-9-28'", 1, 8),
    (
        "x date 2020-02-30.",
        "invalid date '2020-02-30': day 30 does not exist in 2020-02 (it has 29 days)",
        1,
        8,
    ),
    (
        "find ?x where ?x backed_by egypt, uae.",
        "'uae' is not a condition",
        1,
        35,
    ),
    ("find ?x where foo(?x).", "unknown function 'foo'", 1, 15),
    (
        "find ?x where contians(?l, \"x\").",
        "unknown function 'contians'",
        1,
        15,
    ),
    ("find ?x where ?x == 3.", "'==' is not an operator", 1, 18),
    ("find ?x where ?x => 3.", "'=>' is not an operator", 1, 18),
    ("find ?x where ?x <> 3.", "'<>' is not an operator", 1, 18),
    (
        "find ?x ?x a Person.",
        "expected 'where' before the query body, found 'a'",
        1,
        12,
    ),
    ("find ?x.", "expected 'where' and the query body", 1, 8),
    (
        "rule ?a p ?b ?a q ?b.",
        "expected ':-' between the rule head and its body",
        1,
        14,
    ),
    (
        "rule ?x n count(?y) :- ?x p ?y.",
        "a rule head cannot contain an aggregate",
        1,
        11,
    ),
    (
        "find ?x where ?x a Person",
        "expected '.' to end the statement",
        1,
        26,
    ),
    ("x p \"abc", "unterminated string", 1, 5),
    ("x p \"a\\qb\".", "unknown escape '\\q' in a string", 1, 7),
    ("x p <http://example.org/a", "unterminated '<…>' name", 1, 5),
    (
        "find * ?x where ?x p o.",
        "'*' cannot be mixed with other columns",
        1,
        6,
    ),
    (
        "Find ?x where ?x a B.",
        "expected a term after the predicate, found the keyword 'where'",
        1,
        9,
    ),
    (
        "pred p:Actor->Actor.",
        "expected ':' or '.' after the predicate name",
        1,
        13,
    ),
    (
        "pred p: A B.",
        "expected '->' between the domain and the range",
        1,
        11,
    ),
    (
        "find ?x where ?x p o limit 5 order by ?x.",
        "expected '.' to end the statement",
        1,
        30,
    ),
    ("x p o", "expected '.' to end the statement", 1, 6),
    (
        "find ?x where ?x p ?d, ?d in 2019..",
        "expected a date after '..'",
        1,
        36,
    ),
    ("x p 18abc.", "'18abc' is neither a number nor a name", 1, 5),
    (
        "find ?x where count(?x) > 2.",
        "the aggregate count(…) cannot be used in a query body",
        1,
        15,
    ),
    (
        "find ?x where contains(?x).",
        "contains takes 2 arguments, found 1",
        1,
        15,
    ),
    (
        "type a.",
        "expected a type name after 'type', found the keyword 'a'",
        1,
        6,
    ),
    ("drop x.", "expected 'source' or 'rule' after 'drop'", 1, 6),
    (
        "find ?x where { ?x p o }.",
        "expected 'or' after a '{ … }' block",
        1,
        25,
    ),
    (
        "haftar a Person.\nlna a ArmedGroup;\n    backed_by egypt uae.",
        "expected '.' to end the statement",
        3,
        21,
    ),
    (
        "# Übersicht — ein Kommentar\nägypten a State.",
        "expected a statement, found 'ägypten'",
        2,
        1,
    ),
    (
        "x label \"Ḫalīfa Ḥaftar\"; date 2020-13.",
        "invalid date '2020-13': month 13 does not exist (01..12)",
        1,
        31,
    ),
    (
        "find ?x where ?x p o, not { ?x q r.",
        "expected '}' to close the block",
        1,
        35,
    ),
    (
        "find ?x where not ?x q r.",
        "expected '{' after 'not'",
        1,
        19,
    ),
    (
        "find ?x where ?x p o order ?x.",
        "expected 'by' after 'order'",
        1,
        28,
    ),
    (
        "find ?x where ?x p o limit ten.",
        "expected a whole number or a $parameter after 'limit'",
        1,
        28,
    ),
    (
        "find ?x where ?x p o limit -1.",
        "expected a whole number or a $parameter after 'limit'",
        1,
        28,
    ),
    (
        "find ?x where .",
        "expected a condition after 'where'",
        1,
        15,
    ),
    (
        "find where ?x p o.",
        "expected what to find: variables, aggregates or '*'",
        1,
        6,
    ),
    (
        "rule ?x p ?y :- .",
        "expected a condition after ':-'",
        1,
        17,
    ),
    (
        "rule ?x p ?y; q ?z :- ?x r ?y.",
        "a rule head is a single triple",
        1,
        13,
    ),
    (
        "from s x p o.",
        "expected '{' after the source of a 'from' block",
        1,
        8,
    ),
    (
        "from s { find ?x where ?x p o. }",
        "only facts can stand in a 'from' block",
        1,
        10,
    ),
    (
        "from s { x p o from t. }",
        "a fact inside a 'from' block cannot name another source",
        1,
        21,
    ),
    (
        "explain x.",
        "expected a query ('find …') after 'explain'",
        1,
        9,
    ),
    (
        "search haftar.",
        "expected a string to search for, found 'haftar'",
        1,
        8,
    ),
    (
        "load other.dq.",
        "expected a file name in quotes, found 'other'",
        1,
        6,
    ),
    (
        "describe .",
        "expected what to describe after 'describe', found '.'",
        1,
        10,
    ),
    ("add .", "expected a fact after 'add', found '.'", 1, 5),
    ("x p o..", "expected a statement, found '.'", 1, 7),
    (
        "x p 99999999999999999999.",
        "the integer 99999999999999999999 is too large",
        1,
        5,
    ),
    ("x p ?.", "expected a variable name after '?'", 1, 5),
    (
        "x p 1.5e.",
        "expected digits after the exponent mark 'e'",
        1,
        5,
    ),
    ("x p @20.", "invalid date '@20'", 1, 5),
    ("x p 20-09-28.", "invalid date '20-09-28'", 1, 5),
    (
        "x p \"\\u{110000}\".",
        "invalid unicode escape in a string",
        1,
        6,
    ),
    (
        "find ?x where ?x p ?d, ?d in 2019.5..2020.",
        "a range runs between two dates",
        1,
        30,
    ),
    (
        "x p 2019..2020.",
        "a date range can only follow 'in' or 'overlaps'",
        1,
        9,
    ),
    (
        "find count(*) where ?x p o.",
        "'*' is not an argument of count(…)",
        1,
        12,
    ),
    ("find min() where ?x p o.", "min() needs an argument", 1, 6),
    (
        "find ?x where ?x p o having.",
        "expected a condition after 'having', found '.'",
        1,
        28,
    ),
    (
        "find ?x where ?x p o order by ?x, .",
        "expected what to order by, found '.'",
        1,
        35,
    ),
    (
        "pred p: A -> .",
        "expected the range (a type, a literal kind or _) after '->', found '.'",
        1,
        14,
    ),
    (
        "type T sub .",
        "expected a type name after 'sub', found '.'",
        1,
        12,
    ),
    (
        "find ?x where ?x p o, ?x != .",
        "expected a value after '!=', found '.'",
        1,
        29,
    ),
    ("x p <>.", "an entity name in '<…>' cannot be empty", 1, 5),
    (
        "find ?x where ?x p o.find",
        "expected what to find: variables, aggregates or '*'",
        1,
        26,
    ),
    (
        "find ?x where ?x p o !~ 3.",
        "expected '.' to end the statement",
        1,
        22,
    ),
    (
        "find ?x where ?x p -x.",
        "expected a number after '-'",
        1,
        20,
    ),
    (
        "x , y.",
        "expected a predicate after the subject, found ','",
        1,
        3,
    ),
    (
        "find ?x where lower(?x, ?y) = \"a\".",
        "lower takes 1 argument, found 2",
        1,
        15,
    ),
    (
        "find ?x where contains(?x ?y).",
        "expected ',' or ')' in the arguments of contains(…)",
        1,
        27,
    ),
    (
        "find ?x\nwhere ?x label ?l,\n      ?l == \"Ḥaftar\".",
        "'==' is not an operator",
        3,
        10,
    ),
    (
        "x label \"résumé\";\n  date 2020-9-28.",
        "invalid date '2020-9-28'",
        2,
        8,
    ),
    (
        "find ?x where ?x a B, { ?x p o } or ?x q r.",
        "expected '{' after 'or'",
        1,
        37,
    ),
    (
        "find ?x where not { }.",
        "a block needs at least one condition",
        1,
        21,
    ),
    (
        "find ?x where ?x p o offset $.",
        "expected a whole number or a $parameter after 'offset'",
        1,
        29,
    ),
    (
        "find ?x as where ?x p o.",
        "expected a column name after 'as', found the keyword 'where'",
        1,
        12,
    ),
    ("find ?x where ?x ! 3.", "'!' is not an operator", 1, 18),
    (
        "select ?x where ?x a B.",
        "unknown statement 'select'",
        1,
        1,
    ),
    (
        "find ?x, ?l where ?x label ?l.",
        "expected 'where' before the query body, found ','",
        1,
        8,
    ),
    (
        "find ?x where ?x p o having n > 2 order by.",
        "expected what to order by, found '.'",
        1,
        43,
    ),
];

#[test]
fn syntax_errors_have_exact_messages_and_places() {
    assert!(SYNTAX_ERRORS.len() >= 40);
    let mut failures = Vec::new();
    for &(text, message, line, column) in SYNTAX_ERRORS {
        match parse_script(text) {
            Ok(s) => failures.push(format!("{text:?}: parsed as {s:?}")),
            Err(d) => {
                let r = d.report(None, text);
                if (r.message.as_str(), r.line, r.column) != (message, line, column) {
                    failures.push(format!(
                        "{text:?}: got {:?} at {}:{}",
                        r.message, r.line, r.column
                    ));
                }
                assert_eq!(r.severity, Severity::Error);
                // The rendered report never panics and shows the caret line.
                assert!(r.to_string().contains('^'));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (input, hint) for the errors whose fix is known.
const HINTS: &[(&str, &str)] = &[
    ("x date 2020-9-28.", "write months and days with two digits: 2020-09-28"),
    ("x date @2020-9.", "write months and days with two digits: @2020-09"),
    ("haftar backed_by limit.", "write <limit> to use it as a name"),
    (
        "find ?x where ?x backed_by egypt, uae.",
        "in a query body ',' separates conditions; to match another object repeat the subject and predicate: ?x backed_by uae",
    ),
    ("find ?x where ?x == 3.", "write = to compare two values: ?x = 5"),
    ("find ?x where ?x => 3.", "write >= for 'greater than or equal'"),
    ("find ?x where ?x =< 3.", "write <= for 'less than or equal'"),
    ("find ?x ?x a Person.", "a query is written: find ?x where ?x a Person."),
    ("rule ?a p ?b ?a q ?b.", "a rule is written: rule ?x p ?z :- ?x q ?y, ?y p ?z."),
    ("find ?x where contians(?l, \"x\").", "did you mean 'contains'? the functions are contains, starts_with, matches, lower, year, month, label, len"),
    ("Find ?x where ?x a B.", "keywords are lowercase: write 'find'"),
    ("x p 18abc.", "a name cannot start with a digit; write <18abc> for such a name"),
    ("find count(*) where ?x p o.", "write count() to count the solutions"),
    ("pred p:Actor->Actor.", "'p:Actor' reads as one name; put a space after ':', e.g. pred backed_by: Actor -> Actor."),
    ("x p o q r.", "use ',' before another object and ';' before another predicate"),
    ("find ?x where ?x p o ?x q r.", "separate the conditions of a query body with ','"),
    ("ägypten a State.", "bare names use ASCII letters, digits, '_', ':' and '-'; write <ägypten> for this name"),
    ("find ?x, ?l where ?x label ?l.", "the columns of the find list are separated by spaces: find ?x ?l where …"),
    ("select ?x where ?x label ?l.", "a query starts with find: find ?x where ?x a Person."),
    ("SELECT * where ?x label ?l.", "a query starts with find: find ?x where ?x a Person."),
];

#[test]
fn known_fixes_come_as_hints() {
    for &(text, hint) in HINTS {
        let d = parse_script(text).expect_err(text);
        assert_eq!(d.hint.as_deref(), Some(hint), "{text}");
    }
}

/// (statement, severity, message, line, column) of the first diagnostic of the checks.
const CHECKS: &[(&str, Severity, &str, usize, usize)] = &[
    (
        "find ?x where ?y a B.",
        Severity::Error,
        "variable ?x in the find list is not bound by the body",
        1,
        6,
    ),
    (
        "find ?x where ?x a B, ?z > 3.",
        Severity::Error,
        "variable ?z used in a condition is not bound by the body",
        1,
        23,
    ),
    (
        "find ?x where ?x a B, not { ?y p ?x }, ?y > 3.",
        Severity::Error,
        "variable ?y used in a condition is not bound by the body",
        1,
        40,
    ),
    (
        "find ?x where ?x a B, contains(?l, \"x\").",
        Severity::Error,
        "variable ?l used in a condition is not bound by the body",
        1,
        32,
    ),
    (
        "find ?x where ?x a B order by ?q.",
        Severity::Error,
        "variable ?q in 'order by' is not bound by the body",
        1,
        31,
    ),
    (
        "find ?x count(?y) as n where ?x p ?y having ?w > 1.",
        Severity::Error,
        "variable ?w in 'having' is not bound by the body",
        1,
        45,
    ),
    (
        "rule ?x p ?z :- ?x q ?y.",
        Severity::Error,
        "variable ?z in the rule head is not bound by the body",
        1,
        11,
    ),
    (
        "rule ?x p ?z :- ?x q ?y, not { ?y r ?z }.",
        Severity::Error,
        "variable ?z in the rule head is not bound by the body",
        1,
        11,
    ),
    (
        "haftar backed_by ?x.",
        Severity::Error,
        "a fact cannot contain a variable (?x)",
        1,
        18,
    ),
    (
        "haftar backed_by _.",
        Severity::Error,
        "a fact cannot contain '_'",
        1,
        18,
    ),
    (
        "\"haftar\" p o.",
        Severity::Error,
        "the subject must be an entity, not a string",
        1,
        1,
    ),
    (
        "del ?x backed_by egypt.",
        Severity::Error,
        "del takes constants, $parameters or '_', not variables (?x)",
        1,
        5,
    ),
    (
        "find ?x where ?x a B having ?x > 2.",
        Severity::Error,
        "'having' needs an aggregate in the find list",
        1,
        29,
    ),
    (
        "find ?x count(?y) as n where ?x p ?y order by m.",
        Severity::Error,
        "'m' is not a column name of the find list",
        1,
        47,
    ),
    (
        "find ?x count(?y) as n where ?x p ?y having m > 2.",
        Severity::Error,
        "'m' is not a column name of the find list",
        1,
        45,
    ),
    (
        "find ?x count(count(?y)) where ?x p ?y.",
        Severity::Error,
        "an aggregate cannot be nested inside another aggregate",
        1,
        15,
    ),
    (
        "find ?x year(max(?d)) where ?x p ?d.",
        Severity::Error,
        "an aggregate cannot be used inside a function call",
        1,
        14,
    ),
    (
        "find ?x count(?y) as n count(?z) as n where ?x p ?y; q ?z.",
        Severity::Error,
        "the column name 'n' is used twice",
        1,
        37,
    ),
    (
        "rule ?x ?p ?y :- ?x ?p ?y.",
        Severity::Error,
        "the predicate of a rule head must be a name, not ?p",
        1,
        9,
    ),
    (
        "rule ?x p _ :- ?x q ?y.",
        Severity::Error,
        "a rule head cannot contain '_'",
        1,
        11,
    ),
    (
        "rule ?x p ?y :- ?x q ?y, ?y != $v.",
        Severity::Error,
        "a rule cannot use the parameter $v",
        1,
        32,
    ),
    (
        "type A sub A.",
        Severity::Error,
        "type 'A' cannot be its own supertype",
        1,
        12,
    ),
    (
        "find ?x where ?x p ?l, lower(?l).",
        Severity::Warning,
        "lower(…) gives a value, not a condition",
        1,
        24,
    ),
    (
        "find ?x count(?l) as n where ?x p ?l having lower(?x).",
        Severity::Warning,
        "lower(…) gives a value, not a condition",
        1,
        45,
    ),
    (
        "find ?x where ?x label ?l, matches(?l, \"(unclosed\").",
        Severity::Error,
        "\"(unclosed\" is not a valid regular expression: unclosed group",
        1,
        40,
    ),
    (
        "find ?x where ?x p ?d, ?d in 2021..2020.",
        Severity::Warning,
        "the range @2021..@2020 is empty: it ends before it starts",
        1,
        30,
    ),
];

#[test]
fn checks_report_exact_messages_and_places() {
    let mut failures = Vec::new();
    for &(text, severity, message, line, column) in CHECKS {
        let script =
            parse_script(text).unwrap_or_else(|d| panic!("{text}: {}", d.report(None, text)));
        let diags: Vec<_> = script.statements.iter().flat_map(check_statement).collect();
        match diags.first() {
            None => failures.push(format!("{text:?}: no diagnostic")),
            Some(d) => {
                let r = d.report(None, text);
                if (r.severity, r.message.as_str(), r.line, r.column)
                    != (severity, message, line, column)
                {
                    failures.push(format!(
                        "{text:?}: got {:?} {:?} at {}:{}",
                        r.severity, r.message, r.line, r.column
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Bodies that bind correctly produce no diagnostic at all.
#[test]
fn well_bound_queries_are_clean() {
    for text in [
        "find ?x ?l where ?x a Actor, optional { ?x label ?l }, ?l != \"\".",
        "find ?x where { ?x p ?y } or { ?x q ?z }, ?y > 2.",
        "find ?g where ?g a B, not { ?e party ?g, ?e date ?d, ?d in 2020 }.",
        "find ?x where ?x a B, not { ?x p ?y, optional { ?y q ?z, ?z > 1 } }.",
        "find ?x year(?d) as y count() as n where ?x date ?d having n > 1 order by y desc, count() asc.",
        "rule ?a allied_with ?b :- ?a backed_by ?s, ?b backed_by ?s, ?a != ?b.",
        "find * where ?x p ?y from ?src.",
        "del haftar backed_by _ from $src.",
        "$s p $o from $src.",
    ] {
        let script = parse_script(text).unwrap_or_else(|d| panic!("{text}: {}", d.report(None, text)));
        let diags: Vec<_> = script.statements.iter().flat_map(check_statement).collect();
        assert!(diags.is_empty(), "{text}: {diags:?}");
    }
}
