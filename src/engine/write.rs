//! Statements that change the database.  Writes only record into a [`Delta`]; the caller
//! commits it, or drops it when the statement fails, so a failed statement changes nothing.
//! The read-only statements that are not queries are in `inspect.rs`.

use super::catalog::{Catalog, PredDecl, Range, RuleDecl};
use super::compile::{Context, SchemaIds};
use super::ir::Params;
use super::rules;
use crate::diag::Diagnostic;
use crate::error::{Error, Result};
use crate::lang::ast::{self, Term, TermNode, TriplePattern, TypeRef};
use crate::model::{Kind, Value, TYPE_PREDICATE};
use crate::store::{Delta, GraphSel, Id, IdPattern, Store};

/// The value of a constant or parameter in a fact or `del`.
pub(super) fn value(t: &TermNode, params: &Params, what: &str) -> Result<Option<Value>> {
    match &t.term {
        Term::Value(v) => Ok(Some(v.clone())),
        Term::Param(name) => match params.get(name) {
            Some(v) => Ok(Some(v.clone())),
            None => Err(Error::at(
                Diagnostic::error(
                    format!("no value was given for the parameter ${name}"),
                    t.span,
                )
                .with_hint(format!(
                    "bind it: --param {name}=VALUE, or query_with(..., params) from Rust"
                )),
            )),
        },
        Term::Wildcard => Ok(None),
        Term::Var(v) => Err(Error::at(Diagnostic::error(
            format!("a {what} cannot hold the variable ?{v}"),
            t.span,
        ))),
    }
}

fn entity(t: &TermNode, params: &Params, role: &str) -> Result<Option<String>> {
    match value(t, params, "fact")? {
        None => Ok(None),
        // Only a `$param` can bring an empty name: `<>` is not a name.
        Some(Value::Entity(e)) if e.is_empty() => Err(Error::at(Diagnostic::error(
            format!("the {role} is an entity without a name"),
            t.span,
        ))),
        Some(Value::Entity(e)) => Ok(Some(e)),
        Some(other) => Err(Error::at(
            Diagnostic::error(format!("the {role} must be an entity, not {other}"), t.span)
                .with_hint(match other {
                    Value::Str(s) => format!(
                        "write a name (e.g. {}) or <{}>",
                        crate::model::Value::entity(s.replace(' ', "_")),
                        s
                    ),
                    _ => "write a name, or any text in angle brackets: <...>".into(),
                }),
        )),
    }
}

/// Record the facts of a statement.  Returns how many assertions it makes; a predicate
/// the schema does not declare, in a database that declares predicates, adds a warning
/// (with a did-you-mean) to `warnings`, once per name.
pub fn facts(
    store: &Store,
    delta: &mut Delta,
    catalog: &Catalog,
    params: &Params,
    triples: &[TriplePattern],
    source: Option<&TermNode>,
    warnings: &mut Vec<Diagnostic>,
) -> Result<u64> {
    let g = match source {
        Some(t) => match entity(t, params, "source")? {
            Some(name) => store.intern_entity(delta, &name)?,
            None => {
                return Err(Error::at(Diagnostic::error(
                    "a fact's source cannot be _",
                    t.span,
                )))
            }
        },
        None => Id::NONE,
    };
    let mut n = 0;
    for tp in triples {
        let wild = |t: &TermNode| {
            Error::at(Diagnostic::error(
                "a fact cannot hold _ (it states something definite)",
                t.span,
            ))
        };
        let s = entity(&tp.subject, params, "subject")?.ok_or_else(|| wild(&tp.subject))?;
        let p = entity(&tp.predicate, params, "predicate")?.ok_or_else(|| wild(&tp.predicate))?;
        let o = value(&tp.object, params, "fact")?.ok_or_else(|| wild(&tp.object))?;
        // Only a `$param` can bring such a value: the language has no literal for it.
        o.storable()
            .map_err(|m| Error::at(Diagnostic::error(m, tp.object.span)))?;
        match catalog.preds.get(&p) {
            Some(decl) => check_kind(&p, decl, &o, &tp.object)?,
            None => undeclared(catalog, &p, &tp.predicate, warnings),
        }
        let q = [
            store.intern_entity(delta, &s)?,
            store.intern_entity(delta, &p)?,
            store.intern(delta, &o)?,
            g,
        ];
        delta.add(q);
        n += 1;
    }
    Ok(n)
}

