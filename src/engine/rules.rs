//! Rules: compiled from their stored text, stratified, and evaluated bottom-up
//! (semi-naive) for the predicates a query needs.
//!
//! Each round evaluates every rule of a stratum once per recursive body pattern, with that
//! pattern restricted to the facts new in the previous round, so a fact is derived from
//! new facts only; evaluation stops when a round adds nothing, which happens on any data
//! (derived facts are a subset of a finite set of pairs), cyclic or not.

use super::catalog::Catalog;
use super::compile::{Compiler, Context};
use super::derived::{Derived, Relation};
use super::exec::{Exec, Interrupt};
use super::expr::Eval;
use super::ir::{Body, Item, PTerm};
use super::plan::Planner;
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::lang::ast::{self, StatementKind};
use crate::store::{Id, IdPattern};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::BTreeSet;

/// Bytes a derived fact holds: in its relation (the pair, its set entry, both indexes),
/// and at most once more in the round's new facts and once in its delta.
const DERIVED_FACT_BYTES: u64 = 3 * 80;

/// A rule ready to run.
#[derive(Debug, Clone)]
pub struct CompiledRule {
    /// The head's subject: a slot of the body, or a constant.
    pub head_s: PTerm,
    /// The predicate the rule derives (stored facts of it are not derived again).
    pub head_p: Id,
    /// The relation derived facts go to: `head_p`, or an adorned relation of a magic-set
    /// rewrite.
    pub head_rel: Id,
    /// The head's object: a slot of the body, or a constant.
    pub head_o: PTerm,
    /// The body, compiled with the head's variables in the same slots.
    pub body: Body,
    /// How many slots a row of the rule has (its variables).
    pub width: usize,
    /// The stored text of the rule, for messages.
    pub text: String,
}

/// Parse a stored rule's text back into its syntax tree.
pub fn parse_rule(text: &str) -> Result<ast::Rule> {
    match crate::lang::parse_statement(text) {
        Ok(ast::Statement {
            kind: StatementKind::Rule(r),
            ..
        }) => Ok(r),
        _ => Err(Error::Storage(format!(
            "a stored rule does not parse: {text}"
        ))),
    }
}

/// Compile a parsed rule (`text` is its stored text, kept for messages); `None` when the
/// store has no id for the head predicate, so the rule was never stored properly and is
/// left out.
pub fn compile_rule(
    cx: &Context<'_>,
    rule: &ast::Rule,
    text: &str,
) -> Result<Option<CompiledRule>> {
    let mut c = Compiler::new(cx);
    let body = c.body(&rule.body)?;
    let head_s = c.head_term(&rule.head.subject)?;
    let head_o = c.head_term(&rule.head.object)?;
    let head_p = match c.head_term(&rule.head.predicate)? {
        PTerm::Const(id) => id,
        // A head predicate the store does not know: the rule was never stored properly.
        _ => return Ok(None),
    };
    Ok(Some(CompiledRule {
        head_s,
        head_p,
        head_rel: head_p,
        head_o,
        body,
        width: c.vars.len(),
        text: text.to_string(),
    }))
}

/// All stored rules, compiled.
pub fn compile_all(cx: &Context<'_>, catalog: &Catalog) -> Result<Vec<CompiledRule>> {
    let mut out = Vec::new();
    for r in &catalog.rules {
        let ast = parse_rule(&r.text)?;
        if let Some(c) = compile_rule(cx, &ast, &r.text)? {
            out.push(c);
        }
    }
    Ok(out)
}

/// Derived relations a body reads, with whether each reference is negated.
fn deps(body: &Body, all: &FxHashSet<Id>, negated: bool, out: &mut Vec<(Id, bool)>) {
    for item in &body.items {
        match item {
            Item::Pattern(p) if p.derived => match (&p.p, &p.var_rels) {
                (PTerm::Const(id), _) => out.push((p.relation_for(*id), negated)),
                (_, Some(rels)) => out.extend(rels.iter().map(|(_, r)| (*r, negated))),
                _ => out.extend(all.iter().map(|id| (*id, negated))),
            },
            Item::Pattern(_) | Item::Filter(_) => {}
            Item::Not(b) => deps(b, all, true, out),
            Item::Optional(b) => deps(b, all, negated, out),
            Item::Or(bs) => bs.iter().for_each(|b| deps(b, all, negated, out)),
        }
    }
}

