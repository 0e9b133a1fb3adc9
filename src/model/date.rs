//! Dates that keep their precision and behave as the interval of days they cover.
//!
//! News gives dates at the precision it knows: "April 2019", "Jan. 19", "2020".  A `Date`
//! keeps that precision instead of inventing a day, and every comparison is defined on the
//! interval the date covers (LANGUAGE.md, "Values and dates").

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

/// How much of a date is known.  Declared coarse to fine, so the derived order is
/// "coarser first", which is the tie-break `order by` uses for dates starting on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Precision {
    /// Only the year is known (`@2020`): the date covers the whole year.
    Year,
    /// Year and month (`2020-09`): the date covers the whole month.
    Month,
    /// A single day (`2020-09-28`).
    Day,
}

/// A calendar date of year, month or day precision (proleptic Gregorian, years 0..=9999).
///
/// `month` and `day` are 0 when not known.  Equality is structural: `2020` and `2020-01`
/// are different dates, as the language's `=` requires.
///
/// Comparisons are on the days a date covers:
///
/// ```
/// use dossier::Date;
///
/// let september = Date::month(2020, 9).unwrap();
/// let talks = Date::day(2020, 9, 28).unwrap();
/// assert!(talks.within(&september.as_range()));
/// // Neither before nor after the month it lies in:
/// assert!(!talks.before(&september.as_range()) && !talks.after(&september.as_range()));
/// assert!(Date::month(2019, 4).unwrap().before(&Date::year(2020).unwrap().as_range()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// Why a date could not be built; the parser turns this into a diagnostic with a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateError {
    /// The year, as given, is outside 0..=9999.
    YearOutOfRange(i64),
    /// The month, as given, is not 1..=12.
    MonthOutOfRange(u32),
    /// The day does not exist in that month (`2019-02-29`).
    DayOutOfRange {
        /// The year, valid.
        year: i32,
        /// The month, valid (1..=12).
        month: u8,
        /// The day as given: 0, or more than the month has.
        day: u32,
    },
}

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DateError::YearOutOfRange(y) => write!(f, "year {y} is outside 0000..9999"),
            DateError::MonthOutOfRange(m) => write!(f, "month {m} does not exist (01..12)"),
            DateError::DayOutOfRange { year, month, day } => write!(
                f,
                "day {day} does not exist in {year:04}-{month:02} (it has {} days)",
                days_in_month(*year, *month)
            ),
        }
    }
}

impl std::error::Error for DateError {}

/// The first year a [`Date`] can have.
pub const MIN_YEAR: i32 = 0;
/// The last year a [`Date`] can have: a year is written with four digits.
pub const MAX_YEAR: i32 = 9999;

/// Whether `year` is a leap year of the proleptic Gregorian calendar.
pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// The number of days of `month` (1..=12) in `year`; 0 for a month that does not exist.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i32, month: u8, day: u8) -> i32 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = month as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i32) -> (i32, u8, u8) {
    // In i64: a day number read from a corrupt id may be near i32::MAX.
    let z = z as i64 + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

impl Date {
    /// The date of year precision covering all of `year`; an error outside 0..=9999.
    pub fn year(year: i32) -> Result<Date, DateError> {
        check_year(year as i64)?;
        Ok(Date {
            year,
            month: 0,
            day: 0,
        })
    }

    /// The date of month precision covering all of `month` of `year`; an error for a month
    /// outside 1..=12 or a year outside 0..=9999.
    pub fn month(year: i32, month: u32) -> Result<Date, DateError> {
        check_year(year as i64)?;
        if !(1..=12).contains(&month) {
            return Err(DateError::MonthOutOfRange(month));
        }
        Ok(Date {
            year,
            month: month as u8,
            day: 0,
        })
    }

    /// The date of day precision; an error when the day does not exist (`2019-02-29`).
    pub fn day(year: i32, month: u32, day: u32) -> Result<Date, DateError> {
        let m = Date::month(year, month)?;
        if day == 0 || day > days_in_month(year, m.month) as u32 {
            return Err(DateError::DayOutOfRange {
                year,
                month: m.month,
                day,
            });
        }
        Ok(Date {
            year,
            month: m.month,
            day: day as u8,
        })
    }

