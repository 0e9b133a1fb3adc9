//! The optimised engine against a reference evaluator, on random data and random queries.
//!
//! The reference knows nothing of indexes, plans, hash joins, pushed-down ranges or magic
//! sets: it evaluates the parsed query by nested loops over a plain list of facts, in the
//! order the text is written.  Both must give the same set of rows (the same list, when
//! the query orders every column).

use dossier::lang::ast::{
    self, AggFunc, CmpOp, Conjunct, Expr, Func, Projection, StatementKind, Term,
};
use dossier::model::{Date, Value};
use dossier::{Db, Outcome};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::collections::{BTreeMap, BTreeSet};

// ---------------------------------------------------------------------------------------
// Random data and queries, as text.

const ENTITIES: [&str; 6] = ["e0", "e1", "e2", "e3", "e4", "e5"];
const PREDS: [&str; 3] = ["p0", "p1", "p2"];
const TYPES: [&str; 3] = ["T0", "T1", "T2"];
const SCHEMA: &str = "type T0. type T1 sub T0. type T2 sub T1.";

/// Literals, with numbers the language's `=` equates in different forms (`1`, `1.0`;
/// `0`, `0.0`, `-0.0`; `2020` and `@2020`).
const LITERALS: [&str; 18] = [
    "1",
    "2",
    "-1",
    "2020-03-15",
    "2020-03",
    "@2020",
    "2021-01-02",
    "\"s0\"",
    "\"e1 x\"",
    "true",
    "0.5",
    "3",
    "1.0",
    "0",
    "0.0",
    "-0.0",
    "2020",
    "2.0",
];

fn literal(i: u8) -> &'static str {
    LITERALS[i as usize % LITERALS.len()]
}

fn arb_fact() -> impl Strategy<Value = String> {
    (0..6usize, 0..4usize, 0..32u8, 0..5u8).prop_map(|(s, p, o, g)| {
        let subject = ENTITIES[s];
        let (pred, object) = if p == 3 {
            ("a", TYPES[o as usize % 3].to_string())
        } else if o < 14 {
            (PREDS[p], ENTITIES[o as usize % 6].to_string())
        } else {
            (PREDS[p], literal(o).to_string())
        };
        let src = match g {
            0 => " from src0",
            1 => " from src1",
            _ => "",
        };
        format!("{subject} {pred} {object}{src}.")
    })
}

const VARS: [&str; 4] = ["?a", "?b", "?c", "?d"];

#[derive(Debug, Clone)]
struct Gen {
    seed: Vec<u8>,
    pos: usize,
}

impl Gen {
    fn pick(&mut self, n: usize) -> usize {
        let b = self.seed.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b as usize % n.max(1)
    }

    fn pattern(&mut self, bound: &[&'static str]) -> (String, Vec<&'static str>) {
        let mut vars = Vec::new();
        let term = |g: &mut Gen, allow_wild: bool, vars: &mut Vec<&'static str>| -> String {
            match g.pick(10) {
                0..=5 => {
                    // Prefer variables already bound, to make joins.
                    let v = if !bound.is_empty() && g.pick(2) == 0 {
                        bound[g.pick(bound.len())]
                    } else {
                        VARS[g.pick(4)]
                    };
                    vars.push(v);
                    v.to_string()
                }
                6 if allow_wild => "_".to_string(),
                _ => ENTITIES[g.pick(6)].to_string(),
            }
        };
        let s = term(self, true, &mut vars);
        let p = match self.pick(12) {
            0 => {
                let v = VARS[self.pick(4)];
                vars.push(v);
                v.to_string()
            }
            1 | 2 => "a".to_string(),
            n => PREDS[n % 3].to_string(),
        };
        let o = if p == "a" && self.pick(2) == 0 {
            TYPES[self.pick(3)].to_string()
        } else if self.pick(4) == 0 {
            literal(self.pick(LITERALS.len()) as u8).to_string()
        } else {
            term(self, true, &mut vars)
        };
        let from = match self.pick(10) {
            0 => {
                let v = VARS[self.pick(4)];
                vars.push(v);
                format!(" from {v}")
            }
            1 => " from src0".to_string(),
            _ => String::new(),
        };
        (format!("{s} {p} {o}{from}"), vars)
    }

