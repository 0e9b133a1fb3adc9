//! Property tests of the parser and printer:
//! - random statements print to text that parses back to the same statements;
//! - arbitrary text and random edits of valid scripts never make anything panic;
//! - pathological nesting fails with a clear error instead of overflowing the stack;
//! - a 1 MB script of facts parses (its speed is measured by `examples/parse_speed.rs`).

use dossier::diag::Span;
use dossier::lang::ast::*;
use dossier::lang::{
    check_statement, completeness, parse_script, parse_statement, print_script, print_statement,
    statements,
};
use dossier::model::{days_in_month, Date, Kind, Value};
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

// ---------------------------------------------------------------------------------------
// Strategies: statements as the parser builds them (spans are ignored by equality).
// ---------------------------------------------------------------------------------------

fn node(term: Term) -> TermNode {
    TermNode {
        term,
        span: Span::default(),
    }
}

fn name_node(name: String) -> Name {
    Name {
        name,
        span: Span::default(),
    }
}

fn ident() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,6}"
}

/// Entity names: plain, prefixed, keywords, kind names, and arbitrary text (brackets).
fn entity_name() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[a-z][a-z0-9_]{0,8}",
        2 => "[A-Z][a-zA-Z]{0,6}(:[a-z0-9]{1,4})?(-[0-9]{1,3})?",
        1 => prop::sample::select(vec!["a", "limit", "type", "date", "string", "_", "count", "where", "true", "in", "x y", "5+5 <x>", "a\\b", "?odd", " lead", "=eq", "-1", "é"]).prop_map(str::to_string),
        1 => any::<String>().prop_filter("non-empty", |s| !s.is_empty()),
    ]
    .boxed()
}

fn date() -> impl Strategy<Value = Date> {
    (0i32..=9999, 0u32..=12, 0u32..=31).prop_map(|(y, m, d)| {
        if m == 0 {
            Date::year(y)
        } else if d == 0 {
            Date::month(y, m)
        } else {
            Date::day(y, m, 1 + (d - 1) % days_in_month(y, m as u8) as u32)
        }
        .expect("a valid date")
    })
}

fn literal() -> BoxedStrategy<Value> {
    prop_oneof![
        any::<String>().prop_map(Value::Str),
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("finite", |x| x.is_finite())
            .prop_map(Value::Float),
        any::<bool>().prop_map(Value::Bool),
        date().prop_map(Value::Date),
    ]
    .boxed()
}

fn value() -> BoxedStrategy<Value> {
    prop_oneof![2 => entity_name().prop_map(Value::Entity), 1 => literal()].boxed()
}

fn term() -> BoxedStrategy<Term> {
    prop_oneof![
        3 => ident().prop_map(Term::Var),
        1 => Just(Term::Wildcard),
        1 => ident().prop_map(Term::Param),
        5 => value().prop_map(Term::Value),
    ]
    .boxed()
}

/// Terms that cannot be taken for a column alias (in `having` and `order by`).
fn safe_term() -> BoxedStrategy<Term> {
    prop_oneof![3 => ident().prop_map(Term::Var), 1 => ident().prop_map(Term::Param), 2 => literal().prop_map(Term::Value)].boxed()
}

fn predicate() -> BoxedStrategy<Term> {
    prop_oneof![1 => Just(Term::Value(Value::entity("type"))), 4 => term()].boxed()
}

fn func() -> impl Strategy<Value = Func> {
    prop::sample::select(Func::ALL.to_vec())
}

/// A function call whose arguments come from `arg`.
fn call(arg: BoxedStrategy<Expr>) -> BoxedStrategy<Expr> {
    func()
        .prop_flat_map(move |f| {
            prop::collection::vec(arg.clone(), f.arity()).prop_map(move |args| Expr::Call {
                func: f,
                args,
                span: Span::default(),
            })
        })
        .boxed()
}

/// Operands built from `leaf`, with calls nested up to two levels.
fn operand(leaf: BoxedStrategy<Expr>) -> BoxedStrategy<Expr> {
    leaf.prop_recursive(2, 8, 2, call).boxed()
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    prop::sample::select(vec![
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::In,
        CmpOp::Overlaps,
    ])
}

