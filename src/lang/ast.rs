//! The typed syntax tree of the dossier language.
//!
//! Every node keeps the byte span of the text it came from, so that any later stage (the
//! checks, the engine, schema enforcement) can point at the exact place.  Spans do not take
//! part in equality: `parse(print(ast)) == ast` compares meaning, not layout.

use crate::diag::Span;
use crate::model::{Date, Kind, Value};

/// Implements `PartialEq` on a node by comparing every field but `span`.  The fields are
/// destructured without `..`, so a field added to the node and not listed here is a
/// compile error rather than a field equality silently ignores.
macro_rules! eq_ignoring_span {
    ($t:ident { $($f:ident),* }) => {
        impl PartialEq for $t {
            fn eq(&self, other: &Self) -> bool {
                let $t { $($f,)* span: _ } = self;
                true $(&& *$f == other.$f)*
            }
        }
    };
}

/// A whole script: statements in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Script {
    /// The statements, in the order written.
    pub statements: Vec<Statement>,
}

/// One statement: what it says, and where it is.
#[derive(Debug, Clone)]
pub struct Statement {
    /// What the statement says.
    pub kind: StatementKind,
    /// From its first word to its final `.`, in the text it was parsed from.
    pub span: Span,
}
eq_ignoring_span!(Statement { kind });

/// Every kind of statement of the language (LANGUAGE.md).
#[derive(Debug, Clone)]
pub enum StatementKind {
    /// `[add] s p o; p o, o [from SRC].`  The patterns hold constants or `$params` only
    /// (the checks reject variables and `_`).  `add` is remembered so printing keeps it.
    Facts {
        /// Whether `add` was written in front.
        add_keyword: bool,
        /// The facts, one per object (`;` and `,` expanded), in the order written.
        triples: Vec<TriplePattern>,
        /// `from SRC` after the facts: their source.  `None` inside a `from` block, whose
        /// source applies.
        source: Option<TermNode>,
    },
    /// `from SRC { fact statements }`
    FromBlock {
        /// The source of every fact in the block.
        source: TermNode,
        /// The statements inside the braces: facts only, none naming a source of its own
        /// (the parser refuses anything else).
        statements: Vec<Statement>,
    },
    /// `del s p o; ... [from SRC].`  Positions may be `_`.
    Del {
        /// What to retract, `_` matching anything.
        triples: Vec<TriplePattern>,
        /// `from SRC`: retract only that source's assertions; `None`: every source's.
        source: Option<TermNode>,
    },
    /// `drop source SRC.`
    DropSource(TermNode),
    /// `drop rule NAME.`: every rule whose head predicate is NAME.
    DropRule(Name),
    /// `find …`: a query.
    Find(Find),
    /// `rule HEAD :- BODY.`: stores a rule.
    Rule(Rule),
    /// `type T [sub U, V].`
    TypeDecl {
        /// The type declared.
        name: Name,
        /// The types after `sub` (empty when there is no `sub`).
        supertypes: Vec<Name>,
    },
    /// `pred p [: DOMAIN -> RANGE].`
    PredDecl {
        /// The predicate declared.
        name: Name,
        /// What subjects should be; `None` when no `: DOMAIN -> RANGE` is written.
        domain: Option<TypeRef>,
        /// What objects should be (a literal kind is enforced on insert); `None` when no
        /// `: DOMAIN -> RANGE` is written.
        range: Option<TypeRef>,
    },
    /// `describe TERM.`
    Describe(TermNode),
    /// `search "text".`
    Search {
        /// The text to look for (escapes resolved).
        text: String,
        /// Where the string literal is.
        span: Span,
    },
    /// `explain [analyze] find ...`
    Explain {
        /// `explain analyze`: run the query and report actual rows and times.
        analyze: bool,
        /// The query explained.
        find: Find,
    },
    /// `load "file.dq".`
    Load {
        /// The file name as written (escapes resolved); a relative one is relative to the
        /// including file.
        path: String,
        /// Where the file name is (for "cannot load" errors).
        span: Span,
    },
    /// `check.`
    Check,
}

