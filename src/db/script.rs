//! Running a script statement by statement, following `load` into other files.

use super::{check, resolve_path, Db, Executed, Params, QueryOptions};
use crate::diag::{line_col, Diagnostic};
use crate::error::{Error, Result};
use crate::lang::ast::{Statement, StatementKind};
use crate::store::Delta;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// One file (or text) being run.
struct Frame {
    file: Option<PathBuf>,
    /// The canonical path, for cycle detection.
    canonical: Option<PathBuf>,
    text: Arc<str>,
    statements: std::vec::IntoIter<std::result::Result<Statement, Diagnostic>>,
    /// `(offset, line)`: the line number at a byte offset, moved forward statement by
    /// statement (counting from the start for each one made a long script quadratic).
    line_at: (usize, usize),
}

/// The statements of a script, run one per `next()`: each yields what the statement did,
/// or its error (located by file, line and column).  After an error the next call runs the
/// next statement, so a caller decides whether to stop (the default of
/// [`Db::execute`]) or keep going.  A warning is given once per script (the first
/// statement it concerns carries it).
///
/// ```
/// let db = dossier::Db::memory()?;
/// let mut script = db.script("a1 party lna. find ?e where ?e party lna.");
/// let first = script.next().unwrap()?;
/// assert_eq!(first.outcome.to_string(), "added 1 fact");
/// let second = script.next().unwrap()?;
/// assert_eq!(second.outcome.to_string(), "1 row");
/// assert!(script.next().is_none());
/// # Ok::<(), dossier::Error>(())
/// ```
pub struct Script<'db> {
    db: &'db Db,
    params: Params,
    stack: Vec<Frame>,
    options: QueryOptions,
    allow_load: bool,
    /// The writes of a dry run, never committed (see [`Db::dry_run`]).
    dry: Option<&'db mut Delta>,
    /// The messages of the warnings given so far.
    warned: std::collections::HashSet<String>,
}

/// Statements run without keeping what they write: see [`Db::dry_run`].
pub struct DryRun<'db> {
    db: &'db Db,
    delta: Delta,
}

impl DryRun<'_> {
    /// A script run inside the dry run: its statements see what earlier statements of the
    /// dry run wrote, in this script or an earlier one; nothing reaches the database.  A
    /// statement that fails changes nothing, here too.
    pub fn script(&mut self, text: &str) -> Script<'_> {
        let mut s = Script::new(self.db, text);
        s.dry = Some(&mut self.delta);
        s
    }
}

impl<'db> DryRun<'db> {
    pub(super) fn new(db: &'db Db) -> DryRun<'db> {
        DryRun {
            db,
            delta: Delta::new(),
        }
    }
}

impl<'db> Script<'db> {
    pub(super) fn new(db: &'db Db, text: &str) -> Script<'db> {
        let mut s = Script {
            db,
            params: Params::new(),
            stack: Vec::new(),
            options: QueryOptions::default(),
            allow_load: true,
            dry: None,
            warned: Default::default(),
        };
        s.stack.push(Frame::new(None, None, text.into()));
        s
    }

    /// The file the text came from: errors name it, and `load` paths are relative to it.
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        if let Some(f) = self.stack.first_mut() {
            f.canonical = std::fs::canonicalize(&path).ok();
            f.file = Some(path);
        }
        self
    }

    /// Values for `$name` parameters.
    pub fn params(mut self, params: Params) -> Self {
        self.params = params;
        self
    }

    /// Limits and a cancel token for every statement of the script (see [`QueryOptions`]).
    pub fn options(mut self, options: QueryOptions) -> Self {
        self.options = options;
        self
    }

    /// Refuse `load` statements: text from someone who may not read this machine's files
    /// (a web request) must not name one.
    ///
    /// ```
    /// let db = dossier::Db::memory()?;
    /// let mut script = db.script("load \"/etc/hostname\".").forbid_load();
    /// let err = script.next().unwrap().unwrap_err();
    /// assert!(err.to_string().contains("load is not allowed here"), "{err}");
    /// # Ok::<(), dossier::Error>(())
    /// ```
    pub fn forbid_load(mut self) -> Self {
        self.allow_load = false;
        self
    }

