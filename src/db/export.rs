//! Every fact out of the database: [`Db::quads`], [`Db::export`], and the stream both read,
//! which decodes the indexes' ids in batches of a fixed size.

use super::Db;
use crate::error::{Error, Result};
use crate::io::{export, DqSort, ExportFormat, ExportSummary};
use crate::model::{Quad, Value};
use crate::store::{Id, Store};
use std::io::Write;

/// Ids decoded at a time: the stream's memory does not grow with the database.
const BATCH: usize = 4096;

impl Db {
    /// Every fact: those without a source first, then by source; within each, in the order
    /// of the store's ids (the order terms were first stored in).  The whole database in
    /// memory: [`Db::export`] streams it instead.
    pub fn quads(&self) -> Result<Vec<Quad>> {
        let store = &self.inner.store;
        let _read = store.read()?;
        QuadStream::new(store, BATCH).collect()
    }

    /// Write every fact in `format`: a `.dq` script (schema, rules, then the facts sorted
    /// and grouped by source: it loads again, and the same facts always give the same
    /// bytes) or N-Quads (in the order of [`Db::quads`]).  Facts a format cannot express
    /// are left out and counted in the summary.  Memory stays bounded however large the
    /// database: the facts are read in batches, and a `.dq` export sorts them in runs that
    /// spill to temporary files.  Writes wait while the facts are read (for N-Quads, until
    /// they are written).
    ///
    /// ```
    /// use dossier::{io::ExportFormat, Db};
    /// let db = Db::memory()?;
    /// db.execute("type Actor. lna a Actor. lna backed_by egypt from aa_2020_09_28.")?;
    /// let mut out = Vec::new();
    /// let summary = db.export(&mut out, &ExportFormat::Dq)?;
    /// assert_eq!(summary.facts, 2);
    /// let text = String::from_utf8(out).unwrap();
    /// assert_eq!(
    ///     text,
    ///     "type Actor.\n\nlna a Actor.\n\nfrom aa_2020_09_28 {\n    lna backed_by egypt.\n}\n"
    /// );
    ///
    /// // A backup restores exactly: `run` loads the `.dq` into the same facts and schema.
    /// let copy = Db::memory()?;
    /// copy.execute(&text)?;
    /// assert_eq!(copy.quads()?, db.quads()?);
    /// assert_eq!(copy.schema()?, db.schema()?);
    /// # Ok::<(), dossier::Error>(())
    /// ```
    ///
    /// N-Quads names every fact by an IRI under the base of its [`crate::io::Namespaces`]
    /// (`_:` names too, as Skolem IRIs), and an import of the file with the same base gives
    /// the same facts; a base that is not an absolute IRI is an error before anything is
    /// written.  N-Quads has no place for the schema and rules.
    pub fn export<W: Write>(&self, out: W, format: &ExportFormat) -> Result<ExportSummary> {
        let store = &self.inner.store;
        match format {
            ExportFormat::Dq => {
                let mut header = self.schema()?;
                header.extend(self.rules()?);
                let mut facts = DqSort::new();
                {
                    let _read = store.read()?;
                    for q in QuadStream::new(store, BATCH) {
                        facts.push(q?)?;
                    }
                }
                facts.write(out, &header)
            }
            ExportFormat::NQuads(ns) => {
                let _read = store.read()?;
                export::write_nquads_from(out, QuadStream::new(store, BATCH), ns)
            }
        }
    }
}

/// The facts of the store in [`Store::assertions`] order, decoded `batch` at a time.  The
/// caller holds the read gate while it iterates.
struct QuadStream<'s> {
    store: &'s Store,
    ids: Box<dyn Iterator<Item = Result<[Id; 4]>> + 's>,
    batch: usize,
    ready: std::vec::IntoIter<Quad>,
    done: bool,
    /// Facts read so far, and how many the store's exact counts say there are: a second
    /// witness, so an index that lost a block cannot make an export (a backup) quietly
    /// shorter.
    read: u64,
    expected: Option<u64>,
}