    /// How much of the date is known: which of year, month and day are set.
    pub fn precision(&self) -> Precision {
        if self.month == 0 {
            Precision::Year
        } else if self.day == 0 {
            Precision::Month
        } else {
            Precision::Day
        }
    }

    /// The year, known at every precision.
    pub fn year_part(&self) -> i32 {
        self.year
    }

    /// The month (1..=12), or `None` for a date of year precision.
    pub fn month_part(&self) -> Option<u8> {
        (self.month != 0).then_some(self.month)
    }

    /// The day of the month, or `None` for a date of year or month precision.
    pub fn day_part(&self) -> Option<u8> {
        (self.day != 0).then_some(self.day)
    }

    /// First day of the interval, in days since 1970-01-01.
    pub fn start_day(&self) -> i32 {
        days_from_civil(self.year, self.month.max(1), self.day.max(1))
    }

    /// Last day of the interval (inclusive), in days since 1970-01-01.
    pub fn end_day(&self) -> i32 {
        match self.precision() {
            Precision::Year => days_from_civil(self.year, 12, 31),
            Precision::Month => {
                days_from_civil(self.year, self.month, days_in_month(self.year, self.month))
            }
            Precision::Day => self.start_day(),
        }
    }

    /// The day-precision date of a day number (inverse of [`Date::start_day`] for days).
    pub fn from_day_number(days: i32) -> Result<Date, DateError> {
        let (y, m, d) = civil_from_days(days);
        Date::day(y, m as u32, d as u32)
    }

    /// Parse `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (an optional leading `@` is accepted).
    /// The language parser has its own, more helpful, error messages; this is for data
    /// (imports, parameters, typed row access).
    ///
    /// ```
    /// use dossier::{Date, Precision};
    ///
    /// let d = Date::parse("2019-04").unwrap();
    /// assert_eq!(d.precision(), Precision::Month);
    /// assert_eq!((d.year_part(), d.month_part(), d.day_part()), (2019, Some(4), None));
    /// assert_eq!(Date::parse("@2020").unwrap(), Date::year(2020).unwrap());
    /// assert_eq!(Date::parse("2020").unwrap().to_string(), "@2020"); // reads back as a date
    /// assert!(Date::parse("2019-02-29").is_err()); // no such day
    /// assert!(Date::parse("2020-9-28").is_err()); // two-digit months and days
    /// ```
    pub fn parse(text: &str) -> Result<Date, String> {
        let t = text.strip_prefix('@').unwrap_or(text);
        let parts: Vec<&str> = t.split('-').collect();
        let num = |s: &str, width: usize| -> Result<u32, String> {
            if s.len() != width || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "'{text}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"
                ));
            }
            s.parse::<u32>().map_err(|e| e.to_string())
        };
        let r = match parts.as_slice() {
            [y] => Date::year(num(y, 4)? as i32),
            [y, m] => Date::month(num(y, 4)? as i32, num(m, 2)?),
            [y, m, d] => Date::day(num(y, 4)? as i32, num(m, 2)?, num(d, 2)?),
            _ => {
                return Err(format!(
                    "'{text}' is not a date (YYYY, YYYY-MM or YYYY-MM-DD)"
                ))
            }
        };
        r.map_err(|e| e.to_string())
    }

    /// `self < other` in the language: self ends before other starts.
    pub fn before(&self, other: &DateRange) -> bool {
        self.end_day() < other.start
    }

    /// `self > other` in the language: self starts after other ends.
    pub fn after(&self, other: &DateRange) -> bool {
        self.start_day() > other.end
    }

    /// `self in other`: self's interval lies inside other's.
    pub fn within(&self, other: &DateRange) -> bool {
        self.start_day() >= other.start && self.end_day() <= other.end
    }

    /// `self overlaps other`: the intervals share a day.
    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.start_day() <= other.end && other.start <= self.end_day()
    }

    /// The interval of days the date covers: one day, a whole month or a whole year.
    pub fn as_range(&self) -> DateRange {
        DateRange {
            start: self.start_day(),
            end: self.end_day(),
        }
    }

    /// Sort order for `order by`: by start, then coarser first.  Total and consistent with
    /// `Eq` (two dates with the same start and precision are the same date).
    pub fn order_key(&self) -> (i32, Precision) {
        (self.start_day(), self.precision())
    }
}

