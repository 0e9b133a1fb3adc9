//! Rules: compiled from their stored text, stratified, and evaluated bottom-up
//! (semi-naive) for the predicates a query needs.
//!
//! The dependency analysis works on [`Node`]s: a derived predicate, and for `type` facts
//! each class a rule head names, so `?x a Undergrad` needs no rule that derives only
//! `Student`, and `?x a Person` needs the rules of Person and its subtypes.  Strata are the
//! strongly connected components of nodes.
//!
//! Each round evaluates every rule of a stratum once per recursive body pattern, with that
//! pattern restricted to the facts new in the previous round, so a fact is derived from
//! new facts only; evaluation stops when a round adds nothing, which happens on any data
//! (derived facts are a subset of a finite set of pairs), cyclic or not.  A pattern whose
//! new facts can only give back the facts they are (a rule's own head read through a
//! supertype) is not run again.

use super::catalog::Catalog;
use super::compile::{Compiler, Context};
use super::derived::{Derived, Relation};
use super::exec::{Exec, Interrupt, Pacer};
use super::expr::Eval;
use super::ir::{Body, Item, PTerm, Pattern};
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

/// A unit of the dependency analysis: a relation of derived facts and, for `type` facts,
/// the class.  Types are analysed per class so that a query for one type evaluates only
/// the rules that can derive that type or one of its subtypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Node {
    /// The relation the facts are kept in (the head predicate, or an adorned relation).
    pub rel: Id,
    /// For a head `?x a C`: `C`.  `Id::NONE` for other predicates, and for a `type` head
    /// whose class is not a constant (it may derive any class).
    pub class: Id,
}

impl CompiledRule {
    /// The node this rule derives into.
    pub fn node(&self, type_id: Option<Id>) -> Node {
        let class = match &self.head_o {
            PTerm::Const(c) if Some(self.head_p) == type_id => *c,
            _ => Id::NONE,
        };
        Node {
            rel: self.head_rel,
            class,
        }
    }
}

/// The head nodes of a set of rules, by relation: what a pattern can read.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    heads: FxHashMap<Id, Vec<Node>>,
    type_id: Option<Id>,
}

impl Graph {
    /// The graph of `rules`' heads.
    pub fn new(rules: &[CompiledRule], type_id: Option<Id>) -> Graph {
        let mut heads: FxHashMap<Id, Vec<Node>> = FxHashMap::default();
        for r in rules {
            let n = r.node(type_id);
            let v = heads.entry(n.rel).or_default();
            if !v.contains(&n) {
                v.push(n);
            }
        }
        Graph { heads, type_id }
    }

    /// The head nodes whose facts pattern `p` can match.
    pub fn reads(&self, p: &Pattern, out: &mut Vec<Node>) {
        if !p.derived {
            return;
        }
        // The classes a `?x a C` pattern asks for (`None`: any).
        let classes: Option<&[Id]> = match (&p.p, &p.o) {
            (PTerm::Const(_), PTerm::Const(c)) => Some(std::slice::from_ref(c)),
            (PTerm::Const(_), PTerm::OneOf(v)) => Some(v),
            (PTerm::Const(_), PTerm::Never) => Some(&[]),
            _ => None,
        };
        let mut add = |pid: Id, rel: Id| {
            let typed = Some(pid) == self.type_id;
            for n in self.heads.get(&rel).into_iter().flatten() {
                if !typed || n.class.is_none() || classes.is_none_or(|cs| cs.contains(&n.class)) {
                    out.push(*n);
                }
            }
        };
        match (&p.p, &p.var_rels) {
            (PTerm::Const(id), _) => add(*id, p.relation_for(*id)),
            (_, Some(rels)) => rels.iter().for_each(|(pid, rel)| add(*pid, *rel)),
            _ => {
                let mut rels: Vec<Id> = self.heads.keys().copied().collect();
                rels.sort_unstable();
                rels.into_iter().for_each(|rel| add(rel, rel));
            }
        }
    }

