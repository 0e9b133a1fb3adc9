//! One GDELT event row: its layout (57, 58 or 61 columns), its fields checked and
//! converted, borrowing the line's text.  Nothing here knows the schema's names.

use crate::model::Date;

/// The row layouts, told apart by their number of columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    V1Backfile,
    V1Daily,
    V2,
}

impl Layout {
    fn of_width(n: usize) -> Option<Layout> {
        match n {
            57 => Some(Layout::V1Backfile),
            58 => Some(Layout::V1Daily),
            61 => Some(Layout::V2),
            _ => None,
        }
    }

    pub(super) fn description(self) -> &'static str {
        match self {
            Layout::V1Backfile => "GDELT 1.0 backfile rows (57 columns)",
            Layout::V1Daily => "GDELT 1.0 daily rows (58 columns)",
            Layout::V2 => "GDELT 2.0 rows (61 columns)",
        }
    }

    /// Fields per geography block: 2.0 added ADM2Code.
    fn geo_width(self) -> usize {
        if self == Layout::V2 {
            8
        } else {
            7
        }
    }

    fn action_geo(self) -> usize {
        GEO_START + 2 * self.geo_width()
    }

    fn date_added(self) -> usize {
        GEO_START + 3 * self.geo_width()
    }

    fn source_url(self) -> Option<usize> {
        (self != Layout::V1Backfile).then(|| self.date_added() + 1)
    }
}

// Columns shared by every layout.
const ID: usize = 0;
const SQLDATE: usize = 1;
const ACTOR1: usize = 5;
const ACTOR2: usize = 15;
const IS_ROOT: usize = 25;
const EVENT_CODE: usize = 26;
const EVENT_BASE: usize = 27;
const EVENT_ROOT: usize = 28;
const QUAD_CLASS: usize = 29;
const GOLDSTEIN: usize = 30;
const NUM_MENTIONS: usize = 31;
const NUM_SOURCES: usize = 32;
const NUM_ARTICLES: usize = 33;
const AVG_TONE: usize = 34;
const GEO_START: usize = 35;

/// 1-based character column where field `field` starts.
pub(super) fn column_of_field(line: &str, field: usize) -> usize {
    let mut start = 0;
    for (i, part) in line.split('\t').enumerate() {
        if i == field {
            break;
        }
        start += part.chars().count() + 1;
    }
    start + 1
}

/// A problem with a row: the field it is in, and what is wrong.
pub(super) type RowError = (usize, String);

/// One event row, checked and converted, borrowing its text from the line.
pub(super) struct Row<'a> {
    pub(super) id: &'a str,
    pub(super) date: Date,
    pub(super) actors: [Option<Actor<'a>>; 2],
    pub(super) is_root: Option<bool>,
    pub(super) code: &'a str,
    pub(super) base: &'a str,
    pub(super) root: &'a str,
    pub(super) quad_class: Option<i64>,
    pub(super) goldstein: Option<f64>,
    pub(super) mentions: Option<i64>,
    pub(super) sources: Option<i64>,
    pub(super) articles: Option<i64>,
    pub(super) tone: Option<f64>,
    pub(super) place: Option<Place<'a>>,
    pub(super) date_added: Option<Date>,
    pub(super) url: &'a str,
}

pub(super) struct Actor<'a> {
    pub(super) code: &'a str,
    pub(super) name: &'a str,
    pub(super) country: &'a str,
    pub(super) known_group: &'a str,
    pub(super) ethnic: &'a str,
    pub(super) religions: [&'a str; 2],
    pub(super) roles: [&'a str; 3],
}

pub(super) struct Place<'a> {
    pub(super) geo_type: i64,
    pub(super) name: &'a str,
    pub(super) country_fips: &'a str,
    pub(super) adm1: &'a str,
    pub(super) adm2: &'a str,
    pub(super) lat: Option<f64>,
    pub(super) long: Option<f64>,
    pub(super) feature: &'a str,
}

