//! Running a script statement by statement, following `load` into other files.
//!
//! Scripts are streamed: a file, a pipe or a text is read a statement at a time (a chunk
//! of whole lines that ends where a statement may end, confirmed by
//! [`crate::lang::completeness`]), so a script of any length runs in the memory of its
//! longest statement, and a producer that writes a statement to a pipe and waits for its
//! answer gets it.  A statement longer than [`crate::Options::max_statement_bytes`], or
//! text that is not UTF-8, is an error naming its line (and column).

use super::{check, resolve_path, Db, Executed, Params, QueryOptions};
use crate::diag::{line_col, Diagnostic, Report};
use crate::error::{Error, Result};
use crate::lang::ast::{Statement, StatementKind};
use crate::lang::{completeness, Completeness, StatementEnds};
use crate::store::Delta;
use std::io::{BufRead, Read};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Reads a stream as chunks of whole lines that end where a statement may end.
struct Chunks<'r> {
    reader: Box<dyn BufRead + 'r>,
    /// Lines read so far.
    lines: usize,
    /// The longest chunk (statement) allowed, in bytes.
    max: usize,
    /// Nothing more to read (the end, or an error that stops this stream).
    done: bool,
}

/// A chunk: its text and the number of lines before it in the stream.
type Chunk = (String, usize);

impl<'r> Chunks<'r> {
    fn new(reader: Box<dyn BufRead + 'r>, max: usize) -> Chunks<'r> {
        Chunks {
            reader,
            lines: 0,
            max: max.max(1),
            done: false,
        }
    }

    /// The next chunk, `None` at the end; an error (a line that is not UTF-8, a statement
    /// past the limit, a read error) ends the stream.
    fn next_chunk(&mut self, file: Option<&str>) -> Option<Result<Chunk>> {
        if self.done {
            return None;
        }
        let r = self.read_chunk(file);
        if !matches!(r, Some(Ok(_))) {
            self.done = true;
        }
        r
    }

    fn read_chunk(&mut self, file: Option<&str>) -> Option<Result<Chunk>> {
        let before = self.lines;
        let mut text = String::new();
        let mut line = Vec::new();
        let mut ends = StatementEnds::default();
        loop {
            line.clear();
            // One byte more than the room left, so that a longer statement is noticed
            // without reading (and holding) more of it.
            let room = (self.max - text.len().min(self.max)) as u64 + 1;
            let n = match self.reader.by_ref().take(room).read_until(b'\n', &mut line) {
                Ok(n) => n,
                Err(e) => {
                    return Some(Err(Error::io(file.unwrap_or("<input>"), e)));
                }
            };
            if n == 0 {
                // The end: what is left is the last chunk (an unfinished statement is a
                // syntax error there).
                return (!text.trim().is_empty()).then_some(Ok((text, before)));
            }
            // The length first: the read may have stopped inside a character.
            if text.len() + line.len() > self.max {
                return Some(Err(too_long(file, before + 1, self.max)));
            }
            let piece = match std::str::from_utf8(&line) {
                Ok(p) => p,
                Err(e) => return Some(Err(not_utf8(file, self.lines + 1, &line, e))),
            };
            text.push_str(piece);
            if piece.ends_with('\n') {
                self.lines += 1;
            }
            if ends.feed(piece) && completeness(&text) != Completeness::Incomplete {
                return Some(Ok((text, before)));
            }
        }
    }
}

fn not_utf8(file: Option<&str>, line: usize, bytes: &[u8], e: std::str::Utf8Error) -> Error {
    let valid = e.valid_up_to();
    let column = String::from_utf8_lossy(&bytes[..valid]).chars().count() + 1;
    let bad = bytes.get(valid).copied().unwrap_or(0);
    let mut r = Report::at_line(
        file,
        line,
        column,
        &String::from_utf8_lossy(bytes),
        format!("the script is not valid UTF-8 (byte 0x{bad:02X})"),
    );
    r.hint = Some("save the file as UTF-8".into());
    Error::Syntax(Box::new(r))
}

fn too_long(file: Option<&str>, line: usize, max: usize) -> Error {
    let mut r = Report::at_line(
        file,
        line,
        1,
        "",
        format!(
            "the statement starting on this line is longer than {}, the longest a script may have",
            crate::limits::format_size(max as u64)
        ),
    );
    r.hint = Some(
        "a string or a block left open makes the rest of the file one statement; otherwise \
         raise the limit with --max-statement, `.set max-statement`, or \
         Options::max_statement_bytes"
            .into(),
    );
    Error::Syntax(Box::new(r))
}

/// One file (or text, or stream) being run.
struct Frame<'r> {
    file: Option<PathBuf>,
    /// The canonical path, for cycle detection.
    canonical: Option<PathBuf>,
    chunks: Chunks<'r>,
    /// The current chunk and its statements, parsed up front (errors stay in place, in
    /// order), so the frame owns its text.
    text: Arc<str>,
    statements: std::vec::IntoIter<std::result::Result<Statement, Diagnostic>>,
    /// Lines of the stream before the current chunk.
    line_base: usize,
    /// `(offset, line)` in the chunk: the line number at a byte offset, moved forward
    /// statement by statement (counting from the start for each one made a long chunk
    /// quadratic).
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
    stack: Vec<Frame<'db>>,
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