    /// Head nodes a body reads, with whether each reference is negated.
    fn deps(&self, body: &Body, negated: bool, out: &mut Vec<(Node, bool)>) {
        let mut nodes = Vec::new();
        for item in &body.items {
            match item {
                Item::Pattern(p) => {
                    nodes.clear();
                    self.reads(p, &mut nodes);
                    out.extend(nodes.iter().map(|n| (*n, negated)));
                }
                Item::Filter(_) => {}
                Item::Not(b) => self.deps(b, true, out),
                Item::Optional(b) => self.deps(b, negated, out),
                Item::Or(bs) => bs.iter().for_each(|b| self.deps(b, negated, out)),
            }
        }
    }

    /// Whether pattern `p` can match facts of one of `members`.
    fn refers_to(&self, p: &Pattern, members: &FxHashSet<Node>) -> bool {
        let mut nodes = Vec::new();
        self.reads(p, &mut nodes);
        nodes.iter().any(|n| members.contains(n))
    }
}

/// The name of a node in messages: the predicate, or `a C` for a class.
fn node_name(n: Node, names: &dyn Fn(Id) -> String) -> String {
    if n.class.is_none() {
        names(n.rel)
    } else {
        format!("a {}", names(n.class))
    }
}

/// Rules compiled and analysed together: what each reads, and the order to evaluate them.
pub struct Program {
    /// The rules.
    pub rules: Vec<CompiledRule>,
    /// Their heads, for what a pattern reads.
    pub graph: Graph,
    /// Strongly connected components of head nodes, dependencies first.
    pub strata: Vec<Vec<Node>>,
    /// Each rule's head node (parallel to `rules`).
    nodes: Vec<Node>,
}

impl Program {
    /// Analyse `rules`; an error naming the cycle when they cannot be stratified.
    pub fn new(
        rules: Vec<CompiledRule>,
        type_id: Option<Id>,
        names: &dyn Fn(Id) -> String,
    ) -> Result<Program> {
        let graph = Graph::new(&rules, type_id);
        let strata = stratify(&rules, &graph, names)?;
        let nodes = rules.iter().map(|r| r.node(type_id)).collect();
        Ok(Program {
            rules,
            graph,
            strata,
            nodes,
        })
    }

    /// The head nodes a query body reads (each once, sorted).
    pub fn needed(&self, body: &Body) -> Vec<Node> {
        let mut d = Vec::new();
        self.graph.deps(body, false, &mut d);
        let set: BTreeSet<Node> = d.into_iter().map(|(n, _)| n).collect();
        set.into_iter().collect()
    }

    /// The nodes `needed` depends on, itself included.
    pub fn closure(&self, needed: &[Node]) -> FxHashSet<Node> {
        let mut out: FxHashSet<Node> = needed.iter().copied().collect();
        let mut todo: Vec<Node> = needed.to_vec();
        let mut d = Vec::new();
        while let Some(n) = todo.pop() {
            d.clear();
            for r in self.rules_into(|m| *m == n) {
                self.graph.deps(&r.body, false, &mut d);
            }
            for (q, _) in d.drain(..) {
                if out.insert(q) {
                    todo.push(q);
                }
            }
        }
        out
    }

