//! A [`Graph`] as Graphviz DOT, for `dot -Tpdf` and the tools that read it.

use super::Graph;
use std::fmt::Write;

/// A DOT string: `"a"` → `"a"`, with `"` and `\` escaped and line breaks as `\n`.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The DOT text of `graph`: nodes by name with their label and colour, edges with the
/// predicate as label and the sources as tooltip.  Positions are left to Graphviz.
///
/// ```
/// let db = dossier::Db::memory()?;
/// db.execute("lna backed_by egypt.")?;
/// let rows = db.query("find ?a ?p ?b where ?a ?p ?b.")?;
/// let graph = dossier::viz::graph_from_rows(&db, &rows, 100)?;
/// let dot = dossier::viz::graph_dot(&graph);
/// assert!(dot.starts_with("digraph dossier {"));
/// assert!(dot.contains("\"lna\" -> \"egypt\" [label=\"backed_by\"]"), "{dot}");
/// # Ok::<(), dossier::Error>(())
/// ```
pub fn graph_dot(graph: &Graph) -> String {
    let mut s = String::from("digraph dossier {\n");
    s.push_str("  node [shape=ellipse, style=filled, fontname=\"Helvetica\"];\n");
    s.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (i, n) in graph.nodes.iter().enumerate() {
        let name = n.name();
        let mut attrs = vec![format!("label={}", quoted(&n.caption()))];
        let literal = !matches!(n.value, crate::Value::Entity(_));
        attrs.push(format!(
            "fillcolor={}",
            quoted(if literal { "#ffffff" } else { graph.colour(i) })
        ));
        if literal {
            attrs.push("shape=box".into());
        }
        if let Some(k) = &n.kind {
            attrs.push(format!("tooltip={}", quoted(&format!("{name}\ntype: {k}"))));
        }
        let _ = writeln!(s, "  {} [{}];", quoted(&name), attrs.join(", "));
    }
    for e in &graph.edges {
        let (Some(a), Some(b)) = (graph.nodes.get(e.from), graph.nodes.get(e.to)) else {
            continue;
        };
        let mut attrs = Vec::new();
        if let Some(p) = &e.predicate {
            attrs.push(format!("label={}", quoted(p)));
        }
        if !e.sources.is_empty() {
            attrs.push(format!(
                "tooltip={}",
                quoted(&format!("source: {}", e.sources.join(", ")))
            ));
        }
        let _ = write!(s, "  {} -> {}", quoted(&a.name()), quoted(&b.name()));
        if !attrs.is_empty() {
            let _ = write!(s, " [{}]", attrs.join(", "));
        }
        s.push_str(";\n");
    }
    for note in &graph.notes {
        let _ = writeln!(s, "  // {}", note.replace('\n', " "));
    }
    s.push_str("}\n");
    s
}

#[cfg(test)]
mod tests {
    use super::quoted;

    #[test]
    fn strings_are_escaped() {
        assert_eq!(quoted("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
