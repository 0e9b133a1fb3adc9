//! Counts answered from the indexes without building rows: `find ?o count(?s) where ?s P
//! ?o` reads the runs of equal objects in `POS` (`order by`, `having`, `limit` still
//! apply), grouping by the subject counts each fact once, and `find count() where ?s P
//! ?o` is the exact per-predicate count the store keeps.

use super::exec::Interrupt;
use super::finish::{Col, Collector, Shape};
use super::ir::{Ex, GTerm, PTerm};
use super::plan::{Plan, StepKind};
use crate::error::Result;
use crate::lang::ast::AggFunc;
use crate::store::{Id, IdPattern, Store};

/// What a count is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum By {
    /// One count per object: runs of `POS`.
    Object,
    /// One count per subject.
    Subject,
    /// One count in all: the predicate's number of triples.
    Nothing,
}

/// A `find` whose every result is a count of the facts of one predicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CountScan {
    p: Id,
    by: By,
}

impl CountScan {
    /// The count scan that answers `plan` into `shape`, if there is one: a plan of one
    /// plain scan `?s P ?o` (two distinct variables, stored facts only, no source, no
    /// pushed range) whose solutions are distinct, and a shape grouped by `?o`, by `?s` or
    /// by nothing, whose aggregates are all `count()` or `count(?s)` / `count(?o)`.
    pub fn of(plan: &Plan, shape: &Shape) -> Option<CountScan> {
        let [step] = plan.steps.as_slice() else {
            return None;
        };
        let StepKind::Scan {
            pat,
            ranges,
            text: None,
            ..
        } = &step.kind
        else {
            return None;
        };
        let (PTerm::Var(s), PTerm::Const(p), PTerm::Var(o)) = (&pat.s, &pat.p, &pat.o) else {
            return None;
        };
        if s == o
            || !ranges.is_empty()
            || !plan.unique
            || pat.g != GTerm::None
            || !pat.stored
            || pat.derived
            || pat.infer_supertypes
            || pat.delta_only
            || !shape.aggregated()
        {
            return None;
        }
        let mut by = By::Nothing;
        for col in &shape.cols {
            match col {
                Col::Agg {
                    func: AggFunc::Count,
                    distinct: false,
                    arg,
                    ..
                } => {
                    if !matches!(arg, None | Some(Ex::Slot(_)))
                        || matches!(arg, Some(Ex::Slot(x)) if x != s && x != o)
                    {
                        return None;
                    }
                }
                Col::Slot(x) | Col::Expr(Ex::Slot(x)) if by == By::Nothing => {
                    by = if x == o {
                        By::Object
                    } else if x == s {
                        By::Subject
                    } else {
                        return None;
                    };
                }
                _ => return None,
            }
        }
        Some(CountScan { p: *p, by })
    }

    /// Count into `collector` (the committed facts: not for a transaction's pending
    /// writes).
    pub fn run(
        &self,
        store: &Store,
        collector: &mut Collector<'_, '_>,
        interrupt: &Interrupt,
    ) -> Result<()> {
        if self.by == By::Nothing {
            let n = store.stats()?.pred(self.p).triples;
            if n > 0 {
                collector.add_counted(&[], n)?;
            }
            return Ok(());
        }
        let mut run: Option<(Id, u64)> = None;
        for (i, q) in store
            .quads(&IdPattern::new(None, Some(self.p), None))?
            .enumerate()
        {
            let q = q?;
            if i % 4096 == 4095 {
                interrupt.check()?;
            }
            if self.by == By::Subject {
                collector.add_counted(&[q[0]], 1)?;
                continue;
            }
            // `POS` holds the facts by object: each object's facts are one run.
            run = match run {
                Some((o, n)) if o == q[2] => Some((o, n + 1)),
                Some((o, n)) => {
                    collector.add_counted(&[o], n)?;
                    Some((q[2], 1))
                }
                None => Some((q[2], 1)),
            };
        }
        if let Some((o, n)) = run {
            collector.add_counted(&[o], n)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{Db, Outcome, Value};

    fn rows(db: &Db, q: &str) -> Vec<Vec<Option<Value>>> {
        db.query(q)
            .unwrap_or_else(|e| panic!("{q}: {e}"))
            .values()
            .map(<[_]>::to_vec)
            .collect()
    }

    fn explain(db: &Db, q: &str) -> String {
        match db.execute(&format!("explain {q}")).expect("explains").pop() {
            Some(Outcome::Plan(p)) => p,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn counts_from_the_index_equal_counting_rows() {
        let db = Db::memory().expect("db");
        let mut facts = String::new();
        for i in 0..300 {
            facts.push_str(&format!("e{i} mediator m{}. ", (i * i) % 17));
            facts.push_str(&format!("e{i} party p{}. e{i} party p{}. ", i % 5, i % 7));
        }
        db.execute(&facts).expect("facts");
        let counted = [
            "find ?m count(?e) as n where ?e mediator ?m order by n desc, ?m limit 5.",
            "find ?m count() as n where ?e mediator ?m.",
            "find ?e count(?p) as n where ?e party ?p order by ?e limit 7.",
            "find count() where ?e party ?p.",
            "find ?p count(?e) as n where ?e party ?p having n >= 50.",
        ];
        for q in counted {
            assert!(explain(&db, q).contains("counted from the index"), "{q}");
            // The same query with a filter that keeps every row runs the plan.
            let (head, tail) = q.split_once(" where ").expect("where");
            let (pattern, rest) = tail
                .split_once(" order by ")
                .map(|(p, r)| (p, format!(" order by {r}")))
                .or_else(|| {
                    tail.split_once(" having ")
                        .map(|(p, r)| (p, format!(" having {r}")))
                })
                .unwrap_or((tail.trim_end_matches('.'), ".".to_string()));
            let slow = format!("{head} where {pattern}, ?e != nobody{rest}");
            assert!(
                !explain(&db, &slow).contains("counted from the index"),
                "{slow}"
            );
            assert_eq!(rows(&db, q), rows(&db, &slow), "{q}");
        }
        for q in [
            "find ?m count(distinct ?m) as n where ?e mediator ?m.",
            "find ?m count(?e) as n where ?e mediator ?m, ?e party ?p.",
            "find ?m min(?e) as n where ?e mediator ?m.",
        ] {
            assert!(!explain(&db, q).contains("counted from the index"), "{q}");
        }
    }
}
