//! The mapping file: TOML saying how a table's rows become facts (format in
//! [`crate::io::table`]).

use super::template::{DateFormat, Template};
use crate::diag::{Diagnostic, Report, Span};
use crate::error::{Error, Result};
use crate::model::Kind;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;

/// How the rows of a CSV/TSV file become facts: parsed from a mapping file with
/// [`Mapping::load`] or [`Mapping::parse`].
#[derive(Debug, Clone)]
pub struct Mapping {
    pub(crate) delimiter: Option<u8>,
    pub(crate) header: bool,
    pub(crate) columns: Option<Vec<String>>,
    pub(crate) source: Option<Located<Template<String>>>,
    pub(crate) facts: Vec<FactRule>,
}

/// Something from the mapping file, with where it was written (for errors found later,
/// such as a column missing from the data file's header).
#[derive(Debug, Clone)]
pub(crate) struct Located<T> {
    pub value: T,
    pub at: Report,
}

impl<T> Located<T> {
    /// A report at this place, with `message`.
    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        let mut r = self.at.clone();
        r.message = message.into();
        Error::Import(Box::new(r))
    }
}

/// One `[[fact]]`: the fact each row yields (or several, with `split`).
#[derive(Debug, Clone)]
pub(crate) struct FactRule {
    pub subject: Located<Template<String>>,
    pub predicate: Located<Template<String>>,
    pub value: Located<Template<String>>,
    pub kind: Kind,
    pub map: Option<BTreeMap<String, String>>,
    pub split: Option<String>,
    pub skip_empty: bool,
    pub source: Option<Located<Template<String>>>,
    pub dates: DateFormat,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTable {
    delimiter: Option<Spanned<String>>,
    header: Option<bool>,
    columns: Option<Vec<String>>,
    subject: Option<Spanned<String>>,
    source: Option<Spanned<String>>,
    skip_empty: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFact {
    subject: Option<Spanned<String>>,
    predicate: Spanned<String>,
    value: Option<Spanned<String>>,
    column: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    map: Option<BTreeMap<String, String>>,
    split: Option<String>,
    skip_empty: Option<bool>,
    source: Option<Spanned<String>>,
    date_format: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMapping {
    #[serde(default)]
    table: RawTable,
    #[serde(default)]
    fact: Vec<RawFact>,
}

impl Mapping {
    /// Read a mapping file.
    pub fn load(path: &Path) -> Result<Mapping> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Mapping::parse(&text, Some(&path.display().to_string()))
    }

    /// Parse mapping text; `file` names it in error reports.
    pub fn parse(text: &str, file: Option<&str>) -> Result<Mapping> {
        let p = Parser { text, file };
        let raw: RawMapping = toml::from_str(text).map_err(|e| {
            let span = e.span().map_or(Span::at(0), |r| Span::new(r.start, r.end));
            p.error_at(span, format!("mapping file: {}", e.message()))
        })?;
        let t = raw.table;
        let delimiter = match &t.delimiter {
            None => None,
            Some(d) => Some(match d.get_ref().as_str() {
                "tab" | "\t" => b'\t',
                s if s.len() == 1 && s.is_ascii() => s.as_bytes()[0],
                s => {
                    return Err(p.error_at(
                        span(d),
                        format!("delimiter '{s}' must be one ASCII character or \"tab\""),
                    ))
                }
            }),
        };
        let subject = t.subject.as_ref().map(|s| p.template(s)).transpose()?;
        let source = t.source.as_ref().map(|s| p.template(s)).transpose()?;
        if raw.fact.is_empty() {
            return Err(p.error_at(
                Span::at(text.len()),
                "mapping file: no [[fact]] entries, so no row would yield a fact",
            ));
        }
        let mut facts = Vec::with_capacity(raw.fact.len());
        for f in &raw.fact {
            let value = match (&f.value, &f.column) {
                (Some(v), None) => p.template(v)?,
                (None, Some(c)) => {
                    // `column = "x"` is `value = "{x}"`.
                    let escaped = c.get_ref().replace('{', "{{").replace('}', "}}");
                    let mut l = p.template(c)?;
                    l.value = Template::parse(&format!("{{{escaped}}}")).map_err(|m| l.error(m))?;
                    l
                }
                _ => {
                    return Err(p.error_at(
                        span(&f.predicate),
                        "each [[fact]] needs exactly one of `value` (a template) or `column`",
                    ))
                }
            };
            let subject = match (&f.subject, &subject) {
                (Some(s), _) => p.template(s)?,
                (None, Some(s)) => s.clone(),
                (None, None) => return Err(p.error_at(
                    span(&f.predicate),
                    "no subject: give [table] a `subject` template or this [[fact]] a `subject`",
                )),
            };
            let kind = match &f.kind {
                None => Kind::Str,
                Some(k) => match k.get_ref().as_str() {
                    "string" | "str" => Kind::Str,
                    "int" | "integer" => Kind::Int,
                    "float" | "number" => Kind::Float,
                    "bool" | "boolean" => Kind::Bool,
                    "date" => Kind::Date,
                    "entity" => Kind::Entity,
                    other => {
                        return Err(p.error_at(
                            span(k),
                            format!(
                            "kind '{other}' is not one of string, int, float, bool, date, entity"
                        ),
                        ))
                    }
                },
            };
            let dates = match &f.date_format {
                None => DateFormat::default(),
                Some(d) => DateFormat::parse(d.get_ref()).ok_or_else(|| {
                    p.error_at(
                        span(d),
                        format!(
                            "date_format '{}' is not one of iso, ymd, dmy, mdy",
                            d.get_ref()
                        ),
                    )
                })?,
            };
            if f.split.as_deref() == Some("") {
                return Err(p.error_at(span(&f.predicate), "`split` must not be empty"));
            }
            facts.push(FactRule {
                subject,
                predicate: p.template(&f.predicate)?,
                value,
                kind,
                map: f.map.clone(),
                split: f.split.clone(),
                skip_empty: f.skip_empty.or(t.skip_empty).unwrap_or(true),
                source: f.source.as_ref().map(|s| p.template(s)).transpose()?,
                dates,
            });
        }
        Ok(Mapping {
            delimiter,
            header: t.header.unwrap_or(true),
            columns: t.columns,
            source,
            facts,
        })
    }
}

fn span<T>(s: &Spanned<T>) -> Span {
    let r = s.span();
    Span::new(r.start, r.end)
}

struct Parser<'a> {
    text: &'a str,
    file: Option<&'a str>,
}

impl Parser<'_> {
    fn report(&self, span: Span, message: impl Into<String>) -> Report {
        Diagnostic::error(message, span).report(self.file, self.text)
    }

    fn error_at(&self, span: Span, message: impl Into<String>) -> Error {
        Error::Import(Box::new(self.report(span, message)))
    }

    fn template(&self, s: &Spanned<String>) -> Result<Located<Template<String>>> {
        let value = Template::parse(s.get_ref()).map_err(|m| self.error_at(span(s), m))?;
        Ok(Located {
            value,
            at: self.report(span(s), ""),
        })
    }
}
