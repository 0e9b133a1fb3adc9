//! Query results: column names and rows of values, with typed access and serde.

use crate::error::{Error, Result};
use crate::model::{Date, Value};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;

/// The rows of a query, in order.  Iterate it for [`Row`]s.
///
/// ```
/// let db = dossier::Db::memory()?;
/// db.execute("haftar a Person; label \"Khalifa Haftar\".")?;
/// let rows = db.query("find ?who ?name where ?who a Person; label ?name.")?;
/// assert_eq!(rows.columns(), ["who", "name"]);
/// for row in rows {
///     let name: &str = row.get("name")?;
///     assert_eq!(name, "Khalifa Haftar");
/// }
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    columns: Arc<[String]>,
    rows: std::collections::VecDeque<Vec<Option<Value>>>,
}

impl Rows {
    /// Rows from column names and one value list per row, each in column order (`None`:
    /// unbound).  The engine builds them; this is for results made by hand (tests, tools).
    pub fn new(columns: impl Into<Arc<[String]>>, rows: Vec<Vec<Option<Value>>>) -> Rows {
        Rows {
            columns: columns.into(),
            rows: rows.into(),
        }
    }

    /// Column names: a variable's name without `?`, an alias, or the aggregate as written.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Rows not yet taken.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether no row is left to take (a query with no answers, or rows all iterated).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The remaining rows as plain value lists (`None`: unbound).
    pub fn values(&self) -> impl Iterator<Item = &[Option<Value>]> {
        self.rows.iter().map(Vec::as_slice)
    }

    /// Deserialize every remaining row into `T` (a struct whose fields are column names).
    pub fn deserialize<T: DeserializeOwned>(self) -> Result<Vec<T>> {
        self.map(|r| r.deserialize()).collect()
    }
}

impl Iterator for Rows {
    type Item = Row;

    fn next(&mut self) -> Option<Row> {
        self.rows.pop_front().map(|values| Row {
            columns: self.columns.clone(),
            values,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.rows.len(), Some(self.rows.len()))
    }
}

impl ExactSizeIterator for Rows {}

/// One row of a result.
///
/// A column that may be unbound (`optional`) reads as an `Option`:
///
/// ```
/// let db = dossier::Db::memory()?;
/// db.execute("haftar a Person; label \"Khalifa Haftar\". sarraj a Person.")?;
/// let rows = db.query("find ?p ?l where ?p a Person, optional { ?p label ?l } order by ?p.")?;
/// let labels: Vec<(String, Option<String>)> = rows
///     .map(|row| Ok((row.get("p")?, row.get("l")?)))
///     .collect::<dossier::Result<_>>()?;
/// assert_eq!(labels[0], ("haftar".to_string(), Some("Khalifa Haftar".to_string())));
/// assert_eq!(labels[1], ("sarraj".to_string(), None));
/// # Ok::<(), dossier::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    columns: Arc<[String]>,
    values: Vec<Option<Value>>,
}

impl Row {
    /// The column names, in order (the same for every row of a result).
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// The values in column order; `None` where the column is unbound (an `optional` that
    /// did not match, the source of a fact without one in `describe`).
    pub fn values(&self) -> &[Option<Value>] {
        &self.values
    }

    /// The value of a column (`None`: unbound), or an error naming the missing column.
    pub fn value(&self, column: &str) -> Result<Option<&Value>> {
        let i = self
            .columns
            .iter()
            .position(|c| c == column || c.strip_prefix('?') == Some(column))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "no column '{column}' (the columns are: {})",
                    self.columns.join(", ")
                ))
            })?;
        Ok(self.values[i].as_ref())
    }

    /// A column as a Rust type: `&str` (strings and entity names), `String`, `i64`, `f64`,
    /// `bool`, [`Date`], [`Value`], or `Option<T>` for a column that may be unbound.
    pub fn get<'r, T: FromValue<'r>>(&'r self, column: &str) -> Result<T> {
        let v = self.value(column)?;
        T::from_value(v).map_err(|want| {
            Error::Invalid(match v {
                None => format!("column '{column}' is unbound; read it as Option<{want}>"),
                Some(v) => format!(
                    "column '{column}' holds {v} ({}), not {want}",
                    v.kind().name()
                ),
            })
        })
    }

    /// Deserialize the row into `T`, whose field names are the column names.  Entities and
    /// strings become strings, dates their ISO text, unbound columns `null`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T> {
        let map: serde_json::Map<String, serde_json::Value> = self
            .columns
            .iter()
            .zip(&self.values)
            .map(|(c, v)| (c.clone(), to_json(v.as_ref())))
            .collect();
        serde_json::from_value(serde_json::Value::Object(map))
            .map_err(|e| Error::Invalid(format!("cannot read the row as the requested type: {e}")))
    }
}