    /// The rules whose head node passes `into`, in their stored order.
    fn rules_into<'p>(
        &'p self,
        into: impl Fn(&Node) -> bool + 'p,
    ) -> impl Iterator<Item = &'p CompiledRule> + 'p {
        self.rules
            .iter()
            .zip(&self.nodes)
            .filter(move |(_, n)| into(n))
            .map(|(r, _)| r)
    }

    /// The indices of the strata holding some of `nodes`, in evaluation order.
    pub fn strata_of(&self, nodes: &FxHashSet<Node>) -> Vec<usize> {
        (0..self.strata.len())
            .filter(|&i| self.strata[i].iter().any(|n| nodes.contains(n)))
            .collect()
    }

    /// The rules of stratum `i`.
    pub fn stratum_rules(&self, i: usize) -> Vec<&CompiledRule> {
        let members: FxHashSet<Node> = self.strata.get(i).into_iter().flatten().copied().collect();
        self.rules_into(move |n| members.contains(n)).collect()
    }

    /// The rules deriving some of `nodes`, in their stored order.
    pub fn rules_for(&self, nodes: &FxHashSet<Node>) -> Vec<CompiledRule> {
        self.rules_into(|n| nodes.contains(n)).cloned().collect()
    }

    /// The nodes the rules of stratum `i` read outside the stratum.
    pub fn reads_of(&self, i: usize) -> Vec<Node> {
        let members: FxHashSet<Node> = self.strata.get(i).into_iter().flatten().copied().collect();
        let mut d = Vec::new();
        for r in self.stratum_rules(i) {
            self.graph.deps(&r.body, false, &mut d);
        }
        let set: BTreeSet<Node> = d
            .into_iter()
            .map(|(n, _)| n)
            .filter(|n| !members.contains(n))
            .collect();
        set.into_iter().collect()
    }

    /// Evaluate the strata the nodes `needed` depend on, starting from the facts of
    /// `derived` and `seeds` (facts `(relation, s, o)` of a magic-set rewrite).
    pub fn evaluate(
        &self,
        cx: &Context<'_>,
        mut derived: Derived,
        seeds: &[(Id, Id, Id)],
        needed: &[Node],
        interrupt: &Interrupt,
    ) -> Result<Derived> {
        for &(rel, s, o) in seeds {
            derived.full_mut(rel).insert(s, o);
        }
        if needed.is_empty() {
            return Ok(derived);
        }
        let ev = Eval::new(cx.store, cx.delta)?;
        for i in self.strata_of(&self.closure(needed)) {
            self.run_stratum(cx, &ev, i, &mut derived, interrupt)?;
        }
        Ok(derived)
    }

    /// Evaluate stratum `i` into `derived`, which holds the strata it reads already:
    /// semi-naive, each round restricting one recursive pattern at a time to the facts new
    /// in the round before.
    pub fn run_stratum(
        &self,
        cx: &Context<'_>,
        ev: &Eval<'_>,
        i: usize,
        derived: &mut Derived,
        interrupt: &Interrupt,
    ) -> Result<()> {
        let Some(scc) = self.strata.get(i) else {
            return Ok(());
        };
        let members: FxHashSet<Node> = scc.iter().copied().collect();
        let scc_rules = self.stratum_rules(i);
        for n in scc {
            derived.full_mut(n.rel);
        }
        let mut run = RuleRun {
            cx,
            ev,
            interrupt,
            stated: FxHashMap::default(),
        };
        // Round 0: every rule once, against everything known so far.
        let mut new: FxHashMap<Id, NewFacts> = FxHashMap::default();
        for r in &scc_rules {
            run.rule(derived, r, &r.body, &mut new)?;
        }
        let pacer = Pacer::new(interrupt);
        loop {
            interrupt.check()?;
            let mut delta: FxHashMap<Id, Relation> = FxHashMap::default();
            for (p, pairs) in new {
                let full = derived.full_mut(p);
                let d = delta.entry(p).or_default();
                for (s, o) in pairs {
                    pacer.tick()?;
                    if full.insert(s, o) {
                        d.insert(s, o);
                    }
                }
            }
            if delta.values().all(Relation::is_empty) {
                break;
            }
            derived.delta = delta;
            new = FxHashMap::default();
            for r in &scc_rules {
                if nested_reference(&self.graph, &r.body, &members) {
                    // A recursive reference inside optional/or: evaluate the rule whole.
                    run.rule(derived, r, &r.body, &mut new)?;
                    continue;
                }
                for (at, item) in r.body.items.iter().enumerate() {
                    let Item::Pattern(p) = item else { continue };
                    if !self.graph.refers_to(p, &members) || !self.delta_feeds(r, p, &derived.delta)
                    {
                        continue;
                    }
                    let mut body = r.body.clone();
                    if let Some(Item::Pattern(p)) = body.items.get_mut(at) {
                        p.delta_only = true;
                    }
                    run.rule(derived, r, &body, &mut new)?;
                }
            }
            derived.delta.clear();
        }
        Ok(())
    }

    /// Whether the new facts can feed pattern `p` of rule `r` into something new.  A fact
    /// of the rule's own head read back through a pattern that passes its subject on
    /// (`?x a Student :- ?x a Person; …` with Student below Person) can only derive itself
    /// again, so it does not count.
    fn delta_feeds(&self, r: &CompiledRule, p: &Pattern, delta: &FxHashMap<Id, Relation>) -> bool {
        let PTerm::Const(pid) = p.p else {
            return true;
        };
        let rel_id = p.relation_for(pid);
        let Some(rel) = delta.get(&rel_id) else {
            return false;
        };
        let same_subject = match (&p.s, &r.head_s) {
            (PTerm::Var(a), PTerm::Var(b)) => a == b,
            (PTerm::Const(a), PTerm::Const(b)) => a == b,
            _ => false,
        };
        let own = match &r.head_o {
            PTerm::Const(c) if same_subject && pid == r.head_p && rel_id == r.head_rel => Some(*c),
            _ => None,
        };
        let feeds = |o: &Id| Some(*o) != own && rel.has_object(*o);
        match &p.o {
            PTerm::Const(o) => feeds(o),
            PTerm::OneOf(os) => os.iter().any(feeds),
            PTerm::Never => false,
            PTerm::Var(_) | PTerm::Any => match own {
                None => !rel.is_empty(),
                Some(c) => rel.distinct_objects() > usize::from(rel.has_object(c)),
            },
        }
    }
}

