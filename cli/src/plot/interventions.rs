//! Interventional distributions: each variable's distribution sampled
//! from the model as observed and under `do(x = v)`: a density outline for
//! a continuous variable, bars of the share of each value for a discrete
//! one (categorical, binary, or a count with few values).

use causalgrad::data::Dataset;
use plotters::prelude::*;

use super::{
    density_chart, extent, histogram_outline, padded, quantile, Area, DrawResult, Figure, BLUE,
    ORANGE,
};
use crate::output::mean;

/// Histogram bins per panel.
const BINS: usize = 50;
/// The most distinct whole values a column may have to be drawn as bars.
const MAX_BARS: usize = 20;

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
        if let Some(levels) = discrete_levels(observational, intervened, name)? {
            bars(panel, name, &levels, before, after)?;
            continue;
        }
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

/// A value a discrete column takes and its label.
type Level = (f64, String);

/// The labels of the values a discrete column takes, in code order: a
/// categorical column's levels, or the distinct whole values (at most
/// [`MAX_BARS`]) of a column of whole numbers; `None` for a continuous one.
fn discrete_levels(
    observational: &Dataset,
    intervened: &Dataset,
    name: &str,
) -> Result<Option<Vec<Level>>, Box<dyn std::error::Error>> {
    if let Some(labels) = observational.labels(name)? {
        return Ok(Some(
            labels
                .iter()
                .enumerate()
                .map(|(code, label)| (code as f64, label.clone()))
                .collect(),
        ));
    }
    let mut values: Vec<f64> = Vec::new();
    for &v in observational
        .column(name)?
        .iter()
        .chain(intervened.column(name)?)
    {
        if v.fract() != 0.0 {
            return Ok(None);
        }
        if !values.contains(&v) {
            values.push(v);
            if values.len() > MAX_BARS {
                return Ok(None);
            }
        }
    }
    values.sort_by(f64::total_cmp);
    Ok(Some(
        values.into_iter().map(|v| (v, format!("{v}"))).collect(),
    ))
}

/// A bar chart of the share of each value, observational (blue) beside
/// intervened (orange).
fn bars<DB: DrawingBackend>(
    panel: &Area<DB>,
    name: &str,
    levels: &[Level],
    before: &[f64],
    after: &[f64],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let share = |column: &[f64], value: f64| {
        column.iter().filter(|&&v| v == value).count() as f64 / column.len().max(1) as f64
    };
    let shares: Vec<(f64, f64)> = levels
        .iter()
        .map(|&(value, _)| (share(before, value), share(after, value)))
        .collect();
    let top = shares
        .iter()
        .map(|&(a, b)| a.max(b))
        .fold(0.0, f64::max)
        .max(1e-9);
    let caption = if before == after {
        format!("{name}: unchanged")
    } else {
        format!("{name}: share of each value")
    };
    let count = levels.len();
    let mut chart = ChartBuilder::on(panel)
        .caption(caption, ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(-0.5..count as f64 - 0.5, 0.0..top * 1.1)?;
    chart
        .configure_mesh()
        .x_desc(name.to_string())
        .y_desc("share")
        .x_labels(count)
        .x_label_formatter(&|x| {
            let index = x.round();
            if (x - index).abs() < 1e-6 && index >= 0.0 && (index as usize) < count {
                levels[index as usize].1.clone()
            } else {
                String::new()
            }
        })
        .light_line_style(WHITE)
        .draw()?;
    for (i, &(a, b)) in shares.iter().enumerate() {
        let x = i as f64;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x - 0.38, 0.0), (x - 0.02, a)],
            BLUE.filled(),
        )))?;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x + 0.02, 0.0), (x + 0.38, b)],
            ORANGE.filled(),
        )))?;
    }
    Ok(())
}
