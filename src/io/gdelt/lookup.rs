//! GDELT's lookup tables, compiled in: CAMEO event codes, CAMEO actor type codes, and FIPS
//! 10-4 country codes (what the `*Geo_CountryCode` columns use) with their ISO 3166 codes.
//!
//! The files next to this one are vendored unchanged (see `README.md` there); the two
//! known glitches of GDELT's own `CAMEO.eventcodes.txt` are repaired while loading, here,
//! so that the vendored copy stays byte-identical to its source.

use rustc_hash::FxHashMap;
use std::sync::OnceLock;

const EVENT_CODES: &str = include_str!("CAMEO.eventcodes.txt");
const ACTOR_TYPES: &str = include_str!("CAMEO.type.txt");
const FIPS_COUNTRIES: &str = include_str!("fips_countries.json");

/// A country as the FIPS table names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Country {
    pub fips: String,
    pub iso3: String,
    pub name: String,
}

pub(crate) struct Tables {
    /// CAMEO event code (`"043"`) → description (`"Host a visit"`).
    pub event_codes: FxHashMap<String, String>,
    /// CAMEO actor type code (`"GOV"`) → label (`"Government"`).
    pub actor_types: FxHashMap<String, String>,
    /// FIPS 10-4 code (`"LY"`) → country.
    pub by_fips: FxHashMap<String, Country>,
    /// ISO 3166-1 alpha-3 code (`"LBY"`) → country.
    pub by_iso3: FxHashMap<String, Country>,
}

/// The tables, parsed on first use.
pub(crate) fn tables() -> &'static Tables {
    static TABLES: OnceLock<Tables> = OnceLock::new();
    TABLES.get_or_init(|| {
        let (by_fips, by_iso3) = countries(FIPS_COUNTRIES);
        Tables {
            event_codes: event_codes(EVENT_CODES),
            actor_types: actor_types(ACTOR_TYPES),
            by_fips,
            by_iso3,
        }
    })
}

/// `CODE<TAB>DESCRIPTION` lines after a header, with GDELT's glitches repaired:
///
/// * code 044's description is mojibake (`Meet at a Ã’hirdÃ“location`, a curly-quoted
///   "third" decoded with the wrong charset, with the `t` lost): restored;
/// * code 106 is fused onto the end of the 1056 line
///   (`...military engagement106:[-5.0] Demand withdrawal`, with its Goldstein score):
///   split back into two entries;
/// * code 2041 lacks a space (`radiologicalweapons`).
fn event_codes(text: &str) -> FxHashMap<String, String> {
    let mut map = FxHashMap::default();
    for line in text.lines().skip(1) {
        let Some((code, desc)) = line.trim_end_matches('\r').split_once('\t') else {
            continue;
        };
        let (code, desc) = (code.trim(), desc.trim());
        if let Some((first, (fused_code, fused_desc))) = split_fused(desc) {
            map.insert(code.to_string(), first.to_string());
            map.insert(fused_code.to_string(), fused_desc.to_string());
            continue;
        }
        let desc = match code {
            "044" if desc.contains('Ã') => "Meet at a \"third\" location".to_string(),
            _ => desc.replace("radiologicalweapons", "radiological weapons"),
        };
        map.insert(code.to_string(), desc);
    }
    map
}

/// `text106:[-5.0] other text` → (`text`, (`106`, `other text`)).
fn split_fused(desc: &str) -> Option<(&str, (&str, &str))> {
    let colon = desc.find(":[")?;
    let digits = desc[..colon]
        .bytes()
        .rev()
        .take_while(u8::is_ascii_digit)
        .count();
    if digits < 2 {
        return None;
    }
    let close = colon + desc[colon..].find(']')?;
    let first = desc[..colon - digits].trim();
    let code = &desc[colon - digits..colon];
    Some((first, (code, desc[close + 1..].trim())))
}

/// `CODE<TAB>LABEL` lines after a header (the file lists `UIS` twice; the first wins).
fn actor_types(text: &str) -> FxHashMap<String, String> {
    let mut map = FxHashMap::default();
    for line in text.lines().skip(1) {
        if let Some((code, label)) = line.trim_end_matches('\r').split_once('\t') {
            map.entry(code.trim().to_string())
                .or_insert_with(|| label.trim().to_string());
        }
    }
    map
}

/// `{ "FIPS": { "iso3": ..., "name": ... }, ... }`.
fn countries(text: &str) -> (FxHashMap<String, Country>, FxHashMap<String, Country>) {
    let mut by_fips = FxHashMap::default();
    let mut by_iso3 = FxHashMap::default();
    let Ok(serde_json::Value::Object(entries)) = serde_json::from_str::<serde_json::Value>(text)
    else {
        return (by_fips, by_iso3);
    };
    for (fips, v) in entries {
        let field = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let c = Country {
            fips: fips.clone(),
            iso3: field("iso3"),
            name: field("name"),
        };
        if !c.iso3.is_empty() {
            by_iso3.entry(c.iso3.clone()).or_insert_with(|| c.clone());
        }
        by_fips.insert(fips, c);
    }
    (by_fips, by_iso3)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_are_repaired() {
        let t = tables();
        assert_eq!(t.event_codes.len(), 311); // 310 lines, one of them holding two codes
        assert_eq!(t.event_codes["01"], "MAKE PUBLIC STATEMENT");
        assert_eq!(t.event_codes["043"], "Host a visit");
        assert_eq!(t.event_codes["044"], "Meet at a \"third\" location");
        assert_eq!(
            t.event_codes["1056"],
            "Demand de-escalation of military engagement"
        );
        assert_eq!(t.event_codes["106"], "Demand withdrawal");
        assert_eq!(
            t.event_codes["2041"],
            "Use chemical, biological, or radiological weapons"
        );
        assert_eq!(t.event_codes["2042"], "Detonate nuclear weapons");
    }

    #[test]
    fn actor_types_and_countries() {
        let t = tables();
        assert_eq!(t.actor_types["GOV"], "Government");
        assert_eq!(t.actor_types["UIS"], "Unidentified State Actor");
        assert_eq!(t.actor_types.len(), 39);
        assert_eq!(t.by_fips.len(), 249);
        assert_eq!(t.by_fips["LY"].iso3, "LBY");
        assert_eq!(t.by_iso3["LBY"].name, "Libya");
        assert_eq!(t.by_fips["AG"].iso3, "DZA"); // FIPS AG is Algeria, not Antigua
    }
}
