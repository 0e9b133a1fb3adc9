//! Events on a time axis, each drawn at the precision its date has: a day is a point, a
//! month a band a month wide, a year a band a year wide, a range (start and end) its span
//! with the uncertain ends lighter.  Nothing is rounded to a day that the data does not
//! give.

use super::graph::{add_sources, label_of, source_names};
use super::{num, shorten, text_width, xml_escape, PALETTE};
use crate::error::{Error, Result};
use crate::model::civil_from_days;
use crate::model::{Date, Precision, Value};
use crate::store::IdPattern;
use crate::{Db, Rows};
use indexmap::IndexMap;
use std::collections::BTreeSet;
use std::fmt::Write;

/// One event on the timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The event (usually an entity).
    pub value: Value,
    /// Its `label`, if it has one.
    pub label: Option<String>,
    /// When it happened, or began.
    pub start: Date,
    /// When it ended, for a range.
    pub end: Option<Date>,
    /// Its lane (an actor, a place), if the query gave one.
    pub lane: Option<Value>,
    /// The lane's label, if it has one.
    pub lane_label: Option<String>,
    /// The sources of the date facts.
    pub sources: Vec<String>,
}

impl Item {
    /// The event's label, else its name.
    pub fn caption(&self) -> String {
        self.label.clone().unwrap_or_else(|| match &self.value {
            Value::Entity(e) => e.clone(),
            v => v.to_string(),
        })
    }

    /// The date as written: `2020-09-28`, `2019-04 .. 2020-06`.
    pub fn when(&self) -> String {
        match self.end {
            Some(e) => format!("{} .. {}", self.start, e),
            None => self.start.to_string(),
        }
    }

    /// First and last day covered (days since 1970-01-01).
    fn days(&self) -> (i32, i32) {
        let end = self.end.unwrap_or(self.start);
        (
            self.start.start_day().min(end.start_day()),
            self.start.end_day().max(end.end_day()),
        )
    }
}

/// Events to draw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timeline {
    /// In the order of the rows.
    pub items: Vec<Item>,
    /// What was left out and why.
    pub notes: Vec<String>,
}

/// The window, heading and size limit of a timeline.
#[derive(Debug, Clone)]
pub struct TimelineOptions {
    /// Leave out events that end before this date.
    pub from: Option<Date>,
    /// Leave out events that begin after this date.
    pub to: Option<Date>,
    /// A heading above the picture.
    pub title: Option<String>,
    /// Draw at most this many events (default 2,000); a note says how many were left out.
    pub max_items: usize,
}

impl Default for TimelineOptions {
    fn default() -> Self {
        TimelineOptions {
            from: None,
            to: None,
            title: None,
            max_items: 2000,
        }
    }
}

