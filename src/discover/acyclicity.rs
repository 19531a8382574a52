//! DAGMA's log-determinant acyclicity (Bello, Aragam & Ravikumar, 2022):
//!
//! ```text
//! h_s(E) = -ln det(s I - E) + d ln s,    E ≥ 0 elementwise (E = W ∘ W for a
//!                                        linear model, Σ_k A_jk[i]² for MLPs)
//! ∂h_s / ∂E = (s I - E)^{-T}
//! ```
//!
//! On the domain where `s I - E` is an M-matrix (spectral radius of `E`
//! below `s`), `h_s(E) ≥ 0` with equality exactly when the graph of `E` is
//! acyclic, and `(s I - E)^{-1} = Σ_k E^k / s^(k+1)` is elementwise
//! non-negative, which is how leaving the domain is detected. This is the
//! one place the matrix function and its gradient are written; the models
//! chain it through `E`'s own derivative (`2 W` or `2 A`).

use ndarray::Array2;

use super::linalg::m_matrix_inverse;

/// `h_s(E)` and its gradient with respect to `E`, or `None` when `E` lies
/// outside the domain (`s I - E` not a nonsingular M-matrix: a leading
/// principal minor that is not positive, which is when its inverse would
/// have a negative entry).
pub fn log_det_acyclicity(e: &Array2<f64>, s: f64) -> Option<(f64, Array2<f64>)> {
    let d = e.nrows();
    let mut m = -e;
    for i in 0..d {
        m[[i, i]] += s;
    }
    let (log_det, inverse) = m_matrix_inverse(&m)?;
    // Round-off can leave a pivot barely positive at the boundary; DAGMA
    // tests the computed inverse (after adding 1e-16), and so does this.
    if inverse.iter().any(|&v| v < -1e-12) {
        return None;
    }
    let h = -log_det + d as f64 * s.ln();
    Some((h, inverse.reversed_axes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn zero_on_a_dag_and_positive_on_a_cycle() {
        let dag = array![[0.0, 0.5, 0.2], [0.0, 0.0, 0.9], [0.0, 0.0, 0.0]];
        let (h, _) = log_det_acyclicity(&dag, 1.0).expect("in the domain");
        assert!(h.abs() < 1e-12);
        let cycle = array![[0.0, 0.5, 0.0], [0.0, 0.0, 0.5], [0.5, 0.0, 0.0]];
        let (h, _) = log_det_acyclicity(&cycle, 1.0).expect("in the domain");
        // det(I - E) = 1 - 0.125 for the 3-cycle of weight 0.5 each.
        assert!((h + (1.0f64 - 0.125).ln()).abs() < 1e-12);
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let e = array![
            [0.0, 0.3, 0.1, 0.2],
            [0.05, 0.0, 0.4, 0.0],
            [0.2, 0.1, 0.0, 0.3],
            [0.1, 0.0, 0.25, 0.0]
        ];
        for s in [1.0, 0.8] {
            let (_, grad) = log_det_acyclicity(&e, s).expect("in the domain");
            let step = 1e-6;
            for i in 0..4 {
                for j in 0..4 {
                    let mut up = e.clone();
                    up[[i, j]] += step;
                    let mut down = e.clone();
                    down[[i, j]] -= step;
                    let fd = (log_det_acyclicity(&up, s).unwrap().0
                        - log_det_acyclicity(&down, s).unwrap().0)
                        / (2.0 * step);
                    assert!(
                        (fd - grad[[i, j]]).abs() < 1e-7,
                        "s={s} ({i},{j}): {fd} vs {}",
                        grad[[i, j]]
                    );
                }
            }
        }
    }

    #[test]
    fn leaving_the_domain_is_detected() {
        // A 2-cycle of weight 2 has spectral radius 2 > s = 1.
        let e = array![[0.0, 2.0], [2.0, 0.0]];
        assert!(log_det_acyclicity(&e, 1.0).is_none());
        assert!(log_det_acyclicity(&e, 2.5).is_some());
    }
}
