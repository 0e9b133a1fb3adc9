//! RDF literals ↔ dossier values.
//!
//! The model has fewer literal kinds than XML Schema, and no language tags.  Each literal
//! becomes the closest value; when that loses something (a time of day, a language tag,
//! an integer too large for 64 bits) the literal is still imported and the loss is
//! counted in [`LiteralNotes`], so a user sees what happened instead of a silent change.

use crate::model::{Date, Precision, Value};

/// The XML Schema namespace; datatypes are matched by their local name after it.
pub(crate) const XSD: &str = "http://www.w3.org/2001/XMLSchema#";

/// The datatype of plain string literals.
pub(crate) const XSD_STRING: &str = "http://www.w3.org/2001/XMLSchema#string";

/// Counts of literals that could not be kept exactly as written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LiteralNotes {
    /// Language-tagged strings imported as plain strings (the model has no language tags).
    pub language_tags_dropped: u64,
    /// `xsd:dateTime` values imported as their day.
    pub times_dropped: u64,
    /// Dates and times whose time zone was dropped (the day is kept as written).
    pub timezones_dropped: u64,
    /// Integers outside the 64-bit range, imported as strings of their digits.
    pub integers_out_of_range: u64,
    /// Dates outside the years 0000..9999, imported as strings.
    pub dates_out_of_range: u64,
    /// Typed literals whose text is not valid for their type (`"abc"^^xsd:integer`),
    /// imported as strings.
    pub invalid_literals: u64,
    /// Literals of datatypes the model has no kind for (`xsd:anyURI`, `xsd:time`, custom
    /// types), imported as strings of their text.
    pub other_datatypes: u64,
}

impl LiteralNotes {
    /// The non-zero counters with a description, for printing.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, u64)> {
        [
            (
                "language tags dropped (the model has no language tags)",
                self.language_tags_dropped,
            ),
            (
                "times of day dropped (xsd:dateTime kept as its day)",
                self.times_dropped,
            ),
            ("time zones dropped", self.timezones_dropped),
            (
                "integers outside 64 bits kept as strings",
                self.integers_out_of_range,
            ),
            (
                "dates outside 0000..9999 kept as strings",
                self.dates_out_of_range,
            ),
            (
                "invalid typed literals kept as strings",
                self.invalid_literals,
            ),
            (
                "literals of other datatypes kept as strings",
                self.other_datatypes,
            ),
        ]
        .into_iter()
        .filter(|(_, n)| *n > 0)
    }

    /// Whether every literal was kept exactly as written (all counters zero).
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// Add another import's counts (a caller summing several files).
    pub fn add(&mut self, o: &LiteralNotes) {
        self.language_tags_dropped += o.language_tags_dropped;
        self.times_dropped += o.times_dropped;
        self.timezones_dropped += o.timezones_dropped;
        self.integers_out_of_range += o.integers_out_of_range;
        self.dates_out_of_range += o.dates_out_of_range;
        self.invalid_literals += o.invalid_literals;
        self.other_datatypes += o.other_datatypes;
    }
}

