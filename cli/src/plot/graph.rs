//! The causal graph, drawn in layers: each variable one column right of
//! its deepest parent; edges to the next layer straight, edges that skip
//! layers as arcs above the nodes between.

use std::collections::HashMap;

use causalgrad::graph::CausalGraph;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, DrawResult, Figure, BLUE, GREY};

/// Node radius in pixels.
const RADIUS: f64 = 26.0;
/// Pixels between layers.
const LAYER: f64 = 150.0;
/// Pixels between the nodes of a layer.
const ROW: f64 = 90.0;
/// How far an arc bulges, as a fraction of its chord.
const BULGE: f64 = 0.18;
/// Space for the title.
const TITLE: f64 = 40.0;

/// Where everything goes.
struct Layout {
    /// Node centres in pixels.
    centres: HashMap<String, (f64, f64)>,
    /// Layer of each node.
    layers: HashMap<String, usize>,
    /// The figure's size.
    size: (u32, u32),
}

fn layout(graph: &CausalGraph) -> Layout {
    let mut layers: HashMap<String, usize> = HashMap::new();
    let mut rows: Vec<Vec<String>> = Vec::new();
    for name in graph.topological_order() {
        let layer = graph
            .parents(name)
            .unwrap_or_default()
            .iter()
            .map(|p| layers[*p] + 1)
            .max()
            .unwrap_or(0);
        layers.insert(name.clone(), layer);
        if rows.len() <= layer {
            rows.resize(layer + 1, Vec::new());
        }
        rows[layer].push(name.clone());
    }
    let tallest = rows.iter().map(Vec::len).max().unwrap_or(1) as f64;
    let longest_skip = graph
        .edges()
        .map(|(a, b)| layers[b] - layers[a])
        .filter(|&skip| skip > 1)
        .max()
        .unwrap_or(0) as f64;
    let arc_room = BULGE * longest_skip * LAYER;
    let middle = TITLE + arc_room + tallest * ROW / 2.0;
    let mut centres = HashMap::new();
    for (layer, names) in rows.iter().enumerate() {
        let top = middle - names.len() as f64 * ROW / 2.0;
        for (row, name) in names.iter().enumerate() {
            centres.insert(
                name.clone(),
                (
                    LAYER / 2.0 + layer as f64 * LAYER,
                    top + ROW / 2.0 + row as f64 * ROW,
                ),
            );
        }
    }
    let size = (
        (rows.len().max(1) as f64 * LAYER) as u32,
        (middle + tallest * ROW / 2.0 + 10.0) as u32,
    );
    Layout {
        centres,
        layers,
        size,
    }
}

/// The figure's size for `graph`.
fn size(graph: &CausalGraph) -> (u32, u32) {
    layout(graph).size
}

/// Points along the edge from `a` to `b`: a straight line, or an arc
/// bending upwards when `curved`.
fn path(a: (f64, f64), b: (f64, f64), curved: bool) -> Vec<(f64, f64)> {
    if !curved {
        return (0..=40)
            .map(|i| {
                let t = f64::from(i) / 40.0;
                (a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1))
            })
            .collect();
    }
    let length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let (mut nx, mut ny) = (-(b.1 - a.1) / length, (b.0 - a.0) / length);
    if ny > 0.0 {
        (nx, ny) = (-nx, -ny);
    }
    // A quadratic Bézier whose peak is BULGE * length from the chord.
    let control = (
        (a.0 + b.0) / 2.0 + nx * 2.0 * BULGE * length,
        (a.1 + b.1) / 2.0 + ny * 2.0 * BULGE * length,
    );
    (0..=80)
        .map(|i| {
            let t = f64::from(i) / 80.0;
            let (u, v, w) = ((1.0 - t) * (1.0 - t), 2.0 * (1.0 - t) * t, t * t);
            (
                u * a.0 + v * control.0 + w * b.0,
                u * a.1 + v * control.1 + w * b.1,
            )
        })
        .collect()
}

/// A causal graph, drawn in layers.
pub struct Graph<'a>(pub &'a CausalGraph);

impl Figure for Graph<'_> {
    fn size(&self) -> (u32, u32) {
        size(self.0)
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        draw(area, self.0)
    }
}

/// Draws `graph`.
fn draw<DB: DrawingBackend>(area: &Area<DB>, graph: &CausalGraph) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let Layout {
        centres, layers, ..
    } = layout(graph);
    let pixel = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
    let distance =
        |p: (f64, f64), q: (f64, f64)| ((p.0 - q.0).powi(2) + (p.1 - q.1).powi(2)).sqrt();
    area.draw(&Text::new(
        format!(
            "Causal graph: {} variables, {} edges",
            graph.len(),
            graph.edges().count()
        ),
        (12, 10),
        ("sans-serif", 16).into_font(),
    ))?;
    for (from, to) in graph.edges() {
        let (a, b) = (centres[from], centres[to]);
        let points: Vec<(f64, f64)> = path(a, b, layers[to] - layers[from] > 1)
            .into_iter()
            .filter(|&p| distance(p, a) >= RADIUS && distance(p, b) >= RADIUS + 1.0)
            .collect();
        let (Some(&tip), Some(&before)) = (points.last(), points.iter().rev().nth(2)) else {
            continue;
        };
        let step = distance(tip, before);
        let (ux, uy) = ((tip.0 - before.0) / step, (tip.1 - before.1) / step);
        let base = (tip.0 - ux * 12.0, tip.1 - uy * 12.0);
        let (px, py) = (-uy * 5.0, ux * 5.0);
        let mut line: Vec<(i32, i32)> = points
            .iter()
            .take_while(|&&p| distance(p, b) > distance(base, b))
            .map(|&p| pixel(p))
            .collect();
        line.push(pixel(base));
        area.draw(&PathElement::new(line, GREY.stroke_width(2)))?;
        area.draw(&Polygon::new(
            vec![
                pixel(tip),
                pixel((base.0 + px, base.1 + py)),
                pixel((base.0 - px, base.1 - py)),
            ],
            GREY.filled(),
        ))?;
    }
    let label = ("sans-serif", 16)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Center, VPos::Center));
    for name in graph.topological_order() {
        let at = pixel(centres[name]);
        area.draw(&Circle::new(at, RADIUS as i32, WHITE.filled()))?;
        area.draw(&Circle::new(at, RADIUS as i32, BLUE.stroke_width(2)))?;
        area.draw(&Text::new(name.clone(), at, label.clone()))?;
    }
    Ok(())
}
