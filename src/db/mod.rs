//! `dossier::Db`: the public API.  The command line and the REPL are thin layers over it.

mod export;
mod import;
mod maintain;
mod params;
mod rows;
mod script;
mod statement;

pub use import::{ImportProgress, Imported};
pub use maintain::{compact, disk_bytes, repair, storage_problems, BackedUp, Compacted, Repaired};
pub use params::parse_param;

pub use rows::{to_json, FromValue, Row, Rows};
pub use script::{DryRun, Script};

use crate::diag::{Report, Severity};
use crate::engine::{self, catalog::Catalog, Interrupt, Mode, PlanCache, QueryResult};
use crate::error::{Error, Result};
use crate::lang::ast::{self, StatementKind};
use crate::limits;
use crate::model::{Quad, Value};
use crate::store::{Delta, Id, Store, StoreOptions};
use statement::run_statement;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::engine::Params;

/// How to open a database.
///
/// ```
/// use dossier::{Db, Error, Options};
/// let dir = tempfile::tempdir().unwrap();
/// let options = Options { max_rows: Some(2), ..Options::default() };
/// let db = Db::open_with(dir.path(), options)?;
/// db.execute("lna backed_by egypt, uae, russia.")?;
/// let big = db.query("find ?x where lna backed_by ?x.");
/// assert!(matches!(big, Err(Error::TooManyRows(2))));
/// drop(db); // release the directory before opening it again
///
/// let reader = Db::open_with(dir.path(), Options { read_only: true, ..Options::default() })?;
/// assert_eq!(reader.query("find ?x where lna backed_by ?x.")?.len(), 3);
/// assert!(reader.execute("gna backed_by turkey.").is_err());
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// Page cache size in bytes (default 256 MiB).
    pub cache_bytes: u64,
    /// Flush to disk before a write returns, so a committed statement survives a crash
    /// (default `true`; turn off for bulk loads and call [`Db::flush`] at the end).
    pub durable: bool,
    /// Refuse every write.
    pub read_only: bool,
    /// Stop any query that runs longer (`None`: no limit).
    pub timeout: Option<Duration>,
    /// Stop any query whose result has more rows (`None`: no limit).
    pub max_rows: Option<u64>,
    /// Stop any query that holds more bytes of rows (hash joins, sorts, groups, distinct
    /// sets, facts derived by rules) with [`Error::TooMuchMemory`] (default
    /// [`limits::MAX_MEMORY`], 1 GiB; `None`: no limit).
    pub max_memory: Option<u64>,
    /// The longest statement a script may have, and the longest line (or CSV record) of an
    /// import, in bytes (default [`limits::MAX_STATEMENT`], 16 MiB): a longer one is an
    /// error naming its line instead of filling the memory.
    pub max_statement_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            cache_bytes: 256 << 20,
            durable: true,
            read_only: false,
            timeout: None,
            max_rows: None,
            max_memory: Some(limits::MAX_MEMORY),
            max_statement_bytes: limits::MAX_STATEMENT,
        }
    }
}

/// The limits statements run under: those of the [`Options`] a database was opened with,
/// or others for some statements ([`Db::with_limits`]).
///
/// ```
/// use dossier::{Db, Error, Limits};
/// let db = Db::memory()?;
/// db.execute("e1 p 1. e2 p 2. e3 p 3.")?;
/// // A cartesian product of 3 × 3 × 3 rows, in 1 KiB.
/// let small = db.with_limits(Limits { max_memory: Some(1 << 10), ..db.limits() });
/// let q = "find ?a ?b ?c where ?a p ?x, ?b p ?y, ?c p ?z order by ?a.";
/// assert!(matches!(small.query(q), Err(Error::TooMuchMemory(_))));
/// assert_eq!(db.query(q)?.len(), 27); // the database's own limits are unchanged
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Stop a query that runs longer ([`Options::timeout`]).
    pub timeout: Option<Duration>,
    /// Stop a query whose result has more rows ([`Options::max_rows`]).
    pub max_rows: Option<u64>,
    /// Stop a query that holds more bytes ([`Options::max_memory`]).
    pub max_memory: Option<u64>,
    /// The longest statement of a script or line of an import
    /// ([`Options::max_statement_bytes`]).
    pub max_statement_bytes: usize,
}

impl Limits {
    fn of(o: &Options) -> Limits {
        Limits {
            timeout: o.timeout,
            max_rows: o.max_rows,
            max_memory: o.max_memory,
            max_statement_bytes: o.max_statement_bytes,
        }
    }
}