/// The value of an RDF literal.  `lexical` is taken by value so that a plain string (the
/// common case) becomes a [`Value::Str`] without copying.  An error (what is wrong) for a
/// number that is not finite (`"NaN"^^xsd:double`, `"INF"`, `1e400`): floats are finite,
/// so the record is bad, not bent into a string.
pub(crate) fn value_of_literal(
    lexical: String,
    datatype: &str,
    language: bool,
    notes: &mut LiteralNotes,
) -> Result<Value, String> {
    if language {
        notes.language_tags_dropped += 1;
        return Ok(Value::Str(lexical));
    }
    let Some(local) = datatype.strip_prefix(XSD) else {
        notes.other_datatypes += 1;
        return Ok(Value::Str(lexical));
    };
    let parsed = match local {
        "string" => return Ok(Value::Str(lexical)),
        "boolean" => parse_bool(&lexical).map(Value::Bool),
        "decimal" => parse_decimal(&lexical).map(Value::Float),
        "double" | "float" => parse_double(&lexical).map(Value::Float),
        "date" | "gYearMonth" | "gYear" | "dateTime" | "dateTimeStamp" => {
            match parse_date_like(&lexical, local) {
                Ok((date, time, tz)) => {
                    notes.times_dropped += time as u64;
                    notes.timezones_dropped += tz as u64;
                    Ok(Value::Date(date))
                }
                Err(e) => Err(e),
            }
        }
        _ => match integer_bounds(local) {
            Some((min, max)) => parse_integer(&lexical, min, max).map(Value::Int),
            None => {
                notes.other_datatypes += 1;
                return Ok(Value::Str(lexical));
            }
        },
    };
    Ok(match parsed {
        Ok(v) => v,
        Err(Bad::NotFinite) => {
            return Err(format!(
                "\"{lexical}\"^^xsd:{local} is not a finite number (floats must be finite: \
                 NaN and infinities cannot be stored)"
            ))
        }
        Err(Bad::OutOfRange) if is_integer_type(local) => {
            notes.integers_out_of_range += 1;
            Value::Str(lexical)
        }
        Err(Bad::OutOfRange) => {
            notes.dates_out_of_range += 1;
            Value::Str(lexical)
        }
        Err(Bad::Invalid) => {
            notes.invalid_literals += 1;
            Value::Str(lexical)
        }
    })
}

/// Why a lexical form was not turned into a typed value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bad {
    /// Not valid for the datatype at all.
    Invalid,
    /// Valid, but the model cannot hold it (a 30-digit integer, the year 12000).
    OutOfRange,
    /// A number that is not finite (NaN, an infinity, or beyond the largest float).
    NotFinite,
}

fn is_integer_type(local: &str) -> bool {
    integer_bounds(local).is_some()
}

/// The value space of each XML Schema integer type, as `i128` bounds.
fn integer_bounds(local: &str) -> Option<(i128, i128)> {
    Some(match local {
        "integer" => (i128::MIN, i128::MAX),
        "long" => (i64::MIN as i128, i64::MAX as i128),
        "int" => (i32::MIN as i128, i32::MAX as i128),
        "short" => (i16::MIN as i128, i16::MAX as i128),
        "byte" => (i8::MIN as i128, i8::MAX as i128),
        "nonNegativeInteger" => (0, i128::MAX),
        "positiveInteger" => (1, i128::MAX),
        "nonPositiveInteger" => (i128::MIN, 0),
        "negativeInteger" => (i128::MIN, -1),
        "unsignedLong" => (0, u64::MAX as i128),
        "unsignedInt" => (0, u32::MAX as i128),
        "unsignedShort" => (0, u16::MAX as i128),
        "unsignedByte" => (0, u8::MAX as i128),
        _ => return None,
    })
}

/// XML Schema's whitespace "collapse" for these types: leading and trailing blanks do
/// not count.
fn trim(s: &str) -> &str {
    s.trim_matches(|c| matches!(c, ' ' | '\t' | '\n' | '\r'))
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// `[+-]?[0-9]+` within `[min, max]`; valid integers outside i64 are `OutOfRange`.
pub(crate) fn parse_integer(s: &str, min: i128, max: i128) -> Result<i64, Bad> {
    let s = trim(s);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if !all_digits(digits) {
        return Err(Bad::Invalid);
    }
    match s.parse::<i128>() {
        Ok(v) if v < min || v > max => Err(Bad::Invalid),
        Ok(v) => i64::try_from(v).map_err(|_| Bad::OutOfRange),
        // More digits than i128 holds: only plain `integer` and the unbounded-on-one-side
        // types can be that large, and then the sign decides.
        Err(_) => {
            let negative = s.starts_with('-');
            if (negative && min > i64::MIN as i128) || (!negative && max < i128::MAX) {
                Err(Bad::Invalid)
            } else {
                Err(Bad::OutOfRange)
            }
        }
    }
}

fn parse_bool(s: &str) -> Result<bool, Bad> {
    match trim(s) {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(Bad::Invalid),
    }
}

/// `[+-]?(digits(.digits?)? | .digits)`: the mantissa of decimals and doubles.
fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    match s.split_once('.') {
        None => all_digits(s),
        Some((a, b)) => {
            (a.is_empty() || all_digits(a))
                && (b.is_empty() || all_digits(b))
                && !(a.is_empty() && b.is_empty())
        }
    }
}

