//! GDELT event exports in: the built-in mapping from GDELT's columns to the schema's names
//! (`examples/schema.dq`).
//!
//! A GDELT event file is tab-separated with no header.  Three row layouts exist and may be
//! mixed in one file (the 1.0 daily files and the 1.0 backfile were often concatenated):
//!
//! | layout | columns | geography blocks | last columns |
//! |---|---|---|---|
//! | GDELT 1.0 backfile | 57 | 7 fields each | DATEADDED |
//! | GDELT 1.0 daily | 58 | 7 fields each | DATEADDED, SOURCEURL |
//! | GDELT 2.0 | 61 | 8 fields each (adds ADM2Code) | DATEADDED, SOURCEURL |
//!
//! Each row becomes the event `gdelt:{GLOBALEVENTID}` with these facts:
//!
//! | GDELT column | fact |
//! |---|---|
//! | EventCode / EventRootCode | `a T`: the CAMEO root's type (19 → `Offensive`, 04 → `Meeting`, 045/046 → `Talks`, 057 → `Signing`, ...) |
//! | SQLDATE | `date` (day precision) |
//! | Actor1*, Actor2* | `actor1`, `actor2` → the actor entity (below) |
//! | EventCode, EventBaseCode, EventRootCode | `event_code`, `event_base` (when finer than the root), `event_root` → `cameo:{code}` |
//! | QuadClass | `quad_class` (int) |
//! | GoldsteinScale | `goldstein` (float) |
//! | NumMentions, NumSources, NumArticles | `num_mentions`, `num_sources`, `num_articles` (int) |
//! | AvgTone | `avg_tone` (float) |
//! | IsRootEvent | `root_event` (bool) |
//! | ActionGeo_* | `venue` → the place (below) |
//! | DATEADDED | `date_added` (day precision) |
//! | SOURCEURL | `source_url` (string) |
//!
//! Things the events point at are described once per import:
//!
//! * actors: `actor:{CAMEO code}` (`actor:LBYGOV`), or `country:{ISO3}` when the code is
//!   just a country (the state acting as a whole) — `a` a type from the first role code
//!   (GOV → `Government`, MIL → `Military`, REB/INS → `Rebels`, IGO → `IGO`, ...; a bare
//!   country → `State`), `label` (first name seen; later names are `alias`es),
//!   `cameo_code`, `country`, `role role:GOV`, `known_group`, `ethnicity`, `religion`;
//! * countries: `country:{ISO3}` `a Country`, `label`, `iso3`, `fips`, from GDELT's FIPS
//!   table; CAMEO codes that are not countries (AFR, EUR, MEA) are `region:{code}`;
//! * places: `place:{FeatureID}` `a City` (geo types 3, 4) or `Region` (2, 5), `label`,
//!   `located_in` its country, `latitude`, `longitude`, `adm1`, `adm2`; a country-level
//!   location (geo type 1) is the country itself;
//! * codes: `cameo:{code}` `a EventCode`, `code`, `label` (the CAMEO description);
//!   `role:{code}` `a ActorRole`, `code`, `label`.
//!
//! The actor and place columns of Actor1Geo/Actor2Geo (where each actor was mentioned)
//! are not imported: ActionGeo is where the event happened.

mod lookup;

use super::{BadRows, Format, ImportSummary, QuadSink};
use crate::diag::Report;
use crate::error::Result;
use crate::model::{Date, Quad, Value, TYPE_PREDICATE};
use lookup::{tables, Tables};
use rustc_hash::FxHashSet;
use std::io::{BufRead, BufReader, Read};

/// How to import one GDELT file.
#[derive(Debug, Clone, Default)]
pub struct GdeltOptions {
    /// The source of every imported fact.
    pub source: Option<String>,
    pub bad_rows: BadRows,
}

/// The row layouts, told apart by their number of columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
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

    fn description(self) -> &'static str {
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