/// Warn about a fact's predicate that the schema does not declare (when it declares some):
/// most often a typo of one it does.
fn undeclared(catalog: &Catalog, p: &str, at: &TermNode, warnings: &mut Vec<Diagnostic>) {
    if catalog.preds.is_empty() || p == TYPE_PREDICATE || catalog.rules.iter().any(|r| r.head == p)
    {
        return;
    }
    let message = format!("the schema does not declare the predicate '{p}'");
    if warnings.iter().any(|w| w.message == message) {
        return;
    }
    let mut d = Diagnostic::warning(message, at.span);
    d = match crate::diag::suggest(p, catalog.preds.keys().map(String::as_str)) {
        Some(s) => d.with_hint(format!("did you mean '{s}'?")),
        None => d.with_hint(format!("declare it: pred {p}: … -> …")),
    };
    warnings.push(d);
}

fn check_kind(p: &str, decl: &PredDecl, o: &Value, at: &TermNode) -> Result<()> {
    let wanted = match &decl.range {
        Some(Range::Kind(k)) => *k,
        Some(Range::Class(_)) => Kind::Entity,
        None => return Ok(()),
    };
    if wanted.accepts(o.kind()) {
        return Ok(());
    }
    let declared = match &decl.range {
        Some(Range::Class(c)) => c.clone(),
        _ => wanted.name().to_string(),
    };
    let article = |k: &str| {
        if k.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        }
    };
    let got = o.kind().name();
    Err(Error::at(
        Diagnostic::error(
            format!(
                "'{p}' takes {} {}, not {} {got}: {o}",
                article(wanted.name()),
                wanted.name(),
                article(got)
            ),
            at.span,
        )
        .with_hint(format!("the schema declares: pred {p}: … -> {declared}")),
    ))
}

/// The quads a `del` pattern removes (reading through the delta).
fn matching(store: &Store, delta: &Delta, pat: &IdPattern) -> Result<Vec<[Id; 4]>> {
    let mut out = Vec::new();
    for q in store.quads_with(pat, delta.normal())? {
        out.push(q?);
    }
    Ok(out)
}

/// Record a `del`.  Returns how many assertions it retracts.
pub fn del(
    store: &Store,
    delta: &mut Delta,
    params: &Params,
    triples: &[TriplePattern],
    source: Option<&TermNode>,
) -> Result<u64> {
    delta.normalized();
    let g = match source {
        None => GraphSel::Each,
        Some(t) => match entity(t, params, "source")? {
            None => GraphSel::Each,
            Some(name) => match store.lookup_entity(&name, Some(delta))? {
                Some(id) => GraphSel::Is(id),
                None => return Ok(0),
            },
        },
    };
    let mut removes = Vec::new();
    for tp in triples {
        let mut ids = [None; 3];
        let mut unknown = false;
        // A constant object matches what `=` accepts, as in a query (`5` also `5.0`).
        let mut objects = Vec::new();
        for (i, t) in [&tp.subject, &tp.predicate, &tp.object]
            .into_iter()
            .enumerate()
        {
            if let Some(v) = value(t, params, "del")? {
                if i == 2 {
                    objects.extend_from_slice(Id::equal_ids(&v).as_slice());
                }
                match store.lookup(&v, Some(delta))? {
                    Some(id) => ids[i] = Some(id),
                    None => unknown = true,
                }
            }
        }
        if unknown {
            continue;
        }
        if objects.is_empty() {
            objects.push(ids[2].unwrap_or(Id::NONE));
        }
        for o in objects {
            let pat = IdPattern {
                s: ids[0],
                p: ids[1],
                o: Some(o).filter(|o| o.is_some()),
                g,
                o_range: None,
            };
            removes.extend(matching(store, delta, &pat)?);
        }
    }
    let n = removes.len() as u64;
    for q in removes {
        delta.remove(q);
    }
    Ok(n)
}

/// Record `drop source`: every assertion of that source.
pub fn drop_source(
    store: &Store,
    delta: &mut Delta,
    params: &Params,
    src: &TermNode,
) -> Result<u64> {
    delta.normalized();
    let Some(name) = entity(src, params, "source")? else {
        return Ok(0);
    };
    let Some(g) = store.lookup_entity(&name, Some(delta))? else {
        return Ok(0);
    };
    let removes = matching(
        store,
        delta,
        &IdPattern {
            g: GraphSel::Is(g),
            ..IdPattern::new(None, None, None)
        },
    )?;
    let n = removes.len() as u64;
    for q in removes {
        delta.remove(q);
    }
    Ok(n)
}

