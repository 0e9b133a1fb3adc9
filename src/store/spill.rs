//! Many fixed-size records in bounded memory, read back sorted: a bulk import's facts and
//! text index entries.
//!
//! Records are kept in chunks; the chunks beyond a memory budget go to anonymous temporary
//! files (deleted by the system when closed).  [`Runs::sorted`] sorts each chunk (those on
//! disk one at a time, each into a run file of its own) and merges them into one sorted
//! stream, so the memory needed is the budget plus one chunk, whatever the number of
//! records.

use crate::error::{Error, Result};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};

/// A fixed-size record: what [`Runs`] holds.
pub trait Record: Copy + Ord {
    /// Bytes of the encoded record.
    const SIZE: usize;
    /// Append the encoded record.
    fn put(&self, out: &mut Vec<u8>);
    /// Decode a record from exactly `SIZE` bytes.
    fn get(b: &[u8]) -> Self;
}

impl Record for [u32; 4] {
    const SIZE: usize = 16;
    fn put(&self, out: &mut Vec<u8>) {
        for x in self {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    fn get(b: &[u8]) -> Self {
        let w = |i: usize| u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]);
        [w(0), w(4), w(8), w(12)]
    }
}

impl Record for [u64; 2] {
    const SIZE: usize = 16;
    fn put(&self, out: &mut Vec<u8>) {
        for x in self {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    fn get(b: &[u8]) -> Self {
        let w = |i: usize| {
            let mut a = [0; 8];
            a.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(a)
        };
        [w(0), w(8)]
    }
}

fn io_err(what: &str, e: std::io::Error) -> Error {
    Error::Storage(format!("{what} a temporary file of the import: {e}"))
}

/// Records in chunks, the first ones in memory, the rest in temporary files.
pub struct Runs<R: Record> {
    /// Records per chunk.
    chunk: usize,
    /// Chunks kept in memory (the last one is being filled).
    in_memory: usize,
    mem: Vec<Vec<R>>,
    /// Chunks on disk: their file and number of records.
    disk: Vec<(File, usize)>,
    len: usize,
}

impl<R: Record> Runs<R> {
    /// Runs keeping about `budget` bytes of records in memory (at least one chunk).
    pub fn new(budget: usize) -> Runs<R> {
        let chunk = (budget / R::SIZE / 8).clamp(1 << 10, 1 << 20);
        Runs {
            chunk,
            in_memory: (budget / R::SIZE / chunk).max(1),
            mem: Vec::new(),
            disk: Vec::new(),
            len: 0,
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there is no record.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Add a record.
    pub fn push(&mut self, r: R) -> Result<()> {
        if self.mem.last().is_none_or(|c| c.len() >= self.chunk) {
            if self.mem.len() >= self.in_memory {
                // The newest full chunk goes to disk; memory keeps the older ones.
                if let Some(full) = self.mem.pop() {
                    self.disk.push((write_chunk(&full)?, full.len()));
                }
            }
            self.mem.push(Vec::with_capacity(self.chunk));
        }
        if let Some(c) = self.mem.last_mut() {
            c.push(r);
        }
        self.len += 1;
        Ok(())
    }

    /// Change every record in place (chunks on disk are rewritten).
    pub fn map(&mut self, mut f: impl FnMut(&mut R)) -> Result<()> {
        for c in &mut self.mem {
            c.iter_mut().for_each(&mut f);
        }
        for (file, n) in &mut self.disk {
            let mut v = read_chunk::<R>(file, *n)?;
            v.iter_mut().for_each(&mut f);
            *file = write_chunk(&v)?;
        }
        Ok(())
    }

    /// Every record mapped by `key`, in the order of the keys (equal keys adjacent, each
    /// as often as it occurs).  Chunks in memory are sorted in place.
    pub fn sorted<'s, K: Record>(
        &'s mut self,
        key: impl Fn(&R) -> K + 's,
    ) -> Result<Merge<'s, R, K>> {
        let mut sources = Vec::new();
        for c in &mut self.mem {
            c.sort_unstable_by_key(&key);
        }
        let mut files = Vec::new();
        for (file, n) in &mut self.disk {
            let mut keys: Vec<K> = read_chunk::<R>(file, *n)?.iter().map(&key).collect();
            keys.sort_unstable();
            files.push((write_chunk(&keys)?, keys.len()));
        }
        for (i, _) in self.mem.iter().enumerate() {
            sources.push(Source::Memory { chunk: i, pos: 0 });
        }
        for (file, n) in files {
            sources.push(Source::Disk {
                reader: BufReader::with_capacity(1 << 16, file),
                left: n,
                buf: vec![0; K::SIZE],
            });
        }
        let mut m = Merge {
            mem: &self.mem,
            key: Box::new(key),
            sources,
            heap: BinaryHeap::new(),
        };
        for i in 0..m.sources.len() {
            if let Some(k) = m.next_of(i)? {
                m.heap.push(Reverse((k, i)));
            }
        }
        Ok(m)
    }
}

fn write_chunk<T: Record>(v: &[T]) -> Result<File> {
    let file = tempfile::tempfile().map_err(|e| io_err("cannot create", e))?;
    let mut w = BufWriter::with_capacity(1 << 16, file);
    let mut buf = Vec::with_capacity(T::SIZE);
    for r in v {
        buf.clear();
        r.put(&mut buf);
        w.write_all(&buf).map_err(|e| io_err("cannot write", e))?;
    }
    let mut file = w
        .into_inner()
        .map_err(|e| io_err("cannot write", e.into_error()))?;
    file.seek(SeekFrom::Start(0))
        .map_err(|e| io_err("cannot rewind", e))?;
    Ok(file)
}

fn read_chunk<T: Record>(file: &mut File, n: usize) -> Result<Vec<T>> {
    file.seek(SeekFrom::Start(0))
        .map_err(|e| io_err("cannot rewind", e))?;
    let mut r = BufReader::with_capacity(1 << 16, &*file);
    let mut out = Vec::with_capacity(n);
    let mut buf = vec![0; T::SIZE];
    for _ in 0..n {
        r.read_exact(&mut buf)
            .map_err(|e| io_err("cannot read", e))?;
        out.push(T::get(&buf));
    }
    Ok(out)
}

enum Source {
    Memory {
        chunk: usize,
        pos: usize,
    },
    Disk {
        reader: BufReader<File>,
        left: usize,
        buf: Vec<u8>,
    },
}

/// The sorted stream of [`Runs::sorted`].
pub struct Merge<'r, R: Record, K: Record> {
    mem: &'r [Vec<R>],
    key: Box<dyn Fn(&R) -> K + 'r>,
    sources: Vec<Source>,
    heap: BinaryHeap<Reverse<(K, usize)>>,
}

impl<R: Record, K: Record> Merge<'_, R, K> {
    fn next_of(&mut self, i: usize) -> Result<Option<K>> {
        Ok(match &mut self.sources[i] {
            Source::Memory { chunk, pos } => {
                let k = self.mem[*chunk].get(*pos).map(|r| (self.key)(r));
                *pos += 1;
                k
            }
            Source::Disk { reader, left, buf } => {
                if *left == 0 {
                    None
                } else {
                    *left -= 1;
                    reader
                        .read_exact(buf)
                        .map_err(|e| io_err("cannot read", e))?;
                    Some(K::get(buf))
                }
            }
        })
    }
}

impl<R: Record, K: Record> Iterator for Merge<'_, R, K> {
    type Item = Result<K>;

    fn next(&mut self) -> Option<Result<K>> {
        let Reverse((k, i)) = self.heap.pop()?;
        match self.next_of(i) {
            Ok(Some(n)) => self.heap.push(Reverse((n, i))),
            Ok(None) => {}
            Err(e) => return Some(Err(e)),
        }
        Some(Ok(k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn sorted_equals_sorting_whatever_spills(v in prop::collection::vec(any::<[u32; 4]>(), 0..5000), budget in 1usize..200_000) {
            let mut runs = Runs::new(budget);
            for r in &v {
                runs.push(*r).unwrap();
            }
            runs.map(|r| r[0] ^= 1).unwrap();
            let key = |r: &[u32; 4]| [r[2], r[0], r[1], r[3]];
            let got: Vec<[u32; 4]> = runs.sorted(key).unwrap().map(|k| k.unwrap()).collect();
            let mut want: Vec<[u32; 4]> = v.iter().map(|r| key(&[r[0] ^ 1, r[1], r[2], r[3]])).collect();
            want.sort_unstable();
            prop_assert_eq!(got, want);
            prop_assert_eq!(runs.len(), v.len());
        }
    }
}