/// Stream a GDELT event file, handing the facts of each event to `sink`.
///
/// A row that cannot be read (wrong number of columns, a non-numeric id, an impossible
/// date, a number that is not one) is reported with its line; [`GdeltOptions::bad_rows`]
/// decides whether that stops the import.  None of a bad row's facts reach the sink.
pub fn import<R: Read, S: QuadSink + ?Sized>(
    reader: R,
    file: Option<&str>,
    opts: &GdeltOptions,
    sink: &mut S,
) -> Result<ImportSummary> {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut conv = Converter {
        tables: tables(),
        source: opts.source.as_deref(),
        seen: FxHashSet::default(),
        out: Vec::with_capacity(64),
    };
    let mut summary = ImportSummary::new(Format::Gdelt);
    let mut buf = Vec::with_capacity(4096);
    let mut line_no = 0usize;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| super::read_error(file, e))?;
        if n == 0 {
            break;
        }
        line_no += 1;
        let bytes = buf.strip_suffix(b"\n").unwrap_or(&buf);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let line = match std::str::from_utf8(bytes) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => {
                summary.count("rows not valid UTF-8 (read with replacement characters)");
                String::from_utf8_lossy(bytes)
            }
        };
        summary.records += 1;
        let fields: Vec<&str> = line.split('\t').collect();
        match Row::parse(&fields) {
            Ok((layout, row)) => {
                summary.count(layout.description());
                conv.out.clear();
                conv.event(&row, &mut summary);
                for q in conv.out.drain(..) {
                    sink.push(q)?;
                    summary.facts += 1;
                }
            }
            Err((field, message)) => {
                let column = column_of_field(&line, field);
                let report = Report::at_line(
                    file,
                    line_no,
                    column,
                    &line,
                    format!("bad GDELT row: {message}"),
                );
                summary.bad_record(opts.bad_rows, report)?;
            }
        }
    }
    Ok(summary)
}