/// A name with its span (a predicate, type or alias).
#[derive(Debug, Clone)]
pub struct Name {
    /// The name, without angle brackets or escapes.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}
eq_ignoring_span!(Name { name });

/// The domain or range of a predicate declaration.
#[derive(Debug, Clone)]
pub enum TypeRef {
    /// `_`: anything.
    Any {
        /// Where the `_` is.
        span: Span,
    },
    /// A literal kind: `string int float bool date`.
    Kind {
        /// The kind declared.
        kind: Kind,
        /// Where its name is.
        span: Span,
    },
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

/// A [`Term`] with the span it was written at.
#[derive(Debug, Clone)]
pub struct TermNode {
    /// What is written there.
    pub term: Term,
    /// Where it is written.
    pub span: Span,
}
eq_ignoring_span!(TermNode { term });

/// `s p o [from SRC]`: a triple in a fact, a `del`, a query body or a rule.
#[derive(Debug, Clone)]
pub struct TriplePattern {
    /// The subject.
    pub subject: TermNode,
    /// The predicate (`a` is the entity `type`).
    pub predicate: TermNode,
    /// The object.
    pub object: TermNode,
    /// `from SRC` written on this pattern (queries and rule bodies).  Facts and `del` keep
    /// their statement-level source in the statement instead.
    pub source: Option<TermNode>,
    /// From the subject to the end of the object (or of `from SRC`).
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
    /// The conjuncts, in the order written.
    pub items: Vec<Conjunct>,
    /// Where the body is written.
    pub span: Span,
}
eq_ignoring_span!(Body { items });

/// One conjunct of a body.
#[derive(Debug, Clone, PartialEq)]
pub enum Conjunct {
    /// A triple pattern (`?x backed_by ?y [from ?src]`).
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

/// A comparison operator; on dates each compares intervals (LANGUAGE.md, "Values and
/// dates").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`: see [`Value::lang_eq`].
    Eq,
    /// `!=`: not `=`.
    Ne,
    /// `<`: less than; a date must end before the other starts.
    Lt,
    /// `<=`: `<` or `=`.
    Le,
    /// `>`: greater than; a date must start after the other ends.
    Gt,
    /// `>=`: `>` or `=`.
    Ge,
    /// `in`: the left date's interval lies inside the right date or range.
    In,
    /// `overlaps`: the intervals share a day.
    Overlaps,
}

impl CmpOp {
    /// The operator as written (`<=`, `in`).
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
    /// `contains(s, t)`: whether the text `s` (a string, or an entity's name) contains `t`,
    /// case-sensitively.
    Contains,
    /// `starts_with(s, t)`: whether text `s` starts with `t`.
    StartsWith,
    /// `matches(s, regex)`: whether the regular expression matches somewhere in `s`; a
    /// pattern that is not a regular expression is an error.
    Matches,
    /// `lower(s)`: the text in lowercase, as a string.
    Lower,
    /// `year(d)`: a date's year, as an integer.
    Year,
    /// `month(d)`: a date's month (1..=12); nothing for a date of year precision.
    Month,
    /// `label(e)`: an entity's `label` string, or its name when it has none.
    Label,
    /// `len(s)`: the length of a text, in characters.
    Len,
}

impl Func {
    /// Every function (for completion and did-you-mean).
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

    /// The name the function is called by.
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

    /// The function called `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }

    /// Whether the function is a condition (true or false) rather than a value.
    pub fn is_condition(self) -> bool {
        matches!(self, Func::Contains | Func::StartsWith | Func::Matches)
    }

    /// How many arguments it takes.
    pub fn arity(self) -> usize {
        match self {
            Func::Contains | Func::StartsWith | Func::Matches => 2,
            _ => 1,
        }
    }
}

/// An expression: a filter, a computed column, or a `having`/`order by` key.
#[derive(Debug, Clone)]
pub enum Expr {
    /// A variable, constant or parameter.
    Term(TermNode),
    /// `DATE..DATE`, only meaningful on the right of `in` / `overlaps`.
    Range {
        /// The first date: the range starts where it starts.
        from: Date,
        /// The last date: the range ends where it ends (included).
        to: Date,
        /// From the first date to the last.
        span: Span,
    },
    /// `left op right`
    Cmp {
        /// The operator.
        op: CmpOp,
        /// The left operand.
        left: Box<Expr>,
        /// The right operand.
        right: Box<Expr>,
        /// From the left operand to the right one.
        span: Span,
    },
    /// `func(args)`
    Call {
        /// The function.
        func: Func,
        /// Its arguments, as many as [`Func::arity`] (the parser checks).
        args: Vec<Expr>,
        /// From the name to the closing parenthesis.
        span: Span,
    },
    /// A column of the find list named by its alias, in `having` and `order by`
    /// (`having n >= 5`, `order by clients desc`).
    Alias(Name),
    /// An aggregate, in `having` and `order by` (`having count(?e) > 2`).
    Aggregate(Box<Aggregate>),
}

impl Expr {
    /// Where the expression is written.
    pub fn span(&self) -> Span {
        match self {
            Expr::Term(t) => t.span,
            Expr::Range { span, .. } | Expr::Cmp { span, .. } | Expr::Call { span, .. } => *span,
            Expr::Alias(n) => n.span,
            Expr::Aggregate(a) => a.span,
        }
    }
}

/// An aggregate function of the find list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// `count(?v)`: solutions where `?v` is bound; `count(distinct ?v)`: distinct values;
    /// `count()`: solutions.
    Count,
    /// `min(?v)`: the smallest value, in `order by` order.
    Min,
    /// `max(?v)`: the largest value, in `order by` order.
    Max,
    /// `sum(?v)`: the sum of the numbers (an integer when all are), other kinds ignored.
    Sum,
    /// `avg(?v)`: the mean of the numbers, as a float; other kinds ignored.
    Avg,
}

impl AggFunc {
    /// Every aggregate (for highlighting, completion and did-you-mean).
    pub const ALL: [AggFunc; 5] = [
        AggFunc::Count,
        AggFunc::Min,
        AggFunc::Max,
        AggFunc::Sum,
        AggFunc::Avg,
    ];