/// The timeline of a query's rows: `?e ?d` (an event and its date), optionally `?end`
/// (a second date column: a range) and a lane column (`?e ?d ?actor`, `?e ?start ?end
/// ?place`).  Rows whose date is unbound or not a date are left out (counted in a note).
///
/// ```
/// use dossier::viz::{self, TimelineOptions};
/// let db = dossier::Db::memory()?;
/// db.execute("
///     offensive started 2019-04; ended 2020-06; label \"Tripoli offensive\".
///     berlin_conference date 2020-01-19 from aa_2020_09_28.
/// ")?;
/// let rows = db.query("find ?e ?s ?end where ?e started ?s; ended ?end.")?;
/// let t = viz::timeline(&db, &rows, &TimelineOptions::default())?;
/// assert_eq!(t.items[0].when(), "2019-04 .. 2020-06");
/// let rows = db.query("find ?e ?d where ?e date ?d.")?;
/// let t = viz::timeline(&db, &rows, &TimelineOptions::default())?;
/// assert_eq!(t.items[0].sources, ["aa_2020_09_28"]);
/// let svg = viz::timeline_svg(&t, &TimelineOptions::default());
/// assert!(svg.contains("<title>berlin_conference\n2020-01-19\nsource: aa_2020_09_28</title>"));
/// # Ok::<(), dossier::Error>(())
/// ```
pub fn timeline(db: &Db, rows: &Rows, options: &TimelineOptions) -> Result<Timeline> {
    let width = rows.columns().len();
    if !(2..=4).contains(&width) {
        return Err(Error::Invalid(format!(
            "a timeline is drawn from rows of an event and a date (?e ?d), optionally an end \
             date and a lane (?e ?start ?end ?lane); this query has {width} columns"
        )));
    }
    let cell = |r: &[Option<Value>], i: usize| r.get(i).cloned().flatten();
    // A third column of dates (where bound) is the end; anything else is the lane.
    let third_is_end = width >= 3
        && rows
            .values()
            .filter_map(|r| cell(r, 2))
            .all(|v| matches!(v, Value::Date(_)))
        && rows.values().any(|r| cell(r, 2).is_some());
    if width == 4 && !third_is_end {
        return Err(Error::Invalid(
            "with four columns (?e ?start ?end ?lane) the third must be a date".into(),
        ));
    }
    let lane_column = match (width, third_is_end) {
        (3, false) => Some(2),
        (4, _) => Some(3),
        _ => None,
    };
    let window = (
        options.from.map(|d| d.start_day()),
        options.to.map(|d| d.end_day()),
    );
    let mut items = Vec::new();
    let (mut undated, mut outside, mut over) = (0u64, 0u64, 0u64);
    let mut seen = BTreeSet::new();
    for r in rows.values() {
        let (Some(value), Some(Value::Date(start))) = (cell(r, 0), cell(r, 1)) else {
            undated += 1;
            continue;
        };
        let end = if third_is_end {
            match cell(r, 2) {
                Some(Value::Date(d)) => Some(d),
                _ => None,
            }
        } else {
            None
        };
        let lane = lane_column.and_then(|i| cell(r, i));
        let mut item = Item {
            value,
            label: None,
            start,
            end,
            lane,
            lane_label: None,
            sources: Vec::new(),
        };
        if let Some(e) = item.end {
            if e.end_day() < item.start.start_day() {
                (item.start, item.end) = (e, Some(item.start));
            }
        }
        let (a, b) = item.days();
        if window.0.is_some_and(|f| b < f) || window.1.is_some_and(|t| a > t) {
            outside += 1;
            continue;
        }
        let key = (
            item.value.to_string(),
            item.when(),
            item.lane.as_ref().map(|l| l.to_string()),
        );
        if !seen.insert(key) {
            continue;
        }
        if items.len() >= options.max_items {
            over += 1;
            continue;
        }
        items.push(item);
    }
    let mut t = Timeline {
        items,
        notes: Vec::new(),
    };
    if undated > 0 {
        t.notes.push(format!(
            "rows without a date in the second column, not drawn: {undated}"
        ));
    }
    if outside > 0 {
        t.notes
            .push(format!("events outside the window, not drawn: {outside}"));
    }
    if over > 0 {
        t.notes.push(format!(
            "at most {} events are drawn: {over} more are not",
            options.max_items
        ));
    }
    decorate(db, &mut t)?;
    Ok(t)
}

/// The queries of [`dated_events`]: events with a date, and things that started (and
/// ended).
pub const DATED_EVENTS_QUERIES: [&str; 2] = [
    "find ?e ?d where ?e date ?d.",
    "find ?e ?start ?end where ?e started ?start, optional { ?e ended ?end }.",
];

/// The timeline of everything dated: each `date` fact, and each `started` (with its
/// `ended`, if any) as a range.  What `dossier timeline` draws when given no query.
pub fn dated_events(db: &Db, options: &TimelineOptions) -> Result<Timeline> {
    let columns = vec!["e".to_string(), "start".to_string(), "end".to_string()];
    let mut all = Vec::new();
    for q in DATED_EVENTS_QUERIES {
        for r in db.query(q)?.values() {
            let mut r = r.to_vec();
            r.resize(3, None);
            all.push(r);
        }
    }
    timeline(db, &Rows::new(columns, all), options)
}

