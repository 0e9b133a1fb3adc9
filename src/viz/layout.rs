//! Where nodes go: each connected component starts as a radial tree around its root (its
//! busiest node, or the entity the network was asked around), then a force-directed
//! simulation (Fruchterman–Reingold, `fdg-sim`) relaxes it; components are then packed in
//! rows, largest first.  Deterministic: the same graph gives the same picture.

use super::Graph;
use fdg_sim::glam::Vec3;
use fdg_sim::{ForceGraph, ForceGraphHelper, Simulation, SimulationParameters};

/// The ideal edge length of the simulation (its own units).
const SCALE: f32 = 45.0;
/// Pairs of nodes the simulation may visit over all its steps for one component: bounds
/// its time (about 4 ns a pair) for big pictures; small ones get `MAX_STEPS`.
const PAIR_BUDGET: usize = 30_000_000;
const MAX_STEPS: usize = 250;
const MIN_STEPS: usize = 40;
/// Space between packed components, in pixels.
const GAP: f64 = 60.0;

/// Place the nodes of `graph` (sets [`super::Node::x`] and `y`, in pixels, from 0).
pub fn layout(graph: &mut Graph) {
    let n = graph.nodes.len();
    let mut adjacency: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in &graph.edges {
        if e.from != e.to && e.from < n && e.to < n {
            adjacency[e.from].push(e.to);
            adjacency[e.to].push(e.from);
        }
    }
    for a in &mut adjacency {
        a.sort_unstable();
        a.dedup();
    }
    // Node spacing in pixels: room for labels when they are drawn.
    let spacing = if n <= 60 { 150.0 } else { 70.0 };
    // Each component's nodes with their positions.
    type Placed = (Vec<usize>, Vec<(f64, f64)>);
    let mut placed: Vec<Placed> = Vec::new();
    for component in components(graph, &adjacency) {
        let points = relax(&component, &adjacency, spacing);
        placed.push((component, points));
    }
    // Largest first, then pack into rows about as wide as the whole is tall.
    placed.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
    let boxes: Vec<(f64, f64)> = placed
        .iter()
        .map(|(_, pts)| {
            let (x0, y0, x1, y1) = bounds(pts);
            (x1 - x0, y1 - y0)
        })
        .collect();
    let area: f64 = boxes.iter().map(|(w, h)| (w + GAP) * (h + GAP)).sum();
    let widest = boxes.iter().map(|b| b.0).fold(0.0, f64::max);
    let row_width = area.sqrt().max(widest);
    let (mut x, mut y, mut row_height) = (0.0, 0.0, 0.0f64);
    for ((component, points), (w, h)) in placed.iter().zip(&boxes) {
        if x > 0.0 && x + w > row_width {
            x = 0.0;
            y += row_height + GAP;
            row_height = 0.0;
        }
        let (x0, y0, _, _) = bounds(points);
        for (&i, &(px, py)) in component.iter().zip(points) {
            if let Some(node) = graph.nodes.get_mut(i) {
                node.x = x + px - x0;
                node.y = y + py - y0;
            }
        }
        x += w + GAP;
        row_height = row_height.max(*h);
    }
}

fn bounds(points: &[(f64, f64)]) -> (f64, f64, f64, f64) {
    points.iter().fold(
        (f64::MAX, f64::MAX, f64::MIN, f64::MIN),
        |(a, b, c, d), &(x, y)| (a.min(x), b.min(y), c.max(x), d.max(y)),
    )
}

/// Connected components, each in breadth-first order from its root: the first node of the
/// graph it contains with depth 0 (an entity asked about), else its busiest node.
fn components(graph: &Graph, adjacency: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = adjacency.len();
    let mut order: Vec<usize> = (0..n).collect();
    let asked = |i: usize| graph.nodes.get(i).is_some_and(|n| n.depth == 0);
    let has_depths = graph.nodes.iter().any(|n| n.depth > 0);
    order.sort_by_key(|&i| {
        (
            !(has_depths && asked(i)),
            std::cmp::Reverse(adjacency[i].len()),
            i,
        )
    });
    let mut seen = vec![false; n];
    let mut out = Vec::new();
    for root in order {
        if seen[root] {
            continue;
        }
        seen[root] = true;
        let mut component = vec![root];
        let mut k = 0;
        while let Some(&v) = component.get(k) {
            k += 1;
            for &w in &adjacency[v] {
                if !seen[w] {
                    seen[w] = true;
                    component.push(w);
                }
            }
        }
        out.push(component);
    }
    out
}

