//! The data's support against an intervention: for each variable
//! downstream of `do(x = v)`, its parents' values in the training rows
//! the model keeps (grey) and in samples under the intervention (orange
//! inside the support, red outside it), the picture behind `effect`'s
//! extrapolation warning. Two or more parents: a scatter of the first two;
//! one parent: its density in both.

use causalgrad::uncertainty::SupportView;
use plotters::prelude::*;

use super::{
    density_chart, extent, histogram_outline, padded, quantile, Area, DrawResult, Figure, GREY,
    ORANGE,
};

/// Histogram bins of a one-parent panel.
const BINS: usize = 50;
/// Outside the support.
const RED: RGBColor = RGBColor(200, 30, 30);

/// The support views of one intervention: a panel per variable.
pub struct Support<'a> {
    /// What [`causalgrad::scm::Scm::support_against`] gave.
    pub views: &'a [SupportView],
    /// The intervention, as `do(x2 = 1)`.
    pub label: &'a str,
}

impl Figure for Support<'_> {
    /// Three panels to a row.
    fn size(&self) -> (u32, u32) {
        let cols = self.views.len().clamp(1, 3);
        let rows = self.views.len().div_ceil(cols).max(1);
        (cols as u32 * 380, rows as u32 * 340 + 40)
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        let area = area.titled(
            &format!(
                "Parents in the training data (grey) and under {} (orange; red: outside the data)",
                self.label
            ),
            ("sans-serif", 16),
        )?;
        let cols = self.views.len().clamp(1, 3);
        let rows = self.views.len().div_ceil(cols).max(1);
        let panels = area.split_evenly((rows, cols));
        for (panel, view) in panels.iter().zip(self.views) {
            let caption = format!(
                "{} ← {}: {:.0}% outside",
                view.variable,
                view.parents.join(", "),
                100.0 * view.outside_share()
            );
            if view.parents.len() >= 2 {
                scatter(panel, view, caption)?;
            } else {
                densities(panel, view, caption)?;
            }
        }
        Ok(())
    }
}

/// The range covering the middle 99.6% of both sets of values.
fn range_of(a: &[f64], b: &[f64]) -> std::ops::Range<f64> {
    let (lo, hi) = extent(
        [a, b]
            .iter()
            .flat_map(|c| [quantile(c, 0.002), quantile(c, 0.998)]),
    );
    padded(lo, hi)
}

/// The first two parents, support against intervened points.
fn scatter<DB: DrawingBackend>(area: &Area<DB>, view: &SupportView, caption: String) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let x = range_of(&view.support[0], &view.intervened[0]);
    let y = range_of(&view.support[1], &view.intervened[1]);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(view.parents[0].clone())
        .y_desc(view.parents[1].clone())
        .light_line_style(WHITE)
        .draw()?;
    let points = |columns: &[Vec<f64>]| -> Vec<(f64, f64)> {
        columns[0]
            .iter()
            .zip(&columns[1])
            .map(|(&a, &b)| (a, b))
            .collect()
    };
    chart.draw_series(
        points(&view.support)
            .into_iter()
            .map(|p| Circle::new(p, 2, GREY.mix(0.35).filled())),
    )?;
    chart.draw_series(points(&view.intervened).into_iter().zip(&view.outside).map(
        |(p, &outside)| {
            let colour = if outside { RED } else { ORANGE };
            Circle::new(p, 2, colour.mix(0.6).filled())
        },
    ))?;
    Ok(())
}

/// One parent: its density in the support and under the intervention.
fn densities<DB: DrawingBackend>(area: &Area<DB>, view: &SupportView, caption: String) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let range = range_of(&view.support[0], &view.intervened[0]);
    let (a, b) = (
        histogram_outline(&view.support[0], &range, BINS),
        histogram_outline(&view.intervened[0], &range, BINS),
    );
    let (_, top) = extent(a.iter().chain(&b).map(|p| p.1));
    let mut chart = density_chart(area, caption, &view.parents[0], range, top)?;
    chart.draw_series(LineSeries::new(a, GREY.stroke_width(2)))?;
    chart.draw_series(LineSeries::new(b, ORANGE.stroke_width(2)))?;
    Ok(())
}
