//! Templates (`"actor:{actor1|slug}"`) and the conversion of rendered cells to values.

use crate::io::literal::LiteralNotes;
use crate::model::{Date, Kind, Value};

/// A transformation applied to a cell inside a template: `{name|slug}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Filter {
    /// Lower case, every run of characters other than letters and digits → `_`, trimmed
    /// of `_`: `"Libyan National Army (LNA)"` → `libyan_national_army_lna`.  Makes names
    /// that need no angle brackets.
    Slug,
    Lower,
    Upper,
}

impl Filter {
    fn parse(name: &str) -> Option<Filter> {
        Some(match name {
            "slug" => Filter::Slug,
            "lower" => Filter::Lower,
            "upper" => Filter::Upper,
            _ => return None,
        })
    }

    fn apply(self, cell: &str, out: &mut String) {
        match self {
            Filter::Lower => out.push_str(&cell.to_lowercase()),
            Filter::Upper => out.push_str(&cell.to_uppercase()),
            Filter::Slug => {
                let start = out.len();
                let mut gap = false;
                for c in cell.chars() {
                    if c.is_alphanumeric() {
                        if gap && out.len() > start {
                            out.push('_');
                        }
                        gap = false;
                        out.extend(c.to_lowercase());
                    } else {
                        gap = true;
                    }
                }
            }
        }
    }
}

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part<C> {
    Text(String),
    /// A column (by name before resolution, by index after) and its filters.
    Cell(C, Vec<Filter>),
}

/// A parsed template; `C` is the column reference: a name, or an index once resolved
/// against the file's header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template<C> {
    pub parts: Vec<Part<C>>,
}

impl Template<String> {
    /// `text {column|filter|...} text`, with `{{` and `}}` for literal braces.
    pub(crate) fn parse(text: &str) -> Result<Template<String>, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '}' => {
                    return Err(format!(
                        "unmatched '}}' in \"{text}\" (write '}}}}' for a brace)"
                    ))
                }
                '{' => {
                    let mut inner = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => inner.push(c),
                            None => return Err(format!("unclosed '{{' in \"{text}\"")),
                        }
                    }
                    let mut pieces = inner.split('|').map(str::trim);
                    let column = pieces.next().unwrap_or("").to_string();
                    if column.is_empty() {
                        return Err(format!("empty column name in \"{text}\""));
                    }
                    let filters = pieces
                        .map(|f| {
                            Filter::parse(f)
                                .ok_or_else(|| format!("unknown filter '{f}' (slug, lower, upper)"))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    if !lit.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Cell(column, filters));
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(Template { parts })
    }

    /// Replace column names by indices.  A name not in `header` that is a number is a
    /// 1-based position (for files without a header).
    pub(crate) fn resolve(&self, header: &[String]) -> Result<Template<usize>, String> {
        let parts = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Text(t) => Ok(Part::Text(t.clone())),
                Part::Cell(name, f) => column_index(name, header).map(|i| Part::Cell(i, f.clone())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Template { parts })
    }
}

fn column_index(name: &str, header: &[String]) -> Result<usize, String> {
    if let Some(i) = header.iter().position(|h| h == name) {
        return Ok(i);
    }
    match name.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n - 1),
        _ if header.is_empty() => Err(format!("column '{name}': the file has no header, so refer to columns by number ({{1}}, {{2}}, ...) or list them in `columns`")),
        _ => Err(format!("column '{name}' is not in the header ({})", header.join(", "))),
    }
}

impl Template<usize> {
    /// The columns this template reads.
    pub(crate) fn columns(&self) -> impl Iterator<Item = usize> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Cell(i, _) => Some(*i),
            Part::Text(_) => None,
        })
    }

    /// Render with `cell(i)` giving the text of column `i`.
    pub(crate) fn render<'c>(&self, cell: impl Fn(usize) -> &'c str) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Cell(i, filters) => {
                    let mut text = cell(*i).to_string();
                    for f in filters {
                        let mut next = String::with_capacity(text.len());
                        f.apply(&text, &mut next);
                        text = next;
                    }
                    out.push_str(&text);
                }
            }
        }
        out
    }
}

/// How dates are written in a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum DateFormat {
    /// `2020`, `2020-09`, `2020-09-28`, or a date-time (`2020-09-28T10:00:00Z`, kept as
    /// its day).
    #[default]
    Iso,
    /// `20200928` (GDELT's SQLDATE).
    Ymd,
    /// Day, month, year: `28/09/2020`, `28.09.2020`, `28 September 2020`, `28-Sep-2020`.
    Dmy,
    /// Month, day, year: `09/28/2020`, `September 28, 2020`.
    Mdy,
}

impl DateFormat {
    pub(crate) fn parse(name: &str) -> Option<DateFormat> {
        Some(match name {
            "iso" => DateFormat::Iso,
            "ymd" | "yyyymmdd" => DateFormat::Ymd,
            "dmy" => DateFormat::Dmy,
            "mdy" => DateFormat::Mdy,
            _ => return None,
        })
    }
}

/// Convert a rendered cell to a value of `kind`; the error says why it is not one.
pub(crate) fn convert(
    text: String,
    kind: Kind,
    dates: DateFormat,
    notes: &mut LiteralNotes,
) -> Result<Value, String> {
    let t = text.trim();
    match kind {
        Kind::Str => Ok(Value::Str(text)),
        Kind::Entity if t.is_empty() => Err("an entity name cannot be empty".into()),
        Kind::Entity => Ok(Value::Entity(if t.len() == text.len() {
            text
        } else {
            t.to_string()
        })),
        Kind::Int => t
            .parse::<i64>()
            .map(Value::Int)
            .map_err(|_| format!("'{t}' is not an integer")),
        Kind::Float => match t.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Value::Float(x)),
            _ => Err(format!("'{t}' is not a number")),
        },
        Kind::Bool => match t.to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Ok(Value::Bool(true)),
            "false" | "no" | "n" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!("'{t}' is not a boolean (true/false, yes/no, 1/0)")),
        },
        Kind::Date => parse_date(t, dates, notes).map(Value::Date),
    }
}