/// A value as JSON: numbers and booleans as such, everything else as text.
pub fn to_json(v: Option<&Value>) -> serde_json::Value {
    match v {
        None => serde_json::Value::Null,
        Some(Value::Int(i)) => serde_json::Value::from(*i),
        Some(Value::Float(f)) => serde_json::Number::from_f64(*f)
            .map_or(serde_json::Value::Null, serde_json::Value::Number),
        Some(Value::Bool(b)) => serde_json::Value::Bool(*b),
        Some(other) => serde_json::Value::String(other.plain()),
    }
}

/// Types a column can be read as (see [`Row::get`]).
pub trait FromValue<'r>: Sized {
    /// `Err` carries the name of the wanted type for the error message.
    fn from_value(v: Option<&'r Value>) -> std::result::Result<Self, &'static str>;
}

impl<'r> FromValue<'r> for &'r str {
    fn from_value(v: Option<&'r Value>) -> std::result::Result<Self, &'static str> {
        v.and_then(Value::text).ok_or("&str")
    }
}

impl<'r> FromValue<'r> for String {
    fn from_value(v: Option<&'r Value>) -> std::result::Result<Self, &'static str> {
        v.and_then(Value::text).map(str::to_string).ok_or("String")
    }
}

impl<'r> FromValue<'r> for i64 {
    fn from_value(v: Option<&'r Value>) -> std::result::Result<Self, &'static str> {
        match v {
            Some(Value::Int(i)) => Ok(*i),
            _ => Err("i64"),
        }
    }
}

impl<'r> FromValue<'r> for f64 {
    fn from_value(v: Option<&'r Value>) -> std::result::Result<Self, &'static str> {
        v.and_then(Value::as_f64).ok_or("f64")
    }
}

impl<'r> FromValue<'r> for bool {
    fn from_value(v: Option<&'r Value>) -> std::result::Result<Self, &'static str> {
        match v {
            Some(Value::Bool(b)) => Ok(*b),
            _ => Err("bool"),
        }
    }
}

impl<'r> FromValue<'r> for Date {
    fn from_value(v: Option<&'r Value>) -> std::result::Result<Self, &'static str> {
        match v {
            Some(Value::Date(d)) => Ok(*d),
            _ => Err("Date"),
        }
    }
}

impl<'r> FromValue<'r> for Value {
    fn from_value(v: Option<&'r Value>) -> std::result::Result<Self, &'static str> {
        v.cloned().ok_or("Value")
    }
}

impl<'r> FromValue<'r> for &'r Value {
    fn from_value(v: Option<&'r Value>) -> std::result::Result<Self, &'static str> {
        v.ok_or("&Value")
    }
}

impl<'r, T: FromValue<'r>> FromValue<'r> for Option<T> {
    fn from_value(v: Option<&'r Value>) -> std::result::Result<Self, &'static str> {
        match v {
            None => Ok(None),
            Some(_) => T::from_value(v).map(Some),
        }
    }
}

impl fmt::Display for Rows {
    /// A plain tab-separated rendering (the command line has proper tables).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.columns.join("\t"))?;
        for r in &self.rows {
            let cells: Vec<String> = r
                .iter()
                .map(|v| v.as_ref().map_or(String::new(), Value::to_string))
                .collect();
            writeln!(f, "{}", cells.join("\t"))?;
        }
        Ok(())
    }
}
