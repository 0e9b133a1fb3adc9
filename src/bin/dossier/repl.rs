//! The interactive shell: prompts, multi-line statements, dot-commands, history and
//! Ctrl-C.
//!
//! A statement is read line by line: while [`dossier::lang::completeness`] says the text
//! so far is incomplete, the next line is read on a `...>` prompt.  Everything typed is run
//! as a script, so errors show the parser's caret diagnostic; nothing that goes wrong in a
//! statement ends the session.
//!
//! Ctrl-C: while a line is being edited the terminal is in raw mode and rustyline reads it
//! as a key (clear the line).  While a statement runs the terminal is back in normal mode,
//! so Ctrl-C is a signal, and the handler installed here cancels the running query through
//! [`dossier::CancelHandle`]; the query ends with "query cancelled" and the prompt returns.

use crate::cli::Settings;
use crate::commands::{self, Failure};
use crate::complete::DqHelper;
use crate::output::{self, OutputFormat, Printer};
use crate::run::{effective_format, Echo, Runner, Tally};
use crate::{help, open, Access};
use dossier::lang::{completeness, Completeness};
use dossier::{Db, Error, Rows, Value};
use indicatif::HumanCount;
use rustyline::config::Config;
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Editor};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

const PROMPT: &str = "dossier> ";
const CONTINUE: &str = "   ...> ";

/// `dossier repl`: load `loads`, then read statements from the terminal, or, when standard
/// input is not a terminal, run it as a script (so piping into the README's command works).
pub fn run(
    settings: &Settings,
    loads: &[PathBuf],
    history: Option<PathBuf>,
) -> Result<(), Failure> {
    let interactive = std::io::stdin().is_terminal();
    let db = open(settings, Access::Write)?;
    let mut shell = Shell {
        db: db.clone(),
        settings,
        format: effective_format(settings.format),
        timer: settings.timer,
    };
    let mut all = Tally::default();
    for f in loads {
        let t = shell.load(f);
        all.failed += t.failed;
    }
    if !interactive {
        if !all.ok() && !settings.keep_going {
            return Err(Failure::Reported);
        }
        let t = shell.runner().run_files(&["-".into()], Echo::All);
        db.flush()?;
        return if all.ok() && t.ok() {
            Ok(())
        } else {
            Err(Failure::Reported)
        };
    }
    shell.interact(history)
}

struct Shell<'a> {
    db: Db,
    settings: &'a Settings,
    format: OutputFormat,
    timer: bool,
}

enum Next {
    Continue,
    Quit,
}

/// `~/.dossier_history` unless `--history` / `DOSSIER_HISTORY` say otherwise.
fn history_path(given: Option<PathBuf>) -> Option<PathBuf> {
    given.or_else(|| {
        std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".dossier_history"))
    })
}

