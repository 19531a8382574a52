//! Fitted against observed, per variable: for a variable with parents,
//! its observed values against the model's mean given the observed
//! parents; for a root, its observed distribution against the fitted
//! density (its noise family: a mixture's skew shows).

use causalgrad::data::Dataset;
use causalgrad::scm::{Scm, ScmError};
use plotters::prelude::*;

use super::{
    density_chart, extent, histogram_outline, padded, quantile, Area, DrawResult, Figure, BLUE,
    GREY, ORANGE,
};

/// Points drawn per scatter panel at most.
const MAX_POINTS: usize = 800;
/// Histogram bins of a root's panel.
const BINS: usize = 40;

/// One panel per variable of a model against data.
pub struct Fit<'a> {
    /// The model.
    pub scm: &'a Scm,
    /// The data it is compared with.
    pub data: &'a Dataset,
}

impl Figure for Fit<'_> {
    /// Three panels to a row.
    fn size(&self) -> (u32, u32) {
        let (rows, cols) = grid(self.scm.variables().count());
        (cols as u32 * 380, rows as u32 * 340)
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        draw(area, self.scm, self.data)
    }
}

fn grid(variables: usize) -> (usize, usize) {
    let cols = variables.clamp(1, 3);
    (variables.div_ceil(cols).max(1), cols)
}

/// Draws one panel per variable of `scm` on `data`.
fn draw<DB: DrawingBackend>(area: &Area<DB>, scm: &Scm, data: &Dataset) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let means = scm.conditional_means(data)?;
    let names: Vec<&str> = scm.variables().collect();
    let panels = area.split_evenly(grid(names.len()));
    for (panel, &name) in panels.iter().zip(&names) {
        let observed = data.column(name)?;
        let mean = means.column(name)?;
        let parents = scm.graph().parents(name)?;
        let noise = scm.noise(name)?;
        if let (true, Some(scale)) = (parents.is_empty(), noise.scale()) {
            let density = |xs: &[f64]| scm.root_density(name, xs).map(Option::unwrap_or_default);
            let fitted = Fitted {
                family: noise.name(),
                mean: mean[0],
                scale,
            };
            root(panel, name, observed, &fitted, density)?;
        } else {
            child(panel, name, &parents, observed, mean)?;
        }
    }
    Ok(())
}

fn child<DB: DrawingBackend>(
    area: &Area<DB>,
    name: &str,
    parents: &[&str],
    observed: &[f64],
    mean: &[f64],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let n = observed.len();
    let rmse = (observed
        .iter()
        .zip(mean)
        .map(|(y, m)| (y - m).powi(2))
        .sum::<f64>()
        / n as f64)
        .sqrt();
    let every = n.div_ceil(MAX_POINTS).max(1);
    let points: Vec<(f64, f64)> = mean
        .iter()
        .zip(observed)
        .step_by(every)
        .map(|(&m, &y)| (m, y))
        .collect();
    let (lo, hi) = extent(points.iter().flat_map(|&(m, y)| [m, y]));
    let range = padded(lo, hi);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("{name} given {}: RMSE {rmse:.3}", parents.join(", ")),
            ("sans-serif", 15),
        )
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(range.clone(), range.clone())?;
    chart
        .configure_mesh()
        .x_desc(format!("fitted mean of {name}"))
        .y_desc(format!("observed {name}"))
        .light_line_style(WHITE)
        .draw()?;
    chart.draw_series(
        points
            .iter()
            .map(|&point| Circle::new(point, 2, BLUE.mix(0.35).filled())),
    )?;
    chart.draw_series(LineSeries::new(
        [(range.start, range.start), (range.end, range.end)],
        GREY.stroke_width(1),
    ))?;
    Ok(())
}

/// A continuous root's fitted distribution.
struct Fitted {
    /// Its noise family's name.
    family: &'static str,
    mean: f64,
    /// Its standard deviation.
    scale: f64,
}

/// A root's histogram of `observed` against `density` (at each of a set
/// of points, in the data's units).
fn root<DB: DrawingBackend>(
    area: &Area<DB>,
    name: &str,
    observed: &[f64],
    fitted: &Fitted,
    density: impl Fn(&[f64]) -> Result<Vec<f64>, ScmError>,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (mean, scale) = (fitted.mean, fitted.scale);
    let range = padded(
        quantile(observed, 0.001).min(mean - 3.0 * scale),
        quantile(observed, 0.999).max(mean + 3.0 * scale),
    );
    let outline = histogram_outline(observed, &range, BINS);
    let xs: Vec<f64> = (0..=200)
        .map(|i| range.start + (range.end - range.start) * i as f64 / 200.0)
        .collect();
    let density: Vec<(f64, f64)> = xs.iter().copied().zip(density(&xs)?).collect();
    let (_, top) = extent(outline.iter().chain(&density).map(|p| p.1));
    let mut chart = density_chart(
        area,
        format!(
            "{name} (root): {}, mean {mean:.3}, sd {scale:.3}",
            fitted.family
        ),
        name,
        range,
        top,
    )?;
    chart
        .draw_series(LineSeries::new(outline, BLUE.stroke_width(2)))?
        .label("observed")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(density, ORANGE.stroke_width(2)))?
        .label("fitted")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], ORANGE.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