/// Record `rule`: checked (head predicate, stratification) against the rules already
/// stored.  Returns false when the same rule was already stored.
pub fn rule(store: &Store, delta: &mut Delta, params: &Params, r: &ast::Rule) -> Result<bool> {
    let mut catalog = Catalog::load(store, Some(delta))?;
    let head = match &r.head.predicate.term {
        Term::Value(Value::Entity(p)) => p.clone(),
        _ => {
            return Err(Error::at(
                Diagnostic::error(
                    "the predicate of a rule head must be a name",
                    r.head.predicate.span,
                )
                .with_hint(
                    "rules derive facts of one named predicate: rule ?x allied_with ?y :- …",
                ),
            ))
        }
    };
    for t in [&r.head.subject, &r.head.object] {
        match &t.term {
            Term::Wildcard => {
                return Err(Error::at(Diagnostic::error(
                    "a rule head cannot hold _",
                    t.span,
                )))
            }
            Term::Param(_) => {
                return Err(Error::at(Diagnostic::error(
                    "a rule head cannot hold a $parameter (rules are stored)",
                    t.span,
                )))
            }
            _ => {}
        }
    }
    // A constant in the head is a value every derived fact has: it must fit the schema
    // as a stated fact must (`pred label: _ -> string` refuses `rule ?x label 5 :- …`).
    if let Term::Value(v) = &r.head.subject.term {
        if v.as_entity().is_none() {
            return Err(Error::at(Diagnostic::error(
                format!("the subject of a rule head must be an entity, not {v}"),
                r.head.subject.span,
            )));
        }
    }
    if let (Term::Value(v), Some(decl)) = (&r.head.object.term, catalog.preds.get(&head)) {
        check_kind(&head, decl, v, &r.head.object)?;
    }
    if contains_param(&r.body) {
        return Err(Error::at(Diagnostic::error(
            "a rule body cannot hold a $parameter (rules are stored)",
            r.body.span,
        )));
    }
    let mut text = crate::lang::print_rule(r);
    if !text.ends_with('.') {
        text.push('.');
    }
    if catalog.rules.iter().any(|x| x.text == text) {
        return Ok(false);
    }
    // The head's names need ids so that derived facts can be represented.
    store.intern_entity(delta, &head)?;
    for t in [&r.head.subject, &r.head.object] {
        if let Term::Value(v) = &t.term {
            store.intern(delta, v)?;
        }
    }
    catalog.rules.push(RuleDecl { head, text });
    refuse_unstratifiable(store, delta, &catalog, params, r.span)?;
    catalog.save(store, delta)?;
    Ok(true)
}

/// Refuse rules that cannot be stratified as `catalog` would leave them, naming the cycle
/// at `span` (a rule, or a type declaration: rules are analysed per class, so a new
/// subtype can close a cycle through `not`).
fn refuse_unstratifiable(
    store: &Store,
    delta: &Delta,
    catalog: &Catalog,
    params: &Params,
    span: crate::diag::Span,
) -> Result<()> {
    if catalog.rules.is_empty() {
        return Ok(());
    }
    let ids = SchemaIds::compute(store, Some(delta), catalog)?;
    let cx = Context::new(store, Some(delta), catalog, params, &ids);
    let compiled = rules::compile_all(&cx, catalog)?;
    let names = |id: Id| {
        store
            .value(id, Some(delta))
            .map(|v| v.to_string())
            .unwrap_or_default()
    };
    rules::check_stratified(&compiled, cx.type_id, &names).map_err(|e| match e {
        Error::At(d) => Error::at(Diagnostic { span, ..*d }),
        other => other,
    })
}

fn contains_param(b: &ast::Body) -> bool {
    fn term(t: &TermNode) -> bool {
        matches!(t.term, Term::Param(_))
    }
    fn expr(e: &ast::Expr) -> bool {
        match e {
            ast::Expr::Term(t) => term(t),
            ast::Expr::Cmp { left, right, .. } => expr(left) || expr(right),
            ast::Expr::Call { args, .. } => args.iter().any(expr),
            _ => false,
        }
    }
    b.items.iter().any(|c| match c {
        ast::Conjunct::Pattern(p) => {
            term(&p.subject)
                || term(&p.predicate)
                || term(&p.object)
                || p.source.as_ref().is_some_and(term)
        }
        ast::Conjunct::Filter(e) => expr(e),
        ast::Conjunct::Not(b) | ast::Conjunct::Optional(b) => contains_param(b),
        ast::Conjunct::Or(bs) => bs.iter().any(contains_param),
    })
}

/// Record `drop rule NAME`: every rule deriving NAME.  Returns how many were dropped.
pub fn drop_rule(store: &Store, delta: &mut Delta, name: &str) -> Result<u64> {
    let mut catalog = Catalog::load(store, Some(delta))?;
    let before = catalog.rules.len();
    catalog.rules.retain(|r| r.head != name);
    let n = (before - catalog.rules.len()) as u64;
    if n > 0 {
        catalog.save(store, delta)?;
    }
    Ok(n)
}

