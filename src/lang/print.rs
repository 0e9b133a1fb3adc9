//! The printer: the AST back to canonical text, which parses to the same AST.
//!
//! Canonical form: one statement per line, single spaces, consecutive facts about one
//! subject regrouped with `;` (and `,` for one predicate), `a` for the predicate `type`.
//! The engine uses [`print_rule`] to store rules as text.

use super::ast::*;
use super::lexical::lt_is_operator;
use crate::model::{write_entity, Kind, Value, TYPE_PREDICATE};
use std::fmt::Write;

/// A whole script, one statement per line.
pub fn print_script(script: &Script) -> String {
    let mut out = String::new();
    for s in &script.statements {
        out.push_str(&print_statement(s));
        out.push('\n');
    }
    out
}

/// One statement, ending with `.` (or `}` for a `from` block).
pub fn print_statement(stmt: &Statement) -> String {
    match &stmt.kind {
        StatementKind::Facts {
            add_keyword,
            triples,
            source,
        } => {
            let mut s = String::new();
            if *add_keyword {
                s.push_str("add ");
            }
            s.push_str(&fact_triples(triples));
            push_source(&mut s, source);
            s.push('.');
            s
        }
        StatementKind::FromBlock { source, statements } => {
            let mut s = format!("from {} {{", print_term(&source.term));
            for inner in statements {
                s.push_str("\n  ");
                s.push_str(&print_statement(inner));
            }
            s.push_str("\n}");
            s
        }
        StatementKind::Del { triples, source } => {
            let mut s = format!("del {}", fact_triples(triples));
            push_source(&mut s, source);
            s.push('.');
            s
        }
        StatementKind::DropSource(t) => format!("drop source {}.", print_term(&t.term)),
        StatementKind::DropRule(n) => format!(
            "drop rule {}.",
            print_predicate(&Term::Value(Value::Entity(n.name.clone())))
        ),
        StatementKind::Find(f) => format!("{}.", print_find(f)),
        StatementKind::Rule(r) => format!("{}.", print_rule(r)),
        StatementKind::TypeDecl { name, supertypes } => {
            let mut s = format!("type {}", print_name(&name.name));
            if !supertypes.is_empty() {
                let sups: Vec<String> = supertypes.iter().map(|n| print_name(&n.name)).collect();
                let _ = write!(s, " sub {}", sups.join(", "));
            }
            s.push('.');
            s
        }
        StatementKind::PredDecl {
            name,
            domain,
            range,
        } => {
            let mut s = format!("pred {}", print_name(&name.name));
            if domain.is_some() || range.is_some() {
                let _ = write!(
                    s,
                    ": {} -> {}",
                    type_ref(domain.as_ref(), false),
                    type_ref(range.as_ref(), true)
                );
            }
            s.push('.');
            s
        }
        StatementKind::Describe(t) => format!("describe {}.", print_term(&t.term)),
        StatementKind::Search { text, .. } => format!("search {}.", Value::Str(text.clone())),
        StatementKind::Explain { analyze, find } => {
            format!(
                "explain {}{}.",
                if *analyze { "analyze " } else { "" },
                print_find(find)
            )
        }
        StatementKind::Load { path, .. } => format!("load {}.", Value::Str(path.clone())),
        StatementKind::Check => "check.".to_string(),
    }
}

/// A query without its final `.`.
pub fn print_find(f: &Find) -> String {
    let mut s = String::from("find ");
    if f.distinct {
        s.push_str("distinct ");
    }
    if f.projection.is_empty() {
        s.push('*');
    } else {
        let cols: Vec<String> = f.projection.iter().map(projection).collect();
        s.push_str(&cols.join(" "));
    }
    s.push_str(" where ");
    s.push_str(&print_body(&f.body));
    if !f.having.is_empty() {
        let conds: Vec<String> = f.having.iter().map(print_expr).collect();
        let _ = write!(s, " having {}", conds.join(", "));
    }
    if !f.order_by.is_empty() {
        let keys: Vec<String> = f
            .order_by
            .iter()
            .map(|k| match (k.explicit, k.order) {
                (false, _) => print_expr(&k.expr),
                (true, Order::Asc) => format!("{} asc", print_expr(&k.expr)),
                (true, Order::Desc) => format!("{} desc", print_expr(&k.expr)),
            })
            .collect();
        let _ = write!(s, " order by {}", keys.join(", "));
    }
    if let Some(c) = &f.limit {
        let _ = write!(s, " limit {}", count(c));
    }
    if let Some(c) = &f.offset {
        let _ = write!(s, " offset {}", count(c));
    }
    s
}

