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
mod row;

use super::{BadRows, Format, ImportSummary, QuadSink};
use crate::diag::Report;
use crate::error::Result;
use crate::model::{Quad, Value, TYPE_PREDICATE};
use lookup::{tables, Tables};
use row::{column_of_field, Actor, Place, Row};
use rustc_hash::FxHashSet;
use std::io::{BufRead, BufReader, Read};

/// How to import one GDELT file.
#[derive(Debug, Clone, Default)]
pub struct GdeltOptions {
    /// The source of every imported fact.
    pub source: Option<String>,
    /// Whether a row that cannot be read stops the import or is skipped.
    pub bad_rows: BadRows,
}

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
            // A region in an actor's place (CAMEO `EUR`, `AFR`) is a regional actor: it is
            // then both a Region and an Actor, as a State is both a Country and an Actor.
            self.fact(&name, TYPE_PREDICATE, Value::entity(ty));
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
}
