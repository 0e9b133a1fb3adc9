//! Compiles a query or rule body from the syntax tree into the engine's form ([`super::ir`]):
//! variables become slots, constants ids, types the set of their subtypes; names the
//! database has never seen give warnings with a suggestion.

use super::budget::Budget;
use super::catalog::Catalog;
use super::exec::Interrupt;
use super::ir::{Body, Ex, Filter, GTerm, Item, PTerm, Params, Pattern, Slot};
use crate::diag::{suggest, Diagnostic};
use crate::error::{Error, Result};
use crate::lang::ast::{self, Term};
use crate::model::{DateRange, Value, TYPE_PREDICATE};
use crate::store::{Delta, Id, Store};
use rustc_hash::{FxHashMap, FxHashSet};

/// What the compiler needs to know about the database.
pub struct Context<'a> {
    /// The store the query reads.
    pub store: &'a Store,
    /// Writes not yet committed (a transaction's) that the query sees as if they were.
    pub delta: Option<&'a Delta>,
    /// The schema and rules, as `delta` leaves them.
    pub catalog: &'a Catalog,
    /// Values of the statement's `$name` parameters.
    pub params: &'a Params,
    /// The id of the `type` predicate, if the store has it.
    pub type_id: Option<Id>,
    /// Predicates derived by rules (ids), and synthetic ones of rewritten programs.
    pub derived: &'a FxHashSet<Id>,
    /// For each type with subtypes: the ids of the type and all its subtypes.
    pub subtypes: &'a FxHashMap<Id, Vec<Id>>,
    /// For each type with supertypes: the ids of all its supertypes (itself excluded).
    pub supertypes: &'a FxHashMap<Id, Vec<Id>>,
    /// Cancellation and the deadline of the statement (checked while planning too).
    pub interrupt: Interrupt,
    /// The memory the statement may hold, charged where rows are kept.
    pub budget: Budget,
    /// The classes rules derive (see [`SchemaIds::derived_classes`]).
    pub derived_classes: &'a Option<FxHashSet<Id>>,
}

/// The ids the catalog's names have in the store: computed once per committed version
/// (dozens of dictionary lookups for a real schema) and shared by every query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SchemaIds {
    /// The id of the `type` predicate, if the store has it.
    pub type_id: Option<Id>,
    /// The id of the `label` predicate (for `label(…)`), if the store has it.
    pub label_id: Option<Id>,
    /// Ids of the predicates rules derive (those the store knows).
    pub derived: FxHashSet<Id>,
    /// For each type with subtypes: the ids of the type and all its subtypes, sorted.
    pub subtypes: FxHashMap<Id, Vec<Id>>,
    /// For each type with supertypes: the ids of all its supertypes (itself excluded).
    pub supertypes: FxHashMap<Id, Vec<Id>>,
    /// The classes rules derive `?x a C` for; `None` when some rule derives a class that is
    /// not a constant.  A `?x a T` pattern reads derived facts only when T or a subtype
    /// is one of them.
    pub derived_classes: Option<FxHashSet<Id>>,
}

impl SchemaIds {
    /// Look up the ids of the catalog's names in the store (and `delta`); names the store
    /// has never seen are left out, since no fact can mention them.
    pub fn compute(store: &Store, delta: Option<&Delta>, catalog: &Catalog) -> Result<SchemaIds> {
        let type_id = store.lookup_entity(TYPE_PREDICATE, delta)?;
        let label_id = store.lookup_entity("label", delta)?;
        let mut derived = FxHashSet::default();
        for head in catalog.derived() {
            if let Some(id) = store.lookup_entity(head, delta)? {
                derived.insert(id);
            }
        }
        let mut derived_classes = Some(FxHashSet::default());
        for r in catalog.rules.iter().filter(|r| r.head == TYPE_PREDICATE) {
            let rule = super::rules::parse_rule(&r.text)?;
            match &rule.head.object.term {
                Term::Value(Value::Entity(c)) => {
                    if let (Some(set), Some(id)) =
                        (derived_classes.as_mut(), store.lookup_entity(c, delta)?)
                    {
                        set.insert(id);
                    }
                }
                _ => derived_classes = None,
            }
        }
        let mut subtypes = FxHashMap::default();
        let mut supertypes = FxHashMap::default();
        for t in catalog.types.keys() {
            let Some(tid) = store.lookup_entity(t, delta)? else {
                continue;
            };
            if catalog.has_subtypes(t) {
                let mut ids = Vec::new();
                for sub in catalog.subtypes(t) {
                    if let Some(id) = store.lookup_entity(&sub, delta)? {
                        ids.push(id);
                    }
                }
                ids.sort_unstable();
                subtypes.insert(tid, ids);
            }
            let mut sups: Vec<Id> = Vec::new();
            for s in catalog.supertypes(t).into_iter().filter(|s| s != t) {
                if let Some(id) = store.lookup_entity(&s, delta)? {
                    sups.push(id);
                }
            }
            if !sups.is_empty() {
                supertypes.insert(tid, sups);
            }
        }
        Ok(SchemaIds {
            type_id,
            label_id,
            derived,
            subtypes,
            supertypes,
            derived_classes,
        })
    }
}

