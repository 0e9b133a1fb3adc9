//! The typed syntax tree of the dossier language.
//!
//! Every node keeps the byte span of the text it came from, so that any later stage (the
//! checks, the engine, schema enforcement) can point at the exact place.  Spans do not take
//! part in equality: `parse(print(ast)) == ast` compares meaning, not layout.

use crate::diag::Span;
use crate::model::{Date, Kind, Value};

/// Implements `PartialEq` on a node by comparing every field but `span`.
macro_rules! eq_ignoring_span {
    ($t:ty { $($f:ident),* }) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                true $(&& self.$f == other.$f)*
            }
        }
    };
}

/// A whole script: statements in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub kind: StatementKind,
    pub span: Span,
}
eq_ignoring_span!(Statement { kind });

#[derive(Debug, Clone)]
pub enum StatementKind {
    /// `[add] s p o; p o, o [from SRC].`  The patterns hold constants or `$params` only
    /// (the checks reject variables and `_`).  `add` is remembered so printing keeps it.
    Facts {
        add_keyword: bool,
        triples: Vec<TriplePattern>,
        source: Option<TermNode>,
    },
    /// `from SRC { fact statements }`
    FromBlock {
        source: TermNode,
        statements: Vec<Statement>,
    },
    /// `del s p o; ... [from SRC].`  Positions may be `_`.
    Del {
        triples: Vec<TriplePattern>,
        source: Option<TermNode>,
    },
    /// `drop source SRC.`
    DropSource(TermNode),
    /// `drop rule NAME.`: every rule whose head predicate is NAME.
    DropRule(Name),
    Find(Find),
    Rule(Rule),
    /// `type T [sub U, V].`
    TypeDecl {
        name: Name,
        supertypes: Vec<Name>,
    },
    /// `pred p [: DOMAIN -> RANGE].`
    PredDecl {
        name: Name,
        domain: Option<TypeRef>,
        range: Option<TypeRef>,
    },
    /// `describe TERM.`
    Describe(TermNode),
    /// `search "text".`
    Search {
        text: String,
        span: Span,
    },
    /// `explain [analyze] find ...`
    Explain {
        analyze: bool,
        find: Find,
    },
    /// `load "file.dq".`
    Load {
        path: String,
        span: Span,
    },
    /// `check.`
    Check,
}

/// A name with its span (a predicate, type or alias).
#[derive(Debug, Clone)]
pub struct Name {
    pub name: String,
    pub span: Span,
}
eq_ignoring_span!(Name { name });

/// The domain or range of a predicate declaration.
#[derive(Debug, Clone)]
pub enum TypeRef {
    /// `_`: anything.
    Any { span: Span },
    /// A literal kind: `string int float bool date`.
    Kind { kind: Kind, span: Span },
    /// An entity class, e.g. `Actor`.
    Class(Name),
}

/// What can stand in a position of a pattern or fact.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// `?name` (the name without `?`).
    Var(String),
    /// `_`: matches anything, binds nothing.
    Wildcard,
    /// `$name` (the name without `$`), bound by the caller.
    Param(String),
    /// A constant: an entity (bare, or in `<...>`) or a literal.  `a` in predicate position
    /// is the entity `type`.
    Value(Value),
}

#[derive(Debug, Clone)]
pub struct TermNode {
    pub term: Term,
    pub span: Span,
}
eq_ignoring_span!(TermNode { term });

/// `s p o [from SRC]`: a triple in a fact, a `del`, a query body or a rule.
#[derive(Debug, Clone)]
pub struct TriplePattern {
    pub subject: TermNode,
    pub predicate: TermNode,
    pub object: TermNode,
    /// `from SRC` written on this pattern (queries and rule bodies).  Facts and `del` keep
    /// their statement-level source in the statement instead.
    pub source: Option<TermNode>,
    pub span: Span,
}
eq_ignoring_span!(TriplePattern {
    subject,
    predicate,
    object,
    source
});

/// The conjunction after `where` (or inside `{ }`).
#[derive(Debug, Clone)]
pub struct Body {
    pub items: Vec<Conjunct>,
    pub span: Span,
}
eq_ignoring_span!(Body { items });

