//! Least-squares fits of time against size.

/// A straight line `intercept + slope * x` fitted by least squares, and the
/// exponent of `t ∝ x^exponent` fitted on log-log axes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Growth {
    /// Time at size 0 (fixed cost per step), in ms.
    pub intercept: f64,
    /// Time per unit of size, in ms.
    pub slope: f64,
    /// Fraction of the variance of the times the line explains.
    pub r_squared: f64,
    /// The log-log exponent: 1 for linear growth without fixed cost.
    pub exponent: f64,
    /// The power law's factor: `t ≈ factor * x^exponent` ms.
    pub factor: f64,
}

/// `(slope, intercept)` of the least-squares line through `points`.
fn line(points: &[(f64, f64)]) -> (f64, f64) {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let slope = sxy / sxx;
    (slope, my - slope * mx)
}

/// Fits `points` (size, ms): at least two distinct positive sizes.
pub fn growth(points: &[(f64, f64)]) -> Growth {
    let (slope, intercept) = line(points);
    let my = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
    let total: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    let residual: f64 = points
        .iter()
        .map(|p| (p.1 - intercept - slope * p.0).powi(2))
        .sum();
    let logs: Vec<(f64, f64)> = points.iter().map(|p| (p.0.ln(), p.1.ln())).collect();
    let (exponent, log_factor) = line(&logs);
    Growth {
        intercept,
        slope,
        r_squared: 1.0 - residual / total,
        exponent,
        factor: log_factor.exp(),
    }
}