/// The catalog with its ids, for the committed state (cached per version) or as a
/// transaction's pending changes leave it.
pub fn schema(
    store: &Store,
    delta: Option<&Delta>,
) -> Result<std::sync::Arc<(Catalog, SchemaIds)>> {
    if delta.is_none_or(Delta::is_empty) {
        return store.memo(|| {
            let catalog = Catalog::load(store, None)?;
            let ids = SchemaIds::compute(store, None, &catalog)?;
            Ok((catalog, ids))
        });
    }
    let catalog = Catalog::load(store, delta)?;
    let ids = SchemaIds::compute(store, delta, &catalog)?;
    Ok(std::sync::Arc::new((catalog, ids)))
}

impl<'a> Context<'a> {
    /// A context for `catalog` with its ids `ids` (see [`SchemaIds::compute`], or the
    /// per-version cache of [`schema`]).
    pub fn new(
        store: &'a Store,
        delta: Option<&'a Delta>,
        catalog: &'a Catalog,
        params: &'a Params,
        ids: &'a SchemaIds,
    ) -> Context<'a> {
        Context {
            store,
            delta,
            catalog,
            params,
            type_id: ids.type_id,
            derived: &ids.derived,
            subtypes: &ids.subtypes,
            supertypes: &ids.supertypes,
            interrupt: Interrupt::default(),
            budget: Budget::default(),
            derived_classes: &ids.derived_classes,
        }
    }

    /// Whether rules may derive `?x a C` for a class of `o` (a type pattern's object).
    pub fn derives_class(&self, o: &PTerm) -> bool {
        let Some(classes) = self.derived_classes else {
            return true;
        };
        match o {
            PTerm::Const(c) => classes.contains(c),
            PTerm::OneOf(cs) => cs.iter().any(|c| classes.contains(c)),
            PTerm::Never => false,
            PTerm::Var(_) | PTerm::Any => true,
        }
    }
}

/// Compiles one query (or rule) body: owns the variable → slot map.
pub struct Compiler<'c, 'a> {
    /// What the body is compiled against.
    pub cx: &'c Context<'a>,
    /// Variable names (without `?`) by slot: `vars[slot]` is the name of that slot, in the
    /// order the variables were first met; its length is the width of a row.
    pub vars: Vec<String>,
    slots: FxHashMap<String, Slot>,
    /// Warnings about predicates and types the database has never seen, one per name.
    pub warnings: Vec<Diagnostic>,
    warned: FxHashSet<String>,
    /// Constants the store did not know when compiled (they match nothing): a cached plan
    /// holds only while they stay unknown.
    pub absent: Vec<Value>,
}

/// A refusal at a place in the statement (resolved to line and column by `Db`).
pub fn rejected(d: Diagnostic) -> Error {
    Error::at(d)
}

impl<'c, 'a> Compiler<'c, 'a> {
    /// A compiler with no variables yet.
    pub fn new(cx: &'c Context<'a>) -> Self {
        Compiler {
            cx,
            vars: Vec::new(),
            slots: FxHashMap::default(),
            warnings: Vec::new(),
            warned: FxHashSet::default(),
            absent: Vec::new(),
        }
    }

    /// The slot of variable `name` (without `?`), taking the next free one on first use.
    pub fn slot(&mut self, name: &str) -> Slot {
        if let Some(&s) = self.slots.get(name) {
            return s;
        }
        self.vars.push(name.to_string());
        self.slots.insert(name.to_string(), self.vars.len() - 1);
        self.vars.len() - 1
    }

