//! `dossier`: the command line and the interactive shell, thin layers over [`dossier::Db`].
//!
//! Exit codes: 0 ok, 1 a statement (or import, or check) failed, 2 usage error, 3 the
//! database cannot be opened.
//!
//! The database is always dropped before the process exits (`main` returns an
//! [`ExitCode`] instead of calling `process::exit`): dropping it is what makes sled write
//! out everything committed.

#[macro_use]
mod say;

mod cli;
mod commands;
mod complete;
mod help;
mod highlight;
mod output;
#[cfg(feature = "viz")]
mod pictures;
mod repl;
mod run;
#[cfg(feature = "serve")]
mod serve;

use clap::{CommandFactory, Parser};
use cli::{Cli, Command, Settings};
use commands::{Failure, Usage};
use dossier::{Db, Error, Options};
use run::{Echo, Runner};
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Reported) => ExitCode::from(1),
        Err(Failure::Usage(Usage(msg))) => {
            let mut cmd = Cli::command();
            let e = cmd.error(clap::error::ErrorKind::ArgumentConflict, msg);
            let _ = e.print();
            ExitCode::from(2)
        }
        // The reader of our output went away (`dossier export | head`): not an error.
        Err(Failure::Error(Error::Io { source, .. }))
            if source.kind() == std::io::ErrorKind::BrokenPipe =>
        {
            ExitCode::SUCCESS
        }
        Err(Failure::Error(e)) => {
            errln!("{e}");
            ExitCode::from(if matches!(e, Error::Open { .. }) {
                3
            } else {
                1
            })
        }
    }
}

/// How a command opens the database.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Reads only, and the database must exist (stats, check, export, backup): a
    /// mistyped path is an error rather than a new empty database.
    ReadOnly,
    /// Writes: each statement commits atomically, and the command flushes before it
    /// reports a write as done, sharing one disk sync among the statements that ran
    /// meanwhile (see `run::Runner`), so a few hundred statements do not cost a few
    /// hundred syncs and a crash never takes back what was reported.
    Write,
    /// Writes flushed by the library before it returns: for `serve --writable`, whose
    /// responses acknowledge writes without going through the command line's group commit.
    Durable,
}

fn open(settings: &Settings, access: Access) -> Result<Db, Error> {
    // A directory without sled's data file is no database; if dossier was there, the
    // store says what is missing.
    let missing =
        !settings.db.join("db").is_file() && !settings.db.join("dossier.manifest").exists();
    if missing && (access == Access::ReadOnly || settings.read_only) {
        return Err(Error::Open {
            path: settings.db.clone(),
            reason:
                "there is no database there (create one with `dossier import` or `dossier run`)"
                    .into(),
        });
    }
    // Commands that only read open the files as they are (copying a large database for
    // `stats` would be slow); `--read-only` guarantees nothing is written to them.
    let db = Db::open_with(
        &settings.db,
        settings.options(Options {
            read_only: settings.read_only,
            durable: access == Access::Durable,
            ..Options::default()
        }),
    )?;
    if let Some(d) = db.damage() {
        errln!(
            "warning: the database is damaged ({d}); writes are refused until it is repaired: \
             `dossier check` lists the problems and `dossier check --repair` rebuilds it"
        );
    }
    Ok(db)
}

fn finish(db: &Db, tally: run::Tally) -> Result<(), Failure> {
    db.flush()?;
    if tally.ok() {
        Ok(())
    } else {
        Err(Failure::Reported)
    }
}

fn dispatch(cli: Cli) -> Result<(), Failure> {
    let top = (&cli.common, &cli.output);
    let settings = |c: &cli::Common, o: &cli::OutputArgs| Settings::merge(top.0, top.1, c, o);
    match &cli.command {
        None => {
            // The shell on a terminal; piped input runs as a script that takes the shell's
            // dot-commands too.
            let s = settings(&cli::Common::default(), &cli::OutputArgs::default());
            repl::run(&s, &[], None)
        }
        Some(Command::Repl(a)) => {
            let s = settings(&a.common, &a.output);
            repl::run(&s, &a.load, a.history.clone())
        }
        Some(Command::Run(a)) => {
            let s = settings(&a.common, &a.output);
            let db = open(&s, Access::Write)?;
            let mut runner = Runner::new(&db, &s);
            if a.dry_run {
                runner = runner.dry();
            }
            let tally = runner.run_files(&a.files, Echo::All);
            if a.dry_run {
                errln!("dry run: nothing the scripts wrote was kept");
            }
            finish(&db, tally)
        }
        Some(Command::Query(a)) => {
            let s = settings(&a.common, &a.output);
            let db = open(&s, Access::Write)?;
            let tally = Runner::new(&db, &s).run_text(&a.text, None, Echo::All);
            finish(&db, tally)
        }
        Some(Command::Import(a)) => {
            let s = settings(&a.common, &cli::OutputArgs::default());
            let db = open(&s, Access::Write)?;
            commands::import(&db, a, &s)
        }
        Some(Command::Export(a)) => {
            let s = settings(&a.common, &cli::OutputArgs::default());
            let db = open(&s, Access::ReadOnly)?;
            commands::export(&db, a, &s)
        }
        Some(Command::Stats(a)) => {
            let s = settings(&a.common, &a.output);
            let db = open(&s, Access::ReadOnly)?;
            let format = run::effective_format(s.format);
            let mut out = std::io::stdout().lock();
            commands::stats(&db, format, a.all, &mut out)?;
            Ok(())
        }
        Some(Command::Check(a)) => {
            let s = settings(&a.common, &a.output);
            if a.repair {
                return commands::repair(&s);
            }
            let db = open(&s, Access::ReadOnly)?;
            commands::check(&db, &s)
        }
        Some(Command::Compact(a)) => {
            let s = settings(&a.common, &a.output);
            commands::compact(&s)
        }
        Some(Command::Backup(a)) => {
            let s = settings(&a.common, &cli::OutputArgs::default());
            let db = open(&s, Access::ReadOnly)?;
            commands::backup(&db, &a.dir)
        }
        #[cfg(feature = "viz")]
        Some(Command::Graph(a)) => {
            let s = settings(&a.common, &cli::OutputArgs::default());
            let db = open(&s, Access::ReadOnly)?;
            pictures::graph(&db, a, &s, None)
        }
        #[cfg(feature = "viz")]
        Some(Command::Timeline(a)) => {
            let s = settings(&a.common, &cli::OutputArgs::default());
            let db = open(&s, Access::ReadOnly)?;
            pictures::timeline(&db, a, &s, None)
        }
        #[cfg(feature = "serve")]
        Some(Command::Serve(a)) => {
            let mut s = settings(&a.common, &cli::OutputArgs::default());
            let access = if a.writable {
                Access::Durable
            } else {
                Access::ReadOnly
            };
            // `--max-rows` is each request's limit (over it, a result is cut, not refused).
            let max_rows = s.max_rows.take().unwrap_or(cli::SERVE_MAX_ROWS);
            let db = open(&s, access)?;
            serve::run(db, a, max_rows)
        }
    }
}
