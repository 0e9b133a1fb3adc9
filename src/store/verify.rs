//! `Store::verify`: every index holds the same facts and every count is exact.

use super::codec::Tuple;
use super::{kind, Id, Order, Stats, Store};
use crate::error::Result;

impl Store {
    /// Check that every index holds the same facts and every count is exact.  Returns the
    /// problems found (empty when consistent).  Reads everything: O(facts).
    pub fn verify(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let _g = self.read()?;
        let mut quads: Vec<Tuple> = Vec::new();
        for q in self.spog.all(&self.kv) {
            quads.push(q?);
        }
        let mut triples: Vec<Tuple> = quads.iter().map(|q| [q[0], q[1], q[2], Id::NONE]).collect();
        triples.dedup();
        for (order, set, name) in [
            (Order::Pos, &self.pos, "POS"),
            (Order::Osp, &self.osp, "OSP"),
        ] {
            let mut got: Vec<Tuple> = Vec::new();
            for e in set.all(&self.kv) {
                got.push(order.to_spog(&e?));
            }
            got.sort_unstable();
            if got != triples {
                problems.push(format!(
                    "index {name} holds {} triples, SPOG {}",
                    got.len(),
                    triples.len()
                ));
            }
        }
        let mut sourced: Vec<Tuple> = quads.iter().filter(|q| q[3].is_some()).copied().collect();
        sourced.sort_unstable();
        let mut got: Vec<Tuple> = Vec::new();
        for e in self.gspo.all(&self.kv) {
            got.push(Order::Gspo.to_spog(&e?));
        }
        got.sort_unstable();
        if got != sourced {
            problems.push(format!(
                "index GSPO holds {} sourced facts, SPOG {}",
                got.len(),
                sourced.len()
            ));
        }
        // Recount everything from the triples.
        let mut expect = Stats::default();
        let type_id = self
            .dict
            .lookup(&self.kv, kind::ENTITY, crate::model::TYPE_PREDICATE)?;
        expect.triples = triples.len() as u64;
        expect.quads = quads.len() as u64;
        for q in &sourced {
            *expect.sources.entry(q[3]).or_default() += 1;
        }
        let mut subjects: Vec<(Id, Id)> = triples.iter().map(|t| (t[1], t[0])).collect();
        let mut objects: Vec<(Id, Id)> = triples.iter().map(|t| (t[1], t[2])).collect();
        subjects.sort_unstable();
        subjects.dedup();
        objects.sort_unstable();
        objects.dedup();
        for t in &triples {
            expect.preds.entry(t[1]).or_default().triples += 1;
            if Some(t[1]) == type_id {
                *expect.classes.entry(t[2]).or_default() += 1;
            }
        }
        for (p, _) in subjects {
            expect.preds.entry(p).or_default().subjects += 1;
        }
        for (p, _) in objects {
            expect.preds.entry(p).or_default().objects += 1;
        }
        let have = self.stats()?.clone();
        if have != expect {
            problems.push(format!(
                "counts disagree with the indexes: stored {} triples / {} facts / {} predicates, recounted {} / {} / {}",
                have.triples,
                have.quads,
                have.preds.len(),
                expect.triples,
                expect.quads,
                expect.preds.len()
            ));
        }
        // Every id in the indexes must decode.
        let mut ids: Vec<Id> = quads
            .iter()
            .flat_map(|q| q.iter().copied())
            .filter(|i| i.is_dictionary())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        if let Err(e) = self.dict.texts(&self.kv, &ids) {
            problems.push(format!("dictionary: {e}"));
        }
        self.verify_text(&mut problems)?;
        Ok(problems)
    }
}