#[derive(Debug, Clone, PartialEq)]
pub enum Conjunct {
    Pattern(TriplePattern),
    /// A boolean expression: a comparison or a function call such as `contains(?l, "x")`.
    Filter(Expr),
    /// `not { ... }`
    Not(Body),
    /// `optional { ... }`
    Optional(Body),
    /// `{ ... } or { ... } [or { ... }]...`: at least two branches.
    Or(Vec<Body>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// `in`: the left date's interval lies inside the right date or range.
    In,
    /// `overlaps`: the intervals share a day.
    Overlaps,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::Overlaps => "overlaps",
        }
    }
}

/// The built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    Contains,
    StartsWith,
    Matches,
    Lower,
    Year,
    Month,
    Label,
    Len,
}

impl Func {
    pub const ALL: [Func; 8] = [
        Func::Contains,
        Func::StartsWith,
        Func::Matches,
        Func::Lower,
        Func::Year,
        Func::Month,
        Func::Label,
        Func::Len,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Func::Contains => "contains",
            Func::StartsWith => "starts_with",
            Func::Matches => "matches",
            Func::Lower => "lower",
            Func::Year => "year",
            Func::Month => "month",
            Func::Label => "label",
            Func::Len => "len",
        }
    }

    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// How many arguments it takes.
    pub fn arity(self) -> usize {
        match self {
            Func::Contains | Func::StartsWith | Func::Matches => 2,
            _ => 1,
        }
    }
}

#[derive(Debug, Clone)]
pub enum Expr {
    /// A variable, constant or parameter.
    Term(TermNode),
    /// `DATE..DATE`, only meaningful on the right of `in` / `overlaps`.
    Range { from: Date, to: Date, span: Span },
    /// `left op right`
    Cmp {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
        span: Span,
    },
    /// `func(args)`
    Call {
        func: Func,
        args: Vec<Expr>,
        span: Span,
    },
    /// A column of the find list named by its alias, in `having` and `order by`
    /// (`having n >= 5`, `order by clients desc`).
    Alias(Name),
    /// An aggregate, in `having` and `order by` (`having count(?e) > 2`).
    Aggregate(Box<Aggregate>),
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Term(t) => t.span,
            Expr::Range { span, .. } | Expr::Cmp { span, .. } | Expr::Call { span, .. } => *span,
            Expr::Alias(n) => n.span,
            Expr::Aggregate(a) => a.span,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    Count,
    Min,
    Max,
    Sum,
    Avg,
}

impl AggFunc {
    pub fn name(self) -> &'static str {
        match self {
            AggFunc::Count => "count",
            AggFunc::Min => "min",
            AggFunc::Max => "max",
            AggFunc::Sum => "sum",
            AggFunc::Avg => "avg",
        }
    }
}

/// `count(?v)`, `count(distinct ?v)`, `count()`, `min(?v)` ...
#[derive(Debug, Clone)]
pub struct Aggregate {
    pub func: AggFunc,
    pub distinct: bool,
    /// `None` only for `count()`: the number of solutions.
    pub arg: Option<Expr>,
    pub span: Span,
}
eq_ignoring_span!(Aggregate {
    func,
    distinct,
    arg
});

/// One column of the find list.
#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// An expression: usually a variable, or a function of variables (`year(?d)`).
    Expr { expr: Expr, alias: Option<Name> },
    Aggregate {
        aggregate: Aggregate,
        alias: Option<Name>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    Asc,
    Desc,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    pub expr: Expr,
    pub order: Order,
    /// Whether `asc`/`desc` was written (kept for printing).
    pub explicit: bool,
}

/// A `limit` or `offset` count: a number or a `$param`.
#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    Value(u64),
    Param(String),
}

