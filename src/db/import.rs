//! Imports and exports through the `Db`: all-or-nothing bulk loads.

use super::Db;
use crate::error::{Error, Result};
use crate::io::{self, ImportOptions, ImportSummary, QuadSink};
use crate::model::{Kind, Quad, Value};
use crate::store::{CommitStats, StagedQuads, Store, NO_SOURCE, QUAD_BUDGET};
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::cell::Cell;
use std::path::Path;
use std::time::{Duration, Instant};

/// What an import did.
///
/// ```
/// use dossier::io::{ImportOptions, Namespaces};
/// use dossier::db::{Db, ImportProgress};
///
/// let dir = tempfile::tempdir().unwrap();
/// let file = dir.path().join("backers.nt");
/// std::fs::write(
///     &file,
///     "<http://ex.org/lna> <http://ex.org/backed_by> <http://ex.org/egypt> .\n\
///      <http://ex.org/lna> <http://ex.org/backed_by> <http://ex.org/uae> .\n",
/// )
/// .unwrap();
///
/// let db = Db::memory()?;
/// let options = ImportOptions {
///     namespaces: Namespaces::with_base("http://ex.org/"), // IRIs under it become names
///     ..ImportOptions::default()
/// };
/// let mut last = None;
/// let imported = db.import_with_progress(&file, &options, &mut |p: ImportProgress| {
///     last = Some(p)
/// })?;
/// assert_eq!((imported.summary.records, imported.stats.added), (2, 2));
/// assert!(last.unwrap().writing); // the last call announces the commit
/// assert_eq!(db.query("find ?x where lna backed_by ?x.")?.len(), 2);
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Imported {
    /// What the reader saw (records, facts, skipped rows, literal notes).
    pub summary: ImportSummary,
    /// What the commit changed (facts that were new).
    pub stats: CommitStats,
    /// Wall-clock time of the whole import: reading, staging and the commit.
    pub elapsed: Duration,
}

/// Collects an import's facts as small integers into a table of distinct terms, so that a
/// fact costs 16 bytes (on disk past a budget) until the store imports them all at once
/// (nothing lands if the import fails).
struct Staging<'a> {
    /// The distinct terms, numbered in the order they were first seen.
    terms: FxIndexSet<Value>,
    /// The facts as indexes into `terms` (spilled to temporary files past a budget).
    quads: StagedQuads,
    /// Declared literal kinds, by predicate name.
    kinds: &'a FxHashMap<String, Kind>,
    /// Facts staged so far, shared with the progress callback (which the reader calls
    /// while this sink is borrowed by the importer).
    staged: &'a Cell<u64>,
}

type FxIndexSet<T> = indexmap::IndexSet<T, FxBuildHasher>;

impl<'a> Staging<'a> {
    fn new(kinds: &'a FxHashMap<String, Kind>, staged: &'a Cell<u64>) -> Staging<'a> {
        Staging {
            terms: FxIndexSet::default(),
            quads: StagedQuads::new(QUAD_BUDGET),
            kinds,
            staged,
        }
    }

    fn term(&mut self, v: Value) -> u32 {
        self.terms.insert_full(v).0 as u32
    }
}

impl QuadSink for Staging<'_> {
    fn push(&mut self, q: Quad) -> Result<()> {
        if let Some(k) = self.kinds.get(&q.predicate) {
            if !k.accepts(q.object.kind()) {
                return Err(Error::Invalid(format!(
                    "'{}' takes a {}, not {}: {q}",
                    q.predicate,
                    k.name(),
                    q.object
                )));
            }
        }
        let s = self.term(Value::Entity(q.subject));
        let p = self.term(Value::Entity(q.predicate));
        let o = self.term(q.object);
        let g = match q.source {
            Some(g) => self.term(Value::Entity(g)),
            None => NO_SOURCE,
        };
        self.quads.push([s, p, o, g])?;
        self.staged.set(self.staged.get() + 1);
        Ok(())
    }
}

