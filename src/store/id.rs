//! Term ids: the compact, order-preserving encoding of every value in the indexes.
//!
//! An [`Id`] is a kind tag plus 64 bits.  Numbers, dates and booleans are *inline*: the
//! 64 bits are the value itself, encoded so that unsigned order equals value order
//! (sign-flipped integers, sign-folded floats, dates as start day then precision).  So a
//! filter such as `?d in 2020-03` or `?n > 5` on a known predicate becomes a range scan
//! of the POS index with no dictionary lookup.  Strings and entities get dense sequential
//! numbers from the term dictionary, which keeps index blocks small (delta encoding).
//!
//! The byte form of an id ([`Id::write_key`]) is the kind byte then the 64 bits big-endian,
//! so byte order equals `Ord` on ids.

use crate::model::{Date, Precision, Value};

/// Kind tags.  Their order is the order of kinds in a key, and `NONE` (0) sorts first:
/// it stands for "no source" and for an unbound slot in the engine.
pub mod kind {
    /// No value: [`super::Id::NONE`].
    pub const NONE: u8 = 0;
    /// An integer, inline (sign bit flipped).
    pub const INT: u8 = 1;
    /// A float, inline (sign-folded bits).
    pub const FLOAT: u8 = 2;
    /// A date, inline (biased start day, then precision).
    pub const DATE: u8 = 3;
    /// A string, numbered by the dictionary.
    pub const STR: u8 = 4;
    /// A boolean, inline (0 or 1).
    pub const BOOL: u8 = 5;
    /// An entity, numbered by the dictionary.
    pub const ENTITY: u8 = 6;
    /// One past the last kind: ids of this kind never exist (used as an upper bound).
    pub const END: u8 = 7;
}

/// A term id: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Id {
    kind: u8,
    raw: u64,
}

/// Bytes of an id in a key.
pub const ID_BYTES: usize = 9;

const SIGN: u64 = 1 << 63;
/// Day numbers are biased so that every year 0..=9999 is a positive number.
const DAY_BIAS: i64 = 1 << 31;

impl Id {
    /// "No value": the source of a fact asserted without one; an unbound variable.
    pub const NONE: Id = Id {
        kind: kind::NONE,
        raw: 0,
    };
    /// Smallest and largest ids, for open-ended scans.
    pub const MIN: Id = Id {
        kind: kind::NONE,
        raw: 0,
    };
    /// The largest id: above every id of every kind (kind [`kind::END`]).
    pub const MAX: Id = Id {
        kind: kind::END,
        raw: u64::MAX,
    };

    /// An id from its kind tag ([`kind`]) and 64 bits, as stored; nothing is checked.
    pub const fn new(kind: u8, raw: u64) -> Id {
        Id { kind, raw }
    }

    /// The kind tag (one of [`kind`]).
    pub fn kind(self) -> u8 {
        self.kind
    }

    /// The 64 bits: the encoded value of an inline id, the dictionary number otherwise.
    pub fn raw(self) -> u64 {
        self.raw
    }

    /// Whether this is [`Id::NONE`] (any id of kind `NONE`).
    pub fn is_none(self) -> bool {
        self.kind == kind::NONE
    }

    /// Whether this stands for a value (not [`Id::NONE`]).
    pub fn is_some(self) -> bool {
        self.kind != kind::NONE
    }

    /// Whether this kind lives in the term dictionary (strings, entities).
    pub fn is_dictionary(self) -> bool {
        matches!(self.kind, kind::STR | kind::ENTITY)
    }

    /// The inline id of an integer; ids of integers sort as the integers do.
    pub fn int(i: i64) -> Id {
        Id {
            kind: kind::INT,
            raw: (i as u64) ^ SIGN,
        }
    }

    /// The inline id of a float; ids of floats sort as [`f64::total_cmp`] does.
    pub fn float(x: f64) -> Id {
        let bits = x.to_bits();
        // Positive floats: set the sign bit so they sort above negatives; negatives: flip
        // every bit so that larger magnitudes sort lower.
        let raw = if bits & SIGN == 0 { bits | SIGN } else { !bits };
        Id {
            kind: kind::FLOAT,
            raw,
        }
    }

    /// The inline id of a boolean (`false` first).
    pub fn bool(b: bool) -> Id {
        Id {
            kind: kind::BOOL,
            raw: b as u64,
        }
    }

    /// The inline id of a date; ids of dates sort by start day, then coarser first, as
    /// [`Date`]'s `Ord` does.
    pub fn date(d: &Date) -> Id {
        Id::date_key(d.start_day(), d.precision())
    }

