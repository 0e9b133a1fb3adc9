//! Values: what a fact's subject, predicate, object and source can be.

use super::date::{Date, DateRange};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// One value of the knowledge base.  Entities are named things (actors, venues, events,
/// predicates, types, sources); everything else is a literal.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Value {
    /// A named thing, by name (without angle brackets).
    Entity(String),
    /// A string literal.
    Str(String),
    /// An integer literal.
    Int(i64),
    /// A float: finite (NaN and infinities are refused wherever they would be stored;
    /// see [`Value::storable`]).
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// A date of year, month or day precision.
    Date(Date),
}

/// The literal kinds a predicate's range can declare (`pred date: Event -> date.`), plus
/// `Entity` for predicates whose objects are things.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Kind {
    /// `int`.
    Int,
    /// `float`; also accepts integers (see [`Kind::accepts`]).
    Float,
    /// `date`, of any precision.
    Date,
    /// `string`.
    Str,
    /// `bool`.
    Bool,
    /// A thing rather than a literal: the kind of [`Value::Entity`].  It has no name in
    /// declarations, which name a type instead (`pred backed_by: Actor -> Actor`).
    Entity,
}

impl Kind {
    /// The name used in schema declarations.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Int => "int",
            Kind::Float => "float",
            Kind::Date => "date",
            Kind::Str => "string",
            Kind::Bool => "bool",
            Kind::Entity => "entity",
        }
    }

    /// The literal kind named in a schema declaration, if `name` is one.
    pub fn from_name(name: &str) -> Option<Kind> {
        Some(match name {
            "int" => Kind::Int,
            "float" => Kind::Float,
            "date" => Kind::Date,
            "string" => Kind::Str,
            "bool" => Kind::Bool,
            _ => return None,
        })
    }

    /// Whether a value of kind `actual` may stand where `self` is declared.  Integers are
    /// accepted where floats are declared: `0` is a fine score.
    pub fn accepts(self, actual: Kind) -> bool {
        self == actual || (self == Kind::Float && actual == Kind::Int)
    }
}

/// Reserved words of the language: an entity with one of these names is printed in angle
/// brackets (`<a>`, `<limit>`).
pub const KEYWORDS: &[&str] = &[
    "a", "add", "del", "drop", "find", "where", "rule", "type", "sub", "pred", "from", "load",
    "describe", "search", "explain", "analyze", "check", "not", "or", "optional", "order", "by",
    "asc", "desc", "limit", "offset", "distinct", "as", "having", "in", "overlaps", "true",
    "false",
];

/// Whether `s` is a reserved word of the language ([`KEYWORDS`]).
pub fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// Whether `s` can be written as a bare name: `[A-Za-z_][A-Za-z0-9_]*` followed by any
/// number of `[:-]+[A-Za-z0-9_]+` groups (so a name never ends in `:` or `-`, which keeps
/// `pred p: A -> B` readable), and not a keyword nor the wildcard `_`.
pub fn is_bare_name(s: &str) -> bool {
    !s.is_empty() && bare_word_len(s) == s.len() && s != "_" && !is_keyword(s)
}

/// The length in bytes of the bare word `s` starts with (0 when none): the lexer's word
/// rule, kept here so that the printer and the parser cannot disagree on it.
pub fn bare_word_len(s: &str) -> usize {
    let b = s.as_bytes();
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    if b.is_empty() || !(b[0].is_ascii_alphabetic() || b[0] == b'_') {
        return 0;
    }
    let mut end = 1;
    while end < b.len() && word(b[end]) {
        end += 1;
    }
    loop {
        let mut i = end;
        while i < b.len() && (b[i] == b':' || b[i] == b'-') {
            i += 1;
        }
        if i == end || i == b.len() || !word(b[i]) {
            return end;
        }
        while i < b.len() && word(b[i]) {
            i += 1;
        }
        end = i;
    }
}

impl Value {
    /// An entity (a named thing), as opposed to the string literal that `Value::from(&str)`
    /// gives.
    pub fn entity(name: impl Into<String>) -> Value {
        Value::Entity(name.into())
    }

    /// A string literal.
    pub fn string(text: impl Into<String>) -> Value {
        Value::Str(text.into())
    }

