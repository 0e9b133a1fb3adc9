//! Networks of entities: the neighbourhood of some entities in the store, or the edges a
//! query returns; each node with its label and type, each edge with its sources.

use super::PALETTE;
use crate::engine::catalog::Catalog;
use crate::error::{Error, Result};
use crate::model::{Value, TYPE_PREDICATE};
use crate::store::{kind, GraphSel, Id, IdPattern, Store};
use crate::{Db, Rows};
use indexmap::{IndexMap, IndexSet};
use rustc_hash::FxHashMap;
use std::collections::BTreeSet;

/// One node: an entity, or a literal value that a query returned as an end of an edge.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value (an entity, or a literal of a query's row).
    pub value: Value,
    /// Its `label`, if it has one.
    pub label: Option<String>,
    /// Its most specific type (the first by name when it has several), if it has one.
    pub kind: Option<String>,
    /// What it is coloured by: its type, or an ancestor of it when the picture has more
    /// types than colours; `None` for untyped nodes.
    pub group: Option<String>,
    /// Hops from the entities the network was asked around (0 for them); 0 for a query's.
    pub depth: u32,
    /// Neighbours it has that the picture leaves out (fan-out or size limit).
    pub hidden: u64,
    /// Position, set by [`super::layout`] (pixels, y down).
    pub x: f64,
    /// See `x`.
    pub y: f64,
}

impl Node {
    fn new(value: Value, depth: u32) -> Node {
        Node {
            value,
            label: None,
            kind: None,
            group: None,
            depth,
            hidden: 0,
            x: 0.0,
            y: 0.0,
        }
    }

    /// The entity's name, or the literal as the language writes it.
    pub fn name(&self) -> String {
        match &self.value {
            Value::Entity(e) => e.clone(),
            v => v.to_string(),
        }
    }

    /// What to print on the node: its label, else its name (a literal without quotes).
    pub fn caption(&self) -> String {
        self.label.clone().unwrap_or_else(|| self.value.plain())
    }
}

/// One edge, between nodes by index.  Two facts between the same nodes with different
/// predicates are two edges.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// Index of the subject's node.
    pub from: usize,
    /// Index of the object's node.
    pub to: usize,
    /// The predicate (`None` for the rows of a two-column query).
    pub predicate: Option<String>,
    /// The sources asserting the fact, by name (empty: no source, or not a stored fact).
    pub sources: Vec<String>,
}

/// A network to draw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Graph {
    /// The nodes, roots first.
    pub nodes: Vec<Node>,
    /// The edges.
    pub edges: Vec<Edge>,
    /// The groups nodes are coloured by, with their colour, in legend order.
    pub legend: Vec<(String, String)>,
    /// What was left out and why ("a limit of 500 nodes: …"), to show with the picture.
    pub notes: Vec<String>,
}

impl Graph {
    /// The colour of node `i`'s group.
    pub fn colour(&self, i: usize) -> &str {
        let group = self.nodes.get(i).and_then(|n| n.group.as_deref());
        match group {
            Some(g) => self
                .legend
                .iter()
                .find(|(name, _)| name == g)
                .map_or(super::UNTYPED, |(_, c)| c.as_str()),
            None => super::UNTYPED,
        }
    }

    /// How many edges touch each node.
    pub fn degrees(&self) -> Vec<usize> {
        let mut d = vec![0; self.nodes.len()];
        for e in &self.edges {
            for i in [e.from, e.to] {
                if let Some(x) = d.get_mut(i) {
                    *x += 1;
                }
            }
        }
        d
    }
}

/// What [`network`] follows and how far.
#[derive(Debug, Clone)]
pub struct NetworkOptions {
    /// Hops from the starting entities (default 1).
    pub depth: u32,
    /// Follow only these predicates (empty: every predicate).
    pub follow: Vec<String>,
    /// Never follow these predicates.
    pub exclude: Vec<String>,
    /// Stop adding nodes at this many (default 500): the rest are counted in
    /// [`Node::hidden`] and in a note.
    pub max_nodes: usize,
    /// Add at most this many new neighbours of any one node (default 100), so that a busy
    /// node (a capital city with thousands of events) does not fill the picture.
    pub max_fanout: usize,
}