/// Strongly connected components of the dependency graph, dependencies first; an error
/// naming the cycle when a component depends on itself through `not`.
pub fn stratify(rules: &[CompiledRule], names: &dyn Fn(Id) -> String) -> Result<Vec<Vec<Id>>> {
    let heads: FxHashSet<Id> = rules.iter().map(|r| r.head_rel).collect();
    let mut edges: FxHashMap<Id, Vec<(Id, bool)>> = FxHashMap::default();
    for r in rules {
        let mut d = Vec::new();
        deps(&r.body, &heads, false, &mut d);
        edges
            .entry(r.head_rel)
            .or_default()
            .extend(d.into_iter().filter(|(q, _)| heads.contains(q)));
    }
    let mut nodes: Vec<Id> = heads.iter().copied().collect();
    nodes.sort_unstable();
    let sccs = tarjan(&nodes, &edges);
    for scc in &sccs {
        let members: FxHashSet<Id> = scc.iter().copied().collect();
        for &p in scc {
            for &(q, neg) in edges.get(&p).into_iter().flatten() {
                if neg && members.contains(&q) {
                    let cycle = path(q, p, &edges, &members).unwrap_or_default();
                    let mut text = format!("'{}' depends on 'not {}'", names(p), names(q));
                    let mut prev = q;
                    for step in cycle.iter().skip(1) {
                        text.push_str(&format!(
                            ", '{}' depends on '{}'",
                            names(prev),
                            names(*step)
                        ));
                        prev = *step;
                    }
                    return Err(Error::at(
                        Diagnostic::error(format!("the rules cannot be stratified: {text}"), Default::default())
                            .with_hint("a predicate must not depend on its own negation; split the rules or remove the cycle"),
                    ));
                }
            }
        }
    }
    Ok(sccs)
}

/// A path from `from` to `to` inside `members` (BFS), as the list of nodes.
fn path(
    from: Id,
    to: Id,
    edges: &FxHashMap<Id, Vec<(Id, bool)>>,
    members: &FxHashSet<Id>,
) -> Option<Vec<Id>> {
    let mut prev: FxHashMap<Id, Id> = FxHashMap::default();
    let mut queue = std::collections::VecDeque::from([from]);
    let mut seen = FxHashSet::from_iter([from]);
    while let Some(x) = queue.pop_front() {
        if x == to {
            let mut p = vec![to];
            let mut cur = to;
            while let Some(&b) = prev.get(&cur) {
                p.push(b);
                cur = b;
            }
            p.reverse();
            return Some(p);
        }
        for &(y, _) in edges.get(&x).into_iter().flatten() {
            if members.contains(&y) && seen.insert(y) {
                prev.insert(y, x);
                queue.push_back(y);
            }
        }
    }
    None
}

fn tarjan(nodes: &[Id], edges: &FxHashMap<Id, Vec<(Id, bool)>>) -> Vec<Vec<Id>> {
    struct T<'g> {
        edges: &'g FxHashMap<Id, Vec<(Id, bool)>>,
        index: FxHashMap<Id, usize>,
        low: FxHashMap<Id, usize>,
        on: FxHashSet<Id>,
        stack: Vec<Id>,
        next: usize,
        out: Vec<Vec<Id>>,
    }
    impl T<'_> {
        fn visit(&mut self, v: Id) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on.insert(v);
            let mut succ: Vec<Id> = self
                .edges
                .get(&v)
                .into_iter()
                .flatten()
                .map(|(w, _)| *w)
                .collect();
            succ.sort_unstable();
            succ.dedup();
            for w in succ {
                if !self.index.contains_key(&w) {
                    self.visit(w);
                    let lw = self.low[&w];
                    let lv = self.low[&v];
                    self.low.insert(v, lv.min(lw));
                } else if self.on.contains(&w) {
                    let iw = self.index[&w];
                    let lv = self.low[&v];
                    self.low.insert(v, lv.min(iw));
                }
            }
            if self.low[&v] == self.index[&v] {
                let mut scc = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(&w);
                    scc.push(w);
                    if w == v {
                        break;
                    }
                }
                scc.sort_unstable();
                self.out.push(scc);
            }
        }
    }
    let mut t = T {
        edges,
        index: FxHashMap::default(),
        low: FxHashMap::default(),
        on: FxHashSet::default(),
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for &n in nodes {
        if !t.index.contains_key(&n) {
            t.visit(n);
        }
    }
    t.out
}

/// The derived predicates `needed` depends on (itself included).
fn closure(rules: &[CompiledRule], needed: &[Id]) -> FxHashSet<Id> {
    let heads: FxHashSet<Id> = rules.iter().map(|r| r.head_rel).collect();
    let mut out: FxHashSet<Id> = needed
        .iter()
        .copied()
        .filter(|p| heads.contains(p))
        .collect();
    loop {
        let before = out.len();
        let mut d = Vec::new();
        for r in rules.iter().filter(|r| out.contains(&r.head_rel)) {
            deps(&r.body, &heads, false, &mut d);
        }
        out.extend(d.into_iter().map(|(q, _)| q));
        if out.len() == before {
            return out;
        }
    }
}