    /// The id that a date starting on `day` with `precision` has; also used for the bounds
    /// of date range scans (all dates starting in `[a, b]` lie between
    /// `date_key(a, Year)` and `date_key(b, Day)`).
    pub fn date_key(day: i32, precision: Precision) -> Id {
        let p = match precision {
            Precision::Year => 0,
            Precision::Month => 1,
            Precision::Day => 2,
        };
        Id {
            kind: kind::DATE,
            raw: (((day as i64 + DAY_BIAS) as u64) << 2) | p,
        }
    }

    /// The inline id of a literal value, or `None` for strings and entities (which need
    /// the dictionary).
    pub fn inline(v: &Value) -> Option<Id> {
        Some(match v {
            Value::Int(i) => Id::int(*i),
            Value::Float(x) => Id::float(*x),
            Value::Bool(b) => Id::bool(*b),
            Value::Date(d) => Id::date(d),
            Value::Str(_) | Value::Entity(_) => return None,
        })
    }

    /// The id standing for every number equal to this one under the language's `=`
    /// (LANGUAGE.md: `5 = 5.0`, `-0.0 = 0.0 = 0`): the integer's id when the float is a
    /// whole number an `i64` holds exactly, itself otherwise (and for every other kind).
    /// It is the smallest id of its class, so joins, groups and `distinct` compare these,
    /// and a group shows the smallest of the equal forms it met.
    pub fn canonical(self) -> Id {
        if self.kind != kind::FLOAT {
            return self;
        }
        match self.decode_inline() {
            Some(Value::Float(x)) => exact_int(x).map_or(self, Id::int),
            _ => self,
        }
    }

    /// Whether two ids stand for values the language's `=` equates as numbers (or are the
    /// same id).
    pub fn same_value(self, other: Id) -> bool {
        self == other
            || (self.is_number() && other.is_number() && self.canonical() == other.canonical())
    }

    /// Whether this is an integer or a float.
    pub fn is_number(self) -> bool {
        self.kind == kind::INT || self.kind == kind::FLOAT
    }

    /// Every id of the numbers equal to this one (itself included, ascending): what a
    /// join on a variable bound to it must look up.  One id for anything else.
    pub fn numeric_twins(self) -> Twins {
        let mut t = Twins::default();
        let canonical = self.canonical();
        if !self.is_number() || canonical.kind != kind::INT {
            // A non-number, or a float no integer equals: its only twin is the other
            // zero, which the canonical form already covers.
            t.push(self);
            return t;
        }
        let i = (canonical.raw ^ SIGN) as i64;
        t.push(canonical);
        if i == 0 {
            t.push(Id::float(-0.0));
            t.push(Id::float(0.0));
        } else if exact_int(i as f64) == Some(i) {
            t.push(Id::float(i as f64));
        }
        t
    }

    /// The ids of every stored value that `=` accepts for `v`: a pattern constant matches
    /// these (`5` also finds `5.0`; `2020` finds `@2020` too, and `@2020` finds `2020`).
    pub fn equal_ids(v: &Value) -> Twins {
        let Some(id) = Id::inline(v) else {
            return Twins::default();
        };
        let mut t = id.numeric_twins();
        match v {
            Value::Int(y) => {
                if let Some(year) = i32::try_from(*y).ok().and_then(|y| Date::year(y).ok()) {
                    t.push(Id::date(&year));
                }
            }
            Value::Date(d) if d.month_part().is_none() => {
                t.insert_sorted(Id::int(d.year_part() as i64))
            }
            _ => {}
        }
        t
    }

    /// Decode an inline id.  `None` for dictionary kinds, `NONE`, and ids whose bits are
    /// not a valid value (corrupt data).
    pub fn decode_inline(self) -> Option<Value> {
        match self.kind {
            kind::INT => Some(Value::Int((self.raw ^ SIGN) as i64)),
            kind::FLOAT => {
                let bits = if self.raw & SIGN != 0 {
                    self.raw & !SIGN
                } else {
                    !self.raw
                };
                Some(Value::Float(f64::from_bits(bits)))
            }
            kind::BOOL if self.raw <= 1 => Some(Value::Bool(self.raw == 1)),
            kind::DATE => {
                let day = i32::try_from((self.raw >> 2) as i64 - DAY_BIAS).ok()?;
                let d = Date::from_day_number(day).ok()?;
                let date = match self.raw & 3 {
                    0 => Date::year(d.year_part()).ok()?,
                    1 => Date::month(d.year_part(), d.month_part()? as u32).ok()?,
                    2 => d,
                    _ => return None,
                };
                // A year-precision date must start on Jan 1, a month on the 1st.
                (Id::date(&date) == self).then_some(Value::Date(date))
            }
            _ => None,
        }
    }

    /// Start day of an inline date id (for range filters without decoding).
    pub fn date_start_day(self) -> Option<i32> {
        (self.kind == kind::DATE).then(|| ((self.raw >> 2) as i64 - DAY_BIAS) as i32)
    }