impl Default for NetworkOptions {
    fn default() -> Self {
        NetworkOptions {
            depth: 1,
            follow: Vec::new(),
            exclude: Vec::new(),
            max_nodes: 500,
            max_fanout: 100,
        }
    }
}

/// How many facts of one node are read each way (a bound on the work for busy nodes: the
/// rest of a hub's facts are neither drawn nor counted).
const MAX_FACTS_SCANNED_PER_NODE: usize = 5_000;

/// The network around `roots`: every fact between entities within `depth` hops, following
/// facts both ways (`type` facts colour nodes rather than link them, unless `follow` names
/// `type`).  Edges among the nodes of the last hop are drawn too.
///
/// An unknown root is an error naming it.
pub fn network(db: &Db, roots: &[&str], options: &NetworkOptions) -> Result<Graph> {
    let store = db.store();
    let _read = store.read()?;
    let filter = PredicateFilter::new(store, options)?;
    let mut nodes: IndexMap<Id, Node> = IndexMap::new();
    for r in roots {
        let id = store
            .lookup_entity(r, None)?
            .ok_or_else(|| Error::Invalid(format!("no entity is named '{r}'")))?;
        nodes.insert(id, Node::new(Value::entity(*r), 0));
    }
    // (s, p, o) → sources.
    let mut edges: IndexMap<[Id; 3], BTreeSet<Id>> = IndexMap::new();
    let mut notes = Vec::new();
    let mut full = false;
    let mut next = 0;
    while next < nodes.len() {
        let Some((&id, node)) = nodes.get_index(next) else {
            break;
        };
        next += 1;
        let depth = node.depth;
        if depth >= options.depth {
            continue;
        }
        let mut added = 0usize;
        let mut hidden = 0u64;
        for dir in [Direction::Out, Direction::In] {
            // Triples only (sources are read for the edges kept), and at most so many per
            // node: a hub's thousands of events are counted as hidden up to there.
            for q in store
                .quads(&dir.triples(id))?
                .take(MAX_FACTS_SCANNED_PER_NODE)
            {
                let q = q?;
                let (other, p) = (dir.other(&q), q[1]);
                if other.kind() != kind::ENTITY || !filter.allows(p) || other == id {
                    continue;
                }
                if !nodes.contains_key(&other) {
                    if full || added >= options.max_fanout {
                        hidden += 1;
                        continue;
                    }
                    if nodes.len() >= options.max_nodes {
                        full = true;
                        hidden += 1;
                        continue;
                    }
                    added += 1;
                    nodes.insert(other, Node::new(Value::Entity(String::new()), depth + 1));
                }
                edges.entry([q[0], q[1], q[2]]).or_default();
            }
        }
        if hidden > 0 {
            if let Some(n) = nodes.get_index_mut(next - 1).map(|(_, n)| n) {
                n.hidden = hidden;
            }
        }
    }
    if full {
        notes.push(format!(
            "stopped at {} nodes (the limit): nodes marked + have neighbours not shown",
            options.max_nodes
        ));
    } else if nodes.values().any(|n| n.hidden > 0) {
        notes.push(format!(
            "at most {} new neighbours are shown per node: nodes marked + have more",
            options.max_fanout
        ));
    }
    // Edges among the nodes of the last hop (two backers of one side that back each other).
    let frontier: Vec<Id> = nodes
        .iter()
        .filter(|(_, n)| n.depth >= options.depth)
        .map(|(id, _)| *id)
        .collect();
    for id in frontier {
        for q in store
            .quads(&Direction::Out.triples(id))?
            .take(MAX_FACTS_SCANNED_PER_NODE)
        {
            let q = q?;
            if nodes.contains_key(&q[2]) && q[2] != id && filter.allows(q[1]) {
                edges.entry([q[0], q[1], q[2]]).or_default();
            }
        }
    }
    // The sources of the edges kept.
    for ([s, p, o], sources) in edges.iter_mut() {
        add_sources(store, IdPattern::new(Some(*s), Some(*p), Some(*o)), sources)?;
    }
    let mut graph = assemble(store, nodes, &edges)?;
    graph.notes = notes;
    decorate(store, &mut graph)?;
    Ok(graph)
}