/// Evaluate the rules deriving the relations `needed` (and what they depend on), starting
/// from `seeds` (facts `(relation, s, o)` of a magic-set rewrite).
pub fn evaluate(
    cx: &Context<'_>,
    rules: &[CompiledRule],
    seeds: &[(Id, Id, Id)],
    needed: &[Id],
    interrupt: &Interrupt,
) -> Result<Derived> {
    let mut derived = Derived::default();
    for &(rel, s, o) in seeds {
        derived.full.entry(rel).or_default().insert(s, o);
    }
    if rules.is_empty() || needed.is_empty() {
        return Ok(derived);
    }
    let wanted = closure(rules, needed);
    let names = |id: Id| {
        cx.store
            .value(id, cx.delta)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| format!("{id:?}"))
    };
    let strata = stratify(rules, &names)?;
    let ev = Eval::new(cx.store, cx.delta)?;
    for scc in strata {
        if !scc.iter().any(|p| wanted.contains(p)) {
            continue;
        }
        let members: FxHashSet<Id> = scc.iter().copied().collect();
        let scc_rules: Vec<&CompiledRule> = rules
            .iter()
            .filter(|r| members.contains(&r.head_rel))
            .collect();
        for &p in &scc {
            derived.full.entry(p).or_default();
        }
        // Round 0: every rule once, against everything known so far.
        let mut new: FxHashMap<Id, Relation> = FxHashMap::default();
        for r in &scc_rules {
            run_rule(cx, &ev, &derived, r, &r.body, interrupt, &mut new)?;
        }
        loop {
            interrupt.check()?;
            let mut delta: FxHashMap<Id, Relation> = FxHashMap::default();
            for (p, rel) in new {
                let full = derived.full.entry(p).or_default();
                let d = delta.entry(p).or_default();
                for &(s, o) in rel.pairs() {
                    if full.insert(s, o) {
                        d.insert(s, o);
                        cx.budget.charge(DERIVED_FACT_BYTES)?;
                    }
                }
            }
            if delta.values().all(Relation::is_empty) {
                break;
            }
            derived.delta = delta;
            new = FxHashMap::default();
            for r in &scc_rules {
                let recursive: Vec<usize> = r
                    .body
                    .items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, it)| match it {
                        Item::Pattern(p) if p.derived && refers_to(p, &members) => Some(i),
                        _ => None,
                    })
                    .collect();
                let nested = nested_reference(&r.body, &members);
                if nested {
                    // A recursive reference inside optional/or: evaluate the rule whole.
                    run_rule(cx, &ev, &derived, r, &r.body, interrupt, &mut new)?;
                    continue;
                }
                for i in recursive {
                    let mut body = r.body.clone();
                    if let Item::Pattern(p) = &mut body.items[i] {
                        p.delta_only = true;
                    }
                    run_rule(cx, &ev, &derived, r, &body, interrupt, &mut new)?;
                }
            }
            derived.delta.clear();
        }
    }
    Ok(derived)
}

fn refers_to(p: &super::ir::Pattern, members: &FxHashSet<Id>) -> bool {
    match (&p.p, &p.var_rels) {
        (PTerm::Const(id), _) => members.contains(&p.relation_for(*id)),
        (PTerm::Var(_) | PTerm::Any, Some(rels)) => rels.iter().any(|(_, r)| members.contains(r)),
        (PTerm::Var(_) | PTerm::Any, None) => true,
        _ => false,
    }
}

fn nested_reference(body: &Body, members: &FxHashSet<Id>) -> bool {
    body.items.iter().any(|it| match it {
        Item::Optional(b) => contains_reference(b, members),
        Item::Or(bs) => bs.iter().any(|b| contains_reference(b, members)),
        _ => false,
    })
}

fn contains_reference(body: &Body, members: &FxHashSet<Id>) -> bool {
    body.any_pattern(&|p| p.derived && refers_to(p, members))
}

/// Run one rule (body variant) and add the head facts that are not known yet to `new`.
fn run_rule(
    cx: &Context<'_>,
    ev: &Eval<'_>,
    derived: &Derived,
    rule: &CompiledRule,
    body: &Body,
    interrupt: &Interrupt,
    new: &mut FxHashMap<Id, Relation>,
) -> Result<()> {
    let planner = Planner::new(cx, derived);
    let plan = planner.plan(body, &[])?;
    let exec = Exec::new(cx, ev, derived, interrupt, false);
    let mut row = vec![Id::NONE; rule.width];
    let stored = cx.store.stats()?.pred(rule.head_p).triples > 0;
    let full = derived.full.get(&rule.head_rel);
    // A head variable left unbound (by an `optional`) derives nothing; a constant may be
    // NONE (the empty object of a one-place magic relation).
    let head = |t: &PTerm, row: &[Id]| match t {
        PTerm::Var(s) => Some(row[*s]).filter(|v| v.is_some()),
        PTerm::Const(id) => Some(*id),
        _ => None,
    };
    exec.run(&plan, &mut row, &mut |r| {
        let (Some(s), Some(o)) = (head(&rule.head_s, r), head(&rule.head_o, r)) else {
            return Ok(true);
        };
        if full.is_some_and(|f| f.contains(s, o)) {
            return Ok(true);
        }
        if stored
            && cx
                .store
                .any(&IdPattern::new(Some(s), Some(rule.head_p), Some(o)))?
        {
            return Ok(true);
        }
        new.entry(rule.head_rel).or_default().insert(s, o);
        Ok(true)
    })?;
    Ok(())
}

/// The set of derived predicates a body needs evaluated.
pub fn needed(body: &Body, derived_preds: &FxHashSet<Id>) -> Vec<Id> {
    let mut d = Vec::new();
    deps(body, derived_preds, false, &mut d);
    let set: BTreeSet<Id> = d.into_iter().map(|(p, _)| p).collect();
    set.into_iter().collect()
}
