//! The engine's form of a query body: variables become slots of a row, constants become
//! ids, types become the set of their subtypes, and each pattern knows whether stored
//! facts, derived facts, or both can match it.  The compiler from the syntax tree is in
//! `compile.rs`.

use crate::diag::Span;
use crate::lang::ast::{CmpOp, Func};
use crate::model::{DateRange, Value};
use crate::store::{kind, GraphSel, Id};
use std::collections::BTreeMap;

/// Values bound to `$name` parameters by the caller.
pub type Params = BTreeMap<String, Value>;

/// Index of a variable in a row.
pub type Slot = usize;

/// A position of a pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum PTerm {
    /// A variable: reads the slot when it is bound, binds it otherwise.
    Var(Slot),
    /// A constant the store knows.
    Const(Id),
    /// A type and its subtypes (`?x a Actor`).
    OneOf(Vec<Id>),
    /// `_`: anything, binds nothing.
    Any,
    /// A constant the store has never seen: nothing matches.
    Never,
}

/// The source position of a pattern.
#[derive(Debug, Clone, PartialEq)]
pub enum GTerm {
    /// No `from` (or `from _`): each triple once.
    None,
    /// `from ?src`: binds (or reads) the asserting source, so a triple asserted by two sources
    /// matches twice.
    Var(Slot),
    /// `from SOURCE`: only that source's assertions.
    Const(Id),
    /// A source the store has never seen: nothing matches.
    Never,
}

impl GTerm {
    /// Which assertions a scan reads: `value(slot)` is a variable's value when it is
    /// bound.  `None` when nothing can match (a source never seen).
    pub fn selector(&self, value: impl Fn(Slot) -> Option<Id>) -> Option<GraphSel> {
        match self {
            GTerm::None => Some(GraphSel::Any),
            GTerm::Const(id) => Some(GraphSel::Is(*id)),
            GTerm::Var(v) => Some(value(*v).map_or(GraphSel::Each, GraphSel::Is)),
            GTerm::Never => None,
        }
    }
}

/// The object ranges a scan covers: each range pushed down into it, or one unrestricted
/// scan when there are none or the object is bound.
pub fn range_options(
    ranges: &[(Id, Id)],
    object_bound: bool,
) -> impl Iterator<Item = Option<(Id, Id)>> + '_ {
    let (each, whole) = if ranges.is_empty() || object_bound {
        (&[][..], Some(None))
    } else {
        (ranges, None)
    };
    each.iter().map(|r| Some(*r)).chain(whole)
}

/// A compiled triple pattern: its positions, its source, and which facts it can match
/// (stored, derived by rules, or both).
#[derive(Debug, Clone)]
pub struct Pattern {
    /// The subject.
    pub s: PTerm,
    /// The predicate.
    pub p: PTerm,
    /// The object; [`PTerm::OneOf`] for `?x a T` when `T` has subtypes.
    pub o: PTerm,
    /// The source (`from …`).
    pub g: GTerm,
    /// Stored facts can match (false for a predicate only rules derive).
    pub stored: bool,
    /// Derived facts can match.
    pub derived: bool,
    /// `?x a ?t` also yields every supertype of each stated type.
    pub infer_supertypes: bool,
    /// Semi-naive evaluation: match only the derived facts new in the last round.
    pub delta_only: bool,
    /// Where derived facts of a constant predicate are read from, when not from the
    /// predicate's own relation (a magic-set rewrite's adorned relation).
    pub rel: Option<Id>,
    /// For a variable predicate: the (predicate, relation) pairs of derived facts it can
    /// match (`None`: every derived predicate, each from its own relation).
    pub var_rels: Option<Vec<(Id, Id)>>,
    /// Canonical text (`?e venue ?c`), for plans and deterministic tie-breaks.
    pub text: String,
    /// Where the pattern is in the statement, for diagnostics.
    pub span: Span,
}

impl Pattern {
    /// The slots of its variables (subject, predicate, object, then source), each once.
    pub fn vars(&self) -> Vec<Slot> {
        let mut v = Vec::new();
        self.add_vars(&mut v);
        v
    }

    /// Add the pattern's variables that `out` does not hold yet.
    pub fn add_vars(&self, out: &mut Vec<Slot>) {
        let g = match self.g {
            GTerm::Var(x) => Some(x),
            _ => None,
        };
        let terms = [&self.s, &self.p, &self.o]
            .into_iter()
            .filter_map(|t| match t {
                PTerm::Var(x) => Some(*x),
                _ => None,
            });
        for x in terms.chain(g) {
            if !out.contains(&x) {
                out.push(x);
            }
        }
    }

