//! The read-only statements that are not queries: `describe`, `search` and `check`.

use super::catalog::{Catalog, PredDecl, Range};
use super::compile::{Context, SchemaIds};
use super::derived::{Derived, Relation};
use super::ir::Params;
use super::materialized;
use super::write::value;
use crate::error::Result;
use crate::lang::ast::TermNode;
use crate::model::Value;
use crate::store::{kind, Delta, GraphSel, Id, IdPattern, Store, TextQuery};

/// `describe x`: every fact with x as subject or object, with its source.
pub fn describe(
    store: &Store,
    delta: Option<&Delta>,
    params: &Params,
    t: &TermNode,
) -> Result<Vec<[Option<Value>; 4]>> {
    let Some(v) = value(t, params, "describe")? else {
        return Ok(Vec::new());
    };
    let Some(id) = store.lookup(&v, delta)? else {
        return Ok(Vec::new());
    };
    let mut quads = Vec::new();
    let overlay = delta.and_then(|d| d.normal());
    for q in store.quads_with(
        &IdPattern {
            g: GraphSel::Each,
            ..IdPattern::new(Some(id), None, None)
        },
        overlay,
    )? {
        quads.push(q?);
    }
    for q in store.quads_with(
        &IdPattern {
            g: GraphSel::Each,
            ..IdPattern::new(None, None, Some(id))
        },
        overlay,
    )? {
        let q = q?;
        if q[0] != id {
            quads.push(q);
        }
    }
    let ids: Vec<Id> = quads
        .iter()
        .flat_map(|q| q.iter().copied())
        .filter(|i| i.is_some())
        .collect();
    let values = store.values(&ids, delta)?;
    let get = |id: Id| values.get(&id).cloned();
    Ok(quads
        .into_iter()
        .map(|q| [get(q[0]), get(q[1]), get(q[2]), get(q[3])])
        .collect())
}

/// `search "text"`: entities whose name, label or alias contains the text (ignoring case),
/// with their label.
pub fn search(
    store: &Store,
    delta: Option<&Delta>,
    text: &str,
) -> Result<Vec<(Value, Option<Value>)>> {
    let needle = text.to_lowercase();
    let label = store.lookup_entity("label", delta)?;
    let alias = store.lookup_entity("alias", delta)?;
    // The entities and strings whose text contains the needle: the text index yields
    // candidates (every term is tested when the text is shorter than a trigram).
    let mut terms: Vec<Id> = Vec::new();
    match store.text_candidates(&TextQuery::contains(text), delta)? {
        Some(candidates) => {
            for (id, v) in store.values(&candidates, delta)? {
                if v.text().is_some_and(|t| t.to_lowercase().contains(&needle)) {
                    terms.push(id);
                }
            }
        }
        None => {
            for k in [kind::ENTITY, kind::STR] {
                for t in store.terms_of_kind(k)? {
                    let (id, name) = t?;
                    if name.to_lowercase().contains(&needle) {
                        terms.push(id);
                    }
                }
            }
        }
    }
    let mut hits: Vec<Id> = Vec::new();
    for id in terms {
        if id.kind() == kind::ENTITY {
            hits.push(id);
            continue;
        }
        for p in [label, alias].into_iter().flatten() {
            for q in store.quads(&IdPattern::new(None, Some(p), Some(id)))? {
                hits.push(q?[0]);
            }
        }
    }
    hits.sort_unstable();
    hits.dedup();
    // Entities that are only names (predicates, types with no facts) are still things;
    // names whose facts were all deleted are not.
    let catalog = Catalog::load(store, delta)?;
    let mut out = Vec::new();
    for id in hits {
        let v = store.value(id, delta)?;
        if !occurs(store, delta, &catalog, id, &v)? {
            continue;
        }
        let l = match label {
            Some(l) => match store
                .quads(&IdPattern::new(Some(id), Some(l), None))?
                .next()
            {
                Some(q) => Some(store.value(q?[2], delta)?),
                None => None,
            },
            None => None,
        };
        out.push((v, l));
    }
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(out)
}