fn range() -> BoxedStrategy<Expr> {
    (date(), date())
        .prop_map(|(from, to)| Expr::Range {
            from,
            to,
            span: Span::default(),
        })
        .boxed()
}

/// A condition: `left op right` (a range may follow `in`/`overlaps`) or a call.
fn condition(leaf: BoxedStrategy<Expr>) -> BoxedStrategy<Expr> {
    let ops = operand(leaf.clone());
    let right = prop_oneof![4 => ops.clone(), 1 => range()];
    prop_oneof![
        3 => (ops.clone(), cmp_op(), right).prop_map(|(l, op, r)| {
            let r = match r {
                Expr::Range { .. } if !matches!(op, CmpOp::In | CmpOp::Overlaps) => Expr::Term(node(Term::Var("r".into()))),
                r => r,
            };
            Expr::Cmp { op, left: Box::new(l), right: Box::new(r), span: Span::default() }
        }),
        1 => call(ops),
    ]
    .boxed()
}

fn body_leaf() -> BoxedStrategy<Expr> {
    term().prop_map(|t| Expr::Term(node(t))).boxed()
}

fn pattern(with_source: bool) -> BoxedStrategy<TriplePattern> {
    let source = if with_source {
        prop::option::of(term()).boxed()
    } else {
        Just(None).boxed()
    };
    (term(), predicate(), term(), source)
        .prop_map(|(s, p, o, src)| TriplePattern {
            subject: node(s),
            predicate: node(p),
            object: node(o),
            source: src.map(node),
            span: Span::default(),
        })
        .boxed()
}

fn body() -> BoxedStrategy<Body> {
    let leaf = prop_oneof![
        4 => pattern(true).prop_map(Conjunct::Pattern),
        2 => condition(body_leaf()).prop_map(Conjunct::Filter),
    ];
    let conjunct = leaf.prop_recursive(3, 24, 4, |inner| {
        let b = prop::collection::vec(inner, 1..4).prop_map(|items| Body {
            items,
            span: Span::default(),
        });
        prop_oneof![
            b.clone().prop_map(Conjunct::Not),
            b.clone().prop_map(Conjunct::Optional),
            prop::collection::vec(b, 2..4).prop_map(Conjunct::Or),
        ]
    });
    prop::collection::vec(conjunct, 1..5)
        .prop_map(|items| Body {
            items,
            span: Span::default(),
        })
        .boxed()
}

fn agg_func() -> impl Strategy<Value = AggFunc> {
    prop::sample::select(vec![
        AggFunc::Count,
        AggFunc::Min,
        AggFunc::Max,
        AggFunc::Sum,
        AggFunc::Avg,
    ])
}

fn aggregate(arg: BoxedStrategy<Expr>) -> BoxedStrategy<Aggregate> {
    (agg_func(), any::<bool>(), prop::option::of(arg))
        .prop_map(|(func, distinct, arg)| match arg {
            Some(a) => Aggregate {
                func,
                distinct,
                arg: Some(a),
                span: Span::default(),
            },
            None => Aggregate {
                func: AggFunc::Count,
                distinct: false,
                arg: None,
                span: Span::default(),
            },
        })
        .boxed()
}

fn var_expr() -> BoxedStrategy<Expr> {
    ident().prop_map(|v| Expr::Term(node(Term::Var(v)))).boxed()
}

fn projection() -> BoxedStrategy<Projection> {
    let alias = prop::option::of(
        prop::sample::select(vec!["n", "total", "clients", "y", "limit", "x y"])
            .prop_map(|s| name_node(s.to_string())),
    );
    prop_oneof![
        2 => (var_expr(), alias.clone()).prop_map(|(expr, alias)| Projection::Expr { expr, alias }),
        1 => (call(var_expr()), alias.clone()).prop_map(|(expr, alias)| Projection::Expr { expr, alias }),
        2 => (aggregate(var_expr()), alias).prop_map(|(aggregate, alias)| Projection::Aggregate { aggregate, alias }),
    ]
    .boxed()
}

fn count() -> impl Strategy<Value = Count> {
    prop_oneof![
        any::<u64>().prop_map(Count::Value),
        ident().prop_map(Count::Param)
    ]
}

