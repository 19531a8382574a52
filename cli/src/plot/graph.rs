//! The causal graph, drawn in layers: each variable one column right of
//! its deepest parent, edges as arrows.

use causalgrad::graph::CausalGraph;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Area, DrawResult, BLUE, GREY};

/// Node radius in pixels.
const RADIUS: f64 = 26.0;
/// Pixels between layers.
const LAYER: f64 = 150.0;
/// Pixels between the nodes of a layer.
const ROW: f64 = 90.0;

/// Each variable's (layer, row).
fn layout(graph: &CausalGraph) -> Result<Vec<(String, usize, usize)>, Box<dyn std::error::Error>> {
    let mut depth = std::collections::HashMap::new();
    let mut rows: Vec<usize> = Vec::new();
    let mut placed = Vec::new();
    for name in graph.topological_order() {
        let layer = graph
            .parents(name)?
            .iter()
            .map(|p| depth[*p] + 1)
            .max()
            .unwrap_or(0);
        depth.insert(name.as_str(), layer);
        if rows.len() <= layer {
            rows.resize(layer + 1, 0);
        }
        placed.push((name.clone(), layer, rows[layer]));
        rows[layer] += 1;
    }
    Ok(placed)
}

/// The figure's size for `graph`.
pub fn size(graph: &CausalGraph) -> (u32, u32) {
    let placed = layout(graph).unwrap_or_default();
    let layers = placed.iter().map(|p| p.1 + 1).max().unwrap_or(1);
    let rows = placed.iter().map(|p| p.2 + 1).max().unwrap_or(1);
    (
        (layers as f64 * LAYER + 60.0) as u32,
        (rows as f64 * ROW + 90.0) as u32,
    )
}

/// Draws `graph`.
pub fn draw(area: &Area, graph: &CausalGraph) -> DrawResult {
    let placed = layout(graph)?;
    let (_, height) = area.dim_in_pixel();
    let rows_in = |layer: usize| placed.iter().filter(|p| p.1 == layer).count();
    let centre = |name: &str| -> (f64, f64) {
        let (_, layer, row) = placed.iter().find(|p| p.0 == name).expect("placed");
        let rows = rows_in(*layer) as f64;
        let top = (f64::from(height) + 30.0 - rows * ROW) / 2.0;
        (
            30.0 + LAYER / 2.0 + *layer as f64 * LAYER,
            top + ROW / 2.0 + *row as f64 * ROW,
        )
    };
    let pixel = |(x, y): (f64, f64)| (x.round() as i32, y.round() as i32);
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
        let (a, b) = (centre(from), centre(to));
        let length = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        let (ux, uy) = ((b.0 - a.0) / length, (b.1 - a.1) / length);
        let start = (a.0 + ux * RADIUS, a.1 + uy * RADIUS);
        let tip = (b.0 - ux * RADIUS, b.1 - uy * RADIUS);
        let base = (tip.0 - ux * 12.0, tip.1 - uy * 12.0);
        let (px, py) = (-uy * 5.0, ux * 5.0);
        area.draw(&PathElement::new(
            vec![pixel(start), pixel(base)],
            GREY.stroke_width(2),
        ))?;
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
    for (name, _, _) in &placed {
        let at = pixel(centre(name));
        area.draw(&Circle::new(at, RADIUS as i32, WHITE.filled()))?;
        area.draw(&Circle::new(at, RADIUS as i32, BLUE.stroke_width(2)))?;
        area.draw(&Text::new(name.clone(), at, label.clone()))?;
    }
    Ok(())
}
