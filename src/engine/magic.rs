//! Magic sets: evaluate rules only for the facts a query can use.
//!
//! A query such as `find ?x where ?x backs_chain grp_41` needs `backs_chain` only for the
//! object `grp_41`.  The rewrite gives each derived predicate an *adornment* per use (which
//! of subject/object is bound), adds to every rule a "magic" atom holding the bindings it
//! may be asked about, and derives those bindings with extra rules that pass them down
//! the bodies (sideways, in the order the body binds them).  Bottom-up evaluation of the
//! rewritten program then touches only what the query reaches: the 48 backers of one group
//! instead of the closure over every group.
//!
//! Predicates used with nothing bound are not rewritten: their full relations, evaluated
//! per stratum and kept across statements, are read as they are.  A type pattern's class
//! counts as bound only with its subject (classes are told apart by the full evaluation
//! already).
//!
//! The rewrite applies to programs of positive patterns and filters with constant
//! predicates; anything else (negation, optional, or, variable predicates in rules) is
//! evaluated in full, which is always correct.

use super::ir::{Body, GTerm, Item, PTerm, Pattern, Slot};
use super::rules::CompiledRule;
use crate::diag::Span;
use crate::store::Id;
use rustc_hash::{FxHashMap, FxHashSet};

/// Which of (subject, object) are bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Ad {
    s: bool,
    o: bool,
}

const FREE: Ad = Ad { s: false, o: false };

/// A rewritten program: its rules and the seed facts `(relation, s, o)` of the query.
pub struct Program {
    pub rules: Vec<CompiledRule>,
    pub seeds: Vec<(Id, Id, Id)>,
    /// What the rewrite depends on besides the rules: the query's derived patterns in
    /// order, each as (predicate, subject bound, object bound).  The same rules and shape
    /// give the same program and relations, so results can be kept under it and `seeds`.
    pub shape: Vec<(Option<Id>, bool, bool)>,
}

struct Rewriter<'r> {
    rules: &'r [CompiledRule],
    type_id: Option<Id>,
    adorned: FxHashMap<(Id, Ad), Id>,
    magic: FxHashMap<(Id, Ad), Id>,
    done: FxHashSet<(Id, Ad)>,
    work: Vec<(Id, Ad)>,
    out: Vec<CompiledRule>,
    next: u64,
}

fn is_const(t: &PTerm) -> bool {
    matches!(t, PTerm::Const(_))
}

fn bound(t: &PTerm, slots: &[Slot]) -> bool {
    match t {
        PTerm::Const(_) => true,
        PTerm::Var(v) => slots.contains(v),
        _ => false,
    }
}

/// A pattern over an in-memory relation of the rewrite.
fn relation_atom(s: PTerm, rel: Id, o: PTerm, text: String) -> Pattern {
    Pattern {
        s,
        p: PTerm::Const(rel),
        o,
        g: GTerm::None,
        stored: false,
        derived: true,
        infer_supertypes: false,
        delta_only: false,
        rel: None,
        var_rels: None,
        text,
        span: Span::default(),
    }
}

/// The adornment of a pattern whose positions `bound` tells.  A type pattern's class
/// counts only with its subject: `?x a Student` alone is read from the full relations,
/// which are evaluated per class anyway.
fn adornment(p: &Pattern, type_id: Option<Id>, bound: impl Fn(&PTerm) -> bool) -> Ad {
    let s = bound(&p.s);
    let class = matches!(p.p, PTerm::Const(q) if Some(q) == type_id);
    Ad {
        s,
        o: bound(&p.o) && (s || !class),
    }
}

