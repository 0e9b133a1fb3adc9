//! Running scripts: statements in order, each printed as it completes, stopping at the
//! first error unless `--keep-going`.

use crate::cli::Settings;
use crate::output::{OutputFormat, Printer};
use dossier::{Db, Declaration, DryRun, Error, Executed, Outcome};
use std::cell::RefCell;
use std::io::{self, BufReader, IsTerminal, Read};
use std::path::Path;
use std::time::{Duration, Instant};

/// How to report the statements of a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Echo {
    /// Print every outcome (`dossier run`, statements typed in the shell).
    All,
    /// Print results (rows, plans) but only count writes, for a summary at the end
    /// (`.load` and `repl --load`: a data file of 500 statements is one line).
    ResultsOnly,
}

/// What a script did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Tally {
    pub statements: u64,
    pub added: u64,
    pub removed: u64,
    pub failed: u64,
    /// Stop running: an error without `--keep-going`, a cancelled query, a closed pipe.
    pub stop: bool,
}

impl Tally {
    pub fn ok(&self) -> bool {
        self.failed == 0
    }
}

pub struct Runner<'a> {
    pub db: &'a Db,
    pub settings: &'a Settings,
    pub printer: Printer,
    /// Run inside this dry run (nothing written is kept), shared by every file run.
    pub dry: Option<RefCell<DryRun<'a>>>,
}

/// The output format in force: the chosen one, else a table on a terminal and tsv when
/// standard output is a pipe or file.
pub fn effective_format(chosen: Option<OutputFormat>) -> OutputFormat {
    chosen.unwrap_or(if io::stdout().is_terminal() {
        OutputFormat::Table
    } else {
        OutputFormat::Tsv
    })
}