    /// Append the key form: the kind byte, then the 64 bits big-endian ([`ID_BYTES`] bytes),
    /// so byte order equals id order.
    pub fn write_key(self, out: &mut Vec<u8>) {
        out.push(self.kind);
        out.extend_from_slice(&self.raw.to_be_bytes());
    }

    /// Read an id from the start of `bytes` (its key form); `None` when fewer than
    /// [`ID_BYTES`] bytes are there.
    pub fn read_key(bytes: &[u8]) -> Option<Id> {
        let kind = *bytes.first()?;
        let raw: [u8; 8] = bytes.get(1..ID_BYTES)?.try_into().ok()?;
        Some(Id {
            kind,
            raw: u64::from_be_bytes(raw),
        })
    }

    /// The next id in key order (for exclusive upper bounds of prefix scans).
    pub fn successor(self) -> Id {
        match self.raw.checked_add(1) {
            Some(raw) => Id {
                kind: self.kind,
                raw,
            },
            None => Id {
                kind: self.kind.saturating_add(1),
                raw: 0,
            },
        }
    }
}

/// The `i64` a float equals exactly, if one does (`5.0` → 5, `-0.0` → 0; `0.5`, `1e19`
/// and NaN → none).
fn exact_int(x: f64) -> Option<i64> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    (x.fract() == 0.0 && (-TWO_63..TWO_63).contains(&x)).then_some(x as i64)
}

/// Up to four ids, ascending (the numbers equal to one value, and a year): kept inline so
/// that a lookup per joined row allocates nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Twins {
    ids: [Id; 4],
    len: usize,
}

impl Twins {
    fn push(&mut self, id: Id) {
        if self.len < self.ids.len() {
            self.ids[self.len] = id;
            self.len += 1;
        }
    }

    fn insert_sorted(&mut self, id: Id) {
        self.push(id);
        self.ids[..self.len].sort_unstable();
    }