impl Rewriter<'_> {
    fn synthetic(&mut self) -> Id {
        self.next += 1;
        super::ir::synthetic_id(self.next)
    }

    /// The relation holding `q` adorned `ad` (queued for rewriting the first time).
    fn adorned(&mut self, q: Id, ad: Ad) -> Id {
        if self.done.insert((q, ad)) {
            self.work.push((q, ad));
        }
        if ad == FREE {
            return q;
        }
        if let Some(&r) = self.adorned.get(&(q, ad)) {
            return r;
        }
        let r = self.synthetic();
        self.adorned.insert((q, ad), r);
        r
    }

    fn magic(&mut self, q: Id, ad: Ad) -> Id {
        if let Some(&r) = self.magic.get(&(q, ad)) {
            return r;
        }
        let r = self.synthetic();
        self.magic.insert((q, ad), r);
        r
    }

    /// The magic atom's (subject, object) for a use of a predicate with terms `s`, `o`.
    fn magic_args(ad: Ad, s: &PTerm, o: &PTerm) -> (PTerm, PTerm) {
        let none = PTerm::Const(Id::NONE);
        match (ad.s, ad.o) {
            (true, true) => (s.clone(), o.clone()),
            (true, false) => (s.clone(), none),
            _ => (o.clone(), none),
        }
    }

    /// Rewrite the rules of every adorned use queued.  Predicates used with nothing bound
    /// are left out: their full relations are evaluated as usual.
    fn run(&mut self) {
        while let Some((q, ad)) = self.work.pop() {
            if ad == FREE {
                continue;
            }
            let rules: Vec<&CompiledRule> = self.rules.iter().filter(|r| r.head_p == q).collect();
            for r in rules {
                self.rewrite_rule(r, ad);
            }
        }
    }

    fn rewrite_rule(&mut self, r: &CompiledRule, ad: Ad) {
        let mut slots: Vec<Slot> = Vec::new();
        let mut prefix: Vec<Item> = Vec::new();
        if ad != FREE {
            let m = self.magic(r.head_p, ad);
            let (ms, mo) = Self::magic_args(ad, &r.head_s, &r.head_o);
            for t in [&ms, &mo] {
                if let PTerm::Var(v) = t {
                    slots.push(*v);
                }
            }
            prefix.push(Item::Pattern(relation_atom(
                ms,
                m,
                mo,
                format!("magic of {}", r.text),
            )));
        }
        let mut remaining: Vec<Pattern> = Vec::new();
        let mut filters: Vec<Item> = Vec::new();
        for item in &r.body.items {
            match item {
                Item::Pattern(p) => remaining.push(p.clone()),
                other => filters.push(other.clone()),
            }
        }
        // Sideways information passing: next the pattern with the most bound positions.
        while !remaining.is_empty() {
            let score = |p: &Pattern| {
                (
                    bound(&p.s, &slots) as u8 + bound(&p.o, &slots) as u8,
                    p.derived as u8,
                )
            };
            let mut best = 0;
            for (i, p) in remaining.iter().enumerate() {
                if score(p) > score(&remaining[best]) {
                    best = i;
                }
            }
            let mut pat = remaining.remove(best);
            if pat.derived {
                if let PTerm::Const(q) = pat.p {
                    let use_ad = adornment(&pat, self.type_id, |t| bound(t, &slots));
                    if use_ad != FREE {
                        let m = self.magic(q, use_ad);
                        let (hs, ho) = Self::magic_args(use_ad, &pat.s, &pat.o);
                        self.out.push(CompiledRule {
                            head_s: hs,
                            head_p: m,
                            head_rel: m,
                            head_o: ho,
                            body: Body {
                                items: prefix.clone(),
                            },
                            width: r.width,
                            text: format!("magic for {} in {}", pat.text, r.text),
                        });
                    }
                    pat.rel = Some(self.adorned(q, use_ad));
                }
            }
            pat.add_vars(&mut slots);
            prefix.push(Item::Pattern(pat));
        }
        prefix.extend(filters);
        let head_rel = self.adorned(r.head_p, ad);
        self.out.push(CompiledRule {
            head_s: r.head_s.clone(),
            head_p: r.head_p,
            head_rel,
            head_o: r.head_o.clone(),
            body: Body { items: prefix },
            width: r.width,
            text: r.text.clone(),
        });
    }
}

/// Whether the rewrite applies to these rules.
fn rewritable(rules: &[CompiledRule]) -> bool {
    rules.iter().all(|r| {
        r.body.items.iter().all(|it| match it {
            Item::Pattern(p) => !p.derived || is_const(&p.p),
            Item::Filter(_) => true,
            _ => false,
        })
    })
}

/// Rewrite `query` (its derived patterns read adorned relations) and the rules, or `None`
/// (and `query` untouched) when the rewrite does not apply or would not restrict anything.
/// A constant class alone (`?x a Student`) restricts nothing: the rules given are already
/// only those that can derive the classes asked for.  The program leaves out the rules of
/// predicates used with nothing bound (in the query or in a rewritten body): the caller
/// evaluates their full relations and starts the program from them.
pub fn rewrite(
    query: &mut Body,
    rules: &[CompiledRule],
    derived: &FxHashSet<Id>,
    type_id: Option<Id>,
) -> Option<Program> {
    if !rewritable(rules) {
        return None;
    }
    let restricts = |p: &Pattern| p.derived && adornment(p, type_id, is_const) != FREE;
    if !query
        .items
        .iter()
        .any(|it| matches!(it, Item::Pattern(p) if restricts(p)))
    {
        return None;
    }
    // Derived patterns nested in not/optional/or: keep it simple, evaluate in full.
    let nested = query.items.iter().any(|it| match it {
        Item::Not(b) | Item::Optional(b) => has_derived(b),
        Item::Or(bs) => bs.iter().any(has_derived),
        _ => false,
    });
    if nested {
        return None;
    }
    let mut rw = Rewriter {
        rules,
        type_id,
        adorned: FxHashMap::default(),
        magic: FxHashMap::default(),
        done: FxHashSet::default(),
        work: Vec::new(),
        out: Vec::new(),
        next: 0,
    };
    let mut seeds = Vec::new();
    let mut shape = Vec::new();
    let mut derived_list: Vec<Id> = derived.iter().copied().collect();
    derived_list.sort_unstable();
    for item in query.items.iter_mut() {
        let Item::Pattern(p) = item else { continue };
        if !p.derived {
            continue;
        }
        let ad = adornment(p, type_id, is_const);
        let pred = match p.p {
            PTerm::Const(q) => Some(q),
            _ => None,
        };
        shape.push((pred, ad.s, ad.o));
        let seed = |rw: &mut Rewriter, q: Id| -> Option<(Id, Id, Id)> {
            if ad == FREE {
                return None;
            }
            let m = rw.magic(q, ad);
            let (a, b) = Rewriter::magic_args(ad, &p.s, &p.o);
            match (a, b) {
                (PTerm::Const(x), PTerm::Const(y)) => Some((m, x, y)),
                _ => None,
            }
        };
        match p.p {
            PTerm::Const(q) => {
                seeds.extend(seed(&mut rw, q));
                p.rel = Some(rw.adorned(q, ad));
            }
            _ => {
                let mut rels = Vec::new();
                for &q in &derived_list {
                    seeds.extend(seed(&mut rw, q));
                    rels.push((q, rw.adorned(q, ad)));
                }
                p.var_rels = Some(rels);
            }
        }
    }
    rw.run();
    Some(Program {
        rules: rw.out,
        seeds,
        shape,
    })
}

fn has_derived(b: &Body) -> bool {
    b.any_pattern(&|p| p.derived)
}