fn find() -> BoxedStrategy<Find> {
    (
        any::<bool>(),
        prop::collection::vec(projection(), 0..4),
        body(),
    )
        .prop_flat_map(|(distinct, projection, body)| {
            let aliases: Vec<String> = projection
                .iter()
                .filter_map(|p| p.alias().map(|a| a.name.clone()))
                .collect();
            let mut leaves = vec![safe_term().prop_map(|t| Expr::Term(node(t))).boxed()];
            leaves.push(
                aggregate(var_expr())
                    .prop_map(|a| Expr::Aggregate(Box::new(a)))
                    .boxed(),
            );
            if !aliases.is_empty() {
                leaves.push(
                    prop::sample::select(aliases)
                        .prop_map(|a| Expr::Alias(name_node(a)))
                        .boxed(),
                );
            }
            let leaf = prop::strategy::Union::new(leaves).boxed();
            let key = (
                operand(leaf.clone()),
                prop_oneof![Just(None), Just(Some(Order::Asc)), Just(Some(Order::Desc))],
            )
                .prop_map(|(expr, o)| OrderKey {
                    expr,
                    order: o.unwrap_or(Order::Asc),
                    explicit: o.is_some(),
                });
            (
                Just((distinct, projection, body)),
                prop::collection::vec(condition(leaf), 0..3),
                prop::collection::vec(key, 0..3),
                prop::option::of(count()),
                prop::option::of(count()),
            )
        })
        .prop_map(
            |((distinct, projection, body), having, order_by, limit, offset)| Find {
                distinct,
                projection,
                body,
                having,
                order_by,
                limit,
                offset,
                span: Span::default(),
            },
        )
        .boxed()
}

/// The triples of one fact statement: one subject, predicates with objects.
fn fact_triples() -> BoxedStrategy<Vec<TriplePattern>> {
    (
        term(),
        prop::collection::vec((predicate(), prop::collection::vec(term(), 1..3)), 1..4),
    )
        .prop_map(|(s, pos)| {
            let mut out = Vec::new();
            for (p, objects) in pos {
                for o in objects {
                    out.push(TriplePattern {
                        subject: node(s.clone()),
                        predicate: node(p.clone()),
                        object: node(o),
                        source: None,
                        span: Span::default(),
                    });
                }
            }
            out
        })
        .boxed()
}

fn facts(source: bool) -> BoxedStrategy<StatementKind> {
    let src = if source {
        prop::option::of(term().prop_map(node)).boxed()
    } else {
        Just(None).boxed()
    };
    (any::<bool>(), fact_triples(), src)
        .prop_map(|(add_keyword, triples, source)| StatementKind::Facts {
            add_keyword,
            triples,
            source,
        })
        .boxed()
}

fn stmt(kind: StatementKind) -> Statement {
    Statement {
        kind,
        span: Span::default(),
    }
}

fn type_ref(range: bool) -> BoxedStrategy<TypeRef> {
    let kinds = if range {
        vec![Kind::Int, Kind::Float, Kind::Date, Kind::Str, Kind::Bool]
    } else {
        vec![]
    };
    let mut options = vec![
        Just(TypeRef::Any {
            span: Span::default(),
        })
        .boxed(),
        entity_name()
            .prop_map(|n| TypeRef::Class(name_node(n)))
            .boxed(),
    ];
    if range {
        options.push(
            prop::sample::select(kinds)
                .prop_map(|kind| TypeRef::Kind {
                    kind,
                    span: Span::default(),
                })
                .boxed(),
        );
    }
    prop::strategy::Union::new(options).boxed()
}