    /// Whether the value can be stored: floats are finite (NaN and infinities have no
    /// literal, no order and no place in a backup), and an entity has a name.  The error
    /// says what is wrong.
    ///
    /// ```
    /// use dossier::Value;
    /// assert!(Value::Float(0.5).storable().is_ok());
    /// assert!(Value::Float(f64::NAN).storable().is_err());
    /// assert!(Value::entity("").storable().is_err());
    /// assert!(Value::string("").storable().is_ok()); // an empty string is a fine value
    /// ```
    pub fn storable(&self) -> Result<(), String> {
        match self {
            Value::Float(x) if !x.is_finite() => Err(format!(
                "the float {x} cannot be stored: floats must be finite"
            )),
            Value::Entity(e) if e.is_empty() => Err("an entity name cannot be empty".to_string()),
            _ => Ok(()),
        }
    }

    /// The value's kind: the declared range a schema would check it against.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Entity(_) => Kind::Entity,
            Value::Str(_) => Kind::Str,
            Value::Int(_) => Kind::Int,
            Value::Float(_) => Kind::Float,
            Value::Bool(_) => Kind::Bool,
            Value::Date(_) => Kind::Date,
        }
    }

    /// The entity's name, or `None` when the value is not an entity (a string is not).
    pub fn as_entity(&self) -> Option<&str> {
        match self {
            Value::Entity(e) => Some(e),
            _ => None,
        }
    }

    /// The string literal's text, or `None` when the value is not a string (an entity is not;
    /// see [`Value::text`] for either).
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a string or the name of an entity: what string functions look at.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Entity(s) => Some(s),
            _ => None,
        }
    }

    /// The number as a float (an integer converted), or `None` for other kinds.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// The interval a value denotes when compared with a date: a date's own, or an
    /// integer read as a year.
    pub fn as_date_range(&self) -> Option<DateRange> {
        match self {
            Value::Date(d) => Some(d.as_range()),
            Value::Int(y) => {
                let y = i32::try_from(*y).ok()?;
                Date::year(y).ok().map(|d| d.as_range())
            }
            _ => None,
        }
    }

    fn kind_rank(&self) -> u8 {
        // order by: numbers < dates < strings < booleans < entities
        match self {
            Value::Int(_) | Value::Float(_) => 0,
            Value::Date(_) => 1,
            Value::Str(_) => 2,
            Value::Bool(_) => 3,
            Value::Entity(_) => 4,
        }
    }

    /// The total order `order by` uses: numbers (integers and floats together) < dates
    /// (by start, coarser first) < strings < booleans < entities.  Values the language calls
    /// equal-but-distinct (`1` and `1.0`) are ordered int first so the order stays total.
    ///
    /// ```
    /// use dossier::Value;
    ///
    /// let mut column = vec![
    ///     Value::entity("z"),
    ///     Value::Bool(false),
    ///     Value::string("s"),
    ///     Value::Int(3),
    ///     Value::Float(0.5),
    /// ];
    /// column.sort_by(Value::total_cmp);
    /// assert_eq!(column[0], Value::Float(0.5));
    /// assert_eq!(column[4], Value::entity("z"));
    /// ```
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) => a.cmp(b),
            (Float(a), Float(b)) => a.total_cmp(b),
            (Int(a), Float(b)) => cmp_int_float(*a, *b).then(Ordering::Less),
            (Float(a), Int(b)) => cmp_int_float(*b, *a).reverse().then(Ordering::Greater),
            (Date(a), Date(b)) => a.cmp(b),
            (Str(a), Str(b)) | (Entity(a), Entity(b)) => a.cmp(b),
            (Bool(a), Bool(b)) => a.cmp(b),
            _ => self.kind_rank().cmp(&other.kind_rank()),
        }
    }

    /// `=` of the language: numbers numerically, dates by precision and interval, other
    /// kinds structurally; different kinds are never equal (an integer against a date is
    /// read as a year, and a year equals only a year-precision date).
    ///
    /// ```
    /// use dossier::{Date, Value};
    ///
    /// assert!(Value::Int(1).lang_eq(&Value::Float(1.0)));
    /// assert!(Value::Float(-0.0).lang_eq(&Value::Float(0.0)));
    /// assert!(!Value::Int(9007199254740993).lang_eq(&Value::Float(9007199254740992.0)));
    /// assert_ne!(Value::Int(1), Value::Float(1.0)); // `==` is identity, not the language's `=`
    /// assert!(!Value::entity("lna").lang_eq(&Value::string("lna")));
    /// let year = Value::Date(Date::parse("2020").unwrap());
    /// assert!(year.lang_eq(&Value::Int(2020)));
    /// assert!(!year.lang_eq(&Value::Date(Date::parse("2020-01").unwrap())));
    /// ```
    pub fn lang_eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a == b, // -0.0 = 0.0; NaN equals nothing
            (Int(i), Float(f)) | (Float(f), Int(i)) => {
                cmp_int_float_exact(*i, *f) == Some(Ordering::Equal)
            }
            (Date(a), Int(y)) | (Int(y), Date(a)) => {
                a.month_part().is_none() && a.year_part() as i64 == *y
            }
            (Date(a), Date(b)) => a == b,
            (Str(a), Str(b)) | (Entity(a), Entity(b)) => a == b,
            (Bool(a), Bool(b)) => a == b,
            _ => false,
        }
    }

    /// `<` `<=` `>` `>=` of the language.  `None` when the two cannot be compared (different
    /// kinds), which a filter treats as false.  Dates are not ordered here: they compare as
    /// intervals (one ends before the other starts; see [`Value::as_date_range`] and
    /// [`Date::before`]), so two dates give `None` too.
    ///
    /// ```
    /// use dossier::Value;
    /// use std::cmp::Ordering;
    ///
    /// assert_eq!(Value::Int(2).lang_cmp(&Value::Float(2.5)), Some(Ordering::Less));
    /// assert_eq!(Value::string("b").lang_cmp(&Value::string("a")), Some(Ordering::Greater));
    /// assert_eq!(Value::string("1").lang_cmp(&Value::Int(1)), None);
    /// ```
    pub fn lang_cmp(&self, other: &Value) -> Option<Ordering> {
        use Value::*;
        match (self, other) {
            (Int(a), Int(b)) => Some(a.cmp(b)),
            (Float(a), Float(b)) => a.partial_cmp(b),
            (Int(i), Float(f)) => cmp_int_float_exact(*i, *f),
            (Float(f), Int(i)) => cmp_int_float_exact(*i, *f).map(Ordering::reverse),
            (Str(a), Str(b)) | (Entity(a), Entity(b)) => Some(a.cmp(b)),
            (Bool(a), Bool(b)) => Some(a.cmp(b)),
            _ => None,
        }
    }
}

