//! What an import reports back: counts, what was bent to fit the model, what was skipped.

use super::literal::LiteralNotes;
use super::{BadRows, Format};
use crate::diag::Report;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fmt;

/// How many skipped records are kept with their full report; the rest are only counted
/// (a file with a million bad rows must not keep a million reports).
pub const MAX_LISTED: usize = 100;

/// Records skipped under [`BadRows::Skip`].
#[derive(Debug, Clone, Default)]
pub struct Skipped {
    /// How many were skipped.
    pub count: u64,
    /// The first [`MAX_LISTED`](crate::io::MAX_LISTED) of them, each naming its line.
    pub first: Vec<Report>,
}

/// The result of one import.
#[derive(Debug, Clone)]
pub struct ImportSummary {
    /// The format the file was read as.
    pub format: Format,
    /// Records read: triples for RDF, data rows for GDELT and tables (skipped ones
    /// included).
    pub records: u64,
    /// Quads handed to the sink.
    pub facts: u64,
    /// Literals that could not be kept exactly as written (RDF and typed table cells).
    pub literals: LiteralNotes,
    /// Counters particular to a format, by description (`"GDELT 1.0 rows, 57 columns"`).
    pub counts: BTreeMap<&'static str, u64>,
    /// Records skipped under [`BadRows::Skip`] (none under [`BadRows::Fail`]).
    pub skipped: Skipped,
}

impl ImportSummary {
    /// An empty summary, for an importer to fill in.
    pub fn new(format: Format) -> ImportSummary {
        ImportSummary {
            format,
            records: 0,
            facts: 0,
            literals: LiteralNotes::default(),
            counts: BTreeMap::new(),
            skipped: Skipped::default(),
        }
    }

    pub(crate) fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_insert(0) += 1;
    }

    /// Deal with a bad record according to the policy: fail with its report, or note it
    /// and carry on.
    pub(crate) fn bad_record(&mut self, policy: BadRows, report: Report) -> Result<()> {
        match policy {
            BadRows::Fail => Err(Error::Import(Box::new(report))),
            BadRows::Skip => {
                self.skipped.count += 1;
                if self.skipped.first.len() < MAX_LISTED {
                    self.skipped.first.push(report);
                }
                Ok(())
            }
        }
    }
}

impl fmt::Display for ImportSummary {
    /// A few lines for the command line: totals, then one line per note, then the skipped
    /// records with their places.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.format {
            super::Format::NTriples
            | super::Format::NQuads
            | super::Format::Turtle
            | super::Format::TriG => "triples",
            _ => "rows",
        };
        write!(
            f,
            "imported {} facts from {} {unit} ({})",
            self.facts, self.records, self.format
        )?;
        for (what, n) in &self.counts {
            write!(f, "\n  {what}: {n}")?;
        }
        for (what, n) in self.literals.iter() {
            write!(f, "\n  note: {n} {what}")?;
        }
        if self.skipped.count > 0 {
            write!(f, "\n  skipped {} bad {unit}:", self.skipped.count)?;
            for r in &self.skipped.first {
                write!(f, "\n    {}: {}", r.location(), r.message)?;
            }
            if self.skipped.count > self.skipped.first.len() as u64 {
                write!(
                    f,
                    "\n    ... and {} more",
                    self.skipped.count - self.skipped.first.len() as u64
                )?;
            }
        }
        Ok(())
    }
}