    /// The name the aggregate is called by.
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
    /// The aggregate function.
    pub func: AggFunc,
    /// `distinct` written before the argument: each distinct value counts once.
    pub distinct: bool,
    /// `None` only for `count()`: the number of solutions.
    pub arg: Option<Expr>,
    /// From the name to the closing parenthesis.
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
    Expr {
        /// The expression.
        expr: Expr,
        /// `as NAME`: the column's name (a variable's column is named after it otherwise).
        alias: Option<Name>,
    },
    /// An aggregate; the other columns of the find list are the groups.
    Aggregate {
        /// The aggregate.
        aggregate: Aggregate,
        /// `as NAME`: the column's name (otherwise the aggregate as written,
        /// `count(?e)`).
        alias: Option<Name>,
    },
}

impl Projection {
    /// The `as NAME` of the column, if it has one.
    pub fn alias(&self) -> Option<&Name> {
        match self {
            Projection::Expr { alias, .. } | Projection::Aggregate { alias, .. } => alias.as_ref(),
        }
    }
}

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Order {
    /// Ascending (the default).
    Asc,
    /// Descending.
    Desc,
}

/// One key of `order by`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderKey {
    /// What to sort by: a variable, an alias, an aggregate or another expression.
    pub expr: Expr,
    /// The direction ([`Order::Asc`] when none is written).
    pub order: Order,
    /// Whether `asc`/`desc` was written (kept for printing).
    pub explicit: bool,
}

/// A `limit` or `offset` count: a number or a `$param`.
#[derive(Debug, Clone, PartialEq)]
pub enum Count {
    /// A number written in the query.
    Value(u64),
    /// A `$name` parameter (the name without `$`), which must hold a whole number ≥ 0.
    Param(String),
}

/// `find [distinct] cols|* where body [having ...] [order by ...] [limit N] [offset N]`
#[derive(Debug, Clone)]
pub struct Find {
    /// `find distinct`: accepted and kept for printing; answers are sets either way.
    pub distinct: bool,
    /// Empty means `*`: every variable of the body, in order of first appearance.
    pub projection: Vec<Projection>,
    /// The body after `where`.
    pub body: Body,
    /// Conditions after `having`, separated by `,` (all must hold).
    pub having: Vec<Expr>,
    /// The `order by` keys, most significant first.
    pub order_by: Vec<OrderKey>,
    /// `limit N`: at most N rows, taken after `offset`.
    pub limit: Option<Count>,
    /// `offset N`: skip the first N rows (of the ordered result).
    pub offset: Option<Count>,
    /// From `find` to the end of the query (the `.` excluded).
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
    /// The triple the rule derives; its predicate is a constant.
    pub head: TriplePattern,
    /// The conditions under which it holds.
    pub body: Body,
    /// From `rule` to the end of the body (the `.` excluded).
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

impl StatementKind {
    /// Whether the statement changes the database (facts, `del`, `drop`, rules, schema):
    /// what a read-only database or server refuses.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            StatementKind::Facts { .. }
                | StatementKind::FromBlock { .. }
                | StatementKind::Del { .. }
                | StatementKind::DropSource(_)
                | StatementKind::DropRule(_)
                | StatementKind::Rule(_)
                | StatementKind::TypeDecl { .. }
                | StatementKind::PredDecl { .. }
        )
    }
}

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
            (Search { text: a, span: _ }, Search { text: b, span: _ }) => a == b,
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
            (Load { path: a, span: _ }, Load { path: b, span: _ }) => a == b,
            (Check, Check) => true,
            // Listed without a wildcard so that a new kind must be added above.
            (
                Facts { .. }
                | FromBlock { .. }
                | Del { .. }
                | DropSource(_)
                | DropRule(_)
                | Find(_)
                | Rule(_)
                | TypeDecl { .. }
                | PredDecl { .. }
                | Describe(_)
                | Search { .. }
                | Explain { .. }
                | Load { .. }
                | Check,
                _,
            ) => false,
        }
    }
}

