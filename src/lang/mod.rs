//! The dossier language: syntax tree, nom parser, printer, and the checks that need no
//! database.
//!
//! Text flows `parse` → [`ast::Statement`] → `check` → (engine).  Every node keeps its byte
//! span so that any stage can report a [`crate::diag::Diagnostic`] at the exact place.

pub mod ast;