/// Positions (pixels) of one component's nodes, in its order.
fn relax(component: &[usize], adjacency: &[Vec<usize>], spacing: f64) -> Vec<(f64, f64)> {
    let m = component.len();
    if m == 1 {
        return vec![(0.0, 0.0)];
    }
    let start = radial(component, adjacency);
    let mut local = vec![usize::MAX; adjacency.len()];
    for (k, &i) in component.iter().enumerate() {
        local[i] = k;
    }
    let mut g: ForceGraph<(), ()> = ForceGraph::default();
    let handles: Vec<_> = component
        .iter()
        .map(|i| g.add_force_node(i.to_string(), ()))
        .collect();
    for (k, &i) in component.iter().enumerate() {
        for &j in &adjacency[i] {
            let l = local[j];
            if l > k && l < m {
                g.add_edge(handles[k], handles[l], ());
            }
        }
    }
    let mut sim = Simulation::from_graph(g, SimulationParameters::default());
    // The simulation starts from random places; ours are the radial tree's.
    for (h, &(x, y)) in handles.iter().zip(&start) {
        if let Some(node) = sim.get_graph_mut().node_weight_mut(*h) {
            node.location = Vec3::new(x as f32, y as f32, 0.0);
            node.old_location = node.location;
        }
    }
    let steps = (PAIR_BUDGET / (m * m)).clamp(MIN_STEPS, MAX_STEPS);
    for _ in 0..steps {
        sim.update(0.035);
    }
    let mut points: Vec<(f64, f64)> = handles
        .iter()
        .zip(&start)
        .map(|(h, &fallback)| {
            sim.get_graph()
                .node_weight(*h)
                .map(|n| (n.location.x as f64, n.location.y as f64))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .unwrap_or(fallback)
        })
        .collect();
    // Scale so that the closest neighbours are `spacing` apart on average.
    let mut nearest = Vec::with_capacity(m);
    for (a, pa) in points.iter().enumerate() {
        let d = points
            .iter()
            .enumerate()
            .filter(|(b, _)| *b != a)
            .map(|(_, pb)| ((pa.0 - pb.0).powi(2) + (pa.1 - pb.1).powi(2)).sqrt())
            .fold(f64::MAX, f64::min);
        nearest.push(d);
    }
    nearest.sort_by(f64::total_cmp);
    let median = nearest.get(m / 2).copied().unwrap_or(1.0).max(1e-3);
    let factor = spacing / median;
    for p in &mut points {
        p.0 *= factor;
        p.1 *= factor;
    }
    points
}

/// A radial tree of the component's breadth-first order: the root at the centre, each ring
/// one hop further out, each subtree in a wedge as wide as its number of leaves.
fn radial(component: &[usize], adjacency: &[Vec<usize>]) -> Vec<(f64, f64)> {
    let m = component.len();
    let mut local = vec![usize::MAX; adjacency.len()];
    for (k, &i) in component.iter().enumerate() {
        local[i] = k;
    }
    let mut parent = vec![usize::MAX; m];
    let mut depth = vec![0usize; m];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); m];
    let mut seen = vec![false; m];
    seen[0] = true;
    for k in 0..m {
        for &j in &adjacency[component[k]] {
            let l = local[j];
            if l < m && !seen[l] {
                seen[l] = true;
                parent[l] = k;
                depth[l] = depth[k] + 1;
                children[k].push(l);
            }
        }
    }
    // Leaves per subtree, children before parents (reverse breadth-first order).
    let mut leaves = vec![1usize; m];
    for k in (0..m).rev() {
        if !children[k].is_empty() {
            leaves[k] = children[k].iter().map(|&c| leaves[c]).sum();
        }
    }
    let mut wedge = vec![(0.0f64, std::f64::consts::TAU); m];
    let mut points = vec![(0.0, 0.0); m];
    for k in 0..m {
        let (from, width) = wedge[k];
        let mut at = from;
        let total = leaves[k].max(1) as f64;
        for &c in &children[k] {
            let w = width * leaves[c] as f64 / total;
            wedge[c] = (at, w);
            let angle = at + w / 2.0;
            let r = SCALE as f64 * 2.0 * depth[c] as f64;
            points[c] = (r * angle.cos(), r * angle.sin());
            at += w;
        }
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viz::{Edge, Node};
    use crate::Value;

    fn star(n: usize) -> Graph {
        let mut g = Graph::default();
        for i in 0..n {
            g.nodes.push(Node {
                value: Value::entity(format!("n{i}")),
                label: None,
                kind: None,
                group: None,
                depth: u32::from(i > 0),
                hidden: 0,
                x: 0.0,
                y: 0.0,
            });
        }
        for i in 1..n {
            g.edges.push(Edge {
                from: 0,
                to: i,
                predicate: None,
                sources: vec![],
            });
        }
        g
    }

    #[test]
    fn layout_is_deterministic_and_spreads_nodes() {
        let mut a = star(12);
        // A second component and an isolated node.
        a.edges.push(Edge {
            from: 10,
            to: 11,
            predicate: None,
            sources: vec![],
        });
        a.edges
            .retain(|e| !(e.from == 0 && (e.to == 10 || e.to == 11)));
        let mut b = a.clone();
        layout(&mut a);
        layout(&mut b);
        assert_eq!(a, b);
        for (i, p) in a.nodes.iter().enumerate() {
            assert!(p.x >= 0.0 && p.y >= 0.0 && p.x.is_finite() && p.y.is_finite());
            for q in a.nodes.iter().skip(i + 1) {
                let d = ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt();
                assert!(d > 20.0, "{} and {} overlap", p.name(), q.name());
            }
        }
    }

    #[test]
    fn empty_and_single_graphs() {
        let mut g = Graph::default();
        layout(&mut g);
        let mut one = star(1);
        layout(&mut one);
        assert_eq!((one.nodes[0].x, one.nodes[0].y), (0.0, 0.0));
    }
}
