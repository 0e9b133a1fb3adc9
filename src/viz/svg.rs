//! A laid-out [`Graph`] as a standalone SVG: nodes coloured by type with a legend, edges
//! named by predicate, and hover text (`<title>`) with names, types and sources.

use super::{num, shorten, text_width, xml_escape, Graph};
use std::collections::HashMap;
use std::fmt::Write;

/// How to draw a network.
#[derive(Debug, Clone)]
pub struct SvgOptions {
    /// Write each edge's sources beside its predicate (they are always in its hover text).
    pub sources: bool,
    /// A heading above the picture.
    pub title: Option<String>,
    /// Draw predicates on edges and every node's label up to this many nodes; past it,
    /// only the labels of roots and busy nodes (everything stays in the hover text).
    pub label_all_up_to: usize,
}

impl Default for SvgOptions {
    fn default() -> Self {
        SvgOptions {
            sources: false,
            title: None,
            label_all_up_to: 60,
        }
    }
}

const MARGIN: f64 = 40.0;
const FONT: &str = "font-family=\"Helvetica, Arial, sans-serif\"";

/// The SVG text of a laid-out graph (see [`super::layout`]).
pub fn graph_svg(graph: &Graph, options: &SvgOptions) -> String {
    let n = graph.nodes.len();
    let small = n <= options.label_all_up_to;
    let degrees = graph.degrees();
    let radius = |i: usize| -> f64 {
        let d = degrees.get(i).copied().unwrap_or(0) as f64;
        if small {
            (8.0 + d.sqrt() * 2.0).min(18.0)
        } else {
            (3.5 + d.sqrt()).min(12.0)
        }
    };
    let font = if small { 12.0 } else { 9.0 };
    let labelled: Vec<bool> = (0..n)
        .map(|i| {
            small
                || graph.nodes.get(i).is_some_and(|nd| nd.depth == 0)
                || degrees.get(i).copied().unwrap_or(0) >= 4
        })
        .collect();
    // Extent: nodes with their labels.
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (i, nd) in graph.nodes.iter().enumerate() {
        let half = if labelled[i] {
            text_width(&shorten(&nd.caption(), 32), font) / 2.0
        } else {
            0.0
        };
        let r = radius(i);
        x0 = x0.min(nd.x - r.max(half));
        x1 = x1.max(nd.x + r.max(half));
        y0 = y0.min(nd.y - r);
        y1 = y1.max(nd.y + r + font + 4.0);
    }
    if n == 0 {
        (x0, y0, x1, y1) = (0.0, 0.0, 200.0, 40.0);
    }
    let head = head_height(graph, options);
    let legend_width = graph
        .legend
        .iter()
        .map(|(g, _)| text_width(g, 12.0) + 30.0)
        .sum::<f64>();
    let width = (x1 - x0 + 2.0 * MARGIN).max(legend_width + 2.0 * MARGIN);
    let notes_height = graph.notes.len() as f64 * 16.0;
    let height = y1 - y0 + 2.0 * MARGIN + head + notes_height;
    // Picture coordinates of node i.
    let at = |i: usize| -> (f64, f64) {
        graph.nodes.get(i).map_or((0.0, 0.0), |nd| {
            (nd.x - x0 + MARGIN, nd.y - y0 + MARGIN + head)
        })
    };

    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" {FONT} class=\"dossier-graph\">",
        w = num(width),
        h = num(height)
    );
    s.push_str(
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
         markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" \
         fill=\"#8a8a8a\"/></marker></defs>\n",
    );
    let _ = writeln!(s, "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>");
    write_head(&mut s, graph, options);

    // Edges between one pair of nodes fan out as curves.
    let mut pairs: HashMap<(usize, usize), usize> = HashMap::new();
    for e in &graph.edges {
        *pairs
            .entry((e.from.min(e.to), e.from.max(e.to)))
            .or_default() += 1;
    }
    let mut seen: HashMap<(usize, usize), usize> = HashMap::new();
    s.push_str("<g class=\"edges\">\n");
    for e in &graph.edges {
        let key = (e.from.min(e.to), e.from.max(e.to));
        let count = pairs.get(&key).copied().unwrap_or(1);
        let slot = seen.entry(key).or_default();
        let k = *slot;
        *slot += 1;
        let (p1, p2) = (at(e.from), at(e.to));
        let subject = graph
            .nodes
            .get(e.from)
            .map(|n| n.name())
            .unwrap_or_default();
        let object = graph.nodes.get(e.to).map(|n| n.name()).unwrap_or_default();
        let predicate = e.predicate.as_deref().unwrap_or("");
        let mut hover = format!("{subject} {predicate} {object}");
        hover = hover.replace("  ", " ");
        if e.sources.is_empty() {
            hover.push_str("\nsource: none");
        } else {
            let _ = write!(hover, "\nsource: {}", e.sources.join(", "));
        }
        let _ = write!(
            s,
            "<g class=\"edge\" data-from=\"{}\" data-to=\"{}\"><title>{}</title>",
            xml_escape(&subject),
            xml_escape(&object),
            xml_escape(&hover)
        );
        if e.from == e.to {
            // A loop: a small circle beside the node.
            let r = radius(e.from);
            let _ = write!(
                s,
                "<circle cx=\"{}\" cy=\"{}\" r=\"{}\" fill=\"none\" stroke=\"#a0a0a0\"/>",
                num(p1.0 + r),
                num(p1.1 - r),
                num(r * 0.8)
            );
            s.push_str("</g>\n");
            continue;
        }
        // Perpendicular offset of the curve's control point; both directions of one pair
        // share the frame of the pair's first node.
        let (a, b) = if e.from <= e.to { (p1, p2) } else { (p2, p1) };
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt().max(1e-6);
        let offset = (k as f64 - (count as f64 - 1.0) / 2.0) * 28.0;
        let mid = ((p1.0 + p2.0) / 2.0, (p1.1 + p2.1) / 2.0);
        let c = (mid.0 - dy / len * offset, mid.1 + dx / len * offset);
        let start = toward(p1, c, radius(e.from));
        let end = toward(p2, c, radius(e.to) + 2.0);
        let _ = write!(
            s,
            "<path d=\"M{} {}Q{} {} {} {}\" fill=\"none\" stroke=\"#a0a0a0\" \
             stroke-width=\"1.2\" marker-end=\"url(#arrow)\"/>",
            num(start.0),
            num(start.1),
            num(c.0),
            num(c.1),
            num(end.0),
            num(end.1)
        );
        if small && !predicate.is_empty() {
            let mut text = predicate.to_string();
            if options.sources && !e.sources.is_empty() {
                let _ = write!(text, " [{}]", e.sources.join(", "));
            }
            // The curve's midpoint.
            let m = (
                0.25 * p1.0 + 0.5 * c.0 + 0.25 * p2.0,
                0.25 * p1.1 + 0.5 * c.1 + 0.25 * p2.1,
            );
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#555\" text-anchor=\"middle\" \
                 stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
                num(m.0),
                num(m.1 + 3.0),
                xml_escape(&shorten(&text, 48))
            );
        }
        s.push_str("</g>\n");
    }
    s.push_str("</g>\n<g class=\"nodes\">\n");
    for (i, nd) in graph.nodes.iter().enumerate() {
        let (x, y) = at(i);
        let r = radius(i);
        let name = nd.name();
        let mut hover = match &nd.label {
            Some(l) => format!("{l} ({name})"),
            None => name.clone(),
        };
        if let Some(k) = &nd.kind {
            let _ = write!(hover, "\ntype: {k}");
        }
        if nd.hidden > 0 {
            let _ = write!(hover, "\n+{} neighbours not shown", nd.hidden);
        }
        let literal = !matches!(nd.value, crate::Value::Entity(_));
        let _ = write!(
            s,
            "<g class=\"node\" data-name=\"{}\"><title>{}</title><circle cx=\"{}\" cy=\"{}\" \
             r=\"{}\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{}\"/>",
            xml_escape(&name),
            xml_escape(&hover),
            num(x),
            num(y),
            num(r),
            if literal { "#ffffff" } else { graph.colour(i) },
            if nd.depth == 0 && !literal {
                "#222"
            } else {
                "#666"
            },
            if nd.depth == 0 && !literal { "2" } else { "1" }
        );
        if nd.hidden > 0 {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"#222\">+</text>",
                num(x + r * 0.7),
                num(y - r * 0.7),
                num(font + 2.0)
            );
        }
        if labelled[i] {
            let _ = write!(
                s,
                "<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"middle\" fill=\"#222\" \
                 stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">{}</text>",
                num(x),
                num(y + r + font + 1.0),
                num(font),
                xml_escape(&shorten(&nd.caption(), 32))
            );
        }
        s.push_str("</g>\n");
    }
    s.push_str("</g>\n");
    for (k, note) in graph.notes.iter().enumerate() {
        let _ = writeln!(
            s,
            "<text class=\"note\" x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#a33\">{}</text>",
            num(MARGIN / 2.0),
            num(height - MARGIN / 2.0 - (graph.notes.len() - 1 - k) as f64 * 16.0),
            xml_escape(note)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The point at `distance` from `p` toward `q`.
fn toward(p: (f64, f64), q: (f64, f64), distance: f64) -> (f64, f64) {
    let (dx, dy) = (q.0 - p.0, q.1 - p.1);
    let len = (dx * dx + dy * dy).sqrt();
    if len < 1e-6 {
        return p;
    }
    (p.0 + dx / len * distance, p.1 + dy / len * distance)
}

fn head_height(graph: &Graph, options: &SvgOptions) -> f64 {
    let mut h = 0.0;
    if options.title.is_some() {
        h += 28.0;
    }
    if !graph.legend.is_empty() {
        h += 24.0;
    }
    h
}

/// Title and legend, at the top left.
fn write_head(s: &mut String, graph: &Graph, options: &SvgOptions) {
    let mut y = MARGIN / 2.0;
    if let Some(t) = &options.title {
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"18\" font-weight=\"bold\" fill=\"#222\">{}</text>",
            num(MARGIN / 2.0),
            num(y + 10.0),
            xml_escape(t)
        );
        y += 28.0;
    }
    if graph.legend.is_empty() {
        return;
    }
    s.push_str("<g class=\"legend\">");
    let mut x = MARGIN / 2.0;
    for (group, colour) in &graph.legend {
        let _ = write!(
            s,
            "<circle cx=\"{}\" cy=\"{}\" r=\"6\" fill=\"{}\" stroke=\"#666\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"#333\">{}</text>",
            num(x + 6.0),
            num(y + 6.0),
            colour,
            num(x + 16.0),
            num(y + 10.0),
            xml_escape(group)
        );
        x += text_width(group, 12.0) + 30.0;
    }
    s.push_str("</g>\n");
}
