//! `dossier::Error`: the one error type of the library.

use crate::diag::Report;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The library's `Result`: its error is [`Error`] unless another is named.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong, grouped by what the caller can do about it.
///
/// Errors about a text (syntax, a failed check, a fact of the wrong kind) carry a
/// [`Report`] naming the line and column; their `Display` is the same caret diagnostic the
/// command line prints.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The text is not a valid statement of the language.
    Syntax(Box<Report>),
    /// The statement is well formed but was refused (an unbound variable, a value of the
    /// wrong kind for a declared predicate, rules that cannot be stratified...).  Nothing
    /// was changed.
    Rejected(Box<Report>),
    /// A statement was refused for a reason that has no place in a text (a library call).
    Invalid(String),
    /// A data file being imported is malformed at the reported place.
    Import(Box<Report>),
    /// A `$name` parameter has no value, or a value that cannot stand there.
    Parameter {
        /// The parameter's name, without the `$`.
        name: String,
        /// What is wrong with it: missing, or why its value cannot stand there.
        message: String,
    },
    /// The database could not be opened.
    Open {
        /// The database directory, as given.
        path: PathBuf,
        /// Why, in words: locked by another process, written by a newer dossier, not a
        /// database, corrupt…
        reason: String,
    },
    /// A file could not be read or written.
    Io {
        /// The file, as the caller or the script named it.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The storage engine failed or found data it cannot read.
    Storage(String),
    /// The query was cancelled (Ctrl-C in the REPL, or [`crate::CancelHandle::cancel`]).
    Cancelled,
    /// The query ran longer than its time limit.
    TimedOut(Duration),
    /// The query produced more rows than its row limit.
    TooManyRows(u64),
    /// The query (with the rules it evaluated) needed to hold more bytes of rows than its
    /// memory limit.
    TooMuchMemory(u64),
    /// A `load` would include a file that is already being loaded.
    IncludeCycle(Vec<PathBuf>),
    /// A statement was refused at a place in its text; `Db` resolves it to
    /// [`Error::Rejected`] with line and column before it reaches the caller.
    #[doc(hidden)]
    At(Box<crate::diag::Diagnostic>),
}

impl Error {
    /// The located report, for errors about a text.
    ///
    /// ```
    /// use dossier::{Db, Error};
    /// let db = Db::memory()?;
    /// let err = db.execute("lna backed_by egypt.\nfind ?x where ?y backed_by egypt.").unwrap_err();
    /// assert!(matches!(err, Error::Rejected(_)));
    /// let report = err.report().unwrap();
    /// assert_eq!((report.line, report.column), (2, 6));
    /// assert_eq!(report.line_text, "find ?x where ?y backed_by egypt.");
    /// assert_eq!(report.message, "variable ?x in the find list is not bound by the body");
    /// println!("{err}"); // rustc-style, with the line, a caret under `?x`, and a hint
    /// # Ok::<(), dossier::Error>(())
    /// ```
    pub fn report(&self) -> Option<&Report> {
        match self {
            Error::Syntax(r) | Error::Rejected(r) | Error::Import(r) => Some(r),
            _ => None,
        }
    }

    /// An [`Error::Storage`] with `e`'s message.
    pub fn storage(e: impl fmt::Display) -> Error {
        Error::Storage(e.to_string())
    }

    /// An [`Error::Io`] about `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// A refusal located in the statement being run.
    pub fn at(d: crate::diag::Diagnostic) -> Error {
        Error::At(Box::new(d))
    }

    /// Resolve an [`Error::At`] against the text it points into.
    pub fn resolve(self, file: Option<&str>, text: &str) -> Error {
        match self {
            Error::At(d) => Error::Rejected(Box::new(d.report(file, text))),
            other => other,
        }
    }

    /// Attach a file name to a located error that has none yet (a statement of a script
    /// run from a file).
    pub fn in_file(mut self, file: &str) -> Error {
        if let Error::Syntax(r) | Error::Rejected(r) | Error::Import(r) = &mut self {
            if r.file.is_none() {
                r.file = Some(file.to_string());
            }
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Syntax(r) | Error::Rejected(r) | Error::Import(r) => r.fmt(f),
            Error::Invalid(m) => write!(f, "error: {m}"),
            Error::Parameter { name, message } => write!(f, "error: parameter ${name}: {message}"),
            Error::Open { path, reason } => {
                write!(
                    f,
                    "error: cannot open database {}: {reason}",
                    path.display()
                )
            }
            Error::Io { path, source } => write!(f, "error: {}: {source}", path.display()),
            Error::Storage(m) => write!(f, "error: storage: {m}"),
            Error::Cancelled => f.write_str("error: query cancelled"),
            Error::TimedOut(d) => write!(f, "error: query stopped after its time limit of {d:?}"),
            Error::TooManyRows(n) => {
                write!(f, "error: query stopped after its row limit of {n} rows")
            }
            Error::TooMuchMemory(n) => write!(
                f,
                "error: the query needs more than {} of memory for the rows it holds \
                 (joins, sorts, groups, distinct rows, derived facts); raise the limit with \
                 --max-memory, `.set max-memory`, or Options::max_memory, or narrow the query",
                crate::limits::format_size(*n)
            ),
            Error::At(d) => write!(f, "error: {} (at byte {})", d.message, d.span.start),
            Error::IncludeCycle(paths) => {
                f.write_str("error: load cycle: ")?;
                let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                f.write_str(&names.join(" -> "))
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl From<sled::Error> for Error {
    fn from(e: sled::Error) -> Error {
        match e {
            // sled found a checksum that does not match: say what it means and what to do.
            sled::Error::Corruption { .. } => Error::Storage(format!(
                "the database files are damaged ({e}): `dossier check --repair` rebuilds what \
                 survived, or restore a backup"
            )),
            e => Error::Storage(e.to_string()),
        }
    }
}