    fn filter(&mut self, bound: &[&'static str]) -> String {
        let v = bound[self.pick(bound.len())];
        let w = bound[self.pick(bound.len())];
        match self.pick(8) {
            0 => format!("{v} != {w}"),
            1 => format!("{v} = {w}"),
            2 => format!("{v} < 2"),
            3 => format!("{v} >= 1"),
            4 => format!("{v} in 2020"),
            5 => format!("{v} overlaps 2020-03"),
            6 => format!("contains({v}, \"1\")"),
            _ => format!("{v} < {w}"),
        }
    }

    fn query(&mut self) -> Option<String> {
        let mut items = Vec::new();
        let mut bound: Vec<&'static str> = Vec::new();
        for _ in 0..1 + self.pick(3) {
            let (p, vars) = self.pattern(&bound);
            items.push(p);
            for v in vars {
                if !bound.contains(&v) {
                    bound.push(v);
                }
            }
        }
        if self.pick(6) == 0 {
            let (p1, v1) = self.pattern(&bound);
            let (p2, v2) = self.pattern(&bound);
            items.push(format!("{{ {p1} }} or {{ {p2} }}"));
            for v in v1.into_iter().chain(v2) {
                if !bound.contains(&v) {
                    bound.push(v);
                }
            }
        }
        if bound.is_empty() {
            return None;
        }
        let positive = bound.clone();
        if self.pick(5) == 0 {
            let (p, vars) = self.pattern(&positive);
            items.push(format!("optional {{ {p} }}"));
            for v in vars {
                if !bound.contains(&v) {
                    bound.push(v);
                }
            }
        }
        if self.pick(5) == 0 {
            let (p, _) = self.pattern(&positive);
            items.push(format!("not {{ {p} }}"));
        }
        for _ in 0..self.pick(3) {
            items.push(self.filter(&positive));
        }
        // Put the items in a random order: the answer must not depend on it.
        let mut ordered = Vec::new();
        while !items.is_empty() {
            let i = self.pick(items.len());
            ordered.push(items.remove(i));
        }
        let body = ordered.join(", ");
        let (cols, order) = match self.pick(5) {
            0 => {
                let agg = match self.pick(5) {
                    0 => "count()".to_string(),
                    1 => format!("count({})", bound[self.pick(bound.len())]),
                    2 => format!("count(distinct {})", bound[self.pick(bound.len())]),
                    3 => format!("min({})", bound[self.pick(bound.len())]),
                    _ => format!("max({})", bound[self.pick(bound.len())]),
                };
                let group = if self.pick(2) == 0 {
                    format!("{} ", positive[self.pick(positive.len())])
                } else {
                    String::new()
                };
                (format!("{group}{agg} as n"), String::new())
            }
            1 => ("*".to_string(), String::new()),
            _ => {
                let mut cols: Vec<&str> = Vec::new();
                for _ in 0..1 + self.pick(3) {
                    let v = bound[self.pick(bound.len())];
                    if !cols.contains(&v) {
                        cols.push(v);
                    }
                }
                let order = if self.pick(3) == 0 {
                    let keys: Vec<String> = cols
                        .iter()
                        .map(|c| {
                            if self.pick(2) == 0 {
                                format!("{c} desc")
                            } else {
                                c.to_string()
                            }
                        })
                        .collect();
                    format!(
                        " order by {} limit {} offset {}",
                        keys.join(", "),
                        1 + self.pick(4),
                        self.pick(2)
                    )
                } else {
                    String::new()
                };
                (cols.join(" "), order)
            }
        };
        Some(format!("find {cols} where {body}{order}."))
    }
}

// ---------------------------------------------------------------------------------------
// The reference evaluator.

#[derive(Clone, Debug)]
struct Fact {
    s: String,
    p: String,
    o: Value,
    g: Option<String>,
}

type Binding = BTreeMap<String, Value>;

struct Reference {
    facts: Vec<Fact>,
    /// Each type with itself and its supertypes.
    supers: BTreeMap<String, Vec<String>>,
}

impl Reference {
    fn new(facts: Vec<Fact>) -> Reference {
        let mut supers = BTreeMap::new();
        supers.insert("T0".to_string(), vec!["T0".to_string()]);
        supers.insert("T1".to_string(), vec!["T1".to_string(), "T0".to_string()]);
        supers.insert(
            "T2".to_string(),
            vec!["T2".to_string(), "T1".to_string(), "T0".to_string()],
        );
        Reference { facts, supers }
    }

