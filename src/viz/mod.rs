//! Pictures of the knowledge: networks of entities and timelines of events, as SVG (and
//! networks as Graphviz DOT).  What the `dossier graph` and `dossier timeline` commands and
//! the web interface draw, usable from Rust too.
//!
//! Only dossier knows two things these pictures show: dates at their real precision (a
//! month is drawn a month wide, never rounded to a day) and the source of every fact (in
//! each mark's hover text).
//!
//! ```
//! use dossier::viz::{self, NetworkOptions};
//! let db = dossier::Db::memory()?;
//! db.execute("
//!     type Actor. type State sub Actor. type ArmedGroup sub Actor.
//!     egypt a State; label \"Egypt\".  turkey a State; label \"Turkey\".
//!     lna a ArmedGroup; label \"Libyan National Army\".
//!     lna backed_by egypt from aa_2020_09_28.
//!     gna backed_by turkey.
//! ")?;
//! let mut graph = viz::network(&db, &["lna"], &NetworkOptions::default())?;
//! assert_eq!(graph.nodes.len(), 2);
//! assert_eq!(graph.edges[0].predicate.as_deref(), Some("backed_by"));
//! assert_eq!(graph.edges[0].sources, ["aa_2020_09_28"]);
//! viz::layout(&mut graph);
//! let svg = viz::graph_svg(&graph, &viz::SvgOptions::default());
//! assert!(svg.contains("Libyan National Army") && svg.contains("<title>"));
//! assert!(viz::graph_dot(&graph).contains("\"lna\" -> \"egypt\""));
//! # Ok::<(), dossier::Error>(())
//! ```

mod dot;
mod graph;
mod layout;
mod svg;
mod timeline;

pub use dot::graph_dot;
pub use graph::{
    graph_from_rows, neighbourhood, network, Edge, Fact, Graph, Neighbourhood, NetworkOptions, Node,
};
pub use layout::layout;
pub use svg::{graph_svg, SvgOptions};
pub use timeline::{
    dated_events, timeline, timeline_svg, Item, Timeline, TimelineOptions, DATED_EVENTS_QUERIES,
};

/// Text safe inside XML character data and attribute values.
pub(crate) fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `s` cut to `max` characters, with `…` when cut.
pub(crate) fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The width in pixels of `s` in a sans-serif font of `size` pixels (an estimate: the
/// pictures are made without font files, so label boxes are sized by character classes).
pub(crate) fn text_width(s: &str, size: f64) -> f64 {
    s.chars()
        .map(|c| match c {
            'i' | 'j' | 'l' | '.' | ',' | '\'' | '|' | ' ' | ':' | ';' | '!' => 0.3,
            'f' | 't' | 'r' | '(' | ')' | '-' | '[' | ']' => 0.4,
            'm' | 'w' | 'M' | 'W' => 0.85,
            c if c.is_ascii_uppercase() => 0.68,
            c if c.is_ascii_digit() => 0.56,
            _ => 0.55,
        })
        .sum::<f64>()
        * size
}

/// Colours given to groups of nodes or lanes, in order (Tableau 10).
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];

/// The colour of nodes without a type.
pub(crate) const UNTYPED: &str = "#d9d9d9";

/// A number for SVG: two decimals at most, no trailing zeros, never NaN.
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return "0".into();
    }
    let s = format!("{:.2}", x);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_text_are_safe_for_svg() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(2.345), "2.35");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(
            xml_escape("a<b & \"c\"\u{1}"),
            "a&lt;b &amp; &quot;c&quot; "
        );
        assert_eq!(shorten("abcdef", 4), "abc…");
        assert_eq!(shorten("abc", 4), "abc");
    }
}
