//! The inverse and log-determinant of `M = sI − E` (`E ≥ 0`), the matrix
//! the log-det acyclicity is taken of, or the news that `M` is not a
//! nonsingular M-matrix.
//!
//! `M` is a Z-matrix (its off-diagonal entries are `≤ 0`), and a Z-matrix
//! is a nonsingular M-matrix exactly when all its leading principal minors
//! are positive, that is when Gaussian elimination without pivoting meets
//! only positive pivots; its inverse is then elementwise non-negative
//! (the test DAGMA applies to the computed inverse). No pivoting is needed
//! inside the domain, which lets the inverse be computed by blocks: with
//! `M = [[A, B], [C, D]]` and the Schur complement `S = D − C A⁻¹ B` (an
//! M-matrix whenever `M` is one),
//!
//! ```text
//! M⁻¹ = [[A⁻¹ + A⁻¹B S⁻¹ C A⁻¹, −A⁻¹B S⁻¹], [−S⁻¹ C A⁻¹, S⁻¹]],   det M = det A · det S
//! ```
//!
//! so almost all the work is in matrix products. Small blocks are
//! factorised directly, every inner loop an `axpy` over contiguous rows.

use ndarray::{concatenate, Array2, ArrayView2, Axis};

/// Blocks of at most this many rows are factorised directly.
const DIRECT: usize = 24;

/// `(ln det M, M⁻¹)` of a Z-matrix `m`, or `None` when it is not a
/// nonsingular M-matrix (a non-positive or non-finite pivot).
pub(crate) fn m_matrix_inverse(m: &Array2<f64>) -> Option<(f64, Array2<f64>)> {
    debug_assert_eq!(m.nrows(), m.ncols());
    by_blocks(m.view())
}

fn by_blocks(m: ArrayView2<f64>) -> Option<(f64, Array2<f64>)> {
    let d = m.nrows();
    if d <= DIRECT {
        return direct(m);
    }
    let k = d / 2;
    let (top, bottom) = m.split_at(Axis(0), k);
    let (a, b) = top.split_at(Axis(1), k);
    let (c, dd) = bottom.split_at(Axis(1), k);
    let (log_a, a_inv) = by_blocks(a)?;
    let a_inv_b = a_inv.dot(&b);
    let schur = &dd - &c.dot(&a_inv_b);
    let (log_s, s_inv) = by_blocks(schur.view())?;
    let c_a_inv = c.dot(&a_inv);
    let top_right = -a_inv_b.dot(&s_inv);
    let bottom_left = -s_inv.dot(&c_a_inv);
    let top_left = &a_inv - &top_right.dot(&c_a_inv);
    let top = concatenate(Axis(1), &[top_left.view(), top_right.view()]).ok()?;
    let bottom = concatenate(Axis(1), &[bottom_left.view(), s_inv.view()]).ok()?;
    let inverse = concatenate(Axis(0), &[top.view(), bottom.view()]).ok()?;
    Some((log_a + log_s, inverse))
}

/// `target -= factor * source`, elementwise.
fn subtract_scaled(target: &mut [f64], factor: f64, source: &[f64]) {
    for (t, s) in target.iter_mut().zip(source) {
        *t -= factor * s;
    }
}

/// LU without pivoting, then `L U X = I` solved for all columns at once by
/// forward and back substitution on whole rows of `X`.
fn direct(m: ArrayView2<f64>) -> Option<(f64, Array2<f64>)> {
    let d = m.nrows();
    let mut f: Vec<f64> = m.iter().copied().collect();
    let mut log_det = 0.0;
    for k in 0..d {
        let (head, tail) = f.split_at_mut((k + 1) * d);
        let pivot_row = &head[k * d..];
        let pivot = pivot_row[k];
        if !(pivot > 0.0 && pivot.is_finite()) {
            return None;
        }
        log_det += pivot.ln();
        for row in tail.chunks_exact_mut(d) {
            let factor = row[k] / pivot;
            row[k] = factor;
            if factor != 0.0 {
                subtract_scaled(&mut row[k + 1..], factor, &pivot_row[k + 1..]);
            }
        }
    }
    let mut x = vec![0.0; d * d];
    for k in 0..d {
        x[k * d + k] = 1.0;
    }
    for i in 1..d {
        let (done, rest) = x.split_at_mut(i * d);
        let target = &mut rest[..d];
        for k in 0..i {
            let l = f[i * d + k];
            if l != 0.0 {
                subtract_scaled(target, l, &done[k * d..(k + 1) * d]);
            }
        }
    }
    for i in (0..d).rev() {
        let (head, solved) = x.split_at_mut((i + 1) * d);
        let target = &mut head[i * d..];
        for k in i + 1..d {
            let u = f[i * d + k];
            if u != 0.0 {
                subtract_scaled(target, u, &solved[(k - i - 1) * d..(k - i) * d]);
            }
        }
        let diagonal = f[i * d + i];
        for t in target.iter_mut() {
            *t /= diagonal;
        }
    }
    Some((log_det, Array2::from_shape_vec((d, d), x).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use rand::{RngExt, SeedableRng};

    /// `sI − E` for a random `E ≥ 0` with row sums below `s` (so inside
    /// the domain).
    fn m_matrix(d: usize, seed: u64) -> Array2<f64> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let e = Array2::from_shape_fn((d, d), |(i, j)| {
            if i == j {
                0.0
            } else {
                rng.random_range(0.0..1.8 / d as f64)
            }
        });
        Array2::eye(d) - e
    }

    #[test]
    fn inverse_and_determinant_by_hand() {
        let m = array![[2.0, -1.0, 0.0], [-1.0, 2.0, -1.0], [0.0, -1.0, 2.0]];
        let (log_det, inverse) = m_matrix_inverse(&m).expect("an M-matrix");
        // det = 2·(4 − 1) + 1·(−2) = 4.
        assert!((log_det - 4f64.ln()).abs() < 1e-12);
        let expected = array![[3.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 3.0]] / 4.0;
        assert!((inverse - expected).iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn blocks_agree_with_the_direct_factorisation() {
        for (d, seed) in [(25, 1), (70, 2), (101, 3)] {
            let m = m_matrix(d, seed);
            let (log_blocks, by_blocks) = m_matrix_inverse(&m).expect("an M-matrix");
            let (log_direct, direct) = direct(m.view()).expect("an M-matrix");
            assert!((log_blocks - log_direct).abs() < 1e-10, "d = {d}");
            let product = m.dot(&by_blocks);
            for ((i, j), v) in product.indexed_iter() {
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((v - expected).abs() < 1e-10, "d = {d} ({i}, {j}): {v}");
            }
            assert!((by_blocks - direct).iter().all(|v| v.abs() < 1e-10));
        }
    }

    #[test]
    fn outside_the_domain_there_is_no_inverse() {
        // A 2-cycle of weight 2: det(I − E) = 1 − 4 < 0.
        assert!(m_matrix_inverse(&array![[1.0, -2.0], [-2.0, 1.0]]).is_none());
        // The same cycle hidden in the second block of a large matrix.
        let mut m = m_matrix(60, 4);
        m[[40, 50]] = -3.0;
        m[[50, 40]] = -3.0;
        assert!(m_matrix_inverse(&m).is_none());
    }
}
