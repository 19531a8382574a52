//! Figures as SVG or PNG (plotters' SVG and bitmap backends; PNG text is
//! drawn with the bundled DejaVu Sans font): one module per figure, the
//! shared drawing helpers here.

pub mod fit;
pub mod graph;
pub mod interventions;
pub mod loss;
pub mod support;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Once;

use clap::ValueEnum;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::CliError;
use crate::output::write_atomically;

/// The drawing area of a figure on backend `DB`.
pub type Area<DB> = DrawingArea<DB, Shift>;

/// What drawing returns (plotters' errors, boxed).
pub type DrawResult = Result<(), Box<dyn Error>>;

/// Observed, training or reference data.
pub const BLUE: RGBColor = RGBColor(31, 119, 180);
/// Model, validation or intervention.
pub const ORANGE: RGBColor = RGBColor(230, 110, 10);
/// Reference lines.
pub const GREY: RGBColor = RGBColor(120, 120, 120);

/// A file format for figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Scalable vector graphics: small, sharp at any size, opens in a browser.
    Svg,
    /// A bitmap, for documents and viewers without SVG.
    Png,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Svg => "svg",
            Format::Png => "png",
        }
    }
}

/// A figure that can be drawn on any plotters backend.
pub trait Figure {
    /// The figure's size in pixels.
    fn size(&self) -> (u32, u32);

    /// Draws the figure on `area`.
    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> DrawResult
    where
        DB::ErrorType: 'static;
}

/// The font PNG figures draw their text with (plotters' "sans-serif").
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// Registers [`FONT`] with plotters once, before the first figure.
fn register_font() {
    static REGISTER: Once = Once::new();
    // Were the font refused, drawing text would fail with a plot error
    // naming the figure.
    REGISTER.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Draws `figure` once per format to `stem.<extension>`, each written
/// atomically; returns the paths written.
pub fn render(
    stem: &Path,
    formats: &[Format],
    figure: &impl Figure,
) -> Result<Vec<PathBuf>, CliError> {
    register_font();
    let mut written = Vec::with_capacity(formats.len());
    for &format in formats {
        let mut name = stem.as_os_str().to_owned();
        name.push(".");
        name.push(format.extension());
        let path = PathBuf::from(name);
        let failed = |error: Box<dyn Error>| CliError::Plot {
            path: path.clone(),
            message: error.to_string(),
        };
        let bytes = match format {
            Format::Svg => svg(figure).map_err(failed)?,
            Format::Png => png(figure).map_err(failed)?,
        };
        write_atomically(&path, |out| out.write_all(&bytes))?;
        written.push(path);
    }
    Ok(written)
}

/// Fills the background, draws and presents.
fn paint<DB: DrawingBackend>(area: &Area<DB>, figure: &impl Figure) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.fill(&WHITE)?;
    figure.draw(area)?;
    area.present()?;
    Ok(())
}

/// The figure as SVG text.
fn svg(figure: &impl Figure) -> Result<Vec<u8>, Box<dyn Error>> {
    let mut text = String::new();
    paint(
        &SVGBackend::with_string(&mut text, figure.size()).into_drawing_area(),
        figure,
    )?;
    Ok(text.into_bytes())
}

/// The figure as a PNG file's bytes.
fn png(figure: &impl Figure) -> Result<Vec<u8>, Box<dyn Error>> {
    let (width, height) = figure.size();
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    paint(
        &BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area(),
        figure,
    )?;
    let mut bytes = Vec::new();
    let mut encoder = ::png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(::png::ColorType::Rgb);
    encoder.set_depth(::png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(bytes)
}

/// A density panel: `name` over `range` on x, densities up to `top` (plus
/// 10%) on y, with its caption and mesh drawn.
pub fn density_chart<'a, DB: DrawingBackend>(
    area: &'a Area<DB>,
    caption: String,
    name: &str,
    range: std::ops::Range<f64>,
    top: f64,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", 15))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(48)
        .build_cartesian_2d(range, 0.0..top * 1.1)?;
    chart
        .configure_mesh()
        .x_desc(name.to_string())
        .y_desc("density")
        .light_line_style(WHITE)
        .draw()?;
    Ok(chart)
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
