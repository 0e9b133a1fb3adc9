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
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

const PROMPT: &str = "dossier> ";
const CONTINUE: &str = "   ...> ";

/// `dossier repl` (and `dossier` alone): load `loads`, then read statements from the
/// terminal, or, when standard input is not a terminal, run it as a script in which
/// dot-commands work too (so piping into the README's command works, and `echo .stats |
/// dossier` too).
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
        errors: 0,
    };
    let mut all = Tally::default();
    for f in loads {
        let t = shell.load(f, false);
        all.failed += t.failed;
    }
    if !interactive {
        if !all.ok() && !settings.keep_going {
            return Err(Failure::Reported);
        }
        let t = shell.pipe();
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
    /// Dot-commands that failed (for the exit code of piped input).
    errors: u64,
}

enum Next {
    Continue,
    /// The command failed (and said why).
    Failed,
    Quit,
}

/// `~/.dossier_history` unless `--history` / `DOSSIER_HISTORY` say otherwise (the
/// variable is read here too: `dossier` alone on a terminal has no `repl` options).
fn history_path(given: Option<PathBuf>) -> Option<PathBuf> {
    let from_env = || {
        std::env::var_os("DOSSIER_HISTORY")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    };
    given.or_else(from_env).or_else(|| {
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
            printer: Printer::new(self.format, self.timer),
            dry: None,
        }
    }

    /// Print a report line (`loaded …`): with the results on a terminal, else on stderr.
    fn report(&self, line: &str) {
        let _ = self.runner().printer.report(line);
    }

    /// Run a script file, printing results but only a summary of its writes; `dry`: keep
    /// none of them.
    fn load(&self, path: &Path, dry: bool) -> Tally {
        let runner = if dry {
            self.runner().dry()
        } else {
            self.runner()
        };
        let t = runner.run_files(&[path.to_path_buf()], Echo::ResultsOnly);
        let facts = |n: u64| {
            if n == 1 {
                "1 fact".to_string()
            } else {
                format!("{} facts", HumanCount(n))
            }
        };
        let statements = dossier::diag::plural(t.statements, "statement");
        let mut line = if dry {
            format!(
                "ran {} ({statements}) without keeping what it wrote",
                path.display()
            )
        } else {
            format!(
                "loaded {}: {statements}, {} added",
                path.display(),
                facts(t.added)
            )
        };
        if t.removed > 0 && !dry {
            line.push_str(&format!(", {} removed", facts(t.removed)));
        }
        if !t.ok() {
            line.push_str(&format!(
                "; {} failed (see above)",
                dossier::diag::plural(t.failed, "statement")
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
                    errln!("warning: cannot read the history {}: {e}", h.display());
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
                if !matches!(next, Next::Quit) {
                    entry = Some(line.trim().to_string());
                }
            } else {
                if !pending.is_empty() {
                    pending.push('\n');
                }
                pending.push_str(&line);
                let max = self.db.limits().max_statement_bytes;
                if pending.len() > max {
                    errln!(
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
                            errln!("warning: cannot save the history {}: {e}", h.display());
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

    /// Piped input: its statements run as a script (stopping at the first failure unless
    /// `--keep-going`), and a line that starts with `.` between statements is a dot-command,
    /// as at the prompt (psql and sqlite3 take their meta-commands from piped input too).
    /// The statements between two dot-commands run as one script, so errors keep the line
    /// numbers of the input.
    fn pipe(&mut self) -> Tally {
        let mut total = Tally::default();
        let mut segment = String::new();
        // The input line the segment starts on.
        let mut first_line = 1;
        let keep_going = self.settings.keep_going;
        let mut lines = std::io::stdin().lock().lines();
        let mut line_no = 0;
        loop {
            let line = match lines.next() {
                None => break,
                Some(Ok(l)) => l,
                Some(Err(e)) => {
                    errln!("{}", Error::io("<stdin>", e));
                    total.failed += 1;
                    return total;
                }
            };
            line_no += 1;
            let is_command = line.trim_start().starts_with('.')
                && completeness(&segment) != Completeness::Incomplete;
            if !is_command {
                segment.push_str(&line);
                segment.push('\n');
                continue;
            }
            if !self.pipe_segment(&segment, first_line, &mut total) {
                return total;
            }
            segment.clear();
            first_line = line_no + 1;
            match self.command(line.trim()) {
                Next::Quit => return total,
                Next::Failed => {
                    total.failed += 1;
                    if !keep_going {
                        return total;
                    }
                }
                Next::Continue => {}
            }
        }
        self.pipe_segment(&segment, first_line, &mut total);
        total
    }

    /// Run the statements of piped input that start on line `first_line`; false to stop.
    fn pipe_segment(&self, text: &str, first_line: usize, total: &mut Tally) -> bool {
        if text.trim().is_empty() {
            return true;
        }
        // Blank lines in front keep the input's line numbers in diagnostics.
        let mut padded = "\n".repeat(first_line.saturating_sub(1));
        padded.push_str(text);
        let t = self
            .runner()
            .run_text(&padded, Some(Path::new("<stdin>")), Echo::All);
        total.statements += t.statements;
        total.added += t.added;
        total.removed += t.removed;
        total.failed += t.failed;
        !(t.stop || (t.failed > 0 && !self.settings.keep_going))
    }

    fn banner(&self) {
        let facts = self.db.stats().map(|s| s.facts).unwrap_or(0);
        outln!(
            "dossier {} · {} · {} stored facts",
            env!("CARGO_PKG_VERSION"),
            self.settings.db.display(),
            HumanCount(facts)
        );
        outln!("Type .help for a tour, Tab to complete, .quit or Ctrl-D to leave.");
    }

    /// Run a dot-command.  What goes wrong is printed and counted in `self.errors`.
    fn command(&mut self, line: &str) -> Next {
        let errors_before = self.errors;
        let (cmd, arg) = match line.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (line, ""),
        };
        let arg = (!arg.is_empty()).then_some(arg);
        let printed = match cmd {
            ".help" | ".h" | ".?" => {
                outln!("{}", help::help(arg));
                Ok(())
            }
            ".quit" | ".exit" | ".q" => return Next::Quit,
            ".format" => {
                match arg {
                    None => self.report(&format!("format: {}", self.format.name())),
                    Some(a) => match OutputFormat::parse(a) {
                        Some(f) => {
                            self.format = f;
                            self.report(&format!("format: {}", f.name()));
                        }
                        None => self.error(format!(
                            "error: unknown format '{a}' (one of: {})",
                            OutputFormat::ALL.join(", ")
                        )),
                    },
                }
                Ok(())
            }
            ".timer" => {
                match arg {
                    Some("on") => {
                        self.timer = true;
                        self.report("timer: on (each statement's time goes to standard error)");
                    }
                    Some("off") => {
                        self.timer = false;
                        self.report("timer: off");
                    }
                    None => self.report(if self.timer {
                        "timer: on"
                    } else {
                        "timer: off"
                    }),
                    Some(a) => self.error(format!("error: .timer takes 'on' or 'off', not '{a}'")),
                }
                Ok(())
            }
            ".set" => {
                self.set(arg);
                Ok(())
            }
            ".schema" => self.schema(arg),
            ".rules" => self.lines(self.db.rules(), "no rules yet (.help rules)"),
            ".sources" => self.sources(),
            ".stats" => {
                let mut out = std::io::stdout().lock();
                match arg {
                    None | Some("all") => {
                        commands::stats(&self.db, self.format, arg.is_some(), &mut out)
                    }
                    Some(a) => {
                        self.error(format!("error: .stats takes 'all' or nothing, not '{a}'"));
                        Ok(())
                    }
                }
            }
            ".check" if arg == Some("--repair") => {
                errln!(
                    "error: a repair rebuilds the database, which this shell holds open: \
                     leave the shell and run `dossier check --repair`"
                );
                Ok(())
            }
            ".check" => {
                let t = self.runner().run_text("check.", None, Echo::All);
                self.errors += t.failed;
                Ok(())
            }
            ".backup" => match arg {
                None => {
                    errln!("error: .backup needs a directory: .backup kb-copy.db");
                    Ok(())
                }
                Some(a) => match commands::backup(&self.db, Path::new(a.trim_matches('"'))) {
                    Err(Failure::Error(e)) => Err(e),
                    _ => Ok(()),
                },
            },
            ".load" => {
                let (dry, file) = match arg.map(|a| a.strip_prefix("--dry").map(str::trim)) {
                    Some(Some(rest)) => (true, (!rest.is_empty()).then_some(rest)),
                    _ => (false, arg),
                };
                match file {
                    None => self.error(
                        "error: .load needs a file: .load data.dq, or .load --dry examples/queries.dq to keep none of its writes",
                    ),
                    Some(a) => {
                        let path = a.trim_matches('"');
                        let t = self.load(Path::new(path), dry);
                        self.errors += t.failed;
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
                self.error(format!(
                    "error: unknown command '{other}' (.help commands lists them)"
                ));
                Ok(())
            }
        };
        match printed {
            // The reader of piped output went away (`echo .stats | dossier | head`): stop.
            Err(Error::Io { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
                return Next::Quit;
            }
            Err(e) => self.error(e),
            Ok(()) => {}
        }
        if self.errors > errors_before {
            Next::Failed
        } else {
            Next::Continue
        }
    }

    /// Print what went wrong with a dot-command, and count it.
    fn error(&mut self, message: impl std::fmt::Display) {
        errln!("{message}");
        self.errors += 1;
    }

    /// `.set`: show the limits of the statements typed next, or change one
    /// (`.set max-memory 4G`, `.set timeout 30`, `.set max-rows off`).
    fn set(&mut self, arg: Option<&str>) {
        let mut limits = self.db.limits();
        let Some(arg) = arg else {
            let show = |v: Option<String>| v.unwrap_or_else(|| "off".into());
            outln!(
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
            Err(e) => self.error(format!("error: {e}")),
        }
    }

    /// `.graph …` and `.timeline …`: the options of `dossier graph` and `dossier timeline`;
    /// the picture goes to `graph.svg` or `timeline.svg` unless `-o` says otherwise.
    #[cfg(feature = "viz")]
    fn picture(&mut self, cmd: &str, arg: &str) {
        use crate::cli::{GraphArgs, TimelineArgs};
        use clap::Parser;
        let words = match crate::pictures::split_words(arg) {
            Ok(w) => w,
            Err(e) => {
                self.error(format!("error: {e}"));
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
            Err(e) => self.error(e.render().to_string().trim_end()),
            Ok(Err(Failure::Error(e))) => self.error(e),
            Ok(Err(Failure::Usage(u))) => self.error(format!("error: {}", u.0)),
            Ok(Err(Failure::Reported)) => self.errors += 1,
            Ok(Ok(())) => {}
        }
    }

    /// `.schema [PATTERN]`: the schema's statements (those that mention PATTERN, ignoring
    /// case), marking the declared predicates that no fact uses and no rule derives.
    fn schema(&self, pattern: Option<&str>) -> Result<(), Error> {
        let items = self.db.schema_items()?;
        if items.is_empty() {
            outln!("(no schema yet: declare types with 'type Name.' (.help schema))");
            return Ok(());
        }
        let wanted = pattern.map(str::to_lowercase);
        let mut shown = 0;
        for item in &items {
            if wanted
                .as_ref()
                .is_some_and(|w| !item.text.to_lowercase().contains(w.as_str()))
            {
                continue;
            }
            shown += 1;
            if item.unused() {
                outln!("{}   # no facts use it", item.text);
            } else {
                outln!("{}", item.text);
            }
        }
        if let (0, Some(p)) = (shown, pattern) {
            outln!("(nothing in the schema mentions '{p}')");
        }
        Ok(())
    }

    fn lines(&self, lines: Result<Vec<String>, Error>, empty: &str) -> Result<(), Error> {
        let lines = lines?;
        if lines.is_empty() {
            outln!("({empty})");
        }
        for l in lines {
            outln!("{l}");
        }
        Ok(())
    }

    fn sources(&self) -> Result<(), Error> {
        let rows = Rows::new(
            vec!["source".into(), "stored facts".into()],
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