/// Whether entity `id` (named `name`) still occurs in some fact, as subject, predicate,
/// object or source, or is named by the schema (a type, a declared or derived predicate).
/// The dictionary never forgets a name (ids are stable), so whatever offers names to a
/// user (search, completion) asks this of each candidate before showing it: a deleted
/// entity is not offered.  At most four index probes.
pub fn occurs(
    store: &Store,
    delta: Option<&Delta>,
    catalog: &Catalog,
    id: Id,
    name: &Value,
) -> Result<bool> {
    if let Value::Entity(n) = name {
        if catalog.types.contains_key(n)
            || catalog.preds.contains_key(n)
            || catalog.rules.iter().any(|r| &r.head == n)
        {
            return Ok(true);
        }
    }
    let overlay = delta.and_then(|d| d.normal());
    let probes = [
        IdPattern::new(Some(id), None, None),
        IdPattern::new(None, None, Some(id)),
        IdPattern::new(None, Some(id), None),
        IdPattern {
            g: GraphSel::Is(id),
            ..IdPattern::new(None, None, None)
        },
    ];
    for pat in probes {
        if store
            .quads_with(&pat, overlay)?
            .next()
            .transpose()?
            .is_some()
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The name of an entity that still occurs in the database and that `name` (which does
/// not) is probably a typo of, for a "did you mean" ([`crate::diag::suggest`] decides).
/// Candidates are bounded, so this stays cheap on millions of names: the names sharing
/// `name`'s first two or three characters, as written and in other cases (`Turkey` finds
/// `turkey`), at most 256 per prefix.
pub fn similar_entity(
    store: &Store,
    delta: Option<&Delta>,
    catalog: &Catalog,
    name: &str,
) -> Result<Option<String>> {
    let head = |n: usize, s: &str| s.chars().take(n).collect::<String>();
    let mut prefixes = Vec::new();
    for n in [3, 2] {
        let p = head(n, name);
        let mut first = p.chars();
        let capital: String = first
            .next()
            .map(|c| c.to_uppercase().chain(first).collect())
            .unwrap_or_default();
        prefixes.extend([p.clone(), p.to_lowercase(), capital]);
    }
    prefixes.sort();
    prefixes.dedup();
    let mut candidates: Vec<(Id, String)> = Vec::new();
    for p in prefixes.iter().filter(|p| !p.is_empty()) {
        candidates.extend(store.entities_with_prefix(p, 256)?);
    }
    candidates.sort_unstable();
    candidates.dedup();
    // The closest one that still occurs (a few tries: the closest may be deleted too).
    for _ in 0..4 {
        let Some(best) = crate::diag::suggest(name, candidates.iter().map(|(_, n)| n.as_str()))
            .map(str::to_string)
        else {
            return Ok(None);
        };
        let Some(i) = candidates.iter().position(|(_, n)| *n == best) else {
            return Ok(None);
        };
        let (id, best) = candidates.swap_remove(i);
        let v = Value::Entity(best);
        if occurs(store, delta, catalog, id, &v)? {
            return Ok(match v {
                Value::Entity(n) => Some(n),
                _ => None,
            });
        }
    }
    Ok(None)
}

/// A warning for an entity written in a statement that no fact mentions, with a "did you
/// mean" when a similar name occurs; `None` when the entity does occur.
pub fn unknown_entity(
    store: &Store,
    delta: Option<&Delta>,
    catalog: &Catalog,
    name: &str,
    span: crate::diag::Span,
) -> Result<Option<crate::diag::Diagnostic>> {
    if let Some(id) = store.lookup_entity(name, delta)? {
        if occurs(store, delta, catalog, id, &Value::entity(name))? {
            return Ok(None);
        }
    }
    let mut d = crate::diag::Diagnostic::warning(format!("no facts mention '{name}'"), span);
    if let Some(s) = similar_entity(store, delta, catalog, name)? {
        d = d.with_hint(format!("did you mean '{s}'?"));
    }
    Ok(Some(d))
}

/// How many type facts the hierarchy implies besides the stored ones: a stored `x a T`
/// implies `x a U` for every supertype `U` of `T` that is not stated for `x` itself.
/// Queries see them (`?x a ?t`, `?s ?p ?o`), so a count of every fact is the distinct
/// stored triples plus these (plus what rules derive).  One scan of the stored type facts.
pub fn implied_type_facts(store: &Store) -> Result<u64> {
    let schema = super::compile::schema(store, None)?;
    let ids = &schema.1;
    let Some(type_id) = ids.type_id else {
        return Ok(0);
    };
    if ids.supertypes.is_empty() {
        return Ok(0);
    }
    let mut stated: Vec<(Id, Id)> = Vec::new();
    for q in store.quads(&IdPattern::new(None, Some(type_id), None))? {
        let q = q?;
        stated.push((q[0], q[2]));
    }
    stated.sort_unstable();
    let mut implied = 0u64;
    let mut sups: Vec<Id> = Vec::new();
    for one in stated.chunk_by(|a, b| a.0 == b.0) {
        sups.clear();
        for (_, t) in one {
            sups.extend(ids.supertypes.get(t).into_iter().flatten());
        }
        sups.sort_unstable();
        sups.dedup();
        implied += sups
            .iter()
            .filter(|u| one.binary_search_by(|(_, t)| t.cmp(u)).is_err())
            .count() as u64;
    }
    Ok(implied)
}

/// "a State", "an Event".
fn with_article(word: &str) -> String {
    let vowel = word
        .chars()
        .next()
        .is_some_and(|c| "aeiouAEIOU".contains(c));
    format!("{} {word}", if vowel { "an" } else { "a" })
}

/// `check`: the store's proof that it is whole ([`Store::verify`]: dictionary, counters,
/// indexes, counts, meta records), that the catalog decodes, then the facts that violate
/// the schema's domains and ranges — stated ones, then those the rules derive (evaluated
/// under the statement's `limits`).  Each problem is (subject, predicate, object, what is
/// wrong); problems of the store have no subject.
pub fn check(
    store: &Store,
    params: &Params,
    limits: &super::Limits,
) -> Result<Vec<[Option<Value>; 4]>> {
    // The caller holds the read gate (a statement), so the store checks under it.
    let mut out: Vec<[Option<Value>; 4]> = store
        .verify_under_gate()?
        .into_iter()
        .map(|p| [None, None, None, Some(Value::Str(p))])
        .collect();
    let catalog = match Catalog::load(store, None) {
        Ok(c) => c,
        Err(e) => {
            out.push([None, None, None, Some(Value::Str(format!("catalog: {e}")))]);
            return Ok(out);
        }
    };
    // Schema checks read facts through the indexes and the dictionary: on a damaged
    // store they may fail, and the problems above already say why.
    match schema_problems(store, params, &catalog, limits) {
        Ok(p) => out.extend(p),
        Err(e) if !out.is_empty() => out.push([
            None,
            None,
            None,
            Some(Value::Str(format!("schema checks could not run: {e}"))),
        ]),
        Err(e) => return Err(e),
    }
    Ok(out)
}

/// Facts, stated or derived, that violate the schema's domains and ranges.
fn schema_problems(
    store: &Store,
    params: &Params,
    catalog: &Catalog,
    limits: &super::Limits,
) -> Result<Vec<[Option<Value>; 4]>> {
    let ids = SchemaIds::compute(store, None, catalog)?;
    let mut cx = Context::new(store, None, catalog, params, &ids);
    cx.interrupt = limits.interrupt.clone();
    cx.budget = super::Budget::new(limits.max_memory);
    let derived = derived_for_schema(&cx, catalog)?;
    let schema = Schema {
        store,
        catalog,
        type_id: cx.type_id,
        derived_types: cx.type_id.and_then(|t| derived.full.get(&t)).map(|r| &**r),
    };
    let mut out = Vec::new();
    for (p, decl) in &catalog.preds {
        let Some(pid) = store.lookup_entity(p, None)? else {
            continue;
        };
        for q in store.quads(&IdPattern::new(None, Some(pid), None))? {
            let q = q?;
            schema.problems(p, decl, q[0], q[2], "", &mut out)?;
        }
        for &(s, o) in derived.full.get(&pid).map_or(&[][..], |r| r.pairs()) {
            schema.problems(p, decl, s, o, "derived by a rule: ", &mut out)?;
        }
    }
    Ok(out)
}

/// The facts rules derive for declared predicates, and the `type` facts they derive (class
/// membership counts them too).
fn derived_for_schema(cx: &Context<'_>, catalog: &Catalog) -> Result<Derived> {
    let derives_declared = catalog.derived();
    if !catalog
        .preds
        .keys()
        .any(|p| derives_declared.contains(p.as_str()))
    {
        return Ok(Derived::default());
    }
    let program = materialized::compile(cx, catalog)?;
    let mut declared = Vec::new();
    for p in catalog.preds.keys() {
        declared.extend(cx.store.lookup_entity(p, None)?);
    }
    let needed: Vec<_> = program
        .strata
        .iter()
        .flatten()
        .copied()
        .filter(|n| declared.contains(&n.rel) || Some(n.rel) == cx.type_id)
        .collect();
    program.evaluate(cx, Derived::default(), &[], &needed, &cx.interrupt)
}

/// What `check` needs to judge one fact against the schema.
struct Schema<'a> {
    store: &'a Store,
    catalog: &'a Catalog,
    type_id: Option<Id>,
    /// Type facts the rules derive (class membership counts them too).
    derived_types: Option<&'a Relation>,
}

impl Schema<'_> {
    /// Whether `x` is stated (or derived) to be of `class` or one of its subtypes.
    fn has_type(&self, x: Id, class: &str) -> Result<bool> {
        let Some(t) = self.type_id.filter(|_| x.kind() == kind::ENTITY) else {
            return Ok(false);
        };
        for c in self.catalog.subtypes(class) {
            if let Some(cid) = self.store.lookup_entity(&c, None)? {
                if self
                    .store
                    .any(&IdPattern::new(Some(x), Some(t), Some(cid)))?
                    || self.derived_types.is_some_and(|f| f.contains(x, cid))
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Add a row to `out` when the fact `s p o` violates `p`'s declaration.
    fn problems(
        &self,
        p: &str,
        decl: &PredDecl,
        s: Id,
        o: Id,
        prefix: &str,
        out: &mut Vec<[Option<Value>; 4]>,
    ) -> Result<()> {
        let mut problems = Vec::new();
        if let Some(d) = &decl.domain {
            if !self.has_type(s, d)? {
                problems.push(format!("subject is not {}", with_article(d)));
            }
        }
        let wrong_range = match &decl.range {
            Some(Range::Class(c)) => (!self.has_type(o, c)?).then(|| with_article(c)),
            Some(Range::Kind(k)) => {
                (!k.accepts(self.store.value(o, None)?.kind())).then(|| with_article(k.name()))
            }
            None => None,
        };
        if let Some(what) = wrong_range {
            problems.push(format!("object is not {what}"));
        }
        if !problems.is_empty() {
            out.push([
                Some(self.store.value(s, None)?),
                Some(Value::entity(p)),
                Some(self.store.value(o, None)?),
                Some(Value::Str(format!("{prefix}{}", problems.join("; ")))),
            ]);
        }
        Ok(())
    }
}
