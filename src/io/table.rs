//! tables (stub)
use super::{BadRows, ImportSummary, QuadSink};
use crate::error::Result;
use std::io::Read;
use std::path::Path;
#[derive(Debug, Clone)]
pub struct Mapping;
impl Mapping { pub fn load(_p: &Path) -> Result<Mapping> { todo!() } }
#[derive(Debug, Clone)]
pub struct TableOptions { pub source: Option<String>, pub bad_rows: BadRows, pub default_delimiter: u8 }
pub fn import<R: Read, S: QuadSink + ?Sized>(_r: R, _file: Option<&str>, _m: &Mapping, _o: &TableOptions, _s: &mut S) -> Result<ImportSummary> { todo!() }