impl<'s> QuadStream<'s> {
    fn new(store: &'s Store, batch: usize) -> QuadStream<'s> {
        QuadStream {
            store,
            ids: Box::new(store.assertions()),
            batch: batch.max(1),
            ready: Vec::new().into_iter(),
            done: false,
            read: 0,
            expected: store.stats().ok().map(|s| s.quads),
        }
    }

    /// Decode the next batch into `ready` (none: the stream is done).
    fn fill(&mut self) -> Result<()> {
        let mut ids = Vec::with_capacity(self.batch);
        for q in self.ids.by_ref().take(self.batch) {
            ids.push(q?);
        }
        if ids.is_empty() {
            self.done = true;
            return match self.expected {
                Some(counted) if counted != self.read => Err(Error::Storage(format!(
                    "the database is damaged: its index of facts holds {} facts but its counts say {counted}, so the export is incomplete. \
                     `dossier check` lists the problems and `dossier check --repair` rebuilds the database",
                    self.read
                ))),
                _ => Ok(()),
            };
        }
        self.read += ids.len() as u64;
        let flat: Vec<Id> = ids
            .iter()
            .flat_map(|q| q.iter().copied())
            .filter(|i| i.is_some())
            .collect();
        let values = self.store.values(&flat, None)?;
        let name = |id: &Id| -> Result<String> {
            match values.get(id) {
                Some(Value::Entity(e)) => Ok(e.clone()),
                _ => Err(Error::Storage(format!("id {id:?} is not an entity"))),
            }
        };
        let mut out = Vec::with_capacity(ids.len());
        for q in &ids {
            out.push(Quad {
                subject: name(&q[0])?,
                predicate: name(&q[1])?,
                object: values
                    .get(&q[2])
                    .cloned()
                    .ok_or_else(|| Error::Storage("missing value".into()))?,
                source: if q[3].is_none() {
                    None
                } else {
                    Some(name(&q[3])?)
                },
            });
        }
        self.ready = out.into_iter();
        Ok(())
    }
}

impl Iterator for QuadStream<'_> {
    type Item = Result<Quad>;

    fn next(&mut self) -> Option<Result<Quad>> {
        loop {
            if let Some(q) = self.ready.next() {
                return Some(Ok(q));
            }
            if self.done {
                return None;
            }
            if let Err(e) = self.fill() {
                self.done = true;
                return Some(Err(e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{GraphSel, IdPattern};

    /// A store whose ids are not in name order, with facts with and without sources.
    fn db() -> Db {
        let db = Db::memory().unwrap();
        db.execute(
            "zed p b. alpha p zed from s2. mid q 3 from s1. zed p c from s1. \
             alpha r \"x\". mid p zed from s2. mid p zed from s1.",
        )
        .unwrap();
        db
    }

    #[test]
    fn the_stream_yields_every_assertion_in_source_then_id_order() {
        let db = db();
        let store = &db.inner.store;
        let _read = store.read().unwrap();
        let ids: Vec<[Id; 4]> = store.assertions().map(Result::unwrap).collect();
        let mut expected: Vec<[Id; 4]> = store
            .quads(&IdPattern {
                g: GraphSel::Each,
                ..IdPattern::new(None, None, None)
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        expected.sort_by_key(|q| (q[3], q[0], q[1], q[2]));
        assert_eq!(ids, expected);
        assert_eq!(ids.len(), 7);
        // Decoded in batches of two, the facts come in that order too.
        let quads: Vec<String> = QuadStream::new(store, 2)
            .map(|q| q.unwrap().to_string())
            .collect();
        let one_batch: Vec<String> = QuadStream::new(store, BATCH)
            .map(|q| q.unwrap().to_string())
            .collect();
        assert_eq!(quads, one_batch);
        assert_eq!(
            quads,
            [
                // Without a source: zed was stored before alpha.
                "zed p b.",
                "alpha r \"x\".",
                // s2 was stored before s1; within s1, zed before mid, p before q.
                "alpha p zed from s2.",
                "mid p zed from s2.",
                "zed p c from s1.",
                "mid p zed from s1.",
                "mid q 3 from s1.",
            ]
        );
    }
}
