//! GDELT (stub)
use super::{BadRows, ImportSummary, QuadSink};
use crate::error::Result;
use std::io::Read;
#[derive(Debug, Clone, Default)]
pub struct GdeltOptions { pub source: Option<String>, pub bad_rows: BadRows }
pub fn import<R: Read, S: QuadSink + ?Sized>(_r: R, _file: Option<&str>, _o: &GdeltOptions, _s: &mut S) -> Result<ImportSummary> { todo!() }