/// One fact about an entity, seen from it: the predicate, the value at the other end, and
/// the sources asserting it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    /// The predicate.
    pub predicate: String,
    /// The object (outgoing facts) or the subject (incoming ones).
    pub other: Value,
    /// The sources asserting it, by name; empty: no source.
    pub sources: Vec<String>,
}

/// An entity's facts both ways (what an entity page shows), each direction cut at a limit.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Neighbourhood {
    /// Its `label`, if it has one.
    pub label: Option<String>,
    /// Its types (the objects of its `type` facts).
    pub types: Vec<String>,
    /// Facts with the entity as subject (`type` facts included), at most the limit.
    pub outgoing: Vec<Fact>,
    /// Facts with the entity as object, at most the limit.
    pub incoming: Vec<Fact>,
    /// How many outgoing facts there are in all (assertions of distinct triples).
    pub outgoing_total: u64,
    /// How many incoming facts there are in all.
    pub incoming_total: u64,
}

/// The facts of entity `name` both ways, at most `limit` each way (the totals are
/// counted), sources folded into each fact.  `None` when no entity has that name.
///
/// ```
/// let db = dossier::Db::memory()?;
/// db.execute("lna label \"LNA\"; backed_by egypt from aa. haftar commands lna.")?;
/// let n = dossier::viz::neighbourhood(&db, "lna", 10)?.unwrap();
/// assert_eq!(n.label.as_deref(), Some("LNA"));
/// assert_eq!(n.outgoing.len(), 2);
/// assert_eq!(n.incoming[0].predicate, "commands");
/// assert_eq!(n.outgoing.iter().find(|f| f.predicate == "backed_by").unwrap().sources, ["aa"]);
/// # Ok::<(), dossier::Error>(())
/// ```
pub fn neighbourhood(db: &Db, name: &str, limit: usize) -> Result<Option<Neighbourhood>> {
    let store = db.store();
    let _read = store.read()?;
    let Some(id) = store.lookup_entity(name, None)? else {
        return Ok(None);
    };
    let mut out = Neighbourhood::default();
    let mut ids: Vec<Id> = Vec::new();
    // Per direction: (predicate, other) → sources, in index order.
    let mut found: [IndexMap<(Id, Id), Vec<Id>>; 2] = [IndexMap::new(), IndexMap::new()];
    let mut totals = [0u64; 2];
    for (k, dir) in [Direction::Out, Direction::In].into_iter().enumerate() {
        let mut last: Option<[Id; 3]> = None;
        for q in store.quads(&dir.pattern(id))? {
            let q = q?;
            if matches!(dir, Direction::In) && q[0] == id {
                continue; // a fact about itself is outgoing
            }
            let triple = [q[0], q[1], q[2]];
            if last != Some(triple) {
                totals[k] += 1;
                last = Some(triple);
            }
            let key = (q[1], dir.other(&q));
            if found[k].len() >= limit && !found[k].contains_key(&key) {
                continue;
            }
            let sources = found[k].entry(key).or_default();
            if q[3].is_some() {
                sources.push(q[3]);
            }
        }
        for ((p, o), sources) in &found[k] {
            ids.push(*p);
            ids.push(*o);
            ids.extend(sources.iter().copied());
        }
    }
    let terms = Terms::of(store, &ids)?;
    let get = |id: &Id| terms.get(id);
    let label = store.lookup_entity("label", None)?;
    let ty = store.lookup_entity(TYPE_PREDICATE, None)?;
    for (k, facts) in found.iter().enumerate() {
        for ((p, o), sources) in facts {
            let mut names = Vec::new();
            for s in sources {
                names.push(get(s)?.to_string());
            }
            names.sort();
            names.dedup();
            let other = get(o)?;
            if k == 0 && Some(*p) == label && out.label.is_none() {
                if let Value::Str(s) = &other {
                    out.label = Some(s.clone());
                }
            }
            if k == 0 && Some(*p) == ty {
                if let Value::Entity(t) = &other {
                    out.types.push(t.clone());
                }
            }
            let fact = Fact {
                predicate: get(p)?.to_string(),
                other,
                sources: names,
            };
            if k == 0 {
                out.outgoing.push(fact);
            } else {
                out.incoming.push(fact);
            }
        }
    }
    [out.outgoing_total, out.incoming_total] = totals;
    Ok(Some(out))
}