fn parse_decimal(s: &str) -> Result<f64, Bad> {
    let s = trim(s);
    if !is_decimal(s) {
        return Err(Bad::Invalid);
    }
    finite(s.parse::<f64>().map_err(|_| Bad::Invalid)?)
}

fn finite(x: f64) -> Result<f64, Bad> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(Bad::NotFinite)
    }
}

fn parse_double(s: &str) -> Result<f64, Bad> {
    let s = trim(s);
    if matches!(s, "INF" | "+INF" | "-INF" | "NaN") {
        return Err(Bad::NotFinite);
    }
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let exponent_ok = exponent.is_none_or(|e| all_digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !is_decimal(mantissa) || !exponent_ok {
        return Err(Bad::Invalid);
    }
    finite(s.parse::<f64>().map_err(|_| Bad::Invalid)?)
}

/// `xsd:date`, `xsd:gYearMonth`, `xsd:gYear`, `xsd:dateTime`: the date at the type's
/// precision, whether a time of day was dropped, whether a time zone was dropped.
pub(crate) fn parse_date_like(s: &str, local: &str) -> Result<(Date, bool, bool), Bad> {
    let s = trim(s);
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    // Year: at least four digits, no leading zero beyond four.
    let year_len = s.bytes().take_while(u8::is_ascii_digit).count();
    if year_len < 4 || (year_len > 4 && s.starts_with('0')) {
        return Err(Bad::Invalid);
    }
    let (year_text, mut rest) = s.split_at(year_len);
    let mut month = None;
    let mut day = None;
    let mut time = false;
    let wants_month = matches!(local, "gYearMonth" | "date" | "dateTime" | "dateTimeStamp");
    let wants_day = matches!(local, "date" | "dateTime" | "dateTimeStamp");
    if wants_month {
        let (m, r) = two_digits_after(rest, '-')?;
        month = Some(m);
        rest = r;
    }
    if wants_day {
        let (d, r) = two_digits_after(rest, '-')?;
        day = Some(d);
        rest = r;
    }
    let mut next_day = false;
    if matches!(local, "dateTime" | "dateTimeStamp") {
        let (h, r) = two_digits_after(rest, 'T')?;
        let (mi, r) = two_digits_after(r, ':')?;
        let (sec, mut r) = two_digits_after(r, ':')?;
        let mut fraction_zero = true;
        if let Some(f) = r.strip_prefix('.') {
            let n = f.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 {
                return Err(Bad::Invalid);
            }
            fraction_zero = f[..n].bytes().all(|b| b == b'0');
            r = &f[n..];
        }
        if mi > 59 || sec > 59 || h > 24 || (h == 24 && (mi != 0 || sec != 0 || !fraction_zero)) {
            return Err(Bad::Invalid);
        }
        // 24:00:00 is the first instant of the next day.
        next_day = h == 24;
        time = true;
        rest = r;
    }
    let tz = parse_timezone(rest)?;
    if local == "dateTimeStamp" && !tz {
        return Err(Bad::Invalid);
    }
    if negative || year_len > 4 {
        return Err(Bad::OutOfRange);
    }
    let year: i32 = year_text.parse().map_err(|_| Bad::Invalid)?;
    let date = match (month, day) {
        (None, _) => Date::year(year),
        (Some(m), None) => Date::month(year, m),
        (Some(m), Some(d)) => Date::day(year, m, d),
    }
    .map_err(|_| Bad::Invalid)?;
    let date = if next_day {
        Date::from_day_number(date.start_day() + 1).map_err(|_| Bad::OutOfRange)?
    } else {
        date
    };
    Ok((date, time, tz))
}

/// `SEP` followed by exactly two digits.
fn two_digits_after(s: &str, sep: char) -> Result<(u32, &str), Bad> {
    let r = s.strip_prefix(sep).ok_or(Bad::Invalid)?;
    let b = r.as_bytes();
    if b.len() < 2 || !b[0].is_ascii_digit() || !b[1].is_ascii_digit() {
        return Err(Bad::Invalid);
    }
    Ok((((b[0] - b'0') * 10 + (b[1] - b'0')) as u32, &r[2..]))
}

/// An optional time zone (`Z`, `+hh:mm`, `-hh:mm`) that must end the text; true if present.
fn parse_timezone(s: &str) -> Result<bool, Bad> {
    if s.is_empty() {
        return Ok(false);
    }
    if s == "Z" {
        return Ok(true);
    }
    let r = s.strip_prefix(['+', '-']).ok_or(Bad::Invalid)?;
    let b = r.as_bytes();
    let ok =
        b.len() == 5 && b[2] == b':' && [b[0], b[1], b[3], b[4]].iter().all(u8::is_ascii_digit);
    if !ok {
        return Err(Bad::Invalid);
    }
    let h = (b[0] - b'0') * 10 + (b[1] - b'0');
    let m = (b[3] - b'0') * 10 + (b[4] - b'0');
    if m > 59 || h > 14 || (h == 14 && m != 0) {
        return Err(Bad::Invalid);
    }
    Ok(true)
}

/// The lexical form and XML Schema datatype (local name) of a literal value, for export.
/// `None` for entities, which are not literals.
pub(crate) fn literal_of_value(v: &Value) -> Option<(String, Option<&'static str>)> {
    Some(match v {
        Value::Entity(_) => return None,
        Value::Str(s) => (s.clone(), None),
        Value::Int(i) => (i.to_string(), Some("integer")),
        Value::Float(x) => (double_text(*x), Some("double")),
        Value::Bool(b) => (b.to_string(), Some("boolean")),
        Value::Date(d) => (
            d.iso(),
            Some(match d.precision() {
                Precision::Day => "date",
                Precision::Month => "gYearMonth",
                Precision::Year => "gYear",
            }),
        ),
    })
}

/// An `xsd:double` lexical form that reads back as the same float (floats are finite;
/// one stored before that rule gets XML Schema's `NaN` / `INF`, which imports refuse).
fn double_text(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "INF" } else { "-INF" }.into()
    } else {
        // Rust's Debug is the shortest text that round-trips, and is valid xsd:double.
        format!("{x:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lit(s: &str, dt: &str) -> (Value, LiteralNotes) {
        let mut n = LiteralNotes::default();
        let v = value_of_literal(s.to_string(), &format!("{XSD}{dt}"), false, &mut n)
            .unwrap_or_else(|e| Value::string(format!("error: {e}")));
        (v, n)
    }

    #[test]
    fn numbers() {
        assert_eq!(lit("42", "integer").0, Value::Int(42));
        assert_eq!(lit(" -7 ", "int").0, Value::Int(-7));
        assert_eq!(lit("+5", "long").0, Value::Int(5));
        let (v, n) = lit("123456789012345678901234567890", "integer");
        assert_eq!(v, Value::string("123456789012345678901234567890"));
        assert_eq!(n.integers_out_of_range, 1);
        let (v, n) = lit("18446744073709551615", "unsignedLong");
        assert_eq!(v.kind(), crate::model::Kind::Str);
        assert_eq!(n.integers_out_of_range, 1);
        let (v, n) = lit("abc", "integer");
        assert_eq!(v, Value::string("abc"));
        assert_eq!(n.invalid_literals, 1);
        assert_eq!(lit("-1", "nonNegativeInteger").1.invalid_literals, 1);
        assert_eq!(lit("300", "byte").1.invalid_literals, 1);
        assert_eq!(lit("1.5", "decimal").0, Value::Float(1.5));
        assert_eq!(lit(".5", "decimal").0, Value::Float(0.5));
        assert_eq!(lit("1e3", "decimal").1.invalid_literals, 1);
        assert_eq!(lit("1.5E3", "double").0, Value::Float(1500.0));
        assert_eq!(lit("inf", "double").1.invalid_literals, 1);
        assert_eq!(lit("true", "boolean").0, Value::Bool(true));
        assert_eq!(lit("0", "boolean").0, Value::Bool(false));
        assert_eq!(lit("yes", "boolean").1.invalid_literals, 1);
    }

    #[test]
    fn dates_keep_their_precision() {
        let d = |s| Date::parse(s).unwrap();
        assert_eq!(lit("2020-09-28", "date").0, Value::Date(d("2020-09-28")));
        assert_eq!(lit("2019-04", "gYearMonth").0, Value::Date(d("2019-04")));
        assert_eq!(lit("1991", "gYear").0, Value::Date(d("1991")));
        let (v, n) = lit("2020-09-28Z", "date");
        assert_eq!((v, n.timezones_dropped), (Value::Date(d("2020-09-28")), 1));
        let (v, n) = lit("2020-09-28T13:45:00.5+02:00", "dateTime");
        assert_eq!(v, Value::Date(d("2020-09-28")));
        assert_eq!((n.times_dropped, n.timezones_dropped), (1, 1));
        assert_eq!(
            lit("2020-12-31T24:00:00", "dateTime").0,
            Value::Date(d("2021-01-01"))
        );
        assert_eq!(lit("2019-02-29", "date").1.invalid_literals, 1);
        assert_eq!(lit("2020-9-28", "date").1.invalid_literals, 1);
        assert_eq!(lit("2020-09-28+15:00", "date").1.invalid_literals, 1);
        assert_eq!(lit("-0044-03-15", "date").1.dates_out_of_range, 1);
        assert_eq!(lit("12020-01-01", "date").1.dates_out_of_range, 1);
        assert_eq!(
            lit("2020-01-01T10:00:00", "dateTimeStamp")
                .1
                .invalid_literals,
            1
        );
    }

    #[test]
    fn strings_tags_and_other_types() {
        let mut n = LiteralNotes::default();
        let v = value_of_literal(
            "Libye".into(),
            "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString",
            true,
            &mut n,
        )
        .unwrap();
        assert_eq!((v, n.language_tags_dropped), (Value::string("Libye"), 1));
        let (v, n) = lit("http://x.org/", "anyURI");
        assert_eq!((v, n.other_datatypes), (Value::string("http://x.org/"), 1));
        assert_eq!(lit("x", "string").0, Value::string("x"));
        assert!(lit("x", "string").1.is_empty());
    }

    #[test]
    fn values_back_to_literals() {
        let back = |v: Value| {
            let (text, dt) = literal_of_value(&v).unwrap();
            let mut n = LiteralNotes::default();
            let dt = dt.map_or(format!("{XSD}string"), |d| format!("{XSD}{d}"));
            value_of_literal(text, &dt, false, &mut n).unwrap()
        };
        for v in [
            Value::Int(-3),
            Value::Int(i64::MIN),
            Value::Float(0.1),
            Value::Float(1e300),
            Value::Float(-0.0),
            Value::Float(5e-324),
            Value::Float(f64::MAX),
            Value::Bool(false),
            Value::string("x \"y\""),
            Value::Date(Date::parse("2020").unwrap()),
            Value::Date(Date::parse("2020-02").unwrap()),
            Value::Date(Date::parse("2020-02-29").unwrap()),
        ] {
            assert_eq!(back(v.clone()), v);
        }
        assert!(literal_of_value(&Value::entity("x")).is_none());
    }

    #[test]
    fn numbers_that_are_not_finite_are_refused() {
        // They were stored as NaN and infinities, then left out of `.dq` exports.
        for (text, dt) in [
            ("NaN", "double"),
            ("INF", "double"),
            ("-INF", "float"),
            ("1e400", "double"),
            (&*format!("1{}.0", "0".repeat(400)), "decimal"),
        ] {
            let mut n = LiteralNotes::default();
            let r = value_of_literal(text.to_string(), &format!("{XSD}{dt}"), false, &mut n);
            let e = r.unwrap_err();
            assert!(e.contains("not a finite number"), "{text}: {e}");
        }
    }
}
