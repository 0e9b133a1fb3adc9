//! export (stub)
