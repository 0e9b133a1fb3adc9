//! Sorting any number of quads in a bounded amount of memory: runs of at most a fixed
//! number of bytes are sorted in memory; when there is more than one, each is written to
//! an anonymous temporary file (deleted by the system when closed, even after a crash) and
//! the runs are merged, at most [`FAN_IN`] at a time.  Exact duplicates come out once.

use crate::error::{Error, Result};
use crate::model::Quad;
use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom, Write};

/// Bytes of quads (estimated: [`weight`]) sorted in memory before a run is written out.
pub(crate) const RUN_BYTES: usize = 64 << 20;
/// Runs merged at once (each holds a read buffer and one quad in memory).
pub(crate) const FAN_IN: usize = 64;

/// The order to sort by; it must be consistent with `Quad`'s equality (equal quads
/// compare `Equal`, and only they) for duplicates to be dropped.
pub(crate) type QuadOrder = fn(&Quad, &Quad) -> Ordering;

/// Collects quads, then yields them sorted: see the module documentation.
pub(crate) struct QuadSort {
    order: QuadOrder,
    run: Vec<Quad>,
    run_bytes: usize,
    limit: usize,
    fan_in: usize,
    spilled: Vec<Run>,
}

/// A sorted run on disk.
struct Run {
    file: BufReader<File>,
    left: u64,
}

impl QuadSort {
    /// A sorter with the default run size and fan-in.
    pub(crate) fn new(order: QuadOrder) -> QuadSort {
        QuadSort::with_limits(order, RUN_BYTES, FAN_IN)
    }

    /// A sorter that spills a run every `limit` bytes and merges `fan_in` runs at a time
    /// (tests use tiny ones to exercise the merge).
    pub(crate) fn with_limits(order: QuadOrder, limit: usize, fan_in: usize) -> QuadSort {
        QuadSort {
            order,
            run: Vec::new(),
            run_bytes: 0,
            limit,
            fan_in: fan_in.max(2),
            spilled: Vec::new(),
        }
    }

    /// Add a quad.
    pub(crate) fn push(&mut self, q: Quad) -> Result<()> {
        self.run_bytes += weight(&q);
        self.run.push(q);
        if self.run_bytes >= self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Every quad pushed, sorted, each once.
    pub(crate) fn finish(mut self) -> Result<Sorted> {
        if self.spilled.is_empty() {
            self.sort_run();
            return Ok(Sorted::Memory(std::mem::take(&mut self.run).into_iter()));
        }
        if !self.run.is_empty() {
            self.spill()?;
        }
        while self.spilled.len() > self.fan_in {
            let group: Vec<Run> = self.spilled.drain(..self.fan_in).collect();
            let mut merged = Merge::new(self.order, group)?;
            let mut w = RunWriter::new()?;
            while let Some(q) = merged.next_quad()? {
                w.write(&q)?;
            }
            self.spilled.push(w.finish()?);
        }
        Ok(Sorted::Merge(Merge::new(self.order, self.spilled)?))
    }

    fn sort_run(&mut self) {
        let order = self.order;
        self.run.sort_by(order);
        self.run.dedup();
    }

    fn spill(&mut self) -> Result<()> {
        self.sort_run();
        let mut w = RunWriter::new()?;
        for q in self.run.drain(..) {
            w.write(&q)?;
        }
        self.spilled.push(w.finish()?);
        self.run_bytes = 0;
        Ok(())
    }
}

/// About how many bytes a quad takes in memory.
fn weight(q: &Quad) -> usize {
    let object = match &q.object {
        crate::model::Value::Entity(s) | crate::model::Value::Str(s) => s.len(),
        _ => 0,
    };
    std::mem::size_of::<Quad>()
        + q.subject.len()
        + q.predicate.len()
        + q.source.as_ref().map_or(0, String::len)
        + object
}

fn temp_error(e: std::io::Error) -> Error {
    Error::io("<temporary file of a sorted export>", e)
}

fn codec_error(e: impl std::fmt::Display) -> Error {
    Error::Storage(format!("a temporary file of a sorted export: {e}"))
}

/// Writes one run to an anonymous temporary file.
struct RunWriter {
    out: BufWriter<File>,
    count: u64,
}

impl RunWriter {
    fn new() -> Result<RunWriter> {
        Ok(RunWriter {
            out: BufWriter::new(tempfile::tempfile().map_err(temp_error)?),
            count: 0,
        })
    }

    fn write(&mut self, q: &Quad) -> Result<()> {
        bincode::serde::encode_into_std_write(q, &mut self.out, bincode::config::standard())
            .map_err(codec_error)?;
        self.count += 1;
        Ok(())
    }