    /// [`DryRun::script`] of a stream read as it arrives (see [`Db::script_reader`]).
    pub fn script_reader<'s>(&'s mut self, reader: impl std::io::BufRead + 's) -> Script<'s> {
        let mut s = Script::from_reader(self.db, reader);
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
        let bytes = text.as_bytes().to_vec();
        Script::from_reader(db, std::io::Cursor::new(bytes))
    }

    pub(super) fn from_reader(db: &'db Db, reader: impl BufRead + 'db) -> Script<'db> {
        let max = db.limits.max_statement_bytes;
        Script {
            db,
            params: Params::new(),
            stack: vec![Frame::new(None, None, Chunks::new(Box::new(reader), max))],
            options: QueryOptions::default(),
            allow_load: true,
            dry: None,
            warned: Default::default(),
        }
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
        let (base, text, line_base) = match self.stack.last() {
            Some(f) => (f.file.clone(), f.text.clone(), f.line_base),
            None => (None, Arc::from(""), 0),
        };
        let refused = |message: String| {
            let mut r = Diagnostic::error(message, stmt.span)
                .report(base.as_deref().and_then(|p| p.to_str()), &text);
            r.line += line_base;
            Error::Rejected(Box::new(r))
        };
        if !self.allow_load {
            return Err(refused("load is not allowed here".into()));
        }
        let file = resolve_path(base.as_deref(), path);
        let canonical = std::fs::canonicalize(&file)
            .map_err(|e| refused(format!("cannot load {}: {e}", file.display())))?;
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
        if canonical.is_dir() {
            return Err(refused(format!(
                "cannot load {}: it is a directory",
                file.display()
            )));
        }
        let reader = std::fs::File::open(&file).map_err(|e| Error::io(&file, e))?;
        let chunks = Chunks::new(
            Box::new(std::io::BufReader::new(reader)),
            self.db.limits.max_statement_bytes,
        );
        self.stack
            .push(Frame::new(Some(file), Some(canonical), chunks));
        Ok(())
    }
}

impl<'r> Frame<'r> {
    fn new(file: Option<PathBuf>, canonical: Option<PathBuf>, chunks: Chunks<'r>) -> Frame<'r> {
        Frame {
            file,
            canonical,
            chunks,
            text: Arc::from(""),
            statements: Vec::new().into_iter(),
            line_base: 0,
            line_at: (0, 1),
        }
    }

    /// The next parsed statement (or syntax error), reading the next chunk when the
    /// current one is done; `None` at the end of the stream.
    fn next_statement(&mut self) -> Option<Result<std::result::Result<Statement, Diagnostic>>> {
        loop {
            if let Some(s) = self.statements.next() {
                return Some(Ok(s));
            }
            let name = self.name();
            let (text, before) = match self.chunks.next_chunk(name.as_deref())? {
                Ok(c) => c,
                Err(e) => return Some(Err(e)),
            };
            let statements: Vec<_> = crate::lang::statements(&text).collect();
            self.text = text.into();
            self.statements = statements.into_iter();
            self.line_base = before;
            self.line_at = (0, 1);
        }
    }

    /// The line of byte offset `pos` of the current chunk, in the whole stream
    /// (statements come in order, so this counts only the text since the previous one).
    fn line_of(&mut self, pos: usize) -> usize {
        let (from, line) = self.line_at;
        if pos < from || pos > self.text.len() {
            return self.line_base + line_col(&self.text, pos).0;
        }
        let line = line + memchr::memchr_iter(b'\n', &self.text.as_bytes()[from..pos]).count();
        self.line_at = (pos, line);
        self.line_base + line
    }

    fn name(&self) -> Option<String> {
        self.file.as_ref().map(|p| p.display().to_string())
    }

    /// A located error of the current chunk, with its line counted in the whole stream.
    fn locate(&self, e: Error) -> Error {
        let mut e = e.resolve(self.name().as_deref(), &self.text);
        if let Error::Syntax(r) | Error::Rejected(r) | Error::Import(r) = &mut e {
            r.line += self.line_base;
        }
        e
    }

    fn report(&self, d: &Diagnostic) -> Report {
        let mut r = d.report(self.name().as_deref(), &self.text);
        r.line += self.line_base;
        r
    }
}

impl Iterator for Script<'_> {
    type Item = Result<Executed>;