/// Strongly connected components of the head nodes, dependencies first; an error naming
/// the cycle when a component depends on itself through `not`.
fn stratify(
    rules: &[CompiledRule],
    graph: &Graph,
    names: &dyn Fn(Id) -> String,
) -> Result<Vec<Vec<Node>>> {
    let mut edges: FxHashMap<Node, Vec<(Node, bool)>> = FxHashMap::default();
    let mut nodes: Vec<Node> = Vec::new();
    for r in rules {
        let head = r.node(graph.type_id);
        nodes.push(head);
        let mut d = Vec::new();
        graph.deps(&r.body, false, &mut d);
        edges.entry(head).or_default().extend(d);
    }
    nodes.sort_unstable();
    nodes.dedup();
    let sccs = tarjan(&nodes, &edges);
    for scc in &sccs {
        let members: FxHashSet<Node> = scc.iter().copied().collect();
        for &p in scc {
            for &(q, neg) in edges.get(&p).into_iter().flatten() {
                if neg && members.contains(&q) {
                    let name = |n: Node| node_name(n, names);
                    let cycle = path(q, p, &edges, &members).unwrap_or_default();
                    let mut text = format!("'{}' depends on 'not {}'", name(p), name(q));
                    let mut prev = q;
                    for step in cycle.iter().skip(1) {
                        text.push_str(&format!(", '{}' depends on '{}'", name(prev), name(*step)));
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

/// Refuse rules that cannot be stratified, naming the cycle.
pub fn check_stratified(
    rules: &[CompiledRule],
    type_id: Option<Id>,
    names: &dyn Fn(Id) -> String,
) -> Result<()> {
    stratify(rules, &Graph::new(rules, type_id), names).map(|_| ())
}

/// A path from `from` to `to` inside `members` (BFS), as the list of nodes.
fn path(
    from: Node,
    to: Node,
    edges: &FxHashMap<Node, Vec<(Node, bool)>>,
    members: &FxHashSet<Node>,
) -> Option<Vec<Node>> {
    let mut prev: FxHashMap<Node, Node> = FxHashMap::default();
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

fn tarjan(nodes: &[Node], edges: &FxHashMap<Node, Vec<(Node, bool)>>) -> Vec<Vec<Node>> {
    struct T<'g> {
        edges: &'g FxHashMap<Node, Vec<(Node, bool)>>,
        index: FxHashMap<Node, usize>,
        low: FxHashMap<Node, usize>,
        on: FxHashSet<Node>,
        stack: Vec<Node>,
        next: usize,
        out: Vec<Vec<Node>>,
    }
    impl T<'_> {
        fn visit(&mut self, v: Node) {
            self.index.insert(v, self.next);
            self.low.insert(v, self.next);
            self.next += 1;
            self.stack.push(v);
            self.on.insert(v);
            let mut succ: Vec<Node> = self
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

fn nested_reference(graph: &Graph, body: &Body, members: &FxHashSet<Node>) -> bool {
    let refers = |b: &Body| b.any_pattern(&|p| graph.refers_to(p, members));
    body.items.iter().any(|it| match it {
        Item::Optional(b) => refers(b),
        Item::Or(bs) => bs.iter().any(refers),
        _ => false,
    })
}

/// Facts a round derived, each once, in the order they were found.
type NewFacts = indexmap::IndexSet<(Id, Id), rustc_hash::FxBuildHasher>;

/// What the rules of a stratum run with.
struct RuleRun<'r, 'a> {
    cx: &'r Context<'a>,
    ev: &'r Eval<'a>,
    interrupt: &'r Interrupt,
    /// For a rule head `?x a C`: the entities stated to have C or a type below it (read
    /// once per stratum).
    stated: FxHashMap<Id, FxHashSet<Id>>,
}

impl RuleRun<'_, '_> {
    /// The entities stated to have class `c` or a type below it.
    fn stated(&mut self, c: Id) -> Result<&FxHashSet<Id>> {
        let cx = self.cx;
        match self.stated.entry(c) {
            std::collections::hash_map::Entry::Occupied(e) => Ok(e.into_mut()),
            std::collections::hash_map::Entry::Vacant(e) => {
                let classes = cx
                    .subtypes
                    .get(&c)
                    .map_or(std::slice::from_ref(&c), Vec::as_slice);
                let stated: Vec<Id> = {
                    let stats = cx.store.stats()?;
                    (classes.iter().copied())
                        .filter(|k| stats.class(*k) > 0)
                        .collect()
                };
                let mut members = FxHashSet::default();
                for k in stated {
                    for q in cx.store.quads(&IdPattern::new(None, cx.type_id, Some(k)))? {
                        members.insert(q?[0]);
                    }
                }
                Ok(e.insert(members))
            }
        }
    }

    /// Run one rule (body variant) and add the head facts that are not known yet to `new`.
    fn rule(
        &mut self,
        derived: &Derived,
        rule: &CompiledRule,
        body: &Body,
        new: &mut FxHashMap<Id, NewFacts>,
    ) -> Result<()> {
        let cx = self.cx;
        let planner = Planner::new(cx, derived);
        let plan = planner.plan(body, &[])?;
        let exec = Exec::new(cx, self.ev, derived, self.interrupt, false);
        let mut row = vec![Id::NONE; rule.width];
        // Stored facts are not derived again.  For `?x a C`, a stated type at or below C
        // already makes x a C for every pattern; for another head, only a predicate with
        // stored facts needs the check.
        let class = match &rule.head_o {
            PTerm::Const(c) if Some(rule.head_p) == cx.type_id => Some(*c),
            _ => None,
        };
        let stated = match class {
            Some(c) => Some(self.stated(c)?),
            None => None,
        };
        let stored = class.is_none() && cx.store.stats()?.pred(rule.head_p).triples > 0;
        let full = derived.relation(rule.head_rel, false);
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
            if full.is_some_and(|f| f.contains(s, o))
                || stated.is_some_and(|m| m.contains(&s))
                || (stored
                    && cx
                        .store
                        .any(&IdPattern::new(Some(s), Some(rule.head_p), Some(o)))?)
            {
                return Ok(true);
            }
            // Charged as soon as it is found: one round can derive a great many.
            if new.entry(rule.head_rel).or_default().insert((s, o)) {
                cx.budget.charge(DERIVED_FACT_BYTES)?;
            }
            Ok(true)
        })?;
        Ok(())
    }
}