/// The sources asserting the facts `pattern` matches (whatever its `g`), added to `into`.
pub(crate) fn add_sources(
    store: &Store,
    pattern: IdPattern,
    into: &mut BTreeSet<Id>,
) -> Result<()> {
    for q in store.quads(&IdPattern {
        g: GraphSel::Each,
        ..pattern
    })? {
        let q = q?;
        if q[3].is_some() {
            into.insert(q[3]);
        }
    }
    Ok(())
}

/// The names of sources, sorted.
pub(crate) fn source_names(store: &Store, ids: &BTreeSet<Id>) -> Result<Vec<String>> {
    let mut names = Vec::with_capacity(ids.len());
    for id in ids {
        names.push(store.value(*id, None)?.to_string());
    }
    names.sort();
    Ok(names)
}

/// Decoded terms; a missing one is a storage error.
struct Terms(FxHashMap<Id, Value>);

impl Terms {
    fn of(store: &Store, ids: &[Id]) -> Result<Terms> {
        Ok(Terms(store.values(ids, None)?))
    }

    fn get(&self, id: &Id) -> Result<Value> {
        self.0
            .get(id)
            .cloned()
            .ok_or_else(|| Error::Storage(format!("id {id:?} has no term")))
    }
}

/// The first `label` of entity `id` (`label` is the predicate's id, if it exists).
pub(crate) fn label_of(store: &Store, id: Id, label: Option<Id>) -> Result<Option<String>> {
    let Some(l) = label else { return Ok(None) };
    if let Some(q) = store
        .quads(&IdPattern::new(Some(id), Some(l), None))?
        .next()
    {
        if let Value::Str(s) = store.value(q?[2], None)? {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// Which way a fact is read from a node.
#[derive(Clone, Copy)]
enum Direction {
    Out,
    In,
}

impl Direction {
    /// Each distinct triple once.
    fn triples(self, id: Id) -> IdPattern {
        match self {
            Direction::Out => IdPattern::new(Some(id), None, None),
            Direction::In => IdPattern::new(None, None, Some(id)),
        }
    }

    /// Every assertion, with its source.
    fn pattern(self, id: Id) -> IdPattern {
        IdPattern {
            g: GraphSel::Each,
            ..self.triples(id)
        }
    }

    fn other(self, q: &[Id; 4]) -> Id {
        match self {
            Direction::Out => q[2],
            Direction::In => q[0],
        }
    }
}

/// The predicates a network follows.
struct PredicateFilter {
    follow: Option<Vec<Id>>,
    exclude: Vec<Id>,
}

impl PredicateFilter {
    fn new(store: &Store, o: &NetworkOptions) -> Result<PredicateFilter> {
        let ids = |names: &[String]| -> Result<Vec<Id>> {
            let mut out = Vec::new();
            for n in names {
                let n = if n == "a" { TYPE_PREDICATE } else { n.as_str() };
                out.extend(store.lookup_entity(n, None)?);
            }
            Ok(out)
        };
        let mut exclude = ids(&o.exclude)?;
        let follow = if o.follow.is_empty() {
            // Types colour the nodes; as edges they would tie every State to `State`.
            exclude.extend(store.lookup_entity(TYPE_PREDICATE, None)?);
            None
        } else {
            Some(ids(&o.follow)?)
        };
        Ok(PredicateFilter { follow, exclude })
    }

    fn allows(&self, p: Id) -> bool {
        !self.exclude.contains(&p) && self.follow.as_ref().is_none_or(|f| f.contains(&p))
    }
}

/// Decode ids into a graph.
fn assemble(
    store: &Store,
    nodes: IndexMap<Id, Node>,
    edges: &IndexMap<[Id; 3], BTreeSet<Id>>,
) -> Result<Graph> {
    let mut ids: Vec<Id> = nodes.keys().copied().collect();
    for ([_, p, _], sources) in edges {
        ids.push(*p);
        ids.extend(sources.iter().copied());
    }
    let terms = Terms::of(store, &ids)?;
    let name = |id: &Id| terms.get(id);
    let mut graph = Graph::default();
    for (id, mut n) in nodes.iter().map(|(i, n)| (i, n.clone())) {
        n.value = name(id)?;
        graph.nodes.push(n);
    }
    for ([s, p, o], sources) in edges {
        let (Some(from), Some(to)) = (nodes.get_index_of(s), nodes.get_index_of(o)) else {
            continue;
        };
        let mut names = Vec::new();
        for src in sources {
            names.push(name(src)?.to_string());
        }
        names.sort();
        graph.edges.push(Edge {
            from,
            to,
            predicate: Some(name(p)?.to_string()),
            sources: names,
        });
    }
    Ok(graph)
}

/// The graph whose edges are a query's rows: two columns (`?a ?b`, unnamed edges) or three
/// (`?a ?p ?b`, edges named by the middle column).  Rows with an unbound end are left out;
/// at most `max_nodes` nodes (the rest is counted in a note).  Stored facts get their
/// sources, entities their labels and types.
pub fn graph_from_rows(db: &Db, rows: &Rows, max_nodes: usize) -> Result<Graph> {
    let mut graph = Graph::from_rows(rows, max_nodes)?;
    let store = db.store();
    let _read = store.read()?;
    let mut ids: FxHashMap<String, Option<Id>> = FxHashMap::default();
    let mut id_of = |v: &Value| -> Result<Option<Id>> {
        let key = v.to_string();
        if let Some(id) = ids.get(&key) {
            return Ok(*id);
        }
        let id = store.lookup(v, None)?;
        ids.insert(key, id);
        Ok(id)
    };
    for e in &mut graph.edges {
        let (Some(a), Some(b), Some(p)) = (
            graph.nodes.get(e.from).map(|n| n.value.clone()),
            graph.nodes.get(e.to).map(|n| n.value.clone()),
            e.predicate.clone(),
        ) else {
            continue;
        };
        let (Some(s), Some(p), Some(o)) = (id_of(&a)?, id_of(&Value::entity(p))?, id_of(&b)?)
        else {
            continue;
        };
        let mut sources = BTreeSet::new();
        add_sources(
            store,
            IdPattern::new(Some(s), Some(p), Some(o)),
            &mut sources,
        )?;
        e.sources = source_names(store, &sources)?;
    }
    decorate(store, &mut graph)?;
    Ok(graph)
}

impl Graph {
    /// [`graph_from_rows`] without a database: no labels, types or sources (what
    /// `--format dot` prints).
    pub fn from_rows(rows: &Rows, max_nodes: usize) -> Result<Graph> {
        let width = rows.columns().len();
        if !(2..=3).contains(&width) {
            return Err(Error::Invalid(format!(
                "a network is drawn from rows of two columns (?a ?b) or three (?a ?p ?b); this \
             query has {width}"
            )));
        }
        let mut index: IndexMap<String, Node> = IndexMap::new();
        let mut edges: IndexSet<(usize, usize, Option<String>)> = IndexSet::new();
        let mut left_out = 0u64;
        for row in rows.values() {
            let (Some(Some(a)), Some(Some(b))) = (row.first(), row.last()) else {
                continue;
            };
            let predicate = if width == 3 {
                match row.get(1) {
                    Some(Some(Value::Entity(p))) => Some(p.clone()),
                    Some(Some(v)) => Some(v.to_string()),
                    _ => None,
                }
            } else {
                None
            };
            let mut ends = [0usize; 2];
            let mut ok = true;
            for (slot, v) in ends.iter_mut().zip([a, b]) {
                let key = v.to_string();
                match index.get_index_of(&key) {
                    Some(i) => *slot = i,
                    None if index.len() < max_nodes => {
                        *slot = index.len();
                        index.insert(key, Node::new(v.clone(), 0));
                    }
                    None => ok = false,
                }
            }
            if ok {
                edges.insert((ends[0], ends[1], predicate));
            } else {
                left_out += 1;
            }
        }
        let mut graph = Graph {
            nodes: index.into_values().collect(),
            edges: edges
                .into_iter()
                .map(|(from, to, predicate)| Edge {
                    from,
                    to,
                    predicate,
                    sources: Vec::new(),
                })
                .collect(),
            ..Graph::default()
        };
        if left_out > 0 {
            graph.notes.push(format!(
                "stopped at {max_nodes} nodes (the limit): {left_out} rows not drawn"
            ));
        }
        graph.legend = legend(&mut graph.nodes, &Catalog::default());
        Ok(graph)
    }
}

/// Labels and types of the entity nodes, and the colour groups.
fn decorate(store: &Store, graph: &mut Graph) -> Result<()> {
    let label = store.lookup_entity("label", None)?;
    let ty = store.lookup_entity(TYPE_PREDICATE, None)?;
    let catalog = Catalog::load(store, None)?;
    for n in &mut graph.nodes {
        let Value::Entity(name) = &n.value else {
            continue;
        };
        let Some(id) = store.lookup_entity(name, None)? else {
            continue;
        };
        n.label = label_of(store, id, label)?;
        if let Some(t) = ty {
            let mut types = BTreeSet::new();
            for q in store.quads(&IdPattern::new(Some(id), Some(t), None))? {
                if let Value::Entity(t) = store.value(q?[2], None)? {
                    types.insert(t);
                }
            }
            // The most specific: not a supertype of another of its types.
            let specific: Vec<&String> = types
                .iter()
                .filter(|t| {
                    !types
                        .iter()
                        .any(|u| u != *t && catalog.supertypes(u).contains(*t))
                })
                .collect();
            n.kind = specific.first().map(|t| t.to_string());
        }
    }
    graph.legend = legend(&mut graph.nodes, &catalog);
    Ok(())
}

/// Give each node a colour group: its type when the picture has no more types than colours;
/// otherwise the type's ancestor one level below a root of the hierarchy (State and
/// ArmedGroup under Actor), then the roots themselves.  Literals are a group of their own.
fn legend(nodes: &mut [Node], catalog: &Catalog) -> Vec<(String, String)> {
    let kinds: Vec<Option<String>> = nodes
        .iter()
        .map(|n| match (&n.value, &n.kind) {
            (Value::Entity(_), k) => k.clone(),
            (v, _) => Some(format!("{} value", v.kind().name())),
        })
        .collect();
    let mut levels: Vec<Vec<Option<String>>> = vec![kinds.clone()];
    for level in [1usize, 0] {
        levels.push(
            kinds
                .iter()
                .map(|k| k.as_ref().map(|k| ancestor_at(catalog, k, level)))
                .collect(),
        );
    }
    let distinct = |v: &[Option<String>]| v.iter().flatten().collect::<BTreeSet<_>>().len();
    let chosen = levels
        .iter()
        .find(|l| distinct(l) <= PALETTE.len())
        .or(levels.last())
        .cloned()
        .unwrap_or_default();
    // Most frequent groups first, so a group past the palette is a rare one.
    let mut counts: IndexMap<String, usize> = IndexMap::new();
    for g in chosen.iter().flatten() {
        *counts.entry(g.clone()).or_default() += 1;
    }
    counts.sort_by(|a, ca, b, cb| cb.cmp(ca).then(a.cmp(b)));
    let legend: Vec<(String, String)> = counts
        .keys()
        .zip(PALETTE.iter())
        .map(|(g, c)| (g.clone(), c.to_string()))
        .collect();
    for (n, g) in nodes.iter_mut().zip(chosen) {
        n.group = g.filter(|g| legend.iter().any(|(l, _)| l == g));
    }
    legend
}

/// The ancestor of type `t` at `level` below its root (0: the root), following first
/// supertypes; `t` itself when it is not that deep.
fn ancestor_at(catalog: &Catalog, t: &str, level: usize) -> String {
    let mut chain = vec![t.to_string()];
    while let Some(up) = chain
        .last()
        .and_then(|x| catalog.types.get(x))
        .and_then(|s| s.first())
    {
        if chain.contains(up) || chain.len() > 64 {
            break;
        }
        chain.push(up.clone());
    }
    chain.reverse();
    chain.get(level).cloned().unwrap_or_else(|| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Db {
        let db = Db::memory().expect("db");
        db.execute(
            "type Actor. type State sub Actor. type ArmedGroup sub Actor. type Person sub Actor.
             lna a ArmedGroup; label \"Haftar's forces\"; backed_by egypt, uae, russia.
             gna backed_by turkey, qatar from aa.
             haftar a Person; commands lna.
             egypt a State. uae a State. turkey a State; opposes lna.
             egypt ally uae.",
        )
        .expect("facts");
        db
    }

    #[test]
    fn a_network_follows_facts_both_ways_to_its_depth() {
        let db = db();
        let g = network(&db, &["lna"], &NetworkOptions::default()).expect("graph");
        let names: Vec<String> = g.nodes.iter().map(Node::name).collect();
        assert_eq!(names, ["lna", "egypt", "uae", "russia", "turkey", "haftar"]);
        // egypt ally uae links two nodes of the last hop.
        assert!(g
            .edges
            .iter()
            .any(|e| e.predicate.as_deref() == Some("ally") && e.from == 1 && e.to == 2));
        assert_eq!(g.nodes[0].label.as_deref(), Some("Haftar's forces"));
        assert_eq!(g.nodes[0].kind.as_deref(), Some("ArmedGroup"));
        assert_eq!(g.nodes[1].group.as_deref(), Some("State"));
        let deeper = network(
            &db,
            &["lna"],
            &NetworkOptions {
                depth: 2,
                ..NetworkOptions::default()
            },
        )
        .expect("graph");
        assert!(deeper.nodes.iter().any(|n| n.name() == "gna"));
    }

    #[test]
    fn follow_exclude_and_limits() {
        let db = db();
        let only = |follow: &[&str], exclude: &[&str], max_nodes, max_fanout| {
            network(
                &db,
                &["lna"],
                &NetworkOptions {
                    follow: follow.iter().map(|s| s.to_string()).collect(),
                    exclude: exclude.iter().map(|s| s.to_string()).collect(),
                    max_nodes,
                    max_fanout,
                    ..NetworkOptions::default()
                },
            )
            .expect("graph")
        };
        let g = only(&["commands"], &[], 500, 100);
        assert_eq!(g.nodes.len(), 2);
        let g = only(&[], &["backed_by", "opposes"], 500, 100);
        assert_eq!(g.nodes.len(), 2);
        let g = only(&[], &[], 3, 100);
        assert_eq!(g.nodes.len(), 3);
        assert_eq!(g.nodes[0].hidden, 3);
        assert!(g.notes[0].contains("stopped at 3 nodes"), "{:?}", g.notes);
        let g = only(&[], &[], 500, 1);
        assert_eq!(g.nodes.len(), 2);
        assert!(g.notes[0].contains("at most 1 new"), "{:?}", g.notes);
        assert!(network(&db, &["nobody"], &NetworkOptions::default()).is_err());
    }

    #[test]
    fn rows_become_edges_with_their_sources() {
        let db = db();
        let rows = db
            .query("find ?a ?p ?b where ?a ?p ?b, ?b a State.")
            .expect("rows");
        let g = graph_from_rows(&db, &rows, 100).expect("graph");
        let e = g
            .edges
            .iter()
            .find(|e| g.nodes[e.to].name() == "qatar" || g.nodes[e.to].name() == "turkey")
            .expect("gna's edge");
        assert_eq!(e.sources, ["aa"]);
        let two = db.query("find ?a ?b where ?a backed_by ?b.").expect("rows");
        let g = graph_from_rows(&db, &two, 3).expect("graph");
        assert_eq!(g.nodes.len(), 3);
        assert!(g.notes[0].contains("rows not drawn"));
        let one = db.query("find ?a where ?a a State.").expect("rows");
        assert!(graph_from_rows(&db, &one, 10).is_err());
    }
}