impl<'a> Row<'a> {
    /// Check and convert a row's fields; the error names the first bad field.
    pub(super) fn parse(f: &[&'a str]) -> std::result::Result<(Layout, Row<'a>), RowError> {
        let layout = Layout::of_width(f.len()).ok_or_else(|| {
            (
                0,
                format!(
                    "{} columns; GDELT rows have 57 or 58 (1.0) or 61 (2.0)",
                    f.len()
                ),
            )
        })?;
        let id = f[ID].trim();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return Err((ID, format!("GLOBALEVENTID '{id}' is not a number")));
        }
        let date = yyyymmdd(f[SQLDATE]).ok_or_else(|| {
            (
                SQLDATE,
                format!("SQLDATE '{}' is not a YYYYMMDD date", f[SQLDATE]),
            )
        })?;
        let date_added_col = layout.date_added();
        let date_added = match f[date_added_col].trim() {
            "" => None,
            s => Some(yyyymmdd(s.get(..8).unwrap_or(s)).ok_or_else(|| {
                (
                    date_added_col,
                    format!("DATEADDED '{s}' is not a YYYYMMDD[HHMMSS] date"),
                )
            })?),
        };
        let is_root = match f[IS_ROOT].trim() {
            "" => None,
            "1" => Some(true),
            "0" => Some(false),
            other => return Err((IS_ROOT, format!("IsRootEvent '{other}' is not 0 or 1"))),
        };
        let row = Row {
            id,
            date,
            actors: [actor(f, ACTOR1), actor(f, ACTOR2)],
            is_root,
            code: f[EVENT_CODE].trim(),
            base: f[EVENT_BASE].trim(),
            root: f[EVENT_ROOT].trim(),
            quad_class: int(f, QUAD_CLASS, "QuadClass")?,
            goldstein: float(f, GOLDSTEIN, "GoldsteinScale")?,
            mentions: int(f, NUM_MENTIONS, "NumMentions")?,
            sources: int(f, NUM_SOURCES, "NumSources")?,
            articles: int(f, NUM_ARTICLES, "NumArticles")?,
            tone: float(f, AVG_TONE, "AvgTone")?,
            place: place(f, layout)?,
            date_added,
            url: layout.source_url().map_or("", |i| f[i].trim()),
        };
        Ok((layout, row))
    }
}

fn yyyymmdd(s: &str) -> Option<Date> {
    let s = s.trim();
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().ok();
    Date::day(n(0..4)? as i32, n(4..6)?, n(6..8)?).ok()
}

fn int(f: &[&str], i: usize, name: &str) -> std::result::Result<Option<i64>, RowError> {
    match f[i].trim() {
        "" => Ok(None),
        s => s
            .parse()
            .map(Some)
            .map_err(|_| (i, format!("{name} '{s}' is not an integer"))),
    }
}

fn float(f: &[&str], i: usize, name: &str) -> std::result::Result<Option<f64>, RowError> {
    match f[i].trim() {
        "" => Ok(None),
        s => match s.parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(Some(x)),
            _ => Err((i, format!("{name} '{s}' is not a number"))),
        },
    }
}

/// The ten actor fields starting at `at`; `None` when the actor is absent.
fn actor<'a>(f: &[&'a str], at: usize) -> Option<Actor<'a>> {
    let g = |k: usize| f[at + k].trim();
    if g(0).is_empty() {
        return None;
    }
    Some(Actor {
        code: g(0),
        name: g(1),
        country: g(2),
        known_group: g(3),
        ethnic: g(4),
        religions: [g(5), g(6)],
        roles: [g(7), g(8), g(9)],
    })
}

/// The ActionGeo block.
fn place<'a>(f: &[&'a str], layout: Layout) -> std::result::Result<Option<Place<'a>>, RowError> {
    let at = layout.action_geo();
    let v2 = layout == Layout::V2;
    let (lat, long, feature) = if v2 {
        (at + 5, at + 6, at + 7)
    } else {
        (at + 4, at + 5, at + 6)
    };
    let Some(geo_type) = int(f, at, "ActionGeo_Type")? else {
        return Ok(None);
    };
    if geo_type == 0 {
        return Ok(None);
    }
    Ok(Some(Place {
        geo_type,
        name: f[at + 1].trim(),
        country_fips: f[at + 2].trim(),
        adm1: f[at + 3].trim(),
        adm2: if v2 { f[at + 4].trim() } else { "" },
        lat: float(f, lat, "ActionGeo_Lat")?,
        long: float(f, long, "ActionGeo_Long")?,
        feature: f[feature].trim(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_place_the_late_columns() {
        assert_eq!(Layout::V1Daily.action_geo(), 49);
        assert_eq!(Layout::V1Daily.date_added(), 56);
        assert_eq!(Layout::V1Daily.source_url(), Some(57));
        assert_eq!(Layout::V1Backfile.source_url(), None);
        assert_eq!(Layout::V2.action_geo(), 51);
        assert_eq!(Layout::V2.date_added(), 59);
        assert_eq!(Layout::V2.source_url(), Some(60));
    }

    #[test]
    fn columns_of_fields() {
        assert_eq!(column_of_field("a\tbé\tc", 0), 1);
        assert_eq!(column_of_field("a\tbé\tc", 2), 6);
    }

    #[test]
    fn dates() {
        assert_eq!(yyyymmdd("20200928"), Date::day(2020, 9, 28).ok());
        assert_eq!(yyyymmdd("20200230"), None);
        assert_eq!(yyyymmdd("2020092"), None);
    }
}