    /// The value of a constant or `$param`.
    pub fn value(&self, t: &ast::TermNode) -> std::result::Result<Option<Value>, Diagnostic> {
        match &t.term {
            Term::Value(v) => Ok(Some(v.clone())),
            Term::Param(name) => match self.cx.params.get(name) {
                Some(v) => Ok(Some(v.clone())),
                None => Err(Diagnostic::error(
                    format!("no value was given for the parameter ${name}"),
                    t.span,
                )
                .with_hint(format!(
                    "bind it: --param {name}=VALUE, or query_with(..., params) from Rust"
                ))),
            },
            _ => Ok(None),
        }
    }

    fn const_id(&mut self, v: &Value) -> Result<Option<Id>> {
        let id = self.cx.store.lookup(v, self.cx.delta)?;
        if id.is_none() {
            self.absent.push(v.clone());
        }
        Ok(id)
    }

    /// A position of a rule head: like a pattern's, without expanding types to subtypes.
    pub fn head_term(&mut self, t: &ast::TermNode) -> Result<PTerm> {
        self.term(t)
    }

    fn term(&mut self, t: &ast::TermNode) -> Result<PTerm> {
        Ok(match &t.term {
            Term::Var(name) => PTerm::Var(self.slot(name)),
            Term::Wildcard => PTerm::Any,
            _ => {
                let v = self
                    .value(t)
                    .map_err(rejected)?
                    .unwrap_or(Value::Bool(false));
                match self.const_id(&v)? {
                    Some(id) => PTerm::Const(id),
                    None => PTerm::Never,
                }
            }
        })
    }

    /// Compile a triple pattern: constants and parameters to ids ([`PTerm::Never`] for a
    /// value the store has never seen), `?x a T` to `T` and its subtypes.  A predicate or type
    /// nothing uses adds a warning with a did-you-mean; an unbound `$param` is an error.
    pub fn pattern(&mut self, tp: &ast::TriplePattern) -> Result<Pattern> {
        let s = self.term(&tp.subject)?;
        let p = self.term(&tp.predicate)?;
        let o = self.term(&tp.object)?;
        let mut o = self.matching(&tp.object, o);
        let g = match &tp.source {
            None => GTerm::None,
            Some(t) => match self.term(t)? {
                PTerm::Var(x) => GTerm::Var(x),
                PTerm::Const(id) => GTerm::Const(id),
                PTerm::Any => GTerm::None,
                _ => GTerm::Never,
            },
        };
        let is_type = matches!(p, PTerm::Const(id) if Some(id) == self.cx.type_id);
        let mut infer_supertypes = false;
        if is_type {
            match &o {
                PTerm::Const(c) => {
                    if let Some(subs) = self.cx.subtypes.get(c) {
                        o = PTerm::OneOf(subs.clone());
                    }
                }
                PTerm::Var(_) => infer_supertypes = !self.cx.supertypes.is_empty(),
                _ => {}
            }
        }
        // Type facts are closed under subtyping for every pattern that can match them: a
        // variable predicate meets `x a T2` also as `x a T1` and `x a T0`.
        if matches!(p, PTerm::Var(_))
            && matches!(o, PTerm::Var(_))
            && !self.cx.supertypes.is_empty()
        {
            infer_supertypes = true;
        }
        let (stored, derived) = match &p {
            PTerm::Const(id) => (
                true,
                self.cx.derived.contains(id) && (!is_type || self.cx.derives_class(&o)),
            ),
            PTerm::Var(_) | PTerm::Any => (true, !self.cx.derived.is_empty()),
            _ => (true, false),
        };
        self.warn_unknown(tp, &p, &o)?;
        self.warn_unknown_entities(tp, is_type, &p)?;
        Ok(Pattern {
            s,
            p,
            o,
            g,
            stored,
            derived,
            infer_supertypes,
            delta_only: false,
            rel: None,
            var_rels: None,
            text: pattern_text(tp),
            span: tp.span,
        })
    }

    /// A constant number or year as a pattern's object matches every stored value that
    /// `=` accepts (LANGUAGE.md): `5` also `5.0`, `0` also `-0.0`, `2020` also `@2020`.
    /// (Subjects are names.)
    fn matching(&self, t: &ast::TermNode, compiled: PTerm) -> PTerm {
        let PTerm::Const(_) = compiled else {
            return compiled;
        };
        match self.value(t) {
            Ok(Some(v)) => {
                let ids = Id::equal_ids(&v);
                if ids.len() > 1 {
                    PTerm::OneOf(ids.as_slice().to_vec())
                } else {
                    compiled
                }
            }
            _ => compiled,
        }
    }