/// An open knowledge base.  Cheap to clone (a shared handle), `Send + Sync`: many
/// threads may read while one writes, and a reader never sees half of a statement.
///
/// ```
/// use dossier::Db;
/// let db = Db::memory()?;
/// db.execute("
///     lna a ArmedGroup; label \"Libyan National Army\"; backed_by egypt, uae, russia.
///     gna backed_by turkey, qatar.
/// ")?;
/// let rows = db.query("find ?backer where lna backed_by ?backer order by ?backer.")?;
/// let backers: Vec<String> = rows.map(|r| r.get::<String>("backer")).collect::<Result<_, _>>()?;
/// assert_eq!(backers, ["egypt", "russia", "uae"]);
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
    /// The limits of statements run through this handle (see [`Db::with_limits`]).
    limits: Limits,
}

struct Inner {
    store: Store,
    options: Options,
    /// Set to cancel the queries running now (Ctrl-C in the REPL).
    cancel: Arc<AtomicBool>,
    /// Plans of the queries run so far, by statement text and parameters.
    plans: PlanCache,
}

/// What a statement did.
///
/// ```
/// use dossier::{Db, Outcome};
/// let db = Db::memory()?;
/// let outcomes = db.execute("
///     lna backed_by egypt, uae.
///     del lna backed_by uae.
///     type Actor.
///     find ?x where lna backed_by ?x.
/// ")?;
/// assert_eq!(outcomes[0], Outcome::Added(2));
/// assert_eq!(outcomes[1], Outcome::Removed(1));
/// assert_eq!(outcomes[2].to_string(), "declared type Actor");
/// match &outcomes[3] {
///     Outcome::Rows(rows) => assert_eq!(rows.len(), 1),
///     other => panic!("not rows: {other}"),
/// }
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// A `find`, `describe`, `search` or `check`.
    Rows(Rows),
    /// Facts added (assertions that were new).
    Added(u64),
    /// Facts removed.
    Removed(u64),
    /// A rule statement (or `check` with nothing to report), with what it did.
    Done(String),
    /// `explain`: the plan.
    Plan(String),
    /// A `type` or `pred` declaration.
    Declared(Declaration),
}

/// What a `type` or `pred` statement declared.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Declaration {
    /// `type T [sub U, …]`: the type, with all its direct supertypes after the statement (a
    /// type declared again keeps the supertypes it had and gains the ones named).
    Type {
        /// The type.
        name: String,
        /// Its direct supertypes, in the order they were declared.
        supertypes: Vec<String>,
    },
    /// `pred p: D -> R`.
    Predicate(String),
}

impl fmt::Display for Outcome {
    /// What the command line prints for writes: `added 12 facts`, `removed 1 fact`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::diag::plural;
        match self {
            Outcome::Rows(r) => f.write_str(&plural(r.len() as u64, "row")),
            Outcome::Added(n) => write!(f, "added {}", plural(*n, "fact")),
            Outcome::Removed(n) => write!(f, "removed {}", plural(*n, "fact")),
            Outcome::Done(m) | Outcome::Plan(m) => f.write_str(m),
            Outcome::Declared(Declaration::Type { name, supertypes }) => {
                write!(f, "declared type {name}")?;
                if !supertypes.is_empty() {
                    write!(f, ", below {}", supertypes.join(", "))?;
                }
                Ok(())
            }
            Outcome::Declared(Declaration::Predicate(name)) => {
                write!(f, "declared predicate {name}")
            }
        }
    }
}

/// A statement's outcome with its warnings and how long it took.
#[derive(Debug, Clone)]
pub struct Executed {
    /// What the statement did.
    pub outcome: Outcome,
    /// E.g. `no facts use 'backd_by'`, with a suggestion.
    pub warnings: Vec<Report>,
    /// Wall-clock time the statement took to run (parsing and checks excluded).
    pub elapsed: Duration,
    /// Where the statement is: file (if any) and 1-based line.
    pub file: Option<String>,
    /// The 1-based line the statement starts on, in `file` (or in the text run).
    pub line: usize,
}

/// Stops the queries it is given to (see [`QueryOptions::cancel`]), from any thread, and
/// only those: other queries on the same database run on.
///
/// ```
/// use dossier::{CancelToken, Db, Error, Params, QueryOptions};
/// let db = Db::memory()?;
/// db.execute("lna backed_by egypt.")?;
/// let token = CancelToken::new();
/// let options = QueryOptions { cancel: Some(token.clone()), ..QueryOptions::default() };
/// token.cancel(); // e.g. from the thread that saw the client go away
/// let r = db.query_with_options("find ?x where lna backed_by ?x.", &Params::new(), &options);
/// assert!(matches!(r, Err(Error::Cancelled)));
/// // The database-wide limits and every other query are untouched.
/// assert_eq!(db.query("find ?x where lna backed_by ?x.")?.len(), 1);
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token not cancelled yet.
    pub fn new() -> CancelToken {
        CancelToken::default()
    }

    /// Stop the queries that run with this token: each fails with [`Error::Cancelled`]
    /// at its next check.  A token stays cancelled.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Limits of one query run, on top of the database's [`Options`]: where both set a limit,