/// 1-based character column where field `field` starts.
fn column_of_field(line: &str, field: usize) -> usize {
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
type RowError = (usize, String);

/// One event row, checked and converted, borrowing its text from the line.
struct Row<'a> {
    id: &'a str,
    date: Date,
    actors: [Option<Actor<'a>>; 2],
    is_root: Option<bool>,
    code: &'a str,
    base: &'a str,
    root: &'a str,
    quad_class: Option<i64>,
    goldstein: Option<f64>,
    mentions: Option<i64>,
    sources: Option<i64>,
    articles: Option<i64>,
    tone: Option<f64>,
    place: Option<Place<'a>>,
    date_added: Option<Date>,
    url: &'a str,
}

struct Actor<'a> {
    code: &'a str,
    name: &'a str,
    country: &'a str,
    known_group: &'a str,
    ethnic: &'a str,
    religions: [&'a str; 2],
    roles: [&'a str; 3],
}

struct Place<'a> {
    geo_type: i64,
    name: &'a str,
    country_fips: &'a str,
    adm1: &'a str,
    adm2: &'a str,
    lat: Option<f64>,
    long: Option<f64>,
    feature: &'a str,
}

impl<'a> Row<'a> {
    /// Check and convert a row's fields; the error names the first bad field.
    fn parse(f: &[&'a str]) -> std::result::Result<(Layout, Row<'a>), RowError> {
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

/// The schema type of an event, from its CAMEO code.
fn event_type(code: &str, root: &str) -> &'static str {
    if code.starts_with("045") || code.starts_with("046") {
        return "Talks";
    }
    if code.starts_with("057") {
        return "Signing";
    }
    let root = if root.is_empty() {
        code.get(..2).unwrap_or("")
    } else {
        root
    };
    match root {
        "01" => "Statement",
        "02" => "Appeal",
        "03" => "IntentToCooperate",
        "04" => "Meeting",
        "05" => "DiplomaticCooperation",
        "06" => "Collaboration",
        "07" => "Aid",
        "08" => "Concession",
        "09" => "Investigation",
        "10" => "Demand",
        "11" => "Disapproval",
        "12" => "Rejection",
        "13" => "Threat",
        "14" => "Protest",
        "15" => "ForcePosture",
        "16" => "ReducedRelations",
        "17" => "Coercion",
        "18" => "Assault",
        "19" => "Offensive",
        "20" => "MassViolence",
        _ => "Event",
    }
}

/// The schema type of an actor, from its first CAMEO role code.
fn actor_type(role: &str) -> &'static str {
    match role {
        "GOV" => "Government",
        "LEG" => "Legislature",
        "JUD" => "Judiciary",
        "MIL" => "Military",
        "COP" => "Police",
        "SPY" => "Intelligence",
        "REB" | "INS" => "Rebels",
        "SEP" => "Separatists",
        "UAF" => "Militia",
        "IMG" => "ArmedGroup",
        "OPP" => "Opposition",
        "IGO" | "UNO" => "IGO",
        "PKO" => "Peacekeepers",
        "NGO" | "AMN" | "IRC" | "GRP" => "NGO",
        "NGM" => "Movement",
        "BUS" | "MNC" => "Company",
        "MED" => "Media",
        "CVL" => "Civilians",
        "REF" => "Refugees",
        _ => "Actor",
    }
}

/// Builds the facts of one row into `out`, describing each actor, place and code only the
/// first time the import meets it.
struct Converter<'t> {
    tables: &'t Tables,
    source: Option<&'t str>,
    /// Keys of descriptions already emitted.
    seen: FxHashSet<String>,
    out: Vec<Quad>,
}

impl Converter<'_> {
    fn fact(&mut self, s: &str, p: &str, o: Value) {
        self.out.push(Quad {
            subject: s.to_string(),
            predicate: p.to_string(),
            object: o,
            source: self.source.map(str::to_string),
        });
    }

    /// True the first time `key` is seen.
    fn first(&mut self, key: String) -> bool {
        self.seen.insert(key)
    }

    fn event(&mut self, r: &Row, summary: &mut ImportSummary) {
        let ev = format!("gdelt:{}", r.id);
        self.fact(
            &ev,
            TYPE_PREDICATE,
            Value::entity(event_type(r.code, r.root)),
        );
        self.fact(&ev, "date", Value::Date(r.date));
        for (pred, actor) in ["actor1", "actor2"].into_iter().zip(&r.actors) {
            if let Some(a) = actor {
                let name = self.actor(a);
                self.fact(&ev, pred, Value::Entity(name));
            }
        }
        if !r.code.is_empty() {
            let c = self.event_code(r.code, summary);
            self.fact(&ev, "event_code", Value::Entity(c));
        }
        if !r.base.is_empty() && r.base != r.code && r.base != r.root {
            let c = self.event_code(r.base, summary);
            self.fact(&ev, "event_base", Value::Entity(c));
        }
        if !r.root.is_empty() {
            let c = self.event_code(r.root, summary);
            self.fact(&ev, "event_root", Value::Entity(c));
        }
        let ints = [
            ("quad_class", r.quad_class),
            ("num_mentions", r.mentions),
            ("num_sources", r.sources),
            ("num_articles", r.articles),
        ];
        for (p, v) in ints {
            if let Some(v) = v {
                self.fact(&ev, p, Value::Int(v));
            }
        }
        for (p, v) in [("goldstein", r.goldstein), ("avg_tone", r.tone)] {
            if let Some(v) = v {
                self.fact(&ev, p, Value::Float(v));
            }
        }
        if let Some(b) = r.is_root {
            self.fact(&ev, "root_event", Value::Bool(b));
        }
        if let Some(p) = &r.place {
            if let Some(place) = self.place(p) {
                self.fact(&ev, "venue", Value::Entity(place));
            }
        }
        if let Some(d) = r.date_added {
            self.fact(&ev, "date_added", Value::Date(d));
        }
        if !r.url.is_empty() {
            self.fact(&ev, "source_url", Value::string(r.url));
        }
    }

    /// `cameo:{code}`, described the first time.
    fn event_code(&mut self, code: &str, summary: &mut ImportSummary) -> String {
        let name = format!("cameo:{code}");
        if self.first(name.clone()) {
            self.fact(&name, TYPE_PREDICATE, Value::entity("EventCode"));
            self.fact(&name, "code", Value::string(code));
            match self.tables.event_codes.get(code) {
                Some(desc) => self.fact(&name, "label", Value::string(desc.as_str())),
                None => summary.count("CAMEO event codes not in the lookup table"),
            }
        }
        name
    }

    /// The entity of a bare country or region code (ISO 3166 alpha-3 or CAMEO region),
    /// described the first time.
    fn country_of_iso3(&mut self, code: &str) -> String {
        match self.tables.by_iso3.get(code) {
            Some(c) => {
                let name = format!("country:{code}");
                if self.first(name.clone()) {
                    let (label, fips) = (c.name.clone(), c.fips.clone());
                    self.describe_country(&name, &label, code, &fips);
                }
                name
            }
            None => {
                let name = format!("region:{code}");
                if self.first(name.clone()) {
                    self.fact(&name, TYPE_PREDICATE, Value::entity("Region"));
                    self.fact(&name, "code", Value::string(code));
                }
                name
            }
        }
    }

    /// The entity of a FIPS country code (GDELT geography), described the first time.
    fn country_of_fips(&mut self, fips: &str) -> String {
        match self.tables.by_fips.get(fips).map(|c| c.iso3.clone()) {
            Some(iso3) if !iso3.is_empty() => self.country_of_iso3(&iso3),
            _ => {
                let name = format!("fips:{fips}");
                if self.first(name.clone()) {
                    self.fact(&name, TYPE_PREDICATE, Value::entity("Country"));
                    self.fact(&name, "fips", Value::string(fips));
                }
                name
            }
        }
    }

    fn describe_country(&mut self, name: &str, label: &str, iso3: &str, fips: &str) {
        self.fact(name, TYPE_PREDICATE, Value::entity("Country"));
        if !label.is_empty() {
            self.fact(name, "label", Value::string(label));
        }
        self.fact(name, "iso3", Value::string(iso3));
        if !fips.is_empty() {
            self.fact(name, "fips", Value::string(fips));
        }
    }

    /// The actor's entity, described the first time (and each new name the first time).
    fn actor(&mut self, a: &Actor) -> String {
        let bare_country = a.code.len() == 3
            && a.code.bytes().all(|b| b.is_ascii_uppercase())
            && (a.code == a.country || self.tables.by_iso3.contains_key(a.code));
        let name = if bare_country {
            self.country_of_iso3(a.code)
        } else {
            format!("actor:{}", a.code)
        };
        let is_region = name.starts_with("region:");
        if self.first(format!("{name}\u{0}actor")) {
            let ty = if bare_country && !is_region {
                "State"
            } else {
                actor_type(a.roles[0])
            };
            if !(is_region && ty == "Actor") {
                self.fact(&name, TYPE_PREDICATE, Value::entity(ty));
            }
            self.fact(&name, "cameo_code", Value::string(a.code));
            for (i, role) in a.roles.iter().enumerate() {
                // CAMEO repeats a role for emphasis (UAFUAF): one fact is enough.
                if role.is_empty() || a.roles[..i].contains(role) {
                    continue;
                }
                let r = self.role(role);
                self.fact(&name, "role", Value::Entity(r));
            }
        }
        // Names: a country keeps the table's name as its label; other actors take the
        // first name seen.  Every other name is an alias.
        if !a.name.is_empty() && self.first(format!("{name}\u{0}name\u{0}{}", a.name)) {
            let has_label = bare_country && !is_region;
            if !has_label && self.first(format!("{name}\u{0}label")) {
                self.fact(&name, "label", Value::string(a.name));
            } else {
                self.fact(&name, "alias", Value::string(a.name));
            }
        }
        if !a.country.is_empty() && a.country != a.code {
            let c = self.country_of_iso3(a.country);
            if self.first(format!("{name}\u{0}country\u{0}{c}")) {
                self.fact(&name, "country", Value::Entity(c));
            }
        }
        let strings = [
            ("known_group", a.known_group),
            ("ethnicity", a.ethnic),
            ("religion", a.religions[0]),
            ("religion", a.religions[1]),
        ];
        for (p, v) in strings {
            if !v.is_empty() && self.first(format!("{name}\u{0}{p}\u{0}{v}")) {
                self.fact(&name, p, Value::string(v));
            }
        }
        name
    }

    /// `role:{code}`, described the first time.
    fn role(&mut self, code: &str) -> String {
        let name = format!("role:{code}");
        if self.first(name.clone()) {
            self.fact(&name, TYPE_PREDICATE, Value::entity("ActorRole"));
            self.fact(&name, "code", Value::string(code));
            if let Some(label) = self.tables.actor_types.get(code) {
                self.fact(&name, "label", Value::string(label.as_str()));
            }
        }
        name
    }

    /// The event's place, described the first time; `None` when it has no identity.
    fn place(&mut self, p: &Place) -> Option<String> {
        if p.geo_type == 1 {
            return (!p.country_fips.is_empty()).then(|| self.country_of_fips(p.country_fips));
        }
        let id = if !p.feature.is_empty() {
            p.feature
        } else {
            p.adm1
        };
        if id.is_empty() {
            return None;
        }
        let name = format!("place:{id}");
        if self.first(name.clone()) {
            let ty = if matches!(p.geo_type, 3 | 4) {
                "City"
            } else {
                "Region"
            };
            self.fact(&name, TYPE_PREDICATE, Value::entity(ty));
            if !p.country_fips.is_empty() {
                let c = self.country_of_fips(p.country_fips);
                self.fact(&name, "located_in", Value::Entity(c));
            }
            if let Some(lat) = p.lat {
                self.fact(&name, "latitude", Value::Float(lat));
            }
            if let Some(long) = p.long {
                self.fact(&name, "longitude", Value::Float(long));
            }
            for (pred, v) in [("adm1", p.adm1), ("adm2", p.adm2)] {
                if !v.is_empty() {
                    self.fact(&name, pred, Value::string(v));
                }
            }
        }
        if !p.name.is_empty() && self.first(format!("{name}\u{0}name\u{0}{}", p.name)) {
            let pred = if self.first(format!("{name}\u{0}label")) {
                "label"
            } else {
                "alias"
            };
            self.fact(&name, pred, Value::string(p.name));
        }
        Some(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_from_codes() {
        assert_eq!(event_type("190", "19"), "Offensive");
        assert_eq!(event_type("0431", "04"), "Meeting");
        assert_eq!(event_type("046", "04"), "Talks");
        assert_eq!(event_type("057", "05"), "Signing");
        assert_eq!(event_type("1056", ""), "Demand");
        assert_eq!(event_type("", ""), "Event");
        assert_eq!(actor_type("GOV"), "Government");
        assert_eq!(actor_type("XYZ"), "Actor");
    }

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
}
