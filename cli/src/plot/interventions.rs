//! Interventional distributions: each variable's distribution sampled
//! from the model as observed and under `do(x = v)`.

use causalgrad::data::Dataset;
use plotters::prelude::*;

use super::{
    density_chart, extent, histogram_outline, padded, quantile, Area, DrawResult, Figure, BLUE,
    ORANGE,
};
use crate::output::mean;

/// Histogram bins per panel.
const BINS: usize = 50;

/// Samples of a model's variables, observational against under one
/// intervention: a panel per variable.
pub struct Interventions<'a> {
    /// The variables drawn (not the intervened one).
    pub names: &'a [&'a str],
    /// Samples without the intervention.
    pub observational: &'a Dataset,
    /// Samples under it, with the same noise.
    pub intervened: &'a Dataset,
    /// The intervention, as `do(x2 = 1)`.
    pub label: &'a str,
}

impl Figure for Interventions<'_> {
    /// Three panels to a row.
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = grid(self.names.len());
        (cols as u32 * 380, rows as u32 * 320 + 40)
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        draw(
            area,
            self.names,
            self.observational,
            self.intervened,
            self.label,
        )
    }
}

fn grid(variables: usize) -> (usize, usize) {
    let cols = variables.clamp(1, 3);
    (variables.div_ceil(cols).max(1), cols)
}

/// Draws a panel per variable in `names` (not the intervened one):
/// `observational` against `intervened` samples, titled with `label`
/// (`do(x2 = 1)`).
fn draw<DB: DrawingBackend>(
    area: &Area<DB>,
    names: &[&str],
    observational: &Dataset,
    intervened: &Dataset,
    label: &str,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let area = area.titled(
        &format!("Sampled from the model: observational (blue) and under {label} (orange)"),
        ("sans-serif", 18),
    )?;
    let panels = area.split_evenly(grid(names.len()));
    for (panel, &name) in panels.iter().zip(names) {
        let before = observational.column(name)?;
        let after = intervened.column(name)?;
        let (lo, hi) = extent(
            [before, after]
                .iter()
                .flat_map(|c| [quantile(c, 0.002), quantile(c, 0.998)]),
        );
        let range = padded(lo, hi);
        let (a, b) = (
            histogram_outline(before, &range, BINS),
            histogram_outline(after, &range, BINS),
        );
        let (_, top) = extent(a.iter().chain(&b).map(|p| p.1));
        let caption = if before == after {
            // The same noise draws: only descendants change.
            format!("{name}: unchanged, mean {:.3}", mean(before))
        } else {
            format!("{name}: mean {:.3} → {:.3}", mean(before), mean(after))
        };
        let mut chart = density_chart(panel, caption, name, range, top)?;
        chart.draw_series(LineSeries::new(a, BLUE.stroke_width(2)))?;
        chart.draw_series(LineSeries::new(b, ORANGE.stroke_width(2)))?;
    }
    Ok(())
}
