//! The loss curves of a fit: training loss per step, validation loss per
//! evaluation.

use plotters::prelude::*;

use super::{extent, padded, Area, DrawResult, Figure, BLUE, ORANGE};
use crate::model_file::FitRecord;

/// The loss curves of the fit `record` describes.
pub struct Loss<'a>(pub &'a FitRecord);

impl Figure for Loss<'_> {
    fn size(&self) -> (u32, u32) {
        (900, 520)
    }

    fn draw<DB: DrawingBackend>(&self, area: &Area<DB>) -> DrawResult
    where
        DB::ErrorType: 'static,
    {
        draw(area, self.0)
    }
}

fn draw<DB: DrawingBackend>(area: &Area<DB>, record: &FitRecord) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let train: Vec<(f64, f64)> = record
        .losses
        .iter()
        .enumerate()
        .map(|(step, &loss)| ((step + 1) as f64, loss))
        .collect();
    let valid: Vec<(f64, f64)> = record
        .validation
        .iter()
        .map(|&(step, loss)| (step as f64, loss))
        .collect();
    let (lo, hi) = extent(train.iter().chain(&valid).map(|p| p.1));
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!(
                "Loss (mean negative log-likelihood per row) over {} steps on {}",
                record.steps,
                record.data.file_name().map_or_else(
                    || record.data.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            ),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..record.losses.len().max(1) as f64, padded(lo, hi))?;
    chart
        .configure_mesh()
        .x_desc("step")
        .y_desc("loss")
        .light_line_style(WHITE)
        .draw()?;
    chart
        .draw_series(LineSeries::new(train, BLUE.stroke_width(2)))?
        .label("training (this step's batch)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    if !valid.is_empty() {
        chart
            .draw_series(LineSeries::new(valid.clone(), ORANGE.stroke_width(2)))?
            .label("validation (held-out rows)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], ORANGE.stroke_width(2)));
        chart.draw_series(
            valid
                .iter()
                .map(|&point| Circle::new(point, 3, ORANGE.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperRight)
        .draw()?;
    Ok(())
}