/// Labels of events and lanes; sources of the facts that give each event its dates.
fn decorate(db: &Db, t: &mut Timeline) -> Result<()> {
    let store = db.store();
    let _read = store.read()?;
    let label = store.lookup_entity("label", None)?;
    let label_of = |v: &Value| -> Result<Option<String>> {
        match v {
            Value::Entity(name) => match store.lookup_entity(name, None)? {
                Some(id) => label_of(store, id, label),
                None => Ok(None),
            },
            _ => Ok(None),
        }
    };

    for item in &mut t.items {
        item.label = label_of(&item.value)?;
        if let Some(l) = &item.lane {
            item.lane_label = label_of(l)?;
        }
        let Some(s) = store.lookup(&item.value, None)? else {
            continue;
        };
        let mut sources = BTreeSet::new();
        for d in std::iter::once(item.start).chain(item.end) {
            let Some(o) = store.lookup(&Value::Date(d), None)? else {
                continue;
            };
            add_sources(store, IdPattern::new(Some(s), None, Some(o)), &mut sources)?;
        }
        item.sources = source_names(store, &sources)?;
    }
    Ok(())
}

const PLOT_WIDTH: f64 = 1000.0;
const ROW_HEIGHT: f64 = 22.0;
const MARGIN: f64 = 20.0;
const AXIS_HEIGHT: f64 = 34.0;
const FONT: &str = "font-family=\"Helvetica, Arial, sans-serif\"";
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The SVG text of a timeline.
pub fn timeline_svg(t: &Timeline, options: &TimelineOptions) -> String {
    // The time domain, in days: the window where given, else the events' extent.
    let extent = t
        .items
        .iter()
        .map(Item::days)
        .fold(None, |acc, (a, b)| match acc {
            None => Some((a, b)),
            Some((x, y)) => Some((a.min(x), b.max(y))),
        });
    let (lo, hi) = match (options.from, options.to, extent) {
        (Some(f), Some(to), _) => (f.start_day(), to.end_day()),
        (Some(f), None, Some((_, b))) => (f.start_day(), b.max(f.end_day())),
        (None, Some(to), Some((a, _))) => (a.min(to.start_day()), to.end_day()),
        (_, _, Some(e)) => e,
        (f, to, None) => {
            let d = f.or(to).map_or(0, |d| d.start_day());
            (d, d + 365)
        }
    };
    let span = (hi - lo + 1).max(1) as f64;
    let pad = (span * 0.02).max(1.0);
    let (lo_f, hi_f) = (lo as f64 - pad, hi as f64 + 1.0 + pad);
    // Lanes, in order of first appearance.
    let mut lanes: IndexMap<Option<String>, (String, Vec<usize>)> = IndexMap::new();
    for (i, item) in t.items.iter().enumerate() {
        let key = item.lane.as_ref().map(|l| l.to_string());
        let name = item
            .lane_label
            .clone()
            .or_else(|| item.lane.as_ref().map(|l| l.plain()))
            .unwrap_or_default();
        lanes.entry(key).or_insert((name, Vec::new())).1.push(i);
    }
    let lane_width = lanes
        .values()
        .map(|(n, _)| text_width(&shorten(n, 28), 12.0) + 16.0)
        .fold(0.0, f64::max)
        .min(220.0);
    let left = MARGIN + lane_width;
    let x = |day: f64| left + (day - lo_f) / (hi_f - lo_f) * PLOT_WIDTH;
    let width = left + PLOT_WIDTH + MARGIN + 160.0;
    let title_h = if options.title.is_some() { 30.0 } else { 0.0 };
    let key_h = 22.0;
    let top = MARGIN + title_h + key_h + AXIS_HEIGHT;

    // Pack each lane's events into rows so that marks and labels do not overlap.
    let mut placed: Vec<(usize, f64)> = Vec::new(); // (item, y)
    let mut lane_bands: Vec<(String, f64, f64, usize)> = Vec::new(); // name, y0, y1, colour
    let mut y = top;
    for (k, (_, (name, members))) in lanes.iter().enumerate() {
        let mut order = members.clone();
        order.sort_by_key(|&i| t.items.get(i).map(|it| it.days()));
        let mut row_ends: Vec<f64> = Vec::new();
        let y0 = y;
        for i in order {
            let Some(item) = t.items.get(i) else { continue };
            let (a, b) = item.days();
            let x0 = x(a as f64);
            let x1 = x(b as f64 + 1.0).max(x0 + 10.0);
            let label_end = x1 + 6.0 + text_width(&shorten(&item.caption(), 40), 11.0);
            let row = match row_ends.iter().position(|&end| end + 8.0 < x0) {
                Some(r) => r,
                None => {
                    row_ends.push(f64::MIN);
                    row_ends.len() - 1
                }
            };
            if let Some(e) = row_ends.get_mut(row) {
                *e = label_end;
            }
            placed.push((i, y0 + row as f64 * ROW_HEIGHT + ROW_HEIGHT / 2.0));
        }
        y += row_ends.len().max(1) as f64 * ROW_HEIGHT + 8.0;
        lane_bands.push((name.clone(), y0, y - 8.0, k));
    }
    let notes_h = t.notes.len() as f64 * 16.0;
    let height = y + MARGIN + notes_h;

    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" {FONT} class=\"dossier-timeline\">",
        w = num(width),
        h = num(height)
    );
    s.push_str(
        "<defs><pattern id=\"uncertain\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#ffffff\"/>\
         <rect width=\"3\" height=\"6\" fill=\"#9aa7b8\"/></pattern></defs>\n",
    );
    s.push_str("<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n");
    let mut head_y = MARGIN;
    if let Some(title) = &options.title {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"18\" font-weight=\"bold\" fill=\"#222\">{}</text>",
            num(MARGIN),
            num(head_y + 14.0),
            xml_escape(title)
        );
        head_y += title_h;
    }
    // The key: how precision is drawn.
    let ky = head_y + 10.0;
    let _ = writeln!(
        s,
        "<g class=\"key\" font-size=\"11\" fill=\"#444\">\
         <circle cx=\"{a}\" cy=\"{ky}\" r=\"4\" fill=\"#4e79a7\"/><text x=\"{b}\" y=\"{ty}\">a day</text>\
         <rect x=\"{c}\" y=\"{ry}\" width=\"30\" height=\"10\" fill=\"#4e79a7\" fill-opacity=\"0.35\" stroke=\"#4e79a7\"/>\
         <text x=\"{d}\" y=\"{ty}\">a month or a year: as wide as it is</text>\
         <rect x=\"{e}\" y=\"{ry}\" width=\"12\" height=\"10\" fill=\"url(#uncertain)\" stroke=\"#4e79a7\"/>\
         <rect x=\"{f}\" y=\"{ry}\" width=\"30\" height=\"10\" fill=\"#4e79a7\" stroke=\"#4e79a7\"/>\
         <text x=\"{g}\" y=\"{ty}\">a range, its ends as precise as they are known</text></g>",
        a = num(left + 4.0),
        b = num(left + 12.0),
        c = num(left + 70.0),
        d = num(left + 106.0),
        e = num(left + 320.0),
        f = num(left + 332.0),
        g = num(left + 368.0),
        ky = num(ky),
        ty = num(ky + 4.0),
        ry = num(ky - 5.0),
    );
    // Axis and grid.
    let axis_y = top - 10.0;
    let _ = writeln!(
        s,
        "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#888\"/>",
        num(left),
        num(axis_y),
        num(left + PLOT_WIDTH),
        num(axis_y)
    );
    s.push_str("<g class=\"axis\" font-size=\"11\" fill=\"#444\">");
    for (day, text, major) in ticks(lo_f, hi_f) {
        let tx = x(day as f64);
        let _ = write!(
            s,
            "<line x1=\"{tx}\" y1=\"{}\" x2=\"{tx}\" y2=\"{}\" stroke=\"{}\"/>",
            num(axis_y - if major { 6.0 } else { 3.0 }),
            num(y - 8.0),
            if major { "#d8d8d8" } else { "#f0f0f0" },
            tx = num(tx)
        );
        if !text.is_empty() {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                num(tx),
                num(axis_y - 10.0),
                xml_escape(&text)
            );
        }
    }
    s.push_str("</g>\n");
    // Lanes.
    for (name, y0, y1, k) in &lane_bands {
        if k % 2 == 1 {
            let _ = writeln!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#f7f7f7\"/>",
                num(MARGIN),
                num(y0 - 4.0),
                num(lane_width + PLOT_WIDTH),
                num(y1 - y0 + 8.0)
            );
        }
        if !name.is_empty() {
            let _ = writeln!(
                s,
                "<text class=\"lane\" x=\"{}\" y=\"{}\" font-size=\"12\" font-weight=\"bold\" \
                 fill=\"{}\">{}</text>",
                num(MARGIN),
                num(y0 + ROW_HEIGHT / 2.0 + 4.0),
                colour(*k),
                xml_escape(&shorten(name, 28))
            );
        }
    }
    // Events.
    let lane_of = |i: usize| -> usize {
        let key = t
            .items
            .get(i)
            .and_then(|it| it.lane.as_ref().map(|l| l.to_string()));
        lanes.get_index_of(&key).unwrap_or(0)
    };
    s.push_str("<g class=\"events\">\n");
    for (i, cy) in placed {
        let Some(item) = t.items.get(i) else { continue };
        let c = colour(lane_of(i));
        let mut hover = match (&item.label, &item.value) {
            (Some(l), Value::Entity(n)) => format!("{l} ({n})"),
            _ => item.caption(),
        };
        let _ = write!(hover, "\n{}", item.when());
        if let Some(l) = &item.lane {
            let _ = write!(
                hover,
                "\n{}",
                item.lane_label.clone().unwrap_or_else(|| l.plain())
            );
        }
        if item.sources.is_empty() {
            hover.push_str("\nsource: none");
        } else {
            let _ = write!(hover, "\nsource: {}", item.sources.join(", "));
        }
        let name = match &item.value {
            Value::Entity(e) => e.clone(),
            v => v.to_string(),
        };
        let _ = write!(
            s,
            "<g class=\"event\" data-name=\"{}\" data-when=\"{}\"><title>{}</title>",
            xml_escape(&name),
            xml_escape(&item.when()),
            xml_escape(&hover)
        );
        let (a, b) = item.days();
        let x0 = x(a as f64);
        let x1 = x(b as f64 + 1.0);
        match item.end {
            None if item.start.precision() == Precision::Day => {
                let _ = write!(
                    s,
                    "<circle cx=\"{}\" cy=\"{}\" r=\"5\" fill=\"{c}\" stroke=\"#333\" stroke-width=\"0.6\"/>",
                    num((x0 + x1) / 2.0),
                    num(cy)
                );
            }
            None => {
                let _ = write!(
                    s,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" rx=\"2\" fill=\"{c}\" \
                     fill-opacity=\"0.35\" stroke=\"{c}\"/>",
                    num(x0),
                    num(cy - 6.0),
                    num((x1 - x0).max(2.0))
                );
            }
            Some(end) => {
                // The certain middle solid; each end hatched over the days it may fall on.
                let (s0, s1) = (
                    x(item.start.start_day() as f64),
                    x(item.start.end_day() as f64 + 1.0),
                );
                let (e0, e1) = (x(end.start_day() as f64), x(end.end_day() as f64 + 1.0));
                let _ = write!(
                    s,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"{c}\" stroke=\"{c}\"/>",
                    num(s1.min(e0)),
                    num(cy - 6.0),
                    num((e0 - s1).max(0.0))
                );
                for (u0, u1, p) in [(s0, s1, item.start.precision()), (e0, e1, end.precision())] {
                    if p == Precision::Day {
                        let _ = write!(
                            s,
                            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"{c}\" stroke=\"{c}\"/>",
                            num(u0),
                            num(cy - 6.0),
                            num((u1 - u0).max(1.5))
                        );
                    } else {
                        let _ = write!(
                            s,
                            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"12\" fill=\"url(#uncertain)\" \
                             stroke=\"{c}\"/>",
                            num(u0),
                            num(cy - 6.0),
                            num((u1 - u0).max(1.5))
                        );
                    }
                }
            }
        }
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#222\">{}</text></g>",
            num(x1.max(x0 + 10.0) + 6.0),
            num(cy + 4.0),
            xml_escape(&shorten(&item.caption(), 40))
        );
    }
    s.push_str("</g>\n");
    for (k, note) in t.notes.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text class=\"note\" x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#a33\">{}</text>",
            num(MARGIN),
            num(y + 12.0 + k as f64 * 16.0),
            xml_escape(note)
        );
    }
    if t.items.is_empty() {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"13\" fill=\"#666\">no dated events</text>",
            num(left + 10.0),
            num(top + 14.0)
        );
    }
    s.push_str("</svg>\n");
    s
}

