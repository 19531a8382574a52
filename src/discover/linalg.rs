//! Dense LU factorisation with partial pivoting: the log-determinant and
//! the inverse the log-det acyclicity needs, for the small square matrices
//! (one row per variable) of structure learning.

use ndarray::Array2;

/// `A = P L U` of a square matrix, `L` unit lower triangular and `U` upper
/// triangular stored in one matrix, with the row permutation.
pub(crate) struct Lu {
    factors: Array2<f64>,
    pivots: Vec<usize>,
    /// `+1` or `-1`: the sign of the permutation.
    sign: f64,
}

impl Lu {
    /// Factorises `a`; `None` when a pivot is zero (the matrix is singular).
    pub(crate) fn new(a: &Array2<f64>) -> Option<Lu> {
        let d = a.nrows();
        debug_assert_eq!(d, a.ncols());
        let mut f = a.clone();
        let mut pivots: Vec<usize> = (0..d).collect();
        let mut sign = 1.0;
        for k in 0..d {
            let (p, largest) = (k..d)
                .map(|i| (i, f[[i, k]].abs()))
                .fold(
                    (k, -1.0),
                    |best, cur| if cur.1 > best.1 { cur } else { best },
                );
            if largest == 0.0 || !largest.is_finite() {
                return None;
            }
            if p != k {
                for j in 0..d {
                    f.swap([p, j], [k, j]);
                }
                pivots.swap(p, k);
                sign = -sign;
            }
            let pivot = f[[k, k]];
            for i in k + 1..d {
                let factor = f[[i, k]] / pivot;
                f[[i, k]] = factor;
                if factor != 0.0 {
                    for j in k + 1..d {
                        f[[i, j]] -= factor * f[[k, j]];
                    }
                }
            }
        }
        Some(Lu {
            factors: f,
            pivots,
            sign,
        })
    }

    /// The sign of the determinant and the log of its absolute value.
    pub(crate) fn sign_and_log_abs_det(&self) -> (f64, f64) {
        let d = self.factors.nrows();
        let mut sign = self.sign;
        let mut log = 0.0;
        for k in 0..d {
            let u = self.factors[[k, k]];
            if u < 0.0 {
                sign = -sign;
            }
            log += u.abs().ln();
        }
        (sign, log)
    }

    /// The inverse matrix.
    pub(crate) fn inverse(&self) -> Array2<f64> {
        let d = self.factors.nrows();
        let f = &self.factors;
        let mut inv = Array2::<f64>::zeros((d, d));
        let mut column = vec![0.0; d];
        for j in 0..d {
            // Solve L U x = P e_j.
            for (i, slot) in column.iter_mut().enumerate() {
                *slot = if self.pivots[i] == j { 1.0 } else { 0.0 };
            }
            for i in 0..d {
                let mut sum = column[i];
                for k in 0..i {
                    sum -= f[[i, k]] * column[k];
                }
                column[i] = sum;
            }
            for i in (0..d).rev() {
                let mut sum = column[i];
                for k in i + 1..d {
                    sum -= f[[i, k]] * column[k];
                }
                column[i] = sum / f[[i, i]];
            }
            for i in 0..d {
                inv[[i, j]] = column[i];
            }
        }
        inv
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn inverse_and_determinant_of_a_matrix_that_needs_pivoting() {
        let a = array![[0.0, 2.0, 1.0], [1.0, 1.0, 0.0], [3.0, 0.0, 1.0]];
        let lu = Lu::new(&a).expect("nonsingular");
        // det by cofactors: 0*(1) - 2*(1 - 0) + 1*(0 - 3) = -5
        let (sign, log) = lu.sign_and_log_abs_det();
        assert_eq!(sign, -1.0);
        assert!((log - 5f64.ln()).abs() < 1e-12);
        let product = a.dot(&lu.inverse());
        for i in 0..3 {
            for j in 0..3 {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((product[[i, j]] - expected).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn a_singular_matrix_has_no_factorisation() {
        let a = array![[1.0, 2.0], [2.0, 4.0]];
        assert!(Lu::new(&a).is_none());
    }
}
