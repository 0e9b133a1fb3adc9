//! Running scripts: statements in order, each printed as it completes, stopping at the
//! first error unless `--keep-going`.

use crate::cli::Settings;
use crate::output::{OutputFormat, Printer};
use dossier::{Db, Error, Outcome};
use std::io::{self, IsTerminal, Read};
use std::path::Path;

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
            printer: Printer {
                format: effective_format(settings.format),
                timer: settings.timer,
            },
        }
    }

    /// Run `text`; `file` names it in errors and is where `load` paths start from.
    pub fn run_text(&self, text: &str, file: Option<&Path>, echo: Echo) -> Tally {
        let mut tally = Tally::default();
        let mut script = self.db.script(text).params(self.settings.params.clone());
        if let Some(f) = file {
            script = script.file(f);
        }
        for r in script {
            match r {
                Ok(e) => {
                    tally.statements += 1;
                    let quiet = echo == Echo::ResultsOnly
                        && matches!(
                            e.outcome,
                            Outcome::Added(_) | Outcome::Removed(_) | Outcome::Done(_)
                        );
                    match e.outcome {
                        Outcome::Added(n) => tally.added += n,
                        Outcome::Removed(n) => tally.removed += n,
                        _ => {}
                    }
                    let printed = if quiet {
                        for w in &e.warnings {
                            eprintln!("{w}");
                        }
                        Ok(())
                    } else {
                        self.printer.executed(&e)
                    };
                    if let Err(err) = printed {
                        if err.kind() != io::ErrorKind::BrokenPipe {
                            eprintln!("error: writing the output: {err}");
                            tally.failed += 1;
                        }
                        tally.stop = true;
                        return tally;
                    }
                }
                Err(e) => {
                    tally.failed += 1;
                    eprintln!("{e}");
                    if matches!(e, Error::Cancelled) || !self.settings.keep_going {
                        tally.stop = true;
                        return tally;
                    }
                }
            }
        }
        tally
    }

    /// Run script files in order (`-`: standard input); stops at the first failing file
    /// unless `--keep-going`.  Returns whether everything succeeded.
    pub fn run_files(&self, files: &[std::path::PathBuf], echo: Echo) -> Tally {
        let mut total = Tally::default();
        for f in files {
            let t = if f.as_os_str() == "-" {
                match read_stdin() {
                    Ok(text) => self.run_text(&text, Some(Path::new("<stdin>")), echo),
                    Err(e) => failed(e),
                }
            } else {
                match std::fs::read_to_string(f) {
                    Ok(text) => self.run_text(&text, Some(f), echo),
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

fn failed(e: Error) -> Tally {
    eprintln!("{e}");
    Tally {
        failed: 1,
        ..Tally::default()
    }
}

pub fn read_stdin() -> Result<String, Error> {
    let mut text = String::new();
    io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::io("<stdin>", e))?;
    Ok(text)
}