impl PartialEq for TypeRef {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (TypeRef::Any { span: _ }, TypeRef::Any { span: _ }) => true,
            (TypeRef::Kind { kind: a, span: _ }, TypeRef::Kind { kind: b, span: _ }) => a == b,
            (TypeRef::Class(a), TypeRef::Class(b)) => a == b,
            (TypeRef::Any { .. } | TypeRef::Kind { .. } | TypeRef::Class(_), _) => false,
        }
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Expr::Term(a), Expr::Term(b)) => a == b,
            (
                Expr::Range {
                    from: f,
                    to: t,
                    span: _,
                },
                Expr::Range {
                    from: f2,
                    to: t2,
                    span: _,
                },
            ) => f == f2 && t == t2,
            (
                Expr::Cmp {
                    op: o,
                    left: l,
                    right: r,
                    span: _,
                },
                Expr::Cmp {
                    op: o2,
                    left: l2,
                    right: r2,
                    span: _,
                },
            ) => o == o2 && l == l2 && r == r2,
            (
                Expr::Call {
                    func: f,
                    args: a,
                    span: _,
                },
                Expr::Call {
                    func: f2,
                    args: a2,
                    span: _,
                },
            ) => f == f2 && a == a2,
            (Expr::Alias(a), Expr::Alias(b)) => a == b,
            (Expr::Aggregate(a), Expr::Aggregate(b)) => a == b,
            (
                Expr::Term(_)
                | Expr::Range { .. }
                | Expr::Cmp { .. }
                | Expr::Call { .. }
                | Expr::Alias(_)
                | Expr::Aggregate(_),
                _,
            ) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lang::parse_script;

    fn parsed(text: &str) -> super::Script {
        match parse_script(text) {
            Ok(s) => s,
            Err(d) => panic!("{text}: {}", d.message),
        }
    }

    /// The same statements laid out differently: every span differs, nothing else does.
    const BASE: &str = "e p 1 from s. from s { b q \"x\". } del e p _ from s. drop source s. \
        drop rule r. type T sub U. pred p: T -> int. pred q: _ -> U. describe e. \
        search \"t\". load \"f.dq\". check. rule ?x r ?y :- ?x p ?y, ?y > 1. \
        explain find ?x count(distinct ?y) as n where ?x p ?y, ?y in 2020..2021, \
        contains(?x, \"a\"), not { ?x q _ }, optional { ?x r ?z }, { ?x s ?w } or { ?x t ?w } \
        having n > 1 order by n desc limit 3 offset 1.";

    #[test]
    fn spans_do_not_take_part_in_equality() {
        let spaced = BASE.replace(' ', "\n   ");
        let (a, b) = (parsed(BASE), parsed(&spaced));
        assert_ne!(
            format!("{a:?}"),
            format!("{b:?}"),
            "the spans should differ"
        );
        assert_eq!(a, b);
    }

    #[test]
    fn every_other_field_takes_part_in_equality() {
        // One change per field kind: each must make the scripts differ.
        let changes = [
            ("e p 1 from s.", "add e p 1 from s."),
            ("e p 1 from s.", "e p 2 from s."),
            ("e p 1 from s.", "e p 1 from s2."),
            ("e p 1 from s.", "e p 1."),
            ("from s { b q \"x\". }", "from s { b q \"y\". }"),
            ("del e p _ from s.", "del e p _."),
            ("?x r ?y :-", "?x r2 ?y :-"),
            ("drop source s.", "drop source s2."),
            ("drop rule r.", "drop rule r2."),
            ("type T sub U.", "type T."),
            ("pred p: T -> int.", "pred p: T -> string."),
            ("pred q: _ -> U.", "pred q: U -> U."),
            ("describe e.", "describe b."),
            ("search \"t\".", "search \"u\"."),
            ("load \"f.dq\".", "load \"g.dq\"."),
            ("?y > 1.", "?y >= 1."),
            ("explain find", "explain analyze find"),
            ("count(distinct ?y)", "count(?y)"),
            ("as n where", "as m where"),
            ("2020..2021", "2020..2022"),
            ("contains(?x", "starts_with(?x"),
            ("having n > 1", "having n > 2"),
            ("order by n desc", "order by n asc"),
            ("limit 3", "limit 4"),
            ("offset 1", "offset 2"),
        ];
        let base = parsed(BASE);
        for (from, to) in changes {
            assert!(BASE.contains(from), "{from}");
            let changed = BASE.replacen(from, to, 1);
            assert_ne!(base, parsed(&changed), "{from} → {to}");
        }
    }
}