/// The literal kinds the schema declares, by predicate name (enforced on every fact).
fn declared_kinds(store: &Store) -> Result<FxHashMap<String, Kind>> {
    let catalog = crate::engine::catalog::Catalog::load(store, None)?;
    Ok(catalog
        .preds
        .iter()
        .filter_map(|(p, d)| match &d.range {
            Some(crate::engine::catalog::Range::Kind(k)) => Some((p.clone(), *k)),
            _ => None,
        })
        .collect())
}

/// The meta record counting imports (it names their blank nodes: `_:i7_b0`).
pub(super) const IMPORTS_RECORD: &str = "imports";

pub(super) fn next_import_number(store: &Store) -> Result<u64> {
    Ok(match store.meta(IMPORTS_RECORD, None)? {
        Some(b) => b
            .get(..8)
            .and_then(|x| x.try_into().ok())
            .map(u64::from_be_bytes)
            .unwrap_or(0),
        None => 0,
    })
}

/// How far an import has got, for a progress bar: see [`Db::import_with_progress`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportProgress {
    /// Bytes of the file read so far (the file's length is the total).
    pub bytes: u64,
    /// Facts read so far.
    pub facts: u64,
    /// Reading is over and the facts are being written (one last call; the commit of a
    /// large file can take a while, and a bar should say so rather than look stuck).
    pub writing: bool,
}

impl Db {
    /// Add many facts in one atomic commit (declared literal kinds enforced), interning
    /// their terms in one sorted pass.  Returns what the commit changed.
    pub fn bulk_add(&self, quads: &[Quad]) -> Result<CommitStats> {
        let store = self.store();
        let _w = store.writer()?;
        let kinds = declared_kinds(store)?;
        let staged = Cell::new(0);
        let mut staging = Staging::new(&kinds, &staged);
        for q in quads {
            staging.push(q.clone())?;
        }
        commit_staged(store, staging, None)
    }

    /// Import a file (N-Triples, N-Quads, Turtle, TriG, GDELT, CSV/TSV with a mapping):
    /// every fact of it in one commit, or — when it fails — none.  `progress` gets the
    /// bytes read so far.
    pub fn import(
        &self,
        path: &Path,
        options: &ImportOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Imported> {
        self.import_with_progress(path, options, &mut |p: ImportProgress| progress(p.bytes))
    }

    /// [`Db::import`], reporting bytes and facts read so far and when writing starts (the
    /// command line's progress bar shows facts/s and an ETA from these).
    pub fn import_with_progress(
        &self,
        path: &Path,
        options: &ImportOptions,
        progress: &mut dyn FnMut(ImportProgress),
    ) -> Result<Imported> {
        let start = Instant::now();
        let store = self.store();
        let _w = store.writer()?;
        let kinds = declared_kinds(store)?;
        let number = next_import_number(store)? + 1;
        let mut opts = options.clone();
        opts.max_line_bytes
            .get_or_insert(self.limits.max_statement_bytes);
        if opts.blank_prefix.is_empty() {
            opts.blank_prefix = format!("i{number}_");
        }
        let staged = Cell::new(0);
        let mut staging = Staging::new(&kinds, &staged);
        let mut bytes = 0;
        let summary = io::import_file_with_progress(
            path,
            &opts,
            &mut |b| {
                bytes = b;
                progress(ImportProgress {
                    bytes: b,
                    facts: staged.get(),
                    writing: false,
                })
            },
            &mut staging,
        )?;
        progress(ImportProgress {
            bytes,
            facts: staged.get(),
            writing: true,
        });
        let stats = commit_staged(store, staging, Some(number))?;
        Ok(Imported {
            summary,
            stats,
            elapsed: start.elapsed(),
        })
    }
}

fn commit_staged(
    store: &Store,
    staging: Staging<'_>,
    import_number: Option<u64>,
) -> Result<CommitStats> {
    let Staging { terms, quads, .. } = staging;
    let terms: Vec<Value> = terms.into_iter().collect();
    let meta = import_number
        .map(|n| (IMPORTS_RECORD.to_string(), n.to_be_bytes().to_vec()))
        .into_iter()
        .collect();
    store.import(terms, quads, meta)
}