    /// A query naming a predicate or type the database has never seen still runs, with a
    /// warning and a suggestion.
    fn warn_unknown(&mut self, tp: &ast::TriplePattern, p: &PTerm, o: &PTerm) -> Result<()> {
        let name_of = |t: &ast::TermNode| match &t.term {
            Term::Value(Value::Entity(e)) => Some(e.clone()),
            _ => None,
        };
        let stats = self.cx.store.stats()?;
        if let Some(pname) = name_of(&tp.predicate) {
            let used = match p {
                PTerm::Const(id) => !stats.pred(*id).is_empty() || self.cx.derived.contains(id),
                _ => false,
            };
            let declared = self.cx.catalog.preds.contains_key(&pname)
                || (pname == TYPE_PREDICATE && !self.cx.catalog.types.is_empty());
            if !used && !declared && self.warned.insert(pname.clone()) {
                let known = self.known_predicates(&stats)?;
                let mut d =
                    Diagnostic::warning(format!("no facts use '{pname}'"), tp.predicate.span);
                if ast::Func::ALL.iter().any(|f| f.name() == pname) {
                    // `?l contains "GNA"`: a function written as a predicate.
                    let (s, o) = (
                        crate::lang::print_term(&tp.subject.term),
                        crate::lang::print_term(&tp.object.term),
                    );
                    d = d.with_hint(format!(
                        "{pname} is a function: to filter with it, write {pname}({s}, {o})"
                    ));
                } else if let Some(s) = suggest(&pname, known.iter().map(String::as_str)) {
                    d = d.with_hint(format!("did you mean '{s}'?"));
                }
                self.warnings.push(d);
            }
            if pname == TYPE_PREDICATE {
                if let Some(tname) = name_of(&tp.object) {
                    let count: u64 = match o {
                        PTerm::Const(id) => stats.class(*id),
                        PTerm::OneOf(ids) => ids.iter().map(|i| stats.class(*i)).sum(),
                        _ => 0,
                    };
                    if count == 0
                        && !self.cx.catalog.types.contains_key(&tname)
                        && !(matches!(p, PTerm::Const(id) if self.cx.derived.contains(id))
                            && self.cx.derives_class(o))
                        && self.warned.insert(format!("type {tname}"))
                    {
                        let mut classes = Vec::new();
                        for c in stats.classes.keys() {
                            if let Ok(Value::Entity(n)) = self.cx.store.value(*c, self.cx.delta) {
                                classes.push(n);
                            }
                        }
                        classes.extend(self.cx.catalog.types.keys().cloned());
                        let mut d = Diagnostic::warning(
                            format!("nothing has type '{tname}'"),
                            tp.object.span,
                        );
                        if let Some(s) = suggest(&tname, classes.iter().map(String::as_str)) {
                            d = d.with_hint(format!("did you mean '{s}'?"));
                        }
                        self.warnings.push(d);
                    }
                }
            }
        }
        Ok(())
    }

    /// A subject or object entity that no fact mentions (a typo, or deleted) gets a warning
    /// with a did-you-mean.  Not for the objects of `a` (the type warning covers them) nor
    /// for derived predicates (a rule's constants need not occur in stored facts).
    fn warn_unknown_entities(
        &mut self,
        tp: &ast::TriplePattern,
        is_type: bool,
        p: &PTerm,
    ) -> Result<()> {
        if matches!(p, PTerm::Const(id) if self.cx.derived.contains(id)) {
            return Ok(());
        }
        let positions = if is_type {
            vec![&tp.subject]
        } else {
            vec![&tp.subject, &tp.object]
        };
        for t in positions {
            // A $parameter given as a bare word is an entity too (`--param l=Sirte`): say so.
            let (name, param) = match &t.term {
                Term::Value(Value::Entity(name)) => (name, None),
                Term::Param(p) => match self.cx.params.get(p) {
                    Some(Value::Entity(name)) => (name, Some(p)),
                    _ => continue,
                },
                _ => continue,
            };
            let key = format!("entity {name}");
            if self.warned.contains(&key) {
                continue;
            }
            let cx = self.cx;
            let Some(mut d) =
                super::inspect::unknown_entity(cx.store, cx.delta, cx.catalog, name, t.span)?
            else {
                continue;
            };
            if let Some(p) = param {
                d.message = format!(
                    "no facts mention '{name}' (the value of ${p}, read as an entity name)"
                );
                let text = format!("for the text, give a string: --param {p}='\"{name}\"'");
                d.hint = Some(match d.hint.take() {
                    Some(h) => format!("{h} {text}"),
                    None => text,
                });
            }
            self.warned.insert(key);
            self.warnings.push(d);
        }
        Ok(())
    }