    /// The relation holding derived facts of predicate `pid` for this pattern.
    pub fn relation_for(&self, pid: Id) -> Id {
        if let (Some(r), PTerm::Const(p)) = (self.rel, &self.p) {
            if *p == pid {
                return r;
            }
        }
        self.var_rels
            .as_ref()
            .and_then(|v| v.iter().find(|(p, _)| *p == pid).map(|(_, r)| *r))
            .unwrap_or(pid)
    }

    /// Whether a position holds something the store has never seen, so nothing can match.
    pub fn is_never(&self) -> bool {
        [&self.s, &self.p, &self.o]
            .iter()
            .any(|t| matches!(t, PTerm::Never))
            || self.g == GTerm::Never
    }
}

/// An expression over a row.
#[derive(Debug, Clone)]
pub enum Ex {
    /// The value bound to a variable.
    Slot(Slot),
    /// A constant, with its id when the store has one (for id-level fast paths).
    Const(Value, Option<Id>),
    /// A date range `DATE..DATE`: the days from the start of one to the end of the other.
    Range(DateRange),
    /// A comparison `left op right`.
    Cmp(CmpOp, Box<Ex>, Box<Ex>),
    /// A function call with its arguments.
    Call(Func, Vec<Ex>),
    /// A column of the find list (having / order by), filled in after aggregation.
    Column(usize),
}

impl Ex {
    /// Add the slots the expression reads to `out`, each once (find-list columns are not
    /// slots and are left out).
    pub fn slots(&self, out: &mut Vec<Slot>) {
        match self {
            Ex::Slot(s) => {
                if !out.contains(s) {
                    out.push(*s)
                }
            }
            Ex::Cmp(_, a, b) => {
                a.slots(out);
                b.slots(out);
            }
            Ex::Call(_, args) => args.iter().for_each(|a| a.slots(out)),
            Ex::Const(..) | Ex::Range(_) | Ex::Column(_) => {}
        }
    }
}

/// A comparison or function conjunct of a body: a row passes when it evaluates to true.
#[derive(Debug, Clone)]
pub struct Filter {
    /// The condition.
    pub ex: Ex,
    /// Canonical text (`?d in 2020`), for plans and deterministic tie-breaks.
    pub text: String,
    /// Where the filter is in the statement, for diagnostics.
    pub span: Span,
}

/// One conjunct of a compiled body.
#[derive(Debug, Clone)]
pub enum Item {
    /// A triple pattern.
    Pattern(Pattern),
    /// A comparison or function filter.
    Filter(Filter),
    /// `not { … }`: the row passes when the inner body has no solution for it.
    Not(Body),
    /// `optional { … }`: extends the row when the inner body matches, keeps it (its new
    /// variables unbound) when it does not.
    Optional(Body),
    /// `{ … } or { … }`: the solutions of each alternative, in turn.
    Or(Vec<Body>),
}

/// A compiled body: its conjuncts, in the written order (the planner chooses the order
/// they run in).
#[derive(Debug, Clone, Default)]
pub struct Body {
    /// The conjuncts.
    pub items: Vec<Item>,
}

impl Body {
    /// Slots bound by positive patterns of this body (incl. `optional` and `or`).
    pub fn bound_slots(&self, out: &mut Vec<Slot>) {
        for item in &self.items {
            match item {
                Item::Pattern(p) => p.add_vars(out),
                Item::Optional(b) => b.bound_slots(out),
                Item::Or(bs) => bs.iter().for_each(|b| b.bound_slots(out)),
                Item::Filter(_) | Item::Not(_) => {}
            }
        }
    }

    /// Whether some pattern of the body, at any depth, satisfies `f`.
    pub fn any_pattern(&self, f: &dyn Fn(&Pattern) -> bool) -> bool {
        self.items.iter().any(|it| match it {
            Item::Pattern(p) => f(p),
            Item::Not(b) | Item::Optional(b) => b.any_pattern(f),
            Item::Or(bs) => bs.iter().any(|b| b.any_pattern(f)),
            Item::Filter(_) => false,
        })
    }

    /// Every slot mentioned anywhere in the body.
    pub fn all_slots(&self, out: &mut Vec<Slot>) {
        for item in &self.items {
            match item {
                Item::Pattern(p) => p.add_vars(out),
                Item::Filter(f) => f.ex.slots(out),
                Item::Not(b) | Item::Optional(b) => b.all_slots(out),
                Item::Or(bs) => bs.iter().for_each(|b| b.all_slots(out)),
            }
        }
    }
}

/// Synthetic predicate ids for rewritten rule programs (magic sets): never stored, never
/// decoded, far above any id the dictionary hands out.
pub const SYNTHETIC_BASE: u64 = 1 << 62;

/// The `n`th synthetic predicate id (see [`SYNTHETIC_BASE`]).
pub fn synthetic_id(n: u64) -> Id {
    Id::new(kind::ENTITY, SYNTHETIC_BASE + n)
}