fn check_year(y: i64) -> Result<(), DateError> {
    if (MIN_YEAR as i64..=MAX_YEAR as i64).contains(&y) {
        Ok(())
    } else {
        Err(DateError::YearOutOfRange(y))
    }
}

impl Ord for Date {
    fn cmp(&self, other: &Self) -> Ordering {
        self.order_key().cmp(&other.order_key())
    }
}

impl PartialOrd for Date {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Date {
    /// Prints the form the parser reads back: `2020-09-28`, `2019-04`, and `@2020` for a
    /// year (a bare `2020` would read back as an integer).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.precision() {
            Precision::Year => write!(f, "@{:04}", self.year),
            Precision::Month => write!(f, "{:04}-{:02}", self.year, self.month),
            Precision::Day => write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day),
        }
    }
}

impl Date {
    /// ISO text without the `@` marker (`2020`, `2020-09`, `2020-09-28`), as CSV, JSON
    /// and RDF export want it.
    pub fn iso(&self) -> String {
        let s = self.to_string();
        s.trim_start_matches('@').to_string()
    }
}

/// An inclusive interval of day numbers: what a date or a `DATE..DATE` range denotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateRange {
    /// First day, in days since 1970-01-01 (negative before 1970).
    pub start: i32,
    /// Last day (included), in days since 1970-01-01.  Before `start` only for a written
    /// range that ends before it starts (`2020..2019`, which the checker warns about).
    pub end: i32,
}

impl DateRange {
    /// `from..to`, both ends included: from the start of `from` to the end of `to`.
    pub fn between(from: &Date, to: &Date) -> DateRange {
        DateRange {
            start: from.start_day(),
            end: to.end_day(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in [-719468, -1, 0, 1, 18_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z, "{y}-{m}-{d}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2020, 9, 28), 18533);
    }

    #[test]
    fn any_day_number_is_an_answer_not_a_panic() {
        for z in [
            i32::MIN,
            i32::MIN + 1,
            -800_000,
            2_932_897,
            i32::MAX - 1,
            i32::MAX,
        ] {
            assert!(Date::from_day_number(z).is_err(), "{z}");
        }
        assert!(Date::from_day_number(2_932_896).is_ok()); // 9999-12-31
    }

    #[test]
    fn intervals() {
        let m = Date::month(2020, 9).unwrap();
        assert_eq!(m.end_day() - m.start_day(), 29);
        let y = Date::year(2020).unwrap();
        assert_eq!(y.end_day() - y.start_day(), 365);
        let d = Date::day(2020, 9, 28).unwrap();
        assert!(d.within(&m.as_range()));
        assert!(m.within(&y.as_range()));
        assert!(!y.within(&m.as_range()));
        assert!(y.overlaps(&d.as_range()));
        assert!(!d.before(&m.as_range()) && !d.after(&m.as_range()));
        let apr = Date::month(2019, 4).unwrap();
        assert!(apr.before(&y.as_range()));
        assert!(y.after(&apr.as_range()));
    }

    #[test]
    fn invalid_dates() {
        assert!(Date::day(2020, 2, 30).is_err());
        assert!(Date::day(2019, 2, 29).is_err());
        assert!(Date::day(2020, 2, 29).is_ok());
        assert!(Date::month(2020, 13).is_err());
        assert!(Date::year(10000).is_err());
    }

    #[test]
    fn order_is_start_then_coarser_first() {
        let y = Date::year(2020).unwrap();
        let m = Date::month(2020, 1).unwrap();
        let d = Date::day(2020, 1, 1).unwrap();
        let d2 = Date::day(2019, 12, 31).unwrap();
        let mut v = vec![d, m, y, d2];
        v.sort();
        assert_eq!(v, vec![d2, y, m, d]);
    }

    #[test]
    fn parse_and_print() {
        for t in ["2020-09-28", "2019-04", "@2020"] {
            assert_eq!(Date::parse(t).unwrap().to_string(), t);
        }
        assert_eq!(Date::parse("2020").unwrap().to_string(), "@2020");
        assert!(Date::parse("2020-9-28").is_err());
        assert!(Date::parse("2020-02-30").is_err());
    }
}