impl<'a> Runner<'a> {
    pub fn new(db: &'a Db, settings: &'a Settings) -> Runner<'a> {
        Runner {
            db,
            settings,
            printer: Printer::new(effective_format(settings.format), settings.timer),
            dry: None,
        }
    }

    /// Keep nothing the scripts write (`run --dry-run`, `.load --dry`).
    pub fn dry(mut self) -> Self {
        self.dry = Some(RefCell::new(self.db.dry_run()));
        self
    }

    /// Run `text`; `file` names it in errors and is where `load` paths start from.
    pub fn run_text(&self, text: &str, file: Option<&Path>, echo: Echo) -> Tally {
        let mut dry = self.dry.as_ref().map(RefCell::borrow_mut);
        let script = match dry.as_deref_mut() {
            Some(d) => d.script(text),
            None => self.db.script(text),
        };
        let mut script = script.params(self.settings.params.clone());
        if let Some(f) = file {
            script = script.file(f);
        }
        self.run_script(script, &RefCell::default(), echo)
    }

    /// Run the statements of a stream as they arrive (a file, a pipe, standard input): a
    /// statement at a time is read, so memory stays bounded and a producer that waits for
    /// an answer gets it.  Before each read that may block, the waiting acknowledgements
    /// are made durable and printed ([`Releasing`]).
    fn run_stream(&self, input: impl Read, file: &Path, may_block: bool, echo: Echo) -> Tally {
        let state = RefCell::default();
        let reader = BufReader::with_capacity(
            1 << 16,
            Releasing {
                inner: input,
                runner: self,
                state: &state,
                may_block,
                echo,
            },
        );
        let mut dry = self.dry.as_ref().map(RefCell::borrow_mut);
        let script = match dry.as_deref_mut() {
            Some(d) => d.script_reader(reader),
            None => self.db.script_reader(reader),
        };
        let script = script.params(self.settings.params.clone()).file(file);
        self.run_script(script, &state, echo)
    }

    /// Run a script's statements, printing each as it completes.
    ///
    /// Writes are acknowledged ("added 3 facts") only once they are durable: outcomes wait
    /// in [`Acks`] until one flush covers them all (group commit), so a script of many small
    /// statements costs a few disk syncs, and a crash never takes back a reported write.
    fn run_script(
        &self,
        script: dossier::Script<'_>,
        state: &RefCell<RunState>,
        echo: Echo,
    ) -> Tally {
        for r in script {
            let mut st = state.borrow_mut();
            let RunState { acks, tally } = &mut *st;
            match r {
                Ok(e) => {
                    tally.statements += 1;
                    match e.outcome {
                        Outcome::Added(n) => tally.added += n,
                        Outcome::Removed(n) => tally.removed += n,
                        _ => {}
                    }
                    let write = is_write(&e.outcome);
                    acks.push(e, write);
                    // Results are never held back; writes wait for a group's flush.
                    if !write || acks.due() {
                        self.release(acks, echo, tally);
                    }
                }
                Err(e) => {
                    self.release(acks, echo, tally);
                    self.print_declared(acks, tally);
                    if tally.stop {
                        return *tally;
                    }
                    tally.failed += 1;
                    errln!("{e}");
                    if matches!(e, Error::Cancelled) || !self.settings.keep_going {
                        tally.stop = true;
                    }
                }
            }
            if tally.stop {
                return *tally;
            }
        }
        let mut st = state.borrow_mut();
        let RunState { acks, tally } = &mut *st;
        self.release(acks, echo, tally);
        self.print_declared(acks, tally);
        *tally
    }

    /// Make the waiting writes durable, then print what the waiting statements did.  If
    /// the flush fails nothing of them is reported as done, and the run stops.
    fn release(&self, acks: &mut Acks, echo: Echo, tally: &mut Tally) {
        let (items, dirty) = acks.take();
        if dirty {
            if let Err(e) = self.db.flush() {
                let writes = items.iter().filter(|e| is_write(&e.outcome)).count();
                errln!(
                    "error: {writes} statement(s) ran but could not be made durable, so they may be lost: {e}"
                );
                tally.failed += 1;
                tally.stop = true;
                return;
            }
        }
        for e in &items {
            let quiet = echo == Echo::ResultsOnly && is_write(&e.outcome);
            // A run of schema declarations prints as one line (a schema file declares
            // dozens); each still prints its own time with --timer.
            if let (Outcome::Declared(d), false, true) = (
                &e.outcome,
                quiet,
                e.warnings.is_empty() && !self.printer.timer,
            ) {
                acks.declared.push(d.clone());
                continue;
            }
            if !quiet {
                self.print_declared(acks, tally);
            }
            let printed = if quiet {
                for w in &e.warnings {
                    errln!("{w}");
                }
                Ok(())
            } else {
                self.printer.executed(e)
            };
            if let Err(err) = printed {
                if err.kind() != io::ErrorKind::BrokenPipe {
                    errln!("error: writing the output: {err}");
                    tally.failed += 1;
                }
                tally.stop = true;
                return;
            }
        }
    }

    /// Print the declarations held back by [`Runner::release`] (already durable): a few
    /// each as it is, more as one line, `declared 81 types and 80 predicates`.
    fn print_declared(&self, acks: &mut Acks, tally: &mut Tally) {
        let declared = std::mem::take(&mut acks.declared);
        let lines: Vec<String> = if declared.len() <= 3 {
            declared
                .into_iter()
                .map(|d| Outcome::Declared(d).to_string())
                .collect()
        } else {
            let mut types = std::collections::BTreeSet::new();
            let mut preds = std::collections::BTreeSet::new();
            for d in &declared {
                match d {
                    Declaration::Type { name, .. } => types.insert(name),
                    Declaration::Predicate(name) => preds.insert(name),
                    _ => false,
                };
            }
            let parts: Vec<String> = [(types.len(), "type"), (preds.len(), "predicate")]
                .into_iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| dossier::diag::plural(n as u64, what))
                .collect();
            vec![format!("declared {}", parts.join(" and "))]
        };
        for line in lines {
            if let Err(err) = self.printer.report(&line) {
                if err.kind() != io::ErrorKind::BrokenPipe {
                    errln!("error: writing the output: {err}");
                    tally.failed += 1;
                }
                tally.stop = true;
                return;
            }
        }
    }

    /// Run script files in order (`-`: standard input), each streamed; stops at the first
    /// failing file unless `--keep-going`.  Returns whether everything succeeded.
    pub fn run_files(&self, files: &[std::path::PathBuf], echo: Echo) -> Tally {
        let mut total = Tally::default();
        for f in files {
            let t = if f.as_os_str() == "-" {
                self.run_stream(io::stdin(), Path::new("<stdin>"), true, echo)
            } else {
                match std::fs::File::open(f) {
                    // A named pipe may block like standard input; a file does not.
                    Ok(file) => {
                        let may_block = !file.metadata().is_ok_and(|m| m.is_file());
                        self.run_stream(file, f, may_block, echo)
                    }
                    Err(e) => failed(Error::io(f, e)),
                }
            };
            total.statements += t.statements;
            total.added += t.added;
            total.removed += t.removed;
            total.failed += t.failed;
            if t.stop || (t.failed > 0 && !self.settings.keep_going) {
                total.stop = true;
                break;
            }
        }
        total
    }
}