    fn load(&mut self, path: &str, stmt: &Statement) -> Result<()> {
        let (base, text) = match self.stack.last() {
            Some(f) => (f.file.clone(), f.text.clone()),
            None => (None, Arc::from("")),
        };
        if !self.allow_load {
            return Err(Error::Rejected(Box::new(
                Diagnostic::error("load is not allowed here", stmt.span)
                    .report(base.as_deref().and_then(|p| p.to_str()), &text),
            )));
        }
        let file = resolve_path(base.as_deref(), path);
        let canonical = std::fs::canonicalize(&file).map_err(|e| {
            Error::Rejected(Box::new(
                Diagnostic::error(format!("cannot load {}: {e}", file.display()), stmt.span)
                    .report(base.as_deref().and_then(|p| p.to_str()), &text),
            ))
        })?;
        if self
            .stack
            .iter()
            .any(|f| f.canonical.as_ref() == Some(&canonical))
        {
            let mut chain: Vec<PathBuf> =
                self.stack.iter().filter_map(|f| f.file.clone()).collect();
            chain.push(file);
            return Err(Error::IncludeCycle(chain));
        }
        let content = std::fs::read_to_string(&file).map_err(|e| Error::io(&file, e))?;
        self.stack
            .push(Frame::new(Some(file), Some(canonical), content.into()));
        Ok(())
    }
}

impl Frame {
    fn new(file: Option<PathBuf>, canonical: Option<PathBuf>, text: Arc<str>) -> Frame {
        // Parsed up front (errors stay in place, in order), so the frame owns its text.
        let statements: Vec<_> = crate::lang::statements(&text).collect();
        Frame {
            file,
            canonical,
            text,
            statements: statements.into_iter(),
            line_at: (0, 1),
        }
    }

    /// The line of byte offset `pos` (statements come in order, so this counts only the
    /// text since the previous one).
    fn line_of(&mut self, pos: usize) -> usize {
        let (from, line) = self.line_at;
        if pos < from || pos > self.text.len() {
            return line_col(&self.text, pos).0;
        }
        let line = line + memchr::memchr_iter(b'\n', &self.text.as_bytes()[from..pos]).count();
        self.line_at = (pos, line);
        line
    }

    fn name(&self) -> Option<String> {
        self.file.as_ref().map(|p| p.display().to_string())
    }
}

impl Iterator for Script<'_> {
    type Item = Result<Executed>;

    fn next(&mut self) -> Option<Result<Executed>> {
        loop {
            let frame = self.stack.last_mut()?;
            let Some(parsed) = frame.statements.next() else {
                self.stack.pop();
                continue;
            };
            let file = frame.name();
            let text = frame.text.clone();
            let stmt = match parsed {
                Ok(s) => s,
                Err(d) => {
                    return Some(Err(Error::Syntax(Box::new(
                        d.report(file.as_deref(), &text),
                    ))))
                }
            };
            let warnings = match check(&stmt, file.as_deref(), &text) {
                Ok(w) => w,
                Err(e) => return Some(Err(e)),
            };
            if let StatementKind::Load { path, .. } = &stmt.kind {
                if let Err(e) = self.load(path, &stmt) {
                    return Some(Err(e));
                }
                continue;
            }
            let start = Instant::now();
            let key = text.get(stmt.span.start..stmt.span.end);
            let r = match self.dry.as_deref_mut() {
                Some(delta) => {
                    let before = delta.savepoint();
                    let r = self
                        .db
                        .run(&stmt, key, &self.params, Some(delta), &self.options);
                    if r.is_err() {
                        delta.rollback_to(before);
                    }
                    r
                }
                None => self.db.run(&stmt, key, &self.params, None, &self.options),
            };
            let elapsed = start.elapsed();
            let line = frame.line_of(stmt.span.start);
            return Some(match r {
                Ok((outcome, ws)) => {
                    let mut all = warnings;
                    all.extend(ws.iter().map(|d| d.report(file.as_deref(), &text)));
                    // A warning is given once per script: a data file that uses an
                    // undeclared predicate in 500 statements says so once.
                    all.retain(|w| self.warned.insert(w.message.clone()));
                    Ok(Executed {
                        outcome,
                        warnings: all,
                        elapsed,
                        file,
                        line,
                    })
                }
                Err(e) => Err(e.resolve(file.as_deref(), &text)),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::Db;

    #[test]
    fn each_statement_knows_its_line() {
        let db = Db::memory().expect("db");
        let text = "e1 p 1.\n\n# note\ne2 p 2. e3 p 3.\ne4 p\n  4.\nfind ?x\n where ?x p ?n.";
        let lines: Vec<usize> = db.script(text).map(|r| r.expect("runs").line).collect();
        assert_eq!(lines, [1, 4, 4, 5, 7]);
    }
}