/// `i` against `f` exactly (`i64` values past 2^53 are not rounded to a float first, so
/// `9007199254740993 = 9007199254740992.0` is false); `None` when `f` is NaN.
fn cmp_int_float_exact(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    // Every i64 lies in [-2^63, 2^63); floats outside compare by their side.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if f >= TWO_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_63 {
        return Some(Ordering::Greater);
    }
    let whole = f.trunc();
    // In range, so the conversion is exact.
    Some((i as i128).cmp(&(whole as i128)).then_with(|| {
        let frac = f - whole;
        0.0f64.partial_cmp(&frac).unwrap_or(Ordering::Equal)
    }))
}

/// The order `order by` puts an integer and a float in: numerically, the integer first
/// when they are equal; NaN (never stored) after every number.
fn cmp_int_float(i: i64, f: f64) -> Ordering {
    cmp_int_float_exact(i, f).unwrap_or(Ordering::Less)
}

impl PartialEq for Value {
    /// Structural equality (a float by its bits): the identity of a stored value, not the
    /// language's `=` (see [`Value::lang_eq`]).
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Entity(a), Entity(b)) | (Str(a), Str(b)) => a == b,
            (Int(a), Int(b)) => a == b,
            (Float(a), Float(b)) => a.to_bits() == b.to_bits(),
            (Bool(a), Bool(b)) => a == b,
            (Date(a), Date(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Ord for Value {
    /// The `order by` order ([`Value::total_cmp`]), which is consistent with `Eq`.
    fn cmp(&self, other: &Value) -> Ordering {
        self.total_cmp(other)
    }
}

impl PartialOrd for Value {
    fn partial_cmp(&self, other: &Value) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        std::mem::discriminant(self).hash(state);
        match self {
            Value::Entity(s) | Value::Str(s) => s.hash(state),
            Value::Int(i) => i.hash(state),
            Value::Float(f) => f.to_bits().hash(state),
            Value::Bool(b) => b.hash(state),
            Value::Date(d) => d.hash(state),
        }
    }
}

/// Write `s` as a string literal of the language.
pub fn write_string_literal(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", c as u32)?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// Write an entity name: bare when it can be, otherwise in angle brackets with `\>` and
/// `\\` escaped.
pub fn write_entity(f: &mut impl fmt::Write, name: &str) -> fmt::Result {
    if is_bare_name(name) {
        return f.write_str(name);
    }
    f.write_char('<')?;
    for c in name.chars() {
        match c {
            '>' => f.write_str("\\>")?,
            '\\' => f.write_str("\\\\")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('>')
}

/// Write a float so that it reads back as a float with the same value: always with a `.`
/// (`1.0`, `1.5e20`).  NaN and infinities have no literal; they print as strings would
/// not read back, so they are written as `0.0/0.0`-free words that the parser rejects.
pub fn write_float(f: &mut impl fmt::Write, x: f64) -> fmt::Result {
    if !x.is_finite() {
        return write!(f, "{x}");
    }
    let s = format!("{x:?}");
    // Rust's Debug gives the shortest text that round-trips: "1.0", "1e20", "1.5e-7".
    if let Some((mantissa, exp)) = s.split_once('e') {
        if mantissa.contains('.') {
            write!(f, "{mantissa}e{exp}")
        } else {
            write!(f, "{mantissa}.0e{exp}")
        }
    } else {
        f.write_str(&s)
    }
}

impl fmt::Display for Value {
    /// The language's own syntax: what the REPL prints and what reads back as this value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Entity(e) => write_entity(f, e),
            Value::Str(s) => write_string_literal(f, s),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write_float(f, *x),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Date(d) => write!(f, "{d}"),
        }
    }
}

impl Value {
    /// Plain text for CSV/JSON cells: strings without quotes, entities by name, dates in
    /// ISO form.
    pub fn plain(&self) -> String {
        match self {
            Value::Entity(e) | Value::Str(e) => e.clone(),
            Value::Date(d) => d.iso(),
            other => other.to_string(),
        }
    }
}

impl From<&str> for Value {
    /// A `&str` converts to a string literal; use [`Value::entity`] for a thing.
    fn from(s: &str) -> Value {
        Value::Str(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i as i64)
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Value {
        Value::Float(x)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Date> for Value {
    fn from(d: Date) -> Value {
        Value::Date(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names() {
        for ok in ["haftar", "acled:ev-1123", "_x", "a1", "x--y", "q::r"] {
            assert!(is_bare_name(ok), "{ok}");
        }
        for bad in [
            "a",
            "limit",
            "_",
            "1x",
            "x-",
            "backed_by:",
            "x->y",
            "5+5",
            "",
        ] {
            assert!(!is_bare_name(bad), "{bad}");
        }
    }

    #[test]
    fn display_is_language_syntax() {
        assert_eq!(Value::entity("haftar").to_string(), "haftar");
        assert_eq!(Value::entity("a").to_string(), "<a>");
        assert_eq!(Value::entity("5+5 <x>").to_string(), "<5+5 <x\\>>");
        assert_eq!(
            Value::string("say \"hi\"\n").to_string(),
            "\"say \\\"hi\\\"\\n\""
        );
        assert_eq!(Value::Float(1.0).to_string(), "1.0");
        assert_eq!(Value::Float(1e20).to_string(), "1.0e20");
        assert_eq!(Value::Float(-0.75).to_string(), "-0.75");
    }

    #[test]
    fn language_equality_and_order() {
        assert!(Value::Int(1).lang_eq(&Value::Float(1.0)));
        assert!(!Value::Int(1).lang_eq(&Value::string("1")));
        let y = Value::Date(Date::year(2020).unwrap());
        assert!(y.lang_eq(&Value::Int(2020)));
        assert_eq!(
            Value::Int(2).lang_cmp(&Value::Float(2.5)),
            Some(Ordering::Less)
        );
        assert_eq!(Value::string("a").lang_cmp(&Value::Int(1)), None);
        let mut v = vec![
            Value::entity("z"),
            Value::Bool(false),
            Value::string("s"),
            y.clone(),
            Value::Float(0.5),
            Value::Int(3),
        ];
        v.sort_by(|a, b| a.total_cmp(b));
        assert_eq!(
            v,
            vec![
                Value::Float(0.5),
                Value::Int(3),
                y,
                Value::string("s"),
                Value::Bool(false),
                Value::entity("z")
            ]
        );
    }
}