/// What a running script has done, and the acknowledgements it still owes.
#[derive(Default)]
struct RunState {
    acks: Acks,
    tally: Tally,
}

/// The input of a streamed script: before each read (which may block on a pipe until the
/// producer writes more), the statements run so far are made durable and reported, so a
/// producer that writes a statement and waits for its answer gets it.
struct Releasing<'r, 'a, R> {
    inner: R,
    runner: &'r Runner<'a>,
    state: &'r RefCell<RunState>,
    /// The input may block (a pipe, a terminal): declarations held back to be summed up
    /// in one line are printed too, since the producer may be waiting for them.
    may_block: bool,
    echo: Echo,
}

impl<R: Read> Read for Releasing<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Ok(mut st) = self.state.try_borrow_mut() {
            let RunState { acks, tally } = &mut *st;
            self.runner.release(acks, self.echo, tally);
            if self.may_block {
                self.runner.print_declared(acks, tally);
            }
            if tally.stop {
                // The output is gone or the flush failed: read no more.
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "stopped"));
            }
        }
        self.inner.read(buf)
    }
}

/// Whether an outcome reports a write (schema and rule statements included).
fn is_write(o: &Outcome) -> bool {
    matches!(
        o,
        Outcome::Added(_) | Outcome::Removed(_) | Outcome::Done(_) | Outcome::Declared(_)
    )
}

/// Outcomes of statements whose writes are committed but not yet flushed to disk.
#[derive(Default)]
struct Acks {
    items: Vec<Executed>,
    /// When the oldest waiting write was committed.
    since: Option<Instant>,
    /// Whether a waiting statement wrote something (a flush is needed).
    dirty: bool,
    /// Declarations made durable and not printed yet (see [`Runner::print_declared`]).
    declared: Vec<Declaration>,
}

impl Acks {
    /// A group is flushed after this long or this many statements, whichever comes first:
    /// long enough to share one disk sync among many small statements, short enough that
    /// a script's output keeps flowing.
    const WINDOW: Duration = Duration::from_millis(20);
    const MAX: usize = 1024;

    fn push(&mut self, e: Executed, write: bool) {
        if write {
            self.dirty = true;
            self.since.get_or_insert_with(Instant::now);
        }
        self.items.push(e);
    }

    fn due(&self) -> bool {
        self.items.len() >= Self::MAX || self.since.is_some_and(|t| t.elapsed() >= Self::WINDOW)
    }

    fn take(&mut self) -> (Vec<Executed>, bool) {
        let dirty = std::mem::take(&mut self.dirty);
        self.since = None;
        (std::mem::take(&mut self.items), dirty)
    }
}

fn failed(e: Error) -> Tally {
    errln!("{e}");
    Tally {
        failed: 1,
        ..Tally::default()
    }
}