/// the stricter one holds.  What a server gives each request.
///
/// ```
/// use dossier::{Db, Error, Params, QueryOptions};
/// use std::time::Duration;
/// let db = Db::memory()?;
/// db.execute("lna backed_by egypt, uae, russia.")?;
/// let options = QueryOptions {
///     max_rows: Some(2),
///     timeout: Some(Duration::from_secs(5)),
///     ..QueryOptions::default()
/// };
/// let r = db.query_with_options("find ?x where lna backed_by ?x.", &Params::new(), &options);
/// assert!(matches!(r, Err(Error::TooManyRows(2))));
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct QueryOptions {
    /// Stop the query when it runs longer.
    pub timeout: Option<Duration>,
    /// Stop the query when its result would have more rows.
    pub max_rows: Option<u64>,
    /// Stop the query when it holds more bytes of rows ([`Options::max_memory`]).
    pub max_memory: Option<u64>,
    /// Stop the query when this token is cancelled.
    pub cancel: Option<CancelToken>,
}

/// Cancels the queries running on a database, from any thread.
#[derive(Clone, Debug)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    /// Stop the queries running on the database now: each fails with [`Error::Cancelled`].
    /// Statements started afterwards run normally: each clears the request when it starts,
    /// so a cancel that comes too late does not stop the next query.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Db {
    /// Open (or create) the database in directory `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Db> {
        Db::open_with(path, Options::default())
    }

    /// Open (or create) the database in directory `path` with `options`.
    pub fn open_with(path: impl AsRef<Path>, options: Options) -> Result<Db> {
        let so = StoreOptions {
            cache_bytes: options.cache_bytes,
            durable: options.durable,
            read_only: options.read_only,
        };
        let store = Store::open(path.as_ref(), so)?;
        Ok(Db::from_store(store, options))
    }

    /// A temporary database, deleted when the last handle is dropped.
    pub fn memory() -> Result<Db> {
        Db::memory_with(Options::default())
    }

    /// A temporary database with `options` (its limits; a temporary database is never
    /// durable and never read-only).
    pub fn memory_with(options: Options) -> Result<Db> {
        Ok(Db::from_store(
            Store::temporary()?,
            Options {
                durable: false,
                read_only: false,
                ..options
            },
        ))
    }

    fn from_store(store: Store, options: Options) -> Db {
        Db {
            limits: Limits::of(&options),
            inner: Arc::new(Inner {
                store,
                options,
                cancel: Arc::new(AtomicBool::new(false)),
                plans: PlanCache::new(),
            }),
        }
    }

    /// The limits statements run under through this handle.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// A handle to the same database whose statements run under other limits (a longer
    /// timeout for one report, more memory for one big query); this handle's stay as they
    /// are.  Cheap: the database is shared, not opened again.
    pub fn with_limits(&self, limits: Limits) -> Db {
        Db {
            inner: Arc::clone(&self.inner),
            limits,
        }
    }

    /// The storage layer (for tools and tests that need to look underneath).
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// What opening found damaged, if anything (writes are refused then; see
    /// [`repair`]).
    pub fn damage(&self) -> Option<&str> {
        self.inner.store.damage()
    }

    /// The database directory (`:memory:` for [`Db::memory`]).
    pub fn path(&self) -> &Path {
        self.inner.store.path()
    }

    /// A handle that cancels the queries running on this database (the REPL's Ctrl-C).
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle(self.inner.cancel.clone())
    }

    /// The engine's limits for one statement starting now: this handle's.
    fn run_limits(&self) -> engine::Limits {
        self.limits_with(&QueryOptions::default())
    }

    /// This handle's limits tightened by one query's options (where both set a limit, the
    /// stricter one holds).
    fn limits_with(&self, q: &QueryOptions) -> engine::Limits {
        let l = &self.limits;
        fn stricter<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
            match (a, b) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        }
        engine::Limits {
            interrupt: Interrupt {
                cancel: Some(self.inner.cancel.clone()),
                token: q.cancel.as_ref().map(|t| t.0.clone()),
                // A limit too far away to be an instant is no limit.
                deadline: stricter(l.timeout, q.timeout)
                    .and_then(|t| Some((Instant::now().checked_add(t)?, t))),
            },
            max_rows: stricter(l.max_rows, q.max_rows),
            max_memory: stricter(l.max_memory, q.max_memory),
        }
    }

    /// Run a script; one [`Outcome`] per statement.  Stops at the first failing statement
    /// (which changes nothing); the statements before it stay done.
    pub fn execute(&self, text: &str) -> Result<Vec<Outcome>> {
        self.execute_with(text, &Params::new())
    }

    /// [`Db::execute`] with `$name` parameters bound to values (see [`Db::query_with`]).
    pub fn execute_with(&self, text: &str, params: &Params) -> Result<Vec<Outcome>> {
        self.script(text)
            .params(params.clone())
            .map(|r| r.map(|e| e.outcome))
            .collect()
    }

    /// Run statements one at a time, with their warnings and timing (what the command
    /// line uses).  See [`Script`].
    pub fn script(&self, text: &str) -> Script<'_> {
        Script::new(self, text)
    }

    /// Run the statements of a stream (a file, a pipe, standard input) as they arrive: a
    /// statement at a time is read and run, so a script of any length runs in the memory
    /// of its longest statement, and a producer that writes a statement and waits for its
    /// answer gets it.  Name the stream with [`Script::file`].
    ///
    /// ```
    /// let db = dossier::Db::memory()?;
    /// let input: &[u8] = b"e1 p 1.\nfind ?x where ?x p 1.\n";
    /// let outcomes: Vec<String> = db
    ///     .script_reader(input)
    ///     .map(|r| r.map(|e| e.outcome.to_string()))
    ///     .collect::<Result<_, _>>()?;
    /// assert_eq!(outcomes, ["added 1 fact", "1 row"]);
    /// # Ok::<(), dossier::Error>(())
    /// ```
    pub fn script_reader<'a>(&'a self, reader: impl std::io::BufRead + 'a) -> Script<'a> {
        Script::from_reader(self, reader)
    }

    /// Run scripts without keeping what they write: every statement of its scripts runs
    /// inside one transaction that is never committed, so later statements (rules, queries)
    /// see what earlier ones wrote and the database stays as it was — a tour of the
    /// language, or "what would this script do?".
    ///
    /// ```
    /// let db = dossier::Db::memory()?;
    /// db.execute("haftar commands lna.")?;
    /// let mut dry = db.dry_run();
    /// let rule = "rule ?x leads ?y :- ?x commands ?y.";
    /// assert!(dry.script(rule).all(|r| r.is_ok()));
    /// let rows: Vec<_> = dry.script("find ?x where ?x leads lna.").collect();
    /// assert_eq!(rows.len(), 1);
    /// drop(dry);
    /// assert!(db.rules()?.is_empty());
    /// # Ok::<(), dossier::Error>(())
    /// ```
    pub fn dry_run(&self) -> DryRun<'_> {
        DryRun::new(self)
    }

    /// Run one `find` and return its rows.
    pub fn query(&self, text: &str) -> Result<Rows> {
        self.query_with(text, &Params::new())
    }

    /// Run one `find` with `$name` parameters bound to values.  Values never become text:
    /// whatever a parameter holds, it can only stand where the `$name` stands.
    ///
    /// ```
    /// use dossier::{Db, Params, Value};
    /// let db = Db::memory()?;
    /// db.execute("lna backed_by egypt. gna backed_by turkey.")?;
    /// let mut p = Params::new();
    /// p.insert("backer".into(), Value::entity("turkey"));
    /// let rows = db.query_with("find ?x where ?x backed_by $backer.", &p)?;
    /// assert_eq!(rows.len(), 1);
    /// # Ok::<(), dossier::Error>(())
    /// ```
    pub fn query_with(&self, text: &str, params: &Params) -> Result<Rows> {
        // A text run before is neither parsed nor planned again (see `engine::PlanCache`).
        self.query_with_options(text, params, &QueryOptions::default())
    }

    /// Run a `find` against the committed data through the plan cache, keyed by the
    /// statement's `text` and `params`: `parse` gives its syntax tree when no plan for them
    /// holds.
    fn cached_find<F: std::borrow::Borrow<ast::Find>>(
        &self,
        text: &str,
        params: &Params,
        options: &QueryOptions,
        parse: impl FnOnce() -> Result<F>,
    ) -> Result<QueryResult> {
        let store = &self.inner.store;
        self.inner.cancel.store(false, Ordering::SeqCst);
        let limits = self.limits_with(options);
        // A token cancelled before the statement starts stops it before it does anything.
        limits.interrupt.check()?;
        let _r = store.read()?;
        let planned = match self.inner.plans.get(store, text, params)? {
            Some(p) => p,
            None => {
                let find = parse()?;
                let p = engine::prepare(store, None, params, find.borrow(), &limits)?;
                let p = Arc::new(p);
                self.inner.plans.insert(text, params, p.clone());
                p
            }
        };
        engine::execute(store, None, &planned, &limits, Mode::Run)
    }

    /// [`Db::query_with`] under one query's own limits and cancel token (see
    /// [`QueryOptions`]).
    pub fn query_with_options(
        &self,
        text: &str,
        params: &Params,
        options: &QueryOptions,
    ) -> Result<Rows> {
        // A text run before is neither parsed nor planned again (see `engine::PlanCache`).
        let r = self
            .cached_find(text, params, options, || Ok(self.prepare(text)?.find))
            .map_err(|e| e.resolve(None, text))?;
        Ok(Rows::new(r.columns, r.rows))
    }

    /// Parse and check a query once, to run it many times with different parameters.
    pub fn prepare(&self, text: &str) -> Result<Prepared> {
        let stmt = crate::lang::parse_statement(text)
            .map_err(|d| Error::Syntax(Box::new(d.report(None, text))))?;
        check(&stmt, None, text)?;
        match stmt.kind {
            StatementKind::Find(f) => Ok(Prepared {
                db: self.clone(),
                find: f,
                text: text.to_string(),
            }),
            _ => Err(Error::Rejected(Box::new(
                crate::diag::Diagnostic::error("expected a query ('find …')", stmt.span)
                    .report(None, text),
            ))),
        }
    }

    /// Add one fact (no source).  Returns 1 if it was new, 0 if it was there.
    ///
    /// ```
    /// use dossier::{Db, Value};
    /// let db = Db::memory()?;
    /// db.add("haftar", "label", "Khalifa Haftar")?;
    /// db.add("haftar", "commands", Value::entity("lna"))?;
    /// assert_eq!(db.query("find ?x where haftar commands ?x.")?.len(), 1);
    /// # Ok::<(), dossier::Error>(())
    /// ```
    pub fn add(&self, subject: &str, predicate: &str, object: impl Into<Value>) -> Result<u64> {
        self.facts().add(subject, predicate, object).commit()
    }

    /// A builder for several facts written together (atomically), optionally from a source.
    pub fn facts(&self) -> FactsBuilder<'_> {
        FactsBuilder {
            db: self,
            source: None,
            quads: Vec::new(),
        }
    }

    /// Run `f` with a transaction: its writes become visible to others (and durable) only
    /// when `f` returns `Ok`; on an error or a panic nothing is written.  Reads inside see
    /// the transaction's own writes.  One writer at a time: other writers wait.
    ///
    /// ```
    /// use dossier::Db;
    /// let db = Db::memory()?;
    /// let r: Result<(), dossier::Error> = db.transaction(|tx| {
    ///     tx.execute("a1 party lna.")?;
    ///     assert_eq!(tx.query("find ?e where ?e party lna.")?.len(), 1);
    ///     tx.execute("this is not valid")?; // fails: everything is rolled back
    ///     Ok(())
    /// });
    /// assert!(r.is_err());
    /// assert_eq!(db.query("find ?e where ?e party lna.")?.len(), 0);
    /// # Ok::<(), dossier::Error>(())
    /// ```
    pub fn transaction<T>(&self, f: impl FnOnce(&mut Tx<'_>) -> Result<T>) -> Result<T> {
        let _writer = self.inner.store.writer()?;
        let mut tx = Tx {
            db: self,
            delta: Delta::new(),
        };
        let out = f(&mut tx)?;
        let delta = std::mem::take(&mut tx.delta);
        self.inner.store.commit(delta)?;
        Ok(out)
    }

    /// Make every committed write durable (after writes with `durable: false`).
    pub fn flush(&self) -> Result<()> {
        self.inner.store.flush()
    }

    /// Statements of the schema (`type` and `pred` declarations).
    pub fn schema(&self) -> Result<Vec<String>> {
        Ok(Catalog::load(&self.inner.store, None)?.schema_text())
    }

    /// The schema's statements with how much each declared name is used (for `.schema`):
    /// types first, then predicates, each by name.
    ///
    /// ```
    /// let db = dossier::Db::memory()?;
    /// db.execute("type Actor. pred backed_by: Actor -> Actor. pred leads: _ -> _.")?;
    /// db.execute("gna a Actor; backed_by turkey.")?;
    /// let items = db.schema_items()?;
    /// let unused: Vec<&str> = items.iter().filter(|i| i.unused()).map(|i| i.name.as_str()).collect();
    /// assert_eq!(unused, ["leads"]);
    /// # Ok::<(), dossier::Error>(())
    /// ```
    pub fn schema_items(&self) -> Result<Vec<SchemaItem>> {
        let store = &self.inner.store;
        let _r = store.read()?;
        let catalog = Catalog::load(store, None)?;
        let stats = store.stats()?;
        let mut out = Vec::new();
        for (name, predicate, text) in catalog.schema_statements() {
            let id = store.lookup_entity(&name, None)?;
            let facts = match (id, predicate) {
                (Some(id), true) => stats.pred(id).triples,
                (Some(id), false) => stats.class(id),
                (None, _) => 0,
            };
            let derived = catalog.rules.iter().any(|r| r.head == name);
            out.push(SchemaItem {
                text,
                name,
                predicate,
                facts,
                derived,
            });
        }
        Ok(out)
    }

    /// Stored rules, as text.
    pub fn rules(&self) -> Result<Vec<String>> {
        Ok(Catalog::load(&self.inner.store, None)?
            .rules
            .into_iter()
            .map(|r| r.text)
            .collect())
    }

    /// Sources with how many facts each asserts, most first; each source as the language
    /// writes it (`DbStats::by_source` has them as values).
    pub fn sources(&self) -> Result<Vec<(String, u64)>> {
        let store = &self.inner.store;
        let counts: Vec<(Id, u64)> = store
            .stats()?
            .sources
            .iter()
            .map(|(k, v)| (*k, *v))
            .collect();
        Ok(by_count(store, counts)?
            .into_iter()
            .map(|(v, n)| (v.to_string(), n))
            .collect())
    }

    /// Figures about the database.
    pub fn stats(&self) -> Result<DbStats> {
        let store = &self.inner.store;
        let _r = store.read()?;
        let s = store.stats()?.clone();
        let predicates = by_count(store, s.preds.iter().map(|(p, ps)| (*p, ps.triples)))?;
        let classes = by_count(store, s.classes.iter().map(|(c, n)| (*c, *n)))?;
        let by_source = by_count(store, s.sources.iter().map(|(g, n)| (*g, *n)))?;
        let catalog = Catalog::load(store, None)?;
        Ok(DbStats {
            facts: s.quads,
            triples: s.triples,
            implied_types: engine::inspect::implied_type_facts(store)?,
            sources: s.sources.len() as u64,
            predicates,
            classes,
            by_source,
            rules: catalog.rules.len() as u64,
            disk_bytes: store.size_on_disk().unwrap_or(0),
        })
    }

    /// Predicate names in use or declared (for completion).
    pub fn predicate_names(&self) -> Result<Vec<String>> {
        let store = &self.inner.store;
        let catalog = Catalog::load(store, None)?;
        let mut names: Vec<String> = catalog.preds.keys().cloned().collect();
        names.extend(catalog.derived().into_iter().map(str::to_string));
        let ids: Vec<Id> = store.stats()?.preds.keys().copied().collect();
        for p in ids {
            if let Value::Entity(n) = store.value(p, None)? {
                names.push(n);
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// Declared type names, sorted (for completion).
    pub fn type_names(&self) -> Result<Vec<String>> {
        let catalog = Catalog::load(&self.inner.store, None)?;
        Ok(catalog.types.into_keys().collect())
    }

    /// Entity names starting with `prefix` that still occur in some fact or in the schema,
    /// at most `limit` (completion).  Reads at most `4 * limit` names of the dictionary,
    /// which keeps every name ever used.
    pub fn entity_names(&self, prefix: &str, limit: usize) -> Result<Vec<String>> {
        let store = &self.inner.store;
        let _r = store.read()?;
        let catalog = Catalog::load(store, None)?;
        let mut out = Vec::new();
        for (id, name) in store.entities_with_prefix(prefix, limit.saturating_mul(4))? {
            let v = Value::Entity(name);
            if engine::inspect::occurs(store, None, &catalog, id, &v)? {
                if let Value::Entity(name) = v {
                    out.push(name);
                }
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Run one parsed statement (used by [`Script`]); `text` is the statement as written,
    /// the key of a `find`'s plan in the plan cache.
    fn run(
        &self,
        stmt: &ast::Statement,
        text: Option<&str>,
        params: &Params,
        delta: Option<&mut Delta>,
        options: &QueryOptions,
    ) -> Result<(Outcome, Vec<crate::diag::Diagnostic>)> {
        let store = &self.inner.store;
        if let (None, Some(text), StatementKind::Find(f)) = (&delta, text, &stmt.kind) {
            let r = self.cached_find(text, params, options, || Ok(f))?;
            return Ok((Outcome::Rows(Rows::new(r.columns, r.rows)), r.warnings));
        }
        self.inner.cancel.store(false, Ordering::SeqCst);
        let limits = self.limits_with(options);
        // A token cancelled before the statement starts stops it before it does anything.
        limits.interrupt.check()?;
        match delta {
            Some(d) => {
                let _r = store.read()?;
                run_statement(store, stmt, params, d, &limits, false)
            }
            None => {
                if stmt.kind.is_write() {
                    if self.inner.options.read_only {
                        return Err(Error::at(crate::diag::Diagnostic::error(
                            format!(
                                "{} writes to the database, which is open read-only: nothing was changed",
                                statement_name(&stmt.kind)
                            ),
                            stmt.span,
                        )));
                    }
                    let _w = store.writer()?;
                    let mut d = Delta::new();
                    run_statement(store, stmt, params, &mut d, &limits, true)
                } else {
                    let _r = store.read()?;
                    let mut d = Delta::new();
                    run_statement(store, stmt, params, &mut d, &limits, false)
                }
            }
        }
    }
}

/// What a write statement is called in an error.
fn statement_name(k: &StatementKind) -> &'static str {
    match k {
        StatementKind::Facts { .. } | StatementKind::FromBlock { .. } => "this statement (facts)",
        StatementKind::Del { .. } => "'del'",
        StatementKind::DropSource(_) => "'drop source'",
        StatementKind::DropRule(_) => "'drop rule'",
        StatementKind::Rule(_) => "'rule'",
        StatementKind::TypeDecl { .. } => "'type'",
        StatementKind::PredDecl { .. } => "'pred'",
        _ => "this statement",
    }
}

/// Syntax-independent checks of the language: errors refuse the statement.
fn check(stmt: &ast::Statement, file: Option<&str>, text: &str) -> Result<Vec<Report>> {
    let mut warnings = Vec::new();
    for d in crate::lang::check_statement(stmt) {
        let r = d.report(file, text);
        if d.severity == Severity::Error {
            return Err(Error::Rejected(Box::new(r)));
        }
        warnings.push(r);
    }
    Ok(warnings)
}

/// A transaction: see [`Db::transaction`].
pub struct Tx<'db> {
    db: &'db Db,
    delta: Delta,
}

impl Tx<'_> {
    /// Run a script inside the transaction.
    pub fn execute(&mut self, text: &str) -> Result<Vec<Outcome>> {
        self.execute_with(text, &Params::new())
    }

    /// [`Tx::execute`] with `$name` parameters bound to values.  A `load` statement is refused
    /// inside a transaction.
    pub fn execute_with(&mut self, text: &str, params: &Params) -> Result<Vec<Outcome>> {
        let mut out = Vec::new();
        for s in crate::lang::statements(text) {
            let stmt = s.map_err(|d| Error::Syntax(Box::new(d.report(None, text))))?;
            check(&stmt, None, text)?;
            if let StatementKind::Load { span, .. } = &stmt.kind {
                return Err(Error::Rejected(Box::new(
                    crate::diag::Diagnostic::error("load cannot run inside a transaction", *span)
                        .report(None, text),
                )));
            }
            let (o, _) = self
                .db
                .run(
                    &stmt,
                    None,
                    params,
                    Some(&mut self.delta),
                    &QueryOptions::default(),
                )
                .map_err(|e| e.resolve(None, text))?;
            out.push(o);
        }
        Ok(out)
    }

    /// Run a `find`, seeing the transaction's writes.
    pub fn query(&mut self, text: &str) -> Result<Rows> {
        self.query_with(text, &Params::new())
    }

    /// [`Tx::query`] with `$name` parameters bound to values.
    pub fn query_with(&mut self, text: &str, params: &Params) -> Result<Rows> {
        let p = self.db.prepare(text)?;
        self.delta.normalized();
        let r = engine::find(
            &self.db.inner.store,
            Some(&self.delta),
            params,
            &p.find,
            &self.db.run_limits(),
            Mode::Run,
        )
        .map_err(|e| e.resolve(None, text))?;
        Ok(Rows::new(r.columns, r.rows))
    }

    /// Add one fact inside the transaction.
    pub fn add(&mut self, subject: &str, predicate: &str, object: impl Into<Value>) -> Result<()> {
        let store = &self.db.inner.store;
        let object = object.into();
        let q = [
            store.intern_entity(&mut self.delta, subject)?,
            store.intern_entity(&mut self.delta, predicate)?,
            store.intern(&mut self.delta, &object)?,
            Id::NONE,
        ];
        self.delta.add(q);
        Ok(())
    }
}

/// A query parsed and checked once, run with different parameters.  Its plan is kept for
/// each set of parameter values it ran with, for as long as the data it was planned on
/// holds (the best plan depends on the parameters' values and on the data).
///
/// ```
/// use dossier::{Db, Params, Value};
/// let db = Db::memory()?;
/// db.execute("lna backed_by egypt, uae. gna backed_by turkey.")?;
/// let q = db.prepare("find ?backer where $client backed_by ?backer.")?;
/// for (client, n) in [("lna", 2), ("gna", 1)] {
///     let p = Params::from([("client".to_string(), Value::entity(client))]);
///     assert_eq!(q.query(&p)?.len(), n);
/// }
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Clone)]
pub struct Prepared {
    db: Db,
    find: ast::Find,
    text: String,
}

impl Prepared {
    /// Run the query with `params` bound to its `$name` parameters, against the committed
    /// data (outside any transaction).
    pub fn query(&self, params: &Params) -> Result<Rows> {
        self.query_with_options(params, &QueryOptions::default())
    }

    /// [`Prepared::query`] under this run's own limits and cancel token.
    pub fn query_with_options(&self, params: &Params, options: &QueryOptions) -> Result<Rows> {
        let r = self
            .db
            .cached_find(&self.text, params, options, || Ok(&self.find))
            .map_err(|e| e.resolve(None, &self.text))?;
        Ok(Rows::new(r.columns, r.rows))
    }
}

/// Facts written together: see [`Db::facts`].
///
/// ```
/// use dossier::{Db, Date, Value};
/// let db = Db::memory()?;
/// db.facts()
///     .source("aa_2020_09_28")
///     .add("hurghada_talks", "type", Value::entity("Meeting"))
///     .add("hurghada_talks", "date", Date::day(2020, 9, 28).unwrap())
///     .commit()?;
/// assert_eq!(db.sources()?, [("aa_2020_09_28".to_string(), 2)]);
/// # Ok::<(), dossier::Error>(())
/// ```
pub struct FactsBuilder<'db> {
    db: &'db Db,
    source: Option<String>,
    quads: Vec<Quad>,
}