fn statement() -> BoxedStrategy<Statement> {
    prop_oneof![
        4 => facts(true),
        1 => (term(), prop::collection::vec(facts(false).prop_map(stmt), 0..3))
            .prop_map(|(s, statements)| StatementKind::FromBlock { source: node(s), statements }),
        1 => (fact_triples(), prop::option::of(term().prop_map(node))).prop_map(|(triples, source)| StatementKind::Del { triples, source }),
        1 => term().prop_map(|t| StatementKind::DropSource(node(t))),
        1 => entity_name().prop_map(|n| StatementKind::DropRule(name_node(n))),
        4 => find().prop_map(StatementKind::Find),
        2 => (term(), predicate(), term(), body()).prop_map(|(s, p, o, body)| StatementKind::Rule(Rule {
            head: TriplePattern { subject: node(s), predicate: node(p), object: node(o), source: None, span: Span::default() },
            body,
            span: Span::default(),
        })),
        1 => (entity_name(), prop::collection::vec(entity_name(), 0..3))
            .prop_map(|(n, sups)| StatementKind::TypeDecl { name: name_node(n), supertypes: sups.into_iter().map(name_node).collect() }),
        1 => (entity_name(), prop::option::of((type_ref(false), type_ref(true)))).prop_map(|(n, dr)| match dr {
            Some((d, r)) => StatementKind::PredDecl { name: name_node(n), domain: Some(d), range: Some(r) },
            None => StatementKind::PredDecl { name: name_node(n), domain: None, range: None },
        }),
        1 => term().prop_map(|t| StatementKind::Describe(node(t))),
        1 => any::<String>().prop_map(|text| StatementKind::Search { text, span: Span::default() }),
        1 => any::<String>().prop_map(|path| StatementKind::Load { path, span: Span::default() }),
        1 => Just(StatementKind::Check),
        1 => (any::<bool>(), find()).prop_map(|(analyze, find)| StatementKind::Explain { analyze, find }),
    ]
    .prop_map(stmt)
    .boxed()
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

/// Valid scripts to mutate: the contract's examples and a few more.
const SEEDS: &[&str] = &[
    "haftar a Person; label \"Khalifa Haftar\"; commands lna.\nlna a ArmedGroup; backed_by egypt, uae, russia.",
    "from aa_2020_09_28 {\n  gna backed_by turkey, qatar.\n  sirte controlled_by lna.\n}\ndel haftar backed_by _.",
    "find ?m ?d where ?m a Meeting; date ?d, ?d in 2020 order by ?d desc limit 5.",
    "find ?backer count(?client) as clients where ?client backed_by ?backer order by clients desc.",
    "find ?g where ?g a ArmedGroup, not { ?e a Talks; party ?g }, { ?g p 1 } or { ?g q 2.5 }.",
    "find ?x ?l where ?x label ?l, contains(?l, \"Haftar\"), ?d in 2019-04..2020-06 having count() > 1.",
    "rule ?a allied_with ?b :- ?a backed_by ?s, ?b backed_by ?s, ?a != ?b.\ntype State sub Actor.\npred date: Event -> date.",
    "x <http://e.org/a> \"é\\u{1F600}\"; at @2020-09. # comment\nexplain analyze find * where ?x p $v.",
];

/// Everything the front end offers on a text; none of it may panic.
fn exercise(text: &str) {
    let _ = completeness(text);
    for s in statements(text).take(10_000).flatten() {
        let _ = check_statement(&s);
        let printed = print_statement(&s);
        // What parsed prints to something that parses the same.
        match parse_statement(&printed) {
            Ok(again) => assert_eq!(s, again, "{printed}"),
            Err(d) => panic!(
                "printed form does not parse: {}\n{printed}",
                d.report(None, &printed)
            ),
        }
    }
    if let Err(d) = parse_script(text) {
        let r = d.report(Some("f.dq"), text);
        let _ = r.to_string();
        assert!(
            d.span.start <= text.len() && d.span.end <= text.len(),
            "span {:?} outside the text",
            d.span
        );
        assert!(!r.message.is_empty());
    }
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, String),
    Delete(usize, usize),
    Replace(usize, String),
}