fn colour(k: usize) -> &'static str {
    PALETTE.get(k % PALETTE.len()).copied().unwrap_or("#4e79a7")
}

/// Axis ticks between two day numbers: `(day, label, major)`.  Years when the span is long,
/// months (with years) when shorter, days for a few weeks.
fn ticks(lo: f64, hi: f64) -> Vec<(i32, String, bool)> {
    let (lo, hi) = (lo.ceil() as i32, hi.floor() as i32);
    let span = hi - lo;
    let mut out = Vec::new();
    let (y0, _, _) = civil_from_days(lo);
    let (y1, _, _) = civil_from_days(hi);
    if span > 365 * 4 {
        let step = match span / 365 {
            0..=12 => 1,
            13..=30 => 5,
            31..=120 => 10,
            121..=600 => 50,
            _ => 100,
        };
        for y in y0..=y1 {
            if let Ok(d) = Date::year(y) {
                if d.start_day() >= lo && d.start_day() <= hi {
                    let label = if y % step == 0 {
                        y.to_string()
                    } else {
                        String::new()
                    };
                    out.push((d.start_day(), label, y % step == 0));
                }
            }
            if out.len() > 2000 {
                break;
            }
        }
    } else if span > 45 {
        // Months; labelled every 1, 2, 3 or 6 months so labels do not collide.
        let every = match span / 30 {
            0..=12 => 1,
            13..=24 => 2,
            25..=36 => 3,
            _ => 6,
        };
        for y in y0..=y1 {
            for m in 1..=12u32 {
                let Ok(d) = Date::month(y, m) else { continue };
                let day = d.start_day();
                if day < lo || day > hi {
                    continue;
                }
                let label = if m == 1 {
                    y.to_string()
                } else if (m - 1) % every == 0 {
                    MONTHS
                        .get(m as usize - 1)
                        .copied()
                        .unwrap_or("")
                        .to_string()
                } else {
                    String::new()
                };
                out.push((day, label, m == 1));
            }
        }
    } else {
        let step = if span > 14 { 7 } else { 1 };
        for day in lo..=hi {
            let (y, m, d) = civil_from_days(day);
            if d == 1 || (day - lo) % step == 0 {
                let label = if d == 1 {
                    format!("{} {y}", MONTHS.get(m as usize - 1).copied().unwrap_or(""))
                } else {
                    d.to_string()
                };
                out.push((day, label, d == 1));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Db {
        let db = Db::memory().expect("db");
        db.execute(
            "from aa { offensive started 2019-04; ended 2020-06; label \"Tripoli offensive\".
                       talks date 2020-09-28; party gna. month_event date 2020-09; party lna.
                       year_event date @2020. }
             gna label \"GNA\".",
        )
        .expect("facts");
        db
    }

    fn svg_of(q: &str, o: &TimelineOptions) -> (Timeline, String) {
        let db = db();
        let rows = db.query(q).expect("rows");
        let t = timeline(&db, &rows, o).expect("timeline");
        let svg = timeline_svg(&t, o);
        (t, svg)
    }

    #[test]
    fn precision_is_drawn_as_it_is() {
        let (t, svg) = svg_of("find ?e ?d where ?e date ?d.", &TimelineOptions::default());
        assert_eq!(t.items.len(), 3);
        // A day is a point; a month and a year are bands, a year twelve times wider.
        assert_eq!(
            svg.matches("<circle cx").count(),
            2,
            "one event and the key"
        );
        let widths: Vec<f64> = svg
            .split("<g class=\"event\"")
            .skip(1)
            .filter_map(|g| g.split(" width=\"").nth(1))
            .filter_map(|w| w.split('"').next())
            .filter_map(|w| w.parse().ok())
            .collect();
        assert_eq!(widths.len(), 2, "{svg}");
        let ratio = widths[0] / widths[1];
        assert!((ratio - 366.0 / 30.0).abs() < 0.1, "{widths:?}");
        assert!(svg.contains("2020-09-28\nsource: aa</title>"), "{svg}");
    }

    #[test]
    fn ranges_lanes_and_windows() {
        let (t, svg) = svg_of(
            "find ?e ?s ?end where ?e started ?s; ended ?end.",
            &TimelineOptions::default(),
        );
        assert_eq!(t.items[0].end, Date::month(2020, 6).ok());
        assert_eq!(
            svg.matches("url(#uncertain)").count(),
            3,
            "two ends and the key"
        );
        let (t, svg) = svg_of(
            "find ?e ?d ?p where ?e date ?d; party ?p.",
            &TimelineOptions::default(),
        );
        assert_eq!(t.items[0].lane_label.as_deref(), Some("GNA"));
        assert!(svg.contains(">GNA</text>"));
        let o = TimelineOptions {
            from: Date::month(2020, 9).ok(),
            to: Date::month(2020, 9).ok(),
            ..TimelineOptions::default()
        };
        let (t, _) = svg_of("find ?e ?d where ?e date ?d.", &o);
        assert_eq!(t.items.len(), 3, "the year overlaps the window");
        let o = TimelineOptions {
            from: Date::day(2020, 9, 29).ok(),
            ..TimelineOptions::default()
        };
        let (t, _) = svg_of("find ?e ?d where ?e date ?d.", &o);
        assert_eq!(
            t.items.len(),
            2,
            "the month and the year reach past the 29th"
        );
        assert!(
            t.notes[0].contains("outside the window, not drawn: 1"),
            "{:?}",
            t.notes
        );
    }

    #[test]
    fn wrong_shapes_are_errors() {
        let db = db();
        let rows = db.query("find ?e where ?e date ?d.").expect("rows");
        assert!(timeline(&db, &rows, &TimelineOptions::default()).is_err());
        let rows = db.query("find ?e ?p where ?e party ?p.").expect("rows");
        let t = timeline(&db, &rows, &TimelineOptions::default()).expect("t");
        assert!(t.items.is_empty() && t.notes[0].contains("without a date"));
        assert!(timeline_svg(&t, &TimelineOptions::default()).contains("no dated events"));
    }

    #[test]
    fn ticks_fit_the_span() {
        let d = |y, m| {
            Date::month(y, m)
                .map(|d| d.start_day() as f64)
                .unwrap_or(0.0)
        };
        let t = ticks(d(2019, 4), d(2020, 10));
        assert!(t.iter().any(|(_, l, _)| l == "2020"));
        assert!(t.iter().any(|(_, l, _)| l == "Jul"));
        let t = ticks(d(1900, 1), d(2020, 1));
        assert!(t.iter().any(|(_, l, _)| l == "1950"));
    }
}