impl FactsBuilder<'_> {
    /// The source of the facts added after this call (until another call to `source`):
    /// one builder can write facts from several sources.  Facts added before any call have
    /// no source.
    ///
    /// ```
    /// use dossier::{Db, Value};
    /// let db = Db::memory()?;
    /// db.facts()
    ///     .add("haftar", "label", "Khalifa Haftar")
    ///     .source("aa_2020_09_28")
    ///     .add("lna", "backed_by", Value::entity("egypt"))
    ///     .source("reuters_2020_06_06")
    ///     .add("lna", "backed_by", Value::entity("russia"))
    ///     .commit()?;
    /// assert_eq!(db.sources()?.len(), 2);
    /// assert_eq!(db.query("find ?s where lna backed_by egypt from ?s.")?.len(), 1);
    /// # Ok::<(), dossier::Error>(())
    /// ```
    pub fn source(mut self, source: &str) -> Self {
        self.source = Some(source.to_string());
        self
    }

    /// Add a fact to write.  A `&str` object is a string literal: use [`Value::entity`] for
    /// a thing.  Nothing is written until [`FactsBuilder::commit`].
    pub fn add(mut self, subject: &str, predicate: &str, object: impl Into<Value>) -> Self {
        self.quads.push(Quad {
            subject: subject.to_string(),
            predicate: predicate.to_string(),
            object: object.into(),
            source: self.source.clone(),
        });
        self
    }

    /// Write them all, or none.  Returns how many were new.
    pub fn commit(self) -> Result<u64> {
        Ok(self.db.bulk_add(&self.quads)?.added)
    }
}

