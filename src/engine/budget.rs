//! The memory a query may hold: rows kept by hash joins, hashed `not`s, distinct sets,
//! groups, sorts and the facts rules derive.  Each place that keeps rows charges their
//! approximate size; past the limit the query stops with [`Error::TooMuchMemory`] instead
//! of growing until the machine runs out.

use crate::error::{Error, Result};
use std::cell::Cell;

/// Approximate bytes held per entry of a hash set or map, besides the entry itself.
pub const ENTRY_OVERHEAD: u64 = 32;

/// Bytes a row of `ids` ids takes when kept (the ids, a vector header, a table entry).
pub fn row_bytes(ids: usize) -> u64 {
    16 * ids as u64 + 24 + ENTRY_OVERHEAD
}

/// The bytes a query holds, against its limit.
#[derive(Debug, Default)]
pub struct Budget {
    limit: Option<u64>,
    used: Cell<u64>,
}

impl Budget {
    /// A budget of `limit` bytes (`None`: unlimited, only counted).
    pub fn new(limit: Option<u64>) -> Budget {
        Budget {
            limit,
            used: Cell::new(0),
        }
    }

    /// Count `bytes` more held; [`Error::TooMuchMemory`] once past the limit.
    pub fn charge(&self, bytes: u64) -> Result<()> {
        let used = self.used.get().saturating_add(bytes);
        self.used.set(used);
        match self.limit {
            Some(limit) if used > limit => Err(Error::TooMuchMemory(limit)),
            _ => Ok(()),
        }
    }

    /// Bytes counted so far.
    pub fn used(&self) -> u64 {
        self.used.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_until_the_limit() {
        let b = Budget::new(Some(100));
        assert!(b.charge(60).is_ok());
        assert!(b.charge(40).is_ok());
        assert!(matches!(b.charge(1), Err(Error::TooMuchMemory(100))));
        let unlimited = Budget::new(None);
        assert!(unlimited.charge(u64::MAX).is_ok());
        assert!(unlimited.charge(u64::MAX).is_ok());
        assert_eq!(unlimited.used(), u64::MAX);
    }
}