    fn known_predicates(&self, stats: &crate::store::Stats) -> Result<Vec<String>> {
        let mut names: Vec<String> = self.cx.catalog.preds.keys().cloned().collect();
        names.extend(self.cx.catalog.derived().into_iter().map(str::to_string));
        for p in stats.preds.keys() {
            if let Value::Entity(n) = self.cx.store.value(*p, self.cx.delta)? {
                names.push(n);
            }
        }
        Ok(names)
    }

    /// Compile an expression.  `columns` maps the find list's column names (`?x`, an alias,
    /// an aggregate as written) to their index: in `having` and `order by` those read the
    /// finished row ([`Ex::Column`]); in a body it is empty.
    pub fn expr(&mut self, e: &ast::Expr, columns: &[(String, usize)]) -> Result<Ex> {
        Ok(match e {
            ast::Expr::Term(t) => match &t.term {
                Term::Var(name) => {
                    if let Some((_, c)) = columns.iter().find(|(n, _)| n == &format!("?{name}")) {
                        Ex::Column(*c)
                    } else {
                        Ex::Slot(self.slot(name))
                    }
                }
                Term::Wildcard => Ex::Const(Value::Bool(false), None),
                _ => {
                    let v = self
                        .value(t)
                        .map_err(rejected)?
                        .unwrap_or(Value::Bool(false));
                    let id = self.const_id(&v)?;
                    Ex::Const(v, id)
                }
            },
            ast::Expr::Range { from, to, .. } => Ex::Range(DateRange::between(from, to)),
            ast::Expr::Cmp {
                op, left, right, ..
            } => Ex::Cmp(
                *op,
                Box::new(self.expr(left, columns)?),
                Box::new(self.expr(right, columns)?),
            ),
            ast::Expr::Call { func, args, .. } => {
                let args_ex = args
                    .iter()
                    .map(|a| self.expr(a, columns))
                    .collect::<Result<Vec<_>>>()?;
                // A pattern given as a $parameter is known now: refuse it here, located.
                if let (ast::Func::Matches, Some(Ex::Const(Value::Str(p), _)), Some(at)) =
                    (func, args_ex.get(1), args.get(1))
                {
                    if let Err(why) = crate::lang::regex(p) {
                        return Err(rejected(crate::lang::invalid_regex(p, &why, at.span())));
                    }
                }
                Ex::Call(*func, args_ex)
            }
            ast::Expr::Alias(n) => match columns.iter().find(|(c, _)| c == &n.name) {
                Some((_, c)) => Ex::Column(*c),
                None => {
                    return Err(rejected(Diagnostic::error(
                        format!("'{}' is not a column of the find list", n.name),
                        n.span,
                    )))
                }
            },
            ast::Expr::Aggregate(a) => {
                let key = crate::lang::print_aggregate(a);
                match columns.iter().find(|(c, _)| c == &key) {
                    Some((_, c)) => Ex::Column(*c),
                    None => {
                        return Err(rejected(Diagnostic::error(
                            format!("{key} is not computed by the find list"),
                            a.span,
                        )))
                    }
                }
            }
        })
    }

    /// Compile a body, conjunct by conjunct, in the written order.
    pub fn body(&mut self, b: &ast::Body) -> Result<Body> {
        let mut items = Vec::new();
        for c in &b.items {
            items.push(match c {
                ast::Conjunct::Pattern(tp) => Item::Pattern(self.pattern(tp)?),
                ast::Conjunct::Filter(e) => Item::Filter(Filter {
                    ex: self.expr(e, &[])?,
                    text: crate::lang::print_expr(e),
                    span: e.span(),
                }),
                ast::Conjunct::Not(b) => Item::Not(self.body(b)?),
                ast::Conjunct::Optional(b) => Item::Optional(self.body(b)?),
                ast::Conjunct::Or(bs) => Item::Or(
                    bs.iter()
                        .map(|b| self.body(b))
                        .collect::<Result<Vec<_>>>()?,
                ),
            });
        }
        Ok(Body { items })
    }
}

/// A pattern as the user would write it (plans, tie-breaks).
pub fn pattern_text(tp: &ast::TriplePattern) -> String {
    use crate::lang::{print_predicate, print_term};
    let mut s = format!(
        "{} {} {}",
        print_term(&tp.subject.term),
        print_predicate(&tp.predicate.term),
        print_term(&tp.object.term)
    );
    if let Some(src) = &tp.source {
        s.push_str(" from ");
        s.push_str(&print_term(&src.term));
    }
    s
}