/// Figures for `.stats` / `dossier stats`.
///
/// ```
/// use dossier::Value;
/// let db = dossier::Db::memory()?;
/// db.execute("
///     lna a ArmedGroup.
///     lna backed_by egypt from aa_2020_09_28.
///     lna backed_by egypt from reuters_2020_10_01.
/// ")?;
/// let stats = db.stats()?;
/// assert_eq!((stats.facts, stats.triples, stats.sources), (3, 2, 2));
/// assert_eq!(stats.classes, [(Value::entity("ArmedGroup"), 1)]);
/// assert_eq!(stats.by_source[0], (Value::entity("aa_2020_09_28"), 1));
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct DbStats {
    /// Stored facts: assertions (a triple asserted by two sources counts twice).
    pub facts: u64,
    /// Distinct stored triples.
    pub triples: u64,
    /// Type facts the type hierarchy implies besides the stored ones (`haftar a Actor` from
    /// `haftar a Person`): queries see them, so `find count() where ?s ?p ?o` counts
    /// `triples + implied_types` (and the facts rules derive).
    pub implied_types: u64,
    /// Sources with at least one fact.
    pub sources: u64,
    /// Predicates (entities) with their number of triples, most used first, then by name.
    pub predicates: Vec<(Value, u64)>,
    /// Classes (objects of `a`) with their number of members, largest first, then by name.
    pub classes: Vec<(Value, u64)>,
    /// Sources (entities) with their number of facts, most first, then by name.
    pub by_source: Vec<(Value, u64)>,
    /// Stored rules (a derived predicate may have several).
    pub rules: u64,
    /// Size of the database files in bytes, as sled reports it (0 when it cannot tell).
    pub disk_bytes: u64,
}