    fn next(&mut self) -> Option<Result<Executed>> {
        loop {
            let frame = self.stack.last_mut()?;
            let parsed = match frame.next_statement() {
                None => {
                    self.stack.pop();
                    continue;
                }
                Some(Err(e)) => return Some(Err(e)),
                Some(Ok(p)) => p,
            };
            let file = frame.name();
            let stmt = match parsed {
                Ok(s) => s,
                Err(d) => return Some(Err(Error::Syntax(Box::new(frame.report(&d))))),
            };
            // The statement's text keys the plan cache.
            let key: Option<String> = frame
                .text
                .get(stmt.span.start..stmt.span.end)
                .map(str::to_owned);
            let warnings = match check(&stmt, file.as_deref(), &frame.text) {
                Ok(w) => w,
                Err(e) => return Some(Err(frame.locate(e))),
            };
            let warnings: Vec<Report> = warnings
                .into_iter()
                .map(|mut r| {
                    r.line += frame.line_base;
                    r
                })
                .collect();
            if let StatementKind::Load { path, .. } = &stmt.kind {
                if let Err(e) = self.load(path, &stmt) {
                    return Some(Err(e));
                }
                continue;
            }
            let start = Instant::now();
            let key = key.as_deref();
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
            let frame = self.stack.last_mut()?;
            let line = frame.line_of(stmt.span.start);
            return Some(match r {
                Ok((outcome, ws)) => {
                    let mut all = warnings;
                    all.extend(ws.iter().map(|d| frame.report(d)));
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
                Err(e) => Err(frame.locate(e)),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Db, Error, Options};

    #[test]
    fn each_statement_knows_its_line() {
        let db = Db::memory().expect("db");
        let text = "e1 p 1.\n\n# note\ne2 p 2. e3 p 3.\ne4 p\n  4.\nfind ?x\n where ?x p ?n.";
        let lines: Vec<usize> = db.script(text).map(|r| r.expect("runs").line).collect();
        assert_eq!(lines, [1, 4, 4, 5, 7]);
        // Errors in later chunks are located in the whole text.
        let err = db
            .execute("e1 p 1.\ne2 p 2.\n\nfind ?x wher ?x p 1.")
            .unwrap_err();
        let r = err.report().expect("located");
        assert_eq!((r.line, r.column), (4, 9), "{err}");
    }

    #[test]
    fn invalid_utf8_is_located_and_what_comes_before_runs() {
        let db = Db::memory().expect("db");
        let bytes: &[u8] = b"x p 1.\ny p \"a\xffb\".\nz p 3.\n";
        let results: Vec<_> = db.script_reader(bytes).collect();
        assert!(results[0].is_ok());
        let err = results[1].as_ref().unwrap_err();
        let r = err.report().expect("located");
        assert_eq!((r.line, r.column), (2, 7), "{err}");
        assert!(r.message.contains("not valid UTF-8 (byte 0xFF)"), "{err}");
        assert_eq!(results.len(), 2, "the stream stops at the bad byte");
        assert_eq!(db.query("find ?s where ?s p ?o.").expect("runs").len(), 1);
    }

    #[test]
    fn a_statement_past_the_limit_fails_at_its_line() {
        let db = Db::memory_with(Options {
            max_statement_bytes: 1 << 10,
            ..Options::default()
        })
        .expect("db");
        let big = format!("x p 1.\ny p \"{}\".\n", "a".repeat(4 << 10));
        let err = db.execute(&big).unwrap_err();
        let r = err.report().expect("located");
        assert_eq!(r.line, 2, "{err}");
        assert!(r.message.contains("longer than 1 KiB"), "{err}");
        // An endless stream stops there too, without reading on.
        let endless = std::io::Read::chain(&b"x p \""[..], std::io::repeat(b'a'));
        let err = db
            .script_reader(std::io::BufReader::new(endless))
            .find_map(|r| r.err())
            .expect("an error");
        assert!(matches!(err, Error::Syntax(_)), "{err}");
    }
}