    /// Without a schema: each type is only itself.
    fn flat(facts: Vec<Fact>) -> Reference {
        let mut r = Reference::new(facts);
        for (t, supers) in r.supers.iter_mut() {
            *supers = vec![t.clone()];
        }
        r
    }

    /// Every (s, p, o, g) the pattern language can see: stated facts, plus the supertypes
    /// a stated type implies (`x a T2` also means `x a T1`, `x a T0`).
    fn triples(&self) -> Vec<(String, String, Value, Option<String>)> {
        let mut out = BTreeSet::new();
        for f in &self.facts {
            out.insert((f.s.clone(), f.p.clone(), f.o.clone(), f.g.clone()));
            if f.p == "type" {
                if let Value::Entity(t) = &f.o {
                    for u in self.supers.get(t).into_iter().flatten() {
                        out.insert((
                            f.s.clone(),
                            f.p.clone(),
                            Value::entity(u.clone()),
                            f.g.clone(),
                        ));
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// A constant matches what `=` accepts; a variable bound before matches an equal
    /// value (`5` and `5.0`) and keeps the smaller form (the one `order by` puts first).
    fn term_matches(t: &Term, v: &Value, b: &mut Binding) -> bool {
        match t {
            Term::Wildcard => true,
            Term::Value(c) => c.lang_eq(v),
            Term::Var(name) => match b.get(name) {
                Some(x) => {
                    if !same(x, v) {
                        return false;
                    }
                    if v.total_cmp(x).is_lt() {
                        b.insert(name.clone(), v.clone());
                    }
                    true
                }
                None => {
                    b.insert(name.clone(), v.clone());
                    true
                }
            },
            Term::Param(_) => false,
        }
    }

    fn pattern(&self, tp: &ast::TriplePattern, input: &[Binding]) -> Vec<Binding> {
        let all = self.triples();
        let mut out = Vec::new();
        for b in input {
            let mut seen = BTreeSet::new();
            for (s, p, o, g) in &all {
                let mut nb = b.clone();
                if !Self::term_matches(&tp.subject.term, &Value::entity(s.clone()), &mut nb)
                    || !Self::term_matches(&tp.predicate.term, &Value::entity(p.clone()), &mut nb)
                    || !Self::term_matches(&tp.object.term, o, &mut nb)
                {
                    continue;
                }
                match &tp.source {
                    None => {}
                    Some(st) => match (&st.term, g) {
                        (Term::Wildcard, _) => {}
                        (_, None) => continue,
                        (t, Some(g)) => {
                            if !Self::term_matches(t, &Value::entity(g.clone()), &mut nb) {
                                continue;
                            }
                        }
                    },
                }
                if seen.insert(nb.clone()) {
                    out.push(nb);
                }
            }
        }
        out
    }

    fn body(&self, body: &ast::Body, input: Vec<Binding>) -> Vec<Binding> {
        let mut rows = input;
        for c in &body.items {
            match c {
                Conjunct::Pattern(tp) => rows = self.pattern(tp, &rows),
                Conjunct::Or(bs) => {
                    let mut out = Vec::new();
                    for b in bs {
                        out.extend(self.body(b, rows.clone()));
                    }
                    rows = out;
                }
                _ => {}
            }
        }
        for c in &body.items {
            if let Conjunct::Optional(b) = c {
                let mut out = Vec::new();
                for r in rows {
                    let ext = self.body(b, vec![r.clone()]);
                    if ext.is_empty() {
                        out.push(r);
                    } else {
                        out.extend(ext);
                    }
                }
                rows = out;
            }
        }
        for c in &body.items {
            if let Conjunct::Filter(e) = c {
                rows.retain(|r| matches!(eval(e, r), Some(Value::Bool(true))));
            }
        }
        for c in &body.items {
            if let Conjunct::Not(b) = c {
                rows.retain(|r| self.body(b, vec![r.clone()]).is_empty());
            }
        }
        rows
    }
}

/// One value, or numbers `=` equates (the equality of joins, groups and `distinct`).
fn same(a: &Value, b: &Value) -> bool {
    a == b || (is_number(a) && is_number(b) && a.lang_eq(b))
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Int(_) | Value::Float(_))
}

/// The form of a value that stands for everything equal to it: the integer for a whole
/// float, `0` for either zero.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Float(x) if x.fract() == 0.0 && x.abs() < 9.2e18 => Value::Int(*x as i64),
        other => other.clone(),
    }
}

/// Rows (or bindings) once per value under `=`, in first-seen order, each showing per
/// cell the smallest of the equal forms met.
fn distinct_by_value<K: Ord + Clone>(
    items: impl IntoIterator<Item = Vec<(K, Option<Value>)>>,
) -> Vec<Vec<(K, Option<Value>)>> {
    let mut index: BTreeMap<Vec<(K, Option<Value>)>, usize> = BTreeMap::new();
    let mut out: Vec<Vec<(K, Option<Value>)>> = Vec::new();
    for item in items {
        let key: Vec<(K, Option<Value>)> = item
            .iter()
            .map(|(k, v)| (k.clone(), v.as_ref().map(canonical)))
            .collect();
        match index.get(&key) {
            Some(&i) => {
                for (cell, (_, v)) in out[i].iter_mut().zip(item) {
                    if let (Some(shown), Some(v)) = (&cell.1, v) {
                        if v.total_cmp(shown).is_lt() {
                            cell.1 = Some(v);
                        }
                    }
                }
            }
            None => {
                index.insert(key, out.len());
                out.push(item);
            }
        }
    }
    out
}

fn interval(v: &Value) -> Option<(i32, i32)> {
    v.as_date_range().map(|r| (r.start, r.end))
}

fn eval(e: &Expr, b: &Binding) -> Option<Value> {
    match e {
        Expr::Term(t) => match &t.term {
            Term::Var(v) => b.get(v).cloned(),
            Term::Value(v) => Some(v.clone()),
            _ => None,
        },
        Expr::Range { from, to, .. } => Some(Value::string(format!("{from}..{to}"))),
        Expr::Call {
            func: Func::Contains,
            args,
            ..
        } => {
            let a = eval(&args[0], b)?;
            let t = eval(&args[1], b)?;
            Some(Value::Bool(
                a.text().zip(t.text()).is_some_and(|(a, t)| a.contains(t)),
            ))
        }
        Expr::Call { .. } => None,
        Expr::Cmp {
            op, left, right, ..
        } => {
            let (Some(x), Some(y)) = (eval(left, b), eval(right, b)) else {
                return Some(Value::Bool(false));
            };
            let dates = matches!(x, Value::Date(_)) || matches!(y, Value::Date(_));
            let r = match op {
                CmpOp::Eq => x.lang_eq(&y),
                CmpOp::Ne => !x.lang_eq(&y),
                CmpOp::In | CmpOp::Overlaps => match (interval(&x), interval(&y)) {
                    (Some(a), Some(c)) => {
                        if *op == CmpOp::In {
                            a.0 >= c.0 && a.1 <= c.1
                        } else {
                            a.0 <= c.1 && c.0 <= a.1
                        }
                    }
                    _ => false,
                },
                _ if dates => match (interval(&x), interval(&y)) {
                    (Some(a), Some(c)) => match op {
                        CmpOp::Lt => a.1 < c.0,
                        CmpOp::Le => a.1 < c.0 || x.lang_eq(&y),
                        CmpOp::Gt => a.0 > c.1,
                        _ => a.0 > c.1 || x.lang_eq(&y),
                    },
                    _ => false,
                },
                _ => match x.lang_cmp(&y) {
                    None => false,
                    Some(o) => match op {
                        CmpOp::Lt => o.is_lt(),
                        CmpOp::Le => o.is_le(),
                        CmpOp::Gt => o.is_gt(),
                        _ => o.is_ge(),
                    },
                },
            };
            Some(Value::Bool(r))
        }
        _ => None,
    }
}

/// The reference's answer as rows of cells.
fn reference_rows(r: &Reference, f: &ast::Find) -> Vec<Vec<Option<Value>>> {
    let sols = r.body(&f.body, vec![Binding::new()]);
    // Solutions are distinct under `=`: every variable (bound in any solution) counts.
    let all_vars: BTreeSet<String> = sols.iter().flat_map(|b| b.keys().cloned()).collect();
    let sols: Vec<Binding> = distinct_by_value(sols.iter().map(|b| {
        all_vars
            .iter()
            .map(|v| (v.clone(), b.get(v).cloned()))
            .collect::<Vec<_>>()
    }))
    .into_iter()
    .map(|cells| {
        cells
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect::<Binding>()
    })
    .collect();
    let var = |p: &Projection| match p {
        Projection::Expr {
            expr: Expr::Term(t),
            ..
        } => match &t.term {
            Term::Var(v) => Some(v.clone()),
            _ => None,
        },
        _ => None,
    };
    let aggregated = f
        .projection
        .iter()
        .any(|p| matches!(p, Projection::Aggregate { .. }));
    if aggregated {
        // Groups by value under `=`, each keyed as shown (the smallest form met).
        let keys: Vec<Vec<(usize, Option<Value>)>> = sols
            .iter()
            .map(|s| {
                f.projection
                    .iter()
                    .filter_map(|p| var(p).map(|v| s.get(&v).cloned()))
                    .enumerate()
                    .collect()
            })
            .collect();
        let shown = distinct_by_value(keys.clone());
        let mut groups: BTreeMap<Vec<Option<Value>>, Vec<&Binding>> = BTreeMap::new();
        for (s, key) in sols.iter().zip(&keys) {
            let canon: Vec<Option<Value>> =
                key.iter().map(|(_, v)| v.as_ref().map(canonical)).collect();
            let display = shown
                .iter()
                .find(|g| {
                    g.iter()
                        .map(|(_, v)| v.as_ref().map(canonical))
                        .eq(canon.iter().cloned())
                })
                .map(|g| g.iter().map(|(_, v)| v.clone()).collect())
                .unwrap_or_default();
            groups.entry(display).or_default().push(s);
        }
        if groups.is_empty()
            && f.projection
                .iter()
                .all(|p| matches!(p, Projection::Aggregate { .. }))
        {
            groups.insert(Vec::new(), Vec::new());
        }
        let mut out = Vec::new();
        for (key, members) in groups {
            let mut key = key.into_iter();
            let mut row = Vec::new();
            for p in &f.projection {
                match p {
                    Projection::Aggregate { aggregate: a, .. } => {
                        let vals: Vec<Value> = match &a.arg {
                            Some(Expr::Term(t)) => match &t.term {
                                Term::Var(v) => {
                                    members.iter().filter_map(|m| m.get(v).cloned()).collect()
                                }
                                _ => Vec::new(),
                            },
                            _ => Vec::new(),
                        };
                        row.push(match a.func {
                            AggFunc::Count if a.arg.is_none() => {
                                Some(Value::Int(members.len() as i64))
                            }
                            AggFunc::Count if a.distinct => Some(Value::Int(
                                vals.iter().map(canonical).collect::<BTreeSet<_>>().len() as i64,
                            )),
                            AggFunc::Count => Some(Value::Int(vals.len() as i64)),
                            AggFunc::Min => vals.iter().min_by(|x, y| x.total_cmp(y)).cloned(),
                            AggFunc::Max => vals.iter().max_by(|x, y| x.total_cmp(y)).cloned(),
                            _ => None,
                        });
                    }
                    _ => row.push(key.next().flatten()),
                }
            }
            out.push(row);
        }
        return out;
    }
    let vars: Vec<String> = if f.projection.is_empty() {
        // `*`: the variables patterns bind (outside `not`), in order of first appearance.
        let mut bound = BTreeSet::new();
        pattern_vars(&f.body, &mut bound);
        let text = dossier::lang::print_body(&f.body);
        let mut seen: Vec<String> = Vec::new();
        for (i, _) in text.match_indices('?') {
            let name: String = text[i + 1..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !seen.contains(&name) && bound.contains(&name) {
                seen.push(name);
            }
        }
        seen
    } else {
        f.projection.iter().filter_map(var).collect()
    };
    let mut rows: Vec<Vec<Option<Value>>> = distinct_by_value(sols.iter().map(|s| {
        vars.iter()
            .enumerate()
            .map(|(i, v)| (i, s.get(v).cloned()))
            .collect::<Vec<_>>()
    }))
    .into_iter()
    .map(|r| r.into_iter().map(|(_, v)| v).collect())
    .collect();
    if !f.order_by.is_empty() {
        let keys: Vec<(usize, ast::Order)> = f
            .order_by
            .iter()
            .map(|k| match &k.expr {
                Expr::Term(t) => match &t.term {
                    Term::Var(v) => (vars.iter().position(|x| x == v).unwrap_or(0), k.order),
                    _ => (0, k.order),
                },
                _ => (0, k.order),
            })
            .collect();
        rows.sort_by(|a, b| {
            for (i, o) in &keys {
                let c = match (&a[*i], &b[*i]) {
                    (None, None) => std::cmp::Ordering::Equal,
                    (None, Some(_)) => std::cmp::Ordering::Less,
                    (Some(_), None) => std::cmp::Ordering::Greater,
                    (Some(x), Some(y)) => x.total_cmp(y),
                };
                let c = if *o == ast::Order::Desc {
                    c.reverse()
                } else {
                    c
                };
                if c.is_ne() {
                    return c;
                }
            }
            std::cmp::Ordering::Equal
        });
        let count = |c: &Option<ast::Count>| match c {
            Some(ast::Count::Value(n)) => Some(*n as usize),
            _ => None,
        };
        let off = count(&f.offset).unwrap_or(0).min(rows.len());
        rows.drain(..off);
        if let Some(l) = count(&f.limit) {
            rows.truncate(l);
        }
    }
    rows
}

fn pattern_vars(b: &ast::Body, out: &mut BTreeSet<String>) {
    for c in &b.items {
        match c {
            Conjunct::Pattern(tp) => {
                for t in [&tp.subject, &tp.predicate, &tp.object]
                    .into_iter()
                    .chain(tp.source.as_ref())
                {
                    if let Term::Var(v) = &t.term {
                        out.insert(v.clone());
                    }
                }
            }
            Conjunct::Optional(b) => pattern_vars(b, out),
            Conjunct::Or(bs) => bs.iter().for_each(|b| pattern_vars(b, out)),
            _ => {}
        }
    }
}

fn parse_facts(text: &str) -> Vec<Fact> {
    let mut out = Vec::new();
    for st in dossier::lang::statements(text) {
        let Ok(ast::Statement {
            kind: StatementKind::Facts {
                triples, source, ..
            },
            ..
        }) = st
        else {
            continue;
        };
        for t in triples {
            let name = |t: &ast::TermNode| match &t.term {
                Term::Value(Value::Entity(e)) => e.clone(),
                _ => String::new(),
            };
            let o = match &t.object.term {
                Term::Value(v) => v.clone(),
                _ => continue,
            };
            out.push(Fact {
                s: name(&t.subject),
                p: name(&t.predicate),
                o,
                g: source.as_ref().map(name),
            });
        }
    }
    out
}

fn engine_rows(db: &Db, q: &str) -> Result<Vec<Vec<Option<Value>>>, String> {
    match db.execute(q).map_err(|e| format!("{e}"))?.pop() {
        Some(Outcome::Rows(r)) => Ok(r.values().map(|v| v.to_vec()).collect()),
        other => Err(format!("not rows: {other:?}")),
    }
}

/// The random query of `seed` with its syntax tree, unless the language refuses it (the
/// checks have their own tests).
fn generated_query(seed: Vec<u8>) -> Option<(String, ast::Find)> {
    let mut g = Gen { seed, pos: 0 };
    let q = g.query()?;
    let stmt = dossier::lang::parse_statement(&q).ok()?;
    if dossier::lang::check_statement(&stmt)
        .iter()
        .any(|d| d.severity == dossier::Severity::Error)
    {
        return None;
    }
    match stmt.kind {
        StatementKind::Find(find) => Some((q, find)),
        _ => None,
    }
}

/// A proptest runner of `cases` cases (`REFERENCE_CASES` overrides it).
fn runner(cases: u32) -> TestRunner {
    let cases = std::env::var("REFERENCE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(cases);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Each of `shapes` with `P` replaced by each of `preds` gives the reference's rows (in
/// any order) on `facts`.
fn shapes_agree(shapes: &[&str], preds: &[&str], facts: &[String]) -> Result<(), TestCaseError> {
    let text = format!("{SCHEMA}\n{}", facts.join("\n"));
    let db = Db::memory().map_err(|e| TestCaseError::fail(e.to_string()))?;
    db.execute(&text)
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let reference = Reference::new(parse_facts(&text));
    for shape in shapes {
        for p in preds {
            let q = shape.replace(" P ", &format!(" {p} "));
            let stmt = dossier::lang::parse_statement(&q).expect("parses");
            let StatementKind::Find(find) = &stmt.kind else {
                unreachable!()
            };
            let mut got = engine_rows(&db, &q).map_err(TestCaseError::fail)?;
            let mut want = reference_rows(&reference, find);
            got.sort();
            want.sort();
            prop_assert_eq!(got, want, "query: {}\nfacts:\n{}", q, facts.join("\n"));
        }
    }
    Ok(())
}

fn check_one(facts: &[String], seed: Vec<u8>) -> Result<(), TestCaseError> {
    let Some((q, find)) = generated_query(seed) else {
        return Ok(());
    };
    let find = &find;
    let text = format!("{SCHEMA}\n{}", facts.join("\n"));
    let db = Db::memory().map_err(|e| TestCaseError::fail(e.to_string()))?;
    db.execute(&text)
        .map_err(|e| TestCaseError::fail(format!("{e}")))?;
    let got = engine_rows(&db, &q).map_err(|e| TestCaseError::fail(format!("{q}\n{e}")))?;
    let want = reference_rows(&Reference::new(parse_facts(&text)), find);
    let ordered = !find.order_by.is_empty();
    let (mut got_s, mut want_s) = (got.clone(), want.clone());
    if !ordered {
        got_s.sort();
        want_s.sort();
    }
    prop_assert_eq!(got_s, want_s, "query: {}\nfacts:\n{}", q, facts.join("\n"));
    Ok(())
}

/// A query whose plan is cached keeps agreeing with the reference after writes: a schema
/// that changes what a type matches, facts about an entity the plan did not know, a
/// dropped source.  The same text runs through `execute` (a script) and through a
/// prepared query, both of which reuse the plan while it holds.
fn check_cached(facts: &[String], seed: Vec<u8>) -> Result<(), TestCaseError> {
    let Some((q, find)) = generated_query(seed) else {
        return Ok(());
    };
    let find = &find;
    let fail = |e: dossier::Error| TestCaseError::fail(format!("{q}\n{e}"));
    let db = Db::memory().map_err(fail)?;
    let prepared = db.prepare(&q).map_err(fail)?;
    // Facts about `e5` come last: until then the plan knows nothing of it.
    let (late, early): (Vec<String>, Vec<String>) =
        facts.iter().cloned().partition(|f| f.contains("e5"));
    let without_src0: Vec<String> = facts
        .iter()
        .filter(|f| !f.ends_with(" from src0."))
        .cloned()
        .collect();
    // (what to write, the facts then, whether the schema is declared)
    let phases: [(String, Vec<String>, bool); 4] = [
        (early.join("\n"), early.clone(), false),
        // The catalog changes what `a T0` matches.
        (SCHEMA.to_string(), early, true),
        (late.join("\n"), facts.to_vec(), true),
        ("drop source src0.".to_string(), without_src0, true),
    ];
    for (write, now, schema) in phases {
        if !write.trim().is_empty() {
            db.execute(&write).map_err(fail)?;
        }
        let stated = parse_facts(&now.join("\n"));
        let reference = if schema {
            Reference::new(stated)
        } else {
            Reference::flat(stated)
        };
        let mut want = reference_rows(&reference, find);
        for _ in 0..2 {
            let mut got = engine_rows(&db, &q).map_err(TestCaseError::fail)?;
            let mut prepared_rows: Vec<Vec<Option<Value>>> = prepared
                .query(&dossier::Params::new())
                .map_err(fail)?
                .values()
                .map(|v| v.to_vec())
                .collect();
            if find.order_by.is_empty() {
                got.sort();
                prepared_rows.sort();
                want.sort();
            }
            prop_assert_eq!(&got, &want, "query: {}\nfacts:\n{}", q, now.join("\n"));
            prop_assert_eq!(&prepared_rows, &want, "prepared: {}", q);
        }
    }
    Ok(())
}

#[test]
fn cached_plans_agree_with_reference_after_writes() {
    let strategy = (
        prop::collection::vec(arb_fact(), 5..40),
        prop::collection::vec(any::<u8>(), 64),
    );
    runner(150)
        .run(&strategy, |(facts, seed)| check_cached(&facts, seed))
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Counts of one predicate's facts (which the engine reads from the index runs instead
/// of building rows) agree with the reference.  (The reference has no `having`, nor
/// `order by` on aggregates: those are checked against the row path in the engine's own
/// tests.)
#[test]
fn counts_agree_with_reference() {
    let shapes = [
        "find ?o count() as n where ?s P ?o.",
        "find ?o count(?s) as n where ?s P ?o.",
        "find ?s count(?o) as n where ?s P ?o.",
        "find count() where ?s P ?o.",
        "find count(?o) as n where ?s P ?o.",
    ];
    let preds = ["p0", "p1", "p2", "a"];
    runner(60)
        .run(&prop::collection::vec(arb_fact(), 0..30), |facts| {
            shapes_agree(&shapes, &preds, &facts)
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

/// Self-joins of one predicate on a shared subject or object (which the engine runs as
/// pairs within groups of one scan) agree with the reference.
#[test]
fn pairs_agree_with_reference() {
    let shapes = [
        "find ?k ?a ?b where ?k P ?a, ?k P ?b.",
        "find ?a ?b count(?k) as n where ?k P ?a, ?k P ?b, ?a < ?b.",
        "find ?k ?a ?b where ?a P ?k, ?b P ?k, ?a != ?b.",
        "find ?a count() as n where ?a P ?k, ?b P ?k.",
    ];
    runner(60)
        .run(&prop::collection::vec(arb_fact(), 0..30), |facts| {
            shapes_agree(&shapes, &PREDS, &facts)
        })
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn engine_agrees_with_reference() {
    let strategy = (
        prop::collection::vec(arb_fact(), 0..25),
        prop::collection::vec(any::<u8>(), 64),
    );
    runner(400)
        .run(&strategy, |(facts, seed)| check_one(&facts, seed))
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn reference_sanity() {
    let facts = [
        "e1 p0 e2.".to_string(),
        "e2 p0 e3.".to_string(),
        "e1 a T2.".to_string(),
    ];
    let text = facts.join("\n");
    let r = Reference::new(parse_facts(&text));
    let q = dossier::lang::parse_statement("find ?x ?z where ?x p0 ?y, ?y p0 ?z.").unwrap();
    let StatementKind::Find(f) = q.kind else {
        panic!()
    };
    assert_eq!(
        reference_rows(&r, &f),
        vec![vec![Some(Value::entity("e1")), Some(Value::entity("e3"))]]
    );
    let q = dossier::lang::parse_statement("find ?x where ?x a T0.").unwrap();
    let StatementKind::Find(f) = q.kind else {
        panic!()
    };
    assert_eq!(reference_rows(&r, &f).len(), 1);
    let _ = Date::year(2020);
}