/// One statement of the schema and how much what it declares is used: see
/// [`Db::schema_items`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaItem {
    /// The statement, as `.schema` prints it (`pred backed_by: Actor -> Actor.`).
    pub text: String,
    /// The type or predicate it declares.
    pub name: String,
    /// A predicate (else a type).
    pub predicate: bool,
    /// Stored facts that use it: a predicate's triples, a type's stated members.
    pub facts: u64,
    /// Whether rules derive facts of it.
    pub derived: bool,
}

impl SchemaItem {
    /// A declared predicate that no stored fact uses and no rule derives.
    pub fn unused(&self) -> bool {
        self.predicate && self.facts == 0 && !self.derived
    }
}

/// The values of `counts`' ids, largest count first, ties by the values as written.
fn by_count(
    store: &Store,
    counts: impl IntoIterator<Item = (Id, u64)>,
) -> Result<Vec<(Value, u64)>> {
    let mut out = Vec::new();
    for (id, n) in counts {
        let v = store.value(id, None)?;
        out.push((v.to_string(), v, n));
    }
    out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
    Ok(out.into_iter().map(|(_, v, n)| (v, n)).collect())
}

pub(crate) fn resolve_path(base: Option<&Path>, path: &str) -> PathBuf {
    let p = Path::new(path);
    match base.and_then(Path::parent) {
        Some(dir) if p.is_relative() => dir.join(p),
        _ => p.to_path_buf(),
    }
}
