//! SVG figures (plotters' SVG backend, no font or image dependencies):
//! one module per figure, the shared drawing helpers here.

pub mod fit;
pub mod graph;
pub mod interventions;
pub mod loss;

use std::error::Error;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::CliError;
use crate::output::write_atomically;

/// The drawing area of an SVG figure.
pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// What drawing returns (plotters' errors, boxed).
pub type DrawResult = Result<(), Box<dyn Error>>;

/// Observed, training or reference data.
pub const BLUE: RGBColor = RGBColor(31, 119, 180);
/// Model, validation or intervention.
pub const ORANGE: RGBColor = RGBColor(230, 110, 10);
/// Reference lines.
pub const GREY: RGBColor = RGBColor(120, 120, 120);

/// Draws a `width` x `height` figure with `draw` and writes it to `path`
/// atomically.
pub fn render(
    path: &Path,
    (width, height): (u32, u32),
    draw: impl FnOnce(&Area) -> DrawResult,
) -> Result<(), CliError> {
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        let drawn = area
            .fill(&WHITE)
            .map_err(Into::into)
            .and_then(|()| draw(&area))
            .and_then(|()| area.present().map_err(Into::into));
        drawn.map_err(|error| CliError::Plot {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
    }
    write_atomically(path, |out| out.write_all(svg.as_bytes()))
}

/// `lo..hi` widened by 5% on each side (and made non-empty).
pub fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let span = if hi > lo { hi - lo } else { lo.abs().max(1.0) };
    (lo - 0.05 * span)..(hi + 0.05 * span)
}

/// The smallest and largest finite values.
pub fn extent(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        })
}

/// The `q`-quantile (0..=1) of `values` (sorted copy, nearest rank).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let index = ((sorted.len().saturating_sub(1)) as f64 * q).round() as usize;
    sorted.get(index).copied().unwrap_or(0.0)
}

/// A density histogram of `values` over `range` in `bins` bins, as the
/// corners of its outline (a step line).
pub fn histogram_outline(
    values: &[f64],
    range: &std::ops::Range<f64>,
    bins: usize,
) -> Vec<(f64, f64)> {
    let width = (range.end - range.start) / bins as f64;
    let mut counts = vec![0usize; bins];
    for &v in values {
        if v >= range.start && v < range.end {
            counts[(((v - range.start) / width) as usize).min(bins - 1)] += 1;
        }
    }
    let scale = 1.0 / (values.len().max(1) as f64 * width);
    let mut outline = vec![(range.start, 0.0)];
    for (bin, &count) in counts.iter().enumerate() {
        let x = range.start + bin as f64 * width;
        let height = count as f64 * scale;
        outline.push((x, height));
        outline.push((x + width, height));
    }
    outline.push((range.end, 0.0));
    outline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_integrate_to_the_share_in_range() {
        let values: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        let outline = histogram_outline(&values, &(0.0..0.5), 10);
        let area: f64 = outline
            .windows(2)
            .filter(|w| w[0].1 == w[1].1)
            .map(|w| (w[1].0 - w[0].0) * w[0].1)
            .sum();
        assert!((area - 0.5).abs() < 1e-9, "{area}");
        assert_eq!(quantile(&[3.0, 1.0, 2.0], 0.5), 2.0);
        assert_eq!(extent([1.0, f64::NAN, -2.0]), (-2.0, 1.0));
    }
}