fn parse_date(t: &str, format: DateFormat, notes: &mut LiteralNotes) -> Result<Date, String> {
    let bad = || {
        format!(
            "'{t}' is not a date ({})",
            match format {
                DateFormat::Iso => "YYYY, YYYY-MM or YYYY-MM-DD",
                DateFormat::Ymd => "YYYYMMDD",
                DateFormat::Dmy => "day month year",
                DateFormat::Mdy => "month day year",
            }
        )
    };
    match format {
        DateFormat::Iso => {
            // A date-time: keep the day, as RDF import does.
            if let Some(day) = t
                .get(..10)
                .filter(|_| matches!(t.as_bytes().get(10), Some(b'T' | b't' | b' ')))
            {
                let d = Date::parse(day)?;
                notes.times_dropped += 1;
                return Ok(d);
            }
            Date::parse(t)
        }
        DateFormat::Ymd => {
            let digits: String = t
                .chars()
                .filter(|c| !matches!(c, '-' | '/' | '.'))
                .collect();
            if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let n = |r: std::ops::Range<usize>| digits[r].parse::<u32>().unwrap_or(0);
            Date::day(n(0..4) as i32, n(4..6), n(6..8)).map_err(|e| format!("'{t}': {e}"))
        }
        DateFormat::Dmy | DateFormat::Mdy => {
            let words: Vec<&str> = t
                .split(['/', '.', '-', ' ', ','])
                .filter(|w| !w.is_empty())
                .collect();
            let [a, b, y] = words.as_slice() else {
                return Err(bad());
            };
            let (d, m) = if format == DateFormat::Dmy {
                (a, b)
            } else {
                (b, a)
            };
            let day = d.parse::<u32>().map_err(|_| bad())?;
            let month = month_number(m).ok_or_else(bad)?;
            if y.len() != 4 || !y.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let year = y.parse::<i32>().map_err(|_| bad())?;
            Date::day(year, month, day).map_err(|e| format!("'{t}': {e}"))
        }
    }
}

/// `9`, `09`, `Sep`, `September` → 9.
fn month_number(m: &str) -> Option<u32> {
    if let Ok(n) = m.parse::<u32>() {
        return (1..=12).contains(&n).then_some(n);
    }
    const NAMES: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let m = m.to_lowercase();
    if m.len() < 3 {
        return None;
    }
    NAMES
        .iter()
        .position(|n| n.starts_with(&m))
        .map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        let t = Template::parse("actor:{actor1|slug} {{x}}").unwrap();
        assert_eq!(t.parts.len(), 3);
        let r = t.resolve(&["id".into(), "actor1".into()]).unwrap();
        assert_eq!(
            r.render(|i| ["7", "Libyan National Army (LNA)"][i]),
            "actor:libyan_national_army_lna {x}"
        );
        assert_eq!(
            Template::parse("{2|upper}")
                .unwrap()
                .resolve(&[])
                .unwrap()
                .render(|_| "lna"),
            "LNA"
        );
        assert!(Template::parse("{a").is_err());
        assert!(Template::parse("a}").is_err());
        assert!(Template::parse("{a|shout}").is_err());
        assert!(Template::parse("{x}")
            .unwrap()
            .resolve(&["a".into()])
            .is_err());
    }

    #[test]
    fn conversions() {
        let mut n = LiteralNotes::default();
        let mut c = |t: &str, k, f| convert(t.to_string(), k, f, &mut n);
        assert_eq!(c(" 12 ", Kind::Int, DateFormat::Iso), Ok(Value::Int(12)));
        assert!(c("12x", Kind::Int, DateFormat::Iso).is_err());
        assert_eq!(
            c("0.5", Kind::Float, DateFormat::Iso),
            Ok(Value::Float(0.5))
        );
        assert_eq!(c("Yes", Kind::Bool, DateFormat::Iso), Ok(Value::Bool(true)));
        assert_eq!(
            c(" lna ", Kind::Entity, DateFormat::Iso),
            Ok(Value::entity("lna"))
        );
        let d = |s| Ok(Value::Date(Date::parse(s).unwrap()));
        assert_eq!(c("2019-04", Kind::Date, DateFormat::Iso), d("2019-04"));
        assert_eq!(
            c("2020-09-28T10:00:00Z", Kind::Date, DateFormat::Iso),
            d("2020-09-28")
        );
        assert_eq!(c("20200928", Kind::Date, DateFormat::Ymd), d("2020-09-28"));
        assert_eq!(
            c("28 September 2020", Kind::Date, DateFormat::Dmy),
            d("2020-09-28")
        );
        assert_eq!(
            c("28/09/2020", Kind::Date, DateFormat::Dmy),
            d("2020-09-28")
        );
        assert_eq!(
            c("Sep 28, 2020", Kind::Date, DateFormat::Mdy),
            d("2020-09-28")
        );
        assert!(c("31 June 2020", Kind::Date, DateFormat::Dmy).is_err());
        assert!(c("2020-9-28", Kind::Date, DateFormat::Iso).is_err());
        assert_eq!(n.times_dropped, 1);
    }
}