/// `find [distinct] cols|* where body [having ...] [order by ...] [limit N] [offset N]`
#[derive(Debug, Clone)]
pub struct Find {
    pub distinct: bool,
    /// Empty means `*`: every variable of the body, in order of first appearance.
    pub projection: Vec<Projection>,
    pub body: Body,
    /// Conditions after `having`, separated by `,` (all must hold).
    pub having: Vec<Expr>,
    pub order_by: Vec<OrderKey>,
    pub limit: Option<Count>,
    pub offset: Option<Count>,
    pub span: Span,
}
eq_ignoring_span!(Find {
    distinct,
    projection,
    body,
    having,
    order_by,
    limit,
    offset
});

/// `rule HEAD :- BODY.`
#[derive(Debug, Clone)]
pub struct Rule {
    pub head: TriplePattern,
    pub body: Body,
    pub span: Span,
}
eq_ignoring_span!(Rule { head, body });

impl Find {
    /// True when the find list is `*`.
    pub fn is_star(&self) -> bool {
        self.projection.is_empty()
    }
}

// Equality of the nodes whose variants carry a span inline: like a derive, but spans are
// ignored, as for every other node (`parse(print(ast)) == ast` compares meaning).

impl PartialEq for StatementKind {
    fn eq(&self, other: &Self) -> bool {
        use StatementKind::*;
        match (self, other) {
            (
                Facts {
                    add_keyword: a,
                    triples: t,
                    source: s,
                },
                Facts {
                    add_keyword: a2,
                    triples: t2,
                    source: s2,
                },
            ) => a == a2 && t == t2 && s == s2,
            (
                FromBlock {
                    source: s,
                    statements: st,
                },
                FromBlock {
                    source: s2,
                    statements: st2,
                },
            ) => s == s2 && st == st2,
            (
                Del {
                    triples: t,
                    source: s,
                },
                Del {
                    triples: t2,
                    source: s2,
                },
            ) => t == t2 && s == s2,
            (DropSource(a), DropSource(b)) => a == b,
            (DropRule(a), DropRule(b)) => a == b,
            (Find(a), Find(b)) => a == b,
            (Rule(a), Rule(b)) => a == b,
            (
                TypeDecl {
                    name: n,
                    supertypes: s,
                },
                TypeDecl {
                    name: n2,
                    supertypes: s2,
                },
            ) => n == n2 && s == s2,
            (
                PredDecl {
                    name: n,
                    domain: d,
                    range: r,
                },
                PredDecl {
                    name: n2,
                    domain: d2,
                    range: r2,
                },
            ) => n == n2 && d == d2 && r == r2,
            (Describe(a), Describe(b)) => a == b,
            (Search { text: a, .. }, Search { text: b, .. }) => a == b,
            (
                Explain {
                    analyze: a,
                    find: f,
                },
                Explain {
                    analyze: a2,
                    find: f2,
                },
            ) => a == a2 && f == f2,
            (Load { path: a, .. }, Load { path: b, .. }) => a == b,
            (Check, Check) => true,
            _ => false,
        }
    }
}

impl PartialEq for TypeRef {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TypeRef::Any { .. }, TypeRef::Any { .. }) => true,
            (TypeRef::Kind { kind: a, .. }, TypeRef::Kind { kind: b, .. }) => a == b,
            (TypeRef::Class(a), TypeRef::Class(b)) => a == b,
            _ => false,
        }
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Expr::Term(a), Expr::Term(b)) => a == b,
            (
                Expr::Range { from: f, to: t, .. },
                Expr::Range {
                    from: f2, to: t2, ..
                },
            ) => f == f2 && t == t2,
            (
                Expr::Cmp {
                    op: o,
                    left: l,
                    right: r,
                    ..
                },
                Expr::Cmp {
                    op: o2,
                    left: l2,
                    right: r2,
                    ..
                },
            ) => o == o2 && l == l2 && r == r2,
            (
                Expr::Call {
                    func: f, args: a, ..
                },
                Expr::Call {
                    func: f2, args: a2, ..
                },
            ) => f == f2 && a == a2,
            (Expr::Alias(a), Expr::Alias(b)) => a == b,
            (Expr::Aggregate(a), Expr::Aggregate(b)) => a == b,
            _ => false,
        }
    }
}
