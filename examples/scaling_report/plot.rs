//! The figure: time per step against rows and against variables, on
//! log-log axes, with the fitted lines.

use std::path::Path;

use plotters::prelude::*;

use super::estimates::ReportError;
use super::slopes::Growth;

const BLUE: RGBColor = RGBColor(31, 119, 180);
const ORANGE: RGBColor = RGBColor(230, 110, 10);
const GREY: RGBColor = RGBColor(120, 120, 120);

/// One panel: measured points, their fit, and axis labels.
pub struct Panel<'a> {
    /// The caption.
    pub title: &'a str,
    /// The x axis' label.
    pub x_label: &'a str,
    /// (size, ms per step).
    pub points: &'a [(f64, f64)],
    /// The fitted growth.
    pub growth: Growth,
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    panel: &Panel,
) -> DrawResult {
    let xs = panel.points.iter().map(|p| p.0);
    let ys = panel.points.iter().map(|p| p.1);
    let (x_lo, x_hi) = (xs.clone().fold(f64::MAX, f64::min), xs.fold(0.0, f64::max));
    let (y_lo, y_hi) = (ys.clone().fold(f64::MAX, f64::min), ys.fold(0.0, f64::max));
    let mut chart = ChartBuilder::on(area)
        .caption(panel.title, ("sans-serif", 17))
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            ((x_lo / 1.5)..(x_hi * 1.5)).log_scale(),
            ((y_lo / 1.5)..(y_hi * 1.5)).log_scale(),
        )?;
    chart
        .configure_mesh()
        .x_desc(panel.x_label)
        .y_desc("ms per full-batch Adam step")
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| format!("{y}"))
        .light_line_style(WHITE)
        .draw()?;
    let g = panel.growth;
    let along = |f: &dyn Fn(f64) -> f64| -> Vec<(f64, f64)> {
        (0..=60)
            .map(|i| x_lo * (x_hi / x_lo).powf(f64::from(i) / 60.0))
            .map(|x| (x, f(x)))
            .filter(|p| p.1 > 0.0)
            .collect()
    };
    chart
        .draw_series(LineSeries::new(
            along(&|x| g.factor * x.powf(g.exponent)),
            ORANGE.stroke_width(2),
        ))?
        .label(format!("power law: t ∝ x^{:.2}", g.exponent))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], ORANGE.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(
            along(&|x| g.intercept + g.slope * x),
            GREY.stroke_width(1),
        ))?
        .label(format!(
            "least squares: {:.2} + {:.3e}·x ms (R² {:.3})",
            g.intercept, g.slope, g.r_squared
        ))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREY.stroke_width(1)));
    chart
        .draw_series(
            panel
                .points
                .iter()
                .map(|&p| Circle::new(p, 4, BLUE.filled())),
        )?
        .label("measured (criterion median)")
        .legend(|(x, y)| Circle::new((x + 10, y), 4, BLUE.filled()));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()?;
    Ok(())
}

/// Draws the panels side by side into an SVG file at `path`.
pub fn write_svg(path: &Path, panels: &[Panel]) -> Result<(), ReportError> {
    let fail = |message: String| ReportError::Plot {
        path: path.to_path_buf(),
        message,
    };
    let mut svg = String::new();
    {
        let area =
            SVGBackend::with_string(&mut svg, (640 * panels.len() as u32, 460)).into_drawing_area();
        area.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        for (panel, part) in panels.iter().zip(area.split_evenly((1, panels.len()))) {
            draw_panel(&part, panel).map_err(|e| fail(e.to_string()))?;
        }
        area.present().map_err(|e| fail(e.to_string()))?;
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
    }
    std::fs::write(path, svg).map_err(|e| fail(e.to_string()))
}