/// A rule without its final `.`: `rule HEAD :- BODY`.
pub fn print_rule(r: &Rule) -> String {
    let h = &r.head;
    let mut s = format!(
        "rule {} {} {}",
        print_term(&h.subject.term),
        print_predicate(&h.predicate.term),
        print_term(&h.object.term)
    );
    push_source(&mut s, &h.source);
    let _ = write!(s, " :- {}", print_body(&r.body));
    s
}

/// A body: conjuncts separated by `, `, consecutive patterns of one subject joined by `;`.
pub fn print_body(b: &Body) -> String {
    let mut s = String::new();
    let mut prev_subject: Option<&Term> = None;
    for c in &b.items {
        match c {
            Conjunct::Pattern(p) if prev_subject == Some(&p.subject.term) => {
                s.push_str("; ");
                s.push_str(&body_predicate(&p.predicate.term));
            }
            _ => {
                if !s.is_empty() {
                    s.push_str(", ");
                }
                prev_subject = None;
                match c {
                    Conjunct::Pattern(p) => {
                        s.push_str(&print_term(&p.subject.term));
                        s.push(' ');
                        s.push_str(&body_predicate(&p.predicate.term));
                    }
                    Conjunct::Filter(e) => s.push_str(&print_expr(e)),
                    Conjunct::Not(b) => {
                        let _ = write!(s, "not {{ {} }}", print_body(b));
                    }
                    Conjunct::Optional(b) => {
                        let _ = write!(s, "optional {{ {} }}", print_body(b));
                    }
                    Conjunct::Or(bs) => {
                        let parts: Vec<String> = bs
                            .iter()
                            .map(|b| format!("{{ {} }}", print_body(b)))
                            .collect();
                        s.push_str(&parts.join(" or "));
                    }
                }
            }
        }
        if let Conjunct::Pattern(p) = c {
            s.push(' ');
            s.push_str(&print_term(&p.object.term));
            push_source(&mut s, &p.source);
            prev_subject = Some(&p.subject.term);
        }
    }
    s
}

/// An expression as written in a filter, `having` or `order by`.
pub fn print_expr(e: &Expr) -> String {
    match e {
        Expr::Term(t) => print_term(&t.term),
        Expr::Range { from, to, .. } => format!("{from}..{to}"),
        Expr::Cmp {
            op, left, right, ..
        } => format!("{} {} {}", print_expr(left), op.symbol(), print_expr(right)),
        Expr::Call { func, args, .. } => {
            let args: Vec<String> = args.iter().map(print_expr).collect();
            format!("{}({})", func.name(), args.join(", "))
        }
        Expr::Alias(n) => print_name(&n.name),
        Expr::Aggregate(a) => print_aggregate(a),
    }
}

/// A term in any position but the predicate one.
pub fn print_term(t: &Term) -> String {
    match t {
        Term::Var(v) => format!("?{v}"),
        Term::Wildcard => "_".to_string(),
        Term::Param(p) => format!("${p}"),
        Term::Value(v) => v.to_string(),
    }
}

/// A term in predicate position: the entity `type` is written `a`.
pub fn print_predicate(t: &Term) -> String {
    match t {
        Term::Value(Value::Entity(e)) if e == TYPE_PREDICATE => "a".to_string(),
        t => print_term(t),
    }
}

/// A predicate inside a query body, where `<` followed by a space, `=`, `?`, … is the
/// less-than operator: such a first character is escaped (`<\?odd>`).
fn body_predicate(t: &Term) -> String {
    if let Term::Value(Value::Entity(e)) = t {
        if let Some(c) = e.chars().next() {
            if lt_is_operator(Some(c)) {
                let mut s = format!("<\\{c}");
                for ch in e[c.len_utf8()..].chars() {
                    if ch == '>' || ch == '\\' {
                        s.push('\\');
                    }
                    s.push(ch);
                }
                s.push('>');
                return s;
            }
        }
    }
    print_predicate(t)
}

fn print_name(n: &str) -> String {
    let mut s = String::new();
    let _ = write_entity(&mut s, n);
    s
}