    fn finish(mut self) -> Result<Run> {
        self.out.flush().map_err(temp_error)?;
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| temp_error(e.into_error()))?;
        file.seek(SeekFrom::Start(0)).map_err(temp_error)?;
        Ok(Run {
            file: BufReader::new(file),
            left: self.count,
        })
    }
}

impl Run {
    fn next_quad(&mut self) -> Result<Option<Quad>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        bincode::serde::decode_from_std_read(&mut self.file, bincode::config::standard())
            .map(Some)
            .map_err(codec_error)
    }
}

/// The smallest quad of one run, as a heap entry (the heap is a max-heap: reversed).
struct Head {
    quad: Quad,
    run: usize,
    order: QuadOrder,
}

impl PartialEq for Head {
    fn eq(&self, other: &Head) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Head) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Head {
    fn cmp(&self, other: &Head) -> Ordering {
        (self.order)(&other.quad, &self.quad).then(other.run.cmp(&self.run))
    }
}

/// A k-way merge of sorted runs, dropping quads equal to the one before.
pub(crate) struct Merge {
    runs: Vec<Run>,
    heap: BinaryHeap<Head>,
    order: QuadOrder,
}

impl Merge {
    fn new(order: QuadOrder, mut runs: Vec<Run>) -> Result<Merge> {
        let mut heap = BinaryHeap::with_capacity(runs.len());
        for (i, r) in runs.iter_mut().enumerate() {
            if let Some(quad) = r.next_quad()? {
                heap.push(Head {
                    quad,
                    run: i,
                    order,
                });
            }
        }
        Ok(Merge { runs, heap, order })
    }

    fn refill(&mut self, run: usize) -> Result<()> {
        if let Some(r) = self.runs.get_mut(run) {
            if let Some(quad) = r.next_quad()? {
                self.heap.push(Head {
                    quad,
                    run,
                    order: self.order,
                });
            }
        }
        Ok(())
    }

    fn next_quad(&mut self) -> Result<Option<Quad>> {
        let Some(Head { quad, run, .. }) = self.heap.pop() else {
            return Ok(None);
        };
        self.refill(run)?;
        // The same quad from other runs: once is enough.
        while self.heap.peek().is_some_and(|h| h.quad == quad) {
            if let Some(h) = self.heap.pop() {
                self.refill(h.run)?;
            }
        }
        Ok(Some(quad))
    }
}

/// Sorted quads: from memory when they fit in one run, else merged from disk.
pub(crate) enum Sorted {
    /// One run, sorted in memory.
    Memory(std::vec::IntoIter<Quad>),
    /// Runs on disk.
    Merge(Merge),
}

impl Iterator for Sorted {
    type Item = Result<Quad>;

    fn next(&mut self) -> Option<Result<Quad>> {
        match self {
            Sorted::Memory(it) => it.next().map(Ok),
            Sorted::Merge(m) => m.next_quad().transpose(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Value;

    fn by_text(a: &Quad, b: &Quad) -> Ordering {
        a.to_string().cmp(&b.to_string())
    }

    fn quads(n: u32) -> Vec<Quad> {
        // A fixed pseudo-random order with duplicates.
        (0..n)
            .map(|i| {
                let k = (i.wrapping_mul(2_654_435_761) >> 7) % (n / 2 + 1);
                Quad::new(format!("s{k}"), "p", Value::Int(i64::from(k % 7)))
                    .from_source(format!("g{}", k % 3))
            })
            .collect()
    }

    fn sorted(q: &[Quad], limit: usize, fan_in: usize) -> Vec<Quad> {
        let mut s = QuadSort::with_limits(by_text, limit, fan_in);
        for x in q {
            s.push(x.clone()).unwrap();
        }
        s.finish().unwrap().map(Result::unwrap).collect()
    }

    #[test]
    fn spilled_runs_merge_to_the_in_memory_sort() {
        let q = quads(2000);
        let mut expected = q.clone();
        expected.sort_by(by_text);
        expected.dedup();
        assert!(expected.len() < q.len(), "the data should hold duplicates");
        assert_eq!(sorted(&q, usize::MAX, FAN_IN), expected);
        // About 40 quads a run: 50 runs, merged 3 at a time in several passes.
        let limit = 40 * weight(&q[0]);
        assert_eq!(sorted(&q, limit, 3), expected);
        // A run per quad.
        assert_eq!(sorted(&q[..200], 1, 2), {
            let mut e = q[..200].to_vec();
            e.sort_by(by_text);
            e.dedup();
            e
        });
        assert!(sorted(&[], 1, 2).is_empty());
    }
}