/// Record `type T [sub U, ...]`: a type declared again gains the supertypes named and
/// keeps those it had.  Returns its direct supertypes after the statement.
pub fn type_decl(
    store: &Store,
    delta: &mut Delta,
    name: &ast::Name,
    supertypes: &[ast::Name],
) -> Result<Vec<String>> {
    let mut catalog = Catalog::load(store, Some(delta))?;
    for s in supertypes {
        if s.name == name.name || catalog.supertypes(&s.name).contains(&name.name) {
            return Err(Error::at(
                Diagnostic::error(
                    format!(
                        "'{}' cannot be a subtype of '{}': '{}' is already below '{}'",
                        name.name, s.name, s.name, name.name
                    ),
                    s.span,
                )
                .with_hint("types form a hierarchy without cycles"),
            ));
        }
    }
    let entry = catalog.types.entry(name.name.clone()).or_default();
    for s in supertypes {
        if !entry.contains(&s.name) {
            entry.push(s.name.clone());
        }
    }
    let now = entry.clone();
    store.intern_entity(delta, &name.name)?;
    store.intern_entity(delta, TYPE_PREDICATE)?;
    for s in supertypes {
        store.intern_entity(delta, &s.name)?;
        catalog.types.entry(s.name.clone()).or_default();
    }
    refuse_unstratifiable(store, delta, &catalog, &Params::new(), name.span)?;
    catalog.save(store, delta)?;
    Ok(now)
}

/// Record `pred p: D -> R`.  Refused when stored facts already contradict its kind.
pub fn pred_decl(
    store: &Store,
    delta: &mut Delta,
    name: &ast::Name,
    domain: Option<&TypeRef>,
    range: Option<&TypeRef>,
) -> Result<()> {
    let mut catalog = Catalog::load(store, Some(delta))?;
    let class = |t: Option<&TypeRef>| match t {
        Some(TypeRef::Class(n)) => Some(n.name.clone()),
        _ => None,
    };
    let decl = PredDecl {
        domain: class(domain),
        range: match range {
            Some(TypeRef::Kind { kind, .. }) => Some(Range::Kind(*kind)),
            Some(TypeRef::Class(n)) => Some(Range::Class(n.name.clone())),
            _ => None,
        },
    };
    if let (Some(Range::Kind(k)), Some(pid)) =
        (&decl.range, store.lookup_entity(&name.name, Some(delta))?)
    {
        let mut bad = 0u64;
        let mut example = None;
        for q in store.quads_with(&IdPattern::new(None, Some(pid), None), delta.normal())? {
            let q = q?;
            let v = store.value(q[2], Some(delta))?;
            if !k.accepts(v.kind()) {
                bad += 1;
                if example.is_none() {
                    example = Some((store.value(q[0], Some(delta))?, v));
                }
            }
        }
        if let Some((s, v)) = example {
            let span = range.map_or(name.span, |r| match r {
                TypeRef::Kind { span, .. } | TypeRef::Any { span } => *span,
                TypeRef::Class(n) => n.span,
            });
            return Err(Error::at(
                Diagnostic::error(
                    format!(
                        "{bad} stored facts of '{}' are not {}s (e.g. {s} {} {v})",
                        name.name,
                        k.name(),
                        name.name
                    ),
                    span,
                )
                .with_hint(
                    "fix or delete those facts first (del ...), or declare a different kind",
                ),
            ));
        }
    }
    // Likewise a stored rule whose head holds a constant of another kind.
    for rule in catalog.rules.iter().filter(|r| r.head == name.name) {
        let ast = rules::parse_rule(&rule.text)?;
        if let Term::Value(v) = &ast.head.object.term {
            check_kind(&name.name, &decl, v, &ast.head.object).map_err(|_| {
                Error::at(
                    Diagnostic::error(
                        format!(
                            "a stored rule derives '{}' facts that are not of that kind: {}",
                            name.name, rule.text
                        ),
                        name.span,
                    )
                    .with_hint("drop the rule first (drop rule …), or declare a different kind"),
                )
            })?;
        }
    }
    store.intern_entity(delta, &name.name)?;
    for c in [&decl.domain, &class(range)].into_iter().flatten() {
        store.intern_entity(delta, c)?;
        catalog.types.entry(c.clone()).or_default();
    }
    catalog.preds.insert(name.name.clone(), decl);
    catalog.save(store, delta)
}