fn type_ref(t: Option<&TypeRef>, is_range: bool) -> String {
    match t {
        None | Some(TypeRef::Any { .. }) => "_".to_string(),
        Some(TypeRef::Kind { kind, .. }) => kind.name().to_string(),
        // In a range, `date` is the literal kind: a class of that name needs brackets.
        Some(TypeRef::Class(n)) if is_range && Kind::from_name(&n.name).is_some() => {
            format!("<{}>", n.name)
        }
        Some(TypeRef::Class(n)) => print_name(&n.name),
    }
}

fn fact_triples(triples: &[TriplePattern]) -> String {
    let mut s = String::new();
    let mut prev: Option<&TriplePattern> = None;
    for t in triples {
        match prev {
            Some(p) if p.subject.term == t.subject.term && p.predicate.term == t.predicate.term => {
                s.push_str(", ")
            }
            Some(p) if p.subject.term == t.subject.term => {
                let _ = write!(s, "; {} ", print_predicate(&t.predicate.term));
            }
            _ => {
                if prev.is_some() {
                    // A new subject inside one statement cannot be written with `;`/`,`;
                    // the parser never builds this, but print something readable.
                    s.push_str(". ");
                }
                let _ = write!(
                    s,
                    "{} {} ",
                    print_term(&t.subject.term),
                    print_predicate(&t.predicate.term)
                );
            }
        }
        s.push_str(&print_term(&t.object.term));
        prev = Some(t);
    }
    s
}

fn push_source(s: &mut String, source: &Option<TermNode>) {
    if let Some(src) = source {
        s.push_str(" from ");
        s.push_str(&print_term(&src.term));
    }
}

fn projection(p: &Projection) -> String {
    let (body, alias) = match p {
        Projection::Expr { expr, alias } => (print_expr(expr), alias),
        Projection::Aggregate {
            aggregate: a,
            alias,
        } => (print_aggregate(a), alias),
    };
    match alias {
        Some(a) => format!("{body} as {}", print_name(&a.name)),
        None => body,
    }
}

/// An aggregate as written (`count(distinct ?e)`), which is also its column's name.
pub fn print_aggregate(a: &Aggregate) -> String {
    let arg = a.arg.as_ref().map(print_expr).unwrap_or_default();
    let distinct = if a.distinct { "distinct " } else { "" };
    format!("{}({distinct}{arg})", a.func.name())
}

fn count(c: &Count) -> String {
    match c {
        Count::Value(n) => n.to_string(),
        Count::Param(p) => format!("${p}"),
    }
}

#[cfg(test)]
mod tests {
    use crate::lang::{parse_statement, print_statement};

    fn canonical(text: &str) -> String {
        match parse_statement(text) {
            Ok(s) => print_statement(&s),
            Err(d) => panic!("{}", d.report(None, text)),
        }
    }

    #[test]
    fn canonical_forms() {
        for (text, printed) in [
            (
                "haftar  a Person ;label \"K\";commands lna,gna .",
                "haftar a Person; label \"K\"; commands lna, gna.",
            ),
            ("add x <type> y.", "add x a y."),
            ("x p 2020.", "x p 2020."),
            ("x p @2020-09.", "x p 2020-09."),
            (
                "find ?x where ?x a B; label ?l , ?l != \"\" .",
                "find ?x where ?x a B; label ?l, ?l != \"\".",
            ),
            (
                "find ?x where ?x <\\?odd> ?y.",
                "find ?x where ?x <\\?odd> ?y.",
            ),
            ("x <?odd> y.", "x <?odd> y."),
            (
                "find ?x where ?d in 2019..2020-06.",
                "find ?x where ?d in @2019..2020-06.",
            ),
            ("pred p: date -> <date>.", "pred p: date -> <date>."),
            ("pred p: _ -> date.", "pred p: _ -> date."),
            (
                "find ?x count() as n where ?x p ?y order by n desc, ?x.",
                "find ?x count() as n where ?x p ?y order by n desc, ?x.",
            ),
            (
                "from s { x p o. add y q r. }",
                "from s {\n  x p o.\n  add y q r.\n}",
            ),
            ("x p <limit>, <5+5 a\\>b>.", "x p <limit>, <5+5 a\\>b>."),
        ] {
            assert_eq!(canonical(text), printed, "{text}");
            assert_eq!(canonical(printed), printed, "{printed}");
        }
    }
}