    /// The ids, ascending.
    pub fn as_slice(&self) -> &[Id] {
        &self.ids[..self.len]
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none (an id of a string or entity: see [`Id::equal_ids`]).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(id: Id) -> Vec<u8> {
        let mut v = Vec::new();
        id.write_key(&mut v);
        v
    }

    #[test]
    fn inline_round_trip_examples() {
        for v in [
            Value::Int(0),
            Value::Int(-1),
            Value::Int(i64::MIN),
            Value::Int(i64::MAX),
            Value::Float(0.0),
            Value::Float(-0.0),
            Value::Float(-2.5),
            Value::Float(f64::MAX),
            Value::Bool(true),
            Value::Date(Date::year(2020).unwrap()),
            Value::Date(Date::month(2019, 4).unwrap()),
            Value::Date(Date::day(2020, 9, 28).unwrap()),
            Value::Date(Date::day(0, 1, 1).unwrap()),
            Value::Date(Date::day(9999, 12, 31).unwrap()),
        ] {
            let id = Id::inline(&v).unwrap();
            assert_eq!(id.decode_inline(), Some(v.clone()), "{v:?}");
            assert_eq!(Id::read_key(&key(id)), Some(id));
        }
    }

    /// The key bytes of each kind of id: what every index key on disk is made of.  Any
    /// change here changes the meaning of stored databases (and their sort order), so it
    /// needs a new format version; this fails first.
    #[test]
    fn id_key_golden_bytes() {
        let day = |y, m, d| Value::Date(Date::day(y, m, d).unwrap());
        #[rustfmt::skip]
        let cases: [(Id, [u8; 9]); 15] = [
            (Id::NONE, [0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (Id::int(0), [1, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            (Id::int(-1), [1, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            (Id::int(25_000), [1, 0x80, 0, 0, 0, 0, 0, 0x61, 0xa8]),
            (Id::float(1.5), [2, 0xbf, 0xf8, 0, 0, 0, 0, 0, 0]),
            (Id::float(-2.5), [2, 0x3f, 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
            (Id::float(0.0), [2, 0x80, 0, 0, 0, 0, 0, 0, 0]),
            // Dates: (start day + 2^31) << 2, then the precision (year 0, month 1, day 2).
            (Id::inline(&day(1970, 1, 1)).unwrap(), [3, 0, 0, 0, 2, 0, 0, 0, 2]),
            (Id::inline(&Value::Date(Date::year(2020).unwrap())).unwrap(),
                [3, 0, 0, 0, 2, 0, 0x01, 0x1d, 0x58]), // day 18262, year
            (Id::inline(&Value::Date(Date::month(2020, 9).unwrap())).unwrap(),
                [3, 0, 0, 0, 2, 0, 0x01, 0x21, 0x29]), // day 18506, month
            (Id::inline(&day(2020, 9, 28)).unwrap(),
                [3, 0, 0, 0, 2, 0, 0x01, 0x21, 0x96]), // day 18533, day
            (Id::new(kind::STR, 7), [4, 0, 0, 0, 0, 0, 0, 0, 7]),
            (Id::bool(false), [5, 0, 0, 0, 0, 0, 0, 0, 0]),
            (Id::bool(true), [5, 0, 0, 0, 0, 0, 0, 0, 1]),
            (Id::new(kind::ENTITY, 258), [6, 0, 0, 0, 0, 0, 0, 1, 2]),
        ];
        for (id, bytes) in cases {
            assert_eq!(key(id), bytes, "{id:?}");
            assert_eq!(Id::read_key(&bytes), Some(id));
        }
    }

    #[test]
    fn equal_numbers_share_a_canonical_id() {
        let f = |x: f64| Id::float(x);
        assert_eq!(f(5.0).canonical(), Id::int(5));
        assert_eq!(f(-0.0).canonical(), Id::int(0));
        assert_eq!(f(0.0).canonical(), Id::int(0));
        assert_eq!(f(0.5).canonical(), f(0.5));
        assert_eq!(f(1e19).canonical(), f(1e19));
        assert_eq!(
            f(-9_223_372_036_854_775_808.0).canonical(),
            Id::int(i64::MIN)
        );
        assert!(f(5.0).same_value(Id::int(5)));
        assert!(!f(5.0).same_value(Id::int(6)));
        assert!(!Id::new(kind::STR, 5).same_value(Id::int(5)));
        assert_eq!(
            Id::int(0).numeric_twins().as_slice(),
            &[Id::int(0), f(-0.0), f(0.0)]
        );
        assert_eq!(f(5.0).numeric_twins().as_slice(), &[Id::int(5), f(5.0)]);
        assert_eq!(f(0.5).numeric_twins().as_slice(), &[f(0.5)]);
        // 2^53 + 1 has no float.
        assert_eq!(Id::int((1 << 53) + 1).numeric_twins().len(), 1);
        let year = Id::date(&Date::year(2020).unwrap());
        assert_eq!(
            Id::equal_ids(&Value::Int(2020)).as_slice(),
            &[Id::int(2020), f(2020.0), year]
        );
        assert_eq!(
            Id::equal_ids(&Value::Date(Date::year(2020).unwrap())).as_slice(),
            &[Id::int(2020), year]
        );
        assert!(Id::equal_ids(&Value::string("x")).is_empty());
    }

    #[test]
    fn corrupt_bool_bits_do_not_decode() {
        // Found by the `decode` fuzz target: raw 42 read as `true`, a value whose own id
        // (raw 1) differs, so lookups of `true` missed it.
        assert_eq!(Id::new(kind::BOOL, 42).decode_inline(), None);
        assert_eq!(
            Id::new(kind::BOOL, 1).decode_inline(),
            Some(Value::Bool(true))
        );
    }

    #[test]
    fn corrupt_date_bits_do_not_decode() {
        let d = Id::date(&Date::day(2020, 3, 5).unwrap());
        // the same day with "year" precision is not a valid year date
        let bad = Id::new(kind::DATE, d.raw() & !3);
        assert_eq!(bad.decode_inline(), None);
    }

    fn arb_date() -> impl Strategy<Value = Date> {
        (0i32..=9999, 0u32..=12, 1u32..=28).prop_map(|(y, m, d)| match (m, d % 3) {
            (0, _) => Date::year(y).unwrap(),
            (m, 0) => Date::month(y, m).unwrap(),
            (m, _) => Date::day(y, m, d).unwrap(),
        })
    }

    proptest! {
        #[test]
        fn int_order_is_byte_order(a: i64, b: i64) {
            prop_assert_eq!(a.cmp(&b), key(Id::int(a)).cmp(&key(Id::int(b))));
            prop_assert_eq!(Id::int(a).decode_inline(), Some(Value::Int(a)));
        }

        #[test]
        fn float_order_is_byte_order(a in proptest::num::f64::NORMAL | proptest::num::f64::ZERO | proptest::num::f64::SUBNORMAL | proptest::num::f64::INFINITE,
                                     b in proptest::num::f64::NORMAL | proptest::num::f64::ZERO | proptest::num::f64::SUBNORMAL | proptest::num::f64::INFINITE) {
            prop_assert_eq!(a.total_cmp(&b), key(Id::float(a)).cmp(&key(Id::float(b))));
            prop_assert_eq!(Id::float(a).decode_inline(), Some(Value::Float(a)));
        }

        #[test]
        fn date_order_is_byte_order(a in arb_date(), b in arb_date()) {
            prop_assert_eq!(a.cmp(&b), key(Id::date(&a)).cmp(&key(Id::date(&b))));
            prop_assert_eq!(Id::date(&a).decode_inline(), Some(Value::Date(a)));
        }
    }
}
