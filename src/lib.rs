#![warn(missing_docs)]
//! dossier: an embedded knowledge base of who met whom, where, when, and what they agreed.
//!
//! Layers, lowest first (a layer never imports a higher one):
//! `model` → `store` → `lang` → `engine` → `db`; `diag` and `error` are shared by all.
//! See ARCHITECTURE.md for the map.

pub mod db;
pub mod diag;
pub mod engine;
pub mod error;
pub mod io;
pub mod lang;
pub mod limits;
pub mod model;
pub mod store;
#[cfg(feature = "viz")]
pub mod viz;

pub use db::{
    CancelHandle, CancelToken, Db, DbStats, Declaration, DryRun, Executed, FactsBuilder, FromValue,
    Limits, Options, Outcome, Params, Prepared, QueryOptions, Row, Rows, SchemaItem, Script, Tx,
};
pub use diag::{Diagnostic, Report, Severity, Span};
pub use error::{Error, Result};
pub use model::{Date, Kind, Precision, Quad, Value};

/// The README's Rust example, compiled and run by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