impl<'a> Shell<'a> {
    fn runner(&self) -> Runner<'_> {
        Runner {
            db: &self.db,
            settings: self.settings,
            printer: Printer {
                format: self.format,
                timer: self.timer,
            },
        }
    }

    /// Print a report line (`loaded …`): with the results on a terminal, else on stderr.
    fn report(&self, line: &str) {
        if self.format.is_human() {
            println!("{line}");
        } else {
            eprintln!("{line}");
        }
    }

    /// Run a script file, printing results but only a summary of its writes.
    fn load(&self, path: &Path) -> Tally {
        let t = self
            .runner()
            .run_files(&[path.to_path_buf()], Echo::ResultsOnly);
        let facts = |n: u64| {
            if n == 1 {
                "1 fact".to_string()
            } else {
                format!("{} facts", HumanCount(n))
            }
        };
        let mut line = format!(
            "loaded {}: {} statement{}, {} added",
            path.display(),
            t.statements,
            if t.statements == 1 { "" } else { "s" },
            facts(t.added)
        );
        if t.removed > 0 {
            line.push_str(&format!(", {} removed", facts(t.removed)));
        }
        if !t.ok() {
            line.push_str(&format!(
                "; {} failed (see above)",
                if t.failed == 1 {
                    "1 statement".to_string()
                } else {
                    format!("{} statements", t.failed)
                }
            ));
        }
        self.report(&line);
        t
    }

    fn interact(&mut self, history: Option<PathBuf>) -> Result<(), Failure> {
        let cancel = self.db.cancel_handle();
        // A second handler cannot be installed (tests run several shells in one process
        // only through separate processes); if it fails, Ctrl-C simply ends the process.
        let _ = ctrlc::set_handler(move || cancel.cancel());

        let config = Config::builder()
            .history_ignore_space(true)
            .history_ignore_dups(true)
            .and_then(|b| b.max_history_size(1000))
            .map_err(readline_error)?
            .completion_type(CompletionType::List)
            .auto_add_history(false)
            .build();
        let mut rl: Editor<DqHelper, FileHistory> =
            Editor::with_config(config).map_err(readline_error)?;
        let params: Vec<String> = self.settings.params.keys().cloned().collect();
        rl.set_helper(Some(DqHelper::new(self.db.clone(), params)));
        let history = history_path(history);
        if let Some(h) = &history {
            if h.exists() {
                if let Err(e) = rl.load_history(h) {
                    eprintln!("warning: cannot read the history {}: {e}", h.display());
                }
            }
        }
        self.banner();

        let mut pending = String::new();
        let mut history_warned = false;
        loop {
            if let Some(h) = rl.helper() {
                h.pending.replace(pending.clone());
            }
            let prompt = if pending.is_empty() { PROMPT } else { CONTINUE };
            let line = match rl.readline(prompt) {
                Ok(line) => line,
                Err(ReadlineError::Interrupted) => {
                    // Ctrl-C at the prompt: drop the line (and a statement in progress).
                    pending.clear();
                    continue;
                }
                Err(ReadlineError::Eof) => break,
                Err(e) => return Err(readline_error(e)),
            };
            let mut entry = None;
            let mut next = Next::Continue;
            if pending.is_empty() && line.trim_start().starts_with('.') {
                next = self.command(line.trim());
                // Not `.quit`: Up, Enter should never end the session by surprise.
                if matches!(next, Next::Continue) {
                    entry = Some(line.trim().to_string());
                }
            } else {
                if !pending.is_empty() {
                    pending.push('\n');
                }
                pending.push_str(&line);
                let max = self.db.limits().max_statement_bytes;
                if pending.len() > max {
                    eprintln!(
                        "error: the statement is longer than {}, the longest a script may have; \
                         it was dropped (`.set max-statement` raises the limit)",
                        dossier::limits::format_size(max as u64)
                    );
                    pending.clear();
                    continue;
                }
                if completeness(&pending) != Completeness::Incomplete {
                    let text = std::mem::take(&mut pending);
                    if !text.trim().is_empty() {
                        self.runner().run_text(&text, None, Echo::All);
                        if let Some(h) = rl.helper() {
                            h.refresh();
                        }
                        entry = Some(text);
                    }
                }
            }
            if let Some(e) = entry {
                let _ = rl.add_history_entry(e);
                if let Some(h) = &history {
                    if let Err(e) = rl.save_history(h) {
                        if !history_warned {
                            eprintln!("warning: cannot save the history {}: {e}", h.display());
                            history_warned = true;
                        }
                    }
                }
            }
            if let Next::Quit = next {
                break;
            }
        }
        self.db.flush()?;
        Ok(())
    }

    fn banner(&self) {
        let facts = self.db.stats().map(|s| s.facts).unwrap_or(0);
        println!(
            "dossier {} · {} · {} facts",
            env!("CARGO_PKG_VERSION"),
            self.settings.db.display(),
            HumanCount(facts)
        );
        println!("Type .help for a tour, Tab to complete, .quit or Ctrl-D to leave.");
    }

    /// Run a dot-command.
    fn command(&mut self, line: &str) -> Next {
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        let arg = (!arg.is_empty()).then_some(arg);
        let printed = match cmd {
            ".help" | ".h" | ".?" => {
                println!("{}", help::help(arg));
                Ok(())
            }
            ".quit" | ".exit" | ".q" => return Next::Quit,
            ".format" => {
                match arg {
                    None => println!("format: {}", self.format.name()),
                    Some(a) => match OutputFormat::parse(a) {
                        Some(f) => self.format = f,
                        None => eprintln!(
                            "error: unknown format '{a}' (one of: {})",
                            OutputFormat::ALL.join(", ")
                        ),
                    },
                }
                Ok(())
            }
            ".timer" => {
                match arg {
                    Some("on") => self.timer = true,
                    Some("off") => self.timer = false,
                    None => println!("timer: {}", if self.timer { "on" } else { "off" }),
                    Some(a) => eprintln!("error: .timer takes 'on' or 'off', not '{a}'"),
                }
                Ok(())
            }
            ".set" => {
                self.set(arg);
                Ok(())
            }
            ".schema" => self.lines(
                self.db.schema(),
                "no schema yet: declare types with 'type Name.' (.help schema)",
            ),
            ".rules" => self.lines(self.db.rules(), "no rules yet (.help rules)"),
            ".sources" => self.sources(),
            ".stats" => {
                let mut out = std::io::stdout().lock();
                commands::stats(&self.db, self.format, &mut out)
            }
            ".check" if arg == Some("--repair") => {
                eprintln!(
                    "error: a repair rebuilds the database, which this shell holds open: \
                     leave the shell and run `dossier check --repair`"
                );
                Ok(())
            }
            ".check" => {
                self.runner().run_text("check.", None, Echo::All);
                Ok(())
            }
            ".backup" => match arg {
                None => {
                    eprintln!("error: .backup needs a directory: .backup kb-copy.db");
                    Ok(())
                }
                Some(a) => match commands::backup(&self.db, Path::new(a.trim_matches('"'))) {
                    Err(Failure::Error(e)) => Err(e),
                    _ => Ok(()),
                },
            },
            ".load" => {
                match arg {
                    None => eprintln!("error: .load needs a file: .load examples/queries.dq"),
                    Some(a) => {
                        let path = a.trim_matches('"');
                        self.load(Path::new(path));
                    }
                }
                Ok(())
            }
            #[cfg(feature = "viz")]
            ".graph" | ".timeline" => {
                self.picture(cmd, arg.unwrap_or(""));
                Ok(())
            }
            other => {
                eprintln!("error: unknown command '{other}' (.help commands lists them)");
                Ok(())
            }
        };
        if let Err(e) = printed {
            eprintln!("{e}");
        }
        Next::Continue
    }

    /// `.set`: show the limits of the statements typed next, or change one
    /// (`.set max-memory 4G`, `.set timeout 30`, `.set max-rows off`).
    fn set(&mut self, arg: Option<&str>) {
        let mut limits = self.db.limits();
        let Some(arg) = arg else {
            let show = |v: Option<String>| v.unwrap_or_else(|| "off".into());
            println!(
                "timeout {}\nmax-memory {}\nmax-rows {}\nmax-statement {}",
                show(limits.timeout.map(|t| format!("{}", t.as_secs_f64()))),
                show(limits.max_memory.map(dossier::limits::format_size)),
                show(limits.max_rows.map(|n| n.to_string())),
                dossier::limits::format_size(limits.max_statement_bytes as u64)
            );
            return;
        };
        let (name, value) = match arg.split_once(char::is_whitespace) {
            Some((n, v)) => (n, v.trim()),
            None => (arg, ""),
        };
        let off = matches!(value, "off" | "none" | "unlimited");
        let r: Result<(), String> = match name {
            _ if value.is_empty() => Err(format!("give a value: .set {name} VALUE")),
            "timeout" if off => {
                limits.timeout = None;
                Ok(())
            }
            "timeout" => crate::cli::parse_seconds(value).map(|t| limits.timeout = Some(t)),
            "max-memory" => crate::cli::parse_limit(value).map(|l| limits.max_memory = l.get()),
            "max-rows" if off => {
                limits.max_rows = None;
                Ok(())
            }
            "max-rows" => value
                .parse()
                .map(|n| limits.max_rows = Some(n))
                .map_err(|_| format!("'{value}' is not a number of rows")),
            "max-statement" => crate::cli::parse_size(value)
                .map(|n| limits.max_statement_bytes = usize::try_from(n).unwrap_or(usize::MAX)),
            other => Err(format!(
                "unknown setting '{other}' (timeout, max-memory, max-rows, max-statement)"
            )),
        };
        match r {
            Ok(()) => self.db = self.db.with_limits(limits),
            Err(e) => eprintln!("error: {e}"),
        }
    }

    /// `.graph …` and `.timeline …`: the options of `dossier graph` and `dossier timeline`;
    /// the picture goes to `graph.svg` or `timeline.svg` unless `-o` says otherwise.
    #[cfg(feature = "viz")]
    fn picture(&self, cmd: &str, arg: &str) {
        use crate::cli::{GraphArgs, TimelineArgs};
        use clap::Parser;
        let words = match crate::pictures::split_words(arg) {
            Ok(w) => w,
            Err(e) => {
                eprintln!("error: {e}");
                return;
            }
        };
        let argv = std::iter::once(cmd.to_string()).chain(words);
        let done = if cmd == ".graph" {
            GraphArgs::try_parse_from(argv)
                .map(|a| crate::pictures::graph(&self.db, &a, self.settings, Some("graph.svg")))
        } else {
            TimelineArgs::try_parse_from(argv).map(|a| {
                crate::pictures::timeline(&self.db, &a, self.settings, Some("timeline.svg"))
            })
        };
        match done {
            Err(e) => eprintln!("{}", e.render().to_string().trim_end()),
            Ok(Err(Failure::Error(e))) => eprintln!("{e}"),
            Ok(Err(Failure::Usage(u))) => eprintln!("error: {}", u.0),
            Ok(Err(Failure::Reported)) | Ok(Ok(())) => {}
        }
    }

    fn lines(&self, lines: Result<Vec<String>, Error>, empty: &str) -> Result<(), Error> {
        let lines = lines?;
        if lines.is_empty() {
            println!("({empty})");
        }
        for l in lines {
            println!("{l}");
        }
        Ok(())
    }

    fn sources(&self) -> Result<(), Error> {
        let rows = Rows::new(
            vec!["source".into(), "facts".into()],
            self.db
                .stats()?
                .by_source
                .into_iter()
                .map(|(s, n)| vec![Some(s), Some(Value::Int(n as i64))])
                .collect(),
        );
        let mut out = std::io::stdout().lock();
        output::write_rows(&mut out, &rows, self.format)
            .and_then(|_| out.flush())
            .map_err(|e| Error::io("<stdout>", e))
    }
}

fn readline_error(e: ReadlineError) -> Failure {
    Failure::Error(Error::Invalid(format!("the line editor failed: {e}")))
}
