//! Stopping a running query: the cancel flags and the deadline ([`Interrupt`]), and how
//! often the engine looks at them ([`Pacer`]).
//!
//! A limit must be met within a few milliseconds whatever the query does, but a check
//! costs a clock read and two atomic loads, too much for every row of a scan.  A
//! [`Pacer`] checks every `n` calls of [`Pacer::tick`] and adapts `n` to the time a tick
//! takes, so checks land about every [`Pacer::PERIOD`] on cheap ticks (an index scan) as
//! on dear ones (a sort comparison, a join of wide rows).  What a stopped query had
//! collected is freed on another thread ([`abandon`]).

use crate::error::{Error, Result};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Limits a running query can hit.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    /// Set from another thread (Ctrl-C) to stop the query.
    pub cancel: Option<Arc<AtomicBool>>,
    /// This query's own cancel flag (a web request whose client went away), beside the
    /// database-wide one.
    pub token: Option<Arc<AtomicBool>>,
    /// When to stop with [`Error::TimedOut`], with the time limit it came from (for the
    /// message); `None`: no time limit.
    pub deadline: Option<(Instant, Duration)>,
}

impl Interrupt {
    /// [`Error::Cancelled`] once the cancel flag is set, [`Error::TimedOut`] once past the
    /// deadline.  The engine calls it regularly while a query runs (through a [`Pacer`]).
    pub fn check(&self) -> Result<()> {
        self.check_at(Instant::now())
    }

    fn check_at(&self, now: Instant) -> Result<()> {
        for c in [&self.cancel, &self.token].into_iter().flatten() {
            if c.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
        }
        if let Some((at, limit)) = self.deadline {
            if now >= at {
                return Err(Error::TimedOut(limit));
            }
        }
        Ok(())
    }
}

/// Checks an [`Interrupt`] every `every` ticks, `every` adapted so that checks come about
/// every [`Pacer::PERIOD`].
pub struct Pacer<'i> {
    interrupt: &'i Interrupt,
    count: Cell<u32>,
    every: Cell<u32>,
    last: Cell<Instant>,
}

impl<'i> Pacer<'i> {
    /// How far apart checks should be: a limit is met within a few of these.
    pub const PERIOD: Duration = Duration::from_millis(2);
    const MAX_EVERY: u32 = 1 << 16;

    pub fn new(interrupt: &'i Interrupt) -> Pacer<'i> {
        Pacer {
            interrupt,
            count: Cell::new(0),
            // Start at every tick (ticks may be slow ones); cheap ticks double it quickly.
            every: Cell::new(1),
            last: Cell::new(Instant::now()),
        }
    }

    /// One unit of work done: check the interrupt if it is time to.
    #[inline]
    pub fn tick(&self) -> Result<()> {
        let c = self.count.get() + 1;
        if c < self.every.get() {
            self.count.set(c);
            return Ok(());
        }
        self.count.set(0);
        self.check()
    }

    /// Check now, and adapt the pace to how long the last `every` ticks took.
    #[cold]
    fn check(&self) -> Result<()> {
        let now = Instant::now();
        let took = now.saturating_duration_since(self.last.get());
        self.last.set(now);
        let every = self.every.get();
        if took < Self::PERIOD / 4 {
            self.every.set((every * 2).min(Self::MAX_EVERY));
        } else if took > Self::PERIOD {
            self.every.set((every / 4).max(1));
        }
        self.interrupt.check_at(now)
    }
}

/// Drop `bulk` on a background thread: freeing millions of rows takes longer than the
/// margin of a time limit, and a query that was stopped should return at once.
pub fn abandon<T: Send + 'static>(bulk: T) {
    // If no thread can be started, the closure (and `bulk`) is dropped here instead.
    let _ = std::thread::Builder::new()
        .name("dossier-drop".into())
        .spawn(move || drop(bulk));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks that each take 1 ms are checked every tick or two, cheap ones rarely; a
    /// deadline is met within a few periods either way.
    fn with_deadline(limit: Duration) -> Interrupt {
        Interrupt {
            deadline: Some((Instant::now() + limit, limit)),
            ..Interrupt::default()
        }
    }

    #[test]
    fn the_pace_follows_the_cost_of_a_tick() {
        let limit = Duration::from_millis(30);
        let i = with_deadline(limit);
        let pacer = Pacer::new(&i);
        let start = Instant::now();
        let mut ticks = 0u64;
        let err = loop {
            ticks += 1;
            if let Err(e) = pacer.tick() {
                break e;
            }
        };
        assert!(matches!(err, Error::TimedOut(_)));
        assert!(pacer.every.get() > 1024, "{}", pacer.every.get());
        assert!(ticks > 10_000, "{ticks}");
        assert!(start.elapsed() < limit + Duration::from_millis(20));

        let i = with_deadline(limit);
        let pacer = Pacer::new(&i);
        let start = Instant::now();
        let mut ticks = 0u64;
        while pacer.tick().is_ok() {
            std::thread::sleep(Duration::from_millis(1));
            ticks += 1;
            assert!(ticks < 1000, "never stopped");
        }
        assert!(pacer.every.get() <= 2, "{}", pacer.every.get());
        // On a loaded machine a sleep may take longer; the check still comes within a
        // tick or two of the deadline.
        assert!(start.elapsed() < limit + Duration::from_millis(200));
    }

    #[test]
    fn cancel_flags_stop_at_the_next_check() {
        let flag = Arc::new(AtomicBool::new(false));
        let i = Interrupt {
            token: Some(flag.clone()),
            ..Interrupt::default()
        };
        assert!(i.check().is_ok());
        flag.store(true, Ordering::Relaxed);
        assert!(matches!(i.check(), Err(Error::Cancelled)));
    }
}