fn edit() -> impl Strategy<Value = Edit> {
    let piece = prop_oneof![
        prop::sample::select(vec![
            ".", ",", ";", "{", "}", "(", ")", "\"", "<", ">", "?", "$", "_", "#", "\\", "..",
            ":-", "->", "@", "-", "0", "9", " ", "\n", "é", "not", "or", "find", "where", "a",
            "2020-", "e"
        ])
        .prop_map(str::to_string),
        any::<char>().prop_map(String::from),
    ];
    prop_oneof![
        (any::<usize>(), piece.clone()).prop_map(|(k, s)| Edit::Insert(k, s)),
        (any::<usize>(), 1usize..6).prop_map(|(k, n)| Edit::Delete(k, n)),
        (any::<usize>(), piece).prop_map(|(k, s)| Edit::Replace(k, s)),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let len = chars.len();
        match e {
            Edit::Insert(k, s) => {
                let at = k % (len + 1);
                chars.splice(at..at, s.chars());
            }
            Edit::Delete(k, n) if len > 0 => {
                let at = k % len;
                let end = (at + n).min(len);
                chars.drain(at..end);
            }
            Edit::Replace(k, s) if len > 0 => {
                let at = k % len;
                chars.splice(at..at + 1, s.chars());
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn printed_statements_parse_back(stmts in prop::collection::vec(statement(), 1..4)) {
        let script = Script { statements: stmts };
        let text = print_script(&script);
        let parsed = parse_script(&text).map_err(|d| TestCaseError::fail(format!("{}\n{text}", d.report(None, &text))))?;
        prop_assert_eq!(&parsed, &script, "{}", text);
        // Printing is stable.
        prop_assert_eq!(print_script(&parsed), text);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        exercise(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn arbitrary_text_never_panics(text in "[ -~\n\té<>{}()\\[\\]]{0,200}") {
        exercise(&text);
    }

    #[test]
    fn edited_scripts_never_panic(seed in prop::sample::select(SEEDS.to_vec()), edits in prop::collection::vec(edit(), 1..6)) {
        exercise(&apply(seed, &edits));
    }
}

#[test]
fn seeds_are_valid() {
    for s in SEEDS {
        let script = parse_script(s).unwrap_or_else(|d| panic!("{}\n{s}", d.report(None, s)));
        assert!(!script.statements.is_empty());
    }
}

/// 10 000 levels of anything nestable: a clear error, no stack overflow.
#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let n = 10_000;
    let cases = [
        format!("find ?x where {}", "{ ".repeat(n)),
        format!(
            "find ?x where {}?x p o{}.",
            "not { ".repeat(n),
            " }".repeat(n)
        ),
        format!(
            "find ?x where {}?x p o{}.",
            "optional { ".repeat(n),
            " }".repeat(n)
        ),
        format!(
            "find ?x where ?x p ?l, {}?l{} = 1.",
            "lower(".repeat(n),
            ")".repeat(n)
        ),
        format!(
            "find {}?x{} where ?x p o.",
            "count(".repeat(n),
            ")".repeat(n)
        ),
        format!("find ?x where ?x p o, {}", "(".repeat(n)),
        "{".repeat(n),
        "(".repeat(n),
        format!("from s {}", "{ ".repeat(n)),
    ];
    for text in &cases {
        let d = parse_script(text).expect_err("nesting that deep is refused");
        assert!(!d.message.is_empty());
        exercise(text);
    }
    let d = parse_script(&cases[1]).expect_err("too deep");
    assert_eq!(d.message, "nesting is too deep (more than 40 levels)");
    // 40 levels are fine.
    let ok = format!(
        "find ?x where ?x p o, {}?x q r{}.",
        "not { ".repeat(39),
        " }".repeat(39)
    );
    parse_script(&ok).expect("39 nested blocks parse");
}

/// A 1 MB script of facts parses (and back again).
#[test]
fn one_megabyte_of_facts_parses() {
    let text = fact_script(1 << 20);
    let script = parse_script(&text).expect("the fact script parses");
    assert!(script.statements.len() > 5_000);
    assert_eq!(statements(&text).count(), script.statements.len());
}

/// About `bytes` of varied fact statements.
fn fact_script(bytes: usize) -> String {
    let mut s = String::with_capacity(bytes + 200);
    let mut k = 0u64;
    while s.len() < bytes {
        s.push_str(&format!(
            "ev{k} a Meeting; venue city{}; date 2020-{:02}-{:02}; party actor{}, actor{}; seats {}; label \"Meeting number {k}\". # note\n",
            k % 97,
            1 + k % 12,
            1 + k % 28,
            k % 13,
            k % 17,
            k % 50
        ));
        k += 1;
    }
    s
}

/// Shows a few generated statements: `cargo test --test roundtrip -- --ignored --nocapture`.
#[test]
#[ignore]
fn show_generated_statements() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    for _ in 0..12 {
        let s = statement()
            .new_tree(&mut runner)
            .expect("a value")
            .current();
        println!("{}", print_statement(&s));
    }
}
